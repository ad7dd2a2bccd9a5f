//! Issue 3 over the shared corpus: `extract --root R` of a package gives, at R, the
//! same tree (canonical JSON) as the whole package installs at R; and a source folder
//! dumps the same as the package `build` makes from it. Needs the shared corpus
//! (`common::corpus`) and fails, saying so, without it.

mod common;

use common::{jcrpack, subtree};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dump_package(p: &Path) -> Option<Value> {
    let out = jcrpack()
        .arg("dump")
        .arg(p)
        .arg("--format")
        .arg("json")
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn roots(p: &Path) -> Vec<String> {
    let Ok(a) = jcrpack::archive::open(p, &Default::default()) else {
        return vec![];
    };
    let Ok(Some(f)) = jcrpack::package::read_filter(a.as_ref()) else {
        return vec![];
    };
    f.sets.iter().map(|s| s.root().to_string()).collect()
}

#[test]
fn corpus_extract_of_a_root_equals_that_subtree_of_the_whole_package() {
    let corpus = common::corpus();
    let pkgs = common::filevault_packages(&corpus);
    let check = |p: &PathBuf| -> (usize, Vec<String>) {
        let mut compared = 0;
        let mut problems = Vec::new();
        let Some(full) = dump_package(p) else {
            return (0, problems);
        };
        let t = tempfile::tempdir().unwrap();
        for (i, r) in roots(p).iter().enumerate() {
            let Some(want) = subtree(&full, r) else {
                continue;
            };
            let out = t.path().join(format!("x{i}.zip"));
            let o = jcrpack()
                .arg("extract")
                .arg(p)
                .arg("--root")
                .arg(r)
                .arg("-o")
                .arg(&out)
                .output()
                .unwrap();
            if !o.status.success() {
                problems.push(format!(
                    "{}: extract {r} failed: {}",
                    p.display(),
                    String::from_utf8_lossy(&o.stderr)
                ));
                continue;
            }
            let Some(part) = dump_package(&out) else {
                problems.push(format!(
                    "{}: the extract of {r} does not install",
                    p.display()
                ));
                continue;
            };
            compared += 1;
            if subtree(&part, r) != Some(want) {
                problems.push(format!("{}: {r} differs", p.display()));
            }
        }
        (compared, problems)
    };
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let half = pkgs.len().div_ceil(2).max(1);
        let hs: Vec<_> = pkgs
            .chunks(half)
            .map(|c| s.spawn(move || c.iter().map(check).collect::<Vec<_>>()))
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let compared: usize = results.iter().map(|r| r.0).sum();
    let problems: Vec<&String> = results.iter().flat_map(|r| r.1.iter()).collect();
    assert!(compared > 100, "only {compared} roots compared");
    // Known and explained: sub packages below /etc/packages install content outside
    // the root they sit in, and referenceable-dup.zip holds one identifier under two
    // roots (the whole package resolves that conflict between them; an extract of one
    // root has no conflict). Everything else must agree.
    let unexplained: Vec<&&String> = problems
        .iter()
        .filter(|p| {
            !p.contains("subtest") && !p.contains("sub_") && !p.contains("referenceable-dup.zip")
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} of {compared} roots differ:\n{}",
        unexplained.len(),
        unexplained
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn corpus_source_folder_dumps_like_the_package_built_from_it() {
    let corpus = common::corpus().join("real");
    let rd = std::fs::read_dir(&corpus).unwrap_or_else(|e| panic!("{}: {e}", corpus.display()));
    let mut n = 0;
    for site in rd.filter_map(Result::ok) {
        let src = site.path().join("ui.content/src/main/content");
        if !src.join("META-INF/vault/filter.xml").is_file() {
            continue;
        }
        let t = tempfile::tempdir().unwrap();
        let zip = t.path().join("p.zip");
        let built = jcrpack()
            .arg("build")
            .arg(&src)
            .arg("-o")
            .arg(&zip)
            .args(["--name", "corpus:test:1", "-q"])
            .output()
            .unwrap();
        if !built.status.success() {
            continue;
        }
        assert_eq!(dump_package(&src), dump_package(&zip), "{}", src.display());
        n += 1;
    }
    assert!(
        n > 0,
        "no source folder of {} was compared",
        corpus.display()
    );
}
