//! Why a repository call failed. Every error names the repository folder, or the
//! workspace and path it is about, and says what was expected.

use super::journal::OperationId;
use crate::name::NameError;
use crate::path::PathError;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A later operation that touched what an undo would restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoConflict {
    /// The later operation.
    pub operation: OperationId,
    /// Its description.
    pub description: String,
    /// The items both touched (`workspace:path`), sorted.
    pub paths: Vec<String>,
}

/// Everything that can go wrong in a repository call.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The folder does not hold a repository.
    #[error("{} is not a jcrpack repository: {reason}", path.display())]
    NotARepository {
        /// The folder.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// The location names a backend this build does not have (`postgres://...`).
    #[error("{location}: the {backend} backend is not supported by this jcrpack (a repository is a folder path or a postgres:// URL)")]
    UnsupportedBackend {
        /// The location as given.
        location: String,
        /// The backend it names (`postgres`, or the `type` file's backend).
        backend: String,
    },
    /// The repository was written by a newer jcrpack, in a format this one does not
    /// read.
    #[error("{}: repository format {found} is newer than this jcrpack reads (format {supported}); use a newer jcrpack", path.display())]
    NewerFormat {
        /// The repository folder.
        path: PathBuf,
        /// The format its `type` file names.
        found: u32,
        /// The newest format this build reads.
        supported: u32,
    },
    /// `init` found a repository (or other files) already there.
    #[error("cannot create a repository in {}: {reason}", path.display())]
    AlreadyExists {
        /// The folder.
        path: PathBuf,
        /// What is there.
        reason: String,
    },
    /// Another process holds the write lock and did not release it in time.
    #[error(
        "the repository {} is busy: another process is writing to it (waited {} ms); try again when it has finished",
        repository.display(),
        waited.as_millis()
    )]
    RepositoryBusy {
        /// The repository folder.
        repository: PathBuf,
        /// How long this call waited for the lock.
        waited: Duration,
    },
    /// The workspace does not exist.
    #[error("workspace '{workspace}' does not exist")]
    WorkspaceNotFound {
        /// The workspace name.
        workspace: String,
    },
    /// A workspace name that is empty or has control characters.
    #[error(
        "'{0}' is not a valid workspace name (expected non-empty text without control characters)"
    )]
    InvalidWorkspaceName(String),
    /// No node at the path.
    #[error("no node at {path} (workspace '{workspace}')")]
    NodeNotFound {
        /// The workspace.
        workspace: String,
        /// The path.
        path: String,
    },
    /// A node of that name exists and same-name siblings were not allowed.
    #[error("a node {path} already exists (workspace '{workspace}'), and same-name siblings were not allowed")]
    ItemExists {
        /// The workspace.
        workspace: String,
        /// The existing node's path.
        path: String,
    },
    /// A path argument is not a valid JCR path.
    #[error("invalid path: {0}")]
    InvalidPath(#[from] PathError),
    /// A name argument (node, property, type, mixin) is not a valid JCR name.
    #[error("invalid name: {0}")]
    InvalidName(#[from] NameError),
    /// A property that cannot be stored as given.
    #[error("cannot set property '{name}' of {path} (workspace '{workspace}'): {reason}")]
    InvalidProperty {
        /// The workspace.
        workspace: String,
        /// The node path.
        path: String,
        /// The property name.
        name: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// An operation the node does not allow (removing the root, ...).
    #[error("cannot {action} {path} (workspace '{workspace}'): {reason}")]
    NotAllowed {
        /// The workspace.
        workspace: String,
        /// The node path.
        path: String,
        /// What was attempted.
        action: &'static str,
        /// Why not.
        reason: String,
    },
    /// Another node of the workspace already has this `jcr:uuid`.
    #[error("cannot give {path} the jcr:uuid {uuid} (workspace '{workspace}'): {existing} already has it")]
    DuplicateUuid {
        /// The workspace.
        workspace: String,
        /// The node that would get the uuid.
        path: String,
        /// The uuid.
        uuid: String,
        /// The node that has it.
        existing: String,
    },
    /// A blob reference that is not in this repository's blob store.
    #[error("blob {sha256} is not in the blob store of {} ({reason})", repository.display())]
    BlobNotFound {
        /// The repository folder.
        repository: PathBuf,
        /// The blob's SHA-256 as given.
        sha256: String,
        /// Why it was not found (missing file, malformed hash).
        reason: String,
    },
    /// A blob whose file is not what was stored: not a regular file (a link, a
    /// FIFO, a device), or content that no longer hashes to its name.
    #[error("blob {sha256} in the blob store of {} is damaged: {reason}", repository.display())]
    BlobDamaged {
        /// The repository folder.
        repository: PathBuf,
        /// The blob's SHA-256.
        sha256: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A namespace registration that clashes with an existing one.
    #[error("cannot register namespace {prefix}={uri}: {reason}")]
    NamespaceConflict {
        /// The prefix.
        prefix: String,
        /// The URI.
        uri: String,
        /// The existing mapping in the way.
        reason: String,
    },
    /// No operation with this id.
    #[error("operation {0} does not exist (see the history for valid ids)")]
    OperationNotFound(OperationId),
    /// An undo that cannot run at all.
    #[error("cannot undo operation {operation}: {reason}")]
    CannotUndo {
        /// The operation.
        operation: OperationId,
        /// Why not.
        reason: String,
    },
    /// Later operations touched what an undo would restore.
    #[error("{}", conflict_message(*.operation, conflicts))]
    UndoConflict {
        /// The operation to undo.
        operation: OperationId,
        /// The later operations in the way, oldest first.
        conflicts: Vec<UndoConflict>,
    },
    /// A file-system error on a repository file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An SQLite error.
    #[error("database error in {}: {source}", repository.display())]
    Database {
        /// The repository folder.
        repository: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// A PostgreSQL error (a `postgres://` repository).
    #[error("database error in {}: {source}", repository.display())]
    Postgres {
        /// The repository's location (without a password).
        repository: PathBuf,
        /// The cause.
        source: postgres::Error,
    },
    /// Writing the rows a PostgreSQL install held back (its new nodes,
    /// properties and small binaries, written together by `COPY`) failed: the
    /// error names them, not the statement that made them be written.
    #[error("database error in {} while writing the waiting rows of {what}: {source}", repository.display())]
    PostgresWaitingRows {
        /// The repository's location (without a password).
        repository: PathBuf,
        /// What waited: "N nodes below PATH" and the binaries.
        what: String,
        /// The cause.
        source: postgres::Error,
    },
    /// The caller cancelled a long operation (an image, a backup); nothing of it
    /// was kept.
    #[error("cancelled: nothing was written to {}", repository.display())]
    Cancelled {
        /// The repository folder.
        repository: PathBuf,
    },
    /// The backend cannot do this (an image of a backend without one).
    #[error("the repository {} cannot {what} (its storage backend does not support it)", repository.display())]
    Unsupported {
        /// The repository folder.
        repository: PathBuf,
        /// What was asked, as a verb phrase.
        what: String,
    },
    /// A write to a read-only repository (a backup opened for reading).
    #[error("{} is read-only: cannot {action}", repository.display())]
    ReadOnly {
        /// The repository (or backup) folder.
        repository: PathBuf,
        /// What was asked, as a verb phrase.
        action: String,
    },
    /// Stored data that cannot be read back.
    #[error("the repository {} is damaged: {detail}", repository.display())]
    Corrupt {
        /// The repository folder.
        repository: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// How many paths per conflicting operation an undo conflict message lists.
const PATHS_SHOWN: usize = 5;

fn conflict_message(op: OperationId, conflicts: &[UndoConflict]) -> String {
    let mut s = format!("cannot undo operation {op}: later operations touched the same items");
    for c in conflicts {
        s.push_str(&format!(
            "\n  operation {} ({}): {}",
            c.operation,
            c.description,
            c.paths
                .iter()
                .take(PATHS_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if c.paths.len() > PATHS_SHOWN {
            s.push_str(&format!(" and {} more", c.paths.len() - PATHS_SHOWN));
        }
    }
    s.push_str("\nundo those operations first, or force the undo to overwrite their changes");
    s
}

impl fmt::Display for UndoConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "operation {} ({}): {}",
            self.operation,
            self.description,
            self.paths.join(", ")
        )
    }
}
