//! `jcrpack serve` security (issue 21 item 5): users and HTTP Basic, the refusal
//! to listen beyond loopback without a user, upload size and request time limits,
//! package paths that never leave `/etc/packages`, and a clean SIGTERM.

mod serve_packmgr_support;

use serve_packmgr_support::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn add_user(repo: &str, name: &str, password: &str) {
    let mut child = Command::new(bin())
        .args(["user", "add", name, "--repo", repo, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_route_but_health_needs_a_user() {
    let srv = Server::start(&[]);
    let r = request(&srv.addr, "GET", "/health", "", b"");
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    for path in [
        "/crx/packmgr/service.jsp",
        "/crx/packmgr/list.jsp",
        "/etc/packages/g/n.zip",
        "/crx/packmgr/installstatus.jsp",
    ] {
        let r = request(&srv.addr, "GET", path, "", b"");
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"jcrpack\"")
        );
        let r = request(&srv.addr, "GET", path, &basic("admin", "wrong"), b"");
        assert_eq!(r.status, 401, "{path}");
        let r = request(&srv.addr, "GET", path, "Authorization: Bearer abc\r\n", b"");
        assert_eq!(r.status, 401, "{path}");
    }
    // On loopback with no user, AEM's default login works (what clients send).
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", ADMIN, b"");
    assert_eq!(r.status, 200);
}

#[test]
fn users_replace_the_default_login() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    run(&["init", s(&repo)]);
    add_user(s(&repo), "alice", "correct horse");
    let list = run(&["user", "list", "--repo", s(&repo)]);
    assert!(list.starts_with("alice\t/home/users/alice"), "{list}");
    let srv = Server::start_on(dir, repo.clone(), &[]);
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", ADMIN, b"");
    assert_eq!(
        r.status, 401,
        "admin:admin must stop working once a user exists"
    );
    let alice = basic("alice", "correct horse");
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", &alice, b"");
    assert_eq!(r.status, 200);
    // Twice: the second time from the verified-credentials cache.
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", &alice, b"");
    assert_eq!(r.status, 200);
    let r = request(
        &srv.addr,
        "GET",
        "/crx/packmgr/list.jsp",
        &basic("alice", "wrong"),
        b"",
    );
    assert_eq!(r.status, 401);
    // The install is recorded as alice's.
    let zip = package("g", "u", "1", &["/apps/u"], &[("jcr_root/apps/u/f", "x")]);
    let r = jsp_upload(&srv.addr, &alice, &zip, &[("install", b"true")]);
    assert!(
        r.text().contains("<lastUnpackedBy>alice</lastUnpackedBy>"),
        "{}",
        r.text()
    );
    let h = history(srv.repo());
    assert!(h.to_string().contains("\"alice\""), "{h}");
    // A removed user can no longer log in (the server reads users per request).
    run(&["user", "rm", "alice", "--repo", srv.repo()]);
    // User lookups are reused for one second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", &alice, b"");
    assert_eq!(r.status, 401);
}

#[test]
fn no_other_address_than_loopback_without_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    run(&["init", s(&repo)]);
    let out = Command::new(bin())
        .args(["serve", "--repo", s(&repo), "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0: no user can log in")
            && err.contains("jcrpack user add"),
        "{err}"
    );
    // The default is loopback, AEM's port.
    let help = run(&["serve", "--help"]);
    assert!(help.contains("[default: 127.0.0.1:4502]"), "{help}");
    add_user(s(&repo), "ops", "pw");
    let mut child = Command::new(bin())
        .args(["serve", "--repo", s(&repo), "--bind", "0.0.0.0:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on http://0.0.0.0:"), "{line}");
}

#[test]
fn uploads_over_the_limit_are_refused_whole() {
    let srv = Server::start(&["--max-upload-mb", "1"]);
    let big = vec![b'x'; 2 << 20];
    let body = multipart("b", &[("package", Some("big.zip"), None, &big)]);
    // Chunked, without a length: the limit still holds.
    let mut req = format!(
        "POST /crx/packmgr/service/.json?cmd=upload HTTP/1.1\r\nHost: x\r\n{ADMIN}Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    req.extend_from_slice(&chunked(&body, 64 * 1024));
    let r = raw(&srv.addr, &req);
    assert!(
        r.status == 413 || r.status == 400,
        "{} {}",
        r.status,
        r.text()
    );
    assert!(dump(srv.repo(), "/etc/packages").is_none());
}

#[test]
fn slow_requests_hit_the_time_limit() {
    let srv = Server::start(&["--request-timeout", "1"]);
    let mut s = std::net::TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    // A multipart upload that never finishes.
    write!(
        s,
        "POST /crx/packmgr/service/.json?cmd=upload HTTP/1.1\r\nHost: x\r\n{ADMIN}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.zip\"\r\n\r\nPK"
    )
    .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 64];
    let n = std::io::Read::read(&mut s, &mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn package_paths_never_leave_etc_packages() {
    let srv = Server::start(&[]);
    // Content outside /etc/packages that a traversal would reach.
    let zip = package(
        "g",
        "t",
        "",
        &["/apps/t"],
        &[("jcr_root/apps/t/secret.zip", "x")],
    );
    let body = multipart(
        "b",
        &[
            ("package", Some("t.zip"), None, &zip),
            ("install", None, None, b"true"),
        ],
    );
    request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json?cmd=upload",
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=b\r\n"),
        &body,
    );
    assert!(dump(srv.repo(), "/apps/t/secret.zip").is_some());
    for target in [
        "/etc/packages/../../apps/t/secret.zip",
        "/etc/packages/%2e%2e/%2e%2e/apps/t/secret.zip",
        "/etc/packages/g/..%2f..%2f..%2fapps/t/secret.zip",
        "/crx/packmgr/download.jsp?path=/apps/t/secret.zip",
        "/crx/packmgr/download.jsp?path=/etc/packages/../apps/t/secret.zip",
    ] {
        let r = request(&srv.addr, "GET", target, ADMIN, b"");
        assert!(r.status == 404 || r.status == 400, "{target}: {}", r.status);
    }
    for target in [
        "/crx/packmgr/service/.json/etc/packages/../../apps/t/secret.zip?cmd=delete",
        "/crx/packmgr/service/.json/apps/t/secret.zip?cmd=delete",
        "/crx/packmgr/service/.json/etc/packages/./g/t.zip?cmd=install",
    ] {
        let r = request(&srv.addr, "POST", target, ADMIN, b"");
        assert_eq!(r.status, 400, "{target}: {}", r.text());
    }
    assert!(dump(srv.repo(), "/apps/t/secret.zip").is_some());
    assert!(dump(srv.repo(), "/etc/packages/g/t.zip").is_some());
}

#[test]
fn sigterm_stops_cleanly() {
    let srv = Server::start(&[]);
    let zip = package("g", "s", "", &["/apps/s"], &[("jcr_root/apps/s/f", "x")]);
    let body = multipart(
        "b",
        &[
            ("package", Some("s.zip"), None, &zip),
            ("install", None, None, b"true"),
        ],
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json?cmd=upload",
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=b\r\n"),
        &body,
    );
    assert!(r.text().contains("\"success\":true"));
    let repo = srv.repo().to_string();
    let (status, _dir) = srv.stop();
    assert!(status.success(), "{status:?}");
    assert!(dump(&repo, "/apps/s/f").is_some());
}

#[test]
fn user_list_json_follows_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    run(&["init", s(&repo)]);
    let empty: serde_json::Value =
        serde_json::from_str(&run(&["user", "list", "--repo", s(&repo), "--json"])).unwrap();
    assert_eq!(empty, serde_json::json!({"users": []}));
    add_user(s(&repo), "bob", "pw");
    let v: serde_json::Value =
        serde_json::from_str(&run(&["user", "list", "--repo", s(&repo), "--json"])).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/user-list.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&v), "{v}");
    assert_eq!(
        v,
        serde_json::json!({"users": [{"name": "bob", "path": "/home/users/bob", "canLogIn": true}]})
    );
    // Bad names are usage errors (exit 2), and nothing is written.
    let out = Command::new(bin())
        .args(["user", "add", "a:b", "--repo", s(&repo), "--password-stdin"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin())
        .args(["user", "rm", "nobody", "--repo", s(&repo)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user 'nobody'"));
}

#[test]
fn sigterm_during_an_install_leaves_it_whole_or_absent() {
    let srv = Server::start(&[]);
    let files: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("jcr_root/apps/big/f{i}.txt"), format!("file {i}")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let zip = package("g", "big", "1", &["/apps/big"], &refs);
    let body = multipart("b", &[("package", Some("big.zip"), None, &zip)]);
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json?cmd=upload",
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=b\r\n"),
        &body,
    );
    assert!(r.text().contains("\"success\":true"), "{}", r.text());
    // The install through the page's streamed log (`console.html`): its first path
    // line is the readiness signal that the install runs inside its transaction.
    let mut conn = std::net::TcpStream::connect(&srv.addr).unwrap();
    conn.set_read_timeout(Some(STOP_ALLOWANCE)).unwrap();
    write!(
        conn,
        "POST /crx/packmgr/service/console.html/etc/packages/g/big-1.zip?cmd=install HTTP/1.1\r\nHost: x\r\n{ADMIN}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("/apps/big/f") {
        let n = std::io::Read::read(&mut conn, &mut buf).unwrap();
        assert!(
            n > 0,
            "the install ended before it acted on a path: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    let (status, dir) = srv.stop();
    assert!(status.success(), "{status:?}");
    // The rest of the log: the install's end, or its refusal.
    let _ = std::io::Read::read_to_end(&mut conn, &mut seen);
    let answer = String::from_utf8_lossy(&seen).into_owned();
    let repo = dir.path().join("repo");
    let d = dump(s(&repo), "/apps/big");
    let count = d
        .as_deref()
        .map_or(0, |d| d.matches("\"name\": \"f").count());
    assert!(
        count == 0 || count == 2000,
        "half applied: {count} of 2000 files"
    );
    if answer.contains("Package installed in") {
        assert_eq!(count, 2000, "acknowledged but not applied");
    }
}
