//! One archive idea over zip files and exploded folders, read lazily.
//!
//! A FileVault package reaches jcrpack as a zip or as a folder with the same layout
//! (FileVault's own test packages are folders named `*.zip`). Both are an [`Archive`]:
//! a sorted [`Listing`] of entry names (files, and directories whether stored or only
//! implied by file paths), and [`Archive::open`], which returns a reader for one file.
//! Code above this module never asks which kind it got (FileVault's `Archive` with its
//! `ZipArchive` and `FileArchive`).
//!
//! * [`ZipArchive`] reads a zip with random access: opening reads only the central
//!   directory; an entry is inflated from the file as it is read, its CRC-32 and size
//!   checked, nothing unpacked to disk and no whole entry held in memory.
//! * [`FolderArchive`] reads a folder and refuses symbolic links inside it.
//! * [`open`] picks by the path's kind: a directory is a folder archive, a file a zip.
//!
//! Input is hostile until checked: entry names that could escape a target folder or
//! differ between systems are refused ([`check_entry_name`]), as are duplicates and names
//! used as both file and directory; names that differ only in case are a warning (an
//! error with [`ReadOptions::with_strict`]). Inflating is bounded by [`Limits`], counted
//! while inflating, never trusted from a header.
//!
//! Writing: [`PackageWriter`] writes a package zip deterministically (fixed times and
//! permissions, entries in the order given, parallel deflate in ordered batches,
//! already-compressed content stored, ZIP64 when needed, an atomic rename at the end);
//! [`PackageWriter::raw_copy`] copies a zip entry without inflating it. [`FolderWriter`]
//! unpacks into a folder. Both are a [`PackageSink`].

use std::fmt;
use std::io::Read;
use std::path::Path;

mod central;
mod compressibility;
mod entry_name;
mod error;
mod folder;
mod folder_writer;
mod limits;
mod listing;
mod selection;
mod timestamp;
mod writer;
mod zip;
mod zip_entry_reader;
mod zip_headers;
mod zip_out;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
pub(crate) mod test_support;

pub use compressibility::{is_precompressed, looks_incompressible};
pub use entry_name::{check_entry_name, NameProblem};
pub use error::{ArchiveError, ArchiveWarning};
pub use folder::FolderArchive;
pub use folder_writer::FolderWriter;
pub use limits::{shorten as shorten_name, Limits, DEFAULT_MAX_DEPTH};
pub use listing::{Children, Entries, Entry, EntryIter, EntryKind, Listing};
pub use selection::EntrySelection;
pub use timestamp::{
    default_timestamp, parse_source_date_epoch, timestamp_from_epoch,
    timestamp_from_source_date_epoch,
};
pub use writer::{
    process_gone, temp_owner, PackageSink, PackageWriter, PreparedFile, WriterOptions,
    WrittenPackage,
};
pub use zip::ZipArchive;

/// Which backend an archive is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    /// A zip file.
    Zip,
    /// An exploded package folder.
    Folder,
}

impl fmt::Display for ArchiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArchiveKind::Zip => "zip",
            ArchiveKind::Folder => "folder",
        })
    }
}

/// How a zip stores one file entry ([`Archive::open_stored`]): its central record's
/// fields that decide what its stored bytes inflate to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredForm {
    /// The compression method (0 stored, 8 deflated; others cannot be read).
    pub method: u16,
    /// The general purpose flags (encryption among them).
    pub flags: u16,
    /// The CRC-32 the record declares for the content.
    pub crc32: u32,
    /// The bytes stored.
    pub compressed_size: u64,
    /// The bytes of content the record declares.
    pub size: u64,
}

/// A file entry's bytes as stored ([`Archive::open_stored`]).
pub struct StoredEntry {
    /// How they are stored; `None` when they are the content itself (a folder's file).
    pub form: Option<StoredForm>,
    /// The stored bytes (for a zip, exactly `compressed_size` of them unless the
    /// file was cut short since it was opened: the caller counts).
    pub reader: Box<dyn Read + Send>,
}

impl fmt::Debug for StoredEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredEntry")
            .field("form", &self.form)
            .finish_non_exhaustive()
    }
}

/// How archives are read: the zip-bomb limits and whether case collisions are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The limits on what reading may cost.
    pub limits: Limits,
    /// When true, entry names that differ only in case are an error rather than a
    /// warning. Off by default: zips are case-sensitive, and only unpacking on a
    /// case-insensitive file system is hurt.
    pub strict: bool,
}

impl Default for ReadOptions {
    /// The process-wide archive limits ([`crate::limits::get`]), not strict.
    fn default() -> Self {
        ReadOptions {
            limits: crate::limits::get().archive,
            strict: false,
        }
    }
}

impl ReadOptions {
    /// Sets the limits.
    pub fn with_limits(mut self, limits: Limits) -> ReadOptions {
        self.limits = limits;
        self
    }

    /// Sets whether case collisions are errors.
    pub fn with_strict(mut self, strict: bool) -> ReadOptions {
        self.strict = strict;
        self
    }
}

/// A package archive: a sorted listing of entries and a way to read each file.
///
/// Implementations provide [`Archive::name`], [`Archive::kind`], [`Archive::listing`],
/// [`Archive::warnings`] and [`Archive::open`]; the rest are conveniences over the
/// listing. An archive is `Send + Sync`, and `open` takes `&self`: entries may be read
/// concurrently, from several threads.
pub trait Archive: Send + Sync + fmt::Debug {
    /// The archive's display name for messages: the path as the user gave it.
    fn name(&self) -> &str;

    /// Zip or folder.
    fn kind(&self) -> ArchiveKind;

    /// All entries, sorted, with each directory's children.
    fn listing(&self) -> &Listing;

    /// What was odd but not fatal about the archive (case collisions, link entries).
    fn warnings(&self) -> &[ArchiveWarning];

    /// A reader for file `entry`. Reading checks the data (CRC-32 and size for a zip)
    /// and the [`Limits`]; its errors carry an [`ArchiveError`], which
    /// [`ArchiveError::from_read_error`] recovers. The reader may be unbuffered (a
    /// folder's is the plain file): wrap it in a `BufReader` for small reads.
    fn open(&self, entry: &str) -> Result<Box<dyn Read + Send>, ArchiveError>;

    /// The zip backend, when this is one (for raw copies).
    fn as_zip(&self) -> Option<&ZipArchive> {
        None
    }

    /// File `entry`'s bytes as the archive stores them, neither inflated nor
    /// checked, with how they are stored: for a zip its compressed data and its
    /// central record's method, flags, CRC-32 and sizes; for a folder the file
    /// itself (the default: [`Archive::open`], no form). The same stored bytes with
    /// the same form are the same content (when it can be read at all), so this
    /// identifies content without inflating it (the importer's aggregate digests);
    /// the same content may be stored differently. Never a way to read content:
    /// nothing here checks the CRC-32 or the [`Limits`].
    fn open_stored(&self, entry: &str) -> Result<StoredEntry, ArchiveError> {
        Ok(StoredEntry {
            form: None,
            reader: self.open(entry)?,
        })
    }

    /// Every entry, sorted by name.
    fn entries(&self) -> Entries<'_> {
        self.listing().entries()
    }

    /// The entry named `name` (a trailing `/` is ignored).
    fn entry(&self, name: &str) -> Option<Entry<'_>> {
        self.listing().get(name)
    }

    /// True when `name` is a directory (`""` is the root).
    fn is_dir(&self, name: &str) -> bool {
        self.listing().is_dir(name)
    }

    /// The entries directly inside directory `dir`, sorted by name (`""` for the top).
    fn children(&self, dir: &str) -> Result<Children<'_>, ArchiveError> {
        if let Some(children) = self.listing().children(dir) {
            return Ok(children);
        }
        let entry = dir.to_owned();
        Err(match self.listing().get(dir) {
            Some(_) => ArchiveError::NotADirectory {
                archive: self.name().to_owned(),
                entry,
            },
            None => ArchiveError::NotFound {
                archive: self.name().to_owned(),
                entry,
            },
        })
    }

    /// Reads file `entry` into memory, for small files (metadata, `.content.xml`).
    fn read_to_vec(&self, entry: &str) -> Result<Vec<u8>, ArchiveError> {
        let mut reader = self.open(entry)?;
        let capacity = self.entry(entry).map_or(0, Entry::size).min(16 << 20);
        let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        reader
            .read_to_end(&mut out)
            .map_err(|e| ArchiveError::from_read_error(self.name(), entry, e))?;
        Ok(out)
    }
}

/// Opens the package at `path`: a directory as a [`FolderArchive`], anything else as a
/// [`ZipArchive`].
pub fn open(
    path: impl AsRef<Path>,
    options: &ReadOptions,
) -> Result<Box<dyn Archive>, ArchiveError> {
    open_selected(path, options, &EntrySelection::all())
}

/// [`open`] for a selection: the archive lists, checks and reads only the entries
/// `selection` keeps (`extract`; see [`EntrySelection`] for what a refused entry
/// outside the selection means).
pub fn open_selected(
    path: impl AsRef<Path>,
    options: &ReadOptions,
    selection: &EntrySelection,
) -> Result<Box<dyn Archive>, ArchiveError> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|source| ArchiveError::Io {
        archive: path.display().to_string(),
        entry: None,
        source,
    })?;
    if meta.is_dir() {
        Ok(Box::new(FolderArchive::open_selected(
            path, options, selection,
        )?))
    } else if meta.is_file() {
        Ok(Box::new(ZipArchive::open_selected(
            path, options, selection,
        )?))
    } else {
        Err(ArchiveError::NotAFile {
            archive: path.display().to_string(),
        })
    }
}
