//! Walking a package source folder: which files and folders go into the package, and
//! under which entry names.
//!
//! The folder is someone else's until checked. Only `jcr_root/` and `META-INF/` are
//! taken; tool litter (`.vlt`, `.vlt-*`, `.svn`, `.git`, `.DS_Store`, ...) is skipped.
//! A symbolic link is followed only when its target, fully resolved, lies inside the
//! source folder; one that leaves it, dangles or loops back to a folder above it is an
//! error naming the link. Anything that is neither a file nor a folder (a FIFO, a
//! socket, a device) is refused: reading it could block or never end. Every name must
//! be valid UTF-8 and a safe entry name ([`check_entry_name`]).
//!
//! The entries come out in depth-first order with the names of each folder sorted by
//! their bytes, each folder before its content: the order the package is written in.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::BuildError;
use crate::archive::check_entry_name;

/// The top-level folders of a source folder that go into a package.
pub const PACKAGE_ROOTS: [&str; 2] = ["META-INF", "jcr_root"];

/// Whether a file or folder called `name` is skipped wherever it is: FileVault's own
/// metadata (`.vlt`, `.vlt-*`, `.vltignore`), version control (`.svn`, `.git`,
/// `.gitignore`, `.gitattributes`) and macOS folder settings (`.DS_Store`), as
/// FileVault's importer and the FileVault Maven plugin skip them.
pub fn is_ignored_name(name: &str) -> bool {
    matches!(
        name,
        ".vlt" | ".vltignore" | ".svn" | ".git" | ".gitignore" | ".gitattributes" | ".DS_Store"
    ) || name.starts_with(".vlt-")
}

/// What a [`SourceEntry`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A folder.
    Directory,
    /// A file (its size is known once it is opened: [`SourceEntry::open`]).
    File,
}

/// One file or folder of the source folder, as it goes into the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// The entry name (`jcr_root/content/.content.xml`), without a trailing `/`.
    pub name: String,
    /// Where it is read from (possibly through a link that stays inside the folder).
    pub path: PathBuf,
    /// File or folder.
    pub kind: SourceKind,
    /// For a file reached through a link, the identity (device and inode on Unix) of
    /// the target the walk checked; opening checks that the same file is opened. A
    /// file that is no link is opened without following links instead.
    identity: Option<(u64, u64)>,
}

/// A source file opened for reading, with the size it has now.
#[derive(Debug)]
pub struct SourceFile {
    /// The open file.
    pub file: fs::File,
    /// Its size when it was opened.
    pub size: u64,
}

impl SourceFile {
    /// Reads the whole file (a file that grew since it was opened is read whole too)
    /// into a buffer of the size it had: no status call and no zeroing of the
    /// buffer (`read_to_end` of a `File` itself would ask the size again).
    pub fn read_all(self) -> std::io::Result<Vec<u8>> {
        // Larger files grow their buffer as they are read: a size is no promise.
        const RESERVE_MAX: u64 = 64 << 20;
        let expected = usize::try_from(self.size.min(RESERVE_MAX)).unwrap_or(0);
        let mut data = Vec::with_capacity(expected + 1);
        self.file.take(u64::MAX).read_to_end(&mut data)?;
        Ok(data)
    }
}

impl SourceEntry {
    /// Whether this is a file.
    pub fn is_file(&self) -> bool {
        self.kind == SourceKind::File
    }

    /// Opens the file with one status call, and checks that it is still a file of the
    /// source folder: a file that was no link must not have been replaced by one (it is
    /// opened without following links), and a file reached through a link must be the
    /// target the walk checked. A file replaced by a FIFO or a device is refused
    /// without waiting on it.
    pub fn open(&self) -> Result<SourceFile, BuildError> {
        let changed = || BuildError::Changed {
            path: self.path.clone(),
        };
        let file = open_options(self.identity.is_none())
            .open(&self.path)
            .map_err(|error| {
                if is_link_refused(&error) {
                    changed()
                } else {
                    BuildError::Unreadable {
                        path: self.path.clone(),
                        error,
                    }
                }
            })?;
        let meta = file.metadata().map_err(|error| BuildError::Unreadable {
            path: self.path.clone(),
            error,
        })?;
        if !meta.is_file() || (self.identity.is_some() && identity(&meta) != self.identity) {
            return Err(changed());
        }
        Ok(SourceFile {
            file,
            size: meta.len(),
        })
    }
}

/// How a source file is opened: never blocking on a FIFO swapped in, and without
/// following a link at its name when `no_follow`.
#[cfg(unix)]
fn open_options(no_follow: bool) -> fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = fs::OpenOptions::new();
    let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
    options.read(true).custom_flags(libc::O_NONBLOCK | follow);
    options
}

#[cfg(not(unix))]
fn open_options(_no_follow: bool) -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    options
}

/// Whether opening failed because the name had become a link (`O_NOFOLLOW`).
#[cfg(unix)]
fn is_link_refused(error: &std::io::Error) -> bool {
    error.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_refused(_error: &std::io::Error) -> bool {
    false
}

#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// The content of a source folder: what goes into the package and what was skipped.
#[derive(Debug, Clone, Default)]
pub struct SourceTree {
    /// The folder, as given.
    pub root: PathBuf,
    /// The entries in package order (see the module documentation).
    pub entries: Vec<SourceEntry>,
    /// Names (relative to the folder, `/`-separated) that were skipped: top-level
    /// names other than `jcr_root` and `META-INF`, and ignored names. The content of a
    /// skipped folder is not listed.
    pub ignored: Vec<String>,
}

impl SourceTree {
    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&SourceEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// Walks the source folder `dir` (see the module documentation for the rules) and
/// collects every entry. [`Walk`] gives the same entries one at a time.
pub fn scan(dir: &Path) -> Result<SourceTree, BuildError> {
    let mut walk = Walk::new(dir)?;
    let mut entries = Vec::new();
    for entry in walk.by_ref() {
        entries.push(entry?);
    }
    Ok(SourceTree {
        root: dir.to_owned(),
        entries,
        ignored: walk.into_ignored(),
    })
}

/// A walk of a source folder that yields its entries one at a time, in package order
/// (see the module documentation), holding only the sorted names of the folders on the
/// way to the current entry: memory is bounded by the depth times the largest folder,
/// never by the number of files. The first error ends the walk.
#[derive(Debug)]
pub struct Walk {
    /// The canonical source folder.
    root: PathBuf,
    /// The folders being listed, outermost first.
    stack: Vec<Frame>,
    /// Names skipped so far (see [`SourceTree::ignored`]).
    ignored: Vec<String>,
    /// Set once an error was returned.
    failed: bool,
}

/// One folder of the walk being listed.
#[derive(Debug)]
struct Frame {
    /// Where it is read from.
    dir: PathBuf,
    /// Its entry name, `""` for the top.
    prefix: String,
    /// Its canonical path (to refuse a link to a folder above it).
    canonical: PathBuf,
    /// Its names not yet walked, sorted by their bytes, with what the listing says
    /// they are.
    names: std::vec::IntoIter<(String, fs::FileType)>,
}

/// The names in folder `dir`, sorted by their bytes, each with its type as the
/// listing gives it (no status call per name where the file system says).
fn sorted_names(dir: &Path) -> Result<Vec<(String, fs::FileType)>, BuildError> {
    let unreadable = |error| BuildError::Unreadable {
        path: dir.to_owned(),
        error,
    };
    let mut names = Vec::new();
    for item in fs::read_dir(dir).map_err(unreadable)? {
        let item = item.map_err(unreadable)?;
        let name = item
            .file_name()
            .into_string()
            .map_err(|os| BuildError::NotUtf8Name { path: dir.join(os) })?;
        let kind = item.file_type().map_err(unreadable)?;
        names.push((name, kind));
    }
    names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(names)
}

impl Walk {
    /// Starts walking folder `dir`: fails when it is missing, not a folder or cannot be
    /// listed.
    pub fn new(dir: &Path) -> Result<Walk, BuildError> {
        let meta = fs::metadata(dir).map_err(|error| BuildError::Source {
            path: dir.to_owned(),
            error,
        })?;
        if !meta.is_dir() {
            return Err(BuildError::Source {
                path: dir.to_owned(),
                error: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
            });
        }
        let root = fs::canonicalize(dir).map_err(|error| BuildError::Source {
            path: dir.to_owned(),
            error,
        })?;
        let names = sorted_names(dir)?;
        Ok(Walk {
            root: root.clone(),
            stack: vec![Frame {
                dir: dir.to_owned(),
                prefix: String::new(),
                canonical: root,
                names: names.into_iter(),
            }],
            ignored: Vec::new(),
            failed: false,
        })
    }

    /// The names skipped (see [`SourceTree::ignored`]), once the walk is done.
    pub fn into_ignored(self) -> Vec<String> {
        self.ignored
    }

    /// The next entry of the walk, `None` at the end.
    fn step(&mut self) -> Result<Option<SourceEntry>, BuildError> {
        loop {
            let Some(frame) = self.stack.last_mut() else {
                return Ok(None);
            };
            let Some((name, kind)) = frame.names.next() else {
                self.stack.pop();
                continue;
            };
            let top = frame.prefix.is_empty();
            let rel = if top {
                name.clone()
            } else {
                let mut rel = String::with_capacity(frame.prefix.len() + 1 + name.len());
                rel.push_str(&frame.prefix);
                rel.push('/');
                rel.push_str(&name);
                rel
            };
            if (top && !PACKAGE_ROOTS.contains(&name.as_str())) || is_ignored_name(&name) {
                self.ignored.push(rel);
                continue;
            }
            let path = frame.dir.join(&name);
            // Only a folder's canonical path is kept (a file's was made and dropped).
            let canonical = kind.is_dir().then(|| frame.canonical.join(&name));
            return self.entry(rel, path, canonical, kind).map(Some);
        }
    }

    /// The entry `rel` at `path` (`canonical` when it is a folder and no link), of type
    /// `kind` as its folder's listing says; a folder is pushed onto the walk. Only a
    /// link costs status calls here: a file's are made when it is opened.
    fn entry(
        &mut self,
        rel: String,
        path: PathBuf,
        canonical: Option<PathBuf>,
        kind: fs::FileType,
    ) -> Result<SourceEntry, BuildError> {
        check_entry_name(&rel).map_err(|problem| BuildError::UnsafeName {
            path: path.clone(),
            problem,
        })?;
        // The canonical path of a folder, `None` for a file.
        let (folder, identity) = if kind.is_symlink() {
            let target = fs::canonicalize(&path).map_err(|error| BuildError::BrokenSymlink {
                link: path.clone(),
                error,
            })?;
            if !target.starts_with(&self.root) {
                return Err(BuildError::EscapingSymlink { link: path, target });
            }
            let meta = fs::metadata(&target).map_err(|error| BuildError::Unreadable {
                path: path.clone(),
                error,
            })?;
            if !meta.is_dir() && !meta.is_file() {
                return Err(BuildError::SpecialFile { path });
            }
            (Some(target).filter(|_| meta.is_dir()), identity(&meta))
        } else if kind.is_dir() || kind.is_file() {
            (canonical, None)
        } else {
            return Err(BuildError::SpecialFile { path });
        };
        let Some(canonical) = folder else {
            return Ok(SourceEntry {
                name: rel,
                path,
                kind: SourceKind::File,
                identity,
            });
        };
        // Canonical paths (resolved, then joined with plain names) are equal exactly
        // when their bytes are: no component-wise comparison needed.
        if self
            .stack
            .iter()
            .any(|f| f.canonical.as_os_str() == canonical.as_os_str())
        {
            return Err(BuildError::SymlinkLoop { link: path });
        }
        let names = sorted_names(&path)?;
        self.stack.push(Frame {
            dir: path.clone(),
            prefix: rel.clone(),
            canonical,
            names: names.into_iter(),
        });
        Ok(SourceEntry {
            name: rel,
            path,
            kind: SourceKind::Directory,
            identity: None,
        })
    }
}

impl Iterator for Walk {
    type Item = Result<SourceEntry, BuildError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let step = self.step();
        if step.is_err() {
            self.failed = true;
        }
        step.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(tree: &SourceTree) -> Vec<&str> {
        tree.entries.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn only_package_folders_are_taken_depth_first_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "jcr_root/b/x.txt",
            "jcr_root/a-b/y.txt",
            "jcr_root/a/z.txt",
            "jcr_root/a/.vlt",
            "jcr_root/.svn/entries",
            "META-INF/vault/filter.xml",
            "pom.xml",
        ] {
            let p = d.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        fs::create_dir_all(d.join("jcr_root/empty")).unwrap();
        let tree = scan(d).unwrap();
        assert_eq!(
            names(&tree),
            [
                "META-INF",
                "META-INF/vault",
                "META-INF/vault/filter.xml",
                "jcr_root",
                "jcr_root/a",
                "jcr_root/a/z.txt",
                "jcr_root/a-b",
                "jcr_root/a-b/y.txt",
                "jcr_root/b",
                "jcr_root/b/x.txt",
                "jcr_root/empty",
            ]
        );
        assert_eq!(
            tree.ignored,
            ["jcr_root/.svn", "jcr_root/a/.vlt", "pom.xml"]
        );
        let file = tree.get("jcr_root/b/x.txt").unwrap();
        assert!(file.is_file());
        assert_eq!(file.open().unwrap().size, 1);
        assert_eq!(file.open().unwrap().read_all().unwrap(), b"x");
    }

    #[test]
    fn the_walk_holds_only_the_folders_on_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for i in 0..20 {
            let p = d.join(format!("jcr_root/a/b{i:02}/c/file.txt"));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        }
        let mut walk = Walk::new(d).unwrap();
        let mut names = Vec::new();
        while let Some(entry) = walk.next() {
            let entry = entry.unwrap();
            // The top, jcr_root, a, bNN, c: never more, however many folders there are.
            assert!(
                walk.stack.len() <= 5,
                "{}: {}",
                entry.name,
                walk.stack.len()
            );
            names.push(entry.name);
        }
        assert_eq!(names.len(), 2 + 20 * 3);
        let tree = scan(d).unwrap();
        assert_eq!(self::names(&tree), names);
    }

    #[cfg(unix)]
    #[test]
    fn an_error_ends_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("jcr_root/a")).unwrap();
        fs::write(d.join("jcr_root/b.txt"), b"x").unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("jcr_root/a/dangling")).unwrap();
        let items: Vec<_> = Walk::new(d).unwrap().collect();
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[2].is_err(), "{items:?}");
    }

    #[test]
    fn ignored_names() {
        for n in [
            ".vlt",
            ".vlt-sync.log",
            ".svn",
            ".git",
            ".DS_Store",
            ".vltignore",
        ] {
            assert!(is_ignored_name(n), "{n}");
        }
        for n in [".content.xml", "vlt", ".vltx", "_jcr_content", ".gitkeep"] {
            assert!(!is_ignored_name(n), "{n}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_only_inside_the_folder() {
        use std::os::unix::fs::symlink;
        let top = tempfile::tempdir().unwrap();
        let d = top.path().join("src");
        fs::create_dir_all(d.join("jcr_root/apps")).unwrap();
        fs::create_dir_all(d.join("shared")).unwrap();
        fs::write(d.join("shared/readme.txt"), b"hi").unwrap();
        fs::write(top.path().join("secret"), b"secret").unwrap();
        symlink(
            "../../shared/readme.txt",
            d.join("jcr_root/apps/readme.txt"),
        )
        .unwrap();
        symlink("../../shared", d.join("jcr_root/apps/shared")).unwrap();
        let tree = scan(&d).unwrap();
        assert_eq!(
            names(&tree),
            [
                "jcr_root",
                "jcr_root/apps",
                "jcr_root/apps/readme.txt",
                "jcr_root/apps/shared",
                "jcr_root/apps/shared/readme.txt",
            ]
        );
        let f = tree
            .get("jcr_root/apps/readme.txt")
            .unwrap()
            .open()
            .unwrap();
        assert_eq!(f.read_all().unwrap(), b"hi");

        symlink("../../../secret", d.join("jcr_root/apps/secret")).unwrap();
        let e = scan(&d).unwrap_err();
        assert!(
            matches!(&e, BuildError::EscapingSymlink { link, .. } if link.ends_with("jcr_root/apps/secret")),
            "{e:?}"
        );
        fs::remove_file(d.join("jcr_root/apps/secret")).unwrap();

        symlink("..", d.join("jcr_root/apps/loop")).unwrap();
        let e = scan(&d).unwrap_err();
        assert!(matches!(e, BuildError::SymlinkLoop { .. }), "{e:?}");
        fs::remove_file(d.join("jcr_root/apps/loop")).unwrap();

        symlink("nowhere", d.join("jcr_root/apps/dangling")).unwrap();
        let e = scan(&d).unwrap_err();
        assert!(matches!(e, BuildError::BrokenSymlink { .. }), "{e:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("jcr_root")).unwrap();
        fs::write(d.join("jcr_root/a.txt"), b"a").unwrap();
        let tree = scan(d).unwrap();
        // The other file exists before the scanned one goes, so it cannot reuse its
        // inode number.
        fs::write(d.join("jcr_root/other.txt"), b"b").unwrap();
        fs::remove_file(d.join("jcr_root/a.txt")).unwrap();
        std::os::unix::fs::symlink("other.txt", d.join("jcr_root/a.txt")).unwrap();
        let e = tree.get("jcr_root/a.txt").unwrap().open().unwrap_err();
        assert!(matches!(e, BuildError::Changed { .. }), "{e:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_replaced_by_a_fifo_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("jcr_root")).unwrap();
        fs::write(d.join("jcr_root/a.txt"), b"a").unwrap();
        let tree = scan(d).unwrap();
        fs::remove_file(d.join("jcr_root/a.txt")).unwrap();
        let fifo = std::ffi::CString::new(d.join("jcr_root/a.txt").as_os_str().as_encoded_bytes())
            .unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let e = tree.get("jcr_root/a.txt").unwrap().open().unwrap_err();
        assert!(matches!(e, BuildError::Changed { .. }), "{e:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_must_stay_the_target_that_was_checked() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("jcr_root")).unwrap();
        fs::write(d.join("jcr_root/target.txt"), b"t").unwrap();
        std::os::unix::fs::symlink("target.txt", d.join("jcr_root/link.txt")).unwrap();
        let tree = scan(d).unwrap();
        assert_eq!(
            tree.get("jcr_root/link.txt").unwrap().open().unwrap().size,
            1
        );
        // A new file (a new inode: the old one still exists) takes the target's name.
        fs::write(d.join("jcr_root/new.txt"), b"n").unwrap();
        fs::rename(d.join("jcr_root/new.txt"), d.join("jcr_root/target.txt")).unwrap();
        let e = tree.get("jcr_root/link.txt").unwrap().open().unwrap_err();
        assert!(matches!(e, BuildError::Changed { .. }), "{e:?}");
    }

    #[test]
    fn a_file_is_read_whole_whatever_its_size_said() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("jcr_root")).unwrap();
        let path = d.join("jcr_root/grows.txt");
        fs::write(&path, b"ab").unwrap();
        let tree = scan(d).unwrap();
        let opened = tree.get("jcr_root/grows.txt").unwrap().open().unwrap();
        assert_eq!(opened.size, 2);
        let more: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&more)
            .unwrap();
        let data = opened.read_all().unwrap();
        assert_eq!(data.len(), 2 + more.len());
        assert_eq!(data.get(..2), Some(&b"ab"[..]));
        assert_eq!(data.get(2..), Some(&more[..]));
        let empty = d.join("jcr_root/empty.txt");
        fs::write(&empty, b"").unwrap();
        let tree = scan(d).unwrap();
        let opened = tree.get("jcr_root/empty.txt").unwrap().open().unwrap();
        assert_eq!((opened.size, opened.read_all().unwrap()), (0, Vec::new()));
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("jcr_root")).unwrap();
        let sock = d.join("jcr_root/sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let e = scan(d).unwrap_err();
        assert!(matches!(e, BuildError::SpecialFile { .. }), "{e:?}");
    }
}
