//! Capturing before-images: on the first touch of an item in a recorded operation,
//! its state before goes into the operation log, in the same backend transaction.
//!
//! Nodes the transaction created (by id, or brought back by undo) have no
//! before-image; the ones still there at commit are recorded as "did not exist".

use super::JournaledTxn;
use crate::repository::content::{NodeId, NodeRecord, WorkspaceId};
use crate::repository::oplog::{
    BackendTxn, NodeBefore, NodeImage, PropImage, RegImage, RegKind, PAGE,
};
use crate::repository::{OperationId, Result};

impl JournaledTxn<'_> {
    /// Records the node-level before-image of `row`, if this is its first touch.
    pub(crate) fn touch_node(&mut self, row: &NodeRecord) -> Result<()> {
        let Some(op) = self.op else { return Ok(()) };
        if self.created_here(row.id) {
            return Ok(());
        }
        self.inner.record_node(op, &existing_image(row))
    }

    /// Records that node `id` did not exist before, for a node an undo brings back
    /// with its old id.
    pub(crate) fn touch_new_node(&mut self, id: NodeId, ws: WorkspaceId, path: &str) -> Result<()> {
        let Some(op) = self.op else { return Ok(()) };
        self.inner.record_node(
            op,
            &NodeImage {
                node: id,
                ws,
                path: path.to_string(),
                before: None,
            },
        )
    }

    /// Records the before-image of property `name` of `row`, if this is its first
    /// touch.
    pub(crate) fn touch_prop(&mut self, row: &NodeRecord, name: &str) -> Result<()> {
        let Some(op) = self.op else { return Ok(()) };
        if self.created_here(row.id) {
            return Ok(());
        }
        let before = self.inner.property(row.id, name)?;
        self.inner.record_prop(
            op,
            &PropImage {
                node: row.id,
                name: name.to_string(),
                ws: row.ws,
                path: row.path.clone(),
                before,
            },
        )
    }

    /// Records the before-image of the whole subtree at `row` (nodes and
    /// properties) ahead of its removal; items already touched keep their image.
    pub(crate) fn touch_subtree(&mut self, row: &NodeRecord) -> Result<()> {
        let Some(op) = self.op else { return Ok(()) };
        let mut pending = vec![row.clone()];
        while let Some(r) = pending.pop() {
            if !self.created_here(r.id) {
                self.inner.record_node(op, &existing_image(&r))?;
                for p in self.inner.properties(r.id)? {
                    self.inner.record_prop(
                        op,
                        &PropImage {
                            node: r.id,
                            name: p.name.clone(),
                            ws: r.ws,
                            path: r.path.clone(),
                            before: Some(p),
                        },
                    )?;
                }
            }
            let mut children = self.inner.children(r.id)?;
            children.reverse();
            pending.extend(children);
        }
        Ok(())
    }

    /// Records the before-image of a registration, if this is its first touch.
    pub(crate) fn touch_reg(&mut self, kind: RegKind, key: &str) -> Result<()> {
        let Some(op) = self.op else { return Ok(()) };
        let before = self.reg_value(kind, key)?;
        self.inner.record_reg(
            op,
            &RegImage {
                kind,
                key: key.to_string(),
                before,
            },
        )
    }

    /// The current value of a registration (`None`: not registered).
    pub(crate) fn reg_value(&self, kind: RegKind, key: &str) -> Result<Option<String>> {
        match kind {
            RegKind::Namespace => Ok(self.inner.namespaces()?.uri(key).map(str::to_string)),
            RegKind::NodeType => self.inner.node_type(key),
            RegKind::Workspace => Ok(self.inner.workspace_id(key)?.map(|id| id.to_string())),
        }
    }
}

/// Records the nodes operation `op` created (still there, workspace roots aside)
/// as "did not exist" and stores its counts: nodes and registrations with an image,
/// and properties with an image plus those of the nodes it created. The default of
/// [`BackendTxn::finish_operation`].
pub fn finish_operation<T: BackendTxn + ?Sized>(txn: &mut T, op: OperationId) -> Result<()> {
    let mut created_props = 0u64;
    let mut after = None;
    loop {
        let page = txn.new_nodes(after, PAGE)?;
        for r in &page {
            created_props += txn.properties(r.id)?.len() as u64;
            if r.parent.is_some() {
                txn.record_node(
                    op,
                    &NodeImage {
                        node: r.id,
                        ws: r.ws,
                        path: r.path.clone(),
                        before: None,
                    },
                )?;
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.id),
            _ => break,
        }
    }
    let nodes = count_pages(|after| {
        let page = txn.node_images(op, after, PAGE)?;
        Ok((page.len(), page.last().map(|i| i.node)))
    })?;
    let props = count_pages(|after: Option<(NodeId, String)>| {
        let page = txn.prop_images(op, after, PAGE)?;
        Ok((page.len(), page.last().map(|i| (i.node, i.name.clone()))))
    })?;
    let regs = txn.reg_images(op)?.len() as u64;
    txn.set_counts(op, nodes, props + created_props, regs)
}

/// Counts the items of a paged listing: `page(after)` returns a page's length and
/// its last key.
fn count_pages<K>(mut page: impl FnMut(Option<K>) -> Result<(usize, Option<K>)>) -> Result<u64> {
    let mut total = 0u64;
    let mut after = None;
    loop {
        let (n, last) = page(after)?;
        total += n as u64;
        if n < PAGE || last.is_none() {
            return Ok(total);
        }
        after = last;
    }
}

/// The image of an existing node.
fn existing_image(row: &NodeRecord) -> NodeImage {
    NodeImage {
        node: row.id,
        ws: row.ws,
        path: row.path.clone(),
        before: Some(NodeBefore {
            parent: row.parent,
            name: row.name.clone(),
            position: row.position,
            primary_type: row.primary_type.clone(),
            mixins: row.mixins.clone(),
        }),
    }
}
