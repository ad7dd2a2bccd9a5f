//! The tree of entry names every archive presents: files and directories, sorted.
//!
//! A zip lists files and, optionally, directory entries; a folder lists both. Either way
//! the archive builds one [`Listing`]: every name checked by
//! [`check_entry_name`](super::check_entry_name), duplicates refused, directories that
//! are only implied by file paths added, and each directory's children collected in name
//! order. The checks that need all names at once live here: duplicates, a name used as
//! both file and directory, and names that differ only in case.
//!
//! Memory: a listing holds each name once (as the entry's own `Box<str>`), and the
//! children of every directory in two flat arrays (offsets and indices), so that it
//! costs a fixed few dozen bytes an entry beside the names. Building it needs no map
//! keyed by name: implied directories are found by walking the sorted names with a
//! stack of the current ancestors (all names below a directory sort together), and
//! case collisions by a map from a 64-bit hash of the folded name to the first index.

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

/// One name in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    name: Box<str>,
    kind: EntryKind,
    explicit: bool,
    size: u64,
    compressed_size: u64,
    /// The backend's handle: index in the zip's central directory. `usize::MAX` for
    /// implied directories.
    pub(crate) source: usize,
}

impl Entry {
    /// The full name, `/`-separated, without a trailing `/` (`jcr_root/content`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last segment of the name (`content` for `jcr_root/content`).
    pub fn file_name(&self) -> &str {
        last_segment(&self.name)
    }

    /// The name of the directory holding this entry (`""` at the top).
    pub fn parent(&self) -> &str {
        parent_of(&self.name)
    }

    /// File or directory.
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Directory
    }

    /// True for a file.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// True when the archive stores this entry itself; false for a directory that only
    /// the paths of its children imply.
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// The size in bytes once read (uncompressed), as the archive declares it; 0 for
    /// directories. Reading checks the declaration.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes the entry occupies in the archive: the compressed size in a zip, the
    /// file size in a folder.
    pub fn compressed_size(&self) -> u64 {
        self.compressed_size
    }
}

/// An entry as a backend found it, before the checks.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    /// The name as stored, possibly with a trailing `/`.
    pub name: String,
    /// True when the backend knows it is a directory (a trailing `/` also says so).
    pub is_dir: bool,
    pub size: u64,
    pub compressed_size: u64,
    pub source: usize,
}

/// All entries of an archive, sorted by name, with each directory's children.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    entries: Vec<Entry>,
    /// Where the children of entry `i` start in `child_indices`: they are
    /// `child_indices[child_start[i]..child_start[i + 1]]`; slot `entries.len()` is
    /// the archive root (the top-level entries).
    child_start: Vec<u32>,
    /// The children of every directory, directory after directory, each in name order.
    child_indices: Vec<u32>,
}

impl Listing {
    /// Every entry, files and directories, sorted by name (byte order of the UTF-8
    /// name, which is code point order).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The files only, sorted by name.
    pub fn files(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.entries.iter().filter(|e| e.is_file())
    }

    /// The number of entries, directories included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the archive has no entries at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        let name = name.strip_suffix('/').unwrap_or(name);
        self.entries.binary_search_by(|e| (*e.name).cmp(name)).ok()
    }

    /// The children of slot `i` (an entry index, or `entries.len()` for the root).
    fn children_of(&self, i: usize) -> &[u32] {
        let start = self.child_start.get(i).copied().unwrap_or(0) as usize;
        let end = self.child_start.get(i + 1).copied().unwrap_or(0) as usize;
        self.child_indices.get(start..end).unwrap_or(&[])
    }

    /// The entry of that name (a trailing `/` is ignored), or `None`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.index_of(name).and_then(|i| self.entries.get(i))
    }

    /// True when `name` is a directory; `""` (the archive root) is one.
    pub fn is_dir(&self, name: &str) -> bool {
        name.is_empty() || name == "/" || self.get(name).is_some_and(Entry::is_dir)
    }

    /// The entries directly inside directory `dir`, sorted by name; `""` lists the top
    /// level. `None` when `dir` does not exist or is a file.
    pub fn children(&self, dir: &str) -> Option<Children<'_>> {
        let indices = if dir.is_empty() || dir == "/" {
            self.children_of(self.entries.len())
        } else {
            let i = self.index_of(dir)?;
            if !self.entries.get(i)?.is_dir() {
                return None;
            }
            self.children_of(i)
        };
        Some(Children {
            listing: self,
            indices: indices.iter(),
        })
    }

    /// Checks and sorts the raw entries of archive `archive`, adds implied directories
    /// and links children to parents. Case collisions are errors when `strict`, else
    /// warnings.
    #[cfg(test)]
    pub(crate) fn build(
        archive: &str,
        raw: Vec<RawEntry>,
        strict: bool,
    ) -> Result<(Listing, Vec<ArchiveWarning>), ArchiveError> {
        Listing::build_limited(archive, raw, strict, &super::Limits::default())
    }

    /// [`Listing::build`] within `limits`' depth and name-bytes limits: a deep name is
    /// refused before the folders it implies are made.
    pub(crate) fn build_limited(
        archive: &str,
        raw: Vec<RawEntry>,
        strict: bool,
        limits: &super::Limits,
    ) -> Result<(Listing, Vec<ArchiveWarning>), ArchiveError> {
        let mut name_bytes = 0u64;
        let too_long = |entry: &str| ArchiveError::NamesTooLong {
            archive: archive.to_owned(),
            entry: super::limits::shorten(entry),
            limit: limits.max_name_bytes(),
        };
        // Collected in place: the entries take over the raw entries' buffer (an entry
        // is no larger than a raw one), so the two arrays are never held side by side.
        let mut entries: Vec<Entry> = raw
            .into_iter()
            .map(|r| {
                limits.check_depth(archive, &r.name)?;
                name_bytes += r.name.len() as u64;
                if name_bytes > limits.max_name_bytes() {
                    return Err(too_long(&r.name));
                }
                let (bare, slash) =
                    check_entry_name(&r.name).map_err(|problem| ArchiveError::UnsafeName {
                        archive: archive.to_owned(),
                        entry: r.name.clone(),
                        problem,
                    })?;
                let is_dir = slash || r.is_dir;
                // The backend's string becomes the entry's own when nothing is cut from
                // it (a file's name): one allocation a name, not two.
                let bare_len = bare.len();
                let mut owned = r.name;
                owned.truncate(bare_len);
                Ok(Entry {
                    name: owned.into_boxed_str(),
                    kind: if is_dir {
                        EntryKind::Directory
                    } else {
                        EntryKind::File
                    },
                    explicit: true,
                    size: if is_dir { 0 } else { r.size },
                    compressed_size: if is_dir { 0 } else { r.compressed_size },
                    source: r.source,
                })
            })
            .collect::<Result<_, ArchiveError>>()?;
        entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for pair in entries.windows(2) {
            if let [a, b] = pair {
                if a.name == b.name {
                    return Err(ArchiveError::DuplicateEntry {
                        archive: archive.to_owned(),
                        entry: a.name.to_string(),
                    });
                }
            }
        }
        if u32::try_from(entries.len()).is_err() {
            return Err(ArchiveError::TooManyEntries {
                archive: archive.to_owned(),
                count: entries.len() as u64,
                limit: u64::from(u32::MAX),
            });
        }

        // Add the directories that only file paths imply, and refuse names used both as
        // a file and as a directory. All names below a directory sort together (after
        // the directory's own name, before anything else), so the ancestors of the
        // previous name, kept on a stack, are all that is known to exist already.
        let mut implied: Vec<String> = Vec::new();
        let mut known: Vec<String> = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        for e in &entries {
            let name: &str = &e.name;
            while known.last().is_some_and(|k| {
                !(name.starts_with(k.as_str()) && name.as_bytes().get(k.len()) == Some(&b'/'))
            }) {
                known.pop();
            }
            let top = known.last().map_or(0, String::len);
            missing.clear();
            let mut dir = parent_of(name);
            while dir.len() > top {
                missing.push(dir);
                dir = parent_of(dir);
            }
            for &dir in missing.iter().rev() {
                match entries.binary_search_by(|x| (*x.name).cmp(dir)) {
                    Ok(i) if entries.get(i).is_some_and(Entry::is_file) => {
                        return Err(ArchiveError::FileDirectoryConflict {
                            archive: archive.to_owned(),
                            entry: dir.to_owned(),
                        });
                    }
                    Ok(_) => {}
                    Err(_) => {
                        name_bytes += dir.len() as u64;
                        if name_bytes > limits.max_name_bytes() {
                            return Err(too_long(name));
                        }
                        implied.push(dir.to_owned());
                    }
                }
                known.push(dir.to_owned());
            }
        }
        drop(known);
        if !implied.is_empty() {
            if u32::try_from(entries.len() + implied.len()).is_err() {
                return Err(ArchiveError::TooManyEntries {
                    archive: archive.to_owned(),
                    count: (entries.len() + implied.len()) as u64,
                    limit: u64::from(u32::MAX),
                });
            }
            // Merged in, not sorted again: the implied directories are few, and sorting
            // them alone keeps both lists sorted.
            implied.sort_unstable();
            let mut implied = implied
                .into_iter()
                .map(|dir| Entry {
                    name: dir.into(),
                    kind: EntryKind::Directory,
                    explicit: false,
                    size: 0,
                    compressed_size: 0,
                    source: usize::MAX,
                })
                .peekable();
            let explicit = std::mem::take(&mut entries);
            entries = Vec::with_capacity(explicit.len() + implied.len());
            for e in explicit {
                while let Some(dir) = implied.next_if(|d| d.name < e.name) {
                    entries.push(dir);
                }
                entries.push(e);
            }
            entries.extend(implied);
        }
        entries.shrink_to_fit();

        let warnings = case_collisions(archive, &entries, strict)?;

        // Children in two flat arrays: count each parent's children, then place them.
        let n = entries.len();
        let mut parents: Vec<u32> = Vec::with_capacity(n);
        let mut child_start = vec![0u32; n + 2];
        for e in &entries {
            let parent = parent_of(&e.name);
            let p = if parent.is_empty() {
                n
            } else {
                match entries.binary_search_by(|x| (*x.name).cmp(parent)) {
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
        Ok((
            Listing {
                entries,
                child_start,
                child_indices,
            },
            warnings,
        ))
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
    entries: &[Entry],
    strict: bool,
) -> Result<Vec<ArchiveWarning>, ArchiveError> {
    let mut warnings = Vec::new();
    // The first entry of each folded name, by a hash of it; a hash shared by two
    // different folded names (never seen in practice) keeps the later ones in `exact`.
    let mut seen: HashMap<u64, u32, BuildHasherDefault<Prehashed>> =
        HashMap::with_capacity_and_hasher(entries.len(), BuildHasherDefault::default());
    let mut exact: HashMap<String, u32> = HashMap::new();
    let mut buf = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let folded = folded_bytes(&e.name, &mut buf);
        let hash = hash_folded(folded);
        let first = match seen.get(&hash).and_then(|&j| entries.get(j as usize)) {
            Some(first) if folded_bytes(&first.name, &mut Vec::new()) == folded => Some(first),
            Some(_) => {
                let key = String::from_utf8_lossy(folded).into_owned();
                match exact.get(&key).and_then(|&j| entries.get(j as usize)) {
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
            if first.parent() == e.parent() {
                if strict {
                    return Err(ArchiveError::CaseCollision {
                        archive: archive.to_owned(),
                        first: first.name.to_string(),
                        second: e.name.to_string(),
                    });
                }
                warnings.push(ArchiveWarning::CaseCollision {
                    first: first.name.to_string(),
                    second: e.name.to_string(),
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
    type Item = &'a Entry;

    fn next(&mut self) -> Option<&'a Entry> {
        let i = *self.indices.next()?;
        self.listing.entries.get(i as usize)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.indices.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(names: &[&str]) -> Vec<RawEntry> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| RawEntry {
                name: n.to_string(),
                is_dir: false,
                size: n.len() as u64,
                compressed_size: 1,
                source: i,
            })
            .collect()
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
