//! The few `java.lang.Character`/`String` predicates FileVault's id, version and
//! file-name code relies on, so that jcrpack classifies characters the way the JVM
//! does (Unicode decimal digits, Java's idea of white space, `String.trim`).
//!
//! Java looks at UTF-16 code units: a character outside the Basic Multilingual Plane
//! is two surrogates there, and a surrogate is never a digit, a letter or white
//! space. The helpers below therefore answer `false`/`None` for every non-BMP
//! character, which is what the Java code sees for its first surrogate.

/// The code points of the `0` digit of every Unicode decimal-digit (`Nd`) block in
/// the Basic Multilingual Plane; each block holds the ten digits 0–9 in order.
const BMP_DIGIT_ZEROS: [u32; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

/// The decimal value of `c` when it is a Unicode decimal digit (`Character.isDigit`).
pub(crate) fn decimal_value(c: char) -> Option<u32> {
    let cp = c as u32;
    if cp > 0xFFFF {
        return None;
    }
    BMP_DIGIT_ZEROS
        .iter()
        .find(|&&zero| cp >= zero && cp < zero + 10)
        .map(|&zero| cp - zero)
}

/// `Character.isDigit(c)`: a Unicode decimal digit of any script.
pub(crate) fn is_digit(c: char) -> bool {
    decimal_value(c).is_some()
}

/// `Character.digit(c, 16)`: the hexadecimal value of `c`, accepting every decimal
/// digit, Latin `a-f`/`A-F` and their full-width forms.
pub(crate) fn hex_value(c: char) -> Option<u32> {
    if let Some(v) = decimal_value(c) {
        return Some(v);
    }
    match c {
        'a'..='f' => Some(c as u32 - 'a' as u32 + 10),
        'A'..='F' => Some(c as u32 - 'A' as u32 + 10),
        '\u{FF21}'..='\u{FF26}' => Some(c as u32 - 0xFF21 + 10),
        '\u{FF41}'..='\u{FF46}' => Some(c as u32 - 0xFF41 + 10),
        _ => None,
    }
}

/// `Character.isWhitespace(c)`: Unicode space, line and paragraph separators except
/// the non-breaking ones, plus the ASCII controls `\t \n \u{B} \u{C} \r` and
/// `\u{1C}`–`\u{1F}`.
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | '\u{1C}'..='\u{1F}' | ' '
        | '\u{1680}' | '\u{2000}'..='\u{2006}' | '\u{2008}'..='\u{200A}'
        | '\u{2028}' | '\u{2029}' | '\u{205F}' | '\u{3000}')
}

/// An approximation of `Character.isJavaIdentifierStart(c)`: letters (and letter
/// numbers), `$`, `_` and the other currency symbols and connector punctuation.
/// Non-BMP characters answer `false` (Java sees a surrogate there).
pub(crate) fn is_java_identifier_start(c: char) -> bool {
    if c as u32 > 0xFFFF {
        return false;
    }
    c.is_alphabetic()
        || matches!(c,
            '$' | '_' | '\u{A2}'..='\u{A5}' | '\u{58F}' | '\u{60B}' | '\u{9F2}' | '\u{9F3}'
            | '\u{E3F}' | '\u{17DB}' | '\u{20A0}'..='\u{20C0}' | '\u{203F}' | '\u{2040}'
            | '\u{2054}' | '\u{FE33}' | '\u{FE34}' | '\u{FE4D}'..='\u{FE4F}' | '\u{FE69}'
            | '\u{FF04}' | '\u{FF3F}' | '\u{FFE0}' | '\u{FFE1}' | '\u{FFE5}' | '\u{FFE6}')
}

/// `String.trim()`: strips every character up to and including U+0020 from both ends
/// (not Unicode white space, unlike `str::trim`).
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `Integer.parseInt(s)`: an optional sign and one or more decimal digits of any
/// script; `None` on anything else or on overflow.
pub(crate) fn parse_int(s: &str) -> Option<i32> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        value = value * 10 + i64::from(decimal_value(c)?);
        if value > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    let value = if neg { -value } else { value };
    i32::try_from(value).ok()
}

/// `Long.parseLong(s)`, with the same rules as [`parse_int`] on 64 bits.
pub(crate) fn parse_long(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        value = value * 10 + i128::from(decimal_value(c)?);
        if value > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    let value = if neg { -value } else { value };
    i64::try_from(value).ok()
}

/// `s.split(":")` in Java: like `str::split`, but trailing empty strings are dropped
/// (so `":"` gives no element at all).
pub(crate) fn split_dropping_trailing_empty(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Jackrabbit's `Text.explode(s, sep)`: the parts between separators, empty parts
/// left out.
pub(crate) fn explode(s: &str, sep: char) -> impl Iterator<Item = &str> {
    s.split(sep).filter(|p| !p.is_empty())
}

/// Compares two strings as Java's `String.compareTo` does: by UTF-16 code units.
pub(crate) fn compare_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_every_script() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('\u{0663}'), Some(3)); // Arabic-Indic three
        assert_eq!(decimal_value('\u{FF19}'), Some(9)); // full-width nine
        assert_eq!(decimal_value('a'), None);
        assert_eq!(decimal_value('\u{1D7CE}'), None); // non-BMP: a surrogate in Java
        assert_eq!(hex_value('F'), Some(15));
        assert_eq!(hex_value('\u{FF41}'), Some(10));
        assert_eq!(hex_value('g'), None);
    }

    #[test]
    fn parses_ints_like_java() {
        assert_eq!(parse_int("+12"), Some(12));
        assert_eq!(parse_int("-0"), Some(0));
        assert_eq!(parse_int("2147483647"), Some(i32::MAX));
        assert_eq!(parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(parse_int("2147483648"), None);
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(parse_int("+"), None);
        assert_eq!(parse_long("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_long("99999999999999999999999"), None);
    }

    #[test]
    fn splits_and_trims_like_java() {
        assert_eq!(split_dropping_trailing_empty("a:b::", ':'), ["a", "b"]);
        assert_eq!(split_dropping_trailing_empty(":b", ':'), ["", "b"]);
        assert!(split_dropping_trailing_empty("::", ':').is_empty());
        assert_eq!(explode("/a//b/", '/').collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(trim("\u{1} a \n"), "a");
        assert_eq!(trim("\u{A0}a"), "\u{A0}a");
        assert!(is_whitespace('\u{2003}'));
        assert!(!is_whitespace('\u{A0}'));
        assert!(is_java_identifier_start('R'));
        assert!(is_java_identifier_start('$'));
        assert!(!is_java_identifier_start('1'));
    }
}
