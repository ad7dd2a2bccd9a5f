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
    /// Number of properties whose before-image it recorded.
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
