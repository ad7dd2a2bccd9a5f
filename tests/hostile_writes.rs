//! Every writing path obeys the same rules (issue 15, class 5): the deny list of
//! system roots and the node depth limit that `import` checks are checked, through
//! the one library function (`jcrpack::write_rules`), by `load`, `restore` (from a
//! backup, from another repository's folder and from a package) and
//! `bootstrap load`. Each refusal names the path and the rule, exits 1 and leaves the
//! repository as it was.

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const JCR: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0""#;

fn jcrpack() -> Command {
    let mut c = Command::cargo_bin("jcrpack").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    for (name, _) in jcrpack::limits::ENV_VARS {
        c.env_remove(name);
    }
    c.timeout(Duration::from_secs(60));
    c
}

fn init(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    repo
}

fn dump(repo: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for ws in ["default", "config", "website"] {
        let out = jcrpack()
            .args(["dump", "--workspace", ws, "--repo"])
            .arg(repo)
            .output()
            .unwrap();
        all.extend(out.stdout);
    }
    all
}

/// Runs `args` in `cwd` with `env`; it must exit 1 naming every `expect`, and
/// leave the repository `repo` unchanged.
fn refused(repo: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)], expect: &[&str]) {
    let before = dump(repo);
    let mut cmd = jcrpack();
    cmd.current_dir(cwd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for e in expect {
        assert!(err.contains(e), "{args:?} does not say {e:?}: {err}");
    }
    assert_eq!(
        before,
        dump(repo),
        "{args:?}: a refused write changed the repository"
    );
}

fn ok(cwd: &Path, args: &[&str]) -> String {
    let out = jcrpack().current_dir(cwd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A DocView tree `levels` deep (`a/a/a...`).
fn nested(levels: usize) -> String {
    format!(
        r#"<jcr:root {JCR} jcr:primaryType="nt:unstructured">{}{}</jcr:root>"#,
        r#"<a jcr:primaryType="nt:unstructured">"#.repeat(levels - 1),
        "</a>".repeat(levels - 1)
    )
}

fn zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

/// Writes `sec.zip` in `dir`, a package writing below `/rep:security`, and
/// returns its one DocView document.
fn security_package(dir: &Path) -> String {
    let filter =
        r#"<workspaceFilter version="1.0"><filter root="/rep:security/x"/></workspaceFilter>"#;
    let x = format!(r#"<jcr:root {JCR} jcr:primaryType="nt:unstructured"/>"#);
    zip(
        &dir.join("sec.zip"),
        &[
            ("META-INF/vault/filter.xml", filter.as_bytes()),
            ("jcr_root/rep:security/x/.content.xml", x.as_bytes()),
        ],
    );
    x
}

const DEPTH: [(&str, &str); 1] = [("JCRPACK_MAX_NODE_DEPTH", "4")];
const TOO_DEEP: [&str; 2] = ["more than the limit of 4", "JCRPACK_MAX_NODE_DEPTH"];

#[test]
fn import_and_load_refuse_system_roots_and_depth() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let x = security_package(t.path());
    refused(
        &repo,
        t.path(),
        &["import", "sec.zip", "--repo", "repo"],
        &[],
        &["/rep:security", "--allow-system-roots"],
    );
    let filter = r#"<workspaceFilter version="1.0"><filter root="/content"/></workspaceFilter>"#;
    let deep = nested(5);
    zip(
        &t.path().join("deep.zip"),
        &[
            ("META-INF/vault/filter.xml", filter.as_bytes()),
            ("jcr_root/content/.content.xml", deep.as_bytes()),
        ],
    );
    refused(
        &repo,
        t.path(),
        &["import", "deep.zip", "--repo", "repo"],
        &DEPTH,
        &TOO_DEEP,
    );
    std::fs::write(t.path().join("deep.xml"), &deep).unwrap();
    refused(
        &repo,
        t.path(),
        &["load", "deep.xml", "--at", "/", "--repo", "repo"],
        &DEPTH,
        &TOO_DEEP,
    );
    std::fs::write(t.path().join("sys.xml"), &x).unwrap();
    refused(
        &repo,
        t.path(),
        &["load", "sys.xml", "--at", "/oak:index", "--repo", "repo"],
        &[],
        &["below the system root /oak:index", "--allow-system-roots"],
    );
    // Within the limit, both write.
    ok(
        t.path(),
        &["load", "deep.xml", "--at", "/", "--repo", "repo"],
    );
    ok(t.path(), &["import", "deep.zip", "--repo", "repo"]);
}

#[test]
fn bootstrap_load_refuses_system_roots_and_depth() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let sec = t.path().join("sec");
    std::fs::create_dir_all(&sec).unwrap();
    std::fs::write(
        sec.join("config.rep:security.yaml"),
        "'rep:security':\n  'jcr:primaryType': 'mgnl:content'\n",
    )
    .unwrap();
    refused(
        &repo,
        t.path(),
        &["bootstrap", "load", "sec", "--repo", "repo"],
        &[],
        &[
            "config.rep:security.yaml",
            "below the system root /rep:security",
        ],
    );
    // A workspace-root export (`jcr:root`) whose child is a system root.
    let root = t.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("config.xml"),
        r#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" sv:name="jcr:root"><sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>rep:root</sv:value></sv:property><sv:node sv:name="oak:index"><sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>nt:unstructured</sv:value></sv:property></sv:node></sv:node>"#,
    )
    .unwrap();
    refused(
        &repo,
        t.path(),
        &["bootstrap", "load", "root", "--repo", "repo"],
        &[],
        &["config.xml", "below the system root /oak:index"],
    );
    let deep = t.path().join("deep");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        deep.join("website.a.b.yaml"),
        "'b':\n  'jcr:primaryType': 'mgnl:content'\n  'c':\n    'jcr:primaryType': 'mgnl:content'\n    'd':\n      'jcr:primaryType': 'mgnl:content'\n      'e':\n        'jcr:primaryType': 'mgnl:content'\n",
    )
    .unwrap();
    let mut expect = vec!["website.a.b.yaml"];
    expect.extend(TOO_DEEP);
    refused(
        &repo,
        t.path(),
        &["bootstrap", "load", "deep", "--repo", "repo"],
        &DEPTH,
        &expect,
    );
    ok(t.path(), &["bootstrap", "load", "deep", "--repo", "repo"]);
}

#[test]
fn restore_from_a_backup_a_repository_and_a_package_refuses_what_import_refuses() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    std::fs::write(t.path().join("deep.xml"), nested(6)).unwrap();
    ok(
        t.path(),
        &["load", "deep.xml", "--at", "/", "--repo", "repo"],
    );
    // Another repository's folder (a copy of this one) and a backup both hold the
    // six levels; once the subtree is gone, restoring it crosses a limit of 4.
    let other = t.path().join("other");
    ok(t.path(), &["init", other.to_str().unwrap()]);
    ok(
        t.path(),
        &["load", "deep.xml", "--at", "/", "--repo", "other"],
    );
    ok(t.path(), &["backup", "create", "--repo", "repo"]);
    let list = ok(t.path(), &["backup", "list", "--json", "--repo", "repo"]);
    let doc: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = doc["backups"][0]["id"].as_str().unwrap().to_string();
    ok(t.path(), &["rm", "/jcr:root", "--repo", "repo"]);
    for source in [id.as_str(), "other"] {
        refused(
            &repo,
            t.path(),
            &[
                "restore",
                source,
                "--root",
                "/jcr:root",
                "--yes",
                "--repo",
                "repo",
            ],
            &DEPTH,
            &TOO_DEEP,
        );
    }
    ok(
        t.path(),
        &[
            "restore",
            &id,
            "--root",
            "/jcr:root",
            "--yes",
            "--repo",
            "repo",
        ],
    );
    // A package restores by installing it: the same refusals as import.
    security_package(t.path());
    refused(
        &repo,
        t.path(),
        &["restore", "sec.zip", "--yes", "--repo", "repo"],
        &[],
        &["/rep:security", "--allow-system-roots"],
    );
}

/// The JSON dump of `path` in `repo`'s default workspace.
fn dump_at(repo: &Path, path: &str) -> String {
    let out = jcrpack()
        .args(["dump", path, "--repo"])
        .arg(repo)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn restore_from_a_hostile_folder_never_writes_the_system_roots() {
    // Another repository's folder, as an attacker would hand it over: content, and
    // a node below /rep:security and /jcr:system (written there with the operator's
    // --allow-system-roots, as a hostile folder may hold anything).
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let hostile = t.path().join("hostile");
    ok(t.path(), &["init", hostile.to_str().unwrap()]);
    let sv = |name: &str, child: &str| {
        format!(
            r#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" sv:name="{name}"><sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>nt:unstructured</sv:value></sv:property>{child}</sv:node>"#
        )
    };
    let files = [
        ("content.xml", sv("content", ""), "/"),
        ("security.xml", sv("rep:security", &sv("evil", "")), "/"),
        ("planted.xml", sv("planted", ""), "/jcr:system"),
    ];
    for (file, xml, at) in &files {
        std::fs::write(t.path().join(file), xml).unwrap();
        ok(
            t.path(),
            &[
                "load",
                file,
                "--at",
                at,
                "--allow-system-roots",
                "--repo",
                "hostile",
            ],
        );
    }
    let security = dump_at(&repo, "/rep:security");
    let system = dump_at(&repo, "/jcr:system");
    assert!(system.contains("jcr:versionStorage"), "{system}");
    // A root asked for below a system root: refused, nothing written.
    for root in ["/rep:security", "/rep:security/evil", "/jcr:system/planted"] {
        refused(
            &repo,
            t.path(),
            &[
                "restore", "hostile", "--root", root, "--yes", "--repo", "repo",
            ],
            &[],
            &[
                root,
                "below the system root",
                "whole workspace from a verified backup",
            ],
        );
    }
    // The whole tree: the content comes, the system roots stay as they are, and
    // the dry run lists no change below them.
    let dry = ok(
        t.path(),
        &[
            "restore",
            "hostile",
            "--dry-run",
            "-v",
            "--json",
            "--repo",
            "repo",
        ],
    );
    assert!(dry.contains("/content"), "{dry}");
    assert!(
        !dry.contains("/rep:security") && !dry.contains("/jcr:system"),
        "{dry}"
    );
    ok(t.path(), &["restore", "hostile", "--yes", "--repo", "repo"]);
    assert!(dump_at(&repo, "/content").contains("\"content\""));
    assert!(!dump_at(&repo, "/rep:security").contains("evil"));
    assert_eq!(security, dump_at(&repo, "/rep:security"));
    assert_eq!(system, dump_at(&repo, "/jcr:system"));
    // A verified backup brings the system roots back, restoring the whole
    // workspace; a subtree below them it does not.
    ok(
        t.path(),
        &[
            "load",
            "security.xml",
            "--at",
            "/",
            "--allow-system-roots",
            "--repo",
            "repo",
        ],
    );
    ok(t.path(), &["backup", "create", "--repo", "repo"]);
    let list = ok(t.path(), &["backup", "list", "--json", "--repo", "repo"]);
    let doc: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = doc["backups"][0]["id"].as_str().unwrap().to_string();
    ok(t.path(), &["undo", "--repo", "repo"]);
    assert!(!dump_at(&repo, "/rep:security").contains("evil"));
    refused(
        &repo,
        t.path(),
        &[
            "restore",
            &id,
            "--root",
            "/rep:security/evil",
            "--yes",
            "--repo",
            "repo",
        ],
        &[],
        &["below the system root /rep:security"],
    );
    ok(t.path(), &["restore", &id, "--yes", "--repo", "repo"]);
    assert!(dump_at(&repo, "/rep:security").contains("evil"));
}
