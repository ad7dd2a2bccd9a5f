//! Package dependencies: the `dependencies` property (reference section 4.3).
//!
//! One dependency is `name`, `group/name`, `group:name`, `group/name:range` or
//! `group:name:range`; a list separates them with commas, except commas inside a
//! range that directly follows a colon (`g:n:[1.0,2.0)`).

use super::java_chars;
use super::range::{VersionRange, VersionRangeError};
use super::{PackageId, ETC_PACKAGES_PREFIX};
use std::fmt;

/// Why a dependency string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    /// The item has no name (it is only colons).
    #[error("dependency '{0}' has no package name: expected group:name[:range]")]
    NoName(String),
    /// The version range of the item is invalid.
    #[error("dependency '{item}': {source}")]
    Range {
        /// The dependency item.
        item: String,
        /// What is wrong with its range.
        source: VersionRangeError,
    },
}

/// A dependency on a package: group, name and a version range.
/// Compares and hashes by its string form, as FileVault does.
#[derive(Debug, Clone)]
pub struct Dependency {
    group: String,
    name: String,
    range: VersionRange,
}

impl Dependency {
    /// A dependency from its parts; a leading `/etc/packages/` is dropped from the
    /// group.
    pub fn new(group: &str, name: &str, range: VersionRange) -> Dependency {
        Dependency {
            group: group
                .strip_prefix(ETC_PACKAGES_PREFIX)
                .unwrap_or(group)
                .to_string(),
            name: name.to_string(),
            range,
        }
    }

    /// The dependency on exactly the package `id` (`[v,v]`, or any version when the
    /// id has none).
    pub fn on(id: &PackageId) -> Dependency {
        Dependency::new(id.group(), id.name(), VersionRange::exactly(id.version()))
    }

    /// Reads one dependency as FileVault's `Dependency.fromString` does; `Ok(None)`
    /// for the empty string.
    ///
    /// With two colon-separated parts, a `/` in the name splits off the group when
    /// the group part is empty (`:a/b`), and otherwise a `/` in the first part makes
    /// it `group/name` with the second part as the range, when that part starts with
    /// a digit, `[` or `)` (`foo/bar/name:[1.0,2.0]`).
    pub fn parse(s: &str) -> Result<Option<Dependency>, DependencyError> {
        if s.is_empty() {
            return Ok(None);
        }
        let segs = java_chars::split_dropping_trailing_empty(s, ':');
        let (group, name, range) = match segs.as_slice() {
            [] => return Err(DependencyError::NoName(s.to_string())),
            [only] => match only.rfind('/') {
                Some(slash) => (&only[..slash], &only[slash + 1..], None),
                None => ("", *only, None),
            },
            [first, second] => {
                let is_version = second
                    .chars()
                    .next()
                    .is_none_or(|c| java_chars::is_digit(c) || c == '[' || c == ')');
                match (second.rfind('/'), first.rfind('/')) {
                    (Some(slash), _) if first.is_empty() => {
                        (&second[..slash], &second[slash + 1..], None)
                    }
                    (_, Some(slash)) if is_version => {
                        (&first[..slash], &first[slash + 1..], Some(*second))
                    }
                    _ => (*first, *second, None),
                }
            }
            [group, name, range, ..] => (*group, *name, Some(*range)),
        };
        let range = match range {
            None => VersionRange::infinite(),
            Some(r) => VersionRange::parse(r).map_err(|source| DependencyError::Range {
                item: s.to_string(),
                source,
            })?,
        };
        Ok(Some(Dependency::new(group, name, range)))
    }

    /// Reads a comma-separated list (the `dependencies` property) as FileVault's
    /// `Dependency.parse` does; empty items are skipped (JCRVLT-265).
    pub fn parse_list(s: &str) -> Result<Vec<Dependency>, DependencyError> {
        let mut deps = Vec::new();
        let mut in_range = false;
        let mut was_colon = false;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            match c {
                ',' if !in_range => {
                    deps.extend(Dependency::parse(&s[start..i])?);
                    start = i + 1;
                }
                '[' | '(' if was_colon => in_range = true,
                ']' | ')' => in_range = false,
                _ => {}
            }
            was_colon = c == ':';
        }
        if start < s.len() {
            deps.extend(Dependency::parse(&s[start..])?);
        }
        Ok(deps)
    }

    /// Writes a list back as the `dependencies` property: the string forms joined
    /// with `,`.
    pub fn format_list(deps: &[Dependency]) -> String {
        let mut out = String::new();
        for (i, d) in deps.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&d.to_string());
        }
        out
    }

    /// The group (`""` when none).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The package name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The accepted versions.
    pub fn range(&self) -> &VersionRange {
        &self.range
    }

    /// Whether the package `id` satisfies this dependency: same group and name, and
    /// a version in range.
    pub fn matches(&self, id: &PackageId) -> bool {
        self.group == id.group() && self.name == id.name() && self.range.contains(id.version())
    }
}

impl fmt::Display for Dependency {
    /// `group:name[:range]`; a bare `name` when there is neither group nor range, and
    /// `:name:range` for a range without group.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() || !self.range.is_infinite() {
            write!(f, "{}:", self.group)?;
        }
        f.write_str(&self.name)?;
        if !self.range.is_infinite() {
            write!(f, ":{}", self.range)?;
        }
        Ok(())
    }
}

impl PartialEq for Dependency {
    fn eq(&self, other: &Dependency) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Dependency {}

impl std::hash::Hash for Dependency {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_string().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(s: &str) -> Dependency {
        Dependency::parse(s).unwrap().unwrap()
    }

    fn parts(d: &Dependency) -> (&str, &str, &str) {
        (d.group(), d.name(), d.range().as_str())
    }

    /// FileVault's `DependencyTest` and the string forms of reference section 4.3.
    #[test]
    fn single_dependencies() {
        assert_eq!(
            parts(&dep("group:name:[1.0,2.0]")),
            ("group", "name", "[1.0,2.0]")
        );
        assert_eq!(parts(&dep("name")), ("", "name", ""));
        assert_eq!(parts(&dep("group:name")), ("group", "name", ""));
        assert_eq!(
            parts(&dep("foo/bar/group/name")),
            ("foo/bar/group", "name", "")
        );
        assert_eq!(
            parts(&dep("foo/bar/group:name")),
            ("foo/bar/group", "name", "")
        );
        assert_eq!(
            parts(&dep("foo/bar/group/name:[1.0,2.0]")),
            ("foo/bar/group", "name", "[1.0,2.0]")
        );
        assert_eq!(parts(&dep("foo/bar/name:1.0")), ("foo/bar", "name", "1.0"));
        assert_eq!(parts(&dep(":a/b")), ("a", "b", ""));
        assert_eq!(parts(&dep("/etc/packages/g:n")), ("g", "n", ""));
        assert_eq!(parts(&dep("g:n:1.0:ignored")), ("g", "n", "1.0"));
        assert!(Dependency::parse("").unwrap().is_none());
        assert!(matches!(
            Dependency::parse(":"),
            Err(DependencyError::NoName(_))
        ));
        assert!(matches!(
            Dependency::parse("g:n:[2,1]"),
            Err(DependencyError::Range { .. })
        ));
    }

    #[test]
    fn string_forms() {
        let r = VersionRange::parse("[1.0, 2.0]").unwrap();
        assert_eq!(
            Dependency::new("group", "name", r.clone()).to_string(),
            "group:name:[1.0,2.0]"
        );
        assert_eq!(
            Dependency::new("", "name", r).to_string(),
            ":name:[1.0,2.0]"
        );
        assert_eq!(
            Dependency::new("", "name", VersionRange::infinite()).to_string(),
            "name"
        );
        assert_eq!(
            Dependency::new("group", "name", VersionRange::infinite()).to_string(),
            "group:name"
        );
        assert_eq!(
            Dependency::on(&PackageId::new("group", "name", "")).to_string(),
            "group:name"
        );
        assert_eq!(
            Dependency::on(&PackageId::new("g", "n", "1.0")).to_string(),
            "g:n:[1.0,1.0]"
        );
    }

    #[test]
    fn lists_keep_commas_inside_ranges() {
        let d = Dependency::parse_list(
            "name1,group2:name2,group3:name3:1.0,group4:name4:[1.0,2.0],:name5:[1.0,2.0]",
        )
        .unwrap();
        let s: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            s,
            [
                "name1",
                "group2:name2",
                "group3:name3:1.0",
                "group4:name4:[1.0,2.0]",
                ":name5:[1.0,2.0]"
            ]
        );
        let d = Dependency::parse_list("foo,,bar,").unwrap();
        assert_eq!(Dependency::format_list(&d), "foo,bar");
        let d = Dependency::parse_list("a:b:(1,2),c").unwrap();
        assert_eq!(Dependency::format_list(&d), "a:b:(1,2),c");
        assert!(Dependency::parse_list("").unwrap().is_empty());
        // A bracket not right after a colon does not protect the comma.
        let d = Dependency::parse_list("a:b:x[1,2]").unwrap();
        assert_eq!(Dependency::format_list(&d), "a:b:x[1,2]");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].name(), "2]");
        assert!(Dependency::parse_list("a:b:[2,1],c").is_err());
    }

    #[test]
    fn matching() {
        let id = PackageId::parse("apache/jackrabbit/product:jcr-content:5.5.0-SNAPSHOT.20111116")
            .unwrap();
        assert!(dep("apache/jackrabbit/product:jcr-content:[5.5.0-SNAPSHOT,)").matches(&id));
        assert!(dep("g:n:1.0").matches(&PackageId::new("g", "n", "1.2")));
        assert!(!dep("g:n:1.0").matches(&PackageId::new("g", "n", "0.9")));
        assert!(!dep("g:n:1.0").matches(&PackageId::new("h", "n", "1.2")));
        assert!(dep("g:n").matches(&PackageId::new("g", "n", "")));
    }
}
