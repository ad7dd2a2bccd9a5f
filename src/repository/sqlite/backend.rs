//! The SQLite backend's primitives: the content store ([`ContentRead`],
//! [`ContentTxn`]) and the operation log ([`OpLogRead`], [`OpLogTxn`]) over the
//! same database, so that an operation's content and its journal commit in one
//! SQLite transaction. [`SqliteBackend`] turns a [`SqliteStore`] into a
//! [`StorageBackend`] for [`crate::repository::journaled::Journaled`], which adds
//! capture, undo and the conflict checks.
//!
//! The primitives reuse the mutation code of `write` and `tree` with a transaction
//! state that records no operation, so nothing is journaled below the journaled
//! layer; the tables are the same `jnode`, `jprop` and `jreg`, so both paths read
//! each other's history.

use super::cache::{Known, NodeCache};
use super::codec;
use super::journal::{self, SUMMARY_COLS};
use super::read::{node_cols, NodeRow, NODE_COLS};
use super::txn::SqliteTxn;
use super::write::Rows;
use super::{tree, write, Db, SqliteStore};
use crate::namespace::NamespaceRegistry;
use crate::repository::content::{
    ContentRead, ContentTxn, NewNode, NodeId, NodeRecord, StoredProperty, WorkspaceId,
};
use crate::repository::oplog::{
    BackendTxn, NodeBefore, NodeImage, OpLogRead, OpLogTxn, PropImage, RegImage, RegKind,
    StorageBackend,
};
use crate::repository::{OperationId, OperationMeta, OperationSummary, Result};
use crate::value::{Binary, Property};
use rusqlite::params;
use std::io::Read;
use std::path::Path;

/// A [`SqliteStore`] as a [`StorageBackend`].
#[derive(Debug)]
pub struct SqliteBackend {
    store: SqliteStore,
}

impl SqliteBackend {
    /// Wraps an open store.
    pub fn new(store: SqliteStore) -> SqliteBackend {
        SqliteBackend { store }
    }
}

impl StorageBackend for SqliteBackend {
    fn content(&self) -> &dyn ContentRead {
        &self.store
    }

    fn oplog(&self) -> &dyn OpLogRead {
        &self.store
    }

    fn begin(&mut self) -> Result<Box<dyn BackendTxn + '_>> {
        Ok(Box::new(SqliteTxn::begin(&mut self.store, "write")?))
    }

    fn gc(&mut self, dry_run: bool) -> Result<crate::repository::GcReport> {
        self.store.collect_garbage(dry_run)
    }
}

/// A stored row as a record.
fn record(db: &Db<'_>, row: NodeRow) -> Result<NodeRecord> {
    Ok(NodeRecord {
        mixins: codec::decode_mixins(&row.mixins).map_err(|e| db.corrupt(e))?,
        id: row.id,
        ws: row.ws,
        parent: row.parent,
        name: row.name,
        position: row.position,
        path: row.path,
        primary_type: row.ptype,
    })
}

fn rows(db: &Db<'_>, sql: &str, args: impl rusqlite::Params) -> Result<Vec<NodeRecord>> {
    let found: Vec<NodeRow> = {
        let mut s = db.conn.prepare_cached(sql).map_err(|e| db.err(e))?;
        let it = s
            .query_map(args, NodeRow::from_row)
            .map_err(|e| db.err(e))?;
        it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
    };
    found.into_iter().map(|r| record(db, r)).collect()
}

/// The children of a node, in order.
const CHILDREN: &str = concat!(
    "SELECT ",
    node_cols!(),
    " FROM node WHERE parent = ?1 ORDER BY position, id"
);

/// The grandchildren of a node, by parent in child order, each parent's in order
/// (both through `node_children`: no sort, no temporary table).
const GRANDCHILDREN: &str =
    "SELECT n.id, n.ws, n.parent, n.name, n.position, n.path, n.ptype, n.mixins
     FROM node c CROSS JOIN node n ON n.parent = c.id WHERE c.parent = ?1
     ORDER BY c.position, c.id, n.position, n.id";

/// The children of each of `children` among `grand` (as [`GRANDCHILDREN`] orders
/// them: by parent in the order of `children`): one list a child, empty when it
/// has none. `None` when a row of `grand` is not where that order puts it.
fn families<'g>(
    children: &[NodeRecord],
    grand: &'g [NodeRecord],
) -> Option<Vec<(NodeId, &'g [NodeRecord])>> {
    let mut rest = grand;
    let out = children
        .iter()
        .map(|c| {
            let n = rest.iter().take_while(|g| g.parent == Some(c.id)).count();
            let (mine, after) = rest.split_at(n);
            rest = after;
            (c.id, mine)
        })
        .collect();
    rest.is_empty().then_some(out)
}

fn one(db: &Db<'_>, row: Option<NodeRow>) -> Result<Option<NodeRecord>> {
    row.map(|r| record(db, r)).transpose()
}

/// What the cache keeps of a stored `jcr:uuid` (`None` when absent); a
/// `jcr:uuid` that is not one String (the journaled layer writes no such thing)
/// is not kept: `Err`, asked of SQLite each time.
fn uuid_of(p: Option<&Property>) -> std::result::Result<Option<&str>, ()> {
    match p {
        None => Ok(None),
        Some(p) => match (p.multiple, p.values.as_slice()) {
            (false, [crate::value::Value::String(u)]) => Ok(Some(u)),
            _ => Err(()),
        },
    }
}

/// Whether `props` bear distinct names, so that writing them as new rows
/// ([`Rows::New`]) meets none of its own; a long list is not compared (it is
/// written as any other, [`Rows::Replace`]).
fn distinct_names(props: &[&Property]) -> bool {
    props.len() <= 64
        && props
            .iter()
            .enumerate()
            .all(|(i, p)| props[..i].iter().all(|q| q.name != p.name))
}

/// The path of node `id` for a message: as read by [`SqliteTxn::require_node`],
/// else as cached.
fn message_path(cache: &NodeCache, id: NodeId, read: &Option<String>) -> String {
    match read {
        Some(p) => p.clone(),
        None => cache.ws_path(id).map(|(_, p)| p).unwrap_or_default(),
    }
}

fn kind_name(kind: RegKind) -> &'static str {
    match kind {
        RegKind::Namespace => journal::REG_NAMESPACE,
        RegKind::NodeType => journal::REG_NODE_TYPE,
        RegKind::Workspace => journal::REG_WORKSPACE,
    }
}

fn kind_of(name: &str) -> RegKind {
    match name {
        journal::REG_NAMESPACE => RegKind::Namespace,
        journal::REG_WORKSPACE => RegKind::Workspace,
        _ => RegKind::NodeType,
    }
}

/// The content reads, for the store and for a transaction (which sees its own
/// writes on the same connection).
macro_rules! content_read {
    ($t:ty) => {
        impl ContentRead for $t {
            fn location(&self) -> &Path {
                self.db().root
            }
            fn workspaces(&self) -> Result<Vec<(String, WorkspaceId)>> {
                let db = self.db();
                let mut s = db
                    .conn
                    .prepare_cached("SELECT name, id FROM workspace ORDER BY name")
                    .map_err(|e| db.err(e))?;
                let it = s
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(|e| db.err(e))?;
                it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))
            }
            fn workspace_id(&self, name: &str) -> Result<Option<WorkspaceId>> {
                if let Some(c) = self.node_cache() {
                    if let Some(id) = c.workspace(name) {
                        return Ok(Some(id));
                    }
                }
                let id = self.db().ws_id(name)?;
                if let (Some(c), Some(id)) = (self.node_cache(), id) {
                    c.workspace_seen(name, id);
                }
                Ok(id)
            }
            fn workspace_name(&self, ws: WorkspaceId) -> Result<Option<String>> {
                self.db().ws_name(ws).map(Some)
            }
            fn node_at(&self, ws: WorkspaceId, p: &str) -> Result<Option<NodeRecord>> {
                if let Some(Known::Yes(r)) = self.node_cache().map(|c| c.at(ws, p)) {
                    return Ok(r);
                }
                let db = self.db();
                let r = one(&db, db.row_by_path(ws, p)?)?;
                if let (Some(c), Some(r)) = (self.node_cache(), &r) {
                    c.seen(r);
                }
                Ok(r)
            }
            fn node_id_at(&self, ws: WorkspaceId, p: &str) -> Result<Option<NodeId>> {
                if let Some(Known::Yes(id)) = self.node_cache().map(|c| c.id_at(ws, p)) {
                    return Ok(id);
                }
                Ok(self.node_at(ws, p)?.map(|r| r.id))
            }
            fn nodes_at(&self, ws: WorkspaceId, paths: &[&str]) -> Result<Vec<Option<NodeRecord>>> {
                // What the cache knows, then one read of the rest.
                let mut out = Vec::with_capacity(paths.len());
                let mut asked: Vec<(usize, &str)> = Vec::new();
                for (i, &p) in paths.iter().enumerate() {
                    match self.node_cache().map(|c| c.at(ws, p)) {
                        Some(Known::Yes(r)) => out.push(r),
                        _ => {
                            out.push(None);
                            asked.push((i, p));
                        }
                    }
                }
                let db = self.db();
                let asked_paths: Vec<&str> = asked.iter().map(|a| a.1).collect();
                for (k, row) in db.rows_by_paths(ws, &asked_paths)? {
                    let r = record(&db, row)?;
                    if let Some(c) = self.node_cache() {
                        c.seen(&r);
                    }
                    let slot = asked.get(k).map(|a| a.0);
                    if let Some(o) = slot.and_then(|i| out.get_mut(i)) {
                        *o = Some(r);
                    }
                }
                Ok(out)
            }
            fn properties_of(&self, ids: &[NodeId]) -> Result<Vec<Vec<Property>>> {
                let props = self.db().props_of_many(ids)?;
                if let Some(c) = self.node_cache() {
                    for (&id, p) in ids.iter().zip(&props) {
                        if let Ok(u) = uuid_of(p.iter().find(|p| p.name == "jcr:uuid")) {
                            c.uuid_seen(id, u);
                        }
                    }
                }
                Ok(props)
            }
            fn node_by_id(&self, id: NodeId) -> Result<Option<NodeRecord>> {
                if let Some(r) = self.node_cache().and_then(|c| c.record(id)) {
                    return Ok(Some(r));
                }
                let db = self.db();
                let r = one(&db, db.row_by_id(id)?)?;
                if let (Some(c), Some(r)) = (self.node_cache(), &r) {
                    c.seen(r);
                }
                Ok(r)
            }
            fn children(&self, id: NodeId) -> Result<Vec<NodeRecord>> {
                let Some(c) = self.node_cache() else {
                    return rows(&self.db(), CHILDREN, [id]);
                };
                let (found, read) = match c.children(id) {
                    Known::Yes(found) => {
                        // A list's exactness rests on every write path keeping the
                        // cache (module `cache`): in tests a fresh read checks it.
                        debug_assert_eq!(
                            found,
                            rows(&self.db(), CHILDREN, [id])?,
                            "the cached children of node {id}"
                        );
                        (found, false)
                    }
                    Known::Ask => (rows(&self.db(), CHILDREN, [id])?, true),
                };
                if found.len() >= 2
                    && c.is_seen(id)
                    && !found.iter().all(|r| c.knows_children(r.id))
                {
                    // A stored node with children: theirs in one more read, as an
                    // install asks for them next (module `cache`).
                    let grand = rows(&self.db(), GRANDCHILDREN, [id])?;
                    let mut lists: Vec<(NodeId, &[NodeRecord])> = vec![(id, &found)];
                    lists.extend(families(&found, &grand).unwrap_or_default());
                    c.lists_seen(&lists);
                } else if read {
                    c.lists_seen(&[(id, &found)]);
                }
                Ok(found)
            }
            fn has_children(&self, id: NodeId) -> Result<bool> {
                let db = self.db();
                db.conn
                    .prepare_cached("SELECT EXISTS(SELECT 1 FROM node WHERE parent = ?1)")
                    .and_then(|mut s| s.query_row([id], |r| r.get(0)))
                    .map_err(|e| db.err(e))
            }
            fn last_position(&self, parent: NodeId) -> Result<Option<i64>> {
                if let Some(Known::Yes(p)) = self.node_cache().map(|c| c.last_child(parent)) {
                    return Ok(p);
                }
                let db = self.db();
                db.conn
                    .prepare_cached("SELECT max(position) FROM node WHERE parent = ?1")
                    .and_then(|mut s| s.query_row([parent], |r| r.get(0)))
                    .map_err(|e| db.err(e))
            }
            fn previous_sibling(
                &self,
                parent: NodeId,
                position: i64,
                id: NodeId,
                except: Option<NodeId>,
            ) -> Result<Option<NodeRecord>> {
                let found = rows(
                    &self.db(),
                    concat!(
                        "SELECT ",
                        node_cols!(),
                        " FROM node WHERE parent = ?1 AND (position, id) < (?2, ?3)
                         AND id <> ?4 ORDER BY position DESC, id DESC LIMIT 1"
                    ),
                    params![parent, position, id, except.unwrap_or(0)],
                )?;
                Ok(found.into_iter().next())
            }
            fn properties(&self, id: NodeId) -> Result<Vec<Property>> {
                let props = self.db().props_of(id)?;
                if let (Some(c), Ok(u)) = (
                    self.node_cache(),
                    uuid_of(props.iter().find(|p| p.name == "jcr:uuid")),
                ) {
                    c.uuid_seen(id, u);
                }
                Ok(props)
            }
            fn properties_against(
                &self,
                id: NodeId,
                known: &[Property],
            ) -> Result<Vec<StoredProperty>> {
                let props = match self.node_cache() {
                    Some(c) => self.db().props_against_ahead(&c.props_ahead, id, known)?,
                    None => self.db().props_against(id, known)?,
                };
                if let Some(c) = self.node_cache() {
                    let uuid = props
                        .iter()
                        .map(|p| p.resolve(known))
                        .find(|p| p.name == "jcr:uuid");
                    if let Ok(u) = uuid_of(uuid) {
                        c.uuid_seen(id, u);
                    }
                }
                Ok(props)
            }
            fn property(&self, id: NodeId, name: &str) -> Result<Option<Property>> {
                if name == "jcr:uuid" {
                    if let Some(Known::Yes(u)) = self.node_cache().map(|c| c.uuid(id)) {
                        return Ok(u.map(|u| Property::string("jcr:uuid", u)));
                    }
                }
                let p = self.db().prop_of(id, name)?;
                if name == "jcr:uuid" {
                    if let (Some(c), Ok(u)) = (self.node_cache(), uuid_of(p.as_ref())) {
                        c.uuid_seen(id, u);
                    }
                }
                Ok(p)
            }
            fn uuid_owners(&self, ws: WorkspaceId, uuid: &str) -> Result<Vec<NodeId>> {
                if self.node_cache().is_some_and(|c| c.uuid_free(ws, uuid)) {
                    return Ok(Vec::new());
                }
                let db = self.db();
                let mut s = db
                    .conn
                    .prepare_cached(
                        "SELECT n.id FROM prop p CROSS JOIN node n ON n.id = p.node
                         WHERE p.name = 'jcr:uuid' AND p.value = ?1 AND n.ws = ?2 ORDER BY n.id",
                    )
                    .map_err(|e| db.err(e))?;
                let it = s
                    .query_map(params![uuid, ws], |r| r.get(0))
                    .map_err(|e| db.err(e))?;
                let owners: Vec<NodeId> =
                    it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?;
                if let (Some(c), true) = (self.node_cache(), owners.is_empty()) {
                    c.uuid_found_free(ws, uuid);
                }
                Ok(owners)
            }
            fn namespaces(&self) -> Result<NamespaceRegistry> {
                self.db().namespaces()
            }
            fn node_types(&self) -> Result<Vec<(String, String)>> {
                self.db().node_types()
            }
            fn node_type(&self, name: &str) -> Result<Option<String>> {
                self.db().node_type(name)
            }
            fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
                self.db().blobs.put(data)
            }
            fn put_hashed_blob(&self, data: &crate::repository::blob::HashedBytes) -> Result<Binary> {
                self.db().blobs.put_hashed(data)
            }
            fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
                self.db().blobs.open(sha256)
            }
            fn check_blob(&self, sha256: &str, size: u64) -> Result<()> {
                self.db().blobs.check(sha256, size)
            }
            fn blob_stored(&self, sha256: &str, size: u64) -> Result<bool> {
                // The blob file's metadata: no statement.
                match self.db().blobs.check(sha256, size) {
                    Ok(()) => Ok(true),
                    Err(crate::repository::RepositoryError::BlobNotFound { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            }
            fn aggregate_digest(&self, id: NodeId) -> Result<Option<Vec<u8>>> {
                let db = self.db();
                db.conn
                    .prepare_cached("SELECT digest FROM aggregate WHERE node = ?1")
                    .and_then(|mut s| rusqlite::OptionalExtension::optional(s.query_row([id], |r| r.get(0))))
                    .map_err(|e| db.err(e))
            }
            fn has_aggregate_digests(&self) -> Result<bool> {
                let db = self.db();
                db.conn
                    .prepare_cached("SELECT EXISTS(SELECT 1 FROM aggregate)")
                    .and_then(|mut s| s.query_row([], |r| r.get(0)))
                    .map_err(|e| db.err(e))
            }
            fn has_aggregate_digests_below(&self, ws: WorkspaceId, path: &str) -> Result<bool> {
                // The subtree as a range of the `(ws, path)` index (see `schema`).
                let (from, to) = if path == "/" {
                    ("/".to_string(), "0".to_string())
                } else {
                    (format!("{path}/"), format!("{path}0"))
                };
                let db = self.db();
                db.conn
                    .prepare_cached(
                        "SELECT EXISTS(SELECT 1 FROM node n CROSS JOIN aggregate a ON a.node = n.id
                         WHERE n.ws = ?1 AND (n.path = ?2 OR (n.path >= ?3 AND n.path < ?4)))",
                    )
                    .and_then(|mut s| s.query_row(params![ws, path, from, to], |r| r.get(0)))
                    .map_err(|e| db.err(e))
            }
        }

        impl OpLogRead for $t {
            fn history(&self) -> Result<Vec<OperationSummary>> {
                self.db().history()
            }
            fn operation_record(
                &self,
                id: OperationId,
            ) -> Result<Option<(OperationSummary, serde_json::Value)>> {
                operation_record(&self.db(), id)
            }
            fn node_images(
                &self,
                op: OperationId,
                after: Option<NodeId>,
                limit: usize,
            ) -> Result<Vec<NodeImage>> {
                node_images(
                    &self.db(),
                    journal::NODE_IMAGES_PAGE,
                    params![op.0, after.unwrap_or(i64::MIN), limit as i64],
                )
            }
            fn node_image(&self, op: OperationId, node: NodeId) -> Result<Option<NodeImage>> {
                Ok(node_images(&self.db(), journal::NODE_IMAGE, params![op.0, node])?
                    .into_iter()
                    .next())
            }
            fn prop_images(
                &self,
                op: OperationId,
                after: Option<(NodeId, String)>,
                limit: usize,
            ) -> Result<Vec<PropImage>> {
                let (node, name) = after.unwrap_or((i64::MIN, String::new()));
                prop_images(&self.db(), op, node, &name, limit)
            }
            fn reg_images(&self, op: OperationId) -> Result<Vec<RegImage>> {
                reg_images(&self.db(), op)
            }
            fn ops_touching_node(
                &self,
                node: NodeId,
                after: OperationId,
            ) -> Result<Vec<OperationId>> {
                let db = self.db();
                let mut s = db
                    .conn
                    .prepare_cached(journal::OPS_TOUCHING_NODE)
                    .map_err(|e| db.err(e))?;
                let it = s
                    .query_map(params![node, after.0], |r| r.get(0).map(OperationId))
                    .map_err(|e| db.err(e))?;
                it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))
            }
        }
    };
}

content_read!(SqliteStore);
content_read!(SqliteTxn<'_>);

impl SqliteStore {
    /// A store outside a transaction caches nothing.
    fn node_cache(&self) -> Option<&NodeCache> {
        None
    }
}

fn operation_record(
    db: &Db<'_>,
    id: OperationId,
) -> Result<Option<(OperationSummary, serde_json::Value)>> {
    let mut st = db
        .conn
        .prepare_cached(&format!(
            "SELECT {SUMMARY_COLS}, options FROM op WHERE id = ?1"
        ))
        .map_err(|e| db.err(e))?;
    let mut rows = st.query([id.0]).map_err(|e| db.err(e))?;
    let Some(r) = rows.next().map_err(|e| db.err(e))? else {
        return Ok(None);
    };
    let options: String = r.get(10).map_err(|e| db.err(e))?;
    let options: serde_json::Value = serde_json::from_str(&options)
        .map_err(|e| db.corrupt(format!("operation {id} has bad options: {e}")))?;
    Ok(Some((journal::summary(db, r)?, options)))
}

/// The node images `sql` (one of `journal`'s) selects.
fn node_images(db: &Db<'_>, sql: &str, args: impl rusqlite::Params) -> Result<Vec<NodeImage>> {
    type Raw = (
        i64,
        i64,
        String,
        bool,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let raw: Vec<Raw> = {
        let mut s = db.conn.prepare_cached(sql).map_err(|e| db.err(e))?;
        let it = s
            .query_map(args, |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })
            .map_err(|e| db.err(e))?;
        it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
    };
    raw.into_iter()
        .map(
            |(node, ws, path, existed, parent, name, position, ptype, mixins)| {
                let before = if existed {
                    Some(NodeBefore {
                        parent,
                        name: name.unwrap_or_default(),
                        position: position.unwrap_or_default(),
                        primary_type: ptype.unwrap_or_default(),
                        mixins: codec::decode_mixins(&mixins.unwrap_or_default())
                            .map_err(|e| db.corrupt(e))?,
                    })
                } else {
                    None
                };
                Ok(NodeImage {
                    node,
                    ws,
                    path,
                    before,
                })
            },
        )
        .collect()
}

fn prop_images(
    db: &Db<'_>,
    op: OperationId,
    node: NodeId,
    name: &str,
    limit: usize,
) -> Result<Vec<PropImage>> {
    type Raw = (
        i64,
        String,
        i64,
        String,
        bool,
        Option<i64>,
        Option<bool>,
        Option<String>,
    );
    let raw: Vec<Raw> = {
        let mut s = db
            .conn
            .prepare_cached(
                "SELECT node, name, ws, path, existed, type, multiple, value FROM jprop
                 WHERE op = ?1 AND (node, name) > (?2, ?3) ORDER BY node, name LIMIT ?4",
            )
            .map_err(|e| db.err(e))?;
        let it = s
            .query_map(params![op.0, node, name, limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .map_err(|e| db.err(e))?;
        it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
    };
    raw.into_iter()
        .map(|(node, name, ws, path, existed, code, multiple, value)| {
            let before = match (existed, code, multiple, value) {
                (true, Some(c), Some(m), Some(v)) => {
                    Some(codec::decode_property(&name, c, m, &v).map_err(|e| db.corrupt(e))?)
                }
                (true, ..) => {
                    return Err(db.corrupt(format!(
                        "operation {op} journaled property {name} of {path} without its value"
                    )))
                }
                _ => None,
            };
            Ok(PropImage {
                node,
                name,
                ws,
                path,
                before,
            })
        })
        .collect()
}

fn reg_images(db: &Db<'_>, op: OperationId) -> Result<Vec<RegImage>> {
    let mut s = db
        .conn
        .prepare_cached(
            "SELECT kind, key, existed, value FROM jreg WHERE op = ?1 ORDER BY kind, key",
        )
        .map_err(|e| db.err(e))?;
    let it = s
        .query_map([op.0], |r| {
            let kind: String = r.get(0)?;
            let existed: bool = r.get(2)?;
            let value: Option<String> = r.get(3)?;
            Ok(RegImage {
                kind: kind_of(&kind),
                key: r.get(1)?,
                before: if existed { value } else { None },
            })
        })
        .map_err(|e| db.err(e))?;
    it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))
}

impl SqliteTxn<'_> {
    fn node_cache(&self) -> Option<&NodeCache> {
        Some(&self.st.cache)
    }

    fn row(&self, id: NodeId) -> Result<NodeRow> {
        let db = self.db();
        db.row_by_id(id)?
            .ok_or_else(|| db.corrupt(format!("node id {id} does not exist")))
    }

    /// Fails unless node `id` exists: a node the cache holds does; else its row
    /// is read, and its path returned (for messages).
    fn require_node(&self, id: NodeId) -> Result<Option<String>> {
        match self.st.cache.holds(id) {
            true => Ok(None),
            false => self.row(id).map(|r| Some(r.path)),
        }
    }

    /// The path of node `id`, which must exist.
    fn path_of(&self, id: NodeId) -> Result<String> {
        match self.st.cache.ws_path(id) {
            Some((_, p)) => Ok(p),
            None => self.row(id).map(|r| r.path),
        }
    }

    /// Keeps the cached `jcr:uuid` of node `id` right after `p` was written.
    fn uuid_written(&mut self, id: NodeId, p: &Property) {
        if p.name != "jcr:uuid" {
            return;
        }
        match (p.multiple, p.values.as_slice()) {
            (false, [crate::value::Value::String(u)]) => {
                self.st.cache.uuid_written(id, Some(u.clone()))
            }
            // The journaled layer allows nothing else; should it come, ask SQLite.
            _ => self.st.cache.clear(),
        }
    }

    fn exec(&self, sql: &str, args: impl rusqlite::Params) -> Result<usize> {
        let db = self.db();
        db.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(args))
            .map_err(|e| db.err(e))
    }
}

impl ContentTxn for SqliteTxn<'_> {
    fn first_new_id(&self) -> NodeId {
        self.st.first_id
    }

    fn alloc_node_id(&mut self) -> Result<NodeId> {
        Ok(self.st.alloc_id())
    }

    fn new_nodes(&self, after: Option<NodeId>, limit: usize) -> Result<Vec<NodeRecord>> {
        rows(
            &self.db(),
            &format!(
                "SELECT {NODE_COLS} FROM node WHERE id >= ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            ),
            params![self.st.first_id, after.unwrap_or(i64::MIN), limit as i64],
        )
    }

    fn insert_workspace(&mut self, name: &str, id: Option<WorkspaceId>) -> Result<WorkspaceId> {
        self.st.cache.clear();
        self.exec(
            "INSERT INTO workspace(id, name) VALUES (?1, ?2)",
            params![id, name],
        )?;
        let ws = match id {
            Some(id) => id,
            None => self.db().conn.last_insert_rowid(),
        };
        Ok(ws)
    }

    fn remove_workspace(&mut self, ws: WorkspaceId) -> Result<u64> {
        self.st.cache.clear();
        let db = self.store.db();
        if db.ws_name(ws).is_err() || db.row_by_path(ws, "/")?.is_none() {
            return Err(db.corrupt(format!("workspace id {ws} does not exist")));
        }
        write::drop_workspace(&db, ws)
    }

    fn insert_node(&mut self, n: NewNode) -> Result<()> {
        let db = self.store.db();
        let mixins = codec::encode_mixins(&n.mixins);
        let Some(parent) = n.parent else {
            self.exec(
                "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
                 VALUES (?1, ?2, NULL, '', 0, '/', ?3, ?4)",
                params![n.id, n.ws, n.primary_type, mixins],
            )?;
            self.fresh = Some(n.id);
            return Ok(());
        };
        // The parent and the first same-name path from the cache when this
        // transaction inserted or read the parent (module `cache`), else from
        // SQLite: built from the parent's path without copying it (a name holds
        // no `/`, so the parent's path is the first path's parent).
        let (parent_ws, first) = match self.st.cache.first_child_path(parent, &n.name) {
            Some(r) => r,
            None => {
                let r = db
                    .row_by_id(parent)?
                    .ok_or_else(|| db.corrupt(format!("parent id {parent} does not exist")))?;
                (r.ws, tree::child_path(&r.path, &n.name, 1))
            }
        };
        if parent_ws != n.ws {
            return Err(db.corrupt(format!("parent id {parent} lies in another workspace")));
        }
        let parent_of = |first: &str| crate::path::parent(first).unwrap_or("/").to_string();
        let direct = match self.st.cache.id_at(n.ws, &first) {
            Known::Yes(r) => r.is_none(),
            Known::Ask => !tree::exists(&db, n.ws, &first)?,
        };
        // A same-name sibling appended last below a cached parent: its final path,
        // and no other path moves (module `cache`).
        let appended = match direct {
            true => None,
            false => self.st.cache.append_index(parent, &n.name, n.position),
        };
        // The parent's path where same-name siblings are renumbered.
        let (p, renumber) = match (direct, appended) {
            (true, _) => (first, None),
            (false, Some(index)) => (tree::child_path(&parent_of(&first), &n.name, index), None),
            (false, None) => {
                // Same-name siblings renumber paths: what the cache holds may move.
                self.st.cache.clear();
                (tree::temp_path(n.id), Some(parent_of(&first)))
            }
        };
        write::insert_node(
            &db,
            &mut self.prepared,
            n.id,
            n.ws,
            parent,
            &n.name,
            n.position,
            &p,
            &n.primary_type,
            &mixins,
        )?;
        let id = n.id;
        if let Some(parent_path) = renumber {
            tree::fix_sns(&db, n.ws, &parent_path, &n.name, &[n.id])?;
        } else {
            // The node's own strings go into the cache's record (moved, not copied).
            let record = NodeRecord {
                id: n.id,
                ws: n.ws,
                parent: Some(parent),
                name: n.name,
                position: n.position,
                path: p,
                primary_type: n.primary_type,
                mixins: n.mixins,
            };
            match appended {
                Some(index) => self.st.cache.inserted_same_name(record, index),
                None => self.st.cache.inserted(record),
            }
        }
        self.fresh = Some(id);
        Ok(())
    }

    fn remove_subtree(&mut self, id: NodeId) -> Result<u64> {
        self.st.cache.clear();
        let row = self.row(id)?;
        let db = self.store.db();
        let name = db.ws_name(row.ws)?;
        write::remove_subtree(&db, &name, &row)
    }

    fn update_node(
        &mut self,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
        position: i64,
    ) -> Result<()> {
        // When the cache follows, no path moves (module `cache`): the row alone
        // changes. Else same-name siblings may be renumbered.
        let before = match self.st.cache.updated(id, primary_type, mixins, position) {
            true => None,
            false => {
                self.st.cache.clear();
                Some(self.row(id)?)
            }
        };
        self.exec(
            "UPDATE node SET ptype = ?2, mixins = ?3, position = ?4 WHERE id = ?1",
            params![id, primary_type, codec::encode_mixins(mixins), position],
        )?;
        if let Some(row) = before.filter(|row| row.position != position) {
            if let Some(parent) = crate::path::parent(&row.path) {
                let db = self.store.db();
                tree::fix_sns(&db, row.ws, parent, &row.name, &[])?;
            }
        }
        Ok(())
    }

    fn set_property(&mut self, id: NodeId, property: &Property) -> Result<()> {
        let read = self.require_node(id)?;
        let db = self.store.db();
        let cache = &self.st.cache;
        let path = || message_path(cache, id, &read);
        let e = write::encode_property(&db, &path, property)?;
        self.fresh = None;
        write::write_props(
            &db,
            &mut self.prepared,
            id,
            std::slice::from_ref(&e),
            Rows::Replace,
        )?;
        self.uuid_written(id, property);
        Ok(())
    }

    fn set_properties(&mut self, id: NodeId, properties: &[&Property]) -> Result<()> {
        if properties.is_empty() {
            return Ok(());
        }
        let read = self.require_node(id)?;
        let db = self.store.db();
        let cache = &self.st.cache;
        let path = || message_path(cache, id, &read);
        let encoded = properties
            .iter()
            .map(|p| write::encode_property(&db, &path, p))
            .collect::<Result<Vec<_>>>()?;
        let kind = match self.fresh.take() == Some(id) && distinct_names(properties) {
            true => Rows::New,
            false => Rows::Replace,
        };
        write::write_props(&db, &mut self.prepared, id, &encoded, kind)?;
        for p in properties {
            self.uuid_written(id, p);
        }
        Ok(())
    }

    fn set_aggregate_digest(&mut self, id: NodeId, digest: &[u8]) -> Result<()> {
        self.path_of(id)?;
        self.exec(
            "INSERT OR REPLACE INTO aggregate(node, digest) VALUES (?1, ?2)",
            params![id, digest],
        )?;
        Ok(())
    }

    /// One statement per record finds the node's id in the path index and records
    /// the digest: no node row is read, decoded or cached; a node the write cache
    /// holds is recorded by its id, without the lookup. At the end of a large
    /// install most pages have left SQLite's page cache (spilled to the WAL), and
    /// reading the node rows read them back from the WAL: at 100k nodes this cut
    /// the install's page reads from the WAL from 41,025 to 37,684.
    fn set_aggregate_digests_at(
        &mut self,
        ws: WorkspaceId,
        records: &[(&str, &[u8])],
    ) -> Result<usize> {
        let db = self.db();
        let mut st = db
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO aggregate(node, digest)
                 SELECT id, ?3 FROM node WHERE ws = ?1 AND path = ?2",
            )
            .map_err(|e| db.err(e))?;
        let mut by_id = db
            .conn
            .prepare_cached("INSERT OR REPLACE INTO aggregate(node, digest) VALUES (?1, ?2)")
            .map_err(|e| db.err(e))?;
        let mut recorded = 0;
        for (path, digest) in records {
            // A node the write cache holds (nearly every one this install added)
            // by its id: no lookup in the path index, and a one-row statement,
            // which SQLite runs without a statement journal.
            recorded += match self.st.cache.id_at(ws, path) {
                Known::Yes(Some(id)) => by_id.execute(params![id, digest]),
                _ => st.execute(params![ws, path, digest]),
            }
            .map_err(|e| db.err(e))?;
        }
        Ok(recorded)
    }

    fn clear_aggregate_digest(&mut self, id: NodeId) -> Result<()> {
        self.exec("DELETE FROM aggregate WHERE node = ?1", [id])?;
        Ok(())
    }

    fn remove_property(&mut self, id: NodeId, name: &str) -> Result<bool> {
        let removed = self.exec(
            "DELETE FROM prop WHERE node = ?1 AND name = ?2",
            params![id, name],
        )? > 0;
        if name == "jcr:uuid" {
            self.st.cache.uuid_written(id, None);
        }
        Ok(removed)
    }

    fn set_namespace(&mut self, prefix: &str, uri: Option<&str>) -> Result<()> {
        match uri {
            Some(u) => self.exec(
                "INSERT OR REPLACE INTO namespace(prefix, uri) VALUES (?1, ?2)",
                params![prefix, u],
            )?,
            None => self.exec("DELETE FROM namespace WHERE prefix = ?1", [prefix])?,
        };
        Ok(())
    }

    fn set_node_type(&mut self, name: &str, cnd: Option<&str>) -> Result<()> {
        match cnd {
            Some(c) => self.exec(
                "INSERT OR REPLACE INTO nodetype(name, cnd) VALUES (?1, ?2)",
                params![name, c],
            )?,
            None => self.exec("DELETE FROM nodetype WHERE name = ?1", [name])?,
        };
        Ok(())
    }
}

impl OpLogTxn for SqliteTxn<'_> {
    fn insert_operation(&mut self, meta: &OperationMeta) -> Result<OperationId> {
        journal::insert_operation(&self.db(), meta).map(OperationId)
    }

    fn record_node(&mut self, op: OperationId, image: &NodeImage) -> Result<()> {
        let b = image.before.as_ref();
        self.exec(
            "INSERT OR IGNORE INTO jnode(op, node, ws, path, existed, parent, name, position, ptype, mixins)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                op.0,
                image.node,
                image.ws,
                image.path,
                b.is_some(),
                b.and_then(|b| b.parent),
                b.map(|b| b.name.as_str()),
                b.map(|b| b.position),
                b.map(|b| b.primary_type.as_str()),
                b.map(|b| codec::encode_mixins(&b.mixins)),
            ],
        )?;
        Ok(())
    }

    fn record_prop(&mut self, op: OperationId, image: &PropImage) -> Result<()> {
        let db = self.db();
        let stored = match &image.before {
            Some(p) => Some((
                codec::type_code(p.ptype),
                p.multiple,
                codec::stored_text(p).ok_or_else(|| {
                    db.corrupt(format!(
                        "property {} of {} cannot be encoded",
                        p.name, image.path
                    ))
                })?,
            )),
            None => None,
        };
        self.exec(
            "INSERT OR IGNORE INTO jprop(op, node, name, ws, path, existed, type, multiple, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                op.0,
                image.node,
                image.name,
                image.ws,
                image.path,
                stored.is_some(),
                stored.as_ref().map(|s| s.0),
                stored.as_ref().map(|s| s.1),
                stored.as_ref().map(|s| s.2.as_ref()),
            ],
        )?;
        Ok(())
    }

    fn record_reg(&mut self, op: OperationId, image: &RegImage) -> Result<()> {
        self.exec(
            "INSERT OR IGNORE INTO jreg(op, kind, key, existed, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                op.0,
                kind_name(image.kind),
                image.key,
                image.before.is_some(),
                image.before
            ],
        )?;
        Ok(())
    }

    fn set_undoes(&mut self, op: OperationId, target: OperationId) -> Result<()> {
        self.exec(
            "UPDATE op SET undoes = ?2 WHERE id = ?1",
            params![op.0, target.0],
        )?;
        Ok(())
    }

    fn set_counts(
        &mut self,
        op: OperationId,
        nodes: u64,
        properties: u64,
        registrations: u64,
    ) -> Result<()> {
        self.exec(
            "UPDATE op SET nodes = ?2, props = ?3, regs = ?4 WHERE id = ?1",
            params![op.0, nodes as i64, properties as i64, registrations as i64],
        )?;
        Ok(())
    }

    fn drop_operations_through(&mut self, through: OperationId) -> Result<()> {
        for sql in [
            "DELETE FROM jnode WHERE op <= ?1",
            "DELETE FROM jcreated WHERE op <= ?1",
            "DELETE FROM jprop WHERE op <= ?1",
            "DELETE FROM jreg WHERE op <= ?1",
            "DELETE FROM op WHERE id <= ?1",
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('pruned_through', ?1)",
        ] {
            self.exec(sql, [through.0])?;
        }
        Ok(())
    }
}

impl BackendTxn for SqliteTxn<'_> {
    /// The default in a few statements: the created nodes are exactly those whose
    /// ids this transaction handed out (ids only grow), recorded as that range.
    fn finish_operation(&mut self, op: OperationId) -> Result<()> {
        journal::finish_operation(&self.store.db(), &self.st, op.0)
    }

    fn savepoint(&mut self) -> Result<()> {
        let db = self.db();
        db.conn
            .execute_batch("SAVEPOINT jcrpack_journaled")
            .map_err(|e| db.err(e))
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.st.cache.clear();
        self.fresh = None;
        let db = self.store.db();
        db.conn
            .execute_batch("ROLLBACK TO jcrpack_journaled; RELEASE jcrpack_journaled")
            .map_err(|e| db.err(e))?;
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<()> {
        let db = self.db();
        db.conn
            .execute_batch("RELEASE jcrpack_journaled")
            .map_err(|e| db.err(e))
    }

    fn prepare_commit(&mut self) {
        self.store.blobs.sync_ahead();
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.exec(
            "UPDATE meta SET value = ?1 WHERE key = 'next_node_id'",
            [self.st.next_id.to_string()],
        )?;
        // Any committed change gives the repository a new generation token.
        self.exec(super::schema::NEW_GENERATION, [])?;
        // The blobs this transaction wrote must be durable before anything refers
        // to them durably.
        self.store.blobs.sync_pending()?;
        self.finish("COMMIT")
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.finish("ROLLBACK")
    }
}

impl From<SqliteStore> for SqliteBackend {
    fn from(store: SqliteStore) -> SqliteBackend {
        SqliteBackend::new(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: NodeId, parent: NodeId) -> NodeRecord {
        NodeRecord {
            id,
            ws: 1,
            parent: Some(parent),
            name: format!("n{id}"),
            position: id,
            path: format!("/n{id}"),
            primary_type: "nt:unstructured".into(),
            mixins: vec![],
        }
    }

    /// The read cache's children lists are checked against a fresh read (debug
    /// builds): a write that bypasses the cache is caught where the list answers.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the cached children of node")]
    fn a_children_list_a_write_bypassed_is_caught() {
        let (_dir, mut store) = super::super::tests::repo();
        let txn = SqliteTxn::begin(&mut store, "test").unwrap();
        let ws = txn.workspace_id("default").unwrap().unwrap();
        let root = txn.node_at(ws, "/").unwrap().unwrap();
        let before = txn.children(root.id).unwrap();
        // Answered from the cache, and right.
        assert_eq!(txn.children(root.id).unwrap(), before);
        let db = txn.db();
        let mut prepared = super::super::txn::Prepared::default();
        write::insert_node(
            &db,
            &mut prepared,
            1 << 40,
            ws,
            root.id,
            "x",
            1 << 40,
            "/x",
            "nt:unstructured",
            "",
        )
        .unwrap();
        txn.children(root.id).unwrap();
    }

    /// A new node's first properties go in as new rows ([`Rows::New`]); every
    /// later write, and a first list repeating a name, replaces rows as before.
    #[test]
    fn a_new_nodes_first_properties_are_new_rows_and_later_writes_replace() {
        let (_dir, mut store) = super::super::tests::repo();
        let mut txn = SqliteTxn::begin(&mut store, "test").unwrap();
        let ws = txn.workspace_id("default").unwrap().unwrap();
        let root = txn.node_at(ws, "/").unwrap().unwrap();
        let insert = |txn: &mut SqliteTxn<'_>, name: &str| {
            let id = txn.alloc_node_id().unwrap();
            txn.insert_node(NewNode {
                id,
                ws,
                parent: Some(root.id),
                name: name.into(),
                position: id,
                primary_type: "nt:unstructured".into(),
                mixins: vec![],
            })
            .unwrap();
            id
        };
        let s = |n: &str, v: &str| Property::string(n, v);
        let a = insert(&mut txn, "a");
        txn.set_properties(a, &[&s("x", "1"), &s("y", "2")])
            .unwrap();
        txn.set_properties(a, &[&s("x", "3")]).unwrap();
        assert_eq!(txn.properties(a).unwrap(), [s("x", "3"), s("y", "2")]);
        // A name given twice in the first list: the last one wins.
        let b = insert(&mut txn, "b");
        txn.set_properties(b, &[&s("x", "1"), &s("y", "2"), &s("x", "4")])
            .unwrap();
        assert_eq!(txn.properties(b).unwrap(), [s("x", "4"), s("y", "2")]);
        // A property set on its own before the list: the list replaces it.
        let c = insert(&mut txn, "c");
        txn.set_property(c, &s("x", "1")).unwrap();
        txn.set_properties(c, &[&s("x", "5"), &s("y", "2")])
            .unwrap();
        assert_eq!(txn.properties(c).unwrap(), [s("x", "5"), s("y", "2")]);
        // Another node inserted in between: the first one is not new any more.
        let d = insert(&mut txn, "d");
        txn.set_properties(d, &[&s("x", "1")]).unwrap();
        let e = insert(&mut txn, "e");
        txn.set_properties(d, &[&s("x", "6")]).unwrap();
        txn.set_properties(e, &[&s("x", "7")]).unwrap();
        assert_eq!(txn.properties(d).unwrap(), [s("x", "6")]);
        assert_eq!(txn.properties(e).unwrap(), [s("x", "7")]);
    }

    #[test]
    fn splits_grandchildren_into_families_in_child_order() {
        let children = [rec(9, 1), rec(4, 1), rec(7, 1)];
        let grand = [rec(20, 9), rec(21, 9), rec(22, 7)];
        let f = families(&children, &grand).unwrap();
        let ids: Vec<(NodeId, Vec<NodeId>)> = f
            .iter()
            .map(|(p, g)| (*p, g.iter().map(|r| r.id).collect()))
            .collect();
        assert_eq!(ids, vec![(9, vec![20, 21]), (4, vec![]), (7, vec![22])]);
        // Out of that order (or not a child's): no families.
        assert!(families(&children, &[rec(22, 7), rec(20, 9)]).is_none());
        assert!(families(&children, &[rec(30, 5)]).is_none());
    }
}
