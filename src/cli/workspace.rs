//! `jcrpack workspace create|list|delete`: a repository's workspaces.

use super::repo::{open_repo, recorded_actor, LockArgs};
use super::{CliError, CliResult};
use crate::repository::{OperationMeta, RepositoryError, DEFAULT_WORKSPACE};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Create, list and delete workspaces.
#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WorkspaceCommand,
}

/// The workspace commands.
#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create an empty workspace (recorded: `jcrpack undo` deletes it again).
    Create(NamedArgs),
    /// List the workspaces, sorted.
    List(ListArgs),
    /// Delete a workspace (recorded: `jcrpack undo` brings it back whole).
    Delete(DeleteArgs),
}

/// `NAME --repo REPO`.
#[derive(Debug, Args)]
pub struct NamedArgs {
    /// The workspace name.
    pub name: String,
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `list --repo REPO [--json]`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    /// Print JSON (schema: schemas/workspace-list.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `delete NAME --repo REPO [--force]`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub named: NamedArgs,
    /// Delete the workspace even when it holds content (undo brings it back).
    #[arg(long)]
    pub force: bool,
}

/// Runs `workspace`.
pub fn run(a: WorkspaceArgs) -> CliResult<i32> {
    match a.command {
        WorkspaceCommand::Create(a) => create(a),
        WorkspaceCommand::List(a) => list(a),
        WorkspaceCommand::Delete(a) => delete(a),
    }
}

fn create(a: NamedArgs) -> CliResult<i32> {
    let mut store = open_repo(&a.repo, &a.lock)?;
    if store.workspaces()?.contains(&a.name) {
        return Err(CliError::failure(format!(
            "workspace '{}' already exists",
            a.name
        )));
    }
    let meta = OperationMeta::new(format!("create workspace {}", a.name), &recorded_actor()?);
    let mut txn = store.begin_operation(meta)?;
    // With Oak's initial content below its root, as every workspace.
    txn.create_workspace(&a.name)
        .map_err(|e| CliError::usage(e.to_string()))?;
    let op = txn.commit()?;
    status!(
        "created workspace '{}'{}",
        a.name,
        op.map(|o| format!(" (operation {o})")).unwrap_or_default()
    );
    Ok(0)
}

fn list(a: ListArgs) -> CliResult<i32> {
    let store = open_repo(&a.repo, &LockArgs::default())?;
    let names = store.workspaces()?;
    if a.json {
        let list: Vec<serde_json::Value> = names
            .iter()
            .map(|n| serde_json::json!({ "name": n, "default": n == DEFAULT_WORKSPACE }))
            .collect();
        super::print_json(&serde_json::json!({ "workspaces": list }))?;
    } else {
        let mut out = super::out::stdout();
        for n in &names {
            std::io::Write::write_fmt(&mut out, format_args!("{n}\n"))?;
        }
        std::io::Write::flush(&mut out)?;
    }
    Ok(0)
}

fn delete(a: DeleteArgs) -> CliResult<i32> {
    let name = &a.named.name;
    let mut store = open_repo(&a.named.repo, &a.named.lock)?;
    let meta = OperationMeta::new(format!("delete workspace {name}"), &recorded_actor()?);
    let mut txn = store.begin_operation(meta)?;
    let nodes = txn.delete_workspace(name, a.force).map_err(|e| {
        let full = matches!(&e, RepositoryError::NotAllowed { reason, .. } if reason.contains("not empty"));
        let err = CliError::failure(format!("workspace '{name}' was not deleted: {e}"));
        if full {
            err.hint("--force deletes it with its content (jcrpack undo brings it back)")
        } else {
            err
        }
    })?;
    let op = txn.commit()?;
    status!(
        "deleted workspace '{name}' ({nodes} nodes){}",
        op.map(|o| format!(", operation {o}; jcrpack undo {o} brings it back"))
            .unwrap_or_default()
    );
    Ok(0)
}
