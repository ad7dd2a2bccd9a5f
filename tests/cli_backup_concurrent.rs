//! A hot backup of a repository of 100,000 nodes, taken while other processes keep
//! installing packages and removing nodes for the whole duration of the backup:
//! the backup, copied into a fresh repository and restored into another with
//! `jcrpack restore`, dumps exactly as the source did right after the operation
//! its manifest names (found by undoing, in a copy of
//! the source, every operation after it, newest first).
//!
//! The 100,000 nodes are written through the library in one transaction (an
//! install of as many through the debug binary takes minutes on a loaded machine);
//! the writers are separate `jcrpack import` and `jcrpack rm` processes.

mod fault_support;

use fault_support::{copy_dir, dump, init, jcrpack, run_ok, BigPackage};
use jcrpack::node::Node;
use jcrpack::repository::{AddOptions, OperationMeta};
use jcrpack::value::{Binary, Property, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 100 sections of 10 pages of 100 nodes (`/content/site/sNN/pNN/cNN`), each page
/// with a small binary: 101,101 nodes with the section, site and root nodes.
fn big_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    init(&repo);
    let mut store = jcrpack::repository::open(&repo).unwrap();
    let mut txn = store
        .begin_operation(OperationMeta::new(
            "100,000 nodes",
            &jcrpack::events::Actor {
                user: "test".into(),
                time: jcrpack::value::Date::from_epoch_millis(0),
            },
        ))
        .unwrap();
    let content =
        Node::new("content", "nt:unstructured").with_child(Node::new("site", "nt:unstructured"));
    txn.add_node("default", "/", &content, &AddOptions::default())
        .unwrap();
    for s in 0..100 {
        let mut section = Node::new(format!("s{s:02}"), "nt:unstructured");
        for p in 0..10 {
            let mut page = Node::new(format!("p{p:02}"), "nt:unstructured")
                .with(Property::single(
                    "title",
                    Value::String(format!("page {s}/{p}")),
                ))
                .with(Property::single(
                    "data",
                    Value::Binary(Binary::Inline(
                        format!("binary {s} {p}").into_bytes().into(),
                    )),
                ));
            for c in 0..99 {
                page = page.with_child(
                    Node::new(format!("c{c:02}"), "nt:unstructured")
                        .with(Property::single("n", Value::Long(c))),
                );
            }
            section = section.with_child(page);
        }
        txn.add_node("default", "/content/site", &section, &AddOptions::default())
            .unwrap();
    }
    txn.commit().unwrap();
    repo
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_backup_taken_under_concurrent_writers_is_the_source_at_its_operation() {
    let t = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let repo = big_repo(t.path());
    eprintln!("100,000 nodes written in {:?}", started.elapsed());
    // Writer packages: /content/big with different pages and binaries each version.
    let packages: Vec<PathBuf> = (1..=4)
        .map(|v| {
            BigPackage {
                version: v,
                first: (v as usize) * 3,
                pages: 20,
                files: 2,
                large: 0,
            }
            .write(&t.path().join(format!("w{v}")))
        })
        .collect();
    run_ok(
        jcrpack()
            .arg("import")
            .arg(&packages[0])
            .arg("--repo")
            .arg(&repo),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let done_ops = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, done_ops, repo, packages) = (
            stop.clone(),
            done_ops.clone(),
            repo.clone(),
            packages.clone(),
        );
        std::thread::spawn(move || {
            let mut i = 0usize;
            while !stop.load(Ordering::SeqCst) {
                let out = if i % 3 == 2 {
                    // Remove a page of the big site (a different one every time).
                    let path =
                        format!("/content/site/s{:02}/p{:02}", (i / 3) % 100, (i / 300) % 10);
                    jcrpack()
                        .args(["rm", &path, "--repo"])
                        .arg(&repo)
                        .args(["--lock-timeout", "60"])
                        .output()
                        .unwrap()
                } else {
                    jcrpack()
                        .arg("import")
                        .arg(&packages[i % packages.len()])
                        .arg("--repo")
                        .arg(&repo)
                        .args(["--lock-timeout", "60"])
                        .output()
                        .unwrap()
                };
                assert!(out.status.success(), "writer {i}: {}", stderr(&out));
                done_ops.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    // Let the writers get going, then back up (throttled so that it lasts).
    while done_ops.load(Ordering::SeqCst) < 1 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = done_ops.load(Ordering::SeqCst);
    let b = Instant::now();
    let out = run_ok(
        jcrpack()
            .args([
                "-v",
                "backup",
                "create",
                "--json",
                "--max-rate",
                "20",
                "--repo",
            ])
            .arg(&repo),
    );
    // The image was read straight from the database file under one snapshot (not
    // taken by the fallback through a temporary file).
    assert!(
        stderr(&out).contains("read straight from its database file"),
        "{}",
        stderr(&out)
    );
    let took = b.elapsed();
    let during = done_ops.load(Ordering::SeqCst) - before;
    // One more write after the backup, then stop the writers.
    let target = done_ops.load(Ordering::SeqCst) + 1;
    while done_ops.load(Ordering::SeqCst) < target {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = manifest["lastOperation"].as_i64().unwrap();
    eprintln!(
        "backup took {took:?} with {during} writes completed meanwhile; it holds operation {at}"
    );
    assert!(
        during >= 1,
        "no write completed while the backup ran ({took:?})"
    );
    assert!(manifest["workspaces"][0]["nodes"].as_u64().unwrap() > 100_000);

    // The source at operation `at`: a copy with every later operation undone.
    let history = run_ok(jcrpack().args(["history", "--json", "--repo"]).arg(&repo));
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let later: Vec<i64> = history["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .filter(|id| *id > at)
        .collect();
    assert!(
        !later.is_empty(),
        "the writers ran after the backup's snapshot"
    );
    let then = t.path().join("then");
    copy_dir(&repo, &then);
    std::fs::remove_dir_all(then.join("backups")).unwrap();
    for id in later.iter().rev() {
        run_ok(
            jcrpack()
                .args(["undo", &id.to_string(), "--force", "--repo"])
                .arg(&then),
        );
    }

    // The backup, copied into a fresh repository.
    let id = manifest["id"].as_str().unwrap();
    let cat = repo.join("backups");
    let restored = t.path().join("restored");
    std::fs::create_dir_all(restored.join("blobs")).unwrap();
    let b = cat.join("backups").join(id);
    fault_support::backup_image(&cat, id, &restored.join("repository.db"));
    for line in std::fs::read_to_string(b.join("blobs.txt"))
        .unwrap()
        .lines()
    {
        let sha = line.split(' ').next().unwrap();
        std::fs::create_dir_all(restored.join("blobs").join(&sha[..2])).unwrap();
        let rel = format!("{}/{}", &sha[..2], &sha[2..]);
        std::fs::copy(
            cat.join("blobs").join(&rel),
            restored.join("blobs").join(&rel),
        )
        .unwrap();
    }
    let got = dump(&restored);
    let want = dump(&then);
    assert!(
        got == want,
        "the backup differs from the source at operation {at}"
    );
    assert_ne!(
        want,
        dump(&repo),
        "the writers changed the source after the backup"
    );

    // And `jcrpack restore` of the backup into a fresh repository gives the same.
    let fresh = t.path().join("fresh");
    init(&fresh);
    let b = Instant::now();
    run_ok(
        jcrpack()
            .args(["-q", "restore", id, "--yes", "--catalogue"])
            .arg(&cat)
            .arg("--repo")
            .arg(&fresh),
    );
    eprintln!(
        "whole restore into a fresh repository took {:?}",
        b.elapsed()
    );
    assert!(
        dump(&fresh) == want,
        "the backup restored into a fresh repository differs from the source at operation {at}"
    );
    eprintln!("whole test {:?}", started.elapsed());
}
