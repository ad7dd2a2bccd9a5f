//! The tree of entry names every archive presents: files and directories, sorted.
//!
//! A zip lists files and, optionally, directory entries; a folder lists both. Either way
//! the archive builds one [`Listing`]: every name checked by
//! [`check_entry_name`](super::check_entry_name), duplicates refused, directories that
//! are only implied by file paths added, and each directory's children collected in name
//! order. The checks that need all names at once live here: duplicates, a name used as
//! both file and directory, and names that differ only in case.
//!
//! Memory: a listing is flat. Every name lives once in one string (the arena the
//! backend filled, [`RawEntries`]: a zip's central-directory names as read, with no
//! copy), and each entry is a fixed 12-byte record in one sorted array: where its name
//! is in the arena, two flags, and for a file its place in one more array, of the
//! files' sizes (16 bytes a file); the backend keeps what else it needs per file
//! under the same number ([`Entry::file_index`]), nothing per directory. An implied
//! directory costs no name bytes: its name is a prefix of a name below it, which the
//! arena holds already. The children of every directory are two more flat arrays
//! (offsets and indices). Nothing is allocated per entry: at 311,034 entries (178,703
//! files) the listing is the names plus 29 bytes an entry. An [`Entry`] is a view (a
//! name borrowed from the listing, a copy of its record and sizes) handed out by value. Building it needs no map
//! keyed by name: implied directories are found by walking the sorted names with a
//! stack of the current ancestors (all names below a directory sort together), and
//! case collisions by a map from a 64-bit hash of the folded name to the first index.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::entry_name::{check_entry_name, last_segment, parent_of};
use super::error::{ArchiveError, ArchiveWarning};

/// Whether an entry is a file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A file with bytes to read.
    File,
    /// A directory: stored as its own entry, or implied by the paths of its children.
    Directory,
}

/// Flag in [`Slot::len_flags`]: a directory.
const DIR: u32 = 1 << 31;
/// Flag in [`Slot::len_flags`]: stored by the archive itself (not implied).
const EXPLICIT: u32 = 1 << 30;
/// The bits of [`Slot::len_flags`] that hold the name's length: a name is shorter
/// than 1 GiB (a zip's are at most 64 KiB).
const NAME_LEN: u32 = EXPLICIT - 1;
/// The [`Slot::item`] of a directory, and of an implied directory while building.
const NO_ITEM: u32 = u32::MAX;

/// What the listing records about one entry: 12 bytes, its name in the arena. A
/// directory has nothing more; a file's sizes are in [`Listing::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    /// Where the name starts in the arena.
    name_start: u32,
    /// Its length in bytes (without a directory's trailing `/`), under [`NAME_LEN`],
    /// and the flags [`DIR`] and [`EXPLICIT`].
    len_flags: u32,
    /// While building: the backend's handle (its place in the order of pushing;
    /// [`NO_ITEM`] for implied directories). Built: a file's place in
    /// [`Listing::files`], [`NO_ITEM`] for a directory.
    item: u32,
}

impl Slot {
    fn name<'a>(&self, names: &'a str) -> &'a str {
        let start = self.name_start as usize;
        names
            .get(start..start + self.name_len())
            .unwrap_or_default()
    }

    fn name_len(&self) -> usize {
        (self.len_flags & NAME_LEN) as usize
    }

    /// Keeps the flags; `len` is at most [`NAME_LEN`] (a shorter form of the name).
    fn set_name_len(&mut self, len: usize) {
        self.len_flags = (self.len_flags & !NAME_LEN) | (len as u32 & NAME_LEN);
    }

    fn is_dir(&self) -> bool {
        self.len_flags & DIR != 0
    }
}

/// A file's sizes, as its archive declares them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct FileSizes {
    size: u64,
    compressed_size: u64,
}

/// One name in an archive: a view of its listing, handed out by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    name: &'a str,
    slot: Slot,
    /// Zero for a directory.
    sizes: FileSizes,
}

impl<'a> Entry<'a> {
    /// The full name, `/`-separated, without a trailing `/` (`jcr_root/content`).
    pub fn name(self) -> &'a str {
        self.name
    }

    /// The last segment of the name (`content` for `jcr_root/content`).
    pub fn file_name(self) -> &'a str {
        last_segment(self.name)
    }

    /// The name of the directory holding this entry (`""` at the top).
    pub fn parent(self) -> &'a str {
        parent_of(self.name)
    }

    /// File or directory.
    pub fn kind(self) -> EntryKind {
        if self.slot.is_dir() {
            EntryKind::Directory
        } else {
            EntryKind::File
        }
    }

    /// True for a directory.
    pub fn is_dir(self) -> bool {
        self.slot.is_dir()
    }

    /// True for a file.
    pub fn is_file(self) -> bool {
        !self.slot.is_dir()
    }

    /// True when the archive stores this entry itself; false for a directory that only
    /// the paths of its children imply.
    pub fn is_explicit(self) -> bool {
        self.slot.len_flags & EXPLICIT != 0
    }

    /// The size in bytes once read (uncompressed), as the archive declares it; 0 for
    /// directories. Reading checks the declaration.
    pub fn size(self) -> u64 {
        self.sizes.size
    }

    /// The bytes the entry occupies in the archive: the compressed size in a zip, the
    /// file size in a folder.
    pub fn compressed_size(self) -> u64 {
        self.sizes.compressed_size
    }

    /// A file's place among the files of the listing, in name order (`None` for a
    /// directory): [`BuiltListing::file_sources`] gives its backend handle.
    pub(crate) fn file_index(self) -> Option<usize> {
        (self.slot.item != NO_ITEM).then_some(self.slot.item as usize)
    }
}

/// The entries as a backend found them, before the checks: their names, as stored
/// (a directory's possibly with a trailing `/`), one after another in one string.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawEntries {
    names: String,
    slots: Vec<Slot>,
    /// The sizes of every entry, in the order of pushing (zero for directories).
    sizes: Vec<FileSizes>,
    /// The first name that did not fit the arena's 32-bit offsets, if any.
    overflow: Option<String>,
}

impl RawEntries {
    /// No entries; room for `count`.
    pub fn with_capacity(count: usize) -> RawEntries {
        RawEntries {
            names: String::new(),
            slots: Vec::with_capacity(count),
            sizes: Vec::with_capacity(count),
            overflow: None,
        }
    }

    /// Entries whose names the backend has already put one after another in `names`
    /// (a zip's central directory): [`RawEntries::push_stored`] names their ranges.
    pub fn over_arena(names: String, count: usize) -> RawEntries {
        RawEntries {
            names,
            slots: Vec::with_capacity(count),
            sizes: Vec::with_capacity(count),
            overflow: None,
        }
    }

    /// The bytes `range` of the arena (empty when out of it).
    pub fn stored(&self, range: std::ops::Range<usize>) -> &[u8] {
        self.names.as_bytes().get(range).unwrap_or_default()
    }

    /// Adds entry `name` (copied into the arena). `is_dir` when the backend knows it is
    /// a directory (a trailing `/` also says so); `source` is the backend's handle.
    pub fn push(&mut self, name: &str, is_dir: bool, size: u64, compressed_size: u64) {
        let start = self.names.len();
        self.names.push_str(name);
        self.push_stored(start..self.names.len(), is_dir, size, compressed_size);
    }

    /// Adds the entry whose name is `range` of the arena. Its source is its place in
    /// the order of pushing.
    pub fn push_stored(
        &mut self,
        range: std::ops::Range<usize>,
        is_dir: bool,
        size: u64,
        compressed_size: u64,
    ) {
        let source = self.slots.len();
        let (Ok(name_start), Ok(name_len), Ok(source)) = (
            u32::try_from(range.start),
            u32::try_from(range.len()),
            u32::try_from(source),
        ) else {
            if self.overflow.is_none() {
                let name = self.names.get(range).unwrap_or_default();
                self.overflow = Some(name.to_owned());
            }
            return;
        };
        if name_start.checked_add(name_len).is_none() || name_len > NAME_LEN || source == NO_ITEM {
            if self.overflow.is_none() {
                let name = self.names.get(range).unwrap_or_default();
                self.overflow = Some(name.to_owned());
            }
            return;
        }
        self.slots.push(Slot {
            name_start,
            len_flags: name_len | if is_dir { DIR | EXPLICIT } else { EXPLICIT },
            item: source,
        });
        let sizes = if is_dir {
            FileSizes::default()
        } else {
            FileSizes {
                size,
                compressed_size,
            }
        };
        self.sizes.push(sizes);
    }
}

/// All entries of an archive, sorted by name, with each directory's children.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Every name, as the backend stored them (see [`RawEntries`]).
    names: String,
    /// One record per entry, sorted by name.
    slots: Vec<Slot>,
    /// The sizes of the files, in name order (a file's [`Slot::item`] indexes it).
    files: Vec<FileSizes>,
    /// Where the children of entry `i` start in `child_indices`: they are
    /// `child_indices[child_start[i]..child_start[i + 1]]`; slot `slots.len()` is
    /// the archive root (the top-level entries).
    child_start: Vec<u32>,
    /// The children of every directory, directory after directory, each in name order.
    child_indices: Vec<u32>,
}

/// Every entry of a listing, sorted by name: indexable, searchable, iterable.
#[derive(Debug, Clone, Copy)]
pub struct Entries<'a> {
    listing: &'a Listing,
}

impl<'a> Entries<'a> {
    /// The number of entries, directories included.
    pub fn len(self) -> usize {
        self.listing.slots.len()
    }

    /// True when there are none.
    pub fn is_empty(self) -> bool {
        self.listing.slots.is_empty()
    }

    /// The entry at place `i` in name order.
    pub fn get(self, i: usize) -> Option<Entry<'a>> {
        self.listing.entry_at(i)
    }

    /// Every entry, in name order.
    pub fn iter(self) -> EntryIter<'a> {
        EntryIter {
            listing: self.listing,
            slots: self.listing.slots.iter(),
        }
    }

    /// [`slice::binary_search_by`] over the entries in name order.
    pub fn binary_search_by(
        self,
        mut f: impl FnMut(Entry<'a>) -> Ordering,
    ) -> Result<usize, usize> {
        let listing = self.listing;
        listing
            .slots
            .binary_search_by(|slot| f(listing.entry(slot)))
    }
}

impl<'a> IntoIterator for Entries<'a> {
    type Item = Entry<'a>;
    type IntoIter = EntryIter<'a>;

    fn into_iter(self) -> EntryIter<'a> {
        self.iter()
    }
}

/// The entries of a listing in name order ([`Entries::iter`]).
#[derive(Debug, Clone)]
pub struct EntryIter<'a> {
    listing: &'a Listing,
    slots: std::slice::Iter<'a, Slot>,
}

impl<'a> Iterator for EntryIter<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let slot = self.slots.next()?;
        Some(self.listing.entry(slot))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slots.size_hint()
    }
}

impl DoubleEndedIterator for EntryIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let slot = self.slots.next_back()?;
        Some(self.listing.entry(slot))
    }
}

impl ExactSizeIterator for EntryIter<'_> {}

impl Listing {
    /// Every entry, files and directories, sorted by name (byte order of the UTF-8
    /// name, which is code point order).
    pub fn entries(&self) -> Entries<'_> {
        Entries { listing: self }
    }

    /// The files only, sorted by name.
    pub fn files(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.entries().iter().filter(|e| e.is_file())
    }

    /// The number of entries, directories included.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when the archive has no entries at all.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn entry_at(&self, i: usize) -> Option<Entry<'_>> {
        self.slots.get(i).map(|slot| self.entry(slot))
    }

    /// The view of `slot`, one of this listing's.
    fn entry<'a>(&'a self, slot: &Slot) -> Entry<'a> {
        let sizes = match slot.item {
            NO_ITEM => FileSizes::default(),
            file => self.files.get(file as usize).copied().unwrap_or_default(),
        };
        Entry {
            name: slot.name(&self.names),
            slot: *slot,
            sizes,
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        let name = name.strip_suffix('/').unwrap_or(name);
        self.slots
            .binary_search_by(|s| s.name(&self.names).cmp(name))
            .ok()
    }

    /// The children of slot `i` (an entry index, or `slots.len()` for the root).
    fn children_of(&self, i: usize) -> &[u32] {
        let start = self.child_start.get(i).copied().unwrap_or(0) as usize;
        let end = self.child_start.get(i + 1).copied().unwrap_or(0) as usize;
        self.child_indices.get(start..end).unwrap_or(&[])
    }

    /// The entry of that name (a trailing `/` is ignored), or `None`.
    pub fn get(&self, name: &str) -> Option<Entry<'_>> {
        self.index_of(name).and_then(|i| self.entry_at(i))
    }

    /// True when `name` is a directory; `""` (the archive root) is one.
    pub fn is_dir(&self, name: &str) -> bool {
        name.is_empty() || name == "/" || self.get(name).is_some_and(Entry::is_dir)
    }

    /// The entries directly inside directory `dir`, sorted by name; `""` lists the top
    /// level. `None` when `dir` does not exist or is a file.
    pub fn children(&self, dir: &str) -> Option<Children<'_>> {
        let indices = if dir.is_empty() || dir == "/" {
            self.children_of(self.slots.len())
        } else {
            let i = self.index_of(dir)?;
            if !self.slots.get(i)?.is_dir() {
                return None;
            }
            self.children_of(i)
        };
        Some(Children {
            listing: self,
            indices: indices.iter(),
        })
    }

    /// The bytes the listing holds (names and arrays), for measurements and tests.
    pub fn heap_bytes(&self) -> usize {
        self.names.capacity()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.files.capacity() * std::mem::size_of::<FileSizes>()
            + (self.child_start.capacity() + self.child_indices.capacity()) * 4
    }

    /// Checks and sorts the raw entries of archive `archive`, adds implied directories
    /// and links children to parents. Case collisions are errors when `strict`, else
    /// warnings.
    #[cfg(test)]
    pub(crate) fn build(
        archive: &str,
        raw: RawEntries,
        strict: bool,
    ) -> Result<(Listing, Vec<ArchiveWarning>), ArchiveError> {
        let built = Listing::build_limited(archive, raw, strict, &super::Limits::default())?;
        Ok((built.listing, built.warnings))
    }

    /// [`Listing::build`] within `limits`' depth and name-bytes limits: a deep name is
    /// refused before the folders it implies are made.
    pub(crate) fn build_limited(
        archive: &str,
        raw: RawEntries,
        strict: bool,
        limits: &super::Limits,
    ) -> Result<BuiltListing, ArchiveError> {
        // The arena's offsets are 32-bit: names past 4 GiB are refused like names past
        // the limit (a zip would need thousands of 64 KiB names for it).
        let max_name_bytes = limits.max_name_bytes().min(u64::from(u32::MAX));
        let too_long = |entry: &str| ArchiveError::NamesTooLong {
            archive: archive.to_owned(),
            entry: super::limits::shorten(entry),
            limit: max_name_bytes,
        };
        let RawEntries {
            names,
            mut slots,
            sizes,
            overflow,
        } = raw;
        if let Some(name) = overflow {
            return Err(too_long(&name));
        }
        let mut name_bytes = 0u64;
        for slot in &mut slots {
            let raw_name = slot.name(&names);
            limits.check_depth(archive, raw_name)?;
            name_bytes += raw_name.len() as u64;
            if name_bytes > max_name_bytes {
                return Err(too_long(raw_name));
            }
            let (bare, trailing_slash) =
                check_entry_name(raw_name).map_err(|problem| ArchiveError::UnsafeName {
                    archive: archive.to_owned(),
                    entry: raw_name.to_owned(),
                    problem,
                })?;
            // `bare` is `raw_name` without its trailing `/`: the same start.
            slot.set_name_len(bare.len());
            if trailing_slash {
                slot.len_flags |= DIR;
            }
        }
        slots.sort_unstable_by(|a, b| a.name(&names).cmp(b.name(&names)));
        for pair in slots.windows(2) {
            if let [a, b] = pair {
                if a.name(&names) == b.name(&names) {
                    return Err(ArchiveError::DuplicateEntry {
                        archive: archive.to_owned(),
                        entry: a.name(&names).to_owned(),
                    });
                }
            }
        }
        if u32::try_from(slots.len()).is_err() {
            return Err(ArchiveError::TooManyEntries {
                archive: archive.to_owned(),
                count: slots.len() as u64,
                limit: u64::from(u32::MAX),
            });
        }

        // Add the directories that only file paths imply, and refuse names used both as
        // a file and as a directory. All names below a directory sort together (after
        // the directory's own name, before anything else), so the ancestors of the
        // previous name, kept on a stack, are all that is known to exist already. An
        // implied directory's name is a prefix of the name that implies it: its record
        // points at those bytes of the arena.
        let mut implied: Vec<Slot> = Vec::new();
        let mut known: Vec<&str> = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        for slot in &slots {
            let name = slot.name(&names);
            while known.last().is_some_and(|k| {
                !(name.starts_with(k) && name.as_bytes().get(k.len()) == Some(&b'/'))
            }) {
                known.pop();
            }
            let top = known.last().map_or(0, |k| k.len());
            missing.clear();
            let mut dir = parent_of(name);
            while dir.len() > top {
                missing.push(dir);
                dir = parent_of(dir);
            }
            for &dir in missing.iter().rev() {
                match slots.binary_search_by(|x| x.name(&names).cmp(dir)) {
                    Ok(i) if slots.get(i).is_some_and(|s| !s.is_dir()) => {
                        return Err(ArchiveError::FileDirectoryConflict {
                            archive: archive.to_owned(),
                            entry: dir.to_owned(),
                        });
                    }
                    Ok(_) => {}
                    Err(_) => {
                        name_bytes += dir.len() as u64;
                        if name_bytes > max_name_bytes {
                            return Err(too_long(name));
                        }
                        // Shorter than `name`, so its length fits.
                        implied.push(Slot {
                            name_start: slot.name_start,
                            len_flags: dir.len() as u32 | DIR,
                            item: NO_ITEM,
                        });
                    }
                }
                known.push(dir);
            }
        }
        drop(known);
        drop(missing);
        if !implied.is_empty() {
            if u32::try_from(slots.len() + implied.len()).is_err() {
                return Err(ArchiveError::TooManyEntries {
                    archive: archive.to_owned(),
                    count: (slots.len() + implied.len()) as u64,
                    limit: u64::from(u32::MAX),
                });
            }
            // Merged in place from the back, not sorted again: the implied directories
            // are few, and sorting them alone keeps both lists sorted.
            implied.sort_unstable_by(|a, b| a.name(&names).cmp(b.name(&names)));
            merge_sorted(&mut slots, &implied, &names);
        }
        drop(implied);
        slots.shrink_to_fit();

        let warnings = case_collisions(archive, &names, &slots, strict)?;
        let names = share_directory_names(names, &mut slots);

        // Children in two flat arrays: count each parent's children, then place them.
        let n = slots.len();
        let mut parents: Vec<u32> = Vec::with_capacity(n);
        let mut child_start = vec![0u32; n + 2];
        for slot in &slots {
            let parent = parent_of(slot.name(&names));
            let p = if parent.is_empty() {
                n
            } else {
                match slots.binary_search_by(|x| x.name(&names).cmp(parent)) {
                    Ok(p) => p,
                    // Cannot happen: every parent was added above. Keep it off the tree.
                    Err(_) => n + 1,
                }
            };
            parents.push(p as u32);
            if let Some(c) = child_start.get_mut(p) {
                *c += 1;
            }
        }
        let mut total = 0u32;
        for c in child_start.iter_mut() {
            let count = *c;
            *c = total;
            total += count;
        }
        let mut cursor = child_start.clone();
        let mut child_indices = vec![0u32; total as usize];
        for (i, &p) in parents.iter().enumerate() {
            if let Some(slot) = cursor.get_mut(p as usize) {
                if let Some(c) = child_indices.get_mut(*slot as usize) {
                    *c = i as u32;
                }
                *slot += 1;
            }
        }
        drop(parents);
        drop(cursor);

        // The files' sizes in name order, each file's slot pointing at its own; the
        // backend's handles go to the backend.
        let file_count = slots.iter().filter(|s| !s.is_dir()).count();
        let mut files = Vec::with_capacity(file_count);
        let mut file_sources = Vec::with_capacity(file_count);
        for slot in &mut slots {
            if slot.is_dir() {
                slot.item = NO_ITEM;
            } else {
                files.push(sizes.get(slot.item as usize).copied().unwrap_or_default());
                file_sources.push(slot.item);
                // Fewer files than entries, whose count fits 32 bits.
                slot.item = (files.len() - 1) as u32;
            }
        }
        Ok(BuiltListing {
            listing: Listing {
                names,
                slots,
                files,
                child_start,
                child_indices,
            },
            warnings,
            file_sources,
        })
    }
}

/// A listing just built, with what the build found out for its backend.
#[derive(Debug)]
pub(crate) struct BuiltListing {
    pub listing: Listing,
    pub warnings: Vec<ArchiveWarning>,
    /// The backend's handle of every file (its place in the order of pushing), in
    /// the listing's order of files ([`Entry::file_index`]).
    pub file_sources: Vec<u32>,
}

/// Drops from the arena the names that other names hold already: a directory with
/// anything below it (stored by the archive, with or without its trailing `/`) points
/// at the start of the first name below it, as an implied directory does, and the
/// remaining names move down over the gaps, in place. At 311,034 entries (132,331 of
/// them directories) that is 24.4 MB of names -> 15.5 MB. `slots` is sorted by name.
fn share_directory_names(names: String, slots: &mut [Slot]) -> String {
    // The first entry below each directory: all names below `d` sort together, after
    // `d` itself, but not necessarily right after it (`d-x` sorts before `d/x`).
    let mut below: Vec<u32> = Vec::with_capacity(slots.len());
    let mut probe = String::new();
    for (i, slot) in slots.iter().enumerate() {
        let mut donor = NO_ITEM;
        if slot.is_dir() {
            probe.clear();
            probe.push_str(slot.name(&names));
            probe.push('/');
            let rest = slots.get(i + 1..).unwrap_or_default();
            let at = i + 1 + rest.partition_point(|s| s.name(&names) < probe.as_str());
            if slots
                .get(at)
                .is_some_and(|s| s.name(&names).starts_with(probe.as_str()))
            {
                donor = at as u32;
            }
        }
        below.push(donor);
    }
    // The names that keep their own bytes, in arena order: moved down in turn, each
    // lands at or before where it was, so no name is overwritten before it moves.
    let mut owners: Vec<u32> = (0..slots.len() as u32)
        .filter(|&i| below.get(i as usize) == Some(&NO_ITEM))
        .collect();
    owners.sort_unstable_by_key(|&i| slots.get(i as usize).map_or(0, |s| s.name_start));
    let mut bytes = names.into_bytes();
    let mut end = 0u32;
    for &i in &owners {
        if let Some(slot) = slots.get_mut(i as usize) {
            let start = slot.name_start as usize;
            bytes.copy_within(start..start + slot.name_len(), end as usize);
            slot.name_start = end;
            end += slot.name_len() as u32;
        }
    }
    drop(owners);
    bytes.truncate(end as usize);
    bytes.shrink_to_fit();
    // Backwards: the entry below a directory comes after it and is placed already.
    for i in (0..slots.len()).rev() {
        let donor = below.get(i).copied().unwrap_or(NO_ITEM);
        if let Some(start) = slots.get(donor as usize).map(|s| s.name_start) {
            if let Some(slot) = slots.get_mut(i) {
                slot.name_start = start;
            }
        }
    }
    // Whole names were moved, each valid UTF-8 on its own: so is their concatenation.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Merges `more` (sorted, no name in `slots`) into `slots` (sorted), in place: `slots`
/// grows by `more.len()` and is filled from the back.
fn merge_sorted(slots: &mut Vec<Slot>, more: &[Slot], names: &str) {
    let old = slots.len();
    let Some(&filler) = more.first() else {
        return;
    };
    slots.resize(old + more.len(), filler);
    let (mut i, mut j) = (old, more.len());
    for w in (0..slots.len()).rev() {
        let take_old = match (i.checked_sub(1), j.checked_sub(1)) {
            (Some(a), Some(b)) => match (slots.get(a), more.get(b)) {
                (Some(x), Some(y)) => x.name(names) > y.name(names),
                _ => false,
            },
            (Some(_), None) => true,
            (None, _) => false,
        };
        let next = if take_old {
            i -= 1;
            slots.get(i).copied()
        } else {
            match j.checked_sub(1) {
                Some(b) => {
                    j = b;
                    more.get(b).copied()
                }
                None => None,
            }
        };
        if let (Some(next), Some(place)) = (next, slots.get_mut(w)) {
            *place = next;
        }
        if j == 0 {
            // What is left of `slots` is already in place.
            break;
        }
    }
}

/// The name as a case-insensitive, normalization-insensitive file system compares it
/// (macOS's APFS and HFS+, Windows' NTFS): canonically decomposed, case-folded as
/// lowercase of uppercase (which folds `ſ` to `s`, the Kelvin sign to `k`, `ß` to
/// `ss`, final sigma to sigma), then composed (NFC). Normalization by ICU4X's
/// `icu_normalizer`, the Unicode Consortium's own implementation.
fn fold(name: &str) -> String {
    let nfd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd().normalize(name);
    let upper: String = nfd.chars().flat_map(char::to_uppercase).collect();
    let lower = upper.to_lowercase();
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc()
        .normalize(&lower)
        .into_owned()
}

/// Finds names that differ only in case. A collision is reported once, where it starts:
/// when directories `A` and `a` collide, `A/x` and `a/x` are not reported again.
fn case_collisions(
    archive: &str,
    names: &str,
    slots: &[Slot],
    strict: bool,
) -> Result<Vec<ArchiveWarning>, ArchiveError> {
    let mut warnings = Vec::new();
    // The first entry of each folded name, by a hash of it; a hash shared by two
    // different folded names (never seen in practice) keeps the later ones in `exact`.
    let mut seen: HashMap<u64, u32, BuildHasherDefault<Prehashed>> =
        HashMap::with_capacity_and_hasher(slots.len(), BuildHasherDefault::default());
    let mut exact: HashMap<String, u32> = HashMap::new();
    let mut buf = Vec::new();
    let mut other = Vec::new();
    let name_at = |j: u32| slots.get(j as usize).map(|s| s.name(names));
    for (i, slot) in slots.iter().enumerate() {
        let name = slot.name(names);
        let folded = folded_bytes(name, &mut buf);
        let hash = hash_folded(folded);
        let first = match seen.get(&hash).and_then(|&j| name_at(j)) {
            Some(first) if folded_bytes(first, &mut other) == folded => Some(first),
            Some(_) => {
                let key = String::from_utf8_lossy(folded).into_owned();
                match exact.get(&key).and_then(|&j| name_at(j)) {
                    Some(first) => Some(first),
                    None => {
                        exact.insert(key, i as u32);
                        None
                    }
                }
            }
            None => {
                seen.insert(hash, i as u32);
                None
            }
        };
        if let Some(first) = first {
            if parent_of(first) == parent_of(name) {
                if strict {
                    return Err(ArchiveError::CaseCollision {
                        archive: archive.to_owned(),
                        first: first.to_owned(),
                        second: name.to_owned(),
                    });
                }
                warnings.push(ArchiveWarning::CaseCollision {
                    first: first.to_owned(),
                    second: name.to_owned(),
                });
            }
        }
    }
    Ok(warnings)
}

/// A 64-bit hash of a folded name: FNV-1a with a final mix (the map keyed by it
/// takes the hash as it is, [`Prehashed`]). Names that share a hash are told apart by
/// comparing them, so the hash only needs to spread well, not resist an attacker: a
/// zip full of colliding names costs comparisons, never a wrong answer.
fn hash_folded(folded: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in folded {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64's finalizer: every input bit reaches the high bits the map uses.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A hasher for keys that are hashes already: it hands the `u64` on.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// [`fold`] of `name` as bytes, in `buf`: ASCII names are only lowercased (which is
/// what folding does to them), without the normalizer.
fn folded_bytes<'b>(name: &str, buf: &'b mut Vec<u8>) -> &'b [u8] {
    buf.clear();
    if name.is_ascii() {
        buf.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
    } else {
        buf.extend_from_slice(fold(name).as_bytes());
    }
    buf
}

/// The children of one directory, in name order.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    listing: &'a Listing,
    indices: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for Children<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let i = *self.indices.next()?;
        self.listing.entry_at(i as usize)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.indices.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(names: &[&str]) -> RawEntries {
        let mut raw = RawEntries::with_capacity(names.len());
        for n in names {
            raw.push(n, false, n.len() as u64, 1);
        }
        raw
    }

    fn names(listing: &Listing) -> Vec<String> {
        listing
            .entries()
            .iter()
            .map(|e| {
                let mark = match (e.is_dir(), e.is_explicit()) {
                    (true, true) => "/",
                    (true, false) => "/ (implied)",
                    (false, _) => "",
                };
                format!("{}{mark}", e.name())
            })
            .collect()
    }

    #[test]
    fn implied_directories_and_sorted_children() {
        let (listing, warnings) = Listing::build(
            "p.zip",
            raw(&[
                "jcr_root/b.txt",
                "META-INF/vault/filter.xml",
                "jcr_root/a/",
                "jcr_root/a.b",
            ]),
            false,
        )
        .unwrap();
        assert!(warnings.is_empty());
        insta::assert_debug_snapshot!(names(&listing), @r#"
        [
            "META-INF/ (implied)",
            "META-INF/vault/ (implied)",
            "META-INF/vault/filter.xml",
            "jcr_root/ (implied)",
            "jcr_root/a/",
            "jcr_root/a.b",
            "jcr_root/b.txt",
        ]
        "#);
        let children: Vec<&str> = listing
            .children("jcr_root")
            .unwrap()
            .map(Entry::file_name)
            .collect();
        assert_eq!(children, ["a", "a.b", "b.txt"]);
        let top: Vec<&str> = listing.children("").unwrap().map(Entry::name).collect();
        assert_eq!(top, ["META-INF", "jcr_root"]);
        assert!(listing.children("jcr_root/b.txt").is_none());
        assert!(listing.children("nope").is_none());
        assert!(listing.is_dir("jcr_root/"));
        assert!(listing.is_dir(""));
        assert!(!listing.is_dir("jcr_root/b.txt"));
        assert_eq!(listing.get("jcr_root/b.txt").map(Entry::size), Some(14));
        assert_eq!(listing.children("jcr_root/a").map(|c| c.count()), Some(0));
    }

    #[test]
    fn stored_directories_share_the_names_below_them() {
        // Stored in an order the sort changes, with names that sort between a
        // directory and what is below it (`a/b-x`, `a/b.y`): every directory with
        // something below it, stored or implied, costs no name bytes.
        let input = [
            "a/b/d/e", "a/b/", "a/", "a/b-x", "a/b.y/", "a/b/c", "q/", "a/b/d/",
        ];
        let (listing, _) = Listing::build("p.zip", raw(&input), false).unwrap();
        assert_eq!(listing.names.len(), "a/b/d/ea/b-xa/b.ya/b/cq".len());
        let all: Vec<(&str, bool, bool)> = listing
            .entries()
            .iter()
            .map(|e| (e.name(), e.is_dir(), e.is_explicit()))
            .collect();
        assert_eq!(
            all,
            [
                ("a", true, true),
                ("a/b", true, true),
                ("a/b-x", false, true),
                ("a/b.y", true, true),
                ("a/b/c", false, true),
                ("a/b/d", true, true),
                ("a/b/d/e", false, true),
                ("q", true, true),
            ]
        );
        let below_b: Vec<&str> = listing.children("a/b").unwrap().map(Entry::name).collect();
        assert_eq!(below_b, ["a/b/c", "a/b/d"]);
        // Files are numbered in name order; directories have no number.
        assert_eq!(listing.get("a/b/d/").map(Entry::file_index), Some(None));
        assert_eq!(listing.get("a/b/d/e").map(Entry::file_index), Some(Some(2)));
    }

    #[test]
    fn implied_directories_between_names_that_sort_inside_them() {
        // `-` and `.` sort before `/`, `0` after: the names below `a/b` are not
        // all next to each other in a plain sort of the raw names.
        let (listing, _) = Listing::build(
            "p.zip",
            raw(&["a/b0", "a/b/c", "a/b-x", "a/b.y/z", "a/b/d/e", "q/r/s/t"]),
            false,
        )
        .unwrap();
        insta::assert_debug_snapshot!(names(&listing), @r#"
        [
            "a/ (implied)",
            "a/b/ (implied)",
            "a/b-x",
            "a/b.y/ (implied)",
            "a/b.y/z",
            "a/b/c",
            "a/b/d/ (implied)",
            "a/b/d/e",
            "a/b0",
            "q/ (implied)",
            "q/r/ (implied)",
            "q/r/s/ (implied)",
            "q/r/s/t",
        ]
        "#);
        let children: Vec<&str> = listing.children("a/b").unwrap().map(Entry::name).collect();
        assert_eq!(children, ["a/b/c", "a/b/d"]);
        let top: Vec<&str> = listing.children("").unwrap().map(Entry::name).collect();
        assert_eq!(top, ["a", "q"]);
        let e = Listing::build("p.zip", raw(&["x/y", "x/y/z/w"]), false).unwrap_err();
        assert_eq!(e.to_string(), "p.zip: `x/y` is both a file and a directory");
    }

    #[test]
    fn the_listing_is_one_arena_and_fixed_records() {
        // 12 bytes a record beside the name, 16 more for a file's sizes; an implied
        // directory adds no name bytes (its name is a prefix of the one below it),
        // and an empty directory keeps its name without the trailing `/`.
        assert_eq!(std::mem::size_of::<Slot>(), 12);
        assert_eq!(std::mem::size_of::<FileSizes>(), 16);
        let input = ["z", "a/b/c/d.txt", "a/b/e/"];
        let built =
            Listing::build_limited("p.zip", raw(&input), false, &Default::default()).unwrap();
        // The backend's handles of the files, in name order.
        assert_eq!(built.file_sources, [1, 0]);
        let listing = built.listing;
        assert_eq!(listing.names, "za/b/c/d.txta/b/e");
        assert_eq!(listing.len(), 6);
        let entries = listing.entries();
        let all: Vec<(&str, bool, bool, Option<usize>)> = entries
            .iter()
            .map(|e| (e.name(), e.is_dir(), e.is_explicit(), e.file_index()))
            .collect();
        assert_eq!(
            all,
            [
                ("a", true, false, None),
                ("a/b", true, false, None),
                ("a/b/c", true, false, None),
                ("a/b/c/d.txt", false, true, Some(0)),
                ("a/b/e", true, true, None),
                ("z", false, true, Some(1)),
            ]
        );
        assert_eq!(entries.get(4).map(Entry::size), Some(0));
        assert_eq!(entries.get(3).map(Entry::size), Some(11));
        assert_eq!(entries.binary_search_by(|e| e.name().cmp("a/b/e")), Ok(4));
        assert_eq!(entries.iter().rev().map(Entry::name).next(), Some("z"));
        assert_eq!(entries.get(5).map(Entry::compressed_size), Some(1));
        assert_eq!(
            listing.heap_bytes(),
            listing.names.len() + 6 * 12 + 2 * 16 + 4 * 14
        );
    }

    #[test]
    fn duplicates_and_conflicts_are_refused_with_the_name() {
        let e = Listing::build("p.zip", raw(&["a/x", "b", "a/x"]), false).unwrap_err();
        assert_eq!(e.to_string(), "p.zip: entry `a/x` occurs more than once");
        let e = Listing::build("p.zip", raw(&["a/", "a"]), false).unwrap_err();
        assert!(matches!(e, ArchiveError::DuplicateEntry { ref entry, .. } if entry == "a"));
        let e = Listing::build("p.zip", raw(&["a", "a/b"]), false).unwrap_err();
        assert_eq!(e.to_string(), "p.zip: `a` is both a file and a directory");
        let e = Listing::build("p.zip", raw(&["x/../y"]), false).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("p.zip: entry `x/../y` is refused"));
    }

    #[test]
    fn case_collisions_warn_once_or_fail_when_strict() {
        let input = raw(&["jcr_root/A/x", "jcr_root/a/x", "jcr_root/b", "jcr_root/B"]);
        let (_, warnings) = Listing::build("p.zip", input.clone(), false).unwrap();
        assert_eq!(
            warnings,
            [
                ArchiveWarning::CaseCollision {
                    first: "jcr_root/A".into(),
                    second: "jcr_root/a".into()
                },
                ArchiveWarning::CaseCollision {
                    first: "jcr_root/B".into(),
                    second: "jcr_root/b".into()
                },
            ]
        );
        let e = Listing::build("p.zip", input, true).unwrap_err();
        // Equal under Unicode normalization or full case folding: one file on macOS
        // and Windows.
        for (a, b) in [
            ("jcr_root/caf\u{e9}", "jcr_root/cafe\u{301}"),
            ("jcr_root/\u{17f}ite", "jcr_root/site"),
            ("jcr_root/\u{212a}elvin", "jcr_root/kelvin"),
            ("jcr_root/stra\u{df}e", "jcr_root/STRASSE"),
        ] {
            let (_, w) = Listing::build("p.zip", raw(&[a, b]), false).unwrap();
            assert_eq!(w.len(), 1, "{a} and {b}: {w:?}");
        }
        assert_eq!(
            e.to_string(),
            "p.zip: entries `jcr_root/A` and `jcr_root/a` differ only in case or Unicode \
             normalization; they would overwrite each other on a case-insensitive file system"
        );
    }
}
