//! The history's counts and pruning.

use super::Backend;
use super::*;
use crate::repository::{OperationId, PruneSelect, RepositoryError};

pub(crate) fn history_counts_the_properties_of_created_nodes<B: Backend>() {
    let (_d, mut store) = B::repo();
    let mut t = store.begin_operation(meta("add")).unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new("a", "nt:unstructured")
            .with(string("x", "1"))
            .with(string("y", "2"))
            .with_child(Node::new("b", "nt:unstructured").with(string("z", "3"))),
        &AddOptions::append(),
    )
    .unwrap();
    t.set_property(WS, "/", &string("r", "root")).unwrap();
    t.commit().unwrap();
    let h = store.history().unwrap();
    assert_eq!(h[0].nodes_touched, 2);
    assert_eq!(h[0].properties_touched, 4);
    assert_eq!(h[0].user, "tester");
}

pub(crate) fn pruning_drops_the_oldest_operations_and_names_them<B: Backend>() {
    let (_d, mut store) = B::repo();
    for (i, day) in ["01", "02", "03", "04"].iter().enumerate() {
        let mut m = meta(&format!("op {i}"));
        m.time = Date::parse(&format!("2024-02-{day}T12:00:00.000Z")).unwrap();
        let mut t = store.begin_operation(m).unwrap();
        add(t.as_mut(), "/", &format!("n{i}"));
        t.commit().unwrap();
    }
    // A dry run names what would go and changes nothing.
    let r = store.prune_history(PruneSelect::Keep(1), true).unwrap();
    assert_eq!(r.dropped.len(), 3);
    assert_eq!(r.kept, 1);
    assert_eq!(store.history().unwrap().len(), 4);

    let cutoff = Date::parse("2024-02-03T00:00:00.000Z").unwrap();
    let r = store
        .prune_history(PruneSelect::Before(cutoff), false)
        .unwrap();
    let names: Vec<&str> = r.dropped.iter().map(|o| o.description.as_str()).collect();
    assert_eq!(names, ["op 0", "op 1"]);
    let h = store.history().unwrap();
    assert_eq!(h.len(), 2);
    assert!(matches!(
        store.undo(OperationId(1), false, meta("undo")),
        Err(RepositoryError::OperationNotFound(_))
    ));
    // What is kept still undoes.
    store.undo(h[0].id, false, meta("undo op 2")).unwrap();
    assert!(store.node(WS, "/n2").unwrap().is_none());
    assert!(store.node(WS, "/n0").unwrap().is_some());
    // Keeping more than there are drops nothing.
    let r = store.prune_history(PruneSelect::Keep(10), false).unwrap();
    assert!(r.dropped.is_empty());
    // Ids are never reused, even when every operation was dropped (a backend
    // drawing them from a sequence, PostgreSQL, may skip the refused undo's).
    store.prune_history(PruneSelect::Keep(0), false).unwrap();
    let mut t = store.begin_operation(meta("after")).unwrap();
    add(t.as_mut(), "/", "after");
    let after = t.commit().unwrap().expect("an operation");
    assert!(after >= OperationId(6), "{after}");
}
