//! A PostgreSQL repository shared by processes (issue 19 item 2): installs into two
//! workspaces from separate processes while others read, all acknowledged installs
//! in the history; and a SIGKILL of an installing process at several moments
//! leaves the repository exactly before or after, with the lock free again.
//!
//! The tests start their own PostgreSQL cluster (see `src/repository/pg/testdb.rs`,
//! included here), or use `JCRPACK_TEST_POSTGRES`; without PostgreSQL they fail.

#[allow(dead_code)]
#[path = "../src/repository/pg/testdb.rs"]
mod testdb;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn jcrpack() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jcrpack"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null());
    c
}

fn ok(mut c: Command) -> Output {
    let out = c.output().expect("run jcrpack");
    assert!(
        out.status.success(),
        "{c:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn repo(schema: &str) -> String {
    format!("{}?schema={schema}", testdb::fresh_database())
}

fn init(url: &str) {
    let mut c = jcrpack();
    c.args(["init", url]);
    ok(c);
}

fn dump(url: &str, workspace: &str) -> String {
    let mut c = jcrpack();
    c.args([
        "dump", "--format", "json", "--repo", url, "-w", workspace, "/",
    ]);
    String::from_utf8(ok(c).stdout).expect("utf-8")
}

fn history(url: &str) -> Vec<String> {
    let mut c = jcrpack();
    c.args(["history", "--repo", url]);
    String::from_utf8(ok(c).stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// A package folder with `pages` pages of a few nodes each below /content/big.
fn big_package(dir: &Path, pages: usize) -> PathBuf {
    let p = dir.join(format!("big{pages}"));
    let w = |rel: &str, text: &str| {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    w(
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/big\"/></workspaceFilter>",
    );
    w(
        "jcr_root/content/big/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    );
    for i in 0..pages {
        w(
            &format!("jcr_root/content/big/p{i:05}/.content.xml"),
            &format!(
                r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="page {i}" n="{{Long}}{i}"><a jcr:primaryType="nt:unstructured" x="1"><b jcr:primaryType="nt:unstructured" y="[p,q]"/></a><c jcr:primaryType="nt:unstructured"/></jcr:root>"#
            ),
        );
    }
    p
}

fn import(url: &str, package: &Path, workspace: &str) -> Command {
    import_waiting(url, package, workspace, "120")
}

fn import_waiting(url: &str, package: &Path, workspace: &str, lock_timeout: &str) -> Command {
    let mut c = jcrpack();
    c.arg("import").arg(package).args([
        "-q",
        "--repo",
        url,
        "-w",
        workspace,
        "--lock-timeout",
        lock_timeout,
    ]);
    c
}

#[test]
fn installs_into_two_workspaces_with_readers_all_land_in_the_history() {
    let t = tempfile::tempdir().unwrap();
    let url = repo("shared");
    init(&url);
    let mut c = jcrpack();
    c.args(["workspace", "create", "other", "--repo", &url]);
    ok(c);
    let pkg = big_package(t.path(), 20);
    let ops_before = history(&url).len();
    let initial = dump(&url, "default");
    assert_eq!(initial, dump(&url, "other"));
    let done = Arc::new(AtomicBool::new(false));
    let rounds = 2;
    let writers: Vec<_> = ["default", "default", "other", "other"]
        .into_iter()
        .map(|ws| {
            let (url, pkg) = (url.clone(), pkg.clone());
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    ok(import(&url, &pkg, ws));
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let (url, done) = (url.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                let started = Instant::now();
                while !done.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(300) {
                    let ws = if i % 2 == 0 { "default" } else { "other" };
                    let d = dump(&url, ws);
                    serde_json::from_str::<serde_json::Value>(&d).expect("a dump is JSON");
                    seen.insert(d);
                    history(&url);
                }
                seen
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let mut seen = std::collections::BTreeSet::new();
    for r in readers {
        seen.extend(r.join().expect("reader"));
    }
    let ops = history(&url);
    assert_eq!(
        ops.len() - ops_before,
        4 * rounds,
        "every acknowledged install is in the history:\n{}",
        ops.join("\n")
    );
    let last = dump(&url, "default");
    assert_eq!(last, dump(&url, "other"));
    // Every install writes the same content, so a consistent dump (one snapshot)
    // is the state before the first install or after one: never a mix.
    assert!(!seen.is_empty());
    for d in &seen {
        assert!(*d == initial || *d == last, "a dump mixed two states:\n{d}");
    }
}

#[test]
fn a_killed_install_leaves_the_repository_before_or_after() {
    let t = tempfile::tempdir().unwrap();
    let pkg = big_package(t.path(), 100);
    // The state after a whole install, and how long one takes.
    let reference = repo("reference");
    init(&reference);
    let before = dump(&reference, "default");
    let started = Instant::now();
    ok(import(&reference, &pkg, "default"));
    let cold = started.elapsed();
    let after = dump(&reference, "default");
    // The first install into a fresh cluster pays for its start (caches, catalogs):
    // time a second one into another fresh repository, and place the kills by the
    // faster, so that the early ones land while the install runs.
    let warm = repo("reference_warm");
    init(&warm);
    let started = Instant::now();
    ok(import(&warm, &pkg, "default"));
    let full = cold.min(started.elapsed());
    assert_ne!(before, after);
    let (mut saw_before, mut saw_after) = (0, 0);
    for (i, fraction) in [0.1, 0.4, 0.7, 1.5].into_iter().enumerate() {
        let url = repo(&format!("kill{i}"));
        init(&url);
        let ops = history(&url).len();
        let mut child = import(&url, &pkg, "default")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();
        let now = dump(&url, "default");
        let new_ops = history(&url).len() - ops;
        if now == before {
            assert_eq!(
                new_ops, 0,
                "killed at {fraction}: nothing changed, nothing recorded"
            );
            saw_before += 1;
        } else {
            assert_eq!(now, after, "killed at {fraction}: neither before nor after");
            assert_eq!(new_ops, 1, "killed at {fraction}: the install is recorded");
            saw_after += 1;
        }
        // The dead client's lock went with its transaction.
        ok(import_waiting(&url, &pkg, "default", "5"));
        assert_eq!(dump(&url, "default"), after);
    }
    eprintln!("killed installs: {saw_before} left before, {saw_after} after (a whole install took {full:?})");
    assert!(saw_before > 0, "no kill landed mid-install");
}
