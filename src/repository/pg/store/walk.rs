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
