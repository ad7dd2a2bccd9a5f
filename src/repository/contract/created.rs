//! Nodes an operation created: deep subtrees undone whole and counted as users
//! saw them, and the conflicts of later operations that changed something inside
//! them (or whose own new subtrees cover what an earlier operation changed).
//!
//! These pin what the journal means for created nodes, whatever its row shape: a
//! row per created node (PostgreSQL, the memory backend) or a range of ids per
//! operation read from the node rows (SQLite, which freezes a created node's row
//! before a later move or removal changes it): later moves, removals and
//! workspace deletions must leave an operation's record as it was.

use super::Backend;
use super::*;
use crate::repository::{
    OperationDetail, OperationId, OperationSummary, RepositoryError, Store, TouchKind, UndoConflict,
};

/// `name` with a property `p` and, down to `depth` more levels, the children `a`,
/// `item` and `item` (same-name siblings), each like it.
fn deep(name: &str, depth: usize) -> Node {
    let mut n = Node::new(name, "nt:unstructured").with(string("p", name));
    if depth > 0 {
        for child in ["a", "item", "item"] {
            n = n.with_child(deep(child, depth - 1));
        }
    }
    n
}

/// Nodes in [`deep`]`(_, depth)`.
fn deep_count(depth: u32) -> u64 {
    (0..=depth).map(|d| 3u64.pow(d)).sum()
}

/// A repository with `/content/site/z` (property `p`) made by a recorded seed.
fn seeded<B: Backend>() -> (Guard, Box<dyn Store>) {
    let (dir, mut store) = B::repo();
    let mut t = store.begin_operation(meta("seed")).unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new("content", "nt:unstructured").with_child(
            Node::new("site", "nt:unstructured")
                .with_child(Node::new("z", "nt:unstructured").with(string("p", "seed"))),
        ),
        &AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    (dir, store)
}

/// The operations of an undo conflict, or a panic naming what came instead.
fn conflicts(e: &RepositoryError) -> &[UndoConflict] {
    match e {
        RepositoryError::UndoConflict { conflicts, .. } => conflicts,
        other => panic!("expected an undo conflict, got {other}"),
    }
}

fn ops(c: &[UndoConflict]) -> Vec<OperationId> {
    c.iter().map(|c| c.operation).collect()
}

/// An install that creates a deep subtree under an existing parent, a node deep
/// below an existing node, a same-name sibling of an existing node, and a node it
/// removes again; returns its id.
fn install(store: &mut dyn Store) -> OperationId {
    let mut t = store.begin_operation(meta("install")).unwrap();
    t.add_node(WS, "/content", &deep("app", 4), &AddOptions::append())
        .unwrap();
    t.add_node(
        WS,
        "/content/site/z",
        &Node::new("under", "nt:unstructured").with_child(Node::new("kid", "nt:unstructured")),
        &AddOptions::append(),
    )
    .unwrap();
    add(t.as_mut(), "/content/site", "z");
    add(t.as_mut(), "/content", "tmp");
    add(t.as_mut(), "/content/tmp", "gone");
    t.remove_node(WS, "/content/tmp").unwrap();
    t.set_property(WS, "/content/site", &string("q", "install"))
        .unwrap();
    t.commit().unwrap().unwrap()
}

/// Nodes [`install`] leaves created: the deep subtree, `under` and `kid`, `z[2]`.
fn installed() -> u64 {
    deep_count(4) + 3
}

pub(crate) fn created_subtrees_are_undone_whole_and_counted<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    let op = install(&mut *store);
    let after = full_state(&*store);
    assert!(store
        .node(WS, "/content/app/item[2]/item[2]/a/item")
        .unwrap()
        .is_some());
    assert!(store.node(WS, "/content/site/z[2]").unwrap().is_some());
    assert!(store.node(WS, "/content/tmp").unwrap().is_none());

    // The counts users see: the nodes still there at commit (not the one created
    // and removed again), their properties and the one changed property.
    let h = store.history().unwrap();
    let s = h.iter().find(|s| s.id == op).unwrap();
    assert_eq!(s.nodes_touched, installed());
    assert_eq!(s.properties_touched, deep_count(4) + 1);
    let d = store.operation(op).unwrap();
    let created: Vec<&str> = d
        .touched
        .iter()
        .filter(|t| t.kind == TouchKind::Node && !t.existed)
        .map(|t| t.path.as_str())
        .collect();
    assert_eq!(created.len() as u64, installed());
    for p in [
        "/content/app",
        "/content/app/item[2]/item/a",
        "/content/site/z/under/kid",
        "/content/site/z[2]",
    ] {
        assert!(created.contains(&p), "{p} in {created:?}");
    }
    assert!(!created.iter().any(|p| p.starts_with("/content/tmp")));

    // Undo removes every created node and puts the changed property back.
    let r = store.undo(op, false, meta("undo install")).unwrap();
    assert_eq!(r.nodes_removed, installed());
    assert_eq!(r.properties_reverted, 1);
    assert_eq!(full_state(&*store), base);
    // Undoing the undo brings them back (with their old ids), counted the same.
    let redo = store
        .undo(r.recorded_as.unwrap(), false, meta("redo install"))
        .unwrap();
    assert_eq!(full_state(&*store), after);
    let h = store.history().unwrap();
    let s = h.iter().find(|s| Some(s.id) == redo.recorded_as).unwrap();
    assert_eq!(s.nodes_touched, installed());
    // And undoing the redo is exact again.
    store
        .undo(redo.recorded_as.unwrap(), false, meta("undo redo"))
        .unwrap();
    assert_eq!(full_state(&*store), base);
}

pub(crate) fn a_change_inside_a_created_subtree_conflicts_until_undone<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    let op = install(&mut *store);
    // Later: a property deep inside, a removal deep inside, a child added deep
    // inside, each in its own operation.
    let mut t = store.begin_operation(meta("set deep")).unwrap();
    t.set_property(WS, "/content/app/item[2]/a/item", &string("q", "x"))
        .unwrap();
    let set = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("remove deep")).unwrap();
    t.remove_node(WS, "/content/app/a/a/a").unwrap();
    let removed = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("add deep")).unwrap();
    add(t.as_mut(), "/content/site/z/under/kid", "extra");
    let added = t.commit().unwrap().unwrap();

    let e = store.undo(op, false, meta("undo install")).unwrap_err();
    let c = conflicts(&e);
    assert_eq!(ops(c), [set, removed], "{e}");
    assert_eq!(c[0].paths, ["default:/content/app/item[2]/a/item/q"]);
    for p in [
        "default:/content/app/a/a/a",
        "default:/content/app/a/a/a/item[2]",
        "default:/content/app/a/a/a/p",
    ] {
        assert!(c[1].paths.iter().any(|x| x == p), "{p} in {:?}", c[1].paths);
    }
    // Undoing the later changes one by one, the last one first: the install's undo
    // is refused while any of them stands.
    store.undo(set, false, meta("undo set")).unwrap();
    let e = store.undo(op, false, meta("undo install")).unwrap_err();
    assert_eq!(ops(conflicts(&e)), [removed], "{e}");
    store.undo(removed, false, meta("undo remove")).unwrap();
    let e = store.undo(op, false, meta("undo install")).unwrap_err();
    let c = conflicts(&e);
    assert_eq!(ops(c), [added], "{e}");
    assert_eq!(c[0].paths, ["default:/content/site/z/under/kid/extra"]);
    store.undo(added, false, meta("undo add")).unwrap();
    store.undo(op, false, meta("undo install")).unwrap();
    assert_eq!(full_state(&*store), base);
}

pub(crate) fn a_forced_undo_removes_created_subtrees_with_what_was_added_below<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    let op = install(&mut *store);
    let mut t = store.begin_operation(meta("add deep")).unwrap();
    add(t.as_mut(), "/content/app/item/item", "extra");
    add(t.as_mut(), "/content/app/item/item/extra", "below");
    t.commit().unwrap().unwrap();
    let r = store.undo(op, true, meta("forced")).unwrap();
    assert_eq!(r.nodes_removed, installed() + 2);
    assert_eq!(full_state(&*store), base);
}

pub(crate) fn a_later_subtree_over_changed_paths_conflicts<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    // Earlier: an existing node's type and property change.
    let mut t = store.begin_operation(meta("change z")).unwrap();
    t.set_primary_type(WS, "/content/site/z", "nt:folder")
        .unwrap();
    t.set_property(WS, "/content/site/z", &string("p", "changed"))
        .unwrap();
    let change = t.commit().unwrap().unwrap();
    // Later: the site is replaced by a new subtree on the same paths.
    let mut t = store.begin_operation(meta("replace site")).unwrap();
    t.remove_node(WS, "/content/site").unwrap();
    t.add_node(
        WS,
        "/content",
        &Node::new("site", "nt:unstructured").with_child(deep("z", 2)),
        &AddOptions::append(),
    )
    .unwrap();
    let replace = t.commit().unwrap().unwrap();
    let e = store.undo(change, false, meta("undo change")).unwrap_err();
    let c = conflicts(&e);
    assert_eq!(ops(c), [replace], "{e}");
    assert_eq!(
        c[0].paths,
        ["default:/content/site/z", "default:/content/site/z/p"]
    );
    // The later operation undoes first, then the earlier one.
    store.undo(replace, false, meta("undo replace")).unwrap();
    store.undo(change, false, meta("undo change")).unwrap();
    assert_eq!(full_state(&*store), base);
}

pub(crate) fn a_node_created_again_where_a_created_one_was_conflicts<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let op = install(&mut *store);
    // One operation removes a node the install created deep down, a later one
    // creates another on the same path: both touched what the install created
    // (the second by path).
    let mut t = store.begin_operation(meta("remove deep")).unwrap();
    t.remove_node(WS, "/content/app/item[2]/a").unwrap();
    let removed = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("add again")).unwrap();
    t.add_node(
        WS,
        "/content/app/item[2]",
        &Node::new("a", "nt:unstructured"),
        &AddOptions::append(),
    )
    .unwrap();
    let again = t.commit().unwrap().unwrap();
    assert!(store.node(WS, "/content/app/item[2]/a").unwrap().is_some());
    let e = store.undo(op, false, meta("undo install")).unwrap_err();
    let c = conflicts(&e);
    assert_eq!(ops(c), [removed, again], "{e}");
    assert_eq!(c[1].paths, ["default:/content/app/item[2]/a"]);
}

/// What `op` lists (`operation`) and its line of the history, which nothing done
/// after it may change.
fn record_of(store: &dyn Store, op: OperationId) -> (OperationDetail, OperationSummary) {
    let h = store.history().unwrap();
    let s = h.into_iter().find(|s| s.id == op).unwrap();
    (store.operation(op).unwrap(), s)
}

pub(crate) fn later_moves_and_removals_leave_what_an_operation_created_as_listed<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    let op = install(&mut *store);
    let after = full_state(&*store);
    let listed = record_of(&*store, op);
    // Later, each in its own operation: two same-name siblings the install created
    // swap places (their subtrees' paths swap), one of them goes (the other moves
    // down an index), and an existing node goes with what the install created
    // below it (and the install's same-name sibling of it moves down).
    let mut t = store.begin_operation(meta("reorder")).unwrap();
    t.order_before(WS, "/content/app", "item[2]", Some("item"))
        .unwrap();
    let reorder = t.commit().unwrap().unwrap();
    assert_eq!(record_of(&*store, op), listed, "after the reorder");
    let mut t = store.begin_operation(meta("remove item")).unwrap();
    t.remove_node(WS, "/content/app/item").unwrap();
    let removed = t.commit().unwrap().unwrap();
    assert_eq!(record_of(&*store, op), listed, "after the removal");
    let mut t = store.begin_operation(meta("remove z")).unwrap();
    t.remove_node(WS, "/content/site/z").unwrap();
    let gone = t.commit().unwrap().unwrap();
    assert!(store.node(WS, "/content/site/z").unwrap().is_some());
    assert_eq!(record_of(&*store, op), listed, "after the removal below");

    let e = store.undo(op, false, meta("undo install")).unwrap_err();
    let c = conflicts(&e);
    assert_eq!(ops(c), [reorder, removed, gone], "{e}");
    assert!(c[2]
        .paths
        .iter()
        .any(|p| p == "default:/content/site/z/under"));
    // Undone last first, the install's record stays, and it undoes exactly.
    for (later, what) in [(gone, "z"), (removed, "item"), (reorder, "reorder")] {
        store.undo(later, false, meta(what)).unwrap();
        assert_eq!(record_of(&*store, op), listed, "after undoing {what}");
    }
    assert_eq!(full_state(&*store), after);
    let r = store.undo(op, false, meta("undo install")).unwrap();
    assert_eq!(r.nodes_removed, installed());
    assert_eq!(full_state(&*store), base);
    assert_eq!(record_of(&*store, op), listed, "after its undo");
    store
        .undo(r.recorded_as.unwrap(), false, meta("redo install"))
        .unwrap();
    assert_eq!(full_state(&*store), after);
    assert_eq!(record_of(&*store, op), listed, "after the redo");
}

pub(crate) fn an_operation_lists_what_it_created_in_a_workspace_deleted_since<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let mut t = store.begin_operation(meta("fill other")).unwrap();
    t.add_node("other", "/", &deep("x", 2), &AddOptions::append())
        .unwrap();
    let op = t.commit().unwrap().unwrap();
    let listed = record_of(&*store, op);
    let mut t = store.begin_operation(meta("delete other")).unwrap();
    t.delete_workspace("other", true).unwrap();
    let deleted = t.commit().unwrap().unwrap();
    assert_eq!(record_of(&*store, op), listed);
    let e = store.undo(op, false, meta("undo fill")).unwrap_err();
    assert_eq!(ops(conflicts(&e)), [deleted], "{e}");
    store.undo(deleted, false, meta("undo delete")).unwrap();
    assert_eq!(record_of(&*store, op), listed);
    store.undo(op, false, meta("undo fill")).unwrap();
    assert_eq!(record_of(&*store, op), listed);
}
