//! Hot backups of a whole repository into a catalogue, and the catalogue's
//! management (`jcrpack backup ...`).
//!
//! # The catalogue
//!
//! A catalogue is a folder (by default `REPO/backups`, which the repository itself
//! never reads as content):
//!
//! ```text
//! DIR/catalogue.json              {"format":"jcrpack-backup-catalogue","version":1}
//! DIR/.lock                       the catalogue lock (flock; see `lock`)
//! DIR/blobs/ab/cdef…              binaries by SHA-256, shared by every backup
//! DIR/backups/<ID>/manifest.json  what the backup holds, with a checksum of each file
//! DIR/backups/<ID>/image.txt      the chunks of the SQLite image of the repository,
//!                                 stored in DIR/blobs: `sha256 size` lines (`chunks`)
//! DIR/backups/<ID>/blobs.txt      the blobs the image refers to: `sha256 size` lines
//! DIR/backups/.tmp-<ID>/          a backup being written (holds `in-progress`)
//! ```
//!
//! A backup is written under `.tmp-<ID>` and renamed to `<ID>` once every file and
//! blob is durable, so the catalogue never lists a partial backup; the next command
//! that can take the catalogue lock exclusively removes what a killed one left
//! (and the blobs no complete backup refers to).
//!
//! The image of a whole SQLite repository is read straight from its database file
//! into chunks under one read snapshot (`SqliteStore::read_image`); otherwise (a
//! choice of workspaces, another backend) it is taken into a temporary file first
//! and then cut. Blobs are hard-linked from a repository on the catalogue's file
//! system (`blobs::CatalogueBlobs::link_in`), copied otherwise.
//!
//! A backup of a repository that has not changed since the catalogue's last backup
//! of it (the same generation token, see `repository/sqlite/image.rs`) copies no
//! image at all: it shares the earlier backup's chunks and blobs.
//!
//! Backups of manifest format 1 (the image whole as `DIR/backups/<ID>/repository.db`)
//! are still listed, read, verified, restored and deleted.
//!
//! Ids are the UTC time of the backup, `20261204T170512Z`, with `-2`, `-3`, ... on a
//! collision: they sort in time order and are unique within a catalogue.
//!
//! # Files
//!
//! `error` (what goes wrong), `manifest` (the manifest and ids), `lock` (the
//! catalogue lock), `blobs` (the shared blob folder: verified copies and reads),
//! `catalogue` (opening, listing, deleting, cleaning up), `create` (taking a
//! backup), `durable` (many files and folders synced at once), `store` (a backup
//! opened as a read-only repository), `verify`, `prune`.

mod blobs;
mod catalogue;
mod chunk_image;
mod chunks;
mod copy_blobs;
mod create;
mod durable;
mod error;
pub mod jobs;
mod lock;
mod manifest;
mod prune;
mod store;
mod verify;

pub use blobs::BlobStats;
pub use catalogue::{Catalogue, NewCatalogue, Scan, BACKUPS_DIR, DEFAULT_CATALOGUE_DIR};
pub use chunks::{ImageStats, CHUNK_BYTES, IMAGE_LIST_FILE};
pub use create::CreateOptions;
pub use error::BackupError;
pub use manifest::{backup_id, FileEntry, Kind, Manifest, MANIFEST_FORMAT, MANIFEST_VERSION};
pub use prune::{PrunePolicy, PruneReport};
pub use store::BackupStore;
pub use verify::VerifyReport;

/// Shorthand for results of backup calls.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
