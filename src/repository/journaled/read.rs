//! Reads by path over a content store, and operation details from the log.

use super::corrupt;
use crate::node::Node;
use crate::path::{self, Segment};
use crate::repository::content::{ContentRead, NodeRecord, WorkspaceId};
use crate::repository::oplog::{OpLogRead, RegKind, PAGE};
use crate::repository::{
    NodeInfo, OperationDetail, OperationId, RepositoryError, Result, TouchKind, Touched,
};
use crate::value::{Property, Value};
use std::collections::BTreeMap;

/// The id of workspace `name`, which must exist.
pub(crate) fn require_ws<C: ContentRead + ?Sized>(c: &C, name: &str) -> Result<WorkspaceId> {
    c.workspace_id(name)?
        .ok_or_else(|| RepositoryError::WorkspaceNotFound {
            workspace: name.to_string(),
        })
}

/// The node at `p` (normalized here) of `workspace`, which must exist.
pub(crate) fn require<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<NodeRecord> {
    let p = path::normalized(p)?;
    let ws = require_ws(c, workspace)?;
    require_at(c, workspace, ws, &p)
}

/// The id of the node at `p` (normalized here) of `workspace`, which must exist:
/// [`require`] for a caller that needs no more of the node (a backend with a
/// cache answers without copying the record).
pub(crate) fn require_id<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<crate::repository::content::NodeId> {
    let p = path::normalized(p)?;
    let ws = require_ws(c, workspace)?;
    c.node_id_at(ws, &p)?
        .ok_or_else(|| RepositoryError::NodeNotFound {
            workspace: workspace.to_string(),
            path: p.to_string(),
        })
}

/// The node at normalized `p` of workspace `ws` (called `workspace`).
pub(crate) fn require_at<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    ws: WorkspaceId,
    p: &str,
) -> Result<NodeRecord> {
    c.node_at(ws, p)?
        .ok_or_else(|| RepositoryError::NodeNotFound {
            workspace: workspace.to_string(),
            path: p.to_string(),
        })
}

/// The public view of a node.
pub(crate) fn info<C: ContentRead + ?Sized>(c: &C, row: &NodeRecord) -> Result<NodeInfo> {
    into_info(c, row.clone())
}

/// The public view of a node, made of its record.
fn into_info<C: ContentRead + ?Sized>(c: &C, row: NodeRecord) -> Result<NodeInfo> {
    let uuid = uuid_of(c.property(row.id, "jcr:uuid")?);
    info_with_uuid(c, row, uuid)
}

/// The identifier a `jcr:uuid` property holds.
fn uuid_of(p: Option<Property>) -> Option<String> {
    p.and_then(|p| match p.values.into_iter().next() {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
}

/// The public view of a node, made of its record and its identifier.
fn info_with_uuid<C: ContentRead + ?Sized>(
    c: &C,
    row: NodeRecord,
    uuid: Option<String>,
) -> Result<NodeInfo> {
    let last = path::last_segment(&row.path);
    // A segment without an index is the first of its name: nothing to parse (a
    // stored path is normal, checked when it was written).
    let index = if row.parent.is_none() || !last.ends_with(']') {
        1
    } else {
        Segment::parse(last)
            .map_err(|e| corrupt(c, format!("stored path {} is invalid: {e}", row.path)))?
            .index
    };
    Ok(NodeInfo {
        path: row.path,
        name: row.name,
        index,
        primary_type: row.primary_type,
        mixins: row.mixins,
        uuid,
    })
}

/// [`crate::repository::StoreRead::node`].
pub(crate) fn node<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<Option<NodeInfo>> {
    let p = path::normalized(p)?;
    let ws = require_ws(c, workspace)?;
    match c.node_at(ws, &p)? {
        Some(row) => Ok(Some(into_info(c, row)?)),
        None => Ok(None),
    }
}

/// [`crate::repository::StoreRead::node_without_uuid`]: the row alone.
pub(crate) fn node_without_uuid<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<Option<NodeInfo>> {
    let p = path::normalized(p)?;
    let ws = require_ws(c, workspace)?;
    match c.node_at(ws, &p)? {
        Some(row) => Ok(Some(info_with_uuid(c, row, None)?)),
        None => Ok(None),
    }
}

/// [`crate::repository::StoreRead::node_shallow`]: the row, its properties and (when
/// wanted) its children's rows, three reads; no child's `jcr:uuid` is read.
pub(crate) fn node_shallow<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
    want_children: &mut dyn FnMut(&str, &[String]) -> bool,
) -> Result<Option<Node>> {
    let p = path::normalized(p)?;
    let ws = require_ws(c, workspace)?;
    let Some(row) = c.node_at(ws, &p)? else {
        return Ok(None);
    };
    let mut node = Node::new(row.name, row.primary_type);
    node.mixins = row.mixins;
    for prop in c.properties(row.id)? {
        node.set(prop);
    }
    if want_children(&node.primary_type, &node.mixins) {
        for child in c.children(row.id)? {
            let mut n = Node::new(child.name, child.primary_type);
            n.mixins = child.mixins;
            node.children.push(n);
        }
    }
    Ok(Some(node))
}

/// [`crate::repository::StoreRead::nodes_shallow`]: what [`node_shallow`] reads
/// for each of `paths`, in three batched reads (rows, properties, the children of
/// those whose children are wanted), with `want_children` asked for each node
/// found, in order.
pub(crate) fn nodes_shallow<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    paths: &[&str],
    want_children: &mut dyn FnMut(&str, &[String]) -> bool,
) -> Result<Vec<Option<Node>>> {
    let normalized = paths
        .iter()
        .map(|p| path::normalized(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let ws = require_ws(c, workspace)?;
    let refs: Vec<&str> = normalized.iter().map(|p| p.as_ref()).collect();
    let rows = c.nodes_at(ws, &refs)?;
    let ids: Vec<_> = rows.iter().flatten().map(|r| r.id).collect();
    let mut props = c.properties_of(&ids)?.into_iter();
    let mut nodes: Vec<Option<Node>> = Vec::with_capacity(rows.len());
    let mut wanted = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let Some(row) = row else {
            nodes.push(None);
            continue;
        };
        let mut node = Node::new(row.name, row.primary_type);
        node.mixins = row.mixins;
        for prop in props.next().unwrap_or_default() {
            node.set(prop);
        }
        if want_children(&node.primary_type, &node.mixins) {
            wanted.push((i, row.id));
        }
        nodes.push(Some(node));
    }
    let ids: Vec<_> = wanted.iter().map(|w| w.1).collect();
    for ((i, _), kids) in wanted.iter().zip(c.children_of(&ids)?) {
        if let Some(node) = &mut nodes[*i] {
            for child in kids {
                let mut n = Node::new(child.name, child.primary_type);
                n.mixins = child.mixins;
                node.children.push(n);
            }
        }
    }
    Ok(nodes)
}

/// [`crate::repository::StoreRead::children`].
pub(crate) fn children<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<Vec<NodeInfo>> {
    child_infos(c, workspace, p, into_info)
}

/// [`crate::repository::StoreRead::children_without_uuid`]: one read of the rows.
pub(crate) fn children_without_uuid<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<Vec<NodeInfo>> {
    child_infos(c, workspace, p, |c, r| info_with_uuid(c, r, None))
}

/// The children of the node at `p`, each made a [`NodeInfo`] by `info`.
fn child_infos<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
    info: impl Fn(&C, NodeRecord) -> Result<NodeInfo>,
) -> Result<Vec<NodeInfo>> {
    let id = require_id(c, workspace, p)?;
    c.children(id)?.into_iter().map(|r| info(c, r)).collect()
}

/// The name of workspace `ws` for messages.
pub(crate) fn ws_label<C: ContentRead + ?Sized>(c: &C, ws: WorkspaceId) -> Result<String> {
    c.workspace_name(ws)?
        .ok_or_else(|| corrupt(c, format!("workspace id {ws} is unknown")))
}

/// [`crate::repository::StoreRead::operation`].
pub(crate) fn operation<C: ContentRead + ?Sized, L: OpLogRead + ?Sized>(
    c: &C,
    log: &L,
    id: OperationId,
) -> Result<OperationDetail> {
    let (summary, options) = log
        .operation_record(id)?
        .ok_or(RepositoryError::OperationNotFound(id))?;
    let mut names: BTreeMap<WorkspaceId, String> = BTreeMap::new();
    let mut name = |ws: WorkspaceId| -> Result<String> {
        if let Some(n) = names.get(&ws) {
            return Ok(n.clone());
        }
        let n = ws_label(c, ws)?;
        names.insert(ws, n.clone());
        Ok(n)
    };
    let mut touched = Vec::new();
    let mut after = None;
    loop {
        let page = log.node_images(id, after, PAGE)?;
        for img in &page {
            touched.push(Touched {
                workspace: name(img.ws)?,
                path: img.path.clone(),
                kind: TouchKind::Node,
                existed: img.before.is_some(),
            });
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.node),
            _ => break,
        }
    }
    let mut after = None;
    loop {
        let page = log.prop_images(id, after, PAGE)?;
        for img in &page {
            touched.push(Touched {
                workspace: name(img.ws)?,
                path: path::join(&img.path, &img.name),
                kind: TouchKind::Property,
                existed: img.before.is_some(),
            });
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some((last.node, last.name.clone())),
            _ => break,
        }
    }
    for reg in log.reg_images(id)? {
        touched.push(Touched {
            workspace: String::new(),
            path: reg.key,
            kind: match reg.kind {
                RegKind::Namespace => TouchKind::Namespace,
                RegKind::NodeType => TouchKind::NodeType,
                RegKind::Workspace => TouchKind::Workspace,
            },
            existed: reg.before.is_some(),
        });
    }
    touched.sort();
    Ok(OperationDetail {
        summary,
        options,
        touched,
    })
}

#[cfg(test)]
mod tests {
    use crate::node::Node;
    use crate::repository::memory::MemoryStore;
    use crate::repository::sqlite::SqliteStore;
    use crate::repository::{AddOptions, Store, StoreRead, DEFAULT_WORKSPACE as WS};
    use crate::value::Property;

    /// What `node`, `properties` and `children` read, as `node_shallow` answers it.
    fn expected(r: &dyn StoreRead, p: &str, with_children: bool) -> Node {
        let info = r.node(WS, p).unwrap().unwrap();
        let mut n = Node::new(info.name, info.primary_type);
        n.mixins = info.mixins;
        for prop in r.properties(WS, p).unwrap() {
            n.set(prop);
        }
        if with_children {
            for c in r.children(WS, p).unwrap() {
                let mut cn = Node::new(c.name, c.primary_type);
                cn.mixins = c.mixins;
                n.children.push(cn);
            }
        }
        n
    }

    #[test]
    fn node_shallow_reads_what_node_properties_and_children_read() {
        let mut store = MemoryStore::in_memory("memory:shallow").unwrap();
        shallow_reads_match(&mut store);
    }

    /// SQLite answers the batched reads with one statement each (a JSON list).
    #[test]
    fn node_shallow_reads_the_same_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        shallow_reads_match(&mut store);
    }

    fn shallow_reads_match(store: &mut dyn Store) {
        let mut t = store.begin("shallow").unwrap();
        let mut a = Node::new("a", "nt:unstructured");
        a.mixins = vec!["mix:referenceable".into(), "mix:title".into()];
        a.set(Property::string(
            "jcr:uuid",
            "0b0e1bd4-2d2c-4c0e-8a8e-0d5c7f2f6c11",
        ));
        a.set(Property::string("jcr:title", "A"));
        let mut b = Node::new("b", "nt:folder");
        b.mixins = vec!["mix:title".into()];
        a.children.push(b);
        a.children.push(Node::new("c", "nt:unstructured"));
        a.children.push(Node::new("c", "nt:unstructured"));
        t.add_node(WS, "/", &a, &AddOptions::append()).unwrap();
        for with_children in [true, false] {
            let mut asked = Vec::new();
            let got = t
                .node_shallow(WS, "/a", &mut |p, m| {
                    asked.push((p.to_string(), m.to_vec()));
                    with_children
                })
                .unwrap()
                .unwrap();
            assert_eq!(got, expected(&*t, "/a", with_children));
            assert_eq!(
                asked,
                [(
                    "nt:unstructured".to_string(),
                    vec!["mix:referenceable".to_string(), "mix:title".to_string()]
                )]
            );
        }
        // The node and the children without identifiers, as the separate reads
        // give them.
        for p in ["/a", "/a/b", "/a/c[2]"] {
            let mut info = t.node(WS, p).unwrap().unwrap();
            info.uuid = None;
            assert_eq!(t.node_without_uuid(WS, p).unwrap().unwrap(), info);
            let mut expected = t.children(WS, p).unwrap();
            for c in &mut expected {
                c.uuid = None;
            }
            assert_eq!(t.children_without_uuid(WS, p).unwrap(), expected);
        }
        assert!(t.node_without_uuid(WS, "/a/x").unwrap().is_none());
        assert!(t.children_without_uuid(WS, "/a/x").is_err());
        let paths = ["/a/c[2]", "/a", "/a/x", "/a/b", "/a"];
        let mut asked = 0;
        let batched = t
            .nodes_shallow(WS, &paths, &mut |_, _| {
                asked += 1;
                asked % 2 == 0
            })
            .unwrap();
        let mut asked = 0;
        let single: Vec<_> = paths
            .iter()
            .map(|p| {
                t.node_shallow(WS, p, &mut |_, _| {
                    asked += 1;
                    asked % 2 == 0
                })
                .unwrap()
            })
            .collect();
        assert_eq!(batched, single);
        assert_eq!(batched[2], None);
        let got = t.node_shallow(WS, "/a/c[2]", &mut |_, _| true).unwrap();
        assert_eq!(got, Some(expected(&*t, "/a/c[2]", true)));
        assert_eq!(t.node_shallow(WS, "/a/x", &mut |_, _| true).unwrap(), None);
        t.commit().unwrap();
        // The committed store answers the same way.
        let got = store.node_shallow(WS, "/a", &mut |_, _| true).unwrap();
        assert_eq!(got, Some(expected(&*store, "/a", true)));
        let batched = store.nodes_shallow(WS, &paths, &mut |_, _| true).unwrap();
        let single: Vec<_> = paths
            .iter()
            .map(|p| store.node_shallow(WS, p, &mut |_, _| true).unwrap())
            .collect();
        assert_eq!(batched, single);
        assert_eq!(batched[1], Some(expected(&*store, "/a", true)));
    }
}
