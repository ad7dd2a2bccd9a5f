//! Opening and creating SQLite repositories, and the store through trait objects.

use super::*;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{RepositoryError, Store};

#[test]
fn init_creates_a_default_workspace_with_a_root_and_open_refuses_other_folders() {
    let (dir, store) = repo();
    assert_eq!(store.workspaces().unwrap(), vec![WS.to_string()]);
    let root = store.node(WS, "/").unwrap().unwrap();
    assert_eq!(root.primary_type, "rep:root");
    assert_eq!(root.path, "/");
    assert_eq!(root.name, "");
    // Below the root, Oak's initial content and nothing else.
    let children = store.children(WS, "/").unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].path, "/jcr:system");
    assert_eq!(listing(&store, WS), INITIAL_LISTING);
    drop(store);

    // Reopens; a second init is refused.
    let path = dir.path().join("repo");
    assert!(SqliteStore::open(&path).is_ok());
    assert!(matches!(
        SqliteStore::init(&path),
        Err(RepositoryError::AlreadyExists { .. })
    ));

    // A plain folder, a missing folder and a foreign SQLite file are not repositories.
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let e = SqliteStore::open(&plain).unwrap_err();
    assert!(matches!(e, RepositoryError::NotARepository { .. }), "{e}");
    assert!(e.to_string().contains("is not a jcrpack repository"), "{e}");
    assert!(
        !plain.join("repository.db").exists(),
        "open must not create files"
    );
    assert!(matches!(
        SqliteStore::open(&dir.path().join("missing")),
        Err(RepositoryError::NotARepository { .. })
    ));
    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    rusqlite::Connection::open(foreign.join("repository.db"))
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    let e = SqliteStore::open(&foreign).unwrap_err();
    assert!(e.to_string().contains("not a repository database"), "{e}");
    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("repository.db"), b"not sqlite at all").unwrap();
    assert!(matches!(
        SqliteStore::open(&garbage),
        Err(RepositoryError::NotARepository { .. })
    ));
}

#[test]
fn works_through_trait_objects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut store: Box<dyn Store> = crate::repository::init(&path).unwrap();
    let mut t = store.begin_operation(meta("via dyn")).unwrap();
    add(t.as_mut(), "/", "x");
    let op = t.commit().unwrap().unwrap();
    drop(store);
    let mut store = crate::repository::open(&path).unwrap();
    // `repository::init` adds Oak's initial content (`/jcr:system`), unrecorded.
    assert_eq!(child_paths(store.as_ref(), "/"), ["/jcr:system", "/x"]);
    store.undo(op, false, meta("undo via dyn")).unwrap();
    assert_eq!(child_paths(store.as_ref(), "/"), ["/jcr:system"]);
    assert!(matches!(
        crate::repository::open(dir.path()),
        Err(RepositoryError::NotARepository { .. })
    ));
}

#[test]
fn equal_blobs_are_one_file_in_the_blob_folder() {
    let (_dir, store) = repo();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let a = store.put_blob(&mut &data[..]).unwrap();
    let b = store.put_blob(&mut &data[..]).unwrap();
    assert_eq!(a, b);
    // Put and not committed: maybe still queued for the writer thread.
    store.db().blobs.wait_for_writes();
    let blob_files = walkdir::WalkDir::new(store.location().join("blobs"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .count();
    assert_eq!(blob_files, 1);
}

/// A transaction answers reads of the nodes it inserted from its cache
/// (`sqlite/cache.rs`); every other change to a node row must show in them at
/// once, as SQLite itself shows it after the commit.
#[test]
fn a_transaction_reads_its_own_inserts_right_after_every_other_change() {
    let (_dir, mut store) = repo();
    let mut txn = store.begin("cache").unwrap();
    let mut a = Node::new("a", "nt:unstructured");
    a.children.push(Node::new("b", "nt:unstructured"));
    let mut u = Node::new("u", "nt:unstructured");
    u.set(Property::string(
        "jcr:uuid",
        "0b3c4a2e-1111-4e2e-9a6e-000000000001",
    ));
    a.children.push(u);
    txn.add_node(WS, "/", &a, &AddOptions::append()).unwrap();
    let paths = ["/a", "/a/b", "/a/c", "/a/c[2]", "/a/u", "/a/x"];
    let seen = |t: &dyn StoreRead| -> Vec<Option<(String, String, Option<String>)>> {
        paths
            .iter()
            .map(|p| {
                t.node(WS, p)
                    .unwrap()
                    .map(|n| (n.path, n.primary_type, n.uuid))
            })
            .collect()
    };
    assert!(txn.node(WS, "/a/b").unwrap().is_some());
    assert!(txn.node(WS, "/a/x").unwrap().is_none());
    assert_eq!(
        txn.node(WS, "/a/u").unwrap().unwrap().uuid.as_deref(),
        Some("0b3c4a2e-1111-4e2e-9a6e-000000000001")
    );
    // Removed and added again; the uuid removed; same-name siblings, reordered;
    // a type changed.
    txn.remove_node(WS, "/a/b").unwrap();
    assert!(txn.node(WS, "/a/b").unwrap().is_none());
    txn.add_node(
        WS,
        "/a",
        &Node::new("b", "nt:folder"),
        &AddOptions::append(),
    )
    .unwrap();
    assert_eq!(
        txn.node(WS, "/a/b").unwrap().unwrap().primary_type,
        "nt:folder"
    );
    txn.remove_property(WS, "/a/u", "jcr:uuid").unwrap();
    assert_eq!(txn.node(WS, "/a/u").unwrap().unwrap().uuid, None);
    txn.add_node(
        WS,
        "/a",
        &Node::new("c", "nt:folder"),
        &AddOptions::append(),
    )
    .unwrap();
    let second = txn
        .add_node(
            WS,
            "/a",
            &Node::new("c", "nt:unstructured"),
            &AddOptions::allow_same_name(),
        )
        .unwrap();
    assert_eq!(second, "/a/c[2]");
    txn.order_before(WS, "/a", "c[2]", Some("c")).unwrap();
    assert_eq!(
        txn.node(WS, "/a/c").unwrap().unwrap().primary_type,
        "nt:unstructured"
    );
    assert_eq!(
        txn.node(WS, "/a/c[2]").unwrap().unwrap().primary_type,
        "nt:folder"
    );
    txn.set_primary_type(WS, "/a/b", "nt:unstructured").unwrap();
    let inside = seen(txn.as_ref());
    txn.commit().unwrap();
    assert_eq!(seen(&store), inside);
}
