//! Checks of a filter on its own, for the validators (reference §13 JCRVLT-96, §14
//! `jackrabbit-filter`, `jackrabbit-overlappingfilter`): overlapping roots, roots that
//! are not normalised absolute paths, and rules that can never match within their
//! root. Each finding carries the location of the `<filter>` or rule.

use std::fmt;

use serde::Serialize;

use super::mode::ImportMode;
use super::model::WorkspaceFilter;
use crate::location::Location;
use crate::path;

/// A questionable part of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum FilterIssue {
    /// Two roots overlap (one is equal to or below the other). `contains` is then an
    /// OR of both sets, but the import mode always comes from the earlier set.
    OverlappingRoots {
        /// 1-based number of the earlier set.
        first: usize,
        /// Its root.
        first_root: String,
        /// 1-based number of the later set.
        second: usize,
        /// Its root.
        second_root: String,
        /// Whether the two sets have different import modes (the later one's mode
        /// is ignored inside the earlier one's root).
        modes_differ: bool,
        /// Where the later `<filter>` is.
        location: Option<Location>,
    },
    /// A root that is not a normalised absolute JCR path (relative, empty segments,
    /// a trailing `/`, an `[1]` index, an invalid name, or missing).
    RootNotNormalized {
        /// 1-based number of the set.
        set: usize,
        /// The `root` attribute as written (`None` when absent).
        written: Option<String>,
        /// The root FileVault uses.
        root: String,
        /// What is wrong.
        reason: String,
        /// Where the `<filter>` is.
        location: Option<Location>,
    },
    /// A rule whose pattern matches neither the root nor any path below it, such as
    /// `<filter root="/tmp"><include pattern="/a/b.*"/></filter>`.
    RuleNeverMatches {
        /// 1-based number of the set.
        set: usize,
        /// 1-based number of the rule within the set.
        rule: usize,
        /// The set's root.
        root: String,
        /// The pattern.
        pattern: String,
        /// Where the rule is.
        location: Option<Location>,
    },
}

impl FilterIssue {
    /// Where the issue is, if known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            FilterIssue::OverlappingRoots { location, .. }
            | FilterIssue::RootNotNormalized { location, .. }
            | FilterIssue::RuleNeverMatches { location, .. } => location.as_ref(),
        }
    }
}

impl fmt::Display for FilterIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location() {
            write!(f, "{location}: ")?;
        }
        match self {
            FilterIssue::OverlappingRoots {
                first,
                first_root,
                second,
                second_root,
                modes_differ,
                ..
            } => {
                write!(
                    f,
                    "filter root '{second_root}' (set {second}) overlaps filter root '{first_root}' (set {first}); \
                     paths covered by both take the import mode of set {first}"
                )?;
                if *modes_differ {
                    write!(f, ", and the two sets have different modes")?;
                }
                Ok(())
            }
            FilterIssue::RootNotNormalized { set, written, reason, .. } => write!(
                f,
                "filter root {} (set {set}) {reason}",
                match written {
                    Some(w) => format!("'{w}'"),
                    None => "(missing)".to_string(),
                }
            ),
            FilterIssue::RuleNeverMatches {
                set,
                rule,
                root,
                pattern,
                ..
            } => write!(
                f,
                "pattern '{pattern}' (set {set}, rule {rule}) can never match '{root}' or a path below it \
                 (patterns match whole absolute paths, not paths relative to the root)"
            ),
        }
    }
}

impl WorkspaceFilter {
    /// All issues: overlapping roots, non-normalised roots, rules that never match.
    pub fn issues(&self) -> Vec<FilterIssue> {
        let mut issues = self.overlapping_roots();
        issues.extend(self.non_normalized_roots());
        issues.extend(self.unreachable_rules());
        issues
    }

    /// Pairs of sets whose roots are equal or nested.
    pub fn overlapping_roots(&self) -> Vec<FilterIssue> {
        let mut issues = Vec::new();
        for (i, a) in self.sets.iter().enumerate() {
            for (j, b) in self.sets.iter().enumerate().skip(i + 1) {
                let (ra, rb) = (a.root(), b.root());
                if path::is_self_or_descendant(ra, rb) || path::is_self_or_descendant(rb, ra) {
                    issues.push(FilterIssue::OverlappingRoots {
                        first: i + 1,
                        first_root: ra.to_string(),
                        second: j + 1,
                        second_root: rb.to_string(),
                        modes_differ: a.mode != b.mode,
                        location: b.location.clone(),
                    });
                }
            }
        }
        issues
    }

    /// Sets whose root is not a normalised absolute path.
    pub fn non_normalized_roots(&self) -> Vec<FilterIssue> {
        let mut issues = Vec::new();
        for (i, set) in self.sets.iter().enumerate() {
            let root = set.root();
            let reason = match set.written_root.as_deref() {
                None if set.location.is_some() => {
                    Some("is missing; FileVault uses '/'".to_string())
                }
                Some("") => Some("is empty; FileVault uses '/'".to_string()),
                written => match path::normalize(root) {
                    Err(e) => Some(format!("is not a valid absolute path: {e}")),
                    Ok(normal) if normal != root => {
                        Some(format!("is not normalised (expected '{normal}')"))
                    }
                    Ok(_) => match written {
                        Some(w) if w != root => {
                            Some(format!("has a trailing '/'; FileVault uses '{root}'"))
                        }
                        _ => None,
                    },
                },
            };
            if let Some(reason) = reason {
                issues.push(FilterIssue::RootNotNormalized {
                    set: i + 1,
                    written: set.written_root.clone(),
                    root: root.to_string(),
                    reason,
                    location: set.location.clone(),
                });
            }
        }
        issues
    }

    /// Rules (node and property) that cannot match the root or anything below it.
    pub fn unreachable_rules(&self) -> Vec<FilterIssue> {
        let mut issues = Vec::new();
        for (i, set) in self.sets.iter().enumerate() {
            for (k, rule) in set.rules.iter().enumerate() {
                if rule.pattern.can_match_at_or_below(set.root()) == Some(false) {
                    issues.push(FilterIssue::RuleNeverMatches {
                        set: i + 1,
                        rule: k + 1,
                        root: set.root().to_string(),
                        pattern: rule.pattern.as_str().to_string(),
                        location: rule.location.clone(),
                    });
                }
            }
        }
        issues
    }

    /// The import modes used by the sets, in document order, without repetitions.
    pub fn modes(&self) -> Vec<ImportMode> {
        let mut modes = Vec::new();
        for set in &self.sets {
            if !modes.contains(&set.mode) {
                modes.push(set.mode);
            }
        }
        modes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> WorkspaceFilter {
        WorkspaceFilter::parse(xml.as_bytes(), "filter.xml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn finds_overlapping_roots() {
        let f = parse(
            r#"<workspaceFilter version="1.0">
    <filter root="/conf/app" mode="merge_properties"/>
    <filter root="/conf/app/settings"/>
    <filter root="/conf/other"/>
    <filter root="/conf/app"/>
</workspaceFilter>"#,
        );
        let issues = f.overlapping_roots();
        assert_eq!(issues.len(), 3);
        insta::assert_snapshot!(issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"), @"
        filter.xml:3:5: filter root '/conf/app/settings' (set 2) overlaps filter root '/conf/app' (set 1); paths covered by both take the import mode of set 1, and the two sets have different modes
        filter.xml:5:5: filter root '/conf/app' (set 4) overlaps filter root '/conf/app' (set 1); paths covered by both take the import mode of set 1, and the two sets have different modes
        filter.xml:5:5: filter root '/conf/app' (set 4) overlaps filter root '/conf/app/settings' (set 2); paths covered by both take the import mode of set 2
        ");
        assert!(parse(
            r#"<workspaceFilter><filter root="/a"/><filter root="/ab"/></workspaceFilter>"#
        )
        .overlapping_roots()
        .is_empty());
    }

    #[test]
    fn finds_roots_that_are_not_normalised() {
        let f = parse(
            r#"<workspaceFilter version="1.0">
    <filter root="/ok/jcr:content"/>
    <filter root="invalidroot"/>
    <filter root="/a/"/>
    <filter root="/a//b"/>
    <filter root="/a/b[1]"/>
    <filter root=""/>
    <filter/>
</workspaceFilter>"#,
        );
        let issues = f.non_normalized_roots();
        insta::assert_snapshot!(issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"), @"
        filter.xml:3:5: filter root 'invalidroot' (set 2) is not a valid absolute path: 'invalidroot' is not an absolute path (it must start with '/')
        filter.xml:4:5: filter root '/a/' (set 3) has a trailing '/'; FileVault uses '/a'
        filter.xml:5:5: filter root '/a//b' (set 4) is not a valid absolute path: '/a//b' has an empty segment
        filter.xml:6:5: filter root '/a/b[1]' (set 5) is not normalised (expected '/a/b')
        filter.xml:7:5: filter root '' (set 6) is empty; FileVault uses '/'
        filter.xml:8:5: filter root (missing) (set 7) is missing; FileVault uses '/'
        ");
    }

    #[test]
    fn finds_rules_that_never_match() {
        let f = parse(
            r#"<workspaceFilter version="1.0">
    <filter root="/tmp">
        <include pattern="/a/b.*"/>
        <include pattern="/tmp/a(/.*)?"/>
        <exclude pattern=".*/foo"/>
        <exclude pattern="/var/.*" matchProperties="true"/>
    </filter>
</workspaceFilter>"#,
        );
        let issues = f.unreachable_rules();
        insta::assert_snapshot!(issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"), @"
        filter.xml:3:9: pattern '/a/b.*' (set 1, rule 1) can never match '/tmp' or a path below it (patterns match whole absolute paths, not paths relative to the root)
        filter.xml:6:9: pattern '/var/.*' (set 1, rule 4) can never match '/tmp' or a path below it (patterns match whole absolute paths, not paths relative to the root)
        ");
        assert_eq!(f.issues().len(), 2);
        assert_eq!(f.modes(), vec![ImportMode::Replace]);
    }
}
