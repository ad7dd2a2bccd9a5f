//! The journal: recording before-images, and reading the history back.
//!
//! Recording happens on first touch, inside the transaction that changes things:
//! `jnode` keeps a node's type, mixins, parent, name and position (or "did not
//! exist"), `jprop` a property's stored form (or "did not exist"), `jreg` a
//! namespace or node type registration. The primary keys (op, item) make "first"
//! automatic: later touches are `INSERT OR IGNORE`d. Nodes the operation created
//! need no property images (undo removes them whole), and are recorded in one
//! statement at commit: they are exactly the nodes whose ids were handed out by
//! the operation (ids only grow), and recording them there rather than one by one
//! keeps bulk inserts near SQLite's raw insert rate.

use super::read::{descendant_bounds, NodeRow};
use super::txn::State;
use super::Db;
use crate::path;
use crate::repository::{
    OperationDetail, OperationId, OperationMeta, OperationSummary, RepositoryError, Result,
    TouchKind, Touched,
};
use crate::value::Date;
use rusqlite::{params, OptionalExtension};

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
/// aside) and stores its counts.
pub(crate) fn finish_operation(db: &Db<'_>, st: &State, op: i64) -> Result<()> {
    db.conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed)
             SELECT ?1, id, ws, path, 0 FROM node
             WHERE id >= ?2 AND id < ?3 AND parent IS NOT NULL",
        )
        .and_then(|mut s| s.execute(params![op, st.first_id, st.next_id]))
        .map_err(|e| db.err(e))?;
    // Properties: those with a before-image, and those of the nodes it created
    // (which need none, but which it did set).
    db.conn
        .prepare_cached(
            "UPDATE op SET nodes = (SELECT count(*) FROM jnode WHERE op = ?1),
                           props = (SELECT count(*) FROM jprop WHERE op = ?1)
                                 + (SELECT count(*) FROM prop WHERE node >= ?2 AND node < ?3),
                           regs = (SELECT count(*) FROM jreg WHERE op = ?1)
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![op, st.first_id, st.next_id]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Records the node-level before-image of `row`, if this is its first touch.
pub(crate) fn touch_node(db: &Db<'_>, st: &State, row: &NodeRow) -> Result<()> {
    let Some(op) = st.op else { return Ok(()) };
    if st.created_here(row.id) {
        return Ok(());
    }
    db.conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed, parent, name, position, ptype, mixins)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut s| {
            s.execute(params![
                op,
                row.id,
                row.ws,
                row.path,
                row.parent,
                row.name,
                row.position,
                row.ptype,
                row.mixins
            ])
        })
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Records that node `id` did not exist before this operation, for nodes that an
/// undo brings back with their old ids (new ids are recorded at commit).
pub(crate) fn touch_new_node(db: &Db<'_>, st: &State, id: i64, ws: i64, p: &str) -> Result<()> {
    let Some(op) = st.op else { return Ok(()) };
    db.conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed) VALUES (?1, ?2, ?3, ?4, 0)",
        )
        .and_then(|mut s| s.execute(params![op, id, ws, p]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Records the before-image of property `name` of `row`, if this is its first touch.
pub(crate) fn touch_prop(db: &Db<'_>, st: &State, row: &NodeRow, name: &str) -> Result<()> {
    let Some(op) = st.op else { return Ok(()) };
    if st.created_here(row.id) {
        return Ok(());
    }
    db.conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jprop(op, node, name, ws, path, existed, type, multiple, value)
             SELECT ?1, ?2, ?3, ?4, ?5, p.node IS NOT NULL, p.type, p.multiple, p.value
             FROM (SELECT 1) LEFT JOIN prop p ON p.node = ?2 AND p.name = ?3",
        )
        .and_then(|mut s| s.execute(params![op, row.id, name, row.ws, row.path]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Records the before-image of the whole subtree at `row` (nodes and properties)
/// ahead of its removal; items already touched keep their earlier image.
pub(crate) fn touch_subtree(db: &Db<'_>, st: &State, row: &NodeRow) -> Result<()> {
    let Some(op) = st.op else { return Ok(()) };
    let (lo, hi) = descendant_bounds(&row.path);
    // Nodes this transaction created (by id, or brought back by undo) have no
    // before-image.
    const NOT_NEW: &str = "n.id < ?2 AND NOT EXISTS
        (SELECT 1 FROM jnode j WHERE j.op = ?1 AND j.node = n.id AND j.existed = 0)";
    const NODES: &str =
        "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed, parent, name, position, ptype, mixins)
         SELECT ?1, n.id, n.ws, n.path, 1, n.parent, n.name, n.position, n.ptype, n.mixins FROM node n";
    const PROPS: &str =
        "INSERT OR IGNORE INTO jprop(op, node, name, ws, path, existed, type, multiple, value)
         SELECT ?1, p.node, p.name, n.ws, n.path, 1, p.type, p.multiple, p.value
         FROM node n JOIN prop p ON p.node = n.id";
    for head in [NODES, PROPS] {
        db.conn
            .prepare_cached(&format!("{head} WHERE n.id = ?3 AND {NOT_NEW}"))
            .and_then(|mut s| s.execute(params![op, st.first_id, row.id]))
            .map_err(|e| db.err(e))?;
        db.conn
            .prepare_cached(&format!(
                "{head} WHERE n.ws = ?3 AND n.path > ?4 AND n.path < ?5 AND {NOT_NEW}"
            ))
            .and_then(|mut s| s.execute(params![op, st.first_id, row.ws, lo, hi]))
            .map_err(|e| db.err(e))?;
    }
    Ok(())
}

/// The current value of a registration (`None`: not registered).
pub(crate) fn reg_value(db: &Db<'_>, kind: &str, key: &str) -> Result<Option<String>> {
    if kind == REG_NAMESPACE {
        db.conn
            .prepare_cached("SELECT uri FROM namespace WHERE prefix = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| db.err(e))
    } else if kind == REG_WORKSPACE {
        Ok(db.ws_id(key)?.map(|id| id.to_string()))
    } else {
        db.node_type(key)
    }
}

/// Records the before-image of a registration, if this is its first touch.
pub(crate) fn touch_reg(db: &Db<'_>, st: &State, kind: &str, key: &str) -> Result<()> {
    let Some(op) = st.op else { return Ok(()) };
    let old = reg_value(db, kind, key)?;
    db.conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jreg(op, kind, key, existed, value) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![op, kind, key, old.is_some(), old]))
        .map_err(|e| db.err(e))?;
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

    /// [`crate::repository::StoreRead::operation`].
    pub fn operation(&self, id: OperationId) -> Result<OperationDetail> {
        let (summary, options) = {
            let mut st = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {SUMMARY_COLS}, options FROM op WHERE id = ?1"
                ))
                .map_err(|e| self.err(e))?;
            let mut rows = st.query([id.0]).map_err(|e| self.err(e))?;
            let r = rows
                .next()
                .map_err(|e| self.err(e))?
                .ok_or(RepositoryError::OperationNotFound(id))?;
            let options: String = r.get(10).map_err(|e| self.err(e))?;
            let options: serde_json::Value = serde_json::from_str(&options)
                .map_err(|e| self.corrupt(format!("operation {id} has bad options: {e}")))?;
            (summary(self, r)?, options)
        };
        let mut touched = Vec::new();
        let mut names: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT j.ws, j.path, j.existed FROM jnode j WHERE j.op = ?1")
                .map_err(|e| self.err(e))?;
            let rows = st
                .query_map([id.0], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        Touched {
                            workspace: String::new(),
                            path: r.get(1)?,
                            kind: TouchKind::Node,
                            existed: r.get(2)?,
                        },
                    ))
                })
                .map_err(|e| self.err(e))?;
            for t in rows {
                let (ws, mut t) = t.map_err(|e| self.err(e))?;
                t.workspace = match names.get(&ws) {
                    Some(n) => n.clone(),
                    None => {
                        let n = self.ws_name(ws)?;
                        names.insert(ws, n.clone());
                        n
                    }
                };
                touched.push(t);
            }
        }
        {
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT j.ws, j.path, j.name, j.existed FROM jprop j WHERE j.op = ?1",
                )
                .map_err(|e| self.err(e))?;
            let rows = st
                .query_map([id.0], |r| {
                    let p: String = r.get(1)?;
                    let n: String = r.get(2)?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        Touched {
                            workspace: String::new(),
                            path: path::join(&p, &n),
                            kind: TouchKind::Property,
                            existed: r.get(3)?,
                        },
                    ))
                })
                .map_err(|e| self.err(e))?;
            for t in rows {
                let (ws, mut t) = t.map_err(|e| self.err(e))?;
                t.workspace = match names.get(&ws) {
                    Some(n) => n.clone(),
                    None => {
                        let n = self.ws_name(ws)?;
                        names.insert(ws, n.clone());
                        n
                    }
                };
                touched.push(t);
            }
        }
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT kind, key, existed FROM jreg WHERE op = ?1")
                .map_err(|e| self.err(e))?;
            let rows = st
                .query_map([id.0], |r| {
                    let kind: String = r.get(0)?;
                    Ok(Touched {
                        workspace: String::new(),
                        path: r.get(1)?,
                        kind: match kind.as_str() {
                            REG_NAMESPACE => TouchKind::Namespace,
                            REG_WORKSPACE => TouchKind::Workspace,
                            _ => TouchKind::NodeType,
                        },
                        existed: r.get(2)?,
                    })
                })
                .map_err(|e| self.err(e))?;
            for t in rows {
                touched.push(t.map_err(|e| self.err(e))?);
            }
        }
        touched.sort();
        Ok(OperationDetail {
            summary,
            options,
            touched,
        })
    }
}
