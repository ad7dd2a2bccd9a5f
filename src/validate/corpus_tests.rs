//! Validates every package of the shared corpus (zips and package folders) when the
//! corpus exists: no panic, and error counts that are plausible. FileVault's test
//! packages include deliberately broken ones, so errors are expected somewhere, but
//! not in every package.

use super::{validate_path, Severity};
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    Some(crate::test_support::corpus())
}

/// Zips, and folders holding `META-INF/vault/` (package folders and source folders).
fn packages(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut it = walkdir::WalkDir::new(root).sort_by_file_name().into_iter();
    while let Some(Ok(e)) = it.next() {
        let p = e.path();
        if e.file_type().is_dir() {
            if p.join("META-INF/vault").is_dir()
                && (p.join("jcr_root").is_dir() || p.join("META-INF/vault/filter.xml").is_file())
            {
                out.push(p.to_path_buf());
                it.skip_current_dir();
            }
        } else if e.file_type().is_file() && p.extension().is_some_and(|x| x == "zip") {
            out.push(p.to_path_buf());
        }
    }
    out
}

#[test]
fn every_corpus_package_validates_without_panic() {
    let Some(root) = corpus() else { return };
    let pkgs = packages(&root);
    assert!(!pkgs.is_empty(), "no packages found in {}", root.display());
    let (mut opened, mut with_errors, mut total_errors) = (0usize, 0usize, 0usize);
    for p in &pkgs {
        let report = match validate_path(p) {
            Ok(r) => r,
            Err(e) => {
                // Not a package at all (a zip of something else, a broken archive).
                eprintln!("note: {}: {e}", p.display());
                continue;
            }
        };
        opened += 1;
        let c = report.counts();
        if c.error > 0 {
            with_errors += 1;
            total_errors += c.error;
        }
        for f in &report.findings {
            assert!(
                !f.message.is_empty() && !f.fix.is_empty(),
                "{}: finding without message or fix: {f:?}",
                p.display()
            );
            if f.severity == Severity::Error {
                assert!(
                    f.entry.is_some(),
                    "{}: error without entry: {f}",
                    p.display()
                );
            }
        }
    }
    eprintln!(
        "corpus: {opened} packages validated, {with_errors} with errors, {total_errors} errors"
    );
    assert!(
        opened * 2 >= pkgs.len(),
        "only {opened} of {} packages could be opened",
        pkgs.len()
    );
    // FileVault's test packages hold deliberately broken ones, but most packages are fine.
    assert!(
        with_errors > 0,
        "no package has an error: the validators find nothing"
    );
    assert!(
        with_errors * 2 < opened,
        "{with_errors} of {opened} packages have errors: implausibly many"
    );
}
