//! The catalogue API end to end on small repositories: create, list, open_store,
//! verify, delete, prune, and what a failure leaves.

use super::*;
use crate::events::{NoEvents, OwnedEvent, Recorded};
use crate::node::Node;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{AddOptions, Store, StoreRead};
use crate::value::{Binary, Property, Value};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::test_support::actor;

fn repo_with(dir: &Path, pages: usize) -> SqliteStore {
    let mut s = crate::test_support::repo_in(dir);
    add_pages(&mut s, 0, pages);
    s
}

fn add_pages(s: &mut SqliteStore, from: usize, n: usize) {
    let mut t = s
        .begin_operation(crate::repository::OperationMeta::new(
            "pages",
            &actor("2026-12-01T00:00:00Z"),
        ))
        .unwrap();
    for i in from..from + n {
        let mut p = Node::new(format!("p{i}"), "nt:unstructured");
        p.set(Property::single(
            "data",
            Value::Binary(Binary::Inline(format!("binary {i}").into_bytes().into())),
        ));
        t.add_node("default", "/", &p, &AddOptions::default())
            .unwrap();
    }
    t.commit().unwrap();
}

fn no() -> AtomicBool {
    AtomicBool::new(false)
}

/// A repository of `pages` pages in `dir` and its default catalogue
/// (`REPO/backups`): the set-up most tests start from.
fn repo_and_catalogue(dir: &Path, pages: usize) -> (SqliteStore, Catalogue) {
    let s = repo_with(dir, pages);
    let cat = Catalogue::for_repository(s.location()).unwrap();
    (s, cat)
}

/// A manual backup of every workspace of `s` by the test actor at `time`, taken
/// the generic way ([`Catalogue::create_backup_from`]).
fn backup_from(cat: &Catalogue, s: &SqliteStore, time: &str) -> Result<Manifest> {
    cat.create_backup_from(s, &CreateOptions::new(actor(time)), &NoEvents, &no())
}

/// The same, taken the SQLite way ([`Catalogue::create_backup_of`]: the image
/// read straight from the database file, an unchanged repository shared).
fn backup_of(cat: &Catalogue, s: &SqliteStore, time: &str) -> Result<Manifest> {
    cat.create_backup_of(s, &CreateOptions::new(actor(time)), &NoEvents, &no())
}

#[test]
fn a_backup_lists_opens_and_verifies_and_a_second_copies_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 10);
    let rec = Recorded::default();
    let m1 = cat
        .create_backup_from(
            &s,
            &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
            &rec,
            &no(),
        )
        .unwrap();
    assert_eq!(m1.id, "20261204T170512Z");
    assert_eq!(m1.blobs.count, 10);
    assert_eq!(m1.blobs.copied_count, 10);
    assert_eq!(m1.blobs.reused_bytes, 0);
    assert_eq!(m1.last_operation, Some(1));
    assert_eq!(m1.workspaces[0].nodes, 11 + 5); // 5: Oak's initial content
    assert!(rec
        .events()
        .iter()
        .any(|e| matches!(e, OwnedEvent::Phase { name, .. } if name == "copying blobs")));
    // Same second: a suffix.
    let m2 = backup_from(&cat, &s, "2026-12-04T17:05:12Z").unwrap();
    assert_eq!(m2.id, "20261204T170512Z-2");
    assert_eq!(m2.blobs.copied_bytes, 0);
    assert_eq!(m2.blobs.reused_bytes, m1.blobs.bytes);
    let ids: Vec<String> = cat.list().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![m1.id.clone(), m2.id.clone()]);
    assert_eq!(cat.manifest(&m1.id).unwrap(), m1);

    let b = cat.open_store(&m1.id).unwrap();
    assert_eq!(b.children("default", "/").unwrap().len(), 10 + 1); // and /jcr:system
    let p = b.property("default", "/p3", "data").unwrap().unwrap();
    let Value::Binary(Binary::Blob { sha256, .. }) = &p.values[0] else {
        panic!("{p:?}")
    };
    let mut text = String::new();
    b.open_blob(sha256)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "binary 3");
    assert!(b.put_blob(&mut &b"x"[..]).is_err());

    assert!(cat.verify(&m1.id, &NoEvents).unwrap().ok());
    // Damage a blob: verify names it, a read through the store fails naming it.
    let blob = cat.blobs().path_of(sha256).unwrap();
    std::fs::write(&blob, "binary X").unwrap();
    let r = cat.verify(&m1.id, &NoEvents).unwrap();
    assert!(!r.ok());
    assert!(r.problems[0].contains(sha256.as_str()), "{:?}", r.problems);
    let mut text = String::new();
    let e = b
        .open_blob(sha256)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap_err();
    assert!(e.to_string().contains("is damaged"), "{e}");
    // Damage the image: its checksum fails.
    drop(b);
    let img = cat.backup_dir(&m2.id).join(IMAGE_LIST_FILE);
    let mut bytes = std::fs::read(&img).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&img, bytes).unwrap();
    let r = cat.verify(&m2.id, &NoEvents).unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("image.txt fails its checksum")),
        "{:?}",
        r.problems
    );
}

#[test]
fn unknown_ids_and_newer_manifests_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let s = repo_with(d.path(), 1);
    let cat = Catalogue::create(&d.path().join("cat")).unwrap();
    let m = backup_from(&cat, &s, "2026-12-04T17:05:12Z").unwrap();
    let e = cat.manifest("20261204T1705").unwrap_err().to_string();
    assert!(
        e.contains("no backup 20261204T1705") && e.contains(&m.id),
        "{e}"
    );
    assert!(cat.manifest("../../etc").is_err());
    let mf = cat.backup_dir(&m.id).join("manifest.json");
    let text = std::fs::read_to_string(&mf)
        .unwrap()
        .replace("\"version\": 2", "\"version\": 3");
    std::fs::write(&mf, text).unwrap();
    let e = cat.manifest(&m.id).unwrap_err();
    assert!(
        matches!(e, BackupError::NewerFormat { found: 3, .. }),
        "{e}"
    );
    // list leaves it out, scan names it.
    assert!(cat.list().unwrap().is_empty());
    assert_eq!(cat.scan().unwrap().damaged.len(), 1);
}

#[test]
fn delete_and_prune_remove_backups_and_their_unshared_blobs() {
    let d = tempfile::tempdir().unwrap();
    let (mut s, cat) = repo_and_catalogue(d.path(), 2);
    let mut ids = Vec::new();
    for (i, t) in [
        "2026-12-01T10:00:00Z",
        "2026-12-02T10:00:00Z",
        "2026-12-03T10:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        add_pages(&mut s, 100 + i, 1);
        ids.push(backup_from(&cat, &s, t).unwrap().id);
    }
    // The binaries only: the images' chunks share the folder.
    let chunks: std::collections::HashSet<String> = ids
        .iter()
        .flat_map(|id| {
            std::fs::read_to_string(cat.backup_dir(id).join(IMAGE_LIST_FILE))
                .unwrap()
                .lines()
                .map(|l| l.split(' ').next().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(chunks.len(), 3, "each image one chunk of its own");
    let blob_files = || {
        walkdir::WalkDir::new(cat.dir().join("blobs"))
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .filter(|e| {
                let sha = format!(
                    "{}{}",
                    e.path()
                        .parent()
                        .unwrap()
                        .file_name()
                        .unwrap()
                        .to_string_lossy(),
                    e.file_name().to_string_lossy()
                );
                !chunks.contains(&sha)
            })
            .count()
    };
    assert_eq!(blob_files(), 5);
    let policy = PrunePolicy {
        keep_last: Some(1),
        ..Default::default()
    };
    let dry = cat.prune(&policy, true).unwrap();
    assert_eq!(dry.removed, ids[..2].to_vec());
    // The two images' chunks, no binary (each is shared with the newest).
    assert_eq!(dry.blobs_removed, 2);
    assert_eq!(cat.list().unwrap().len(), 3);
    // Deleting the newest leaves blob p102 to nobody.
    cat.delete(&ids[2]).unwrap();
    assert_eq!(blob_files(), 4);
    let r = cat.prune(&policy, false).unwrap();
    assert_eq!(r.kept, vec![ids[1].clone()]);
    assert_eq!(r.blobs_removed, 1, "the image of the first");
    assert_eq!(blob_files(), 4);
    assert!(cat.verify(&ids[1], &NoEvents).unwrap().ok());
    assert!(cat.delete(&ids[0]).is_err());
    // The newest intact backup is kept even by a policy that would not keep it.
    let mut s2 = s;
    add_pages(&mut s2, 200, 1);
    let newest = backup_from(&cat, &s2, "2026-12-05T10:00:00Z").unwrap().id;
    std::fs::remove_file(cat.backup_dir(&newest).join("blobs.txt")).unwrap();
    let r = cat.prune(&policy, false).unwrap();
    assert_eq!(r.kept, vec![ids[1].clone(), newest.clone()], "{r:?}");
    assert!(matches!(
        cat.prune(&PrunePolicy::default(), false),
        Err(BackupError::EmptyPolicy)
    ));
}

#[test]
fn a_cancelled_backup_leaves_nothing_and_leftovers_are_cleaned_up() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 3);
    let e = cat
        .create_backup_from(
            &s,
            &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
            &NoEvents,
            &AtomicBool::new(true),
        )
        .unwrap_err();
    assert!(matches!(e, BackupError::Cancelled { .. }), "{e}");
    assert!(cat.list().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(cat.dir().join("backups"))
            .unwrap()
            .count(),
        0
    );
    // What a kill leaves: an unfinished folder and a temporary blob.
    std::fs::create_dir(cat.dir().join("backups/.tmp-20261204T000000Z")).unwrap();
    std::fs::write(cat.dir().join("blobs/.tmp-abc"), "x").unwrap();
    assert_eq!(cat.scan().unwrap().unfinished.len(), 1);
    let rec = Recorded::default();
    cat.create_backup_from(
        &s,
        &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
        &rec,
        &no(),
    )
    .unwrap();
    assert!(rec.events().iter().any(|e| matches!(e, OwnedEvent::Warning { message } if message.contains(".tmp-20261204T000000Z"))));
    assert!(cat.scan().unwrap().unfinished.is_empty());
    assert!(!cat.dir().join("blobs/.tmp-abc").exists());
    // No marker is left in the repository; a dead process's marker is removed.
    let markers = || {
        std::fs::read_dir(s.location())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".backup-in-progress-")
            })
            .count()
    };
    assert_eq!(markers(), 0);
    std::fs::write(s.location().join(".backup-in-progress-x-1"), "999999999\n").unwrap();
    backup_from(&cat, &s, "2026-12-04T17:05:13Z").unwrap();
    assert_eq!(markers(), 0);
}

#[test]
fn a_missing_source_blob_fails_the_backup_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 2);
    let gone = walkdir::WalkDir::new(s.location().join("blobs"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_type().is_file())
        .unwrap();
    std::fs::remove_file(gone.path()).unwrap();
    let e = backup_from(&cat, &s, "2026-12-04T17:05:12Z")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot be backed up"), "{e}");
    assert!(cat.list().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(cat.dir().join("backups"))
            .unwrap()
            .count(),
        0
    );
    let blobs = walkdir::WalkDir::new(cat.dir().join("blobs"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .count();
    assert_eq!(blobs, 0, "the blob copied before the failure is collected");
}

#[test]
fn an_open_backup_holds_off_removals_until_it_is_dropped() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 3);
    let m = backup_from(&cat, &s, "2026-12-04T17:05:12Z").unwrap();
    let b = cat.open_store(&m.id).unwrap();
    // What delete and prune take: not to be had while the backup is read.
    assert!(
        lock::CatalogueLock::try_take(cat.dir(), lock::Mode::Exclusive)
            .unwrap()
            .is_none()
    );
    // Readers share it.
    let b2 = cat.open_store(&m.id).unwrap();
    assert_eq!(b2.children("default", "/").unwrap().len(), 3 + 1); // and /jcr:system
    drop((b, b2));
    assert!(
        lock::CatalogueLock::try_take(cat.dir(), lock::Mode::Exclusive)
            .unwrap()
            .is_some()
    );
    cat.delete(&m.id).unwrap();
}

#[test]
fn images_are_chunks_shared_between_backups_and_an_unchanged_repository_copies_none() {
    let d = tempfile::tempdir().unwrap();
    // About 3.5 MiB of image: four chunks.
    let (mut s, cat) = repo_and_catalogue(d.path(), 12_000);
    let opts = |t: &str| CreateOptions::new(actor(t));
    let m1 = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    let i1 = m1.image.clone().unwrap();
    assert_eq!(m1.version, MANIFEST_VERSION);
    assert!(i1.chunks >= 1 && i1.copied_bytes > 0, "{i1:?}");
    assert!(m1.generation.is_some());
    assert!(!cat.backup_dir(&m1.id).join("repository.db").exists());
    // Unchanged: nothing copied, the first image shared.
    let m2 = backup_of(&cat, &s, "2026-12-04T17:01:00Z").unwrap();
    let i2 = m2.image.clone().unwrap();
    assert_eq!(i2.unchanged_since.as_deref(), Some(m1.id.as_str()));
    assert_eq!((i2.copied_bytes, i2.reused_bytes), (0, i1.bytes));
    assert_eq!(m2.last_operation, m1.last_operation);
    assert_eq!(m2.generation, m1.generation);
    // One more page: the image is copied again, but only the chunks that changed
    // are written.
    add_pages(&mut s, 12_000, 1);
    let m3 = backup_of(&cat, &s, "2026-12-04T17:02:00Z").unwrap();
    let i3 = m3.image.clone().unwrap();
    assert_eq!(i3.unchanged_since, None);
    assert_ne!(m3.generation, m1.generation);
    assert!(
        i3.copied_chunks < i3.chunks && i3.reused_bytes > 0,
        "{i3:?}"
    );
    assert_eq!(m3.last_operation, Some(2));
    // A different workspace selection never shares.
    let mut only = opts("2026-12-04T17:03:00Z");
    only.workspaces = vec!["default".into()];
    let m4 = cat.create_backup_of(&s, &only, &NoEvents, &no()).unwrap();
    assert_eq!(m4.image.as_ref().unwrap().unchanged_since, None);
    assert_eq!(m4.chosen_workspaces, vec!["default".to_string()]);
    for m in [&m1, &m2, &m3, &m4] {
        assert!(cat.verify(&m.id, &NoEvents).unwrap().ok(), "{}", m.id);
    }
    // Reading an image reads it on demand: no temporary copy.
    let b = cat.open_backup_store(&m2.id).unwrap();
    // The pages and /jcr:system.
    assert_eq!(b.children("default", "/").unwrap().len(), 12_000 + 1);
    assert_eq!(reading(cat.dir()), 0);
    drop(b);
    // Deleting the first keeps the chunks the second shares.
    cat.delete(&m1.id).unwrap();
    assert!(cat.verify(&m2.id, &NoEvents).unwrap().ok());
    let b = cat.open_store(&m3.id).unwrap();
    assert_eq!(b.children("default", "/").unwrap().len(), 12_001 + 1);
}

/// How many temporary image folders are in catalogue folder `dir`.
fn reading(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-read-"))
        .count()
}

/// Every node of workspace `ws` of `s` with its properties, in document order.
fn content(s: &dyn StoreRead, ws: &str) -> Vec<String> {
    s.walk(ws, "/")
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            format!("{} {:?}", e.path, e.node)
        })
        .collect()
}

/// An image read on demand reads exactly as the reassembled file does, writes no
/// temporary copy, and reads only the chunks a query needs.
#[test]
fn an_image_read_on_demand_reads_as_the_reassembled_file() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 12_000);
    let m = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    let chunks = m.image.as_ref().unwrap().chunks;
    assert!(chunks >= 3);
    // One node: a few chunks of the image.
    let (one, image) = cat.open_image_on_demand(&m.id).unwrap();
    assert_eq!(reading(cat.dir()), 0);
    assert!(one.node("default", "/p6000").unwrap().is_some());
    let read = image.chunks_checked();
    assert!(
        read < chunks as usize,
        "{read} of {chunks} chunks read for one node"
    );
    let lazy = cat.open_backup_store(&m.id).unwrap();
    assert_eq!(lazy.location(), cat.backup_dir(&m.id));
    let (path, _temp) = cat.image_of(&m.id, &m).unwrap();
    let file = SqliteStore::open_image(&path, cat.dir()).unwrap();
    assert_eq!(content(&lazy, "default"), content(&file, "default"));
    assert!(
        content(&lazy, "default").len() > 12_000,
        "the pages, / and /jcr:system"
    );
    assert_eq!(lazy.workspaces().unwrap(), file.workspaces().unwrap());
    assert_eq!(lazy.history().unwrap(), file.history().unwrap());
    // Read-only as the file is.
    assert!(lazy.put_blob(&mut &b"x"[..]).is_err());
}

/// A damaged image read on demand: a bad list or a damaged first chunk refuses
/// the open; a damaged or missing later chunk fails the read that needs it,
/// naming the chunk, and leaves the chunks before it readable.
#[test]
fn a_damaged_chunk_fails_the_read_that_needs_it() {
    let d = tempfile::tempdir().unwrap();
    // Three chunks at least.
    let (s, cat) = repo_and_catalogue(d.path(), 12_000);
    let m = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    assert!(m.image.as_ref().unwrap().chunks >= 3);
    let list_path = cat.backup_dir(&m.id).join(IMAGE_LIST_FILE);
    let list = std::fs::read_to_string(&list_path).unwrap();
    let shas: Vec<String> = list
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let refused = || cat.open_backup_store(&m.id).unwrap_err().to_string();
    // A bad line after the chunks.
    std::fs::write(&list_path, format!("{list}not a line\n")).unwrap();
    assert!(refused().contains("has a bad line 'not a line'"));
    // The first chunk listed with another size than it has.
    let (first, rest) = list.split_once('\n').unwrap();
    let (sha0, size0) = first.split_once(' ').unwrap();
    let short: u64 = size0.parse::<u64>().unwrap() - 4096;
    std::fs::write(&list_path, format!("{sha0} {short}\n{rest}")).unwrap();
    let e = refused();
    assert!(
        e.contains(&format!("backup {} is damaged", m.id))
            && e.contains(&format!("has {size0} bytes, not {short}")),
        "{e}"
    );
    std::fs::write(&list_path, &list).unwrap();
    // The last chunk damaged: the open (the schema, on the first pages) and what
    // lies before it read; the whole content fails, naming it.
    let last = shas.len() - 1;
    let p = cat.blobs().path_of(&shas[last]).unwrap();
    let good = std::fs::read(&p).unwrap();
    let mut bytes = good.clone();
    bytes[100] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    // The error a whole walk of the backup meets (its root still reads).
    let walk_error = |what: &str| {
        let b = cat.open_backup_store(&m.id).unwrap();
        assert!(b.node("default", "/").unwrap().is_some());
        let e = b.walk("default", "/").unwrap().find_map(|e| e.err());
        e.unwrap_or_else(|| panic!("the walk meets the {what} chunk"))
            .to_string()
    };
    let e = walk_error("damaged");
    assert!(
        e.contains(&shas[last]) && e.contains("is damaged") && !e.contains("disk I/O"),
        "{e}"
    );
    // Missing: the same, naming it.
    std::fs::remove_file(&p).unwrap();
    let e = walk_error("missing");
    assert!(e.contains(&shas[last]), "{e}");
    // verify names it whatever was read.
    assert!(!cat.verify(&m.id, &NoEvents).unwrap().ok());
    std::fs::write(&p, &good).unwrap();
    assert!(cat.verify(&m.id, &NoEvents).unwrap().ok());
    assert!(content(&cat.open_backup_store(&m.id).unwrap(), "default").len() > 12_000);
}

#[test]
fn a_damaged_chunk_is_named_by_verify_and_refused_by_a_reader() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 5);
    let m = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    let list = std::fs::read_to_string(cat.backup_dir(&m.id).join(IMAGE_LIST_FILE)).unwrap();
    let sha = list.split(' ').next().unwrap().to_string();
    let p = cat.blobs().path_of(&sha).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&p, bytes).unwrap();
    let r = cat.verify(&m.id, &NoEvents).unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| p.starts_with("image chunk 1: ") && p.contains(&sha) && p.contains("damaged")),
        "{:?}",
        r.problems
    );
    let e = cat.open_backup_store(&m.id).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("backup {} is damaged", m.id))
            && e.to_string().contains(&sha),
        "{e}"
    );
    // Like a binary, a chunk in place with its size is shared without being read
    // (verify reads them): the next backup of the unchanged repository shares the
    // damaged image, and verify names the damage in it too.
    let m2 = backup_of(&cat, &s, "2026-12-04T17:01:00Z").unwrap();
    assert_eq!(m2.image.unwrap().unchanged_since, Some(m.id.clone()));
    assert!(!cat.verify(&m2.id, &NoEvents).unwrap().ok());
}

/// A backup of manifest format 1 (the image whole as `repository.db` in its folder)
/// written by the previous jcrpack: listed, read, verified, never shared, deleted.
#[test]
fn backups_of_the_first_format_stay_readable() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 7);
    let m = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    // Rewrite it as format 1.
    let dir = cat.backup_dir(&m.id);
    cat.assemble_image(
        &m.id,
        &dir.join(IMAGE_LIST_FILE),
        &dir.join("repository.db"),
    )
    .unwrap();
    std::fs::remove_file(dir.join(IMAGE_LIST_FILE)).unwrap();
    let mut old = m.clone();
    old.version = 1;
    let (sha256, bytes) = super::blobs::hash_file(&dir.join("repository.db")).unwrap();
    old.files[0] = FileEntry {
        path: "repository.db".into(),
        bytes,
        sha256,
    };
    old.bytes = old.files.iter().map(|f| f.bytes).sum();
    old.image = None;
    old.generation = None;
    let mut text = serde_json::to_value(&old).unwrap();
    assert!(text.get("image").is_none() && text.get("generation").is_none());
    text["version"] = 1.into();
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&text).unwrap(),
    )
    .unwrap();
    // Its chunks are no longer referenced: collected by the next delete or prune.
    assert_eq!(cat.list().unwrap(), vec![old.clone()]);
    assert!(cat.verify(&m.id, &NoEvents).unwrap().ok());
    let b = cat.open_store(&m.id).unwrap();
    assert_eq!(b.children("default", "/").unwrap().len(), 7 + 1); // and /jcr:system
    drop(b);
    let m2 = backup_of(&cat, &s, "2026-12-04T17:01:00Z").unwrap();
    assert_eq!(m2.image.as_ref().unwrap().unchanged_since, None);
    cat.delete(&m2.id).unwrap();
    assert!(cat.verify(&m.id, &NoEvents).unwrap().ok());
    cat.delete(&m.id).unwrap();
    assert!(cat.list().unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn binaries_are_linked_from_a_repository_on_the_same_file_system_and_checked() {
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 5);
    let m = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    assert_eq!((m.blobs.count, m.blobs.copied_count), (5, 5));
    let list = std::fs::read_to_string(cat.backup_dir(&m.id).join("blobs.txt")).unwrap();
    let repo_blobs = crate::repository::blob::BlobStore::new(s.location());
    for line in list.lines() {
        let sha = line.split(' ').next().unwrap();
        let ours = std::fs::metadata(cat.blobs().path_of(sha).unwrap()).unwrap();
        let theirs = std::fs::metadata(repo_blobs.path_of(sha).unwrap()).unwrap();
        assert_eq!(
            (ours.dev(), ours.ino()),
            (theirs.dev(), theirs.ino()),
            "blob {sha} is one file with two names"
        );
    }
    assert!(cat.verify(&m.id, &NoEvents).unwrap().ok());
    // The repository's `gc` (which unlinks) cannot take the catalogue's name.
    let first = list.lines().next().unwrap().split(' ').next().unwrap();
    std::fs::remove_file(repo_blobs.path_of(first).unwrap()).unwrap();
    assert!(cat.verify(&m.id, &NoEvents).unwrap().ok());

    // A damaged blob of the repository (written over in place, what jcrpack never
    // does) is linked as it is, not read through: `backup verify` names it, and a
    // reader of the backup refuses it, naming it.
    let d2 = tempfile::tempdir().unwrap();
    let (s2, cat2) = repo_and_catalogue(d2.path(), 2);
    let repo_blobs2 = crate::repository::blob::BlobStore::new(s2.location());
    let sha = {
        let mut one = None;
        for e in walk_files(&repo_blobs2.dir().to_path_buf()) {
            let name = e.file_name().unwrap().to_string_lossy().into_owned();
            let dir = e
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            one = Some(format!("{dir}{name}"));
        }
        one.unwrap()
    };
    let p = repo_blobs2.path_of(&sha).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    let m2 = backup_of(&cat2, &s2, "2026-12-04T17:00:00Z").unwrap();
    let report = cat2.verify(&m2.id, &NoEvents).unwrap();
    assert!(!report.ok());
    assert!(
        report.problems.iter().any(|p| p.contains(&sha)),
        "{:?}",
        report.problems
    );
    let mut out = Vec::new();
    let e = cat2
        .open_store(&m2.id)
        .unwrap()
        .open_blob(&sha)
        .and_then(|mut r| {
            r.read_to_end(&mut out)
                .map_err(|e| crate::repository::RepositoryError::Io {
                    path: p.clone(),
                    source: e,
                })
        })
        .unwrap_err();
    assert!(e.to_string().contains(&sha), "{e}");
    // A source that is not a regular file of the size is copied instead, and a
    // copy is checked: a blob whose repository file is missing fails the backup
    // (`a_missing_source_blob_fails_the_backup_naming_it`).
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
            out.push(p);
        }
    }
    out
}

/// A backup of an unchanged repository takes the earlier backup's lists over as
/// links (one file, two names), checked against the earlier manifest; deleting
/// either backup leaves the other whole; a missing or resized blob or chunk is
/// still noticed (a blob is copied again, a chunk defeats the sharing).
#[test]
fn an_unchanged_backup_links_the_earlier_lists_and_still_checks_what_it_shares() {
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 5);
    let m1 = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    let m2 = backup_of(&cat, &s, "2026-12-04T17:01:00Z").unwrap();
    assert_eq!(
        m2.image.as_ref().unwrap().unchanged_since,
        Some(m1.id.clone())
    );
    assert_eq!(m2.files, m1.files);
    for name in [IMAGE_LIST_FILE, "blobs.txt"] {
        let a = std::fs::metadata(cat.backup_dir(&m1.id).join(name)).unwrap();
        let b = std::fs::metadata(cat.backup_dir(&m2.id).join(name)).unwrap();
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "{name}");
    }
    cat.delete(&m1.id).unwrap();
    assert!(cat.verify(&m2.id, &NoEvents).unwrap().ok());

    // A blob gone from the catalogue: the next unchanged backup copies it again.
    let list = std::fs::read_to_string(cat.backup_dir(&m2.id).join("blobs.txt")).unwrap();
    let sha = list.lines().next().unwrap().split(' ').next().unwrap();
    std::fs::remove_file(cat.blobs().path_of(sha).unwrap()).unwrap();
    let m3 = backup_of(&cat, &s, "2026-12-04T17:02:00Z").unwrap();
    assert_eq!(
        m3.image.as_ref().unwrap().unchanged_since,
        Some(m2.id.clone())
    );
    assert_eq!(m3.blobs.copied_count, 1);
    assert!(cat.verify(&m3.id, &NoEvents).unwrap().ok());

    // A chunk of another size: the image is not shared, but copied again.
    let chunks = std::fs::read_to_string(cat.backup_dir(&m3.id).join(IMAGE_LIST_FILE)).unwrap();
    let chunk = chunks.lines().next().unwrap().split(' ').next().unwrap();
    let p = cat.blobs().path_of(chunk).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 1]).unwrap();
    let m4 = backup_of(&cat, &s, "2026-12-04T17:03:00Z").unwrap();
    assert_eq!(m4.image.as_ref().unwrap().unchanged_since, None);
    assert!(cat.verify(&m4.id, &NoEvents).unwrap().ok());
}

/// An earlier backup whose list no longer matches its manifest is not shared, and
/// the new backup never writes through the name it placed: the earlier file is
/// left exactly as it was (damaged, for `verify` to name).
#[test]
fn a_damaged_earlier_list_is_not_shared_and_not_written_over() {
    let d = tempfile::tempdir().unwrap();
    let (s, cat) = repo_and_catalogue(d.path(), 5);
    let m1 = backup_of(&cat, &s, "2026-12-04T17:00:00Z").unwrap();
    for (i, name) in [IMAGE_LIST_FILE, "blobs.txt"].into_iter().enumerate() {
        let p = cat.backup_dir(&m1.id).join(name);
        let good = std::fs::read(&p).unwrap();
        let mut bytes = good.clone();
        bytes[0] = if bytes[0] == b'0' { b'1' } else { b'0' };
        std::fs::write(&p, &bytes).unwrap();
        let m2 = backup_of(&cat, &s, &format!("2026-12-04T17:0{}:00Z", i + 1)).unwrap();
        assert_eq!(m2.image.as_ref().unwrap().unchanged_since, None, "{name}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}");
        assert!(cat.verify(&m2.id, &NoEvents).unwrap().ok(), "{name}");
        assert!(!cat.verify(&m1.id, &NoEvents).unwrap().ok(), "{name}");
        // The next round meets the earlier backup as the newest with the token.
        cat.delete(&m2.id).unwrap();
        std::fs::write(&p, &good).unwrap();
    }
}
