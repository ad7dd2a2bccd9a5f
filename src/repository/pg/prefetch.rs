//! Reading ahead below an existing folder in a write transaction: a re-import
//! walks existing content node by node (is it there, what are its properties,
//! which children does it have), and each of those reads would be a round trip.
//!
//! When a write transaction asks for a path the cache does not know, below a
//! node it knows that is not complete, [`PgDb::read_below`] reads that node's
//! descendants level by level, each level one statement: the children of every
//! node of the level before, in (parent, position, id) order, each with all
//! its properties. What it reads goes into the cache ([`super::cache`]): a
//! parent whose children all came is complete, so a path below it that is not
//! among them is free without asking, its children are listed and its last
//! position known. A read stops at [`NODES`] nodes or about [`BYTES`] bytes of
//! properties (so memory stays bounded whatever the repository holds); a level
//! cut short leaves the parents it did not finish incomplete, and a folder whose
//! own children were cut short is read on from where the read stopped the next
//! time ([`TxnCache::resume`](super::cache::TxnCache::resume)).
//!
//! Nothing here changes what a read answers: the cache answers as the server
//! would (the transaction holds the write lock, and every write keeps the cache
//! right).

use super::content::NODE_COLS;
use super::PgDb;
use crate::path;
use crate::repository::content::{NodeId, NodeRecord};
use crate::repository::sqlite::codec;
use crate::repository::Result;
use crate::value::Property;
use std::ops::Bound::Excluded;

/// Nodes one read ahead reads at most.
pub(crate) const NODES: i64 = 2048;

/// Bytes of property names and values one read ahead reads at most (beyond its
/// first node, which it always reads).
pub(crate) const BYTES: i64 = 4 << 20;

/// Known paths [`PgDb::siblings_after`] looks through at most.
const SCAN: usize = 4 * NODES as usize;

/// What a row of a level takes beyond its properties, about (for [`BYTES`]).
const ROW_BYTES: i64 = 256;

/// The children of the nodes `$1` with (parent, position, id) after `($2, $3,
/// $4)`, in that order, each with its properties in name order, at most `$5`
/// rows and, past the first, about `$6` bytes; `total` is how many there were
/// without the byte cap, up to `$5 + 1` (more than came back: the caps cut the
/// level short); last, whether the node has children. Only the first `$5 + 1`
/// children are read with their properties: a level below a folder of many
/// children reads what it returns, not all of them (at 1M nodes the level
/// reads were 17.5 s of the import's server time, 69 ms a call).
fn level_sql() -> String {
    let cols = NODE_COLS
        .split(", ")
        .map(|c| format!("n.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {NODE_COLS}, names, types, multiples, vals, total,
                EXISTS(SELECT 1 FROM node k WHERE k.parent = t.id) FROM (
           SELECT {cols},
                  coalesce(p.names, '{{}}') AS names, coalesce(p.types, '{{}}') AS types,
                  coalesce(p.multiples, '{{}}') AS multiples, coalesce(p.vals, '{{}}') AS vals,
                  sum(coalesce(p.bytes, 0) + {ROW_BYTES})
                    OVER (ORDER BY n.parent, n.position, n.id) - coalesce(p.bytes, 0) - {ROW_BYTES}
                    AS before,
                  count(*) OVER () AS total
           FROM (SELECT {NODE_COLS} FROM node
                 WHERE parent = ANY($1) AND (parent, position, id) > ($2::int8, $3::int8, $4::int8)
                 ORDER BY parent, position, id
                 LIMIT $5::int8 + 1) n
           LEFT JOIN LATERAL (
             SELECT array_agg(name ORDER BY name) AS names,
                    array_agg(type ORDER BY name) AS types,
                    array_agg(multiple ORDER BY name) AS multiples,
                    array_agg(value ORDER BY name) AS vals,
                    sum(octet_length(name) + octet_length(value)) AS bytes
             FROM prop WHERE prop.node = n.id) p ON true
         ) t
         WHERE before < $6::int8
         ORDER BY parent, position, id
         LIMIT $5::int8"
    )
}

/// A node as a level read it: its record, its properties, and whether it has
/// children (when not, it is complete: nothing below it is read ahead).
struct Read {
    record: NodeRecord,
    props: Vec<Property>,
    parent_of: bool,
}

/// One level as read: the nodes, and whether the caps cut it short.
struct Level {
    nodes: Vec<Read>,
    cut: bool,
}

impl PgDb {
    /// Reads ahead below node `top` (known to the cache, not complete), as the
    /// module says, and below the siblings after it that are not complete
    /// either ([`PgDb::siblings_after`]). Outside a write transaction, or when
    /// `top`'s children were all read before and are no longer all known, it
    /// reads nothing.
    pub(crate) fn read_below(&self, top: NodeId) -> Result<()> {
        let Some(Some(after)) = self.with_cache(|c| c.resume.get(&top).copied()) else {
            let mut tops = vec![top];
            tops.extend(self.siblings_after(top));
            return self.read_levels(&tops, (i64::MIN, i64::MIN), true);
        };
        match after {
            // Read on from where the last read of its children stopped.
            Some(after) => self.read_levels(&[top], after, false),
            None => Ok(()),
        }
    }

    /// The siblings of `top` after it in path order that a read ahead may
    /// start from as well: known at their paths, not complete, never read ahead
    /// below, and of larger id (a level comes in id order of the parents, so
    /// `top`'s children come first); at most [`NODES`] of them, among at most
    /// [`SCAN`] known paths. An install walks them next: their subtrees come a
    /// level a statement for all of them, rather than a level a statement for
    /// each. Their parent need not be complete (a read ahead cut short leaves
    /// it so).
    fn siblings_after(&self, top: NodeId) -> Vec<NodeId> {
        self.with_cache(|c| {
            let Some(Some(r)) = c.nodes.get(&top) else {
                return Vec::new();
            };
            let Some(parent) = r
                .parent
                .and_then(|p| path::parent(&r.path).map(|pp| (p, pp)))
            else {
                return Vec::new();
            };
            let (_, hi) = super::content::descendant_bounds(parent.1);
            c.paths
                .range(r.ws, Excluded(&r.path), Excluded(&hi))
                .take(SCAN)
                .filter_map(|(p, id)| {
                    let id = (*id)?;
                    let k = c.nodes.get(&id)?.as_ref()?;
                    (id > top
                        && k.parent == Some(parent.0)
                        && k.path == p
                        && !c.resume.contains_key(&id)
                        && c.may_read_below(id))
                    .then_some(id)
                })
                .take(NODES as usize)
                .collect()
        })
        .unwrap_or_default()
    }

    /// Reads the levels below `tops` (`tops[0]` the lowest id), the children of
    /// `tops[0]` after `(position, id)` `after`; `whole` when that is all of
    /// them (`tops[0]` may become complete).
    fn read_levels(&self, tops: &[NodeId], after: (i64, i64), whole: bool) -> Result<()> {
        let sql = level_sql();
        let mut frontier = tops.to_vec();
        let mut from = (tops[0], after.0, after.1);
        let mut nodes = NODES;
        let mut bytes = BYTES;
        let mut first = true;
        while !frontier.is_empty() && nodes > 0 && bytes > 0 {
            let level = self.level(&sql, &frontier, from, nodes, bytes)?;
            nodes -= level.nodes.len() as i64;
            bytes -= level
                .nodes
                .iter()
                .map(|n| {
                    ROW_BYTES
                        + n.props
                            .iter()
                            .map(|p| super::cache::prop_bytes(p) as i64)
                            .sum::<i64>()
                })
                .sum::<i64>();
            self.keep_level(&frontier, &level, first && !whole)?;
            if first {
                self.keep_resume(tops, &level);
            }
            if level.cut {
                break;
            }
            frontier = level
                .nodes
                .iter()
                .filter(|n| n.parent_of)
                .map(|n| n.record.id)
                .collect();
            from = (i64::MIN, i64::MIN, i64::MIN);
            first = false;
        }
        Ok(())
    }

    /// Records where to read on below each of `tops`, whose children `level`
    /// read: `None` for those read through (not read ahead below again), the
    /// place of the last child read for the one the caps cut short; nothing for
    /// those after it, which the level did not reach.
    fn keep_resume(&self, tops: &[NodeId], level: &Level) {
        let last = level.nodes.last().map(|n| &n.record);
        self.with_cache(|c| {
            for &top in tops {
                match last {
                    Some(r) if level.cut && r.parent == Some(top) => {
                        c.resume.insert(top, Some((r.position, r.id)));
                    }
                    Some(r) if level.cut && r.parent.is_some_and(|p| p < top) => {}
                    _ => {
                        c.resume.insert(top, None);
                    }
                }
            }
        });
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
            let parent_of: bool = self.get(r, 13)?;
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
            out.push(Read {
                record,
                props,
                parent_of,
            });
        }
        Ok(Level {
            cut: (out.len() as i64) < total,
            nodes: out,
        })
    }

    /// Keeps what `level` read below `frontier`: every node with its properties,
    /// complete when it has no children; the children of each parent whose
    /// children all came (all of `frontier` when the level was not cut short,
    /// else those before the last parent read), unless `partial` (its first
    /// parent's children came only from a place on).
    fn keep_level(&self, frontier: &[NodeId], level: &Level, partial: bool) -> Result<()> {
        let last_parent = level.nodes.last().and_then(|n| n.record.parent);
        self.with_cache(|c| {
            let mut i = 0;
            let mut parents: Vec<NodeId> = frontier.to_vec();
            parents.sort_unstable();
            for parent in parents {
                let start = i;
                while i < level.nodes.len() && level.nodes[i].record.parent == Some(parent) {
                    i += 1;
                }
                let kids = &level.nodes[start..i];
                let records: Vec<NodeRecord> = kids.iter().map(|n| n.record.clone()).collect();
                let all = !(partial && parent == frontier[0])
                    && (!level.cut || last_parent.is_some_and(|l| parent < l));
                if all {
                    c.put_children(parent, &records);
                } else {
                    for r in &records {
                        c.put_node(r);
                    }
                }
                for n in kids {
                    c.put_props(n.record.id, &n.props);
                    if !n.parent_of {
                        c.put_children(n.record.id, &[]);
                    }
                }
            }
        });
        Ok(())
    }
}
