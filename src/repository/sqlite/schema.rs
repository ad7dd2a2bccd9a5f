//! The database schema and connection settings.
//!
//! * `node` holds every node of every workspace. `path` is the node's standard-form
//!   path, so a subtree is a range `path >= 'p/' AND path < 'p0'` on the
//!   `(ws, path)` index (a `LIKE` would not use it); `(parent, position)` orders
//!   children. Positions are spaced [`GAP`](crate::repository::journaled::GAP)
//!   apart so that inserting or moving a node
//!   between two siblings rarely renumbers the others. Ids are never reused (the
//!   journal refers to removed nodes by id), so they come from `meta.next_node_id`.
//! * `prop` holds properties keyed by (node, name); `jcr:uuid` values are indexed.
//! * `namespace` and `nodetype` are the repository-wide registries.
//! * `op`, `jnode`, `jprop` and `jreg` are the journal: operations and the
//!   before-images of the nodes, properties and registrations (namespaces, node
//!   types, workspaces) each touched. Operation ids are never reused:
//!   `meta.pruned_through` keeps the last id that pruning dropped.
//!   `jnode` has no index on `(ws, path)`: nothing looks an image up by path
//!   (conflict checks compare two operations' images as sets), and at a million
//!   created nodes that index was 112 MiB and close to half the instructions of
//!   the journal's write. Repositories made before keep theirs, which costs only
//!   its writes: both kinds read and write the same, so the version stays.
//! * `meta.generation` is a random 128-bit token that every committed write
//!   transaction replaces (the commit of `backend`, and `gc`), so that a backup
//!   can tell that the repository has not changed since an earlier one (see
//!   `image`). Schema version 2 added it; [`migrate`] brings a version 1
//!   repository up when it is opened, and a jcrpack that knows only version 1
//!   refuses the migrated repository instead of writing without replacing it.
//! * `aggregate` holds the importer's aggregate digests by node (see
//!   [`ContentTxn::set_aggregate_digest`](crate::repository::content::ContentTxn::set_aggregate_digest)).
//!   Schema version 3 added it: a jcrpack that knows only version 2 would write
//!   without clearing digests, so it must refuse a version 3 repository, and
//!   [`migrate`] brings versions 1 and 2 up.
//! * `jcreated` keeps, per operation, the range of node ids it handed out (ids
//!   only grow, and one write transaction at a time holds `meta.next_node_id`):
//!   the nodes it created are the rows of `node` in that range (workspace roots
//!   aside) plus the `jnode` rows that say "did not exist" (see `journal`).
//!   Schema version 4 added it instead of a `jnode` row per created node (issue
//!   16: 132 of 654 MiB at a million nodes); [`migrate`] adds it to versions 1
//!   to 3, whose per-node rows stay as they are and read the same, and a jcrpack
//!   that knows only version 3 refuses a version 4 repository, which it would
//!   read without the nodes the range stands for and write without freezing them.

use rusqlite::Connection;

/// The value of `meta.format`, which marks a database as a jcrpack repository.
pub const FORMAT: &str = "jcrpack-repository";

/// The schema version this code reads and writes.
pub const VERSION: &str = "4";

/// The schema versions of images (backups) this code still reads: version 1 lacks
/// the generation token, version 2 the `aggregate` table (an image without it has
/// no digests, so nothing is skipped), version 3 the `jcreated` table (an image
/// without it gets an empty one of its own: [`CREATED_TABLE_TEMP`]).
pub const READABLE_VERSIONS: [&str; 4] = ["1", "2", "3", "4"];

/// The statement that gives the repository a new generation token; every write
/// transaction runs it just before it commits.
pub const NEW_GENERATION: &str =
    "UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'generation'";

/// The statement that adds the `aggregate` table (schema version 3).
pub const AGGREGATE_TABLE: &str =
    "CREATE TABLE aggregate(node INTEGER PRIMARY KEY, digest BLOB NOT NULL);";

/// The statements that add the `jcreated` table (schema version 4). The index on
/// `hi` finds the one range a node id can lie in (ranges never overlap).
pub const CREATED_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS jcreated(op INTEGER PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
     CREATE INDEX IF NOT EXISTS jcreated_hi ON jcreated(hi);";

/// An empty `jcreated` for the read-only connection of an image without one
/// (older than version 4; its temporary schema is writable), so that one set of
/// statements reads every version: such an image keeps a `jnode` row per created
/// node.
pub const CREATED_TABLE_TEMP: &str =
    "CREATE TEMP TABLE jcreated(op INTEGER PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL);";

/// Brings a repository of schema version 1, 2 or 3 to version 4, in one short
/// write transaction, if no other process did meanwhile: adds the generation
/// token and drops the triggers that kept one in version 1 repositories that were
/// backed up (from version 1), adds the `aggregate` table (from versions 1 and
/// 2) and the `jcreated` table. Returns whether it migrated.
pub fn migrate(conn: &Connection) -> rusqlite::Result<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let run = || -> rusqlite::Result<bool> {
        let version: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
                r.get(0)
            })?;
        if !["1", "2", "3"].contains(&version.as_str()) {
            return Ok(false);
        }
        if version == "1" {
            conn.execute_batch(
                "DROP TRIGGER IF EXISTS generation_on_insert;
                 DROP TRIGGER IF EXISTS generation_on_update;
                 INSERT OR REPLACE INTO meta(key, value)
                   VALUES ('generation', lower(hex(randomblob(16))));",
            )?;
        }
        if version != "3" {
            // A table left by a jcrpack of version 3 whose repository was stamped
            // back holds digests nobody kept current: start it empty, so nothing is
            // skipped on their word.
            conn.execute_batch("DROP TABLE IF EXISTS aggregate;")?;
            conn.execute_batch(AGGREGATE_TABLE)?;
        }
        // A repository of version 4 stamped back keeps its ranges: no jcrpack that
        // knows only an older version can have written to it (it refuses version 4).
        conn.execute_batch(CREATED_TABLE)?;
        conn.execute_batch("UPDATE meta SET value = '4' WHERE key = 'version';")?;
        Ok(true)
    };
    match run() {
        Ok(done) => {
            conn.execute_batch("COMMIT")?;
            Ok(done)
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(e)
        }
    }
}

/// The database file inside a repository folder.
pub const DB_FILE: &str = "repository.db";

/// Tables and indexes, created once by `init`.
pub const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE workspace(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE node(
  id INTEGER PRIMARY KEY,
  ws INTEGER NOT NULL,
  parent INTEGER,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  path TEXT NOT NULL,
  ptype TEXT NOT NULL,
  mixins TEXT NOT NULL
);
CREATE UNIQUE INDEX node_path ON node(ws, path);
CREATE INDEX node_children ON node(parent, position);
CREATE TABLE prop(
  node INTEGER NOT NULL,
  name TEXT NOT NULL,
  type INTEGER NOT NULL,
  multiple INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(node, name)
) WITHOUT ROWID;
CREATE INDEX prop_uuid ON prop(value) WHERE name = 'jcr:uuid';
CREATE TABLE namespace(prefix TEXT PRIMARY KEY, uri TEXT NOT NULL UNIQUE) WITHOUT ROWID;
CREATE TABLE nodetype(name TEXT PRIMARY KEY, cnd TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE op(
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  user TEXT NOT NULL,
  description TEXT NOT NULL,
  install_id TEXT,
  package_id TEXT,
  options TEXT NOT NULL,
  undoes INTEGER,
  nodes INTEGER NOT NULL DEFAULT 0,
  props INTEGER NOT NULL DEFAULT 0,
  regs INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE jnode(
  op INTEGER NOT NULL,
  node INTEGER NOT NULL,
  ws INTEGER NOT NULL,
  path TEXT NOT NULL,
  existed INTEGER NOT NULL,
  parent INTEGER,
  name TEXT,
  position INTEGER,
  ptype TEXT,
  mixins TEXT,
  PRIMARY KEY(op, node)
) WITHOUT ROWID;
CREATE INDEX jnode_node ON jnode(node);
CREATE TABLE jprop(
  op INTEGER NOT NULL,
  node INTEGER NOT NULL,
  name TEXT NOT NULL,
  ws INTEGER NOT NULL,
  path TEXT NOT NULL,
  existed INTEGER NOT NULL,
  type INTEGER,
  multiple INTEGER,
  value TEXT,
  PRIMARY KEY(op, node, name)
) WITHOUT ROWID;
CREATE INDEX jprop_node ON jprop(node, name);
CREATE TABLE jreg(
  op INTEGER NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  existed INTEGER NOT NULL,
  value TEXT,
  PRIMARY KEY(op, kind, key)
) WITHOUT ROWID;
CREATE INDEX jreg_key ON jreg(kind, key);
CREATE TABLE aggregate(node INTEGER PRIMARY KEY, digest BLOB NOT NULL);
CREATE TABLE jcreated(op INTEGER PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
CREATE INDEX jcreated_hi ON jcreated(hi);
";

/// Per-connection settings: WAL (readers never wait for the writer),
/// `synchronous=NORMAL` (durable at checkpoints, consistent always), a 4 MiB page
/// cache (it was 24 MiB, then 8: issue 16, every command under 100 MiB at a million
/// nodes; the importer keeps the rows it reads again in a cache of its own),
/// temporary tables in memory, and the query planner stability guarantee:
/// the bundled SQLite has STAT4, which otherwise re-prepares every cached statement
/// whose range bounds (`path > ?`) get new values, costing most of an insert.
///
/// The switch to WAL does not wait: while another connection bulk loads the
/// repository through a rollback journal (module `bulk`), it is refused, and this
/// connection reads in that mode (waiting for that commit); the next connection
/// opened switches the database back. This leaves the connection without a busy
/// timeout: the caller sets its own.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.busy_timeout(std::time::Duration::ZERO)?;
    match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
        Ok(_) => {}
        Err(e) if super::bulk::is_busy(&e) => {
            tracing::debug!("the database stays in its rollback journal for now ({e})")
        }
        Err(e) => return Err(e),
    }
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL;
         PRAGMA foreign_keys=OFF;
         PRAGMA cache_size=-4096;
         PRAGMA temp_store=MEMORY;",
    )?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// The settings of a scratch repository's connection, after [`configure`]: no WAL
/// (the rollback journal in memory: pages the transaction adds to an empty
/// database go to the file once, not to the WAL and then the file) and no sync.
pub fn unsynced(conn: &Connection) -> rusqlite::Result<()> {
    let _mode: String = conn.query_row("PRAGMA journal_mode=MEMORY", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous=OFF;")
}
