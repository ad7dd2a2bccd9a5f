//! JCR's `Session.importXML`: a system view or document view XML file loaded below a
//! node, identifiers kept (`jcrpack load`).
//!
//! [`sniff`] tells the two formats apart as JCR does (a system view's root is an
//! `sv:node` in the system view namespace), [`read_xml`] reads the file into one
//! [`Node`] tree with the namespaces it declares, and [`load`] adds that tree below
//! a node in one recorded operation, all or nothing.

use crate::docview::{self, DocViewElement, DocViewError};
use crate::events::Actor;
use crate::node::Node;
use crate::repository::{AddOptions, OperationMeta, RepositoryError, Store};
use crate::sysview::{SysViewError, SysViewReader};
use crate::value::{Property, PropertyType, Value};

/// The system view namespace.
const SV_URI: &str = "http://www.jcp.org/jcr/sv/1.0";

/// How many bytes of a file [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 4096;

/// The two XML forms of JCR content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlFormat {
    /// JCR system view (`sv:node`, `sv:property`, `sv:value`).
    SystemView,
    /// (Enhanced) document view: elements are nodes, attributes properties.
    DocumentView,
}

/// The format of an XML file from its first bytes: system view when it declares the
/// system view namespace and uses a `:node` element, document view otherwise.
pub fn sniff(head: &[u8]) -> XmlFormat {
    let head = String::from_utf8_lossy(&head[..head.len().min(SNIFF_BYTES)]);
    if head.contains(SV_URI) && head.contains(":node") {
        XmlFormat::SystemView
    } else {
        XmlFormat::DocumentView
    }
}

/// An XML file read as a tree to load.
#[derive(Debug, Clone)]
pub struct XmlTree {
    /// The file's top node, with its subtree.
    pub node: Node,
    /// The namespaces the file declares, prefix and URI.
    pub namespaces: Vec<(String, String)>,
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The system view file is malformed (the error names file, line and column).
    #[error("{0}")]
    SystemView(#[from] SysViewError),
    /// The document view file is malformed (the error names file, line and column).
    #[error("{0}")]
    DocumentView(#[from] DocViewError),
    /// The node to load below does not exist.
    #[error("{path}: no such node")]
    NoParent {
        /// The parent path.
        path: String,
    },
    /// The repository refused the tree (a name or identifier conflict, a type).
    #[error("{file}: cannot load at {at}: {source}")]
    Add {
        /// The file.
        file: String,
        /// The parent path.
        at: String,
        /// The repository's error.
        #[source]
        source: RepositoryError,
    },
    /// The repository failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
}

/// Reads an XML file (`file` names it in errors) as JCR's importXML does: system
/// view as it is; document view with untyped values as String and the top node
/// named `jcr:root` when the file's root element is `jcr:root`.
pub fn read_xml(bytes: &[u8], file: &str) -> Result<XmlTree, LoadError> {
    match sniff(bytes) {
        XmlFormat::SystemView => {
            let mut r = SysViewReader::new(bytes, file.to_string());
            let node = r.read_tree()?;
            let namespaces = r
                .namespaces()
                .iter()
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
            Ok(XmlTree { node, namespaces })
        }
        XmlFormat::DocumentView => {
            let doc = docview::parse(bytes, file)?;
            let mut node = element_to_node(&doc.root);
            if doc.root_is_jcr_root {
                // importXML names the node after the element: `jcr:root`.
                node.name = "jcr:root".to_string();
            }
            Ok(XmlTree {
                node,
                namespaces: doc.namespaces.clone(),
            })
        }
    }
}

/// Adds `tree` below `at` in `workspace` in one recorded operation (described as
/// `load FILE at AT`, run by `actor`), registering the namespaces the repository
/// does not know.
/// Same-name siblings are allowed, as importXML allows them. Returns the path of
/// the added top node; on any error nothing is changed.
pub fn load(
    store: &mut dyn Store,
    workspace: &str,
    at: &str,
    tree: &XmlTree,
    file: &str,
    actor: &Actor,
) -> Result<String, LoadError> {
    let meta = OperationMeta::new(format!("load {file} at {at}"), actor);
    let mut txn = store.begin_operation(meta)?;
    let ns = txn.namespaces()?;
    for (p, u) in &tree.namespaces {
        if ns.prefix(u).is_none() && ns.uri(p).is_none() {
            txn.register_namespace(p, u)?;
        }
    }
    if txn.node(workspace, at)?.is_none() {
        return Err(LoadError::NoParent {
            path: at.to_string(),
        });
    }
    let added = txn
        .add_node(workspace, at, &tree.node, &AddOptions::allow_same_name())
        .map_err(|source| LoadError::Add {
            file: file.to_string(),
            at: at.to_string(),
            source,
        })?;
    txn.commit()?;
    Ok(added)
}

/// A document view element as JCR's importXML stores it (untyped values as String,
/// `jcr:primaryType`/`jcr:mixinTypes` as names).
pub fn element_to_node(el: &DocViewElement) -> Node {
    let mut n = Node::new(
        el.name.clone(),
        el.primary_type().unwrap_or("nt:unstructured"),
    );
    n.mixins = el.mixin_types();
    for p in &el.properties {
        if p.name == "jcr:primaryType" || p.name == "jcr:mixinTypes" {
            continue;
        }
        let t = if p.ptype == PropertyType::Undefined {
            PropertyType::String
        } else {
            p.ptype
        };
        let vals: Vec<Value> = p
            .values
            .iter()
            .map(|v| Value::parse(t, v).unwrap_or_else(|_| Value::String(v.clone())))
            .collect();
        let prop = if p.multiple {
            Property::multi(p.name.clone(), t, vals)
        } else {
            Property::single(
                p.name.clone(),
                vals.into_iter()
                    .next()
                    .unwrap_or(Value::String(String::new())),
            )
        };
        n.set(prop);
    }
    for c in &el.children {
        n.children.push(element_to_node(c));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_system_view_by_namespace_and_node_element() {
        let sv = br#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" sv:name="a"/>"#;
        assert_eq!(sniff(sv), XmlFormat::SystemView);
        let dv = br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0"/>"#;
        assert_eq!(sniff(dv), XmlFormat::DocumentView);
        assert_eq!(sniff(b""), XmlFormat::DocumentView);
    }

    #[test]
    fn document_view_values_are_strings_unless_typed() {
        let dv = br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" a="x" n="{Long}5"><c jcr:primaryType="nt:folder"/></jcr:root>"#;
        let t = read_xml(dv, "a.xml").unwrap();
        assert_eq!(t.node.name, "jcr:root");
        assert_eq!(t.node.primary_type, "nt:unstructured");
        assert_eq!(t.node.children.len(), 1);
        assert_eq!(t.node.children[0].primary_type, "nt:folder");
        let n = t.node.properties.get("n").unwrap();
        assert_eq!(n.ptype, PropertyType::Long);
        let a = t.node.properties.get("a").unwrap();
        assert_eq!(a.ptype, PropertyType::String);
    }

    #[test]
    fn malformed_files_fail_with_their_location() {
        let e = read_xml(b"<jcr:root", "bad.xml").unwrap_err();
        assert!(e.to_string().contains("bad.xml"), "{e}");
    }
}
