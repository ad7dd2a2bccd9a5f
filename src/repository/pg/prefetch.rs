//! Reading ahead below an existing folder in a write transaction: a re-import
//! walks existing content node by node (is it there, what are its properties,
//! which children does it have), and each of those reads would be a round trip.
//!
//! When a write transaction asks for a path the cache does not know below a node
//! it knows that is not complete, or for the children of such a node,
//! [`PgDb::read_below`] reads that node's descendants level by level, breadth
//! first, each level one statement: the children of every node of the level
//! before, in (parent, position, id) order, each with all its properties. What
//! it reads goes into the cache ([`super::cache`]): a parent whose children all
//! came is complete, so a path below it that is not among them is free without
//! asking, its children are listed and its last position known.
//!
//! A read ahead stops at [`NODES`] nodes or about [`BYTES`] bytes of properties,
//! so memory stays bounded whatever the repository holds. Where it stopped is
//! kept ([`ReadAhead`]): the level it was reading (a level cut short, from the
//! row after the last one read) or the next one. A later read ahead below one of
//! those nodes reads on from there, so a large tree is read a few thousand nodes
//! a statement a level, not a folder a statement. A node whose children were read
//! in two pieces is not complete (the first piece may be forgotten by then), but
//! it is not read ahead below again (`read_through`): a folder larger than a read
//! ahead, where an install adds nodes, is read once.
//!
//! Nothing here changes what a read answers: the cache answers as the server
//! would (the transaction holds the write lock, and every write keeps the cache
//! right).

use super::content::NODE_COLS;
use super::PgDb;
use crate::repository::content::{NodeId, NodeRecord};
use crate::repository::sqlite::codec;
use crate::repository::Result;
use crate::value::Property;

/// Where the last read ahead stopped: the nodes of the level it was reading
/// (sorted), whose children after `after` (parent, position, id) are not read
/// yet, and the nodes it read of that level (sorted), whose children are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadAhead {
    pub(crate) frontier: Vec<NodeId>,
    pub(crate) after: (NodeId, i64, i64),
    pub(crate) read: Vec<NodeId>,
}

/// The start of a level: before every (parent, position, id).
const START: (NodeId, i64, i64) = (i64::MIN, i64::MIN, i64::MIN);

impl ReadAhead {
    /// Where to read on from for the children of node `id`: the rest of the
    /// level (with the nodes read of it), or the next level.
    fn on_for(self, id: NodeId) -> Option<(Vec<NodeId>, (NodeId, i64, i64), Vec<NodeId>)> {
        if id >= self.after.0 && self.frontier.binary_search(&id).is_ok() {
            Some((self.frontier, self.after, self.read))
        } else if self.read.binary_search(&id).is_ok() {
            Some((self.read, START, Vec::new()))
        } else {
            None
        }
    }
}

/// Nodes one read ahead reads at most.
pub(crate) const NODES: i64 = 256;

/// Bytes of property names and values one read ahead reads at most (beyond its
/// first node, which it always reads).
pub(crate) const BYTES: i64 = 4 << 20;

/// What a row of a level takes beyond its properties, about (for [`BYTES`]).
const ROW_BYTES: i64 = 256;

/// The children of the nodes `$1` with (parent, position, id) after `($2, $3,
/// $4)`, in that order, each with its properties in name order, at most `$5`
/// rows and, past the first, about `$6` bytes; `total` is how many there were
/// without the two caps.
fn level_sql() -> String {
    let cols = NODE_COLS
        .split(", ")
        .map(|c| format!("n.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {NODE_COLS}, names, types, multiples, vals, total FROM (
           SELECT {cols},
                  coalesce(p.names, '{{}}') AS names, coalesce(p.types, '{{}}') AS types,
                  coalesce(p.multiples, '{{}}') AS multiples, coalesce(p.vals, '{{}}') AS vals,
                  sum(coalesce(p.bytes, 0) + {ROW_BYTES})
                    OVER (ORDER BY n.parent, n.position, n.id) - coalesce(p.bytes, 0) - {ROW_BYTES}
                    AS before,
                  count(*) OVER () AS total
           FROM node n
           LEFT JOIN LATERAL (
             SELECT array_agg(name ORDER BY name) AS names,
                    array_agg(type ORDER BY name) AS types,
                    array_agg(multiple ORDER BY name) AS multiples,
                    array_agg(value ORDER BY name) AS vals,
                    sum(octet_length(name) + octet_length(value)) AS bytes
             FROM prop WHERE prop.node = n.id) p ON true
           WHERE n.parent = ANY($1) AND (n.parent, n.position, n.id) > ($2::int8, $3::int8, $4::int8)
         ) t
         WHERE before < $6::int8
         ORDER BY parent, position, id
         LIMIT $5::int8"
    )
}

/// One level as read: the nodes with their properties, and whether the caps cut
/// it short.
struct Level {
    nodes: Vec<(NodeRecord, Vec<Property>)>,
    cut: bool,
}

impl PgDb {
    /// Reads ahead below node `top` (known to the cache at its path, not
    /// complete), as the module says: on from where the last read ahead stopped
    /// when that was below `top`'s parent's level, else from `top`.
    pub(crate) fn read_below(&self, top: NodeId) -> Result<()> {
        let on = self
            .with_cache(|c| c.read_ahead.clone().and_then(|r| r.on_for(top)))
            .flatten();
        match on {
            Some((frontier, after, read)) => self.read_levels(frontier, after, read),
            None => self.read_levels(vec![top], START, Vec::new()),
        }
    }

    /// Reads the levels below `frontier` (sorted), its nodes' children after
    /// `after` first, as the module says; `read` are the nodes of `frontier`'s
    /// level read before (their children come in the next level).
    fn read_levels(
        &self,
        mut frontier: Vec<NodeId>,
        mut after: (NodeId, i64, i64),
        mut read: Vec<NodeId>,
    ) -> Result<()> {
        let sql = level_sql();
        let mut nodes = NODES;
        let mut bytes = BYTES;
        let stop = loop {
            let level = self.level(&sql, &frontier, after, nodes, bytes)?;
            nodes -= level.nodes.len() as i64;
            bytes -= level
                .nodes
                .iter()
                .map(|(_, props)| {
                    ROW_BYTES
                        + props
                            .iter()
                            .map(|p| super::cache::prop_bytes(p) as i64)
                            .sum::<i64>()
                })
                .sum::<i64>();
            self.keep_level(&frontier, after, &level);
            read.extend(level.nodes.iter().map(|(r, _)| r.id));
            read.sort_unstable();
            if level.cut {
                let after = level.nodes.last().map_or(START, |(r, _)| {
                    (r.parent.unwrap_or(START.0), r.position, r.id)
                });
                break Some(ReadAhead {
                    frontier,
                    after,
                    read,
                });
            }
            if read.is_empty() {
                break None;
            }
            frontier = std::mem::take(&mut read);
            after = START;
            if nodes <= 0 || bytes <= 0 {
                break Some(ReadAhead {
                    frontier,
                    after,
                    read,
                });
            }
        };
        self.with_cache(|c| c.read_ahead = stop);
        Ok(())
    }

    /// Reads one level (see [`level_sql`]).
    fn level(
        &self,
        sql: &str,
        frontier: &[NodeId],
        from: (NodeId, i64, i64),
        nodes: i64,
        bytes: i64,
    ) -> Result<Level> {
        let rows = self.read(
            sql,
            &[&frontier, &from.0, &from.1, &from.2, &nodes, &bytes],
            |b| frontier.iter().any(|&i| b.holds_children_of(i)),
        )?;
        let mut out = Vec::with_capacity(rows.len());
        let mut total = 0i64;
        for r in &rows {
            let record = self.record(r)?;
            let names: Vec<String> = self.get(r, 8)?;
            let types: Vec<i32> = self.get(r, 9)?;
            let multiples: Vec<bool> = self.get(r, 10)?;
            let values: Vec<String> = self.get(r, 11)?;
            total = self.get(r, 12)?;
            if names.len() != types.len()
                || names.len() != multiples.len()
                || names.len() != values.len()
            {
                return Err(self.corrupt(format!(
                    "the properties of {} read back in lists of different lengths",
                    record.path
                )));
            }
            let mut props = Vec::with_capacity(names.len());
            for (((name, code), multiple), value) in
                names.iter().zip(&types).zip(&multiples).zip(&values)
            {
                props.push(
                    codec::decode_property(name, *code as i64, *multiple, value)
                        .map_err(|e| self.corrupt(e))?,
                );
            }
            out.push((record, props));
        }
        Ok(Level {
            cut: (out.len() as i64) < total,
            nodes: out,
        })
    }

    /// Keeps what `level` read below `frontier` from `after` on: every node with
    /// its properties, and the children of each parent whose children all came:
    /// every parent of `frontier` when the level was not cut short, else those
    /// before the last parent read; but not `after`'s parent, whose first
    /// children came before (it is read through when the level went past it).
    fn keep_level(&self, frontier: &[NodeId], after: (NodeId, i64, i64), level: &Level) {
        let last_parent = level.nodes.last().and_then(|(r, _)| r.parent);
        let partial = (after != START).then_some(after.0);
        self.with_cache(|c| {
            let mut i = 0;
            for &parent in frontier.iter().filter(|&&p| p >= after.0) {
                let start = i;
                while i < level.nodes.len() && level.nodes[i].0.parent == Some(parent) {
                    i += 1;
                }
                let kids = &level.nodes[start..i];
                let records: Vec<NodeRecord> = kids.iter().map(|(r, _)| r.clone()).collect();
                let done = !level.cut || last_parent.is_some_and(|l| parent < l);
                if done && partial != Some(parent) {
                    c.put_children(parent, &records);
                } else {
                    for r in &records {
                        c.put_node(r);
                    }
                    if done {
                        c.read_through.insert(parent);
                    }
                }
                for (r, props) in kids {
                    c.put_props(r.id, props);
                }
            }
        });
    }
}
