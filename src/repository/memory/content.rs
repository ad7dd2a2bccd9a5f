//! The content store in maps: paths are computed from the parent chain and the
//! sibling order, so they follow every change by construction.

use super::{MemNode, MemoryTxn, State};
use crate::namespace::NamespaceRegistry;
use crate::path::{self, Segment};
use crate::repository::blob::{hex, is_sha256};
use crate::repository::content::{
    ContentRead, ContentTxn, NewNode, NodeId, NodeRecord, WorkspaceId,
};
use crate::repository::{RepositoryError, Result};
use crate::value::{Binary, Property, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

impl State {
    fn node(&self, id: NodeId) -> Result<&MemNode> {
        self.nodes
            .get(&id)
            .ok_or_else(|| self.corrupt(format!("node id {id} does not exist")))
    }

    /// The ordered children ids of `id`.
    fn child_ids(&self, id: NodeId) -> Vec<NodeId> {
        self.children
            .get(&id)
            .map(|c| c.iter().map(|&(_, i)| i).collect())
            .unwrap_or_default()
    }

    /// The same-name index of node `id` among its siblings.
    fn index_of(&self, id: NodeId, n: &MemNode) -> u32 {
        let Some(parent) = n.parent else { return 1 };
        let mut index = 1;
        for sib in self.child_ids(parent) {
            if sib == id {
                break;
            }
            if self.nodes.get(&sib).is_some_and(|s| s.name == n.name) {
                index += 1;
            }
        }
        index
    }

    fn path_of(&self, id: NodeId) -> Result<String> {
        let mut segments = Vec::new();
        let mut cur = id;
        loop {
            let n = self.node(cur)?;
            let Some(parent) = n.parent else { break };
            segments.push(
                Segment {
                    name: n.name.clone(),
                    index: self.index_of(cur, n),
                }
                .to_string(),
            );
            cur = parent;
        }
        segments.reverse();
        Ok(format!("/{}", segments.join("/")))
    }

    fn record(&self, id: NodeId) -> Result<NodeRecord> {
        let n = self.node(id)?;
        Ok(NodeRecord {
            id,
            ws: n.ws,
            parent: n.parent,
            name: n.name.clone(),
            position: n.position,
            path: self.path_of(id)?,
            primary_type: n.primary_type.clone(),
            mixins: n.mixins.clone(),
        })
    }

    fn require_blob(&self, sha256: &str, size: Option<u64>) -> Result<()> {
        let not_found = |reason: String| RepositoryError::BlobNotFound {
            repository: self.location.clone(),
            sha256: sha256.to_string(),
            reason,
        };
        if !is_sha256(sha256) {
            return Err(not_found("not a SHA-256".into()));
        }
        let blobs = self
            .blobs
            .lock()
            .map_err(|_| self.corrupt("the blob map is poisoned"))?;
        match blobs.get(sha256) {
            Some(b) if size.is_none_or(|s| s == b.len() as u64) => Ok(()),
            Some(b) => Err(not_found(format!("the stored blob has {} bytes", b.len()))),
            None => Err(not_found("no such blob".into())),
        }
    }

    /// Removes node `id` and its subtree from every map; returns the count.
    fn drop_subtree(&mut self, id: NodeId) -> u64 {
        let mut count = 0;
        let mut pending = vec![id];
        while let Some(cur) = pending.pop() {
            if let Some(kids) = self.children.remove(&cur) {
                pending.extend(kids.into_iter().map(|(_, i)| i));
            }
            self.props.remove(&cur);
            if self.nodes.remove(&cur).is_some() {
                count += 1;
            }
        }
        count
    }
}

impl ContentRead for State {
    fn location(&self) -> &Path {
        State::location(self)
    }

    fn workspaces(&self) -> Result<Vec<(String, WorkspaceId)>> {
        Ok(self
            .workspaces
            .iter()
            .map(|(n, &i)| (n.clone(), i))
            .collect())
    }

    fn workspace_id(&self, name: &str) -> Result<Option<WorkspaceId>> {
        Ok(self.workspaces.get(name).copied())
    }

    fn workspace_name(&self, ws: WorkspaceId) -> Result<Option<String>> {
        Ok(self.ws_names.get(&ws).cloned())
    }

    fn node_at(&self, ws: WorkspaceId, p: &str) -> Result<Option<NodeRecord>> {
        let Some(&root) = self.roots.get(&ws) else {
            return Ok(None);
        };
        let mut cur = root;
        for seg in path::segments(p) {
            let seg = Segment::parse(seg)?;
            let found = self
                .child_ids(cur)
                .into_iter()
                .filter(|c| self.nodes.get(c).is_some_and(|n| n.name == seg.name))
                .nth(seg.index as usize - 1);
            match found {
                Some(c) => cur = c,
                None => return Ok(None),
            }
        }
        self.record(cur).map(Some)
    }

    fn node_by_id(&self, id: NodeId) -> Result<Option<NodeRecord>> {
        if !self.nodes.contains_key(&id) {
            return Ok(None);
        }
        self.record(id).map(Some)
    }

    fn children(&self, id: NodeId) -> Result<Vec<NodeRecord>> {
        // One pass: the parent's path once, same-name indexes counted on the way.
        let base = self.path_of(id)?;
        let mut seen: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut out = Vec::new();
        for c in self.child_ids(id) {
            let n = self.node(c)?;
            let index = seen.entry(n.name.as_str()).or_insert(0);
            *index += 1;
            let seg = Segment {
                name: n.name.clone(),
                index: *index,
            };
            out.push(NodeRecord {
                id: c,
                ws: n.ws,
                parent: n.parent,
                name: n.name.clone(),
                position: n.position,
                path: path::join(&base, &seg.to_string()),
                primary_type: n.primary_type.clone(),
                mixins: n.mixins.clone(),
            });
        }
        Ok(out)
    }

    fn has_children(&self, id: NodeId) -> Result<bool> {
        Ok(self.children.get(&id).is_some_and(|c| !c.is_empty()))
    }

    fn last_position(&self, parent: NodeId) -> Result<Option<i64>> {
        Ok(self
            .children
            .get(&parent)
            .and_then(|c| c.iter().next_back())
            .map(|&(p, _)| p))
    }

    fn previous_sibling(
        &self,
        parent: NodeId,
        position: i64,
        id: NodeId,
        except: Option<NodeId>,
    ) -> Result<Option<NodeRecord>> {
        let Some(siblings) = self.children.get(&parent) else {
            return Ok(None);
        };
        match siblings
            .range(..(position, id))
            .rev()
            .find(|&&(_, i)| Some(i) != except)
        {
            Some(&(_, i)) => self.record(i).map(Some),
            None => Ok(None),
        }
    }

    fn properties(&self, id: NodeId) -> Result<Vec<Property>> {
        Ok(self
            .props
            .get(&id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    fn property(&self, id: NodeId, name: &str) -> Result<Option<Property>> {
        Ok(self.props.get(&id).and_then(|m| m.get(name)).cloned())
    }

    fn uuid_owners(&self, ws: WorkspaceId, uuid: &str) -> Result<Vec<NodeId>> {
        Ok(self
            .props
            .iter()
            .filter(|(id, m)| {
                self.nodes.get(id).is_some_and(|n| n.ws == ws)
                    && m.get("jcr:uuid")
                        .and_then(|p| p.values.first())
                        .is_some_and(|v| matches!(v, Value::String(s) if s == uuid))
            })
            .map(|(&id, _)| id)
            .collect())
    }

    fn namespaces(&self) -> Result<NamespaceRegistry> {
        let mut reg = NamespaceRegistry::new();
        for (p, u) in &self.namespaces {
            if reg.uri(p) != Some(u.as_str()) {
                reg.set(p, u);
            }
        }
        Ok(reg)
    }

    fn node_types(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .node_types
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect())
    }

    fn node_type(&self, name: &str) -> Result<Option<String>> {
        Ok(self.node_types.get(name).cloned())
    }

    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)
            .map_err(|e| RepositoryError::Io {
                path: self.location.clone(),
                source: e,
            })?;
        let sha256 = hex(&Sha256::digest(&bytes));
        let size = bytes.len() as u64;
        self.blobs
            .lock()
            .map_err(|_| self.corrupt("the blob map is poisoned"))?
            .entry(sha256.clone())
            .or_insert(bytes);
        Ok(Binary::Blob { sha256, size })
    }

    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        self.require_blob(sha256, None)?;
        let bytes = self
            .blobs
            .lock()
            .map_err(|_| self.corrupt("the blob map is poisoned"))?
            .get(sha256)
            .cloned()
            .unwrap_or_default();
        Ok(Box::new(std::io::Cursor::new(bytes)))
    }

    fn check_blob(&self, sha256: &str, size: u64) -> Result<()> {
        self.require_blob(sha256, Some(size))
    }

    fn aggregate_digest(&self, id: NodeId) -> Result<Option<Vec<u8>>> {
        Ok(self.digests.get(&id).cloned())
    }

    fn has_aggregate_digests(&self) -> Result<bool> {
        Ok(!self.digests.is_empty())
    }
}

// The reads of a transaction go to its working copy.
crate::repository::content::forward_content_read!(MemoryTxn<'_>, |t| &t.work);

impl ContentTxn for MemoryTxn<'_> {
    fn first_new_id(&self) -> NodeId {
        self.work.first_id
    }

    fn alloc_node_id(&mut self) -> Result<NodeId> {
        let id = self.work.next_node_id;
        self.work.next_node_id = id
            .checked_add(1)
            .ok_or_else(|| self.work.corrupt("node ids ran out"))?;
        Ok(id)
    }

    fn new_nodes(&self, after: Option<NodeId>, limit: usize) -> Result<Vec<NodeRecord>> {
        let from = match after {
            Some(a) => a.saturating_add(1).max(self.work.first_id),
            None => self.work.first_id,
        };
        self.work
            .nodes
            .range(from..)
            .take(limit)
            .map(|(&id, _)| self.work.record(id))
            .collect()
    }

    fn insert_workspace(&mut self, name: &str, id: Option<WorkspaceId>) -> Result<WorkspaceId> {
        let w = &mut self.work;
        if w.workspaces.contains_key(name) {
            return Err(w.corrupt(format!("workspace '{name}' exists already")));
        }
        let id = match id {
            Some(id) => {
                if w.workspaces.values().any(|&i| i == id) {
                    return Err(w.corrupt(format!("workspace id {id} is in use")));
                }
                match w.ws_names.get(&id) {
                    Some(old) if old != name => {
                        return Err(w.corrupt(format!(
                            "workspace id {id} belonged to '{old}', not '{name}'"
                        )))
                    }
                    Some(_) => id,
                    None => return Err(w.corrupt(format!("workspace id {id} never existed"))),
                }
            }
            None => w.ws_names.keys().next_back().map_or(1, |last| last + 1),
        };
        w.workspaces.insert(name.to_string(), id);
        w.ws_names.insert(id, name.to_string());
        Ok(id)
    }

    fn remove_workspace(&mut self, ws: WorkspaceId) -> Result<u64> {
        let w = &mut self.work;
        let Some(name) = w
            .workspaces
            .iter()
            .find(|(_, &i)| i == ws)
            .map(|(n, _)| n.clone())
        else {
            return Err(w.corrupt(format!("workspace id {ws} does not exist")));
        };
        w.workspaces.remove(&name);
        let count = match w.roots.remove(&ws) {
            Some(root) => w.drop_subtree(root),
            None => 0,
        };
        Ok(count)
    }

    fn insert_node(&mut self, node: NewNode) -> Result<()> {
        let w = &mut self.work;
        if w.nodes.contains_key(&node.id) {
            return Err(w.corrupt(format!("node id {} is in use", node.id)));
        }
        if node.id >= w.next_node_id {
            return Err(w.corrupt(format!("node id {} was never handed out", node.id)));
        }
        if !w.workspaces.values().any(|&i| i == node.ws) {
            return Err(w.corrupt(format!("workspace id {} does not exist", node.ws)));
        }
        match node.parent {
            None => {
                if w.roots.contains_key(&node.ws) {
                    return Err(w.corrupt(format!("workspace id {} has a root already", node.ws)));
                }
                if !node.name.is_empty() {
                    return Err(w.corrupt("a root node has no name"));
                }
                w.roots.insert(node.ws, node.id);
            }
            Some(parent) => {
                match w.nodes.get(&parent) {
                    Some(p) if p.ws == node.ws => {}
                    Some(_) => {
                        return Err(
                            w.corrupt(format!("parent id {parent} lies in another workspace"))
                        )
                    }
                    None => return Err(w.corrupt(format!("parent id {parent} does not exist"))),
                }
                if node.name.is_empty() {
                    return Err(w.corrupt("a node below the root needs a name"));
                }
                w.children
                    .entry(parent)
                    .or_default()
                    .insert((node.position, node.id));
            }
        }
        w.nodes.insert(
            node.id,
            MemNode {
                ws: node.ws,
                parent: node.parent,
                name: node.name,
                position: node.position,
                primary_type: node.primary_type,
                mixins: node.mixins,
            },
        );
        Ok(())
    }

    fn remove_subtree(&mut self, id: NodeId) -> Result<u64> {
        let w = &mut self.work;
        let n = w.node(id)?.clone();
        let Some(parent) = n.parent else {
            return Err(w.corrupt("a workspace root is removed only with its workspace"));
        };
        if let Some(siblings) = w.children.get_mut(&parent) {
            siblings.remove(&(n.position, id));
        }
        Ok(w.drop_subtree(id))
    }

    fn update_node(
        &mut self,
        id: NodeId,
        primary_type: &str,
        mixins: &[String],
        position: i64,
    ) -> Result<()> {
        let w = &mut self.work;
        let n = w.node(id)?.clone();
        if let Some(parent) = n.parent {
            if let Some(siblings) = w.children.get_mut(&parent) {
                siblings.remove(&(n.position, id));
                siblings.insert((position, id));
            }
        }
        if let Some(n) = w.nodes.get_mut(&id) {
            n.primary_type = primary_type.to_string();
            n.mixins = mixins.to_vec();
            n.position = position;
        }
        Ok(())
    }

    fn set_property(&mut self, id: NodeId, property: &Property) -> Result<()> {
        let w = &mut self.work;
        w.node(id)?;
        if property.name == "jcr:primaryType" || property.name == "jcr:mixinTypes" {
            return Err(w.corrupt(format!("{} is a node field", property.name)));
        }
        for v in &property.values {
            match v {
                Value::Binary(Binary::Blob { sha256, size }) => {
                    w.require_blob(sha256, Some(*size))?
                }
                Value::Binary(Binary::Reference(_)) => {}
                Value::Binary(other) => {
                    return Err(w.corrupt(format!(
                        "binary values are stored as blobs, not as {other:?}"
                    )))
                }
                _ => {}
            }
        }
        w.props
            .entry(id)
            .or_default()
            .insert(property.name.clone(), property.clone());
        Ok(())
    }

    fn set_aggregate_digest(&mut self, id: NodeId, digest: &[u8]) -> Result<()> {
        let w = &mut self.work;
        w.node(id)?;
        w.digests.insert(id, digest.to_vec());
        Ok(())
    }

    fn clear_aggregate_digest(&mut self, id: NodeId) -> Result<()> {
        self.work.digests.remove(&id);
        Ok(())
    }

    fn remove_property(&mut self, id: NodeId, name: &str) -> Result<bool> {
        let w = &mut self.work;
        w.node(id)?;
        Ok(w.props.get_mut(&id).and_then(|m| m.remove(name)).is_some())
    }

    fn set_namespace(&mut self, prefix: &str, uri: Option<&str>) -> Result<()> {
        let w = &mut self.work;
        let missing = w.corrupt(format!("namespace prefix '{prefix}' is not registered"));
        set_entry(&mut w.namespaces, prefix, uri, missing)
    }

    fn set_node_type(&mut self, name: &str, cnd: Option<&str>) -> Result<()> {
        let w = &mut self.work;
        let missing = w.corrupt(format!("node type '{name}' is not registered"));
        set_entry(&mut w.node_types, name, cnd, missing)
    }
}

/// Sets `key` of a registry to `value`, or removes it (`None`), which must then be
/// there (else `missing`).
fn set_entry(
    map: &mut std::collections::BTreeMap<String, String>,
    key: &str,
    value: Option<&str>,
    missing: RepositoryError,
) -> Result<()> {
    match value {
        Some(v) => {
            map.insert(key.to_string(), v.to_string());
            Ok(())
        }
        None => match map.remove(key) {
            Some(_) => Ok(()),
            None => Err(missing),
        },
    }
}
