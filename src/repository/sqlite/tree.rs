//! Keeping the `path` column right: sibling positions, same-name-sibling indexes,
//! and moving a subtree's paths when an index changes.
//!
//! The renumbering itself is shared with the PostgreSQL backend
//! ([`sns`](crate::repository::journaled::sns), over [`sns::PathRows`], which `Db`
//! implements here).

use super::journal;
use super::read::{descendant_bounds, NodeRow};
use super::Db;
use crate::repository::journaled::sns;
use crate::repository::Result;
use rusqlite::params;

pub(crate) use crate::repository::journaled::sns::{child_path, temp_path};

/// Whether a node exists at `p`.
pub(crate) fn exists(db: &Db<'_>, ws: i64, p: &str) -> Result<bool> {
    let mut st = db
        .conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM node WHERE ws = ?1 AND path = ?2)")
        .map_err(|e| db.err(e))?;
    st.query_row(params![ws, p], |r| r.get(0))
        .map_err(|e| db.err(e))
}

/// Renames the subtree at `old` to `new` (the node and all its descendants),
/// after freezing the journal's image of those an earlier operation created (their
/// paths at its end: `journal`).
pub(crate) fn move_subtree(db: &Db<'_>, ws: i64, old: &str, new: &str) -> Result<()> {
    journal::freeze_subtree(db, ws, old)?;
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

/// Gives the children of `parent` called `name` (plus the nodes `extra`) the
/// indexes their order calls for ([`sns::fix_sns`]).
pub(crate) fn fix_sns(db: &Db<'_>, ws: i64, parent: &str, name: &str, extra: &[i64]) -> Result<()> {
    sns::fix_sns(db, ws, parent, name, extra)
}

/// After the child `name[index]` of `parent` was removed, moves its later same-name
/// siblings down one index ([`sns::close_gap`]).
pub(crate) fn close_gap(db: &Db<'_>, ws: i64, parent: &str, name: &str, index: u32) -> Result<()> {
    sns::close_gap(db, ws, parent, name, index)
}

impl sns::PathRows for Db<'_> {
    fn row_by_path(&self, ws: i64, p: &str) -> Result<Option<sns::PathRow>> {
        Ok(Db::row_by_path(self, ws, p)?.map(path_row))
    }
    fn row_by_id(&self, id: i64) -> Result<Option<sns::PathRow>> {
        Ok(Db::row_by_id(self, id)?.map(path_row))
    }
    fn exists_at(&self, ws: i64, p: &str) -> Result<bool> {
        exists(self, ws, p)
    }
    fn move_subtree(&self, ws: i64, old: &str, new: &str) -> Result<()> {
        move_subtree(self, ws, old, new)
    }
}

fn path_row(r: NodeRow) -> sns::PathRow {
    sns::PathRow {
        id: r.id,
        position: r.position,
        path: r.path,
    }
}
