//! Entries of the write cache by workspace and path, looked up by a borrowed
//! path (a lookup allocates nothing: a map keyed by `(workspace, String)` needs
//! an owned key to ask, and the cache is asked several times a node an install
//! writes), and, when they are [`Ordered`], kept in byte order of the path
//! within a workspace too, so that a subtree is one range.
//!
//! A lookup hashes the path (foldhash, randomly seeded: the paths come from
//! packages, which may be hostile) rather than walking an ordered map, whose
//! every step compares long paths that share their first bytes (about 2,000
//! instructions a lookup at 20k paths). The byte order is a set of the same
//! keys beside the hash map (one shared allocation a path), kept up to date by
//! insertions and removals, and read by ranges only; entries that no range
//! reads keep no order ([`Unordered`]) and pay nothing for it.

use crate::repository::content::WorkspaceId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// The paths of one workspace in some order, beside its hash map.
pub(crate) trait Order: Default {
    /// Path `key` was added.
    fn added(&mut self, key: &Arc<str>);
    /// Path `key` was taken out.
    fn removed(&mut self, key: &str);
    /// Only the paths for which `kept` holds are left.
    fn retain(&mut self, kept: impl FnMut(&str) -> bool);
}

/// No order kept: the entries are only looked up and iterated.
#[derive(Debug, Default)]
pub(crate) struct Unordered;

impl Order for Unordered {
    fn added(&mut self, _: &Arc<str>) {}
    fn removed(&mut self, _: &str) {}
    fn retain(&mut self, _: impl FnMut(&str) -> bool) {}
}

/// The paths in byte order, for [`ByPath::range`].
#[derive(Debug, Default)]
pub(crate) struct Ordered(BTreeSet<Arc<str>>);

impl Order for Ordered {
    fn added(&mut self, key: &Arc<str>) {
        self.0.insert(Arc::clone(key));
    }
    fn removed(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn retain(&mut self, mut kept: impl FnMut(&str) -> bool) {
        self.0.retain(|p| kept(p));
    }
}

/// The values of one workspace: by path, and the paths in order `O`.
#[derive(Debug)]
struct Workspace<V, O> {
    by_path: HashMap<Arc<str>, V, foldhash::fast::RandomState>,
    order: O,
}

impl<V, O: Default> Default for Workspace<V, O> {
    fn default() -> Self {
        Workspace {
            by_path: HashMap::default(),
            order: O::default(),
        }
    }
}

/// Values by workspace and path (in byte order when `O` is [`Ordered`]).
#[derive(Debug)]
pub(crate) struct ByPath<V, O = Ordered> {
    maps: BTreeMap<WorkspaceId, Workspace<V, O>>,
}

impl<V, O> Default for ByPath<V, O> {
    fn default() -> Self {
        ByPath {
            maps: BTreeMap::new(),
        }
    }
}

impl<V, O: Order> ByPath<V, O> {
    /// The value at `path` of `ws`.
    pub(crate) fn get(&self, ws: WorkspaceId, path: &str) -> Option<&V> {
        self.maps.get(&ws)?.by_path.get(path)
    }

    /// The value at `path` of `ws`, to change.
    pub(crate) fn get_mut(&mut self, ws: WorkspaceId, path: &str) -> Option<&mut V> {
        self.maps.get_mut(&ws)?.by_path.get_mut(path)
    }

    /// Whether a value is at `path` of `ws`.
    pub(crate) fn contains_key(&self, ws: WorkspaceId, path: &str) -> bool {
        self.get(ws, path).is_some()
    }

    /// Puts `value` at `path` of `ws`: the value there before.
    pub(crate) fn insert(&mut self, ws: WorkspaceId, path: &str, value: V) -> Option<V> {
        let map = self.maps.entry(ws).or_default();
        if let Some(old) = map.by_path.get_mut(path) {
            return Some(std::mem::replace(old, value));
        }
        let key: Arc<str> = Arc::from(path);
        map.order.added(&key);
        map.by_path.insert(key, value);
        None
    }

    /// Takes the value at `path` of `ws` out.
    pub(crate) fn remove(&mut self, ws: WorkspaceId, path: &str) -> Option<V> {
        let map = self.maps.get_mut(&ws)?;
        let gone = map.by_path.remove(path);
        if gone.is_some() {
            map.order.removed(path);
        }
        if map.by_path.is_empty() {
            self.maps.remove(&ws);
        }
        gone
    }

    /// Forgets every value of `ws`.
    pub(crate) fn remove_workspace(&mut self, ws: WorkspaceId) {
        self.maps.remove(&ws);
    }

    /// How many values there are, in all workspaces.
    pub(crate) fn len(&self) -> usize {
        self.maps.values().map(|m| m.by_path.len()).sum()
    }

    /// Every value, with its workspace and path (in no particular order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (WorkspaceId, &str, &V)> {
        self.maps
            .iter()
            .flat_map(|(ws, map)| map.by_path.iter().map(move |(p, v)| (*ws, &**p, v)))
    }

    /// Keeps the values for which `keep(workspace, path, value)` holds.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(WorkspaceId, &str, &mut V) -> bool) {
        self.maps.retain(|ws, map| {
            let before = map.by_path.len();
            map.by_path.retain(|p, v| keep(*ws, p, v));
            if map.by_path.len() < before {
                let by_path = &map.by_path;
                map.order.retain(|p| by_path.contains_key(p));
            }
            !map.by_path.is_empty()
        });
    }
}

impl<V> ByPath<V, Ordered> {
    /// The values of `ws` whose paths lie between `lo` and `hi`, in path order.
    pub(crate) fn range<'a>(
        &'a self,
        ws: WorkspaceId,
        lo: Bound<&'a str>,
        hi: Bound<&'a str>,
    ) -> impl Iterator<Item = (&'a str, &'a V)> + 'a {
        self.maps.get(&ws).into_iter().flat_map(move |map| {
            map.order
                .0
                .range::<str, _>((lo, hi))
                .filter_map(move |p| map.by_path.get(p).map(|v| (&**p, v)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Bound::{Excluded, Included, Unbounded};

    #[test]
    fn values_are_apart_by_workspace_and_in_path_order_within_one() {
        let mut m: ByPath<usize> = ByPath::default();
        assert_eq!(m.len(), 0);
        for (ws, p) in [(1, "/b"), (1, "/a/x"), (2, "/a"), (1, "/a")] {
            assert_eq!(m.insert(ws, p, p.len()), None);
        }
        assert_eq!(m.insert(1, "/b", 9), Some(2));
        assert_eq!(
            (m.len(), m.get(1, "/b"), m.get(3, "/b")),
            (4, Some(&9), None)
        );
        *m.get_mut(2, "/a").unwrap() = 7;
        let ranged: Vec<&str> = m.range(1, Excluded("/a"), Unbounded).map(|e| e.0).collect();
        assert_eq!(ranged, ["/a/x", "/b"]);
        assert_eq!(m.range(2, Included("/a"), Excluded("/a0")).count(), 1);
        assert_eq!(m.range(5, Unbounded, Unbounded).count(), 0);
        m.retain(|ws, p, _| ws == 2 || p != "/a");
        let mut all: Vec<(WorkspaceId, &str, &usize)> = m.iter().collect();
        all.sort();
        assert_eq!(all, [(1, "/a/x", &4), (1, "/b", &9), (2, "/a", &7)]);
        assert_eq!(m.remove(1, "/b"), Some(9));
        assert_eq!(m.insert(1, "/b", 9), None);
        let ordered: Vec<&str> = m.range(1, Unbounded, Unbounded).map(|e| e.0).collect();
        assert_eq!(
            ordered,
            ["/a/x", "/b"],
            "the order follows removals and insertions"
        );
        assert_eq!(m.remove(2, "/a"), Some(7));
        assert!(!m.contains_key(2, "/a") && m.contains_key(1, "/b"));
        m.remove_workspace(1);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn unordered_values_are_looked_up_alike() {
        let mut m: ByPath<u8, Unordered> = ByPath::default();
        assert_eq!(m.insert(1, "/a", 1), None);
        assert_eq!(m.insert(1, "/a/b", 2), None);
        assert_eq!((m.get(1, "/a/b"), m.get(2, "/a")), (Some(&2), None));
        m.retain(|_, p, _| p != "/a");
        assert_eq!((m.len(), m.remove(1, "/a/b"), m.len()), (1, Some(2), 0));
    }
}
