//! The row-level writes the primitives of `backend` use: encoding properties,
//! inserting node and property rows, removing subtrees and workspaces with their
//! same-name siblings kept right. Nothing here checks arguments the journaled
//! layer checks, and nothing is journaled here: the layer above records
//! before-images through the operation log.

use super::codec;
use super::read::{descendant_bounds, index_of, NodeRow};
use super::tree;
use super::Db;
use crate::name;
use crate::path;
use crate::repository::{RepositoryError, Result};
use crate::value::{Binary, Property, PropertyType, Value};
use rusqlite::params;

/// A property checked and encoded for storage.
pub(crate) struct Encoded {
    pub name: String,
    pub code: i64,
    pub multiple: bool,
    pub value: String,
}

/// Checks and encodes `p` for node `path`, storing inline binaries as blobs.
pub(crate) fn encode_property(
    db: &Db<'_>,
    workspace: &str,
    node_path: &str,
    p: &Property,
) -> Result<Encoded> {
    let bad = |reason: String| RepositoryError::InvalidProperty {
        workspace: workspace.to_string(),
        path: node_path.to_string(),
        name: p.name.clone(),
        reason,
    };
    name::validate(&p.name).map_err(|e| bad(e.to_string()))?;
    if p.name == "jcr:primaryType" || p.name == "jcr:mixinTypes" {
        return Err(bad(
            "the primary type and mixins are node fields: use set_primary_type or set_mixins"
                .into(),
        ));
    }
    if p.ptype == PropertyType::Undefined {
        return Err(bad(
            "the type is undefined; give the property a concrete type".into(),
        ));
    }
    if !p.multiple && p.values.len() != 1 {
        return Err(bad(format!(
            "a single-valued property needs exactly one value, not {}",
            p.values.len()
        )));
    }
    if let Some(v) = p.values.iter().find(|v| v.ptype() != p.ptype) {
        return Err(bad(format!(
            "it is declared {} but has a {} value",
            p.ptype,
            v.ptype()
        )));
    }
    if p.name == "jcr:uuid" && (p.multiple || p.ptype != PropertyType::String) {
        return Err(bad("jcr:uuid must be a single String".into()));
    }
    let mut stored = std::borrow::Cow::Borrowed(p);
    if p.ptype == PropertyType::Binary {
        let mut values = Vec::with_capacity(p.values.len());
        for v in &p.values {
            values.push(match v {
                Value::Binary(Binary::Inline(bytes)) => Value::Binary(db.blobs.put_bytes(bytes)?),
                Value::Binary(Binary::Blob { sha256, size }) => {
                    db.blobs.check(sha256, *size)?;
                    v.clone()
                }
                Value::Binary(Binary::Reference(_)) => v.clone(),
                Value::Binary(Binary::Entry { entry, .. }) => {
                    return Err(bad(format!(
                        "its value is still in package entry {entry}; store it with put_blob first"
                    )))
                }
                Value::Binary(Binary::Placeholder) => {
                    return Err(bad(
                        "its value is a {Binary} placeholder without content".into()
                    ))
                }
                other => other.clone(),
            });
        }
        stored = std::borrow::Cow::Owned(Property {
            name: p.name.clone(),
            ptype: p.ptype,
            multiple: p.multiple,
            values,
        });
    }
    let value =
        codec::encode_values(&stored).ok_or_else(|| bad("its values cannot be encoded".into()))?;
    Ok(Encoded {
        name: p.name.clone(),
        code: codec::type_code(p.ptype),
        multiple: p.multiple,
        value,
    })
}

/// Properties written per `INSERT` statement.
const PROPS_PER_INSERT: usize = 8;

/// `INSERT OR REPLACE` statements for 1 to [`PROPS_PER_INSERT`] property rows.
fn props_insert_sql(rows: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        (0..=PROPS_PER_INSERT)
            .map(|n| {
                let values = vec!["(?, ?, ?, ?, ?)"; n.max(1)].join(", ");
                format!("INSERT OR REPLACE INTO prop(node, name, type, multiple, value) VALUES {values}")
            })
            .collect()
    });
    all.get(rows.min(PROPS_PER_INSERT))
        .map(String::as_str)
        .unwrap_or_default()
}

/// Writes encoded properties of node `id` (no journaling), several rows per
/// statement.
pub(crate) fn write_props(db: &Db<'_>, id: i64, props: &[Encoded]) -> Result<()> {
    for chunk in props.chunks(PROPS_PER_INSERT) {
        let mut st = db
            .conn
            .prepare_cached(props_insert_sql(chunk.len()))
            .map_err(|e| db.err(e))?;
        let mut i = 1;
        for e in chunk {
            st.raw_bind_parameter(i, id).map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 1, &e.name)
                .map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 2, e.code)
                .map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 3, e.multiple)
                .map_err(|e| db.err(e))?;
            st.raw_bind_parameter(i + 4, &e.value)
                .map_err(|e| db.err(e))?;
            i += 5;
        }
        st.raw_execute().map_err(|e| db.err(e))?;
    }
    Ok(())
}

/// Inserts a node row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_node(
    db: &Db<'_>,
    id: i64,
    ws: i64,
    parent: i64,
    name: &str,
    position: i64,
    p: &str,
    ptype: &str,
    mixins: &str,
) -> Result<()> {
    db.conn
        .prepare_cached(
            "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .and_then(|mut s| s.execute(params![id, ws, parent, name, position, p, ptype, mixins]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

/// Removes the subtree at `row` and closes the same-name gap.
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

/// Deletes workspace `ws` and its nodes with their properties; returns how many
/// nodes went.
pub(crate) fn drop_workspace(db: &Db<'_>, ws: i64) -> Result<u64> {
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
