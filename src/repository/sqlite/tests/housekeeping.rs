//! Garbage collection of the blob folder and of leftovers (SQLite's files).

use super::*;
use crate::repository::{PruneSelect, Store};

fn blob_files(store: &SqliteStore) -> usize {
    // Blobs put and not committed may still be queued for the writer thread.
    store.db().blobs.wait_for_writes();
    walkdir::WalkDir::new(store.location().join("blobs"))
        .min_depth(2)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

fn binary(name: &str, bytes: &[u8]) -> Property {
    Property::single(name, Value::Binary(Binary::inline(bytes.to_vec())))
}

#[test]
fn gc_keeps_referenced_blobs_until_the_journal_lets_go() {
    let (_d, mut store) = repo();
    let mut t = store.begin_operation(meta("add")).unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new("a", "nt:unstructured")
            .with(binary("one", b"first blob"))
            .with(Property::multi(
                "many",
                crate::value::PropertyType::Binary,
                vec![
                    Value::Binary(Binary::inline(b"second".to_vec())),
                    Value::Binary(Binary::inline(b"third".to_vec())),
                ],
            )),
        &AddOptions::append(),
    )
    .unwrap();
    t.commit().unwrap();
    // Replace one binary: the old one stays in the journal's before-image.
    let mut t = store.begin_operation(meta("replace")).unwrap();
    t.set_property(WS, "/a", &binary("one", b"fourth")).unwrap();
    t.commit().unwrap();
    // An orphan (a killed install) and leftovers of killed commands.
    store.put_blob(&mut &b"orphan"[..]).unwrap();
    let root = store.location().to_path_buf();
    std::fs::write(root.join("blobs/.tmp-killed"), b"half a blob").unwrap();
    // A blob written whole is written in its own folder first.
    std::fs::create_dir_all(root.join("blobs/ff")).unwrap();
    std::fs::write(root.join("blobs/ff/.tmp-killed"), b"half").unwrap();
    std::fs::write(root.join(".jcrpack-export.tmp"), b"x").unwrap();
    assert_eq!(blob_files(&store), 6);

    let r = store.gc(true).unwrap();
    assert_eq!(
        (r.blobs_removed, r.blobs_kept, r.temp_files_removed),
        (1, 4, 3)
    );
    assert_eq!(blob_files(&store), 6);
    assert!(root.join(".jcrpack-export.tmp").exists());

    let r = store.gc(false).unwrap();
    assert_eq!((r.blobs_removed, r.blob_bytes, r.blobs_kept), (1, 6, 4));
    assert_eq!(blob_files(&store), 4);
    assert!(!root.join(".jcrpack-export.tmp").exists());
    assert!(!root.join("blobs/.tmp-killed").exists());
    assert!(!root.join("blobs/ff/.tmp-killed").exists());

    // Once the journal is pruned, the replaced blob goes too; the content stays whole.
    store.prune_history(PruneSelect::Keep(0), false).unwrap();
    let r = store.gc(false).unwrap();
    assert_eq!((r.blobs_removed, r.blobs_kept), (1, 3));
    for p in store.properties(WS, "/a").unwrap() {
        for v in &p.values {
            if let Value::Binary(Binary::Blob { sha256, .. }) = v {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut store.open_blob(sha256).unwrap(), &mut s)
                    .unwrap();
                assert!(["second", "third", "fourth"].contains(&s.as_str()), "{s}");
            }
        }
    }
}

#[test]
fn gc_refuses_while_a_backup_copies_blobs() {
    let (_d, mut store) = repo();
    store.put_blob(&mut &b"orphan"[..]).unwrap();
    let root = store.location().to_path_buf();
    let marker = root.join(".backup-in-progress-20261204T170000Z");
    std::fs::write(&marker, b"123\n").unwrap();
    let e = store.gc(false).unwrap_err();
    assert!(
        e.to_string().contains("a backup is copying its blobs"),
        "{e}"
    );
    assert_eq!(blob_files(&store), 1);
    std::fs::remove_file(&marker).unwrap();
    // The default catalogue's marker of a backup being written counts too.
    let tmp = root.join("backups/backups/.tmp-20261204T170000Z");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("in-progress"), b"123\n").unwrap();
    assert!(store.gc(false).is_err());
    std::fs::remove_file(tmp.join("in-progress")).unwrap();
    assert_eq!(store.gc(false).unwrap().blobs_removed, 1);
}
