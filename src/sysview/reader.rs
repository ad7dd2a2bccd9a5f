//! The streaming system view reader.
//!
//! [`SysViewReader`] pulls quick-xml events from any [`Read`] (every `BufRead`
//! is one) and turns them into [`SysViewEvent`]s. It holds the properties of one node
//! at a time: a node's [`StartNode`] is emitted as soon as its first child `sv:node`
//! or its end tag is seen, and its properties leave the reader with it. Besides that
//! node, the reader keeps only the names of the open ancestors, the namespace
//! declarations in scope and a 64 KiB read buffer, so a multi-gigabyte Magnolia export
//! streams in constant memory (one value is held whole: see [`Limits`]).
//!
//! Reading follows Jackrabbit's `SysViewImportHandler`, with these choices where it
//! is lax:
//! * a property after a child node is an error (Jackrabbit drops it silently);
//! * `sv:multiple` must be `true` or `false` (Jackrabbit treats any value, even
//!   `false`, as multi-valued);
//! * a property name that appears twice in a node is an error, except
//!   `jcr:mixinTypes`, whose values are appended as Jackrabbit does;
//! * `jcr:primaryType` must have exactly one value;
//! * non-whitespace text outside `sv:value`, and any element that is not `sv:node`,
//!   `sv:property` or `sv:value` where it stands, is an error (stray text can be
//!   ignored like Jackrabbit does with [`SysViewReader::set_ignore_stray_text`]);
//! * any DOCTYPE is refused; entity references other than XML's five and character
//!   references are errors;
//! * an `undefined` property type reads as String (the model has no untyped
//!   properties).
//!
//! `jcr:primaryType` and `jcr:mixinTypes` become [`StartNode::primary_type`] and
//! [`StartNode::mixins`]; `jcr:uuid` stays an ordinary property.

use std::collections::{HashSet, VecDeque};
use std::io::Read;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::b64::Base64Decoder;
use super::error::{ErrorKind, SysViewError};
use super::names::Scopes;
use super::position::{advance, Mark, Tracked};
use super::{Limits, StartNode, SysViewEvent, XSI};
use crate::location::Location;
use crate::namespace::{NamespaceRegistry, SV};
use crate::node::Node;
use crate::value::{Binary, Property, PropertyType, Value};

/// The three system view elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Node,
    Property,
    Value,
}

/// Which property is being read: the two that become node fields, or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    PrimaryType,
    Mixins,
    None,
}

/// A node whose `StartNode` has not been emitted yet.
#[derive(Debug)]
struct PendingNode {
    name: String,
    primary_type: Option<String>,
    mixins: Vec<String>,
    properties: Vec<Property>,
    location: Location,
    depth: usize,
}

#[derive(Debug)]
struct PendingProperty {
    name: String,
    ptype: PropertyType,
    explicit_multiple: bool,
    special: Special,
    values: Vec<Value>,
}

/// The attributes of an `sv:` element that the reader uses.
#[derive(Debug, Default)]
struct SvAttributes {
    name: Option<String>,
    ty: Option<String>,
    multiple: Option<String>,
    xsi_type: Option<String>,
}

#[derive(Debug)]
struct PendingValue {
    text: String,
    decoder: Option<Base64Decoder>,
    at: Mark,
}

/// A streaming system view reader; see the module documentation.
///
/// ```
/// use jcrpack::sysview::{SysViewReader, SysViewEvent};
/// let xml = r#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" sv:name="a">
///   <sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>nt:unstructured</sv:value></sv:property>
/// </sv:node>"#;
/// let mut r = SysViewReader::new(xml.as_bytes(), "a.xml");
/// match r.next_event().unwrap() {
///     Some(SysViewEvent::StartNode(n)) => assert_eq!(n.primary_type.as_deref(), Some("nt:unstructured")),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(r.next_event().unwrap(), Some(SysViewEvent::EndNode));
/// assert_eq!(r.next_event().unwrap(), None);
/// ```
pub struct SysViewReader<R: Read> {
    xml: Reader<Tracked<R>>,
    file: String,
    limits: Limits,
    scopes: Scopes,
    version: XmlVersion,
    buf: Vec<u8>,
    elements: Vec<Elem>,
    /// Names of the open nodes, outermost first.
    nodes: Vec<String>,
    pending: Option<PendingNode>,
    property: Option<PendingProperty>,
    value: Option<PendingValue>,
    /// Property names of the pending node, to find duplicates.
    seen: HashSet<String>,
    queue: VecDeque<SysViewEvent>,
    root_seen: bool,
    root_done: bool,
    done: bool,
    ignore_stray_text: bool,
    ignored_text: Vec<Location>,
    ignored_text_count: u64,
}

/// How many locations of ignored stray text a reader remembers.
const IGNORED_TEXT_KEPT: usize = 100;

impl<R: Read> SysViewReader<R> {
    /// A reader over `input`; `file` names it in errors and locations.
    pub fn new(input: R, file: impl Into<String>) -> SysViewReader<R> {
        SysViewReader::with_limits(input, file, Limits::default())
    }

    /// A reader with explicit [`Limits`].
    pub fn with_limits(input: R, file: impl Into<String>, limits: Limits) -> SysViewReader<R> {
        let event_limit = limits
            .max_value_bytes
            .saturating_mul(2)
            .saturating_add(65_536);
        let mut xml = Reader::from_reader(Tracked::new(input, event_limit));
        let config = xml.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        SysViewReader {
            xml,
            file: file.into(),
            limits,
            scopes: Scopes::new(),
            version: XmlVersion::Implicit1_0,
            buf: Vec::new(),
            elements: Vec::new(),
            nodes: Vec::new(),
            pending: None,
            property: None,
            value: None,
            seen: HashSet::new(),
            queue: VecDeque::new(),
            root_seen: false,
            root_done: false,
            done: false,
            ignore_stray_text: false,
            ignored_text: Vec::new(),
            ignored_text_count: 0,
        }
    }

    /// Whether non-whitespace text outside `sv:value` is ignored, as Jackrabbit's
    /// import handler does, instead of being an error (the default). Hand-edited
    /// files sometimes carry such text (one of Magnolia's test files has
    /// `</sv:value>aaaa`); each ignored text is counted and its location kept
    /// (the first 100) for a warning.
    pub fn set_ignore_stray_text(&mut self, ignore: bool) {
        self.ignore_stray_text = ignore;
    }

    /// Where stray text was ignored (the first 100 places); see
    /// [`Self::set_ignore_stray_text`].
    pub fn ignored_text(&self) -> &[Location] {
        &self.ignored_text
    }

    /// How many stray texts were ignored.
    pub fn ignored_text_count(&self) -> u64 {
        self.ignored_text_count
    }

    /// The document-wide namespace registry: the JCR built-ins plus every namespace
    /// the document has declared so far, under the prefixes names are reported with.
    pub fn namespaces(&self) -> &NamespaceRegistry {
        self.scopes.registry()
    }

    /// Prefixes used in names without any declaration in scope that are not JCR
    /// built-ins (Magnolia files use `mgnl:` this way): the caller must know them.
    pub fn undeclared_prefixes(&self) -> impl Iterator<Item = &str> {
        self.scopes.undeclared().iter().map(String::as_str)
    }

    /// Bytes of input the XML parser has consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.xml.get_ref().consumed()
    }

    /// Bytes read from the input so far: [`Self::bytes_consumed`] plus what the
    /// read-ahead buffer holds (at most 64 KiB more).
    pub fn bytes_read(&self) -> u64 {
        self.xml.get_ref().produced()
    }

    /// The next event, `Ok(None)` at the end of the document. After an error the
    /// reader is finished and returns `Ok(None)`.
    pub fn next_event(&mut self) -> Result<Option<SysViewEvent>, SysViewError> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Ok(Some(ev));
            }
            if self.done {
                return Ok(None);
            }
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let step = self.step(&mut buf);
            self.buf = buf;
            if let Err(e) = step {
                self.done = true;
                self.queue.clear();
                return Err(e);
            }
        }
    }

    /// Reads the rest of the document into one tree (for small documents: the whole
    /// tree is in memory). Same-name siblings get their indexes from their order.
    pub fn read_tree(&mut self) -> Result<Node, SysViewError> {
        let mut stack: Vec<Node> = Vec::new();
        let mut root = None;
        while let Some(ev) = self.next_event()? {
            match ev {
                SysViewEvent::StartNode(s) => stack.push(s.to_node()),
                SysViewEvent::EndNode => {
                    if let Some(mut n) = stack.pop() {
                        n.renumber_children();
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(n),
                            None => root = Some(n),
                        }
                    }
                }
            }
        }
        root.ok_or_else(|| self.error_at(self.xml.get_ref().here(), ErrorKind::NoRoot))
    }

    fn location(&self, m: Mark) -> Location {
        Location::at(self.file.clone(), m.line, m.column)
    }

    fn error_at(&self, m: Mark, kind: ErrorKind) -> SysViewError {
        SysViewError::new(self.location(m), kind)
    }

    fn xml_error(&self, e: quick_xml::Error) -> SysViewError {
        let tracked = self.xml.get_ref();
        let kind = match e {
            quick_xml::Error::Io(_) if tracked.tripped() => ErrorKind::LimitExceeded {
                what: "a single XML tag or text",
                limit: tracked.event_limit(),
            },
            quick_xml::Error::Io(io) => {
                ErrorKind::Io(std::io::Error::new(io.kind(), io.to_string()))
            }
            other => ErrorKind::Xml(other.to_string()),
        };
        let m = match kind {
            ErrorKind::Xml(_) => tracked.locate(self.xml.error_position()),
            _ => tracked.here(),
        };
        self.error_at(m, kind)
    }

    /// Reads and handles one XML event.
    fn step(&mut self, buf: &mut Vec<u8>) -> Result<(), SysViewError> {
        self.xml.get_mut().start_event();
        let event = match self.xml.read_event_into(buf) {
            Ok(ev) => ev,
            Err(e) => return Err(self.xml_error(e)),
        };
        let start = self.xml.get_ref().event_start();
        match event {
            Event::Start(e) => self.on_start(&e, false),
            Event::Empty(e) => self.on_start(&e, true),
            Event::End(_) => self.on_end(),
            Event::Text(t) => {
                let raw: &str = &t;
                let text = t.xml_content(self.version);
                self.on_text(&text, start, Some(raw))
            }
            Event::CData(c) => {
                let text = c.xml_content(self.version);
                self.on_text(&text, self.xml.get_ref().last_markup(), None)
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match &*r {
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "amp" => "&".to_string(),
                        "apos" => "'".to_string(),
                        "quot" => "\"".to_string(),
                        other => {
                            return Err(
                                self.error_at(start, ErrorKind::UndefinedEntity(other.to_string()))
                            )
                        }
                    },
                    Err(e) => return Err(self.error_at(start, ErrorKind::Xml(e.to_string()))),
                };
                self.on_text(&resolved, start, None)
            }
            Event::Decl(d) => {
                let here = self.xml.get_ref().last_markup();
                self.version = d
                    .xml_version()
                    .map_err(|e| self.error_at(here, ErrorKind::Xml(e.to_string())))?;
                if let Some(enc) = d.encoding() {
                    let enc =
                        enc.map_err(|e| self.error_at(here, ErrorKind::Xml(e.to_string())))?;
                    let ok = ["utf-8", "utf8", "us-ascii", "ascii"]
                        .iter()
                        .any(|n| enc.eq_ignore_ascii_case(n));
                    if !ok {
                        return Err(
                            self.error_at(here, ErrorKind::UnsupportedEncoding(enc.to_string()))
                        );
                    }
                }
                Ok(())
            }
            // The internal subset may hold `<`: the event start is the `<!DOCTYPE`.
            Event::DocType(_) => Err(self.error_at(start, ErrorKind::DocType)),
            Event::Comment(_) | Event::PI(_) => Ok(()),
            Event::Eof => self.on_eof(),
        }
    }

    fn on_eof(&mut self) -> Result<(), SysViewError> {
        let here = self.xml.get_ref().here();
        if let Some(e) = self.elements.last() {
            let what = match e {
                Elem::Node => format!(
                    "sv:node sv:name=\"{}\"",
                    self.nodes.last().map(String::as_str).unwrap_or("")
                ),
                Elem::Property => format!(
                    "sv:property sv:name=\"{}\"",
                    self.property
                        .as_ref()
                        .map(|p| p.name.as_str())
                        .unwrap_or("")
                ),
                Elem::Value => "sv:value".to_string(),
            };
            return Err(self.error_at(here, ErrorKind::UnexpectedEof(what)));
        }
        if !self.root_seen {
            return Err(self.error_at(here, ErrorKind::NoRoot));
        }
        self.done = true;
        Ok(())
    }

    /// Describes where an element or text is, for messages.
    fn context(&self) -> String {
        match self.elements.last() {
            None if self.root_done => "after the root <sv:node>".to_string(),
            None => "before the root <sv:node>".to_string(),
            Some(Elem::Node) => format!(
                "inside <sv:node sv:name=\"{}\">",
                self.nodes.last().map(String::as_str).unwrap_or("")
            ),
            Some(Elem::Property) => format!(
                "inside <sv:property sv:name=\"{}\">",
                self.property
                    .as_ref()
                    .map(|p| p.name.as_str())
                    .unwrap_or("")
            ),
            Some(Elem::Value) => format!(
                "inside <sv:value> of property '{}'",
                self.property
                    .as_ref()
                    .map(|p| p.name.as_str())
                    .unwrap_or("")
            ),
        }
    }

    fn on_text(&mut self, text: &str, start: Mark, raw: Option<&str>) -> Result<(), SysViewError> {
        if let Some(v) = self.value.as_mut() {
            let limit = self.limits.max_value_bytes;
            let size = match v.decoder.as_mut() {
                Some(d) => {
                    if let Err(source) = d.feed(text) {
                        let property = self
                            .property
                            .as_ref()
                            .map(|p| p.name.clone())
                            .unwrap_or_default();
                        let kind = ErrorKind::InvalidBase64 { property, source };
                        let loc = Location::at(self.file.clone(), v.at.line, v.at.column);
                        return Err(SysViewError::new(loc, kind));
                    }
                    d.decoded_len() as u64
                }
                None => {
                    v.text.push_str(text);
                    v.text.len() as u64
                }
            };
            if size > limit {
                let loc = Location::at(self.file.clone(), v.at.line, v.at.column);
                return Err(SysViewError::new(
                    loc,
                    ErrorKind::LimitExceeded {
                        what: "a property value",
                        limit,
                    },
                ));
            }
            return Ok(());
        }
        let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        let Some(first) = text.find(|c: char| !is_ws(c)) else {
            return Ok(());
        };
        let at = match raw {
            Some(raw) => advance(start, raw, raw.find(|c: char| !is_ws(c)).unwrap_or(0)),
            None => start,
        };
        if self.ignore_stray_text {
            self.ignored_text_count += 1;
            if self.ignored_text.len() < IGNORED_TEXT_KEPT {
                self.ignored_text.push(self.location(at));
            }
            return Ok(());
        }
        let shown: String = text[first..].chars().take(40).collect();
        let shown = shown.trim_end().to_string();
        Err(self.error_at(
            at,
            ErrorKind::UnexpectedText {
                text: shown,
                context: self.context(),
            },
        ))
    }

    /// The system view attributes of an element, in one pass (after the element's
    /// own namespace declarations are in scope).
    fn sv_attributes(&self, e: &BytesStart, at: Mark) -> Result<SvAttributes, SysViewError> {
        let mut found = SvAttributes::default();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.error_at(at, ErrorKind::Xml(err.to_string())))?;
            let Some((prefix, local)) = attr.key.0.split_once(':') else {
                continue;
            };
            if prefix == "xmlns" {
                continue;
            }
            let slot = match (self.scopes.element_uri(prefix), local) {
                (Some(SV), "name") => &mut found.name,
                (Some(SV), "type") => &mut found.ty,
                (Some(SV), "multiple") => &mut found.multiple,
                (Some(XSI), "type") => &mut found.xsi_type,
                // Jackrabbit looks `xsi:type` up by its literal name.
                (None, "type") if prefix == "xsi" => &mut found.xsi_type,
                _ => continue,
            };
            let v = attr
                .normalized_value(self.version)
                .map_err(|err| self.error_at(at, ErrorKind::Xml(err.to_string())))?;
            *slot = Some(v.into_owned());
        }
        Ok(found)
    }

    fn on_start(&mut self, e: &BytesStart, empty: bool) -> Result<(), SysViewError> {
        let at = self.xml.get_ref().last_markup();
        let qname = e.name().0;
        if self.root_done && self.elements.is_empty() {
            return Err(self.error_at(at, ErrorKind::AfterRoot(qname.to_string())));
        }
        self.scopes.push();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.error_at(at, ErrorKind::Xml(err.to_string())))?;
            let key = attr.key.0;
            let prefix = if key == "xmlns" {
                ""
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            let uri = attr
                .normalized_value(self.version)
                .map_err(|err| self.error_at(at, ErrorKind::Xml(err.to_string())))?;
            self.scopes
                .declare(prefix, &uri)
                .map_err(|d| self.error_at(at, ErrorKind::Declaration(d)))?;
        }
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        let Some(uri) = self.scopes.element_uri(prefix) else {
            return Err(self.error_at(at, ErrorKind::UndeclaredElementPrefix(qname.to_string())));
        };
        let kind = match (uri == SV, local) {
            (true, "node") => Some(Elem::Node),
            (true, "property") => Some(Elem::Property),
            (true, "value") => Some(Elem::Value),
            _ => None,
        };
        let parent = self.elements.last().copied();
        let expected = match parent {
            None => "<sv:node>",
            Some(Elem::Node) => "<sv:property> or <sv:node>",
            Some(Elem::Property) => "<sv:value>",
            Some(Elem::Value) => "only text",
        };
        let fits = matches!(
            (parent, kind),
            (None, Some(Elem::Node))
                | (Some(Elem::Node), Some(Elem::Node))
                | (Some(Elem::Node), Some(Elem::Property))
                | (Some(Elem::Property), Some(Elem::Value))
        );
        let kind = match kind {
            Some(k) if fits => k,
            _ => {
                return Err(self.error_at(
                    at,
                    ErrorKind::UnexpectedElement {
                        found: qname.to_string(),
                        context: self.context(),
                        expected,
                    },
                ))
            }
        };
        let attrs = self.sv_attributes(e, at)?;
        match kind {
            Elem::Node => self.start_node(attrs, at)?,
            Elem::Property => self.start_property(attrs, at)?,
            Elem::Value => self.start_value(attrs, at)?,
        }
        self.elements.push(kind);
        if empty {
            self.on_end()?;
        }
        Ok(())
    }

    fn start_node(&mut self, attrs: SvAttributes, at: Mark) -> Result<(), SysViewError> {
        let Some(raw) = attrs.name else {
            return Err(self.error_at(
                at,
                ErrorKind::MissingAttribute {
                    element: "sv:node",
                    attribute: "sv:name",
                },
            ));
        };
        let name = self.scopes.qualify(&raw).map_err(|source| {
            self.error_at(
                at,
                ErrorKind::InvalidName {
                    what: "node name",
                    source,
                },
            )
        })?;
        if self.nodes.len() >= self.limits.max_depth {
            return Err(self.error_at(
                at,
                ErrorKind::LimitExceeded {
                    what: "the node nesting depth",
                    limit: self.limits.max_depth as u64,
                },
            ));
        }
        self.emit_pending();
        self.pending = Some(PendingNode {
            name: name.clone(),
            primary_type: None,
            mixins: Vec::new(),
            properties: Vec::new(),
            location: self.location(at),
            depth: self.nodes.len(),
        });
        self.seen.clear();
        self.nodes.push(name);
        self.root_seen = true;
        Ok(())
    }

    fn emit_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.queue.push_back(SysViewEvent::StartNode(StartNode {
                name: p.name,
                primary_type: p.primary_type,
                mixins: p.mixins,
                properties: p.properties,
                location: p.location,
                depth: p.depth,
            }));
        }
    }

    fn start_property(&mut self, attrs: SvAttributes, at: Mark) -> Result<(), SysViewError> {
        let missing = |attribute| ErrorKind::MissingAttribute {
            element: "sv:property",
            attribute,
        };
        let Some(raw_name) = attrs.name else {
            return Err(self.error_at(at, missing("sv:name")));
        };
        let name = self.scopes.qualify(&raw_name).map_err(|source| {
            self.error_at(
                at,
                ErrorKind::InvalidName {
                    what: "property name",
                    source,
                },
            )
        })?;
        let Some(raw_type) = attrs.ty else {
            return Err(self.error_at(at, missing("sv:type")));
        };
        let node_name = self.nodes.last().cloned().unwrap_or_default();
        let Some(pending) = self.pending.as_ref() else {
            return Err(self.error_at(
                at,
                ErrorKind::PropertyAfterChild {
                    property: name,
                    node: node_name,
                },
            ));
        };
        let Some(ptype) = PropertyType::from_jcr_name(&raw_type) else {
            return Err(self.error_at(
                at,
                ErrorKind::UnknownType {
                    property: name,
                    found: raw_type,
                },
            ));
        };
        let explicit_multiple = match attrs.multiple.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(self.error_at(
                    at,
                    ErrorKind::BadMultiple {
                        property: name,
                        found: other.to_string(),
                    },
                ))
            }
        };
        let special = match name.as_str() {
            "jcr:primaryType" => Special::PrimaryType,
            "jcr:mixinTypes" => Special::Mixins,
            _ => Special::None,
        };
        if special != Special::Mixins && !self.seen.insert(name.clone()) {
            return Err(self.error_at(
                at,
                ErrorKind::DuplicateProperty {
                    property: name,
                    node: node_name,
                },
            ));
        }
        if pending.properties.len() >= self.limits.max_properties {
            return Err(self.error_at(
                at,
                ErrorKind::LimitExceeded {
                    what: "the number of properties of a node",
                    limit: self.limits.max_properties as u64,
                },
            ));
        }
        self.property = Some(PendingProperty {
            name,
            ptype,
            explicit_multiple,
            special,
            values: Vec::new(),
        });
        Ok(())
    }

    fn start_value(&mut self, attrs: SvAttributes, at: Mark) -> Result<(), SysViewError> {
        let xsi_base64 = attrs
            .xsi_type
            .is_some_and(|t| t.trim() == "xs:base64Binary");
        let binary = self
            .property
            .as_ref()
            .is_some_and(|p| p.ptype == PropertyType::Binary);
        let limit = self.limits.max_properties;
        if let Some(p) = self.property.as_ref() {
            if p.values.len() >= limit {
                return Err(self.error_at(
                    at,
                    ErrorKind::LimitExceeded {
                        what: "the number of values of a property",
                        limit: limit as u64,
                    },
                ));
            }
        }
        self.value = Some(PendingValue {
            text: String::new(),
            decoder: (binary || xsi_base64).then(Base64Decoder::new),
            at,
        });
        Ok(())
    }

    fn on_end(&mut self) -> Result<(), SysViewError> {
        let elem = self.elements.pop();
        self.scopes.pop();
        match elem {
            Some(Elem::Value) => self.end_value(),
            Some(Elem::Property) => self.end_property(),
            Some(Elem::Node) => {
                self.emit_pending();
                self.queue.push_back(SysViewEvent::EndNode);
                self.nodes.pop();
                if self.nodes.is_empty() {
                    self.root_done = true;
                }
                Ok(())
            }
            // quick-xml reports unmatched end tags itself.
            None => Ok(()),
        }
    }

    fn end_value(&mut self) -> Result<(), SysViewError> {
        let (Some(v), Some(prop)) = (self.value.take(), self.property.as_mut()) else {
            return Ok(());
        };
        let property = prop.name.clone();
        let (file, at) = (&self.file, v.at);
        let fail = |kind| {
            let loc = Location::at(file.clone(), at.line, at.column);
            Err(SysViewError::new(loc, kind))
        };
        let text = match v.decoder {
            Some(d) => match d.finish() {
                Err(source) => return fail(ErrorKind::InvalidBase64 { property, source }),
                Ok(bytes) if prop.ptype == PropertyType::Binary => {
                    prop.values.push(Value::Binary(Binary::inline(bytes)));
                    return Ok(());
                }
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(_) => {
                        return fail(ErrorKind::NotUtf8 {
                            property,
                            ptype: prop.ptype,
                        })
                    }
                },
            },
            None => v.text,
        };
        let name_error = |what, source| ErrorKind::InvalidName { what, source };
        let value = match (prop.special, prop.ptype) {
            (Special::PrimaryType, _) => match self.scopes.qualify(&text) {
                Ok(n) => Value::Name(n),
                Err(e) => return fail(name_error("primary type", e)),
            },
            (Special::Mixins, _) => match self.scopes.qualify(&text) {
                Ok(n) => Value::Name(n),
                Err(e) => return fail(name_error("mixin type", e)),
            },
            (_, PropertyType::Name) => match self.scopes.qualify(&text) {
                Ok(n) => Value::Name(n),
                Err(e) => return fail(name_error("Name value", e)),
            },
            (_, PropertyType::Path) => match self.scopes.qualify_path(&text) {
                Ok(p) => Value::Path(p),
                Err(source) => return fail(ErrorKind::InvalidValue { property, source }),
            },
            (_, PropertyType::Undefined) => Value::String(text),
            (_, t) => match Value::parse(t, &text) {
                Ok(v) => v,
                Err(source) => return fail(ErrorKind::InvalidValue { property, source }),
            },
        };
        prop.values.push(value);
        Ok(())
    }

    fn end_property(&mut self) -> Result<(), SysViewError> {
        let Some(p) = self.property.take() else {
            return Ok(());
        };
        let at = self.xml.get_ref().last_markup();
        let node_name = self.nodes.last().cloned().unwrap_or_default();
        let Some(node) = self.pending.as_mut() else {
            return Ok(());
        };
        let names = |values: Vec<Value>| -> Vec<String> {
            values
                .into_iter()
                .map(|v| match v {
                    Value::Name(n) => n,
                    other => other.to_string(),
                })
                .collect()
        };
        match p.special {
            Special::PrimaryType => {
                if p.values.len() != 1 {
                    let count = p.values.len();
                    return Err(self.error_at(
                        at,
                        ErrorKind::PrimaryTypeValues {
                            node: node_name,
                            count,
                        },
                    ));
                }
                node.primary_type = names(p.values).pop();
            }
            Special::Mixins => node.mixins.extend(names(p.values)),
            Special::None => {
                let multiple = p.explicit_multiple || p.values.len() != 1;
                let ptype = match p.ptype {
                    PropertyType::Undefined => PropertyType::String,
                    t => t,
                };
                node.properties.push(Property {
                    name: p.name,
                    ptype,
                    multiple,
                    values: p.values,
                });
            }
        }
        Ok(())
    }
}

impl<R: Read> Iterator for SysViewReader<R> {
    type Item = Result<SysViewEvent, SysViewError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

/// Reads a whole (small) system view document into a tree; `file` names it in
/// errors. Use [`SysViewReader`] to stream large documents.
pub fn read_tree<R: Read>(input: R, file: impl Into<String>) -> Result<Node, SysViewError> {
    SysViewReader::new(input, file).read_tree()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Date;

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sv:node sv:name="root" xmlns:sv="http://www.jcp.org/jcr/sv/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#;

    fn doc(body: &str) -> String {
        format!("{HEAD}\n{body}\n</sv:node>\n")
    }

    fn tree(xml: &str) -> Node {
        read_tree(xml.as_bytes(), "t.xml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn prop(name: &str, ty: &str, values: &[&str]) -> String {
        let vals: String = values
            .iter()
            .map(|v| format!("<sv:value>{v}</sv:value>"))
            .collect();
        format!(r#"<sv:property sv:name="{name}" sv:type="{ty}">{vals}</sv:property>"#)
    }

    #[test]
    fn reads_types_and_special_properties() {
        let body = [
            prop("jcr:primaryType", "Name", &["nt:unstructured"]),
            r#"<sv:property sv:name="jcr:mixinTypes" sv:type="Name" sv:multiple="true"><sv:value>mix:referenceable</sv:value><sv:value>mix:lockable</sv:value></sv:property>"#.to_string(),
            prop("jcr:uuid", "String", &["0087f0d0-834a-458a-8479-0e93aefcf675"]),
            prop("s", "String", &["a &amp; b &lt;c&gt; &#233;"]),
            prop("l", "Long", &["-42"]),
            prop("d", "Double", &["2.5"]),
            prop("dec", "Decimal", &["3.14159265358979323846"]),
            prop("date", "Date", &["2010-03-04T21:42:25.809+01:00"]),
            prop("b", "Boolean", &["true"]),
            prop("n", "Name", &["mgnl:page"]),
            prop("p", "Path", &["/a/b[2]"]),
            prop("r", "Reference", &["u-1"]),
            prop("w", "WeakReference", &["u-2"]),
            prop("u", "URI", &["http://x/?a=1&amp;b=2"]),
            prop("bin", "Binary", &["aGVs\n bG8="]),
            prop("undef", "undefined", &["x"]),
            prop("multi", "String", &["1", "2"]),
            prop("none", "String", &[]),
        ]
        .join("\n");
        let n = tree(&doc(&body));
        assert_eq!(n.name, "root");
        assert_eq!(n.primary_type, "nt:unstructured");
        assert_eq!(n.mixins, ["mix:referenceable", "mix:lockable"]);
        assert!(n.property("jcr:primaryType").is_none());
        assert_eq!(
            n.value("jcr:uuid").unwrap().to_string(),
            "0087f0d0-834a-458a-8479-0e93aefcf675"
        );
        assert_eq!(n.value("s").unwrap().to_string(), "a & b <c> é");
        assert_eq!(n.value("l"), Some(&Value::Long(-42)));
        assert_eq!(n.value("d"), Some(&Value::Double(2.5)));
        assert_eq!(
            n.value("dec"),
            Some(&Value::Decimal("3.14159265358979323846".into()))
        );
        assert_eq!(
            n.value("date"),
            Some(&Value::Date(
                Date::parse("2010-03-04T21:42:25.809+01:00").unwrap()
            ))
        );
        assert_eq!(n.value("b"), Some(&Value::Boolean(true)));
        assert_eq!(n.value("n"), Some(&Value::Name("mgnl:page".into())));
        assert_eq!(n.value("p"), Some(&Value::Path("/a/b[2]".into())));
        assert_eq!(n.value("r"), Some(&Value::Reference("u-1".into())));
        assert_eq!(n.value("w"), Some(&Value::WeakReference("u-2".into())));
        assert_eq!(n.value("u"), Some(&Value::Uri("http://x/?a=1&b=2".into())));
        assert_eq!(
            n.value("bin"),
            Some(&Value::Binary(Binary::inline(b"hello".to_vec())))
        );
        let undef = n.property("undef").unwrap();
        assert_eq!(undef.ptype, PropertyType::String);
        let multi = n.property("multi").unwrap();
        assert!(multi.multiple);
        assert_eq!(multi.values.len(), 2);
        let none = n.property("none").unwrap();
        assert!(none.multiple);
        assert!(none.values.is_empty());
        assert!(!n.property("s").unwrap().multiple);
    }

    #[test]
    fn explicit_multiple_with_one_value_and_false() {
        let body = r#"<sv:property sv:name="a" sv:type="String" sv:multiple="true"><sv:value>x</sv:value></sv:property>
<sv:property sv:name="b" sv:type="String" sv:multiple="false"><sv:value>x</sv:value></sv:property>"#;
        let n = tree(&doc(body));
        assert!(n.property("a").unwrap().multiple);
        assert!(!n.property("b").unwrap().multiple);
    }

    #[test]
    fn xsi_base64_string_values_are_decoded() {
        // From a Magnolia shop export: a description with CR LF, base64-encoded.
        let body = r#"<sv:property sv:name="desc" sv:type="String"><sv:value xsi:type="xs:base64Binary">V2VpZ2h0OiAxMi43IGtnLiBVc2U6IFgtIENvdW50cnkgLyBTcG9ydA0K</sv:value></sv:property>
<sv:property sv:name="ctl" sv:type="String"><sv:value xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:type="xs:base64Binary">YQFi</sv:value></sv:property>"#;
        let n = tree(&doc(body));
        assert_eq!(
            n.value("desc").unwrap().to_string(),
            "Weight: 12.7 kg. Use: X- Country / Sport\r\n"
        );
        assert_eq!(n.value("ctl").unwrap().to_string(), "a\u{1}b");
    }

    #[test]
    fn text_keeps_whitespace_cdata_and_line_ends_normalised() {
        let body = "<sv:property sv:name=\"t\" sv:type=\"String\"><sv:value>  a\r\nb <![CDATA[<x>&]]> &#13;</sv:value></sv:property>";
        let n = tree(&doc(body));
        assert_eq!(n.value("t").unwrap().to_string(), "  a\nb <x>& \r");
    }

    #[test]
    fn streams_parents_before_children() {
        let xml = doc(&format!(
            "{}<sv:node sv:name=\"c\">{}</sv:node><sv:node sv:name=\"c\"/>",
            prop("x", "Long", &["1"]),
            prop("y", "Long", &["2"])
        ));
        let mut r = SysViewReader::new(xml.as_bytes(), "t.xml");
        let mut seen = Vec::new();
        while let Some(ev) = r.next_event().unwrap() {
            seen.push(match ev {
                SysViewEvent::StartNode(s) => {
                    format!("start {} d{} p{}", s.name, s.depth, s.properties.len())
                }
                SysViewEvent::EndNode => "end".into(),
            });
        }
        assert_eq!(
            seen,
            [
                "start root d0 p1",
                "start c d1 p1",
                "end",
                "start c d1 p0",
                "end",
                "end"
            ]
        );
        let t = tree(&xml);
        assert_eq!(t.children[1].index, 2);
    }

    #[test]
    fn start_node_carries_the_tag_location() {
        let xml = doc("  <sv:node sv:name=\"c\"/>");
        let mut r = SysViewReader::new(xml.as_bytes(), "t.xml");
        let mut locs = Vec::new();
        while let Some(ev) = r.next_event().unwrap() {
            if let SysViewEvent::StartNode(s) = ev {
                locs.push(s.location.to_string());
            }
        }
        assert_eq!(locs, ["t.xml:2:1", "t.xml:3:3"]);
    }

    #[test]
    fn namespaces_are_normalised_document_wide() {
        let xml = r#"<s:node xmlns:s="http://www.jcp.org/jcr/sv/1.0" xmlns:j="http://www.jcp.org/jcr/1.0" xmlns:a="urn:a" s:name="a:root">
  <s:property s:name="j:primaryType" s:type="Name"><s:value>a:Type</s:value></s:property>
  <s:property s:name="ref" s:type="Path"><s:value>/j:content/a:x</s:value></s:property>
  <s:node s:name="a:child" xmlns:a="urn:other" xmlns:b="urn:a">
    <s:property s:name="b:p" s:type="Name"><s:value>a:v</s:value></s:property>
  </s:node>
  <s:node s:name="mgnl:undeclared"/>
</s:node>"#;
        let mut r = SysViewReader::new(xml.as_bytes(), "ns.xml");
        let n = r.read_tree().unwrap();
        assert_eq!(n.name, "a:root");
        assert_eq!(n.primary_type, "a:Type");
        assert_eq!(
            n.value("ref"),
            Some(&Value::Path("/jcr:content/a:x".into()))
        );
        let c = &n.children[0];
        assert_eq!(c.name, "a0:child");
        assert_eq!(c.value("a:p"), Some(&Value::Name("a0:v".into())));
        assert_eq!(r.namespaces().uri("a"), Some("urn:a"));
        assert_eq!(r.namespaces().uri("a0"), Some("urn:other"));
        assert_eq!(r.undeclared_prefixes().collect::<Vec<_>>(), ["mgnl"]);
    }

    #[test]
    fn comments_and_processing_instructions_are_ignored() {
        let xml = "<!-- head --><?pi x?><sv:node xmlns:sv=\"http://www.jcp.org/jcr/sv/1.0\" sv:name=\"a\"><!-- c --><sv:property sv:name=\"p\" sv:type=\"String\"><sv:value>x<!-- in -->y</sv:value></sv:property></sv:node><!-- tail -->";
        let n = tree(xml);
        assert_eq!(n.value("p").unwrap().to_string(), "xy");
    }

    #[test]
    fn stray_text_can_be_ignored_like_jackrabbit() {
        let xml = doc(&format!("{}aaaa\n  more", prop("p", "String", &["x"])));
        let mut r = SysViewReader::new(xml.as_bytes(), "t.xml");
        let e = r.read_tree().unwrap_err();
        assert!(matches!(e.kind, ErrorKind::UnexpectedText { .. }), "{e}");
        let mut r = SysViewReader::new(xml.as_bytes(), "t.xml");
        r.set_ignore_stray_text(true);
        let n = r.read_tree().unwrap();
        assert_eq!(n.value("p").unwrap().to_string(), "x");
        assert_eq!(r.ignored_text_count(), 1);
        assert_eq!(r.ignored_text()[0].line, 3);
    }

    #[test]
    fn errors_are_fused() {
        let xml = doc("<bad/>");
        let mut r = SysViewReader::new(xml.as_bytes(), "t.xml");
        assert!(r.next_event().is_err());
        assert!(r.next_event().unwrap().is_none());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_depth: 2,
            max_value_bytes: 4,
            max_properties: 2,
        };
        let read = |xml: String| {
            SysViewReader::with_limits(xml.as_bytes(), "t.xml", limits)
                .read_tree()
                .unwrap_err()
                .to_string()
        };
        let deep = doc("<sv:node sv:name=\"a\"><sv:node sv:name=\"b\"/></sv:node>");
        assert!(read(deep).contains("node nesting depth exceeds the limit of 2"));
        let big = doc(&prop("p", "String", &["12345"]));
        assert!(read(big).contains("a property value exceeds the limit of 4"));
        let big_bin = doc(&prop("p", "Binary", &["aGVsbG8="]));
        assert!(read(big_bin).contains("a property value exceeds the limit of 4"));
        let many = doc(&[
            prop("a", "String", &["1"]),
            prop("b", "String", &["1"]),
            prop("c", "String", &["1"]),
        ]
        .join(""));
        assert!(read(many).contains("number of properties of a node exceeds the limit of 2"));
        let values = doc(&prop("a", "String", &["1", "2", "3"]));
        assert!(read(values).contains("number of values of a property exceeds the limit of 2"));
        // A single huge text event is cut off before it is buffered whole.
        let huge = doc(&format!(
            "<sv:property sv:name=\"p\" sv:type=\"String\"><sv:value>{}</sv:value></sv:property>",
            "x".repeat(200_000)
        ));
        assert!(read(huge).contains("a single XML tag or text exceeds the limit"));
    }
}
