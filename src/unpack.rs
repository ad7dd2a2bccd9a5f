//! Unpacking a package into a folder (`jcrpack unpack`), the reverse of
//! [`crate::build`].
//!
//! The package (a zip or a package folder) is opened with [`crate::archive::open`],
//! which refuses entry names that could leave the target folder and bounds what
//! inflating may cost. Then every folder is created, segment by segment, refusing any
//! that is already a symbolic link (links are never followed or created), and every
//! file is written, in parallel, to a temporary file in its folder and renamed into
//! place: a file appears whole or not at all. A target folder that is not empty is
//! refused unless [`UnpackOptions::force`] is set; then existing files are replaced
//! (a link in a file's place is replaced itself, never written through).
//!
//! Entries the archive marks as links arrive as plain files holding the link target
//! (see [`crate::archive::ArchiveWarning::SymlinkEntry`]).
//!
//! Names that differ only in case (`README.txt` and `Readme.txt`, or folders `A/` and
//! `a/`) are refused before anything is written, naming both entries: on macOS and
//! Windows, and in any checkout of the unpacked folder there (a vlt or git working
//! copy), one would overwrite the other, so the folder would not be the package.
//! [`UnpackOptions::allow_case_collisions`] unpacks them anyway, but only into a
//! folder whose file system tells them apart (probed by creating a file in it).

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::archive::{self, Archive, ArchiveError, ArchiveWarning, Entry, ReadOptions};
use crate::events::{Event, Events, Unit};

/// How [`unpack`] works.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnpackOptions {
    /// Unpack into a folder that is not empty, replacing files that exist.
    pub force: bool,
    /// Unpack entries whose names differ only in case, when the target folder is on a
    /// case-sensitive file system (refused otherwise, and always without this).
    pub allow_case_collisions: bool,
    /// How the package is read (limits, strict names).
    pub read: ReadOptions,
}

/// What [`unpack`] wrote (the `--json` document, schema
/// `schemas/unpack.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnpackSummary {
    /// The package read.
    pub package: String,
    /// `zip` or `folder`.
    pub kind: String,
    /// The folder written.
    pub output: String,
    /// Entries of the package, directories included.
    pub entries: u64,
    /// Files written.
    pub files: u64,
    /// Folders in the package (created or already there).
    pub directories: u64,
    /// Bytes of file content written.
    pub bytes: u64,
    /// What was odd about the package (case collisions, link entries).
    pub warnings: Vec<String>,
}

/// Why a package could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// Reading the package failed, or it holds unsafe names.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The target folder holds something and `force` is off.
    #[error("{} is not empty", .path.display())]
    NotEmpty {
        /// The target folder.
        path: PathBuf,
    },
    /// Something that is not a folder is where a folder must go.
    #[error("{} exists and is not a folder", .path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// A folder is where a file must go.
    #[error("{} exists and is a folder; entry `{entry}` is a file", .path.display())]
    FolderInTheWay {
        /// The path.
        path: PathBuf,
        /// The entry.
        entry: String,
    },
    /// A file exists where one is to be written and `force` is off (two entries that
    /// differ only in case, on a case-insensitive file system).
    #[error("{} already exists (entry `{entry}`)", .path.display())]
    Exists {
        /// The path.
        path: PathBuf,
        /// The entry.
        entry: String,
    },
    /// A folder on the way is a symbolic link; it is not followed.
    #[error("{} is a symbolic link; unpack never follows links (entry `{entry}`)", .path.display())]
    SymlinkInTarget {
        /// The link.
        path: PathBuf,
        /// The entry being written.
        entry: String,
    },
    /// Entries differ only in case and the target folder's file system does not tell
    /// them apart (with [`UnpackOptions::allow_case_collisions`]).
    #[error(
        "{} is on a case-insensitive file system: entries `{}` and `{}` differ only in case \
         and would overwrite each other",
        .path.display(),
        .first.escape_debug(),
        .second.escape_debug()
    )]
    CaseInsensitiveTarget {
        /// The target folder.
        path: PathBuf,
        /// The first entry (in name order).
        first: String,
        /// The second entry.
        second: String,
    },
    /// Writing failed.
    #[error("cannot write {}: {error}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
}

/// Unpacks the package at `package` into folder `dir` (see the module
/// documentation), reporting a phase `unpacking` and its file bytes to `progress`
/// (ending with [`Event::Finished`]).
pub fn unpack(
    package: &Path,
    dir: &Path,
    options: &UnpackOptions,
    progress: &dyn Events,
) -> Result<UnpackSummary, UnpackError> {
    let unpacked = unpack_into(package, dir, options, progress);
    progress.event(&Event::Finished);
    unpacked
}

fn unpack_into(
    package: &Path,
    dir: &Path,
    options: &UnpackOptions,
    progress: &dyn Events,
) -> Result<UnpackSummary, UnpackError> {
    let archive = archive::open(package, &options.read)?;
    let collision = archive.warnings().iter().find_map(|w| match w {
        ArchiveWarning::CaseCollision { first, second } => Some((first, second)),
        ArchiveWarning::SymlinkEntry { .. } => None,
    });
    if let Some((first, second)) = collision {
        if !options.allow_case_collisions {
            return Err(ArchiveError::CaseCollision {
                archive: archive.name().to_owned(),
                first: first.clone(),
                second: second.clone(),
            }
            .into());
        }
    }
    let created = prepare_target(dir, options.force)?;
    if let Some((first, second)) = collision {
        let insensitive = case_insensitive(dir).map_err(|error| UnpackError::Io {
            path: dir.to_owned(),
            error,
        })?;
        if insensitive {
            if created {
                // Only the empty folder made above; nothing else was written.
                let _ = fs::remove_dir(dir);
            }
            return Err(UnpackError::CaseInsensitiveTarget {
                path: dir.to_owned(),
                first: first.clone(),
                second: second.clone(),
            });
        }
    }
    let entries = archive.entries();
    progress.event(&Event::Phase {
        name: "unpacking",
        total: Some(
            entries
                .iter()
                .filter(|e| e.is_file())
                .map(Entry::size)
                .sum(),
        ),
        unit: Unit::Bytes,
    });

    let mut known = HashSet::new();
    let mut directories = 0u64;
    for entry in entries {
        if entry.is_dir() {
            ensure_dir(dir, entry.name(), entry.name(), &mut known)?;
            directories += 1;
        } else {
            ensure_dir(dir, parent_of(entry.name()), entry.name(), &mut known)?;
        }
    }

    let stop = AtomicBool::new(false);
    let results: Vec<Result<u64, UnpackError>> = (0..entries.len())
        .into_par_iter()
        .filter_map(|i| entries.get(i))
        .filter(|e| e.is_file())
        .map(|entry| {
            if stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            let written = write_file(archive.as_ref(), &entry, dir, options.force, progress);
            if written.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            written
        })
        .collect();
    let mut bytes = 0;
    let mut files = 0;
    for r in results {
        bytes += r?;
        files += 1;
    }
    Ok(UnpackSummary {
        package: archive.name().to_owned(),
        kind: archive.kind().to_string(),
        output: dir.display().to_string(),
        entries: entries.len() as u64,
        files,
        directories,
        bytes,
        warnings: archive.warnings().iter().map(|w| w.to_string()).collect(),
    })
}

/// Whether the file system of folder `dir` treats names that differ only in case as
/// one: creates a file there, looks it up with its letters' case swapped, and removes
/// it.
fn case_insensitive(dir: &Path) -> io::Result<bool> {
    let probe = tempfile::Builder::new()
        .prefix(".jcrpack-case-probe-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let name = probe
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let swapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let found = match fs::symlink_metadata(dir.join(&swapped)) {
        Ok(other) => same_file(&probe.as_file().metadata()?, &other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    probe.close()?;
    Ok(found)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_a: &fs::Metadata, _b: &fs::Metadata) -> bool {
    true
}

/// Creates the target folder, or checks that it is a folder and (without `force`)
/// empty. True when it was created.
fn prepare_target(dir: &Path, force: bool) -> Result<bool, UnpackError> {
    let io_error = |error| UnpackError::Io {
        path: dir.to_owned(),
        error,
    };
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io_error)?;
            Ok(true)
        }
        Err(e) => Err(io_error(e)),
        Ok(meta) if !meta.is_dir() => Err(UnpackError::NotAFolder {
            path: dir.to_owned(),
        }),
        Ok(_) => {
            let empty = fs::read_dir(dir).map_err(io_error)?.next().is_none();
            if empty || force {
                Ok(false)
            } else {
                Err(UnpackError::NotEmpty {
                    path: dir.to_owned(),
                })
            }
        }
    }
}

/// The folder holding entry `name` (`""` at the top).
fn parent_of(name: &str) -> &str {
    name.rfind('/').map_or("", |i| &name[..i])
}

/// The path of entry `name` below `root`.
fn path_of(root: &Path, name: &str) -> PathBuf {
    let mut path = root.to_owned();
    if !name.is_empty() {
        path.extend(name.split('/'));
    }
    path
}

/// Makes sure folder `name` exists below `root` as a real folder, creating each
/// missing segment and refusing links and files on the way. `entry` is named in
/// errors; `known` holds the folders already checked.
fn ensure_dir(
    root: &Path,
    name: &str,
    entry: &str,
    known: &mut HashSet<String>,
) -> Result<(), UnpackError> {
    if name.is_empty() || known.contains(name) {
        return Ok(());
    }
    let mut prefix = String::new();
    for segment in name.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(segment);
        if known.contains(&prefix) {
            continue;
        }
        let path = path_of(root, &prefix);
        let io_error = |error| UnpackError::Io {
            path: path.clone(),
            error,
        };
        match fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(e)),
            },
            Err(e) => return Err(io_error(e)),
        }
        let meta = fs::symlink_metadata(&path).map_err(io_error)?;
        if meta.file_type().is_symlink() {
            return Err(UnpackError::SymlinkInTarget {
                path,
                entry: entry.to_owned(),
            });
        }
        if !meta.is_dir() {
            return Err(UnpackError::NotAFolder { path });
        }
        known.insert(prefix.clone());
    }
    Ok(())
}

/// Writes file `entry` below `root` through a temporary file in its folder; returns
/// the bytes written.
fn write_file(
    archive: &dyn Archive,
    entry: &Entry<'_>,
    root: &Path,
    force: bool,
    progress: &dyn Events,
) -> Result<u64, UnpackError> {
    let name = entry.name();
    let folder = path_of(root, parent_of(name));
    let target = path_of(root, name);
    match fs::symlink_metadata(&target) {
        Ok(meta) if meta.is_dir() => {
            return Err(UnpackError::FolderInTheWay {
                path: target,
                entry: name.to_owned(),
            })
        }
        Ok(_) if !force => {
            return Err(UnpackError::Exists {
                path: target,
                entry: name.to_owned(),
            })
        }
        _ => {}
    }
    let io_error = |path: &Path, error| UnpackError::Io {
        path: path.to_owned(),
        error,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".jcrpack-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder
        .tempfile_in(&folder)
        .map_err(|e| io_error(&folder, e))?;
    let mut reader = archive.open(name)?;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    {
        let mut out = io::BufWriter::with_capacity(256 * 1024, temp.as_file_mut());
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::from_read_error(archive.name(), name, e).into()),
            };
            out.write_all(buffer.get(..n).unwrap_or_default())
                .map_err(|e| io_error(&target, e))?;
            bytes += n as u64;
            progress.event(&Event::Advance { amount: n as u64 });
        }
        out.flush().map_err(|e| io_error(&target, e))?;
    }
    let persisted = if force {
        temp.persist(&target)
    } else {
        temp.persist_noclobber(&target)
    };
    persisted.map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            UnpackError::Exists {
                path: target.clone(),
                entry: name.to_owned(),
            }
        } else {
            io_error(&target, e.error)
        }
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{PackageSink, PackageWriter, WriterOptions};
    use crate::events::NoEvents;

    fn package(dir: &Path) -> PathBuf {
        let path = dir.join("p.zip");
        let mut w = PackageWriter::create(&path, WriterOptions::default()).unwrap();
        w.add_bytes("META-INF/vault/filter.xml", b"<workspaceFilter/>".to_vec())
            .unwrap();
        w.add_bytes("jcr_root/a/b.txt", b"hello".to_vec()).unwrap();
        w.add_directory("jcr_root/empty").unwrap();
        w.finish().unwrap();
        path
    }

    #[test]
    fn unpacks_files_and_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let zip = package(tmp.path());
        let out = tmp.path().join("out");
        let s = unpack(&zip, &out, &UnpackOptions::default(), &NoEvents).unwrap();
        assert_eq!(fs::read(out.join("jcr_root/a/b.txt")).unwrap(), b"hello");
        assert!(out.join("jcr_root/empty").is_dir());
        assert_eq!((s.files, s.bytes, s.kind.as_str()), (2, 23, "zip"));
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(out.join("jcr_root/a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.txt"]);
    }

    #[test]
    fn a_folder_that_is_not_empty_needs_force() {
        let tmp = tempfile::tempdir().unwrap();
        let zip = package(tmp.path());
        let out = tmp.path().join("out");
        fs::create_dir_all(out.join("jcr_root/a")).unwrap();
        fs::write(out.join("jcr_root/a/b.txt"), b"old").unwrap();
        let e = unpack(&zip, &out, &UnpackOptions::default(), &NoEvents).unwrap_err();
        assert!(matches!(e, UnpackError::NotEmpty { .. }), "{e:?}");
        let force = UnpackOptions {
            force: true,
            ..UnpackOptions::default()
        };
        unpack(&zip, &out, &force, &NoEvents).unwrap();
        assert_eq!(fs::read(out.join("jcr_root/a/b.txt")).unwrap(), b"hello");
    }

    #[cfg(unix)]
    #[test]
    fn links_in_the_target_are_never_followed() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let zip = package(tmp.path());
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        symlink(&outside, out.join("jcr_root")).unwrap();
        let force = UnpackOptions {
            force: true,
            ..UnpackOptions::default()
        };
        let e = unpack(&zip, &out, &force, &NoEvents).unwrap_err();
        assert!(matches!(e, UnpackError::SymlinkInTarget { .. }), "{e:?}");
        assert!(fs::read_dir(&outside).unwrap().next().is_none());

        // A link in a file's place is replaced, not written through.
        fs::remove_file(out.join("jcr_root")).unwrap();
        fs::create_dir_all(out.join("jcr_root/a")).unwrap();
        symlink(outside.join("victim"), out.join("jcr_root/a/b.txt")).unwrap();
        unpack(&zip, &out, &force, &NoEvents).unwrap();
        assert!(!outside.join("victim").exists());
        let meta = fs::symlink_metadata(out.join("jcr_root/a/b.txt")).unwrap();
        assert!(meta.is_file());
    }

    #[test]
    fn a_file_is_not_a_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("x.zip");
        fs::write(&zip, b"not a zip at all").unwrap();
        let e = unpack(
            &zip,
            &tmp.path().join("o"),
            &UnpackOptions::default(),
            &NoEvents,
        )
        .unwrap_err();
        assert!(matches!(e, UnpackError::Archive(_)), "{e:?}");
        let e = unpack(&zip, &zip, &UnpackOptions::default(), &NoEvents).unwrap_err();
        assert!(
            matches!(e, UnpackError::Archive(_) | UnpackError::NotAFolder { .. }),
            "{e:?}"
        );
    }

    /// A zip with `jcr_root/content/Readme.txt` and `jcr_root/content/README.txt`.
    fn case_collision(dir: &Path) -> PathBuf {
        let path = dir.join("case.zip");
        let mut z = zip::ZipWriter::new(fs::File::create(&path).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        for (name, text) in [
            ("META-INF/vault/filter.xml", "<workspaceFilter/>"),
            ("jcr_root/content/Readme.txt", "one"),
            ("jcr_root/content/README.txt", "two"),
        ] {
            z.start_file(name, o).unwrap();
            z.write_all(text.as_bytes()).unwrap();
        }
        z.finish().unwrap();
        path
    }

    #[test]
    fn case_collisions_are_refused_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let zip = case_collision(tmp.path());
        let out = tmp.path().join("out");
        let e = unpack(&zip, &out, &UnpackOptions::default(), &NoEvents).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, UnpackError::Archive(ArchiveError::CaseCollision { .. })),
            "{e:?}"
        );
        assert!(
            text.contains("jcr_root/content/README.txt")
                && text.contains("jcr_root/content/Readme.txt")
                && text.contains("differ only in case"),
            "{text}"
        );
        assert!(!out.exists());
    }

    #[test]
    fn allowed_case_collisions_need_a_case_sensitive_target() {
        let tmp = tempfile::tempdir().unwrap();
        let zip = case_collision(tmp.path());
        let out = tmp.path().join("out");
        let allow = UnpackOptions {
            allow_case_collisions: true,
            ..UnpackOptions::default()
        };
        // What the file system of the temporary folder does, found without the probe.
        fs::write(tmp.path().join("probe"), b"x").unwrap();
        let insensitive = tmp.path().join("PROBE").exists();
        assert_eq!(case_insensitive(tmp.path()).unwrap(), insensitive);
        match unpack(&zip, &out, &allow, &NoEvents) {
            Ok(s) => {
                assert!(!insensitive);
                assert_eq!(
                    fs::read(out.join("jcr_root/content/Readme.txt")).unwrap(),
                    b"one"
                );
                assert_eq!(
                    fs::read(out.join("jcr_root/content/README.txt")).unwrap(),
                    b"two"
                );
                assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
                // The probe file is gone.
                let mut names: Vec<_> = fs::read_dir(&out)
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect();
                names.sort();
                assert_eq!(
                    names,
                    ["META-INF", "jcr_root"].map(std::ffi::OsString::from)
                );
            }
            Err(e) => {
                assert!(insensitive, "{e}");
                assert!(
                    matches!(e, UnpackError::CaseInsensitiveTarget { .. }),
                    "{e:?}"
                );
                assert!(!out.exists());
            }
        }
    }
}
