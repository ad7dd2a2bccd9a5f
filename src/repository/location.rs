//! Opening a repository by its location: the factory.
//!
//! Callers (the command line, a server) name a repository by a location string and
//! get a `dyn Store`; only this module knows which backend serves which location.
//! A folder path is the embedded SQLite backend; `postgres://...` (or
//! `postgresql://...`) is the PostgreSQL backend ([`super::pg`]: a repository in
//! a schema of a database, `?schema=NAME`); any other scheme is refused with
//! [`RepositoryError::UnsupportedBackend`].
//!
//! A repository folder holds a small [`TYPE_FILE`] naming its backend and format
//! version (`backend = sqlite`, `format = 1`), as jj's store folders hold a `type`
//! file: `open` reads it first, refuses a format newer than [`FORMAT`] and a backend
//! it does not know, and then lets the backend check its own files. Repositories
//! created before the file existed have none; they open as SQLite, format 1.

use super::sqlite::SqliteStore;
use super::{RepositoryError, Result, Store};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file in a repository folder that names its backend and format.
pub const TYPE_FILE: &str = "type";

/// The newest repository format this build reads and the one `init` writes.
pub const FORMAT: u32 = 1;

/// The backend name of the embedded SQLite store in [`TYPE_FILE`].
pub const SQLITE: &str = "sqlite";

/// How to open a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// How long `begin` waits for another process's write to finish before failing
    /// with [`RepositoryError::RepositoryBusy`].
    pub busy_timeout: Duration,
    /// The caller loads content in large transactions (`import`, `load`,
    /// `restore`), and a
    /// repository that holds next to nothing is most likely being filled for the
    /// first time. The SQLite backend then writes such a transaction through a
    /// rollback journal rather than its write-ahead log, when its connection is the
    /// only one open: pages added to the end of the database are written once,
    /// where the log writes each twice (into the log, then into the database at
    /// the checkpoint). Readers that open the repository meanwhile wait for the
    /// commit. Other backends ignore it.
    pub bulk_load: bool,
}

impl Default for OpenOptions {
    /// Five seconds of patience.
    fn default() -> Self {
        OpenOptions {
            busy_timeout: Duration::from_secs(5),
            bulk_load: false,
        }
    }
}

/// Where a repository lives, as [`Location::parse`] reads a location string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder on this machine (the SQLite backend).
    Folder(PathBuf),
    /// A URL with a scheme (`postgres://host/db`): a server backend.
    Url {
        /// The scheme (`postgres`), lower case.
        scheme: String,
        /// The whole location.
        url: String,
    },
}

impl Location {
    /// Reads a location: `scheme://...` is a URL (a scheme being a letter then
    /// letters, digits, `+`, `-` or `.`, at least two characters so that `C:\` stays
    /// a path), anything else a folder path.
    pub fn parse(location: &OsStr) -> Location {
        if let Some(s) = location.to_str() {
            if let Some((scheme, _)) = s.split_once("://") {
                let mut chars = scheme.chars();
                let ok = scheme.len() >= 2
                    && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
                if ok {
                    return Location::Url {
                        scheme: scheme.to_ascii_lowercase(),
                        url: s.to_string(),
                    };
                }
            }
        }
        Location::Folder(PathBuf::from(location))
    }
}

/// What a repository folder's [`TYPE_FILE`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryType {
    /// The backend (`sqlite`).
    pub backend: String,
    /// The format version.
    pub format: u32,
}

impl RepositoryType {
    /// The type `init` writes for a folder.
    pub fn current() -> RepositoryType {
        RepositoryType {
            backend: SQLITE.to_string(),
            format: FORMAT,
        }
    }

    /// The file's text: `key = value` lines.
    pub fn to_text(&self) -> String {
        format!("backend = {}\nformat = {}\n", self.backend, self.format)
    }

    /// Reads the file's text; unknown keys are ignored (a newer jcrpack may add
    /// some), a missing backend or format is an error.
    pub fn parse(text: &str) -> std::result::Result<RepositoryType, String> {
        let mut backend = None;
        let mut format = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("line {}: expected key = value", n + 1));
            };
            match k.trim() {
                "backend" => backend = Some(v.trim().to_string()),
                "format" => {
                    let v = v.trim();
                    format = Some(
                        v.parse::<u32>()
                            .map_err(|_| format!("line {}: format '{v}' is not a number", n + 1))?,
                    )
                }
                _ => {}
            }
        }
        match (backend, format) {
            (Some(backend), Some(format)) if !backend.is_empty() => {
                Ok(RepositoryType { backend, format })
            }
            _ => Err("it must name a backend and a format".to_string()),
        }
    }

    /// Reads the type of the repository in `folder`: its [`TYPE_FILE`], or SQLite
    /// format 1 when a repository from before the file has none.
    pub fn read(folder: &Path) -> Result<RepositoryType> {
        let file = folder.join(TYPE_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                RepositoryType::parse(&text).map_err(|reason| RepositoryError::NotARepository {
                    path: folder.to_path_buf(),
                    reason: format!("its {TYPE_FILE} file cannot be read: {reason}"),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepositoryType {
                backend: SQLITE.to_string(),
                format: 1,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(RepositoryError::NotARepository {
                    path: folder.to_path_buf(),
                    reason: format!("its {TYPE_FILE} file is not text"),
                })
            }
            Err(source) => Err(RepositoryError::Io { path: file, source }),
        }
    }

    /// Writes the file into `folder`, durably (a temporary file renamed into place).
    fn write(&self, folder: &Path) -> Result<()> {
        use std::io::Write;
        let io = |path: &Path, source| RepositoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".jcrpack-type-")
            .suffix(".tmp")
            .tempfile_in(folder)
            .map_err(|e| io(folder, e))?;
        tmp.write_all(self.to_text().as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io(tmp.path(), e))?;
        let target = folder.join(TYPE_FILE);
        tmp.persist(&target).map_err(|e| io(&target, e.error))?;
        Ok(())
    }
}

/// Whether a URL scheme names the PostgreSQL backend.
fn is_postgres(scheme: &str) -> bool {
    scheme == "postgres" || scheme == "postgresql"
}

fn unsupported(location: &OsStr, backend: &str) -> RepositoryError {
    RepositoryError::UnsupportedBackend {
        location: location.to_string_lossy().into_owned(),
        backend: backend.to_string(),
    }
}

/// Creates a repository at `location` (a folder, created if missing, that must not
/// hold a repository) whose workspace `default` has only the root node.
pub fn init<L: AsRef<OsStr> + ?Sized>(location: &L) -> Result<Box<dyn Store>> {
    init_with(location, &OpenOptions::default())
}

/// [`init`] with options.
pub fn init_with<L: AsRef<OsStr> + ?Sized>(
    location: &L,
    options: &OpenOptions,
) -> Result<Box<dyn Store>> {
    let location = location.as_ref();
    match Location::parse(location) {
        Location::Url { scheme, url } if is_postgres(&scheme) => {
            Ok(Box::new(super::pg::PgStore::init_url(&url, options)?))
        }
        Location::Url { scheme, .. } => Err(unsupported(location, &scheme)),
        Location::Folder(folder) => {
            if folder.join(TYPE_FILE).exists() {
                return Err(RepositoryError::AlreadyExists {
                    path: folder,
                    reason: format!("{TYPE_FILE} exists"),
                });
            }
            // Its default workspace has Oak's initial content (create_workspace).
            let store: Box<dyn Store> = Box::new(SqliteStore::init_with(&folder, options)?);
            RepositoryType::current().write(&folder)?;
            Ok(store)
        }
    }
}

/// Opens the repository at `location`.
///
/// A folder without a repository is [`RepositoryError::NotARepository`]; a folder
/// whose [`TYPE_FILE`] names a newer format is [`RepositoryError::NewerFormat`], and
/// one naming another backend, like a URL of a scheme other than `postgres://`,
/// is [`RepositoryError::UnsupportedBackend`].
pub fn open<L: AsRef<OsStr> + ?Sized>(location: &L) -> Result<Box<dyn Store>> {
    open_with(location, &OpenOptions::default())
}

/// [`open`] with options.
pub fn open_with<L: AsRef<OsStr> + ?Sized>(
    location: &L,
    options: &OpenOptions,
) -> Result<Box<dyn Store>> {
    let location = location.as_ref();
    match Location::parse(location) {
        Location::Url { scheme, url } if is_postgres(&scheme) => {
            Ok(Box::new(super::pg::PgStore::open_url(&url, options)?))
        }
        Location::Url { scheme, .. } => Err(unsupported(location, &scheme)),
        Location::Folder(folder) => {
            if !folder.is_dir() {
                return Err(RepositoryError::NotARepository {
                    path: folder,
                    reason: "no such folder".into(),
                });
            }
            let kind = RepositoryType::read(&folder)?;
            if kind.format > FORMAT {
                return Err(RepositoryError::NewerFormat {
                    path: folder,
                    found: kind.format,
                    supported: FORMAT,
                });
            }
            if kind.backend != SQLITE {
                return Err(unsupported(location, &kind.backend));
            }
            Ok(Box::new(SqliteStore::open_with(&folder, options)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_folders_unless_they_have_a_scheme() {
        let url = Location::parse(OsStr::new("postgres://db.example/jcr"));
        assert!(matches!(url, Location::Url { ref scheme, .. } if scheme == "postgres"));
        for folder in ["repo", "/tmp/r", "C:\\repo", "c://x", "a b://c", "./x://y"] {
            assert_eq!(
                Location::parse(OsStr::new(folder)),
                Location::Folder(PathBuf::from(folder)),
                "{folder}"
            );
        }
    }

    #[test]
    fn type_file_round_trips_and_ignores_unknown_keys() {
        let t = RepositoryType::current();
        assert_eq!(RepositoryType::parse(&t.to_text()), Ok(t));
        let later =
            RepositoryType::parse("# jcrpack\nbackend = sqlite\nformat = 2\nblobs = sha256\n");
        assert_eq!(
            later,
            Ok(RepositoryType {
                backend: "sqlite".into(),
                format: 2
            })
        );
        assert!(RepositoryType::parse("backend = sqlite\n").is_err());
        assert!(RepositoryType::parse("backend = sqlite\nformat = two\n").is_err());
        assert!(RepositoryType::parse("garbage\n").is_err());
    }

    #[test]
    fn init_writes_the_type_file_and_open_checks_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("repo");
        drop(init(&repo).expect("init"));
        assert_eq!(
            std::fs::read_to_string(repo.join(TYPE_FILE)).expect("type file"),
            "backend = sqlite\nformat = 1\n"
        );
        assert!(matches!(
            init(&repo),
            Err(RepositoryError::AlreadyExists { .. })
        ));
        let store = open(&repo).expect("open");
        assert_eq!(store.workspaces().expect("workspaces"), ["default"]);
        drop(store);

        // A repository from before the type file opens as SQLite.
        std::fs::remove_file(repo.join(TYPE_FILE)).expect("remove");
        drop(open(&repo).expect("open without type file"));

        std::fs::write(repo.join(TYPE_FILE), "backend = sqlite\nformat = 7\n").expect("write");
        let e = open(&repo).map(|_| ()).unwrap_err();
        assert!(matches!(
            e,
            RepositoryError::NewerFormat {
                found: 7,
                supported: 1,
                ..
            }
        ));
        assert!(e.to_string().contains("newer"), "{e}");

        std::fs::write(repo.join(TYPE_FILE), "backend = oak\nformat = 1\n").expect("write");
        let e = open(&repo).map(|_| ()).unwrap_err();
        assert!(
            matches!(e, RepositoryError::UnsupportedBackend { ref backend, .. } if backend == "oak")
        );
    }

    #[test]
    fn unknown_schemes_are_refused_clearly() {
        let e = open("mysql://localhost/jcr").map(|_| ()).unwrap_err();
        assert!(
            matches!(e, RepositoryError::UnsupportedBackend { ref backend, .. } if backend == "mysql")
        );
        assert!(e.to_string().contains("not supported"), "{e}");
        assert!(init("mysql://localhost/jcr").is_err());
    }

    #[test]
    fn postgres_locations_open_and_init_the_postgres_backend() {
        let url = format!(
            "{}?schema=factory",
            crate::repository::pg::testdb::fresh_database()
        );
        assert!(matches!(
            open(&url).map(|_| ()),
            Err(RepositoryError::NotARepository { .. })
        ));
        drop(init(&url).expect("init"));
        assert!(matches!(
            init(&url).map(|_| ()),
            Err(RepositoryError::AlreadyExists { .. })
        ));
        let store = open(&url).expect("open");
        assert_eq!(store.workspaces().expect("workspaces"), ["default"]);
        assert!(store
            .location()
            .to_string_lossy()
            .starts_with("postgres://"));
    }
}
