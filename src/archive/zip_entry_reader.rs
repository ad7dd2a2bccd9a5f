//! Reading one zip entry on its own: positioned reads into the shared file, inflate,
//! CRC and size checks, and the zip-bomb limits.
//!
//! The zip crate's entry reader borrows its archive mutably, so only one entry could be
//! open at a time and none could outlive a borrow. This reader owns what it needs (a
//! handle to the file, offsets from the central directory, a share of the archive's
//! inflate budget), so [`Archive::open`](super::Archive::open) can take `&self`, any
//! number of entries can be read at once, on any thread, and nothing but the reader's
//! buffers is held in memory. It checks what the zip crate's reader checks: the CRC-32
//! and the declared size (a byte more than declared stops the read at once).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use flate2::bufread::DeflateDecoder;

use super::error::ArchiveError;
use super::limits::InflateBudget;

/// How an entry's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
}

/// Reads a byte range of a shared file with positioned reads, so readers on several
/// threads never disturb each other's position.
#[derive(Debug)]
pub(crate) struct FileRange {
    file: Arc<File>,
    position: u64,
    end: u64,
}

impl FileRange {
    pub(crate) fn new(file: Arc<File>, start: u64, len: u64) -> Self {
        FileRange {
            file,
            position: start,
            end: start.saturating_add(len),
        }
    }
}

#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    // No positioned reads here: fall back to seek + read on the shared handle, which is
    // only safe when one thread reads at a time.
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read(buf)
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.position);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = read_at(&self.file, &mut buf[..want], self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

enum Source {
    Stored(BufReader<FileRange>),
    Deflated(Inflater),
    /// The inflater went back to its pool (the reader is being dropped).
    Returned,
}

/// An inflater's input: an entry's buffered byte range, or none while it waits in
/// the pool (so a pooled inflater holds no file open).
enum Input {
    Idle,
    Range(BufReader<FileRange>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Idle => Ok(0),
            Input::Range(r) => r.read(buf),
        }
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Input::Idle => Ok(&[]),
            Input::Range(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        if let Input::Range(r) = self {
            r.consume(amt);
        }
    }
}

type Inflater = DeflateDecoder<Input>;

/// Inflaters a thread keeps for its next entries.
const POOLED: usize = 4;

thread_local! {
    /// Inflaters of entries this thread read to the end or dropped, reset. A new
    /// inflater costs about 19,000 instructions (its state allocated and
    /// initialized, its window allocated on first use), more than inflating a
    /// typical small `.content.xml`; resetting one costs a few hundred. An import
    /// opens an entry per file, so every import, re-import, export's reads and
    /// extract paid that once an entry.
    static INFLATERS: RefCell<Vec<Inflater>> = const { RefCell::new(Vec::new()) };
}

/// An inflater reading `input`: a pooled one when this thread has one.
fn take_inflater(input: BufReader<FileRange>) -> Inflater {
    let pooled = INFLATERS.try_with(|p| p.borrow_mut().pop()).ok().flatten();
    match pooled {
        Some(mut d) => {
            // Reset when it was returned: only its input is set here.
            *d.get_mut() = Input::Range(input);
            d
        }
        None => DeflateDecoder::new(Input::Range(input)),
    }
}

/// Resets `d` (dropping its input, and with it the file handle) and keeps it for
/// this thread's next entry, unless the pool is full.
fn return_inflater(mut d: Inflater) {
    d.reset(Input::Idle);
    let _ = INFLATERS.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOLED {
            p.push(d);
        }
    });
}

/// Everything the reader needs to know about its entry, from the central directory.
#[derive(Debug, Clone)]
pub(crate) struct EntrySpec {
    pub archive: Arc<str>,
    pub entry: String,
    /// The file's index among its listing's files (the budget's slot).
    pub index: usize,
    pub method: Method,
    pub data_start: u64,
    pub compressed_size: u64,
    pub size: u64,
    pub crc32: u32,
}

/// The reader [`Archive::open`](super::Archive::open) returns for a zip entry.
pub(crate) struct ZipEntryReader {
    spec: EntrySpec,
    source: Source,
    budget: Arc<InflateBudget>,
    crc: flate2::Crc,
    produced: u64,
    done: bool,
}

/// The read buffer: 64 KiB, less for small entries.
fn buffer_size(compressed: u64) -> usize {
    usize::try_from(compressed.clamp(512, 64 * 1024)).unwrap_or(64 * 1024)
}

impl ZipEntryReader {
    pub(crate) fn new(file: Arc<File>, spec: EntrySpec, budget: Arc<InflateBudget>) -> Self {
        let range = FileRange::new(file, spec.data_start, spec.compressed_size);
        let buffered = BufReader::with_capacity(buffer_size(spec.compressed_size), range);
        let source = match spec.method {
            Method::Stored => Source::Stored(buffered),
            Method::Deflated => Source::Deflated(take_inflater(buffered)),
        };
        ZipEntryReader {
            spec,
            source,
            budget,
            crc: flate2::Crc::new(),
            produced: 0,
            done: false,
        }
    }

    fn corrupt(&self, reason: String) -> io::Error {
        ArchiveError::CorruptEntry {
            archive: self.spec.archive.to_string(),
            entry: self.spec.entry.clone(),
            reason,
        }
        .into_io()
    }

    /// The checks at the end of the data: all declared bytes arrived and the CRC fits.
    fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        if self.produced != self.spec.size {
            return Err(self.corrupt(format!(
                "its data ends after {} of the {} bytes its header declares \
                 (truncated zip?)",
                self.produced, self.spec.size
            )));
        }
        if self.crc.sum() != self.spec.crc32 {
            return Err(self.corrupt(format!(
                "CRC-32 mismatch: the data gives {:08x}, the header says {:08x}",
                self.crc.sum(),
                self.spec.crc32
            )));
        }
        Ok(())
    }
}

impl Read for ZipEntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let result = match &mut self.source {
            Source::Stored(r) => r.read(buf),
            Source::Deflated(r) => r.read(buf),
            Source::Returned => Ok(0),
        };
        let n = match result {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                self.done = true;
                return Err(self.corrupt(format!("cannot inflate its data: {e}")));
            }
        };
        if n == 0 {
            self.finish()?;
            return Ok(0);
        }
        self.produced = self.produced.saturating_add(n as u64);
        if self.produced > self.spec.size {
            self.done = true;
            return Err(self.corrupt(format!(
                "it inflates to more than the {} bytes its header declares",
                self.spec.size
            )));
        }
        let consumed = match &self.source {
            Source::Stored(_) | Source::Returned => self.produced,
            Source::Deflated(d) => d.total_in(),
        };
        if let Err(e) = self.budget.record(
            &self.spec.archive,
            &self.spec.entry,
            self.spec.index,
            self.produced,
            consumed,
        ) {
            self.done = true;
            return Err(e.into_io());
        }
        let chunk = buf.get(..n).unwrap_or(buf);
        self.crc.update(chunk);
        Ok(n)
    }
}

impl Drop for ZipEntryReader {
    fn drop(&mut self) {
        if let Source::Deflated(d) = std::mem::replace(&mut self.source, Source::Returned) {
            return_inflater(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use ::zip::write::SimpleFileOptions;

    use crate::archive::{Archive, ArchiveError, Limits, ReadOptions, ZipArchive};

    /// Writes a zip holding `bomb.txt`: `size` zero bytes deflated at level 2 (as small
    /// as level 9 for zeros, and ten times faster to make), streamed
    /// through the writer so the content never exists in memory or on disk.
    fn zero_bomb(path: &Path, size: u64) {
        let mut w = ::zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let options = SimpleFileOptions::DEFAULT
            .compression_level(Some(2))
            .large_file(size >= 0xFFFF_FFFF);
        w.start_file("bomb.txt", options).unwrap();
        // Large writes: the deflater costs far more per call than per byte here.
        let zeros = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            w.write_all(&zeros[..n]).unwrap();
            left -= n as u64;
        }
        w.finish().unwrap();
    }

    /// Overwrites the uncompressed size in the local and the central header.
    fn declare_size(path: &Path, size: u32) {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[22..26].copy_from_slice(&size.to_le_bytes());
        let central = bytes.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
        bytes[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
        std::fs::write(path, bytes).unwrap();
    }

    fn read_error(archive: &ZipArchive, entry: &str) -> ArchiveError {
        let mut reader = archive.open(entry).unwrap();
        let mut sink = std::io::sink();
        let error = std::io::copy(&mut reader, &mut sink).unwrap_err();
        ArchiveError::from_read_error(archive.name(), entry, error)
    }

    /// Pooled inflaters are reset between entries: an entry read after one left
    /// half read, or after a corrupt one, reads as it should, and a pooled
    /// inflater holds no file open.
    #[test]
    fn a_reused_inflater_starts_each_entry_afresh() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.zip");
        let texts: Vec<Vec<u8>> = (0..6)
            .map(|i| {
                format!("<entry {i}/>\n")
                    .repeat(3000 + i * 100)
                    .into_bytes()
            })
            .collect();
        let mut w = ::zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (i, t) in texts.iter().enumerate() {
            w.start_file(format!("{i}.xml"), SimpleFileOptions::DEFAULT)
                .unwrap();
            w.write_all(t).unwrap();
        }
        w.finish().unwrap();
        // Entry 3's data damaged in the middle (its local header kept).
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(5).position(|w| w == b"3.xml").unwrap();
        for b in &mut bytes[at + 40..at + 60] {
            *b = 0xff;
        }
        std::fs::write(&path, &bytes).unwrap();
        let archive = ZipArchive::open(&path, &ReadOptions::default()).unwrap();
        super::INFLATERS.with(|p| p.borrow_mut().clear());
        assert_eq!(archive.read_to_vec("0.xml").unwrap(), texts[0]);
        assert_eq!(super::INFLATERS.with(|p| p.borrow().len()), 1);
        // Half read, then dropped.
        let mut half = vec![0; texts[1].len() / 2];
        archive
            .open("1.xml")
            .unwrap()
            .read_exact(&mut half)
            .unwrap();
        assert_eq!(half, texts[1][..half.len()]);
        assert_eq!(archive.read_to_vec("2.xml").unwrap(), texts[2]);
        assert!(archive.read_to_vec("3.xml").is_err());
        assert_eq!(archive.read_to_vec("4.xml").unwrap(), texts[4]);
        // Two open at once: each its own inflater.
        let (mut a, mut b) = (
            archive.open("5.xml").unwrap(),
            archive.open("0.xml").unwrap(),
        );
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        a.read_to_end(&mut got_a).unwrap();
        b.read_to_end(&mut got_b).unwrap();
        assert_eq!((got_a, got_b), (texts[5].clone(), texts[0].clone()));
        drop((a, b));
        assert_eq!(super::INFLATERS.with(|p| p.borrow().len()), 2);
        assert!(super::INFLATERS.with(|p| p
            .borrow()
            .iter()
            .all(|d| matches!(d.get_ref(), super::Input::Idle))));
    }

    #[test]
    fn the_total_limit_counts_what_was_inflated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("three.zip");
        let text = b"<jcr:root jcr:primaryType=\"nt:unstructured\"/>\n".repeat(2500);
        let mut w = ::zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for name in ["a.xml", "b.xml", "c.xml"] {
            w.start_file(name, SimpleFileOptions::DEFAULT).unwrap();
            w.write_all(&text).unwrap();
        }
        w.finish().unwrap();
        let limit = 2 * text.len() as u64 + 10;
        let limits = Limits::default().with_max_total_uncompressed(limit);
        let archive = ZipArchive::open(&path, &ReadOptions::default().with_limits(limits)).unwrap();
        assert_eq!(archive.read_to_vec("a.xml").unwrap(), text);
        assert_eq!(archive.read_to_vec("b.xml").unwrap(), text);
        // Reading an entry again costs nothing more.
        assert_eq!(archive.read_to_vec("a.xml").unwrap(), text);
        let error = archive.read_to_vec("c.xml").unwrap_err();
        assert!(
            matches!(error, ArchiveError::TotalSizeLimit { ref entry, limit: l, .. } if entry == "c.xml" && l == limit),
            "{error:?}"
        );
    }

    #[test]
    fn a_zero_bomb_is_stopped_while_inflating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.zip");
        zero_bomb(&path, 2 << 30);
        // About 2 MB on disk.
        assert!(std::fs::metadata(&path).unwrap().len() < 2_200_000);
        // With its true size declared (2 GiB), the ratio limit stops it just past 1 MiB.
        let archive = ZipArchive::open(&path, &ReadOptions::default()).unwrap();
        assert_eq!(archive.listing().get("bomb.txt").unwrap().size(), 2 << 30);
        let error = read_error(&archive, "bomb.txt");
        match error {
            ArchiveError::RatioLimit {
                inflated,
                compressed,
                limit,
                ..
            } => {
                assert_eq!(limit, 1000);
                assert!(inflated <= 2 << 20, "inflated {inflated} before stopping");
                assert!(inflated > compressed * 1000);
            }
            other => panic!("expected the ratio limit, got {other}"),
        }
        // Declared small (1000 bytes), it is stopped at the 1001st byte, even with no limits.
        declare_size(&path, 1000);
        let archive = ZipArchive::open(
            &path,
            &ReadOptions::default().with_limits(Limits::unlimited()),
        )
        .unwrap();
        assert_eq!(archive.listing().get("bomb.txt").unwrap().size(), 1000);
        let error = read_error(&archive, "bomb.txt");
        assert!(
            error.to_string().ends_with("entry `bomb.txt` is corrupt: it inflates to more than the 1000 bytes its header declares"),
            "{error}"
        );
    }
}
