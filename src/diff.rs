//! Node-level and property-level differences between two states of a repository:
//! what `jcrpack diff` shows before an install writes anything.
//!
//! [`plan`] runs the real install of a package as a dry run (rolled back) and
//! compares every node it acted on with the repository before it: the list of
//! [`NodeChange`]s, deletions first. [`compare_node`] compares one node.

use crate::archive::Archive;
use crate::events::{Event, Events, Unit};
use crate::import::spill::{decode_str, encode_str, PathSet, Record, SpillLog};
use crate::import::{self, Action, ImportError, ImportOptions};
use crate::repository::{RepositoryError, Result, Store, StoreRead};
use crate::value::Property;
use serde::Serialize;

/// What happens to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The node is new.
    Added,
    /// The node is removed, with its subtree.
    Deleted,
    /// Its type, mixins or properties change.
    Changed,
}

/// How one property differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// The property name.
    pub name: String,
    /// The value before (its JCR string form; multi-values as `[a, b]`), or `None` when new.
    pub before: Option<String>,
    /// The value after, or `None` when removed.
    pub after: Option<String>,
}

/// What happens to one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeChange {
    /// The node path.
    pub path: String,
    /// Added, deleted (with its subtree) or changed (`added`, `deleted`, `changed`
    /// in JSON).
    pub change: Change,
    /// Primary type before → after, when it changes (or the type of an added node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_type: Option<(Option<String>, Option<String>)>,
    /// Mixins before → after, when they change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixins: Option<(Vec<String>, Vec<String>)>,
    /// Property changes, sorted by name.
    pub properties: Vec<PropertyChange>,
}

/// The changes of a [`plan`]: the most recent in memory, the rest in a temporary
/// file, so that a package of a million new nodes does not hold a million
/// [`NodeChange`]s (issue 16). Serializes as a JSON array, streamed.
pub type Changes = SpillLog<NodeChange>;

fn encode_opt(s: &Option<String>, out: &mut Vec<u8>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            encode_str(s, out);
        }
    }
}

fn decode_opt(bytes: &mut &[u8]) -> Option<Option<String>> {
    let (tag, rest) = bytes.split_first()?;
    *bytes = rest;
    match tag {
        0 => Some(None),
        1 => decode_str(bytes).map(Some),
        _ => None,
    }
}

fn encode_list(v: &[String], out: &mut Vec<u8>) {
    out.extend_from_slice(&(v.len() as u64).to_le_bytes());
    for s in v {
        encode_str(s, out);
    }
}

fn decode_list(bytes: &mut &[u8]) -> Option<Vec<String>> {
    let (n, rest) = bytes.split_first_chunk::<8>()?;
    let n = usize::try_from(u64::from_le_bytes(*n)).ok()?;
    *bytes = rest;
    // No capacity from the count: a damaged count must not allocate.
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(decode_str(bytes)?);
    }
    Some(v)
}

fn decode_u8(bytes: &mut &[u8]) -> Option<u8> {
    let (b, rest) = bytes.split_first()?;
    *bytes = rest;
    Some(*b)
}

impl Record for NodeChange {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_str(&self.path, out);
        out.push(match self.change {
            Change::Added => 0,
            Change::Deleted => 1,
            Change::Changed => 2,
        });
        match &self.primary_type {
            None => out.push(0),
            Some((b, a)) => {
                out.push(1);
                encode_opt(b, out);
                encode_opt(a, out);
            }
        }
        match &self.mixins {
            None => out.push(0),
            Some((b, a)) => {
                out.push(1);
                encode_list(b, out);
                encode_list(a, out);
            }
        }
        out.extend_from_slice(&(self.properties.len() as u64).to_le_bytes());
        for p in &self.properties {
            encode_str(&p.name, out);
            encode_opt(&p.before, out);
            encode_opt(&p.after, out);
        }
    }

    fn decode(bytes: &mut &[u8]) -> Option<NodeChange> {
        let path = decode_str(bytes)?;
        let change = match decode_u8(bytes)? {
            0 => Change::Added,
            1 => Change::Deleted,
            2 => Change::Changed,
            _ => return None,
        };
        let primary_type = match decode_u8(bytes)? {
            0 => None,
            1 => Some((decode_opt(bytes)?, decode_opt(bytes)?)),
            _ => return None,
        };
        let mixins = match decode_u8(bytes)? {
            0 => None,
            1 => Some((decode_list(bytes)?, decode_list(bytes)?)),
            _ => return None,
        };
        let (n, rest) = bytes.split_first_chunk::<8>()?;
        let n = usize::try_from(u64::from_le_bytes(*n)).ok()?;
        *bytes = rest;
        let mut properties = Vec::new();
        for _ in 0..n {
            properties.push(PropertyChange {
                name: decode_str(bytes)?,
                before: decode_opt(bytes)?,
                after: decode_opt(bytes)?,
            });
        }
        Some(NodeChange {
            path,
            change,
            primary_type,
            mixins,
            properties,
        })
    }
}

/// Formats a property's values for display.
pub fn display_value(p: &Property) -> String {
    let v: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
    if p.multiple {
        format!("[{}]", v.join(", "))
    } else {
        v.into_iter().next().unwrap_or_default()
    }
}

/// Compares the node at `path` in `before` and `after` (one workspace). Returns
/// `None` when nothing differs.
pub fn compare_node(
    before: &dyn StoreRead,
    after: &dyn StoreRead,
    ws: &str,
    path: &str,
) -> Result<Option<NodeChange>> {
    let b = before.node(ws, path)?;
    let a = after.node(ws, path)?;
    let (bp, ap) = (
        if b.is_some() {
            before.properties(ws, path)?
        } else {
            Vec::new()
        },
        if a.is_some() {
            after.properties(ws, path)?
        } else {
            Vec::new()
        },
    );
    let change = match (&b, &a) {
        (None, None) => return Ok(None),
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Deleted,
        (Some(_), Some(_)) => Change::Changed,
    };
    let mut properties = Vec::new();
    if change != Change::Deleted {
        let mut names: Vec<&str> = bp
            .iter()
            .chain(ap.iter())
            .map(|p| p.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            let x = bp.iter().find(|p| p.name == n);
            let y = ap.iter().find(|p| p.name == n);
            if x != y {
                properties.push(PropertyChange {
                    name: n.to_string(),
                    before: x.map(display_value),
                    after: y.map(display_value),
                });
            }
        }
    }
    let bt = b.as_ref().map(|i| i.primary_type.clone());
    let at = a.as_ref().map(|i| i.primary_type.clone());
    let primary_type = (bt != at && change != Change::Deleted).then_some((bt, at));
    let bm = b.as_ref().map(|i| i.mixins.clone()).unwrap_or_default();
    let am = a.as_ref().map(|i| i.mixins.clone()).unwrap_or_default();
    let mixins = (bm != am && change != Change::Deleted).then_some((bm, am));
    if change == Change::Changed
        && properties.is_empty()
        && primary_type.is_none()
        && mixins.is_none()
    {
        return Ok(None);
    }
    Ok(Some(NodeChange {
        path: path.to_string(),
        change,
        primary_type,
        mixins,
        properties,
    }))
}

/// Why [`plan`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The install (dry run) failed: the package cannot be installed.
    #[error("{0}")]
    Install(#[source] Box<ImportError>),
    /// Reading a node before or after the install failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
    /// The install's list of changes, spilled to disk, could not be read back.
    #[error("the list of changes could not be read back: {0}")]
    ReadBack(#[source] std::io::Error),
}

/// What installing `archive` into `store` would change, node by node, deletions
/// first, then the rest in install order; each node once. Nothing is written: the
/// install runs as a dry run (whatever `options.dry_run` says) and is rolled back.
///
/// `before` is a second, read-only handle onto the same repository, which sees it
/// as it was before the install (the install's transaction is not visible to it).
/// Emits a phase `installing (dry run)` without a total, then `comparing` with one
/// step per path the install acted on, then [`Event::Finished`].
pub fn plan(
    before: &dyn StoreRead,
    store: &mut dyn Store,
    archive: &dyn Archive,
    options: &ImportOptions,
    events: &dyn Events,
) -> std::result::Result<Vec<NodeChange>, DiffError> {
    let changes = plan_spilled(before, store, archive, options, events)?;
    let mut it = changes.iter();
    let all = (&mut it).map(|c| c.clone()).collect();
    match it.error {
        Some(e) => Err(DiffError::ReadBack(e)),
        None => Ok(all),
    }
}

/// [`plan`] with the changes kept as [`Changes`]: bounded memory however many
/// nodes the install would change (`jcrpack diff` prints them from it).
pub fn plan_spilled(
    before: &dyn StoreRead,
    store: &mut dyn Store,
    archive: &dyn Archive,
    options: &ImportOptions,
    events: &dyn Events,
) -> std::result::Result<Changes, DiffError> {
    let mut opts = options.clone();
    opts.dry_run = true;
    let ws = opts.workspace.clone();
    let mut changes = Changes::new();
    let mut failed: Option<DiffError> = None;
    events.event(&Event::Phase {
        name: "installing (dry run)",
        total: None,
        unit: Unit::Paths,
    });
    let installed = import::install_inspected(store, archive, &opts, &mut |txn, report| {
        match compare_all(before, txn, &ws, report, events) {
            Ok(c) => changes = c,
            // Kept typed; the install is a dry run, rolled back either way.
            Err(e) => failed = Some(e),
        }
        Ok(())
    });
    events.event(&Event::Finished);
    installed.map_err(|e| DiffError::Install(Box::new(e)))?;
    match failed {
        Some(e) => Err(e),
        None => Ok(changes),
    }
}

/// Compares every path `report` lists as acted on (and the nodes below them that it
/// does not list, such as a file's `jcr:content`) between `before` and `after`.
fn compare_all(
    before: &dyn StoreRead,
    after: &dyn StoreRead,
    ws: &str,
    report: &import::Report,
    events: &dyn Events,
) -> std::result::Result<Changes, DiffError> {
    // Two passes over the report's list (which spills to disk), not a copy of it:
    // memory stays bounded, with the listed and seen paths as 16-byte hashes and
    // the changes spilled to disk past a limit (issue 16).
    let mut listed = PathSet::new();
    let mut total = 0u64;
    let mut entries = report.entries.iter();
    for e in &mut entries {
        listed.insert(&e.path);
        if e.action != Action::Unchanged && e.action != Action::Error {
            total += 1;
        }
    }
    if let Some(e) = entries.error {
        return Err(DiffError::ReadBack(e));
    }
    events.event(&Event::Phase {
        name: "comparing",
        total: Some(total),
        unit: Unit::Paths,
    });
    let mut changes = Changes::new();
    let mut seen = PathSet::new();
    // Deletions first, then the rest in install order; each path once.
    for deletions in [true, false] {
        let mut entries = report.entries.iter();
        for e in &mut entries {
            if e.action == Action::Unchanged
                || e.action == Action::Error
                || (e.action == Action::Deleted) != deletions
            {
                continue;
            }
            let p = e.path.as_str();
            events.event(&Event::Advance { amount: 1 });
            if !seen.insert(p) {
                continue;
            }
            if let Some(c) = compare_node(before, after, ws, p)? {
                changes.push(c);
            }
            // Nodes below a changed node that the report does not list (a file's
            // jcr:content).
            for child in after.children(ws, p).unwrap_or_default() {
                if !seen.contains(&child.path) && !listed.contains(&child.path) {
                    if let Some(c) = compare_node(before, after, ws, &child.path)? {
                        seen.insert(&child.path);
                        changes.push(c);
                    }
                }
            }
        }
        if let Some(e) = entries.error {
            return Err(DiffError::ReadBack(e));
        }
    }
    // A lookup that could not read a set's file back answered "not there".
    if let Some(e) = seen.read_error().or_else(|| listed.read_error()) {
        return Err(DiffError::ReadBack(e));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(i: usize) -> NodeChange {
        let s = |t: &str| Some(format!("{t}{i}"));
        NodeChange {
            path: format!("/content/ä/{i}"),
            change: [Change::Added, Change::Deleted, Change::Changed][i % 3],
            primary_type: match i % 4 {
                0 => None,
                1 => Some((None, s("nt:a"))),
                2 => Some((s("nt:b"), None)),
                _ => Some((s(""), s("nt:c"))),
            },
            mixins: i
                .is_multiple_of(2)
                .then(|| (vec![], vec!["mix:a".into(), format!("mix:{i}")])),
            properties: (0..i % 5)
                .map(|k| PropertyChange {
                    name: format!("p{k}"),
                    before: (k % 2 == 0).then(|| "x".repeat(k * 100)),
                    after: (k % 3 != 0).then(String::new),
                })
                .collect(),
        }
    }

    #[test]
    fn changes_read_back_as_they_were_written_across_the_spill() {
        let mut log = Changes::new();
        let n = Changes::IN_MEMORY * 2 + 5;
        for i in 0..n {
            log.push(change(i));
        }
        assert_eq!(log.len(), n);
        let mut it = log.iter();
        let mut count = 0;
        for (i, c) in (&mut it).enumerate() {
            assert_eq!(*c, change(i), "{i}");
            count += 1;
        }
        assert!(it.error.is_none());
        assert_eq!(count, n);
    }

    #[test]
    fn a_damaged_change_record_is_not_a_change() {
        let mut bytes = Vec::new();
        change(7).encode(&mut bytes);
        for cut in 0..bytes.len() {
            assert!(NodeChange::decode(&mut &bytes[..cut]).is_none(), "{cut}");
        }
        let mut bad = bytes.clone();
        bad[8 + change(7).path.len()] = 9;
        assert!(NodeChange::decode(&mut &bad[..]).is_none());
        let mut whole = &bytes[..];
        assert_eq!(NodeChange::decode(&mut whole), Some(change(7)));
        assert!(whole.is_empty());
    }
}
