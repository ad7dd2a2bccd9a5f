//! Aggregate digests: recorded per node, cleared by every change below the node,
//! whatever writes it, and rolled back with the transaction that recorded them.
//!
//! A backend without a digest store (the trait defaults) must never return one:
//! then the importer never skips, which is safe. Every backend that records them
//! must pass the clearing checks below.

use super::{add, meta, Backend, WS};
use crate::node::Node;
use crate::repository::{AddOptions, Store, Transaction};
use crate::value::Property;

/// The nodes that get digests: `/a`, `/a/b`, `/a/b/c`, `/a/d`, `/x`.
const TREE: [&str; 5] = ["/a", "/a/b", "/a/b/c", "/a/d", "/x"];

fn digest_of(p: &str) -> Vec<u8> {
    p.as_bytes().to_vec()
}

fn build(s: &mut dyn Store) {
    let mut t = s.begin_operation(meta("tree")).expect("begin");
    add(t.as_mut(), "/", "a");
    add(t.as_mut(), "/a", "b");
    add(t.as_mut(), "/a/b", "c");
    add(t.as_mut(), "/a", "d");
    add(t.as_mut(), "/", "x");
    t.commit().expect("commit");
}

/// Records a digest on every node of [`TREE`]; whether the backend keeps them.
fn record_all(s: &mut dyn Store) -> bool {
    let mut t = s.begin("digests").expect("begin");
    let mut kept = true;
    for p in TREE {
        kept &= t
            .record_aggregate_digest(WS, p, &digest_of(p))
            .expect("record");
    }
    assert!(!t
        .record_aggregate_digest(WS, "/missing", b"x")
        .expect("record on a missing node"));
    t.commit().expect("commit");
    kept
}

/// The paths of [`TREE`] that still have their digest.
fn with_digest(s: &mut dyn Store) -> Vec<&'static str> {
    let t = s.begin("read").expect("begin");
    let out = TREE
        .into_iter()
        .filter(|p| {
            let d = t.aggregate_digest(WS, p).expect("digest");
            if let Some(d) = &d {
                assert_eq!(d, &digest_of(p), "{p}");
            }
            d.is_some()
        })
        .collect();
    t.rollback().expect("rollback");
    out
}

/// Runs `change` in an operation after recording every digest, and returns the
/// paths whose digest is left.
fn after(s: &mut dyn Store, change: &dyn Fn(&mut dyn Transaction)) -> Option<Vec<&'static str>> {
    if !record_all(s) {
        return None;
    }
    assert_eq!(with_digest(s), TREE.to_vec(), "recorded");
    let mut t = s.begin_operation(meta("change")).expect("begin");
    change(t.as_mut());
    t.commit().expect("commit");
    Some(with_digest(s))
}

pub(crate) fn digests_are_cleared_by_every_change_below_their_node<B: Backend>() {
    let (_g, mut s) = B::repo();
    build(s.as_mut());
    if !record_all(s.as_mut()) {
        // No digest store: none is ever returned, so nothing is ever skipped.
        assert!(with_digest(s.as_mut()).is_empty());
        return;
    }
    let untouched = |paths: Option<Vec<&'static str>>| paths.expect("digests kept");
    // A property of a leaf: the leaf and its ancestors lose theirs.
    let left = after(s.as_mut(), &|t| {
        t.set_property(WS, "/a/b/c", &Property::string("p", "v"))
            .expect("set")
    });
    assert_eq!(untouched(left), ["/a/d", "/x"]);
    let left = after(s.as_mut(), &|t| {
        t.remove_property(WS, "/a/b/c", "p").expect("remove");
    });
    assert_eq!(untouched(left), ["/a/d", "/x"]);
    let left = after(s.as_mut(), &|t| {
        t.set_mixins(WS, "/a/d", &["mix:title".to_string()])
            .expect("mixins")
    });
    assert_eq!(untouched(left), ["/a/b", "/a/b/c", "/x"]);
    let left = after(s.as_mut(), &|t| {
        t.set_primary_type(WS, "/x", "nt:folder").expect("type")
    });
    assert_eq!(untouched(left), ["/a", "/a/b", "/a/b/c", "/a/d"]);
    // A new child clears its parent's chain.
    let left = after(s.as_mut(), &|t| {
        t.add_node(
            WS,
            "/a/b",
            &Node::new("n", "nt:unstructured"),
            &AddOptions::append(),
        )
        .expect("add");
    });
    assert_eq!(untouched(left), ["/a/b/c", "/a/d", "/x"]);
    // A reorder moves the child: its parent's chain and the child.
    let left = after(s.as_mut(), &|t| {
        t.order_before(WS, "/a", "d", Some("b")).expect("order");
    });
    assert_eq!(untouched(left), ["/a/b", "/a/b/c", "/x"]);
    // Removing a subtree clears its ancestors.
    let left = after(s.as_mut(), &|t| {
        t.remove_node(WS, "/a/b/n").expect("remove");
    });
    assert_eq!(untouched(left), ["/a/b/c", "/a/d", "/x"]);
    // Undo writes through the same door: undoing the removal brings `/a/b/n` back.
    let last = s.history().expect("history").last().expect("an op").id;
    let left = after(s.as_mut(), &|t| {
        t.undo(last, false).expect("undo");
    });
    assert_eq!(untouched(left), ["/a/b/c", "/a/d", "/x"]);
    // Several changes in one transaction, and a digest recorded in the middle of
    // it is cleared by a later change below it.
    assert!(record_all(s.as_mut()));
    let mut t = s.begin_operation(meta("two")).expect("begin");
    t.set_property(WS, "/a/b/c", &Property::string("q", "1"))
        .expect("set");
    assert!(t.record_aggregate_digest(WS, "/a", b"/a").expect("record"));
    t.set_property(WS, "/a/b/c", &Property::string("q", "2"))
        .expect("set");
    assert_eq!(t.aggregate_digest(WS, "/a").expect("digest"), None);
    t.commit().expect("commit");
    assert_eq!(with_digest(s.as_mut()), ["/a/d", "/x"]);
    // A rolled back transaction leaves the digests it recorded or cleared as they
    // were.
    let mut t = s.begin("rolled back").expect("begin");
    assert!(t.record_aggregate_digest(WS, "/a", b"/a").expect("record"));
    t.remove_node(WS, "/x").expect("remove");
    t.rollback().expect("rollback");
    assert_eq!(with_digest(s.as_mut()), ["/a/d", "/x"]);
    // A removed node's digest is never seen again, not even when an undo brings
    // the node back under its old id.
    assert!(record_all(s.as_mut()));
    let mut t = s.begin_operation(meta("rm x")).expect("begin");
    t.remove_node(WS, "/x").expect("remove");
    t.commit().expect("commit");
    let last = s.history().expect("history").last().expect("an op").id;
    let mut t = s.begin_operation(meta("undo rm x")).expect("begin");
    t.undo(last, false).expect("undo");
    t.commit().expect("commit");
    assert_eq!(with_digest(s.as_mut()), ["/a", "/a/b", "/a/b/c", "/a/d"]);
}

/// Digests recorded in one batch ([`Transaction::record_aggregate_digests`]) are
/// kept as those recorded one by one, a missing node passed over, and a later
/// change below a node clears its digest as before; `has_aggregate_digests`
/// says whether any is kept.
pub(crate) fn digests_recorded_in_a_batch_are_kept_and_cleared_as_one_by_one<B: Backend>() {
    let (_g, mut s) = B::repo();
    build(s.as_mut());
    let t = s.begin("none yet").expect("begin");
    assert!(!t.has_aggregate_digests().expect("any"));
    t.rollback().expect("rollback");
    let mut t = s.begin("batch").expect("begin");
    let mut records: Vec<(&str, Vec<u8>)> = TREE.iter().map(|p| (*p, digest_of(p))).collect();
    records.insert(2, ("/missing", b"x".to_vec()));
    let batch: Vec<(&str, &[u8])> = records.iter().map(|(p, d)| (*p, &d[..])).collect();
    t.record_aggregate_digests(WS, &batch).expect("record");
    t.commit().expect("commit");
    let kept = with_digest(s.as_mut());
    let t = s.begin("any").expect("begin");
    assert_eq!(t.has_aggregate_digests().expect("any"), !kept.is_empty());
    t.rollback().expect("rollback");
    if kept.is_empty() {
        // No digest store: none is ever returned.
        return;
    }
    assert_eq!(kept, TREE.to_vec());
    let mut t = s.begin_operation(meta("change")).expect("begin");
    t.set_property(WS, "/a/d", &Property::string("p", "v"))
        .expect("set");
    t.commit().expect("commit");
    assert_eq!(with_digest(s.as_mut()), ["/a/b", "/a/b/c", "/x"]);
}
