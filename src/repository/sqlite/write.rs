//! The row-level writes the primitives of `backend` use: encoding properties,
//! inserting node and property rows, removing subtrees and workspaces with their
//! same-name siblings kept right. Nothing here checks arguments the journaled
//! layer checks, and nothing is journaled here: the layer above records
//! before-images through the operation log.

use super::codec;
use super::journal;
use super::read::{descendant_bounds, index_of, NodeRow};
use super::tree;
use super::txn::Prepared;
use super::Db;
use crate::path;
use crate::repository::{RepositoryError, Result};
use crate::value::{Binary, Property, Value};
use rusqlite::params;
use std::borrow::Cow;

/// A property checked and encoded for storage, borrowing from it what it can.
pub(crate) struct Encoded<'p> {
    pub name: &'p str,
    pub code: i64,
    pub multiple: bool,
    pub value: Cow<'p, str>,
}

/// Encodes `p` of the node at `node_path()` (asked for a message only) for
/// storage. The journaled layer has checked it and stored its binaries as
/// blobs; anything else is refused.
pub(crate) fn encode_property<'p>(
    db: &Db<'_>,
    node_path: &dyn Fn() -> String,
    p: &'p Property,
) -> Result<Encoded<'p>> {
    if let Some(v) = p.values.iter().find(|v| {
        matches!(v, Value::Binary(b) if !matches!(b, Binary::Blob { .. } | Binary::Reference(_)))
    }) {
        return Err(db.corrupt(format!(
            "property {} of {} reached the store with the binary {v:?}",
            p.name,
            node_path()
        )));
    }
    let value = codec::stored_text(p).ok_or_else(|| {
        db.corrupt(format!(
            "property {} of {} cannot be encoded",
            p.name,
            node_path()
        ))
    })?;
    Ok(Encoded {
        name: &p.name,
        code: codec::type_code(p.ptype),
        multiple: p.multiple,
        value,
    })
}

/// Properties written per `INSERT` statement.
pub(crate) const PROPS_PER_INSERT: usize = 8;

/// How a property `INSERT` meets a row of its (node, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// Replaces it (`INSERT OR REPLACE`): setting properties of any node.
    Replace,
    /// Fails (`INSERT OR FAIL`), leaving the rows the statement wrote before:
    /// the first properties of a node just inserted, which has no row to meet
    /// (its id was free), under distinct names. SQLite runs a statement that
    /// may *abort* halfway (`OR REPLACE` does, for a `NOT NULL` column without
    /// a default) inside a statement transaction, copying every page it
    /// changes to the statement journal first; one that may only *fail* needs
    /// none (issue 16: 5 % of a fresh install's instructions at 10k nodes,
    /// measured). A conflict all the same is corruption, an error either way.
    New,
}

/// `INSERT OR REPLACE` or `INSERT OR FAIL` statements ([`Rows`]) for 1 to
/// [`PROPS_PER_INSERT`] property rows.
pub(crate) fn props_insert_sql(rows: usize, kind: Rows) -> &'static str {
    static SQL: std::sync::OnceLock<[Vec<String>; 2]> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        ["REPLACE", "FAIL"].map(|conflict| {
            (0..=PROPS_PER_INSERT)
                .map(|n| {
                    let values = vec!["(?, ?, ?, ?, ?)"; n.max(1)].join(", ");
                    format!(
                        "INSERT OR {conflict} INTO prop(node, name, type, multiple, value) VALUES {values}"
                    )
                })
                .collect()
        })
    });
    all[(kind == Rows::New) as usize]
        .get(rows.min(PROPS_PER_INSERT))
        .map(String::as_str)
        .unwrap_or_default()
}

/// Writes encoded properties of node `id` (no journaling), several rows per
/// statement, with the transaction's statements, meeting existing rows as
/// `kind` says.
pub(crate) fn write_props<'s>(
    db: &Db<'s>,
    prepared: &mut Prepared<'s>,
    id: i64,
    props: &[Encoded<'_>],
    kind: Rows,
) -> Result<()> {
    for chunk in props.chunks(PROPS_PER_INSERT) {
        let st = prepared.props(db, chunk.len(), kind)?;
        let mut i = 1;
        for e in chunk {
            st.raw_bind_parameter(i, id).map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 1, e.name)
                .map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 2, e.code)
                .map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 3, e.multiple)
                .map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 4, e.value.as_ref())
                .map_err(|e| db.err(e))?;
            i += 5;
        }
        st.raw_execute().map_err(|e| db.err(e))?;
    }
    Ok(())
}

/// The node row's `INSERT`.
pub(crate) const NODE_INSERT: &str =
    "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Inserts a node row, with the transaction's statement.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_node<'s>(
    db: &Db<'s>,
    prepared: &mut Prepared<'s>,
    id: i64,
    ws: i64,
    parent: i64,
    name: &str,
    position: i64,
    p: &str,
    ptype: &str,
    mixins: &str,
) -> Result<()> {
    prepared
        .node(db)?
        .execute(params![id, ws, parent, name, position, p, ptype, mixins])
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Removes the subtree at `row` and closes the same-name gap (the journal's images
/// of the nodes earlier operations created are frozen first).
pub(crate) fn remove_subtree(db: &Db<'_>, workspace: &str, row: &NodeRow) -> Result<u64> {
    if row.parent.is_none() {
        return Err(RepositoryError::NotAllowed {
            workspace: workspace.to_string(),
            path: row.path.clone(),
            action: "remove",
            reason: "the root node cannot be removed".into(),
        });
    }
    let (lo, hi) = descendant_bounds(&row.path);
    let ws = row.ws;
    // The journal's images of the nodes earlier operations created (`journal`).
    journal::freeze_subtree(db, ws, &row.path)?;
    db.conn
        .prepare_cached(
            "DELETE FROM prop WHERE node IN
               (SELECT id FROM node WHERE ws = ?1 AND path > ?2 AND path < ?3)",
        )
        .and_then(|mut s| s.execute(params![ws, lo, hi]))
        .map_err(|e| db.err(e))?;
    db.conn
        .prepare_cached("DELETE FROM prop WHERE node = ?1")
        .and_then(|mut s| s.execute([row.id]))
        .map_err(|e| db.err(e))?;
    let below = db
        .conn
        .prepare_cached("DELETE FROM node WHERE ws = ?1 AND path > ?2 AND path < ?3")
        .and_then(|mut s| s.execute(params![ws, lo, hi]))
        .map_err(|e| db.err(e))?;
    db.conn
        .prepare_cached("DELETE FROM node WHERE id = ?1")
        .and_then(|mut s| s.execute([row.id]))
        .map_err(|e| db.err(e))?;
    if let Some(parent) = path::parent(&row.path) {
        let index = index_of(db, &row.path)?;
        tree::close_gap(db, ws, parent, &row.name, index)?;
    }
    Ok(below as u64 + 1)
}

/// Deletes workspace `ws` and its nodes with their properties (freezing the
/// journal's images of those earlier operations created); returns how many nodes
/// went.
pub(crate) fn drop_workspace(db: &Db<'_>, ws: i64) -> Result<u64> {
    journal::freeze_workspace(db, ws)?;
    db.conn
        .prepare_cached("DELETE FROM prop WHERE node IN (SELECT id FROM node WHERE ws = ?1)")
        .and_then(|mut s| s.execute([ws]))
        .map_err(|e| db.err(e))?;
    let nodes = db
        .conn
        .prepare_cached("DELETE FROM node WHERE ws = ?1")
        .and_then(|mut s| s.execute([ws]))
        .map_err(|e| db.err(e))?;
    db.conn
        .prepare_cached("DELETE FROM workspace WHERE id = ?1")
        .and_then(|mut s| s.execute([ws]))
        .map_err(|e| db.err(e))?;
    Ok(nodes as u64)
}
