//! Keeping the `path` column right: sibling positions, same-name-sibling indexes,
//! and moving a subtree's paths when an index changes.
//!
//! Every node's stored path is its parent's path plus `name` or `name[n]`, where
//! `n` is its rank among same-name siblings by (position, id). Changes that alter
//! ranks (removing, inserting before, reordering, restoring) call [`fix_sns`],
//! which renames the affected siblings' subtrees in two phases (first to
//! temporary paths `#id`, then to their final paths) so that the unique path index
//! never sees two nodes on one path. Temporary paths start with `#`, so they never
//! fall inside a real subtree's range.

use super::read::{descendant_bounds, NodeRow};
use super::Db;
use crate::path::{self, Segment};
use crate::repository::Result;
use rusqlite::params;

/// The temporary path of node `id` while its siblings are renumbered.
pub(crate) fn temp_path(id: i64) -> String {
    format!("#{id}")
}

/// The path of the `index`th child called `name` below `parent`.
pub(crate) fn child_path(parent: &str, name: &str, index: u32) -> String {
    let seg = Segment {
        name: name.to_string(),
        index,
    };
    path::join(parent, &seg.to_string())
}

/// Whether a node exists at `p`.
pub(crate) fn exists(db: &Db<'_>, ws: i64, p: &str) -> Result<bool> {
    let mut st = db
        .conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM node WHERE ws = ?1 AND path = ?2)")
        .map_err(|e| db.err(e))?;
    st.query_row(params![ws, p], |r| r.get(0))
        .map_err(|e| db.err(e))
}

/// Renames the subtree at `old` to `new` (the node and all its descendants).
pub(crate) fn move_subtree(db: &Db<'_>, ws: i64, old: &str, new: &str) -> Result<()> {
    let (lo, hi) = descendant_bounds(old);
    db.conn
        .prepare_cached("UPDATE node SET path = ?3 WHERE ws = ?1 AND path = ?2")
        .and_then(|mut st| st.execute(params![ws, old, new]))
        .map_err(|e| db.err(e))?;
    db.conn
        .prepare_cached(
            "UPDATE node SET path = ?3 || substr(path, length(?2) + 1)
             WHERE ws = ?1 AND path > ?4 AND path < ?5",
        )
        .and_then(|mut st| st.execute(params![ws, old, new, lo, hi]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Gives the children of `parent` called `name` (plus the nodes `extra`, which
/// may sit on temporary paths) the indexes their order calls for, renaming their
/// subtrees as needed.
pub(crate) fn fix_sns(db: &Db<'_>, ws: i64, parent: &str, name: &str, extra: &[i64]) -> Result<()> {
    let mut members: Vec<NodeRow> = Vec::new();
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
    if wrong.is_empty() {
        return Ok(());
    }
    for (id, current, _) in &wrong {
        let tmp = temp_path(*id);
        if *current != tmp {
            move_subtree(db, ws, current, &tmp)?;
        }
    }
    for (id, _, want) in &wrong {
        move_subtree(db, ws, &temp_path(*id), want)?;
    }
    Ok(())
}

/// After the child `name[index]` of `parent` was removed, moves its later same-name
/// siblings down one index.
pub(crate) fn close_gap(db: &Db<'_>, ws: i64, parent: &str, name: &str, index: u32) -> Result<()> {
    let mut k = index + 1;
    loop {
        let from = child_path(parent, name, k);
        if !exists(db, ws, &from)? {
            break;
        }
        move_subtree(db, ws, &from, &child_path(parent, name, k - 1))?;
        k += 1;
    }
    Ok(())
}
