//! Taking a backup: the repository's image, its blob list, the blobs it refers to
//! copied into the catalogue (those already there reused), checksums, the manifest,
//! then one rename that makes the backup appear.

use super::blobs::{hash_file, parse_line};
use super::catalogue::{
    sync_dir, Catalogue, BACKUPS_DIR, BLOB_LIST_FILE, IN_PROGRESS_FILE, MANIFEST_FILE, TMP_PREFIX,
};
use super::chunks::{ChunkWriter, ImageStats, CHUNK_BYTES, IMAGE_LIST_FILE};
use super::durable::{sync_all, Durable};
use super::lock::{CatalogueLock, Mode};
use super::manifest::{backup_id, FileEntry, Kind, Manifest, MANIFEST_FORMAT, MANIFEST_VERSION};
use super::{BackupError, Result};
use crate::events::{Actor, Event, Events, Unit};
use crate::repository::sqlite::{SqliteStore, IMAGE_FILE};
use crate::repository::{ImageOptions, RepositoryError, Store, StoreRead};
use crate::value::Date;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How to take a backup.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateOptions {
    /// A label to remember it by (`--label`).
    pub label: Option<String>,
    /// Taken by hand or by a scheduler (`--scheduled`).
    pub kind: Kind,
    /// Keep only these workspaces (all when empty).
    pub workspaces: Vec<String>,
    /// Copy at most this many bytes a second (image and blobs), AEM's delay.
    pub max_rate: Option<u64>,
    /// Who takes it and when (the id is this time in UTC).
    pub actor: Actor,
    /// Also write, beside the image, one FileVault content package per workspace
    /// (`packages/<workspace>.zip`, without version history, installable in AEM),
    /// with these zip options (`--format package`).
    pub packages: Option<crate::archive::WriterOptions>,
}

impl CreateOptions {
    /// A manual backup of every workspace, unthrottled, by `actor`.
    pub fn new(actor: Actor) -> CreateOptions {
        CreateOptions {
            label: None,
            kind: Kind::Manual,
            workspaces: Vec::new(),
            max_rate: None,
            packages: None,
            actor,
        }
    }
}

/// Keeps a copy under a rate: sleeps so that `done` bytes take at least
/// `done / rate` seconds from the start.
pub(super) struct Pace {
    rate: Option<u64>,
    started: Instant,
    done: u64,
}

impl Pace {
    pub(super) fn new(rate: Option<u64>) -> Pace {
        Pace {
            rate: rate.filter(|r| *r > 0),
            started: Instant::now(),
            done: 0,
        }
    }

    pub(super) fn advance(&mut self, n: u64, cancel: &AtomicBool) {
        self.done += n;
        let Some(rate) = self.rate else { return };
        let due = Duration::from_secs_f64(self.done as f64 / rate as f64);
        // The time left is read once per turn: reading the clock twice could find
        // it past `due` the second time, and a plain subtraction would panic.
        while !cancel.load(Ordering::Relaxed) {
            let left = due.saturating_sub(self.started.elapsed());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }
}

/// The prefix of the marker a running backup keeps in the repository folder
/// (`REPO/.backup-in-progress-<ID>`, holding the process id), which the
/// repository's blob collection (`jcrpack gc`) respects.
pub const REPO_MARKER_PREFIX: &str = ".backup-in-progress-";

/// The folder of a backup that holds its content packages (`--format package`).
pub const PACKAGES_DIR: &str = "packages";

/// An earlier backup an unchanged repository's backup shares whole.
struct Shared {
    /// Its manifest.
    prev: Manifest,
    /// Its image and blob lists, placed in the new backup's folder and checked.
    lists: Vec<FileEntry>,
    /// Which of them are hard links to its files (their data is durable already).
    linked: Vec<String>,
}

/// Places the list `from` of an earlier backup at `to` in a new backup's folder:
/// a hard link when the file system makes one (`true`), else a copy. Backup files
/// are never written in place (a backup is written once, then only read or
/// removed whole), so two backups may share one file.
#[allow(clippy::result_large_err)] // the module's error type, as everywhere here
fn place_list(from: &Path, to: &Path) -> Result<bool> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(true);
    }
    std::fs::copy(from, to).map_err(|e| BackupError::io(to, e))?;
    Ok(false)
}

/// Creates file `path`, which must not exist: a name in a backup's folder may be a
/// link to an earlier backup's file, which must never be written.
#[allow(clippy::result_large_err)] // the module's error type, as everywhere here
pub(crate) fn new_file(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| BackupError::io(path, e))
}

/// A running backup's marker in the repository folder.
struct RepoMarker(PathBuf);

impl RepoMarker {
    /// Removes the markers of backups whose process is gone (killed), then places
    /// this one.
    fn place(repo: &Path, id: &str) -> Result<RepoMarker> {
        remove_dead_markers(repo);
        let p = repo.join(format!("{REPO_MARKER_PREFIX}{id}-{}", std::process::id()));
        std::fs::write(&p, format!("{}\n", std::process::id()))
            .map_err(|e| BackupError::io(&p, e))?;
        Ok(RepoMarker(p))
    }

    fn remove(self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Removes `REPO/.backup-in-progress-*` markers whose process no longer runs
/// (Linux: `kill(pid, 0)` fails with ESRCH); elsewhere they are left for the
/// operator (gc names them).
fn remove_dead_markers(repo: &Path) {
    let Ok(rd) = std::fs::read_dir(repo) else {
        return;
    };
    for e in rd.flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .starts_with(REPO_MARKER_PREFIX)
        {
            continue;
        }
        let pid: Option<i32> = std::fs::read_to_string(e.path())
            .ok()
            .and_then(|s| s.trim().parse().ok());
        #[cfg(target_os = "linux")]
        if let Some(pid) = pid.filter(|p| *p > 0) {
            // SAFETY: signal 0 only checks that the process exists.
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone {
                let _ = std::fs::remove_file(e.path());
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = pid;
    }
}

impl Catalogue {
    /// Takes a backup of the repository in folder `repo` (opened for reading only;
    /// other processes keep reading and writing it) into this catalogue; see
    /// [`Catalogue::create_backup_from`]. A location with a scheme
    /// (`postgres://...`) is opened through the repository factory.
    pub fn create_backup(
        &self,
        repo: &Path,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Manifest> {
        if let crate::repository::Location::Url { .. } =
            crate::repository::Location::parse(repo.as_os_str())
        {
            let store = crate::repository::open(repo)?;
            return self.create_backup_from(&*store, options, events, cancel);
        }
        let store = SqliteStore::open(repo)?;
        self.create_backup_of(&store, options, events, cancel)
    }

    /// Takes a backup of the SQLite repository `store`: as
    /// [`Catalogue::create_backup_from`], but the repository keeps a generation
    /// token (installed the first time, see `repository/sqlite/image.rs`), and when
    /// the token is that of an intact backup of this catalogue with the same
    /// workspaces, the repository has not changed since: the new backup shares that
    /// backup's image and blobs whole, and no image is copied.
    pub fn create_backup_of(
        &self,
        store: &SqliteStore,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Manifest> {
        self.create_inner(store, Some(store), options, events, cancel)
    }

    /// Takes a backup of `store` into this catalogue and returns its manifest.
    ///
    /// First removes what a killed backup command left (reported as warnings). The
    /// backup is written under `backups/.tmp-<ID>` with an `in-progress` marker and
    /// renamed to `backups/<ID>` once its files and blobs are durable; on any error
    /// or cancellation (`cancel` set, [`BackupError::Cancelled`]) the blobs it
    /// copied are collected and its folder removed when no other backup command
    /// runs; otherwise its emptied folder is left for the next command to clean up.
    ///
    /// This generic form always copies the image (its chunks already in the
    /// catalogue are shared); [`Catalogue::create_backup_of`] also skips the copy
    /// when the repository has not changed since an earlier backup.
    pub fn create_backup_from(
        &self,
        store: &dyn Store,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Manifest> {
        self.create_inner(store, None, options, events, cancel)
    }

    /// Takes a backup; `sqlite` is `store` when it is a SQLite repository (then an
    /// unchanged repository shares an earlier image, and the image is read
    /// straight from the database file).
    fn create_inner(
        &self,
        store: &dyn Store,
        sqlite: Option<&SqliteStore>,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Manifest> {
        for name in self.clean_up()? {
            events.event(&Event::Warning {
                message: &format!(
                    "removed {name}, left in the catalogue by an interrupted backup command"
                ),
            });
        }
        let lock = CatalogueLock::take(self.dir(), Mode::Shared)?;
        let (id, tmp) = self.reserve(&backup_id(&options.actor.time))?;
        // The repository's blob collection refuses to run while this marker exists,
        // from before the image to after the last blob is copied.
        // A repository without a folder (PostgreSQL) keeps its backup's blobs in the
        // image's snapshot instead, until `end_image`.
        let folder = store.location().is_dir();
        let marker = folder
            .then(|| RepoMarker::place(store.location(), &id))
            .transpose();
        let result = marker.and_then(|marker| {
            let r = self.write_backup(&id, &tmp, store, sqlite, options, events, cancel);
            store.end_image();
            marker.map(RepoMarker::remove);
            r
        });
        events.event(&Event::Finished);
        match result {
            Ok(m) => Ok(m),
            Err(e) => {
                self.abandon(&tmp, lock);
                Err(match e {
                    BackupError::Repository(RepositoryError::Cancelled { .. }) => {
                        BackupError::Cancelled {
                            catalogue: self.dir().to_path_buf(),
                        }
                    }
                    e => e,
                })
            }
        }
    }

    /// Removes the folder `tmp` of a backup that failed or was cancelled, and the
    /// blobs it copied, giving up the catalogue's shared `lock`: when no other
    /// backup command holds the catalogue, the blobs no complete backup refers to
    /// are collected first and the folder removed after (a kill in between leaves
    /// the folder, so the next command collects again); else only what the
    /// folder holds is removed, and the folder itself (`.tmp-<ID>`, unlisted) is
    /// left for the next command's [`Catalogue::clean_up`], which collects the
    /// blobs it copied.
    fn abandon(&self, tmp: &Path, lock: CatalogueLock) {
        drop(lock);
        match CatalogueLock::try_take(self.dir(), Mode::Exclusive) {
            Ok(Some(_x)) => {
                if self.collect_blobs(false).is_ok() {
                    let _ = std::fs::remove_dir_all(tmp);
                }
            }
            _ => {
                if let Ok(rd) = std::fs::read_dir(tmp) {
                    for e in rd.flatten() {
                        if e.file_name() == IN_PROGRESS_FILE {
                            continue;
                        }
                        let p = e.path();
                        let _ = if p.is_dir() {
                            std::fs::remove_dir_all(&p)
                        } else {
                            std::fs::remove_file(&p)
                        };
                    }
                }
            }
        }
    }

    /// Creates `backups/.tmp-<ID>` for a new id: `base`, else `base-2`, `base-3`, ...
    fn reserve(&self, base: &str) -> Result<(String, PathBuf)> {
        let root = self.dir().join(BACKUPS_DIR);
        for n in 1u32.. {
            let id = if n == 1 {
                base.to_string()
            } else {
                format!("{base}-{n}")
            };
            let tmp = root.join(format!("{TMP_PREFIX}{id}"));
            match std::fs::create_dir(&tmp) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(BackupError::io(&tmp, e)),
            }
            if root.join(&id).exists() {
                let _ = std::fs::remove_dir(&tmp);
                continue;
            }
            return Ok((id, tmp));
        }
        unreachable!("u32 ids ran out")
    }

    #[allow(clippy::too_many_arguments)]
    fn write_backup(
        &self,
        id: &str,
        tmp: &Path,
        store: &dyn Store,
        sqlite: Option<&SqliteStore>,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Manifest> {
        // The repository's generation token (see `repository/sqlite/image.rs`).
        let generation = match sqlite {
            Some(s) => s.generation()?,
            None => None,
        };
        let marker = tmp.join(IN_PROGRESS_FILE);
        std::fs::write(&marker, format!("{}\n", std::process::id()))
            .map_err(|e| BackupError::io(&marker, e))?;
        let mut chosen = options.workspaces.clone();
        chosen.sort();
        chosen.dedup();
        let list_path = tmp.join(BLOB_LIST_FILE);
        let chunk_list = tmp.join(IMAGE_LIST_FILE);
        let image_path = tmp.join(IMAGE_FILE);
        let unchanged = match generation.as_deref() {
            Some(g) => self.unchanged_backup(g, &chosen, tmp)?,
            None => None,
        };
        // The checksums of the lists an unchanged backup took over (checked as
        // they were placed, so not hashed again).
        let mut known: Vec<FileEntry> = Vec::new();
        let mut linked: Vec<String> = Vec::new();
        let (last_operation, workspaces, image_stats, image_generation, blob_bytes);
        if let Some(Shared {
            prev,
            lists,
            linked: links,
        }) = unchanged
        {
            events.event(&Event::Phase {
                name: "sharing the unchanged image",
                total: None,
                unit: Unit::Items,
            });
            known = lists;
            linked = links;
            let shared = prev.image.clone().unwrap_or_default();
            image_stats = ImageStats {
                bytes: shared.bytes,
                chunks: shared.chunks,
                copied_chunks: 0,
                copied_bytes: 0,
                reused_bytes: shared.bytes,
                unchanged_since: Some(prev.id.clone()),
            };
            last_operation = prev.last_operation;
            workspaces = prev.workspaces;
            image_generation = prev.generation;
            blob_bytes = prev.blobs.bytes;
            if options.packages.is_some() {
                self.assemble_image(id, &chunk_list, &image_path)?;
            }
        } else {
            let list_file = new_file(&list_path)?;
            let mut list = BufWriter::new(list_file);
            // The whole repository of SQLite is read straight from its database file
            // into chunks, under one read snapshot; a choice of workspaces (or a
            // snapshot the file does not hold) takes the image into a temporary
            // file first, then cuts it.
            let direct = match sqlite {
                Some(s) if options.workspaces.is_empty() => {
                    let (got, chunks) = ChunkWriter::new(self, &chunk_list)?.on_thread(|sink| {
                        s.read_image(
                            CHUNK_BYTES,
                            sink,
                            &mut list,
                            options.max_rate,
                            events,
                            cancel,
                        )
                    })?;
                    match got {
                        Some(d) => Some((d, chunks.finish()?)),
                        None => None,
                    }
                }
                _ => None,
            };
            let image = match direct {
                Some((d, stats)) => {
                    image_generation = d.generation;
                    image_stats = stats;
                    d.info
                }
                None => {
                    let image = store.take_image(
                        &image_path,
                        &mut list,
                        &ImageOptions {
                            workspaces: options.workspaces.clone(),
                            max_rate: options.max_rate,
                        },
                        events,
                        cancel,
                    )?;
                    // The token of the snapshot the image was copied from.
                    image_generation =
                        SqliteStore::open_image(&image_path, self.dir())?.generation()?;
                    image_stats = self.store_chunks(
                        &image_path,
                        &chunk_list,
                        store.location(),
                        events,
                        cancel,
                    )?;
                    image
                }
            };
            list.into_inner()
                .map_err(|e| BackupError::io(&list_path, e.into_error()))?;
            if options.packages.is_some() && !image_path.exists() {
                self.assemble_image(id, &chunk_list, &image_path)?;
            }
            last_operation = image.last_operation;
            workspaces = image.workspaces;
            blob_bytes = image.blob_bytes;
        }

        let (blobs, copied_plain) = self.copy_blobs(
            store, sqlite, &list_path, blob_bytes, options, events, cancel,
        )?;

        let mut names = vec![IMAGE_LIST_FILE.to_string(), BLOB_LIST_FILE.to_string()];
        if let Some(zip) = options.packages {
            names.extend(self.write_packages(id, tmp, &workspaces, zip, events)?);
        }
        if image_path.exists() {
            std::fs::remove_file(&image_path).map_err(|e| BackupError::io(&image_path, e))?;
        }

        events.event(&Event::Phase {
            name: "checking",
            total: None,
            unit: Unit::Items,
        });
        let mut files = Vec::new();
        for name in names {
            if let Some(entry) = known.iter().find(|f| f.path == name) {
                files.push(entry.clone());
                continue;
            }
            let (sha256, bytes) = hash_file(&tmp.join(&name))?;
            files.push(FileEntry {
                path: name,
                bytes,
                sha256,
            });
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(RepositoryError::Cancelled {
                repository: store.location().to_path_buf(),
            }
            .into());
        }
        let new_chunks = image_stats.copied_chunks > 0;
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_string(),
            version: MANIFEST_VERSION,
            id: id.to_string(),
            time: Date::from_epoch_millis(options.actor.time.epoch_millis()).to_string(),
            user: options.actor.user.clone(),
            label: options.label.clone(),
            kind: options.kind,
            repository: std::fs::canonicalize(store.location())
                .unwrap_or_else(|_| store.location().to_path_buf())
                .display()
                .to_string(),
            last_operation,
            workspaces,
            chosen_workspaces: chosen,
            bytes: files.iter().map(|f| f.bytes).sum::<u64>() + image_stats.bytes,
            files,
            blobs,
            image: Some(image_stats),
            generation: image_generation,
        };
        // The folder is unlisted until renamed: its files need not be durable one
        // by one, only all of them, with the blobs and chunks, before the rename.
        let manifest_path = tmp.join(MANIFEST_FILE);
        std::fs::write(&manifest_path, manifest.to_json())
            .map_err(|e| BackupError::io(&manifest_path, e))?;
        std::fs::remove_file(&marker).map_err(|e| BackupError::io(&marker, e))?;
        // Lists linked from the earlier backup hold data made durable with it:
        // their new names are made durable with the folder's entries, and the
        // file's link count (its inode) by an fsync of the file, which writes no
        // data, so that no later removal of one name can free the other's file.
        let mut durable: Vec<Durable> = manifest
            .files
            .iter()
            .map(|f| {
                let p = tmp.join(&f.path);
                if linked.contains(&f.path) {
                    Durable::Inode(p)
                } else {
                    Durable::Data(p)
                }
            })
            .collect();
        durable.push(Durable::Data(manifest_path));
        durable.push(Durable::Entries(tmp.to_path_buf()));
        if new_chunks || manifest.blobs.copied_count > 0 {
            self.blobs().sync(
                new_chunks.then_some(chunk_list.as_path()),
                copied_plain,
                durable,
            )?;
        } else {
            sync_all(&durable)?;
        }
        let done = self.backup_dir(id);
        std::fs::rename(tmp, &done).map_err(|e| BackupError::io(&done, e))?;
        sync_dir(&self.dir().join(BACKUPS_DIR));
        Ok(manifest)
    }

    /// Writes each workspace of the image in `tmp` (whose blobs are already in the
    /// catalogue) as a content package `packages/<workspace>.zip`, and returns those
    /// paths, relative to the backup's folder. A workspace with no content but the
    /// version storage gets no package (a warning says so).
    fn write_packages(
        &self,
        id: &str,
        tmp: &Path,
        workspaces: &[crate::repository::WorkspaceCounts],
        zip: crate::archive::WriterOptions,
        events: &dyn Events,
    ) -> Result<Vec<String>> {
        use crate::restore::portable;
        events.event(&Event::Phase {
            name: "writing packages",
            total: Some(workspaces.len() as u64),
            unit: Unit::Items,
        });
        let image = SqliteStore::open_image(&tmp.join(IMAGE_FILE), self.dir()).map_err(|e| {
            BackupError::Damaged {
                id: id.to_string(),
                detail: e.to_string(),
            }
        })?;
        let store = super::store::BackupStore::new(image, self.dir());
        let dir = tmp.join(PACKAGES_DIR);
        std::fs::create_dir(&dir).map_err(|e| BackupError::io(&dir, e))?;
        let mut written = Vec::new();
        for ws in workspaces {
            events.event(&Event::Advance { amount: 1 });
            let safe = !ws.name.is_empty()
                && !ws.name.starts_with('.')
                && ws
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            let package_err = |source| BackupError::Package {
                workspace: ws.name.clone(),
                source,
            };
            if !safe {
                return Err(package_err(crate::export::ExportError::Unsupported(
                    "its name cannot be a file name (letters, digits, '-', '_' and '.' only)"
                        .to_string(),
                )));
            }
            let content = store
                .children(&ws.name, "/")?
                .into_iter()
                .any(|c| c.path != portable::VERSION_STORAGE);
            if !content {
                events.event(&Event::Warning {
                    message: &format!(
                        "workspace '{}' holds no content: no package written for it",
                        ws.name
                    ),
                });
                continue;
            }
            let name = format!("{PACKAGES_DIR}/{}.zip", ws.name);
            let package_id = portable::package_id(&ws.name, id).map_err(package_err)?;
            portable::write_package(&store, &ws.name, &[], &package_id, &tmp.join(&name), zip)
                .map_err(package_err)?;
            written.push(name);
        }
        sync_dir(&dir);
        Ok(written)
    }

    /// The newest intact backup of this catalogue (format 2) whose image has the
    /// generation token `generation` and the workspaces `chosen`: the repository has
    /// not changed since it was taken. Its lists (image chunks and blobs) are placed
    /// in the new backup's folder `tmp` (hard links where the file system has them,
    /// copies otherwise: a catalogue never writes a backup's file in place) and each
    /// placed file must match the earlier manifest's checksum, and every chunk must
    /// be in place, else it is not used (the placed lists are removed, and the image
    /// is copied). Returns that backup's manifest and the placed lists' entries, and
    /// the names of the lists that were linked.
    #[allow(clippy::result_large_err)] // the module's error type, as everywhere here
    fn unchanged_backup(
        &self,
        generation: &str,
        chosen: &[String],
        tmp: &Path,
    ) -> Result<Option<Shared>> {
        let scan = self.scan()?;
        let Some(m) = scan.backups.into_iter().rev().find(|m| {
            m.generation.as_deref() == Some(generation)
                && m.chosen_workspaces == chosen
                && m.image.is_some()
        }) else {
            return Ok(None);
        };
        if !self.looks_intact(&m) {
            return Ok(None);
        }
        let dir = self.backup_dir(&m.id);
        let mut placed: Vec<FileEntry> = Vec::new();
        let mut linked = Vec::new();
        // A list left in place would be written over by the full copy, and a link
        // names the earlier backup's file: a list that cannot be removed is an error.
        let give_up = |placed: &[FileEntry]| -> Result<Option<Shared>> {
            for f in placed {
                let p = tmp.join(&f.path);
                std::fs::remove_file(&p).map_err(|e| BackupError::io(&p, e))?;
            }
            Ok(None)
        };
        for name in [IMAGE_LIST_FILE, BLOB_LIST_FILE] {
            let Some(entry) = m.files.iter().find(|f| f.path == name) else {
                return give_up(&placed);
            };
            let to = tmp.join(name);
            if place_list(&dir.join(name), &to)? {
                linked.push(name.to_string());
            }
            placed.push(entry.clone());
            match hash_file(&to) {
                Ok((sha, n)) if sha == entry.sha256 && n == entry.bytes => {}
                _ => return give_up(&placed),
            }
        }
        let blobs = self.blobs();
        let list = tmp.join(IMAGE_LIST_FILE);
        let f = std::fs::File::open(&list).map_err(|e| BackupError::io(&list, e))?;
        for line in BufReader::new(f).lines() {
            let line = line.map_err(|e| BackupError::io(&list, e))?;
            match parse_line(&line) {
                Some((sha, size)) if blobs.has_listed(sha, size) => {}
                _ => return give_up(&placed),
            }
        }
        Ok(Some(Shared {
            prev: m,
            lists: placed,
            linked,
        }))
    }
}
