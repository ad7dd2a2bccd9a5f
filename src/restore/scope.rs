//! What a restore covers: the workspaces and roots asked for, checked against the
//! backup and the repository.

use super::error::{RestoreError, Result};
use crate::path;
use crate::repository::StoreRead;

/// What the caller asks to restore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The workspaces; empty for every workspace of the backup, and, when the whole
    /// tree is restored, of the repository too (a workspace only the repository has
    /// is then emptied, as the backup has none; subtree restores leave it alone).
    pub workspaces: Vec<String>,
    /// The roots; empty for the whole tree (`/`).
    pub roots: Vec<String>,
}

/// One workspace of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWorkspace {
    /// Its name.
    pub name: String,
    /// The backup has it.
    pub in_backup: bool,
    /// The repository has it (when not, the restore creates it).
    pub in_repository: bool,
    /// The roots restored in it, normalized, none below another.
    pub roots: Vec<String>,
}

/// A [`Scope`] resolved against a backup and a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The workspaces, in name order.
    pub workspaces: Vec<PlannedWorkspace>,
    /// The source is a backup whose image was checked against its manifest
    /// ([`crate::restore::open_backup`]): a workspace restored whole from it brings
    /// its system roots back ([`crate::write_rules::SYSTEM_ROOTS`]: `/jcr:system`'s
    /// version history, `/rep:security`). `false` (what [`Plan::new`] gives) for any
    /// other source, such as another repository's folder: its system roots are left
    /// out of the restore, the repository's stay as they are, and a root asked for
    /// below one is refused.
    pub verified_backup: bool,
}

impl Plan {
    /// The plan for a source that is a verified backup ([`Plan::verified_backup`]).
    pub fn from_verified_backup(self) -> Plan {
        Plan {
            verified_backup: true,
            ..self
        }
    }

    /// Resolves `scope`: every workspace asked for must be in the backup, and every
    /// root in the backup or in the repository, in at least one planned workspace.
    pub fn new(source: &dyn StoreRead, target: &dyn StoreRead, scope: &Scope) -> Result<Plan> {
        let mut roots = Vec::new();
        for r in &scope.roots {
            if !path::is_absolute(r) {
                return Err(RestoreError::InvalidRoot(
                    r.clone(),
                    "a root is an absolute path such as /content/site".into(),
                ));
            }
            let n = path::normalize(r)
                .map_err(|e| RestoreError::InvalidRoot(r.clone(), e.to_string()))?;
            roots.push(n);
        }
        if roots.is_empty() {
            roots.push("/".to_string());
        }
        roots.sort();
        roots.dedup();
        let all = roots.clone();
        roots.retain(|r| !all.iter().any(|a| path::is_descendant(r, a)));

        let in_src = source.workspaces()?;
        let in_tgt = target.workspaces()?;
        let whole = roots.iter().any(|r| r == "/");
        let names: Vec<String> = if scope.workspaces.is_empty() && !whole {
            // Subtrees: in the workspaces the backup has (one it lacks is left alone).
            in_src.clone()
        } else if scope.workspaces.is_empty() {
            let mut n: Vec<String> = in_src.iter().chain(&in_tgt).cloned().collect();
            n.sort();
            n.dedup();
            n
        } else {
            let mut n = Vec::new();
            for w in &scope.workspaces {
                if !in_src.contains(w) {
                    return Err(RestoreError::UnknownWorkspace(w.clone(), in_src.join(", ")));
                }
                if !n.contains(w) {
                    n.push(w.clone());
                }
            }
            n.sort();
            n
        };
        let workspaces: Vec<PlannedWorkspace> = names
            .into_iter()
            .map(|name| PlannedWorkspace {
                in_backup: in_src.contains(&name),
                in_repository: in_tgt.contains(&name),
                roots: roots.clone(),
                name,
            })
            .collect();
        for r in &roots {
            if r == "/" {
                continue;
            }
            let mut found = false;
            for w in &workspaces {
                if (w.in_backup && source.node(&w.name, r)?.is_some())
                    || (w.in_repository && target.node(&w.name, r)?.is_some())
                {
                    found = true;
                    break;
                }
            }
            if !found {
                return Err(RestoreError::UnknownRoot {
                    workspace: workspaces
                        .first()
                        .map(|w| w.name.clone())
                        .unwrap_or_default(),
                    root: r.clone(),
                });
            }
        }
        Ok(Plan {
            workspaces,
            verified_backup: false,
        })
    }
}
