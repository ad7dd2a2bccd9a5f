//! A bulk load into a repository that holds next to nothing (module `bulk`): its
//! transaction goes through the rollback journal, only when nobody else has the
//! database open, and the database is back in WAL mode after it.

use super::*;
use crate::repository::sqlite::txn::SqliteTxn;
use crate::repository::sqlite::{bulk, OpenOptions, SqliteStore};
use std::path::Path;
use std::time::{Duration, Instant};

fn bulk_options() -> OpenOptions {
    OpenOptions {
        bulk_load: true,
        ..OpenOptions::default()
    }
}

/// A new repository at `DIR/repo`, opened for a bulk load.
fn bulk_repo() -> (tempfile::TempDir, SqliteStore) {
    let (dir, store) = repo();
    drop(store);
    let store = SqliteStore::open_with(&dir.path().join("repo"), &bulk_options()).unwrap();
    (dir, store)
}

fn journal_mode(store: &SqliteStore) -> String {
    store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

fn synchronous(store: &SqliteStore) -> i64 {
    store
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap()
}

fn beside_db(root: &Path, suffix: &str) -> bool {
    root.join(format!("{}{suffix}", super::super::schema::DB_FILE))
        .exists()
}

#[test]
fn a_new_repository_is_loaded_through_the_rollback_journal_and_returns_to_wal() {
    let (dir, mut store) = bulk_repo();
    let root = dir.path().join("repo");
    for (end, kept) in [("rollback", false), ("drop", false), ("commit", true)] {
        let mut t = store.begin_operation(meta("load")).unwrap();
        add(t.as_mut(), "/", "loaded");
        t.set_property(WS, "/loaded", &string("title", "T"))
            .unwrap();
        assert!(
            !beside_db(&root, "-wal"),
            "{end}: no write-ahead log meanwhile"
        );
        match end {
            "rollback" => t.rollback().unwrap(),
            "drop" => drop(t),
            _ => {
                t.commit().unwrap();
            }
        }
        assert_eq!(journal_mode(&store), "wal", "{end}");
        assert_eq!(synchronous(&store), 1, "{end}: NORMAL again");
        assert!(!beside_db(&root, "-journal"), "{end}: no journal left");
        assert_eq!(store.node(WS, "/loaded").unwrap().is_some(), kept, "{end}");
    }
    assert_eq!(store.history().unwrap().len(), 1);
    drop(store);
    let again = SqliteStore::open(&root).unwrap();
    assert_eq!(journal_mode(&again), "wal");
    assert!(again.property(WS, "/loaded", "title").unwrap().is_some());
}

#[test]
fn inside_the_transaction_the_rollback_journal_is_used_with_full_sync() {
    let (_dir, mut store) = bulk_repo();
    let t = SqliteTxn::begin(&mut store, "load").unwrap();
    let db = t.db();
    let mode: String = db
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = db
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync), ("delete", 2));
    drop(t);
    assert_eq!(journal_mode(&store), "wal");
}

#[test]
fn another_open_connection_or_a_larger_database_keeps_the_write_ahead_log() {
    // Not opened for a bulk load.
    let (_dir, mut plain) = repo();
    let t = SqliteTxn::begin(&mut plain, "plain").unwrap();
    assert_eq!(mode_in(&t), "wal");
    drop(t);

    // Another connection is open: SQLite refuses to leave WAL mode, at once.
    let (dir, mut store) = bulk_repo();
    let other = SqliteStore::open(&dir.path().join("repo")).unwrap();
    let started = Instant::now();
    let t = SqliteTxn::begin(&mut store, "load").unwrap();
    assert_eq!(mode_in(&t), "wal");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it did not wait"
    );
    drop(t);
    drop(other);

    // A database over the limit.
    store
        .conn
        .execute(
            "INSERT INTO meta(key, value) VALUES ('padding', ?1)",
            [vec![b'x'; bulk::FRESH_BYTES as usize]],
        )
        .unwrap();
    let t = SqliteTxn::begin(&mut store, "load").unwrap();
    assert_eq!(mode_in(&t), "wal");
}

fn mode_in(t: &SqliteTxn<'_>) -> String {
    t.db()
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

/// A reader that opens during the load opens at once, reads the last commit while
/// the load has not written to the database file, and the load's commit after
/// it closed; the next open switches the database back to WAL should the loader
/// not have.
#[test]
fn a_reader_opened_during_a_bulk_load_opens_at_once_and_reads_the_last_commit() {
    let (dir, mut store) = bulk_repo();
    let root = dir.path().join("repo");
    let mut t = store.begin_operation(meta("load")).unwrap();
    add(t.as_mut(), "/", "loaded");
    let started = Instant::now();
    let reader = SqliteStore::open(&root).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it did not wait"
    );
    assert_eq!(journal_mode(&reader), "delete", "it found the load's mode");
    assert_eq!(listing(&reader, WS), INITIAL_LISTING);
    t.commit().unwrap();
    assert!(reader.node(WS, "/loaded").unwrap().is_some());
    drop(reader);
    drop(store);
    assert_eq!(journal_mode(&SqliteStore::open(&root).unwrap()), "wal");
}

/// Killed in the middle of the load (here: the journal and database as a kill
/// leaves them), the next open rolls the load back.
#[test]
fn a_load_cut_short_is_rolled_back_by_the_next_open() {
    let (dir, mut store) = bulk_repo();
    let root = dir.path().join("repo");
    let before = full_state(&store);
    // A cache of 16 pages makes the transaction write to the database file.
    store.conn.execute_batch("PRAGMA cache_size=16").unwrap();
    let mut t = store.begin_operation(meta("load")).unwrap();
    for i in 0..300 {
        add(t.as_mut(), "/", &format!("n{i}"));
    }
    assert!(beside_db(&root, "-journal"));
    // Copy the folder as it is now: what a kill at this moment leaves.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&root).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
        }
    }
    std::fs::create_dir(copy.join("blobs")).unwrap();
    drop(t);
    let copied = SqliteStore::open(&copy).unwrap();
    assert_eq!(full_state(&copied), before);
    assert_eq!(journal_mode(&copied), "wal");
    assert!(!beside_db(&copy, "-journal"));
}
