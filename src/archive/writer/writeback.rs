//! Starting the package's writeback to disk while it is still being written.
//!
//! [`PackageWriter::finish`](super::PackageWriter::finish) syncs the package to disk
//! before renaming it into place. Left alone, the kernel writes nothing back until the
//! dirty pages are 30 s old or a tenth of memory, so a package written in 15 s is
//! still wholly in memory at the sync, which then waits for the disk to write all of
//! it (about 2.5 s for 1.1 GB at 430 MB/s), after all the deflating is done. Asking
//! the kernel to start writing each stretch as soon as it is written
//! (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, Linux: it starts the writes without
//! waiting for them) overlaps the disk with the deflating, and the final sync only
//! waits for the last stretch. Nothing here is needed for correctness: the final
//! sync still makes the package durable, and a failed hint is ignored.

use std::fs::File;
use std::sync::mpsc;

/// Writeback is started once this many bytes more were handed to the kernel: the
/// final sync waits for at most about this much (an 11.6 MB package written in
/// 0.1 s, the sync after it: 9 to 12 ms unhinted or hinted every 16 MiB, 0.4 to 4 ms
/// hinted every MiB; a 1.1 GB one is about a thousand hints on their own thread).
pub(super) const STEP: u64 = 1 << 20;

/// Where writeback was last started, and the thread that starts it; see the module
/// doc. The thread is started with the first hint: a package under [`STEP`] bytes (an
/// extract of a few pages) never starts one (a thread's start and end were about a
/// tenth of a millisecond of such an extract's 5 ms).
#[derive(Debug, Default)]
pub(super) struct Writeback {
    /// Writeback was started for the bytes before this offset.
    started: u64,
    /// The file, until the thread takes it (none when it could not be shared).
    file: Option<File>,
    /// The ranges for the thread (none before the first hint, or when it could not
    /// be started).
    ranges: Option<mpsc::Sender<(u64, u64)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writeback {
    /// Hints for the writeback of `file`, started on a thread of its own with the
    /// first hint ([`Writeback::advance`]): `sync_file_range` blocks while the disk's
    /// queue is full (up to 66 ms a call, 0.8 s in all for a 1.1 GB export on the busy
    /// machine here), which must not stall the writer. Without a thread (the file
    /// cannot be shared, the thread not started), no hints.
    pub(super) fn new(file: &File) -> Writeback {
        Writeback {
            started: 0,
            file: file.try_clone().ok(),
            ranges: None,
            thread: None,
        }
    }

    /// The thread's channel, the thread started when this is the first hint.
    fn ranges(&mut self) -> Option<&mpsc::Sender<(u64, u64)>> {
        if let Some(file) = self.file.take() {
            let (ranges, incoming) = mpsc::channel::<(u64, u64)>();
            let thread = std::thread::Builder::new()
                .name("jcrpack-writeback".into())
                .spawn(move || {
                    for (offset, len) in incoming {
                        start(&file, offset, len);
                    }
                });
            if let Ok(thread) = thread {
                self.ranges = Some(ranges);
                self.thread = Some(thread);
            }
        }
        self.ranges.as_ref()
    }

    /// Notes that the bytes of the file before offset `written` were handed to the
    /// kernel; asks for their writeback once [`STEP`] bytes more are there. Returns
    /// whether it did.
    pub(super) fn advance(&mut self, written: u64) -> bool {
        if written < self.started.saturating_add(STEP) {
            return false;
        }
        let started = self.started;
        if let Some(ranges) = self.ranges() {
            // A thread that ended (it cannot fail) only loses hints.
            let _ = ranges.send((started, written - started));
        }
        self.started = written;
        true
    }
}

impl Drop for Writeback {
    /// Ends the thread after the hints already sent.
    fn drop(&mut self) {
        self.ranges = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts writing back `len` bytes of `file` from `offset`, without waiting for the
/// writes to finish.
#[cfg(target_os = "linux")]
fn start(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: a plain syscall on a file descriptor `file` keeps open; no memory is
    // passed. Its result is a hint's: ignored (the final sync reports real errors).
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Elsewhere nothing: the final sync writes everything.
#[cfg(not(target_os = "linux"))]
fn start(_file: &File, _offset: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn starts_once_a_step_is_written_and_not_before() {
        let mut file = tempfile::tempfile().unwrap();
        let mut wb = Writeback::new(&file);
        assert!(!wb.advance(0));
        assert!(!wb.advance(STEP - 1));
        // No thread before the first hint.
        assert!(wb.thread.is_none() && wb.file.is_some());
        file.write_all(&vec![7u8; STEP as usize]).unwrap();
        assert!(wb.advance(STEP));
        assert!(wb.thread.is_some() && wb.file.is_none());
        assert!(!wb.advance(STEP + 1));
        assert!(!wb.advance(2 * STEP - 1));
        assert!(wb.advance(2 * STEP + 5));
        // Positions behind the last start (a header patched) start nothing.
        assert!(!wb.advance(100));
        // Dropping waits for the thread; the file is unchanged by the hints.
        drop(wb);
        file.sync_all().unwrap();
        assert_eq!(file.metadata().unwrap().len(), STEP);
    }
}
