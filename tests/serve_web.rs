//! The page of `jcrpack serve` over plain HTTP: the login form and its session
//! cookie, CSRF tokens required on every form and on the API's writes with the
//! cookie, the controls' accessible names, and the restore flow through forms.
//! (The same flow in a real browser: `serve_web_browser.rs`.)

mod serve_web_support;

use serve_web_support::*;

/// Logs in through the form; returns the cookie pair and the CSRF token of the
/// first page.
fn log_in(a: &str) -> (String, String) {
    let body = format!("user={USER}&password={PASSWORD}&next=%2Fweb%2Fbackups");
    let r = request(
        a,
        "POST",
        "/web/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/web/backups"));
    let set = r
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let page = request(a, "GET", "/web/backups", &[("Cookie", &cookie)], b"");
    assert_eq!(page.status, 200, "{}", page.text());
    (cookie, csrf_of(&page.text()))
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + 64].to_string()
}

fn form(a: &str, cookie: &str, path: &str, body: &str) -> Response {
    request(
        a,
        "POST",
        path,
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    )
}

#[test]
fn a_browser_logs_in_and_every_form_needs_its_csrf_token() {
    let site = Site::new();
    let srv = Server::start(&site);
    let a = &srv.addr;
    // Anonymous: sent to the login form, which is public.
    let r = request(a, "GET", "/web/activity", &[], b"");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/web/login?next=/web/activity"));
    let login = request(a, "GET", "/web/login", &[], b"");
    assert_eq!(login.status, 200);
    assert!(login.text().contains("<label for=\"user\">User</label>"));
    // A wrong password: 401 and the form again, no cookie.
    let r = form(a, "", "/web/login", &format!("user={USER}&password=wrong"));
    assert_eq!(r.status, 401);
    assert!(r.header("set-cookie").is_none());
    assert!(r.text().contains("Wrong user name or password."));
    // A `next` off the page is ignored.
    let r = form(
        a,
        "",
        "/web/login",
        &format!("user={USER}&password={PASSWORD}&next=https%3A%2F%2Fevil.example%2F"),
    );
    assert_eq!(r.header("location"), Some("/web/backups"));

    let (cookie, csrf) = log_in(a);
    // Without the token, or with another, a form is refused and nothing happens.
    for body in [
        "label=x".to_string(),
        format!("label=x&csrf={}", "0".repeat(64)),
    ] {
        let r = form(a, &cookie, "/web/backups/create", &body);
        assert_eq!(r.status, 403, "{}", r.text());
    }
    assert!(
        !site.repo.join("backups").exists(),
        "a refused form created a backup"
    );
    // The API with the cookie: reads go, writes need X-CSRF-Token.
    let r = request(a, "GET", "/api/backups", &[("Cookie", &cookie)], b"");
    assert_eq!(r.status, 200);
    let r = request(a, "POST", "/api/backups", &[("Cookie", &cookie)], b"");
    assert_eq!(r.status, 401, "{}", r.text());
    let r = request(
        a,
        "POST",
        "/api/backups",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        b"",
    );
    assert_eq!(r.status, 202, "{}", r.text());
    wait_job(a, r.json()["id"].as_u64().unwrap());
    // Log out ends the session.
    let r = form(a, &cookie, "/web/logout", &format!("csrf={csrf}"));
    assert_eq!(r.status, 303);
    let r = request(a, "GET", "/web/backups", &[("Cookie", &cookie)], b"");
    assert_eq!(r.status, 303, "the session outlived its log out");
}

#[test]
fn the_restore_flow_through_the_forms_shows_the_differences_then_restores_and_undoes() {
    let site = Site::new();
    let id = site.backup();
    site.delete_about();
    let srv = Server::start(&site);
    let a = &srv.addr;
    let (cookie, csrf) = log_in(a);
    let get = |p: &str| request(a, "GET", p, &[("Cookie", &cookie)], b"");

    // Every section's link and the backups' buttons, by their accessible names.
    let page = get("/web/backups").text();
    for link in ["Repository", "Packages", "Backups", "Activity"] {
        assert!(page.contains(&format!(">{link}</a>")), "link {link}");
    }
    for button in ["Create backup", "Restore", "Verify", "Delete"] {
        assert!(
            page.contains(&format!(">{button}</button>")),
            "button {button}"
        );
    }
    assert!(page.contains(&format!("data-backup=\"{id}\"")));

    // The backup's tree: a checkbox labelled with each path.
    let tree = get(&format!("/web/backups/{id}/restore")).text();
    assert!(
        tree.contains(&format!(
            "<label><input type=\"checkbox\" name=\"root\" value=\"{EN}\">{EN}</label>"
        )),
        "{tree}"
    );
    assert!(tree.contains(">Show differences</button>"));
    // Nothing ticked: refused.
    let r = form(
        a,
        &cookie,
        &format!("/web/backups/{id}/restore"),
        &format!("csrf={csrf}&workspace=default&action=diff"),
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Tick at least one subtree"));

    // The differences, nothing written yet.
    let ask = format!(
        "csrf={csrf}&workspace=default&root={}",
        EN.replace('/', "%2F")
    );
    let r = form(
        a,
        &cookie,
        &format!("/web/backups/{id}/restore"),
        &format!("{ask}&action=diff"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let diff = r.text();
    assert!(
        diff.contains(&format!("<td>added</td><td>{ABOUT}</td>")),
        "{diff}"
    );
    assert!(diff.contains(">Confirm restore</button>"));
    assert!(
        diff.contains(&format!("value=\"{EN}\" checked>")),
        "the ticked box stays ticked"
    );
    assert!(!has_node(&site.repo, ABOUT));

    // Confirmed: restored, recorded, shown in the activity log.
    let r = form(
        a,
        &cookie,
        &format!("/web/backups/{id}/restore"),
        &format!("{ask}&action=confirm"),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/web/activity"));
    assert!(has_node(&site.repo, ABOUT));
    let log = get("/web/activity").text();
    assert!(
        log.contains("Restored /content/wknd-lite/en from backup"),
        "{log}"
    );
    let desc = format!("restore {id} {EN}");
    assert!(log.contains(&desc), "{log}");
    let history = run(&["history", "--repo", site.r()], None);
    let op: i64 = history
        .lines()
        .find(|l| l.contains(&desc))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(log.contains(&format!("action=\"/web/activity/{op}/undo\"")));

    // Undo from the log: the page is gone again.
    let r = form(
        a,
        &cookie,
        &format!("/web/activity/{op}/undo"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(r.status, 303);
    assert!(!has_node(&site.repo, ABOUT));
    assert!(get("/web/activity")
        .text()
        .contains(&format!("Undid operation {op}")));
}

#[test]
fn the_repository_page_shows_a_node_with_its_children_and_properties() {
    let site = Site::new();
    let srv = Server::start(&site);
    let a = &srv.addr;
    let (cookie, _) = log_in(a);
    let r = request(
        a,
        "GET",
        "/web/repository?workspace=default&path=/content/wknd-lite/en/jcr:content",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(t.contains("<h2>/content/wknd-lite/en/jcr:content"), "{t}");
    assert!(t.contains("<td>jcr:title</td>"), "{t}");
    let r = request(
        a,
        "GET",
        "/web/repository?path=/nowhere",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(r.status, 404);
    let r = request(
        a,
        "GET",
        "/web/repository?workspace=nope",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(r.status, 404);
    let r = request(a, "GET", "/web/static/app.js", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
}

/// The flash message of the page a form redirected to.
fn flash_after(a: &str, cookie: &str, r: &Response) -> String {
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.header("location").expect("a redirect").to_string();
    let page = request(a, "GET", &to, &[("Cookie", cookie)], b"").text();
    let at = page.find("class=\"flash").expect("a message on the page");
    let from = at + page[at..].find('>').unwrap() + 1;
    let to = from + page[from..].find("</p>").unwrap();
    page[from..to].to_string()
}

/// The operation id of the newest history line containing `what`.
fn op_of(site: &Site, what: &str) -> i64 {
    let h = run(&["history", "--repo", site.r()], None);
    h.lines()
        .rev()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no operation {what} in\n{h}"))
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn packages_are_uploaded_dry_run_installed_with_a_streamed_log_uninstalled_and_deleted() {
    let site = Site::new();
    let srv = Server::start(&site);
    let a = &srv.addr;
    let (cookie, csrf) = log_in(a);
    let get = |p: &str| request(a, "GET", p, &[("Cookie", &cookie)], b"");
    let page = get("/web/packages").text();
    assert!(page.contains(">Upload package</button>"), "{page}");
    assert!(page.contains("<label for=\"package\">Package file (.zip)</label>"));
    assert!(page.contains("No packages uploaded yet."));
    let send = |fields: &[(&str, &str)], name: &str, data: &[u8]| {
        let (ctype, body) = multipart(fields, ("package", name, data));
        request(
            a,
            "POST",
            "/web/packages/upload",
            &[("Cookie", &cookie), ("Content-Type", &ctype)],
            &body,
        )
    };
    let zip = news_package();

    // Without the form's token: refused, nothing stored.
    let r = send(&[], "news.zip", &zip);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = send(&[("csrf", &"0".repeat(64))], "news.zip", &zip);
    assert_eq!(r.status, 403);
    assert!(!has_node(&site.repo, NEWS_ZIP));
    // Not a zip: refused with a sentence naming the file.
    let r = send(&[("csrf", &csrf)], "notes.zip", b"hello");
    let m = flash_after(a, &cookie, &r);
    assert_eq!(
        m,
        "The upload of notes.zip was refused: error in opening zip file."
    );

    // Uploaded: listed with its four actions.
    let r = send(&[("csrf", &csrf)], "news.zip", &zip);
    let m = flash_after(a, &cookie, &r);
    assert_eq!(
        m,
        format!("Uploaded package {NEWS_PID} from news.zip as {NEWS_ZIP}.")
    );
    let page = get("/web/packages").text();
    assert!(
        page.contains(&format!("data-package=\"{NEWS_ZIP}\"")),
        "{page}"
    );
    for b in ["Install", "Dry run", "Uninstall", "Delete"] {
        assert!(page.contains(&format!(">{b}</button>")), "button {b}");
    }
    assert!(page.contains("not installed"));
    // The same again: refused unless replacing.
    let m = flash_after(a, &cookie, &send(&[("csrf", &csrf)], "news.zip", &zip));
    assert!(m.contains("is already there"), "{m}");

    let path = NEWS_ZIP.replace('/', "%2F");
    let live = |action: &str| {
        let r = form(
            a,
            &cookie,
            "/web/packages/log",
            &format!("csrf={csrf}&path={path}&action={action}"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/x-ndjson"));
        assert_eq!(r.header("transfer-encoding"), Some("chunked"), "streamed");
        r.text()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    // Uninstall before any install: nothing to undo, said so.
    let r = form(
        a,
        &cookie,
        "/web/packages/uninstall",
        &format!("csrf={csrf}&path={path}"),
    );
    let m = flash_after(a, &cookie, &r);
    assert!(
        m.starts_with(&format!("Package {NEWS_PID} cannot be uninstalled")),
        "{m}"
    );

    // Dry run: the log, nothing written.
    let ops_before = run(&["history", "--repo", site.r()], None);
    let out = live("dryrun");
    assert!(
        out.iter().any(|l| l["line"] == format!("A {NEWS}")),
        "{out:?}"
    );
    let last = out.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["success"], true, "{last}");
    let msg = last["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!(
            "Dry run of package {NEWS_PID}: 3 nodes would be added"
        )),
        "{msg}"
    );
    assert_eq!(last["installed"], "not installed");
    assert!(!has_node(&site.repo, NEWS));
    assert_eq!(run(&["history", "--repo", site.r()], None), ops_before);

    // Install, with the log read line by line.
    let out = live("install");
    let last = out.last().unwrap();
    assert_eq!(last["success"], true, "{last}");
    assert!(out.iter().any(|l| l["line"] == format!("A {NEWS}/second")));
    assert!(has_node(&site.repo, &format!("{NEWS}/second")));
    let install_op = op_of(&site, "/news-1.0.zip");
    assert!(
        last["message"].as_str().unwrap().starts_with(&format!(
            "Installed package {NEWS_PID} as operation {install_op}: 3 nodes added"
        )),
        "{last}"
    );
    assert!(
        last["installed"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" by {USER} (operation {install_op})")),
        "{last}"
    );
    let page = get("/web/packages").text();
    assert!(
        page.contains(&format!("(operation {install_op})")),
        "{page}"
    );
    // The activity log lists it with its Undo.
    let log = get("/web/activity").text();
    assert!(log.contains("news-1.0.zip"), "{log}");
    assert!(log.contains(&format!("action=\"/web/activity/{install_op}/undo\"")));

    // Uninstall: jcrpack's undo of that install, in the activity log too.
    let r = form(
        a,
        &cookie,
        "/web/packages/uninstall",
        &format!("csrf={csrf}&path={path}"),
    );
    let m = flash_after(a, &cookie, &r);
    assert!(
        m.starts_with(&format!(
            "Uninstalled package {NEWS_PID}: undid operation {install_op} as operation"
        )),
        "{m}"
    );
    assert!(!has_node(&site.repo, NEWS));
    let uninstall_op = op_of(&site, &format!("uninstall package {NEWS_PID}"));
    let log = get("/web/activity").text();
    assert!(
        log.contains(&format!("uninstall package {NEWS_PID}")),
        "{log}"
    );
    assert!(log.contains(&format!("action=\"/web/activity/{uninstall_op}/undo\"")));

    // Without the script: the form's own answer is the page with the whole log;
    // then the install is undone from the activity log.
    let r = form(
        a,
        &cookie,
        "/web/packages/install",
        &format!("csrf={csrf}&path={path}&action=install"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains(&format!("Installed package {NEWS_PID} as operation")),
        "{t}"
    );
    assert!(t.contains(&format!("A {NEWS}/first\n")), "{t}");
    assert!(has_node(&site.repo, NEWS));
    let second = op_of(&site, "/news-1.0.zip");
    let r = form(
        a,
        &cookie,
        &format!("/web/activity/{second}/undo"),
        &format!("csrf={csrf}"),
    );
    let m = flash_after(a, &cookie, &r);
    assert!(m.starts_with(&format!("Undid operation {second}")), "{m}");
    assert!(!has_node(&site.repo, NEWS));

    // Install without the token: refused, nothing run.
    let r = form(
        a,
        &cookie,
        "/web/packages/log",
        &format!("path={path}&action=install"),
    );
    assert_eq!(r.status, 403);
    assert!(!has_node(&site.repo, NEWS));

    // Delete: gone from the list; then every action names the missing package.
    let r = form(
        a,
        &cookie,
        "/web/packages/delete",
        &format!("csrf={csrf}&path={path}"),
    );
    let m = flash_after(a, &cookie, &r);
    assert_eq!(
        m,
        format!("Deleted package {NEWS_PID} ({NEWS_ZIP}); the content it installed stays.")
    );
    assert!(get("/web/packages")
        .text()
        .contains("No packages uploaded yet."));
    let out = live("install");
    assert_eq!(out.last().unwrap()["success"], false);
    assert_eq!(
        out.last().unwrap()["message"],
        format!("There is no package {NEWS_ZIP}.")
    );
    let r = form(
        a,
        &cookie,
        "/web/packages/delete",
        &format!("csrf={csrf}&path=%2Fetc%2Fx.zip"),
    );
    assert_eq!(
        flash_after(a, &cookie, &r),
        "There is no package /etc/x.zip."
    );
}
