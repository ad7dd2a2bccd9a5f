//! `has_aggregate_digests_below`: exactly the digests at a path or below it, by
//! the `(ws, path)` range (a sibling whose name extends the path's is not below).

use super::*;

/// Adds an `nt:unstructured` node of each name under its parent, in order.
fn add_unstructured(t: &mut dyn crate::repository::Transaction, nodes: &[(&str, &str)]) {
    for &(parent, name) in nodes {
        t.add_node(
            WS,
            parent,
            &Node::new(name, "nt:unstructured"),
            &AddOptions::append(),
        )
        .expect("add");
    }
}

#[test]
fn digests_below_a_path_are_those_of_its_subtree_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = crate::repository::init(&dir.path().join("repo")).expect("init");
    let mut t = store.begin_operation(meta("tree")).expect("begin");
    add_unstructured(
        t.as_mut(),
        &[
            ("/", "a"),
            ("/a", "b"),
            ("/a/b", "c"),
            ("/", "ab"),
            ("/", "c"),
        ],
    );
    t.commit().expect("commit");
    let below = |store: &mut dyn Store, p: &str| {
        let t = store.begin("look").expect("begin");
        let any = t.has_aggregate_digests_below(WS, p).expect("below");
        t.rollback().expect("rollback");
        any
    };
    assert!(!below(store.as_mut(), "/"), "none recorded");
    let mut t = store.begin("record").expect("begin");
    assert!(t.record_aggregate_digest(WS, "/a/b", b"d").expect("record"));
    t.commit().expect("commit");
    for (p, any) in [
        ("/", true),
        ("/a", true),
        ("/a/b", true),
        ("/a/b/c", false),
        ("/ab", false),
        ("/c", false),
        ("/missing", false),
    ] {
        assert_eq!(below(store.as_mut(), p), any, "{p}");
    }
    let t = store.begin("other workspace").expect("begin");
    assert!(!t
        .has_aggregate_digests_below("nowhere", "/")
        .expect("below"));
    t.rollback().expect("rollback");
}

/// `record_aggregate_digests` records each digest on the node at its path,
/// whether the write cache holds the node (added in the same transaction: taken
/// by its id) or not (a later transaction: found in the path index), and none
/// where no node is; a node removed and added again at a path gets it, not the
/// one removed.
#[test]
fn digests_recorded_by_path_reach_the_node_now_at_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = crate::repository::init(&dir.path().join("repo")).expect("init");
    let mut t = store.begin_operation(meta("tree")).expect("begin");
    add_unstructured(t.as_mut(), &[("/", "a"), ("/", "b"), ("/b", "c")]);
    t.remove_node(WS, "/a").expect("remove");
    t.add_node(WS, "/", &Node::new("a", "nt:folder"), &AddOptions::append())
        .expect("add again");
    t.record_aggregate_digests(WS, &[("/a", b"1"), ("/b/c", b"2"), ("/missing", b"3")])
        .expect("record");
    let digest = |t: &dyn crate::repository::Transaction, p: &str| {
        t.aggregate_digest(WS, p).expect("digest")
    };
    assert_eq!(digest(t.as_ref(), "/a").as_deref(), Some(&b"1"[..]));
    assert_eq!(digest(t.as_ref(), "/b/c").as_deref(), Some(&b"2"[..]));
    assert_eq!(digest(t.as_ref(), "/b"), None);
    assert_eq!(digest(t.as_ref(), "/missing"), None);
    t.commit().expect("commit");
    let mut t = store.begin("again").expect("begin");
    t.record_aggregate_digests(WS, &[("/a", b"4"), ("/b", b"5"), ("/missing", b"6")])
        .expect("record");
    assert_eq!(digest(t.as_ref(), "/a").as_deref(), Some(&b"4"[..]));
    assert_eq!(digest(t.as_ref(), "/b").as_deref(), Some(&b"5"[..]));
    assert_eq!(digest(t.as_ref(), "/b/c").as_deref(), Some(&b"2"[..]));
    t.commit().expect("commit");
    let rows: i64 = rusqlite::Connection::open(dir.path().join("repo").join("repository.db"))
        .expect("open")
        .query_row("SELECT count(*) FROM aggregate", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 3, "one digest per node: /a, /b, /b/c");
}
