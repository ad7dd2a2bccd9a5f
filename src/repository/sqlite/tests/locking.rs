//! Transactions: rollback, a second writer, readers during a write, a crash.

use super::*;
use crate::repository::sqlite::{OpenOptions, SqliteStore};
use crate::repository::{RepositoryError, Store};
use std::time::{Duration, Instant};

/// Some content with a bit of everything.
fn seed(store: &mut SqliteStore) {
    let mut t = store.begin("seed").unwrap();
    add(t.as_mut(), "/", "a");
    add(t.as_mut(), "/a", "x");
    add(t.as_mut(), "/a", "x");
    t.set_property(WS, "/a", &string("title", "A")).unwrap();
    t.commit().unwrap();
}

#[test]
fn rollback_and_drop_leave_nothing() {
    let (_dir, mut store) = repo();
    seed(&mut store);
    let before = full_state(&store);
    let blobs_before = store.location().join("blobs");
    assert!(blobs_before.is_dir());

    for explicit in [true, false] {
        let mut t = store.begin_operation(meta("doomed")).unwrap();
        add(t.as_mut(), "/a", "new");
        t.remove_node(WS, "/a/x").unwrap();
        t.set_property(WS, "/a", &string("title", "changed"))
            .unwrap();
        t.set_mixins(WS, "/a", &["mix:title".into()]).unwrap();
        t.register_namespace("cq", "http://www.day.com/jcr/cq/1.0")
            .unwrap();
        t.register_node_type("cq:Page", "[cq:Page]").unwrap();
        t.create_workspace("temp").unwrap();
        assert_ne!(full_state(t.as_ref()), before, "changes are visible inside");
        if explicit {
            t.rollback().unwrap();
        } else {
            drop(t);
        }
        assert_eq!(full_state(&store), before);
        assert!(store.history().unwrap().is_empty());
    }
    // Ids handed out in a rolled-back transaction are not a problem later.
    let mut t = store.begin("after").unwrap();
    add(t.as_mut(), "/a", "new");
    t.commit().unwrap();
    assert!(store.node(WS, "/a/new").unwrap().is_some());
}

#[test]
fn a_second_writer_gets_repository_busy_and_readers_see_the_old_state() {
    let (dir, mut writer) = repo();
    seed(&mut writer);
    let path = dir.path().join("repo");
    let short = OpenOptions {
        busy_timeout: Duration::from_millis(300),
        ..OpenOptions::default()
    };
    let mut other = SqliteStore::open_with(&path, &short).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    let before = listing(&reader, WS);

    let mut t = writer.begin("long write").unwrap();
    add(t.as_mut(), "/", "uncommitted");
    t.set_property(WS, "/a", &string("title", "B")).unwrap();

    // The second writer waits for its timeout, then gives up with a clear error.
    let started = Instant::now();
    let e = match other.begin("second") {
        Ok(_) => panic!("a second writer must not get the lock"),
        Err(e) => e,
    };
    let waited = started.elapsed();
    assert!(matches!(e, RepositoryError::RepositoryBusy { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("is busy") && msg.contains(&path.display().to_string()),
        "{msg}"
    );
    assert!(
        waited >= Duration::from_millis(250),
        "gave up after {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");

    // Readers keep reading the committed state meanwhile, walks included.
    assert_eq!(listing(&reader, WS), before);
    assert!(reader.node(WS, "/uncommitted").unwrap().is_none());
    assert_eq!(
        reader.property(WS, "/a", "title").unwrap(),
        Some(string("title", "A"))
    );

    t.commit().unwrap();
    assert!(reader.node(WS, "/uncommitted").unwrap().is_some());
    // Now the other writer gets its turn.
    let mut t2 = other.begin("second").unwrap();
    add(t2.as_mut(), "/", "second");
    t2.commit().unwrap();
    assert!(reader.node(WS, "/second").unwrap().is_some());
}

#[test]
fn a_walk_reads_one_snapshot_while_others_commit() {
    let (dir, mut writer) = repo();
    let mut t = writer.begin("many").unwrap();
    for i in 0..700 {
        add(t.as_mut(), "/", &format!("n{i:03}"));
    }
    t.commit().unwrap();
    let reader = SqliteStore::open(&dir.path().join("repo")).unwrap();
    let mut walk = reader.walk(WS, "/").unwrap();
    let first: Vec<String> = walk.by_ref().take(10).map(|e| e.unwrap().path).collect();
    assert_eq!(first.len(), 10);
    // A commit in the middle of the walk (the reader holds a snapshot, not a lock).
    let mut t = writer.begin("more").unwrap();
    t.remove_node(WS, "/n500").unwrap();
    add(t.as_mut(), "/", "late");
    t.commit().unwrap();
    let rest: Vec<String> = walk.map(|e| e.unwrap().path).collect();
    assert_eq!(first.len() + rest.len(), 701 + 5); // 5: Oak's initial content
    assert!(rest.contains(&"/n500".to_string()));
    assert!(!rest.contains(&"/late".to_string()));
    // After the walk the reader sees the new state.
    assert!(reader.node(WS, "/late").unwrap().is_some());
}

/// Set in the child process of [`a_crash_mid_transaction_leaves_the_previous_state`].
const CRASH_ENV: &str = "JCRPACK_REPOSITORY_CRASH_CHILD";

#[test]
fn a_crash_mid_transaction_leaves_the_previous_state() {
    if let Ok(dir) = std::env::var(CRASH_ENV) {
        // The child: write a lot (spilling pages into the WAL), then die without
        // committing or unwinding.
        let mut store = SqliteStore::open(std::path::Path::new(&dir)).unwrap();
        store.conn.execute_batch("PRAGMA cache_size=16").unwrap();
        let mut t = store.begin_operation(meta("crashing")).unwrap();
        t.set_property(WS, "/a", &string("title", "crash")).unwrap();
        for i in 0..3000 {
            t.add_node(
                WS,
                "/",
                &Node::new(format!("n{i}"), "nt:unstructured")
                    .with(string("payload", &"x".repeat(200))),
                &AddOptions::append(),
            )
            .unwrap();
        }
        std::process::abort();
    }
    let (dir, mut store) = repo();
    seed(&mut store);
    let before = full_state(&store);
    drop(store);
    let path = dir.path().join("repo");
    let test = concat!(
        module_path!(),
        "::a_crash_mid_transaction_leaves_the_previous_state"
    );
    let test = test.split_once("::").map(|(_, t)| t).unwrap_or(test);
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CRASH_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have aborted");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(full_state(&store), before);
    assert!(store.history().unwrap().is_empty());
    drop(store);
    // And the repository takes writes again.
    let mut store = SqliteStore::open(&path).unwrap();
    let mut t = store.begin("after the crash").unwrap();
    add(t.as_mut(), "/", "n0");
    t.commit().unwrap();
    assert!(store.node(WS, "/n0").unwrap().is_some());
}
