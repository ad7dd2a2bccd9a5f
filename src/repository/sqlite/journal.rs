//! The journal tables: operations and their before-images, which the journaled
//! layer records through the operation log of `backend`.
//!
//! `jnode` keeps a node's type, mixins, parent, name and position (or "did not
//! exist"), `jprop` a property's stored form (or "did not exist"), `jreg` a
//! namespace, node type or workspace registration. The primary keys (op, item)
//! make "first" automatic: later images are `INSERT OR IGNORE`d. Nodes the
//! operation created need no property images (undo removes them whole).
//!
//! # Created nodes: one range per operation
//!
//! The nodes an operation created are exactly those whose ids it handed out (ids
//! only grow, and one write transaction at a time holds `meta.next_node_id`), so
//! at commit it records that range in `jcreated` instead of a `jnode` row per
//! node: a created node's image (its path at the operation's end, "did not
//! exist") is its row in `node`, for as long as that row is what it was then.
//! Nothing but a move (`tree::move_subtree`, which same-name renumbering uses
//! too) or a removal (`write::remove_subtree`, `write::drop_workspace`) changes a
//! node's path or drops its row, and each first *freezes* the nodes it is about
//! to change ([`freeze_subtree`], [`freeze_workspace`]): it writes the `jnode`
//! row the range stood for, with the path the node still has. A `jnode` row of
//! the operation wins over its range, so every reader ([`NODE_IMAGES_PAGE`],
//! [`NODE_IMAGE`], [`OPS_TOUCHING_NODE`]) gives the answers the per-node rows
//! gave; the operation's counts are stored at commit as before.
//!
//! What that saves (issue 16): at the 1M benchmark package (1,068,681 created
//! nodes) their `jnode` rows and `jnode_node` index were 132 of the database's
//! 654 MiB, and their `INSERT ... SELECT` about 0.6 s of CPU (1.3 s of wall time
//! on a loaded machine) of the commit, plus their pages in the WAL checkpoint;
//! at 100k nodes the database goes from 61.8 to 49.1 MB, and at 20k
//! [`finish_operation`] from 132 to 35 million instructions. The rows are written
//! only for the created nodes a later operation moves or removes, by that
//! operation: undoing a whole install freezes every node it created (about 0.4 s
//! more CPU at 100k nodes).
//! Operations recorded before (schema versions 1 to 3), undo's re-inserted nodes
//! (old ids) and frozen nodes keep per-node rows, which read the same.

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
/// aside) as the range of ids it handed out, and stores its counts. Its node count
/// is the before-images recorded (none of a node it created) plus the created
/// nodes, its property count the property images plus the created nodes'
/// properties.
pub(crate) fn finish_operation(db: &Db<'_>, st: &State, op: i64) -> Result<()> {
    let started = std::time::Instant::now();
    let imaged: i64 = db
        .conn
        .prepare_cached("SELECT count(*) FROM jnode WHERE op = ?1")
        .and_then(|mut s| s.query_row(params![op], |r| r.get(0)))
        .map_err(|e| db.err(e))?;
    let created: i64 = db
        .conn
        .prepare_cached(
            "SELECT count(*) FROM node WHERE id >= ?1 AND id < ?2 AND parent IS NOT NULL",
        )
        .and_then(|mut s| s.query_row(params![st.first_id, st.next_id], |r| r.get(0)))
        .map_err(|e| db.err(e))?;
    if st.next_id > st.first_id {
        db.conn
            .prepare_cached("INSERT INTO jcreated(op, lo, hi) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![op, st.first_id, st.next_id]))
            .map_err(|e| db.err(e))?;
    }
    let recorded = started.elapsed();
    db.conn
        .prepare_cached(
            "UPDATE op SET nodes = ?4,
                           props = (SELECT count(*) FROM jprop WHERE op = ?1)
                                 + (SELECT count(*) FROM prop WHERE node >= ?2 AND node < ?3),
                           regs = (SELECT count(*) FROM jreg WHERE op = ?1)
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![op, st.first_id, st.next_id, imaged + created]))
        .map_err(|e| db.err(e))?;
    // Where the commit of a large install spends its time (issue 16).
    tracing::debug!(
        "operation {op}: {created} created nodes recorded in {:.3} s, counted in {:.3} s",
        recorded.as_secs_f64(),
        (started.elapsed() - recorded).as_secs_f64()
    );
    Ok(())
}

/// The `jnode` row each node of the selection `{nodes}` (a `FROM node n WHERE ...`
/// tail) stands for as a created node of an earlier operation: the operation
/// whose range holds its id (the one with the smallest `hi` above it).
macro_rules! freeze_sql {
    ($nodes:literal) => {
        concat!(
            "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed)
             SELECT c.op, n.id, n.ws, n.path, 0
             FROM node n CROSS JOIN jcreated c
             WHERE ",
            $nodes,
            " AND n.parent IS NOT NULL
               AND c.hi = (SELECT min(hi) FROM jcreated WHERE hi > n.id) AND c.lo <= n.id"
        )
    };
}

/// Writes the `jnode` rows of the created nodes at `path` in workspace `ws` and
/// below (see the module doc), before a move or removal changes their paths.
pub(crate) fn freeze_subtree(db: &Db<'_>, ws: i64, path: &str) -> Result<()> {
    if !any_ranges(db)? {
        return Ok(());
    }
    let (lo, hi) = super::read::descendant_bounds(path);
    db.conn
        .prepare_cached(freeze_sql!("n.ws = ?1 AND n.path = ?2"))
        .and_then(|mut s| s.execute(params![ws, path]))
        .map_err(|e| db.err(e))?;
    db.conn
        .prepare_cached(freeze_sql!("n.ws = ?1 AND n.path > ?2 AND n.path < ?3"))
        .and_then(|mut s| s.execute(params![ws, lo, hi]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Writes the `jnode` rows of the created nodes of workspace `ws` (see the module
/// doc), before the workspace goes.
pub(crate) fn freeze_workspace(db: &Db<'_>, ws: i64) -> Result<()> {
    if !any_ranges(db)? {
        return Ok(());
    }
    db.conn
        .prepare_cached(freeze_sql!("n.ws = ?1"))
        .and_then(|mut s| s.execute(params![ws]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Whether any operation recorded its created nodes as a range (a repository
/// whose history has none skips the scans of freezing).
fn any_ranges(db: &Db<'_>) -> Result<bool> {
    db.conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM jcreated)")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(|e| db.err(e))
}

/// The columns of a node image, in the order `backend` reads them.
macro_rules! image_sql {
    ($jnode:literal, $range:literal, $tail:literal) => {
        concat!(
            "SELECT node, ws, path, existed, parent, name, position, ptype, mixins
             FROM jnode WHERE op = ?1 AND ",
            $jnode,
            " UNION ALL
             SELECT n.id, n.ws, n.path, 0, NULL, NULL, NULL, NULL, NULL
             FROM jcreated c CROSS JOIN node n
             WHERE c.op = ?1 AND n.id >= c.lo AND n.id < c.hi AND ",
            $range,
            " AND n.parent IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM jnode j WHERE j.op = ?1 AND j.node = n.id) ",
            $tail
        )
    };
}

/// The node images of operation ?1 after node ?2 in node order, at most ?3: its
/// rows in `jnode` and the created nodes its range stands for.
pub(crate) const NODE_IMAGES_PAGE: &str =
    image_sql!("node > ?2", "n.id > ?2", "ORDER BY 1 LIMIT ?3");

/// The image of node ?2 in operation ?1 (at most one row).
pub(crate) const NODE_IMAGE: &str = image_sql!("node = ?2", "n.id = ?2", "");

/// The operations after ?2 that recorded an image of node ?1 or of one of its
/// properties, or created it (its range holds it and its row is there: a created
/// node that went has a `jnode` row), ascending.
pub(crate) const OPS_TOUCHING_NODE: &str = "SELECT op FROM jnode WHERE node = ?1 AND op > ?2
     UNION SELECT op FROM jprop WHERE node = ?1 AND op > ?2
     UNION SELECT c.op FROM node n CROSS JOIN jcreated c
       WHERE n.id = ?1 AND n.parent IS NOT NULL
         AND c.hi = (SELECT min(hi) FROM jcreated WHERE hi > ?1) AND c.lo <= ?1 AND c.op > ?2
     ORDER BY 1";

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
