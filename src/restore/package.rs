//! Restoring from a package instead of a backup (AEM's package backup): the
//! differences its install would make, in the shape of a backup restore's
//! ([`Change`], [`Summary`]), then the install itself as one recorded operation.
//!
//! A package restores what its filter covers in one workspace, so the caller gives
//! no roots and at most one workspace. The comparison is `jcrpack diff`'s
//! ([`crate::diff::plan`]: the install run and rolled back); each deleted node is
//! counted with its subtree, as a backup restore counts it.

use super::change::{Change, ChangeKind, Summary, WorkspaceSummary};
use crate::archive::Archive;
use crate::diff::{self, DiffError, NodeChange};
use crate::events::Events;
use crate::import::{self, ImportError, ImportOptions, Report};
use crate::repository::{RepositoryError, Store, StoreRead};

/// What installing a package would change.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageComparison {
    /// The changes, deletions first, then in install order.
    pub changes: Vec<Change>,
    /// Their count, for the one workspace.
    pub summary: Summary,
}

/// What installing `archive` into workspace `options.workspace` of `store` would
/// change; nothing is written. `before` is a second, read-only handle onto the same
/// repository (see [`crate::diff::plan`]).
pub fn compare_package(
    before: &dyn StoreRead,
    store: &mut dyn Store,
    archive: &dyn Archive,
    options: &ImportOptions,
    events: &dyn Events,
) -> Result<PackageComparison, DiffError> {
    let ws = options.workspace.clone();
    let found = diff::plan(before, store, archive, options, events)?;
    let mut summary = WorkspaceSummary {
        workspace: ws.clone(),
        roots: vec!["/".into()],
        created: !before.workspaces()?.contains(&ws),
        ..Default::default()
    };
    let mut changes = Vec::with_capacity(found.len());
    for c in found {
        let c = to_change(&ws, c, before)?;
        summary.count(&c);
        changes.push(c);
    }
    Ok(PackageComparison {
        changes,
        summary: Summary {
            workspaces: vec![summary],
            ..Summary::default()
        },
    })
}

/// Installs `archive` (as `jcrpack import` does: one recorded operation that `undo`
/// reverts), whatever `options.dry_run` says.
pub fn restore_package(
    store: &mut dyn Store,
    archive: &dyn Archive,
    options: &ImportOptions,
) -> Result<Report, ImportError> {
    let mut opts = options.clone();
    opts.dry_run = false;
    import::install_archive(store, archive, &opts)
}

/// A `jcrpack diff` change as a restore change of workspace `ws`; a deletion
/// counts the subtree it removes (read through `before`).
fn to_change(ws: &str, c: NodeChange, before: &dyn StoreRead) -> Result<Change, RepositoryError> {
    let change = match c.change {
        diff::Change::Added => ChangeKind::Added,
        diff::Change::Deleted => ChangeKind::Deleted,
        diff::Change::Changed => ChangeKind::Changed,
    };
    let nodes = match change {
        ChangeKind::Added => 1,
        ChangeKind::Changed => 0,
        ChangeKind::Deleted => {
            let mut n = 0;
            for e in before.walk(ws, &c.path)? {
                e?;
                n += 1;
            }
            n
        }
    };
    Ok(Change {
        workspace: ws.to_string(),
        path: c.path,
        change,
        primary_type: c.primary_type,
        mixins: c.mixins,
        properties: c.properties,
        order: None,
        nodes,
    })
}
