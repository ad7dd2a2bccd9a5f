//! The catalogue API end to end on small repositories: create, list, open_store,
//! verify, delete, prune, and what a failure leaves.

use super::*;
use crate::events::{Actor, NoEvents, OwnedEvent, Recorded};
use crate::node::Node;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{AddOptions, Store, StoreRead};
use crate::value::{Binary, Date, Property, Value};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;

fn actor(time: &str) -> Actor {
    Actor {
        user: "tester".into(),
        time: Date::parse(time).unwrap(),
    }
}

fn repo_with(dir: &Path, pages: usize) -> SqliteStore {
    let mut s = SqliteStore::init(&dir.join("repo")).unwrap();
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

#[test]
fn a_backup_lists_opens_and_verifies_and_a_second_copies_nothing() {
    let d = tempfile::tempdir().unwrap();
    let s = repo_with(d.path(), 10);
    let cat = Catalogue::for_repository(s.location()).unwrap();
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
    let m2 = cat
        .create_backup_from(
            &s,
            &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
            &NoEvents,
            &no(),
        )
        .unwrap();
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
    let img = cat.backup_dir(&m2.id).join("repository.db");
    let mut bytes = std::fs::read(&img).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&img, bytes).unwrap();
    let r = cat.verify(&m2.id, &NoEvents).unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("repository.db fails its checksum")),
        "{:?}",
        r.problems
    );
}

#[test]
fn unknown_ids_and_newer_manifests_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let s = repo_with(d.path(), 1);
    let cat = Catalogue::create(&d.path().join("cat")).unwrap();
    let m = cat
        .create_backup_from(
            &s,
            &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
            &NoEvents,
            &no(),
        )
        .unwrap();
    let e = cat.manifest("20261204T1705").unwrap_err().to_string();
    assert!(
        e.contains("no backup 20261204T1705") && e.contains(&m.id),
        "{e}"
    );
    assert!(cat.manifest("../../etc").is_err());
    let mf = cat.backup_dir(&m.id).join("manifest.json");
    let text = std::fs::read_to_string(&mf)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 2");
    std::fs::write(&mf, text).unwrap();
    let e = cat.manifest(&m.id).unwrap_err();
    assert!(
        matches!(e, BackupError::NewerFormat { found: 2, .. }),
        "{e}"
    );
    // list leaves it out, scan names it.
    assert!(cat.list().unwrap().is_empty());
    assert_eq!(cat.scan().unwrap().damaged.len(), 1);
}

#[test]
fn delete_and_prune_remove_backups_and_their_unshared_blobs() {
    let d = tempfile::tempdir().unwrap();
    let mut s = repo_with(d.path(), 2);
    let cat = Catalogue::for_repository(s.location()).unwrap();
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
        ids.push(
            cat.create_backup_from(&s, &CreateOptions::new(actor(t)), &NoEvents, &no())
                .unwrap()
                .id,
        );
    }
    let blob_files = || {
        walkdir::WalkDir::new(cat.dir().join("blobs"))
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .count()
    };
    assert_eq!(blob_files(), 5);
    let policy = PrunePolicy {
        keep_last: Some(1),
        ..Default::default()
    };
    let dry = cat.prune(&policy, true).unwrap();
    assert_eq!(dry.removed, ids[..2].to_vec());
    assert_eq!(dry.blobs_removed, 0);
    assert_eq!(cat.list().unwrap().len(), 3);
    // Deleting the newest leaves blob p102 to nobody.
    cat.delete(&ids[2]).unwrap();
    assert_eq!(blob_files(), 4);
    let r = cat.prune(&policy, false).unwrap();
    assert_eq!(r.kept, vec![ids[1].clone()]);
    assert_eq!(r.blobs_removed, 0);
    assert_eq!(blob_files(), 4);
    assert!(cat.verify(&ids[1], &NoEvents).unwrap().ok());
    assert!(cat.delete(&ids[0]).is_err());
    // The newest intact backup is kept even by a policy that would not keep it.
    let mut s2 = s;
    add_pages(&mut s2, 200, 1);
    let newest = cat
        .create_backup_from(
            &s2,
            &CreateOptions::new(actor("2026-12-05T10:00:00Z")),
            &NoEvents,
            &no(),
        )
        .unwrap()
        .id;
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
    let s = repo_with(d.path(), 3);
    let cat = Catalogue::for_repository(s.location()).unwrap();
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
    cat.create_backup_from(
        &s,
        &CreateOptions::new(actor("2026-12-04T17:05:13Z")),
        &NoEvents,
        &no(),
    )
    .unwrap();
    assert_eq!(markers(), 0);
}

#[test]
fn a_missing_source_blob_fails_the_backup_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let s = repo_with(d.path(), 2);
    let cat = Catalogue::for_repository(s.location()).unwrap();
    let gone = walkdir::WalkDir::new(s.location().join("blobs"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_type().is_file())
        .unwrap();
    std::fs::remove_file(gone.path()).unwrap();
    let e = cat
        .create_backup_from(
            &s,
            &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
            &NoEvents,
            &no(),
        )
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
    let s = repo_with(d.path(), 3);
    let cat = Catalogue::for_repository(s.location()).unwrap();
    let m = cat
        .create_backup_from(
            &s,
            &CreateOptions::new(actor("2026-12-04T17:05:12Z")),
            &NoEvents,
            &no(),
        )
        .unwrap();
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
