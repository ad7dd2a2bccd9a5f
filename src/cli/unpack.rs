//! `jcrpack unpack PACKAGE DIR [--force] [--allow-case-collisions]`: a package's
//! entries as files in a folder.

use super::progress::Bars;
use super::{CliError, CliResult};
use crate::archive::ArchiveError;
use crate::unpack::{unpack, UnpackError, UnpackOptions};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Extracts a package (zip or folder) into a folder, never writing outside it and never
/// creating or following symbolic links. Entries whose names differ only in case are
/// refused (they overwrite each other on macOS and Windows, and in checkouts there)
/// unless --allow-case-collisions.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// The package: a zip, or an exploded package folder.
    pub package: PathBuf,
    /// The folder to write (created when missing; must be empty unless --force).
    pub dir: PathBuf,
    /// Unpack into a folder that is not empty, replacing existing files.
    #[arg(long)]
    pub force: bool,
    /// Unpack entries whose names differ only in case (README.txt, Readme.txt); the
    /// target folder must be on a case-sensitive file system (refused otherwise).
    #[arg(long)]
    pub allow_case_collisions: bool,
    /// Print one JSON document (schema: schemas/unpack.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs `jcrpack unpack`.
pub fn run(args: UnpackArgs) -> CliResult<i32> {
    let options = UnpackOptions {
        force: args.force,
        allow_case_collisions: args.allow_case_collisions,
        ..UnpackOptions::default()
    };
    let summary = unpack(&args.package, &args.dir, &options, &Bars::stderr()).map_err(|e| {
        let hint = match &e {
            UnpackError::NotEmpty { .. } => {
                Some("pass --force to unpack into it anyway (existing files are replaced)")
            }
            UnpackError::Archive(ArchiveError::CaseCollision { .. }) => Some(
                "rename one of the entries; or, on a case-sensitive file system, pass \
                 --allow-case-collisions to unpack both",
            ),
            UnpackError::CaseInsensitiveTarget { .. } => {
                Some("unpack onto a case-sensitive file system, or rename one of the entries")
            }
            _ => None,
        };
        let error = CliError::from(e);
        match hint {
            Some(h) => error.hint(h),
            None => error,
        }
    })?;
    for w in &summary.warnings {
        status!("warning: {w}");
    }
    if args.json {
        super::print_json(&summary)?;
    } else {
        let mut out = super::out::stdout();
        writeln!(
            out,
            "unpacked {} into {}: {} files, {} folders, {} bytes",
            summary.package, summary.output, summary.files, summary.directories, summary.bytes
        )?;
        out.flush()?;
    }
    Ok(0)
}
