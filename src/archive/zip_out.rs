//! The zip format as [`super::PackageWriter`] writes it: local headers and data as the
//! entries go, each entry's central-directory record appended to a spool (in memory up
//! to [`SPOOL_IN_MEMORY`] bytes, then in a file beside the output), and at the end the
//! spool copied after the data, then ZIP64 end records when needed and the end record.
//! Memory does not grow with the number of entries.
//!
//! The bytes are those the `zip` crate (9.4) writes for the same entries, field for field
//! (the writer's tests compare the two): version needed 10 for stored files, 20 for
//! deflated ones and directories, 45 for ZIP64 entries, "made by" Unix and the version
//! needed, the UTF-8 flag for non-ASCII UTF-8 names, no extra fields but ZIP64
//! information, no comments, no data descriptors (sizes are known before the local
//! header is written, or patched into it once a streamed entry ends).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Central-directory bytes kept in memory before the spool moves to a file: about
/// 10,000 entries. A small package (an `extract` of one page, say) never creates,
/// writes, reads back and removes a second file; a large one holds no more than this
/// in memory.
pub(crate) const SPOOL_IN_MEMORY: usize = 1 << 20;

/// Sizes and offsets at or above this need ZIP64 fields.
const ZIP64_BYTES: u64 = 0xFFFF_FFFF;
/// More entries than this need ZIP64 end records.
const ZIP64_ENTRIES: u64 = 0xFFFF;

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;
const UTF8_FLAG: u16 = 1 << 11;
const UNIX: u16 = 3;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;

/// Compression method numbers.
pub(crate) const STORED: u16 = 0;
pub(crate) const DEFLATED: u16 = 8;

/// One entry's header fields.
#[derive(Debug, Clone)]
pub(crate) struct EntryHeader<'a> {
    /// The name as stored (directories end in `/`).
    pub name: &'a [u8],
    pub method: u16,
    pub crc: u32,
    pub compressed: u64,
    pub uncompressed: u64,
    /// ZIP64 sizes in both headers whatever the sizes (set when they are not known
    /// before the data is written).
    pub large: bool,
    pub directory: bool,
    /// DOS time and date.
    pub time: u16,
    pub date: u16,
    /// The UTF-8 flag as the source had it (raw copies), or `None` to derive it from the name.
    pub utf8: Option<bool>,
}

impl EntryHeader<'_> {
    fn needs_zip64_sizes(&self) -> bool {
        self.large || self.compressed >= ZIP64_BYTES || self.uncompressed >= ZIP64_BYTES
    }

    fn version_needed(&self) -> u16 {
        let method = match self.method {
            STORED => 10,
            DEFLATED => 20,
            _ => 45,
        };
        let feature = if self.large {
            45
        } else if self.directory {
            20
        } else {
            10
        };
        method.max(feature)
    }

    fn flags(&self) -> u16 {
        let utf8 = self
            .utf8
            .unwrap_or_else(|| !self.name.is_ascii() && std::str::from_utf8(self.name).is_ok());
        if utf8 {
            UTF8_FLAG
        } else {
            0
        }
    }

    fn external_attributes(&self) -> u32 {
        let mode = if self.directory {
            S_IFDIR | 0o755
        } else {
            S_IFREG | 0o644
        };
        mode << 16
    }

    /// The fields the local header and the central record share, in their order:
    /// flags, method, time, date, CRC-32, sizes (`compressed`, `uncompressed`: the
    /// 32-bit values or the ZIP64 marker) and the name's length.
    fn put_shared_fields(
        &self,
        h: &mut Vec<u8>,
        compressed: u32,
        uncompressed: u32,
    ) -> Result<(), io::Error> {
        put16(h, self.flags());
        put16(h, self.method);
        put16(h, self.time);
        put16(h, self.date);
        put32(h, self.crc);
        put32(h, compressed);
        put32(h, uncompressed);
        put16(h, name_length(self.name)?);
        Ok(())
    }

    /// The local header: signature, fixed fields, name, ZIP64 sizes when needed.
    pub fn local(&self) -> Result<Vec<u8>, io::Error> {
        let zip64 = self.needs_zip64_sizes();
        let (compressed, uncompressed) = if self.large {
            (ZIP64_BYTES as u32, ZIP64_BYTES as u32)
        } else {
            (small(self.compressed)?, small(self.uncompressed)?)
        };
        let mut h = Vec::with_capacity(30 + self.name.len() + 20);
        put32(&mut h, LOCAL_SIGNATURE);
        put16(&mut h, self.version_needed());
        self.put_shared_fields(&mut h, compressed, uncompressed)?;
        put16(&mut h, if zip64 { 20 } else { 0 });
        h.extend_from_slice(self.name);
        if zip64 {
            put16(&mut h, ZIP64_EXTRA_ID);
            put16(&mut h, 16);
            put64(&mut h, self.uncompressed);
            put64(&mut h, self.compressed);
        }
        Ok(h)
    }

    /// The central-directory record of the entry whose local header is at `offset`.
    pub fn central(&self, offset: u64) -> Result<Vec<u8>, io::Error> {
        let sizes64 = self.needs_zip64_sizes();
        let offset64 = offset >= ZIP64_BYTES;
        let extra_len = match (sizes64, offset64) {
            (false, false) => 0,
            (true, false) => 20,
            (false, true) => 12,
            (true, true) => 28,
        };
        let (compressed, uncompressed) = if sizes64 {
            (ZIP64_BYTES as u32, ZIP64_BYTES as u32)
        } else {
            (self.compressed as u32, self.uncompressed as u32)
        };
        let version = self.version_needed();
        let mut h = Vec::with_capacity(46 + self.name.len() + extra_len);
        put32(&mut h, CENTRAL_SIGNATURE);
        put16(&mut h, (UNIX << 8) | version);
        put16(&mut h, version);
        self.put_shared_fields(&mut h, compressed, uncompressed)?;
        put16(&mut h, extra_len as u16);
        put16(&mut h, 0); // comment
        put16(&mut h, 0); // disk
        put16(&mut h, 0); // internal attributes
        put32(&mut h, self.external_attributes());
        put32(&mut h, offset.min(ZIP64_BYTES) as u32);
        h.extend_from_slice(self.name);
        if extra_len > 0 {
            put16(&mut h, ZIP64_EXTRA_ID);
            put16(&mut h, extra_len as u16 - 4);
            if sizes64 {
                put64(&mut h, self.uncompressed);
                put64(&mut h, self.compressed);
            }
            if offset64 {
                put64(&mut h, offset);
            }
        }
        Ok(h)
    }
}

fn small(size: u64) -> Result<u32, io::Error> {
    u32::try_from(size)
        .ok()
        .filter(|&s| u64::from(s) < ZIP64_BYTES)
        .ok_or_else(|| {
            io::Error::other(format!("size {size} needs ZIP64 sizes, which were not set"))
        })
}

fn name_length(name: &[u8]) -> Result<u16, io::Error> {
    u16::try_from(name.len()).map_err(|_| io::Error::other("entry name longer than 65,535 bytes"))
}

fn put16(h: &mut Vec<u8>, v: u16) {
    h.extend_from_slice(&v.to_le_bytes());
}

fn put32(h: &mut Vec<u8>, v: u32) {
    h.extend_from_slice(&v.to_le_bytes());
}

fn put64(h: &mut Vec<u8>, v: u64) {
    h.extend_from_slice(&v.to_le_bytes());
}

/// Where an entry whose sizes are not known yet starts, to patch its header
/// ([`ZipOut::end_entry`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Started {
    header_start: u64,
    data_start: u64,
}

/// Where the central-directory records wait for [`ZipOut::finish`]: in memory up to a
/// limit, then in a temporary file made in `dir` with name prefix `prefix` (removed
/// when dropped).
pub(crate) struct Spool {
    memory: Vec<u8>,
    limit: usize,
    file: Option<(BufWriter<File>, tempfile::TempPath)>,
    dir: PathBuf,
    prefix: String,
    len: u64,
}

impl Spool {
    /// A spool that keeps up to [`SPOOL_IN_MEMORY`] bytes in memory, then moves to a
    /// file in `dir` whose name starts with `prefix`.
    pub fn new(dir: PathBuf, prefix: String) -> Spool {
        Spool::with_limit(dir, prefix, SPOOL_IN_MEMORY)
    }

    /// [`Spool::new`] with another limit (0: a file from the first record).
    pub fn with_limit(dir: PathBuf, prefix: String, limit: usize) -> Spool {
        Spool {
            memory: Vec::new(),
            limit,
            file: None,
            dir,
            prefix,
            len: 0,
        }
    }

    /// Whether the records are in a file (the limit was passed).
    #[cfg(test)]
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() && self.memory.len() + bytes.len() > self.limit {
            let temp = tempfile::Builder::new()
                .prefix(&self.prefix)
                .tempfile_in(&self.dir)?;
            let (file, path) = temp.into_parts();
            let mut file = BufWriter::with_capacity(256 * 1024, file);
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some((file, path));
        }
        match &mut self.file {
            Some((file, _)) => file.write_all(bytes)?,
            None => self.memory.extend_from_slice(bytes),
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// A reader of everything written so far.
    fn reader(&mut self) -> io::Result<Box<dyn Read + '_>> {
        Ok(match &mut self.file {
            Some((file, path)) => {
                file.flush()?;
                Box::new(BufReader::with_capacity(256 * 1024, File::open(&*path)?))
            }
            None => Box::new(self.memory.as_slice()),
        })
    }
}

/// A zip being written to `out`, its central directory spooled ([`Spool`]).
pub(crate) struct ZipOut<W: Write + Seek> {
    out: W,
    pos: u64,
    spool: Spool,
    entries: u64,
}

impl<W: Write + Seek> ZipOut<W> {
    /// Starts a zip at the current start of `out` (position 0), spooling its central
    /// directory to `spool`.
    pub fn new(out: W, spool: Spool) -> ZipOut<W> {
        ZipOut {
            out,
            pos: 0,
            spool,
            entries: 0,
        }
    }

    /// Whether the central directory moved from memory to a file.
    #[cfg(test)]
    pub fn spool_spilled(&self) -> bool {
        self.spool.spilled()
    }

    /// The number of entries written.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn write_out(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn record(&mut self, header: &EntryHeader<'_>, offset: u64) -> io::Result<()> {
        let central = header.central(offset)?;
        self.spool.write_all(&central)?;
        self.entries += 1;
        Ok(())
    }

    /// Writes an entry whose data (`data`, as stored) and header fields are all known.
    pub fn add(&mut self, header: &EntryHeader<'_>, data: &[u8]) -> io::Result<()> {
        let offset = self.pos;
        let local = header.local()?;
        self.write_out(&local)?;
        self.write_out(data)?;
        self.record(header, offset)
    }

    /// Writes the local header of an entry whose CRC and sizes are not known yet (as
    /// zero); its data follows through [`ZipOut::write_data`], then
    /// [`ZipOut::end_entry`].
    pub fn start_entry(&mut self, header: &EntryHeader<'_>) -> io::Result<Started> {
        let header_start = self.pos;
        let local = header.local()?;
        self.write_out(&local)?;
        Ok(Started {
            header_start,
            data_start: self.pos,
        })
    }

    /// Data of the entry being written.
    pub fn write_data(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_out(data)
    }

    /// The number of data bytes written since `started`.
    pub fn written_since(&self, started: Started) -> u64 {
        self.pos - started.data_start
    }

    /// Ends the entry `started`: patches its CRC and sizes into the local header and
    /// records it. `header` is the one given to [`ZipOut::start_entry`] with the CRC
    /// and sizes filled in.
    pub fn end_entry(&mut self, started: Started, header: &EntryHeader<'_>) -> io::Result<()> {
        let local = header.local()?;
        let end = self.pos;
        self.out.seek(SeekFrom::Start(started.header_start))?;
        self.out.write_all(&local)?;
        self.out.seek(SeekFrom::Start(end))?;
        self.record(header, started.header_start)
    }

    /// The names recorded so far, in the order written (the spool read back).
    pub fn for_each_name(&mut self, mut f: impl FnMut(&[u8])) -> io::Result<()> {
        let len = self.spool.len;
        let mut reader = self.spool.reader()?;
        let mut fixed = [0u8; 46];
        let mut name = Vec::new();
        let mut read = 0u64;
        while read < len {
            reader.read_exact(&mut fixed)?;
            let field = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]);
            let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
            name.resize(usize::from(name_len), 0);
            reader.read_exact(&mut name)?;
            let rest = u64::from(extra_len) + u64::from(comment_len);
            io::copy(&mut (&mut reader).take(rest), &mut io::sink())?;
            read += 46 + u64::from(name_len) + rest;
            f(&name);
        }
        Ok(())
    }

    /// Copies the central directory after the data and writes the end records; returns
    /// the output.
    pub fn finish(mut self) -> io::Result<W> {
        let central_start = self.pos;
        let central_size = self.spool.len;
        let copied = io::copy(&mut self.spool.reader()?, &mut self.out)?;
        if copied != central_size {
            return Err(io::Error::other(
                "the central directory spool changed while it was copied",
            ));
        }
        self.pos += copied;
        let zip64 = self.entries > ZIP64_ENTRIES
            || central_start >= ZIP64_BYTES
            || central_size >= ZIP64_BYTES;
        let mut tail = Vec::with_capacity(98);
        if zip64 {
            // ZIP64 end records need version 4.5 (APPNOTE 4.4.3.2).
            put32(&mut tail, ZIP64_END_SIGNATURE);
            put64(&mut tail, 44);
            put16(&mut tail, 45);
            put16(&mut tail, 45);
            put32(&mut tail, 0);
            put32(&mut tail, 0);
            put64(&mut tail, self.entries);
            put64(&mut tail, self.entries);
            put64(&mut tail, central_size);
            put64(&mut tail, central_start);
            put32(&mut tail, ZIP64_LOCATOR_SIGNATURE);
            put32(&mut tail, 0);
            put64(&mut tail, central_start + central_size);
            put32(&mut tail, 1);
        }
        let count = self.entries.min(ZIP64_ENTRIES) as u16;
        put32(&mut tail, END_SIGNATURE);
        put16(&mut tail, 0);
        put16(&mut tail, 0);
        put16(&mut tail, count);
        put16(&mut tail, count);
        put32(
            &mut tail,
            if zip64 {
                ZIP64_BYTES as u32
            } else {
                central_size as u32
            },
        );
        put32(&mut tail, central_start.min(ZIP64_BYTES) as u32);
        put16(&mut tail, 0);
        self.write_out(&tail)?;
        self.out.flush()?;
        Ok(self.out)
    }
}
