//! The embedded backend: one SQLite database (WAL) plus the blob folder.
//!
//! [`SqliteStore`] owns one connection. Reads run on it directly; writes go through
//! a [`Transaction`](super::Transaction) that holds SQLite's write lock from
//! `BEGIN IMMEDIATE` to `COMMIT`, so a second writer waits up to the busy timeout
//! and then gets [`RepositoryError::RepositoryBusy`], while readers in other
//! processes keep reading the last committed state. A crash loses the running
//! transaction and nothing else.
//!
//! It implements only the primitives of a content store and an operation log
//! (`backend`), both over this one database so that content and journal commit
//! together; the journaled layer ([`crate::repository::journaled`]) above them
//! checks arguments, captures before-images, and undoes, as for every backend.
//!
//! Files: `schema` (tables and settings), `codec` (column encodings), `read`
//! (queries), `walk` (subtree iteration), `snapshot` (bulk reads for export),
//! `tree` (paths and same-name siblings), `txn` (transactions and node ids),
//! `write` (row-level writes), `journal` (the journal tables), `backend` (the
//! primitives), `image` (images of the database for backups), `image_vfs` (an
//! image read on demand from its pieces).

mod backend;
mod bulk;
mod cache;
pub(crate) mod codec;
mod gc;
mod image;
mod image_survey;
pub(crate) use image::{create_image, finish_image, IMAGE_META};
mod image_vfs;
pub use image_vfs::ImageSource;
mod journal;
mod props_ahead;
mod read;
mod schema;
mod snapshot;
mod tree;
mod txn;
mod walk;
mod write;

#[cfg(test)]
mod tests;

use super::blob::{BlobStore, Keeping};
use super::journaled::JournaledTxn;
use super::{
    OperationDetail, OperationId, OperationMeta, OperationSummary, RepositoryError, Result, Store,
    StoreRead, SubtreeWalk, Transaction,
};
use crate::namespace::NamespaceRegistry;
use crate::value::{Binary, Property};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use backend::SqliteBackend;
pub use gc::BACKUP_MARKER_PREFIX;
pub use image::{DirectImage, IMAGE_FILE};
/// The settings every connection to a repository gets (WAL, page cache, planner):
/// public so that a baseline (examples/sqlite_baseline.rs) measures the same.
pub use schema::configure;
pub use schema::DB_FILE;

pub use crate::repository::location::OpenOptions;

/// A repository in a folder, backed by SQLite.
pub struct SqliteStore {
    root: PathBuf,
    conn: Connection,
    blobs: BlobStore,
    busy_timeout: Duration,
    /// `Some` for a scratch repository ([`SqliteStore::init_scratch`]).
    scratch: Option<Scratch>,
    /// [`OpenOptions::bulk_load`] (never for a scratch repository, whose journal
    /// is in memory): see module `bulk`.
    bulk_load: bool,
}

/// What a scratch repository keeps ([`SqliteStore::init_scratch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scratch {
    /// Every binary's bytes: for a reader of binaries (a system view dump).
    BlobBytes,
    /// Only each binary's digest and size: reading a binary back fails as not
    /// found (see [`Keeping::DigestsOnly`]).
    Digests,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("root", &self.root)
            .finish()
    }
}

/// The borrowed parts of a store that queries need.
#[derive(Clone, Copy)]
pub(crate) struct Db<'c> {
    pub conn: &'c Connection,
    pub root: &'c Path,
    pub blobs: &'c BlobStore,
    pub busy: Duration,
}

impl<'c> Db<'c> {
    /// Maps an SQLite error, recognizing a held lock.
    pub fn err(&self, e: rusqlite::Error) -> RepositoryError {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::DatabaseBusy {
                return RepositoryError::RepositoryBusy {
                    repository: self.root.to_path_buf(),
                    waited: self.busy,
                };
            }
        }
        RepositoryError::Database {
            repository: self.root.to_path_buf(),
            source: e,
        }
    }

    /// An error for stored data that cannot be read back.
    pub fn corrupt(&self, detail: impl Into<String>) -> RepositoryError {
        RepositoryError::Corrupt {
            repository: self.root.to_path_buf(),
            detail: detail.into(),
        }
    }
}

fn io_err(path: &Path, source: std::io::Error) -> RepositoryError {
    RepositoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The longest busy timeout SQLite accepts without overflow (a day is plenty).
const MAX_BUSY: Duration = Duration::from_secs(86_400);

impl SqliteStore {
    /// Creates a repository in folder `path` (created if missing; it must not already
    /// hold a repository) whose workspace `default` has only the root node.
    pub fn init(path: &Path) -> Result<SqliteStore> {
        SqliteStore::init_with(path, &OpenOptions::default())
    }

    /// Creates a scratch repository in folder `path`, as [`SqliteStore::init`] does,
    /// for a command that reads it once and removes it (`dump PACKAGE`). It skips
    /// what such a reader cannot observe: nothing is made durable (SQLite's rollback
    /// journal in memory instead of the WAL, `synchronous=OFF`, no sync of blobs),
    /// operations are not recorded (no journal rows: nothing to undo or list in the
    /// history), and with [`Scratch::Digests`] no binary's bytes are stored.
    /// Transactions still apply wholly or not at all while the process lives.
    pub fn init_scratch(path: &Path, scratch: Scratch) -> Result<SqliteStore> {
        SqliteStore::create(path, &OpenOptions::default(), Some(scratch))
    }

    /// [`SqliteStore::init`] with options.
    pub fn init_with(path: &Path, options: &OpenOptions) -> Result<SqliteStore> {
        SqliteStore::create(path, options, None)
    }

    fn create(path: &Path, options: &OpenOptions, scratch: Option<Scratch>) -> Result<SqliteStore> {
        let db_path = path.join(DB_FILE);
        if db_path.exists() {
            return Err(RepositoryError::AlreadyExists {
                path: path.to_path_buf(),
                reason: format!("{DB_FILE} exists"),
            });
        }
        std::fs::create_dir_all(path.join("blobs")).map_err(|e| io_err(path, e))?;
        let conn = Connection::open_with_flags(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| RepositoryError::Database {
            repository: path.to_path_buf(),
            source: e,
        })?;
        let mut store = SqliteStore::with_connection(path, conn, options, scratch)?;
        store.create_schema()?;
        Ok(store)
    }

    /// Opens the repository in folder `path`. A folder without a repository database,
    /// or with a database that is not a jcrpack repository, is
    /// [`RepositoryError::NotARepository`].
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, &OpenOptions::default())
    }

    /// [`SqliteStore::open`] with options.
    pub fn open_with(path: &Path, options: &OpenOptions) -> Result<SqliteStore> {
        let not_repo = |reason: String| RepositoryError::NotARepository {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_dir() {
            return Err(not_repo("no such folder".into()));
        }
        let db_path = path.join(DB_FILE);
        if !db_path.is_file() {
            return Err(not_repo(format!(
                "it has no {DB_FILE} (create a repository with init)"
            )));
        }
        let conn = Connection::open_with_flags(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| not_repo(format!("{DB_FILE} cannot be opened: {e}")))?;
        let format: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| not_repo(format!("{DB_FILE} is not a repository database: {e}")))?;
        if format.as_deref() != Some(schema::FORMAT) {
            return Err(not_repo(format!("{DB_FILE} is not a repository database")));
        }
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| not_repo(e.to_string()))?;
        if matches!(version.as_deref(), Some("1") | Some("2") | Some("3")) {
            // Schema versions 1 to 3: migrated in one short write transaction, waiting for
            // another process's write lock as a writer would.
            conn.busy_timeout(options.busy_timeout.min(MAX_BUSY))
                .map_err(|e| not_repo(e.to_string()))?;
            schema::migrate(&conn).map_err(|e| {
                Db {
                    conn: &conn,
                    root: path,
                    blobs: &BlobStore::new(path),
                    busy: options.busy_timeout.min(MAX_BUSY),
                }
                .err(e)
            })?;
        } else if version.as_deref() != Some(schema::VERSION) {
            return Err(not_repo(format!(
                "schema version {} is not the supported version {}",
                version.unwrap_or_default(),
                schema::VERSION
            )));
        }
        if !path.join("blobs").is_dir() {
            return Err(not_repo("its blobs folder is missing".into()));
        }
        SqliteStore::with_connection(path, conn, options, None)
    }

    fn with_connection(
        path: &Path,
        conn: Connection,
        options: &OpenOptions,
        scratch: Option<Scratch>,
    ) -> Result<SqliteStore> {
        let busy = options.busy_timeout.min(MAX_BUSY);
        let keeping = match scratch {
            None => Keeping::Durable,
            Some(Scratch::BlobBytes) => Keeping::Unsynced,
            Some(Scratch::Digests) => Keeping::DigestsOnly,
        };
        let store = SqliteStore {
            root: path.to_path_buf(),
            blobs: BlobStore::keeping(path, keeping),
            conn,
            busy_timeout: busy,
            scratch,
            bulk_load: options.bulk_load && scratch.is_none(),
        };
        let db = store.db();
        schema::configure(&store.conn).map_err(|e| db.err(e))?;
        store.conn.busy_timeout(busy).map_err(|e| db.err(e))?;
        if scratch.is_some() {
            schema::unsynced(&store.conn).map_err(|e| db.err(e))?;
        }
        Ok(store)
    }

    fn create_schema(&mut self) -> Result<()> {
        let db = self.db();
        let run = || -> rusqlite::Result<()> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.conn.execute_batch(schema::SCHEMA)?;
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('format', ?1), ('version', ?2), ('next_node_id', '1'),
                   ('generation', lower(hex(randomblob(16))))",
                rusqlite::params![schema::FORMAT, schema::VERSION],
            )?;
            for (p, u) in crate::namespace::BUILT_IN {
                self.conn.execute(
                    "INSERT INTO namespace(prefix, uri) VALUES (?1, ?2)",
                    rusqlite::params![p, u],
                )?;
            }
            self.conn.execute_batch("COMMIT")
        };
        if let Err(e) = run() {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            return Err(db.err(e));
        }
        let mut t = self.begin("create the default workspace")?;
        t.create_workspace(super::DEFAULT_WORKSPACE)?;
        t.commit()?;
        Ok(())
    }

    pub(crate) fn db(&self) -> Db<'_> {
        Db {
            conn: &self.conn,
            root: &self.root,
            blobs: &self.blobs,
            busy: self.busy_timeout,
        }
    }
}

impl StoreRead for SqliteStore {
    fn location(&self) -> &Path {
        &self.root
    }

    fn workspaces(&self) -> Result<Vec<String>> {
        self.db().workspaces()
    }

    fn node(&self, workspace: &str, path: &str) -> Result<Option<super::NodeInfo>> {
        self.db().node_info(workspace, path)
    }

    fn children(&self, workspace: &str, path: &str) -> Result<Vec<super::NodeInfo>> {
        self.db().children(workspace, path)
    }

    fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>> {
        self.db().properties(workspace, path)
    }

    fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>> {
        self.db().property(workspace, path, name)
    }

    fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
        self.db().find_by_uuid(workspace, uuid)
    }

    fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>> {
        Ok(Box::new(walk::SqliteWalk::start(
            self.db(),
            workspace,
            path,
        )?))
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

    fn history(&self) -> Result<Vec<OperationSummary>> {
        self.db().history()
    }

    fn operation(&self, id: OperationId) -> Result<OperationDetail> {
        super::journaled::read::operation(self, self, id)
    }

    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
        self.blobs.put(data)
    }

    fn put_hashed_blob(&self, data: &super::blob::HashedBytes) -> Result<Binary> {
        self.blobs.put_hashed(data)
    }

    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        self.blobs.open(sha256)
    }

    fn snapshot<'a>(
        &'a self,
        workspace: &str,
    ) -> Result<Option<Box<dyn super::SnapshotRead + 'a>>> {
        Ok(Some(Box::new(snapshot::SqliteSnapshot::start(
            self.db(),
            workspace,
        )?)))
    }
}

impl Store for SqliteStore {
    fn take_image(
        &self,
        dest: &Path,
        blob_list: &mut dyn std::io::Write,
        options: &super::ImageOptions,
        events: &dyn crate::events::Events,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<super::ImageInfo> {
        self.take_image_to(dest, blob_list, options, events, cancel)
    }

    fn begin(&mut self, description: &str) -> Result<Box<dyn Transaction + '_>> {
        let inner = txn::SqliteTxn::begin(self, description)?;
        Ok(Box::new(JournaledTxn::new(
            Box::new(inner),
            description,
            None,
        )?))
    }

    fn prune_history(
        &mut self,
        select: super::PruneSelect,
        dry_run: bool,
    ) -> Result<super::PruneReport> {
        let inner = txn::SqliteTxn::begin(self, "prune the history")?;
        super::journaled::prune(Box::new(inner), select, dry_run)
    }

    fn gc(&mut self, dry_run: bool) -> Result<super::GcReport> {
        self.collect_garbage(dry_run)
    }

    fn begin_operation(&mut self, meta: OperationMeta) -> Result<Box<dyn Transaction + '_>> {
        let description = meta.description.clone();
        // A scratch repository records no operation (see `init_scratch`).
        let meta = Some(meta).filter(|_| self.scratch.is_none());
        let inner = txn::SqliteTxn::begin(self, &description)?;
        Ok(Box::new(JournaledTxn::new(
            Box::new(inner),
            &description,
            meta,
        )?))
    }
}
