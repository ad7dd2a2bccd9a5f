//! Issue 17's conformance over the real Magnolia files of the shared corpus
//! (`real/`): every system view file loads as a bootstrap file into an empty
//! repository (or is refused with a reason Magnolia would give too), dumps back as
//! bootstrap XML, and the dump loads into another empty repository with an equal
//! dump; dumping twice gives the same bytes. Files whose types have a verified YAML
//! form go through YAML too. The real YAML export loads, dumps back to the very bytes
//! Magnolia wrote, and re-loads equal.
//! Needs the shared corpus (`common::corpus`) and fails, saying so, without it.

mod common;

use jcrpack::bootstrap::{self, dump, load::LoadOptions, name, BootstrapError, Format, Profile};
use jcrpack::events::Actor;
use jcrpack::repository::Store;
use jcrpack::value::Date;
use std::path::{Path, PathBuf};

/// Files Magnolia's bootstrap refuses as well, with the reason (a substring of
/// jcrpack's error).
const REFUSED: &[(&str, &str)] = &[
    // Magnolia's parser is set to disallow-doctype-decl (DataTransporter).
    ("test-doctype.xml", "DOCTYPE"),
    // Test inputs of Magnolia's DataTransporterTest and Oak's GroupImportTest: their
    // names hold no dot, so they would be workspace-root files of workspaces named
    // after the test, whose root is not jcr:root; Magnolia bootstraps a file only
    // into a registered workspace of that name.
    ("test-v2-filter.xml", "the file name says 'jcr:root'"),
    (
        "test-formatted-expected.xml",
        "the file name says 'jcr:root'",
    ),
    ("test-formatted-input.xml", "the file name says 'jcr:root'"),
    ("test-unwantedns.xml", "the file name says 'jcr:root'"),
    (
        "GroupImportTest-testImportGroupMembersFromNodes.xml",
        "the file name says 'jcr:root'",
    ),
    (
        "GroupImportTest-testImportGroupMembersFromOakNodes.xml",
        "the file name says 'jcr:root'",
    ),
];

fn actor() -> Actor {
    Actor {
        user: "test".into(),
        time: Date::parse("2026-12-04T12:00:00.000Z").unwrap(),
    }
}

fn system_view_files(real: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(real).sort_by_file_name() {
        let e = e.unwrap();
        if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "xml") {
            continue;
        }
        let head = std::fs::read(e.path()).unwrap();
        let head = String::from_utf8_lossy(&head[..head.len().min(4096)]).into_owned();
        if head.contains("http://www.jcp.org/jcr/sv/1.0") && head.contains(":node") {
            out.push(e.into_path());
        }
    }
    out
}

fn load_one(repo: &Path, file: &Path) -> Result<bootstrap::LoadReport, BootstrapError> {
    let mut store = jcrpack::repository::open(repo).unwrap();
    let opts = LoadOptions {
        profile: Profile::Module,
        module: None,
        dry_run: false,
        magnolia_types: false,
    };
    bootstrap::load(store.as_mut(), &[file.to_path_buf()], &opts, &actor())
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let r = dir.join(name);
    jcrpack::repository::init(&r).unwrap();
    r
}

fn dump_bytes(
    store: &dyn Store,
    ws: &str,
    path: &str,
    format: Format,
) -> Result<Vec<u8>, BootstrapError> {
    let mut out = Vec::new();
    dump::write(store, ws, path, format, false, &mut out)?;
    Ok(out)
}

fn json(store: &dyn Store, ws: &str) -> String {
    let mut out = Vec::new();
    jcrpack::dump::write_subtree(store, ws, "/", jcrpack::dump::DumpFormat::Json, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_system_view_file_round_trips_as_a_bootstrap_file() {
    let real = common::corpus().join("real");
    let files = system_view_files(&real);
    assert_eq!(files.len(), 181, "the corpus's system view files");
    let tmp = tempfile::tempdir().unwrap();
    let (mut loaded, mut refused, mut via_yaml) = (0, 0, 0);
    for (i, f) in files.iter().enumerate() {
        let fname = f.file_name().unwrap().to_str().unwrap();
        let dir = tmp.path().join(i.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let a = fresh(&dir, "a");
        let result = load_one(&a, f);
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == fname) {
            let e = result.expect_err(fname).to_string();
            assert!(e.contains(why), "{fname}: refused for another reason: {e}");
            assert!(e.contains(fname), "{fname}: the error names the file: {e}");
            let store = jcrpack::repository::open(&a).unwrap();
            assert!(
                store.history().unwrap().is_empty(),
                "{fname}: nothing written"
            );
            refused += 1;
            continue;
        }
        let report = result.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(report.files.len(), 1, "{fname}");
        let target = name::parse(fname).unwrap();
        let ws = target.workspace.as_str();
        let top = report.files[0].paths[0].clone();
        let store_a = jcrpack::repository::open(&a).unwrap();
        let d1 = dump_bytes(store_a.as_ref(), ws, &top, Format::Xml).unwrap();
        let d2 = dump_bytes(store_a.as_ref(), ws, &top, Format::Xml).unwrap();
        assert_eq!(d1, d2, "{fname}: two dumps differ");
        // The dump, under the name Magnolia gives it, into a fresh repository.
        let out = dir.join("out");
        let written = dump::write_files(
            store_a.as_ref(),
            ws,
            std::slice::from_ref(&top),
            Format::Xml,
            false,
            &out,
        )
        .unwrap();
        let b = fresh(&dir, "b");
        load_one(&b, &written[0]).unwrap_or_else(|e| panic!("{fname}: reload: {e}"));
        let store_b = jcrpack::repository::open(&b).unwrap();
        let d3 = dump_bytes(store_b.as_ref(), ws, &top, Format::Xml).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&d1),
            String::from_utf8_lossy(&d3),
            "{fname}: the reloaded dump differs"
        );
        assert_eq!(
            json(store_a.as_ref(), ws),
            json(store_b.as_ref(), ws),
            "{fname}"
        );
        // YAML, when every type has a verified YAML form.
        if let Ok(y) = dump_bytes(store_a.as_ref(), ws, &top, Format::Yaml) {
            let ydir = dir.join("yaml");
            std::fs::create_dir_all(&ydir).unwrap();
            let yfile = ydir.join(dump::file_name(ws, &top, Format::Yaml));
            std::fs::write(&yfile, &y).unwrap();
            let c = fresh(&dir, "c");
            load_one(&c, &yfile).unwrap_or_else(|e| panic!("{fname}: yaml reload: {e}"));
            let store_c = jcrpack::repository::open(&c).unwrap();
            assert_eq!(
                dump_bytes(store_c.as_ref(), ws, &top, Format::Yaml).unwrap(),
                y,
                "{fname}: yaml dumps differ"
            );
            assert_eq!(
                String::from_utf8_lossy(
                    &dump_bytes(store_c.as_ref(), ws, &top, Format::Xml).unwrap()
                ),
                String::from_utf8_lossy(&d1),
                "{fname}: the yaml round trip changed the content"
            );
            via_yaml += 1;
        }
        loaded += 1;
    }
    assert_eq!(refused, REFUSED.len());
    assert_eq!(loaded + refused, 181);
    eprintln!(
        "{loaded} loaded, {refused} refused as Magnolia refuses them, {via_yaml} also through YAML"
    );
    assert!(via_yaml > 0);
}

#[test]
fn the_real_yaml_export_dumps_back_to_magnolias_bytes() {
    let real = common::corpus().join("real");
    let file = real.join(
        "formentor-studio+magnolia-ai-training/src/test/resources/contents/tours.magnolia-travels.yaml",
    );
    let original = std::fs::read(&file).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let a = fresh(tmp.path(), "a");
    let report = load_one(&a, &file).unwrap();
    assert_eq!(report.created_workspaces, ["tours"]);
    assert_eq!(report.files[0].paths, ["/magnolia-travels"]);
    assert_eq!(report.nodes, 37);
    let store_a = jcrpack::repository::open(&a).unwrap();
    let d1 = dump_bytes(store_a.as_ref(), "tours", "/magnolia-travels", Format::Yaml).unwrap();
    let d2 = dump_bytes(store_a.as_ref(), "tours", "/magnolia-travels", Format::Yaml).unwrap();
    assert_eq!(d1, d2);
    assert_eq!(
        String::from_utf8_lossy(&d1),
        String::from_utf8_lossy(&original),
        "jcrpack's YAML differs from Magnolia's export"
    );
    let out = tmp.path().join("out");
    let written = dump::write_files(
        store_a.as_ref(),
        "tours",
        &["/magnolia-travels".to_string()],
        Format::Yaml,
        false,
        &out,
    )
    .unwrap();
    assert!(written[0].ends_with("tours.magnolia-travels.yaml"));
    let b = fresh(tmp.path(), "b");
    load_one(&b, &written[0]).unwrap();
    let store_b = jcrpack::repository::open(&b).unwrap();
    assert_eq!(
        json(store_a.as_ref(), "tours"),
        json(store_b.as_ref(), "tours")
    );
    // And through system view.
    let x = dump_bytes(store_a.as_ref(), "tours", "/magnolia-travels", Format::Xml).unwrap();
    let xdir = tmp.path().join("x");
    std::fs::create_dir_all(&xdir).unwrap();
    let xfile = xdir.join("tours.magnolia-travels.xml");
    std::fs::write(&xfile, x).unwrap();
    let c = fresh(tmp.path(), "c");
    load_one(&c, &xfile).unwrap();
    let store_c = jcrpack::repository::open(&c).unwrap();
    assert_eq!(
        json(store_a.as_ref(), "tours"),
        json(store_c.as_ref(), "tours")
    );
}
