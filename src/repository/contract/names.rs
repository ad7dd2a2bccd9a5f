//! Names as long as JCR allows (it bounds none): property names, node names,
//! namespace URIs and node type names of thousands of characters are stored,
//! listed, changed, removed, journaled and undone as short ones are. PostgreSQL
//! limits a btree entry to about 2.7 KB, so its keys hold hashes of them
//! (`pg::schema`); this is the contract that keeps that invisible.

use super::Backend;
use super::*;
use crate::repository::pg::testdb::letters;

/// A property name of `n` characters, ending in `tag`.
fn long_name(n: usize, tag: char) -> String {
    let mut s = letters(n - 1, 1);
    s.push(tag);
    s
}

pub(crate) fn names_of_thousands_of_characters_round_trip_and_undo<B: Backend>() {
    let (_d, mut store) = B::repo();
    let p4k = long_name(4000, 'a');
    let p10k = long_name(10_000, 'b');
    // Same first 9,999 characters as p10k: only the last one tells them apart.
    let p10k2 = long_name(10_000, 'c');
    let node = letters(10_000, 2);
    let uri = format!("http://example.com/{}", letters(5000, 3));
    let tname = format!("ex:{}", letters(4000, 4));
    let cnd = format!("[{tname}] > nt:unstructured");

    // New nodes with their properties (written together), and a node that exists.
    let mut t = store.begin_operation(meta("add")).unwrap();
    t.register_namespace("ex", &uri).unwrap();
    t.register_node_type(&tname, &cnd).unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new(&node, "nt:unstructured")
            .with(string(&p4k, "four"))
            .with(string(&p10k, "ten"))
            .with(string(&p10k2, "ten too"))
            .with_child(Node::new("c", "nt:unstructured").with(string(&p10k, "child"))),
        &AddOptions::append(),
    )
    .unwrap();
    add(t.as_mut(), "/", "old");
    t.commit().unwrap();
    let after_add = full_state(store.as_ref());
    let at = format!("/{node}");
    assert_eq!(
        store.property(WS, &at, &p10k).unwrap(),
        Some(string(&p10k, "ten"))
    );
    assert_eq!(
        store.property(WS, &at, &p10k2).unwrap(),
        Some(string(&p10k2, "ten too"))
    );
    let names: Vec<String> = store
        .properties(WS, &at)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&p4k) && names.contains(&p10k) && names.contains(&p10k2));
    assert!(after_add.contains(&uri) && after_add.contains(&tname));

    // Change, add and remove long properties of nodes that exist.
    let mut t = store.begin_operation(meta("change")).unwrap();
    t.set_property(WS, &at, &string(&p10k, "changed")).unwrap();
    t.set_property(WS, &at, &string(&p10k, "changed twice"))
        .unwrap();
    assert!(t.remove_property(WS, &at, &p4k).unwrap());
    t.set_property(WS, "/old", &string(&p10k2, "new")).unwrap();
    t.set_property(WS, "/old", &string(&p4k, "new 4k")).unwrap();
    t.commit().unwrap();
    assert_eq!(
        store.property(WS, &at, &p10k).unwrap(),
        Some(string(&p10k, "changed twice"))
    );
    assert_eq!(store.property(WS, &at, &p4k).unwrap(), None);
    assert_eq!(
        store.property(WS, &at, &p10k2).unwrap(),
        Some(string(&p10k2, "ten too"))
    );
    assert_eq!(
        store.property(WS, "/old", &p4k).unwrap(),
        Some(string(&p4k, "new 4k"))
    );
    let h = store.history().unwrap();
    let (added, changed) = (h[0].id, h[1].id);
    assert_eq!(h[1].description, "change");
    assert_eq!(h[1].properties_touched, 4, "{:?}", h[1]);
    let detail = store.operation(changed).unwrap();
    assert_eq!(detail.summary.properties_touched, 4);

    // Undo puts back exactly what was there, and undoing the add empties it.
    store.undo(changed, false, meta("undo change")).unwrap();
    assert_eq!(full_state(store.as_ref()), after_add);
    // (The undo of the change touched the same items: forced.)
    store.undo(added, true, meta("undo add")).unwrap();
    assert!(store.node(WS, &at).unwrap().is_none());
    assert!(!full_state(store.as_ref()).contains(&tname));
}
