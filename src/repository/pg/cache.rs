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
//! cache lives only inside a write transaction (begin and end forget it). When
//! it holds [`LIMIT`] entries or about [`LIMIT_BYTES`] bytes (an estimate of
//! what its strings and values take) it forgets the older half of its nodes
//! ([`TxnCache::evict`]): a node kept keeps answering, with its path, all its
//! properties and, when complete, its children's paths; a path no longer known
//! makes its parent no longer complete. So memory stays bounded whatever the
//! size of the properties, and a large install does not read back the nodes it
//! has just written.
//!
//! A node whose children's paths are all known (it was inserted by this
//! transaction, or its children were read) is *complete*: any other path right
//! below it is free, without asking the server. So an install's new subtrees
//! read nothing, and their rows can wait on the connection ([`super::bulk`]).
//! A subtree renamed or removed forgets which nodes are complete.
//! Values are kept as they read back from their stored form, so a cached read
//! gives what a read from the server would.

mod by_path;
mod props;

pub(crate) use super::schema::DistinctNames;
use crate::path;
use crate::repository::content::{NodeId, NodeRecord, WorkspaceId};
use crate::value::Property;
pub(crate) use by_path::{ByPath, Unordered};
pub(crate) use props::KnownProps;
use std::collections::{HashMap, HashSet};
use std::ops::Bound::{Excluded, Included, Unbounded};

/// The maps by node id: foldhash, several times cheaper than std's SipHash (a
/// node an install writes is looked up and stamped several times), randomly
/// seeded as the SQLite cache's.
type IdMap<V> = HashMap<NodeId, V, foldhash::fast::RandomState>;

/// Entries kept at most (nodes, paths and nodes' property sets together).
pub(crate) const LIMIT: usize = 32_000;

/// Bytes kept at most, as estimated by [`TxnCache::bytes`].
pub(crate) const LIMIT_BYTES: usize = 8 << 20;

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
        .map(|v| v.as_str().map_or(96, |s| s.len() + 32))
        .sum();
    2 * p.name.len() + values + 96
}

/// The cache of one write transaction.
#[derive(Default)]
pub(crate) struct TxnCache {
    /// Live workspaces by name (`None`: no live workspace of that name).
    pub(crate) ws: HashMap<String, Option<WorkspaceId>, foldhash::fast::RandomState>,
    /// Workspace ids known to be live.
    pub(crate) live: HashSet<WorkspaceId, foldhash::fast::RandomState>,
    /// Nodes by id (`None`: no such node).
    pub(crate) nodes: IdMap<Option<NodeRecord>>,
    /// Node ids by workspace and path (`None`: the path is free), in byte order
    /// so that a subtree is one range.
    pub(crate) paths: ByPath<Option<NodeId>>,
    /// All the properties of a node, by name.
    pub(crate) props: IdMap<KnownProps>,
    /// The largest child position of a node (`None`: no children).
    pub(crate) last_position: IdMap<Option<i64>>,
    /// Sizes of blobs known to be stored, by SHA-256 (a blob goes only by `gc`,
    /// in a transaction of its own, or with a rolled back savepoint, which
    /// forgets everything).
    pub(crate) blobs: HashMap<String, u64, foldhash::fast::RandomState>,
    /// The paths of nodes whose children's paths are all in `paths`, with the
    /// ids of those children. Each is a path of `paths` too (a path forgotten
    /// there is forgotten here), so a subtree's are found through `paths`.
    pub(crate) complete: ByPath<Vec<NodeId>, Unordered>,
    /// The nodes below which [`super::prefetch`] read ahead: where to read their
    /// children on from (`(position, id)` of the last one read), or `None` when
    /// they were read through (a node not here was not read ahead below).
    pub(crate) resume: IdMap<Option<(i64, i64)>>,
    /// What the entries take, about.
    pub(crate) bytes: usize,
    /// Property names whose MD5s are known apart (see [`DistinctNames`]).
    pub(crate) names: DistinctNames,
    /// When each node known was last written or answered for (a tick of
    /// `clock`): an eviction keeps the newer half.
    stamp: IdMap<u64>,
    clock: u64,
    /// The `jcr:uuid` rows of a workspace on the server, as far as the
    /// transaction can prove them (see [`UuidRows`]); a workspace not here was
    /// not asked yet.
    pub(crate) uuids: HashMap<WorkspaceId, UuidRows>,
}

/// What a write transaction knows of the `jcr:uuid` rows of one workspace on
/// the server.
///
/// The server is asked once whether the workspace has any; when it has none,
/// every row there after is one this transaction wrote (it holds the write
/// lock), and every statement that writes one (the `COPY` of waiting rows,
/// `set_properties`) records the hash of its stored value here. A value whose
/// hash is not recorded is then on no row of the server: its lookup needs no
/// round trip. Rows removed since leave their hash behind (a lookup of it asks
/// the server, which answers right), so the set only ever grows, up to
/// [`UUID_HASHES`] hashes; past that the server is asked each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UuidRows {
    /// The server's rows are among those whose value hashes are here.
    Among(HashSet<u64>),
    /// The server may hold any: ask it.
    Unknown,
}

/// Hashes of written `jcr:uuid` values kept at most per workspace (8 bytes
/// and the table's overhead each).
pub(crate) const UUID_HASHES: usize = 1 << 20;

/// The hash [`UuidRows`] keeps of a stored `jcr:uuid` value (SipHash with fixed
/// keys: the same value gives the same hash in one process).
pub(crate) fn uuid_hash(value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl UuidRows {
    /// Whether the server may hold a row of stored value `value`.
    pub(crate) fn may_hold(&self, value: &str) -> bool {
        match self {
            UuidRows::Among(set) => set.contains(&uuid_hash(value)),
            UuidRows::Unknown => true,
        }
    }
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
            + self.resume.len()
    }

    /// A statement writes a `jcr:uuid` row of stored value `value` into
    /// workspace `ws` (before it runs: a failed statement fails the
    /// transaction, and a hash too many only costs a round trip).
    pub(crate) fn uuid_written(&mut self, ws: WorkspaceId, value: &str) {
        if let Some(UuidRows::Among(set)) = self.uuids.get_mut(&ws) {
            if set.len() >= UUID_HASHES {
                self.uuids.insert(ws, UuidRows::Unknown);
            } else {
                set.insert(uuid_hash(value));
            }
        }
    }

    /// Node `id` is used now.
    fn touch(&mut self, id: NodeId) {
        self.clock += 1;
        self.stamp.insert(id, self.clock);
    }

    /// Node `id` (`Some(None)`: known not to exist), used now.
    pub(crate) fn node(&mut self, id: NodeId) -> Option<Option<NodeRecord>> {
        let known = self.nodes.get(&id).cloned()?;
        self.touch(id);
        Some(known)
    }

    /// Remembers that blob `sha256` of `size` bytes is stored.
    pub(crate) fn put_blob(&mut self, sha256: &str, size: u64) {
        self.make_room();
        self.bytes += 2 * sha256.len() + 64;
        self.blobs.insert(sha256.to_string(), size);
    }

    /// Makes room when full (called before adding): forgets the older half of
    /// what it knows of nodes ([`TxnCache::evict`]).
    pub(crate) fn make_room(&mut self) {
        if self.size() >= LIMIT || self.bytes >= LIMIT_BYTES {
            self.evict();
            if self.size() >= LIMIT * 3 / 4 || self.bytes >= LIMIT_BYTES * 3 / 4 {
                // What is left is not nodes (it cannot be, short of a bug): start
                // again rather than evict at every entry.
                self.clear();
            }
        }
    }

    /// Forgets the half of the nodes it knows that were used least recently
    /// (written, read, or answered for: an install's current folders and its
    /// newest nodes stay): of each, its record, properties, last position and
    /// whether it is complete; its path too, unless its parent stays complete
    /// (a path entry is right whether or not its node's record is kept, and a
    /// complete parent needs all its children's paths: so a folder that stays
    /// keeps answering that a new name below it is free). A path forgotten
    /// makes its parent no longer complete. Free paths and stored blobs are
    /// forgotten too (cheap to read again). What is kept answers as before.
    /// Workspaces and the `jcr:uuid` rows are kept.
    pub(crate) fn evict(&mut self) {
        let mut stamps: Vec<u64> = self
            .nodes
            .keys()
            .map(|id| self.stamp.get(id).copied().unwrap_or(0))
            .collect();
        let cut = if stamps.is_empty() {
            u64::MAX
        } else {
            let mid = stamps.len() / 2;
            *stamps.select_nth_unstable(mid).1
        };
        drop(stamps);
        let before = self.size().max(1);
        let stamp = &self.stamp;
        let kept = |id: &NodeId| stamp.get(id).is_some_and(|&t| t >= cut);
        self.nodes.retain(|id, _| kept(id));
        self.props.retain(|id, _| kept(id));
        self.last_position.retain(|id, _| kept(id));
        self.resume.retain(|id, _| kept(id));
        // The complete nodes that stay: those whose record stays at their path.
        // Borrowed, not cloned: an eviction allocates no path.
        let nodes = &self.nodes;
        let at_kept = |ws: WorkspaceId, p: &str, known: &Option<NodeId>| matches!(known, Some(id) if matches!(nodes.get(id), Some(Some(r)) if r.ws == ws && r.path == p));
        let paths = &self.paths;
        let stay: HashSet<(WorkspaceId, &str), foldhash::fast::RandomState> = self
            .complete
            .iter()
            .filter(|&(ws, p, _)| paths.get(ws, p).is_some_and(|known| at_kept(ws, p, known)))
            .map(|(ws, p, _)| (ws, p))
            .collect();
        self.paths.retain(|ws, p, known| {
            at_kept(ws, p, known)
                || (known.is_some() && path::parent(p).is_some_and(|p| stay.contains(&(ws, p))))
        });
        drop(stay);
        // A complete node stays complete only when it stays and so all its
        // children's paths stayed (its own path stayed with its record).
        let paths = &self.paths;
        self.complete
            .retain(|ws, p, _| paths.get(ws, p).is_some_and(|known| at_kept(ws, p, known)));
        let nodes = &self.nodes;
        self.stamp.retain(|id, _| nodes.contains_key(id));
        self.blobs.clear();
        // The estimate shrinks with the entries.
        self.bytes = (self.bytes as u128 * self.size() as u128 / before as u128) as usize;
    }

    /// Remembers all the properties of node `id` (as they read back).
    pub(crate) fn put_props(&mut self, id: NodeId, props: &[Property]) {
        self.make_room();
        self.bytes += props.iter().map(prop_bytes).sum::<usize>() + 64;
        self.props.insert(id, KnownProps::new(props));
    }

    /// Remembers the children of `parent`, all of them, in order: `parent` is
    /// complete (when its path is known).
    pub(crate) fn put_children(&mut self, parent: NodeId, children: &[NodeRecord]) {
        self.make_room();
        for r in children {
            self.put(r.clone());
        }
        self.last_position
            .insert(parent, children.iter().map(|r| r.position).max());
        if let Some(Some(r)) = self.nodes.get(&parent) {
            if self.paths.get(r.ws, &r.path) == Some(&Some(parent)) {
                self.complete
                    .insert(r.ws, &r.path, children.iter().map(|c| c.id).collect());
            }
        }
    }

    /// The children of `parent` in order, when it is complete and every child
    /// is known.
    pub(crate) fn children(&mut self, parent: NodeId) -> Option<Vec<NodeRecord>> {
        let Some(Some(p)) = self.nodes.get(&parent) else {
            return None;
        };
        if self.paths.get(p.ws, &p.path) != Some(&Some(parent)) {
            return None;
        }
        let ids = self.complete.get(p.ws, &p.path)?;
        let mut kids = Vec::with_capacity(ids.len());
        for id in ids {
            match self.nodes.get(id) {
                Some(Some(r)) if r.parent == Some(parent) => kids.push(r.clone()),
                _ => return None,
            }
        }
        kids.sort_by_key(|r| (r.position, r.id));
        self.touch(parent);
        Some(kids)
    }

    /// The node to read ahead below (see [`super::prefetch`]) for a path of
    /// `ws` this cache does not know: its parent, when [`TxnCache::may_read_below`].
    pub(crate) fn read_ahead_below(&self, ws: WorkspaceId, path: &str) -> Option<NodeId> {
        let parent = path::parent(path)?;
        match self.paths.get(ws, parent) {
            Some(Some(id)) if self.may_read_below(*id) => Some(*id),
            _ => None,
        }
    }

    /// Whether to read ahead below node `id`: it is known at its path, is not
    /// complete, and was not read through already.
    pub(crate) fn may_read_below(&self, id: NodeId) -> bool {
        let Some(Some(r)) = self.nodes.get(&id) else {
            return false;
        };
        self.paths.get(r.ws, &r.path) == Some(&Some(id))
            && !self.complete.contains_key(r.ws, &r.path)
            && !matches!(self.resume.get(&id), Some(None))
    }

    /// What answers for `path` of `ws`, borrowed: whether a node is there (the
    /// node, known at that path) or not (the path known free, or its parent
    /// complete), with the node to stamp as used; `None` when not known.
    fn answer_at(&self, ws: WorkspaceId, path: &str) -> Option<(bool, Option<NodeId>)> {
        let Some(known) = self.paths.get(ws, path) else {
            // Free when its parent is complete.
            let parent = path::parent(path)?;
            return match self.paths.get(ws, parent) {
                Some(Some(id)) if self.complete.contains_key(ws, parent) => {
                    Some((false, Some(*id)))
                }
                _ => None,
            };
        };
        match known {
            None => Some((false, None)),
            Some(id) => match self.nodes.get(id)? {
                Some(r) if r.ws == ws && r.path == path => Some((true, Some(*id))),
                _ => None,
            },
        }
    }

    /// The node at `path` of `ws`: `Some(None)` when it is known to be free.
    pub(crate) fn node_at(&mut self, ws: WorkspaceId, path: &str) -> Option<Option<NodeRecord>> {
        let (exists, used) = self.answer_at(ws, path)?;
        if let Some(id) = used {
            self.touch(id);
        }
        match used {
            Some(id) if exists => Some(self.nodes.get(&id).cloned().flatten()),
            _ => Some(None),
        }
    }

    /// Whether a node is at `path` of `ws`, when known (as [`TxnCache::node_at`]
    /// says, without copying the node).
    pub(crate) fn exists_at(&mut self, ws: WorkspaceId, path: &str) -> Option<bool> {
        let (exists, used) = self.answer_at(ws, path)?;
        if let Some(id) = used {
            self.touch(id);
        }
        Some(exists)
    }

    /// The workspace and path of node `id` (`Some(None)`: known not to exist),
    /// used now; the record is not copied.
    pub(crate) fn place(&mut self, id: NodeId) -> Option<Option<(WorkspaceId, String)>> {
        let known = self
            .nodes
            .get(&id)?
            .as_ref()
            .map(|r| (r.ws, r.path.clone()));
        self.touch(id);
        Some(known)
    }

    /// Remembers a node read or written (and its path).
    pub(crate) fn put_node(&mut self, r: &NodeRecord) {
        self.make_room();
        self.put(r.clone());
    }

    fn put(&mut self, r: NodeRecord) {
        self.bytes += node_bytes(&r);
        self.touch(r.id);
        if let Some(Some(other)) = self.paths.insert(r.ws, &r.path, Some(r.id)) {
            // A node known at this path before is no longer known anywhere.
            if other != r.id {
                self.nodes.remove(&other);
            }
        }
        self.nodes.insert(r.id, Some(r));
    }

    /// Remembers that there is no node at `path` of `ws`.
    pub(crate) fn put_free(&mut self, ws: WorkspaceId, path: &str) {
        self.make_room();
        self.bytes += 2 * path.len() + 64;
        self.paths.insert(ws, path, None);
    }

    /// Remembers that node `id` does not exist.
    pub(crate) fn put_missing(&mut self, id: NodeId) {
        self.make_room();
        self.bytes += 48;
        self.touch(id);
        self.nodes.insert(id, None);
    }

    /// Forgets what is known at `path` of `ws` and below (a subtree that moves or
    /// goes): its paths, free or not, and its nodes, and which of them are
    /// complete, and that its parent is complete (its children change). Ids,
    /// properties and positions stay right (ids are never reused; a node an undo
    /// brings back is [`TxnCache::inserted`] again).
    ///
    /// Paths are kept in byte order, so the subtree is two ranges (the path,
    /// then `path/` up to `path0`), and the complete nodes in it are among
    /// those paths: the cost is what is forgotten, not the cache's size.
    pub(crate) fn forget_subtree(&mut self, ws: WorkspaceId, path: &str) {
        if path == "/" {
            let gone: Vec<String> = self
                .paths
                .range(ws, Unbounded, Unbounded)
                .map(|(p, _)| p.to_string())
                .collect();
            self.forget_paths(ws, gone);
            self.complete.remove_workspace(ws);
            return;
        }
        if let Some(parent) = path::parent(path) {
            self.complete.remove(ws, parent);
        }
        let (lo, hi) = super::content::descendant_bounds(path);
        let mut gone: Vec<String> = Vec::new();
        if self.paths.contains_key(ws, path) {
            gone.push(path.to_string());
        }
        gone.extend(
            self.paths
                .range(ws, Included(&lo), Excluded(&hi))
                .map(|(p, _)| p.to_string()),
        );
        self.forget_paths(ws, gone);
        self.complete.remove(ws, path);
    }

    /// The subtree at `old` of `ws` moved to `new` (a free path): both subtrees
    /// are forgotten, but the moved node itself is known at `new` and `old` is
    /// known free when the node at `old` was known, so the parents that were
    /// complete stay complete (a same-name sibling renamed into place does not
    /// make its siblings be read again).
    pub(crate) fn moved(&mut self, ws: WorkspaceId, old: &str, new: &str) {
        let known = match self.paths.get(ws, old) {
            Some(Some(id)) => match self.nodes.get(id) {
                Some(Some(r)) if r.ws == ws && r.path == old => Some(r.clone()),
                _ => None,
            },
            _ => None,
        };
        // Taken out, not copied: forgetting either subtree forgets them anyway
        // (a parent of many same-name siblings has a long list).
        let parents: Vec<(String, Vec<NodeId>)> = [old, new]
            .iter()
            .filter_map(|p| path::parent(p))
            .filter_map(|p| self.complete.remove(ws, p).map(|ids| (p.to_string(), ids)))
            .collect();
        self.forget_subtree(ws, old);
        self.forget_subtree(ws, new);
        let Some(mut r) = known else {
            return;
        };
        r.path = new.to_string();
        // Without `make_room`: a clear here would leave the parents' entries
        // below behind on their own.
        self.put(r);
        self.bytes += 2 * old.len() + 64;
        self.paths.insert(ws, old, None);
        for (p, ids) in parents {
            self.complete.insert(ws, &p, ids);
        }
    }

    /// Forgets paths, the nodes known at them and whether they are complete.
    fn forget_paths(&mut self, ws: WorkspaceId, gone: Vec<String>) {
        for p in gone {
            self.complete.remove(ws, &p);
            if let Some(Some(id)) = self.paths.remove(ws, &p) {
                if let Some(Some(r)) = self.nodes.get(&id) {
                    if r.ws == ws && r.path == p {
                        self.nodes.remove(&id);
                    }
                }
            }
        }
    }

    /// A node inserted by this transaction on a free path: it exists, has no
    /// properties and no children, and its parent's last position may grow.
    pub(crate) fn inserted(&mut self, r: NodeRecord) {
        let (id, parent, position) = (r.id, r.parent, r.position);
        self.make_room();
        self.complete.insert(r.ws, &r.path, Vec::new());
        self.put(r);
        self.props.insert(id, KnownProps::default());
        self.last_position.insert(id, None);
        if let Some(parent) = parent {
            if let Some(Some(p)) = self.nodes.get(&parent) {
                if let Some(ids) = self.complete.get_mut(p.ws, &p.path) {
                    ids.push(id);
                }
            }
            if let Some(last) = self.last_position.get_mut(&parent) {
                *last = Some(last.map_or(position, |l| l.max(position)));
            }
        }
    }

    /// The id of the node known at `path` of `ws` (a path entry is right on its
    /// own, see [`TxnCache::evict`]); None when the path is free or not known.
    /// A look that is no use of the node: it keeps the node no longer.
    pub(crate) fn known_id_at(&self, ws: WorkspaceId, path: &str) -> Option<NodeId> {
        match self.paths.get(ws, path) {
            Some(Some(id)) => Some(*id),
            _ => None,
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

    impl TxnCache {
        fn node_by_path_id(&self, id: NodeId) -> Option<String> {
            match self.nodes.get(&id) {
                Some(Some(r)) => Some(r.path.clone()),
                _ => None,
            }
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
        c.inserted(a.clone());
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
            c.inserted(rec(id, Some(1), p, id));
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
    fn a_subtree_is_forgotten_in_a_large_cache_and_nothing_else() {
        let mut c = TxnCache::default();
        c.inserted(rec(1, None, "/", 0));
        // Large, but well under the bounds: nothing is evicted.
        for id in 2..(LIMIT / 8) as i64 + 2 {
            c.inserted(rec(id, Some(1), &format!("/n{id}"), id));
        }
        c.inserted(rec(20_000, Some(2), "/n2/x", 0));
        c.forget_subtree(1, "/n2");
        assert_eq!(c.node_at(1, "/n2"), None);
        assert_eq!(c.node_at(1, "/n2/x"), None);
        assert!(matches!(c.node_at(1, "/n3"), Some(Some(_))), "kept");
        assert!(
            matches!(c.node_at(1, "/n3/free"), Some(None)),
            "still complete"
        );
        // The parent of what went is no longer complete: its children changed.
        assert_eq!(c.node_at(1, "/other"), None);
    }

    #[test]
    fn a_moved_node_is_known_at_its_new_path_and_its_parent_stays_complete() {
        let mut c = TxnCache::default();
        c.inserted(rec(1, None, "/", 0));
        c.inserted(rec(2, Some(1), "/a", 1));
        c.inserted(rec(3, Some(2), "/a/t", 1));
        c.inserted(rec(4, Some(3), "/a/t/c", 1));
        c.moved(1, "/a/t", "/a/t[2]");
        let moved = c.node_at(1, "/a/t[2]").unwrap().unwrap();
        assert_eq!((moved.id, moved.path.as_str()), (3, "/a/t[2]"));
        assert_eq!(c.node_by_path_id(4), None, "its subtree is forgotten");
        assert_eq!(c.node_at(1, "/a/t[2]/c"), None, "read again");
        assert_eq!(c.node_at(1, "/a/t"), Some(None), "free");
        assert_eq!(c.node_at(1, "/a/u"), Some(None), "the parent is complete");
        // An unknown node moved: both places are read again.
        c.moved(1, "/b", "/a/v");
        assert_eq!(c.node_at(1, "/a/v"), None);
        assert_eq!(c.node_at(1, "/a/u"), None, "no longer complete");
    }

    #[test]
    fn a_complete_node_lists_its_children_in_order_until_they_change() {
        let mut c = TxnCache::default();
        c.inserted(rec(1, None, "/", 0));
        c.inserted(rec(2, Some(1), "/a", 5));
        c.inserted(rec(3, Some(1), "/b", 2));
        c.inserted(rec(4, Some(1), "/a[2]", 5));
        let ids = |c: &mut TxnCache| {
            c.children(1)
                .map(|k| k.iter().map(|r| r.id).collect::<Vec<_>>())
        };
        assert_eq!(ids(&mut c), Some(vec![3, 2, 4]), "by position, then id");
        c.moved(1, "/a[2]", "/a[3]");
        assert_eq!(ids(&mut c), Some(vec![3, 2, 4]), "a rename keeps the list");
        c.forget_subtree(1, "/b");
        assert_eq!(ids(&mut c), None, "a child went: read again");
        // Read from the server: complete again, with what it gave.
        let read = [rec(2, Some(1), "/a", 5)];
        c.put_children(1, &read);
        assert_eq!(ids(&mut c), Some(vec![2]));
        c.nodes.remove(&2);
        assert_eq!(ids(&mut c), None, "a child not known");
    }

    #[test]
    fn a_full_cache_forgets_its_older_half() {
        let mut c = TxnCache::default();
        for i in 0..LIMIT as i64 {
            c.put_missing(i);
        }
        assert_eq!(c.nodes.len(), LIMIT);
        c.put_missing(LIMIT as i64);
        assert_eq!(c.nodes.len(), LIMIT / 2 + 1);
        assert!(!c.nodes.contains_key(&0) && !c.nodes.contains_key(&(LIMIT as i64 / 2 - 1)));
        assert_eq!(c.nodes.get(&(LIMIT as i64 / 2)), Some(&None), "kept");
        assert_eq!(c.nodes.get(&(LIMIT as i64)), Some(&None), "added");
        assert!(c.bytes < LIMIT_BYTES / 2);
    }

    #[test]
    fn a_full_cache_of_paths_and_blobs_starts_again() {
        let mut c = TxnCache::default();
        for i in 0..LIMIT {
            c.put_free(1, &format!("/f{i}"));
        }
        c.put_blob("abc", 3);
        assert_eq!(c.paths.len(), 0);
        assert_eq!(c.blobs.len(), 1);
    }

    /// Every answer the cache gives after an eviction is one it gave before.
    fn answers(c: &mut TxnCache, paths: &[&str]) -> Vec<(String, Option<Option<NodeId>>)> {
        paths
            .iter()
            .map(|p| (p.to_string(), c.node_at(1, p).map(|k| k.map(|r| r.id))))
            .collect()
    }

    #[test]
    fn an_eviction_keeps_what_was_used_last_and_forgets_no_more_than_it_can_prove() {
        let mut c = TxnCache::default();
        // Read from the server: the root and /old (ids 1, 2) with /old's children.
        c.put_node(&rec(1, None, "/", 0));
        c.put_children(1, &[rec(2, Some(1), "/old", 0)]);
        c.put_props(2, &[]);
        c.put_children(2, &[rec(3, Some(2), "/old/a", 0)]);
        c.put_free(1, "/nothing");
        c.put_blob("abc", 3);
        // Created by the transaction below /old: /old/n (10) and its subtree.
        c.inserted(rec(10, Some(2), "/old/n", 1));
        for i in 0..6 {
            c.inserted(rec(11 + i, Some(10), &format!("/old/n/c{i}"), i));
        }
        let probe = [
            "/",
            "/old",
            "/old/a",
            "/old/n",
            "/old/n/c0",
            "/old/n/c5",
            "/old/n/free",
            "/old/free",
            "/nothing",
            "/other",
            "/old/n/c5/x",
            "/old/n/c1",
        ];
        // The probe uses, in this order: 1, 2, 3, 10, 11, 16, 10, 2, 1, 16, 12;
        // so 13, 14, 15, 3 and 11 were used least recently.
        let before = answers(&mut c, &probe);
        c.evict();
        let after = answers(&mut c, &probe);
        for ((p, b), (_, a)) in before.iter().zip(&after) {
            assert!(a.is_none() || a == b, "{p}: {a:?} after, {b:?} before");
        }
        let mut id_at = |p: &str| c.node_at(1, p).map(|k| k.map(|r| r.id));
        assert_eq!(id_at("/old/n/c5"), Some(Some(16)));
        assert_eq!(id_at("/old/n/c5/x"), Some(None), "complete, created here");
        assert_eq!(id_at("/old"), Some(Some(2)), "used last");
        assert_eq!(id_at("/old/a"), None, "its record went");
        assert_eq!(id_at("/old/n/c3"), None, "its record went");
        // A folder that stays keeps its children's paths: still complete.
        assert_eq!(id_at("/old/free"), Some(None));
        assert_eq!(id_at("/old/n/new"), Some(None));
        assert_eq!(c.children(10), None, "but its children are read again");
        assert!(c.props.contains_key(&16) && c.last_position.contains_key(&16));
        assert!(!c.props.contains_key(&13) && !c.last_position.contains_key(&13));
        assert!(c.blobs.is_empty());
        assert!(!c.paths.contains_key(1, "/nothing"), "free paths go");
    }

    #[test]
    fn a_folder_that_goes_takes_its_childrens_paths_and_its_completeness() {
        let mut c = TxnCache::default();
        c.inserted(rec(100, None, "/", 0));
        c.inserted(rec(300, Some(100), "/p", 0));
        // Read from the server into /p.
        c.put_children(
            300,
            &[rec(5, Some(300), "/p/a", 0), rec(6, Some(300), "/p/b", 1)],
        );
        assert_eq!(c.node_at(1, "/zz"), Some(None));
        for i in 0..10 {
            c.inserted(rec(20 + i, Some(100), &format!("/q{i}"), i + 1));
        }
        assert!(matches!(c.node_at(1, "/p"), Some(Some(_))), "used last");
        c.evict();
        assert!(c.nodes.contains_key(&300), "/p stays");
        assert!(!c.nodes.contains_key(&5) && !c.nodes.contains_key(&100));
        assert_eq!(c.node_at(1, "/p/a"), None, "its record went");
        assert_eq!(c.node_at(1, "/p/zz"), Some(None), "/p stays complete");
        // The root went: its children's paths go with it, but for those kept.
        assert_eq!(c.node_at(1, "/zz"), None, "no longer known free");
        assert_eq!(c.node_at(1, "/q0"), None);
        assert!(matches!(c.node_at(1, "/q9"), Some(Some(_))));
        assert!(matches!(c.node_at(1, "/p"), Some(Some(_))));
    }
}
