//! Where output goes: a reader that closes the pipe early ends a command quietly
//! with exit 0 (and never undoes what it committed), `-q` silences every stderr line
//! that is not an error, and long commands draw progress on a terminal only.

mod common;

use common::{init, jcrpack};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example")
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("jcrpack")
}

/// Runs jcrpack with `args` and its stdout a pipe whose reading end is closed
/// before the command writes anything: every write to stdout fails with EPIPE.
/// Returns the exit code and stderr.
fn with_closed_stdout(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut child = Command::new(bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.into()).collect()
}

fn assert_quiet_success(args: Vec<std::ffi::OsString>) {
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, stderr) = with_closed_stdout(&refs);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn a_closed_pipe_ends_package_commands_quietly() {
    let pkg = example().into_os_string();
    for cmd in ["ls", "info", "dump", "validate"] {
        let mut args = os(&[cmd]);
        args.push(pkg.clone());
        assert_quiet_success(args);
    }
    let mut json = os(&["ls", "--json"]);
    json.push(pkg.clone());
    assert_quiet_success(json);
    let filter = example().join("META-INF/vault/filter.xml").into_os_string();
    let mut explain = os(&["filter", "explain"]);
    explain.push(filter);
    explain.push("/content".into());
    assert_quiet_success(explain);
}

#[test]
fn a_closed_pipe_keeps_a_committed_install_and_ends_repository_commands_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(tmp.path());
    let r = repo.clone().into_os_string();
    // diff before the install: many nodes would be added.
    let mut diff = os(&["diff"]);
    diff.push(example().into_os_string());
    diff.push("--repo".into());
    diff.push(r.clone());
    assert_quiet_success(diff);
    // import with its list of paths going nowhere: committed, exit 0.
    let mut import = os(&["import"]);
    import.push(example().into_os_string());
    import.push("--repo".into());
    import.push(r.clone());
    let refs: Vec<&std::ffi::OsStr> = import.iter().map(|a| a.as_os_str()).collect();
    let (code, stderr) = with_closed_stdout(&refs);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(
        stderr.contains("installed "),
        "the summary still prints: {stderr}"
    );
    let history = jcrpack()
        .args(["history", "--json", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let history = String::from_utf8_lossy(&history.get_output().stdout).to_string();
    assert!(history.contains("install "), "{history}");
    for cmd in [&["dump", "--repo"][..], &["history", "--repo"][..]] {
        let mut args = os(cmd);
        args.push(r.clone());
        assert_quiet_success(args);
    }
}

#[test]
fn quiet_silences_every_line_that_is_not_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let init = jcrpack().args(["init", "-q"]).arg(&repo).assert().success();
    assert_eq!(String::from_utf8_lossy(&init.get_output().stderr), "");
    let import = jcrpack()
        .arg("import")
        .arg(example())
        .args(["--repo"])
        .arg(&repo)
        .arg("-q")
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&import.get_output().stderr), "");
    // Into a pipe, -q also silences the list of paths.
    assert_eq!(String::from_utf8_lossy(&import.get_output().stdout), "");
    let rm = jcrpack()
        .args(["rm", "/content", "-q", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&rm.get_output().stderr), "");
    // Errors still print with -q.
    let missing = jcrpack()
        .args(["rm", "/nothing/here", "-q", "--repo"])
        .arg(&repo)
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&missing.get_output().stderr).contains("error:"));
    // Without -q the same commands say what they did.
    let loud = jcrpack()
        .arg("init")
        .arg(tmp.path().join("other"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&loud.get_output().stderr).contains("initialized"));
}

/// Runs `jcrpack ARGS` under `script`, which gives it a pseudo-terminal (so stderr
/// is a terminal), and returns everything the terminal received.
fn on_a_terminal(args: &str) -> String {
    let which = Command::new("script").arg("--version").output();
    assert!(
        which.is_ok(),
        "this test needs util-linux `script` to run the command on a pseudo-terminal"
    );
    let command = format!("{} {args}", bin().display());
    let out = Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into()
}

#[test]
fn long_commands_draw_progress_on_a_terminal_only() {
    let tmp = tempfile::tempdir().unwrap();
    let src = example().display().to_string();
    let out = tmp.path().join("p.zip").display().to_string();
    let repo = tmp.path().join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    let repo = repo.display().to_string();
    let cases = [
        (format!("build {src} -o {out} --name g:n:1"), "building"),
        (format!("diff {src} --repo {repo}"), "dry run"),
        (format!("validate {src}"), "validating"),
        (
            format!(
                "export --repo {repo} --root / -o {}/e.zip",
                tmp.path().display()
            ),
            "exporting",
        ),
    ];
    for (args, phase) in &cases {
        let drawn = on_a_terminal(args);
        assert!(drawn.contains(phase), "{args}: {drawn:?}");
        let quiet = on_a_terminal(&format!("{args} -q"));
        assert!(!quiet.contains(phase), "{args} -q: {quiet:?}");
        // Not a terminal: no bar either.
        let piped = jcrpack().args(args.split(' ')).output().unwrap();
        assert!(
            !String::from_utf8_lossy(&piped.stderr).contains(phase),
            "{args}: {piped:?}"
        );
    }
}

#[test]
fn export_json_follows_its_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(tmp.path());
    common::import(&repo, &example(), &[]).success();
    let out = tmp.path().join("e.zip");
    let run = jcrpack()
        .args(["export", "--root", "/content/wknd-lite", "--json", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let text = std::fs::read_to_string("schemas/export.schema.json").unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let errors: Vec<String> = schema.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc}");
    assert_eq!(doc["packageId"], "jcrpack:export:1.0.0");
    assert!(doc["nodes"].as_u64().unwrap() > 0);
}

/// `import` on a terminal: the summary (counts per action, the operation id), not
/// one line per path; `-v` lists every path; `--log FILE` writes the full log as
/// AEM's package manager does, whole; into a pipe the list stays what scripts read.
#[test]
fn import_on_a_terminal_summarizes_and_lists_with_v_log_or_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(tmp.path());
    let (src, r) = (example().display().to_string(), repo.display().to_string());
    let log = tmp.path().join("install.log");
    let drawn = on_a_terminal(&format!("import {src} --repo {r} --log {}", log.display()));
    assert!(!drawn.contains("A /apps/wknd-lite"), "{drawn:?}");
    assert!(
        drawn.contains("installed jcrpack/examples:wknd-lite:1.0.0: 19 added")
            && drawn.contains("operation 1; jcrpack undo 1 reverts it")
            && drawn.contains(&format!("the full list of paths is in {}", log.display())),
        "{drawn:?}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.starts_with("Installing content\nImporting content...\nA /apps\nA /apps/wknd-lite\n"),
        "{text}"
    );
    assert!(text.ends_with("\nPackage imported.\n"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("A /")).count(), 19);
    // The log was renamed into place: no temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // Without --log the summary says where the list is.
    let drawn = on_a_terminal(&format!("import {src} --repo {r}"));
    assert!(
        drawn.contains("the full list of paths: -v, or --log FILE"),
        "{drawn:?}"
    );
    assert!(!drawn.contains("- /content/wknd-lite"), "{drawn:?}");
    // -v lists every path the install walked; an unchanged re-install walks none
    // by default, and says how many aggregates it skipped.
    let listed = on_a_terminal(&format!("import {src} --repo {r} -v"));
    assert!(!listed.contains("- /content/wknd-lite"), "{listed:?}");
    assert!(
        listed.contains("aggregates skipped (unchanged since installed)"),
        "{listed:?}"
    );
    let listed = on_a_terminal(&format!("import {src} --repo {r} -v --no-skip-unchanged"));
    assert!(listed.contains("- /content/wknd-lite\r\n"), "{listed:?}");
    // Into a pipe: the list, one line per path, as before.
    let piped = common::import(&repo, &example(), &["--no-skip-unchanged"]).success();
    let stdout = String::from_utf8_lossy(&piped.get_output().stdout).to_string();
    assert_eq!(stdout.lines().count(), 13, "{stdout}");
    assert!(stdout.lines().all(|l| l.starts_with("- /")), "{stdout}");
    // --json keeps every entry.
    let json = common::import(&repo, &example(), &["--json", "--no-skip-unchanged"]).success();
    let doc: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(doc["entries"].as_array().unwrap().len(), 13, "{doc}");
    // A log that cannot be written stops the install before it changes anything.
    let before = common::dump(&repo);
    let history = |repo: &Path| {
        let out = jcrpack()
            .args(["history", "--json", "--repo"])
            .arg(repo)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let ops = history(&repo);
    let bad = tmp.path().join("no/such/folder/install.log");
    let run = jcrpack()
        .arg("import")
        .arg(example())
        .arg("--repo")
        .arg(&repo)
        .arg("--log")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("nothing was changed"),
        "{run:?}"
    );
    assert_eq!(common::dump(&repo), before);
    assert_eq!(history(&repo), ops);
}

/// Housekeeping commands write through the pipe-safe writer too: into a pipe that
/// closes before they write (`| head -1`), they end quietly with exit 0, their
/// work done.
#[test]
fn a_closed_pipe_ends_housekeeping_commands_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(tmp.path());
    common::import(&repo, &example(), &[]).success();
    jcrpack()
        .args(["rm", "/content/wknd-lite/en/about", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let r = repo.clone().into_os_string();
    let with_repo = |args: &[&str]| {
        let mut v = os(args);
        v.push("--repo".into());
        v.push(r.clone());
        v
    };
    // A backup to list, show, verify and prune.
    let (code, stderr) = with_closed_stdout(
        &with_repo(&["backup", "create"])
            .iter()
            .map(|a| a.as_os_str())
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let list = jcrpack()
        .args(["backup", "list", "--json", "--repo"])
        .arg(&repo)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = doc["backups"][0]["id"].as_str().unwrap().to_string();
    for args in [
        &["backup", "list"][..],
        &["backup", "show", &id],
        &["backup", "verify", &id],
        &["backup", "prune", "--keep-last", "1", "--dry-run"],
        &["workspace", "list"],
        &["history"],
        &["gc", "--dry-run"],
        &["gc"],
        &["history", "prune", "--keep", "1", "--dry-run"],
        &["history", "prune", "--keep", "1"],
        &["history", "prune", "--keep", "1"],
    ] {
        assert_quiet_success(with_repo(args));
    }
    // The prune happened although nobody read what it said.
    let history = jcrpack()
        .args(["history", "prune", "--keep", "1", "--dry-run", "--repo"])
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&history.stdout).starts_with("nothing to drop"),
        "{history:?}"
    );
}

/// `import` (and `--skip-unchanged`, the default named): a re-install of the same
/// package with the same options reads nothing below the aggregates it installed and
/// lists none of their paths; they are counted. `--no-skip-unchanged` still visits and
/// lists every path (and the last of the two flags wins), and a change in the
/// repository below an aggregate brings that aggregate back.
#[test]
fn skip_unchanged_counts_what_it_skips_and_a_change_below_is_installed_again() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(tmp.path());
    let json = |extra: &[&str]| -> serde_json::Value {
        let out = common::import(&repo, &example(), &[&["--json"], extra].concat()).success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let first = json(&["--skip-unchanged"]);
    assert_eq!(first["totals"]["skipped"], 0, "{first}");
    for walk in [
        &["--no-skip-unchanged"][..],
        &["--skip-unchanged", "--no-skip-unchanged"],
    ] {
        let plain = json(walk);
        assert_eq!(plain["totals"]["skipped"], 0, "{walk:?} {plain}");
        assert_eq!(plain["entries"].as_array().unwrap().len(), 13, "{plain}");
    }
    // The default, the flag named, and the flag named last: every aggregate
    // counted as skipped, no path listed.
    for skipping in [
        &[][..],
        &["--skip-unchanged"],
        &["--no-skip-unchanged", "--skip-unchanged"],
    ] {
        let skipped = json(skipping);
        assert!(
            skipped["totals"]["skipped"].as_u64().unwrap() > 0,
            "{skipping:?} {skipped}"
        );
        assert!(
            skipped["entries"].as_array().unwrap().is_empty(),
            "{skipping:?} {skipped}"
        );
    }
    // Into a pipe: no path lines, nothing changed.
    let piped = common::import(&repo, &example(), &["--skip-unchanged"]).success();
    assert!(piped.get_output().stdout.is_empty(), "{piped:?}");
    // A node removed below the content: installed again, not skipped.
    jcrpack()
        .args(["rm", "/content/wknd-lite/en", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let back = json(&["--skip-unchanged"]);
    assert!(back["totals"]["added"].as_u64().unwrap() > 0, "{back}");
    let again = json(&["--skip-unchanged"]);
    assert!(again["entries"].as_array().unwrap().is_empty(), "{again}");
}
