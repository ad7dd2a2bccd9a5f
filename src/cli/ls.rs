//! `jcrpack ls PACKAGE [PATH] [--json]`: the repository paths a package holds.

use super::info::open_package;
use super::repo::absolute;
use super::{CliError, CliResult};
use crate::package::inspect::{contents_below, PackageNode};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// List the repository paths a package holds, with their node types, in document order.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// The package: a .zip, or a folder holding META-INF/vault/ and jcr_root/.
    pub package: PathBuf,
    /// Only this path and the paths below it.
    #[arg(default_value = "/")]
    pub path: String,
    /// Print JSON (schema: schemas/ls.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// The JSON document of `ls --json`.
#[derive(Debug, Serialize)]
pub struct Listing<'a> {
    /// The package as given.
    pub package: String,
    /// The path listed.
    pub path: &'a str,
    /// The nodes in document order.
    pub nodes: &'a [PackageNode],
}

/// Runs `ls`.
pub fn run(a: LsArgs) -> CliResult<i32> {
    let p = absolute(&a.path)?;
    let archive = open_package(&a.package)?;
    let c = contents_below(archive.as_ref(), &p)
        .map_err(|e| CliError::context(a.package.display(), e))?;
    for w in &c.warnings {
        status!("warning: {w}");
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if a.json {
        let doc = Listing {
            package: archive.name().to_string(),
            path: &p,
            nodes: &c.nodes,
        };
        serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        for n in &c.nodes {
            let mut t = n.primary_type.clone().unwrap_or_else(|| "-".into());
            if !n.mixin_types.is_empty() {
                t.push_str(&format!(" [{}]", n.mixin_types.join(", ")));
            }
            // Each column escaped on its own: the tab between them stays.
            let esc = |s: &str| super::out::escape_controls(s, false).into_owned();
            writeln!(out, "{}\t{}", esc(&n.path), esc(&t))?;
        }
    }
    out.flush()?;
    if c.nodes.is_empty() && p != "/" {
        return Err(CliError::failure(format!(
            "{p}: the package holds nothing at or below this path"
        )));
    }
    Ok(0)
}
