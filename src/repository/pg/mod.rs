//! The PostgreSQL backend: a repository shared by many processes on many
//! machines, in one schema of a PostgreSQL database.
//!
//! # Location
//!
//! `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]` names the
//! repository in schema `NAME` (default [`DEFAULT_SCHEMA`]) of database `DATABASE`.
//! A schema holds one whole repository, all its workspaces, registries, operation
//! log and blobs, so that one database can hold several repositories side by side.
//! `workspace-schema=NAME` (the parameter the issue names) is accepted as a synonym
//! of `schema=NAME`. Every other parameter is the `postgres` crate's
//! (`connect_timeout`, `application_name`, `host=/run/postgresql` for a unix
//! socket, ...). Connections are TLS-less (`NoTls`): use a unix socket, a local
//! network or a tunnel. A schema name is letters, digits and `_`, not starting
//! with a digit.
//!
//! # Shape
//!
//! [`PgBackend`] implements only the primitives ([`content`](super::content) and
//! [`oplog`](super::oplog)) over one connection; [`PgStore`] is it wrapped in
//! [`Journaled`], which brings argument checks, before-images, undo and history, as
//! for every backend. The tables mirror the SQLite backend's ([`schema`]), with
//! the same column encoding of values, so the two backends store the same rows.
//!
//! # Transactions and locking
//!
//! A jcrpack transaction is one PostgreSQL transaction: content, operation log and
//! new blobs commit together, and a client that dies mid-install leaves nothing
//! (the server rolls its transaction back). Writers take a transaction-level
//! advisory lock of the repository (`pg_advisory_xact_lock`, keyed by the schema)
//! before their first read, so that writers of one repository run one at a time,
//! as on SQLite; a second writer waits up to the busy timeout (`--lock-timeout`)
//! and then fails with [`RepositoryError::RepositoryBusy`]. The lock is the
//! database's: it goes with the transaction, whoever dies. Readers never wait (MVCC).
//!
//! # Blobs
//!
//! A binary is stored once by its SHA-256 (`blob`), its content in chunks of
//! [`schema::CHUNK`] bytes (`blob_chunk`), streamed in and out, so no shared file
//! system is needed. A blob being written goes to a private staging key first and
//! is renamed to its hash when complete; equal content is kept once.

mod blob;
mod bulk;
mod cache;
mod content;
mod image;
mod oplog;
pub mod schema;
mod store;

#[cfg(test)]
pub(crate) mod testdb;
#[cfg(test)]
mod tests;

use super::content::NodeId;
use super::location::OpenOptions;
use super::oplog::{BackendTxn, StorageBackend};
use super::{RepositoryError, Result};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use store::PgStore;

/// The schema a location without `schema=` names.
pub const DEFAULT_SCHEMA: &str = "jcrpack";

/// A parsed `postgres://` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgLocation {
    /// The connection string without jcrpack's own parameters.
    pub connect: String,
    /// The repository's schema.
    pub schema: String,
    /// The location for messages, without a password.
    pub display: String,
}

impl PgLocation {
    /// Reads `postgres://...` (or `postgresql://...`).
    pub fn parse(url: &str) -> std::result::Result<PgLocation, String> {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            return Err("expected postgres://USER@HOST:PORT/DATABASE?schema=NAME".into());
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut schema = None;
        let mut rest = Vec::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == "schema" || k == "workspace-schema" {
                if schema.is_some() {
                    return Err("the schema is given twice".into());
                }
                schema = Some(v.to_string());
            } else {
                rest.push(pair);
            }
        }
        let schema = schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_string());
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "schema '{schema}' is not a valid name (letters, digits and _, not starting with a digit, at most 63)"
            ));
        }
        let connect = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        // The password (`user:password@`) stays out of messages.
        let display = match base.split_once("://") {
            Some((scheme, after)) => match after.split_once('@') {
                Some((user, host)) => {
                    let user = user.split(':').next().unwrap_or_default();
                    format!("{scheme}://{user}@{host}?schema={schema}")
                }
                None => format!("{scheme}://{after}?schema={schema}"),
            },
            None => base.to_string(),
        };
        Ok(PgLocation {
            connect,
            schema,
            display,
        })
    }
}

/// A connection with its prepared statements.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// A write transaction (or a blob upload's own) is open.
    in_txn: bool,
    /// Holders of the read snapshot (see `store`).
    snapshots: u32,
    /// A backup image holds one of them until `end_image` (see `image`).
    image: bool,
    /// What the open write transaction read and wrote (see `cache`).
    cache: cache::TxnCache,
    /// Whether a write transaction (`PgTxn`) is open, so `cache` is in use.
    cache_on: bool,
    /// New rows of the write transaction not yet written (see `bulk`): every
    /// statement writes them first.
    bulk: bulk::Pending,
}

impl Conn {
    fn statement(&mut self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(crate) fn query(
        &mut self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, postgres::Error> {
        self.bulk.flush(&mut self.client)?;
        let s = self.statement(sql)?;
        self.client.query(&s, args)
    }

    pub(crate) fn execute(
        &mut self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, postgres::Error> {
        self.bulk.flush(&mut self.client)?;
        let s = self.statement(sql)?;
        self.client.execute(&s, args)
    }
}

/// The shared connection and what messages need.
#[derive(Clone)]
pub struct PgDb {
    conn: Arc<Mutex<Conn>>,
    location: PathBuf,
    busy: Duration,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb")
            .field("location", &self.location)
            .finish()
    }
}

/// SQLSTATE of a lock wait that ran out (`lock_timeout`).
const LOCK_NOT_AVAILABLE: &str = "55P03";

impl PgDb {
    /// Maps a PostgreSQL error, recognizing a lock wait that timed out.
    pub(crate) fn err(&self, e: postgres::Error) -> RepositoryError {
        if e.code().map(|c| c.code()) == Some(LOCK_NOT_AVAILABLE) {
            return self.busy_error();
        }
        RepositoryError::Postgres {
            repository: self.location.clone(),
            source: e,
        }
    }

    fn busy_error(&self) -> RepositoryError {
        RepositoryError::RepositoryBusy {
            repository: self.location.clone(),
            waited: self.busy,
        }
    }

    /// An error for stored data that cannot be read back.
    pub(crate) fn corrupt(&self, detail: impl Into<String>) -> RepositoryError {
        RepositoryError::Corrupt {
            repository: self.location.clone(),
            detail: detail.into(),
        }
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Conn>> {
        self.conn
            .lock()
            .map_err(|_| self.corrupt("the connection was poisoned by a panic"))
    }

    /// Runs a query.
    pub(crate) fn query(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let mut c = self.lock()?;
        c.query(sql, args).map_err(|e| self.err(e))
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let mut c = self.lock()?;
        c.execute(sql, args).map_err(|e| self.err(e))
    }

    /// Runs `f` on the write transaction's cache; `None` outside one.
    pub(crate) fn with_cache<T>(&self, f: impl FnOnce(&mut cache::TxnCache) -> T) -> Option<T> {
        let mut c = self.conn.lock().ok()?;
        if !c.cache_on {
            return None;
        }
        Some(f(&mut c.cache))
    }

    /// Forgets what the write transaction's cache holds.
    pub(crate) fn forget(&self) {
        self.with_cache(|c| c.clear());
    }

    /// Runs statements without parameters.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        let mut c = self.lock()?;
        let c = &mut *c;
        c.bulk.flush(&mut c.client).map_err(|e| self.err(e))?;
        c.client.batch_execute(sql).map_err(|e| self.err(e))
    }

    /// Reads column `i` of a row.
    pub(crate) fn get<'r, T: postgres::types::FromSql<'r>>(
        &self,
        row: &'r Row,
        i: usize,
    ) -> Result<T> {
        row.try_get(i).map_err(|e| self.err(e))
    }

    fn location(&self) -> &Path {
        &self.location
    }
}

fn connect(loc: &PgLocation, location: &Path) -> Result<Client> {
    let config: postgres::Config =
        loc.connect
            .parse()
            .map_err(|e| RepositoryError::NotARepository {
                path: location.to_path_buf(),
                reason: format!("the location cannot be read: {e}"),
            })?;
    config
        .connect(NoTls)
        .map_err(|e| RepositoryError::Postgres {
            repository: location.to_path_buf(),
            source: e,
        })
}

/// The PostgreSQL [`StorageBackend`].
#[derive(Debug)]
pub struct PgBackend {
    db: PgDb,
}

impl PgBackend {
    fn connect(url: &str, options: &OpenOptions) -> Result<PgBackend> {
        let loc = PgLocation::parse(url).map_err(|reason| RepositoryError::NotARepository {
            path: PathBuf::from(url),
            reason,
        })?;
        let location = PathBuf::from(&loc.display);
        let mut client = connect(&loc, &location)?;
        client
            .batch_execute(&format!(
                "SET search_path TO \"{}\"; SET client_min_messages TO warning",
                loc.schema
            ))
            .map_err(|e| RepositoryError::Postgres {
                repository: location.clone(),
                source: e,
            })?;
        Ok(PgBackend {
            db: PgDb {
                conn: Arc::new(Mutex::new(Conn {
                    client,
                    statements: HashMap::new(),
                    in_txn: false,
                    snapshots: 0,
                    image: false,
                    cache: cache::TxnCache::default(),
                    cache_on: false,
                    bulk: bulk::Pending::default(),
                })),
                location,
                busy: options.busy_timeout,
            },
        })
    }

    /// Whether the schema holds a jcrpack repository: `Err` with the reason if not.
    fn check(&self) -> Result<std::result::Result<(), String>> {
        let exists: bool = {
            let row = self
                .db
                .query("SELECT to_regclass('meta') IS NOT NULL", &[])?;
            self.db.get(&row[0], 0)?
        };
        if !exists {
            return Ok(Err(
                "its schema holds no repository (create one with init)".into()
            ));
        }
        let rows = self.db.query(
            "SELECT key, value FROM meta WHERE key IN ('format', 'version')",
            &[],
        )?;
        let mut format = None;
        let mut version = None;
        for r in &rows {
            let k: String = self.db.get(r, 0)?;
            let v: String = self.db.get(r, 1)?;
            match k.as_str() {
                "format" => format = Some(v),
                _ => version = Some(v),
            }
        }
        if format.as_deref() != Some(schema::FORMAT) {
            return Ok(Err("its schema is not a jcrpack repository".into()));
        }
        if version.as_deref() == Some("1") {
            self.migrate()?;
            return Ok(Ok(()));
        }
        if version.as_deref() != Some(schema::VERSION) {
            return Ok(Err(format!(
                "schema version {} is not the supported version {}",
                version.unwrap_or_default(),
                schema::VERSION
            )));
        }
        Ok(Ok(()))
    }
}

impl PgBackend {
    /// Brings a version 1 schema to the current version ([`schema::MIGRATE_1_TO_2`])
    /// in one transaction under the repository's write lock (waiting up to the
    /// busy timeout), unless another process did meanwhile.
    fn migrate(&self) -> Result<()> {
        let db = &self.db;
        let txn = PgTxn::begin_locked(db)?;
        let rows = db.query("SELECT value FROM meta WHERE key = 'version'", &[])?;
        let version: Option<String> = match rows.first() {
            Some(r) => Some(db.get(r, 0)?),
            None => None,
        };
        if version.as_deref() == Some("1") {
            tracing::info!(
                "migrating the PostgreSQL repository {} from schema version 1 to {}",
                db.location.display(),
                schema::VERSION
            );
            db.batch(schema::MIGRATE_1_TO_2)?;
        }
        Box::new(txn).commit()
    }
}

impl PgStore {
    /// Opens the repository at `url`.
    pub fn open_url(url: &str, options: &OpenOptions) -> Result<PgStore> {
        let backend = PgBackend::connect(url, options)?;
        if let Err(reason) = backend.check()? {
            return Err(RepositoryError::NotARepository {
                path: backend.db.location.clone(),
                reason,
            });
        }
        Ok(PgStore::new(backend))
    }

    /// Creates a repository at `url` (its schema is created if missing and must not
    /// hold a repository) whose workspace `default` has Oak's initial content.
    pub fn init_url(url: &str, options: &OpenOptions) -> Result<PgStore> {
        let backend = PgBackend::connect(url, options)?;
        let loc = PgLocation::parse(url).map_err(|reason| RepositoryError::NotARepository {
            path: PathBuf::from(url),
            reason,
        })?;
        let db = backend.db.clone();
        {
            let mut c = db.lock()?;
            let mut run = || -> std::result::Result<(), postgres::Error> {
                c.client.batch_execute("BEGIN")?;
                c.client.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('jcrpack'), hashtext($1))",
                    &[&loc.schema],
                )?;
                c.client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", loc.schema))?;
                Ok(())
            };
            if let Err(e) = run() {
                let _ = c.client.batch_execute("ROLLBACK");
                return Err(db.err(e));
            }
        }
        let made = (|| -> Result<()> {
            let row = db.query("SELECT to_regclass('meta') IS NOT NULL", &[])?;
            if db.get::<bool>(&row[0], 0)? {
                return Err(RepositoryError::AlreadyExists {
                    path: db.location.clone(),
                    reason: format!("schema {} holds a repository", loc.schema),
                });
            }
            db.batch(schema::SCHEMA)?;
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('format', $1), ('version', $2), ('next_node_id', '1'), ('pruned_through', '0')",
                &[&schema::FORMAT, &schema::VERSION],
            )?;
            for (p, u) in crate::namespace::BUILT_IN {
                db.execute(
                    "INSERT INTO namespace(prefix, uri) VALUES ($1, $2)",
                    &[p, u],
                )?;
            }
            db.batch("COMMIT")
        })();
        if let Err(e) = made {
            let _ = db.batch("ROLLBACK");
            return Err(e);
        }
        let mut store = PgStore::new(backend);
        let mut t = super::Store::begin(&mut store, "create the default workspace")?;
        t.create_workspace(super::DEFAULT_WORKSPACE)?;
        t.commit()?;
        Ok(store)
    }
}

impl StorageBackend for PgBackend {
    fn content(&self) -> &dyn super::content::ContentRead {
        &self.db
    }

    fn oplog(&self) -> &dyn super::oplog::OpLogRead {
        &self.db
    }

    fn begin(&mut self) -> Result<Box<dyn BackendTxn + '_>> {
        Ok(Box::new(PgTxn::begin(&self.db)?))
    }

    /// Removes, under the write lock, the blobs that no property and no journal
    /// before-image refers to (binary values are stored as `blob:<sha256>:<size>`,
    /// alone or in a JSON list). The space goes back to the database through its
    /// (auto)vacuum; `database_bytes` are the schema's table sizes.
    fn gc(&mut self, dry_run: bool) -> Result<super::GcReport> {
        let db = &self.db;
        let txn = PgTxn::begin(db)?;
        let size = || -> Result<u64> {
            let rows = db.query(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                &[],
            )?;
            Ok(db.get::<i64>(&rows[0], 0)? as u64)
        };
        let before = size()?;
        let rows = db.query(
            "SELECT b.sha256, b.size FROM blob b
             WHERE NOT EXISTS (SELECT 1 FROM prop p
                               WHERE p.type = 2 AND strpos(p.value, 'blob:' || b.sha256 || ':') > 0)
               AND NOT EXISTS (SELECT 1 FROM jprop j
                               WHERE j.type = 2 AND strpos(j.value, 'blob:' || b.sha256 || ':') > 0)",
            &[],
        )?;
        let mut unused = Vec::with_capacity(rows.len());
        let mut bytes = 0u64;
        for r in &rows {
            unused.push(db.get::<String>(r, 0)?);
            bytes += db.get::<i64>(r, 1)? as u64;
        }
        let total = db.query("SELECT count(*) FROM blob", &[])?;
        let total = db.get::<i64>(&total[0], 0)? as u64;
        let report = super::GcReport {
            blobs_removed: unused.len() as u64,
            blob_bytes: bytes,
            blobs_kept: total - unused.len() as u64,
            dry_run,
            ..super::GcReport::default()
        };
        if dry_run || unused.is_empty() {
            Box::new(txn).rollback()?;
            return Ok(super::GcReport {
                database_bytes: (before, before),
                ..report
            });
        }
        db.execute("DELETE FROM blob_chunk WHERE blob = ANY($1)", &[&unused])?;
        db.execute("DELETE FROM blob WHERE sha256 = ANY($1)", &[&unused])?;
        Box::new(txn).commit()?;
        Ok(super::GcReport {
            database_bytes: (before, size()?),
            ..report
        })
    }
}

/// A write transaction: one PostgreSQL transaction holding the repository's
/// advisory lock.
pub struct PgTxn<'a> {
    db: &'a PgDb,
    first_id: NodeId,
    next_id: NodeId,
    finished: bool,
}

impl<'a> PgTxn<'a> {
    fn begin(db: &'a PgDb) -> Result<PgTxn<'a>> {
        let mut txn = PgTxn::open(db)?;
        txn.take_lock()?;
        txn.read_next_id()?;
        Ok(txn)
    }

    /// A transaction holding the write lock, that allocates no node ids (a schema
    /// migration's).
    fn begin_locked(db: &'a PgDb) -> Result<PgTxn<'a>> {
        let mut txn = PgTxn::open(db)?;
        txn.take_lock()?;
        Ok(txn)
    }

    /// Opens the PostgreSQL transaction.
    fn open(db: &'a PgDb) -> Result<PgTxn<'a>> {
        {
            let mut c = db.lock()?;
            if c.in_txn || c.snapshots > 0 {
                return Err(
                    db.corrupt("a transaction or read snapshot is already open on this connection")
                );
            }
            c.client.batch_execute("BEGIN").map_err(|e| db.err(e))?;
            c.in_txn = true;
            c.cache.clear();
            c.cache_on = true;
            c.bulk.discard();
        }
        // From here on an error drops the transaction, which rolls back.
        Ok(PgTxn {
            db,
            first_id: 0,
            next_id: 0,
            finished: false,
        })
    }

    /// Reads the first node id this transaction hands out.
    fn read_next_id(&mut self) -> Result<()> {
        let db = self.db;
        let row = db.query("SELECT value FROM meta WHERE key = 'next_node_id'", &[])?;
        let next: String = match row.first() {
            Some(r) => db.get(r, 0)?,
            None => return Err(db.corrupt("meta.next_node_id is missing")),
        };
        let next: i64 = next
            .parse()
            .map_err(|_| db.corrupt(format!("meta.next_node_id is '{next}', not a number")))?;
        self.first_id = next;
        self.next_id = next;
        Ok(())
    }

    /// Waits up to the busy timeout for the repository's write lock.
    fn take_lock(&mut self) -> Result<()> {
        let db = self.db;
        let key = "SELECT hashtext('jcrpack'), hashtext(current_schema())";
        let row = db.query(key, &[])?;
        let (a, b): (i32, i32) = (db.get(&row[0], 0)?, db.get(&row[0], 1)?);
        let ms = db.busy.as_millis().min(i32::MAX as u128) as i64;
        if ms == 0 {
            let row = db.query("SELECT pg_try_advisory_xact_lock($1, $2)", &[&a, &b])?;
            let got: bool = db.get(&row[0], 0)?;
            return if got { Ok(()) } else { Err(db.busy_error()) };
        }
        db.batch(&format!("SET LOCAL lock_timeout = {ms}"))?;
        db.query("SELECT pg_advisory_xact_lock($1, $2)", &[&a, &b])?;
        db.batch("SET LOCAL lock_timeout = 0")?;
        Ok(())
    }

    fn finish(&mut self, sql: &str) -> Result<()> {
        let mut c = self.db.lock()?;
        let c = &mut *c;
        c.cache_on = false;
        c.cache.clear();
        if sql == "COMMIT" {
            c.bulk.flush(&mut c.client).map_err(|e| self.db.err(e))?;
        }
        c.bulk.discard();
        c.client.batch_execute(sql).map_err(|e| self.db.err(e))?;
        c.in_txn = false;
        self.finished = true;
        Ok(())
    }
}

impl Drop for PgTxn<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Ok(mut c) = self.db.conn.lock() {
            c.cache_on = false;
            c.cache.clear();
            c.bulk.discard();
            if let Err(e) = c.client.batch_execute("ROLLBACK") {
                tracing::warn!("rolling back in {} failed: {e}", self.db.location.display());
            }
            c.in_txn = false;
        }
    }
}

impl BackendTxn for PgTxn<'_> {
    fn finish_operation(&mut self, op: super::OperationId) -> Result<()> {
        let db = self.db;
        db.execute(
            "INSERT INTO jnode(op, node, ws, path, existed)
             SELECT $1, id, ws, path, false FROM node
             WHERE id >= $2 AND id < $3 AND parent IS NOT NULL
             ON CONFLICT DO NOTHING",
            &[&op.0, &self.first_id, &self.next_id],
        )?;
        db.execute(
            "UPDATE op SET nodes = (SELECT count(*) FROM jnode WHERE op = $1),
                           props = (SELECT count(*) FROM jprop WHERE op = $1)
                                 + (SELECT count(*) FROM prop WHERE node >= $2 AND node < $3),
                           regs = (SELECT count(*) FROM jreg WHERE op = $1)
             WHERE id = $1",
            &[&op.0, &self.first_id, &self.next_id],
        )?;
        Ok(())
    }

    fn savepoint(&mut self) -> Result<()> {
        self.db.batch("SAVEPOINT jcrpack_journaled")
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        self.db.forget();
        self.db
            .batch("ROLLBACK TO SAVEPOINT jcrpack_journaled; RELEASE SAVEPOINT jcrpack_journaled")
    }

    fn release_savepoint(&mut self) -> Result<()> {
        self.db.batch("RELEASE SAVEPOINT jcrpack_journaled")
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        // A transaction that handed out no id (a migration's reads none) leaves it.
        if self.next_id != self.first_id {
            self.db.execute(
                "UPDATE meta SET value = $1 WHERE key = 'next_node_id'",
                &[&self.next_id.to_string()],
            )?;
        }
        self.finish("COMMIT")
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.finish("ROLLBACK")
    }
}
