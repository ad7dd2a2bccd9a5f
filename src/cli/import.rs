//! `jcrpack import PACKAGE --repo REPO`: install a package.

use super::repo::{absolute, LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::events::{Actor, Event, Events, Unit};
use crate::filter::ImportMode;
use crate::import::{self, IdConflictPolicy, ImportOptions, Report};
use crate::properties::AcHandling;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

/// Install a package (zip or folder) with FileVault's semantics, all or nothing.
#[derive(Debug, Args)]
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
    /// Refuse the package when a dependency is not installed (default: a warning).
    #[arg(long)]
    pub require_dependencies: bool,
    /// Print the report as JSON (schema: schemas/import-report.schema.json).
    #[arg(long)]
    pub json: bool,
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

/// Runs `import`.
pub fn run(a: ImportArgs, quiet: bool) -> CliResult<i32> {
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
        ..ImportOptions::new(actor()?)
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
    let mut store = a.repo.open_locking(&a.lock)?;
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
    if a.json {
        super::print_json(&report)?;
    } else {
        print_report(&report)?;
    }
    Ok(0)
}

/// Prints the report: one line per path on stdout, warnings and the summary on
/// stderr. A reader that closes stdout early (`| head`) ends the list, not the
/// summary: the install has committed either way.
fn print_report(r: &Report) -> CliResult<()> {
    use std::io::Write;
    let mut out = super::out::stdout();
    let mut entries = r.entries.iter();
    let listed = (|| -> std::io::Result<()> {
        for e in &mut entries {
            // A node name never holds a control character (crate::name::validate),
            // but a repository written before that rule, or a detail quoting content,
            // might: escaped, a line cannot be forged.
            let path = super::out::escape_controls(&e.path, false);
            match &e.detail {
                Some(d) => {
                    let d = super::out::escape_controls(d, false);
                    writeln!(out, "{} {path} ({d})", e.action.letter())?
                }
                None => writeln!(out, "{} {path}", e.action.letter())?,
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
        "{}{}: {} added, {} updated, {} replaced, {} deleted, {} unchanged{}",
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
        match r.operation {
            Some(id) => format!(" (operation {id}; jcrpack undo {id} reverts it)"),
            None => String::new(),
        }
    );
    if closed {
        return Err(CliError::from(std::io::Error::from(
            std::io::ErrorKind::BrokenPipe,
        )));
    }
    Ok(())
}

/// Who installs and when: `$USER` and the clock, or the time `SOURCE_DATE_EPOCH`
/// (seconds) pins for reproducible installs. An empty `SOURCE_DATE_EPOCH` is unset; a
/// value that is no integer is a mistake, reported.
pub(super) fn actor() -> CliResult<Actor> {
    let mut actor = super::repo::actor();
    actor.time = super::pinned_clock(actor.time)?;
    Ok(actor)
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
