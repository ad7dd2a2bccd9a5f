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
//! no referenceable node pay nothing. Memory stays bounded however large the removed
//! subtrees and the workspace: a reference's target is looked up by its identifier
//! (the store's index) instead of sets of identifiers being held, and the identifiers
//! the install removed are kept in a `SpillLog` (on disk beyond its first records),
//! read back at the end only when a `Reference` dangles.

use super::error::ImportError;
use super::options::IdConflictPolicy;
use super::report::Action;
use super::session::Session;
use crate::path;
use crate::value::{PropertyType, Value};
use std::collections::HashSet;

/// Notes the identifiers (`jcr:uuid`) of the nodes in the subtree at `root` as
/// removed, for the check at the end; in a node stash, the identifiers its copies
/// keep for the nodes that did not come back.
fn note_removed_subtree(s: &mut Session<'_>, root: &str) -> Result<(), ImportError> {
    for e in s.txn.walk(&s.ws, root)? {
        let e = e?;
        let held = e.node.value("jcr:uuid").and_then(Value::as_str);
        if let Some(u) = held.or_else(|| super::stash::kept_uuid(&e.path, &e.node)) {
            s.removed_ids.push(u.to_string());
        }
    }
    Ok(())
}

/// What the sought references point to.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The node at this path only.
    Node(&'a str),
    /// The node at this path or any node below it.
    Subtree(&'a str),
}

/// `(node path, property name)` of every `Reference` property outside `skip` (and
/// outside a node stash) with a value that points to `target`, each target found by
/// its identifier.
fn references_to(
    s: &Session<'_>,
    target: Target<'_>,
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
            let mut hit = false;
            for v in &p.values {
                let Value::Reference(u) = v else { continue };
                let Some(at) = s.txn.find_by_uuid(&s.ws, u)? else {
                    continue;
                };
                hit |= match target {
                    Target::Node(n) => at == n,
                    Target::Subtree(r) => path::is_self_or_descendant(&at, r),
                };
            }
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
    note_removed_subtree(s, node_path)?;
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
    let holds_ids = if own_only {
        s.node(node_path)?.and_then(|n| n.uuid).is_some()
    } else {
        let mut walk = s.txn.walk(&s.ws, node_path)?;
        let mut any = false;
        for e in &mut walk {
            if e?.node.properties.contains_key("jcr:uuid") {
                any = true;
                break;
            }
        }
        any
    };
    if holds_ids {
        let target = if own_only {
            Target::Node(node_path)
        } else {
            Target::Subtree(node_path)
        };
        let refs = references_to(s, target, Some(node_path))?;
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
        if own_only {
            if let Some(u) = s.node(node_path)?.and_then(|n| n.uuid) {
                s.removed_ids.push(u);
            }
        } else {
            note_removed_subtree(s, node_path)?;
        }
    }
    s.txn.remove_node(&s.ws, node_path)?;
    Ok(())
}

/// Fails when a `Reference` points to an identifier that a removal of this install
/// took away and no node holds now.
pub fn check(s: &mut Session<'_>) -> Result<(), ImportError> {
    let removed = std::mem::take(&mut s.removed_ids);
    if removed.is_empty() {
        return Ok(());
    }
    // The References that point to no node now (normally none) ...
    let mut dangling: Vec<(String, String, String)> = Vec::new();
    let walk = s.txn.walk(&s.ws, "/")?;
    for e in walk {
        let e = e?;
        for p in e.node.properties.values() {
            if p.ptype != PropertyType::Reference {
                continue;
            }
            for v in &p.values {
                if let Value::Reference(u) = v {
                    if s.txn.find_by_uuid(&s.ws, u)?.is_none() {
                        dangling.push((e.path.clone(), p.name.clone(), u.clone()));
                    }
                }
            }
        }
    }
    if dangling.is_empty() {
        return Ok(());
    }
    // ... fail when this install removed their target.
    let wanted: HashSet<&str> = dangling.iter().map(|(_, _, u)| u.as_str()).collect();
    let mut gone: HashSet<String> = HashSet::new();
    let mut records = removed.iter();
    for id in &mut records {
        if wanted.contains(id.as_str()) {
            gone.insert(id.to_string());
        }
    }
    if let Some(source) = records.error {
        return Err(ImportError::ReadBack {
            what: "identifiers of removed nodes",
            source,
        });
    }
    if let Some((p, n, target)) = dangling.iter().find(|(_, _, u)| gone.contains(u)) {
        return Err(ImportError::Violation {
            path: path::join(p, n),
            message: format!(
                "referential integrity: the Reference {} points to {target}, a node this \
                 install removes (a WeakReference may dangle, a Reference may not)",
                path::join(p, n)
            ),
        });
    }
    Ok(())
}
