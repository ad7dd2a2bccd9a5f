//! Scratch folders that a killed process does not leave behind for long.
//!
//! `dump PACKAGE` installs the package into a temporary repository, which can be as
//! large as the package unpacked. A process killed before it removes its folder
//! (SIGKILL, a CI job's timeout) would leave it in the temporary folder for good. So
//! a scratch folder is named `PREFIX-PID-RANDOM`, and creating one first removes
//! every folder of the same prefix whose process is gone. A folder whose process
//! still runs, or whose name does not parse, or that is a link rather than a
//! folder, is left alone.
//!
//! Removing a scratch repository is removing thousands of blob files, and on a file
//! system mounted with `discard` each removal waits for the device to discard the
//! file's blocks: one at a time, the removal of a million-node repository took
//! longer than the install that filled it. So a scratch folder is removed on
//! [`REMOVERS`] threads at once ([`remove_tree`]), which wait for the device
//! together.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many threads remove a folder's content: they mostly wait for the device.
pub const REMOVERS: usize = 16;

/// The deepest level [`remove_tree`] looks for folders to share out.
const MAX_SPREAD_DEPTH: usize = 4;

/// A scratch folder, removed ([`remove_tree`]) when it is closed or dropped.
#[derive(Debug)]
pub struct Scratch {
    path: Option<PathBuf>,
}

impl Scratch {
    /// The folder.
    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Removes the folder and everything in it.
    pub fn close(mut self) -> io::Result<()> {
        match self.path.take() {
            Some(path) => remove_tree(&path),
            None => Ok(()),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Nobody to tell: what is left is removed by the next sweep.
            let _ = remove_tree(&path);
        }
    }
}

/// Creates `PARENT/PREFIX-PID-RANDOM`, removed when the returned value drops, after
/// removing the folders of earlier processes with the same prefix that are gone.
pub fn create_in(parent: &Path, prefix: &str) -> io::Result<Scratch> {
    sweep(parent, prefix);
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}-{}-", std::process::id()))
        .tempdir_in(parent)?;
    Ok(Scratch {
        path: Some(dir.keep()),
    })
}

/// Removes folder `dir` and everything in it, as `remove_dir_all` does (links are
/// removed, never followed), on up to [`REMOVERS`] threads: the first level below
/// `dir` (at most [`MAX_SPREAD_DEPTH`] down) with that many folders is shared out,
/// each thread removing whole folders of it, and the rest goes last.
pub fn remove_tree(dir: &Path) -> io::Result<()> {
    let shares = spread(dir);
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<io::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..REMOVERS.min(shares.len()) {
            scope.spawn(|| {
                while let Some(share) = shares.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match std::fs::remove_dir_all(share) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => {
                            if let Ok(mut first) = failed.lock() {
                                first.get_or_insert(e);
                            }
                        }
                        _ => {}
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    std::fs::remove_dir_all(dir)
}

/// The folders [`remove_tree`] shares out: the first level below `dir` with at
/// least [`REMOVERS`] folders, or the deepest one looked at. A folder that cannot be
/// listed ends the search (the removal reports it).
fn spread(dir: &Path) -> Vec<PathBuf> {
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..MAX_SPREAD_DEPTH {
        let mut below = Vec::new();
        for folder in &level {
            let Ok(entries) = std::fs::read_dir(folder) else {
                return Vec::new();
            };
            for entry in entries.flatten() {
                // `file_type` does not follow links: a link is removed, not entered.
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    below.push(entry.path());
                }
            }
        }
        if below.is_empty() {
            break;
        }
        level = below;
        if level.len() >= REMOVERS {
            break;
        }
    }
    if level.len() == 1 && level.first().is_some_and(|f| f == dir) {
        return Vec::new();
    }
    level
}

/// Removes `PARENT/PREFIX-PID-*` folders whose process no longer runs; returns how
/// many it removed. Errors are ignored: a folder that cannot be removed is some
/// other user's or already gone.
pub fn sweep(parent: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let own = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| owner(n, prefix)) else {
            continue;
        };
        if pid == own || alive(pid) {
            continue;
        }
        // `file_type` does not follow links: a link named like a scratch folder is
        // not removed, and `remove_dir_all` never follows links inside.
        if entry.file_type().is_ok_and(|t| t.is_dir()) && remove_tree(&entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// The process id in `PREFIX-PID-RANDOM`.
fn owner(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    let (pid, random) = rest.split_once('-')?;
    if random.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok().filter(|&p| p > 0)
}

/// Whether a process with this id exists (a process of another user counts).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn names_parse_only_in_the_scratch_shape() {
        assert_eq!(owner("jcrpack-dump-123-abc", "jcrpack-dump"), Some(123));
        assert_eq!(owner("jcrpack-dump-123-", "jcrpack-dump"), None);
        assert_eq!(owner("jcrpack-dump-abc", "jcrpack-dump"), None);
        assert_eq!(owner("jcrpack-dump-12x-abc", "jcrpack-dump"), None);
        assert_eq!(owner("jcrpack-dump-0-abc", "jcrpack-dump"), None);
        assert_eq!(owner("jcrpack-dumpster-1-abc", "jcrpack-dump"), None);
        assert_eq!(owner("other-1-abc", "jcrpack-dump"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_tree_is_removed_whole_on_many_threads_without_following_links() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("kept"), b"kept").unwrap();
        let tree = tmp.path().join("tree");
        // A repository's shape: files at the top, a blob folder of many folders.
        std::fs::create_dir_all(tree.join("repo/blobs")).unwrap();
        std::fs::write(tree.join("repo/repository.db"), b"db").unwrap();
        for i in 0..40 {
            let shard = tree.join(format!("repo/blobs/{i:02x}"));
            std::fs::create_dir_all(shard.join("deeper")).unwrap();
            for j in 0..5 {
                std::fs::write(shard.join(format!("blob{j}")), b"data").unwrap();
            }
            std::fs::write(shard.join("deeper/blob"), b"data").unwrap();
        }
        std::os::unix::fs::symlink(&outside, tree.join("repo/blobs/00/link")).unwrap();
        std::os::unix::fs::symlink(&outside, tree.join("repo/link")).unwrap();
        assert_eq!(spread(&tree).len(), 40);
        remove_tree(&tree).unwrap();
        assert!(!tree.exists());
        assert_eq!(std::fs::read(outside.join("kept")).unwrap(), b"kept");
        // A folder without folders, and a missing one.
        let flat = tmp.path().join("flat");
        std::fs::create_dir(&flat).unwrap();
        std::fs::write(flat.join("f"), b"f").unwrap();
        assert!(spread(&flat).is_empty());
        remove_tree(&flat).unwrap();
        assert!(!flat.exists());
        assert!(remove_tree(&flat).is_err());
    }

    #[test]
    fn a_dead_process_folder_goes_and_everything_else_stays() {
        let tmp = tempfile::tempdir().unwrap();
        let dead = tmp.path().join(format!("p-{}-x1", dead_pid()));
        std::fs::create_dir_all(dead.join("repo/blobs")).unwrap();
        std::fs::write(dead.join("repo/blobs/b"), b"data").unwrap();
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let live = tmp.path().join(format!("p-{}-x2", sleeper.id()));
        std::fs::create_dir(&live).unwrap();
        let unrelated = tmp.path().join("q-1-x3");
        std::fs::create_dir(&unrelated).unwrap();
        let target = tmp.path().join("keep");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("f"), b"kept").unwrap();
        let link = tmp.path().join(format!("p-{}-x4", dead_pid()));
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let made = create_in(tmp.path(), "p").unwrap();
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();

        assert!(!dead.exists(), "the dead process's folder is removed");
        assert!(live.is_dir(), "a running process's folder stays");
        assert!(unrelated.is_dir());
        assert!(link.symlink_metadata().is_ok(), "a link is not removed");
        assert_eq!(std::fs::read(target.join("f")).unwrap(), b"kept");
        let name = made.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(owner(name, "p"), Some(std::process::id()));
        let path = made.path().to_path_buf();
        drop(made);
        assert!(!path.exists());
    }
}
