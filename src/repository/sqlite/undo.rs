//! Undo: applying an operation's before-images as a new operation.
//!
//! Undo replays an operation's images, in node-id order (a parent's id is always
//! smaller than its children's, so parents come back first):
//!
//! 1. nodes it created are removed with their subtrees;
//! 2. nodes that existed get their type, mixins and position back, or are
//!    re-inserted with their old id and properties when gone;
//! 3. properties get their old stored form back, or are removed;
//! 4. registrations are reverted.
//!
//! Each step goes through the ordinary mutation code, so the undo is journaled like
//! any operation. Conflicts are found by id (a later operation touched the same node
//! or property) and by path (a later operation touched a node at the same path)
//! before anything is written; a later operation that was itself undone, together
//! with its undo, cancels out. Two more conflicts show only while replaying: a node
//! to remove that has children the operation did not create, and a node to bring
//! back whose parent is gone. The whole replay runs in a savepoint, so a refused
//! or failed undo leaves the transaction as it was.

use super::journal::{
    reg_value, touch_new_node, touch_node, touch_prop, touch_reg, REG_NAMESPACE, REG_WORKSPACE,
};
use super::read::{descendant_bounds, NodeRow};
use super::tree;
use super::txn::State;
use super::write;
use super::Db;
use crate::path;
use crate::repository::{OperationId, RepositoryError, Result, UndoConflict, UndoReport};
use rusqlite::{params, OptionalExtension};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Rows read per batch when replaying an operation.
const BATCH: i64 = 1000;

/// The description shown for changes no recorded operation accounts for.
const UNRECORDED: &str = "changes made outside recorded operations";

/// The later operations whose changes still stand: an operation and a later undo
/// of it cancel out (an undo of that undo stands again).
fn standing_later_ops(
    db: &Db<'_>,
    target: i64,
    current: Option<i64>,
) -> Result<BTreeMap<i64, String>> {
    let mut st = db
        .conn
        .prepare_cached("SELECT id, undoes, description FROM op WHERE id > ?1 ORDER BY id")
        .map_err(|e| db.err(e))?;
    let rows = st
        .query_map([target], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(|e| db.err(e))?;
    let mut standing = BTreeMap::new();
    for row in rows {
        let (id, undoes, description) = row.map_err(|e| db.err(e))?;
        if Some(id) == current {
            continue;
        }
        match undoes {
            Some(x) if standing.contains_key(&x) => {
                standing.remove(&x);
            }
            _ => {
                standing.insert(id, description);
            }
        }
    }
    Ok(standing)
}

/// Finds the standing later operations that touched what `target` touched.
fn find_conflicts(db: &Db<'_>, target: i64, current: Option<i64>) -> Result<Vec<UndoConflict>> {
    let standing = standing_later_ops(db, target, current)?;
    if standing.is_empty() {
        return Ok(Vec::new());
    }
    let queries = [
        "SELECT l.op, l.ws, l.path, NULL FROM jnode l WHERE l.op > ?1
         AND EXISTS (SELECT 1 FROM jnode t WHERE t.op = ?1 AND t.node = l.node)",
        "SELECT l.op, l.ws, l.path, NULL FROM jnode l WHERE l.op > ?1
         AND EXISTS (SELECT 1 FROM jnode t WHERE t.op = ?1 AND t.ws = l.ws AND t.path = l.path)",
        "SELECT l.op, l.ws, l.path, l.name FROM jprop l WHERE l.op > ?1
         AND EXISTS (SELECT 1 FROM jnode t WHERE t.op = ?1 AND t.node = l.node)",
        "SELECT l.op, l.ws, l.path, NULL FROM jnode l WHERE l.op > ?1
         AND EXISTS (SELECT 1 FROM jprop t WHERE t.op = ?1 AND t.node = l.node)",
        "SELECT l.op, l.ws, l.path, l.name FROM jprop l WHERE l.op > ?1
         AND EXISTS (SELECT 1 FROM jprop t WHERE t.op = ?1 AND t.node = l.node AND t.name = l.name)",
    ];
    let mut hits: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    let mut ws_names: HashMap<i64, String> = HashMap::new();
    for sql in queries {
        let rows: Vec<(i64, i64, String, Option<String>)> = {
            let mut st = db.conn.prepare_cached(sql).map_err(|e| db.err(e))?;
            let it = st
                .query_map([target], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(|e| db.err(e))?;
            it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
        };
        for (op, ws, p, prop) in rows {
            if !standing.contains_key(&op) {
                continue;
            }
            let wn = match ws_names.get(&ws) {
                Some(n) => n.clone(),
                None => {
                    let n = db.ws_name(ws)?;
                    ws_names.insert(ws, n.clone());
                    n
                }
            };
            let item = match prop {
                Some(n) => path::join(&p, &n),
                None => p,
            };
            hits.entry(op).or_default().insert(format!("{wn}:{item}"));
        }
    }
    {
        let mut st = db
            .conn
            .prepare_cached(
                "SELECT l.op, l.kind, l.key FROM jreg l WHERE l.op > ?1
                 AND EXISTS (SELECT 1 FROM jreg t WHERE t.op = ?1 AND t.kind = l.kind AND t.key = l.key)",
            )
            .map_err(|e| db.err(e))?;
        let rows = st
            .query_map([target], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| db.err(e))?;
        for row in rows {
            let (op, kind, key) = row.map_err(|e| db.err(e))?;
            if standing.contains_key(&op) {
                hits.entry(op).or_default().insert(format!("{kind} {key}"));
            }
        }
    }
    Ok(hits
        .into_iter()
        .map(|(op, paths)| UndoConflict {
            operation: OperationId(op),
            description: standing.get(&op).cloned().unwrap_or_default(),
            paths: paths.into_iter().collect(),
        })
        .collect())
}

/// Builds the conflict error for nodes an undo cannot handle (`(id, label)`),
/// naming the later operations that touched them.
fn conflict_for_nodes(
    db: &Db<'_>,
    target: i64,
    nodes: &[(i64, String)],
) -> Result<RepositoryError> {
    let mut by_op: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (id, label) in nodes {
        let ops: Vec<i64> = {
            let mut st = db
                .conn
                .prepare_cached(
                    "SELECT op FROM jnode WHERE node = ?1 AND op > ?2
                     UNION SELECT op FROM jprop WHERE node = ?1 AND op > ?2",
                )
                .map_err(|e| db.err(e))?;
            let it = st
                .query_map(params![id, target], |r| r.get(0))
                .map_err(|e| db.err(e))?;
            it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
        };
        if ops.is_empty() {
            by_op.entry(0).or_default().insert(label.clone());
        }
        for op in ops {
            by_op.entry(op).or_default().insert(label.clone());
        }
    }
    let mut conflicts = Vec::new();
    for (op, paths) in by_op {
        let description = if op == 0 {
            UNRECORDED.to_string()
        } else {
            db.conn
                .prepare_cached("SELECT description FROM op WHERE id = ?1")
                .and_then(|mut s| s.query_row([op], |r| r.get(0)))
                .map_err(|e| db.err(e))?
        };
        conflicts.push(UndoConflict {
            operation: OperationId(op),
            description,
            paths: paths.into_iter().collect(),
        });
    }
    Ok(RepositoryError::UndoConflict {
        operation: OperationId(target),
        conflicts,
    })
}

/// [`crate::repository::Transaction::undo`].
pub(crate) fn undo(db: &Db<'_>, st: &mut State, target: i64, force: bool) -> Result<UndoReport> {
    let exists: bool = db
        .conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM op WHERE id = ?1)")
        .and_then(|mut s| s.query_row([target], |r| r.get(0)))
        .map_err(|e| db.err(e))?;
    if !exists {
        return Err(RepositoryError::OperationNotFound(OperationId(target)));
    }
    if st.op == Some(target) {
        return Err(RepositoryError::CannotUndo {
            operation: OperationId(target),
            reason: "it is the operation running now (roll it back instead)".into(),
        });
    }
    let conflicts = find_conflicts(db, target, st.op)?;
    if !conflicts.is_empty() && !force {
        return Err(RepositoryError::UndoConflict {
            operation: OperationId(target),
            conflicts,
        });
    }
    db.conn
        .execute_batch("SAVEPOINT jcrpack_undo")
        .map_err(|e| db.err(e))?;
    let reinserted = st.reinserted.clone();
    // Restored positions may lie beyond the cached last positions.
    st.tails.clear();
    match replay(db, st, target, force) {
        Ok(report) => {
            db.conn
                .execute_batch("RELEASE jcrpack_undo")
                .map_err(|e| db.err(e))?;
            Ok(report)
        }
        Err(e) => {
            let _ = db
                .conn
                .execute_batch("ROLLBACK TO jcrpack_undo; RELEASE jcrpack_undo");
            st.reinserted = reinserted;
            st.ids.clear();
            st.tails.clear();
            Err(e)
        }
    }
}

/// A `jnode` row of a node that existed before the undone operation.
struct Image {
    node: i64,
    ws: i64,
    path: String,
    parent: Option<i64>,
    name: String,
    position: i64,
    ptype: String,
    mixins: String,
}

/// A `jprop` row.
struct PropImage {
    node: i64,
    name: String,
    ws: i64,
    path: String,
    existed: bool,
    value: Option<(i64, bool, String)>,
}

fn replay(db: &Db<'_>, st: &mut State, target: i64, force: bool) -> Result<UndoReport> {
    let mut report = UndoReport {
        undone: Some(OperationId(target)),
        recorded_as: st.op.map(OperationId),
        ..UndoReport::default()
    };
    restore_workspaces(db, st, target, force, &mut report)?;
    remove_created(db, st, target, force, &mut report)?;
    restore_nodes(db, st, target, force, &mut report)?;
    restore_properties(db, st, target, &mut report)?;
    restore_registrations(db, st, target, &mut report)?;
    remove_created_workspaces(db, st, target, force, &mut report)?;
    check_restored_uuids(db, target)?;
    if let Some(op) = st.op {
        db.conn
            .prepare_cached("UPDATE op SET undoes = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![op, target]))
            .map_err(|e| db.err(e))?;
    }
    Ok(report)
}

/// Checks, once everything is back, that the uuids the replay restored are unique
/// in their workspaces. (Checking one by one would refuse uuids that two nodes
/// swapped.)
fn check_restored_uuids(db: &Db<'_>, target: i64) -> Result<()> {
    let mut s = db
        .conn
        .prepare_cached(
            "SELECT j.ws, j.value, n.path, o.path FROM jprop j
             JOIN node n ON n.id = j.node
             JOIN prop p ON p.node = n.id AND p.name = 'jcr:uuid' AND p.value = j.value
             JOIN prop q ON q.name = 'jcr:uuid' AND q.value = j.value AND q.node <> n.id
             JOIN node o ON o.id = q.node AND o.ws = n.ws
             WHERE j.op = ?1 AND j.name = 'jcr:uuid' AND j.existed = 1
             LIMIT 1",
        )
        .map_err(|e| db.err(e))?;
    let clash: Option<(i64, String, String, String)> = s
        .query_row([target], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .map_err(|e| db.err(e))?;
    match clash {
        None => Ok(()),
        Some((ws, uuid, path, existing)) => Err(RepositoryError::DuplicateUuid {
            workspace: db.ws_name(ws)?,
            path,
            uuid,
            existing,
        }),
    }
}

/// Step 1: removes the nodes `target` created, ancestors first.
fn remove_created(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    force: bool,
    report: &mut UndoReport,
) -> Result<()> {
    let mut last = i64::MIN;
    loop {
        let batch: Vec<i64> = {
            let mut s = db
                .conn
                .prepare_cached(
                    "SELECT node FROM jnode WHERE op = ?1 AND existed = 0 AND node > ?2
                     ORDER BY node LIMIT ?3",
                )
                .map_err(|e| db.err(e))?;
            let it = s
                .query_map(params![target, last, BATCH], |r| r.get(0))
                .map_err(|e| db.err(e))?;
            it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
        };
        let Some(&end) = batch.last() else { break };
        last = end;
        for id in batch {
            let Some(row) = db.row_by_id(id)? else {
                continue;
            };
            if row.parent.is_none() {
                continue;
            }
            let ws_name = db.ws_name(row.ws)?;
            if !force {
                let (lo, hi) = descendant_bounds(&row.path);
                let foreign: Vec<(i64, String)> = {
                    let mut s = db
                        .conn
                        .prepare_cached(
                            "SELECT n.id, n.path FROM node n WHERE n.ws = ?2 AND n.path > ?3 AND n.path < ?4
                             AND NOT EXISTS (SELECT 1 FROM jnode j WHERE j.op = ?1 AND j.node = n.id
                                             AND j.existed = 0)
                             ORDER BY n.path LIMIT 20",
                        )
                        .map_err(|e| db.err(e))?;
                    let it = s
                        .query_map(params![target, row.ws, lo, hi], |r| {
                            Ok((r.get(0)?, r.get::<_, String>(1)?))
                        })
                        .map_err(|e| db.err(e))?;
                    it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
                };
                if !foreign.is_empty() {
                    let labelled: Vec<(i64, String)> = foreign
                        .into_iter()
                        .map(|(i, p)| (i, format!("{ws_name}:{p}")))
                        .collect();
                    return Err(conflict_for_nodes(db, target, &labelled)?);
                }
            }
            report.nodes_removed += write::remove_subtree(db, st, &ws_name, &row)?;
        }
    }
    Ok(())
}

/// Step 2: gives nodes that existed before `target` their type, mixins and
/// position back, re-inserting the ones it removed.
fn restore_nodes(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    force: bool,
    report: &mut UndoReport,
) -> Result<()> {
    let mut last = i64::MIN;
    loop {
        let batch: Vec<Image> = {
            let mut s = db
                .conn
                .prepare_cached(
                    "SELECT node, ws, path, parent, name, position, ptype, mixins FROM jnode
                     WHERE op = ?1 AND existed = 1 AND node > ?2 ORDER BY node LIMIT ?3",
                )
                .map_err(|e| db.err(e))?;
            let it = s
                .query_map(params![target, last, BATCH], |r| {
                    Ok(Image {
                        node: r.get(0)?,
                        ws: r.get(1)?,
                        path: r.get(2)?,
                        parent: r.get(3)?,
                        name: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                        position: r.get::<_, Option<i64>>(5)?.unwrap_or_default(),
                        ptype: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                        mixins: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    })
                })
                .map_err(|e| db.err(e))?;
            it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
        };
        let Some(end) = batch.last().map(|i| i.node) else {
            break;
        };
        last = end;
        for img in batch {
            match db.row_by_id(img.node)? {
                Some(row) => revert_node(db, st, &row, &img, report)?,
                None => reinsert_node(db, st, target, force, &img, report)?,
            }
        }
    }
    Ok(())
}

fn revert_node(
    db: &Db<'_>,
    st: &mut State,
    row: &NodeRow,
    img: &Image,
    report: &mut UndoReport,
) -> Result<()> {
    if row.ptype == img.ptype && row.mixins == img.mixins && row.position == img.position {
        return Ok(());
    }
    touch_node(db, st, row)?;
    db.conn
        .prepare_cached("UPDATE node SET ptype = ?2, mixins = ?3, position = ?4 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![row.id, img.ptype, img.mixins, img.position]))
        .map_err(|e| db.err(e))?;
    report.nodes_reverted += 1;
    if row.position != img.position {
        if let Some(parent) = path::parent(&row.path) {
            tree::fix_sns(db, st, row.ws, parent, &row.name, &[])?;
        }
    }
    Ok(())
}

fn reinsert_node(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    force: bool,
    img: &Image,
    report: &mut UndoReport,
) -> Result<()> {
    let Some(parent_id) = img.parent else {
        return Ok(());
    };
    let ws_name = db.ws_name(img.ws)?;
    let Some(parent) = db.row_by_id(parent_id)? else {
        if force {
            report.skipped.push(format!("{ws_name}:{}", img.path));
            return Ok(());
        }
        let label = match path::parent(&img.path) {
            Some(p) => format!("{ws_name}:{p}"),
            None => format!("{ws_name}:{}", img.path),
        };
        return Err(conflict_for_nodes(db, target, &[(parent_id, label)])?);
    };
    let first = tree::child_path(&parent.path, &img.name, 1);
    let direct = !tree::exists(db, img.ws, &first)?;
    let p = if direct {
        first
    } else {
        tree::temp_path(img.node)
    };
    write::insert_node(
        db,
        img.node,
        img.ws,
        parent_id,
        &img.name,
        img.position,
        &p,
        &img.ptype,
        &img.mixins,
    )?;
    db.conn
        .prepare_cached(
            "INSERT INTO prop(node, name, type, multiple, value)
             SELECT node, name, type, multiple, value FROM jprop
             WHERE op = ?1 AND node = ?2 AND existed = 1",
        )
        .and_then(|mut s| s.execute(params![target, img.node]))
        .map_err(|e| db.err(e))?;
    st.reinserted.insert(img.node);
    if !direct {
        tree::fix_sns(db, st, img.ws, &parent.path, &img.name, &[img.node])?;
    }
    let now = db
        .row_by_id(img.node)?
        .ok_or_else(|| db.corrupt("a restored node vanished"))?;
    touch_new_node(db, st, img.node, img.ws, &now.path)?;
    report.nodes_restored += 1;
    Ok(())
}

/// Step 3: gives properties their old stored form back.
fn restore_properties(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    report: &mut UndoReport,
) -> Result<()> {
    let mut last = (i64::MIN, String::new());
    let mut created: Option<(i64, bool)> = None;
    loop {
        let batch: Vec<PropImage> = {
            let mut s = db
                .conn
                .prepare_cached(
                    "SELECT node, name, ws, path, existed, type, multiple, value FROM jprop
                     WHERE op = ?1 AND (node, name) > (?2, ?3) ORDER BY node, name LIMIT ?4",
                )
                .map_err(|e| db.err(e))?;
            let it = s
                .query_map(params![target, last.0, last.1, BATCH], |r| {
                    let existed: bool = r.get(4)?;
                    let value = if existed {
                        Some((r.get(5)?, r.get(6)?, r.get(7)?))
                    } else {
                        None
                    };
                    Ok(PropImage {
                        node: r.get(0)?,
                        name: r.get(1)?,
                        ws: r.get(2)?,
                        path: r.get(3)?,
                        existed,
                        value,
                    })
                })
                .map_err(|e| db.err(e))?;
            it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
        };
        let Some(end) = batch.last().map(|p| (p.node, p.name.clone())) else {
            break;
        };
        last = end;
        for img in batch {
            let was_created = match created {
                Some((n, c)) if n == img.node => c,
                _ => {
                    let c: bool = db
                        .conn
                        .prepare_cached(
                            "SELECT EXISTS(SELECT 1 FROM jnode WHERE op = ?1 AND node = ?2 AND existed = 0)",
                        )
                        .and_then(|mut s| s.query_row(params![target, img.node], |r| r.get(0)))
                        .map_err(|e| db.err(e))?;
                    created = Some((img.node, c));
                    c
                }
            };
            if was_created {
                continue;
            }
            let Some(row) = db.row_by_id(img.node)? else {
                let ws_name = db.ws_name(img.ws)?;
                report
                    .skipped
                    .push(format!("{ws_name}:{}", path::join(&img.path, &img.name)));
                continue;
            };
            let current = db.raw_prop(img.node, &img.name)?;
            let want = if img.existed { img.value.clone() } else { None };
            if current == want {
                continue;
            }
            touch_prop(db, st, &row, &img.name)?;
            match want {
                Some((code, multiple, value)) => {
                    db.conn
                        .prepare_cached(
                            "INSERT OR REPLACE INTO prop(node, name, type, multiple, value)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )
                        .and_then(|mut s| {
                            s.execute(params![img.node, img.name, code, multiple, value])
                        })
                        .map_err(|e| db.err(e))?;
                }
                None => {
                    db.conn
                        .prepare_cached("DELETE FROM prop WHERE node = ?1 AND name = ?2")
                        .and_then(|mut s| s.execute(params![img.node, img.name]))
                        .map_err(|e| db.err(e))?;
                }
            }
            report.properties_reverted += 1;
        }
    }
    Ok(())
}

/// Step 4: reverts namespace and node type registrations.
fn restore_registrations(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    report: &mut UndoReport,
) -> Result<()> {
    let rows: Vec<(String, String, bool, Option<String>)> = {
        let mut s = db
            .conn
            .prepare_cached(
                "SELECT kind, key, existed, value FROM jreg WHERE op = ?1 ORDER BY kind, key",
            )
            .map_err(|e| db.err(e))?;
        let it = s
            .query_map([target], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(|e| db.err(e))?;
        it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
    };
    for (kind, key, existed, value) in rows {
        if kind == REG_WORKSPACE {
            // Before and after the nodes: restore_workspaces, remove_created_workspaces.
            continue;
        }
        let want = if existed { value } else { None };
        if reg_value(db, &kind, &key)? == want {
            continue;
        }
        touch_reg(db, st, &kind, &key)?;
        let (table, key_col, value_col) = if kind == REG_NAMESPACE {
            ("namespace", "prefix", "uri")
        } else {
            ("nodetype", "name", "cnd")
        };
        match &want {
            Some(v) => {
                if kind == REG_NAMESPACE {
                    if let Some(other) = db.namespaces()?.prefix(v) {
                        if other != key {
                            return Err(RepositoryError::NamespaceConflict {
                                prefix: key,
                                uri: v.clone(),
                                reason: format!("the URI is now mapped to prefix '{other}'"),
                            });
                        }
                    }
                }
                db.conn
                    .prepare_cached(&format!(
                        "INSERT OR REPLACE INTO {table}({key_col}, {value_col}) VALUES (?1, ?2)"
                    ))
                    .and_then(|mut s| s.execute(params![key, v]))
                    .map_err(|e| db.err(e))?;
            }
            None => {
                db.conn
                    .prepare_cached(&format!("DELETE FROM {table} WHERE {key_col} = ?1"))
                    .and_then(|mut s| s.execute([&key]))
                    .map_err(|e| db.err(e))?;
            }
        }
        report.registrations_reverted += 1;
    }
    Ok(())
}

/// The workspace registrations `target` journaled whose `existed` is `existed`:
/// (name, the workspace id it had before, as text).
fn workspace_images(
    db: &Db<'_>,
    target: i64,
    existed: bool,
) -> Result<Vec<(String, Option<String>)>> {
    let mut s = db
        .conn
        .prepare_cached(
            "SELECT key, value FROM jreg WHERE op = ?1 AND kind = ?2 AND existed = ?3 ORDER BY key",
        )
        .map_err(|e| db.err(e))?;
    let it = s
        .query_map(params![target, REG_WORKSPACE, existed], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| db.err(e))?;
    it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))
}

/// Step 0: brings back, with their old ids and bare roots, the workspaces `target`
/// deleted, so that the steps after it restore their nodes and properties.
fn restore_workspaces(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    force: bool,
    report: &mut UndoReport,
) -> Result<()> {
    for (name, value) in workspace_images(db, target, true)? {
        let Some(ws) = value.as_deref().and_then(|v| v.parse::<i64>().ok()) else {
            return Err(db.corrupt(format!(
                "operation {target} journaled workspace '{name}' without its id"
            )));
        };
        match db.ws_id(&name)? {
            Some(now) if now == ws => continue,
            Some(_) => {
                // Recreated since, outside recorded operations (a recorded recreation
                // is a conflict found before the replay).
                if force {
                    report.skipped.push(format!("workspace {name}"));
                    continue;
                }
                return Err(RepositoryError::UndoConflict {
                    operation: OperationId(target),
                    conflicts: vec![UndoConflict {
                        operation: OperationId(0),
                        description: UNRECORDED.to_string(),
                        paths: vec![format!("workspace {name}")],
                    }],
                });
            }
            None => {}
        }
        touch_reg(db, st, REG_WORKSPACE, &name)?;
        db.conn
            .prepare_cached("INSERT INTO workspace(id, name) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![ws, name]))
            .map_err(|e| db.err(e))?;
        let root: Option<(i64, Option<String>, Option<String>)> = db
            .conn
            .prepare_cached(
                "SELECT node, ptype, mixins FROM jnode
                 WHERE op = ?1 AND ws = ?2 AND parent IS NULL AND existed = 1",
            )
            .and_then(|mut s| {
                s.query_row(params![target, ws], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
            })
            .map_err(|e| db.err(e))?;
        let (root, ptype, mixins) = match root {
            Some((id, t, m)) => (
                id,
                t.unwrap_or_else(|| crate::repository::ROOT_TYPE.to_string()),
                m.unwrap_or_default(),
            ),
            None => (
                st.alloc_id(),
                crate::repository::ROOT_TYPE.to_string(),
                String::new(),
            ),
        };
        db.conn
            .prepare_cached(
                "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins)
                 VALUES (?1, ?2, NULL, '', 0, '/', ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![root, ws, ptype, mixins]))
            .map_err(|e| db.err(e))?;
        // The root's properties come back in step 3, as a brought-back node's.
        st.reinserted.insert(root);
        st.workspaces.insert(name, ws);
        report.registrations_reverted += 1;
    }
    Ok(())
}

/// Step 5: deletes the workspaces `target` created, once the nodes it created in
/// them are gone; nodes others added there are a conflict unless `force`.
fn remove_created_workspaces(
    db: &Db<'_>,
    st: &mut State,
    target: i64,
    force: bool,
    report: &mut UndoReport,
) -> Result<()> {
    for (name, _) in workspace_images(db, target, false)? {
        let Some(ws) = db.ws_id(&name)? else { continue };
        let root = db.require_row(&name, ws, "/")?;
        if !force {
            let foreign: Vec<(i64, String)> = {
                let mut s = db
                    .conn
                    .prepare_cached(
                        "SELECT id, path FROM node WHERE ws = ?1 AND parent IS NOT NULL
                         ORDER BY path LIMIT 20",
                    )
                    .map_err(|e| db.err(e))?;
                let it = s
                    .query_map([ws], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))
                    .map_err(|e| db.err(e))?;
                it.collect::<rusqlite::Result<_>>().map_err(|e| db.err(e))?
            };
            if !foreign.is_empty() {
                let labelled: Vec<(i64, String)> = foreign
                    .into_iter()
                    .map(|(i, p)| (i, format!("{name}:{p}")))
                    .collect();
                return Err(conflict_for_nodes(db, target, &labelled)?);
            }
        }
        report.nodes_removed += write::drop_workspace(db, st, &name, ws, &root)?.saturating_sub(1);
        report.registrations_reverted += 1;
    }
    Ok(())
}
