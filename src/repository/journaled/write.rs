//! The mutations: each checks its arguments before writing anything, captures the
//! before-images of what it is about to change, then calls the backend's
//! primitives. Sibling positions are computed here, spaced [`GAP`] apart.

use super::read::{require_at, require_ws};
use super::{corrupt, JournaledTxn, GAP};
use crate::name;
use crate::namespace::{self, NamespaceRegistry};
use crate::node::Node;
use crate::path::{self, Segment};
use crate::repository::content::{NewNode, NodeId, NodeRecord, WorkspaceId};
use crate::repository::oplog::RegKind;
use crate::repository::{
    AddOptions, RepositoryError, Result, SameName, DEFAULT_WORKSPACE, ROOT_TYPE,
};
use crate::value::{Binary, Property, PropertyType, Value};
use std::borrow::Cow;
use std::collections::HashMap;

pub(crate) use super::sns::child_path;

/// Checks a workspace name: non-empty, no control characters.
fn check_ws_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(RepositoryError::InvalidWorkspaceName(name.to_string()));
    }
    Ok(())
}

/// Checks a name used as a node type.
fn check_type_name(t: &str) -> Result<()> {
    name::validate(t).map_err(RepositoryError::from)
}

/// One node of a subtree being added, checked, in document order.
struct Flat<'n> {
    node: &'n Node,
    /// Index of the parent in the flat list (`None` for the added node itself).
    parent: Option<usize>,
    /// Position among its siblings in `node.children`.
    ordinal: usize,
    /// Its properties as they will be stored (borrowed from `node` unless
    /// storing changes them).
    props: Vec<Cow<'n, Property>>,
}

impl JournaledTxn<'_> {
    /// Checks `p` for node `node_path` and returns it as stored: inline binaries
    /// go into the blob store; anything else is stored as given (borrowed).
    fn check_property<'p>(
        &self,
        workspace: &str,
        node_path: &str,
        p: &'p Property,
    ) -> Result<Cow<'p, Property>> {
        let bad = |reason: String| RepositoryError::InvalidProperty {
            workspace: workspace.to_string(),
            path: node_path.to_string(),
            name: p.name.clone(),
            reason,
        };
        name::validate(&p.name).map_err(|e| bad(e.to_string()))?;
        if p.name == "jcr:primaryType" || p.name == "jcr:mixinTypes" {
            return Err(bad(
                "the primary type and mixins are node fields: use set_primary_type or set_mixins"
                    .into(),
            ));
        }
        if p.ptype == PropertyType::Undefined {
            return Err(bad(
                "the type is undefined; give the property a concrete type".into(),
            ));
        }
        if !p.multiple && p.values.len() != 1 {
            return Err(bad(format!(
                "a single-valued property needs exactly one value, not {}",
                p.values.len()
            )));
        }
        if let Some(v) = p.values.iter().find(|v| v.ptype() != p.ptype) {
            return Err(bad(format!(
                "it is declared {} but has a {} value",
                p.ptype,
                v.ptype()
            )));
        }
        if p.name == "jcr:uuid" && (p.multiple || p.ptype != PropertyType::String) {
            return Err(bad("jcr:uuid must be a single String".into()));
        }
        if p.ptype != PropertyType::Binary {
            return Ok(Cow::Borrowed(p));
        }
        let mut values = Vec::with_capacity(p.values.len());
        for v in &p.values {
            values.push(match v {
                Value::Binary(Binary::Inline(bytes)) => {
                    let mut r: &[u8] = bytes;
                    Value::Binary(self.inner.put_blob(&mut r)?)
                }
                Value::Binary(Binary::Blob { sha256, size }) => {
                    self.inner.check_blob(sha256, *size)?;
                    v.clone()
                }
                Value::Binary(Binary::Reference(_)) => v.clone(),
                Value::Binary(Binary::Entry { entry, .. }) => {
                    return Err(bad(format!(
                        "its value is still in package entry {entry}; store it with put_blob first"
                    )))
                }
                Value::Binary(Binary::Placeholder) => {
                    return Err(bad(
                        "its value is a {Binary} placeholder without content".into()
                    ))
                }
                other => other.clone(),
            });
        }
        Ok(Cow::Owned(Property {
            name: p.name.clone(),
            ptype: p.ptype,
            multiple: p.multiple,
            values,
        }))
    }

    /// The id of workspace `name`, created (with its root) when missing; and
    /// whether it was created.
    pub(crate) fn ensure_ws(&mut self, name: &str) -> Result<(WorkspaceId, bool)> {
        check_ws_name(name)?;
        if let Some(id) = self.inner.workspace_id(name)? {
            return Ok((id, false));
        }
        if self.scope.is_some() {
            // Workspace `name` was removed since the scoped operation began.
            self.in_scope("", "create workspace")?;
        }
        self.touch_reg(RegKind::Workspace, name)?;
        let ws = self.inner.insert_workspace(name, None)?;
        let root = self.inner.alloc_node_id()?;
        self.insert_root(ws, root, ROOT_TYPE, &[])?;
        // The one place a workspace is made: with Oak's initial content.
        self.add(
            name,
            "/",
            &crate::repository::initial_system_node(),
            &AddOptions::append(),
        )?;
        Ok((ws, true))
    }

    /// Inserts the root node `id` of workspace `ws`.
    pub(crate) fn insert_root(
        &mut self,
        ws: WorkspaceId,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
    ) -> Result<()> {
        self.inner.insert_node(NewNode {
            id,
            ws,
            parent: None,
            name: String::new(),
            position: 0,
            primary_type: primary_type.to_string(),
            mixins: mixins.to_vec(),
        })
    }

    /// [`crate::repository::Transaction::delete_workspace`].
    pub(crate) fn delete_ws(&mut self, name: &str, force: bool) -> Result<u64> {
        let refuse = |reason: String| RepositoryError::NotAllowed {
            workspace: name.to_string(),
            path: "/".to_string(),
            action: "delete workspace",
            reason,
        };
        if name == DEFAULT_WORKSPACE {
            return Err(refuse("the default workspace is never deleted".into()));
        }
        let ws = require_ws(&*self.inner, name)?;
        let root = require_at(&*self.inner, name, ws, "/")?;
        if !force {
            // Oak's initial content, which every workspace gets, does not count.
            let mut children = 0usize;
            let mut pending = self.inner.children(root.id)?;
            while let Some(r) = pending.pop() {
                if !crate::repository::INITIAL_PATHS.contains(&r.path.as_str()) {
                    children += 1;
                }
                pending.extend(self.inner.children(r.id)?);
            }
            let props = self.inner.properties(root.id)?.len();
            if children > 0 || props > 0 {
                return Err(refuse(format!(
                    "it is not empty (it holds {children} nodes besides Oak's initial content, and its root {props} properties); force the deletion to delete its content too"
                )));
            }
        }
        self.drop_ws(name, ws, &root)
    }

    /// Deletes workspace `ws` (named `name`, root `root`), capturing the
    /// registration and every node and property first.
    pub(crate) fn drop_ws(
        &mut self,
        name: &str,
        ws: WorkspaceId,
        root: &NodeRecord,
    ) -> Result<u64> {
        self.touch_reg(RegKind::Workspace, name)?;
        self.touch_subtree(root)?;
        self.inner.remove_workspace(ws)
    }

    /// Flattens and checks a subtree to add: names, types, properties, uuids.
    fn prepare_tree<'n>(
        &self,
        workspace: &str,
        ws: Option<WorkspaceId>,
        parent: &str,
        node: &'n Node,
    ) -> Result<Vec<Flat<'n>>> {
        let mut flat: Vec<Flat<'n>> = Vec::new();
        let mut paths: Vec<String> = Vec::new();
        let mut uuids: Vec<Option<String>> = Vec::new();
        let mut stack: Vec<(&'n Node, Option<usize>, usize, u32)> = vec![(node, None, 0, 1)];
        while let Some((n, parent_ix, ordinal, index)) = stack.pop() {
            name::validate(&n.name)?;
            check_type_name(&n.primary_type)?;
            for m in &n.mixins {
                check_type_name(m)?;
            }
            let base = match parent_ix.and_then(|i| paths.get(i)) {
                Some(p) => p.clone(),
                None => parent.to_string(),
            };
            let here = child_path(&base, &n.name, index);
            let mut props = Vec::with_capacity(n.properties.len());
            let mut uuid = None;
            for p in n.properties.values() {
                let stored = self.check_property(workspace, &here, p)?;
                if stored.name == "jcr:uuid" {
                    if let Some(Value::String(s)) = stored.values.first() {
                        uuid = Some(s.clone());
                    }
                }
                props.push(stored);
            }
            let ix = flat.len();
            flat.push(Flat {
                node: n,
                parent: parent_ix,
                ordinal,
                props,
            });
            paths.push(here);
            uuids.push(uuid);
            let mut seen: HashMap<&str, u32> = HashMap::new();
            let indexes: Vec<u32> = n
                .children
                .iter()
                .map(|c| {
                    let k = seen.entry(c.name.as_str()).or_insert(0);
                    *k += 1;
                    *k
                })
                .collect();
            for (i, c) in n.children.iter().enumerate().rev() {
                stack.push((c, Some(ix), i, indexes.get(i).copied().unwrap_or(1)));
            }
        }
        // uuids: unique inside the subtree and in the workspace.
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, u) in uuids.iter().enumerate() {
            let Some(u) = u else { continue };
            let dup = |existing: String| RepositoryError::DuplicateUuid {
                workspace: workspace.to_string(),
                path: paths.get(i).cloned().unwrap_or_default(),
                uuid: u.clone(),
                existing,
            };
            if let Some(&j) = seen.get(u.as_str()) {
                return Err(dup(paths.get(j).cloned().unwrap_or_default()));
            }
            seen.insert(u, i);
            if let Some(ws) = ws {
                if let Some(owner) = self.inner.uuid_owner(ws, u)? {
                    let existing = self.inner.node_by_id(owner)?.map(|r| r.path);
                    return Err(dup(existing.unwrap_or_default()));
                }
            }
        }
        Ok(flat)
    }

    /// Inserts the nodes of `flat` (its first below `parent_id` at `position`,
    /// the others below theirs), each with its properties; their ids in order.
    fn insert_flat(
        &mut self,
        flat: &[Flat<'_>],
        ws: WorkspaceId,
        parent_id: NodeId,
        position: i64,
    ) -> Result<Vec<NodeId>> {
        let mut ids: Vec<NodeId> = Vec::with_capacity(flat.len());
        let mut props: Vec<&Property> =
            Vec::with_capacity(flat.iter().map(|f| f.props.len()).max().unwrap_or(0));
        for f in flat {
            let id = self.inner.alloc_node_id()?;
            let (parent, position) = match f.parent {
                None => (parent_id, position),
                Some(pix) => (
                    *ids.get(pix)
                        .ok_or_else(|| corrupt(&*self.inner, "an added subtree lost a parent"))?,
                    GAP.saturating_mul(f.ordinal as i64 + 1),
                ),
            };
            self.inner.insert_node(NewNode {
                id,
                ws,
                parent: Some(parent),
                name: f.node.name.clone(),
                position,
                primary_type: f.node.primary_type.clone(),
                mixins: f.node.mixins.clone(),
            })?;
            props.clear();
            props.extend(f.props.iter().map(|p| &**p));
            self.inner.set_properties(id, &props)?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// [`crate::repository::Transaction::add_node`].
    pub(crate) fn add(
        &mut self,
        workspace: &str,
        parent: &str,
        node: &Node,
        options: &AddOptions,
    ) -> Result<String> {
        let parent = path::normalized(parent)?;
        let before = match &options.before {
            Some(b) => Some(Segment::parse(b)?.to_string()),
            None => None,
        };
        let known_ws = self.inner.workspace_id(workspace)?;
        let flat = self.prepare_tree(workspace, known_ws, &parent, node)?;
        // Everything that can fail because of the arguments is checked before the
        // first write (creating the workspace is the first write).
        // Where the node lands when it is the first of its name.
        let first_path = child_path(&parent, &node.name, 1);
        let exists_error = || RepositoryError::ItemExists {
            workspace: workspace.to_string(),
            path: first_path.clone(),
        };
        let (ws, parent_id, sibling) = match known_ws {
            Some(ws) => {
                let parent_id = self.inner.node_id_at(ws, &parent)?.ok_or_else(|| {
                    RepositoryError::NodeNotFound {
                        workspace: workspace.to_string(),
                        path: parent.to_string(),
                    }
                })?;
                if options.same_name == SameName::Fail
                    && self.inner.node_id_at(ws, &first_path)?.is_some()
                {
                    return Err(exists_error());
                }
                let sibling = match &before {
                    Some(b) => Some(require_at(
                        &*self.inner,
                        workspace,
                        ws,
                        &path::join(&parent, b),
                    )?),
                    None => None,
                };
                (ws, parent_id, sibling)
            }
            None => {
                if parent != "/" || before.is_some() {
                    return Err(RepositoryError::NodeNotFound {
                        workspace: workspace.to_string(),
                        path: match &before {
                            Some(b) if parent == "/" => path::join("/", b),
                            _ => parent.to_string(),
                        },
                    });
                }
                let (ws, _) = self.ensure_ws(workspace)?;
                let root = require_at(&*self.inner, workspace, ws, "/")?;
                (ws, root.id, None)
            }
        };
        let position = match &sibling {
            None => self.append_position(parent_id)?,
            Some(s) => {
                // Same-name siblings after it shift an index; a node that must be the
                // first of its name (checked above: none is there) shifts none.
                if options.same_name == SameName::Allow {
                    self.inner.reshaped();
                }
                self.position_before(parent_id, s.id, None)?
            }
        };
        // The subtree's nodes are inserted as one: each with the children it
        // is given (see `Guarded::children_unaltered`).
        self.inner.begin_insertion();
        let inserted = self.insert_flat(&flat, ws, parent_id, position);
        self.inner.end_insertion();
        let ids = inserted?;
        let top = *ids
            .first()
            .ok_or_else(|| corrupt(&*self.inner, "an added subtree is empty"))?;
        if known_ws.is_some() && options.same_name == SameName::Fail {
            // No child of that name was there (checked above): the node is the
            // first of its name, wherever it was placed.
            return Ok(first_path);
        }
        self.inner
            .node_by_id(top)?
            .map(|r| r.path)
            .ok_or_else(|| corrupt(&*self.inner, "an added node vanished"))
    }

    /// [`crate::repository::Transaction::added_unaltered`]. `p` is looked up as
    /// it is, not normalized (callers pass the path `add_node` returned). None
    /// for a node the backend cannot place without a round trip (see
    /// [`crate::repository::content::ContentTxn::known_node_id_at`]).
    pub(crate) fn unaltered_at(&self, workspace: &str, p: &str) -> Result<Option<NodeId>> {
        let Some(ws) = self.inner.workspace_id(workspace)? else {
            return Ok(None);
        };
        Ok(self
            .inner
            .known_node_id_at(ws, p)?
            .filter(|&id| self.inner.unaltered(id)))
    }

    /// Removes the subtree at `row`, capturing it first.
    pub(crate) fn remove(&mut self, workspace: &str, row: &NodeRecord) -> Result<u64> {
        if row.parent.is_none() {
            return Err(RepositoryError::NotAllowed {
                workspace: workspace.to_string(),
                path: row.path.clone(),
                action: "remove",
                reason: "the root node cannot be removed".into(),
            });
        }
        self.touch_subtree(row)?;
        self.inner.remove_subtree(row.id)
    }

    /// [`crate::repository::Transaction::set_property`].
    pub(crate) fn set_prop(&mut self, workspace: &str, p: &str, prop: &Property) -> Result<()> {
        let row = self.require(workspace, p)?;
        let stored = self.check_property(workspace, &row.path, prop)?;
        if stored.name == "jcr:uuid" {
            if let Some(Value::String(uuid)) = stored.values.first() {
                if let Some(owner) = self.inner.uuid_owner(row.ws, uuid)? {
                    if owner != row.id {
                        let existing = self.inner.node_by_id(owner)?.map(|r| r.path);
                        return Err(RepositoryError::DuplicateUuid {
                            workspace: workspace.to_string(),
                            path: row.path.clone(),
                            uuid: uuid.clone(),
                            existing: existing.unwrap_or_default(),
                        });
                    }
                }
            }
        }
        self.touch_prop(&row, &stored.name)?;
        self.inner.set_property(row.id, &stored)
    }

    /// Sets the primary type and/or the mixins of a node.
    pub(crate) fn set_fields(
        &mut self,
        workspace: &str,
        p: &str,
        ptype: Option<&str>,
        mixins: Option<&[String]>,
    ) -> Result<()> {
        let p = path::normalize(p)?;
        if let Some(t) = ptype {
            check_type_name(t)?;
        }
        for m in mixins.unwrap_or_default() {
            check_type_name(m)?;
        }
        let row = self.require(workspace, &p)?;
        let new_type = ptype.unwrap_or(&row.primary_type).to_string();
        let new_mixins = match mixins {
            Some(m) => m.to_vec(),
            None => row.mixins.clone(),
        };
        if new_type == row.primary_type && new_mixins == row.mixins {
            return Ok(());
        }
        self.touch_node(&row)?;
        self.inner
            .update_node_keeping_paths(row.id, &new_type, &new_mixins, row.position)
    }

    /// Moves node `row` to `position`, capturing it first.
    fn move_to(&mut self, row: &NodeRecord, position: i64) -> Result<()> {
        self.touch_node(row)?;
        if self.has_same_name_sibling(row)? {
            self.inner
                .update_node(row.id, &row.primary_type, &row.mixins, position)
        } else {
            self.inner
                .update_node_keeping_paths(row.id, &row.primary_type, &row.mixins, position)
        }
    }

    /// Whether node `row` has a sibling of its name, so that moving it among
    /// its siblings renumbers their paths.
    fn has_same_name_sibling(&self, row: &NodeRecord) -> Result<bool> {
        let segment = path::last_segment(&row.path);
        if segment.ends_with(']') {
            return Ok(true);
        }
        let Some(parent) = path::parent(&row.path) else {
            return Ok(false);
        };
        let second = super::sns::child_path(parent, segment, 2);
        Ok(self.inner.node_at(row.ws, &second)?.is_some())
    }

    /// [`crate::repository::Transaction::order_before`].
    pub(crate) fn reorder(
        &mut self,
        workspace: &str,
        parent: &str,
        child: &str,
        before: Option<&str>,
    ) -> Result<String> {
        let parent = path::normalize(parent)?;
        let child_seg = Segment::parse(child)?.to_string();
        let before_seg = match before {
            Some(b) => Some(Segment::parse(b)?.to_string()),
            None => None,
        };
        let ws = require_ws(&*self.inner, workspace)?;
        let parent_row = require_at(&*self.inner, workspace, ws, &parent)?;
        let child_row = require_at(
            &*self.inner,
            workspace,
            ws,
            &path::join(&parent, &child_seg),
        )?;
        let position = match &before_seg {
            Some(b) => {
                let b_row = require_at(&*self.inner, workspace, ws, &path::join(&parent, b))?;
                if b_row.id == child_row.id {
                    return Ok(child_row.path);
                }
                let prev =
                    self.inner
                        .previous_sibling(parent_row.id, b_row.position, b_row.id, None)?;
                if prev.map(|p| p.id) == Some(child_row.id) {
                    return Ok(child_row.path);
                }
                self.position_before(parent_row.id, b_row.id, Some(child_row.id))?
            }
            None => {
                let last = self.inner.children(parent_row.id)?.pop();
                if last.map(|l| l.id) == Some(child_row.id) {
                    return Ok(child_row.path);
                }
                self.append_position(parent_row.id)?
            }
        };
        // Re-read: renumbering may have moved the child already.
        let child_row = self
            .inner
            .node_by_id(child_row.id)?
            .ok_or_else(|| corrupt(&*self.inner, "a reordered node vanished"))?;
        self.move_to(&child_row, position)?;
        self.inner
            .node_by_id(child_row.id)?
            .map(|r| r.path)
            .ok_or_else(|| corrupt(&*self.inner, "a reordered node vanished"))
    }

    /// [`crate::repository::Transaction::register_namespace`].
    pub(crate) fn add_namespace(&mut self, prefix: &str, uri: &str) -> Result<()> {
        let conflict = |reason: String| RepositoryError::NamespaceConflict {
            prefix: prefix.to_string(),
            uri: uri.to_string(),
            reason,
        };
        if prefix.is_empty() != uri.is_empty() {
            return Err(conflict(
                "only the empty prefix maps to the empty URI".into(),
            ));
        }
        if !prefix.is_empty() && !name::is_ncname(prefix) {
            return Err(conflict("the prefix is not an XML NCName".into()));
        }
        let current = self.inner.namespaces()?;
        if current.uri(prefix) == Some(uri) {
            return Ok(());
        }
        if let Some(u) = current.uri(prefix) {
            return Err(conflict(format!(
                "prefix '{prefix}' is already mapped to {u}"
            )));
        }
        if let Some(p) = current.prefix(uri) {
            return Err(conflict(format!("{uri} is already mapped to prefix '{p}'")));
        }
        if NamespaceRegistry::is_built_in_prefix(prefix)
            || namespace::BUILT_IN.iter().any(|(_, u)| *u == uri)
        {
            return Err(conflict("built-in namespaces cannot be remapped".into()));
        }
        self.touch_reg(RegKind::Namespace, prefix)?;
        self.inner.set_namespace(prefix, Some(uri))
    }

    /// The position after the last child of `parent`.
    pub(crate) fn append_position(&mut self, parent: NodeId) -> Result<i64> {
        match self.inner.last_position(parent)? {
            None => Ok(GAP),
            Some(m) => match m.checked_add(GAP) {
                Some(p) => Ok(p),
                None => {
                    let n = self.renumber(parent)?;
                    Ok(GAP.saturating_mul(n as i64 + 1))
                }
            },
        }
    }

    /// A position just before sibling `before` of `parent`, ignoring `moving` (the
    /// node being moved, if any); renumbers the siblings when there is no room.
    pub(crate) fn position_before(
        &mut self,
        parent: NodeId,
        before: NodeId,
        moving: Option<NodeId>,
    ) -> Result<i64> {
        for _ in 0..2 {
            let b = self
                .inner
                .node_by_id(before)?
                .ok_or_else(|| corrupt(&*self.inner, format!("node id {before} vanished")))?;
            let prev = self
                .inner
                .previous_sibling(parent, b.position, b.id, moving)?;
            match prev {
                None => {
                    if let Some(p) = b.position.checked_sub(GAP) {
                        return Ok(p);
                    }
                }
                Some(p) => {
                    let room = b.position as i128 - p.position as i128;
                    if room >= 2 {
                        return Ok((p.position as i128 + room / 2) as i64);
                    }
                }
            }
            self.renumber(parent)?;
        }
        Err(corrupt(
            &*self.inner,
            format!("cannot find room before node id {before} even after renumbering"),
        ))
    }

    /// Spaces the children of `parent` [`GAP`] apart again, in their current order,
    /// capturing each that moves. Returns the number of children.
    pub(crate) fn renumber(&mut self, parent: NodeId) -> Result<usize> {
        let rows = self.inner.children(parent)?;
        for (i, row) in rows.iter().enumerate() {
            let want = GAP.saturating_mul(i as i64 + 1);
            if row.position != want {
                self.move_to(row, want)?;
            }
        }
        Ok(rows.len())
    }
}

#[cfg(test)]
mod tests {
    use crate::node::Node;
    use crate::repository::memory::MemoryStore;
    use crate::repository::sqlite::SqliteStore;
    use crate::repository::{AddOptions, SameName, Store, Transaction, DEFAULT_WORKSPACE as WS};
    use crate::value::Property;

    fn unaltered(t: &dyn Transaction, p: &str) -> bool {
        t.added_unaltered(WS, p).unwrap().is_some()
    }

    /// A node the transaction added stays known as added until a mutation
    /// changes it; its children changing does not count, nor does a node that
    /// was there before count at all.
    fn added_nodes_are_known_until_changed(store: &mut dyn Store) {
        let mut t = store.begin("before").unwrap();
        t.add_node(
            WS,
            "/",
            &Node::new("old", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
        t.commit().unwrap();
        let mut t = store.begin("added").unwrap();
        assert!(!unaltered(&*t, "/old"), "a node from before");
        let mut a = Node::new("a", "nt:unstructured");
        a.set(Property::string("title", "A"));
        a.children.push(Node::new("kid", "nt:unstructured"));
        t.add_node(WS, "/", &a, &AddOptions::append()).unwrap();
        for n in ["b", "c", "d", "e"] {
            t.add_node(
                WS,
                "/",
                &Node::new(n, "nt:unstructured"),
                &AddOptions::append(),
            )
            .unwrap();
        }
        assert!(unaltered(&*t, "/a") && unaltered(&*t, "/a/kid"));
        let id = t.added_unaltered(WS, "/a").unwrap();
        t.add_node(
            WS,
            "/a",
            &Node::new("later", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
        t.remove_node(WS, "/a/kid").unwrap();
        assert_eq!(
            t.added_unaltered(WS, "/a").unwrap(),
            id,
            "children changed only"
        );
        t.set_property(WS, "/b", &Property::string("x", "1"))
            .unwrap();
        t.remove_property(WS, "/a", "title").unwrap();
        t.set_mixins(WS, "/c", &["mix:title".to_string()]).unwrap();
        t.set_primary_type(WS, "/d", "nt:folder").unwrap();
        for p in ["/a", "/b", "/c", "/d", "/a/kid", "/missing"] {
            assert!(!unaltered(&*t, p), "{p}");
        }
        assert!(unaltered(&*t, "/e") && unaltered(&*t, "/a/later"));
        t.remove_node(WS, "/e").unwrap();
        t.add_node(
            WS,
            "/",
            &Node::new("e", "nt:unstructured"),
            &AddOptions::append(),
        )
        .unwrap();
        assert!(unaltered(&*t, "/e"), "added again: another node");
        t.rollback().unwrap();
    }

    /// Same-name siblings (with their subtrees) that shift down an index or are
    /// ordered anew are no longer known at the paths they were added at: a path
    /// answers for no node or for the one there now, never for the one it was
    /// added for.
    fn moved_siblings_are_not_known_where_they_were(store: &mut dyn Store) {
        let mut t = store.begin("siblings").unwrap();
        let mut ids = std::collections::BTreeMap::new();
        for _ in 0..4 {
            let mut s = Node::new("s", "nt:unstructured");
            s.children.push(Node::new("k", "nt:unstructured"));
            let p = t
                .add_node(WS, "/", &s, &AddOptions::allow_same_name())
                .unwrap();
            for p in [p.clone(), format!("{p}/k")] {
                ids.insert(p.clone(), t.added_unaltered(WS, &p).unwrap().expect(&p));
            }
        }
        let was = |t: &dyn Transaction, p: &str| t.added_unaltered(WS, p).unwrap() == Some(ids[p]);
        let added: Vec<&str> = ids.keys().map(String::as_str).collect();
        assert_eq!(
            added,
            ["/s", "/s/k", "/s[2]", "/s[2]/k", "/s[3]", "/s[3]/k", "/s[4]", "/s[4]/k"]
        );
        assert!(added.iter().all(|p| was(&*t, p)), "all known as added");
        // s goes: s[2..4] become s, s[2], s[3], their children along.
        t.remove_node(WS, "/s").unwrap();
        for p in ["/s", "/s/k", "/s[2]", "/s[2]/k", "/s[3]", "/s[3]/k"] {
            assert!(!was(&*t, p), "{p} after a removal");
        }
        for p in ["/s[4]", "/s[4]/k"] {
            assert_eq!(t.added_unaltered(WS, p).unwrap(), None, "{p} is gone");
        }
        // What each path answers now (the node shifted there, or none) ...
        let mut ids_now = std::collections::BTreeMap::new();
        for p in ["/s", "/s[2]", "/s[3]"] {
            ids_now.insert(p, t.added_unaltered(WS, p).unwrap());
        }
        // ... is not what it answers once the last goes first and every
        // sibling moves.
        t.order_before(WS, "/", "s[3]", Some("s")).unwrap();
        for p in ["/s", "/s[2]", "/s[3]"] {
            let now = t.added_unaltered(WS, p).unwrap();
            assert!(now.is_none() || now != ids_now[p], "{p} after ordering");
        }
        t.rollback().unwrap();
    }

    /// A node the transaction added is vouched for as added, without its path
    /// being looked up, until any mutation that may move nodes: a removal, a
    /// reordering, an insertion before a sibling. Nodes added after that are
    /// again; an altered node never is.
    fn added_nodes_are_vouched_until_anything_moves(store: &mut dyn Store) {
        fn id_of(t: &mut dyn Transaction, name: &str, opts: &AddOptions) -> i64 {
            let p = t
                .add_node(WS, "/", &Node::new(name, "nt:unstructured"), opts)
                .unwrap();
            t.added_unaltered(WS, &p).unwrap().expect(name)
        }
        let mut tx = store.begin("vouched").unwrap();
        let t = &mut *tx;
        let append = AddOptions::append();
        let (a, b, c) = (
            id_of(t, "a", &append),
            id_of(t, "b", &append),
            id_of(t, "c", &append),
        );
        assert!([a, b, c].iter().all(|&id| t.still_as_added(id)));
        assert!(!t.still_as_added(a - 1), "not added by this transaction");
        t.set_property(WS, "/b", &Property::string("x", "1"))
            .unwrap();
        assert!(t.still_as_added(a) && !t.still_as_added(b), "b altered");
        t.set_primary_type(WS, "/c", "nt:folder").unwrap();
        assert!(
            t.still_as_added(a) && !t.still_as_added(c),
            "retyped in place"
        );
        t.order_before(WS, "/", "a", None).unwrap();
        assert!(!t.still_as_added(a), "after a reordering");
        let d = id_of(t, "d", &append);
        assert!(t.still_as_added(d), "added after the reordering");
        t.remove_node(WS, "/b").unwrap();
        assert!(!t.still_as_added(d), "after a removal");
        let e = id_of(t, "e", &append);
        let f = id_of(t, "f", &AddOptions::before("e"));
        // The first of its name: no same-name index shifts, no path changes.
        assert!(
            t.still_as_added(e),
            "a node of a new name was inserted before a sibling"
        );
        assert!(t.still_as_added(f), "the node inserted before");
        let g = id_of(t, "g", &append);
        t.add_node(
            WS,
            "/",
            &Node::new("e", "nt:unstructured"),
            &AddOptions::before("g").with_same_name(SameName::Allow),
        )
        .unwrap();
        assert!(
            !t.still_as_added(g),
            "a same-name sibling was inserted before a sibling"
        );
        tx.rollback().unwrap();
    }

    /// A node the transaction added with its children keeps them as added
    /// until a child is added below it otherwise than with it, removed, or
    /// retyped; a node added alone has them (none) until a child is added.
    /// What happens to its grandchildren or to itself alone (a property) does
    /// not change its children.
    fn added_children_are_vouched_until_they_change(store: &mut dyn Store) {
        let mut tx = store.begin("children").unwrap();
        let t = &mut *tx;
        let append = AddOptions::append();
        let tree = |name: &str| {
            let mut kid = Node::new("k", "nt:unstructured");
            kid.children.push(Node::new("g", "nt:unstructured"));
            let mut n = Node::new(name, "nt:unstructured");
            n.children.push(kid);
            n.children.push(Node::new("k2", "nt:unstructured"));
            n
        };
        let mut ids = std::collections::BTreeMap::new();
        for name in ["a", "b", "c", "d", "e"] {
            let p = t.add_node(WS, "/", &tree(name), &append).unwrap();
            ids.insert(name, t.added_unaltered(WS, &p).unwrap().expect(name));
        }
        let lone = t
            .add_node(WS, "/", &Node::new("lone", "nt:unstructured"), &append)
            .unwrap();
        let lone = t.added_unaltered(WS, &lone).unwrap().unwrap();
        let kid = t.added_unaltered(WS, "/a/k").unwrap().unwrap();
        assert!(ids.values().all(|&id| t.children_as_added(id)));
        assert!(t.children_as_added(kid) && t.children_as_added(lone));
        assert!(
            !t.children_as_added(ids["a"] - 1),
            "not added by this transaction"
        );
        t.add_node(WS, "/a/k/g", &Node::new("x", "nt:unstructured"), &append)
            .unwrap();
        t.set_property(WS, "/a/k", &Property::string("p", "1"))
            .unwrap();
        assert!(t.children_as_added(ids["a"]), "a grandchild changed");
        assert!(!t.children_as_added(kid), "a property of its own");
        t.add_node(WS, "/b", &Node::new("late", "nt:unstructured"), &append)
            .unwrap();
        assert!(!t.children_as_added(ids["b"]), "a child added later");
        t.remove_node(WS, "/c/k2").unwrap();
        assert!(!t.children_as_added(ids["c"]), "a child removed");
        t.set_primary_type(WS, "/d/k2", "nt:folder").unwrap();
        assert!(!t.children_as_added(ids["d"]), "a child retyped");
        t.add_node(WS, "/lone", &Node::new("late", "nt:unstructured"), &append)
            .unwrap();
        assert!(!t.children_as_added(lone), "a child added to a lone node");
        assert!(t.children_as_added(ids["e"]), "nothing happened to e");
        tx.rollback().unwrap();
    }

    fn both(store: &mut dyn Store) {
        added_nodes_are_known_until_changed(store);
        moved_siblings_are_not_known_where_they_were(store);
        added_nodes_are_vouched_until_anything_moves(store);
        added_children_are_vouched_until_they_change(store);
    }

    #[test]
    fn added_nodes_are_known_until_changed_in_memory() {
        let mut store = MemoryStore::in_memory("memory:added").unwrap();
        both(&mut store);
    }

    #[test]
    fn added_nodes_are_known_until_changed_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        both(&mut store);
    }

    /// On PostgreSQL the write cache answers (no round trip) for the nodes it
    /// holds.
    #[test]
    fn added_nodes_are_known_until_changed_on_postgresql() {
        let url = format!(
            "{}?schema=repo",
            crate::repository::pg::testdb::fresh_database()
        );
        let mut store = crate::repository::pg::PgStore::init_url(
            &url,
            &crate::repository::location::OpenOptions::default(),
        )
        .unwrap();
        both(&mut store);
    }
}
