//! The walk that compares a subtree of the backup with the same subtree of the
//! repository and, when it writes, makes the repository's subtree equal to the
//! backup's.
//!
//! Both sides are read node by node in document order (a node, its properties and
//! its children list, then each child's subtree), so the cost is in proportion to
//! the subtrees compared and memory to their depth times their widest child list.
//! A subtree that is only in the backup is streamed from the backup's
//! [`StoreRead::walk`]; one that is only in the repository is removed whole.
//!
//! Children are matched by segment (name and same-name-sibling index), as paths
//! name them. Reading and writing share one walk: [`Target::Read`] only reports
//! the differences, [`Target::Write`] reports and applies them, so a dry run and the
//! real restore cannot disagree about what differs.

use super::blobs::Blobs;
use super::change::{Change, ChangeKind, WorkspaceSummary};
use super::error::{RestoreError, Result};
use super::needs::Needs;
use crate::diff::{display_value, PropertyChange};
use crate::events::{Event, Events};
use crate::node::Node;
use crate::path;
use crate::repository::{AddOptions, NodeInfo, SameName, StoreRead, Transaction, ROOT_TYPE};
use crate::value::{Binary, Property, Value};
use std::collections::HashSet;

/// The repository side of a walk: read only (the differences), or a transaction the
/// walk writes to.
pub(crate) enum Target<'a> {
    /// Compare only.
    Read(&'a dyn StoreRead),
    /// Compare and apply.
    Write(&'a mut dyn Transaction),
}

impl Target<'_> {
    pub(crate) fn r(&self) -> &dyn StoreRead {
        match self {
            Target::Read(r) => *r,
            Target::Write(w) => &**w,
        }
    }

    pub(crate) fn w(&mut self) -> Option<&mut dyn Transaction> {
        match self {
            Target::Read(_) => None,
            Target::Write(w) => Some(&mut **w),
        }
    }
}

/// Where the differences go as they are found.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(&Change) -> Result<()>;

/// One walk over the roots of one workspace.
pub(crate) struct Walk<'a, 'b> {
    pub src: &'a dyn StoreRead,
    pub tgt: &'b mut Target<'a>,
    pub ws: String,
    /// The workspace exists in the backup / in the repository.
    pub src_has: bool,
    pub tgt_has: bool,
    /// The roots restored in this workspace (identifiers held below them may move).
    pub roots: Vec<String>,
    /// The restore may write below the system roots (a whole workspace from a
    /// verified backup, [`super::Plan::verified_backup`]); otherwise they are out of
    /// its scope on both sides, as if neither had them.
    pub system_roots: bool,
    /// Build every [`Change`] for the sink (otherwise only count).
    pub list: bool,
    pub sink: Sink<'b>,
    pub events: &'b dyn Events,
    pub summary: WorkspaceSummary,
    pub needs: &'b mut Needs,
    pub blobs: &'b mut Blobs,
}

fn segment(n: &NodeInfo) -> String {
    if n.index > 1 {
        format!("{}[{}]", n.name, n.index)
    } else {
        n.name.clone()
    }
}

fn bare_root(p: &str) -> Option<NodeInfo> {
    (p == "/").then(|| NodeInfo {
        path: "/".into(),
        name: String::new(),
        index: 1,
        primary_type: ROOT_TYPE.into(),
        mixins: Vec::new(),
        uuid: None,
    })
}

impl Walk<'_, '_> {
    fn s_node(&self, p: &str) -> Result<Option<NodeInfo>> {
        if !self.src_has {
            return Ok(bare_root(p));
        }
        Ok(self.src.node(&self.ws, p)?)
    }

    fn t_node(&self, p: &str) -> Result<Option<NodeInfo>> {
        if !self.tgt_has {
            return Ok(bare_root(p));
        }
        Ok(self.tgt.r().node(&self.ws, p)?)
    }

    fn s_children(&self, p: &str) -> Result<Vec<NodeInfo>> {
        if !self.src_has {
            return Ok(Vec::new());
        }
        Ok(self.in_scope(self.src.children(&self.ws, p)?))
    }

    fn t_children(&self, p: &str) -> Result<Vec<NodeInfo>> {
        if !self.tgt_has {
            return Ok(Vec::new());
        }
        Ok(self.in_scope(self.tgt.r().children(&self.ws, p)?))
    }

    /// `children` without the system roots, unless the restore may write them: on
    /// neither side, they are neither added, changed, deleted nor reordered.
    fn in_scope(&self, mut children: Vec<NodeInfo>) -> Vec<NodeInfo> {
        if !self.system_roots {
            children.retain(|c| crate::write_rules::system_root_of(&c.path).is_none());
        }
        children
    }

    fn s_props(&self, p: &str) -> Result<Vec<Property>> {
        if !self.src_has {
            return Ok(Vec::new());
        }
        Ok(self.src.properties(&self.ws, p)?)
    }

    fn t_props(&self, p: &str) -> Result<Vec<Property>> {
        if !self.tgt_has {
            return Ok(Vec::new());
        }
        Ok(self.tgt.r().properties(&self.ws, p)?)
    }

    fn emit(&mut self, c: Change) -> Result<()> {
        self.summary.count(&c);
        self.events.event(&Event::Advance { amount: 1 });
        if self.list {
            (self.sink)(&c)?;
        }
        Ok(())
    }

    /// Makes the workspace exist in the repository (when writing).
    pub fn create_workspace(&mut self) -> Result<()> {
        if self.tgt_has {
            return Ok(());
        }
        self.summary.created = true;
        if let Some(w) = self.tgt.w() {
            w.create_workspace(&self.ws)?;
            self.tgt_has = true;
        }
        Ok(())
    }

    /// Restores one root; returns `false` when it is in neither side.
    pub fn root(&mut self, root: &str) -> Result<bool> {
        if !self.system_roots {
            if let Some(system) = crate::write_rules::system_root_of(root) {
                return Err(RestoreError::SystemRoot {
                    workspace: self.ws.clone(),
                    root: root.to_string(),
                    system,
                });
            }
        }
        let s = self.s_node(root)?;
        let t = self.t_node(root)?;
        match (s, t) {
            (None, None) => return Ok(false),
            (Some(_), None) => {
                self.ensure_ancestors(root)?;
                let parent = path::parent(root).unwrap_or("/").to_string();
                let before = self.position_before(&parent, path::last_segment(root))?;
                self.add_subtree(root, &parent, before)?;
            }
            (None, Some(_)) => self.delete(root)?,
            (Some(s), Some(t)) => {
                if root != "/" {
                    self.fix_position(root)?;
                }
                self.sync(root, &s, &t)?;
            }
        }
        Ok(true)
    }

    /// Creates the ancestors of `root` that the repository lacks, as they are in
    /// the backup (types, mixins, properties; not their other children).
    fn ensure_ancestors(&mut self, root: &str) -> Result<()> {
        for anc in path::ancestors(root) {
            if anc == "/" || self.t_node(anc)?.is_some() {
                continue;
            }
            let Some(info) = self.s_node(anc)? else {
                continue;
            };
            let props = self.s_props(anc)?;
            let parent = path::parent(anc).unwrap_or("/").to_string();
            let before = self.position_before(&parent, path::last_segment(anc))?;
            self.add_one(anc, &parent, &info, props, before)?;
        }
        Ok(())
    }

    /// The first sibling after `seg` in the backup's order that the repository has,
    /// so that a node coming back takes its place among the siblings that exist.
    fn position_before(&self, parent: &str, seg: &str) -> Result<Option<String>> {
        if self.t_node(parent)?.is_none() {
            return Ok(None);
        }
        let existing: HashSet<String> = self.t_children(parent)?.iter().map(segment).collect();
        let siblings = self.s_children(parent)?;
        Ok(siblings
            .iter()
            .map(segment)
            .skip_while(|s| s != seg)
            .skip(1)
            .find(|s| existing.contains(s)))
    }

    /// Puts an existing root back in the place it had among its siblings in the
    /// backup, relative to the siblings both have.
    fn fix_position(&mut self, root: &str) -> Result<()> {
        let parent = path::parent(root).unwrap_or("/").to_string();
        let seg = path::last_segment(root).to_string();
        let sc: Vec<String> = self.s_children(&parent)?.iter().map(segment).collect();
        let tc: Vec<String> = self.t_children(&parent)?.iter().map(segment).collect();
        let sset: HashSet<&String> = sc.iter().collect();
        let tset: HashSet<&String> = tc.iter().collect();
        let s_common: Vec<&String> = sc.iter().filter(|s| tset.contains(s)).collect();
        let t_common: Vec<&String> = tc.iter().filter(|s| sset.contains(s)).collect();
        let neighbours = |list: &[&String]| {
            let i = list.iter().position(|s| **s == seg);
            i.map(|i| {
                (
                    i.checked_sub(1).map(|j| list[j].clone()),
                    list.get(i + 1).map(|s| (*s).clone()),
                )
            })
        };
        let (Some((s_prev, s_next)), Some((t_prev, t_next))) =
            (neighbours(&s_common), neighbours(&t_common))
        else {
            return Ok(());
        };
        if s_next == t_next && (s_next.is_some() || s_prev == t_prev) {
            return Ok(());
        }
        // Before its next common sibling in the backup; else right after its previous one.
        let mut rest: Vec<String> = tc.iter().filter(|s| **s != seg).cloned().collect();
        let before = match &s_next {
            Some(n) => Some(n.clone()),
            None => s_prev.as_ref().and_then(|p| {
                let i = rest.iter().position(|s| s == p)?;
                rest.get(i + 1).cloned()
            }),
        };
        let at = match &before {
            Some(b) => rest.iter().position(|s| s == b).unwrap_or(rest.len()),
            None => rest.len(),
        };
        rest.insert(at, seg.clone());
        let change = Change {
            workspace: self.ws.clone(),
            path: parent.clone(),
            change: ChangeKind::Changed,
            primary_type: None,
            mixins: None,
            properties: Vec::new(),
            order: Some((tc.clone(), rest)),
            nodes: 0,
        };
        self.emit(change)?;
        if let Some(w) = self.tgt.w() {
            w.order_before(&self.ws, &parent, &seg, before.as_deref())?;
        }
        Ok(())
    }

    /// Makes the node at `p` (in both) and its subtree equal to the backup's.
    fn sync(&mut self, p: &str, s: &NodeInfo, t: &NodeInfo) -> Result<()> {
        let sp = self.s_props(p)?;
        let tp = self.t_props(p)?;
        let props = property_changes(&tp, &sp);
        let primary_type = (s.primary_type != t.primary_type)
            .then(|| (Some(t.primary_type.clone()), Some(s.primary_type.clone())));
        let mixins = (s.mixins != t.mixins).then(|| (t.mixins.clone(), s.mixins.clone()));
        let sc = self.s_children(p)?;
        let tc = self.t_children(p)?;
        let sseg: Vec<String> = sc.iter().map(segment).collect();
        let tseg: Vec<String> = tc.iter().map(segment).collect();
        let sset: HashSet<&String> = sseg.iter().collect();
        let tset: HashSet<&String> = tseg.iter().collect();
        let mut current: Vec<String> = tseg.iter().filter(|x| sset.contains(x)).cloned().collect();
        current.extend(sseg.iter().filter(|x| !tset.contains(x)).cloned());
        let order = (current != sseg).then(|| (current.clone(), sseg.clone()));
        if primary_type.is_some() || mixins.is_some() || !props.is_empty() || order.is_some() {
            if primary_type.is_some() || mixins.is_some() || !props.is_empty() {
                self.needs.node(s);
                for (_, after) in &props {
                    if let Some(a) = after {
                        self.needs.property(a);
                    }
                }
            }
            let change = Change {
                workspace: self.ws.clone(),
                path: p.to_string(),
                change: ChangeKind::Changed,
                primary_type: primary_type.clone(),
                mixins: mixins.clone(),
                properties: if self.list {
                    props
                        .iter()
                        .map(|(b, a)| PropertyChange {
                            name: b.or(*a).map(|x| x.name.clone()).unwrap_or_default(),
                            before: b.map(display_value),
                            after: a.map(display_value),
                        })
                        .collect()
                } else {
                    // Counted only: the values are not needed.
                    props
                        .iter()
                        .map(|(b, a)| PropertyChange {
                            name: String::new(),
                            before: b.map(|_| String::new()),
                            after: a.map(|_| String::new()),
                        })
                        .collect()
                },
                order: order.clone(),
                nodes: 0,
            };
            self.emit(change)?;
        }
        // Identifiers this node takes that others hold now.
        for (_, a) in &props {
            if let Some(a) = a {
                if a.name == "jcr:uuid" {
                    self.claim_uuid(p, a)?;
                }
            }
        }
        if self.tgt.w().is_some() {
            let ws = self.ws.clone();
            if let Some((_, Some(pt))) = &primary_type {
                self.tgt
                    .w()
                    .into_iter()
                    .try_for_each(|w| w.set_primary_type(&ws, p, pt))?;
            }
            if let Some((_, m)) = &mixins {
                self.tgt
                    .w()
                    .into_iter()
                    .try_for_each(|w| w.set_mixins(&ws, p, m))?;
            }
            for (b, a) in &props {
                match (b, a) {
                    (Some(b), None) => {
                        if let Some(w) = self.tgt.w() {
                            w.remove_property(&ws, p, &b.name)?;
                        }
                    }
                    (_, Some(a)) => {
                        let a = self.local(a)?;
                        if let Some(w) = self.tgt.w() {
                            w.set_property(&ws, p, &a)?;
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        // Children the backup does not have go (last first, so that same-name
        // indexes of the ones that stay do not shift).
        for c in tc.iter().rev() {
            if !sset.contains(&segment(c)) {
                self.delete(&c.path)?;
            }
        }
        let mut now: std::collections::HashMap<String, NodeInfo> =
            tc.into_iter().map(|c| (segment(&c), c)).collect();
        for c in &sc {
            let seg = segment(c);
            let child = path::join(p, &seg);
            match now.remove(&seg) {
                Some(t) => self.sync(&child, c, &t)?,
                None => self.add_subtree(&child, p, None)?,
            }
        }
        if order.is_some() {
            self.reorder(p, &sseg)?;
        }
        Ok(())
    }

    /// Orders the children of `p` as `desired` (the same set of segments).
    fn reorder(&mut self, p: &str, desired: &[String]) -> Result<()> {
        if self.tgt.w().is_none() {
            return Ok(());
        }
        let mut cur: Vec<String> = self.t_children(p)?.iter().map(segment).collect();
        let ws = self.ws.clone();
        for (i, want) in desired.iter().enumerate() {
            if cur.get(i) == Some(want) {
                continue;
            }
            let Some(j) = cur.iter().position(|s| s == want) else {
                continue;
            };
            if let Some(w) = self.tgt.w() {
                w.order_before(&ws, p, want, cur.get(i).map(String::as_str))?;
            }
            let x = cur.remove(j);
            cur.insert(i, x);
        }
        Ok(())
    }

    /// Removes the node at `p` with its subtree.
    fn delete(&mut self, p: &str) -> Result<()> {
        let nodes = match self.tgt.w() {
            Some(w) => w.remove_node(&self.ws, p)?,
            None => {
                let mut n = 0u64;
                for e in self.tgt.r().walk(&self.ws, p)? {
                    e?;
                    n += 1;
                }
                n
            }
        };
        let t = Change {
            workspace: self.ws.clone(),
            path: p.to_string(),
            change: ChangeKind::Deleted,
            primary_type: None,
            mixins: None,
            properties: Vec::new(),
            order: None,
            nodes,
        };
        self.emit(t)
    }

    /// Adds the backup's subtree at `p` below `parent` (before sibling `before`, or
    /// at the end), streaming it from the backup.
    fn add_subtree(&mut self, p: &str, parent: &str, before: Option<String>) -> Result<()> {
        let src = self.src;
        let mut walk = src.walk(&self.ws, p)?;
        // The repository path of the node at each depth of the walk.
        let mut stack: Vec<String> = Vec::new();
        let mut before = before;
        for e in &mut walk {
            let e = e?;
            stack.truncate(e.depth);
            let into = match e.depth {
                0 => parent.to_string(),
                d => stack[d - 1].clone(),
            };
            let info = NodeInfo {
                path: e.path.clone(),
                name: e.node.name.clone(),
                index: e.node.index,
                primary_type: e.node.primary_type.clone(),
                mixins: e.node.mixins.clone(),
                uuid: None,
            };
            let props: Vec<Property> = e.node.properties.into_values().collect();
            let added = self.add_one(&e.path, &into, &info, props, before.take())?;
            stack.push(added);
        }
        Ok(())
    }

    /// Adds one node of the backup (without children) below `parent`; returns its
    /// path in the repository.
    fn add_one(
        &mut self,
        p: &str,
        parent: &str,
        info: &NodeInfo,
        props: Vec<Property>,
        before: Option<String>,
    ) -> Result<String> {
        // The rules every writing path obeys (crate::write_rules): names, the depth
        // limit and the deny list, lifted only for a whole workspace from a verified
        // backup, the repository's own image (`/jcr:system`'s version history comes
        // back with a whole restore).
        let rules = crate::write_rules::WriteRules::allowing_system_roots(self.system_roots);
        let names = props.iter().map(|x| x.name.as_str());
        crate::write_rules::check_node(parent, &info.name, names, &rules)?;
        self.needs.node(info);
        for x in &props {
            self.needs.property(x);
        }
        if self.list {
            let change = Change {
                workspace: self.ws.clone(),
                path: p.to_string(),
                change: ChangeKind::Added,
                primary_type: Some((None, Some(info.primary_type.clone()))),
                mixins: (!info.mixins.is_empty()).then(|| (Vec::new(), info.mixins.clone())),
                properties: props
                    .iter()
                    .map(|x| PropertyChange {
                        name: x.name.clone(),
                        before: None,
                        after: Some(display_value(x)),
                    })
                    .collect(),
                order: None,
                nodes: 1,
            };
            self.emit(change)?;
        } else {
            self.summary.nodes_added += 1;
            self.summary.properties_added += props.len() as u64;
            self.events.event(&Event::Advance { amount: 1 });
        }
        for x in &props {
            if x.name == "jcr:uuid" {
                self.claim_uuid(p, x)?;
            }
        }
        if self.tgt.w().is_none() {
            return Ok(p.to_string());
        }
        let mut node = Node {
            name: info.name.clone(),
            index: 1,
            primary_type: info.primary_type.clone(),
            mixins: info.mixins.clone(),
            ..Node::default()
        };
        for x in &props {
            let x = self.local(x)?;
            node.properties.insert(x.name.clone(), x);
        }
        let options = AddOptions {
            before,
            same_name: SameName::Allow,
        };
        let ws = self.ws.clone();
        match self.tgt.w() {
            Some(w) => Ok(w.add_node(&ws, parent, &node, &options)?),
            None => Ok(p.to_string()),
        }
    }

    /// A property of the backup with its blobs in the repository's store.
    fn local(&mut self, x: &Property) -> Result<Property> {
        for v in &x.values {
            if let Value::Binary(Binary::Blob { sha256, size }) = v {
                self.blobs.ensure(self.src, self.tgt.r(), sha256, *size)?;
            }
        }
        Ok(x.clone())
    }

    /// Frees the identifier `uuid` for the node at `p`: a node below the restored
    /// roots that holds it now loses it (it is restored or removed later in this
    /// walk); a node elsewhere is a conflict.
    fn claim_uuid(&mut self, p: &str, x: &Property) -> Result<()> {
        let Some(Value::String(uuid)) = x.values.first() else {
            return Ok(());
        };
        if !self.tgt_has {
            return Ok(());
        }
        let holder = self.tgt.r().find_by_uuid(&self.ws, uuid)?;
        let Some(q) = holder else {
            return Ok(());
        };
        if q == p {
            return Ok(());
        }
        if !self
            .roots
            .iter()
            .any(|r| path::is_self_or_descendant(&q, r))
        {
            return Err(RestoreError::IdentifierConflict {
                workspace: self.ws.clone(),
                path: p.to_string(),
                uuid: uuid.clone(),
                existing: q,
            });
        }
        let ws = self.ws.clone();
        if let Some(w) = self.tgt.w() {
            w.remove_property(&ws, &q, "jcr:uuid")?;
        }
        Ok(())
    }
}

/// The properties that differ, by name: (now, in the backup).
fn property_changes<'p>(
    now: &'p [Property],
    backup: &'p [Property],
) -> Vec<(Option<&'p Property>, Option<&'p Property>)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < now.len() || j < backup.len() {
        let ord = match (now.get(i), backup.get(j)) {
            (Some(a), Some(b)) => a.name.cmp(&b.name),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                out.push((Some(&now[i]), None));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push((None, Some(&backup[j])));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                if now[i] != backup[j] {
                    out.push((Some(&now[i]), Some(&backup[j])));
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}
