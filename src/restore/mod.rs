//! Restoring content from a backup (or any other repository image) into a
//! repository: the whole repository, chosen workspaces, or only the subtrees below
//! chosen roots, leaving everything else as it is now.
//!
//! A restore is two steps over the same walk ([`engine`]):
//!
//! 1. [`compare`] (or [`summarize`]) reports, node by node, what the restore would
//!    change: nodes added, deleted and changed (types, mixins, properties, child
//!    order), per workspace, without writing anything;
//! 2. [`apply`] makes those changes inside a transaction; [`restore`] runs it as one
//!    recorded operation, so that `history` lists it and `undo` reverts it.
//!
//! Both sides are [`StoreRead`]s: a backup is one (`backup::Catalogue::open_store`),
//! and so is any repository. The walk reads both sides node by node in document
//! order, so a subtree restore costs in proportion to the subtree, not to the size
//! of the backup or of the repository.
//!
//! What is kept: identifiers (`jcr:uuid` as in the backup; a node below the restored
//! roots that holds one now gives it up, a node elsewhere is a conflict), primary
//! types, mixins, every property type, binaries (copied from the backup's blob store
//! only when the repository lacks them, checked against their SHA-256), and each
//! restored node's place among its siblings (the place it had in the backup,
//! relative to the siblings that exist now). A root in the backup but not in the
//! repository comes back, with its missing ancestors as they are in the backup; a
//! root in the repository but not in the backup is deleted. Namespaces and node
//! types that the written content needs, and the backup has, are registered.

mod blobs;
mod change;
mod engine;
mod error;
mod needs;
pub mod package;
pub mod portable;
mod preview;
mod scope;
mod source;

#[cfg(test)]
mod tests;

pub use change::{Change, ChangeKind, Summary, WorkspaceSummary};
pub use error::{RestoreError, Result};
pub use preview::{preview, Preview};
pub use scope::{Plan, PlannedWorkspace, Scope};
pub use source::open_backup;

use crate::events::{Event, Events, Unit};
use crate::repository::{OperationId, OperationMeta, Store, StoreRead, Transaction};
use engine::{Target, Walk};

fn run<'a>(
    source: &'a dyn StoreRead,
    mut target: Target<'a>,
    plan: &Plan,
    list: bool,
    sink: &mut dyn FnMut(&Change) -> Result<()>,
    events: &dyn Events,
) -> Result<Summary> {
    let writing = matches!(target, Target::Write(_));
    events.event(&Event::Phase {
        name: if writing { "restoring" } else { "comparing" },
        total: None,
        unit: Unit::Paths,
    });
    let mut needs = needs::Needs::default();
    let mut blobs = blobs::Blobs::default();
    let mut summary = Summary::default();
    for ws in &plan.workspaces {
        let mut walk = Walk {
            src: source,
            tgt: &mut target,
            ws: ws.name.clone(),
            src_has: ws.in_backup,
            tgt_has: ws.in_repository,
            roots: ws.roots.clone(),
            system_roots: plan.verified_backup && ws.roots.iter().any(|r| r == "/"),
            list,
            sink: &mut *sink,
            events,
            summary: WorkspaceSummary {
                workspace: ws.name.clone(),
                roots: ws.roots.clone(),
                ..WorkspaceSummary::default()
            },
            needs: &mut needs,
            blobs: &mut blobs,
        };
        walk.create_workspace()?;
        for root in &ws.roots {
            walk.root(root)?;
        }
        summary.workspaces.push(walk.summary);
    }
    let (ns, types) = needs.register(source, &mut target)?;
    summary.namespaces_registered = ns;
    summary.node_types_registered = types;
    summary.blobs_copied = blobs.copied;
    summary.bytes_copied = blobs.bytes;
    events.event(&Event::Finished);
    Ok(summary)
}

/// Reports to `sink`, node by node in document order per root, what restoring
/// `plan` from `source` into `target` would change, and returns the counts.
/// Nothing is written.
pub fn compare(
    source: &dyn StoreRead,
    target: &dyn StoreRead,
    plan: &Plan,
    sink: &mut dyn FnMut(&Change) -> Result<()>,
    events: &dyn Events,
) -> Result<Summary> {
    run(source, Target::Read(target), plan, true, sink, events)
}

/// Counts what restoring `plan` would change, without listing it ([`compare`]
/// without the sink). Nothing is written.
pub fn summarize(
    source: &dyn StoreRead,
    target: &dyn StoreRead,
    plan: &Plan,
    events: &dyn Events,
) -> Result<Summary> {
    run(
        source,
        Target::Read(target),
        plan,
        false,
        &mut |_| Ok(()),
        events,
    )
}

/// Restores `plan` from `source` inside `txn`: afterwards every planned root of
/// every planned workspace equals the source's. On error the transaction should be
/// rolled back (dropping it does).
pub fn apply(
    source: &dyn StoreRead,
    txn: &mut dyn Transaction,
    plan: &Plan,
    events: &dyn Events,
) -> Result<Summary> {
    run(
        source,
        Target::Write(txn),
        plan,
        false,
        &mut |_| Ok(()),
        events,
    )
}

/// [`apply`] as one recorded operation described by `meta` (see [`description`]),
/// committed: all or nothing. Returns what changed and the operation's id.
pub fn restore(
    source: &dyn StoreRead,
    store: &mut dyn Store,
    plan: &Plan,
    meta: OperationMeta,
    events: &dyn Events,
) -> Result<(Summary, Option<OperationId>)> {
    let mut txn = store.begin_operation(meta)?;
    let summary = apply(source, txn.as_mut(), plan, events)?;
    let id = txn.commit()?;
    Ok((summary, id))
}

/// The history line of a restore from backup `backup`: `restore ID`, then the roots
/// when not the whole tree, and the workspaces when some were chosen
/// (`restore 20261204T170512Z /content/site/en/products`).
pub fn description(backup: &str, scope: &Scope) -> String {
    let mut s = format!("restore {backup}");
    for r in &scope.roots {
        s.push(' ');
        s.push_str(r);
    }
    if !scope.workspaces.is_empty() {
        s.push_str(&format!(" (workspace {})", scope.workspaces.join(", ")));
    }
    s
}
