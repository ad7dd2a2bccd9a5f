//! Write transactions: taking the lock, node ids, commit and rollback. The
//! primitives a transaction offers (content store and operation log) are in
//! `backend`; the journaled layer above them makes it a
//! [`Transaction`](crate::repository::Transaction).
//!
//! A transaction runs from `BEGIN IMMEDIATE` (which takes SQLite's write lock,
//! waiting up to the busy timeout) to `COMMIT`; dropping it rolls back. A store
//! opened for a bulk load may run it through the rollback journal (module `bulk`).
//!
//! The statements a bulk insert runs once a node (the node row, its property
//! rows) are prepared once a transaction and held by it ([`Prepared`]): through
//! rusqlite's statement cache, every use hashed the SQL text twice, copied it into
//! a new key and cleared the bindings (issue 16: about 5 % of an install's
//! instructions). A transaction borrows its store shared (the `&mut` of
//! [`SqliteTxn::begin`] keeps it exclusive) so that the statements can borrow the
//! connection for as long as the transaction lives.

use super::cache::NodeCache;
use super::write::{Rows, PROPS_PER_INSERT};
use super::{Db, SqliteStore};
use crate::repository::Result;
use rusqlite::{PrepFlags, Statement};

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

/// The statements a transaction holds prepared (module doc), each prepared at
/// its first use. A held statement is reset after each use (rusqlite's `execute`
/// does), so none keeps the transaction from committing or rolling back.
#[derive(Default)]
pub(crate) struct Prepared<'s> {
    node: Option<Statement<'s>>,
    /// By the number of property rows the statement inserts, less one.
    props: [Option<Statement<'s>>; PROPS_PER_INSERT],
    /// The same for a new node's first properties ([`Rows::New`]).
    new_props: [Option<Statement<'s>>; PROPS_PER_INSERT],
}

impl<'s> Prepared<'s> {
    /// The node row's `INSERT`.
    pub fn node(&mut self, db: &Db<'s>) -> Result<&mut Statement<'s>> {
        held(&mut self.node, db, super::write::NODE_INSERT)
    }

    /// The `INSERT` of `rows` property rows (1 to [`PROPS_PER_INSERT`]).
    pub fn props(&mut self, db: &Db<'s>, rows: usize, kind: Rows) -> Result<&mut Statement<'s>> {
        let sql = super::write::props_insert_sql(rows, kind);
        let slots = match kind {
            Rows::Replace => &mut self.props,
            Rows::New => &mut self.new_props,
        };
        match slots.get_mut(rows.wrapping_sub(1)) {
            Some(slot) => held(slot, db, sql),
            None => Err(db.corrupt(format!("{rows} property rows in one INSERT"))),
        }
    }
}

/// The statement in `slot`, prepared from `sql` first when empty.
fn held<'a, 's>(
    slot: &'a mut Option<Statement<'s>>,
    db: &Db<'s>,
    sql: &str,
) -> Result<&'a mut Statement<'s>> {
    let st = match slot.take() {
        Some(st) => st,
        // Persistent: kept out of the connection's lookaside memory, which the
        // statements' runs need (held in it, they made SQLite malloc 2.6 times
        // as often, measured).
        None => db
            .conn
            .prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT)
            .map_err(|e| db.err(e))?,
    };
    Ok(slot.insert(st))
}

/// An open write transaction on a [`SqliteStore`].
pub(crate) struct SqliteTxn<'s> {
    pub(super) store: &'s SqliteStore,
    pub(super) st: State,
    /// Statements held for the transaction (module doc).
    pub(super) prepared: Prepared<'s>,
    /// The node inserted last, while no property has been written since (and
    /// no savepoint rolled back): its first properties meet no row
    /// ([`Rows::New`]; only property writes add rows of a node).
    pub(super) fresh: Option<i64>,
    description: String,
    finished: bool,
    /// The connection left WAL mode for this transaction (module `bulk`), and
    /// returns to it when the transaction ends.
    rollback_journal: bool,
}

impl<'s> SqliteTxn<'s> {
    /// Takes the write lock.
    pub fn begin(store: &'s mut SqliteStore, description: &str) -> Result<SqliteTxn<'s>> {
        let store: &'s SqliteStore = store;
        let db = store.db();
        let rollback_journal = store.bulk_load && super::bulk::enter(&db);
        if let Err(e) = db.conn.execute_batch("BEGIN IMMEDIATE") {
            if rollback_journal {
                super::bulk::leave(&db);
            }
            return Err(db.err(e));
        }
        // Blobs put before (outside a committed transaction) may have been swept.
        store.blobs.recheck();
        let mut txn = SqliteTxn {
            st: State {
                first_id: 0,
                next_id: 0,
                cache: NodeCache::default(),
            },
            store,
            prepared: Prepared::default(),
            fresh: None,
            description: description.to_string(),
            finished: false,
            rollback_journal,
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
        self.leave_rollback_journal();
        Ok(())
    }

    fn leave_rollback_journal(&mut self) {
        if std::mem::take(&mut self.rollback_journal) {
            super::bulk::leave(&self.store.db());
        }
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
        self.leave_rollback_journal();
    }
}
