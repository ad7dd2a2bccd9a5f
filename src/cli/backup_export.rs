//! `jcrpack backup export ID --workspace W [--root PATH ...] -o OUT.zip`: a backup
//! as a FileVault content package that AEM installs (see [`crate::restore::portable`]).

use super::backup::CatalogueArgs;
use super::{CliError, CliResult};
use crate::archive::WriterOptions;
use crate::backup::Catalogue;
use crate::repository::DEFAULT_WORKSPACE;
use crate::restore::{self, portable};
use clap::Args;
use std::path::PathBuf;

/// `backup export`.
#[derive(Debug, Args)]
pub struct BackupExportArgs {
    /// The backup id (see `jcrpack backup list`).
    pub id: String,
    #[command(flatten)]
    pub target: CatalogueArgs,
    /// The workspace to export.
    #[arg(long, short = 'w', value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,
    /// Export only these subtrees (repeatable; default: every top-level node but
    /// the version history, /jcr:system).
    #[arg(long, value_name = "PATH")]
    pub root: Vec<String>,
    /// The package to write (with --format magnolia-bootstrap: the folder).
    #[arg(short, long, value_name = "OUT.zip")]
    pub output: PathBuf,
    /// `package` (the default): one FileVault content package; `magnolia-bootstrap`:
    /// bootstrap files Magnolia imports (system view, `WORKSPACE.PATH.xml`), one per
    /// top-level node (or --root) of each workspace, into the folder -o names.
    #[arg(long, default_value = "package", value_parser = ["package", "magnolia-bootstrap"])]
    pub format: String,
    #[command(flatten)]
    pub preset: super::bootstrap::PresetArgs,
    /// Print JSON: output, packageId, nodes, entries, binaryBytes, nodeTypes.
    #[arg(long)]
    pub json: bool,
}

/// Runs `backup export`.
pub fn run(a: BackupExportArgs) -> CliResult<i32> {
    let mut roots = Vec::new();
    for r in &a.root {
        roots.push(super::repo::absolute(r)?);
    }
    let catalogue = match (&a.target.catalogue, &a.target.repo) {
        (Some(dir), _) => Catalogue::open(dir)?,
        (None, Some(repo)) => Catalogue::open(&Catalogue::default_dir(repo))?,
        (None, None) => return Err(CliError::usage("give --catalogue DIR or --repo REPO")),
    };
    let store =
        restore::open_backup(&catalogue, &a.id).map_err(|e| CliError::failure(e.to_string()))?;
    if a.format == "magnolia-bootstrap" || a.preset.preset.is_some() {
        return super::bootstrap::export_backup(store.as_ref(), &a.id, &a, &roots);
    }
    let id =
        portable::package_id(&a.workspace, &a.id).map_err(|e| CliError::failure(e.to_string()))?;
    let report = portable::write_package(
        store.as_ref(),
        &a.workspace,
        &roots,
        &id,
        &a.output,
        WriterOptions::default().with_source_date_epoch(super::source_date_epoch()?),
    )
    .map_err(|e| {
        CliError::failure(format!(
            "backup export failed, {} was not written: {e}",
            a.output.display()
        ))
    })?;
    if a.json {
        super::print_json(&serde_json::json!({
            "output": a.output.display().to_string(),
            "packageId": id.to_string(),
            "nodes": report.nodes,
            "entries": report.entries,
            "binaryBytes": report.binary_bytes,
            "nodeTypes": report.node_types,
        }))?;
    } else {
        status!(
            "exported workspace {} of backup {} into {} ({} nodes, {} entries, {} binary bytes)",
            a.workspace,
            a.id,
            a.output.display(),
            report.nodes,
            report.entries,
            report.binary_bytes
        );
    }
    Ok(0)
}
