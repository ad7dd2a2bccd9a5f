//! `jcrpack validate PACKAGE|DIR [--json]`: FileVault's repository-free validators.

use super::progress::Bars;
use super::{CliError, CliResult};
use crate::events::{Event, Events, Unit};
use crate::validate::{validate_path, Report};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Validate a package: a .zip, a package folder, or a source folder with `jcr_root/`
/// and `META-INF/vault/`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The package zip or folder.
    pub package: PathBuf,
    /// Print one JSON document (schema: schemas/validate.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs the validators; exit 1 when an error was found.
pub fn run(args: ValidateArgs) -> CliResult<i32> {
    if !args.package.exists() {
        return Err(CliError::failure(format!("'{}' does not exist", args.package.display()))
            .hint("give a package .zip, a package folder, or a folder with jcr_root/ and META-INF/vault/"));
    }
    let dir = &args.package;
    if dir.is_dir() && !dir.join("jcr_root").is_dir() && !dir.join("META-INF").is_dir() {
        return Err(CliError::failure(format!(
            "'{}' is not a package folder: it has neither jcr_root/ nor META-INF/",
            dir.display()
        ))
        .hint("give the folder that holds jcr_root/ and META-INF/vault/ (e.g. src/main/content), or a package .zip"));
    }
    let bars = Bars::stderr();
    bars.event(&Event::Phase {
        name: "validating",
        total: None,
        unit: Unit::Entries,
    });
    let report = validate_path(&args.package)?;
    drop(bars);
    if args.json {
        super::print_json(&json(&report))?;
    } else {
        let mut out = super::out::stdout();
        out.write_all(human(&report).as_bytes())?;
        out.flush()?;
    }
    Ok(if report.has_errors() { 1 } else { 0 })
}

/// The JSON document: package, validity, counts and findings.
pub fn json(report: &Report) -> serde_json::Value {
    serde_json::json!({
        "package": report.package,
        "valid": !report.has_errors(),
        "counts": report.counts(),
        "findings": report.findings,
    })
}

/// One line per finding, then a summary line.
pub fn human(report: &Report) -> String {
    let mut s = String::new();
    for f in &report.findings {
        // One line per finding whatever its message quotes.
        s.push_str(&super::out::escape_controls(&f.to_string(), false));
        s.push('\n');
    }
    let c = report.counts();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    s.push_str(&format!(
        "{}: {}, {}, {}\n",
        super::out::escape_controls(&report.package, false),
        plural(c.error, "error"),
        plural(c.warning, "warning"),
        plural(c.info, "info")
    ));
    s
}
