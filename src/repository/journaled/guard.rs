//! The one door every mutation of a journaled transaction goes through to its
//! backend, which keeps the importer's aggregate digests honest.
//!
//! An aggregate digest ([`ContentTxn::set_aggregate_digest`]) says that installing
//! the same entries with the same options again leaves the subtree of its node as
//! it is, so that an unchanged re-install may skip it. That holds only while
//! nothing below the node changes. [`Guarded`] hands out the backend transaction
//! for reading only (`Deref`, no `DerefMut`): its mutations are methods of its own,
//! and each clears the digests of the node it changes and of every ancestor before
//! it calls the backend. So no writing command (install, load, rm, undo, restore,
//! bootstrap, the server) can change a node without clearing them, because there is
//! no other way to write through a [`super::JournaledTxn`].
//!
//! Clearing walks up the parents once per node and transaction: `cleared` holds
//! the nodes whose digest and whose ancestors' digests are gone. Recording a
//! digest, or rolling back to a savepoint (which may bring cleared digests back),
//! forgets that memory. A store without any digest costs one query per
//! transaction.

use crate::repository::content::{NewNode, NodeId, WorkspaceId};
use crate::repository::oplog::{BackendTxn, NodeImage, PropImage, RegImage};
use crate::repository::{OperationId, Result};
use crate::value::Property;
use std::collections::HashSet;
use std::ops::Deref;

/// A backend transaction whose mutations clear aggregate digests (module doc).
pub(crate) struct Guarded<'a> {
    inner: Box<dyn BackendTxn + 'a>,
    /// Nodes whose digest, and whose ancestors' digests, this transaction cleared.
    cleared: HashSet<NodeId>,
    /// Whether the store holds any digest (`None`: not asked yet).
    any: Option<bool>,
    /// The nodes this transaction created that a mutation changed after their
    /// insertion (see [`Guarded::unaltered`]).
    altered: Altered,
    /// The nodes this transaction created whose children changed after their
    /// insertion: a child inserted other than with them (in one
    /// [`Guarded::begin_insertion`]), removed, or updated (see
    /// [`Guarded::children_unaltered`]).
    kids_altered: Altered,
    /// The first node id of the insertion of a subtree in progress
    /// ([`Guarded::begin_insertion`]); `NodeId::MAX` between insertions.
    inserting: NodeId,
    /// The node inserted last: its first properties are part of its insertion.
    last_inserted: Option<NodeId>,
    /// The largest node id handed out so far.
    last_id: NodeId,
    /// The largest node id handed out before the last mutation that may have
    /// changed the path of a node other than its own new ones (a removal, a
    /// move, an insertion before a sibling, an undo bringing a node back): a
    /// node with a larger id is still at the path it was added at.
    reshaped_upto: NodeId,
}

/// One bit per node id this transaction hands out (from its first new id):
/// whether the node was changed after it was inserted.
#[derive(Default)]
struct Altered {
    first: NodeId,
    bits: Vec<u64>,
}

impl Altered {
    fn slot(&self, id: NodeId) -> Option<(usize, u64)> {
        let i = usize::try_from(id.checked_sub(self.first)?).ok()?;
        Some((i / 64, 1u64 << (i % 64)))
    }

    fn mark(&mut self, id: NodeId) {
        if let Some((word, bit)) = self.slot(id) {
            if self.bits.len() <= word {
                self.bits.resize(word + 1, 0);
            }
            if let Some(w) = self.bits.get_mut(word) {
                *w |= bit;
            }
        }
    }

    fn contains(&self, id: NodeId) -> bool {
        self.slot(id)
            .is_some_and(|(word, bit)| self.bits.get(word).is_some_and(|w| w & bit != 0))
    }
}

impl<'a> Deref for Guarded<'a> {
    type Target = dyn BackendTxn + 'a;

    fn deref(&self) -> &Self::Target {
        &*self.inner
    }
}

impl<'a> Guarded<'a> {
    /// Guards `inner`.
    pub(crate) fn new(inner: Box<dyn BackendTxn + 'a>) -> Guarded<'a> {
        let first = inner.first_new_id();
        Guarded {
            inner,
            cleared: HashSet::new(),
            any: None,
            altered: Altered {
                first,
                bits: Vec::new(),
            },
            kids_altered: Altered {
                first,
                bits: Vec::new(),
            },
            inserting: NodeId::MAX,
            last_inserted: None,
            last_id: NodeId::MIN,
            reshaped_upto: NodeId::MIN,
        }
    }

    /// Whether there may be digests to clear.
    fn any(&mut self) -> Result<bool> {
        match self.any {
            Some(a) => Ok(a),
            None => {
                let a = self.inner.has_aggregate_digests()?;
                self.any = Some(a);
                Ok(a)
            }
        }
    }

    /// Clears the digests of node `id` and of its ancestors.
    fn changed(&mut self, id: NodeId) -> Result<()> {
        if !self.any()? {
            return Ok(());
        }
        let mut at = Some(id);
        while let Some(n) = at {
            if !self.cleared.insert(n) {
                break;
            }
            self.inner.clear_aggregate_digest(n)?;
            at = self.inner.node_by_id(n)?.and_then(|r| r.parent);
        }
        Ok(())
    }

    /// Whether node `id` was created by this transaction and no mutation changed
    /// its properties, types or place since its insertion (with its first
    /// properties). Its children may have changed.
    pub(crate) fn unaltered(&self, id: NodeId) -> bool {
        id >= self.altered.first && !self.altered.contains(id)
    }

    /// Whether node `id` is [`Guarded::unaltered`] and has the children it was
    /// inserted with, as inserted (their names, types and mixins): none was
    /// inserted below it since, nor removed, nor updated.
    pub(crate) fn children_unaltered(&self, id: NodeId) -> bool {
        self.unaltered(id) && !self.kids_altered.contains(id)
    }

    /// Notes that the nodes inserted from here until [`Guarded::end_insertion`]
    /// are one subtree: a child inserted below a node of it is part of that
    /// node's insertion ([`Guarded::children_unaltered`]).
    pub(crate) fn begin_insertion(&mut self) {
        self.inserting = self.last_id.saturating_add(1);
    }

    /// Ends what [`Guarded::begin_insertion`] began.
    pub(crate) fn end_insertion(&mut self) {
        self.inserting = NodeId::MAX;
    }

    /// Notes that the children of the parent of node `id` are about to change
    /// (`id` is removed or updated). Only a node this transaction created can
    /// have a parent created by it.
    fn alter_parent_of(&mut self, id: NodeId) -> Result<()> {
        if id < self.altered.first {
            return Ok(());
        }
        if let Some(parent) = self.inner.node_by_id(id)?.and_then(|r| r.parent) {
            self.kids_altered.mark(parent);
        }
        Ok(())
    }

    /// Whether node `id` is [`Guarded::unaltered`] and still at the path it was
    /// added at: no mutation since its insertion may have moved any node (see
    /// [`Guarded::reshaped`]), so nothing needs to look its path up.
    pub(crate) fn as_added(&self, id: NodeId) -> bool {
        id > self.reshaped_upto && self.unaltered(id)
    }

    /// Notes a mutation that may change the paths of nodes already there
    /// (same-name indexes shift, subtrees go): no node added so far counts as
    /// [`Guarded::as_added`] any more.
    pub(crate) fn reshaped(&mut self) {
        self.reshaped_upto = self.last_id;
    }

    /// Notes that node `id` changed after its insertion.
    fn alter(&mut self, id: NodeId) {
        self.altered.mark(id);
        if self.last_inserted == Some(id) {
            self.last_inserted = None;
        }
    }

    /// Forgets what was cleared (the digests may be back).
    fn forget(&mut self) {
        self.cleared.clear();
        self.any = None;
    }

    pub(crate) fn alloc_node_id(&mut self) -> Result<NodeId> {
        let id = self.inner.alloc_node_id()?;
        self.last_id = self.last_id.max(id);
        Ok(id)
    }

    pub(crate) fn insert_workspace(
        &mut self,
        name: &str,
        id: Option<WorkspaceId>,
    ) -> Result<WorkspaceId> {
        self.inner.insert_workspace(name, id)
    }

    /// Node ids are never reused, so a removed workspace's digests can never
    /// match a node again; a workspace an undo brings back gets its nodes through
    /// [`Guarded::insert_node`], which clears them.
    pub(crate) fn remove_workspace(&mut self, ws: WorkspaceId) -> Result<u64> {
        self.reshaped();
        self.inner.remove_workspace(ws)
    }

    pub(crate) fn insert_node(&mut self, node: NewNode) -> Result<()> {
        if let Some(parent) = node.parent {
            self.changed(parent)?;
            // Ids grow: a parent from before the insertion in progress (or
            // with none in progress) gets a child it was not inserted with.
            if parent < self.inserting {
                self.kids_altered.mark(parent);
            }
        }
        // An undo brings a node back with its old id (among siblings that may
        // shift): a digest it had is stale.
        if node.id < self.inner.first_new_id() {
            self.reshaped();
            if self.any()? {
                self.inner.clear_aggregate_digest(node.id)?;
                self.cleared.remove(&node.id);
            }
        }
        let id = node.id;
        self.inner.insert_node(node)?;
        self.last_inserted = Some(id);
        Ok(())
    }

    /// The removed nodes keep their digests (ids are never reused; a node an undo
    /// brings back is cleared by [`Guarded::insert_node`]).
    pub(crate) fn remove_subtree(&mut self, id: NodeId) -> Result<u64> {
        self.alter_parent_of(id)?;
        self.changed(id)?;
        self.alter(id);
        self.reshaped();
        self.inner.remove_subtree(id)
    }

    /// May move the node among same-name siblings, which changes paths: see
    /// [`Guarded::update_node_keeping_paths`].
    pub(crate) fn update_node(
        &mut self,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
        position: i64,
    ) -> Result<()> {
        self.reshaped();
        self.update_node_keeping_paths(id, primary_type, mixins, position)
    }

    /// [`Guarded::update_node`] of a node that keeps its `position`, or that
    /// has no same-name sibling (moving it changes no path).
    pub(crate) fn update_node_keeping_paths(
        &mut self,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
        position: i64,
    ) -> Result<()> {
        self.alter_parent_of(id)?;
        self.changed(id)?;
        self.alter(id);
        self.inner.update_node(id, primary_type, mixins, position)
    }

    pub(crate) fn set_property(&mut self, id: NodeId, property: &Property) -> Result<()> {
        self.changed(id)?;
        self.alter(id);
        self.inner.set_property(id, property)
    }

    pub(crate) fn set_properties(&mut self, id: NodeId, properties: &[&Property]) -> Result<()> {
        if properties.is_empty() {
            return Ok(());
        }
        self.changed(id)?;
        // The properties a node is inserted with are part of its insertion.
        if self.last_inserted == Some(id) {
            self.last_inserted = None;
        } else {
            self.alter(id);
        }
        self.inner.set_properties(id, properties)
    }

    pub(crate) fn remove_property(&mut self, id: NodeId, name: &str) -> Result<bool> {
        self.changed(id)?;
        self.alter(id);
        self.inner.remove_property(id, name)
    }

    pub(crate) fn set_namespace(&mut self, prefix: &str, uri: Option<&str>) -> Result<()> {
        self.inner.set_namespace(prefix, uri)
    }

    pub(crate) fn set_node_type(&mut self, name: &str, cnd: Option<&str>) -> Result<()> {
        self.inner.set_node_type(name, cnd)
    }

    /// Records a digest for node `id`: what was cleared may now hold one again.
    pub(crate) fn set_aggregate_digest(&mut self, id: NodeId, digest: &[u8]) -> Result<()> {
        self.inner.set_aggregate_digest(id, digest)?;
        self.cleared.clear();
        self.any = Some(true);
        Ok(())
    }

    /// Records digests for the nodes at the paths of `records` that exist
    /// ([`ContentTxn::set_aggregate_digests_at`]): as
    /// [`Guarded::set_aggregate_digest`] once for each.
    pub(crate) fn set_aggregate_digests_at(
        &mut self,
        ws: WorkspaceId,
        records: &[(&str, &[u8])],
    ) -> Result<()> {
        if self.inner.set_aggregate_digests_at(ws, records)? > 0 {
            self.cleared.clear();
            self.any = Some(true);
        }
        Ok(())
    }

    pub(crate) fn record_node(&mut self, op: OperationId, image: &NodeImage) -> Result<()> {
        self.inner.record_node(op, image)
    }

    pub(crate) fn record_prop(&mut self, op: OperationId, image: &PropImage) -> Result<()> {
        self.inner.record_prop(op, image)
    }

    pub(crate) fn record_reg(&mut self, op: OperationId, image: &RegImage) -> Result<()> {
        self.inner.record_reg(op, image)
    }

    pub(crate) fn set_undoes(&mut self, op: OperationId, target: OperationId) -> Result<()> {
        self.inner.set_undoes(op, target)
    }

    pub(crate) fn finish_operation(&mut self, op: OperationId) -> Result<()> {
        self.inner.finish_operation(op)
    }

    pub(crate) fn savepoint(&mut self) -> Result<()> {
        self.inner.savepoint()
    }

    pub(crate) fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.inner.rollback_to_savepoint()?;
        self.forget();
        // What was rolled back may have been changed, or its ids handed out
        // again: no node counts as unaltered from here on.
        self.altered.first = NodeId::MAX;
        self.last_inserted = None;
        Ok(())
    }

    pub(crate) fn release_savepoint(&mut self) -> Result<()> {
        self.inner.release_savepoint()
    }

    pub(crate) fn prepare_commit(&mut self) {
        self.inner.prepare_commit();
    }

    pub(crate) fn commit(self) -> Result<()> {
        self.inner.commit()
    }

    pub(crate) fn rollback(self) -> Result<()> {
        self.inner.rollback()
    }
}
