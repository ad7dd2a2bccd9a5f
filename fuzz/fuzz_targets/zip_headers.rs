//! Zips that mean two things: any bytes written to a file and opened. When
//! `archive::open` accepts them, a reference reading of the same bytes, independent
//! of jcrpack's check (the zip crate's central directory, local headers parsed here),
//! must agree: every entry's local header has the central directory's name, method,
//! and, unless a data descriptor defers them, CRC-32 and sizes; and no entry's header
//! or data starts inside another entry's. Every entry is then read to its end, which
//! may fail (a bad CRC) but never panic.
#![no_main]
use jcrpack::archive::{self, Limits, ReadOptions};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(data).expect("write temp file");
    file.flush().expect("flush temp file");
    let limits = Limits::default()
        .with_max_total_uncompressed(16 << 20)
        .with_max_entries(10_000);
    let options = ReadOptions::default().with_limits(limits);
    let Ok(opened) = archive::open(file.path(), &options) else {
        return;
    };
    // The reference reading.
    let mut central = zip::ZipArchive::new(std::io::Cursor::new(data))
        .expect("jcrpack opened a zip the zip crate cannot read");
    let mut ranges = Vec::new();
    for i in 0..central.len() {
        let e = central.by_index_raw(i).expect("central record");
        let start = e.header_start() as usize;
        let local = data.get(start..start + 30).expect("local header inside the file");
        assert_eq!(&local[..4], b"PK\x03\x04", "local header signature");
        let flags = u16_at(local, 6).unwrap();
        let name_len = u16_at(local, 26).unwrap() as usize;
        let extra_len = u16_at(local, 28).unwrap() as usize;
        let name = data
            .get(start + 30..start + 30 + name_len)
            .expect("local name inside the file");
        assert_eq!(name, e.name_raw(), "local and central names differ");
        let deferred = flags & 8 != 0;
        let crc = u32_at(local, 14).unwrap();
        assert!(crc == e.crc32() || (deferred && crc == 0), "CRC-32 differs");
        let (c32, s32) = (u32_at(local, 18).unwrap(), u32_at(local, 22).unwrap());
        if c32 != u32::MAX {
            assert!(
                u64::from(c32) == e.compressed_size() || (deferred && c32 == 0),
                "compressed sizes differ"
            );
        }
        if s32 != u32::MAX {
            assert!(
                u64::from(s32) == e.size() || (deferred && s32 == 0),
                "sizes differ"
            );
        }
        let data_start = (start + 30 + name_len + extra_len) as u64;
        ranges.push((
            start as u64,
            data_start + e.compressed_size(),
            String::from_utf8_lossy(e.name_raw()).into_owned(),
        ));
    }
    ranges.sort();
    for pair in ranges.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "entries {:?} and {:?} share bytes",
            pair[0].2,
            pair[1].2
        );
    }
    let names: Vec<String> = opened
        .entries()
        .iter()
        .filter(|e| !opened.is_dir(e.name()))
        .map(|e| e.name().to_owned())
        .collect();
    for name in names {
        if let Ok(mut reader) = opened.open(&name) {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        }
    }
});
