//! The content store on PostgreSQL: node, property and registry rows, with every
//! node's standard-form path kept right as siblings come, go and move (as the
//! SQLite backend's `tree` does: two-phase renames through temporary `#id` paths,
//! so the unique path index never sees two nodes on one path).

use super::bulk::{NodeRow, PropCols};
use super::{PgDb, PgTxn};
use crate::namespace::NamespaceRegistry;
use crate::path::{self, Segment};
use crate::repository::blob::HashedBytes;
use crate::repository::content::{
    ContentRead, ContentTxn, NewNode, NodeId, NodeRecord, WorkspaceId,
};
use crate::repository::journaled::sns::{self, child_path, temp_path};
use crate::repository::sqlite::codec;
use crate::repository::{RepositoryError, Result};
use crate::value::{Binary, Property, Value};
use postgres::Row;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The node columns [`PgDb::record`] reads, in order.
pub(crate) const NODE_COLS: &str = "id, ws, parent, name, position, path, ptype, mixins";

/// The exclusive bounds of the strict descendants of `p` in byte order.
pub(crate) fn descendant_bounds(p: &str) -> (String, String) {
    if p == "/" {
        ("/".to_string(), "0".to_string())
    } else {
        (format!("{p}/"), format!("{p}0"))
    }
}

impl PgDb {
    /// A node row as a record.
    pub(crate) fn record(&self, r: &Row) -> Result<NodeRecord> {
        let mixins: String = self.get(r, 7)?;
        Ok(NodeRecord {
            id: self.get(r, 0)?,
            ws: self.get(r, 1)?,
            parent: self.get(r, 2)?,
            name: self.get(r, 3)?,
            position: self.get(r, 4)?,
            path: self.get(r, 5)?,
            primary_type: self.get(r, 6)?,
            mixins: codec::decode_mixins(&mixins).map_err(|e| self.corrupt(e))?,
        })
    }

    /// The record of a node row that waits to be written (see `bulk`).
    fn waiting_record(&self, n: &NodeRow) -> Result<NodeRecord> {
        Ok(NodeRecord {
            id: n.id,
            ws: n.ws,
            parent: n.parent,
            name: n.name.clone(),
            position: n.position,
            path: n.path.clone(),
            primary_type: n.ptype.clone(),
            mixins: codec::decode_mixins(&n.mixins).map_err(|e| self.corrupt(e))?,
        })
    }

    /// The properties of a node that waits to be written, in name order.
    fn waiting_props(&self, props: &super::bulk::NodeProps) -> Result<Vec<Property>> {
        props
            .iter()
            .map(|(name, (code, multiple, raw))| {
                codec::decode_property(name, *code as i64, *multiple, raw)
                    .map_err(|e| self.corrupt(e))
            })
            .collect()
    }

    fn records(
        &self,
        sql: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
        sees: impl FnOnce(&super::bulk::Pending) -> bool,
    ) -> Result<Vec<NodeRecord>> {
        self.read(sql, args, sees)?
            .iter()
            .map(|r| self.record(r))
            .collect()
    }

    fn one(
        &self,
        sql: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
        sees: impl FnOnce(&super::bulk::Pending) -> bool,
    ) -> Result<Option<NodeRecord>> {
        match self.read(sql, args, sees)?.first() {
            Some(r) => self.record(r).map(Some),
            None => Ok(None),
        }
    }

    fn require_node(&self, id: NodeId) -> Result<NodeRecord> {
        self.node_by_id(id)?
            .ok_or_else(|| self.corrupt(format!("node id {id} does not exist")))
    }

    fn prop_row(&self, r: &Row) -> Result<Property> {
        let name: String = self.get(r, 0)?;
        let code: i32 = self.get(r, 1)?;
        let multiple: bool = self.get(r, 2)?;
        let raw: String = self.get(r, 3)?;
        codec::decode_property(&name, code as i64, multiple, &raw).map_err(|e| self.corrupt(e))
    }

    /// The workspace and path of node `id`, which must exist (from the cache
    /// without copying its record, when it knows).
    fn require_place(&self, id: NodeId) -> Result<(WorkspaceId, String)> {
        match self.with_cache(|c| c.place(id)) {
            Some(Some(Some(place))) => Ok(place),
            _ => self.require_node(id).map(|r| (r.ws, r.path)),
        }
    }

    fn exists_at(&self, ws: i64, p: &str) -> Result<bool> {
        if let Some(Some(known)) = self.with_cache(|c| c.exists_at(ws, p)) {
            return Ok(known);
        }
        let exists = !self
            .read(
                "SELECT 1 FROM node WHERE ws = $1 AND md5(path) = md5($2) AND path = $2",
                &[&ws, &p],
                |b| b.holds_path(ws, p),
            )?
            .is_empty();
        if !exists {
            self.with_cache(|c| c.put_free(ws, p));
        }
        Ok(exists)
    }

    /// Reads the properties of nodes `ids` in one query and keeps them (in a
    /// write transaction, after their parent's children were listed).
    fn children_props(&self, ids: &[i64]) -> Result<()> {
        let props = self.props_of_many(ids)?;
        self.with_cache(|c| {
            for id in ids {
                if !c.props.contains_key(id) {
                    c.put_props(*id, props.get(id).map_or(&[][..], Vec::as_slice));
                }
            }
        });
        Ok(())
    }

    /// The properties of nodes `ids` in one query, by node (in name order; a
    /// node without properties is absent).
    fn props_of_many(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<Property>>> {
        let mut found: HashMap<i64, Vec<Property>> = HashMap::new();
        for r in self.read(
            "SELECT node, name, type, multiple, value FROM prop WHERE node = ANY($1)
             ORDER BY node, name",
            &[&ids],
            |b| ids.iter().any(|&i| b.holds(i)),
        )? {
            let node: i64 = self.get(&r, 0)?;
            let name: String = self.get(&r, 1)?;
            let code: i32 = self.get(&r, 2)?;
            let multiple: bool = self.get(&r, 3)?;
            let raw: String = self.get(&r, 4)?;
            let p = codec::decode_property(&name, code as i64, multiple, &raw)
                .map_err(|e| self.corrupt(e))?;
            found.entry(node).or_default().push(p);
        }
        Ok(found)
    }

    /// Remembers node `n`, just inserted by the write transaction at `path`.
    fn inserted(&self, n: &NewNode, path: &str, position: i64, mixins: &str) -> Result<()> {
        let r = NodeRecord {
            id: n.id,
            ws: n.ws,
            parent: n.parent,
            name: n.name.clone(),
            position,
            path: path.to_string(),
            primary_type: n.primary_type.clone(),
            mixins: codec::decode_mixins(mixins).map_err(|e| self.corrupt(e))?,
        };
        self.with_cache(|c| c.inserted(r));
        Ok(())
    }

    /// Renames the subtree at `old` to `new`.
    fn move_subtree(&self, ws: i64, old: &str, new: &str) -> Result<()> {
        self.with_cache(|c| c.moved(ws, old, new));
        // A waiting node (one just inserted, as a same-name sibling on its
        // temporary path) and its subtree, all waiting too, move where they wait.
        if self.lock()?.bulk.move_subtree(ws, old, new) {
            return Ok(());
        }
        let (lo, hi) = descendant_bounds(old);
        self.execute(
            "UPDATE node SET path = $3 WHERE ws = $1 AND md5(path) = md5($2) AND path = $2",
            &[&ws, &old, &new],
        )?;
        let cut = old.chars().count() as i32 + 1;
        self.execute(
            "UPDATE node SET path = $2 || substr(path, $3)
             WHERE ws = $1 AND left(path, 600) >= left($4, 600) AND left(path, 600) <= left($5, 600)
               AND path > $4 AND path < $5",
            &[&ws, &new, &cut, &lo, &hi],
        )?;
        Ok(())
    }

    fn index_of(&self, p: &str) -> Result<u32> {
        if p == "/" {
            return Ok(1);
        }
        Segment::parse(path::last_segment(p))
            .map(|s| s.index)
            .map_err(|e| self.corrupt(format!("stored path {p} is invalid: {e}")))
    }

    /// Encodes a property for its row; binaries must be blobs or references.
    fn encode(&self, ws: i64, node_path: &str, p: &Property) -> Result<(i32, String)> {
        if p.name == "jcr:primaryType" || p.name == "jcr:mixinTypes" {
            return Err(self.corrupt(format!("{} is a node field", p.name)));
        }
        for v in &p.values {
            match v {
                Value::Binary(Binary::Blob { sha256, size }) => self.check_blob(sha256, *size)?,
                Value::Binary(Binary::Reference(_)) => {}
                Value::Binary(other) => {
                    return Err(self.corrupt(format!(
                        "property {} of {node_path} reached the store with the binary {other:?}",
                        p.name
                    )))
                }
                _ => {}
            }
        }
        let value = codec::encode_values(p).ok_or_else(|| {
            self.corrupt(format!(
                "property {} of {node_path} cannot be encoded",
                p.name
            ))
        })?;
        // PostgreSQL's text refuses U+0000 (SQLite keeps it): refused here, naming
        // the property, rather than as a bare database error at commit.
        if value.contains('\0') || p.name.contains('\0') {
            return Err(RepositoryError::InvalidProperty {
                workspace: self.workspace_name(ws)?.unwrap_or_default(),
                path: node_path.to_string(),
                name: p.name.replace('\0', "\\u0000"),
                reason: "a PostgreSQL repository cannot store the NUL character (U+0000) in text"
                    .into(),
            });
        }
        Ok((codec::type_code(p.ptype) as i32, value))
    }
}

impl sns::PathRows for PgDb {
    fn row_by_path(&self, ws: i64, p: &str) -> Result<Option<sns::PathRow>> {
        Ok(self.node_at(ws, p)?.map(path_row))
    }
    fn row_by_id(&self, id: i64) -> Result<Option<sns::PathRow>> {
        Ok(self.node_by_id(id)?.map(path_row))
    }
    fn exists_at(&self, ws: i64, p: &str) -> Result<bool> {
        PgDb::exists_at(self, ws, p)
    }
    fn move_subtree(&self, ws: i64, old: &str, new: &str) -> Result<()> {
        PgDb::move_subtree(self, ws, old, new)
    }
}

fn path_row(r: NodeRecord) -> sns::PathRow {
    sns::PathRow {
        id: r.id,
        position: r.position,
        path: r.path,
    }
}

impl ContentRead for PgDb {
    fn location(&self) -> &Path {
        PgDb::location(self)
    }

    fn workspaces(&self) -> Result<Vec<(String, WorkspaceId)>> {
        self.query(
            "SELECT name, id FROM workspace WHERE live ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| Ok((self.get(r, 0)?, self.get(r, 1)?)))
        .collect()
    }

    fn workspace_id(&self, name: &str) -> Result<Option<WorkspaceId>> {
        if let Some(Some(known)) = self.with_cache(|c| c.ws.get(name).copied()) {
            return Ok(known);
        }
        let id = match self
            .query(
                "SELECT id FROM workspace WHERE live AND name = $1",
                &[&name],
            )?
            .first()
        {
            Some(r) => Some(self.get(r, 0)?),
            None => None,
        };
        self.with_cache(|c| {
            c.ws.insert(name.to_string(), id);
            if let Some(id) = id {
                c.live.insert(id);
            }
        });
        Ok(id)
    }

    fn workspace_name(&self, ws: WorkspaceId) -> Result<Option<String>> {
        match self
            .query("SELECT name FROM workspace WHERE id = $1", &[&ws])?
            .first()
        {
            Some(r) => self.get(r, 0).map(Some),
            None => Ok(None),
        }
    }

    fn node_at(&self, ws: WorkspaceId, p: &str) -> Result<Option<NodeRecord>> {
        if let Some(Some(known)) = self.with_cache(|c| c.node_at(ws, p)) {
            return Ok(known);
        }
        // Below a known node of a write transaction: read ahead there (a
        // re-import walks what exists), then ask the cache again.
        if let Some(Some(parent)) = self.with_cache(|c| c.read_ahead_below(ws, p)) {
            self.read_below(parent)?;
            if let Some(Some(known)) = self.with_cache(|c| c.node_at(ws, p)) {
                return Ok(known);
            }
        }
        let found = self.one(
            &format!(
                "SELECT {NODE_COLS} FROM node WHERE ws = $1 AND md5(path) = md5($2) AND path = $2"
            ),
            &[&ws, &p],
            |b| b.holds_path(ws, p),
        )?;
        self.with_cache(|c| match &found {
            Some(r) => c.put_node(r),
            None => c.put_free(ws, p),
        });
        Ok(found)
    }

    fn node_by_id(&self, id: NodeId) -> Result<Option<NodeRecord>> {
        if let Some(Some(known)) = self.with_cache(|c| c.node(id)) {
            return Ok(known);
        }
        let found = self.one(
            &format!("SELECT {NODE_COLS} FROM node WHERE id = $1"),
            &[&id],
            |b| b.holds(id),
        )?;
        self.with_cache(|c| match &found {
            Some(r) => c.put_node(r),
            None => c.put_missing(id),
        });
        Ok(found)
    }

    fn children(&self, id: NodeId) -> Result<Vec<NodeRecord>> {
        if let Some(Some(known)) = self.with_cache(|c| c.children(id)) {
            // Their properties are read next: those not known, in one query.
            let missing: Vec<i64> = self
                .with_cache(|c| {
                    known
                        .iter()
                        .map(|r| r.id)
                        .filter(|i| !c.props.contains_key(i))
                        .collect()
                })
                .unwrap_or_default();
            if !missing.is_empty() {
                self.children_props(&missing)?;
            }
            return Ok(known);
        }
        if self.with_cache(|c| c.may_read_below(id)) == Some(true) {
            // A write transaction reads ahead below a node it knows (a
            // re-import walks what exists), then asks the cache again.
            self.read_below(id)?;
            if let Some(Some(known)) = self.with_cache(|c| c.children(id)) {
                return Ok(known);
            }
        }
        let (rows, waiting) = self.read_children_beside(
            &format!("SELECT {NODE_COLS} FROM node WHERE parent = $1 ORDER BY position, id"),
            &[&id],
            id,
        )?;
        let stored = rows
            .iter()
            .map(|r| self.record(r))
            .collect::<Result<Vec<NodeRecord>>>()?;
        let mut found = stored.clone();
        let mut waiting_props = Vec::with_capacity(waiting.len());
        for (row, props) in &waiting {
            found.push(self.waiting_record(row)?);
            waiting_props.push((row.id, self.waiting_props(props)?));
        }
        found.sort_unstable_by_key(|r| (r.position, r.id));
        self.with_cache(|c| c.put_children(id, &found));
        if self.with_cache(|_| ()).is_some() && !found.is_empty() {
            // In a write transaction the children's properties are read next:
            // those of the waiting ones from where they wait, the others' in
            // one query; all kept.
            self.with_cache(|c| {
                for (child, props) in &waiting_props {
                    if !c.props.contains_key(child) {
                        c.put_props(*child, props);
                    }
                }
            });
            let ids: Vec<i64> = stored.iter().map(|r| r.id).collect();
            if !ids.is_empty() {
                self.children_props(&ids)?;
            }
        }
        Ok(found)
    }

    fn has_children(&self, id: NodeId) -> Result<bool> {
        if let Some(Some(known)) = self.with_cache(|c| c.last_position.get(&id).copied()) {
            return Ok(known.is_some());
        }
        Ok(!self
            .read(
                "SELECT 1 FROM node WHERE parent = $1 LIMIT 1",
                &[&id],
                |b| b.holds_children_of(id),
            )?
            .is_empty())
    }

    fn last_position(&self, parent: NodeId) -> Result<Option<i64>> {
        if let Some(Some(known)) = self.with_cache(|c| c.last_position.get(&parent).copied()) {
            return Ok(known);
        }
        let rows = self.read(
            "SELECT max(position) FROM node WHERE parent = $1",
            &[&parent],
            |b| b.holds_children_of(parent),
        )?;
        let last: Option<i64> = match rows.first() {
            Some(r) => self.get(r, 0)?,
            None => None,
        };
        self.with_cache(|c| {
            c.make_room();
            c.last_position.insert(parent, last);
        });
        Ok(last)
    }

    fn previous_sibling(
        &self,
        parent: NodeId,
        position: i64,
        id: NodeId,
        except: Option<NodeId>,
    ) -> Result<Option<NodeRecord>> {
        if let Some(Some(kids)) = self.with_cache(|c| c.children(parent)) {
            return Ok(kids
                .into_iter()
                .filter(|r| (r.position, r.id) < (position, id) && Some(r.id) != except)
                .max_by_key(|r| (r.position, r.id)));
        }
        let (rows, waiting) = self.read_children_beside(
            &format!(
                "SELECT {NODE_COLS} FROM node WHERE parent = $1 AND (position, id) < ($2, $3)
                 AND id <> $4 ORDER BY position DESC, id DESC LIMIT 1"
            ),
            &[&parent, &position, &id, &except.unwrap_or(0)],
            parent,
        )?;
        let stored = rows.first().map(|r| self.record(r)).transpose()?;
        let waiting = waiting
            .iter()
            .map(|(row, _)| row)
            .filter(|r| (r.position, r.id) < (position, id) && Some(r.id) != except)
            .max_by_key(|r| (r.position, r.id))
            .map(|r| self.waiting_record(r))
            .transpose()?;
        Ok(stored
            .into_iter()
            .chain(waiting)
            .max_by_key(|r| (r.position, r.id)))
    }

    fn properties(&self, id: NodeId) -> Result<Vec<Property>> {
        if let Some(Some(known)) =
            self.with_cache(|c| c.props.get(&id).map(|m| m.values().cloned().collect()))
        {
            return Ok(known);
        }
        let found = self
            .read(
                "SELECT name, type, multiple, value FROM prop WHERE node = $1 ORDER BY name",
                &[&id],
                |b| b.holds(id),
            )?
            .iter()
            .map(|r| self.prop_row(r))
            .collect::<Result<Vec<Property>>>()?;
        self.with_cache(|c| c.put_props(id, &found));
        Ok(found)
    }

    // The batched reads (the node type check's) answer what the cache knows and
    // read the rest in one query each; what they read is not kept (each node is
    // read once, and the cache stays for the install's own reads).
    fn nodes_at(&self, ws: WorkspaceId, paths: &[&str]) -> Result<Vec<Option<NodeRecord>>> {
        cached_or_batch(
            paths,
            |p| self.with_cache(|c| c.node_at(ws, p)).flatten(),
            |ask| {
                let found: HashMap<String, NodeRecord> = self
                    .records(
                        &format!(
                            "SELECT {NODE_COLS} FROM unnest($2::text[]) AS q(p)
                             JOIN node ON ws = $1 AND md5(path) = md5(q.p) AND path = q.p"
                        ),
                        &[&ws, &ask],
                        |b| ask.iter().any(|p| b.holds_path(ws, p)),
                    )?
                    .into_iter()
                    .map(|r| (r.path.clone(), r))
                    .collect();
                Ok(ask.iter().map(|p| found.get(*p).cloned()).collect())
            },
        )
    }

    fn properties_of(&self, ids: &[NodeId]) -> Result<Vec<Vec<Property>>> {
        cached_or_batch(
            ids,
            |id| {
                self.with_cache(|c| c.props.get(&id).map(|m| m.values().cloned().collect()))
                    .flatten()
            },
            |ask| {
                let found = self.props_of_many(ask)?;
                Ok(ask
                    .iter()
                    .map(|id| found.get(id).cloned().unwrap_or_default())
                    .collect())
            },
        )
    }

    fn children_of(&self, ids: &[NodeId]) -> Result<Vec<Vec<NodeRecord>>> {
        cached_or_batch(
            ids,
            |id| self.with_cache(|c| c.children(id)).flatten(),
            |ask| {
                let mut found: HashMap<i64, Vec<NodeRecord>> = HashMap::new();
                for r in self.records(
                    &format!(
                        "SELECT {NODE_COLS} FROM node WHERE parent = ANY($1)
                         ORDER BY parent, position, id"
                    ),
                    &[&ask],
                    |b| ask.iter().any(|&i| b.holds_children_of(i)),
                )? {
                    if let Some(parent) = r.parent {
                        found.entry(parent).or_default().push(r);
                    }
                }
                Ok(ask
                    .iter()
                    .map(|id| found.get(id).cloned().unwrap_or_default())
                    .collect())
            },
        )
    }

    fn property(&self, id: NodeId, name: &str) -> Result<Option<Property>> {
        if let Some(Some(known)) =
            self.with_cache(|c| c.props.get(&id).map(|m| m.get(name).cloned()))
        {
            return Ok(known);
        }
        if self.with_cache(|_| ()).is_some() {
            // In a write transaction the node's other properties are read next:
            // all of them at once, kept.
            return Ok(self.properties(id)?.into_iter().find(|p| p.name == name));
        }
        match self
            .read(
                "SELECT name, type, multiple, value FROM prop WHERE node = $1 AND name = $2",
                &[&id, &name],
                |b| b.holds(id),
            )?
            .first()
        {
            Some(r) => self.prop_row(r).map(Some),
            None => Ok(None),
        }
    }

    fn uuid_owners(&self, ws: WorkspaceId, uuid: &str) -> Result<Vec<NodeId>> {
        if self.with_cache(|_| ()).is_some() {
            // In a write transaction: the rows waiting in `bulk` stay there.
            return self.uuid_owners_beside(ws, uuid);
        }
        self.query(
            "SELECT n.id FROM prop p JOIN node n ON n.id = p.node
             WHERE p.name = 'jcr:uuid' AND md5(p.value) = md5($1) AND p.value = $1 AND n.ws = $2
             ORDER BY n.id",
            &[&uuid, &ws],
        )?
        .iter()
        .map(|r| self.get(r, 0))
        .collect()
    }

    fn namespaces(&self) -> Result<NamespaceRegistry> {
        let mut reg = NamespaceRegistry::new();
        // No waiting row is a namespace's: they go on waiting.
        for r in self.read(
            "SELECT prefix, uri FROM namespace ORDER BY prefix",
            &[],
            |_| false,
        )? {
            let p: String = self.get(&r, 0)?;
            let u: String = self.get(&r, 1)?;
            if reg.uri(&p) != Some(u.as_str()) {
                reg.set(&p, &u);
            }
        }
        Ok(reg)
    }

    fn node_types(&self) -> Result<Vec<(String, String)>> {
        self.query("SELECT name, cnd FROM nodetype ORDER BY name", &[])?
            .iter()
            .map(|r| Ok((self.get(r, 0)?, self.get(r, 1)?)))
            .collect()
    }

    fn node_type(&self, name: &str) -> Result<Option<String>> {
        match self
            .query("SELECT cnd FROM nodetype WHERE name = $1", &[&name])?
            .first()
        {
            Some(r) => self.get(r, 0).map(Some),
            None => Ok(None),
        }
    }

    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
        self.put_blob_stream(data)
    }

    fn put_hashed_blob(&self, data: &HashedBytes) -> Result<Binary> {
        self.put_hashed(data)
    }

    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        self.open_blob_stream(sha256)
    }

    fn check_blob(&self, sha256: &str, size: u64) -> Result<()> {
        self.require_blob(sha256, size)
    }

    fn aggregate_digest(&self, id: NodeId) -> Result<Option<Vec<u8>>> {
        match self
            .query("SELECT digest FROM aggregate WHERE node = $1", &[&id])?
            .first()
        {
            Some(r) => self.get(r, 0).map(Some),
            None => Ok(None),
        }
    }

    fn has_aggregate_digests(&self) -> Result<bool> {
        let rows = self.query("SELECT EXISTS(SELECT 1 FROM aggregate)", &[])?;
        self.get(&rows[0], 0)
    }
}

// The reads of a transaction go to its connection, which sees its own
// uncommitted writes.
crate::repository::content::forward_content_read!(PgTxn<'_>, |t| t.db);

impl ContentTxn for PgTxn<'_> {
    fn first_new_id(&self) -> NodeId {
        self.first_id
    }

    fn known_node_id_at(&self, ws: WorkspaceId, p: &str) -> Result<Option<NodeId>> {
        Ok(self.db.with_cache(|c| c.known_id_at(ws, p)).flatten())
    }

    fn alloc_node_id(&mut self) -> Result<NodeId> {
        let id = self.next_id;
        if id >= self.id_limit {
            return Err(self
                .db
                .corrupt("the transaction's block of node ids ran out"));
        }
        self.next_id = id + 1;
        self.db.with_cache(|c| c.put_missing(id));
        Ok(id)
    }

    fn new_nodes(&self, after: Option<NodeId>, limit: usize) -> Result<Vec<NodeRecord>> {
        self.db.records(
            &format!(
                "SELECT {NODE_COLS} FROM node WHERE id >= $1 AND id < $4 AND id > $2 ORDER BY id LIMIT $3"
            ),
            &[&self.first_id, &after.unwrap_or(i64::MIN), &(limit as i64), &self.next_id],
            |_| true,
        )
    }

    fn insert_workspace(&mut self, name: &str, id: Option<WorkspaceId>) -> Result<WorkspaceId> {
        let db = self.db;
        if db.workspace_id(name)?.is_some() {
            return Err(db.corrupt(format!("workspace '{name}' exists already")));
        }
        db.forget();
        match id {
            Some(id) => {
                let n = db.execute(
                    "UPDATE workspace SET live = true WHERE id = $1 AND name = $2 AND NOT live",
                    &[&id, &name],
                )?;
                if n != 1 {
                    return Err(db.corrupt(format!(
                        "workspace id {id} is in use or never belonged to '{name}'"
                    )));
                }
                Ok(id)
            }
            None => {
                let rows = db.query(
                    "INSERT INTO workspace(id, name, live)
                     SELECT coalesce(max(id), 0) + 1, $1, true FROM workspace RETURNING id",
                    &[&name],
                )?;
                db.get(&rows[0], 0)
            }
        }
    }

    fn remove_workspace(&mut self, ws: WorkspaceId) -> Result<u64> {
        let db = self.db;
        db.forget();
        let live = db.query("SELECT 1 FROM workspace WHERE id = $1 AND live", &[&ws])?;
        if live.is_empty() {
            return Err(db.corrupt(format!("workspace id {ws} does not exist")));
        }
        db.execute(
            "DELETE FROM prop WHERE node IN (SELECT id FROM node WHERE ws = $1)",
            &[&ws],
        )?;
        let nodes = db.execute("DELETE FROM node WHERE ws = $1", &[&ws])?;
        db.execute("UPDATE workspace SET live = false WHERE id = $1", &[&ws])?;
        Ok(nodes)
    }

    fn insert_node(&mut self, n: NewNode) -> Result<()> {
        let n = &n;
        let db = self.db;
        if n.id >= self.next_id {
            return Err(db.corrupt(format!("node id {} was never handed out", n.id)));
        }
        if db.with_cache(|c| c.live.contains(&n.ws)) != Some(true) {
            let live = db.query("SELECT 1 FROM workspace WHERE id = $1 AND live", &[&n.ws])?;
            if live.is_empty() {
                return Err(db.corrupt(format!("workspace id {} does not exist", n.ws)));
            }
            db.with_cache(|c| c.live.insert(n.ws));
        }
        if db.node_by_id(n.id)?.is_some() {
            return Err(db.corrupt(format!("node id {} is in use", n.id)));
        }
        let mixins = codec::encode_mixins(&n.mixins);
        let Some(parent) = n.parent else {
            if !n.name.is_empty() {
                return Err(db.corrupt("a root node has no name"));
            }
            if db.node_at(n.ws, "/")?.is_some() {
                return Err(db.corrupt(format!("workspace id {} has a root already", n.ws)));
            }
            db.execute(
                "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
                 VALUES ($1, $2, NULL, '', 0, '/', $3, $4)",
                &[&n.id, &n.ws, &n.primary_type, &mixins],
            )?;
            db.inserted(n, "/", 0, &mixins)?;
            return Ok(());
        };
        if n.name.is_empty() {
            return Err(db.corrupt("a node below the root needs a name"));
        }
        let (parent_ws, parent_path) = match db.with_cache(|c| c.place(parent)) {
            Some(Some(known)) => known,
            _ => db.node_by_id(parent)?.map(|r| (r.ws, r.path)),
        }
        .ok_or_else(|| db.corrupt(format!("parent id {parent} does not exist")))?;
        if parent_ws != n.ws {
            return Err(db.corrupt(format!("parent id {parent} lies in another workspace")));
        }
        let first = child_path(&parent_path, &n.name, 1);
        let direct = !db.exists_at(n.ws, &first)?;
        let p = if direct { first } else { temp_path(n.id) };
        {
            // On a free path (a same-name sibling's temporary path is free too):
            // the row may wait for the next statement (bulk).
            let row = NodeRow {
                id: n.id,
                ws: n.ws,
                parent: Some(parent),
                name: n.name.clone(),
                position: n.position,
                path: p.clone(),
                ptype: n.primary_type.clone(),
                mixins: mixins.clone(),
            };
            if db.hold_node(row)? {
                db.inserted(n, &p, n.position, &mixins)?;
                if !direct {
                    sns::fix_sns(db, n.ws, &parent_path, &n.name, &[n.id])?;
                }
                return Ok(());
            }
        }
        db.execute(
            "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &n.id,
                &n.ws,
                &parent,
                &n.name,
                &n.position,
                &p,
                &n.primary_type,
                &mixins,
            ],
        )?;
        // A node on a temporary path is renamed by `fix_sns` (which forgets what
        // it moves).
        db.inserted(n, &p, n.position, &mixins)?;
        if !direct {
            sns::fix_sns(db, n.ws, &parent_path, &n.name, &[n.id])?;
        }
        Ok(())
    }

    fn remove_subtree(&mut self, id: NodeId) -> Result<u64> {
        let db = self.db;
        let row = db.require_node(id)?;
        db.with_cache(|c| {
            c.forget_subtree(row.ws, &row.path);
            if let Some(parent) = row.parent {
                c.last_position.remove(&parent);
            }
        });
        if row.parent.is_none() {
            return Err(db.corrupt("a workspace root is removed only with its workspace"));
        }
        let (lo, hi) = descendant_bounds(&row.path);
        db.execute(
            "DELETE FROM prop WHERE node IN
               (SELECT id FROM node WHERE ws = $1 AND left(path, 600) >= left($2, 600)
                  AND left(path, 600) <= left($3, 600) AND path > $2 AND path < $3)",
            &[&row.ws, &lo, &hi],
        )?;
        db.execute("DELETE FROM prop WHERE node = $1", &[&row.id])?;
        let below = db.execute(
            "DELETE FROM node WHERE ws = $1 AND left(path, 600) >= left($2, 600)
               AND left(path, 600) <= left($3, 600) AND path > $2 AND path < $3",
            &[&row.ws, &lo, &hi],
        )?;
        db.execute("DELETE FROM node WHERE id = $1", &[&row.id])?;
        if let Some(parent) = path::parent(&row.path) {
            let index = db.index_of(&row.path)?;
            sns::close_gap(db, row.ws, parent, &row.name, index)?;
        }
        Ok(below + 1)
    }

    fn update_node(
        &mut self,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
        position: i64,
    ) -> Result<()> {
        let db = self.db;
        let row = db.require_node(id)?;
        let encoded = codec::encode_mixins(mixins);
        let waiting = db
            .lock()?
            .bulk
            .update_node(id, primary_type, &encoded, position);
        if !waiting {
            // A node on the server: the waiting rows are other nodes.
            db.execute_beside(
                "UPDATE node SET ptype = $2, mixins = $3, position = $4 WHERE id = $1",
                &[&id, &primary_type, &encoded, &position],
            )?;
        }
        let mixins =
            codec::decode_mixins(&codec::encode_mixins(mixins)).map_err(|e| db.corrupt(e))?;
        db.with_cache(|c| {
            if let Some(Some(r)) = c.nodes.get_mut(&id) {
                r.primary_type = primary_type.to_string();
                r.mixins = mixins;
                r.position = position;
            }
            if row.position != position {
                if let Some(parent) = row.parent {
                    c.last_position.remove(&parent);
                }
            }
        });
        if row.position != position {
            if let Some(parent) = path::parent(&row.path) {
                sns::fix_sns(db, row.ws, parent, &row.name, &[])?;
            }
        }
        Ok(())
    }

    fn set_property(&mut self, id: NodeId, property: &Property) -> Result<()> {
        self.set_properties(id, &[property])
    }

    fn set_properties(&mut self, id: NodeId, properties: &[&Property]) -> Result<()> {
        if properties.is_empty() {
            return Ok(());
        }
        let db = self.db;
        let (ws, path) = db.require_place(id)?;
        let mut rows: Vec<(&str, PropCols)> = Vec::with_capacity(properties.len());
        for p in properties {
            let (code, value) = db.encode(ws, &path, p)?;
            rows.push((p.name.as_str(), (code, p.multiple, value)));
        }
        // Rows are keyed by the MD5 of the name: two names with one are refused
        // (the cache remembers names known apart).
        let names = rows.iter().map(|r| r.0);
        let twins = match db.with_cache(|c| c.names.twins(names.clone())) {
            Some(found) => found,
            None => super::schema::md5_twins(names),
        };
        if let Some((a, b)) = twins {
            return Err(db.md5_twin_property(ws, &path, b, a)?);
        }
        // The cache keeps them as they read back from their stored form (read
        // before the rows go to wait, which takes them): most are what they
        // were given, the rest is decoded.
        let stored = if db.with_cache(|c| c.props.contains_key(&id)) == Some(true) {
            let mut stored = Vec::with_capacity(rows.len());
            for (p, (name, (code, multiple, value))) in properties.iter().zip(&rows) {
                stored.push(if reads_back_as_given(p) {
                    Property::clone(p)
                } else {
                    codec::decode_property(name, *code as i64, *multiple, value)
                        .map_err(|e| db.corrupt(e))?
                });
            }
            Some(stored)
        } else {
            None
        };
        // The properties of a node whose row waits wait with it; else one
        // statement for all of them. A name given twice keeps its last value.
        if !db.hold_props(id, &mut rows)? {
            for (name, (_, _, value)) in &rows {
                if *name == "jcr:uuid" {
                    db.with_cache(|c| c.uuid_written(ws, value));
                }
            }
            let names: Vec<&str> = rows.iter().map(|r| r.0).collect();
            let types: Vec<i32> = rows.iter().map(|r| r.1 .0).collect();
            let multiple: Vec<bool> = rows.iter().map(|r| r.1 .1).collect();
            let values: Vec<&str> = rows.iter().map(|r| r.1 .2.as_str()).collect();
            let changed = db.query(
                "INSERT INTO prop(node, name, type, multiple, value)
             SELECT DISTINCT ON (name) $1, name, type, multiple, value
             FROM unnest($2::text[], $3::int[], $4::bool[], $5::text[]) WITH ORDINALITY
                  AS t(name, type, multiple, value, ord)
             ORDER BY name, ord DESC
             ON CONFLICT (node, md5(name)) DO UPDATE
             SET type = excluded.type, multiple = excluded.multiple, value = excluded.value
             WHERE prop.name = excluded.name
             RETURNING name",
                &[&id, &names, &types, &multiple, &values],
            )?;
            let distinct: std::collections::HashSet<&str> = names.iter().copied().collect();
            if changed.len() < distinct.len() {
                let wanted = distinct.len();
                for n in distinct {
                    if let Some(other) = db.md5_twin_of(id, n)? {
                        return Err(db.md5_twin_property(ws, &path, n, &other)?);
                    }
                }
                return Err(db.corrupt(format!(
                    "setting the properties of {} changed {} of {} rows",
                    path,
                    changed.len(),
                    wanted
                )));
            }
        }
        if let Some(stored) = stored {
            db.with_cache(|c| {
                if let Some(m) = c.props.get_mut(&id) {
                    for p in stored {
                        c.bytes += super::cache::prop_bytes(&p);
                        m.insert(p);
                    }
                }
            });
        }
        Ok(())
    }

    fn set_aggregate_digest(&mut self, id: NodeId, digest: &[u8]) -> Result<()> {
        let db = self.db;
        db.require_node(id)?;
        db.execute(
            "INSERT INTO aggregate(node, digest) VALUES ($1, $2)
             ON CONFLICT (node) DO UPDATE SET digest = excluded.digest",
            &[&id, &digest],
        )?;
        Ok(())
    }

    fn clear_aggregate_digest(&mut self, id: NodeId) -> Result<()> {
        self.db
            .execute("DELETE FROM aggregate WHERE node = $1", &[&id])?;
        Ok(())
    }

    fn remove_property(&mut self, id: NodeId, name: &str) -> Result<bool> {
        let db = self.db;
        db.require_node(id)?;
        let removed = match db.unhold_prop(id, name)? {
            Some(existed) => existed,
            None => {
                db.execute(
                    "DELETE FROM prop WHERE node = $1 AND name = $2",
                    &[&id, &name],
                )? > 0
            }
        };
        db.with_cache(|c| {
            if let Some(m) = c.props.get_mut(&id) {
                m.remove(name);
            }
        });
        Ok(removed)
    }

    fn set_namespace(&mut self, prefix: &str, uri: Option<&str>) -> Result<()> {
        let db = self.db;
        match uri {
            Some(u) => {
                if db.execute(
                    "INSERT INTO namespace(prefix, uri) VALUES ($1, $2)
                     ON CONFLICT (md5(prefix)) DO UPDATE SET uri = excluded.uri
                     WHERE namespace.prefix = excluded.prefix",
                    &[&prefix, &u],
                )? == 0
                {
                    let other = db.md5_twin_key("namespace", "prefix", prefix, "", &[])?;
                    return Err(RepositoryError::NamespaceConflict {
                        prefix: prefix.to_string(),
                        uri: u.to_string(),
                        reason: format!(
                            "the prefix has the MD5 hash of the registered prefix '{}', and a \
                             PostgreSQL repository keys namespaces by that hash",
                            other.unwrap_or_default()
                        ),
                    });
                }
            }
            None => {
                if db.execute("DELETE FROM namespace WHERE prefix = $1", &[&prefix])? == 0 {
                    return Err(
                        db.corrupt(format!("namespace prefix '{prefix}' is not registered"))
                    );
                }
            }
        }
        Ok(())
    }

    fn set_node_type(&mut self, name: &str, cnd: Option<&str>) -> Result<()> {
        let db = self.db;
        match cnd {
            Some(c) => {
                if db.execute(
                    "INSERT INTO nodetype(name, cnd) VALUES ($1, $2)
                     ON CONFLICT (md5(name)) DO UPDATE SET cnd = excluded.cnd
                     WHERE nodetype.name = excluded.name",
                    &[&name, &c],
                )? == 0
                {
                    let other = db.md5_twin_key("nodetype", "name", name, "", &[])?;
                    return Err(PgDb::md5_twin_registration(
                        "node type",
                        name,
                        &other.unwrap_or_default(),
                    ));
                }
            }
            None => {
                if db.execute("DELETE FROM nodetype WHERE name = $1", &[&name])? == 0 {
                    return Err(db.corrupt(format!("node type '{name}' is not registered")));
                }
            }
        }
        Ok(())
    }
}

/// Whether property `p` reads back from its stored form ([`codec`]) as it is
/// given: one value when single-valued, and every value of the variant of its
/// type whose stored text is the value itself or its exact string form (texts,
/// names, paths, references, URIs, booleans, longs, stored binaries). Doubles,
/// dates and decimals are read back (their text may be written otherwise, or
/// refused).
fn reads_back_as_given(p: &Property) -> bool {
    use crate::value::PropertyType as T;
    (p.multiple || p.values.len() == 1)
        && p.values.iter().all(|v| {
            matches!(
                (p.ptype, v),
                (T::String, Value::String(_))
                    | (T::Name, Value::Name(_))
                    | (T::Path, Value::Path(_))
                    | (T::Reference, Value::Reference(_))
                    | (T::WeakReference, Value::WeakReference(_))
                    | (T::Uri, Value::Uri(_))
                    | (T::Boolean, Value::Boolean(_))
                    | (T::Long, Value::Long(_))
                    | (
                        T::Binary,
                        Value::Binary(Binary::Blob { .. } | Binary::Reference(_))
                    )
            )
        })
}

/// The batched reads' shape: each of `keys` answered by `cached` when it knows,
/// the rest by one `read` of those keys (its answers in their order), in the
/// order of `keys`.
fn cached_or_batch<K: Copy, V: Default>(
    keys: &[K],
    mut cached: impl FnMut(K) -> Option<V>,
    read: impl FnOnce(&[K]) -> Result<Vec<V>>,
) -> Result<Vec<V>> {
    let mut out: Vec<Option<V>> = keys.iter().map(|&k| cached(k)).collect();
    let ask: Vec<K> = keys
        .iter()
        .zip(&out)
        .filter(|(_, known)| known.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !ask.is_empty() {
        let mut read = read(&ask)?.into_iter();
        for known in out.iter_mut().filter(|known| known.is_none()) {
            *known = read.next();
        }
    }
    Ok(out.into_iter().map(Option::unwrap_or_default).collect())
}

#[cfg(test)]
mod tests {
    use super::reads_back_as_given;
    use crate::repository::sqlite::codec;
    use crate::value::{Binary, Property, PropertyType as T, Value};

    fn prop(ptype: T, multiple: bool, values: Vec<Value>) -> Property {
        Property {
            name: "p".into(),
            ptype,
            multiple,
            values,
        }
    }

    #[test]
    fn a_property_kept_as_given_is_what_its_stored_form_reads_back_as() {
        let s = |t: &str| Value::String(t.into());
        let blob = Value::Binary(Binary::Blob {
            sha256: "ab".repeat(32),
            size: 7,
        });
        let given = [
            (prop(T::String, false, vec![s("a \"b\" \\ é")]), true),
            (
                prop(T::String, true, vec![s("a"), s("[\"x\"]"), s("")]),
                true,
            ),
            (prop(T::String, true, vec![]), true),
            (
                prop(T::Name, false, vec![Value::Name("jcr:title".into())]),
                true,
            ),
            (prop(T::Path, true, vec![Value::Path("/a/b".into())]), true),
            (
                prop(T::Reference, false, vec![Value::Reference("u".into())]),
                true,
            ),
            (
                prop(
                    T::WeakReference,
                    false,
                    vec![Value::WeakReference("u".into())],
                ),
                true,
            ),
            (
                prop(T::Uri, false, vec![Value::Uri("http://x/".into())]),
                true,
            ),
            (
                prop(
                    T::Boolean,
                    true,
                    vec![Value::Boolean(true), Value::Boolean(false)],
                ),
                true,
            ),
            (prop(T::Long, false, vec![Value::Long(-42)]), true),
            (
                prop(T::Long, true, vec![Value::Long(i64::MIN), Value::Long(7)]),
                true,
            ),
            (prop(T::Binary, false, vec![blob.clone()]), true),
            (
                prop(
                    T::Binary,
                    true,
                    vec![Value::Binary(Binary::Reference("r".into()))],
                ),
                true,
            ),
            // Read back: two values of a single-valued property keep one, a
            // value of another type is read as the property's, and doubles,
            // dates and decimals are not vouched for.
            (prop(T::String, false, vec![s("a"), s("b")]), false),
            (prop(T::String, false, vec![Value::Long(1)]), false),
            (prop(T::Long, false, vec![s("1")]), false),
            (prop(T::Double, false, vec![Value::Double(0.1)]), false),
            (
                prop(T::Decimal, false, vec![Value::Decimal("1.0".into())]),
                false,
            ),
        ];
        for (p, as_given) in given {
            assert_eq!(reads_back_as_given(&p), as_given, "{p:?}");
            if as_given {
                let stored = codec::encode_values(&p).unwrap();
                let code = codec::type_code(p.ptype);
                let back = codec::decode_property(&p.name, code, p.multiple, &stored).unwrap();
                assert_eq!(back, p);
            }
        }
    }
}
