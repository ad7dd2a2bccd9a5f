//! The content-addressed blob store: every binary value, once, under its SHA-256.
//!
//! A blob with hash `abcdef…` lives at `blobs/ab/cdef…`. Writing goes into a
//! temporary file (in `blobs/ab/`, or in `blobs/` for data hashed as it is
//! written) renamed into place ([`files`]); a blob that is already there (with
//! the right size) is not written again. The two-digit folders are spread over
//! the file system where it can ([`spread`]), so that allocating a new blob's
//! inode does not scan past every inode deleted in the last minute. Blobs up to
//! [`IN_MEMORY`] are written on a thread of the store's own ([`writer`]): a put
//! hands the bytes over and returns the blob at once. New blobs are made durable
//! together, by [`BlobStore::sync_pending`], before the transaction that refers to
//! them commits: it waits for the queued writes, fails with the first that failed,
//! and syncs once instead of two `fsync` calls a blob (an install of 13,000 small
//! renditions spent most of its time in them). Blobs are never changed, and
//! deleted only by `gc` once neither content nor any journal before-image refers
//! to them (the journal may need them for undo), so a crash at any point leaves at
//! worst an unreferenced temporary file or blob, which `gc` removes.
//!
//! A scratch repository's store ([`BlobStore::scratch`], for `dump PACKAGE`) makes
//! nothing durable and may keep only digests: see [`Keeping`].

mod files;
mod spread;
mod writer;

use super::{RepositoryError, Result};
use crate::value::Binary;
use files::io;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use writer::{Bytes, Writes};

/// Size of the buffer data is streamed through.
const CHUNK: usize = 64 * 1024;

/// Data up to this size is hashed in memory before anything is written (see
/// [`BlobStore::put`]): renditions and other binaries of a content package are
/// mostly below it.
const IN_MEMORY: usize = 1024 * 1024;

/// What a blob store keeps of the binaries put into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    /// Every blob's bytes, made durable before the commit that refers to them.
    Durable,
    /// Every blob's bytes, never synced: a scratch repository, removed after the
    /// command that made it.
    Unsynced,
    /// Only the digest and size of each binary, no bytes: a scratch repository whose
    /// reader needs no binary's content (reading one back fails as not found, and
    /// [`BlobStore::check`] cannot tell, so it accepts any).
    DigestsOnly,
}

/// Bytes with their SHA-256, computed from exactly these bytes when made: the two
/// cannot be set apart, so a blob can be hashed on one thread (the installer's
/// read-ahead) and stored on another without being hashed again
/// ([`BlobStore::put_hashed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedBytes {
    bytes: Vec<u8>,
    digest: [u8; 32],
    sha256: String,
}

impl HashedBytes {
    /// Hashes `bytes`.
    pub fn new(bytes: Vec<u8>) -> HashedBytes {
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        HashedBytes {
            bytes,
            sha256: hex(&digest),
            digest,
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Their SHA-256 in lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Their size.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn blob(&self) -> Binary {
        Binary::Blob {
            sha256: self.sha256.clone(),
            size: self.size(),
        }
    }
}

/// A blob folder (`REPO/blobs`).
#[derive(Debug)]
pub struct BlobStore {
    repository: PathBuf,
    dir: PathBuf,
    keeping: Keeping,
    /// The blobs put since the last [`BlobStore::sync_pending`], and the writes of
    /// new ones.
    writes: Writes,
    /// Puts so far: what a sync started ahead covers.
    puts: AtomicU64,
    /// The sync [`BlobStore::sync_ahead`] started, if any.
    ahead: Mutex<Option<Ahead>>,
}

/// A sync of the blob folder's file system started ahead of the commit.
#[derive(Debug)]
struct Ahead {
    /// The puts it covers (their writes were done when it started).
    puts: u64,
    done: std::thread::JoinHandle<std::io::Result<()>>,
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Whether `s` is a SHA-256 in lower-case hex (64 characters `0-9a-f`).
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The digest SHA-256 `sha256` (checked with [`is_sha256`]) spells.
fn digest_of(sha256: &str) -> [u8; 32] {
    let nibble = |c: u8| {
        if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'a' + 10
        }
    };
    let mut d = [0u8; 32];
    for (out, pair) in d.iter_mut().zip(sha256.as_bytes().chunks_exact(2)) {
        *out = nibble(pair[0]) << 4 | nibble(pair[1]);
    }
    d
}

impl BlobStore {
    /// The blob store of the repository in folder `repository` (`repository/blobs`).
    pub fn new(repository: &Path) -> BlobStore {
        BlobStore::keeping(repository, Keeping::Durable)
    }

    /// The blob store of a scratch repository in folder `repository`: nothing is
    /// synced, and with `Keeping::DigestsOnly` no bytes are written.
    pub fn keeping(repository: &Path, keeping: Keeping) -> BlobStore {
        let dir = repository.join("blobs");
        BlobStore {
            repository: repository.to_path_buf(),
            writes: Writes::new(&dir),
            dir,
            keeping,
            puts: AtomicU64::new(0),
            ahead: Mutex::new(None),
        }
    }

    /// A store whose writer thread writes the bytes with `write` (a failing disk).
    #[cfg(test)]
    fn writing_with(repository: &Path, write: files::WriteBytes) -> BlobStore {
        BlobStore {
            writes: writer::Writes::writing_with(&repository.join("blobs"), write),
            ..BlobStore::new(repository)
        }
    }

    /// The blob folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until every blob put so far is written (or its write failed), for
    /// whoever lists the blob folder itself.
    pub fn wait_for_writes(&self) {
        self.writes.drain();
    }

    /// Waits until every blob put so far is written, then relies on the disk alone
    /// for them: a transaction begins, or `gc` sweeps, and what was put outside a
    /// committed transaction may be gone by then (swept as unreferenced, here or
    /// by another process). A later put of one writes it again when missing, a
    /// check looks at the disk, and a write of theirs that failed no longer fails
    /// the next sync (nothing refers to them unless a check finds them). The next
    /// sync still makes them durable.
    pub fn recheck(&self) {
        self.writes.recheck();
        // A sync started for an earlier transaction covers none of this one's puts.
        self.ahead.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The file of blob `sha256`, or why that is not a blob name.
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        if !is_sha256(sha256) {
            return Err(RepositoryError::BlobNotFound {
                repository: self.repository.clone(),
                sha256: sha256.to_string(),
                reason: "expected 64 lower-case hex digits".into(),
            });
        }
        Ok(files::blob_path(&self.dir, sha256))
    }

    /// Checks that blob `sha256` exists with `size` bytes. A blob put since the
    /// last [`BlobStore::sync_pending`] is answered without looking: it is on disk,
    /// or queued, or its write failed and so does that sync, before any commit.
    pub fn check(&self, sha256: &str, size: u64) -> Result<()> {
        let p = self.path_of(sha256)?;
        if self.keeping == Keeping::DigestsOnly {
            return Ok(());
        }
        let digest = digest_of(sha256);
        match self.writes.known_size(&digest) {
            Some(known) if known == size => return Ok(()),
            Some(_) => self.writes.wait_for(&digest),
            None => {}
        }
        match std::fs::metadata(&p) {
            Ok(m) if m.len() == size => Ok(()),
            Ok(m) => Err(RepositoryError::BlobNotFound {
                repository: self.repository.clone(),
                sha256: sha256.to_string(),
                reason: format!("the stored blob has {} bytes, not {size}", m.len()),
            }),
            Err(e) => Err(RepositoryError::BlobNotFound {
                repository: self.repository.clone(),
                sha256: sha256.to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// Streams `data` into the store and returns its [`Binary::Blob`].
    ///
    /// Data that fits in [`IN_MEMORY`] is read and hashed in memory first, so
    /// storing a blob that is already there (a re-install) writes no file at all,
    /// and a new one is handed to the writer thread without being hashed again or
    /// copied. Larger data streams through a temporary file while it is hashed,
    /// on this thread.
    pub fn put(&self, data: &mut dyn Read) -> Result<Binary> {
        let mut head = Vec::with_capacity(CHUNK + 1);
        data.take(IN_MEMORY as u64 + 1)
            .read_to_end(&mut head)
            .map_err(|e| io(&self.dir, e))?;
        if head.len() <= IN_MEMORY {
            let hashed = HashedBytes::new(head);
            let blob = hashed.blob();
            self.put_in_memory(hashed.digest, Bytes::Owned(hashed.bytes))?;
            return Ok(blob);
        }
        if self.keeping == Keeping::DigestsOnly {
            return self.digest_only(&head, data);
        }
        self.puts.fetch_add(1, Ordering::SeqCst);
        let mut data = std::io::Read::chain(&head[..], data);
        let data: &mut dyn Read = &mut data;
        let mut tmp = files::temporary(&self.dir)?;
        let tmp_path = tmp.path().to_path_buf();
        let (sha256, size) = self.hash_through(data, &mut tmp, &tmp_path)?;
        let target = self.path_of(&sha256)?;
        if !files::present(&target, size) {
            files::place(&self.dir, tmp, &target)?;
        }
        // Present or new, the commit that refers to it makes sure it is on disk.
        self.writes.note(digest_of(&sha256), size);
        Ok(Binary::Blob { sha256, size })
    }

    /// The [`Binary::Blob`] of `head` followed by the rest of `data`, hashed and
    /// not stored ([`Keeping::DigestsOnly`]).
    fn digest_only(&self, head: &[u8], data: &mut dyn Read) -> Result<Binary> {
        let mut data = std::io::Read::chain(head, data);
        let (sha256, size) = self.hash_through(&mut data, &mut std::io::sink(), &self.dir)?;
        Ok(Binary::Blob { sha256, size })
    }

    /// Streams `data` into `out` while hashing it; its SHA-256 and size. `path`
    /// names `out` in an error.
    fn hash_through(
        &self,
        data: &mut dyn Read,
        out: &mut dyn Write,
        path: &Path,
    ) -> Result<(String, u64)> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(path, e)),
            };
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            out.write_all(chunk).map_err(|e| io(path, e))?;
            size += n as u64;
        }
        Ok((hex(&hasher.finalize()), size))
    }

    /// Stores bytes hashed before (on another thread, say) and returns their
    /// [`Binary::Blob`] at once: the bytes are copied for the writer thread, which
    /// writes a new blob through a temporary file renamed into place, and leaves
    /// one that is there (a re-install) as it is.
    pub fn put_hashed(&self, data: &HashedBytes) -> Result<Binary> {
        self.put_in_memory(data.digest, Bytes::Borrowed(&data.bytes))?;
        Ok(data.blob())
    }

    /// Hands blob `digest` to the writer (unless only digests are kept).
    fn put_in_memory(&self, digest: [u8; 32], bytes: Bytes<'_>) -> Result<()> {
        if self.keeping == Keeping::DigestsOnly {
            return Ok(());
        }
        // Another process (a dry run, a killed install) may have written it
        // without syncing: the commit that refers to it syncs it too.
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.writes.put(digest, bytes)
    }

    /// Starts making every blob put so far durable, on a thread of its own once
    /// their writes are done: the caller has written a transaction's content and
    /// has work left before the commit (the importer's node type check, the
    /// journal), which the sync then runs beside. [`BlobStore::sync_pending`]
    /// waits for it instead of syncing again, unless a blob was put after it
    /// started (then it syncs as before). A write that failed still fails that
    /// sync. Only on Linux (one `syncfs`) and for a store that syncs at all;
    /// elsewhere it does nothing.
    pub fn sync_ahead(&self) {
        if self.keeping != Keeping::Durable || !cfg!(target_os = "linux") {
            return;
        }
        self.writes.drain();
        let puts = self.puts.load(Ordering::SeqCst);
        let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        if puts == 0 || ahead.as_ref().is_some_and(|a| a.puts == puts) {
            return;
        }
        let dir = self.dir.clone();
        // Without a thread the commit syncs as before.
        *ahead = std::thread::Builder::new()
            .name("jcrpack-blob-sync".into())
            .spawn(move || sync_file_system(&dir))
            .ok()
            .map(|done| Ahead { puts, done });
    }

    /// Makes every blob stored or found since the last call durable, with its folder
    /// entry (a blob found in place may come from a process that never synced it),
    /// once every queued write is done; fails with the first write that failed.
    ///
    /// A transaction calls this before it commits, so a committed node never refers
    /// to a blob that is not on disk or that a power loss could take away. On
    /// Linux this is one `syncfs` of the blob folder's file system; elsewhere each
    /// new file and folder is synced.
    pub fn sync_pending(&self) -> Result<()> {
        self.make_durable().map(drop)
    }

    /// [`BlobStore::sync_pending`]; how many blobs it synced.
    fn make_durable(&self) -> Result<usize> {
        let ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner()).take();
        let pending = self.writes.settle()?;
        if pending.is_empty() || self.keeping != Keeping::Durable {
            return Ok(0);
        }
        #[cfg(target_os = "linux")]
        {
            // A sync started after the last put covers them all.
            let synced = match ahead {
                Some(a) if a.puts == self.puts.load(Ordering::SeqCst) => a.done.join().ok(),
                _ => None,
            };
            synced
                .unwrap_or_else(|| sync_file_system(&self.dir))
                .map_err(|e| io(&self.dir, e))?;
        }
        #[cfg(not(target_os = "linux"))]
        {
            drop(ahead);
            let mut folders = std::collections::BTreeSet::new();
            for (digest, trusted) in &pending {
                let p = files::blob_path(&self.dir, &hex(digest));
                // Write access: Windows' FlushFileBuffers needs it.
                match std::fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .and_then(|f| f.sync_all())
                {
                    Ok(()) => {}
                    // Put before a recheck and gone since: nothing refers to it.
                    Err(e) if !trusted && e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(&p, e)),
                }
                if let Some(parent) = p.parent() {
                    folders.insert(parent.to_path_buf());
                }
            }
            for f in folders {
                if let Ok(d) = File::open(&f) {
                    let _ = d.sync_all();
                }
            }
        }
        Ok(pending.len())
    }

    /// Stores in-memory bytes.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Binary> {
        let mut r = bytes;
        self.put(&mut r)
    }

    /// Opens blob `sha256` for reading.
    ///
    /// Only a regular file inside the blob folder is opened: a link (which could
    /// point anywhere, `/etc/passwd` included), a FIFO or a device in its place is
    /// refused as damaged without blocking. The reader hashes what it reads and, at
    /// the end of the data, fails naming the blob when the content no longer hashes
    /// to its name (a truncated or altered file), so an export, backup or restore
    /// never passes on a damaged binary as good.
    pub fn open(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        let p = self.path_of(sha256)?;
        // Written by this process and maybe still queued.
        self.writes.wait_for(&digest_of(sha256));
        let damaged = |reason: String| RepositoryError::BlobDamaged {
            repository: self.repository.clone(),
            sha256: sha256.to_string(),
            reason,
        };
        // One open and one fstat: the open refuses a final link (O_NOFOLLOW) and
        // does not block on a FIFO, the fstat refuses what is not a regular file.
        // Only when the open fails is the path looked at (lstat) to say why, as
        // before: a link, not a regular file, missing, or the open's own error.
        // Where O_NOFOLLOW is not there, a link is looked for first.
        let link = || {
            damaged(format!(
                "{} is a symbolic link, not a stored blob",
                p.display()
            ))
        };
        #[cfg(not(unix))]
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(link());
        }
        let f = match open_regular(&p) {
            Ok(f) => f,
            Err(e) => {
                return Err(match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.file_type().is_symlink() => link(),
                    Ok(m) if !m.is_file() => {
                        damaged(format!("{} is not a regular file", p.display()))
                    }
                    Err(l) if l.kind() == std::io::ErrorKind::NotFound => {
                        RepositoryError::BlobNotFound {
                            repository: self.repository.clone(),
                            sha256: sha256.to_string(),
                            reason: "no such file".into(),
                        }
                    }
                    Err(l) => io(&p, l),
                    Ok(_) => io(&p, e),
                })
            }
        };
        let m = f.metadata().map_err(|e| io(&p, e))?;
        if !m.is_file() {
            return Err(damaged(format!("{} is not a regular file", p.display())));
        }
        read_ahead(&f);
        Ok(Box::new(Verified {
            inner: BufReader::with_capacity(CHUNK, f),
            hasher: Some(Sha256::new()),
            sha256: sha256.to_string(),
            path: p,
        }))
    }
}

/// `syncfs` of the file system that holds folder `dir`.
#[cfg(target_os = "linux")]
fn sync_file_system(dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    // SAFETY: `syncfs` only reads the descriptor, which `d` keeps open.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Never called: [`BlobStore::sync_ahead`] starts nothing but on Linux.
#[cfg(not(target_os = "linux"))]
fn sync_file_system(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Bytes of a blob [`read_ahead`] asks the kernel for at its open.
#[cfg(target_os = "linux")]
const READ_AHEAD: libc::off_t = 1 << 20;

/// Asks the kernel to start reading the first [`READ_AHEAD`] bytes of blob file `f`
/// (fewer when the file is shorter) into the page cache, without waiting. A blob is
/// often opened well before it is read: the exporter opens each on its reading
/// thread and queues it (up to 128 entries) for the writer thread, which then read
/// each file from disk one after the other, waiting for each. Exporting the
/// 1M-node benchmark repository with its 61,548 blob files out of the page cache
/// took 14.2-14.6 s against 9.6 s with them cached, and 10.4-11.3 s with this hint:
/// the reads run while the writer works on the entries before. A cached file costs
/// the hint a look-up; a hint the kernel refuses changes nothing, so its result is
/// not looked at.
#[cfg(target_os = "linux")]
pub(crate) fn read_ahead(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: `posix_fadvise` only reads the descriptor, which `f` keeps open.
    unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, READ_AHEAD, libc::POSIX_FADV_WILLNEED) };
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn read_ahead(_f: &File) {}

/// Opens `p` for reading without following a final symbolic link and without
/// blocking on a FIFO.
fn open_regular(p: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    o.open(p)
}

/// A blob's reader that checks, at the end of the data, that what was read
/// hashes to the blob's name.
struct Verified {
    inner: BufReader<File>,
    /// `None` once the end was reached and checked.
    hasher: Option<Sha256>,
    sha256: String,
    path: PathBuf,
}

impl Read for Verified {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            if n > 0 {
                h.update(&buf[..n]);
            } else if !buf.is_empty() {
                let got = hex(&self.hasher.take().unwrap_or_default().finalize());
                if got != self.sha256 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "blob {} is damaged: {} hashes to {got} (truncated or altered)",
                            self.sha256,
                            self.path.display()
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_store_syncs_nothing_and_may_keep_digests_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let large = vec![7u8; IN_MEMORY + 10];
        let durable = BlobStore::new(dir.path());
        let want = [
            durable.put_bytes(b"small").unwrap(),
            durable.put_bytes(&large).unwrap(),
        ];

        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir(other.path().join("blobs")).unwrap();
        let unsynced = BlobStore::keeping(other.path(), Keeping::Unsynced);
        let got = [
            unsynced.put_bytes(b"small").unwrap(),
            unsynced.put_bytes(&large).unwrap(),
        ];
        assert_eq!(got, want);
        let Binary::Blob { sha256, size } = &got[1] else {
            panic!("{got:?}")
        };
        unsynced.check(sha256, *size).unwrap();
        assert_eq!(unsynced.make_durable().unwrap(), 0, "nothing to sync");
        assert_eq!(durable.make_durable().unwrap(), 2);
        for store in [&durable, &unsynced] {
            let files = walkdir::WalkDir::new(store.dir())
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .count();
            assert_eq!(files, 2, "both written");
        }

        let third = tempfile::tempdir().unwrap();
        std::fs::create_dir(third.path().join("blobs")).unwrap();
        let digests = BlobStore::keeping(third.path(), Keeping::DigestsOnly);
        let got = [
            digests.put_bytes(b"small").unwrap(),
            digests.put(&mut &large[..]).unwrap(),
        ];
        assert_eq!(got, want, "the same digests and sizes");
        assert_eq!(digests.make_durable().unwrap(), 0);
        assert_eq!(
            std::fs::read_dir(digests.dir()).unwrap().count(),
            0,
            "no file written"
        );
        digests.check(sha256, *size).unwrap();
        assert!(matches!(
            digests.open(sha256),
            Err(RepositoryError::BlobNotFound { .. })
        ));
    }

    #[test]
    fn a_blob_found_in_place_is_synced_by_the_next_commit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        // One process stores it and never commits (a dry run)...
        BlobStore::new(dir.path()).put_bytes(b"small").unwrap();
        // ...the next finds it in place and must still sync it before its commit.
        let store = BlobStore::new(dir.path());
        store.put_bytes(b"small").unwrap();
        assert_eq!(store.make_durable().unwrap(), 1);
        assert_eq!(store.make_durable().unwrap(), 0, "synced once");
    }

    #[test]
    fn stores_once_by_content_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        let a = store.put_bytes(b"hello").unwrap();
        let b = store.put(&mut &b"hello"[..]).unwrap();
        assert_eq!(a, b);
        let Binary::Blob { sha256, size } = &a else {
            panic!("expected a blob, got {a:?}")
        };
        // sha256("hello")
        assert_eq!(
            sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(*size, 5);
        let p = store.path_of(sha256).unwrap();
        assert!(p.ends_with("2c/f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        let mut out = String::new();
        store
            .open(sha256)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello");
        store.check(sha256, 5).unwrap();
        assert!(store.check(sha256, 6).is_err());
        // One blob file, no temporary leftovers.
        let files: Vec<_> = walkdir::WalkDir::new(store.dir())
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .collect();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn bytes_hashed_ahead_are_stored_as_streamed_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        let hashed = HashedBytes::new(b"hello".to_vec());
        assert_eq!(
            hashed.sha256(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let a = store.put_hashed(&hashed).unwrap();
        assert_eq!(a, store.put_bytes(b"hello").unwrap());
        assert_eq!(a.size(), Some(5));
        let mut back = Vec::new();
        store
            .open(hashed.sha256())
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b"hello");
        // Stored before by a stream: found in place, pending for the next commit.
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
        let streamed = store.put(&mut &data[..]).unwrap();
        assert_eq!(store.put_hashed(&HashedBytes::new(data)).unwrap(), streamed);
        assert_eq!(store.writes.known_count(), 2, "two contents");
        assert_eq!(store.make_durable().unwrap(), 2);
        let files = walkdir::WalkDir::new(store.dir())
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .count();
        assert_eq!(files, 2, "one file a content, no temporary left");
    }

    #[test]
    fn streams_large_content_and_refuses_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        // Past what is hashed in memory: streamed through a temporary file.
        let len = IN_MEMORY + 300_000;
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let b = store.put(&mut &data[..]).unwrap();
        assert_eq!(b.size(), Some(len as u64));
        let Binary::Blob { sha256, .. } = &b else {
            panic!("expected a blob, got {b:?}")
        };
        assert_eq!(sha256, &hex(&Sha256::digest(&data)));
        let mut back = Vec::new();
        store.open(sha256).unwrap().read_to_end(&mut back).unwrap();
        assert!(back == data, "the streamed blob reads back as stored");
        // The same again, and one just at the in-memory size: one file each, no
        // temporary file left.
        assert_eq!(store.put(&mut &data[..]).unwrap(), b);
        let edge = &data[..IN_MEMORY];
        let e = store.put(&mut &edge[..]).unwrap();
        assert_eq!(e.size(), Some(IN_MEMORY as u64));
        // The one in memory is written on the writer thread: done once synced.
        store.sync_pending().unwrap();
        let files = walkdir::WalkDir::new(store.dir())
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .count();
        assert_eq!(files, 2);
        assert!(matches!(
            store.open("../../etc/passwd"),
            Err(RepositoryError::BlobNotFound { .. })
        ));
        assert!(matches!(
            store.open(&"0".repeat(64)),
            Err(RepositoryError::BlobNotFound { .. })
        ));
    }

    #[test]
    fn a_blob_that_is_not_what_was_stored_is_named_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let sha = match store.put(&mut &data[..]).unwrap() {
            Binary::Blob { sha256, .. } => sha256,
            other => panic!("expected a blob, got {other:?}"),
        };
        let path = store.path_of(&sha).unwrap();
        let read_all = |store: &BlobStore| -> std::io::Result<Vec<u8>> {
            let mut out = Vec::new();
            store
                .open(&sha)
                .map_err(std::io::Error::other)?
                .read_to_end(&mut out)?;
            Ok(out)
        };
        assert_eq!(read_all(&store).unwrap(), data);

        // Truncated: the read fails at the end, naming the blob.
        std::fs::write(&path, &data[..50_000]).unwrap();
        let e = read_all(&store).unwrap_err().to_string();
        assert!(e.contains(&sha) && e.contains("damaged"), "{e}");

        // Altered with the same size.
        let mut altered = data.clone();
        altered[7] ^= 1;
        std::fs::write(&path, &altered).unwrap();
        assert!(read_all(&store).is_err());

        // A link out of the store (to a file with other content) is refused.
        std::fs::remove_file(&path).unwrap();
        let outside = dir.path().join("secret");
        std::fs::write(&outside, b"root:x:0:0").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&outside, &path).unwrap();
            let reason = |r: Result<Box<dyn Read + Send>>| match r {
                Err(RepositoryError::BlobDamaged { reason, .. }) => reason,
                Err(other) => panic!("expected a damaged blob, got {other:?}"),
                Ok(_) => panic!("expected a damaged blob, got a reader"),
            };
            assert_eq!(
                reason(store.open(&sha)),
                format!("{} is a symbolic link, not a stored blob", path.display())
            );
            // A dangling link, and a link to a folder, are links too.
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &path).unwrap();
            assert!(reason(store.open(&sha)).ends_with("is a symbolic link, not a stored blob"));
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(dir.path(), &path).unwrap();
            assert!(reason(store.open(&sha)).ends_with("is a symbolic link, not a stored blob"));
            std::fs::remove_file(&path).unwrap();
            // A FIFO in its place is refused without blocking.
            let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            assert_eq!(
                reason(store.open(&sha)),
                format!("{} is not a regular file", path.display())
            );
            std::fs::remove_file(&path).unwrap();
            // So is a folder.
            std::fs::create_dir(&path).unwrap();
            assert_eq!(
                reason(store.open(&sha)),
                format!("{} is not a regular file", path.display())
            );
            std::fs::remove_dir(&path).unwrap();
            // Missing: not found, as a name that is no blob's.
            match store.open(&sha) {
                Err(RepositoryError::BlobNotFound { reason, .. }) => {
                    assert_eq!(reason, "no such file")
                }
                Err(other) => panic!("expected a missing blob, got {other:?}"),
                Ok(_) => panic!("expected a missing blob, got a reader"),
            }
        }
    }

    /// A write to a full disk.
    fn disk_full(_: &mut File, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
    }

    /// The names of the files in `dir` and one level below.
    fn files_in(dir: &Path) -> Vec<String> {
        walkdir::WalkDir::new(dir)
            .min_depth(1)
            .max_depth(2)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Distinct contents of `n` bytes each.
    fn contents(count: usize, n: usize) -> Vec<HashedBytes> {
        (0..count)
            .map(|i| {
                let mut b = vec![(i % 251) as u8; n];
                b[..8].copy_from_slice(&(i as u64).to_le_bytes());
                HashedBytes::new(b)
            })
            .collect()
    }

    #[test]
    fn a_blob_reads_back_right_after_its_put_while_the_queue_stays_in_budget() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        // More than the writer's budget: some puts wait for it.
        let all = contents(3 * writer::BUDGET / 40_000, 40_000);
        for (i, c) in all.iter().enumerate() {
            let b = store.put_hashed(c).unwrap();
            assert_eq!(b.size(), Some(40_000));
            assert!(
                store.writes.held() <= writer::BUDGET,
                "queued within the budget"
            );
            store.check(c.sha256(), c.size()).unwrap();
            let mut back = Vec::new();
            store
                .open(c.sha256())
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == c.bytes(), "blob {i} reads back as put");
            if i % 2 == 0 {
                // The same through the stream: nothing queued again.
                assert_eq!(store.put_bytes(c.bytes()).unwrap(), b);
            }
        }

        assert_eq!(store.make_durable().unwrap(), all.len());
        assert_eq!(files_in(store.dir()).len(), all.len());
        // Checked against the disk once synced: a wrong size is not accepted.
        assert!(store.check(all[0].sha256(), 39_999).is_err());
        store.check(all[0].sha256(), 40_000).unwrap();
    }

    #[test]
    fn a_failed_write_fails_the_next_sync_naming_its_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::writing_with(dir.path(), disk_full);
        // Each put returns at once; the writes fail on the writer's thread.
        let all = contents(3, 100);
        for c in &all {
            store.put_hashed(c).unwrap();
        }
        let e = store.sync_pending().unwrap_err();
        let RepositoryError::Io { path, source } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(source.raw_os_error(), Some(libc::ENOSPC), "{e}");
        assert!(path.starts_with(store.dir()), "{e}");
        assert!(e.to_string().contains(".tmp-"), "names the file: {e}");
        assert_eq!(
            files_in(store.dir()),
            Vec::<String>::new(),
            "no temporary file"
        );
        // Reported once: the failed blobs are forgotten with it, so a check looks
        // at the disk.
        assert_eq!(store.make_durable().unwrap(), 0);
        assert!(store.check(all[0].sha256(), 100).is_err());

        // A file where a blob's folder belongs: the write fails, naming the blob.
        // (The failed writes above made the blobs' folders, and left them empty.)
        let store = BlobStore::new(dir.path());
        let sha = all[1].sha256();
        std::fs::remove_dir(store.dir().join(&sha[..2])).unwrap();
        std::fs::write(store.dir().join(&sha[..2]), b"in the way").unwrap();
        store.put_hashed(&all[1]).unwrap();
        store.put_hashed(&all[2]).unwrap();
        let e = store.sync_pending().unwrap_err();
        assert!(
            matches!(&e, RepositoryError::Io { path, .. } if path == &store.path_of(sha).unwrap()),
            "{e:?}"
        );
        // The other blob was written all the same.
        store.check(all[2].sha256(), 100).unwrap();
        let mut names = files_in(store.dir());
        names.sort();
        let mut want = [sha[..2].to_string(), all[2].sha256()[2..].to_string()];
        want.sort();
        assert_eq!(names, want);
    }

    #[test]
    fn dropping_the_store_writes_what_is_queued_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let all = contents(500, 10_000);
        {
            let store = BlobStore::new(dir.path());
            for c in &all {
                store.put_hashed(c).unwrap();
            }
        }
        let names = files_in(&dir.path().join("blobs"));
        assert_eq!(names.len(), all.len());
        assert!(names.iter().all(|n| !n.starts_with(".tmp")), "{names:?}");
    }

    #[test]
    fn a_writer_that_panics_fails_the_next_sync_instead_of_hanging() {
        fn panics(_: &mut File, _: &[u8]) -> std::io::Result<()> {
            panic!("injected panic in the blob writer")
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::writing_with(dir.path(), panics);
        store.put_hashed(&contents(1, 10)[0]).unwrap();
        let e = store.sync_pending().unwrap_err();
        assert!(e.to_string().contains("writer thread stopped"), "{e}");
        assert_eq!(
            files_in(store.dir()),
            Vec::<String>::new(),
            "no temporary file"
        );
    }

    #[test]
    fn after_a_recheck_a_blob_put_before_is_looked_for_on_disk_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        let c = &contents(1, 100)[0];
        store.put_hashed(c).unwrap();
        store.wait_for_writes();
        // Swept as unreferenced before any transaction referred to it.
        let p = store.path_of(c.sha256()).unwrap();
        std::fs::remove_file(&p).unwrap();
        store.check(c.sha256(), 100).unwrap();
        store.recheck();
        assert!(store.check(c.sha256(), 100).is_err(), "looked for on disk");
        store.put_hashed(c).unwrap();
        store.check(c.sha256(), 100).unwrap();
        assert_eq!(store.make_durable().unwrap(), 1);
        assert!(p.is_file(), "written again");

        // A failed write before the recheck no longer fails the next sync.
        let failing = BlobStore::writing_with(dir.path(), disk_full);
        failing.put_hashed(&contents(2, 10)[1]).unwrap();
        failing.recheck();
        assert_eq!(failing.make_durable().unwrap(), 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_sync_started_ahead_covers_the_puts_before_it_and_the_commit_syncs_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::new(dir.path());
        let covered = |s: &BlobStore| s.ahead.lock().unwrap().as_ref().map(|a| a.puts);
        // Nothing put: nothing to sync.
        store.sync_ahead();
        assert_eq!(covered(&store), None);
        let all = contents(3, 100);
        store.put_hashed(&all[0]).unwrap();
        store.put_hashed(&all[1]).unwrap();
        store.sync_ahead();
        assert_eq!(covered(&store), Some(2));
        // Started once for the same puts.
        store.sync_ahead();
        assert_eq!(covered(&store), Some(2));
        assert_eq!(files_in(store.dir()).len(), 2, "written before the sync");
        // A put after it: the commit's sync covers all three (a new syncfs).
        store.put_hashed(&all[2]).unwrap();
        assert_eq!(store.make_durable().unwrap(), 3);
        assert_eq!(covered(&store), None);
        assert_eq!(files_in(store.dir()).len(), 3);
        // Without a put after it, the commit waits for the sync started ahead.
        store.put_hashed(&contents(4, 100)[3]).unwrap();
        store.sync_ahead();
        assert_eq!(covered(&store), Some(4));
        assert_eq!(store.make_durable().unwrap(), 1);
        assert_eq!(covered(&store), None);
        // A new transaction forgets a sync started for the one before.
        store.put_hashed(&all[0]).unwrap();
        store.sync_ahead();
        store.recheck();
        assert_eq!(covered(&store), None);
        // A scratch store syncs nothing, ahead or not.
        let scratch = BlobStore::keeping(dir.path(), Keeping::Unsynced);
        scratch.put_hashed(&all[0]).unwrap();
        scratch.sync_ahead();
        assert_eq!(covered(&scratch), None);
    }

    #[test]
    fn a_sync_started_ahead_does_not_hide_a_failed_write() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let store = BlobStore::writing_with(dir.path(), disk_full);
        store.put_hashed(&contents(1, 100)[0]).unwrap();
        store.sync_ahead();
        let e = store.sync_pending().unwrap_err();
        assert!(e.to_string().contains(".tmp-"), "names the file: {e}");
    }
}
