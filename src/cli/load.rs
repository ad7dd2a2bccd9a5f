//! `jcrpack load XML --repo REPO --at PARENT`: JCR's `importXML` of a system view or
//! document view file.

use super::repo::{absolute, LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::docview::{self, DocViewElement};
use crate::node::Node;
use crate::repository::{AddOptions, OperationMeta};
use crate::value::{Property, PropertyType, Value};
use clap::Args;
use std::path::PathBuf;

/// Load an XML file (system view or document view) below a node; identifiers kept.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The XML file.
    pub xml: PathBuf,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// The parent node of the file's top node.
    #[arg(long, default_value = "/")]
    pub at: String,
}

/// Runs `load`.
pub fn run(a: LoadArgs) -> CliResult<i32> {
    let at = absolute(&a.at)?;
    let bytes = std::fs::read(&a.xml)
        .map_err(|e| CliError::failure(format!("{}: {e}", a.xml.display())))?;
    let file = a.xml.display().to_string();
    let mut store = a.repo.open_locking(&a.lock)?;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_string();
    let (node, namespaces) =
        if head.contains("http://www.jcp.org/jcr/sv/1.0") && head.contains(":node") {
            let mut r = crate::sysview::SysViewReader::new(&bytes[..], file.clone());
            let node = r
                .read_tree()
                .map_err(|e| CliError::failure(e.to_string()))?;
            let ns: Vec<(String, String)> = r
                .namespaces()
                .iter()
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
            (node, ns)
        } else {
            let doc =
                docview::parse(&bytes[..], &file).map_err(|e| CliError::failure(e.to_string()))?;
            let mut node = element_to_node(&doc.root);
            if doc.root_is_jcr_root {
                // importXML names the node after the element: `jcr:root`.
                node.name = "jcr:root".to_string();
            }
            (node, doc.namespaces.clone())
        };
    let mut txn = store.begin_operation(OperationMeta::new(
        format!("load {file} at {at}"),
        &super::repo::actor(),
    ))?;
    let ns = txn.namespaces()?;
    for (p, u) in &namespaces {
        if ns.prefix(u).is_none() && ns.uri(p).is_none() {
            txn.register_namespace(p, u)?;
        }
    }
    if txn.node(&a.repo.workspace, &at)?.is_none() {
        return Err(CliError::failure(format!("{at}: no such node")));
    }
    let added = txn
        .add_node(
            &a.repo.workspace,
            &at,
            &node,
            &AddOptions::allow_same_name(),
        )
        .map_err(|e| CliError::failure(format!("{file}: cannot load at {at}: {e}")))?;
    txn.commit()?;
    eprintln!("loaded {} nodes at {added}", node.count());
    Ok(0)
}

/// A document view element as JCR's importXML stores it (untyped values as String,
/// `jcr:primaryType`/`jcr:mixinTypes` as names).
fn element_to_node(el: &DocViewElement) -> Node {
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
