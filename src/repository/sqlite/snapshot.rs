//! [`SnapshotRead`] on SQLite: one read transaction for the whole reader, nodes
//! addressed by id, and each listed child's aggregator facts (children, `jcr:content`,
//! `jcr:data`) answered by the query that lists it.
//!
//! Every statement outside a transaction opens and closes a read transaction of its
//! own (file locks and a size check each time); holding one for the reader's life
//! makes each read a plain B-tree lookup, and gives the exporter one snapshot.
//!
//! A bulk read touches most pages once, so the snapshot sets the connection's page
//! cache to [`CACHE_KIB`] while it runs (and restores it after): a larger cache
//! would fill up with pages read once, and the exporter's memory would grow with
//! the repository. (A connection's default is 4 MiB, what an install needs; a
//! bulk read gets 8 MiB, and a connection set larger is held to it.)
//!
//! Listing children reads one generation ahead, in one statement whatever the
//! family's size: the children's own children (the node's grandchildren) with all
//! their properties. A child's facts (it has children, a `jcr:content` child,
//! whose `jcr:data`) are facts of that family, and the export lists it next: the
//! child's listing takes it from module [`families`], which holds it (and the
//! properties) until asked. Each node row and property is read once, in a walk of
//! the `node_children` index and the `prop` key; before, each child's facts were
//! subqueries (a seek for its children, one in the path index for its
//! `jcr:content`, one for that node's `jcr:data`), and its properties a second
//! statement over the family.

mod families;

use super::read::index_of;
use super::{codec, Db};
use crate::path;
use crate::repository::{NodeInfo, Result, ScanHit, SnapshotNode, SnapshotRead};
use crate::value::{Property, PropertyType};
use families::{Families, Member, Read};
use rusqlite::{params, OptionalExtension, Row};
use std::cell::RefCell;

/// The columns both queries return, over `node n` (the node), `prop u` (its uuid) and
/// `node c` (its `jcr:content` child, if any). A macro, so that the statements are
/// constants rather than formatted on every call.
macro_rules! cols {
    () => {
        "SELECT n.id, n.name, n.path, n.ptype, n.mixins, u.value,
            EXISTS(SELECT 1 FROM node k WHERE k.parent = n.id),
            c.id IS NOT NULL,
            EXISTS(SELECT 1 FROM prop d WHERE d.node = n.id AND d.name = 'jcr:data'),
            EXISTS(SELECT 1 FROM prop e WHERE e.node = c.id AND e.name = 'jcr:data')
         FROM node n
         LEFT JOIN prop u ON u.node = n.id AND u.name = 'jcr:uuid'"
    };
}

/// The node at a path, with its facts.
const NODE_SQL: &str = concat!(
    cols!(),
    " LEFT JOIN node c ON c.ws = n.ws AND c.path = ?3
     WHERE n.ws = ?1 AND n.path = ?2"
);

/// The columns both family reads return, one row per property (one with NULL
/// property columns for a node without any): the property (the columns of
/// `Db::decode_prop_row`), then its node (`parent, id, name, path, ptype, mixins`).
macro_rules! family_cols {
    () => {
        "SELECT q.name, q.type, q.multiple, q.value,
            n.parent, n.id, n.name, n.path, n.ptype, n.mixins"
    };
}

/// The children of a node in order, each with its properties by name. The
/// `node_children` index gives that order, and each child's properties are one
/// range of the `prop` key: no sort.
const FAMILY_SQL: &str = concat!(
    family_cols!(),
    " FROM node n LEFT JOIN prop q ON q.node = n.id
     WHERE n.parent = ?1 ORDER BY n.position, n.id, q.name LIMIT ?2"
);

/// The grandchildren of a node: the children of each child in the children's
/// order, each family in order, each grandchild with its properties by name.
/// Nested walks of `node_children` and the `prop` key: no sort.
const GRANDCHILDREN_SQL: &str = concat!(
    family_cols!(),
    " FROM node p CROSS JOIN node n ON n.parent = p.id
     LEFT JOIN prop q ON q.node = n.id
     WHERE p.parent = ?1 ORDER BY p.position, p.id, n.position, n.id, q.name LIMIT ?2"
);

/// The rows one [`GRANDCHILDREN_SQL`] read may return: past that (a node whose
/// children hold more grandchildren than the export should hold at once), each
/// child's family is read on its own, so memory stays bounded by the largest
/// family rather than the largest generation.
const GRANDCHILDREN_ROWS: i64 = 4 * families::MAX_HELD as i64;

/// The page cache while a snapshot runs, in KiB.
pub(crate) const CACHE_KIB: i64 = 8 << 10;

/// A snapshot of workspace `ws`; see the module doc.
pub(crate) struct SqliteSnapshot<'c> {
    db: Db<'c>,
    ws: i64,
    owns_read_txn: bool,
    /// The connection's `cache_size` before, to restore.
    cache_size: Option<i64>,
    /// The properties of listed children, until asked for.
    families: RefCell<Families>,
    /// The properties of the family being read (see `family_props`), kept for its
    /// allocation.
    read: RefCell<Vec<Property>>,
    /// [`GRANDCHILDREN_ROWS`] (smaller in tests).
    grandchildren_rows: i64,
}

impl<'c> SqliteSnapshot<'c> {
    /// Starts a snapshot of `workspace` (a read transaction unless one is running).
    pub fn start(db: Db<'c>, workspace: &str) -> Result<SqliteSnapshot<'c>> {
        let owns_read_txn = db.conn.is_autocommit();
        if owns_read_txn {
            db.conn.execute_batch("BEGIN").map_err(|e| db.err(e))?;
        }
        // From here on an error drops the snapshot, which ends the transaction.
        let mut snapshot = SqliteSnapshot {
            db,
            ws: 0,
            owns_read_txn,
            cache_size: None,
            families: RefCell::default(),
            read: RefCell::default(),
            grandchildren_rows: GRANDCHILDREN_ROWS,
        };
        let cache_size: i64 = db
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        db.conn
            .execute_batch(&format!("PRAGMA cache_size=-{CACHE_KIB}"))
            .map_err(|e| db.err(e))?;
        snapshot.cache_size = Some(cache_size);
        snapshot.ws = db.require_ws(workspace)?;
        Ok(snapshot)
    }

    fn from_row(&self, r: &Row<'_>) -> rusqlite::Result<(SnapshotNode, String)> {
        let path: String = r.get(2)?;
        let node = SnapshotNode {
            info: NodeInfo {
                name: r.get(1)?,
                index: 1,
                primary_type: r.get(3)?,
                mixins: Vec::new(),
                uuid: r.get(5)?,
                path,
            },
            handle: r.get(0)?,
            has_children: r.get(6)?,
            has_content_child: r.get(7)?,
            has_data: r.get(8)?,
            content_has_data: r.get(9)?,
        };
        Ok((node, r.get(4)?))
    }

    /// Fills in what the row gave raw: the index and the mixins.
    fn finish(&self, (mut node, mixins): (SnapshotNode, String)) -> Result<SnapshotNode> {
        let db = &self.db;
        // Only a segment ending in `]` has an index other than 1 (a name holds none).
        node.info.index = if node.info.path.ends_with(']') {
            index_of(db, &node.info.path)?
        } else {
            1
        };
        node.info.mixins = codec::decode_mixins(&mixins).map_err(|e| db.corrupt(e))?;
        Ok(node)
    }

    /// The families and property sets `sql` (one of [`FAMILY_SQL`] and
    /// [`GRANDCHILDREN_SQL`]) reads below `parent`, at most `limit` rows (-1: all),
    /// and whether the limit cut the read short. Each set goes into the reused
    /// `read` buffer first, so that it is allocated once at its size.
    fn read_families(&self, sql: &str, parent: i64, limit: i64) -> Result<(Read, bool)> {
        let db = &self.db;
        let get = |e| db.err(e);
        let mut buf = self.read.borrow_mut();
        buf.clear();
        let mut out = Read::default();
        let mut st = db.conn.prepare_cached(sql).map_err(get)?;
        let mut rows = st.query([parent, limit]).map_err(get)?;
        // The node whose properties are in `buf`.
        let mut current: Option<i64> = None;
        let mut count = 0;
        while let Some(r) = rows.next().map_err(get)? {
            count += 1;
            let id: i64 = r.get(5).map_err(get)?;
            if current != Some(id) {
                if let Some(done) = current {
                    out.props.push((done, buf.drain(..).collect()));
                }
                current = Some(id);
                let parent: i64 = r.get(4).map_err(get)?;
                let member = Member {
                    handle: id,
                    name: r.get(6).map_err(get)?,
                    path: r.get(7).map_err(get)?,
                    ptype: r.get(8).map_err(get)?,
                    mixins: r.get(9).map_err(get)?,
                    uuid: None,
                    has_data: false,
                };
                match out.families.last_mut() {
                    Some((p, members)) if *p == parent => members.push(member),
                    _ => out.families.push((parent, vec![member])),
                }
            }
            // A node without properties has one row, its property columns NULL.
            if r.get_ref(0).map_err(get)? == rusqlite::types::ValueRef::Null {
                continue;
            }
            let property = db.decode_prop_row(r)?;
            let member = out
                .families
                .last_mut()
                .and_then(|(_, m)| m.last_mut())
                .ok_or_else(|| db.corrupt("a property row came without its node"))?;
            match property.name.as_str() {
                "jcr:uuid" => member.uuid = Some(r.get(3).map_err(get)?),
                "jcr:data" => member.has_data = true,
                _ => {}
            }
            buf.push(property);
        }
        if let Some(done) = current {
            out.props.push((done, buf.drain(..).collect()));
        }
        Ok((out, count == limit))
    }

    /// The node `member`, child of a node whose grandchildren are held: its
    /// family gives the facts about its children.
    fn listed(&self, member: Member, families: &Families) -> Result<SnapshotNode> {
        let family = families.family(member.handle).unwrap_or_default();
        let content = family.iter().find(|c| {
            c.path.len() == member.path.len() + "/jcr:content".len()
                && c.path.starts_with(member.path.as_str())
                && c.path.ends_with("/jcr:content")
        });
        let node = SnapshotNode {
            info: NodeInfo {
                name: member.name,
                index: 1,
                primary_type: member.ptype,
                mixins: Vec::new(),
                uuid: member.uuid,
                path: member.path,
            },
            handle: member.handle,
            has_children: !family.is_empty(),
            has_content_child: content.is_some(),
            has_data: member.has_data,
            content_has_data: content.is_some_and(|c| c.has_data),
        };
        self.finish((node, member.mixins))
    }
}

impl SnapshotRead for SqliteSnapshot<'_> {
    fn node(&self, p: &str) -> Result<Option<SnapshotNode>> {
        let p = path::normalize(p)?;
        let content = path::join(&p, "jcr:content");
        let db = &self.db;
        let mut st = db.conn.prepare_cached(NODE_SQL).map_err(|e| db.err(e))?;
        let row = st
            .query_row(params![self.ws, p, content], |r| self.from_row(r))
            .optional()
            .map_err(|e| db.err(e))?;
        row.map(|r| self.finish(r)).transpose()
    }

    /// The children come from the read that listed `node` (its parent's
    /// grandchildren), else from [`FAMILY_SQL`]; their own children, read now with
    /// [`GRANDCHILDREN_SQL`], give their facts and wait for the next listing.
    fn children(&self, node: &SnapshotNode) -> Result<Vec<SnapshotNode>> {
        if !node.has_children {
            return Ok(Vec::new());
        }
        let held = self.families.borrow_mut().take_family(node.handle);
        let members = match held {
            Some(members) => members,
            None => {
                let (mut read, _) = self.read_families(FAMILY_SQL, node.handle, -1)?;
                let members = match read.families.pop() {
                    Some((parent, members)) if parent == node.handle => members,
                    _ => Vec::new(),
                };
                self.families.borrow_mut().hold(read);
                members
            }
        };
        let (grandchildren, cut) =
            self.read_families(GRANDCHILDREN_SQL, node.handle, self.grandchildren_rows)?;
        if !cut {
            let mut families = self.families.borrow_mut();
            families.hold(grandchildren);
            return members
                .into_iter()
                .map(|m| self.listed(m, &families))
                .collect();
        }
        drop(grandchildren);
        members
            .into_iter()
            .map(|m| {
                let (family, _) = self.read_families(FAMILY_SQL, m.handle, -1)?;
                let mut families = self.families.borrow_mut();
                families.hold(family);
                self.listed(m, &families)
            })
            .collect()
    }

    /// From `node`'s family when it is held (the export asks for a file's
    /// `jcr:content`, read ahead with the file's siblings' children), its own
    /// family read by [`FAMILY_SQL`] for its facts and held for its listing: an
    /// index seek that usually finds nothing, where a read by path is two path
    /// lookups, the uuid, and three subqueries. `node`'s family stays held.
    fn child(&self, node: &SnapshotNode, name: &str) -> Result<Option<SnapshotNode>> {
        let member = self.families.borrow().family(node.handle).map(|family| {
            family
                .iter()
                // Index 1: a name with a later index ends its path with `]`.
                .find(|m| m.name == name && !m.path.ends_with(']'))
                .cloned()
        });
        match member {
            Some(Some(member)) => {
                let (family, _) = self.read_families(FAMILY_SQL, member.handle, -1)?;
                let mut families = self.families.borrow_mut();
                families.hold(family);
                self.listed(member, &families).map(Some)
            }
            // The family is held and has no such child.
            Some(None) => Ok(None),
            None => self.node(&path::join(&node.info.path, name)),
        }
    }

    fn properties(&self, node: &SnapshotNode) -> Result<Vec<Property>> {
        match self.families.borrow_mut().take(node.handle) {
            Some(props) => Ok(props),
            None => self.db.props_of(node.handle),
        }
    }

    /// Two scans whatever the content's size, each a loop inside SQLite: the `node`
    /// table for the names (the `name` column is the last segment without its index,
    /// as [`crate::repository::WalkEntry`]'s node has it), and the `prop` table for
    /// the two reference types, each hit's node looked up by id. A walk reads and
    /// decodes every property of every node, one statement per node.
    fn scan(&self, names: &[&str], each: &mut dyn FnMut(ScanHit<'_>)) -> Result<bool> {
        let db = &self.db;
        if !names.is_empty() {
            // `+ws`: a scan of the table, not of the `node_path` index and a table
            // row for each entry (at 1M nodes 0.2 s against 1.3 s for GLOBs on the
            // index's paths).
            let marks = vec!["?"; names.len()].join(", ");
            let sql = format!("SELECT path FROM node WHERE +ws = ? AND name IN ({marks})");
            let mut st = db.conn.prepare(&sql).map_err(|e| db.err(e))?;
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&self.ws];
            args.extend(names.iter().map(|n| n as &dyn rusqlite::ToSql));
            let mut rows = st.query(args.as_slice()).map_err(|e| db.err(e))?;
            while let Some(r) = rows.next().map_err(|e| db.err(e))? {
                let p: String = r.get(0).map_err(|e| db.err(e))?;
                each(ScanHit::Named(&p));
            }
        }
        // `prop` first (CROSS JOIN keeps the order): most contents hold few references.
        let mut st = db
            .conn
            .prepare_cached(
                "SELECT n.path, p.name, p.type, p.multiple, p.value
                 FROM prop p CROSS JOIN node n ON n.id = p.node
                 WHERE p.type IN (?2, ?3) AND n.ws = ?1",
            )
            .map_err(|e| db.err(e))?;
        let mut rows = st
            .query(params![
                self.ws,
                codec::type_code(PropertyType::Reference),
                codec::type_code(PropertyType::WeakReference)
            ])
            .map_err(|e| db.err(e))?;
        while let Some(r) = rows.next().map_err(|e| db.err(e))? {
            let get = |e| db.err(e);
            let p: String = r.get(0).map_err(get)?;
            let name: String = r.get(1).map_err(get)?;
            let code: i64 = r.get(2).map_err(get)?;
            let multiple: bool = r.get(3).map_err(get)?;
            let raw: String = r.get(4).map_err(get)?;
            let property =
                codec::decode_property(&name, code, multiple, &raw).map_err(|e| db.corrupt(e))?;
            each(ScanHit::Reference(&p, &property));
        }
        Ok(true)
    }
}

impl Drop for SqliteSnapshot<'_> {
    fn drop(&mut self) {
        if self.owns_read_txn && !self.db.conn.is_autocommit() {
            let _ = self.db.conn.execute_batch("COMMIT");
        }
        if let Some(size) = self.cache_size {
            let _ = self
                .db
                .conn
                .execute_batch(&format!("PRAGMA cache_size={size}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Node;
    use crate::repository::sqlite::SqliteStore;
    use crate::repository::{AddOptions, Store, StoreRead, DEFAULT_WORKSPACE};
    use crate::value::{Binary, Value};
    use std::sync::Arc;

    fn cache_size(store: &SqliteStore) -> i64 {
        store
            .db()
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_snapshot_holds_one_read_transaction_with_a_small_cache_and_restores_both() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        // A cache other than the snapshot's, whatever the default is.
        store
            .db()
            .conn
            .execute_batch(&format!("PRAGMA cache_size=-{}", CACHE_KIB * 3))
            .unwrap();
        let before = cache_size(&store);
        assert_eq!(before, -CACHE_KIB * 3);
        let snapshot = store.snapshot(DEFAULT_WORKSPACE).unwrap().unwrap();
        assert!(snapshot.node("/").unwrap().is_some());
        assert!(!store.db().conn.is_autocommit());
        assert_eq!(cache_size(&store), -CACHE_KIB);
        drop(snapshot);
        assert!(store.db().conn.is_autocommit());
        assert_eq!(cache_size(&store), before);
        assert!(store.snapshot("nowhere").is_err());
        assert!(store.db().conn.is_autocommit());
        assert_eq!(cache_size(&store), before);
    }

    /// A folder whose children hold a uuid, a binary, nothing, and children of
    /// their own, listed out of name order.
    fn family_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        let data = Value::Binary(Binary::Inline(Arc::new(b"bytes".to_vec())));
        let folder = Node::new("f", "nt:unstructured")
            .with_child(
                Node::new("z", "nt:unstructured")
                    .with(Property::string("jcr:uuid", "u-1"))
                    .with(Property::string("b", "2"))
                    .with(Property::string("a", "1")),
            )
            .with_child(Node::new("bare", "nt:unstructured"))
            .with_child(
                Node::new("res", "nt:resource")
                    .with(Property::single("jcr:data", data))
                    .with(Property::string("jcr:mimeType", "text/plain")),
            )
            .with_child(
                Node::new("deep", "nt:unstructured")
                    .with(Property::string("x", "y"))
                    .with_child(Node::new("jcr:content", "nt:unstructured")),
            );
        let mut t = store.begin("family").unwrap();
        t.add_node(DEFAULT_WORKSPACE, "/", &folder, &AddOptions::append())
            .unwrap();
        t.commit().unwrap();
        (dir, store)
    }

    #[test]
    fn a_family_read_ahead_lists_as_the_store_does_however_it_was_used_before() {
        let (_dir, store) = family_store();
        let snapshot = store.snapshot(DEFAULT_WORKSPACE).unwrap().unwrap();
        let f = snapshot.node("/f").unwrap().unwrap();
        let listed = snapshot.children(&f).unwrap();
        let deep = &listed[3];
        // The content node's properties are taken before its family is listed
        // (as the export does for a file), from the read that listed `f`.
        let content = snapshot.node("/f/deep/jcr:content").unwrap().unwrap();
        let stored = store.db().props_of(content.handle).unwrap();
        assert_eq!(snapshot.properties(&content).unwrap(), stored);
        // `deep`'s family was read ahead; listed twice, the second from the store.
        for _ in 0..2 {
            let family = snapshot.children(deep).unwrap();
            assert_eq!(family, [content.clone()]);
            assert_eq!(snapshot.properties(&family[0]).unwrap(), stored);
        }
        // Listed again, `f` reads its family from the store: the same nodes.
        assert_eq!(snapshot.children(&f).unwrap(), listed);
        // A node without children lists none.
        assert!(snapshot.children(&listed[1]).unwrap().is_empty());
    }

    #[test]
    fn a_generation_past_the_limit_is_read_family_by_family_with_the_same_result() {
        let (_dir, store) = family_store();
        let whole = store.snapshot(DEFAULT_WORKSPACE).unwrap().unwrap();
        let root = whole.node("/").unwrap().unwrap();
        let named_f = |c: &SnapshotNode| c.info.name == "f";
        let f = whole
            .children(&root)
            .unwrap()
            .into_iter()
            .find(named_f)
            .unwrap();
        let expected = whole.children(&f).unwrap();
        drop(whole);
        // Listing the root reads `f`'s children as its grandchildren: cut short,
        // then `f`'s family alone; listing `f` reads its grandchildren (one row).
        let mut cut = SqliteSnapshot::start(store.db(), DEFAULT_WORKSPACE).unwrap();
        cut.grandchildren_rows = 2;
        let root = cut.node("/").unwrap().unwrap();
        let f = cut
            .children(&root)
            .unwrap()
            .into_iter()
            .find(named_f)
            .unwrap();
        assert!(f.has_children);
        assert_eq!(cut.children(&f).unwrap(), expected);
        for c in &expected {
            assert_eq!(
                cut.properties(c).unwrap(),
                store.db().props_of(c.handle).unwrap()
            );
        }
    }

    #[test]
    fn a_child_from_a_held_family_is_the_node_its_path_reads() {
        let (_dir, store) = family_store();
        let snapshot = store.snapshot(DEFAULT_WORKSPACE).unwrap().unwrap();
        let root = snapshot.node("/").unwrap().unwrap();
        // Listing the root holds `f`'s family; listing `f` holds its children's.
        let f = snapshot.child(&root, "f").unwrap().unwrap();
        assert_eq!(Some(&f), snapshot.node("/f").unwrap().as_ref());
        let listed = snapshot.children(&f).unwrap();
        for c in &listed {
            for name in ["jcr:content", "missing"] {
                let by_path = snapshot.node(&path::join(&c.info.path, name)).unwrap();
                let child = snapshot.child(c, name).unwrap();
                assert_eq!(child, by_path, "{}/{name}", c.info.path);
                if let Some(child) = child {
                    let stored = store.db().props_of(child.handle).unwrap();
                    assert_eq!(snapshot.properties(&child).unwrap(), stored);
                    assert_eq!(snapshot.children(&child).unwrap(), []);
                }
            }
        }
        // `deep`'s family stays held for its listing.
        let deep = &listed[3];
        assert_eq!(snapshot.children(deep).unwrap().len(), 1);
        // A node whose family is not held reads the path.
        assert!(snapshot.child(deep, "jcr:content").unwrap().is_some());
        assert!(snapshot.child(deep, "nothing").unwrap().is_none());
    }

    #[test]
    fn a_listing_reads_its_childrens_properties_and_facts_as_node_by_node_reads() {
        let (_dir, store) = family_store();
        let snapshot = store.snapshot(DEFAULT_WORKSPACE).unwrap().unwrap();
        let f = snapshot.node("/f").unwrap().unwrap();
        let listed = snapshot.children(&f).unwrap();
        let names: Vec<&str> = listed.iter().map(|c| c.info.name.as_str()).collect();
        assert_eq!(names, ["z", "bare", "res", "deep"]);
        for c in &listed {
            // The facts a listing gives are those of the node's own read.
            assert_eq!(Some(c), snapshot.node(&c.info.path).unwrap().as_ref());
            let stored = store.db().props_of(c.handle).unwrap();
            // Held from the listing, then read again from the store.
            assert_eq!(snapshot.properties(c).unwrap(), stored);
            assert_eq!(snapshot.properties(c).unwrap(), stored);
        }
        assert_eq!(listed[0].info.uuid.as_deref(), Some("u-1"));
        assert!(listed[2].has_data && !listed[0].has_data);
        assert!(listed[3].has_children && listed[3].has_content_child);
        // A node never listed reads its properties from the store.
        assert_eq!(
            snapshot.properties(&f).unwrap(),
            store.db().props_of(f.handle).unwrap()
        );
    }
}
