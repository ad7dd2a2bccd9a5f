//! The restore engine against two SQLite repositories: a "backup" and a
//! repository that moved on since.

use super::*;
use crate::events::NoEvents;
use crate::node::Node;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{AddOptions, Store, StoreRead, Transaction};
use crate::value::{Binary, Property, PropertyType, Value};

const WS: &str = "default";
const UUID_SITE: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const UUID_A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";

fn actor() -> crate::events::Actor {
    crate::test_support::actor("2026-12-04T17:05:12.000Z")
}

use crate::test_support::temp_repo as repo;

fn s(name: &str, v: &str) -> Property {
    Property::string(name, v)
}

/// The content both sides start from: a site with pages of every kind.
fn seed(store: &mut SqliteStore) {
    let mut t = store.begin("seed").unwrap();
    let content = Node::new("content", "sling:Folder")
        .with_child(
            Node::new("site", "cq:Page")
                .with(s("jcr:uuid", UUID_SITE))
                .with_child(
                    Node::new("jcr:content", "cq:PageContent")
                        .with(s("jcr:title", "Site"))
                        .with(Property::multi(
                            "cq:tags",
                            PropertyType::String,
                            vec![Value::String("a".into()), Value::String("b".into())],
                        ))
                        .with(Property::single(
                            "image",
                            Value::Binary(Binary::inline(b"\x89PNG backup".to_vec())),
                        ))
                        .with(Property::single("count", Value::Long(3))),
                )
                .with_child(
                    Node::new("a", "cq:Page")
                        .with(s("jcr:uuid", UUID_A))
                        .with_child(
                            Node::new("jcr:content", "cq:PageContent").with(s("jcr:title", "A")),
                        ),
                )
                .with_child(Node::new("item", "nt:unstructured").with(s("n", "1")))
                .with_child(Node::new("item", "nt:unstructured").with(s("n", "2")))
                .with_child(Node::new("z", "nt:unstructured"))
                .with_child(Node::new("y", "nt:unstructured")),
        )
        .with_child(Node::new("other", "nt:unstructured").with(s("keep", "backup")));
    t.add_node(WS, "/", &content, &AddOptions::append())
        .unwrap();
    t.set_mixins(WS, "/content/site", &["mix:referenceable".into()])
        .unwrap();
    t.register_namespace("sling", "http://sling.apache.org/jcr/sling/1.0")
        .unwrap();
    t.register_namespace("cq", "http://www.day.com/jcr/cq/1.0")
        .unwrap();
    t.register_node_type(
        "sling:Folder",
        "<sling = 'http://sling.apache.org/jcr/sling/1.0'>\n[sling:Folder] > nt:folder",
    )
    .unwrap();
    t.commit().unwrap();
}

/// A backup and a repository that started equal.
fn pair() -> (
    tempfile::TempDir,
    SqliteStore,
    tempfile::TempDir,
    SqliteStore,
) {
    let (d1, mut backup) = repo();
    let (d2, mut now) = repo();
    seed(&mut backup);
    seed(&mut now);
    (d1, backup, d2, now)
}

/// Every node below `root` as one line: path, types, properties.
fn tree(store: &dyn StoreRead, ws: &str, root: &str) -> Vec<String> {
    if store.node(ws, root).unwrap().is_none() {
        return Vec::new();
    }
    store
        .walk(ws, root)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let props: Vec<String> = e
                .node
                .properties
                .values()
                .map(|p| format!("{}:{:?}={:?}", p.name, p.ptype, p.values))
                .collect();
            format!(
                "{} {} {:?} {}",
                e.path,
                e.node.primary_type,
                e.node.mixins,
                props.join(" ")
            )
        })
        .collect()
}

fn edit(store: &mut SqliteStore, f: impl FnOnce(&mut dyn Transaction)) {
    let mut t = store
        .begin_operation(OperationMeta::new("edit", &actor()))
        .unwrap();
    f(t.as_mut());
    t.commit().unwrap();
}

fn scope(roots: &[&str]) -> Scope {
    Scope {
        workspaces: Vec::new(),
        roots: roots.iter().map(|r| r.to_string()).collect(),
    }
}

fn restore_now(backup: &SqliteStore, now: &mut SqliteStore, sc: &Scope) -> Summary {
    // A backup: its system roots come back with a whole workspace.
    let plan = Plan::new(backup, now, sc).unwrap().from_verified_backup();
    let (summary, id) = restore(
        backup,
        now,
        &plan,
        OperationMeta::new(description("20261204T170512Z", sc), &actor()),
        &NoEvents,
    )
    .unwrap();
    assert!(id.is_some());
    summary
}

fn changes(backup: &SqliteStore, now: &SqliteStore, sc: &Scope) -> (Vec<Change>, Summary) {
    let plan = Plan::new(backup, now, sc).unwrap().from_verified_backup();
    let mut out = Vec::new();
    let summary = compare(
        backup,
        now,
        &plan,
        &mut |c| {
            out.push(c.clone());
            Ok(())
        },
        &NoEvents,
    )
    .unwrap();
    (out, summary)
}

/// The editor's edits: a page deleted, a title changed, a page added, a sibling
/// moved, and an edit outside the restored subtree.
fn editors_day(now: &mut SqliteStore) {
    edit(now, |t| {
        t.remove_node(WS, "/content/site/a").unwrap();
        t.set_property(WS, "/content/site/jcr:content", &s("jcr:title", "Edited"))
            .unwrap();
        t.remove_property(WS, "/content/site/jcr:content", "count")
            .unwrap();
        t.add_node(
            WS,
            "/content/site",
            &Node::new("new", "cq:Page"),
            &AddOptions::append(),
        )
        .unwrap();
        t.order_before(WS, "/content/site", "y", Some("z")).unwrap();
        t.set_property(WS, "/content/other", &s("keep", "edited"))
            .unwrap();
    });
}

#[test]
fn a_subtree_restore_brings_the_subtree_back_and_keeps_every_other_edit() {
    let (_d1, backup, _d2, mut now) = pair();
    editors_day(&mut now);
    let before = tree(&now, WS, "/");
    let summary = restore_now(&backup, &mut now, &scope(&["/content/site"]));
    assert_eq!(
        tree(&now, WS, "/content/site"),
        tree(&backup, WS, "/content/site")
    );
    assert_eq!(
        now.property(WS, "/content/other", "keep").unwrap(),
        Some(s("keep", "edited"))
    );
    let ws = &summary.workspaces[0];
    assert_eq!(ws.nodes_added, 2, "{summary:?}"); // a and a/jcr:content
    assert_eq!(ws.nodes_deleted, 1, "{summary:?}"); // new
                                                    // Recorded and undoable.
    let last = now.history().unwrap().pop().unwrap();
    assert_eq!(last.description, "restore 20261204T170512Z /content/site");
    now.undo(last.id, false, OperationMeta::new("undo", &actor()))
        .unwrap();
    assert_eq!(tree(&now, WS, "/"), before);
}

#[test]
fn compare_lists_what_would_change_and_writes_nothing() {
    let (_d1, backup, _d2, mut now) = pair();
    editors_day(&mut now);
    let before = tree(&now, WS, "/");
    let (list, summary) = changes(&backup, &now, &scope(&["/content/site"]));
    assert_eq!(tree(&now, WS, "/"), before);
    let find = |p: &str| {
        list.iter()
            .find(|c| c.path == p)
            .unwrap_or_else(|| panic!("{p}: {list:#?}"))
    };
    assert_eq!(find("/content/site/a").change, ChangeKind::Added);
    assert_eq!(
        find("/content/site/a/jcr:content").change,
        ChangeKind::Added
    );
    assert_eq!(find("/content/site/new").change, ChangeKind::Deleted);
    let jc = find("/content/site/jcr:content");
    assert_eq!(jc.change, ChangeKind::Changed);
    let names: Vec<(&str, Option<&str>, Option<&str>)> = jc
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.before.as_deref(), p.after.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("count", None, Some("3")),
            ("jcr:title", Some("Edited"), Some("Site"))
        ]
    );
    let site = find("/content/site");
    let (order_now, order_backup) = site.order.clone().unwrap();
    assert_eq!(order_now, ["jcr:content", "item", "item[2]", "y", "z", "a"]);
    assert_eq!(
        order_backup,
        ["jcr:content", "a", "item", "item[2]", "z", "y"]
    );
    assert!(list.iter().all(|c| !c.path.starts_with("/content/other")));
    // The summary counts what the list holds, and the apply agrees.
    let ws = &summary.workspaces[0];
    assert_eq!(
        (ws.nodes_added, ws.nodes_deleted, ws.nodes_changed),
        (2, 1, 2)
    );
    // count; a's jcr:uuid; a/jcr:content's jcr:title.
    assert_eq!((ws.properties_changed, ws.properties_added), (1, 3));
    let counted = summarize(
        &backup,
        &now,
        &Plan::new(&backup, &now, &scope(&["/content/site"])).unwrap(),
        &NoEvents,
    )
    .unwrap();
    assert_eq!(counted, summary);
    let applied = restore_now(&backup, &mut now, &scope(&["/content/site"]));
    assert_eq!(applied.workspaces, summary.workspaces);
    // Nothing differs any more.
    let (list, summary) = changes(&backup, &now, &scope(&["/content/site"]));
    assert!(list.is_empty() && summary.is_empty(), "{list:#?}");
}

#[test]
fn a_restore_keeps_identifiers_types_and_sibling_order() {
    let (_d1, backup, _d2, mut now) = pair();
    edit(&mut now, |t| {
        t.remove_node(WS, "/content/site/z").unwrap();
        t.remove_node(WS, "/content/site/a").unwrap();
        t.set_mixins(WS, "/content/site", &[]).unwrap();
        t.set_primary_type(WS, "/content/site/y", "nt:folder")
            .unwrap();
        t.remove_node(WS, "/content/site/item").unwrap(); // item[2] becomes item
    });
    restore_now(
        &backup,
        &mut now,
        &scope(&["/content/site/a", "/content/site/z"]),
    );
    // a and z are back where they were, relative to the siblings that exist now.
    let order: Vec<String> = now
        .children(WS, "/content/site")
        .unwrap()
        .iter()
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(
        order,
        [
            "/content/site/jcr:content",
            "/content/site/a",
            "/content/site/item",
            "/content/site/z",
            "/content/site/y"
        ]
    );
    assert_eq!(
        now.find_by_uuid(WS, UUID_A).unwrap().as_deref(),
        Some("/content/site/a")
    );
    // Outside the roots, the edits stay.
    assert_eq!(
        now.node(WS, "/content/site").unwrap().unwrap().mixins,
        Vec::<String>::new()
    );
    // The whole site: types, mixins and same-name siblings as in the backup.
    restore_now(&backup, &mut now, &scope(&["/content/site"]));
    assert_eq!(
        tree(&now, WS, "/content/site"),
        tree(&backup, WS, "/content/site")
    );
    assert_eq!(
        now.find_by_uuid(WS, UUID_SITE).unwrap().as_deref(),
        Some("/content/site")
    );
}

#[test]
fn an_identifier_that_moved_inside_the_roots_follows_the_backup() {
    let (_d1, backup, _d2, mut now) = pair();
    edit(&mut now, |t| {
        // a's identifier now belongs to a node elsewhere in the site.
        t.remove_node(WS, "/content/site/a").unwrap();
        t.set_property(WS, "/content/site/y", &s("jcr:uuid", UUID_A))
            .unwrap();
    });
    restore_now(&backup, &mut now, &scope(&["/content/site"]));
    assert_eq!(
        tree(&now, WS, "/content/site"),
        tree(&backup, WS, "/content/site")
    );
}

#[test]
fn an_identifier_held_outside_the_roots_is_a_conflict_and_nothing_is_written() {
    let (_d1, backup, _d2, mut now) = pair();
    edit(&mut now, |t| {
        t.remove_node(WS, "/content/site/a").unwrap();
        t.set_property(WS, "/content/other", &s("jcr:uuid", UUID_A))
            .unwrap();
    });
    let before = tree(&now, WS, "/");
    let sc = scope(&["/content/site"]);
    let plan = Plan::new(&backup, &now, &sc).unwrap();
    let err = compare(&backup, &now, &plan, &mut |_| Ok(()), &NoEvents).unwrap_err();
    assert!(
        matches!(err, RestoreError::IdentifierConflict { ref existing, .. } if existing == "/content/other"),
        "{err}"
    );
    let err = restore(
        &backup,
        &mut now,
        &plan,
        OperationMeta::new("r", &actor()),
        &NoEvents,
    )
    .unwrap_err();
    assert!(err.to_string().contains("/content/other"), "{err}");
    assert_eq!(tree(&now, WS, "/"), before);
}

#[test]
fn a_root_not_in_the_backup_is_deleted_and_one_in_neither_is_an_error() {
    let (_d1, backup, _d2, mut now) = pair();
    edit(&mut now, |t| {
        t.add_node(
            WS,
            "/content",
            &Node::new("later", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
    });
    let (list, _) = changes(&backup, &now, &scope(&["/content/later"]));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].change, ChangeKind::Deleted);
    restore_now(&backup, &mut now, &scope(&["/content/later"]));
    assert!(now.node(WS, "/content/later").unwrap().is_none());
    let err = Plan::new(&backup, &now, &scope(&["/content/nowhere"])).unwrap_err();
    assert!(matches!(err, RestoreError::UnknownRoot { .. }), "{err}");
    let err = Plan::new(&backup, &now, &scope(&["content"])).unwrap_err();
    assert!(matches!(err, RestoreError::InvalidRoot(..)), "{err}");
}

#[test]
fn a_root_whose_ancestors_are_gone_comes_back_with_them() {
    let (_d1, backup, _d2, mut now) = pair();
    edit(&mut now, |t| {
        t.remove_node(WS, "/content").unwrap();
        t.add_node(
            WS,
            "/",
            &Node::new("apps", "nt:folder"),
            &AddOptions::append(),
        )
        .unwrap();
    });
    restore_now(&backup, &mut now, &scope(&["/content/site/a"]));
    assert_eq!(
        tree(&now, WS, "/content/site/a"),
        tree(&backup, WS, "/content/site/a")
    );
    // The ancestors are as in the backup, without their other children.
    let site = now.node(WS, "/content/site").unwrap().unwrap();
    assert_eq!(site.primary_type, "cq:Page");
    assert_eq!(site.uuid.as_deref(), Some(UUID_SITE));
    assert_eq!(now.children(WS, "/content/site").unwrap().len(), 1);
    assert!(now.node(WS, "/content/other").unwrap().is_none());
    // /content takes its place before apps? No: apps is not in the backup, so it
    // stays where it is and /content comes after it.
    let top: Vec<String> = now
        .children(WS, "/")
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert_eq!(top, ["/jcr:system", "/apps", "/content"]);
}

#[test]
fn a_whole_restore_covers_every_workspace_and_creates_missing_ones() {
    let (_d1, mut backup, _d2, mut now) = pair();
    edit(&mut backup, |t| {
        t.add_node(
            "config",
            "/",
            &Node::new("modules", "nt:unstructured").with(s("x", "1")),
            &AddOptions::append(),
        )
        .unwrap();
    });
    editors_day(&mut now);
    edit(&mut now, |t| {
        t.add_node(
            "scratch",
            "/",
            &Node::new("tmp", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
    });
    let (_, summary) = changes(&backup, &now, &scope(&[]));
    let names: Vec<(&str, bool)> = summary
        .workspaces
        .iter()
        .map(|w| (w.workspace.as_str(), w.created))
        .collect();
    assert_eq!(
        names,
        [("config", true), ("default", false), ("scratch", false)]
    );
    restore_now(&backup, &mut now, &scope(&[]));
    for ws in ["default", "config"] {
        assert_eq!(tree(&now, ws, "/"), tree(&backup, ws, "/"), "{ws}");
    }
    // A workspace the backup does not have is emptied by a whole restore...
    assert_eq!(now.children("scratch", "/").unwrap().len(), 0);
    // ...and left alone by a subtree restore.
    edit(&mut now, |t| {
        t.add_node(
            "scratch",
            "/",
            &Node::new("content", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
    });
    let plan = Plan::new(&backup, &now, &scope(&["/content"])).unwrap();
    assert!(
        plan.workspaces.iter().all(|w| w.name != "scratch"),
        "{plan:?}"
    );
    // Per workspace: only config.
    let (_d3, mut other) = repo();
    seed(&mut other);
    let sc = Scope {
        workspaces: vec!["config".into()],
        roots: Vec::new(),
    };
    restore_now(&backup, &mut other, &sc);
    assert_eq!(tree(&other, "config", "/"), tree(&backup, "config", "/"));
    let err = Plan::new(
        &backup,
        &other,
        &Scope {
            workspaces: vec!["nope".into()],
            roots: Vec::new(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, RestoreError::UnknownWorkspace(..)), "{err}");
}

#[test]
fn a_restore_into_an_empty_repository_copies_blobs_and_registrations() {
    let (_d1, mut backup) = repo();
    seed(&mut backup);
    let (_d2, mut empty) = repo();
    let summary = restore_now(&backup, &mut empty, &scope(&[]));
    assert_eq!(tree(&empty, WS, "/"), tree(&backup, WS, "/"));
    assert_eq!(summary.blobs_copied, 1);
    assert!(
        summary
            .namespaces_registered
            .iter()
            .any(|n| n.starts_with("sling=")),
        "{summary:?}"
    );
    assert!(
        summary
            .namespaces_registered
            .iter()
            .any(|n| n.starts_with("cq=")),
        "{summary:?}"
    );
    assert_eq!(summary.node_types_registered, ["sling:Folder"]);
    assert!(empty.node_type("sling:Folder").unwrap().is_some());
    // A second restore finds nothing to do.
    let (list, again) = changes(&backup, &empty, &scope(&[]));
    assert!(list.is_empty() && again.is_empty(), "{list:#?} {again:?}");
}

#[test]
fn a_damaged_blob_in_the_backup_stops_the_restore() {
    let (d1, mut backup) = repo();
    seed(&mut backup);
    // Damage every blob of the backup.
    for e in walkdir::WalkDir::new(d1.path().join("repo/blobs")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let mut bytes = std::fs::read(e.path()).unwrap();
            bytes[0] ^= 0xff;
            std::fs::write(e.path(), bytes).unwrap();
        }
    }
    let (_d2, mut empty) = repo();
    let plan = Plan::new(&backup, &empty, &scope(&[])).unwrap();
    let err = restore(
        &backup,
        &mut empty,
        &plan,
        OperationMeta::new("r", &actor()),
        &NoEvents,
    )
    .unwrap_err();
    assert!(matches!(err, RestoreError::DamagedBlob { .. }), "{err}");
    assert!(empty.node(WS, "/content").unwrap().is_none());
    assert!(empty.history().unwrap().is_empty());
}

#[test]
fn preview_keeps_the_first_changes_and_counts_them_all() {
    let (_d1, backup, _d2, mut now) = pair();
    editors_day(&mut now);
    let sc = scope(&["/content/site"]);
    let (all, summary) = changes(&backup, &now, &sc);
    assert!(all.len() > 2, "{all:?}");
    let plan = Plan::new(&backup, &now, &sc).unwrap();
    let p = preview(&backup, &now, &plan, 2, &NoEvents).unwrap();
    assert_eq!(p.changes, all[..2].to_vec());
    assert!(p.truncated);
    assert_eq!(p.summary, summary);
    let p = preview(&backup, &now, &plan, all.len(), &NoEvents).unwrap();
    assert_eq!(p.changes, all);
    assert!(!p.truncated);
}

#[test]
fn a_source_that_is_no_verified_backup_leaves_the_system_roots_alone() {
    let (_d1, mut backup, _d2, mut now) = pair();
    edit(&mut backup, |t| {
        t.add_node(
            WS,
            "/jcr:system",
            &Node::new("planted", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
    });
    let system = tree(&now, WS, "/jcr:system");
    // Another repository's folder, say: the whole tree leaves /jcr:system as it is.
    let plan = Plan::new(&backup, &now, &scope(&[])).unwrap();
    assert!(!plan.verified_backup);
    let meta = || OperationMeta::new("restore folder", &actor());
    restore(&backup, &mut now, &plan, meta(), &NoEvents).unwrap();
    assert_eq!(tree(&now, WS, "/jcr:system"), system);
    // A root below it is refused.
    let plan = Plan::new(&backup, &now, &scope(&["/jcr:system/planted"])).unwrap();
    let err = restore(&backup, &mut now, &plan, meta(), &NoEvents).unwrap_err();
    assert!(
        matches!(
            err,
            RestoreError::SystemRoot {
                system: "/jcr:system",
                ..
            }
        ),
        "{err}"
    );
    // From a verified backup, the whole workspace brings it back.
    restore_now(&backup, &mut now, &scope(&[]));
    assert_eq!(
        tree(&now, WS, "/jcr:system"),
        tree(&backup, WS, "/jcr:system")
    );
}
