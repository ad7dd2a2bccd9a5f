//! Value constraints of property definitions (JCR 2.0 §3.7.3.6): whether a value meets
//! the `< '...'` constraints of its definition.
//!
//! A value meets a list of constraints when it meets at least one of them (an empty
//! list allows everything). By required type:
//! * STRING, URI: a regular expression the whole value must match;
//! * LONG, DOUBLE, DECIMAL, DATE: a range `[min,max]`, `(min,max)`, either end open
//!   (`[0,)`, `(,100]`), brackets inclusive, parentheses exclusive;
//! * BINARY: a range on the length in bytes;
//! * BOOLEAN: `true` or `false`;
//! * NAME: the name itself;
//! * PATH: the path itself, or `/a/b/*` for any descendant of `/a/b`;
//! * REFERENCE, WEAKREFERENCE: a node type of the referenced node, which needs the
//!   repository: not checked here.
//!
//! A constraint jcrpack cannot evaluate (a Java-only regex feature, a malformed range,
//! a binary of unknown size) counts as met: the check never rejects content on a guess.

use crate::value::{parse_double, Binary, Date, PropertyType, Value};

/// Whether `value`, already converted to `required_type`, meets at least one of
/// `constraints`.
pub fn meets_constraints(
    value: &Value,
    required_type: PropertyType,
    constraints: &[String],
) -> bool {
    constraints.is_empty()
        || constraints
            .iter()
            .any(|c| meets(value, required_type, c).unwrap_or(true))
}

/// `Some(result)` when the constraint could be evaluated.
fn meets(value: &Value, required_type: PropertyType, c: &str) -> Option<bool> {
    match required_type {
        PropertyType::String | PropertyType::Uri => {
            let re = regex::Regex::new(&format!("^(?:{c})$")).ok()?;
            Some(re.is_match(value.as_str()?))
        }
        PropertyType::Long | PropertyType::Double | PropertyType::Decimal => {
            let v = match value {
                Value::Long(l) => *l as f64,
                Value::Double(d) => *d,
                Value::Decimal(s) => parse_double(s)?,
                _ => return None,
            };
            Range::parse(c, parse_double)?.contains(v)
        }
        PropertyType::Date => {
            let Value::Date(d) = value else { return None };
            Range::parse(c, |s| Date::parse(s).map(|d| d.epoch_millis() as f64))?
                .contains(d.epoch_millis() as f64)
        }
        PropertyType::Binary => {
            let Value::Binary(b) = value else { return None };
            if matches!(b, Binary::Placeholder) {
                return None;
            }
            Range::parse(c, parse_double)?.contains(b.size()? as f64)
        }
        PropertyType::Boolean => {
            let Value::Boolean(b) = value else {
                return None;
            };
            let want = match c.trim() {
                t if t.eq_ignore_ascii_case("true") => true,
                t if t.eq_ignore_ascii_case("false") => false,
                _ => return None,
            };
            Some(*b == want)
        }
        PropertyType::Name => Some(value.as_str()? == c),
        PropertyType::Path => {
            let v = value.as_str()?;
            Some(match c.strip_suffix("/*") {
                Some(base) => {
                    let base = base.trim_end_matches('/');
                    v.len() > base.len() + 1
                        && v.starts_with(base)
                        && v.as_bytes().get(base.len()) == Some(&b'/')
                }
                None => v.trim_end_matches('/') == c.trim_end_matches('/'),
            })
        }
        PropertyType::Reference | PropertyType::WeakReference | PropertyType::Undefined => None,
    }
}

/// A numeric range with optional, inclusive or exclusive ends.
struct Range {
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
}

impl Range {
    fn parse(c: &str, bound: impl Fn(&str) -> Option<f64>) -> Option<Range> {
        let c = c.trim();
        let min_inclusive = match c.chars().next()? {
            '[' => true,
            '(' => false,
            _ => return None,
        };
        let max_inclusive = match c.chars().last()? {
            ']' => true,
            ')' => false,
            _ => return None,
        };
        let inner = c.get(1..c.len().checked_sub(1)?)?;
        let (lo, hi) = inner.split_once(',')?;
        let side = |s: &str, inclusive: bool| -> Option<Option<(f64, bool)>> {
            let s = s.trim();
            if s.is_empty() {
                Some(None)
            } else {
                Some(Some((bound(s)?, inclusive)))
            }
        };
        Some(Range {
            min: side(lo, min_inclusive)?,
            max: side(hi, max_inclusive)?,
        })
    }

    fn contains(&self, v: f64) -> Option<bool> {
        let lo = match self.min {
            None => true,
            Some((m, true)) => v >= m,
            Some((m, false)) => v > m,
        };
        let hi = match self.max {
            None => true,
            Some((m, true)) => v <= m,
            Some((m, false)) => v < m,
        };
        Some(lo && hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn strings_match_whole_regexes() {
        let s = |v: &str| Value::String(v.into());
        let cons = c(&["prefix1.*", ".*suffix1"]);
        assert!(meets_constraints(
            &s("prefix1abc"),
            PropertyType::String,
            &cons
        ));
        assert!(meets_constraints(
            &s("abcsuffix1"),
            PropertyType::String,
            &cons
        ));
        assert!(!meets_constraints(
            &s("xprefix1"),
            PropertyType::String,
            &cons
        ));
        assert!(meets_constraints(
            &s("auto"),
            PropertyType::String,
            &c(&["auto", "inline"])
        ));
        assert!(!meets_constraints(
            &s("autox"),
            PropertyType::String,
            &c(&["auto"])
        ));
        // A Java-only construct is not evaluated, so it does not reject.
        assert!(meets_constraints(
            &s("x"),
            PropertyType::String,
            &c(&["(?<=a)b"])
        ));
        assert!(meets_constraints(&s("anything"), PropertyType::String, &[]));
    }

    #[test]
    fn ranges() {
        let l = |n| Value::Long(n);
        assert!(meets_constraints(
            &l(5),
            PropertyType::Long,
            &c(&["[1,10]"])
        ));
        assert!(meets_constraints(
            &l(10),
            PropertyType::Long,
            &c(&["[1,10]"])
        ));
        assert!(!meets_constraints(
            &l(10),
            PropertyType::Long,
            &c(&["[1,10)"])
        ));
        assert!(!meets_constraints(
            &l(100),
            PropertyType::Long,
            &c(&["(100,)"])
        ));
        assert!(meets_constraints(
            &l(101),
            PropertyType::Long,
            &c(&["(100,)"])
        ));
        assert!(meets_constraints(
            &l(-5),
            PropertyType::Long,
            &c(&["(,100)"])
        ));
        assert!(meets_constraints(
            &Value::Double(0.5),
            PropertyType::Double,
            &c(&["[0, 1]"])
        ));
        let d = Value::parse(PropertyType::Date, "1970-01-01T00:00:00.000Z").unwrap();
        assert!(!meets_constraints(
            &d,
            PropertyType::Date,
            &c(&["(1974-02-15T00:00:00.000Z,)"])
        ));
        assert!(meets_constraints(
            &d,
            PropertyType::Date,
            &c(&["(,1974-02-15T00:00:00.000Z)"])
        ));
        let b = Value::Binary(Binary::inline(vec![0u8; 150]));
        assert!(!meets_constraints(
            &b,
            PropertyType::Binary,
            &c(&["(,100)"])
        ));
        assert!(meets_constraints(
            &b,
            PropertyType::Binary,
            &c(&["[100,200]"])
        ));
        // Malformed: not evaluated.
        assert!(meets_constraints(&l(5), PropertyType::Long, &c(&["1..10"])));
    }

    #[test]
    fn booleans_names_paths() {
        assert!(meets_constraints(
            &Value::Boolean(true),
            PropertyType::Boolean,
            &c(&["true"])
        ));
        assert!(!meets_constraints(
            &Value::Boolean(false),
            PropertyType::Boolean,
            &c(&["true"])
        ));
        let n = Value::Name("ex:name".into());
        assert!(meets_constraints(&n, PropertyType::Name, &c(&["ex:name"])));
        assert!(!meets_constraints(
            &n,
            PropertyType::Name,
            &c(&["ex:other"])
        ));
        let p = |s: &str| Value::Path(s.into());
        assert!(meets_constraints(
            &p("/abc"),
            PropertyType::Path,
            &c(&["/abc"])
        ));
        assert!(!meets_constraints(
            &p("/abcd"),
            PropertyType::Path,
            &c(&["/abc"])
        ));
        assert!(meets_constraints(
            &p("/a/b/c"),
            PropertyType::Path,
            &c(&["/a/b/*"])
        ));
        assert!(!meets_constraints(
            &p("/a/b"),
            PropertyType::Path,
            &c(&["/a/b/*"])
        ));
        assert!(!meets_constraints(
            &p("/a/bc"),
            PropertyType::Path,
            &c(&["/a/b/*"])
        ));
        let r = Value::Reference("uuid".into());
        assert!(meets_constraints(
            &r,
            PropertyType::Reference,
            &c(&["nt:version"])
        ));
    }
}
