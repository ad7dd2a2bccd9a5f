//! The plain data the repository traits exchange about nodes.

use crate::node::Node;

/// What the repository knows about one node, without its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node's path in standard form (`/a/b[2]`).
    pub path: String,
    /// The node's name, without index (`""` for the root).
    pub name: String,
    /// The same-name-sibling index, 1 for the first (or only) sibling.
    pub index: u32,
    /// `jcr:primaryType`.
    pub primary_type: String,
    /// `jcr:mixinTypes`, in the order they were set.
    pub mixins: Vec<String>,
    /// The value of the node's `jcr:uuid` property, if it has one.
    pub uuid: Option<String>,
}

/// One node of a subtree walk: the node with its properties, but not its children.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkEntry {
    /// The node's path in standard form.
    pub path: String,
    /// Depth below the walk's start (the start node is 0).
    pub depth: usize,
    /// The node: name, index, types and properties (sorted by name); `children` is
    /// always empty, the children follow in the walk.
    pub node: Node,
    /// Whether the node has children.
    pub has_children: bool,
}

/// Whether a new node may become a same-name sibling of an existing child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameName {
    /// A child of that name exists: fail with [`super::RepositoryError::ItemExists`].
    #[default]
    Fail,
    /// Add the node as a further same-name sibling.
    Allow,
}

/// Where and how [`super::Transaction::add_node`] adds a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddOptions {
    /// Insert before this sibling (a segment, `b` or `b[2]`) instead of at the end.
    pub before: Option<String>,
    /// Whether the node may join existing children of the same name.
    pub same_name: SameName,
}

impl AddOptions {
    /// Appends at the end; fails when a child of that name exists.
    pub fn append() -> AddOptions {
        AddOptions::default()
    }

    /// Appends at the end, as a same-name sibling when the name exists.
    pub fn allow_same_name() -> AddOptions {
        AddOptions {
            before: None,
            same_name: SameName::Allow,
        }
    }

    /// Inserts before sibling `segment`.
    pub fn before(segment: impl Into<String>) -> AddOptions {
        AddOptions {
            before: Some(segment.into()),
            same_name: SameName::Fail,
        }
    }

    /// Allows same-name siblings (builder style).
    pub fn with_same_name(mut self, same_name: SameName) -> AddOptions {
        self.same_name = same_name;
        self
    }
}
