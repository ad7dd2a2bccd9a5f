//! The blob store's writer (issue 16): new blob files are written on a thread of
//! its own, so the thread that puts a blob (the installer) hands its bytes over
//! and goes on at once, and the file-system work (a `statx`, a temporary file, a
//! write, a rename) runs on the other core.
//!
//! * Memory: the buffers queued and not yet written stay under [`BUDGET`]; a put
//!   beyond it waits (one blob larger than the budget goes alone). Borrowed bytes
//!   are copied (about 100 MiB in 6,000 blobs for a 100,000-node package: a few
//!   ms), owned ones are taken as they are; the writer frees them.
//! * Known blobs: every blob put since the last [`Writes::settle`] is remembered
//!   (its digest, size and jobs still queued). Putting one again queues nothing;
//!   checking one needs no file-system call (it is on disk, or queued, or its
//!   write failed and the next settle fails); reading one waits for its write.
//! * Errors: the first failed write is kept, and the next [`Writes::settle`] (before
//!   a commit) returns it, naming the file as a write on the caller's thread
//!   would; so a commit never refers to a blob that is not on disk. A failed
//!   write leaves no temporary file.
//! * Stopping: dropping [`Writes`] writes what is queued (at worst unreferenced
//!   blobs, which `gc` removes, as after a killed install) and joins the thread.
//!   When the thread cannot be started, or stopped early (a panic), puts are
//!   written on the caller's thread as before, and what it left queued fails the
//!   next settle.

use super::super::{RepositoryError, Result};
use super::files::{self, WriteBytes};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

/// Bytes put and not yet written, at most: enough to keep the writer busy while
/// the installer runs ahead. 100k import (3 runs each, quiet machine): 8 MiB 2.86
/// to 2.92 s, peak 58-59 MB; 4 MiB 2.82 to 3.01 s, 55 MB; 2 MiB 2.83 to 2.92 s,
/// 53 MB; 1 MiB 2.84 to 2.91 s, 52 MB (without the writer 3.64 to 3.86 s, 46-48
/// MB). 2 MiB: a blob of up to 1 MiB (the most put from memory) still queues
/// behind another.
pub const BUDGET: usize = 2 << 20;

/// What a queued blob costs beyond its bytes (its job, its entry), so that empty
/// blobs too are bounded in number.
const JOB_OVERHEAD: usize = 256;

/// A blob's SHA-256.
pub(super) type Digest = [u8; 32];

/// Bytes to put: copied, or taken as they are.
pub(super) enum Bytes<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Bytes<'_> {
    fn len(&self) -> usize {
        match self {
            Bytes::Borrowed(b) => b.len(),
            Bytes::Owned(v) => v.len(),
        }
    }
}

struct Job {
    digest: Digest,
    bytes: Vec<u8>,
    /// What it costs the budget.
    held: usize,
}

/// What a buffer of `capacity` bytes costs the budget.
fn cost(capacity: usize) -> usize {
    capacity + JOB_OVERHEAD
}

/// A blob put since the last settle.
#[derive(Clone, Copy)]
struct Known {
    size: u64,
    /// Its jobs queued or being written.
    queued: u32,
    /// Put since the last [`Writes::recheck`]: it is on disk, queued, or its write
    /// failed (so the next settle fails). Otherwise it was put before, and its file
    /// may have been removed since (by `gc`): it is looked for again.
    trusted: bool,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// The cost of the jobs queued, being written, or being filled.
    held: usize,
    known: HashMap<Digest, Known, foldhash::fast::RandomState>,
    /// The first write that failed since the last settle.
    failure: Option<RepositoryError>,
    /// The store is dropped: write what is queued and end.
    closed: bool,
    /// The thread ended (it is never restarted).
    stopped: bool,
}

struct Shared {
    dir: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    write: WriteBytes,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'g>(&self, g: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        self.changed.wait(g).unwrap_or_else(|e| e.into_inner())
    }

    fn target(&self, digest: &Digest) -> PathBuf {
        files::blob_path(&self.dir, &super::hex(digest))
    }
}

/// The writes of one blob store (see the module).
pub(super) struct Writes {
    shared: Arc<Shared>,
    /// Started at the first put that writes; `None` when it could not be.
    thread: OnceLock<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Writes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.shared.lock();
        f.debug_struct("Writes")
            .field("queued", &g.queue.len())
            .field("known", &g.known.len())
            .finish()
    }
}

impl Writes {
    /// The writes into blob folder `dir`.
    pub(super) fn new(dir: &Path) -> Writes {
        Writes::writing_with(dir, files::write_bytes)
    }

    /// The writes into blob folder `dir`, the bytes written by `write`.
    pub(super) fn writing_with(dir: &Path, write: WriteBytes) -> Writes {
        Writes {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                write,
            }),
            thread: OnceLock::new(),
        }
    }

    /// Whether the writer thread runs (started now if it was not).
    fn started(&self) -> bool {
        self.thread
            .get_or_init(|| {
                let shared = Arc::clone(&self.shared);
                std::thread::Builder::new()
                    .name("jcrpack-blobs".into())
                    .spawn(move || run(&shared))
                    .ok()
            })
            .is_some()
    }

    /// Puts blob `digest` with `bytes`: queued for the writer (waiting while the
    /// budget is full), or nothing when it was put since the last settle. Fails
    /// only when written here (no writer) and the write fails.
    pub(super) fn put(&self, digest: Digest, bytes: Bytes<'_>) -> Result<()> {
        let size = bytes.len() as u64;
        let mut g = self.shared.lock();
        if g.known.get(&digest).is_some_and(|k| k.trusted) {
            return Ok(());
        }
        let held = cost(match &bytes {
            Bytes::Borrowed(b) => b.len(),
            Bytes::Owned(v) => v.capacity(),
        });
        if !g.stopped && self.started() {
            while g.held > 0 && g.held + held > BUDGET && !g.stopped {
                g = self.shared.wait(g);
            }
        }
        if g.stopped || !self.started() {
            drop(g);
            return self.write_here(digest, &bytes);
        }
        g.held += held;
        let k = g.known.entry(digest).or_insert(Known {
            size,
            queued: 0,
            trusted: true,
        });
        k.queued += 1;
        k.trusted = true;
        drop(g);
        // Copied outside the lock: the writer goes on meanwhile.
        let bytes = match bytes {
            Bytes::Owned(v) => v,
            Bytes::Borrowed(b) => b.to_vec(),
        };
        let job = Job {
            digest,
            bytes,
            held,
        };
        self.shared.lock().queue.push_back(job);
        self.shared.changed.notify_all();
        Ok(())
    }

    /// Writes blob `digest` on this thread, and notes it.
    fn write_here(&self, digest: Digest, bytes: &Bytes<'_>) -> Result<()> {
        let b = match bytes {
            Bytes::Borrowed(b) => b,
            Bytes::Owned(v) => &v[..],
        };
        let target = self.shared.target(&digest);
        files::store(&self.shared.dir, &target, b, self.shared.write)?;
        self.note(digest, b.len() as u64);
        Ok(())
    }

    /// Notes blob `digest` of `size` bytes, stored or found by the caller, to be
    /// made durable by the next settle.
    pub(super) fn note(&self, digest: Digest, size: u64) {
        let mut g = self.shared.lock();
        let k = g.known.entry(digest).or_insert(Known {
            size,
            queued: 0,
            trusted: true,
        });
        k.trusted = true;
    }

    /// The size of blob `digest` when it was put since the last settle and is
    /// trusted to be there (see [`Known::trusted`]).
    pub(super) fn known_size(&self, digest: &Digest) -> Option<u64> {
        let g = self.shared.lock();
        g.known.get(digest).filter(|k| k.trusted).map(|k| k.size)
    }

    /// Waits until no write of blob `digest` is queued.
    pub(super) fn wait_for(&self, digest: &Digest) {
        let mut g = self.shared.lock();
        while !g.stopped && g.known.get(digest).is_some_and(|k| k.queued > 0) {
            g = self.shared.wait(g);
        }
    }

    /// Waits until every queued write is done (or failed).
    pub(super) fn drain(&self) {
        let mut g = self.shared.lock();
        while g.held > 0 && !g.stopped {
            g = self.shared.wait(g);
        }
    }

    /// Waits until every queued write is done, then trusts none of the blobs put
    /// so far to stay on disk, and drops a failed write of theirs: a later put
    /// writes them again when missing, and a check looks at the disk. They are
    /// still made durable by the next settle.
    pub(super) fn recheck(&self) {
        self.drain();
        let mut g = self.shared.lock();
        for k in g.known.values_mut() {
            k.trusted = false;
        }
        if !g.stopped {
            g.failure = None;
        }
    }

    /// Waits until every queued write is done, then forgets the blobs put since
    /// the last settle and returns them (and whether each is trusted to be on
    /// disk), or the first write that failed.
    pub(super) fn settle(&self) -> Result<Vec<(Digest, bool)>> {
        self.drain();
        let mut g = self.shared.lock();
        if g.stopped && g.held > 0 {
            // What the thread left undone: nothing can refer to it.
            g.queue.clear();
            g.held = 0;
            if g.failure.is_none() {
                g.failure = Some(unfinished(&self.shared.dir));
            }
        }
        let known = std::mem::take(&mut g.known);
        match g.failure.take() {
            Some(e) => Err(e),
            None => Ok(known.into_iter().map(|(d, k)| (d, k.trusted)).collect()),
        }
    }

    #[cfg(test)]
    pub(super) fn known_count(&self) -> usize {
        self.shared.lock().known.len()
    }

    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.shared.lock().held
    }
}

impl Drop for Writes {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        if let Some(Some(thread)) = self.thread.take() {
            // A panic of the thread was noted by its guard.
            let _ = thread.join();
        }
    }
}

/// Why blobs queued for a thread that stopped (panicked) were not written.
fn unfinished(dir: &Path) -> RepositoryError {
    files::io(
        dir,
        std::io::Error::other("the blob writer thread stopped before writing every blob"),
    )
}

/// Marks the thread stopped when it ends, returning or unwinding, so that nobody
/// waits for it.
struct Stopping<'a>(&'a Shared);

impl Drop for Stopping<'_> {
    fn drop(&mut self) {
        let mut g = self.0.lock();
        g.stopped = true;
        if g.held > 0 && g.failure.is_none() {
            g.failure = Some(unfinished(&self.0.dir));
        }
        drop(g);
        self.0.changed.notify_all();
    }
}

/// The writer thread: writes the queued blobs in order until closed and empty.
fn run(shared: &Shared) {
    let _stopping = Stopping(shared);
    loop {
        let mut g = shared.lock();
        let job = loop {
            if let Some(job) = g.queue.pop_front() {
                break job;
            }
            if g.closed {
                return;
            }
            g = shared.wait(g);
        };
        drop(g);
        let target = shared.target(&job.digest);
        let written = files::store(&shared.dir, &target, &job.bytes, shared.write);
        let mut g = shared.lock();
        g.held = g.held.saturating_sub(job.held);
        if let Some(k) = g.known.get_mut(&job.digest) {
            k.queued = k.queued.saturating_sub(1);
        }
        if let Err(e) = written {
            g.failure.get_or_insert(e);
        }
        drop(g);
        shared.changed.notify_all();
        // Freed outside the lock.
        drop(job);
    }
}
