//! Identifier conflicts (reference §11): a package node whose `jcr:uuid` another
//! node already holds.

use super::error::ImportError;
use super::options::IdConflictPolicy;
use super::report::Action;
use super::session::Session;
use crate::path;

/// Decides what happens when the node for `node_path` is created with `uuid`.
/// Returns `true` to keep the identifier (after removing the holder where the policy
/// says so), `false` to create the node with a new one; fails when the policy refuses.
pub fn resolve_conflict(
    s: &mut Session<'_>,
    node_path: &str,
    uuid: &str,
) -> Result<bool, ImportError> {
    let Some(holder) = s.txn.find_by_uuid(&s.ws, uuid)? else {
        return Ok(true);
    };
    if holder == node_path {
        return Ok(true);
    }
    match s.opts.id_conflict {
        IdConflictPolicy::CreateNewId => Ok(false),
        IdConflictPolicy::ForceRemoveConflictingId => {
            super::references::remove_with_references(s, &holder, false)?;
            s.record(&holder, Action::Deleted);
            Ok(true)
        }
        IdConflictPolicy::Legacy => {
            // FileVault before 3.5.2: a conflicting sibling is removed when contained
            // (references then point to the new node); a conflict elsewhere gives the
            // package node a new identifier.
            if path::parent(&holder) != path::parent(node_path) {
                return Ok(false);
            }
            if s.contains(&holder) {
                remove_holder(s, &holder)?;
                return Ok(true);
            }
            // An uncovered sibling: FileVault keeps it and imports the package's
            // children below it, which fails for content in files of their own; refused.
            Err(ImportError::IdConflict {
                path: node_path.to_string(),
                uuid: uuid.to_string(),
                holder,
            })
        }
        IdConflictPolicy::Fail => {
            if s.contains(&holder)
                && !path::is_descendant(node_path, &holder)
                && !s.document_nodes.contains(&holder)
            {
                // A holder the same document created or updated is the package's
                // own duplicate: never removed (DocViewImporter.addNode).
                super::references::remove_with_references(s, &holder, false)?;
                s.record(&holder, Action::Deleted);
                Ok(true)
            } else {
                Err(ImportError::IdConflict {
                    path: node_path.to_string(),
                    uuid: uuid.to_string(),
                    holder,
                })
            }
        }
    }
}

fn remove_holder(s: &mut Session<'_>, holder: &str) -> Result<(), ImportError> {
    super::references::remove_node(s, holder)?;
    s.record(holder, Action::Deleted);
    Ok(())
}
