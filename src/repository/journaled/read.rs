//! Reads by path over a content store, and operation details from the log.

use super::corrupt;
use crate::path::{self, Segment};
use crate::repository::content::{ContentRead, NodeRecord, WorkspaceId};
use crate::repository::oplog::{OpLogRead, RegKind, PAGE};
use crate::repository::{
    NodeInfo, OperationDetail, OperationId, RepositoryError, Result, TouchKind, Touched,
};
use crate::value::Value;
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
    let p = path::normalize(p)?;
    let ws = require_ws(c, workspace)?;
    require_at(c, workspace, ws, &p)
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
    let index = if row.parent.is_none() {
        1
    } else {
        Segment::parse(path::last_segment(&row.path))
            .map_err(|e| corrupt(c, format!("stored path {} is invalid: {e}", row.path)))?
            .index
    };
    let uuid = match c.property(row.id, "jcr:uuid")? {
        Some(p) => match p.values.first() {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        },
        None => None,
    };
    Ok(NodeInfo {
        path: row.path.clone(),
        name: row.name.clone(),
        index,
        primary_type: row.primary_type.clone(),
        mixins: row.mixins.clone(),
        uuid,
    })
}

/// [`crate::repository::StoreRead::node`].
pub(crate) fn node<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<Option<NodeInfo>> {
    let p = path::normalize(p)?;
    let ws = require_ws(c, workspace)?;
    match c.node_at(ws, &p)? {
        Some(row) => Ok(Some(info(c, &row)?)),
        None => Ok(None),
    }
}

/// [`crate::repository::StoreRead::children`].
pub(crate) fn children<C: ContentRead + ?Sized>(
    c: &C,
    workspace: &str,
    p: &str,
) -> Result<Vec<NodeInfo>> {
    let row = require(c, workspace, p)?;
    c.children(row.id)?.iter().map(|r| info(c, r)).collect()
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
