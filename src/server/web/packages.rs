//! The packages section of the page: upload, install with a live log, dry run,
//! uninstall (jcrpack's undo of the package's last install) and delete, over the
//! Package Manager's store ([`registry`]) and its install queue.
//!
//! An install or dry run is one form (`Install` / `Dry run`). Without a script it
//! posts to `/web/packages/install` and the answer is the whole log once the
//! install ended. With the script (`static/app.js`) the same form posts to
//! `/web/packages/log`, whose answer streams one JSON object per line
//! (`application/x-ndjson`) while the install runs: `{"line":"A /content/x"}` for
//! each path FileVault's log names, then `{"done":true,"success":…,"message":…,
//! "installed":…}` (the last: the package row's new "Installed" text).
//! Log lines are handed from the writer thread without ever blocking it: when the
//! reader falls behind by more than [`LIVE_BUFFER`] lines the excess is counted,
//! not kept, and the last message says how many were not shown.

use super::html::{field, Flash, Section};
use super::Page;
use crate::events::{Event, Events};
use crate::server::auth::User;
use crate::server::backups::{self, ApiError};
use crate::server::packmgr::{params, registry};
use crate::server::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use registry::{InstallRequest, PackError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many log lines wait for a slow reader before lines are dropped.
pub const LIVE_BUFFER: usize = 4096;

/// The most bytes of log lines the live log sends as one chunk.
const BATCH: usize = 64 * 1024;

/// How many log lines the page without a script shows.
const PAGE_LINES: usize = 5000;

/// The packages section's routes (behind authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/web/packages", get(packages))
        .route("/web/packages/upload", post(upload))
        .route("/web/packages/install", post(install_page))
        .route("/web/packages/log", post(install_live))
        .route("/web/packages/uninstall", post(uninstall))
        .route("/web/packages/delete", post(delete))
}

async fn packages(State(state): State<AppState>, page: Page) -> Response {
    let flash = page.flash();
    let read = state.read(|store| registry::list(store)).await;
    match read {
        Ok(Ok(list)) => page.render(
            "Packages",
            Section::Packages,
            flash.as_ref(),
            &super::views::packages(&page.viewer, &list),
        ),
        Ok(Err(e)) => page.error(
            "Packages",
            Section::Packages,
            &ApiError::internal(format!("reading the packages: {e}")),
        ),
        Err(e) => page.error("Packages", Section::Packages, &ApiError::from(e)),
    }
}

/// The package's `group:name:version` for messages, else its path.
async fn package_name(state: &AppState, path: &str) -> String {
    let p = path.to_string();
    match state.read(move |s| registry::get(s, &p)).await {
        Ok(Ok(Some(r))) => r.pid(),
        _ => path.to_string(),
    }
}

// ---- upload ----

async fn upload(State(state): State<AppState>, page: Page, req: Request) -> Response {
    let p = match params::read(req, &state.config().tmp_dir).await {
        Ok(p) => p,
        Err(e) => {
            return page.redirect(
                "/web/packages",
                Flash::Error(format!("The upload was refused: {}", e.0)),
            )
        }
    };
    if let Err(r) = page.check_csrf(p.get("csrf")) {
        return r;
    }
    let force = p.flag("force");
    let Some(up) = p.upload else {
        return page.redirect(
            "/web/packages",
            Flash::Error("Choose a package file (.zip) to upload.".into()),
        );
    };
    let file_name = up
        .filename
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "the file".into());
    let actor = backups::actor(&state, &page.user);
    let r = state
        .write(move |store| registry::upload(store, &up.file, force, &actor))
        .await;
    let flash = match r {
        Ok(Ok(rec)) => Flash::Info(format!(
            "Uploaded package {} from {file_name} as {}.",
            rec.pid(),
            rec.path
        )),
        Ok(Err(PackError::Exists(path))) => Flash::Error(format!(
            "The upload of {file_name} was refused: package {path} is already there (tick \"Replace a package with the same name\" to replace it)."
        )),
        Ok(Err(e)) => Flash::Error(format!("The upload of {file_name} was refused: {e}.")),
        Err(e) => Flash::Error(format!("The upload of {file_name} failed: {e}.")),
    };
    page.redirect("/web/packages", flash)
}

// ---- install and dry run ----

/// The install's log as it happens: a path event is one line (`A /content/x`).
struct LiveLog {
    tx: mpsc::Sender<String>,
    dropped: AtomicU64,
}

impl LiveLog {
    fn line(&self, l: String) {
        if self.tx.try_send(l).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Events for LiveLog {
    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::Path { action, path } => self.line(format!("{action} {path}")),
            Event::Warning { message } => self.line(format!("warning: {message}")),
            Event::Phase { .. } | Event::Advance { .. } | Event::Finished => {}
        }
    }
}

/// How an install or dry run ended, as one sentence naming the package.
#[derive(Debug, Clone)]
struct Ended {
    success: bool,
    message: String,
    /// Log lines the reader fell too far behind to get.
    dropped: u64,
    /// The package row's "Installed" text afterwards (`None`: no such package).
    installed: Option<String>,
}

impl Ended {
    /// The install's task itself failed (it panicked or the runtime stopped).
    fn stopped(path: &str, e: &tokio::task::JoinError) -> Ended {
        Ended {
            success: false,
            message: format!("The install of {path} stopped: {e}"),
            dropped: 0,
            installed: None,
        }
    }
}

fn ended_message(
    pid: &str,
    dry_run: bool,
    r: Result<crate::import::Report, PackError>,
) -> (bool, String) {
    match r {
        Ok(rep) => {
            let t = &rep.totals;
            if dry_run {
                (
                    true,
                    format!(
                        "Dry run of package {pid}: {} nodes would be added, {} updated, {} replaced, {} removed, {} unchanged; nothing was changed.",
                        t.added, t.updated, t.replaced, t.deleted, t.unchanged
                    ),
                )
            } else {
                (
                    true,
                    format!(
                        "Installed package {pid}{}: {} nodes added, {} updated, {} replaced, {} removed, {} unchanged. Uninstall, or its Undo in the Activity log, reverts it.",
                        rep.operation
                            .map(|o| format!(" as operation {o}"))
                            .unwrap_or_default(),
                        t.added, t.updated, t.replaced, t.deleted, t.unchanged
                    ),
                )
            }
        }
        Err(PackError::NoPackage) => (false, format!("There is no package {pid}.")),
        Err(e) if dry_run => (false, format!("Dry run of package {pid} failed: {e}")),
        Err(e) => (
            false,
            format!("Installing package {pid} failed, nothing was changed: {e}"),
        ),
    }
}

/// The form's package path and whether it asks for a dry run.
#[allow(clippy::result_large_err)] // the page answered, built once per refusal
fn install_form(page: &Page, body: &Bytes) -> Result<(String, bool), Response> {
    let form = page.form(body)?;
    let dry = field(&form, "action") == Some("dryrun");
    let path = field(&form, "path").unwrap_or("");
    match registry::check_path(path) {
        Ok(p) => Ok((p, dry)),
        Err(_) => Err(page.redirect(
            "/web/packages",
            Flash::Error(format!("There is no package {path}.")),
        )),
    }
}

/// Queues the install (or dry run) of the stored package at `path`: its log lines
/// arrive on the receiver while it runs (it ends when the install did), its
/// outcome from the task.
async fn start(
    state: &AppState,
    user: &User,
    path: String,
    dry_run: bool,
) -> (mpsc::Receiver<String>, tokio::task::JoinHandle<Ended>) {
    let pid = package_name(state, &path).await;
    let (tx, rx) = mpsc::channel(LIVE_BUFFER);
    let log = Arc::new(LiveLog {
        tx,
        dropped: AtomicU64::new(0),
    });
    let actor = backups::actor(state, user);
    let tmp = state.config().tmp_dir.clone();
    let state = state.clone();
    let task = tokio::spawn(async move {
        let r = state
            .write(move |store| {
                let req = InstallRequest {
                    dry_run,
                    ..InstallRequest::default()
                };
                let r = registry::install(store, &path, &req, &actor, log.clone(), &tmp);
                let dropped = log.dropped.load(Ordering::Relaxed);
                let installed = registry::get(store, &path)
                    .ok()
                    .flatten()
                    .map(|p| super::views::installed_text(&p));
                (r, dropped, installed)
                // `log` (the last sender) drops here: the receiver ends.
            })
            .await;
        match r {
            Ok((r, dropped, installed)) => {
                let (success, message) = ended_message(&pid, dry_run, r);
                Ended {
                    success,
                    message,
                    dropped,
                    installed,
                }
            }
            Err(e) => Ended {
                success: false,
                message: format!("Installing package {pid} did not run: {e}"),
                dropped: 0,
                installed: None,
            },
        }
    });
    (rx, task)
}

/// Without the script: the install runs, then the page shows its outcome and log.
async fn install_page(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    let (path, dry) = match install_form(&page, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (mut rx, task) = start(&state, &page.user, path.clone(), dry).await;
    let mut lines = Vec::new();
    let mut more = 0u64;
    while let Some(l) = rx.recv().await {
        if lines.len() < PAGE_LINES {
            lines.push(l);
        } else {
            more += 1;
        }
    }
    let ended = task.await.unwrap_or_else(|e| Ended::stopped(&path, &e));
    let flash = if ended.success {
        Flash::Info(ended.message)
    } else {
        Flash::Error(ended.message)
    };
    let title = if dry { "Dry run" } else { "Install" };
    let mut r = page.render(
        title,
        Section::Packages,
        Some(&flash),
        &super::views::install_log(&lines, more + ended.dropped),
    );
    if !ended.success {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

fn json_line(v: serde_json::Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

/// With the script: the log streamed while the install runs (see the module doc).
/// A reader that goes away does not stop the install; it runs to its end.
async fn install_live(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    let (path, dry) = match install_form(&page, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (mut rx, task) = start(&state, &page.user, path.clone(), dry).await;
    let (out, out_rx) = mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    tokio::spawn(async move {
        let mut gone = false;
        while let Some(l) = rx.recv().await {
            // The lines waiting now go out as one chunk (up to BATCH bytes).
            let mut chunk = json_line(serde_json::json!({ "line": l })).to_vec();
            while chunk.len() < BATCH {
                match rx.try_recv() {
                    Ok(l) => chunk.extend_from_slice(&json_line(serde_json::json!({ "line": l }))),
                    Err(_) => break,
                }
            }
            if !gone && out.send(Ok(Bytes::from(chunk))).await.is_err() {
                gone = true;
            }
        }
        let ended = task.await.unwrap_or_else(|e| Ended::stopped(&path, &e));
        let mut message = ended.message;
        if ended.dropped > 0 {
            message.push_str(&format!(
                " ({} log lines were not shown: the page fell behind.)",
                ended.dropped
            ));
        }
        let _ = out
            .send(Ok(json_line(serde_json::json!({
                "done": true,
                "success": ended.success,
                "message": message,
                "installed": ended.installed,
            }))))
            .await;
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff",
            ),
        ],
        Body::from_stream(LineStream(out_rx)),
    )
        .into_response()
}

struct LineStream(mpsc::Receiver<Result<Bytes, std::convert::Infallible>>);

impl futures_core::Stream for LineStream {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

// ---- uninstall and delete ----

/// The package path of a one-button form, checked.
#[allow(clippy::result_large_err)]
fn path_form(page: &Page, body: &Bytes) -> Result<String, Response> {
    let form = page.form(body)?;
    let path = field(&form, "path").unwrap_or("").to_string();
    registry::check_path(&path).map_err(|_| {
        page.redirect(
            "/web/packages",
            Flash::Error(format!("There is no package {path}.")),
        )
    })
}

/// A package form's write (`Uninstall`, `Delete`): the form's path (its CSRF token
/// checked), the package's name for the messages, `op` through the write queue
/// as the page's user, and the flash it ends with on the packages page. `verb`
/// names the action (`Uninstalling`), `done` the flash of a success, `refused`
/// the one of a refusal other than a missing package.
async fn package_write<T: Send + 'static>(
    state: &AppState,
    page: &Page,
    body: &Bytes,
    verb: &str,
    op: impl FnOnce(
            &mut dyn crate::repository::Store,
            &str,
            &crate::events::Actor,
        ) -> Result<T, PackError>
        + Send
        + 'static,
    done: impl FnOnce(&str, &str, T) -> Flash,
    refused: impl FnOnce(&str, PackError) -> Flash,
) -> Response {
    let path = match path_form(page, body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let pid = package_name(state, &path).await;
    let actor = backups::actor(state, &page.user);
    let p = path.clone();
    let r = state.write(move |store| op(store, &p, &actor)).await;
    let flash = match r {
        Ok(Ok(v)) => done(&pid, &path, v),
        Ok(Err(PackError::NoPackage)) => Flash::Error(format!("There is no package {path}.")),
        Ok(Err(e)) => refused(&pid, e),
        Err(e) => Flash::Error(format!("{verb} package {pid} did not run: {e}")),
    };
    page.redirect("/web/packages", flash)
}

async fn uninstall(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    package_write(
        &state,
        &page,
        &body,
        "Uninstalling",
        registry::uninstall,
        |pid, _, u| Flash::Info(format!("Uninstalled package {pid}: {u}")),
        |pid, e| match e {
            PackError::NoSnapshot => Flash::Error(format!(
                "Package {pid} cannot be uninstalled: this server has no record of installing it, so there is nothing to undo."
            )),
            e => Flash::Error(format!(
                "Uninstalling package {pid} was refused, nothing was changed: {e}"
            )),
        },
    )
    .await
}

async fn delete(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    package_write(
        &state,
        &page,
        &body,
        "Deleting",
        registry::delete,
        |pid, path, ()| {
            Flash::Info(format!(
                "Deleted package {pid} ({path}); the content it installed stays."
            ))
        },
        |pid, e| {
            Flash::Error(format!(
                "Deleting package {pid} was refused, nothing was changed: {e}"
            ))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_reader_never_blocks_the_install_and_learns_how_much_it_missed() {
        let (tx, mut rx) = mpsc::channel(2);
        let log = LiveLog {
            tx,
            dropped: AtomicU64::new(0),
        };
        for p in ["/a", "/b", "/c"] {
            log.event(&Event::Path {
                action: 'A',
                path: p,
            });
        }
        log.event(&Event::Advance { amount: 1 });
        assert_eq!(rx.try_recv().unwrap(), "A /a");
        assert_eq!(rx.try_recv().unwrap(), "A /b");
        assert!(rx.try_recv().is_err());
        assert_eq!(log.dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn every_outcome_names_the_package() {
        let (ok, m) = ended_message("g:n:1", true, Ok(crate::import::Report::default()));
        assert!(ok && m.starts_with("Dry run of package g:n:1:"), "{m}");
        assert!(m.contains("nothing was changed"));
        let (ok, m) = ended_message("g:n:1", false, Err(PackError::NotAPackage));
        assert!(!ok && m.contains("Installing package g:n:1 failed"), "{m}");
    }
}
