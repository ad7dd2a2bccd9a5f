//! AEM's Package Manager HTTP API, wave 1 (`shared/reference/packmgr-api.md` §4),
//! so that aemsync, Adobe's `repo`, pyaem2 and the Maven and Gradle plugins work
//! against `jcrpack serve` unchanged:
//!
//! * `/crx/packmgr/service.jsp`: the XML API (`help`, `ls`, upload with `file`,
//!   `force`, `install`, and `inst`, `uninst`, `rm`, `build` by `name`/`group`);
//! * `/crx/packmgr/service/{,exec,console,script}.{json,html}[/etc/packages/…][/]`
//!   with `cmd` = `upload`, `install`, `dryrun`, `uninstall`, `build`, `delete`,
//!   `create` (`replicate` answers that there is no publish tier);
//! * `list.jsp`, `installstatus.jsp`, `update.jsp`, `index.jsp`, `download.jsp`,
//!   `GET /etc/packages/…zip`, and the console URLs the plugins poll.
//!
//! Package-level failures are HTTP 200 with `"success":false` (or `<status
//! code="500">`), never 201; only malformed requests get 4xx. Packages are stored by
//! [`registry`]; [`params`] merges the parameters; [`render`] writes the answers.

pub mod downloads;
pub mod params;
pub mod registry;
pub mod render;

use super::auth::User;
use super::state::AppState;
use crate::events::{Actor, OwnedEvent, Recorded};
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use registry::{InstallRequest, PackError, PackageRecord};
use render::LogLine;
use std::sync::Arc;
use std::time::Instant;

/// The Package Manager's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crx/packmgr/service.jsp", any(service_jsp))
        .route("/crx/packmgr/service/{*rest}", any(service))
        .route("/crx/packmgr/list.jsp", any(list_jsp))
        .route("/crx/packmgr/installstatus.jsp", any(install_status))
        .route("/crx/packmgr/update.jsp", any(update_jsp))
        .route("/crx/packmgr/index.jsp", any(index_jsp))
        .route("/crx/packmgr/download.jsp", get(download_jsp))
        .route("/etc/packages/{*rest}", get(download_path))
        .route("/system/console/bundles/.json", get(bundles))
        .route("/system/console/bundles.json", get(bundles))
}

fn actor(state: &AppState, user: &User) -> Actor {
    Actor {
        user: user.name.clone(),
        time: state.now(),
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn json_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
        .into_response()
}

fn html_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        body,
    )
        .into_response()
}

fn xml_response(body: String) -> Response {
    text(StatusCode::OK, body)
}

fn server_error(e: super::ServerError) -> Response {
    match e {
        super::ServerError::Stopped => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
        e => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// What a command did, for every rendering.
struct Outcome {
    success: bool,
    msg: String,
    path: Option<String>,
    lines: Vec<LogLine>,
    /// `Package installed in 12ms.`
    footer: String,
    /// Render the HTML flavour as CRX's "Error during processing." page.
    error_page: bool,
    package: Option<PackageRecord>,
}

impl Outcome {
    fn ok(msg: &str, path: Option<String>) -> Outcome {
        Outcome {
            success: true,
            msg: msg.to_string(),
            path,
            lines: Vec::new(),
            footer: String::new(),
            error_page: false,
            package: None,
        }
    }

    fn fail(e: &PackError) -> Outcome {
        Outcome {
            success: false,
            msg: e.to_string(),
            path: None,
            lines: Vec::new(),
            footer: String::new(),
            error_page: true,
            package: None,
        }
    }
}

// ---------------------------------------------------------------------------
// The commands, run on the writer thread (writes) or the blocking pool (reads).

fn install_outcome(
    result: Result<crate::import::Report, PackError>,
    recorded: &Recorded,
    started: Instant,
    dry_run: bool,
) -> Outcome {
    let ms = started.elapsed().as_millis();
    match result {
        Ok(report) => {
            let mut lines = render::install_log(&report, ms);
            let footer = if dry_run {
                format!("Package simulated in {ms}ms.")
            } else {
                format!("Package installed in {ms}ms.")
            };
            lines.push(LogLine::Text(footer.clone()));
            let mut o = Outcome::ok(
                if dry_run {
                    "Package dry run finished, nothing was changed"
                } else {
                    "Package installed"
                },
                None,
            );
            o.lines = lines;
            o.footer = footer;
            o
        }
        Err(e) => {
            let before: Vec<(char, String)> = recorded
                .events()
                .into_iter()
                .filter_map(|ev| match ev {
                    OwnedEvent::Path { action, path } if action != 'E' => Some((action, path)),
                    _ => None,
                })
                .collect();
            let path = match &e {
                PackError::Install(ie) => ie.path().map(str::to_string),
                _ => None,
            };
            let msg = e.to_string();
            let mut o = Outcome::fail(&e);
            o.lines = render::failed_install_log(&before, path.as_deref(), &msg);
            o
        }
    }
}

async fn run_install(
    state: &AppState,
    user: &User,
    path: String,
    req: InstallRequest,
) -> Result<Outcome, super::ServerError> {
    let actor = actor(state, user);
    let tmp = state.config().tmp_dir.clone();
    state
        .write(move |store| {
            let recorded = Arc::new(Recorded::default());
            let started = Instant::now();
            let dry = req.dry_run;
            let r = registry::install(store, &path, &req, &actor, recorded.clone(), &tmp);
            let mut o = install_outcome(r, &recorded, started, dry);
            if let Ok(p) = registry::get(store, &path) {
                o.package = p;
            }
            o
        })
        .await
}

/// The install options clients send (`shared/reference/packmgr-api.md` §4):
/// `acHandling` (empty: the package's own), `dependencyHandling`
/// (`required`/`strict` refuse missing dependencies), `extractOnly`, `recursive`
/// (absent: true, as every client sends it). `autosave` (FileVault's save every N
/// nodes) is accepted and changes nothing: the whole install is one transaction,
/// committed once. An `acHandling` FileVault does not know is refused, as
/// FileVault's `AccessControlHandling.valueOf` does.
fn install_request(p: &params::Params, dry_run: bool) -> Result<InstallRequest, PackError> {
    let ac_handling = match p.get("acHandling").filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(
            crate::properties::AcHandling::from_name(name)
                .ok_or_else(|| PackError::Invalid(format!("unknown acHandling '{name}'")))?,
        ),
    };
    if let Some(n) = p.get("autosave").filter(|s| !s.is_empty()) {
        if n.trim().parse::<i64>().is_err() {
            return Err(PackError::Invalid(format!(
                "autosave '{n}' is not a number"
            )));
        }
    }
    Ok(InstallRequest {
        dry_run,
        ac_handling,
        require_dependencies: matches!(p.get("dependencyHandling"), Some("required" | "strict")),
        extract_only: p.get("extractOnly") == Some("true"),
        not_recursive: p.get("recursive") == Some("false"),
    })
}

async fn run_upload(
    state: &AppState,
    user: &User,
    upload: params::Upload,
    force: bool,
) -> Result<Result<PackageRecord, PackError>, super::ServerError> {
    let actor = actor(state, user);
    let file = upload.file;
    state
        .write(move |store| registry::upload(store, &file, force, &actor))
        .await
}

async fn run_simple(
    state: &AppState,
    user: &User,
    cmd: &str,
    path: String,
) -> Result<Outcome, super::ServerError> {
    let actor = actor(state, user);
    let tmp = state.config().tmp_dir.clone();
    let cmd = cmd.to_string();
    state
        .write(move |store| {
            let started = Instant::now();
            let ms = || started.elapsed().as_millis();
            match cmd.as_str() {
                "delete" => match registry::delete(store, &path, &actor) {
                    Ok(()) => {
                        let mut o = Outcome::ok("Package deleted", None);
                        o.lines = vec![LogLine::Text("Package deleted.".into())];
                        o.footer = format!("Package deleted in {}ms.", ms());
                        o
                    }
                    Err(e) => Outcome::fail(&e),
                },
                "build" => match registry::build(store, &path, &actor, &tmp) {
                    Ok(r) => {
                        let mut o = Outcome::ok("Package built", Some(r.path.clone()));
                        o.lines = vec![LogLine::Text("Package built.".into())];
                        o.footer = format!("Package built in {}ms.", ms());
                        o.package = Some(r);
                        o
                    }
                    Err(e) => Outcome::fail(&e),
                },
                _ => {
                    let pid = registry::get(store, &path)
                        .ok()
                        .flatten()
                        .map(|r| r.pid())
                        .unwrap_or_default();
                    match registry::uninstall(store, &path, &actor) {
                        Ok(u) => {
                            let mut o = Outcome::ok("Package uninstalled", None);
                            o.lines = vec![
                                LogLine::Text(format!("Uninstalling package from snapshot {pid}")),
                                LogLine::Text(format!(
                                    "Undid operation {}: {} nodes removed, {} restored, {} reverted, {} properties reverted.",
                                    u.undone.map(|i| i.0).unwrap_or(0),
                                    u.nodes_removed,
                                    u.nodes_restored,
                                    u.nodes_reverted,
                                    u.properties_reverted
                                )),
                                LogLine::Text("Package uninstalled.".into()),
                            ];
                            o.footer = format!("Package uninstalled in {}ms.", ms());
                            o.package = registry::get(store, &path).ok().flatten();
                            o
                        }
                        Err(e @ PackError::NoSnapshot) => {
                            let mut o = Outcome::fail(&e);
                            o.lines = vec![LogLine::Text(
                                "Unable to revert package content. Snapshot missing.".into(),
                            )];
                            o.footer = format!("Package not uninstalled in {}ms.", ms());
                            o.error_page = false;
                            o
                        }
                        Err(e) => Outcome::fail(&e),
                    }
                }
            }
        })
        .await
}

// ---------------------------------------------------------------------------
// The streamed HTML install log (`service/.html/…?cmd=install`, `console.html`).

/// Sends every path the install acts on to the page as one HTML line (an error's
/// `E` line comes with its message at the end, as in the page sent whole). The
/// queue is unbounded so that a slow client never holds the writer: it holds at
/// most one line per path, as the install's own report does.
struct HtmlLines(tokio::sync::mpsc::UnboundedSender<Bytes>);

impl crate::events::Events for HtmlLines {
    fn event(&self, event: &crate::events::Event<'_>) {
        if let crate::events::Event::Path { action, path } = event {
            if *action != 'E' {
                let line = LogLine::Path(*action, (*path).to_string(), None);
                let _ = self.0.send(Bytes::from(render::html_line(&line)));
            }
        }
    }
}

/// Answers at once with the page's head and the log's first lines, then one line
/// per path as the install (queued behind the running writes) acts on it, then
/// its result: the same page as [`render::html_log`] (or [`render::html_error`])
/// sends whole, in chunks as the install progresses.
fn streamed_install(state: AppState, user: User, path: String, req: InstallRequest) -> Response {
    let title = "Installing content";
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let mut head = render::html_log_start(title);
    for l in render::install_log_head(req.dry_run) {
        head.push_str(&render::html_line(&l));
    }
    let _ = tx.send(Bytes::from(head));
    let actor = actor(&state, &user);
    let tmp = state.config().tmp_dir.clone();
    let sink = Arc::new(HtmlLines(tx.clone()));
    tokio::spawn(async move {
        let dry = req.dry_run;
        let done = state
            .write(move |store| {
                let started = Instant::now();
                let r = registry::install(store, &path, &req, &actor, sink, &tmp);
                (r, started.elapsed().as_millis())
            })
            .await;
        let end = match done {
            Ok((Ok(report), ms)) => {
                let mut end = String::new();
                for l in render::install_log_tail(&report, ms) {
                    end.push_str(&render::html_line(&l));
                }
                end.push_str(&render::html_log_end(&if dry {
                    format!("Package simulated in {ms}ms.")
                } else {
                    format!("Package installed in {ms}ms.")
                }));
                end
            }
            Ok((Err(e), _)) => {
                let at = match &e {
                    PackError::Install(ie) => ie.path().unwrap_or("/").to_string(),
                    _ => "/".to_string(),
                };
                let msg = e.to_string();
                let line = LogLine::Path('E', at, Some(msg.clone()));
                format!(
                    "{}{}",
                    render::html_line(&line),
                    render::html_error_end(&msg)
                )
            }
            Err(e) => render::html_error_end(&e.to_string()),
        };
        let _ = tx.send(Bytes::from(end));
    });
    let body = Body::from_stream(UnboundedStream(rx));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        body,
    )
        .into_response()
}

struct UnboundedStream(tokio::sync::mpsc::UnboundedReceiver<Bytes>);

impl futures_core::Stream for UnboundedStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|o| o.map(Ok))
    }
}

// ---------------------------------------------------------------------------
// service/{selector}.{ext}[package path][/]

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
    Script,
}

/// Splits `.json/etc/packages/g/n.zip/` into the format and the package path.
fn parse_service_path(rest: &str) -> Option<(Format, Option<String>)> {
    let (head, suffix) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let format = match head {
        ".json" | "exec.json" => Format::Json,
        ".html" | "console.html" => Format::Html,
        "script.html" => Format::Script,
        _ => return None,
    };
    let suffix = suffix.strip_suffix('/').unwrap_or(suffix);
    let path = (!suffix.is_empty()).then(|| suffix.to_string());
    Some((format, path))
}

fn render_outcome(format: Format, title: &str, o: &Outcome) -> Response {
    let json = render::json(o.success, &o.msg, o.path.as_deref());
    match format {
        Format::Json => json_response(json),
        Format::Script => html_response(render::script_html(&json)),
        Format::Html => {
            if o.success || !o.error_page {
                let mut lines = o.lines.clone();
                // The footer is the page's last line; not repeated in the list.
                if lines
                    .last()
                    .is_some_and(|l| *l == LogLine::Text(o.footer.clone()))
                {
                    lines.pop();
                }
                html_response(render::html_log(title, &lines, &o.footer))
            } else {
                html_response(render::html_error(title, &o.lines, &o.msg))
            }
        }
    }
}

async fn service(
    State(state): State<AppState>,
    UrlPath(rest): UrlPath<String>,
    user: User,
    req: Request,
) -> Response {
    let Some((format, pkg_path)) = parse_service_path(&rest) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    if req.method() != Method::POST {
        // adamcin's availability probe: GET service/exec.json → 405 "service up".
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return r;
    }
    // The path and the method first: an unknown URL's body is not read.
    let p =
        match <params::Params as axum::extract::FromRequest<AppState>>::from_request(req, &state)
            .await
        {
            Ok(p) => p,
            Err(r) => return r,
        };
    let cmd = p.get("cmd").unwrap_or("").to_string();
    let checked = |path: &Option<String>| -> Result<String, Response> {
        match path {
            None => Err(render_outcome(
                format,
                "Processing",
                &Outcome::fail(&PackError::NoPackage),
            )),
            Some(pp) => registry::check_path(pp)
                .map_err(|e| text(StatusCode::BAD_REQUEST, format!("{e}\n"))),
        }
    };
    match cmd.as_str() {
        "upload" => {
            let install_req = install_request(&p, false);
            let Some(upload) = p.upload else {
                let o = Outcome::fail(&PackError::Invalid(
                    "no package file in the request (multipart part 'package')".into(),
                ));
                return render_outcome(format, "Uploading package", &o);
            };
            let force = p.all.iter().any(|(k, v)| k == "force" && v == "true");
            let install = p.all.iter().any(|(k, v)| k == "install" && v == "true");
            let stored = match run_upload(&state, &user, upload, force).await {
                Ok(r) => r,
                Err(e) => return server_error(e),
            };
            match stored {
                Ok(rec) => {
                    if install {
                        let req = match install_req {
                            Ok(r) => r,
                            Err(e) => {
                                let o = Outcome::fail(&e);
                                return render_outcome(format, "Installing content", &o);
                            }
                        };
                        match run_install(&state, &user, rec.path.clone(), req).await {
                            Ok(mut o) => {
                                if o.success {
                                    o.msg = "Package uploaded and installed".into();
                                    o.path = Some(rec.path.clone());
                                }
                                render_outcome(format, "Installing content", &o)
                            }
                            Err(e) => server_error(e),
                        }
                    } else {
                        render_outcome(
                            format,
                            "Uploading package",
                            &Outcome::ok("Package uploaded", Some(rec.path)),
                        )
                    }
                }
                Err(e) => render_outcome(format, "Uploading package", &Outcome::fail(&e)),
            }
        }
        "install" | "dryrun" => {
            let path = match checked(&pkg_path) {
                Ok(p) => p,
                Err(r) => return r,
            };
            let req = match install_request(&p, cmd == "dryrun") {
                Ok(r) => r,
                Err(e) => return render_outcome(format, "Installing content", &Outcome::fail(&e)),
            };
            if format == Format::Html {
                return streamed_install(state, user, path, req);
            }
            match run_install(&state, &user, path, req).await {
                Ok(o) => render_outcome(format, "Installing content", &o),
                Err(e) => server_error(e),
            }
        }
        "uninstall" | "delete" | "build" => {
            let path = match checked(&pkg_path) {
                Ok(p) => p,
                Err(r) => return r,
            };
            let title = match cmd.as_str() {
                "uninstall" => "Uninstalling content",
                "delete" => "Deleting package",
                _ => "Building package",
            };
            match run_simple(&state, &user, &cmd, path).await {
                Ok(o) => render_outcome(format, title, &o),
                Err(e) => server_error(e),
            }
        }
        "create" => {
            let group = p.get("groupName").unwrap_or("").to_string();
            let name = p.get("packageName").unwrap_or("").to_string();
            let version = p.get("packageVersion").unwrap_or("").to_string();
            if name.is_empty() {
                let o = Outcome::fail(&PackError::Invalid("packageName is missing".into()));
                return render_outcome(format, "Creating package", &o);
            }
            let id = crate::package_id::PackageId::new(&group, &name, &version);
            let actor = actor(&state, &user);
            let tmp = state.config().tmp_dir.clone();
            let r = state
                .write(move |store| {
                    registry::define(
                        store,
                        &id,
                        &crate::filter::WorkspaceFilter::default(),
                        None,
                        &actor,
                        &tmp,
                    )
                })
                .await;
            match r {
                Ok(Ok(rec)) => render_outcome(
                    format,
                    "Creating package",
                    &Outcome::ok("Package created", Some(rec.path)),
                ),
                Ok(Err(e)) => render_outcome(format, "Creating package", &Outcome::fail(&e)),
                Err(e) => server_error(e),
            }
        }
        "replicate" => render_outcome(
            format,
            "Replicating package",
            &Outcome::fail(&PackError::Invalid("replication not supported".into())),
        ),
        "contents" | "preview" => {
            let path = match checked(&pkg_path) {
                Ok(p) => p,
                Err(r) => return r,
            };
            match state.read(move |s| registry::get(s, &path)).await {
                Ok(Ok(Some(rec))) => render_outcome(
                    format,
                    "Package contents",
                    &Outcome::ok("Package found", Some(rec.path)),
                ),
                Ok(Ok(None)) => render_outcome(
                    format,
                    "Package contents",
                    &Outcome::fail(&PackError::NoPackage),
                ),
                Ok(Err(e)) => render_outcome(format, "Package contents", &Outcome::fail(&e)),
                Err(e) => server_error(e),
            }
        }
        other => render_outcome(
            format,
            "Processing",
            &Outcome::fail(&PackError::Invalid(format!("unknown command '{other}'"))),
        ),
    }
}

// ---------------------------------------------------------------------------
// service.jsp

async fn service_jsp(State(state): State<AppState>, user: User, p: params::Params) -> Response {
    let echo: Vec<(String, String)> = p.echo().to_vec();
    let env = |data: String, code: u16, status: &str| {
        xml_response(render::xml_envelope(&user.name, &echo, &data, code, status))
    };
    let cmd = p.get("cmd").map(str::to_string);
    let has_file = p.upload.as_ref().is_some_and(|u| u.field == "file");
    if has_file && cmd.is_none() {
        let force = p.flag("force");
        let install = p.flag("install");
        let req = install_request(&p, false);
        let upload = p.upload.expect("checked");
        let stored = match run_upload(&state, &user, upload, force).await {
            Ok(r) => r,
            Err(e) => return server_error(e),
        };
        let rec = match stored {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                let log = render::xml_log(&[LogLine::Path('E', "/".into(), Some(msg.clone()))]);
                return env(log, 500, &msg);
            }
        };
        if !install {
            return env(render::xml_package(&rec), 200, "ok");
        }
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                let log =
                    render::xml_log(&[LogLine::Path('E', rec.path.clone(), Some(e.to_string()))]);
                return env(
                    format!("{}{log}", render::xml_package(&rec)),
                    500,
                    &e.to_string(),
                );
            }
        };
        let o = match run_install(&state, &user, rec.path.clone(), req).await {
            Ok(o) => o,
            Err(e) => return server_error(e),
        };
        let pkg = o.package.as_ref().unwrap_or(&rec);
        let data = format!("{}{}", render::xml_package(pkg), render::xml_log(&o.lines));
        return if o.success {
            env(data, 200, "ok")
        } else {
            env(
                data,
                500,
                "Package installation failed, nothing was changed",
            )
        };
    }
    match cmd.as_deref().unwrap_or("help") {
        "help" => env(render::xml_escape(render::HELP), 200, "ok"),
        "ls" => match state.read(|s| registry::list(s)).await {
            Ok(Ok(list)) => {
                let mut data = String::from("<packages>");
                for r in &list {
                    data.push_str(&render::xml_package(r));
                }
                data.push_str("</packages>");
                env(data, 200, "ok")
            }
            Ok(Err(e)) => env(String::new(), 500, &e.to_string()),
            Err(e) => server_error(e),
        },
        c @ ("inst" | "uninst" | "rm" | "build") => {
            let name = p.get("name").unwrap_or("").to_string();
            let group = p.get("group").map(str::to_string);
            let found = state
                .read(move |s| {
                    registry::list(s).map(|l| {
                        l.into_iter()
                            .filter(|r| {
                                (r.name == name || r.download_name() == name)
                                    && group.as_ref().is_none_or(|g| *g == r.group)
                            })
                            .max_by(|a, b| {
                                a.created
                                    .map(|d| d.epoch_millis())
                                    .cmp(&b.created.map(|d| d.epoch_millis()))
                            })
                    })
                })
                .await;
            let rec = match found {
                Ok(Ok(Some(r))) => r,
                Ok(Ok(None)) => {
                    let log = render::xml_log(&[]);
                    return env(log, 500, "no package");
                }
                Ok(Err(e)) => return env(String::new(), 500, &e.to_string()),
                Err(e) => return server_error(e),
            };
            let o = if c == "inst" {
                let req = match install_request(&p, false) {
                    Ok(r) => r,
                    Err(e) => return env(String::new(), 500, &e.to_string()),
                };
                run_install(&state, &user, rec.path.clone(), req).await
            } else {
                let cmd = match c {
                    "uninst" => "uninstall",
                    "rm" => "delete",
                    _ => "build",
                };
                run_simple(&state, &user, cmd, rec.path.clone()).await
            };
            let o = match o {
                Ok(o) => o,
                Err(e) => return server_error(e),
            };
            let mut data = match (&o.package, c) {
                (_, "rm") => String::new(),
                (Some(p), _) => render::xml_package(p),
                (None, _) => render::xml_package(&rec),
            };
            let mut lines = o.lines.clone();
            if !o.success && lines.is_empty() {
                lines.push(LogLine::Path('E', rec.path.clone(), Some(o.msg.clone())));
            }
            data.push_str(&render::xml_log(&lines));
            if o.success {
                env(data, 200, "ok")
            } else {
                env(data, 500, &o.msg)
            }
        }
        other => env(String::new(), 500, &format!("unknown command '{other}'")),
    }
}

// ---------------------------------------------------------------------------
// list.jsp, installstatus.jsp, update.jsp, index.jsp, downloads, shims

async fn list_jsp(State(state): State<AppState>, _user: User, p: params::Params) -> Response {
    let name = p.get("name").map(str::to_string);
    let group = p.get("group").map(str::to_string);
    let path = p.get("path").map(str::to_string);
    let q = p.get("q").map(str::to_lowercase);
    match state.read(|s| registry::list(s)).await {
        Ok(Ok(list)) => {
            let results: Vec<serde_json::Value> = list
                .iter()
                .filter(|r| name.as_ref().is_none_or(|n| *n == r.name))
                .filter(|r| group.as_ref().is_none_or(|g| *g == r.group))
                .filter(|r| path.as_ref().is_none_or(|pp| *pp == r.path))
                .filter(|r| {
                    q.as_ref().is_none_or(|q| {
                        r.name.to_lowercase().contains(q) || r.group.to_lowercase().contains(q)
                    })
                })
                .map(render::list_item)
                .collect();
            let total = results.len();
            json_response(serde_json::json!({ "results": results, "total": total }).to_string())
        }
        Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        Err(e) => server_error(e),
    }
}

async fn install_status(State(state): State<AppState>, _user: User) -> Response {
    let n = state.queued();
    json_response(format!(
        "{{\"status\":{{\"finished\":{},\"itemCount\":{n}}}}}",
        n == 0
    ))
}

async fn update_jsp(State(state): State<AppState>, user: User, p: params::Params) -> Response {
    let Some(path) = p.get("path").map(str::to_string) else {
        return json_response(render::json(false, "path is missing", None));
    };
    let path = match registry::check_path(&path) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let filter = match p.get("filter") {
        Some(f) => match registry::filter_from_json(f) {
            Ok(f) => Some(f),
            Err(e) => return json_response(render::json(false, &e.to_string(), None)),
        },
        None => None,
    };
    let group = p.get("groupName").map(str::to_string);
    let name = p.get("packageName").map(str::to_string);
    let version = p.get("version").map(str::to_string);
    let actor = actor(&state, &user);
    let tmp = state.config().tmp_dir.clone();
    let r = state
        .write(move |store| {
            let old = registry::get(store, &path)?.ok_or(PackError::NoPackage)?;
            let id = crate::package_id::PackageId::new(
                group.as_deref().unwrap_or(&old.group),
                name.as_deref().unwrap_or(&old.name),
                version.as_deref().unwrap_or(&old.version),
            );
            let filter = match filter {
                Some(f) => f,
                None => registry_filter(&old),
            };
            registry::define(store, &id, &filter, Some(&path), &actor, &tmp)
        })
        .await;
    match r {
        Ok(Ok(rec)) => json_response(render::json(true, "Package updated", Some(&rec.path))),
        Ok(Err(e)) => json_response(render::json(false, &e.to_string(), None)),
        Err(e) => server_error(e),
    }
}

fn registry_filter(r: &PackageRecord) -> crate::filter::WorkspaceFilter {
    let sets = r
        .filter
        .iter()
        .map(|(root, rules)| {
            let mut set = crate::filter::FilterSet::new(root);
            for (inc, pat) in rules {
                if let Ok(rule) = crate::filter::Rule::new(*inc, pat) {
                    set = set.with_rule(rule);
                }
            }
            set
        })
        .collect();
    crate::filter::WorkspaceFilter::with_sets(sets)
}

async fn index_jsp(_user: User) -> Response {
    html_response(
        "<html><head><title>Package Manager</title></head><body>jcrpack Package Manager API</body></html>\n"
            .into(),
    )
}

async fn download_jsp(State(state): State<AppState>, _user: User, req: Request) -> Response {
    let q = req.uri().query().unwrap_or("");
    let path = params::parse_urlencoded(q.as_bytes())
        .into_iter()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v);
    match path {
        Some(p) => download(state, &p).await,
        None => text(StatusCode::BAD_REQUEST, "path is missing\n"),
    }
}

async fn download_path(
    State(state): State<AppState>,
    UrlPath(rest): UrlPath<String>,
    _user: User,
) -> Response {
    download(state, &format!("/etc/packages/{rest}")).await
}

/// Streams the stored zip at `path` out of the blob store (a small one from memory
/// while its path names the same blob: [`downloads`]).
async fn download(state: AppState, path: &str) -> Response {
    let path = match registry::check_path(path) {
        Ok(p) => p,
        Err(_) => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let cache = state.clone();
    let opened = state
        .read(move |s| -> Result<Option<(String, Zip)>, PackError> {
            let cache = cache.downloads();
            if let Some(hit) = cache.get(s, &path) {
                return Ok(Some((hit.file_name, Zip::Whole(hit.bytes))));
            }
            let Some(r) = registry::get(s, &path)? else {
                return Ok(None);
            };
            let mut reader = registry::open_zip(s, &r)?;
            // A small package is read here, in the read's one trip to the reader
            // pool, and kept; a large one is streamed from the tokio blocking pool.
            if r.size <= SMALL_DOWNLOAD {
                let mut all = Vec::with_capacity(r.size as usize);
                reader
                    .read_to_end(&mut all)
                    .map_err(|e| PackError::Invalid(format!("reading {}: {e}", r.path)))?;
                let bytes = Bytes::from(all);
                if let Some(sha256) = r.blob.clone() {
                    let entry = downloads::Cached {
                        sha256,
                        file_name: r.download_name(),
                        bytes: bytes.clone(),
                    };
                    cache.put(&path, entry);
                }
                return Ok(Some((r.download_name(), Zip::Whole(bytes))));
            }
            Ok(Some((r.download_name(), Zip::Stream(reader, r.size))))
        })
        .await;
    let (file_name, zip) = match opened {
        Ok(Ok(Some(x))) => x,
        Ok(Ok(None)) => return text(StatusCode::NOT_FOUND, "not found\n"),
        Ok(Err(e)) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        Err(e) => return server_error(e),
    };
    let disposition = format!("attachment; filename=\"{}\"", file_name.replace('"', "_"));
    let headers = [
        (header::CONTENT_TYPE, "application/zip".to_string()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    let (mut reader, size) = match zip {
        Zip::Whole(bytes) => return (StatusCode::OK, headers, bytes).into_response(),
        Zip::Stream(r, size) => (r, size),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_LENGTH, size.to_string())],
        headers,
        Body::from_stream(ChannelStream(rx)),
    )
        .into_response()
}

/// Packages up to this size are downloaded from one buffer.
const SMALL_DOWNLOAD: u64 = 256 * 1024;

/// A stored package's bytes: whole, or a reader to stream (and its size).
enum Zip {
    Whole(Bytes),
    Stream(Box<dyn std::io::Read + Send>, u64),
}

struct ChannelStream(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for ChannelStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The one synthetic bundle the Maven and Gradle plugins' readiness checks need.
async fn bundles(State(state): State<AppState>, _user: User) -> Response {
    if !state.config().aem_shims {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    json_response(format!(
        "{{\"status\":\"Bundle information: 1 bundle in total - all 1 bundles active.\",\"s\":[1,1,0,0,0],\"data\":[{{\"id\":0,\"name\":\"jcrpack\",\"symbolicName\":\"jcrpack\",\"version\":\"{}\",\"stateRaw\":32,\"state\":\"Active\",\"fragment\":false}}]}}",
        env!("CARGO_PKG_VERSION")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_paths() {
        assert_eq!(parse_service_path(".json"), Some((Format::Json, None)));
        assert_eq!(parse_service_path(".json/"), Some((Format::Json, None)));
        assert_eq!(
            parse_service_path(".json/etc/packages/g/n-1.zip/"),
            Some((Format::Json, Some("/etc/packages/g/n-1.zip".into())))
        );
        assert_eq!(
            parse_service_path("console.html/etc/packages/g/n.zip"),
            Some((Format::Html, Some("/etc/packages/g/n.zip".into())))
        );
        assert_eq!(parse_service_path("exec.json"), Some((Format::Json, None)));
        assert_eq!(
            parse_service_path("script.html"),
            Some((Format::Script, None))
        );
        assert_eq!(parse_service_path("x.txt"), None);
    }
}
