//! The filter model and FileVault's questions of it (reference §2.2–2.6).

use super::mode::ImportMode;
use super::pattern::{Pattern, PatternError};
use super::version::FilterVersion;
use crate::location::Location;

/// One `<include>` or `<exclude>` of a filter set.
///
/// Equality ignores [`Rule::location`].
#[derive(Debug, Clone)]
pub struct Rule {
    /// `true` for `<include>`, `false` for `<exclude>`.
    pub include: bool,
    /// The Java regular expression, matched against whole absolute paths.
    pub pattern: Pattern,
    /// `matchProperties="true"`: the rule applies to property paths, not node paths.
    pub match_properties: bool,
    /// Where the rule was read from, if it was read from a file.
    pub location: Option<Location>,
}

impl Rule {
    /// A node rule (`matchProperties` false).
    pub fn new(include: bool, pattern: &str) -> Result<Rule, PatternError> {
        Ok(Rule {
            include,
            pattern: Pattern::new(pattern)?,
            match_properties: false,
            location: None,
        })
    }

    /// `<include pattern="..."/>`.
    pub fn include(pattern: &str) -> Result<Rule, PatternError> {
        Rule::new(true, pattern)
    }

    /// `<exclude pattern="..."/>`.
    pub fn exclude(pattern: &str) -> Result<Rule, PatternError> {
        Rule::new(false, pattern)
    }

    /// The same rule with `matchProperties="true"`.
    pub fn for_properties(mut self) -> Rule {
        self.match_properties = true;
        self
    }

    /// `include` or `exclude`.
    pub fn kind(&self) -> &'static str {
        if self.include {
            "include"
        } else {
            "exclude"
        }
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.include == other.include
            && self.match_properties == other.match_properties
            && self.pattern == other.pattern
    }
}

impl Eq for Rule {}

/// How a filter set decided about one path (see [`FilterSet::decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The path is not below (or at) the set's root.
    NotCovered,
    /// Covered, and the set has no rules of the kind asked about: the whole subtree
    /// is contained.
    NoRules,
    /// No rule matched; the default is the opposite of the first rule (`include` is
    /// the resulting answer).
    Default {
        /// Whether the path is contained.
        include: bool,
    },
    /// The last matching rule decided; `rule` indexes [`FilterSet::rules`].
    Rule {
        /// Index into [`FilterSet::rules`] (document order, both kinds).
        rule: usize,
        /// Whether the path is contained.
        include: bool,
    },
}

impl Decision {
    /// Whether the decision is "contained".
    pub fn is_contained(self) -> bool {
        match self {
            Decision::NotCovered => false,
            Decision::NoRules => true,
            Decision::Default { include } | Decision::Rule { include, .. } => include,
        }
    }
}

/// One `<filter>`: a root, an import mode, an optional type and rules in document
/// order. FileVault splits the rules into a *node* set (rules without
/// `matchProperties`) and a *property* set (rules with it), both with this root and
/// mode; [`FilterSet::node_rules`] and [`FilterSet::property_rules`] are those sets.
///
/// Equality compares root, mode, type and rules (not the source locations).
#[derive(Debug, Clone)]
pub struct FilterSet {
    /// FileVault's internal root: the `root` attribute with one trailing `/` removed
    /// (so `/` is stored as the empty string). See [`FilterSet::root`].
    root: String,
    /// The import mode (`replace` when absent).
    pub mode: ImportMode,
    /// The `type` attribute, verbatim (only `cleanup` has a meaning). `None` when
    /// the attribute is absent or empty.
    pub kind: Option<String>,
    /// Include and exclude rules in document order (node and property rules mixed).
    pub rules: Vec<Rule>,
    /// Where the `<filter>` element was read from.
    pub location: Option<Location>,
    /// The `root` attribute exactly as written (`None`: absent or built in code).
    pub written_root: Option<String>,
}

impl PartialEq for FilterSet {
    fn eq(&self, other: &FilterSet) -> bool {
        self.root == other.root
            && self.mode == other.mode
            && self.kind == other.kind
            && self.rules == other.rules
    }
}

impl Eq for FilterSet {}

/// The `type` value that marks a set as a cleanup filter.
pub const TYPE_CLEANUP: &str = "cleanup";

/// Whether `path` equals `prefix` followed by `/` and anything.
fn starts_with_then_slash(path: &str, prefix: &str) -> bool {
    path.len() > prefix.len()
        && path.starts_with(prefix)
        && path.as_bytes().get(prefix.len()) == Some(&b'/')
}

impl FilterSet {
    /// A set with the given root (an empty root means `/`; one trailing `/` is
    /// removed, as FileVault does), mode `replace`, no type and no rules.
    pub fn new(root: &str) -> FilterSet {
        let mut set = FilterSet {
            root: String::new(),
            mode: ImportMode::Replace,
            kind: None,
            rules: Vec::new(),
            location: None,
            written_root: None,
        };
        set.set_root(root);
        set
    }

    /// Replaces the root (same normalisation as [`FilterSet::new`]).
    pub fn set_root(&mut self, root: &str) {
        self.root = root.strip_suffix('/').unwrap_or(root).to_string();
    }

    /// The root path as FileVault reports and writes it (`/` for the root node).
    pub fn root(&self) -> &str {
        if self.root.is_empty() {
            "/"
        } else {
            &self.root
        }
    }

    /// Builder: sets the mode.
    pub fn with_mode(mut self, mode: ImportMode) -> FilterSet {
        self.mode = mode;
        self
    }

    /// Builder: sets the `type`.
    pub fn with_kind(mut self, kind: &str) -> FilterSet {
        self.kind = Some(kind.to_string());
        self
    }

    /// Builder: appends a rule.
    pub fn with_rule(mut self, rule: Rule) -> FilterSet {
        self.rules.push(rule);
        self
    }

    /// Whether this is a `type="cleanup"` set.
    pub fn is_cleanup(&self) -> bool {
        self.kind.as_deref() == Some(TYPE_CLEANUP)
    }

    /// The node rules (without `matchProperties`), in document order.
    pub fn node_rules(&self) -> impl Iterator<Item = &Rule> + Clone {
        self.rules.iter().filter(|r| !r.match_properties)
    }

    /// The property rules (`matchProperties="true"`), in document order.
    pub fn property_rules(&self) -> impl Iterator<Item = &Rule> + Clone {
        self.rules.iter().filter(|r| r.match_properties)
    }

    /// Whether the set covers `path`: the path is the root or lies below it (the
    /// root `/` covers every absolute path).
    pub fn covers(&self, path: &str) -> bool {
        path == self.root || starts_with_then_slash(path, &self.root)
    }

    /// Whether `path` is the root, `/`, or an ancestor of the root.
    pub fn is_ancestor(&self, path: &str) -> bool {
        path == self.root || path == "/" || starts_with_then_slash(&self.root, path)
    }

    /// How the node rules (or, with `properties`, the property rules) decide about
    /// `path`: not covered; no rules (contained); the last matching rule; or, when none
    /// matches, the opposite of the first rule.
    pub fn decide(&self, path: &str, properties: bool) -> Decision {
        if !self.covers(path) {
            return Decision::NotCovered;
        }
        let mut rules = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.match_properties == properties)
            .peekable();
        let Some((_, first)) = rules.peek() else {
            return Decision::NoRules;
        };
        let mut decision = Decision::Default {
            include: !first.include,
        };
        for (index, rule) in rules {
            if rule.pattern.is_match(path) {
                decision = Decision::Rule {
                    rule: index,
                    include: rule.include,
                };
            }
        }
        decision
    }

    /// Whether the node set contains the node `path` (covered and accepted).
    pub fn contains(&self, path: &str) -> bool {
        self.decide(path, false).is_contained()
    }

    /// Whether the property set contains the property `path`.
    pub fn contains_property(&self, path: &str) -> bool {
        self.decide(path, true).is_contained()
    }

    /// The name of the child of `path` on the way down to this set's root (FileVault's
    /// `getDirectChildNameTowardsFilterRoot`, used to import those children first):
    /// `Some(name)` when the root lies below `path`, `Some("")` when the two are
    /// unrelated, `None` when `path` is the root or below it (every child may matter).
    /// A trailing `/` on `path` is ignored.
    pub fn direct_child_towards_root(&self, path: &str) -> Option<String> {
        // Both compared as if they ended in one `/` more than their last one
        // (`/a` as `/a/`), without making those strings.
        let root = self.root.strip_suffix('/').unwrap_or(&self.root);
        let path = path.strip_suffix('/').unwrap_or(path);
        let below = |longer: &str, shorter: &str| {
            longer.len() > shorter.len()
                && longer.starts_with(shorter)
                && longer.as_bytes()[shorter.len()] == b'/'
        };
        if root == path {
            None
        } else if below(root, path) {
            let rest = &root[path.len() + 1..];
            Some(rest.split('/').next().unwrap_or_default().to_string())
        } else if below(path, root) {
            None
        } else {
            Some(String::new())
        }
    }

    /// Whether all node rules are relative includes (`.*/rep:policy`); also true when
    /// there are no node rules. Such a set is exported by visiting every descendant.
    pub fn has_only_relative_patterns(&self) -> bool {
        self.node_rules()
            .all(|r| r.include && !r.pattern.is_absolute())
    }
}

/// A workspace filter: the `<filter>` sets of a `filter.xml` in document order.
///
/// A filter read from XML remembers its bytes; as long as the sets and version are
/// unchanged, [`WorkspaceFilter::to_xml`] returns them byte for byte (comments and
/// formatting kept). Equality compares version and sets only.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceFilter {
    /// The filter sets in document order.
    pub sets: Vec<FilterSet>,
    /// The `version` attribute (1.0 when absent).
    pub version: FilterVersion,
    /// The bytes this filter was read from, and the model they produced.
    pub(super) source: Option<Source>,
}

/// The original bytes of a loaded filter and the model read from them.
#[derive(Debug, Clone)]
pub(super) struct Source {
    pub(super) bytes: Vec<u8>,
    pub(super) version: FilterVersion,
    pub(super) sets: Vec<FilterSet>,
}

impl PartialEq for WorkspaceFilter {
    fn eq(&self, other: &WorkspaceFilter) -> bool {
        self.version == other.version && self.sets == other.sets
    }
}

impl Eq for WorkspaceFilter {}

impl WorkspaceFilter {
    /// An empty filter (no sets, version 1.0).
    pub fn new() -> WorkspaceFilter {
        WorkspaceFilter::default()
    }

    /// A filter with the given sets.
    pub fn with_sets(sets: Vec<FilterSet>) -> WorkspaceFilter {
        WorkspaceFilter {
            sets,
            ..WorkspaceFilter::default()
        }
    }

    /// Whether the filter was read from XML and is still unchanged (so it is written
    /// back as the original bytes).
    pub fn is_unmodified(&self) -> bool {
        self.source
            .as_ref()
            .is_some_and(|s| s.version == self.version && s.sets == self.sets)
    }

    /// The original bytes, if the filter was read from XML.
    pub fn source_bytes(&self) -> Option<&[u8]> {
        self.source.as_ref().map(|s| s.bytes.as_slice())
    }

    /// Forgets the original bytes: the next write produces the canonical form.
    pub fn reset_source(&mut self) {
        self.source = None;
    }

    /// Whether any set covers `path`.
    pub fn covers(&self, path: &str) -> bool {
        self.sets.iter().any(|s| s.covers(path))
    }

    /// Whether any set contains the node `path` (an OR over all sets, not the first
    /// covering set).
    pub fn contains(&self, path: &str) -> bool {
        self.sets.iter().any(|s| s.contains(path))
    }

    /// Whether `path` is an ancestor of (or equal to) some root, or `/`.
    pub fn is_ancestor(&self, path: &str) -> bool {
        self.sets.iter().any(|s| s.is_ancestor(path))
    }

    /// The first set in document order that covers `path`.
    pub fn covering_set(&self, path: &str) -> Option<&FilterSet> {
        self.sets.iter().find(|s| s.covers(path))
    }

    /// The index of the first set that covers `path`.
    pub fn covering_set_index(&self, path: &str) -> Option<usize> {
        self.sets.iter().position(|s| s.covers(path))
    }

    /// The import mode for `path`: the global override if given, else the mode of the
    /// first covering set, else `replace`.
    pub fn import_mode(&self, path: &str, global: Option<ImportMode>) -> ImportMode {
        if let Some(mode) = global {
            return mode;
        }
        self.covering_set(path)
            .map_or(ImportMode::Replace, |s| s.mode)
    }

    /// Whether the property at `property_path` passes the filter: properties that no
    /// set covers always pass; covered ones must be contained by some set's property
    /// rules (a set without property rules contains every property below its root).
    pub fn includes_property(&self, property_path: &str) -> bool {
        if !self.covers(property_path) {
            return true;
        }
        self.sets.iter().any(|s| s.contains_property(property_path))
    }

    /// The names of the children of `path` that lead towards some root, in set order
    /// without repetitions, or `None` when `path` is at or below a root (FileVault's
    /// `getDirectChildNamesTowardsFilterRoots`).
    pub fn direct_child_names_towards_roots(&self, path: &str) -> Option<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        for set in &self.sets {
            let name = set.direct_child_towards_root(path)?;
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        Some(names)
    }

    /// Whether an export visits the node `path` (§2.6): contained nodes, ancestors of
    /// roots, and every node covered by a first covering set whose node rules are
    /// all relative includes (only contained ones of those are written).
    pub fn export_visits(&self, path: &str) -> bool {
        if self.contains(path) || self.is_ancestor(path) {
            return true;
        }
        self.covering_set(path)
            .is_some_and(FilterSet::has_only_relative_patterns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(include: bool, pattern: &str) -> Rule {
        Rule::new(include, pattern).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `WorkspaceFilterTest.testMatching` (reference §2.4 test vector).
    #[test]
    fn workspace_filter_test_matching() {
        let filter = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/foo"),
            FilterSet::new("/tmp")
                .with_rule(rule(true, "/tmp(/.*)?"))
                .with_rule(rule(false, "/tmp/foo(/.*)?")),
        ]);
        assert!(filter.contains("/foo"));
        assert!(filter.contains("/foo/bar"));
        assert!(filter.contains("/tmp"));
        assert!(filter.contains("/tmp/bar"));
        assert!(!filter.contains("/tmp/foo"));
        assert!(!filter.contains("/tmp/foo/bar"));
        assert!(!filter.contains("/"));
        assert!(!filter.contains("/bar"));
        assert!(filter.covers("/foo"));
        assert!(filter.covers("/tmp"));
        assert!(filter.covers("/tmp/foo"));
    }

    #[test]
    fn covers_and_ancestors() {
        let set = FilterSet::new("/content/site");
        assert!(set.covers("/content/site"));
        assert!(set.covers("/content/site/en"));
        assert!(!set.covers("/content/sitex"));
        assert!(!set.covers("/content"));
        assert!(set.is_ancestor("/"));
        assert!(set.is_ancestor("/content"));
        assert!(set.is_ancestor("/content/site"));
        assert!(!set.is_ancestor("/content/site/en"));
        assert!(!set.is_ancestor("/cont"));
        let root = FilterSet::new("/");
        assert_eq!(root.root(), "/");
        assert!(root.covers("/"));
        assert!(root.covers("/anything/below"));
        assert!(root.is_ancestor("/"));
        assert!(!root.is_ancestor("/a"));
        assert!(FilterSet::new("").covers("/x"));
        assert_eq!(FilterSet::new("").root(), "/");
    }

    #[test]
    fn trailing_slash_is_stripped_once() {
        let set = FilterSet::new("/a/");
        assert_eq!(set.root(), "/a");
        assert!(set.covers("/a/b"));
        assert_eq!(set, FilterSet::new("/a"));
        // FileVault strips only one slash: "/a//" keeps "/a/" and then covers only
        // paths starting with "/a//".
        let odd = FilterSet::new("/a//");
        assert_eq!(odd.root(), "/a/");
        assert!(!odd.covers("/a/b"));
        // A relative root covers no absolute path.
        assert!(!FilterSet::new("invalidroot").covers("/invalidroot"));
    }

    #[test]
    fn default_depends_on_first_rule_and_last_match_wins() {
        let first_include = FilterSet::new("/a").with_rule(rule(true, "/a/b(/.*)?"));
        assert!(!first_include.contains("/a"));
        assert!(first_include.contains("/a/b/c"));
        assert_eq!(
            first_include.decide("/a/x", false),
            Decision::Default { include: false }
        );
        let first_exclude = FilterSet::new("/a").with_rule(rule(false, "/a/b(/.*)?"));
        assert!(first_exclude.contains("/a"));
        assert!(!first_exclude.contains("/a/b"));
        let later_overrides = FilterSet::new("/a")
            .with_rule(rule(false, "/a/.*"))
            .with_rule(rule(true, "/a/b"));
        assert_eq!(
            later_overrides.decide("/a/b", false),
            Decision::Rule {
                rule: 1,
                include: true
            }
        );
        assert_eq!(
            FilterSet::new("/a").decide("/a/b", false),
            Decision::NoRules
        );
        assert_eq!(
            FilterSet::new("/a").decide("/b", false),
            Decision::NotCovered
        );
    }

    /// Patterns are not relative to the root (§2.3).
    #[test]
    fn patterns_are_absolute_paths_not_root_relative() {
        let set = FilterSet::new("/tmp").with_rule(rule(true, "/a/b.*"));
        assert!(!set.contains("/tmp/a/b"));
        assert!(!set.contains("/a/b"));
    }

    #[test]
    fn node_and_property_rules_are_separate_sets() {
        let set = FilterSet::new("/tmp")
            .with_rule(rule(true, "/tmp/a(/.*)?"))
            .with_rule(rule(false, "/tmp/a/jcr:title").for_properties());
        assert_eq!(set.node_rules().count(), 1);
        assert_eq!(set.property_rules().count(), 1);
        assert!(set.contains("/tmp/a"));
        assert!(!set.contains("/tmp/b"));
        assert!(!set.contains_property("/tmp/a/jcr:title"));
        assert!(set.contains_property("/tmp/b/other"));
        // Only property rules: the node set is empty, every node is contained.
        let props_only =
            FilterSet::new("/tmp").with_rule(rule(false, ".*/secret").for_properties());
        assert!(props_only.contains("/tmp/x"));
        assert!(!props_only.contains_property("/tmp/x/secret"));
    }

    #[test]
    fn includes_property() {
        let filter = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/tmp").with_rule(rule(false, "/tmp/foo/p.*").for_properties())
        ]);
        assert!(filter.includes_property("/other/prop"));
        assert!(!filter.includes_property("/tmp/foo/prop"));
        assert!(filter.includes_property("/tmp/foo/jcr:title"));
        assert!(filter.includes_property("/tmp/bar/prop"));
    }

    /// Overlapping roots: contains is an OR, the mode comes from the first covering set.
    #[test]
    fn overlapping_roots_docs_example() {
        let filter = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/conf/app")
                .with_mode(ImportMode::MergeProperties)
                .with_rule(rule(false, "/conf/app/settings/conf1(/.*)?")),
            FilterSet::new("/conf/app/settings/conf1"),
        ]);
        let path = "/conf/app/settings/conf1/x";
        assert!(filter.contains(path));
        assert_eq!(filter.covering_set_index(path), Some(0));
        assert_eq!(filter.import_mode(path, None), ImportMode::MergeProperties);
        assert_eq!(
            filter.import_mode(path, Some(ImportMode::Update)),
            ImportMode::Update
        );
        assert_eq!(filter.import_mode("/elsewhere", None), ImportMode::Replace);
    }

    #[test]
    fn relative_patterns() {
        // WorkspaceFilterTest.testRelativePatterns
        let set1 = FilterSet::new("/foo")
            .with_rule(rule(true, "/foo/.*"))
            .with_rule(rule(true, "/bar/.*"));
        assert!(!set1.has_only_relative_patterns());
        let set2 = FilterSet::new("/foo")
            .with_rule(rule(true, ".*/foo/.*"))
            .with_rule(rule(true, ".*/bar/.*"));
        assert!(set2.has_only_relative_patterns());
        let set3 = FilterSet::new("/foo")
            .with_rule(rule(true, ".*/foo/.*"))
            .with_rule(rule(true, "/.*/bar/.*"));
        assert!(!set3.has_only_relative_patterns());
        let quoted = FilterSet::new("/foo").with_rule(rule(true, r"\Q/foo\E.*"));
        assert!(!quoted.has_only_relative_patterns());
        let exclude = FilterSet::new("/foo").with_rule(rule(false, ".*/x"));
        assert!(!exclude.has_only_relative_patterns());
    }

    /// §2.6: `/tmp/b/c` is not exported because `/tmp/b` is neither contained nor an
    /// ancestor; with only relative includes every descendant is visited.
    #[test]
    fn export_traversal() {
        let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/tmp")
            .with_rule(rule(true, "/tmp/a(/.*)?"))
            .with_rule(rule(true, "/tmp/b/c(/.*)?"))]);
        assert!(filter.export_visits("/"));
        assert!(filter.export_visits("/tmp"));
        assert!(filter.export_visits("/tmp/a/x"));
        assert!(!filter.export_visits("/tmp/b"));
        assert!(filter.contains("/tmp/b/c"));
        let acl = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/content").with_rule(rule(true, ".*/rep:policy"))
        ]);
        assert!(acl.export_visits("/content/a/b"));
        assert!(!acl.contains("/content/a/b"));
        assert!(acl.contains("/content/a/rep:policy"));
        assert!(!acl.export_visits("/other"));
    }

    /// DefaultPathFilterTest.testFilterSetGetDirectChildNameTowardsFilterRoot
    #[test]
    fn direct_child_towards_root() {
        let set = FilterSet::new("/a/b/c/d");
        assert_eq!(
            set.direct_child_towards_root("/a/b/c").as_deref(),
            Some("d")
        );
        assert_eq!(
            set.direct_child_towards_root("/a/b/c/").as_deref(),
            Some("d")
        );
        assert_eq!(set.direct_child_towards_root("/a/b").as_deref(), Some("c"));
        assert_eq!(set.direct_child_towards_root("/a/b/").as_deref(), Some("c"));
        assert_eq!(set.direct_child_towards_root("/a/b/c/d/"), None);
        assert_eq!(set.direct_child_towards_root("/a/b/c/d/e"), None);
        assert_eq!(set.direct_child_towards_root("/a/b/c/d/e/"), None);
        assert_eq!(
            set.direct_child_towards_root("/foo/bar").as_deref(),
            Some("")
        );
        assert_eq!(
            set.direct_child_towards_root("/foo/bar/").as_deref(),
            Some("")
        );
        assert_eq!(
            FilterSet::new("/a")
                .direct_child_towards_root("/")
                .as_deref(),
            Some("a")
        );
        assert_eq!(FilterSet::new("/").direct_child_towards_root("/"), None);
    }

    /// The comparison without made strings answers as the one that appended the
    /// `/` did, for roots and paths with and without trailing slashes.
    #[test]
    fn direct_child_towards_root_agrees_with_appending_slashes() {
        let with_slash = |p: &str| match p.ends_with('/') {
            true => p.to_string(),
            false => format!("{p}/"),
        };
        let by_strings = |root: &str, path: &str| {
            let (root, path) = (with_slash(root), with_slash(path));
            if root == path {
                None
            } else if let Some(rest) = root.strip_prefix(path.as_str()) {
                Some(rest.split('/').next().unwrap_or_default().to_string())
            } else if path.starts_with(root.as_str()) {
                None
            } else {
                Some(String::new())
            }
        };
        let all = [
            "", "/", "//", "/a", "/a/", "/a//", "/ab", "/a/b", "/a/b/", "/a/bc", "/a/b/c", "/b",
            "/a/b//c",
        ];
        for root in all {
            for path in all {
                let set = FilterSet::new(root);
                assert_eq!(
                    set.direct_child_towards_root(path),
                    by_strings(&set.root, path),
                    "root {root:?}, path {path:?}"
                );
            }
        }
    }

    /// WorkspaceFilterTest.testGetDirectChildNamesTowardsFilterRoots
    #[test]
    fn direct_child_names_towards_roots() {
        let empty = WorkspaceFilter::new();
        assert_eq!(empty.direct_child_names_towards_roots("/x"), Some(vec![]));
        let trivial = WorkspaceFilter::with_sets(vec![FilterSet::new("/a/b")]);
        assert_eq!(
            trivial.direct_child_names_towards_roots("/a"),
            Some(vec!["b".to_string()])
        );
        assert_eq!(
            trivial.direct_child_names_towards_roots("/a/"),
            Some(vec!["b".to_string()])
        );
        for below in ["/a/b", "/a/b/", "/a/b/c", "/a/b/c/"] {
            assert_eq!(
                trivial.direct_child_names_towards_roots(below),
                None,
                "{below}"
            );
        }
        assert!(trivial.covering_set("/unrelated").is_none());
        let two = WorkspaceFilter::with_sets(vec![FilterSet::new("/a/b"), FilterSet::new("/c/d")]);
        assert_eq!(
            two.direct_child_names_towards_roots("/a"),
            Some(vec!["b".to_string()])
        );
        assert_eq!(
            two.direct_child_names_towards_roots("/c/"),
            Some(vec!["d".to_string()])
        );
        let shared = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/x/b"),
            FilterSet::new("/x/a"),
            FilterSet::new("/x/b/c"),
        ]);
        assert_eq!(
            shared.direct_child_names_towards_roots("/x"),
            Some(vec!["b".to_string(), "a".to_string()])
        );
    }

    #[test]
    fn zero_sets() {
        let filter = WorkspaceFilter::new();
        assert!(!filter.covers("/"));
        assert!(!filter.contains("/a"));
        assert!(!filter.is_ancestor("/"));
        assert!(filter.includes_property("/a/b"));
        assert_eq!(filter.import_mode("/a", None), ImportMode::Replace);
    }

    #[test]
    fn equality_ignores_locations() {
        let mut a = FilterSet::new("/a").with_rule(rule(true, "/a"));
        let b = a.clone();
        a.location = Some(Location::at("f", 1, 2));
        a.rules[0].location = Some(Location::at("f", 3, 4));
        assert_eq!(a, b);
        assert_ne!(a.clone().with_mode(ImportMode::Merge), b);
        assert_ne!(a.clone().with_kind("cleanup"), b);
    }
}
