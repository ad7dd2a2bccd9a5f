//! `jackrabbit-mergelimitations`: `merge` works per aggregate (DocView file). A filter
//! root in mode `merge` that is an inner element of an aggregate, with properties, is
//! not merged as one would expect (JCRVLT-255).

use super::{DocCheck, DocNode, Finding, Package, Severity};
use crate::filter::ImportMode;

/// The validator id.
pub const ID: &str = "jackrabbit-mergelimitations";

/// Reports inner DocView elements with properties that are the root of a `merge` set.
pub fn check<'p>(pkg: &'p Package<'_>, _out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    let filter = pkg.filter.as_ref()?;
    let roots: Vec<&str> = filter
        .sets
        .iter()
        .filter(|s| s.mode == ImportMode::Merge)
        .map(|s| s.root())
        .collect();
    if roots.is_empty() {
        return None;
    }
    Some(Box::new(MergeRoots(roots)))
}

/// The roots of the `merge` sets.
struct MergeRoots<'f>(Vec<&'f str>);

impl DocCheck for MergeRoots<'_> {
    fn doc(&mut self, _pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        for n in nodes {
            if !n.is_root && !n.element.properties.is_empty() && self.0.contains(&n.path) {
                out.push(
                    Finding::new(
                        Severity::Error,
                        ID,
                        format!(
                            "node '{}' is the root of a merge filter set but not the root of its aggregate ({}): \
                             FileVault does not merge it (JCRVLT-255)",
                            n.path, n.file.entry
                        ),
                        "move the node into its own .content.xml (a folder of its own), or use another mode",
                    )
                    .at(&n.element.location)
                    .node(n.path),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    #[test]
    fn inner_merge_root_is_reported() {
        let body = docview(
            r#"jcr:primaryType="nt:unstructured"><a jcr:primaryType="nt:unstructured"/><b/>"#,
        );
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(
                    r#"<filter root="/content/x/a" mode="merge"/><filter root="/content/x/b" mode="merge"/><filter root="/content/x" mode="merge"/>"#,
                ),
            ),
            ("jcr_root/content/x/.content.xml", &body),
        ]);
        let m = messages(&r, ID);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("'/content/x/a'"), "{m:?}");
    }
}
