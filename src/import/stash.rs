//! FileVault's node stash (`NodeStash`, reference §11): before the importer replaces an
//! existing node by one with the package's other identifier, the node's children,
//! its mixins and its unprotected properties go aside; after the new node is created
//! they come back (`NodeStash.recover`): a child the new node has already stays as it
//! is, every old mixin is added again, and an old property comes back when the new
//! node lacks it (in `merge` and `merge_properties` it overwrites the package's).
//!
//! The children are moved aside inside the store, not into memory, as FileVault moves
//! them below a transient node: they are copied below a stash node at the repository
//! root and copied back from there, in pieces of at most a few thousand nodes, so
//! memory stays bounded whatever the subtree's size. The stash node is gone when the
//! install commits.
//!
//! FileVault's `session.move` keeps every identifier, so a stashed referenceable
//! child (an `nt:resource` below a DAM rendition, any `mix:referenceable` node) comes
//! back with its `jcr:uuid` and the references to it stay valid. A copy cannot hold
//! the identifier while the original still does (a workspace gives each to one
//! node): in the stash a copy keeps it under [`KEPT_UUID`] instead, and the copy back
//! (made after the original is gone) gives it its `jcr:uuid` again.

use super::error::ImportError;
use super::session::Session;
use crate::filter::ImportMode;
use crate::node::Node;
use crate::path;
use crate::repository::AddOptions;
use crate::value::Property;

/// The name of the stash nodes below the root, numbered (`jcrpack-stash-0`, ...).
const STASH_NAME: &str = "jcrpack-stash-";

/// Properties a stash never takes: the node's identity and types, which the new node
/// has of its own (its mixins are stashed apart).
const IDENTITY: [&str; 3] = ["jcr:primaryType", "jcr:mixinTypes", "jcr:uuid"];

/// The property a stashed copy keeps its node's `jcr:uuid` in, until the copy back
/// gives it its identifier again.
const KEPT_UUID: &str = "jcrpack:stashedUuid";

/// Which way a copy goes: into the stash (`jcr:uuid` kept as [`KEPT_UUID`]) or back
/// out of it (the identifier given back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Aside,
    Back,
}

/// What was stashed of one node.
#[derive(Debug)]
pub struct Stash {
    /// The stash node holding the children (`/jcrpack-stash-N`).
    pub root: String,
    mixins: Vec<String>,
    properties: Vec<Property>,
}

/// Whether `p` is a stash node or below one.
pub fn is_stashed(p: &str) -> bool {
    path::segments(p)
        .next()
        .is_some_and(|first| first.starts_with(STASH_NAME))
}

/// The identifier the stashed copy at `p` keeps for its node (see [`KEPT_UUID`]).
pub fn kept_uuid<'n>(p: &str, node: &'n Node) -> Option<&'n str> {
    if !is_stashed(p) {
        return None;
    }
    node.value(KEPT_UUID).and_then(crate::value::Value::as_str)
}

/// Moves the children of the node at `node_path` below a new stash node and notes its
/// mixins and unprotected properties (`NodeStash.stash`).
pub fn stash(s: &mut Session<'_>, node_path: &str) -> Result<Stash, ImportError> {
    let info = s.node(node_path)?.ok_or_else(|| ImportError::Violation {
        path: node_path.to_string(),
        message: "the node to stash does not exist".to_string(),
    })?;
    let mut n = 0u32;
    let root = loop {
        let candidate = format!("/{STASH_NAME}{n}");
        if s.txn.node(&s.ws, &candidate)?.is_none() {
            break candidate;
        }
        n += 1;
    };
    let holder = Node {
        name: path::name(&root).to_string(),
        index: 1,
        primary_type: "nt:unstructured".to_string(),
        ..Node::default()
    };
    s.txn.add_node(&s.ws, "/", &holder, &AddOptions::append())?;
    copy_children(s, node_path, &root, Way::Aside)?;
    let effective = s.types.effective(&info.primary_type, &info.mixins);
    let properties = s
        .txn
        .properties(&s.ws, node_path)?
        .into_iter()
        .filter(|p| !IDENTITY.contains(&p.name.as_str()))
        .filter(|p| !effective.is_protected_property(&p.name, p.ptype, p.multiple))
        .collect();
    Ok(Stash {
        root,
        mixins: info.mixins,
        properties,
    })
}

/// Puts the stash back on the new node at `node_path` (`NodeStash.recover`) and
/// removes the stash node. `mode` is the node's import mode.
pub fn recover(
    s: &mut Session<'_>,
    node_path: &str,
    stash: Stash,
    mode: ImportMode,
) -> Result<(), ImportError> {
    if s.node(node_path)?.is_some() {
        for c in s.txn.children(&s.ws, &stash.root)? {
            let seg = path::last_segment(&c.path).to_string();
            if s.node(&path::join(node_path, &seg))?.is_some() {
                continue;
            }
            let mixin = match c.primary_type.as_str() {
                "rep:ACL" if c.name == "rep:policy" => Some("rep:AccessControllable"),
                "rep:CugPolicy" => Some("rep:CugMixin"),
                _ => None,
            };
            if let Some(m) = mixin {
                add_mixins(s, node_path, &[m.to_string()])?;
            }
            let to = copy_node(s, &c.path, node_path, Way::Back)?;
            copy_children(s, &c.path, &to, Way::Back)?;
        }
        add_mixins(s, node_path, &stash.mixins)?;
        let overwrite = matches!(mode, ImportMode::Merge | ImportMode::MergeProperties);
        for p in &stash.properties {
            if overwrite || s.txn.property(&s.ws, node_path, &p.name)?.is_none() {
                s.txn.set_property(&s.ws, node_path, p)?;
            }
        }
    }
    // What did not come back (a child the new node has already) goes with the stash.
    super::references::remove_node(s, &stash.root)?;
    Ok(())
}

fn add_mixins(s: &mut Session<'_>, node_path: &str, add: &[String]) -> Result<(), ImportError> {
    let Some(info) = s.node(node_path)? else {
        return Ok(());
    };
    let mut mixins = info.mixins.clone();
    for m in add {
        if !mixins.contains(m) {
            mixins.push(m.clone());
        }
    }
    if mixins != info.mixins {
        s.txn.set_mixins(&s.ws, node_path, &mixins)?;
    }
    Ok(())
}

/// Moves the identifier of the copy `node` (not of its children) between `jcr:uuid`
/// and [`KEPT_UUID`], in its place among the properties. Returns `false`, changing
/// nothing, for a node going aside that has a property called [`KEPT_UUID`] of its
/// own: it is refused rather than given a wrong identifier on the way back.
fn carry_uuid(node: &mut Node, way: Way) -> bool {
    let (take, put) = match way {
        Way::Aside if node.properties.contains_key(KEPT_UUID) => return false,
        Way::Aside => ("jcr:uuid", KEPT_UUID),
        Way::Back => (KEPT_UUID, "jcr:uuid"),
    };
    if let Some((at, _, mut p)) = node.properties.shift_remove_full(take) {
        p.name = put.to_string();
        node.properties.shift_insert(at, put.to_string(), p);
    }
    true
}

/// [`carry_uuid`] for every node of the tree `root`; `false` when one is refused.
fn carry_uuids(root: &mut Node, way: Way) -> bool {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if !carry_uuid(n, way) {
            return false;
        }
        stack.extend(n.children.iter_mut());
    }
    true
}

/// The error for a node [`carry_uuid`] refuses, in the subtree at `from`.
fn kept_name_taken(from: &str) -> ImportError {
    ImportError::Violation {
        path: from.to_string(),
        message: format!(
            "the node (or one below it) is to be stashed, but has a property {KEPT_UUID}, \
             the name the node stash keeps identifiers in"
        ),
    }
}

/// Adds a copy of the node at `from` (without its children) below `parent`; returns
/// the copy's path.
fn copy_node(
    s: &mut Session<'_>,
    from: &str,
    parent: &str,
    way: Way,
) -> Result<String, ImportError> {
    let info = s
        .txn
        .node(&s.ws, from)?
        .ok_or_else(|| ImportError::Violation {
            path: from.to_string(),
            message: "a stashed node vanished".to_string(),
        })?;
    let mut node = Node {
        name: info.name.clone(),
        index: 1,
        primary_type: info.primary_type.clone(),
        mixins: info.mixins.clone(),
        ..Node::default()
    };
    for p in s.txn.properties(&s.ws, from)? {
        node.properties.insert(p.name.clone(), p);
    }
    if !carry_uuid(&mut node, way) {
        return Err(kept_name_taken(from));
    }
    Ok(s.txn
        .add_node(&s.ws, parent, &node, &AddOptions::allow_same_name())?)
}

/// Copies the subtree below `from` (not `from` itself) below `to`, in order. A child
/// whose subtree has at most [`BATCH`] nodes is read and added whole; a larger one is
/// copied node by node with its children handled the same way. Memory holds one
/// batch, the children list of one node and the (source, copy) paths still to visit.
fn copy_children(s: &mut Session<'_>, from: &str, to: &str, way: Way) -> Result<(), ImportError> {
    let mut pending = vec![(from.to_string(), to.to_string())];
    while let Some((src, dst)) = pending.pop() {
        let children = s.txn.children(&s.ws, &src)?;
        let mut below = Vec::new();
        for c in children {
            match small_subtree(s, &c.path)? {
                Some(mut tree) => {
                    if !carry_uuids(&mut tree, way) {
                        return Err(kept_name_taken(&c.path));
                    }
                    s.txn
                        .add_node(&s.ws, &dst, &tree, &AddOptions::allow_same_name())?;
                }
                None => {
                    let copy = copy_node(s, &c.path, &dst, way)?;
                    below.push((c.path, copy));
                }
            }
        }
        // Depth first, children in order: the stack pops the first child next.
        pending.extend(below.into_iter().rev());
    }
    Ok(())
}

/// How many nodes a subtree copied in one piece may have.
const BATCH: usize = 4096;

/// The subtree at `root` as one [`Node`] tree, or `None` when it has more than
/// [`BATCH`] nodes.
fn small_subtree(s: &Session<'_>, root: &str) -> Result<Option<Node>, ImportError> {
    let mut stack: Vec<Node> = Vec::new();
    let mut depths: Vec<usize> = Vec::new();
    let mut count = 0usize;
    for e in s.txn.walk(&s.ws, root)? {
        let e = e?;
        count += 1;
        if count > BATCH {
            return Ok(None);
        }
        while depths.last().is_some_and(|d| *d >= e.depth) {
            let done = stack.pop().expect("a node per depth");
            depths.pop();
            if let Some(parent) = stack.last_mut() {
                parent.children.push(done);
            }
        }
        stack.push(e.node);
        depths.push(e.depth);
    }
    while stack.len() > 1 {
        let done = stack.pop().expect("checked");
        if let Some(parent) = stack.last_mut() {
            parent.children.push(done);
        }
    }
    Ok(stack.pop())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Actor;
    use crate::import::{install, ImportOptions};
    use crate::value::Date;

    fn write(dir: &std::path::Path, files: &[(&str, String)]) {
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    const FILTER: &str = r#"<?xml version="1.0"?><workspaceFilter version="1.0"><filter root="/big" mode="update"/></workspaceFilter>"#;
    const NS: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0""#;

    /// A node whose subtree is larger than one batch (a child with BATCH + 500 nodes
    /// below it, copied node by node, and small children copied whole) gets another
    /// identifier: every node, property, identifier and the order come back, with
    /// the old node's unprotected property and mixin, and the stash node is gone.
    #[test]
    fn a_subtree_larger_than_a_batch_comes_back_whole() {
        let first = tempfile::tempdir().unwrap();
        // `wide` (copied node by node) and one of its children (copied in a batch)
        // are referenceable: both keep their identifiers.
        let mut body = String::from(
            r#"<wide jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="33333333-0000-4000-8000-000000000003">"#,
        );
        for i in 0..BATCH + 500 {
            let id = match i {
                7 => {
                    r#" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="44444444-0000-4000-8000-000000000004""#
                }
                _ => "",
            };
            body.push_str(&format!(
                r#"<n{i} jcr:primaryType="nt:unstructured"{id} v="{i}"/>"#
            ));
        }
        body.push_str("</wide>");
        body.push_str(r#"<s jcr:primaryType="nt:unstructured" k="1"/><t jcr:primaryType="nt:unstructured" k="2"/>"#);
        write(
            first.path(),
            &[
                ("META-INF/vault/filter.xml", FILTER.to_string()),
                (
                    "jcr_root/big/.content.xml",
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable,mix:title]" jcr:uuid="11111111-0000-4000-8000-000000000001" old="kept">{body}</jcr:root>"#
                    ),
                ),
            ],
        );
        let second = tempfile::tempdir().unwrap();
        write(
            second.path(),
            &[
                ("META-INF/vault/filter.xml", FILTER.to_string()),
                (
                    "jcr_root/big/.content.xml",
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="22222222-0000-4000-8000-000000000002" new="set"/>"#
                    ),
                ),
            ],
        );
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let opts = ImportOptions::new(Actor {
            user: "ci".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        });
        install(store.as_mut(), first.path(), &opts).unwrap();
        install(store.as_mut(), second.path(), &opts).unwrap();
        let ws = "default";
        let big = store.node(ws, "/big").unwrap().unwrap();
        assert_eq!(
            big.uuid.as_deref(),
            Some("22222222-0000-4000-8000-000000000002")
        );
        assert_eq!(big.mixins, ["mix:referenceable", "mix:title"]);
        let value = |p: &str, n: &str| {
            store
                .property(ws, p, n)
                .unwrap()
                .map(|p| p.values[0].as_str().unwrap().to_string())
        };
        assert_eq!(value("/big", "old").as_deref(), Some("kept"));
        assert_eq!(value("/big", "new").as_deref(), Some("set"));
        let top: Vec<String> = store
            .children(ws, "/big")
            .unwrap()
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(top, ["/big/wide", "/big/s", "/big/t"]);
        assert_eq!(value("/big/t", "k").as_deref(), Some("2"));
        let uuid = |p: &str| store.node(ws, p).unwrap().unwrap().uuid;
        assert_eq!(
            uuid("/big/wide").as_deref(),
            Some("33333333-0000-4000-8000-000000000003")
        );
        assert_eq!(
            uuid("/big/wide/n7").as_deref(),
            Some("44444444-0000-4000-8000-000000000004")
        );
        let wide = store.children(ws, "/big/wide").unwrap();
        assert_eq!(wide.len(), BATCH + 500);
        assert_eq!(wide[0].name, "n0");
        assert_eq!(wide[BATCH + 499].name, format!("n{}", BATCH + 499));
        assert_eq!(
            value(&format!("/big/wide/n{}", BATCH + 1), "v"),
            Some((BATCH + 1).to_string())
        );
        let root: Vec<String> = store
            .children(ws, "/")
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(!root.iter().any(|n| n.starts_with(STASH_NAME)), "{root:?}");
    }

    /// The two packages of the identifier case: the first puts `/big` (identifier A)
    /// with a referenceable child `r` (C) holding a referenceable `nt:resource` (its
    /// identifier made on install), and `/refs` with a Reference to `r`; the second
    /// gives `/big` identifier B and lists no child (`update`: they stay).
    fn identifier_packages() -> (tempfile::TempDir, tempfile::TempDir) {
        let filter = r#"<?xml version="1.0"?><workspaceFilter version="1.0"><filter root="/big" mode="update"/><filter root="/refs"/></workspaceFilter>"#;
        let first = tempfile::tempdir().unwrap();
        write(
            first.path(),
            &[
                ("META-INF/vault/filter.xml", filter.to_string()),
                (
                    "jcr_root/big/.content.xml",
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="aaaaaaaa-0000-4000-8000-00000000000a" old="kept"><r jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="cccccccc-0000-4000-8000-00000000000c" v="r"/></jcr:root>"#
                    ),
                ),
                ("jcr_root/big/r/data.bin", "bytes".to_string()),
                (
                    "jcr_root/refs/.content.xml",
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:unstructured" to="{{Reference}}cccccccc-0000-4000-8000-00000000000c"/>"#
                    ),
                ),
            ],
        );
        let second = tempfile::tempdir().unwrap();
        write(
            second.path(),
            &[
                (
                    "META-INF/vault/filter.xml",
                    r#"<?xml version="1.0"?><workspaceFilter version="1.0"><filter root="/big" mode="update"/></workspaceFilter>"#.to_string(),
                ),
                (
                    "jcr_root/big/.content.xml",
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="bbbbbbbb-0000-4000-8000-00000000000b"/>"#
                    ),
                ),
            ],
        );
        (first, second)
    }

    /// A node replaced by one with another identifier whose children are
    /// referenceable (the DAM asset of a 20k generated package, reduced): the
    /// children come back with their identifiers, as FileVault's move keeps them,
    /// the Reference to one still resolves, and undoing the install restores the
    /// old node with its identifier. Run against `store`, for each backend and
    /// identifier conflict policy.
    fn stashed_children_keep_their_identifiers(
        store: &mut dyn crate::repository::Store,
        policy: crate::import::IdConflictPolicy,
    ) {
        let (first, second) = identifier_packages();
        let plain = ImportOptions::new(Actor {
            user: "ci".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        });
        install(store, first.path(), &plain).unwrap();
        let opts = ImportOptions {
            id_conflict: policy,
            ..plain
        };
        let ws = "default";
        let res = "/big/r/data.bin/jcr:content";
        let uuid = |store: &dyn crate::repository::Store, p: &str| {
            store.node(ws, p).unwrap().and_then(|n| n.uuid)
        };
        let resource = uuid(store, res).expect("nt:resource is referenceable");
        let before = crate::repository::contract::full_state(store);
        let report = install(store, second.path(), &opts).unwrap();
        let big = uuid(store, "/big").unwrap();
        if policy == crate::import::IdConflictPolicy::CreateNewId {
            // Every imported node gets a new identifier: still another one.
            assert_ne!(big, "aaaaaaaa-0000-4000-8000-00000000000a");
        } else {
            assert_eq!(big, "bbbbbbbb-0000-4000-8000-00000000000b");
        }
        assert_eq!(
            store.property(ws, "/big", "old").unwrap().unwrap().values[0].as_str(),
            Some("kept")
        );
        assert_eq!(
            uuid(store, "/big/r").as_deref(),
            Some("cccccccc-0000-4000-8000-00000000000c")
        );
        assert_eq!(uuid(store, res), Some(resource.clone()));
        assert_eq!(
            store.find_by_uuid(ws, &resource).unwrap().as_deref(),
            Some(res)
        );
        assert_eq!(
            store
                .find_by_uuid(ws, "cccccccc-0000-4000-8000-00000000000c")
                .unwrap()
                .as_deref(),
            Some("/big/r")
        );
        // Nothing of the stash is left: not the stash node, not the property its
        // copies kept identifiers in.
        for e in store.walk(ws, "/").unwrap() {
            let e = e.unwrap();
            assert!(!is_stashed(&e.path), "{}", e.path);
            assert!(!e.node.properties.contains_key(KEPT_UUID), "{}", e.path);
        }
        let refs = store.property(ws, "/refs", "to").unwrap().unwrap();
        assert_eq!(
            refs.values[0],
            crate::value::Value::Reference("cccccccc-0000-4000-8000-00000000000c".into())
        );
        let r = |n: &str| store.property(ws, "/big/r", n).unwrap();
        assert_eq!(
            r("v").unwrap().values[0].as_str(),
            Some("r"),
            "the child's own properties came back"
        );
        store
            .undo(
                crate::repository::OperationId(report.operation.unwrap()),
                false,
                crate::repository::contract::meta("undo"),
            )
            .unwrap();
        assert_eq!(crate::repository::contract::full_state(store), before);
    }

    fn every_policy(
        store: impl Fn() -> (Box<dyn std::any::Any>, Box<dyn crate::repository::Store>),
    ) {
        use crate::import::IdConflictPolicy as P;
        for policy in [P::Fail, P::CreateNewId, P::ForceRemoveConflictingId] {
            let (_guard, mut s) = store();
            stashed_children_keep_their_identifiers(s.as_mut(), policy);
        }
    }

    #[test]
    fn stashed_children_keep_their_identifiers_in_sqlite() {
        every_policy(|| {
            let dir = tempfile::tempdir().unwrap();
            let s = crate::repository::init(&dir.path().join("r")).unwrap();
            (Box::new(dir), s)
        });
    }

    #[test]
    fn stashed_children_keep_their_identifiers_in_memory() {
        every_policy(|| {
            let s = crate::repository::memory::MemoryStore::in_memory("memory:stash").unwrap();
            (Box::new(()), Box::new(s))
        });
    }

    #[test]
    fn stashed_children_keep_their_identifiers_in_postgres() {
        every_policy(|| {
            let url = format!(
                "{}?schema=repo",
                crate::repository::pg::testdb::fresh_database()
            );
            let s = crate::repository::pg::PgStore::init_url(
                &url,
                &crate::repository::location::OpenOptions::default(),
            )
            .unwrap();
            (Box::new(()), Box::new(s))
        });
    }

    /// A node to be stashed that has the property the stash keeps identifiers in
    /// is refused: its copy could not tell its own property from a kept identifier.
    #[test]
    fn a_node_with_the_kept_identifier_property_is_refused() {
        let mut n = Node::new("a", "nt:unstructured").with(Property::single(
            KEPT_UUID,
            crate::value::Value::String("x".into()),
        ));
        assert!(!carry_uuid(&mut n, Way::Aside));
        assert!(n.properties.contains_key(KEPT_UUID));
        let mut n = Node::new("a", "nt:unstructured").with(Property::single(
            "jcr:uuid",
            crate::value::Value::String("u".into()),
        ));
        n.set(Property::single(
            "z",
            crate::value::Value::String("z".into()),
        ));
        assert!(carry_uuid(&mut n, Way::Aside));
        assert_eq!(n.properties.get_index(0).unwrap().0, KEPT_UUID);
        assert_eq!(kept_uuid("/jcrpack-stash-0/a", &n), Some("u"));
        assert_eq!(kept_uuid("/a", &n), None);
        assert!(carry_uuid(&mut n, Way::Back));
        assert_eq!(n.properties.get_index(0).unwrap().0, "jcr:uuid");
        assert_eq!(n.properties.get_index(0).unwrap().1.name, "jcr:uuid");
    }

    #[test]
    fn stash_nodes_are_recognised_by_their_first_segment() {
        assert!(is_stashed("/jcrpack-stash-0"));
        assert!(is_stashed("/jcrpack-stash-12/a/b"));
        assert!(!is_stashed("/tmp/jcrpack-stash-0"));
        assert!(!is_stashed("/"));
    }
}
