//! CLI tests for `jcrpack workspace create|list|delete` and `--workspace` on a
//! workspace that does not exist.

use std::path::Path;

mod common;

use common::{import, init, jcrpack};

const EXAMPLE: &str = "fixtures/example";

fn stderr(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

fn stdout(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn ws(repo: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    jcrpack()
        .arg("workspace")
        .args(args)
        .arg("--repo")
        .arg(repo)
        .assert()
}

#[test]
fn a_missing_workspace_fails_with_a_hint_to_create_it() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let err = stderr(import(&repo, Path::new(EXAMPLE), &["--workspace", "staging"]).code(1));
    assert!(err.contains("workspace 'staging' does not exist"), "{err}");
    assert!(
        err.contains("hint: create it with: jcrpack workspace create staging --repo"),
        "{err}"
    );
}

#[test]
fn workspaces_are_created_listed_used_and_deleted() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    assert_eq!(stdout(ws(&repo, &["list"]).success()), "default\n");
    let err = stderr(ws(&repo, &["create", "staging"]).success());
    assert!(
        err.contains("created workspace 'staging' (operation 1)"),
        "{err}"
    );
    let err = stderr(ws(&repo, &["create", "staging"]).code(1));
    assert!(err.contains("workspace 'staging' already exists"), "{err}");
    assert_eq!(stdout(ws(&repo, &["list"]).success()), "default\nstaging\n");

    // --json follows its schema.
    let out = stdout(ws(&repo, &["list", "--json"]).success());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string("schemas/workspace-list.schema.json").unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    assert!(schema.is_valid(&v), "{out}");
    assert_eq!(v["workspaces"][1]["name"], "staging");
    assert_eq!(v["workspaces"][0]["default"], true);

    // The workspace takes an install; default stays empty.
    import(&repo, Path::new(EXAMPLE), &["--workspace", "staging"]).success();
    let dump = |w: &str| {
        stdout(
            jcrpack()
                .args(["dump", "--format", "json", "--workspace", w, "--repo"])
                .arg(&repo)
                .arg("/")
                .assert()
                .success(),
        )
    };
    assert!(dump("staging").contains("wknd-lite"));
    assert!(!dump("default").contains("wknd-lite"));

    // Deleting refuses a full workspace without --force, and never deletes default.
    let err = stderr(ws(&repo, &["delete", "staging"]).code(1));
    assert!(err.contains("workspace 'staging' was not deleted"), "{err}");
    assert!(
        err.contains("hint: --force deletes it with its content"),
        "{err}"
    );
    let err = stderr(ws(&repo, &["delete", "default", "--force"]).code(1));
    assert!(
        err.contains("the default workspace is never deleted"),
        "{err}"
    );
    let err = stderr(ws(&repo, &["delete", "nope"]).code(1));
    assert!(err.contains("workspace 'nope' does not exist"), "{err}");
    let before = dump("staging");
    let err = stderr(ws(&repo, &["delete", "staging", "--force"]).success());
    assert!(err.contains("deleted workspace 'staging'"), "{err}");
    assert_eq!(stdout(ws(&repo, &["list"]).success()), "default\n");

    // Undo brings it back whole.
    jcrpack()
        .arg("undo")
        .arg("--repo")
        .arg(&repo)
        .assert()
        .success();
    assert_eq!(stdout(ws(&repo, &["list"]).success()), "default\nstaging\n");
    assert_eq!(dump("staging"), before);
}

#[test]
fn undoing_a_creation_deletes_the_empty_workspace() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    ws(&repo, &["create", "staging"]).success();
    let h = stdout(
        jcrpack()
            .args(["history", "--repo"])
            .arg(&repo)
            .assert()
            .success(),
    );
    assert!(h.contains("create workspace staging"), "{h}");
    jcrpack()
        .arg("undo")
        .arg("--repo")
        .arg(&repo)
        .assert()
        .success();
    assert_eq!(stdout(ws(&repo, &["list"]).success()), "default\n");
}

/// A new workspace holds Oak's initial content (`/jcr:system`) and nothing else, and
/// counts as empty: `delete` needs no `--force` for it.
#[test]
fn a_new_workspace_has_oaks_initial_content_and_deletes_without_force() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    ws(&repo, &["create", "staging"]).success();
    let dump = jcrpack()
        .args(["dump", "--workspace", "staging", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&dump.get_output().stdout).unwrap();
    assert_eq!(doc["children"][0]["name"], "jcr:system", "{doc}");
    assert_eq!(doc["children"][0]["primaryType"], "rep:system", "{doc}");
    assert_eq!(doc["children"].as_array().unwrap().len(), 1, "{doc}");
    let said = stderr(ws(&repo, &["delete", "staging"]).success());
    assert!(said.contains("deleted workspace 'staging'"), "{said}");
    assert_eq!(stdout(ws(&repo, &["list"])), "default\n");
}
