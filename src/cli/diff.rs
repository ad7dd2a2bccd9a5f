//! `jcrpack diff PACKAGE --repo REPO`: what an install would change, node by node and
//! property by property, deletions first. Nothing is written: the install runs and is
//! rolled back.

use super::repo::{LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::archive::{self, ReadOptions};
use crate::diff::{compare_node, NodeChange};
use crate::import::{self, Action, ImportError, ImportOptions};
use clap::Args;
use std::path::PathBuf;

/// Show what installing a package would change, without changing anything.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The package (zip or folder).
    pub package: PathBuf,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Print JSON (schema: schemas/diff.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs `diff`.
pub fn run(a: DiffArgs) -> CliResult<i32> {
    let opts = ImportOptions {
        workspace: a.repo.workspace.clone(),
        dry_run: true,
        ..ImportOptions::new(super::import::actor()?)
    };
    let before = a.repo.open()?;
    let mut store = a.repo.open_locking(&a.lock)?;
    let archive = archive::open(&a.package, &ReadOptions::default())?;
    let ws = a.repo.workspace.clone();
    let mut changes: Vec<NodeChange> = Vec::new();
    import::install_inspected(
        store.as_mut(),
        archive.as_ref(),
        &opts,
        &mut |txn, report| {
            let mut paths: Vec<(String, bool)> = Vec::new();
            let mut listed = std::collections::HashSet::new();
            let mut entries = report.entries.iter();
            for e in &mut entries {
                listed.insert(e.path.clone());
                if e.action != Action::Unchanged && e.action != Action::Error {
                    paths.push((e.path.clone(), e.action == Action::Deleted));
                }
            }
            if let Some(e) = entries.error {
                return Err(ImportError::ReadBack {
                    what: "changes",
                    source: e,
                });
            }
            // Deletions first, then the rest in install order; each path once.
            paths.sort_by_key(|(_, deleted)| !deleted);
            let mut seen = std::collections::HashSet::new();
            for (p, _) in paths {
                let p = p.as_str();
                if !seen.insert(p.to_string()) {
                    continue;
                }
                if let Some(c) =
                    compare_node(before.as_ref(), txn, &ws, p).map_err(ImportError::from)?
                {
                    changes.push(c);
                }
                // Nodes below a changed node that the report does not list (a file's jcr:content).
                for child in txn.children(&ws, p).unwrap_or_default() {
                    if !seen.contains(&child.path) && !listed.contains(&child.path) {
                        if let Some(c) = compare_node(before.as_ref(), txn, &ws, &child.path)
                            .map_err(ImportError::from)?
                        {
                            seen.insert(child.path.clone());
                            changes.push(c);
                        }
                    }
                }
            }
            Ok(())
        },
    )
    .map_err(|e| CliError::failure(format!("{}: {e}", a.package.display())))?;
    if a.json {
        let doc =
            serde_json::json!({ "package": a.package.display().to_string(), "changes": changes });
        super::print_json(&doc)?;
        return Ok(0);
    }
    for c in &changes {
        let mark = match c.change {
            "added" => '+',
            "deleted" => '-',
            _ => '~',
        };
        match &c.primary_type {
            Some((Some(b), Some(t))) => println!("{mark} {} ({b} -> {t})", c.path),
            Some((_, Some(t))) => println!("{mark} {} ({t})", c.path),
            _ => println!("{mark} {}", c.path),
        }
        if let Some((b, t)) = &c.mixins {
            println!("    mixins: [{}] -> [{}]", b.join(", "), t.join(", "));
        }
        for p in &c.properties {
            match (&p.before, &p.after) {
                (None, Some(v)) => println!("    + {} = {v}", p.name),
                (Some(v), None) => println!("    - {} = {v}", p.name),
                (Some(b), Some(v)) => println!("    ~ {}: {b} -> {v}", p.name),
                (None, None) => {}
            }
        }
    }
    eprintln!("{} nodes would change", changes.len());
    Ok(0)
}
