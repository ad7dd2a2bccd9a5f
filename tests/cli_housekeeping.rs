//! CLI tests for housekeeping: `gc`, `history prune`, what `history` and `undo` say.

use std::path::Path;

mod common;

use common::{import, init, jcrpack};

const EXAMPLE: &str = "fixtures/example";

fn out(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn err(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

fn run(args: &[&str], repo: &Path) -> assert_cmd::assert::Assert {
    jcrpack().args(args).arg("--repo").arg(repo).assert()
}

fn blob_files(repo: &Path) -> usize {
    walkdir::WalkDir::new(repo.join("blobs"))
        .min_depth(2)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

#[test]
fn undo_says_what_it_did_in_a_sentence() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, Path::new(EXAMPLE), &[]).success();
    let e = err(&run(&["undo"], &repo).success());
    assert!(!e.contains("UndoReport"), "{e}");
    assert!(
        e.starts_with("undid operation 1 as operation 2: removed 20 nodes"),
        "{e}"
    );
}

#[test]
fn history_shows_property_counts_and_the_user() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, Path::new(EXAMPLE), &[]).success();
    jcrpack()
        .env("USER", "editor7")
        .args([
            "rm",
            "/content/wknd-lite/en/jcr:content/jcr:title",
            "--repo",
        ])
        .arg(&repo)
        .assert()
        .success();
    let h = out(&run(&["history"], &repo).success());
    let lines: Vec<&str> = h.lines().collect();
    assert!(!lines[0].contains(" 0 properties"), "{h}");
    assert!(lines[1].contains("editor7"), "{h}");
    assert!(lines[1].contains("(0 nodes, 1 properties)"), "{h}");
}

#[test]
fn prune_names_the_undos_it_gives_up_and_gc_then_frees_their_blobs() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, Path::new(EXAMPLE), &[]).success();
    run(&["undo"], &repo).success();
    // The undo removed the content, the journal still holds the binaries.
    let blobs = blob_files(&repo);
    assert!(blobs > 0);
    let o = out(&run(&["gc"], &repo).success());
    assert!(o.starts_with("removed 0 unreferenced blobs"), "{o}");
    assert_eq!(blob_files(&repo), blobs);

    // A dry run changes nothing.
    let o = out(&run(&["history", "prune", "--keep", "1", "--dry-run"], &repo).success());
    assert!(
        o.starts_with(
            "would drop the journal of 1 operation (1 to 1); it can no longer be undone:"
        ),
        "{o}"
    );
    assert!(o.contains("install fixtures/example"), "{o}");
    assert_eq!(out(&run(&["history"], &repo).success()).lines().count(), 2);

    let o = out(&run(&["history", "prune", "--before", "2999-01-01"], &repo).success());
    assert!(
        o.starts_with("dropped the journals of 2 operations (1 to 2)"),
        "{o}"
    );
    assert_eq!(out(&run(&["history"], &repo).success()), "");
    let e = err(&run(&["undo", "1"], &repo).code(1));
    assert!(e.contains("operation 1 does not exist"), "{e}");

    // Leftovers of killed commands go too; a dry run only counts.
    std::fs::write(repo.join("blobs/.tmp-abc"), b"partial").unwrap();
    std::fs::write(repo.join(".jcrpack-1.tmp"), b"partial").unwrap();
    let o = out(&run(&["gc", "--dry-run"], &repo).success());
    assert!(
        o.starts_with(&format!("would remove {blobs} unreferenced blobs")),
        "{o}"
    );
    assert!(o.contains("and 2 temporary files"), "{o}");
    assert_eq!(blob_files(&repo), blobs);
    let o = out(&run(&["gc"], &repo).success());
    assert!(
        o.starts_with(&format!("removed {blobs} unreferenced blobs")),
        "{o}"
    );
    assert_eq!(blob_files(&repo), 0);
    assert!(!repo.join(".jcrpack-1.tmp").exists());
    assert!(!repo.join("blobs/.tmp-abc").exists());
    // The repository still works.
    import(&repo, Path::new(EXAMPLE), &[]).success();
}

#[test]
fn gc_refuses_while_a_backup_is_running() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    std::fs::write(repo.join(".backup-in-progress-1"), b"1\n").unwrap();
    let e = err(&run(&["gc"], &repo).code(1));
    assert!(e.contains("a backup is copying its blobs"), "{e}");
}

#[test]
fn prune_needs_keep_or_before() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    run(&["history", "prune"], &repo).code(2);
    let e = err(&run(&["history", "prune", "--before", "yesterday"], &repo).code(2));
    assert!(e.contains("'yesterday' is not a date"), "{e}");
}

/// The names in folder `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_killed_export_leaves_a_temporary_file_named_after_it_that_the_next_export_removes() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let src = t.path().join("src");
    jcrpack()
        .args(["-q", "generate", "--nodes", "3000", "-o"])
        .arg(&src)
        .assert()
        .success();
    import(&repo, &src, &["-q"]).success();
    let dir = t.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let target = dir.join("site.zip");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("jcrpack"))
        .args(["export", "--root", "/content", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&target)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!(".site.zip.jcrpack-tmp-{}-", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Kill the export while it writes (its temporary file is there).
    loop {
        if names_in(&dir).iter().any(|n| n.starts_with(&prefix)) {
            child.kill().unwrap();
            child.wait().unwrap();
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the export ended ({status}) before the test saw its temporary file");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the export wrote nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // Killed: no package, only temporary files that say whose they are (the package
    // being written and, beside it, the spool of its central directory).
    let left = names_in(&dir);
    assert!(
        !left.is_empty() && left.iter().all(|n| n.starts_with(&prefix)),
        "{left:?}"
    );
    // The next export to the same output removes them, their process being gone.
    jcrpack()
        .args(["-q", "export", "--root", "/content", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&target)
        .assert()
        .success();
    assert_eq!(names_in(&dir), vec!["site.zip".to_string()]);
}

#[test]
fn gc_removes_the_temporary_package_of_a_killed_export_in_the_repository_folder() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let mut ended = std::process::Command::new("true").spawn().unwrap();
    let dead = ended.id();
    ended.wait().unwrap();
    let killed = format!(".site.zip.jcrpack-tmp-{dead}-AbCdEf");
    // This test's own process is running: its file stays.
    let running = format!(".site.zip.jcrpack-tmp-{}-XyZ123", std::process::id());
    for n in [&killed, &running] {
        std::fs::write(repo.join(n), b"half a zip").unwrap();
    }
    let said = out(&run(&["gc", "--dry-run"], &repo).success());
    assert!(said.contains("1 temporary files"), "{said}");
    assert!(repo.join(&killed).exists());
    run(&["gc"], &repo).success();
    assert!(!repo.join(&killed).exists());
    assert!(repo.join(&running).exists());
}
