//! The roots a package may write: the deny list of system roots and the operator's
//! `--allow-root`s, checked before anything is written and again per path written.

use super::error::{ImportError, OutOfBounds};
use super::options::ImportOptions;
use super::plan::Plan;
use crate::filter::WorkspaceFilter;
use crate::path;

pub use crate::write_rules::{system_root_of, SYSTEM_ROOTS};

/// Refuses packages that write system roots or outside `--allow-root`, before
/// anything is written.
pub(super) fn check(
    plan: &Plan<'_>,
    filter: Option<&WorkspaceFilter>,
    opts: &ImportOptions,
) -> Result<(), ImportError> {
    let roots: Vec<&str> = filter
        .map(|f| f.sets.iter().map(|s| s.root()).collect())
        .unwrap_or_default();
    for w in roots {
        if let Some(refusal) = out_of_bounds(w, false, opts) {
            return Err(ImportError::OutOfBounds(refusal));
        }
    }
    // Without filter roots, the content's leaves: checked as the walk finds them,
    // not collected (a million paths at a million nodes).
    if filter.is_none_or(|f| f.sets.is_empty()) {
        let mut first = None;
        plan.walk(|id, p| {
            if first.is_none() && !plan.is_empty(id) && p != "/" && !plan.has_children(id) {
                first = out_of_bounds(p, false, opts);
            }
        });
        if let Some(refusal) = first {
            return Err(ImportError::OutOfBounds(refusal));
        }
    }
    Ok(())
}

/// Why writing `w` is refused: below a system root the deny list holds, or outside
/// `--allow-root`. `creates_ancestor`: `w` is a node created on the way down, which
/// may be an ancestor of an allowed root.
pub(crate) fn out_of_bounds(
    w: &str,
    creates_ancestor: bool,
    opts: &ImportOptions,
) -> Option<OutOfBounds> {
    // The one deny list every writing path checks (crate::write_rules); the depth
    // limit is checked where the importer walks (session::check_depth).
    let rules = crate::write_rules::WriteRules {
        allow_system_roots: opts.allow_system_roots,
        node_depth: usize::MAX,
    };
    if let Err(crate::write_rules::WriteRefusal::SystemRoot { path, root }) =
        crate::write_rules::check_path(w, &rules)
    {
        return Some(OutOfBounds::SystemRoot { path, root });
    }
    if !opts.allow_roots.is_empty()
        && !opts.allow_roots.iter().any(|a| {
            path::is_self_or_descendant(w, a)
                || (creates_ancestor && path::is_self_or_descendant(a, w))
        })
    {
        return Some(OutOfBounds::NotAllowed {
            path: w.to_string(),
            allowed: opts.allow_roots.clone(),
        });
    }
    None
}
