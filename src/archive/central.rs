//! jcrpack's own reader of a zip's central directory, into flat arrays.
//!
//! The zip crate's `ZipArchive` keeps a map from name to a few hundred bytes of
//! metadata per entry, however few entries a command reads: at a million entries that
//! alone is far more than the 100 MiB every command should stay under. This reader
//! keeps what jcrpack needs and nothing else: every name once, in one byte arena, and
//! a fixed [`Record`] of offsets, sizes, CRC, flags and method per entry, in
//! central-directory order. Nothing is allocated per entry.
//!
//! Nothing in the directory is trusted: the end record (or the ZIP64 end record it
//! points to) must lie inside the file, the directory must hold as many records as the
//! end record says and fit in the bytes it claims, every record must carry its
//! signature and fit in the directory, and the entry count is checked against
//! [`Limits`](super::Limits) before any array is sized. Split archives are refused.
//! Data before the zip (a self-extracting stub) moves every offset by the same amount,
//! as in the zip crate and Info-ZIP.

use std::fs::File;
use std::io::{self, Read};

use super::error::ArchiveError;
use super::limits::Limits;
use super::selection::EntrySelection;

/// End of central directory record signature.
const END: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
/// ZIP64 end of central directory locator signature.
const ZIP64_LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
/// ZIP64 end of central directory record signature.
const ZIP64_END: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
/// Central directory file header signature.
const CENTRAL: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
/// Size of the fixed part of a central directory record.
const CENTRAL_FIXED: usize = 46;
/// Size of the fixed part of an end record (the comment follows).
const END_FIXED: usize = 22;

/// Flag bit 0: the entry is encrypted.
pub(crate) const FLAG_ENCRYPTED: u16 = 1;

/// What the central directory says about one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    /// Where the entry's local header starts in the file; once the local headers are
    /// checked, the zip reader keeps where its data starts here instead.
    pub header_start: u64,
    /// Where this central record starts in the file (for a raw copy).
    pub record_start: u64,
    /// Stored bytes.
    pub compressed_size: u64,
    /// Inflated bytes.
    pub size: u64,
    /// CRC-32 of the inflated data.
    pub crc32: u32,
    /// General purpose flags.
    pub flags: u16,
    /// Compression method number.
    pub method: u16,
}

impl Record {
    /// A record of nothing, for an index past the end.
    pub const EMPTY: Record = Record {
        header_start: 0,
        record_start: 0,
        compressed_size: 0,
        size: 0,
        crc32: 0,
        flags: 0,
        method: 0,
    };

    /// True when flag bit 0 says the data is encrypted.
    pub fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }
}

/// The central directory: names in one arena, records beside them, in directory order.
#[derive(Debug, Default)]
pub(crate) struct CentralDirectory {
    names: Vec<u8>,
    /// Where each name ends in `names` (it starts where the previous one ends).
    name_ends: Vec<usize>,
    /// One record per entry, in directory order (40 bytes each).
    pub records: Vec<Record>,
    /// The entries whose external attributes give a Unix symbolic link (rare).
    pub links: Vec<usize>,
    /// Where the directory starts in the file.
    pub start: u64,
    /// How far data before the zip moves the offsets the zip stores.
    pub shift: u64,
}

impl CentralDirectory {
    /// The raw name of entry `index` as stored.
    pub fn name(&self, index: usize) -> &[u8] {
        let start = match index.checked_sub(1) {
            Some(before) => self.name_ends.get(before).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.name_ends.get(index).copied().unwrap_or(start);
        self.names.get(start..end).unwrap_or(&[])
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Takes the arena of names and where each name ends in it, leaving none.
    pub fn take_names(&mut self) -> (Vec<u8>, Vec<usize>) {
        (
            std::mem::take(&mut self.names),
            std::mem::take(&mut self.name_ends),
        )
    }
}

/// Where the central directory is, as the end record(s) say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct End {
    /// Entries in the directory.
    count: u64,
    /// Bytes of the directory.
    size: u64,
    /// Directory start, as stored (before the prepended-data shift).
    start: u64,
    /// Where the end record (or the ZIP64 end record) itself starts.
    position: u64,
}

/// Reads the central directory of `file` (`file_len` bytes), named `archive` in
/// errors, within `limits`' entry count.
#[cfg(test)]
pub(crate) fn read(
    file: &File,
    file_len: u64,
    archive: &str,
    limits: &Limits,
) -> Result<CentralDirectory, ArchiveError> {
    read_selected(file, file_len, archive, limits, &EntrySelection::all())
}

/// [`read`], keeping only the entries `selection` keeps: every record is still read
/// and its structure checked, but a dropped entry's name and record are not stored
/// (nothing is allocated for it). Indices are those of the kept entries.
pub(crate) fn read_selected(
    file: &File,
    file_len: u64,
    archive: &str,
    limits: &Limits,
    selection: &EntrySelection,
) -> Result<CentralDirectory, ArchiveError> {
    let not_a_zip = |reason: String| ArchiveError::NotAZip {
        archive: archive.to_owned(),
        reason,
    };
    let end = find_end(file, file_len).map_err(|e| match e {
        Found::Io(source) => ArchiveError::Io {
            archive: archive.to_owned(),
            entry: None,
            source,
        },
        Found::Bad(reason) => not_a_zip(reason),
    })?;
    limits.check_entries(archive, end.count)?;
    // The directory ends where its end record starts; anything between the stated
    // end and there is data put before the zip, which shifts every offset.
    let stated_end = end
        .start
        .checked_add(end.size)
        .filter(|&e| e <= end.position)
        .ok_or_else(|| {
            not_a_zip(format!(
                "the end record puts the central directory at offset {} ({} bytes), past \
                 the end record itself at offset {}",
                end.start, end.size, end.position
            ))
        })?;
    let shift = end.position - stated_end;
    let start = end.start + shift;
    if end.count.saturating_mul(CENTRAL_FIXED as u64) > end.size {
        return Err(not_a_zip(format!(
            "the end record claims {} entries, more than its central directory of {} \
             bytes can hold",
            end.count, end.size
        )));
    }
    let count = usize::try_from(end.count)
        .map_err(|_| not_a_zip(format!("{} entries are too many", end.count)))?;
    let mut reader = Chunks::new(file, start, file_len);
    // A selection keeps few entries: its arrays grow as they are kept.
    let capacity = if selection.is_all() { count } else { 0 };
    // The names take at most what the directory holds beyond its fixed parts (checked
    // above to lie in the file): reserved at once rather than doubled on the way.
    let name_capacity = if selection.is_all() {
        usize::try_from(end.size - end.count * CENTRAL_FIXED as u64).unwrap_or(0)
    } else {
        0
    };
    let mut directory = CentralDirectory {
        names: Vec::with_capacity(name_capacity),
        name_ends: Vec::with_capacity(capacity),
        records: Vec::with_capacity(capacity),
        links: Vec::new(),
        start,
        shift,
    };
    let mut position = start;
    let directory_end = start + end.size;
    let mut dropped = DroppedFolder::default();
    for index in 0..count {
        let cannot =
            |e: io::Error| not_a_zip(format!("cannot read central directory record {index}: {e}"));
        let mut fixed = [0u8; CENTRAL_FIXED];
        fixed.copy_from_slice(reader.take(CENTRAL_FIXED).map_err(cannot)?);
        if fixed[..4] != CENTRAL {
            return Err(not_a_zip(format!(
                "central directory record {index} has no signature"
            )));
        }
        let u16_at = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]);
        let u32_at = |at: usize| {
            u32::from_le_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]])
        };
        let made_by_system = fixed[5];
        let flags = u16_at(8);
        let method = u16_at(10);
        let crc32 = u32_at(16);
        let compressed32 = u32_at(20);
        let size32 = u32_at(24);
        let name_len = usize::from(u16_at(28));
        let extra_len = usize::from(u16_at(30));
        let comment_len = usize::from(u16_at(32));
        let disk = u16_at(34);
        let external = u32_at(38);
        let offset32 = u32_at(42);
        let record_len = CENTRAL_FIXED + name_len + extra_len + comment_len;
        if position + record_len as u64 > directory_end {
            return Err(not_a_zip(format!(
                "central directory record {index} runs past the end of the directory"
            )));
        }
        let variable = reader.take(name_len + extra_len).map_err(cannot)?;
        let (name, extra) = variable.split_at(name_len);
        let wide = zip64_fields(extra, size32, compressed32, offset32, disk);
        if wide.disk != 0 {
            return Err(not_a_zip(format!(
                "central directory record {index} is on disk {}: split archives are not \
                 supported",
                wide.disk
            )));
        }
        position += record_len as u64;
        if dropped.keeps(selection, name) {
            let mode = external >> 16;
            let kept = directory.records.len();
            directory.names.extend_from_slice(name);
            directory.name_ends.push(directory.names.len());
            directory.records.push(Record {
                header_start: wide.offset.saturating_add(shift),
                record_start: position - record_len as u64,
                compressed_size: wide.compressed,
                size: wide.size,
                crc32,
                flags,
                method,
            });
            // Unix "made by" (3) with S_IFLNK as the file type, as the zip crate's
            // `unix_mode` reads it.
            if made_by_system == 3 && external != 0 && mode & 0o170000 == 0o120000 {
                directory.links.push(kept);
            }
        }
        reader.skip(comment_len);
    }
    directory.name_ends.shrink_to_fit();
    directory.records.shrink_to_fit();
    directory.names.shrink_to_fit();
    Ok(directory)
}

/// The bytes of a central directory, read from the file in chunks of [`CHUNK`] bytes
/// (one `pread` each) and handed out in place: a record's fields and name are read
/// where they lie, not copied through a reader into a buffer of their own (that cost
/// some 110 instructions a record and a 128 KiB buffer zeroed on every open, 32 page
/// faults). Reads end at the file's end, as reading the file through a buffered
/// reader did: a record that runs past the directory is refused by its checks, past
/// the file as a short read.
struct Chunks<'f> {
    file: &'f File,
    /// Read bytes; `buf[lo..hi]` are not handed out yet.
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    /// Where in the file `buf[hi]` comes from.
    next: u64,
    /// The file's length.
    end: u64,
}

/// How many bytes [`Chunks`] reads at a time (a record longer than that is read whole).
const CHUNK: usize = 64 * 1024;

impl<'f> Chunks<'f> {
    fn new(file: &'f File, start: u64, end: u64) -> Self {
        Chunks {
            file,
            buf: Vec::new(),
            lo: 0,
            hi: 0,
            next: start,
            end,
        }
    }

    /// The next `n` bytes; a short read when the file ends before them.
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.hi - self.lo < n {
            self.fill(n)?;
        }
        let start = self.lo;
        self.lo += n;
        Ok(self.buf.get(start..self.lo).unwrap_or_default())
    }

    /// Passes over the next `n` bytes (past the file's end too, as a seek does).
    fn skip(&mut self, n: usize) {
        let buffered = self.hi - self.lo;
        if n <= buffered {
            self.lo += n;
        } else {
            self.next = self.next.saturating_add((n - buffered) as u64);
            self.lo = 0;
            self.hi = 0;
        }
    }

    /// Reads until at least `n` bytes are buffered, as many as fit (up to the file's
    /// end).
    fn fill(&mut self, n: usize) -> io::Result<()> {
        self.buf.copy_within(self.lo..self.hi, 0);
        self.hi -= self.lo;
        self.lo = 0;
        if self.buf.len() < n.max(CHUNK) {
            self.buf.resize(n.max(CHUNK), 0);
        }
        while self.hi < n {
            let room = self.buf.len() - self.hi;
            let left = usize::try_from(self.end.saturating_sub(self.next)).unwrap_or(usize::MAX);
            let want = room.min(left);
            let into = self
                .buf
                .get_mut(self.hi..self.hi + want)
                .unwrap_or_default();
            let got = match super::zip_entry_reader::read_at(self.file, into, self.next) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if got == 0 {
                // The message of `Read::read_exact` at the end of the file.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "failed to fill whole buffer",
                ));
            }
            self.hi += got;
            self.next += got as u64;
        }
        Ok(())
    }
}

/// The last folder below `jcr_root/` that a selection dropped, so that the names below
/// it are dropped by comparing their first bytes instead of walking their segments
/// ([`EntrySelection::keeps`] cost some 640 instructions a name on the 10k-node
/// package, 3.1 of the 9.5 million an extract of 1 % ran on its command thread).
///
/// Sound because a selection that drops a folder drops everything below it: `keeps`
/// decides a name below `jcr_root/` at the first of its segments that leaves the way
/// to every root (a `.content.xml` only counts as the last segment), and a name below
/// the folder repeats the folder's segments up to there. `jcr_root/` itself and the
/// names outside it (`META-INF/` is kept whole) are always asked. A package lists a
/// folder before what it holds, so most names below a dropped folder follow it; for
/// the names of a package without folder entries, the parent folder of a dropped file
/// is asked once (and remembered when it is kept, so that its other files do not ask
/// again).
#[derive(Debug, Default)]
struct DroppedFolder {
    /// The dropped folder's name with its trailing `/` (empty: none yet).
    dropped: Vec<u8>,
    /// The last parent folder asked about that was kept (empty: none yet).
    kept: Vec<u8>,
}

impl DroppedFolder {
    /// The names under `jcr_root/` (with the slash).
    const BELOW: &'static [u8] = b"jcr_root/";

    /// `selection.keeps(name)`, remembering the folder that a dropped name shows dropped.
    fn keeps(&mut self, selection: &EntrySelection, name: &[u8]) -> bool {
        if !self.dropped.is_empty() && name.starts_with(&self.dropped) {
            return false;
        }
        let kept = selection.keeps(name);
        if kept || selection.is_all() || !name.starts_with(Self::BELOW) {
            return kept;
        }
        // The name is a folder (its trailing `/`), or a file in its parent folder.
        let folder_end = match name.last() {
            Some(b'/') => name.len(),
            _ => match name.iter().rposition(|&b| b == b'/') {
                Some(slash) => slash + 1,
                None => return kept,
            },
        };
        let folder = name.get(..folder_end).unwrap_or_default();
        if folder.len() <= Self::BELOW.len() || folder == self.kept.as_slice() {
            return kept;
        }
        if folder_end == name.len() || !selection.keeps(folder) {
            self.dropped.clear();
            self.dropped.extend_from_slice(folder);
        } else {
            self.kept.clear();
            self.kept.extend_from_slice(folder);
        }
        kept
    }
}

/// The sizes, offset and disk of a central record, from its ZIP64 extra field where a
/// 32-bit field is saturated. A saturated field without its ZIP64 value keeps the
/// saturated value (as the zip crate does): the local header check then disagrees.
struct Wide {
    size: u64,
    compressed: u64,
    offset: u64,
    disk: u32,
}

fn zip64_fields(
    mut extra: &[u8],
    size32: u32,
    compressed32: u32,
    offset32: u32,
    disk: u16,
) -> Wide {
    let mut wide = Wide {
        size: size32.into(),
        compressed: compressed32.into(),
        offset: offset32.into(),
        disk: disk.into(),
    };
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let Some(body) = extra.get(4..4 + len) else {
            break;
        };
        if id == 0x0001 {
            let mut fields = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
            if size32 == u32::MAX {
                if let Some(v) = fields.next() {
                    wide.size = v;
                }
            }
            if compressed32 == u32::MAX {
                if let Some(v) = fields.next() {
                    wide.compressed = v;
                }
            }
            if offset32 == u32::MAX {
                if let Some(v) = fields.next() {
                    wide.offset = v;
                }
            }
            if disk == u16::MAX {
                let used = [size32, compressed32, offset32]
                    .iter()
                    .filter(|&&v| v == u32::MAX)
                    .count();
                if let Some(d) = body.get(used * 8..used * 8 + 4) {
                    wide.disk = u32::from_le_bytes(d.try_into().unwrap_or([0; 4]));
                }
            }
            break;
        }
        extra = &extra[4 + len..];
    }
    wide
}

enum Found {
    Io(io::Error),
    Bad(String),
}

impl From<io::Error> for Found {
    fn from(e: io::Error) -> Self {
        Found::Io(e)
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut reader = super::zip_entry_reader::FileRange::new(
        std::sync::Arc::new(file.try_clone()?),
        offset,
        buf.len() as u64,
    );
    reader.read_exact(buf)
}

/// The bytes of the file's end first searched for the end record (see [`find_end`]).
const SHORT_TAIL: usize = 1024;

/// The last `PK\5\6` in the final `tail_len` bytes of `file` whose comment fits in the
/// file: where those bytes start, the bytes, and the record's index in them.
fn last_end_record(
    file: &File,
    file_len: u64,
    tail_len: usize,
) -> Result<Option<(u64, Vec<u8>, usize)>, Found> {
    let tail_len = file_len.min(tail_len as u64);
    let tail_start = file_len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    read_exact_at(file, &mut tail, tail_start)?;
    let mut at = tail.len() - END_FIXED;
    loop {
        if tail[at..at + 4] == END {
            let comment = usize::from(u16::from_le_bytes([tail[at + 20], tail[at + 21]]));
            if at + END_FIXED + comment <= tail.len() {
                return Ok(Some((tail_start, tail, at)));
            }
        }
        match at.checked_sub(1) {
            Some(before) => at = before,
            None => return Ok(None),
        }
    }
}

/// Finds the end record: the last `PK\5\6` in the final 64 KiB + 22 bytes whose
/// comment fits in the file, and the ZIP64 end record when a locator precedes it.
fn find_end(file: &File, file_len: u64) -> Result<End, Found> {
    let bad = |s: &str| Found::Bad(s.to_owned());
    if file_len < END_FIXED as u64 {
        return Err(bad(
            "the file is too short to hold an end of central directory record",
        ));
    }
    // Most packages have no comment: the record is in the last bytes, and the search
    // from the end finds the same record in the short tail as in the long one. Reading
    // the long tail only when the short one has none spares every open a zeroed 64 KiB
    // buffer (16 page faults of a fresh heap) and its copy.
    let found = match last_end_record(file, file_len, SHORT_TAIL)? {
        Some(found) => Some(found),
        None if file_len > SHORT_TAIL as u64 => {
            last_end_record(file, file_len, END_FIXED + usize::from(u16::MAX))?
        }
        None => None,
    };
    let Some((tail_start, tail, at)) = found else {
        return Err(bad("no end of central directory record was found"));
    };
    let record = &tail[at..at + END_FIXED];
    let u16_at = |i: usize| u16::from_le_bytes([record[i], record[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]]);
    let position = tail_start + at as u64;
    let mut end = End {
        count: u16_at(10).into(),
        size: u32_at(12).into(),
        start: u32_at(16).into(),
        position,
    };
    let (disk, cd_disk) = (u16_at(4), u16_at(6));
    // A ZIP64 locator sits right before the end record.
    let locator = position.checked_sub(20);
    let mut zip64 = None;
    if let Some(locator) = locator {
        let mut buf = [0u8; 20];
        read_exact_at(file, &mut buf, locator)?;
        if buf[..4] == ZIP64_LOCATOR {
            let record_at = u64::from_le_bytes(buf[8..16].try_into().unwrap_or([0; 8]));
            zip64 = Some((record_at, locator));
        }
    }
    if let Some((record_at, locator)) = zip64 {
        if record_at.saturating_add(56) > locator {
            return Err(bad("the ZIP64 end record lies past its locator"));
        }
        let mut buf = [0u8; 56];
        read_exact_at(file, &mut buf, record_at)?;
        if buf[..4] != ZIP64_END {
            return Err(bad("there is no ZIP64 end record where its locator says"));
        }
        let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().unwrap_or([0; 4]));
        let u64_at = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().unwrap_or([0; 8]));
        if u32_at(16) != 0 || u32_at(20) != 0 {
            return Err(bad("the zip is split across disks, which is not supported"));
        }
        end = End {
            count: u64_at(32),
            size: u64_at(40),
            start: u64_at(48),
            position: record_at,
        };
    } else if disk != 0 || cd_disk != 0 {
        return Err(bad("the zip is split across disks, which is not supported"));
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::zip::write::SimpleFileOptions;
    use std::io::Write;

    fn write_zip(path: &std::path::Path, entries: &[(&str, &[u8])], comment: &str) {
        let mut w = ::zip::ZipWriter::new(File::create(path).unwrap());
        for (name, data) in entries {
            if let Some(dir) = name.strip_suffix('/') {
                w.add_directory(dir, SimpleFileOptions::DEFAULT).unwrap();
            } else {
                w.start_file(*name, SimpleFileOptions::DEFAULT).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.set_comment(comment).unwrap();
        w.finish().unwrap();
    }

    fn read_path(path: &std::path::Path) -> Result<CentralDirectory, ArchiveError> {
        let file = File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        read(&file, len, "t.zip", &Limits::default())
    }

    #[test]
    fn chunks_hand_out_the_file_across_chunk_ends_and_stop_at_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bytes");
        let bytes: Vec<u8> = (0..3 * CHUNK as u32 + 7).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let len = bytes.len() as u64;
        let mut chunks = Chunks::new(&file, 5, len);
        let mut at = 5usize;
        // Takes that straddle a chunk's end, a skip inside and one past the buffer,
        // and a take longer than a chunk.
        for (take, skip) in [(46, 0), (CHUNK - 60, 3), (100, CHUNK), (40, 0)] {
            assert_eq!(chunks.take(take).unwrap(), &bytes[at..at + take], "at {at}");
            at += take;
            chunks.skip(skip);
            at += skip;
        }
        let mut chunks = Chunks::new(&file, 0, len);
        assert_eq!(chunks.take(CHUNK + 100).unwrap(), &bytes[..CHUNK + 100]);
        chunks.skip(bytes.len());
        let e = chunks.take(1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(e.to_string(), "failed to fill whole buffer");
        let mut chunks = Chunks::new(&file, len - 10, len);
        assert!(chunks.take(11).is_err());
    }
    #[test]
    fn names_and_records_match_the_zip_crate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        write_zip(
            &path,
            &[
                ("jcr_root/", b""),
                ("jcr_root/a.txt", b"hello"),
                ("b", &[7u8; 5000]),
            ],
            "a comment with PK\x05\x06 inside",
        );
        let ours = read_path(&path).unwrap();
        let mut theirs = ::zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(ours.len(), theirs.len());
        assert_eq!(ours.start, theirs.central_directory_start());
        for i in 0..theirs.len() {
            let e = theirs.by_index_raw(i).unwrap();
            let r = ours.records[i];
            assert_eq!(ours.name(i), e.name_raw());
            assert_eq!(r.header_start, e.header_start());
            assert_eq!(
                (r.size, r.compressed_size, r.crc32),
                (e.size(), e.compressed_size(), e.crc32())
            );
            assert!(!r.encrypted());
        }
    }

    #[test]
    fn data_before_the_zip_shifts_every_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        write_zip(&path, &[("x", b"xx"), ("y", b"yy")], "");
        let plain = read_path(&path).unwrap();
        let mut bytes = b"#!/bin/sh\nexit 0\n".to_vec();
        bytes.extend(std::fs::read(&path).unwrap());
        std::fs::write(&path, bytes).unwrap();
        let shifted = read_path(&path).unwrap();
        for (a, b) in plain.records.iter().zip(&shifted.records) {
            assert_eq!(a.header_start + 17, b.header_start);
        }
    }

    #[test]
    fn lying_end_records_are_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        write_zip(&path, &[("x", b"xx")], "");
        let good = std::fs::read(&path).unwrap();
        let end = good.len() - END_FIXED;
        // A count of 65535 entries in a directory of one record's bytes.
        let mut bytes = good.clone();
        bytes[end + 8..end + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        std::fs::write(&path, &bytes).unwrap();
        let e = read_path(&path).unwrap_err().to_string();
        assert!(
            e.contains("claims 65535 entries, more than its central directory"),
            "{e}"
        );
        // A directory that runs past the end record.
        let mut bytes = good.clone();
        bytes[end + 12..end + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let e = read_path(&path).unwrap_err().to_string();
        assert!(e.contains("past the end record itself"), "{e}");
        // No end record at all.
        std::fs::write(&path, &good[..end]).unwrap();
        let e = read_path(&path).unwrap_err().to_string();
        assert!(e.contains("no end of central directory record"), "{e}");
        // More entries than the limit: refused by count, before reading them.
        std::fs::write(&path, &good).unwrap();
        let file = File::open(&path).unwrap();
        let limits = Limits::default().with_max_entries(0);
        let e = read(&file, good.len() as u64, "t.zip", &limits).unwrap_err();
        assert!(matches!(e, ArchiveError::TooManyEntries { .. }), "{e:?}");
    }

    #[test]
    fn a_record_is_40_bytes() {
        // What every entry of an open zip costs beside its name and listing entry.
        assert_eq!(std::mem::size_of::<Record>(), 40);
    }

    #[test]
    fn zip64_fields_fill_saturated_ones_in_order() {
        let mut extra = vec![1, 0, 16, 0];
        extra.extend_from_slice(&5u64.to_le_bytes());
        extra.extend_from_slice(&9u64.to_le_bytes());
        let w = zip64_fields(&extra, 3, u32::MAX, u32::MAX, 0);
        assert_eq!((w.size, w.compressed, w.offset, w.disk), (3, 5, 9, 0));
        let w = zip64_fields(&[], u32::MAX, 1, 2, 0);
        assert_eq!(w.size, u64::from(u32::MAX));
        // A truncated extra field is ignored, never read past.
        let w = zip64_fields(&[1, 0, 16, 0, 1, 2], u32::MAX, 1, 2, 0);
        assert_eq!(w.size, u64::from(u32::MAX));
    }

    #[test]
    fn a_comment_longer_than_the_short_tail_is_searched_in_the_long_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        let comment = "c".repeat(3 * SHORT_TAIL);
        write_zip(
            &path,
            &[("jcr_root/", b""), ("jcr_root/a.txt", b"hello")],
            &comment,
        );
        let ours = read_path(&path).unwrap();
        let theirs = ::zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(ours.len(), 2);
        assert_eq!(ours.start, theirs.central_directory_start());
        assert_eq!(ours.name(1), b"jcr_root/a.txt");
    }

    #[test]
    fn a_dropped_folder_decides_what_follows_it_as_the_selection_does() {
        // Folders before their content, files whose folders have no entry, names that
        // leave and come back, escaped, doubtful and malformed names.
        let names = [
            "META-INF/",
            "META-INF/vault/filter.xml",
            "jcr_root/",
            "jcr_root/.content.xml",
            "jcr_root/apps/",
            "jcr_root/apps/x/.content.xml",
            "jcr_root/apps/x/y.txt",
            "jcr_root/content/",
            "jcr_root/content/.content.xml",
            "jcr_root/content/other/",
            "jcr_root/content/other/.content.xml",
            "jcr_root/content/other/site/.content.xml",
            "jcr_root/content/other//site/x",
            "jcr_root/content/other/..\\x",
            "jcr_root/content/site/",
            "jcr_root/content/site/.content.xml",
            "jcr_root/content/site/_jcr_content/",
            "jcr_root/content/site/_jcr_content/.content.xml",
            "jcr_root/content/site/_jcr_content/q/.content.xml",
            "jcr_root/content/site/_jcr_content/q/r/s.xml",
            "jcr_root/content/site/_jcr_content/p/",
            "jcr_root/content/site/_jcr_content/p/deep/x.binary",
            "jcr_root/content/site/jcr%3acontent/p.xml",
            "jcr_root/content/site/jcr%3acontent/p/x.txt",
            "jcr_root/content/site/_jcr_content/px",
            "jcr_root/content/site/_jcr_content/px/y",
            "jcr_root/content/sitex/.content.xml",
            "jcr_root/content/sitex/a/b.xml",
            "jcr_root/content/site.xml",
            "jcr_root/content/site.dir/",
            "jcr_root/content/site.dir/a.txt",
            "jcr_root/dam/a/b/c.png",
            "jcr_root/dam/a/b/d.png",
            "jcr_root/dam/a/e.png",
            "jcr_root/dam/.content.xml",
            "jcr_root/content/site/_jcr_content/../../../../x",
            "jcr_root/content//site/x",
            "jcr_root/content/site\\x",
            "jcr_rootx/content",
            "jcr_root/content/other/late.txt",
        ];
        for roots in [
            vec!["/content/site/jcr:content/p"],
            vec!["/content/site", "/dam/a/b"],
            vec!["/content/other/site"],
            vec!["/"],
        ] {
            let sel = EntrySelection::roots(&roots);
            let mut memo = DroppedFolder::default();
            let mut remembered = false;
            for name in names {
                assert_eq!(
                    memo.keeps(&sel, name.as_bytes()),
                    sel.keeps(name.as_bytes()),
                    "{name} for {roots:?}"
                );
                remembered |= !memo.dropped.is_empty();
            }
            assert_eq!(remembered, !sel.is_all(), "{roots:?}");
        }
    }
}
