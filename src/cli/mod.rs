//! The command-line interface: argument definitions (clap derive) and one module per
//! command. The binary (`src/main.rs`) only calls [`main`].
//!
//! Output rules: the result goes to stdout (human text, or one JSON document with
//! `--json`, whose schema is in `schemas/`); progress, warnings and errors go to
//! stderr. Exit codes: 0 success, 1 failure (including findings of `validate`),
//! 2 usage error.

mod build;
mod diff;
mod dump;
mod error;
mod export;
mod extract;
mod filter;
mod gc;
mod generate;
mod history;
mod import;
mod info;
mod load;
mod ls;
mod pkgdump;
mod repo;
mod rm;
mod unpack;
mod validate;
mod workspace;

pub use error::{CliError, CliResult};

use clap::{Parser, Subcommand};

/// jcrpack: read, write, validate and install JCR content packages (Apache Jackrabbit
/// FileVault format).
#[derive(Debug, Parser)]
#[command(name = "jcrpack", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Questions about a filter.xml (explain which set and rule decide a path).
    Filter(filter::FilterArgs),
    /// Create an empty repository.
    Init(repo::InitArgs),
    /// Install a package into a repository (all or nothing; --dry-run to preview).
    Import(import::ImportArgs),
    /// Load a system view or document view XML file below a node.
    Load(load::LoadArgs),
    /// Remove a node or a property.
    Rm(rm::RmArgs),
    /// Print a repository subtree, or the tree a package creates, as canonical JSON.
    Dump(dump::DumpArgs),
    /// Show what installing a package would change (nothing is written).
    Diff(diff::DiffArgs),
    /// Write repository content selected by a filter into a package.
    Export(export::ExportArgs),
    /// List recorded operations.
    History(history::HistoryArgs),
    /// Undo a recorded operation (the latest by default).
    Undo(history::UndoArgs),
    /// Build a package zip from a source folder (jcr_root/ and META-INF/vault/).
    Build(build::BuildArgs),
    /// Extract a package (zip or folder) into a folder.
    Unpack(unpack::UnpackArgs),
    /// Check a package with FileVault's repository-free validators (exit 1 on errors).
    Validate(validate::ValidateArgs),
    /// Summarize a package: id, type, dependencies, filter, sizes, node types, hooks.
    Info(info::InfoArgs),
    /// List the repository paths a package holds, with their node types.
    Ls(ls::LsArgs),
    /// Write a new package with only some subtrees of a package.
    Extract(extract::ExtractArgs),
    /// Remove blobs nothing refers to and leftovers of killed commands.
    Gc(gc::GcArgs),
    /// Create, list and delete workspaces.
    Workspace(workspace::WorkspaceArgs),
    /// Generate deterministic AEM-like content for benchmarks (a source folder).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    init_logging(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

/// Prints one JSON document (pretty, on stdout): the `--json` output of every command.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::failure(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("JCRPACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("jcrpack={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

fn run(cli: Cli) -> CliResult<i32> {
    match cli.command {
        Command::Filter(a) => filter::run(a),
        Command::Init(a) => repo::init(a),
        Command::Import(a) => import::run(a, cli.quiet),
        Command::Load(a) => load::run(a),
        Command::Rm(a) => rm::run(a),
        Command::Dump(a) => dump::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Export(a) => export::run(a),
        Command::History(a) => history::history(a),
        Command::Undo(a) => history::undo(a),
        Command::Build(a) => build::run(a, cli.quiet),
        Command::Unpack(a) => unpack::run(a, cli.quiet),
        Command::Validate(a) => validate::run(a),
        Command::Info(a) => info::run(a),
        Command::Ls(a) => ls::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Workspace(a) => workspace::run(a),
        Command::Gc(a) => gc::run(a),
    }
}
