//! The catalogue lock: `DIR/.lock`, held shared by `backup create` for its whole run
//! and exclusively by the commands that remove things (delete, prune, and the
//! clean-up of what a killed command left), so that blobs a running backup has
//! found in place are never collected under it.
//!
//! On Linux this is `flock(2)`, which the kernel releases when the holder exits,
//! however it exits: a killed backup never leaves the catalogue locked. Elsewhere
//! the lock is not taken (documented: run one backup command at a time there).

use super::{BackupError, Result};
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

/// The lock file inside a catalogue.
pub const LOCK_FILE: &str = ".lock";

/// How long a command waits for the catalogue lock before failing as busy.
const PATIENCE: Duration = Duration::from_secs(10);

/// A held catalogue lock, released on drop.
#[derive(Debug)]
pub struct CatalogueLock {
    _file: File,
}

/// Shared or exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Several holders (backups being written).
    Shared,
    /// One holder (removals).
    Exclusive,
}

impl CatalogueLock {
    /// Takes the lock of catalogue `dir` in `mode`, waiting up to ten seconds.
    pub fn take(dir: &Path, mode: Mode) -> Result<CatalogueLock> {
        let started = Instant::now();
        loop {
            if let Some(l) = CatalogueLock::try_take(dir, mode)? {
                return Ok(l);
            }
            if started.elapsed() >= PATIENCE {
                return Err(BackupError::Busy {
                    catalogue: dir.to_path_buf(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Takes the lock of catalogue `dir` in `mode` if nobody holds it otherwise.
    pub fn try_take(dir: &Path, mode: Mode) -> Result<Option<CatalogueLock>> {
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| BackupError::io(&path, e))?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let op = match mode {
                Mode::Shared => libc::LOCK_SH,
                Mode::Exclusive => libc::LOCK_EX,
            } | libc::LOCK_NB;
            // SAFETY: `flock` only uses the descriptor, which `file` keeps open.
            if unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    return Ok(None);
                }
                return Err(BackupError::io(&path, e));
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = mode;
        Ok(Some(CatalogueLock { _file: file }))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn shared_holders_exclude_an_exclusive_one() {
        let d = tempfile::tempdir().unwrap();
        let a = CatalogueLock::try_take(d.path(), Mode::Shared).unwrap();
        let b = CatalogueLock::try_take(d.path(), Mode::Shared).unwrap();
        assert!(a.is_some() && b.is_some());
        assert!(CatalogueLock::try_take(d.path(), Mode::Exclusive)
            .unwrap()
            .is_none());
        drop((a, b));
        let x = CatalogueLock::try_take(d.path(), Mode::Exclusive).unwrap();
        assert!(x.is_some());
        assert!(CatalogueLock::try_take(d.path(), Mode::Shared)
            .unwrap()
            .is_none());
    }
}
