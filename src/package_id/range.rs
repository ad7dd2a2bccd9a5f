//! Version ranges of package dependencies (reference section 4.3).
//!
//! A plain version means "this version or any later one" (not "exactly"); the bracket
//! forms are Maven/OSGi intervals whose bounds may be empty (`[,2.0)`); the empty
//! string is the infinite range.

use super::java_chars;
use super::version::Version;
use std::cmp::Ordering;
use std::fmt;

/// Why a version range is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionRangeError {
    /// A range with a comma but no `[` or `(`.
    #[error("version range '{0}' must start with '[' or '('")]
    MissingStart(String),
    /// A range with a comma but no `]` or `)`.
    #[error("version range '{0}' must end with ']' or ')'")]
    MissingEnd(String),
    /// The brackets and the comma are not in the order `[`, `,`, `]`.
    #[error("version range '{0}' is malformed: expected '[low,high]' with the comma between the brackets")]
    Misplaced(String),
    /// The lower bound is above the upper bound.
    #[error("version range '{0}': the lower bound must be less than or equal to the upper bound")]
    LowAboveHigh(String),
    /// Equal bounds with an exclusive end: the range would be empty.
    #[error("version range '{0}' is empty: when both bounds are equal, both must be inclusive")]
    EmptyRange(String),
}

/// An interval of versions. Compares and hashes by its string form, as FileVault does.
#[derive(Debug, Clone)]
pub struct VersionRange {
    low: Option<Version>,
    low_inclusive: bool,
    high: Option<Version>,
    high_inclusive: bool,
    text: String,
}

impl VersionRange {
    /// The range holding every version (the empty string).
    pub fn infinite() -> VersionRange {
        VersionRange {
            low: None,
            low_inclusive: true,
            high: None,
            high_inclusive: true,
            text: String::new(),
        }
    }

    /// A range from its bounds; an empty version counts as no bound. Fails when the
    /// lower bound is above the upper one, or when equal bounds are not both inclusive.
    pub fn new(
        low: Option<Version>,
        low_inclusive: bool,
        high: Option<Version>,
        high_inclusive: bool,
    ) -> Result<VersionRange, VersionRangeError> {
        let low = low.filter(|v| !v.is_empty());
        let high = high.filter(|v| !v.is_empty());
        let text = range_text(low.as_ref(), low_inclusive, high.as_ref(), high_inclusive);
        if let (Some(l), Some(h)) = (&low, &high) {
            match l.compare(h) {
                Ordering::Greater => return Err(VersionRangeError::LowAboveHigh(text)),
                Ordering::Equal if !low_inclusive || !high_inclusive => {
                    return Err(VersionRangeError::EmptyRange(text))
                }
                _ => {}
            }
        }
        Ok(VersionRange {
            low,
            low_inclusive,
            high,
            high_inclusive,
            text,
        })
    }

    /// The range `[v,v]` holding exactly `v` (the infinite range for an empty `v`),
    /// as FileVault uses for the dependency on a given package id.
    pub fn exactly(v: &Version) -> VersionRange {
        if v.is_empty() {
            return VersionRange::infinite();
        }
        VersionRange {
            low: Some(v.clone()),
            low_inclusive: true,
            high: Some(v.clone()),
            high_inclusive: true,
            text: range_text(Some(v), true, Some(v), true),
        }
    }

    /// The range "`v` or later" that a plain version in a dependency means.
    pub fn at_least(v: &Version) -> VersionRange {
        let low = Some(v.clone()).filter(|v| !v.is_empty());
        VersionRange {
            text: range_text(low.as_ref(), true, None, false),
            low,
            low_inclusive: true,
            high: None,
            high_inclusive: false,
        }
    }

    /// Parses a range as FileVault's `VersionRange.fromString` does: `""` (every
    /// version), a plain version (that version or later), or `[`/`(` low `,` high
    /// `]`/`)` with either bound possibly empty and blanks around the bounds ignored.
    pub fn parse(s: &str) -> Result<VersionRange, VersionRangeError> {
        let Some(comma) = s.find(',') else {
            if s.is_empty() {
                return Ok(VersionRange::infinite());
            }
            return Ok(VersionRange::at_least(&Version::parse(s)));
        };
        let (open, low_inclusive) = match (s.find('('), s.find('[')) {
            (Some(p), _) => (p, false),
            (None, Some(p)) => (p, true),
            (None, None) => return Err(VersionRangeError::MissingStart(s.to_string())),
        };
        let (close, high_inclusive) = match (s.find(')'), s.find(']')) {
            (Some(p), _) => (p, false),
            (None, Some(p)) => (p, true),
            (None, None) => return Err(VersionRangeError::MissingEnd(s.to_string())),
        };
        let (Some(low), Some(high)) = (s.get(open + 1..comma), s.get(comma + 1..close)) else {
            return Err(VersionRangeError::Misplaced(s.to_string()));
        };
        let bound = |b: &str| {
            let b = java_chars::trim(b);
            (!b.is_empty()).then(|| Version::parse(b))
        };
        VersionRange::new(bound(low), low_inclusive, bound(high), high_inclusive)
    }

    /// The lower bound, if any.
    pub fn low(&self) -> Option<&Version> {
        self.low.as_ref()
    }

    /// Whether the lower bound belongs to the range.
    pub fn is_low_inclusive(&self) -> bool {
        self.low_inclusive
    }

    /// The upper bound, if any.
    pub fn high(&self) -> Option<&Version> {
        self.high.as_ref()
    }

    /// Whether the upper bound belongs to the range.
    pub fn is_high_inclusive(&self) -> bool {
        self.high_inclusive
    }

    /// Whether this is the range of every version.
    pub fn is_infinite(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether `v` lies in the range (Maven order).
    pub fn contains(&self, v: &Version) -> bool {
        if let Some(low) = &self.low {
            match v.compare(low) {
                Ordering::Less => return false,
                Ordering::Equal if !self.low_inclusive => return false,
                _ => {}
            }
        }
        if let Some(high) = &self.high {
            match v.compare(high) {
                Ordering::Greater => return false,
                Ordering::Equal if !self.high_inclusive => return false,
                _ => {}
            }
        }
        true
    }

    /// The string form (`[1.0,2.0)`, `1.0`, `(1.0,)`, `[,2.0]`, or `""`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// FileVault's string form of a range.
fn range_text(
    low: Option<&Version>,
    low_inclusive: bool,
    high: Option<&Version>,
    high_inclusive: bool,
) -> String {
    let close = if high_inclusive { ']' } else { ')' };
    match (low, high) {
        (None, None) => String::new(),
        (Some(l), None) if low_inclusive => l.to_string(),
        (Some(l), None) => format!("({l},)"),
        (None, Some(h)) => format!("[,{h}{close}"),
        (Some(l), Some(h)) => {
            let open = if low_inclusive { '[' } else { '(' };
            format!("{open}{l},{h}{close}")
        }
    }
}

impl Default for VersionRange {
    fn default() -> VersionRange {
        VersionRange::infinite()
    }
}

impl PartialEq for VersionRange {
    fn eq(&self, other: &VersionRange) -> bool {
        self.text == other.text
    }
}

impl Eq for VersionRange {}

impl std::hash::Hash for VersionRange {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s)
    }

    fn range(low: Option<&str>, li: bool, high: Option<&str>, hi: bool) -> VersionRange {
        VersionRange::new(low.map(v), li, high.map(v), hi).unwrap()
    }

    #[test]
    fn bounds_decide_membership() {
        assert!(VersionRange::infinite().contains(&v("1.0")));
        assert!(VersionRange::infinite().contains(&Version::empty()));
        let r = range(Some("1.0"), true, None, false);
        assert!(r.contains(&v("1.0")) && r.contains(&v("2.0")) && !r.contains(&v("0.9")));
        let r = range(Some("1.0"), false, None, false);
        assert!(!r.contains(&v("1.0")) && r.contains(&v("2.0")) && !r.contains(&v("0.9")));
        let r = range(None, false, Some("2.0"), true);
        assert!(r.contains(&v("1.0")) && r.contains(&v("2.0")) && !r.contains(&v("2.1")));
        let r = range(None, false, Some("2.0"), false);
        assert!(r.contains(&v("1.0")) && !r.contains(&v("2.0")) && !r.contains(&v("2.1")));
        for (li, hi) in [(true, true), (false, true), (true, false), (false, false)] {
            let r = range(Some("1.0"), li, Some("2.0"), hi);
            assert!(!r.contains(&v("0.9")));
            assert_eq!(r.contains(&v("1.0")), li);
            assert!(r.contains(&v("1.1")));
            assert_eq!(r.contains(&v("2.0")), hi);
            assert!(!r.contains(&v("2.1")));
        }
        assert!(!range(Some("1.0"), true, Some("2.0"), true).contains(&Version::empty()));
    }

    #[test]
    fn snapshots_are_below_their_release() {
        let r = VersionRange::parse("[1.0,2.0)").unwrap();
        assert!(!r.contains(&v("1.0-SNAPSHOT")));
        let r = VersionRange::parse("[1.0-SNAPSHOT,2.0)").unwrap();
        assert!(r.contains(&v("1.0-SNAPSHOT")));
    }

    #[test]
    fn parses_every_form() {
        let r = VersionRange::parse("[1.0,2.0]").unwrap();
        assert_eq!(r.low(), Some(&v("1.0")));
        assert_eq!(r.high(), Some(&v("2.0")));
        assert!(r.is_low_inclusive() && r.is_high_inclusive());
        let r = VersionRange::parse("(1.0,2.0)").unwrap();
        assert!(!r.is_low_inclusive() && !r.is_high_inclusive());
        let r = VersionRange::parse("1.0").unwrap();
        assert_eq!(r.low(), Some(&v("1.0")));
        assert!(r.high().is_none() && r.is_low_inclusive());
        let r = VersionRange::parse("(1.0,]").unwrap();
        assert!(r.high().is_none() && !r.is_low_inclusive());
        assert_eq!(r.as_str(), "(1.0,)");
        let r = VersionRange::parse("[,2.0]").unwrap();
        assert!(r.low().is_none() && r.is_high_inclusive());
        assert!(VersionRange::parse("").unwrap().is_infinite());
        assert_eq!(
            VersionRange::parse("[1.0, 2.0]").unwrap().as_str(),
            "[1.0,2.0]"
        );
        assert_eq!(
            VersionRange::parse("[ , ]").unwrap(),
            VersionRange::infinite()
        );
    }

    #[test]
    fn string_forms() {
        assert_eq!(
            range(Some("1.0"), true, Some("2.0"), true).to_string(),
            "[1.0,2.0]"
        );
        assert_eq!(
            range(Some("1.0"), false, Some("2.0"), false).to_string(),
            "(1.0,2.0)"
        );
        assert_eq!(range(Some("1.0"), false, None, false).to_string(), "(1.0,)");
        assert_eq!(range(Some("1.0"), true, None, false).to_string(), "1.0");
        assert_eq!(range(None, false, Some("2.0"), true).to_string(), "[,2.0]");
        assert_eq!(range(None, false, Some("2.0"), false).to_string(), "[,2.0)");
        assert_eq!(VersionRange::exactly(&v("1.2")).to_string(), "[1.2,1.2]");
        assert!(VersionRange::exactly(&Version::empty()).is_infinite());
    }

    #[test]
    fn invalid_ranges() {
        assert!(matches!(
            VersionRange::new(Some(v("2.0")), false, Some(v("1.0")), false),
            Err(VersionRangeError::LowAboveHigh(_))
        ));
        assert!(matches!(
            VersionRange::new(Some(v("1.0")), false, Some(v("1.0")), false),
            Err(VersionRangeError::EmptyRange(_))
        ));
        assert!(VersionRange::new(Some(v("1.0")), true, Some(v("1.0")), true).is_ok());
        assert!(matches!(
            VersionRange::parse("1.0,2.0]"),
            Err(VersionRangeError::MissingStart(_))
        ));
        assert!(matches!(
            VersionRange::parse("[1.0,2.0"),
            Err(VersionRangeError::MissingEnd(_))
        ));
        assert!(matches!(
            VersionRange::parse("],["),
            Err(VersionRangeError::Misplaced(_))
        ));
        assert!(matches!(
            VersionRange::parse("[2,1]"),
            Err(VersionRangeError::LowAboveHigh(_))
        ));
        let e = VersionRange::parse("(1,1]").unwrap_err();
        assert!(e.to_string().contains("both must be inclusive"), "{e}");
    }
}
