//! A blob's file: written into a temporary file and renamed to `blobs/ab/cdef…`.
//! Bytes whose hash is known ([`store`]) go through a temporary file in the
//! blob's own two-digit folder, so that the file's inode is allocated where its
//! folder is (see `spread`); that folder is made when missing (once a folder,
//! not a `mkdir` a blob). A blob already there with the right size is not
//! written again. Data hashed while it is written ([`temporary`], [`place`])
//! goes through the blob folder itself.

use super::super::{RepositoryError, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// How the bytes go into the temporary file (a test fails it as a full disk).
pub(super) type WriteBytes = fn(&mut File, &[u8]) -> std::io::Result<()>;

/// The plain write.
pub(super) fn write_bytes(f: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    std::io::Write::write_all(f, bytes)
}

/// An I/O error naming `path`.
pub(super) fn io(path: &Path, source: std::io::Error) -> RepositoryError {
    RepositoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The file of blob `sha256` (64 lower-case hex digits) in blob folder `dir`.
pub(super) fn blob_path(dir: &Path, sha256: &str) -> PathBuf {
    let (folder, rest) = sha256.split_at(2.min(sha256.len()));
    let mut p = dir.join(folder);
    p.push(rest);
    p
}

/// Whether blob file `target` is there with `size` bytes. A file of another size
/// under its name is what a power loss can leave of a rename whose data never
/// reached the disk: it is written again.
pub(super) fn present(target: &Path, size: u64) -> bool {
    std::fs::metadata(target).is_ok_and(|m| m.len() == size)
}

/// A new temporary file in folder `dir` (removed when dropped unplaced).
pub(super) fn temporary(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| io(dir, e))
}

/// Renames the written temporary file `tmp` to blob file `target`, making its
/// folder when the rename finds it missing. On failure `tmp` is removed.
pub(super) fn place(dir: &Path, tmp: tempfile::NamedTempFile, target: &Path) -> Result<()> {
    match tmp.persist(target) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::NotFound => {
            let folder = target.parent().unwrap_or(dir);
            make_folder(dir, folder)?;
            e.file
                .persist(target)
                .map(drop)
                .map_err(|x| io(target, x.error))
        }
        Err(e) => Err(io(target, e.error)),
    }
}

/// Makes `folder`, a two-digit folder of blob folder `dir`, asking first that it
/// be placed apart from its siblings (`spread`).
fn make_folder(dir: &Path, folder: &Path) -> Result<()> {
    super::spread::spread_subfolders(dir);
    std::fs::create_dir_all(folder).map_err(|x| io(folder, x))
}

/// Writes `bytes` as blob file `target` in blob folder `dir` unless it is there
/// with their size already, through a temporary file in `target`'s folder. A
/// temporary file that cannot be made names `target`; on failure no temporary
/// file is left.
pub(super) fn store(dir: &Path, target: &Path, bytes: &[u8], write: WriteBytes) -> Result<()> {
    if present(target, bytes.len() as u64) {
        return Ok(());
    }
    let folder = target.parent().unwrap_or(dir);
    let made = match temporary(folder) {
        Err(RepositoryError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            make_folder(dir, folder)?;
            temporary(folder)
        }
        made => made,
    };
    let mut tmp = made.map_err(|e| match e {
        RepositoryError::Io { source, .. } => io(target, source),
        other => other,
    })?;
    write(tmp.as_file_mut(), bytes).map_err(|e| io(tmp.path(), e))?;
    place(dir, tmp, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_made_by_the_rename_and_a_present_blob_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = blob_path(dir.path(), &"ab".repeat(32));
        assert!(target.ends_with(format!("ab/{}", "ab".repeat(31))));
        store(dir.path(), &target, b"one", write_bytes).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        // Present with the right size: not written again (the bytes differ here
        // only to tell; content-addressed bytes never do).
        store(dir.path(), &target, b"two", write_bytes).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        // Of another size: written again.
        store(dir.path(), &target, b"three", write_bytes).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"three");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["ab"], "no temporary file left");
    }

    #[test]
    fn a_failed_write_or_rename_names_its_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        fn full(_: &mut File, _: &[u8]) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
        }
        let target = blob_path(dir.path(), &"cd".repeat(32));
        let e = store(dir.path(), &target, b"x", full).unwrap_err();
        let RepositoryError::Io { path, source } = &e else {
            panic!("{e:?}")
        };
        assert!(path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".tmp-"));
        // Written in the blob's own folder, made for it.
        assert_eq!(path.parent(), target.parent());
        assert_eq!(source.raw_os_error(), Some(libc::ENOSPC));
        assert_eq!(files_in(&dir.path().join("cd")), Vec::<String>::new());
        // A file where the blob's folder belongs: no temporary file can be made
        // there, and the error names the blob.
        let other = blob_path(dir.path(), &"ef".repeat(32));
        std::fs::write(dir.path().join("ef"), b"in the way").unwrap();
        let e = store(dir.path(), &other, b"x", write_bytes).unwrap_err();
        assert!(
            matches!(&e, RepositoryError::Io { path, .. } if path == &other),
            "{e:?}"
        );
        assert_eq!(files_in(dir.path()), ["cd", "ef"], "no temporary file left");
    }

    #[test]
    fn a_large_blob_placed_from_the_blob_folder_makes_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = blob_path(dir.path(), &"12".repeat(32));
        let mut tmp = temporary(dir.path()).unwrap();
        std::io::Write::write_all(tmp.as_file_mut(), b"large").unwrap();
        place(dir.path(), tmp, &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"large");
        assert_eq!(files_in(dir.path()), ["12"], "no temporary file left");
    }

    /// The names in `dir`, sorted.
    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}
