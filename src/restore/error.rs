//! What can stop a restore; each error names the workspace and path it is about.

use crate::repository::RepositoryError;

/// A restore that cannot go on. When one is returned nothing has been written (the
/// transaction is rolled back by the caller dropping it).
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Reading the source or the target, or writing the target, failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    /// A node of the backup breaks the rules every writing path obeys
    /// ([`crate::write_rules`]: a name, the depth limit).
    #[error("cannot restore {0}")]
    Refused(#[from] crate::write_rules::WriteRefusal),
    /// A root asked for is or lies below a system root, and the restore may not
    /// write there: only a whole workspace restored from a verified backup brings
    /// the system roots back.
    #[error(
        "{root} (workspace '{workspace}') is below the system root {system}: a restore \
         writes there only when it restores a whole workspace from a verified backup"
    )]
    SystemRoot {
        /// The workspace.
        workspace: String,
        /// The root asked for.
        root: String,
        /// The system root.
        system: &'static str,
    },
    /// A root is in neither the backup nor the repository.
    #[error("{root} is neither in the backup nor in the repository (workspace '{workspace}')")]
    UnknownRoot {
        /// The workspace (the first one looked in).
        workspace: String,
        /// The root path.
        root: String,
    },
    /// A workspace asked for is not in the backup.
    #[error("workspace '{0}' is not in the backup (it has: {1})")]
    UnknownWorkspace(String, String),
    /// A root is not an absolute path in standard form.
    #[error("'{0}' is not a valid root path: {1}")]
    InvalidRoot(String, String),
    /// A node of the backup carries an identifier that a node outside the restored
    /// subtrees has now.
    #[error("cannot restore {path} (workspace '{workspace}') with its jcr:uuid {uuid}: {existing}, outside the restored subtrees, has it now")]
    IdentifierConflict {
        /// The workspace.
        workspace: String,
        /// The node of the backup.
        path: String,
        /// The identifier.
        uuid: String,
        /// The node that holds it in the repository.
        existing: String,
    },
    /// A blob of the backup does not hash to its name or has another size.
    #[error(
        "the backup's blob {sha256} is damaged: its content has SHA-256 {actual} and {size} bytes"
    )]
    DamagedBlob {
        /// The blob's name (its expected SHA-256).
        sha256: String,
        /// What its content hashes to.
        actual: String,
        /// Its content's size.
        size: u64,
    },
    /// The sink receiving the differences stopped the comparison (a closed pipe, a
    /// write error); the message says why.
    #[error("{0}")]
    Sink(String),
}

/// Shorthand for restore results.
pub type Result<T, E = RestoreError> = std::result::Result<T, E>;
