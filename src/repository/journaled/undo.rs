//! Undo: applying an operation's before-images as a new operation, for every
//! backend.
//!
//! Undo replays an operation's images in node-id order (a parent's id is always
//! smaller than its children's, so parents come back first):
//!
//! 0. workspaces it deleted come back with their old ids and bare roots;
//! 1. nodes it created are removed with their subtrees;
//! 2. nodes that existed get their type, mixins and position back, or are
//!    re-inserted with their old id and properties when gone;
//! 3. properties get their old values back, or are removed;
//! 4. registrations are reverted;
//! 5. workspaces it created are deleted.
//!
//! Each step captures what it changes like any mutation, so the undo is recorded
//! as an operation and can itself be undone. Conflicts are found by node id (a
//! later operation touched the same node or property) and by path (a later
//! operation touched a node at the same path) before anything is written; a later
//! operation that was itself undone, together with its undo, cancels out. Two more
//! conflicts show only while replaying: a node to remove that has children the
//! operation did not create, and a node to bring back whose parent is gone. The
//! replay runs inside a savepoint of the backend transaction, so a refused or
//! failed undo leaves the transaction as it was.

use super::read::{require_at, ws_label};
use super::JournaledTxn;
use crate::path;
use crate::repository::content::{NewNode, NodeId, NodeRecord, WorkspaceId};
use crate::repository::oplog::{NodeImage, PropImage, RegKind, PAGE};
use crate::repository::{
    OperationId, RepositoryError, Result, UndoConflict, UndoReport, ROOT_TYPE,
};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The description shown for changes no recorded operation accounts for.
const UNRECORDED: &str = "changes made outside recorded operations";

/// How many foreign nodes a conflict names at most.
const FOREIGN: usize = 20;

impl JournaledTxn<'_> {
    /// [`crate::repository::Transaction::undo`].
    pub(crate) fn undo_op(&mut self, target: OperationId, force: bool) -> Result<UndoReport> {
        if self.inner.operation_record(target)?.is_none() {
            return Err(RepositoryError::OperationNotFound(target));
        }
        if self.op == Some(target) {
            return Err(RepositoryError::CannotUndo {
                operation: target,
                reason: "it is the operation running now (roll it back instead)".into(),
            });
        }
        let conflicts = self.find_conflicts(target)?;
        if !conflicts.is_empty() && !force {
            return Err(RepositoryError::UndoConflict {
                operation: target,
                conflicts,
            });
        }
        self.inner.savepoint()?;
        let reinserted = self.reinserted.clone();
        match self.replay(target, force) {
            Ok(report) => {
                self.inner.release_savepoint()?;
                Ok(report)
            }
            Err(e) => {
                self.inner.rollback_to_savepoint()?;
                self.reinserted = reinserted;
                Err(e)
            }
        }
    }

    /// Every node image of `op`, in node id order.
    fn all_node_images(&self, op: OperationId) -> Result<Vec<NodeImage>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.inner.node_images(op, after, PAGE)?;
            let full = page.len() == PAGE;
            after = page.last().map(|i| i.node);
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// Every property image of `op`, in (node, name) order.
    fn all_prop_images(&self, op: OperationId) -> Result<Vec<PropImage>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.inner.prop_images(op, after, PAGE)?;
            let full = page.len() == PAGE;
            after = page.last().map(|i| (i.node, i.name.clone()));
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// The later operations whose changes still stand, with their descriptions: an
    /// operation and a later undo of it cancel out (an undo of that undo stands
    /// again).
    fn standing_later_ops(&self, target: OperationId) -> Result<BTreeMap<OperationId, String>> {
        let mut standing = BTreeMap::new();
        for op in self.inner.history()? {
            if op.id <= target || Some(op.id) == self.op {
                continue;
            }
            match op.undoes {
                Some(x) if standing.contains_key(&x) => {
                    standing.remove(&x);
                }
                _ => {
                    standing.insert(op.id, op.description);
                }
            }
        }
        Ok(standing)
    }

    /// Finds the standing later operations that touched what `target` touched.
    fn find_conflicts(&self, target: OperationId) -> Result<Vec<UndoConflict>> {
        let standing = self.standing_later_ops(target)?;
        if standing.is_empty() {
            return Ok(Vec::new());
        }
        let mut t_nodes: HashSet<NodeId> = HashSet::new();
        let mut t_paths: HashSet<(WorkspaceId, String)> = HashSet::new();
        for img in self.all_node_images(target)? {
            t_nodes.insert(img.node);
            t_paths.insert((img.ws, img.path));
        }
        let mut t_prop_nodes: HashSet<NodeId> = HashSet::new();
        let mut t_props: HashSet<(NodeId, String)> = HashSet::new();
        for img in self.all_prop_images(target)? {
            t_prop_nodes.insert(img.node);
            t_props.insert((img.node, img.name));
        }
        let t_regs: HashSet<(RegKind, String)> = self
            .inner
            .reg_images(target)?
            .into_iter()
            .map(|r| (r.kind, r.key))
            .collect();
        let mut hits: BTreeMap<OperationId, BTreeSet<String>> = BTreeMap::new();
        let mut names: BTreeMap<WorkspaceId, String> = BTreeMap::new();
        for &op in standing.keys() {
            for l in self.all_node_images(op)? {
                if t_nodes.contains(&l.node)
                    || t_prop_nodes.contains(&l.node)
                    || t_paths.contains(&(l.ws, l.path.clone()))
                {
                    let label = format!("{}:{}", self.ws_name(&mut names, l.ws)?, l.path);
                    hits.entry(op).or_default().insert(label);
                }
            }
            for l in self.all_prop_images(op)? {
                if t_nodes.contains(&l.node) || t_props.contains(&(l.node, l.name.clone())) {
                    let item = path::join(&l.path, &l.name);
                    let label = format!("{}:{item}", self.ws_name(&mut names, l.ws)?);
                    hits.entry(op).or_default().insert(label);
                }
            }
            for l in self.inner.reg_images(op)? {
                if t_regs.contains(&(l.kind, l.key.clone())) {
                    let label = format!("{} {}", l.kind.label(), l.key);
                    hits.entry(op).or_default().insert(label);
                }
            }
        }
        Ok(hits
            .into_iter()
            .map(|(op, paths)| UndoConflict {
                operation: op,
                description: standing.get(&op).cloned().unwrap_or_default(),
                paths: paths.into_iter().collect(),
            })
            .collect())
    }

    /// The name of workspace `ws`, through a cache.
    fn ws_name(
        &self,
        names: &mut BTreeMap<WorkspaceId, String>,
        ws: WorkspaceId,
    ) -> Result<String> {
        if let Some(n) = names.get(&ws) {
            return Ok(n.clone());
        }
        let n = ws_label(&*self.inner, ws)?;
        names.insert(ws, n.clone());
        Ok(n)
    }

    /// Builds the conflict error for nodes an undo cannot handle (`(id, label)`),
    /// naming the later operations that touched them.
    fn conflict_for_nodes(
        &self,
        target: OperationId,
        nodes: &[(NodeId, String)],
    ) -> Result<RepositoryError> {
        let mut by_op: BTreeMap<OperationId, BTreeSet<String>> = BTreeMap::new();
        for (id, label) in nodes {
            let ops = self.inner.ops_touching_node(*id, target)?;
            if ops.is_empty() {
                by_op
                    .entry(OperationId(0))
                    .or_default()
                    .insert(label.clone());
            }
            for op in ops {
                by_op.entry(op).or_default().insert(label.clone());
            }
        }
        let mut conflicts = Vec::new();
        for (op, paths) in by_op {
            let description = if op == OperationId(0) {
                UNRECORDED.to_string()
            } else {
                self.inner
                    .operation_record(op)?
                    .map(|(s, _)| s.description)
                    .unwrap_or_default()
            };
            conflicts.push(UndoConflict {
                operation: op,
                description,
                paths: paths.into_iter().collect(),
            });
        }
        Ok(RepositoryError::UndoConflict {
            operation: target,
            conflicts,
        })
    }

    fn replay(&mut self, target: OperationId, force: bool) -> Result<UndoReport> {
        let mut report = UndoReport {
            undone: Some(target),
            recorded_as: self.op,
            ..UndoReport::default()
        };
        let nodes = self.all_node_images(target)?;
        // The nodes `target` created: removed whole, so their properties need no
        // restoring.
        let created: HashSet<NodeId> = nodes
            .iter()
            .filter(|i| i.before.is_none())
            .map(|i| i.node)
            .collect();
        self.restore_workspaces(target, &nodes, force, &mut report)?;
        self.remove_created(target, &nodes, &created, force, &mut report)?;
        self.restore_nodes(target, &nodes, force, &mut report)?;
        self.restore_properties(target, &created, &mut report)?;
        self.restore_registrations(target, &mut report)?;
        self.remove_created_workspaces(target, force, &mut report)?;
        self.check_restored_uuids(target)?;
        if let Some(op) = self.op {
            self.inner.set_undoes(op, target)?;
        }
        Ok(report)
    }

    /// Checks, once everything is back, that the uuids the replay restored are
    /// unique in their workspaces. (Checking one by one would refuse uuids that two
    /// nodes swapped.)
    fn check_restored_uuids(&self, target: OperationId) -> Result<()> {
        for img in self.all_prop_images(target)? {
            if img.name != "jcr:uuid" {
                continue;
            }
            let Some(Some(Value::String(uuid))) = img.before.as_ref().map(|p| p.values.first())
            else {
                continue;
            };
            let Some(row) = self.inner.node_by_id(img.node)? else {
                continue;
            };
            let owners = self.inner.uuid_owners(row.ws, uuid)?;
            if !owners.contains(&row.id) {
                continue;
            }
            if let Some(other) = owners.iter().find(|&&o| o != row.id) {
                let existing = self.inner.node_by_id(*other)?.map(|r| r.path);
                return Err(RepositoryError::DuplicateUuid {
                    workspace: ws_label(&*self.inner, row.ws)?,
                    path: row.path,
                    uuid: uuid.clone(),
                    existing: existing.unwrap_or_default(),
                });
            }
        }
        Ok(())
    }

    /// The nodes below `row` (not itself) that are not in `created`, sorted by
    /// path, at most [`FOREIGN`].
    fn foreign_below(
        &self,
        created: &HashSet<NodeId>,
        row: &NodeRecord,
        ws_name: &str,
    ) -> Result<Vec<(NodeId, String)>> {
        let mut found = Vec::new();
        let mut pending = self.inner.children(row.id)?;
        while let Some(r) = pending.pop() {
            if !created.contains(&r.id) {
                found.push((r.id, r.path.clone()));
            }
            pending.extend(self.inner.children(r.id)?);
        }
        found.sort_by(|a, b| a.1.cmp(&b.1));
        found.truncate(FOREIGN);
        Ok(found
            .into_iter()
            .map(|(i, p)| (i, format!("{ws_name}:{p}")))
            .collect())
    }

    /// Step 0: brings back, with their old ids and bare roots, the workspaces
    /// `target` deleted, so that the steps after it restore their nodes.
    fn restore_workspaces(
        &mut self,
        target: OperationId,
        nodes: &[NodeImage],
        force: bool,
        report: &mut UndoReport,
    ) -> Result<()> {
        for reg in self.inner.reg_images(target)? {
            if reg.kind != RegKind::Workspace {
                continue;
            }
            let Some(value) = reg.before else { continue };
            let name = reg.key;
            let Ok(ws) = value.parse::<WorkspaceId>() else {
                return Err(super::corrupt(
                    &*self.inner,
                    format!("operation {target} journaled workspace '{name}' without its id"),
                ));
            };
            match self.inner.workspace_id(&name)? {
                Some(now) if now == ws => continue,
                Some(_) => {
                    // Recreated since, outside recorded operations (a recorded
                    // recreation is a conflict found before the replay).
                    if force {
                        report.skipped.push(format!("workspace {name}"));
                        continue;
                    }
                    return Err(RepositoryError::UndoConflict {
                        operation: target,
                        conflicts: vec![UndoConflict {
                            operation: OperationId(0),
                            description: UNRECORDED.to_string(),
                            paths: vec![format!("workspace {name}")],
                        }],
                    });
                }
                None => {}
            }
            self.touch_reg(RegKind::Workspace, &name)?;
            self.inner.insert_workspace(&name, Some(ws))?;
            let root_image = nodes.iter().find_map(|img| match &img.before {
                Some(b) if img.ws == ws && b.parent.is_none() => Some((img.node, b)),
                _ => None,
            });
            let (root, primary_type, mixins) = match root_image {
                Some((id, b)) => (id, b.primary_type.clone(), b.mixins.clone()),
                None => (
                    self.inner.alloc_node_id()?,
                    ROOT_TYPE.to_string(),
                    Vec::new(),
                ),
            };
            self.insert_root(ws, root, &primary_type, &mixins)?;
            // The root's properties come back in step 3, as a brought-back node's.
            self.reinserted.insert(root);
            report.registrations_reverted += 1;
        }
        Ok(())
    }

    /// Step 1: removes the nodes `target` created, ancestors first.
    fn remove_created(
        &mut self,
        target: OperationId,
        nodes: &[NodeImage],
        created: &HashSet<NodeId>,
        force: bool,
        report: &mut UndoReport,
    ) -> Result<()> {
        for img in nodes.iter().filter(|i| i.before.is_none()) {
            let Some(row) = self.inner.node_by_id(img.node)? else {
                continue;
            };
            if row.parent.is_none() {
                continue;
            }
            let ws_name = ws_label(&*self.inner, row.ws)?;
            if !force {
                let foreign = self.foreign_below(created, &row, &ws_name)?;
                if !foreign.is_empty() {
                    return Err(self.conflict_for_nodes(target, &foreign)?);
                }
            }
            report.nodes_removed += self.remove(&ws_name, &row)?;
        }
        Ok(())
    }

    /// Step 2: gives nodes that existed before `target` their type, mixins and
    /// position back, re-inserting the ones it removed.
    fn restore_nodes(
        &mut self,
        target: OperationId,
        nodes: &[NodeImage],
        force: bool,
        report: &mut UndoReport,
    ) -> Result<()> {
        for img in nodes {
            let Some(before) = &img.before else { continue };
            match self.inner.node_by_id(img.node)? {
                Some(row) => {
                    if row.primary_type == before.primary_type
                        && row.mixins == before.mixins
                        && row.position == before.position
                    {
                        continue;
                    }
                    self.touch_node(&row)?;
                    self.inner.update_node(
                        row.id,
                        &before.primary_type,
                        &before.mixins,
                        before.position,
                    )?;
                    report.nodes_reverted += 1;
                }
                None => self.reinsert_node(target, img, force, report)?,
            }
        }
        Ok(())
    }

    fn reinsert_node(
        &mut self,
        target: OperationId,
        img: &NodeImage,
        force: bool,
        report: &mut UndoReport,
    ) -> Result<()> {
        let Some(before) = &img.before else {
            return Ok(());
        };
        let Some(parent_id) = before.parent else {
            return Ok(());
        };
        let ws_name = ws_label(&*self.inner, img.ws)?;
        if self.inner.node_by_id(parent_id)?.is_none() {
            if force {
                report.skipped.push(format!("{ws_name}:{}", img.path));
                return Ok(());
            }
            let label = match path::parent(&img.path) {
                Some(p) => format!("{ws_name}:{p}"),
                None => format!("{ws_name}:{}", img.path),
            };
            return Err(self.conflict_for_nodes(target, &[(parent_id, label)])?);
        }
        self.inner.insert_node(NewNode {
            id: img.node,
            ws: img.ws,
            parent: Some(parent_id),
            name: before.name.clone(),
            position: before.position,
            primary_type: before.primary_type.clone(),
            mixins: before.mixins.clone(),
        })?;
        let mut after = Some((img.node, String::new()));
        'pages: loop {
            let page = self.inner.prop_images(target, after, PAGE)?;
            let full = page.len() == PAGE;
            after = page.last().map(|i| (i.node, i.name.clone()));
            for p in page {
                if p.node != img.node {
                    break 'pages;
                }
                if let Some(value) = &p.before {
                    self.inner.set_property(img.node, value)?;
                }
            }
            if !full {
                break;
            }
        }
        self.reinserted.insert(img.node);
        let now = self
            .inner
            .node_by_id(img.node)?
            .ok_or_else(|| super::corrupt(&*self.inner, "a restored node vanished"))?;
        self.touch_new_node(img.node, img.ws, &now.path)?;
        report.nodes_restored += 1;
        Ok(())
    }

    /// Step 3: gives properties their old values back.
    fn restore_properties(
        &mut self,
        target: OperationId,
        created: &HashSet<NodeId>,
        report: &mut UndoReport,
    ) -> Result<()> {
        for img in self.all_prop_images(target)? {
            if created.contains(&img.node) {
                continue;
            }
            let Some(row) = self.inner.node_by_id(img.node)? else {
                let ws_name = ws_label(&*self.inner, img.ws)?;
                report
                    .skipped
                    .push(format!("{ws_name}:{}", path::join(&img.path, &img.name)));
                continue;
            };
            let current = self.inner.property(img.node, &img.name)?;
            if current == img.before {
                continue;
            }
            self.touch_prop(&row, &img.name)?;
            match &img.before {
                Some(value) => self.inner.set_property(img.node, value)?,
                None => {
                    self.inner.remove_property(img.node, &img.name)?;
                }
            }
            report.properties_reverted += 1;
        }
        Ok(())
    }

    /// Step 4: reverts namespace and node type registrations.
    fn restore_registrations(
        &mut self,
        target: OperationId,
        report: &mut UndoReport,
    ) -> Result<()> {
        for reg in self.inner.reg_images(target)? {
            if reg.kind == RegKind::Workspace {
                // Before and after the nodes: restore_workspaces,
                // remove_created_workspaces.
                continue;
            }
            if self.reg_value(reg.kind, &reg.key)? == reg.before {
                continue;
            }
            self.touch_reg(reg.kind, &reg.key)?;
            let key = reg.key;
            match (reg.kind, &reg.before) {
                (RegKind::Namespace, Some(uri)) => {
                    if let Some(other) = self.inner.namespaces()?.prefix(uri) {
                        if other != key {
                            return Err(RepositoryError::NamespaceConflict {
                                prefix: key,
                                uri: uri.clone(),
                                reason: format!("the URI is now mapped to prefix '{other}'"),
                            });
                        }
                    }
                    self.inner.set_namespace(&key, Some(uri))?;
                }
                (RegKind::Namespace, None) => self.inner.set_namespace(&key, None)?,
                (_, cnd) => self.inner.set_node_type(&key, cnd.as_deref())?,
            }
            report.registrations_reverted += 1;
        }
        Ok(())
    }

    /// Step 5: deletes the workspaces `target` created, once the nodes it created
    /// in them are gone; nodes others added there are a conflict unless `force`.
    fn remove_created_workspaces(
        &mut self,
        target: OperationId,
        force: bool,
        report: &mut UndoReport,
    ) -> Result<()> {
        for reg in self.inner.reg_images(target)? {
            if reg.kind != RegKind::Workspace || reg.before.is_some() {
                continue;
            }
            let name = reg.key;
            let Some(ws) = self.inner.workspace_id(&name)? else {
                continue;
            };
            let root = require_at(&*self.inner, &name, ws, "/")?;
            if !force {
                let foreign = self.foreign_below(&HashSet::new(), &root, &name)?;
                if !foreign.is_empty() {
                    return Err(self.conflict_for_nodes(target, &foreign)?);
                }
            }
            report.nodes_removed += self.drop_ws(&name, ws, &root)?.saturating_sub(1);
            report.registrations_reverted += 1;
        }
        Ok(())
    }
}
