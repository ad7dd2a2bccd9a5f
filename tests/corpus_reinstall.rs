//! Issue 13 item 3 over the shared corpus: installing the same package a second time
//! changes nothing. For every corpus package that installs into an empty repository:
//! `diff` right after the install lists no change, a second install (default mode)
//! reports nothing added, updated, replaced or deleted and leaves the same dump, and
//! so does a second install with `--mode replace` after a first one.
//! Needs the shared corpus (`common::corpus`) and fails, saying so, without it.
//!
//! The clock is not pinned here (unlike [`common::jcrpack`]): a date set again by the
//! second install would show as a changed dump.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    Command::cargo_bin("jcrpack").unwrap()
}

fn dump(repo: &Path) -> String {
    let out = bin().args(["dump", "--repo"]).arg(repo).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Installs `pkg`: the report, or what the failed install said.
fn install(repo: &Path, pkg: &Path, extra: &[&str]) -> Result<Value, String> {
    let out = bin()
        .arg("import")
        .arg(pkg)
        .arg("--repo")
        .arg(repo)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("its --json report: {e}"))
}

/// What a report says changed (its sub packages' too), as `"N added, ..."`, or
/// `None` when nothing did.
fn changes(report: &Value) -> Option<String> {
    fn total(r: &Value, key: &str) -> u64 {
        r["totals"][key].as_u64().unwrap_or(0)
            + r["subPackages"]
                .as_array()
                .map(|subs| subs.iter().map(|s| total(s, key)).sum())
                .unwrap_or(0)
    }
    let keys = ["added", "updated", "replaced", "deleted"];
    let n: Vec<u64> = keys.iter().map(|k| total(report, k)).collect();
    if n.iter().all(|&x| x == 0) {
        return None;
    }
    let changed: Vec<String> = report["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] != "unchanged")
        .take(3)
        .map(|e| format!("{} {}", e["action"], e["path"]))
        .collect();
    Some(format!(
        "{} added, {} updated, {} replaced, {} deleted (first: {})",
        n[0],
        n[1],
        n[2],
        n[3],
        changed.join(", ")
    ))
}

/// Packages whose second install changes content for a reason that is FileVault's
/// behaviour too, with the reason.
const KNOWN: &[(&str, &str)] = &[(
    "referenceable-dup.zip",
    "it holds one identifier on two nodes (FileVault's IdConflictPolicy test): every \
     install meets the conflict again and resolves it by removing the node that holds it",
)];

enum Outcome {
    /// The first install failed (the package does not install into an empty
    /// repository); nothing to compare.
    Skipped,
    Same,
    Differs(String),
}

fn twice(pkg: &Path) -> Outcome {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("r");
    bin().arg("init").arg(&repo).assert().success();
    if install(&repo, pkg, &[]).is_err() {
        return Outcome::Skipped;
    }
    let first = dump(&repo);
    let diff = bin()
        .arg("diff")
        .arg(pkg)
        .arg("--repo")
        .arg(&repo)
        .arg("--json")
        .output()
        .unwrap();
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap_or_default();
    let listed = diff["changes"].as_array().map_or(0, Vec::len);
    if listed != 0 {
        return Outcome::Differs(format!(
            "diff after the install lists {listed} changes, first {}",
            diff["changes"][0]["path"]
        ));
    }
    let second = match install(&repo, pkg, &[]) {
        Ok(report) => report,
        Err(e) => return Outcome::Differs(format!("the second install failed: {e}")),
    };
    if let Some(c) = changes(&second) {
        return Outcome::Differs(format!("second install: {c}"));
    }
    if dump(&repo) != first {
        return Outcome::Differs("the second install changed the dump".into());
    }
    if let Err(e) = install(&repo, pkg, &["--mode", "replace"]) {
        return Outcome::Differs(format!("the first install in mode replace failed: {e}"));
    }
    let replaced = dump(&repo);
    let again = match install(&repo, pkg, &["--mode", "replace"]) {
        Ok(report) => report,
        Err(e) => {
            return Outcome::Differs(format!("the second install in mode replace failed: {e}"))
        }
    };
    if let Some(c) = changes(&again) {
        return Outcome::Differs(format!("second install in mode replace: {c}"));
    }
    if dump(&repo) != replaced {
        return Outcome::Differs("the second install in mode replace changed the dump".into());
    }
    Outcome::Same
}

#[test]
fn a_second_install_of_every_corpus_package_changes_nothing() {
    let corpus = common::corpus();
    let mut pkgs = common::filevault_packages(&corpus);
    pkgs.extend(common::source_folders(&corpus));
    let results: Vec<(PathBuf, Outcome)> = std::thread::scope(|s| {
        let half = pkgs.len().div_ceil(2).max(1);
        let handles: Vec<_> = pkgs
            .chunks(half)
            .map(|c| s.spawn(move || c.iter().map(|p| (p.clone(), twice(p))).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let same = results
        .iter()
        .filter(|r| matches!(r.1, Outcome::Same))
        .count();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(p, o)| match o {
            Outcome::Differs(_) if KNOWN.iter().any(|(k, _)| p.ends_with(k)) => None,
            Outcome::Differs(why) => Some(format!("{}: {why}", p.display())),
            _ => None,
        })
        .collect();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.1, Outcome::Skipped))
        .count();
    eprintln!(
        "{} packages: {same} unchanged by a second install, {skipped} do not install \
         into an empty repository, {} differ",
        results.len(),
        failures.len()
    );
    assert!(same > 100, "only {same} packages compared");
    assert!(
        failures.is_empty(),
        "{} packages change on a second install:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
