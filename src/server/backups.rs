//! The backup API (`/api/backups`, described in `schemas/openapi.yaml`): the
//! repository's default catalogue listed, backups created in the background as
//! jobs (`backup::jobs`) followed and cancelled by id, verified, deleted, and
//! restored — the differences first (`dryRun`, the default), then as one
//! recorded, undoable operation. The operations themselves are plain functions
//! ([`Ops`]) that the page (`web`) calls too; the handlers only parse, run them off
//! the async threads and answer JSON.

use super::auth::User;
use super::state::AppState;
use super::ServerError;
use crate::backup::jobs::{self, JobStatus, Jobs};
use crate::backup::{BackupError, Catalogue, CreateOptions, Manifest};
use crate::events::{Actor, NoEvents};
use crate::repository::{OperationId, OperationMeta, RepositoryError, Store, StoreRead};
use crate::restore::{self, Plan, Preview, RestoreError, Scope};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

/// How many changed nodes a restore's answer lists (all are counted).
pub const MAX_CHANGES: usize = 1000;

/// A refusal or failure with the HTTP status it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// One sentence.
    pub message: String,
}

impl ApiError {
    /// A 400: the request is wrong.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            message: message.into(),
        }
    }

    /// A 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            message: message.into(),
        }
    }

    /// A 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 500,
            message: message.into(),
        }
    }
}

impl From<BackupError> for ApiError {
    fn from(e: BackupError) -> ApiError {
        let status = match &e {
            BackupError::UnknownId { .. } => 404,
            BackupError::Busy { .. } => 409,
            BackupError::Repository(RepositoryError::RepositoryBusy { .. }) => 409,
            _ => 500,
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl From<RestoreError> for ApiError {
    fn from(e: RestoreError) -> ApiError {
        let status = match &e {
            RestoreError::UnknownRoot { .. }
            | RestoreError::UnknownWorkspace(..)
            | RestoreError::InvalidRoot(..) => 400,
            RestoreError::IdentifierConflict { .. } => 409,
            RestoreError::SystemRoot { .. } => 403,
            RestoreError::Repository(RepositoryError::RepositoryBusy { .. }) => 409,
            _ => 500,
        };
        ApiError {
            status,
            message: format!("restore failed, nothing was changed: {e}"),
        }
    }
}

impl From<RepositoryError> for ApiError {
    fn from(e: RepositoryError) -> ApiError {
        let status = match &e {
            RepositoryError::RepositoryBusy { .. } | RepositoryError::UndoConflict { .. } => 409,
            RepositoryError::OperationNotFound(_) => 404,
            RepositoryError::WorkspaceNotFound { .. } => 404,
            _ => 500,
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

/// One backup as the API lists it (see `Backup` in the OpenAPI document).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupView {
    /// Id.
    pub id: String,
    /// When, ISO 8601 UTC.
    pub time: String,
    /// Who took it.
    pub user: String,
    /// Its label.
    pub label: Option<String>,
    /// `manual` or `scheduled`.
    pub kind: &'static str,
    /// Workspaces with their counts.
    pub workspaces: Vec<Value>,
    /// Nodes in all.
    pub nodes: u64,
    /// Size of its files.
    pub bytes: u64,
    /// Distinct binaries.
    pub blobs: u64,
}

impl From<&Manifest> for BackupView {
    fn from(m: &Manifest) -> BackupView {
        BackupView {
            id: m.id.clone(),
            time: m.time.clone(),
            user: m.user.clone(),
            label: m.label.clone(),
            kind: m.kind.as_str(),
            workspaces: m
                .workspaces
                .iter()
                .map(|w| json!({"name": w.name, "nodes": w.nodes, "properties": w.properties}))
                .collect(),
            nodes: m.nodes(),
            bytes: m.bytes,
            blobs: m.blobs.count,
        }
    }
}

/// What a restore request asks (see `RestoreRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreAsk {
    /// Subtrees (all when empty).
    pub roots: Vec<String>,
    /// Workspaces (all when empty).
    pub workspaces: Vec<String>,
    /// Only the differences.
    pub dry_run: bool,
}

/// What a restore answered (see `RestoreResult`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreAnswer {
    /// The backup.
    pub backup: String,
    /// Whether only the differences were asked for.
    pub dry_run: bool,
    /// The differences (first [`MAX_CHANGES`], all counted).
    #[serde(flatten)]
    pub preview: Preview,
    /// Whether the restore was written.
    pub restored: bool,
    /// Its operation.
    pub operation: Option<i64>,
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> ApiError {
        let status = match &e {
            ServerError::Stopped => 503,
            ServerError::Repository(RepositoryError::RepositoryBusy { .. }) => 409,
            _ => 500,
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, &json!({ "error": self.message }))
    }
}

/// `value` as a JSON response with `status`.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "application/json")],
            format!(
                "{{\"error\":\"cannot write JSON: {}\"}}",
                e.to_string().replace('"', "'")
            ),
        )
            .into_response(),
    }
}

/// Whether `id` has the shape of a backup id (`20261204T170512Z`, `-2`, ...):
/// anything else is not looked up at all.
fn valid_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no backup '{id}'")))
    }
}

/// The default catalogue of the repository in `repo`, `None` when no backup was
/// ever taken.
fn catalogue(repo: &Path) -> Result<Option<Catalogue>, ApiError> {
    Ok(Catalogue::of_repository(repo)?)
}

fn catalogue_with(repo: &Path, id: &str) -> Result<Catalogue, ApiError> {
    valid_id(id)?;
    catalogue(repo)?
        .ok_or_else(|| ApiError::not_found(format!("no backup {id}: none was taken yet")))
}

/// The complete backups of the repository in `repo`, oldest first.
pub fn list_backups(repo: &Path) -> Result<Vec<Manifest>, ApiError> {
    match catalogue(repo)? {
        None => Ok(Vec::new()),
        Some(c) => Ok(c.list()?),
    }
}

/// One backup's manifest.
pub fn manifest(repo: &Path, id: &str) -> Result<Manifest, ApiError> {
    Ok(catalogue_with(repo, id)?.manifest(id)?)
}

/// Opens backup `id` of the repository in `repo` as a read-only store.
pub fn open_backup(repo: &Path, id: &str) -> Result<Box<dyn StoreRead>, ApiError> {
    let c = catalogue_with(repo, id)?;
    Ok(restore::open_backup(&c, id)?)
}

/// Starts a backup of the repository in `repo` by `actor` on a thread of its own
/// and returns its job at once.
pub fn start_backup(
    repo: &Path,
    jobs: &Jobs,
    actor: Actor,
    label: Option<String>,
    workspaces: Vec<String>,
    max_rate: Option<u64>,
) -> Result<JobStatus, ApiError> {
    let catalogue = Catalogue::for_repository(repo)?;
    let mut options = CreateOptions::new(actor.clone());
    options.label = label.filter(|l| !l.trim().is_empty());
    options.workspaces = workspaces;
    options.max_rate = max_rate;
    let job = jobs.start("backup", &actor.user, &actor.time.to_string());
    let status = job.status();
    let repo = repo.to_path_buf();
    let runner = Arc::clone(&job);
    std::thread::Builder::new()
        .name(format!("backup-job-{}", status.id))
        .spawn(move || jobs::run_backup(&runner, &catalogue, &repo, &options))
        .map_err(|e| {
            let message = format!("cannot start the backup: {e}");
            job.finish(Err(BackupError::io(Path::new("backup thread"), e)));
            ApiError::internal(message)
        })?;
    Ok(status)
}

/// Keeps the backup jobs of the repository in `repo` in its catalogue's journal
/// (`backups/jobs/`), listing those a previous server left: finished ones as they
/// ended, one still running when that server stopped as interrupted, its
/// unfinished backup removed by the catalogue's clean-up (unless another backup
/// command holds the catalogue; then the next clean-up does it). Call once at start.
pub fn resume_jobs(repo: &Path, jobs: &Jobs) -> Result<jobs::Recovered, ApiError> {
    let dir = Catalogue::default_dir(repo);
    let found = jobs
        .open_journal(&dir.join(jobs::JOURNAL_DIR))
        .map_err(|e| ApiError::internal(format!("reading the backup jobs' journal: {e}")))?;
    if !found.interrupted.is_empty() {
        Catalogue::open(&dir)?.clean_up()?;
    }
    Ok(found)
}

/// Checks a backup's files and binaries (see `VerifyReport`).
pub fn verify_backup(repo: &Path, id: &str) -> Result<Value, ApiError> {
    let r = catalogue_with(repo, id)?.verify(id, &NoEvents)?;
    Ok(json!({
        "id": r.id,
        "ok": r.ok(),
        "files": r.files,
        "blobs": r.blobs,
        "bytes": r.bytes,
        "problems": r.problems,
        "problemCount": r.problem_count,
    }))
}

/// Deletes a backup; refused while a backup job runs.
pub fn delete_backup(repo: &Path, jobs: &Jobs, id: &str) -> Result<(), ApiError> {
    let c = catalogue_with(repo, id)?;
    c.manifest(id)?;
    if jobs.running("backup") {
        return Err(ApiError {
            status: 409,
            message: "a backup is running: delete when it has finished".into(),
        });
    }
    Ok(c.delete(id)?)
}

/// The differences of restoring `ask` from backup `id` into `store`.
pub fn restore_preview(
    repo: &Path,
    id: &str,
    ask: &RestoreAsk,
    store: &dyn StoreRead,
) -> Result<RestoreAnswer, ApiError> {
    let source = open_backup(repo, id)?;
    let scope = scope(ask);
    let plan = Plan::new(source.as_ref(), store, &scope)?.from_verified_backup();
    let preview = restore::preview(source.as_ref(), store, &plan, MAX_CHANGES, &NoEvents)?;
    Ok(RestoreAnswer {
        backup: id.to_string(),
        dry_run: true,
        preview,
        restored: false,
        operation: None,
    })
}

fn scope(ask: &RestoreAsk) -> Scope {
    Scope {
        workspaces: ask.workspaces.clone(),
        roots: ask.roots.clone(),
    }
}

/// The differences of restoring `ask` from backup `id` into `store`, then the
/// restore itself as one recorded operation by `actor` (all or nothing).
pub fn restore_apply(
    repo: &Path,
    id: &str,
    ask: &RestoreAsk,
    store: &mut dyn Store,
    actor: &Actor,
) -> Result<RestoreAnswer, ApiError> {
    let mut answer = restore_preview(repo, id, ask, store)?;
    let source = open_backup(repo, id)?;
    let scope = scope(ask);
    let plan = Plan::new(source.as_ref(), store, &scope)?.from_verified_backup();
    let meta = OperationMeta::new(restore::description(id, &scope), actor);
    let (summary, op) = restore::restore(source.as_ref(), store, &plan, meta, &NoEvents)?;
    answer.dry_run = false;
    answer.preview.summary = summary;
    answer.restored = true;
    answer.operation = op.map(|o| o.0);
    Ok(answer)
}

/// Undoes operation `id` as a new operation by `actor`; returns what it did.
pub fn undo(store: &mut dyn Store, id: i64, actor: &Actor) -> Result<String, ApiError> {
    let report = store.undo(
        OperationId(id),
        false,
        OperationMeta::new(format!("undo {id}"), actor),
    )?;
    Ok(report.to_string())
}

// ---- HTTP ----

/// The backup API's routes (all behind authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/backups", get(list).post(create))
        .route("/api/backups/jobs", get(job_list))
        .route("/api/backups/jobs/{job}", get(job_get))
        .route("/api/backups/jobs/{job}/cancel", post(job_cancel))
        .route("/api/backups/{id}", get(one).delete(remove))
        .route("/api/backups/{id}/verify", post(verify))
        .route("/api/backups/{id}/restore", post(restore_route))
}

/// The caller as the library's [`Actor`], with the server's clock.
pub fn actor(state: &AppState, user: &User) -> Actor {
    Actor {
        user: user.name.clone(),
        time: state.now(),
    }
}

/// Runs a blocking backup call off the async threads (a task that failed is a
/// 500 [`ApiError`]).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("internal task failed: {e}")))?
}

/// The request's JSON body as `T`: absent or empty is `T::default()`; another
/// content type is 415; anything `T` does not accept is 400.
fn json_body<T: for<'de> Deserialize<'de> + Default>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ApiError> {
    if body.is_empty() {
        return Ok(T::default());
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ctype.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError {
            status: 415,
            message: format!("the body must be application/json, not '{ctype}'"),
        });
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad(format!("malformed request: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad(
            "malformed request: the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::bad(format!("malformed request: {e}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    workspaces: Vec<String>,
    #[serde(default, deserialize_with = "present_u64")]
    max_rate: Option<u64>,
}

/// An optional number that, when given, is a number (not `null`).
fn present_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RestoreBody {
    #[serde(default)]
    roots: Vec<String>,
    #[serde(default)]
    workspaces: Vec<String>,
    #[serde(default = "yes")]
    dry_run: bool,
}

fn yes() -> bool {
    true
}

impl Default for RestoreBody {
    /// No body: the differences of restoring everything, nothing written.
    fn default() -> RestoreBody {
        RestoreBody {
            roots: Vec::new(),
            workspaces: Vec::new(),
            dry_run: true,
        }
    }
}

fn check_workspaces(w: &[String]) -> Result<(), ApiError> {
    if w.len() > 100 {
        return Err(ApiError::bad("at most 100 workspaces"));
    }
    if let Some(bad) = w.iter().find(|w| w.is_empty() || w.chars().count() > 200) {
        return Err(ApiError::bad(format!(
            "'{bad}' is not a workspace name (1 to 200 characters)"
        )));
    }
    Ok(())
}

async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let repo = state.config().repo.clone();
    let list = blocking(move || list_backups(&repo)).await?;
    let views: Vec<BackupView> = list.iter().map(BackupView::from).collect();
    Ok(json_response(StatusCode::OK, &json!({ "backups": views })))
}

async fn create(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: CreateBody = json_body(&headers, &body)?;
    if b.label.as_ref().is_some_and(|l| l.chars().count() > 200) {
        return Err(ApiError::bad("a label has at most 200 characters"));
    }
    check_workspaces(&b.workspaces)?;
    if let Some(r) = b.max_rate {
        if r == 0 || r > 1_000_000_000_000 {
            return Err(ApiError::bad("maxRate is 1 to 10^12 bytes a second"));
        }
    }
    let repo = state.config().repo.clone();
    let jobs = state.jobs().clone();
    let actor = actor(&state, &user);
    let job =
        blocking(move || start_backup(&repo, &jobs, actor, b.label, b.workspaces, b.max_rate))
            .await?;
    let location = format!("/api/backups/jobs/{}", job.id);
    let mut r = json_response(StatusCode::ACCEPTED, &job);
    if let Ok(v) = location.parse() {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

async fn job_list(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &json!({ "jobs": state.jobs().list() }))
}

fn job_id(s: &str) -> Result<u64, ApiError> {
    s.parse::<u64>()
        .map_err(|_| ApiError::bad(format!("'{s}' is not a job id (a positive integer)")))
}

async fn job_get(
    State(state): State<AppState>,
    UrlPath(job): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = job_id(&job)?;
    let j = state
        .jobs()
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    Ok(json_response(StatusCode::OK, &j.status()))
}

async fn job_cancel(
    State(state): State<AppState>,
    UrlPath(job): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = job_id(&job)?;
    let s = state
        .jobs()
        .cancel(id)
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    Ok(json_response(StatusCode::ACCEPTED, &s))
}

async fn one(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let repo = state.config().repo.clone();
    let m = blocking(move || manifest(&repo, &id)).await?;
    Ok(json_response(StatusCode::OK, &BackupView::from(&m)))
}

async fn remove(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let repo = state.config().repo.clone();
    let jobs = state.jobs().clone();
    blocking(move || delete_backup(&repo, &jobs, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn verify(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let repo = state.config().repo.clone();
    let r = blocking(move || verify_backup(&repo, &id)).await?;
    Ok(json_response(StatusCode::OK, &r))
}

/// Runs the restore (or its dry run) of `ask` for `user`: the dry run on a reading
/// store, the restore in the repository's write queue.
pub async fn run_restore(
    state: &AppState,
    user: &User,
    id: String,
    ask: RestoreAsk,
) -> Result<RestoreAnswer, ApiError> {
    let repo = state.config().repo.clone();
    valid_id(&id)?;
    if ask.dry_run {
        state
            .read(move |store| restore_preview(&repo, &id, &ask, store))
            .await?
    } else {
        let actor = actor(state, user);
        state
            .write(move |store| restore_apply(&repo, &id, &ask, store, &actor))
            .await?
    }
}

async fn restore_route(
    State(state): State<AppState>,
    user: User,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: RestoreBody = json_body(&headers, &body)?;
    if b.roots.len() > 1000 {
        return Err(ApiError::bad("at most 1000 roots"));
    }
    if let Some(r) = b
        .roots
        .iter()
        .find(|r| !r.starts_with('/') || r.len() > 4000)
    {
        return Err(ApiError::bad(format!(
            "'{r}' is not a root: an absolute repository path such as /content/site"
        )));
    }
    check_workspaces(&b.workspaces)?;
    let ask = RestoreAsk {
        roots: b.roots,
        workspaces: b.workspaces,
        dry_run: b.dry_run,
    };
    let answer = run_restore(&state, &user, id, ask).await?;
    Ok(json_response(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_id_shaped_names_are_looked_up() {
        assert!(valid_id("20261204T170512Z").is_ok());
        assert!(valid_id("20261204T170512Z-2").is_ok());
        for bad in ["", "../x", "a/b", "a b", "%2e%2e", &"9".repeat(41)] {
            assert_eq!(valid_id(bad).unwrap_err().status, 404, "{bad}");
        }
    }

    #[test]
    fn bodies_are_json_objects_of_known_fields() {
        let mut h = HeaderMap::new();
        let empty: RestoreBody = json_body(&h, &Bytes::from_static(b"")).unwrap();
        assert!(empty.roots.is_empty() && empty.dry_run);
        assert_eq!(
            json_body::<RestoreBody>(&h, &Bytes::from_static(b"{}"))
                .unwrap_err()
                .status,
            415
        );
        h.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        let b: RestoreBody = json_body(
            &h,
            &Bytes::from_static(br#"{"roots":["/a"],"dryRun":false}"#),
        )
        .unwrap();
        assert_eq!(b.roots, vec!["/a".to_string()]);
        assert!(!b.dry_run);
        for bad in [
            &b"{"[..],
            b"[]",
            b"\r",
            br#"{"x":1}"#,
            br#"{"roots":"/a"}"#,
            br#"{"dryRun":1}"#,
            br#"{"dryRun":null}"#,
        ] {
            assert_eq!(
                json_body::<RestoreBody>(&h, &Bytes::copy_from_slice(bad))
                    .unwrap_err()
                    .status,
                400
            );
        }
    }

    #[test]
    fn errors_answer_their_status() {
        let e: ApiError = RestoreError::UnknownWorkspace("x".into(), "default".into()).into();
        assert_eq!(e.status, 400);
        let e: ApiError = BackupError::UnknownId {
            catalogue: "/c".into(),
            id: "x".into(),
            nearest: vec![],
        }
        .into();
        assert_eq!(e.status, 404);
    }
}
