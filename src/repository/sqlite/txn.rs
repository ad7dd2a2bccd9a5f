//! Write transactions: taking the lock, node ids, commit and rollback. The
//! primitives a transaction offers (content store and operation log) are in
//! `backend`; the journaled layer above them makes it a
//! [`Transaction`](crate::repository::Transaction).
//!
//! A transaction runs from `BEGIN IMMEDIATE` (which takes SQLite's write lock,
//! waiting up to the busy timeout) to `COMMIT`; dropping it rolls back.

use super::cache::NodeCache;
use super::{Db, SqliteStore};
use crate::repository::Result;

/// The per-transaction state: node ids, and what it knows of the nodes it
/// inserted ([`NodeCache`]).
pub(crate) struct State {
    /// Node ids from here on were created by this transaction.
    pub first_id: i64,
    /// The next node id to hand out.
    pub next_id: i64,
    /// The nodes this transaction inserted.
    pub cache: NodeCache,
}

impl State {
    /// A fresh node id.
    pub fn alloc_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

/// An open write transaction on a [`SqliteStore`].
pub(crate) struct SqliteTxn<'s> {
    pub(super) store: &'s mut SqliteStore,
    pub(super) st: State,
    description: String,
    finished: bool,
}

impl<'s> SqliteTxn<'s> {
    /// Takes the write lock.
    pub fn begin(store: &'s mut SqliteStore, description: &str) -> Result<SqliteTxn<'s>> {
        let db = store.db();
        db.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db.err(e))?;
        // Blobs put before (outside a committed transaction) may have been swept.
        store.blobs.recheck();
        let mut txn = SqliteTxn {
            st: State {
                first_id: 0,
                next_id: 0,
                cache: NodeCache::default(),
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
        Ok(txn)
    }

    pub(super) fn db(&self) -> Db<'_> {
        self.store.db()
    }

    /// Ends the SQLite transaction; on failure the transaction stays open and the
    /// drop rolls it back.
    pub(super) fn finish(&mut self, sql: &str) -> Result<()> {
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
