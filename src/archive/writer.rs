//! Writing a package zip, deterministically and on all cores.
//!
//! The same calls give the same bytes: entries appear in the order they are added, every
//! entry carries one fixed time ([`super::timestamp`]), fixed permissions (0644 files,
//! 0755 directories, Unix "made by"), no extra fields (except ZIP64 information when an
//! entry needs it) and no comments.
//!
//! Speed comes from ordered chunks (shared/reference/deps.md 2b): small entries are
//! collected into a batch; a full batch is deflated in parallel with rayon (each entry
//! becomes a zip `PreparedZipFile`) and the results are appended in the order they were
//! added. Entries above a threshold (16 MiB by default) are streamed through the writer
//! one at a time, so memory stays bounded by the batch size whatever the package holds.
//! Already-compressed content is stored, not deflated ([`super::compressibility`]), and
//! so is a batched entry that deflate would not make smaller (empty or tiny files).
//! ZIP64 records are written when needed (more than 65,535 entries, an archive or entry
//! over 4 GiB).
//!
//! The zip is written to a temporary file beside the target and renamed into place by
//! [`PackageWriter::finish`], so a crash or an error never leaves a partial package
//! under the target name. The temporary file is named after the target and the
//! writing process (`.OUT.zip.jcrpack-tmp-PID-XXXXXX`): one that a killed writer left
//! is recognisable, and the next writer of the same target removes it once its
//! process is gone ([`temp_owner`], [`process_gone`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use ::zip::{CompressionMethod, DateTime};
use flate2::write::DeflateEncoder;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::compressibility::{is_precompressed, looks_incompressible};
use super::entry_name::check_entry_name;
use super::error::ArchiveError;
use super::listing::EntryKind;
use super::timestamp::{default_timestamp, timestamp_from_source_date_epoch};
use super::zip::ZipArchive;
use super::zip_out::{EntryHeader, Spool, ZipOut, DEFLATED, STORED};
use super::Archive;

mod names;
mod writeback;

use names::{add_children_of, Children, NameBook};

/// Entries whose size is unknown or above this are written with ZIP64 sizes: a deflated
/// entry can come out a little larger than it went in, and must still fit.
const LARGE_FILE_MARGIN: u64 = 0xF000_0000;

/// How a [`PackageWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    timestamp: DateTime,
    directory_entries: bool,
    compression_level: u8,
    large_entry_threshold: u64,
    batch_entries: usize,
    batch_bytes: u64,
    parallel: bool,
    digest: bool,
}

impl Default for WriterOptions {
    /// Time 1980-01-01 00:00:00, directory entries on (as FileVault writes them),
    /// deflate level 6 (FileVault's default), entries above 16 MiB streamed, batches of
    /// up to 1024 entries or 4 MiB deflated in parallel (two batches deflating while the
    /// next fills: about 3 x 4 MiB of entries in memory, twice that with their deflated
    /// copies; smaller batches end their slow tails sooner).
    fn default() -> Self {
        WriterOptions {
            timestamp: default_timestamp(),
            directory_entries: true,
            compression_level: 6,
            large_entry_threshold: 16 << 20,
            batch_entries: 1024,
            batch_bytes: 4 << 20,
            parallel: true,
            digest: true,
        }
    }
}

impl WriterOptions {
    /// Sets the time from `SOURCE_DATE_EPOCH` seconds, as
    /// [`super::parse_source_date_epoch`] reads them (`None`: 1980-01-01).
    pub fn with_source_date_epoch(self, seconds: Option<i64>) -> WriterOptions {
        self.with_timestamp(timestamp_from_source_date_epoch(seconds))
    }

    /// Sets the time every entry carries.
    pub fn with_timestamp(mut self, timestamp: DateTime) -> WriterOptions {
        self.timestamp = timestamp;
        self
    }

    /// Whether directories get entries of their own (`name/`). On (the default), every
    /// directory on the way to a file is written before it, as FileVault does; off,
    /// directories are only implied by file paths and empty ones are lost.
    pub fn with_directory_entries(mut self, on: bool) -> WriterOptions {
        self.directory_entries = on;
        self
    }

    /// The deflate level, 0 to 9 (higher values are taken as 9); 0 stores everything.
    pub fn with_compression_level(mut self, level: u8) -> WriterOptions {
        self.compression_level = level.min(9);
        self
    }

    /// Entries larger than this many bytes are streamed serially instead of batched.
    pub fn with_large_entry_threshold(mut self, bytes: u64) -> WriterOptions {
        self.large_entry_threshold = bytes;
        self
    }

    /// A batch is deflated once it holds this many entries or bytes.
    pub fn with_batch_limits(mut self, entries: usize, bytes: u64) -> WriterOptions {
        self.batch_entries = entries.max(1);
        self.batch_bytes = bytes;
        self
    }

    /// Whether batches are deflated on all cores (the output is the same either way).
    pub fn with_parallel(mut self, on: bool) -> WriterOptions {
        self.parallel = on;
        self
    }

    /// Whether the package's SHA-256 is taken as it is written (on, the default)
    /// for [`WrittenPackage::sha256`]. Off saves a pass over every byte on the
    /// writing thread (1.4 s of CPU for a 1.1 GB export) where nobody reads it.
    pub fn with_digest(mut self, on: bool) -> WriterOptions {
        self.digest = on;
        self
    }

    /// The time every entry carries.
    pub fn timestamp(&self) -> DateTime {
        self.timestamp
    }

    /// The compression method of a file entry: stored when `store` or at level 0.
    fn method(&self, store: bool) -> u16 {
        if store || self.compression_level == 0 {
            STORED
        } else {
            DEFLATED
        }
    }

    /// A header for entry `name` with this writer's time and no data yet.
    fn header<'a>(&self, name: &'a [u8], method: u16, directory: bool) -> EntryHeader<'a> {
        EntryHeader {
            name,
            method,
            crc: 0,
            compressed: 0,
            uncompressed: 0,
            large: false,
            directory,
            time: self.timestamp.timepart(),
            date: self.timestamp.datepart(),
            utf8: None,
        }
    }
}

/// Somewhere package entries can be written: a zip ([`PackageWriter`]) or a folder
/// ([`FolderWriter`](super::FolderWriter)). Exporters write to a `&mut dyn PackageSink`
/// and need not know which.
pub trait PackageSink {
    /// Adds directory `name` (and any missing parents).
    fn add_directory(&mut self, name: &str) -> Result<(), ArchiveError>;

    /// Adds file `name` with the bytes `reader` yields. `size` is the size when known;
    /// it lets large entries be streamed without buffering their start.
    fn add_reader(
        &mut self,
        name: &str,
        reader: &mut dyn Read,
        size: Option<u64>,
    ) -> Result<(), ArchiveError>;

    /// Adds file `name` holding `data`.
    fn add_bytes(&mut self, name: &str, data: Vec<u8>) -> Result<(), ArchiveError> {
        let size = data.len() as u64;
        self.add_reader(name, &mut data.as_slice(), Some(size))
    }

    /// Copies entry `name` of `source` (a file or a directory) under the same name.
    fn copy_entry(&mut self, source: &dyn Archive, name: &str) -> Result<(), ArchiveError> {
        copy_by_reading(self, source, name)
    }
}

/// [`PackageSink::copy_entry`] by reading the entry and adding it again (what a sink
/// does when it cannot copy the stored bytes as they are).
fn copy_by_reading<S: PackageSink + ?Sized>(
    sink: &mut S,
    source: &dyn Archive,
    name: &str,
) -> Result<(), ArchiveError> {
    let entry = source
        .listing()
        .get(name)
        .ok_or_else(|| ArchiveError::NotFound {
            archive: source.name().to_owned(),
            entry: name.to_owned(),
        })?;
    if entry.is_dir() {
        return sink.add_directory(entry.name());
    }
    let size = entry.size();
    let mut reader = source.open(entry.name())?;
    sink.add_reader(entry.name(), &mut reader, Some(size))
}

/// What [`PackageWriter::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenPackage {
    /// The package's path.
    pub path: PathBuf,
    /// The number of entries, directories included.
    pub entries: u64,
    /// The zip's size in bytes.
    pub size: u64,
    /// The SHA-256 of the zip (lower-case hex), taken as it was written; `None` when
    /// the writer went back to patch a header (a streamed entry), so that it must be
    /// read back, or was told not to take it ([`WriterOptions::with_digest`]).
    pub sha256: Option<String>,
}

enum Pending {
    Directory(String),
    File {
        name: String,
        data: Vec<u8>,
        store: bool,
    },
}

enum Prepared {
    Directory(String),
    File(FileData),
}

/// A file entry's data as it is stored, with what its headers say about it.
#[derive(Debug)]
struct FileData {
    name: String,
    method: u16,
    crc: u32,
    size: u64,
    /// As stored (deflated or not).
    data: Vec<u8>,
}

/// A file entry made ready for [`PackageWriter::add_prepared`] by
/// [`WriterOptions::prepare`], on any thread: deflated (or stored) as the writer's
/// own batches would, so that the package has the same bytes either way.
#[derive(Debug)]
pub struct PreparedFile(PreparedData);

#[derive(Debug)]
enum PreparedData {
    /// Deflated or stored, with its CRC.
    Ready(FileData),
    /// Above the large-entry threshold: left for the writer, which streams it.
    Large { name: String, data: Vec<u8> },
}

impl PreparedFile {
    /// The entry name.
    pub fn name(&self) -> &str {
        match &self.0 {
            PreparedData::Ready(file) => &file.name,
            PreparedData::Large { name, .. } => name,
        }
    }

    /// The file's size before compression.
    pub fn size(&self) -> u64 {
        match &self.0 {
            PreparedData::Ready(file) => file.size,
            PreparedData::Large { data, .. } => data.len() as u64,
        }
    }
}

impl WriterOptions {
    /// File `name` holding `data`, deflated or stored as a [`PackageWriter`] with
    /// these options decides and does it (the same bytes), for
    /// [`PackageWriter::add_prepared`]. Callers deflate on their own threads this way,
    /// in the same pass that reads the data. A failure (of deflate) comes with the
    /// entry name.
    pub fn prepare(
        &self,
        name: String,
        data: Vec<u8>,
    ) -> Result<PreparedFile, (String, io::Error)> {
        if data.len() as u64 > self.large_entry_threshold {
            return Ok(PreparedFile(PreparedData::Large { name, data }));
        }
        let store = is_stored(&name, &data);
        let file = prepare_file(name, data, store, *self)?;
        Ok(PreparedFile(PreparedData::Ready(file)))
    }
}

/// Whether a batched file is stored rather than deflated: empty, already compressed
/// or looking incompressible.
fn is_stored(name: &str, data: &[u8]) -> bool {
    let head = data.get(..16).unwrap_or(data);
    data.is_empty() || is_precompressed(name, head) || looks_incompressible(data)
}

thread_local! {
    /// Each thread's deflate state and its level, reset between entries: a new state
    /// per entry is some 300 KiB allocated and freed a million times in a large
    /// export, which left the allocator's heaps fragmented (RSS far above the live heap).
    static DEFLATER: std::cell::RefCell<Option<(u8, flate2::Compress)>> =
        const { std::cell::RefCell::new(None) };
    /// Each thread's 32 KiB deflate output buffer (zeroed once, not once per entry).
    static DEFLATE_BUFFER: std::cell::RefCell<Vec<u8>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `data` deflated (raw deflate, as zip stores it) at `level`.
fn deflate(data: &[u8], level: u8) -> io::Result<Vec<u8>> {
    DEFLATE_BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() != 32 * 1024 {
            buffer.resize(32 * 1024, 0);
        }
        deflate_into(data, level, &mut buffer)
    })
}

/// [`deflate`] through the output buffer `buffer`.
fn deflate_into(data: &[u8], level: u8, buffer: &mut [u8]) -> io::Result<Vec<u8>> {
    DEFLATER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compress = match &mut *slot {
            Some((l, compress)) if *l == level => {
                compress.reset();
                compress
            }
            other => {
                let fresh =
                    flate2::Compress::new(flate2::Compression::new(u32::from(level)), false);
                &mut other.insert((level, fresh)).1
            }
        };
        // As flate2's DeflateEncoder drives it (so the bytes are those of a streamed
        // entry and of the zip crate): all input without flushing, then finish, through
        // a 32 KiB output buffer. zlib-rs makes other (as valid) blocks when it is given
        // all the input with `Finish` at once.
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut consumed = 0usize;
        while consumed < data.len() {
            let (before_in, before_out) = (compress.total_in(), compress.total_out());
            let rest = data.get(consumed..).unwrap_or_default();
            compress
                .compress(rest, buffer, flate2::FlushCompress::None)
                .map_err(io::Error::other)?;
            consumed += (compress.total_in() - before_in) as usize;
            let produced = (compress.total_out() - before_out) as usize;
            out.extend_from_slice(buffer.get(..produced).unwrap_or_default());
        }
        loop {
            let before_out = compress.total_out();
            let status = compress
                .compress(&[], buffer, flate2::FlushCompress::Finish)
                .map_err(io::Error::other)?;
            let produced = (compress.total_out() - before_out) as usize;
            out.extend_from_slice(buffer.get(..produced).unwrap_or_default());
            if status == flate2::Status::StreamEnd || produced == 0 {
                return Ok(out);
            }
        }
    })
}

/// File `name` holding `data`, stored (when `store` or at level 0) or deflated as
/// `options` say, unless deflate would not make it smaller; with its CRC. A failure
/// names the entry.
fn prepare_file(
    name: String,
    data: Vec<u8>,
    store: bool,
    options: WriterOptions,
) -> Result<FileData, (String, io::Error)> {
    let mut crc = flate2::Crc::new();
    crc.update(&data);
    let size = data.len() as u64;
    let (method, data) = if options.method(store) == DEFLATED {
        let deflated = match deflate(&data, options.compression_level) {
            Ok(deflated) => deflated,
            Err(e) => return Err((name, e)),
        };
        // Deflate, unless that would not make the entry smaller (tiny or
        // incompressible data): then store it.
        if (deflated.len() as u64) < size {
            (DEFLATED, deflated)
        } else {
            (STORED, data)
        }
    } else {
        (STORED, data)
    };
    Ok(FileData {
        name,
        method,
        crc: crc.sum(),
        size,
        data,
    })
}

/// A queued entry made ready to be written as `options` say.
fn prepare_pending(
    entry: Pending,
    options: WriterOptions,
) -> Result<Prepared, (String, io::Error)> {
    match entry {
        Pending::Directory(name) => Ok(Prepared::Directory(name)),
        Pending::File { name, data, store } => {
            prepare_file(name, data, store, options).map(Prepared::File)
        }
    }
}

/// How many batches may be deflating on the pool while the next one is queued. With
/// one, the writer waited for the whole previous batch (its slowest entry on one core
/// while the other idled) before the next could start, and the exporter's reader
/// stalled behind it; two keep both cores deflating across a batch's tail (export of
/// 100k nodes, median of 5 at real-time priority: 1.99 s -> 1.88 s with batches halved
/// to 4 MiB, peak RSS 57 -> 53 MiB; two batches of 8 MiB: 1.95 s, 66 MiB).
const MAX_IN_FLIGHT: usize = 2;

/// The most bytes of a last batch that `PackageWriter::flush` deflates on the
/// calling thread when no batch went to the pool before: about a millisecond of
/// deflate, what starting the pool's threads costs a short command (an extract of 1 %
/// of a 10k-node package: 7 ms in all).
const INLINE_LAST_BATCH: u64 = 64 << 10;

/// A batch being deflated on the thread pool: its names as they will be stored (for
/// [`load_children`]) and where its entries arrive, in order.
struct InFlight {
    names: Vec<String>,
    result: mpsc::Receiver<Vec<Result<Prepared, (String, io::Error)>>>,
}

/// The data of the entry a [`ZipOut`] is writing, as a [`Write`].
struct EntryData<'a, W: Write + Seek>(&'a mut ZipOut<W>);

impl<W: Write + Seek> Write for EntryData<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_data(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Copies an entry's data to its writer, counting and summing what passes.
struct Pumped<'a> {
    crc: &'a mut flate2::Crc,
    total: &'a mut u64,
    archive: &'a str,
    name: &'a str,
}

impl Pumped<'_> {
    /// Writes `head`, then the rest of `rest`, to `out`.
    fn pump(
        &mut self,
        out: &mut dyn Write,
        head: &[u8],
        rest: &mut dyn Read,
    ) -> Result<(), ArchiveError> {
        let write_error = |source| ArchiveError::Io {
            archive: self.archive.to_owned(),
            entry: Some(self.name.to_owned()),
            source,
        };
        self.crc.update(head);
        *self.total += head.len() as u64;
        out.write_all(head).map_err(write_error)?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = match rest.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::from_read_error(self.archive, self.name, e)),
            };
            let chunk = buffer.get(..n).unwrap_or_default();
            self.crc.update(chunk);
            *self.total += n as u64;
            out.write_all(chunk).map_err(write_error)?;
        }
    }
}

/// The children of directory `dir` among the names written (`zip`'s spool) and queued
/// (`pending`): what [`NameBook`] needs when a writer comes back to a directory.
fn load_children(
    zip: &mut ZipOut<Sink>,
    in_flight: &VecDeque<InFlight>,
    pending: &[Pending],
    archive: &str,
    dir: &str,
) -> Result<Children, ArchiveError> {
    let mut children = Children::new();
    zip.for_each_name(|raw| {
        if let Ok(name) = std::str::from_utf8(raw) {
            add_children_of(dir, name, &mut children);
        }
    })
    .map_err(|source| ArchiveError::Io {
        archive: archive.to_owned(),
        entry: None,
        source,
    })?;
    for name in in_flight.iter().flat_map(|batch| &batch.names) {
        add_children_of(dir, name, &mut children);
    }
    for p in pending {
        match p {
            Pending::Directory(name) => add_children_of(dir, &format!("{name}/"), &mut children),
            Pending::File { name, .. } => add_children_of(dir, name, &mut children),
        }
    }
    Ok(children)
}

/// The temporary file under the zip writer. After its first failed write or seek
/// (a full disk, a file size limit) it drops the file and only counts positions: the
/// package is lost by then, and nothing should retry the failing disk.
/// [`PackageWriter::finish`] fails for a sink that failed.
struct Sink {
    file: Option<BufWriter<File>>,
    /// Position and length while counting (after a failure).
    pos: u64,
    end: u64,
    /// The position in the file (while writing to it).
    at: u64,
    /// The SHA-256 of the bytes written, while they were written in one pass from the
    /// start; `None` once something was written elsewhere (a header patched).
    hasher: Option<Sha256>,
    /// How many bytes `hasher` has seen.
    hashed: u64,
    /// Where the file's writeback was started (module [`writeback`]).
    writeback: writeback::Writeback,
}

impl Sink {
    /// A sink writing to `file`, taking its SHA-256 when `digest`.
    fn new(file: BufWriter<File>, digest: bool) -> Sink {
        let writeback = writeback::Writeback::new(file.get_ref());
        Sink {
            file: Some(file),
            pos: 0,
            end: 0,
            at: 0,
            hasher: digest.then(Sha256::new),
            hashed: 0,
            writeback,
        }
    }

    fn check<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if r.as_ref()
            .is_err_and(|e| e.kind() != io::ErrorKind::Interrupted)
        {
            if let Some(f) = self.file.take() {
                // Discard what is buffered: writing it would fail again.
                drop(f.into_parts());
            }
            self.hasher = None;
        }
        r
    }

    /// Hashes `written`, the bytes just written at `self.at`.
    fn hash(&mut self, written: &[u8]) {
        if self.at != self.hashed {
            self.hasher = None;
        }
        if let Some(hasher) = self.hasher.as_mut() {
            hasher.update(written);
            self.hashed += written.len() as u64;
        }
        self.at += written.len() as u64;
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => {
                let r = f.write(buf);
                if let Ok(n) = r {
                    // What the buffer has passed on to the file so far.
                    let handed = (self.at + n as u64).saturating_sub(f.buffer().len() as u64);
                    self.writeback.advance(handed);
                    self.hash(buf.get(..n).unwrap_or_default());
                }
                self.check(r)
            }
            None => {
                self.pos += buf.len() as u64;
                self.end = self.end.max(self.pos);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => {
                let r = f.flush();
                self.check(r)
            }
            None => Ok(()),
        }
    }
}

impl Seek for Sink {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        if let Some(f) = self.file.as_mut() {
            let r = f.seek(to);
            if let Ok(at) = r {
                self.at = at;
            }
            return self.check(r);
        }
        let (base, delta) = match to {
            SeekFrom::Start(n) => (n, 0),
            SeekFrom::End(d) => (self.end, d),
            SeekFrom::Current(d) => (self.pos, d),
        };
        self.pos = base
            .checked_add_signed(delta)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// The mark in the name of a package writer's temporary file:
/// `.OUT.zip.jcrpack-tmp-PID-XXXXXX`.
const TEMP_MARK: &str = ".jcrpack-tmp-";

/// The target's file name as it appears in its temporary files' names (cut to 100
/// bytes, so that the temporary name stays a valid file name).
fn temp_stem(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "package".to_string());
    let mut end = name.len().min(100);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// The id of the process that wrote the temporary package file `name`, when `name`
/// is one (`.OUT.zip.jcrpack-tmp-PID-XXXXXX`).
pub fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let at = rest.rfind(TEMP_MARK)?;
    let (pid, random) = rest[at + TEMP_MARK.len()..].split_once('-')?;
    if at == 0 || random.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` has certainly ended. Only where that can be known
/// (Linux, with `/proc` mounted); elsewhere `false`, so a file that may still be
/// written is never removed.
pub fn process_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    cfg!(target_os = "linux") && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Removes the temporary files that killed writers of `file_name` left in `dir`:
/// best effort (a writer that cannot tidy up still writes its package).
fn remove_stale_temps(dir: &Path, file_name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{file_name}{TEMP_MARK}");
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale = name.starts_with(&prefix)
            && temp_owner(&name).is_some_and(process_gone)
            && e.file_type().is_ok_and(|t| t.is_file());
        if stale {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::info!("removed {}, left by a killed writer", e.path().display()),
                Err(err) => tracing::warn!("cannot remove {}: {err}", e.path().display()),
            }
        }
    }
}

/// Writes a package zip (see the module documentation for what makes it deterministic).
pub struct PackageWriter {
    name: String,
    target: PathBuf,
    temp_path: tempfile::TempPath,
    zip: ZipOut<Sink>,
    options: WriterOptions,
    pending: Vec<Pending>,
    pending_bytes: u64,
    /// Batches being deflated, oldest first.
    in_flight: VecDeque<InFlight>,
    /// The names written or implied so far (the chain of the current directories; see
    /// [`names`]), to refuse duplicates and file/directory clashes, and to know which
    /// parent directories still need an entry.
    names: NameBook,
}

impl std::fmt::Debug for PackageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageWriter")
            .field("target", &self.target)
            .field("entries", &self.zip.entries())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl PackageWriter {
    /// Starts a package that [`PackageWriter::finish`] will put at `target`. Nothing
    /// appears at `target` before then.
    pub fn create(target: impl AsRef<Path>, options: WriterOptions) -> Result<Self, ArchiveError> {
        let target = target.as_ref().to_owned();
        let name = target.display().to_string();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let file_name = temp_stem(&target);
        remove_stale_temps(&dir, &file_name);
        let prefix = format!(".{file_name}{TEMP_MARK}{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // A package is an ordinary output file: 0644 minus the umask, not the
            // temporary file's default 0600.
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let io = |source| ArchiveError::Io {
            archive: name.clone(),
            entry: None,
            source,
        };
        let temp = builder.tempfile_in(&dir).map_err(io)?;
        // The central directory is spooled in memory and, past a limit, beside the
        // package, under a name of the same pattern
        // (`.OUT.zip.jcrpack-tmp-PID-central-XXXXXX`): removed on drop, and by the next
        // writer when a killed one left it.
        let spool = Spool::new(dir, format!("{prefix}central-"));
        let (file, temp_path) = temp.into_parts();
        let sink = Sink::new(BufWriter::with_capacity(1 << 20, file), options.digest);
        Ok(PackageWriter {
            name,
            target,
            temp_path,
            zip: ZipOut::new(sink, spool),
            options,
            pending: Vec::new(),
            pending_bytes: 0,
            in_flight: VecDeque::new(),
            names: NameBook::default(),
        })
    }

    fn zip_io_error(&self, entry: Option<&str>, source: io::Error) -> ArchiveError {
        ArchiveError::Io {
            archive: self.name.clone(),
            entry: entry.map(str::to_owned),
            source,
        }
    }

    /// What `bare` is, if it was written or implied.
    fn kind_of(&mut self, bare: &str) -> Result<Option<EntryKind>, ArchiveError> {
        let PackageWriter {
            names,
            zip,
            in_flight,
            pending,
            name,
            ..
        } = self;
        let mut load = |dir: &str| load_children(zip, in_flight, pending, name, dir);
        names.kind_of(bare, &mut load)
    }

    fn io_error(&self, entry: &str, source: io::Error) -> ArchiveError {
        ArchiveError::Io {
            archive: self.name.clone(),
            entry: Some(entry.to_owned()),
            source,
        }
    }

    /// Checks `name`: `name` without a trailing `/`, and whether it had one.
    fn check_name<'n>(&self, name: &'n str) -> Result<(&'n str, bool), ArchiveError> {
        check_entry_name(name).map_err(|problem| ArchiveError::UnsafeName {
            archive: self.name.clone(),
            entry: name.to_owned(),
            problem,
        })
    }

    /// Checks `name`, and records every missing parent directory (queueing its entry
    /// when directory entries are on).
    fn checked_name(&mut self, name: &str) -> Result<(String, bool), ArchiveError> {
        let (bare, slash) = self.check_name(name)?;
        self.make_parents(bare)?;
        Ok((bare.to_owned(), slash))
    }

    /// Records every missing parent directory of the checked name `bare` (queueing
    /// its entry when directory entries are on).
    fn make_parents(&mut self, bare: &str) -> Result<(), ArchiveError> {
        let created = {
            let PackageWriter {
                names,
                zip,
                in_flight,
                pending,
                name: archive,
                ..
            } = self;
            let mut load = |dir: &str| load_children(zip, in_flight, pending, archive, dir);
            names.make_parents(bare, &mut load)?
        };
        match created {
            Err(file) => Err(ArchiveError::FileDirectoryConflict {
                archive: self.name.clone(),
                entry: file,
            }),
            Ok(dirs) => {
                if self.options.directory_entries {
                    for dir in dirs {
                        self.queue(Pending::Directory(dir))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Claims `name` for a new file: refuses duplicates and names already used as a
    /// directory. The name is checked once (a file's name is checked for every entry
    /// written).
    fn claim_file(&mut self, name: &str) -> Result<String, ArchiveError> {
        let (bare, slash) = self.check_name(name)?;
        match self.kind_of(bare)? {
            Some(EntryKind::File) => {
                return Err(ArchiveError::DuplicateEntry {
                    archive: self.name.clone(),
                    entry: bare.to_owned(),
                });
            }
            Some(EntryKind::Directory) => {
                return Err(ArchiveError::FileDirectoryConflict {
                    archive: self.name.clone(),
                    entry: bare.to_owned(),
                });
            }
            None => {}
        }
        if slash {
            return Err(ArchiveError::IsADirectory {
                archive: self.name.clone(),
                entry: name.to_owned(),
            });
        }
        self.make_parents(bare)?;
        self.names.insert(bare, EntryKind::File);
        Ok(bare.to_owned())
    }

    fn queue(&mut self, entry: Pending) -> Result<(), ArchiveError> {
        if let Pending::File { data, .. } = &entry {
            self.pending_bytes += data.len() as u64;
        }
        self.pending.push(entry);
        if self.pending.len() >= self.options.batch_entries
            || self.pending_bytes >= self.options.batch_bytes
        {
            self.send()?;
        }
        Ok(())
    }

    /// Writes every queued entry: the batches being deflated, then the queue.
    fn flush(&mut self) -> Result<(), ArchiveError> {
        if self.in_flight.is_empty() && self.pending_bytes <= INLINE_LAST_BATCH {
            // The whole package fits one small batch (an extract of a few pages, a
            // small build): deflating it here costs less than starting the pool's
            // threads for it. The bytes written are the same either way.
            let batch = std::mem::take(&mut self.pending);
            self.pending_bytes = 0;
            let options = self.options;
            let prepared = batch
                .into_iter()
                .map(|entry| prepare_pending(entry, options))
                .collect();
            return self.write_prepared(prepared);
        }
        self.send()?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Starts deflating the queued entries: on the thread pool while the caller goes on
    /// queueing the next batch ([`MAX_IN_FLIGHT`] batches at most), or here when the
    /// writer is not parallel (or already runs on the pool, which it must not wait for).
    fn send(&mut self) -> Result<(), ArchiveError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let options = self.options;
        let prepare = move |entry: Pending| prepare_pending(entry, options);
        if !options.parallel || rayon::current_thread_index().is_some() {
            return self.write_here(batch.into_iter().map(prepare).collect());
        }
        let names = batch
            .iter()
            .map(|p| match p {
                Pending::Directory(name) => format!("{name}/"),
                Pending::File { name, .. } => name.clone(),
            })
            .collect();
        let (sender, result) = mpsc::sync_channel(1);
        rayon::spawn(move || {
            let prepared: Vec<_> = batch.into_par_iter().map(prepare).collect();
            // The writer may have been dropped (an error elsewhere): nobody waits then.
            let _ = sender.send(prepared);
        });
        self.in_flight.push_back(InFlight { names, result });
        while self.in_flight.len() > MAX_IN_FLIGHT {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Writes the batches in flight, then `prepared` (entries made on this thread).
    fn write_here(
        &mut self,
        prepared: Vec<Result<Prepared, (String, io::Error)>>,
    ) -> Result<(), ArchiveError> {
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        self.write_prepared(prepared)
    }

    /// Waits for the oldest batch in flight and writes it.
    fn write_oldest(&mut self) -> Result<(), ArchiveError> {
        let Some(oldest) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let prepared = oldest.result.recv().map_err(|_| ArchiveError::Io {
            archive: self.name.clone(),
            entry: oldest.names.first().cloned(),
            source: io::Error::other("a deflate worker ended without its batch"),
        })?;
        self.write_prepared(prepared)
    }

    /// Appends deflated entries in order.
    fn write_prepared(
        &mut self,
        prepared: Vec<Result<Prepared, (String, io::Error)>>,
    ) -> Result<(), ArchiveError> {
        let options = self.options;
        for item in prepared {
            match item {
                Ok(Prepared::Directory(name)) => {
                    let stored = format!("{name}/");
                    let header = options.header(stored.as_bytes(), STORED, true);
                    self.zip
                        .add(&header, &[])
                        .map_err(|e| self.zip_io_error(Some(&name), e))?;
                }
                Ok(Prepared::File(FileData {
                    name,
                    method,
                    crc,
                    size,
                    data,
                })) => {
                    let mut header = options.header(name.as_bytes(), method, false);
                    header.crc = crc;
                    header.uncompressed = size;
                    header.compressed = data.len() as u64;
                    header.large = size.max(header.compressed) >= LARGE_FILE_MARGIN;
                    self.zip
                        .add(&header, &data)
                        .map_err(|e| self.zip_io_error(Some(&name), e))?;
                }
                Err((name, e)) => return Err(self.zip_io_error(Some(&name), e)),
            }
        }
        Ok(())
    }

    /// Writes one entry straight through the zip writer: `head` (already read) and then
    /// the rest of `rest`.
    fn stream(
        &mut self,
        name: &str,
        head: &[u8],
        rest: &mut dyn Read,
        size: Option<u64>,
    ) -> Result<(), ArchiveError> {
        self.flush()?;
        let store = is_precompressed(name, head) || looks_incompressible(head);
        let large = size.is_none_or(|s| s >= LARGE_FILE_MARGIN);
        let method = self.options.method(store);
        let mut header = self.options.header(name.as_bytes(), method, false);
        header.large = large;
        let started = self
            .zip
            .start_entry(&header)
            .map_err(|e| self.io_error(name, e))?;
        let mut crc = flate2::Crc::new();
        let mut total = 0u64;
        let level = self.options.compression_level;
        let archive = self.name.clone();
        let write_error = |e| ArchiveError::Io {
            archive: archive.clone(),
            entry: Some(name.to_owned()),
            source: e,
        };
        let data = EntryData(&mut self.zip);
        let mut pumped = Pumped {
            crc: &mut crc,
            total: &mut total,
            archive: &archive,
            name,
        };
        if method == DEFLATED {
            let mut encoder = DeflateEncoder::new(data, flate2::Compression::new(u32::from(level)));
            pumped.pump(&mut encoder, head, rest)?;
            encoder.finish().map_err(write_error)?;
        } else {
            let mut data = data;
            pumped.pump(&mut data, head, rest)?;
        }
        header.crc = crc.sum();
        header.uncompressed = total;
        header.compressed = self.zip.written_since(started);
        self.zip
            .end_entry(started, &header)
            .map_err(|e| self.io_error(name, e))?;
        Ok(())
    }

    /// Copies file `entry` of the zip `source` into this package as it is stored there,
    /// without inflating and deflating it again (for `extract`). The copy gets this
    /// writer's time and permissions and no extra fields but ZIP64 information; the
    /// source's CRC, sizes and compression are kept unchecked, so the result is as
    /// deterministic as the source.
    pub fn raw_copy(&mut self, source: &ZipArchive, entry: &str) -> Result<(), ArchiveError> {
        if source.listing().get(entry).is_some_and(|e| e.is_dir()) {
            return self.add_directory(entry);
        }
        let name = self.claim_file(entry)?;
        self.flush()?;
        let options = self.options;
        let target = self.name.clone();
        let zip = &mut self.zip;
        source.with_raw_entry(&name, |mut file| {
            let io_error = |source| ArchiveError::Io {
                archive: target.clone(),
                entry: Some(name.clone()),
                source,
            };
            #[allow(deprecated)]
            let method = match file.compression() {
                CompressionMethod::Stored => STORED,
                CompressionMethod::Deflated => DEFLATED,
                CompressionMethod::Unsupported(m) => m,
                other => {
                    return Err(io_error(io::Error::other(format!(
                        "cannot copy an entry compressed with {other:?}"
                    ))))
                }
            };
            let mut header = options.header(name.as_bytes(), method, false);
            header.crc = file.crc32();
            header.compressed = file.compressed_size();
            header.uncompressed = file.size();
            header.large = header.compressed.max(header.uncompressed) >= 0xFFFF_FFFF;
            let started = zip.start_entry(&header).map_err(io_error)?;
            io::copy(&mut file, &mut EntryData(&mut *zip)).map_err(io_error)?;
            if zip.written_since(started) != header.compressed {
                return Err(io_error(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the entry's stored bytes are not as long as its header says",
                )));
            }
            zip.end_entry(started, &header).map_err(io_error)
        })
    }

    /// Writes the queued entries and the central directory, flushes the file to disk
    /// and renames it to the target path.
    pub fn finish(mut self) -> Result<WrittenPackage, ArchiveError> {
        self.flush()?;
        let PackageWriter {
            name,
            target,
            temp_path,
            zip,
            ..
        } = self;
        let io_error = |source| ArchiveError::Io {
            archive: name.clone(),
            entry: None,
            source,
        };
        let entries = zip.entries();
        let mut sink = zip.finish().map_err(io_error)?;
        let sha256 = sink.hasher.take().map(|h| crate::dump::hex(&h.finalize()));
        // The writeback hints end before the sync (which writes whatever they left).
        drop(std::mem::take(&mut sink.writeback));
        let file = sink
            .file
            .ok_or_else(|| io_error(io::Error::other("an earlier write to the package failed")))?
            .into_inner()
            .map_err(|e| io_error(e.into_error()))?;
        file.sync_all().map_err(io_error)?;
        let size = file.metadata().map_err(io_error)?.len();
        drop(file);
        temp_path.persist(&target).map_err(|e| io_error(e.error))?;
        Ok(WrittenPackage {
            path: target,
            entries,
            size,
            sha256,
        })
    }
}

impl PackageSink for PackageWriter {
    fn add_directory(&mut self, name: &str) -> Result<(), ArchiveError> {
        let (bare, _) = self.checked_name(name)?;
        match self.kind_of(&bare)? {
            Some(EntryKind::Directory) => Ok(()),
            Some(EntryKind::File) => Err(ArchiveError::FileDirectoryConflict {
                archive: self.name.clone(),
                entry: bare,
            }),
            None => {
                self.names.insert(&bare, EntryKind::Directory);
                if self.options.directory_entries {
                    self.queue(Pending::Directory(bare))?;
                }
                Ok(())
            }
        }
    }

    fn add_reader(
        &mut self,
        name: &str,
        reader: &mut dyn Read,
        size: Option<u64>,
    ) -> Result<(), ArchiveError> {
        let name = self.claim_file(name)?;
        let threshold = self.options.large_entry_threshold;
        let read_error = |e| ArchiveError::from_read_error(&self.name, &name, e);
        if size.is_some_and(|s| s > threshold) {
            // Enough of the start to judge both the magic number and the entropy.
            let mut head = Vec::with_capacity(64 * 1024);
            (&mut *reader)
                .take(64 * 1024)
                .read_to_end(&mut head)
                .map_err(read_error)?;
            return self.stream(&name, &head, reader, size);
        }
        let capacity = size.unwrap_or(0).min(threshold);
        let mut data = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        (&mut *reader)
            .take(threshold.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(read_error)?;
        if data.len() as u64 > threshold {
            return self.stream(&name, &data, reader, size);
        }
        self.queue_file(name, data)
    }

    fn add_bytes(&mut self, name: &str, data: Vec<u8>) -> Result<(), ArchiveError> {
        let name = self.claim_file(name)?;
        let size = data.len() as u64;
        if size > self.options.large_entry_threshold {
            return self.stream(&name, &data, &mut io::empty(), Some(size));
        }
        self.queue_file(name, data)
    }

    fn copy_entry(&mut self, source: &dyn Archive, name: &str) -> Result<(), ArchiveError> {
        match source.as_zip() {
            Some(zip) => self.raw_copy(zip, name),
            None => copy_by_reading(self, source, name),
        }
    }
}

impl PackageWriter {
    fn queue_file(&mut self, name: String, data: Vec<u8>) -> Result<(), ArchiveError> {
        let store = is_stored(&name, &data);
        self.queue(Pending::File { name, data, store })
    }

    /// Adds a file made ready by [`WriterOptions::prepare`] (with this writer's
    /// options: others give other bytes), in order after everything added before. It
    /// is written at once: the entries queued before it (directories, mostly) are
    /// written first, made on this thread.
    pub fn add_prepared(&mut self, file: PreparedFile) -> Result<(), ArchiveError> {
        let name = self.claim_file(file.name())?;
        match file.0 {
            PreparedData::Large { data, .. } => {
                if data.len() as u64 > self.options.large_entry_threshold {
                    return self.stream(&name, &data, &mut io::empty(), Some(data.len() as u64));
                }
                self.queue_file(name, data)
            }
            PreparedData::Ready(mut file) => {
                file.name = name;
                let options = self.options;
                let mut prepared: Vec<_> = std::mem::take(&mut self.pending)
                    .into_iter()
                    .map(|entry| prepare_pending(entry, options))
                    .collect();
                self.pending_bytes = 0;
                prepared.push(Ok(Prepared::File(file)));
                self.write_here(prepared)
            }
        }
    }
}

#[cfg(test)]
mod tests;
