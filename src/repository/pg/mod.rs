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
//! (the server rolls its transaction back). Writers take transaction-level
//! advisory locks before their first read; the locks are the database's, they go
//! with the transaction, whoever dies. Readers never wait (MVCC).
//!
//! * An install ([`Store::begin_operation_in`](super::Store::begin_operation_in),
//!   into an existing workspace) takes the repository's lock (keyed by the schema)
//!   *shared* and then its workspace's lock (keyed by schema and workspace name),
//!   so installs into one workspace run one at a time and installs into different
//!   workspaces run at once. It may write only that workspace's content (the
//!   journaled layer refuses anything else).
//! * Everything else that writes (namespaces or node types registered on their
//!   own, workspace create and remove, undo, restore, prune, gc, migrations, and
//!   an install into a workspace it creates) takes the repository's lock
//!   *exclusive*, which waits for every workspace's lock and keeps them all out.
//! * A lock not had within the busy timeout (`--lock-timeout`) fails with
//!   [`RepositoryError::RepositoryBusy`], as on SQLite.
//! * An install that registers a namespace or node type first waits until every
//!   operation with a smaller id has ended, then takes the registry lock (keyed by
//!   the schema) and checks that what it read of the registry still holds (else
//!   it fails, to be run again). Every wait is of a later operation for an earlier
//!   one, or of a transaction holding no operation id for one that holds a lock:
//!   no cycle, so no deadlock.
//!
//! # Ids
//!
//! Node ids come from the sequence `node_id`, which steps by [`NODE_ID_BLOCK`]: a
//! write transaction draws one block when it begins, so its nodes are the range
//! [`first_new_id`](super::content::ContentTxn::first_new_id)`..` its next id,
//! whatever other transactions draw meanwhile (ids are never reused; rolled back
//! blocks are skipped).
//!
//! Operation ids come from the sequence `op_id`, and **they follow commit order**:
//! an operation's id is drawn, and marked in flight by an advisory lock on it held
//! to the end of its transaction, under a short session lock; at commit the
//! transaction waits until every smaller id has committed or rolled back. So a
//! reader that sees operation N sees every operation before N, "the repository at
//! operation N" is the state after the operations up to N as on SQLite, and
//! `history`, undo's "a later operation touched it" (by id), backups' last
//! operation id and `new_nodes` keep their SQLite meaning. The price: an install
//! that began after a long one in another workspace commits when that one ends
//! (the two ran at once; the later one's acknowledgement waits), and one thread
//! must not hold an earlier transaction open while it commits a later one on
//! another connection. A rolled back operation leaves a gap in the ids. Two
//! installs into different workspaces that store the same new binary can
//! deadlock (the earlier waits for the later's uncommitted `blob` row, the later
//! for the earlier to end): the server breaks it by rolling one back, which fails
//! as busy and leaves nothing.
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
mod link;
mod names;
mod oplog;
mod prefetch;
pub mod schema;
mod store;
mod timeline;

#[cfg(test)]
pub(crate) mod testdb;
#[cfg(test)]
mod tests;

use super::content::NodeId;
use super::location::OpenOptions;
use super::oplog::{BackendTxn, StorageBackend, WriteScope};
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
    /// The connection (lent to a thread while it writes a full batch of
    /// waiting rows: see `link`).
    client: link::Link,
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
    /// statement that may read or change them writes them first.
    bulk: bulk::Pending,
    /// Rows the open write transaction wrote by `COPY` (see [`Conn::flush`]).
    grown: u64,
    /// Queries and statements with parameters sent so far (what tests count).
    sent: u64,
    /// `grown` past which the tables are analyzed next.
    next_analyze: u64,
    /// The tables grew past `next_analyze`: they are analyzed before the next
    /// statement whose plan may depend on them (see [`Conn::flush`]).
    analyze_due: bool,
    /// The rows of `node` and `prop` when the transaction first grew past
    /// [`ANALYZE_ROWS`] (the server's estimate).
    rows_before: Option<f64>,
    /// What the open write transaction waited on the server for (see `timeline`).
    timeline: timeline::Timeline,
}

/// Rows an install writes before it analyzes the tables it grew (see
/// [`Conn::flush`]).
pub(crate) const ANALYZE_ROWS: u64 = 10_000;

/// The statistics target of the `ANALYZE` inside an install (PostgreSQL's
/// default is 100: it samples 300 times the target rows, and computes the
/// statistics of every column and expression index of the sample).
pub(crate) const ANALYZE_TARGET_INSIDE: u32 = 10;

/// Analyzes `node` and `prop` inside the open transaction, coarsely (see
/// [`Conn::flush`]); a failure is logged and leaves the transaction as it was.
fn analyze_inside(client: &mut Client) {
    // `SET LOCAL` in a released savepoint holds to the end of the
    // transaction, whose every ANALYZE is this one.
    let analyzed = client.batch_execute(&format!(
        "SAVEPOINT jcrpack_analyze;
         SET LOCAL default_statistics_target = {ANALYZE_TARGET_INSIDE};
         ANALYZE (SKIP_LOCKED) node, prop;
         RELEASE SAVEPOINT jcrpack_analyze"
    ));
    if let Err(e) = analyzed {
        tracing::warn!("analyzing the tables inside the install failed: {e}");
        let _ = client.batch_execute(
            "ROLLBACK TO SAVEPOINT jcrpack_analyze; RELEASE SAVEPOINT jcrpack_analyze",
        );
    }
}

/// The statistics target of the `ANALYZE` after an install. The plans of
/// what follows an install (the export's and a re-import's reads, by parent,
/// id and path, each through its index) came out the same at 10 as at the
/// server's default of 100, which samples ten times the rows: at 100k nodes
/// the `ANALYZE` of the four tables took 1.31 s at 100 and 0.14 s at 10
/// (`EXPLAIN` of the statements, generic and custom plans, compared).
/// Autovacuum analyzes the tables again, at the server's target, once they
/// change by its share.
pub(crate) const ANALYZE_TARGET_AFTER: u32 = 10;

/// Analyzes the tables an install grew, after its commit, in a transaction
/// of its own (the coarse target is `SET LOCAL` in it); an error rolls it back.
fn analyze_after(client: &mut Client) -> std::result::Result<(), postgres::Error> {
    let analyzed = client.batch_execute(&format!(
        "BEGIN;
         SET LOCAL default_statistics_target = {ANALYZE_TARGET_AFTER};
         ANALYZE (SKIP_LOCKED) node, prop, jnode, jprop;
         COMMIT"
    ));
    if analyzed.is_err() {
        let _ = client.batch_execute("ROLLBACK");
    }
    analyzed
}

impl Conn {
    /// Writes the waiting rows (see `bulk`), then, inside a write transaction
    /// that has grown `node` and `prop` a lot, analyzes them.
    ///
    /// The server plans a statement from the tables' statistics, which are those
    /// of the tables before the install (autovacuum does not see uncommitted
    /// rows): an install into an empty repository would read its children and
    /// properties with plans made for empty tables, each a scan. `ANALYZE`
    /// inside the transaction counts its own new rows, so past [`ANALYZE_ROWS`]
    /// new rows, when they are at least half of what the tables held, the
    /// tables are analyzed, and again each time the rows written double; not at
    /// once but before the next statement the install sends (see
    /// [`Conn::prepare_plan`]), so growth that no statement reads before the
    /// commit (the journal and the counts of `finish_operation` do not need it)
    /// is analyzed once, after the commit. It samples
    /// [`ANALYZE_TARGET_INSIDE`] (the plans of an install's lookups need the
    /// tables' sizes, not fine histograms), runs
    /// `SKIP_LOCKED` (an install in another workspace that analyzes holds the
    /// tables' analyze lock until it ends: this one does not wait) inside a
    /// savepoint, so a failure (logged) leaves the install as it was.
    fn flush(&mut self) -> std::result::Result<(), bulk::FlushError> {
        self.settle()?;
        if self.bulk.is_empty() {
            return Ok(());
        }
        let batch = self.take_batch();
        let client = self.client.get();
        let rows = self
            .timeline
            .time(timeline::Wait::InPlace, || batch.write(client))?;
        self.grew(rows);
        Ok(())
    }

    /// Writes the waiting rows behind (see `link`): the install goes on while
    /// the server takes them. An error shows at the next statement. When the
    /// rows take the tables past the mark of the next `ANALYZE` (see
    /// [`Conn::flush`]), the writer analyzes them right after, behind too.
    fn flush_behind(&mut self) -> std::result::Result<(), bulk::FlushError> {
        self.settle()?;
        if self.bulk.is_empty() {
            return Ok(());
        }
        let grown = self.grown + self.bulk.rows() as u64;
        let analyze =
            self.in_txn && self.cache_on && grown >= self.next_analyze && self.analysis_due(grown);
        let batch = self.take_batch();
        self.client
            .write_behind(batch, analyze.then_some(analyze_inside as fn(&mut Client)));
        Ok(())
    }

    /// Waits for the rows written behind, if any: their error, or what they grew.
    fn settle(&mut self) -> std::result::Result<(), bulk::FlushError> {
        if let Some(outcome) = self.client.outcome() {
            self.grew(outcome?);
        }
        Ok(())
    }

    /// Takes the waiting rows out to be written; their `jcr:uuid` rows reach
    /// the server.
    fn take_batch(&mut self) -> bulk::Batch {
        for (ws, value) in self.bulk.uuid_rows() {
            self.cache.uuid_written(ws, value);
        }
        self.bulk.take()
    }

    /// `rows` were written by `COPY`: inside a write transaction that has grown
    /// `node` and `prop` a lot, the tables are analyzed.
    fn grew(&mut self, rows: u64) {
        self.bulk.copied += rows;
        self.grown += rows;
        if self.in_txn && self.cache_on && self.grown >= self.next_analyze {
            self.analyze_due = true;
        }
    }

    /// Before a statement whose plan may depend on the tables the transaction
    /// grew: analyzes them if they grew past the mark (see [`Conn::flush`]).
    fn prepare_plan(&mut self) {
        if self.analyze_due && self.in_txn && self.cache_on {
            self.analyze_due = false;
            self.analyze_grown();
        }
    }

    fn analyze_grown(&mut self) {
        if self.analysis_due(self.grown) {
            self.run(timeline::Wait::AnalyzeInside, analyze_inside);
        }
    }

    /// Whether the tables are analyzed now that the transaction has grown
    /// them by `grown` rows (at least half of what they held before), moving
    /// the mark of the next `ANALYZE` (see [`Conn::flush`]).
    fn analysis_due(&mut self, grown: u64) -> bool {
        let rows_before = match self.rows_before {
            Some(r) => r,
            None => {
                let r = self
                    .client
                    .get()
                    .query_one(
                        "SELECT coalesce(sum(greatest(reltuples, 0)), 0)::float8 FROM pg_class
                         WHERE oid IN ('node'::regclass, 'prop'::regclass)",
                        &[],
                    )
                    .and_then(|r| r.try_get::<_, f64>(0))
                    .unwrap_or(0.0);
                self.rows_before = Some(r);
                r
            }
        };
        if (grown as f64) < rows_before / 2.0 {
            self.next_analyze = grown.max((rows_before / 2.0) as u64);
            return false;
        }
        self.next_analyze = grown.saturating_mul(2);
        true
    }

    /// Starts counting what a new write transaction grows.
    fn reset_growth(&mut self) {
        self.grown = 0;
        self.next_analyze = ANALYZE_ROWS;
        self.analyze_due = false;
        self.rows_before = None;
        self.timeline = Default::default();
        self.client.take_waited();
    }

    /// Runs `f` on the connection (once the rows written behind are written),
    /// counting its time as a wait for `what`.
    fn run<T>(&mut self, what: timeline::Wait, f: impl FnOnce(&mut Client) -> T) -> T {
        let client = self.client.get();
        self.timeline.time(what, || f(client))
    }

    /// Where the transaction's wall time went so far (see `timeline`).
    fn timeline_summary(&mut self) -> String {
        let (d, n) = self.client.take_waited();
        self.timeline.add(timeline::Wait::Behind, d, n);
        self.timeline.summary()
    }

    fn statement(&mut self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.get().prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs a prepared query (the caller has written the waiting rows first, or
    /// knows the query cannot see them).
    pub(crate) fn query(
        &mut self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, postgres::Error> {
        self.prepare_plan();
        let s = self.statement(sql)?;
        self.sent += 1;
        self.run(timeline::Wait::Statement, |client| client.query(&s, args))
    }

    fn execute(
        &mut self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, postgres::Error> {
        self.prepare_plan();
        let s = self.statement(sql)?;
        self.sent += 1;
        self.run(timeline::Wait::Statement, |client| client.execute(&s, args))
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

/// SQLSTATE of a transaction the server rolled back to break a deadlock: two
/// installs into different workspaces storing the same new binary, the earlier
/// waiting for the later's `blob` row while the later waits, at commit, for the
/// earlier to end (see the module doc). The victim fails as busy, to be run again.
const DEADLOCK_DETECTED: &str = "40P01";

impl PgDb {
    /// Maps a PostgreSQL error, recognizing a lock wait that timed out.
    pub(crate) fn err(&self, e: postgres::Error) -> RepositoryError {
        if matches!(
            e.code().map(|c| c.code()),
            Some(LOCK_NOT_AVAILABLE) | Some(DEADLOCK_DETECTED)
        ) {
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

    /// Maps an error of writing the waiting rows (see `bulk`).
    pub(crate) fn flush_err(&self, e: bulk::FlushError) -> RepositoryError {
        let source = match e.source {
            bulk::CopyError::Db(source) => source,
            bulk::CopyError::Send(io) => {
                return RepositoryError::Io {
                    path: self.location.clone(),
                    source: std::io::Error::new(
                        io.kind(),
                        format!("writing the waiting rows of {}: {io}", e.what),
                    ),
                }
            }
        };
        if matches!(
            source.code().map(|c| c.code()),
            Some(LOCK_NOT_AVAILABLE) | Some(DEADLOCK_DETECTED)
        ) {
            return self.busy_error();
        }
        RepositoryError::PostgresWaitingRows {
            repository: self.location.clone(),
            what: e.what,
            source,
        }
    }

    /// Runs a query (after writing the waiting rows).
    pub(crate) fn query(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.read(sql, args, |_| true)
    }

    /// Runs a query that reads no waiting row unless `sees` says so (then they
    /// are written first): a read of a path, node or parent that no waiting row
    /// has gets the same answer from the server without them.
    pub(crate) fn read(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
        sees: impl FnOnce(&bulk::Pending) -> bool,
    ) -> Result<Vec<Row>> {
        let mut c = self.lock()?;
        c.settle().map_err(|e| self.flush_err(e))?;
        if !c.bulk.is_empty() && sees(&c.bulk) {
            c.flush().map_err(|e| self.flush_err(e))?;
        }
        c.query(sql, args).map_err(|e| self.err(e))
    }

    /// Runs a statement (after writing the waiting rows); returns the number of
    /// rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let mut c = self.lock()?;
        c.flush().map_err(|e| self.flush_err(e))?;
        c.execute(sql, args).map_err(|e| self.err(e))
    }

    /// Runs a statement that neither reads nor changes a waiting row, and
    /// whose outcome none of them changes (an update by id of a node on the
    /// server, of columns no constraint ties to another row): the waiting rows
    /// go on waiting. Returns the number of rows it changed.
    pub(crate) fn execute_beside(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let mut c = self.lock()?;
        c.settle().map_err(|e| self.flush_err(e))?;
        c.execute(sql, args).map_err(|e| self.err(e))
    }

    /// Writes the waiting rows and lets the statements that end an install
    /// (its journal of new nodes and its counts, then the commit, which
    /// analyzes) run without analyzing the tables first (see [`Conn::flush`]):
    /// their plans do not depend on how much the transaction grew them.
    pub(crate) fn end_growth(&self) -> Result<()> {
        let mut c = self.lock()?;
        c.flush().map_err(|e| self.flush_err(e))?;
        c.analyze_due = false;
        Ok(())
    }

    /// The queries and statements with parameters this connection has sent.
    #[cfg(test)]
    pub(crate) fn sent(&self) -> u64 {
        self.conn.lock().map_or(0, |c| c.sent)
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
        c.flush().map_err(|e| self.flush_err(e))?;
        c.run(timeline::Wait::Statement, |client| {
            client.batch_execute(sql)
        })
        .map_err(|e| self.err(e))
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
                    client: link::Link::new(client),
                    statements: HashMap::new(),
                    in_txn: false,
                    snapshots: 0,
                    image: false,
                    cache: cache::TxnCache::default(),
                    cache_on: false,
                    bulk: bulk::Pending::default(),
                    grown: 0,
                    sent: 0,
                    next_analyze: ANALYZE_ROWS,
                    analyze_due: false,
                    timeline: Default::default(),
                    rows_before: None,
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
        if matches!(version.as_deref(), Some("1") | Some("2") | Some("3")) {
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
    /// Brings a version 1, 2 or 3 schema to the current version
    /// ([`schema::MIGRATE_1_TO_2`], [`schema::MIGRATE_2_TO_3`],
    /// [`schema::MIGRATE_3_TO_4`]) in one transaction
    /// under the repository-wide write lock (waiting up to the busy timeout), unless
    /// another process did meanwhile.
    fn migrate(&self) -> Result<()> {
        let db = &self.db;
        let txn = PgTxn::begin_locked(db)?;
        let rows = db.query("SELECT value FROM meta WHERE key = 'version'", &[])?;
        let version: Option<String> = match rows.first() {
            Some(r) => Some(db.get(r, 0)?),
            None => None,
        };
        if matches!(version.as_deref(), Some("1") | Some("2") | Some("3")) {
            tracing::info!(
                "migrating the PostgreSQL repository {} from schema version {} to {}",
                db.location.display(),
                version.as_deref().unwrap_or_default(),
                schema::VERSION
            );
        }
        if version.as_deref() == Some("1") {
            db.batch(schema::MIGRATE_1_TO_2)?;
        }
        if matches!(version.as_deref(), Some("1") | Some("2")) {
            db.batch(schema::MIGRATE_2_TO_3)?;
        }
        if matches!(version.as_deref(), Some("1") | Some("2") | Some("3")) {
            db.batch(schema::MIGRATE_3_TO_4)?;
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
                c.client.get().batch_execute("BEGIN")?;
                c.client.get().execute(
                    "SELECT pg_advisory_xact_lock(hashtext('jcrpack'), hashtext($1))",
                    &[&loc.schema],
                )?;
                c.client
                    .get()
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", loc.schema))?;
                Ok(())
            };
            if let Err(e) = run() {
                let _ = c.client.get().batch_execute("ROLLBACK");
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
                "INSERT INTO meta(key, value) VALUES ('format', $1), ('version', $2), ('pruned_through', '0')",
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

    fn begin_scoped(&mut self, scope: WriteScope<'_>) -> Result<Box<dyn BackendTxn + '_>> {
        Ok(Box::new(PgTxn::begin_in(&self.db, scope)?))
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

/// The node ids a write transaction may hand out: one block of the `node_id`
/// sequence (which steps by this much), so that the ids of a transaction are one
/// range whoever else allocates meanwhile.
pub(crate) const NODE_ID_BLOCK: i64 = 1 << 30;

/// The advisory lock keys of a repository (pairs of `int4`, each pair's first
/// half naming the kind of lock and the schema).
mod keys {
    /// The repository-wide write lock: exclusive for a transaction that may
    /// write anything, shared for one that writes one workspace.
    pub const REPOSITORY: &str = "SELECT hashtext('jcrpack'), hashtext(current_schema())";
    /// A workspace's write lock.
    pub const WORKSPACE: &str =
        "SELECT hashtext('jcrpack-ws:' || current_schema()), hashtext($1::text)";
    /// The lock of the namespace and node type registries, for a transaction of
    /// one workspace that registers.
    pub const REGISTRY: &str = "SELECT hashtext('jcrpack-reg'), hashtext(current_schema())";
    /// The session lock under which an operation id is drawn and marked.
    pub const DRAW: &str = "SELECT hashtext('jcrpack-draw'), hashtext(current_schema())";
    /// The first half of an operation's mark (the second is its id, low 31 bits).
    pub const OPERATION: &str = "SELECT hashtext('jcrpack-op:' || current_schema())";
}

/// What a transaction locked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// The repository-wide lock, exclusive.
    Repository,
    /// The repository-wide lock shared, and the workspace's.
    Workspace(String),
}

/// A write transaction: one PostgreSQL transaction holding the repository's
/// write lock (exclusive), or a workspace's (see the module doc).
pub struct PgTxn<'a> {
    db: &'a PgDb,
    first_id: NodeId,
    next_id: NodeId,
    /// The end of this transaction's block of node ids.
    pub(crate) id_limit: NodeId,
    scope: Scope,
    /// The operation it records (marked by an advisory lock until it ends).
    op: Option<i64>,
    /// Whether it holds the registry lock.
    registry_locked: bool,
    finished: bool,
}

impl<'a> PgTxn<'a> {
    fn begin(db: &'a PgDb) -> Result<PgTxn<'a>> {
        PgTxn::begin_in(db, WriteScope::Repository)
    }

    /// A transaction holding the lock of `scope` and a block of node ids.
    fn begin_in(db: &'a PgDb, scope: WriteScope<'_>) -> Result<PgTxn<'a>> {
        let mut txn = PgTxn::open(db)?;
        txn.scope = match scope {
            WriteScope::Repository => Scope::Repository,
            WriteScope::Workspace(w) => Scope::Workspace(w.to_string()),
        };
        txn.take_lock()?;
        txn.read_next_id()?;
        Ok(txn)
    }

    /// A transaction holding the repository-wide write lock, that allocates no
    /// node ids (a schema migration's).
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
            c.client
                .get()
                .batch_execute("BEGIN")
                .map_err(|e| db.err(e))?;
            c.in_txn = true;
            c.cache.clear();
            c.cache_on = true;
            c.bulk.discard();
            c.reset_growth();
        }
        // From here on an error drops the transaction, which rolls back.
        Ok(PgTxn {
            db,
            first_id: 0,
            next_id: 0,
            id_limit: 0,
            scope: Scope::Repository,
            op: None,
            registry_locked: false,
            finished: false,
        })
    }

    /// Draws this transaction's block of node ids from the `node_id` sequence.
    fn read_next_id(&mut self) -> Result<()> {
        let db = self.db;
        let row = db.query("SELECT nextval('node_id')", &[])?;
        let next: i64 = db.get(&row[0], 0)?;
        self.first_id = next;
        self.next_id = next;
        self.id_limit = next.saturating_add(NODE_ID_BLOCK);
        Ok(())
    }

    /// The key pair that `sql` (one of [`keys`]) selects.
    fn key(&self, sql: &str, arg: Option<&str>) -> Result<(i32, i32)> {
        let db = self.db;
        let row = match arg {
            Some(a) => db.query(sql, &[&a])?,
            None => db.query(sql, &[])?,
        };
        Ok((db.get(&row[0], 0)?, db.get(&row[0], 1)?))
    }

    /// Waits up to the busy timeout for transaction-level advisory lock `key`,
    /// `shared` or exclusive.
    fn wait_for(&self, key: (i32, i32), shared: bool) -> Result<()> {
        let db = self.db;
        let f = if shared { "_shared" } else { "" };
        let ms = db.busy.as_millis().min(i32::MAX as u128) as i64;
        if ms == 0 {
            let row = db.query(
                &format!("SELECT pg_try_advisory_xact_lock{f}($1, $2)"),
                &[&key.0, &key.1],
            )?;
            let got: bool = db.get(&row[0], 0)?;
            return if got { Ok(()) } else { Err(db.busy_error()) };
        }
        db.batch(&format!("SET LOCAL lock_timeout = {ms}"))?;
        db.query(
            &format!("SELECT pg_advisory_xact_lock{f}($1, $2)"),
            &[&key.0, &key.1],
        )?;
        db.batch("SET LOCAL lock_timeout = 0")?;
        Ok(())
    }

    /// Waits up to the busy timeout for the write lock of the transaction's scope:
    /// the repository-wide lock exclusive, or shared and then the workspace's.
    fn take_lock(&mut self) -> Result<()> {
        let repository = self.key(keys::REPOSITORY, None)?;
        match self.scope.clone() {
            Scope::Repository => self.wait_for(repository, false),
            Scope::Workspace(w) => {
                self.wait_for(repository, true)?;
                let ws = self.key(keys::WORKSPACE, Some(&w))?;
                self.wait_for(ws, false)
            }
        }
    }

    /// Draws the id of the operation this transaction records from the `op_id`
    /// sequence and marks it in flight (an advisory lock held until the
    /// transaction ends), both under a short session lock, so that whoever draws
    /// a later id finds every earlier one marked until it ends.
    pub(crate) fn draw_operation_id(&mut self) -> Result<i64> {
        let db = self.db;
        let draw = self.key(keys::DRAW, None)?;
        db.query("SELECT pg_advisory_lock($1, $2)", &[&draw.0, &draw.1])?;
        let drawn = (|| -> Result<i64> {
            let row = db.query("SELECT nextval('op_id')", &[])?;
            let id: i64 = db.get(&row[0], 0)?;
            db.query(
                &format!(
                    "SELECT pg_advisory_xact_lock(({}), ($1::bigint & 2147483647)::int4)",
                    keys::OPERATION.trim_start_matches("SELECT ")
                ),
                &[&id],
            )?;
            Ok(id)
        })();
        let unlocked = db.query("SELECT pg_advisory_unlock($1, $2)", &[&draw.0, &draw.1]);
        let id = drawn?;
        unlocked?;
        self.op = Some(id);
        Ok(id)
    }

    /// Waits until every operation with an id below this transaction's has
    /// committed or rolled back, so that operation ids follow commit order (a
    /// reader that sees operation N sees every operation before it). Without an
    /// operation, or holding the repository-wide lock, there is none in flight.
    fn wait_for_earlier_operations(&self) -> Result<()> {
        let (Some(op), Scope::Workspace(_)) = (self.op, &self.scope) else {
            return Ok(());
        };
        let db = self.db;
        // Operations commit in id order, so every id up to the last committed one
        // (or the pruned ones) has ended.
        let row = db.query(
            "SELECT greatest(coalesce((SELECT max(id) FROM op WHERE id < $1), 0),
                             coalesce((SELECT value::bigint FROM meta WHERE key = 'pruned_through'), 0))",
            &[&op],
        )?;
        let ended: i64 = db.get(&row[0], 0)?;
        if ended + 1 >= op {
            return Ok(());
        }
        let class = {
            let row = db.query(keys::OPERATION, &[])?;
            db.get::<i32>(&row[0], 0)?
        };
        // Session locks, each released at once: a wait, holding nothing.
        db.query(
            "SELECT count(pg_advisory_unlock_shared($1, x)) FROM
               (SELECT (g & 2147483647)::int4 AS x,
                       pg_advisory_lock_shared($1, (g & 2147483647)::int4) AS l
                FROM generate_series($2::bigint, $3::bigint) AS g OFFSET 0) AS w",
            &[&class, &(ended + 1), &(op - 1)],
        )?;
        Ok(())
    }

    /// Before a transaction of one workspace registers a namespace or node type:
    /// waits for the earlier operations to end and takes the registry lock (once).
    pub(crate) fn lock_registry(&mut self) -> Result<()> {
        if self.registry_locked || self.scope == Scope::Repository {
            return Ok(());
        }
        self.wait_for_earlier_operations()?;
        let key = self.key(keys::REGISTRY, None)?;
        self.db
            .query("SELECT pg_advisory_xact_lock($1, $2)", &[&key.0, &key.1])?;
        self.registry_locked = true;
        Ok(())
    }

    /// The workspace this transaction is limited to, if any.
    pub(crate) fn scoped_workspace(&self) -> Option<&str> {
        match &self.scope {
            Scope::Workspace(w) => Some(w),
            Scope::Repository => None,
        }
    }

    fn finish(&mut self, sql: &str) -> Result<()> {
        let mut c = self.db.lock()?;
        let c = &mut *c;
        c.cache_on = false;
        c.cache.clear();
        if sql == "COMMIT" {
            c.flush().map_err(|e| self.db.flush_err(e))?;
        }
        c.bulk.discard();
        // Rows written behind, and what they came to, go with the transaction.
        let _ = c.client.outcome();
        c.run(timeline::Wait::End, |client| client.batch_execute(sql))
            .map_err(|e| self.db.err(e))?;
        c.in_txn = false;
        self.finished = true;
        if sql == "COMMIT" && c.grown >= ANALYZE_ROWS {
            // Best effort, after the install is committed: the statistics of
            // the tables it grew, for the next commands' plans.
            if let Err(e) = c.run(timeline::Wait::AnalyzeAfter, analyze_after) {
                tracing::warn!(
                    "analyzing {} after the install failed (the install is committed): {e}",
                    self.db.location.display()
                );
            }
        }
        tracing::debug!(
            "{} of {}: {}",
            sql,
            self.db.location.display(),
            c.timeline_summary()
        );
        c.reset_growth();
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
            let _ = c.client.outcome();
            if let Err(e) = c.client.get().batch_execute("ROLLBACK") {
                tracing::warn!("rolling back in {} failed: {e}", self.db.location.display());
            }
            c.in_txn = false;
        }
    }
}

impl BackendTxn for PgTxn<'_> {
    fn finish_operation(&mut self, op: super::OperationId) -> Result<()> {
        let db = self.db;
        db.end_growth()?;
        // The new nodes the operation journaled already (with their image)
        // keep their row; when there are none, as in most installs, the rows
        // go in without the per-row conflict check of `ON CONFLICT`.
        let range = [&op.0 as &(dyn ToSql + Sync), &self.first_id, &self.next_id];
        let journaled = db.query(
            "SELECT EXISTS (SELECT 1 FROM jnode WHERE op = $1 AND node >= $2 AND node < $3)",
            &range,
        )?;
        let on_conflict = if db.get(&journaled[0], 0)? {
            "ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        db.execute(
            &format!(
                "INSERT INTO jnode(op, node, ws, path, existed)
                 SELECT $1, id, ws, path, false FROM node
                 WHERE id >= $2 AND id < $3 AND parent IS NOT NULL {on_conflict}"
            ),
            &range,
        )?;
        db.execute(
            "UPDATE op SET nodes = (SELECT count(*) FROM jnode WHERE op = $1),
                           props = (SELECT count(*) FROM jprop WHERE op = $1)
                                 + (SELECT count(*) FROM prop WHERE node >= $2 AND node < $3),
                           regs = (SELECT count(*) FROM jreg WHERE op = $1)
             WHERE id = $1",
            &range,
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
        self.wait_for_earlier_operations()?;
        self.finish("COMMIT")
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.finish("ROLLBACK")
    }
}
