//! History, undo and conflict checks, written once above every backend.
//!
//! A backend implements the primitives of a content store ([`super::content`]) and
//! an operation log beside it ([`super::oplog`]), nothing else.
//! [`Journaled`] wraps such a [`StorageBackend`] into a [`Store`], and its
//! transactions into [`Transaction`]s, adding what every backend needs the same:
//!
//! * checking arguments before anything is written (names, property values, uuids
//!   unique per workspace, same-name rules, namespace rules), so that a refused call
//!   changes nothing, whichever backend runs it (`write`);
//! * computing sibling positions, spaced [`GAP`] apart and renumbered when a gap
//!   runs out (`write`);
//! * capturing, in a recorded operation, the before-image of every node, property
//!   and registration the first time a mutation touches it, into the operation log
//!   in the same backend transaction (`capture`);
//! * undo: replaying an operation's before-images as a new operation, refusing when
//!   a later standing operation touched the same items unless forced (`undo`);
//! * history, operation details and pruning, from the operation log.
//!
//! So a new backend gets undo, history and conflict checks without writing them:
//! the strict in-memory backend ([`super::memory`]) has no undo code of its own and
//! runs the whole contract suite ([`super::contract`]), undo, conflicts and pruning
//! included.
//!
//! Before-images rather than snapshots: an operation that touches ten nodes of a
//! million records ten nodes. Nodes a transaction creates need no image (undo
//! removes them whole); they are recorded as "did not exist" when it commits.

pub mod capture;
mod guard;
pub(crate) mod read;
pub(crate) mod sns;
mod undo;
mod walk;
mod write;

use super::content::{ContentRead, NodeId, NodeRecord};
use super::oplog::{BackendTxn, OpLogRead, StorageBackend, WriteScope};
use super::{
    AddOptions, GcReport, NodeInfo, OperationDetail, OperationId, OperationMeta, OperationSummary,
    PruneReport, PruneSelect, RepositoryError, Result, Store, StoreRead, SubtreeWalk, Transaction,
    UndoReport,
};
use crate::namespace::NamespaceRegistry;
use crate::node::Node;
use crate::value::{Binary, Property};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// The spacing of sibling positions.
pub const GAP: i64 = 1 << 32;

/// A [`StorageBackend`] as a [`Store`]: see the module doc.
#[derive(Debug)]
pub struct Journaled<B> {
    backend: B,
}

impl<B: StorageBackend> Journaled<B> {
    /// Wraps `backend`.
    pub fn new(backend: B) -> Journaled<B> {
        Journaled { backend }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }
}

/// An error for an inconsistency a backend should never produce.
pub(crate) fn corrupt(
    c: &(impl ContentRead + ?Sized),
    detail: impl Into<String>,
) -> RepositoryError {
    RepositoryError::Corrupt {
        repository: c.location().to_path_buf(),
        detail: detail.into(),
    }
}

/// [`StoreRead`] over a content store and an operation log.
macro_rules! store_read_via {
    ($content:expr, $oplog:expr) => {
        fn location(&self) -> &Path {
            $content(self).location()
        }
        fn workspaces(&self) -> Result<Vec<String>> {
            Ok($content(self)
                .workspaces()?
                .into_iter()
                .map(|(n, _)| n)
                .collect())
        }
        fn node(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
            read::node(&*$content(self), workspace, path)
        }
        fn children(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
            read::children(&*$content(self), workspace, path)
        }
        fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>> {
            let c = $content(self);
            let id = read::require_id(&*c, workspace, path)?;
            c.properties(id)
        }
        fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>> {
            let c = $content(self);
            let id = read::require_id(&*c, workspace, path)?;
            c.property(id, name)
        }
        fn children_without_uuid(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
            read::children_without_uuid(&*$content(self), workspace, path)
        }
        fn node_without_uuid(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
            read::node_without_uuid(&*$content(self), workspace, path)
        }
        fn properties_against(
            &self,
            workspace: &str,
            path: &str,
            known: &[Property],
        ) -> Result<Vec<crate::repository::content::StoredProperty>> {
            let c = $content(self);
            let id = read::require_id(&*c, workspace, path)?;
            c.properties_against(id, known)
        }
        fn node_shallow(
            &self,
            workspace: &str,
            path: &str,
            want_children: &mut dyn FnMut(&str, &[String]) -> bool,
        ) -> Result<Option<Node>> {
            read::node_shallow(&*$content(self), workspace, path, want_children)
        }
        fn nodes_shallow(
            &self,
            workspace: &str,
            paths: &[&str],
            want_children: &mut dyn FnMut(&str, &[String]) -> bool,
        ) -> Result<Vec<Option<Node>>> {
            read::nodes_shallow(&*$content(self), workspace, paths, want_children)
        }
        fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
            let c = $content(self);
            let ws = read::require_ws(&*c, workspace)?;
            match c.uuid_owner(ws, uuid)? {
                Some(id) => Ok(c.node_by_id(id)?.map(|r| r.path)),
                None => Ok(None),
            }
        }
        fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>> {
            Ok(Box::new(walk::Walk::start(
                $content(self),
                workspace,
                path,
            )?))
        }
        fn namespaces(&self) -> Result<NamespaceRegistry> {
            $content(self).namespaces()
        }
        fn node_types(&self) -> Result<Vec<(String, String)>> {
            $content(self).node_types()
        }
        fn node_type(&self, name: &str) -> Result<Option<String>> {
            $content(self).node_type(name)
        }
        fn history(&self) -> Result<Vec<OperationSummary>> {
            $oplog(self).history()
        }
        fn operation(&self, id: OperationId) -> Result<OperationDetail> {
            read::operation(&*$content(self), &*$oplog(self), id)
        }
        fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
            $content(self).put_blob(data)
        }
        fn put_hashed_blob(&self, data: &crate::repository::blob::HashedBytes) -> Result<Binary> {
            $content(self).put_hashed_blob(data)
        }
        fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
            $content(self).open_blob(sha256)
        }
        fn blob_stored(&self, sha256: &str, size: u64) -> Result<bool> {
            $content(self).blob_stored(sha256, size)
        }
    };
}

fn store_content<B: StorageBackend>(s: &Journaled<B>) -> &dyn ContentRead {
    s.backend.content()
}

fn store_oplog<B: StorageBackend>(s: &Journaled<B>) -> &dyn OpLogRead {
    s.backend.oplog()
}

impl<B: StorageBackend> StoreRead for Journaled<B> {
    store_read_via!(store_content, store_oplog);
}

impl<B: StorageBackend> Store for Journaled<B> {
    fn begin(&mut self, description: &str) -> Result<Box<dyn Transaction + '_>> {
        let inner = self.backend.begin()?;
        Ok(Box::new(JournaledTxn::new(inner, description, None)?))
    }

    fn begin_operation(&mut self, meta: OperationMeta) -> Result<Box<dyn Transaction + '_>> {
        let inner = self.backend.begin()?;
        let description = meta.description.clone();
        Ok(Box::new(JournaledTxn::new(
            inner,
            &description,
            Some(meta),
        )?))
    }

    fn begin_operation_in(
        &mut self,
        meta: OperationMeta,
        workspace: &str,
    ) -> Result<Box<dyn Transaction + '_>> {
        // A workspace that does not exist yet is created: that takes the whole
        // repository (a workspace removed meanwhile is refused in `ensure_ws`).
        if self.backend.content().workspace_id(workspace)?.is_none() {
            return self.begin_operation(meta);
        }
        let inner = self
            .backend
            .begin_scoped(WriteScope::Workspace(workspace))?;
        let description = meta.description.clone();
        let mut txn = JournaledTxn::new(inner, &description, Some(meta))?;
        txn.scope = Some(workspace.to_string());
        Ok(Box::new(txn))
    }

    fn prune_history(&mut self, select: PruneSelect, dry_run: bool) -> Result<PruneReport> {
        prune(self.backend.begin()?, select, dry_run)
    }

    fn gc(&mut self, dry_run: bool) -> Result<GcReport> {
        self.backend.gc(dry_run)
    }
}

/// [`Store::prune_history`] in backend transaction `txn` (which holds the write
/// lock, so that no operation commits meanwhile).
pub fn prune(
    mut txn: Box<dyn BackendTxn + '_>,
    select: PruneSelect,
    dry_run: bool,
) -> Result<PruneReport> {
    let ops = txn.history()?;
    let drop = select.count_dropped(&ops);
    let report = PruneReport {
        dropped: ops.get(..drop).unwrap_or_default().to_vec(),
        kept: ops.len() - drop,
        dry_run,
    };
    match (dry_run, report.dropped.last()) {
        (false, Some(last)) => {
            txn.drop_operations_through(last.id)?;
            txn.commit()?;
        }
        _ => txn.rollback()?,
    }
    Ok(report)
}

/// A transaction of a [`Journaled`] store.
pub struct JournaledTxn<'a> {
    /// The backend transaction, whose mutations clear aggregate digests.
    inner: guard::Guarded<'a>,
    /// The operation being recorded, if any.
    op: Option<OperationId>,
    /// Node ids from here on were created by this transaction.
    first_id: NodeId,
    /// Nodes this transaction brought back (by undo) with their old ids.
    reinserted: BTreeSet<NodeId>,
    /// Its description, for messages.
    description: String,
    /// The one workspace it may write to ([`Store::begin_operation_in`]); `None`:
    /// any.
    pub(crate) scope: Option<String>,
}

impl<'a> JournaledTxn<'a> {
    /// Wraps a backend transaction; for an operation, records its metadata.
    pub fn new(
        mut inner: Box<dyn BackendTxn + 'a>,
        description: &str,
        meta: Option<OperationMeta>,
    ) -> Result<JournaledTxn<'a>> {
        let op = match &meta {
            Some(m) => Some(inner.insert_operation(m)?),
            None => None,
        };
        let first_id = inner.first_new_id();
        Ok(JournaledTxn {
            inner: guard::Guarded::new(inner),
            op,
            first_id,
            reinserted: BTreeSet::new(),
            description: description.to_string(),
            scope: None,
        })
    }

    /// Whether this transaction created node `id` (so it has no before-image).
    pub(crate) fn created_here(&self, id: NodeId) -> bool {
        id >= self.first_id || self.reinserted.contains(&id)
    }

    /// Refuses `action` on `workspace` outside the transaction's scope.
    pub(crate) fn in_scope(&self, workspace: &str, action: &'static str) -> Result<()> {
        match &self.scope {
            Some(w) if w != workspace => Err(RepositoryError::NotAllowed {
                workspace: workspace.to_string(),
                path: "/".to_string(),
                action,
                reason: format!("this operation writes only to workspace {w}"),
            }),
            _ => Ok(()),
        }
    }

    /// The node at `path` of `workspace`, which must exist.
    fn require(&self, workspace: &str, path: &str) -> Result<NodeRecord> {
        read::require(&*self.inner, workspace, path)
    }
}

impl std::fmt::Debug for JournaledTxn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournaledTxn")
            .field("description", &self.description)
            .field("op", &self.op)
            .finish()
    }
}

fn txn_content<'s>(t: &'s JournaledTxn<'_>) -> &'s dyn ContentRead {
    &*t.inner
}

fn txn_oplog<'s>(t: &'s JournaledTxn<'_>) -> &'s dyn OpLogRead {
    &*t.inner
}

impl StoreRead for JournaledTxn<'_> {
    store_read_via!(txn_content, txn_oplog);
}

impl Transaction for JournaledTxn<'_> {
    fn operation_id(&self) -> Option<OperationId> {
        self.op
    }

    fn create_workspace(&mut self, name: &str) -> Result<bool> {
        Ok(self.ensure_ws(name)?.1)
    }

    fn delete_workspace(&mut self, name: &str, force: bool) -> Result<u64> {
        if self.scope.is_some() {
            self.in_scope("", "delete workspace")?;
        }
        self.delete_ws(name, force)
    }

    fn add_node(
        &mut self,
        workspace: &str,
        parent: &str,
        node: &Node,
        options: &AddOptions,
    ) -> Result<String> {
        self.in_scope(workspace, "add node")?;
        self.add(workspace, parent, node, options)
    }

    fn remove_node(&mut self, workspace: &str, path: &str) -> Result<u64> {
        self.in_scope(workspace, "remove node")?;
        let row = self.require(workspace, path)?;
        self.remove(workspace, &row)
    }

    fn set_property(&mut self, workspace: &str, path: &str, property: &Property) -> Result<()> {
        self.in_scope(workspace, "set property")?;
        self.set_prop(workspace, path, property)
    }

    fn remove_property(&mut self, workspace: &str, path: &str, name: &str) -> Result<bool> {
        self.in_scope(workspace, "remove property")?;
        let row = self.require(workspace, path)?;
        if self.inner.property(row.id, name)?.is_none() {
            return Ok(false);
        }
        self.touch_prop(&row, name)?;
        self.inner.remove_property(row.id, name)
    }

    fn set_primary_type(&mut self, workspace: &str, path: &str, primary_type: &str) -> Result<()> {
        self.in_scope(workspace, "set primary type")?;
        self.set_fields(workspace, path, Some(primary_type), None)
    }

    fn set_mixins(&mut self, workspace: &str, path: &str, mixins: &[String]) -> Result<()> {
        self.in_scope(workspace, "set mixins")?;
        self.set_fields(workspace, path, None, Some(mixins))
    }

    fn order_before(
        &mut self,
        workspace: &str,
        parent: &str,
        child: &str,
        before: Option<&str>,
    ) -> Result<String> {
        self.in_scope(workspace, "order before")?;
        self.reorder(workspace, parent, child, before)
    }

    fn register_namespace(&mut self, prefix: &str, uri: &str) -> Result<()> {
        self.add_namespace(prefix, uri)
    }

    fn register_node_type(&mut self, name: &str, cnd: &str) -> Result<()> {
        crate::name::validate(name)?;
        if self.inner.node_type(name)?.as_deref() == Some(cnd) {
            return Ok(());
        }
        self.touch_reg(super::oplog::RegKind::NodeType, name)?;
        self.inner.set_node_type(name, Some(cnd))
    }

    fn unregister_node_type(&mut self, name: &str) -> Result<bool> {
        if self.inner.node_type(name)?.is_none() {
            return Ok(false);
        }
        self.touch_reg(super::oplog::RegKind::NodeType, name)?;
        self.inner.set_node_type(name, None)?;
        Ok(true)
    }

    fn undo(&mut self, id: OperationId, force: bool) -> Result<UndoReport> {
        if self.scope.is_some() {
            self.in_scope("", "undo")?;
        }
        self.undo_op(id, force)
    }

    fn added_unaltered(&self, workspace: &str, path: &str) -> Result<Option<i64>> {
        self.unaltered_at(workspace, path)
    }

    fn still_as_added(&self, id: i64) -> bool {
        self.inner.as_added(id)
    }

    fn children_as_added(&self, id: i64) -> bool {
        self.inner.children_unaltered(id)
    }

    fn aggregate_digest(&self, workspace: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(ws) = self.inner.workspace_id(workspace)? else {
            return Ok(None);
        };
        match self.inner.node_at(ws, path)? {
            Some(row) => self.inner.aggregate_digest(row.id),
            None => Ok(None),
        }
    }

    fn has_aggregate_digests(&self) -> Result<bool> {
        self.inner.has_aggregate_digests()
    }

    fn has_aggregate_digests_below(&self, workspace: &str, path: &str) -> Result<bool> {
        match self.inner.workspace_id(workspace)? {
            Some(ws) => self.inner.has_aggregate_digests_below(ws, path),
            None => Ok(false),
        }
    }

    fn record_aggregate_digest(
        &mut self,
        workspace: &str,
        path: &str,
        digest: &[u8],
    ) -> Result<bool> {
        let Some(ws) = self.inner.workspace_id(workspace)? else {
            return Ok(false);
        };
        match self.inner.node_at(ws, path)? {
            Some(row) => {
                self.inner.set_aggregate_digest(row.id, digest)?;
                // A backend without a digest store keeps nothing (the defaults).
                Ok(self.inner.aggregate_digest(row.id)?.is_some())
            }
            None => Ok(false),
        }
    }

    fn record_aggregate_digests(
        &mut self,
        workspace: &str,
        records: &[(&str, &[u8])],
    ) -> Result<()> {
        let Some(ws) = self.inner.workspace_id(workspace)? else {
            return Ok(());
        };
        self.inner.set_aggregate_digests_at(ws, records)
    }

    fn prepare_commit(&mut self) {
        self.inner.prepare_commit();
    }

    fn commit(mut self: Box<Self>) -> Result<Option<OperationId>> {
        // The journal's rows go beside whatever the store makes durable meanwhile.
        self.inner.prepare_commit();
        if let Some(op) = self.op {
            self.inner.finish_operation(op)?;
        }
        let op = self.op;
        let JournaledTxn { inner, .. } = *self;
        inner.commit()?;
        Ok(op)
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        let JournaledTxn { inner, .. } = *self;
        inner.rollback()
    }
}
