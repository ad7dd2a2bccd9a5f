//! `jcrpack lm ...`: Magnolia light modules in a release pipeline (validate, pack,
//! diff, check-content). Parsing and printing only; the work is in
//! [`crate::lightmodule`].

use super::{CliError, CliResult};
use crate::lightmodule::{self, CheckOptions, Counts, Release};
use clap::{Args, Subcommand};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `jcrpack lm SUBCOMMAND`.
#[derive(Debug, Args)]
pub struct LmArgs {
    /// What to do with the light modules.
    #[command(subcommand)]
    pub command: LmCommand,
}

/// The `lm` subcommands.
#[derive(Debug, Subcommand)]
pub enum LmCommand {
    /// Check light modules offline as Magnolia would read them (exit 1 on errors).
    Validate(ValidateArgs),
}

/// Modules that exist at run time but are not part of the release.
#[derive(Debug, Args, Clone, Default)]
pub struct ExternalArgs {
    /// A module that exists on the target instance but is not in the release (e.g.
    /// mtk, dam-app); references into it are not checked. Repeatable.
    #[arg(long = "external", value_name = "MODULE")]
    pub external: Vec<String>,
    /// A file listing such modules, one per line (`#` starts a comment).
    #[arg(long = "externals", value_name = "FILE")]
    pub externals_file: Option<PathBuf>,
}

impl ExternalArgs {
    fn options(&self) -> CliResult<CheckOptions> {
        let mut external: BTreeSet<String> = self.external.iter().cloned().collect();
        if let Some(f) = &self.externals_file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", f.display())))?;
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if !line.is_empty() {
                    external.insert(line.to_owned());
                }
            }
        }
        Ok(CheckOptions { external })
    }
}

/// `jcrpack lm validate DIR... [--json]`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Light-module folders, light-modules roots (magnolia.resources.dir) or packs.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub external: ExternalArgs,
    /// Print one JSON document (schema: schemas/lm-validate.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs an `lm` subcommand.
pub fn run(args: LmArgs) -> CliResult<i32> {
    match args.command {
        LmCommand::Validate(a) => validate(a),
    }
}

fn read_release(paths: &[PathBuf]) -> CliResult<Release> {
    for p in paths {
        if !p.exists() {
            return Err(CliError::usage(format!("'{}' does not exist", p.display()))
                .hint("give a light-module folder, a light-modules root, or a pack written by `jcrpack lm pack`"));
        }
    }
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    Ok(Release::read(&refs)?)
}

fn validate(args: ValidateArgs) -> CliResult<i32> {
    let options = args.external.options()?;
    let release = read_release(&args.dirs)?;
    let findings = lightmodule::check(&release, &options);
    let counts = Counts::of(&findings);
    if args.json {
        let modules: Vec<serde_json::Value> = release
            .modules
            .values()
            .map(|m| serde_json::json!({"name": m.name, "version": m.version(), "files": m.files.len()}))
            .collect();
        emit_json(&serde_json::json!({
            "source": release.source,
            "valid": counts.error == 0,
            "modules": modules,
            "counts": counts,
            "findings": findings,
        }))?;
    } else {
        let mut out = String::new();
        for f in &findings {
            out.push_str(&f.to_string());
            out.push('\n');
        }
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        out.push_str(&format!(
            "{}: {}, {}, {}, {}\n",
            release.source,
            plural(release.modules.len(), "module"),
            plural(counts.error, "error"),
            plural(counts.warning, "warning"),
            plural(counts.info, "info")
        ));
        emit(&out)?;
    }
    Ok(if counts.error > 0 { 1 } else { 0 })
}

/// Writes `text` to stdout; a closed pipe (`| head`) ends the output quietly.
fn emit(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// One pretty JSON document on stdout.
fn emit_json(value: &serde_json::Value) -> CliResult<()> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::failure(e.to_string()))?;
    text.push('\n');
    emit(&text)
}
