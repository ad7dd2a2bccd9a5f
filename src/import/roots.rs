//! The roots a package may write: the deny list of system roots and the operator's
//! `--allow-root`s, checked before anything is written and again per path written.

use super::error::{ImportError, OutOfBounds};
use super::options::ImportOptions;
use crate::filter::WorkspaceFilter;
use crate::package::LayoutNode;
use crate::path;

/// Roots no package may write unless the operator lifts the deny list.
pub const SYSTEM_ROOTS: [&str; 3] = ["/jcr:system", "/rep:security", "/oak:index"];

/// The system root of the deny list that `p` is or lies below, if any: the one list
/// `import` and `load` both check.
pub fn system_root_of(p: &str) -> Option<&'static str> {
    SYSTEM_ROOTS
        .iter()
        .copied()
        .find(|r| path::is_self_or_descendant(p, r))
}

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
    if !opts.allow_system_roots {
        if let Some(sys) = system_root_of(w) {
            return Some(OutOfBounds::SystemRoot {
                path: w.to_string(),
                root: sys,
            });
        }
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
