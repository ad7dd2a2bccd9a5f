//! `jcrpack serve` against real clients (issue 21, "Tests with real clients"):
//! Adobe's `repo put`/`repo get` as its five curl calls (the script's own lines,
//! `repo/repo` l.389-421 of Adobe-Marketing-Cloud/tools, with its `"success":true`
//! check), aemsync (npm) pushing a changed file of a real source folder from the
//! shared corpus, and pyaem2 (PyPI) uploading, installing, listing and downloading.
//!
//! `.ci/run` installs aemsync and pyaem2 into a folder it names in
//! `JCRPACK_SERVE_CLIENTS` (`npm/node_modules/aemsync`, `py/bin/python` with
//! pyaem2). A test whose client is missing fails, naming it and how to install it.

mod serve_packmgr_support;

use serve_packmgr_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn clients() -> PathBuf {
    match std::env::var_os("JCRPACK_SERVE_CLIENTS") {
        Some(d) => PathBuf::from(d),
        None => panic!(
            "JCRPACK_SERVE_CLIENTS is not set: it names the folder where .ci/run installs the \
             real Package Manager clients (npm install --prefix DIR/npm aemsync@4.0.3; \
             python3 -m venv DIR/py && DIR/py/bin/pip install pyaem2 six)"
        ),
    }
}

fn corpus() -> PathBuf {
    let base = std::env::var_os("JCRPACK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        base.join("real").is_dir(),
        "the shared corpus is missing: {} (set JCRPACK_CORPUS)",
        base.display()
    );
    base
}

fn need(tool: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{tool} is not installed; this test runs it as the client does"
    );
}

/// `curl -u admin:admin -f -s -S ARGS`: the script's flags; returns stdout, and
/// fails the test when curl fails (as `-f` makes the script stop).
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-u", "admin:admin", "-f", "-s", "-S"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The script's check: `[[ $out != *\"success\":true* ]]` fails.
fn repo_check(out: &str) {
    assert!(out.contains("\"success\":true"), "repo would fail: {out}");
}

#[test]
fn curl_repo_put_and_get_verbatim() {
    need("curl");
    let srv = Server::start(&[]);
    let server = srv.base();
    let tmp = tempfile::tempdir().unwrap();
    // repo put /apps/probe/comp: the package the script zips.
    let pkg = "tmp/repo/repo-apps-probe-comp-1796400000.zip";
    let zip = package(
        "tmp/repo",
        "repo-apps-probe-comp-1796400000",
        "",
        &["/apps/probe/comp"],
        &[(
            "jcr_root/apps/probe/comp/.content.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" jcr:primaryType=\"nt:unstructured\" title=\"put\"/>\n",
        )],
    );
    let zip_path = tmp.path().join("pkg.zip");
    std::fs::write(&zip_path, zip).unwrap();
    let out = curl(&[
        "-F",
        &format!("package=@{}", s(&zip_path)),
        "-F",
        "force=true",
        &format!("{server}/crx/packmgr/service/.json?cmd=upload"),
    ]);
    repo_check(&out);
    let out = curl(&[
        "-X",
        "POST",
        &format!("{server}/crx/packmgr/service/.json/etc/packages/{pkg}?cmd=install"),
    ]);
    repo_check(&out);
    let d = dump(srv.repo(), "/apps/probe/comp").expect("put installed the node");
    assert!(
        d.contains("\"title\": {\"type\":\"String\",\"value\":\"put\"}"),
        "{d}"
    );
    let out = curl(&[
        "-X",
        "POST",
        &format!("{server}/crx/packmgr/service/.json/etc/packages/{pkg}?cmd=delete"),
    ]);
    repo_check(&out);

    // repo get /apps/probe/comp: a definition-only package with the stray .excludes.
    let pkg = "tmp/repo/repo-apps-probe-comp-1796400001.zip";
    let mut def = package(
        "tmp/repo",
        "repo-apps-probe-comp-1796400001",
        "",
        &["/apps/probe/comp"],
        &[],
    );
    {
        let mut z = zip::ZipWriter::new_append(std::io::Cursor::new(&mut def)).unwrap();
        z.start_file(".excludes", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.finish().unwrap();
    }
    std::fs::write(&zip_path, def).unwrap();
    repo_check(&curl(&[
        "-F",
        &format!("package=@{}", s(&zip_path)),
        "-F",
        "force=true",
        &format!("{server}/crx/packmgr/service/.json?cmd=upload"),
    ]));
    repo_check(&curl(&[
        "-X",
        "POST",
        &format!("{server}/crx/packmgr/service/.json/etc/packages/{pkg}?cmd=build"),
    ]));
    let got = tmp.path().join("got.zip");
    curl(&["-o", s(&got), &format!("{server}/etc/packages/{pkg}")]);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&got).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    // The node, wherever the exporter's aggregation put it (FileVault keeps a
    // childless nt:unstructured in its parent's .content.xml).
    let mut xml = String::new();
    for n in names.iter().filter(|n| n.ends_with(".content.xml")) {
        std::io::Read::read_to_string(&mut z.by_name(n).unwrap(), &mut xml).unwrap();
    }
    assert!(xml.contains("title=\"put\""), "{xml}");
    repo_check(&curl(&[
        "-X",
        "POST",
        &format!("{server}/crx/packmgr/service/.json/etc/packages/{pkg}?cmd=delete"),
    ]));
}

#[test]
fn aemsync_pushes_a_changed_file_of_a_real_source_folder() {
    let dir = clients();
    let bin = dir.join("npm/node_modules/aemsync/bin/aemsync");
    assert!(
        bin.is_file(),
        "aemsync is not installed in {} (npm install --prefix {}/npm aemsync@4.0.3)",
        dir.display(),
        dir.display()
    );
    need("node");
    let srv = Server::start(&[]);
    let src = corpus().join("real/adobe+aem-guides-wknd/ui.apps/src/main/content/jcr_root");
    assert!(src.is_dir(), "{} is missing from the corpus", src.display());
    // A working copy of the source folder, one file changed.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("ui.apps/jcr_root");
    let comp = "apps/wknd/components/byline";
    std::fs::create_dir_all(root.join(comp)).unwrap();
    for entry in walkdir::WalkDir::new(src.join(comp)) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&src).unwrap();
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(root.join(rel)).unwrap();
        } else {
            std::fs::copy(entry.path(), root.join(rel)).unwrap();
        }
    }
    let file = root.join(comp).join("byline.html");
    let mut html = std::fs::read_to_string(&file).unwrap();
    html.push_str("<!-- changed by the aemsync test -->\n");
    std::fs::write(&file, &html).unwrap();
    let out = Command::new("node")
        .arg(&bin)
        .args(["-t", &format!("http://admin:admin@{}", srv.addr)])
        .arg("-p")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // aemsync exits 0 either way: its verdict is the `TARGET > OK` line.
    assert!(
        stdout.contains(&format!("http://admin:admin@{}", srv.addr)) && stdout.contains("OK"),
        "aemsync did not report OK: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("Unexpected response text format"),
        "{stdout}"
    );
    // The changed file is in the repository, with the change.
    let d = dump(srv.repo(), &format!("/{comp}/byline.html/jcr:content")).expect("pushed");
    let sha = {
        use sha2::Digest;
        let h = sha2::Sha256::digest(html.as_bytes());
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert!(
        d.contains(&sha),
        "the pushed content is not the changed file: {d}"
    );
    // The package is kept where AEM keeps aemsync's.
    assert!(dump(srv.repo(), "/etc/packages/aemsync/aemsync.zip").is_some());
}

#[test]
fn pyaem2_uploads_installs_lists_and_downloads() {
    let dir = clients();
    let python = dir.join("py/bin/python");
    let ok = python.is_file()
        && Command::new(&python)
            .args(["-c", "import pyaem2"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "pyaem2 is not installed in {} (python3 -m venv {0}/py && {0}/py/bin/pip install pyaem2 six)",
        dir.display()
    );
    let srv = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let zip = package(
        "pygroup",
        "pypkg",
        "1.2",
        &["/content/py"],
        &[("jcr_root/content/py/page.txt", "from pyaem2\n")],
    );
    std::fs::write(work.path().join("pypkg-1.2.zip"), &zip).unwrap();
    let (host, port) = srv.addr.split_once(':').unwrap();
    let script = format!(
        r#"
import sys, pyaem2
aem = pyaem2.PyAem2('admin', 'admin', '{host}', {port})
def check(name, r, want=True):
    print(name, r.is_success(), r.message)
    if r.is_success() != want:
        sys.exit(name + ' failed: ' + str(r.message))
check('uploaded-before', aem.is_package_uploaded('pygroup', 'pypkg', '1.2'), False)
check('upload', aem.upload_package('pygroup', 'pypkg', '1.2', '{dir}'))
check('uploaded', aem.is_package_uploaded('pygroup', 'pypkg', '1.2'))
check('installed-before', aem.is_package_installed('pygroup', 'pypkg', '1.2'), False)
check('install', aem.install_package('pygroup', 'pypkg', '1.2'))
check('installed', aem.is_package_installed('pygroup', 'pypkg', '1.2'))
check('build', aem.build_package('pygroup', 'pypkg', '1.2'))
check('download', aem.download_package('pygroup', 'pypkg', '1.2', '{dir}/out'))
"#,
        dir = s(work.path())
    );
    std::fs::create_dir_all(work.path().join("out")).unwrap();
    let out = Command::new(&python)
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyaem2: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dump(srv.repo(), "/content/py/page.txt").is_some());
    let got = std::fs::read(work.path().join("out/pypkg-1.2.zip")).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(got)).unwrap();
    assert!(z.by_name("jcr_root/content/py/page.txt").is_ok());
}
