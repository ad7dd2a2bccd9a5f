//! `jackrabbit-duplicateuuid`: two contained nodes of the package with the same
//! `jcr:uuid`; the second would replace the first's identity on import.

use super::{Finding, Package, Severity};
use std::collections::HashMap;

/// The validator id.
pub const ID: &str = "jackrabbit-duplicateuuid";

/// Reports every `jcr:uuid` value seen on a second contained node.
pub fn check(pkg: &Package<'_>, out: &mut Vec<Finding>) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for n in pkg.nodes() {
        let Some(uuid) = n
            .element
            .property("jcr:uuid")
            .and_then(|p| p.values.first())
        else {
            continue;
        };
        if !pkg.contains(n.path) {
            continue;
        }
        if let Some(first) = seen.get(uuid.as_str()) {
            out.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!("jcr:uuid '{uuid}' of '{}' is already used by '{first}'", n.path),
                    "give one of the nodes a new jcr:uuid, or remove the property so that one is generated",
                )
                .at(&n.element.location)
                .node(n.path),
            );
        } else {
            seen.insert(uuid, n.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    #[test]
    fn duplicate_uuids_across_files() {
        let u = "0bb6a2c2-8e7b-4c1c-9d3e-0a8c6d1f0e11";
        let a = docview(&format!(
            r#"jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="{u}">"#
        ));
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(r#"<filter root="/content/x"/>"#),
            ),
            ("jcr_root/content/x/a/.content.xml", &a),
            ("jcr_root/content/x/b/.content.xml", &a),
            (
                "jcr_root/content/x/c/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            ),
        ]);
        let m = messages(&r, ID);
        assert_eq!(
            m,
            vec![format!(
                "error: jcr:uuid '{u}' of '/content/x/b' is already used by '/content/x/a'"
            )]
        );
    }
}
