//! `jcrpack build DIR -o OUT.zip`: a deterministic package from a source folder.

use super::progress::Bars;
use super::{CliError, CliResult};
use crate::build::{build_package, BuildError, BuildOptions};
use crate::package_id::PackageId;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Builds a package zip from a source folder holding `jcr_root/` and `META-INF/vault/`
/// (with `filter.xml`), such as `ui.content/src/main/content`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The source folder (with jcr_root/ and META-INF/vault/filter.xml).
    pub dir: PathBuf,
    /// The package to write (replaced atomically when it exists).
    #[arg(short, long, value_name = "OUT.zip")]
    pub output: PathBuf,
    /// The package id; replaces group, name and version of properties.xml.
    #[arg(long, value_name = "GROUP:NAME:VERSION", value_parser = parse_id)]
    pub name: Option<PackageId>,
    /// Sets a package property (repeatable); applied after everything else.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
    /// Print one JSON document (schema: schemas/build.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `--name`: a package id that FileVault accepts.
fn parse_id(s: &str) -> Result<PackageId, String> {
    let id = PackageId::parse(s).map_err(|e| e.to_string())?;
    if id.name().is_empty() {
        return Err(format!(
            "'{s}' has no package name (expected group:name:version)"
        ));
    }
    id.validate().map_err(|e| e.to_string())?;
    Ok(id)
}

/// `--property`: `key=value` with a non-empty key (the value may be empty).
fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("'{s}' is not key=value")),
    }
}

/// Runs `jcrpack build`.
pub fn run(args: BuildArgs) -> CliResult<i32> {
    if args.output.is_dir() {
        return Err(
            CliError::usage(format!("the output {} is a folder", args.output.display()))
                .hint("name the package file, e.g. -o target/package.zip"),
        );
    }
    let mut options = BuildOptions::default().with_source_date_epoch(super::source_date_epoch()?);
    options.id = args.name;
    options.properties = args.properties;
    let summary =
        build_package(&args.dir, &args.output, &options, &Bars::stderr()).map_err(build_error)?;
    for path in &summary.ignored {
        tracing::info!("skipped {path}");
    }
    if args.json {
        super::print_json(&summary)?;
    } else {
        let mut out = super::out::stdout();
        writeln!(
            out,
            "built {} ({}): {} entries, {} files, {} bytes -> {} bytes",
            summary.output,
            summary.package_id,
            summary.entries,
            summary.files,
            summary.bytes_in,
            summary.bytes_out
        )?;
        writeln!(out, "sha256 {}", summary.sha256)?;
        out.flush()?;
    }
    Ok(0)
}

/// The CLI error for a build error, with what the user can do about it.
fn build_error(e: BuildError) -> CliError {
    let hint = match &e {
        BuildError::MissingName { .. } => {
            Some("pass --name group:name:version, or set group and name in META-INF/vault/properties.xml")
        }
        BuildError::MissingFilter { .. } => Some(
            "a package needs META-INF/vault/filter.xml naming the repository roots it installs",
        ),
        BuildError::EscapingSymlink { .. } | BuildError::SymlinkLoop { .. } => {
            Some("replace the link by a copy of what it points to, inside the source folder")
        }
        BuildError::OutputInsideSource { .. } => {
            Some("write the package outside jcr_root/ and META-INF/, e.g. -o target/package.zip")
        }
        _ => None,
    };
    let error = CliError::from(e);
    match hint {
        Some(h) => error.hint(h),
        None => error,
    }
}
