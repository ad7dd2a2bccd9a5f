//! The hostile corpus (`fixtures/hostile/`) through the commands that read packages:
//! `unpack`, `import`, `validate` and `extract` on every archive attack; `import`,
//! `validate` and `extract` on every malformed DocView, filter, CND and properties file
//! placed in a package; `load` on the system view attacks. Each must refuse with exit
//! code 1 and an error naming the cause (no panic, no usage error), and a refused
//! install must leave the repository exactly as it was. An archive attack on an entry
//! the filter discards is never read by `import` or `extract` (FileVault's
//! post-filter): they may succeed but must not apply or copy it. Nor does `extract`
//! read a refused entry outside its selected root: it succeeds on those
//! ([`REFUSED_OUTSIDE_THE_SELECTION`]) and copies nothing from there. The `accept`
//! cases must install and extract.
//!
//! Every command runs under bounds: at most [`WALL_TIME`] of wall time (a hang or a
//! quadratic walk fails the case) and, over the whole test, at most [`PEAK_RSS`] of
//! resident memory in any one command (the peak of every child waited for, read with
//! `getrusage(RUSAGE_CHILDREN)` after each case, so the case that crossed it is
//! named). Where a case's `command` column lists `info`, `info` must refuse it too.
//!
//! `extract` runs in a folder of its own, writing into another: whatever happens,
//! nothing may appear in the first, and the second holds the new package on success
//! and nothing at all (no temporary file) on failure. The DocView cases extract a root
//! below the hostile file's node, so that the file must be parsed (a whole subtree is
//! copied unparsed).

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most one command may take (a debug build on a loaded machine).
const WALL_TIME: Duration = Duration::from_secs(20);
/// The most resident memory one command may use.
const PEAK_RSS: u64 = 512 << 20;

struct Case {
    file: String,
    command: String,
    expect: String,
    checked_by: String,
}

/// The largest peak resident set of any child process waited for so far, in bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed: cannot measure memory");
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string("fixtures/hostile/cases.tsv").unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Case {
                file: f[0].to_string(),
                command: f[2].to_string(),
                expect: f[3].to_string(),
                checked_by: f[4].to_string(),
            }
        })
        .collect()
}

fn jcrpack() -> Command {
    let mut c = Command::cargo_bin("jcrpack").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    for (name, _) in jcrpack::limits::ENV_VARS {
        c.env_remove(name);
    }
    c.timeout(WALL_TIME);
    c
}

fn case_path(c: &Case) -> PathBuf {
    Path::new("fixtures/hostile/cases").join(&c.file)
}

fn dump(repo: &Path) -> Vec<u8> {
    jcrpack()
        .args(["dump", "--repo"])
        .arg(repo)
        .output()
        .unwrap()
        .stdout
}

/// Runs a command that must refuse: exit 1 and `expect` (when given) on stderr.
fn refuses(cmd: &mut Command, expect: &str, what: &str) -> Result<(), String> {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) {
        return Err(format!(
            "{what}: exit {:?}, stderr: {err}",
            out.status.code()
        ));
    }
    if !expect.is_empty() && !err.to_lowercase().contains(&expect.to_lowercase()) {
        return Err(format!("{what}: stderr does not name '{expect}': {err}"));
    }
    Ok(())
}

/// A package folder whose `rel` file holds `bytes`, with a valid filter and content.
fn package_with(dir: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join("pkg");
    let w = |r: &str, b: &[u8]| {
        let f = p.join(r);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, b).unwrap();
    };
    w(
        "META-INF/vault/filter.xml",
        b"<workspaceFilter version=\"1.0\"><filter root=\"/content/x\"/></workspaceFilter>",
    );
    w(
        "jcr_root/content/x/.content.xml",
        br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    );
    w(rel, bytes);
    p
}

/// The archive attacks whose refused entry lies outside the root `extract` selects
/// (`/content`): `extract` opens only the selection ([`jcrpack::archive::EntrySelection`],
/// issue 16), never reads them and succeeds, copying nothing from there, while `import`,
/// `validate` and `unpack` of the whole package refuse them.
const REFUSED_OUTSIDE_THE_SELECTION: &[&str] = &[
    "zip/absolute-path.zip",
    "zip/drive-letter.zip",
    "zip/backslash.zip",
    "zip/nul-in-name.zip",
    "zip/control-in-name.zip",
    "zip/duplicate-entry.zip",
    "zip/file-and-directory.zip",
];

/// Runs `extract PKG --root ROOT` in a folder of its own, writing into another.
/// `Ok(true)` when it wrote the package, `Ok(false)` when it refused with exit 1
/// naming `expect`; an error for anything else (a panic, another exit code, a file
/// written where it should not be, an output left behind on failure).
fn extract(t: &Path, pkg: &Path, root: &str, expect: &str) -> Result<bool, String> {
    let cwd = t.join("extract-cwd");
    let dir = t.join("extract-out");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("extracted.zip");
    let out = jcrpack()
        .current_dir(&cwd)
        .arg("extract")
        .arg(std::path::absolute(pkg).unwrap())
        // The roots below a hostile node select nothing: allowed, so that the
        // hostile file is what decides.
        .args(["--root", root, "--allow-empty", "-o"])
        .arg(&target)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let listing = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    if err.contains("panicked") {
        return Err(format!("extract panicked: {err}"));
    }
    if !listing(&cwd).is_empty() {
        return Err(format!(
            "extract wrote into its working folder: {:?}",
            listing(&cwd)
        ));
    }
    let written = listing(&dir);
    match out.status.code() {
        Some(0) => {
            if written != ["extracted.zip"] {
                return Err(format!("extract succeeded but wrote {written:?}"));
            }
            Ok(true)
        }
        Some(1) => {
            if !written.is_empty() {
                return Err(format!("extract failed but left {written:?}: {err}"));
            }
            if !expect.is_empty() && !err.to_lowercase().contains(&expect.to_lowercase()) {
                return Err(format!("extract: stderr does not name '{expect}': {err}"));
            }
            Ok(false)
        }
        code => Err(format!("extract: exit {code:?}, stderr: {err}")),
    }
}

/// The entries of a package zip.
fn entries(zip: &Path) -> Vec<String> {
    let a = jcrpack::archive::open(zip, &jcrpack::archive::ReadOptions::default()).unwrap();
    a.entries().iter().map(|e| e.name().to_string()).collect()
}

fn check(c: &Case) -> Result<(), String> {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    let before = dump(&repo);
    let src = case_path(c);
    let bytes = std::fs::read(&src).unwrap();
    // Through a package, a file-level message names the package entry, not the case file.
    let expect = if c.expect == c.file {
        String::new()
    } else {
        c.expect.clone()
    };
    let (pkg, accept, root) = match (
        c.file.split('/').next().unwrap_or(""),
        c.checked_by.as_str(),
    ) {
        ("materialized", kind) => return materialized(c, kind, t.path(), &before),
        (_, "archive-strict") => {
            // Names that differ only in case: unpack refuses them before writing
            // anything; with --allow-case-collisions it writes both on a case-sensitive
            // file system. JCR names are case-sensitive: import and extract accept them.
            let out = t.path().join("out");
            refuses(
                jcrpack().arg("unpack").arg(&src).arg(&out),
                &c.expect,
                "unpack",
            )?;
            if out.exists() {
                return Err("a refused unpack created its target folder".into());
            }
            let out = t.path().join("allowed");
            let ok = jcrpack()
                .arg("unpack")
                .arg("--allow-case-collisions")
                .arg(&src)
                .arg(&out)
                .output()
                .unwrap();
            std::fs::write(t.path().join("probe"), b"").unwrap();
            let sensitive = !t.path().join("PROBE").exists();
            if ok.status.success() != sensitive {
                return Err(format!(
                    "unpack --allow-case-collisions on a case-{} file system: exit {:?}, {}",
                    if sensitive {
                        "sensitive"
                    } else {
                        "insensitive"
                    },
                    ok.status.code(),
                    String::from_utf8_lossy(&ok.stderr)
                ));
            }
            jcrpack()
                .arg("import")
                .arg(&src)
                .arg("--repo")
                .arg(&repo)
                .assert()
                .success();
            if !extract(t.path(), &src, "/content", "")? {
                return Err("extract refused names that differ only in case".into());
            }
            return Ok(());
        }
        ("zip", kind) => {
            if c.command.split(", ").any(|cmd| cmd == "info") {
                refuses(jcrpack().arg("info").arg(&src), &c.expect, "info")?;
            }
            let out = t.path().join("out");
            if kind == "layout" {
                // Two names of one node are two files: unpack copies both.
                jcrpack()
                    .arg("unpack")
                    .arg(&src)
                    .arg(&out)
                    .assert()
                    .success();
            } else {
                refuses(
                    jcrpack().arg("unpack").arg(&src).arg(&out),
                    &c.expect,
                    "unpack",
                )?;
            }
            (src.clone(), false, "/content")
        }
        ("docview", kind) => (
            package_with(t.path(), "jcr_root/content/x/y/.content.xml", &bytes),
            kind == "accept",
            "/content/x/y/z",
        ),
        ("filter", kind) => (
            package_with(t.path(), "META-INF/vault/filter.xml", &bytes),
            kind == "accept",
            "/content/x",
        ),
        ("cnd", _) => (
            package_with(t.path(), "META-INF/vault/nodetypes.cnd", &bytes),
            false,
            "/content/x",
        ),
        ("properties", _) => (
            package_with(t.path(), "META-INF/vault/properties.xml", &bytes),
            false,
            "/content/x",
        ),
        ("sysview", _) => {
            refuses(
                jcrpack()
                    .arg("load")
                    .arg(&src)
                    .args(["--at", "/", "--repo"])
                    .arg(&repo),
                &c.expect,
                "load",
            )?;
            if dump(&repo) != before {
                return Err("load changed the repository".into());
            }
            return Ok(());
        }
        _ => return Ok(()),
    };
    if accept {
        let start = std::time::Instant::now();
        let out = jcrpack()
            .arg("import")
            .arg(&pkg)
            .arg("--repo")
            .arg(&repo)
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(format!(
                "accept case refused: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if !extract(t.path(), &pkg, root, "")? {
            return Err("accept case refused by extract".into());
        }
        if start.elapsed().as_secs() > 60 {
            return Err(format!("accept case took {:?}", start.elapsed()));
        }
        return Ok(());
    }
    let is_zip = c.file.starts_with("zip/");
    let result = refuses(
        jcrpack().arg("import").arg(&pkg).arg("--repo").arg(&repo),
        &expect,
        "import",
    );
    // An attack on an entry that the filter discards is never read, as in FileVault:
    // such an install applies nothing and may succeed.
    let imported = match result {
        Ok(()) => false,
        Err(e) if is_zip && e.contains("exit Some(0)") => true,
        Err(e) => return Err(e),
    };
    if dump(&repo) != before {
        return Err("a refused import changed the repository".into());
    }
    let out = jcrpack().arg("validate").arg(&pkg).output().unwrap();
    if out.status.code() != Some(1) {
        return Err(format!(
            "validate: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let extracted = extract(t.path(), &pkg, root, &expect)?;
    let outside_selection = REFUSED_OUTSIDE_THE_SELECTION.contains(&c.file.as_str());
    if outside_selection && !extracted {
        return Err("extract refused an entry outside its selection".into());
    }
    if extracted {
        // Only where import also passed (the attack is outside the filter), or where
        // the refused entry lies outside the extracted root, which extract never reads;
        // either way the new package holds nothing from there.
        if !imported && !outside_selection {
            return Err("extract succeeded where import refused".into());
        }
        let outside: Vec<String> = entries(&t.path().join("extract-out/extracted.zip"))
            .into_iter()
            .filter(|e| {
                !e.starts_with("META-INF") && !e.starts_with("jcr_root/content") && e != "jcr_root"
            })
            .collect();
        if !outside.is_empty() {
            return Err(format!(
                "extract copied entries outside the filter: {outside:?}"
            ));
        }
    }
    Ok(())
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo failed"
    );
}

/// The arguments of `command` run on the package or file `p` (in the case's
/// folder, where the repository is `repo` and a second one, when built, `src`).
fn args_of(command: &str, p: &str, kind: &str, root: &str) -> Vec<String> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match command {
        "info" | "validate" | "dump" => v(&[command, p]),
        "ls" => v(&["ls", p, "/"]),
        "import" | "diff" => v(&[command, p, "--repo", "repo"]),
        "extract" => v(&["extract", p, "--root", "/content", "-o", "x.zip"]),
        "unpack" => v(&["unpack", p, "out"]),
        "load" => v(&["load", p, "--at", "/", "--repo", "repo"]),
        "export" => v(&[
            "export", "--repo", "src", "--root", "/content", "-o", "x.zip",
        ]),
        "backup create" => v(&["backup", "create", "--repo", "src"]),
        "restore" if kind.ends_with("-blob") => v(&["restore", "src", "--yes", "--repo", "repo"]),
        "restore" if kind == "restore-folder-system-root" => {
            v(&["restore", "src", "--root", root, "--yes", "--repo", "repo"])
        }
        "restore" => v(&["restore", p, "--yes", "--repo", "repo"]),
        other => panic!("no arguments for the command {other:?} of a materialized case"),
    }
}

/// A materialized case (classes 4 and 5, which git cannot hold): builds what the
/// kind says from the committed file (see fixtures/hostile/generate), then every
/// command of the row must exit 1 naming `expect`, write no output file and leave
/// the repository as it was.
fn materialized(c: &Case, kind: &str, dir: &Path, before: &[u8]) -> Result<(), String> {
    let src = std::fs::canonicalize(case_path(c)).unwrap();
    let base = Path::new(&c.file).file_name().unwrap().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = jcrpack().current_dir(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut root = String::new();
    let target: String = match kind {
        "fifo" => {
            mkfifo(&dir.join(base));
            base.to_string()
        }
        "device" => {
            std::os::unix::fs::symlink("/dev/zero", dir.join(base)).unwrap();
            base.to_string()
        }
        "fifo-entry" => {
            run(&["unpack", src.to_str().unwrap(), "pkg"]);
            let entry = dir.join("pkg/jcr_root/content/f.bin");
            std::fs::remove_file(&entry).unwrap();
            mkfifo(&entry);
            "pkg".to_string()
        }
        "truncated-blob" | "symlinked-blob" | "fifo-blob" => {
            run(&["init", "src"]);
            run(&["import", src.to_str().unwrap(), "--repo", "src", "-q"]);
            let blobs: Vec<PathBuf> = walkdir::WalkDir::new(dir.join("src/blobs"))
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .collect();
            if blobs.len() != 1 {
                return Err(format!("expected one blob, found {blobs:?}"));
            }
            let blob = &blobs[0];
            let mut perms = std::fs::metadata(blob).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(blob, perms).unwrap();
            match kind {
                "truncated-blob" => std::fs::OpenOptions::new()
                    .write(true)
                    .open(blob)
                    .unwrap()
                    .set_len(100)
                    .unwrap(),
                "symlinked-blob" => {
                    std::fs::remove_file(blob).unwrap();
                    std::os::unix::fs::symlink("/etc/passwd", blob).unwrap();
                }
                _ => {
                    std::fs::remove_file(blob).unwrap();
                    mkfifo(blob);
                }
            }
            String::new()
        }
        "write-system-root" => src.to_str().unwrap().to_string(),
        "restore-folder-system-root" => {
            run(&["init", "src"]);
            let p = src.to_str().unwrap();
            run(&[
                "load",
                p,
                "--at",
                "/",
                "--allow-system-roots",
                "--repo",
                "src",
            ]);
            let text = String::from_utf8_lossy(&std::fs::read(&src).unwrap()).into_owned();
            let name = text
                .split("sv:name=\"")
                .nth(1)
                .and_then(|s| s.split('"').next());
            root = format!("/{}", name.unwrap());
            String::new()
        }
        other => return Err(format!("unknown materialized kind {other:?}")),
    };
    for command in c.command.split(", ") {
        let args = args_of(command, &target, kind, &root);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refuses(jcrpack().current_dir(dir).args(&args), &c.expect, command)?;
        for left in ["x.zip", "out"] {
            if dir.join(left).exists() {
                return Err(format!("{command}: refused, but wrote {left}"));
            }
        }
        if dump(&dir.join("repo")) != before {
            return Err(format!("{command}: the repository changed"));
        }
    }
    if kind == "restore-folder-system-root" {
        // The whole tree from that folder: the system root stays out of it.
        run(&["restore", "src", "--yes", "--repo", "repo"]);
        let out = jcrpack()
            .current_dir(dir)
            .args(["dump", &format!("{root}/evil"), "--repo", "repo"])
            .output()
            .unwrap();
        if out.status.success() {
            return Err(format!("a whole restore wrote {root}/evil"));
        }
    }
    Ok(())
}

#[test]
fn commands_refuse_every_hostile_case() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() > 40);
    for c in &all {
        let started = std::time::Instant::now();
        if let Err(e) = check(c) {
            failures.push(format!("{}: {e}", c.file));
        }
        let peak = children_peak_rss();
        if peak > PEAK_RSS {
            failures.push(format!(
                "{}: a command's resident memory reached {} MiB, above {} MiB",
                c.file,
                peak >> 20,
                PEAK_RSS >> 20
            ));
            break;
        }
        eprintln!(
            "{}: {:.1?}, peak RSS so far {} MiB",
            c.file,
            started.elapsed(),
            peak >> 20
        );
    }
    assert!(
        failures.is_empty(),
        "{} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
