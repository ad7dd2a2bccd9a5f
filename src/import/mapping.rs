//! Path mapping (`--at`, `--map FROM=TO`): the package's layout moved to where the
//! operator installs it, and the filter roots added as nodes of the walk.

use super::error::ImportError;
use super::options::ImportOptions;
use crate::filter::PathMapping;
use crate::package::LayoutNode;
use crate::path;

/// The mapping the options ask for; `None` installs where the package says.
pub(super) fn of(opts: &ImportOptions) -> Result<Option<PathMapping>, ImportError> {
    if let Some(at) = &opts.at {
        let at = path::normalize(at).map_err(|source| ImportError::InvalidAt {
            at: at.clone(),
            source,
        })?;
        if at != "/" {
            return Ok(Some(PathMapping::at(&at)));
        }
    }
    if opts.mappings.is_empty() {
        return Ok(None);
    }
    Ok(Some(PathMapping::Links(opts.mappings.clone())))
}

fn map_path(m: &PathMapping, p: &str) -> String {
    if p == "/" {
        let r = m.map("/");
        let r = r.trim_end_matches('/');
        return if r.is_empty() {
            "/".into()
        } else {
            r.to_string()
        };
    }
    m.map(p)
}

/// The layout with every path mapped (`--at`, `--map`).
pub(super) fn remap(root: &LayoutNode, m: &PathMapping) -> LayoutNode {
    let mut out = LayoutNode {
        segment: String::new(),
        path: "/".into(),
        ..LayoutNode::default()
    };
    fn walk(n: &LayoutNode, m: &PathMapping, out: &mut LayoutNode) {
        let target = map_path(m, &n.path);
        let dst = node_at(out, &target);
        dst.dir = n.dir.clone();
        dst.docview = n.docview.clone();
        dst.full_coverage = n.full_coverage;
        dst.file = n.file.clone();
        dst.binaries = n.binaries.clone();
        for c in n.children.values() {
            walk(c, m, out);
        }
    }
    walk(root, m, &mut out);
    out
}

fn node_at<'a>(root: &'a mut LayoutNode, p: &str) -> &'a mut LayoutNode {
    let mut n = root;
    for seg in path::segments(p) {
        n = n.child_mut(seg);
    }
    n
}

/// Adds the node of a filter root (and its ancestors) to the layout, so that the
/// walk visits it even when the package has nothing there.
pub(super) fn add_intermediates(root: &mut LayoutNode, filter_root: &str) {
    node_at(root, filter_root);
}
