//! Tests of the SQLite store, each in a fresh temporary repository.
//!
//! `contract`: the contract suite every backend runs (`repository::contract`).
//! `nodes`: opening and creating repository folders. `locking`: transactions,
//! rollback, a second writer, readers, a crash. `model`: random edits, paths and
//! undo (proptest). `scale`: a 100,000-node insert. `housekeeping`: garbage
//! collection of blob files and leftovers. `scratch`: scratch repositories.
//! `blob_writes`: blob files written on the blob store's thread. `digests`: which
//! subtrees hold aggregate digests. `bulk`: a bulk load through the rollback
//! journal, with the contract suite run against a store opened for one.

mod blob_writes;
mod bulk;
mod digests;
mod housekeeping;
mod locking;
mod model;
mod nodes;
mod scale;
mod scratch;

use super::SqliteStore;
pub(super) use crate::node::Node;
pub(super) use crate::repository::contract::{
    add, child_paths, full_state, listing, meta, string, Backend, Guard, INITIAL_LISTING, WS,
};
pub(super) use crate::repository::{AddOptions, Store, StoreRead, Transaction};
pub(super) use crate::value::{Binary, Property, Value};

/// A fresh repository in a temporary folder.
pub(super) fn repo() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::init(&dir.path().join("repo")).expect("init");
    (dir, store)
}

/// The SQLite backend, for the contract suite.
struct Sqlite;

impl Backend for Sqlite {
    fn repo() -> (Guard, Box<dyn Store>) {
        let (dir, store) = repo();
        (Box::new(dir), Box::new(store))
    }
}

/// The contract suite against SQLite.
mod contract {
    crate::contract_suite!(super::Sqlite);
}

/// The SQLite backend's primitives under the journaled layer (capture, undo and
/// conflicts written once above every backend), for the contract suite.
struct SqliteJournaled;

impl Backend for SqliteJournaled {
    fn repo() -> (Guard, Box<dyn Store>) {
        let (dir, store) = repo();
        let store = crate::repository::journaled::Journaled::new(super::SqliteBackend::new(store));
        (Box::new(dir), Box::new(store))
    }
}

/// The contract suite against SQLite's primitives under the journaled layer.
mod contract_journaled {
    crate::contract_suite!(super::SqliteJournaled);
}

/// The SQLite backend opened for a bulk load (module `bulk`): every transaction
/// on its small repository goes through the rollback journal.
struct SqliteBulk;

impl Backend for SqliteBulk {
    fn repo() -> (Guard, Box<dyn Store>) {
        let (dir, store) = repo();
        drop(store);
        let options = super::OpenOptions {
            bulk_load: true,
            ..super::OpenOptions::default()
        };
        let store = SqliteStore::open_with(&dir.path().join("repo"), &options).expect("open");
        (Box::new(dir), Box::new(store))
    }
}

/// The contract suite against SQLite opened for a bulk load.
mod contract_bulk {
    crate::contract_suite!(super::SqliteBulk);
}

/// A repository made before `jnode` lost its `(ws, path)` index, which keeps it.
struct SqliteOldJournalIndex;

impl Backend for SqliteOldJournalIndex {
    fn repo() -> (Guard, Box<dyn Store>) {
        let (dir, store) = repo();
        store
            .conn
            .execute_batch("CREATE INDEX jnode_path ON jnode(ws, path)")
            .expect("old index");
        (Box::new(dir), Box::new(store))
    }
}

#[test]
fn new_repositories_have_no_journal_path_index_and_old_ones_work_with_it() {
    let (_dir, store) = repo();
    let n: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'jnode'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // jnode_node (the primary key of a WITHOUT ROWID table is no index entry here).
    assert_eq!(n, 1);
    use crate::repository::contract::{created, undo};
    created::created_subtrees_are_undone_whole_and_counted::<SqliteOldJournalIndex>();
    created::a_change_inside_a_created_subtree_conflicts_until_undone::<SqliteOldJournalIndex>();
    undo::undo_restores_exactly_and_can_itself_be_undone::<SqliteOldJournalIndex>();
    crate::repository::contract::history::pruning_drops_the_oldest_operations_and_names_them::<
        SqliteOldJournalIndex,
    >();
}

/// Rows of `jnode` and `jcreated` of operation `op`.
fn journal_rows(store: &SqliteStore, op: crate::repository::OperationId) -> (i64, i64) {
    store
        .conn
        .query_row(
            "SELECT (SELECT count(*) FROM jnode WHERE op = ?1),
                    (SELECT count(*) FROM jcreated WHERE op = ?1)",
            [op.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn created_nodes_are_a_range_and_a_version_3_repository_with_rows_reads_the_same() {
    let (dir, mut store) = repo();
    let root = store.location().to_path_buf();
    let tree = Node::new("a", "nt:unstructured")
        .with_child(Node::new("b", "nt:unstructured").with_child(Node::new("c", "nt:unstructured")))
        .with_child(Node::new("b", "nt:unstructured"));
    let mut t = store.begin_operation(meta("old")).unwrap();
    t.add_node(WS, "/", &tree, &AddOptions::append()).unwrap();
    let old = t.commit().unwrap().unwrap();
    // Four created nodes, one range, no row of their own.
    assert_eq!(journal_rows(&store, old), (0, 1));
    let listed = store.operation(old).unwrap();
    assert_eq!(listed.touched.len(), 4);

    // What a jcrpack of schema version 3 wrote: a row per created node, no ranges.
    store
        .conn
        .execute_batch(
            "INSERT INTO jnode(op, node, ws, path, existed)
               SELECT c.op, n.id, n.ws, n.path, 0 FROM jcreated c JOIN node n
               ON n.id >= c.lo AND n.id < c.hi WHERE n.parent IS NOT NULL;
             DROP TABLE jcreated;
             UPDATE meta SET value = '3' WHERE key = 'version';",
        )
        .unwrap();
    drop(store);
    // A backup image of it reads the same (with an empty range table of its own).
    let img = dir.path().join("v3.db");
    std::fs::copy(root.join(super::schema::DB_FILE), &img).unwrap();
    let image = SqliteStore::open_image(&img, &root).unwrap();
    assert_eq!(image.operation(old).unwrap(), listed);
    drop(image);

    // Opening migrates it to version 4, keeping the rows.
    let mut store = SqliteStore::open(&root).unwrap();
    let version: String = store
        .conn
        .query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(version, super::schema::VERSION);
    assert_eq!(journal_rows(&store, old), (4, 0));
    assert_eq!(store.operation(old).unwrap(), listed);
    // A later operation records a range and freezes nothing of the old one's.
    let mut t = store.begin_operation(meta("new")).unwrap();
    t.remove_node(WS, "/a/b").unwrap();
    add(t.as_mut(), "/a", "d");
    let new = t.commit().unwrap().unwrap();
    assert_eq!(journal_rows(&store, old), (4, 0));
    // The before-images of the removed `b` and `c`, and `d` in the range.
    assert_eq!(journal_rows(&store, new), (2, 1));
    assert_eq!(store.operation(old).unwrap(), listed);
    let e = store.undo(old, false, meta("undo old")).unwrap_err();
    assert!(e.to_string().contains("/a/b"), "{e}");
    store.undo(new, false, meta("undo new")).unwrap();
    store.undo(old, false, meta("undo old")).unwrap();
    assert!(store.node(WS, "/a").unwrap().is_none());
    assert_eq!(store.operation(old).unwrap(), listed);

    // A schema version this jcrpack does not know is refused, as a jcrpack of
    // version 3 refuses version 4 (it migrates only 1 and 2).
    store
        .conn
        .execute("UPDATE meta SET value = '5' WHERE key = 'version'", [])
        .unwrap();
    drop(store);
    let e = SqliteStore::open(&root).unwrap_err().to_string();
    assert!(
        e.contains("schema version 5 is not the supported version 4"),
        "{e}"
    );
}
