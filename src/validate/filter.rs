//! `jackrabbit-filter`: the workspace filter on its own and against the content.
//!
//! * `filter.xml` present and well-formed (errors with line and column);
//! * roots absolute and normalised; sets whose roots overlap (the earlier set decides
//!   the import mode of everything both cover);
//! * include/exclude patterns that can never match the root or a path below it;
//! * ancestors of filter roots that are neither well-known roots nor contained;
//! * content nodes the filter does not contain (the topmost one of a subtree only),
//!   ancestors that are not covered, nodes below a `cleanup` set;
//! * include rules that match nothing in the package (orphaned), except in `cleanup`
//!   sets.

use super::{DocCheck, DocNode, Finding, Package, Severity};
use crate::archive::Archive;
use crate::filter::{FilterIssue, WorkspaceFilter};
use crate::location::Location;
use crate::package::FILTER_ENTRY;
use crate::path;
use std::collections::{HashMap, HashSet};

/// The validator id.
pub const ID: &str = "jackrabbit-filter";

/// Roots that every repository has (FileVault's default `validRoots`).
pub const VALID_ROOTS: [&str; 8] = [
    "/",
    "/libs",
    "/apps",
    "/etc",
    "/var",
    "/tmp",
    "/content",
    "/etc/packages",
];

/// Reads `filter.xml`; a missing or malformed one becomes a finding.
pub fn load(archive: &dyn Archive, findings: &mut Vec<Finding>) -> Option<WorkspaceFilter> {
    if archive.entry(FILTER_ENTRY).is_none() {
        findings.push(
            Finding::new(
                Severity::Error,
                ID,
                "the package has no filter.xml: nothing would be installed",
                "add META-INF/vault/filter.xml with a <filter root=\"...\"/> for each content root",
            )
            .in_entry(FILTER_ENTRY),
        );
        return None;
    }
    let bytes = match archive.read_to_vec(FILTER_ENTRY) {
        Ok(b) => b,
        Err(e) => {
            findings.push(Finding::unreadable(
                ID,
                FILTER_ENTRY,
                format!("cannot read filter.xml: {e}"),
            ));
            return None;
        }
    };
    match WorkspaceFilter::parse(&bytes, FILTER_ENTRY) {
        Ok(f) => Some(f),
        Err(e) => {
            let location = e.location();
            let full = e.to_string();
            let prefix = format!("{location}: ");
            let message = full.strip_prefix(&prefix).unwrap_or(&full).to_string();
            findings.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!("invalid filter.xml: {message}"),
                    "correct filter.xml at this place (schemas/filter.xsd describes the format)",
                )
                .at(&location),
            );
            None
        }
    }
}

/// Checks the filter, then the layout against it; the returned check goes on with the
/// DocView elements.
pub fn check<'p>(pkg: &'p Package<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    let filter = pkg.filter.as_ref()?;
    check_filter(filter, out);
    check_root_ancestors(filter, out);
    let mut nodes = NodeCheck::new(filter);
    for (node, entry) in pkg.layout_nodes() {
        let is_folder = node.file.is_none() && node.docview.is_none();
        if nodes.visit(&node.path, entry, None, !is_folder, out) {
            // Placed at the DocView's root element once the file is read.
            if let Some(d) = node.docview {
                nodes
                    .at_root
                    .entry(d.to_string())
                    .or_default()
                    .push(out.len() - 1);
            }
        }
    }
    Some(Box::new(nodes))
}

fn check_filter(filter: &WorkspaceFilter, out: &mut Vec<Finding>) {
    for issue in filter.issues() {
        let loc = issue.location().cloned();
        let node = match &issue {
            FilterIssue::OverlappingRoots { second_root: r, .. }
            | FilterIssue::RootNotNormalized { root: r, .. }
            | FilterIssue::RuleNeverMatches { root: r, .. } => r.clone(),
        };
        let finding = match &issue {
            FilterIssue::OverlappingRoots {
                first,
                first_root,
                second,
                second_root,
                modes_differ,
                ..
            } => Finding::new(
                Severity::Warning,
                ID,
                format!(
                    "filter root '{second_root}' (set {second}) overlaps filter root '{first_root}' (set {first}): \
                     set {first} decides the import mode of every path both cover{}",
                    if *modes_differ { ", and the two modes differ" } else { "" }
                ),
                "merge the two sets into one, or make the later set's root disjoint from the earlier one",
            ),
            FilterIssue::RootNotNormalized {
                set,
                written,
                root,
                reason,
                ..
            } => {
                let absolute = written.as_deref().is_some_and(|w| w.starts_with('/'));
                Finding::new(
                    if absolute { Severity::Warning } else { Severity::Error },
                    ID,
                    format!(
                        "filter root {} (set {set}) {reason}",
                        written.as_deref().map_or("(missing)".to_string(), |w| format!("'{w}'"))
                    ),
                    match path::normalize(root) {
                        Ok(n) if n.starts_with('/') => format!("write root=\"{n}\""),
                        _ => "write the root as an absolute repository path, e.g. root=\"/content/site\"".into(),
                    },
                )
            }
            FilterIssue::RuleNeverMatches {
                set,
                rule,
                root,
                pattern,
                ..
            } => Finding::new(
                Severity::Error,
                ID,
                format!(
                    "pattern '{pattern}' (set {set}, rule {rule}) never matches root '{root}' or a path below it"
                ),
                format!(
                    "patterns match whole absolute paths: start it with the root, e.g. '{}/.*'",
                    root.trim_end_matches('/')
                ),
            ),
        };
        out.push(finding.at_or(loc.as_ref(), FILTER_ENTRY).node(node));
    }
}

/// Ancestors of roots that a repository might not have (FileVault: "not covered by any
/// of the specified dependencies nor a valid root"; dependencies are not resolved
/// here).
fn check_root_ancestors(filter: &WorkspaceFilter, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for set in &filter.sets {
        if set.is_cleanup() {
            continue;
        }
        let root = set.root();
        let Some(parent) = path::parent(root) else {
            continue;
        };
        if VALID_ROOTS.contains(&parent)
            || filter.contains(parent)
            || !seen.insert(parent.to_string())
        {
            continue;
        }
        out.push(
            Finding::new(
                Severity::Warning,
                ID,
                format!(
                    "filter root's ancestor '{parent}' is neither a well-known root nor contained in the filter; \
                     the package relies on it existing"
                ),
                "declare a dependency on the package that provides it, or add a filter set for it",
            )
            .at_or(set.location.as_ref(), FILTER_ENTRY)
            .node(parent),
        );
    }
}

/// The content against the filter: the layout's nodes first, then every DocView
/// element. Besides the findings it remembers only the include rules not yet matched,
/// and the paths that got a finding.
struct NodeCheck<'f> {
    filter: &'f WorkspaceFilter,
    /// Per set (but cleanup sets): its index, the include rules (by position among
    /// its node rules) not yet seen matching a node, and whether it matched any.
    orphaned: Vec<(usize, Vec<usize>, bool)>,
    /// Ancestors already reported as not covered.
    dangling: HashSet<String>,
    /// Paths that got a finding: each path is reported once, where it is first seen.
    reported: HashSet<String>,
    /// The topmost uncontained nodes reported (their subtrees are not reported again).
    uncontained: Vec<String>,
    /// Findings about layout nodes described by a DocView, by DocView entry: they are
    /// placed at the root element when the file is read (else at the entry).
    at_root: HashMap<String, Vec<usize>>,
}

impl<'f> NodeCheck<'f> {
    fn new(filter: &'f WorkspaceFilter) -> NodeCheck<'f> {
        let orphaned = filter
            .sets
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_cleanup())
            .map(|(i, s)| {
                let includes = s
                    .node_rules()
                    .enumerate()
                    .filter(|(_, r)| r.include)
                    .map(|(k, _)| k)
                    .collect();
                (i, includes, false)
            })
            .collect();
        NodeCheck {
            filter,
            orphaned,
            dangling: HashSet::new(),
            reported: HashSet::new(),
            uncontained: Vec::new(),
            at_root: HashMap::new(),
        }
    }

    /// Visits node `p` (from `entry`, at `loc`); `check` says whether the node itself
    /// is checked or only counts for the include rules. True when a finding was
    /// pushed.
    fn visit(
        &mut self,
        p: &str,
        entry: &str,
        loc: Option<&Location>,
        check: bool,
        out: &mut Vec<Finding>,
    ) -> bool {
        let filter = self.filter;
        for (i, includes, used) in self.orphaned.iter_mut() {
            let set = &filter.sets[*i];
            if set.contains(p) {
                *used = true;
                let rules: Vec<_> = set.node_rules().collect();
                includes.retain(|&k| !rules[k].pattern.is_match(p));
            }
        }
        // A path without a finding gets none on a second visit either (the state
        // below only grows), so only the reported paths are remembered.
        if !check || self.reported.contains(p) {
            return false;
        }
        if !filter.contains(p) && !filter.is_ancestor(p) {
            if self.uncontained.iter().any(|u| path::is_descendant(p, u)) {
                return false;
            }
            self.uncontained.push(p.to_string());
        }
        match node_finding(filter, p, &mut self.dangling) {
            Some(f) => {
                self.reported.insert(p.to_string());
                out.push(f.at_or(loc, entry));
                true
            }
            None => false,
        }
    }
}

impl DocCheck for NodeCheck<'_> {
    fn doc(&mut self, _pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        let root = &nodes[0];
        if let Some(found) = self.at_root.remove(&root.file.entry) {
            for i in found {
                out[i] = out[i].clone().at(&root.element.location);
            }
        }
        for n in nodes {
            let check = !n.is_root && !n.element.properties.is_empty();
            self.visit(n.path, &n.file.entry, Some(&n.element.location), check, out);
        }
    }

    fn finish(self: Box<Self>, _pkg: &Package<'_>, out: &mut Vec<Finding>) {
        let filter = self.filter;
        for (i, includes, used) in self.orphaned {
            let set = &filter.sets[i];
            let rules: Vec<_> = set.node_rules().collect();
            if !used {
                out.push(
                    Finding::new(
                        Severity::Warning,
                        ID,
                        format!(
                            "filter set with root '{}' matches nothing in the package (orphaned)",
                            set.root()
                        ),
                        "remove the set, or add the content it is meant to install",
                    )
                    .at_or(set.location.as_ref(), FILTER_ENTRY)
                    .node(set.root()),
                );
                continue;
            }
            for k in includes {
                let rule = rules[k];
                out.push(
                    Finding::new(
                        Severity::Warning,
                        ID,
                        format!(
                            "include pattern '{}' below root '{}' matches nothing in the package (orphaned)",
                            rule.pattern.as_str(),
                            set.root()
                        ),
                        "remove the include, or correct it to match the content it is meant for",
                    )
                    .at_or(rule.location.as_ref().or(set.location.as_ref()), FILTER_ENTRY),
                );
            }
        }
    }
}

fn node_finding(
    filter: &WorkspaceFilter,
    p: &str,
    dangling: &mut HashSet<String>,
) -> Option<Finding> {
    if !filter.contains(p) {
        if filter.is_ancestor(p) {
            let valid = VALID_ROOTS.contains(&p);
            return Some(
                Finding::new(
                    Severity::Warning,
                    ID,
                    if valid {
                        format!("ancestor node '{p}' is not covered by the filter, but is a well-known root")
                    } else {
                        format!("ancestor node '{p}' is not covered by the filter")
                    },
                    if valid {
                        "remove the files that describe this node; they are never installed"
                    } else {
                        "depend on a package that provides this node, or add it to the filter"
                    },
                )
                .node(p),
            );
        }
        return Some(
            Finding::new(
                Severity::Error,
                ID,
                format!("node '{p}' is not contained in any filter set: it is never installed"),
                "add a filter set (or an include) for it, or remove it from the package",
            )
            .node(p),
        );
    }
    if filter.covering_set(p).is_some_and(|s| s.is_cleanup()) {
        return Some(
            Finding::new(
                Severity::Error,
                ID,
                format!("node '{p}' is covered by a 'cleanup' filter set, which is only meant to remove nodes"),
                "move the node out of the cleanup set's root, or remove it from the package",
            )
            .node(p),
        );
    }
    let d = dangling_ancestor(filter, p, dangling)?;
    Some(
        Finding::new(
            Severity::Warning,
            ID,
            format!("ancestor node '{d}' is not covered by the filter"),
            "add the ancestor to the filter (or widen the includes) so the path down to the node is installed",
        )
        .node(d),
    )
}

/// The first ancestor between `p` and its set's root that no set contains (reported
/// once per ancestor).
fn dangling_ancestor(
    filter: &WorkspaceFilter,
    p: &str,
    seen: &mut HashSet<String>,
) -> Option<String> {
    let mut cur = p.to_string();
    loop {
        if seen.contains(&cur) {
            return None;
        }
        match filter.sets.iter().find(|s| s.contains(&cur)) {
            Some(set) => {
                let parent = path::parent(&cur)?.to_string();
                if cur == set.root() || parent == set.root() {
                    return None;
                }
                cur = parent;
            }
            None => {
                seen.insert(cur.clone());
                return Some(cur);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    #[test]
    fn missing_filter_is_an_error() {
        let r = validate(&[("jcr_root/content/a.txt", "x")]);
        let m = messages(&r, ID);
        assert!(
            m[0].starts_with("error: the package has no filter.xml"),
            "{m:?}"
        );
    }

    #[test]
    fn malformed_filter_has_line_and_column() {
        let r = validate(&[(
            "META-INF/vault/filter.xml",
            "<workspaceFilter version=\"1.0\">\n  <filter root=\"/a\" mode=\"bogus\"/>\n</workspaceFilter>",
        )]);
        let f = r.by_validator(ID).next().unwrap();
        assert_eq!(f.line, Some(2));
        assert!(f.column.is_some());
        assert!(f.message.contains("invalid mode"), "{}", f.message);
    }

    #[test]
    fn overlapping_roots_and_dead_patterns() {
        let r = validate(&[(
            "META-INF/vault/filter.xml",
            &filter(
                r#"<filter root="/content/a"><include pattern="/apps/.*"/></filter>
<filter root="/content/a/b"/>"#,
            ),
        )]);
        let m = messages(&r, ID);
        assert!(
            m.iter()
                .any(|m| m.starts_with("warning: filter root '/content/a/b' (set 2) overlaps")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|m| m.starts_with("error: pattern '/apps/.*'")),
            "{m:?}"
        );
    }

    #[test]
    fn relative_root_is_an_error() {
        let r = validate(&[(
            "META-INF/vault/filter.xml",
            &filter(r#"<filter root="content/a"/>"#),
        )]);
        let m = messages(&r, ID);
        assert!(
            m.iter()
                .any(|m| m.starts_with("error: filter root 'content/a'")),
            "{m:?}"
        );
    }

    #[test]
    fn content_outside_the_filter_and_orphans() {
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(
                    r#"<filter root="/content/site"><include pattern="/content/site/en(/.*)?"/><include pattern="/content/site/fr(/.*)?"/></filter>
<filter root="/conf/x"/>"#,
                ),
            ),
            (
                "jcr_root/content/site/en/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            ),
            (
                "jcr_root/content/other/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            ),
        ]);
        let m = messages(&r, ID);
        assert!(m.contains(&"error: node '/content/other' is not contained in any filter set: it is never installed".to_string()), "{m:?}");
        assert!(
            m.iter()
                .any(|m| m.contains("include pattern '/content/site/fr(/.*)?'")
                    && m.contains("orphaned")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("root '/conf/x' matches nothing")),
            "{m:?}"
        );
        assert!(m.iter().any(|m| m.contains("ancestor '/conf'")), "{m:?}");
        assert!(!m.iter().any(|m| m.contains("/content/site/en")), "{m:?}");
    }

    #[test]
    fn uncovered_ancestor_inside_a_set() {
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(
                    r#"<filter root="/content/site"><include pattern="/content/site/a/b"/></filter>"#,
                ),
            ),
            (
                "jcr_root/content/site/a/b/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            ),
        ]);
        let m = messages(&r, ID);
        assert!(
            m.contains(
                &"warning: ancestor node '/content/site/a' is not covered by the filter"
                    .to_string()
            ),
            "{m:?}"
        );
    }

    #[test]
    fn findings_about_a_docview_node_point_at_its_root_element() {
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter(r#"<filter root="/content/a"/>"#)),
            (
                "jcr_root/content/a/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            ),
            (
                "jcr_root/content/b/.content.xml",
                "<?xml version=\"1.0\"?>\n\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" jcr:primaryType=\"nt:unstructured\"/>\n",
            ),
            ("jcr_root/content/c/.content.xml", "<jcr:root"),
        ]);
        let at = |node: &str| {
            r.by_validator(ID)
                .find(|f| f.node_path.as_deref() == Some(node))
                .map(|f| (f.entry.clone().unwrap(), f.line, f.column))
        };
        let b = at("/content/b").expect("a finding for /content/b");
        assert_eq!(b.0, "jcr_root/content/b/.content.xml");
        assert_eq!(b.1, Some(3), "{b:?}");
        assert!(b.2.is_some(), "{b:?}");
        // A file that does not parse: the finding is on the whole entry.
        assert_eq!(
            at("/content/c"),
            Some(("jcr_root/content/c/.content.xml".to_string(), None, None))
        );
    }
}
