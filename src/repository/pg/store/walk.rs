//! Subtree walks on PostgreSQL through the batched snapshot reads of
//! [`PgSnapshot`]: the walk of `dump`, `diff` and the readers of a subtree.
//!
//! The journaled layer's walk asks the content store four questions a node (its
//! identifier, whether it has children, its properties, its children), one
//! statement each; this walk asks [`PgSnapshot`], whose batches answer the
//! children and properties of thousands of nodes in a few statements, and whose
//! node rows carry the identifier and the number of children. Same entries, same
//! order (document order: each node, then its children in order), same memory
//! bound (one frame of remaining children per open ancestor, plus the snapshot's
//! bounded batches).

use super::snapshot::PgSnapshot;
use crate::node::Node;
use crate::repository::{Result, SnapshotNode, SnapshotRead, SubtreeWalk, WalkEntry};

/// A running walk; see the module doc.
pub(super) struct PgWalk<'a> {
    snapshot: PgSnapshot<'a>,
    start: Option<SnapshotNode>,
    stack: Vec<(std::vec::IntoIter<SnapshotNode>, usize)>,
    /// The node returned last, whose children come next unless skipped.
    last: Option<(SnapshotNode, usize)>,
    failed: bool,
}

impl<'a> PgWalk<'a> {
    /// A walk of the subtree at `start`, read through `snapshot`.
    pub(super) fn new(snapshot: PgSnapshot<'a>, start: SnapshotNode) -> PgWalk<'a> {
        PgWalk {
            snapshot,
            start: Some(start),
            stack: Vec::new(),
            last: None,
            failed: false,
        }
    }

    fn entry(&mut self, n: SnapshotNode, depth: usize) -> Result<WalkEntry> {
        let mut node = Node::new(n.info.name.clone(), n.info.primary_type.clone());
        node.index = n.info.index;
        node.mixins = n.info.mixins.clone();
        for p in self.snapshot.properties(&n)? {
            node.properties.insert(p.name.clone(), p);
        }
        let has_children = n.has_children;
        let path = n.info.path.clone();
        if has_children {
            self.last = Some((n, depth));
        }
        Ok(WalkEntry {
            path,
            depth,
            node,
            has_children,
        })
    }

    fn advance(&mut self) -> Result<Option<WalkEntry>> {
        if let Some(start) = self.start.take() {
            return self.entry(start, 0).map(Some);
        }
        if let Some((node, depth)) = self.last.take() {
            let children = self.snapshot.children(&node)?;
            self.stack.push((children.into_iter(), depth + 1));
        }
        while let Some((frame, depth)) = self.stack.last_mut() {
            let depth = *depth;
            match frame.next() {
                Some(n) => return self.entry(n, depth).map(Some),
                None => {
                    self.stack.pop();
                }
            }
        }
        Ok(None)
    }
}

impl Iterator for PgWalk<'_> {
    type Item = Result<WalkEntry>;

    fn next(&mut self) -> Option<Result<WalkEntry>> {
        if self.failed {
            return None;
        }
        match self.advance() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl SubtreeWalk for PgWalk<'_> {
    fn skip_children(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repository::location::OpenOptions;
    use crate::repository::pg::PgStore;
    use crate::repository::{AddOptions, Store, StoreRead, DEFAULT_WORKSPACE as WS};
    use crate::value::{Property, Value};

    /// A family larger than a batch, a deep tree, same-name siblings, files,
    /// identifiers and multi-valued properties: 3,779 nodes.
    fn content() -> Node {
        let leaf = |name: &str, i: usize| {
            Node::new(name, "nt:unstructured")
                .with(Property::single("n", Value::Long(i as i64)))
                .with(Property::multi(
                    "tags",
                    crate::value::PropertyType::String,
                    vec![Value::String(format!("a{i}")), Value::String("b".into())],
                ))
        };
        let mut flat = Node::new("flat", "nt:unstructured");
        for i in 0..3000 {
            let mut c = leaf(&format!("c{i}"), i);
            if i % 7 == 0 {
                c = c.with_child(leaf("jcr:content", i));
            }
            flat = flat.with_child(c);
        }
        fn deep(level: usize, at: &mut usize) -> Node {
            *at += 1;
            let mut n = Node::new(format!("d{at}"), "nt:unstructured")
                .with(Property::single("at", Value::Long(*at as i64)));
            if level < 5 {
                for _ in 0..4 {
                    n = n.with_child(deep(level + 1, at));
                }
            }
            n
        }
        let mut at = 0;
        let mut t = Node::new("t", "nt:unstructured")
            .with_child(flat)
            .with_child(deep(1, &mut at))
            .with_child(
                leaf("ref", 1).with(Property::single("jcr:uuid", Value::String("u-1".into()))),
            );
        for i in 0..3 {
            t = t.with_child(leaf("s", i).with_child(leaf("x", i)));
        }
        t
    }

    fn store() -> PgStore {
        let url = format!(
            "{}?schema=walk",
            crate::repository::pg::testdb::fresh_database()
        );
        let mut store = PgStore::init_url(&url, &OpenOptions::default()).expect("init");
        let mut t = store.begin("content").expect("begin");
        t.add_node(WS, "/", &content(), &AddOptions::append())
            .expect("add");
        t.commit().expect("commit");
        store
    }

    /// Every entry of a walk, skipping the children of every node `skip` names.
    fn entries(walk: &mut dyn SubtreeWalk, skip: &dyn Fn(&WalkEntry) -> bool) -> Vec<WalkEntry> {
        let mut out = Vec::new();
        while let Some(e) = walk.next() {
            let e = e.expect("entry");
            if skip(&e) {
                walk.skip_children();
            }
            out.push(e);
        }
        out
    }

    #[test]
    fn batched_walks_give_the_journaled_walk_in_few_statements() {
        let store = store();
        let none = |_: &WalkEntry| false;
        let some = |e: &WalkEntry| e.path.ends_with('3') || e.path.ends_with("[2]");
        for skip in [&none as &dyn Fn(&WalkEntry) -> bool, &some] {
            let want = entries(&mut *store.inner.walk(WS, "/t").expect("walk"), skip);
            assert!(want.len() > 3000, "{} nodes", want.len());
            // The default limits, then batches of 50 nodes forgotten past 100
            // waiting (families larger than a batch, waiting and resuming).
            for limits in [None, Some((50, 100))] {
                let mut snapshot = store.open_snapshot(WS).expect("snapshot");
                if let Some((budget, held)) = limits {
                    snapshot.set_limits(budget, held);
                }
                let start = snapshot.node("/t").expect("node").expect("/t");
                let mut walk = PgWalk::new(snapshot, start);
                let got = entries(&mut walk, skip);
                assert!(got == want, "{limits:?}: the walks differ");
                let statements = walk.snapshot.statements();
                if limits.is_none() {
                    // Four a node before.
                    assert!(
                        statements * 100 < got.len() as u64,
                        "{statements} statements for {} nodes",
                        got.len()
                    );
                }
            }
        }
        // The store's walk is this walk; a missing start or workspace fails.
        let all = entries(&mut *store.walk(WS, "/t").expect("walk"), &none);
        assert_eq!(all.len(), 3779);
        assert!(matches!(
            store.walk(WS, "/nowhere").err(),
            Some(crate::repository::RepositoryError::NodeNotFound { .. })
        ));
        assert!(matches!(
            store.walk("nowhere", "/").err(),
            Some(crate::repository::RepositoryError::WorkspaceNotFound { .. })
        ));
    }

    #[test]
    fn the_snapshot_answers_child_and_children_as_the_path_reads() {
        let store = store();
        let snapshot = store.open_snapshot(WS).expect("snapshot");
        let flat = snapshot.node("/t/flat").unwrap().unwrap();
        let listed = snapshot.children(&flat).unwrap();
        assert_eq!(listed.len(), 3000);
        for c in listed.iter().take(30) {
            let content = snapshot.child(c, "jcr:content").unwrap();
            assert_eq!(
                content,
                snapshot
                    .node(&format!("{}/jcr:content", c.info.path))
                    .unwrap()
            );
            // Asked twice, the children and properties are the same.
            assert_eq!(snapshot.children(c).unwrap(), snapshot.children(c).unwrap());
            let props = snapshot.properties(c).unwrap();
            assert_eq!(props, snapshot.properties(c).unwrap());
            assert_eq!(props, store.properties(WS, &c.info.path).unwrap());
        }
        let r = snapshot.node("/t/ref").unwrap().unwrap();
        assert_eq!(r.info.uuid.as_deref(), Some("u-1"));
        let s = snapshot.node("/t").unwrap().unwrap();
        let names: Vec<(String, u32)> = snapshot
            .children(&s)
            .unwrap()
            .into_iter()
            .map(|c| (c.info.name, c.info.index))
            .collect();
        assert_eq!(
            names[3..],
            [("s".into(), 1), ("s".into(), 2), ("s".into(), 3)]
        );
    }
}
