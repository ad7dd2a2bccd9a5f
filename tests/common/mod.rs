//! Helpers shared by the CLI and corpus tests.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The jcrpack binary with a pinned clock.
pub fn jcrpack() -> Command {
    let mut c = Command::cargo_bin("jcrpack").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

/// A new empty repository `repo` in `dir`.
pub fn init(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    repo
}

/// `jcrpack import PACKAGE --repo REPO EXTRA...`, to assert on.
pub fn import(repo: &Path, package: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    jcrpack()
        .arg("import")
        .arg(package)
        .arg("--repo")
        .arg(repo)
        .args(extra)
        .assert()
}

/// The standard output of `jcrpack ARGS --repo REPO`, which must succeed.
pub fn repo_output(args: &[&str], repo: &Path) -> String {
    let out = jcrpack()
        .args(args)
        .arg("--repo")
        .arg(repo)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// The repository's JSON dump, to compare states before and after.
pub fn dump(repo: &Path) -> String {
    repo_output(&["dump", "--format", "json"], repo)
}

/// `jcrpack history --json` of the repository.
pub fn history(repo: &Path) -> String {
    repo_output(&["history", "--json"], repo)
}

/// The node at repository path `path` in a JSON dump (`dump --format json`).
pub fn subtree<'a>(tree: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut n = tree;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        n = n["children"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == seg)?;
    }
    Some(n)
}

/// Every FileVault corpus package: zips, and folders with `META-INF/vault/filter.xml`
/// and `jcr_root/`, sorted.
pub fn filevault_packages(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(corpus.join("filevault"))
        .into_iter()
        .filter_map(Result::ok)
    {
        let p = e.path();
        let zip = e.file_type().is_file() && p.extension().is_some_and(|x| x == "zip");
        let folder = e.file_type().is_dir()
            && p.join("META-INF/vault/filter.xml").is_file()
            && p.join("jcr_root").is_dir();
        if zip || folder {
            out.push(p.to_path_buf());
        }
    }
    out.sort();
    out
}

/// The source folders (`ui.content`, `ui.apps`, `ui.config`) of the real sites.
pub fn source_folders(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(corpus.join("real")) {
        for site in rd.filter_map(Result::ok) {
            for part in ["ui.content", "ui.apps", "ui.config"] {
                let p = site.path().join(part).join("src/main/content");
                if p.join("META-INF/vault/filter.xml").is_file() {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// The shared corpus: `$JCRPACK_CORPUS` when set, else `../shared/corpus` beside the
/// checkout. A test that needs it and cannot find it fails, saying so: a corpus test
/// that ran over nothing must not report `ok`.
pub fn corpus() -> PathBuf {
    let dir = match std::env::var_os("JCRPACK_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    assert!(
        dir.join("filevault").is_dir(),
        "the shared corpus is missing: {} has no filevault/ folder. Corpus tests need it \
         (set JCRPACK_CORPUS to its folder, or check it out as ../shared/corpus)",
        dir.display()
    );
    dir
}
