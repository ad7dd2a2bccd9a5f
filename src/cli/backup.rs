//! `jcrpack backup create|list|show|verify|delete|prune`: hot backups into a
//! catalogue (see [`crate::backup`]). This module only parses, prints and maps
//! errors; progress is rendered from the library's events on stderr, and Ctrl-C or
//! SIGTERM set the cancel flag the library polls.

use super::{CliError, CliResult};
use crate::backup::{Catalogue, CreateOptions, Kind, Manifest, NewCatalogue, PrunePolicy};
use crate::events::{Event, Events, Unit};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Backups: create, list, show, verify, delete, prune.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup command.
    #[command(subcommand)]
    pub command: BackupCommand,
}

/// The backup commands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a hot, consistent backup of a repository while it is in use.
    Create(CreateArgs),
    /// List the backups of a catalogue, oldest first.
    List(ListArgs),
    /// Show one backup's manifest.
    Show(ShowArgs),
    /// Check every file and binary of a backup against its manifest (exit 1 when damaged).
    Verify(IdArgs),
    /// Delete a backup (and the binaries no other backup shares).
    Delete(IdArgs),
    /// Delete the backups a keep policy does not keep.
    Prune(PruneArgs),
    /// Write one workspace of a backup as a FileVault content package (installable in AEM).
    Export(super::backup_export::BackupExportArgs),
}

/// `--catalogue DIR` or `--repo REPO` (its default catalogue `REPO/backups`).
#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = true)]
pub struct CatalogueArgs {
    /// The catalogue folder (created by the first backup into it).
    #[arg(long, value_name = "DIR")]
    pub catalogue: Option<PathBuf>,
    /// The repository; without --catalogue, its default catalogue REPO/backups.
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: Option<PathBuf>,
}

/// Where a catalogue is: a folder given, or a repository's default catalogue.
enum Place<'a> {
    Dir(&'a std::path::Path),
    Repo(&'a std::path::Path),
}

impl CatalogueArgs {
    fn place(&self) -> CliResult<Place<'_>> {
        match (&self.catalogue, &self.repo) {
            (Some(dir), _) => Ok(Place::Dir(dir)),
            (None, Some(repo))
                if matches!(
                    crate::repository::Location::parse(repo.as_os_str()),
                    crate::repository::Location::Url { .. }
                ) =>
            {
                Err(CliError::usage(
                    "a repository on a database server has no folder for a default catalogue: give --catalogue DIR",
                ))
            }
            (None, Some(repo)) => Ok(Place::Repo(repo)),
            (None, None) => Err(CliError::usage("give --catalogue DIR or --repo REPO")),
        }
    }

    /// Opens the catalogue; `None` for a repository of which no backup was taken
    /// (it has no default catalogue, and a command that reads creates none).
    fn open_existing(&self) -> CliResult<Option<Catalogue>> {
        Ok(match self.place()? {
            Place::Dir(dir) => Some(Catalogue::open(dir)?),
            Place::Repo(repo) => Catalogue::of_repository(repo)?,
        })
    }

    /// Opens the catalogue, which must exist.
    fn open(&self) -> CliResult<Catalogue> {
        match self.place()? {
            Place::Dir(dir) => Ok(Catalogue::open(dir)?),
            Place::Repo(repo) => Catalogue::of_repository(repo)?.ok_or_else(|| {
                CliError::failure(format!(
                    "no backup of {} was taken yet: it has no catalogue {}",
                    repo.display(),
                    Catalogue::default_dir(repo).display()
                ))
                .hint("make one with: jcrpack backup create --repo REPO")
            }),
        }
    }

    /// The catalogue's folder (a repository's default one, whether it exists or not).
    fn dir(&self) -> CliResult<std::path::PathBuf> {
        Ok(match self.place()? {
            Place::Dir(dir) => dir.to_path_buf(),
            Place::Repo(repo) => Catalogue::default_dir(repo),
        })
    }

    /// Opens the catalogue, creating it when missing; and then what takes the new
    /// catalogue back when the command fails.
    fn open_or_create(&self) -> CliResult<(Catalogue, Option<NewCatalogue>)> {
        Ok(match self.place()? {
            Place::Dir(dir) => Catalogue::open_or_create_new(dir)?,
            Place::Repo(repo) => Catalogue::for_repository_new(repo)?,
        })
    }
}

/// `backup create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub target: CatalogueArgs,
    /// A label to remember the backup by.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// Keep only this workspace (repeatable; all workspaces by default).
    #[arg(long = "workspace", short = 'w', value_name = "NAME")]
    pub workspaces: Vec<String>,
    #[command(flatten)]
    pub preset: super::bootstrap::PresetArgs,
    /// Copy at most this many megabytes (10^6 bytes) a second, to spare a busy site.
    #[arg(long, value_name = "MB/s", value_parser = parse_rate)]
    pub max_rate: Option<u64>,
    /// Mark the backup as taken by a scheduler (a cron job) rather than by hand.
    #[arg(long)]
    pub scheduled: bool,
    /// `image` (the default): the repository image only; `package`: also one
    /// FileVault content package per workspace beside it (`packages/WS.zip`,
    /// installable in AEM's Package Manager).
    #[arg(long, value_name = "FORMAT", default_value = "image", value_parser = ["image", "package"])]
    pub format: String,
    /// Print the manifest as JSON (schema: schemas/backup-show.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `backup list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: CatalogueArgs,
    /// Print JSON (schema: schemas/backup-list.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `backup show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The backup id (see `jcrpack backup list`).
    pub id: String,
    #[command(flatten)]
    pub target: CatalogueArgs,
    /// Print the manifest as JSON (schema: schemas/backup-show.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `backup verify ID` and `backup delete ID`.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The backup id (see `jcrpack backup list`).
    pub id: String,
    #[command(flatten)]
    pub target: CatalogueArgs,
}

/// `backup prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub target: CatalogueArgs,
    /// Keep the newest N backups.
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Keep the newest backup of each of the newest N days (UTC) that have backups.
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<usize>,
    /// Keep the newest backup of each of the newest N weeks (UTC) that have backups.
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<usize>,
    /// Only say what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_rate(s: &str) -> Result<u64, String> {
    let mb: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of megabytes a second"))?;
    if !mb.is_finite() || mb <= 0.0 || mb > 1e9 {
        return Err(format!("'{s}': expected a positive number of MB/s"));
    }
    Ok(((mb * 1e6) as u64).max(1))
}

/// Runs a backup command.
pub fn run(a: BackupArgs, quiet: bool) -> CliResult<i32> {
    match a.command {
        BackupCommand::Create(c) => create(c, quiet),
        BackupCommand::List(c) => list(c, quiet),
        BackupCommand::Show(c) => show(c),
        BackupCommand::Verify(c) => verify(c, quiet),
        BackupCommand::Delete(c) => delete(c),
        BackupCommand::Prune(c) => prune(c),
        BackupCommand::Export(c) => super::backup_export::run(c),
    }
}

fn create(a: CreateArgs, quiet: bool) -> CliResult<i32> {
    let mut o = super::out::stdout();
    let repo = a.target.repo.clone().ok_or_else(|| {
        CliError::usage("backup create needs --repo REPO (the repository to back up)")
    })?;
    let (catalogue, new) = a.target.open_or_create()?;
    let progress = Progress::new(quiet);
    let m = match backup_into(&catalogue, &repo, &a, &progress) {
        Ok(m) => m,
        Err(e) => {
            // A catalogue this backup created goes again (a mistyped --repo leaves
            // no empty catalogue behind).
            if let Some(new) = new {
                new.take_back();
            }
            return Err(e);
        }
    };
    progress.clear();
    if a.json {
        super::print_json(&m)?;
    } else if !quiet {
        outln!(
            o,
            "backup {} of {}: {} nodes, {} properties in {}; last operation {}",
            m.id,
            repo.display(),
            thousands(m.nodes()),
            thousands(m.workspaces.iter().map(|w| w.properties).sum()),
            workspace_names(&m),
            m.last_operation
                .map(|o| o.to_string())
                .unwrap_or_else(|| "none".into())
        )?;
        if let Some(line) = image_line(&m) {
            outln!(o, "{line}")?;
        }
        outln!(
            o,
            "binaries {} ({}): copied {} ({} new), reused {}",
            thousands(m.blobs.count),
            size(m.blobs.bytes),
            size(m.blobs.copied_bytes),
            thousands(m.blobs.copied_count),
            size(m.blobs.reused_bytes)
        )?;
        outln!(o, "catalogue {}", catalogue.dir().display())?;
    }
    o.flush()?;
    Ok(0)
}

/// The backup of `repo` into `catalogue` that `create` makes.
fn backup_into(
    catalogue: &Catalogue,
    repo: &std::path::Path,
    a: &CreateArgs,
    progress: &Progress,
) -> CliResult<Manifest> {
    let actor = super::repo::actor();
    let mut workspaces = a.workspaces.clone();
    if a.preset.preset.is_some() {
        let available = super::repo::open_repo(repo, &Default::default())?.workspaces()?;
        workspaces.extend(a.preset.resolve(&available)?.unwrap_or_default());
    }
    let options = CreateOptions {
        label: a.label.clone(),
        kind: if a.scheduled {
            Kind::Scheduled
        } else {
            Kind::Manual
        },
        workspaces,
        max_rate: a.max_rate,
        actor,
        packages: if a.format == "package" {
            Some(
                crate::archive::WriterOptions::default()
                    .with_source_date_epoch(super::source_date_epoch()?),
            )
        } else {
            None
        },
    };
    let cancel = cancel_on_signals();
    catalogue
        .create_backup(repo, &options, progress, cancel)
        .map_err(|e| CliError::failure(format!("backup of {} failed: {e}", repo.display())))
}

/// How much of the image a backup copied and how much it shares with others.
fn image_line(m: &Manifest) -> Option<String> {
    let i = m.image.as_ref()?;
    Some(match &i.unchanged_since {
        Some(prev) => format!(
            "image {} in {} chunks: the repository is unchanged since backup {prev}, nothing copied, all shared",
            size(i.bytes),
            thousands(i.chunks)
        ),
        None => format!(
            "image {} in {} chunks: copied {} ({} new chunks), reused {}",
            size(i.bytes),
            thousands(i.chunks),
            size(i.copied_bytes),
            thousands(i.copied_chunks),
            size(i.reused_bytes)
        ),
    })
}

fn list(a: ListArgs, quiet: bool) -> CliResult<i32> {
    let mut o = super::out::stdout();
    // A repository with no backup yet lists none (and gets no catalogue).
    let catalogue = a.target.open_existing()?;
    let scan = match &catalogue {
        Some(c) => c.scan()?,
        None => Default::default(),
    };
    let dir = a.target.dir()?;
    if !quiet {
        for (id, why) in &scan.damaged {
            super::out::warning(format_args!("{id} is not listed: {why}"));
        }
        for name in &scan.unfinished {
            super::out::warning(format_args!(
                "{name} is an unfinished backup left by an interrupted command; the next backup create, delete or prune removes it"
            ));
        }
    }
    if a.json {
        super::print_json(&serde_json::json!({
            "catalogue": dir.display().to_string(),
            "backups": scan.backups,
        }))?;
    } else {
        for m in &scan.backups {
            outln!(
                o,
                "{:<20} {}  {:<9} {:>10} nodes {:>10}  {}",
                m.id,
                m.time,
                m.kind.as_str(),
                thousands(m.nodes()),
                size(m.bytes + m.blobs.bytes),
                m.label.as_deref().unwrap_or("")
            )?;
        }
    }
    o.flush()?;
    Ok(0)
}

fn show(a: ShowArgs) -> CliResult<i32> {
    let mut o = super::out::stdout();
    let catalogue = a.target.open()?;
    let m = catalogue.manifest(&a.id)?;
    if a.json {
        super::print_json(&m)?;
        return Ok(0);
    }
    outln!(o, "id              {}", m.id)?;
    outln!(o, "time            {}", m.time)?;
    outln!(o, "user            {}", m.user)?;
    outln!(o, "kind            {}", m.kind.as_str())?;
    if let Some(l) = &m.label {
        outln!(o, "label           {l}")?;
    }
    outln!(o, "repository      {}", m.repository)?;
    outln!(
        o,
        "last operation  {}",
        m.last_operation
            .map(|o| o.to_string())
            .unwrap_or_else(|| "none".into())
    )?;
    for w in &m.workspaces {
        outln!(
            o,
            "workspace       {}: {} nodes, {} properties",
            w.name,
            thousands(w.nodes),
            thousands(w.properties)
        )?;
    }
    for f in &m.files {
        outln!(
            o,
            "file            {} {} sha256:{}",
            f.path,
            size(f.bytes),
            f.sha256
        )?;
    }
    if let Some(line) = image_line(&m) {
        outln!(o, "{line}")?;
    }
    outln!(
        o,
        "binaries        {} ({}); this backup copied {} ({}), reused {}",
        thousands(m.blobs.count),
        size(m.blobs.bytes),
        thousands(m.blobs.copied_count),
        size(m.blobs.copied_bytes),
        size(m.blobs.reused_bytes)
    )?;
    o.flush()?;
    Ok(0)
}

fn verify(a: IdArgs, quiet: bool) -> CliResult<i32> {
    let mut o = super::out::stdout();
    let catalogue = a.target.open()?;
    let progress = Progress::new(quiet);
    let r = catalogue.verify(&a.id, &progress)?;
    progress.clear();
    if r.ok() {
        outln!(
            o,
            "backup {} is intact: {} files and {} binaries checked ({})",
            r.id,
            r.files,
            thousands(r.blobs),
            size(r.bytes)
        )?;
        o.flush()?;
        return Ok(0);
    }
    for p in &r.problems {
        outln!(o, "{p}")?;
    }
    o.flush()?;
    let more = r.problem_count.saturating_sub(1);
    Err(CliError::failure(format!(
        "backup {} is damaged: {}{}",
        r.id,
        r.problems.first().map(String::as_str).unwrap_or(""),
        if more > 0 {
            format!(" (and {more} more problems, listed above)")
        } else {
            String::new()
        }
    )))
}

fn delete(a: IdArgs) -> CliResult<i32> {
    let mut o = super::out::stdout();
    let catalogue = a.target.open()?;
    catalogue.delete(&a.id)?;
    outln!(o, "deleted backup {}", a.id)?;
    o.flush()?;
    Ok(0)
}

fn prune(a: PruneArgs) -> CliResult<i32> {
    let mut o = super::out::stdout();
    let catalogue = a.target.open_existing()?;
    let policy = PrunePolicy {
        keep_last: a.keep_last,
        keep_daily: a.keep_daily,
        keep_weekly: a.keep_weekly,
    };
    if policy.is_empty() {
        return Err(CliError::usage(
            crate::backup::BackupError::EmptyPolicy.to_string(),
        ));
    }
    // A repository with no backup yet has nothing to prune (and gets no catalogue).
    let r = match catalogue {
        Some(c) => c.prune(&policy, a.dry_run)?,
        None => Default::default(),
    };
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    for id in &r.removed {
        outln!(o, "{verb} {id}")?;
    }
    outln!(
        o,
        "{} kept, {} {verb}; binaries {verb}: {} ({})",
        r.kept.len(),
        r.removed.len(),
        thousands(r.blobs_removed),
        size(r.blob_bytes_removed)
    )?;
    o.flush()?;
    Ok(0)
}

fn workspace_names(m: &Manifest) -> String {
    let names: Vec<&str> = m.workspaces.iter().map(|w| w.name.as_str()).collect();
    format!(
        "{} workspace{} ({})",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn size(b: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Renders the library's events as one progress bar on stderr (hidden when quiet
/// or when stderr is not a terminal); warnings are printed unless quiet.
struct Progress {
    bar: ProgressBar,
    quiet: bool,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        Progress { bar, quiet }
    }

    fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Events for Progress {
    fn event(&self, e: &Event<'_>) {
        match *e {
            // A hidden bar (-q, or no terminal) draws nothing: no style to parse
            // and no ticker thread to start for each phase.
            Event::Phase { .. } if self.bar.is_hidden() => {}
            Event::Phase { name, total, unit } => {
                let template = match (unit, total.is_some()) {
                    (Unit::Bytes, true) => {
                        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
                    }
                    (Unit::Bytes, false) => "{spinner} {msg} {bytes} ({bytes_per_sec})",
                    (_, true) => "{msg} [{bar:30}] {pos}/{len}",
                    (_, false) => "{spinner} {msg} {elapsed}",
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    self.bar.set_style(style.progress_chars("=> "));
                }
                self.bar.set_position(0);
                self.bar.set_length(total.unwrap_or(0));
                self.bar.set_message(name.to_string());
                self.bar
                    .enable_steady_tick(std::time::Duration::from_millis(120));
            }
            Event::Advance { amount } => self.bar.inc(amount),
            Event::Warning { message } => {
                if !self.quiet {
                    self.bar.suspend(|| super::out::warning(message));
                }
            }
            Event::Path { .. } => {}
            Event::Finished => self.bar.finish_and_clear(),
        }
    }
}

static CANCEL: AtomicBool = AtomicBool::new(false);

/// Sets [`CANCEL`] on the first SIGINT or SIGTERM (a second one ends the process
/// as usual). Linux only; elsewhere the signal ends the process and the next
/// backup command removes what it left.
fn cancel_on_signals() -> &'static AtomicBool {
    #[cfg(target_os = "linux")]
    {
        extern "C" fn on_signal(sig: libc::c_int) {
            CANCEL.store(true, Ordering::SeqCst);
            // SAFETY: `signal` is async-signal-safe; the default action for the
            // next one.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        // SAFETY: installs a handler that only stores to an atomic and resets
        // itself, both async-signal-safe.
        unsafe {
            let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGTERM, handler);
        }
    }
    let _ = Ordering::SeqCst;
    &CANCEL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_bar_skips_the_phases() {
        let p = Progress::new(true);
        assert!(p.bar.is_hidden());
        p.event(&Event::Phase {
            name: "copying blobs",
            total: Some(10),
            unit: Unit::Bytes,
        });
        // Nothing was set up for it: no style, no ticker, not even its message.
        assert_eq!(p.bar.message(), "");
        assert_ne!(p.bar.length(), Some(10));
        p.event(&Event::Advance { amount: 3 });
        assert_eq!(p.bar.position(), 3);
        p.event(&Event::Finished);
        assert!(p.bar.is_finished());
    }

    #[test]
    fn rates_and_numbers_read_and_print() {
        assert_eq!(parse_rate("2.5"), Ok(2_500_000));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
    }
}
