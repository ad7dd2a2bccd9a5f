//! Arguments shared by every command that touches a repository, and `jcrpack init`.

use super::{CliError, CliResult};
use crate::repository::sqlite::{OpenOptions, SqliteStore};
use crate::repository::{self, Store, DEFAULT_WORKSPACE};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// `--repo REPO [--workspace NAME]`.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO")]
    pub repo: PathBuf,
    /// The workspace (as JCR and Magnolia have: `config`, `website`, ...).
    #[arg(long, short = 'w', default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,
}

/// `--lock-timeout SECONDS`, for the commands that take the repository's write lock.
#[derive(Debug, Args, Clone, Default)]
pub struct LockArgs {
    /// How long to wait while another process writes to the repository before giving
    /// up, in seconds (fractions allowed; default 5).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub lock_timeout: Option<Duration>,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("'{s}': expected 0 to 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl RepoArgs {
    /// Opens the repository, with a hint when it does not exist.
    pub fn open(&self) -> CliResult<Box<dyn Store>> {
        self.open_locking(&LockArgs::default())
    }

    /// [`RepoArgs::open`] for a command that writes: a second writer waits
    /// `--lock-timeout` for the first to finish.
    pub fn open_locking(&self, lock: &LockArgs) -> CliResult<Box<dyn Store>> {
        if !self.repo.join("repository.db").exists() {
            return Err(CliError::failure(format!(
                "{}: not a jcrpack repository",
                self.repo.display()
            ))
            .hint(format!(
                "create one with: jcrpack init {}",
                self.repo.display()
            )));
        }
        let mut options = OpenOptions::default();
        if let Some(t) = lock.lock_timeout {
            options.busy_timeout = t;
        }
        Ok(Box::new(SqliteStore::open_with(&self.repo, &options)?))
    }
}

/// `jcrpack init REPO`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to create the repository in (must not hold one).
    pub repo: PathBuf,
}

/// Creates a repository.
pub fn init(a: InitArgs) -> CliResult<i32> {
    repository::init(&a.repo)?;
    status!("initialized an empty repository in {}", a.repo.display());
    Ok(0)
}

/// Checks that `p` is an absolute repository path and normalizes it.
pub fn absolute(p: &str) -> CliResult<String> {
    if !p.starts_with('/') {
        return Err(
            CliError::usage(format!("'{p}' is not an absolute repository path"))
                .hint("repository paths start with '/', e.g. /content/site"),
        );
    }
    crate::path::normalize(p).map_err(|e| CliError::usage(format!("'{p}': {e}")))
}
