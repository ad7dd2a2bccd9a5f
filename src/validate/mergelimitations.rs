//! `jackrabbit-mergelimitations`: `merge` works per aggregate (DocView file). A filter
//! root in mode `merge` that is an inner element of an aggregate, with properties, is
//! not merged as one would expect (JCRVLT-255).

use super::{Finding, Package, Severity};
use crate::filter::ImportMode;

/// The validator id.
pub const ID: &str = "jackrabbit-mergelimitations";

/// Reports inner DocView elements with properties that are the root of a `merge` set.
pub fn check(pkg: &Package<'_>, out: &mut Vec<Finding>) {
    let Some(filter) = &pkg.filter else { return };
    let roots: Vec<&str> = filter
        .sets
        .iter()
        .filter(|s| s.mode == ImportMode::Merge)
        .map(|s| s.root())
        .collect();
    if roots.is_empty() {
        return;
    }
    for n in pkg.nodes() {
        if !n.is_root && !n.element.properties.is_empty() && roots.contains(&n.path) {
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
