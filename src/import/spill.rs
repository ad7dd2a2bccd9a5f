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
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::io::{BufReader, Read, Write};

/// A set of paths, kept as 128-bit hashes of their bytes: the most recent
/// [`PathSet::IN_MEMORY`] in a hash table, the older ones in one sorted, unlinked
/// temporary file with a sparse index (the first key of each block of
/// [`BLOCK`] keys) and a Bloom filter (10 bits a key) in memory. So a million paths
/// cost about 1.5 MB of memory and 16 MB of disk instead of 35 MB of memory; a
/// lookup of a path that is not in the file rarely reads it (the Bloom filter says
/// no), one that is reads one 4 KiB block.
///
/// The hash is two 64-bit foldhash values under two seeds drawn at random for the
/// set ([`PathKeys`]): the seeds never leave the process, so a package cannot aim
/// two of its paths at one key, and two different paths share one with
/// probability about 2^-128 a pair: for the millions of paths of one install,
/// never in practice. When the file cannot be
/// written, the keys stay in memory (correct, only larger). When a block cannot be
/// read back, the lookup answers "not there" and the set keeps the error:
/// [`PathSet::read_error`] hands it out, and the install fails on it before it
/// commits, so that no decision made from a wrong answer (a node deleted as
/// unlisted) is ever kept.
#[derive(Debug, Default)]
pub struct PathSet {
    keys: PathKeys,
    set: HashSet<u128, BuildHasherDefault<PassThrough>>,
    spilled: Option<SpilledKeys>,
    /// A spill failed: everything from then on stays in memory.
    broken: bool,
    /// The first block that could not be read back.
    read_error: std::cell::RefCell<Option<std::io::Error>>,
}

/// Keys per block of the spill file (4 KiB).
const BLOCK: usize = 256;

/// The keys moved to disk, sorted.
#[derive(Debug)]
struct SpilledKeys {
    file: File,
    count: usize,
    /// The first key of each block.
    index: Vec<u128>,
    /// Bloom filter over the keys in the file.
    bloom: Bloom,
}

/// A Bloom filter over 128-bit keys that are hashes already, blocked: a key's
/// [`Bloom::PROBES`] bits lie in one 512-bit block (one cache line), so a lookup or
/// an insertion touches one line of memory instead of seven scattered ones. The
/// block count is a power of two (a block is found by a mask, not a division), and
/// a filter keeps its size while its keys fit its capacity ([`Bloom::BITS_PER_KEY`]
/// bits a key), so that a merge of the path set's file adds only the new keys;
/// past its capacity the filter is built again at twice the size. Per key that is
/// 8 to 16 bits of memory, and a false positive about 1 to 3 % of the lookups of
/// absent keys (each costs one block read from the file).
#[derive(Debug)]
struct Bloom {
    blocks: Vec<BloomBlock>,
}

/// One cache line of a [`Bloom`] filter.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct BloomBlock([u64; 8]);

impl Bloom {
    /// Bits of filter per key of capacity.
    const BITS_PER_KEY: usize = 8;
    /// Bits set per key.
    const PROBES: u32 = 7;

    /// An empty filter with room for at least `keys` keys.
    fn with_capacity(keys: usize) -> Bloom {
        let blocks = (keys.max(1) * Self::BITS_PER_KEY)
            .div_ceil(512)
            .next_power_of_two();
        Bloom {
            blocks: vec![BloomBlock::default(); blocks],
        }
    }

    /// How many keys the filter holds at its rated false-positive rate.
    fn capacity(&self) -> usize {
        self.blocks.len() * 512 / Self::BITS_PER_KEY
    }

    /// The block of `k` and the bits of `k` in it (word, mask): the low half of the
    /// key picks the block, nine bits of the high half each bit.
    fn bits(&self, k: u128) -> (usize, impl Iterator<Item = (usize, u64)>) {
        let block = (k as u64 as usize) & (self.blocks.len().wrapping_sub(1));
        let h = (k >> 64) as u64;
        let bits = (0..Self::PROBES).map(move |i| {
            let b = (h >> (9 * i)) & 511;
            ((b / 64) as usize, 1u64 << (b % 64))
        });
        (block, bits)
    }

    fn insert(&mut self, k: u128) {
        let (block, bits) = self.bits(k);
        if let Some(BloomBlock(words)) = self.blocks.get_mut(block) {
            for (w, bit) in bits {
                words[w] |= bit;
            }
        }
    }

    /// Whether `k` may have been inserted (a filter without blocks says yes).
    fn may_contain(&self, k: u128) -> bool {
        let (block, mut bits) = self.bits(k);
        match self.blocks.get(block) {
            Some(BloomBlock(words)) => bits.all(|(w, bit)| words[w] & bit != 0),
            None => true,
        }
    }
}

impl SpilledKeys {
    fn contains(&self, k: u128) -> std::io::Result<bool> {
        use std::os::unix::fs::FileExt;
        if self.count == 0 || !self.bloom.may_contain(k) {
            return Ok(false);
        }
        let block = self.index.partition_point(|&f| f <= k);
        let Some(block) = block.checked_sub(1) else {
            return Ok(false);
        };
        let first = block * BLOCK;
        let n = BLOCK.min(self.count - first);
        // One block on the stack: a lookup allocates nothing.
        let mut buf = [0u8; BLOCK * 16];
        let block = buf.get_mut(..n * 16).unwrap_or_default();
        self.file.read_exact_at(block, first as u64 * 16)?;
        let at = |i: usize| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&block[i * 16..i * 16 + 16]);
            u128::from_le_bytes(b)
        };
        // Binary search over the sorted keys of the block.
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match at(mid).cmp(&k) {
                std::cmp::Ordering::Equal => return Ok(true),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(false)
    }

    /// The keys of the file merged with `more` (sorted, none in the file) into a new
    /// file whose filter is `bloom`: the old file's filter with room for `more`
    /// (only they are added), or an empty one (every key is added). On failure the
    /// filter comes back (perhaps with some of `more` in it: a false positive
    /// only costs a block read).
    fn merge(
        old: Option<&SpilledKeys>,
        more: &[u128],
        bloom: Bloom,
        reused: bool,
    ) -> Result<SpilledKeys, Bloom> {
        let count = old.map_or(0, |o| o.count) + more.len();
        let mut out = SpilledKeys {
            file: match tempfile::tempfile() {
                Ok(f) => f,
                Err(_) => return Err(bloom),
            },
            count,
            index: Vec::with_capacity(count.div_ceil(BLOCK)),
            bloom,
        };
        if reused {
            for &k in more {
                out.bloom.insert(k);
            }
        }
        match out.write_merged(old, more, !reused) {
            Ok(()) => Ok(out),
            Err(_) => Err(out.bloom),
        }
    }

    /// Writes the merged keys of `old` and `more` to the file and its index, adding
    /// each key to the filter when `filter_all`.
    fn write_merged(
        &mut self,
        old: Option<&SpilledKeys>,
        more: &[u128],
        filter_all: bool,
    ) -> std::io::Result<()> {
        use std::io::BufWriter;
        let count = self.count;
        let out = self;
        let mut w = BufWriter::with_capacity(64 * 1024, &out.file);
        let mut old_keys = old.map(|o| {
            let f = o.file.try_clone();
            (o.count, f)
        });
        let mut reader = match old_keys.take() {
            Some((n, Ok(f))) => Some((
                n,
                BufReader::with_capacity(64 * 1024, ReadAt { file: f, pos: 0 }),
            )),
            Some((_, Err(e))) => return Err(e),
            None => None,
        };
        let mut next_old = || -> std::io::Result<Option<u128>> {
            match reader.as_mut() {
                Some((left, r)) if *left > 0 => {
                    let mut b = [0u8; 16];
                    r.read_exact(&mut b)?;
                    *left -= 1;
                    Ok(Some(u128::from_le_bytes(b)))
                }
                _ => Ok(None),
            }
        };
        let mut a = next_old()?;
        let mut more = more.iter().copied().peekable();
        let mut written = 0usize;
        loop {
            let k = match (a, more.peek().copied()) {
                (Some(x), Some(y)) if y < x => {
                    more.next();
                    y
                }
                (Some(x), _) => {
                    a = next_old()?;
                    x
                }
                (None, Some(y)) => {
                    more.next();
                    y
                }
                (None, None) => break,
            };
            if written % BLOCK == 0 {
                out.index.push(k);
            }
            if filter_all {
                out.bloom.insert(k);
            }
            w.write_all(&k.to_le_bytes())?;
            written += 1;
        }
        w.flush()?;
        drop(w);
        if written != count {
            return Err(std::io::Error::other("the path set's file ended early"));
        }
        Ok(())
    }
}

impl PathSet {
    /// How many paths stay in the hash table before they move to the file: 7/8 of
    /// 64 Ki, the most a table of 64 Ki buckets holds (1.1 MB, and as much again
    /// for the sorted keys while they move). One key more would double it to 128 Ki
    /// buckets (2.1 MB, and 3.2 MB while it grows), for each of the importer's sets
    /// (issue 16). A million paths take 18 merges of the file instead of 9 at
    /// 128 Ki: the file is read and written sequentially, a few milliseconds each.
    pub const IN_MEMORY: usize = 64 * 1024 / 8 * 7;

    /// An empty set.
    pub fn new() -> PathSet {
        PathSet::default()
    }

    /// Adds `path`; whether it was new.
    pub fn insert(&mut self, path: impl AsRef<str>) -> bool {
        let k = self.keys.key(path.as_ref());
        if self.in_file(k) || !self.set.insert(k) {
            return false;
        }
        if self.set.len() >= Self::IN_MEMORY && !self.broken {
            self.spill();
        }
        true
    }

    fn in_file(&self, k: u128) -> bool {
        // A block that cannot be read back answers "not there" and is remembered:
        // the install fails on it (`read_error`) before anything is committed.
        match self.spilled.as_ref().map(|s| s.contains(k)) {
            Some(Ok(found)) => found,
            Some(Err(e)) => {
                self.read_error.borrow_mut().get_or_insert(e);
                false
            }
            None => false,
        }
    }

    /// The first error reading the set's file back, if any lookup met one: every
    /// answer since may be wrong, so whoever decided by them must not commit.
    pub fn read_error(&self) -> Option<std::io::Error> {
        self.read_error.borrow_mut().take()
    }

    fn spill(&mut self) {
        let mut keys: Vec<u128> = self.set.iter().copied().collect();
        keys.sort_unstable();
        let count = self.len();
        // The file's filter serves the merged file while it has room: it moves over
        // and only the new keys are added (amortized, each key is added about twice
        // however many merges, instead of once a merge).
        let reused = self.spilled.as_mut().and_then(|s| {
            (s.bloom.capacity() >= count)
                .then(|| std::mem::replace(&mut s.bloom, Bloom { blocks: Vec::new() }))
        });
        let reuse = reused.is_some();
        let bloom = reused.unwrap_or_else(|| Bloom::with_capacity(count));
        match SpilledKeys::merge(self.spilled.as_ref(), &keys, bloom, reuse) {
            Ok(s) => {
                self.spilled = Some(s);
                self.set = HashSet::default();
            }
            Err(bloom) => {
                if let (true, Some(s)) = (reuse, self.spilled.as_mut()) {
                    s.bloom = bloom;
                }
                self.broken = true;
            }
        }
    }

    /// Whether `path` was added.
    pub fn contains(&self, path: impl AsRef<str>) -> bool {
        let k = self.keys.key(path.as_ref());
        self.set.contains(&k) || self.in_file(k)
    }

    /// How many paths were added.
    pub fn len(&self) -> usize {
        self.set.len() + self.spilled.as_ref().map_or(0, |s| s.count)
    }

    /// Whether no path was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a [`PathSet`] turns a path into its 128-bit key: two 64-bit foldhash values
/// (the quality variant, whose every output bit the Bloom filter uses) under two
/// independent random seeds. Several times cheaper than SipHash on paths (the key
/// was about 2.4 % of the installing thread's instructions with two SipHash-1-3
/// passes), and unpredictable to whoever wrote the package, which fixed SipHash
/// keys were not. Only the set's own file holds keys, so they need not be the same
/// from one run to the next.
#[derive(Debug, Default)]
struct PathKeys([foldhash::quality::RandomState; 2]);

impl PathKeys {
    fn key(&self, path: &str) -> u128 {
        let [high, low] = &self.0;
        (u128::from(high.hash_one(path)) << 64) | u128::from(low.hash_one(path))
    }
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

/// How many encoded bytes a [`SpillLog`] writes at a time when it moves its records
/// to its file.
const WRITE_CHUNK: usize = 64 * 1024;

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
        // Written in chunks: the encoded records never sit in memory beside the
        // records themselves (16 Ki report entries encode to a few MB).
        let mut buf = Vec::with_capacity(WRITE_CHUNK + WRITE_CHUNK / 4);
        let mut written = 0u64;
        let mut result = Ok(());
        for (i, r) in self.memory.iter().enumerate() {
            r.encode(&mut buf);
            if buf.len() >= WRITE_CHUNK || i + 1 == self.memory.len() {
                result = spill.file.write_all(&buf);
                if result.is_err() {
                    break;
                }
                written += buf.len() as u64;
                buf.clear();
            }
        }
        if let Err(e) = result {
            // Cut a partly written block off, so the file holds whole records only.
            spill.broken = true;
            let _ = spill.file.set_len(spill.len);
            let _ = std::io::Seek::seek(&mut spill.file, std::io::SeekFrom::Start(spill.len));
            return Err(e);
        }
        spill.len += written;
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
    fn a_path_set_past_its_memory_keeps_every_path_in_its_file() {
        let mut s = PathSet::new();
        let n = PathSet::IN_MEMORY * 2 + 777;
        for i in 0..n {
            assert!(s.insert(format!("/c/{i}")), "{i}");
        }
        assert!(s.spilled.is_some(), "should have spilled");
        assert!(s.set.len() < PathSet::IN_MEMORY);
        assert_eq!(s.len(), n);
        // Added again, in the file or in memory: not new.
        for i in (0..n).step_by(97) {
            assert!(!s.insert(format!("/c/{i}")), "{i}");
        }
        assert_eq!(s.len(), n);
        assert!((0..n).all(|i| s.contains(format!("/c/{i}"))));
        assert!(!(n..n + 20_000).any(|i| s.contains(format!("/c/{i}"))));
        assert!(!s.contains("/c"));
        assert!(s.read_error().is_none());
    }

    #[test]
    fn path_keys_stay_within_a_set_and_are_drawn_afresh_for_each() {
        let (a, b) = (PathKeys::default(), PathKeys::default());
        assert_eq!(a.key("/content/a"), a.key("/content/a"));
        assert_ne!(a.key("/content/a"), b.key("/content/a"));
        // Prefixes, lengths around foldhash's 16-byte and 128-byte steps, one byte apart.
        let long = "/c".repeat(100);
        let paths = [
            "",
            "/",
            "/a",
            "/a/",
            "/ab",
            "/a/b",
            "/a/b/c/d/e/f/g/h",
            "/a/b/c/d/e/f/g/h/",
            "/a/b/c/d/e/f/g/i",
            &long,
            &long[1..],
            &long[..129],
            &long[..128],
        ];
        let keys: HashSet<u128> = paths.iter().map(|p| a.key(p)).collect();
        assert_eq!(keys.len(), paths.len());
    }

    #[test]
    fn a_bloom_filter_never_forgets_a_key_and_rarely_claims_one() {
        let k = PathKeys::default();
        let keys: Vec<u128> = (0..20_000).map(|i| k.key(&format!("/k/{i}"))).collect();
        let mut b = Bloom::with_capacity(keys.len());
        assert!(b.capacity() >= keys.len());
        assert!(b.blocks.len().is_power_of_two());
        for &k in &keys {
            b.insert(k);
        }
        assert!(keys.iter().all(|&k| b.may_contain(k)));
        let absent = (0..20_000)
            .filter(|i| b.may_contain(k.key(&format!("/absent/{i}"))))
            .count();
        // Rated 8 bits a key (at worst about 3 %; here the capacity rounds up).
        assert!(absent < 20_000 * 4 / 100, "{absent} false positives");
        assert!(Bloom { blocks: Vec::new() }.may_contain(keys[0]));
    }

    #[test]
    fn a_path_set_keeps_its_filter_while_the_file_fits_it_and_finds_every_path() {
        let mut s = PathSet::new();
        let mut sizes = Vec::new();
        let n = PathSet::IN_MEMORY * 5 + 3;
        for i in 0..n {
            assert!(s.insert(format!("/c/{i}")), "{i}");
            if s.set.is_empty() {
                sizes.push(s.spilled.as_ref().map_or(0, |f| f.bloom.blocks.len()));
            }
        }
        assert_eq!(sizes.len(), 5);
        // 3 merges fill filters of 1, 2 and 4 Ki blocks; the 4th fits the 3rd's.
        assert_eq!(sizes, [1024, 2048, 4096, 4096, 8192]);
        assert!((0..n).all(|i| s.contains(format!("/c/{i}"))));
        assert!(!(n..n + 20_000).any(|i| s.contains(format!("/c/{i}"))));
        assert!(s.read_error().is_none());
    }

    #[test]
    fn a_path_set_table_stays_at_64_ki_buckets() {
        let mut s = PathSet::new();
        for i in 0..PathSet::IN_MEMORY * 3 {
            s.insert(format!("/c/{i}"));
            assert!(s.set.capacity() <= PathSet::IN_MEMORY, "{i}");
        }
        assert_eq!(s.len(), PathSet::IN_MEMORY * 3);
    }

    #[test]
    fn a_path_set_whose_file_cannot_be_read_back_keeps_the_error() {
        let mut s = PathSet::new();
        let n = PathSet::IN_MEMORY + 10;
        for i in 0..n {
            s.insert(format!("/c/{i}"));
        }
        assert!(s.read_error().is_none());
        // The file loses its keys (a damaged disk, say): lookups read nothing back.
        s.spilled.as_mut().unwrap().file = tempfile::tempfile().unwrap();
        let answered: Vec<bool> = (0..100).map(|i| s.contains(format!("/c/{i}"))).collect();
        assert!(answered.iter().all(|found| !found));
        let e = s.read_error().expect("the failed read is kept");
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
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
