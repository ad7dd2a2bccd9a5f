//! Per-path bookkeeping that stays small however large the package: a set of paths
//! kept as 128-bit hashes, and an append-only log that moves to a temporary file
//! once it grows.
//!
//! An install touches every node of its package, and remembers some of them until
//! the end (which ones it processed, which it must check against their node types,
//! what it did to each). As strings in memory that is a few hundred bytes a node:
//! 300 MB for a million nodes. [`PathSet`] keeps 16 bytes a path; [`SpillLog`] keeps
//! at most [`SpillLog::IN_MEMORY`] records in memory and the rest on disk.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufReader, Read, Write};

/// A set of paths, kept as 128-bit hashes of their bytes.
///
/// Two different paths share a hash with probability 2^-128 a pair: for the
/// millions of paths of one install, never in practice.
#[derive(Debug, Default, Clone)]
pub struct PathSet {
    set: HashSet<u128, BuildHasherDefault<PassThrough>>,
}

impl PathSet {
    /// An empty set.
    pub fn new() -> PathSet {
        PathSet::default()
    }

    /// Adds `path`; whether it was new.
    pub fn insert(&mut self, path: impl AsRef<str>) -> bool {
        self.set.insert(key(path.as_ref()))
    }

    /// Whether `path` was added.
    pub fn contains(&self, path: impl AsRef<str>) -> bool {
        self.set.contains(&key(path.as_ref()))
    }

    /// How many paths were added.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether no path was added.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Two independent 64-bit SipHash values of `path` (fixed keys: the same path gives
/// the same key in every run).
fn key(path: &str) -> u128 {
    let half = |salt: u8| {
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(0x6a63_7270_6163_6b00 | salt as u64, 0);
        h.write(path.as_bytes());
        h.finish() as u128
    };
    (half(1) << 64) | half(2)
}

/// The hasher of [`PathSet`]'s table: its keys are hashes already.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64 ^ (n >> 64) as u64;
    }
}

/// A record a [`SpillLog`] can write to its file and read back.
pub trait Record: Sized {
    /// Appends the record's bytes.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one record from the front of `bytes`, advancing it; `None` when the
    /// bytes are not a record (which only a damaged temporary file could cause).
    fn decode(bytes: &mut &[u8]) -> Option<Self>;
}

/// Appends a length-prefixed string.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads a string written by [`encode_str`].
pub fn decode_str(bytes: &mut &[u8]) -> Option<String> {
    let (len, rest) = bytes.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    let s = rest.get(..len)?;
    let s = String::from_utf8(s.to_vec()).ok()?;
    *bytes = rest.get(len..)?;
    Some(s)
}

impl Record for String {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_str(self, out);
    }

    fn decode(bytes: &mut &[u8]) -> Option<String> {
        decode_str(bytes)
    }
}

/// An append-only list that keeps its last records in memory and the rest in a
/// temporary file (deleted when the log is dropped).
#[derive(Debug)]
pub struct SpillLog<T> {
    memory: Vec<T>,
    file: Option<Spill>,
}

#[derive(Debug)]
struct Spill {
    file: File,
    count: usize,
    /// Bytes of whole records in the file.
    len: u64,
    /// A write failed: the file stays as it was and records stay in memory.
    broken: bool,
}

impl<T> Default for SpillLog<T> {
    fn default() -> Self {
        SpillLog {
            memory: Vec::new(),
            file: None,
        }
    }
}

impl<T: Record> SpillLog<T> {
    /// How many records stay in memory before they move to the file.
    pub const IN_MEMORY: usize = 16 * 1024;

    /// An empty log.
    pub fn new() -> SpillLog<T> {
        SpillLog::default()
    }

    /// Appends `record`. A full memory part moves to the temporary file; when that
    /// file cannot be written, it is cut back to its whole records and everything
    /// from then on stays in memory (correct, only larger).
    pub fn push(&mut self, record: T) {
        self.memory.push(record);
        if self.memory.len() >= Self::IN_MEMORY {
            let _ = self.spill();
        }
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            // Unlinked when created: a killed install leaves no file behind.
            let f = tempfile::tempfile()?;
            self.file = Some(Spill {
                file: f,
                count: 0,
                len: 0,
                broken: false,
            });
        }
        let Some(spill) = self.file.as_mut() else {
            return Ok(());
        };
        if spill.broken {
            return Ok(());
        }
        let mut buf = Vec::new();
        for r in &self.memory {
            r.encode(&mut buf);
        }
        if let Err(e) = spill.file.write_all(&buf) {
            // Cut a partly written block off, so the file holds whole records only.
            spill.broken = true;
            let _ = spill.file.set_len(spill.len);
            let _ = std::io::Seek::seek(&mut spill.file, std::io::SeekFrom::Start(spill.len));
            return Err(e);
        }
        spill.len += buf.len() as u64;
        spill.count += self.memory.len();
        self.memory.clear();
        Ok(())
    }

    /// How many records were appended.
    pub fn len(&self) -> usize {
        self.memory.len() + self.file.as_ref().map_or(0, |s| s.count)
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every record in the order appended. Records on disk are read back in
    /// blocks; one the file cannot give back ends the iteration early with
    /// [`SpillIter::error`] set.
    pub fn iter(&self) -> SpillIter<'_, T> {
        let reader = match self.file.as_ref() {
            // The unlinked file is read through a second handle with positioned
            // reads: the writer's offset stays at the end.
            Some(s) => match s.file.try_clone() {
                Ok(f) => Some(BufReader::with_capacity(
                    64 * 1024,
                    ReadAt { file: f, pos: 0 },
                )),
                Err(e) => {
                    return SpillIter {
                        reader: None,
                        remaining_on_disk: 0,
                        pending: Vec::new(),
                        pos: 0,
                        memory: self.memory.iter(),
                        error: Some(e),
                    }
                }
            },
            None => None,
        };
        SpillIter {
            reader,
            remaining_on_disk: self.file.as_ref().map_or(0, |s| s.count),
            pending: Vec::new(),
            pos: 0,
            memory: self.memory.iter(),
            error: None,
        }
    }
}

/// A file read from `pos` on with positioned reads (its shared offset untouched).
#[derive(Debug)]
struct ReadAt {
    file: File,
    pos: u64,
}

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Records of a [`SpillLog`]: those on disk (owned), then those in memory.
pub struct SpillIter<'a, T> {
    reader: Option<BufReader<ReadAt>>,
    remaining_on_disk: usize,
    pending: Vec<u8>,
    pos: usize,
    memory: std::slice::Iter<'a, T>,
    /// Why the records on disk could not all be read, if they could not.
    pub error: Option<std::io::Error>,
}

/// A record from a [`SpillIter`]: read back from disk, or borrowed from memory.
pub enum Item<'a, T> {
    /// A record read back from the temporary file.
    Owned(T),
    /// A record still in memory.
    Borrowed(&'a T),
}

impl<T> std::ops::Deref for Item<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Item::Owned(t) => t,
            Item::Borrowed(t) => t,
        }
    }
}

impl<'a, T: Record> Iterator for SpillIter<'a, T> {
    type Item = Item<'a, T>;

    fn next(&mut self) -> Option<Item<'a, T>> {
        while self.remaining_on_disk > 0 && self.error.is_none() {
            let mut rest = self.pending.get(self.pos..).unwrap_or_default();
            let before = rest.len();
            if let Some(r) = T::decode(&mut rest) {
                self.pos += before - rest.len();
                self.remaining_on_disk -= 1;
                return Some(Item::Owned(r));
            }
            // Not a whole record left in the block: read more.
            self.pending.drain(..self.pos.min(self.pending.len()));
            self.pos = 0;
            let Some(reader) = self.reader.as_mut() else {
                break;
            };
            let mut block = vec![0u8; 64 * 1024];
            match reader.read(&mut block) {
                Ok(0) => {
                    self.error = Some(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the temporary report file ended early",
                    ));
                }
                Ok(n) => self
                    .pending
                    .extend_from_slice(block.get(..n).unwrap_or_default()),
                Err(e) => self.error = Some(e),
            }
        }
        self.memory.next().map(Item::Borrowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_set_remembers_exactly_what_was_added() {
        let mut s = PathSet::new();
        assert!(s.insert("/content/a"));
        assert!(!s.insert("/content/a"));
        assert!(s.contains("/content/a"));
        assert!(!s.contains("/content/b"));
        assert!(!s.contains("/content/a/"));
        assert_eq!(s.len(), 1);
        for i in 0..10_000 {
            s.insert(&format!("/p{i}"));
        }
        assert!((0..10_000).all(|i| s.contains(&format!("/p{i}"))));
        assert!(!(10_000..20_000).any(|i| s.contains(&format!("/p{i}"))));
    }

    #[test]
    fn a_log_gives_back_every_record_in_order_across_the_spill() {
        let mut log: SpillLog<String> = SpillLog::new();
        let n = SpillLog::<String>::IN_MEMORY * 2 + 123;
        // Long and empty records, and non-ASCII ones, cross the read blocks.
        let rec = |i: usize| match i % 3 {
            _ if i % 997 == 0 => "x".repeat(70_000 + i),
            0 => String::new(),
            1 => format!("/inhalt/ä{i}"),
            _ => "y".repeat(i % 300),
        };
        for i in 0..n {
            log.push(rec(i));
        }
        assert_eq!(log.len(), n);
        assert!(log.file.is_some(), "should have spilled");
        let mut it = log.iter();
        assert!(it.error.is_none());
        let mut count = 0;
        for (i, r) in (&mut it).enumerate() {
            assert_eq!(*r, rec(i), "record {i}");
            count += 1;
        }
        assert!(it.error.is_none());
        assert_eq!(count, n);
        // Appending after reading goes on where it was.
        log.push("last".into());
        assert_eq!(log.iter().last().map(|r| r.clone()), Some("last".into()));
    }
}

impl<T: Record + serde::Serialize> serde::Serialize for SpillLog<T> {
    /// As a sequence, streamed from the file: the whole log is never in memory.
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = ser.serialize_seq(Some(self.len()))?;
        let mut it = self.iter();
        for r in &mut it {
            seq.serialize_element(&*r)?;
        }
        if let Some(e) = it.error {
            return Err(S::Error::custom(format!("reading the report back: {e}")));
        }
        seq.end()
    }
}
