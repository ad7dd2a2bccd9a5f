//! jcrpack: read, write, validate and install Apache Jackrabbit FileVault content
//! packages.
//!
//! The library is a set of small modules, each one concept of the format:
//!
//! * the content model: [`name`], [`namespace`], [`path`], [`value`], [`node`];
//! * the text formats a package holds: `docview` (`.content.xml`), `filter`
//!   (`filter.xml`), `properties` (`properties.xml`), `cnd` (node types),
//!   `sysview` (JCR system view), `platform_name` (file-system names);
//! * packages: `archive` (zip or folder), `package` (files to nodes and back);
//! * the repository, `nodetypes` (the node types it knows), `import` and `export`.
//!
//! Every parser reports errors with a [`location::Location`] (file, line, column).
#![warn(missing_docs)]

pub mod location;
pub mod mime;
pub mod name;
pub mod namespace;
pub mod node;
pub mod path;
pub mod value;

pub mod archive;
pub mod backup;
pub mod bootstrap;
pub mod build;
pub mod cli;
pub mod cnd;
pub mod diff;
pub mod docview;
pub mod dump;
pub mod events;
pub mod export;
pub mod filter;
pub mod generate;
pub mod heap_trim;
pub mod import;
pub mod lightmodule;
pub mod limits;
pub mod load;
pub mod nodetypes;
pub mod package;
pub mod package_id;
pub mod platform_name;
pub mod properties;
pub mod repository;
pub mod restore;
pub mod scratch;
pub mod server;
pub mod sysview;
pub mod unpack;
pub mod users;
pub mod validate;
pub mod write_rules;
pub mod xml_encoding;

#[cfg(test)]
mod test_support;
