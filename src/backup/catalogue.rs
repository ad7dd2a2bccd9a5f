//! Opening a catalogue, listing its backups, deleting one, and cleaning up what a
//! killed command left.

use super::blobs::{add_list, CatalogueBlobs};
use super::chunks::{IMAGE_LIST_FILE, READ_PREFIX};
use super::lock::{CatalogueLock, Mode};
use super::manifest::{is_backup_id, Manifest};
use super::store::BackupStore;
use super::{BackupError, Result};
use crate::repository::sqlite::{SqliteStore, DB_FILE};
use crate::repository::StoreRead;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The marker file of a catalogue.
pub const MARKER_FILE: &str = "catalogue.json";

/// The `format` of the marker.
pub const CATALOGUE_FORMAT: &str = "jcrpack-backup-catalogue";

/// The catalogue format version this code writes and reads.
pub const CATALOGUE_VERSION: u64 = 1;

/// The folder of the backups inside a catalogue.
pub const BACKUPS_DIR: &str = "backups";

/// A repository's default catalogue, `REPO/backups`.
pub const DEFAULT_CATALOGUE_DIR: &str = "backups";

/// The file of the blob list inside a backup.
pub const BLOB_LIST_FILE: &str = "blobs.txt";

/// The manifest inside a backup.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The marker inside a backup being written.
pub const IN_PROGRESS_FILE: &str = "in-progress";

/// The prefix of a backup being written (`.tmp-<ID>`) or deleted (`.del-<ID>`).
pub(crate) const TMP_PREFIX: &str = ".tmp-";
pub(crate) const DEL_PREFIX: &str = ".del-";

/// A backup catalogue (see the module doc of [`crate::backup`]).
#[derive(Debug, Clone)]
pub struct Catalogue {
    dir: PathBuf,
}

/// What a catalogue holds.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// The complete backups, oldest first.
    pub backups: Vec<Manifest>,
    /// Backup folders whose manifest cannot be read, with why.
    pub damaged: Vec<(String, String)>,
    /// Folders of backups a killed command left unfinished (or half deleted).
    pub unfinished: Vec<String>,
}

impl Catalogue {
    /// Opens the catalogue in folder `dir`; a folder without the marker is
    /// [`BackupError::NotACatalogue`], one of a newer format
    /// [`BackupError::NewerFormat`].
    pub fn open(dir: &Path) -> Result<Catalogue> {
        let not = |reason: &str| BackupError::NotACatalogue {
            dir: dir.to_path_buf(),
            reason: reason.to_string(),
        };
        if !dir.is_dir() {
            return Err(not("no such folder"));
        }
        let marker = dir.join(MARKER_FILE);
        let text = match std::fs::read(&marker) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(not("it has no catalogue.json"))
            }
            Err(e) => return Err(BackupError::io(&marker, e)),
        };
        let v: serde_json::Value =
            serde_json::from_slice(&text).map_err(|_| not("its catalogue.json is not JSON"))?;
        if v.get("format").and_then(|f| f.as_str()) != Some(CATALOGUE_FORMAT) {
            return Err(not("its catalogue.json is not a catalogue marker"));
        }
        let version = v.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version > CATALOGUE_VERSION {
            return Err(BackupError::NewerFormat {
                path: marker,
                found: version,
                supported: CATALOGUE_VERSION,
            });
        }
        for sub in ["blobs", BACKUPS_DIR] {
            if !dir.join(sub).is_dir() {
                return Err(not(&format!("its {sub} folder is missing")));
            }
        }
        Ok(Catalogue {
            dir: dir.to_path_buf(),
        })
    }

    /// Creates a catalogue in folder `dir` (created if missing; an existing folder
    /// must be empty).
    ///
    /// A folder that a creation killed before its marker was written left (only
    /// empty `blobs` and `backups` folders and temporary files) counts as empty:
    /// the creation is finished.
    pub fn create(dir: &Path) -> Result<Catalogue> {
        std::fs::create_dir_all(dir).map_err(|e| BackupError::io(dir, e))?;
        if !is_blank(dir)? {
            return Err(BackupError::NotACatalogue {
                dir: dir.to_path_buf(),
                reason: "it is not empty and has no catalogue.json (choose an empty or new folder)"
                    .into(),
            });
        }
        for sub in ["blobs", BACKUPS_DIR] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| BackupError::io(&p, e))?;
        }
        let marker = serde_json::json!({"format": CATALOGUE_FORMAT, "version": CATALOGUE_VERSION});
        write_durably(&dir.join(MARKER_FILE), format!("{marker}\n").as_bytes())?;
        Ok(Catalogue {
            dir: dir.to_path_buf(),
        })
    }

    /// Opens the catalogue in `dir`, creating it when the folder is missing or empty.
    pub fn open_or_create(dir: &Path) -> Result<Catalogue> {
        let empty =
            !dir.exists() || (!dir.join(MARKER_FILE).exists() && is_blank(dir).unwrap_or(false));
        if empty {
            Catalogue::create(dir)
        } else if dir.is_dir() && !dir.join(MARKER_FILE).exists() {
            Err(BackupError::NotACatalogue {
                dir: dir.to_path_buf(),
                reason: "it has no catalogue.json and is not empty (a new catalogue needs an empty or new folder)".into(),
            })
        } else {
            Catalogue::open(dir)
        }
    }

    /// [`Catalogue::open_or_create`], and when it created the catalogue, what
    /// [`NewCatalogue::take_back`] needs to remove it again (a first backup that
    /// failed leaves no catalogue behind).
    #[allow(clippy::result_large_err)] // the module's error type, as everywhere here
    pub fn open_or_create_new(dir: &Path) -> Result<(Catalogue, Option<NewCatalogue>)> {
        let folder_existed = dir.exists();
        let had_marker = dir.join(MARKER_FILE).exists();
        let c = Catalogue::open_or_create(dir)?;
        let new = (!had_marker).then(|| NewCatalogue {
            dir: dir.to_path_buf(),
            made_folder: !folder_existed,
        });
        Ok((c, new))
    }

    /// The default catalogue folder of the repository in `repo`: `REPO/backups`.
    pub fn default_dir(repo: &Path) -> PathBuf {
        repo.join(DEFAULT_CATALOGUE_DIR)
    }

    /// Opens (creating it if needed) the default catalogue of the repository in
    /// `repo`, which must be a repository folder.
    pub fn for_repository(repo: &Path) -> Result<Catalogue> {
        Catalogue::for_repository_new(repo).map(|(c, _)| c)
    }

    /// [`Catalogue::for_repository`], with [`Catalogue::open_or_create_new`]'s
    /// record of a catalogue it created.
    #[allow(clippy::result_large_err)] // the module's error type, as everywhere here
    pub fn for_repository_new(repo: &Path) -> Result<(Catalogue, Option<NewCatalogue>)> {
        must_be_repository(repo)?;
        Catalogue::open_or_create_new(&Catalogue::default_dir(repo))
    }

    /// Opens the default catalogue of the repository in `repo` when it has one;
    /// `None` when no backup was ever taken of it (no `REPO/backups` folder).
    /// Nothing is created: this is what commands that only read backups use.
    #[allow(clippy::result_large_err)] // the module's error type, as everywhere here
    pub fn of_repository(repo: &Path) -> Result<Option<Catalogue>> {
        must_be_repository(repo)?;
        let dir = Catalogue::default_dir(repo);
        if !dir.exists() {
            return Ok(None);
        }
        Catalogue::open(&dir).map(Some)
    }

    /// The catalogue folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of backup `id` (whether or not it exists).
    pub fn backup_dir(&self, id: &str) -> PathBuf {
        self.dir.join(BACKUPS_DIR).join(id)
    }

    pub(crate) fn blobs(&self) -> CatalogueBlobs {
        CatalogueBlobs::new(&self.dir)
    }

    /// Every backup, damaged folder and leftover of the catalogue.
    pub fn scan(&self) -> Result<Scan> {
        let root = self.dir.join(BACKUPS_DIR);
        let mut names = Vec::new();
        for e in std::fs::read_dir(&root).map_err(|e| BackupError::io(&root, e))? {
            let e = e.map_err(|e| BackupError::io(&root, e))?;
            if e.path().is_dir() {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        let mut scan = Scan::default();
        for name in names {
            if name.starts_with(TMP_PREFIX) || name.starts_with(DEL_PREFIX) {
                scan.unfinished.push(name);
                continue;
            }
            if !is_backup_id(&name) {
                continue;
            }
            match Manifest::read(&self.backup_dir(&name).join(MANIFEST_FILE), &name) {
                Ok(m) => scan.backups.push(m),
                Err(e) => scan.damaged.push((name, e.to_string())),
            }
        }
        Ok(scan)
    }

    /// The complete backups, oldest first (damaged and unfinished ones left out:
    /// see [`Catalogue::scan`]).
    pub fn list(&self) -> Result<Vec<Manifest>> {
        Ok(self.scan()?.backups)
    }

    /// The manifest of backup `id`; an unknown id is [`BackupError::UnknownId`]
    /// naming the nearest ids.
    pub fn manifest(&self, id: &str) -> Result<Manifest> {
        let dir = self.backup_dir(id);
        if !is_backup_id(id) || !dir.is_dir() {
            return Err(self.unknown(id));
        }
        Manifest::read(&dir.join(MANIFEST_FILE), id)
    }

    fn unknown(&self, id: &str) -> BackupError {
        let ids: Vec<String> = self
            .scan()
            .map(|s| s.backups.into_iter().map(|m| m.id).collect())
            .unwrap_or_default();
        BackupError::UnknownId {
            catalogue: self.dir.clone(),
            id: id.to_string(),
            nearest: nearest(id, &ids, 3),
        }
    }

    /// Opens backup `id` as a read-only repository whose blobs are read from the
    /// catalogue, each checked against its hash and size as it is read.
    pub fn open_store(&self, id: &str) -> Result<Box<dyn StoreRead>> {
        Ok(Box::new(self.open_backup_store(id)?))
    }

    /// [`Catalogue::open_store`] with the concrete type.
    ///
    /// The store holds the catalogue's shared lock until it is dropped: a `backup
    /// delete` or `backup prune` meanwhile waits for it (and says the catalogue is
    /// busy after a while) rather than remove what is being read.
    ///
    /// The image of a backup of format 2 is read on demand from its chunks, each
    /// checked against its hash when a read first needs it (see `chunk_image`);
    /// the image of format 1 is read in place.
    pub fn open_backup_store(&self, id: &str) -> Result<BackupStore> {
        let lock = super::lock::CatalogueLock::take(&self.dir, super::lock::Mode::Shared)?;
        let m = self.manifest(id)?;
        if m.image.is_some() {
            let (inner, chunks) = self.open_image_on_demand(id)?;
            return Ok(BackupStore::new(inner, &self.dir)
                .holding(lock)
                .reading(chunks));
        }
        let (image, temp) = self.image_of(id, &m)?;
        let inner =
            SqliteStore::open_image(&image, &self.dir).map_err(|e| BackupError::Damaged {
                id: id.to_string(),
                detail: e.to_string(),
            })?;
        Ok(BackupStore::new(inner, &self.dir)
            .holding(lock)
            .with_temp(temp))
    }

    /// Deletes backup `id`, then the blobs no remaining backup refers to.
    pub fn delete(&self, id: &str) -> Result<()> {
        let dir = self.backup_dir(id);
        if !is_backup_id(id) || !dir.is_dir() {
            return Err(self.unknown(id));
        }
        let _lock = CatalogueLock::take(&self.dir, Mode::Exclusive)?;
        let gone = self.unlist_backup(id)?;
        self.collect_blobs(false)?;
        self.remove_folders(&[gone])?;
        Ok(())
    }

    /// Takes backup folder `id` out of the list under the exclusive lock: renamed
    /// to `.del-<ID>` (atomic), which the caller removes with
    /// [`Catalogue::remove_folders`] only after collecting its blobs, so that a kill
    /// in between leaves an unfinished folder for the next command's
    /// [`Catalogue::clean_up`] (which collects again), never blobs no folder names.
    pub(crate) fn unlist_backup(&self, id: &str) -> Result<PathBuf> {
        let dir = self.backup_dir(id);
        let gone = self.dir.join(BACKUPS_DIR).join(format!("{DEL_PREFIX}{id}"));
        std::fs::rename(&dir, &gone).map_err(|e| BackupError::io(&dir, e))?;
        sync_dir(&self.dir.join(BACKUPS_DIR));
        Ok(gone)
    }

    /// Removes the unlisted or unfinished backup folders `folders` (after their
    /// blobs were collected).
    pub(crate) fn remove_folders(&self, folders: &[PathBuf]) -> Result<()> {
        for p in folders {
            std::fs::remove_dir_all(p).map_err(|e| BackupError::io(p, e))?;
        }
        Ok(())
    }

    /// The blobs every complete backup refers to, or `None` when a backup folder's
    /// blob list cannot be read (then no blob may be collected).
    pub(crate) fn referenced_blobs(&self, except: &[String]) -> Result<Option<HashSet<[u8; 32]>>> {
        let scan = self.scan()?;
        if !scan.damaged.is_empty() {
            return Ok(None);
        }
        let mut set = HashSet::new();
        for m in scan.backups.iter().filter(|m| !except.contains(&m.id)) {
            let list = self.backup_dir(&m.id).join(BLOB_LIST_FILE);
            if !list.is_file() {
                return Ok(None);
            }
            add_list(&list, &mut set)?;
            if m.image.is_some() {
                let chunks = self.backup_dir(&m.id).join(IMAGE_LIST_FILE);
                if !chunks.is_file() {
                    return Ok(None);
                }
                add_list(&chunks, &mut set)?;
            }
        }
        Ok(Some(set))
    }

    /// Removes the blobs no complete backup refers to (the exclusive lock must be
    /// held); returns their count and bytes.
    pub(crate) fn collect_blobs(&self, dry_run: bool) -> Result<(u64, u64)> {
        match self.referenced_blobs(&[])? {
            Some(keep) => self.blobs().collect(&keep, dry_run),
            None => Ok((0, 0)),
        }
    }

    /// Removes what killed commands left (unfinished backups, half-deleted ones,
    /// temporary blob files, blobs no backup refers to) when no other backup command
    /// is running; returns the names of the folders removed. When another command
    /// holds the catalogue, nothing is removed (its files may be live).
    pub fn clean_up(&self) -> Result<Vec<String>> {
        let Some(_lock) = CatalogueLock::try_take(&self.dir, Mode::Exclusive)? else {
            return Ok(Vec::new());
        };
        let scan = self.scan()?;
        // Images a killed reader was reading (no reader runs: the lock is ours).
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(READ_PREFIX) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let has_tmp_blobs = std::fs::read_dir(self.dir.join("blobs"))
            .map(|mut d| {
                d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(TMP_PREFIX)))
            })
            .unwrap_or(false);
        // Blobs first, folders after: a kill in between leaves the folders, and so
        // the reason to collect, for the next command (removing the folders first
        // left, after a kill there, blobs that nothing would ever collect).
        if !scan.unfinished.is_empty() || has_tmp_blobs {
            self.collect_blobs(false)?;
        }
        let root = self.dir.join(BACKUPS_DIR);
        let folders: Vec<PathBuf> = scan.unfinished.iter().map(|n| root.join(n)).collect();
        self.remove_folders(&folders)?;
        Ok(scan.unfinished)
    }
}

/// A catalogue this process created ([`Catalogue::open_or_create_new`]).
#[derive(Debug)]
pub struct NewCatalogue {
    dir: PathBuf,
    /// The folder was made too (else it existed, empty).
    made_folder: bool,
}

impl NewCatalogue {
    /// Removes the catalogue again, as it was before: when it holds no backup (only
    /// its marker, its lock file and empty `blobs` and `backups` folders) and no
    /// other process holds its lock. The folder itself goes too when it was made
    /// with the catalogue. Anything else is left as it is. True when removed.
    pub fn take_back(self) -> bool {
        let Ok(Some(lock)) = CatalogueLock::try_take(&self.dir, Mode::Exclusive) else {
            return false;
        };
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return false;
        };
        for e in entries {
            let Ok(e) = e else { return false };
            let name = e.file_name();
            let path = e.path();
            let fresh = match name.to_str() {
                Some(MARKER_FILE) | Some(super::lock::LOCK_FILE) => path.is_file(),
                Some("blobs") | Some(BACKUPS_DIR) => std::fs::read_dir(&path)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false),
                _ => false,
            };
            if !fresh {
                return false;
            }
        }
        // The marker first: a folder left half removed is blank, not a catalogue.
        let _ = std::fs::remove_file(self.dir.join(MARKER_FILE));
        let _ = std::fs::remove_dir(self.dir.join("blobs"));
        let _ = std::fs::remove_dir(self.dir.join(BACKUPS_DIR));
        let _ = std::fs::remove_file(self.dir.join(super::lock::LOCK_FILE));
        drop(lock);
        if self.made_folder {
            let _ = std::fs::remove_dir(&self.dir);
        }
        true
    }
}

/// Checks that `repo` is a repository folder (it has the database file).
#[allow(clippy::result_large_err)] // the module's error type, as everywhere here
fn must_be_repository(repo: &Path) -> Result<()> {
    if repo.join(DB_FILE).is_file() {
        return Ok(());
    }
    Err(BackupError::Repository(
        crate::repository::RepositoryError::NotARepository {
            path: repo.to_path_buf(),
            reason: format!("it has no {DB_FILE}"),
        },
    ))
}

/// Whether folder `dir` is empty, or holds only what a killed [`Catalogue::create`]
/// leaves before its marker: empty `blobs` and `backups` folders and temporary
/// files (`.tmp-*`, removed here).
fn is_blank(dir: &Path) -> Result<bool> {
    let mut temps = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| BackupError::io(dir, e))? {
        let e = e.map_err(|e| BackupError::io(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let empty_dir = || {
            path.is_dir()
                && std::fs::read_dir(&path)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false)
        };
        if (name == "blobs" || name == BACKUPS_DIR) && empty_dir() {
            continue;
        }
        if name.starts_with(TMP_PREFIX) && path.is_file() {
            temps.push(path);
            continue;
        }
        return Ok(false);
    }
    for t in temps {
        let _ = std::fs::remove_file(t);
    }
    Ok(true)
}

/// Up to `n` of `ids` closest to `id`: the longest common prefix first, then the
/// nearest in sort order.
fn nearest(id: &str, ids: &[String], n: usize) -> Vec<String> {
    let common = |a: &str| {
        a.bytes()
            .zip(id.bytes())
            .take_while(|(x, y)| x == y)
            .count()
    };
    let mut scored: Vec<(usize, &String)> = ids.iter().map(|i| (common(i), i)).collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, i)| i.clone()).collect()
}

/// Writes `bytes` to `path` through a temporary file, synced and renamed.
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent)
        .map_err(|e| BackupError::io(parent, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| BackupError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| BackupError::io(path, e.error))?;
    sync_dir(parent);
    Ok(())
}

/// Syncs a folder's entries (best effort: not every platform can open a folder).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_the_marker_is_not_a_catalogue() {
        let d = tempfile::tempdir().unwrap();
        let e = Catalogue::open(d.path()).unwrap_err();
        assert!(e.to_string().contains("is not a backup catalogue"), "{e}");
        std::fs::write(d.path().join("x"), "x").unwrap();
        let e = Catalogue::open_or_create(d.path()).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
    }

    #[test]
    fn a_creation_killed_before_its_marker_is_finished_by_the_next() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("c");
        for sub in ["blobs", BACKUPS_DIR] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join(".tmp-abc"), "{").unwrap();
        let c = Catalogue::open_or_create(&dir).unwrap();
        assert!(c.dir().join(MARKER_FILE).is_file());
        assert!(!dir.join(".tmp-abc").exists());
        // A folder with anything else in it is still refused.
        let other = d.path().join("o");
        std::fs::create_dir_all(other.join("blobs/ab")).unwrap();
        assert!(Catalogue::open_or_create(&other).is_err());
    }

    #[test]
    fn a_newer_catalogue_is_refused_by_version() {
        let d = tempfile::tempdir().unwrap();
        let c = Catalogue::create(&d.path().join("c")).unwrap();
        std::fs::write(
            c.dir().join(MARKER_FILE),
            r#"{"format":"jcrpack-backup-catalogue","version":7}"#,
        )
        .unwrap();
        let e = Catalogue::open(c.dir()).unwrap_err();
        assert!(
            matches!(e, BackupError::NewerFormat { found: 7, .. }),
            "{e}"
        );
    }

    #[test]
    fn unknown_ids_name_the_nearest() {
        let ids: Vec<String> = ["20261201T000000Z", "20261204T170512Z", "20261204T180000Z"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            nearest("20261204T17", &ids, 2),
            vec!["20261204T170512Z", "20261204T180000Z"]
        );
    }

    #[test]
    fn a_new_catalogue_is_taken_back_only_while_it_holds_nothing() {
        let d = tempfile::tempdir().unwrap();
        // A new folder: the folder goes too.
        let dir = d.path().join("c");
        let (_c, new) = Catalogue::open_or_create_new(&dir).unwrap();
        assert!(new.unwrap().take_back());
        assert!(!dir.exists());
        // An empty folder that was there: emptied, kept.
        std::fs::create_dir(&dir).unwrap();
        let (_c, new) = Catalogue::open_or_create_new(&dir).unwrap();
        assert!(new.unwrap().take_back());
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
        // An existing catalogue: nothing to take back.
        Catalogue::create(&dir).unwrap();
        let (_c, new) = Catalogue::open_or_create_new(&dir).unwrap();
        assert!(new.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
        // Something written into it meanwhile (another backup's blob): kept.
        let (_c, new) = Catalogue::open_or_create_new(&dir).unwrap();
        std::fs::create_dir(dir.join("blobs/ab")).unwrap();
        assert!(!new.unwrap().take_back());
        assert!(dir.join(MARKER_FILE).is_file());
        std::fs::remove_dir_all(&dir).unwrap();
        // Another process's lock (a backup starting into it): kept.
        let (_c, new) = Catalogue::open_or_create_new(&dir).unwrap();
        let _held = CatalogueLock::try_take(&dir, Mode::Shared)
            .unwrap()
            .unwrap();
        #[cfg(target_os = "linux")]
        {
            // flock locks of one process conflict across open file descriptions.
            assert!(!new.unwrap().take_back());
            assert!(dir.join(MARKER_FILE).is_file());
        }
        #[cfg(not(target_os = "linux"))]
        drop(new);
    }

    #[test]
    fn reading_a_repositorys_backups_creates_no_catalogue() {
        let d = tempfile::tempdir().unwrap();
        let e = Catalogue::of_repository(d.path()).unwrap_err();
        assert!(e.to_string().contains(DB_FILE), "{e}");
        std::fs::write(d.path().join(DB_FILE), "").unwrap();
        assert!(Catalogue::of_repository(d.path()).unwrap().is_none());
        assert!(!Catalogue::default_dir(d.path()).exists());
        let made = Catalogue::for_repository(d.path()).unwrap();
        let found = Catalogue::of_repository(d.path()).unwrap().unwrap();
        assert_eq!(found.dir(), made.dir());
        // A default folder that is not a catalogue is an error, not "no backups".
        std::fs::remove_file(made.dir().join(MARKER_FILE)).unwrap();
        assert!(Catalogue::of_repository(d.path()).is_err());
    }
}
