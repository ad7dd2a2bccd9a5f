//! `jackrabbit-emptyelements`: elements without attributes only order an existing
//! node; they never replace it (JCRVLT-251). Below a `replace` filter root that is
//! rarely what the author meant, unless the node comes from elsewhere in the package
//! (its own folder, file or another DocView element with properties). `rep:policy`
//! elements are left alone.

use super::{Finding, Package, Severity};
use crate::filter::ImportMode;
use crate::path;
use std::collections::HashSet;

/// The validator id.
pub const ID: &str = "jackrabbit-emptyelements";

/// Reports ordering-only elements in `replace` sets that nothing else in the package
/// provides.
pub fn check(pkg: &Package<'_>, out: &mut Vec<Finding>) {
    let Some(filter) = &pkg.filter else { return };
    let roots: Vec<&str> = filter
        .sets
        .iter()
        .filter(|s| s.mode == ImportMode::Replace)
        .map(|s| s.root())
        .collect();
    let affected = |p: &str| roots.iter().any(|r| path::is_self_or_descendant(p, r));
    let mut non_empty: HashSet<&str> = HashSet::new();
    let mut empty = Vec::new();
    let nodes = pkg.nodes();
    for n in &nodes {
        if !affected(n.path) {
            continue;
        }
        if n.element.properties.is_empty()
            && filter.contains(n.path)
            && filter.import_mode(n.path, None) == ImportMode::Replace
        {
            if n.element.name != "rep:policy" {
                empty.push(n);
            }
        } else {
            non_empty.insert(n.path);
        }
    }
    let layout = pkg.layout_nodes();
    for (node, _) in &layout {
        if affected(&node.path) {
            non_empty.insert(node.path.as_str());
        }
    }
    for n in empty {
        if non_empty.contains(n.path) {
            continue;
        }
        out.push(
            Finding::new(
                Severity::Error,
                ID,
                format!(
                    "element '{}' has no attributes: it only orders an existing node and does not replace it, \
                     although it is in a replace filter and nothing else in the package provides it",
                    n.path
                ),
                "remove the element, or give it at least jcr:primaryType so that it is really replaced",
            )
            .at(&n.element.location)
            .node(n.path),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(filter_sets: &str, extra: &[(&str, &str)]) -> Vec<String> {
        let f = filter(filter_sets);
        let body = docview(
            r#"jcr:primaryType="nt:unstructured"><a/><b/><rep:policy/><c jcr:primaryType="nt:unstructured"/>"#,
        );
        let mut files = vec![
            ("META-INF/vault/filter.xml", f.as_str()),
            ("jcr_root/content/x/.content.xml", body.as_str()),
        ];
        files.extend_from_slice(extra);
        messages(&validate(&files), ID)
    }

    #[test]
    fn empty_elements_in_replace_mode() {
        let m = run(
            r#"<filter root="/content/x"/>"#,
            &[(
                "jcr_root/content/x/b/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            )],
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("'/content/x/a'"), "{m:?}");
    }

    #[test]
    fn merge_mode_is_fine() {
        assert!(run(r#"<filter root="/content/x" mode="merge"/>"#, &[]).is_empty());
    }

    #[test]
    fn excluded_children_are_fine() {
        let m = run(
            r#"<filter root="/content/x"><include pattern="/content/x"/><include pattern="/content/x/c"/></filter>"#,
            &[],
        );
        assert!(m.is_empty(), "{m:?}");
    }
}
