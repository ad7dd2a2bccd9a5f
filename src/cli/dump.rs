//! `jcrpack dump --repo REPO [PATH] --format json`: a subtree as canonical JSON.

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

/// Print a repository subtree.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// The subtree's root.
    #[arg(default_value = "/")]
    pub path: String,
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: DumpFormat,
}

/// Runs `dump`.
pub fn run(a: DumpArgs) -> CliResult<i32> {
    let p = absolute(&a.path)?;
    let store = a.repo.open()?;
    if store.node(&a.repo.workspace, &p)?.is_none() {
        return Err(CliError::failure(format!("{p}: no such node")));
    }
    let stdout = std::io::stdout().lock();
    let mut w = JsonTreeWriter::new(std::io::BufWriter::new(stdout));
    let mut digests = KnownDigests;
    let mut depths: Vec<usize> = Vec::new();
    for e in store.walk(&a.repo.workspace, &p)? {
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
    Ok(0)
}
