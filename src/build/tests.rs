use super::*;
use crate::archive::ReadOptions;
use std::fs;

const FILTER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0">
    <filter root="/content/site"/>
    <filter root="/apps/site" type="cleanup"/>
</workspaceFilter>
"#;

const CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0"
    jcr:primaryType="nt:unstructured" title="Site"/>
"#;

/// A source folder with `files` (name, content) below `dir`.
fn source(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

fn minimal(dir: &Path) {
    source(
        dir,
        &[
            (FILTER_XML, FILTER),
            ("jcr_root/content/site/.content.xml", CONTENT),
            ("jcr_root/content/site/file.txt", "text"),
        ],
    );
}

fn options(id: &str) -> BuildOptions {
    BuildOptions {
        id: Some(PackageId::parse(id).unwrap()),
        ..BuildOptions::default()
    }
}

fn filter(xml: &str) -> WorkspaceFilter {
    WorkspaceFilter::parse(xml.as_bytes(), "filter.xml").unwrap()
}

#[test]
fn properties_layer_source_id_stamps_and_overrides() {
    let mut source = PackageProperties::new();
    source.set("group", "old");
    source.set("name", "old-name");
    source.set("version", "0.1");
    source.set("description", "from the source");
    source.set("generator", "someone");
    let mut opts = options("my/group:pkg:1.0");
    opts.properties = vec![
        ("description".into(), "overridden".into()),
        ("requiresRoot".into(), "true".into()),
    ];
    let props =
        package_properties(Some(source), &filter(FILTER), &opts, Path::new("p.xml")).unwrap();
    assert_eq!(props.id().unwrap().to_string(), "my/group:pkg:1.0");
    assert_eq!(props.description(), Some("overridden"));
    assert_eq!(props.generator(), Some(GENERATOR));
    assert_eq!(props.get("packageFormatVersion"), Some("2"));
    assert!(props.requires_root());
    // The cleanup set does not count: only /content/site, so content.
    assert_eq!(props.package_type(), Some(PackageType::Content));
    // No clock: no created without SOURCE_DATE_EPOCH.
    assert_eq!(props.get("created"), None);
}

#[test]
fn package_type_is_detected_only_when_unset() {
    let apps = filter(r#"<workspaceFilter><filter root="/apps/x"/></workspaceFilter>"#);
    let p = package_properties(None, &apps, &options("g:n"), Path::new("p")).unwrap();
    assert_eq!(p.get("packageType"), Some("application"));
    let mut opts = options("g:n");
    opts.properties = vec![("packageType".into(), "container".into())];
    let p = package_properties(None, &apps, &opts, Path::new("p")).unwrap();
    assert_eq!(p.get("packageType"), Some("container"));
    let mut source = PackageProperties::new();
    source.set("packageType", "mixed");
    let p = package_properties(Some(source), &apps, &options("g:n"), Path::new("p")).unwrap();
    assert_eq!(p.get("packageType"), Some("mixed"));
}

#[test]
fn a_name_is_required_and_must_be_valid() {
    let e = package_properties(
        None,
        &filter(FILTER),
        &BuildOptions::default(),
        Path::new("p"),
    )
    .unwrap_err();
    assert!(matches!(e, BuildError::MissingName { .. }), "{e:?}");
    let mut opts = BuildOptions {
        properties: vec![("name".into(), "bad/name[1]".into())],
        ..BuildOptions::default()
    };
    let e = package_properties(None, &filter(FILTER), &opts, Path::new("p")).unwrap_err();
    assert!(matches!(e, BuildError::InvalidId(_)), "{e:?}");
    // A name alone is an id (empty group, as FileVault allows).
    opts.properties = vec![("name".into(), "alone".into())];
    let p = package_properties(None, &filter(FILTER), &opts, Path::new("p")).unwrap();
    assert_eq!(package_id(&p).unwrap().name(), "alone");
}

#[test]
fn source_date_epoch_sets_the_entry_time_and_created() {
    let opts = BuildOptions::default().with_source_date_epoch(Some(1_700_000_000));
    assert_eq!(
        opts.created.unwrap().to_string(),
        "2023-11-14T22:13:20.000Z"
    );
    assert_eq!(opts.writer.timestamp().year(), 2023);
    let none = BuildOptions::default().with_source_date_epoch(None);
    assert!(none.created.is_none());
}

#[test]
fn docview_entries_are_recognized_as_filevault_does() {
    let head = br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0"/>"#;
    assert!(is_docview_entry("jcr_root/a/.content.xml", b"anything"));
    assert!(is_docview_entry(
        "META-INF/vault/definition/.content.xml",
        b""
    ));
    assert!(is_docview_entry("jcr_root/a/b.xml", head));
    assert!(!is_docview_entry("jcr_root/a/b.xml", b"<foo/>"));
    assert!(!is_docview_entry("META-INF/vault/config.xml", head));
    assert!(!is_docview_entry("jcr_root/a/b.txt", head));
}

#[test]
fn entries_are_written_in_package_order() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    source(
        &src,
        &[
            (MANIFEST_MF, "Manifest-Version: 1.0\r\n\r\n"),
            (PROPERTIES_XML, "<not read before the order test/>"),
            (CONFIG_XML, "<vaultfs/>"),
            ("META-INF/vault/definition/.content.xml", CONTENT),
            ("META-INF/maven/pom.properties", "x=1"),
            ("jcr_root/.content.xml", CONTENT),
        ],
    );
    let tree = scan(&src).unwrap();
    let order: Vec<&str> = package_order(&tree.entries)
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "META-INF",
            "META-INF/vault",
            CONFIG_XML,
            FILTER_XML,
            "META-INF/vault/definition",
            "META-INF/vault/definition/.content.xml",
            "META-INF/maven",
            "META-INF/maven/pom.properties",
            "jcr_root",
            "jcr_root/.content.xml",
            "jcr_root/content",
            "jcr_root/content/site",
            "jcr_root/content/site/.content.xml",
            "jcr_root/content/site/file.txt",
        ]
    );
}

#[test]
fn builds_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    source(
        &src,
        &[
            (MANIFEST_MF, "stale manifest, replaced"),
            (".vlt", "ignored"),
            ("jcr_root/content/site/.vlt", "ignored"),
            ("README.md", "not package content"),
        ],
    );
    fs::create_dir_all(src.join("jcr_root/content/empty")).unwrap();
    let a = dir.path().join("a.zip");
    let b = dir.path().join("b.zip");
    let opts = options("g:n:1");
    let sa = build_package(&src, &a, &opts, &crate::events::NoEvents).unwrap();
    let sb = build_package(&src, &b, &opts, &crate::events::NoEvents).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(sa.sha256, sb.sha256);
    assert_eq!(sa.sha256, crate::dump::sha256_hex(&fs::read(&a).unwrap()));
    assert_eq!(sa.package_id, "g:n:1");
    assert_eq!(sa.files, 5);
    assert_eq!(sa.docview_files, 1);
    assert_eq!(
        sa.ignored,
        [".vlt", "README.md", "jcr_root/content/site/.vlt"]
    );

    let zip = crate::archive::open(&a, &ReadOptions::default()).unwrap();
    let names: Vec<&str> = zip.entries().iter().map(|e| e.name()).collect();
    assert!(names.contains(&"jcr_root/content/empty"), "{names:?}");
    assert!(!names
        .iter()
        .any(|n| n.contains(".vlt") || n.contains("README")));
    let manifest = String::from_utf8(zip.read_to_vec(MANIFEST_MF).unwrap()).unwrap();
    assert!(
        manifest.contains("Content-Package-Id: g:n:1\r\n"),
        "{manifest}"
    );
    assert!(
        manifest.contains("Content-Package-Roots: /content/site,/apps/site\r\n"),
        "{manifest}"
    );
    assert!(
        manifest.contains("Content-Package-Type: content\r\n"),
        "{manifest}"
    );
    assert_eq!(zip.read_to_vec(FILTER_XML).unwrap(), FILTER.as_bytes());
    let props = PackageProperties::parse(&zip.read_to_vec(PROPERTIES_XML).unwrap(), "p").unwrap();
    assert_eq!(props.name(), Some("n"));
}

#[test]
fn the_source_properties_give_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    let mut p = PackageProperties::new();
    p.set("group", "grp");
    p.set("name", "from-props");
    p.set("version", "2.0");
    source(
        &src,
        &[(PROPERTIES_XML, &String::from_utf8(p.to_xml()).unwrap())],
    );
    let out = dir.path().join("p.zip");
    let s = build_package(
        &src,
        &out,
        &BuildOptions::default(),
        &crate::events::NoEvents,
    )
    .unwrap();
    assert_eq!(s.package_id, "grp:from-props:2.0");

    source(&src, &[(PROPERTIES_XML, "<properties>")]);
    let e = build_package(
        &src,
        &out,
        &BuildOptions::default(),
        &crate::events::NoEvents,
    )
    .unwrap_err();
    assert!(matches!(e, BuildError::Properties(_)), "{e:?}");
}

#[test]
fn a_missing_or_invalid_filter_stops_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src, &[("jcr_root/content/a.txt", "a")]);
    let out = dir.path().join("p.zip");
    let e = build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap_err();
    assert!(
        matches!(&e, BuildError::MissingFilter { path } if path.ends_with(FILTER_XML)),
        "{e:?}"
    );
    source(
        &src,
        &[(
            FILTER_XML,
            "<workspaceFilter>\n<filter root=\"/a\">\n</workspaceFilter>\n",
        )],
    );
    let e = build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap_err();
    assert!(matches!(e, BuildError::Filter(_)), "{e:?}");
    assert!(e.to_string().contains("filter.xml:3:"), "{e}");
    assert!(!out.exists());
}

#[test]
fn an_invalid_docview_names_entry_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    source(
        &src,
        &[(
            "jcr_root/content/site/page/.content.xml",
            "<?xml version=\"1.0\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  <child a=\"1\">\n</jcr:root>\n",
        )],
    );
    let out = dir.path().join("p.zip");
    let e = build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap_err();
    let BuildError::DocView { entry, error } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(entry, "jcr_root/content/site/page/.content.xml");
    assert!(
        error.location.file.ends_with("page/.content.xml"),
        "{error}"
    );
    assert!(error.location.line >= 3, "{error}");
    assert!(error.location.column > 0, "{error}");
    assert!(!out.exists());
    // No temporary file is left beside the output either.
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["src"]);

    // A jcr_root *.xml that is not DocView is a plain file, never parsed.
    fs::remove_dir_all(src.join("jcr_root/content/site/page")).unwrap();
    source(
        &src,
        &[("jcr_root/content/site/data.xml", "<not <well formed")],
    );
    build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap();
}

#[test]
fn the_output_may_not_land_in_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    let out = src.join("jcr_root/content/p.zip");
    let e = build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap_err();
    assert!(matches!(e, BuildError::OutputInsideSource { .. }), "{e:?}");
    // Beside the content is fine.
    build_package(
        &src,
        &src.join("p.zip"),
        &options("g:n"),
        &crate::events::NoEvents,
    )
    .unwrap();
}

#[test]
fn large_files_are_streamed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    let big: Vec<u8> = (0..STREAM_THRESHOLD + 4096)
        .map(|i| (i % 251) as u8)
        .collect();
    fs::write(src.join("jcr_root/content/site/big.bin"), &big).unwrap();
    use crate::events::{OwnedEvent, Recorded, Unit};
    let events = Recorded::default();
    let out = dir.path().join("p.zip");
    let s = build_package(&src, &out, &options("g:n"), &events).unwrap();
    let events = events.events();
    assert_eq!(
        events.first(),
        Some(&OwnedEvent::Phase {
            name: "building".into(),
            // The source is streamed: no total before the end.
            total: None,
            unit: Unit::Bytes
        })
    );
    assert_eq!(events.last(), Some(&OwnedEvent::Finished));
    let advanced: u64 = events
        .iter()
        .map(|e| match e {
            OwnedEvent::Advance { amount } => *amount,
            _ => 0,
        })
        .sum();
    assert_eq!(advanced, s.bytes_in);
    let zip = crate::archive::open(&out, &ReadOptions::default()).unwrap();
    assert_eq!(
        zip.read_to_vec("jcr_root/content/site/big.bin").unwrap(),
        big
    );
}

#[test]
fn batches_start_small_and_double_up_to_the_full_size() {
    let sizes: Vec<usize> = (0..7).map(batch_entries).collect();
    assert_eq!(sizes, [16, 32, 64, 64, 64, 64, 64]);
    assert_eq!(batch_entries(u32::MAX), BATCH_ENTRIES);
}

#[test]
fn batches_read_together_keep_the_walk_order_and_the_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    minimal(&src);
    // 30 folders of 12 files: groups of 16, 32 and 64 entries, several read on the
    // pool at once.
    let files: Vec<(String, String)> = (0..30)
        .flat_map(|f| {
            (0..12).map(move |i| {
                (
                    format!("jcr_root/content/site/f{f:02}/n{i:02}.txt"),
                    format!("{f}.{i} ").repeat(40 * i + 1),
                )
            })
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    source(&src, &refs);
    let out = dir.path().join("p.zip");
    build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap();
    let mut zip = ::zip::ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
    let written: Vec<String> = (0..zip.len())
        .map(|i| {
            let entry = zip.by_index_raw(i).unwrap();
            entry.name().unwrap().trim_end_matches('/').to_owned()
        })
        .filter(|name| name.starts_with("jcr_root"))
        .collect();
    let tree = scan(&src).unwrap();
    let walked: Vec<String> = package_order(&tree.entries)
        .iter()
        .map(|e| e.name.clone())
        .filter(|name| name.starts_with("jcr_root"))
        .collect();
    assert_eq!(written.len(), 5 + 30 * 13);
    assert_eq!(written, walked);

    // Two invalid DocView files in different groups: the first in walk order is named.
    source(
        &src,
        &[
            ("jcr_root/content/site/f07/.content.xml", "<jcr:root"),
            ("jcr_root/content/site/f25/.content.xml", "<jcr:root"),
        ],
    );
    let e = build_package(&src, &out, &options("g:n"), &crate::events::NoEvents).unwrap_err();
    let BuildError::DocView { entry, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(entry, "jcr_root/content/site/f07/.content.xml");
}
