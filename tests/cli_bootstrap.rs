//! `jcrpack bootstrap ...` from the command line (issue 17): loading a bootstrap
//! folder of XML and YAML files into several workspaces in one undoable operation,
//! dry runs, the profiles' identifier behaviour (collisions listed, nothing
//! written), dumps in both formats that load back equal, packages made from a
//! bootstrap folder and back with equal dumps, and every kind of bad input refused
//! with file, line and column and nothing written.

mod common;

use common::{init, jcrpack};
use std::path::{Path, PathBuf};
use std::process::Output;

const SV: &str = r#"xmlns:sv="http://www.jcp.org/jcr/sv/1.0" xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mgnl="http://www.magnolia.info/jcr/mgnl""#;

fn prop(name: &str, ty: &str, values: &[&str], multiple: bool) -> String {
    let m = if multiple {
        r#" sv:multiple="true""#
    } else {
        ""
    };
    let vals: String = values
        .iter()
        .map(|v| format!("<sv:value>{v}</sv:value>"))
        .collect();
    format!(r#"<sv:property sv:name="{name}" sv:type="{ty}"{m}>{vals}</sv:property>"#)
}

/// A bootstrap folder: config (XML and a YAML child), website (YAML, a dotted name).
fn folder(dir: &Path) -> PathBuf {
    let f = dir.join("bootstrap");
    std::fs::create_dir_all(f.join("sub")).unwrap();
    let demo = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sv:node {SV} sv:name="demo">{}{}{}{}{}{}<sv:node sv:name="config">{}{}</sv:node></sv:node>"#,
        prop("jcr:primaryType", "Name", &["mgnl:content"], false),
        prop("jcr:mixinTypes", "Name", &["mix:lockable"], true),
        prop(
            "jcr:uuid",
            "String",
            &["11111111-1111-4111-8111-111111111111"],
            false
        ),
        prop("enabled", "Boolean", &["true"], false),
        prop("version", "Long", &["42"], false),
        prop("tags", "String", &["a", "b c"], true),
        prop("jcr:primaryType", "Name", &["mgnl:contentNode"], false),
        prop(
            "mgnl:created",
            "Date",
            &["2024-03-05T10:15:30.123+01:00"],
            false
        ),
    );
    std::fs::write(f.join("config.modules.demo.xml"), demo).unwrap();
    std::fs::write(
        f.join("sub/config.modules.demo.apps.yaml"),
        "'apps':\n  'jcr:primaryType': 'mgnl:content'\n  'jcr:uuid': '22222222-2222-4222-8222-222222222222'\n  'label': 'It''s an app'\n  'main':\n    'jcr:primaryType': 'mgnl:contentNode'\n    'order': 3\n",
    )
    .unwrap();
    std::fs::write(
        f.join("website.travel.yaml"),
        "'travel':\n  'jcr:primaryType': 'mgnl:page'\n  'jcr:uuid': '33333333-3333-4333-8333-333333333333'\n  'image': 'jcr:22222222-2222-4222-8222-222222222222'\n  'mgnl:template': 'travel:pages/home'\n  'about.us':\n    'jcr:primaryType': 'mgnl:page'\n",
    )
    .unwrap();
    std::fs::write(
        f.join("website.travel.about..us.yaml"),
        "'about.us':\n  'jcr:primaryType': 'mgnl:page'\n  'jcr:uuid': '44444444-4444-4444-8444-444444444444'\n  'title': 'About'\n",
    )
    .unwrap();
    f
}

fn run(args: &[&str]) -> Output {
    jcrpack().args(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn dump(repo: &Path, ws: &str) -> String {
    String::from_utf8(ok(&["dump", "--repo", s(repo), "--workspace", ws]).stdout).unwrap()
}

fn history_len(repo: &Path) -> usize {
    let out = ok(&["history", "--repo", s(repo), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["operations"].as_array().map_or(0, |a| a.len())
}

/// `jcrpack bootstrap VERB --repo REPO ARGS...`: the arguments of every bootstrap
/// command of these tests that works on a repository.
fn bootstrap<'a>(verb: &'a str, repo: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["bootstrap", verb, "--repo", s(repo)];
    v.extend_from_slice(args);
    v
}

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("schemas/{name}")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn loads_a_folder_into_workspaces_in_one_undoable_operation() {
    let d = tempfile::tempdir().unwrap();
    let f = folder(d.path());
    let repo = init(d.path());
    // Dry run: the report, nothing written.
    let out = ok(&bootstrap("load", &repo, &[s(&f), "--dry-run", "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        schema("bootstrap-load.schema.json").is_valid(&report),
        "{report}"
    );
    assert_eq!(report["dryRun"], true);
    assert!(report["operation"].is_null());
    assert_eq!(history_len(&repo), 0);
    // For real.
    let out = ok(&bootstrap("load", &repo, &[s(&f), "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        schema("bootstrap-load.schema.json").is_valid(&report),
        "{report}"
    );
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["paths"][0].as_str().unwrap())
        .collect();
    // Shortest file name first: parents before children.
    assert_eq!(
        files,
        [
            "/travel",
            "/modules/demo",
            "/modules/demo/apps",
            "/travel/about.us"
        ]
    );
    assert_eq!(
        report["createdWorkspaces"],
        serde_json::json!(["website", "config"])
    );
    assert!(report["undeclaredNodeTypes"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("mgnl:page")));
    let config = dump(&repo, "config");
    assert!(
        config.contains("\"/modules\"") || config.contains("\"modules\""),
        "{config}"
    );
    assert!(config.contains("It's an app"), "{config}");
    let website = dump(&repo, "website");
    assert!(website.contains("about.us"), "{website}");
    // The `about.us` file replaced the node the travel file had made (module profile).
    assert!(
        website.contains("44444444-4444-4444-8444-444444444444"),
        "{website}"
    );
    assert_eq!(history_len(&repo), 1);
    // Undo reverts every file at once, and the workspaces the load created go too.
    ok(&["undo", "--repo", s(&repo)]);
    let ws = ok(&["workspace", "list", "--repo", s(&repo), "--json"]).stdout;
    let ws = String::from_utf8(ws).unwrap();
    assert!(!ws.contains("config") && !ws.contains("website"), "{ws}");
}

#[test]
fn dumps_in_both_formats_load_back_equal() {
    let d = tempfile::tempdir().unwrap();
    let f = folder(d.path());
    let a = init(&d.path().join("a"));
    ok(&bootstrap("load", &a, &[s(&f)]));
    for format in ["xml", "yaml"] {
        let out = d.path().join(format!("out-{format}"));
        ok(&bootstrap(
            "dump",
            &a,
            &[
                "--workspace",
                "website",
                "/travel",
                "--format",
                format,
                "-o",
                s(&out),
            ],
        ));
        ok(&bootstrap(
            "dump",
            &a,
            &[
                "-w",
                "config",
                "/modules",
                "--format",
                format,
                "-o",
                s(&out),
            ],
        ));
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.contains(&format!("website.travel.{format}")),
            "{names:?}"
        );
        assert!(
            names.contains(&format!("config.modules.{format}")),
            "{names:?}"
        );
        let b = init(&d.path().join(format!("b-{format}")));
        ok(&bootstrap("load", &b, &[s(&out)]));
        assert_eq!(dump(&a, "website"), dump(&b, "website"), "{format}");
        assert_eq!(dump(&a, "config"), dump(&b, "config"), "{format}");
        // Two dumps of unchanged content are the same bytes.
        let one = ok(&bootstrap(
            "dump",
            &b,
            &["-w", "website", "/travel", "--format", format],
        ))
        .stdout;
        let two = ok(&bootstrap(
            "dump",
            &a,
            &["-w", "website", "/travel", "--format", format],
        ))
        .stdout;
        assert_eq!(one, two);
    }
    let yaml = ok(&bootstrap(
        "dump",
        &a,
        &["-w", "config", "/modules/demo", "--format", "yaml"],
    ))
    .stdout;
    let yaml = String::from_utf8(yaml).unwrap();
    assert!(yaml.starts_with("'demo':\n  'enabled': true\n"), "{yaml}");
    assert!(
        yaml.contains("  'jcr:mixinTypes': ['mix:lockable']\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  'tags': ['a', 'b c']\n"), "{yaml}");
    assert!(
        yaml.contains("    'mgnl:created': 2024-03-05T10:15:30.123+01:00\n"),
        "{yaml}"
    );
}

#[test]
fn module_profile_lists_collisions_and_writes_nothing_webapp_replaces() {
    let d = tempfile::tempdir().unwrap();
    let f = folder(d.path());
    let repo = init(d.path());
    ok(&bootstrap("load", &repo, &[s(&f)]));
    let before = dump(&repo, "config");
    // The same identifiers under other names.
    let g = d.path().join("moved");
    std::fs::create_dir_all(&g).unwrap();
    let text = std::fs::read_to_string(f.join("config.modules.demo.xml")).unwrap();
    std::fs::write(g.join("config.elsewhere.demo.xml"), &text).unwrap();
    let yaml = std::fs::read_to_string(f.join("sub/config.modules.demo.apps.yaml")).unwrap();
    std::fs::write(g.join("config.other.apps.yaml"), &yaml).unwrap();
    let out = run(&bootstrap("load", &repo, &[s(&g)]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 identifier collision(s), nothing written"),
        "{err}"
    );
    assert!(
        err.contains("11111111-1111-4111-8111-111111111111") && err.contains("/modules/demo"),
        "{err}"
    );
    assert!(
        err.contains("22222222-2222-4222-8222-222222222222") && err.contains("/other/apps"),
        "{err}"
    );
    assert_eq!(dump(&repo, "config"), before);
    assert_eq!(history_len(&repo), 1);
    // Webapp: replaced where they are, said so.
    let out = ok(&bootstrap(
        "load",
        &repo,
        &[s(&g), "--profile", "webapp", "--json"],
    ));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        schema("bootstrap-load.schema.json").is_valid(&report),
        "{report}"
    );
    let res: Vec<&str> = report["collisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resolution"].as_str().unwrap())
        .collect();
    assert_eq!(res, ["relocated", "relocated"], "{report}");
    // REPLACE_EXISTING keeps the existing place: /modules/demo is replaced there (its
    // apps, relocated there by the first file, go with it: the second file's demo has
    // none), and nothing lands at the paths the file names give.
    ok(&bootstrap(
        "dump",
        &repo,
        &["-w", "config", "/modules/demo/config"],
    ));
    for gone in ["/elsewhere/demo", "/other/apps", "/modules/demo/apps"] {
        let out = run(&bootstrap("dump", &repo, &["-w", "config", gone]));
        assert_eq!(out.status.code(), Some(1), "{gone}");
    }
    assert_eq!(history_len(&repo), 2);
}

#[test]
fn packages_from_a_bootstrap_folder_and_back() {
    let d = tempfile::tempdir().unwrap();
    let f = folder(d.path());
    let a = init(&d.path().join("a"));
    ok(&bootstrap("load", &a, &[s(&f)]));
    let pkg = d.path().join("site.zip");
    let out = ok(&["bootstrap", "to-package", s(&f), "-o", s(&pkg), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema("bootstrap-packages.schema.json").is_valid(&v), "{v}");
    let b = init(&d.path().join("b"));
    for ws in ["config", "website"] {
        let p = d.path().join(format!("site-{ws}.zip"));
        assert!(p.is_file(), "{}", p.display());
        ok(&["workspace", "create", ws, "--repo", s(&b)]);
        ok(&["import", s(&p), "--repo", s(&b), "--workspace", ws]);
        assert_eq!(
            dump(&a, ws),
            dump(&b, ws),
            "{ws}: installed package differs"
        );
    }
    // And back: the package's roots as bootstrap files, equal to dumps of the source.
    let back = d.path().join("back");
    ok(&[
        "bootstrap",
        "from-package",
        s(&d.path().join("site-website.zip")),
        "--workspace",
        "website",
        "--format",
        "yaml",
        "-o",
        s(&back),
    ]);
    let direct = ok(&bootstrap(
        "dump",
        &a,
        &["-w", "website", "/travel", "--format", "yaml"],
    ))
    .stdout;
    assert_eq!(
        std::fs::read(back.join("website.travel.yaml")).unwrap(),
        direct
    );
    let c = init(&d.path().join("c"));
    ok(&bootstrap("load", &c, &[s(&back)]));
    assert_eq!(dump(&a, "website"), dump(&c, "website"));
}

#[test]
fn bad_input_names_file_line_and_column_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let repo = init(d.path());
    let cases: &[(&str, &str, &str)] = &[
        (".server.xml", "<x/>", "workspace name is empty"),
        ("config.a%zz.xml", "<x/>", "two hex digits"),
        (
            "config.modules.yaml",
            "'other':\n  'jcr:primaryType': 'mgnl:content'\n",
            "config.modules.yaml:1:1: the document's root node is 'other' but the file name says 'modules'",
        ),
        (
            "config.dup.yaml",
            "'dup':\n  'jcr:primaryType': 'mgnl:content'\n  'a': 1\n  'a': 2\n",
            "config.dup.yaml:4:3: duplicate key 'a'",
        ),
        ("config.tab.yaml", "'tab':\n\t'jcr:primaryType': 'mgnl:content'\n", "config.tab.yaml:2:"),
        (
            "config.tag.yaml",
            "'tag': !weakreference\n  'jcr:primaryType': 'mgnl:content'\n",
            "config.tag.yaml:1:8: unknown tag",
        ),
        (
            "config.doc.xml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e \"e\">]>\n<sv:node xmlns:sv=\"http://www.jcp.org/jcr/sv/1.0\" sv:name=\"doc\"/>",
            "config.doc.xml:2:1: DOCTYPE",
        ),
    ];
    let mut bomb = String::from("'bomb':\n  'jcr:primaryType': 'mgnl:content'\n  'a': &a ['x','x','x','x','x','x','x','x','x']\n");
    let mut prev = 'a';
    for c in 'b'..='z' {
        bomb.push_str(&format!("  '{c}': &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        prev = c;
    }
    let mut all: Vec<(String, String, String)> = cases
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    all.push(("config.bomb.yaml".into(), bomb, "config.bomb.yaml:".into()));
    for (name, text, want) in all {
        let dir = d.path().join(format!("case-{}", name.replace('%', "_")));
        std::fs::create_dir_all(&dir).unwrap();
        // A good file beside the bad one: nothing of it is written either.
        std::fs::write(
            dir.join("config.good.yaml"),
            "'good':\n  'jcr:primaryType': 'mgnl:content'\n",
        )
        .unwrap();
        std::fs::write(dir.join(&name), text).unwrap();
        let out = run(&bootstrap("load", &repo, &[s(&dir)]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(err.contains(&want), "{name}: expected {want:?} in {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert_eq!(history_len(&repo), 0, "{name}: something was written");
    }
    let ws = ok(&["workspace", "list", "--repo", s(&repo), "--json"]);
    assert!(!String::from_utf8_lossy(&ws.stdout).contains("config"));
}

#[test]
fn yaml_dump_refuses_unverified_types_unless_lossy() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("b");
    std::fs::create_dir_all(&f).unwrap();
    std::fs::write(
        f.join("config.ratio.xml"),
        format!(
            r#"<sv:node {SV} sv:name="ratio">{}{}</sv:node>"#,
            prop("jcr:primaryType", "Name", &["mgnl:contentNode"], false),
            prop("expandRatio", "Double", &["0.5"], false)
        ),
    )
    .unwrap();
    let repo = init(d.path());
    ok(&bootstrap("load", &repo, &[s(&f)]));
    let out = run(&bootstrap(
        "dump",
        &repo,
        &["-w", "config", "/ratio", "--format", "yaml"],
    ));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/ratio expandRatio (Double)") && err.contains("--lossy"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let out = ok(&bootstrap(
        "dump",
        &repo,
        &["-w", "config", "/ratio", "--format", "yaml", "--lossy"],
    ));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "'ratio':\n  'expandRatio': '0.5'\n  'jcr:primaryType': 'mgnl:contentNode'\n"
    );
}

const W1: &str = "55555555-5555-4555-8555-555555555555";
const D1: &str = "66666666-6666-4666-8666-666666666666";

/// config links to a website page, the page to a dam asset (Magnolia's `jcr:<uuid>`).
fn site(dir: &Path, title: &str) -> PathBuf {
    let f = dir.join(format!("site-{title}"));
    std::fs::create_dir_all(&f).unwrap();
    std::fs::write(
        f.join("config.modules.yaml"),
        format!("'modules':\n  'jcr:primaryType': 'mgnl:content'\n  'site':\n    'jcr:primaryType': 'mgnl:contentNode'\n    'home': 'jcr:{W1}'\n    'title': '{title}'\n"),
    )
    .unwrap();
    std::fs::write(
        f.join("website.home.yaml"),
        format!("'home':\n  'jcr:primaryType': 'mgnl:page'\n  'jcr:uuid': '{W1}'\n  'image': 'jcr:{D1}'\n  'title': '{title}'\n"),
    )
    .unwrap();
    std::fs::write(
        f.join("dam.photo.yaml"),
        format!("'photo':\n  'jcr:primaryType': 'mgnl:asset'\n  'jcr:uuid': '{D1}'\n  'title': '{title}'\n"),
    )
    .unwrap();
    f
}

#[test]
fn restore_with_the_magnolia_config_preset_leaves_content_and_reports_links() {
    let d = tempfile::tempdir().unwrap();
    let repo = init(d.path());
    ok(&bootstrap("load", &repo, &[s(&site(d.path(), "before"))]));
    let out = ok(&[
        "backup",
        "create",
        "--repo",
        s(&repo),
        "--preset",
        "magnolia-all",
        "--json",
    ]);
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = m["id"].as_str().unwrap().to_string();
    let names: Vec<&str> = m["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    for ws in ["config", "dam", "website"] {
        assert!(names.contains(&ws), "{names:?}");
    }
    // Change all three: new titles everywhere, then the linked page goes.
    ok(&bootstrap("load", &repo, &[s(&site(d.path(), "after"))]));
    ok(&["rm", "/home", "--repo", s(&repo), "--workspace", "website"]);
    let website = dump(&repo, "website");
    let dam = dump(&repo, "dam");
    assert!(dump(&repo, "config").contains("after"));
    // Restore configuration only.
    let out = ok(&[
        "restore",
        &id,
        "--repo",
        s(&repo),
        "--preset",
        "magnolia-config",
        "--yes",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    let config = dump(&repo, "config");
    assert!(
        config.contains("before") && !config.contains("after"),
        "{config}"
    );
    assert_eq!(dump(&repo, "website"), website, "content untouched");
    assert_eq!(dump(&repo, "dam"), dam, "content untouched");
    assert!(
        err.contains("--preset magnolia-config: workspaces config"),
        "{err}"
    );
    assert!(
        err.contains("no workspace users, userroles, usergroups here"),
        "{err}"
    );
    // The link report: config's link to the deleted page no longer resolves.
    assert!(
        err.contains("links: 1 jcr:<uuid> links and references no longer resolve"),
        "{err}"
    );
    assert!(
        err.contains(&format!("config:/modules/site home = jcr:{W1}")),
        "{err}"
    );
    // The backup as bootstrap files a Magnolia imports, loaded back into a fresh
    // repository: equal to the backup's content.
    let boot = d.path().join("boot");
    ok(&[
        "backup",
        "export",
        &id,
        "--repo",
        s(&repo),
        "--format",
        "magnolia-bootstrap",
        "--preset",
        "magnolia-all",
        "-o",
        s(&boot),
    ]);
    let mut files: Vec<String> = std::fs::read_dir(&boot)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["config.modules.xml", "dam.photo.xml", "website.home.xml"]
    );
    let fresh = init(&d.path().join("fresh"));
    ok(&bootstrap("load", &fresh, &[s(&boot)]));
    let dam_now = dump(&fresh, "dam");
    assert!(
        dam_now.contains("before") && dam_now.contains(D1),
        "{dam_now}"
    );
    assert!(dump(&fresh, "website").contains(W1));
}

#[test]
fn magnolia_node_types_are_enforced_when_asked() {
    let d = tempfile::tempdir().unwrap();
    let f = folder(d.path());
    let repo = init(d.path());
    let out = ok(&bootstrap(
        "load",
        &repo,
        &[s(&f), "--types", "magnolia", "--json"],
    ));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let undeclared = report["undeclaredNodeTypes"].as_array().unwrap();
    assert!(undeclared.is_empty(), "{report}");
    // A date that is not one breaks mgnl:created (mgnl:page's supertype).
    let bad = d.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("website.news.yaml"),
        "'news':\n  'jcr:primaryType': 'mgnl:page'\n  'mgnl:created': 'yesterday'\n",
    )
    .unwrap();
    let out = run(&bootstrap("load", &repo, &[s(&bad), "--types", "magnolia"]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 node type violation(s), nothing written"),
        "{err}"
    );
    assert!(
        err.contains("website.news.yaml: /news: ") && err.contains("mgnl:created"),
        "{err}"
    );
    assert_eq!(history_len(&repo), 1);
    // Without --types the same file installs, its types listed as undeclared.
    let other = init(&d.path().join("other"));
    ok(&bootstrap("load", &other, &[s(&bad)]));
}

#[test]
fn export_with_a_preset_writes_one_package_per_workspace() {
    let d = tempfile::tempdir().unwrap();
    let repo = init(d.path());
    ok(&bootstrap("load", &repo, &[s(&site(d.path(), "x"))]));
    let out = d.path().join("content.zip");
    let json = ok(&[
        "export",
        "--repo",
        s(&repo),
        "--preset",
        "magnolia-content",
        "-o",
        s(&out),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(schema("bootstrap-packages.schema.json").is_valid(&v), "{v}");
    assert!(
        !d.path().join("content-config.zip").exists(),
        "config is not content"
    );
    let fresh = init(&d.path().join("fresh"));
    for ws in ["dam", "website"] {
        let p = d.path().join(format!("content-{ws}.zip"));
        ok(&["workspace", "create", ws, "--repo", s(&fresh)]);
        ok(&["import", s(&p), "--repo", s(&fresh), "--workspace", ws]);
        assert_eq!(dump(&repo, ws), dump(&fresh, ws), "{ws}");
    }
}

#[test]
fn a_workspace_root_dumps_as_jcr_root_and_loads_back() {
    let d = tempfile::tempdir().unwrap();
    let f = folder(d.path());
    let a = init(&d.path().join("a"));
    ok(&bootstrap("load", &a, &[s(&f)]));
    for format in ["xml", "yaml"] {
        let out = d.path().join(format!("root-{format}"));
        ok(&bootstrap(
            "dump",
            &a,
            &["-w", "website", "/", "--format", format, "-o", s(&out)],
        ));
        let file = out.join(format!("website.{format}"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("jcr:system"), "{text}");
        assert!(text.contains("jcr:root"), "{text}");
        let b = init(&d.path().join(format!("b-{format}")));
        ok(&bootstrap("load", &b, &[s(&file)]));
        assert_eq!(dump(&a, "website"), dump(&b, "website"), "{format}");
    }
}
