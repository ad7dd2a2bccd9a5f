//! The backup API of `jcrpack serve` against a running server: list, create (202
//! and a job to follow), progress and cancel, verify, restore with the differences
//! first, delete, and malformed input refused with JSON errors; then the server
//! checked against `schemas/openapi.yaml` by schemathesis.

mod serve_schemathesis_support;
mod serve_web_support;

use serde_json::json;
use serve_web_support::*;
use std::time::{Duration, Instant};

#[test]
fn the_backup_api_creates_follows_verifies_restores_and_deletes() {
    let site = Site::new();
    let srv = Server::start(&site);
    let a = &srv.addr;
    // Every route needs a user.
    let r = request(a, "GET", "/api/backups", &[], b"");
    assert_eq!(r.status, 401, "{}", r.text());
    // No catalogue yet: nothing listed.
    let r = api(a, "GET", "/api/backups", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"backups": []}));

    // Create: answered at once with a job.
    let r = api(
        a,
        "POST",
        "/api/backups",
        Some(&json!({"label": "before the release"})),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let job = r.json();
    let id = job["id"].as_u64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/backups/jobs/{id}").as_str())
    );
    assert_eq!(job["kind"], "backup");
    assert_eq!(job["user"], USER);
    let done = wait_job(a, id);
    assert_eq!(done["state"], "succeeded", "{done}");
    let backup = done["backupId"].as_str().unwrap().to_string();
    let jobs = api(a, "GET", "/api/backups/jobs", None).json();
    assert!(jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["id"] == id));

    // Listed, shown, verified.
    let list = api(a, "GET", "/api/backups", None).json();
    let b = &list["backups"][0];
    assert_eq!(b["id"], backup.as_str());
    assert_eq!(b["label"], "before the release");
    assert_eq!(b["user"], USER);
    assert!(b["nodes"].as_u64().unwrap() > 10, "{b}");
    let one = api(a, "GET", &format!("/api/backups/{backup}"), None);
    assert_eq!(one.status, 200);
    assert_eq!(&one.json(), b);
    let v = api(a, "POST", &format!("/api/backups/{backup}/verify"), None);
    assert_eq!(v.status, 200, "{}", v.text());
    assert_eq!(v.json()["ok"], true, "{}", v.text());

    // The editor deletes a page; the differences come first and write nothing.
    site.delete_about();
    let url = format!("/api/backups/{backup}/restore");
    let d = api(a, "POST", &url, Some(&json!({"roots": [EN]})));
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!(d["dryRun"], true);
    assert_eq!(d["restored"], false);
    assert_eq!(d["operation"], serde_json::Value::Null);
    let about = d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == ABOUT)
        .unwrap_or_else(|| panic!("{ABOUT} not in the differences: {d}"));
    assert_eq!(about["change"], "added");
    assert_eq!(d["summary"]["workspaces"][0]["roots"], json!([EN]));
    assert!(!has_node(&site.repo, ABOUT), "a dry run wrote");

    // Then the restore, recorded and undoable.
    let w = api(
        a,
        "POST",
        &url,
        Some(&json!({"roots": [EN], "dryRun": false})),
    );
    assert_eq!(w.status, 200, "{}", w.text());
    let w = w.json();
    assert_eq!(w["restored"], true);
    let op = w["operation"].as_i64().unwrap();
    assert!(
        has_node(&site.repo, ABOUT),
        "the restore did not bring {ABOUT} back"
    );
    let history = run(&["history", "--repo", site.r()], None);
    assert!(
        history.contains(&format!("restore {backup} {EN}")) && history.contains(USER),
        "{history}"
    );
    run(&["undo", &op.to_string(), "--repo", site.r()], None);
    assert!(!has_node(&site.repo, ABOUT));

    // Delete: gone from the list and the catalogue.
    let r = api(a, "DELETE", &format!("/api/backups/{backup}"), None);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        api(a, "GET", &format!("/api/backups/{backup}"), None).status,
        404
    );
    assert_eq!(
        api(a, "GET", "/api/backups", None).json(),
        json!({"backups": []})
    );
}

#[test]
fn cancel_stops_a_running_backup_and_nothing_is_kept() {
    let site = Site::new();
    let srv = Server::start(&site);
    let a = &srv.addr;
    // One kilobyte a second: the image alone takes minutes.
    let r = api(a, "POST", "/api/backups", Some(&json!({"maxRate": 1000})));
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_u64().unwrap();
    // Progress is visible while it runs.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let j = api(a, "GET", &format!("/api/backups/jobs/{id}"), None).json();
        assert_eq!(j["state"], "running", "{j}");
        if j["done"].as_u64().unwrap() > 0 {
            assert!(j["phase"].is_string(), "{j}");
            break;
        }
        assert!(Instant::now() < until, "no progress: {j}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let c = api(a, "POST", &format!("/api/backups/jobs/{id}/cancel"), None);
    assert_eq!(c.status, 202, "{}", c.text());
    assert_eq!(c.json()["cancelRequested"], true);
    let end = wait_job(a, id);
    assert_eq!(end["state"], "cancelled", "{end}");
    assert_eq!(
        api(a, "GET", "/api/backups", None).json(),
        json!({"backups": []})
    );
    // Cancelling a finished job changes nothing; an unknown one is 404.
    let c = api(a, "POST", &format!("/api/backups/jobs/{id}/cancel"), None);
    assert_eq!(c.json()["state"], "cancelled");
    assert_eq!(
        api(a, "POST", "/api/backups/jobs/9999/cancel", None).status,
        404
    );
}

/// The unfinished backups (`.tmp-ID` folders) in the repository's catalogue.
fn unfinished(site: &Site) -> Vec<String> {
    std::fs::read_dir(site.repo.join("backups").join("backups"))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.starts_with(".tmp-").then_some(n)
        })
        .collect()
}

#[test]
fn a_backup_job_running_when_the_server_stops_is_interrupted_after_the_restart() {
    let site = Site::new();
    let kill = |mut srv: Server| {
        srv.child.kill().unwrap();
        srv.child.wait().unwrap();
    };
    // A job still copying when the server is killed.
    let srv = Server::start(&site);
    let a = srv.addr.clone();
    let r = api(&a, "POST", "/api/backups", Some(&json!({"maxRate": 1000})));
    assert_eq!(r.status, 202, "{}", r.text());
    let slow = r.json()["id"].as_u64().unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let j = api(&a, "GET", &format!("/api/backups/jobs/{slow}"), None).json();
        assert_eq!(j["state"], "running", "{j}");
        if j["done"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(
            Instant::now() < until,
            "the slow backup made no progress: {j}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(unfinished(&site).len(), 1, "the running backup's folder");
    kill(srv);

    // Restarted: the job is interrupted, its unfinished backup removed; a new job
    // is numbered after it and ends.
    let srv = Server::start(&site);
    let a = srv.addr.clone();
    let jobs = api(&a, "GET", "/api/backups/jobs", None).json();
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 1, "{jobs}");
    let j = &jobs["jobs"][0];
    assert_eq!(j["id"], slow);
    assert_eq!(j["state"], "interrupted", "{j}");
    assert_eq!(
        j["error"],
        "the server stopped while this job ran; nothing of it was kept"
    );
    assert!(unfinished(&site).is_empty(), "{:?}", unfinished(&site));
    assert_eq!(
        api(&a, "GET", "/api/backups", None).json(),
        json!({"backups": []})
    );
    let r = api(&a, "POST", "/api/backups", Some(&json!({"label": "after"})));
    assert_eq!(r.json()["id"], slow + 1);
    let done = wait_job(&a, slow + 1);
    assert_eq!(done["state"], "succeeded", "{done}");
    kill(srv);

    // And again: both jobs listed as they ended, the backup from the catalogue.
    let srv = Server::start(&site);
    let a = srv.addr.clone();
    let jobs = api(&a, "GET", "/api/backups/jobs", None).json();
    let states: Vec<(u64, &str)> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["id"].as_u64().unwrap(), j["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![(slow, "interrupted"), (slow + 1, "succeeded")]);
    assert_eq!(jobs["jobs"][1]["backupId"], done["backupId"]);
    let list = api(&a, "GET", "/api/backups", None).json();
    assert_eq!(list["backups"][0]["id"], done["backupId"]);
    let page = request(
        &a,
        "GET",
        "/web/backups",
        &[("Authorization", &basic())],
        b"",
    );
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains(&format!(
            "Job {slow}: interrupted: the server stopped while this job ran"
        )),
        "{}",
        page.text()
    );
}

#[test]
#[allow(clippy::type_complexity)]
fn malformed_requests_are_refused_with_a_json_error() {
    let site = Site::new();
    let backup = site.backup();
    let srv = Server::start(&site);
    let a = &srv.addr;
    let auth = basic();
    let restore = format!("/api/backups/{backup}/restore");
    let cases: Vec<(&str, String, Vec<(&str, &str)>, &[u8], u16)> = vec![
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            b"{not json",
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            b"[1,2]",
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            br#"{"roots":"/content"}"#,
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            br#"{"roots":["content"]}"#,
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            br#"{"roots":["/nowhere"]}"#,
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            br#"{"workspaces":["nope"]}"#,
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            br#"{"dryRun":"yes"}"#,
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "application/json")],
            br#"{"unknown":1}"#,
            400,
        ),
        (
            "POST",
            restore.clone(),
            vec![("Content-Type", "text/plain")],
            b"{}",
            415,
        ),
        (
            "POST",
            "/api/backups".into(),
            vec![("Content-Type", "application/json")],
            br#"{"maxRate":0}"#,
            400,
        ),
        (
            "POST",
            "/api/backups".into(),
            vec![("Content-Type", "application/json")],
            br#"{"label":5}"#,
            400,
        ),
        (
            "POST",
            "/api/backups/20990101T000000Z/restore".into(),
            vec![],
            b"",
            404,
        ),
        (
            "POST",
            "/api/backups/..%2F..%2Fetc/restore".into(),
            vec![],
            b"",
            404,
        ),
        ("GET", "/api/backups/not-an-id".into(), vec![], b"", 404),
        (
            "DELETE",
            "/api/backups/20990101T000000Z".into(),
            vec![],
            b"",
            404,
        ),
        (
            "POST",
            "/api/backups/20990101T000000Z/verify".into(),
            vec![],
            b"",
            404,
        ),
        ("GET", "/api/backups/jobs/abc".into(), vec![], b"", 400),
        ("GET", "/api/backups/jobs/0".into(), vec![], b"", 404),
        (
            "GET",
            "/api/backups/jobs/99999999999999999999999".into(),
            vec![],
            b"",
            400,
        ),
    ];
    for (method, path, mut headers, body, status) in cases {
        headers.push(("Authorization", &auth));
        let r = request(a, method, &path, &headers, body);
        assert_eq!(
            r.status,
            status,
            "{method} {path} {}: {}",
            String::from_utf8_lossy(body),
            r.text()
        );
        let j = r.json();
        assert!(j["error"].is_string(), "{method} {path}: {j}");
    }
    // Nothing was written by any of them.
    assert!(site.repo.join("repository.db").is_file());
    assert_eq!(
        api(a, "GET", "/api/backups", None).json()["backups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_server_conforms_to_its_openapi_document_under_generated_and_malformed_input() {
    serve_schemathesis_support::schemathesis().unwrap_or_else(|e| panic!("{e}"));
    let site = Site::new();
    site.backup();
    let srv = Server::start(&site);
    let text = serve_schemathesis_support::run(
        "schemas/openapi.yaml",
        &srv.url(),
        &format!("{USER}:{PASSWORD}"),
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,response_headers_conformance",
        25,
    );
    // It really ran the operations.
    assert!(
        text.contains("Tested: 9"),
        "not every operation was tested:\n{text}"
    );
}
