//! The hostile-input corpus (`fixtures/hostile/`): every case is refused without a
//! panic, by an error that names the cause.
//!
//! `fixtures/hostile/cases.tsv` lists each case with the command that should refuse
//! it and how it is checked today (`checked_by`): through the CLI where the command
//! exists (`jcrpack filter explain`), otherwise through the library entry point the
//! future command will use. `accept` cases are legitimate and must be accepted
//! quickly; `pending` cases have no check yet beyond "no panic". The TODO list is in
//! `fixtures/hostile/README.md`.

use assert_cmd::Command;
use jcrpack::archive::{self, ArchiveError, ReadOptions};
use jcrpack::filter::WorkspaceFilter;
use jcrpack::location::Location;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROOT: &str = "fixtures/hostile";

struct Case {
    file: String,
    attacks: String,
    command: String,
    expect: String,
    checked_by: String,
}

fn cases() -> Vec<Case> {
    let tsv = std::fs::read_to_string(Path::new(ROOT).join("cases.tsv")).expect("cases.tsv");
    let mut lines = tsv.lines();
    assert_eq!(
        lines.next(),
        Some("file\tattacks\tcommand\texpect\tchecked_by"),
        "cases.tsv header"
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "cases.tsv line {line:?}");
            Case {
                file: f[0].to_string(),
                attacks: f[1].to_string(),
                command: f[2].to_string(),
                expect: f[3].to_string(),
                checked_by: f[4].to_string(),
            }
        })
        .collect()
}

fn case_path(case: &Case) -> PathBuf {
    Path::new(ROOT).join("cases").join(&case.file)
}

/// Opens a zip, lists it and reads every file entry: the first error, if any.
fn read_whole_archive(path: &Path, options: &ReadOptions) -> Result<usize, ArchiveError> {
    let archive = archive::open(path, options)?;
    let mut files = 0;
    let names: Vec<String> = archive
        .entries()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    for name in names {
        if archive.is_dir(&name) {
            continue;
        }
        let mut reader = archive.open(&name)?;
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| ArchiveError::from_read_error(archive.name(), &name, e))?;
        files += 1;
    }
    Ok(files)
}

/// A refusal: the message and, for text formats, where it points.
struct Refusal {
    message: String,
    location: Option<Location>,
}

/// Runs the library check of a case. `Ok(None)` when the input was accepted.
fn library_check(case: &Case, path: &Path) -> Option<Refusal> {
    let bytes = std::fs::read(path).expect("case file");
    let name = case.file.as_str();
    let folder = name.split('/').next().unwrap_or("");
    let strict = case.checked_by == "archive-strict";
    match folder {
        // The package layout refuses names that unescape to the same node.
        "zip" if case.checked_by == "layout" => archive::open(path, &ReadOptions::default())
            .and_then(|a| jcrpack::package::scan(a.as_ref(), &Default::default()))
            .err()
            .map(|e| Refusal {
                message: e.to_string(),
                location: None,
            }),
        "zip" => read_whole_archive(path, &ReadOptions::default().with_strict(strict))
            .err()
            .map(|e| Refusal {
                message: e.to_string(),
                location: None,
            }),
        "docview" => jcrpack::docview::parse(bytes.as_slice(), name)
            .err()
            .map(|e| Refusal {
                message: e.to_string(),
                location: Some(e.location),
            }),
        "filter" => {
            let parsed = WorkspaceFilter::parse(&bytes, name);
            if let Ok(filter) = &parsed {
                // Matching is linear whatever the pattern: a long almost-match of a
                // backtracking pattern must not take long.
                let start = Instant::now();
                let _ = filter.contains(&format!("/content/{}!", "a".repeat(10_000)));
                assert!(
                    start.elapsed() < Duration::from_secs(2),
                    "{name}: matching took {:?}",
                    start.elapsed()
                );
            }
            parsed.err().map(|e| Refusal {
                message: e.to_string(),
                location: Some(e.location()),
            })
        }
        "cnd" => jcrpack::cnd::parse_bytes(&bytes, name)
            .err()
            .map(|e| Refusal {
                message: e.to_string(),
                location: Some(e.location().clone()),
            }),
        "properties" => jcrpack::properties::parse_properties_xml(&bytes, name)
            .err()
            .map(|e| Refusal {
                message: e.to_string(),
                location: Some(e.location().clone()),
            }),
        "sysview" => jcrpack::sysview::read_tree(bytes.as_slice(), name)
            .err()
            .map(|e| Refusal {
                message: e.to_string(),
                location: Some(e.location),
            }),
        other => panic!("{name}: no library check for folder {other:?}"),
    }
}

/// Checks one case; returns what is wrong, if anything.
fn check(case: &Case) -> Result<(), String> {
    let path = case_path(case);
    let name = &case.file;
    if !path.is_file() {
        return Err(format!("{name}: missing; run fixtures/hostile/generate"));
    }
    if name.starts_with("materialized/") {
        // Classes 4 and 5 (a FIFO, a device, a damaged blob store, a second
        // repository): tests/hostile_cli.rs builds what the kind says and runs the
        // commands; no library parser reads these files as they are.
        return Ok(());
    }
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| library_check(case, &path)))
        .map_err(|_| format!("{name}: the library panicked ({})", case.attacks))?;
    let elapsed = start.elapsed();
    if elapsed > Duration::from_secs(10) {
        return Err(format!("{name}: took {elapsed:?} ({})", case.attacks));
    }
    match case.checked_by.as_str() {
        "pending" => return Ok(()),
        "accept" => {
            return match outcome {
                None => Ok(()),
                Some(r) => Err(format!("{name}: refused, but is legitimate: {}", r.message)),
            }
        }
        _ => {}
    }
    let refusal = outcome
        .ok_or_else(|| format!("{name}: accepted, but should be refused ({})", case.attacks))?;
    if !refusal.message.contains(&case.expect) {
        return Err(format!(
            "{name}: the error does not name the cause (expected {:?}): {}",
            case.expect, refusal.message
        ));
    }
    if let Some(location) = refusal.location {
        if location.file != *name {
            return Err(format!(
                "{name}: the error names the file {:?}",
                location.file
            ));
        }
        // Encoding problems of a whole file may have no line; everything else points.
        if location.line == 0 && !refusal.message.contains("UTF-8") {
            return Err(format!(
                "{name}: the error has no line: {}",
                refusal.message
            ));
        }
    }
    if case.checked_by == "cli" {
        check_cli(case, &path)?;
    }
    Ok(())
}

/// `jcrpack filter explain CASE /content` fails with exit code 1 and says why.
fn check_cli(case: &Case, path: &Path) -> Result<(), String> {
    let name = &case.file;
    assert!(
        case.command.contains("filter explain"),
        "{name}: cli case for {}",
        case.command
    );
    let out = Command::cargo_bin("jcrpack")
        .expect("the jcrpack binary is built")
        .args(["filter", "explain"])
        .arg(path)
        .arg("/content")
        .timeout(Duration::from_secs(30))
        .output()
        .map_err(|e| format!("{name}: cannot run jcrpack: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("panicked") {
        return Err(format!("{name}: jcrpack panicked: {stderr}"));
    }
    if out.status.code() != Some(1) {
        return Err(format!(
            "{name}: exit status {:?}, expected 1: {stderr}",
            out.status
        ));
    }
    if !stderr.contains(&case.expect) {
        return Err(format!(
            "{name}: stderr does not name the cause (expected {:?}): {stderr}",
            case.expect
        ));
    }
    Ok(())
}

#[test]
fn every_hostile_case_is_refused_without_a_panic() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_file_is_listed_and_every_listed_file_exists() {
    let listed: std::collections::BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    let mut on_disk = std::collections::BTreeSet::new();
    for folder in std::fs::read_dir(Path::new(ROOT).join("cases")).unwrap() {
        let folder = folder.unwrap();
        for file in std::fs::read_dir(folder.path()).unwrap() {
            let file = file.unwrap();
            on_disk.insert(format!(
                "{}/{}",
                folder.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            ));
        }
    }
    assert_eq!(listed, on_disk);
}

#[test]
fn the_generator_reproduces_the_corpus_byte_for_byte() {
    let python = ["python3", "python"].into_iter().find(|p| {
        std::process::Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(python) = python else {
        panic!("this test runs fixtures/hostile/generate, which needs python3: install it");
    };
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(python)
        .arg(Path::new(ROOT).join("generate"))
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let committed = std::fs::read(Path::new(ROOT).join("cases.tsv")).unwrap();
    assert!(
        std::fs::read(out.path().join("cases.tsv")).unwrap() == committed,
        "cases.tsv differs"
    );
    for case in cases() {
        let fresh = std::fs::read(out.path().join("cases").join(&case.file)).unwrap();
        let committed = std::fs::read(case_path(&case)).unwrap();
        assert!(
            fresh == committed,
            "{} differs from what the generator writes",
            case.file
        );
    }
}
