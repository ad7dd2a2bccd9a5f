//! CLI tests for how repositories are opened: the `type` file, newer formats, and
//! locations naming backends this build does not have.

mod common;

use common::{init, jcrpack};

#[test]
fn init_writes_a_type_file_naming_backend_and_format() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let text = std::fs::read_to_string(repo.join("type")).unwrap();
    assert_eq!(text, "backend = sqlite\nformat = 1\n");
}

#[test]
fn a_newer_format_is_refused_with_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    std::fs::write(repo.join("type"), "backend = sqlite\nformat = 2\n").unwrap();
    let out = jcrpack()
        .args(["history", "--repo"])
        .arg(&repo)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("repository format 2 is newer than this jcrpack reads (format 1)"),
        "{err}"
    );
}

#[test]
fn a_repository_without_a_type_file_still_opens() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    std::fs::remove_file(repo.join("type")).unwrap();
    jcrpack()
        .args(["history", "--repo"])
        .arg(&repo)
        .assert()
        .success();
}

#[test]
fn unknown_url_schemes_are_an_unsupported_backend() {
    // postgres:// is the PostgreSQL backend (tests/pg_cli.rs); other schemes are not.
    for cmd in [
        &["init", "mysql://localhost/jcr"][..],
        &["history", "--repo", "mysql://localhost/jcr"],
    ] {
        let out = jcrpack()
            .args(cmd)
            .assert()
            .code(1)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(out).unwrap();
        assert!(
            err.contains("the mysql backend is not supported by this jcrpack"),
            "{err}"
        );
    }
}

#[test]
fn a_folder_without_a_repository_says_how_to_create_one() {
    let t = tempfile::tempdir().unwrap();
    let out = jcrpack()
        .args(["history", "--repo"])
        .arg(t.path())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("not a jcrpack repository"), "{err}");
    assert!(err.contains("hint: create one with: jcrpack init"), "{err}");
}
