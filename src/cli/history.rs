//! `jcrpack history`, `jcrpack history prune` and `jcrpack undo`: recorded operations,
//! dropping old ones, and their reversal.

use super::repo::{open_repo, LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::repository::{OperationId, OperationMeta, PruneSelect, RepositoryError};
use crate::value::Date;
use clap::{ArgGroup, Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// List recorded operations (installs, loads, removals, undos), oldest first.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub repo: Option<RepoArgs>,
    /// Print JSON (schema: schemas/history.schema.json).
    #[arg(long)]
    pub json: bool,
    /// What to do instead of listing.
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
}

/// The history's subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Drop the journals of the oldest operations (they can no longer be undone).
    Prune(PruneArgs),
}

/// `history prune (--keep N | --before DATE) [--dry-run] --repo REPO`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["keep", "before"])))]
pub struct PruneArgs {
    /// Keep the newest N operations.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Drop the operations that began before DATE (`2026-11-30` or ISO 8601 with a
    /// time and offset).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub before: Option<Date>,
    /// Only say which operations would be dropped.
    #[arg(long)]
    pub dry_run: bool,
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub lock: LockArgs,
}

fn parse_date(s: &str) -> Result<Date, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00.000Z")
    } else {
        s.to_string()
    };
    Date::parse(&full).ok_or_else(|| {
        format!("'{s}' is not a date (expected 2026-11-30 or 2026-11-30T12:00:00.000+01:00)")
    })
}

/// Runs `history` or its subcommand.
pub fn history(a: HistoryArgs) -> CliResult<i32> {
    if let Some(HistoryCommand::Prune(p)) = a.command {
        return prune(p);
    }
    let Some(repo) = a.repo else {
        return Err(CliError::usage("history needs --repo REPO"));
    };
    let store = repo.open()?;
    let ops = store.history()?;
    if a.json {
        let list: Vec<serde_json::Value> = ops
            .iter()
            .map(|o| {
                serde_json::json!({
                    "id": o.id.0,
                    "time": o.time.to_string(),
                    "user": o.user,
                    "description": o.description,
                    "packageId": o.package_id,
                    "undoes": o.undoes.map(|u| u.0),
                    "nodesTouched": o.nodes_touched,
                    "propertiesTouched": o.properties_touched,
                })
            })
            .collect();
        super::print_json(&serde_json::json!({ "operations": list }))?;
    } else {
        let mut out = super::out::stdout();
        for o in &ops {
            outln!(
                out,
                "{:>4}  {}  {:<10} {}  ({} nodes, {} properties)",
                o.id.0,
                o.time,
                o.user,
                o.description,
                o.nodes_touched,
                o.properties_touched
            )?;
        }
        std::io::Write::flush(&mut out)?;
    }
    Ok(0)
}

/// Restore the state before an operation (the latest by default).
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The operation id (see `jcrpack history`); the latest when omitted.
    pub operation: Option<i64>,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Undo even when later operations touched the same paths (their changes there are lost).
    #[arg(long)]
    pub force: bool,
}

/// Runs `undo`.
pub fn undo(a: UndoArgs) -> CliResult<i32> {
    let mut store = a.repo.open_locking(&a.lock)?;
    let id = match a.operation {
        Some(id) => OperationId(id),
        None => store.history()?.last().map(|o| o.id).ok_or_else(|| {
            CliError::failure("nothing to undo: the repository has no recorded operation")
        })?,
    };
    let report = store
        .undo(
            id,
            a.force,
            OperationMeta::new(format!("undo {}", id.0), &super::repo::recorded_actor()?),
        )
        .map_err(|e| {
            let conflict = matches!(e, RepositoryError::UndoConflict { .. });
            let err = CliError::failure(format!(
                "undo {} {}, nothing was changed: {e}",
                id.0,
                if conflict { "refused" } else { "failed" }
            ));
            // Only a conflict is something --force overrides (not a busy
            // repository, a full disk or a missing operation).
            if conflict {
                err.hint("--force undoes anyway")
            } else {
                err
            }
        })?;
    status!("{report}");
    Ok(0)
}

fn prune(a: PruneArgs) -> CliResult<i32> {
    let select = match (a.keep, a.before) {
        (Some(n), _) => PruneSelect::Keep(n),
        (None, Some(d)) => PruneSelect::Before(d),
        (None, None) => return Err(CliError::usage("give --keep N or --before DATE")),
    };
    let mut store = open_repo(&a.repo, &a.lock)?;
    let r = store.prune_history(select, a.dry_run)?;
    let verb = if r.dry_run { "would drop" } else { "dropped" };
    // Through the pipe-safe writer: `history prune | head -1` ends quietly.
    let mut out = super::out::stdout();
    if r.dropped.is_empty() {
        writeln!(out, "nothing to drop: {} kept", plural(r.kept, "operation"))?;
        out.flush()?;
        return Ok(0);
    }
    let first = r.dropped.first().map(|o| o.id.0).unwrap_or_default();
    let last = r.dropped.last().map(|o| o.id.0).unwrap_or_default();
    let n = r.dropped.len();
    writeln!(
        out,
        "{verb} the journal{} of {n} operation{} ({first} to {last}); {} can no longer be undone:",
        if n == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "they" },
    )?;
    for o in &r.dropped {
        writeln!(
            out,
            "{:>4}  {}  {:<10} {}",
            o.id.0, o.time, o.user, o.description
        )?;
    }
    writeln!(out, "{} kept", plural(r.kept, "operation"))?;
    if !r.dry_run {
        writeln!(
            out,
            "run jcrpack gc to remove the blobs only their journals referred to"
        )?;
    }
    out.flush()?;
    Ok(0)
}

/// `1 operation`, `2 operations`.
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
