//! JCR system view XML (JCR 2.0 §7.2): a streaming reader and a streaming writer.
//!
//! System view serialises a subtree with three elements in the
//! `http://www.jcp.org/jcr/sv/1.0` namespace:
//!
//! ```text
//! <sv:node sv:name="products">
//!   <sv:property sv:name="jcr:primaryType" sv:type="Name">
//!     <sv:value>mgnl:folder</sv:value>
//!   </sv:property>
//!   <sv:property sv:name="tags" sv:type="String" sv:multiple="true">
//!     <sv:value>a</sv:value>
//!     <sv:value>b</sv:value>
//!   </sv:property>
//!   <sv:node sv:name="child">…</sv:node>
//! </sv:node>
//! ```
//!
//! A node's properties come first, then its child nodes. `jcr:primaryType`,
//! `jcr:mixinTypes` and `jcr:uuid` are ordinary `sv:property` elements. `sv:type` is
//! the JCR type name (`PropertyType.nameFromValue`). Binary values are base64; a value
//! of another type whose text has characters XML cannot carry is base64 too, marked
//! `xsi:type="xs:base64Binary"` (Jackrabbit's exporter does that). A property is
//! multi-valued when it says `sv:multiple="true"` or has other than exactly one value.
//!
//! Magnolia's bootstrap and export files are system view, and so are the documents
//! FileVault hands to the repository internally (for protected items and
//! authorizables). FileVault's package importer does **not** read system view files
//! in `jcr_root/` (they become `nt:file` nodes, see the format reference §8.2): this
//! module is for tools that read or write them outside that path.
//!
//! * [`SysViewReader`] streams [`SysViewEvent`]s from any reader, holding one node's
//!   properties at a time; [`read_tree`] builds a [`Node`] for small documents.
//! * [`SysViewWriter`] writes nodes as they come; binaries are read through a
//!   [`BinarySource`] so they never have to be in memory.
//!
//! Both follow Jackrabbit (`SysViewImportHandler`, `SysViewSAXEventGenerator`) where
//! the specification leaves room; the differences are listed on each type.

mod b64;
mod error;
mod names;
mod position;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use b64::{Base64Decoder, Base64Error};
pub use error::{ErrorKind, SysViewError, WriteError};
pub use reader::{read_tree, SysViewReader};
pub use writer::{write_tree, BinarySource, InlineOnly, SysViewWriter};

use crate::location::Location;
use crate::node::Node;
use crate::value::Property;

/// The XML Schema instance namespace, whose `xsi:type` marks base64 string values.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The XML Schema namespace (`xs:base64Binary`).
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// One step of a system view document, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum SysViewEvent {
    /// A node, with all its properties; its children follow, then its
    /// [`SysViewEvent::EndNode`].
    StartNode(StartNode),
    /// The end of the most recently started node that has not ended.
    EndNode,
}

/// A node as the reader emits it: once its properties are complete (at its first
/// child `sv:node` or at its end tag), before any of its children.
#[derive(Debug, Clone, PartialEq)]
pub struct StartNode {
    /// The node name, qualified with the document-wide prefixes.
    pub name: String,
    /// `jcr:primaryType`, when the document gives one.
    pub primary_type: Option<String>,
    /// `jcr:mixinTypes`, in document order.
    pub mixins: Vec<String>,
    /// Every other property (including `jcr:uuid`), in document order.
    pub properties: Vec<Property>,
    /// Where the `<sv:node` tag starts.
    pub location: Location,
    /// 0 for the root node, 1 for its children, and so on.
    pub depth: usize,
}

impl StartNode {
    /// This node as a [`Node`] without children (an absent primary type becomes
    /// `""`).
    pub fn to_node(&self) -> Node {
        let mut n = Node::new(
            self.name.clone(),
            self.primary_type.clone().unwrap_or_default(),
        );
        n.mixins = self.mixins.clone();
        for p in &self.properties {
            n.set(p.clone());
        }
        n
    }
}

/// Bounds that keep a hostile or broken document from exhausting memory. The
/// defaults are far above what real exports need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest allowed node nesting (the root is depth 1).
    pub max_depth: usize,
    /// Largest value, in bytes (decoded bytes for base64 values, UTF-8 bytes for
    /// text). Also bounds any single XML event to about twice this.
    pub max_value_bytes: u64,
    /// Most properties one node may have.
    pub max_properties: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 1_000,
            max_value_bytes: 256 * 1024 * 1024,
            max_properties: 100_000,
        }
    }
}
