//! What a write transaction has read and written, kept on its connection so that
//! the journaled layer's many reads of the nodes an install just created (is the
//! path free, what is the parent, what properties are there before) are answered
//! without a round trip to the server.
//!
//! The transaction holds the repository's write lock, so no one else changes what
//! it reads; the cache is right as long as every mutation of this transaction
//! keeps it right: a node inserted, its properties set or removed, its types or
//! position changed update it; a subtree renamed (same-name siblings) or removed
//! is forgotten, paths and nodes, and so is the last position of its parent;
//! workspaces created or removed and a rollback to a savepoint forget everything.
//! What is forgotten is read from the server again. The
//! cache lives only inside a write transaction (begin and end forget it) and
//! forgets everything when it holds [`LIMIT`] entries or about [`LIMIT_BYTES`]
//! bytes (an estimate of what its strings and values take), so memory stays
//! bounded whatever the size of the properties.
//!
//! A node whose children's paths are all known (it was inserted by this
//! transaction, or its children were read) is *complete*: any other path right
//! below it is free, without asking the server. So an install's new subtrees
//! read nothing, and their rows can wait on the connection ([`super::bulk`]).
//! A subtree renamed or removed forgets which nodes are complete.
//! Values are kept as they read back from their stored form, so a cached read
//! gives what a read from the server would.

use crate::path;
use crate::repository::content::{NodeId, NodeRecord, WorkspaceId};
use crate::value::{Property, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Entries kept at most (nodes, paths and nodes' property sets together).
pub(crate) const LIMIT: usize = 200_000;

/// Bytes kept at most, as estimated by [`TxnCache::bytes`].
pub(crate) const LIMIT_BYTES: usize = 48 << 20;

/// Entries [`TxnCache::forget_subtree`] scans at most; a larger cache is cleared.
pub(crate) const SCAN_LIMIT: usize = 4_096;

/// What a node record takes, about (its strings, the map entries for its id and
/// path).
fn node_bytes(r: &NodeRecord) -> usize {
    2 * r.path.len()
        + r.name.len()
        + r.primary_type.len()
        + r.mixins.iter().map(|m| m.len() + 24).sum::<usize>()
        + 200
}

/// What a property takes, about.
pub(crate) fn prop_bytes(p: &Property) -> usize {
    let values: usize = p
        .values
        .iter()
        .map(|v| match v {
            Value::String(s)
            | Value::Decimal(s)
            | Value::Name(s)
            | Value::Path(s)
            | Value::Reference(s)
            | Value::WeakReference(s)
            | Value::Uri(s) => s.len() + 32,
            _ => 96,
        })
        .sum();
    2 * p.name.len() + values + 96
}

/// The cache of one write transaction.
#[derive(Default)]
pub(crate) struct TxnCache {
    /// Live workspaces by name (`None`: no live workspace of that name).
    pub(crate) ws: HashMap<String, Option<WorkspaceId>>,
    /// Workspace ids known to be live.
    pub(crate) live: HashSet<WorkspaceId>,
    /// Nodes by id (`None`: no such node).
    pub(crate) nodes: HashMap<NodeId, Option<NodeRecord>>,
    /// Node ids by workspace and path (`None`: the path is free).
    pub(crate) paths: HashMap<(WorkspaceId, String), Option<NodeId>>,
    /// All the properties of a node, by name.
    pub(crate) props: HashMap<NodeId, BTreeMap<String, Property>>,
    /// The largest child position of a node (`None`: no children).
    pub(crate) last_position: HashMap<NodeId, Option<i64>>,
    /// Sizes of blobs known to be stored, by SHA-256 (a blob goes only by `gc`,
    /// in a transaction of its own, or with a rolled back savepoint, which
    /// forgets everything).
    pub(crate) blobs: HashMap<String, u64>,
    /// Nodes whose children's paths are all in `paths`.
    pub(crate) complete: HashSet<NodeId>,
    /// What the entries take, about.
    pub(crate) bytes: usize,
}

impl TxnCache {
    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        *self = TxnCache::default();
    }

    fn size(&self) -> usize {
        self.nodes.len()
            + self.paths.len()
            + self.props.len()
            + self.last_position.len()
            + self.blobs.len()
    }

    /// Remembers that blob `sha256` of `size` bytes is stored.
    pub(crate) fn put_blob(&mut self, sha256: &str, size: u64) {
        self.make_room();
        self.bytes += 2 * sha256.len() + 64;
        self.blobs.insert(sha256.to_string(), size);
    }

    /// Forgets everything when full (called before adding).
    pub(crate) fn make_room(&mut self) {
        if self.size() >= LIMIT || self.bytes >= LIMIT_BYTES {
            self.clear();
        }
    }

    /// Remembers all the properties of node `id` (as they read back).
    pub(crate) fn put_props(&mut self, id: NodeId, props: &[Property]) {
        self.make_room();
        self.bytes += props.iter().map(prop_bytes).sum::<usize>() + 64;
        self.props.insert(
            id,
            props.iter().map(|p| (p.name.clone(), p.clone())).collect(),
        );
    }

    /// Remembers the children of `parent`, all of them, in order: `parent` is
    /// complete.
    pub(crate) fn put_children(&mut self, parent: NodeId, children: &[NodeRecord]) {
        self.make_room();
        for r in children {
            self.put(r);
        }
        self.last_position
            .insert(parent, children.iter().map(|r| r.position).max());
        self.complete.insert(parent);
    }

    /// The node at `path` of `ws`: `Some(None)` when it is known to be free.
    pub(crate) fn node_at(&self, ws: WorkspaceId, path: &str) -> Option<Option<NodeRecord>> {
        let Some(known) = self.paths.get(&(ws, path.to_string())) else {
            // Free when its parent is complete.
            let parent = path::parent(path)?;
            return match self.paths.get(&(ws, parent.to_string())) {
                Some(Some(id)) if self.complete.contains(id) => Some(None),
                _ => None,
            };
        };
        match known {
            None => Some(None),
            Some(id) => match self.nodes.get(id)? {
                Some(r) if r.ws == ws && r.path == path => Some(Some(r.clone())),
                _ => None,
            },
        }
    }

    /// Remembers a node read or written (and its path).
    pub(crate) fn put_node(&mut self, r: &NodeRecord) {
        self.make_room();
        self.put(r);
    }

    fn put(&mut self, r: &NodeRecord) {
        self.bytes += node_bytes(r);
        self.paths.insert((r.ws, r.path.clone()), Some(r.id));
        self.nodes.insert(r.id, Some(r.clone()));
    }

    /// Remembers that there is no node at `path` of `ws`.
    pub(crate) fn put_free(&mut self, ws: WorkspaceId, path: &str) {
        self.make_room();
        self.bytes += 2 * path.len() + 64;
        self.paths.insert((ws, path.to_string()), None);
    }

    /// Remembers that node `id` does not exist.
    pub(crate) fn put_missing(&mut self, id: NodeId) {
        self.make_room();
        self.bytes += 48;
        self.nodes.insert(id, None);
    }

    /// Forgets what is known at `path` of `ws` and below (a subtree that moves or
    /// goes): its paths, free or not, and its nodes, and which nodes are complete.
    /// Ids, properties and positions stay right (ids are never reused; a node an
    /// undo brings back is [`TxnCache::inserted`] again).
    ///
    /// Forgetting scans every entry, so a large cache forgets everything instead
    /// (at most [`SCAN_LIMIT`] entries are scanned): an install that renames many
    /// same-name siblings would otherwise scan the whole cache for each of them.
    pub(crate) fn forget_subtree(&mut self, ws: WorkspaceId, path: &str) {
        if self.size() > SCAN_LIMIT {
            self.clear();
            return;
        }
        self.complete.clear();
        let under = |q: &str| {
            path == "/"
                || q == path
                || (q.starts_with(path) && q.as_bytes().get(path.len()) == Some(&b'/'))
        };
        self.paths.retain(|(w, q), _| !(*w == ws && under(q)));
        self.nodes.retain(|_, r| match r {
            Some(r) => !(r.ws == ws && under(&r.path)),
            None => true,
        });
    }

    /// A node inserted by this transaction on a free path: it exists, has no
    /// properties and no children, and its parent's last position may grow.
    pub(crate) fn inserted(&mut self, r: &NodeRecord) {
        self.put_node(r);
        self.props.insert(r.id, BTreeMap::new());
        self.last_position.insert(r.id, None);
        self.complete.insert(r.id);
        if let Some(parent) = r.parent {
            if let Some(last) = self.last_position.get_mut(&parent) {
                *last = Some(last.map_or(r.position, |l| l.max(r.position)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: NodeId, parent: Option<NodeId>, path: &str, position: i64) -> NodeRecord {
        NodeRecord {
            id,
            ws: 1,
            parent,
            name: path.rsplit('/').next().unwrap_or_default().to_string(),
            position,
            path: path.to_string(),
            primary_type: "nt:unstructured".into(),
            mixins: vec![],
        }
    }

    #[test]
    fn a_path_is_answered_only_while_its_node_is_known_there() {
        let mut c = TxnCache::default();
        assert_eq!(c.node_at(1, "/a"), None, "unknown");
        c.put_free(1, "/a");
        assert_eq!(c.node_at(1, "/a"), Some(None), "known free");
        c.last_position.insert(1, Some(3));
        let a = rec(5, Some(1), "/a", 7);
        c.inserted(&a);
        assert_eq!(c.node_at(1, "/a"), Some(Some(a.clone())));
        assert_eq!(c.last_position[&1], Some(7));
        assert_eq!(c.last_position[&5], None);
        assert!(c.props[&5].is_empty());
        // A node known under another path does not answer for this one.
        c.nodes.insert(5, Some(rec(5, Some(1), "/b", 7)));
        assert_eq!(c.node_at(1, "/a"), None);
        c.clear();
        assert_eq!(c.node_at(1, "/b"), None);
    }

    #[test]
    fn a_subtree_is_forgotten_and_nothing_beside_it() {
        let mut c = TxnCache::default();
        for (id, p) in [(2, "/a"), (3, "/a/b"), (4, "/ab"), (5, "/a[2]"), (6, "/c")] {
            c.inserted(&rec(id, Some(1), p, id));
        }
        c.put_free(1, "/a/free");
        c.put_free(2, "/a");
        c.forget_subtree(1, "/a");
        for p in ["/a", "/a/b", "/a/free"] {
            assert_eq!(c.node_at(1, p), None, "{p}");
        }
        for p in ["/ab", "/a[2]", "/c"] {
            assert!(matches!(c.node_at(1, p), Some(Some(_))), "{p}");
        }
        assert_eq!(c.node_at(2, "/a"), Some(None), "another workspace");
        assert!(c.props.contains_key(&3) && c.last_position.contains_key(&3));
        c.forget_subtree(1, "/");
        assert_eq!(c.node_at(1, "/c"), None);
    }

    #[test]
    fn a_large_cache_forgets_everything_rather_than_scan() {
        let mut c = TxnCache::default();
        for id in 2..(SCAN_LIMIT as i64 + 10) {
            c.inserted(&rec(id, Some(1), &format!("/n{id}"), id));
        }
        assert!(c.size() > SCAN_LIMIT);
        c.forget_subtree(1, "/n2");
        assert_eq!(c.size(), 0);
        assert_eq!(c.node_at(1, "/n3"), None, "read from the server again");
    }

    #[test]
    fn a_full_cache_starts_again() {
        let mut c = TxnCache::default();
        for i in 0..LIMIT as i64 {
            c.put_missing(i);
        }
        assert_eq!(c.nodes.len(), LIMIT);
        c.put_missing(-1);
        assert_eq!(c.nodes.len(), 1);
    }
}
