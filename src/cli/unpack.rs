//! `jcrpack unpack PACKAGE DIR`: a package's entries as files in a folder.

use super::build::Bar;
use super::{CliError, CliResult};
use crate::unpack::{unpack, UnpackError, UnpackOptions};
use clap::Args;
use std::path::PathBuf;

/// Extracts a package (zip or folder) into a folder, never writing outside it and never
/// creating or following symbolic links.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// The package: a zip, or an exploded package folder.
    pub package: PathBuf,
    /// The folder to write (created when missing; must be empty unless --force).
    pub dir: PathBuf,
    /// Unpack into a folder that is not empty, replacing existing files.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document (schema: schemas/unpack.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs `jcrpack unpack`.
pub fn run(args: UnpackArgs, quiet: bool) -> CliResult<i32> {
    let options = UnpackOptions {
        force: args.force,
        ..UnpackOptions::default()
    };
    let bar = Bar::new(quiet, "unpacking");
    let result = unpack(&args.package, &args.dir, &options, &bar);
    bar.finish();
    let summary = result.map_err(|e| {
        let hint = match &e {
            UnpackError::NotEmpty { .. } => {
                Some("pass --force to unpack into it anyway (existing files are replaced)")
            }
            _ => None,
        };
        let error = CliError::from(e);
        match hint {
            Some(h) => error.hint(h),
            None => error,
        }
    })?;
    if !quiet {
        for w in &summary.warnings {
            eprintln!("warning: {w}");
        }
    }
    if args.json {
        super::print_json(&summary)?;
    } else {
        println!(
            "unpacked {} into {}: {} files, {} folders, {} bytes",
            summary.package, summary.output, summary.files, summary.directories, summary.bytes
        );
    }
    Ok(0)
}
