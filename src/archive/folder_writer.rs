//! Writing entries as files under a target folder (for `unpack`).
//!
//! Every name is checked like a zip entry name, so nothing can land outside the target.
//! Links are never created and never followed: a directory on the way that turns out
//! to be a symbolic link stops the write, and files are created with `create_new`, which
//! fails rather than follows a link in their place.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::entry_name::{check_entry_name, parent_of};
use super::error::ArchiveError;
use super::writer::PackageSink;

/// Writes package entries as files and folders below a target folder.
#[derive(Debug)]
pub struct FolderWriter {
    name: String,
    root: PathBuf,
    overwrite: bool,
    /// Directories (relative names) known to exist as real directories.
    known_dirs: HashSet<String>,
}

impl FolderWriter {
    /// Writes below `root`, creating it if needed. Existing files are not replaced
    /// unless [`FolderWriter::with_overwrite`] says so.
    pub fn create(root: impl AsRef<Path>) -> Result<FolderWriter, ArchiveError> {
        let root = root.as_ref().to_owned();
        let name = root.display().to_string();
        let io_error = |source| ArchiveError::Io {
            archive: name.clone(),
            entry: None,
            source,
        };
        fs::create_dir_all(&root).map_err(io_error)?;
        if !fs::metadata(&root).map_err(io_error)?.is_dir() {
            return Err(io_error(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not a folder",
            )));
        }
        Ok(FolderWriter {
            name,
            root,
            overwrite: false,
            known_dirs: HashSet::new(),
        })
    }

    /// Whether files that already exist are replaced (a link in a file's place is
    /// removed, never written through).
    pub fn with_overwrite(mut self, overwrite: bool) -> FolderWriter {
        self.overwrite = overwrite;
        self
    }

    /// The target folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, name: &str) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(name.split('/'));
        path
    }

    fn checked<'n>(&self, name: &'n str) -> Result<&'n str, ArchiveError> {
        check_entry_name(name)
            .map(|(bare, _)| bare)
            .map_err(|problem| ArchiveError::UnsafeName {
                archive: self.name.clone(),
                entry: name.to_owned(),
                problem,
            })
    }

    fn io_error(&self, entry: &str, source: io::Error) -> ArchiveError {
        ArchiveError::Io {
            archive: self.name.clone(),
            entry: Some(entry.to_owned()),
            source,
        }
    }

    /// Makes sure directory `dir` exists below the root as a real directory, creating
    /// each missing segment and refusing links. `entry` is named in errors.
    fn ensure_dir(&mut self, entry: &str, dir: &str) -> Result<(), ArchiveError> {
        if dir.is_empty() || self.known_dirs.contains(dir) {
            return Ok(());
        }
        let mut prefix = String::new();
        for segment in dir.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(segment);
            if self.known_dirs.contains(&prefix) {
                continue;
            }
            let path = self.path_of(&prefix);
            match fs::symlink_metadata(&path) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                    Ok(()) => {}
                    // Someone made it meanwhile: look at what it is below.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(self.io_error(entry, e)),
                },
                Err(e) => return Err(self.io_error(entry, e)),
            }
            let meta = fs::symlink_metadata(&path).map_err(|e| self.io_error(entry, e))?;
            if meta.file_type().is_symlink() {
                return Err(ArchiveError::SymlinkInTarget {
                    archive: self.name.clone(),
                    entry: entry.to_owned(),
                    link: prefix,
                });
            }
            if !meta.is_dir() {
                return Err(ArchiveError::FileDirectoryConflict {
                    archive: self.name.clone(),
                    entry: prefix,
                });
            }
            self.known_dirs.insert(prefix.clone());
        }
        Ok(())
    }
}

impl PackageSink for FolderWriter {
    fn add_directory(&mut self, name: &str) -> Result<(), ArchiveError> {
        let bare = self.checked(name)?;
        self.ensure_dir(bare, bare)
    }

    fn add_reader(
        &mut self,
        name: &str,
        reader: &mut dyn Read,
        _size: Option<u64>,
    ) -> Result<(), ArchiveError> {
        let bare = self.checked(name)?;
        self.ensure_dir(bare, parent_of(bare))?;
        let path = self.path_of(bare);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                return Err(ArchiveError::FileDirectoryConflict {
                    archive: self.name.clone(),
                    entry: bare.to_owned(),
                });
            }
            Ok(_) if self.overwrite => {
                // Removes a link itself, never its target.
                fs::remove_file(&path).map_err(|e| self.io_error(bare, e))?;
            }
            Ok(_) => {
                return Err(ArchiveError::AlreadyExists {
                    archive: self.name.clone(),
                    entry: bare.to_owned(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io_error(bare, e)),
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    ArchiveError::AlreadyExists {
                        archive: self.name.clone(),
                        entry: bare.to_owned(),
                    }
                } else {
                    self.io_error(bare, e)
                }
            })?;
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::from_read_error(&self.name, bare, e)),
            };
            out.write_all(buffer.get(..n).unwrap_or_default())
                .map_err(|e| self.io_error(bare, e))?;
        }
        out.flush().map_err(|e| self.io_error(bare, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_files_and_folders_below_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FolderWriter::create(dir.path().join("out")).unwrap();
        w.add_bytes("jcr_root/a/b.txt", b"hello".to_vec()).unwrap();
        w.add_directory("jcr_root/empty").unwrap();
        w.add_directory("jcr_root/a/").unwrap();
        let out = dir.path().join("out");
        assert_eq!(
            std::fs::read(out.join("jcr_root/a/b.txt")).unwrap(),
            b"hello"
        );
        assert!(out.join("jcr_root/empty").is_dir());
        let e = w
            .add_bytes("jcr_root/a/b.txt", b"again".to_vec())
            .unwrap_err();
        assert!(matches!(e, ArchiveError::AlreadyExists { .. }), "{e:?}");
        let mut w = w.with_overwrite(true);
        w.add_bytes("jcr_root/a/b.txt", b"again".to_vec()).unwrap();
        assert_eq!(
            std::fs::read(out.join("jcr_root/a/b.txt")).unwrap(),
            b"again"
        );
        let e = w.add_bytes("jcr_root/a", b"x".to_vec()).unwrap_err();
        assert!(
            matches!(e, ArchiveError::FileDirectoryConflict { .. }),
            "{e:?}"
        );
        let e = w.add_directory("jcr_root/a/b.txt/c").unwrap_err();
        assert!(
            matches!(e, ArchiveError::FileDirectoryConflict { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn names_that_would_leave_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FolderWriter::create(dir.path().join("out")).unwrap();
        for name in ["../escape", "/abs", "a/../../x", "C:/x", "a\\..\\x"] {
            let e = w.add_bytes(name, b"x".to_vec()).unwrap_err();
            assert!(
                matches!(e, ArchiveError::UnsafeName { .. }),
                "{name}: {e:?}"
            );
        }
        assert!(!dir.path().join("escape").exists());
    }

    #[cfg(unix)]
    #[test]
    fn links_in_the_target_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("jcr_root")).unwrap();
        std::os::unix::fs::symlink(outside.join("victim"), out.join("file.txt")).unwrap();
        let mut w = FolderWriter::create(&out).unwrap();
        let e = w.add_bytes("jcr_root/x.txt", b"x".to_vec()).unwrap_err();
        assert!(
            matches!(e, ArchiveError::SymlinkInTarget { ref link, .. } if link == "jcr_root"),
            "{e:?}"
        );
        // A dangling link in a file's place is not written through...
        let e = w.add_bytes("file.txt", b"x".to_vec()).unwrap_err();
        assert!(matches!(e, ArchiveError::AlreadyExists { .. }), "{e:?}");
        // ...and with overwriting on, the link itself is replaced.
        let mut w = w.with_overwrite(true);
        w.add_bytes("file.txt", b"x".to_vec()).unwrap();
        assert!(!outside.join("victim").exists());
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
        assert!(!std::fs::symlink_metadata(out.join("file.txt"))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
