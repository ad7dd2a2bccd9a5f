//! Tests of the SQLite store, each in a fresh temporary repository.
//!
//! `contract`: the contract suite every backend runs (`repository::contract`).
//! `nodes`: opening and creating repository folders. `locking`: transactions,
//! rollback, a second writer, readers, a crash. `model`: random edits, paths and
//! undo (proptest). `scale`: a 100,000-node insert. `housekeeping`: garbage
//! collection of blob files and leftovers. `scratch`: scratch repositories.
//! `blob_writes`: blob files written on the blob store's thread.

mod blob_writes;
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
