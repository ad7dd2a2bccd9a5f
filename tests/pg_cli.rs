//! Commands on a PostgreSQL repository do what they do on SQLite (issue 19 item
//! 1): the same package installed into both gives the same dump, history, export
//! and undo; a backup of the SQLite repository restores into PostgreSQL, and so
//! does a SQLite repository folder, and a backup of PostgreSQL restores into
//! SQLite, whole and as a subtree (issue 19 item 4, both directions).
//!
//! The tests start their own PostgreSQL cluster (see `src/repository/pg/testdb.rs`,
//! included here), or use `JCRPACK_TEST_POSTGRES`; without PostgreSQL they fail.

#[allow(dead_code)]
#[path = "../src/repository/pg/testdb.rs"]
mod testdb;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn jcrpack() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jcrpack"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env("USER", "tester")
        .stdin(Stdio::null());
    c
}

fn ok(args: &[&str]) -> Output {
    let mut c = jcrpack();
    c.args(args);
    let out = c.output().expect("run jcrpack");
    assert!(
        out.status.success(),
        "jcrpack {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(o: Output) -> String {
    String::from_utf8(o.stdout).expect("utf-8")
}

fn corpus() -> PathBuf {
    let dir = std::env::var_os("JCRPACK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("filevault").is_dir(),
        "the shared corpus is missing: {} (set JCRPACK_CORPUS)",
        dir.display()
    );
    dir
}

fn tags() -> String {
    corpus()
        .join("filevault/vault-core-it/vault-core-integration-tests/src/main/resources/test-packages/tags.zip")
        .display()
        .to_string()
}

/// History lines without their times (the two repositories were written at
/// different moments).
fn history(repo: &str) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&text(ok(&["history", "--repo", repo, "--json"]))).expect("JSON");
    strip_times(&mut v);
    v
}

fn strip_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("time");
            m.remove("description");
            m.remove("repository");
            m.values_mut().for_each(strip_times);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_times),
        _ => {}
    }
}

#[test]
fn commands_on_postgres_match_sqlite() {
    let t = tempfile::tempdir().unwrap();
    let sq = t.path().join("repo").display().to_string();
    let pg = format!("{}?schema=parity", testdb::fresh_database());
    let pkg = tags();
    for repo in [&sq, &pg] {
        ok(&["init", repo]);
        ok(&["import", &pkg, "--repo", repo, "-q"]);
        ok(&["rm", "/etc/tags/default", "--repo", repo]);
    }
    let dump = |repo: &str| text(ok(&["dump", "--repo", repo, "/", "--format", "json"]));
    assert_eq!(dump(&sq), dump(&pg));
    assert_eq!(history(&sq), history(&pg));
    // diff of the package against each repository.
    let diff = |repo: &str| text(ok(&["diff", &pkg, "--repo", repo]));
    assert_eq!(diff(&sq), diff(&pg));
    // export: the same filter gives the same package listing.
    let ls = |repo: &str, name: &str| {
        let out = t.path().join(name);
        ok(&[
            "export",
            "--repo",
            repo,
            "--root",
            "/etc/tags",
            "-o",
            out.to_str().unwrap(),
            "-q",
        ]);
        text(ok(&["ls", out.to_str().unwrap()]))
    };
    assert_eq!(ls(&sq, "sq.zip"), ls(&pg, "pg.zip"));
    // undo of the removal, then of the install.
    for repo in [&sq, &pg] {
        ok(&["undo", "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&sq), dump(&pg));
    for repo in [&sq, &pg] {
        ok(&["undo", "1", "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&sq), dump(&pg));
}

#[test]
fn a_sqlite_backup_and_a_sqlite_folder_restore_into_postgres() {
    let t = tempfile::tempdir().unwrap();
    let sq = t.path().join("repo").display().to_string();
    let catalogue = t.path().join("catalogue").display().to_string();
    ok(&["init", &sq]);
    ok(&["import", &tags(), "--repo", &sq, "-q"]);
    ok(&[
        "backup",
        "create",
        "--repo",
        &sq,
        "--catalogue",
        &catalogue,
        "-q",
    ]);
    let list = text(ok(&["backup", "list", "--catalogue", &catalogue]));
    let id = list
        .split_whitespace()
        .next()
        .expect("a backup id")
        .to_string();
    let dump = |repo: &str| text(ok(&["dump", "--repo", repo, "/", "--format", "json"]));
    let base = testdb::fresh_database();
    let from_backup = format!("{base}?schema=from_backup");
    ok(&["init", &from_backup]);
    ok(&[
        "restore",
        &id,
        "--catalogue",
        &catalogue,
        "--repo",
        &from_backup,
        "-y",
        "-q",
    ]);
    assert_eq!(dump(&from_backup), dump(&sq));
    let from_folder = format!("{base}?schema=from_folder");
    ok(&["init", &from_folder]);
    ok(&["restore", &sq, "--repo", &from_folder, "-y", "-q"]);
    assert_eq!(dump(&from_folder), dump(&sq));
}

/// The other direction (issue 19 item 4): a backup taken from PostgreSQL restores
/// into SQLite, whole and as a subtree, binaries included.
/// `backup create` of `repo` into `catalogue`: its manifest.
fn backup_create(repo: &str, catalogue: &str) -> serde_json::Value {
    serde_json::from_slice(
        &ok(&[
            "backup",
            "create",
            "--repo",
            repo,
            "--catalogue",
            catalogue,
            "--json",
            "-q",
        ])
        .stdout,
    )
    .expect("the manifest")
}

#[test]
fn a_postgres_backup_restores_into_sqlite_whole_and_as_a_subtree() {
    let t = tempfile::tempdir().unwrap();
    let pg = format!("{}?schema=source", testdb::fresh_database());
    let catalogue = t.path().join("catalogue").display().to_string();
    ok(&["init", &pg]);
    ok(&["import", &tags(), "--repo", &pg, "-q"]);
    let multi = corpus()
        .join("filevault/vault-core-it/vault-core-integration-tests/src/main/resources/test-packages/multipackage-a-1.0.zip")
        .display()
        .to_string();
    ok(&["import", &multi, "--repo", &pg, "-q"]);
    // Without --catalogue a server repository has no default catalogue.
    let mut c = jcrpack();
    c.args(["backup", "create", "--repo", &pg, "-q"]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let m = backup_create(&pg, &catalogue);
    let id = m["id"].as_str().expect("an id").to_string();
    assert!(m["blobs"]["count"].as_u64().unwrap() >= 1, "{m}");
    ok(&["backup", "verify", &id, "--catalogue", &catalogue]);
    let dump =
        |repo: &str, path: &str| text(ok(&["dump", "--repo", repo, path, "--format", "json"]));
    let whole = t.path().join("whole").display().to_string();
    ok(&["init", &whole]);
    ok(&[
        "restore",
        &id,
        "--catalogue",
        &catalogue,
        "--repo",
        &whole,
        "-y",
        "-q",
    ]);
    assert_eq!(dump(&whole, "/"), dump(&pg, "/"));
    let sub = "/etc/tags/stockphotography";
    let part = t.path().join("part").display().to_string();
    ok(&["init", &part]);
    ok(&[
        "restore",
        &id,
        "--catalogue",
        &catalogue,
        "--repo",
        &part,
        "--root",
        sub,
        "-y",
        "-q",
    ]);
    assert_eq!(dump(&part, sub), dump(&pg, sub));
    // And the binaries came through: an export of both gives the same package.
    let export = |repo: &str, to: &Path| {
        ok(&[
            "export",
            "--repo",
            repo,
            "--root",
            "/etc/packages",
            "-o",
            &to.display().to_string(),
            "-q",
        ]);
        std::fs::read(to).unwrap()
    };
    assert_eq!(
        export(&whole, &t.path().join("a.zip")),
        export(&pg, &t.path().join("b.zip"))
    );
}

/// `JCRPACK_REPO` stands for `--repo` (issue 19 item 1: "and `JCRPACK_REPO` for
/// scripts"); an explicit `--repo` wins.
#[test]
fn jcrpack_repo_stands_for_repo() {
    let pg = format!("{}?schema=from_env", testdb::fresh_database());
    ok(&["init", &pg]);
    let with_env = |args: &[&str]| {
        let out = jcrpack()
            .env("JCRPACK_REPO", &pg)
            .args(args)
            .output()
            .expect("run jcrpack");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        text(out)
    };
    with_env(&["import", &tags(), "-q"]);
    assert_eq!(history(&pg), {
        let v: serde_json::Value = serde_json::from_str(&with_env(&["history", "--json"])).unwrap();
        let mut v = v;
        strip_times(&mut v);
        v
    });
    assert_eq!(
        with_env(&["dump", "--repo", &pg, "/etc/tags", "--format", "json"]),
        text(ok(&[
            "dump",
            "--repo",
            &pg,
            "/etc/tags",
            "--format",
            "json"
        ]))
    );
    // An explicit --repo wins over the environment.
    let t = tempfile::tempdir().unwrap();
    let sq = t.path().join("repo").display().to_string();
    ok(&["init", &sq]);
    let h: serde_json::Value =
        serde_json::from_str(&with_env(&["history", "--repo", &sq, "--json"])).unwrap();
    assert_ne!(h, history(&pg));
}

/// Writes `text` at `rel` below `dir`.
fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A path of about 4 KB and a `jcr:uuid` of 4 KB (over the 2.7 KB a PostgreSQL
/// btree entry holds, issue 19) go through `import` and `dump` as on SQLite.
#[test]
fn paths_and_uuids_of_4_kb_import_and_dump_as_on_sqlite() {
    let t = tempfile::tempdir().unwrap();
    let pkg = t.path().join("deep");
    write(
        &pkg,
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/t\"/></workspaceFilter>",
    );
    let names: Vec<String> = (0..20)
        .map(|i| format!("n{i:02}{}", "x".repeat(197)))
        .collect();
    let uuid = format!("u-{}", "0123456789abcdef".repeat(256));
    let mut xml = String::from(
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0" jcr:primaryType="nt:unstructured">"#,
    );
    for (i, n) in names.iter().enumerate() {
        if i + 1 == names.len() {
            xml.push_str(&format!(
                r#"<{n} jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="{uuid}">"#
            ));
        } else {
            xml.push_str(&format!(r#"<{n} jcr:primaryType="nt:unstructured">"#));
        }
    }
    for n in names.iter().rev() {
        xml.push_str(&format!("</{n}>"));
    }
    xml.push_str("</jcr:root>");
    write(&pkg, "jcr_root/content/t/.content.xml", &xml);
    let deep = format!("/content/t/{}", names.join("/"));
    assert!(deep.len() > 4000);
    let sq = t.path().join("repo").display().to_string();
    let pg = format!("{}?schema=deep", testdb::fresh_database());
    let pkg = pkg.display().to_string();
    for repo in [&sq, &pg] {
        ok(&["init", repo]);
        ok(&["import", &pkg, "--repo", repo, "-q"]);
    }
    let dump = |repo: &str| {
        text(ok(&[
            "dump", "--repo", repo, "/content", "--format", "json",
        ]))
    };
    let (a, b) = (dump(&sq), dump(&pg));
    assert_eq!(a, b);
    assert!(
        b.contains(names.last().unwrap()),
        "the deepest node is dumped"
    );
    assert!(b.contains(&uuid), "the long jcr:uuid is dumped");
    // The deep node found by its path.
    let at = |repo: &str| text(ok(&["dump", "--repo", repo, &deep, "--format", "json"]));
    assert_eq!(at(&sq), at(&pg));
    assert!(at(&pg).contains(&uuid));
    // Installed again, the long path and uuid are found (replaced in place).
    for repo in [&sq, &pg] {
        ok(&["import", &pkg, "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&sq), dump(&pg));
    assert_eq!(dump(&pg), b);
}

/// `import --skip-unchanged` skips on PostgreSQL as on SQLite (aggregate digests,
/// issue 16 on issue 19's backend).
#[test]
fn skip_unchanged_skips_on_postgres() {
    let pg = format!("{}?schema=skip", testdb::fresh_database());
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/example")
        .display()
        .to_string();
    ok(&["init", &pg]);
    let json = |extra: &[&str]| -> serde_json::Value {
        let out = ok(&[&["import", &example, "--repo", &pg, "--json"], extra].concat());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = json(&["--skip-unchanged"]);
    assert_eq!(first["totals"]["skipped"], 0, "{first}");
    let skipped = json(&["--skip-unchanged"]);
    assert!(
        skipped["totals"]["skipped"].as_u64().unwrap() > 0,
        "{skipped}"
    );
    assert!(
        skipped["entries"].as_array().unwrap().is_empty(),
        "{skipped}"
    );
    // The default skips as the flag does.
    let by_default = json(&[]);
    assert!(
        by_default["totals"]["skipped"].as_u64().unwrap() > 0,
        "{by_default}"
    );
    ok(&["rm", "/content/wknd-lite/en", "--repo", &pg]);
    let back = json(&["--skip-unchanged"]);
    assert!(back["totals"]["added"].as_u64().unwrap() > 0, "{back}");
}

/// Runs `jcrpack ARGS --lock-timeout SECONDS`; returns whether it succeeded
/// (failing with exit code 1 otherwise), its standard error and how long it took.
fn timed(args: &[&str], seconds: &str) -> (bool, String, std::time::Duration) {
    let started = std::time::Instant::now();
    let out = jcrpack()
        .args(args)
        .args(["--lock-timeout", seconds])
        .output()
        .expect("run jcrpack");
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{args:?}: {:?}",
        out.status
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

/// Issue 19 item 2: a workspace's write lock held by another client (here a raw
/// connection holding the advisory locks an install takes) keeps installs into
/// that workspace out, for `--lock-timeout`, with SQLite's busy error and exit
/// code; an install into another workspace goes ahead at once; anything
/// repository-wide (a new workspace) waits for every workspace's lock.
#[test]
fn a_held_workspace_lock_makes_its_installs_busy_and_leaves_others_free() {
    let t = tempfile::tempdir().unwrap();
    let db = testdb::fresh_database();
    let repo = format!("{db}?schema=busy");
    ok(&["init", &repo]);
    ok(&["workspace", "create", "other", "--repo", &repo]);
    let pkg = t.path().join("pkg");
    write(
        &pkg,
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/t\"/></workspaceFilter>",
    );
    write(
        &pkg,
        "jcr_root/content/t/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" x="1"/>"#,
    );
    let pkg = pkg.to_str().unwrap();
    let mut holder = postgres::Client::connect(&db, postgres::NoTls).expect("connect");
    let mut txn = holder.transaction().expect("begin");
    txn.batch_execute(
        "SELECT pg_advisory_xact_lock_shared(hashtext('jcrpack'), hashtext('busy'));
         SELECT pg_advisory_xact_lock(hashtext('jcrpack-ws:busy'), hashtext('default'))",
    )
    .expect("take the locks");
    let import = |ws: &'static str| ["import", pkg, "-q", "--repo", &repo, "-w", ws];
    let (done, err, waited) = timed(&import("default"), "0.5");
    assert!(!done, "the install into the locked workspace ran");
    assert!(
        err.contains("is busy") && err.contains("another process is writing to it"),
        "{err}"
    );
    assert!(err.contains("waited 500 ms"), "{err}");
    assert!(
        waited >= std::time::Duration::from_millis(500),
        "{waited:?}"
    );
    let (done, err, _) = timed(&import("other"), "0");
    assert!(done, "the install into the other workspace waited: {err}");
    let (done, err, _) = timed(&["workspace", "create", "third", "--repo", &repo], "0.2");
    assert!(!done && err.contains("is busy"), "{err}");
    txn.rollback().expect("release");
    let (done, err, _) = timed(&import("default"), "5");
    assert!(done, "{err}");
    // The workspace, and the two installs.
    let h = history(&repo);
    assert_eq!(h["operations"].as_array().unwrap().len(), 3, "{h}");
}

/// A package of node `/content/long/<node>` with properties named by `props`,
/// each valued `value`.
fn long_names_package(dir: &Path, node: &str, props: &[String], value: &str) -> String {
    write(
        dir,
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/long\"/></workspaceFilter>",
    );
    let attrs: String = props.iter().map(|p| format!(r#" {p}="{value}""#)).collect();
    write(
        dir,
        "jcr_root/content/long/.content.xml",
        &format!(
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><{node} jcr:primaryType="nt:unstructured"{attrs}/></jcr:root>"#
        ),
    );
    dir.display().to_string()
}

/// Property names of 4,000 and 10,000 characters and a node name of 10,000 (over
/// the 2.7 KB a PostgreSQL btree entry holds, issue 19) import, dump, diff,
/// export, undo, back up and restore on PostgreSQL exactly as on SQLite.
#[test]
fn names_of_4_000_and_10_000_characters_work_as_on_sqlite() {
    let t = tempfile::tempdir().unwrap();
    use testdb::letters;
    let node = letters(10_000, 1);
    let props = vec![letters(4000, 2), letters(10_000, 3)];
    let v1 = long_names_package(&t.path().join("v1"), &node, &props, "one");
    let v2 = long_names_package(&t.path().join("v2"), &node, &props[..1], "two");
    let sq = t.path().join("repo").display().to_string();
    let pg = format!("{}?schema=long", testdb::fresh_database());
    for repo in [&sq, &pg] {
        ok(&["init", repo]);
        ok(&["import", &v1, "--repo", repo, "-q"]);
    }
    assert_eq!(history(&sq), history(&pg));
    let dump = |repo: &str| {
        text(ok(&[
            "dump", "--repo", repo, "/content", "--format", "json",
        ]))
    };
    let installed = dump(&pg);
    assert_eq!(dump(&sq), installed);
    assert!(installed.contains(&props[1]) && installed.contains(&node));
    // diff against the other version, export.
    let diff = |repo: &str| text(ok(&["diff", &v2, "--repo", repo]));
    let d = diff(&pg);
    assert_eq!(diff(&sq), d);
    assert!(d.contains(&props[1][..100]), "{}", &d[..d.len().min(300)]);
    let export = |repo: &str, name: &str| {
        let to = t.path().join(name);
        ok(&[
            "export",
            "--repo",
            repo,
            "--root",
            "/content/long",
            "-o",
            &to.display().to_string(),
            "-q",
        ]);
        std::fs::read(to).unwrap()
    };
    assert_eq!(export(&sq, "sq.zip"), export(&pg, "pg.zip"));
    // The second version changes one long property and drops the other; undo.
    for repo in [&sq, &pg] {
        ok(&["import", &v2, "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&sq), dump(&pg));
    assert!(!dump(&pg).contains(&props[1]));
    // (Operation ids aside: PostgreSQL skipped one between the two imports, where
    // diff and export ran; a sequence value drawn by a transaction that rolls
    // back is not given back. Not a matter of names: noted for issue 19.)
    let without_ids = |repo: &str| {
        let mut h = history(repo);
        for op in h["operations"].as_array_mut().unwrap() {
            op.as_object_mut().unwrap().remove("id");
        }
        h
    };
    assert_eq!(without_ids(&sq), without_ids(&pg));
    for repo in [&sq, &pg] {
        ok(&["undo", "--repo", repo, "-q"]);
    }
    assert_eq!(dump(&pg), installed);
    assert_eq!(dump(&sq), installed);
    // Backed up from PostgreSQL into SQLite, and from SQLite into PostgreSQL.
    let catalogue = t.path().join("catalogue").display().to_string();
    let backup = |repo: &str| -> String {
        let m = backup_create(repo, &catalogue);
        m["id"].as_str().expect("an id").to_string()
    };
    let restore = |id: &str, repo: &str| {
        ok(&["init", repo]);
        ok(&[
            "restore",
            id,
            "--catalogue",
            &catalogue,
            "--repo",
            repo,
            "-y",
            "-q",
        ]);
    };
    let into_sq = t.path().join("from-pg").display().to_string();
    restore(&backup(&pg), &into_sq);
    assert_eq!(dump(&into_sq), installed);
    let into_pg = format!("{}?schema=fromsq", testdb::fresh_database());
    restore(&backup(&sq), &into_pg);
    assert_eq!(dump(&into_pg), installed);
}

/// Exports from PostgreSQL, whose snapshot reads the content in batches ahead of
/// the export (`src/repository/pg/store/snapshot.rs`), are byte for byte the
/// exports from SQLite of the same content: corpus packages with files, `.dir`s,
/// same-name siblings, child order, references and access control, and generated
/// content of more nodes than one batch reads (so that batches wait and resume),
/// exported whole, by the generated package's filter, and below a subtree. Their
/// dumps and diffs, which walk through the same batched reads, are the same too.
#[test]
fn exports_from_postgres_are_byte_identical_to_sqlite() {
    let t = tempfile::tempdir().unwrap();
    let sq = t.path().join("repo").display().to_string();
    let pg = format!("{}?schema=bytes", testdb::fresh_database());
    let dir = corpus().join(
        "filevault/vault-core-it/vault-core-integration-tests/src/main/resources/test-packages",
    );
    let src = t.path().join("src");
    ok(&[
        "generate",
        "--nodes",
        "6000",
        "--binary-bytes",
        "200000",
        "-q",
        "-o",
        src.to_str().unwrap(),
    ]);
    let generated = t.path().join("generated.zip");
    ok(&[
        "build",
        src.to_str().unwrap(),
        "-o",
        generated.to_str().unwrap(),
        "-q",
    ]);
    let mut packages: Vec<PathBuf> = [
        "tags.zip",
        "referenceable.zip",
        "simple_file_aggregate_with_children.zip",
        "enhanced_file_aggregate.zip",
        "test_sns.zip",
        "test_childnodeorder.zip",
        "mixed_package.zip",
        "repo_policy.zip",
        "intermediate_folders.zip",
    ]
    .iter()
    .map(|p| dir.join(p))
    .collect();
    packages.push(generated);
    for repo in [&sq, &pg] {
        ok(&["init", repo]);
        for pkg in &packages {
            ok(&["import", pkg.to_str().unwrap(), "--repo", repo, "-q"]);
        }
    }
    // dump and diff walk the content through the same batched reads.
    let dump = |repo: &str| text(ok(&["dump", "--repo", repo, "/", "--format", "json"]));
    let (a, b) = (dump(&sq), dump(&pg));
    assert!(a.len() > 100_000, "{} bytes of dump", a.len());
    assert!(a == b, "the dumps differ");
    for pkg in [&packages[0], &packages[packages.len() - 1]] {
        let diff = |repo: &str| text(ok(&["diff", pkg.to_str().unwrap(), "--repo", repo]));
        assert_eq!(diff(&sq), diff(&pg));
    }
    let filter = src.join("META-INF/vault/filter.xml");
    let cases: [&[&str]; 3] = [
        &["--root", "/"],
        &["--filter", filter.to_str().unwrap()],
        &["--root", "/etc/tags"],
    ];
    for (i, case) in cases.iter().enumerate() {
        let export = |repo: &str, name: &str| {
            let out = t.path().join(format!("{name}{i}.zip"));
            let mut args = vec!["export", "--repo", repo, "-o", out.to_str().unwrap(), "-q"];
            args.extend_from_slice(case);
            ok(&args);
            std::fs::read(&out).expect("the exported package")
        };
        let (a, b) = (export(&sq, "sq"), export(&pg, "pg"));
        assert!(a.len() > 1000, "{case:?}: {} bytes", a.len());
        assert!(
            a == b,
            "{case:?}: the packages differ ({} and {} bytes)",
            a.len(),
            b.len()
        );
    }
}
