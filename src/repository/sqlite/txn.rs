//! Write transactions: taking the lock, the per-transaction state, commit and
//! rollback, and the [`Transaction`] trait over the mutations in `write`.
//!
//! A transaction runs from `BEGIN IMMEDIATE` (which takes SQLite's write lock,
//! waiting up to the busy timeout) to `COMMIT`; dropping it rolls back.

use super::journal;
use super::{undo, write};
use super::{Db, SqliteStore};
use crate::namespace::NamespaceRegistry;
use crate::node::Node;
use crate::path;
use crate::repository::{
    AddOptions, NodeInfo, OperationDetail, OperationId, OperationMeta, OperationSummary,
    RepositoryError, Result, StoreRead, SubtreeWalk, Transaction, UndoReport,
};
use crate::value::{Binary, Property};
use rusqlite::params;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// The per-transaction state the mutation functions share.
pub(crate) struct State {
    /// The operation being recorded, if any.
    pub op: Option<i64>,
    /// Node ids from here on were created by this transaction.
    pub first_id: i64,
    /// The next node id to hand out.
    pub next_id: i64,
    /// Nodes this transaction brought back (by undo) with their old ids.
    pub reinserted: HashSet<i64>,
    /// A cache of (workspace, path) -> node id, for parents of added nodes; cleared
    /// whenever paths change.
    pub ids: HashMap<(i64, String), i64>,
    /// Workspace ids by name, for this transaction.
    pub workspaces: HashMap<String, i64>,
    /// The last position handed out below a parent, so that consecutive appends
    /// need no `max(position)` query. It may only be too high (harmless: appends
    /// still go after every child), so it is cleared wherever positions are set
    /// other than by appending (renumbering, undo).
    pub tails: HashMap<i64, i64>,
}

impl State {
    /// Whether this transaction created node `id` (so it has no before-image).
    pub fn created_here(&self, id: i64) -> bool {
        id >= self.first_id || self.reinserted.contains(&id)
    }

    /// A fresh node id.
    pub fn alloc_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

/// An open write transaction on a [`SqliteStore`].
pub(crate) struct SqliteTxn<'s> {
    store: &'s mut SqliteStore,
    st: State,
    description: String,
    finished: bool,
}

impl<'s> SqliteTxn<'s> {
    /// Takes the write lock and, for an operation, records its metadata.
    pub fn begin(
        store: &'s mut SqliteStore,
        description: &str,
        meta: Option<OperationMeta>,
    ) -> Result<SqliteTxn<'s>> {
        let db = store.db();
        db.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db.err(e))?;
        let mut txn = SqliteTxn {
            st: State {
                op: None,
                first_id: 0,
                next_id: 0,
                reinserted: HashSet::new(),
                ids: HashMap::new(),
                workspaces: HashMap::new(),
                tails: HashMap::new(),
            },
            store,
            description: description.to_string(),
            finished: false,
        };
        // From here on, an error drops `txn`, which rolls back.
        let db = txn.store.db();
        let next: String = db
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'next_node_id'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| db.err(e))?;
        let next: i64 = next
            .parse()
            .map_err(|_| db.corrupt(format!("meta.next_node_id is '{next}', not a number")))?;
        txn.st.first_id = next;
        txn.st.next_id = next;
        if let Some(meta) = meta {
            txn.st.op = Some(journal::insert_operation(&db, &meta)?);
        }
        Ok(txn)
    }

    fn db(&self) -> Db<'_> {
        self.store.db()
    }

    /// Ends the SQLite transaction; on failure the transaction stays open and the
    /// drop rolls it back.
    fn finish(&mut self, sql: &str) -> Result<()> {
        let db = self.store.db();
        db.conn.execute_batch(sql).map_err(|e| db.err(e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for SqliteTxn<'_> {
    fn drop(&mut self) {
        if !self.finished && !self.store.conn.is_autocommit() {
            if let Err(e) = self.store.conn.execute_batch("ROLLBACK") {
                tracing::warn!(
                    "rolling back '{}' in {} failed: {e}",
                    self.description,
                    self.store.root.display()
                );
            }
        }
    }
}

/// Checks a workspace name: non-empty, no control characters.
fn check_ws_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(RepositoryError::InvalidWorkspaceName(name.to_string()));
    }
    Ok(())
}

/// The id of workspace `name`, created when missing: the one place a workspace is
/// made, with its root and Oak's initial content
/// ([`crate::repository::initial_system_node`]).
pub(crate) fn ensure_ws(db: &Db<'_>, st: &mut State, name: &str) -> Result<(i64, bool)> {
    if let Some(&id) = st.workspaces.get(name) {
        return Ok((id, false));
    }
    check_ws_name(name)?;
    if let Some(id) = db.ws_id(name)? {
        st.workspaces.insert(name.to_string(), id);
        return Ok((id, false));
    }
    journal::touch_reg(db, st, journal::REG_WORKSPACE, name)?;
    db.conn
        .prepare_cached("INSERT INTO workspace(name) VALUES (?1)")
        .and_then(|mut s| s.execute([name]))
        .map_err(|e| db.err(e))?;
    let ws = db.conn.last_insert_rowid();
    let root = st.alloc_id();
    db.conn
        .prepare_cached(
            "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
             VALUES (?1, ?2, NULL, '', 0, '/', ?3, '')",
        )
        .and_then(|mut s| s.execute(params![root, ws, crate::repository::ROOT_TYPE]))
        .map_err(|e| db.err(e))?;
    st.workspaces.insert(name.to_string(), ws);
    super::write::add_node(
        db,
        st,
        name,
        "/",
        &crate::repository::initial_system_node(),
        &crate::repository::AddOptions::append(),
    )?;
    Ok((ws, true))
}

/// The id of an existing workspace, through the transaction's cache.
pub(crate) fn require_ws(db: &Db<'_>, st: &mut State, name: &str) -> Result<i64> {
    if let Some(&id) = st.workspaces.get(name) {
        return Ok(id);
    }
    let id = db.require_ws(name)?;
    st.workspaces.insert(name.to_string(), id);
    Ok(id)
}

impl StoreRead for SqliteTxn<'_> {
    fn location(&self) -> &Path {
        self.store.location()
    }
    fn workspaces(&self) -> Result<Vec<String>> {
        self.store.workspaces()
    }
    fn node(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
        self.store.node(workspace, path)
    }
    fn children(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
        self.store.children(workspace, path)
    }
    fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>> {
        self.store.properties(workspace, path)
    }
    fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>> {
        self.store.property(workspace, path, name)
    }
    fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
        self.store.find_by_uuid(workspace, uuid)
    }
    fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>> {
        self.store.walk(workspace, path)
    }
    fn namespaces(&self) -> Result<NamespaceRegistry> {
        self.store.namespaces()
    }
    fn node_types(&self) -> Result<Vec<(String, String)>> {
        self.store.node_types()
    }
    fn node_type(&self, name: &str) -> Result<Option<String>> {
        self.store.node_type(name)
    }
    fn history(&self) -> Result<Vec<OperationSummary>> {
        self.store.history()
    }
    fn operation(&self, id: OperationId) -> Result<OperationDetail> {
        self.store.operation(id)
    }
    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
        self.store.put_blob(data)
    }
    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        self.store.open_blob(sha256)
    }
}

impl Transaction for SqliteTxn<'_> {
    fn operation_id(&self) -> Option<OperationId> {
        self.st.op.map(OperationId)
    }

    fn create_workspace(&mut self, name: &str) -> Result<bool> {
        let db = self.store.db();
        Ok(ensure_ws(&db, &mut self.st, name)?.1)
    }

    fn delete_workspace(&mut self, name: &str, force: bool) -> Result<u64> {
        let db = self.store.db();
        write::delete_workspace(&db, &mut self.st, name, force)
    }

    fn add_node(
        &mut self,
        workspace: &str,
        parent: &str,
        node: &Node,
        options: &AddOptions,
    ) -> Result<String> {
        let db = self.store.db();
        write::add_node(&db, &mut self.st, workspace, parent, node, options)
    }

    fn remove_node(&mut self, workspace: &str, p: &str) -> Result<u64> {
        let db = self.store.db();
        let p = path::normalize(p)?;
        let ws = require_ws(&db, &mut self.st, workspace)?;
        let row = db.require_row(workspace, ws, &p)?;
        write::remove_subtree(&db, &mut self.st, workspace, &row)
    }

    fn set_property(&mut self, workspace: &str, p: &str, property: &Property) -> Result<()> {
        let db = self.store.db();
        write::set_property(&db, &mut self.st, workspace, p, property)
    }

    fn remove_property(&mut self, workspace: &str, p: &str, name: &str) -> Result<bool> {
        let db = self.store.db();
        write::remove_property(&db, &mut self.st, workspace, p, name)
    }

    fn set_primary_type(&mut self, workspace: &str, p: &str, primary_type: &str) -> Result<()> {
        let db = self.store.db();
        write::set_node_fields(&db, &mut self.st, workspace, p, Some(primary_type), None)
    }

    fn set_mixins(&mut self, workspace: &str, p: &str, mixins: &[String]) -> Result<()> {
        let db = self.store.db();
        write::set_node_fields(&db, &mut self.st, workspace, p, None, Some(mixins))
    }

    fn order_before(
        &mut self,
        workspace: &str,
        parent: &str,
        child: &str,
        before: Option<&str>,
    ) -> Result<String> {
        let db = self.store.db();
        write::order_before(&db, &mut self.st, workspace, parent, child, before)
    }

    fn register_namespace(&mut self, prefix: &str, uri: &str) -> Result<()> {
        let db = self.store.db();
        write::register_namespace(&db, &mut self.st, prefix, uri)
    }

    fn register_node_type(&mut self, name: &str, cnd: &str) -> Result<()> {
        let db = self.store.db();
        write::register_node_type(&db, &mut self.st, name, cnd)
    }

    fn unregister_node_type(&mut self, name: &str) -> Result<bool> {
        let db = self.store.db();
        write::unregister_node_type(&db, &mut self.st, name)
    }

    fn undo(&mut self, id: OperationId, force: bool) -> Result<UndoReport> {
        let db = self.store.db();
        undo::undo(&db, &mut self.st, id.0, force)
    }

    fn commit(mut self: Box<Self>) -> Result<Option<OperationId>> {
        let db = self.db();
        if let Some(op) = self.st.op {
            journal::finish_operation(&db, &self.st, op)?;
        }
        db.conn
            .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_node_id'")
            .and_then(|mut s| s.execute([self.st.next_id.to_string()]))
            .map_err(|e| db.err(e))?;
        let op = self.st.op.map(OperationId);
        // The blobs this transaction wrote must be durable before anything refers to
        // them durably.
        self.store.blobs.sync_pending()?;
        self.finish("COMMIT")?;
        Ok(op)
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.finish("ROLLBACK")
    }
}
