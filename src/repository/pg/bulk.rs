//! New node and property rows of a write transaction, held back and written to
//! the server in one `COPY ... FROM STDIN` (binary format) each instead of one
//! `INSERT` a node and one a node's properties.
//!
//! An install creates nodes on free paths and sets their properties; the write
//! transaction's cache ([`super::cache`]) answers the journaled layer's reads of
//! them, so in a large install most nodes need no statement of their own. Their
//! rows wait here, on the connection, and are written before *any* other
//! statement runs on it ([`super::Conn::statement`], [`super::PgDb::batch`] and
//! the commit flush first): whatever the server reads, counts, renames, deletes,
//! savepoints or rolls back, it sees them, so the store behaves exactly as if
//! every row had been inserted at once. What is held is bounded ([`MAX_ROWS`],
//! [`MAX_BYTES`]): past either the rows are written at the next write, and
//! *behind* ([`super::link`]): a thread of their own writes them while the
//! install goes on, and the next statement waits for it.
//!
//! Small binaries (one chunk) stored inside the transaction wait here too, their
//! `blob` rows written by one `INSERT ... ON CONFLICT DO NOTHING` and the chunks
//! of those that were new by one more `COPY`, before the nodes.
//!
//! Only what cannot fail for another reason than a broken connection waits: a
//! node whose id and path the caller has checked free (the transaction holds the
//! repository's write lock, so no one else takes them), the properties of a node
//! that waits here (which has no properties yet). Text with a NUL character
//! (PostgreSQL refuses it) goes through the ordinary statements, so its error is
//! the same as without the buffer. An error of the `COPY` itself (the
//! connection broke) is the error of the statement that caused the flush (of
//! the next statement, for rows written behind), and the transaction is then
//! rolled back as after any failed statement. With one batch behind and one
//! filling, twice the bounds are held at most.

mod binary;
mod props;

use super::PgDb;
use crate::repository::Result;
pub(crate) use binary::CopyError;
use binary::{CopyRows, Field};
use postgres::Client;
pub(crate) use props::NodeProps;
use std::collections::{HashMap, HashSet};

/// Rows held at most (nodes and properties together) before they are written.
pub(crate) const MAX_ROWS: usize = 20_000;

/// Bytes of text and binaries held at most before the rows are written (with
/// one batch written behind and one filling, twice this is held). Binaries are
/// most of it: at 8 MiB the 100k-node benchmark import peaked at 87 MiB, with
/// binaries held to 2 MiB at 78 MiB, for 320 more statements (four a batch:
/// `blob` rows, chunks, nodes, properties); at 1M nodes (with the properties
/// in a `Vec`) 125 -> 116 MiB, 6,045 -> 9,769 statements.
pub(crate) const MAX_BYTES: usize = 2 << 20;

/// A node row as `node` stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeRow {
    pub(crate) id: i64,
    pub(crate) ws: i64,
    pub(crate) parent: Option<i64>,
    pub(crate) name: String,
    pub(crate) position: i64,
    pub(crate) path: String,
    pub(crate) ptype: String,
    pub(crate) mixins: String,
}

/// A property row's columns after the node and name: type code, multiple, value.
pub(crate) type PropCols = (i32, bool, String);

/// The rows waiting to be written.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    nodes: Vec<NodeRow>,
    /// The properties of waiting nodes, by node and name.
    props: HashMap<i64, NodeProps>,
    /// Small blobs: SHA-256, size, content (one chunk at most).
    blobs: Vec<(String, i64, Vec<u8>)>,
    blob_names: HashSet<String>,
    /// Where each waiting node is in `nodes`, by workspace and path (a map a
    /// workspace: a lookup borrows the path).
    at: HashMap<i64, HashMap<String, usize>>,
    /// How many waiting nodes each parent has.
    parents: HashMap<i64, usize>,
    /// The waiting nodes by workspace and `jcr:uuid` value (an install asks for
    /// each new identifier's owners: a scan of the waiting nodes each time
    /// was 10 % of a 100k-node import's CPU).
    uuids: HashMap<i64, HashMap<String, Vec<i64>>>,
    /// Where each waiting node is in `nodes`, by id.
    by_id: HashMap<i64, usize>,
    rows: usize,
    bytes: usize,
    /// Rows written so far by `COPY` (for the tests and measurements).
    pub(crate) copied: u64,
}

/// The property whose value identifies a node.
const JCR_UUID: &str = "jcr:uuid";

/// Forgets that waiting node `id` of `ws` holds `jcr:uuid` `value`.
fn unindex_uuid(
    uuids: &mut HashMap<i64, HashMap<String, Vec<i64>>>,
    ws: i64,
    value: &str,
    id: i64,
) {
    let Some(owners) = uuids.get_mut(&ws) else {
        return;
    };
    if let Some(ids) = owners.get_mut(value) {
        ids.retain(|&i| i != id);
        if ids.is_empty() {
            owners.remove(value);
        }
    }
}

fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

/// The longest path both `a` and `b` are at or below, by whole segments (`"/"`
/// when they share nothing but the root, `""` when not even that, as a
/// temporary path and a stored one).
fn common_ancestor(a: &str, b: &str) -> String {
    if a == b {
        return a.to_string();
    }
    if !(a.starts_with('/') && b.starts_with('/')) {
        return String::new();
    }
    let shared: Vec<&str> = a
        .split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    match shared.join("/") {
        p if p.is_empty() => "/".to_string(),
        p => p,
    }
}

/// Writing the waiting rows failed: what they were, and why.
#[derive(Debug)]
pub(crate) struct FlushError {
    /// "N nodes below PATH" and the binaries.
    pub(crate) what: String,
    pub(crate) source: CopyError,
}

impl std::fmt::Display for FlushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "writing the waiting rows of {}: {}",
            self.what, self.source
        )
    }
}

impl std::error::Error for FlushError {}

impl Pending {
    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.blobs.is_empty()
    }

    /// Holds a blob of one chunk at most back (once for equal content).
    pub(crate) fn add_blob(&mut self, sha256: &str, data: &[u8]) {
        if self.blob_names.insert(sha256.to_string()) {
            self.rows += 1;
            self.bytes += data.len() + 128;
            self.blobs
                .push((sha256.to_string(), data.len() as i64, data.to_vec()));
        }
    }

    /// Rows held (nodes, properties and binaries).
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the rows should be written before more come.
    pub(crate) fn full(&self) -> bool {
        self.rows >= MAX_ROWS || self.bytes >= MAX_BYTES
    }

    /// Forgets what waits (the transaction ends without it, or rolls back).
    pub(crate) fn discard(&mut self) {
        drop(self.take());
    }

    /// Holds node `n` back; `false` (nothing held) when a text of it has a NUL.
    pub(crate) fn add_node(&mut self, n: NodeRow) -> bool {
        if [&n.name, &n.path, &n.ptype, &n.mixins]
            .iter()
            .any(|s| has_nul(s))
        {
            return false;
        }
        self.rows += 1;
        self.bytes += n.name.len() + n.path.len() + n.ptype.len() + n.mixins.len() + 32;
        self.props.insert(n.id, NodeProps::default());
        self.by_id.insert(n.id, self.nodes.len());
        self.at
            .entry(n.ws)
            .or_default()
            .insert(n.path.clone(), self.nodes.len());
        if let Some(parent) = n.parent {
            *self.parents.entry(parent).or_default() += 1;
        }
        self.nodes.push(n);
        true
    }

    /// Whether a waiting node is at `path` of workspace `ws`.
    pub(crate) fn holds_path(&self, ws: i64, path: &str) -> bool {
        self.at.get(&ws).is_some_and(|at| at.contains_key(path))
    }

    /// Whether a waiting node is a child of `parent`.
    pub(crate) fn holds_children_of(&self, parent: i64) -> bool {
        self.parents.contains_key(&parent)
    }

    /// The waiting children of `parent` with their properties, in (position,
    /// id) order: what a read of its children finds of them once written.
    pub(crate) fn children_of(&self, parent: i64) -> Vec<(NodeRow, NodeProps)> {
        if !self.holds_children_of(parent) {
            return Vec::new();
        }
        let mut kids: Vec<(NodeRow, NodeProps)> = self
            .nodes
            .iter()
            .filter(|n| n.parent == Some(parent))
            .map(|n| {
                (
                    n.clone(),
                    self.props.get(&n.id).cloned().unwrap_or_default(),
                )
            })
            .collect();
        kids.sort_unstable_by_key(|(n, _)| (n.position, n.id));
        kids
    }

    /// Renames the waiting node at `old` of `ws` and its subtree to `new`:
    /// `false` (nothing changed) when no node waits at `old`. A waiting node's
    /// descendants all wait too (a row written by a statement writes what waits
    /// first), so the whole subtree is here.
    pub(crate) fn move_subtree(&mut self, ws: i64, old: &str, new: &str) -> bool {
        if has_nul(new) {
            return false;
        }
        let Some(at) = self.at.get_mut(&ws) else {
            return false;
        };
        let Some(&i) = at.get(old) else {
            return false;
        };
        let mut moved = vec![i];
        if self.parents.contains_key(&self.nodes[i].id) {
            let prefix = format!("{old}/");
            moved
                .extend((0..self.nodes.len()).filter(|&j| {
                    self.nodes[j].ws == ws && self.nodes[j].path.starts_with(&prefix)
                }));
        }
        for &j in &moved {
            at.remove(&self.nodes[j].path);
        }
        for &j in &moved {
            let path = format!("{new}{}", &self.nodes[j].path[old.len()..]);
            self.bytes += path.len();
            at.insert(path.clone(), j);
            self.nodes[j].path = path;
        }
        true
    }

    /// Changes the type, mixins and position of the waiting node `id`: `false`
    /// (nothing changed) unless it waits and no text has a NUL.
    pub(crate) fn update_node(
        &mut self,
        id: i64,
        ptype: &str,
        mixins: &str,
        position: i64,
    ) -> bool {
        if has_nul(ptype) || has_nul(mixins) || !self.props.contains_key(&id) {
            return false;
        }
        let Some(n) = self.by_id.get(&id).map(|&i| &mut self.nodes[i]) else {
            return false;
        };
        n.ptype = ptype.to_string();
        n.mixins = mixins.to_string();
        n.position = position;
        true
    }

    /// Whether node `id` waits here.
    pub(crate) fn holds(&self, id: i64) -> bool {
        self.props.contains_key(&id)
    }

    /// Sets properties `(name, cols)` of the waiting node `id` (a name given
    /// twice keeps its last value, as `set_properties` does), taking them out
    /// of `rows`; `false` (nothing set, `rows` as they were) unless the node
    /// waits and no text has a NUL.
    pub(crate) fn set_props(&mut self, id: i64, rows: &mut Vec<(&str, PropCols)>) -> bool {
        if rows
            .iter()
            .any(|(name, (_, _, value))| has_nul(name) || has_nul(value))
        {
            return false;
        }
        let Some(m) = self.props.get_mut(&id) else {
            return false;
        };
        // A name with the MD5 of another held one goes to the upsert, which refuses it.
        if !m.is_empty()
            && super::schema::md5_twins(m.names().chain(rows.iter().map(|r| r.0))).is_some()
        {
            return false;
        }
        let ws = self.nodes[self.by_id[&id]].ws;
        for (name, cols) in rows.drain(..) {
            self.bytes += name.len() + cols.2.len() + 16;
            let uuid = (name == JCR_UUID).then(|| cols.2.clone());
            let old = m.insert(name, cols);
            if let Some(uuid) = uuid {
                if let Some(old) = &old {
                    unindex_uuid(&mut self.uuids, ws, &old.2, id);
                }
                let owners = self.uuids.entry(ws).or_default();
                owners.entry(uuid).or_default().push(id);
            }
            if old.is_none() {
                self.rows += 1;
            }
        }
        true
    }

    /// The waiting nodes of workspace `ws` whose `jcr:uuid` row holds `uuid`.
    pub(crate) fn uuid_owners(&self, ws: i64, uuid: &str) -> Vec<i64> {
        self.uuids
            .get(&ws)
            .and_then(|owners| owners.get(uuid))
            .cloned()
            .unwrap_or_default()
    }

    /// The waiting `jcr:uuid` rows, as (workspace, stored value), one for each
    /// node that holds it.
    pub(crate) fn uuid_rows(&self) -> Vec<(i64, &str)> {
        self.uuids
            .iter()
            .flat_map(|(ws, owners)| {
                owners
                    .iter()
                    .flat_map(move |(value, ids)| ids.iter().map(move |_| (*ws, value.as_str())))
            })
            .collect()
    }

    /// Removes property `name` of the waiting node `id`: `Some(existed)` when the
    /// node waits here, `None` when it does not.
    pub(crate) fn remove_prop(&mut self, id: i64, name: &str) -> Option<bool> {
        let m = self.props.get_mut(&id)?;
        let removed = m.remove(name);
        if let Some(cols) = &removed {
            self.rows -= 1;
            if name == JCR_UUID {
                unindex_uuid(&mut self.uuids, self.nodes[self.by_id[&id]].ws, &cols.2, id);
            }
        }
        Some(removed.is_some())
    }

    /// Takes what waits out, to be written ([`Batch::write`]): nothing waits
    /// after.
    pub(crate) fn take(&mut self) -> Batch {
        let batch = Batch {
            nodes: std::mem::take(&mut self.nodes),
            props: std::mem::take(&mut self.props),
            blobs: std::mem::take(&mut self.blobs),
        };
        self.blob_names.clear();
        self.at.clear();
        self.parents.clear();
        self.uuids.clear();
        self.by_id.clear();
        self.rows = 0;
        self.bytes = 0;
        batch
    }
}

/// Waiting rows taken out of [`Pending`], to be written on the connection
/// (here, or by a thread of its own: [`super::link::Link::write_behind`]).
#[derive(Debug)]
pub(crate) struct Batch {
    nodes: Vec<NodeRow>,
    props: HashMap<i64, NodeProps>,
    blobs: Vec<(String, i64, Vec<u8>)>,
}

impl Batch {
    /// Writes the rows with one `COPY` a table (blobs first, then nodes, then
    /// properties): the rows written, or an error naming what was being
    /// written.
    pub(crate) fn write(mut self, client: &mut Client) -> Result<u64, FlushError> {
        self.copy(client).map_err(|source| FlushError {
            what: self.describe(),
            source,
        })
    }

    /// "N nodes below PATH" (their nearest common ancestor), and the binaries
    /// (worked out only for an error).
    fn describe(&self) -> String {
        let mut common: Option<String> = None;
        for n in &self.nodes {
            common = Some(match common {
                None => n.path.clone(),
                Some(c) => common_ancestor(&c, &n.path),
            });
        }
        let mut what = match (self.nodes.len(), common) {
            (0, _) | (_, None) => String::new(),
            (1, Some(p)) => format!("1 node at {p}"),
            (k, Some(p)) if p.is_empty() => format!("{k} nodes"),
            (k, Some(p)) => format!("{k} nodes below {p}"),
        };
        if !self.blobs.is_empty() {
            if !what.is_empty() {
                what.push_str(" and ");
            }
            what.push_str(&format!("{} binaries", self.blobs.len()));
        }
        what
    }

    fn copy(&mut self, client: &mut Client) -> Result<u64, CopyError> {
        let (nodes, props, blobs) = (&self.nodes, &mut self.props, &self.blobs);
        let mut copied = 0;
        if !blobs.is_empty() {
            let names: Vec<&str> = blobs.iter().map(|b| b.0.as_str()).collect();
            let sizes: Vec<i64> = blobs.iter().map(|b| b.1).collect();
            let fresh: HashSet<String> = client
                .query(
                    "INSERT INTO blob(sha256, size) SELECT * FROM unnest($1::text[], $2::bigint[])
                     ON CONFLICT DO NOTHING RETURNING sha256",
                    &[&names, &sizes],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            if blobs
                .iter()
                .any(|b| fresh.contains(&b.0) && !b.2.is_empty())
            {
                let mut w = CopyRows::start(
                    client,
                    "COPY blob_chunk(blob, seq, data) FROM STDIN (FORMAT binary)",
                )?;
                for (sha, _, data) in blobs {
                    if fresh.contains(sha) && !data.is_empty() {
                        w.row(&[Field::Text(sha), Field::Int4(0), Field::Bytes(data)])?;
                    }
                }
                copied += w.finish()?;
            }
        }
        if nodes.is_empty() {
            return Ok(copied);
        }
        let mut w = CopyRows::start(
            client,
            "COPY node(id, ws, parent, name, position, path, ptype, mixins) FROM STDIN (FORMAT binary)",
        )?;
        for n in nodes {
            w.row(&[
                Field::Int8(n.id),
                Field::Int8(n.ws),
                Field::int8_or_null(n.parent),
                Field::Text(&n.name),
                Field::Int8(n.position),
                Field::Text(&n.path),
                Field::Text(&n.ptype),
                Field::Text(&n.mixins),
            ])?;
        }
        copied += w.finish()?;
        if props.values().all(|m| m.is_empty()) {
            return Ok(copied);
        }
        let mut w = CopyRows::start(
            client,
            "COPY prop(node, name, type, multiple, value) FROM STDIN (FORMAT binary)",
        )?;
        for n in nodes {
            if let Some(m) = props.remove(&n.id) {
                for (name, (code, multiple, value)) in m.iter() {
                    w.row(&[
                        Field::Int8(n.id),
                        Field::Text(name),
                        Field::Int4(*code),
                        Field::Bool(*multiple),
                        Field::Text(value),
                    ])?;
                }
            }
        }
        copied += w.finish()?;
        Ok(copied)
    }
}

impl PgDb {
    /// Holds node row `n` back inside a write transaction (writing what waits
    /// first when that is full); `false` when it must be inserted now.
    pub(crate) fn hold_node(&self, n: NodeRow) -> Result<bool> {
        let mut c = self.lock()?;
        let c = &mut *c;
        if !c.cache_on || !c.in_txn {
            return Ok(false);
        }
        if c.bulk.full() {
            c.flush_behind().map_err(|e| self.flush_err(e))?;
        }
        Ok(c.bulk.add_node(n))
    }

    /// Holds a blob of one chunk at most back inside a write transaction;
    /// `false` when it must be written now.
    pub(crate) fn hold_blob(&self, sha256: &str, data: &[u8]) -> Result<bool> {
        let mut c = self.lock()?;
        let c = &mut *c;
        if !c.cache_on || !c.in_txn || data.len() >= super::schema::CHUNK {
            return Ok(false);
        }
        if c.bulk.full() {
            c.flush_behind().map_err(|e| self.flush_err(e))?;
        }
        c.bulk.add_blob(sha256, data);
        Ok(true)
    }

    /// Sets properties `rows` of node `id` when its row waits (the columns as
    /// `set_properties` encodes them), taking them out of `rows`; `false`
    /// (`rows` as they were) when they must be written now.
    pub(crate) fn hold_props(&self, id: i64, rows: &mut Vec<(&str, PropCols)>) -> Result<bool> {
        let mut c = self.lock()?;
        if !c.bulk.holds(id) {
            return Ok(false);
        }
        Ok(c.bulk.set_props(id, rows))
    }

    /// Removes property `name` of node `id` when its row waits: `Some(existed)`,
    /// or `None` when the node's rows are on the server.
    pub(crate) fn unhold_prop(&self, id: i64, name: &str) -> Result<Option<bool>> {
        Ok(self.lock()?.bulk.remove_prop(id, name))
    }

    /// The nodes of workspace `ws` whose `jcr:uuid` is `uuid`, in id order, on
    /// the server and waiting here together, without writing what waits: a
    /// waiting node's properties all wait with it, so the server's rows and the
    /// waiting ones are apart.
    pub(crate) fn uuid_owners_beside(&self, ws: i64, uuid: &str) -> Result<Vec<i64>> {
        let mut c = self.lock()?;
        let c = &mut *c;
        // Whether the server holds any `jcr:uuid` of the workspace is asked once
        // (an install into a new or unreferenceable workspace then asks nothing
        // a node); then the rows this transaction writes are recorded (see
        // `cache::UuidRows`), so a value none of them has is not asked for.
        let may_hold = match c.cache.uuids.get(&ws) {
            Some(rows) => rows.may_hold(uuid),
            None => {
                c.settle().map_err(|e| self.flush_err(e))?;
                let s = c
                    .statement(
                        "SELECT NOT EXISTS(SELECT 1 FROM prop p JOIN node n ON n.id = p.node
                         WHERE p.name = 'jcr:uuid' AND n.ws = $1)",
                    )
                    .map_err(|e| self.err(e))?;
                let none: bool = c
                    .run(super::timeline::Wait::Statement, |client| {
                        client.query_one(&s, &[&ws])
                    })
                    .and_then(|r| r.try_get(0))
                    .map_err(|e| self.err(e))?;
                let rows = if none {
                    super::cache::UuidRows::Among(Default::default())
                } else {
                    super::cache::UuidRows::Unknown
                };
                let may_hold = rows.may_hold(uuid);
                if c.cache_on {
                    c.cache.uuids.insert(ws, rows);
                }
                may_hold
            }
        };
        if !may_hold {
            // Answered here: rows written behind go on being written.
            let mut ids = c.bulk.uuid_owners(ws, uuid);
            ids.sort_unstable();
            return Ok(ids);
        }
        c.settle().map_err(|e| self.flush_err(e))?;
        let s = c
            .statement(
                "SELECT n.id FROM prop p JOIN node n ON n.id = p.node
                 WHERE p.name = 'jcr:uuid' AND md5(p.value) = md5($1) AND p.value = $1 AND n.ws = $2",
            )
            .map_err(|e| self.err(e))?;
        let rows = c
            .run(super::timeline::Wait::Statement, |client| {
                client.query(&s, &[&uuid, &ws])
            })
            .map_err(|e| self.err(e))?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get(0).map_err(|e| self.err(e)))
            .collect::<Result<Vec<i64>>>()?;
        ids.extend(c.bulk.uuid_owners(ws, uuid));
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Runs a query that reads children of `parent` on the server without
    /// writing what waits, and takes the waiting children of `parent` with
    /// their properties (see [`Pending::children_of`]): a waiting node is on
    /// no server row and a server row waits nowhere, so the two together are
    /// what the query reads once the waiting rows are written, and those go
    /// on waiting (each such read wrote up to a whole batch in place, the
    /// install waiting: 21 of the 25 such writes of a 100k-node import).
    pub(crate) fn read_children_beside(
        &self,
        sql: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
        parent: i64,
    ) -> Result<(Vec<postgres::Row>, Vec<(NodeRow, NodeProps)>)> {
        let mut c = self.lock()?;
        c.settle().map_err(|e| self.flush_err(e))?;
        let rows = c.query(sql, args).map_err(|e| self.err(e))?;
        Ok((rows, c.bulk.children_of(parent)))
    }

    /// The rows written by `COPY` on this connection so far.
    #[cfg(test)]
    pub(crate) fn copied_rows(&self) -> u64 {
        self.lock().map(|c| c.bulk.copied).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, path: &str) -> NodeRow {
        NodeRow {
            id,
            ws: 1,
            parent: Some(1),
            name: path.trim_start_matches('/').into(),
            position: id,
            path: path.into(),
            ptype: "nt:unstructured".into(),
            mixins: "".into(),
        }
    }

    #[test]
    fn properties_wait_only_with_their_node_and_keep_the_last_value() {
        let mut p = Pending::default();
        assert!(p.is_empty());
        assert!(
            !p.set_props(2, &mut vec![("a", (1, false, "x".into()))]),
            "no node"
        );
        assert!(p.add_node(row(2, "/a")));
        assert!(p.holds(2) && !p.holds(3));
        assert!(p.set_props(
            2,
            &mut vec![("a", (1, false, "x".into())), ("b", (1, false, "y".into()))]
        ));
        assert!(p.set_props(2, &mut vec![("a", (1, false, "z".into()))]));
        assert_eq!(p.rows, 3, "one node, two properties");
        assert_eq!(p.props[&2].get("a").map(|c| c.2.as_str()), Some("z"));
        assert_eq!(p.remove_prop(2, "a"), Some(true));
        assert_eq!(p.remove_prop(2, "a"), Some(false));
        assert_eq!(p.remove_prop(3, "a"), None);
        assert_eq!(p.rows, 2);
        p.discard();
        assert!(p.is_empty() && !p.holds(2));
    }

    #[test]
    fn waiting_uuids_are_found_by_workspace_and_value_as_they_change() {
        let mut p = Pending::default();
        let uuid = |v: &str| ("jcr:uuid", (1, false, v.to_string()));
        assert!(p.add_node(row(2, "/a")));
        assert!(p.add_node(row(3, "/b")));
        let mut other = row(4, "/a");
        other.ws = 9;
        assert!(p.add_node(other));
        assert!(p.uuid_owners(1, "u").is_empty());
        assert!(p.set_props(2, &mut vec![uuid("u"), ("title", (1, false, "u".into()))]));
        assert!(p.set_props(3, &mut vec![uuid("u")]));
        assert!(p.set_props(4, &mut vec![uuid("u")]));
        assert_eq!(p.uuid_owners(1, "u"), [2, 3]);
        assert_eq!(p.uuid_owners(9, "u"), [4]);
        // A new value replaces the old one; a removed one is gone.
        assert!(p.set_props(2, &mut vec![uuid("v")]));
        assert_eq!(p.uuid_owners(1, "u"), [3]);
        assert_eq!(p.uuid_owners(1, "v"), [2]);
        assert_eq!(p.remove_prop(3, "jcr:uuid"), Some(true));
        assert_eq!(p.remove_prop(2, "title"), Some(true));
        assert!(p.uuid_owners(1, "u").is_empty());
        let mut rows = p.uuid_rows();
        rows.sort_unstable();
        assert_eq!(rows, [(1, "v"), (9, "u")]);
        p.discard();
        assert!(p.uuid_owners(1, "v").is_empty() && p.uuid_rows().is_empty());
    }

    #[test]
    fn waiting_children_come_in_order_with_their_properties() {
        let mut p = Pending::default();
        assert!(p.children_of(1).is_empty());
        let mut later = row(2, "/b");
        later.position = 9;
        assert!(p.add_node(later));
        assert!(p.add_node(row(3, "/a")));
        let mut elsewhere = row(4, "/x/c");
        elsewhere.parent = Some(7);
        assert!(p.add_node(elsewhere));
        assert!(p.set_props(2, &mut vec![("t", (1, false, "x".into()))]));
        let kids = p.children_of(1);
        let ids: Vec<i64> = kids.iter().map(|(n, _)| n.id).collect();
        assert_eq!(ids, [3, 2], "by position, then id");
        assert!(kids[0].1.is_empty());
        assert_eq!(kids[1].1.get("t").map(|c| c.2.as_str()), Some("x"));
        assert_eq!(p.children_of(7).len(), 1);
        assert!(p.children_of(2).is_empty());
    }

    #[test]
    fn text_with_nul_does_not_wait() {
        let mut p = Pending::default();
        assert!(!p.add_node(row(2, "/a\0")));
        assert!(p.is_empty());
        assert!(p.add_node(row(3, "/b")));
        assert!(!p.set_props(3, &mut vec![("a", (1, false, "x\0".into()))]));
        assert!(!p.set_props(3, &mut vec![("a\0", (1, false, "x".into()))]));
        assert!(p.props[&3].is_empty());
    }

    /// What an error writing `p`'s rows would name them.
    fn described(p: &Pending) -> String {
        Batch {
            nodes: p.nodes.clone(),
            props: HashMap::new(),
            blobs: p.blobs.clone(),
        }
        .describe()
    }

    #[test]
    fn waiting_rows_are_named_by_their_common_ancestor() {
        assert_eq!(common_ancestor("/a/b", "/a/c"), "/a");
        assert_eq!(common_ancestor("/a/b", "/a/b/c"), "/a/b");
        assert_eq!(common_ancestor("/ab", "/ac"), "/");
        assert_eq!(common_ancestor("/a/x", "/a/x[2]"), "/a");
        assert_eq!(common_ancestor("#7", "/a"), "");
        let mut p = Pending::default();
        p.add_node(row(2, "/site/a/b"));
        assert_eq!(described(&p), "1 node at /site/a/b");
        p.add_node(row(3, "/site/a/c"));
        p.add_node(row(4, "/site/a"));
        assert_eq!(described(&p), "3 nodes below /site/a");
        p.add_blob("abc", b"x");
        assert_eq!(described(&p), "3 nodes below /site/a and 1 binaries");
        p.add_node(row(5, "#5"));
        assert_eq!(described(&p), "4 nodes and 1 binaries");
    }

    #[test]
    fn a_waiting_subtree_moves_where_it_waits() {
        let mut p = Pending::default();
        let mut a = row(2, "#2");
        a.parent = Some(1);
        p.add_node(a);
        let mut c = row(3, "#2/c");
        c.parent = Some(2);
        p.add_node(c);
        p.add_node(row(4, "/other"));
        assert!(!p.move_subtree(1, "/absent", "/x"));
        assert!(p.move_subtree(1, "#2", "/a[2]"));
        assert!(p.holds_path(1, "/a[2]") && p.holds_path(1, "/a[2]/c"));
        assert!(!p.holds_path(1, "#2") && !p.holds_path(1, "#2/c"));
        assert!(p.holds_path(1, "/other"));
        assert!(!p.holds_path(2, "/other") && !p.move_subtree(2, "/other", "/x"));
        assert!(p.holds_children_of(2) && !p.holds_children_of(3));
        assert!(p.update_node(3, "nt:folder", "", 9));
        assert!(!p.update_node(7, "nt:folder", "", 9));
        assert_eq!(p.nodes[1].ptype, "nt:folder");
    }

    #[test]
    fn it_is_full_past_its_bounds() {
        let mut p = Pending::default();
        for i in 0..MAX_ROWS as i64 {
            assert!(!p.full());
            p.add_node(row(i + 2, &format!("/n{i}")));
        }
        assert!(p.full());
        let mut q = Pending::default();
        q.add_node(row(2, "/a"));
        q.set_props(2, &mut vec![("big", (1, false, "v".repeat(MAX_BYTES)))]);
        assert!(q.full());
    }
}

/// An install's new rows through `COPY`, on a test cluster (see `testdb`).
#[cfg(test)]
mod on_server {
    use crate::node::Node;
    use crate::repository::location::OpenOptions;
    use crate::repository::pg::PgStore;
    use crate::repository::{AddOptions, RepositoryError, SameName, Store, StoreRead};
    use crate::value::Property;

    fn fresh() -> PgStore {
        let url = format!(
            "{}?schema=bulk",
            crate::repository::pg::testdb::fresh_database()
        );
        PgStore::init_url(&url, &OpenOptions::default()).expect("init")
    }

    /// The id of workspace `default`.
    fn default_ws(db: &crate::repository::pg::PgDb) -> i64 {
        db.query("SELECT id FROM workspace WHERE name = 'default'", &[])
            .unwrap()[0]
            .get(0)
    }

    /// The ids of workspace `default` and of its node `/site`.
    fn default_ws_and_site(db: &crate::repository::pg::PgDb) -> (i64, i64) {
        let site = db
            .query("SELECT id FROM node WHERE path = '/site'", &[])
            .unwrap()[0]
            .get(0);
        (default_ws(db), site)
    }

    /// A tree of `n` pages with properties, two of them same-name siblings.
    fn tree(n: usize) -> Node {
        let mut root = Node::new("site", "nt:unstructured").with(Property::string("title", "S"));
        for i in 0..n {
            let name = if i < 2 {
                "twin".to_string()
            } else {
                format!("p{i}")
            };
            root = root.with_child(
                Node::new(name, "nt:unstructured")
                    .with(Property::string("title", format!("page {i}")))
                    .with(Property::string(
                        "text",
                        "tab\there, newline\nthere, back\\slash",
                    ))
                    .with_child(Node::new("jcr:content", "nt:unstructured")),
            );
        }
        root
    }

    #[test]
    fn an_install_writes_its_rows_by_copy_and_reads_them_back_exactly() {
        let mut store = fresh();
        let before = store.db().copied_rows();
        let mut t = store
            .begin_operation(crate::repository::contract::meta("bulk"))
            .unwrap();
        let path = t
            .add_node("default", "/", &tree(300), &AddOptions::append())
            .unwrap();
        assert_eq!(path, "/site");
        // Changes to nodes whose rows wait, and one that makes them be written.
        t.set_property("default", "/site/p7", &Property::string("title", "seven"))
            .unwrap();
        assert!(t.remove_property("default", "/site/p8", "text").unwrap());
        assert!(!t.remove_property("default", "/site/p8", "text").unwrap());
        assert_eq!(
            t.order_before("default", "/site", "twin[2]", Some("twin"))
                .unwrap(),
            "/site/twin"
        );
        t.commit().unwrap();
        let copied = store.db().copied_rows() - before;
        // 601 nodes and 601 properties, but for a same-name sibling's (inserted
        // on a temporary path, then renamed).
        assert!(copied > 1150, "{copied} rows by COPY");
        assert_eq!(store.children("default", "/site").unwrap().len(), 300);
        let p = |path: &str| store.properties("default", path).unwrap();
        assert_eq!(p("/site/p7")[1], Property::string("title", "seven"));
        assert_eq!(p("/site/p8").len(), 1);
        assert_eq!(
            p("/site/p9")[0],
            Property::string("text", "tab\there, newline\nthere, back\\slash")
        );
        assert_eq!(p("/site/twin")[1], Property::string("title", "page 1"));
        assert_eq!(p("/site/twin[2]")[1], Property::string("title", "page 0"));
        assert!(store
            .node("default", "/site/p299/jcr:content")
            .unwrap()
            .is_some());
        // Undo removes them all.
        let op = store.history().unwrap().last().unwrap().id;
        store
            .undo(op, false, crate::repository::contract::meta("undo"))
            .unwrap();
        assert!(store.node("default", "/site").unwrap().is_none());
    }

    #[test]
    fn a_failed_step_rolls_back_its_waiting_rows_and_keeps_the_others() {
        let mut store = fresh();
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(5), &AddOptions::append())
            .unwrap();
        // A second /site fails inside its savepoint: its rows never land, and the
        // first one's do.
        let e = t
            .add_node("default", "/", &tree(5), &AddOptions::append())
            .unwrap_err();
        assert!(matches!(e, RepositoryError::ItemExists { .. }), "{e:?}");
        let same = AddOptions {
            same_name: SameName::Allow,
            ..AddOptions::append()
        };
        assert_eq!(
            t.add_node("default", "/", &tree(3), &same).unwrap(),
            "/site[2]"
        );
        t.commit().unwrap();
        assert_eq!(store.children("default", "/site").unwrap().len(), 5);
        assert_eq!(store.children("default", "/site[2]").unwrap().len(), 3);
        assert!(store.node("default", "/site[3]").unwrap().is_none());
    }

    #[test]
    fn an_error_writing_the_waiting_rows_names_them_not_the_statement() {
        let mut store = fresh();
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(2), &AddOptions::append())
            .unwrap();
        t.commit().unwrap();
        let db = store.db().clone();
        let (ws, site) = default_ws_and_site(&db);
        let mut t = store.begin("bulk").unwrap();
        // Rows that cannot be written (their path is taken: only a broken
        // connection fails so in an install), waiting behind an ordinary step.
        for (id, path) in [(1 << 40, "/site/twin"), ((1 << 40) + 1, "/site/twin/x")] {
            let row = super::NodeRow {
                id,
                ws,
                parent: Some(site),
                name: "p1".into(),
                position: id,
                path: path.into(),
                ptype: "nt:unstructured".into(),
                mixins: "".into(),
            };
            assert!(db.hold_node(row).unwrap());
        }
        let e = t
            .remove_property("default", "/site/twin", "title")
            .unwrap_err();
        let RepositoryError::PostgresWaitingRows { what, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(what, "2 nodes below /site/twin");
        let message = e.to_string();
        assert!(
            message.contains("while writing the waiting rows of 2 nodes below /site/twin"),
            "{message}"
        );
        assert!(!message.contains("DELETE"), "{message}");
        drop(t);
        assert_eq!(store.children("default", "/site").unwrap().len(), 2);
        let props = store.properties("default", "/site/twin").unwrap();
        assert!(props.iter().any(|p| p.name == "title"), "nothing changed");
    }

    #[test]
    fn rows_written_behind_are_seen_by_the_next_statement_which_fails_with_them() {
        let mut store = fresh();
        let db = store.db().clone();
        let count = |db: &crate::repository::pg::PgDb| -> i64 {
            db.query("SELECT count(*) FROM node WHERE path LIKE '/site%'", &[])
                .unwrap()[0]
                .get(0)
        };
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(3), &AddOptions::append())
            .unwrap();
        {
            let mut c = db.lock().unwrap();
            c.flush_behind().unwrap();
            assert!(c.client.is_away() && c.bulk.is_empty());
        }
        assert_eq!(count(&db), 7, "the next statement sees them");
        assert!(!db.lock().unwrap().client.is_away());
        t.commit().unwrap();
        assert_eq!(store.children("default", "/site").unwrap().len(), 3);

        let (ws, site) = default_ws_and_site(&db);
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/site", &tree(2), &AddOptions::append())
            .unwrap();
        // A row that cannot be written (its path is taken), written behind.
        let row = super::NodeRow {
            id: 1 << 40,
            ws,
            parent: Some(site),
            name: "twin".into(),
            position: 1 << 40,
            path: "/site/twin".into(),
            ptype: "nt:unstructured".into(),
            mixins: "".into(),
        };
        assert!(db.hold_node(row).unwrap());
        db.lock().unwrap().flush_behind().unwrap();
        let e = t
            .set_property("default", "/site/p2", &Property::string("title", "x"))
            .unwrap_err();
        let RepositoryError::PostgresWaitingRows { what, .. } = &e else {
            panic!("{e:?}");
        };
        assert!(what.ends_with("nodes below /site"), "{what}");
        drop(t);
        assert!(store.node("default", "/site/site").unwrap().is_none());
        assert_eq!(count(&db), 7, "nothing of it stays");
        let mut t = store.begin("bulk").unwrap();
        t.set_property("default", "/site/p2", &Property::string("title", "y"))
            .unwrap();
        t.commit().unwrap();
    }

    #[test]
    fn uuids_are_found_waiting_written_and_committed_though_asked_once() {
        let mut store = fresh();
        let db = store.db().clone();
        let ws = default_ws(&db);
        let node = |name: &str, uuid: &str| {
            Node::new(name, "nt:unstructured").with(Property::string("jcr:uuid", uuid))
        };
        let mut t = store.begin("bulk").unwrap();
        assert!(db.uuid_owners_beside(ws, "u1").unwrap().is_empty());
        t.add_node("default", "/", &node("a", "u1"), &AddOptions::append())
            .unwrap();
        let waiting = db.uuid_owners_beside(ws, "u1").unwrap();
        assert_eq!(waiting.len(), 1, "waiting");
        db.query("SELECT 1", &[]).unwrap();
        assert_eq!(db.uuid_owners_beside(ws, "u1").unwrap(), waiting, "written");
        t.add_node("default", "/", &node("b", "u2"), &AddOptions::append())
            .unwrap();
        assert_eq!(db.uuid_owners_beside(ws, "u2").unwrap().len(), 1);
        t.commit().unwrap();
        let t = store.begin("bulk").unwrap();
        assert_eq!(
            db.uuid_owners_beside(ws, "u1").unwrap(),
            waiting,
            "committed"
        );
        assert!(db.uuid_owners_beside(ws, "u3").unwrap().is_empty());
        drop(t);
    }

    #[test]
    fn a_uuid_no_statement_wrote_is_known_absent_and_one_written_is_asked_for() {
        use crate::repository::pg::cache::UuidRows;
        let mut store = fresh();
        let db = store.db().clone();
        let ws = default_ws(&db);
        let node = |name: &str, uuid: &str| {
            Node::new(name, "nt:unstructured").with(Property::string("jcr:uuid", uuid))
        };
        let known = |db: &crate::repository::pg::PgDb| match db
            .with_cache(|c| c.uuids.get(&ws).cloned())
            .flatten()
        {
            Some(UuidRows::Among(set)) => Some(set.len()),
            _ => None,
        };
        let mut t = store.begin("bulk").unwrap();
        assert!(db.uuid_owners_beside(ws, "u1").unwrap().is_empty());
        assert_eq!(known(&db), Some(0), "none on the server");
        t.add_node("default", "/", &node("a", "u1"), &AddOptions::append())
            .unwrap();
        // The waiting row is written: its value is recorded, not the answer dropped.
        db.query("SELECT 1", &[]).unwrap();
        assert_eq!(known(&db), Some(1));
        assert_eq!(db.uuid_owners_beside(ws, "u1").unwrap().len(), 1);
        assert!(db.uuid_owners_beside(ws, "u2").unwrap().is_empty());
        // A row on the server set by a statement of its own is recorded too.
        t.set_property("default", "/a", &Property::string("jcr:uuid", "u2"))
            .unwrap();
        assert_eq!(known(&db), Some(2));
        assert_eq!(db.uuid_owners_beside(ws, "u2").unwrap().len(), 1);
        assert!(
            db.uuid_owners_beside(ws, "u1").unwrap().is_empty(),
            "replaced"
        );
        t.commit().unwrap();
        // The next transaction finds rows on the server: it asks for each.
        let _t = store.begin("bulk").unwrap();
        assert_eq!(db.uuid_owners_beside(ws, "u2").unwrap().len(), 1);
        assert_eq!(known(&db), None);
        assert!(db.uuid_owners_beside(ws, "u3").unwrap().is_empty());
    }

    #[test]
    fn nodes_are_read_in_batches_as_one_by_one_waiting_cached_and_committed() {
        let mut store = fresh();
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(40), &AddOptions::append())
            .unwrap();
        let mut paths: Vec<String> =
            vec!["/site".into(), "/nothing".into(), "/site/twin[2]".into()];
        for i in (2..40).rev() {
            paths.push(format!("/site/p{i}"));
            paths.push(format!("/site/p{i}/jcr:content"));
        }
        paths.push("/site/p3".into());
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let check = |r: &dyn StoreRead, what: &str| {
            for every in [0, 1, 2] {
                let want = |i: &mut usize| {
                    *i += 1;
                    *i % 3 == every
                };
                let mut i = 0;
                let batched = r
                    .nodes_shallow("default", &refs, &mut |_, _| want(&mut i))
                    .unwrap();
                let mut j = 0;
                let single: Vec<_> = refs
                    .iter()
                    .map(|p| {
                        r.node_shallow("default", p, &mut |_, _| want(&mut j))
                            .unwrap()
                    })
                    .collect();
                assert_eq!(i, j, "{what}: asked as often");
                assert_eq!(batched, single, "{what}");
            }
            assert!(r
                .nodes_shallow("default", &["bad//path"], &mut |_, _| true)
                .is_err());
        };
        check(&*t, "waiting and cached");
        t.commit().unwrap();
        check(&store, "committed");
        let t = store.begin("bulk").unwrap();
        check(&*t, "read from the server in a transaction");
        drop(t);
    }

    #[test]
    fn a_large_install_analyzes_the_tables_it_grew_inside_and_after() {
        let mut store = fresh();
        let db = store.db().clone();
        let reltuples = |db: &crate::repository::pg::PgDb| -> f32 {
            db.query(
                "SELECT reltuples FROM pg_class WHERE oid = 'node'::regclass",
                &[],
            )
            .unwrap()[0]
                .get(0)
        };
        assert!(reltuples(&db) < 10.0, "never analyzed: {}", reltuples(&db));
        let mut t = store.begin("bulk").unwrap();
        // 2 nodes and 2 properties a page: past ANALYZE_ROWS rows.
        let pages = super::super::ANALYZE_ROWS as usize / 4 + 500;
        t.add_node("default", "/", &tree(pages), &AddOptions::append())
            .unwrap();
        // Inside the transaction, the statistics count its own rows.
        let inside = reltuples(&db);
        assert!(inside >= 4_000.0, "analyzed inside: {inside}");
        t.commit().unwrap();
        let after = reltuples(&db);
        assert!(after >= (2 * pages) as f32 * 0.9, "analyzed after: {after}");
    }

    #[test]
    fn a_batch_written_behind_past_the_mark_is_analyzed_behind() {
        let mut store = fresh();
        let db = store.db().clone();
        let mut t = store.begin("bulk").unwrap();
        // 2 nodes and 2 properties a page: past ANALYZE_ROWS rows, under MAX_ROWS.
        let pages = super::super::ANALYZE_ROWS as usize / 4 + 500;
        t.add_node("default", "/", &tree(pages), &AddOptions::append())
            .unwrap();
        {
            let mut c = db.lock().unwrap();
            assert!(c.bulk.rows() >= super::super::ANALYZE_ROWS as usize);
            c.flush_behind().unwrap();
            assert!(c.client.is_away());
            c.settle().unwrap();
            assert!(!c.analyze_due, "nothing left to analyze in place");
            let inside = super::super::timeline::Wait::AnalyzeInside;
            assert_eq!(c.timeline.waited(inside).1, 0, "not analyzed in place");
        }
        let inside: f32 = db
            .query(
                "SELECT reltuples FROM pg_class WHERE oid = 'node'::regclass",
                &[],
            )
            .unwrap()[0]
            .get(0);
        assert!(inside >= 4_000.0, "analyzed behind: {inside}");
        t.commit().unwrap();
    }

    #[test]
    fn a_node_on_the_server_is_updated_beside_the_waiting_rows() {
        let mut store = fresh();
        let db = store.db().clone();
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(2), &AddOptions::append())
            .unwrap();
        t.commit().unwrap();
        let (_, site) = default_ws_and_site(&db);
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/site", &tree(3), &AddOptions::append())
            .unwrap();
        assert!(!db.lock().unwrap().bulk.is_empty());
        let changed = db
            .execute_beside(
                "UPDATE node SET ptype = $2 WHERE id = $1",
                &[&site, &"nt:folder"],
            )
            .unwrap();
        assert_eq!(changed, 1);
        assert!(!db.lock().unwrap().bulk.is_empty(), "the rows still wait");
        t.commit().unwrap();
        let ptype: String = db
            .query("SELECT ptype FROM node WHERE id = $1", &[&site])
            .unwrap()[0]
            .get(0);
        assert_eq!(ptype, "nt:folder");
        assert_eq!(store.children("default", "/site/site").unwrap().len(), 3);
    }

    #[test]
    fn children_and_previous_siblings_are_read_beside_the_waiting_rows() {
        use crate::repository::content::ContentRead;
        let mut store = fresh();
        let db = store.db().clone();
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(3), &AddOptions::append())
            .unwrap();
        t.commit().unwrap();
        let (_, site) = default_ws_and_site(&db);
        let mut t = store.begin("bulk").unwrap();
        // New children of /site wait (p3 and p4 after the stored ones), and the
        // cache forgets what it knew, so the reads go to the server.
        let more = Node::new("p3", "nt:unstructured").with(Property::string("title", "new"));
        t.add_node("default", "/site", &more, &AddOptions::append())
            .unwrap();
        t.add_node(
            "default",
            "/site",
            &Node::new("p4", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
        let waiting = db.lock().unwrap().bulk.rows();
        assert!(waiting >= 3, "{waiting}");
        let (sent, copied) = (db.sent(), db.copied_rows());
        db.forget();
        let kids = db.children(site).unwrap();
        let names: Vec<&str> = kids.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            names,
            [
                "/site/twin",
                "/site/twin[2]",
                "/site/p2",
                "/site/p3",
                "/site/p4"
            ]
        );
        let p3 = kids[3].id;
        let props = db.properties(p3).unwrap();
        assert_eq!(
            props,
            [Property::string("title", "new")],
            "from where they wait"
        );
        let before_p4 = db
            .previous_sibling(site, kids[4].position, kids[4].id, None)
            .unwrap();
        assert_eq!(before_p4.map(|r| r.id), Some(p3), "a waiting one");
        let before_p3 = db
            .previous_sibling(site, kids[3].position, p3, None)
            .unwrap();
        assert_eq!(before_p3.map(|r| r.id), Some(kids[2].id), "a stored one");
        let skipping = db
            .previous_sibling(site, kids[4].position, kids[4].id, Some(p3))
            .unwrap();
        assert_eq!(skipping.map(|r| r.id), Some(kids[2].id), "except");
        assert_eq!(
            db.lock().unwrap().bulk.rows(),
            waiting,
            "the rows still wait"
        );
        assert_eq!(db.copied_rows(), copied, "nothing written");
        assert!(db.sent() > sent, "the stored ones were read");
        t.commit().unwrap();
        let committed = store.children("default", "/site").unwrap();
        assert_eq!(committed.len(), 5);
    }

    #[test]
    fn a_rolled_back_transaction_leaves_nothing() {
        let mut store = fresh();
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(50), &AddOptions::append())
            .unwrap();
        t.rollback().unwrap();
        assert!(store.node("default", "/site").unwrap().is_none());
        let mut t = store.begin("bulk").unwrap();
        t.add_node("default", "/", &tree(2), &AddOptions::append())
            .unwrap();
        t.commit().unwrap();
        assert_eq!(store.children("default", "/site").unwrap().len(), 2);
    }

    #[test]
    fn small_binaries_wait_with_the_rows_once_for_equal_content() {
        use crate::value::{Binary, Value};
        use std::io::Read;
        let mut store = fresh();
        let bin = |bytes: &[u8]| Property::single("data", Value::Binary(Binary::inline(bytes)));
        let mut t = store.begin("bulk").unwrap();
        let site = tree(3);
        t.add_node("default", "/", &site, &AddOptions::append())
            .unwrap();
        for p in ["/site/p2", "/site/twin", "/site/twin[2]"] {
            t.set_property("default", p, &bin(b"same bytes")).unwrap();
        }
        t.set_property("default", "/site", &bin(b"")).unwrap();
        t.commit().unwrap();
        let stored = |path: &str| match &store.properties("default", path).unwrap()[0].values[0] {
            Value::Binary(Binary::Blob { sha256, .. }) => {
                let mut out = Vec::new();
                store
                    .open_blob(sha256)
                    .unwrap()
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(stored("/site/p2"), b"same bytes");
        assert_eq!(stored("/site/twin[2]"), b"same bytes");
        assert_eq!(stored("/site"), b"");
        // Stored before: the content is kept once; rolled back: nothing.
        let mut t = store.begin("bulk").unwrap();
        t.set_property("default", "/site/p2", &bin(b"same bytes"))
            .unwrap();
        t.set_property("default", "/site/p2", &bin(b"other bytes"))
            .unwrap();
        t.rollback().unwrap();
        let blobs = store.db().query("SELECT count(*) FROM blob", &[]).unwrap();
        assert_eq!(blobs[0].get::<_, i64>(0), 2);
        let chunks = store
            .db()
            .query("SELECT count(*) FROM blob_chunk", &[])
            .unwrap();
        assert_eq!(chunks[0].get::<_, i64>(0), 1, "the empty blob has no chunk");
    }
}
