//! ISO 9075 encoding of XML names, as Jackrabbit's `ISO9075` class does it.
//!
//! DocView writes node and property names as XML element and attribute names. A JCR
//! name may hold characters XML names cannot (`1test`, spaces, `%`), so the local part
//! is encoded: every character not allowed at its position becomes `_xHHHH_` (four
//! lower-case hex digits of its UTF-16 unit), and an underscore that would itself read
//! as the start of such an escape becomes `_x005f_`.

use crate::name::{is_name_char, is_name_start_char};
use std::borrow::Cow;

/// Encodes a local name for use as an XML name. Names that are already valid XML names
/// and hold no `_x` are returned unchanged.
pub fn encode(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let units: Vec<u16> = name.encode_utf16().collect();
    if is_valid_bmp_name(&units) && !name.contains("_x") {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for (i, &u) in units.iter().enumerate() {
        let c = char::from_u32(u as u32);
        let ok = match c {
            Some(c) if i == 0 => is_name_start_char(c) && c != ':',
            Some(c) => is_name_char(c) && c != ':',
            None => false,
        };
        if !ok || (u == b'_' as u16 && needs_escaping(&units, i)) {
            push_escape(&mut out, u);
        } else {
            // `ok` implies a BMP scalar value.
            out.push(c.unwrap_or('\u{FFFD}'));
        }
    }
    out
}

/// Decodes every `_xHHHH_` (hex digits in any case) back to its character. Surrogate
/// pairs written as two escapes are joined; a lone surrogate escape is kept as text.
/// A name without escapes is returned as it is, borrowed.
pub fn decode(name: &str) -> Cow<'_, str> {
    if !name.contains("_x") {
        return Cow::Borrowed(name);
    }
    let bytes = name.as_bytes();
    let mut units: Vec<u16> = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(u) = escape_at(bytes, i) {
            units.push(u);
            i += 7;
            continue;
        }
        // Copy one UTF-8 character as UTF-16 units.
        let ch = name[i..].chars().next().unwrap_or('\u{FFFD}');
        let mut buf = [0u16; 2];
        units.extend_from_slice(ch.encode_utf16(&mut buf));
        i += ch.len_utf8();
    }
    match String::from_utf16(&units) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(name),
    }
}

fn escape_at(bytes: &[u8], i: usize) -> Option<u16> {
    if i + 7 > bytes.len() || bytes[i] != b'_' || bytes[i + 1] != b'x' || bytes[i + 6] != b'_' {
        return None;
    }
    let hex = std::str::from_utf8(&bytes[i + 2..i + 6]).ok()?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(hex, 16).ok()
}

fn is_valid_bmp_name(units: &[u16]) -> bool {
    units
        .iter()
        .enumerate()
        .all(|(i, &u)| match char::from_u32(u as u32) {
            Some(c) if i == 0 => is_name_start_char(c),
            Some(c) => is_name_char(c),
            None => false,
        })
}

/// An underscore at `i` starts `_x` followed by four hex digits.
fn needs_escaping(units: &[u16], i: usize) -> bool {
    units.len() >= i + 6
        && units[i + 1] == b'x' as u16
        && units[i + 2..i + 6]
            .iter()
            .all(|&u| u < 128 && (u as u8).is_ascii_hexdigit())
}

fn push_escape(out: &mut String, u: u16) {
    out.push_str(&format!("_x{u:04x}_"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples_from_filevault() {
        assert_eq!(encode("1test"), "_x0031_test");
        assert_eq!(encode("test%test"), "test_x0025_test");
        assert_eq!(encode("_test&test"), "_test_x0026_test");
        assert_eq!(encode("a b"), "a_x0020_b");
        assert_eq!(encode("x\u{200a}y"), "x_x200a_y");
        assert_eq!(encode("foo[2]"), "foo_x005b_2_x005d_");
        assert_eq!(encode("plain"), "plain");
        assert_eq!(encode("_x0031_"), "_x005f_x0031_");
        assert_eq!(encode("a_xyz"), "a_xyz");
    }

    #[test]
    fn decodes() {
        assert_eq!(decode("_x0031_test"), "1test");
        assert_eq!(decode("foo_x005b_2_x005d_"), "foo[2]");
        assert_eq!(decode("_X0031_"), "_X0031_");
        assert_eq!(decode("_x004A_"), "J");
        assert_eq!(decode("_xd83d__xde00_"), "\u{1F600}");
        assert_eq!(decode("a_x12"), "a_x12");
    }

    #[test]
    fn supplementary_characters_round_trip() {
        let e = encode("a\u{1F600}");
        assert_eq!(e, "a_xd83d__xde00_");
        assert_eq!(decode(&e), "a\u{1F600}");
    }

    proptest! {
        #[test]
        fn round_trips(s in "\\PC{1,12}") {
            let encoded = encode(&s);
            prop_assert_eq!(decode(&encoded), s);
        }
    }
}
