//! Helpers the archive tests share: hostile zips made on the fly, reading everything.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use ::zip::write::SimpleFileOptions;
use ::zip::ZipWriter;

/// Writes a zip at `path` whose entries have exactly the names given, including names
/// the zip crate's writer would refuse or rewrite (`../x`, `a\b`, duplicates, NUL).
/// Each entry is written under a placeholder name of the same byte length, then the
/// placeholder bytes are replaced in the local and central headers.
pub(crate) fn hostile_zip(path: &Path, names: &[&str]) {
    let names: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
    hostile_zip_bytes(path, &names);
}

/// [`hostile_zip`] for names that need not be UTF-8.
pub(crate) fn hostile_zip_bytes(path: &Path, names: &[&[u8]]) {
    let placeholders: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            assert!(!name.is_empty() && i < 26);
            let mut p = String::from(char::from(b'A' + i as u8));
            while p.len() < name.len() {
                p.push('Q');
            }
            p
        })
        .collect();
    let mut w = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (i, p) in placeholders.iter().enumerate() {
        let stored =
            SimpleFileOptions::DEFAULT.compression_method(::zip::CompressionMethod::Stored);
        w.start_file(p.as_str(), stored).unwrap();
        write!(w, "content of entry {i}").unwrap();
    }
    let mut bytes = w.finish().unwrap().into_inner();
    for (p, name) in placeholders.iter().zip(names) {
        let mut replaced = 0;
        let mut at = 0;
        while let Some(found) = bytes[at..].windows(p.len()).position(|w| w == p.as_bytes()) {
            let start = at + found;
            bytes[start..start + p.len()].copy_from_slice(name);
            replaced += 1;
            at = start + p.len();
        }
        assert_eq!(replaced, 2, "placeholder {p} for {name:?}");
    }
    File::create(path).unwrap().write_all(&bytes).unwrap();
}

/// Reads a reader to the end, panicking on errors (tests only).
pub(crate) fn read_all(reader: &mut dyn Read) -> Vec<u8> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    out
}

/// Creates the files `(name, content)` below `root`; names ending in `/` are folders.
pub(crate) fn make_folder(root: &Path, files: &[(&str, &[u8])]) {
    for (name, content) in files {
        let path = root.join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
        }
    }
}

/// An archive whose entry `entry` cannot be read: opening it (read or as stored)
/// fails with "broken on purpose", or, with `panic_on`, panics when the thread of that
/// name opens it (and reads normally elsewhere). The importer's tests use it for the
/// read-ahead thread and the thread taking the digests.
#[derive(Debug)]
pub(crate) struct BrokenEntry {
    pub inner: Box<dyn super::Archive>,
    pub entry: &'static str,
    pub panic_on: Option<&'static str>,
}

impl BrokenEntry {
    fn check(&self, entry: &str) -> Result<(), super::ArchiveError> {
        if entry != self.entry {
            return Ok(());
        }
        match self.panic_on {
            Some(thread) if std::thread::current().name() == Some(thread) => {
                panic!("broken on purpose")
            }
            Some(_) => Ok(()),
            None => Err(super::ArchiveError::from_read_error(
                self.inner.name(),
                entry,
                std::io::Error::other("broken on purpose"),
            )),
        }
    }
}

impl super::Archive for BrokenEntry {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn kind(&self) -> super::ArchiveKind {
        self.inner.kind()
    }
    fn listing(&self) -> &super::Listing {
        self.inner.listing()
    }
    fn warnings(&self) -> &[super::ArchiveWarning] {
        self.inner.warnings()
    }
    fn open(&self, entry: &str) -> Result<Box<dyn Read + Send>, super::ArchiveError> {
        self.check(entry)?;
        self.inner.open(entry)
    }
    fn open_stored(&self, entry: &str) -> Result<super::StoredEntry, super::ArchiveError> {
        self.check(entry)?;
        self.inner.open_stored(entry)
    }
}
