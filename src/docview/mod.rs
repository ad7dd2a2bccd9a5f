//! Enhanced DocView (`.content.xml`): value grammar, ISO 9075 names, reader and exact
//! writer.
//!
//! A DocView file describes one node (the root element, `jcr:root`, whose name comes
//! from the file's place in the package) and, nested, as much of its subtree as the
//! aggregate holds. Elements are nodes, attributes are properties, and an element
//! without attributes only says where an existing child goes in the order.
//!
//! * [`value`]: `{Type}[a,b\,c]` ⇄ typed values;
//! * [`iso9075`]: `_x0031_test` ⇄ `1test`;
//! * [`parse`]: bytes → [`DocViewDocument`], with line and column on every error;
//! * [`writer`]: [`DocViewDocument`] → bytes, formatted as FileVault formats them.

pub mod iso9075;
mod reader;
mod runs;
pub mod value;
pub mod writer;

pub use reader::{check_bytes, parse, parse_bytes, parse_with, Limits, JCR_URI};

use crate::location::Location;
use crate::value::PropertyType;
use std::fmt;

/// A property as written in DocView: a name, a type hint and string values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocViewProperty {
    /// The qualified name, with the document's prefix.
    pub name: String,
    /// The hinted type; [`PropertyType::Undefined`] when the value has no `{Type}`.
    pub ptype: PropertyType,
    /// `{BinaryRef}`: a data store reference rather than content.
    pub binary_ref: bool,
    /// Written as an array.
    pub multiple: bool,
    /// The unescaped values (one for a single-valued property).
    pub values: Vec<String>,
}

impl DocViewProperty {
    /// A single-valued string property.
    pub fn string(name: impl Into<String>, v: impl Into<String>) -> DocViewProperty {
        DocViewProperty {
            name: name.into(),
            ptype: PropertyType::String,
            binary_ref: false,
            multiple: false,
            values: vec![v.into()],
        }
    }

    /// The `{Binary}` placeholder (no content: it comes from a `.binary` file).
    pub fn is_binary_placeholder(&self) -> bool {
        self.ptype == PropertyType::Binary
            && !self.binary_ref
            && self.values.iter().all(String::is_empty)
    }
}

/// An element: a node, or (without attributes) an ordering placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocViewElement {
    /// The qualified node name with the document's prefix; `""` for `jcr:root`.
    pub name: String,
    /// Same-name-sibling index from a `name[n]` element name, 1 otherwise.
    pub index: u32,
    /// Properties in document order.
    pub properties: Vec<DocViewProperty>,
    /// Child elements in document order.
    pub children: Vec<DocViewElement>,
    /// Where the element starts.
    pub location: Location,
}

impl DocViewElement {
    /// An element without attributes: it orders an existing child, it never creates
    /// or changes one.
    pub fn is_placeholder(&self) -> bool {
        self.properties.is_empty()
    }

    /// The property called `name`.
    pub fn property(&self, name: &str) -> Option<&DocViewProperty> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// `jcr:primaryType`, when given.
    pub fn primary_type(&self) -> Option<&str> {
        self.property("jcr:primaryType")
            .and_then(|p| p.values.first())
            .map(String::as_str)
    }

    /// `jcr:mixinTypes` (empty when absent).
    pub fn mixin_types(&self) -> Vec<String> {
        self.property("jcr:mixinTypes")
            .map(|p| p.values.iter().filter(|v| !v.is_empty()).cloned().collect())
            .unwrap_or_default()
    }

    /// The `name[n]` path segment.
    pub fn segment(&self) -> String {
        if self.index > 1 {
            format!("{}[{}]", self.name, self.index)
        } else {
            self.name.clone()
        }
    }
}

/// A whole DocView file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocViewDocument {
    /// Prefix → URI, one prefix per URI, in first-declaration order. Names in the
    /// document use these prefixes.
    pub namespaces: Vec<(String, String)>,
    /// The root element (for `jcr:root`, its name is `""`: the file decides it).
    pub root: DocViewElement,
    /// The root element is `jcr:root` (the usual case); otherwise it names a child of
    /// the node the file stands for.
    pub root_is_jcr_root: bool,
    /// Things that were ignored (text content).
    pub warnings: Vec<DocViewWarning>,
}

impl DocViewDocument {
    /// The URI of a document prefix.
    pub fn uri(&self, prefix: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }
}

/// Something the reader ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocViewWarning {
    /// Where.
    pub location: Location,
    /// What.
    pub message: String,
}

/// A DocView file that cannot be read: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocViewError {
    /// File, line and column.
    pub location: Location,
    /// What was wrong or expected.
    pub message: String,
}

impl fmt::Display for DocViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for DocViewError {}

/// FileVault's sniff for `name.xml` files: a full-coverage DocView when the first 1024
/// characters hold `<jcr:root` and the JCR namespace URI in double quotes.
pub fn is_docview(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let end = text
        .char_indices()
        .nth(1024)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let head = &text[..end];
    head.contains("<jcr:root") && head.contains("\"http://www.jcp.org/jcr/1.0\"")
}
