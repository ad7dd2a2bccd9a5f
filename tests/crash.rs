//! All-or-nothing installs: a broken entry near the end of a large package, and a
//! process killed with SIGKILL at moments spread over a large install, both leave the
//! repository exactly as it was (or, if the kill came after the commit, fully applied).
//! Also: a dry run reports exactly what the real install then does.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("jcrpack")
}

fn jcrpack() -> Command {
    let mut c = Command::new(bin());
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn dump(repo: &Path) -> String {
    let out = jcrpack()
        .args(["dump", "--repo"])
        .arg(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A package folder with `pages` pages of a few nodes each below /content/big.
fn big_package(dir: &Path, pages: usize, broken_last: bool) -> PathBuf {
    let p = dir.join("big");
    let w = |rel: &str, text: &str| {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    w(
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/big\"/></workspaceFilter>",
    );
    w(
        "jcr_root/content/big/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    );
    for i in 0..pages {
        let body = if broken_last && i == pages - 1 {
            "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" jcr:primaryType=\"nt:unstructured\"><unclosed>".to_string()
        } else {
            format!(
                r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="page {i}" n="{{Long}}{i}"><a jcr:primaryType="nt:unstructured" x="1"><b jcr:primaryType="nt:unstructured" y="[p,q]"/></a><c jcr:primaryType="nt:unstructured"/></jcr:root>"#
            )
        };
        w(&format!("jcr_root/content/big/p{i:05}/.content.xml"), &body);
    }
    p
}

fn seeded_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    let pre = dir.join("pre.xml");
    std::fs::write(&pre, r#"<content xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><big jcr:primaryType="nt:unstructured" old="yes"><keep jcr:primaryType="nt:unstructured"/></big></content>"#).unwrap();
    jcrpack()
        .arg("load")
        .arg(&pre)
        .args(["--at", "/", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    repo
}

#[test]
fn a_broken_entry_near_the_end_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded_repo(t.path());
    let before = dump(&repo);
    let pkg = big_package(t.path(), 300, true);
    let out = jcrpack()
        .arg("import")
        .arg(&pkg)
        .arg("--repo")
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p00299/.content.xml:1:"));
    assert_eq!(dump(&repo), before);
}

#[test]
fn dry_run_reports_what_the_install_does() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded_repo(t.path());
    let pkg = big_package(t.path(), 20, false);
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = jcrpack()
            .arg("import")
            .arg(&pkg)
            .arg("--repo")
            .arg(&repo)
            .arg("--json")
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("dry_run");
        v.as_object_mut().unwrap().remove("operation");
        v
    };
    let dry = run(&["--dry-run"]);
    let real = run(&[]);
    assert_eq!(dry, real);
    assert!(
        real["totals"]["deleted"].as_u64().unwrap() >= 1,
        "the pre-state child 'keep' goes"
    );
}

#[test]
fn sigkill_during_an_install_leaves_before_or_after() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded_repo(t.path());
    let before = dump(&repo);
    let pkg = big_package(t.path(), 1500, false);
    // The after state and how long a full install takes, on a copy.
    let copy = t.path().join("copy");
    jcrpack().arg("init").arg(&copy).assert().success();
    let pre = t.path().join("pre.xml");
    jcrpack()
        .arg("load")
        .arg(&pre)
        .args(["--at", "/", "--repo"])
        .arg(&copy)
        .assert()
        .success();
    let start = Instant::now();
    jcrpack()
        .arg("import")
        .arg(&pkg)
        .arg("--repo")
        .arg(&copy)
        .assert()
        .success();
    let full = start.elapsed();
    let after = dump(&copy);
    let moments = 12u32;
    let mut killed = 0;
    for k in 0..moments {
        let delay = full.mul_f64((k as f64 + 0.5) / moments as f64);
        let mut child = std::process::Command::new(bin())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg("import")
            .arg(&pkg)
            .arg("--repo")
            .arg(&repo)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            killed += 1;
        }
        child.wait().unwrap();
        let now = dump(&repo);
        if now == after {
            // The kill came after the commit: undo to get back to the before state.
            jcrpack()
                .args(["undo", "--repo"])
                .arg(&repo)
                .assert()
                .success();
            assert_eq!(dump(&repo), before, "undo after moment {k}");
        } else {
            assert_eq!(now, before, "moment {k} ({delay:?}) left a partial install");
        }
    }
    assert!(
        killed >= moments / 2,
        "only {killed} kills landed during the install ({full:?})"
    );
}
