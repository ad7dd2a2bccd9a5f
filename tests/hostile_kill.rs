//! A killed install leaves no temporary files behind (issue 15, class 6): the copy of
//! a sub package and the install report's spill file are unlinked when created, so
//! SIGKILL in the middle of an install leaves the temporary folder as it was.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const JCR: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0""#;

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The files of `dir`, recursively.
fn files(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| e.unwrap().path().display().to_string())
        .collect()
}

/// The descriptors of process `pid` that point into `dir` (an unlinked file shows
/// as `DIR/#123 (deleted)` or `DIR/.tmpXXXX (deleted)`).
fn open_in(pid: u32, dir: &Path) -> Vec<String> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|t| t.display().to_string())
        .filter(|t| t.starts_with(&dir.display().to_string()))
        .collect()
}

#[test]
fn sigkill_during_a_sub_package_install_leaves_no_temporary_file() {
    let t = tempfile::tempdir().unwrap();
    let tmp = t.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // A sub package of 40,000 nodes: long enough to be killed while its copy is
    // open, and past the 16,384 report entries that spill to a file.
    let siblings: String = (0..40_000)
        .map(|i| format!(r#"<n{i} jcr:primaryType="nt:unstructured"/>"#))
        .collect();
    let content =
        format!(r#"<jcr:root {JCR} jcr:primaryType="nt:unstructured">{siblings}</jcr:root>"#);
    let sub = zip_bytes(&[
        (
            "META-INF/vault/filter.xml",
            br#"<workspaceFilter version="1.0"><filter root="/content/big"/></workspaceFilter>"#,
        ),
        ("jcr_root/content/big/.content.xml", content.as_bytes()),
    ]);
    let outer = zip_bytes(&[
        (
            "META-INF/vault/filter.xml",
            br#"<workspaceFilter version="1.0"><filter root="/etc/packages/t"/></workspaceFilter>"#,
        ),
        ("jcr_root/etc/packages/t/sub.zip", &sub),
    ]);
    std::fs::write(t.path().join("outer.zip"), outer).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("jcrpack");
    let repo = t.path().join("repo");
    let st = std::process::Command::new(&bin)
        .arg("init")
        .arg(&repo)
        .status()
        .unwrap();
    assert!(st.success());
    let mut child = std::process::Command::new(&bin)
        .args(["import", "outer.zip", "--repo", "repo", "-q"])
        .current_dir(t.path())
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(60) {
        // SQLite's own temporary files (`etilqs_*`) do not count: jcrpack's are
        // sought.
        seen = open_in(pid, &tmp);
        seen.retain(|f| !f.contains("etilqs_"));
        if !seen.is_empty() || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        !seen.is_empty(),
        "the install ended (or 60 s passed) before a temporary file was seen open: \
         the test did not kill it mid-install"
    );
    // SAFETY: kill sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, yet {status:?}");
    eprintln!("killed with open temporary files {seen:?}");
    assert!(
        seen.iter().all(|f| f.ends_with("(deleted)")),
        "a temporary file had a name while open: {seen:?}"
    );
    assert_eq!(files(&tmp), Vec::<String>::new(), "left behind");
    // The repository is as it was: the next command finds nothing installed.
    let out = std::process::Command::new(&bin)
        .args(["ls", "/content", "--repo", "repo"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("big"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
