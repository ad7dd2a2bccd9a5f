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
//! [`MAX_BYTES`]): past either the rows are written at the next write.
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
//! connection broke) is the error of the statement that caused the flush, and
//! the transaction is then rolled back as after any failed statement.

use super::PgDb;
use crate::repository::Result;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::Client;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Rows held at most (nodes and properties together) before they are written.
pub(crate) const MAX_ROWS: usize = 20_000;

/// Bytes of text held at most before the rows are written.
pub(crate) const MAX_BYTES: usize = 8 << 20;

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
    props: HashMap<i64, BTreeMap<String, PropCols>>,
    /// Small blobs: SHA-256, size, content (one chunk at most).
    blobs: Vec<(String, i64, Vec<u8>)>,
    blob_names: HashSet<String>,
    rows: usize,
    bytes: usize,
    /// Rows written so far by `COPY` (for the tests and measurements).
    pub(crate) copied: u64,
}

fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

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

    /// Whether the rows should be written before more come.
    pub(crate) fn full(&self) -> bool {
        self.rows >= MAX_ROWS || self.bytes >= MAX_BYTES
    }

    /// Forgets what waits (the transaction ends without it, or rolls back).
    pub(crate) fn discard(&mut self) {
        self.blobs.clear();
        self.blob_names.clear();
        self.nodes.clear();
        self.props.clear();
        self.rows = 0;
        self.bytes = 0;
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
        self.props.insert(n.id, BTreeMap::new());
        self.nodes.push(n);
        true
    }

    /// Whether node `id` waits here.
    pub(crate) fn holds(&self, id: i64) -> bool {
        self.props.contains_key(&id)
    }

    /// Sets properties `(name, cols)` of the waiting node `id` (a name given
    /// twice keeps its last value, as `set_properties` does); `false` (nothing
    /// set) unless the node waits and no text has a NUL.
    pub(crate) fn set_props(&mut self, id: i64, rows: &[(&str, PropCols)]) -> bool {
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
            && super::schema::md5_twins(
                m.keys().map(String::as_str).chain(rows.iter().map(|r| r.0)),
            )
            .is_some()
        {
            return false;
        }
        for (name, cols) in rows {
            self.bytes += name.len() + cols.2.len() + 16;
            if m.insert(name.to_string(), cols.clone()).is_none() {
                self.rows += 1;
            }
        }
        true
    }

    /// The waiting nodes of workspace `ws` whose `jcr:uuid` row holds `uuid`.
    pub(crate) fn uuid_owners(&self, ws: i64, uuid: &str) -> Vec<i64> {
        self.nodes
            .iter()
            .filter(|n| {
                n.ws == ws
                    && self
                        .props
                        .get(&n.id)
                        .and_then(|m| m.get("jcr:uuid"))
                        .is_some_and(|c| c.2 == uuid)
            })
            .map(|n| n.id)
            .collect()
    }

    /// Removes property `name` of the waiting node `id`: `Some(existed)` when the
    /// node waits here, `None` when it does not.
    pub(crate) fn remove_prop(&mut self, id: i64, name: &str) -> Option<bool> {
        let m = self.props.get_mut(&id)?;
        let existed = m.remove(name).is_some();
        if existed {
            self.rows -= 1;
        }
        Some(existed)
    }

    /// Writes what waits with two `COPY`s (nodes, then properties) and forgets
    /// it, written or not.
    pub(crate) fn flush(&mut self, client: &mut Client) -> Result<(), postgres::Error> {
        if self.is_empty() {
            return Ok(());
        }
        let nodes = std::mem::take(&mut self.nodes);
        let mut props = std::mem::take(&mut self.props);
        let blobs = std::mem::take(&mut self.blobs);
        self.blob_names.clear();
        self.rows = 0;
        self.bytes = 0;
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
                let sink = client
                    .copy_in("COPY blob_chunk(blob, seq, data) FROM STDIN (FORMAT binary)")?;
                let mut w = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT4, Type::BYTEA]);
                for (sha, _, data) in &blobs {
                    if fresh.contains(sha) && !data.is_empty() {
                        let row: [&(dyn ToSql + Sync); 3] = [sha, &0i32, data];
                        w.write(&row)?;
                    }
                }
                self.copied += w.finish()?;
            }
        }
        if nodes.is_empty() {
            return Ok(());
        }
        let sink = client.copy_in(
            "COPY node(id, ws, parent, name, position, path, ptype, mixins) FROM STDIN (FORMAT binary)",
        )?;
        let types = [
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
        ];
        let mut w = BinaryCopyInWriter::new(sink, &types);
        for n in &nodes {
            let row: [&(dyn ToSql + Sync); 8] = [
                &n.id,
                &n.ws,
                &n.parent,
                &n.name,
                &n.position,
                &n.path,
                &n.ptype,
                &n.mixins,
            ];
            w.write(&row)?;
        }
        self.copied += w.finish()?;
        if props.values().all(|m| m.is_empty()) {
            return Ok(());
        }
        let sink = client
            .copy_in("COPY prop(node, name, type, multiple, value) FROM STDIN (FORMAT binary)")?;
        let types = [Type::INT8, Type::TEXT, Type::INT4, Type::BOOL, Type::TEXT];
        let mut w = BinaryCopyInWriter::new(sink, &types);
        for n in &nodes {
            if let Some(m) = props.remove(&n.id) {
                for (name, (code, multiple, value)) in &m {
                    let row: [&(dyn ToSql + Sync); 5] = [&n.id, name, code, multiple, value];
                    w.write(&row)?;
                }
            }
        }
        self.copied += w.finish()?;
        Ok(())
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
            c.bulk.flush(&mut c.client).map_err(|e| self.err(e))?;
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
            c.bulk.flush(&mut c.client).map_err(|e| self.err(e))?;
        }
        c.bulk.add_blob(sha256, data);
        Ok(true)
    }

    /// Sets properties of node `id` when its row waits (the columns as
    /// `set_properties` encodes them); `false` when they must be written now.
    pub(crate) fn hold_props(
        &self,
        id: i64,
        names: &[&str],
        types: &[i32],
        multiple: &[bool],
        values: &[String],
    ) -> Result<bool> {
        let mut c = self.lock()?;
        if !c.bulk.holds(id) {
            return Ok(false);
        }
        let rows: Vec<(&str, PropCols)> = (0..names.len())
            .map(|i| (names[i], (types[i], multiple[i], values[i].clone())))
            .collect();
        Ok(c.bulk.set_props(id, &rows))
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
        let s = c
            .statement(
                "SELECT n.id FROM prop p JOIN node n ON n.id = p.node
                 WHERE p.name = 'jcr:uuid' AND md5(p.value) = md5($1) AND p.value = $1 AND n.ws = $2",
            )
            .map_err(|e| self.err(e))?;
        let rows = c.client.query(&s, &[&uuid, &ws]).map_err(|e| self.err(e))?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get(0).map_err(|e| self.err(e)))
            .collect::<Result<Vec<i64>>>()?;
        ids.extend(c.bulk.uuid_owners(ws, uuid));
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
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
        assert!(!p.set_props(2, &[("a", (1, false, "x".into()))]), "no node");
        assert!(p.add_node(row(2, "/a")));
        assert!(p.holds(2) && !p.holds(3));
        assert!(p.set_props(
            2,
            &[("a", (1, false, "x".into())), ("b", (1, false, "y".into()))]
        ));
        assert!(p.set_props(2, &[("a", (1, false, "z".into()))]));
        assert_eq!(p.rows, 3, "one node, two properties");
        assert_eq!(p.props[&2]["a"].2, "z");
        assert_eq!(p.remove_prop(2, "a"), Some(true));
        assert_eq!(p.remove_prop(2, "a"), Some(false));
        assert_eq!(p.remove_prop(3, "a"), None);
        assert_eq!(p.rows, 2);
        p.discard();
        assert!(p.is_empty() && !p.holds(2));
    }

    #[test]
    fn text_with_nul_does_not_wait() {
        let mut p = Pending::default();
        assert!(!p.add_node(row(2, "/a\0")));
        assert!(p.is_empty());
        assert!(p.add_node(row(3, "/b")));
        assert!(!p.set_props(3, &[("a", (1, false, "x\0".into()))]));
        assert!(!p.set_props(3, &[("a\0", (1, false, "x".into()))]));
        assert!(p.props[&3].is_empty());
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
        q.set_props(2, &[("big", (1, false, "v".repeat(MAX_BYTES)))]);
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
