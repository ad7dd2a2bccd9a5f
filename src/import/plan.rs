//! What the importer walks: the package's flat layout ([`FlatLayout`]), plus the
//! filter roots the package has nothing for (and their missing ancestors) as extra
//! nodes, so that the walk visits them too (issue 16 item 3: no tree of strings).
//!
//! A node is an index: the layout's records first (in pre-order), then the extra
//! nodes in the order they were added. The children of a node are its layout
//! children, then the extra nodes added below it, as a tree that had them added
//! with `child_mut` would order them. Repository paths are not stored: the walk
//! builds them on the way down.

use crate::package::flat::{FlatLayout, FlatNode};
use crate::package::BinaryFile;
use crate::path;

/// A node of a [`Plan`].
pub type Id = u32;

/// A node the package has nothing for, added for a filter root.
struct Extra {
    parent: Id,
    segment: String,
}

/// The layout the importer walks; see the module doc.
pub struct Plan<'a> {
    flat: FlatLayout<'a>,
    extras: Vec<Extra>,
}

impl<'a> Plan<'a> {
    /// The walk over `flat` (which has at least its root).
    pub fn new(flat: FlatLayout<'a>) -> Plan<'a> {
        Plan {
            flat,
            extras: Vec::new(),
        }
    }

    /// The root, `/`.
    pub fn root(&self) -> Id {
        0
    }

    /// How many nodes there are (ids are below this).
    pub fn len(&self) -> usize {
        self.flat.len() + self.extras.len()
    }

    fn node(&self, id: Id) -> Option<FlatNode<'_, 'a>> {
        self.flat.node(id)
    }

    fn extra(&self, id: Id) -> Option<&Extra> {
        (id as usize)
            .checked_sub(self.flat.len())
            .and_then(|k| self.extras.get(k))
    }

    /// The last path segment; `""` for the root.
    pub fn segment(&self, id: Id) -> &str {
        match self.node(id) {
            Some(n) => n.segment(),
            None => self.extra(id).map_or("", |e| e.segment.as_str()),
        }
    }

    /// The node has a folder in the package.
    pub fn has_dir(&self, id: Id) -> bool {
        self.node(id).is_some_and(|n| n.dir().is_some())
    }

    /// The folder of the node, if there is one.
    pub fn dir(&self, id: Id) -> Option<&str> {
        self.node(id).and_then(|n| n.dir())
    }

    /// Its DocView entry.
    pub fn docview(&self, id: Id) -> Option<&str> {
        self.node(id).and_then(|n| n.docview())
    }

    /// Its DocView is a full-coverage `name.xml`.
    pub fn full_coverage(&self, id: Id) -> bool {
        self.node(id).is_some_and(|n| n.full_coverage())
    }

    /// Its plain file entry.
    pub fn file(&self, id: Id) -> Option<&str> {
        self.node(id).and_then(|n| n.file())
    }

    /// Nothing in the package describes it.
    pub fn is_empty(&self, id: Id) -> bool {
        self.node(id).is_none_or(|n| n.is_empty())
    }

    /// Its `.binary` files, in layout order.
    pub fn binaries(&self, id: Id) -> Vec<BinaryFile> {
        match self.node(id) {
            Some(n) => n.binaries().map(BinaryFile::of_entry).collect(),
            None => Vec::new(),
        }
    }

    /// Its children, in the importer's order.
    pub fn children(&self, id: Id) -> Vec<Id> {
        let mut out: Vec<Id> = match self.node(id) {
            Some(n) => n.children().map(|c| c.index()).collect(),
            None => Vec::new(),
        };
        out.extend(self.extra_children(id));
        out
    }

    fn extra_children(&self, id: Id) -> impl Iterator<Item = Id> + '_ {
        let base = self.flat.len() as Id;
        self.extras
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.parent == id)
            .map(move |(k, _)| base + k as Id)
    }

    /// Whether it has children.
    pub fn has_children(&self, id: Id) -> bool {
        self.node(id).is_some_and(|n| n.has_children()) || self.extra_children(id).next().is_some()
    }

    /// Its child at `segment`.
    pub fn child(&self, id: Id, segment: &str) -> Option<Id> {
        if let Some(c) = self.node(id).and_then(|n| n.child(segment)) {
            return Some(c.index());
        }
        self.extra_children(id)
            .find(|&c| self.segment(c) == segment)
    }

    /// The node at path `p`, if there is one.
    pub fn find(&self, p: &str) -> Option<Id> {
        let mut cur = self.root();
        for seg in path::segments(p) {
            cur = self.child(cur, seg)?;
        }
        Some(cur)
    }

    /// Whether `id` is `ancestor` or below it.
    fn is_within(&self, mut id: Id, ancestor: Id) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.extra(id) {
                Some(e) => id = e.parent,
                None => break,
            }
        }
        // `id` is a layout node now; `ancestor` must be one too to hold it.
        match self.node(ancestor) {
            Some(a) => id >= a.index() && id < a.index() + a.subtree_len(),
            None => false,
        }
    }

    /// The number of nodes in its subtree, itself included.
    pub fn count(&self, id: Id) -> u64 {
        let own = self.node(id).map_or(1, |n| n.subtree_len() as u64);
        let base = self.flat.len() as Id;
        let extras = (0..self.extras.len() as Id)
            .filter(|&k| base + k != id && self.is_within(base + k, id))
            .count() as u64;
        own + extras
    }

    /// The number of aggregates (nodes with a DocView or a file) in its subtree.
    pub fn aggregates(&self, id: Id) -> u64 {
        match self.node(id) {
            Some(n) => n
                .subtree()
                .filter(|c| c.docview().is_some() || c.file().is_some())
                .count() as u64,
            None => 0,
        }
    }

    /// Every node with its path, in pre-order, children in the importer's order.
    pub fn walk(&self, mut f: impl FnMut(Id, &str)) {
        fn go(plan: &Plan<'_>, id: Id, p: &str, f: &mut dyn FnMut(Id, &str)) {
            f(id, p);
            for c in plan.children(id) {
                go(plan, c, &path::join(p, plan.segment(c)), f);
            }
        }
        go(self, self.root(), "/", &mut f);
    }

    /// Adds the node at `p` (a filter root) and its missing ancestors, so that the
    /// walk visits it even when the package has nothing there.
    pub fn add_intermediates(&mut self, p: &str) {
        let mut cur = self.root();
        for seg in path::segments(p) {
            cur = match self.child(cur, seg) {
                Some(c) => c,
                None => {
                    self.extras.push(Extra {
                        parent: cur,
                        segment: seg.to_string(),
                    });
                    (self.len() - 1) as Id
                }
            };
        }
    }

    /// The layout walked.
    pub fn layout(&self) -> &FlatLayout<'a> {
        &self.flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, ReadOptions};
    use crate::package::IgnoreList;
    use crate::test_support::write;

    #[test]
    fn filter_roots_are_added_after_the_layouts_children() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(d, "jcr_root/content/a/x.txt", "x");
        write(d, "jcr_root/content/b.txt", "b");
        let a = open(d, &ReadOptions::default()).unwrap();
        let flat = crate::package::flat::scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let mut plan = Plan::new(flat);
        let n = plan.len();
        plan.add_intermediates("/content/a");
        assert_eq!(plan.len(), n, "/content/a is in the layout");
        plan.add_intermediates("/content/c/d");
        plan.add_intermediates("/apps");
        assert_eq!(plan.len(), n + 3);
        let mut seen = Vec::new();
        plan.walk(|id, p| seen.push((p.to_string(), plan.count(id), plan.aggregates(id))));
        let want: Vec<(String, u64, u64)> = [
            ("/", 8, 2),
            ("/content", 6, 2),
            ("/content/a", 2, 1),
            ("/content/a/x.txt", 1, 1),
            ("/content/b.txt", 1, 1),
            ("/content/c", 2, 0),
            ("/content/c/d", 1, 0),
            ("/apps", 1, 0),
        ]
        .iter()
        .map(|(p, c, g)| (p.to_string(), *c, *g))
        .collect();
        assert_eq!(seen, want);
        let content = plan.child(plan.root(), "content").unwrap();
        let c = plan.child(content, "c").unwrap();
        assert!(plan.is_empty(c) && !plan.has_dir(c) && plan.has_children(c));
        assert_eq!(plan.segment(c), "c");
        let names: Vec<&str> = plan
            .children(content)
            .into_iter()
            .map(|k| plan.segment(k))
            .collect();
        assert_eq!(names, ["a", "b.txt", "c"]);
        assert!(plan.child(c, "nothing").is_none());
        assert_eq!(plan.find("/content/c"), Some(c));
        assert_eq!(plan.find("/"), Some(plan.root()));
        assert_eq!(
            plan.find("/content/a/x.txt").map(|k| plan.segment(k)),
            Some("x.txt")
        );
        assert!(plan.find("/content/x").is_none());
    }
}
