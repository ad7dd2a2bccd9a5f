//! The journal's data: what describes an operation, what it touched, and what an
//! undo did. The backends record and read it; the CLI's `log`, `show` and `undo`
//! print it.

use crate::events::Actor;
use crate::value::Date;
use std::fmt;

/// The id of a recorded operation: 1 for the first, increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub i64);

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the caller says about an operation when beginning it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationMeta {
    /// One line saying what the operation does (`install my-package-1.0.zip`).
    pub description: String,
    /// The install's id, when the operation is a package install.
    pub install_id: Option<String>,
    /// The package id (`group:name:version`), when the operation installs one.
    pub package_id: Option<String>,
    /// When the operation began (the caller's [`Actor::time`]).
    pub time: Date,
    /// Who ran it.
    pub user: String,
    /// The options it ran with (import mode, filter, ...), as a JSON object.
    pub options: serde_json::Value,
}

impl OperationMeta {
    /// An operation described by `description`, run by `actor` (who and when, as
    /// the caller knows them: the library reads no clock and no environment), with
    /// no options.
    pub fn new(description: impl Into<String>, actor: &Actor) -> OperationMeta {
        OperationMeta {
            description: description.into(),
            install_id: None,
            package_id: None,
            time: actor.time,
            user: actor.user.clone(),
            options: serde_json::Value::Object(serde_json::Map::new()),
        }
    }
}

/// One line of the history: an operation and how much it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationSummary {
    /// The operation's id.
    pub id: OperationId,
    /// When it began.
    pub time: Date,
    /// Who ran it.
    pub user: String,
    /// What it did.
    pub description: String,
    /// The install id, for installs.
    pub install_id: Option<String>,
    /// The package id, for installs.
    pub package_id: Option<String>,
    /// The operation it undid, for undos.
    pub undoes: Option<OperationId>,
    /// Number of nodes whose before-image it recorded.
    pub nodes_touched: u64,
    /// Number of properties it set or removed: those whose before-image it recorded
    /// and those of the nodes it created.
    pub properties_touched: u64,
    /// Number of namespace and node type registrations it changed.
    pub registrations_touched: u64,
}

/// What kind of item a journal entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TouchKind {
    /// A node (its type, mixins, position, or its existence).
    Node,
    /// A property.
    Property,
    /// A namespace prefix.
    Namespace,
    /// A node type registration.
    NodeType,
    /// A workspace (created or deleted).
    Workspace,
}

/// One item an operation touched, with whether it existed before.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Touched {
    /// The workspace (`""` for namespaces and node types, which are repository-wide).
    pub workspace: String,
    /// The node path, the property path (`/a/b/jcr:title`), the namespace prefix or
    /// the node type name, as it was when first touched.
    pub path: String,
    /// What the path names.
    pub kind: TouchKind,
    /// Whether the item existed before the operation.
    pub existed: bool,
}

/// An operation with everything it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationDetail {
    /// The summary line.
    pub summary: OperationSummary,
    /// The options it ran with.
    pub options: serde_json::Value,
    /// The items it touched, sorted by workspace, kind-independent path, kind.
    pub touched: Vec<Touched>,
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UndoReport {
    /// The operation that was undone.
    pub undone: Option<OperationId>,
    /// The operation recording the undo, when the transaction is one.
    pub recorded_as: Option<OperationId>,
    /// Nodes removed because the undone operation created them.
    pub nodes_removed: u64,
    /// Nodes brought back because the undone operation removed them.
    pub nodes_restored: u64,
    /// Nodes whose type, mixins or position were set back.
    pub nodes_reverted: u64,
    /// Properties set back or removed.
    pub properties_reverted: u64,
    /// Namespace and node type registrations reverted.
    pub registrations_reverted: u64,
    /// Items that could not be restored (only with force: their parent is gone).
    pub skipped: Vec<String>,
}

impl fmt::Display for UndoReport {
    /// One sentence for people: `undid operation 3 as operation 5: removed 2 nodes,
    /// reverted 1 property.`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.undone {
            Some(id) => write!(f, "undid operation {id}")?,
            None => write!(f, "undid nothing")?,
        }
        if let Some(id) = self.recorded_as {
            write!(f, " as operation {id}")?;
        }
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.nodes_removed > 0 {
            parts.push(format!(
                "removed {}",
                plural(self.nodes_removed, "node", "nodes")
            ));
        }
        if self.nodes_restored > 0 {
            parts.push(format!(
                "restored {}",
                plural(self.nodes_restored, "node", "nodes")
            ));
        }
        if self.nodes_reverted > 0 {
            parts.push(format!(
                "set back the type, mixins or position of {}",
                plural(self.nodes_reverted, "node", "nodes")
            ));
        }
        if self.properties_reverted > 0 {
            parts.push(format!(
                "set back {}",
                plural(self.properties_reverted, "property", "properties")
            ));
        }
        if self.registrations_reverted > 0 {
            parts.push(format!(
                "reverted {}",
                plural(self.registrations_reverted, "registration", "registrations")
            ));
        }
        if parts.is_empty() {
            write!(f, ": nothing needed to change")?;
        } else {
            write!(f, ": {}", parts.join(", "))?;
        }
        if !self.skipped.is_empty() {
            write!(
                f,
                "; skipped {} whose parent is gone: {}",
                plural(self.skipped.len() as u64, "item", "items"),
                self.skipped.join(", ")
            )?;
        }
        write!(f, ".")
    }
}

/// Which operations [`crate::repository::Store::prune_history`] drops: always the
/// oldest ones, so that every operation kept still sees every later one (undo's
/// conflict check needs them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PruneSelect {
    /// Keep the newest `n` operations, drop the rest.
    Keep(usize),
    /// Drop the operations that began before this time (the oldest ones, up to the
    /// first that did not).
    Before(Date),
}

impl PruneSelect {
    /// How many of `ops` (oldest first) this drops.
    pub fn count_dropped(&self, ops: &[OperationSummary]) -> usize {
        match *self {
            PruneSelect::Keep(n) => ops.len().saturating_sub(n),
            PruneSelect::Before(date) => {
                let limit = date.epoch_millis();
                ops.iter()
                    .take_while(|o| o.time.epoch_millis() < limit)
                    .count()
            }
        }
    }
}

/// What pruning the history dropped (or, in a dry run, would drop).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PruneReport {
    /// The operations dropped, oldest first: they can no longer be undone.
    pub dropped: Vec<OperationSummary>,
    /// How many operations remain.
    pub kept: usize,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

/// What [`crate::repository::Store::gc`] removed (or, in a dry run, would remove).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GcReport {
    /// Blobs no node and no journal before-image refers to.
    pub blobs_removed: u64,
    /// Their bytes.
    pub blob_bytes: u64,
    /// Blobs kept because something refers to them.
    pub blobs_kept: u64,
    /// Temporary files killed commands left (half-written blobs, `.jcrpack-*.tmp`).
    pub temp_files_removed: u64,
    /// Their bytes.
    pub temp_bytes: u64,
    /// The size of the database before and after compacting it (equal in a dry run).
    pub database_bytes: (u64, u64),
    /// Whether nothing was changed.
    pub dry_run: bool,
}
