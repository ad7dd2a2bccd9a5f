//! Faults around a command rather than in it: another process holding the
//! repository's write lock (the second writer waits `--lock-timeout`, then fails
//! saying the repository is busy; readers are not held up), and a full disk (a
//! clear error, the repository unchanged, no partial package left).
//!
//! A full disk is simulated without root: the command runs under a file size limit
//! (`ulimit -f`, RLIMIT_FSIZE) with SIGXFSZ ignored, so that a write past the limit
//! fails with EFBIG ("File too large") where a full disk fails with ENOSPC.

mod fault_support;

use fault_support::{
    bin, check_blobs, dump, fresh_copy, import, init, jcrpack, names_in, run_ok, BigPackage,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks that `out` is a failure (exit 1) with a one-message error, not a panic.
fn assert_clean_failure(out: &Output, what: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    for noise in ["panicked", "RUST_BACKTRACE", "ZipWriter::drop"] {
        assert!(!err.contains(noise), "{what}: {err}");
    }
    err
}

/// Asserts that `err` says the repository `repo` is busy and how long it waited.
fn assert_busy(err: &str, repo: &Path, waited_ms: u64, what: &str) {
    for part in [
        format!("the repository {} is busy", repo.display()),
        "another process is writing to it".to_string(),
        format!("waited {waited_ms} ms"),
    ] {
        assert!(err.contains(&part), "{what}: expected '{part}' in: {err}");
    }
    assert!(!err.contains("--force"), "{what}: {err}");
}

/// A repository with version 1 of the big package (pages 0 to 49, 3 binaries).
fn small_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    init(&repo);
    let v1 = BigPackage {
        version: 1,
        first: 0,
        pages: 50,
        files: 3,
        large: 0,
    }
    .write(&dir.join("v1"));
    import(&repo, &v1);
    repo
}

/// A package that changes a little of `small_repo`.
fn small_change(dir: &Path) -> PathBuf {
    BigPackage {
        version: 2,
        first: 0,
        pages: 5,
        files: 1,
        large: 0,
    }
    .write(&dir.join("v2"))
}

#[test]
fn a_writer_waits_for_the_lock_another_process_holds_then_fails_saying_the_repository_is_busy() {
    let t = tempfile::tempdir().unwrap();
    let repo = small_repo(t.path());
    let before = dump(&repo);
    let change = small_change(t.path());
    let xml = t.path().join("x.xml");
    std::fs::write(
        &xml,
        r#"<x xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    )
    .unwrap();

    // Another process (this test) holds the write lock with uncommitted changes.
    let holder = rusqlite::Connection::open(repo.join("repository.db")).unwrap();
    holder
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM prop;")
        .unwrap();

    let writers: [(&str, Vec<&std::ffi::OsStr>); 5] = [
        ("import", vec![change.as_os_str()]),
        (
            "load",
            vec![xml.as_os_str(), "--at".as_ref(), "/content".as_ref()],
        ),
        ("rm", vec!["/content/big/p00001".as_ref()]),
        ("undo", vec![]),
        ("diff", vec![change.as_os_str()]),
    ];
    for (command, args) in &writers {
        let start = Instant::now();
        let out = jcrpack()
            .arg(command)
            .args(args)
            .arg("--repo")
            .arg(&repo)
            .args(["--lock-timeout", "0.3"])
            .output()
            .unwrap();
        let waited = start.elapsed();
        let err = assert_clean_failure(&out, command);
        assert_busy(&err, &repo, 300, command);
        assert!(
            waited >= Duration::from_millis(300),
            "{command} gave up after {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(4),
            "{command} waited {waited:?}, not --lock-timeout 0.3"
        );
    }
    // Readers do not wait, and see the last committed state.
    assert_eq!(dump(&repo), before);
    run_ok(jcrpack().args(["history", "--repo"]).arg(&repo));

    // Once the lock is released, the same import goes through.
    holder.execute_batch("ROLLBACK").unwrap();
    run_ok(
        jcrpack()
            .arg("import")
            .arg(&change)
            .arg("--repo")
            .arg(&repo)
            .args(["--lock-timeout", "0.3"]),
    );
    assert_ne!(dump(&repo), before);
}

#[test]
fn lock_timeout_takes_seconds() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    init(&repo);
    for bad in ["-1", "soon", "NaN", "1e9"] {
        let out = jcrpack()
            .args(["rm", "/x", "--repo"])
            .arg(&repo)
            .arg(format!("--lock-timeout={bad}"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--lock-timeout"), "{}", stderr(&out));
    }
}

/// Waits until a process other than this one holds the write lock of `repo`
/// (a transaction of this test's own cannot start); false if `child` ends first.
fn wait_for_the_lock(repo: &Path, child: &mut std::process::Child) -> bool {
    let probe = rusqlite::Connection::open(repo.join("repository.db")).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        match probe.execute_batch("BEGIN IMMEDIATE") {
            Err(_) => return true,
            Ok(()) => probe.execute_batch("ROLLBACK").unwrap(),
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

#[test]
fn of_two_imports_at_once_the_second_waits_then_fails_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let start_repo = small_repo(t.path());
    let change = small_change(t.path());
    let repo = t.path().join("work");
    // The first import must still hold the lock when the second gives up, 0.2 s after
    // it asked: a faster build or machine installs a package of 1,500 pages in less,
    // so each attempt that finds the first import ended first tries a larger package.
    for (attempt, pages) in [1500, 4000, 10_000].into_iter().enumerate() {
        let attempt = attempt + 1;
        let long = BigPackage {
            version: 3,
            first: 0,
            pages,
            files: 5,
            large: 0,
        }
        .write(&t.path().join(format!("long-{pages}")));
        let alone = t.path().join(format!("alone-{pages}"));
        fresh_copy(&start_repo, &alone);
        import(&alone, &long);
        let after_long = dump(&alone);

        fresh_copy(&start_repo, &repo);
        let mut first = jcrpack()
            .arg("import")
            .arg(&long)
            .arg("--repo")
            .arg(&repo)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let locked = wait_for_the_lock(&repo, &mut first);
        let start = Instant::now();
        let second = locked.then(|| {
            jcrpack()
                .arg("import")
                .arg(&change)
                .arg("--repo")
                .arg(&repo)
                .args(["--lock-timeout", "0.2"])
                .output()
                .unwrap()
        });
        let waited = start.elapsed();
        let first_outlasted = first.try_wait().unwrap().is_none();
        let first_out = first.wait_with_output().unwrap();
        assert!(first_out.status.success(), "{}", stderr(&first_out));
        let Some(second) = second.filter(|_| first_outlasted) else {
            println!(
                "attempt {attempt}: the first import ({pages} pages) ended before the second gave up"
            );
            continue;
        };
        let err = assert_clean_failure(&second, "the second import");
        assert!(err.contains("install failed, nothing was changed"), "{err}");
        assert_busy(&err, &repo, 200, "the second import");
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        // The first import is whole, and nothing of the second is there.
        assert!(
            dump(&repo) == after_long,
            "the repository is not the first import's result"
        );
        return;
    }
    panic!("the first import never held the lock long enough in 3 attempts");
}

/// `jcrpack` under a file size limit of `blocks` 512-byte blocks (`ulimit -f`; a
/// shell counting 1024-byte blocks doubles it: the tests leave room for both), with
/// SIGXFSZ ignored so that a write past it fails with EFBIG.
fn limited(blocks: u64) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\""
        ))
        .arg(bin())
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

/// 256 KiB (512 KiB where `ulimit -f` counts KiB): less than the database log of a
/// large install or undo, or a 1 MiB binary, needs.
const LIMIT: u64 = 512;

/// An SQLite write that fails says so: "database or disk is full" for ENOSPC, "disk
/// I/O error" for EFBIG (what the file size limit gives).
fn says_disk_trouble(err: &str) -> bool {
    err.contains("disk is full") || err.contains("disk I/O error")
}

#[test]
fn a_full_disk_during_an_install_or_an_undo_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = small_repo(t.path());
    let before = dump(&repo);
    // Many nodes, small binaries: the database log outgrows the limit.
    let big = BigPackage {
        version: 2,
        first: 0,
        pages: 1500,
        files: 3,
        large: 0,
    }
    .write(&t.path().join("big"));

    let out = limited(LIMIT)
        .arg("import")
        .arg(&big)
        .arg("--repo")
        .arg(&repo)
        .output()
        .unwrap();
    let err = assert_clean_failure(&out, "import on a full disk");
    assert!(err.contains("install failed, nothing was changed"), "{err}");
    assert!(says_disk_trouble(&err), "{err}");
    assert_eq!(dump(&repo), before);
    check_blobs(&repo);

    // With room again, the install goes through; an undo on a full disk then fails
    // and changes nothing, and with room it restores the state before the install.
    import(&repo, &big);
    let after = dump(&repo);
    assert_ne!(after, before);
    let out = limited(LIMIT)
        .args(["undo", "--repo"])
        .arg(&repo)
        .output()
        .unwrap();
    let err = assert_clean_failure(&out, "undo on a full disk");
    assert!(err.contains("failed, nothing was changed"), "{err}");
    assert!(says_disk_trouble(&err), "{err}");
    assert!(!err.contains("--force"), "{err}");
    assert_eq!(dump(&repo), after);
    run_ok(jcrpack().args(["undo", "--repo"]).arg(&repo));
    assert_eq!(dump(&repo), before);
    assert!(check_blobs(&repo).referenced >= 3);
}

#[test]
fn a_full_disk_while_storing_a_binary_changes_nothing_and_leaves_no_temporary_blob() {
    let t = tempfile::tempdir().unwrap();
    let repo = small_repo(t.path());
    let before = dump(&repo);
    let pkg = BigPackage {
        version: 2,
        first: 0,
        pages: 5,
        files: 1,
        large: 2,
    }
    .write(&t.path().join("large"));
    let out = limited(LIMIT)
        .arg("import")
        .arg(&pkg)
        .arg("--repo")
        .arg(&repo)
        .output()
        .unwrap();
    let err = assert_clean_failure(&out, "import of a large binary on a full disk");
    assert!(err.contains("install failed, nothing was changed"), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(dump(&repo), before);
    check_blobs(&repo);
    // The binary that did not fit left no temporary file.
    let tmp: Vec<String> = names_in(&repo.join("blobs"))
        .into_iter()
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

#[test]
fn a_full_disk_while_writing_a_package_leaves_no_file() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    init(&repo);
    let pkg = BigPackage {
        version: 1,
        first: 0,
        pages: 20,
        files: 3,
        large: 2,
    }
    .write(&t.path().join("pkg"));
    import(&repo, &pkg);
    let zip = t.path().join("pkg.zip");
    run_ok(jcrpack().arg("build").arg(&pkg).arg("-o").arg(&zip));
    let out_dir = t.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();

    let out = limited(LIMIT)
        .args(["export", "--root", "/content/big", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(out_dir.join("export.zip"))
        .output()
        .unwrap();
    let err = assert_clean_failure(&out, "export on a full disk");
    assert!(err.contains("export failed"), "{err}");
    assert!(err.contains("export.zip was not written"), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(names_in(&out_dir), Vec::<String>::new());

    let out = limited(LIMIT)
        .arg("extract")
        .arg(&zip)
        .args(["--root", "/content/big", "-o"])
        .arg(out_dir.join("extract.zip"))
        .output()
        .unwrap();
    let err = assert_clean_failure(&out, "extract on a full disk");
    assert!(err.contains("extract failed, nothing was written"), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(names_in(&out_dir), Vec::<String>::new());

    // With room, both write their package.
    run_ok(
        jcrpack()
            .args(["export", "--root", "/content/big", "--repo"])
            .arg(&repo)
            .arg("-o")
            .arg(out_dir.join("export.zip")),
    );
    run_ok(
        jcrpack()
            .arg("extract")
            .arg(&zip)
            .args(["--root", "/content/big", "-o"])
            .arg(out_dir.join("extract.zip")),
    );
    assert_eq!(names_in(&out_dir), vec!["export.zip", "extract.zip"]);
}
