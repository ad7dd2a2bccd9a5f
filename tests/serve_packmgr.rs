//! `jcrpack serve`: the recorded request/response vectors of
//! `shared/reference/packmgr-api.md` §4 (V1–V8), replayed byte for byte over a raw
//! socket (dates and durations masked as the reference writes them: `{ts}`, `{N}`),
//! and the content checked with `jcrpack` itself.

mod serve_packmgr_support;

use serve_packmgr_support::*;

const BOUNDARY: &str = "--------------------------09e7bd66850864d9ef6dcb6d";

fn aemsync_zip() -> Vec<u8> {
    package(
        "aemsync",
        "aemsync",
        "",
        &["/apps/probe/comp"],
        &[("jcr_root/apps/probe/comp/file.txt", "hello\n")],
    )
}

fn upload_json(srv: &Server, target: &str, zip: &[u8], extra: &[(&str, &str)]) -> Response {
    let mut parts: Vec<(&str, Option<&str>, Option<&str>, &[u8])> = vec![(
        "package",
        Some("pkg.zip"),
        Some("application/octet-stream"),
        zip,
    )];
    for (k, v) in extra {
        parts.push((k, None, None, v.as_bytes()));
    }
    let body = multipart("xyz", &parts);
    request(
        &srv.addr,
        "POST",
        target,
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=xyz\r\n"),
        &body,
    )
}

/// V1: aemsync's push, chunked, with `cmd` absent and the file in part `file`.
#[test]
fn v1_aemsync_push_is_answered_as_crx_does() {
    let srv = Server::start(&[]);
    let zip = aemsync_zip();
    let body = multipart(
        BOUNDARY,
        &[
            ("file", Some("aemsync.zip"), Some("application/zip"), &zip),
            ("force", None, None, b"true"),
            ("install", None, None, b"true"),
        ],
    );
    let mut req = format!(
        "POST /crx/packmgr/service.jsp HTTP/1.1\r\nHost: {}\r\n{ADMIN}User-Agent: node-fetch/1.0 (+https://github.com/bitinn/node-fetch)\r\nContent-Type: multipart/form-data;boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        srv.addr
    )
    .into_bytes();
    req.extend_from_slice(&chunked(&body, 1000));
    let r = raw(&srv.addr, &req);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<crx version=\"jcrpack-0.1\" user=\"admin\" workspace=\"crx.default\"><request><param name=\"file\" value=\"aemsync.zip\"/><param name=\"force\" value=\"true\"/><param name=\"install\" value=\"true\"/></request><response><data><package><group>aemsync</group><name>aemsync</name><version></version><downloadName>aemsync.zip</downloadName><size>{}</size><created>{{ts}}</created><createdBy>admin</createdBy><lastModified></lastModified><lastModifiedBy>null</lastModifiedBy><lastUnpacked>{{ts}}</lastUnpacked><lastUnpackedBy>admin</lastUnpackedBy></package><log>Installing content\nCollecting import information...\nInstalling node types...\nInstalling privileges...\nImporting content...\nA /apps\nA /apps/probe\nA /apps/probe/comp\nA /apps/probe/comp/file.txt\nsaving approx 4 nodes...\nPackage imported.\nPackage installed in {{N}}ms.\n</log></data><status code=\"200\">ok</status></response></crx>",
        zip.len()
    );
    assert_eq!(mask(&r.text()), expected);
    let node = dump(srv.repo(), "/apps/probe/comp/file.txt").expect("installed");
    assert!(node.contains("nt:file"), "{node}");
    assert!(dump(srv.repo(), "/etc/packages/aemsync/aemsync.zip").is_some());
}

/// V1-err: a node that fails gives an `E` line and a non-200 status, so that
/// aemsync prints the error; nothing is installed.
#[test]
fn v1_a_failing_install_is_an_e_line_and_nothing_changes() {
    let srv = Server::start(&[]);
    // A .content.xml that is not XML.
    let zip = package(
        "aemsync",
        "aemsync",
        "",
        &["/apps/probe/comp"],
        &[
            ("jcr_root/apps/probe/comp/ok.txt", "fine\n"),
            ("jcr_root/apps/probe/comp/x/.content.xml", "<jcr:root oops"),
        ],
    );
    let body = multipart(
        BOUNDARY,
        &[
            ("file", Some("aemsync.zip"), Some("application/zip"), &zip),
            ("force", None, None, b"true"),
            ("install", None, None, b"true"),
        ],
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service.jsp",
        &format!("{ADMIN}Content-Type: multipart/form-data;boundary={BOUNDARY}\r\n"),
        &body,
    );
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("<log>"), "{t}");
    assert!(
        t.lines().any(|l| l.starts_with("E /apps/probe/comp/x")),
        "{t}"
    );
    assert!(
        t.contains(
            "<status code=\"500\">Package installation failed, nothing was changed</status>"
        ),
        "{t}"
    );
    assert!(!t.contains("CDATA"));
    // No non-error line starts with E.
    let log = &t[t.find("<log>").unwrap() + 5..t.find("</log>").unwrap()];
    for l in log.lines() {
        assert!(!l.starts_with('E') || l.starts_with("E /"), "{l}");
    }
    assert!(dump(srv.repo(), "/apps/probe/comp/ok.txt").is_none());
    // The upload itself is kept (uploaded, not installed).
    let ls = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/service.jsp?cmd=ls",
        ADMIN,
        b"",
    );
    assert!(
        ls.text().contains("<lastUnpackedBy>null</lastUnpackedBy>"),
        "{}",
        ls.text()
    );
}

/// V2: Adobe's `repo put`: upload (`?cmd=upload`, part `package`, `force`), install,
/// delete, by the installation path the script computes itself.
#[test]
fn v2_repo_put() {
    let srv = Server::start(&[]);
    let zip = package(
        "tmp/repo",
        "repo-apps-probe-comp-1796400000",
        "",
        &["/apps/probe/comp"],
        &[("jcr_root/apps/probe/comp/file.txt", "put\n")],
    );
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        &zip,
        &[("force", "true")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package uploaded","path":"/etc/packages/tmp/repo/repo-apps-probe-comp-1796400000.zip"}"#
    );
    let p = "/crx/packmgr/service/.json/etc/packages/tmp/repo/repo-apps-probe-comp-1796400000.zip";
    let r = request(&srv.addr, "POST", &format!("{p}?cmd=install"), ADMIN, b"");
    assert_eq!(r.text(), r#"{"success":true,"msg":"Package installed"}"#);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(dump(srv.repo(), "/apps/probe/comp/file.txt").is_some());
    let r = request(&srv.addr, "POST", &format!("{p}?cmd=delete"), ADMIN, b"");
    assert_eq!(r.text(), r#"{"success":true,"msg":"Package deleted"}"#);
    assert!(dump(
        srv.repo(),
        "/etc/packages/tmp/repo/repo-apps-probe-comp-1796400000.zip"
    )
    .is_none());
    // The content stays, as in AEM.
    assert!(dump(srv.repo(), "/apps/probe/comp/file.txt").is_some());
}

/// V3: `repo get`: a definition-only package (empty `jcr_root/`, a stray
/// `.excludes`) is built from the repository and downloaded.
#[test]
fn v3_repo_get_builds_and_downloads() {
    let srv = Server::start(&[]);
    let content = package(
        "x",
        "content",
        "1",
        &["/apps/probe/comp"],
        &[("jcr_root/apps/probe/comp/file.txt", "from the repository\n")],
    );
    upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        &content,
        &[("force", "true"), ("install", "true")],
    );
    assert!(dump(srv.repo(), "/apps/probe/comp/file.txt").is_some());
    let mut def = package("tmp/repo", "repo-get-1", "", &["/apps/probe/comp"], &[]);
    // A stray root entry as the script writes it.
    {
        let mut z = zip::ZipWriter::new_append(std::io::Cursor::new(&mut def)).unwrap();
        z.start_file(".excludes", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, b"").unwrap();
        z.finish().unwrap();
    }
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        &def,
        &[("force", "true")],
    );
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package uploaded","path":"/etc/packages/tmp/repo/repo-get-1.zip"}"#
    );
    let p = "/etc/packages/tmp/repo/repo-get-1.zip";
    let r = request(
        &srv.addr,
        "POST",
        &format!("/crx/packmgr/service/.json{p}?cmd=build"),
        ADMIN,
        b"",
    );
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package built","path":"/etc/packages/tmp/repo/repo-get-1.zip"}"#
    );
    let r = request(&srv.addr, "GET", p, ADMIN, b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/zip"));
    let zip = zip::ZipArchive::new(std::io::Cursor::new(r.body)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert!(
        names.contains(&"jcr_root/apps/probe/comp/file.txt"),
        "{names:?}"
    );
    assert!(names.contains(&"META-INF/vault/filter.xml"), "{names:?}");
    assert!(
        names.contains(&"META-INF/vault/properties.xml"),
        "{names:?}"
    );
    let r = request(
        &srv.addr,
        "POST",
        &format!("/crx/packmgr/service/.json{p}?cmd=delete"),
        ADMIN,
        b"",
    );
    assert!(r.text().contains("\"success\":true"));
}

/// V4: conflicts and bad input are HTTP 200 with `success:false` and AEM's texts.
#[test]
fn v4_package_errors_are_200_with_success_false() {
    let srv = Server::start(&[]);
    let zip = package(
        "tmp/repo",
        "dup",
        "",
        &["/apps/a"],
        &[("jcr_root/apps/a/f.txt", "x")],
    );
    upload_json(&srv, "/crx/packmgr/service/.json?cmd=upload", &zip, &[]);
    let r = upload_json(&srv, "/crx/packmgr/service/.json?cmd=upload", &zip, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"success":false,"msg":"Package already exists: /etc/packages/tmp/repo/dup.zip"}"#
    );
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        &zip,
        &[("force", "false")],
    );
    assert!(r
        .text()
        .starts_with(r#"{"success":false,"msg":"Package already exists"#));
    // Without jcr_root.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(
            "META-INF/vault/filter.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut z, b"<workspaceFilter/>").unwrap();
        z.finish().unwrap();
    }
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        buf.get_ref(),
        &[],
    );
    assert_eq!(
        r.text(),
        r#"{"success":false,"msg":"Zip File is not a content package. Missing 'jcr_root'."}"#
    );
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        b"not a zip at all",
        &[],
    );
    assert_eq!(
        r.text(),
        r#"{"success":false,"msg":"error in opening zip file"}"#
    );
    for cmd in ["install", "build", "delete"] {
        let r = request(
            &srv.addr,
            "POST",
            &format!("/crx/packmgr/service/.json/etc/packages/no/such.zip?cmd={cmd}"),
            ADMIN,
            b"",
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), r#"{"success":false,"msg":"no package"}"#, "{cmd}");
    }
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/tmp/repo/dup.zip?cmd=uninstall",
        ADMIN,
        b"",
    );
    assert_eq!(
        r.text(),
        r#"{"success":false,"msg":"org.apache.jackrabbit.vault.packaging.PackageException: Unable to uninstall package. No snapshot present."}"#
    );
}

/// V5: the wcm.io Maven plugin: readiness checks, upload, `console.html` install.
#[test]
fn v5_wcmio_maven_plugin() {
    let srv = Server::start(&[]);
    let r = request(
        &srv.addr,
        "GET",
        "/system/console/bundles/.json",
        ADMIN,
        b"",
    );
    assert_eq!(
        r.text(),
        format!(
            r#"{{"status":"Bundle information: 1 bundle in total - all 1 bundles active.","s":[1,1,0,0,0],"data":[{{"id":0,"name":"jcrpack","symbolicName":"jcrpack","version":"{}","stateRaw":32,"state":"Active","fragment":false}}]}}"#,
            env!("CARGO_PKG_VERSION")
        )
    );
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/installstatus.jsp",
        ADMIN,
        b"",
    );
    assert_eq!(r.text(), r#"{"status":{"finished":true,"itemCount":0}}"#);
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/service.jsp?cmd=help",
        ADMIN,
        b"",
    );
    assert_eq!(r.status, 200);
    let zip = package(
        "my-group",
        "my-pkg",
        "1.0.0-SNAPSHOT",
        &["/apps/my"],
        &[("jcr_root/apps/my/f.txt", "x")],
    );
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        &zip,
        &[("force", "true")],
    );
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package uploaded","path":"/etc/packages/my-group/my-pkg-1.0.0-SNAPSHOT.zip"}"#
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/console.html/etc/packages/my-group/my-pkg-1.0.0-SNAPSHOT.zip?cmd=install&recursive=true",
        ADMIN,
        b"",
    );
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(
        t.contains("\r\n<body><h2>Installing content</h2><div>"),
        "{t}"
    );
    assert!(
        t.contains("<span class=\"Package imported.\"><b>Package imported.</b>&nbsp;</span><br>\r\n</div><br>Package installed in "),
        "{t}"
    );
    assert!(!t.contains("Error during processing."));
    assert!(
        t.contains("<span class=\"A\"><b>A</b>&nbsp;/apps/my/f.txt</span><br>\r\n"),
        "{t}"
    );
    let r = request(&srv.addr, "GET", "/systemready", ADMIN, b"");
    assert_eq!(r.status, 404);
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", ADMIN, b"");
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["total"], 1);
    assert!(v["results"][0]["lastUnpacked"].as_i64().unwrap() > 0);
}

/// V6: gradle-aem-plugin: `.json/` upload, `.html…/` install, uninstall, delete.
#[test]
fn v6_gradle_aem_plugin() {
    let srv = Server::start(&[]);
    let zip = package(
        "my-group",
        "my-pkg",
        "1.0.0",
        &["/apps/my"],
        &[("jcr_root/apps/my/f.txt", "x")],
    );
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json/?cmd=upload",
        &zip,
        &[("force", "true")],
    );
    assert!(r.text().contains(r#""success":true"#), "{}", r.text());
    let p = "/crx/packmgr/service/.html/etc/packages/my-group/my-pkg-1.0.0.zip/";
    let body = multipart("b0", &[("recursive", None, None, b"true")]);
    let r = request(
        &srv.addr,
        "POST",
        &format!("{p}?cmd=install"),
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=b0\r\n"),
        &body,
    );
    assert!(
        r.text().contains(
            "<span class=\"Package imported.\"><b>Package imported.</b>&nbsp;</span><br>"
        ),
        "{}",
        r.text()
    );
    assert!(dump(srv.repo(), "/apps/my/f.txt").is_some());
    let r = request(&srv.addr, "POST", &format!("{p}?cmd=uninstall"), ADMIN, b"");
    assert!(
        r.text()
            .contains("<span class=\"Uninstalling package from snapshot my-group:my-pkg:1.0.0\">"),
        "{}",
        r.text()
    );
    // Uninstall is the undo of the install: the content is gone.
    assert!(dump(srv.repo(), "/apps/my/f.txt").is_none());
    let r = request(&srv.addr, "POST", &format!("{p}?cmd=uninstall"), ADMIN, b"");
    assert!(
        r.text()
            .contains("<span class=\"Unable to revert package content. Snapshot missing."),
        "{}",
        r.text()
    );
    let r = request(&srv.addr, "POST", &format!("{p}?cmd=delete"), ADMIN, b"");
    assert!(r.text().contains("Package deleted in "), "{}", r.text());
}

/// V7: aemc: upload with `force` in the query, install with an urlencoded form,
/// `list.jsp?name=`.
#[test]
fn v7_aemc() {
    let srv = Server::start(&[]);
    let zip = package(
        "my-group",
        "my-pkg",
        "1.0.0",
        &["/apps/my"],
        &[("jcr_root/apps/my/f.txt", "x")],
    );
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json/?cmd=upload&force=true",
        &zip,
        &[],
    );
    assert!(r.text().contains(r#""success":true"#));
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/.json/?cmd=upload&force=true",
        &zip,
        &[],
    );
    assert!(
        r.text().contains(r#""success":true"#),
        "force from the query: {}",
        r.text()
    );
    let form = b"cmd=install&recursive=true&autosave=1024&acHandling=&dependencyHandling=required&extractOnly=false";
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/my-group/my-pkg-1.0.0.zip",
        &format!("{ADMIN}Content-Type: application/x-www-form-urlencoded\r\n"),
        form,
    );
    assert_eq!(r.text(), r#"{"success":true,"msg":"Package installed"}"#);
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/list.jsp?name=my-pkg",
        ADMIN,
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let item = &v["results"][0];
    let keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "pid",
        "path",
        "name",
        "group",
        "version",
        "downloadName",
        "size",
        "created",
        "lastModified",
        "lastUnpacked",
        "lastUnwrapped",
        "lastWrapped",
        "resolved",
        "dependencies",
        "filter",
    ] {
        assert!(keys.contains(&k), "{k} missing in {item}");
    }
    assert_eq!(item["pid"], "my-group:my-pkg:1.0.0");
    assert_eq!(item["filter"][0]["root"], "/apps/my");
    assert_eq!(v["total"], 1);
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/list.jsp?name=other",
        ADMIN,
        b"",
    );
    assert_eq!(r.text(), r#"{"results":[],"total":0}"#);
}

/// V8 (pyaem2's requests, without pyaem2): `cmd` as a multipart part with no
/// query, `ls` before and after install, download with an empty query.
#[test]
fn v8_multipart_cmd_ls_and_download() {
    let srv = Server::start(&[]);
    let zip = package(
        "g",
        "p",
        "1",
        &["/apps/p"],
        &[("jcr_root/apps/p/f.txt", "x")],
    );
    let body = multipart(
        "pb",
        &[
            ("cmd", None, None, b"upload"),
            (
                "package",
                Some("p-1.zip"),
                Some("application/octet-stream"),
                &zip,
            ),
        ],
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/",
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=pb\r\n"),
        &body,
    );
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package uploaded","path":"/etc/packages/g/p-1.zip"}"#
    );
    let ls = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/service.jsp?cmd=ls",
        ADMIN,
        b"",
    )
    .text();
    assert!(ls.contains("<name>p</name>"), "{ls}");
    assert!(ls.contains("<lastUnpackedBy>null</lastUnpackedBy>"), "{ls}");
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/g/p-1.zip",
        &format!("{ADMIN}Content-Type: application/x-www-form-urlencoded\r\n"),
        b"cmd=install&recursive=true",
    );
    assert!(r.text().contains(r#""success":true"#));
    let ls = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/service.jsp?cmd=ls",
        ADMIN,
        b"",
    )
    .text();
    assert!(
        ls.contains("<lastUnpackedBy>admin</lastUnpackedBy>"),
        "{ls}"
    );
    assert!(ls.contains("<status code=\"200\">ok</status>"), "{ls}");
    let r = request(&srv.addr, "GET", "/etc/packages/g/p-1.zip?", ADMIN, b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, zip);
    // script.html: the JSON in a textarea.
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/script.html/etc/packages/g/p-1.zip",
        &format!("{ADMIN}Content-Type: application/x-www-form-urlencoded\r\n"),
        b"cmd=build",
    );
    assert_eq!(
        r.text(),
        r#"<html><head></head><body><textarea>{"success":true,"msg":"Package built","path":"/etc/packages/g/p-1.zip"}</textarea></body></html>"#
    );
}

/// service.jsp's other commands by `name` (CQ-Unix-Toolkit, Adobe's Maven plugin).
#[test]
fn service_jsp_inst_uninst_build_rm_by_name() {
    let srv = Server::start(&[]);
    let zip = package(
        "grp",
        "thing",
        "2.0",
        &["/apps/thing"],
        &[("jcr_root/apps/thing/a.txt", "a")],
    );
    let r = jsp_upload(&srv.addr, ADMIN, &zip, &[("name", b"thing")]);
    assert!(
        r.text().contains("<status code=\"200\">ok</status>"),
        "{}",
        r.text()
    );
    let form = |cmd: &str| {
        let body = multipart(
            "q",
            &[
                ("cmd", None, None, cmd.as_bytes()),
                ("name", None, None, b"thing"),
                ("group", None, None, b"grp"),
            ],
        );
        request(
            &srv.addr,
            "POST",
            "/crx/packmgr/service.jsp",
            &format!("{ADMIN}Content-Type: multipart/form-data; boundary=q\r\n"),
            &body,
        )
        .text()
    };
    let t = form("inst");
    assert!(t.contains("A /apps/thing/a.txt\n"), "{t}");
    assert!(t.contains("<status code=\"200\">ok</status>"), "{t}");
    assert!(dump(srv.repo(), "/apps/thing/a.txt").is_some());
    let t = form("uninst");
    assert!(t.contains("<status code=\"200\">ok</status>"), "{t}");
    assert!(dump(srv.repo(), "/apps/thing/a.txt").is_none());
    assert!(form("build").contains("<status code=\"200\">ok</status>"));
    assert!(form("rm").contains("<status code=\"200\">ok</status>"));
    let t = form("inst");
    assert!(
        t.contains("<status code=\"500\">no package</status>"),
        "{t}"
    );
    assert!(
        t.contains("<log>"),
        "aemsync needs <log> even on errors: {t}"
    );
}

/// `dryrun` is the real install rolled back: the log lists what it would do,
/// nothing changes, no operation is recorded.
#[test]
fn dryrun_changes_nothing() {
    let srv = Server::start(&[]);
    let zip = package(
        "g",
        "d",
        "1",
        &["/apps/d"],
        &[("jcr_root/apps/d/f.txt", "x")],
    );
    upload_json(&srv, "/crx/packmgr/service/.json?cmd=upload", &zip, &[]);
    let before = history(srv.repo());
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.html/etc/packages/g/d-1.zip?cmd=dryrun",
        ADMIN,
        b"",
    );
    let t = r.text();
    assert!(
        t.contains("<span class=\"A\"><b>A</b>&nbsp;/apps/d/f.txt</span>"),
        "{t}"
    );
    assert!(t.contains("Package import simulation finished."), "{t}");
    assert!(dump(srv.repo(), "/apps/d/f.txt").is_none());
    assert_eq!(history(srv.repo()), before);
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/g/d-1.zip?cmd=dryrun",
        ADMIN,
        b"",
    );
    assert!(
        r.text().starts_with(r#"{"success":true,"msg":"#),
        "{}",
        r.text()
    );
}

/// `create` and `update.jsp` (pyaem2, ruby_aem, aemc): a definition, then a
/// filter, then a build of what the filter selects.
#[test]
fn create_update_build() {
    let srv = Server::start(&[]);
    let zip = package(
        "g",
        "c",
        "1",
        &["/content/a"],
        &[("jcr_root/content/a/f.txt", "x")],
    );
    upload_json(
        &srv,
        "/crx/packmgr/service/.json?cmd=upload",
        &zip,
        &[("install", "true")],
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/mypkg",
        &format!("{ADMIN}Content-Type: application/x-www-form-urlencoded\r\n"),
        b"cmd=create&groupName=mine&packageName=mypkg&packageVersion=1.0&_charset_=utf-8",
    );
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package created","path":"/etc/packages/mine/mypkg-1.0.zip"}"#
    );
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/update.jsp?groupName=mine&packageName=mypkg&version=1.0&path=/etc/packages/mine/mypkg-1.0.zip&_charset_=utf-8&filter=%5B%7B%22rules%22%3A%5B%5D%2C%22root%22%3A%22%2Fcontent%2Fa%22%7D%5D",
        ADMIN,
        b"",
    );
    assert!(r.text().starts_with(r#"{"success":true"#), "{}", r.text());
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/mine/mypkg-1.0.zip?cmd=build",
        ADMIN,
        b"",
    );
    assert!(r.text().starts_with(r#"{"success":true"#), "{}", r.text());
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/download.jsp?path=/etc/packages/mine/mypkg-1.0.zip",
        ADMIN,
        b"",
    );
    let zip = zip::ZipArchive::new(std::io::Cursor::new(r.body)).unwrap();
    assert!(zip
        .file_names()
        .any(|n| n.unwrap() == "jcr_root/content/a/f.txt"));
}

/// Quirks: `GET service/exec.json` is 405 (adamcin's probe), unknown selectors
/// 404, HEAD index.jsp 200, and no answer is ever 201.
#[test]
fn probes_and_no_201() {
    let srv = Server::start(&[]);
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/crx/packmgr/service/exec.json",
            ADMIN,
            b""
        )
        .status,
        405
    );
    assert_eq!(
        request(&srv.addr, "POST", "/crx/packmgr/service/x.txt", ADMIN, b"").status,
        404
    );
    assert_eq!(
        request(&srv.addr, "HEAD", "/crx/packmgr/index.jsp", ADMIN, b"").status,
        200
    );
    let zip = package("g", "n", "", &["/apps/n"], &[("jcr_root/apps/n/f", "x")]);
    let r = upload_json(
        &srv,
        "/crx/packmgr/service/exec.json/etc/packages/g/n.zip?cmd=upload",
        &zip,
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"success":true,"msg":"Package uploaded","path":"/etc/packages/g/n.zip"}"#
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/etc/packages/g/n.zip?cmd=replicate",
        ADMIN,
        b"",
    );
    assert_eq!(
        r.text(),
        r#"{"success":false,"msg":"replication not supported"}"#
    );
}

/// HTTP/1.1 keep-alive, as pyaem2's requests session, the Maven and Gradle HTTP
/// clients and browsers use it: one connection carries an upload, a streamed
/// (chunked) install log, a download, a 401, a 404 and the health check in turn,
/// each answered whole and framed; a request that says `Connection: close` is
/// answered and the connection closed.
#[test]
fn keep_alive_carries_many_requests_on_one_connection() {
    let srv = Server::start(&[]);
    let mut c = KeepAlive::new(&srv.addr);
    let zip = package(
        "ka",
        "p",
        "1",
        &["/apps/ka"],
        &[("jcr_root/apps/ka/f.txt", "kept alive")],
    );
    let (headers, body) = jsp_upload_request(&zip, &[("force", b"true")]);
    let ctype = format!("{ADMIN}{headers}");
    for round in 0..3 {
        let r = c.request("GET", "/health", "", b"").unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
        let r = c
            .request("POST", "/crx/packmgr/service.jsp", &ctype, &body)
            .unwrap();
        assert!(
            r.text().contains("<status code=\"200\">ok</status>"),
            "{}",
            r.text()
        );
        // The streamed log is chunked; the next request still finds the connection.
        let r = c
            .request(
                "POST",
                "/crx/packmgr/service/console.html/etc/packages/ka/p-1.zip?cmd=install",
                ADMIN,
                b"",
            )
            .unwrap();
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert!(r.text().contains("Package installed in"), "{}", r.text());
        let r = c
            .request("GET", "/etc/packages/ka/p-1.zip", ADMIN, b"")
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, zip.as_slice()));
        let r = c
            .request("GET", "/crx/packmgr/installstatus.jsp", "", b"")
            .unwrap();
        assert_eq!(r.status, 401, "round {round}");
        let r = c
            .request("GET", "/etc/packages/ka/none.zip", ADMIN, b"")
            .unwrap();
        assert_eq!(r.status, 404);
        let r = c
            .request("GET", "/crx/packmgr/installstatus.jsp", ADMIN, b"")
            .unwrap();
        assert_eq!(r.text(), r#"{"status":{"finished":true,"itemCount":0}}"#);
    }
    assert_eq!(c.opened, 1, "the server closed a kept-alive connection");
    assert!(dump(srv.repo(), "/apps/ka/f.txt").is_some());
    // `Connection: close` from the client: answered, then closed by the server.
    let r = c
        .request("GET", "/health", "Connection: close\r\n", b"")
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r
        .header("connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close")));
    let r = c.request("GET", "/health", "", b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(c.opened, 2);
}

/// Downloads of small packages are answered from memory while the path names the
/// same blob: a package replaced (`force`) is downloaded new at once, a deleted
/// one is 404, whichever process wrote it.
#[test]
fn a_replaced_or_deleted_package_is_never_downloaded_stale() {
    let srv = Server::start(&[]);
    let path = "/etc/packages/c/p-1.zip";
    let v = |text: &str| {
        package(
            "c",
            "p",
            "1",
            &["/apps/c"],
            &[("jcr_root/apps/c/f.txt", text)],
        )
    };
    let (one, two) = (v("one"), v("two"));
    assert_ne!(one, two);
    let r = jsp_upload(&srv.addr, ADMIN, &one, &[]);
    assert!(r.text().contains("<status code=\"200\">ok</status>"));
    for _ in 0..2 {
        let r = request(&srv.addr, "GET", path, ADMIN, b"");
        assert_eq!((r.status, r.body.as_slice()), (200, one.as_slice()));
    }
    let r = jsp_upload(&srv.addr, ADMIN, &two, &[("force", b"true")]);
    assert!(r.text().contains("<status code=\"200\">ok</status>"));
    let r = request(&srv.addr, "GET", path, ADMIN, b"");
    assert_eq!((r.status, r.body.as_slice()), (200, two.as_slice()));
    let r = request(
        &srv.addr,
        "GET",
        &format!("/crx/packmgr/download.jsp?path={path}"),
        ADMIN,
        b"",
    );
    assert_eq!((r.status, r.body.as_slice()), (200, two.as_slice()));
    // Deleted by another process (the CLI) while the server runs.
    run(&["rm", "--repo", srv.repo(), path]);
    let r = request(&srv.addr, "GET", path, ADMIN, b"");
    assert_eq!(r.status, 404, "{}", r.text());
}
