//! Issue 4's round trip over the shared corpus: every package that installs into an
//! empty repository is exported with its own filter and properties, the export is
//! installed into another empty repository, and the two dumps must be equal
//! (mixin order aside: FileVault's exporter sorts `jcr:mixinTypes`, so neither tool
//! keeps a hand-written order through an export). Exporting twice gives identical bytes.
//! Needs the shared corpus (`common::corpus`) and fails, saying so, without it.

mod common;

use common::jcrpack;
use std::path::{Path, PathBuf};

/// Packages whose round trip differs for a reason that is FileVault's behaviour too,
/// with the reason.
const KNOWN: &[(&str, &str)] = &[
    ("subtest_with_content.zip", "its sub package is outside the parent's filter on the first install; the export holds the sub package zip below a contained /etc/packages and the second install runs it"),
    ("test_user_with_rep_cache.zip", "rep:cache below a user is a protected, repository-maintained node; it is not exported"),
    ("acs-aem-commons/ui.apps", "an uncovered intermediate created as nt:folder by the first install is a bare folder in the export and comes back as the parent's default child type"),
    ("test-packages/privileges.zip", "the install registers its custom privilege (/jcr:system/rep:privileges); exports carry no privileges.xml, as FileVault's exporter writes none (DefaultMetaInf.save writes config, filter, settings and properties only)"),
    ("aem-sample-we-retail/ui.content", "top-level order of uncovered nodes follows the filter roots on install, and the export's root placeholders list them in repository order"),
];

fn dump(repo: &Path) -> String {
    let out = jcrpack()
        .args(["dump", "--repo"])
        .arg(repo)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("\"mixinTypes\":") {
                "MIXINS"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + &mixin_sets(&text)
}

/// The mixin sets in document order, each sorted: order-insensitive but still compared.
fn mixin_sets(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("\"mixinTypes\":"))
        .map(|m| {
            let mut v: Vec<&str> = m
                .trim()
                .trim_end_matches(',')
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .collect();
            v.sort_unstable();
            v.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn metadata(pkg: &Path, name: &str, dir: &Path) -> Option<PathBuf> {
    if pkg.is_dir() {
        let p = pkg.join("META-INF/vault").join(name);
        return p.is_file().then_some(p);
    }
    let archive = jcrpack::archive::open(pkg, &Default::default()).ok()?;
    let bytes = archive
        .read_to_vec(&format!("META-INF/vault/{name}"))
        .ok()?;
    let p = dir.join(name);
    std::fs::write(&p, bytes).ok()?;
    Some(p)
}

enum Outcome {
    Skipped,
    Same,
    Differs(String),
}

fn round_trip(pkg: &Path) -> Outcome {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    jcrpack().arg("init").arg(&a).assert().success();
    if !jcrpack()
        .arg("import")
        .arg(pkg)
        .arg("--repo")
        .arg(&a)
        .output()
        .unwrap()
        .status
        .success()
    {
        return Outcome::Skipped;
    }
    let Some(filter) = metadata(pkg, "filter.xml", t.path()) else {
        return Outcome::Skipped;
    };
    if !std::fs::read_to_string(&filter)
        .unwrap_or_default()
        .contains("<filter")
    {
        return Outcome::Skipped;
    }
    let props = metadata(pkg, "properties.xml", t.path());
    let export = |out: &Path| {
        let mut c = jcrpack();
        // A package's own filter may hold roots that select nothing (content it
        // deletes): the round trip keeps them, as the original does.
        c.args(["export", "--allow-empty", "--repo"])
            .arg(&a)
            .arg("--filter")
            .arg(&filter)
            .arg("-o")
            .arg(out);
        if let Some(p) = &props {
            c.arg("--properties").arg(p);
        }
        c.output().unwrap()
    };
    let (x1, x2) = (t.path().join("x1.zip"), t.path().join("x2.zip"));
    let o = export(&x1);
    if !o.status.success() {
        return Outcome::Differs(format!(
            "export failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    export(&x2);
    if std::fs::read(&x1).unwrap() != std::fs::read(&x2).unwrap() {
        return Outcome::Differs("two exports differ".into());
    }
    jcrpack().arg("init").arg(&b).assert().success();
    let o = jcrpack()
        .arg("import")
        .arg(&x1)
        .arg("--repo")
        .arg(&b)
        .output()
        .unwrap();
    if !o.status.success() {
        return Outcome::Differs(format!(
            "the export does not install: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let (da, db) = (dump(&a), dump(&b));
    if da == db {
        Outcome::Same
    } else {
        let line = da
            .lines()
            .zip(db.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        Outcome::Differs(format!("dumps differ from line {}", line + 1))
    }
}

#[test]
fn corpus_packages_round_trip_through_export() {
    let corpus = common::corpus();
    let mut pkgs = common::filevault_packages(&corpus);
    pkgs.extend(common::source_folders(&corpus));
    let results: Vec<(PathBuf, Outcome)> = std::thread::scope(|s| {
        let chunks: Vec<Vec<PathBuf>> = pkgs
            .chunks(pkgs.len().div_ceil(2).max(1))
            .map(|c| c.to_vec())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    c.into_iter()
                        .map(|p| {
                            let o = round_trip(&p);
                            (p, o)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut same = 0;
    let mut failures = Vec::new();
    for (p, o) in &results {
        match o {
            Outcome::Same => same += 1,
            Outcome::Skipped => {}
            Outcome::Differs(why) => {
                let shown = p.display().to_string();
                if !KNOWN.iter().any(|(k, _)| shown.contains(k)) {
                    failures.push(format!("{shown}: {why}"));
                }
            }
        }
    }
    assert!(same > 100, "only {same} packages round-tripped");
    assert!(
        failures.is_empty(),
        "{} packages do not round-trip:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
