//! Packages as FileVault's importer sees them: an [`Archive`] with metadata
//! (`META-INF/vault/`) and a content tree (`jcr_root/`) laid out by
//! [`layout::scan`].

pub mod extract;
pub mod info;
pub mod inspect;
pub mod layout;

pub use layout::{scan, scan_pruned, BinaryFile, IgnoreList, Layout, LayoutNode};

use crate::archive::{Archive, ArchiveError};
use crate::filter::WorkspaceFilter;
use crate::properties::PackageProperties;
use std::fmt;

/// Where the metadata lives.
pub const VAULT_DIR: &str = "META-INF/vault";
/// `filter.xml`.
pub const FILTER_ENTRY: &str = "META-INF/vault/filter.xml";
/// `properties.xml`.
pub const PROPERTIES_ENTRY: &str = "META-INF/vault/properties.xml";

/// A package's metadata that cannot be read.
#[derive(Debug)]
pub enum PackageError {
    /// The archive failed.
    Archive(ArchiveError),
    /// A metadata file is malformed; the message names file, line and column.
    Metadata(String),
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageError::Archive(e) => write!(f, "{e}"),
            PackageError::Metadata(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PackageError {}

impl From<ArchiveError> for PackageError {
    fn from(e: ArchiveError) -> Self {
        PackageError::Archive(e)
    }
}

/// `properties.xml`, or empty properties when the package has none.
pub fn read_properties(archive: &dyn Archive) -> Result<PackageProperties, PackageError> {
    if archive.entry(PROPERTIES_ENTRY).is_none() {
        return Ok(PackageProperties::new());
    }
    let bytes = archive.read_to_vec(PROPERTIES_ENTRY)?;
    PackageProperties::parse(&bytes, PROPERTIES_ENTRY)
        .map_err(|e| PackageError::Metadata(e.to_string()))
}

/// `filter.xml`, or `None` when the package has none.
pub fn read_filter(archive: &dyn Archive) -> Result<Option<WorkspaceFilter>, PackageError> {
    if archive.entry(FILTER_ENTRY).is_none() {
        return Ok(None);
    }
    let bytes = archive.read_to_vec(FILTER_ENTRY)?;
    WorkspaceFilter::parse(&bytes, FILTER_ENTRY)
        .map(Some)
        .map_err(|e| PackageError::Metadata(e.to_string()))
}

/// The CND files of the package's metadata (`META-INF/vault/*.cnd`), sorted.
pub fn metadata_cnds(archive: &dyn Archive) -> Vec<String> {
    archive
        .listing()
        .files()
        .filter(|e| e.parent() == VAULT_DIR && e.name().ends_with(".cnd"))
        .map(|e| e.name().to_string())
        .collect()
}
