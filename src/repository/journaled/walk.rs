//! Subtree walks in document order over any content store.
//!
//! The walk keeps one frame per open ancestor holding that ancestor's remaining
//! children (records, not properties), so memory is bounded by depth × siblings;
//! children are listed only when the walk enters a node.

use super::read;
use crate::node::Node;
use crate::repository::content::{ContentRead, NodeId, NodeRecord};
use crate::repository::{Result, SubtreeWalk, WalkEntry};
use std::collections::VecDeque;

/// A running walk.
pub(crate) struct Walk<'a> {
    content: &'a dyn ContentRead,
    start: Option<NodeRecord>,
    stack: Vec<(VecDeque<NodeRecord>, usize)>,
    /// The node returned last, whose children come next unless skipped.
    last: Option<(NodeId, usize, bool)>,
    failed: bool,
}

impl<'a> Walk<'a> {
    /// Starts a walk at `p` of `workspace`.
    pub fn start(content: &'a dyn ContentRead, workspace: &str, p: &str) -> Result<Walk<'a>> {
        let row = read::require(content, workspace, p)?;
        Ok(Walk {
            content,
            start: Some(row),
            stack: Vec::new(),
            last: None,
            failed: false,
        })
    }

    fn entry(&mut self, row: NodeRecord, depth: usize) -> Result<WalkEntry> {
        let info = read::info(self.content, &row)?;
        let has_children = self.content.has_children(row.id)?;
        let mut node = Node::new(row.name.clone(), row.primary_type.clone());
        node.index = info.index;
        node.mixins = row.mixins.clone();
        for p in self.content.properties(row.id)? {
            node.properties.insert(p.name.clone(), p);
        }
        self.last = Some((row.id, depth, has_children));
        Ok(WalkEntry {
            path: row.path,
            depth,
            node,
            has_children,
        })
    }

    fn advance(&mut self) -> Result<Option<WalkEntry>> {
        if let Some(start) = self.start.take() {
            return self.entry(start, 0).map(Some);
        }
        if let Some((id, depth, true)) = self.last.take() {
            let children: VecDeque<NodeRecord> = self.content.children(id)?.into();
            self.stack.push((children, depth + 1));
        }
        while let Some((frame, depth)) = self.stack.last_mut() {
            let depth = *depth;
            match frame.pop_front() {
                Some(row) => return self.entry(row, depth).map(Some),
                None => {
                    self.stack.pop();
                }
            }
        }
        Ok(None)
    }
}

impl Iterator for Walk<'_> {
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

impl SubtreeWalk for Walk<'_> {
    fn skip_children(&mut self) {
        if let Some((_, _, has_children)) = self.last.as_mut() {
            *has_children = false;
        }
    }
}
