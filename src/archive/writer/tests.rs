use std::io::Read;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;
use crate::archive::test_support::read_all;
use crate::archive::zip_out::SPOOL_IN_MEMORY;
use crate::archive::{open, ReadOptions};

/// Writes a small package with every kind of entry the writer handles.
fn sample(target: &Path, options: WriterOptions) -> WrittenPackage {
    let mut w = PackageWriter::create(target, options).unwrap();
    w.add_bytes(
        "META-INF/vault/filter.xml",
        b"<?xml version=\"1.0\"?>\n<workspaceFilter version=\"1.0\">\n</workspaceFilter>\n"
            .to_vec(),
    )
    .unwrap();
    w.add_directory("jcr_root/content/empty").unwrap();
    w.add_bytes("jcr_root/.content.xml", b"<jcr:root/>".repeat(50))
        .unwrap();
    w.add_bytes(
        "jcr_root/content/logo.png",
        b"\x89PNG\r\n\x1a\n1234".to_vec(),
    )
    .unwrap();
    w.add_bytes(
        "jcr_root/content/_jcr_data.binary",
        b"\xff\xd8\xff\xe0 jpeg".to_vec(),
    )
    .unwrap();
    w.add_bytes("jcr_root/content/empty.txt", Vec::new())
        .unwrap();
    w.add_reader(
        "jcr_root/content/text.txt",
        &mut &b"hello ".repeat(100)[..],
        None,
    )
    .unwrap();
    w.finish().unwrap()
}

/// One line per entry: how it is stored, its sizes, CRC, time and mode, extra fields.
fn describe(path: &Path) -> String {
    let mut zip = ::zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = String::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).unwrap();
        let t = f.last_modified().unwrap();
        out.push_str(&format!(
            "{} {:?} {}/{} {:08x} {}-{:02}-{:02} {:02}:{:02}:{:02} {:o} extra={}\n",
            f.name().unwrap(),
            f.compression(),
            f.compressed_size(),
            f.size(),
            f.crc32(),
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            f.unix_mode().unwrap_or(0),
            f.extra_data().map_or(0, |e| e.len()),
        ));
    }
    out
}

fn sha256(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `unzip -t` on the zip, a reader other than ours. Without unzip the test fails
/// saying so (`.ci/run` installs it): a check that did not run never passes.
fn unzip_accepts(path: &Path) {
    match Command::new("unzip").arg("-tqq").arg(path).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "unzip -t refused {}: {}{}",
                path.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => panic!(
            "this test checks written zips with `unzip -t`, which could not run ({e}): install unzip"
        ),
    }
}

#[test]
fn same_input_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.zip");
    let b = dir.path().join("b.zip");
    let c = dir.path().join("c.zip");
    sample(&a, WriterOptions::default());
    sample(&b, WriterOptions::default());
    // Serial, one entry per batch: the same bytes as parallel batches.
    sample(
        &c,
        WriterOptions::default()
            .with_parallel(false)
            .with_batch_limits(1, 1),
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
    insta::assert_snapshot!(describe(&a), @r"
    META-INF/ Stored 0/0 00000000 1980-01-01 00:00:00 40755 extra=0
    META-INF/vault/ Stored 0/0 00000000 1980-01-01 00:00:00 40755 extra=0
    META-INF/vault/filter.xml Deflated 50/73 3aab914c 1980-01-01 00:00:00 100644 extra=0
    jcr_root/ Stored 0/0 00000000 1980-01-01 00:00:00 40755 extra=0
    jcr_root/content/ Stored 0/0 00000000 1980-01-01 00:00:00 40755 extra=0
    jcr_root/content/empty/ Stored 0/0 00000000 1980-01-01 00:00:00 40755 extra=0
    jcr_root/.content.xml Deflated 22/550 c9b0096f 1980-01-01 00:00:00 100644 extra=0
    jcr_root/content/logo.png Stored 12/12 a9aa5b9b 1980-01-01 00:00:00 100644 extra=0
    jcr_root/content/_jcr_data.binary Stored 9/9 f43b1fd4 1980-01-01 00:00:00 100644 extra=0
    jcr_root/content/empty.txt Stored 0/0 00000000 1980-01-01 00:00:00 100644 extra=0
    jcr_root/content/text.txt Deflated 17/600 0da231f3 1980-01-01 00:00:00 100644 extra=0
    ");
    // The exact bytes. A new zip or zlib-rs version may change deflate output and so
    // this digest; the lines above must not change.
    insta::assert_snapshot!(sha256(&a), @"fa4fc8aa437efd9403e47df37e17a85d27a597437828399e99fb05a4d3c55414");
    unzip_accepts(&a);
}

#[test]
fn source_date_epoch_sets_every_entry_time() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.zip");
    let options = WriterOptions::default().with_source_date_epoch(Some(1_700_000_000));
    sample(&a, options);
    let described = describe(&a);
    assert_eq!(
        described.matches("2023-11-14 22:13:20").count(),
        11,
        "{described}"
    );
    let b = dir.path().join("b.zip");
    sample(&b, options);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let e = crate::archive::parse_source_date_epoch("yesterday").unwrap_err();
    assert!(matches!(e, ArchiveError::BadSourceDateEpoch { .. }));
    assert_eq!(
        WriterOptions::default().with_source_date_epoch(None),
        WriterOptions::default()
    );
}

#[test]
fn level_zero_stores_everything_and_directory_entries_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.zip");
    sample(
        &a,
        WriterOptions::default()
            .with_compression_level(0)
            .with_directory_entries(false),
    );
    let described = describe(&a);
    assert!(!described.contains("Deflated"), "{described}");
    assert!(!described.contains(" 40755 "), "{described}");
    let archive = open(&a, &ReadOptions::default()).unwrap();
    assert!(archive
        .entries()
        .iter()
        .filter(|e| e.is_dir())
        .all(|e| !e.is_explicit()));
    // The explicitly added empty directory is lost without directory entries.
    assert!(archive.entry("jcr_root/content/empty").is_none());
}

#[test]
fn nothing_appears_at_the_target_before_finish() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.zip");
    let mut w = PackageWriter::create(&target, WriterOptions::default()).unwrap();
    w.add_bytes("a.txt", b"a".to_vec()).unwrap();
    assert!(!target.exists());
    drop(w);
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary file left"
    );
    let written = sample(&target, WriterOptions::default());
    assert_eq!(written.path, target);
    assert_eq!(written.entries, 11);
    assert_eq!(written.size, std::fs::metadata(&target).unwrap().len());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn bad_names_duplicates_and_clashes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = PackageWriter::create(dir.path().join("x.zip"), WriterOptions::default()).unwrap();
    w.add_bytes("a/b.txt", b"1".to_vec()).unwrap();
    let e = w.add_bytes("a/b.txt", b"2".to_vec()).unwrap_err();
    assert!(matches!(e, ArchiveError::DuplicateEntry { .. }), "{e:?}");
    let e = w.add_bytes("a", b"2".to_vec()).unwrap_err();
    assert!(
        matches!(e, ArchiveError::FileDirectoryConflict { .. }),
        "{e:?}"
    );
    let e = w.add_bytes("a/b.txt/c", b"2".to_vec()).unwrap_err();
    assert!(
        matches!(e, ArchiveError::FileDirectoryConflict { .. }),
        "{e:?}"
    );
    let e = w.add_directory("a/b.txt").unwrap_err();
    assert!(
        matches!(e, ArchiveError::FileDirectoryConflict { .. }),
        "{e:?}"
    );
    for bad in ["../x", "/x", "x\\y", "x\0"] {
        let e = w.add_bytes(bad, b"2".to_vec()).unwrap_err();
        assert!(matches!(e, ArchiveError::UnsafeName { .. }), "{bad}: {e:?}");
    }
    w.add_directory("a").unwrap();
    w.finish().unwrap();
}

#[test]
fn the_digest_is_taken_while_writing_unless_a_header_is_patched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a.zip");
    let written = sample(&target, WriterOptions::default());
    assert_eq!(written.sha256, Some(sha256(&target)));
    // A streamed entry's header is patched after its data: the digest of what was
    // written in one pass would be wrong, so there is none.
    let streamed = dir.path().join("streamed.zip");
    let options = WriterOptions::default().with_large_entry_threshold(10);
    let mut w = PackageWriter::create(&streamed, options).unwrap();
    w.add_bytes("a.txt", b"x".repeat(100)).unwrap();
    assert_eq!(w.finish().unwrap().sha256, None);
    // A batch that deflate makes larger is stored: still one pass.
    let stored = dir.path().join("stored.zip");
    let mut w = PackageWriter::create(&stored, WriterOptions::default()).unwrap();
    w.add_bytes("tiny.txt", b"t".to_vec()).unwrap();
    let written = w.finish().unwrap();
    assert_eq!(written.sha256, Some(sha256(&stored)));
    // Not asked for: none, and the same bytes.
    let undigested = dir.path().join("undigested.zip");
    let written = sample(&undigested, WriterOptions::default().with_digest(false));
    assert_eq!(written.sha256, None);
    assert_eq!(sha256(&undigested), sha256(&target));
}

#[test]
fn large_entries_are_streamed_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("large.zip");
    let options = WriterOptions::default().with_large_entry_threshold(1000);
    let text: Vec<u8> = b"<node attr=\"value\"/>\n".repeat(2000);
    let image: Vec<u8> = b"\x89PNG\r\n\x1a\n"
        .iter()
        .copied()
        .chain((0..5000u32).map(|i| (i * 7919 % 256) as u8))
        .collect();
    let mut w = PackageWriter::create(&target, options).unwrap();
    w.add_bytes("small.txt", b"small".to_vec()).unwrap();
    w.add_reader("known.xml", &mut text.as_slice(), Some(text.len() as u64))
        .unwrap();
    w.add_reader("unknown.xml", &mut text.as_slice(), None)
        .unwrap();
    w.add_reader("pic.bin", &mut image.as_slice(), Some(image.len() as u64))
        .unwrap();
    w.add_bytes("after.txt", b"after".to_vec()).unwrap();
    w.finish().unwrap();
    let archive = open(&target, &ReadOptions::default()).unwrap();
    assert_eq!(archive.read_to_vec("known.xml").unwrap(), text);
    assert_eq!(archive.read_to_vec("unknown.xml").unwrap(), text);
    assert_eq!(archive.read_to_vec("pic.bin").unwrap(), image);
    assert_eq!(archive.read_to_vec("after.txt").unwrap(), b"after");
    let described = describe(&target);
    assert!(described.contains("pic.bin Stored"), "{described}");
    assert!(described.contains("known.xml Deflated"), "{described}");
    // An entry of unknown size gets ZIP64 sizes, just in case it passes 4 GiB.
    assert!(
        described.contains("/42000 c74a6c0a 1980-01-01 00:00:00 100644 extra=20"),
        "{described}"
    );
    assert!(
        described.contains("/42000 c74a6c0a 1980-01-01 00:00:00 100644 extra=0"),
        "{described}"
    );
    // Tiny entries that deflate would grow are stored.
    assert!(described.contains("small.txt Stored 5/5"), "{described}");
    unzip_accepts(&target);
}

/// A zip with one stored and one deflated entry, written by the zip crate with its own
/// times, to copy from.
fn source_zip(path: &Path) {
    use std::io::Write;
    let mut w = ::zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let when = ::zip::DateTime::from_date_and_time(2011, 6, 7, 18, 2, 50).unwrap();
    let deflated = ::zip::write::SimpleFileOptions::DEFAULT.last_modified_time(when);
    w.start_file("jcr_root/a.xml", deflated).unwrap();
    w.write_all(&b"<a/>".repeat(1000)).unwrap();
    w.start_file(
        "jcr_root/b.png",
        deflated.compression_method(CompressionMethod::Stored),
    )
    .unwrap();
    w.write_all(b"\x89PNG not really").unwrap();
    w.finish().unwrap();
}

#[test]
fn raw_copies_keep_the_compressed_bytes_and_read_back_identical() {
    let dir = tempfile::tempdir().unwrap();
    let src_path = dir.path().join("src.zip");
    source_zip(&src_path);
    let source = ZipArchive::open(&src_path, &ReadOptions::default()).unwrap();
    let target = dir.path().join("copy.zip");
    let mut w = PackageWriter::create(&target, WriterOptions::default()).unwrap();
    w.add_bytes("META-INF/vault/filter.xml", b"<workspaceFilter/>".to_vec())
        .unwrap();
    w.raw_copy(&source, "jcr_root/a.xml").unwrap();
    // Through the trait, a zip source is copied raw as well.
    w.copy_entry(&source, "jcr_root/b.png").unwrap();
    w.copy_entry(&source, "jcr_root").unwrap();
    let e = w.raw_copy(&source, "jcr_root/missing").unwrap_err();
    assert!(matches!(e, ArchiveError::NotFound { .. }), "{e:?}");
    w.finish().unwrap();

    let copy = open(&target, &ReadOptions::default()).unwrap();
    for name in ["jcr_root/a.xml", "jcr_root/b.png"] {
        assert_eq!(
            copy.read_to_vec(name).unwrap(),
            source.read_to_vec(name).unwrap(),
            "{name}"
        );
        let (a, b) = (copy.entry(name).unwrap(), source.entry(name).unwrap());
        assert_eq!(
            (a.size(), a.compressed_size()),
            (b.size(), b.compressed_size())
        );
    }
    let described = describe(&target);
    assert!(
        !described.contains("2011"),
        "the copy keeps the source's time: {described}"
    );
    unzip_accepts(&target);
}

#[test]
fn zip64_when_more_than_65535_entries() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("many.zip");
    let options = WriterOptions::default().with_directory_entries(false);
    let mut w = PackageWriter::create(&target, options).unwrap();
    let count = 65_600u32;
    for i in 0..count {
        w.add_bytes(&format!("e/{i:05}"), i.to_string().into_bytes())
            .unwrap();
    }
    let written = w.finish().unwrap();
    assert_eq!(written.entries, u64::from(count));
    let bytes = std::fs::read(&target).unwrap();
    // The ZIP64 end-of-central-directory record and its locator.
    assert!(bytes.windows(4).any(|w| w == b"PK\x06\x06"));
    assert!(bytes.windows(4).any(|w| w == b"PK\x06\x07"));
    let archive = open(&target, &ReadOptions::default()).unwrap();
    assert_eq!(archive.entries().len(), count as usize + 1);
    assert_eq!(archive.children("e").unwrap().count(), count as usize);
    assert_eq!(archive.read_to_vec("e/65599").unwrap(), b"65599");
    unzip_accepts(&target);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever files are added, the zip reads back the same names and bytes.
    #[test]
    fn written_packages_read_back(
        files in proptest::collection::btree_map(
            "[a-c]{1,2}(/[a-c]{1,2}){0,2}\\.(xml|png|txt)",
            proptest::collection::vec(any::<u8>(), 0..3000),
            1..12,
        ),
        threshold in 100u64..5000,
    ) {
        // A name may not also be a directory of another name.
        let names: Vec<&String> = files.keys().collect();
        prop_assume!(!names.iter().any(|a| names.iter().any(|b| b.starts_with(&format!("{a}/")))));
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.zip");
        let mut w = PackageWriter::create(
            &target,
            WriterOptions::default().with_large_entry_threshold(threshold),
        )
        .unwrap();
        for (name, data) in &files {
            w.add_reader(name, &mut data.as_slice(), None).unwrap();
        }
        w.finish().unwrap();
        let archive = open(&target, &ReadOptions::default()).unwrap();
        let read: Vec<(String, Vec<u8>)> = archive
            .listing()
            .files()
            .map(|e| (e.name().to_owned(), read_all(&mut archive.open(e.name()).unwrap())))
            .collect();
        let expected: Vec<(String, Vec<u8>)> =
            files.into_iter().collect();
        prop_assert_eq!(read, expected);
    }
}

#[test]
fn read_errors_from_a_source_keep_their_meaning() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(ArchiveError::CorruptEntry {
                archive: "src.zip".into(),
                entry: "x".into(),
                reason: "CRC-32 mismatch".into(),
            }
            .into_io())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut w = PackageWriter::create(dir.path().join("x.zip"), WriterOptions::default()).unwrap();
    let e = w.add_reader("x", &mut Failing, None).unwrap_err();
    assert!(
        e.to_string().starts_with("src.zip: entry `x` is corrupt"),
        "{e}"
    );
}

/// A write that fails (here /dev/full: no space left) turns the sink into a counter,
/// so that the zip writer's finish-on-drop of an abandoned package neither touches
/// the failing disk again nor prints its error; the package cannot be finished.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_leaves_a_sink_that_cannot_finish_a_package() {
    let full = File::options().write(true).open("/dev/full").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::new(dir.path().to_owned(), "spool-".into());
    let mut zip = ZipOut::new(Sink::new(BufWriter::with_capacity(1024, full), true), spool);
    let options = WriterOptions::default();
    let header = options.header(b"a.bin", STORED, false);
    // The local header may already fill the buffer; the data does.
    let e = match zip.start_entry(&header) {
        Ok(_) => zip.write_data(&[7u8; 64 * 1024]).unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
    let sink = zip.finish().unwrap();
    assert!(sink.file.is_none());
    assert!(sink.end > 0, "the end record was counted");
}

#[test]
fn temporary_names_say_whose_they_are() {
    assert_eq!(temp_owner(".site.zip.jcrpack-tmp-4242-AbC123"), Some(4242));
    assert_eq!(temp_owner(".a.jcrpack-tmp-.zip.jcrpack-tmp-7-x"), Some(7));
    for other in [
        "site.zip",
        ".jcrpack-abc.zip.tmp",
        ".site.zip.jcrpack-tmp-4242",
        ".site.zip.jcrpack-tmp-4242-",
        ".site.zip.jcrpack-tmp-x42-abc",
        ".jcrpack-tmp-42-abc",
        "site.zip.jcrpack-tmp-42-abc",
    ] {
        assert_eq!(temp_owner(other), None, "{other}");
    }
    assert!(!process_gone(std::process::id()));
}

/// The process id of a process that has ended (and been reaped).
fn ended_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_writer_names_its_temporary_file_after_the_target_and_removes_those_of_killed_writers() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("site.zip");
    let names = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let mut writer = PackageWriter::create(&target, WriterOptions::default()).unwrap();
    let own = format!(".site.zip.jcrpack-tmp-{}-", std::process::id());
    let listed = names();
    assert!(
        listed.len() == 1 && listed[0].starts_with(&own),
        "the package only (the central directory is in memory): {listed:?}"
    );
    // Past SPOOL_IN_MEMORY bytes of central records, the spool moves into a file of
    // the same pattern.
    let long = "n".repeat(200);
    let mut i = 0;
    while names().len() == 1 {
        writer
            .add_bytes(&format!("jcr_root/{long}/{i}.txt"), b"x".to_vec())
            .unwrap();
        i += 1;
        assert!(i < 10_000, "no spool file after {i} entries: {:?}", names());
    }
    let listed = names();
    assert!(
        listed.len() == 2 && listed.iter().all(|n| n.starts_with(&own)),
        "the package and its central directory spool: {listed:?}"
    );
    drop(writer);
    assert!(names().is_empty(), "{:?}", names());

    let dead = ended_pid();
    if !process_gone(dead) {
        panic!("process {dead} ended but /proc still lists it: this test cannot run here");
    }
    let killed = format!(".site.zip.jcrpack-tmp-{dead}-AbCdEf");
    let running = format!(".site.zip.jcrpack-tmp-{}-XyZ123", std::process::id());
    let other_target = format!(".other.zip.jcrpack-tmp-{dead}-AbCdEf");
    for n in [&killed, &running, &other_target] {
        std::fs::write(dir.path().join(n), b"half a zip").unwrap();
    }
    sample(&target, WriterOptions::default());
    let mut expected = vec![
        other_target.clone(),
        running.clone(),
        "site.zip".to_string(),
    ];
    expected.sort();
    assert_eq!(names(), expected);
}

/// Every entry of `path` read by Python's `zipfile` (its CRC checks included), as
/// `name size sha256` lines. Without python3 the test fails saying so.
fn python_lists(path: &Path) -> String {
    let script = r#"
import sys, zipfile, hashlib
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
assert bad is None, 'bad entry %s' % bad
for i in z.infolist():
    print(i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest())
"#;
    match Command::new("python3").arg("-c").arg(script).arg(path).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "python zipfile refused {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
        Err(e) => panic!("this test reads written zips with python3's zipfile, which could not run ({e}): install python3"),
    }
}

/// The same listing by Java's `java.util.zip.ZipFile` (a JDK runs the source file
/// directly). Without java the test fails saying so (`.ci/run` needs a JDK for the
/// FileVault oracle already).
fn java_lists(path: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("ListZip.java");
    std::fs::write(
        &source,
        r#"import java.security.MessageDigest;
import java.util.zip.*;
public class ListZip {
    public static void main(String[] args) throws Exception {
        try (ZipFile z = new ZipFile(args[0])) {
            var entries = z.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                byte[] data = z.getInputStream(e).readAllBytes();
                StringBuilder hex = new StringBuilder();
                for (byte b : MessageDigest.getInstance("SHA-256").digest(data)) {
                    hex.append(String.format("%02x", b));
                }
                System.out.println(e.getName() + " " + data.length + " " + hex);
            }
        }
    }
}
"#,
    )
    .unwrap();
    match Command::new("java").arg(&source).arg(path).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "java.util.zip refused {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
        Err(e) => panic!("this test reads written zips with java.util.zip, which could not run ({e}): install a JDK"),
    }
}

/// The same listing by our reader.
fn our_listing(path: &Path) -> String {
    let archive = open(path, &ReadOptions::default()).unwrap();
    let mut out = String::new();
    let mut zip = ::zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    for i in 0..zip.len() {
        let file = zip.by_index_raw(i).unwrap();
        let name = file.name().unwrap().to_string();
        drop(file);
        let data = if name.ends_with('/') {
            Vec::new()
        } else {
            archive.read_to_vec(&name).unwrap()
        };
        let digest = Sha256::digest(&data);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{name} {} {hex}\n", data.len()));
    }
    out
}

/// A package with every kind of entry: batched deflated and stored files, streamed
/// deflated and stored files (a small threshold), a raw copy, directories, a non-ASCII
/// name.
fn every_kind(dir: &Path, name: &str, options: WriterOptions) -> std::path::PathBuf {
    let src_path = dir.join("src.zip");
    source_zip(&src_path);
    let source = ZipArchive::open(&src_path, &ReadOptions::default()).unwrap();
    let target = dir.join(name);
    let options = options.with_large_entry_threshold(4096);
    let mut w = PackageWriter::create(&target, options).unwrap();
    w.add_bytes("META-INF/vault/filter.xml", b"<workspaceFilter/>".to_vec())
        .unwrap();
    w.add_bytes("jcr_root/small.txt", b"small ".repeat(100))
        .unwrap();
    w.add_bytes("jcr_root/tiny.txt", b"t".to_vec()).unwrap();
    w.add_bytes("jcr_root/empty.txt", Vec::new()).unwrap();
    w.add_bytes(
        "jcr_root/caf\u{e9}/\u{65e5}\u{672c}.txt",
        b"utf-8 names".to_vec(),
    )
    .unwrap();
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    w.add_reader("jcr_root/big.bin", &mut big.as_slice(), None)
        .unwrap();
    let noise: Vec<u8> = (0..50_000u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
        .collect();
    w.add_reader(
        "jcr_root/noise.jpg",
        &mut noise.as_slice(),
        Some(noise.len() as u64),
    )
    .unwrap();
    w.raw_copy(&source, "jcr_root/a.xml").unwrap();
    w.add_directory("jcr_root/empty").unwrap();
    for i in 0..40 {
        let text = format!("<page n=\"{i}\"/>").repeat(i + 1);
        w.add_bytes(
            &format!("jcr_root/pages/p{i}/.content.xml"),
            text.into_bytes(),
        )
        .unwrap();
    }
    w.add_bytes("META-INF/vault/properties.xml", b"<properties/>".to_vec())
        .unwrap();
    w.finish().unwrap();
    target
}

#[test]
fn batches_deflated_while_the_next_is_queued_give_the_serial_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let serial = every_kind(
        dir.path(),
        "serial.zip",
        WriterOptions::default().with_parallel(false),
    );
    for (entries, bytes) in [(1, 1), (3, 1 << 20), (7, 500), (2048, 32 << 20)] {
        let name = format!("parallel-{entries}-{bytes}.zip");
        let options = WriterOptions::default().with_batch_limits(entries, bytes);
        let parallel = every_kind(dir.path(), &name, options);
        assert!(
            std::fs::read(&parallel).unwrap() == std::fs::read(&serial).unwrap(),
            "{name} differs from the serial bytes"
        );
    }
}

#[test]
fn other_readers_read_what_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let target = every_kind(dir.path(), "every.zip", WriterOptions::default());
    unzip_accepts(&target);
    let ours = our_listing(&target);
    assert!(ours.contains("jcr_root/big.bin 800000 "), "{ours}");
    assert_eq!(python_lists(&target), ours, "python zipfile");
    assert_eq!(java_lists(&target), ours, "java.util.zip");
}

#[test]
fn other_readers_read_zip64_archives() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("many.zip");
    let mut w = PackageWriter::create(&target, WriterOptions::default()).unwrap();
    for i in 0..66_000u32 {
        w.add_bytes(
            &format!("jcr_root/d{}/e{i}", i / 1000),
            vec![b'x'; (i % 7) as usize],
        )
        .unwrap();
    }
    w.finish().unwrap();
    unzip_accepts(&target);
    let ours = our_listing(&target);
    assert_eq!(python_lists(&target), ours, "python zipfile");
    assert_eq!(java_lists(&target), ours, "java.util.zip");
}

#[test]
fn names_are_checked_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("order.zip");
    let mut w = PackageWriter::create(&target, WriterOptions::default()).unwrap();
    w.add_bytes("META-INF/vault/filter.xml", b"f".to_vec())
        .unwrap();
    w.add_bytes("jcr_root/a/b/.content.xml", b"c".to_vec())
        .unwrap();
    w.add_bytes("jcr_root/z.txt", b"z".to_vec()).unwrap();
    // Back to directories left earlier: their names are still known.
    let e = w
        .add_bytes("META-INF/vault/filter.xml", b"again".to_vec())
        .unwrap_err();
    assert!(matches!(e, ArchiveError::DuplicateEntry { .. }), "{e:?}");
    let e = w.add_bytes("jcr_root/a/b", b"x".to_vec()).unwrap_err();
    assert!(
        matches!(e, ArchiveError::FileDirectoryConflict { .. }),
        "{e:?}"
    );
    let e = w.add_bytes("jcr_root/z.txt/c", b"x".to_vec()).unwrap_err();
    assert!(
        matches!(e, ArchiveError::FileDirectoryConflict { .. }),
        "{e:?}"
    );
    w.add_bytes("META-INF/vault/properties.xml", b"p".to_vec())
        .unwrap();
    w.add_directory("jcr_root/a").unwrap();
    w.add_bytes("jcr_root/a/c.txt", b"c".to_vec()).unwrap();
    // Queued (not yet written) entries count as well.
    let e = w.add_bytes("jcr_root/a/c.txt", b"c".to_vec()).unwrap_err();
    assert!(matches!(e, ArchiveError::DuplicateEntry { .. }), "{e:?}");
    w.finish().unwrap();
    let described = describe(&target);
    let names: Vec<&str> = described
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "META-INF/",
            "META-INF/vault/",
            "META-INF/vault/filter.xml",
            "jcr_root/",
            "jcr_root/a/",
            "jcr_root/a/b/",
            "jcr_root/a/b/.content.xml",
            "jcr_root/z.txt",
            "META-INF/vault/properties.xml",
            "jcr_root/a/c.txt",
        ]
    );
    unzip_accepts(&target);
}

#[test]
fn a_reused_deflate_state_gives_the_deflate_encoders_bytes() {
    use std::io::Write;
    let text: Vec<u8> = (0..400_000u32)
        .flat_map(|i| format!("<node n=\"{}\"/>\n", i % 977).into_bytes())
        .collect();
    let noise: Vec<u8> = (0..300_000u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
        .collect();
    for data in [&text[..], &noise[..], b"", b"a", &text[..70_000]] {
        for level in [1u8, 6, 9] {
            let mut encoder =
                DeflateEncoder::new(Vec::new(), flate2::Compression::new(u32::from(level)));
            encoder.write_all(data).unwrap();
            let expected = encoder.finish().unwrap();
            // Twice: the second time through the reset state.
            assert_eq!(
                deflate(data, level).unwrap(),
                expected,
                "level {level}, {} bytes",
                data.len()
            );
            assert_eq!(
                deflate(data, level).unwrap(),
                expected,
                "level {level} again"
            );
        }
    }
}

/// The files of [`prepared_or_added`]: deflated, stored (a JPEG, empty, tiny), in
/// folders not added before, and one above the large-entry threshold.
fn prepared_files() -> Vec<(String, Vec<u8>)> {
    let big: Vec<u8> = (0..5_000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
    vec![
        ("jcr_root/.content.xml".into(), b"<jcr:root/>".repeat(50)),
        (
            "jcr_root/a/b/photo.jpg".into(),
            b"\xff\xd8\xff\xe0 jpeg".to_vec(),
        ),
        ("jcr_root/a/empty.txt".into(), Vec::new()),
        ("jcr_root/a/tiny.txt".into(), b"t".to_vec()),
        ("jcr_root/c/big.bin".into(), big),
        ("jcr_root/c/d/text.txt".into(), b"hello ".repeat(300)),
    ]
}

/// A package of [`prepared_files`] after a queued file and a directory, its files
/// added with `add_bytes` or, when `prepared`, made by `WriterOptions::prepare` and
/// added with `add_prepared`.
fn prepared_or_added(target: &Path, prepared: bool) -> Vec<u8> {
    let options = WriterOptions::default().with_large_entry_threshold(4096);
    let mut w = PackageWriter::create(target, options).unwrap();
    w.add_bytes(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\n".to_vec(),
    )
    .unwrap();
    w.add_directory("jcr_root/a").unwrap();
    for (name, data) in prepared_files() {
        if prepared {
            let file = options.prepare(name, data).unwrap();
            w.add_prepared(file).unwrap();
        } else {
            w.add_bytes(&name, data).unwrap();
        }
    }
    w.finish().unwrap();
    std::fs::read(target).unwrap()
}

#[test]
fn files_prepared_elsewhere_give_the_bytes_of_files_added() {
    let dir = tempfile::tempdir().unwrap();
    let added = prepared_or_added(&dir.path().join("added.zip"), false);
    let prepared = prepared_or_added(&dir.path().join("prepared.zip"), true);
    assert!(
        added == prepared,
        "add_prepared wrote other bytes than add_bytes"
    );
    unzip_accepts(&dir.path().join("prepared.zip"));
}

#[test]
fn prepared_files_are_checked_like_added_ones() {
    let dir = tempfile::tempdir().unwrap();
    let options = WriterOptions::default();
    let mut w = PackageWriter::create(dir.path().join("p.zip"), options).unwrap();
    let file = |name: &str| options.prepare(name.to_owned(), b"x".to_vec()).unwrap();
    assert_eq!(file("jcr_root/x.txt").size(), 1);
    w.add_prepared(file("jcr_root/x.txt")).unwrap();
    assert!(matches!(
        w.add_prepared(file("jcr_root/x.txt")),
        Err(ArchiveError::DuplicateEntry { .. })
    ));
    assert!(matches!(
        w.add_prepared(file("jcr_root/x.txt/y")),
        Err(ArchiveError::FileDirectoryConflict { .. })
    ));
    assert!(matches!(
        w.add_prepared(file("../escape")),
        Err(ArchiveError::UnsafeName { .. })
    ));
}

/// The central directory spooled in memory and spooled in a file from the first
/// record give the same bytes, through `finish` and through the names listed.
#[test]
fn a_spool_in_memory_and_one_in_a_file_give_the_same_zip() {
    let dir = tempfile::tempdir().unwrap();
    let write = |limit: usize| {
        let spool = Spool::with_limit(dir.path().to_owned(), "spool-".into(), limit);
        let mut zip = ZipOut::new(std::io::Cursor::new(Vec::new()), spool);
        let options = WriterOptions::default();
        for i in 0..50 {
            let name = format!("jcr_root/a/{i}.txt");
            let data = vec![b'a' + (i % 26) as u8; i];
            let mut crc = flate2::Crc::new();
            crc.update(&data);
            let mut header = options.header(name.as_bytes(), STORED, false);
            header.crc = crc.sum();
            header.compressed = data.len() as u64;
            header.uncompressed = data.len() as u64;
            zip.add(&header, &data).unwrap();
        }
        let spilled = zip.spool_spilled();
        let mut names = Vec::new();
        zip.for_each_name(|n| names.push(String::from_utf8_lossy(n).into_owned()))
            .unwrap();
        (zip.finish().unwrap().into_inner(), names, spilled)
    };
    let (in_memory, names, spilled) = write(SPOOL_IN_MEMORY);
    assert!(!spilled);
    let (in_file, file_names, spilled) = write(0);
    assert!(spilled);
    assert_eq!(in_memory, in_file);
    assert_eq!(names, file_names);
    assert_eq!(names.len(), 50);
    assert_eq!(names[7], "jcr_root/a/7.txt");
    let zip = ::zip::ZipArchive::new(std::io::Cursor::new(in_memory)).unwrap();
    assert_eq!(zip.len(), 50);
}
