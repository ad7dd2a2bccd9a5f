//! The repository packages are installed into: storage traits, the journaled layer
//! that gives every backend history and undo, and the SQLite (with a
//! content-addressed blob store) and in-memory backends.
//!
//! # Shape
//!
//! As in jj, callers talk to traits, not to a database: [`StoreRead`] reads,
//! [`Store`] is an open repository, and [`Transaction`] is the only way to change
//! one. All three traits are object safe, so the importer, exporter, dump, diff and
//! undo commands work on `dyn Store`.
//!
//! Below them, a backend implements two traits, jj's `Backend`/`OpStore` split:
//! a content store ([`content`]: workspaces, nodes, properties, order, registries,
//! blobs, as primitive reads and mutations) and an operation log beside it
//! ([`oplog`]: operations, before-images, pruning). [`journaled`] is written once
//! above them: it checks arguments, computes sibling positions, captures
//! before-images on every mutation, and implements undo with its conflict checks,
//! history and pruning. [`sqlite::SqliteStore`] is the embedded backend (content
//! and log in one database, committed together); [`memory::MemoryStore`] is the
//! strict in-memory backend the contract suite (`contract`) runs beside it. A
//! server-backed store (PostgreSQL) implements the same two traits.
//!
//! Repositories are opened by location through the factory in [`location`]
//! ([`open`], [`init`]): a folder path is the SQLite backend, a folder holding
//! a `type` file (backend and format), `repository.db` (SQLite, WAL mode) and
//! `blobs/ab/cdef…`, binary values stored once by their SHA-256.
//!
//! # Content model
//!
//! A repository has named workspaces (`default` and any other name, created by
//! [`Transaction::create_workspace`] or by the first write that names them), each
//! with its own tree below a root node of type `rep:root`. Nodes are addressed by
//! JCR paths in standard form (`/a/b[2]`, see [`crate::path`]); children are ordered
//! and may be same-name siblings, whose indexes shift when an earlier sibling goes.
//! A node has a primary type, mixins and properties of every [`crate::value`] type;
//! `jcr:primaryType` and `jcr:mixinTypes` are not properties here but node fields,
//! and `jcr:uuid` is an ordinary property that is indexed for [`StoreRead::find_by_uuid`].
//! Binary values are read back as [`Binary::Blob`]. The namespace registry and the
//! node type registry (CND text per type name) are repository-wide.
//!
//! # Operations and undo
//!
//! A transaction begun with [`Store::begin_operation`] is *recorded*: the first time
//! it touches a node or a property, the state before (the before-image, or "did not
//! exist") goes into the operation log, in the same backend transaction (for
//! SQLite: the journal tables of the same database). Undo applies
//! those before-images as a new recorded operation, so an undo can be undone, and
//! refuses when a later operation touched the same items (see [`Transaction::undo`]).
//! Before-images rather than snapshots: an install that touches ten nodes of a
//! million-node repository records ten nodes.

pub mod blob;
pub mod content;
#[cfg(test)]
pub(crate) mod contract;
pub mod error;
pub mod image;
pub mod journal;
pub mod journaled;
pub mod location;
pub mod memory;
pub mod oplog;
pub mod pg;
pub mod sqlite;
pub mod types;

pub use error::{RepositoryError, UndoConflict};
pub use image::{ImageInfo, ImageOptions, WorkspaceCounts};
pub use journal::{
    GcReport, OperationDetail, OperationId, OperationMeta, OperationSummary, PruneReport,
    PruneSelect, TouchKind, Touched, UndoReport,
};
pub use location::{init, init_with, open, open_with, Location, OpenOptions, RepositoryType};
pub use types::{AddOptions, NodeInfo, SameName, WalkEntry};

use crate::namespace::NamespaceRegistry;
use crate::node::Node;
use crate::value::{Binary, Property};
use std::io::Read;
use std::path::Path;

/// Shorthand for results of repository calls.
pub type Result<T, E = RepositoryError> = std::result::Result<T, E>;

/// The name of the workspace every repository starts with.
pub const DEFAULT_WORKSPACE: &str = "default";

/// The primary type of every workspace's root node.
pub const ROOT_TYPE: &str = "rep:root";

/// Reading a repository: the calls that [`Store`] and [`Transaction`] share.
///
/// Inside a transaction, reads see the transaction's own uncommitted changes; on a
/// store, they see the last committed state (other processes' running transactions
/// stay invisible). Every path argument is an absolute JCR path and is normalized
/// first (`/a/b[1]` is `/a/b`). Reading a workspace that does not exist is
/// [`RepositoryError::WorkspaceNotFound`].
pub trait StoreRead {
    /// Returns the repository folder (for messages).
    fn location(&self) -> &Path;

    /// Returns the names of all workspaces, sorted.
    fn workspaces(&self) -> Result<Vec<String>>;

    /// Returns the node at `path`: name, index, types and uuid, or `None`.
    fn node(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>>;

    /// Returns the children of the node at `path`, in order.
    fn children(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>>;

    /// Returns the properties of the node at `path`, sorted by name; `jcr:primaryType`
    /// and `jcr:mixinTypes` are not among them (see [`NodeInfo`]).
    fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>>;

    /// Returns one property of the node at `path`, or `None` when it has no such
    /// property. A missing node is [`RepositoryError::NodeNotFound`].
    fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>>;

    /// Returns the path of the node whose `jcr:uuid` is `uuid`, or `None`.
    fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>>;

    /// Walks the subtree at `path` in document order (a node, then its children's
    /// subtrees in child order), one node at a time.
    ///
    /// The walk pages through the tree (a few hundred siblings per query), so memory
    /// stays bounded by depth × page size, whatever the subtree's size. It reads one
    /// consistent snapshot: writes committed by others meanwhile are not seen.
    fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>>;

    /// Returns the repository's namespace registry (built-ins included).
    fn namespaces(&self) -> Result<NamespaceRegistry>;

    /// Returns every registered node type as (name, CND text), sorted by name.
    fn node_types(&self) -> Result<Vec<(String, String)>>;

    /// Returns the CND text registered for the node type `name`.
    fn node_type(&self, name: &str) -> Result<Option<String>>;

    /// Returns every recorded operation, oldest first.
    fn history(&self) -> Result<Vec<OperationSummary>>;

    /// Returns one recorded operation with the paths it touched.
    fn operation(&self, id: OperationId) -> Result<OperationDetail>;

    /// Streams `data` into the blob store and returns its [`Binary::Blob`].
    ///
    /// Writing a blob does not change the repository's content (nothing refers to it
    /// until a property does), so it needs no transaction. Equal content is stored
    /// once.
    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary>;

    /// [`StoreRead::put_blob`] of bytes hashed before (the installer hashes on its
    /// read-ahead thread): a store that keeps blobs under their SHA-256 uses that
    /// digest instead of hashing again. The default streams the bytes to `put_blob`.
    fn put_hashed_blob(&self, data: &blob::HashedBytes) -> Result<Binary> {
        self.put_blob(&mut data.bytes())
    }

    /// Opens the content of the blob with this SHA-256 (lower-case hex).
    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>>;

    /// Whether the blob with this SHA-256 and `size` is stored. `false` also when
    /// the store cannot tell (the default): a caller then puts the data as it would
    /// have. An install asks before putting data a committed property already
    /// holds, so that a re-import stores (and syncs) nothing for it.
    fn blob_stored(&self, sha256: &str, size: u64) -> Result<bool> {
        let _ = (sha256, size);
        Ok(false)
    }

    /// The children of the node at `path`, in order, as [`StoreRead::children`]
    /// gives them but with no identifier read: each `uuid` is `None` (or, from a
    /// backend that reads it anyway, the identifier). For callers that look at
    /// children's names and types only (an install deleting what its package no
    /// longer lists): one read, not one more a child.
    fn children_without_uuid(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
        self.children(workspace, path)
    }

    /// The node at `path` as [`StoreRead::node`] gives it but with no identifier
    /// read: its `uuid` is `None` (or, from a backend that reads it anyway, the
    /// identifier). For an install that looks at an existing node's types and then
    /// reads its properties ([`StoreRead::properties_against`]).
    fn node_without_uuid(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
        self.node(workspace, path)
    }

    /// The properties of the node at `path`, sorted by name, as
    /// [`StoreRead::properties`] gives them, but each equal to the property of its
    /// name in `known` may be answered by its index there, not decoded
    /// ([`content::ContentRead::properties_against`]): what an install compares an
    /// existing node with. The default reads them all.
    fn properties_against(
        &self,
        workspace: &str,
        path: &str,
        known: &[Property],
    ) -> Result<Vec<content::StoredProperty>> {
        let _ = known;
        Ok(self
            .properties(workspace, path)?
            .into_iter()
            .map(content::StoredProperty::Read)
            .collect())
    }

    /// Returns the node at `path` as a [`crate::node::Node`] (name without index,
    /// types, properties) with, when `want_children(primary_type, mixins)` says so,
    /// its children by name and types only (no properties, no grandchildren); `None`
    /// when there is no node. What a node type check reads: a backend answers it in
    /// fewer reads than [`StoreRead::node`], [`StoreRead::properties`] and
    /// [`StoreRead::children`] (which also reads every child's `jcr:uuid`).
    fn node_shallow(
        &self,
        workspace: &str,
        path: &str,
        want_children: &mut dyn FnMut(&str, &[String]) -> bool,
    ) -> Result<Option<crate::node::Node>> {
        let Some(info) = self.node(workspace, path)? else {
            return Ok(None);
        };
        let mut node = crate::node::Node::new(info.name, info.primary_type);
        node.mixins = info.mixins;
        for prop in self.properties(workspace, path)? {
            node.set(prop);
        }
        if want_children(&node.primary_type, &node.mixins) {
            for c in self.children(workspace, path)? {
                let mut cn = crate::node::Node::new(c.name, c.primary_type);
                cn.mixins = c.mixins;
                node.children.push(cn);
            }
        }
        Ok(Some(node))
    }

    /// [`StoreRead::node_shallow`] for each of `paths`, one answer a path in
    /// order, with `want_children` asked for each node found, in order: a
    /// backend with round trips reads them in a few batched reads.
    fn nodes_shallow(
        &self,
        workspace: &str,
        paths: &[&str],
        want_children: &mut dyn FnMut(&str, &[String]) -> bool,
    ) -> Result<Vec<Option<crate::node::Node>>> {
        paths
            .iter()
            .map(|p| self.node_shallow(workspace, p, want_children))
            .collect()
    }

    /// Opens a [`SnapshotRead`] of workspace `workspace`: reads of one consistent
    /// snapshot, by node rather than by path, for bulk readers such as the exporter.
    /// `None` when the backend has none; callers then use the calls above.
    fn snapshot<'a>(&'a self, workspace: &str) -> Result<Option<Box<dyn SnapshotRead + 'a>>> {
        let _ = workspace;
        Ok(None)
    }
}

/// A subtree walk in document order; see [`StoreRead::walk`].
pub trait SubtreeWalk: Iterator<Item = Result<WalkEntry>> {
    /// Skips the children of the node the last call to `next` returned, so that the
    /// next node is its next sibling (or the next node after its subtree).
    fn skip_children(&mut self);
}

/// An open repository.
pub trait Store: StoreRead {
    /// Begins an unrecorded transaction: its changes are not journaled and cannot be
    /// undone. `description` names it in messages.
    ///
    /// Only one transaction writes to a repository at a time. When another process
    /// holds the write lock, this waits up to the store's busy timeout and then fails
    /// with [`RepositoryError::RepositoryBusy`]. Dropping the transaction without
    /// [`Transaction::commit`] rolls it back.
    fn begin(&mut self, description: &str) -> Result<Box<dyn Transaction + '_>>;

    /// Begins a recorded transaction (an operation): every first touch of a node or
    /// property is journaled with its before-image, so that [`Transaction::undo`] can
    /// restore it. Otherwise as [`Store::begin`].
    fn begin_operation(&mut self, meta: OperationMeta) -> Result<Box<dyn Transaction + '_>>;

    /// [`Store::begin_operation`] for an operation that writes only to the content
    /// of `workspace` (an install): a backend may run it beside operations on other
    /// workspaces (PostgreSQL does; the default takes the one write lock). Writing
    /// to another workspace, or creating or removing one, is refused in it.
    fn begin_operation_in(
        &mut self,
        meta: OperationMeta,
        workspace: &str,
    ) -> Result<Box<dyn Transaction + '_>> {
        let _ = workspace;
        self.begin_operation(meta)
    }

    /// Drops the journals of the oldest operations (see [`PruneSelect`]), which can
    /// no longer be undone, under the write lock; the report names them. With
    /// `dry_run` nothing changes. Their before-images may have been the last
    /// references to blobs: [`Store::gc`] removes those afterwards.
    fn prune_history(&mut self, select: PruneSelect, dry_run: bool) -> Result<PruneReport>;

    /// Housekeeping under the write lock: removes blobs that no node and no journal
    /// before-image refers to, and the temporary files killed commands left; then
    /// compacts the database. With `dry_run` it only counts.
    ///
    /// A backup copies blobs after taking its snapshot, so while one runs (a
    /// `.backup-in-progress-*` marker in the repository folder, or an `in-progress`
    /// marker in its default catalogue) this refuses with
    /// [`RepositoryError::NotAllowed`] rather than delete a blob the backup needs.
    fn gc(&mut self, dry_run: bool) -> Result<GcReport>;

    /// Writes a consistent point-in-time image of the whole repository database to
    /// the new file `dest`, taken while other processes keep reading and writing
    /// (never holding the write lock), and the blobs it refers to (content and
    /// journal before-images) to `blob_list` as sorted, distinct `sha256 size`
    /// lines. Progress goes to `events`; setting `cancel` stops it with
    /// [`RepositoryError::Cancelled`]. On error `dest` may be left partly written.
    /// Backends without an image step fail with [`RepositoryError::Unsupported`].
    fn take_image(
        &self,
        dest: &Path,
        blob_list: &mut dyn std::io::Write,
        options: &ImageOptions,
        events: &dyn crate::events::Events,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<ImageInfo> {
        let _ = (dest, blob_list, options, events, cancel);
        Err(RepositoryError::Unsupported {
            repository: self.location().to_path_buf(),
            what: "take a backup image".into(),
        })
    }

    /// Tells the backend that the backup whose image [`Store::take_image`] took has
    /// copied its blobs: a backend that held the image's snapshot open for them
    /// (PostgreSQL) lets it go. Called after every `take_image`, however the backup
    /// ends; does nothing by default.
    fn end_image(&self) {}

    /// Undoes operation `id` in a new recorded operation described by `meta` and
    /// commits it; see [`Transaction::undo`].
    fn undo(&mut self, id: OperationId, force: bool, meta: OperationMeta) -> Result<UndoReport> {
        let mut txn = self.begin_operation(meta)?;
        let report = txn.undo(id, force)?;
        txn.commit()?;
        Ok(report)
    }
}

/// A write transaction: the only way to change a repository.
///
/// Nothing a transaction does is visible to others before [`Transaction::commit`],
/// and nothing of it survives a rollback, a drop or a crash. A call that fails
/// because of its arguments (a missing node, a bad name, a duplicate uuid) changes
/// nothing; after a database or I/O error the transaction should be rolled back.
pub trait Transaction: StoreRead {
    /// Returns the id of the operation this transaction records, if it is one.
    fn operation_id(&self) -> Option<OperationId>;

    /// Creates workspace `name` with its root and Oak's initial content
    /// ([`initial_system_node`]); returns `false` when it already exists. A first
    /// write below the root of a workspace that does not exist creates it the same way. In an operation the creation is journaled: undoing it deletes the
    /// workspace again (refused while it holds nodes another operation added).
    fn create_workspace(&mut self, name: &str) -> Result<bool>;

    /// Deletes workspace `name` with everything in it and returns how many nodes went
    /// (the root included). The default workspace is never deleted, and a workspace
    /// with content only with `force` (both [`RepositoryError::NotAllowed`]); a
    /// missing one is [`RepositoryError::WorkspaceNotFound`]. In an operation the
    /// deletion is journaled like a removal: undo brings the workspace back whole.
    fn delete_workspace(&mut self, name: &str, force: bool) -> Result<u64>;

    /// Adds `node` (its name, primary type, mixins and properties, and its children,
    /// recursively, in order) below the node at `parent`, and returns its path.
    ///
    /// `node.index` is ignored: the store computes same-name-sibling indexes from the
    /// order. Children inside `node` may share names (they become same-name
    /// siblings); whether the new node may join an existing name is
    /// `options.same_name`. The workspace is created if needed.
    fn add_node(
        &mut self,
        workspace: &str,
        parent: &str,
        node: &Node,
        options: &AddOptions,
    ) -> Result<String>;

    /// Removes the node at `path` with its subtree; returns how many nodes went.
    /// Later same-name siblings shift down one index.
    fn remove_node(&mut self, workspace: &str, path: &str) -> Result<u64>;

    /// Sets (adds or replaces) a property of the node at `path`.
    ///
    /// The property must be consistent (a declared type other than `Undefined`,
    /// every value of that type, exactly one value when single-valued). Binary values
    /// may be [`Binary::Blob`] (already in this store), [`Binary::Inline`] (stored as
    /// a blob now) or [`Binary::Reference`] (kept as a reference). `jcr:uuid` must be
    /// a single String, unique in the workspace. `jcr:primaryType` and
    /// `jcr:mixinTypes` are refused: use [`Transaction::set_primary_type`] and
    /// [`Transaction::set_mixins`].
    fn set_property(&mut self, workspace: &str, path: &str, property: &Property) -> Result<()>;

    /// Removes a property; returns whether it existed.
    fn remove_property(&mut self, workspace: &str, path: &str, name: &str) -> Result<bool>;

    /// Sets the primary type of the node at `path`.
    fn set_primary_type(&mut self, workspace: &str, path: &str, primary_type: &str) -> Result<()>;

    /// Sets the mixins of the node at `path`, in this order.
    fn set_mixins(&mut self, workspace: &str, path: &str, mixins: &[String]) -> Result<()>;

    /// Moves the child `child` (a segment like `b` or `b[2]`) of the node at `parent`
    /// before its sibling `before`, or to the end when `before` is `None`, as JCR's
    /// `Node.orderBefore` does. Returns the child's new path (same-name siblings may
    /// renumber).
    fn order_before(
        &mut self,
        workspace: &str,
        parent: &str,
        child: &str,
        before: Option<&str>,
    ) -> Result<String>;

    /// Registers `prefix` for `uri`. Registering an existing pair again is a no-op;
    /// a prefix or URI already mapped otherwise is [`RepositoryError::NamespaceConflict`].
    fn register_namespace(&mut self, prefix: &str, uri: &str) -> Result<()>;

    /// Registers (or replaces) node type `name` with its CND text.
    fn register_node_type(&mut self, name: &str, cnd: &str) -> Result<()>;

    /// Unregisters node type `name`; returns whether it was registered.
    fn unregister_node_type(&mut self, name: &str) -> Result<bool>;

    /// Undoes operation `id` inside this transaction: restores every before-image it
    /// recorded (nodes it created are removed, nodes it removed come back with their
    /// properties, types, mixins, position and uuid; changed properties get their old
    /// values; registrations are reverted).
    ///
    /// When a later operation touched the same nodes, properties or paths, this
    /// refuses with [`RepositoryError::UndoConflict`], naming those operations and
    /// paths, unless `force`. With `force`, later changes to those items are
    /// overwritten, and items whose parent no longer exists are skipped and
    /// reported. Recorded only when this transaction is an operation (so that the
    /// undo can itself be undone). On error nothing of the undo is applied.
    fn undo(&mut self, id: OperationId, force: bool) -> Result<UndoReport>;

    /// The id of the node at `path` of `workspace` when this transaction added it
    /// ([`Transaction::add_node`]) and nothing changed its properties, types or
    /// place since (its children may have changed): a caller that kept what it
    /// added, and this id, knows the node without reading it. None otherwise,
    /// and always from a store that does not keep track (the default).
    fn added_unaltered(&self, workspace: &str, path: &str) -> Result<Option<i64>> {
        let _ = (workspace, path);
        Ok(None)
    }

    /// Whether node `id`, once answered by [`Transaction::added_unaltered`] for
    /// the path [`Transaction::add_node`] returned, is still that node at that
    /// path, unaltered, without looking the path up: true only while no
    /// mutation since its insertion may have moved or removed any node (a
    /// removal, a reordering, an insertion of a same-name sibling before a
    /// sibling, an undo). False from a store that does not keep track (the
    /// default).
    fn still_as_added(&self, id: i64) -> bool {
        let _ = id;
        false
    }

    /// Whether node `id`, once answered by [`Transaction::added_unaltered`], has
    /// exactly the children it was added with ([`Transaction::add_node`] of its
    /// subtree), as given: no node was added below it since, and none of them
    /// was removed or had its type, mixins or place changed. False from a
    /// store that does not keep track (the default).
    fn children_as_added(&self, id: i64) -> bool {
        let _ = id;
        false
    }

    /// The aggregate digest recorded for the node at `path` of `workspace`, if
    /// any: see [`Transaction::record_aggregate_digest`]. None when the node is
    /// missing, or the backend keeps no digests.
    fn aggregate_digest(&self, workspace: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let _ = (workspace, path);
        Ok(None)
    }

    /// Whether any aggregate digest is recorded in the store (none: nothing can
    /// be skipped, so the importer need not take its digests before walking). The
    /// default, a store that keeps none, has none.
    fn has_aggregate_digests(&self) -> Result<bool> {
        Ok(false)
    }

    /// Whether any aggregate digest is recorded at `path` of `workspace` or below
    /// it. The default answers for the whole store
    /// ([`Transaction::has_aggregate_digests`]), which is never wrong, only slower.
    fn has_aggregate_digests_below(&self, workspace: &str, path: &str) -> Result<bool> {
        let _ = (workspace, path);
        self.has_aggregate_digests()
    }

    /// Records `digest` for the node at `path` of `workspace` (the importer's
    /// claim that installing the same entries with the same options leaves its
    /// subtree as it is); returns false when the node is missing. Any later change
    /// below the node, in this transaction or a later one, by any writing command,
    /// clears it. The default records nothing.
    fn record_aggregate_digest(
        &mut self,
        workspace: &str,
        path: &str,
        digest: &[u8],
    ) -> Result<bool> {
        let _ = (workspace, path, digest);
        Ok(false)
    }

    /// Records each `(path, digest)` of `records` as
    /// [`Transaction::record_aggregate_digest`] does, in one go: a store may look
    /// the nodes up in one batch and not read the digests back. A missing node is
    /// passed over. The default records them one by one.
    fn record_aggregate_digests(
        &mut self,
        workspace: &str,
        records: &[(&str, &[u8])],
    ) -> Result<()> {
        for (path, digest) in records {
            self.record_aggregate_digest(workspace, path, digest)?;
        }
        Ok(())
    }

    /// The caller has written the transaction's content and has only checks (and
    /// possibly a few more changes) left before [`Transaction::commit`]: the store
    /// may start making the content durable beside them (the SQLite store syncs
    /// the blob files it wrote). The default does nothing.
    fn prepare_commit(&mut self) {}

    /// Makes the transaction's changes durable and visible; returns the recorded
    /// operation's id, if it is one.
    fn commit(self: Box<Self>) -> Result<Option<OperationId>>;

    /// Discards the transaction's changes (as dropping it does).
    fn rollback(self: Box<Self>) -> Result<()>;
}

/// What Oak's `InitialContent` always puts below the root of a workspace, minimal
/// but type-correct: `rep:root` requires `jcr:system` (`rep:system`), which requires
/// its version storage, node types and activities; `rep:namespaces` is where Oak
/// keeps the namespace registry. Without it a package that writes the root (filter
/// root `/`) fails the root's node type check, as it would not in Oak. Every
/// workspace gets it when it is created ([`Transaction::create_workspace`], and a
/// first write into a workspace that does not exist yet), so that no path makes a
/// workspace without it (issue 13, items 4 and 5).
pub fn initial_system_node() -> crate::node::Node {
    crate::node::Node::new("jcr:system", "rep:system")
        .with_child(crate::node::Node::new(
            "jcr:versionStorage",
            "rep:versionStorage",
        ))
        .with_child(crate::node::Node::new("jcr:nodeTypes", "rep:nodeTypes"))
        .with_child(crate::node::Node::new("jcr:activities", "rep:Activities"))
        .with_child(crate::node::Node::new("rep:namespaces", "rep:Unstructured"))
}

/// The paths of [`initial_system_node`]'s nodes: a workspace that holds only these
/// (and a root without properties) is empty.
pub const INITIAL_PATHS: [&str; 5] = [
    "/jcr:system",
    "/jcr:system/jcr:versionStorage",
    "/jcr:system/jcr:nodeTypes",
    "/jcr:system/jcr:activities",
    "/jcr:system/rep:namespaces",
];

/// Adds Oak's initial content ([`initial_system_node`]) to workspace `ws` when its
/// `/jcr:system` is missing: for a workspace of a repository made before every
/// created workspace got it. Does nothing otherwise.
pub fn initial_content(txn: &mut dyn Transaction, ws: &str) -> Result<()> {
    if txn.node(ws, "/jcr:system")?.is_some() {
        return Ok(());
    }
    txn.add_node(ws, "/", &initial_system_node(), &AddOptions::append())?;
    Ok(())
}

/// A node as a [`SnapshotRead`] returns it: its [`NodeInfo`], the backend's handle for
/// it, and the facts about its children and data that choosing its aggregator needs,
/// so that listing children answers those questions in the same query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotNode {
    /// Name, index, types, uuid and path.
    pub info: NodeInfo,
    /// The backend's key for the node, valid for the snapshot that returned it.
    pub handle: i64,
    /// It has children.
    pub has_children: bool,
    /// It has a child `jcr:content` (index 1).
    pub has_content_child: bool,
    /// It has a `jcr:data` property.
    pub has_data: bool,
    /// Its child `jcr:content` has a `jcr:data` property.
    pub content_has_data: bool,
}

/// Reads of one workspace in one consistent snapshot (see [`StoreRead::snapshot`]);
/// writes committed by others meanwhile are not seen. Dropping it ends the snapshot.
pub trait SnapshotRead {
    /// The node at `path`, or `None`.
    fn node(&self, path: &str) -> Result<Option<SnapshotNode>>;

    /// The children of `node`, in order.
    fn children(&self, node: &SnapshotNode) -> Result<Vec<SnapshotNode>>;

    /// The properties of `node`, sorted by name (as [`StoreRead::properties`]).
    fn properties(&self, node: &SnapshotNode) -> Result<Vec<Property>>;

    /// The child of `node` named `name` with index 1, or `None`. The default asks
    /// for its path; a backend that fetched `node`'s children ahead answers from
    /// them (and still answers [`SnapshotRead::children`] of `node` afterwards).
    fn child(&self, node: &SnapshotNode, name: &str) -> Result<Option<SnapshotNode>> {
        self.node(&crate::path::join(&node.info.path, name))
    }

    /// Every node of the workspace named one of `names` and every `REFERENCE` or
    /// `WEAKREFERENCE` property, handed to `each` in no particular order, read in bulk
    /// rather than node by node (what an export must know before it writes, module
    /// `export::survey`). `Ok(false)`, the default, when the backend has no such read:
    /// callers walk the content instead.
    fn scan(&self, names: &[&str], each: &mut dyn FnMut(ScanHit<'_>)) -> Result<bool> {
        let _ = (names, each);
        Ok(false)
    }
}

/// What [`SnapshotRead::scan`] finds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScanHit<'a> {
    /// The path of a node named one of the names asked for.
    Named(&'a str),
    /// A `REFERENCE` or `WEAKREFERENCE` property and the path of its node.
    Reference(&'a str, &'a Property),
}
