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
    /// The file would write below a system root of the deny list `import` uses.
    #[error(
        "{file}: loading at {at} writes below the system root {root}; \
         --allow-system-roots lifts this"
    )]
    SystemRoot {
        /// The file.
        file: String,
        /// The top node's path.
        at: String,
        /// The system root.
        root: &'static str,
    },
    /// The tree would reach deeper than [`crate::limits::Limits::node_depth`].
    #[error(
        "{file}: loading at {at} writes nodes {depth} levels deep, more than the limit \
         of {limit}; set JCRPACK_MAX_NODE_DEPTH to raise it if the file is trusted"
    )]
    TooDeep {
        /// The file.
        file: String,
        /// The parent path.
        at: String,
        /// The deepest node's depth.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// A node or property name of the file is not a JCR name.
    #[error("{file}: {refusal}")]
    Refused {
        /// The file.
        file: String,
        /// The rule broken, naming the node.
        refusal: crate::write_rules::WriteRefusal,
    },
}

/// What `load` may do beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Allow writing below `/jcr:system`, `/rep:security` and `/oak:index`, as
    /// `import --allow-system-roots` does.
    pub allow_system_roots: bool,
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
    load_with(
        store,
        workspace,
        at,
        tree,
        file,
        actor,
        &LoadOptions::default(),
    )
}

/// [`load`] with options: the same rules as `import` (the deny list of system roots,
/// [`crate::import::system_root_of`], and the node depth limit) unless lifted.
pub fn load_with(
    store: &mut dyn Store,
    workspace: &str,
    at: &str,
    tree: &XmlTree,
    file: &str,
    actor: &Actor,
    options: &LoadOptions,
) -> Result<String, LoadError> {
    // The rules every writing path obeys (crate::write_rules), on the whole tree.
    let rules = crate::write_rules::WriteRules::allowing_system_roots(options.allow_system_roots);
    crate::write_rules::check_tree(at, &tree.node, &rules).map_err(|refusal| {
        use crate::write_rules::WriteRefusal;
        match refusal {
            WriteRefusal::SystemRoot { path, root } => LoadError::SystemRoot {
                file: file.to_string(),
                at: path,
                root,
            },
            WriteRefusal::TooDeep { depth, limit, .. } => LoadError::TooDeep {
                file: file.to_string(),
                at: at.to_string(),
                depth,
                limit,
            },
            refusal @ WriteRefusal::Name { .. } => LoadError::Refused {
                file: file.to_string(),
                refusal,
            },
        }
    })?;
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
    fn system_roots_are_refused_as_import_refuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&dir.path().join("repo")).unwrap();
        let actor = Actor {
            user: "test".into(),
            time: crate::value::Date::from_epoch_millis(0),
        };
        for (at, xml, root) in [
            (
                "/",
                r#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" sv:name="rep:security"><sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>nt:unstructured</sv:value></sv:property></sv:node>"#,
                "/rep:security",
            ),
            (
                "/jcr:system",
                r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
                "/jcr:system",
            ),
        ] {
            let tree = read_xml(xml.as_bytes(), "x.xml").unwrap();
            let e = load(store.as_mut(), "default", at, &tree, "x.xml", &actor).unwrap_err();
            assert!(
                matches!(e, LoadError::SystemRoot { root: r, .. } if r == root),
                "{e}"
            );
            assert!(e.to_string().contains("--allow-system-roots"), "{e}");
        }
        let tree = read_xml(br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#, "x.xml").unwrap();
        let allowed = LoadOptions {
            allow_system_roots: true,
        };
        load_with(
            store.as_mut(),
            "default",
            "/jcr:system",
            &tree,
            "x.xml",
            &actor,
            &allowed,
        )
        .unwrap();
    }

    #[test]
    fn malformed_files_fail_with_their_location() {
        let e = read_xml(b"<jcr:root", "bad.xml").unwrap_err();
        assert!(e.to_string().contains("bad.xml"), "{e}");
    }
}
