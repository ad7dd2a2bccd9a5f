//! What an export will hold, learnt before the first entry is written: whether each
//! filter root selects anything (a typo in `--root` must not give an empty backup),
//! whether the content holds access control (then the package's properties say how
//! to restore it), and which identifiers the content refers to (a file whose content
//! node is referenced keeps its `jcr:uuid` through a `.dir`).
//!
//! One walk per filter root, one node at a time: memory is bounded by the walk's page
//! and by the set of referenced identifiers.

use super::ExportError;
use crate::filter::WorkspaceFilter;
use crate::path;
use crate::repository::StoreRead;
use crate::value::{PropertyType, Value};
use std::collections::HashSet;

/// Node names that hold access control (reference §10).
pub const POLICY_NAMES: [&str; 4] = [
    "rep:policy",
    "rep:repoPolicy",
    "rep:cugPolicy",
    "rep:principalPolicy",
];

/// What the walk found.
#[derive(Debug, Default)]
pub struct Survey {
    /// Nodes the filter contains, over all roots.
    pub nodes: u64,
    /// Access control policies among them.
    pub policies: u64,
    /// Identifiers that `REFERENCE`/`WEAKREFERENCE` properties of the content hold.
    pub referenced: HashSet<String>,
}

/// Walks the content `filter` selects in workspace `ws`. A filter root that selects
/// nothing is [`ExportError::EmptyRoot`] unless `allow_empty`.
pub fn survey(
    store: &dyn StoreRead,
    ws: &str,
    filter: &WorkspaceFilter,
    allow_empty: bool,
) -> Result<Survey, ExportError> {
    let mut out = Survey::default();
    for set in &filter.sets {
        let root = set.root();
        let before = out.nodes;
        if store.node(ws, root)?.is_some() {
            for entry in store.walk(ws, root)? {
                let entry = entry?;
                if !filter.contains(&entry.path) {
                    continue;
                }
                out.nodes += 1;
                if POLICY_NAMES.contains(&entry.node.name.as_str()) {
                    out.policies += 1;
                }
                for p in entry.node.properties.values() {
                    if matches!(
                        p.ptype,
                        PropertyType::Reference | PropertyType::WeakReference
                    ) {
                        for v in &p.values {
                            match v {
                                Value::Reference(s) | Value::WeakReference(s) => {
                                    out.referenced.insert(s.clone());
                                }
                                other => {
                                    out.referenced.insert(other.to_string());
                                }
                            }
                        }
                    }
                }
            }
        }
        if out.nodes == before && !allow_empty {
            return Err(ExportError::EmptyRoot {
                root: root.to_string(),
                suggestion: nearest_sibling(store, ws, root)?,
            });
        }
    }
    Ok(out)
}

/// The existing sibling whose name is nearest to the last missing segment of
/// `root`, when one is near enough to be a typo.
fn nearest_sibling(
    store: &dyn StoreRead,
    ws: &str,
    root: &str,
) -> Result<Option<String>, ExportError> {
    // The deepest existing ancestor, and the segment below it that is missing.
    let mut missing = root.to_string();
    let mut parent = path::parent(root).map(str::to_string);
    while let Some(p) = parent.clone() {
        if store.node(ws, &p)?.is_some() {
            break;
        }
        missing = p.clone();
        parent = path::parent(&p).map(str::to_string);
    }
    let Some(parent) = parent else {
        return Ok(None);
    };
    if store.node(ws, &missing)?.is_some() {
        // The root exists and selects nothing (its patterns exclude it all).
        return Ok(None);
    }
    let want = path::last_segment(&missing);
    let best = store
        .children(ws, &parent)?
        .into_iter()
        .map(|c| {
            let seg = path::last_segment(&c.path).to_string();
            (distance(want, &seg), c.path)
        })
        .min();
    Ok(best
        .filter(|(d, _)| *d <= 2.max(want.chars().count() / 4))
        .map(|(_, p)| p))
}

/// Levenshtein distance of two names, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("magazine", "magazin"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("same", "same"), 0);
    }
}
