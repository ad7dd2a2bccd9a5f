//! Java's Unicode case-insensitive matching (`(?iu)`), computed explicitly.
//!
//! With CASE_INSENSITIVE and UNICODE_CASE the JDK compares characters through
//! `Character.toLowerCase(Character.toUpperCase(c))` (so `ı`, whose upper case is
//! `I`, matches `i`), which is not the simple case folding the `regex` crate applies
//! under `(?i)`. This module lists, once, every cased character with its single-
//! character upper and lower mappings and derives the exact sets Java matches.

use std::sync::OnceLock;

/// A character whose Java upper- or lower-case mapping differs from itself.
struct Cased {
    c: u32,
    /// `Character.toUpperCase(c)`.
    upper: u32,
    /// `Character.toLowerCase(Character.toUpperCase(c))`.
    key: u32,
}

/// `Character.toUpperCase` (simple, single-character mapping).
pub(super) fn upper(c: u32) -> u32 {
    single(c, |ch| ch.to_uppercase().collect())
}

/// `Character.toLowerCase` (simple, single-character mapping).
pub(super) fn lower(c: u32) -> u32 {
    // The only character whose full lower-case mapping is longer than its simple one.
    if c == 0x130 {
        return 0x69;
    }
    single(c, |ch| ch.to_lowercase().collect())
}

fn single(c: u32, map: impl Fn(char) -> Vec<char>) -> u32 {
    match char::from_u32(c) {
        Some(ch) => match map(ch).as_slice() {
            [one] => u32::from(*one),
            _ => c,
        },
        None => c,
    }
}

/// Every cased character (all lie below U+20000).
fn table() -> &'static [Cased] {
    static TABLE: OnceLock<Vec<Cased>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..0x2_0000u32)
            .filter(|&c| char::from_u32(c).is_some())
            .filter_map(|c| {
                let up = upper(c);
                let key = lower(up);
                (up != c || key != c || lower(c) != c).then_some(Cased { c, upper: up, key })
            })
            .collect()
    })
}

/// The characters Java's `SingleU` matches for `c`: those with the same
/// `toLowerCase(toUpperCase(..))`. Returns just `c` for uncased characters.
pub(super) fn single_set(c: u32) -> Vec<u32> {
    let up = upper(c);
    let key = lower(up);
    if up == key {
        return vec![c];
    }
    let mut set: Vec<u32> = table()
        .iter()
        .filter(|e| e.key == key)
        .map(|e| e.c)
        .collect();
    if !set.contains(&c) {
        set.push(c);
    }
    set
}

/// The characters outside `lo..=hi` that Java's `CIRangeU` adds: those whose upper
/// case, or the lower case of that, lies in the range.
pub(super) fn range_extra(lo: u32, hi: u32) -> Vec<u32> {
    let inside = |x: u32| (lo..=hi).contains(&x);
    table()
        .iter()
        .filter(|e| !inside(e.c) && (inside(e.upper) || inside(e.key)))
        .map(|e| e.c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_case_relations() {
        let mut i = single_set(u32::from('i'));
        i.sort_unstable();
        assert_eq!(i, vec![0x49, 0x69, 0x130, 0x131]);
        let mut k = single_set(u32::from('k'));
        k.sort_unstable();
        assert_eq!(k, vec![0x4B, 0x6B, 0x212A]);
        assert_eq!(single_set(u32::from('1')), vec![0x31]);
        assert!(range_extra(u32::from('a'), u32::from('z')).contains(&0x41));
        assert!(range_extra(u32::from('a'), u32::from('z')).contains(&0x17F));
    }
}
