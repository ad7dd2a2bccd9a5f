//! [`SnapshotRead`] on PostgreSQL: the export's reads in few round trips.
//!
//! Asked node by node, an export costs a round trip for each node's children and
//! another for its properties (about 5.5 statements a node with the survey's walk:
//! 579,606 for the 100k-node content). Here the reads are batched ahead of the
//! export's walk, inside the connection's `REPEATABLE READ READ ONLY` snapshot:
//!
//! - **Children.** When the export asks for the children of a node that nothing
//!   fetched yet, one statement lists the children of a whole group of nodes
//!   (`parent = ANY($1)`): the asked node and the nodes listed beside it that have
//!   children of their own, in the order they were listed. Then it goes down level
//!   by level, each level one statement over every parent of the level before,
//!   until [`BUDGET`] nodes are read: a batch reads whole families breadth first,
//!   which the export then walks depth first. Nodes whose children did not fit wait
//!   (`ahead`), with their place among the nodes fetched beside them, and the next
//!   request for one of them fetches from there on.
//! - **Properties.** The first request for the properties of a fetched node reads
//!   those of up to [`PROPS_CHUNK`] nodes of its batch, from it on, in one statement
//!   (`node = ANY($1)`).
//! - **Survey.** [`SnapshotRead::scan`] reads the policy nodes and the references in
//!   two statements through cursors, [`SCAN_PAGE`] rows a fetch.
//!
//! Each listed node carries the number of its children (from the `node_children`
//! index), which sizes the batches. Memory is bounded: a batch holds [`BUDGET`]
//! nodes unless one family alone is larger (which the export holds anyway), what
//! the export has taken is dropped (the properties of the last few nodes are kept,
//! as the exporter reads a node's twice), and when more than [`MAX_HELD`] nodes
//! wait unread (content the filter leaves out) everything fetched ahead is
//! forgotten and read again when asked for.

use super::ReadSnapshot;
use crate::path;
use crate::repository::pg::PgDb;
use crate::repository::sqlite::codec;
use crate::repository::{NodeInfo, Result, ScanHit, SnapshotNode, SnapshotRead};
use crate::value::{Property, PropertyType};
use postgres::Row;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// Nodes one batch of children reads (more when one family alone is larger).
pub(crate) const BUDGET: i64 = 2048;

/// Nodes whose properties one statement reads.
pub(crate) const PROPS_CHUNK: usize = 1024;

/// Fetched nodes (children listed, properties read) that may wait unread before
/// the cache is emptied (eight times as many waiting handles).
pub(crate) const MAX_HELD: usize = 32_768;

/// Properties of the last nodes read, kept for a second read.
const RECENT: usize = 8;

/// Rows a cursor fetch of the survey's scan reads.
pub(crate) const SCAN_PAGE: i64 = 1000;

/// The columns of every node query (as the SQLite backend's snapshot), then the
/// number of children and the parent.
macro_rules! cols {
    () => {
        "SELECT n.id, n.name, n.path, n.ptype, n.mixins, u.value,
            (SELECT count(*) FROM node k WHERE k.parent = n.id),
            c.id IS NOT NULL,
            EXISTS(SELECT 1 FROM prop d WHERE d.node = n.id AND d.name = 'jcr:data'),
            EXISTS(SELECT 1 FROM prop e WHERE e.node = c.id AND e.name = 'jcr:data'),
            n.parent
         FROM node n
         LEFT JOIN prop u ON u.node = n.id AND u.name = 'jcr:uuid'"
    };
}

const NODE_SQL: &str = concat!(
    cols!(),
    " LEFT JOIN node c ON c.ws = n.ws AND md5(c.path) = md5($3) AND c.path = $3
     WHERE n.ws = $1 AND md5(n.path) = md5($2) AND n.path = $2"
);

/// The children of many parents, by parent, each parent's in order.
const CHILDREN_SQL: &str = concat!(
    cols!(),
    " LEFT JOIN node c ON c.ws = n.ws AND md5(c.path) = md5(n.path || '/jcr:content')
       AND c.path = n.path || '/jcr:content'
     WHERE n.parent = ANY($1) ORDER BY n.parent, n.position, n.id"
);

/// The properties of many nodes, by node, each node's by name.
const PROPS_SQL: &str =
    "SELECT node, name, type, multiple, value FROM prop WHERE node = ANY($1) ORDER BY node, name";

/// A listed node and its number of children.
type Listed = (SnapshotNode, i64);

/// Nodes fetched together, and one's place among them.
type Place<T> = (Rc<Vec<T>>, usize);

/// What was fetched ahead of the export; see the module doc.
#[derive(Default)]
struct Ahead {
    /// Children lists by parent handle, taken when asked for.
    children: HashMap<i64, Vec<Listed>>,
    /// Properties by node handle, taken when asked for.
    props: HashMap<i64, Vec<Property>>,
    /// The properties last taken, for a second read.
    recent: VecDeque<(i64, Vec<Property>)>,
    /// Nodes with children not yet fetched: the nodes (with their numbers of
    /// children) they wait with, and their place there.
    parents: HashMap<i64, Place<(i64, i64)>>,
    /// Nodes whose properties are not yet fetched: the nodes fetched with them,
    /// and their place there.
    unread: HashMap<i64, Place<i64>>,
    /// Listed nodes and property sets held.
    held: usize,
}

impl Ahead {
    fn clear(&mut self) {
        self.children.clear();
        self.props.clear();
        self.parents.clear();
        self.unread.clear();
        self.held = 0;
    }
}

/// [`SnapshotRead`] of one workspace in the connection's read snapshot.
pub(super) struct PgSnapshot<'a> {
    db: &'a PgDb,
    ws: i64,
    ahead: RefCell<Ahead>,
    /// [`BUDGET`] and [`MAX_HELD`] (smaller in tests).
    budget: i64,
    max_held: usize,
    /// Statements sent (for tests and logs).
    statements: std::cell::Cell<u64>,
    _snapshot: ReadSnapshot<'a>,
}

impl<'a> PgSnapshot<'a> {
    pub(super) fn new(db: &'a PgDb, ws: i64, snapshot: ReadSnapshot<'a>) -> PgSnapshot<'a> {
        PgSnapshot {
            db,
            ws,
            ahead: RefCell::new(Ahead::default()),
            budget: BUDGET,
            max_held: MAX_HELD,
            statements: std::cell::Cell::new(0),
            _snapshot: snapshot,
        }
    }

    /// The statements it sent so far.
    pub(super) fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// Smaller batches and cache (tests of waiting and forgetting).
    #[cfg(test)]
    pub(super) fn set_limits(&mut self, budget: i64, max_held: usize) {
        self.budget = budget;
        self.max_held = max_held;
    }

    /// Runs a query, counting it.
    fn query(&self, sql: &str, args: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<Vec<Row>> {
        self.statements.set(self.statements.get() + 1);
        self.db.query(sql, args)
    }

    /// A node row: the node, its number of children and its parent.
    fn node_row(&self, r: &Row) -> Result<(SnapshotNode, i64, Option<i64>)> {
        let db = self.db;
        let p: String = db.get(r, 2)?;
        let mixins: String = db.get(r, 4)?;
        let index = if p == "/" {
            1
        } else {
            crate::path::Segment::parse(path::last_segment(&p))
                .map(|s| s.index)
                .map_err(|e| db.corrupt(format!("stored path {p} is invalid: {e}")))?
        };
        let count: i64 = db.get(r, 6)?;
        let node = SnapshotNode {
            info: NodeInfo {
                name: db.get(r, 1)?,
                index,
                primary_type: db.get(r, 3)?,
                mixins: codec::decode_mixins(&mixins).map_err(|e| db.corrupt(e))?,
                uuid: db.get(r, 5)?,
                path: p,
            },
            handle: db.get(r, 0)?,
            has_children: count > 0,
            has_content_child: db.get(r, 7)?,
            has_data: db.get(r, 8)?,
            content_has_data: db.get(r, 9)?,
        };
        Ok((node, count, db.get(r, 10)?))
    }

    fn prop_row(&self, r: &Row) -> Result<(i64, Property)> {
        let db = self.db;
        let node: i64 = db.get(r, 0)?;
        let name: String = db.get(r, 1)?;
        let code: i32 = db.get(r, 2)?;
        let multiple: bool = db.get(r, 3)?;
        let raw: String = db.get(r, 4)?;
        let p = codec::decode_property(&name, i64::from(code), multiple, &raw)
            .map_err(|e| db.corrupt(e))?;
        Ok((node, p))
    }

    /// Fetches the children of `node` (not fetched yet) and of the nodes waiting
    /// with it, then level by level below them within [`BUDGET`].
    fn fetch_children(&self, node: &SnapshotNode) -> Result<()> {
        let mut ahead = self.ahead.borrow_mut();
        let max = self.max_held;
        if ahead.held > max || ahead.parents.len() + ahead.unread.len() > 8 * max {
            ahead.clear();
        }
        // The first level: `node` and the nodes after it in its group.
        let mut level: Vec<i64> = match ahead.parents.get(&node.handle).cloned() {
            Some((group, at)) => {
                let mut total = 0;
                let mut level = Vec::new();
                for &(h, count) in &group[at..] {
                    if !level.is_empty() && total + count > self.budget {
                        break;
                    }
                    if ahead.parents.remove(&h).is_some() {
                        total += count;
                        level.push(h);
                    }
                }
                level
            }
            None => vec![node.handle],
        };
        let mut budget = self.budget;
        let mut fetched: Vec<i64> = Vec::new();
        loop {
            let rows = self.query(CHILDREN_SQL, &[&level])?;
            budget -= rows.len() as i64;
            let mut lists: HashMap<i64, Vec<Listed>> = HashMap::with_capacity(level.len());
            for r in &rows {
                let (child, count, parent) = self.node_row(r)?;
                let parent = parent.ok_or_else(|| {
                    self.db
                        .corrupt(format!("{} is listed without a parent", child.info.path))
                })?;
                fetched.push(child.handle);
                lists.entry(parent).or_default().push((child, count));
            }
            drop(rows);
            // The next level: the listed nodes with children, in the order listed.
            let mut next: Vec<(i64, i64)> = Vec::new();
            for parent in &level {
                let list = lists.remove(parent).unwrap_or_default();
                next.extend(
                    list.iter()
                        .filter(|(_, count)| *count > 0)
                        .map(|(c, count)| (c.handle, *count)),
                );
                ahead.held += list.len();
                ahead.children.insert(*parent, list);
            }
            let mut total = 0;
            let fits = next
                .iter()
                .take_while(|(_, count)| {
                    total += count;
                    total <= budget
                })
                .count();
            let rest = Rc::new(next.split_off(fits));
            for i in 0..rest.len() {
                ahead.parents.insert(rest[i].0, (rest.clone(), i));
            }
            if next.is_empty() {
                break;
            }
            level = next.into_iter().map(|(h, _)| h).collect();
        }
        let fetched = Rc::new(fetched);
        for (i, h) in fetched.iter().enumerate() {
            ahead.unread.insert(*h, (fetched.clone(), i));
        }
        Ok(())
    }

    /// The children of `node` with their numbers of children, fetched if needed;
    /// `take` removes them from what was fetched ahead.
    fn listed(&self, node: &SnapshotNode, take: bool) -> Result<Vec<Listed>> {
        if !node.has_children {
            return Ok(Vec::new());
        }
        if !self.ahead.borrow().children.contains_key(&node.handle) {
            self.fetch_children(node)?;
        }
        let mut ahead = self.ahead.borrow_mut();
        let list = if take {
            let list = ahead.children.remove(&node.handle);
            let n = list.as_ref().map_or(0, Vec::len);
            ahead.held = ahead.held.saturating_sub(n);
            list
        } else {
            ahead.children.get(&node.handle).cloned()
        };
        list.ok_or_else(|| {
            self.db.corrupt(format!(
                "the children of {} were not fetched",
                node.info.path
            ))
        })
    }

    /// Fetches the properties of `handle` (not fetched yet) and of the nodes
    /// after it in its batch, or of `handle` alone when it is in none.
    fn fetch_props(&self, handle: i64) -> Result<()> {
        let mut ahead = self.ahead.borrow_mut();
        let chunk: Vec<i64> = match ahead.unread.get(&handle).cloned() {
            Some((batch, at)) => batch[at..]
                .iter()
                .copied()
                .filter(|h| ahead.unread.remove(h).is_some())
                .take(PROPS_CHUNK)
                .collect(),
            None => vec![handle],
        };
        let mut props: HashMap<i64, Vec<Property>> =
            chunk.iter().map(|h| (*h, Vec::new())).collect();
        for r in &self.query(PROPS_SQL, &[&chunk])? {
            let (node, p) = self.prop_row(r)?;
            props.entry(node).or_default().push(p);
        }
        ahead.held += props.len();
        ahead.props.extend(props);
        Ok(())
    }

    /// Runs `sql` through a cursor, [`SCAN_PAGE`] rows a round trip, handing each
    /// row to `each` outside the connection's lock.
    fn each_row(
        &self,
        cursor: &str,
        sql: &str,
        mut each: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let db = self.db;
        self.statements.set(self.statements.get() + 2);
        db.batch(&format!("DECLARE {cursor} NO SCROLL CURSOR FOR {sql}"))?;
        let fetch = format!("FETCH {SCAN_PAGE} FROM {cursor}");
        let read = (|| loop {
            self.statements.set(self.statements.get() + 1);
            let rows = {
                let mut c = db.lock()?;
                c.client
                    .get()
                    .query(fetch.as_str(), &[])
                    .map_err(|e| db.err(e))?
            };
            if rows.is_empty() {
                return Ok(());
            }
            for r in &rows {
                each(r)?;
            }
        })();
        // After an error the transaction may be aborted: closing fails too, and
        // the first error is the one to report.
        let closed = db.batch(&format!("CLOSE {cursor}"));
        read.and(closed)
    }
}

impl Drop for PgSnapshot<'_> {
    fn drop(&mut self) {
        tracing::debug!("the snapshot read sent {} statements", self.statements());
    }
}

impl SnapshotRead for PgSnapshot<'_> {
    fn node(&self, p: &str) -> Result<Option<SnapshotNode>> {
        let p = path::normalize(p)?;
        let content = path::join(&p, "jcr:content");
        match self.query(NODE_SQL, &[&self.ws, &p, &content])?.first() {
            Some(r) => self.node_row(r).map(|(n, _, _)| Some(n)),
            None => Ok(None),
        }
    }

    fn children(&self, node: &SnapshotNode) -> Result<Vec<SnapshotNode>> {
        Ok(self
            .listed(node, true)?
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    fn child(&self, node: &SnapshotNode, name: &str) -> Result<Option<SnapshotNode>> {
        Ok(self
            .listed(node, false)?
            .into_iter()
            .map(|(c, _)| c)
            .find(|c| c.info.name == name && c.info.index == 1))
    }

    fn properties(&self, node: &SnapshotNode) -> Result<Vec<Property>> {
        let h = node.handle;
        {
            let ahead = self.ahead.borrow();
            if let Some((_, props)) = ahead.recent.iter().find(|(k, _)| *k == h) {
                return Ok(props.clone());
            }
        }
        if !self.ahead.borrow().props.contains_key(&h) {
            self.fetch_props(h)?;
        }
        let mut ahead = self.ahead.borrow_mut();
        let props = ahead.props.remove(&h).ok_or_else(|| {
            self.db
                .corrupt(format!("{}: no properties", node.info.path))
        })?;
        ahead.held = ahead.held.saturating_sub(1);
        if ahead.recent.len() == RECENT {
            ahead.recent.pop_front();
        }
        ahead.recent.push_back((h, props.clone()));
        Ok(props)
    }

    /// Two statements whatever the content's size, read through cursors: the
    /// `node` table for the names, and the `prop` table for the two reference
    /// types joined to their nodes' paths.
    fn scan(&self, names: &[&str], each: &mut dyn FnMut(ScanHit<'_>)) -> Result<bool> {
        let db = self.db;
        let ws = self.ws;
        if !names.is_empty() {
            // Literals: a cursor's statement takes no parameters.
            let list = names
                .iter()
                .map(|n| format!("'{}'", n.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(", ");
            self.each_row(
                "jcrpack_scan_names",
                &format!("SELECT path FROM node WHERE ws = {ws} AND name IN ({list})"),
                |r| {
                    let p: String = db.get(r, 0)?;
                    each(ScanHit::Named(&p));
                    Ok(())
                },
            )?;
        }
        let (reference, weak) = (
            codec::type_code(PropertyType::Reference),
            codec::type_code(PropertyType::WeakReference),
        );
        self.each_row(
            "jcrpack_scan_refs",
            &format!(
                "SELECT n.path, p.name, p.type, p.multiple, p.value
                 FROM prop p JOIN node n ON n.id = p.node
                 WHERE p.type IN ({reference}, {weak}) AND n.ws = {ws}"
            ),
            |r| {
                let p: String = db.get(r, 0)?;
                let name: String = db.get(r, 1)?;
                let code: i32 = db.get(r, 2)?;
                let multiple: bool = db.get(r, 3)?;
                let raw: String = db.get(r, 4)?;
                let property = codec::decode_property(&name, i64::from(code), multiple, &raw)
                    .map_err(|e| db.corrupt(e))?;
                each(ScanHit::Reference(&p, &property));
                Ok(())
            },
        )?;
        Ok(true)
    }
}
