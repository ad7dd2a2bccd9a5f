//! The journal tables: operations and their before-images, which the journaled
//! layer records through the operation log of `backend`.
//!
//! `jnode` keeps a node's type, mixins, parent, name and position (or "did not
//! exist"), `jprop` a property's stored form (or "did not exist"), `jreg` a
//! namespace, node type or workspace registration. The primary keys (op, item)
//! make "first" automatic: later images are `INSERT OR IGNORE`d. Nodes the
//! operation created need no property images (undo removes them whole), and are
//! recorded in one statement at commit: they are exactly the nodes whose ids were
//! handed out by the operation (ids only grow), and recording them there rather
//! than one by one keeps bulk inserts near SQLite's raw insert rate.
//!
//! What that costs (issue 16, measured on the 1M benchmark package, 1,068,681
//! created nodes): the created nodes' `jnode` rows and their `jnode_node` index
//! are 132 of the database's 654 MiB, and their `INSERT ... SELECT` about 0.6 s of
//! CPU (1.3 s of wall time on a loaded machine), the largest part of the commit
//! after the WAL checkpoint, which copies every page of the transaction (160k
//! frames) once more. One row per created subtree instead would shrink both, but
//! the rows' paths are what `operation` lists and what undo and the conflict
//! checks read by node, so every reader (and PostgreSQL's) would have to agree.

use super::txn::State;
use super::Db;
use crate::repository::{OperationId, OperationMeta, OperationSummary, Result};
use crate::value::Date;
use rusqlite::params;

/// `jreg.kind` of namespace registrations (key: prefix, value: URI).
pub(crate) const REG_NAMESPACE: &str = "namespace";
/// `jreg.kind` of node type registrations (key: type name, value: CND).
pub(crate) const REG_NODE_TYPE: &str = "nodetype";

/// `jreg.kind` of workspaces (key: name, value: the workspace's id as text).
pub(crate) const REG_WORKSPACE: &str = "workspace";

/// Records a new operation and returns its id. Ids are never reused: after the
/// oldest operations were pruned (`meta.pruned_through`), ids go on from there.
pub(crate) fn insert_operation(db: &Db<'_>, meta: &OperationMeta) -> Result<i64> {
    db.conn
        .prepare_cached(
            "INSERT INTO op(id, time, user, description, install_id, package_id, options)
             VALUES (max(coalesce((SELECT max(id) FROM op), 0),
                         coalesce((SELECT CAST(value AS INTEGER) FROM meta
                                   WHERE key = 'pruned_through'), 0)) + 1,
                     ?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                meta.time.to_string(),
                meta.user,
                meta.description,
                meta.install_id,
                meta.package_id,
                meta.options.to_string()
            ])
        })
        .map_err(|e| db.err(e))?;
    Ok(db.conn.last_insert_rowid())
}

/// Records the nodes an operation created (still there at commit, workspace roots
/// aside) and stores its counts. Its node count is the before-images recorded so
/// far plus the rows this insert adds (`INSERT OR IGNORE` counts only those), so the
/// created nodes' rows are not counted again: at 100k created nodes that scan of
/// `jnode` was a tenth of the commit's statements.
pub(crate) fn finish_operation(db: &Db<'_>, st: &State, op: i64) -> Result<()> {
    let started = std::time::Instant::now();
    let imaged: i64 = db
        .conn
        .prepare_cached("SELECT count(*) FROM jnode WHERE op = ?1")
        .and_then(|mut s| s.query_row(params![op], |r| r.get(0)))
        .map_err(|e| db.err(e))?;
    let created = db
        .conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed)
             SELECT ?1, id, ws, path, 0 FROM node
             WHERE id >= ?2 AND id < ?3 AND parent IS NOT NULL",
        )
        .and_then(|mut s| s.execute(params![op, st.first_id, st.next_id]))
        .map_err(|e| db.err(e))?;
    let recorded = started.elapsed();
    // Properties: those with a before-image, and those of the nodes it created
    // (which need none, but which it did set).
    db.conn
        .prepare_cached(
            "UPDATE op SET nodes = ?4,
                           props = (SELECT count(*) FROM jprop WHERE op = ?1)
                                 + (SELECT count(*) FROM prop WHERE node >= ?2 AND node < ?3),
                           regs = (SELECT count(*) FROM jreg WHERE op = ?1)
             WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                op,
                st.first_id,
                st.next_id,
                imaged + created as i64
            ])
        })
        .map_err(|e| db.err(e))?;
    // Where the commit of a large install spends its time (issue 16).
    tracing::debug!(
        "operation {op}: {created} created nodes recorded in {:.3} s, counted in {:.3} s",
        recorded.as_secs_f64(),
        (started.elapsed() - recorded).as_secs_f64()
    );
    Ok(())
}

pub(crate) const SUMMARY_COLS: &str =
    "id, time, user, description, install_id, package_id, undoes, nodes, props, regs";

pub(crate) fn summary(db: &Db<'_>, r: &rusqlite::Row<'_>) -> Result<OperationSummary> {
    let get = |e: rusqlite::Error| db.err(e);
    let id: i64 = r.get(0).map_err(get)?;
    let time: String = r.get(1).map_err(get)?;
    Ok(OperationSummary {
        id: OperationId(id),
        time: Date::parse(&time)
            .ok_or_else(|| db.corrupt(format!("operation {id} has the time '{time}'")))?,
        user: r.get(2).map_err(get)?,
        description: r.get(3).map_err(get)?,
        install_id: r.get(4).map_err(get)?,
        package_id: r.get(5).map_err(get)?,
        undoes: r.get::<_, Option<i64>>(6).map_err(get)?.map(OperationId),
        nodes_touched: r.get::<_, i64>(7).map_err(get)? as u64,
        properties_touched: r.get::<_, i64>(8).map_err(get)? as u64,
        registrations_touched: r.get::<_, i64>(9).map_err(get)? as u64,
    })
}

impl<'c> Db<'c> {
    /// [`crate::repository::StoreRead::history`].
    pub fn history(&self) -> Result<Vec<OperationSummary>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {SUMMARY_COLS} FROM op ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            out.push(summary(self, r)?);
        }
        Ok(out)
    }
}
