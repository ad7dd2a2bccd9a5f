//! The differences a restore makes, node by node, and their per-workspace summary.
//!
//! "Before" is the repository now, "after" is the backup: what the node will be once
//! the restore has run. The shape follows `jcrpack diff` ([`crate::diff::NodeChange`]),
//! with the workspace, the new order of a node's children and, for a deleted subtree,
//! how many nodes go with it.

use crate::diff::PropertyChange;
use serde::Serialize;

/// What happens to one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The node is in the backup but not in the repository: it comes back.
    Added,
    /// The node is in the repository but not in the backup: it goes, with its subtree.
    Deleted,
    /// The node is in both and differs (types, mixins, properties or child order).
    Changed,
}

impl ChangeKind {
    /// The mark `jcrpack diff` prints (`+`, `-`, `~`).
    pub fn mark(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Deleted => '-',
            ChangeKind::Changed => '~',
        }
    }
}

/// How one node differs between the repository and the backup.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The workspace.
    pub workspace: String,
    /// The node path.
    pub path: String,
    /// Added, deleted or changed.
    pub change: ChangeKind,
    /// Primary type now → in the backup, when it changes (or the type of an added node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_type: Option<(Option<String>, Option<String>)>,
    /// Mixins now → in the backup, when they change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixins: Option<(Vec<String>, Vec<String>)>,
    /// Property changes, sorted by name (every property of an added node).
    pub properties: Vec<PropertyChange>,
    /// The node's child segments now (after the additions and deletions below it) →
    /// in the backup, when their order changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<(Vec<String>, Vec<String>)>,
    /// How many nodes the change adds (1) or deletes (the subtree); 0 for a change.
    pub nodes: u64,
}

/// The differences in one workspace, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSummary {
    /// The workspace.
    pub workspace: String,
    /// The roots restored in it.
    pub roots: Vec<String>,
    /// Whether the workspace is created (it is in the backup but not in the repository).
    pub created: bool,
    /// Nodes that come back.
    pub nodes_added: u64,
    /// Nodes that go (with every node below them).
    pub nodes_deleted: u64,
    /// Nodes in both whose types, mixins, properties or child order change.
    pub nodes_changed: u64,
    /// Properties set on nodes that exist now or come back.
    pub properties_added: u64,
    /// Properties whose value or type changes.
    pub properties_changed: u64,
    /// Properties removed from nodes that stay.
    pub properties_removed: u64,
}

impl WorkspaceSummary {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.nodes_added == 0
            && self.nodes_deleted == 0
            && self.nodes_changed == 0
            && self.properties_added == 0
            && self.properties_changed == 0
            && self.properties_removed == 0
            && !self.created
    }

    /// Counts one change.
    pub(crate) fn count(&mut self, c: &Change) {
        match c.change {
            ChangeKind::Added => self.nodes_added += c.nodes,
            ChangeKind::Deleted => self.nodes_deleted += c.nodes,
            ChangeKind::Changed => self.nodes_changed += 1,
        }
        for p in &c.properties {
            match (&p.before, &p.after) {
                (None, Some(_)) => self.properties_added += 1,
                (Some(_), Some(_)) => self.properties_changed += 1,
                (Some(_), None) => self.properties_removed += 1,
                (None, None) => {}
            }
        }
    }
}

/// Everything a restore changes (or would change), counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// One entry per workspace compared, in name order.
    pub workspaces: Vec<WorkspaceSummary>,
    /// Namespaces (`prefix=uri`) the restored content needs that the repository lacks.
    pub namespaces_registered: Vec<String>,
    /// Node types the restored content needs that the repository lacks.
    pub node_types_registered: Vec<String>,
    /// Blobs copied from the backup into the repository's blob store (apply only).
    pub blobs_copied: u64,
    /// Bytes of those blobs.
    pub bytes_copied: u64,
}

impl Summary {
    /// Whether the restore changes nothing.
    pub fn is_empty(&self) -> bool {
        self.workspaces.iter().all(WorkspaceSummary::is_empty)
            && self.namespaces_registered.is_empty()
            && self.node_types_registered.is_empty()
    }
}
