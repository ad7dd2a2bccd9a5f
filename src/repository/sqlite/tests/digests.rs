//! `has_aggregate_digests_below`: exactly the digests at a path or below it, by
//! the `(ws, path)` range (a sibling whose name extends the path's is not below).

use super::*;

#[test]
fn digests_below_a_path_are_those_of_its_subtree_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = crate::repository::init(&dir.path().join("repo")).expect("init");
    let mut t = store.begin_operation(meta("tree")).expect("begin");
    for (parent, name) in [
        ("/", "a"),
        ("/a", "b"),
        ("/a/b", "c"),
        ("/", "ab"),
        ("/", "c"),
    ] {
        t.add_node(
            WS,
            parent,
            &Node::new(name, "nt:unstructured"),
            &AddOptions::append(),
        )
        .expect("add");
    }
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
