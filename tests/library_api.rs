//! Everything the command line does, driven through the library alone (no `cli`):
//! what a server embedding jcrpack would call. diff, import, load, dump and export
//! of the bundled example, with events collected instead of drawn.

use jcrpack::archive::{self, PackageWriter, ReadOptions, WriterOptions};
use jcrpack::diff::{self, Change};
use jcrpack::dump::{self, DumpFormat};
use jcrpack::events::{OwnedEvent, Recorded};
use jcrpack::import::{self, ImportOptions};
use jcrpack::repository;
use jcrpack::{export, load};
use std::path::Path;

const DOCVIEW: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="loaded">
    <child jcr:primaryType="nt:unstructured" count="{Long}3"/>
</jcr:root>
"#;

#[test]
fn diff_import_load_dump_and_export_through_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example");
    let mut store = repository::init(&repo).unwrap();
    let package = archive::open(&example, &ReadOptions::default()).unwrap();
    let options = ImportOptions::new(jcrpack::events::Actor {
        user: "admin".into(),
        time: jcrpack::value::Date::from_epoch_millis(0),
    });

    // diff: what an install would add; nothing is written.
    let before = repository::open(&repo).unwrap();
    let events = Recorded::default();
    let changes = diff::plan(
        before.as_ref(),
        store.as_mut(),
        package.as_ref(),
        &options,
        &events,
    )
    .unwrap();
    assert!(!changes.is_empty());
    assert!(changes.iter().all(|c| c.change == Change::Added));
    assert!(changes.iter().any(|c| c.path == "/content/wknd-lite"));
    assert!(store
        .node("default", "/content/wknd-lite")
        .unwrap()
        .is_none());
    let events = events.events();
    assert!(events
        .iter()
        .any(|e| matches!(e, OwnedEvent::Phase { name, .. } if name == "comparing")));
    assert_eq!(events.last(), Some(&OwnedEvent::Finished));

    // import: the real install.
    let report = import::install_archive(store.as_mut(), package.as_ref(), &options).unwrap();
    assert!(report.totals.added > 0);
    assert!(store
        .node("default", "/content/wknd-lite")
        .unwrap()
        .is_some());

    // load: a document view below a node.
    let tree = load::read_xml(DOCVIEW.as_bytes(), "loaded.xml").unwrap();
    let actor = jcrpack::events::Actor {
        user: "editor".into(),
        time: jcrpack::value::Date::from_epoch_millis(1_700_000_000_000),
    };
    let added = load::load(
        store.as_mut(),
        "default",
        "/content",
        &tree,
        "loaded.xml",
        &actor,
    )
    .unwrap();
    assert_eq!(added, "/content/jcr:root");

    // dump: the subtree as canonical JSON, DocView and system view.
    let mut json = Vec::new();
    dump::write_subtree(
        store.as_ref(),
        "default",
        &added,
        DumpFormat::Json,
        &mut json,
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["properties"]["title"]["value"], "loaded");
    assert_eq!(json["children"][0]["properties"]["count"]["value"], 3);
    for format in [DumpFormat::DocView, DumpFormat::SysView] {
        let mut out = Vec::new();
        dump::write_subtree(store.as_ref(), "default", &added, format, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("loaded"));
    }
    let missing = dump::write_subtree(
        store.as_ref(),
        "default",
        "/nothing",
        DumpFormat::Json,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(missing, dump::DumpError::NoSuchNode { .. }));

    // export: the example's content back into a package, with the default id.
    let filter =
        jcrpack::filter::WorkspaceFilter::with_sets(vec![jcrpack::filter::FilterSet::new(
            "/content/wknd-lite",
        )]);
    let props = export::package_properties(None, None);
    assert_eq!(props.id().unwrap().to_string(), export::DEFAULT_ID);
    let ns = store.namespaces().unwrap();
    let (types, _) = jcrpack::nodetypes::load(store.as_ref(), &ns);
    let out = tmp.path().join("export.zip");
    let mut writer = PackageWriter::create(&out, WriterOptions::default()).unwrap();
    let exported = export::export(
        store.as_ref(),
        "default",
        &filter,
        &props,
        &types,
        &mut writer,
    )
    .unwrap();
    writer.finish().unwrap();
    assert!(exported.nodes > 0);

    // ... which installs again, in a second repository, through the library.
    let mut second = repository::init(&tmp.path().join("second")).unwrap();
    let exported = archive::open(&out, &ReadOptions::default()).unwrap();
    import::install_archive(second.as_mut(), exported.as_ref(), &options).unwrap();
    assert!(second
        .node("default", "/content/wknd-lite")
        .unwrap()
        .is_some());
}
