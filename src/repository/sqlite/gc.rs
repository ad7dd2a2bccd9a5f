//! Housekeeping: removing unreferenced blobs and leftovers of killed commands under
//! the write lock. (Pruning old operations is the journaled layer's, through the
//! operation log of `backend`.)
//!
//! It runs inside `BEGIN IMMEDIATE` so that no other process writes meanwhile: `gc`
//! reads every blob reference (content and journal) and sweeps the blob folder
//! while holding the lock, so no install can commit a reference to a blob it is
//! deleting. (A process
//! that stored a blob before taking the lock and refers to it afterwards finds it
//! gone and fails cleanly: a property's blob is checked before it is written.)

use super::{Db, SqliteStore, DB_FILE};
use crate::repository::blob::is_sha256;
use crate::repository::{GcReport, RepositoryError, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The prefix of the marker file a backup keeps in the repository folder while it
/// copies blobs.
pub const BACKUP_MARKER_PREFIX: &str = ".backup-in-progress-";

impl SqliteStore {
    /// Runs `f` holding the write lock (`BEGIN IMMEDIATE`), committing when it
    /// succeeds and rolling back otherwise.
    fn locked<T>(&mut self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        let db = self.db();
        db.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db.err(e))?;
        match f(&db) {
            Ok(v) => {
                db.conn.execute_batch("COMMIT").map_err(|e| db.err(e))?;
                Ok(v)
            }
            Err(e) => {
                if !db.conn.is_autocommit() {
                    let _ = db.conn.execute_batch("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    /// [`crate::repository::Store::gc`].
    pub(crate) fn collect_garbage(&mut self, dry_run: bool) -> Result<GcReport> {
        let root = self.root.clone();
        let before = database_bytes(&root);
        let mut report = self.locked(|db| {
            if let Some(marker) = backup_marker(&root)? {
                return Err(RepositoryError::NotAllowed {
                    workspace: String::new(),
                    path: root.display().to_string(),
                    action: "collect garbage in",
                    reason: format!(
                        "a backup is copying its blobs ({} exists; if no backup runs, a killed one left it: remove it)",
                        marker.display()
                    ),
                });
            }
            let referenced = referenced_blobs(db)?;
            let mut report = GcReport {
                dry_run,
                ..GcReport::default()
            };
            // Blobs this process put and its writer thread still writes: listed
            // (and, unreferenced, removed) like any other, and looked for again
            // when put again.
            db.blobs.recheck();
            sweep_blobs(db.blobs.dir(), &referenced, dry_run, &mut report)?;
            sweep_temp_files(&root, dry_run, &mut report)?;
            if !dry_run {
                // It changes no row, but a new generation token costs nothing and
                // keeps "every committed write replaces it" without exception.
                db.conn
                    .execute(super::schema::NEW_GENERATION, [])
                    .map_err(|e| db.err(e))?;
            }
            Ok(report)
        })?;
        if !dry_run {
            let db = self.db();
            db.conn
                .execute_batch(
                    "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
                )
                .map_err(|e| db.err(e))?;
        }
        report.database_bytes = (
            before,
            if dry_run {
                before
            } else {
                database_bytes(&root)
            },
        );
        Ok(report)
    }
}

/// How many of the oldest `ops` `select` drops.
/// The size of the database with its write-ahead log.
fn database_bytes(root: &Path) -> u64 {
    [DB_FILE.to_string(), format!("{DB_FILE}-wal")]
        .iter()
        .filter_map(|f| std::fs::metadata(root.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

fn io(path: &Path, source: std::io::Error) -> RepositoryError {
    RepositoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A marker of a running backup: `REPO/.backup-in-progress-*`, or the `in-progress`
/// file of a backup being written into the default catalogue
/// (`REPO/backups/backups/.tmp-*/in-progress`).
fn backup_marker(root: &Path) -> Result<Option<PathBuf>> {
    for e in std::fs::read_dir(root).map_err(|e| io(root, e))? {
        let e = e.map_err(|e| io(root, e))?;
        if e.file_name()
            .to_string_lossy()
            .starts_with(BACKUP_MARKER_PREFIX)
        {
            return Ok(Some(e.path()));
        }
    }
    let catalogue = root.join("backups").join("backups");
    if let Ok(rd) = std::fs::read_dir(&catalogue) {
        for e in rd.flatten() {
            let marker = e.path().join("in-progress");
            if e.file_name().to_string_lossy().starts_with(".tmp-") && marker.exists() {
                return Ok(Some(marker));
            }
        }
    }
    Ok(None)
}

/// Parses 64 lower-case hex digits.
fn sha_bytes(hex: &str) -> Option<[u8; 32]> {
    if !is_sha256(hex) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Every blob a binary value refers to, in the content or in a before-image.
fn referenced_blobs(db: &Db<'_>) -> Result<HashSet<[u8; 32]>> {
    let binary = super::codec::type_code(crate::value::PropertyType::Binary);
    let mut out = HashSet::new();
    let mut st = db
        .conn
        .prepare(
            "SELECT value FROM prop WHERE type = ?1
             UNION ALL SELECT value FROM jprop WHERE type = ?1 AND value IS NOT NULL",
        )
        .map_err(|e| db.err(e))?;
    let mut rows = st.query([binary]).map_err(|e| db.err(e))?;
    while let Some(r) = rows.next().map_err(|e| db.err(e))? {
        let v: String = r.get(0).map_err(|e| db.err(e))?;
        // Single values are `blob:<sha>:<size>`, multiple ones a JSON array of them.
        for (i, _) in v.match_indices("blob:") {
            if let Some(sha) = v.get(i + 5..i + 69).and_then(sha_bytes) {
                out.insert(sha);
            }
        }
    }
    Ok(out)
}

/// Removes `path`, the temporary file of a blob write that never finished.
fn remove_temporary(path: &Path, dry_run: bool, report: &mut GcReport) -> Result<()> {
    remove(
        path,
        dry_run,
        &mut report.temp_files_removed,
        &mut report.temp_bytes,
    )
}

/// Removes (or counts) the blobs in `dir` nobody refers to and the temporary files
/// of blob writes that never finished (in `dir` and in its two-digit folders).
fn sweep_blobs(
    dir: &Path,
    referenced: &HashSet<[u8; 32]>,
    dry_run: bool,
    report: &mut GcReport,
) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let e = e.map_err(|e| io(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let kind = e.file_type().map_err(|x| io(&e.path(), x))?;
        if kind.is_file() && name.starts_with(".tmp-") {
            remove_temporary(&e.path(), dry_run, report)?;
            continue;
        }
        if !kind.is_dir() || name.len() != 2 {
            continue;
        }
        let sub = e.path();
        for f in std::fs::read_dir(&sub).map_err(|x| io(&sub, x))? {
            let f = f.map_err(|x| io(&sub, x))?;
            if !f.file_type().map_err(|x| io(&f.path(), x))?.is_file() {
                continue;
            }
            // A blob written whole goes through a temporary file in its folder.
            if f.file_name().to_string_lossy().starts_with(".tmp-") {
                remove_temporary(&f.path(), dry_run, report)?;
                continue;
            }
            let full = format!("{name}{}", f.file_name().to_string_lossy());
            let Some(sha) = sha_bytes(&full) else {
                continue;
            };
            if referenced.contains(&sha) {
                report.blobs_kept += 1;
            } else {
                remove(
                    &f.path(),
                    dry_run,
                    &mut report.blobs_removed,
                    &mut report.blob_bytes,
                )?;
            }
        }
    }
    Ok(())
}

/// Removes (or counts) the `.jcrpack-*.tmp` files in the repository folder, and the
/// temporary packages of killed exports there.
fn sweep_temp_files(root: &Path, dry_run: bool, report: &mut GcReport) -> Result<()> {
    for e in std::fs::read_dir(root).map_err(|e| io(root, e))? {
        let e = e.map_err(|e| io(root, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        // Also a package a killed export wrote into the repository folder
        // (`.OUT.zip.jcrpack-tmp-PID-XXXXXX`), once its process is gone.
        let killed_writer =
            crate::archive::temp_owner(&name).is_some_and(crate::archive::process_gone);
        if ((name.starts_with(".jcrpack-") && name.ends_with(".tmp")) || killed_writer)
            && e.file_type().map_err(|x| io(&e.path(), x))?.is_file()
        {
            remove(
                &e.path(),
                dry_run,
                &mut report.temp_files_removed,
                &mut report.temp_bytes,
            )?;
        }
    }
    Ok(())
}

fn remove(p: &Path, dry_run: bool, count: &mut u64, bytes: &mut u64) -> Result<()> {
    let len = match std::fs::symlink_metadata(p) {
        Ok(m) => m.len(),
        // Gone meanwhile: nothing to do.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(p, e)),
    };
    if !dry_run {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(p, e)),
        }
    }
    *count += 1;
    *bytes += len;
    Ok(())
}
