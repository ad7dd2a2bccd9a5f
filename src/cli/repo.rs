//! Arguments shared by every command that touches a repository, and `jcrpack init`.

use super::{CliError, CliResult};
use crate::repository::{self, OpenOptions, RepositoryError, Store, DEFAULT_WORKSPACE};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `--repo REPO [--workspace NAME]`.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
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
        self.open_with(lock, false)
    }

    /// [`RepoArgs::open_locking`] for a command that loads content (`import`,
    /// `load`, `restore`): see [`OpenOptions::bulk_load`].
    pub fn open_for_loading(&self, lock: &LockArgs) -> CliResult<Box<dyn Store>> {
        self.open_with(lock, true)
    }

    fn open_with(&self, lock: &LockArgs, bulk_load: bool) -> CliResult<Box<dyn Store>> {
        let store = open_repo_with(&self.repo, lock, bulk_load)?;
        if !store.workspaces()?.contains(&self.workspace) {
            return Err(CliError::from(RepositoryError::WorkspaceNotFound {
                workspace: self.workspace.clone(),
            })
            .hint(format!(
                "create it with: jcrpack workspace create {} --repo {}",
                self.workspace,
                self.repo.display()
            )));
        }
        Ok(store)
    }
}

/// Opens the repository at `repo` (through the library's factory), with a hint
/// when there is none; a writer waits `--lock-timeout` for another to finish.
pub fn open_repo(repo: &Path, lock: &LockArgs) -> CliResult<Box<dyn Store>> {
    open_repo_with(repo, lock, false)
}

/// [`open_repo`], for a command that loads content when `bulk_load` ([`OpenOptions::bulk_load`]).
pub fn open_repo_with(repo: &Path, lock: &LockArgs, bulk_load: bool) -> CliResult<Box<dyn Store>> {
    let mut options = OpenOptions {
        bulk_load,
        ..OpenOptions::default()
    };
    if let Some(t) = lock.lock_timeout {
        options.busy_timeout = t;
    }
    repository::open_with(repo, &options).map_err(|e| match e {
        RepositoryError::NotARepository { .. } => {
            CliError::from(e).hint(format!("create one with: jcrpack init {}", repo.display()))
        }
        e => CliError::from(e),
    })
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

/// Who runs this command and when: `$USER` (or `$USERNAME`, else `unknown`) and the
/// clock, read here because the library reads neither.
pub fn actor() -> crate::events::Actor {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    crate::events::Actor {
        user,
        time: crate::value::Date::from_epoch_millis(millis),
    }
}

/// Who runs a command that writes the repository (and its history), and when: as
/// [`actor`], with the time `SOURCE_DATE_EPOCH` (seconds) pins, so that the same
/// commands on the same input record byte-identical history. An empty
/// `SOURCE_DATE_EPOCH` is unset; a value that is no integer is a mistake, reported.
/// Backups keep the clock ([`actor`]): their retention is measured in real time.
pub fn recorded_actor() -> CliResult<crate::events::Actor> {
    let mut actor = actor();
    actor.time = super::pinned_clock(actor.time)?;
    Ok(actor)
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
