//! Scratch folders that a killed process does not leave behind for long.
//!
//! `dump PACKAGE` installs the package into a temporary repository, which can be as
//! large as the package unpacked. A process killed before it removes its folder
//! (SIGKILL, a CI job's timeout) would leave it in the temporary folder for good. So
//! a scratch folder is named `PREFIX-PID-RANDOM`, and creating one first removes
//! every folder of the same prefix whose process is gone. A folder whose process
//! still runs, or whose name does not parse, or that is a link rather than a
//! folder, is left alone.

use std::io;
use std::path::Path;

/// Creates `PARENT/PREFIX-PID-RANDOM`, removed when the returned value drops, after
/// removing the folders of earlier processes with the same prefix that are gone.
pub fn create_in(parent: &Path, prefix: &str) -> io::Result<tempfile::TempDir> {
    sweep(parent, prefix);
    tempfile::Builder::new()
        .prefix(&format!("{prefix}-{}-", std::process::id()))
        .tempdir_in(parent)
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
        if entry.file_type().is_ok_and(|t| t.is_dir())
            && std::fs::remove_dir_all(entry.path()).is_ok()
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
