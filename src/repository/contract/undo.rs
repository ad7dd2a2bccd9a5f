//! The journal, history, and undo (exact restoration, conflicts, force, redo).

use super::*;
use super::{Backend, Guard};
use crate::repository::{OperationId, RepositoryError, SameName, Store, TouchKind};
use crate::value::PropertyType;

/// A repository with content of every kind: types, mixins, same-name siblings,
/// uuids, binaries, ordering.
fn seeded<B: Backend>() -> (Guard, Box<dyn Store>) {
    let (dir, mut store) = B::repo();
    let mut t = store.begin("seed").unwrap();
    let content = Node::new("content", "sling:Folder")
        .with_child(
            Node::new("site", "cq:Page")
                .with(string("jcr:uuid", "aaaaaaaa-0000-4000-8000-000000000001"))
                .with_child(
                    Node::new("jcr:content", "cq:PageContent")
                        .with(string("jcr:title", "Site"))
                        .with(Property::multi(
                            "cq:tags",
                            PropertyType::String,
                            vec![Value::String("a".into()), Value::String("b".into())],
                        ))
                        .with(Property::single(
                            "image",
                            Value::Binary(Binary::inline(b"\x89PNG...".to_vec())),
                        ))
                        .with(Property::single("count", Value::Long(3))),
                )
                .with_child(Node::new("item", "nt:unstructured").with(string("n", "1")))
                .with_child(Node::new("item", "nt:unstructured").with(string("n", "2")))
                .with_child(
                    Node::new("item", "nt:unstructured")
                        .with(string("n", "3"))
                        .with_child(Node::new("leaf", "nt:unstructured")),
                )
                .with_child(Node::new("z", "nt:unstructured"))
                .with_child(Node::new("y", "nt:unstructured")),
        )
        .with_child(Node::new("other", "nt:folder"));
    t.add_node(WS, "/", &content, &AddOptions::append())
        .unwrap();
    t.set_mixins(WS, "/content/site", &["mix:referenceable".into()])
        .unwrap();
    t.register_namespace("sling", "http://sling.apache.org/jcr/sling/1.0")
        .unwrap();
    t.register_node_type("sling:Folder", "[sling:Folder] > nt:folder")
        .unwrap();
    t.commit().unwrap();
    (dir, store)
}

/// An operation that changes a bit of everything.
fn big_change(t: &mut dyn Transaction) {
    let site = "/content/site";
    // Remove an earlier same-name sibling (later ones shift) and a whole subtree.
    t.remove_node(WS, &format!("{site}/item")).unwrap();
    t.remove_node(WS, &format!("{site}/jcr:content")).unwrap();
    // Re-create jcr:content with other content (same path, new node).
    t.add_node(
        WS,
        site,
        &Node::new("jcr:content", "nt:unstructured").with(string("jcr:title", "New")),
        &AddOptions::before("item"),
    )
    .unwrap();
    // Properties: change, add, remove; uuid moves to another node.
    t.set_property(WS, &format!("{site}/item"), &string("n", "two"))
        .unwrap();
    t.set_property(WS, &format!("{site}/item"), &string("added", "x"))
        .unwrap();
    t.remove_property(WS, site, "jcr:uuid").unwrap();
    t.set_property(
        WS,
        "/content/other",
        &string("jcr:uuid", "aaaaaaaa-0000-4000-8000-000000000001"),
    )
    .unwrap();
    t.set_property(WS, "/content/other", &string("jcr:uuid", "bbbb"))
        .unwrap();
    // Types, mixins, order.
    t.set_primary_type(WS, "/content", "nt:folder").unwrap();
    t.set_mixins(WS, site, &[]).unwrap();
    t.order_before(WS, site, "y", Some("z")).unwrap();
    t.order_before(WS, "/", "content", None).unwrap();
    // New nodes, including one that joins the same-name siblings in front.
    t.add_node(
        WS,
        site,
        &Node::new("item", "nt:folder").with(string("n", "new")),
        &AddOptions::before("item").with_same_name(SameName::Allow),
    )
    .unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new("fresh", "nt:unstructured").with_child(Node::new("kid", "nt:unstructured")),
        &AddOptions::append(),
    )
    .unwrap();
    // Another workspace and the registries.
    t.add_node(
        "other",
        "/",
        &Node::new("o", "nt:folder"),
        &AddOptions::append(),
    )
    .unwrap();
    t.register_namespace("cq", "http://www.day.com/jcr/cq/1.0")
        .unwrap();
    t.register_node_type("sling:Folder", "[sling:Folder] > nt:folder, nt:base")
        .unwrap();
    t.register_node_type("cq:Page", "[cq:Page]").unwrap();
}

pub(crate) fn undo_restores_exactly_and_can_itself_be_undone<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let before = full_state(&*store);
    let mut t = store.begin_operation(meta("install big")).unwrap();
    big_change(t.as_mut());
    let op = t.commit().unwrap().unwrap();
    let after = full_state(&*store);
    assert_ne!(before, after);

    let report = store.undo(op, false, meta("undo big")).unwrap();
    let restored = full_state(&*store);
    // The other workspace stays (emptied): workspaces are not journaled.
    let other_ws = "== workspace other\n/ rep:root []\n";
    assert_eq!(restored.replace(other_ws, ""), before);
    assert!(report.nodes_removed >= 4, "{report:?}");
    assert_eq!(report.nodes_restored, 2, "{report:?}");
    assert!(report.skipped.is_empty());
    let undo_op = report.recorded_as.unwrap();
    // Uuids point at the right nodes again.
    assert_eq!(
        store
            .find_by_uuid(WS, "aaaaaaaa-0000-4000-8000-000000000001")
            .unwrap()
            .as_deref(),
        Some("/content/site")
    );
    assert_eq!(store.find_by_uuid(WS, "bbbb").unwrap(), None);

    // Undoing the undo gives the changed state back.
    store.undo(undo_op, false, meta("redo big")).unwrap();
    assert_eq!(full_state(&*store), after);

    let history = store.history().unwrap();
    let descriptions: Vec<&str> = history.iter().map(|h| h.description.as_str()).collect();
    assert_eq!(descriptions, ["install big", "undo big", "redo big"]);
    assert_eq!(history[1].undoes, Some(op));
    assert_eq!(history[2].undoes, Some(undo_op));
    assert_eq!(history[0].user, "tester");
    assert_eq!(history[0].time.to_string(), "2024-01-31T12:00:00.000+01:00");
}

pub(crate) fn history_and_operation_details_list_what_was_touched<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let mut m = meta("install pkg");
    m.install_id = Some("i-1".into());
    m.package_id = Some("my:pkg:1.0".into());
    m.options = serde_json::json!({"mode": "replace"});
    let mut t = store.begin_operation(m).unwrap();
    assert!(t.operation_id().is_some());
    t.set_property(WS, "/content/site/z", &string("p", "v"))
        .unwrap();
    t.set_property(WS, "/content/site/z", &string("p", "w"))
        .unwrap();
    t.remove_node(WS, "/content/site/item[3]").unwrap();
    add(t.as_mut(), "/content", "new");
    t.register_namespace("cq", "http://www.day.com/jcr/cq/1.0")
        .unwrap();
    let op = t.commit().unwrap().unwrap();
    // An unrecorded transaction leaves no history.
    let mut t = store.begin("plain").unwrap();
    assert_eq!(t.operation_id(), None);
    add(t.as_mut(), "/", "plain");
    assert_eq!(t.commit().unwrap(), None);

    let h = store.history().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].id, op);
    assert_eq!(h[0].install_id.as_deref(), Some("i-1"));
    assert_eq!(h[0].package_id.as_deref(), Some("my:pkg:1.0"));
    // item[3] and its leaf, and the new node.
    assert_eq!(h[0].nodes_touched, 3);
    // z/p (first touch only), item[3]/n.
    assert_eq!(h[0].properties_touched, 2);
    assert_eq!(h[0].registrations_touched, 1);
    let d = store.operation(op).unwrap();
    assert_eq!(d.options["mode"], "replace");
    let lines: Vec<String> = d
        .touched
        .iter()
        .map(|t| format!("{}:{} {:?} {}", t.workspace, t.path, t.kind, t.existed))
        .collect();
    assert_eq!(
        lines,
        [
            ":cq Namespace false",
            "default:/content/new Node false",
            "default:/content/site/item[3] Node true",
            "default:/content/site/item[3]/leaf Node true",
            "default:/content/site/item[3]/n Property true",
            "default:/content/site/z/p Property false",
        ]
    );
    assert!(d.touched.iter().any(|t| t.kind == TouchKind::Namespace));
    assert!(matches!(
        store.operation(OperationId(99)),
        Err(RepositoryError::OperationNotFound(_))
    ));
    assert!(matches!(
        store.undo(OperationId(99), false, meta("x")),
        Err(RepositoryError::OperationNotFound(_))
    ));
}

pub(crate) fn undo_refuses_when_a_later_operation_touched_the_same_items_unless_forced<
    B: Backend,
>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    let mut t = store.begin_operation(meta("first")).unwrap();
    t.set_property(WS, "/content/site/z", &string("p", "first"))
        .unwrap();
    t.set_property(WS, "/content/other", &string("q", "first"))
        .unwrap();
    let first = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("second")).unwrap();
    t.set_property(WS, "/content/site/z", &string("p", "second"))
        .unwrap();
    t.set_property(WS, "/content/site/y", &string("unrelated", "x"))
        .unwrap();
    let second = t.commit().unwrap().unwrap();

    let e = store.undo(first, false, meta("undo first")).unwrap_err();
    let RepositoryError::UndoConflict {
        operation,
        conflicts,
    } = &e
    else {
        panic!("expected a conflict, got {e}")
    };
    assert_eq!(*operation, first);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].operation, second);
    assert_eq!(conflicts[0].paths, ["default:/content/site/z/p"]);
    let msg = e.to_string();
    assert!(
        msg.contains("operation 2 (second): default:/content/site/z/p") && msg.contains("force"),
        "{msg}"
    );
    // Nothing happened.
    assert_eq!(store.history().unwrap().len(), 2);

    // Forced: the first operation's before-images win.
    let r = store.undo(first, true, meta("force undo first")).unwrap();
    assert_eq!(r.properties_reverted, 2);
    assert_eq!(store.property(WS, "/content/site/z", "p").unwrap(), None);
    assert_eq!(store.property(WS, "/content/other", "q").unwrap(), None);
    assert_eq!(
        store.property(WS, "/content/site/y", "unrelated").unwrap(),
        Some(string("unrelated", "x"))
    );
    // Undo the second too (it conflicts with the forced undo, which touched z/p).
    assert!(matches!(
        store.undo(second, false, meta("undo second")),
        Err(RepositoryError::UndoConflict { .. })
    ));
    store.undo(second, true, meta("undo second")).unwrap();
    // Undoing the second put back what it saw before: first's value.
    assert_eq!(
        store.property(WS, "/content/site/z", "p").unwrap(),
        Some(string("p", "first"))
    );
    let _ = base;
}

pub(crate) fn an_undone_later_operation_does_not_block_undoing_an_earlier_one<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let base = full_state(&*store);
    let mut t = store.begin_operation(meta("install v1")).unwrap();
    add(t.as_mut(), "/content", "app");
    t.set_property(WS, "/content/app", &string("v", "1"))
        .unwrap();
    t.set_property(WS, "/content/site/z", &string("v", "1"))
        .unwrap();
    let v1 = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("install v2")).unwrap();
    t.set_property(WS, "/content/app", &string("v", "2"))
        .unwrap();
    t.set_property(WS, "/content/site/z", &string("v", "2"))
        .unwrap();
    add(t.as_mut(), "/content/app", "more");
    let v2 = t.commit().unwrap().unwrap();
    // v1 cannot be undone while v2 stands ...
    assert!(matches!(
        store.undo(v1, false, meta("undo v1")),
        Err(RepositoryError::UndoConflict { .. })
    ));
    // ... but undoing v2 first, then v1, needs no force.
    store.undo(v2, false, meta("undo v2")).unwrap();
    store.undo(v1, false, meta("undo v1")).unwrap();
    assert_eq!(full_state(&*store), base);
    // Undoing v1 again conflicts with its own undo.
    let e = store.undo(v1, false, meta("again")).unwrap_err();
    assert!(e.to_string().contains("undo v1"), "{e}");
}

pub(crate) fn undo_refuses_to_remove_nodes_with_children_added_later<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let mut t = store.begin_operation(meta("create app")).unwrap();
    add(t.as_mut(), "/content", "app");
    let first = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("add config")).unwrap();
    add(t.as_mut(), "/content/app", "config");
    let second = t.commit().unwrap().unwrap();
    let e = store.undo(first, false, meta("undo")).unwrap_err();
    let RepositoryError::UndoConflict { conflicts, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(conflicts[0].operation, second);
    assert!(store.node(WS, "/content/app/config").unwrap().is_some());
    // The same child added outside any recorded operation is caught too.
    let mut t = store.begin("sneaky").unwrap();
    add(t.as_mut(), "/content/app", "sneaky");
    t.commit().unwrap();
    let mut t = store.begin_operation(meta("undo inside")).unwrap();
    let e = t.undo(first, false).unwrap_err();
    assert!(
        e.to_string().contains("outside recorded operations")
            || e.to_string().contains("add config"),
        "{e}"
    );
    drop(t);
    let r = store.undo(first, true, meta("forced")).unwrap();
    assert_eq!(r.nodes_removed, 3);
    assert!(store.node(WS, "/content/app").unwrap().is_none());
}

pub(crate) fn forced_undo_skips_nodes_whose_parent_is_gone<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let mut t = store.begin_operation(meta("remove z")).unwrap();
    t.remove_node(WS, "/content/site/z").unwrap();
    let first = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("remove site")).unwrap();
    t.remove_node(WS, "/content/site").unwrap();
    t.commit().unwrap().unwrap();
    let e = store.undo(first, false, meta("undo")).unwrap_err();
    assert!(e.to_string().contains("remove site"), "{e}");
    let r = store.undo(first, true, meta("undo forced")).unwrap();
    assert_eq!(r.skipped, ["default:/content/site/z"]);
    assert!(store.node(WS, "/content/site").unwrap().is_none());
}

pub(crate) fn a_failed_undo_inside_a_transaction_changes_nothing<B: Backend>() {
    let (_dir, mut store) = seeded::<B>();
    let mut t = store.begin_operation(meta("move uuid")).unwrap();
    t.remove_property(WS, "/content/site", "jcr:uuid").unwrap();
    let first = t.commit().unwrap().unwrap();
    // An unrecorded change takes the uuid meanwhile.
    let mut t = store.begin("take uuid").unwrap();
    t.set_property(
        WS,
        "/content/other",
        &string("jcr:uuid", "aaaaaaaa-0000-4000-8000-000000000001"),
    )
    .unwrap();
    t.commit().unwrap();
    let state = full_state(&*store);
    let mut t = store.begin_operation(meta("undo")).unwrap();
    let e = t.undo(first, true).unwrap_err();
    assert!(matches!(e, RepositoryError::DuplicateUuid { .. }), "{e}");
    assert_eq!(full_state(t.as_ref()), state);
    t.commit().unwrap();
    assert_eq!(full_state(&*store), state);
}

pub(crate) fn creating_and_deleting_workspaces_is_journaled_and_undone<B: Backend>() {
    let (_d, mut store) = B::repo();
    let empty = full_state(&*store);
    // Create "staging" and fill it, in two operations.
    let mut t = store
        .begin_operation(meta("create workspace staging"))
        .unwrap();
    assert!(t.create_workspace("staging").unwrap());
    let created = t.commit().unwrap().unwrap();
    let d = store.operation(created).unwrap();
    assert_eq!(d.summary.registrations_touched, 1);
    assert!(d
        .touched
        .iter()
        .any(|t| t.kind == TouchKind::Workspace && t.path == "staging" && !t.existed));
    let mut t = store.begin_operation(meta("fill staging")).unwrap();
    t.add_node(
        "staging",
        "/",
        &Node::new("a", "nt:unstructured")
            .with(string("x", "1"))
            .with_child(Node::new("b", "nt:unstructured")),
        &AddOptions::append(),
    )
    .unwrap();
    t.set_mixins("staging", "/", &["rep:AccessControllable".into()])
        .unwrap();
    t.set_property("staging", "/", &string("rootprop", "r"))
        .unwrap();
    t.commit().unwrap();
    let filled = full_state(&*store);

    // The default workspace is never deleted; a full one only with force.
    let mut t = store.begin_operation(meta("delete")).unwrap();
    let e = t.delete_workspace(WS, true).unwrap_err();
    assert!(e.to_string().contains("never deleted"), "{e}");
    let e = t.delete_workspace("staging", false).unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
    assert!(matches!(
        t.delete_workspace("nope", true),
        Err(RepositoryError::WorkspaceNotFound { .. })
    ));
    assert_eq!(t.delete_workspace("staging", true).unwrap(), 3 + 5); // 5: Oak's initial content
    let deleted = t.commit().unwrap().unwrap();
    assert_eq!(store.workspaces().unwrap(), vec![WS.to_string()]);
    // The deletion lists what it removed, under the workspace's name.
    let d = store.operation(deleted).unwrap();
    assert!(d
        .touched
        .iter()
        .any(|t| t.workspace == "staging" && t.path == "/a/b" && t.existed));

    // Undoing the deletion brings the workspace back whole, root mixins and
    // properties included; undoing that undo deletes it again.
    let mut t = store.begin_operation(meta("undo delete")).unwrap();
    t.undo(deleted, false).unwrap();
    let redo = t.commit().unwrap().unwrap();
    assert_eq!(full_state(&*store), filled);
    store.undo(redo, false, meta("redo delete")).unwrap();
    assert_eq!(store.workspaces().unwrap(), vec![WS.to_string()]);
    // The undo and its undo cancel out: the deletion can be undone again.
    store.undo(deleted, false, meta("again")).unwrap();
    assert_eq!(full_state(&*store), filled);

    // Undoing the creation while the workspace holds others' nodes is a conflict
    // naming them.
    let (_d, mut store) = B::repo();
    let mut t = store.begin_operation(meta("create")).unwrap();
    t.create_workspace("staging").unwrap();
    let created = t.commit().unwrap().unwrap();
    let mut t = store.begin_operation(meta("fill")).unwrap();
    t.add_node(
        "staging",
        "/",
        &Node::new("a", "nt:unstructured"),
        &AddOptions::append(),
    )
    .unwrap();
    let fill = t.commit().unwrap().unwrap();
    let e = store.undo(created, false, meta("undo create")).unwrap_err();
    match e {
        RepositoryError::UndoConflict { conflicts, .. } => {
            assert_eq!(conflicts[0].operation, fill);
            assert_eq!(conflicts[0].paths, ["staging:/a"]);
        }
        other => panic!("{other}"),
    }
    store.undo(fill, false, meta("undo fill")).unwrap();
    store.undo(created, false, meta("undo create")).unwrap();
    assert_eq!(full_state(&*store), empty);
}
