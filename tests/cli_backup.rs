//! `jcrpack backup ...` from the command line: create, list, show, verify, delete,
//! prune, their JSON schemas, and each bad input and failure as a one-line error
//! with exit 1: not a catalogue, an unknown id, a checksum failure, a newer format,
//! a full disk (nothing listed, nothing left), SIGINT (cancelled cleanly) and
//! SIGKILL at random moments (never a partial backup listed; the next command
//! cleans up).
//!
//! "Restored" here is a plain copy of the backup's image and of the blobs its list
//! names into a fresh repository folder, which `jcrpack dump` then reads: the dump
//! of a backup must equal the dump of the repository it was taken from.

mod fault_support;

use fault_support::{bin, dump, import, init, jcrpack, run_ok, BigPackage, Rng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("schemas/{name}")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Checks that `out` is exit 1 with one `error:` line (plus hints), no panic.
fn clean_failure(out: &Output, what: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

fn backup(args: &[&str]) -> Command {
    let mut c = jcrpack();
    c.arg("backup").args(args);
    c
}

/// A repository with `pages` pages and `files` 8 KiB binaries below /content/big.
fn repo(dir: &Path, pages: usize, files: usize) -> PathBuf {
    let repo = dir.join("repo");
    init(&repo);
    let p = BigPackage {
        version: 1,
        first: 0,
        pages,
        files,
        large: 0,
    }
    .write(&dir.join("pkg"));
    import(&repo, &p);
    repo
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Backup `id` of catalogue `cat` copied into a fresh repository folder `to`.
fn restore_by_copy(cat: &Path, id: &str, to: &Path) {
    let b = cat.join("backups").join(id);
    std::fs::create_dir_all(to.join("blobs")).unwrap();
    fault_support::backup_image(cat, id, &to.join("repository.db"));
    for line in std::fs::read_to_string(b.join("blobs.txt"))
        .unwrap()
        .lines()
    {
        let sha = line.split(' ').next().unwrap();
        let rel = format!("{}/{}", &sha[..2], &sha[2..]);
        std::fs::create_dir_all(to.join("blobs").join(&sha[..2])).unwrap();
        std::fs::copy(cat.join("blobs").join(&rel), to.join("blobs").join(&rel)).unwrap();
    }
}

fn ids(cat_args: &[&str]) -> Vec<String> {
    let mut a = vec!["list", "--json"];
    a.extend_from_slice(cat_args);
    let out = run_ok(&mut backup(&a));
    json(&out)["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect()
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.file_name() != ".lock")
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn create_list_show_follow_their_schemas_and_a_backup_dumps_as_its_source() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 40, 5);
    let r = repo.to_str().unwrap();
    let out = run_ok(&mut backup(&[
        "create",
        "--repo",
        r,
        "--label",
        "before the release",
        "--json",
    ]));
    let first = json(&out);
    assert!(
        schema("backup-show.schema.json").is_valid(&first),
        "{first:#}"
    );
    assert_eq!(first["label"], "before the release");
    assert_eq!(first["kind"], "manual");
    assert_eq!(first["blobs"]["count"], 5);
    assert_eq!(first["blobs"]["copiedCount"], 5);
    // A second backup of the unchanged repository copies no binary and says so.
    let out = run_ok(&mut backup(&["create", "--repo", r, "--scheduled"]));
    let text = stdout(&out);
    assert!(
        text.contains("copied 0 B (0 new), reused 40.0 KiB"),
        "{text}"
    );

    let out = run_ok(&mut backup(&["list", "--repo", r, "--json"]));
    let list = json(&out);
    assert!(
        schema("backup-list.schema.json").is_valid(&list),
        "{list:#}"
    );
    let all = list["backups"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["kind"], "scheduled");
    let id = first["id"].as_str().unwrap();
    let out = run_ok(&mut backup(&["show", id, "--repo", r, "--json"]));
    assert_eq!(json(&out), first);
    let out = run_ok(&mut backup(&["show", id, "--repo", r]));
    assert!(stdout(&out).contains("label           before the release"));
    let out = run_ok(&mut backup(&["verify", id, "--repo", r]));
    assert!(stdout(&out).contains("is intact"), "{}", stdout(&out));

    let restored = t.path().join("restored");
    restore_by_copy(&repo.join("backups"), id, &restored);
    assert_eq!(dump(&restored), dump(&repo));
}

#[test]
fn commands_that_read_backups_create_no_catalogue() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 2, 0);
    let r = repo.to_str().unwrap();
    let out = run_ok(&mut backup(&["list", "--repo", r, "--json"]));
    let list = json(&out);
    assert!(
        schema("backup-list.schema.json").is_valid(&list),
        "{list:#}"
    );
    assert_eq!(list["backups"], serde_json::json!([]));
    assert!(stdout(&run_ok(&mut backup(&["list", "--repo", r]))).is_empty());
    let out = run_ok(&mut backup(&["prune", "--repo", r, "--keep-last", "1"]));
    assert!(
        stdout(&out).contains("0 kept, 0 deleted"),
        "{}",
        stdout(&out)
    );
    for cmd in ["show", "verify", "delete"] {
        let out = backup(&[cmd, "20261204T170512Z", "--repo", r])
            .output()
            .unwrap();
        let err = clean_failure(&out, cmd);
        assert!(err.contains("no backup of"), "{cmd}: {err}");
    }
    let out = jcrpack()
        .args([
            "lm",
            "check-content",
            "--repo",
            r,
            "--backup",
            "20261204T170512Z",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lightmodules/release-1"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no backup of the repository was taken yet"),
        "{}",
        stderr(&out)
    );
    assert!(!repo.join("backups").exists());
}

#[test]
fn a_catalogue_elsewhere_and_chosen_workspaces() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 5, 1);
    let r = repo.to_str().unwrap();
    let cat = t.path().join("elsewhere");
    let c = cat.to_str().unwrap();
    let out = run_ok(&mut backup(&[
        "create",
        "--repo",
        r,
        "--catalogue",
        c,
        "--workspace",
        "default",
        "--json",
    ]));
    let m = json(&out);
    assert_eq!(m["workspaces"].as_array().unwrap().len(), 1);
    assert!(!repo.join("backups").exists());
    assert_eq!(ids(&["--catalogue", c]).len(), 1);
    let out = backup(&[
        "create",
        "--repo",
        r,
        "--catalogue",
        c,
        "--workspace",
        "nope",
    ])
    .output()
    .unwrap();
    let err = clean_failure(&out, "unknown workspace");
    assert!(err.contains("workspace 'nope' does not exist"), "{err}");
    assert_eq!(ids(&["--catalogue", c]).len(), 1);
    assert_eq!(std::fs::read_dir(cat.join("backups")).unwrap().count(), 1);
}

#[test]
fn bad_input_is_one_clear_error_with_exit_1() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 5, 2);
    let r = repo.to_str().unwrap();
    // Not a catalogue.
    let out = backup(&["list", "--catalogue", t.path().to_str().unwrap()])
        .output()
        .unwrap();
    let err = clean_failure(&out, "not a catalogue");
    assert!(err.contains("is not a backup catalogue"), "{err}");
    // Creating into a folder that holds other things is refused too.
    let out = backup(&["create", "--repo", r, "--catalogue", repo.to_str().unwrap()])
        .output()
        .unwrap();
    clean_failure(&out, "non-empty folder");
    // Not a repository.
    let out = backup(&["create", "--repo", t.path().join("nope").to_str().unwrap()])
        .output()
        .unwrap();
    let err = clean_failure(&out, "not a repository");
    assert!(err.contains("not a jcrpack repository"), "{err}");
    // A failed first backup leaves no catalogue behind: a new folder goes again,
    // an empty one given stays (and empty).
    let missing = t.path().join("nope");
    let create_missing_into = |cat: &Path, what: &str| {
        let out = backup(&[
            "create",
            "--repo",
            missing.to_str().unwrap(),
            "--catalogue",
            cat.to_str().unwrap(),
        ])
        .output()
        .unwrap();
        clean_failure(&out, what);
    };
    let new_cat = t.path().join("new-catalogue");
    create_missing_into(&new_cat, "not a repository, new catalogue");
    assert!(!new_cat.exists(), "{:?}", files_under(&new_cat));
    let empty_cat = t.path().join("empty-catalogue");
    std::fs::create_dir(&empty_cat).unwrap();
    create_missing_into(&empty_cat, "not a repository, empty folder");
    assert!(
        std::fs::read_dir(&empty_cat).unwrap().next().is_none(),
        "{:?}",
        files_under(&empty_cat)
    );
    // Usage: no --repo or --catalogue.
    let out = backup(&["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let id = json(&run_ok(&mut backup(&["create", "--repo", r, "--json"])))["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Unknown id, with the nearest named.
    for cmd in ["show", "verify", "delete"] {
        let out = backup(&[cmd, "20200101T000000Z", "--repo", r])
            .output()
            .unwrap();
        let err = clean_failure(&out, cmd);
        assert!(
            err.contains("no backup 20200101T000000Z") && err.contains(&id),
            "{err}"
        );
    }
    // A checksum failure: verify names the file, exit 1.
    let img = repo.join("backups/backups").join(&id).join("image.txt");
    let mut bytes = std::fs::read(&img).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 0xff;
    std::fs::write(&img, &bytes).unwrap();
    let out = backup(&["verify", &id, "--repo", r]).output().unwrap();
    let err = clean_failure(&out, "checksum");
    assert!(
        err.contains(&format!(
            "backup {id} is damaged: file image.txt fails its checksum"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    bytes[n] ^= 0xff;
    std::fs::write(&img, &bytes).unwrap();
    // A damaged binary: named.
    let list =
        std::fs::read_to_string(repo.join("backups/backups").join(&id).join("blobs.txt")).unwrap();
    let sha = list
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let blob = repo.join("backups/blobs").join(&sha[..2]).join(&sha[2..]);
    let mut b = std::fs::read(&blob).unwrap();
    b[0] ^= 1;
    std::fs::write(&blob, &b).unwrap();
    let out = backup(&["verify", &id, "--repo", r]).output().unwrap();
    let err = clean_failure(&out, "damaged blob");
    assert!(err.contains(&format!("blob {sha} is damaged")), "{err}");
    b[0] ^= 1;
    std::fs::write(&blob, &b).unwrap();
    run_ok(&mut backup(&["verify", &id, "--repo", r]));
    // A backup from a newer format.
    let mf = repo.join("backups/backups").join(&id).join("manifest.json");
    let text = std::fs::read_to_string(&mf).unwrap();
    std::fs::write(&mf, text.replace("\"version\": 2,", "\"version\": 9,")).unwrap();
    let out = backup(&["show", &id, "--repo", r]).output().unwrap();
    let err = clean_failure(&out, "newer manifest");
    assert!(
        err.contains("written by a newer jcrpack (format version 9"),
        "{err}"
    );
    let out = run_ok(&mut backup(&["list", "--repo", r]));
    assert!(stderr(&out).contains("newer jcrpack"), "{}", stderr(&out));
    std::fs::write(&mf, text).unwrap();
    // A failed backup into a catalogue that was there leaves it as it was.
    let before = files_under(&repo.join("backups"));
    create_missing_into(
        &repo.join("backups"),
        "not a repository, existing catalogue",
    );
    assert_eq!(files_under(&repo.join("backups")), before);
    // A newer catalogue.
    let marker = repo.join("backups/catalogue.json");
    std::fs::write(
        &marker,
        r#"{"format":"jcrpack-backup-catalogue","version":2}"#,
    )
    .unwrap();
    let out = backup(&["list", "--repo", r]).output().unwrap();
    let err = clean_failure(&out, "newer catalogue");
    assert!(err.contains("newer jcrpack"), "{err}");
}

#[test]
fn delete_and_prune_keep_what_they_should_and_collect_binaries() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 5, 2);
    let r = repo.to_str().unwrap();
    // A second workspace without binaries: backups of it alone refer to none, so
    // pruning the full backups frees the binaries (the journal of a full image
    // keeps every binary an operation replaced).
    let cfg = BigPackage {
        version: 1,
        first: 0,
        pages: 2,
        files: 0,
        large: 0,
    }
    .write(&t.path().join("cfg"));
    {
        // No command creates a workspace yet: the library does.
        let mut store = jcrpack::repository::open(&repo).unwrap();
        let mut txn = store.begin("workspace").unwrap();
        txn.create_workspace("config").unwrap();
        txn.commit().unwrap();
    }
    run_ok(
        jcrpack()
            .arg("import")
            .arg(&cfg)
            .args(["--repo", r, "--workspace", "config"]),
    );
    let mut made = Vec::new();
    for i in 0..4 {
        let mut a = vec!["create", "--repo", r, "--json"];
        if i > 0 {
            a.extend(["--workspace", "config"]);
        }
        made.push(
            json(&run_ok(&mut backup(&a)))["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids(&["--repo", r]), made);
    let blobs = |_: ()| files_under(&repo.join("backups/blobs")).len();
    let before = blobs(());
    let out = run_ok(&mut backup(&[
        "prune",
        "--repo",
        r,
        "--keep-last",
        "2",
        "--dry-run",
    ]));
    assert!(
        stdout(&out).contains(&format!("would delete {}", made[0])),
        "{}",
        stdout(&out)
    );
    assert_eq!(ids(&["--repo", r]), made);
    assert_eq!(blobs(()), before);
    run_ok(&mut backup(&["prune", "--repo", r, "--keep-last", "2"]));
    assert_eq!(ids(&["--repo", r]), made[2..].to_vec());
    // Only the chunks of the kept images are left (the fourth shares the third's
    // image: the repository did not change).
    let kept_chunks: std::collections::BTreeSet<String> = made[2..]
        .iter()
        .flat_map(|id| {
            std::fs::read_to_string(repo.join("backups/backups").join(id).join("image.txt"))
                .unwrap()
                .lines()
                .map(|l| l.split(' ').next().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(blobs(()), kept_chunks.len(), "from {before}");
    run_ok(&mut backup(&["delete", &made[3], "--repo", r]));
    assert_eq!(ids(&["--repo", r]), vec![made[2].clone()]);
    run_ok(&mut backup(&["verify", &made[2], "--repo", r]));
    // No policy: a usage error.
    let out = backup(&["prune", "--repo", r]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The only backup stays, whatever the policy says.
    run_ok(&mut backup(&[
        "prune",
        "--repo",
        r,
        "--keep-daily",
        "0",
        "--keep-last",
        "0",
        "--keep-weekly",
        "1",
    ]));
    assert_eq!(ids(&["--repo", r]), vec![made[2].clone()]);
}

/// `jcrpack` under a file size limit of `blocks` 512-byte blocks, SIGXFSZ ignored
/// (as in `tests/faults.rs`): a write past it fails as on a full disk.
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

#[test]
fn a_full_disk_during_a_backup_lists_nothing_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    // 3000 pages: a database of about 1.7 MB (without a journal row per created
    // node, 2500 pages are 1.45 MB).
    let repo = repo(t.path(), 3000, 3);
    let r = repo.to_str().unwrap();
    let size = std::fs::metadata(repo.join("repository.db")).unwrap().len();
    assert!(
        size > 3 << 19,
        "the database should outgrow the limit: {size}"
    );
    let out = limited(1024)
        .args(["backup", "create", "--repo", r])
        .output()
        .unwrap();
    let err = clean_failure(&out, "full disk");
    assert!(err.contains("backup of") && err.contains("failed"), "{err}");
    assert!(ids(&["--repo", r]).is_empty());
    // The catalogue this first backup created is taken back whole.
    assert!(
        !repo.join("backups").exists(),
        "{:?}",
        files_under(&repo.join("backups"))
    );
    // Into a catalogue that was there, only what was there is left.
    jcrpack::backup::Catalogue::create(&repo.join("backups")).unwrap();
    let before = files_under(&repo.join("backups"));
    let out = limited(1024)
        .args(["backup", "create", "--repo", r])
        .output()
        .unwrap();
    clean_failure(&out, "full disk, existing catalogue");
    assert!(ids(&["--repo", r]).is_empty());
    let mut after = files_under(&repo.join("backups"));
    after.retain(|f| f != ".lock");
    assert_eq!(after, before, "only the catalogue as it was is left");
    // The repository is untouched and the next backup works.
    run_ok(&mut backup(&["create", "--repo", r]));
}

/// Runs `backup create` and sends it `signal` after `after`; returns its output.
fn signalled(repo: &Path, extra: &[&str], signal: &str, after: Duration) -> Output {
    let mut child = jcrpack()
        .args(["backup", "create", "--repo"])
        .arg(repo)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let _ = &mut child;
    child.wait_with_output().unwrap()
}

#[test]
fn ctrl_c_cancels_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 300, 40);
    // 40 binaries of 8 KiB at 0.1 MB/s: several seconds of copying to interrupt.
    for sig in ["-INT", "-TERM"] {
        let out = signalled(
            &repo,
            &["--max-rate", "0.1"],
            sig,
            Duration::from_millis(1500),
        );
        let err = clean_failure(&out, sig);
        assert!(err.contains("backup cancelled: nothing was added"), "{err}");
        assert!(ids(&["--repo", repo.to_str().unwrap()]).is_empty());
        assert_eq!(
            files_under(&repo.join("backups")),
            vec!["catalogue.json".to_string()]
        );
    }
}

#[test]
fn sigkill_at_random_moments_never_lists_a_partial_backup() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut rng = Rng::new(seed);
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 1500, 60);
    let r = repo.to_str().unwrap();
    let source = dump(&repo);
    // How long a whole backup takes (with a little throttling so that the phases
    // last long enough to be hit), measured into a catalogue of its own.
    let scratch = t.path().join("scratch");
    let started = Instant::now();
    run_ok(&mut backup(&[
        "create",
        "--repo",
        r,
        "--catalogue",
        scratch.to_str().unwrap(),
        "--max-rate",
        "20",
    ]));
    let whole = started.elapsed();
    let mut moments = Vec::new();
    let mut kills = 0;
    for i in 0..6 {
        let f = rng.unit();
        moments.push(f);
        if i % 2 == 0 {
            // A write (outside the dumped workspace) so that this backup copies the
            // image again instead of sharing the last one's (the odd runs kill the
            // unchanged repository's fast path, or let it finish).
            run_ok(jcrpack().args(["workspace", "create", &format!("k{i}"), "--repo", r]));
        }
        let out = signalled(&repo, &["--max-rate", "20"], "-KILL", whole.mul_f64(f));
        let killed = out.status.code().is_none();
        kills += usize::from(killed);
        // Every listed backup is complete and intact.
        for id in ids(&["--repo", r]) {
            let out = backup(&["verify", &id, "--repo", r]).output().unwrap();
            assert!(
                out.status.success(),
                "seed {seed}, moments {moments:?}: {}",
                stderr(&out)
            );
        }
        if !killed {
            assert!(out.status.success(), "seed {seed}: {}", stderr(&out));
        }
    }
    assert!(
        kills > 0,
        "seed {seed}, moments {moments:?}: no run was killed before it ended"
    );
    // The next command cleans up what the kills left, and the result restores.
    let out = run_ok(&mut backup(&["create", "--repo", r, "--json"]));
    let id = json(&out)["id"].as_str().unwrap().to_string();
    let left: Vec<String> = std::fs::read_dir(repo.join("backups/backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        left.is_empty(),
        "seed {seed}, moments {moments:?}: left {left:?}"
    );
    let restored = t.path().join("restored");
    restore_by_copy(&repo.join("backups"), &id, &restored);
    assert_eq!(dump(&restored), source, "seed {seed}");
    // No blob without a backup that refers to it.
    let mut referenced = std::collections::BTreeSet::new();
    for id in ids(&["--repo", r]) {
        let list =
            std::fs::read_to_string(repo.join("backups/backups").join(&id).join("blobs.txt"))
                .unwrap();
        let chunks =
            std::fs::read_to_string(repo.join("backups/backups").join(&id).join("image.txt"))
                .unwrap();
        for l in list.lines().chain(chunks.lines()) {
            let sha = l.split(' ').next().unwrap();
            referenced.insert(format!("{}/{}", &sha[..2], &sha[2..]));
        }
    }
    let present: std::collections::BTreeSet<String> = files_under(&repo.join("backups/blobs"))
        .into_iter()
        .collect();
    assert_eq!(present, referenced, "seed {seed}, moments {moments:?}");
}

/// A second backup of an unchanged repository copies nothing (it shares the
/// first's image and binaries, and says so); a change by every writing command
/// makes the next backup copy its image again, and each backup, shared or not,
/// holds the repository as it is.
#[test]
fn an_unchanged_repository_shares_its_image_and_every_writing_command_defeats_that() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 30, 2);
    let r = repo.to_str().unwrap();
    let cat = repo.join("backups");
    let create = || json(&run_ok(&mut backup(&["create", "--json", "--repo", r])));
    let first = create();
    assert!(first["image"].get("unchangedSince").is_none(), "{first}");
    assert!(first["image"]["copiedBytes"].as_u64().unwrap() > 0);
    let second = create();
    assert_eq!(second["image"]["unchangedSince"], first["id"], "{second}");
    assert_eq!(second["image"]["copiedBytes"], 0);
    assert_eq!(second["blobs"]["copiedBytes"], 0);
    assert_eq!(second["lastOperation"], first["lastOperation"]);
    // -q: no summary.
    let quiet = run_ok(jcrpack().args(["-q", "backup", "create", "--repo", r]));
    assert!(quiet.stdout.is_empty(), "{}", stdout(&quiet));
    let text = stdout(&run_ok(&mut backup(&["create", "--repo", r])));
    assert!(
        text.contains("the repository is unchanged since backup")
            && text.contains("nothing copied"),
        "{text}"
    );

    let pkg2 = BigPackage {
        version: 2,
        first: 100,
        pages: 3,
        files: 1,
        large: 0,
    }
    .write(&t.path().join("pkg2"));
    let xml = t.path().join("x.xml");
    std::fs::write(
        &xml,
        r#"<x xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" p="v"/>"#,
    )
    .unwrap();
    let first_id = first["id"].as_str().unwrap().to_string();
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("import", vec!["import", pkg2.to_str().unwrap()]),
        ("rm", vec!["rm", "/content/big/p00101"]),
        (
            "restore",
            vec!["restore", &first_id, "--root", "/content/big", "--yes"],
        ),
        ("load", vec!["load", xml.to_str().unwrap(), "--at", "/"]),
        ("undo", vec!["undo"]),
        ("history prune", vec!["history", "prune", "--keep", "1"]),
        ("workspace create", vec!["workspace", "create", "other"]),
        ("workspace delete", vec!["workspace", "delete", "other"]),
        ("gc", vec!["gc"]),
    ];
    for (n, (name, args)) in steps.into_iter().enumerate() {
        let before = ids(&["--repo", r]);
        run_ok(jcrpack().args(&args).args(["--repo", r]));
        let m = create();
        if name == "gc" {
            // gc changes no row (it removes unreferenced blob files and compacts the
            // file): sharing the last image is right; the dump check below proves it.
        } else {
            assert!(
                m["image"].get("unchangedSince").is_none(),
                "{name} did not defeat the fast path: {m}"
            );
            assert!(m["image"]["copiedBytes"].as_u64().unwrap() > 0, "{name}");
        }
        let again = create();
        assert_eq!(again["image"]["unchangedSince"], m["id"], "{name}: {again}");
        assert!(!before.contains(&again["id"].as_str().unwrap().to_string()));
        for b in [&m, &again] {
            let to = t
                .path()
                .join(format!("restored-{n}-{}", b["id"].as_str().unwrap()));
            restore_by_copy(&cat, b["id"].as_str().unwrap(), &to);
            assert_eq!(dump(&to), dump(&repo), "{name}: backup {}", b["id"]);
        }
    }
    // Every backup verifies; deleting the first keeps the chunks the others share.
    for id in ids(&["--repo", r]) {
        run_ok(&mut backup(&["verify", &id, "--repo", r]));
    }
    let all = ids(&["--repo", r]);
    run_ok(&mut backup(&["delete", &all[0], "--repo", r]));
    run_ok(&mut backup(&["verify", &all[1], "--repo", r]));
}

/// A backup whose image is of a newer repository format (written by a newer
/// jcrpack) is refused by every command that reads it with one clear line, exit 1.
#[test]
fn a_backup_of_a_newer_repository_format_is_refused_clearly() {
    use sha2::{Digest, Sha256};
    let t = tempfile::tempdir().unwrap();
    let repo = repo(t.path(), 3, 1);
    let r = repo.to_str().unwrap();
    let m = json(&run_ok(&mut backup(&["create", "--json", "--repo", r])));
    let id = m["id"].as_str().unwrap().to_string();
    let dir = repo.join("backups/backups").join(&id);
    // The image rewritten as a newer repository format, stored whole (manifest
    // format 1) so that the test need not cut it into chunks.
    let db = dir.join("repository.db");
    fault_support::backup_image(&repo.join("backups"), &id, &db);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE meta SET value = '99' WHERE key = 'version'", [])
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::remove_file(dir.join("image.txt")).unwrap();
    let mut old = m.clone();
    let o = old.as_object_mut().unwrap();
    o.remove("image");
    o.remove("generation");
    o.insert("version".into(), 1.into());
    o.insert(
        "files".into(),
        serde_json::json!([{"path": "repository.db", "bytes": bytes.len(), "sha256": sha},
                           m["files"][1].clone()]),
    );
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&old).unwrap(),
    )
    .unwrap();
    // Listed and shown (the manifest is of a known format) ...
    assert_eq!(ids(&["--repo", r]), vec![id.clone()]);
    run_ok(&mut backup(&["show", &id, "--repo", r]));
    // ... but every reader refuses its image, naming the format.
    let fresh = t.path().join("fresh");
    init(&fresh);
    let export = t.path().join("x.zip");
    for (what, out) in [
        (
            "restore",
            jcrpack()
                .args(["restore", &id, "--catalogue"])
                .arg(repo.join("backups"))
                .arg("--repo")
                .arg(&fresh)
                .arg("--yes")
                .output()
                .unwrap(),
        ),
        (
            "export",
            backup(&["export", &id, "--repo", r, "--workspace", "default", "-o"])
                .arg(&export)
                .output()
                .unwrap(),
        ),
        (
            "verify",
            backup(&["verify", &id, "--repo", r]).output().unwrap(),
        ),
    ] {
        let err = clean_failure(&out, what);
        assert!(
            err.contains("newer than this jcrpack reads"),
            "{what}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
    }
    assert!(!export.exists());
    assert_eq!(dump(&fresh), {
        let empty = t.path().join("empty");
        init(&empty);
        dump(&empty)
    });
}
