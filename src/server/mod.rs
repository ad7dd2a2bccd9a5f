//! `jcrpack serve`: the repository over HTTP (issue 21), on axum and tokio.
//!
//! * [`packmgr`]: AEM's Package Manager API as existing clients speak it
//!   (`shared/reference/packmgr-api.md`); [`backups`]: the backup API; [`web`]: the
//!   page;
//! * [`state`]: the repository, its install queue (one write at a time, reads
//!   concurrent) and users; [`auth`]: HTTP Basic (and the page's sessions).
//!
//! Every route but `GET /health` needs a user. The server listens on loopback unless
//! told otherwise, and refuses another address while no user can log in. Request
//! bodies are limited in size ([`ServerConfig::max_upload`], chunked bodies
//! included) and every request in time ([`ServerConfig::request_timeout`]).
//!
//! The library reads no clock: the caller hands the server one
//! ([`ServerConfig::clock`]).

pub mod auth;
pub mod backups;
pub mod packmgr;
pub mod state;
pub mod web;

use crate::repository::RepositoryError;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The clock the server stamps operations with (`created`, `lastUnpacked`, history).
pub type Clock = Arc<dyn Fn() -> crate::value::Date + Send + Sync>;

/// How to run the server.
#[derive(Clone)]
pub struct ServerConfig {
    /// The repository folder.
    pub repo: PathBuf,
    /// The address to listen on (`127.0.0.1:4502` by default, as AEM's author).
    pub bind: SocketAddr,
    /// The largest request body, in bytes (uploads).
    pub max_upload: u64,
    /// The longest a request may take before it is answered 503 (the install it
    /// started, if any, still finishes or rolls back whole).
    pub request_timeout: Duration,
    /// How long a write waits for another process's write lock on the repository.
    pub lock_timeout: Duration,
    /// Answer the few non-packmgr URLs the Maven and Gradle plugins poll
    /// (`/system/console/bundles.json`, `/systemready`).
    pub aem_shims: bool,
    /// The clock.
    pub clock: Clock,
    /// Where uploads and packages being installed are kept while a request runs
    /// (the system's temporary folder by default, as the library's other spills).
    pub tmp_dir: PathBuf,
    /// How many threads run reads, each with its own open store (8 by default:
    /// reads are short, and a few more threads than cores keep the cores busy
    /// while one waits for the disk).
    pub read_threads: usize,
    /// The writer thread's niceness on Linux (0: as the reads; up to 19: installs
    /// take only the CPU the reads leave). Niceness counts against every process
    /// of the machine, not only this server's threads.
    pub writer_nice: i32,
}

impl ServerConfig {
    /// The defaults for `repo`: loopback port 4502, 1 GiB uploads, ten minutes a
    /// request, AEM shims on; `clock` as given.
    pub fn new(repo: PathBuf, clock: Clock) -> ServerConfig {
        ServerConfig {
            repo,
            bind: SocketAddr::from(([127, 0, 0, 1], 4502)),
            max_upload: 1 << 30,
            request_timeout: Duration::from_secs(600),
            lock_timeout: Duration::from_secs(30),
            aem_shims: true,
            clock,
            tmp_dir: std::env::temp_dir(),
            read_threads: 8,
            writer_nice: state::WRITER_NICE,
        }
    }

    /// Whether the server listens on a loopback address only.
    pub fn loopback_only(&self) -> bool {
        self.bind.ip().is_loopback()
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("repo", &self.repo)
            .field("bind", &self.bind)
            .field("max_upload", &self.max_upload)
            .field("request_timeout", &self.request_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("aem_shims", &self.aem_shims)
            .field("tmp_dir", &self.tmp_dir)
            .field("read_threads", &self.read_threads)
            .field("writer_nice", &self.writer_nice)
            .finish_non_exhaustive()
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A non-loopback address without a user who can log in.
    #[error("refusing to listen on {0}: no user can log in to this repository; add one with `jcrpack user add NAME --repo REPO` (on a loopback address the default admin/admin is accepted until then)")]
    NoUsers(SocketAddr),
    /// Listening failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    /// A user lookup failed.
    #[error(transparent)]
    Users(#[from] crate::users::UserError),
    /// An I/O error.
    #[error(transparent)]
    Io(std::io::Error),
    /// A blocking task failed.
    #[error("internal task failed: {0}")]
    Task(String),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Stopped,
}

/// The whole application: public routes (health, the page's login) and the
/// authenticated ones (Package Manager, backups, page), with the limits.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(packmgr::routes())
        .merge(backups::routes())
        .merge(web::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_user,
        ));
    let timeout = state.config().request_timeout;
    let limit = usize::try_from(state.config().max_upload).unwrap_or(usize::MAX);
    Router::new()
        .route("/health", get(health))
        .merge(web::public_routes())
        .merge(protected)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(move |req, next| {
            time_limit(timeout, req, next)
        }))
        .with_state(state)
}

async fn health() -> impl IntoResponse {
    ([("content-type", "text/plain; charset=utf-8")], "ok\n")
}

async fn time_limit(
    limit: Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "request took longer than the server's time limit\n",
        )
            .into_response(),
    }
}

/// Connections the kernel completes before the server accepts them. tokio's
/// `TcpListener::bind` asks for 128: when more clients than that connect at once
/// (the load test's 250), the rest see their SYN dropped and retried a second
/// later, a one-second read. Linux caps it at `net.core.somaxconn` (4096).
pub const LISTEN_BACKLOG: u32 = 1024;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A bound, not yet serving server.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

/// Opens the repository, checks that a non-loopback address has users, and listens.
pub async fn bind(config: ServerConfig) -> Result<Server, ServerError> {
    let addr = config.bind;
    let state = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || AppState::new(config))
            .await
            .map_err(|e| ServerError::Task(e.to_string()))??
    };
    web::install(&state);
    if !config.loopback_only() {
        let any = state
            .read(|store| crate::users::any_can_log_in(store))
            .await??;
        if !any {
            return Err(ServerError::NoUsers(addr));
        }
    }
    let listener = listen(addr).map_err(|source| ServerError::Bind { addr, source })?;
    Ok(Server { listener, state })
}

impl Server {
    /// The address it listens on (the port chosen for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Io)
    }

    /// The shared state (for the page to install its session hook).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes; then stops accepting, lets the running
    /// write finish (or roll back) and the open requests end, and returns.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state.clone();
        let app = router(self.state.clone());
        let stop = state.clone();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stop.begin_shutdown();
            })
            .await
            .map_err(ServerError::Io)?;
        state.begin_shutdown();
        let s = state.clone();
        tokio::task::spawn_blocking(move || s.join_writer())
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?;
        Ok(())
    }
}

/// [`bind`] then [`Server::serve`].
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    bind(config).await?.serve(shutdown).await
}
