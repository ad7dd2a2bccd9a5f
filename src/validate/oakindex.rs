//! `jackrabbit-oakindex`: Oak index definitions (`oak:QueryIndexDefinition` nodes, or
//! filter roots at or below an `oak:index` node) in a package whose
//! `allowIndexDefinitions` property is not `true`. Such packages may reindex a
//! production repository on install; the property states that this is intended.

use super::{DocCheck, DocNode, Finding, Package, Severity};
use crate::package::FILTER_ENTRY;
use crate::path;

/// The validator id.
pub const ID: &str = "jackrabbit-oakindex";

/// The node type of an Oak index definition.
pub const INDEX_DEFINITION_TYPE: &str = "oak:QueryIndexDefinition";

const FIX: &str = "set <entry key=\"allowIndexDefinitions\">true</entry> in properties.xml if the index is intended, or remove it";

/// Reports index definitions when `allowIndexDefinitions` is not `true`.
pub fn check<'p>(pkg: &'p Package<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    if pkg
        .properties
        .as_ref()
        .is_some_and(|p| p.allow_index_definitions())
    {
        return None;
    }
    if let Some(filter) = &pkg.filter {
        for set in &filter.sets {
            let root = set.root();
            let below_index = path::segments(root).any(|s| s == "oak:index");
            if below_index && !root.contains("/rep:policy") {
                out.push(
                    Finding::new(
                        Severity::Error,
                        ID,
                        format!(
                            "filter root '{root}' may overwrite index definitions, but allowIndexDefinitions is not 'true'"
                        ),
                        FIX,
                    )
                    .at_or(set.location.as_ref(), FILTER_ENTRY)
                    .node(root),
                );
            }
        }
    }
    Some(Box::new(IndexDefinitions))
}

/// Reports `oak:QueryIndexDefinition` elements.
struct IndexDefinitions;

impl DocCheck for IndexDefinitions {
    fn doc(&mut self, _pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        for n in nodes {
            if n.element.primary_type() == Some(INDEX_DEFINITION_TYPE) {
                out.push(
                    Finding::new(
                        Severity::Error,
                        ID,
                        format!(
                            "'{}' is an index definition, but allowIndexDefinitions is not 'true'",
                            n.path
                        ),
                        FIX,
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

    fn run(allow: Option<&str>) -> Vec<String> {
        let mut entries = vec![
            ("group", "g"),
            ("name", "n"),
            ("version", "1"),
            ("packageType", "application"),
        ];
        if let Some(a) = allow {
            entries.push(("allowIndexDefinitions", a));
        }
        let idx = docview(
            r#"xmlns:oak="http://jackrabbit.apache.org/oak/ns/1.0" jcr:primaryType="oak:QueryIndexDefinition" type="lucene" async="async">"#,
        );
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(r#"<filter root="/oak:index/myIndex"/>"#),
            ),
            ("META-INF/vault/properties.xml", &properties(&entries)),
            ("jcr_root/_oak_index/myIndex/.content.xml", &idx),
        ]);
        messages(&r, ID)
    }

    #[test]
    fn index_definitions_need_the_property() {
        let m = run(None);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m[0].contains("filter root '/oak:index/myIndex'") || m[1].contains("filter root"),
            "{m:?}"
        );
        assert!(run(Some("true")).is_empty());
    }
}
