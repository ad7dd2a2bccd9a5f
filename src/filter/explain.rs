//! `jcrpack filter explain`: why a filter treats a path the way it does.
//!
//! For one path: every set whose root covers it and which rule decided there (the
//! last matching rule, the default taken from the first rule, or "no rules: whole
//! subtree"), whether the path is contained (any set) and an ancestor of a root, and
//! the import mode with its reason (first covering set, global override, or the
//! `replace` default). [`Explanation`] serialises for `--json` and displays for people.

use std::fmt;

use serde::Serialize;

use super::mode::ImportMode;
use super::model::{Decision, FilterSet, WorkspaceFilter};
use crate::location::Location;

/// The verdict of a filter on one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The path asked about.
    pub path: String,
    /// Some set's root is the path or above it.
    pub covered: bool,
    /// Some set contains the path (node rules).
    pub contained: bool,
    /// The path is `/`, a root, or above a root.
    pub ancestor: bool,
    /// 1-based number of the first set that contains the path.
    pub contained_by: Option<usize>,
    /// Every covering set, in document order, with its decision.
    pub sets: Vec<SetVerdict>,
    /// The import mode that applies to the path.
    pub import_mode: ImportMode,
    /// Why that import mode.
    pub import_mode_reason: ModeReason,
    /// Whether an export visits the path (contained, ancestor, or below a set whose
    /// rules are all relative includes).
    pub export_visited: bool,
    /// If the path names a property: whether the property rules let it through.
    pub property_included: bool,
}

/// What one covering set says about the path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetVerdict {
    /// 1-based number of the set in document order.
    pub set: usize,
    /// The set's root.
    pub root: String,
    /// The set's import mode.
    pub mode: ImportMode,
    /// Where the `<filter>` is.
    pub location: Option<Location>,
    /// Whether this set contains the path.
    pub contained: bool,
    /// Which rule decided.
    pub decision: RuleDecision,
}

/// How the node rules of a set decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum RuleDecision {
    /// The set has no node rules: its whole subtree is contained.
    NoRules,
    /// No rule matched: the default is the opposite of the first rule.
    Default {
        /// 1-based number of the first node rule.
        first_rule: usize,
        /// Whether that first rule is an include.
        first_rule_include: bool,
        /// Its pattern.
        first_rule_pattern: String,
    },
    /// The last matching rule decided.
    LastMatch {
        /// 1-based number of the rule within the set (document order).
        rule: usize,
        /// Include or exclude.
        include: bool,
        /// Its pattern.
        pattern: String,
        /// Where it is.
        location: Option<Location>,
    },
}

/// Why an import mode applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModeReason {
    /// A global import mode was given (install option).
    Override,
    /// The mode of the first set (document order) whose root covers the path.
    FirstCoveringSet {
        /// 1-based number of the set.
        set: usize,
        /// Its root.
        root: String,
    },
    /// No set covers the path; `replace` is the default.
    NotCovered,
}

/// Explains each path (no global import mode).
pub fn explain_paths(filter: &WorkspaceFilter, paths: &[String]) -> Vec<Explanation> {
    paths.iter().map(|p| explain(filter, p, None)).collect()
}

/// Explains one path, with an optional global import mode override.
pub fn explain(filter: &WorkspaceFilter, path: &str, global: Option<ImportMode>) -> Explanation {
    let sets: Vec<SetVerdict> = filter
        .sets
        .iter()
        .enumerate()
        .filter_map(|(index, set)| verdict(index, set, path))
        .collect();
    let contained_by = sets.iter().find(|s| s.contained).map(|s| s.set);
    let covering = filter.covering_set_index(path);
    let import_mode = filter.import_mode(path, global);
    let import_mode_reason = match (global, covering) {
        (Some(_), _) => ModeReason::Override,
        (None, Some(index)) => ModeReason::FirstCoveringSet {
            set: index + 1,
            root: filter.sets[index].root().to_string(),
        },
        (None, None) => ModeReason::NotCovered,
    };
    Explanation {
        path: path.to_string(),
        covered: covering.is_some(),
        contained: contained_by.is_some(),
        ancestor: filter.is_ancestor(path),
        contained_by,
        sets,
        import_mode,
        import_mode_reason,
        export_visited: filter.export_visits(path),
        property_included: filter.includes_property(path),
    }
}

fn verdict(index: usize, set: &FilterSet, path: &str) -> Option<SetVerdict> {
    let decision = set.decide(path, false);
    let rule_decision = match decision {
        Decision::NotCovered => return None,
        Decision::NoRules => RuleDecision::NoRules,
        Decision::Default { .. } => {
            let (first_index, first) = set
                .rules
                .iter()
                .enumerate()
                .find(|(_, r)| !r.match_properties)?;
            RuleDecision::Default {
                first_rule: first_index + 1,
                first_rule_include: first.include,
                first_rule_pattern: first.pattern.as_str().to_string(),
            }
        }
        Decision::Rule { rule, include } => {
            let matched = set.rules.get(rule)?;
            RuleDecision::LastMatch {
                rule: rule + 1,
                include,
                pattern: matched.pattern.as_str().to_string(),
                location: matched.location.clone(),
            }
        }
    };
    Some(SetVerdict {
        set: index + 1,
        root: set.root().to_string(),
        mode: set.mode,
        location: set.location.clone(),
        contained: decision.is_contained(),
        decision: rule_decision,
    })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.path)?;
        writeln!(
            f,
            "  contained: {}, covered: {}, ancestor of a filter root: {}",
            yes_no(self.contained),
            yes_no(self.covered),
            yes_no(self.ancestor)
        )?;
        if self.sets.is_empty() {
            writeln!(f, "  no filter root covers this path")?;
        }
        for set in &self.sets {
            write!(f, "  set {} (root {}, mode {}", set.set, set.root, set.mode)?;
            if let Some(location) = &set.location {
                write!(f, ", {location}")?;
            }
            write!(
                f,
                "): {} - ",
                if set.contained {
                    "contained"
                } else {
                    "excluded"
                }
            )?;
            match &set.decision {
                RuleDecision::NoRules => writeln!(f, "no rules: the whole subtree is contained")?,
                RuleDecision::Default {
                    first_rule,
                    first_rule_include,
                    first_rule_pattern,
                } => writeln!(
                    f,
                    "no rule matches; the first rule (#{first_rule} {} \"{first_rule_pattern}\") makes the default {}",
                    if *first_rule_include { "include" } else { "exclude" },
                    if *first_rule_include { "excluded" } else { "included" }
                )?,
                RuleDecision::LastMatch {
                    rule,
                    include,
                    pattern,
                    location,
                } => {
                    write!(
                        f,
                        "last matching rule #{rule} {} \"{pattern}\"",
                        if *include { "include" } else { "exclude" }
                    )?;
                    match location {
                        Some(location) => writeln!(f, " ({location})")?,
                        None => writeln!(f)?,
                    }
                }
            }
        }
        write!(f, "  import mode: {} (", self.import_mode)?;
        match &self.import_mode_reason {
            ModeReason::Override => write!(f, "global import mode override")?,
            ModeReason::FirstCoveringSet { set, root } => write!(
                f,
                "from set {set}, root {root}, the first set covering the path"
            )?,
            ModeReason::NotCovered => write!(f, "default: no set covers the path")?,
        }
        writeln!(f, ")")?;
        if self.covered && !self.contained && self.ancestor {
            writeln!(
                f,
                "  as an ancestor of a filter root it is created if missing but never changed"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Rule;
    use super::*;

    fn filter() -> WorkspaceFilter {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0">
    <filter root="/conf/app" mode="merge_properties">
        <exclude pattern="/conf/app/settings/conf1(/.*)?"/>
    </filter>
    <filter root="/conf/app/settings/conf1"/>
    <filter root="/tmp">
        <include pattern="/tmp/a(/.*)?"/>
        <exclude pattern="/tmp/a/b(/.*)?"/>
        <include pattern="/tmp/a/.*/jcr:title" matchProperties="true"/>
    </filter>
</workspaceFilter>
"#;
        WorkspaceFilter::parse(xml, "filter.xml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn overlapping_roots_take_the_first_covering_mode() {
        let e = explain(&filter(), "/conf/app/settings/conf1/x", None);
        assert!(e.contained);
        assert_eq!(e.contained_by, Some(2));
        assert_eq!(e.sets.len(), 2);
        assert!(!e.sets[0].contained);
        assert_eq!(e.import_mode, ImportMode::MergeProperties);
        insta::assert_snapshot!(e.to_string(), @r#"
        /conf/app/settings/conf1/x
          contained: yes, covered: yes, ancestor of a filter root: no
          set 1 (root /conf/app, mode merge_properties, filter.xml:3:5): excluded - last matching rule #1 exclude "/conf/app/settings/conf1(/.*)?" (filter.xml:4:9)
          set 2 (root /conf/app/settings/conf1, mode replace, filter.xml:6:5): contained - no rules: the whole subtree is contained
          import mode: merge_properties (from set 1, root /conf/app, the first set covering the path)
        "#);
    }

    #[test]
    fn default_from_first_rule_and_uncovered_paths() {
        let f = filter();
        let e = explain(&f, "/tmp/x", None);
        assert!(!e.contained);
        assert!(e.covered);
        insta::assert_snapshot!(e.to_string(), @r#"
        /tmp/x
          contained: no, covered: yes, ancestor of a filter root: no
          set 3 (root /tmp, mode replace, filter.xml:7:5): excluded - no rule matches; the first rule (#1 include "/tmp/a(/.*)?") makes the default excluded
          import mode: replace (from set 3, root /tmp, the first set covering the path)
        "#);
        let e = explain(&f, "/conf", Some(ImportMode::Update));
        insta::assert_snapshot!(e.to_string(), @r"
        /conf
          contained: no, covered: no, ancestor of a filter root: yes
          no filter root covers this path
          import mode: update (global import mode override)
        ");
        let e = explain(&f, "/tmp", None);
        assert!(e.ancestor && e.covered && !e.contained);
        assert!(e.to_string().contains("never changed"));
    }

    #[test]
    fn json_form() {
        let e = explain_paths(&filter(), &["/tmp/a/b/c".to_string()]);
        insta::assert_json_snapshot!(e, @r#"
        [
          {
            "path": "/tmp/a/b/c",
            "covered": true,
            "contained": false,
            "ancestor": false,
            "containedBy": null,
            "sets": [
              {
                "set": 3,
                "root": "/tmp",
                "mode": "replace",
                "location": {
                  "file": "filter.xml",
                  "line": 7,
                  "column": 5
                },
                "contained": false,
                "decision": {
                  "kind": "last_match",
                  "rule": 2,
                  "include": false,
                  "pattern": "/tmp/a/b(/.*)?",
                  "location": {
                    "file": "filter.xml",
                    "line": 9,
                    "column": 9
                  }
                }
              }
            ],
            "importMode": "replace",
            "importModeReason": {
              "kind": "first_covering_set",
              "set": 3,
              "root": "/tmp"
            },
            "exportVisited": false,
            "propertyIncluded": false
          }
        ]
        "#);
    }

    #[test]
    fn property_rules_are_reported_for_property_paths() {
        let f = filter();
        assert!(explain(&f, "/tmp/a/x/jcr:title", None).property_included);
        assert!(!explain(&f, "/tmp/a/x/other", None).property_included);
        let built =
            WorkspaceFilter::with_sets(vec![FilterSet::new("/a")
                .with_rule(Rule::include("/a/b").unwrap_or_else(|e| panic!("{e}")))]);
        let e = explain(&built, "/a/b", None);
        assert_eq!(
            e.sets[0].decision,
            RuleDecision::LastMatch {
                rule: 1,
                include: true,
                pattern: "/a/b".into(),
                location: None
            }
        );
    }
}
