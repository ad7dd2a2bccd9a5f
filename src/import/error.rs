//! Why an install failed. Every failure leaves the repository as it was.
//!
//! Each variant carries what names the problem (the repository path, the package
//! entry, the file location inside the cause) and the cause itself as its
//! [`source`](std::error::Error::source), so that a caller can tell a malformed
//! package from a refused one and either from a failing repository without reading
//! the message. [`ImportError::is_refusal`] sorts them.

use crate::archive::ArchiveError;
use crate::cnd::{RegisterError, WriteError};
use crate::docview::DocViewError;
use crate::package::PackageError;
use crate::package_id::DependencyError;
use crate::path::PathError;
use crate::repository::RepositoryError;
use std::fmt;

/// An install that could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The package could not be read.
    #[error("{0}")]
    Archive(#[from] ArchiveError),
    /// The repository failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
    /// The package's metadata cannot be read (`properties.xml`, `filter.xml`, a CND
    /// file) or its format is newer than jcrpack reads.
    #[error("{0}")]
    Package(PackageError),
    /// A DocView file is malformed (the cause names package, entry, line, column).
    #[error("{source}")]
    DocView {
        /// The entry.
        entry: String,
        /// The repository path it stands for.
        path: String,
        /// Why it does not parse.
        source: DocViewError,
    },
    /// The `dependencies` of `properties.xml` do not parse.
    #[error("{entry}: dependencies: {source}")]
    Dependencies {
        /// `META-INF/vault/properties.xml`.
        entry: &'static str,
        /// Why.
        source: DependencyError,
    },
    /// A CND file's node types conflict with the registry or with each other.
    #[error("{entry}: node types cannot be registered: {}", problems(source))]
    NodeTypes {
        /// The CND entry.
        entry: String,
        /// Every problem found.
        source: RegisterError,
    },
    /// A registered node type cannot be written back as CND for the repository.
    #[error("{name}: {source}")]
    NodeTypeText {
        /// The node type.
        name: String,
        /// Why.
        source: WriteError,
    },
    /// The bytes of a file of the package could not be stored in the repository.
    #[error("{package}: {entry}: cannot copy it into the repository: {source}")]
    Blob {
        /// The package (its path, or a sub package's repository path).
        package: String,
        /// The entry.
        entry: String,
        /// Why.
        source: RepositoryError,
    },
    /// A sub package could not be copied out of its package into a temporary file.
    #[error("{entry}: {source}")]
    SubPackageCopy {
        /// The sub package's entry.
        entry: String,
        /// Why.
        source: std::io::Error,
    },
    /// A temporary file could not be created.
    #[error("temporary file: {source}")]
    TempFile {
        /// Why.
        source: std::io::Error,
    },
    /// A list the install keeps on disk (paths to check, changes) could not be read
    /// back.
    #[error("the list of {what} could not be read back: {source}")]
    ReadBack {
        /// What the list holds (`nodes to check against their node types`).
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The thread reading the package ahead of the install failed (a bug).
    #[error("reading the package ahead of the install failed: {message}")]
    ReadAhead {
        /// What happened.
        message: String,
    },
    /// `--at` is no repository path.
    #[error("--at {at}: {source}")]
    InvalidAt {
        /// The option's value.
        at: String,
        /// Why.
        source: PathError,
    },
    /// The package writes below a system root or outside `--allow-root`.
    #[error("{0}")]
    OutOfBounds(OutOfBounds),
    /// `--require-dependencies` and dependencies the repository has not installed.
    #[error("{package}: dependencies not installed in this repository: {}", missing.join(", "))]
    MissingDependencies {
        /// The package.
        package: String,
        /// The dependencies, as declared.
        missing: Vec<String>,
    },
    /// `--no-acl` and an access control list.
    #[error("{path}: the package writes an access control list and --no-acl refuses it")]
    AccessControlRefused {
        /// The policy node.
        path: String,
    },
    /// `--no-authorizables` and a user or group.
    #[error(
        "{path}: the package writes the authorizable {path} and --no-authorizables refuses it"
    )]
    AuthorizableRefused {
        /// The authorizable node.
        path: String,
    },
    /// A package node's identifier is held by a node the policy may not remove.
    #[error("{path}: identifier {uuid} is already held by {holder}, which is outside the package's filter (--id-conflict create_new_id or force_remove_conflicting_id would import it)")]
    IdConflict {
        /// The package node.
        path: String,
        /// The identifier.
        uuid: String,
        /// The node holding it.
        holder: String,
    },
    /// Sub packages nested deeper than the limit.
    #[error("{entry} (to install at {path}): sub packages nested deeper than {max}")]
    TooDeep {
        /// The sub package as an entry of its parent (`PARENT!/ENTRY`).
        entry: String,
        /// The sub package's repository path.
        path: String,
        /// The limit.
        max: usize,
    },
    /// More sub packages in one install than [`crate::limits::Limits::sub_packages`].
    #[error(
        "{entry} (to install at {path}): the install would open more than {limit} sub \
         packages in all; set JCRPACK_MAX_SUB_PACKAGES to raise it if the package is trusted"
    )]
    TooManySubPackages {
        /// The sub package past the limit, as an entry of its parent (`PARENT!/ENTRY`).
        entry: String,
        /// Its repository path.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// An error about a repository path while installing a sub package: the sub
    /// package named as the entry of its parent (`PARENT!/ENTRY`), then the error.
    #[error("{entry}: {source}")]
    InSubPackage {
        /// The sub package as an entry of its parent.
        entry: String,
        /// What went wrong in it.
        source: Box<ImportError>,
    },
    /// A repository path deeper than [`crate::limits::Limits::node_depth`].
    #[error(
        "{}: the package writes a node {depth} levels deep, more than the limit of {limit}; \
         set JCRPACK_MAX_NODE_DEPTH to raise it if the package is trusted",
        crate::archive::shorten_name(path)
    )]
    NodeTooDeep {
        /// The node's path.
        path: String,
        /// Its depth.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// In strict mode: content that breaks a rule at `path` (a node type
    /// constraint, a file where the node is no file); lenient mode reports it as a
    /// warning instead.
    #[error("{message}")]
    Violation {
        /// The repository path.
        path: String,
        /// What is wrong, naming the path.
        message: String,
    },
    /// A node the install read a moment before is gone.
    #[error("{path}: missing")]
    Vanished {
        /// The repository path.
        path: String,
    },
}

impl ImportError {
    /// Whether the package was refused (it breaks a rule of the repository or of the
    /// operator's options), as opposed to malformed or failing to read or write.
    pub fn is_refusal(&self) -> bool {
        match self {
            ImportError::InSubPackage { source, .. } => source.is_refusal(),
            ImportError::Package(e) => matches!(e, PackageError::UnsupportedFormat { .. }),
            ImportError::NodeTypes { .. }
            | ImportError::OutOfBounds(_)
            | ImportError::MissingDependencies { .. }
            | ImportError::AccessControlRefused { .. }
            | ImportError::AuthorizableRefused { .. }
            | ImportError::IdConflict { .. }
            | ImportError::TooDeep { .. }
            | ImportError::NodeTooDeep { .. }
            | ImportError::TooManySubPackages { .. }
            | ImportError::Violation { .. } => true,
            ImportError::Archive(_)
            | ImportError::Repository(_)
            | ImportError::DocView { .. }
            | ImportError::Dependencies { .. }
            | ImportError::NodeTypeText { .. }
            | ImportError::Blob { .. }
            | ImportError::SubPackageCopy { .. }
            | ImportError::TempFile { .. }
            | ImportError::ReadBack { .. }
            | ImportError::ReadAhead { .. }
            | ImportError::InvalidAt { .. }
            | ImportError::Vanished { .. } => false,
        }
    }

    /// The repository path the error is about, when it is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ImportError::InSubPackage { source, .. } => source.path(),
            ImportError::DocView { path, .. }
            | ImportError::AccessControlRefused { path }
            | ImportError::AuthorizableRefused { path }
            | ImportError::IdConflict { path, .. }
            | ImportError::TooDeep { path, .. }
            | ImportError::NodeTooDeep { path, .. }
            | ImportError::TooManySubPackages { path, .. }
            | ImportError::Violation { path, .. }
            | ImportError::Vanished { path } => Some(path),
            ImportError::OutOfBounds(o) => Some(o.path()),
            _ => None,
        }
    }
}

/// The problems of a refused registration, without the error's own preamble.
fn problems(e: &RegisterError) -> String {
    e.problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<PackageError> for ImportError {
    fn from(e: PackageError) -> Self {
        match e {
            PackageError::Archive(e) => ImportError::Archive(e),
            e => ImportError::Package(e),
        }
    }
}

/// A write the operator's bounds do not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOfBounds {
    /// Below a system root the deny list holds.
    SystemRoot {
        /// The path written.
        path: String,
        /// The system root.
        root: &'static str,
    },
    /// Outside every `--allow-root`.
    NotAllowed {
        /// The path written.
        path: String,
        /// The allowed roots.
        allowed: Vec<String>,
    },
}

impl OutOfBounds {
    /// The path written.
    pub fn path(&self) -> &str {
        match self {
            OutOfBounds::SystemRoot { path, .. } | OutOfBounds::NotAllowed { path, .. } => path,
        }
    }
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutOfBounds::SystemRoot { path, root } => write!(
                f,
                "{path}: the package writes below the system root {root}; --allow-system-roots lifts this"
            ),
            OutOfBounds::NotAllowed { path, allowed } => write!(
                f,
                "{path}: the package writes outside the allowed roots ({})",
                allowed.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn refusals_keep_filevaults_wording_and_their_path() {
        let e = ImportError::OutOfBounds(OutOfBounds::SystemRoot {
            path: "/jcr:system/x".into(),
            root: "/jcr:system",
        });
        assert_eq!(
            e.to_string(),
            "/jcr:system/x: the package writes below the system root /jcr:system; --allow-system-roots lifts this"
        );
        assert!(e.is_refusal());
        assert_eq!(e.path(), Some("/jcr:system/x"));
        let e = ImportError::OutOfBounds(OutOfBounds::NotAllowed {
            path: "/b".into(),
            allowed: vec!["/a".into(), "/c".into()],
        });
        assert_eq!(
            e.to_string(),
            "/b: the package writes outside the allowed roots (/a, /c)"
        );
    }

    #[test]
    fn causes_are_kept_as_sources() {
        let io = std::io::Error::other("disk full");
        let e = ImportError::ReadBack {
            what: "changes",
            source: io,
        };
        assert_eq!(
            e.to_string(),
            "the list of changes could not be read back: disk full"
        );
        assert_eq!(e.source().unwrap().to_string(), "disk full");
        assert!(!e.is_refusal());
        let e = ImportError::InvalidAt {
            at: "x".into(),
            source: crate::path::normalize("x").unwrap_err(),
        };
        assert!(e.source().is_some());
        assert!(e.to_string().starts_with("--at x: "));
        assert!(!e.is_refusal(), "a mistake in an option is the user's");
    }
}
