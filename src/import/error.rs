//! Why an install failed. Every failure leaves the repository as it was.

use crate::archive::ArchiveError;
use crate::package::PackageError;
use crate::repository::RepositoryError;

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
    /// A file of the package is malformed (the message names file, line, column).
    #[error("{0}")]
    Malformed(String),
    /// The package breaks a rule (node types, filter, identifiers, operator limits);
    /// the message names the repository path.
    #[error("{0}")]
    Refused(String),
}

impl From<PackageError> for ImportError {
    fn from(e: PackageError) -> Self {
        match e {
            PackageError::Archive(e) => ImportError::Archive(e),
            e => ImportError::Package(e),
        }
    }
}
