//! The image step of `jcrpack backup create` on SQLite, and opening an image
//! read-only.
//!
//! # One point in time, taken hot
//!
//! A backup of the whole repository reads its pages straight from the database
//! file under one read snapshot that the file is known to hold
//! ([`SqliteStore::read_image`], which says why that is sound). The image step
//! below ([`SqliteStore::take_image_to`]) serves a choice of workspaces, and any
//! snapshot the direct read could not get: the image is copied page by page with SQLite's online backup API, in steps (so
//! that a rate limit and cancellation can act between them), all inside **one read
//! transaction** held on the source connection from before the first step to after
//! the last. In WAL mode a reader never blocks writers and writers never block it:
//! other processes keep installing while the copy runs, their commits go to the WAL
//! and stay invisible to the held snapshot, and the backup never restarts (a step
//! only restarts the copy when the source changes under it, which a held read
//! snapshot rules out; the test `steps_keep_one_snapshot_while_another_connection_writes`
//! checks this). No write lock is ever taken. `VACUUM INTO` would also read one
//! snapshot, but rebuilds every table and index instead of copying pages, which
//! costs several times a file copy on a large repository.
//!
//! After the copy, the image (now a private file) is switched to a rollback journal
//! so that it can be opened read-only without a `-shm` file, cut down to the chosen
//! workspaces when asked, counted, and listed: every blob its properties and its
//! journal's before-images refer to, one `sha256 size` line each, sorted, distinct.
//!
//! # The generation token
//!
//! A backup catalogue skips copying the image when the repository has provably not
//! changed since its last backup. For that the schema (version 2) keeps
//! `meta.generation`: a random 128-bit token that the commit of every write
//! transaction replaces (the SQLite backend's commit, under the journaled layer:
//! installs, `rm`, `load`, undo, restore, workspace changes, history pruning; and
//! `gc`), so any committed change gives the repository a new token, never seen
//! before, and a copy of a repository that diverges from the original gets tokens
//! of its own. A token read from an image is the token of the snapshot it was
//! copied from. Version 1 repositories are migrated when opened (`schema`); their
//! backups' images (without a token, or with one kept by triggers on `meta`) are
//! still read.

use super::image_survey::{survey, Survey};
use super::schema::{self, DB_FILE};
use super::SqliteStore;
use crate::events::{Event, Events, Unit};
use crate::repository::blob::BlobStore;
use crate::repository::image::{ImageInfo, ImageOptions};
use crate::repository::{RepositoryError, Result};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Pages copied per step when no rate limit applies (4 MiB at 4 KiB pages): large
/// enough that the per-step overhead vanishes, small enough that cancellation is
/// noticed within a few milliseconds.
const UNTHROTTLED_PAGES: i32 = 1024;

/// Steps per second under a rate limit.
const THROTTLED_STEPS_PER_SECOND: u64 = 20;

/// Ends the read transaction the image holds on the source connection, however the
/// copy ends.
struct ReadSnapshot<'c>(&'c Connection);

impl Drop for ReadSnapshot<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            let _ = self.0.execute_batch("COMMIT");
        }
    }
}

impl SqliteStore {
    /// Writes an image of the repository to the new file `dest` and the list of the
    /// blobs it refers to to `blob_list`; see the module doc.
    ///
    /// `dest` must not exist. On error or cancellation `dest` may be left partly
    /// written: the caller removes it.
    pub fn take_image_to(
        &self,
        dest: &Path,
        blob_list: &mut dyn Write,
        options: &ImageOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<ImageInfo> {
        let db = self.db();
        if dest.exists() {
            return Err(RepositoryError::AlreadyExists {
                path: dest.to_path_buf(),
                reason: "the image file exists".into(),
            });
        }
        if !self.conn.is_autocommit() {
            return Err(db.corrupt("an image cannot be taken inside a transaction"));
        }
        let dest_err = |e: rusqlite::Error| RepositoryError::Database {
            repository: dest.to_path_buf(),
            source: e,
        };
        let mut out = Connection::open_with_flags(
            dest,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(dest_err)?;
        {
            // The snapshot: BEGIN is deferred, the first read starts it.
            self.conn.execute_batch("BEGIN").map_err(|e| db.err(e))?;
            let _snapshot = ReadSnapshot(&self.conn);
            let _: i64 = self
                .conn
                .query_row("SELECT count(*) FROM meta", [], |r| r.get(0))
                .map_err(|e| db.err(e))?;
            let page_size: i64 = self
                .conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(|e| db.err(e))?;
            let page_size = page_size.max(512) as u64;
            let pages_per_step = match options.max_rate {
                Some(rate) => (rate / THROTTLED_STEPS_PER_SECOND / page_size)
                    .clamp(1, UNTHROTTLED_PAGES as u64) as i32,
                None => UNTHROTTLED_PAGES,
            };
            let backup = Backup::new(&self.conn, &mut out).map_err(dest_err)?;
            let started = Instant::now();
            let mut announced = false;
            let mut done_pages: u64 = 0;
            loop {
                if cancel.load(Ordering::Relaxed) {
                    return Err(RepositoryError::Cancelled {
                        repository: self.root.clone(),
                    });
                }
                let step = backup.step(pages_per_step).map_err(|e| db.err(e))?;
                let p = backup.progress();
                let total = p.pagecount.max(0) as u64;
                let copied = total.saturating_sub(p.remaining.max(0) as u64);
                if !announced {
                    events.event(&Event::Phase {
                        name: "copying the database",
                        total: Some(total * page_size),
                        unit: Unit::Bytes,
                    });
                    announced = true;
                }
                if copied > done_pages {
                    events.event(&Event::Advance {
                        amount: (copied - done_pages) * page_size,
                    });
                    done_pages = copied;
                }
                match step {
                    StepResult::Done => break,
                    StepResult::More => {}
                    // The destination is private and the source is only read: a
                    // busy or locked step is a moment's wait.
                    _ => std::thread::sleep(Duration::from_millis(5)),
                }
                if let Some(rate) = options.max_rate.filter(|r| *r > 0) {
                    let due =
                        Duration::from_secs_f64((done_pages * page_size) as f64 / rate as f64);
                    let spent = started.elapsed();
                    if due > spent {
                        sleep_cancellable(due - spent, cancel);
                    }
                }
            }
        }
        out.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get::<_, String>(0))
            .map_err(dest_err)?;
        let format: Option<String> = out
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(dest_err)?;
        if format.as_deref() != Some(schema::FORMAT) {
            return Err(db.corrupt("the copied image is not a repository database"));
        }
        finish_image(out, dest, blob_list, options, events, cancel, &self.root)
    }

    /// Opens the image `db_file` (as written by [`SqliteStore::take_image_to`])
    /// read-only, with its blobs in `blob_root/blobs` (a repository folder or a
    /// backup catalogue). Every write fails; an image of an unknown or newer schema
    /// is [`RepositoryError::NotARepository`].
    pub fn open_image(db_file: &Path, blob_root: &Path) -> Result<SqliteStore> {
        let not_repo = |reason: String| RepositoryError::NotARepository {
            path: db_file.to_path_buf(),
            reason,
        };
        if !db_file.is_file() {
            return Err(not_repo("no such file".into()));
        }
        let conn = Connection::open_with_flags(
            db_file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| not_repo(format!("it cannot be opened: {e}")))?;
        let root = db_file.parent().unwrap_or(db_file).to_path_buf();
        SqliteStore::image_store(conn, db_file, root, blob_root)
    }

    /// [`SqliteStore::open_image`] over an image read on demand from `source`
    /// (see `image_vfs`): only the pages its queries touch are read. Nothing is
    /// written; `location` names the image in messages and is the store's
    /// [`StoreRead::location`](crate::repository::StoreRead::location).
    pub fn open_image_from(
        location: &Path,
        source: std::sync::Arc<dyn super::ImageSource>,
        blob_root: &Path,
    ) -> Result<SqliteStore> {
        let conn = super::image_vfs::open(source).map_err(|e| RepositoryError::NotARepository {
            path: location.to_path_buf(),
            reason: format!("it cannot be opened: {e}"),
        })?;
        SqliteStore::image_store(conn, location, location.to_path_buf(), blob_root)
    }

    /// The checks and settings of an opened image's connection `conn` (the image
    /// `db_file`, in folder `root`).
    fn image_store(
        conn: Connection,
        db_file: &Path,
        root: PathBuf,
        blob_root: &Path,
    ) -> Result<SqliteStore> {
        let not_repo = |reason: String| RepositoryError::NotARepository {
            path: db_file.to_path_buf(),
            reason,
        };
        let read = |key: &str| -> Result<Option<String>> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|e| not_repo(format!("it is not a repository database: {e}")))
        };
        if read("format")?.as_deref() != Some(schema::FORMAT) {
            return Err(not_repo("it is not a repository database".into()));
        }
        let version = read("version")?.unwrap_or_default();
        if !schema::READABLE_VERSIONS.contains(&version.as_str()) {
            let newer = version.parse::<u64>().ok() > schema::VERSION.parse::<u64>().ok();
            return Err(not_repo(if newer {
                format!(
                    "its schema version {version} is newer than this jcrpack reads ({}); use a newer jcrpack",
                    schema::VERSION
                )
            } else {
                format!(
                    "schema version {version} is not the supported version {}",
                    schema::VERSION
                )
            }));
        }
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(|e| not_repo(e.to_string()))?;
        conn.execute_batch("PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY;")
            .map_err(|e| not_repo(e.to_string()))?;
        let ranges: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'jcreated')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| not_repo(e.to_string()))?;
        if !ranges {
            conn.execute_batch(schema::CREATED_TABLE_TEMP)
                .map_err(|e| not_repo(e.to_string()))?;
        }
        conn.set_prepared_statement_cache_capacity(128);
        Ok(SqliteStore {
            root,
            conn,
            blobs: BlobStore::new(blob_root),
            busy_timeout: Duration::from_secs(5),
            scratch: None,
            bulk_load: false,
        })
    }
}

/// How many times [`SqliteStore::read_image`] tries to start a read snapshot that
/// the database file holds whole (a writer committing between the checkpoint and
/// the start of the snapshot spoils one try).
const DIRECT_TRIES: u32 = 8;

/// The main database file of `conn`, read through SQLite's own handle of it (the
/// VFS's `xFileSize` and `xRead`), so that no other descriptor of the file is ever
/// opened: closing one would drop every POSIX lock this process holds on the file,
/// SQLite's included, and another process could then take the database as its
/// own and checkpoint it under the snapshot.
struct DbFile<'c> {
    file: *mut rusqlite::ffi::sqlite3_file,
    _conn: &'c Connection,
}

impl<'c> DbFile<'c> {
    fn of(conn: &'c Connection) -> Option<DbFile<'c>> {
        use rusqlite::ffi;
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: `conn` is open and used by this thread only (NO_MUTEX);
        // SQLITE_FCNTL_FILE_POINTER writes one pointer to `file`, which stays valid
        // while the connection is open (`_conn` borrows it).
        let rc = unsafe {
            ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&mut file as *mut *mut ffi::sqlite3_file).cast(),
            )
        };
        if rc != ffi::SQLITE_OK || file.is_null() {
            return None;
        }
        // SAFETY: `file` is the connection's open file object.
        let methods = unsafe { (*file).pMethods };
        (!methods.is_null()).then_some(DbFile { file, _conn: conn })
    }

    fn size(&self) -> Option<u64> {
        let mut size: i64 = 0;
        // SAFETY: `file` and its methods are valid (see `of`); xFileSize writes one
        // i64.
        let rc = unsafe {
            let f = (*(*self.file).pMethods).xFileSize?;
            f(self.file, &mut size)
        };
        (rc == rusqlite::ffi::SQLITE_OK && size >= 0).then_some(size as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let n = std::os::raw::c_int::try_from(buf.len())
            .map_err(|_| std::io::Error::other("read too large"))?;
        // SAFETY: as in `size`; xRead writes at most `n` bytes into `buf`.
        let rc = unsafe {
            let f = (*(*self.file).pMethods)
                .xRead
                .ok_or_else(|| std::io::Error::other("the file cannot be read"))?;
            f(self.file, buf.as_mut_ptr().cast(), n, offset as i64)
        };
        if rc == rusqlite::ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "reading {} bytes at {offset} failed (SQLite code {rc})",
                buf.len()
            )))
        }
    }
}

/// Whether the WAL's every frame is in the database file now: a passive checkpoint
/// (which waits for no one) run on `conn`, outside any transaction, reports as
/// many frames checkpointed as the WAL holds.
fn checkpointed(conn: &Connection) -> bool {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    })
    .is_ok_and(|(log, done)| log >= 0 && log == done)
}

/// What [`SqliteStore::read_image`] found besides the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectImage {
    /// Operation, counts, size and blobs of the image.
    pub info: ImageInfo,
    /// The generation token of the snapshot (see the module doc).
    pub generation: Option<String>,
}

impl SqliteStore {
    /// Reads a point-in-time image of the whole repository straight from its
    /// database file, `chunk` bytes at a time (a multiple of 64 KiB), into `sink`,
    /// and the blobs it refers to into `blob_list`, never writing the image
    /// anywhere else; `Ok(None)` when no such read was possible (then nothing was
    /// passed to `sink`, and the caller takes the image with
    /// [`SqliteStore::take_image_to`]).
    ///
    /// # Why the file is the snapshot
    ///
    /// It opens a read transaction on a connection of its own, then checkpoints
    /// the WAL on the store's connection (passively: it waits for no one). When
    /// that checkpoint leaves no frame of the WAL outside the database file, the
    /// snapshot's frames are all in the file too (a snapshot holds no frame past
    /// the WAL's end, and no checkpoint copies a frame past the end of a running
    /// snapshot). While the read transaction lasts, no checkpoint can copy a later
    /// frame into the file: a checkpoint copies only frames every reader's
    /// snapshot holds, and takes the reader lock of a snapshot that ignores the
    /// WAL exclusively before writing the file at all; and SQLite writes the
    /// database file of a WAL database only when it checkpoints. So the first
    /// `page_count` pages of the file are the snapshot, byte for byte, for as long
    /// as the transaction is held; they are read through SQLite's own handle of
    /// the file ([`DbFile`]), and the counts, the blob list and the generation
    /// token in the same transaction. When the checkpoint could not copy every
    /// frame (a writer committed just before the snapshot began, or another
    /// reader held the checkpoint back), the transaction ends and it tries again,
    /// a few times. The write lock is never taken.
    ///
    /// The image's header is switched to a rollback journal (bytes 18 and 19,
    /// what `PRAGMA journal_mode=DELETE` writes), so that it opens read-only
    /// without a `-shm` file.
    #[allow(clippy::too_many_arguments)]
    pub fn read_image<E: From<RepositoryError>>(
        &self,
        chunk: usize,
        sink: &mut dyn FnMut(&[u8]) -> std::result::Result<(), E>,
        blob_list: &mut dyn Write,
        max_rate: Option<u64>,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> std::result::Result<Option<DirectImage>, E> {
        let db = self.db();
        let db_path = self.root.join(DB_FILE);
        let conn = Connection::open_with_flags(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| db.err(e))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(|e| db.err(e))?;
        // A small cache: the pages are read from the file, not through SQLite.
        conn.execute_batch("PRAGMA cache_size=-4096")
            .map_err(|e| db.err(e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") || chunk == 0 || chunk % 65536 != 0 {
            return Ok(None);
        }
        for attempt in 0..DIRECT_TRIES {
            if cancel.load(Ordering::Relaxed) {
                return Err(RepositoryError::Cancelled {
                    repository: self.root.clone(),
                }
                .into());
            }
            if !self.conn.is_autocommit() {
                return Ok(None);
            }
            conn.execute_batch("BEGIN").map_err(|e| db.err(e))?;
            let snapshot = ReadSnapshot(&conn);
            let _: i64 = conn
                .query_row("SELECT count(*) FROM meta", [], |r| r.get(0))
                .map_err(|e| db.err(e))?;
            if checkpointed(&self.conn) {
                let image =
                    self.read_pages(&conn, &db_path, chunk, sink, max_rate, events, cancel)?;
                let Some(bytes) = image else {
                    return Ok(None);
                };
                events.event(&Event::Phase {
                    name: "listing blobs",
                    total: None,
                    unit: Unit::Items,
                });
                let db_err = |e: rusqlite::Error| RepositoryError::Database {
                    repository: self.root.clone(),
                    source: e,
                };
                let last_operation: Option<i64> = conn
                    .query_row("SELECT max(id) FROM op", [], |r| r.get(0))
                    .map_err(db_err)?;
                let generation: Option<String> = conn
                    .query_row(
                        "SELECT value FROM meta WHERE key = ?1",
                        [GENERATION_KEY],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                let Survey {
                    workspaces,
                    blob_count,
                    blob_bytes,
                } = survey(&conn, blob_list, &db_path)?;
                drop(snapshot);
                tracing::info!(
                    "image of {} read straight from its database file ({bytes} bytes, try {})",
                    self.root.display(),
                    attempt + 1
                );
                return Ok(Some(DirectImage {
                    info: ImageInfo {
                        last_operation,
                        workspaces,
                        bytes,
                        blob_count,
                        blob_bytes,
                    },
                    generation,
                }));
            }
            drop(snapshot);
            std::thread::sleep(Duration::from_millis(5 << attempt.min(6)));
        }
        tracing::info!(
            "no snapshot of {} that its database file holds whole after {DIRECT_TRIES} tries",
            self.root.display()
        );
        Ok(None)
    }

    /// Passes the snapshot's pages from the database file to `sink` (see
    /// [`SqliteStore::read_image`]); returns their size, or `None` when the file is
    /// shorter than the snapshot says (then nothing was passed).
    #[allow(clippy::too_many_arguments)]
    fn read_pages<E: From<RepositoryError>>(
        &self,
        conn: &Connection,
        db_path: &Path,
        chunk: usize,
        sink: &mut dyn FnMut(&[u8]) -> std::result::Result<(), E>,
        max_rate: Option<u64>,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> std::result::Result<Option<u64>, E> {
        let db = self.db();
        let page_size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        let page_count: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        let total = (page_size.max(0) as u64) * (page_count.max(0) as u64);
        let Some(file) = DbFile::of(conn) else {
            return Ok(None);
        };
        let len = file.size().unwrap_or(0);
        if total < 100 || len < total || chunk as u64 % page_size.max(1) as u64 != 0 {
            return Ok(None);
        }
        events.event(&Event::Phase {
            name: "copying the database",
            total: Some(total),
            unit: Unit::Bytes,
        });
        let mut buf = vec![0u8; chunk];
        let started = Instant::now();
        let mut done = 0u64;
        while done < total {
            if cancel.load(Ordering::Relaxed) {
                return Err(RepositoryError::Cancelled {
                    repository: self.root.clone(),
                }
                .into());
            }
            let n = (total - done).min(chunk as u64) as usize;
            let piece = &mut buf[..n];
            file.read_at(done, piece).map_err(|e| io(db_path, e))?;
            if done == 0 && piece[18] == 2 && piece[19] == 2 {
                // File format write and read versions: 1 is a rollback journal.
                piece[18] = 1;
                piece[19] = 1;
            }
            sink(piece)?;
            done += n as u64;
            events.event(&Event::Advance { amount: n as u64 });
            if let Some(rate) = max_rate.filter(|r| *r > 0) {
                let due = Duration::from_secs_f64(done as f64 / rate as f64);
                let spent = started.elapsed();
                if due > spent {
                    sleep_cancellable(due - spent, cancel);
                }
            }
        }
        Ok(Some(total))
    }
}

/// The file name of the image inside a backup (the repository's own database name).
pub const IMAGE_FILE: &str = DB_FILE;

/// The `meta` key of the generation token (see the module doc).
pub const GENERATION_KEY: &str = "generation";

impl SqliteStore {
    /// The repository's generation token (see the module doc); `None` only in an
    /// image of schema version 1 taken before a backup installed the triggers that
    /// kept one then.
    pub fn generation(&self) -> Result<Option<String>> {
        let db = self.db();
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [GENERATION_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| db.err(e))
    }
}

/// Creates the new SQLite repository database `dest` with the schema and no rows,
/// for a backend that writes an image row by row (the PostgreSQL backend's
/// `take_image`): the rows then go in with the same column encoding, and the image
/// is finished by [`finish_image`].
pub(crate) fn create_image(dest: &Path) -> Result<Connection> {
    if dest.exists() {
        return Err(RepositoryError::AlreadyExists {
            path: dest.to_path_buf(),
            reason: "the image file exists".into(),
        });
    }
    let dest_err = |e: rusqlite::Error| RepositoryError::Database {
        repository: dest.to_path_buf(),
        source: e,
    };
    let out = Connection::open_with_flags(
        dest,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(dest_err)?;
    out.execute_batch("PRAGMA synchronous=OFF; PRAGMA journal_mode=DELETE;")
        .map_err(dest_err)?;
    out.execute_batch(schema::SCHEMA).map_err(dest_err)?;
    Ok(out)
}

/// The `meta` rows (format and schema version) an image written row by row gets.
pub(crate) const IMAGE_META: [(&str, &str); 2] =
    [("format", schema::FORMAT), ("version", schema::VERSION)];

/// Finishes an image copied into `out` (the file `dest`): cuts it down to the
/// chosen workspaces, counts it, lists its blobs into `blob_list`, closes and
/// syncs it. `repository` names the source in a cancellation.
pub(crate) fn finish_image(
    out: Connection,
    dest: &Path,
    blob_list: &mut dyn Write,
    options: &ImageOptions,
    events: &dyn Events,
    cancel: &AtomicBool,
    repository: &Path,
) -> Result<ImageInfo> {
    let dest_err = |e: rusqlite::Error| RepositoryError::Database {
        repository: dest.to_path_buf(),
        source: e,
    };
    if !options.workspaces.is_empty() {
        events.event(&Event::Phase {
            name: "keeping the chosen workspaces",
            total: None,
            unit: Unit::Items,
        });
        keep_workspaces(&out, &options.workspaces).map_err(|e| match e {
            Keep::Missing(w) => RepositoryError::WorkspaceNotFound { workspace: w },
            Keep::Sql(e) => dest_err(e),
        })?;
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(RepositoryError::Cancelled {
            repository: repository.to_path_buf(),
        });
    }
    events.event(&Event::Phase {
        name: "listing blobs",
        total: None,
        unit: Unit::Items,
    });
    let last_operation: Option<i64> = out
        .query_row("SELECT max(id) FROM op", [], |r| r.get(0))
        .map_err(dest_err)?;
    let Survey {
        workspaces,
        blob_count,
        blob_bytes,
    } = survey(&out, blob_list, dest)?;
    out.close().map_err(|(_, e)| dest_err(e))?;
    let file = std::fs::File::open(dest).map_err(|e| io(dest, e))?;
    file.sync_all().map_err(|e| io(dest, e))?;
    let bytes = file.metadata().map_err(|e| io(dest, e))?.len();
    Ok(ImageInfo {
        last_operation,
        workspaces,
        bytes,
        blob_count,
        blob_bytes,
    })
}

fn io(path: &Path, source: std::io::Error) -> RepositoryError {
    RepositoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sleep_cancellable(mut d: Duration, cancel: &AtomicBool) {
    let slice = Duration::from_millis(20);
    while !d.is_zero() && !cancel.load(Ordering::Relaxed) {
        let s = d.min(slice);
        std::thread::sleep(s);
        d -= s;
    }
}

enum Keep {
    Missing(String),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for Keep {
    fn from(e: rusqlite::Error) -> Keep {
        Keep::Sql(e)
    }
}

/// Removes every workspace but `keep` (with its nodes, properties and journal rows)
/// from the image, then compacts it.
fn keep_workspaces(conn: &Connection, keep: &[String]) -> std::result::Result<(), Keep> {
    conn.execute_batch("CREATE TEMP TABLE keep_ws(id INTEGER PRIMARY KEY)")?;
    for w in keep {
        let id: Option<i64> = conn
            .query_row("SELECT id FROM workspace WHERE name = ?1", [w], |r| {
                r.get(0)
            })
            .optional()?;
        let id = id.ok_or_else(|| Keep::Missing(w.clone()))?;
        conn.execute("INSERT OR IGNORE INTO keep_ws(id) VALUES (?1)", [id])?;
    }
    conn.execute_batch(
        "BEGIN;
         DELETE FROM prop WHERE node IN
           (SELECT id FROM node WHERE ws NOT IN (SELECT id FROM keep_ws));
         DELETE FROM node WHERE ws NOT IN (SELECT id FROM keep_ws);
         DELETE FROM jprop WHERE ws NOT IN (SELECT id FROM keep_ws);
         DELETE FROM jnode WHERE ws NOT IN (SELECT id FROM keep_ws);
         DELETE FROM workspace WHERE id NOT IN (SELECT id FROM keep_ws);
         COMMIT;
         DROP TABLE keep_ws;
         VACUUM;",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{NoEvents, OwnedEvent, Recorded};
    use crate::node::Node;
    use crate::repository::{AddOptions, Store, StoreRead, Transaction};
    use crate::value::{Binary, Property, Value};
    use std::sync::Mutex;

    fn page(t: &mut dyn Transaction, name: &str, data: &[u8]) {
        let mut n = Node::new(name, "nt:unstructured");
        n.set(Property::single(
            "data",
            Value::Binary(Binary::Inline(data.to_vec().into())),
        ));
        n.set(Property::single("filler", Value::String("x".repeat(3000))));
        t.add_node("default", "/", &n, &AddOptions::default())
            .unwrap();
    }

    fn store_with(n: usize) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let mut s = SqliteStore::init(&repo).unwrap();
        let mut t = s.begin("fill").unwrap();
        for i in 0..n {
            page(
                &mut *t,
                &format!("p{i}"),
                format!("blob {}", i % 7).as_bytes(),
            );
        }
        t.commit().unwrap();
        (dir, s)
    }

    #[test]
    fn image_opens_read_only_and_lists_distinct_blobs_sorted() {
        let (dir, s) = store_with(20);
        let dest = dir.path().join("img.db");
        let mut list = Vec::new();
        let info = s
            .take_image_to(
                &dest,
                &mut list,
                &ImageOptions::default(),
                &NoEvents,
                &AtomicBool::new(false),
            )
            .unwrap();
        assert_eq!(info.blob_count, 7);
        let lines: Vec<&str> = std::str::from_utf8(&list).unwrap().lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(info.workspaces[0].name, "default");
        assert_eq!(info.workspaces[0].nodes, 21 + 5); // 5: Oak's initial content
        assert_eq!(info.workspaces[0].properties, 40);
        let img = SqliteStore::open_image(&dest, s.location()).unwrap();
        assert_eq!(img.children("default", "/").unwrap().len(), 20 + 1); // and /jcr:system
                                                                         // Read-only: a write transaction fails.
        let mut img = img;
        let r = img.begin("write").and_then(|mut t| {
            t.create_workspace("other")?;
            t.commit()
        });
        assert!(r.is_err());
    }

    #[test]
    fn workspaces_not_chosen_are_left_out() {
        let (dir, mut s) = store_with(3);
        let mut t = s.begin("ws").unwrap();
        t.create_workspace("config").unwrap();
        t.commit().unwrap();
        let dest = dir.path().join("img.db");
        let opts = ImageOptions {
            workspaces: vec!["config".into()],
            max_rate: None,
        };
        let info = s
            .take_image_to(
                &dest,
                &mut Vec::new(),
                &opts,
                &NoEvents,
                &AtomicBool::new(false),
            )
            .unwrap();
        assert_eq!(info.workspaces.len(), 1);
        assert_eq!(info.blob_count, 0);
        let img = SqliteStore::open_image(&dest, s.location()).unwrap();
        assert_eq!(img.workspaces().unwrap(), vec!["config".to_string()]);
        let missing = ImageOptions {
            workspaces: vec!["nope".into()],
            max_rate: None,
        };
        let e = s
            .take_image_to(
                &dir.path().join("b.db"),
                &mut Vec::new(),
                &missing,
                &NoEvents,
                &AtomicBool::new(false),
            )
            .unwrap_err();
        assert!(
            matches!(e, RepositoryError::WorkspaceNotFound { .. }),
            "{e}"
        );
    }

    /// A sink that commits a write through a second connection at every step of the
    /// copy, and counts the steps.
    struct Writer {
        other: Mutex<SqliteStore>,
        writes: Mutex<u32>,
    }

    impl Events for Writer {
        fn event(&self, e: &Event<'_>) {
            if let Event::Advance { .. } = e {
                let mut s = self.other.lock().unwrap();
                let mut n = self.writes.lock().unwrap();
                *n += 1;
                let mut t = s.begin("concurrent").unwrap();
                page(&mut *t, &format!("new{n}"), b"new");
                t.commit().unwrap();
            }
        }
    }

    #[test]
    fn steps_keep_one_snapshot_while_another_connection_writes() {
        let (dir, s) = store_with(300);
        let other = SqliteStore::open(s.location()).unwrap();
        let sink = Writer {
            other: Mutex::new(other),
            writes: Mutex::new(0),
        };
        let dest = dir.path().join("img.db");
        // A rate of one 4 KiB page a step: hundreds of steps (a few seconds), a
        // write committed by the other connection after every one.
        let opts = ImageOptions {
            workspaces: vec![],
            max_rate: Some(4096 * THROTTLED_STEPS_PER_SECOND),
        };
        let info = s
            .take_image_to(
                &dest,
                &mut Vec::new(),
                &opts,
                &sink,
                &AtomicBool::new(false),
            )
            .unwrap();
        let writes = *sink.writes.lock().unwrap();
        assert!(writes > 50, "only {writes} steps");
        // The image is the state before the first concurrent write.
        assert_eq!(info.workspaces[0].nodes, 301 + 5); // 5: Oak's initial content
        let img = SqliteStore::open_image(&dest, s.location()).unwrap();
        assert_eq!(img.children("default", "/").unwrap().len(), 300 + 1); // and /jcr:system
                                                                          // The source has them all.
        assert_eq!(
            s.children("default", "/").unwrap().len(),
            300 + 1 + writes as usize
        );
    }

    /// Reads an image with `read_image` into one file, as the catalogue's chunks
    /// would be reassembled.
    fn read_whole(
        s: &SqliteStore,
        dest: &Path,
        rate: Option<u64>,
        events: &dyn Events,
    ) -> Option<DirectImage> {
        let mut bytes = Vec::new();
        let mut pieces = 0;
        let got = s
            .read_image::<RepositoryError>(
                1 << 20,
                &mut |p: &[u8]| {
                    pieces += 1;
                    bytes.extend_from_slice(p);
                    Ok(())
                },
                &mut Vec::new(),
                rate,
                events,
                &AtomicBool::new(false),
            )
            .unwrap();
        if got.is_some() {
            assert!(pieces >= 1);
            std::fs::write(dest, &bytes).unwrap();
        } else {
            assert_eq!(pieces, 0, "nothing is passed on before a fallback");
        }
        got
    }

    #[test]
    fn a_direct_image_is_the_repository_and_opens_without_a_wal() {
        let (dir, s) = store_with(40);
        let dest = dir.path().join("img.db");
        let got =
            read_whole(&s, &dest, None, &NoEvents).expect("a quiet repository reads directly");
        let head = std::fs::read(&dest).unwrap();
        assert_eq!(&head[18..20], &[1, 1], "switched to a rollback journal");
        assert_eq!(got.info.bytes, head.len() as u64);
        assert_eq!(got.generation, s.generation().unwrap());
        assert_eq!(got.info.blob_count, 7);
        assert_eq!(got.info.workspaces[0].nodes, 41 + 5); // 5: Oak's initial content
        let img = SqliteStore::open_image(&dest, s.location()).unwrap();
        assert_eq!(img.children("default", "/").unwrap().len(), 40 + 1); // and /jcr:system
        assert_eq!(img.generation().unwrap(), s.generation().unwrap());
        // No -wal or -shm was needed or made beside it.
        assert!(!dir.path().join("img.db-wal").exists());
        let ok: String =
            rusqlite::Connection::open_with_flags(&dest, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
        assert_eq!(ok, "ok");
    }

    /// A sink that, at every piece of the image read, commits a write through a
    /// second connection and then asks for a checkpoint, which would copy it into
    /// the database file being read if anything let it.
    struct CheckpointingWriter {
        other: Mutex<SqliteStore>,
        writes: Mutex<u32>,
        backfilled: Mutex<u64>,
    }

    impl Events for CheckpointingWriter {
        fn event(&self, e: &Event<'_>) {
            if let Event::Advance { .. } = e {
                let mut s = self.other.lock().unwrap();
                let mut n = self.writes.lock().unwrap();
                *n += 1;
                let mut t = s.begin("concurrent").unwrap();
                page(&mut *t, &format!("new{n}"), format!("new {n}").as_bytes());
                t.commit().unwrap();
                let (_busy, _log, done): (i64, i64, i64) = s
                    .conn
                    .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .unwrap();
                *self.backfilled.lock().unwrap() += done.max(0) as u64;
            }
        }
    }

    #[test]
    fn a_direct_image_keeps_its_snapshot_while_others_write_and_checkpoint() {
        // About 2.5 MiB: three pieces of 1 MiB, a write and a checkpoint after each.
        let (dir, s) = store_with(700);
        let other = SqliteStore::open(s.location()).unwrap();
        let sink = CheckpointingWriter {
            other: Mutex::new(other),
            writes: Mutex::new(0),
            backfilled: Mutex::new(0),
        };
        let dest = dir.path().join("img.db");
        let got = read_whole(&s, &dest, Some(4 << 20), &sink).expect("read directly");
        let writes = *sink.writes.lock().unwrap();
        assert!(writes >= 3, "only {writes} pieces");
        // The image is the state before the first concurrent write, intact.
        assert_eq!(got.info.workspaces[0].nodes, 701 + 5);
        let img = SqliteStore::open_image(&dest, s.location()).unwrap();
        assert_eq!(img.children("default", "/").unwrap().len(), 700 + 1);
        let ok: String = img
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        assert_ne!(img.generation().unwrap(), s.generation().unwrap());
        // The writes are in the source; with the read over, a checkpoint copies
        // them into the file.
        assert_eq!(
            s.children("default", "/").unwrap().len(),
            700 + 1 + writes as usize
        );
        let (_, log, done): (i64, i64, i64) = s
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(log, done);
    }

    #[test]
    fn every_commit_replaces_the_token_and_a_version_1_repository_is_migrated() {
        let (dir, mut s) = store_with(2);
        let g0 = s
            .generation()
            .unwrap()
            .expect("a new repository has a token");
        let mut t = s.begin("w").unwrap();
        page(&mut *t, "more", b"more");
        t.commit().unwrap();
        let g1 = s.generation().unwrap().unwrap();
        assert_ne!(g0, g1);
        // A transaction that rolls back leaves it.
        let mut t = s.begin("w").unwrap();
        page(&mut *t, "gone", b"gone");
        drop(t);
        assert_eq!(s.generation().unwrap().unwrap(), g1);
        s.gc(false).unwrap();
        let g2 = s.generation().unwrap().unwrap();
        assert_ne!(g1, g2, "gc");
        s.gc(true).unwrap();
        assert_eq!(s.generation().unwrap().unwrap(), g2, "gc --dry-run");

        // Made back into a version 1 repository that a backup gave the old triggers.
        let img = dir.path().join("v1.db");
        s.take_image_to(
            &img,
            &mut Vec::new(),
            &ImageOptions::default(),
            &NoEvents,
            &AtomicBool::new(false),
        )
        .unwrap();
        s.conn
            .execute_batch(
                "UPDATE meta SET value = '1' WHERE key = 'version';
                 UPDATE meta SET value = 'old' WHERE key = 'generation';
                 CREATE TRIGGER generation_on_insert AFTER INSERT ON meta
                   WHEN NEW.key <> 'generation'
                   BEGIN UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'generation'; END;
                 CREATE TRIGGER generation_on_update AFTER UPDATE ON meta
                   WHEN NEW.key <> 'generation'
                   BEGIN UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'generation'; END;",
            )
            .unwrap();
        let root = s.location().to_path_buf();
        drop(s);
        let v1 = rusqlite::Connection::open(&img).unwrap();
        v1.execute_batch(
            "UPDATE meta SET value = '1' WHERE key = 'version';
             DELETE FROM meta WHERE key = 'generation';",
        )
        .unwrap();
        drop(v1);
        // An image of version 1 (an older backup) still opens, without a token.
        let old = SqliteStore::open_image(&img, &root).unwrap();
        assert_eq!(old.generation().unwrap(), None);
        assert_eq!(old.children("default", "/").unwrap().len(), 3 + 1);

        let s = SqliteStore::open(&root).unwrap();
        let (version, triggers): (String, i64) = s
            .conn
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'version'),
                        (SELECT count(*) FROM sqlite_schema WHERE type = 'trigger')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((version.as_str(), triggers), (schema::VERSION, 0));
        let g = s.generation().unwrap().unwrap();
        assert!(g != "old" && g.len() == 32, "{g}");
        // Opening again migrates nothing more.
        drop(s);
        let s = SqliteStore::open(&root).unwrap();
        assert_eq!(s.generation().unwrap().unwrap(), g);
    }

    #[test]
    fn cancel_stops_the_copy_and_progress_counts_bytes() {
        let (dir, s) = store_with(50);
        let rec = Recorded::default();
        let dest = dir.path().join("img.db");
        s.take_image_to(
            &dest,
            &mut Vec::new(),
            &ImageOptions::default(),
            &rec,
            &AtomicBool::new(false),
        )
        .unwrap();
        let ev = rec.events();
        let total = match &ev[0] {
            OwnedEvent::Phase { total, unit, .. } => {
                assert_eq!(*unit, Unit::Bytes);
                total.unwrap()
            }
            other => panic!("{other:?}"),
        };
        let advanced: u64 = ev
            .iter()
            .filter_map(|e| match e {
                OwnedEvent::Advance { amount } => Some(*amount),
                _ => None,
            })
            .sum();
        assert_eq!(advanced, total);
        let e = s
            .take_image_to(
                &dir.path().join("c.db"),
                &mut Vec::new(),
                &ImageOptions::default(),
                &NoEvents,
                &AtomicBool::new(true),
            )
            .unwrap_err();
        assert!(matches!(e, RepositoryError::Cancelled { .. }), "{e}");
        // The source is usable afterwards (the snapshot ended).
        assert!(s.conn.is_autocommit());
    }
}
