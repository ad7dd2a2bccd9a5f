//! The contract suite against the in-memory backend, and its strictness.

use super::{MemoryBackend, MemoryStore};
use crate::node::Node;
use crate::repository::content::NewNode;
use crate::repository::contract::{add, full_state, meta, Backend, Guard, WS};
use crate::repository::oplog::StorageBackend;
use crate::repository::{AddOptions, RepositoryError, Store, StoreRead};

/// The in-memory backend, for the contract suite.
struct Memory;

impl Backend for Memory {
    fn repo() -> (Guard, Box<dyn Store>) {
        let store = MemoryStore::in_memory("memory:contract").expect("in-memory repository");
        (Box::new(()), Box::new(store))
    }
}

/// The contract suite against the in-memory backend.
mod contract {
    crate::contract_suite!(super::Memory);
}

/// A backend with one workspace (id 1) whose root has id 1.
fn backend() -> MemoryBackend {
    let mut b = MemoryBackend::new("memory:strict".into());
    let mut t = b.begin().unwrap();
    let ws = t.insert_workspace(WS, None).unwrap();
    let root = t.alloc_node_id().unwrap();
    t.insert_node(node(root, ws, None, "")).unwrap();
    t.commit().unwrap();
    b
}

fn node(id: i64, ws: i64, parent: Option<i64>, name: &str) -> NewNode {
    NewNode {
        id,
        ws,
        parent,
        name: name.into(),
        position: 1,
        primary_type: "nt:unstructured".into(),
        mixins: Vec::new(),
    }
}

fn is_corrupt<T: std::fmt::Debug>(r: crate::repository::Result<T>) -> bool {
    matches!(r, Err(RepositoryError::Corrupt { .. }))
}

#[test]
fn the_primitives_refuse_what_a_real_backend_would_refuse() {
    let mut b = backend();
    let mut t = b.begin().unwrap();
    let id = t.alloc_node_id().unwrap();
    // A parent that does not exist, a workspace that does not exist.
    assert!(is_corrupt(t.insert_node(node(id, 1, Some(99), "a"))));
    assert!(is_corrupt(t.insert_node(node(id, 7, Some(1), "a"))));
    // An id never handed out, an id in use, a second root, a nameless child.
    assert!(is_corrupt(t.insert_node(node(id + 5, 1, Some(1), "a"))));
    assert!(is_corrupt(t.insert_node(node(1, 1, Some(1), "a"))));
    assert!(is_corrupt(t.insert_node(node(id, 1, None, ""))));
    assert!(is_corrupt(t.insert_node(node(id, 1, Some(1), ""))));
    // A second workspace of one name; an unknown workspace.
    assert!(is_corrupt(t.insert_workspace(WS, None)));
    assert!(is_corrupt(t.remove_workspace(42)));
    // Properties of missing nodes; binaries not in the blob store.
    let p = crate::value::Property::string("x", "y");
    assert!(is_corrupt(t.set_property(99, &p)));
    let inline = crate::value::Property::single(
        "b",
        crate::value::Value::Binary(crate::value::Binary::inline(b"x".to_vec())),
    );
    assert!(is_corrupt(t.set_property(1, &inline)));
    // Removing a root or registrations that are not there.
    assert!(is_corrupt(t.remove_subtree(1)));
    assert!(is_corrupt(t.set_node_type("a:B", None)));
    assert!(is_corrupt(t.set_namespace("nope", None)));
    // The refusals changed nothing; the valid insert still works.
    t.insert_node(node(id, 1, Some(1), "a")).unwrap();
    t.commit().unwrap();
    assert_eq!(b.content().children(1).unwrap().len(), 1);
}

#[test]
fn savepoints_are_strict_and_a_rollback_discards_everything() {
    let mut b = backend();
    let mut t = b.begin().unwrap();
    assert!(is_corrupt(t.release_savepoint()));
    assert!(is_corrupt(t.rollback_to_savepoint()));
    t.savepoint().unwrap();
    assert!(is_corrupt(t.savepoint()));
    let id = t.alloc_node_id().unwrap();
    t.insert_node(node(id, 1, Some(1), "a")).unwrap();
    t.rollback_to_savepoint().unwrap();
    assert!(t.node_by_id(id).unwrap().is_none());
    t.savepoint().unwrap();
    assert!(is_corrupt(t.commit()));
    // That commit failed: nothing was committed.
    let mut t = b.begin().unwrap();
    let id = t.alloc_node_id().unwrap();
    t.insert_node(node(id, 1, Some(1), "a")).unwrap();
    t.rollback().unwrap();
    assert!(b.content().children(1).unwrap().is_empty());
    let t = b.begin().unwrap();
    drop(t);
    assert!(b.content().children(1).unwrap().is_empty());
}

#[test]
fn a_dropped_transaction_leaves_nothing_and_the_next_one_starts_clean() {
    let mut store = MemoryStore::in_memory("memory:drop").unwrap();
    let before = full_state(&store);
    {
        let mut t = store.begin_operation(meta("dropped")).unwrap();
        add(t.as_mut(), "/", "gone");
        t.register_node_type("a:B", "[a:B]").unwrap();
    }
    assert_eq!(full_state(&store), before);
    assert!(store.history().unwrap().is_empty());
    // Ids handed out by the dropped transaction may be handed out again.
    let mut t = store.begin_operation(meta("kept")).unwrap();
    add(t.as_mut(), "/", "kept");
    assert_eq!(t.commit().unwrap(), Some(crate::repository::OperationId(1)));
}

#[test]
fn undo_works_on_the_memory_backend_without_code_of_its_own() {
    // The memory backend implements only primitives: undo, its journal and its
    // conflict check come from the journaled layer.
    let mut store = MemoryStore::in_memory("memory:undo").unwrap();
    let empty = full_state(&store);
    let mut t = store.begin_operation(meta("install")).unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new("content", "sling:Folder")
            .with(crate::value::Property::string("jcr:title", "T"))
            .with_child(Node::new("page", "cq:Page")),
        &AddOptions::append(),
    )
    .unwrap();
    let op = t.commit().unwrap().unwrap();
    let installed = full_state(&store);
    let r = store.undo(op, false, meta("undo install")).unwrap();
    assert_eq!(r.nodes_removed, 2);
    assert_eq!(full_state(&store), empty);
    store
        .undo(r.recorded_as.unwrap(), false, meta("redo"))
        .unwrap();
    assert_eq!(full_state(&store), installed);
}

#[test]
fn the_same_operations_give_the_same_state_and_history() {
    let run = || {
        let mut store = MemoryStore::in_memory("memory:det").unwrap();
        for i in 0..3 {
            let mut t = store.begin_operation(meta(&format!("op {i}"))).unwrap();
            add(t.as_mut(), "/", "n");
            t.commit().unwrap();
        }
        store
            .undo(crate::repository::OperationId(2), true, meta("undo"))
            .unwrap();
        (
            full_state(&store),
            format!("{:?}", store.history().unwrap()),
            format!(
                "{:?}",
                store.operation(crate::repository::OperationId(4)).unwrap()
            ),
        )
    };
    assert_eq!(run(), run());
}
