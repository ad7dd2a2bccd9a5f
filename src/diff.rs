//! Node-level and property-level differences between two states of a repository:
//! what `jcrpack diff` shows before an install writes anything.
//!
//! [`plan`] runs the real install of a package as a dry run (rolled back) and
//! compares every node it acted on with the repository before it: the list of
//! [`NodeChange`]s, deletions first. [`compare_node`] compares one node.

use crate::archive::Archive;
use crate::events::{Event, Events, Unit};
use crate::import::spill::PathSet;
use crate::import::{self, Action, ImportError, ImportOptions};
use crate::repository::{RepositoryError, Result, Store, StoreRead};
use crate::value::Property;
use serde::Serialize;

/// What happens to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The node is new.
    Added,
    /// The node is removed, with its subtree.
    Deleted,
    /// Its type, mixins or properties change.
    Changed,
}

/// How one property differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// The property name.
    pub name: String,
    /// The value before (its JCR string form; multi-values as `[a, b]`), or `None` when new.
    pub before: Option<String>,
    /// The value after, or `None` when removed.
    pub after: Option<String>,
}

/// What happens to one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeChange {
    /// The node path.
    pub path: String,
    /// Added, deleted (with its subtree) or changed (`added`, `deleted`, `changed`
    /// in JSON).
    pub change: Change,
    /// Primary type before → after, when it changes (or the type of an added node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_type: Option<(Option<String>, Option<String>)>,
    /// Mixins before → after, when they change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixins: Option<(Vec<String>, Vec<String>)>,
    /// Property changes, sorted by name.
    pub properties: Vec<PropertyChange>,
}

/// Formats a property's values for display.
pub fn display_value(p: &Property) -> String {
    let v: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
    if p.multiple {
        format!("[{}]", v.join(", "))
    } else {
        v.into_iter().next().unwrap_or_default()
    }
}

/// Compares the node at `path` in `before` and `after` (one workspace). Returns
/// `None` when nothing differs.
pub fn compare_node(
    before: &dyn StoreRead,
    after: &dyn StoreRead,
    ws: &str,
    path: &str,
) -> Result<Option<NodeChange>> {
    let b = before.node(ws, path)?;
    let a = after.node(ws, path)?;
    let (bp, ap) = (
        if b.is_some() {
            before.properties(ws, path)?
        } else {
            Vec::new()
        },
        if a.is_some() {
            after.properties(ws, path)?
        } else {
            Vec::new()
        },
    );
    let change = match (&b, &a) {
        (None, None) => return Ok(None),
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Deleted,
        (Some(_), Some(_)) => Change::Changed,
    };
    let mut properties = Vec::new();
    if change != Change::Deleted {
        let mut names: Vec<&str> = bp
            .iter()
            .chain(ap.iter())
            .map(|p| p.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            let x = bp.iter().find(|p| p.name == n);
            let y = ap.iter().find(|p| p.name == n);
            if x != y {
                properties.push(PropertyChange {
                    name: n.to_string(),
                    before: x.map(display_value),
                    after: y.map(display_value),
                });
            }
        }
    }
    let bt = b.as_ref().map(|i| i.primary_type.clone());
    let at = a.as_ref().map(|i| i.primary_type.clone());
    let primary_type = (bt != at && change != Change::Deleted).then_some((bt, at));
    let bm = b.as_ref().map(|i| i.mixins.clone()).unwrap_or_default();
    let am = a.as_ref().map(|i| i.mixins.clone()).unwrap_or_default();
    let mixins = (bm != am && change != Change::Deleted).then_some((bm, am));
    if change == Change::Changed
        && properties.is_empty()
        && primary_type.is_none()
        && mixins.is_none()
    {
        return Ok(None);
    }
    Ok(Some(NodeChange {
        path: path.to_string(),
        change,
        primary_type,
        mixins,
        properties,
    }))
}

/// Why [`plan`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The install (dry run) failed: the package cannot be installed.
    #[error("{0}")]
    Install(#[source] Box<ImportError>),
    /// Reading a node before or after the install failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
    /// The install's list of changes, spilled to disk, could not be read back.
    #[error("the list of changes could not be read back: {0}")]
    ReadBack(#[source] std::io::Error),
}

/// What installing `archive` into `store` would change, node by node, deletions
/// first, then the rest in install order; each node once. Nothing is written: the
/// install runs as a dry run (whatever `options.dry_run` says) and is rolled back.
///
/// `before` is a second, read-only handle onto the same repository, which sees it
/// as it was before the install (the install's transaction is not visible to it).
/// Emits a phase `installing (dry run)` without a total, then `comparing` with one
/// step per path the install acted on, then [`Event::Finished`].
pub fn plan(
    before: &dyn StoreRead,
    store: &mut dyn Store,
    archive: &dyn Archive,
    options: &ImportOptions,
    events: &dyn Events,
) -> std::result::Result<Vec<NodeChange>, DiffError> {
    let mut opts = options.clone();
    opts.dry_run = true;
    let ws = opts.workspace.clone();
    let mut changes: Vec<NodeChange> = Vec::new();
    let mut failed: Option<DiffError> = None;
    events.event(&Event::Phase {
        name: "installing (dry run)",
        total: None,
        unit: Unit::Paths,
    });
    let installed = import::install_inspected(store, archive, &opts, &mut |txn, report| {
        match compare_all(before, txn, &ws, report, events) {
            Ok(c) => changes = c,
            // Kept typed; the install is a dry run, rolled back either way.
            Err(e) => failed = Some(e),
        }
        Ok(())
    });
    events.event(&Event::Finished);
    installed.map_err(|e| DiffError::Install(Box::new(e)))?;
    match failed {
        Some(e) => Err(e),
        None => Ok(changes),
    }
}

/// Compares every path `report` lists as acted on (and the nodes below them that it
/// does not list, such as a file's `jcr:content`) between `before` and `after`.
fn compare_all(
    before: &dyn StoreRead,
    after: &dyn StoreRead,
    ws: &str,
    report: &import::Report,
    events: &dyn Events,
) -> std::result::Result<Vec<NodeChange>, DiffError> {
    // Two passes over the report's list (which spills to disk), not a copy of it:
    // memory stays bounded by the changes, with the listed and seen paths as
    // 16-byte hashes (issue 16).
    let mut listed = PathSet::new();
    let mut total = 0u64;
    let mut entries = report.entries.iter();
    for e in &mut entries {
        listed.insert(&e.path);
        if e.action != Action::Unchanged && e.action != Action::Error {
            total += 1;
        }
    }
    if let Some(e) = entries.error {
        return Err(DiffError::ReadBack(e));
    }
    events.event(&Event::Phase {
        name: "comparing",
        total: Some(total),
        unit: Unit::Paths,
    });
    let mut changes = Vec::new();
    let mut seen = PathSet::new();
    // Deletions first, then the rest in install order; each path once.
    for deletions in [true, false] {
        let mut entries = report.entries.iter();
        for e in &mut entries {
            if e.action == Action::Unchanged
                || e.action == Action::Error
                || (e.action == Action::Deleted) != deletions
            {
                continue;
            }
            let p = e.path.as_str();
            events.event(&Event::Advance { amount: 1 });
            if !seen.insert(p) {
                continue;
            }
            if let Some(c) = compare_node(before, after, ws, p)? {
                changes.push(c);
            }
            // Nodes below a changed node that the report does not list (a file's
            // jcr:content).
            for child in after.children(ws, p).unwrap_or_default() {
                if !seen.contains(&child.path) && !listed.contains(&child.path) {
                    if let Some(c) = compare_node(before, after, ws, &child.path)? {
                        seen.insert(&child.path);
                        changes.push(c);
                    }
                }
            }
        }
        if let Some(e) = entries.error {
            return Err(DiffError::ReadBack(e));
        }
    }
    Ok(changes)
}
