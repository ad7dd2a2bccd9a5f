//! `jcrpack diff PACKAGE --repo REPO`: what an install would change, node by node and
//! property by property, deletions first. Nothing is written: the install runs and is
//! rolled back. The planning is the library's ([`crate::diff::plan`]).

use super::progress::Bars;
use super::repo::{LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::archive::{self, ReadOptions};
use crate::diff::{self, Change, NodeChange};
use crate::import::ImportOptions;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Show what installing a package would change, without changing anything.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The package (zip or folder).
    pub package: PathBuf,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Print JSON (schema: schemas/diff.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs `diff`.
pub fn run(a: DiffArgs) -> CliResult<i32> {
    let opts = ImportOptions {
        workspace: a.repo.workspace.clone(),
        dry_run: true,
        ..ImportOptions::new(super::repo::recorded_actor()?)
    };
    let before = a.repo.open()?;
    let mut store = a.repo.open_locking(&a.lock)?;
    let archive = archive::open(&a.package, &ReadOptions::default())?;
    let bars = Bars::stderr();
    let changes = diff::plan_spilled(
        before.as_ref(),
        store.as_mut(),
        archive.as_ref(),
        &opts,
        &bars,
    )
    .map_err(|e| CliError::context(a.package.display(), e))?;
    drop(bars);
    if a.json {
        // Streamed from the spilled list, escaped as `print_json` does.
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            package: String,
            changes: &'a diff::Changes,
        }
        let doc = Doc {
            package: a.package.display().to_string(),
            changes: &changes,
        };
        let mut out = crate::dump::EscapeJsonWriter::new(super::out::stdout());
        serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
        let mut out = out.into_inner()?;
        writeln!(out)?;
        out.flush()?;
        return Ok(0);
    }
    let mut out = super::out::stdout();
    let mut it = changes.iter();
    for c in &mut it {
        write_change(&mut out, &c)?;
    }
    if let Some(e) = it.error {
        return Err(CliError::context(
            a.package.display(),
            diff::DiffError::ReadBack(e),
        ));
    }
    out.flush()?;
    status!("{} nodes would change", changes.len());
    Ok(0)
}

/// One node's change: `+`, `-` or `~`, the path and type, then its properties
/// (the printer `restore -v` shares).
fn write_change(out: &mut impl Write, c: &NodeChange) -> std::io::Result<()> {
    let mark = match c.change {
        Change::Added => '+',
        Change::Deleted => '-',
        Change::Changed => '~',
    };
    super::changes::write_node(
        out,
        &super::changes::NodeLines {
            mark,
            label: &c.path,
            primary_type: &c.primary_type,
            mixins: &c.mixins,
            order: &None,
            properties: &c.properties,
            note: None,
        },
    )
}
