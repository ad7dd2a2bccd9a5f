//! The contract suite against PostgreSQL (a private test cluster, see `testdb`),
//! and what only this backend has: locations, blobs in chunks, the write lock.

use super::{PgLocation, PgStore};
use crate::repository::contract::{Backend, Guard};
use crate::repository::location::OpenOptions;
use crate::repository::{RepositoryError, Store, StoreRead};
use std::io::Read;
use std::time::Duration;

/// A fresh repository in a fresh database.
fn fresh() -> (String, PgStore) {
    let url = format!("{}?schema=repo", super::testdb::fresh_database());
    let store = PgStore::init_url(&url, &OpenOptions::default()).expect("init");
    (url, store)
}

/// The PostgreSQL backend, for the contract suite.
struct Postgres;

impl Backend for Postgres {
    fn repo() -> (Guard, Box<dyn Store>) {
        let (_, store) = fresh();
        (Box::new(()), Box::new(store))
    }
}

/// The contract suite against PostgreSQL.
mod contract {
    crate::contract_suite!(super::Postgres);
}

#[test]
fn locations_name_a_schema_and_hide_the_password() {
    let l =
        PgLocation::parse("postgres://u:secret@db:5433/jcr?schema=site&connect_timeout=3").unwrap();
    assert_eq!(l.schema, "site");
    assert_eq!(
        l.connect,
        "postgres://u:secret@db:5433/jcr?connect_timeout=3"
    );
    assert_eq!(l.display, "postgres://u@db:5433/jcr?schema=site");
    let l = PgLocation::parse("postgres://u@db/jcr?workspace-schema=team_a").unwrap();
    assert_eq!(l.schema, "team_a");
    assert_eq!(
        PgLocation::parse("postgres://u@db/jcr").unwrap().schema,
        "jcrpack"
    );
    for bad in [
        "postgres://u@db/jcr?schema=a;drop",
        "postgres://u@db/jcr?schema=1a",
        "postgres://u@db/jcr?schema=",
        "postgres://u@db/jcr?schema=a&schema=b",
        "mysql://u@db/jcr",
    ] {
        assert!(PgLocation::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn init_refuses_an_existing_repository_and_open_needs_one() {
    let (url, store) = fresh();
    drop(store);
    assert!(matches!(
        PgStore::init_url(&url, &OpenOptions::default()),
        Err(RepositoryError::AlreadyExists { .. })
    ));
    let store = PgStore::open_url(&url, &OpenOptions::default()).expect("open");
    assert_eq!(store.workspaces().unwrap(), ["default"]);
    let other = url.replace("schema=repo", "schema=nothing_here");
    let e = PgStore::open_url(&other, &OpenOptions::default())
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, RepositoryError::NotARepository { .. }), "{e}");
    // Two repositories side by side in one database.
    let second = url.replace("schema=repo", "schema=second");
    let s2 = PgStore::init_url(&second, &OpenOptions::default()).expect("second");
    assert_eq!(s2.workspaces().unwrap(), ["default"]);
}

/// The whole content of the blob `sha256`.
fn read_blob(store: &PgStore, sha256: &str) -> Vec<u8> {
    let mut back = Vec::new();
    store
        .open_blob(sha256)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    back
}

#[test]
fn large_blobs_stream_in_chunks_and_are_stored_once() {
    let (_, store) = fresh();
    let size = super::schema::CHUNK * 2 + 12345;
    let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    let a = store.put_blob(&mut &data[..]).unwrap();
    let b = store.put_blob(&mut &data[..]).unwrap();
    assert_eq!(a, b);
    let crate::value::Binary::Blob { sha256, size: got } = &a else {
        panic!("{a:?}")
    };
    assert_eq!(*got as usize, size);
    assert!(read_blob(&store, sha256) == data);
    let db = &store.backend().db;
    let rows = db.query("SELECT count(*) FROM blob_chunk", &[]).unwrap();
    let chunks: i64 = rows[0].get(0);
    assert_eq!(chunks, 3, "one copy, in three chunks");
    // Small and empty blobs.
    let empty = store.put_blob(&mut &b""[..]).unwrap();
    let crate::value::Binary::Blob { sha256, .. } = &empty else {
        panic!()
    };
    assert!(read_blob(&store, sha256).is_empty());
    // A damaged chunk is noticed at the end of the read.
    db.execute(
        "UPDATE blob_chunk SET data = '\\x00'::bytea WHERE seq = 1",
        &[],
    )
    .unwrap();
    let crate::value::Binary::Blob { sha256, .. } = &a else {
        panic!()
    };
    let mut back = Vec::new();
    let e = store
        .open_blob(sha256)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap_err();
    assert!(e.to_string().contains("damaged"), "{e}");
    assert!(matches!(
        store.open_blob(&"0".repeat(64)),
        Err(RepositoryError::BlobNotFound { .. })
    ));
}

#[test]
fn a_blob_is_read_in_one_statement_a_chunk() {
    let (_, store) = fresh();
    let db = &store.backend().db;
    let read = |sha256: &str| {
        let before = db.sent();
        let back = read_blob(&store, sha256);
        (back, db.sent() - before)
    };
    let sha = |b: &crate::value::Binary| match b {
        crate::value::Binary::Blob { sha256, .. } => sha256.clone(),
        other => panic!("{other:?}"),
    };
    let small = store.put_blob(&mut &b"small"[..]).unwrap();
    assert_eq!(read(&sha(&small)), (b"small".to_vec(), 1));
    let empty = store.put_blob(&mut &b""[..]).unwrap();
    assert_eq!(read(&sha(&empty)), (Vec::new(), 1));
    let data: Vec<u8> = (0..super::schema::CHUNK * 2 + 1)
        .map(|i| (i % 253) as u8)
        .collect();
    let large = store.put_blob(&mut &data[..]).unwrap();
    let (back, sent) = read(&sha(&large));
    assert!(back == data);
    assert_eq!(sent, 3, "size and the first chunk, then the other two");
    // A first chunk gone is noticed at the read, not at the open.
    db.execute("DELETE FROM blob_chunk WHERE seq = 0", &[])
        .unwrap();
    let mut reader = store.open_blob(&sha(&small)).unwrap();
    let e = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert!(e.to_string().contains("chunk 0 is missing"), "{e}");
}

#[test]
fn a_second_writer_waits_for_the_lock_and_then_is_busy() {
    let (url, mut first) = fresh();
    let options = OpenOptions {
        busy_timeout: Duration::from_millis(300),
        ..OpenOptions::default()
    };
    let mut second = PgStore::open_url(&url, &options).expect("open");
    let t = first.begin("hold the lock").expect("begin");
    let started = std::time::Instant::now();
    let e = second.begin("wait").map(|_| ()).unwrap_err();
    assert!(matches!(e, RepositoryError::RepositoryBusy { .. }), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Readers do not wait.
    assert_eq!(second.workspaces().unwrap(), ["default"]);
    drop(t);
    let t = second.begin("now").expect("free again");
    t.commit().unwrap();
    let zero = OpenOptions {
        busy_timeout: Duration::ZERO,
        ..OpenOptions::default()
    };
    let mut third = PgStore::open_url(&url, &zero).expect("open");
    let t = first.begin("hold").unwrap();
    assert!(matches!(
        third.begin("try").map(|_| ()),
        Err(RepositoryError::RepositoryBusy { .. })
    ));
    drop(t);
}

#[test]
fn gc_removes_the_blobs_nothing_refers_to_and_keeps_journaled_ones() {
    use crate::repository::AddOptions;
    use crate::value::{Property, Value};
    let (_, mut store) = fresh();
    let put = |s: &PgStore, b: &[u8]| s.put_blob(&mut &b[..]).unwrap();
    let orphan = put(&store, b"nobody refers to me");
    let live = put(&store, b"a property refers to me");
    let journaled = put(&store, b"only an undo needs me");
    let mut t = store.begin("setup").unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new("a", "nt:unstructured"),
        &AddOptions::append(),
    )
    .unwrap();
    t.set_property(
        "default",
        "/a",
        &Property::single("live", Value::Binary(live)),
    )
    .unwrap();
    t.set_property(
        "default",
        "/a",
        &Property::single("old", Value::Binary(journaled.clone())),
    )
    .unwrap();
    t.commit().unwrap();
    let mut t = store
        .begin_operation(crate::repository::contract::meta("drop old"))
        .unwrap();
    t.remove_property("default", "/a", "old").unwrap();
    t.commit().unwrap();
    let dry = store.gc(true).unwrap();
    assert_eq!((dry.blobs_removed, dry.blobs_kept), (1, 2));
    let done = store.gc(false).unwrap();
    assert_eq!((done.blobs_removed, done.blobs_kept), (1, 2));
    let sha = |b: &crate::value::Binary| match b {
        crate::value::Binary::Blob { sha256, .. } => sha256.clone(),
        other => panic!("{other:?}"),
    };
    assert!(store.open_blob(&sha(&orphan)).is_err());
    assert!(store.open_blob(&sha(&journaled)).is_ok());
    assert_eq!(store.gc(false).unwrap().blobs_removed, 0);
}

#[test]
fn nul_in_text_is_refused_naming_the_property_and_nothing_is_kept() {
    use crate::repository::AddOptions;
    use crate::value::{Property, Value};
    let (_, mut store) = fresh();
    let mut t = store.begin("nul").unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new("a", "nt:unstructured"),
        &AddOptions::append(),
    )
    .unwrap();
    let e = t
        .set_property(
            "default",
            "/a",
            &Property::single("text", Value::String("before\0after".into())),
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, RepositoryError::InvalidProperty { .. }),
        "{e:?}"
    );
    assert!(
        msg.contains("/a") && msg.contains("text") && msg.contains("NUL"),
        "{msg}"
    );
    assert!(msg.contains("workspace 'default'"), "{msg}");
    drop(t);
    assert!(store.node("default", "/a").unwrap().is_none());
    // A multi-valued property is stored as a JSON list, where U+0000 is escaped
    // (`\u0000`): it is kept losslessly.
    let mut t = store.begin("nul").unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new("b", "nt:unstructured"),
        &AddOptions::append(),
    )
    .unwrap();
    let p = Property {
        name: "list".into(),
        ptype: crate::value::PropertyType::String,
        multiple: true,
        values: vec![Value::String("ok".into()), Value::String("a\0b".into())],
    };
    t.set_property("default", "/b", &p).unwrap();
    t.commit().unwrap();
    assert_eq!(store.property("default", "/b", "list").unwrap(), Some(p));
}

/// Adds `/.../<deep>` 20 levels of 200-character names below `/` (a path of about
/// 4 KB, over the 2.7 KB a btree entry holds), returning the deepest path.
fn add_deep(store: &mut PgStore, tag: char) -> String {
    use crate::repository::AddOptions;
    let mut t = store.begin("deep").unwrap();
    let mut at = "/".to_string();
    for i in 0..20 {
        let name = format!("{tag}{i:02}{}", "x".repeat(197));
        t.add_node(
            "default",
            &at,
            &crate::node::Node::new(&name, "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
        at = crate::path::join(&at, &name);
    }
    t.commit().unwrap();
    at
}

#[test]
fn paths_and_uuids_of_4_kb_are_stored_found_renamed_and_removed() {
    use crate::repository::AddOptions;
    use crate::value::{Property, Value};
    let (_, mut store) = fresh();
    let at_root = store.children("default", "/").unwrap().len();
    let deep = add_deep(&mut store, 'a');
    assert!(deep.len() > 4000, "{}", deep.len());
    let uuid = format!("u-{}", "0123456789abcdef".repeat(256));
    let mut t = store
        .begin_operation(crate::repository::contract::meta("sns"))
        .unwrap();
    let mut n = crate::node::Node::new("leaf", "nt:unstructured");
    n.set(Property::single("jcr:uuid", Value::String(uuid.clone())));
    t.add_node("default", &deep, &n, &AddOptions::allow_same_name())
        .unwrap();
    t.add_node(
        "default",
        &deep,
        &crate::node::Node::new("leaf", "nt:unstructured"),
        &AddOptions::allow_same_name(),
    )
    .unwrap();
    t.commit().unwrap();
    let leaf = format!("{deep}/leaf");
    assert_eq!(
        store.find_by_uuid("default", &uuid).unwrap(),
        Some(leaf.clone())
    );
    assert!(store
        .node("default", &format!("{leaf}[2]"))
        .unwrap()
        .is_some());
    let walked = store
        .walk("default", "/")
        .unwrap()
        .map(|e| e.unwrap().path)
        .collect::<Vec<_>>();
    assert!(walked.contains(&format!("{leaf}[2]")), "{walked:?}");
    // Removing the first same-name sibling renames the second (a path update
    // through the hashed index).
    let mut t = store
        .begin_operation(crate::repository::contract::meta("rm"))
        .unwrap();
    t.remove_node("default", &leaf).unwrap();
    t.commit().unwrap();
    assert!(store.node("default", &leaf).unwrap().is_some());
    assert!(store
        .node("default", &format!("{leaf}[2]"))
        .unwrap()
        .is_none());
    assert_eq!(store.find_by_uuid("default", &uuid).unwrap(), None);
    // Undo brings the first back; removing the whole deep subtree takes all.
    let mut t = store.begin("rm all").unwrap();
    let top = format!("/{}", deep.split('/').nth(1).unwrap());
    assert_eq!(t.remove_node("default", &top).unwrap(), 21);
    t.commit().unwrap();
    assert_eq!(store.children("default", "/").unwrap().len(), at_root);
}

#[test]
fn the_range_index_prefix_is_the_one_the_queries_use() {
    let n = super::schema::PREFIX;
    let expr = format!("left(path, {n})");
    assert!(super::schema::SCHEMA.contains(&expr));
    assert!(super::schema::MIGRATE_1_TO_2.contains(&expr));
    // Every range query of the content names the same prefix.
    let src = include_str!("content.rs");
    assert!(src.matches(&expr).count() >= 6);
    assert_eq!(
        src.matches("left(path, ").count(),
        src.matches(&expr).count()
    );
    // At most 4 bytes a character stays under PostgreSQL's 2704-byte btree entry.
    assert!(n * 4 + 16 < 2704);
}

/// Adds node `/<name>` in an operation of that name.
fn add_op(store: &mut PgStore, name: &str) -> Option<crate::repository::OperationId> {
    let mut t = store
        .begin_operation(crate::repository::contract::meta(name))
        .unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new(name, "nt:unstructured"),
        &crate::repository::AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap()
}

/// Takes `store`'s schema back to version 3, then runs `older` (which takes it
/// further back).
fn stamp_back(store: &PgStore, older: &str) {
    let db = &store.backend().db;
    db.batch(super::schema::DOWNGRADE_4_TO_3).unwrap();
    db.batch(older).unwrap();
}

/// The schema version `meta` holds.
fn schema_version(db: &super::PgDb) -> String {
    db.query("SELECT value FROM meta WHERE key = 'version'", &[])
        .unwrap()[0]
        .get(0)
}

#[test]
fn a_version_1_schema_is_migrated_when_opened_and_keeps_its_content() {
    let (url, mut store) = fresh();
    add_op(&mut store, "a");
    // Stamp it back to version 1: the raw indexes, no aggregate table.
    stamp_back(
        &store,
        "DROP INDEX node_path; DROP INDEX node_prefix; DROP INDEX prop_uuid;
             DROP TABLE aggregate;
             CREATE UNIQUE INDEX node_path ON node(ws, path);
             CREATE INDEX prop_uuid ON prop(value) WHERE name = 'jcr:uuid';
             DROP SEQUENCE node_id; DROP SEQUENCE op_id;
             INSERT INTO meta(key, value) SELECT 'next_node_id', (max(id) + 1)::text FROM node;
             UPDATE meta SET value = '1' WHERE key = 'version'",
    );
    drop(store);
    let mut store = PgStore::open_url(&url, &OpenOptions::default()).expect("migrated");
    let db = &store.backend().db;
    assert_eq!(schema_version(db), super::schema::VERSION);
    let defs: Vec<String> = db
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
             AND indexname IN ('node_path', 'node_prefix', 'prop_uuid') ORDER BY indexname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(defs.len(), 3, "{defs:?}");
    assert!(key_indexes(db).iter().any(|(n, _)| n == "jprop_key"));
    assert!(defs[0].contains("md5(path)"), "{defs:?}");
    assert!(defs[1].contains("left\"(path, 600)"), "{defs:?}");
    assert!(defs[2].contains("md5(value)"), "{defs:?}");
    assert!(store.node("default", "/a").unwrap().is_some());
    assert_eq!(store.history().unwrap().len(), 1);
    // Node ids go on where they were; long paths now fit; digests are kept.
    let deep = add_deep(&mut store, 'b');
    assert!(store.node("default", &deep).unwrap().is_some());
    let mut t = store.begin("digest").unwrap();
    assert!(t.record_aggregate_digest("default", "/a", b"d").unwrap());
    t.commit().unwrap();
    assert_eq!(
        store
            .begin("r")
            .unwrap()
            .aggregate_digest("default", "/a")
            .unwrap(),
        Some(b"d".to_vec())
    );
    // A second open finds it current; an unknown version is refused.
    drop(store);
    let store = PgStore::open_url(&url, &OpenOptions::default()).expect("open");
    store
        .backend()
        .db
        .execute("UPDATE meta SET value = '9' WHERE key = 'version'", &[])
        .unwrap();
    drop(store);
    let e = PgStore::open_url(&url, &OpenOptions::default())
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("schema version 9"), "{e}");
}

#[test]
fn a_version_2_schema_gets_its_sequences_after_the_last_ids() {
    use crate::repository::OperationId;
    let (url, mut store) = fresh();
    let add = add_op;
    add(&mut store, "a");
    let last = add(&mut store, "b").unwrap();
    // Stamp it back to version 2: ids from meta.next_node_id and max(id) + 1.
    stamp_back(
        &store,
        "DROP SEQUENCE node_id; DROP SEQUENCE op_id;
         INSERT INTO meta(key, value) SELECT 'next_node_id', (max(id) + 1000)::text FROM node;
         UPDATE meta SET value = '2' WHERE key = 'version'",
    );
    let next_node: i64 = {
        let r = store
            .backend()
            .db
            .query(
                "SELECT value::bigint FROM meta WHERE key = 'next_node_id'",
                &[],
            )
            .unwrap();
        r[0].get(0)
    };
    drop(store);
    let mut store = PgStore::open_url(&url, &OpenOptions::default()).expect("migrated");
    let db = store.backend().db.clone();
    assert_eq!(schema_version(&db), super::schema::VERSION);
    assert!(key_indexes(&db).iter().any(|(n, _)| n == "prop_key"));
    assert!(db
        .query("SELECT 1 FROM meta WHERE key = 'next_node_id'", &[])
        .unwrap()
        .is_empty());
    // The next operation follows the last; the next node id is where meta said.
    let after = add(&mut store, "c").unwrap();
    assert_eq!(after, OperationId(last.0 + 1));
    let id: i64 = db
        .query("SELECT id FROM node WHERE name = 'c'", &[])
        .unwrap()[0]
        .get(0);
    assert_eq!(id, next_node);
    assert_eq!(store.history().unwrap().len(), 3);
    assert!(store.node("default", "/a").unwrap().is_some());
}

/// A store of repository `url` on a connection of its own, waiting `busy` for
/// write locks.
fn open(url: &str, busy: Duration) -> PgStore {
    PgStore::open_url(
        url,
        &OpenOptions {
            busy_timeout: busy,
            ..OpenOptions::default()
        },
    )
    .expect("open")
}

fn op_meta(what: &str) -> crate::repository::OperationMeta {
    crate::repository::contract::meta(what)
}

/// Adds `/NAME` to `workspace` in `t`.
fn add_to(t: &mut dyn crate::repository::Transaction, workspace: &str, name: &str) {
    t.add_node(
        workspace,
        "/",
        &crate::node::Node::new(name, "nt:unstructured"),
        &crate::repository::AddOptions::append(),
    )
    .unwrap();
}

/// Workspaces `a` and `b` beside `default`.
fn with_two_workspaces() -> String {
    let (url, mut store) = fresh();
    let mut t = store.begin("workspaces").unwrap();
    t.create_workspace("a").unwrap();
    t.create_workspace("b").unwrap();
    t.commit().unwrap();
    url
}

#[test]
fn operations_on_two_workspaces_run_at_once_and_commit_in_id_order() {
    use std::sync::mpsc;
    let url = with_two_workspaces();
    let mut one = open(&url, Duration::ZERO);
    let mut two = open(&url, Duration::ZERO);
    let mut t1 = one.begin_operation_in(op_meta("in a"), "a").unwrap();
    add_to(t1.as_mut(), "a", "x");
    let first = t1.operation_id().unwrap();
    // Without waiting (busy timeout zero) a second begins on `b` while the first
    // is open and writes: the two are open at once.
    let (sent, got) = mpsc::channel();
    let url2 = url.clone();
    let second = std::thread::spawn(move || {
        let _ = &url2;
        let mut t2 = two.begin_operation_in(op_meta("in b"), "b").unwrap();
        add_to(t2.as_mut(), "b", "y");
        let id = t2.operation_id().unwrap();
        sent.send(id).unwrap();
        // Its commit waits for the earlier operation to end.
        let committed = t2.commit().unwrap();
        (committed, std::time::Instant::now())
    });
    let second_id = got.recv().unwrap();
    assert!(second_id > first);
    // Meanwhile the earlier one is still open and can still write: nothing of the
    // second is visible yet to a reader.
    std::thread::sleep(Duration::from_millis(300));
    add_to(t1.as_mut(), "a", "z");
    let reader = open(&url, Duration::ZERO);
    assert!(reader.node("b", "/y").unwrap().is_none());
    let first_done = std::time::Instant::now();
    t1.commit().unwrap();
    let (committed, second_done) = second.join().unwrap();
    assert_eq!(committed, Some(second_id));
    assert!(second_done >= first_done);
    let h: Vec<_> = reader.history().unwrap().iter().map(|o| o.id).collect();
    assert_eq!(&h[h.len() - 2..], &[first, second_id]);
    assert!(reader.node("a", "/z").unwrap().is_some());
    assert!(reader.node("b", "/y").unwrap().is_some());
}

#[test]
fn an_earlier_operation_that_rolls_back_lets_the_later_commit() {
    let url = with_two_workspaces();
    let mut one = open(&url, Duration::ZERO);
    let mut two = open(&url, Duration::ZERO);
    let mut t1 = one.begin_operation_in(op_meta("in a"), "a").unwrap();
    add_to(t1.as_mut(), "a", "x");
    let second = std::thread::spawn(move || {
        let mut t2 = two.begin_operation_in(op_meta("in b"), "b").unwrap();
        add_to(t2.as_mut(), "b", "y");
        t2.commit().unwrap()
    });
    std::thread::sleep(Duration::from_millis(200));
    t1.rollback().unwrap();
    let id = second.join().unwrap().unwrap();
    let reader = open(&url, Duration::ZERO);
    assert_eq!(reader.history().unwrap().last().unwrap().id, id);
    assert!(reader.node("a", "/x").unwrap().is_none());
}

#[test]
fn one_workspace_serializes_and_the_repository_lock_excludes_workspaces() {
    let url = with_two_workspaces();
    let mut one = open(&url, Duration::ZERO);
    let mut two = open(&url, Duration::from_millis(300));
    let mut t1 = one.begin_operation_in(op_meta("in a"), "a").unwrap();
    add_to(t1.as_mut(), "a", "x");
    // The same workspace: busy after the timeout.
    let started = std::time::Instant::now();
    let e = two
        .begin_operation_in(op_meta("also a"), "a")
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, RepositoryError::RepositoryBusy { .. }), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Anything repository-wide (an unscoped operation, a new workspace,
    // registrations) waits for every workspace's lock.
    for e in [
        two.begin("whole").map(|_| ()).unwrap_err(),
        two.begin_operation(op_meta("whole"))
            .map(|_| ())
            .unwrap_err(),
        two.begin_operation_in(op_meta("new ws"), "c")
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert!(matches!(e, RepositoryError::RepositoryBusy { .. }), "{e}");
    }
    // And a repository-wide transaction keeps every workspace out.
    t1.commit().unwrap();
    let whole = one.begin("whole").unwrap();
    let e = two
        .begin_operation_in(op_meta("in b"), "b")
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, RepositoryError::RepositoryBusy { .. }), "{e}");
    whole.rollback().unwrap();
    let mut t = two.begin_operation_in(op_meta("in b"), "b").unwrap();
    // A scoped operation writes its workspace only.
    let e = t
        .add_node(
            "a",
            "/",
            &crate::node::Node::new("y", "nt:unstructured"),
            &crate::repository::AddOptions::append(),
        )
        .unwrap_err();
    assert!(matches!(e, RepositoryError::NotAllowed { .. }), "{e}");
    assert!(t.create_workspace("d").is_err());
    assert!(t.delete_workspace("a", true).is_err());
    add_to(t.as_mut(), "b", "y");
    t.commit().unwrap();
}

#[test]
fn registrations_from_two_workspaces_at_once_serialize_on_the_registry() {
    let url = with_two_workspaces();
    let mut one = open(&url, Duration::ZERO);
    let mut two = open(&url, Duration::ZERO);
    let mut t1 = one.begin_operation_in(op_meta("in a"), "a").unwrap();
    t1.register_namespace("ea", "http://example.com/a").unwrap();
    add_to(t1.as_mut(), "a", "ea:x");
    // The second registers too: it waits for the first to end (registrations
    // after every earlier operation), then sees its prefix.
    let second = std::thread::spawn(move || {
        let mut t2 = two.begin_operation_in(op_meta("in b"), "b").unwrap();
        add_to(t2.as_mut(), "b", "y");
        t2.register_namespace("eb", "http://example.com/b").unwrap();
        // The same prefix for another URI, registered meanwhile, is refused.
        let clash = t2.register_namespace("ea", "http://example.com/other");
        (clash.is_err(), t2.commit())
    });
    std::thread::sleep(Duration::from_millis(300));
    t1.commit().unwrap();
    let (clashed, committed) = second.join().unwrap();
    assert!(clashed);
    let reader = open(&url, Duration::ZERO);
    let ns = reader.namespaces().unwrap();
    assert_eq!(ns.uri("ea"), Some("http://example.com/a"));
    // The clash failed the second's statement; its transaction is then refused
    // or committed whole, never half.
    match committed {
        Ok(_) => assert_eq!(ns.uri("eb"), Some("http://example.com/b")),
        Err(_) => assert!(reader.node("b", "/y").unwrap().is_none()),
    }
}

#[test]
fn a_binary_stored_by_two_workspaces_at_once_fails_one_as_busy_and_loses_nothing() {
    let url = with_two_workspaces();
    let mut one = open(&url, Duration::ZERO);
    let mut two = open(&url, Duration::ZERO);
    let content = b"the same new binary".repeat(10);
    let mut t1 = one.begin_operation_in(op_meta("in a"), "a").unwrap();
    add_to(t1.as_mut(), "a", "x");
    let (stored, got) = std::sync::mpsc::channel();
    let later = {
        let content = content.clone();
        std::thread::spawn(move || {
            let mut t2 = two.begin_operation_in(op_meta("in b"), "b").unwrap();
            t2.put_blob(&mut content.as_slice()).unwrap();
            add_to(t2.as_mut(), "b", "y");
            stored.send(()).unwrap();
            // Waits for the earlier operation, which then waits for this one's
            // blob row.
            t2.commit().map(|_| ())
        })
    };
    // The later one's blob row is in first, however slow the machine.
    got.recv().unwrap();
    let earlier = t1
        .put_blob(&mut content.as_slice())
        .map(|_| ())
        .and_then(|()| t1.commit().map(|_| ()));
    let later = later.join().unwrap();
    // The server rolls one of them back: that one fails as busy, the other lands.
    let (failed, landed, ws) = match (&earlier, &later) {
        (Err(e), Ok(())) => (e, "b", "a"),
        (Ok(()), Err(e)) => (e, "a", "b"),
        _ => panic!("expected exactly one to fail: {earlier:?} {later:?}"),
    };
    assert!(
        matches!(failed, RepositoryError::RepositoryBusy { .. }),
        "{failed}"
    );
    let reader = open(&url, Duration::ZERO);
    let name = if landed == "a" { "/x" } else { "/y" };
    assert!(reader.node(landed, name).unwrap().is_some());
    let lost = if ws == "a" { "/x" } else { "/y" };
    assert!(reader.node(ws, lost).unwrap().is_none());
}

/// The names of the keys of version 4 and what they index.
fn key_indexes(db: &super::PgDb) -> Vec<(String, String)> {
    db.query(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()
         AND tablename IN ('prop', 'jprop', 'namespace', 'nodetype', 'jreg') ORDER BY indexname",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[test]
fn a_version_3_schema_is_keyed_by_hashes_when_opened_and_keeps_its_content() {
    use crate::repository::contract::{full_state, meta, string};
    use crate::repository::AddOptions;
    let (url, mut store) = fresh();
    let fresh_keys = key_indexes(&store.backend().db);
    // Content, a namespace, a node type and an operation to undo; then the keys
    // of version 3 (the rows are the same in both versions).
    let mut t = store.begin_operation(meta("fill")).unwrap();
    t.register_namespace("ex", "http://example.com/ex").unwrap();
    t.register_node_type("ex:t", "[ex:t] > nt:unstructured")
        .unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new("a", "nt:unstructured")
            .with(string("x", "1"))
            .with(string(&"y".repeat(2000), "2")),
        &AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    let mut t = store.begin_operation(meta("change")).unwrap();
    t.set_property("default", "/a", &string("x", "changed"))
        .unwrap();
    t.commit().unwrap();
    let before = full_state(&store);
    let history = store.history().unwrap();
    let db = store.backend().db.clone();
    db.batch(super::schema::DOWNGRADE_4_TO_3).unwrap();
    let v3_keys = key_indexes(&db);
    assert_ne!(v3_keys, fresh_keys);
    // Version 3 cannot key a property name of 4,000 characters.
    let e = db
        .batch(
            "BEGIN; INSERT INTO prop(node, name, type, multiple, value)
             SELECT id, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 125) i),
                    1, false, 'v'
             FROM node WHERE name = 'a'",
        )
        .unwrap_err();
    let e = format!("{e:?}");
    let _ = db.batch("ROLLBACK");
    assert!(e.contains("index row"), "{e}");
    drop(db);
    drop(store);
    let long: String = (1..=125)
        .map(|i| super::schema::md5(&i.to_string()))
        .collect();

    let mut store = PgStore::open_url(&url, &OpenOptions::default()).expect("migrated");
    let db = store.backend().db.clone();
    assert_eq!(schema_version(&db), super::schema::VERSION);
    assert_eq!(key_indexes(&db), fresh_keys);
    assert_eq!(full_state(&store), before);
    assert_eq!(store.history().unwrap(), history);
    // The journal of version 3 still undoes; long names now fit.
    store
        .undo(history[1].id, false, meta("undo change"))
        .unwrap();
    assert_eq!(
        store.property("default", "/a", "x").unwrap(),
        Some(string("x", "1"))
    );
    let mut t = store.begin_operation(meta("long")).unwrap();
    t.set_property("default", "/a", &string(&long, "v"))
        .unwrap();
    t.commit().unwrap();
    assert_eq!(
        store.property("default", "/a", &long).unwrap(),
        Some(string(&long, "v"))
    );
    // A second open finds version 4 and changes nothing.
    drop(store);
    let store = PgStore::open_url(&url, &OpenOptions::default()).unwrap();
    assert_eq!(key_indexes(&store.backend().db), fresh_keys);
}

#[test]
fn two_property_names_with_one_md5_are_refused_naming_both_and_nothing_is_kept() {
    use crate::repository::contract::{full_state, meta, string};
    use crate::repository::AddOptions;
    let (a, b) = super::schema::tests::TWINS;
    let (_, mut store) = fresh();
    let mut t = store.begin_operation(meta("base")).unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new("old", "nt:unstructured").with(string(a, "first")),
        &AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    let before = full_state(&store);
    let check = |e: RepositoryError, node: &str| {
        let msg = e.to_string();
        assert!(
            matches!(e, RepositoryError::InvalidProperty { .. }),
            "{e:?}"
        );
        assert!(
            msg.contains(node) && msg.contains(a) && msg.contains(b) && msg.contains("MD5"),
            "{msg}"
        );
        assert!(msg.contains("workspace 'default'"), "{msg}");
    };
    // On a node that exists (the upsert).
    let mut t = store.begin_operation(meta("twin")).unwrap();
    let e = t
        .set_property("default", "/old", &string(b, "second"))
        .unwrap_err();
    check(e, "/old");
    drop(t);
    // On a new node, set one at a time (held for COPY) and both at once.
    let mut t = store.begin_operation(meta("twin")).unwrap();
    t.add_node(
        "default",
        "/",
        &crate::node::Node::new("new", "nt:unstructured"),
        &AddOptions::append(),
    )
    .unwrap();
    t.set_property("default", "/new", &string(a, "first"))
        .unwrap();
    let e = t
        .set_property("default", "/new", &string(b, "second"))
        .unwrap_err();
    check(e, "/new");
    drop(t);
    let mut t = store.begin_operation(meta("twin")).unwrap();
    let e = t
        .add_node(
            "default",
            "/",
            &crate::node::Node::new("both", "nt:unstructured")
                .with(string(a, "first"))
                .with(string(b, "second")),
            &AddOptions::append(),
        )
        .unwrap_err();
    check(e, "/both");
    drop(t);
    assert_eq!(full_state(&store), before);
    // One removed, its twin takes its place (the journal's key has the name's
    // first 600 characters beside the hash, so both images are kept).
    let mut t = store.begin_operation(meta("swap")).unwrap();
    assert!(t.remove_property("default", "/old", a).unwrap());
    t.set_property("default", "/old", &string(b, "second"))
        .unwrap();
    t.commit().unwrap();
    assert_eq!(store.property("default", "/old", a).unwrap(), None);
    let after = full_state(&store);
    // Its undo restores the removed one before it removes the twin (the journal's
    // (node, name) order), which the node's key refuses: a clear error, and the
    // repository stays as it was (a known limit, for names only made on purpose).
    let swap = store.history().unwrap().last().unwrap().id;
    let e = store.undo(swap, false, meta("undo swap")).unwrap_err();
    check(e, "/old");
    assert_eq!(full_state(&store), after);
    // Undone by hand, in the other order, it is as before.
    let mut t = store.begin_operation(meta("back")).unwrap();
    assert!(t.remove_property("default", "/old", b).unwrap());
    t.set_property("default", "/old", &string(a, "first"))
        .unwrap();
    t.commit().unwrap();
    assert_eq!(full_state(&store), before);
    assert_eq!(
        store.property("default", "/old", a).unwrap(),
        Some(string(a, "first"))
    );
    assert_eq!(store.property("default", "/old", b).unwrap(), None);
}

#[test]
fn registry_names_with_one_md5_are_refused_naming_both() {
    use crate::repository::contract::{full_state, meta};
    let (a, b) = super::schema::tests::TWINS;
    let (_, mut store) = fresh();
    let mut t = store.begin_operation(meta("ns")).unwrap();
    t.register_namespace(a, "http://example.com/a").unwrap();
    t.register_namespace("ex", "http://example.com/ex").unwrap();
    t.register_node_type(a, "[ex:t]").unwrap();
    t.commit().unwrap();
    let before = full_state(&store);
    let mut t = store.begin_operation(meta("twin")).unwrap();
    let e = t
        .register_namespace(b, "http://example.com/b")
        .unwrap_err()
        .to_string();
    assert!(e.contains(a) && e.contains(b) && e.contains("MD5"), "{e}");
    drop(t);
    let mut t = store.begin_operation(meta("twin")).unwrap();
    let e = t.register_node_type(b, "[ex:u]").unwrap_err().to_string();
    assert!(e.contains(a) && e.contains(b) && e.contains("MD5"), "{e}");
    drop(t);
    assert_eq!(full_state(&store), before);
}

/// What a reader says of every node of the subtree at `top`, in document order:
/// its info, properties and children, and that a name below it is free.
fn everything_below(
    r: &dyn StoreRead,
    top: &str,
) -> Vec<(
    crate::repository::NodeInfo,
    Vec<crate::value::Property>,
    Vec<String>,
    bool,
)> {
    let mut out = Vec::new();
    let mut todo = vec![top.to_string()];
    while let Some(p) = todo.pop() {
        let info = r.node("default", &p).unwrap().expect("there");
        let props = r.properties("default", &p).unwrap();
        let kids: Vec<String> = r
            .children("default", &p)
            .unwrap()
            .into_iter()
            .map(|c| c.path)
            .collect();
        let free = r
            .node("default", &crate::path::join(&p, "not-there"))
            .unwrap()
            .is_none();
        todo.extend(kids.iter().rev().cloned());
        out.push((info, props, kids, free));
    }
    out
}

/// Adds `/top` with `fanout` children of `fanout` children each, every node with
/// a property of `bytes` bytes.
fn add_tree(store: &mut PgStore, top: &str, fanout: usize, bytes: usize) {
    use crate::node::Node;
    use crate::value::{Property, Value};
    let with = |name: String| {
        let mut n = Node::new(&name, "nt:unstructured");
        n.set(Property::single(
            "p",
            Value::String(format!("{name}{}", "v".repeat(bytes))),
        ));
        n
    };
    let mut root = with(top.to_string());
    for i in 0..fanout {
        let mut folder = with(format!("f{i}"));
        for j in 0..fanout {
            folder.children.push(with(format!("c{j}")));
        }
        root.children.push(folder);
    }
    let mut t = store.begin("tree").unwrap();
    t.add_node(
        "default",
        "/",
        &root,
        &crate::repository::AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
}

#[test]
fn a_write_transaction_reads_existing_content_ahead_a_level_a_statement() {
    let (_, mut store) = fresh();
    add_tree(&mut store, "t", 12, 10);
    let expected = everything_below(&store, "/t");
    assert_eq!(expected.len(), 1 + 12 + 144);
    let db = store.backend().db.clone();
    let t = store.begin("read").unwrap();
    let before = db.sent();
    let got = everything_below(&*t, "/t");
    let sent = db.sent() - before;
    assert!(got == expected);
    // /t and its properties one by one, then a statement a level below it.
    assert!(sent <= 6, "{sent} statements for {} nodes", got.len());
}

#[test]
fn a_read_ahead_stops_at_its_caps_and_reads_on_where_it_stopped() {
    let (_, mut store) = fresh();
    // More children than one read ahead takes.
    let wide = (super::prefetch::NODES as f64).sqrt() as usize + 2;
    add_tree(&mut store, "w", wide, 1);
    let expected = everything_below(&store, "/w");
    let db = store.backend().db.clone();
    let t = store.begin("read").unwrap();
    let before = db.sent();
    let got = everything_below(&*t, "/w");
    let sent = db.sent() - before;
    drop(t);
    assert!(got == expected);
    assert!(
        sent < got.len() as u64,
        "{sent} statements for {} nodes",
        got.len()
    );
    // Properties larger than one read ahead takes, two of them at most: still
    // right.
    add_tree(&mut store, "l", 2, super::prefetch::BYTES as usize / 2 + 1);
    let expected = everything_below(&store, "/l");
    let t = store.begin("read").unwrap();
    assert!(everything_below(&*t, "/l") == expected);
}

#[test]
fn a_read_ahead_knows_leaves_complete_and_reads_below_siblings_together() {
    use crate::node::Node;
    let (_, mut store) = fresh();
    // More children than one read ahead takes, each with one child: the first
    // read stops among them, and each of the rest is a read ahead of its own
    // unless they start together.
    let wide = super::prefetch::NODES as usize + 500;
    let mut top = Node::new("s", "nt:unstructured");
    for i in 0..wide {
        let mut c = Node::new(format!("c{i}"), "nt:unstructured");
        c.children.push(Node::new("x", "nt:unstructured"));
        top.children.push(c);
    }
    let mut t = store.begin("tree").unwrap();
    t.add_node(
        "default",
        "/",
        &top,
        &crate::repository::AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    let expected = everything_below(&store, "/s");
    assert_eq!(expected.len(), 1 + 2 * wide);
    let db = store.backend().db.clone();
    let t = store.begin("read").unwrap();
    let before = db.sent();
    let got = everything_below(&*t, "/s");
    let sent = db.sent() - before;
    drop(t);
    assert!(got == expected);
    // A statement a node or more before.
    assert!(sent <= 20, "{sent} statements for {} nodes", got.len());
}

/// The bounds of the histogram of `node.id` (the statistics target plus one),
/// 0 before any `ANALYZE`.
fn node_id_histogram(db: &super::PgDb) -> i32 {
    db.query(
        "SELECT coalesce(max(array_length(histogram_bounds::text::text[], 1)), 0) FROM pg_stats
         WHERE schemaname = current_schema() AND tablename = 'node' AND attname = 'id'",
        &[],
    )
    .unwrap()[0]
        .get(0)
}

#[test]
fn a_large_operation_analyzes_coarsely_inside_and_after_and_journals_each_new_node_once() {
    let (_, mut store) = fresh();
    let db = store.backend().db.clone();
    let pages = super::ANALYZE_ROWS as usize / 2 + 500;
    let mut site = crate::node::Node::new("site", "nt:unstructured");
    for i in 0..pages {
        site = site.with_child(
            crate::node::Node::new(&format!("p{i}"), "nt:unstructured")
                .with(crate::value::Property::string("title", "T")),
        );
    }
    let mut t = store
        .begin_operation(crate::repository::contract::meta("large"))
        .unwrap();
    t.add_node(
        "default",
        "/",
        &site,
        &crate::repository::AddOptions::append(),
    )
    .unwrap();
    // The next statement finds the tables analyzed, with the coarse target.
    let inside = node_id_histogram(&db);
    assert!(
        inside > 0 && inside <= super::ANALYZE_TARGET_INSIDE as i32 + 1,
        "inside: {inside}"
    );
    let op = t.commit().unwrap().expect("an operation");
    // After the commit, the tables are analyzed again (the journal's too,
    // which only the commit's `ANALYZE` reads), coarsely.
    let after = node_id_histogram(&db);
    assert!(
        after > 0 && after <= super::ANALYZE_TARGET_AFTER as i32 + 1,
        "after: {after}"
    );
    let journal: f32 = db
        .query(
            "SELECT reltuples FROM pg_class WHERE oid = 'jnode'::regclass",
            &[],
        )
        .unwrap()[0]
        .get(0);
    assert!(journal >= pages as f32 * 0.9, "jnode analyzed: {journal}");
    let rows = db
        .query(
            "SELECT count(*), count(DISTINCT node), bool_or(existed) FROM jnode WHERE op = $1",
            &[&op.0],
        )
        .unwrap();
    let (all, distinct, existed): (i64, i64, Option<bool>) =
        (rows[0].get(0), rows[0].get(1), rows[0].get(2));
    assert_eq!(
        (all, distinct, existed),
        (pages as i64 + 1, pages as i64 + 1, Some(false))
    );
    store
        .undo(op, false, crate::repository::contract::meta("undo"))
        .unwrap();
    assert!(store.node("default", "/site").unwrap().is_none());
}
