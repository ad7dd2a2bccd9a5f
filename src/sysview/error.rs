//! The errors of reading and writing system view.

use crate::location::Location;
use crate::name::NameError;
use crate::value::ValueError;

use super::b64::Base64Error;
use super::names::DeclarationError;

/// A system view document could not be read; [`SysViewError::location`] says where.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct SysViewError {
    /// File, line and column of the offending markup or text.
    pub location: Location,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl SysViewError {
    /// An error of `kind` at `location`.
    pub fn new(location: Location, kind: ErrorKind) -> SysViewError {
        SysViewError { location, kind }
    }
}

/// What is wrong with a system view document.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The input could not be read.
    #[error("cannot read the input: {0}")]
    Io(#[source] std::io::Error),
    /// The XML itself is malformed.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// A document type declaration: system view needs none, and DTDs can define
    /// entities, which jcrpack never expands.
    #[error("DOCTYPE declarations are not allowed in system view (jcrpack does not process DTDs or entity declarations)")]
    DocType,
    /// A reference to an entity other than the five XML predefines.
    #[error("reference to the undefined entity '&{0};' (only &lt; &gt; &amp; &apos; &quot; and character references are allowed)")]
    UndefinedEntity(String),
    /// An encoding other than UTF-8 in the XML declaration.
    #[error("the XML declaration names the encoding '{0}'; system view must be UTF-8")]
    UnsupportedEncoding(String),
    /// A namespace declaration XML forbids.
    #[error("{0}")]
    Declaration(#[from] DeclarationError),
    /// An element prefix without a namespace declaration.
    #[error("the element <{0}> uses an undeclared namespace prefix")]
    UndeclaredElementPrefix(String),
    /// An element that does not belong where it is.
    #[error("unexpected element <{found}> {context}; expected {expected}")]
    UnexpectedElement {
        /// The element as written.
        found: String,
        /// Where it was found.
        context: String,
        /// What may appear there.
        expected: &'static str,
    },
    /// A mandatory attribute is missing.
    #[error("<{element}> has no {attribute} attribute")]
    MissingAttribute {
        /// `sv:node` or `sv:property`.
        element: &'static str,
        /// `sv:name` or `sv:type`.
        attribute: &'static str,
    },
    /// `sv:type` names no property type.
    #[error("property '{property}' has the unknown type '{found}'; expected one of String, Binary, Long, Double, Decimal, Date, Boolean, Name, Path, Reference, WeakReference, URI or undefined")]
    UnknownType {
        /// The property name.
        property: String,
        /// The `sv:type` value.
        found: String,
    },
    /// `sv:multiple` is not `true` or `false`.
    #[error("property '{property}' has sv:multiple=\"{found}\"; expected \"true\" or \"false\"")]
    BadMultiple {
        /// The property name.
        property: String,
        /// The attribute value.
        found: String,
    },
    /// A node or property name, or a Name value, is not a valid JCR name.
    #[error("invalid {what}: {source}")]
    InvalidName {
        /// "node name", "property name", "primary type", ...
        what: &'static str,
        /// Why.
        #[source]
        source: NameError,
    },
    /// A value is not of its property's type.
    #[error("property '{property}': {source}")]
    InvalidValue {
        /// The property name.
        property: String,
        /// The value and what was expected.
        #[source]
        source: ValueError,
    },
    /// A base64 value could not be decoded.
    #[error("property '{property}': invalid base64 value: {source}")]
    InvalidBase64 {
        /// The property name.
        property: String,
        /// Why.
        #[source]
        source: Base64Error,
    },
    /// A base64-encoded (`xsi:type="xs:base64Binary"`) non-binary value does not
    /// decode to UTF-8 text.
    #[error("property '{property}': the base64-encoded {ptype} value is not UTF-8 text")]
    NotUtf8 {
        /// The property name.
        property: String,
        /// The property type.
        ptype: crate::value::PropertyType,
    },
    /// Non-whitespace text where only elements may be.
    #[error("unexpected text '{text}' {context}; text is only allowed inside <sv:value>")]
    UnexpectedText {
        /// The start of the text.
        text: String,
        /// Where it was found.
        context: String,
    },
    /// A property after a child node: system view lists properties first.
    #[error("property '{property}' comes after a child node of '{node}'; properties must precede child nodes")]
    PropertyAfterChild {
        /// The property name.
        property: String,
        /// The node name.
        node: String,
    },
    /// A property name appears twice in one node.
    #[error("property '{property}' appears twice in node '{node}'")]
    DuplicateProperty {
        /// The property name.
        property: String,
        /// The node name.
        node: String,
    },
    /// `jcr:primaryType` without exactly one value.
    #[error("jcr:primaryType of node '{node}' has {count} values; expected exactly one")]
    PrimaryTypeValues {
        /// The node name.
        node: String,
        /// Number of values found.
        count: usize,
    },
    /// A configured limit was exceeded.
    #[error("{what} exceeds the limit of {limit} (see sysview::Limits)")]
    LimitExceeded {
        /// What grew too large.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// The document has no `sv:node` element.
    #[error("the document has no root <sv:node> element")]
    NoRoot,
    /// Markup after the root element.
    #[error("unexpected <{0}> after the root <sv:node> ended; a document has one root")]
    AfterRoot(String),
    /// The input ended inside an element.
    #[error("the document ends inside <{0}>")]
    UnexpectedEof(String),
}

/// A system view document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The output could not be written.
    #[error("cannot write system view: {0}")]
    Io(#[from] std::io::Error),
    /// A binary value could not be read from its store.
    #[error("cannot read binary property '{property}': {source}")]
    Binary {
        /// The property name.
        property: String,
        /// The error of the binary source.
        #[source]
        source: std::io::Error,
    },
    /// A node or property name, or a Name or Path value, that cannot be written.
    #[error("cannot write the {what} '{name}': {reason}")]
    InvalidName {
        /// "node name", "property name", "Name value", ...
        what: &'static str,
        /// The offending name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A property whose declaration and values disagree.
    #[error("cannot write property '{property}': {reason}")]
    InvalidProperty {
        /// The property name.
        property: String,
        /// Why.
        reason: String,
    },
    /// Calls in an order that does not describe a tree.
    #[error("system view writer misuse: {0}")]
    Order(&'static str),
    /// A namespace registry that cannot be declared on the root element.
    #[error("cannot declare namespace prefix '{prefix}' as '{uri}': {reason}")]
    Namespace {
        /// The prefix.
        prefix: String,
        /// The URI.
        uri: String,
        /// Why.
        reason: &'static str,
    },
}
