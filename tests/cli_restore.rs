//! CLI tests for `jcrpack restore`: the editor's story, whole and per-workspace
//! restores, identifiers and sibling order, the differences shown first, the
//! confirmation, packages as sources, and bad input.

use std::path::{Path, PathBuf};

mod common;

use common::{dump, import, init, jcrpack};

const EXAMPLE: &str = "fixtures/example";

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string("schemas/restore.schema.json").unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// A copy of the repository folder: a repository image, as a backup is.
fn image(repo: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for e in walkdir::WalkDir::new(repo) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(repo).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    to.to_path_buf()
}

/// `jcrpack backup create --repo REPO` (its default catalogue); returns the new
/// backup's id.
fn take_backup(repo: &Path) -> String {
    jcrpack()
        .args(["backup", "create", "--repo"])
        .arg(repo)
        .assert()
        .success();
    let a = jcrpack()
        .args(["backup", "list", "--json", "--repo"])
        .arg(repo)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let list = doc["backups"].as_array().unwrap();
    list.last().unwrap()["id"].as_str().unwrap().to_string()
}

fn dump_at(repo: &Path, path: &str) -> String {
    common::repo_output(&["dump", path], repo)
}

fn rm(repo: &Path, path: &str) {
    jcrpack()
        .args(["rm", path, "--repo"])
        .arg(repo)
        .assert()
        .success();
}

fn load(repo: &Path, dir: &Path, at: &str, xml: &str) {
    let f = dir.join("load.xml");
    std::fs::write(&f, xml).unwrap();
    jcrpack()
        .arg("load")
        .arg(&f)
        .args(["--at", at, "--repo"])
        .arg(repo)
        .assert()
        .success();
}

fn restore(repo: &Path, source: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    jcrpack()
        .arg("restore")
        .arg(source)
        .arg("--repo")
        .arg(repo)
        .args(extra)
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

/// The example site installed and backed up (`id`, and a copy of the folder,
/// `backup`, to compare with), then an editor's day: a page deleted, a page's
/// property removed, a component added, and an edit outside the page tree that is
/// restored.
struct Story {
    _t: tempfile::TempDir,
    dir: PathBuf,
    repo: PathBuf,
    backup: PathBuf,
    id: String,
}

const EN: &str = "/content/wknd-lite/en";

fn story() -> Story {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().to_path_buf();
    let repo = init(&dir);
    import(&repo, Path::new(EXAMPLE), &[]).success();
    let backup = image(&repo, &dir.join("backup"));
    let id = take_backup(&repo);
    rm(&repo, "/content/wknd-lite/en/about");
    rm(&repo, "/content/wknd-lite/en/jcr:content/jcr:title");
    load(
        &repo,
        &dir,
        "/content/wknd-lite/en/jcr:content/root",
        r#"<news xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" text="new"/>"#,
    );
    // Outside the subtree restored below: stays.
    rm(&repo, "/content/wknd-lite/jcr:content/jcr:title");
    Story {
        _t: t,
        dir,
        repo,
        backup,
        id,
    }
}

#[test]
fn the_editors_story_restores_one_subtree_and_undo_brings_the_edits_back() {
    let s = story();
    let edited = dump(&s.repo);
    let outside = dump_at(&s.repo, "/content/wknd-lite/jcr:content");
    let a = restore(&s.repo, Path::new(&s.id), &["--root", EN, "--yes"]).success();
    let out = stdout(&a);
    assert!(out.contains("2 nodes added, 1 deleted, 1 changed"), "{out}");
    // The subtree equals the backup; everything else keeps the edits.
    assert_eq!(dump_at(&s.repo, EN), dump_at(&s.backup, EN));
    assert_eq!(dump_at(&s.repo, "/content/wknd-lite/jcr:content"), outside);
    assert_ne!(dump(&s.repo), dump(&s.backup));
    // Recorded as a restore naming the source and the root.
    let h = jcrpack()
        .args(["history", "--repo"])
        .arg(&s.repo)
        .assert()
        .success();
    let last = stdout(&h).lines().last().unwrap().to_string();
    assert!(last.contains(&format!("restore {} {EN}", s.id)), "{last}");
    // Undo brings the edits back.
    jcrpack()
        .args(["undo", "--repo"])
        .arg(&s.repo)
        .assert()
        .success();
    assert_eq!(dump(&s.repo), edited);
}

#[test]
fn the_differences_come_first_and_a_dry_run_writes_nothing() {
    let s = story();
    let edited = dump(&s.repo);
    let a = restore(
        &s.repo,
        Path::new(&s.id),
        &["--root", EN, "--dry-run", "-v"],
    )
    .success();
    let out = stdout(&a);
    let summary = out.lines().nth(1).unwrap();
    assert!(
        summary.starts_with("  workspace default (/content/wknd-lite/en): "),
        "{out}"
    );
    assert!(
        out.contains("+ /content/wknd-lite/en/about (cq:Page)"),
        "{out}"
    );
    assert!(
        out.contains("- /content/wknd-lite/en/jcr:content/root/news (1 nodes)"),
        "{out}"
    );
    assert!(
        out.contains("~ /content/wknd-lite/en/jcr:content\n    + jcr:title = "),
        "{out}"
    );
    assert!(stderr(&a).contains("dry run: nothing was changed"));
    assert_eq!(dump(&s.repo), edited);
    // Without -v: only the summary.
    let a = restore(&s.repo, &s.backup, &["--root", EN, "--dry-run"]).success();
    assert_eq!(stdout(&a).lines().count(), 2, "{}", stdout(&a));
    // -q: only errors on stderr.
    let a = restore(&s.repo, &s.backup, &["--root", EN, "--dry-run", "-q"]).success();
    assert_eq!(stderr(&a), "", "-q prints nothing on stderr");
}

#[test]
fn json_output_follows_the_schema() {
    let s = story();
    let v = schema();
    for extra in [&["--dry-run"][..], &["--yes"][..]] {
        let mut args = vec!["--root", EN, "--json"];
        args.extend_from_slice(extra);
        let a = restore(&s.repo, Path::new(&s.id), &args).success();
        let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{doc:#}");
        let dry = extra[0] == "--dry-run";
        assert_eq!(doc["kind"], "backup");
        assert_eq!(doc["source"], s.id.as_str());
        assert_eq!(doc["restored"], !dry);
        assert_eq!(doc["operation"].is_i64(), !dry);
        if dry {
            assert_eq!(doc["summary"]["workspaces"][0]["nodesAdded"], 2);
            assert!(doc["changes"].as_array().unwrap().len() >= 4);
        }
    }
    // Nothing left to restore: an empty list, still valid.
    let a = restore(&s.repo, &s.backup, &["--root", EN, "--json", "--yes"]).success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(v.is_valid(&doc), "{doc:#}");
    assert_eq!(doc["changes"].as_array().unwrap().len(), 0);
    assert_eq!(doc["restored"], false);
}

#[test]
fn without_a_terminal_a_restore_needs_yes() {
    let s = story();
    let edited = dump(&s.repo);
    let a = restore(&s.repo, &s.backup, &["--root", EN]).code(1);
    let err = stderr(&a);
    assert!(
        err.contains("nothing was changed") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(dump(&s.repo), edited);
}

#[test]
fn a_whole_restore_makes_the_repository_equal_to_the_backup() {
    let s = story();
    restore(&s.repo, &s.backup, &["--yes"]).success();
    assert_eq!(dump(&s.repo), dump(&s.backup));
    // Again: nothing to do, nothing recorded.
    let before = jcrpack()
        .args(["history", "--repo"])
        .arg(&s.repo)
        .assert()
        .success();
    let a = restore(&s.repo, &s.backup, &["--yes"]).success();
    assert!(stderr(&a).contains("nothing to restore"), "{}", stderr(&a));
    let after = jcrpack()
        .args(["history", "--repo"])
        .arg(&s.repo)
        .assert()
        .success();
    assert_eq!(stdout(&before), stdout(&after));
}

#[test]
fn a_per_workspace_restore_leaves_the_other_workspaces() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    // No command creates a workspace: the library does.
    {
        let mut store = jcrpack::repository::open(&repo).unwrap();
        let mut txn = store.begin("create website").unwrap();
        txn.create_workspace("website").unwrap();
        txn.commit().unwrap();
    }
    import(&repo, Path::new(EXAMPLE), &["--workspace", "website"]).success();
    import(&repo, Path::new(EXAMPLE), &[]).success();
    let backup = image(&repo, &t.path().join("backup"));
    rm(&repo, "/content/wknd-lite/en/about");
    jcrpack()
        .args([
            "rm",
            "/content/wknd-lite/en/about",
            "--workspace",
            "website",
            "--repo",
        ])
        .arg(&repo)
        .assert()
        .success();
    restore(&repo, &backup, &["--workspace", "website", "--yes"]).success();
    let about = |ws: &str| {
        jcrpack()
            .args(["dump", "--workspace", ws, "--repo"])
            .arg(&repo)
            .arg("/content/wknd-lite/en/about")
            .assert()
            .get_output()
            .status
            .success()
    };
    assert!(about("website"));
    assert!(!about("default"));
    // A workspace the backup does not have.
    let a = restore(&repo, &backup, &["--workspace", "nope", "--yes"]).code(1);
    assert!(
        stderr(&a).contains("workspace 'nope' is not in the backup"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn identifiers_and_sibling_order_are_as_in_the_backup() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    load(
        &repo,
        t.path(),
        "/",
        r#"<site xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0" jcr:primaryType="nt:unstructured">
             <a jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="0b7f8a6e-1c1e-4c55-9d0a-4b8e1f0a0001"/>
             <b jcr:primaryType="nt:unstructured"/>
             <c jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="0b7f8a6e-1c1e-4c55-9d0a-4b8e1f0a0003"/>
           </site>"#,
    );
    let backup = image(&repo, &t.path().join("backup"));
    rm(&repo, "/site/a");
    rm(&repo, "/site/c");
    load(
        &repo,
        t.path(),
        "/site",
        r#"<a xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    );
    // a comes back (with its identifier) before b, c after b.
    restore(
        &repo,
        &backup,
        &["--root", "/site/a", "--root", "/site/c", "--yes"],
    )
    .success();
    assert_eq!(dump(&repo), dump(&backup));
    let site = dump_at(&repo, "/site");
    let (a, b, c) = (
        site.find("\"name\": \"a\"").unwrap(),
        site.find("\"name\": \"b\"").unwrap(),
        site.find("\"name\": \"c\"").unwrap(),
    );
    assert!(a < b && b < c, "{site}");
    assert!(
        site.contains("0b7f8a6e-1c1e-4c55-9d0a-4b8e1f0a0001"),
        "{site}"
    );
}

#[test]
fn a_package_restores_by_installing_it_differences_first() {
    let s = story();
    let a = restore(&s.repo, Path::new(EXAMPLE), &["--dry-run", "-v"]).success();
    let out = stdout(&a);
    assert!(out.contains("+ /content/wknd-lite/en/about"), "{out}");
    let a = restore(&s.repo, Path::new(EXAMPLE), &["--json", "--yes"]).success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(schema().is_valid(&doc), "{doc:#}");
    assert_eq!(doc["kind"], "package");
    assert_eq!(doc["restored"], true);
    assert!(jcrpack()
        .args(["dump", "--repo"])
        .arg(&s.repo)
        .arg("/content/wknd-lite/en/about")
        .assert()
        .get_output()
        .status
        .success());
    let a = restore(&s.repo, Path::new(EXAMPLE), &["--root", EN, "--yes"]).code(2);
    assert!(stderr(&a).contains("--root selects subtrees of a backup"));
}

#[test]
fn bad_input_is_one_clear_line_and_exit_1() {
    let s = story();
    let edited = dump(&s.repo);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["no-such-backup".into()],
            "no backup no-such-backup in the catalogue",
        ),
        (vec![format!("{}Y", &s.id[..s.id.len() - 1])], "(nearest: "),
        (
            vec!["20261201T090000Z".into()],
            "no backup 20261201T090000Z in the catalogue",
        ),
        (
            vec![
                s.backup.display().to_string(),
                "--root".into(),
                "/content/nowhere".into(),
            ],
            "/content/nowhere is neither in the backup nor in the repository",
        ),
        (
            vec![s.repo.display().to_string()],
            "the source and the repository are the same",
        ),
    ];
    for (args, expected) in cases {
        let a = jcrpack()
            .arg("restore")
            .args(&args)
            .arg("--repo")
            .arg(&s.repo)
            .arg("--yes")
            .assert()
            .code(1);
        let err = stderr(&a);
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(err.lines().count() <= 2, "{err}");
    }
    // A damaged binary in the backup: named, nothing written.
    let t = tempfile::tempdir().unwrap();
    let empty = init(t.path());
    for e in walkdir::WalkDir::new(s.backup.join("blobs")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let mut bytes = std::fs::read(e.path()).unwrap();
            bytes[0] ^= 0xff;
            std::fs::write(e.path(), bytes).unwrap();
        }
    }
    let before = dump(&empty);
    let a = restore(&empty, &s.backup, &["--yes"]).code(1);
    assert!(stderr(&a).contains("is damaged"), "{}", stderr(&a));
    assert_eq!(dump(&empty), before);
    assert_eq!(dump(&s.repo), edited);
    let _ = &s.dir;
}

#[test]
fn a_damaged_or_newer_backup_is_one_clear_line_and_exit_1() {
    let s = story();
    let edited = dump(&s.repo);
    let copy = |name: &str| image(&s.repo.join("backups"), &s.dir.join(name));
    let run = |cat: &Path| {
        let a = jcrpack()
            .arg("restore")
            .arg(&s.id)
            .arg("--repo")
            .arg(&s.repo)
            .arg("--catalogue")
            .arg(cat)
            .arg("--yes")
            .assert()
            .code(1);
        stderr(&a)
    };
    // A catalogue of a newer format.
    let newer = copy("newer");
    let marker = newer.join("catalogue.json");
    let text = std::fs::read_to_string(&marker).unwrap();
    std::fs::write(
        &marker,
        text.replace("\"version\":1", "\"version\":99")
            .replace("\"version\": 1", "\"version\": 99"),
    )
    .unwrap();
    let err = run(&newer);
    assert!(err.contains("newer jcrpack"), "{err}");
    // A damaged binary: the restore stops, naming it. (The image's chunks share
    // the blob folder: they stay intact.)
    let damaged = copy("damaged");
    let chunks =
        std::fs::read_to_string(damaged.join("backups").join(&s.id).join("image.txt")).unwrap();
    for e in walkdir::WalkDir::new(damaged.join("blobs")) {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().is_file() && !name.starts_with('.') && !chunks.contains(&name) {
            let mut bytes = std::fs::read(e.path()).unwrap();
            bytes[0] ^= 0xff;
            std::fs::write(e.path(), bytes).unwrap();
        }
    }
    let t = tempfile::tempdir().unwrap();
    let empty = init(t.path());
    let a = jcrpack()
        .arg("restore")
        .arg(&s.id)
        .arg("--repo")
        .arg(&empty)
        .arg("--catalogue")
        .arg(&damaged)
        .arg("--yes")
        .assert()
        .code(1);
    let err = stderr(&a);
    assert!(
        err.starts_with("error: restore failed, nothing was changed"),
        "{err}"
    );
    assert!(jcrpack()
        .args(["history", "--repo"])
        .arg(&empty)
        .assert()
        .success()
        .get_output()
        .stdout
        .is_empty());
    // A damaged image: refused before anything is compared.
    let image_damaged = copy("image");
    // Its first chunk (the image is stored as chunks in the blob folder).
    let list = std::fs::read_to_string(image_damaged.join("backups").join(&s.id).join("image.txt"))
        .unwrap();
    let sha = list.split(' ').next().unwrap();
    let db = image_damaged.join("blobs").join(&sha[..2]).join(&sha[2..]);
    let mut bytes = std::fs::read(&db).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    let err = run(&image_damaged);
    assert!(err.contains("damaged") || err.contains("checksum"), "{err}");
    assert_eq!(dump(&s.repo), edited);
}

#[test]
fn a_backup_exports_as_a_package_that_installs_the_same_content() {
    let s = story();
    let out = s.dir.join("site.zip");
    let a = jcrpack()
        .args([
            "backup",
            "export",
            &s.id,
            "--workspace",
            "default",
            "--json",
            "-o",
        ])
        .arg(&out)
        .arg("--repo")
        .arg(&s.repo)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(doc["packageId"], format!("jcrpack-backup:default:{}", s.id));
    // Installed into an empty repository: the pages as they were backed up.
    let t = tempfile::tempdir().unwrap();
    let fresh = init(t.path());
    import(&fresh, &out, &[]).success();
    assert_eq!(
        dump_at(&fresh, "/content/wknd-lite"),
        dump_at(&s.backup, "/content/wknd-lite")
    );
    // Only some roots.
    let part = s.dir.join("en.zip");
    jcrpack()
        .args(["backup", "export", &s.id, "--root", EN, "-o"])
        .arg(&part)
        .arg("--repo")
        .arg(&s.repo)
        .assert()
        .success();
    let a = jcrpack().arg("info").arg(&part).assert().success();
    let info = stdout(&a);
    assert!(
        info.contains(&format!("  {EN} (mode replace)")) && !info.contains("/apps"),
        "{info}"
    );
    // A root the backup does not have: nothing written.
    let none = s.dir.join("none.zip");
    let a = jcrpack()
        .args(["backup", "export", &s.id, "--root", "/nowhere", "-o"])
        .arg(&none)
        .arg("--repo")
        .arg(&s.repo)
        .assert()
        .code(1);
    assert!(
        stderr(&a).contains("/nowhere is not in workspace 'default'"),
        "{}",
        stderr(&a)
    );
    assert!(!none.exists());
}

#[test]
fn a_package_format_backup_holds_a_checked_package_per_workspace_that_installs() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, Path::new(EXAMPLE), &[]).success();
    jcrpack()
        .args(["workspace", "create", "empty", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let a = jcrpack()
        .args([
            "backup", "create", "--format", "package", "--json", "--repo",
        ])
        .arg(&repo)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let id = doc["id"].as_str().unwrap().to_string();
    let files: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    // The default workspace has content; the empty one gets no package (and a warning).
    assert!(files.contains(&"packages/default.zip"), "{files:?}");
    assert!(!files.iter().any(|f| f.contains("empty")), "{files:?}");
    assert!(
        String::from_utf8_lossy(&a.get_output().stderr)
            .contains("workspace 'empty' holds no content"),
        "{}",
        String::from_utf8_lossy(&a.get_output().stderr)
    );
    let package = repo
        .join("backups/backups")
        .join(&id)
        .join("packages/default.zip");
    // It installs into an empty repository with the content of the backup.
    let t2 = tempfile::tempdir().unwrap();
    let fresh = init(t2.path());
    import(&fresh, &package, &[]).success();
    assert_eq!(
        dump_at(&fresh, "/content/wknd-lite"),
        dump_at(&repo, "/content/wknd-lite")
    );
    // verify checks the package against the manifest: a damaged one is named.
    jcrpack()
        .args(["backup", "verify", &id, "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let mut bytes = std::fs::read(&package).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&package, bytes).unwrap();
    let a = jcrpack()
        .args(["backup", "verify", &id, "--repo"])
        .arg(&repo)
        .assert()
        .code(1);
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&a.get_output().stdout),
        String::from_utf8_lossy(&a.get_output().stderr)
    );
    assert!(err.contains("packages/default.zip"), "{err}");
}
