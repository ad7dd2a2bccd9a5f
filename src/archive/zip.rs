//! A package zip, read with random access through its central directory.
//!
//! Opening reads only the central directory, with jcrpack's own reader
//! ([`central`](super::central): names in one arena, a fixed record per entry, no map),
//! checks every local header against it ([`zip_headers`](super::zip_headers)), checks
//! every name, and builds the [`Listing`]. Nothing is unpacked: [`Archive::open`]
//! returns a reader that inflates one entry straight from the file (see
//! [`zip_entry_reader`](super::zip_entry_reader)). Entry names are read as UTF-8
//! whatever the zip's language flag says, as FileVault (Java's `ZipFile`) does; a name
//! that is not UTF-8 is refused.
//!
//! A raw copy (extract) hands the zip writer the zip crate's view of one entry, made
//! from a one-entry zip that exists only as a view of the file
//! ([`OneEntryZip`]): the entry's own bytes, its central record as stored, and an end
//! record. So the cost of a raw copy is one entry's, whatever the package holds.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::zip::read::ZipFile;

use super::central::{self, Record};
use super::error::{ArchiveError, ArchiveWarning};
use super::limits::InflateBudget;
use super::listing::{Listing, RawEntries};
use super::selection::EntrySelection;
use super::zip_entry_reader::{EntrySpec, FileRange, Method, ZipEntryReader};
use super::zip_headers;
use super::{Archive, ArchiveKind, ReadOptions};

/// Where an entry is in the zip and how it is stored; its sizes are in the listing.
#[derive(Debug, Clone, Copy)]
struct Located {
    /// Where its data starts (after its checked local header).
    data_start: u64,
    /// Where its central record starts (for a raw copy).
    record_start: u64,
    crc32: u32,
    flags: u16,
    method: u16,
}

/// A zip file read as a package archive (FileVault's `ZipArchive`).
#[derive(Debug)]
pub struct ZipArchive {
    name: Arc<str>,
    path: PathBuf,
    listing: Listing,
    warnings: Vec<ArchiveWarning>,
    /// Where each file is and how it is stored, in the listing's order of files
    /// ([`Entry::file_index`](super::Entry::file_index) indexes it): its sizes are the
    /// listing's. Directories have none: nothing reads them.
    records: Vec<Located>,
    /// How far data before the zip moves every offset the zip stores.
    shift: u64,
    file_len: u64,
    /// The handle entry readers share (positioned reads only).
    data: Arc<File>,
    budget: Arc<InflateBudget>,
}

impl ZipArchive {
    /// Opens the zip at `path`: reads the central directory, checks every entry name
    /// and the entry-count limit. Empty, truncated and corrupt files give an error
    /// naming the file.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<ZipArchive, ArchiveError> {
        ZipArchive::open_as(path, &path.display().to_string(), options)
    }

    /// [`ZipArchive::open`], naming the archive `name` in every message instead of
    /// its path: a sub package copied to a temporary file is `parent.zip!/entry`.
    pub fn open_as(
        path: &Path,
        name: &str,
        options: &ReadOptions,
    ) -> Result<ZipArchive, ArchiveError> {
        let io_error = |source| ArchiveError::Io {
            archive: name.to_owned(),
            entry: None,
            source,
        };
        let file = open_regular_file(path).map_err(io_error)?;
        ZipArchive::from_file(file, path, name, options)
    }

    /// The zip at `path` opened for a selection: only the entries `selection` keeps
    /// are in the listing, and only they are checked (names, duplicates, case
    /// collisions, local headers) and readable. Opening costs a scan of the central
    /// directory plus what is kept (see [`EntrySelection`]).
    pub fn open_selected(
        path: &Path,
        options: &ReadOptions,
        selection: &EntrySelection,
    ) -> Result<ZipArchive, ArchiveError> {
        let name = path.display().to_string();
        let file = open_regular_file(path).map_err(|source| ArchiveError::Io {
            archive: name.clone(),
            entry: None,
            source,
        })?;
        ZipArchive::from_file_selected(file, path, &name, options, selection)
    }

    /// A zip read from an open `file` (an unlinked temporary file: a sub package),
    /// named `name` in messages; `path` is what [`ZipArchive::path`] gives. The file
    /// is never opened again by path.
    pub fn from_file(
        file: File,
        path: &Path,
        name: &str,
        options: &ReadOptions,
    ) -> Result<ZipArchive, ArchiveError> {
        ZipArchive::from_file_selected(file, path, name, options, &EntrySelection::all())
    }

    fn from_file_selected(
        file: File,
        path: &Path,
        name: &str,
        options: &ReadOptions,
        selection: &EntrySelection,
    ) -> Result<ZipArchive, ArchiveError> {
        let name = name.to_owned();
        let io_error = |source| ArchiveError::Io {
            archive: name.clone(),
            entry: None,
            source,
        };
        let meta = file.metadata().map_err(io_error)?;
        if !meta.is_file() {
            return Err(ArchiveError::NotAFile { archive: name });
        }
        let file_len = meta.len();
        if file_len == 0 {
            return Err(ArchiveError::EmptyFile { archive: name });
        }
        let data = Arc::new(file);
        let mut central =
            central::read_selected(&data, file_len, &name, &options.limits, selection)?;
        for index in 0..central.len() {
            let raw_name = central.name(index);
            if std::str::from_utf8(raw_name).is_err() {
                return Err(ArchiveError::NonUtf8Name {
                    archive: name,
                    entry: String::from_utf8_lossy(raw_name).into_owned(),
                });
            }
        }
        // One pass over the local headers in file order: they must agree with the
        // central directory, and no two entries may share bytes.
        let data_starts = zip_headers::check(
            &data,
            &name,
            file_len,
            central.start,
            central.len(),
            &|index| {
                let r = central.records.get(index).copied().unwrap_or(Record::EMPTY);
                zip_headers::CentralRecord {
                    name: central.name(index),
                    header_start: r.header_start,
                    flags: r.flags,
                    method: r.method,
                    crc32: r.crc32,
                    compressed_size: r.compressed_size,
                    size: r.size,
                }
            },
        )?;
        let mut warnings = Vec::new();
        for &index in &central.links {
            // UTF-8 was checked above.
            let entry = String::from_utf8_lossy(central.name(index));
            // A directory by its name, as the zip crate and Java's `ZipEntry` say.
            if !(entry.ends_with('/') || entry.ends_with('\\')) {
                warnings.push(ArchiveWarning::SymlinkEntry {
                    entry: entry.into_owned(),
                });
            }
        }
        let shift = central.shift;
        let mut records = std::mem::take(&mut central.records);
        for (record, start) in records.iter_mut().zip(data_starts) {
            record.header_start = start;
        }
        // The listing takes over the directory's arena of names as it is: every name
        // was checked to be UTF-8 above, so their concatenation is.
        let (arena, ends) = central.take_names();
        drop(central);
        let arena = String::from_utf8(arena).map_err(|e| ArchiveError::NonUtf8Name {
            archive: name.clone(),
            entry: String::from_utf8_lossy(e.as_bytes())
                .chars()
                .take(200)
                .collect(),
        })?;
        let mut raw = RawEntries::over_arena(arena, records.len());
        let mut start = 0;
        for (record, &end) in records.iter().zip(&ends) {
            let stored = raw.stored(start..end);
            // A directory by its name, as the zip crate and Java's `ZipEntry` say.
            let is_dir = stored.ends_with(b"/") || stored.ends_with(b"\\");
            raw.push_stored(start..end, is_dir, record.size, record.compressed_size);
            start = end;
        }
        drop(ends);
        let built = Listing::build_limited(&name, raw, options.strict, &options.limits)?;
        let listing = built.listing;
        warnings.extend(built.warnings);
        // The sizes are in the listing now: 24 bytes a file are kept instead of 40 an
        // entry.
        let records: Vec<Located> = built
            .file_sources
            .iter()
            .map(|&source| {
                let r = records
                    .get(source as usize)
                    .copied()
                    .unwrap_or(Record::EMPTY);
                Located {
                    data_start: r.header_start,
                    record_start: r.record_start,
                    crc32: r.crc32,
                    flags: r.flags,
                    method: r.method,
                }
            })
            .collect();
        drop(built.file_sources);
        let budget = Arc::new(InflateBudget::new(options.limits, records.len()));
        Ok(ZipArchive {
            name: name.into(),
            path: path.to_owned(),
            listing,
            warnings,
            records,
            shift,
            file_len,
            data,
            budget,
        })
    }

    /// The path the archive was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's index among the listing's files and its record, or the error
    /// [`Archive::open`] gives for a name that is not a file.
    fn file_record(&self, entry: &str) -> Result<(usize, Record), ArchiveError> {
        let found = self
            .listing
            .get(entry)
            .ok_or_else(|| ArchiveError::NotFound {
                archive: self.name.to_string(),
                entry: entry.to_owned(),
            })?;
        if found.is_dir() {
            return Err(ArchiveError::IsADirectory {
                archive: self.name.to_string(),
                entry: entry.to_owned(),
            });
        }
        let file = found.file_index().unwrap_or(usize::MAX);
        let located = self
            .records
            .get(file)
            .ok_or_else(|| ArchiveError::NotFound {
                archive: self.name.to_string(),
                entry: entry.to_owned(),
            })?;
        Ok((
            file,
            Record {
                header_start: located.data_start,
                record_start: located.record_start,
                compressed_size: found.compressed_size(),
                size: found.size(),
                crc32: located.crc32,
                flags: located.flags,
                method: located.method,
            },
        ))
    }

    /// Refuses file `entry` (found as `record`) when its stored bytes run past the
    /// end of the file.
    fn check_within(&self, entry: &str, record: &Record) -> Result<(), ArchiveError> {
        match record.header_start.checked_add(record.compressed_size) {
            Some(end) if end <= self.file_len => Ok(()),
            _ => Err(ArchiveError::CorruptEntry {
                archive: self.name.to_string(),
                entry: entry.to_owned(),
                reason: format!(
                    "its {} compressed bytes run past the end of the file ({} bytes); \
                     the zip is truncated",
                    record.compressed_size, self.file_len
                ),
            }),
        }
    }

    /// Calls `f` with the zip crate's raw (still compressed) view of file `entry`, for
    /// copying it into another zip without inflating it. The view is read from a
    /// one-entry zip made of this entry's bytes and its central record as stored
    /// ([`OneEntryZip`]), so it costs one entry whatever the package holds.
    pub(crate) fn with_raw_entry<T>(
        &self,
        entry: &str,
        f: impl FnOnce(ZipFile<'_, OneEntryZip>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let (_, record) = self.file_record(entry)?;
        let zip_error = |source| ArchiveError::Zip {
            archive: self.name.to_string(),
            entry: Some(entry.to_owned()),
            source,
        };
        let data_start = record.header_start;
        let view = OneEntryZip::new(Arc::clone(&self.data), &record, data_start, self.shift)
            .map_err(|source| ArchiveError::Io {
                archive: self.name.to_string(),
                entry: Some(entry.to_owned()),
                source,
            })?;
        let mut one = ::zip::ZipArchive::new(view).map_err(zip_error)?;
        if one.len() != 1 {
            return Err(ArchiveError::NotAZip {
                archive: self.name.to_string(),
                reason: "the file changed while it was being read".into(),
            });
        }
        let file = one.by_index_raw(0).map_err(zip_error)?;
        f(file)
    }
}

/// A one-entry zip seen through the file of a larger one: the file's bytes up to the
/// end of one entry's data (the entry's local header and data are where the central
/// record says), then that entry's central record as stored, then an end record (with
/// ZIP64 records when an offset needs them). Only the entry's own bytes and the few
/// dozen bytes of the tail are ever read.
#[derive(Debug)]
pub(crate) struct OneEntryZip {
    file: Arc<File>,
    /// Where the file's part ends: the end of the entry's data.
    data_end: u64,
    /// The central record and end records, at `data_end`.
    tail: Vec<u8>,
    position: u64,
}

impl OneEntryZip {
    fn new(
        file: Arc<File>,
        record: &Record,
        data_start: u64,
        shift: u64,
    ) -> io::Result<OneEntryZip> {
        let data_end = data_start.saturating_add(record.compressed_size);
        let mut tail = vec![0u8; 46];
        FileRange::new(Arc::clone(&file), record.record_start, 46).read_exact(&mut tail)?;
        let length = |at: usize| u64::from(u16::from_le_bytes([tail[at], tail[at + 1]]));
        let record_len = 46 + length(28) + length(30) + length(32);
        tail.resize(record_len as usize, 0);
        FileRange::new(Arc::clone(&file), record.record_start + 46, record_len - 46)
            .read_exact(&mut tail[46..])?;
        // The offsets the record stores are relative to where the zip starts; data put
        // before it (a self-extracting stub) moves the real ones by `shift`.
        let stored_start = data_end.saturating_sub(shift);
        let wide = stored_start >= u64::from(u32::MAX);
        if wide {
            let zip64_at = data_end + record_len;
            tail.extend_from_slice(&[0x50, 0x4b, 0x06, 0x06]);
            tail.extend_from_slice(&44u64.to_le_bytes());
            tail.extend_from_slice(&[45, 3, 45, 0]);
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&1u64.to_le_bytes());
            tail.extend_from_slice(&1u64.to_le_bytes());
            tail.extend_from_slice(&record_len.to_le_bytes());
            tail.extend_from_slice(&stored_start.to_le_bytes());
            tail.extend_from_slice(&[0x50, 0x4b, 0x06, 0x07]);
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&zip64_at.to_le_bytes());
            tail.extend_from_slice(&1u32.to_le_bytes());
        }
        tail.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        tail.extend_from_slice(&1u16.to_le_bytes());
        tail.extend_from_slice(&1u16.to_le_bytes());
        tail.extend_from_slice(&(record_len as u32).to_le_bytes());
        let start32 = if wide { u32::MAX } else { stored_start as u32 };
        tail.extend_from_slice(&start32.to_le_bytes());
        tail.extend_from_slice(&0u16.to_le_bytes());
        Ok(OneEntryZip {
            file,
            data_end,
            tail,
            position: 0,
        })
    }

    fn len(&self) -> u64 {
        self.data_end + self.tail.len() as u64
    }
}

impl Read for OneEntryZip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.position < self.data_end {
            let want = (self.data_end - self.position).min(buf.len() as u64) as usize;
            let mut range = FileRange::new(Arc::clone(&self.file), self.position, want as u64);
            let n = range.read(&mut buf[..want])?;
            self.position += n as u64;
            return Ok(n);
        }
        let at = usize::try_from(self.position - self.data_end).unwrap_or(usize::MAX);
        let rest = self.tail.get(at..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for OneEntryZip {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.position = target;
        Ok(target)
    }
}

impl Archive for ZipArchive {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ArchiveKind {
        ArchiveKind::Zip
    }

    fn listing(&self) -> &Listing {
        &self.listing
    }

    fn warnings(&self) -> &[ArchiveWarning] {
        &self.warnings
    }

    fn open(&self, entry: &str) -> Result<Box<dyn Read + Send>, ArchiveError> {
        let (index, record) = self.file_record(entry)?;
        let unsupported = |what: String| ArchiveError::Unsupported {
            archive: self.name.to_string(),
            entry: entry.to_owned(),
            what,
        };
        if record.encrypted() {
            return Err(unsupported("encryption".to_owned()));
        }
        let method = match record.method {
            0 => Method::Stored,
            8 => Method::Deflated,
            other => {
                return Err(unsupported(format!(
                    "compression method {other} ({})",
                    method_name(other)
                )))
            }
        };
        let corrupt = |reason: String| ArchiveError::CorruptEntry {
            archive: self.name.to_string(),
            entry: entry.to_owned(),
            reason,
        };
        if method == Method::Stored && record.compressed_size != record.size {
            return Err(corrupt(format!(
                "it is stored uncompressed but its header gives {} bytes stored for {} bytes",
                record.compressed_size, record.size
            )));
        }
        self.check_within(entry, &record)?;
        let data_start = record.header_start;
        let spec = EntrySpec {
            archive: Arc::clone(&self.name),
            entry: entry.to_owned(),
            index,
            method,
            data_start,
            compressed_size: record.compressed_size,
            size: record.size,
            crc32: record.crc32,
        };
        Ok(Box::new(ZipEntryReader::new(
            Arc::clone(&self.data),
            spec,
            Arc::clone(&self.budget),
        )))
    }

    fn as_zip(&self) -> Option<&ZipArchive> {
        Some(self)
    }

    fn open_stored(&self, entry: &str) -> Result<super::StoredEntry, ArchiveError> {
        let (_, record) = self.file_record(entry)?;
        self.check_within(entry, &record)?;
        Ok(super::StoredEntry {
            form: Some(super::StoredForm {
                method: record.method,
                flags: record.flags,
                crc32: record.crc32,
                compressed_size: record.compressed_size,
                size: record.size,
            }),
            reader: Box::new(FileRange::new(
                Arc::clone(&self.data),
                record.header_start,
                record.compressed_size,
            )),
        })
    }
}

/// The common name of zip compression method `method`, for messages.
fn method_name(method: u16) -> &'static str {
    match method {
        1 => "shrink",
        2..=5 => "reduce",
        6 => "implode",
        9 => "deflate64",
        12 => "bzip2",
        14 => "lzma",
        93 => "zstandard",
        95 => "xz",
        98 => "ppmd",
        99 => "AES encryption",
        _ => "unknown",
    }
}

/// Opens `path` for reading without blocking on a FIFO (whose `open` waits for a
/// writer): non-blocking on Unix, so that the caller can look at what it opened and
/// refuse anything but a regular file before reading.
pub(crate) fn open_regular_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::test_support::{hostile_zip, hostile_zip_bytes, read_all};
    use ::zip::write::SimpleFileOptions;
    use ::zip::CompressionMethod;
    use std::io::Write;

    fn open(path: &Path) -> Result<ZipArchive, ArchiveError> {
        ZipArchive::open(path, &ReadOptions::default())
    }

    #[test]
    fn hostile_names_are_refused_naming_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[&str], &str); 7] = [
            (
                &["ok.txt", "../x"],
                "entry `../x` is refused: it has a `..` segment",
            ),
            (&["/abs"], "entry `/abs` is refused: it is an absolute path"),
            (
                &["C:/x"],
                "entry `C:/x` is refused: it starts with a drive letter",
            ),
            (
                &["a\\b"],
                "entry `a\\\\b` is refused: it contains a backslash",
            ),
            (
                &["a\0b"],
                "entry `a\\0b` is refused: it contains the control character U+0000",
            ),
            (
                &["jcr_root/x", "jcr_root/x"],
                "entry `jcr_root/x` occurs more than once",
            ),
            (&["jcr/", "jcr"], "entry `jcr` occurs more than once"),
        ];
        for (i, (names, expected)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("hostile-{i}.zip"));
            hostile_zip(&path, names);
            let error = open(&path).unwrap_err().to_string();
            let shown = path.display().to_string();
            assert!(error.starts_with(&format!("{shown}: ")), "{error}");
            assert!(error.contains(expected), "{names:?}: {error}");
        }
    }

    #[test]
    fn names_that_are_not_utf8_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.zip");
        hostile_zip_bytes(&path, &[b"jcr_root/caf\xe9.txt"]);
        let error = open(&path).unwrap_err();
        assert!(
            matches!(error, ArchiveError::NonUtf8Name { ref entry, .. } if entry == "jcr_root/caf\u{fffd}.txt"),
            "{error:?}"
        );
    }

    #[test]
    fn the_entry_limit_is_checked_when_opening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("three.zip");
        hostile_zip(&path, &["a.txt", "b.txt", "c.txt"]);
        let limits = crate::archive::Limits::default().with_max_entries(2);
        let error =
            ZipArchive::open(&path, &ReadOptions::default().with_limits(limits)).unwrap_err();
        assert!(error.to_string().ends_with(
            "holds 3 entries, more than the limit of 2; set JCRPACK_MAX_ENTRIES to raise it if the package is trusted"
        ), "{error}");
    }

    #[test]
    fn case_collisions_warn_by_default_and_fail_when_strict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.zip");
        hostile_zip(&path, &["jcr_root/Foo.txt", "jcr_root/foo.txt"]);
        let archive = open(&path).unwrap();
        assert_eq!(
            archive.warnings(),
            [ArchiveWarning::CaseCollision {
                first: "jcr_root/Foo.txt".into(),
                second: "jcr_root/foo.txt".into()
            }]
        );
        let strict = ZipArchive::open(&path, &ReadOptions::default().with_strict(true));
        let error = strict.unwrap_err().to_string();
        assert!(
            error.contains("entries `jcr_root/Foo.txt` and `jcr_root/foo.txt` differ only in case"),
            "{error}"
        );
    }

    #[test]
    fn empty_truncated_and_garbage_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.zip");
        std::fs::write(&empty, b"").unwrap();
        let e = open(&empty).unwrap_err();
        assert!(matches!(e, ArchiveError::EmptyFile { .. }));
        assert!(e
            .to_string()
            .starts_with(&format!("{}: the file is empty", empty.display())));

        let garbage = dir.path().join("garbage.zip");
        std::fs::write(&garbage, b"this is not a zip file at all").unwrap();
        let e = open(&garbage).unwrap_err();
        assert!(matches!(e, ArchiveError::NotAZip { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("garbage.zip: not a readable zip archive"),
            "{e}"
        );

        // A real zip cut in half loses its central directory.
        let whole = dir.path().join("whole.zip");
        hostile_zip(&whole, &["a.txt", "b.txt"]);
        let bytes = std::fs::read(&whole).unwrap();
        let cut = dir.path().join("cut.zip");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = open(&cut).unwrap_err();
        assert!(matches!(e, ArchiveError::NotAZip { .. }), "{e:?}");

        let missing = dir.path().join("missing.zip");
        let e = open(&missing).unwrap_err();
        assert!(matches!(e, ArchiveError::Io { .. }));
        assert!(e.to_string().starts_with(&missing.display().to_string()));
    }

    #[test]
    fn corrupt_data_is_caught_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crc.zip");
        {
            let mut w = ::zip::ZipWriter::new(File::create(&path).unwrap());
            let stored = SimpleFileOptions::DEFAULT.compression_method(CompressionMethod::Stored);
            w.start_file("a.txt", stored).unwrap();
            w.write_all(b"hello hello hello").unwrap();
            w.finish().unwrap();
        }
        // Flip one data byte: the CRC no longer matches.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
        bytes[at] = b'j';
        std::fs::write(&path, &bytes).unwrap();
        let archive = open(&path).unwrap();
        let mut reader = archive.open("a.txt").unwrap();
        let mut out = Vec::new();
        let error = reader.read_to_end(&mut out).unwrap_err();
        let error = ArchiveError::from_read_error(archive.name(), "a.txt", error);
        assert!(
            error
                .to_string()
                .contains("entry `a.txt` is corrupt: CRC-32 mismatch"),
            "{error}"
        );
    }

    #[test]
    fn entries_read_concurrently_and_independently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.zip");
        {
            let mut w = ::zip::ZipWriter::new(File::create(&path).unwrap());
            w.start_file("a", SimpleFileOptions::DEFAULT).unwrap();
            w.write_all(&[b'a'; 100_000]).unwrap();
            w.start_file("b", SimpleFileOptions::DEFAULT).unwrap();
            w.write_all(&[b'b'; 100_000]).unwrap();
            w.finish().unwrap();
        }
        let archive = open(&path).unwrap();
        let mut a = archive.open("a").unwrap();
        let mut b = archive.open("b").unwrap();
        let mut buf = [0u8; 10];
        a.read_exact(&mut buf).unwrap();
        b.read_exact(&mut buf).unwrap();
        assert_eq!(buf, [b'b'; 10]);
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(move || read_all(&mut a));
            let tb = s.spawn(move || read_all(&mut b));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        assert_eq!((ra.len(), rb.len()), (100_000 - 10, 100_000 - 10));
        assert!(ra.iter().all(|&c| c == b'a'));
        let e = archive.open("nope").err().unwrap();
        assert!(matches!(e, ArchiveError::NotFound { .. }));
    }
}

#[cfg(test)]
mod raw_copy_tests {
    use super::*;
    use ::zip::write::SimpleFileOptions;
    use ::zip::{DateTime, ZipWriter};
    use std::io::{Cursor, Write};

    fn source(path: &Path, prefix: &[u8]) {
        let mut bytes = prefix.to_vec();
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        let stored =
            SimpleFileOptions::DEFAULT.compression_method(::zip::CompressionMethod::Stored);
        w.start_file("jcr_root/a.xml", SimpleFileOptions::DEFAULT)
            .unwrap();
        w.write_all(&b"<a/>\n".repeat(300)).unwrap();
        w.start_file("jcr_root/b.bin", stored).unwrap();
        w.write_all(&[1, 2, 3]).unwrap();
        w.add_directory("jcr_root/c", SimpleFileOptions::DEFAULT)
            .unwrap();
        bytes.extend(w.finish().unwrap().into_inner());
        std::fs::write(path, bytes).unwrap();
    }

    /// What the zip crate's own reader gives for the same raw copies.
    fn through_the_zip_crate(path: &Path, names: &[&str]) -> Vec<u8> {
        let mut archive = ::zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        let mut out = ZipWriter::new(Cursor::new(Vec::new()));
        for name in names {
            let file = archive.by_name_raw(name.as_bytes()).unwrap();
            out.raw_copy_file_touch(file, DateTime::default(), Some(0o644))
                .unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn through_one_entry_views(path: &Path, names: &[&str]) -> Vec<u8> {
        let archive = ZipArchive::open(path, &ReadOptions::default()).unwrap();
        let mut out = ZipWriter::new(Cursor::new(Vec::new()));
        for name in names {
            archive
                .with_raw_entry(name, |file| {
                    out.raw_copy_file_touch(file, DateTime::default(), Some(0o644))
                        .unwrap();
                    Ok(())
                })
                .unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn a_raw_copy_through_a_one_entry_view_is_the_zip_crates_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["jcr_root/b.bin", "jcr_root/a.xml"];
        for (i, prefix) in [&b""[..], b"#!/bin/sh\nexec true\n"].iter().enumerate() {
            let path = dir.path().join(format!("s{i}.zip"));
            source(&path, prefix);
            let ours = through_one_entry_views(&path, &names);
            assert_eq!(ours, through_the_zip_crate(&path, &names), "prefix {i}");
            // And the copy reads back.
            let back = dir.path().join(format!("back{i}.zip"));
            std::fs::write(&back, &ours).unwrap();
            let copy = ZipArchive::open(&back, &ReadOptions::default()).unwrap();
            assert_eq!(copy.read_to_vec("jcr_root/b.bin").unwrap(), [1, 2, 3]);
            assert_eq!(
                copy.read_to_vec("jcr_root/a.xml").unwrap(),
                b"<a/>\n".repeat(300)
            );
        }
        let path = dir.path().join("s0.zip");
        let archive = ZipArchive::open(&path, &ReadOptions::default()).unwrap();
        let e = archive
            .with_raw_entry("jcr_root/c", |_| Ok(()))
            .unwrap_err();
        assert!(matches!(e, ArchiveError::IsADirectory { .. }), "{e:?}");
    }
}
