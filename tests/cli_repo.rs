//! CLI tests for the repository commands: init, import, dump, load, rm, history, undo.
//! Each test works in its own temporary folder.

use std::path::{Path, PathBuf};

const EXAMPLE: &str = "fixtures/example";

mod common;

use common::{dump, history, import, init, jcrpack};

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("schemas/{name}")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A package folder with a filter on /content/t and the given `.content.xml` for it.
fn package(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    write(
        &p,
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/t\"/></workspaceFilter>",
    );
    write(&p, "jcr_root/content/t/.content.xml", content);
    p
}

const T1: &str = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="one"><a jcr:primaryType="nt:unstructured"/></jcr:root>"#;
const T2: &str = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="two"/>"#;

#[test]
fn import_creates_the_example_tree() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let out = import(&repo, Path::new(EXAMPLE), &[])
        .success()
        .get_output()
        .stdout
        .clone();
    let log = String::from_utf8(out).unwrap();
    assert!(log.contains("A /content/wknd-lite/en/jcr:content"), "{log}");
    let tree: serde_json::Value = serde_json::from_str(&dump(&repo)).unwrap();
    insta::assert_json_snapshot!("example_tree", tree);
}

#[test]
fn json_report_follows_its_schema_and_reimport_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let v = schema("import-report.schema.json");
    for round in 0..2 {
        let out = import(&repo, Path::new(EXAMPLE), &["--json"])
            .success()
            .get_output()
            .stdout
            .clone();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let totals = &doc["totals"];
        if round == 0 {
            assert!(totals["added"].as_u64().unwrap() > 10);
            assert_eq!(
                doc["undeclaredNodeTypes"],
                serde_json::json!(["cq:Component", "cq:Page", "cq:PageContent"])
            );
        } else {
            assert_eq!(totals["added"], 0);
            assert_eq!(totals["updated"], 0);
            assert_eq!(totals["deleted"], 0);
        }
    }
}

#[test]
fn dry_run_reports_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let before = dump(&repo);
    let out = import(&repo, Path::new(EXAMPLE), &["--dry-run", "--json"])
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["dryRun"], true);
    assert!(doc["totals"]["added"].as_u64().unwrap() > 10);
    assert_eq!(dump(&repo), before);
    jcrpack()
        .arg("history")
        .arg("--repo")
        .arg(&repo)
        .assert()
        .success()
        .stdout("");
}

#[test]
fn a_failing_install_leaves_the_repository_as_it_was() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, &package(t.path(), "p1", T1), &[]).success();
    let before = dump(&repo);
    let bad = package(t.path(), "bad", T2);
    // A second aggregate below the good one, malformed on line 2.
    write(&bad, "jcr_root/content/t/b/.content.xml", "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"\n  jcr:primaryType=\"nt:unstructured\" x=\"{Nope}1\"/>");
    let err = import(&repo, &bad, &[])
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("jcr_root/content/t/b/.content.xml:2:"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(dump(&repo), before);
    // Lenient: the malformed file is skipped and reported, the rest applies.
    let out = import(&repo, &bad, &["--lenient"])
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("E /content/t/b"));
}

#[test]
fn undo_restores_and_refuses_over_later_changes() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let empty = dump(&repo);
    import(&repo, &package(t.path(), "p1", T1), &[]).success();
    let after_one = dump(&repo);
    import(&repo, &package(t.path(), "p2", T2), &[]).success();
    assert!(!dump(&repo).contains("\"a\""));
    // Undoing the first install while the second touched the same paths is refused.
    let err = jcrpack()
        .args(["undo", "1", "--repo"])
        .arg(&repo)
        .assert()
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("refused"));
    // The latest undoes cleanly, then the first.
    jcrpack()
        .args(["undo", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    assert_eq!(dump(&repo), after_one);
    jcrpack()
        .args(["undo", "1", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    assert_eq!(dump(&repo), empty);
    let doc: serde_json::Value = serde_json::from_str(&history(&repo)).unwrap();
    let errors: Vec<String> = schema("history.schema.json")
        .iter_errors(&doc)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["operations"].as_array().unwrap().len(), 4);
}

#[test]
fn system_roots_and_operator_limits_are_refused_before_writing() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let before = dump(&repo);
    let p = t.path().join("sys");
    write(
        &p,
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/rep:security/x\"/></workspaceFilter>",
    );
    write(&p, "jcr_root/_rep_security/x/.content.xml", T2);
    let err = import(&repo, &p, &[])
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err)
        .unwrap()
        .contains("system root /rep:security"));
    assert_eq!(dump(&repo), before);
    let err = import(&repo, Path::new(EXAMPLE), &["--allow-root", "/content"])
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err)
        .unwrap()
        .contains("/apps/wknd-lite: the package writes outside the allowed roots"));
    assert_eq!(dump(&repo), before);
}

#[test]
fn load_and_rm() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let xml = t.path().join("x.xml");
    std::fs::write(&xml, r#"<x xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" p="v"><y jcr:primaryType="nt:unstructured"/></x>"#).unwrap();
    jcrpack()
        .arg("load")
        .arg(&xml)
        .args(["--at", "/", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    assert!(dump(&repo).contains("\"y\""));
    jcrpack()
        .args(["rm", "/x/p", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    assert!(!dump(&repo).contains("\"p\""));
    jcrpack()
        .args(["rm", "/x", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    jcrpack()
        .args(["rm", "/x", "--repo"])
        .arg(&repo)
        .assert()
        .failure()
        .code(1);
    jcrpack()
        .args(["rm", "relative", "--repo"])
        .arg(&repo)
        .assert()
        .code(2);
}

/// Every command that records an operation takes its time from `SOURCE_DATE_EPOCH`
/// when it is set (as `import` always did), so the same commands give the same
/// history byte for byte: install, load, rm, workspace create and delete, undo.
#[test]
fn recorded_operations_take_their_time_from_source_date_epoch() {
    let t = tempfile::tempdir().unwrap();
    let xml = t.path().join("x.xml");
    std::fs::write(
        &xml,
        r#"<x xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" p="v"/>"#,
    )
    .unwrap();
    let p1 = package(t.path(), "p1", T1);
    let recorded = |dir: &Path| {
        let repo = init(dir);
        import(&repo, &p1, &[]).success();
        let run = |args: &[&str]| {
            jcrpack()
                .args(args)
                .arg("--repo")
                .arg(&repo)
                .assert()
                .success();
        };
        run(&["load", xml.to_str().unwrap(), "--at", "/"]);
        run(&["rm", "/x/p"]);
        run(&["workspace", "create", "w"]);
        run(&["workspace", "delete", "w"]);
        run(&["undo"]);
        history(&repo)
    };
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let first = recorded(&a);
    let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    let ops = doc["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 6, "{first}");
    for op in ops {
        assert_eq!(op["time"], "2023-11-14T22:13:20.000Z", "{first}");
    }
    assert_eq!(recorded(&b), first);
}

#[test]
fn a_missing_repository_is_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let err = jcrpack()
        .args(["dump", "--repo"])
        .arg(t.path().join("nope"))
        .assert()
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("jcrpack init"));
}

#[test]
fn diff_shows_deletions_first_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, &package(t.path(), "p1", T1), &[]).success();
    let before = dump(&repo);
    let out = jcrpack()
        .arg("diff")
        .arg(package(t.path(), "p2", T2))
        .arg("--repo")
        .arg(&repo)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let errors: Vec<String> = schema("diff.schema.json")
        .iter_errors(&doc)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let changes = doc["changes"].as_array().unwrap();
    assert_eq!(changes[0]["path"], "/content/t/a");
    assert_eq!(changes[0]["change"], "deleted");
    assert_eq!(changes[1]["path"], "/content/t");
    assert_eq!(
        changes[1]["properties"][0],
        serde_json::json!({"name": "title", "before": "one", "after": "two"})
    );
    assert_eq!(dump(&repo), before);
}

#[test]
fn export_round_trips_and_is_deterministic() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, Path::new(EXAMPLE), &[]).success();
    let filter = format!("{EXAMPLE}/META-INF/vault/filter.xml");
    let out1 = t.path().join("a.zip");
    let out2 = t.path().join("b.zip");
    for out in [&out1, &out2] {
        jcrpack()
            .args(["export", "--filter", &filter, "--name", "g:n:1", "-o"])
            .arg(out)
            .arg("--repo")
            .arg(&repo)
            .assert()
            .success();
    }
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
    let repo2 = t.path().join("repo2");
    jcrpack().arg("init").arg(&repo2).assert().success();
    import(&repo2, &out1, &[]).success();
    assert_eq!(dump(&repo2), dump(&repo));
}

#[test]
fn dependencies_are_checked_against_installed_packages() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let dep = package(t.path(), "dep", T1);
    write(
        &dep,
        "META-INF/vault/properties.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties><entry key="group">g</entry><entry key="name">base</entry><entry key="version">1.2.0</entry></properties>"#,
    );
    let app = package(t.path(), "app", T2);
    write(
        &app,
        "META-INF/vault/properties.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties><entry key="group">g</entry><entry key="name">app</entry><entry key="version">1.0</entry><entry key="dependencies">g:base:[1.0,2.0)</entry></properties>"#,
    );
    let err = import(&repo, &app, &["--require-dependencies"])
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("g:base:[1.0,2.0)"));
    let err = import(&repo, &app, &["--dry-run"])
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err)
        .unwrap()
        .contains("dependency g:base:[1.0,2.0) is not installed"));
    import(&repo, &dep, &[]).success();
    import(&repo, &app, &["--require-dependencies"]).success();
}

#[test]
fn dump_formats_round_trip_through_load() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, Path::new(EXAMPLE), &[]).success();
    for format in ["sysview", "docview"] {
        let out = jcrpack()
            .args(["dump", "/content/wknd-lite", "--format", format, "--repo"])
            .arg(&repo)
            .output()
            .unwrap();
        assert!(out.status.success());
        let xml = t.path().join(format!("tree.{format}.xml"));
        std::fs::write(&xml, &out.stdout).unwrap();
        let repo2 = t.path().join(format!("repo-{format}"));
        jcrpack().arg("init").arg(&repo2).assert().success();
        jcrpack()
            .arg("load")
            .arg(&xml)
            .args(["--at", "/", "--repo"])
            .arg(&repo2)
            .assert()
            .success();
        let json = |r: &Path, p: &str| {
            jcrpack()
                .args(["dump", p, "--repo"])
                .arg(r)
                .output()
                .unwrap()
                .stdout
        };
        if format == "sysview" {
            assert_eq!(
                json(&repo2, "/wknd-lite"),
                json(&repo, "/content/wknd-lite")
            );
        } else {
            // DocView keeps structure and typed values; the root element's name comes
            // from the file, so it loads as `jcr:root`.
            let a: serde_json::Value = serde_json::from_slice(&json(&repo2, "/jcr:root")).unwrap();
            let b: serde_json::Value =
                serde_json::from_slice(&json(&repo, "/content/wknd-lite")).unwrap();
            assert_eq!(
                a["children"].as_array().unwrap().len(),
                b["children"].as_array().unwrap().len()
            );
        }
    }
}

#[test]
fn a_child_added_to_an_unchanged_parent_is_checked_against_the_parent_type() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let folder =
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:folder"/>"#;
    import(&repo, &package(t.path(), "p1", folder), &[]).success();
    let before = dump(&repo);
    // The folder's own properties are unchanged; nt:folder allows no nt:unstructured child.
    let with_child = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:folder"><x jcr:primaryType="nt:unstructured"/></jcr:root>"#;
    let out = import(&repo, &package(t.path(), "p2", with_child), &[])
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("/content/t") && err.contains("node type"),
        "{err}"
    );
    assert_eq!(dump(&repo), before);
}

#[test]
fn a_name_value_that_is_no_name_fails_on_an_open_type() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let before = dump(&repo);
    let bad = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" n="{Name}a:b:c"/>"#;
    let out = import(&repo, &package(t.path(), "p", bad), &[])
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("a:b:c"), "{err}");
    assert_eq!(dump(&repo), before);
}
