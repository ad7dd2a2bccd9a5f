//! A package zip, read with random access through its central directory.
//!
//! Opening reads only the central directory (the zip crate's `ZipArchive` over a
//! `BufReader<File>`), checks every name, and builds the [`Listing`]. Nothing is
//! unpacked: [`Archive::open`] returns a reader that inflates one entry straight from
//! the file (see [`zip_entry_reader`](super::zip_entry_reader)). Entry names are read as
//! UTF-8 whatever the zip's language flag says, as FileVault (Java's `ZipFile`) does; a
//! name that is not UTF-8 is refused.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ::zip::read::ZipFile;
use ::zip::CompressionMethod;

use super::error::{ArchiveError, ArchiveWarning};
use super::limits::InflateBudget;
use super::listing::{Listing, RawEntry};
use super::zip_entry_reader::{EntrySpec, Method, ZipEntryReader};
use super::zip_headers;
use super::{Archive, ArchiveKind, ReadOptions};

/// What [`Archive::open`] needs about one central-directory entry.
#[derive(Debug, Clone)]
struct ZipEntryMeta {
    /// Where the entry's data starts, after its local header (checked when opened).
    data_start: u64,
    compressed_size: u64,
    size: u64,
    crc32: u32,
    method: CompressionMethod,
    encrypted: bool,
}

/// A zip file read as a package archive (FileVault's `ZipArchive`).
#[derive(Debug)]
pub struct ZipArchive {
    name: Arc<str>,
    path: PathBuf,
    listing: Listing,
    warnings: Vec<ArchiveWarning>,
    metas: Vec<ZipEntryMeta>,
    file_len: u64,
    /// The handle entry readers share (positioned reads only).
    data: Arc<File>,
    /// The zip crate's view, for raw copies (which need the crate's entry type). It
    /// holds a few hundred bytes an entry, so it is dropped once the listing is
    /// built and read again by the first raw copy (export, extract): importing or
    /// validating a million-entry package does not keep it.
    central: Mutex<Option<::zip::ZipArchive<BufReader<File>>>>,
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

    /// A zip read from an open `file` (an unlinked temporary file: a sub package),
    /// named `name` in messages; `path` is what [`ZipArchive::path`] gives. The file
    /// is never opened again by path.
    pub fn from_file(
        file: File,
        path: &Path,
        name: &str,
        options: &ReadOptions,
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
        let data = Arc::new(file.try_clone().map_err(io_error)?);
        let central = ::zip::ZipArchive::new(BufReader::new(file)).map_err(|e| match e {
            ::zip::result::ZipError::Io(source) => ArchiveError::Io {
                archive: name.clone(),
                entry: None,
                source,
            },
            other => ArchiveError::NotAZip {
                archive: name.clone(),
                reason: other.to_string(),
            },
        })?;
        options.limits.check_entries(&name, central.len() as u64)?;
        if central.has_duplicate_names() {
            let duplicate = find_duplicate_name(&data, central.central_directory_start())
                .unwrap_or_else(|| "(a name the central directory repeats)".to_owned());
            return Err(ArchiveError::DuplicateEntry {
                archive: name,
                entry: duplicate,
            });
        }

        let central_start = central.central_directory_start();
        let mut fields = zip_headers::central_fields(&data, central_start, central.len(), &name)?;
        let mut raw = Vec::with_capacity(central.len());
        let mut metas = Vec::with_capacity(central.len());
        let mut records = Vec::with_capacity(central.len());
        let mut warnings = Vec::new();
        for index in 0..central.len() {
            let entry = central
                .by_index_data(index)
                .map_err(|e| ArchiveError::NotAZip {
                    archive: name.clone(),
                    reason: e.to_string(),
                })?;
            // Checked here, kept once: the name moves from `fields` into `records` and
            // from there into the listing, never copied while the zip crate's own
            // view of the directory is held.
            let entry_name = match std::str::from_utf8(entry.name_raw()) {
                Ok(s) => s,
                Err(_) => {
                    return Err(ArchiveError::NonUtf8Name {
                        archive: name,
                        entry: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                    });
                }
            };
            // A link's file type is S_IFLNK; the zip crate's `is_symlink` also says yes
            // for garbage modes with every bit set (seen in FileVault's own test zips).
            let is_link = entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000);
            if is_link && !entry.is_dir() {
                warnings.push(ArchiveWarning::SymlinkEntry {
                    entry: entry_name.to_owned(),
                });
            }
            raw.push(RawEntry {
                is_dir: entry.is_dir(),
                name: String::new(),
                size: entry.size(),
                compressed_size: entry.compressed_size(),
                source: index,
            });
            let Some((cd_name, cd_flags, cd_method)) = fields.get_mut(index) else {
                return Err(ArchiveError::NotAZip {
                    archive: name,
                    reason: format!("central directory record {index} is missing"),
                });
            };
            if cd_name.as_slice() != entry.name_raw() {
                return Err(ArchiveError::NotAZip {
                    archive: name,
                    reason: format!(
                        "central directory record {index} could not be read twice alike"
                    ),
                });
            }
            records.push(zip_headers::CentralRecord {
                name: std::mem::take(cd_name),
                header_start: entry.header_start(),
                flags: *cd_flags,
                method: *cd_method,
                crc32: entry.crc32(),
                compressed_size: entry.compressed_size(),
                size: entry.size(),
            });
            metas.push(ZipEntryMeta {
                data_start: 0,
                compressed_size: entry.compressed_size(),
                size: entry.size(),
                crc32: entry.crc32(),
                method: entry.compression(),
                encrypted: entry.encrypted(),
            });
        }
        drop(central);
        drop(fields);
        // One pass over the local headers in file order: they must agree with the
        // central directory, and no two entries may share bytes.
        let data_starts = zip_headers::check(&data, &name, file_len, central_start, &records)?;
        for (r, record) in raw.iter_mut().zip(records) {
            // UTF-8 was checked above; a lossy conversion cannot change it.
            r.name = String::from_utf8(record.name)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
        for (meta, start) in metas.iter_mut().zip(data_starts) {
            meta.data_start = start;
        }
        let (listing, mut more) =
            Listing::build_limited(&name, raw, options.strict, &options.limits)?;
        warnings.append(&mut more);
        let budget = Arc::new(InflateBudget::new(options.limits, metas.len()));
        Ok(ZipArchive {
            name: name.into(),
            path: path.to_owned(),
            listing,
            warnings,
            metas,
            file_len,
            data,
            central: Mutex::new(None),
            budget,
        })
    }

    /// The path the archive was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry's metadata, or the error [`Archive::open`] gives for a name that is not
    /// a file.
    fn file_meta(&self, entry: &str) -> Result<(usize, &ZipEntryMeta), ArchiveError> {
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
        let meta = self
            .metas
            .get(found.source)
            .ok_or_else(|| ArchiveError::NotFound {
                archive: self.name.to_string(),
                entry: entry.to_owned(),
            })?;
        Ok((found.source, meta))
    }

    /// Calls `f` with the zip crate's raw (still compressed) view of file `entry`, for
    /// copying it into another zip without inflating it. Holds a lock on the central
    /// directory reader while `f` runs.
    pub(crate) fn with_raw_entry<T>(
        &self,
        entry: &str,
        f: impl FnOnce(ZipFile<'_, BufReader<File>>) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let (index, _) = self.file_meta(entry)?;
        let mut guard = self.central.lock().unwrap_or_else(|e| e.into_inner());
        let central = match &mut *guard {
            Some(c) => c,
            slot => {
                // The descriptor the listing was read from, not the path: the file
                // may have been replaced since (entry reads are positioned, so the
                // shared offset does not matter).
                let file = self.data.try_clone().map_err(|source| ArchiveError::Io {
                    archive: self.name.to_string(),
                    entry: Some(entry.to_owned()),
                    source,
                })?;
                let c = ::zip::ZipArchive::new(BufReader::new(file)).map_err(|source| {
                    ArchiveError::Zip {
                        archive: self.name.to_string(),
                        entry: Some(entry.to_owned()),
                        source,
                    }
                })?;
                // The same descriptor, but the file may have been changed in place.
                if c.len() != self.metas.len() {
                    return Err(ArchiveError::NotAZip {
                        archive: self.name.to_string(),
                        reason: "the file changed while it was being read".into(),
                    });
                }
                slot.insert(c)
            }
        };
        let file = central
            .by_index_raw(index)
            .map_err(|source| ArchiveError::Zip {
                archive: self.name.to_string(),
                entry: Some(entry.to_owned()),
                source,
            })?;
        f(file)
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
        let (index, meta) = self.file_meta(entry)?;
        let unsupported = |what: String| ArchiveError::Unsupported {
            archive: self.name.to_string(),
            entry: entry.to_owned(),
            what,
        };
        if meta.encrypted {
            return Err(unsupported("encryption".to_owned()));
        }
        let method = match meta.method {
            CompressionMethod::Stored => Method::Stored,
            CompressionMethod::Deflated => Method::Deflated,
            other => return Err(unsupported(format!("compression method {other:?}"))),
        };
        let corrupt = |reason: String| ArchiveError::CorruptEntry {
            archive: self.name.to_string(),
            entry: entry.to_owned(),
            reason,
        };
        if method == Method::Stored && meta.compressed_size != meta.size {
            return Err(corrupt(format!(
                "it is stored uncompressed but its header gives {} bytes stored for {} bytes",
                meta.compressed_size, meta.size
            )));
        }
        let data_start = meta.data_start;
        match data_start.checked_add(meta.compressed_size) {
            Some(end) if end <= self.file_len => {}
            _ => {
                return Err(corrupt(format!(
                    "its {} compressed bytes run past the end of the file ({} bytes); \
                     the zip is truncated",
                    meta.compressed_size, self.file_len
                )));
            }
        }
        let spec = EntrySpec {
            archive: Arc::clone(&self.name),
            entry: entry.to_owned(),
            index,
            method,
            data_start,
            compressed_size: meta.compressed_size,
            size: meta.size,
            crc32: meta.crc32,
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

/// Walks the central directory records from `start` and returns the first name that
/// occurs twice. Only called once the zip crate has said there is one, to name it.
fn find_duplicate_name(file: &File, start: u64) -> Option<String> {
    let mut reader = BufReader::new(file.try_clone().ok()?);
    reader.seek(SeekFrom::Start(start)).ok()?;
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut fixed = [0u8; 46];
        reader.read_exact(&mut fixed).ok()?;
        if fixed[..4] != [0x50, 0x4b, 0x01, 0x02] {
            return None;
        }
        let name_len = usize::from(u16::from_le_bytes([fixed[28], fixed[29]]));
        let extra_len = i64::from(u16::from_le_bytes([fixed[30], fixed[31]]));
        let comment_len = i64::from(u16::from_le_bytes([fixed[32], fixed[33]]));
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name).ok()?;
        reader.seek_relative(extra_len + comment_len).ok()?;
        let name = String::from_utf8_lossy(&name).into_owned();
        if !seen.insert(name.clone()) {
            return Some(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::test_support::{hostile_zip, hostile_zip_bytes, read_all};
    use ::zip::write::SimpleFileOptions;
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
