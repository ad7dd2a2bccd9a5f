//! `jcrpack dump --repo REPO [PATH] --format json`: a subtree as canonical JSON.
//! `jcrpack dump PACKAGE [PATH] --format json`: the same for the tree a package would
//! create in an empty repository (see `pkgdump`). The tree writers are the
//! library's ([`crate::dump::write_subtree`]).

use super::repo::{absolute, RepoArgs};
use super::{CliError, CliResult};
use crate::dump;
use clap::{Args, ValueEnum};
use std::io::Write;

/// Output formats of `dump`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DumpFormat {
    /// The canonical JSON of the conformance suite.
    Json,
    /// Enhanced DocView: one document, binaries as `{Binary}` placeholders.
    Docview,
    /// JCR system view, streamed, binaries base64-encoded.
    Sysview,
}

/// Print a repository subtree, or the tree a package would create in an empty one.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// With --repo: the subtree's root (default /). Without: the package (a .zip, or a
    /// folder holding META-INF/vault/ and jcr_root/).
    #[arg(value_name = "PACKAGE|PATH")]
    pub target: Option<String>,
    /// With a package: the subtree's root (default /).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO")]
    pub repo: Option<std::path::PathBuf>,
    /// The workspace (as JCR and Magnolia have: `config`, `website`, ...).
    #[arg(long, short = 'w', default_value = crate::repository::DEFAULT_WORKSPACE)]
    pub workspace: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: DumpFormat,
}

/// Runs `dump`: a repository's subtree with `--repo`, a package's tree without.
pub fn run(a: DumpArgs) -> CliResult<i32> {
    let Some(repo) = a.repo else {
        let Some(package) = a.target else {
            return Err(CliError::usage("dump needs a PACKAGE or --repo REPO")
                .hint("jcrpack dump PACKAGE [PATH] or jcrpack dump --repo REPO [PATH]"));
        };
        let p = absolute(a.path.as_deref().unwrap_or("/"))?;
        return super::pkgdump::run(std::path::Path::new(&package), &p, a.format);
    };
    if a.path.is_some() {
        return Err(CliError::usage("with --repo, dump takes one PATH"));
    }
    let p = absolute(a.target.as_deref().unwrap_or("/"))?;
    let repo = RepoArgs {
        repo,
        workspace: a.workspace,
    };
    let store = repo.open()?;
    write_subtree(store.as_ref(), &repo.workspace, &p, a.format)?;
    Ok(0)
}

/// Writes the subtree at `p` of `store` to stdout in `format`.
pub(super) fn write_subtree(
    store: &dyn crate::repository::Store,
    workspace: &str,
    p: &str,
    format: DumpFormat,
) -> CliResult<()> {
    let format = match format {
        DumpFormat::Json => dump::DumpFormat::Json,
        DumpFormat::Docview => dump::DumpFormat::DocView,
        DumpFormat::Sysview => dump::DumpFormat::SysView,
    };
    let mut out = super::out::stdout();
    dump::write_subtree(store, workspace, p, format, &mut out)?;
    out.flush()?;
    Ok(())
}
