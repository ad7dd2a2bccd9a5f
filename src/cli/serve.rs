//! `jcrpack serve --repo REPO [--bind 127.0.0.1:4502]`: the repository over HTTP
//! (AEM's Package Manager API, the backup API, the page). Parsing and printing only;
//! the server is `crate::server`.

use super::{CliError, CliResult};
use crate::server::{self, ServerConfig, ServerError};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Serve a repository over HTTP.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints `listening on http://ADDR` on stderr once it accepts \
connections. SIGTERM or Ctrl-C stops it: the running install finishes or rolls back, \
queued ones are refused. Every route but GET /health needs a user (jcrpack user add); \
on loopback, while no user exists, AEM's default admin/admin is accepted."
)]
pub struct ServeArgs {
    /// The repository folder.
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    /// The address to listen on; another than loopback needs a user.
    #[arg(long, default_value = "127.0.0.1:4502")]
    pub bind: SocketAddr,
    /// The largest request body (an upload), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_upload_mb: u64,
    /// The longest a request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub request_timeout: u64,
    /// How long a write waits for another process's write to the repository, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub lock_timeout: u64,
    /// Do not answer the AEM console URLs the Maven and Gradle plugins poll.
    #[arg(long)]
    pub no_aem_shims: bool,
    /// Worker threads of the HTTP runtime (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Threads that run reads, each with its own connection to the repository.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub read_threads: usize,
    /// Niceness of the thread that runs installs (Linux; 0 to 19): higher lets
    /// reads go first while installs queue.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..=19))]
    pub writer_nice: i32,
}

/// Runs `serve` until SIGTERM or Ctrl-C.
pub fn run(a: ServeArgs) -> CliResult<i32> {
    let clock: server::Clock = Arc::new(|| super::repo::actor().time);
    let mut config = ServerConfig::new(a.repo.clone(), clock);
    config.bind = a.bind;
    config.max_upload = a.max_upload_mb.saturating_mul(1 << 20);
    config.request_timeout = std::time::Duration::from_secs(a.request_timeout.max(1));
    config.lock_timeout = std::time::Duration::from_secs(a.lock_timeout);
    config.aem_shims = !a.no_aem_shims;
    config.read_threads = a.read_threads.max(1);
    config.writer_nice = a.writer_nice;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // Reads run on the blocking pool, each thread with its own connection: a few
    // dozen threads keep every core busy without thrashing (tokio's default is 512).
    builder
        .enable_all()
        .thread_name("jcrpack-http")
        .max_blocking_threads(32);
    if let Some(n) = a.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder
        .build()
        .map_err(|e| CliError::context("cannot start the HTTP runtime", e))?;
    runtime.block_on(async move {
        let srv = server::bind(config).await.map_err(|e| match e {
            ServerError::NoUsers(_) => CliError::refused(e.to_string()),
            ServerError::Repository(crate::repository::RepositoryError::NotARepository {
                ..
            }) => CliError::from(e).hint(format!(
                "create one with: jcrpack init {}",
                a.repo.display()
            )),
            e => CliError::from(e),
        })?;
        let addr = srv.local_addr()?;
        eprintln!("listening on http://{addr}");
        srv.serve(shutdown_signal()).await?;
        status!("stopped");
        Ok(0)
    })
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
