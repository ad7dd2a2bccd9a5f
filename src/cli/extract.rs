//! `jcrpack extract PACKAGE (--filter FILTER.xml | --root PATH...) -o OUT.zip`: a new
//! package with only the selected subtrees.

use super::repo::absolute;
use super::{CliError, CliResult};
use crate::archive::WriterOptions;
use crate::filter::{ImportMode, WorkspaceFilter};
use crate::package::extract::{extract, ExtractOptions, Selection};
use clap::{ArgGroup, Args};
use std::path::PathBuf;

/// Write a new package holding only some subtrees of a package, its filter narrowed
/// to them.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("selection").required(true).args(["filter", "root"])))]
pub struct ExtractArgs {
    /// The package: a .zip, or a folder holding META-INF/vault/ and jcr_root/.
    pub package: PathBuf,
    /// Keep what this filter.xml contains.
    #[arg(long, value_name = "FILTER.xml")]
    pub filter: Option<PathBuf>,
    /// Keep these subtrees (repeatable).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub root: Vec<String>,
    /// The mode of every filter set of the new package (default: each root keeps the
    /// mode of the source filter set it came from).
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<ImportMode>,
    /// The new package's name (default: the old name with `-extract`).
    #[arg(long)]
    pub name: Option<String>,
    /// Where to write the new package (a zip).
    #[arg(short = 'o', long = "output", value_name = "OUT.zip")]
    pub output: PathBuf,
    /// Write the package even when a root selects nothing in the package.
    #[arg(long)]
    pub allow_empty: bool,
}

fn parse_mode(s: &str) -> Result<ImportMode, String> {
    s.parse::<ImportMode>().map_err(|e| e.to_string())
}

/// Runs `extract`.
pub fn run(a: ExtractArgs) -> CliResult<i32> {
    let selection = match &a.filter {
        Some(f) => {
            let bytes = std::fs::read(f).map_err(|e| CliError::context(f.display(), e))?;
            let filter = WorkspaceFilter::parse(&bytes, &f.display().to_string())?;
            Selection::Filter(filter)
        }
        None => {
            let mut roots = Vec::new();
            for r in &a.root {
                roots.push(absolute(r)?);
            }
            Selection::Roots(roots)
        }
    };
    // Opened for the selection: only the entries the extract needs are listed and checked.
    let archive = crate::package::extract::open_source(
        &a.package,
        &crate::archive::ReadOptions::default(),
        &selection,
    )
    .map_err(|e| {
        CliError::context(
            format!("{}: cannot read the package", a.package.display()),
            e,
        )
    })?;
    let opts = ExtractOptions {
        selection,
        mode: a.mode,
        name: a.name.clone(),
        writer: WriterOptions::default().with_source_date_epoch(super::source_date_epoch()?),
        allow_empty: a.allow_empty,
    };
    let r = extract(archive.as_ref(), &a.output, &opts).map_err(|e| {
        let empty = matches!(e, crate::package::extract::ExtractError::EmptyRoot(_));
        let mut err = CliError::context(
            format!(
                "{}: extract failed, nothing was written",
                a.package.display()
            ),
            e,
        );
        if empty {
            err.hints
                .push("--allow-empty writes the package anyway".to_string());
        }
        err
    })?;
    for w in &r.warnings {
        status!("warning: {w}");
    }
    let roots: Vec<String> = r
        .filter
        .sets
        .iter()
        .map(|s| format!("{} ({})", s.root(), s.mode))
        .collect();
    status!(
        "wrote {} ({}, {} entries, {} bytes): {} copied compressed, {} DocView files rewritten; filter {}",
        r.output.display(),
        r.name,
        r.entries,
        r.size,
        r.raw_copied,
        r.rewritten,
        roots.join(", ")
    );
    Ok(0)
}
