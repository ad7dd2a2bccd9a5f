//! One meaning per zip: the local headers agree with the central directory, and no two
//! entries share bytes.
//!
//! A zip says everything twice: once in the central directory at the end (what
//! jcrpack, FileVault's `ZipFile` and most tools read) and once in a local header
//! before each entry's data (what streaming readers such as `ZipInputStream`, `unzip
//! -` or a browser's download scanner read). A hostile zip makes the two disagree on
//! an entry's name, method, flags, CRC or sizes, so that a reviewer's tool and the
//! installer see different packages. And a hostile central directory can point many
//! entries into the same bytes (David Fifield's non-recursive zip bomb, "A better zip
//! bomb", 2019: a few kilobytes of shared deflate data that inflate to gigabytes,
//! read once per entry), which no honest writer produces.
//!
//! [`check`] runs once, when a zip is opened: it reads every local header in file
//! order (one sequential pass, a few dozen bytes an entry), compares it with the
//! central directory record, and refuses any entry whose header or data starts before
//! the previous entry's data has ended. It returns where each entry's data starts, so
//! reading an entry needs no second look at its header.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::error::ArchiveError;

/// What the central directory says about one entry, as [`check`] compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CentralRecord<'a> {
    /// The name's bytes as stored.
    pub name: &'a [u8],
    /// The offset of the local header.
    pub header_start: u64,
    /// General purpose flags.
    pub flags: u16,
    /// Compression method.
    pub method: u16,
    /// CRC-32 of the inflated data.
    pub crc32: u32,
    /// Stored bytes.
    pub compressed_size: u64,
    /// Inflated bytes.
    pub size: u64,
}

/// Flag bit 3: CRC and sizes follow the data in a data descriptor, and the local
/// header may hold zeros instead.
const DATA_DESCRIPTOR: u16 = 1 << 3;

/// Checks every entry's local header against its central record and that no entry's
/// header or data overlaps another's or the central directory (which starts at
/// `central_start`). Returns, per record (same order), where its data starts.
///
/// Errors name the entry: [`ArchiveError::Ambiguous`].
///
/// The records are the `count` that `record_at` gives by index, made as they are
/// compared: nothing is held per entry but its place in file order and the result.
pub(crate) fn check<'r>(
    file: &File,
    archive: &str,
    file_len: u64,
    central_start: u64,
    count: usize,
    record_at: &dyn Fn(usize) -> CentralRecord<'r>,
) -> Result<Vec<u64>, ArchiveError> {
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&i| record_at(i).header_start);
    let mut data_starts = vec![0u64; count];
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut position = 0u64;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| io_error(archive, e))?;
    // The entry whose data ends last so far, and where.
    let mut previous: Option<(usize, u64)> = None;
    for index in order {
        let record = &record_at(index);
        let refuse = |reason: String| ArchiveError::Ambiguous {
            archive: archive.to_owned(),
            entry: String::from_utf8_lossy(record.name).into_owned(),
            reason,
        };
        if let Some((before, end)) = previous {
            if record.header_start < end {
                return Err(refuse(format!(
                    "its local header at offset {} lies inside entry `{}` (which ends at \
                     offset {end}): entries that share bytes are a zip bomb or a zip that \
                     means two things",
                    record.header_start,
                    String::from_utf8_lossy(record_at(before).name).escape_debug()
                )));
            }
        }
        if record.header_start.saturating_add(30) > central_start.min(file_len) {
            return Err(refuse(format!(
                "its local header at offset {} is not before the central directory \
                 (offset {central_start})",
                record.header_start
            )));
        }
        // Sequential reads: skip forward within the buffer, seek otherwise.
        let skip = record.header_start - position;
        if skip > 0 {
            let skip = i64::try_from(skip).map_err(|_| refuse("offset too large".into()))?;
            reader
                .seek_relative(skip)
                .map_err(|e| io_error(archive, e))?;
        }
        let mut fixed = [0u8; 30];
        reader
            .read_exact(&mut fixed)
            .map_err(|e| refuse(format!("cannot read its local header: {e}")))?;
        if fixed[..4] != [0x50, 0x4b, 0x03, 0x04] {
            return Err(refuse(format!(
                "there is no local file header at offset {}, where the central directory \
                 says it is",
                record.header_start
            )));
        }
        let field16 = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]);
        let field32 = |at: usize| {
            u32::from_le_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]])
        };
        let flags = field16(6);
        let method = field16(8);
        let crc32 = field32(14);
        let compressed32 = field32(18);
        let size32 = field32(22);
        let name_len = usize::from(field16(26));
        let extra_len = usize::from(field16(28));
        let mut variable = vec![0u8; name_len + extra_len];
        reader
            .read_exact(&mut variable)
            .map_err(|e| refuse(format!("cannot read its local header: {e}")))?;
        position = record.header_start + 30 + variable.len() as u64;
        let (name, extra) = variable.split_at(name_len);
        let disagree = |what: &str, local: String, central: String| {
            refuse(format!(
                "its local header gives {what} {local} but the central directory gives \
                 {central}: zip tools that read one or the other see different packages"
            ))
        };
        if name != record.name {
            return Err(disagree(
                "the name",
                format!("`{}`", String::from_utf8_lossy(name).escape_debug()),
                format!("`{}`", String::from_utf8_lossy(record.name).escape_debug()),
            ));
        }
        if method != record.method {
            return Err(disagree(
                "compression method",
                method.to_string(),
                record.method.to_string(),
            ));
        }
        if flags != record.flags {
            return Err(disagree(
                "the flags",
                format!("{flags:#06x}"),
                format!("{:#06x}", record.flags),
            ));
        }
        // With a data descriptor (flag bit 3) the local header may leave CRC and
        // sizes zero; the data descriptor itself is not compared.
        let deferred = flags & DATA_DESCRIPTOR != 0;
        if !(deferred && crc32 == 0) && crc32 != record.crc32 {
            return Err(disagree(
                "CRC-32",
                format!("{crc32:08x}"),
                format!("{:08x}", record.crc32),
            ));
        }
        let (compressed, size) = local_sizes(compressed32, size32, extra);
        // Each may be zero there on its own (macOS's Archive Utility fills in the
        // uncompressed size only).
        if !(deferred && compressed == Some(0)) && compressed != Some(record.compressed_size) {
            return Err(disagree(
                "a compressed size of",
                shown(compressed),
                record.compressed_size.to_string(),
            ));
        }
        if !(deferred && size == Some(0)) && size != Some(record.size) {
            return Err(disagree("a size of", shown(size), record.size.to_string()));
        }
        let data_start = position;
        let end = data_start
            .checked_add(record.compressed_size)
            .filter(|&end| end <= central_start && end <= file_len)
            .ok_or_else(|| {
                refuse(format!(
                    "its {} compressed bytes from offset {data_start} run into the central \
                     directory (offset {central_start}) or past the end of the file \
                     ({file_len} bytes)",
                    record.compressed_size
                ))
            })?;
        data_starts[index] = data_start;
        previous = Some((index, end));
    }
    Ok(data_starts)
}

/// The local header's compressed and uncompressed sizes: the 32-bit fields, or the
/// ZIP64 extra field's when a field is 0xFFFFFFFF (`None` when that extra is missing).
fn local_sizes(compressed32: u32, size32: u32, mut extra: &[u8]) -> (Option<u64>, Option<u64>) {
    if compressed32 != u32::MAX && size32 != u32::MAX {
        return (Some(compressed32.into()), Some(size32.into()));
    }
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let body = &extra[4..];
        if body.len() < len {
            break;
        }
        if id == 0x0001 {
            // In a local header the ZIP64 extra holds both sizes, uncompressed first,
            // whichever of the 32-bit fields overflowed.
            let mut fields = body[..len]
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
            let size = if size32 == u32::MAX {
                fields.next()
            } else {
                let _ = fields.next();
                Some(size32.into())
            };
            let compressed = if compressed32 == u32::MAX {
                fields.next()
            } else {
                Some(compressed32.into())
            };
            return (compressed, size);
        }
        extra = &body[len..];
    }
    let keep = |v: u32| (v != u32::MAX).then_some(u64::from(v));
    (keep(compressed32), keep(size32))
}

fn shown(value: Option<u64>) -> String {
    value.map_or_else(
        || "0xFFFFFFFF without a ZIP64 field".to_owned(),
        |v| v.to_string(),
    )
}

fn io_error(archive: &str, source: io::Error) -> ArchiveError {
    ArchiveError::Io {
        archive: archive.to_owned(),
        entry: None,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{Archive, ReadOptions, ZipArchive};
    use proptest::prelude::*;
    use std::io::Write;

    /// A zip of stored entries built by hand, with room to lie.
    #[derive(Debug, Clone)]
    struct Entry {
        name: Vec<u8>,
        data: Vec<u8>,
    }

    /// What to change in the bytes after building.
    #[derive(Debug, Clone, Copy)]
    enum Lie {
        None,
        /// Local header field at this offset of the fixed part (6 flags, 8 method,
        /// 14 CRC, 18 compressed size, 22 size) of entry `n`, xor `mask`.
        Local {
            entry: usize,
            field: usize,
            mask: u8,
        },
        /// The local name's first byte of entry `n`, xor 1.
        LocalName {
            entry: usize,
        },
        /// Entry `n`'s central record points at entry `m`'s local header.
        Point {
            entry: usize,
            at: usize,
        },
    }

    fn build(entries: &[Entry], lie: Lie) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        let mut offsets = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let crc = crc32(&e.data);
            let offset = out.len() as u32;
            offsets.push(offset);
            let mut local = Vec::new();
            local.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
            local.extend_from_slice(&crc.to_le_bytes());
            local.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            local.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            local.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            local.extend_from_slice(&0u16.to_le_bytes());
            local.extend_from_slice(&e.name);
            match lie {
                Lie::Local { entry, field, mask } if entry == i => local[field] ^= mask,
                Lie::LocalName { entry } if entry == i => local[30] ^= 1,
                _ => {}
            }
            out.extend_from_slice(&local);
            out.extend_from_slice(&e.data);
        }
        for (i, e) in entries.iter().enumerate() {
            let offset = match lie {
                Lie::Point { entry, at } if entry == i => offsets[at],
                _ => offsets[i],
            };
            let target = match lie {
                Lie::Point { entry, at } if entry == i => &entries[at],
                _ => e,
            };
            let crc = crc32(&target.data);
            central.extend_from_slice(&[
                0x50, 0x4b, 0x01, 0x02, 0x1e, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0,
            ]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&(target.data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(target.data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(&e.name);
        }
        let cd_offset = out.len() as u32;
        let cd_len = central.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut c = flate2::Crc::new();
        c.update(data);
        c.sum()
    }

    fn open(bytes: &[u8]) -> Result<ZipArchive, ArchiveError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        ZipArchive::open(f.path(), &ReadOptions::default())
    }

    fn entries(n: usize) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry {
                name: format!("jcr_root/e{i}.txt").into_bytes(),
                data: format!("the data of entry {i}").into_bytes(),
            })
            .collect()
    }

    #[test]
    fn an_honest_zip_opens_and_reads() {
        let archive = open(&build(&entries(3), Lie::None)).unwrap();
        let mut text = String::new();
        archive
            .open("jcr_root/e1.txt")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "the data of entry 1");
    }

    #[test]
    fn each_disagreement_is_refused_naming_the_entry() {
        let cases = [
            (
                Lie::Local {
                    entry: 1,
                    field: 6,
                    mask: 8,
                },
                "the flags 0x0008",
            ),
            (
                Lie::Local {
                    entry: 1,
                    field: 8,
                    mask: 8,
                },
                "compression method 8",
            ),
            (
                Lie::Local {
                    entry: 1,
                    field: 14,
                    mask: 1,
                },
                "CRC-32",
            ),
            (
                Lie::Local {
                    entry: 1,
                    field: 18,
                    mask: 1,
                },
                "a compressed size of",
            ),
            (
                Lie::Local {
                    entry: 1,
                    field: 22,
                    mask: 1,
                },
                "a size of",
            ),
            (Lie::LocalName { entry: 1 }, "the name `kcr_root/e1.txt`"),
        ];
        for (lie, expected) in cases {
            let error = open(&build(&entries(3), lie)).unwrap_err();
            assert!(matches!(error, ArchiveError::Ambiguous { .. }), "{error:?}");
            let shown = error.to_string();
            assert!(
                shown.contains("entry `jcr_root/e1.txt` is refused"),
                "{shown}"
            );
            assert!(shown.contains(expected), "{lie:?}: {shown}");
        }
    }

    #[test]
    fn entries_that_share_bytes_are_refused_naming_both() {
        let error = open(&build(&entries(3), Lie::Point { entry: 2, at: 0 })).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("share bytes"), "{shown}");
        assert!(shown.contains("jcr_root/e0.txt"), "{shown}");
    }

    #[test]
    fn zip64_sizes_in_the_local_extra_field_are_read() {
        let mut extra = Vec::new();
        extra.extend_from_slice(&1u16.to_le_bytes());
        extra.extend_from_slice(&16u16.to_le_bytes());
        extra.extend_from_slice(&7u64.to_le_bytes());
        extra.extend_from_slice(&5u64.to_le_bytes());
        assert_eq!(local_sizes(u32::MAX, u32::MAX, &extra), (Some(5), Some(7)));
        assert_eq!(local_sizes(u32::MAX, u32::MAX, &[]), (None, None));
        assert_eq!(local_sizes(3, 4, &[]), (Some(3), Some(4)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The invariant the fuzz target `zip_headers` checks: a zip opens only when
        /// every local header agrees with its central record and no two entries share
        /// bytes, and one that opens reads every entry as the central directory says.
        #[test]
        fn a_zip_opens_only_when_it_means_one_thing(
            n in 1usize..6,
            pick in 0usize..6,
            kind in 0u8..4,
            field in prop::sample::select(vec![6usize, 8, 14, 18, 22]),
            mask in 1u8..=255,
        ) {
            let all = entries(n);
            let entry = pick % n;
            let lie = match kind {
                0 => Lie::None,
                1 => Lie::Local { entry, field, mask },
                2 => Lie::LocalName { entry },
                _ if n > 1 => Lie::Point { entry, at: (entry + 1) % n },
                _ => Lie::None,
            };
            let result = open(&build(&all, lie));
            match lie {
                Lie::None => {
                    let archive = result.unwrap();
                    for e in &all {
                        let name = String::from_utf8(e.name.clone()).unwrap();
                        let mut data = Vec::new();
                        archive.open(&name).unwrap().read_to_end(&mut data).unwrap();
                        prop_assert_eq!(&data, &e.data);
                    }
                }
                _ => {
                    let error = result.unwrap_err();
                    prop_assert!(matches!(error, ArchiveError::Ambiguous { .. }), "{:?}", error);
                }
            }
        }
    }
}
