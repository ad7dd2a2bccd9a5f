//! Referential integrity (Oak's `ReferentialIntegrityException`): a `Reference`
//! property must point to an existing node when the install commits; a
//! `WeakReference` need not.
//!
//! * A node removed to make room for an identifier (FileVault's node stash when the
//!   package gives an existing node another identifier, or the holder of a
//!   conflicting identifier) takes the references to it along when they are
//!   contained in the filter, or always with `force_remove_conflicting_id`; a
//!   reference it cannot take fails the install (`DocViewImporter.removeReferences`).
//! * Every other removal is checked at the end: a `Reference` left pointing to an
//!   identifier that no node holds any more fails the install, as Oak fails the save.
//!
//! Finding references walks the workspace, once per removal by identifier and once
//! at the end, and only when a removed subtree held identifiers: installs that remove
//! no referenceable node pay nothing.

use super::error::ImportError;
use super::options::IdConflictPolicy;
use super::report::Action;
use super::session::Session;
use crate::path;
use crate::value::{PropertyType, Value};
use std::collections::HashSet;

/// The identifiers (`jcr:uuid`) of the nodes in the subtree at `root`.
fn identifiers(s: &Session<'_>, root: &str) -> Result<HashSet<String>, ImportError> {
    let mut out = HashSet::new();
    for e in s.txn.walk(&s.ws, root)? {
        let e = e?;
        if let Some(u) = e.node.value("jcr:uuid").and_then(Value::as_str) {
            out.insert(u.to_string());
        }
    }
    Ok(out)
}

/// `(node path, property name)` of every `Reference` property outside `skip` whose
/// value is one of `targets`.
fn references_to(
    s: &Session<'_>,
    targets: &HashSet<String>,
    skip: Option<&str>,
) -> Result<Vec<(String, String)>, ImportError> {
    let mut out = Vec::new();
    let mut walk = s.txn.walk(&s.ws, "/")?;
    while let Some(e) = walk.next() {
        let e = e?;
        // A stash holds copies of the children of a node being replaced: their
        // references come back with them and are not references from elsewhere.
        if skip.is_some_and(|r| e.path == r || path::is_descendant(&e.path, r))
            || super::stash::is_stashed(&e.path)
        {
            walk.skip_children();
            continue;
        }
        for p in e.node.properties.values() {
            if p.ptype != PropertyType::Reference {
                continue;
            }
            let hit = p
                .values
                .iter()
                .any(|v| matches!(v, Value::Reference(u) if targets.contains(u)));
            if hit {
                out.push((e.path.clone(), p.name.clone()));
            }
        }
    }
    Ok(out)
}

/// Removes the node at `node_path` (with its subtree), noting the identifiers that
/// go with it for the check at the end.
pub fn remove_node(s: &mut Session<'_>, node_path: &str) -> Result<(), ImportError> {
    let ids = identifiers(s, node_path)?;
    s.removed_ids.extend(ids);
    s.txn.remove_node(&s.ws, node_path)?;
    Ok(())
}

/// Removes the node at `node_path` to make room for an identifier, with the
/// references to its subtree that may go (contained in the filter, or any with
/// `force_remove_conflicting_id`); fails, removing nothing, when another one points
/// into it.
pub fn remove_with_references(
    s: &mut Session<'_>,
    node_path: &str,
    own_only: bool,
) -> Result<(), ImportError> {
    // With `own_only`, the children were stashed and come back with their
    // identifiers: only the node's own identifier goes.
    let ids = if own_only {
        s.node(node_path)?
            .and_then(|n| n.uuid)
            .into_iter()
            .collect::<HashSet<String>>()
    } else {
        identifiers(s, node_path)?
    };
    if !ids.is_empty() {
        let refs = references_to(s, &ids, Some(node_path))?;
        let force = s.opts.id_conflict == IdConflictPolicy::ForceRemoveConflictingId;
        if let Some((p, n)) = refs
            .iter()
            .find(|(p, n)| !force && !s.contains(&path::join(p, n)))
        {
            return Err(ImportError::Violation {
                path: node_path.to_string(),
                message: format!(
                    "referential integrity: {node_path} is to be replaced by a node with another \
                     identifier, but the Reference {} outside the filter points to it",
                    path::join(p, n)
                ),
            });
        }
        for (p, n) in refs {
            if own_only && path::is_descendant(&p, node_path) {
                continue;
            }
            s.txn.remove_property(&s.ws, &p, &n)?;
            s.record(&p, Action::Updated);
        }
    }
    s.removed_ids.extend(ids);
    s.txn.remove_node(&s.ws, node_path)?;
    Ok(())
}

/// Fails when a `Reference` points to an identifier that a removal of this install
/// took away and no node holds now.
pub fn check(s: &mut Session<'_>) -> Result<(), ImportError> {
    let gone: HashSet<String> = std::mem::take(&mut s.removed_ids)
        .into_iter()
        .filter(|u| !matches!(s.txn.find_by_uuid(&s.ws, u), Ok(Some(_))))
        .collect();
    if gone.is_empty() {
        return Ok(());
    }
    if let Some((p, n)) = references_to(s, &gone, None)?.into_iter().next() {
        let target = s
            .txn
            .property(&s.ws, &p, &n)?
            .and_then(|v| v.values.first().and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        return Err(ImportError::Violation {
            path: path::join(&p, &n),
            message: format!(
                "referential integrity: the Reference {} points to {target}, a node this \
                 install removes (a WeakReference may dangle, a Reference may not)",
                path::join(&p, &n)
            ),
        });
    }
    Ok(())
}
