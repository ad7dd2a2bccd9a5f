//! The page of `jcrpack serve`: server-rendered HTML (string templates in
//! [`html`] and [`views`]) with a little plain JavaScript (`static/app.js`: a
//! running backup's progress bar, an install's log streamed into the page), no
//! build step.
//!
//! Sections: the repository tree per workspace with each node's properties;
//! packages ([`packages`]: upload, install with a live log, dry run, uninstall,
//! delete); backups (create with a progress bar and
//! Cancel, verify, delete); restore (tick subtrees of a backup, `Show
//! differences`, `Confirm restore`); the activity log with `Undo`.
//!
//! A browser logs in with the form at `/web/login` and gets a session
//! ([`session`]): an `HttpOnly`, `SameSite=Strict` cookie, and a CSRF token that
//! every form of the page sends back (a hidden `csrf` field, checked by each POST
//! handler here) and that a script's write to the API sends as `X-CSRF-Token`
//! (checked by the session hook this module installs into the server's
//! authentication: a write with the cookie but without the token gets no user).

pub mod html;
pub mod packages;
pub mod session;
pub mod views;

use super::auth::{SessionHook, User};
use super::backups::{self, ApiError, RestoreAsk};
use super::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path as UrlPath, RawQuery, State};
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use html::{field, fields, parse_form, Flash, Section, Viewer};
use session::{same_token, token_in_cookies, Sessions};
use std::sync::Arc;

const APP_CSS: &str = include_str!("static/app.css");
const APP_JS: &str = include_str!("static/app.js");

/// How deep the restore page shows a backup's tree below where it starts.
const TREE_DEPTH: usize = 4;
/// At most this many nodes in the restore tree (deeper ones through "show below").
const TREE_NODES: usize = 400;
/// At most this many children on the repository page.
const CHILDREN_SHOWN: usize = 500;

/// The session hook: a request with a live session cookie has its user; a write
/// (not GET/HEAD) also needs the session's CSRF token in `X-CSRF-Token`, except
/// the page's own forms (`/web/...`), whose handlers check the `csrf` field.
struct Hook {
    sessions: Sessions,
}

fn cookie_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| token_in_cookies(v).map(str::to_string))
}

impl SessionHook for Hook {
    fn user(&self, parts: &Parts) -> Option<User> {
        let s = self.sessions.get(&cookie_token(parts)?)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe && !parts.uri.path().starts_with("/web/") {
            let sent = parts.headers.get("x-csrf-token")?.to_str().ok()?;
            if !same_token(sent, &s.csrf) {
                return None;
            }
        }
        Some(User { name: s.user })
    }

    fn challenge(&self, parts: &Parts) -> Option<Response> {
        let path = parts.uri.path();
        if path.starts_with("/web") && parts.method == Method::GET {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/web/backups");
            return Some(
                Redirect::to(&format!("/web/login?next={}", html::url(next))).into_response(),
            );
        }
        None
    }
}

/// Installs the page's sessions into the server's authentication, and picks up
/// the backup jobs a previous server left ([`backups::resume_jobs`]; a journal
/// that cannot be read is logged, the server still starts).
pub fn install(state: &AppState) {
    state.set_session_hook(Arc::new(Hook {
        sessions: state.sessions().clone(),
    }));
    match backups::resume_jobs(&state.config().repo, state.jobs()) {
        Ok(found) => {
            for id in &found.interrupted {
                tracing::warn!(
                    "backup job {id} was interrupted by the last stop; nothing of it was kept"
                );
            }
            for p in &found.unreadable {
                tracing::warn!(
                    "backup job journal file {} is unreadable; not listed",
                    p.display()
                );
            }
        }
        Err(e) => tracing::warn!("backup jobs of the last run not listed: {}", e.message),
    }
}

/// The page's routes that need a logged-in user.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/web", get(|| async { Redirect::to("/web/repository") }))
        .route("/web/", get(|| async { Redirect::to("/web/repository") }))
        .route("/web/logout", post(logout))
        .route("/web/repository", get(repository))
        .route("/web/backups", get(backups_page))
        .route("/web/backups/create", post(create_backup))
        .route("/web/backups/jobs/{job}/cancel", post(cancel_job))
        .route("/web/backups/{id}/verify", post(verify_backup))
        .route("/web/backups/{id}/delete", post(delete_backup))
        .route(
            "/web/backups/{id}/restore",
            get(restore_page).post(restore_post),
        )
        .route("/web/activity", get(activity))
        .route("/web/activity/{op}/undo", post(undo))
        .merge(packages::routes())
}

/// The page's routes open to everyone (the login form, its static files).
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/web/login", get(login_form).post(login))
        .route(
            "/web/static/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS) }),
        )
        .route(
            "/web/static/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    APP_JS,
                )
            }),
        )
}

/// Who looks at a page: the user (from the authentication) and their session.
struct Page {
    user: User,
    token: Option<String>,
    viewer: Viewer,
    sessions: Sessions,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = User::from_request_parts(parts, state).await?;
        let sessions = state.sessions().clone();
        let token = cookie_token(parts).filter(|t| sessions.get(t).is_some());
        let csrf = token
            .as_deref()
            .and_then(|t| sessions.get(t))
            .map(|s| s.csrf)
            .unwrap_or_default();
        Ok(Page {
            viewer: Viewer {
                user: user.name.clone(),
                csrf,
            },
            user,
            token,
            sessions,
        })
    }
}

impl Page {
    fn flash(&self) -> Option<Flash> {
        self.token
            .as_deref()
            .and_then(|t| self.sessions.take_flash(t))
    }

    fn render(&self, title: &str, section: Section, flash: Option<&Flash>, body: &str) -> Response {
        Html(html::page(title, section, Some(&self.viewer), flash, body)).into_response()
    }

    /// The form's pairs, when its `csrf` field is this session's token; else the
    /// 403 page.
    #[allow(clippy::result_large_err)] // the page answered, built once per refusal
    fn form(&self, body: &Bytes) -> Result<Vec<(String, String)>, Response> {
        let form = parse_form(&String::from_utf8_lossy(body));
        self.check_csrf(field(&form, "csrf"))?;
        Ok(form)
    }

    /// `Ok` when `sent` (a form's `csrf` field) is this session's token; else the
    /// 403 page.
    #[allow(clippy::result_large_err)] // the page answered, built once per refusal
    fn check_csrf(&self, sent: Option<&str>) -> Result<(), Response> {
        let ok =
            !self.viewer.csrf.is_empty() && sent.is_some_and(|t| same_token(t, &self.viewer.csrf));
        if ok {
            Ok(())
        } else {
            let mut r = self.render(
                "Refused",
                Section::Login,
                Some(&Flash::Error(
                    "This form is out of date or did not come from this page (its security token does not match your session). Go back, reload the page and try again.".into(),
                )),
                "<p><a href=\"/web/backups\">Back to Backups</a></p>",
            );
            *r.status_mut() = StatusCode::FORBIDDEN;
            Err(r)
        }
    }

    /// Keeps `flash` for the next page and redirects there (after a form).
    fn redirect(&self, to: &str, flash: Flash) -> Response {
        if let Some(t) = &self.token {
            self.sessions.set_flash(t, flash);
        }
        Redirect::to(to).into_response()
    }

    fn error(&self, title: &str, section: Section, e: &ApiError) -> Response {
        let mut r = self.render(title, section, Some(&Flash::Error(e.message.clone())), "");
        *r.status_mut() =
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        r
    }
}

fn query(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref().map(parse_form).unwrap_or_default()
}

/// A `next` that stays on this page's own URLs.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/web/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/web/backups".to_string(),
    }
}

// ---- login ----

async fn login_form(State(state): State<AppState>, parts: Parts) -> Response {
    let q = query(&parts.uri.query().map(str::to_string));
    if cookie_token(&parts).is_some_and(|t| state.sessions().get(&t).is_some()) {
        return Redirect::to(&safe_next(field(&q, "next"))).into_response();
    }
    login_page(None, "", field(&q, "next").unwrap_or(""), StatusCode::OK)
}

fn login_page(error: Option<&str>, user: &str, next: &str, status: StatusCode) -> Response {
    let mut body = views::login(error, user);
    body = body.replace(
        "<form method=\"post\" action=\"/web/login\" class=\"stack\">\n",
        &format!(
            "<form method=\"post\" action=\"/web/login\" class=\"stack\">\n<input type=\"hidden\" name=\"next\" value=\"{}\">\n",
            html::esc(next)
        ),
    );
    let mut r = Html(html::page("Log in", Section::Login, None, None, &body)).into_response();
    *r.status_mut() = status;
    r
}

async fn login(State(state): State<AppState>, body: Bytes) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&body));
    let name = field(&form, "user").unwrap_or("").trim().to_string();
    let password = field(&form, "password").unwrap_or("").to_string();
    let next = safe_next(field(&form, "next"));
    if !password_ok(&state, &name, &password).await {
        return login_page(
            Some("Wrong user name or password."),
            &name,
            &next,
            StatusCode::UNAUTHORIZED,
        );
    }
    match state.sessions().create(&name) {
        Ok((token, _)) => (
            [(header::SET_COOKIE, session::set_cookie(&token))],
            Redirect::to(&next),
        )
            .into_response(),
        Err(e) => login_page(
            Some(&format!("Cannot start a session: {e}")),
            &name,
            &next,
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

/// Whether `password` is `name`'s (as HTTP Basic checks it; on a loopback-only
/// server without users, AEM's default admin/admin).
async fn password_ok(state: &AppState, name: &str, password: &str) -> bool {
    if crate::users::check_name(name).is_err() || password.is_empty() {
        return false;
    }
    let n = name.to_string();
    let Ok((hash, any)) = state
        .read(move |store| {
            let hash = crate::users::password_hash(store, &n).ok().flatten();
            let any = crate::users::any_can_log_in(store).unwrap_or(true);
            (hash, any)
        })
        .await
    else {
        return false;
    };
    match hash {
        Some(h) => {
            let p = password.to_string();
            tokio::task::spawn_blocking(move || crate::users::verify_password(&p, &h))
                .await
                .unwrap_or(false)
        }
        None => state.config().loopback_only() && !any && name == "admin" && password == "admin",
    }
}

async fn logout(page: Page, body: Bytes) -> Response {
    if let Err(r) = page.form(&body) {
        return r;
    }
    if let Some(t) = &page.token {
        page.sessions.remove(t);
    }
    (
        [(header::SET_COOKIE, session::clear_cookie())],
        Redirect::to("/web/login"),
    )
        .into_response()
}

// ---- repository ----

async fn repository(
    State(state): State<AppState>,
    page: Page,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let ws = field(&q, "workspace")
        .unwrap_or(crate::repository::DEFAULT_WORKSPACE)
        .to_string();
    let path = field(&q, "path").unwrap_or("/").to_string();
    let flash = page.flash();
    let read = state
        .read(move |store| -> Result<String, ApiError> {
            let workspaces = store.workspaces()?;
            if !workspaces.contains(&ws) {
                return Err(ApiError::not_found(format!("no workspace '{ws}'")));
            }
            let norm = crate::path::normalize(&path)
                .map_err(|e| ApiError::bad(format!("'{path}': {e}")))?;
            let node = store.node(&ws, &norm)?.ok_or_else(|| {
                ApiError::not_found(format!("no node {norm} in workspace '{ws}'"))
            })?;
            let mut children = store.children(&ws, &norm)?;
            let more = children.len() > CHILDREN_SHOWN;
            children.truncate(CHILDREN_SHOWN);
            let props = store.properties(&ws, &norm)?;
            Ok(views::repository(
                &workspaces,
                &ws,
                &node,
                &children,
                more,
                &props,
            ))
        })
        .await;
    match read.map_err(ApiError::from).and_then(|r| r) {
        Ok(body) => page.render("Repository", Section::Repository, flash.as_ref(), &body),
        Err(e) => page.error("Repository", Section::Repository, &e),
    }
}

// ---- backups ----

async fn backups_page(State(state): State<AppState>, page: Page) -> Response {
    let flash = page.flash();
    let repo = state.config().repo.clone();
    let list = backups::blocking(move || backups::list_backups(&repo)).await;
    match list {
        Ok(list) => {
            let body = views::backups(&page.viewer, &state.jobs().list(), &list);
            page.render("Backups", Section::Backups, flash.as_ref(), &body)
        }
        Err(e) => page.error("Backups", Section::Backups, &e),
    }
}

async fn create_backup(State(state): State<AppState>, page: Page, body: Bytes) -> Response {
    let form = match page.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let label = field(&form, "label")
        .map(|l| l.chars().take(200).collect::<String>())
        .filter(|l| !l.trim().is_empty());
    let repo = state.config().repo.clone();
    let jobs = state.jobs().clone();
    let actor = backups::actor(&state, &page.user);
    let started = backups::blocking(move || {
        backups::start_backup(&repo, &jobs, actor, label, Vec::new(), None)
    })
    .await;
    match started {
        Ok(j) => page.redirect(
            "/web/backups",
            Flash::Info(format!("Backup job {} started.", j.id)),
        ),
        Err(e) => page.redirect("/web/backups", Flash::Error(e.message)),
    }
}

async fn cancel_job(
    State(state): State<AppState>,
    page: Page,
    UrlPath(job): UrlPath<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = page.form(&body) {
        return r;
    }
    let flash = match job
        .parse::<u64>()
        .ok()
        .and_then(|id| state.jobs().cancel(id))
    {
        Some(s) if s.cancel_requested => Flash::Info(format!(
            "Cancelling backup job {}: nothing of it will be kept.",
            s.id
        )),
        Some(s) => Flash::Info(format!("Backup job {} had already ended.", s.id)),
        None => Flash::Error(format!("No backup job {job}.")),
    };
    page.redirect("/web/backups", flash)
}

async fn verify_backup(
    State(state): State<AppState>,
    page: Page,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = page.form(&body) {
        return r;
    }
    let repo = state.config().repo.clone();
    let i = id.clone();
    let r = backups::blocking(move || backups::verify_backup(&repo, &i)).await;
    let flash = match r {
        Ok(v) if v["ok"] == true => Flash::Info(format!(
            "Backup {id} is intact: {} files and {} binaries checked.",
            v["files"], v["blobs"]
        )),
        Ok(v) => Flash::Error(format!(
            "Backup {id} is damaged: {}",
            v["problems"]
                .as_array()
                .map(|p| p
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("; "))
                .unwrap_or_default()
        )),
        Err(e) => Flash::Error(e.message),
    };
    page.redirect("/web/backups", flash)
}

async fn delete_backup(
    State(state): State<AppState>,
    page: Page,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = page.form(&body) {
        return r;
    }
    let repo = state.config().repo.clone();
    let jobs = state.jobs().clone();
    let i = id.clone();
    let r = backups::blocking(move || backups::delete_backup(&repo, &jobs, &i)).await;
    let flash = match r {
        Ok(()) => Flash::Info(format!("Backup {id} deleted.")),
        Err(e) => Flash::Error(e.message),
    };
    page.redirect("/web/backups", flash)
}

// ---- restore ----

/// The backup's tree in workspace `ws` from `path`: `path`'s node (its children
/// for the root) and up to [`TREE_DEPTH`] levels below, at most [`TREE_NODES`].
fn backup_tree(
    store: &dyn crate::repository::StoreRead,
    ws: &str,
    path: &str,
) -> Result<Vec<views::TreeNode>, ApiError> {
    fn below(
        store: &dyn crate::repository::StoreRead,
        ws: &str,
        path: &str,
        depth: usize,
        budget: &mut usize,
    ) -> Result<(Vec<views::TreeNode>, bool), ApiError> {
        let children = store.children(ws, path)?;
        if children.is_empty() {
            return Ok((Vec::new(), false));
        }
        if depth == 0 || *budget == 0 {
            return Ok((Vec::new(), true));
        }
        let mut out = Vec::new();
        let mut more = false;
        for c in children {
            if *budget == 0 {
                more = true;
                break;
            }
            *budget -= 1;
            let (kids, kids_more) = below(store, ws, &c.path, depth - 1, budget)?;
            out.push(views::TreeNode {
                path: c.path,
                primary_type: c.primary_type,
                children: kids,
                more: kids_more,
            });
        }
        Ok((out, more))
    }
    let mut budget = TREE_NODES;
    if path == "/" {
        return Ok(below(store, ws, "/", TREE_DEPTH, &mut budget)?.0);
    }
    let node = store.node(ws, path)?.ok_or_else(|| {
        ApiError::not_found(format!("no node {path} in the backup's workspace '{ws}'"))
    })?;
    let (children, more) = below(store, ws, path, TREE_DEPTH - 1, &mut budget)?;
    Ok(vec![views::TreeNode {
        path: node.path,
        primary_type: node.primary_type,
        children,
        more,
    }])
}

/// What the restore page shows besides its form state.
struct RestoreView {
    manifest: crate::backup::Manifest,
    workspaces: Vec<String>,
    ws: String,
    tree: Vec<views::TreeNode>,
}

fn restore_view(
    repo: &std::path::Path,
    id: &str,
    ws: Option<&str>,
    path: &str,
) -> Result<RestoreView, ApiError> {
    let manifest = backups::manifest(repo, id)?;
    let source = backups::open_backup(repo, id)?;
    let workspaces = source.workspaces()?;
    let ws = match ws {
        Some(w) if workspaces.iter().any(|x| x == w) => w.to_string(),
        Some(w) => {
            return Err(ApiError::not_found(format!(
                "the backup has no workspace '{w}'"
            )))
        }
        None if workspaces
            .iter()
            .any(|x| x == crate::repository::DEFAULT_WORKSPACE) =>
        {
            crate::repository::DEFAULT_WORKSPACE.to_string()
        }
        None => workspaces.first().cloned().unwrap_or_default(),
    };
    let path = crate::path::normalize(path).map_err(|e| ApiError::bad(format!("'{path}': {e}")))?;
    let tree = if ws.is_empty() {
        Vec::new()
    } else {
        backup_tree(source.as_ref(), &ws, &path)?
    };
    Ok(RestoreView {
        manifest,
        workspaces,
        ws,
        tree,
    })
}

async fn restore_page(
    State(state): State<AppState>,
    page: Page,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let ws = field(&q, "workspace").map(str::to_string);
    let path = field(&q, "path").unwrap_or("/").to_string();
    let flash = page.flash();
    let repo = state.config().repo.clone();
    let r = backups::blocking(move || restore_view(&repo, &id, ws.as_deref(), &path)).await;
    match r {
        Ok(v) => {
            let body = views::restore(
                &page.viewer,
                &v.manifest,
                &v.workspaces,
                &v.ws,
                &v.tree,
                &[],
                None,
            );
            page.render(
                &format!("Restore from {}", v.manifest.id),
                Section::Backups,
                flash.as_ref(),
                &body,
            )
        }
        Err(e) => page.error("Restore", Section::Backups, &e),
    }
}

async fn restore_post(
    State(state): State<AppState>,
    page: Page,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let form = match page.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ws = field(&form, "workspace").map(str::to_string);
    let roots: Vec<String> = fields(&form, "root")
        .iter()
        .map(|r| r.to_string())
        .collect();
    let confirm = field(&form, "action") == Some("confirm");
    let repo = state.config().repo.clone();
    let (i, w) = (id.clone(), ws.clone());
    let view = match backups::blocking(move || restore_view(&repo, &i, w.as_deref(), "/")).await {
        Ok(v) => v,
        Err(e) => return page.error("Restore", Section::Backups, &e),
    };
    let title = format!("Restore from {}", view.manifest.id);
    let show = |flash: Option<&Flash>, preview: Option<&crate::restore::Preview>| {
        let body = views::restore(
            &page.viewer,
            &view.manifest,
            &view.workspaces,
            &view.ws,
            &view.tree,
            &roots,
            preview,
        );
        page.render(&title, Section::Backups, flash, &body)
    };
    if roots.is_empty() {
        let mut r = show(
            Some(&Flash::Error(
                "Tick at least one subtree to restore.".into(),
            )),
            None,
        );
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    }
    let ask = RestoreAsk {
        roots: roots.clone(),
        workspaces: vec![view.ws.clone()],
        dry_run: !confirm,
    };
    match backups::run_restore(&state, &page.user, id.clone(), ask).await {
        Ok(a) if !confirm => show(None, Some(&a.preview)),
        Ok(a) => {
            let op = a
                .operation
                .map(|o| format!(" as operation {o}; its Undo below reverts it"))
                .unwrap_or_else(|| ": nothing differed, nothing was written".into());
            page.redirect(
                "/web/activity",
                Flash::Info(format!(
                    "Restored {} from backup {id}{op}.",
                    roots.join(", ")
                )),
            )
        }
        Err(e) => {
            let mut r = show(Some(&Flash::Error(e.message.clone())), None);
            *r.status_mut() =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            r
        }
    }
}

// ---- activity ----

async fn activity(State(state): State<AppState>, page: Page) -> Response {
    let flash = page.flash();
    let r = state.read(|store| store.history()).await;
    match r
        .map_err(ApiError::from)
        .and_then(|r| r.map_err(ApiError::from))
    {
        Ok(ops) => {
            let body = views::activity(&page.viewer, &ops);
            page.render("Activity", Section::Activity, flash.as_ref(), &body)
        }
        Err(e) => page.error("Activity", Section::Activity, &e),
    }
}

async fn undo(
    State(state): State<AppState>,
    page: Page,
    UrlPath(op): UrlPath<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = page.form(&body) {
        return r;
    }
    let Ok(id) = op.parse::<i64>() else {
        return page.redirect("/web/activity", Flash::Error(format!("No operation {op}.")));
    };
    let actor = backups::actor(&state, &page.user);
    let r = state
        .write(move |store| backups::undo(store, id, &actor))
        .await
        .map_err(ApiError::from)
        .and_then(|r| r);
    let flash = match r {
        Ok(report) => {
            // The report says what was undone (`undid operation 4 as operation 5: ...`).
            let mut text = report;
            if let Some(first) = text.get(..1) {
                text = first.to_uppercase() + &text[1..];
            }
            Flash::Info(text)
        }
        Err(e) => Flash::Error(format!(
            "Undo of operation {id} refused, nothing was changed: {}",
            e.message
        )),
    };
    page.redirect("/web/activity", flash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_page() {
        assert_eq!(safe_next(Some("/web/activity")), "/web/activity");
        for bad in [
            "https://evil.example/",
            "//evil.example/web/",
            "/api/backups",
            "/web\\..",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/web/backups", "{bad}");
        }
        assert_eq!(safe_next(None), "/web/backups");
    }
}
