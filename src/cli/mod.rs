//! The command-line interface: argument definitions (clap derive) and one module per
//! command. The binary (`src/main.rs`) only calls [`main`].
//!
//! Output rules: the result goes to stdout (human text, or one JSON document with
//! `--json`, whose schema is in `schemas/`); progress, warnings and errors go to
//! stderr. Exit codes: 0 success, 1 failure (including findings of `validate`),
//! 2 usage error. Writing to a closed pipe ends the output quietly with exit 0;
//! `-q` silences every stderr line that is not an error (see `out`).

/// A status line on stderr (`status!("wrote {n} nodes")`), silenced by `-q`.
macro_rules! status {
    ($($t:tt)*) => { $crate::cli::out::status(format_args!($($t)*)) };
}

/// `writeln!` for a line that carries content (a node path, a value, a label): every
/// control character in it is escaped, a line break too ([`out::line`]).
macro_rules! outln {
    ($out:expr, $($t:tt)*) => { $crate::cli::out::line(&mut $out, format_args!($($t)*)) };
}

mod backup;
mod backup_export;
mod bootstrap;
mod build;
mod changes;
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
mod lm;
mod load;
mod ls;
mod out;
mod parse;
mod pkgdump;
mod progress;
mod repo;
mod restore;
mod rm;
mod serve;
mod unpack;
mod user;
mod validate;
mod workspace;

pub use error::{CliError, CliResult, ErrorKind};

use clap::{Args, Parser, Subcommand};

/// jcrpack: read, write, validate and install JCR content packages (Apache Jackrabbit
/// FileVault format).
#[derive(Debug, Parser)]
#[command(name = "jcrpack", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes (apart from [`Cli`] so that `cli::parse` can build
/// them without the commands).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
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
    /// Magnolia bootstrap files (WORKSPACE.PATH.xml / .yaml): load, dump, convert to and from packages.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Magnolia light modules: validate, pack, diff releases, check content.
    Lm(lm::LmArgs),
    /// Create, list and delete workspaces.
    Workspace(workspace::WorkspaceArgs),
    /// Hot backups of a repository into a catalogue: create, list, show, verify, delete, prune.
    Backup(backup::BackupArgs),
    /// Restore a backup (whole, per workspace, per subtree) or a package, differences first.
    Restore(restore::RestoreArgs),
    /// Generate deterministic AEM-like content for benchmarks (a source folder).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
    /// Serve the repository over HTTP: AEM's Package Manager API, backups, a page.
    Serve(serve::ServeArgs),
    /// Add, list and remove the users who may log in to `serve`.
    User(user::UserArgs),
}

/// Runs the command line and returns the process exit code. With `trim_every`, the
/// calling thread gives freed heap memory back every interval while the command
/// runs ([`crate::heap_trim::wait_trimming`]); the caller fixes malloc's mmap
/// threshold first ([`crate::heap_trim::fix_mmap_threshold`]) if it wants that too.
pub fn main(trim_every: Option<std::time::Duration>) -> i32 {
    let cli = match parse::parse(std::env::args_os().collect()) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    out::set_quiet(cli.global.quiet);
    init_logging(cli.global.verbose, cli.global.quiet);
    // The limits on hostile structure: raised by JCRPACK_MAX_* variables, read here
    // only (the library reads no environment).
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("JCRPACK_MAX_"))
        .collect();
    match crate::limits::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(limits) => {
            crate::limits::set(limits);
        }
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    }
    // The command runs on a thread with a large stack: the library's walks are
    // depth-limited (crate::limits), and 64 MiB leaves room when an operator raises
    // a limit for a trusted package. The stack is reserved, not used, until needed.
    // The command's thread sends its exit code when it ends; a panic drops the
    // sender unsent (the panic hook has reported it already): 101.
    let (sender, done) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("jcrpack".into())
        .stack_size(64 << 20)
        .spawn(move || {
            let code = match run(cli) {
                Ok(code) => code,
                Err(e) => e.report(),
            };
            let _ = sender.send(code);
        });
    let worker = match worker {
        Ok(worker) => worker,
        Err(e) => {
            eprintln!("error: cannot start the command's thread: {e}");
            return 1;
        }
    };
    let code = match trim_every {
        Some(interval) => crate::heap_trim::wait_trimming(&done, interval).0,
        None => done.recv().ok(),
    };
    // The thread has ended its command; it is waited for as before (its
    // thread-local values dropped) before the process exits.
    let joined = worker.join();
    match (code, joined) {
        (Some(code), Ok(())) => code,
        _ => 101,
    }
}

/// Prints one JSON document (pretty, on stdout): the `--json` output of every command.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> CliResult<()> {
    use std::io::Write;
    let mut out = out::stdout();
    // DEL, C1 controls and U+2028/U+2029 from content as `\uXXXX`.
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::from)?;
    writeln!(out, "{}", crate::dump::escape_json_text(&text))?;
    out.flush()?;
    Ok(())
}

/// `SOURCE_DATE_EPOCH` from the environment, read the one way
/// ([`crate::archive::parse_source_date_epoch`]): `None` when unset or empty, an
/// error (never a silent fallback to the clock) when it is not a count of seconds.
pub(crate) fn source_date_epoch() -> CliResult<Option<i64>> {
    let hint = "SOURCE_DATE_EPOCH is seconds since 1970-01-01 UTC, digits only";
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        None => Ok(None),
        Some(os) => {
            let value = os.into_string().map_err(|os| {
                CliError::from(crate::archive::ArchiveError::BadSourceDateEpoch {
                    value: os.to_string_lossy().into_owned(),
                })
                .hint(hint)
            })?;
            crate::archive::parse_source_date_epoch(&value)
                .map_err(|e| CliError::from(e).hint(hint))
        }
    }
}

/// The install clock the command line hands the library: `SOURCE_DATE_EPOCH` when
/// set, else `now` unchanged.
pub(crate) fn pinned_clock(now: crate::value::Date) -> CliResult<crate::value::Date> {
    Ok(match source_date_epoch()? {
        Some(s) => crate::value::Date::from_epoch_millis(s.saturating_mul(1000)),
        None => now,
    })
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
        Command::Import(a) => import::run(a, cli.global.verbose, cli.global.quiet),
        Command::Load(a) => load::run(a),
        Command::Rm(a) => rm::run(a),
        Command::Dump(a) => dump::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Export(a) => export::run(a),
        Command::History(a) => history::history(a),
        Command::Undo(a) => history::undo(a),
        Command::Build(a) => build::run(a),
        Command::Unpack(a) => unpack::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Info(a) => info::run(a),
        Command::Ls(a) => ls::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Lm(a) => lm::run(a),
        Command::Bootstrap(a) => bootstrap::run(a),
        Command::Workspace(a) => workspace::run(a),
        Command::Gc(a) => gc::run(a),
        Command::Backup(a) => backup::run(a, cli.global.quiet),
        Command::Restore(a) => restore::run(a, cli.global.verbose, cli.global.quiet),
        Command::Serve(a) => serve::run(a),
        Command::User(a) => user::run(a),
    }
}
