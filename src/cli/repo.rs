//! Arguments shared by every command that touches a repository, and `jcrpack init`.

use super::{CliError, CliResult};
use crate::repository::{self, Store, DEFAULT_WORKSPACE};
use clap::Args;
use std::path::PathBuf;

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

impl RepoArgs {
    /// Opens the repository, with a hint when it does not exist.
    pub fn open(&self) -> CliResult<Box<dyn Store>> {
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
        Ok(repository::open(&self.repo)?)
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
    eprintln!("initialized an empty repository in {}", a.repo.display());
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
