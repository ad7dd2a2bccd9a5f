//! What an export will hold, learnt before the first entry is written: whether each
//! filter root selects anything (a typo in `--root` must not give an empty backup),
//! whether the content holds access control (then the package's properties say how
//! to restore it), and which identifiers the content refers to (a file whose content
//! node is referenced keeps its `jcr:uuid` through a `.dir`).
//!
//! Where the backend can (SQLite), two bulk scans of the workspace answer it (a walk
//! reads and decodes every property of every node, one statement per node, serially
//! before the export's first entry); elsewhere one walk per filter root, one node at a
//! time. Memory is bounded by the walk's page, the policy nodes and the references.

use super::ExportError;
use crate::filter::WorkspaceFilter;
use crate::path;
use crate::repository::{ScanHit, SnapshotRead, StoreRead};
use crate::value::{Property, PropertyType, Value};
use std::collections::HashSet;

/// Node names that hold access control (reference §10).
pub const POLICY_NAMES: [&str; 4] = [
    "rep:policy",
    "rep:repoPolicy",
    "rep:cugPolicy",
    "rep:principalPolicy",
];

/// What the survey found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Survey {
    /// Access control policies the filter contains, counted once per filter root
    /// whose subtree holds them.
    pub policies: u64,
    /// Identifiers that `REFERENCE`/`WEAKREFERENCE` properties of the content hold.
    pub referenced: HashSet<String>,
}

/// Surveys the content `filter` selects in workspace `ws`, through `reader`'s bulk
/// [`SnapshotRead::scan`] when it has one (a few scans inside the backend, whatever
/// the content's size), else by walking each filter root. A filter root that selects
/// nothing is [`ExportError::EmptyRoot`] unless `allow_empty`.
pub fn survey(
    store: &dyn StoreRead,
    reader: &dyn SnapshotRead,
    ws: &str,
    filter: &WorkspaceFilter,
    allow_empty: bool,
) -> Result<Survey, ExportError> {
    let mut out = Survey::default();
    // What the scan finds is counted as it comes, only where the filter contains it:
    // nothing of the workspace outside the filter is kept.
    let bulk = {
        let Survey {
            policies,
            referenced,
        } = &mut out;
        reader.scan(&POLICY_NAMES, &mut |hit| {
            let p = match hit {
                ScanHit::Named(p) | ScanHit::Reference(p, _) => p,
            };
            if !filter.contains(p) {
                return;
            }
            // Once per filter root holding it, as the walk of each root counts.
            for set in &filter.sets {
                if !path::is_self_or_descendant(p, set.root()) {
                    continue;
                }
                match hit {
                    ScanHit::Named(_) => *policies += 1,
                    ScanHit::Reference(_, property) => {
                        referenced.extend(referenced_values(property))
                    }
                }
            }
        })?
    };
    for set in &filter.sets {
        let root = set.root();
        let selects = if bulk {
            selects_anything(store, ws, filter, root)?
        } else {
            walk_root(store, ws, filter, root, &mut out)?
        };
        if !selects && !allow_empty {
            return Err(ExportError::EmptyRoot {
                root: root.to_string(),
                suggestion: nearest_sibling(store, ws, root)?,
            });
        }
    }
    Ok(out)
}

/// The identifiers a reference property holds, as the walk has always read them.
fn referenced_values(p: &Property) -> Vec<String> {
    p.values
        .iter()
        .map(|v| match v {
            Value::Reference(s) | Value::WeakReference(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Whether `filter` contains any node of the subtree at `root`: a walk that stops
/// at the first (mostly the root itself).
fn selects_anything(
    store: &dyn StoreRead,
    ws: &str,
    filter: &WorkspaceFilter,
    root: &str,
) -> Result<bool, ExportError> {
    if store.node(ws, root)?.is_none() {
        return Ok(false);
    }
    for entry in store.walk(ws, root)? {
        if filter.contains(&entry?.path) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The survey of one filter root by walking it (backends without a bulk scan);
/// whether the filter contains any of its nodes.
fn walk_root(
    store: &dyn StoreRead,
    ws: &str,
    filter: &WorkspaceFilter,
    root: &str,
    out: &mut Survey,
) -> Result<bool, ExportError> {
    let mut selects = false;
    if store.node(ws, root)?.is_some() {
        for entry in store.walk(ws, root)? {
            let entry = entry?;
            if !filter.contains(&entry.path) {
                continue;
            }
            selects = true;
            if POLICY_NAMES.contains(&entry.node.name.as_str()) {
                out.policies += 1;
            }
            for p in entry.node.properties.values() {
                if matches!(
                    p.ptype,
                    PropertyType::Reference | PropertyType::WeakReference
                ) {
                    out.referenced.extend(referenced_values(p));
                }
            }
        }
    }
    Ok(selects)
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
    use crate::export::fallback::PathSnapshot;
    use crate::filter::FilterSet;
    use crate::node::Node;
    use crate::repository::sqlite::SqliteStore;
    use crate::repository::{AddOptions, Store, DEFAULT_WORKSPACE as WS};

    /// Policies and references inside and outside the filter, names that only look
    /// like a policy's, and a same-name sibling of one.
    fn content() -> Node {
        let reference = |name: &str, t: PropertyType, ids: &[&str]| {
            let values = ids
                .iter()
                .map(|id| match t {
                    PropertyType::Reference => Value::Reference(id.to_string()),
                    _ => Value::WeakReference(id.to_string()),
                })
                .collect();
            Property::multi(name, t, values)
        };
        let acl = |name: &str| Node::new(name, "rep:ACL");
        Node::new("content", "nt:folder")
            .with_child(
                Node::new("site", "nt:unstructured")
                    .with_child(acl("rep:policy"))
                    .with(Property::single(
                        "ref",
                        Value::Reference("id-1".to_string()),
                    ))
                    .with_child(
                        Node::new("deep", "nt:unstructured")
                            .with(reference(
                                "weak",
                                PropertyType::WeakReference,
                                &["id-2", "id-3"],
                            ))
                            .with_child(acl("rep:repoPolicy"))
                            .with_child(acl("xrep:policy"))
                            .with_child(acl("rep:policyx")),
                    )
                    .with_child(
                        Node::new("excluded", "nt:unstructured")
                            .with(reference("ref", PropertyType::Reference, &["id-4"]))
                            .with_child(acl("rep:policy")),
                    ),
            )
            .with_child(
                Node::new("outside", "nt:unstructured")
                    .with(reference("ref", PropertyType::Reference, &["id-5"]))
                    .with_child(acl("rep:cugPolicy")),
            )
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = SqliteStore::init(&dir.path().join("repo")).expect("init");
        let mut t = store.begin("content").expect("begin");
        t.add_node(WS, "/", &content(), &AddOptions::append())
            .expect("add");
        t.commit().expect("commit");
        (dir, store)
    }

    #[test]
    fn the_bulk_scan_finds_what_the_walk_finds() {
        let (_dir, store) = store();
        let mut set = FilterSet::new("/content/site");
        set.rules
            .push(crate::filter::Rule::exclude("/content/site/excluded(/.*)?").expect("pattern"));
        let filter = WorkspaceFilter::with_sets(vec![set, FilterSet::new("/content/site/deep")]);
        let snapshot = store.snapshot(WS).unwrap().unwrap();
        let fast = survey(&store, snapshot.as_ref(), WS, &filter, false).expect("scan");
        drop(snapshot);
        let slow =
            survey(&store, &PathSnapshot::new(&store, WS), WS, &filter, false).expect("walk");
        assert_eq!(fast, slow);
        // rep:policy and rep:repoPolicy under the first root, rep:repoPolicy again
        // under the second.
        assert_eq!(fast.policies, 3);
        let mut ids: Vec<&str> = fast.referenced.iter().map(String::as_str).collect();
        ids.sort();
        assert_eq!(ids, ["id-1", "id-2", "id-3"]);
    }

    #[test]
    fn a_root_that_selects_nothing_fails_either_way() {
        let (_dir, store) = store();
        let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/content/sit")]);
        let snapshot = store.snapshot(WS).unwrap().unwrap();
        for reader in [
            snapshot.as_ref(),
            &PathSnapshot::new(&store, WS) as &dyn SnapshotRead,
        ] {
            match survey(&store, reader, WS, &filter, false) {
                Err(ExportError::EmptyRoot { root, suggestion }) => {
                    assert_eq!(root, "/content/sit");
                    assert_eq!(suggestion.as_deref(), Some("/content/site"));
                }
                other => panic!("{other:?}"),
            }
            assert!(survey(&store, reader, WS, &filter, true).is_ok());
        }
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("magazine", "magazin"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("same", "same"), 0);
    }
}
