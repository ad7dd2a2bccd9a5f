//! `jcrpack serve`: what an install through the Package Manager API leaves behind
//! and how it is answered: `history` names the package (not the temporary copy the
//! server installs from) and the user, and survives a restart; the install options
//! clients send (`extractOnly`, `recursive`, `autosave`, `acHandling`); the HTML
//! log (`console.html`, `.html`) streamed while the install runs.

mod serve_packmgr_support;

use serve_packmgr_support::*;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

fn upload(srv: &Server, zip: &[u8]) {
    let body = multipart(
        "xyz",
        &[
            ("cmd", None, None, b"upload"),
            ("package", Some("p.zip"), Some("application/zip"), zip),
            ("force", None, None, b"true"),
        ],
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json/",
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=xyz\r\n"),
        &body,
    );
    assert!(r.text().contains("\"success\":true"), "{}", r.text());
}

/// `POST service/.json{path}` with a urlencoded form, as pyaem2 and aemc send it.
fn json_cmd(srv: &Server, path: &str, form: &str) -> String {
    request(
        &srv.addr,
        "POST",
        &format!("/crx/packmgr/service/.json{path}"),
        &format!("{ADMIN}Content-Type: application/x-www-form-urlencoded\r\n"),
        form.as_bytes(),
    )
    .text()
}

fn installs(repo: &str) -> Vec<serde_json::Value> {
    history(repo)["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["description"].as_str().unwrap().starts_with("install "))
        .cloned()
        .collect()
}

#[test]
fn history_names_the_package_and_the_user_and_survives_a_restart() {
    let srv = Server::start(&[]);
    let zip = package(
        "grp",
        "pkg",
        "1.0",
        &["/apps/h"],
        &[("jcr_root/apps/h/a.txt", "a")],
    );
    // Through service.jsp (upload with install=true, as aemsync) ...
    let r = jsp_upload(
        &srv.addr,
        ADMIN,
        &zip,
        &[("force", b"true"), ("install", b"true")],
    );
    assert!(
        r.text().contains("<status code=\"200\">ok</status>"),
        "{}",
        r.text()
    );
    // ... and through service/.json?cmd=install.
    let out = json_cmd(
        &srv,
        "/etc/packages/grp/pkg-1.0.zip",
        "cmd=install&recursive=true",
    );
    assert_eq!(out, r#"{"success":true,"msg":"Package installed"}"#);
    let ops = installs(srv.repo());
    assert_eq!(ops.len(), 2, "{ops:?}");
    for op in &ops {
        assert_eq!(op["description"], "install /etc/packages/grp/pkg-1.0.zip");
        assert_eq!(op["packageId"], "grp:pkg:1.0");
        assert_eq!(op["user"], "admin");
    }
    let all = history(srv.repo()).to_string();
    assert!(
        !all.contains(".jcrpack-"),
        "a temporary file in history: {all}"
    );

    // Acknowledged installs are committed: after SIGTERM and a new server on the
    // same repository they are all still there, and the package still installed.
    let repo = srv.repo.clone();
    let (status, dir) = srv.stop();
    assert!(status.success(), "{status:?}");
    let srv = Server::start_on(dir, repo, &[]);
    assert_eq!(installs(srv.repo()), ops);
    assert!(dump(srv.repo(), "/apps/h/a.txt").is_some());
    let r = request(&srv.addr, "GET", "/crx/packmgr/list.jsp", ADMIN, b"");
    assert!(
        r.text().contains("\"lastUnpackedBy\":\"admin\""),
        "{}",
        r.text()
    );
}

#[test]
fn extract_only_installs_without_a_snapshot_so_uninstall_refuses() {
    let srv = Server::start(&[]);
    let p = "/etc/packages/g/x-1.zip";
    upload(
        &srv,
        &package(
            "g",
            "x",
            "1",
            &["/apps/x"],
            &[("jcr_root/apps/x/a.txt", "a")],
        ),
    );
    let out = json_cmd(
        &srv,
        p,
        "cmd=install&recursive=true&autosave=1024&acHandling=&dependencyHandling=required&extractOnly=true",
    );
    assert_eq!(out, r#"{"success":true,"msg":"Package installed"}"#);
    assert!(dump(srv.repo(), "/apps/x/a.txt").is_some());
    // Recorded in history all the same (jcrpack undo can revert it) ...
    assert_eq!(installs(srv.repo()).len(), 1);
    // ... but the package has no snapshot: uninstall answers as CRX does.
    let out = json_cmd(&srv, p, "cmd=uninstall");
    assert!(out.contains("\"success\":false"), "{out}");
    assert!(dump(srv.repo(), "/apps/x/a.txt").is_some());
    // A normal install afterwards can be uninstalled again.
    let out = json_cmd(&srv, p, "cmd=install&extractOnly=false");
    assert!(out.contains("\"success\":true"), "{out}");
    // (its snapshot holds what the extract-only install wrote, as FileVault's would).
    let out = json_cmd(&srv, p, "cmd=uninstall");
    assert!(out.contains("\"success\":true"), "{out}");
    assert!(dump(srv.repo(), "/apps/x/a.txt").is_some());
}

#[test]
fn recursive_false_stores_sub_packages_without_installing_them() {
    let sub = package(
        "g",
        "sub",
        "1",
        &["/apps/sub"],
        &[("jcr_root/apps/sub/s.txt", "s")],
    );
    let outer = zip_with(
        "g",
        "outer",
        "1",
        &["/etc/packages/g/sub-1.zip"],
        &[("jcr_root/etc/packages/g/sub-1.zip", &sub)],
    );
    let srv = Server::start(&[]);
    upload(&srv, &outer);
    let p = "/etc/packages/g/outer-1.zip";
    let out = json_cmd(&srv, p, "cmd=install&recursive=false");
    assert_eq!(out, r#"{"success":true,"msg":"Package installed"}"#);
    assert!(dump(srv.repo(), "/etc/packages/g/sub-1.zip").is_some());
    assert!(
        dump(srv.repo(), "/apps/sub").is_none(),
        "recursive=false installed the sub package"
    );
    let out = json_cmd(&srv, p, "cmd=install&recursive=true");
    assert_eq!(out, r#"{"success":true,"msg":"Package installed"}"#);
    assert!(dump(srv.repo(), "/apps/sub/s.txt").is_some());
}

#[test]
fn unknown_ac_handling_and_autosave_are_refused_and_nothing_changes() {
    let srv = Server::start(&[]);
    let p = "/etc/packages/g/y-1.zip";
    upload(
        &srv,
        &package(
            "g",
            "y",
            "1",
            &["/apps/y"],
            &[("jcr_root/apps/y/a.txt", "a")],
        ),
    );
    let before = history(srv.repo());
    let out = json_cmd(&srv, p, "cmd=install&acHandling=sometimes");
    assert!(
        out.contains("\"success\":false") && out.contains("acHandling"),
        "{out}"
    );
    let out = json_cmd(&srv, p, "cmd=install&autosave=lots");
    assert!(
        out.contains("\"success\":false") && out.contains("autosave"),
        "{out}"
    );
    assert_eq!(history(srv.repo()), before);
    assert!(dump(srv.repo(), "/apps/y").is_none());
    // Every value FileVault knows is accepted (an empty one is the package's own).
    for ac in [
        "",
        "ignore",
        "overwrite",
        "merge",
        "merge_preserve",
        "clear",
    ] {
        let out = json_cmd(
            &srv,
            p,
            &format!("cmd=install&acHandling={ac}&autosave=1024"),
        );
        assert!(out.contains("\"success\":true"), "acHandling={ac}: {out}");
    }
}

#[test]
fn html_install_log_is_streamed_while_the_install_runs() {
    let srv = Server::start(&[]);
    // A large package keeps the writer busy; the streamed one queues behind it.
    let files: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                format!("jcr_root/apps/big/d{}/f{i}.txt", i % 20),
                format!("{i}"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    upload(&srv, &package("g", "big", "1", &["/apps/big"], &refs));
    upload(
        &srv,
        &package(
            "g",
            "s",
            "1",
            &["/apps/s"],
            &[("jcr_root/apps/s/a.txt", "a")],
        ),
    );
    let addr = srv.addr.clone();
    let big = std::thread::spawn(move || {
        request(
            &addr,
            "POST",
            "/crx/packmgr/service/.json/etc/packages/g/big-1.zip",
            &format!("{ADMIN}Content-Type: application/x-www-form-urlencoded\r\n"),
            b"cmd=install",
        )
        .text()
    });
    let t = Instant::now();
    loop {
        let r = request(
            &srv.addr,
            "GET",
            "/crx/packmgr/installstatus.jsp",
            ADMIN,
            b"",
        );
        if !r.text().contains("\"itemCount\":0") {
            break;
        }
        if big.is_finished() || t.elapsed() > Duration::from_secs(30) {
            panic!("the big install never queued: {}", big.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut sock = std::net::TcpStream::connect(&srv.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        sock,
        "POST /crx/packmgr/service/console.html/etc/packages/g/s-1.zip?cmd=install&recursive=true HTTP/1.1\r\nHost: {}\r\n{ADMIN}Content-Length: 0\r\nConnection: close\r\n\r\n",
        srv.addr
    )
    .unwrap();
    let mut r = BufReader::new(sock);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "ended early: {seen}");
        seen.push_str(&line);
        if line.contains("Importing content...") {
            break;
        }
    }
    // The page's first lines are here; the install they belong to has not run.
    let ops = installs(srv.repo());
    assert!(
        !ops.iter()
            .any(|o| o["description"] == "install /etc/packages/g/s-1.zip"),
        "the install ended before its log's first line arrived: {ops:?}"
    );
    assert!(
        seen.contains("<body><h2>Installing content</h2><div>"),
        "{seen}"
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut r, &mut rest).unwrap();
    assert!(
        rest.contains("<b>A</b>&nbsp;/apps/s/a.txt</span>"),
        "{rest}"
    );
    assert!(rest.contains("Package imported."), "{rest}");
    assert!(rest.contains("Package installed in "), "{rest}");
    assert!(big.join().unwrap().contains("\"success\":true"));
    let ops = installs(srv.repo());
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(ops[1]["description"], "install /etc/packages/g/s-1.zip");
}

/// [`package`] with binary files (a sub package's zip).
fn zip_with(
    group: &str,
    name: &str,
    version: &str,
    roots: &[&str],
    files: &[(&str, &[u8])],
) -> Vec<u8> {
    let base = package(group, name, version, roots, &[]);
    let mut z = zip::ZipWriter::new_append(std::io::Cursor::new(base)).unwrap();
    let o = zip::write::SimpleFileOptions::default();
    for (n, c) in files {
        z.start_file(*n, o).unwrap();
        z.write_all(c).unwrap();
    }
    z.finish().unwrap().into_inner()
}
