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

use super::journal;
use super::read::{descendant_bounds, NodeRow, NODE_COLS};
use super::schema::GAP;
use super::txn::State;
use super::Db;
use crate::path::{self, Segment};
use crate::repository::Result;
use rusqlite::{params, OptionalExtension};

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

/// How many children of `parent` are called `name`, by probing `name`, `name[2]`,
/// `name[4]`, ... and bisecting (indexes are always contiguous from 1).
pub(crate) fn sns_count(db: &Db<'_>, ws: i64, parent: &str, name: &str) -> Result<u32> {
    if !exists(db, ws, &child_path(parent, name, 1))? {
        return Ok(0);
    }
    let mut lo = 1u32; // exists
    let mut hi = 2u32;
    while exists(db, ws, &child_path(parent, name, hi))? {
        lo = hi;
        hi = match hi.checked_mul(2) {
            Some(h) => h,
            None => return Ok(hi),
        };
    }
    // lo exists, hi does not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if exists(db, ws, &child_path(parent, name, mid))? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
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
pub(crate) fn fix_sns(
    db: &Db<'_>,
    st: &mut State,
    ws: i64,
    parent: &str,
    name: &str,
    extra: &[i64],
) -> Result<()> {
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
    st.ids.clear();
    Ok(())
}

/// After the child `name[index]` of `parent` was removed, moves its later same-name
/// siblings down one index.
pub(crate) fn close_gap(
    db: &Db<'_>,
    st: &mut State,
    ws: i64,
    parent: &str,
    name: &str,
    index: u32,
) -> Result<()> {
    let mut k = index + 1;
    loop {
        let from = child_path(parent, name, k);
        if !exists(db, ws, &from)? {
            break;
        }
        move_subtree(db, ws, &from, &child_path(parent, name, k - 1))?;
        k += 1;
    }
    st.ids.clear();
    Ok(())
}

/// How many parents' last positions [`State::tails`] keeps before starting over.
const TAILS: usize = 4096;

/// The position after the last child of `parent`.
pub(crate) fn append_position(db: &Db<'_>, st: &mut State, parent: i64) -> Result<i64> {
    let max: Option<i64> = match st.tails.get(&parent) {
        Some(&t) => Some(t),
        None => db
            .conn
            .prepare_cached("SELECT max(position) FROM node WHERE parent = ?1")
            .and_then(|mut s| s.query_row([parent], |r| r.get(0)))
            .map_err(|e| db.err(e))?,
    };
    let position = match max {
        None => GAP,
        Some(m) => match m.checked_add(GAP) {
            Some(p) => p,
            None => {
                let n = renumber(db, st, parent)?;
                GAP.saturating_mul(n as i64 + 1)
            }
        },
    };
    if st.tails.len() >= TAILS {
        st.tails.clear();
    }
    st.tails.insert(parent, position);
    Ok(position)
}

/// A position just before sibling `before` of `parent`, ignoring `moving` (the node
/// being moved, if any); renumbers the siblings when there is no room.
pub(crate) fn position_before(
    db: &Db<'_>,
    st: &mut State,
    parent: i64,
    before: i64,
    moving: Option<i64>,
) -> Result<i64> {
    for _ in 0..2 {
        let b = db
            .row_by_id(before)?
            .ok_or_else(|| db.corrupt(format!("node id {before} vanished")))?;
        let prev: Option<i64> = db
            .conn
            .prepare_cached(
                "SELECT position FROM node WHERE parent = ?1 AND (position, id) < (?2, ?3)
                 AND id <> ?4 ORDER BY position DESC, id DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![parent, b.position, b.id, moving.unwrap_or(0)],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(|e| db.err(e))?;
        match prev {
            None => {
                if let Some(p) = b.position.checked_sub(GAP) {
                    return Ok(p);
                }
            }
            Some(p) => {
                let room = b.position as i128 - p as i128;
                if room >= 2 {
                    return Ok((p as i128 + room / 2) as i64);
                }
            }
        }
        renumber(db, st, parent)?;
    }
    Err(db.corrupt(format!(
        "cannot find room before node id {before} even after renumbering"
    )))
}

/// Spaces the children of `parent` [`GAP`] apart again, in their current order,
/// journaling the position of each that moves. Returns the number of children.
pub(crate) fn renumber(db: &Db<'_>, st: &mut State, parent: i64) -> Result<usize> {
    st.tails.clear();
    let rows: Vec<NodeRow> = {
        let mut s = db
            .conn
            .prepare_cached(&format!(
                "SELECT {NODE_COLS} FROM node WHERE parent = ?1 ORDER BY position, id"
            ))
            .map_err(|e| db.err(e))?;
        let it = s
            .query_map([parent], NodeRow::from_row)
            .map_err(|e| db.err(e))?;
        it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
    };
    for (i, row) in rows.iter().enumerate() {
        let want = GAP.saturating_mul(i as i64 + 1);
        if row.position != want {
            journal::touch_node(db, st, row)?;
            db.conn
                .prepare_cached("UPDATE node SET position = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![row.id, want]))
                .map_err(|e| db.err(e))?;
        }
    }
    Ok(rows.len())
}
