//! Property tests: random edit sequences keep paths consistent, and undo gives
//! back exactly the state before, whatever the edits were.

use super::*;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{RepositoryError, SameName, Store};
use crate::value::PropertyType;
use proptest::prelude::*;

const NAMES: [&str; 4] = ["a", "b", "item", "jcr:content"];
const TYPES: [&str; 3] = ["nt:unstructured", "nt:folder", "sling:Folder"];
const MIXINS: [&str; 2] = ["mix:title", "mix:referenceable"];
const PROPS: [&str; 3] = ["p", "q", "jcr:title"];

/// One random edit; node choices are indexes into the current document order.
#[derive(Debug, Clone)]
enum Edit {
    Add {
        parent: usize,
        name: usize,
        before: Option<usize>,
        with_child: bool,
    },
    Remove(usize),
    SetProp {
        node: usize,
        name: usize,
        value: i64,
        kind: u8,
    },
    RemoveProp {
        node: usize,
        name: usize,
    },
    Reorder {
        node: usize,
        before: Option<usize>,
    },
    SetType {
        node: usize,
        ty: usize,
    },
    SetMixins {
        node: usize,
        count: usize,
    },
    SetUuid {
        node: usize,
        uuid: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), 0..NAMES.len(), proptest::option::of(any::<usize>()), any::<bool>())
            .prop_map(|(parent, name, before, with_child)| Edit::Add { parent, name, before, with_child }),
        1 => any::<usize>().prop_map(Edit::Remove),
        2 => (any::<usize>(), 0..PROPS.len(), -3i64..3, 0u8..3)
            .prop_map(|(node, name, value, kind)| Edit::SetProp { node, name, value, kind }),
        1 => (any::<usize>(), 0..PROPS.len()).prop_map(|(node, name)| Edit::RemoveProp { node, name }),
        2 => (any::<usize>(), proptest::option::of(any::<usize>()))
            .prop_map(|(node, before)| Edit::Reorder { node, before }),
        1 => (any::<usize>(), 0..TYPES.len()).prop_map(|(node, ty)| Edit::SetType { node, ty }),
        1 => (any::<usize>(), 0..=MIXINS.len()).prop_map(|(node, count)| Edit::SetMixins { node, count }),
        1 => (any::<usize>(), 0..3usize).prop_map(|(node, uuid)| Edit::SetUuid { node, uuid }),
    ]
}

/// Every node path in document order.
fn all_paths(s: &dyn StoreRead) -> Vec<String> {
    s.walk(WS, "/").unwrap().map(|e| e.unwrap().path).collect()
}

fn pick(paths: &[String], i: usize) -> &str {
    paths
        .get(i % paths.len().max(1))
        .map(String::as_str)
        .unwrap_or("/")
}

/// Applies one edit; errors the edit may legitimately meet are fine.
fn apply(t: &mut dyn Transaction, e: &Edit) {
    let paths = all_paths(t);
    let result = match e {
        Edit::Add {
            parent,
            name,
            before,
            with_child,
        } => {
            let parent = pick(&paths, *parent).to_string();
            let children = child_paths(t, &parent);
            let before = before.and_then(|b| {
                let c = children.get(b % children.len().max(1))?;
                Some(crate::path::last_segment(c).to_string())
            });
            let mut node = Node::new(NAMES[*name], "nt:unstructured").with(string("made", "yes"));
            if *with_child {
                node = node.with_child(Node::new("kid", "nt:folder"));
            }
            let options = AddOptions {
                before,
                same_name: SameName::Allow,
            };
            t.add_node(WS, &parent, &node, &options).map(|_| ())
        }
        Edit::Remove(n) => t.remove_node(WS, pick(&paths, *n)).map(|_| ()),
        Edit::SetProp {
            node,
            name,
            value,
            kind,
        } => {
            let v = match kind {
                0 => Property::single(PROPS[*name], Value::Long(*value)),
                1 => Property::multi(
                    PROPS[*name],
                    PropertyType::String,
                    vec![Value::String(format!("v{value}")); (*value).unsigned_abs() as usize],
                ),
                _ => Property::single(
                    PROPS[*name],
                    Value::Binary(Binary::inline(format!("bytes {value}").into_bytes())),
                ),
            };
            t.set_property(WS, pick(&paths, *node), &v)
        }
        Edit::RemoveProp { node, name } => t
            .remove_property(WS, pick(&paths, *node), PROPS[*name])
            .map(|_| ()),
        Edit::Reorder { node, before } => {
            let p = pick(&paths, *node).to_string();
            match crate::path::parent(&p) {
                None => Ok(()),
                Some(parent) => {
                    let siblings = child_paths(t, parent);
                    let before = before.and_then(|b| {
                        let s = siblings.get(b % siblings.len().max(1))?;
                        Some(crate::path::last_segment(s).to_string())
                    });
                    t.order_before(WS, parent, crate::path::last_segment(&p), before.as_deref())
                        .map(|_| ())
                }
            }
        }
        Edit::SetType { node, ty } => t.set_primary_type(WS, pick(&paths, *node), TYPES[*ty]),
        Edit::SetMixins { node, count } => {
            let m: Vec<String> = MIXINS.iter().take(*count).map(|s| s.to_string()).collect();
            t.set_mixins(WS, pick(&paths, *node), &m)
        }
        Edit::SetUuid { node, uuid } => t.set_property(
            WS,
            pick(&paths, *node),
            &string("jcr:uuid", &format!("uuid-{uuid}")),
        ),
    };
    match result {
        Ok(())
        | Err(RepositoryError::NotAllowed { .. })
        | Err(RepositoryError::DuplicateUuid { .. }) => {}
        Err(other) => panic!("{e:?} failed: {other}"),
    }
}

/// Checks that every stored path is its parent's path plus the name and the rank
/// among same-name siblings, and that the walk visits what `children` lists.
fn check_paths(s: &dyn StoreRead) {
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        let children = s.children(WS, &p).unwrap();
        let mut seen: std::collections::HashMap<&str, u32> = Default::default();
        let mut here = Vec::new();
        for c in &children {
            let k = seen.entry(c.name.as_str()).or_insert(0);
            *k += 1;
            let want = crate::path::join(
                &p,
                &crate::path::Segment {
                    name: c.name.clone(),
                    index: *k,
                }
                .to_string(),
            );
            assert_eq!(c.path, want, "children of {p}: {children:?}");
            assert_eq!(c.index, *k);
            here.push(want);
        }
        stack.extend(here);
    }
    // The walk yields a parent before its children and siblings in order.
    let walked = all_paths(s);
    let mut rebuilt = Vec::new();
    fn visit(s: &dyn StoreRead, p: &str, out: &mut Vec<String>) {
        out.push(p.to_string());
        for c in s.children(WS, p).unwrap() {
            visit(s, &c.path, out);
        }
    }
    visit(s, "/", &mut rebuilt);
    assert_eq!(walked, rebuilt);
}

fn seed(store: &mut SqliteStore) {
    let mut t = store.begin("seed").unwrap();
    for e in [
        Edit::Add {
            parent: 0,
            name: 0,
            before: None,
            with_child: true,
        },
        Edit::Add {
            parent: 0,
            name: 2,
            before: None,
            with_child: false,
        },
        Edit::Add {
            parent: 0,
            name: 2,
            before: None,
            with_child: true,
        },
        Edit::SetProp {
            node: 1,
            name: 0,
            value: 1,
            kind: 0,
        },
        Edit::SetUuid { node: 2, uuid: 0 },
    ] {
        apply(t.as_mut(), &e);
    }
    t.commit().unwrap();
}

proptest! {
    // No failure files: found cases become named tests below.
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn undo_restores_exactly_after_random_edits(
        first in proptest::collection::vec(edit(), 1..20),
        second in proptest::collection::vec(edit(), 1..20),
    ) {
        let (_dir, mut store) = bare_repo();
        seed(&mut store);
        let s0 = full_state(&store);

        let mut t = store.begin_operation(meta("first")).unwrap();
        for e in &first {
            apply(t.as_mut(), e);
            check_paths(t.as_ref());
        }
        let op1 = t.commit().unwrap().unwrap();
        let s1 = full_state(&store);
        let mut t = store.begin_operation(meta("second")).unwrap();
        for e in &second {
            apply(t.as_mut(), e);
        }
        check_paths(t.as_ref());
        let op2 = t.commit().unwrap().unwrap();
        let s2 = full_state(&store);

        let u2 = store.undo(op2, false, meta("undo second")).unwrap();
        prop_assert_eq!(&full_state(&store), &s1);
        check_paths(&store);
        // The second is undone, so the first undoes without force.
        let u1 = store.undo(op1, false, meta("undo first")).unwrap();
        prop_assert_eq!(&full_state(&store), &s0);
        // And both undos undo again, in reverse.
        store.undo(u1.recorded_as.unwrap(), false, meta("redo first")).unwrap();
        prop_assert_eq!(&full_state(&store), &s1);
        store.undo(u2.recorded_as.unwrap(), false, meta("redo second")).unwrap();
        prop_assert_eq!(&full_state(&store), &s2);
        check_paths(&store);
    }
}

/// A repository whose default workspace is a bare root: the model's edits pick
/// nodes by their place in a walk, and its regressions were found without Oak's
/// initial content.
fn bare_repo() -> (tempfile::TempDir, SqliteStore) {
    let (dir, mut store) = repo();
    let mut t = store.begin("bare root").unwrap();
    t.remove_node(WS, "/jcr:system").unwrap();
    t.commit().unwrap();
    (dir, store)
}

/// Found by the property test: two nodes swap a uuid; restoring them one by one
/// would see a duplicate halfway.
#[test]
fn undo_handles_uuids_that_moved_between_nodes() {
    let (_dir, mut store) = bare_repo();
    seed(&mut store);
    let s0 = full_state(&store);
    let mut t = store.begin_operation(meta("move uuid")).unwrap();
    t.set_property(WS, "/a/kid", &string("jcr:uuid", "uuid-1"))
        .unwrap();
    t.set_property(WS, "/", &string("jcr:uuid", "uuid-0"))
        .unwrap();
    let op = t.commit().unwrap().unwrap();
    let s1 = full_state(&store);
    let u = store.undo(op, false, meta("undo")).unwrap();
    assert_eq!(full_state(&store), s0);
    store
        .undo(u.recorded_as.unwrap(), false, meta("redo"))
        .unwrap();
    assert_eq!(full_state(&store), s1);
    assert_eq!(
        store.find_by_uuid(WS, "uuid-0").unwrap().as_deref(),
        Some("/")
    );
}
