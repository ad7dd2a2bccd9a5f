//! The contract suite: what every storage backend must do, written once against
//! `dyn Store` and run for each backend.
//!
//! A backend's tests implement [`Backend`] (a fresh, empty repository) and expand
//! [`contract_suite!`](crate::contract_suite) with it; that makes one `#[test]` per
//! contract test below. The SQLite backend runs it in `repository/sqlite/tests`
//! (as `SqliteStore` and as `Journaled<SqliteBackend>`), the in-memory backend in
//! `repository/memory/tests`.
//! Tests of what only one backend has (SQLite's locking across processes, WAL, blob
//! files, its random-edit model test) stay with that backend.
//!
//! `nodes`: content CRUD, every value type, same-name siblings, ordering, uuids,
//! walks, workspaces, registries. `undo`: the journal, history, undo, conflicts,
//! force, workspace creation and deletion. `history`: the history's counts, pruning.
//! `created`: what the journal means for created subtrees (undo, counts,
//! conflicts inside them). `digests`: aggregate digests and their clearing.

pub(crate) mod created;
pub(crate) mod digests;
pub(crate) mod history;
pub(crate) mod names;
pub(crate) mod nodes;
pub(crate) mod undo;

use crate::node::Node;
use crate::repository::{
    AddOptions, OperationMeta, Store, StoreRead, Transaction, DEFAULT_WORKSPACE,
};
use crate::value::{Binary, Date, Property, Value};
use std::fmt::Write as _;

/// Keeps a backend's resources (a temporary folder) alive as long as its store.
pub(crate) type Guard = Box<dyn std::any::Any>;

/// A backend under test.
pub(crate) trait Backend {
    /// A fresh repository whose workspace `default` has only its root.
    fn repo() -> (Guard, Box<dyn Store>);
}

/// One `#[test]` for each contract test, run against backend `$backend` (a type
/// implementing [`Backend`]).
#[macro_export]
#[doc(hidden)]
macro_rules! contract_suite {
    ($backend:ty) => {
        $crate::contract_suite!(@tests $backend;
            nodes::properties_of_every_type_round_trip,
            nodes::properties_read_against_known_ones_resolve_to_the_stored,
            nodes::streamed_blobs_are_deduplicated_and_bad_properties_are_refused,
            nodes::same_name_siblings_are_indexed_and_shift_when_an_earlier_one_goes,
            nodes::children_keep_their_order_through_inserts_and_reorders,
            nodes::uuids_are_indexed_unique_per_workspace_and_follow_their_node,
            nodes::walks_in_document_order_with_paging_and_skipping,
            nodes::workspaces_are_isolated,
            nodes::types_mixins_and_registries,
            nodes::add_node_adds_whole_subtrees_and_checks_before_writing,
            nodes::every_new_workspace_gets_oaks_initial_content,
            undo::undo_restores_exactly_and_can_itself_be_undone,
            undo::history_and_operation_details_list_what_was_touched,
            undo::undo_refuses_when_a_later_operation_touched_the_same_items_unless_forced,
            undo::an_undone_later_operation_does_not_block_undoing_an_earlier_one,
            undo::undo_refuses_to_remove_nodes_with_children_added_later,
            undo::forced_undo_skips_nodes_whose_parent_is_gone,
            undo::a_failed_undo_inside_a_transaction_changes_nothing,
            undo::creating_and_deleting_workspaces_is_journaled_and_undone,
            created::created_subtrees_are_undone_whole_and_counted,
            created::a_change_inside_a_created_subtree_conflicts_until_undone,
            created::a_forced_undo_removes_created_subtrees_with_what_was_added_below,
            created::a_later_subtree_over_changed_paths_conflicts,
            created::a_node_created_again_where_a_created_one_was_conflicts,
            history::history_counts_the_properties_of_created_nodes,
            history::pruning_drops_the_oldest_operations_and_names_them,
            digests::digests_are_cleared_by_every_change_below_their_node,
            digests::digests_recorded_in_a_batch_are_kept_and_cleared_as_one_by_one,
            names::names_of_thousands_of_characters_round_trip_and_undo,
        );
    };
    (@tests $backend:ty; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::repository::contract::$module::$name::<$backend>();
            }
        )*
    };
}

/// The default workspace.
pub(crate) const WS: &str = DEFAULT_WORKSPACE;

/// Operation metadata with a pinned time and user.
pub(crate) fn meta(description: &str) -> OperationMeta {
    let actor = crate::events::Actor {
        user: "tester".into(),
        time: Date::parse("2024-01-31T12:00:00.000+01:00").expect("date"),
    };
    OperationMeta::new(description, &actor)
}

/// Adds a bare node of type `nt:unstructured` at the end, same-name siblings allowed.
pub(crate) fn add(t: &mut dyn Transaction, parent: &str, name: &str) -> String {
    t.add_node(
        WS,
        parent,
        &Node::new(name, "nt:unstructured"),
        &AddOptions::allow_same_name(),
    )
    .expect("add_node")
}

/// Formats a value for listings: binaries as their blob or reference.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Binary(Binary::Blob { sha256, size }) => format!("blob {sha256} {size}"),
        Value::Binary(b) => format!("{b:?}"),
        other => format!("{other:?}"),
    }
}

/// A canonical listing of a whole workspace: every node in document order with its
/// type, mixins and every property with type and values.
/// The [`listing`] of a new workspace: its root and Oak's initial content.
pub(crate) const INITIAL_LISTING: &str = "/ rep:root []
/jcr:system rep:system []
/jcr:system/jcr:versionStorage rep:versionStorage []
/jcr:system/jcr:nodeTypes rep:nodeTypes []
/jcr:system/jcr:activities rep:Activities []
/jcr:system/rep:namespaces rep:Unstructured []
";

pub(crate) fn listing(s: &dyn StoreRead, ws: &str) -> String {
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
pub(crate) fn child_paths(s: &dyn StoreRead, p: &str) -> Vec<String> {
    s.children(WS, p)
        .expect("children")
        .into_iter()
        .map(|c| c.path)
        .collect()
}

/// Everything repository-wide and in every workspace, for exact comparisons.
pub(crate) fn full_state(s: &dyn StoreRead) -> String {
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
pub(crate) fn string(name: &str, v: &str) -> Property {
    Property::string(name, v)
}
