//! `jcrpack restore ID|PACKAGE --repo REPO`: bring content back from a backup (the
//! whole repository, chosen workspaces, or subtrees) or from a package, showing the
//! differences first and writing them as one undoable operation.

use super::repo::{LockArgs, RepoArgs};
use super::{CliError, CliResult, ErrorKind};
use crate::archive::{self, ReadOptions};
use crate::backup::Catalogue;
use crate::events::{Event, Events};
use crate::import::ImportOptions;
use crate::repository::{self, OperationMeta, StoreRead, DEFAULT_WORKSPACE};
use crate::restore::{self, Change, ChangeKind, Plan, Scope, Summary};
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Restore a backup (whole, per workspace, or per subtree) or a package; differences first.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup id (see `jcrpack backup list`), a package (zip or folder), or the
    /// folder of another repository.
    #[arg(value_name = "ID|PACKAGE")]
    pub source: String,
    /// The repository to restore into.
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    /// The backup catalogue (default: REPO/backups).
    #[arg(long, value_name = "DIR")]
    pub catalogue: Option<PathBuf>,
    /// Restore only these workspaces (repeatable; default: every workspace).
    #[arg(long, short = 'w', value_name = "NAME")]
    pub workspace: Vec<String>,
    #[command(flatten)]
    pub preset: super::bootstrap::PresetArgs,
    /// Restore only the subtrees at these paths (repeatable; default: everything).
    #[arg(long, value_name = "PATH")]
    pub root: Vec<String>,
    /// Show the differences and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print JSON (schema: schemas/restore.schema.json).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Where the content comes from.
enum Source {
    /// A repository image: a backup, or another repository's folder.
    Image {
        /// The backup id, or the folder.
        name: String,
        /// `backup` or `repository`.
        kind: &'static str,
        /// The image.
        store: Box<dyn StoreRead>,
    },
    /// A package: restored by installing it.
    Package(PathBuf),
}

fn open_source(a: &RestoreArgs) -> CliResult<Source> {
    let p = Path::new(&a.source);
    if p.is_dir() && p.join("repository.db").is_file() {
        let store =
            repository::open(p).map_err(|e| CliError::failure(format!("{}: {e}", p.display())))?;
        return Ok(Source::Image {
            name: a.source.clone(),
            kind: "repository",
            store,
        });
    }
    if p.exists() {
        return Ok(Source::Package(p.to_path_buf()));
    }
    open_backup(a)
}

fn open_backup(a: &RestoreArgs) -> CliResult<Source> {
    let dir = a
        .catalogue
        .clone()
        .unwrap_or_else(|| Catalogue::default_dir(&a.repo));
    let looks_like_id = !a.source.contains(['/', '\\']) && !a.source.ends_with(".zip");
    let catalogue = Catalogue::open(&dir).map_err(|e| {
        if looks_like_id {
            CliError::failure(format!("no backup {}: {e}", a.source))
                .hint("give the catalogue with --catalogue DIR")
        } else {
            CliError::failure(format!(
                "'{}' is neither a backup id nor a package or repository folder",
                a.source
            ))
        }
    })?;
    let store = restore::open_backup(&catalogue, &a.source)
        .map_err(|e| CliError::failure(e.to_string()))?;
    Ok(Source::Image {
        name: a.source.clone(),
        kind: "backup",
        store,
    })
}

/// Draws a spinner with the count of paths compared or restored, on a terminal.
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn new(quiet: bool) -> Spinner {
        if quiet || !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} paths {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        Spinner(Some(pb))
    }
}

impl Events for Spinner {
    fn event(&self, event: &Event<'_>) {
        let Some(pb) = &self.0 else { return };
        match event {
            Event::Phase { name, .. } => {
                pb.set_position(0);
                pb.set_message(format!("{name}:"));
            }
            Event::Advance { amount } => pb.inc(*amount),
            Event::Warning { message } => pb.println(format!("warning: {message}")),
            Event::Path { .. } => {}
            Event::Finished => pb.finish_and_clear(),
        }
    }
}

/// A closed stdout (`| head`) ends the command quietly.
fn quiet_on_pipe(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::failure("stdout closed").kind(ErrorKind::Closed)
    } else {
        CliError::context("cannot write the differences", e).kind(super::error::ErrorKind::Internal)
    }
}

/// Runs `restore`.
pub fn run(a: RestoreArgs, verbose: u8, quiet: bool) -> CliResult<i32> {
    match run_inner(&a, verbose, quiet) {
        // A closed stdout: quietly, having written nothing when it was not a dry run.
        Err(e) if e.kind == ErrorKind::Closed => Ok(if a.dry_run { 0 } else { 1 }),
        r => r,
    }
}

fn run_inner(a: &RestoreArgs, verbose: u8, quiet: bool) -> CliResult<i32> {
    let target = RepoArgs {
        repo: a.repo.clone(),
        workspace: DEFAULT_WORKSPACE.to_string(),
    };
    // Scripts without a terminal must say --yes before anything happens.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !a.dry_run && !a.yes && !interactive {
        return Err(CliError::failure(
            "restore needs a confirmation, and there is no terminal to ask on; nothing was changed",
        )
        .hint("--yes restores without asking, --dry-run only shows the differences"));
    }
    let mut roots = Vec::new();
    for r in &a.root {
        roots.push(super::repo::absolute(r)?);
    }
    let mut scope = Scope {
        workspaces: a.workspace.clone(),
        roots,
    };
    let now = target.open()?;
    match open_source(a)? {
        Source::Image { name, kind, store } => {
            if let Some(ws) = a.preset.resolve(&store.workspaces()?)? {
                scope.workspaces.extend(ws);
            }
            if same_folder(store.location(), now.location()) {
                return Err(CliError::failure(format!(
                    "{}: the source and the repository are the same",
                    a.repo.display()
                )));
            }
            restore_image(
                a,
                &target,
                &scope,
                &name,
                kind,
                store.as_ref(),
                now,
                interactive,
                verbose,
                quiet,
            )
        }
        Source::Package(_) if a.preset.preset.is_some() => Err(CliError::usage(
            "--preset selects workspaces of a backup; a package holds one workspace",
        )),
        Source::Package(p) => {
            drop(now);
            restore_package(a, &target, &scope, &p, interactive, verbose)
        }
    }
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn failed(e: restore::RestoreError) -> CliError {
    CliError::failure(format!("restore failed, nothing was changed: {e}"))
}

#[allow(clippy::too_many_arguments)]
fn restore_image(
    a: &RestoreArgs,
    target: &RepoArgs,
    scope: &Scope,
    name: &str,
    kind: &'static str,
    source: &dyn StoreRead,
    now: Box<dyn StoreRead>,
    interactive: bool,
    verbose: u8,
    quiet: bool,
) -> CliResult<i32> {
    let plan =
        Plan::new(source, now.as_ref(), scope).map_err(|e| CliError::failure(e.to_string()))?;
    // A backup was checked against its manifest when opened (open_backup); another
    // repository's folder was not, and brings no system root back.
    let plan = if kind == "backup" {
        plan.from_verified_backup()
    } else {
        plan
    };
    let spinner = Spinner::new(quiet);
    let out = std::io::stdout();
    let mut out = out.lock();
    // The differences: the list streams (JSON, or -v), then the summary.
    let shown = if a.json {
        json_head(&mut out, name, kind, a)?;
        let mut first = true;
        let mut io_err = None;
        let summary = restore::compare(
            source,
            now.as_ref(),
            &plan,
            &mut |c| {
                let r = write!(out, "{}\n    {}", if first { "" } else { "," }, json(c));
                first = false;
                r.map_err(|e| {
                    let m = e.to_string();
                    io_err = Some(e);
                    restore::RestoreError::Sink(m)
                })
            },
            &spinner,
        );
        let summary = match (summary, io_err) {
            (_, Some(e)) => return Err(quiet_on_pipe(e)),
            (s, None) => s.map_err(failed)?,
        };
        write!(out, "\n  ],\n  \"summary\": {}", json(&summary)).map_err(quiet_on_pipe)?;
        summary
    } else {
        let summary = restore::summarize(source, now.as_ref(), &plan, &spinner).map_err(failed)?;
        print_summary(&mut out, name, &summary).map_err(quiet_on_pipe)?;
        if verbose > 0 {
            let mut io_err = None;
            let r = restore::compare(
                source,
                now.as_ref(),
                &plan,
                &mut |c| {
                    print_change(&mut out, c).map_err(|e| {
                        let m = e.to_string();
                        io_err = Some(e);
                        restore::RestoreError::Sink(m)
                    })
                },
                &spinner,
            );
            if let Some(e) = io_err {
                return Err(quiet_on_pipe(e));
            }
            r.map_err(failed)?;
        }
        summary
    };
    let finish = |out: &mut std::io::StdoutLock<'_>, restored: bool, op: Option<i64>| {
        json_tail(out, a, restored, op)
    };
    if a.dry_run {
        finish(&mut out, false, None)?;
        status!("dry run: nothing was changed");
        return Ok(0);
    }
    if shown.is_empty() {
        finish(&mut out, false, None)?;
        status!("nothing to restore: the repository already equals the {kind} there");
        return Ok(0);
    }
    out.flush().map_err(quiet_on_pipe)?;
    if !a.yes && interactive && !confirm(&format!("restore these changes from {name}?"))? {
        finish(&mut out, false, None)?;
        return Err(CliError::failure("restore cancelled, nothing was changed"));
    }
    // The comparison's connection is closed before the writing one opens, so that
    // the writer, the last to close, checkpoints the WAL through its own handle,
    // whose folder sync is done already: one fsync fewer (5 to 4). Being the only
    // connection also lets a restore into an empty repository write as a bulk load.
    drop(now);
    let mut store = target.open_for_loading(&a.lock)?;
    let meta = OperationMeta::new(
        restore::description(name, scope),
        &super::repo::recorded_actor()?,
    );
    let (applied, op) =
        restore::restore(source, store.as_mut(), &plan, meta, &spinner).map_err(failed)?;
    let op = op.map(|o| o.0);
    finish(&mut out, true, op)?;
    if applied.workspaces != shown.workspaces {
        status!(
            "note: the repository changed between the comparison and the restore; the restored subtrees equal the {kind} anyway"
        );
    }
    if let Some(id) = op {
        status!(
            "restored from {name}: operation {id} ({} blobs, {} bytes copied); jcrpack undo {id} reverts it",
            applied.blobs_copied, applied.bytes_copied
        );
    }
    if !scope.workspaces.is_empty() {
        // Magnolia links across workspaces by identifier: say which links a partial
        // restore left dangling.
        super::bootstrap::print_dangling(store.as_ref())?;
    }
    Ok(0)
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    crate::dump::escape_json_text(&text).into_owned()
}

/// The start of the `--json` document, up to the opening of the change list.
fn json_head(out: &mut dyn Write, name: &str, kind: &str, a: &RestoreArgs) -> CliResult<()> {
    write!(
        out,
        "{{\n  \"source\": {},\n  \"kind\": {},\n  \"repository\": {},\n  \"dryRun\": {},\n  \"changes\": [",
        json(name),
        json(kind),
        json(&a.repo.display().to_string()),
        a.dry_run
    )
    .map_err(quiet_on_pipe)
}

/// The end of the `--json` document (nothing without `--json`).
fn json_tail(
    out: &mut dyn Write,
    a: &RestoreArgs,
    restored: bool,
    op: Option<i64>,
) -> CliResult<()> {
    if !a.json {
        return Ok(());
    }
    writeln!(
        out,
        ",\n  \"restored\": {restored},\n  \"operation\": {}\n}}",
        op.map(|o| o.to_string()).unwrap_or_else(|| "null".into())
    )
    .map_err(quiet_on_pipe)
}

fn confirm(question: &str) -> CliResult<bool> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::failure(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

fn print_summary(mut out: &mut dyn Write, name: &str, s: &Summary) -> std::io::Result<()> {
    outln!(out, "restore from {name}:")?;
    for w in &s.workspaces {
        outln!(
            out,
            "  workspace {}{} ({}): {} nodes added, {} deleted, {} changed; {} properties added, {} changed, {} removed",
            w.workspace,
            if w.created { " (created)" } else { "" },
            w.roots.join(", "),
            w.nodes_added,
            w.nodes_deleted,
            w.nodes_changed,
            w.properties_added,
            w.properties_changed,
            w.properties_removed
        )?;
    }
    if !s.namespaces_registered.is_empty() {
        outln!(
            out,
            "  namespaces registered: {}",
            s.namespaces_registered.join(", ")
        )?;
    }
    if !s.node_types_registered.is_empty() {
        outln!(
            out,
            "  node types registered: {}",
            s.node_types_registered.join(", ")
        )?;
    }
    Ok(())
}

fn print_change(out: &mut dyn Write, c: &Change) -> std::io::Result<()> {
    let label = if c.workspace == DEFAULT_WORKSPACE {
        c.path.clone()
    } else {
        format!("[{}] {}", c.workspace, c.path)
    };
    super::changes::write_node(
        out,
        &super::changes::NodeLines {
            mark: c.change.mark(),
            label: &label,
            primary_type: &c.primary_type,
            mixins: &c.mixins,
            order: &c.order,
            properties: &c.properties,
            note: (c.change == ChangeKind::Deleted).then(|| format!("({} nodes)", c.nodes)),
        },
    )
}

fn restore_package(
    a: &RestoreArgs,
    target: &RepoArgs,
    scope: &Scope,
    package: &Path,
    interactive: bool,
    verbose: u8,
) -> CliResult<i32> {
    if !scope.roots.is_empty() {
        return Err(CliError::usage(
            "--root selects subtrees of a backup; a package restores what its filter covers",
        )
        .hint("narrow the package first: jcrpack extract PACKAGE --root PATH -o OUT.zip"));
    }
    if scope.workspaces.len() > 1 {
        return Err(CliError::usage(
            "a package restores into one workspace: give --workspace once",
        ));
    }
    let ws = scope
        .workspaces
        .first()
        .cloned()
        .unwrap_or_else(|| DEFAULT_WORKSPACE.to_string());
    let opts = ImportOptions {
        workspace: ws,
        dry_run: true,
        ..ImportOptions::new(super::repo::recorded_actor()?)
    };
    let name = package.display().to_string();
    let before = target.open()?;
    let mut store = target.open_locking(&a.lock)?;
    let archive = archive::open(package, &ReadOptions::default())?;
    let restore::package::PackageComparison { changes, summary } =
        restore::package::compare_package(
            before.as_ref(),
            store.as_mut(),
            archive.as_ref(),
            &opts,
            &crate::events::NoEvents,
        )
        .map_err(|e| {
            CliError::context(format!("{name}: restore failed, nothing was changed"), e)
        })?;
    let out = std::io::stdout();
    let mut out = out.lock();
    if a.json {
        json_head(&mut out, &name, "package", a)?;
        for (i, c) in changes.iter().enumerate() {
            write!(out, "{}\n    {}", if i == 0 { "" } else { "," }, json(c))
                .map_err(quiet_on_pipe)?;
        }
        write!(out, "\n  ],\n  \"summary\": {}", json(&summary)).map_err(quiet_on_pipe)?;
    } else {
        print_summary(&mut out, &name, &summary).map_err(quiet_on_pipe)?;
        if verbose > 0 {
            for c in &changes {
                print_change(&mut out, c).map_err(quiet_on_pipe)?;
            }
        }
    }
    let finish = |out: &mut std::io::StdoutLock<'_>, restored: bool, op: Option<i64>| {
        json_tail(out, a, restored, op)
    };
    if a.dry_run {
        finish(&mut out, false, None)?;
        status!("dry run: nothing was changed");
        return Ok(0);
    }
    out.flush().map_err(quiet_on_pipe)?;
    if !a.yes && interactive && !confirm(&format!("install {name} to restore these changes?"))? {
        finish(&mut out, false, None)?;
        return Err(CliError::failure("restore cancelled, nothing was changed"));
    }
    let report = restore::package::restore_package(store.as_mut(), archive.as_ref(), &opts)
        .map_err(|e| {
            CliError::failure(format!("{name}: restore failed, nothing was changed: {e}"))
        })?;
    let op = report.operation;
    finish(&mut out, true, op)?;
    if let Some(id) = op {
        status!("restored from {name}: operation {id}; jcrpack undo {id} reverts it");
    }
    Ok(0)
}
