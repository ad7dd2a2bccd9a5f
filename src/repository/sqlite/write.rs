//! The mutations: adding and removing nodes, properties, types, order, and
//! registrations. Each checks its arguments before writing anything, then
//! journals the before-images of what it is about to change, then writes.

use super::codec;
use super::journal;
use super::read::{descendant_bounds, index_of, NodeRow};
use super::schema::GAP;
use super::tree;
use super::txn::{ensure_ws, require_ws, State};
use super::Db;
use crate::name;
use crate::namespace::{self, NamespaceRegistry};
use crate::node::Node;
use crate::path::{self, Segment};
use crate::repository::{AddOptions, RepositoryError, Result, SameName};
use crate::value::{Binary, Property, PropertyType, Value};
use rusqlite::params;
use std::collections::HashMap;

/// How many parent ids the cache keeps before it starts over.
const ID_CACHE: usize = 4096;

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
fn write_props(db: &Db<'_>, id: i64, props: &[Encoded]) -> Result<()> {
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

/// Whether `e` is a violation of a unique index (for `node`: the path exists).
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// Inserts a node row (no journaling).
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
    try_insert_node(db, id, ws, parent, name, position, p, ptype, mixins).map_err(|e| db.err(e))
}

/// [`insert_node`], returning SQLite's error as is.
#[allow(clippy::too_many_arguments)]
fn try_insert_node(
    db: &Db<'_>,
    id: i64,
    ws: i64,
    parent: i64,
    name: &str,
    position: i64,
    p: &str,
    ptype: &str,
    mixins: &str,
) -> rusqlite::Result<()> {
    db.conn
        .prepare_cached(
            "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![id, ws, parent, name, position, p, ptype, mixins])?;
    Ok(())
}

/// One node of a subtree being added, checked and flattened in document order.
struct Flat<'n> {
    node: &'n Node,
    /// Index of the parent in the flat list (`None` for the added node itself).
    parent: Option<usize>,
    /// Position among its siblings in `node.children`.
    ordinal: usize,
    /// Same-name-sibling index among the new siblings.
    index: u32,
    mixins: String,
    props: Vec<Encoded>,
    uuid: Option<String>,
}

/// Checks a name used as a node type.
fn check_type_name(t: &str) -> Result<()> {
    name::validate(t).map_err(RepositoryError::from)
}

/// Flattens and checks a subtree to add: names, types, properties, uuids.
fn prepare_tree<'n>(
    db: &Db<'_>,
    workspace: &str,
    parent: &str,
    node: &'n Node,
) -> Result<Vec<Flat<'n>>> {
    let mut flat: Vec<Flat<'n>> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut stack: Vec<(&'n Node, Option<usize>, usize, u32)> = vec![(node, None, 0, 1)];
    while let Some((n, parent_ix, ordinal, index)) = stack.pop() {
        name::validate(&n.name)?;
        check_type_name(&n.primary_type)?;
        for m in &n.mixins {
            check_type_name(m)?;
        }
        let base = match parent_ix.and_then(|i| paths.get(i)) {
            Some(p) => p.clone(),
            None => parent.to_string(),
        };
        let here = tree::child_path(&base, &n.name, index);
        let mut props = Vec::with_capacity(n.properties.len());
        let mut uuid = None;
        for p in n.properties.values() {
            let e = encode_property(db, workspace, &here, p)?;
            if e.name == "jcr:uuid" {
                uuid = Some(e.value.clone());
            }
            props.push(e);
        }
        let ix = flat.len();
        flat.push(Flat {
            node: n,
            parent: parent_ix,
            ordinal,
            index,
            mixins: codec::encode_mixins(&n.mixins),
            props,
            uuid,
        });
        paths.push(here);
        let mut seen: HashMap<&str, u32> = HashMap::new();
        let indexes: Vec<u32> = n
            .children
            .iter()
            .map(|c| {
                let k = seen.entry(c.name.as_str()).or_insert(0);
                *k += 1;
                *k
            })
            .collect();
        for (i, c) in n.children.iter().enumerate().rev() {
            stack.push((c, Some(ix), i, indexes.get(i).copied().unwrap_or(1)));
        }
    }
    // uuids: unique inside the subtree and in the workspace.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, f) in flat.iter().enumerate() {
        if let Some(u) = &f.uuid {
            if let Some(&j) = seen.get(u.as_str()) {
                return Err(RepositoryError::DuplicateUuid {
                    workspace: workspace.to_string(),
                    path: paths.get(i).cloned().unwrap_or_default(),
                    uuid: u.clone(),
                    existing: paths.get(j).cloned().unwrap_or_default(),
                });
            }
            seen.insert(u, i);
            if let Some(ws) = db.ws_id(workspace)? {
                if let Some((_, existing)) = db.uuid_owner(ws, u)? {
                    return Err(RepositoryError::DuplicateUuid {
                        workspace: workspace.to_string(),
                        path: paths.get(i).cloned().unwrap_or_default(),
                        uuid: u.clone(),
                        existing,
                    });
                }
            }
        }
    }
    Ok(flat)
}

/// The id of the node at normalized `p`, through the cache.
fn node_id(db: &Db<'_>, st: &mut State, workspace: &str, ws: i64, p: &str) -> Result<i64> {
    if let Some(&id) = st.ids.get(&(ws, p.to_string())) {
        return Ok(id);
    }
    let row = db.require_row(workspace, ws, p)?;
    if st.ids.len() >= ID_CACHE {
        st.ids.clear();
    }
    st.ids.insert((ws, p.to_string()), row.id);
    Ok(row.id)
}

pub(crate) fn add_node(
    db: &Db<'_>,
    st: &mut State,
    workspace: &str,
    parent: &str,
    node: &Node,
    options: &AddOptions,
) -> Result<String> {
    let parent = path::normalize(parent)?;
    let before = match &options.before {
        Some(b) => Some(Segment::parse(b)?.to_string()),
        None => None,
    };
    let flat = prepare_tree(db, workspace, &parent, node)?;
    let top = flat
        .first()
        .ok_or_else(|| db.corrupt("an added subtree is empty"))?;
    // Everything that can fail because of the arguments is checked before the
    // first write (creating the workspace is the first write).
    let known_ws = match st.workspaces.get(workspace) {
        Some(&id) => Some(id),
        None => db.ws_id(workspace)?,
    };
    let exists_error = || RepositoryError::ItemExists {
        workspace: workspace.to_string(),
        path: tree::child_path(&parent, &node.name, 1),
    };
    let (ws, parent_id, sibling) = match known_ws {
        Some(ws) => {
            st.workspaces.insert(workspace.to_string(), ws);
            let parent_id = node_id(db, st, workspace, ws, &parent)?;
            let sibling = match &before {
                Some(b) => {
                    // (Appends find an existing name when inserting, below.)
                    if options.same_name == SameName::Fail
                        && tree::exists(db, ws, &tree::child_path(&parent, &node.name, 1))?
                    {
                        return Err(exists_error());
                    }
                    Some(db.require_row(workspace, ws, &path::join(&parent, b))?)
                }
                None => None,
            };
            (ws, parent_id, sibling)
        }
        None => {
            if parent != "/" || before.is_some() {
                return Err(RepositoryError::NodeNotFound {
                    workspace: workspace.to_string(),
                    path: match &before {
                        Some(b) if parent == "/" => path::join("/", b),
                        _ => parent.clone(),
                    },
                });
            }
            let (ws, _) = ensure_ws(db, st, workspace)?;
            let parent_id = node_id(db, st, workspace, ws, &parent)?;
            (ws, parent_id, None)
        }
    };

    let id = st.alloc_id();
    let top_path = match sibling {
        None => {
            // Usually the name is new: insert and let the unique path index say
            // otherwise.
            let position = tree::append_position(db, st, parent_id)?;
            let first = tree::child_path(&parent, &node.name, 1);
            let insert = |p: &str| {
                try_insert_node(
                    db,
                    id,
                    ws,
                    parent_id,
                    &node.name,
                    position,
                    p,
                    &node.primary_type,
                    &top.mixins,
                )
            };
            match insert(&first) {
                Ok(()) => first,
                Err(e) if is_unique_violation(&e) => {
                    if options.same_name == SameName::Fail {
                        return Err(exists_error());
                    }
                    let count = tree::sns_count(db, ws, &parent, &node.name)?;
                    let p = tree::child_path(&parent, &node.name, count + 1);
                    insert(&p).map_err(|e| db.err(e))?;
                    p
                }
                Err(e) => return Err(db.err(e)),
            }
        }
        Some(sibling) => {
            let position = tree::position_before(db, st, parent_id, sibling.id, None)?;
            insert_node(
                db,
                id,
                ws,
                parent_id,
                &node.name,
                position,
                &tree::temp_path(id),
                &node.primary_type,
                &top.mixins,
            )?;
            tree::fix_sns(db, st, ws, &parent, &node.name, &[id])?;
            db.row_by_id(id)?
                .map(|r| r.path)
                .ok_or_else(|| db.corrupt("an added node vanished"))?
        }
    };
    write_props(db, id, &top.props)?;
    // The rest of the subtree: new parents, so no existing siblings to consider.
    let mut ids: Vec<i64> = Vec::with_capacity(flat.len());
    let mut paths: Vec<String> = Vec::with_capacity(flat.len());
    ids.push(id);
    paths.push(top_path.clone());
    for f in flat.iter().skip(1) {
        let pix = f.parent.unwrap_or(0);
        let (pid, ppath) = match (ids.get(pix), paths.get(pix)) {
            (Some(i), Some(p)) => (*i, p.clone()),
            _ => return Err(db.corrupt("an added subtree lost a parent")),
        };
        let cid = st.alloc_id();
        let p = tree::child_path(&ppath, &f.node.name, f.index);
        insert_node(
            db,
            cid,
            ws,
            pid,
            &f.node.name,
            GAP.saturating_mul(f.ordinal as i64 + 1),
            &p,
            &f.node.primary_type,
            &f.mixins,
        )?;
        write_props(db, cid, &f.props)?;
        ids.push(cid);
        paths.push(p);
    }
    if st.ids.len() >= ID_CACHE {
        st.ids.clear();
    }
    st.ids.insert((ws, top_path.clone()), id);
    Ok(top_path)
}

/// Removes the subtree at `row` (journaled) and closes the same-name gap.
pub(crate) fn remove_subtree(
    db: &Db<'_>,
    st: &mut State,
    workspace: &str,
    row: &NodeRow,
) -> Result<u64> {
    if row.parent.is_none() {
        return Err(RepositoryError::NotAllowed {
            workspace: workspace.to_string(),
            path: row.path.clone(),
            action: "remove",
            reason: "the root node cannot be removed".into(),
        });
    }
    journal::touch_subtree(db, st, row)?;
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
        tree::close_gap(db, st, ws, parent, &row.name, index)?;
    }
    st.ids.clear();
    Ok(below as u64 + 1)
}

/// Checks a uuid about to be given to node `row`.
pub(crate) fn check_uuid(db: &Db<'_>, workspace: &str, row: &NodeRow, uuid: &str) -> Result<()> {
    if let Some((other, existing)) = db.uuid_owner(row.ws, uuid)? {
        if other != row.id {
            return Err(RepositoryError::DuplicateUuid {
                workspace: workspace.to_string(),
                path: row.path.clone(),
                uuid: uuid.to_string(),
                existing,
            });
        }
    }
    Ok(())
}

pub(crate) fn set_property(
    db: &Db<'_>,
    st: &mut State,
    workspace: &str,
    p: &str,
    prop: &Property,
) -> Result<()> {
    let p = path::normalize(p)?;
    let ws = require_ws(db, st, workspace)?;
    let row = db.require_row(workspace, ws, &p)?;
    let e = encode_property(db, workspace, &p, prop)?;
    if e.name == "jcr:uuid" {
        check_uuid(db, workspace, &row, &e.value)?;
    }
    journal::touch_prop(db, st, &row, &e.name)?;
    write_props(db, row.id, std::slice::from_ref(&e))
}

pub(crate) fn remove_property(
    db: &Db<'_>,
    st: &mut State,
    workspace: &str,
    p: &str,
    name: &str,
) -> Result<bool> {
    let p = path::normalize(p)?;
    let ws = require_ws(db, st, workspace)?;
    let row = db.require_row(workspace, ws, &p)?;
    if db.raw_prop(row.id, name)?.is_none() {
        return Ok(false);
    }
    journal::touch_prop(db, st, &row, name)?;
    db.conn
        .prepare_cached("DELETE FROM prop WHERE node = ?1 AND name = ?2")
        .and_then(|mut s| s.execute(params![row.id, name]))
        .map_err(|e| db.err(e))?;
    Ok(true)
}

pub(crate) fn set_node_fields(
    db: &Db<'_>,
    st: &mut State,
    workspace: &str,
    p: &str,
    ptype: Option<&str>,
    mixins: Option<&[String]>,
) -> Result<()> {
    let p = path::normalize(p)?;
    if let Some(t) = ptype {
        check_type_name(t)?;
    }
    for m in mixins.unwrap_or_default() {
        check_type_name(m)?;
    }
    let ws = require_ws(db, st, workspace)?;
    let row = db.require_row(workspace, ws, &p)?;
    let new_type = ptype.unwrap_or(&row.ptype).to_string();
    let new_mixins = match mixins {
        Some(m) => codec::encode_mixins(m),
        None => row.mixins.clone(),
    };
    if new_type == row.ptype && new_mixins == row.mixins {
        return Ok(());
    }
    journal::touch_node(db, st, &row)?;
    db.conn
        .prepare_cached("UPDATE node SET ptype = ?2, mixins = ?3 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![row.id, new_type, new_mixins]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

pub(crate) fn order_before(
    db: &Db<'_>,
    st: &mut State,
    workspace: &str,
    parent: &str,
    child: &str,
    before: Option<&str>,
) -> Result<String> {
    let parent = path::normalize(parent)?;
    let child_seg = Segment::parse(child)?.to_string();
    let before_seg = match before {
        Some(b) => Some(Segment::parse(b)?.to_string()),
        None => None,
    };
    let ws = require_ws(db, st, workspace)?;
    let parent_row = db.require_row(workspace, ws, &parent)?;
    let child_row = db.require_row(workspace, ws, &path::join(&parent, &child_seg))?;
    let position = match &before_seg {
        Some(b) => {
            let b_row = db.require_row(workspace, ws, &path::join(&parent, b))?;
            if b_row.id == child_row.id {
                return Ok(child_row.path);
            }
            // Already directly before it?
            let prev: Option<i64> = db
                .conn
                .prepare_cached(
                    "SELECT id FROM node WHERE parent = ?1 AND (position, id) < (?2, ?3)
                     ORDER BY position DESC, id DESC LIMIT 1",
                )
                .and_then(|mut s| {
                    rusqlite::OptionalExtension::optional(
                        s.query_row(params![parent_row.id, b_row.position, b_row.id], |r| {
                            r.get(0)
                        }),
                    )
                })
                .map_err(|e| db.err(e))?;
            if prev == Some(child_row.id) {
                return Ok(child_row.path);
            }
            tree::position_before(db, st, parent_row.id, b_row.id, Some(child_row.id))?
        }
        None => {
            let last: Option<i64> = db
                .conn
                .prepare_cached(
                    "SELECT id FROM node WHERE parent = ?1 ORDER BY position DESC, id DESC LIMIT 1",
                )
                .and_then(|mut s| {
                    rusqlite::OptionalExtension::optional(
                        s.query_row([parent_row.id], |r| r.get(0)),
                    )
                })
                .map_err(|e| db.err(e))?;
            if last == Some(child_row.id) {
                return Ok(child_row.path);
            }
            tree::append_position(db, st, parent_row.id)?
        }
    };
    // Re-read: renumbering may have journaled and moved the child already.
    let child_row = db
        .row_by_id(child_row.id)?
        .ok_or_else(|| db.corrupt("a reordered node vanished"))?;
    journal::touch_node(db, st, &child_row)?;
    db.conn
        .prepare_cached("UPDATE node SET position = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![child_row.id, position]))
        .map_err(|e| db.err(e))?;
    tree::fix_sns(db, st, ws, &parent, &child_row.name, &[])?;
    db.row_by_id(child_row.id)?
        .map(|r| r.path)
        .ok_or_else(|| db.corrupt("a reordered node vanished"))
}

pub(crate) fn register_namespace(
    db: &Db<'_>,
    st: &mut State,
    prefix: &str,
    uri: &str,
) -> Result<()> {
    let conflict = |reason: String| RepositoryError::NamespaceConflict {
        prefix: prefix.to_string(),
        uri: uri.to_string(),
        reason,
    };
    if prefix.is_empty() != uri.is_empty() {
        return Err(conflict(
            "only the empty prefix maps to the empty URI".into(),
        ));
    }
    if !prefix.is_empty() && !name::is_ncname(prefix) {
        return Err(conflict("the prefix is not an XML NCName".into()));
    }
    let current = db.namespaces()?;
    if current.uri(prefix) == Some(uri) {
        return Ok(());
    }
    if let Some(u) = current.uri(prefix) {
        return Err(conflict(format!(
            "prefix '{prefix}' is already mapped to {u}"
        )));
    }
    if let Some(p) = current.prefix(uri) {
        return Err(conflict(format!("{uri} is already mapped to prefix '{p}'")));
    }
    if NamespaceRegistry::is_built_in_prefix(prefix)
        || namespace::BUILT_IN.iter().any(|(_, u)| *u == uri)
    {
        return Err(conflict("built-in namespaces cannot be remapped".into()));
    }
    journal::touch_reg(db, st, journal::REG_NAMESPACE, prefix)?;
    db.conn
        .prepare_cached("INSERT INTO namespace(prefix, uri) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![prefix, uri]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

pub(crate) fn register_node_type(
    db: &Db<'_>,
    st: &mut State,
    name_: &str,
    cnd: &str,
) -> Result<()> {
    name::validate(name_)?;
    if db.node_type(name_)?.as_deref() == Some(cnd) {
        return Ok(());
    }
    journal::touch_reg(db, st, journal::REG_NODE_TYPE, name_)?;
    db.conn
        .prepare_cached("INSERT OR REPLACE INTO nodetype(name, cnd) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![name_, cnd]))
        .map_err(|e| db.err(e))?;
    Ok(())
}

pub(crate) fn unregister_node_type(db: &Db<'_>, st: &mut State, name_: &str) -> Result<bool> {
    if db.node_type(name_)?.is_none() {
        return Ok(false);
    }
    journal::touch_reg(db, st, journal::REG_NODE_TYPE, name_)?;
    db.conn
        .prepare_cached("DELETE FROM nodetype WHERE name = ?1")
        .and_then(|mut s| s.execute([name_]))
        .map_err(|e| db.err(e))?;
    Ok(true)
}

/// [`crate::repository::Transaction::delete_workspace`].
pub(crate) fn delete_workspace(
    db: &Db<'_>,
    st: &mut State,
    name_: &str,
    force: bool,
) -> Result<u64> {
    let refuse = |reason: String| RepositoryError::NotAllowed {
        workspace: name_.to_string(),
        path: "/".to_string(),
        action: "delete workspace",
        reason,
    };
    if name_ == crate::repository::DEFAULT_WORKSPACE {
        return Err(refuse("the default workspace is never deleted".into()));
    }
    let ws = require_ws(db, st, name_)?;
    let root = db.require_row(name_, ws, "/")?;
    if !force {
        // Oak's initial content, which every workspace gets, does not count.
        let initial = crate::repository::INITIAL_PATHS;
        let children: i64 = db
            .conn
            .prepare_cached(
                "SELECT count(*) FROM node WHERE ws = ?1 AND parent IS NOT NULL
                 AND path NOT IN (?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![ws, initial[0], initial[1], initial[2], initial[3], initial[4]],
                    |r| r.get(0),
                )
            })
            .map_err(|e| db.err(e))?;
        let props = db.props_of(root.id)?.len();
        if children > 0 || props > 0 {
            return Err(refuse(format!(
                "it is not empty (it holds {children} nodes besides Oak's initial content, and its root {props} properties); force the deletion to delete its content too"
            )));
        }
    }
    drop_workspace(db, st, name_, ws, &root)
}

/// Deletes workspace `ws` (named `name_`, root `root`) and its nodes, journaling the
/// registration and the before-image of every node and property first.
pub(crate) fn drop_workspace(
    db: &Db<'_>,
    st: &mut State,
    name_: &str,
    ws: i64,
    root: &NodeRow,
) -> Result<u64> {
    journal::touch_reg(db, st, journal::REG_WORKSPACE, name_)?;
    journal::touch_subtree(db, st, root)?;
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
    st.workspaces.remove(name_);
    st.ids.clear();
    st.tails.clear();
    Ok(nodes as u64)
}
