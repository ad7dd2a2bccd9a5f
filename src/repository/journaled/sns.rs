//! Same-name-sibling indexes in stored paths, for the backends that keep each
//! node's path in a column (SQLite, PostgreSQL) over a small row reader
//! ([`PathRows`]).
//!
//! Every node's stored path is its parent's path plus `name` or `name[n]`, where
//! `n` is its rank among same-name siblings by (position, id). Changes that alter
//! ranks (removing, inserting before, reordering, restoring) call [`fix_sns`],
//! which renames the affected siblings' subtrees in two phases (first to
//! temporary paths `#id`, then to their final paths) so that a unique path index
//! never sees two nodes on one path. Temporary paths start with `#`, so they never
//! fall inside a real subtree's range.

use crate::path;
use crate::repository::Result;

/// What [`fix_sns`] needs of a node.
pub(crate) struct PathRow {
    /// The node's id.
    pub id: i64,
    /// Its position among its siblings.
    pub position: i64,
    /// Its stored path.
    pub path: String,
}

/// The reads and the one write of stored paths that [`fix_sns`] and
/// [`close_gap`] need.
pub(crate) trait PathRows {
    /// The node at path `p` of workspace `ws`.
    fn row_by_path(&self, ws: i64, p: &str) -> Result<Option<PathRow>>;
    /// The node with id `id`.
    fn row_by_id(&self, id: i64) -> Result<Option<PathRow>>;
    /// Whether a node is at path `p` of workspace `ws`.
    fn exists_at(&self, ws: i64, p: &str) -> Result<bool>;
    /// Renames the subtree at `old` to `new` (the node and all its descendants).
    fn move_subtree(&self, ws: i64, old: &str, new: &str) -> Result<()>;
}

/// The temporary path of node `id` while its siblings are renumbered.
pub(crate) fn temp_path(id: i64) -> String {
    format!("#{id}")
}

/// The path of the `index`th child called `name` below `parent`.
pub(crate) fn child_path(parent: &str, name: &str, index: u32) -> String {
    path::join_child(parent, name, index)
}

/// Gives the children of `parent` called `name` (plus the nodes `extra`, which
/// may sit on temporary paths) the indexes their order calls for, renaming their
/// subtrees as needed.
pub(crate) fn fix_sns<R: PathRows + ?Sized>(
    db: &R,
    ws: i64,
    parent: &str,
    name: &str,
    extra: &[i64],
) -> Result<()> {
    let mut members: Vec<PathRow> = Vec::new();
    let mut k = 1u32;
    while let Some(row) = db.row_by_path(ws, &child_path(parent, name, k))? {
        members.push(row);
        k += 1;
    }
    for &id in extra {
        if members.iter().any(|m| m.id == id) {
            continue;
        }
        if let Some(row) = db.row_by_id(id)? {
            members.push(row);
        }
    }
    members.sort_by_key(|m| (m.position, m.id));
    let wrong: Vec<(i64, String, String)> = members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let want = child_path(parent, name, i as u32 + 1);
            (m.path != want).then(|| (m.id, m.path.clone(), want))
        })
        .collect();
    for (id, current, _) in &wrong {
        let tmp = temp_path(*id);
        if *current != tmp {
            db.move_subtree(ws, current, &tmp)?;
        }
    }
    for (id, _, want) in &wrong {
        db.move_subtree(ws, &temp_path(*id), want)?;
    }
    Ok(())
}

/// After the child `name[index]` of `parent` was removed, moves its later same-name
/// siblings down one index.
pub(crate) fn close_gap<R: PathRows + ?Sized>(
    db: &R,
    ws: i64,
    parent: &str,
    name: &str,
    index: u32,
) -> Result<()> {
    let mut k = index + 1;
    loop {
        let from = child_path(parent, name, k);
        if !db.exists_at(ws, &from)? {
            return Ok(());
        }
        db.move_subtree(ws, &from, &child_path(parent, name, k - 1))?;
        k += 1;
    }
}
