//! `jcrpack history` and `jcrpack undo`: recorded operations and their reversal.

use super::repo::{LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::repository::{OperationId, OperationMeta, RepositoryError};
use clap::Args;

/// List recorded operations (installs, loads, removals, undos), oldest first.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Print JSON (schema: schemas/history.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs `history`.
pub fn history(a: HistoryArgs) -> CliResult<i32> {
    let store = a.repo.open()?;
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
        for o in &ops {
            println!(
                "{:>4}  {}  {:<10} {}  ({} nodes, {} properties)",
                o.id.0, o.time, o.user, o.description, o.nodes_touched, o.properties_touched
            );
        }
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
            OperationMeta::new(format!("undo {}", id.0), &super::repo::actor()),
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
    eprintln!("undid operation {}: {report:?}", id.0);
    Ok(0)
}
