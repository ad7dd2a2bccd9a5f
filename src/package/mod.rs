//! Packages as FileVault's importer sees them: an [`Archive`] with metadata
//! (`META-INF/vault/`) and a content tree (`jcr_root/`) laid out by
//! [`layout::scan`].

pub mod extract;
pub mod flat;
pub mod info;
pub mod inspect;
pub mod layout;
pub mod open;

pub use layout::{scan, scan_pruned, BinaryFile, IgnoreList, Layout, LayoutNode};
pub use open::{NodeTypeFile, OpenOptions, Package};

use crate::archive::{Archive, ArchiveError};
use crate::cnd::CndError;
use crate::filter::{FilterError, WorkspaceFilter};
use crate::properties::{PackageProperties, PropertiesError};
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
    /// `properties.xml` is malformed (the error names file, line and column).
    Properties(PropertiesError),
    /// `filter.xml` is malformed (the error names file, line and column).
    Filter(FilterError),
    /// A CND file declaring the package's node types is malformed (the error names
    /// package, entry, line and column).
    NodeTypes(CndError),
    /// The package's `packageFormatVersion` is newer than jcrpack reads.
    UnsupportedFormat {
        /// The package as opened.
        package: String,
        /// The version it declares.
        version: i32,
    },
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageError::Archive(e) => write!(f, "{e}"),
            PackageError::Metadata(m) => f.write_str(m),
            PackageError::Properties(e) => write!(f, "{e}"),
            PackageError::Filter(e) => write!(f, "{e}"),
            PackageError::NodeTypes(e) => write!(f, "{e}"),
            PackageError::UnsupportedFormat { package, version } => write!(
                f,
                "{package}: package format version {version} is not supported (at most {})",
                open::MAX_PACKAGE_FORMAT_VERSION
            ),
        }
    }
}

impl std::error::Error for PackageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PackageError::Archive(e) => Some(e),
            PackageError::Properties(e) => Some(e),
            PackageError::Filter(e) => Some(e),
            PackageError::NodeTypes(e) => Some(e),
            PackageError::Metadata(_) | PackageError::UnsupportedFormat { .. } => None,
        }
    }
}

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
    PackageProperties::parse(&bytes, PROPERTIES_ENTRY).map_err(PackageError::Properties)
}

/// `filter.xml`, or `None` when the package has none.
pub fn read_filter(archive: &dyn Archive) -> Result<Option<WorkspaceFilter>, PackageError> {
    if archive.entry(FILTER_ENTRY).is_none() {
        return Ok(None);
    }
    let bytes = archive.read_to_vec(FILTER_ENTRY)?;
    WorkspaceFilter::parse(&bytes, FILTER_ENTRY)
        .map(Some)
        .map_err(PackageError::Filter)
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
