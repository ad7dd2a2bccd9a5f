//! Blob files written on the blob store's writer thread: a write that fails fails
//! the commit of the transaction that refers to the blob.

use super::*;
use crate::repository::blob::HashedBytes;

#[test]
fn a_blob_write_that_fails_fails_the_commit_and_changes_nothing() {
    let (_d, mut store) = repo();
    let before = full_state(&store);
    let bytes = b"a binary whose folder is in the way".to_vec();
    let sha = HashedBytes::new(bytes.clone()).sha256().to_string();
    // A file where the blob's folder belongs: its write fails on the writer.
    let in_the_way = store.location().join("blobs").join(&sha[..2]);
    std::fs::write(&in_the_way, b"not a folder").unwrap();

    // The put itself returns at once, and the node refers to the queued blob.
    let e = add_binary(&mut store, bytes.clone())
        .commit()
        .unwrap_err()
        .to_string();
    assert!(e.contains(&sha[2..]), "names the blob file: {e}");
    assert_eq!(full_state(&store), before, "nothing committed");

    // With the folder free, the same install goes through.
    std::fs::remove_file(&in_the_way).unwrap();
    add_binary(&mut store, bytes).commit().unwrap();
    assert!(store.node(WS, "/a").unwrap().is_some());
    assert!(store
        .location()
        .join("blobs")
        .join(&sha[..2])
        .join(&sha[2..])
        .is_file());
}

/// A transaction that adds node `/a` with a binary property of `bytes`.
fn add_binary(store: &mut SqliteStore, bytes: Vec<u8>) -> Box<dyn Transaction + '_> {
    let mut t = store.begin_operation(meta("add")).unwrap();
    t.add_node(
        WS,
        "/",
        &Node::new("a", "nt:unstructured").with(Property::single(
            "data",
            Value::Binary(Binary::inline(bytes)),
        )),
        &AddOptions::append(),
    )
    .unwrap();
    t
}
