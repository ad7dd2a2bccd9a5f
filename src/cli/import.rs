//! `jcrpack import PACKAGE --repo REPO`: install a package.

use super::repo::{absolute, LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::events::{Event, Events, Unit};
use crate::filter::ImportMode;
use crate::import::{self, IdConflictPolicy, ImportOptions, Report};
use crate::properties::AcHandling;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

/// Install a package (zip or folder) with FileVault's semantics, all or nothing.
#[derive(Debug, Args)]
#[command(
    after_help = "Output: on a terminal, a summary (counts per action, warnings, \
the operation id); -v adds one line per path (A added, U updated, R replaced, D deleted, \
- unchanged, E error). A subtree this package installed before with the same options, \
unchanged since, is skipped and counted, not listed (--no-skip-unchanged walks and lists it \
as FileVault does). Into a pipe or a file, stdout is that list of paths, one per line, \
and the summary goes to stderr; -q prints neither (-q -v still lists). --log FILE writes the full install log whatever the \
terminal; --json prints the whole report."
)]
pub struct ImportArgs {
    /// The package: a .zip, or a folder holding META-INF/vault/ and jcr_root/.
    pub package: PathBuf,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Overrides every filter set's mode: replace, merge, update, merge_properties, update_properties.
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<ImportMode>,
    /// Overrides the package's acHandling: ignore, overwrite, merge, merge_preserve, clear.
    #[arg(long, value_parser = parse_ac)]
    pub ac_handling: Option<AcHandling>,
    /// Identifier conflicts: fail, create_new_id, force_remove_conflicting_id, legacy.
    #[arg(long, value_parser = parse_id, default_value = "fail")]
    pub id_conflict: IdConflictPolicy,
    /// Path mapping FROM=TO (repeatable).
    #[arg(long = "map", value_name = "FROM=TO")]
    pub map: Vec<String>,
    /// Install below PATH: every filter root is prefixed with it.
    #[arg(long)]
    pub at: Option<String>,
    /// Run the install and roll it back: the report is the real one.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip malformed files (reported) instead of failing (FileVault's non-strict mode).
    #[arg(long)]
    pub lenient: bool,
    /// Refuse a package that writes access control lists.
    #[arg(long)]
    pub no_acl: bool,
    /// Refuse a package that writes users or groups.
    #[arg(long)]
    pub no_authorizables: bool,
    /// Only allow writes below these paths (repeatable).
    #[arg(long = "allow-root", value_name = "PATH")]
    pub allow_root: Vec<String>,
    /// Allow writes below /jcr:system, /rep:security and /oak:index.
    #[arg(long)]
    pub allow_system_roots: bool,
    /// Skip what this package installed before with the same options and nothing has
    /// changed since (aggregate digests); such subtrees are counted, not listed. The
    /// default; the flag stays for scripts that name it.
    #[arg(long, overrides_with = "no_skip_unchanged")]
    pub skip_unchanged: bool,
    /// Walk, compare and list every path, as FileVault does, even below subtrees this
    /// package installed before and nothing has changed since.
    #[arg(long, overrides_with = "skip_unchanged")]
    pub no_skip_unchanged: bool,
    /// Refuse the package when a dependency is not installed (default: a warning).
    #[arg(long)]
    pub require_dependencies: bool,
    /// Print the report as JSON (schema: schemas/import-report.schema.json).
    #[arg(long)]
    pub json: bool,
    /// Also write the full install log to FILE, one line per path as AEM's package
    /// manager logs them (`A /path`, `E /path (message)`); written whole or not at all.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

fn parse_mode(s: &str) -> Result<ImportMode, String> {
    s.parse::<ImportMode>().map_err(|e| e.to_string())
}

fn parse_ac(s: &str) -> Result<AcHandling, String> {
    AcHandling::from_name(s).ok_or_else(|| {
        format!("unknown acHandling '{s}' (ignore, overwrite, merge, merge_preserve, clear)")
    })
}

fn parse_id(s: &str) -> Result<IdConflictPolicy, String> {
    IdConflictPolicy::from_name(s).ok_or_else(|| {
        format!("unknown policy '{s}' (fail, create_new_id, force_remove_conflicting_id, legacy)")
    })
}

/// Runs `import`. The list of paths goes to stdout when stdout is not a terminal
/// (scripts read it) or with `-v`; on a terminal the summary alone says what
/// happened, as ripgrep decorates for a terminal and keeps a stable format for pipes.
pub fn run(a: ImportArgs, verbose: u8, quiet: bool) -> CliResult<i32> {
    let mut opts = ImportOptions {
        workspace: a.repo.workspace.clone(),
        mode: a.mode,
        ac_handling: a.ac_handling,
        id_conflict: a.id_conflict,
        dry_run: a.dry_run,
        require_dependencies: a.require_dependencies,
        strict: !a.lenient,
        no_acl: a.no_acl,
        no_authorizables: a.no_authorizables,
        allow_system_roots: a.allow_system_roots,
        skip_unchanged: !a.no_skip_unchanged,
        ..ImportOptions::new(super::repo::recorded_actor()?)
    };
    for m in &a.map {
        let (from, to) = m
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--map '{m}': expected FROM=TO")))?;
        opts.mappings.push((absolute(from)?, absolute(to)?));
    }
    if let Some(at) = &a.at {
        opts.at = Some(absolute(at)?);
    }
    for r in &a.allow_root {
        opts.allow_roots.push(absolute(r)?);
    }
    let bar = (!quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| Arc::new(ProgressBar::new(a.dry_run)));
    if let Some(bar) = &bar {
        opts.events = bar.clone();
    }
    // The log's file is made before the install: a log that cannot be written
    // stops the command before anything changes.
    let log = a.log.as_deref().map(InstallLog::create).transpose()?;
    let mut store = a.repo.open_for_loading(&a.lock)?;
    let result = import::install(store.as_mut(), &a.package, &opts);
    if let Some(bar) = &bar {
        bar.clear();
    }
    let report = result.map_err(|e| {
        CliError::context(
            format!(
                "{}: install failed, nothing was changed",
                a.package.display()
            ),
            e,
        )
    })?;
    if let Some(log) = log {
        log.write(&report).map_err(|e| {
            e.hint(match report.operation {
                Some(id) => format!("the install itself is done: operation {id}"),
                None => "the dry run changed nothing".to_string(),
            })
        })?;
    }
    if a.json {
        super::print_json(&report)?;
    } else {
        // -q silences the list a pipe would get; an explicit -v still asks for it.
        let list = verbose > 0 || (!quiet && !std::io::IsTerminal::is_terminal(&std::io::stdout()));
        print_report(&report, list, a.log.as_deref())?;
    }
    Ok(0)
}

/// `--log FILE`: the full install log, in a temporary file beside FILE until it is
/// complete, then renamed over FILE (never a half-written log).
struct InstallLog {
    path: PathBuf,
    file: tempfile::NamedTempFile,
}

impl InstallLog {
    fn create(path: &std::path::Path) -> CliResult<InstallLog> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        let file = tempfile::Builder::new()
            .prefix(".jcrpack-log-")
            .tempfile_in(dir)
            .map_err(|e| {
                CliError::context(
                    format!(
                        "--log {}: cannot write there, nothing was changed",
                        path.display()
                    ),
                    e,
                )
            })?;
        Ok(InstallLog {
            path: path.to_path_buf(),
            file,
        })
    }

    fn write(mut self, r: &Report) -> CliResult<()> {
        let path = self.path.clone();
        let fail = |e: std::io::Error| CliError::context(format!("--log {}", path.display()), e);
        write_log(&mut std::io::BufWriter::new(self.file.as_file_mut()), r).map_err(fail)?;
        self.file.as_file().sync_all().map_err(fail)?;
        self.file.persist(&self.path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// The install log as FileVault's importer and AEM's package manager write it:
/// the phase lines, one line per path (`"%s %s"`, errors `"E %s (%s)"`), and the
/// closing line.
fn write_log(out: &mut dyn std::io::Write, r: &Report) -> std::io::Result<()> {
    writeln!(out, "Installing content")?;
    writeln!(
        out,
        "{}",
        if r.dry_run {
            "Simulating content import..."
        } else {
            "Importing content..."
        }
    )?;
    let mut entries = r.entries.iter();
    for e in &mut entries {
        write_entry(out, &e)?;
    }
    if let Some(e) = entries.error {
        return Err(e);
    }
    let closing = match (r.dry_run, r.totals.errors) {
        (true, _) => "Package import simulation finished.",
        (false, 0) => "Package imported.",
        (false, _) => "Package imported (with errors, check logs!)",
    };
    writeln!(out, "{closing}")?;
    out.flush()
}

/// One path: `A /content/site`, `E /content/x (message)`.
fn write_entry(out: &mut dyn std::io::Write, e: &import::report::Entry) -> std::io::Result<()> {
    // A node name never holds a control character (crate::name::validate), but a
    // repository written before that rule, or a detail quoting content, might:
    // escaped, a line of the list or the log cannot be forged.
    let path = super::out::escape_controls(&e.path, false);
    match &e.detail {
        Some(d) => {
            let d = super::out::escape_controls(d, false);
            writeln!(out, "{} {path} ({d})", e.action.letter())
        }
        None => writeln!(out, "{} {path}", e.action.letter()),
    }
}

/// Prints the report: with `list`, one line per path on stdout; warnings and the
/// summary on stderr. A reader that closes stdout early (`| head`) ends the list,
/// not the summary: the install has committed either way.
fn print_report(r: &Report, list: bool, log: Option<&std::path::Path>) -> CliResult<()> {
    use std::io::Write;
    let mut out = super::out::stdout();
    let mut entries = r.entries.iter();
    let listed = (|| -> std::io::Result<()> {
        if list {
            for e in &mut entries {
                write_entry(&mut out, &e)?;
            }
        }
        out.flush()
    })();
    let closed = match listed {
        Ok(()) => false,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => return Err(CliError::context("writing the list of changes", e)),
    };
    if let Some(e) = entries.error {
        status!("warning: the list of changes could not be read back in full: {e}");
    }
    for w in &r.warnings {
        status!("warning: {w}");
    }
    if !r.undeclared_node_types.is_empty() {
        status!(
            "note: node types used but not declared (recorded, not enforced): {}",
            r.undeclared_node_types.join(", ")
        );
    }
    let t = &r.totals;
    status!(
        "{}{}: {} added, {} updated, {} replaced, {} deleted, {} unchanged{}{}{}",
        if r.dry_run {
            "dry run of "
        } else {
            "installed "
        },
        r.package_id.as_deref().unwrap_or(&r.package),
        t.added,
        t.updated,
        t.replaced,
        t.deleted,
        t.unchanged,
        match t.skipped {
            0 => String::new(),
            n => format!(", {n} aggregates skipped (unchanged since installed)"),
        },
        match t.errors {
            0 => String::new(),
            n => format!(", {n} errors"),
        },
        match r.operation {
            Some(id) => format!(" (operation {id}; jcrpack undo {id} reverts it)"),
            None => String::new(),
        }
    );
    match log {
        Some(l) => status!("the full list of paths is in {}", l.display()),
        None if !list => status!("the full list of paths: -v, or --log FILE"),
        None => {}
    }
    if closed {
        return Err(CliError::from(std::io::Error::from(
            std::io::ErrorKind::BrokenPipe,
        )));
    }
    Ok(())
}

/// The install's events drawn as a progress bar on stderr: one bar per phase, with
/// its total when the phase has one (`installing 1,200/50,000 paths`), a spinner
/// with the phase's name otherwise (`committing`).
struct ProgressBar {
    bar: indicatif::ProgressBar,
    prefix: &'static str,
}

impl ProgressBar {
    fn new(dry_run: bool) -> ProgressBar {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ProgressBar {
            bar,
            prefix: if dry_run { "dry run: " } else { "" },
        }
    }

    fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Events for ProgressBar {
    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::Phase { name, total, unit } => {
                let (count, rate) = match unit {
                    Unit::Bytes => ("{bytes}/{total_bytes}", "{bytes_per_sec}"),
                    Unit::Paths => ("{human_pos}/{human_len} paths", "{per_sec}"),
                    Unit::Entries => ("{human_pos}/{human_len} entries", "{per_sec}"),
                    Unit::Items => ("{human_pos}/{human_len}", "{per_sec}"),
                };
                let template = match total {
                    Some(_) => {
                        format!("{{spinner}} {{msg}} [{{bar:30}}] {count} ({rate}, {{eta}} left)")
                    }
                    None => "{spinner} {msg} {elapsed}".to_string(),
                };
                // A new phase starts from zero: position, elapsed time and rate.
                self.bar.reset();
                match total {
                    Some(t) => self.bar.set_length(t),
                    None => self.bar.unset_length(),
                }
                if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                    self.bar.set_style(style.progress_chars("=> "));
                }
                self.bar.set_message(format!("{}{name}", self.prefix));
            }
            Event::Advance { amount } => self.bar.inc(amount),
            // The report lists paths and warnings once the install is done.
            Event::Path { .. } | Event::Warning { .. } => {}
            Event::Finished => self.bar.finish_and_clear(),
        }
    }
}
