//! Path mapping (`--at`, `--map FROM=TO`): the package's layout moved to where the
//! operator installs it, and the filter roots added as nodes of the walk.

use super::error::ImportError;
use super::options::ImportOptions;
use crate::archive::Archive;
use crate::filter::PathMapping;
use crate::package::flat::FlatLayout;
use crate::package::{BinaryFile, LayoutNode};
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

/// The layout with every path mapped (`--at`, `--map`), as flat arrays over the same
/// archive. It is built as a tree first (mappings may merge and move subtrees), then
/// flattened: only an install with a mapping pays for the tree, once.
pub(super) fn remap<'a>(
    archive: &'a dyn Archive,
    flat: &FlatLayout<'a>,
    m: &PathMapping,
) -> FlatLayout<'a> {
    let mut out = LayoutNode {
        segment: String::new(),
        path: "/".into(),
        ..LayoutNode::default()
    };
    for (n, p) in flat.nodes() {
        let target = map_path(m, &p);
        let dst = node_at(&mut out, &target);
        dst.dir = n.dir().map(str::to_string);
        dst.docview = n.docview().map(str::to_string);
        dst.full_coverage = n.full_coverage();
        dst.file = n.file().map(str::to_string);
        dst.binaries = n.binaries().map(BinaryFile::of_entry).collect();
    }
    FlatLayout::from_tree(archive, &out)
}

fn node_at<'a>(root: &'a mut LayoutNode, p: &str) -> &'a mut LayoutNode {
    let mut n = root;
    for seg in path::segments(p) {
        n = n.child_mut(seg);
    }
    n
}
