//! The SQLite snapshot reader against the path-based fallback: the same facts for
//! every node, and byte-identical packages, on a tree with every aggregate kind.

use super::fallback::PathSnapshot;
use super::*;
use crate::archive::ArchiveError;
use crate::filter::FilterSet;
use crate::node::Node;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{AddOptions, Store, DEFAULT_WORKSPACE as WS};
use std::io::Read;
use std::sync::Arc;

/// Entries in the order written.
#[derive(Default)]
struct MemorySink(Vec<(String, Option<Vec<u8>>)>);

impl PackageSink for MemorySink {
    fn add_directory(&mut self, name: &str) -> Result<(), ArchiveError> {
        self.0.push((name.to_string(), None));
        Ok(())
    }

    fn add_reader(
        &mut self,
        name: &str,
        reader: &mut dyn Read,
        _size: Option<u64>,
    ) -> Result<(), ArchiveError> {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).expect("read");
        self.0.push((name.to_string(), Some(data)));
        Ok(())
    }
}

fn bytes(b: &[u8]) -> Value {
    Value::Binary(Binary::Inline(Arc::new(b.to_vec())))
}

fn file(name: &str, data: &[u8], mime: &str) -> Node {
    Node::new(name, "nt:file").with_child(
        Node::new("jcr:content", "nt:resource")
            .with(Property::single("jcr:data", bytes(data)))
            .with(Property::string("jcr:mimeType", mime)),
    )
}

/// Pages, components, files with and without metadata, a resource that is its own
/// file, bare and titled folders, full coverage, same-name siblings and an
/// unorderable parent.
fn content() -> Node {
    let page = |name: &str, title: &str| {
        Node::new(name, "cq:Page").with_child(
            Node::new("jcr:content", "nt:unstructured")
                .with(Property::string("jcr:title", title))
                .with(Property::single("hidden", Value::Boolean(true)))
                .with_child(
                    Node::new("par", "nt:unstructured").with_child(
                        Node::new("text", "nt:unstructured")
                            .with(Property::string("text", "<p>a & b</p>")),
                    ),
                ),
        )
    };
    let mut sns = Node::new("list", "nt:unstructured");
    for i in 0..3 {
        sns.children
            .push(Node::new("item", "nt:unstructured").with(Property::single("n", Value::Long(i))));
    }
    let mut described = file("b.bin", b"\x00\x01custom", "application/x-custom");
    described.children[0]
        .children
        .push(Node::new("extra", "nt:unstructured"));
    let mut language = Node::new("i18n", "nt:unstructured");
    language.mixins = vec!["mix:language".into()];
    language.set(Property::string("jcr:language", "de"));
    language
        .children
        .push(Node::new("hello", "nt:unstructured"));
    Node::new("content", "nt:folder")
        .with_child(
            page("site", "Site")
                .with_child(page("en", "English"))
                .with_child(Node::new("data", "nt:unstructured").with_child(sns)),
        )
        .with_child(
            Node::new("files", "nt:folder")
                .with_child(file("a.txt", b"plain text", "text/plain"))
                .with_child(described)
                .with_child(
                    Node::new("res", "nt:resource")
                        .with(Property::single("jcr:data", bytes(b"self")))
                        .with(Property::string("jcr:mimeType", "text/plain")),
                ),
        )
        .with_child(
            Node::new("titled", "nt:folder")
                .with(Property::string("jcr:title", "Titled"))
                .with_child(Node::new("b", "nt:folder"))
                .with_child(Node::new("a", "nt:folder")),
        )
        .with_child(language)
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    store_with(0)
}

/// [`content`] with `files` more files in `/content/many`.
fn store_with(files: usize) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::init(&dir.path().join("repo")).expect("init");
    let mut content = content();
    let mut many = Node::new("many", "nt:folder");
    for i in 0..files {
        many.children
            .push(file(&format!("f{i}.txt"), b"text", "text/plain"));
    }
    content.children.push(many);
    let mut t = store.begin("content").expect("begin");
    t.add_node(WS, "/", &content, &AddOptions::append())
        .expect("add");
    t.commit().expect("commit");
    (dir, store)
}

/// Every node below `node` in document order, as `reader` gives it (handles aside).
fn nodes(reader: &dyn SnapshotRead, node: SnapshotNode, out: &mut Vec<SnapshotNode>) {
    let children = reader.children(&node).expect("children");
    out.push(SnapshotNode { handle: 0, ..node });
    for c in children {
        nodes(reader, c, out);
    }
}

#[test]
fn the_snapshot_reader_gives_the_facts_the_path_calls_give() {
    let (_dir, store) = store();
    let fast = store
        .snapshot(WS)
        .expect("snapshot")
        .expect("sqlite has one");
    let slow = PathSnapshot::new(&store, WS);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    nodes(fast.as_ref(), fast.node("/").unwrap().unwrap(), &mut a);
    nodes(&slow, slow.node("/").unwrap().unwrap(), &mut b);
    assert_eq!(a, b);
    assert_eq!(a.len(), 28 + 5); // 5: Oak's initial content
    let at = |p: &str| a.iter().find(|n| n.info.path == p).expect(p);
    let f = at("/content/files/a.txt");
    assert!(f.has_children && f.has_content_child && f.content_has_data && !f.has_data);
    let r = at("/content/files/res");
    assert!(!r.has_children && !r.has_content_child && r.has_data);
    assert_eq!(at("/content/site/data/list/item[3]").info.index, 3);
    assert_eq!(at("/content/i18n").info.mixins, ["mix:language"]);
    assert!(fast.node("/nowhere").unwrap().is_none());
}

#[test]
fn export_through_the_snapshot_equals_export_through_the_path_calls() {
    let (_dir, store) = store();
    let ns = store.namespaces().unwrap();
    let types = NodeTypeRegistry::new();
    let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/content")]);
    let props = PackageProperties::new();
    let run = |reader: &dyn SnapshotRead| {
        let mut sink = MemorySink::default();
        let report = export_from(
            &store,
            reader,
            &ns,
            &filter,
            &props,
            &types,
            &mut sink,
            ExportReport::default(),
            Default::default(),
        )
        .expect("export");
        (report.nodes, report.entries, sink.0)
    };
    let fast = run(store.snapshot(WS).unwrap().unwrap().as_ref());
    let slow = run(&PathSnapshot::new(&store, WS));
    assert_eq!(fast, slow);
    let names: Vec<&str> = fast.2.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "jcr_root/content/site/.content.xml",
        "jcr_root/content/site/en/.content.xml",
        "jcr_root/content/files",
        "jcr_root/content/files/a.txt",
        "jcr_root/content/files/b.bin",
        "jcr_root/content/files/b.bin.dir/.content.xml",
        "jcr_root/content/files/res",
        "jcr_root/content/files/res.dir/.content.xml",
        "jcr_root/content/titled/.content.xml",
        "jcr_root/content/i18n.xml",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let doc = |name: &str| {
        let (_, data) = fast.2.iter().find(|(n, _)| n == name).expect(name);
        String::from_utf8(data.clone().expect("a file")).expect("utf-8")
    };
    let site = doc("jcr_root/content/site/.content.xml");
    assert!(site.contains("n=\"{Long}2\""), "{site}");
    assert!(site.contains("<en/>"), "{site}");
    assert!(doc("jcr_root/content/i18n.xml").contains("<hello"));
}

/// Fails on the `n`th entry, as a full disk would.
struct FailingSink(usize);

impl PackageSink for FailingSink {
    fn add_directory(&mut self, name: &str) -> Result<(), ArchiveError> {
        self.add_bytes(name, Vec::new())
    }

    fn add_reader(
        &mut self,
        name: &str,
        _reader: &mut dyn Read,
        _size: Option<u64>,
    ) -> Result<(), ArchiveError> {
        self.0 -= 1;
        if self.0 > 0 {
            return Ok(());
        }
        Err(ArchiveError::DuplicateEntry {
            archive: "out.zip".into(),
            entry: name.into(),
        })
    }
}

#[test]
fn the_first_failure_is_reported_whichever_thread_meets_it() {
    // More entries than the queue holds: the reader is still reading when the
    // writer fails.
    let (dir, store) = store_with(2 * queue::MAX_ENTRIES);
    let types = NodeTypeRegistry::new();
    let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/content")]);
    let props = PackageProperties::new();
    // The sink fails: its error, not the reader's "writer stopped", is the result.
    let e = export(&store, WS, &filter, &props, &types, &mut FailingSink(5)).unwrap_err();
    assert!(
        matches!(&e, ExportError::Archive(ArchiveError::DuplicateEntry { entry, .. }) if entry.starts_with("jcr_root/")),
        "{e:?}"
    );
    // The repository fails (a blob is gone): the reader's error is the result.
    let blobs = dir.path().join("repo/blobs");
    for e in walkdir::WalkDir::new(&blobs)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let e = export(
        &store,
        WS,
        &filter,
        &props,
        &types,
        &mut MemorySink::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ExportError::Repository(RepositoryError::BlobNotFound { .. })
        ),
        "{e:?}"
    );
}

/// Issue 20: a child of the repository root is an aggregate of its own (FileVault's
/// RootAggregator inlines no child node), and an nt:folder ancestor of a filter root
/// gets a .content.xml naming its type (a bare directory outside the filter would come
/// back as its parent's default child type).
#[test]
fn root_children_are_aggregates_and_folder_ancestors_keep_their_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::init(&dir.path().join("repo")).expect("init");
    let mut t = store.begin("content").expect("begin");
    t.add_node(
        WS,
        "/",
        &Node::new("top", "nt:unstructured")
            .with(Property::string("p", "v"))
            .with_child(Node::new("inline", "nt:unstructured")),
        &AddOptions::append(),
    )
    .expect("add");
    t.add_node(
        WS,
        "/",
        &Node::new("apps", "nt:folder")
            .with_child(Node::new("wcm", "nt:folder").with_child(Node::new("leaf", "nt:folder"))),
        &AddOptions::append(),
    )
    .expect("add");
    t.commit().expect("commit");
    let ns = store.namespaces().unwrap();
    let types = NodeTypeRegistry::new();
    let filter = WorkspaceFilter::with_sets(vec![
        FilterSet::new("/top"),
        FilterSet::new("/apps/wcm/leaf"),
    ]);
    let mut sink = MemorySink::default();
    let snapshot = store.snapshot(WS).unwrap().unwrap();
    export_from(
        &store,
        snapshot.as_ref(),
        &ns,
        &filter,
        &PackageProperties::new(),
        &types,
        &mut sink,
        ExportReport::default(),
        Default::default(),
    )
    .expect("export");
    let doc = |name: &str| {
        let (_, data) = sink.0.iter().find(|(n, _)| n == name).expect(name);
        String::from_utf8(data.clone().expect("a file")).expect("utf-8")
    };
    let root = doc("jcr_root/.content.xml");
    assert!(
        root.contains("<top/>") && !root.contains("inline"),
        "{root}"
    );
    let top = doc("jcr_root/top/.content.xml");
    assert!(top.contains("p=\"v\"") && top.contains("<inline"), "{top}");
    for ancestor in [
        "jcr_root/apps/.content.xml",
        "jcr_root/apps/wcm/.content.xml",
    ] {
        assert!(doc(ancestor).contains("jcr:primaryType=\"nt:folder\""));
    }
    // The contained plain folder stays a bare directory.
    assert!(sink
        .0
        .iter()
        .any(|(n, d)| n == "jcr_root/apps/wcm/leaf" && d.is_none()));
}
