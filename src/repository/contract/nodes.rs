//! Content: opening, properties of every type, same-name siblings, ordering,
//! uuids, walks, workspaces, registries.

use super::Backend;
use super::*;
use crate::repository::{RepositoryError, SameName};
use crate::value::PropertyType;
use std::io::Read;

/// One value of every type, with the binary stored inline (it becomes a blob).
fn every_type() -> Vec<Value> {
    vec![
        Value::String("text with \"quotes\" and\nnewline".into()),
        Value::Binary(Binary::inline(b"binary \x00\xff bytes".to_vec())),
        Value::Long(i64::MIN),
        Value::Double(-1.5e-300),
        Value::Decimal("-123456789012345678901234567890.000001".into()),
        Value::Date(Date::parse("1999-12-31T23:59:59.999-05:30").unwrap()),
        Value::Boolean(false),
        Value::Name("sling:Folder".into()),
        Value::Path("/content/x[2]/jcr:content".into()),
        Value::Reference("7f1b1f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b".into()),
        Value::WeakReference("00000000-0000-0000-0000-000000000000".into()),
        Value::Uri("urn:x:y?z#w".into()),
    ]
}

/// What a value reads back as: inline binaries come back as blobs.
fn stored(s: &dyn StoreRead, v: &Value) -> Value {
    match v {
        Value::Binary(Binary::Inline(b)) => {
            let mut r: &[u8] = b;
            Value::Binary(s.put_blob(&mut r).unwrap())
        }
        other => other.clone(),
    }
}

pub(crate) fn properties_of_every_type_round_trip<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("props").unwrap();
    add(t.as_mut(), "/", "n");
    for (i, v) in every_type().into_iter().enumerate() {
        let single = Property::single(format!("s{i:02}"), v.clone());
        let multi = Property::multi(format!("m{i:02}"), v.ptype(), vec![v.clone(), v.clone()]);
        let empty = Property::multi(format!("e{i:02}"), v.ptype(), vec![]);
        for p in [&single, &multi, &empty] {
            t.set_property(WS, "/n", p).unwrap();
        }
    }
    t.commit().unwrap();

    for (i, v) in every_type().into_iter().enumerate() {
        let want = stored(&*store, &v);
        let single = store
            .property(WS, "/n", &format!("s{i:02}"))
            .unwrap()
            .unwrap();
        assert_eq!(single, Property::single(format!("s{i:02}"), want.clone()));
        let multi = store
            .property(WS, "/n", &format!("m{i:02}"))
            .unwrap()
            .unwrap();
        assert_eq!(multi.values, vec![want.clone(), want.clone()]);
        assert!(multi.multiple);
        let empty = store
            .property(WS, "/n", &format!("e{i:02}"))
            .unwrap()
            .unwrap();
        assert!(empty.multiple && empty.values.is_empty());
        assert_eq!(empty.ptype, v.ptype());
    }
    // Sorted by name, all 36 of them.
    let names: Vec<String> = store
        .properties(WS, "/n")
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 36);

    // The binary's bytes are in the blob store.
    let Some(Value::Binary(Binary::Blob { sha256, size })) = store
        .property(WS, "/n", "s01")
        .unwrap()
        .and_then(|p| p.values.into_iter().next())
    else {
        panic!("s01 should be a blob")
    };
    assert_eq!(size, 15);
    let mut bytes = Vec::new();
    store
        .open_blob(&sha256)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes, b"binary \x00\xff bytes");

    // Replace and remove.
    let mut t = store.begin("edit").unwrap();
    t.set_property(WS, "/n", &string("s00", "new")).unwrap();
    assert!(t.remove_property(WS, "/n", "s02").unwrap());
    assert!(!t.remove_property(WS, "/n", "s02").unwrap());
    t.commit().unwrap();
    assert_eq!(
        store.property(WS, "/n", "s00").unwrap(),
        Some(string("s00", "new"))
    );
    assert_eq!(store.property(WS, "/n", "s02").unwrap(), None);
    assert!(matches!(
        store.property(WS, "/missing", "x"),
        Err(RepositoryError::NodeNotFound { .. })
    ));
}

/// What an install compares a node with: the properties read against the ones it
/// has resolve to what [`StoreRead::properties`] reads, whichever a backend answers
/// by index.
pub(crate) fn properties_read_against_known_ones_resolve_to_the_stored<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("against").unwrap();
    add(t.as_mut(), "/", "n");
    for (i, v) in every_type().into_iter().enumerate() {
        t.set_property(WS, "/n", &Property::single(format!("s{i:02}"), v.clone()))
            .unwrap();
        let multi = Property::multi(format!("m{i:02}"), v.ptype(), vec![v.clone(), v]);
        t.set_property(WS, "/n", &multi).unwrap();
    }
    let letters = |l: &[&str]| l.iter().map(|s| Value::String(s.to_string())).collect();
    let mv = Property::multi("mv", PropertyType::String, letters(&["a", "b", "c"]));
    t.set_property(WS, "/n", &mv).unwrap();
    t.set_property(WS, "/n", &Property::single("long", Value::Long(7)))
        .unwrap();
    let check = |r: &dyn StoreRead| {
        let all = r.properties(WS, "/n").unwrap();
        // Equal ones, changed ones (a multi-value with one value changed, a value
        // of another type with the same text, another value), one stored property
        // missing and one not stored.
        let mut known: Vec<Property> = Vec::new();
        for (i, p) in all.iter().enumerate() {
            match (p.name.as_str(), i % 3) {
                ("mv", _) => known.push(Property::multi(
                    "mv",
                    PropertyType::String,
                    letters(&["a", "b", "d"]),
                )),
                ("long", _) => known.push(Property::string("long", "7")),
                (_, 0) => known.push(p.clone()),
                (_, 1) => known.push(Property::string(p.name.clone(), "other")),
                _ => {}
            }
        }
        known.push(Property::string("absent", "x"));
        known.reverse();
        let got = r.properties_against(WS, "/n", &known).unwrap();
        let resolved: Vec<&Property> = got.iter().map(|g| g.resolve(&known)).collect();
        assert_eq!(resolved, all.iter().collect::<Vec<_>>());
        for g in &got {
            if let crate::repository::content::StoredProperty::Known(i) = g {
                assert!(all.contains(&known[*i]), "{:?}", known[*i]);
            }
        }
        assert!(r.properties_against(WS, "/x", &known).is_err());
    };
    check(&*t);
    t.commit().unwrap();
    check(&*store);
}

pub(crate) fn streamed_blobs_are_deduplicated_and_bad_properties_are_refused<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let a = store.put_blob(&mut &data[..]).unwrap();
    let b = store.put_blob(&mut &data[..]).unwrap();
    assert_eq!(a, b);
    let mut back = Vec::new();
    let Binary::Blob { sha256, size } = &a else {
        panic!("put_blob returns a blob, not {a:?}")
    };
    store
        .open_blob(sha256)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!((back == data, *size), (true, 1_000_000));

    let mut t = store.begin("bad").unwrap();
    add(t.as_mut(), "/", "n");
    t.set_property(
        WS,
        "/n",
        &Property::single("data", Value::Binary(a.clone())),
    )
    .unwrap();
    let invalid = |t: &mut Box<dyn Transaction + '_>, p: Property| {
        let e = t.set_property(WS, "/n", &p).unwrap_err();
        assert!(
            matches!(
                e,
                RepositoryError::InvalidProperty { .. } | RepositoryError::BlobNotFound { .. }
            ),
            "{p:?}: {e}"
        );
        e
    };
    invalid(
        &mut t,
        Property::single(
            "b",
            Value::Binary(Binary::Blob {
                sha256: "0".repeat(64),
                size: 1,
            }),
        ),
    );
    let e = invalid(
        &mut t,
        Property::single(
            "b",
            Value::Binary(Binary::Entry {
                entry: "jcr_root/x.bin".into(),
                size: 3,
            }),
        ),
    );
    assert!(e.to_string().contains("put_blob"), "{e}");
    invalid(
        &mut t,
        Property::single("b", Value::Binary(Binary::Placeholder)),
    );
    invalid(
        &mut t,
        Property {
            name: "two".into(),
            ptype: PropertyType::Long,
            multiple: false,
            values: vec![Value::Long(1), Value::Long(2)],
        },
    );
    invalid(
        &mut t,
        Property::multi("mixed", PropertyType::Long, vec![Value::String("x".into())]),
    );
    invalid(
        &mut t,
        Property {
            name: "undef".into(),
            ptype: PropertyType::Undefined,
            multiple: true,
            values: vec![],
        },
    );
    let e = invalid(
        &mut t,
        Property::single("jcr:primaryType", Value::Name("x".into())),
    );
    assert!(e.to_string().contains("set_primary_type"), "{e}");
    invalid(&mut t, Property::single("jcr:uuid", Value::Long(1)));
    invalid(&mut t, string("bad/name", "x"));
    t.commit().unwrap();
    // Nothing of the refused calls was written.
    let names: Vec<String> = store
        .properties(WS, "/n")
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["data"]);
}

pub(crate) fn same_name_siblings_are_indexed_and_shift_when_an_earlier_one_goes<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("sns").unwrap();
    add(t.as_mut(), "/", "a");
    assert_eq!(add(t.as_mut(), "/a", "item"), "/a/item");
    assert_eq!(add(t.as_mut(), "/a", "other"), "/a/other");
    assert_eq!(add(t.as_mut(), "/a", "item"), "/a/item[2]");
    assert_eq!(add(t.as_mut(), "/a", "item"), "/a/item[3]");
    add(t.as_mut(), "/a/item[2]", "child");
    add(t.as_mut(), "/a/item[3]", "child");
    t.set_property(WS, "/a/item[2]", &string("mark", "second"))
        .unwrap();
    t.set_property(WS, "/a/item[3]/child", &string("mark", "third-child"))
        .unwrap();
    // Without permission a second "other" is refused.
    let e = t
        .add_node(
            WS,
            "/a",
            &Node::new("other", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap_err();
    assert!(matches!(e, RepositoryError::ItemExists { .. }), "{e}");
    t.commit().unwrap();
    assert_eq!(
        child_paths(&*store, "/a"),
        ["/a/item", "/a/other", "/a/item[2]", "/a/item[3]"]
    );
    let info = store.node(WS, "/a/item[3]").unwrap().unwrap();
    assert_eq!((info.name.as_str(), info.index), ("item", 3));
    // `[1]` is the same as no index.
    assert_eq!(
        store.node(WS, "/a/item[1]").unwrap().unwrap().path,
        "/a/item"
    );

    let mut t = store.begin("remove first").unwrap();
    assert_eq!(t.remove_node(WS, "/a/item").unwrap(), 1);
    t.commit().unwrap();
    assert_eq!(
        child_paths(&*store, "/a"),
        ["/a/other", "/a/item", "/a/item[2]"]
    );
    assert_eq!(
        store.property(WS, "/a/item", "mark").unwrap(),
        Some(string("mark", "second"))
    );
    assert_eq!(
        store.property(WS, "/a/item[2]/child", "mark").unwrap(),
        Some(string("mark", "third-child"))
    );
    assert!(store.node(WS, "/a/item[3]").unwrap().is_none());
    assert!(store.node(WS, "/a/item[3]/child").unwrap().is_none());

    // Inserting before an existing sibling of the same name renumbers.
    let mut t = store.begin("insert before").unwrap();
    let p = t
        .add_node(
            WS,
            "/a",
            &Node::new("item", "nt:folder"),
            &AddOptions::before("item").with_same_name(SameName::Allow),
        )
        .unwrap();
    assert_eq!(p, "/a/item");
    t.commit().unwrap();
    assert_eq!(
        child_paths(&*store, "/a"),
        ["/a/other", "/a/item", "/a/item[2]", "/a/item[3]"]
    );
    assert_eq!(
        store.node(WS, "/a/item").unwrap().unwrap().primary_type,
        "nt:folder"
    );
    assert_eq!(
        store.property(WS, "/a/item[2]", "mark").unwrap(),
        Some(string("mark", "second"))
    );
    assert!(store.node(WS, "/a/item[3]/child").unwrap().is_some());

    // Reordering same-name siblings swaps their indexes, subtrees included.
    let mut t = store.begin("reorder").unwrap();
    let p = t.order_before(WS, "/a", "item[3]", Some("item")).unwrap();
    assert_eq!(p, "/a/item");
    t.commit().unwrap();
    assert_eq!(
        store.property(WS, "/a/item/child", "mark").unwrap(),
        Some(string("mark", "third-child"))
    );
    assert_eq!(
        store.node(WS, "/a/item[2]").unwrap().unwrap().primary_type,
        "nt:folder"
    );
    assert_eq!(
        store.property(WS, "/a/item[3]", "mark").unwrap(),
        Some(string("mark", "second"))
    );
}

pub(crate) fn children_keep_their_order_through_inserts_and_reorders<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("order").unwrap();
    add(t.as_mut(), "/", "p");
    for n in ["a", "b", "c"] {
        add(t.as_mut(), "/p", n);
    }
    t.order_before(WS, "/p", "c", Some("a")).unwrap();
    assert_eq!(child_paths(t.as_ref(), "/p"), ["/p/c", "/p/a", "/p/b"]);
    t.order_before(WS, "/p", "c", None).unwrap();
    assert_eq!(child_paths(t.as_ref(), "/p"), ["/p/a", "/p/b", "/p/c"]);
    // No-ops: already in place.
    t.order_before(WS, "/p", "a", Some("b")).unwrap();
    t.order_before(WS, "/p", "c", None).unwrap();
    t.order_before(WS, "/p", "b", Some("b")).unwrap();
    assert_eq!(child_paths(t.as_ref(), "/p"), ["/p/a", "/p/b", "/p/c"]);
    // Many inserts into one gap force a renumbering; order must survive it.
    let mut want = vec!["/p/a".to_string()];
    for i in 0..70 {
        let name = format!("x{i}");
        t.add_node(
            WS,
            "/p",
            &Node::new(&name, "nt:unstructured"),
            &AddOptions::before("b"),
        )
        .unwrap();
        want.push(format!("/p/{name}"));
    }
    want.push("/p/b".into());
    want.push("/p/c".into());
    assert_eq!(child_paths(t.as_ref(), "/p"), want);
    // The same at the front.
    for i in 0..40 {
        t.order_before(WS, "/p", &format!("x{i}"), Some("a"))
            .unwrap();
    }
    let got = child_paths(t.as_ref(), "/p");
    let mut want2: Vec<String> = (0..40).map(|i| format!("/p/x{i}")).collect();
    want2.push("/p/a".into());
    want2.extend((40..70).map(|i| format!("/p/x{i}")));
    want2.push("/p/b".into());
    want2.push("/p/c".into());
    assert_eq!(got, want2);
    let e = t.order_before(WS, "/p", "nope", None).unwrap_err();
    assert!(matches!(e, RepositoryError::NodeNotFound { .. }), "{e}");
    t.commit().unwrap();
    assert_eq!(child_paths(&*store, "/p"), want2);
}

pub(crate) fn uuids_are_indexed_unique_per_workspace_and_follow_their_node<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let u1 = "11111111-1111-4111-8111-111111111111";
    let u2 = "22222222-2222-4222-8222-222222222222";
    let mut t = store.begin("uuids").unwrap();
    let tree = Node::new("a", "nt:unstructured")
        .with(string("jcr:uuid", u1))
        .with_child(Node::new("b", "nt:unstructured").with(string("jcr:uuid", u2)));
    t.add_node(WS, "/", &tree, &AddOptions::append()).unwrap();
    assert_eq!(t.find_by_uuid(WS, u2).unwrap().as_deref(), Some("/a/b"));
    // The same uuid elsewhere in the workspace is refused, also inside one subtree.
    let e = t
        .add_node(
            WS,
            "/",
            &Node::new("c", "nt:unstructured").with(string("jcr:uuid", u1)),
            &AddOptions::append(),
        )
        .unwrap_err();
    assert!(matches!(e, RepositoryError::DuplicateUuid { .. }), "{e}");
    assert!(e.to_string().contains("/a"), "{e}");
    let dup = Node::new("d", "nt:unstructured")
        .with(string("jcr:uuid", "x"))
        .with_child(Node::new("e", "nt:unstructured").with(string("jcr:uuid", "x")));
    assert!(matches!(
        t.add_node(WS, "/", &dup, &AddOptions::append()),
        Err(RepositoryError::DuplicateUuid { .. })
    ));
    add(t.as_mut(), "/", "c");
    assert!(matches!(
        t.set_property(WS, "/c", &string("jcr:uuid", u2)),
        Err(RepositoryError::DuplicateUuid { .. })
    ));
    // Setting a node's own uuid again is fine.
    t.set_property(WS, "/a", &string("jcr:uuid", u1)).unwrap();
    // Another workspace may reuse it.
    t.add_node(
        "other",
        "/",
        &Node::new("a", "nt:unstructured").with(string("jcr:uuid", u1)),
        &AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    assert_eq!(
        store.node(WS, "/a").unwrap().unwrap().uuid.as_deref(),
        Some(u1)
    );
    assert_eq!(
        store.children(WS, "/a").unwrap()[0].uuid.as_deref(),
        Some(u2)
    );
    assert_eq!(
        store.find_by_uuid("other", u1).unwrap().as_deref(),
        Some("/a")
    );
    assert_eq!(store.find_by_uuid(WS, "nope").unwrap(), None);

    // Same-name shifts move the uuid's path along; removal forgets it.
    let mut t = store.begin("shift").unwrap();
    add(t.as_mut(), "/", "a");
    t.set_property(WS, "/a[2]", &string("jcr:uuid", "third"))
        .unwrap();
    t.remove_node(WS, "/a").unwrap();
    t.commit().unwrap();
    assert_eq!(
        store.find_by_uuid(WS, "third").unwrap().as_deref(),
        Some("/a")
    );
    assert_eq!(store.find_by_uuid(WS, u1).unwrap(), None);
    assert_eq!(store.find_by_uuid(WS, u2).unwrap(), None);
}

pub(crate) fn walks_in_document_order_with_paging_and_skipping<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("tree").unwrap();
    add(t.as_mut(), "/", "b");
    add(t.as_mut(), "/", "a");
    add(t.as_mut(), "/b", "y");
    add(t.as_mut(), "/b", "x");
    add(t.as_mut(), "/b/y", "deep");
    add(t.as_mut(), "/a", "z");
    t.order_before(WS, "/", "a", Some("b")).unwrap();
    // More children than one page.
    add(t.as_mut(), "/", "many");
    for i in 0..600 {
        add(t.as_mut(), "/many", &format!("c{i:03}"));
    }
    add(t.as_mut(), "/many/c300", "inner");
    t.set_property(WS, "/b/y", &string("p", "v")).unwrap();
    t.commit().unwrap();

    let entries: Vec<_> = store.walk(WS, "/").unwrap().map(|e| e.unwrap()).collect();
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    let mut want = vec!["/"];
    want.extend(crate::repository::INITIAL_PATHS);
    want.extend(["/a", "/a/z", "/b", "/b/y", "/b/y/deep", "/b/x", "/many"]);
    let many: Vec<String> = (0..600).map(|i| format!("/many/c{i:03}")).collect();
    for (i, m) in many.iter().enumerate() {
        want.push(m);
        if i == 300 {
            want.push("/many/c300/inner");
        }
    }
    assert_eq!(paths, want);
    let y = entries.iter().find(|e| e.path == "/b/y").unwrap();
    assert_eq!((y.depth, y.has_children), (2, true));
    assert_eq!(y.node.name, "y");
    assert_eq!(y.node.value("p").unwrap().to_string(), "v");
    assert!(entries.iter().all(|e| e.node.children.is_empty()));

    // A walk below the root, skipping one subtree.
    let mut w = store.walk(WS, "/b").unwrap();
    let mut seen = Vec::new();
    while let Some(e) = w.next() {
        let e = e.unwrap();
        if e.path == "/b/y" {
            w.skip_children();
        }
        seen.push(e.path);
    }
    assert_eq!(seen, ["/b", "/b/y", "/b/x"]);
    drop(w);
    assert!(matches!(
        store.walk(WS, "/nope").map(|_| ()),
        Err(RepositoryError::NodeNotFound { .. })
    ));
    // A walk of a leaf yields just the leaf.
    let leaf: Vec<_> = store
        .walk(WS, "/a/z")
        .unwrap()
        .map(|e| e.unwrap().path)
        .collect();
    assert_eq!(leaf, ["/a/z"]);
}

pub(crate) fn workspaces_are_isolated<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("ws").unwrap();
    assert!(!t.create_workspace(WS).unwrap());
    assert!(t.create_workspace("staging").unwrap());
    // The first write to an unknown workspace creates it.
    t.add_node(
        "preview",
        "/",
        &Node::new("only-here", "nt:folder"),
        &AddOptions::append(),
    )
    .unwrap();
    add(t.as_mut(), "/", "only-default");
    assert!(matches!(
        t.create_workspace(""),
        Err(RepositoryError::InvalidWorkspaceName(_))
    ));
    t.commit().unwrap();
    assert_eq!(
        store.workspaces().unwrap(),
        ["default", "preview", "staging"]
    );
    assert!(store.node(WS, "/only-here").unwrap().is_none());
    assert!(store.node("preview", "/only-default").unwrap().is_none());
    assert_eq!(
        store.node("staging", "/").unwrap().unwrap().primary_type,
        "rep:root"
    );
    assert_eq!(listing(&*store, "staging"), INITIAL_LISTING);
    let e = store.node("nope", "/").unwrap_err();
    assert!(
        matches!(e, RepositoryError::WorkspaceNotFound { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("'nope'"), "{e}");
}

pub(crate) fn types_mixins_and_registries<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("types").unwrap();
    add(t.as_mut(), "/", "n");
    t.set_primary_type(WS, "/n", "nt:folder").unwrap();
    t.set_mixins(WS, "/n", &["mix:referenceable".into(), "mix:title".into()])
        .unwrap();
    assert!(matches!(
        t.set_primary_type(WS, "/n", "bad/type"),
        Err(RepositoryError::InvalidName(_))
    ));
    assert!(matches!(
        t.remove_node(WS, "/"),
        Err(RepositoryError::NotAllowed { .. })
    ));
    t.register_namespace("sling", "http://sling.apache.org/jcr/sling/1.0")
        .unwrap();
    t.register_namespace("sling", "http://sling.apache.org/jcr/sling/1.0")
        .unwrap();
    for (p, u) in [
        ("sling", "urn:other"),
        ("other", "http://sling.apache.org/jcr/sling/1.0"),
        ("jcr", "urn:x"),
        ("1bad", "urn:y"),
    ] {
        let e = t.register_namespace(p, u).unwrap_err();
        assert!(
            matches!(e, RepositoryError::NamespaceConflict { .. }),
            "{p}: {e}"
        );
    }
    t.register_node_type("sling:Folder", "[sling:Folder] > nt:folder")
        .unwrap();
    t.register_node_type("a:B", "[a:B]").unwrap();
    assert!(t.unregister_node_type("a:B").unwrap());
    assert!(!t.unregister_node_type("a:B").unwrap());
    t.commit().unwrap();
    let n = store.node(WS, "/n").unwrap().unwrap();
    assert_eq!(n.primary_type, "nt:folder");
    assert_eq!(n.mixins, ["mix:referenceable", "mix:title"]);
    let ns = store.namespaces().unwrap();
    assert_eq!(
        ns.uri("sling"),
        Some("http://sling.apache.org/jcr/sling/1.0")
    );
    assert_eq!(ns.uri("jcr"), Some(crate::namespace::JCR));
    assert_eq!(
        store.node_types().unwrap(),
        [(
            "sling:Folder".to_string(),
            "[sling:Folder] > nt:folder".to_string()
        )]
    );
    assert_eq!(store.node_type("a:B").unwrap(), None);
}

pub(crate) fn add_node_adds_whole_subtrees_and_checks_before_writing<B: Backend>() {
    let (_dir, mut store) = B::repo();
    let mut t = store.begin("subtree").unwrap();
    let page = Node::new("page", "cq:Page")
        .with_child(
            Node::new("jcr:content", "cq:PageContent")
                .with(string("jcr:title", "Hello"))
                .with_child(Node::new("par", "nt:unstructured"))
                .with_child(Node::new("par", "nt:unstructured").with(string("i", "2"))),
        )
        .with_child(Node::new("child", "cq:Page"));
    assert_eq!(
        t.add_node(WS, "/", &page, &AddOptions::append()).unwrap(),
        "/page"
    );
    // A bad name deep inside refuses the whole subtree.
    let bad = Node::new("ok", "nt:unstructured").with_child(Node::new("no/slash", "nt:base"));
    assert!(t.add_node(WS, "/", &bad, &AddOptions::append()).is_err());
    assert!(t.node(WS, "/ok").unwrap().is_none());
    let e = t
        .add_node(
            WS,
            "/missing",
            &Node::new("x", "nt:base"),
            &AddOptions::append(),
        )
        .unwrap_err();
    assert!(matches!(e, RepositoryError::NodeNotFound { .. }), "{e}");
    t.commit().unwrap();
    assert_eq!(
        listing(&*store, WS),
        INITIAL_LISTING.to_string()
            + "/page cq:Page []\n\
         /page/jcr:content cq:PageContent []\n  jcr:title String = String(\"Hello\")\n\
         /page/jcr:content/par nt:unstructured []\n\
         /page/jcr:content/par[2] nt:unstructured []\n  i String = String(\"2\")\n\
         /page/child cq:Page []\n"
    );
}

/// However a workspace comes to be (the repository's default one, created, or made by
/// a first write below its root), its root holds Oak's initial content, and a
/// workspace that holds only that counts as empty.
pub(crate) fn every_new_workspace_gets_oaks_initial_content<B: Backend>() {
    let (_dir, mut store) = B::repo();
    assert_eq!(listing(&*store, WS), INITIAL_LISTING);
    let mut t = store.begin_operation(meta("workspaces")).unwrap();
    assert!(t.create_workspace("created").unwrap());
    // A first write into a workspace that does not exist yet makes it.
    t.add_node(
        "written",
        "/",
        &Node::new("content", "nt:folder"),
        &AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    assert_eq!(listing(&*store, "created"), INITIAL_LISTING);
    assert_eq!(
        listing(&*store, "written"),
        INITIAL_LISTING.to_string() + "/content nt:folder []\n"
    );
    // Oak's initial content alone is an empty workspace; content is not.
    let mut t = store.begin_operation(meta("delete")).unwrap();
    assert_eq!(t.delete_workspace("created", false).unwrap(), 6);
    let e = t.delete_workspace("written", false).unwrap_err();
    assert!(e.to_string().contains("holds 1 nodes besides"), "{e}");
    t.commit().unwrap();
}
