//! Commands on a PostgreSQL repository do what they do on SQLite (issue 19 item
//! 1): the same package installed into both gives the same dump, history, export
//! and undo; a backup of the SQLite repository restores into PostgreSQL (issue 19
//! item 4, one direction), and so does a SQLite repository folder.
//!
//! The tests start their own PostgreSQL cluster (see `src/repository/pg/testdb.rs`,
//! included here), or use `JCRPACK_TEST_POSTGRES`; without PostgreSQL they fail.

#[allow(dead_code)]
#[path = "../src/repository/pg/testdb.rs"]
mod testdb;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn jcrpack() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jcrpack"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env("USER", "tester")
        .stdin(Stdio::null());
    c
}

fn ok(args: &[&str]) -> Output {
    let mut c = jcrpack();
    c.args(args);
    let out = c.output().expect("run jcrpack");
    assert!(
        out.status.success(),
        "jcrpack {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(o: Output) -> String {
    String::from_utf8(o.stdout).expect("utf-8")
}

fn corpus() -> PathBuf {
    let dir = std::env::var_os("JCRPACK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("filevault").is_dir(),
        "the shared corpus is missing: {} (set JCRPACK_CORPUS)",
        dir.display()
    );
    dir
}

fn tags() -> String {
    corpus()
        .join("filevault/vault-core-it/vault-core-integration-tests/src/main/resources/test-packages/tags.zip")
        .display()
        .to_string()
}

/// History lines without their times (the two repositories were written at
/// different moments).
fn history(repo: &str) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&text(ok(&["history", "--repo", repo, "--json"]))).expect("JSON");
    strip_times(&mut v);
    v
}

fn strip_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("time");
            m.remove("description");
            m.remove("repository");
            m.values_mut().for_each(strip_times);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_times),
        _ => {}
    }
}

#[test]
fn commands_on_postgres_match_sqlite() {
    let t = tempfile::tempdir().unwrap();
    let sq = t.path().join("repo").display().to_string();
    let pg = format!("{}?schema=parity", testdb::fresh_database());
    let pkg = tags();
    for repo in [&sq, &pg] {
        ok(&["init", repo]);
        ok(&["import", &pkg, "--repo", repo, "-q"]);
        ok(&["rm", "/etc/tags/default", "--repo", repo]);
    }
    let dump = |repo: &str| text(ok(&["dump", "--repo", repo, "/", "--format", "json"]));
    assert_eq!(dump(&sq), dump(&pg));
    assert_eq!(history(&sq), history(&pg));
    // diff of the package against each repository.
    let diff = |repo: &str| text(ok(&["diff", &pkg, "--repo", repo]));
    assert_eq!(diff(&sq), diff(&pg));
    // export: the same filter gives the same package listing.
    let ls = |repo: &str, name: &str| {
        let out = t.path().join(name);
        ok(&[
            "export",
            "--repo",
            repo,
            "--root",
            "/etc/tags",
            "-o",
            out.to_str().unwrap(),
            "-q",
        ]);
        text(ok(&["ls", out.to_str().unwrap()]))
    };
    assert_eq!(ls(&sq, "sq.zip"), ls(&pg, "pg.zip"));
    // undo of the removal, then of the install.
    for repo in [&sq, &pg] {
        ok(&["undo", "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&sq), dump(&pg));
    for repo in [&sq, &pg] {
        ok(&["undo", "1", "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&sq), dump(&pg));
}

#[test]
fn a_sqlite_backup_and_a_sqlite_folder_restore_into_postgres() {
    let t = tempfile::tempdir().unwrap();
    let sq = t.path().join("repo").display().to_string();
    let catalogue = t.path().join("catalogue").display().to_string();
    ok(&["init", &sq]);
    ok(&["import", &tags(), "--repo", &sq, "-q"]);
    ok(&[
        "backup",
        "create",
        "--repo",
        &sq,
        "--catalogue",
        &catalogue,
        "-q",
    ]);
    let list = text(ok(&["backup", "list", "--catalogue", &catalogue]));
    let id = list
        .split_whitespace()
        .next()
        .expect("a backup id")
        .to_string();
    let dump = |repo: &str| text(ok(&["dump", "--repo", repo, "/", "--format", "json"]));
    let base = testdb::fresh_database();
    let from_backup = format!("{base}?schema=from_backup");
    ok(&["init", &from_backup]);
    ok(&[
        "restore",
        &id,
        "--catalogue",
        &catalogue,
        "--repo",
        &from_backup,
        "-y",
        "-q",
    ]);
    assert_eq!(dump(&from_backup), dump(&sq));
    let from_folder = format!("{base}?schema=from_folder");
    ok(&["init", &from_folder]);
    ok(&["restore", &sq, "--repo", &from_folder, "-y", "-q"]);
    assert_eq!(dump(&from_folder), dump(&sq));
}
