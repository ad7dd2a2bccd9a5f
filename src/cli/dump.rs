//! `jcrpack dump --repo REPO [PATH] --format json`: a subtree as canonical JSON.
//! `jcrpack dump PACKAGE [PATH] --format json`: the same for the tree a package would
//! create in an empty repository (see `pkgdump`).

use super::repo::{absolute, RepoArgs};
use super::{CliError, CliResult};
use crate::dump::{BinaryDigest, JsonTreeWriter, KnownDigests};
use clap::{Args, ValueEnum};
use std::io::Write;

/// Output formats of `dump`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DumpFormat {
    /// The canonical JSON of the conformance suite.
    Json,
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
        return super::pkgdump::run(std::path::Path::new(&package), &p);
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
    write_subtree(store.as_ref(), &repo.workspace, &p)?;
    Ok(0)
}

/// Writes the subtree at `p` of `store` to stdout as canonical JSON.
pub(super) fn write_subtree(store: &dyn crate::repository::Store, workspace: &str, p: &str) -> CliResult<()> {
    if store.node(workspace, p)?.is_none() {
        return Err(CliError::failure(format!("{p}: no such node")));
    }
    let stdout = std::io::stdout().lock();
    let mut w = JsonTreeWriter::new(std::io::BufWriter::new(stdout));
    let mut digests = KnownDigests;
    let mut depths: Vec<usize> = Vec::new();
    for e in store.walk(workspace, p)? {
        let e = e?;
        while depths.last().is_some_and(|d| *d >= e.depth) {
            depths.pop();
            w.end_node()?;
        }
        let props: Vec<_> = e.node.properties.values().cloned().collect();
        let d: &mut dyn BinaryDigest = &mut digests;
        w.start_node(&e.node.segment(), &e.node.primary_type, &e.node.mixins, &props, d)?;
        depths.push(e.depth);
    }
    while depths.pop().is_some() {
        w.end_node()?;
    }
    let mut out = w.finish()?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
