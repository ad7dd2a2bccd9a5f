//! Tests of the SQLite store, each in a fresh temporary repository.
//!
//! `nodes`: content CRUD, same-name siblings, ordering, uuids, walks, workspaces.
//! `locking`: transactions, rollback, a second writer, readers, a crash.
//! `undo`: the journal, history and undo. `model`: random edits, paths and undo
//! (proptest). `scale`: a 100,000-node insert. `housekeeping`: history pruning and
//! garbage collection.

mod housekeeping;
mod locking;
mod model;
mod nodes;
mod scale;
mod undo;

use super::SqliteStore;
use crate::node::Node;
use crate::repository::{AddOptions, OperationMeta, StoreRead, Transaction, DEFAULT_WORKSPACE};
use crate::value::{Binary, Date, Property, Value};
use std::fmt::Write as _;

/// The default workspace.
pub(super) const WS: &str = DEFAULT_WORKSPACE;

/// A fresh repository in a temporary folder.
pub(super) fn repo() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::init(&dir.path().join("repo")).expect("init");
    (dir, store)
}

/// Operation metadata with a pinned time and user.
pub(super) fn meta(description: &str) -> OperationMeta {
    let actor = crate::events::Actor {
        user: "tester".into(),
        time: Date::parse("2024-01-31T12:00:00.000+01:00").expect("date"),
    };
    OperationMeta::new(description, &actor)
}

/// Adds a bare node of type `nt:unstructured` at the end, same-name siblings allowed.
pub(super) fn add(t: &mut dyn Transaction, parent: &str, name: &str) -> String {
    t.add_node(
        WS,
        parent,
        &Node::new(name, "nt:unstructured"),
        &AddOptions::allow_same_name(),
    )
    .expect("add_node")
}

/// Formats a value for listings: binaries as their blob or reference.
fn show(v: &Value) -> String {
    match v {
        Value::Binary(Binary::Blob { sha256, size }) => format!("blob {sha256} {size}"),
        Value::Binary(b) => format!("{b:?}"),
        other => format!("{other:?}"),
    }
}

/// A canonical listing of a whole workspace: every node in document order with its
/// type, mixins and every property with type and values.
pub(super) fn listing(s: &dyn StoreRead, ws: &str) -> String {
    let mut out = String::new();
    for e in s.walk(ws, "/").expect("walk") {
        let e = e.expect("walk entry");
        let _ = writeln!(
            out,
            "{} {} {:?}",
            e.path, e.node.primary_type, e.node.mixins
        );
        for p in e.node.properties.values() {
            let vals: Vec<String> = p.values.iter().map(show).collect();
            let _ = writeln!(
                out,
                "  {} {}{} = {}",
                p.name,
                p.ptype,
                if p.multiple { "[]" } else { "" },
                vals.join(", ")
            );
        }
    }
    out
}

/// Paths of the children of `p`, in order.
pub(super) fn child_paths(s: &dyn StoreRead, p: &str) -> Vec<String> {
    s.children(WS, p)
        .expect("children")
        .into_iter()
        .map(|c| c.path)
        .collect()
}

/// Everything repository-wide and in every workspace, for exact comparisons.
pub(super) fn full_state(s: &dyn StoreRead) -> String {
    let mut out = String::new();
    for ws in s.workspaces().expect("workspaces") {
        let _ = writeln!(out, "== workspace {ws}");
        out.push_str(&listing(s, &ws));
    }
    let _ = writeln!(out, "== namespaces");
    for (p, u) in s.namespaces().expect("namespaces").iter() {
        let _ = writeln!(out, "{p}={u}");
    }
    let _ = writeln!(out, "== node types");
    for (n, c) in s.node_types().expect("node types") {
        let _ = writeln!(out, "{n}: {c}");
    }
    out
}

/// A string property.
pub(super) fn string(name: &str, v: &str) -> Property {
    Property::string(name, v)
}
