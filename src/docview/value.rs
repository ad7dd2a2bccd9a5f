//! The DocView property value grammar: `{Type}` hints, `[a,b]` multi-values and the
//! escapes `\\`, `\,`, `\[`, `\{`, `\0` and `\uXXXX`, read and written exactly as
//! FileVault's `DocViewProperty2` does.

use super::runs::{escape_runs, Piece};
use crate::value::PropertyType;
use std::fmt;

/// A property value as DocView writes it, before it meets a node type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocViewValue {
    /// The type from the `{Type}` hint; [`PropertyType::Undefined`] without one.
    pub ptype: PropertyType,
    /// `{BinaryRef}`: the values are data store references, not content.
    pub binary_ref: bool,
    /// Written as `[...]`.
    pub multiple: bool,
    /// The values, unescaped.
    pub values: Vec<String>,
}

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSyntaxError {
    /// `{Type}` names no JCR type (names are case-sensitive; `undefined` is lower case).
    UnknownType(String),
    /// `{` without a closing `}`.
    UnclosedType,
    /// `\u` not followed by four hex digits.
    BadUnicodeEscape(String),
}

impl fmt::Display for ValueSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSyntaxError::UnknownType(t) => write!(
                f,
                "unknown type hint {{{t}}}: expected one of String, Binary, Long, Double, Decimal, Date, Boolean, Name, Path, Reference, WeakReference, URI, undefined, BinaryRef (case-sensitive)"
            ),
            ValueSyntaxError::UnclosedType => write!(f, "type hint '{{' without a closing '}}'"),
            ValueSyntaxError::BadUnicodeEscape(s) => {
                write!(f, "bad escape '\\u{s}': expected four hex digits")
            }
        }
    }
}

/// Parses an attribute value (already XML-unescaped).
pub fn parse_value(value: &str) -> Result<DocViewValue, ValueSyntaxError> {
    let (ptype, binary_ref, multiple, body) = split_value(value)?;
    let values = if body.contains('\\') {
        unescape_values(body, multiple)?
    } else {
        plain_values(body, multiple)
    };
    Ok(DocViewValue {
        ptype,
        binary_ref,
        multiple,
        values,
    })
}

/// Checks an attribute value as [`parse_value`] reads it (the same error), without
/// keeping its values: a value without a backslash cannot be wrong past its hint, so
/// only one with escapes is unescaped (and dropped). `jcrpack build` checks every
/// DocView value this way.
pub fn check_value(value: &str) -> Result<(), ValueSyntaxError> {
    let (_, _, multiple, body) = split_value(value)?;
    if body.contains('\\') {
        unescape_values(body, multiple)?;
    }
    Ok(())
}

/// The `{Type}` hint of `value` (type, `BinaryRef`), whether it is a `[...]` list,
/// and the body after the hint and `[`.
// Always inlined: `parse_value` reads every DocView value an import meets, and it was
// one function before `check_value` shared this part with it.
#[inline(always)]
fn split_value(value: &str) -> Result<(PropertyType, bool, bool, &str), ValueSyntaxError> {
    let mut ptype = PropertyType::Undefined;
    let mut binary_ref = false;
    let mut rest = value;
    if let Some(hinted) = value.strip_prefix('{') {
        let close = hinted.find('}').ok_or(ValueSyntaxError::UnclosedType)?;
        let name = &hinted[..close];
        if name == "BinaryRef" {
            ptype = PropertyType::Binary;
            binary_ref = true;
        } else {
            ptype = PropertyType::from_jcr_name(name)
                .ok_or_else(|| ValueSyntaxError::UnknownType(name.to_string()))?;
        }
        rest = &hinted[close + 1..];
    }
    let body = rest.strip_prefix('[');
    let multiple = body.is_some();
    Ok((ptype, binary_ref, multiple, body.unwrap_or(rest)))
}

/// The values of `body` (after the hint and `[`) without a backslash: no escapes,
/// so a single value is the text itself and a multi-value splits at each comma; a
/// closing `]` only as the last character ends the list (elsewhere it is text), and
/// without one the last, empty, part is no value (as [`unescape_values`] reads it).
fn plain_values(body: &str, multiple: bool) -> Vec<String> {
    if !multiple {
        return vec![body.to_string()];
    }
    let (inner, closed) = match body.strip_suffix(']') {
        Some(inner) => (inner, true),
        None => (body, false),
    };
    let mut values: Vec<String> = inner.split(',').map(str::to_string).collect();
    let last_is_value = if closed {
        // `[]` is no value; `[,]` two empty ones.
        values.len() > 1 || !inner.is_empty()
    } else {
        !inner.ends_with(',') && !inner.is_empty()
    };
    if !last_is_value {
        values.pop();
    }
    values
}

/// The values of `body` (after the hint and `[`), with escapes, read character by
/// character.
fn unescape_values(body: &str, multiple: bool) -> Result<Vec<String>, ValueSyntaxError> {
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let last = chars.len().saturating_sub(1);
    let mut values = Vec::new();
    let mut cur = String::new();
    let mut marked = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let n = chars[i + 1];
                match n {
                    'u' => {
                        let hex: String = chars.iter().skip(i + 2).take(4).collect();
                        if hex.chars().count() != 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                            return Err(ValueSyntaxError::BadUnicodeEscape(hex));
                        }
                        let unit = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                        // Surrogate pairs written as two escapes are joined.
                        if (0xD800..0xDC00).contains(&unit) {
                            let low: String = chars.iter().skip(i + 6).take(6).collect();
                            if let Some(lo) = low
                                .strip_prefix("\\u")
                                .filter(|h| {
                                    h.len() == 4 && h.chars().all(|c| c.is_ascii_hexdigit())
                                })
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .filter(|lo| (0xDC00..0xE000).contains(lo))
                            {
                                let cp = 0x10000 + ((unit - 0xD800) << 10) + (lo - 0xDC00);
                                cur.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                i += 12;
                                continue;
                            }
                        }
                        cur.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                        i += 6;
                        continue;
                    }
                    '0' => marked = true,
                    other => cur.push(other),
                }
                i += 2;
                continue;
            }
            // A trailing lone backslash is kept literally.
            '\\' => cur.push(c),
            ',' if multiple => {
                values.push(std::mem::take(&mut cur));
                marked = false;
            }
            ']' if multiple && i == last => {
                if !cur.is_empty() || marked || !values.is_empty() {
                    values.push(std::mem::take(&mut cur));
                }
                return Ok(values);
            }
            _ => cur.push(c),
        }
        i += 1;
    }
    if multiple {
        // A missing closing bracket is tolerated.
        if !cur.is_empty() || marked {
            values.push(cur);
        }
    } else {
        values.push(cur);
    }
    Ok(values)
}

/// Formats a property as FileVault's writer does. `name` decides the hint rule for
/// `jcr:primaryType` / `jcr:mixinTypes`; `jcr:mixinTypes` values are sorted.
pub fn format_value(name: &str, v: &DocViewValue) -> String {
    let mut out = String::new();
    format_value_into(&mut out, name, v.ptype, v.binary_ref, v.multiple, &v.values);
    out
}

/// [`format_value`] of the value of these parts, appended to `out`.
pub fn format_value_into(
    out: &mut String,
    name: &str,
    ptype: PropertyType,
    binary_ref: bool,
    multiple: bool,
    values: &[String],
) {
    let hint = !(matches!(ptype, PropertyType::String | PropertyType::Undefined)
        || name == "jcr:primaryType"
        || name == "jcr:mixinTypes");
    if binary_ref {
        out.push_str("{BinaryRef}");
    } else if hint {
        out.push('{');
        out.push_str(ptype.jcr_name());
        out.push('}');
    }
    let escape = matches!(
        ptype,
        PropertyType::String | PropertyType::Name | PropertyType::Path | PropertyType::Undefined
    );
    if multiple {
        out.push('[');
    }
    if values.len() == 1 && values[0].is_empty() {
        out.push_str("\\0");
    } else {
        let mut one = |k: usize, s: &str| {
            if k > 0 {
                out.push(',');
            }
            if escape {
                escape_into(out, s, multiple);
            } else {
                // FileVault writes other types verbatim; their real values (numbers,
                // dates, UUIDs, base64) never hold a character XML cannot carry, but a
                // hostile file can smuggle one in through `\u0000`, and writing it raw
                // would make the output not XML at all. Escape just those.
                push_xml_safe(out, s);
            }
        };
        if name == "jcr:mixinTypes" {
            let mut sorted: Vec<&str> = values.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            for (k, s) in sorted.into_iter().enumerate() {
                one(k, s);
            }
        } else {
            for (k, s) in values.iter().enumerate() {
                one(k, s);
            }
        }
    }
    if multiple {
        out.push(']');
    }
}

fn push_xml_safe(out: &mut String, s: &str) {
    // By byte: only an ASCII control or a character led by 0xEF (U+FFFE, U+FFFF)
    // may be one XML cannot carry.
    if !s.bytes().any(may_not_be_xml) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if is_xml_char(c) {
            out.push(c);
        } else {
            push_unicode_escape(out, c);
        }
    }
}

/// Whether byte `b` may start a character that is not [`is_xml_char`]: an ASCII
/// control other than TAB, LF and CR, or 0xEF, the lead byte of U+FFFE and U+FFFF
/// (a `str` holds no surrogates, and every other character from U+0020 is XML's).
pub(super) fn may_not_be_xml(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xef
}

fn push_unicode_escape(out: &mut String, c: char) {
    let mut buf = [0u16; 2];
    for u in c.encode_utf16(&mut buf) {
        use std::fmt::Write;
        let _ = write!(out, "\\u{:04x}", u);
    }
}

/// A DocView value's escapes: backslash, a comma of a multi-value, a leading `[` or
/// `{` of a single value, and the characters XML cannot carry (`\uXXXX`). Runs of
/// characters written as they are are copied whole: the text is scanned by byte for
/// the few that may need an escape (text with any non-ASCII character was written
/// character by character before, 8 % of the export's writer thread).
fn escape_into(out: &mut String, s: &str, multiple: bool) {
    if !multiple && matches!(s.as_bytes().first(), Some(b'[' | b'{')) {
        out.push('\\');
    }
    escape_runs(
        s,
        |c| c == b'\\' || (multiple && c == b',') || may_not_be_xml(c),
        |c| c == '\\' || (multiple && c == ',') || !is_xml_char(c),
        |piece| match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Escape('\\') => out.push_str("\\\\"),
            Piece::Escape(',') => out.push_str("\\,"),
            Piece::Escape(c) => push_unicode_escape(out, c),
        },
    );
}

/// XML 1.0 `Char`: TAB, LF, CR, and U+0020 and above except surrogates, U+FFFE, U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vals(s: &str) -> Vec<String> {
        parse_value(s).unwrap().values
    }

    #[test]
    fn grammar_matches_filevault() {
        assert_eq!(vals("[]"), Vec::<String>::new());
        assert_eq!(vals("[\\0]"), vec![""]);
        assert_eq!(vals("[,a]"), vec!["", "a"]);
        assert_eq!(vals("[a,]"), vec!["a", ""]);
        assert_eq!(vals("[,,,]"), vec!["", "", "", ""]);
        assert_eq!(vals("[[hello],[world]]"), vec!["[hello]", "[world]"]);
        assert_eq!(vals("[a,b"), vec!["a", "b"]);
        assert_eq!(vals("a,b"), vec!["a,b"]);
        assert_eq!(vals(""), vec![""]);
        assert_eq!(vals("\\0"), vec![""]);
        assert_eq!(vals("\\{sha1}abc"), vec!["{sha1}abc"]);
        assert_eq!(vals("a\\\\b"), vec!["a\\b"]);
        assert_eq!(vals("\\u000f"), vec!["\u{f}"]);
        assert_eq!(vals("[a\\,b,c]"), vec!["a,b", "c"]);
        assert_eq!(vals("x]"), vec!["x]"]);
        let v = parse_value("{Long}[1,2]").unwrap();
        assert_eq!(v.ptype, PropertyType::Long);
        assert!(v.multiple);
        let v = parse_value("{BinaryRef}abc").unwrap();
        assert!(v.binary_ref);
        assert_eq!(v.ptype, PropertyType::Binary);
        assert_eq!(
            parse_value("{undefined}x").unwrap().ptype,
            PropertyType::Undefined
        );
        assert!(matches!(
            parse_value("{Undefined}x"),
            Err(ValueSyntaxError::UnknownType(_))
        ));
        assert!(matches!(
            parse_value("{String"),
            Err(ValueSyntaxError::UnclosedType)
        ));
        assert!(matches!(
            parse_value("\\u12"),
            Err(ValueSyntaxError::BadUnicodeEscape(_))
        ));
    }

    /// The vectors of FileVault's `DocViewProperty2Test` (and `DocViewPropertyTest`)
    /// that `grammar_matches_filevault` does not already hold.
    #[test]
    fn filevault_docview_property_test_vectors() {
        let one = |s: &str| {
            let v = parse_value(s).unwrap();
            assert!(!v.multiple, "{s}");
            (v.ptype, v.values)
        };
        assert_eq!(one("{Binary}"), (PropertyType::Binary, vec!["".into()]));
        assert_eq!(
            one("\\{hello, world}"),
            (PropertyType::Undefined, vec!["{hello, world}".into()])
        );
        assert_eq!(
            one("{String}\\[hello"),
            (PropertyType::String, vec!["[hello".into()])
        );
        assert_eq!(
            one("{String}he\\u000fllo"),
            (PropertyType::String, vec!["he\u{f}llo".into()])
        );
        assert_eq!(vals("[\\[hello,world]"), vec!["[hello", "world"]);
        assert_eq!(vals("[he\\[llo,world]"), vec!["he[llo", "world"]);
        assert_eq!(vals("[hello\\[,world]"), vec!["hello[", "world"]);
        assert_eq!(vals("[hello,\\[world]"), vec!["hello", "[world"]);
        assert_eq!(vals("[hello,world\\[]"), vec!["hello", "world["]);
        assert_eq!(
            vals("[bla{a\\,b},foo{a\\,b},bar{a\\,b}]"),
            vec!["bla{a,b}", "foo{a,b}", "bar{a,b}"]
        );
        assert_eq!(
            vals("[/content/[a-z]{2\\,3}/[a-z]{2\\,3}(/.*)]"),
            vec!["/content/[a-z]{2,3}/[a-z]{2,3}(/.*)"]
        );
        let v = parse_value("{Long}[]").unwrap();
        assert!(v.multiple && v.values.is_empty() && v.ptype == PropertyType::Long);
        // testUndefinedType: a value starting with '[' is escaped, backslashes doubled.
        let undefined = DocViewValue {
            ptype: PropertyType::Undefined,
            binary_ref: false,
            multiple: false,
            values: vec!["[Bar\"\\".into()],
        };
        assert_eq!(
            format_value("jcr:lastModifiedBy", &undefined),
            "\\[Bar\"\\\\"
        );
    }

    #[test]
    fn formats_like_filevault() {
        let f = |t, m, v: &[&str]| {
            format_value(
                "p",
                &DocViewValue {
                    ptype: t,
                    binary_ref: false,
                    multiple: m,
                    values: v.iter().map(|s| s.to_string()).collect(),
                },
            )
        };
        assert_eq!(
            f(PropertyType::String, false, &["Hello, world!"]),
            "Hello, world!"
        );
        assert_eq!(
            f(PropertyType::String, false, &["{sha1}abc"]),
            "\\{sha1}abc"
        );
        assert_eq!(f(PropertyType::String, true, &["a", "b,c"]), "[a,b\\,c]");
        assert_eq!(f(PropertyType::String, true, &[""]), "[\\0]");
        assert_eq!(f(PropertyType::String, false, &[""]), "\\0");
        assert_eq!(
            f(PropertyType::Boolean, true, &["false"]),
            "{Boolean}[false]"
        );
        assert_eq!(f(PropertyType::Long, true, &[]), "{Long}[]");
        assert_eq!(f(PropertyType::String, false, &["a\u{f}"]), "a\\u000f");
        assert_eq!(
            f(PropertyType::Uri, true, &["http://a,b"]),
            "{URI}[http://a,b]"
        );
        let mixins = DocViewValue {
            ptype: PropertyType::Name,
            binary_ref: false,
            multiple: true,
            values: vec!["mix:versionable".into(), "mix:lockable".into()],
        };
        assert_eq!(
            format_value("jcr:mixinTypes", &mixins),
            "[mix:lockable,mix:versionable]"
        );
    }

    /// [`escape_into`] as its rules say, one character at a time.
    fn escape_by_character(s: &str, multiple: bool) -> String {
        let mut out = String::new();
        for (k, c) in s.chars().enumerate() {
            match c {
                '\\' => out.push_str("\\\\"),
                ',' if multiple => out.push_str("\\,"),
                '[' | '{' if k == 0 && !multiple => {
                    out.push('\\');
                    out.push(c);
                }
                c if !is_xml_char(c) => push_unicode_escape(&mut out, c),
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn escapes_by_runs_as_character_by_character() {
        let cases = [
            "",
            "plain",
            "a\\b,c",
            "[x",
            "{y",
            "x[",
            "caf\u{e9}, na\u{ef}ve \\ \u{fffe}\u{ffff}\u{fffd}\u{feff}",
            "\u{0}\u{1f}\t\n\r\u{7f}\u{85}",
            "\u{1F600},\u{2028}",
        ];
        for s in cases {
            for multiple in [false, true] {
                let mut out = String::new();
                escape_into(&mut out, s, multiple);
                assert_eq!(out, escape_by_character(s, multiple), "{s:?} {multiple}");
                let mut safe = String::new();
                push_xml_safe(&mut safe, s);
                let by_char: String = s
                    .chars()
                    .map(|c| {
                        let mut e = String::new();
                        if is_xml_char(c) {
                            e.push(c)
                        } else {
                            push_unicode_escape(&mut e, c)
                        }
                        e
                    })
                    .collect();
                assert_eq!(safe, by_char, "{s:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn escapes_any_text_as_character_by_character(s in "\\PC{0,12}|[\\\\,\\[{\u{0}-\u{1f}\u{fffe}\u{ffff}a\u{e9}]{0,12}", multiple in any::<bool>()) {
            let mut out = String::new();
            escape_into(&mut out, &s, multiple);
            prop_assert_eq!(out, escape_by_character(&s, multiple));
        }

        /// Without a backslash the values are read by splitting, not character by
        /// character: both readings agree on every such text.
        #[test]
        fn plain_values_read_as_the_character_reader_does(body in "[\\[\\],{}a\u{e9}]{0,8}", multiple in any::<bool>()) {
            prop_assert_eq!(plain_values(&body, multiple), unescape_values(&body, multiple).unwrap());
        }

        #[test]
        fn string_values_round_trip(v in proptest::collection::vec("\\PC{0,8}", 0..4), multiple in any::<bool>()) {
            let values = if multiple { v } else { vec![v.into_iter().next().unwrap_or_default()] };
            let dv = DocViewValue { ptype: PropertyType::String, binary_ref: false, multiple, values };
            let s = format_value("p", &dv);
            let back = parse_value(&s).unwrap();
            prop_assert_eq!(back.values, dv.values);
            prop_assert_eq!(back.multiple, dv.multiple);
        }
    }

    /// Fuzz finding (`docview_document`): `{Boolean}[...\u0000...]` was read into a
    /// value holding U+0000 and written back raw, which is not XML. Types written
    /// verbatim now escape the characters XML cannot carry, and nothing else.
    #[test]
    fn unescaped_types_still_escape_non_xml_characters() {
        let v = parse_value("{Boolean}[true,a\\u0000b]").unwrap();
        assert_eq!(v.values, vec!["true", "a\u{0}b"]);
        let written = format_value("p", &v);
        assert_eq!(written, "{Boolean}[true,a\\u0000b]");
        assert!(written.chars().all(is_xml_char));
        assert_eq!(parse_value(&written).unwrap().values, v.values);
        // Real values of such types are written verbatim, as FileVault writes them.
        let d = parse_value("{Date}2024-03-01T10:15:00.000+01:00").unwrap();
        assert_eq!(format_value("p", &d), "{Date}2024-03-01T10:15:00.000+01:00");
    }
}
