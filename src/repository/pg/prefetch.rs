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
use crate::repository::content::{NodeId, NodeRecord};
use crate::repository::sqlite::codec;
use crate::repository::Result;
use crate::value::Property;

/// Nodes one read ahead reads at most.
pub(crate) const NODES: i64 = 2048;

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
    /// Reads ahead below node `top` (known to the cache, not complete), as the
    /// module says. Outside a write transaction, or when `top`'s children were
    /// all read before and are no longer all known, it reads nothing.
    pub(crate) fn read_below(&self, top: NodeId) -> Result<()> {
        let Some(Some(after)) = self.with_cache(|c| c.resume.get(&top).copied()) else {
            return self.read_levels(top, (i64::MIN, i64::MIN), true);
        };
        match after {
            // Read on from where the last read of its children stopped.
            Some(after) => self.read_levels(top, after, false),
            None => Ok(()),
        }
    }

    /// Reads the levels below `top`, its own children after `(position, id)`
    /// `after`; `whole` when that is all of them (`top` may become complete).
    fn read_levels(&self, top: NodeId, after: (i64, i64), whole: bool) -> Result<()> {
        let sql = level_sql();
        let mut frontier = vec![top];
        let mut from = (top, after.0, after.1);
        let mut nodes = NODES;
        let mut bytes = BYTES;
        let mut first = true;
        while !frontier.is_empty() && nodes > 0 && bytes > 0 {
            let level = self.level(&sql, &frontier, from, nodes, bytes)?;
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
            self.keep_level(&frontier, &level, first && !whole)?;
            if first {
                // Where to read on; `None`: read through, not again.
                let on = match level.nodes.last() {
                    Some((r, _)) if level.cut => Some((r.position, r.id)),
                    _ => None,
                };
                self.with_cache(|c| c.resume.insert(top, on));
            }
            if level.cut {
                break;
            }
            frontier = level.nodes.iter().map(|(r, _)| r.id).collect();
            from = (i64::MIN, i64::MIN, i64::MIN);
            first = false;
        }
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

    /// Keeps what `level` read below `frontier`: every node with its properties;
    /// the children of each parent whose children all came (all of `frontier`
    /// when the level was not cut short, else those before the last parent
    /// read), unless `partial` (its first parent's children came only from a
    /// place on).
    fn keep_level(&self, frontier: &[NodeId], level: &Level, partial: bool) -> Result<()> {
        let last_parent = level.nodes.last().and_then(|(r, _)| r.parent);
        self.with_cache(|c| {
            let mut i = 0;
            let mut parents: Vec<NodeId> = frontier.to_vec();
            parents.sort_unstable();
            for parent in parents {
                let start = i;
                while i < level.nodes.len() && level.nodes[i].0.parent == Some(parent) {
                    i += 1;
                }
                let kids = &level.nodes[start..i];
                let records: Vec<NodeRecord> = kids.iter().map(|(r, _)| r.clone()).collect();
                let all = !(partial && parent == frontier[0])
                    && (!level.cut || last_parent.is_some_and(|l| parent < l));
                if all {
                    c.put_children(parent, &records);
                } else {
                    for r in &records {
                        c.put_node(r);
                    }
                }
                for (r, props) in kids {
                    c.put_props(r.id, props);
                }
            }
        });
        Ok(())
    }
}
