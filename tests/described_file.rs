//! A described file (`foo.ext` beside `foo.ext.dir/.content.xml`, as a DAM
//! asset's `renditions/original`) whose bytes change: every report of the install
//! (the summary, `-v`, `--json`, the Package Manager's log) says its `jcr:content`
//! was updated, once, as FileVault's import info does, whether the install walks
//! everything or skips what is unchanged; the same bytes again say nothing changed.

mod common;
mod serve_packmgr_support;

use std::path::{Path, PathBuf};

/// A generated package's source, the package built from it, where repositories
/// go, and one `renditions/original` file: its source file and the path of its
/// `jcr:content`.
struct Setup {
    _dir: tempfile::TempDir,
    src: PathBuf,
    pkg: PathBuf,
    repo: PathBuf,
    original: PathBuf,
    content: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let pkg = dir.path().join("a.zip");
    common::jcrpack()
        .args(["-q", "generate", "--nodes", "300", "--seed", "1", "-o"])
        .arg(&src)
        .assert()
        .success();
    build(&src, &pkg);
    let repo = dir.path().join("repo");
    let original = walkdir::WalkDir::new(src.join("jcr_root"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .find(|p| p.ends_with("renditions/original"))
        .expect("the generated package has a renditions/original");
    let rel = original.strip_prefix(src.join("jcr_root")).unwrap();
    // The folder names are FileVault's escaped ones (`_jcr_content`, `%25`).
    let path = format!("/{}", rel.to_str().unwrap())
        .replace("_jcr_content", "jcr:content")
        .replace("%25", "%");
    Setup {
        _dir: dir,
        src,
        pkg,
        repo,
        original,
        content: format!("{path}/jcr:content"),
    }
}

fn build(src: &Path, pkg: &Path) {
    common::jcrpack()
        .args(["-q", "build"])
        .arg(src)
        .arg("-o")
        .arg(pkg)
        .assert()
        .success();
}

fn stdout(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.success().get_output().stdout.clone()).unwrap()
}

/// The `-v` lines of an install that are not `-`.
fn changed_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.len() > 2 && l.as_bytes()[1] == b' ' && !l.starts_with("- "))
        .collect()
}

#[test]
fn a_described_files_changed_bytes_are_reported_by_every_install_and_output() {
    let s = setup();
    let mut bytes = std::fs::read(&s.original).unwrap();
    bytes.extend_from_slice(b"appended");
    std::fs::write(&s.original, bytes).unwrap();
    let changed = s.pkg.with_file_name("b.zip");
    build(&s.src, &changed);
    // A repository of its own for each install, holding the first package.
    let copy = |name: &str| {
        let repo = s.repo.with_file_name(name);
        common::jcrpack().arg("init").arg(&repo).assert().success();
        common::import(&repo, &s.pkg, &[]).success();
        repo
    };
    let want = [format!("U {}", s.content)];
    for walk in [&["--no-skip-unchanged"][..], &[]] {
        let (plain, verbose, json) = (copy("plain"), copy("verbose"), copy("json"));
        // The summary goes to stderr (the lines to a pipe, as with -v).
        let out = common::import(&plain, &changed, walk).success();
        let summary = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            summary.contains(": 0 added, 1 updated, 0 replaced,"),
            "{walk:?} {summary}"
        );
        let out = stdout(common::import(
            &verbose,
            &changed,
            &[&["-v"], walk].concat(),
        ));
        assert_eq!(changed_lines(&out), want, "{walk:?}");
        assert_eq!(
            out.matches(&format!(" {}\n", s.content)).count(),
            1,
            "{out}"
        );
        let out = stdout(common::import(
            &json,
            &changed,
            &[&["--json"], walk].concat(),
        ));
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["totals"]["updated"], 1, "{walk:?} {doc}");
        let lines: Vec<&serde_json::Value> = doc["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["path"] == s.content.as_str())
            .collect();
        assert_eq!(lines.len(), 1, "{walk:?} {doc}");
        assert_eq!(lines[0]["action"], "updated");
        // The same bytes again: nothing changed.
        let again = common::import(&verbose, &changed, &["-v", "--no-skip-unchanged"]).success();
        let (lines, summary) = (&again.get_output().stdout, &again.get_output().stderr);
        let lines = String::from_utf8_lossy(lines);
        assert_eq!(changed_lines(&lines), Vec::<&str>::new(), "{walk:?}");
        let summary = String::from_utf8_lossy(summary);
        assert!(
            summary.contains(": 0 added, 0 updated, 0 replaced,"),
            "{summary}"
        );
        for repo in [plain, verbose, json] {
            std::fs::remove_dir_all(repo).unwrap();
        }
    }
}

/// The Package Manager's install log is the same import's lines: the resource of
/// the described file whose bytes changed is `U`, its file node `-`.
#[test]
fn the_package_managers_log_reports_a_described_files_changed_bytes() {
    use serve_packmgr_support::*;
    let srv = Server::start(&[]);
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" jcr:primaryType="nt:file"><jcr:content jcr:primaryType="nt:resource" jcr:mimeType="text/plain"/></jcr:root>"#;
    let zip = |data: &str| {
        package(
            "g",
            "f",
            "1",
            &["/apps/f"],
            &[
                ("jcr_root/apps/f/a.txt", data),
                ("jcr_root/apps/f/a.txt.dir/.content.xml", doc),
            ],
        )
    };
    let install = |data: &str| {
        let r = jsp_upload(&srv.addr, ADMIN, &zip(data), &[("force", b"true")]);
        assert!(
            r.text().contains("<status code=\"200\">ok</status>"),
            "{}",
            r.text()
        );
        request(
            &srv.addr,
            "POST",
            "/crx/packmgr/service/.html/etc/packages/g/f-1.zip?cmd=install",
            ADMIN,
            b"",
        )
        .text()
    };
    let line = |letter: &str, path: &str| {
        format!("<span class=\"{letter}\"><b>{letter}</b>&nbsp;{path}</span>")
    };
    let (file, content) = ("/apps/f/a.txt", "/apps/f/a.txt/jcr:content");
    install("one");
    let same = install("one");
    assert!(same.contains(&line("-", content)), "{same}");
    let changed = install("two");
    assert!(changed.contains(&line("-", file)), "{changed}");
    assert!(changed.contains(&line("U", content)), "{changed}");
    assert_eq!(
        changed.matches(&format!("&nbsp;{content}<")).count(),
        1,
        "{changed}"
    );
}
