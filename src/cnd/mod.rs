//! Node type definitions: the CND compact syntax, built-in node types and the node type
//! registry the importer and exporter query.
//!
//! * [`parse`] reads CND text (JCR 2.0 §25.2, as Jackrabbit's reader accepts it) into a
//!   [`CndFile`] of [`NodeTypeDef`]s; errors carry file, line and column.
//! * [`write`] / [`write_with`] write definitions back exactly as FileVault's exporter
//!   writes `META-INF/vault/nodetypes.cnd`.
//! * [`NodeTypeRegistry`] starts with the JCR 2.0, Jackrabbit/Oak and FileVault
//!   built-in types ([`builtin`]), registers missing types from packages (never
//!   changing existing ones), answers the questions an importer asks (effective type,
//!   applicable definitions, protected properties, default child types, ordering),
//!   validates nodes ([`NodeTypeRegistry::check_node`]) and computes what an exporter
//!   writes to `nodetypes.cnd` ([`NodeTypeRegistry::closure`]).
//!
//! Types the registry does not know (`cq:Page`, `dam:Asset`, `sling:Folder` before a
//! package declares it, `mgnl:*`) are never an error: lookups say "unknown" and the
//! caller records it, so content that uses undeclared types still installs. Types
//! the registry knows are enforced.

pub mod builtin;
mod check;
mod constraint;
mod definition;
mod effective;
mod error;
mod lexer;
mod parser;
mod registry;
mod writer;

pub use check::Violation;
pub use constraint::meets_constraints;
pub use definition::{
    ChildNodeDef, CndFile, NodeTypeDef, OnParentVersion, PropertyDef, QueryOperator, NT_BASE,
    RESIDUAL,
};
pub use effective::{Declared, EffectiveType};
pub use error::CndError;
pub use parser::{parse, parse_bytes};
pub use registry::{Closure, NodeTypeRegistry, RegisterError, RegisterProblem, RegisterReport};
pub use writer::{iso9075_encode, write, write_with, WriteError};

#[cfg(test)]
mod tests;
