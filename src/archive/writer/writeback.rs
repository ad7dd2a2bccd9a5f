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

/// Writeback is started once this many bytes more were handed to the kernel.
pub(super) const STEP: u64 = 16 << 20;

/// Where writeback was last started; see the module doc.
#[derive(Debug, Default)]
pub(super) struct Writeback {
    /// Writeback was started for the bytes before this offset.
    started: u64,
}

impl Writeback {
    /// Notes that the bytes of `file` before offset `written` were handed to the
    /// kernel; starts their writeback once [`STEP`] bytes more are there. Returns
    /// whether it did.
    pub(super) fn advance(&mut self, file: &File, written: u64) -> bool {
        if written < self.started.saturating_add(STEP) {
            return false;
        }
        start(file, self.started, written - self.started);
        self.started = written;
        true
    }
}

/// Starts writing back `len` bytes of `file` from `offset`, without waiting.
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
        let mut wb = Writeback::default();
        assert!(!wb.advance(&file, 0));
        assert!(!wb.advance(&file, STEP - 1));
        file.write_all(&vec![7u8; STEP as usize]).unwrap();
        assert!(wb.advance(&file, STEP));
        assert!(!wb.advance(&file, STEP + 1));
        assert!(!wb.advance(&file, 2 * STEP - 1));
        assert!(wb.advance(&file, 2 * STEP + 5));
        // Positions behind the last start (a header patched) start nothing.
        assert!(!wb.advance(&file, 100));
        // The file is unchanged by the hints.
        file.sync_all().unwrap();
        assert_eq!(file.metadata().unwrap().len(), STEP);
    }
}
