//! What a write transaction knows about the nodes it inserted itself, so that a
//! bulk insert (an install creating a subtree node by node) does not ask SQLite
//! for what it has just written: the parent's row, whether a child path is taken,
//! the last sibling position, the node's identifier.
//!
//! The cache holds the records of nodes inserted by this transaction, at their
//! final path, since it was last cleared. That makes two kinds of answer exact:
//!
//! * a cached node is as cached: every change to a node row (type, mixins,
//!   position, path, removal) clears the cache before it is made, and so does a
//!   rollback to a savepoint;
//! * a path whose parent is cached and which is not cached itself is free: a node
//!   there would have been inserted after its parent, hence after the last clear,
//!   and would be cached (the cache is cleared whole, never evicted in part).
//!
//! A same-name sibling appended below a cached parent (its position at or after
//! every child's, so it ranks last) goes straight to its final path `name[n]`:
//! no other path changes, so nothing is cleared. The cache counts the children of
//! each name below its nodes for that (only names taken more than once).
//!
//! Besides, it keeps the rows (and, once read, the `jcr:uuid`) of nodes it read
//! from SQLite, as read: the same clearing keeps them exact, and the writes of a
//! `jcr:uuid` update them. They answer reads again (a re-install asks for each
//! existing node several times) but never say that a path is free.
//!
//! It also keeps, for nodes read from SQLite, their children as read (ids, in
//! order): the same clearing keeps such a list exact but for one change, a child
//! inserted below the node, which forgets the node's list. A list answers only
//! while every child in it is held as read (an inserted child never is). A family
//! read (a node's children and theirs, [`NodeCache::lists_seen`]) fills them, so
//! that a re-install asks once a family, not once a node, what children a node
//! has.
//!
//! Everything else is asked of SQLite as before. Either part is cleared when it
//! reaches [`NodeCache::LIMIT`] nodes, so the cache stays a few megabytes.
//!
//! The maps hash with foldhash, several times cheaper than std's SipHash on
//! paths (a lookup hashes one to three of them). The paths come from packages,
//! which may be hostile, so its hasher is the randomly seeded one: a package
//! cannot choose paths that collide in every process.

use crate::path;
use crate::repository::content::{NodeId, NodeRecord, WorkspaceId};
use std::cell::RefCell;

/// The cache's maps: keyed by package paths, hashed with a random seed (module doc).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// One inserted node.
#[derive(Debug)]
struct Entry {
    record: NodeRecord,
    /// The largest position of its children (all inserted since, so all cached).
    last_child: Option<i64>,
    /// Its `jcr:uuid` as written (`None`: none).
    uuid: Option<String>,
}

/// A node read from SQLite.
#[derive(Debug)]
struct Seen {
    record: NodeRecord,
    /// Its `jcr:uuid` once known (`Some(None)`: it has none).
    uuid: Option<Option<String>>,
}

/// Node ids by workspace and path: a lookup by `&str` needs no key built.
type ByPath = HashMap<WorkspaceId, HashMap<String, NodeId>>;

/// Nodes read from SQLite, by id and by path, and the children of some of them.
#[derive(Debug, Default)]
struct SeenRows {
    by_id: HashMap<NodeId, Seen>,
    by_path: ByPath,
    /// The children of a node as read, in order (module doc).
    children: HashMap<NodeId, Vec<NodeId>>,
}

/// See the module doc.
#[derive(Debug, Default)]
pub(crate) struct NodeCache {
    by_id: HashMap<NodeId, Entry>,
    by_path: ByPath,
    /// How many children of an inserted node bear a name, for names borne more
    /// than once (a name borne once is in `by_path`).
    same_names: HashMap<(NodeId, String), u32>,
    /// Nodes read from SQLite, as read (reads remember them).
    seen: RefCell<SeenRows>,
    /// Workspace ids by name, as read (cleared with the rest).
    workspaces: RefCell<HashMap<String, WorkspaceId>>,
    /// Property rows read ahead (module `props_ahead`; forgotten with the rest).
    pub(super) props_ahead: RefCell<super::props_ahead::PropsAhead>,
    /// The last identifier asked for and owned by no node of its workspace, until
    /// a `jcr:uuid` of that value is written (or the cache is cleared): an install
    /// asks twice for each identifier it gives a node, once choosing it and once
    /// adding the node.
    free_uuid: RefCell<Option<(WorkspaceId, String)>>,
}

/// An answer from the cache.
#[derive(Debug, PartialEq)]
pub(crate) enum Known<T> {
    /// The cache knows the answer.
    Yes(T),
    /// Ask the database.
    Ask,
}

impl NodeCache {
    /// Nodes held at most.
    pub const LIMIT: usize = 4 * 1024;

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.forget_inserted();
        *self.seen.get_mut() = SeenRows::default();
        self.workspaces.get_mut().clear();
        self.props_ahead.get_mut().forget();
        *self.free_uuid.get_mut() = None;
    }

    /// Forgets the inserted nodes.
    fn forget_inserted(&mut self) {
        self.by_id.clear();
        self.by_path.clear();
        self.same_names.clear();
    }

    /// Remembers a row just read from SQLite (and so as stored now).
    pub fn seen(&self, record: &NodeRecord) {
        if self.by_id.contains_key(&record.id) {
            return;
        }
        let mut seen = self.seen.borrow_mut();
        if seen.by_id.contains_key(&record.id) {
            return;
        }
        if seen.by_id.len() >= Self::LIMIT {
            *seen = SeenRows::default();
        }
        seen.by_path
            .entry(record.ws)
            .or_default()
            .insert(record.path.clone(), record.id);
        seen.by_id.insert(
            record.id,
            Seen {
                record: record.clone(),
                uuid: None,
            },
        );
    }

    /// Whether node `id` was read from SQLite (not inserted by this transaction).
    pub fn is_seen(&self, id: NodeId) -> bool {
        !self.by_id.contains_key(&id) && self.seen.borrow().by_id.contains_key(&id)
    }

    /// Remembers the children just read of each node of `lists` (each list whole,
    /// in order) with their rows; nothing when they are more than the cache holds.
    /// Makes room first, so that no list outlives one of its rows.
    pub fn lists_seen(&self, lists: &[(NodeId, &[NodeRecord])]) {
        let rows: usize = lists.iter().map(|(_, l)| l.len()).sum();
        if rows > Self::LIMIT / 2 {
            return;
        }
        {
            let mut seen = self.seen.borrow_mut();
            if seen.by_id.len() + rows >= Self::LIMIT {
                *seen = SeenRows::default();
            }
        }
        for (parent, children) in lists {
            for r in children.iter() {
                self.seen(r);
            }
            let ids = children.iter().map(|r| r.id).collect();
            self.seen.borrow_mut().children.insert(*parent, ids);
        }
    }

    /// Whether the children of node `id` are known ([`NodeCache::children`]
    /// answers).
    pub fn knows_children(&self, id: NodeId) -> bool {
        let seen = self.seen.borrow();
        seen.children
            .get(&id)
            .is_some_and(|ids| ids.iter().all(|c| seen.by_id.contains_key(c)))
    }

    /// The children of node `id`, in order, when known (module doc).
    pub fn children(&self, id: NodeId) -> Known<Vec<NodeRecord>> {
        let seen = self.seen.borrow();
        let Some(ids) = seen.children.get(&id) else {
            return Known::Ask;
        };
        let mut out = Vec::with_capacity(ids.len());
        for c in ids {
            match seen.by_id.get(c) {
                Some(e) => out.push(e.record.clone()),
                None => return Known::Ask,
            }
        }
        Known::Yes(out)
    }

    /// Remembers the `jcr:uuid` just read of node `id`, when its row is kept.
    pub fn uuid_seen(&self, id: NodeId, uuid: Option<&str>) {
        if let Some(e) = self.seen.borrow_mut().by_id.get_mut(&id) {
            e.uuid = Some(uuid.map(str::to_string));
        }
    }

    /// Records a node this transaction has just inserted at its final path.
    pub fn inserted(&mut self, record: NodeRecord) {
        if self.by_id.len() >= Self::LIMIT {
            self.forget_inserted();
        }
        if let Some(parent) = record.parent {
            // The parent's children as read are no longer all of them.
            self.seen.get_mut().children.remove(&parent);
        }
        if let Some(parent) = record.parent.and_then(|p| self.by_id.get_mut(&p)) {
            parent.last_child = Some(
                parent
                    .last_child
                    .map_or(record.position, |m| m.max(record.position)),
            );
        }
        self.by_path
            .entry(record.ws)
            .or_default()
            .insert(record.path.clone(), record.id);
        self.by_id.insert(
            record.id,
            Entry {
                record,
                last_child: None,
                uuid: None,
            },
        );
    }

    /// The same-name index of a node called `name` appended below `parent` at
    /// `position`, when the first path of that name is taken: known when `parent`
    /// is an inserted node (so all its children are cached) and the new node ranks
    /// after all of them (its id is larger than any, so a position at or after the
    /// last child's is enough). `None`: ask SQLite.
    pub fn append_index(&self, parent: NodeId, name: &str, position: i64) -> Option<u32> {
        let last = self.by_id.get(&parent)?.last_child?;
        if position < last {
            return None;
        }
        let borne = self
            .same_names
            .get(&(parent, name.to_string()))
            .copied()
            .unwrap_or(1);
        borne.checked_add(1)
    }

    /// Records a node this transaction has just inserted as the `index`th child
    /// called its name, at its final path (after [`NodeCache::append_index`]).
    pub fn inserted_same_name(&mut self, record: NodeRecord, index: u32) {
        let key = record.parent.map(|p| (p, record.name.clone()));
        self.inserted(record);
        if let Some(key) = key.filter(|k| self.by_id.contains_key(&k.0)) {
            self.same_names.insert(key, index);
        }
    }

    /// Follows node `id` getting type `ptype`, `mixins` and `position`, when no
    /// path moves and the cache stays exact: the position unchanged, or a node
    /// this transaction inserted below a node it inserted, the only child of its
    /// name, that does not give up the last position. `false`: the caller clears
    /// the cache (same-name siblings may be renumbered).
    pub fn updated(&mut self, id: NodeId, ptype: &str, mixins: &[String], position: i64) -> bool {
        let record = match self.by_id.get(&id) {
            Some(e) => &e.record,
            None => {
                let seen = self.seen.get_mut();
                return match seen.by_id.get_mut(&id) {
                    Some(e) if e.record.position == position => {
                        set_fields(&mut e.record, ptype, mixins);
                        true
                    }
                    _ => false,
                };
            }
        };
        if record.position != position {
            let (old, Some(parent)) = (record.position, record.parent) else {
                return false;
            };
            if self.same_names.contains_key(&(parent, record.name.clone())) {
                return false;
            }
            let Some(p) = self.by_id.get_mut(&parent) else {
                return false;
            };
            match p.last_child {
                Some(last) if last == old && position < old => return false,
                Some(last) => p.last_child = Some(last.max(position)),
                None => return false,
            }
        }
        match self.by_id.get_mut(&id) {
            Some(e) => {
                set_fields(&mut e.record, ptype, mixins);
                e.record.position = position;
                true
            }
            None => false,
        }
    }

    /// The record of node `id`, if cached (inserted or read).
    pub fn record(&self, id: NodeId) -> Option<NodeRecord> {
        match self.by_id.get(&id) {
            Some(e) => Some(e.record.clone()),
            None => self.seen.borrow().by_id.get(&id).map(|e| e.record.clone()),
        }
    }

    /// The workspace and path of node `id`, if cached (inserted or read): the
    /// record without cloning the rest of it.
    pub fn ws_path(&self, id: NodeId) -> Option<(WorkspaceId, String)> {
        match self.by_id.get(&id) {
            Some(e) => Some((e.record.ws, e.record.path.clone())),
            None => self
                .seen
                .borrow()
                .by_id
                .get(&id)
                .map(|e| (e.record.ws, e.record.path.clone())),
        }
    }

    /// The workspace of node `id` and the path of its first child called
    /// `name`, if the node is cached (inserted or read): built from the node's
    /// path without copying it.
    pub fn first_child_path(&self, id: NodeId, name: &str) -> Option<(WorkspaceId, String)> {
        let of = |r: &NodeRecord| (r.ws, path::join_child(&r.path, name, 1));
        match self.by_id.get(&id) {
            Some(e) => Some(of(&e.record)),
            None => self.seen.borrow().by_id.get(&id).map(|e| of(&e.record)),
        }
    }

    /// Whether node `id` is cached (inserted or read), so that it exists.
    pub fn holds(&self, id: NodeId) -> bool {
        self.by_id.contains_key(&id) || self.seen.borrow().by_id.contains_key(&id)
    }

    /// The node at normalized path `p` of `ws`: cached, known free, or unknown.
    pub fn at(&self, ws: WorkspaceId, p: &str) -> Known<Option<NodeRecord>> {
        match self.id_at(ws, p) {
            Known::Yes(Some(id)) => match self.record(id) {
                Some(r) => Known::Yes(Some(r)),
                None => Known::Ask,
            },
            Known::Yes(None) => Known::Yes(None),
            Known::Ask => Known::Ask,
        }
    }

    /// The id of the node at normalized path `p` of `ws`, as [`NodeCache::at`]
    /// knows it, without copying its record.
    pub fn id_at(&self, ws: WorkspaceId, p: &str) -> Known<Option<NodeId>> {
        let seen = self.seen.borrow();
        if self.by_id.is_empty() && seen.by_id.is_empty() {
            return Known::Ask;
        }
        let inserted = self.by_path.get(&ws);
        if let Some(&id) = inserted.and_then(|m| m.get(p)) {
            return match self.by_id.contains_key(&id) {
                true => Known::Yes(Some(id)),
                false => Known::Ask,
            };
        }
        if let Some(&id) = seen
            .by_path
            .get(&ws)
            .and_then(|m| m.get(p))
            .filter(|id| seen.by_id.contains_key(id))
        {
            return Known::Yes(Some(id));
        }
        match (path::parent(p), inserted) {
            (Some(parent), Some(m)) if m.contains_key(parent) => Known::Yes(None),
            _ => Known::Ask,
        }
    }

    /// The largest child position of node `id`.
    pub fn last_child(&self, id: NodeId) -> Known<Option<i64>> {
        match self.by_id.get(&id) {
            Some(e) => Known::Yes(e.last_child),
            None => Known::Ask,
        }
    }

    /// The `jcr:uuid` of node `id`.
    pub fn uuid(&self, id: NodeId) -> Known<Option<String>> {
        if let Some(e) = self.by_id.get(&id) {
            return Known::Yes(e.uuid.clone());
        }
        match self
            .seen
            .borrow()
            .by_id
            .get(&id)
            .and_then(|e| e.uuid.clone())
        {
            Some(u) => Known::Yes(u),
            None => Known::Ask,
        }
    }

    /// Whether identifier `uuid` is known to be owned by no node of `ws`.
    pub fn uuid_free(&self, ws: WorkspaceId, uuid: &str) -> bool {
        matches!(&*self.free_uuid.borrow(), Some((w, u)) if *w == ws && u == uuid)
    }

    /// Remembers that no node of `ws` owns identifier `uuid` (just read).
    pub fn uuid_found_free(&self, ws: WorkspaceId, uuid: &str) {
        *self.free_uuid.borrow_mut() = Some((ws, uuid.to_string()));
    }

    /// The `jcr:uuid` of node `id` was written (`Some`: its string value) or
    /// removed (`None`).
    pub fn uuid_written(&mut self, id: NodeId, uuid: Option<String>) {
        let free = self.free_uuid.get_mut();
        if matches!((&*free, &uuid), (Some((_, f)), Some(u)) if f == u) {
            *free = None;
        }
        if let Some(e) = self.by_id.get_mut(&id) {
            e.uuid = uuid;
        } else if let Some(e) = self.seen.get_mut().by_id.get_mut(&id) {
            e.uuid = Some(uuid);
        }
    }

    /// The id of workspace `name`, if cached.
    pub fn workspace(&self, name: &str) -> Option<WorkspaceId> {
        self.workspaces.borrow().get(name).copied()
    }

    /// Remembers the id of workspace `name` (a read may call it).
    pub fn workspace_seen(&self, name: &str, id: WorkspaceId) {
        self.workspaces.borrow_mut().insert(name.to_string(), id);
    }
}

/// Gives `record` type `ptype` and `mixins`.
fn set_fields(record: &mut NodeRecord, ptype: &str, mixins: &[String]) {
    if record.primary_type != ptype {
        record.primary_type = ptype.to_string();
    }
    if record.mixins != mixins {
        record.mixins = mixins.to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: NodeId, parent: Option<NodeId>, p: &str, position: i64) -> NodeRecord {
        NodeRecord {
            id,
            ws: 1,
            parent,
            name: path::name(p).to_string(),
            position,
            path: p.to_string(),
            primary_type: "nt:unstructured".into(),
            mixins: vec![],
        }
    }

    #[test]
    fn knows_its_nodes_and_the_free_paths_below_them() {
        let mut c = NodeCache::default();
        assert_eq!(c.at(1, "/a"), Known::Ask);
        c.inserted(rec(10, Some(1), "/a", 5));
        c.inserted(rec(11, Some(10), "/a/b", 7));
        c.inserted(rec(12, Some(10), "/a/c", 3));
        assert!(matches!(c.at(1, "/a/b"), Known::Yes(Some(r)) if r.id == 11));
        assert_eq!(c.at(1, "/a/d"), Known::Yes(None));
        assert_eq!(c.at(1, "/a/b[2]"), Known::Yes(None));
        // The parent of /a is not one of its nodes: SQLite knows.
        assert_eq!(c.at(1, "/x"), Known::Ask);
        // Another workspace: unknown.
        assert_eq!(c.at(2, "/a/d"), Known::Ask);
        assert_eq!(c.last_child(10), Known::Yes(Some(7)));
        assert_eq!(c.last_child(11), Known::Yes(None));
        assert_eq!(c.last_child(1), Known::Ask);
        assert_eq!(c.ws_path(11), Some((1, "/a/b".to_string())));
        assert_eq!(c.ws_path(99), None);
        assert_eq!(c.first_child_path(11, "x"), Some((1, "/a/b/x".to_string())));
        assert_eq!(c.first_child_path(99, "x"), None);
        assert!(c.holds(11) && !c.holds(99));
        c.clear();
        assert!(!c.holds(11));
        assert_eq!(c.ws_path(11), None);
        assert_eq!(c.at(1, "/a/d"), Known::Ask);
        assert_eq!(c.record(11), None);
    }

    #[test]
    fn knows_the_children_read_until_one_is_inserted() {
        let mut c = NodeCache::default();
        let (p, a, b) = (
            rec(5, Some(1), "/p", 0),
            rec(6, Some(5), "/p/a", 1),
            rec(7, Some(5), "/p/b", 2),
        );
        c.seen(&p);
        assert_eq!(c.children(5), Known::Ask);
        assert!(!c.knows_children(5));
        let kids = [a.clone(), b.clone()];
        c.lists_seen(&[(5, &kids), (6, &[]), (7, &[])]);
        assert!(c.knows_children(5) && c.knows_children(6));
        assert_eq!(c.children(5), Known::Yes(vec![a.clone(), b.clone()]));
        assert_eq!(c.children(7), Known::Yes(vec![]));
        assert!(c.is_seen(5) && !c.is_seen(99));
        // A type change in place keeps the list, with the record as changed.
        assert!(c.updated(6, "nt:folder", &[], 1));
        assert!(matches!(c.children(5), Known::Yes(v) if v[0].primary_type == "nt:folder"));
        // A child inserted below a node: its list is no longer whole.
        c.inserted(rec(20, Some(7), "/p/b/x", 0));
        assert_eq!(c.children(7), Known::Ask);
        assert!(matches!(c.children(5), Known::Yes(v) if v.len() == 2));
        // A list holding an inserted node (read back after the insert) never answers.
        c.lists_seen(&[(7, &[rec(20, Some(7), "/p/b/x", 0)])]);
        assert_eq!(c.children(7), Known::Ask);
        assert!(!c.is_seen(20));
        c.clear();
        assert_eq!(c.children(5), Known::Ask);
    }

    #[test]
    fn keeps_no_list_that_could_outlive_its_rows() {
        let c = NodeCache::default();
        let many: Vec<NodeRecord> = (0..NodeCache::LIMIT as i64 / 2 + 1)
            .map(|i| rec(100 + i, Some(5), &format!("/p/n{i}"), i))
            .collect();
        c.lists_seen(&[(5, &many)]);
        assert_eq!(c.children(5), Known::Ask);
        // Rows that fill the cache: it is emptied before the list goes in, not after.
        let fill: Vec<NodeRecord> = (0..NodeCache::LIMIT as i64 - 10)
            .map(|i| rec(10_000 + i, Some(4), &format!("/q/n{i}"), i))
            .collect();
        for r in &fill {
            c.seen(r);
        }
        let kids: Vec<NodeRecord> = many[..100].to_vec();
        c.lists_seen(&[(5, &kids)]);
        assert!(matches!(c.children(5), Known::Yes(v) if v == kids));
    }

    #[test]
    fn numbers_same_name_siblings_appended_below_its_nodes() {
        let mut c = NodeCache::default();
        c.seen(&rec(5, Some(1), "/x", 0));
        // A read parent: its children are not all known.
        assert_eq!(c.append_index(5, "a", 100), None);
        c.inserted(rec(10, Some(1), "/p", 5));
        // No child yet: nothing to append after (the first path is free anyway).
        assert_eq!(c.append_index(10, "a", 100), None);
        c.inserted(rec(11, Some(10), "/p/a", 100));
        c.inserted(rec(12, Some(10), "/p/b", 200));
        // Before the last child it would rank among the others: SQLite renumbers.
        assert_eq!(c.append_index(10, "a", 150), None);
        assert_eq!(c.append_index(10, "a", 200), Some(2));
        c.inserted_same_name(rec(13, Some(10), "/p/a[2]", 300), 2);
        assert_eq!(c.append_index(10, "a", 400), Some(3));
        assert_eq!(c.append_index(10, "b", 400), Some(2));
        assert!(matches!(c.at(1, "/p/a[2]"), Known::Yes(Some(r)) if r.id == 13));
        assert_eq!(c.at(1, "/p/a[3]"), Known::Yes(None));
        assert_eq!(c.last_child(10), Known::Yes(Some(300)));
        c.clear();
        assert_eq!(c.append_index(10, "a", 400), None);
        c.inserted(rec(10, Some(1), "/p", 5));
        c.inserted(rec(11, Some(10), "/p/a", 100));
        // The count went with the rest.
        assert_eq!(c.append_index(10, "a", 400), Some(2));
    }

    #[test]
    fn follows_updates_that_move_no_path() {
        let mut c = NodeCache::default();
        c.inserted(rec(10, Some(1), "/p", 5));
        c.inserted(rec(11, Some(10), "/p/a", 100));
        c.inserted(rec(12, Some(10), "/p/b", 200));
        c.inserted_same_name(rec(13, Some(10), "/p/b[2]", 400), 2);
        let mixins = vec!["mix:title".to_string()];
        // Type and mixins only.
        assert!(c.updated(11, "nt:folder", &mixins, 100));
        let r = c.record(11).unwrap();
        assert_eq!(
            (r.primary_type.as_str(), r.mixins.clone()),
            ("nt:folder", mixins.clone())
        );
        // Moved, the only child of its name: no path moves.
        assert!(c.updated(11, "nt:folder", &mixins, 250));
        assert_eq!(c.record(11).unwrap().position, 250);
        assert_eq!(c.last_child(10), Known::Yes(Some(400)));
        assert!(c.updated(11, "nt:folder", &mixins, 500));
        assert_eq!(c.last_child(10), Known::Yes(Some(500)));
        // Giving up the last position: the new last is unknown.
        assert!(!c.updated(11, "nt:folder", &mixins, 50));
        // A same-name sibling moved: ranks may change.
        assert!(!c.updated(12, "nt:unstructured", &[], 50));
        // The top of the inserted nodes: its parent's children are not known.
        assert!(c.updated(10, "nt:folder", &[], 5));
        assert!(!c.updated(10, "nt:folder", &[], 6));
        // A read node: only in place.
        c.seen(&rec(5, Some(1), "/x", 0));
        assert!(c.updated(5, "nt:folder", &[], 0));
        assert_eq!(c.record(5).unwrap().primary_type, "nt:folder");
        assert!(!c.updated(5, "nt:folder", &[], 7));
        assert!(!c.updated(99, "nt:folder", &[], 7));
    }

    #[test]
    fn knows_a_free_identifier_until_it_is_written() {
        let mut c = NodeCache::default();
        assert!(!c.uuid_free(1, "u-1"));
        c.uuid_found_free(1, "u-1");
        assert!(c.uuid_free(1, "u-1"));
        assert!(!c.uuid_free(2, "u-1"), "another workspace");
        assert!(!c.uuid_free(1, "u-2"));
        // Another identifier written, or this one removed: still free.
        c.uuid_written(10, Some("u-2".into()));
        c.uuid_written(10, None);
        assert!(c.uuid_free(1, "u-1"));
        // Written to any node (known to the cache or not): taken.
        c.uuid_written(99, Some("u-1".into()));
        assert!(!c.uuid_free(1, "u-1"));
        c.uuid_found_free(1, "u-3");
        c.clear();
        assert!(!c.uuid_free(1, "u-3"), "cleared with the rest");
    }

    #[test]
    fn tracks_the_uuid_as_written() {
        let mut c = NodeCache::default();
        c.inserted(rec(10, Some(1), "/a", 5));
        assert_eq!(c.uuid(10), Known::Yes(None));
        c.uuid_written(10, Some("u-1".into()));
        assert_eq!(c.uuid(10), Known::Yes(Some("u-1".to_string())));
        c.uuid_written(10, None);
        assert_eq!(c.uuid(10), Known::Yes(None));
        assert_eq!(c.uuid(99), Known::Ask);
    }

    #[test]
    fn keeps_rows_it_read_without_claiming_free_paths_below_them() {
        let mut c = NodeCache::default();
        c.seen(&rec(5, Some(1), "/x", 0));
        assert!(matches!(c.at(1, "/x"), Known::Yes(Some(r)) if r.id == 5));
        assert_eq!(c.record(5).map(|r| r.path), Some("/x".to_string()));
        assert_eq!(c.ws_path(5), Some((1, "/x".to_string())));
        assert!(c.holds(5));
        assert_eq!(c.first_child_path(5, "y"), Some((1, "/x/y".to_string())));
        // A read node says nothing of the paths below it, nor of its children.
        assert_eq!(c.at(1, "/x/y"), Known::Ask);
        assert_eq!(c.last_child(5), Known::Ask);
        // Its identifier: unknown until read, then as read, then as written.
        assert_eq!(c.uuid(5), Known::Ask);
        c.uuid_seen(5, Some("u-5"));
        assert_eq!(c.uuid(5), Known::Yes(Some("u-5".to_string())));
        c.uuid_written(5, None);
        assert_eq!(c.uuid(5), Known::Yes(None));
        // An inserted node stays the inserted one; clearing forgets both.
        c.inserted(rec(10, Some(5), "/x/y", 0));
        c.seen(&rec(10, Some(5), "/x/y", 0));
        assert_eq!(c.uuid(10), Known::Yes(None));
        assert_eq!(c.at(1, "/x/z"), Known::Ask);
        c.clear();
        assert_eq!(c.at(1, "/x"), Known::Ask);
        assert_eq!(c.record(5), None);
    }

    #[test]
    fn a_full_cache_starts_over_whole() {
        let mut c = NodeCache::default();
        c.workspace_seen("default", 1);
        c.inserted(rec(1_000_000, None, "/", 0));
        for i in 0..NodeCache::LIMIT as i64 {
            c.inserted(rec(i + 1, Some(1_000_000), &format!("/n{i}"), i));
        }
        // The root went with the rest: nothing below it is claimed free.
        assert_eq!(c.record(1_000_000), None);
        assert_eq!(c.at(1, "/n0"), Known::Ask);
        assert_eq!(c.workspace("default"), Some(1));
    }
}
