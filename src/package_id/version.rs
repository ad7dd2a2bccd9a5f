//! Package versions, ordered the way FileVault orders them: Maven's
//! `ComparableVersion` (maven-artifact 3.8.4, which FileVault embeds since 3.6.x,
//! JCRVLT-672).
//!
//! A version keeps the text it was given (minus empty dot-separated segments, as
//! FileVault's `Version.create` drops them) and compares by Maven's rules:
//! numbers compare numerically, missing or zero parts are equal to nothing
//! (`1.0.0` equals `1`), and the known qualifiers order as
//! `alpha < beta < milestone < rc < snapshot < "" (release) < sp`, with unknown
//! qualifiers after all of them in lexical order.

use super::java_chars::{self, compare_utf16};
use std::cmp::Ordering;
use std::fmt;

/// A package version (`1.0.2-SNAPSHOT`), possibly empty.
///
/// Equality and order are Maven's: `Version::parse("1.0.0") == Version::parse("1")`.
/// Maven's order is not a strict total order in a few corner cases (`1-0.1` equals
/// `1` and `1-0.0.1`, which differ from each other), so `Version` implements only
/// `PartialEq`/`PartialOrd`, never `Eq`/`Ord`/`Hash`: key maps by [`Version::as_str`].
#[derive(Clone)]
pub struct Version {
    text: String,
    segments: Vec<String>,
    items: Vec<Item>,
}

impl Version {
    /// The empty version (a package without `version` property).
    pub fn empty() -> Version {
        Version {
            text: String::new(),
            segments: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Reads a version as FileVault's `Version.create(String)` does. Never fails: any
    /// text is a version. Empty dot-separated segments are dropped (`1..0` is `1.0`).
    pub fn parse(s: &str) -> Version {
        let parts: Vec<&str> = java_chars::explode(s, '.').collect();
        if parts.is_empty() {
            return Version::empty();
        }
        let text = parts.join(".");
        let mut segments = Vec::with_capacity(parts.len() + 1);
        let mut has_qualifier = false;
        for part in &parts {
            if has_qualifier {
                segments.push((*part).to_string());
                continue;
            }
            match part.find('-') {
                None => segments.push((*part).to_string()),
                // A segment starting with '-' is dropped, as FileVault does.
                Some(0) => {}
                Some(dash) => {
                    has_qualifier = true;
                    segments.push(part[..dash].to_string());
                    if dash + 1 < part.len() {
                        segments.push(part[dash + 1..].to_string());
                    }
                }
            }
        }
        let items = parse_items(&text);
        Version {
            text,
            segments,
            items,
        }
    }

    /// The version text (`1.0.2-SNAPSHOT`), as written in ids and file names.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the empty version.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether the version ends with `SNAPSHOT` (case-sensitive, as FileVault checks):
    /// re-uploading a snapshot does not keep its installed state.
    pub fn is_snapshot(&self) -> bool {
        self.text.ends_with("SNAPSHOT")
    }

    /// FileVault's normalized segments: the dot-separated parts, with the first
    /// qualifier split off at its dash (`6.3-FP1` gives `6`, `3`, `FP1`).
    pub fn normalized_segments(&self) -> &[String] {
        &self.segments
    }

    /// Maven's canonical form (`1.0.0-final` gives `1`, `1-RC1` gives `1-rc-1`): what
    /// the comparison actually looks at.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        write_list(&self.items, &mut out);
        out
    }

    /// Compares two versions by Maven's `ComparableVersion` rules.
    pub fn compare(&self, other: &Version) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl Default for Version {
    fn default() -> Version {
        Version::empty()
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.compare(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", self.text)
    }
}

impl From<&str> for Version {
    fn from(s: &str) -> Version {
        Version::parse(s)
    }
}

/// One parsed part of a Maven version.
#[derive(Debug, Clone)]
enum Item {
    /// A number, as decimal digits without leading zeros (`"0"` for zero).
    Number(String),
    /// A qualifier, lower-cased and with its aliases resolved.
    Qualifier(String),
    /// A sub-list, opened by `-` or by a letter/digit transition.
    List(Vec<Item>),
}

/// The well-known qualifiers, in order; unknown ones come after all of them.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Index of the release qualifier `""` in [`QUALIFIERS`].
const RELEASE_INDEX: usize = 5;

impl Item {
    fn number(digits: &str) -> Item {
        let ascii: String = digits
            .chars()
            .filter_map(java_chars::decimal_value)
            .filter_map(|d| char::from_digit(d, 10))
            .collect();
        let trimmed = ascii.trim_start_matches('0');
        Item::Number(if trimmed.is_empty() {
            "0".to_string()
        } else {
            trimmed.to_string()
        })
    }

    fn qualifier(value: &str, followed_by_digit: bool) -> Item {
        let mut value = value;
        if followed_by_digit && value.chars().count() == 1 {
            value = match value {
                "a" => "alpha",
                "b" => "beta",
                "m" => "milestone",
                other => other,
            };
        }
        let value = match value {
            "ga" | "final" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Qualifier(value.to_string())
    }

    /// Whether the item equals "nothing" and is dropped at the end of a list.
    fn is_null(&self) -> bool {
        match self {
            Item::Number(d) => d == "0",
            Item::Qualifier(q) => q.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }
}

/// The rank of a qualifier: its index among the known ones, or after all of them.
fn qualifier_rank(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|&k| k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

fn compare_qualifiers(a: &str, b: &str) -> Ordering {
    let (ra, sa) = qualifier_rank(a);
    let (rb, sb) = qualifier_rank(b);
    ra.cmp(&rb).then_with(|| compare_utf16(sa, sb))
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares `a` with `b`, where `None` stands for a missing item (a shorter list).
fn compare_item(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Number(d), None) => {
            if d == "0" {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Item::Number(x), Some(Item::Number(y))) => compare_numbers(x, y),
        (Item::Number(_), Some(_)) => Ordering::Greater,
        // Unknown qualifiers rank after the release qualifier `""`.
        (Item::Qualifier(q), None) => qualifier_rank(q).0.cmp(&RELEASE_INDEX),
        (Item::Qualifier(_), Some(Item::Number(_))) => Ordering::Less,
        (Item::Qualifier(x), Some(Item::Qualifier(y))) => compare_qualifiers(x, y),
        (Item::Qualifier(_), Some(Item::List(_))) => Ordering::Less,
        (Item::List(l), None) => match l.first() {
            None => Ordering::Equal,
            Some(first) => compare_item(first, None),
        },
        (Item::List(_), Some(Item::Number(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Qualifier(_))) => Ordering::Greater,
        (Item::List(x), Some(Item::List(y))) => compare_lists(x, y),
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(r)) => compare_item(r, None).reverse(),
            (Some(l), r) => compare_item(l, r),
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

/// Drops trailing "null" items, looking through trailing sub-lists (Maven's
/// `ListItem.normalize`).
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Maven's `ComparableVersion.parseVersion`. Each new sub-list is the last element
/// of the list before it, so the lists form a chain; it is normalized from the
/// innermost list outwards.
fn parse_items(version: &str) -> Vec<Item> {
    let lower: Vec<char> = version.to_lowercase().chars().collect();
    let mut chain: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    let text = |from: usize, to: usize| -> String { lower[from..to].iter().collect() };
    let parse_item = |digit: bool, s: &str| -> Item {
        if digit {
            Item::number(s)
        } else {
            Item::qualifier(s, false)
        }
    };
    for (i, &c) in lower.iter().enumerate() {
        let current = chain.len() - 1;
        if c == '.' || c == '-' {
            let item = if i == start {
                Item::Number("0".to_string())
            } else {
                parse_item(is_digit, &text(start, i))
            };
            chain[current].push(item);
            start = i + 1;
            if c == '-' {
                chain.push(Vec::new());
            }
        } else if java_chars::is_digit(c) {
            if !is_digit && i > start {
                chain[current].push(Item::qualifier(&text(start, i), true));
                start = i;
                chain.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                chain[current].push(Item::number(&text(start, i)));
                start = i;
                chain.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if lower.len() > start {
        let current = chain.len() - 1;
        let item = parse_item(is_digit, &text(start, lower.len()));
        chain[current].push(item);
    }
    let mut inner = match chain.pop() {
        Some(mut innermost) => {
            normalize(&mut innermost);
            innermost
        }
        None => Vec::new(),
    };
    while let Some(mut parent) = chain.pop() {
        parent.push(Item::List(inner));
        normalize(&mut parent);
        inner = parent;
    }
    inner
}

fn write_list(items: &[Item], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(if matches!(item, Item::List(_)) {
                '-'
            } else {
                '.'
            });
        }
        match item {
            Item::Number(d) => out.push_str(d),
            Item::Qualifier(q) => out.push_str(q),
            Item::List(l) => write_list(l, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        Version::parse(a).compare(&Version::parse(b))
    }

    #[test]
    fn keeps_text_and_drops_empty_segments() {
        for v in [
            "1",
            "1.0",
            "1.0.0",
            "0.1",
            "0.1.0",
            "0.0.1",
            "1.2.3.4",
            "1.2.3.4.5",
            "6-FP1",
            "6.3-FP1",
            "6.3.1-FP1",
        ] {
            assert_eq!(Version::parse(v).as_str(), v);
        }
        assert_eq!(Version::parse("1..0.").as_str(), "1.0");
        assert!(Version::parse("...").is_empty());
        assert!(Version::parse("").is_empty());
    }

    #[test]
    fn normalized_segments() {
        assert_eq!(Version::parse("1").normalized_segments(), ["1"]);
        assert_eq!(Version::parse("-.4").normalized_segments(), ["4"]);
        assert_eq!(
            Version::parse("6.3-FP1").normalized_segments(),
            ["6", "3", "FP1"]
        );
        assert_eq!(
            Version::parse("1.2.3-SNAPSHOT").normalized_segments(),
            ["1", "2", "3", "SNAPSHOT"]
        );
    }

    /// The vectors of the reference (section 4.4) and of FileVault's `VersionTest`.
    #[test]
    fn filevault_order() {
        use Ordering::*;
        let vectors = [
            ("1", "2", Less),
            ("1.0", "2", Less),
            ("2.0.1", "2.1", Less),
            ("2.1", "2.1.1", Less),
            ("2.9", "2.11", Less),
            ("2.1-SNAPSHOT", "2.1", Less),
            ("2.1-RC1", "2.1", Less),
            ("2.1-RC1", "2.1-SNAPSHOT", Less),
            ("1.0.0", "1.0.0", Equal),
            ("1.0.1", "1.0.0", Greater),
            ("1.1", "1.0.0", Greater),
            ("1.11", "1.9", Greater),
            ("1.1-SNAPSHOT", "1.0.0", Greater),
            ("2.0", "2.0.1", Less),
            ("2.0", "2.0-beta-8", Greater),
            ("2.0", "2.0-SNAPSHOT", Greater),
            ("1.11", "1.9-SNAPSHOT", Greater),
            ("1.11-SNAPSHOT", "1.9-SNAPSHOT", Greater),
            ("1.11-SNAPSHOT", "1.9", Greater),
            ("1.1", "1.1-SNAPSHOT", Greater),
            ("1.1-SNAPSHOT", "1.1-RC1", Greater),
            ("1.1-SNAPSHOT", "1.1-R12345", Less),
            ("1.1.0-final", "1.1.0", Equal),
            ("2.1.492-NPR-12954-R012", "2.1.476", Greater),
            ("6.1.58", "6.1.58-FP3", Less),
            ("6.1.58", "6.1.58.FP3", Less),
            ("6.1.59", "6.1.58.FP3", Greater),
            ("6.1.58-FP3", "6.1.58-FP2", Greater),
            ("6.1.58-FP3", "6.1.58.FP3", Greater),
            ("6.1.58-FP3", "6.1.58.FP4", Greater),
            ("6.1.58.FP3", "6.1.58-FP4", Less),
            ("6.1.58.FP3", "6.1.58.FP4", Less),
            ("6.1.0", "6.1-FP3", Less),
            ("6.1", "6.1-FP3", Less),
        ];
        for (a, b, expected) in vectors {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    /// Maven's own `ComparableVersionTest` orderings.
    #[test]
    fn maven_qualifier_order() {
        let ordered = [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
            "1.1",
            "1.1.0.1",
            "2",
        ];
        for (i, a) in ordered.iter().enumerate() {
            for b in &ordered[i + 1..] {
                assert_eq!(cmp(a, b), Ordering::Less, "{a} < {b}");
                assert_eq!(cmp(b, a), Ordering::Greater, "{b} > {a}");
            }
        }
        let alpha_beta = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
        ];
        for w in alpha_beta.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn maven_equalities() {
        let equal = [[
            "1",
            "1.0",
            "1.0.0",
            "1-0",
            "1.0-0",
            "1-ga",
            "1-final",
            "1-GA",
            "1.0.0-FINAL",
        ]];
        for group in equal {
            for a in group {
                for b in group {
                    assert_eq!(cmp(a, b), Ordering::Equal, "{a} == {b}");
                }
            }
        }
        assert_eq!(Version::parse("1.0.0"), Version::parse("1"));
        assert_eq!(Version::parse("1a1"), Version::parse("1-alpha-1"));
        assert_eq!(Version::parse("1cr1"), Version::parse("1-rc-1"));
        assert_eq!(
            Version::parse("1.0000000000000000001"),
            Version::parse("1.1")
        );
        assert!(Version::parse("1.99999999999999999999") > Version::parse("1.9999999999"));
        assert!(Version::parse("") < Version::parse("0.1"));
        assert_eq!(Version::parse(""), Version::parse("0"));
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(Version::parse("1.0.0").canonical(), "1");
        assert_eq!(Version::parse("1-RC1").canonical(), "1-rc-1");
        assert_eq!(Version::parse("1.0-alpha-1").canonical(), "1-alpha-1");
        assert_eq!(Version::parse("1.2.0a2").canonical(), "1.2-alpha-2");
        assert_eq!(Version::parse("007").canonical(), "7");
    }

    #[test]
    fn snapshots() {
        assert!(!Version::parse("1").is_snapshot());
        assert!(!Version::parse("1.SNAPSHOT.0").is_snapshot());
        assert!(!Version::parse("1.0.0-qualifier").is_snapshot());
        assert!(!Version::parse("1.0.0-snapshot").is_snapshot());
        assert!(Version::parse("1.0.0-SNAPSHOT").is_snapshot());
    }

    #[test]
    fn unicode_digits_are_numbers() {
        // Java's Character.isDigit accepts every script's digits.
        assert_eq!(Version::parse("1.\u{0662}"), Version::parse("1.2"));
    }
}
