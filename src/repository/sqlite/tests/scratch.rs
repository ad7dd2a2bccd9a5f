//! Scratch repositories (`SqliteStore::init_scratch`): what they skip, and that a
//! transaction still applies wholly or not at all.

use super::*;
use crate::repository::sqlite::Scratch;

#[test]
fn a_scratch_repository_records_nothing_syncs_nothing_and_keeps_digests_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::init_scratch(&dir.path().join("repo"), Scratch::Digests).unwrap();
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "memory", "no WAL");
    assert!(!dir.path().join("repo").join("repository.db-wal").exists());

    let bytes = vec![5u8; 3000];
    let mut t = store.begin_operation(meta("install")).unwrap();
    add(t.as_mut(), "/", "a");
    let binary = t.put_blob(&mut &bytes[..]).unwrap();
    let data = Property::single("data", Value::Binary(binary.clone()));
    t.set_property(WS, "/a", &data).unwrap();
    assert_eq!(t.commit().unwrap(), None, "no operation recorded");
    assert!(store.history().unwrap().is_empty());
    let jnodes: i64 = store
        .conn
        .query_row("SELECT count(*) FROM jnode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(jnodes, 0, "no journal rows");
    // The digest and size of the bytes, which were not written.
    let Binary::Blob { sha256, size } = &binary else {
        panic!("{binary:?}")
    };
    assert_eq!(
        (sha256.as_str(), *size),
        (crate::dump::sha256_hex(&bytes).as_str(), 3000)
    );
    assert_eq!(store.property(WS, "/a", "data").unwrap(), Some(data));
    assert_eq!(
        std::fs::read_dir(store.location().join("blobs"))
            .unwrap()
            .count(),
        0
    );
    assert!(store.open_blob(sha256).is_err());

    // Rolled back, or dropped: nothing of it stays (the journal in memory undoes it).
    let before = full_state(&store);
    for explicit in [true, false] {
        let mut t = store.begin_operation(meta("doomed")).unwrap();
        add(t.as_mut(), "/a", "new");
        t.remove_node(WS, "/a").unwrap();
        if explicit {
            t.rollback().unwrap();
        } else {
            drop(t);
        }
        assert_eq!(full_state(&store), before);
    }
}

#[test]
fn a_scratch_repository_for_a_reader_of_binaries_keeps_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        SqliteStore::init_scratch(&dir.path().join("repo"), Scratch::BlobBytes).unwrap();
    let t = store.begin_operation(meta("install")).unwrap();
    let binary = t.put_blob(&mut &b"bytes"[..]).unwrap();
    assert_eq!(t.commit().unwrap(), None);
    let Binary::Blob { sha256, .. } = &binary else {
        panic!("{binary:?}")
    };
    let mut read = String::new();
    std::io::Read::read_to_string(&mut store.open_blob(sha256).unwrap(), &mut read).unwrap();
    assert_eq!(read, "bytes");
}
