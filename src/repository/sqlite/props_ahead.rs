//! Property rows read ahead of their nodes' own reads.
//!
//! An install that meets an existing tree compares each node with the package,
//! reading the node's properties ([`Db::props_against`]): one statement a node,
//! most of whose cost is the statement, not its few rows. It reads them in the
//! order the walk visits the nodes, which is the order the first install created
//! them in, so mostly in ascending id order; and the `prop` table is clustered by
//! node id. So one range statement over the next ids answers the next nodes' reads
//! as well.
//!
//! The rows read ahead are answered only while they are what a statement would
//! read now: while the connection has written nothing since (SQLite's count of
//! changed rows is the same) and the transaction's cache was not cleared (a
//! rollback to a savepoint clears it: it undoes writes without counting them).
//! Any write throws them away, and each time that happens the next read looks
//! less far ahead, so an install that changes node after node does not read
//! ahead for nothing; reads that run on past the end look further each time.
//! A row in an unusual form (not text, not an integer, text that is not UTF-8
//! where it must be decoded) is not answered here: its node is read by its own
//! statement, which reports it as before. Texts are kept as bytes and checked
//! only when decoded, as that statement does: a row that holds the caller's
//! property is told by comparing bytes.

use super::codec;
use super::Db;
use crate::repository::content::{NodeId, StoredProperty};
use crate::repository::Result;
use crate::value::Property;
use rusqlite::types::ValueRef;
use std::cell::RefCell;

/// Node ids read at first, at least and at most in one statement.
const FIRST_WINDOW: i64 = 32;
const MIN_WINDOW: i64 = 1;
const MAX_WINDOW: i64 = 4096;

/// Text kept at most (names and values): a window ends early, after the node
/// that passes it, so memory stays bounded by the largest node.
const MAX_BYTES: usize = 4 << 20;

/// One `prop` row as read: its texts are ranges of [`PropsAhead::text`]; `None`
/// fields are in an unusual form.
#[derive(Debug)]
struct Row {
    node: NodeId,
    name: Option<(usize, usize)>,
    code: Option<i64>,
    multiple: Option<bool>,
    value: Option<(usize, usize)>,
}

/// The rows of node ids `from..to`, read when the connection's change count was
/// `changes` (module doc).
#[derive(Debug)]
pub(crate) struct PropsAhead {
    from: NodeId,
    to: NodeId,
    changes: u64,
    rows: Vec<Row>,
    /// The rows' names and values, one after the other (no allocation a row).
    text: Vec<u8>,
    /// How many ids the next read covers.
    window: i64,
}

impl Default for PropsAhead {
    fn default() -> Self {
        PropsAhead {
            from: 0,
            to: 0,
            changes: 0,
            rows: Vec::new(),
            text: Vec::new(),
            window: FIRST_WINDOW,
        }
    }
}

impl PropsAhead {
    /// Drops the rows (what the transaction's cache does when it is cleared).
    pub fn forget(&mut self) {
        self.rows = Vec::new();
        self.text = Vec::new();
        self.from = 0;
        self.to = 0;
    }

    /// Whether node `id`'s rows are held and still exact.
    fn holds(&self, id: NodeId, changes: u64) -> bool {
        self.from <= id && id < self.to && self.changes == changes
    }

    /// The rows of node `id` (held).
    fn rows_of(&self, id: NodeId) -> &[Row] {
        let start = self.rows.partition_point(|r| r.node < id);
        let len = self.rows[start..]
            .iter()
            .take_while(|r| r.node == id)
            .count();
        &self.rows[start..start + len]
    }

    /// The size of the next window, read for `id`: larger when the walk ran past
    /// the end of exact rows, smaller when a write threw them away.
    fn next_window(&mut self, id: NodeId, changes: u64) -> i64 {
        if self.to > self.from {
            if self.changes != changes {
                self.window = (self.window / 4).max(MIN_WINDOW);
            } else if id >= self.to && id < self.to + self.window {
                self.window = (self.window * 2).min(MAX_WINDOW);
            }
        }
        self.window
    }
}

impl Db<'_> {
    /// [`Db::props_against`] answered from rows read ahead (module doc): the same
    /// answer, in fewer statements when the nodes are read in id order.
    pub fn props_against_ahead(
        &self,
        ahead: &RefCell<PropsAhead>,
        id: NodeId,
        known: &[Property],
    ) -> Result<Vec<StoredProperty>> {
        let changes = self.conn.total_changes();
        let mut a = ahead.borrow_mut();
        if !a.holds(id, changes) {
            let window = a.next_window(id, changes);
            self.read_ahead(&mut a, id, window, changes)?;
        }
        let answer = match answer(self, a.rows_of(id), &a.text, known)? {
            Some(answer) => answer,
            None => return self.props_against(id, known),
        };
        // What the node's own statement answers: in tests every answer is checked.
        #[cfg(debug_assertions)]
        debug_assert_eq!(answer, self.props_against(id, known)?, "node {id}");
        Ok(answer)
    }

    /// Reads the rows of ids `id..id + window` into `a` (fewer ids past
    /// [`MAX_BYTES`], never fewer than `id`'s own).
    fn read_ahead(&self, a: &mut PropsAhead, id: NodeId, window: i64, changes: u64) -> Result<()> {
        // The buffers kept for the next window, unless a large one grew them.
        if a.text.capacity() > MAX_BYTES * 2 {
            a.forget();
        }
        a.rows.clear();
        a.text.clear();
        a.to = a.from;
        let end = id.saturating_add(window);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT node, name, type, multiple, value FROM prop
                 WHERE node >= ?1 AND node < ?2 ORDER BY node, name",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([id, end]).map_err(|e| self.err(e))?;
        let mut to = end;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let node: NodeId = r.get(0).map_err(|e| self.err(e))?;
            let bytes = a.text.len() + a.rows.len() * std::mem::size_of::<Row>();
            if bytes > MAX_BYTES && a.rows.last().is_some_and(|l| l.node != node) {
                // Ends before this node (after `id`'s rows): memory stays bounded.
                to = node;
                break;
            }
            let row = Row {
                node,
                name: push_text(&mut a.text, r.get_ref(1).map_err(|e| self.err(e))?),
                code: match r.get_ref(2).map_err(|e| self.err(e))? {
                    ValueRef::Integer(c) => Some(c),
                    _ => None,
                },
                multiple: match r.get_ref(3).map_err(|e| self.err(e))? {
                    ValueRef::Integer(m) => Some(m != 0),
                    _ => None,
                },
                value: push_text(&mut a.text, r.get_ref(4).map_err(|e| self.err(e))?),
            };
            a.rows.push(row);
        }
        a.from = id;
        a.to = to;
        a.changes = changes;
        Ok(())
    }
}

/// Appends a text column to `text`, giving its range; `None` when it is not
/// text.
fn push_text(text: &mut Vec<u8>, v: ValueRef<'_>) -> Option<(usize, usize)> {
    let ValueRef::Text(t) = v else {
        return None;
    };
    let start = text.len();
    text.extend_from_slice(t);
    Some((start, text.len()))
}

/// What [`Db::props_against`] answers for a node with `rows`; `None` when a row
/// is in an unusual form (the node's own statement then answers).
fn answer(
    db: &Db<'_>,
    rows: &[Row],
    text: &[u8],
    known: &[Property],
) -> Result<Option<Vec<StoredProperty>>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (Some(name), Some(code), Some(multiple), Some(value)) =
            (r.name, r.code, r.multiple, r.value)
        else {
            return Ok(None);
        };
        let row = codec::StoredRow {
            name: &text[name.0..name.1],
            code,
            multiple,
            value: &text[value.0..value.1],
        };
        match row.against(known) {
            Some(answer) => out.push(answer.map_err(|e| db.corrupt(e))?),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::{PropsAhead, MAX_BYTES};
    use crate::repository::content::StoredProperty::{Known, Read};
    use crate::repository::sqlite::SqliteStore;
    use crate::value::{Property, Value};
    use std::cell::RefCell;

    fn put(store: &SqliteStore, node: i64, name: &str, value: &str) {
        store
            .db()
            .conn
            .execute(
                "INSERT OR REPLACE INTO prop(node, name, type, multiple, value)
                 VALUES (?1, ?2, 1, 0, ?3)",
                rusqlite::params![node, name, value],
            )
            .unwrap();
    }

    /// Reads in id order are answered from one window, as each node's own
    /// statement answers them; a write makes the next read read again, and
    /// shrinks the window.
    #[test]
    fn answers_as_each_nodes_statement_until_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        for id in 1000..1100 {
            put(&store, id, "a", "x");
            put(&store, id, "b", &id.to_string());
        }
        let db = store.db();
        let ahead = RefCell::new(PropsAhead::default());
        let known = [Property::string("b", "1001"), Property::string("a", "x")];
        let got = db.props_against_ahead(&ahead, 1001, &known).unwrap();
        assert_eq!(got, [Known(1), Known(0)]);
        assert_eq!((ahead.borrow().from, ahead.borrow().to), (1001, 1033));
        for id in 1002..1100 {
            let got = db.props_against_ahead(&ahead, id, &known).unwrap();
            assert_eq!(got, db.props_against(id, &known).unwrap());
            assert_eq!(got[0], Known(1));
        }
        // 1001 + 32, + 64, + 128 (ids 1033, 1097): two more statements, growing.
        assert_eq!(ahead.borrow().window, 128);
        // No rows: no properties.
        assert_eq!(db.props_against_ahead(&ahead, 1150, &known).unwrap(), []);
        put(&store, 1151, "a", "y");
        let got = db.props_against_ahead(&ahead, 1151, &known).unwrap();
        assert_eq!(got, [Read(Property::string("a", "y"))]);
        assert_eq!(ahead.borrow().window, 32);
    }

    /// A row in an unusual form is answered by its node's own statement (the same
    /// error); the other nodes of the window are not affected.
    #[test]
    fn an_unusual_row_is_read_by_its_own_statement() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        put(&store, 1, "a", "x");
        put(&store, 3, "a", "x");
        store
            .db()
            .conn
            .execute(
                "INSERT INTO prop(node, name, type, multiple, value) VALUES (2, 'a', 1.5, 0, 'x')",
                [],
            )
            .unwrap();
        // Text that is not UTF-8, in a property the caller does not know.
        store
            .db()
            .conn
            .execute(
                "INSERT INTO prop(node, name, type, multiple, value)
                 VALUES (4, 'b', 1, 0, CAST(X'ff' AS TEXT))",
                [],
            )
            .unwrap();
        let db = store.db();
        let ahead = RefCell::new(PropsAhead::default());
        let known = [Property::string("a", "x")];
        assert_eq!(
            db.props_against_ahead(&ahead, 1, &known).unwrap(),
            [Known(0)]
        );
        for id in [2, 4] {
            let error = db.props_against_ahead(&ahead, id, &known).unwrap_err();
            assert_eq!(
                error.to_string(),
                db.props_against(id, &known).unwrap_err().to_string()
            );
        }
        assert_eq!(
            db.props_against_ahead(&ahead, 3, &known).unwrap(),
            [Known(0)]
        );
        assert_eq!((ahead.borrow().from, ahead.borrow().to), (1, 33));
    }

    /// A window stops after the node that passes the byte bound, never inside a
    /// node, and always holds the node asked for.
    #[test]
    fn a_window_holds_a_bounded_amount_of_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        let big = "v".repeat(MAX_BYTES / 3);
        for id in 1..=6 {
            put(&store, id, "a", &big);
            put(&store, id, "b", &big);
        }
        let db = store.db();
        let ahead = RefCell::new(PropsAhead::default());
        let known = [Property::single("a", Value::String(big.clone()))];
        let got = db.props_against_ahead(&ahead, 1, &known).unwrap();
        assert_eq!(got, [Known(0), Read(Property::string("b", big.clone()))]);
        // Nodes 1 and 2 (two thirds each) pass the bound; 3 is not read.
        assert_eq!((ahead.borrow().from, ahead.borrow().to), (1, 3));
        assert_eq!(ahead.borrow().rows.len(), 4);
        let got = db.props_against_ahead(&ahead, 3, &known).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(ahead.borrow().from, 3);
    }
}
