//! The catalogue's shared blob folder, `DIR/blobs/ab/cdef…` (the repository's own
//! layout): verified copies in, verified reads out, and collection of the blobs no
//! backup refers to.

use super::durable::{sync_all, Durable};
use super::{BackupError, Result};
use crate::repository::blob::{hex, is_sha256, BlobStore};
use crate::repository::{RepositoryError, Result as RepoResult};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Size of the buffer blobs are streamed through.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The blobs a backup refers to, and how many of them it copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobStats {
    /// Distinct blobs the backup's image refers to.
    pub count: u64,
    /// Their total size.
    pub bytes: u64,
    /// How many were copied into the catalogue by this backup.
    pub copied_count: u64,
    /// Their size: what this backup added to the catalogue's blob folder.
    pub copied_bytes: u64,
    /// The size of those already in the catalogue (shared with earlier backups).
    pub reused_bytes: u64,
}

/// The blob folder of catalogue `dir`.
pub(crate) struct CatalogueBlobs {
    dir: PathBuf,
    store: BlobStore,
    /// The blob folder, opened on the first [`CatalogueBlobs::has`] (`None` when
    /// it cannot be opened: then each check names the whole path).
    #[cfg(unix)]
    folder: std::sync::OnceLock<Option<File>>,
}

/// Parses one `sha256 size` line of a blob list.
pub(crate) fn parse_line(line: &str) -> Option<(&str, u64)> {
    let (sha, size) = line.split_once(' ')?;
    if !is_sha256(sha) {
        return None;
    }
    Some((sha, size.parse().ok()?))
}

/// Hashes `r` to its end; returns (SHA-256 hex, size).
pub(crate) fn hash_reader(r: &mut dyn Read) -> std::io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut n = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                h.update(&buf[..k]);
                n += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((hex(&h.finalize()), n))
}

/// Hashes file `path`.
pub(crate) fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| BackupError::io(path, e))?;
    hash_reader(&mut f).map_err(|e| BackupError::io(path, e))
}

impl CatalogueBlobs {
    pub(crate) fn new(catalogue: &Path) -> CatalogueBlobs {
        CatalogueBlobs {
            dir: catalogue.join("blobs"),
            store: BlobStore::new(catalogue),
            #[cfg(unix)]
            folder: std::sync::OnceLock::new(),
        }
    }

    /// The file of blob `sha256`.
    pub(crate) fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        Ok(self.store.path_of(sha256)?)
    }

    /// Whether blob `sha256` is in place with `size` bytes (its name followed,
    /// as `std::fs::metadata` does).
    ///
    /// A backup checks every blob and chunk it shares this way, thousands per
    /// backup even when nothing changed, so on Unix the name is looked up relative
    /// to the blob folder, opened once (`fstatat` of `ab/cdef…` from a buffer on
    /// the stack): no path is built and the kernel walks two components, not the
    /// catalogue's whole path, per blob.
    pub(crate) fn has(&self, sha256: &str, size: u64) -> bool {
        is_sha256(sha256) && self.has_listed(sha256, size)
    }

    /// [`CatalogueBlobs::has`] for a name [`parse_line`] returned (so already
    /// checked to be 64 hex digits: lists are read line by line, and checking
    /// each name twice cost as much as the rest of the line's work).
    pub(crate) fn has_listed(&self, sha256: &str, size: u64) -> bool {
        debug_assert!(is_sha256(sha256));
        #[cfg(unix)]
        if let Some(folder) = self
            .folder
            .get_or_init(|| File::open(&self.dir).ok())
            .as_ref()
        {
            return stat_size_at(folder, sha256) == Some(size);
        }
        self.store.check(sha256, size).is_ok()
    }

    /// Copies blob `sha256` of `size` bytes from `src` into the folder, checking
    /// that the data has that hash and size; `pace` is called with each chunk's
    /// length (rate limit, progress, cancellation: an error stops the copy).
    /// Returns the new file, not yet synced. `repository` names the source in errors.
    pub(crate) fn copy_in(
        &self,
        repository: &Path,
        sha256: &str,
        size: u64,
        src: &mut dyn Read,
        pace: &mut dyn FnMut(u64) -> Result<()>,
    ) -> Result<PathBuf> {
        let target = self.path_of(sha256)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)
            .map_err(|e| BackupError::io(&self.dir, e))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; CHUNK.min(size.max(1) as usize)];
        let mut n = 0u64;
        loop {
            let k = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(source_damaged(repository, sha256, e.to_string())),
            };
            h.update(&buf[..k]);
            tmp.write_all(&buf[..k])
                .map_err(|e| BackupError::io(tmp.path(), e))?;
            n += k as u64;
            pace(k as u64)?;
        }
        let got = hex(&h.finalize());
        if got != sha256 || n != size {
            return Err(source_damaged(
                repository,
                sha256,
                format!("its content has {n} bytes hashing to {got}, not {size} bytes"),
            ));
        }
        #[cfg(not(target_os = "linux"))]
        tmp.as_file()
            .sync_all()
            .map_err(|e| BackupError::io(tmp.path(), e))?;
        let sub = target.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&sub).map_err(|e| BackupError::io(&sub, e))?;
        tmp.persist(&target)
            .map_err(|e| BackupError::io(&target, e.error))?;
        Ok(target)
    }

    /// Links blob `sha256` of `size` bytes from `src` (a repository's blob file)
    /// into the folder under its name when both are on one file system, and
    /// checks that the new name is a regular file of that size; `pace` is called
    /// once with `size` (progress, cancellation). Returns `false`, having changed
    /// nothing, when no link can be made (another file system, a file system
    /// without links, the name taken meanwhile, or `src` not a regular file of
    /// that size): then the blob is copied, and checked as it is.
    ///
    /// The link is made straight under the blob's name (one directory entry, no
    /// temporary name renamed): the name then refers to the repository's complete
    /// file, which the repository wrote under a temporary name and renamed, so no
    /// reader ever sees part of a blob under it. A kill right after leaves a name
    /// no complete backup refers to, which the next command's clean-up collects
    /// like any blob of an unfinished backup.
    ///
    /// A linked blob is not read through to check its hash: no byte is copied, so
    /// no copy can go wrong, and the name is then checked exactly as a blob the
    /// catalogue already holds is before it is shared (by its size): the catalogue
    /// names the very file the repository names. A blob already damaged in the
    /// repository (written over in place, what jcrpack never does) is backed up
    /// damaged, as it is: `backup verify` names it (it hashes every blob), and a
    /// restore or export refuses to read it (every read out of a catalogue is
    /// checked against the hash). Reading every binary through once more cost
    /// about a fifth of a first backup's time.
    ///
    /// A link shares no mutable state: jcrpack never writes a blob file in place
    /// (a repository or a catalogue writes a new file and renames it over the name;
    /// `gc`, `delete` and `prune` only unlink a name), so the two names of one file
    /// hold the blob's bytes for as long as either exists. Its data is as durable
    /// as the repository made it; the new name is made durable by
    /// [`CatalogueBlobs::sync`].
    pub(crate) fn link_in(
        &self,
        src: &Path,
        sha256: &str,
        size: u64,
        pace: &mut dyn FnMut(u64) -> Result<()>,
    ) -> Result<bool> {
        let target = self.path_of(sha256)?;
        if let Err(e) = std::fs::hard_link(src, &target) {
            let sub = target.parent().unwrap_or(&self.dir);
            // The first blob of its subfolder: make the folder and try once more.
            if e.kind() != std::io::ErrorKind::NotFound || sub.is_dir() {
                return Ok(false);
            }
            std::fs::create_dir_all(sub).map_err(|e| BackupError::io(sub, e))?;
            if std::fs::hard_link(src, &target).is_err() {
                return Ok(false);
            }
        }
        // `link` does not follow a symbolic link: a name that is not a regular file
        // of the size is given up, and the blob copied (and checked) instead.
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.is_file() && m.len() == size => {}
            _ => {
                let _ = std::fs::remove_file(&target);
                return Ok(false);
            }
        }
        if let Err(e) = pace(size) {
            let _ = std::fs::remove_file(&target);
            return Err(e);
        }
        Ok(true)
    }

    /// Stores `data`, whose SHA-256 the caller computed as `sha256`, under that
    /// name (not yet synced: see [`CatalogueBlobs::sync`]).
    pub(crate) fn put_hashed(&self, sha256: &str, data: &[u8]) -> Result<PathBuf> {
        let target = self.path_of(sha256)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)
            .map_err(|e| BackupError::io(&self.dir, e))?;
        tmp.write_all(data)
            .map_err(|e| BackupError::io(tmp.path(), e))?;
        // Starts writing the data to disk now, so that the writes overlap the rest
        // of the backup and [`CatalogueBlobs::sync`] finds little left to wait for.
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: only asks the kernel to start writeback of the open file.
            unsafe {
                libc::sync_file_range(tmp.as_file().as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE)
            };
        }
        #[cfg(not(target_os = "linux"))]
        tmp.as_file()
            .sync_all()
            .map_err(|e| BackupError::io(tmp.path(), e))?;
        let sub = target.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&sub).map_err(|e| BackupError::io(&sub, e))?;
        tmp.persist(&target)
            .map_err(|e| BackupError::io(&target, e.error))?;
        Ok(target)
    }

    /// Checks blob `sha256`: present, `size` bytes, hashing to its name. `Err` says
    /// what is wrong.
    pub(crate) fn verify(&self, sha256: &str, size: u64) -> std::result::Result<(), String> {
        let p = self.path_of(sha256).map_err(|e| e.to_string())?;
        let mut f = match File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("blob {sha256} is missing"))
            }
            Err(e) => return Err(format!("blob {sha256} cannot be read: {e}")),
        };
        let (got, n) =
            hash_reader(&mut f).map_err(|e| format!("blob {sha256} cannot be read: {e}"))?;
        if n != size {
            return Err(format!("blob {sha256} has {n} bytes, not {size}"));
        }
        if got != sha256 {
            return Err(format!(
                "blob {sha256} is damaged: its content hashes to {got}"
            ));
        }
        Ok(())
    }

    /// Opens blob `sha256` for a reader that checks its size first and its hash at
    /// the end: a damaged blob is an error naming it, never wrong data read quietly.
    pub(crate) fn open_verified(
        &self,
        catalogue: &Path,
        sha256: &str,
    ) -> RepoResult<Box<dyn Read + Send>> {
        let p = self.store.path_of(sha256)?;
        let f = match File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RepositoryError::BlobNotFound {
                    repository: catalogue.to_path_buf(),
                    sha256: sha256.to_string(),
                    reason: "it is missing from the catalogue".into(),
                })
            }
            Err(e) => return Err(RepositoryError::Io { path: p, source: e }),
        };
        // `backup export` queues opened blobs as `export` does.
        crate::repository::blob::read_ahead(&f);
        Ok(Box::new(VerifiedReader {
            inner: BufReader::with_capacity(CHUNK, f),
            hasher: Sha256::new(),
            expected: sha256.to_string(),
            catalogue: catalogue.to_path_buf(),
            done: false,
        }))
    }

    /// Makes what a backup added to the folder durable: the image chunks listed in
    /// `chunks` (a chunk list; reused chunks are clean already and cost one call)
    /// and the names of the blobs it linked, by syncing each chunk file, the folder
    /// and each of its subfolders, many at once ([`sync_all`]), its own files only:
    /// a `syncfs` would also wait for every other writer's data on the file system. When `copied`
    /// (blobs copied from another file system, whose data is ours to make
    /// durable) one `syncfs` on Linux instead; elsewhere
    /// [`CatalogueBlobs::copy_in`] synced each file already.
    /// `also` (the backup's own files) are synced in the same batch.
    pub(crate) fn sync(
        &self,
        chunks: Option<&Path>,
        copied: bool,
        mut also: Vec<Durable>,
    ) -> Result<()> {
        #[cfg(target_os = "linux")]
        if copied {
            use std::os::fd::AsRawFd;
            let d = File::open(&self.dir).map_err(|e| BackupError::io(&self.dir, e))?;
            // SAFETY: `syncfs` only reads the descriptor, which `d` keeps open.
            if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
                return Err(BackupError::io(&self.dir, std::io::Error::last_os_error()));
            }
            return sync_all(&also);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = copied;
        let mut items = Vec::new();
        if let Some(list) = chunks {
            let f = File::open(list).map_err(|e| BackupError::io(list, e))?;
            for line in BufReader::new(f).lines() {
                let line = line.map_err(|e| BackupError::io(list, e))?;
                let Some((sha, _)) = parse_line(&line) else {
                    continue;
                };
                items.push(Durable::Data(self.path_of(sha)?));
            }
        }
        let subs = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return sync_all(&also),
            Err(e) => return Err(BackupError::io(&self.dir, e)),
        };
        for e in subs {
            let e = e.map_err(|e| BackupError::io(&self.dir, e))?;
            if e.file_name().len() == 2 && e.file_type().is_ok_and(|t| t.is_dir()) {
                items.push(Durable::Entries(e.path()));
            }
        }
        items.push(Durable::Entries(self.dir.clone()));
        items.append(&mut also);
        sync_all(&items)
    }

    /// Removes every blob not in `keep` and every temporary file a killed copy
    /// left; returns how many blobs went and their bytes (what would go, when
    /// `dry_run`).
    pub(crate) fn collect(&self, keep: &HashSet<[u8; 32]>, dry_run: bool) -> Result<(u64, u64)> {
        let (mut count, mut bytes) = (0u64, 0u64);
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            Err(e) => return Err(BackupError::io(&self.dir, e)),
        };
        for sub in entries {
            let sub = sub.map_err(|e| BackupError::io(&self.dir, e))?;
            let name = sub.file_name().to_string_lossy().into_owned();
            let path = sub.path();
            if name.starts_with(".tmp-") {
                if !dry_run {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            if name.len() != 2 || !path.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&path).map_err(|e| BackupError::io(&path, e))? {
                let f = f.map_err(|e| BackupError::io(&path, e))?;
                let sha = format!("{name}{}", f.file_name().to_string_lossy());
                let Some(key) = key_of(&sha) else { continue };
                if keep.contains(&key) {
                    continue;
                }
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                if !dry_run {
                    std::fs::remove_file(f.path()).map_err(|e| BackupError::io(f.path(), e))?;
                }
                count += 1;
                bytes += len;
            }
        }
        Ok((count, bytes))
    }
}

/// The size of the file blob `sha256` (64 hex digits) names in the blob folder
/// `folder`, following a symbolic link; `None` when there is none.
#[cfg(unix)]
fn stat_size_at(folder: &File, sha256: &str) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let sha = sha256.as_bytes();
    // `ab/cdef…\0`: the two-digit folder, a slash, the other 62 digits, a NUL.
    let mut name = [0u8; 66];
    name[..2].copy_from_slice(&sha[..2]);
    name[2] = b'/';
    name[3..65].copy_from_slice(&sha[2..64]);
    // SAFETY: `stat` is plain data, written whole by a successful call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated (its last byte is 0), `st` is valid for
    // writes, and `folder` keeps the descriptor open for the call.
    let rc = unsafe { libc::fstatat(folder.as_raw_fd(), name.as_ptr().cast(), &mut st, 0) };
    (rc == 0).then_some(st.st_size as u64)
}

/// The 32 bytes of a SHA-256 in hex, for compact sets.
pub(crate) fn key_of(sha256: &str) -> Option<[u8; 32]> {
    if !is_sha256(sha256) {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(sha256.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(k)
}

/// Adds every blob of the blob list `list` to `set`.
pub(crate) fn add_list(list: &Path, set: &mut HashSet<[u8; 32]>) -> Result<()> {
    let f = File::open(list).map_err(|e| BackupError::io(list, e))?;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| BackupError::io(list, e))?;
        if let Some(k) = parse_line(&line).and_then(|(s, _)| key_of(s)) {
            set.insert(k);
        }
    }
    Ok(())
}

fn source_damaged(repository: &Path, sha256: &str, detail: String) -> BackupError {
    BackupError::SourceBlob {
        repository: repository.to_path_buf(),
        sha256: sha256.to_string(),
        detail,
    }
}

/// A blob reader that fails at the end when the content does not hash to the name.
struct VerifiedReader {
    inner: BufReader<File>,
    hasher: Sha256,
    expected: String,
    catalogue: PathBuf,
    done: bool,
}

impl Read for VerifiedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
        } else if !self.done && !buf.is_empty() {
            self.done = true;
            let got = hex(&self.hasher.clone().finalize());
            if got != self.expected {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "blob {} in the catalogue {} is damaged: its content hashes to {got}",
                        self.expected,
                        self.catalogue.display()
                    ),
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn copies_in_verified_and_reads_back_verified() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("blobs")).unwrap();
        let b = CatalogueBlobs::new(d.path());
        let mut paced = 0;
        let p = b
            .copy_in(Path::new("repo"), HELLO, 5, &mut &b"hello"[..], &mut |n| {
                paced += n;
                Ok(())
            })
            .unwrap();
        assert_eq!(paced, 5);
        assert!(b.has(HELLO, 5));
        b.sync(None, true, Vec::new()).unwrap();
        b.sync(None, false, Vec::new()).unwrap();
        b.verify(HELLO, 5).unwrap();
        let mut s = String::new();
        b.open_verified(d.path(), HELLO)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello");
        // Damage it (same size): verify and a read both name it.
        std::fs::write(&p, "hellO").unwrap();
        let e = b.verify(HELLO, 5).unwrap_err();
        assert!(e.contains("is damaged"), "{e}");
        let mut s = String::new();
        let e = b
            .open_verified(d.path(), HELLO)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap_err();
        assert!(e.to_string().contains(HELLO), "{e}");
    }

    #[test]
    fn a_source_that_does_not_match_its_name_is_refused_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("blobs")).unwrap();
        let b = CatalogueBlobs::new(d.path());
        let e = b
            .copy_in(Path::new("repo"), HELLO, 5, &mut &b"jello"[..], &mut |_| {
                Ok(())
            })
            .unwrap_err();
        assert!(e.to_string().contains(HELLO), "{e}");
        assert_eq!(
            std::fs::read_dir(d.path().join("blobs")).unwrap().count(),
            0
        );
    }

    #[test]
    fn collect_removes_what_no_backup_keeps() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("blobs")).unwrap();
        let b = CatalogueBlobs::new(d.path());
        b.copy_in(Path::new("repo"), HELLO, 5, &mut &b"hello"[..], &mut |_| {
            Ok(())
        })
        .unwrap();
        std::fs::write(d.path().join("blobs/.tmp-x"), "left").unwrap();
        let keep: HashSet<[u8; 32]> = HashSet::new();
        assert_eq!(b.collect(&keep, true).unwrap(), (1, 5));
        assert!(b.has(HELLO, 5));
        let keep: HashSet<[u8; 32]> = [key_of(HELLO).unwrap()].into_iter().collect();
        assert_eq!(b.collect(&keep, false).unwrap(), (0, 0));
        assert!(!d.path().join("blobs/.tmp-x").exists());
        assert_eq!(b.collect(&HashSet::new(), false).unwrap(), (1, 5));
        assert!(!b.has(HELLO, 5));
    }
}
