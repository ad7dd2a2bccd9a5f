//! Zip archives: any bytes written to a file, opened, listed, and every file entry
//! read to the end (small limits keep a bomb cheap).
#![no_main]
use jcrpack::archive::{self, Limits, ReadOptions};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(data).expect("write temp file");
    file.flush().expect("flush temp file");
    let limits = Limits::default()
        .with_max_total_uncompressed(16 << 20)
        .with_max_entries(10_000);
    for strict in [false, true] {
        let options = ReadOptions::default().with_limits(limits).with_strict(strict);
        let Ok(archive) = archive::open(file.path(), &options) else {
            continue;
        };
        let _ = archive.warnings();
        let names: Vec<(String, bool)> = archive
            .entries()
            .iter()
            .map(|e| (e.name().to_owned(), archive.is_dir(e.name())))
            .collect();
        for (name, is_dir) in names {
            if is_dir {
                let _ = archive.children(&name);
                continue;
            }
            if let Ok(mut reader) = archive.open(&name) {
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
            }
        }
    }
});
