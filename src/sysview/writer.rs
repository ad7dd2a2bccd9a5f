//! The streaming system view writer.
//!
//! [`SysViewWriter`] writes nodes as they come: [`SysViewWriter::start_node`], then
//! the node's properties, then its children, then [`SysViewWriter::end_node`].
//! Nothing but the open nodes' nesting is kept, and binary values are streamed from a
//! [`BinarySource`] through a 48 KiB buffer, so exports of any size write in constant
//! memory.
//!
//! The output is deterministic, in the style of Jackrabbit's exporter pretty-printed
//! the way Magnolia's bootstrap files are:
//!
//! ```text
//! <?xml version="1.0" encoding="UTF-8"?>
//! <sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" xmlns:jcr="…" … sv:name="root">
//!   <sv:property sv:name="jcr:primaryType" sv:type="Name">
//!     <sv:value>nt:unstructured</sv:value>
//!   </sv:property>
//!   <sv:property sv:name="tags" sv:type="String" sv:multiple="true">
//!     <sv:value>a</sv:value>
//!   </sv:property>
//!   <sv:property sv:name="none" sv:type="String" sv:multiple="true"/>
//!   <sv:node sv:name="leaf"/>
//! </sv:node>
//! ```
//!
//! * two spaces of indentation per level, `\n` line ends, a final newline;
//! * the root element declares `sv` and then every mapping of the registry passed in,
//!   in its order (except the empty prefix and `xml`), before `sv:name`, as
//!   Jackrabbit's exporter does;
//! * `jcr:primaryType` (when not empty) and `jcr:mixinTypes` (when there are any)
//!   come first, then the other properties in the given order;
//! * `sv:multiple="true"` on every multi-valued property (JCR 2.0), even with one or
//!   no values;
//! * a node without properties and children is written `<sv:node sv:name="…"/>`;
//! * text escapes `&`, `<`, `>` and carriage returns (`&#13;`, which XML would
//!   otherwise turn into a line feed); attributes also escape `"`, tabs and line
//!   feeds;
//! * Binary values are base64 on one line; a value of another type whose text holds a
//!   character XML 1.0 cannot carry (controls other than tab, LF and CR, U+FFFE,
//!   U+FFFF) is written base64 with `xsi:type="xs:base64Binary"`, the `xsi` and `xs`
//!   prefixes declared on the `sv:value` element itself, as Jackrabbit does.
//!
//! Every name (node, property, primary type, mixins, Name values, names in Path
//! values) is checked: it must be a valid JCR name whose prefix the registry maps,
//! since only those prefixes are declared in the document.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use super::b64;
use super::error::WriteError;
use super::names::split_path;
use super::{StartNode, XS, XSI};
use crate::name;
use crate::namespace::{NamespaceRegistry, SV, XML};
use crate::node::Node;
use crate::value::{Binary, Property, PropertyType, Value};

/// Where the writer gets the bytes of binary values that are not in memory.
///
/// [`Binary::Inline`] values are encoded directly; every other kind (a blob in the
/// repository's store, a package entry, a data store reference) is asked for here.
pub trait BinarySource {
    /// Opens the content of `binary` for reading.
    fn open(&mut self, binary: &Binary) -> io::Result<Box<dyn Read + '_>>;
}

/// A [`BinarySource`] for trees whose binaries are all [`Binary::Inline`]: any other
/// binary is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct InlineOnly;

impl BinarySource for InlineOnly {
    fn open(&mut self, binary: &Binary) -> io::Result<Box<dyn Read + '_>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("no binary store was given to read {binary:?}"),
        ))
    }
}

impl<F> BinarySource for F
where
    F: FnMut(&Binary) -> io::Result<Box<dyn Read>>,
{
    fn open(&mut self, binary: &Binary) -> io::Result<Box<dyn Read + '_>> {
        self(binary)
    }
}

#[derive(Debug)]
struct OpenNode {
    /// The start tag's `>` is not written yet (the node may still end up empty).
    tag_open: bool,
    has_children: bool,
}

/// Size of the buffer binaries are encoded through; a multiple of 3 so that no
/// padding appears mid-stream.
const BINARY_CHUNK: usize = 48 * 1024;

/// A streaming system view writer; see the module documentation.
///
/// Pass a buffered `W` (such as `BufWriter<File>`): the writer issues one write per
/// line.
pub struct SysViewWriter<W: Write> {
    out: W,
    ns: NamespaceRegistry,
    declarations: String,
    open: Vec<OpenNode>,
    props: HashSet<String>,
    root_done: bool,
    line: String,
}

impl<W: Write> SysViewWriter<W> {
    /// A writer to `out` whose root element declares the mappings of `namespaces`
    /// (plus `sv`). Fails if a mapping cannot be declared in XML.
    pub fn new(out: W, namespaces: &NamespaceRegistry) -> Result<SysViewWriter<W>, WriteError> {
        let mut ns = NamespaceRegistry::empty();
        let mut declarations = String::new();
        declarations.push_str(" xmlns:sv=\"");
        escape_attr(SV, &mut declarations);
        declarations.push('"');
        ns.set("sv", SV);
        for (prefix, uri) in namespaces.iter() {
            let bad = |reason| WriteError::Namespace {
                prefix: prefix.to_string(),
                uri: uri.to_string(),
                reason,
            };
            if (prefix.is_empty() && uri.is_empty()) || (prefix == "xml" && uri == XML) {
                continue;
            }
            if uri == SV {
                if prefix == "sv" {
                    continue;
                }
                return Err(bad("the sv namespace must have the prefix sv"));
            }
            if prefix == "sv" {
                return Err(bad(
                    "the prefix sv is reserved for the system view namespace",
                ));
            }
            if prefix.is_empty() {
                return Err(bad(
                    "the empty prefix always means the empty namespace in JCR",
                ));
            }
            if prefix == "xml" || prefix.eq_ignore_ascii_case("xmlns") || uri == XML {
                return Err(bad("xml and xmlns are reserved"));
            }
            if !name::is_ncname(prefix) {
                return Err(bad("a prefix must be an XML NCName"));
            }
            if uri.is_empty() {
                return Err(bad("XML 1.0 cannot bind a prefix to the empty namespace"));
            }
            if uri.chars().any(is_xml_invalid) {
                return Err(bad("the URI has characters XML cannot carry"));
            }
            ns.set(prefix, uri);
            declarations.push_str(" xmlns:");
            declarations.push_str(prefix);
            declarations.push_str("=\"");
            escape_attr(uri, &mut declarations);
            declarations.push('"');
        }
        ns.set("xml", XML);
        Ok(SysViewWriter {
            out,
            ns,
            declarations,
            open: Vec::new(),
            props: HashSet::new(),
            root_done: false,
            line: String::new(),
        })
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.line.push_str("  ");
        }
    }

    fn flush_line(&mut self) -> Result<(), WriteError> {
        self.out.write_all(self.line.as_bytes())?;
        self.line.clear();
        Ok(())
    }

    /// Writes the `>` of the innermost node's start tag if it is still open.
    fn close_tag(&mut self) -> Result<(), WriteError> {
        if let Some(top) = self.open.last_mut() {
            if top.tag_open {
                top.tag_open = false;
                self.line.push_str(">\n");
                self.flush_line()?;
            }
        }
        Ok(())
    }

    fn check_name(&self, what: &'static str, n: &str) -> Result<(), WriteError> {
        let bad = |reason: String| WriteError::InvalidName {
            what,
            name: n.to_string(),
            reason,
        };
        name::validate(n).map_err(|e| bad(e.to_string()))?;
        if n.chars().any(is_xml_invalid) {
            return Err(bad("it has characters XML cannot carry".into()));
        }
        let p = name::prefix(n);
        if n.contains(':') && self.ns.uri(p).is_none() {
            return Err(bad(format!(
                "the prefix '{p}' is not in the namespace registry given to the writer"
            )));
        }
        Ok(())
    }

    fn check_path(&self, property: &str, path: &str) -> Result<(), WriteError> {
        let bad = |reason: String| WriteError::InvalidName {
            what: "Path value",
            name: path.to_string(),
            reason: format!("{reason} (property '{property}')"),
        };
        if path.chars().any(is_xml_invalid) {
            return Err(bad("it has characters XML cannot carry".into()));
        }
        if path.starts_with('[') {
            return Ok(());
        }
        for seg in split_path(path) {
            if seg.is_empty() || seg == "." || seg == ".." {
                continue;
            }
            let name_part = match seg.strip_suffix(']').and_then(|t| t.rfind('[')) {
                Some(open) => &seg[..open],
                None => seg,
            };
            let p = name::prefix(name_part);
            if name_part.contains(':') && self.ns.uri(p).is_none() {
                return Err(bad(format!(
                    "the prefix '{p}' is not in the namespace registry given to the writer"
                )));
            }
        }
        Ok(())
    }

    /// Starts a node: its `sv:node` tag, and `jcr:primaryType` (unless
    /// `primary_type` is empty) and `jcr:mixinTypes` (unless `mixins` is empty). The
    /// first node is the root; an empty root name is written `jcr:root`, the name
    /// JCR exports give the repository root.
    pub fn start_node(
        &mut self,
        node_name: &str,
        primary_type: &str,
        mixins: &[String],
    ) -> Result<(), WriteError> {
        let is_root = self.open.is_empty();
        if is_root && self.root_done {
            return Err(WriteError::Order(
                "a system view document has one root node",
            ));
        }
        let node_name = if is_root && node_name.is_empty() {
            "jcr:root"
        } else {
            node_name
        };
        self.check_name("node name", node_name)?;
        if !primary_type.is_empty() {
            self.check_name("primary type", primary_type)?;
        }
        for m in mixins {
            self.check_name("mixin type", m)?;
        }
        self.close_tag()?;
        if let Some(parent) = self.open.last_mut() {
            parent.has_children = true;
        }
        if is_root {
            self.line
                .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sv:node");
            let decl = std::mem::take(&mut self.declarations);
            self.line.push_str(&decl);
            self.declarations = decl;
        } else {
            self.indent(self.open.len());
            self.line.push_str("<sv:node");
        }
        self.line.push_str(" sv:name=\"");
        escape_attr(node_name, &mut self.line);
        self.line.push('"');
        self.open.push(OpenNode {
            tag_open: true,
            has_children: false,
        });
        self.props.clear();
        if !primary_type.is_empty() {
            let v = [Value::Name(primary_type.to_string())];
            self.write_property(
                "jcr:primaryType",
                PropertyType::Name,
                false,
                &v,
                &mut InlineOnly,
            )?;
        }
        if !mixins.is_empty() {
            let v: Vec<Value> = mixins.iter().map(|m| Value::Name(m.clone())).collect();
            self.write_property(
                "jcr:mixinTypes",
                PropertyType::Name,
                true,
                &v,
                &mut InlineOnly,
            )?;
        }
        Ok(())
    }

    /// Writes a property of the innermost open node; all properties must come before
    /// the node's first child. `binaries` supplies the bytes of non-inline binaries.
    pub fn property(
        &mut self,
        p: &Property,
        binaries: &mut dyn BinarySource,
    ) -> Result<(), WriteError> {
        let bad = |reason: String| WriteError::InvalidProperty {
            property: p.name.clone(),
            reason,
        };
        if p.name == "jcr:primaryType" || p.name == "jcr:mixinTypes" {
            return Err(bad("pass the primary type and mixins to start_node".into()));
        }
        self.write_property(&p.name, p.ptype, p.multiple, &p.values, binaries)
    }

    fn write_property(
        &mut self,
        prop_name: &str,
        ptype: PropertyType,
        multiple: bool,
        values: &[Value],
        binaries: &mut dyn BinarySource,
    ) -> Result<(), WriteError> {
        let bad = |reason: String| WriteError::InvalidProperty {
            property: prop_name.to_string(),
            reason,
        };
        let depth = match self.open.last() {
            None => return Err(WriteError::Order("a property must be inside a node")),
            Some(top) if top.has_children => {
                return Err(WriteError::Order(
                    "a node's properties must be written before its child nodes",
                ))
            }
            Some(_) => self.open.len(),
        };
        self.check_name("property name", prop_name)?;
        if ptype == PropertyType::Undefined {
            return Err(bad(
                "a property to write needs a type other than undefined".into()
            ));
        }
        if !multiple && values.len() != 1 {
            return Err(bad(format!(
                "a single-valued property needs exactly one value, not {}",
                values.len()
            )));
        }
        for v in values {
            if v.ptype() != ptype {
                return Err(bad(format!(
                    "it is declared {ptype} but has a {} value",
                    v.ptype()
                )));
            }
            match v {
                Value::Name(n) => self.check_name("Name value", n)?,
                Value::Path(path) => self.check_path(prop_name, path)?,
                _ => {}
            }
        }
        if !self.props.insert(prop_name.to_string()) {
            return Err(bad("it was already written for this node".into()));
        }
        self.close_tag()?;
        self.indent(depth);
        self.line.push_str("<sv:property sv:name=\"");
        escape_attr(prop_name, &mut self.line);
        self.line.push_str("\" sv:type=\"");
        self.line.push_str(ptype.jcr_name());
        self.line.push('"');
        if multiple {
            self.line.push_str(" sv:multiple=\"true\"");
        }
        if values.is_empty() {
            self.line.push_str("/>\n");
            return self.flush_line();
        }
        self.line.push_str(">\n");
        for v in values {
            self.indent(depth + 1);
            self.write_value(prop_name, v, binaries)?;
        }
        self.indent(depth);
        self.line.push_str("</sv:property>\n");
        self.flush_line()
    }

    fn write_value(
        &mut self,
        prop_name: &str,
        v: &Value,
        binaries: &mut dyn BinarySource,
    ) -> Result<(), WriteError> {
        match v {
            Value::Binary(Binary::Inline(bytes)) => {
                self.line.push_str("<sv:value>");
                self.line.push_str(&b64::encode(bytes));
            }
            Value::Binary(other) => {
                self.line.push_str("<sv:value>");
                self.flush_line()?;
                let fail = |source| WriteError::Binary {
                    property: prop_name.to_string(),
                    source,
                };
                let mut input = binaries.open(other).map_err(fail)?;
                let mut chunk = vec![0u8; BINARY_CHUNK];
                let mut filled = 0;
                loop {
                    let n = match input.read(&mut chunk[filled..]) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(fail(e)),
                    };
                    if n == 0 {
                        break;
                    }
                    filled += n;
                    if filled == chunk.len() {
                        self.out.write_all(b64::encode(&chunk).as_bytes())?;
                        filled = 0;
                    }
                }
                self.line.push_str(&b64::encode(&chunk[..filled]));
            }
            other => {
                let text = other.to_string();
                if text.chars().any(is_xml_invalid) {
                    self.line.push_str("<sv:value xmlns:xsi=\"");
                    self.line.push_str(XSI);
                    self.line.push_str("\" xmlns:xs=\"");
                    self.line.push_str(XS);
                    self.line.push_str("\" xsi:type=\"xs:base64Binary\">");
                    self.line.push_str(&b64::encode(text.as_bytes()));
                } else {
                    self.line.push_str("<sv:value>");
                    escape_text(&text, &mut self.line);
                }
            }
        }
        self.line.push_str("</sv:value>\n");
        self.flush_line()
    }

    /// Ends the innermost open node.
    pub fn end_node(&mut self) -> Result<(), WriteError> {
        let Some(top) = self.open.pop() else {
            return Err(WriteError::Order("end_node without an open node"));
        };
        if top.tag_open {
            self.line.push_str("/>\n");
        } else {
            self.indent(self.open.len());
            self.line.push_str("</sv:node>\n");
        }
        self.flush_line()?;
        if self.open.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    /// Starts a node from a reader event, with its properties (the way to copy a
    /// document while streaming).
    pub fn write_start(
        &mut self,
        node: &StartNode,
        binaries: &mut dyn BinarySource,
    ) -> Result<(), WriteError> {
        self.start_node(
            &node.name,
            node.primary_type.as_deref().unwrap_or(""),
            &node.mixins,
        )?;
        for p in &node.properties {
            self.property(p, binaries)?;
        }
        Ok(())
    }

    /// Writes a whole subtree: the node, its properties and its descendants.
    pub fn write_node(
        &mut self,
        node: &Node,
        binaries: &mut dyn BinarySource,
    ) -> Result<(), WriteError> {
        self.start_node(&node.name, &node.primary_type, &node.mixins)?;
        for p in node.properties.values() {
            self.property(p, binaries)?;
        }
        for c in &node.children {
            self.write_node(c, binaries)?;
        }
        self.end_node()
    }

    /// Ends the document: checks that the root was written and closed, flushes, and
    /// returns the output.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if !self.open.is_empty() {
            return Err(WriteError::Order("finish with nodes still open"));
        }
        if !self.root_done {
            return Err(WriteError::Order("finish before any node was written"));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes `node` and its subtree as a system view document to `out`, declaring the
/// mappings of `namespaces` on the root element.
pub fn write_tree<W: Write>(
    out: W,
    node: &Node,
    namespaces: &NamespaceRegistry,
    binaries: &mut dyn BinarySource,
) -> Result<W, WriteError> {
    let mut w = SysViewWriter::new(out, namespaces)?;
    w.write_node(node, binaries)?;
    w.finish()
}

/// Whether XML 1.0 cannot carry `c` in content (Jackrabbit checks the controls; the
/// two non-characters are invalid XML too).
pub fn is_xml_invalid(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => true,
        _ => false,
    }
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if crate::docview::writer::is_discouraged(c) => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if crate::docview::writer::is_discouraged(c) => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Date;

    fn registry() -> NamespaceRegistry {
        let mut ns = NamespaceRegistry::new();
        ns.register("mgnl", "http://www.magnolia.info/jcr/mgnl");
        ns
    }

    fn sample() -> Node {
        let mut root = Node::new("site", "mgnl:content");
        root.mixins = vec!["mix:referenceable".into()];
        root = root
            .with(Property::string(
                "jcr:uuid",
                "0087f0d0-834a-458a-8479-0e93aefcf675",
            ))
            .with(Property::string(
                "title",
                "Fish & <Chips> \"quoted\"\r\nline 2",
            ))
            .with(Property::string("control", "bell\u{7}"))
            .with(Property::single("count", Value::Long(-3)))
            .with(Property::single("ratio", Value::Double(0.5)))
            .with(Property::single("price", Value::Decimal("19.90".into())))
            .with(Property::single(
                "created",
                Value::Date(Date::parse("2010-03-04T21:42:25.809+01:00").unwrap()),
            ))
            .with(Property::single("hidden", Value::Boolean(false)))
            .with(Property::single(
                "template",
                Value::Name("mgnl:page".into()),
            ))
            .with(Property::single(
                "link",
                Value::Path("/site/jcr:content[2]".into()),
            ))
            .with(Property::single("ref", Value::Reference("u-1".into())))
            .with(Property::single("weak", Value::WeakReference("u-2".into())))
            .with(Property::single(
                "home",
                Value::Uri("http://example.com/?a=1&b=2".into()),
            ))
            .with(Property::single(
                "icon",
                Value::Binary(Binary::inline(b"GIF89a".to_vec())),
            ))
            .with(Property::multi(
                "tags",
                PropertyType::String,
                vec![Value::String("a".into()), Value::String("b".into())],
            ))
            .with(Property::multi(
                "one",
                PropertyType::String,
                vec![Value::String("x".into())],
            ))
            .with(Property::multi("none", PropertyType::Long, vec![]));
        root.with_child(
            Node::new("jcr:content", "nt:unstructured").with_child(Node::new("leaf", "")),
        )
        .with_child(Node::new("empty", "nt:folder"))
    }

    #[test]
    fn snapshot_of_a_sample_tree() {
        let out = write_tree(Vec::new(), &sample(), &registry(), &mut InlineOnly).unwrap();
        let text = String::from_utf8(out).unwrap();
        insta::assert_snapshot!("sample_tree", text);
    }

    #[test]
    fn output_is_deterministic() {
        let a = write_tree(Vec::new(), &sample(), &registry(), &mut InlineOnly).unwrap();
        let b = write_tree(Vec::new(), &sample(), &registry(), &mut InlineOnly).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn streams_binaries_from_a_source() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let expected = b64::encode(&big);
        let node = Node::new("f", "nt:resource").with(Property::single(
            "jcr:data",
            Value::Binary(Binary::Blob {
                sha256: "abc".into(),
                size: big.len() as u64,
            }),
        ));
        let data = big.clone();
        let mut source = move |b: &Binary| -> io::Result<Box<dyn Read>> {
            assert!(matches!(b, Binary::Blob { .. }));
            // A reader that hands out few bytes at a time.
            struct Trickle(Vec<u8>, usize);
            impl Read for Trickle {
                fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                    let n = out.len().min(1000).min(self.0.len() - self.1);
                    out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                    self.1 += n;
                    Ok(n)
                }
            }
            Ok(Box::new(Trickle(data.clone(), 0)))
        };
        let out = write_tree(Vec::new(), &node, &registry(), &mut source).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!("<sv:value>{expected}</sv:value>")));
        let back = super::super::read_tree(text.as_bytes(), "t.xml").unwrap();
        assert_eq!(
            back.value("jcr:data"),
            Some(&Value::Binary(Binary::inline(big)))
        );
        let err = write_tree(Vec::new(), &node, &registry(), &mut InlineOnly).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot read binary property 'jcr:data'"),
            "{err}"
        );
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        let mut ns = NamespaceRegistry::new();
        let unknown = Node::new("x:a", "nt:base");
        let e = write_tree(Vec::new(), &unknown, &ns, &mut InlineOnly).unwrap_err();
        assert!(
            e.to_string()
                .contains("prefix 'x' is not in the namespace registry"),
            "{e}"
        );

        let bad_path =
            Node::new("a", "nt:base").with(Property::single("p", Value::Path("/q:x".into())));
        let e = write_tree(Vec::new(), &bad_path, &ns, &mut InlineOnly).unwrap_err();
        assert!(e.to_string().contains("prefix 'q'"), "{e}");

        let single_empty = Node::new("a", "nt:base").with(Property {
            name: "p".into(),
            ptype: PropertyType::String,
            multiple: false,
            values: vec![],
        });
        let e = write_tree(Vec::new(), &single_empty, &ns, &mut InlineOnly).unwrap_err();
        assert!(e.to_string().contains("exactly one value"), "{e}");

        let mixed = Node::new("a", "nt:base").with(Property::multi(
            "p",
            PropertyType::Long,
            vec![Value::String("x".into())],
        ));
        let e = write_tree(Vec::new(), &mixed, &ns, &mut InlineOnly).unwrap_err();
        assert!(
            e.to_string()
                .contains("declared Long but has a String value"),
            "{e}"
        );

        ns.set("sv", "urn:not-sv");
        assert!(SysViewWriter::new(Vec::new(), &ns).is_err());
    }

    #[test]
    fn enforces_tree_order() {
        let ns = NamespaceRegistry::new();
        let mut w = SysViewWriter::new(Vec::new(), &ns).unwrap();
        assert!(w.end_node().is_err());
        w.start_node("a", "", &[]).unwrap();
        w.start_node("b", "", &[]).unwrap();
        w.end_node().unwrap();
        let e = w
            .property(&Property::string("late", "x"), &mut InlineOnly)
            .unwrap_err();
        assert!(e.to_string().contains("before its child nodes"), "{e}");
        w.end_node().unwrap();
        assert!(w.start_node("second", "", &[]).is_err());
        let out = w.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("  <sv:node sv:name=\"b\"/>\n</sv:node>\n"),
            "{text}"
        );

        let mut w = SysViewWriter::new(Vec::new(), &ns).unwrap();
        w.start_node("", "rep:root", &[]).unwrap();
        assert!(matches!(w.finish(), Err(WriteError::Order(_))));
    }

    #[test]
    fn empty_root_name_is_jcr_root() {
        let ns = NamespaceRegistry::new();
        let out = write_tree(Vec::new(), &Node::new("", "rep:root"), &ns, &mut InlineOnly).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("sv:name=\"jcr:root\""), "{text}");
    }

    #[test]
    fn escapes() {
        let mut s = String::new();
        escape_text("a&b<c>d\re\"f\tg\nh", &mut s);
        assert_eq!(s, "a&amp;b&lt;c&gt;d&#13;e\"f\tg\nh");
        s.clear();
        escape_attr("a&b<c>d\re\"f\tg\nh", &mut s);
        assert_eq!(s, "a&amp;b&lt;c&gt;d&#13;e&quot;f&#9;g&#10;h");
        s.clear();
        escape_attr("\u{7f}\u{9b}\u{2028}", &mut s);
        assert_eq!(s, "&#127;&#155;&#8232;");
        s.clear();
        escape_text("\u{85}x\u{2029}", &mut s);
        assert_eq!(s, "&#133;x&#8233;");
        assert!(is_xml_invalid('\u{0}'));
        assert!(is_xml_invalid('\u{1F}'));
        assert!(is_xml_invalid('\u{FFFE}'));
        assert!(!is_xml_invalid('\t'));
        assert!(!is_xml_invalid('é'));
    }
}
