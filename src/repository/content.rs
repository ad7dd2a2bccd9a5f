//! The content store: the backend trait for workspaces, nodes, properties, sibling
//! order, namespaces, node types and blobs, without any history.
//!
//! A backend implements [`ContentRead`] (reads, by node id) and [`ContentTxn`] (the
//! primitive mutations of one write transaction). The primitives do what they are
//! told and nothing more: they do not validate names or property values, do not
//! compute sibling positions, do not journal. Those are written once, above every
//! backend, in [`super::journaled`], which also records before-images in the
//! [`super::oplog`] and implements undo. A backend must still be *strict* about its
//! own integrity: a node whose parent does not exist, a reused node id, a second
//! workspace of one name, a property of a missing node are errors
//! ([`super::RepositoryError::Corrupt`]), never silently accepted.
//!
//! Nothing here names SQLite: ids are plain integers (a server database's sequence
//! serves), paths are JCR paths in standard form, and values are the crate's
//! [`Property`] model.

use super::blob::HashedBytes;
use super::Result;
use crate::namespace::NamespaceRegistry;
use crate::value::{Binary, Property};
use std::io::Read;
use std::path::Path;

/// A node's identity: assigned once, never reused (before-images refer to removed
/// nodes by it), and increasing (ids handed out by a transaction are all at least
/// its [`ContentTxn::first_new_id`]).
pub type NodeId = i64;

/// A workspace's identity: never reused, so a workspace deleted and created again
/// under the same name is another workspace.
pub type WorkspaceId = i64;

/// A stored node, without its properties and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Its id.
    pub id: NodeId,
    /// Its workspace.
    pub ws: WorkspaceId,
    /// Its parent (`None` for a workspace's root).
    pub parent: Option<NodeId>,
    /// Its name without index (`""` for the root).
    pub name: String,
    /// Its place among its siblings: children are ordered by (position, id).
    pub position: i64,
    /// Its path in standard form: the parent's path plus `name` or `name[n]`, where
    /// `n` is its rank among the same-name siblings by (position, id).
    pub path: String,
    /// `jcr:primaryType`.
    pub primary_type: String,
    /// `jcr:mixinTypes`, in order.
    pub mixins: Vec<String>,
}

/// A stored property as [`ContentRead::properties_against`] reads it: what an
/// install compares with the properties its package gives a node.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredProperty {
    /// Equal to the caller's property at this index: a backend that can tell
    /// without decoding the stored value answers so.
    Known(usize),
    /// As stored (any property the backend does not answer [`StoredProperty::Known`]).
    Read(Property),
}

impl StoredProperty {
    /// The property, taken from `known` when it is one of those.
    pub fn resolve<'a>(&'a self, known: &'a [Property]) -> &'a Property {
        match self {
            StoredProperty::Known(i) => &known[*i],
            StoredProperty::Read(p) => p,
        }
    }
}

/// A node to insert with [`ContentTxn::insert_node`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNode {
    /// Its id: fresh from [`ContentTxn::alloc_node_id`], or the old id of a node an
    /// undo brings back.
    pub id: NodeId,
    /// Its workspace, which must exist.
    pub ws: WorkspaceId,
    /// Its parent, which must exist in `ws`; `None` only for the root of a
    /// workspace that has none yet.
    pub parent: Option<NodeId>,
    /// Its name (`""` for a root).
    pub name: String,
    /// Its position among its siblings.
    pub position: i64,
    /// `jcr:primaryType`.
    pub primary_type: String,
    /// `jcr:mixinTypes`.
    pub mixins: Vec<String>,
}

/// Reading a content store (committed state, or inside a transaction its own
/// uncommitted state). Nothing here fails for a missing item: that is `None`.
pub trait ContentRead {
    /// The repository's location, for messages.
    fn location(&self) -> &Path;

    /// Every workspace as (name, id), sorted by name.
    fn workspaces(&self) -> Result<Vec<(String, WorkspaceId)>>;

    /// The id of workspace `name`.
    fn workspace_id(&self, name: &str) -> Result<Option<WorkspaceId>>;

    /// The name workspace `ws` has, or had when it was deleted.
    fn workspace_name(&self, ws: WorkspaceId) -> Result<Option<String>>;

    /// The node at `path` (standard form) of workspace `ws`.
    fn node_at(&self, ws: WorkspaceId, path: &str) -> Result<Option<NodeRecord>>;

    /// The id of the node at `path` (standard form) of workspace `ws`: what
    /// [`ContentRead::node_at`] says, for a caller that needs no more of the
    /// node (a backend with a cache answers without copying the record).
    fn node_id_at(&self, ws: WorkspaceId, path: &str) -> Result<Option<NodeId>> {
        Ok(self.node_at(ws, path)?.map(|r| r.id))
    }

    /// The node with id `id`.
    fn node_by_id(&self, id: NodeId) -> Result<Option<NodeRecord>>;

    /// The children of node `id`, ordered by (position, id).
    fn children(&self, id: NodeId) -> Result<Vec<NodeRecord>>;

    /// Whether node `id` has children.
    fn has_children(&self, id: NodeId) -> Result<bool> {
        Ok(!self.children(id)?.is_empty())
    }

    /// The position of the last child of `parent`, if it has children.
    fn last_position(&self, parent: NodeId) -> Result<Option<i64>> {
        Ok(self.children(parent)?.last().map(|c| c.position))
    }

    /// The sibling directly before `(position, id)` among the children of
    /// `parent`, leaving out node `except`.
    fn previous_sibling(
        &self,
        parent: NodeId,
        position: i64,
        id: NodeId,
        except: Option<NodeId>,
    ) -> Result<Option<NodeRecord>> {
        Ok(self
            .children(parent)?
            .into_iter()
            .rev()
            .find(|c| (c.position, c.id) < (position, id) && Some(c.id) != except))
    }

    /// The properties of node `id`, sorted by name.
    fn properties(&self, id: NodeId) -> Result<Vec<Property>>;

    /// The properties of node `id`, sorted by name, as [`ContentRead::properties`]
    /// gives them, but a stored property equal to the one of its name in `known`
    /// may be answered [`StoredProperty::Known`] (by its index there) instead of
    /// decoded: the common case of an install comparing a node with its package is
    /// that nothing changed. The default decodes every property.
    fn properties_against(&self, id: NodeId, known: &[Property]) -> Result<Vec<StoredProperty>> {
        let _ = known;
        Ok(self
            .properties(id)?
            .into_iter()
            .map(StoredProperty::Read)
            .collect())
    }

    /// The nodes at `paths` (standard form) of workspace `ws`, one answer a
    /// path in order, as [`ContentRead::node_at`] gives them: a backend with
    /// round trips answers many in one.
    fn nodes_at(&self, ws: WorkspaceId, paths: &[&str]) -> Result<Vec<Option<NodeRecord>>> {
        paths.iter().map(|p| self.node_at(ws, p)).collect()
    }

    /// The properties of nodes `ids`, one list a node in order, as
    /// [`ContentRead::properties`] gives them.
    fn properties_of(&self, ids: &[NodeId]) -> Result<Vec<Vec<Property>>> {
        ids.iter().map(|&id| self.properties(id)).collect()
    }

    /// The children of nodes `ids`, one list a node in order, as
    /// [`ContentRead::children`] gives them.
    fn children_of(&self, ids: &[NodeId]) -> Result<Vec<Vec<NodeRecord>>> {
        ids.iter().map(|&id| self.children(id)).collect()
    }

    /// Property `name` of node `id`.
    fn property(&self, id: NodeId, name: &str) -> Result<Option<Property>>;

    /// The nodes of workspace `ws` whose `jcr:uuid` is `uuid`, in id order: one at
    /// most, except briefly inside an undo, which checks uniqueness at its end.
    fn uuid_owners(&self, ws: WorkspaceId, uuid: &str) -> Result<Vec<NodeId>>;

    /// The node of workspace `ws` whose `jcr:uuid` is `uuid`.
    fn uuid_owner(&self, ws: WorkspaceId, uuid: &str) -> Result<Option<NodeId>> {
        Ok(self.uuid_owners(ws, uuid)?.into_iter().next())
    }

    /// The namespace registry, built-ins included.
    fn namespaces(&self) -> Result<NamespaceRegistry>;

    /// Every registered node type as (name, CND), sorted by name.
    fn node_types(&self) -> Result<Vec<(String, String)>>;

    /// The CND of node type `name`.
    fn node_type(&self, name: &str) -> Result<Option<String>>;

    /// Streams `data` into the blob store; equal content is stored once.
    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary>;

    /// [`ContentRead::put_blob`] of bytes hashed before (by the installer's
    /// read-ahead): a store that keeps blobs under their SHA-256 uses that digest
    /// instead of hashing them again. The default streams the bytes to `put_blob`.
    fn put_hashed_blob(&self, data: &HashedBytes) -> Result<Binary> {
        self.put_blob(&mut data.bytes())
    }

    /// Opens blob `sha256`.
    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>>;

    /// Fails with [`super::RepositoryError::BlobNotFound`] unless blob `sha256` of
    /// `size` bytes is stored.
    fn check_blob(&self, sha256: &str, size: u64) -> Result<()>;

    /// [`crate::repository::StoreRead::blob_stored`]: whether blob `sha256` of
    /// `size` bytes is stored, where the backend can tell without a round trip (a
    /// file's metadata); `false` otherwise (the default), and the data is put as
    /// before.
    fn blob_stored(&self, sha256: &str, size: u64) -> Result<bool> {
        let _ = (sha256, size);
        Ok(false)
    }

    /// The aggregate digest recorded for node `id` with
    /// [`ContentTxn::set_aggregate_digest`] and not cleared since. The default (a
    /// backend without a digest store) has none, so nothing is ever skipped.
    fn aggregate_digest(&self, id: NodeId) -> Result<Option<Vec<u8>>> {
        let _ = id;
        Ok(None)
    }

    /// Whether any aggregate digest is recorded (lets the journaled layer skip
    /// invalidating when there is nothing to invalidate).
    fn has_aggregate_digests(&self) -> Result<bool> {
        Ok(false)
    }

    /// Whether any aggregate digest is recorded at `path` of workspace `ws` or
    /// below it (the importer takes its digests beside the walk when none can
    /// match). The default answers for the whole store, which is never wrong,
    /// only slower.
    fn has_aggregate_digests_below(&self, ws: WorkspaceId, path: &str) -> Result<bool> {
        let _ = (ws, path);
        self.has_aggregate_digests()
    }
}

/// The primitive mutations of one write transaction.
///
/// Each changes exactly what it names. Paths follow: when positions, names or
/// parents change, the backend keeps every [`NodeRecord::path`] right (same-name
/// indexes shift, subtrees move along).
pub trait ContentTxn: ContentRead {
    /// The smallest id this transaction hands out: nodes with a larger or equal id
    /// were created by it.
    fn first_new_id(&self) -> NodeId;

    /// The id of the node at `path` of `ws` when this transaction can tell it
    /// without a round trip to a server; None when no node is there, or when
    /// telling would cost one (PostgreSQL, for a node its cache does not hold).
    /// For a caller that would replace a batched read by asking node by node:
    /// [`crate::repository::Transaction::added_unaltered`] answers None for a
    /// node not known so, and the node type check reads it in a batch.
    fn known_node_id_at(&self, ws: WorkspaceId, path: &str) -> Result<Option<NodeId>> {
        self.node_id_at(ws, path)
    }

    /// A fresh node id.
    fn alloc_node_id(&mut self) -> Result<NodeId>;

    /// The nodes created by this transaction that still exist (ids from
    /// [`ContentTxn::first_new_id`] on), in id order, at most `limit` after `after`.
    fn new_nodes(&self, after: Option<NodeId>, limit: usize) -> Result<Vec<NodeRecord>>;

    /// Creates workspace `name` without any node (its root comes next, through
    /// [`ContentTxn::insert_node`]), with the id `id` when an undo brings it back.
    fn insert_workspace(&mut self, name: &str, id: Option<WorkspaceId>) -> Result<WorkspaceId>;

    /// Deletes workspace `ws` with all its nodes and their properties; returns the
    /// number of nodes.
    fn remove_workspace(&mut self, ws: WorkspaceId) -> Result<u64>;

    /// Inserts a node (no properties, no children). Taken by value: a backend
    /// that keeps what it inserted (a write cache) keeps the node's strings
    /// without copying them (issue 16).
    fn insert_node(&mut self, node: NewNode) -> Result<()>;

    /// Removes node `id` with its subtree and their properties; returns the number
    /// of nodes.
    fn remove_subtree(&mut self, id: NodeId) -> Result<u64>;

    /// Sets the primary type, mixins and position of node `id`.
    fn update_node(
        &mut self,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
        position: i64,
    ) -> Result<()>;

    /// Sets (adds or replaces) a property of node `id`. Binary values are
    /// [`Binary::Blob`] already in this store, or [`Binary::Reference`].
    fn set_property(&mut self, id: NodeId, property: &Property) -> Result<()>;

    /// Sets several properties of node `id` (see [`ContentTxn::set_property`]); a
    /// backend may write them in one go.
    fn set_properties(&mut self, id: NodeId, properties: &[&Property]) -> Result<()> {
        for p in properties {
            self.set_property(id, p)?;
        }
        Ok(())
    }

    /// Removes property `name` of node `id`; returns whether it existed.
    fn remove_property(&mut self, id: NodeId, name: &str) -> Result<bool>;

    /// Maps `prefix` to `uri`, or removes the prefix (`None`).
    fn set_namespace(&mut self, prefix: &str, uri: Option<&str>) -> Result<()>;

    /// Registers node type `name` with its CND, or unregisters it (`None`).
    fn set_node_type(&mut self, name: &str, cnd: Option<&str>) -> Result<()>;

    /// Records the digest of the aggregate rooted at node `id` (which must exist),
    /// replacing any before: the importer's claim that installing the same entries
    /// with the same options again leaves the subtree as it is. Only the journaled
    /// layer calls this, and it clears the digest of every node whose subtree any
    /// later mutation changes ([`ContentTxn::clear_aggregate_digest`]), so a backend
    /// stores and returns digests and nothing more. A digest commits and rolls back
    /// (savepoints included) with the content. The default stores nothing (the
    /// importer then never skips): a backend that implements
    /// [`ContentRead::aggregate_digest`] implements all three.
    fn set_aggregate_digest(&mut self, id: NodeId, digest: &[u8]) -> Result<()> {
        let _ = (id, digest);
        Ok(())
    }

    /// Records each `(path, digest)` of `records` for the node at that path of
    /// workspace `ws` as [`ContentTxn::set_aggregate_digest`] does, passing over a
    /// path without a node; returns how many it recorded. A store may find the
    /// nodes in the statements that record the digests, without reading their rows.
    /// The default looks the nodes up in one batch ([`ContentRead::nodes_at`]).
    fn set_aggregate_digests_at(
        &mut self,
        ws: WorkspaceId,
        records: &[(&str, &[u8])],
    ) -> Result<usize> {
        let paths: Vec<&str> = records.iter().map(|r| r.0).collect();
        let rows = self.nodes_at(ws, &paths)?;
        let mut recorded = 0;
        for (row, (_, digest)) in rows.iter().zip(records) {
            if let Some(row) = row {
                self.set_aggregate_digest(row.id, digest)?;
                recorded += 1;
            }
        }
        Ok(recorded)
    }

    /// Forgets the aggregate digest of node `id`, if any (the node may be gone).
    fn clear_aggregate_digest(&mut self, id: NodeId) -> Result<()> {
        let _ = id;
        Ok(())
    }
}

/// Implements [`ContentRead`] for a transaction type `$t` by forwarding every
/// method to the reader `$e` (an expression of `$s`, the transaction; it must give
/// a `&R` with `R: ContentRead`): a backend's transaction reads through its
/// connection or working copy, which sees its own writes.
/// `forward_content_read!(MyTxn<'_>, |t| &t.work);`
macro_rules! forward_content_read {
    ($t:ty, |$s:ident| $e:expr) => {
        impl $crate::repository::content::ContentRead for $t {
            fn location(&self) -> &::std::path::Path {
                let $s = self;
                $crate::repository::content::ContentRead::location($e)
            }
            fn workspaces(
                &self,
            ) -> $crate::repository::Result<
                Vec<(String, $crate::repository::content::WorkspaceId)>,
            > {
                let $s = self;
                $crate::repository::content::ContentRead::workspaces($e)
            }
            fn workspace_id(
                &self,
                name: &str,
            ) -> $crate::repository::Result<Option<$crate::repository::content::WorkspaceId>>
            {
                let $s = self;
                $crate::repository::content::ContentRead::workspace_id($e, name)
            }
            fn workspace_name(
                &self,
                ws: $crate::repository::content::WorkspaceId,
            ) -> $crate::repository::Result<Option<String>> {
                let $s = self;
                $crate::repository::content::ContentRead::workspace_name($e, ws)
            }
            fn node_at(
                &self,
                ws: $crate::repository::content::WorkspaceId,
                p: &str,
            ) -> $crate::repository::Result<Option<$crate::repository::content::NodeRecord>> {
                let $s = self;
                $crate::repository::content::ContentRead::node_at($e, ws, p)
            }
            fn node_by_id(
                &self,
                id: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<Option<$crate::repository::content::NodeRecord>> {
                let $s = self;
                $crate::repository::content::ContentRead::node_by_id($e, id)
            }
            fn children(
                &self,
                id: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<Vec<$crate::repository::content::NodeRecord>> {
                let $s = self;
                $crate::repository::content::ContentRead::children($e, id)
            }
            fn has_children(
                &self,
                id: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<bool> {
                let $s = self;
                $crate::repository::content::ContentRead::has_children($e, id)
            }
            fn last_position(
                &self,
                parent: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<Option<i64>> {
                let $s = self;
                $crate::repository::content::ContentRead::last_position($e, parent)
            }
            fn previous_sibling(
                &self,
                parent: $crate::repository::content::NodeId,
                position: i64,
                id: $crate::repository::content::NodeId,
                except: Option<$crate::repository::content::NodeId>,
            ) -> $crate::repository::Result<Option<$crate::repository::content::NodeRecord>> {
                let $s = self;
                $crate::repository::content::ContentRead::previous_sibling(
                    $e, parent, position, id, except,
                )
            }
            fn properties(
                &self,
                id: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<Vec<$crate::value::Property>> {
                let $s = self;
                $crate::repository::content::ContentRead::properties($e, id)
            }
            fn properties_against(
                &self,
                id: $crate::repository::content::NodeId,
                known: &[$crate::value::Property],
            ) -> $crate::repository::Result<Vec<$crate::repository::content::StoredProperty>> {
                let $s = self;
                $crate::repository::content::ContentRead::properties_against($e, id, known)
            }
            fn nodes_at(
                &self,
                ws: $crate::repository::content::WorkspaceId,
                paths: &[&str],
            ) -> $crate::repository::Result<
                Vec<Option<$crate::repository::content::NodeRecord>>,
            > {
                let $s = self;
                $crate::repository::content::ContentRead::nodes_at($e, ws, paths)
            }
            fn properties_of(
                &self,
                ids: &[$crate::repository::content::NodeId],
            ) -> $crate::repository::Result<Vec<Vec<$crate::value::Property>>> {
                let $s = self;
                $crate::repository::content::ContentRead::properties_of($e, ids)
            }
            fn children_of(
                &self,
                ids: &[$crate::repository::content::NodeId],
            ) -> $crate::repository::Result<Vec<Vec<$crate::repository::content::NodeRecord>>> {
                let $s = self;
                $crate::repository::content::ContentRead::children_of($e, ids)
            }
            fn property(
                &self,
                id: $crate::repository::content::NodeId,
                name: &str,
            ) -> $crate::repository::Result<Option<$crate::value::Property>> {
                let $s = self;
                $crate::repository::content::ContentRead::property($e, id, name)
            }
            fn uuid_owners(
                &self,
                ws: $crate::repository::content::WorkspaceId,
                uuid: &str,
            ) -> $crate::repository::Result<Vec<$crate::repository::content::NodeId>> {
                let $s = self;
                $crate::repository::content::ContentRead::uuid_owners($e, ws, uuid)
            }
            fn namespaces(
                &self,
            ) -> $crate::repository::Result<$crate::namespace::NamespaceRegistry> {
                let $s = self;
                $crate::repository::content::ContentRead::namespaces($e)
            }
            fn node_types(&self) -> $crate::repository::Result<Vec<(String, String)>> {
                let $s = self;
                $crate::repository::content::ContentRead::node_types($e)
            }
            fn node_type(&self, name: &str) -> $crate::repository::Result<Option<String>> {
                let $s = self;
                $crate::repository::content::ContentRead::node_type($e, name)
            }
            fn put_blob(
                &self,
                data: &mut dyn ::std::io::Read,
            ) -> $crate::repository::Result<$crate::value::Binary> {
                let $s = self;
                $crate::repository::content::ContentRead::put_blob($e, data)
            }
            fn put_hashed_blob(
                &self,
                data: &$crate::repository::blob::HashedBytes,
            ) -> $crate::repository::Result<$crate::value::Binary> {
                let $s = self;
                $crate::repository::content::ContentRead::put_hashed_blob($e, data)
            }
            fn open_blob(
                &self,
                sha256: &str,
            ) -> $crate::repository::Result<Box<dyn ::std::io::Read + Send>> {
                let $s = self;
                $crate::repository::content::ContentRead::open_blob($e, sha256)
            }
            fn check_blob(&self, sha256: &str, size: u64) -> $crate::repository::Result<()> {
                let $s = self;
                $crate::repository::content::ContentRead::check_blob($e, sha256, size)
            }
            fn aggregate_digest(
                &self,
                id: $crate::repository::content::NodeId,
            ) -> $crate::repository::Result<Option<Vec<u8>>> {
                let $s = self;
                $crate::repository::content::ContentRead::aggregate_digest($e, id)
            }
            fn has_aggregate_digests(&self) -> $crate::repository::Result<bool> {
                let $s = self;
                $crate::repository::content::ContentRead::has_aggregate_digests($e)
            }
            fn has_aggregate_digests_below(
                &self,
                ws: $crate::repository::content::WorkspaceId,
                path: &str,
            ) -> $crate::repository::Result<bool> {
                let $s = self;
                $crate::repository::content::ContentRead::has_aggregate_digests_below($e, ws, path)
            }
        }
    };
}
pub(crate) use forward_content_read;
