//! Workspace filters (`META-INF/vault/filter.xml`): parsing, writing, and FileVault's
//! questions of a filter.
//!
//! A filter is a list of [`FilterSet`]s (`<filter root=... mode=... type=...>`), each
//! with include/exclude [`Rule`]s whose [`Pattern`]s are Java regular expressions
//! matched against whole absolute paths. The questions FileVault asks of a filter are
//! methods of [`WorkspaceFilter`]:
//!
//! * [`covers`](WorkspaceFilter::covers): some root is the path or above it;
//! * [`contains`](WorkspaceFilter::contains): some set covers *and* accepts it
//!   (first rule decides the default, the last matching rule wins);
//! * [`is_ancestor`](WorkspaceFilter::is_ancestor): the path is `/`, a root or above one;
//! * [`covering_set`](WorkspaceFilter::covering_set) and
//!   [`import_mode`](WorkspaceFilter::import_mode): the *first* covering set decides;
//! * [`includes_property`](WorkspaceFilter::includes_property): property rules;
//! * [`export_visits`](WorkspaceFilter::export_visits): the export traversal rule.
//!
//! [`WorkspaceFilter::parse`] applies FileVault's acceptance rules and reports errors
//! with file, line and column; [`WorkspaceFilter::to_xml`] writes an unchanged filter
//! back byte for byte and a changed one in FileVault's canonical form.
//! [`WorkspaceFilter::translate`] applies a [`PathMapping`]; [`explain_paths`] says why
//! a path is treated as it is; [`WorkspaceFilter::issues`] finds questionable parts.

mod error;
mod explain;
mod mapping;
mod mode;
mod model;
mod parse;
pub mod pattern;
mod validate;
mod version;
mod write;

pub use error::FilterError;
pub use explain::{explain, explain_paths, Explanation, ModeReason, RuleDecision, SetVerdict};
pub use mapping::{InvalidMapping, PathMapping};
pub use mode::{ImportMode, InvalidImportMode};
pub use model::{Decision, FilterSet, Rule, WorkspaceFilter, TYPE_CLEANUP};
pub use parse::parse;
pub use pattern::{Pattern, PatternError, PatternErrorKind};
pub use validate::FilterIssue;
pub use version::FilterVersion;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod schema_tests;
