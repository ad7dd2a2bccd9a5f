//! `jcrpack rm PATH --repo REPO`: remove a node (with its subtree) or a property.

use super::repo::{absolute, LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::repository::OperationMeta;
use clap::Args;

/// Remove a node and its subtree, or a property.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The node or property path.
    pub path: String,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Runs `rm`.
pub fn run(a: RmArgs) -> CliResult<i32> {
    let p = absolute(&a.path)?;
    let ws = a.repo.workspace.clone();
    let mut store = a.repo.open_locking(&a.lock)?;
    let mut txn = store.begin_operation(OperationMeta::new(
        format!("rm {p}"),
        &super::repo::recorded_actor()?,
    ))?;
    if txn.node(&ws, &p)?.is_some() {
        let n = txn.remove_node(&ws, &p)?;
        txn.commit()?;
        status!("removed {p} ({n} nodes)");
        return Ok(0);
    }
    let parent = crate::path::parent(&p).unwrap_or("/").to_string();
    let name = crate::path::name(&p).to_string();
    if txn.node(&ws, &parent)?.is_some() && txn.remove_property(&ws, &parent, &name)? {
        txn.commit()?;
        status!("removed property {p}");
        return Ok(0);
    }
    Err(CliError::failure(format!("{p}: no such node or property")))
}
