//! The operation log: the backend trait for recorded operations and the
//! before-images of what each touched.
//!
//! It sits beside the content store ([`super::content`]), not inside it: the
//! journaled layer ([`super::journaled`]) records into it as it changes content,
//! and reads it back for history, undo and its conflict checks. A backend keeps
//! both in one database when it can, so that an operation's content and its
//! journal commit together ([`BackendTxn`] is the one transaction over both).
//!
//! The first image of an item in an operation wins: recording an item again in the
//! same operation is ignored, so an image is always the state before the operation.

use super::content::{ContentRead, ContentTxn, NodeId, WorkspaceId};
use super::{OperationId, OperationMeta, OperationSummary, Result};
use crate::value::Property;

/// What a node was before an operation touched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeBefore {
    /// Its parent (`None`: a workspace root).
    pub parent: Option<NodeId>,
    /// Its name.
    pub name: String,
    /// Its position among its siblings.
    pub position: i64,
    /// `jcr:primaryType`.
    pub primary_type: String,
    /// `jcr:mixinTypes`.
    pub mixins: Vec<String>,
}

/// The image of a node an operation touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeImage {
    /// The node.
    pub node: NodeId,
    /// Its workspace.
    pub ws: WorkspaceId,
    /// Its path when first touched (for created nodes: at the operation's end).
    pub path: String,
    /// What it was; `None` when the operation created it.
    pub before: Option<NodeBefore>,
}

/// The image of a property an operation touched.
#[derive(Debug, Clone, PartialEq)]
pub struct PropImage {
    /// Its node.
    pub node: NodeId,
    /// Its name.
    pub name: String,
    /// The node's workspace.
    pub ws: WorkspaceId,
    /// The node's path when first touched.
    pub path: String,
    /// Its value before; `None` when it did not exist.
    pub before: Option<Property>,
}

/// What a registration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegKind {
    /// A namespace (key: prefix, value: URI).
    Namespace,
    /// A node type (key: name, value: CND).
    NodeType,
    /// A workspace (key: name, value: its [`WorkspaceId`] as text).
    Workspace,
}

impl RegKind {
    /// The name used in messages (`namespace cq`).
    pub fn label(self) -> &'static str {
        match self {
            RegKind::Namespace => "namespace",
            RegKind::NodeType => "nodetype",
            RegKind::Workspace => "workspace",
        }
    }
}

/// The image of a registration an operation touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegImage {
    /// What it registers.
    pub kind: RegKind,
    /// The prefix, type name or workspace name.
    pub key: String,
    /// Its value before; `None` when it was not registered.
    pub before: Option<String>,
}

/// Reading the operation log.
pub trait OpLogRead {
    /// Every operation, oldest first.
    fn history(&self) -> Result<Vec<OperationSummary>>;

    /// One operation's summary and options.
    fn operation_record(
        &self,
        id: OperationId,
    ) -> Result<Option<(OperationSummary, serde_json::Value)>>;

    /// The node images of `op` in node id order, at most `limit` after node `after`.
    fn node_images(
        &self,
        op: OperationId,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeImage>>;

    /// The image of node `node` in `op`.
    fn node_image(&self, op: OperationId, node: NodeId) -> Result<Option<NodeImage>>;

    /// The property images of `op` in (node, name) order, at most `limit` after
    /// `after`.
    fn prop_images(
        &self,
        op: OperationId,
        after: Option<(NodeId, String)>,
        limit: usize,
    ) -> Result<Vec<PropImage>>;

    /// The registration images of `op`, by kind and key.
    fn reg_images(&self, op: OperationId) -> Result<Vec<RegImage>>;

    /// The operations after `after` that recorded an image of node `node` or of
    /// one of its properties, ascending.
    fn ops_touching_node(&self, node: NodeId, after: OperationId) -> Result<Vec<OperationId>> {
        let mut out = Vec::new();
        for op in self.history()? {
            if op.id <= after {
                continue;
            }
            if self.node_image(op.id, node)?.is_some() || op_has_prop_of(self, op.id, node)? {
                out.push(op.id);
            }
        }
        Ok(out)
    }
}

/// Whether `op` recorded a property of `node` (by paging through its images).
fn op_has_prop_of<L: OpLogRead + ?Sized>(log: &L, op: OperationId, node: NodeId) -> Result<bool> {
    let mut after = None;
    loop {
        let page = log.prop_images(op, after, PAGE)?;
        if page.iter().any(|p| p.node == node) {
            return Ok(true);
        }
        match page.last() {
            Some(p) if page.len() == PAGE => after = Some((p.node, p.name.clone())),
            _ => return Ok(false),
        }
    }
}

/// Images read per call when paging through an operation.
pub(crate) const PAGE: usize = 1000;

/// Writing the operation log, inside the transaction that changes the content.
pub trait OpLogTxn: OpLogRead {
    /// Records a new operation and returns its id: larger than every id before,
    /// pruned ones included.
    fn insert_operation(&mut self, meta: &OperationMeta) -> Result<OperationId>;

    /// Records a node image, unless `op` has one of that node.
    fn record_node(&mut self, op: OperationId, image: &NodeImage) -> Result<()>;

    /// Records a property image, unless `op` has one of that property.
    fn record_prop(&mut self, op: OperationId, image: &PropImage) -> Result<()>;

    /// Records a registration image, unless `op` has one of that registration.
    fn record_reg(&mut self, op: OperationId, image: &RegImage) -> Result<()>;

    /// Notes that `op` undid `target`.
    fn set_undoes(&mut self, op: OperationId, target: OperationId) -> Result<()>;

    /// Stores the counts the history shows for `op`.
    fn set_counts(
        &mut self,
        op: OperationId,
        nodes: u64,
        properties: u64,
        registrations: u64,
    ) -> Result<()>;

    /// Drops operation `through` and every earlier one with their images; later
    /// operations never take their ids.
    fn drop_operations_through(&mut self, through: OperationId) -> Result<()>;
}

/// One write transaction over a backend's content store and operation log, which
/// commit together.
pub trait BackendTxn: ContentTxn + OpLogTxn {
    /// Ends recording operation `op` before the commit: records the nodes it
    /// created as "did not exist" and stores its counts. The default
    /// ([`super::journaled::capture::finish_operation`]) pages through the new
    /// nodes; a backend may do the same in bulk.
    fn finish_operation(&mut self, op: OperationId) -> Result<()> {
        super::journaled::capture::finish_operation(self, op)
    }

    /// Marks a point [`BackendTxn::rollback_to_savepoint`] can go back to (one at a
    /// time).
    fn savepoint(&mut self) -> Result<()>;

    /// Undoes everything since the savepoint and forgets it.
    fn rollback_to_savepoint(&mut self) -> Result<()>;

    /// Forgets the savepoint, keeping the changes.
    fn release_savepoint(&mut self) -> Result<()>;

    /// The transaction's content is written but for what its commit adds (the
    /// journal): a backend may start making it durable now, beside the work left
    /// before the commit. Changes after it are still allowed, and the commit makes
    /// them durable too. The default does nothing.
    fn prepare_commit(&mut self) {}

    /// Makes everything durable and visible.
    fn commit(self: Box<Self>) -> Result<()>;

    /// Discards everything (as dropping it does).
    fn rollback(self: Box<Self>) -> Result<()>;
}

/// What a write transaction may write: the whole repository (registries,
/// workspaces, every workspace's content), or the content of one workspace (and
/// new namespaces and node types, which a backend serializes on their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteScope<'a> {
    /// Everything: the backend's repository-wide write lock.
    Repository,
    /// The content of the named (existing) workspace only.
    Workspace(&'a str),
}

/// A storage backend: a content store with an operation log beside it.
///
/// Implementing this (and the traits of its transaction) is all a new backend
/// writes; [`super::journaled::Journaled`] turns it into a [`super::Store`] with
/// history, undo and its conflict checks.
pub trait StorageBackend {
    /// The committed content.
    fn content(&self) -> &dyn ContentRead;

    /// The committed operation log.
    fn oplog(&self) -> &dyn OpLogRead;

    /// Begins a write transaction (taking the backend's write lock, if any).
    fn begin(&mut self) -> Result<Box<dyn BackendTxn + '_>>;

    /// Begins a write transaction that writes only to `scope` (see [`WriteScope`]),
    /// so that a backend may let transactions of other workspaces run beside it.
    /// The default takes the one write lock ([`StorageBackend::begin`]).
    fn begin_scoped(&mut self, scope: WriteScope<'_>) -> Result<Box<dyn BackendTxn + '_>> {
        let _ = scope;
        self.begin()
    }

    /// [`super::Store::gc`]; backends without housekeeping have nothing to do.
    fn gc(&mut self, dry_run: bool) -> Result<super::GcReport> {
        Ok(super::GcReport {
            dry_run,
            ..super::GcReport::default()
        })
    }
}

/// Implements [`OpLogRead`] for a transaction type `$t` by forwarding every method
/// to the reader `$e` (an expression of `$s`, the transaction, giving a `&R` with
/// `R: OpLogRead`), as [`forward_content_read`](super::content::forward_content_read)
/// does for the content.
macro_rules! forward_oplog_read {
    ($t:ty, |$s:ident| $e:expr) => {
        impl $crate::repository::oplog::OpLogRead for $t {
            fn history(
                &self,
            ) -> $crate::repository::Result<Vec<$crate::repository::OperationSummary>> {
                let $s = self;
                $crate::repository::oplog::OpLogRead::history($e)
            }
            fn operation_record(
                &self,
                id: $crate::repository::OperationId,
            ) -> $crate::repository::Result<
                Option<($crate::repository::OperationSummary, serde_json::Value)>,
            > {
                let $s = self;
                $crate::repository::oplog::OpLogRead::operation_record($e, id)
            }
            fn node_images(
                &self,
                op: $crate::repository::OperationId,
                after: Option<$crate::repository::content::NodeId>,
                limit: usize,
            ) -> $crate::repository::Result<Vec<$crate::repository::oplog::NodeImage>> {
                let $s = self;
                $crate::repository::oplog::OpLogRead::node_images($e, op, after, limit)
            }
            fn node_image(
                &self,
                op: $crate::repository::OperationId,
                node: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<Option<$crate::repository::oplog::NodeImage>> {
                let $s = self;
                $crate::repository::oplog::OpLogRead::node_image($e, op, node)
            }
            fn prop_images(
                &self,
                op: $crate::repository::OperationId,
                after: Option<($crate::repository::content::NodeId, String)>,
                limit: usize,
            ) -> $crate::repository::Result<Vec<$crate::repository::oplog::PropImage>> {
                let $s = self;
                $crate::repository::oplog::OpLogRead::prop_images($e, op, after, limit)
            }
            fn reg_images(
                &self,
                op: $crate::repository::OperationId,
            ) -> $crate::repository::Result<Vec<$crate::repository::oplog::RegImage>> {
                let $s = self;
                $crate::repository::oplog::OpLogRead::reg_images($e, op)
            }
            fn ops_touching_node(
                &self,
                node: $crate::repository::content::NodeId,
                after: $crate::repository::OperationId,
            ) -> $crate::repository::Result<Vec<$crate::repository::OperationId>> {
                let $s = self;
                $crate::repository::oplog::OpLogRead::ops_touching_node($e, node, after)
            }
        }
    };
}
pub(crate) use forward_oplog_read;
