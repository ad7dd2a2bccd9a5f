//! JCR names: qualified (`prefix:local`) and expanded (`{uri}local`).
//!
//! jcrpack keeps names in their qualified string form, as JCR sessions present them:
//! that is what DocView attributes, file names, CND and filter patterns all use. The
//! namespace URI behind a prefix comes from a [`NamespaceRegistry`]; an
//! [`ExpandedName`] is the URI-qualified form used when two documents map the same URI
//! to different prefixes.

use crate::namespace::NamespaceRegistry;
use std::fmt;

/// Why a string is not a valid JCR name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("a name must not be empty")]
    Empty,
    /// The local part is `.` or `..`.
    #[error("'{0}' is not a valid name ('.' and '..' are reserved)")]
    Dot(String),
    /// A character JCR forbids in names.
    #[error("'{}' contains '{}', which a JCR name may not contain", .name.escape_debug(), .ch.escape_debug())]
    IllegalChar {
        /// The offending name.
        name: String,
        /// The offending character.
        ch: char,
    },
    /// A control character or a character XML cannot carry (NUL, ESC, a line break,
    /// U+FFFE): such a name could cut a C string, forge a log line or drive a
    /// terminal, and no document format could write it back.
    #[error(
        "'{}' contains the control character U+{:04X}, which a JCR name may not contain",
        .name.escape_debug(),
        u32::from(*.ch)
    )]
    ControlChar {
        /// The offending name.
        name: String,
        /// The offending character.
        ch: char,
    },
    /// The prefix is not an XML NCName.
    #[error("'{0}' has an invalid namespace prefix")]
    BadPrefix(String),
    /// The prefix is not registered.
    #[error("'{name}' uses the undeclared namespace prefix '{prefix}'")]
    UnknownPrefix {
        /// The offending name.
        name: String,
        /// Its prefix.
        prefix: String,
    },
}

/// Splits `name` at its first colon into `(prefix, local)`; no colon gives `("", name)`.
pub fn split(name: &str) -> (&str, &str) {
    match name.find(':') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => ("", name),
    }
}

/// The prefix of a qualified name (`""` when it has none).
pub fn prefix(name: &str) -> &str {
    split(name).0
}

/// The local part of a qualified name.
pub fn local(name: &str) -> &str {
    split(name).1
}

/// Whether `c` may not appear in a JCR local name (JCR 2.0 §3.2.2).
pub fn is_illegal_name_char(c: char) -> bool {
    matches!(c, '/' | ':' | '[' | ']' | '|' | '*')
}

/// Whether `c` is a control character (Unicode category Cc: U+0000-U+001F,
/// U+007F-U+009F), a Unicode line or paragraph separator (U+2028, U+2029), or not an
/// XML 1.0 character (U+FFFE, U+FFFF): never part of a JCR name jcrpack writes.
pub fn is_control_name_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Whether `s` is an XML NCName, as a namespace prefix must be.
pub fn is_ncname(s: &str) -> bool {
    // ASCII (nearly every name) by byte: a letter or `_`, then letters, digits,
    // `_`, `-` and `.`; the same answer as the character rules below.
    if s.is_ascii() {
        return is_ascii_ncname(s.as_bytes());
    }
    is_ncname_by_chars(s)
}

/// [`is_ncname`] by XML's character classes.
fn is_ncname_by_chars(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start_char(c) && c != ':' => {}
        _ => return false,
    }
    chars.all(|c| is_name_char(c) && c != ':')
}

/// XML 1.0 (5th ed.) NameStartChar.
pub fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (5th ed.) NameChar.
pub fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Checks that `name` is a syntactically valid qualified JCR name: an optional NCName
/// prefix, and a local part that is not `.`/`..` and has none of `/ : [ ] | *`, and
/// no control character anywhere ([`is_control_name_char`]).
pub fn validate(name: &str) -> Result<(), NameError> {
    if is_plain_ascii_name(name) {
        return Ok(());
    }
    validate_by_the_rules(name)
}

/// [`validate`] without the one-pass check: each rule in turn, naming the first broken.
fn validate_by_the_rules(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(ch) = name.chars().find(|&c| is_control_name_char(c)) {
        return Err(NameError::ControlChar {
            name: name.to_string(),
            ch,
        });
    }
    let (p, l) = split(name);
    if name.contains(':') && !is_ncname(p) {
        return Err(NameError::BadPrefix(name.to_string()));
    }
    if l.is_empty() {
        return Err(NameError::Empty);
    }
    if l == "." || l == ".." {
        return Err(NameError::Dot(name.to_string()));
    }
    if let Some(ch) = l.chars().find(|&c| is_illegal_name_char(c)) {
        return Err(NameError::IllegalChar {
            name: name.to_string(),
            ch,
        });
    }
    Ok(())
}

/// Whether ASCII bytes `b` are an NCName: a letter or `_`, then letters, digits,
/// `_`, `-` and `.`.
fn is_ascii_ncname(b: &[u8]) -> bool {
    match b.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        }
        None => false,
    }
}

/// What a byte may be in a name, for [`is_plain_ascii_name`]: bits of [`LOCAL`],
/// [`NC_START`] and [`NC_CHAR`] (a byte outside printable ASCII has none).
static NAME_BYTES: [u8; 256] = name_bytes();

/// A printable ASCII byte a local name may hold (none of `/ : [ ] | *`).
const LOCAL: u8 = 1;
/// A byte that may start an ASCII NCName: a letter or `_`.
const NC_START: u8 = 2;
/// A byte of an ASCII NCName: a letter, a digit, `_`, `-` or `.`.
const NC_CHAR: u8 = 4;

const fn name_bytes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0x20;
    while c < 0x7f {
        let b = c as u8;
        let mut k = 0;
        if !matches!(b, b'/' | b':' | b'[' | b']' | b'|' | b'*') {
            k |= LOCAL;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            k |= NC_START | NC_CHAR;
        }
        if b.is_ascii_digit() || b == b'-' || b == b'.' {
            k |= NC_CHAR;
        }
        t[c] = k;
        c += 1;
    }
    t
}

/// The bits of [`NAME_BYTES`] every byte of `b` has.
fn common_bits(b: &[u8]) -> u8 {
    b.iter()
        .fold(u8::MAX, |acc, &c| acc & NAME_BYTES[c as usize])
}

/// Whether `name` is valid by the rules of [`validate`], for the common case of a
/// printable ASCII name (every name an import writes goes through [`validate`]),
/// by a table of what each byte may be: one pass over a name without a colon (the
/// bits every byte has), a second over the parts of one with a colon. `false`
/// means "not shown here": [`validate`] then decides, and names the error.
fn is_plain_ascii_name(name: &str) -> bool {
    let b = name.as_bytes();
    let local = if common_bits(b) & LOCAL != 0 {
        // Printable, no colon, nothing a local name may not hold.
        b
    } else {
        let Some(i) = b.iter().position(|&c| c == b':') else {
            return false;
        };
        let (prefix, rest) = (&b[..i], &b[i + 1..]);
        let prefix_ok = prefix
            .first()
            .is_some_and(|&c| NAME_BYTES[c as usize] & NC_START != 0)
            && common_bits(prefix) & NC_CHAR != 0;
        if !prefix_ok || common_bits(rest) & LOCAL == 0 {
            return false;
        }
        rest
    };
    !local.is_empty() && local != b"." && local != b".."
}

/// A name qualified by its namespace URI rather than a prefix: the identity of a name
/// across documents that use different prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExpandedName {
    /// The namespace URI (`""` for the default namespace).
    pub uri: String,
    /// The local part.
    pub local: String,
}

impl ExpandedName {
    /// Resolves the qualified `name` against `ns`.
    pub fn resolve(name: &str, ns: &NamespaceRegistry) -> Result<ExpandedName, NameError> {
        let (p, l) = split(name);
        match ns.uri(p) {
            Some(uri) => Ok(ExpandedName {
                uri: uri.to_string(),
                local: l.to_string(),
            }),
            None => Err(NameError::UnknownPrefix {
                name: name.to_string(),
                prefix: p.to_string(),
            }),
        }
    }

    /// The qualified form under `ns`, or `None` when the URI has no prefix there.
    pub fn qualify(&self, ns: &NamespaceRegistry) -> Option<String> {
        let p = ns.prefix(&self.uri)?;
        Some(if p.is_empty() {
            self.local.clone()
        } else {
            format!("{p}:{}", self.local)
        })
    }
}

impl fmt::Display for ExpandedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.uri.is_empty() {
            write!(f, "{}", self.local)
        } else {
            write!(f, "{{{}}}{}", self.uri, self.local)
        }
    }
}

/// Rewrites the prefix of the qualified `name` from the document mappings `from` to
/// the repository mappings `to`. Unprefixed names and names whose prefix `from` does
/// not know are returned unchanged (prefixes used only in file names are resolved
/// through the repository, reference §3.11).
pub fn remap(name: &str, from: &NamespaceRegistry, to: &NamespaceRegistry) -> String {
    let (p, l) = split(name);
    if p.is_empty() {
        return name.to_string();
    }
    match from.uri(p).and_then(|uri| to.prefix(uri)) {
        Some(np) if np == p => name.to_string(),
        Some("") => l.to_string(),
        Some(np) => format!("{np}:{l}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// The byte-wise check of ASCII names answers as the character rules do.
    #[test]
    fn ascii_ncnames_by_byte_agree_with_the_character_rules() {
        let ascii: Vec<char> = (0u8..128).map(char::from).collect();
        let mut names: Vec<String> = vec![String::new()];
        names.extend(ascii.iter().map(|c| c.to_string()));
        for &a in &ascii {
            for &b in &ascii {
                names.push(format!("{a}{b}"));
                names.push(format!("x{a}{b}"));
            }
        }
        for n in &names {
            assert_eq!(is_ncname(n), is_ncname_by_chars(n), "{n:?}");
        }
        assert!(is_ncname("jcr") && is_ncname("_a.b-1") && !is_ncname("1a") && !is_ncname("a:b"));
    }

    /// The one-pass check never accepts what the full rules refuse: every printable
    /// ASCII name of up to three characters, with and without a prefix.
    #[test]
    fn the_ascii_fast_path_agrees_with_the_full_rules() {
        let chars: Vec<char> = (0x1fu8..=0x7f).map(char::from).collect();
        let mut names = vec![String::new()];
        for a in &chars {
            names.push(a.to_string());
            for b in &chars {
                names.push(format!("{a}{b}"));
                for c in ['a', ':', '.', '*', '-', '1'] {
                    names.push(format!("{a}{b}{c}"));
                }
            }
        }
        for base in names {
            for name in [base.clone(), format!("jcr:{base}"), format!("{base}:x")] {
                assert_eq!(
                    is_plain_ascii_name(&name),
                    validate_by_the_rules(&name).is_ok(),
                    "{name:?}: the fast path and the rules disagree"
                );
            }
        }
    }

    use super::*;

    #[test]
    fn validates_names() {
        assert!(validate("jcr:content").is_ok());
        assert!(validate("foo bar").is_ok());
        assert!(validate("x.dir").is_ok());
        assert_eq!(validate(""), Err(NameError::Empty));
        assert!(matches!(validate(".."), Err(NameError::Dot(_))));
        assert!(matches!(
            validate("a/b"),
            Err(NameError::IllegalChar { ch: '/', .. })
        ));
        assert!(matches!(
            validate("a:b:c"),
            Err(NameError::IllegalChar { ch: ':', .. })
        ));
        assert!(matches!(validate("1x:b"), Err(NameError::BadPrefix(_))));
        assert!(matches!(validate("x:"), Err(NameError::Empty)));
    }

    #[test]
    fn names_that_decode_to_control_characters_are_refused() {
        // What `_x0000_`, `%00`, `%1b`, `%0a` and friends decode to.
        for (name, ch) in [
            ("a\0b", '\0'),
            ("\u{1b}[31mred", '\u{1b}'),
            ("line\nD /content/important", '\n'),
            ("cr\r", '\r'),
            ("tab\t", '\t'),
            ("del\u{7f}", '\u{7f}'),
            ("c1\u{85}", '\u{85}'),
            ("x\u{fffe}", '\u{fffe}'),
            ("ls\u{2028}", '\u{2028}'),
            ("jcr:a\u{1}", '\u{1}'),
        ] {
            let error = validate(name).unwrap_err();
            assert_eq!(
                error,
                NameError::ControlChar {
                    name: name.into(),
                    ch
                }
            );
            let shown = error.to_string();
            assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
            assert!(shown.contains("control character U+"), "{shown}");
        }
        assert!(validate("caf\u{e9} \u{a0}ok").is_ok());
    }

    #[test]
    fn expands_and_remaps() {
        let mut doc = NamespaceRegistry::new();
        doc.set("s", "http://sling.apache.org/jcr/sling/1.0");
        let mut repo = NamespaceRegistry::new();
        repo.set("sling", "http://sling.apache.org/jcr/sling/1.0");
        let e = ExpandedName::resolve("s:Folder", &doc).unwrap();
        assert_eq!(
            e.to_string(),
            "{http://sling.apache.org/jcr/sling/1.0}Folder"
        );
        assert_eq!(e.qualify(&repo).as_deref(), Some("sling:Folder"));
        assert_eq!(remap("s:Folder", &doc, &repo), "sling:Folder");
        assert_eq!(remap("plain", &doc, &repo), "plain");
        assert!(ExpandedName::resolve("cq:Page", &repo).is_err());
    }
}
