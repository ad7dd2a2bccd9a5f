//! Subtree iteration in document order, one page of siblings at a time.
//!
//! The walk keeps a stack with one frame per open ancestor; each frame buffers at
//! most [`PAGE`] of that ancestor's children (ids, names and types, not their
//! properties) and fetches the next page by keyset (`(position, id) > last`). Memory
//! is bounded by depth × [`PAGE`]. On a store outside a transaction the walk holds a
//! read transaction, so it sees one snapshot however long it runs.

use super::read::{index_of, NodeRow, NODE_COLS};
use super::{codec, Db};
use crate::node::Node;
use crate::path;
use crate::repository::{Result, SubtreeWalk, WalkEntry};
use std::collections::VecDeque;

/// Children fetched per query.
pub(crate) const PAGE: i64 = 256;

struct Frame {
    parent: i64,
    depth: usize,
    buf: VecDeque<(NodeRow, bool)>,
    last: (i64, i64),
    exhausted: bool,
}

/// A running walk; see the module doc.
pub(crate) struct SqliteWalk<'c> {
    db: Db<'c>,
    start: Option<(NodeRow, bool)>,
    stack: Vec<Frame>,
    /// Whether the last returned node's frame is on top of the stack.
    pushed_last: bool,
    owns_read_txn: bool,
    failed: bool,
}

impl<'c> SqliteWalk<'c> {
    /// Starts a walk at `p` in `workspace`.
    pub fn start(db: Db<'c>, workspace: &str, p: &str) -> Result<SqliteWalk<'c>> {
        let p = path::normalize(p)?;
        let owns_read_txn = db.conn.is_autocommit();
        if owns_read_txn {
            db.conn.execute_batch("BEGIN").map_err(|e| db.err(e))?;
        }
        let mut walk = SqliteWalk {
            db,
            start: None,
            stack: Vec::new(),
            pushed_last: false,
            owns_read_txn,
            failed: false,
        };
        // Errors from here on drop `walk`, which ends the read transaction.
        let ws = db.require_ws(workspace)?;
        let row = db.require_row(workspace, ws, &p)?;
        let has_children = walk.has_children(row.id)?;
        walk.start = Some((row, has_children));
        Ok(walk)
    }

    fn has_children(&self, id: i64) -> Result<bool> {
        let db = &self.db;
        let mut st = db
            .conn
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM node WHERE parent = ?1)")
            .map_err(|e| db.err(e))?;
        st.query_row([id], |r| r.get(0)).map_err(|e| db.err(e))
    }

    fn fill(&mut self) -> Result<()> {
        let db = self.db;
        let Some(frame) = self.stack.last_mut() else {
            return Ok(());
        };
        let mut st = db
            .conn
            .prepare_cached(&format!(
                "SELECT {NODE_COLS}, EXISTS(SELECT 1 FROM node c WHERE c.parent = node.id)
                 FROM node WHERE parent = ?1 AND (position, id) > (?2, ?3)
                 ORDER BY position, id LIMIT ?4"
            ))
            .map_err(|e| db.err(e))?;
        let rows = st
            .query_map(
                rusqlite::params![frame.parent, frame.last.0, frame.last.1, PAGE],
                |r| Ok((NodeRow::from_row(r)?, r.get::<_, bool>(8)?)),
            )
            .map_err(|e| db.err(e))?;
        for row in rows {
            frame.buf.push_back(row.map_err(|e| db.err(e))?);
        }
        match frame.buf.back() {
            Some((last, _)) => frame.last = (last.position, last.id),
            None => frame.exhausted = true,
        }
        if (frame.buf.len() as i64) < PAGE {
            frame.exhausted = true;
        }
        Ok(())
    }

    fn entry(&self, row: NodeRow, has_children: bool, depth: usize) -> Result<WalkEntry> {
        let db = &self.db;
        let properties = db.props_of(row.id)?;
        let node = Node {
            name: row.name,
            index: index_of(db, &row.path)?,
            primary_type: row.ptype,
            mixins: codec::decode_mixins(&row.mixins).map_err(|e| db.corrupt(e))?,
            properties: properties
                .into_iter()
                .map(|p| (p.name.clone(), p))
                .collect(),
            children: Vec::new(),
        };
        Ok(WalkEntry {
            path: row.path,
            depth,
            node,
            has_children,
        })
    }

    fn advance(&mut self) -> Result<Option<WalkEntry>> {
        if let Some((row, has_children)) = self.start.take() {
            self.pushed_last = has_children;
            if has_children {
                self.stack.push(Frame {
                    parent: row.id,
                    depth: 1,
                    buf: VecDeque::new(),
                    last: (i64::MIN, i64::MIN),
                    exhausted: false,
                });
            }
            return self.entry(row, has_children, 0).map(Some);
        }
        loop {
            let Some(frame) = self.stack.last() else {
                self.pushed_last = false;
                return Ok(None);
            };
            if frame.buf.is_empty() {
                if frame.exhausted {
                    self.stack.pop();
                    continue;
                }
                self.fill()?;
                continue;
            }
            let depth = frame.depth;
            let Some((row, has_children)) = self.stack.last_mut().and_then(|f| f.buf.pop_front())
            else {
                continue;
            };
            self.pushed_last = has_children;
            if has_children {
                self.stack.push(Frame {
                    parent: row.id,
                    depth: depth + 1,
                    buf: VecDeque::new(),
                    last: (i64::MIN, i64::MIN),
                    exhausted: false,
                });
            }
            return self.entry(row, has_children, depth).map(Some);
        }
    }
}

impl Iterator for SqliteWalk<'_> {
    type Item = Result<WalkEntry>;

    fn next(&mut self) -> Option<Self::Item> {
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

impl SubtreeWalk for SqliteWalk<'_> {
    fn skip_children(&mut self) {
        if self.pushed_last {
            self.stack.pop();
            self.pushed_last = false;
        }
    }
}

impl Drop for SqliteWalk<'_> {
    fn drop(&mut self) {
        if self.owns_read_txn && !self.db.conn.is_autocommit() {
            let _ = self.db.conn.execute_batch("COMMIT");
        }
    }
}
