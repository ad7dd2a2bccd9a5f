//! One contract over every backend: a zip and a folder holding the same content give the
//! same listing and the same bytes; every package in the corpus opens and reads.

use std::io::Write;
use std::path::{Path, PathBuf};

use ::zip::write::SimpleFileOptions;

use super::test_support::{make_folder, read_all};
use super::*;

/// What an archive shows: every entry with its kind, explicitness and size, and the
/// bytes of every file.
fn snapshot(archive: &dyn Archive) -> Vec<(String, EntryKind, u64, Vec<u8>)> {
    archive
        .entries()
        .iter()
        .map(|e| {
            let bytes = if e.is_file() {
                read_all(&mut archive.open(e.name()).unwrap())
            } else {
                Vec::new()
            };
            (e.name().to_owned(), e.kind(), e.size(), bytes)
        })
        .collect()
}

/// The children of every directory, recursively, as an indented outline.
fn outline(archive: &dyn Archive) -> String {
    fn walk(archive: &dyn Archive, dir: &str, depth: usize, out: &mut String) {
        for child in archive.children(dir).unwrap() {
            let slash = if child.is_dir() { "/" } else { "" };
            out.push_str(&format!(
                "{}{}{slash}\n",
                "  ".repeat(depth),
                child.file_name()
            ));
            if child.is_dir() {
                walk(archive, child.name(), depth + 1, out);
            }
        }
    }
    let mut out = String::new();
    walk(archive, "", 0, &mut out);
    out
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/archive/exploded-package.zip")
}

/// Zips every entry of `folder` with the zip crate directly (no jcrpack code), files
/// deflated, with or without directory entries.
fn zip_folder(folder: &dyn Archive, target: &Path, directory_entries: bool) {
    let mut w = ::zip::ZipWriter::new(std::fs::File::create(target).unwrap());
    for e in folder.entries() {
        if e.is_dir() {
            if directory_entries {
                w.add_directory(e.name(), SimpleFileOptions::DEFAULT)
                    .unwrap();
            }
        } else {
            w.start_file(e.name(), SimpleFileOptions::DEFAULT).unwrap();
            w.write_all(&read_all(&mut folder.open(e.name()).unwrap()))
                .unwrap();
        }
    }
    w.finish().unwrap();
}

#[test]
fn zip_and_folder_show_the_same_content() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pkg");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    make_folder(
        &root,
        &[
            ("META-INF/vault/filter.xml", b"<workspaceFilter/>"),
            ("jcr_root/.content.xml", b"<jcr:root/>"),
            ("jcr_root/content/a.txt", b"a"),
            ("jcr_root/content/a.b", b""),
            ("jcr_root/content/big.bin", &big),
            ("jcr_root/content/sub/x.xml", b"<x/>"),
            ("jcr_root/content/\u{e9}t\u{e9}.txt", "accents".as_bytes()),
            ("jcr_root/empty/", b""),
        ],
    );
    let folder = open(&root, &ReadOptions::default()).unwrap();
    assert_eq!(folder.kind(), ArchiveKind::Folder);
    let expected = snapshot(folder.as_ref());

    // With directory entries, the empty folder survives and the listings match exactly.
    let with_dirs = dir.path().join("with-dirs.zip");
    zip_folder(folder.as_ref(), &with_dirs, true);
    let zip = open(&with_dirs, &ReadOptions::default()).unwrap();
    assert_eq!(zip.kind(), ArchiveKind::Zip);
    assert_eq!(snapshot(zip.as_ref()), expected);
    assert_eq!(outline(zip.as_ref()), outline(folder.as_ref()));

    // Without them, directories are implied; only the empty one is gone.
    let without = dir.path().join("without-dirs.zip");
    zip_folder(folder.as_ref(), &without, false);
    let zip = open(&without, &ReadOptions::default()).unwrap();
    let expected_without: Vec<_> = expected
        .iter()
        .filter(|(name, ..)| name != "jcr_root/empty")
        .cloned()
        .collect();
    assert_eq!(snapshot(zip.as_ref()), expected_without);
    assert!(zip
        .entries()
        .iter()
        .filter(|e| e.is_dir())
        .all(|e| !e.is_explicit()));
}

#[test]
fn the_fixture_reads_the_same_as_a_folder_and_as_the_zip_we_write() {
    let folder = open(fixture(), &ReadOptions::default()).unwrap();
    insta::assert_snapshot!(outline(folder.as_ref()), @r"
    META-INF/
      vault/
        filter.xml
        properties.xml
    jcr_root/
      .content.xml
      apps/
        demo/
          script.js
      content/
        site/
          .content.xml
          image.png
    ");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("fixture.zip");
    let mut writer = PackageWriter::create(&target, WriterOptions::default()).unwrap();
    for entry in folder.entries() {
        writer.copy_entry(folder.as_ref(), entry.name()).unwrap();
    }
    let written = writer.finish().unwrap();
    assert_eq!(written.entries, folder.entries().len() as u64);
    let zip = open(&target, &ReadOptions::default()).unwrap();
    assert_eq!(snapshot(zip.as_ref()), snapshot(folder.as_ref()));
    assert!(zip.entries().iter().all(Entry::is_explicit));
    // The PNG is stored, the XML deflated.
    let png = zip.entry("jcr_root/content/site/image.png").unwrap();
    assert_eq!(png.compressed_size(), png.size());
    let xml = zip.entry("META-INF/vault/properties.xml").unwrap();
    assert!(xml.compressed_size() < xml.size());
}

#[test]
fn children_and_lookups_through_the_trait() {
    let folder = open(fixture(), &ReadOptions::default()).unwrap();
    assert!(folder.is_dir("jcr_root/content"));
    assert!(folder.is_dir(""));
    assert!(!folder.is_dir("jcr_root/.content.xml"));
    let e = folder.children("jcr_root/.content.xml").unwrap_err();
    assert!(matches!(e, ArchiveError::NotADirectory { .. }), "{e:?}");
    let e = folder.children("nope").unwrap_err();
    assert!(matches!(e, ArchiveError::NotFound { .. }), "{e:?}");
    let e = folder.open("jcr_root").err().unwrap();
    assert!(matches!(e, ArchiveError::IsADirectory { .. }), "{e:?}");
    let filter = folder.read_to_vec("META-INF/vault/filter.xml").unwrap();
    assert!(filter.starts_with(b"<?xml"));
    assert_eq!(
        folder.entry("META-INF/vault/filter.xml").map(Entry::size),
        Some(filter.len() as u64)
    );
}

/// The packages listed in the corpus manifest: (path below corpus/filevault, kind).
fn corpus_packages(corpus: &Path) -> Vec<(String, String)> {
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST-filevault.md")).unwrap();
    manifest
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let path = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let kind = *cells.get(2)?;
            (kind == "zip" || kind == "dir").then(|| (path.to_owned(), kind.to_owned()))
        })
        .collect()
}

#[test]
fn every_corpus_package_opens_lists_and_reads() {
    let corpus = crate::test_support::corpus();
    let packages = corpus_packages(&corpus);
    assert!(
        packages.len() >= 151,
        "only {} packages in the manifest",
        packages.len()
    );
    let (mut zips, mut folders, mut empty) = (0, 0, 0);
    for (path, kind) in &packages {
        let full = corpus.join("filevault").join(path);
        let size = std::fs::metadata(&full).unwrap().len();
        if kind == "zip" && size == 0 {
            let e = open(&full, &ReadOptions::default()).unwrap_err();
            assert!(matches!(e, ArchiveError::EmptyFile { .. }), "{path}: {e:?}");
            assert!(e
                .to_string()
                .contains("test-package-truncated.zip: the file is empty"));
            empty += 1;
            continue;
        }
        let archive = open(&full, &ReadOptions::default().with_strict(true))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(archive.kind() == ArchiveKind::Zip, kind == "zip", "{path}");
        assert!(!archive.listing().is_empty(), "{path}");
        assert!(
            archive.warnings().is_empty(),
            "{path}: {:?}",
            archive.warnings()
        );
        for entry in archive.listing().files() {
            let bytes = archive
                .read_to_vec(entry.name())
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(bytes.len() as u64, entry.size(), "{path}: {}", entry.name());
        }
        match archive.kind() {
            ArchiveKind::Zip => zips += 1,
            ArchiveKind::Folder => folders += 1,
        }
    }
    assert_eq!((zips, folders, empty), (97, 52, 2));
}

/// What a full open lists that `selection` keeps, with the directories their names
/// imply (as a selected open lists them), and the bytes of every file.
fn restricted(
    archive: &dyn Archive,
    selection: &EntrySelection,
) -> Vec<(String, EntryKind, u64, Vec<u8>)> {
    let kept: Vec<&str> = archive
        .entries()
        .iter()
        .filter(|e| {
            let name = if e.is_dir() && e.is_explicit() {
                format!("{}/", e.name())
            } else {
                e.name().to_owned()
            };
            e.is_explicit() && selection.keeps(name.as_bytes())
        })
        .map(Entry::name)
        .collect();
    snapshot(archive)
        .into_iter()
        .filter(|(name, ..)| {
            kept.iter().any(|k| {
                k == name || (k.starts_with(name.as_str()) && k.as_bytes()[name.len()] == b'/')
            })
        })
        .collect()
}

#[test]
fn a_selected_open_lists_and_reads_what_the_full_open_does_for_the_selection() {
    let dir = tempfile::tempdir().unwrap();
    let folder = open(fixture(), &ReadOptions::default()).unwrap();
    let with_dirs = dir.path().join("with-dirs.zip");
    zip_folder(folder.as_ref(), &with_dirs, true);
    let without = dir.path().join("without-dirs.zip");
    zip_folder(folder.as_ref(), &without, false);
    for roots in [
        &["/content/site"][..],
        &["/apps/demo/script.js", "/nope"],
        &["/"],
    ] {
        let selection = EntrySelection::roots(roots);
        for path in [fixture(), with_dirs.clone(), without.clone()] {
            let full = open(&path, &ReadOptions::default()).unwrap();
            let selected = open_selected(&path, &ReadOptions::default(), &selection).unwrap();
            assert_eq!(selected.kind(), full.kind());
            assert_eq!(
                snapshot(selected.as_ref()),
                restricted(full.as_ref(), &selection),
                "{roots:?} of {}",
                path.display()
            );
        }
    }
    let selection = EntrySelection::roots(["/content/site"]);
    let selected = open_selected(fixture(), &ReadOptions::default(), &selection).unwrap();
    insta::assert_snapshot!(outline(selected.as_ref()), @r"
    META-INF/
      vault/
        filter.xml
        properties.xml
    jcr_root/
      .content.xml
      content/
        site/
          .content.xml
          image.png
    ");
    let e = selected.open("jcr_root/apps/demo/script.js").err().unwrap();
    assert!(matches!(e, ArchiveError::NotFound { .. }), "{e:?}");
}

/// A refused entry outside the selection is never read, so it fails no selected open;
/// the same entry inside the selection is refused as a full open refuses it.
#[test]
fn refused_entries_outside_the_selection_fail_only_the_opens_that_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.zip");
    super::test_support::hostile_zip(
        &path,
        &[
            "META-INF/vault/filter.xml",
            "jcr_root/content/a/x.txt",
            "jcr_root/apps/dup",
            "jcr_root/apps/dup",
            "jcr_root/apps/x/../../evil",
            "jcr_root/etc/A",
            "jcr_root/etc/a",
            "jcr_root/apps/header",
        ],
    );
    // The local header of `jcr_root/apps/header` names another entry.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(20)
        .position(|w| w == b"jcr_root/apps/header")
        .unwrap();
    bytes[at + 19] = b'X';
    std::fs::write(&path, &bytes).unwrap();
    let strict = ReadOptions::default().with_strict(true);
    assert!(open(&path, &strict).is_err());

    let content = EntrySelection::roots(["/content/a"]);
    let zip = open_selected(&path, &strict, &content).unwrap();
    assert!(zip.warnings().is_empty(), "{:?}", zip.warnings());
    let files: Vec<&str> = zip.listing().files().map(Entry::name).collect();
    assert_eq!(
        files,
        ["META-INF/vault/filter.xml", "jcr_root/content/a/x.txt"]
    );
    assert_eq!(
        zip.read_to_vec("jcr_root/content/a/x.txt").unwrap(),
        b"content of entry 1"
    );

    for (root, refusal) in [
        ("/apps/dup", "occurs more than once"),
        ("/apps/x", "is refused"),
        ("/etc", "differ only in case"),
        ("/apps/header", "local header"),
    ] {
        let e = open_selected(&path, &strict, &EntrySelection::roots([root])).unwrap_err();
        assert!(e.to_string().contains(refusal), "{root}: {e}");
    }
    // A name that differs in case from a selected root's is not kept: the extract
    // cannot hold both.
    let zip = open_selected(&path, &strict, &EntrySelection::roots(["/etc/a"])).unwrap();
    assert!(zip.entry("jcr_root/etc/a").is_some() && zip.entry("jcr_root/etc/A").is_none());
}

/// `open_stored` of every file: a zip's stored bytes with its record's form (exactly
/// `compressed_size` of them, inflating to the content, whose CRC-32 the form
/// carries), a folder's file as it is, with no form.
#[test]
fn stored_bytes_are_what_a_zip_keeps_and_a_folders_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pkg");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    make_folder(
        &root,
        &[
            ("jcr_root/.content.xml", b"<jcr:root/>"),
            ("jcr_root/content/a.b", b""),
            ("jcr_root/content/big.bin", &big),
        ],
    );
    let folder = open(&root, &ReadOptions::default()).unwrap();
    let target = dir.path().join("pkg.zip");
    let mut w = ::zip::ZipWriter::new(std::fs::File::create(&target).unwrap());
    let stored = SimpleFileOptions::DEFAULT.compression_method(::zip::CompressionMethod::Stored);
    for (name, options) in [
        ("jcr_root/.content.xml", stored),
        ("jcr_root/content/a.b", SimpleFileOptions::DEFAULT),
        ("jcr_root/content/big.bin", SimpleFileOptions::DEFAULT),
    ] {
        w.start_file(name, options).unwrap();
        w.write_all(&read_all(&mut folder.open(name).unwrap()))
            .unwrap();
    }
    w.finish().unwrap();
    let zip = open(&target, &ReadOptions::default()).unwrap();
    for e in folder.entries().iter().filter(|e| e.is_file()) {
        let content = read_all(&mut folder.open(e.name()).unwrap());
        let mut raw = folder.open_stored(e.name()).unwrap();
        assert_eq!(raw.form, None, "{}", e.name());
        assert_eq!(read_all(&mut raw.reader), content, "{}", e.name());

        let mut raw = zip.open_stored(e.name()).unwrap();
        let form = raw.form.unwrap();
        let bytes = read_all(&mut raw.reader);
        let z = zip.entry(e.name()).unwrap();
        assert_eq!(bytes.len() as u64, form.compressed_size, "{}", e.name());
        assert_eq!(
            (form.compressed_size, form.size),
            (z.compressed_size(), z.size())
        );
        let inflated = match form.method {
            0 => bytes.clone(),
            8 => read_all(&mut flate2::read::DeflateDecoder::new(&bytes[..])),
            m => panic!("{}: method {m}", e.name()),
        };
        assert_eq!(inflated, content, "{}", e.name());
        let mut crc = flate2::Crc::new();
        crc.update(&content);
        assert_eq!(form.crc32, crc.sum(), "{}", e.name());
    }
    assert_eq!(
        zip.open_stored("jcr_root/.content.xml")
            .unwrap()
            .form
            .unwrap()
            .method,
        0
    );
    assert_eq!(
        zip.open_stored("jcr_root/content/big.bin")
            .unwrap()
            .form
            .unwrap()
            .method,
        8
    );
    // Directories and missing names are refused as `open` refuses them.
    for archive in [&folder, &zip] {
        assert!(archive.open_stored("jcr_root/content").is_err());
        assert!(archive.open_stored("jcr_root/nothing").is_err());
    }
}
