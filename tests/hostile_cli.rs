//! The hostile corpus (`fixtures/hostile/`) through the commands that read packages:
//! `unpack`, `import` and `validate` on every archive attack; `import` and `validate`
//! on every malformed DocView, filter, CND and properties file placed in a package;
//! `load` on the system view attacks. Each must refuse with exit code 1 and an error
//! naming the cause (no panic, no usage error), and a refused install must leave the
//! repository exactly as it was. An archive attack on an entry the filter discards is
//! never read by `import` (FileVault's post-filter): that install may succeed but must
//! apply nothing. The `accept` cases must install.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

struct Case {
    file: String,
    expect: String,
    checked_by: String,
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
                expect: f[3].to_string(),
                checked_by: f[4].to_string(),
            }
        })
        .collect()
}

fn jcrpack() -> Command {
    let mut c = Command::cargo_bin("jcrpack").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1700000000");
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

fn check(c: &Case) -> Result<(), String> {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    let before = dump(&repo);
    let src = case_path(c);
    let bytes = std::fs::read(&src).unwrap();
    let (pkg, accept) = match (
        c.file.split('/').next().unwrap_or(""),
        c.checked_by.as_str(),
    ) {
        (_, "pending") => {
            // The package layer refuses names that unescape to the same node.
            refuses(
                jcrpack().arg("import").arg(&src).arg("--repo").arg(&repo),
                &c.expect,
                "import",
            )?;
            if dump(&repo) != before {
                return Err("a refused import changed the repository".into());
            }
            return Ok(());
        }
        (_, "archive-strict") => return Ok(()),
        ("zip", _) => {
            let out = t.path().join("out");
            refuses(
                jcrpack().arg("unpack").arg(&src).arg(&out),
                &c.expect,
                "unpack",
            )?;
            (src.clone(), false)
        }
        ("docview", kind) => (
            package_with(t.path(), "jcr_root/content/x/y/.content.xml", &bytes),
            kind == "accept",
        ),
        ("filter", kind) => (
            package_with(t.path(), "META-INF/vault/filter.xml", &bytes),
            kind == "accept",
        ),
        ("cnd", _) => (
            package_with(t.path(), "META-INF/vault/nodetypes.cnd", &bytes),
            false,
        ),
        ("properties", _) => (
            package_with(t.path(), "META-INF/vault/properties.xml", &bytes),
            false,
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
        if start.elapsed().as_secs() > 60 {
            return Err(format!("accept case took {:?}", start.elapsed()));
        }
        return Ok(());
    }
    // Through a package, a file-level message names the package entry, not the case file.
    let expect = if c.expect == c.file {
        String::new()
    } else {
        c.expect.clone()
    };
    let is_zip = c.file.starts_with("zip/");
    let result = refuses(
        jcrpack().arg("import").arg(&pkg).arg("--repo").arg(&repo),
        &expect,
        "import",
    );
    // An attack on an entry that the filter discards is never read, as in FileVault:
    // such an install applies nothing and may succeed.
    if let Err(e) = result {
        if !(is_zip && e.contains("exit Some(0)")) {
            return Err(e);
        }
    }
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
    Ok(())
}

#[test]
fn commands_refuse_every_hostile_case() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() > 40);
    for c in &all {
        if let Err(e) = check(c) {
            failures.push(format!("{}: {e}", c.file));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
