//! The roots a package may write: the deny list of system roots and the operator's
//! `--allow-root`s, checked before anything is written and again per path written.

use super::error::{ImportError, OutOfBounds};
use super::options::ImportOptions;
use crate::filter::WorkspaceFilter;
use crate::package::LayoutNode;
use crate::path;

pub use crate::write_rules::{system_root_of, SYSTEM_ROOTS};

/// Refuses packages that write system roots or outside `--allow-root`, before
/// anything is written.
pub(super) fn check(
    root: &LayoutNode,
    filter: Option<&WorkspaceFilter>,
    opts: &ImportOptions,
) -> Result<(), ImportError> {
    let mut written: Vec<String> = filter
        .map(|f| f.sets.iter().map(|s| s.root().to_string()).collect())
        .unwrap_or_default();
    fn content(n: &LayoutNode, out: &mut Vec<String>) {
        if !n.is_empty() && n.path != "/" && n.children.is_empty() {
            out.push(n.path.clone());
        }
        for c in n.children.values() {
            content(c, out);
        }
    }
    if filter.is_none_or(|f| f.sets.is_empty()) {
        content(root, &mut written);
    }
    for w in &written {
        if let Some(refusal) = out_of_bounds(w, false, opts) {
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
