//! Why a bootstrap load or dump failed. Every error about a file names the file, and
//! every error about its content the line and column.

use super::name::NameError;
use super::yaml::Unsupported;
use crate::repository::RepositoryError;
use crate::sysview::SysViewError;

/// An identifier of a file that an existing node already has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Collision {
    /// The `jcr:uuid`.
    pub uuid: String,
    /// The bootstrap file.
    pub file: String,
    /// The workspace.
    pub workspace: String,
    /// Where the file's node would go.
    pub incoming: String,
    /// Where the node with that identifier is now.
    pub existing: String,
    /// What the profile does: `refused` (module, samples), `replaced` (webapp, same
    /// place) or `relocated` (webapp: the file's node takes the existing node's place,
    /// elsewhere than its file name says).
    pub resolution: String,
}

/// Why a bootstrap command failed; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A file name maps to no workspace and path.
    #[error("{0}")]
    Name(#[from] NameError),
    /// A YAML (or other text) document is malformed.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// A system view document is malformed (a DOCTYPE among others).
    #[error("{0}")]
    SystemView(Box<SysViewError>),
    /// The document's root node is not the node its file name says.
    #[error("{file}:{line}:{column}: the document's root node is '{found}' but the file name says '{expected}' (rename the file or the root node)")]
    RootName {
        /// The file.
        file: String,
        /// 1-based line of the root element or key.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The name from the file name.
        expected: String,
        /// The name in the document.
        found: String,
    },
    /// The file writes what no writing path may write ([`crate::write_rules`]: a
    /// system root, a node past the depth limit, a name that is not a JCR name).
    #[error("{file}: {refusal}")]
    Refused {
        /// The file.
        file: String,
        /// The rule broken, naming the node.
        refusal: crate::write_rules::WriteRefusal,
    },
    /// Identifiers of the files exist elsewhere and the profile refuses them.
    #[error("{} identifier collision(s), nothing written:{}", .0.len(), list_collisions(.0))]
    Collisions(Vec<Collision>),
    /// A property type whose YAML form no real Magnolia export shows.
    #[error("{} propert(ies) have types no real Magnolia YAML export shows (use --lossy to write them as strings):{}", .properties.len(), list_unsupported(.properties))]
    Unverified {
        /// The properties.
        properties: Vec<Unsupported>,
    },
    /// YAML cannot hold same-name siblings.
    #[error(
        "{path}: a same-name sibling cannot be written as YAML (keys are unique); use --format xml"
    )]
    SameNameSibling {
        /// The node.
        path: String,
    },
    /// A path that has no node.
    #[error("{workspace}:{path}: no such node")]
    NoSuchNode {
        /// The workspace.
        workspace: String,
        /// The path.
        path: String,
    },
    /// A file could not be read or written.
    #[error("{file}: {source}")]
    File {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The repository refused a change or failed.
    #[error("{file}: {source}")]
    Apply {
        /// The file being applied.
        file: String,
        /// The repository's error.
        #[source]
        source: Box<RepositoryError>,
    },
    /// The repository failed.
    #[error("{0}")]
    Repository(Box<RepositoryError>),
    /// Writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Writing a system view failed.
    #[error("{0}")]
    SysViewWrite(#[from] crate::sysview::WriteError),
    /// Nodes that break the node types enforced (`--types magnolia`).
    #[error("{} node type violation(s), nothing written:{}", .0.len(), .0.iter().map(|v| format!("\n  {v}")).collect::<String>())]
    NodeTypes(Vec<String>),
    /// A package could not be read or written.
    #[error("{0}")]
    Other(String),
}

fn list_collisions(c: &[Collision]) -> String {
    c.iter()
        .map(|c| {
            format!(
                "\n  {}: {} in {}: {} would go to {}, but {} has it",
                c.file, c.uuid, c.workspace, c.uuid, c.incoming, c.existing
            )
        })
        .collect()
}

fn list_unsupported(u: &[Unsupported]) -> String {
    u.iter()
        .map(|u| format!("\n  {} {} ({})", u.path, u.property, u.ptype))
        .collect()
}

impl From<RepositoryError> for BootstrapError {
    fn from(e: RepositoryError) -> BootstrapError {
        BootstrapError::Repository(Box::new(e))
    }
}

impl From<SysViewError> for BootstrapError {
    fn from(e: SysViewError) -> BootstrapError {
        BootstrapError::SystemView(Box::new(e))
    }
}
