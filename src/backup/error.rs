//! Why a backup call failed: each error one line that names the catalogue, the
//! backup or the file it is about.

use crate::repository::RepositoryError;
use std::path::PathBuf;

/// Everything that can go wrong with a backup or a catalogue.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The folder is not a backup catalogue.
    #[error("{} is not a backup catalogue: {reason}", dir.display())]
    NotACatalogue {
        /// The folder.
        dir: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// No backup has this id.
    #[error("no backup {id} in the catalogue {}{}", catalogue.display(), nearest_text(nearest))]
    UnknownId {
        /// The catalogue folder.
        catalogue: PathBuf,
        /// The id asked for.
        id: String,
        /// The ids closest to it.
        nearest: Vec<String>,
    },
    /// A catalogue or backup written by a newer jcrpack.
    #[error("{} was written by a newer jcrpack (format version {found}; this one reads up to {supported}): use a newer jcrpack", path.display())]
    NewerFormat {
        /// The marker or manifest file.
        path: PathBuf,
        /// Its version.
        found: u64,
        /// The newest version this code reads.
        supported: u64,
    },
    /// A backup whose manifest or files are not what they should be.
    #[error("backup {id} is damaged: {detail}")]
    Damaged {
        /// The backup id.
        id: String,
        /// What is wrong.
        detail: String,
    },
    /// A blob of the repository being backed up is missing or does not match its
    /// name.
    #[error("blob {sha256} of the repository {} cannot be backed up: {detail}", repository.display())]
    SourceBlob {
        /// The repository folder.
        repository: PathBuf,
        /// The blob.
        sha256: String,
        /// What is wrong.
        detail: String,
    },
    /// Another backup command holds the catalogue lock.
    #[error("the catalogue {} is busy: another backup command is using it; try again when it has finished", catalogue.display())]
    Busy {
        /// The catalogue folder.
        catalogue: PathBuf,
    },
    /// The caller cancelled the backup; nothing of it was kept.
    #[error("backup cancelled: nothing was added to the catalogue {}", catalogue.display())]
    Cancelled {
        /// The catalogue folder.
        catalogue: PathBuf,
    },
    /// Prune was asked to keep nothing.
    #[error("a prune policy must keep something: give --keep-last, --keep-daily or --keep-weekly")]
    EmptyPolicy,
    /// A file-system error on a catalogue file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An error of the repository being backed up or of a backup's image.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    /// Workspace `workspace` could not be written as a content package
    /// (`backup create --format package`).
    #[error("workspace '{workspace}' cannot be written as a package: {source}")]
    Package {
        /// The workspace.
        workspace: String,
        /// Why.
        #[source]
        source: crate::export::ExportError,
    },
}

fn nearest_text(nearest: &[String]) -> String {
    if nearest.is_empty() {
        " (it holds no backups)".to_string()
    } else {
        format!(" (nearest: {})", nearest.join(", "))
    }
}

impl BackupError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> BackupError {
        BackupError::Io {
            path: path.into(),
            source,
        }
    }
}
