//! A backup's blobs into the catalogue: each blob of the backup's list that the
//! catalogue lacks is linked from a SQLite repository's blob folder (on the same
//! file system) or copied and checked; those already there are reused.
//!
//! From a SQLite repository without a rate limit, the blobs are taken on a few
//! threads: a first backup is mostly `link` and `stat` calls, whose time is the
//! kernel's path walks and directory updates, and those of different blobs run side
//! by side (a 100k-node repository's 6,162 blobs: most of a first backup's time
//! after its image). A rate limit, or another kind of store, takes them one by one.

use super::blobs::{parse_line, BlobStats, CatalogueBlobs};
use super::catalogue::Catalogue;
use super::create::{CreateOptions, Pace};
use super::{BackupError, Result};
use crate::events::{Event, Events, Unit};
use crate::repository::blob::BlobStore;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{RepositoryError, Store, StoreRead};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Blobs handed to a thread at a time.
const BATCH: usize = 64;

/// Threads that take blobs at most.
const MAX_THREADS: usize = 4;

/// Where a blob comes from.
enum Source<'a> {
    /// A SQLite repository's blob folder: linked when it can be, else copied.
    Files(&'a BlobStore),
    /// Any store: copied.
    Store(&'a dyn Store),
}

/// What became of one blob.
enum Took {
    Reused,
    Linked,
    Copied,
}

/// Blob counts of one thread, added up at the end.
#[derive(Default)]
struct Tally {
    stats: BlobStats,
    /// A blob was copied (not linked): its data is ours to make durable.
    copied_plain: bool,
}

impl Tally {
    fn add(&mut self, took: Took, size: u64) {
        self.stats.count += 1;
        self.stats.bytes += size;
        match took {
            Took::Reused => self.stats.reused_bytes += size,
            Took::Linked | Took::Copied => {
                self.stats.copied_count += 1;
                self.stats.copied_bytes += size;
                self.copied_plain |= matches!(took, Took::Copied);
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        let (a, b) = (&mut self.stats, other.stats);
        a.count += b.count;
        a.bytes += b.bytes;
        a.copied_count += b.copied_count;
        a.copied_bytes += b.copied_bytes;
        a.reused_bytes += b.reused_bytes;
        self.copied_plain |= other.copied_plain;
    }
}

impl Catalogue {
    /// Copies the blobs of the list `list_path` (`total` bytes) that the catalogue
    /// lacks, checking each (not yet synced: see [`CatalogueBlobs::sync`]); also
    /// returns whether a blob was copied (not linked), whose data is then ours to
    /// make durable. From a SQLite repository on the catalogue's file system a blob
    /// is linked instead of copied (see [`CatalogueBlobs::link_in`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn copy_blobs(
        &self,
        store: &dyn Store,
        sqlite: Option<&SqliteStore>,
        list_path: &Path,
        total: u64,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<(BlobStats, bool)> {
        events.event(&Event::Phase {
            name: "copying blobs",
            total: Some(total),
            unit: Unit::Bytes,
        });
        let f = std::fs::File::open(list_path).map_err(|e| BackupError::io(list_path, e))?;
        let lines = Lines::new(BufReader::new(f), list_path);
        let repository = store.location();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS);
        let tally = match sqlite {
            Some(s) if options.max_rate.is_none() && threads > 1 => {
                let files = BlobStore::new(s.location());
                self.take_on_threads(lines, &files, repository, threads, events, cancel)?
            }
            Some(s) => {
                let files = BlobStore::new(s.location());
                let source = Source::Files(&files);
                self.take_in_turn(lines, &source, repository, options, events, cancel)?
            }
            None => {
                let source = Source::Store(store);
                self.take_in_turn(lines, &source, repository, options, events, cancel)?
            }
        };
        Ok((tally.stats, tally.copied_plain))
    }

    /// Takes the blobs one by one on this thread, under `options.max_rate`.
    fn take_in_turn(
        &self,
        mut lines: Lines<'_>,
        source: &Source<'_>,
        repository: &Path,
        options: &CreateOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Tally> {
        let blobs = self.blobs();
        let mut pace = Pace::new(options.max_rate);
        let mut tally = Tally::default();
        while let Some((sha256, size)) = lines.next_blob()? {
            let mut step = |n: u64| -> Result<()> {
                events.event(&Event::Advance { amount: n });
                pace.advance(n, cancel);
                not_cancelled(cancel, repository)
            };
            let took = take(&blobs, source, repository, &sha256, size, &mut step, cancel)?;
            if matches!(took, Took::Reused) {
                events.event(&Event::Advance { amount: size });
            }
            tally.add(took, size);
        }
        Ok(tally)
    }

    /// Takes the blobs on `threads` threads, fed in batches by this one. The first
    /// error stops them all and is returned.
    fn take_on_threads(
        &self,
        mut lines: Lines<'_>,
        files: &BlobStore,
        repository: &Path,
        threads: usize,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<Tally> {
        let blobs = self.blobs();
        let failed = AtomicBool::new(false);
        let (tx, rx) = mpsc::sync_channel::<Vec<(String, u64)>>(threads * 2);
        let rx = Mutex::new(rx);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (blobs, failed, rx) = (&blobs, &failed, &rx);
                    std::thread::Builder::new()
                        .name("jcrpack-blobs".into())
                        .spawn_scoped(scope, move || {
                            let source = Source::Files(files);
                            let mut tally = Tally::default();
                            loop {
                                let batch =
                                    match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                                        Ok(b) => b,
                                        Err(_) => return Ok(tally),
                                    };
                                for (sha256, size) in batch {
                                    if failed.load(Ordering::Relaxed) {
                                        return Ok(tally);
                                    }
                                    let mut step = |n: u64| -> Result<()> {
                                        events.event(&Event::Advance { amount: n });
                                        not_cancelled(cancel, repository)
                                    };
                                    match take(
                                        blobs, &source, repository, &sha256, size, &mut step,
                                        cancel,
                                    ) {
                                        Ok(took) => {
                                            if matches!(took, Took::Reused) {
                                                events.event(&Event::Advance { amount: size });
                                            }
                                            tally.add(took, size);
                                        }
                                        Err(e) => {
                                            failed.store(true, Ordering::Relaxed);
                                            return Err(e);
                                        }
                                    }
                                }
                            }
                        })
                })
                .collect();
            // This thread reads the list and hands it out.
            let fed = (|| -> Result<()> {
                let mut batch = Vec::with_capacity(BATCH);
                while let Some(blob) = lines.next_blob()? {
                    batch.push(blob);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        if failed.load(Ordering::Relaxed) || tx.send(full).is_err() {
                            return Ok(());
                        }
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                Ok(())
            })();
            if fed.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            drop(tx);
            let mut tally = Tally::default();
            let mut first_error = fed.err();
            for w in workers {
                let outcome = match w {
                    Ok(handle) => handle.join().unwrap_or_else(|_| {
                        Err(BackupError::io(
                            repository,
                            std::io::Error::other("a blob-copying thread panicked"),
                        ))
                    }),
                    Err(e) => Err(BackupError::io(repository, e)),
                };
                match outcome {
                    Ok(t) => tally.merge(t),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        // Cancellation is what the others saw too: keep a real error.
                        let keep = match (&first_error, &e) {
                            (None, _) => true,
                            (
                                Some(BackupError::Repository(RepositoryError::Cancelled {
                                    ..
                                })),
                                _,
                            ) => !matches!(
                                e,
                                BackupError::Repository(RepositoryError::Cancelled { .. })
                            ),
                            _ => false,
                        };
                        if keep {
                            first_error = Some(e);
                        }
                    }
                }
            }
            match first_error {
                Some(e) => Err(e),
                None => {
                    not_cancelled(cancel, repository)?;
                    Ok(tally)
                }
            }
        })
    }
}

/// Takes one blob: reused when the catalogue has it, else linked or copied from
/// `source` (`step` is called with the bytes taken: progress, rate, cancellation).
fn take(
    blobs: &CatalogueBlobs,
    source: &Source<'_>,
    repository: &Path,
    sha256: &str,
    size: u64,
    step: &mut dyn FnMut(u64) -> Result<()>,
    cancel: &AtomicBool,
) -> Result<Took> {
    not_cancelled(cancel, repository)?;
    if blobs.has_listed(sha256, size) {
        return Ok(Took::Reused);
    }
    let src = match source {
        Source::Files(files) => {
            let from = files.path_of(sha256)?;
            if blobs.link_in(&from, sha256, size, step)? {
                return Ok(Took::Linked);
            }
            files.open(sha256)
        }
        Source::Store(store) => store.open_blob(sha256),
    };
    let mut src = src.map_err(|e| BackupError::SourceBlob {
        repository: repository.to_path_buf(),
        sha256: sha256.to_string(),
        detail: match e {
            RepositoryError::BlobNotFound { reason, .. } => reason,
            e => e.to_string(),
        },
    })?;
    blobs.copy_in(repository, sha256, size, &mut src, step)?;
    Ok(Took::Copied)
}

fn not_cancelled(cancel: &AtomicBool, repository: &Path) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        return Err(RepositoryError::Cancelled {
            repository: repository.to_path_buf(),
        }
        .into());
    }
    Ok(())
}

/// The `sha256 size` lines of a blob list, through one line buffer (a list has a
/// line per blob, read on every backup, unchanged or not); lines end as
/// `BufRead::lines` ends them.
struct Lines<'p> {
    reader: BufReader<std::fs::File>,
    path: &'p Path,
    buf: String,
}

impl<'p> Lines<'p> {
    fn new(reader: BufReader<std::fs::File>, path: &'p Path) -> Lines<'p> {
        Lines {
            reader,
            path,
            buf: String::new(),
        }
    }

    fn next_blob(&mut self) -> Result<Option<(String, u64)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_line(&mut self.buf)
            .map_err(|e| BackupError::io(self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        let line = match self.buf.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => &self.buf,
        };
        match parse_line(line) {
            Some((sha256, size)) => Ok(Some((sha256.to_string(), size))),
            None => Err(BackupError::io(
                self.path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("bad line '{line}'"),
                ),
            )),
        }
    }
}
