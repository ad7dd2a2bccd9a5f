//! Asks the file system to spread the blob folder's two-digit folders apart.
//!
//! Every new blob is a new inode, and ext2/3/4 put a file's inode in the block
//! group (flex group) of its folder, and a folder below an ordinary one in its
//! parent's: without a hint all 256 folders, and so every blob of a repository,
//! share one group. On an ext4 without a journal, allocating an inode scans that
//! group from its start and passes over every inode deleted there in the last
//! minute (the kernel's `recently_deleted`, so that fsck never meets an inode
//! reused before its deletion reached the disk). A repository deleted and made
//! again (as `bench/run` does between runs) left thousands of them: a 100k import
//! (6,162 blobs) spent 2.5 to 3 s of system time in that scan on the blob writer
//! thread, against 0.3 s with nothing deleted.
//!
//! The "top of directory hierarchies" flag (`chattr +T`, `FS_TOPDIR_FL`) on the
//! blob folder tells the allocator (Orlov) that its sub-folders are unrelated
//! and belong in groups of their own, spread over the disk; blobs, written
//! through a temporary file in their own folder (see `files`), follow them. The
//! scan then meets at most the few inodes deleted in each folder's group. It is
//! a placement hint only: any other file system ignores or refuses it, and that
//! is fine, so every failure is ignored.

use std::path::Path;

/// `FS_TOPDIR_FL` of `linux/fs.h`: "top of directory hierarchies".
#[cfg(target_os = "linux")]
const TOPDIR: libc::c_int = 0x0002_0000;

/// Marks blob folder `dir` as the top of unrelated folders, unless it is marked
/// already or the file system has no such flag. Whether the flag is set
/// afterwards (false where flags are not supported).
pub(super) fn spread_subfolders(dir: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        set_topdir(dir).unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        false
    }
}

#[cfg(target_os = "linux")]
fn set_topdir(dir: &Path) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let d = std::fs::File::open(dir)?;
    let fd = d.as_raw_fd();
    let mut flags: libc::c_int = 0;
    // SAFETY: both ioctls read or write one `int` (the kernel's type for them,
    // whatever the request's encoded size) through a pointer valid for the call,
    // on a descriptor `d` keeps open.
    if unsafe { libc::ioctl(fd, libc::FS_IOC_GETFLAGS, &mut flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if flags & TOPDIR != 0 {
        return Ok(true);
    }
    let with = flags | TOPDIR;
    // SAFETY: as above.
    if unsafe { libc::ioctl(fd, libc::FS_IOC_SETFLAGS, &with) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // A file system may take flags it does not keep: read it back.
    // SAFETY: as above.
    if unsafe { libc::ioctl(fd, libc::FS_IOC_GETFLAGS, &mut flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(flags & TOPDIR != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_set_once_where_the_file_system_keeps_it_and_a_failure_is_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let first = spread_subfolders(dir.path());
        // Set, it stays set; refused, it is refused again.
        assert_eq!(spread_subfolders(dir.path()), first);
        #[cfg(target_os = "linux")]
        if first {
            let f = std::fs::File::open(dir.path()).unwrap();
            let mut flags: libc::c_int = 0;
            // SAFETY: one `int` through a valid pointer, `f` kept open.
            let rc = unsafe {
                libc::ioctl(
                    std::os::fd::AsRawFd::as_raw_fd(&f),
                    libc::FS_IOC_GETFLAGS,
                    &mut flags,
                )
            };
            assert_eq!(rc, 0);
            assert_ne!(flags & TOPDIR, 0);
        }
        assert!(!spread_subfolders(&dir.path().join("missing")));
    }
}
