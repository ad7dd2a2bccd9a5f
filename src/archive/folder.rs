//! An exploded package: a folder with `META-INF/vault` and `jcr_root`, read like a zip
//! (FileVault's `FileArchive`; its own test packages are folders named `*.zip`).
//!
//! The folder is walked once when opened. Symbolic links inside it are refused, not
//! followed: a link could point anywhere on the machine, and a package must not read
//! outside itself. (The folder path itself may be a link; the user named it.) Devices,
//! sockets and pipes are refused too. Names are checked like zip entry names.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::error::{ArchiveError, ArchiveWarning};
use super::listing::{Listing, RawEntries};
use super::selection::EntrySelection;
use super::{Archive, ArchiveKind, ReadOptions};

/// A folder read as a package archive.
#[derive(Debug)]
pub struct FolderArchive {
    name: String,
    root: PathBuf,
    listing: Listing,
    warnings: Vec<ArchiveWarning>,
}

impl FolderArchive {
    /// Walks the folder at `root` and builds its listing.
    pub fn open(root: &Path, options: &ReadOptions) -> Result<FolderArchive, ArchiveError> {
        FolderArchive::open_selected(root, options, &EntrySelection::all())
    }

    /// [`FolderArchive::open`] for a selection: the listing holds only the entries
    /// `selection` keeps, and only they are checked. The whole folder is still walked
    /// (a symbolic link or special file anywhere in it is refused).
    pub fn open_selected(
        root: &Path,
        options: &ReadOptions,
        selection: &EntrySelection,
    ) -> Result<FolderArchive, ArchiveError> {
        let name = root.display().to_string();
        let mut raw = RawEntries::with_capacity(0);
        let mut walked = 0u64;
        for item in WalkDir::new(root).follow_links(false).min_depth(1) {
            let item = item.map_err(|e| {
                let entry = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map(|p| p.display().to_string());
                ArchiveError::Io {
                    archive: name.clone(),
                    entry,
                    source: e.into(),
                }
            })?;
            let relative = item.path().strip_prefix(root).unwrap_or(item.path());
            let entry = relative_name(&name, relative)?;
            let file_type = item.file_type();
            if file_type.is_symlink() {
                return Err(ArchiveError::Symlink {
                    archive: name,
                    entry,
                });
            }
            if !file_type.is_dir() && !file_type.is_file() {
                return Err(ArchiveError::SpecialFile {
                    archive: name,
                    entry,
                });
            }
            walked += 1;
            options.limits.check_entries(&name, walked)?;
            if !selection.keeps(entry.as_bytes()) {
                continue;
            }
            let size = if file_type.is_dir() {
                0
            } else {
                item.metadata()
                    .map_err(|e| ArchiveError::Io {
                        archive: name.clone(),
                        entry: Some(entry.clone()),
                        source: e.into(),
                    })?
                    .len()
            };
            raw.push(&entry, file_type.is_dir(), size, size);
        }
        let built = Listing::build_limited(&name, raw, options.strict, &options.limits)?;
        Ok(FolderArchive {
            name,
            root: root.to_owned(),
            listing: built.listing,
            warnings: built.warnings,
        })
    }

    /// The folder the archive reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file-system path of entry `entry` (a checked name from the listing).
    fn path_of(&self, entry: &str) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(entry.split('/'));
        path
    }
}

/// Joins the components of a path below the root with `/`; they must be UTF-8.
fn relative_name(archive: &str, relative: &Path) -> Result<String, ArchiveError> {
    let mut name = String::new();
    for component in relative.components() {
        let part = component
            .as_os_str()
            .to_str()
            .ok_or_else(|| ArchiveError::NonUtf8Name {
                archive: archive.to_owned(),
                entry: relative.to_string_lossy().into_owned(),
            })?;
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(part);
    }
    Ok(name)
}

impl Archive for FolderArchive {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ArchiveKind {
        ArchiveKind::Folder
    }

    fn listing(&self) -> &Listing {
        &self.listing
    }

    fn warnings(&self) -> &[ArchiveWarning] {
        &self.warnings
    }

    fn open(&self, entry: &str) -> Result<Box<dyn Read + Send>, ArchiveError> {
        let found = self
            .listing
            .get(entry)
            .ok_or_else(|| ArchiveError::NotFound {
                archive: self.name.clone(),
                entry: entry.to_owned(),
            })?;
        if found.is_dir() {
            return Err(ArchiveError::IsADirectory {
                archive: self.name.clone(),
                entry: entry.to_owned(),
            });
        }
        let path = self.path_of(found.name());
        let io_error = |source| ArchiveError::Io {
            archive: self.name.clone(),
            entry: Some(entry.to_owned()),
            source,
        };
        // The folder may have changed since it was listed: look again before opening,
        // so a file swapped for a link is refused rather than followed.
        let meta = std::fs::symlink_metadata(&path).map_err(io_error)?;
        if meta.file_type().is_symlink() {
            return Err(ArchiveError::Symlink {
                archive: self.name.clone(),
                entry: entry.to_owned(),
            });
        }
        if !meta.is_file() {
            return Err(ArchiveError::SpecialFile {
                archive: self.name.clone(),
                entry: entry.to_owned(),
            });
        }
        Ok(Box::new(File::open(&path).map_err(io_error)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_inside_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("pkg");
        std::fs::create_dir_all(root.join("jcr_root")).unwrap();
        std::fs::write(root.join("jcr_root/a.txt"), b"a").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", root.join("jcr_root/evil")).unwrap();
            let e = FolderArchive::open(&root, &ReadOptions::default()).unwrap_err();
            assert!(
                matches!(e, ArchiveError::Symlink { ref entry, .. } if entry == "jcr_root/evil")
            );
            assert!(
                e.to_string().contains("`jcr_root/evil` is a symbolic link"),
                "{e}"
            );
            std::fs::remove_file(root.join("jcr_root/evil")).unwrap();
            // A link to a folder inside is refused too: links are never followed.
            std::os::unix::fs::symlink(root.join("jcr_root"), root.join("loop")).unwrap();
            let e = FolderArchive::open(&root, &ReadOptions::default()).unwrap_err();
            assert!(matches!(e, ArchiveError::Symlink { ref entry, .. } if entry == "loop"));
            std::fs::remove_file(root.join("loop")).unwrap();
            // The folder itself may be reached through a link.
            let alias = dir.path().join("alias");
            std::os::unix::fs::symlink(&root, &alias).unwrap();
            let archive = FolderArchive::open(&alias, &ReadOptions::default()).unwrap();
            assert!(archive.listing().get("jcr_root/a.txt").is_some());
        }
    }

    #[test]
    fn a_file_swapped_for_a_link_after_listing_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.txt"), b"a").unwrap();
        let archive = FolderArchive::open(root, &ReadOptions::default()).unwrap();
        #[cfg(unix)]
        {
            std::fs::remove_file(root.join("a.txt")).unwrap();
            std::os::unix::fs::symlink("/etc/passwd", root.join("a.txt")).unwrap();
            let e = archive.open("a.txt").err().unwrap();
            assert!(matches!(e, ArchiveError::Symlink { .. }), "{e:?}");
        }
        let _ = archive;
    }

    #[test]
    fn hostile_file_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            std::fs::write(dir.path().join("a\\b"), b"x").unwrap();
            let e = FolderArchive::open(dir.path(), &ReadOptions::default()).unwrap_err();
            assert!(matches!(e, ArchiveError::UnsafeName { ref entry, .. } if entry == "a\\b"));
        }
    }
}
