//! The canonical JSON form of a node tree (`jcrpack dump --format json`), as the
//! conformance suite defines it (`../shared/conformance/README.md`):
//!
//! ```json
//! {"name": "", "primaryType": "rep:root", "mixinTypes": [],
//!  "properties": {"count": {"type": "Long", "value": 42}}, "children": [ ... ]}
//! ```
//!
//! Properties are sorted by name; `jcr:primaryType` and `jcr:mixinTypes` are not
//! among them. Long is a JSON integer, Double a number (or the strings `NaN`,
//! `Infinity`, `-Infinity`), Boolean a boolean, Binary `{"size", "sha256"}`, every
//! other type its JCR string form.
//!
//! [`JsonTreeWriter`] writes the tree as a stream of start/end events, so a dump
//! never holds more than one node's properties in memory. [`write_subtree`] writes a
//! repository subtree as canonical JSON, enhanced DocView or system view.

use crate::repository::{RepositoryError, StoreRead};
use crate::value::{Binary, Property, Value};
use serde_json::{json, Map, Value as Json};
use std::io::{self, Write};

/// Resolves a binary value to its size and SHA-256 (reading it if it must).
pub trait BinaryDigest {
    /// The size and lower-case hex SHA-256 of `b`.
    fn digest(&mut self, b: &Binary) -> io::Result<(u64, String)>;
}

/// Digests in-memory and blob binaries; fails for bytes it cannot reach.
pub struct KnownDigests;

impl BinaryDigest for KnownDigests {
    fn digest(&mut self, b: &Binary) -> io::Result<(u64, String)> {
        match b {
            Binary::Inline(bytes) => Ok((bytes.len() as u64, sha256_hex(bytes))),
            Binary::Blob { sha256, size } => Ok((*size, sha256.clone())),
            other => Err(io::Error::other(format!("cannot read binary {other:?}"))),
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// `json` (serialized JSON text) with DEL, the C1 controls (U+0080 to U+009F) and
/// the line and paragraph separators (U+2028, U+2029) written as `\uXXXX`:
/// serde_json escapes only the C0 controls, so these would reach a terminal raw
/// (U+009B is a CSI, the start of an escape sequence) or end a line in a JavaScript
/// reader. Outside strings JSON text is ASCII, so every such character is inside a
/// string, where the escape is the same string.
pub fn escape_json_text(json: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}');
    if !json.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A writer that escapes JSON text as [`escape_json_text`] does on the way to
/// `inner`, so that a large document is streamed instead of built as one string. A
/// character split across two writes is held until the next; [`Self::into_inner`]
/// or `flush` write out what is held.
pub struct EscapeJsonWriter<W: Write> {
    inner: W,
    /// The start of a multi-byte character the last write ended in.
    carry: Vec<u8>,
}

impl<W: Write> EscapeJsonWriter<W> {
    /// A writer to `inner`.
    pub fn new(inner: W) -> Self {
        EscapeJsonWriter {
            inner,
            carry: Vec::new(),
        }
    }

    /// Writes out what is held and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        let carry = std::mem::take(&mut self.carry);
        self.inner.write_all(&carry)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for EscapeJsonWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let joined;
        let data: &[u8] = if self.carry.is_empty() {
            buf
        } else {
            let mut v = std::mem::take(&mut self.carry);
            v.extend_from_slice(buf);
            joined = v;
            &joined
        };
        let mut start = 0;
        let mut i = 0;
        while i < data.len() {
            // The code point to escape and its length in UTF-8: DEL (7F), the C1
            // controls (C2 80 to C2 9F) and U+2028/U+2029 (E2 80 A8/A9).
            let (next, second, third) = (data[i], data.get(i + 1), data.get(i + 2));
            let found = match (next, second, third) {
                (0x7f, _, _) => Some((0x7f, 1)),
                (0xc2, Some(&c), _) if (0x80..=0x9f).contains(&c) => Some((u32::from(c), 2)),
                (0xe2, Some(0x80), Some(&c)) if c == 0xa8 || c == 0xa9 => {
                    Some((0x2000 | u32::from(c & 0x3f), 3))
                }
                (0xc2, None, _) | (0xe2, None, _) | (0xe2, Some(0x80), None) => {
                    // Cut in the middle: decide with the next write.
                    self.inner.write_all(&data[start..i])?;
                    self.carry = data[i..].to_vec();
                    return Ok(buf.len());
                }
                _ => None,
            };
            match found {
                Some((code, len)) => {
                    self.inner.write_all(&data[start..i])?;
                    write!(self.inner, "\\u{code:04x}")?;
                    i += len;
                    start = i;
                }
                None => i += 1,
            }
        }
        self.inner.write_all(&data[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let carry = std::mem::take(&mut self.carry);
        self.inner.write_all(&carry)?;
        self.inner.flush()
    }
}

/// Compact JSON text of `v`, escaped as [`escape_json_text`] does.
fn json_text(v: &Json) -> String {
    escape_json_text(&v.to_string()).into_owned()
}

/// Lower-case hex of `bytes` (the blob store's, so that digests are spelled one way).
pub use crate::repository::blob::hex;

/// The canonical JSON of one value.
pub fn value_json(v: &Value, digests: &mut dyn BinaryDigest) -> io::Result<Json> {
    Ok(match v {
        Value::Long(l) => json!(l),
        Value::Double(d) if d.is_finite() => json!(d),
        Value::Double(d) => json!(crate::value::format_double(*d)),
        Value::Boolean(b) => json!(b),
        Value::Binary(b) => {
            let (size, sha256) = digests.digest(b)?;
            json!({"size": size, "sha256": sha256})
        }
        other => json!(other.to_string()),
    })
}

/// The canonical JSON of a property: `{"type": T, "value": V}` or `{"type": T, "values": [...]}`.
pub fn property_json(p: &Property, digests: &mut dyn BinaryDigest) -> io::Result<Json> {
    let mut m = Map::new();
    m.insert("type".into(), json!(p.ptype.jcr_name()));
    if p.multiple {
        let vals = p
            .values
            .iter()
            .map(|v| value_json(v, digests))
            .collect::<io::Result<Vec<_>>>()?;
        m.insert("values".into(), Json::Array(vals));
    } else {
        let v = match p.values.first() {
            Some(v) => value_json(v, digests)?,
            None => Json::Null,
        };
        m.insert("value".into(), v);
    }
    Ok(Json::Object(m))
}

/// Writes canonical JSON of a tree from start/end events, pretty-printed with two
/// spaces, streaming.
pub struct JsonTreeWriter<W: Write> {
    out: W,
    /// For each open node: whether a child has been written yet.
    stack: Vec<bool>,
    done: bool,
}

impl<W: Write> JsonTreeWriter<W> {
    /// A writer to `out`.
    pub fn new(out: W) -> Self {
        JsonTreeWriter {
            out,
            stack: Vec::new(),
            done: false,
        }
    }

    /// Opens a node (its children follow until the matching [`Self::end_node`]).
    /// `properties` need not be sorted and may include jcr:primaryType/mixinTypes,
    /// which are left out.
    pub fn start_node(
        &mut self,
        name: &str,
        primary_type: &str,
        mixins: &[String],
        properties: &[Property],
        digests: &mut dyn BinaryDigest,
    ) -> io::Result<()> {
        let depth = self.stack.len();
        if let Some(has_child) = self.stack.last_mut() {
            if *has_child {
                self.out.write_all(b",")?;
            }
            *has_child = true;
            self.out.write_all(b"\n")?;
        } else if self.done {
            return Err(io::Error::other("a JSON dump has exactly one root node"));
        }
        let ind = "  ".repeat(depth * 2);
        let mut props: Vec<&Property> = properties
            .iter()
            .filter(|p| p.name != "jcr:primaryType" && p.name != "jcr:mixinTypes")
            .collect();
        props.sort_by(|a, b| a.name.cmp(&b.name));
        let mut pm = Map::new();
        for p in props {
            pm.insert(p.name.clone(), property_json(p, digests)?);
        }
        write!(
            self.out,
            "{ind}{{\n{ind}  \"name\": {},\n",
            json_text(&json!(name))
        )?;
        writeln!(
            self.out,
            "{ind}  \"primaryType\": {},",
            json_text(&json!(primary_type))
        )?;
        writeln!(
            self.out,
            "{ind}  \"mixinTypes\": {},",
            json_text(&json!(mixins))
        )?;
        write!(self.out, "{ind}  \"properties\": ")?;
        if pm.is_empty() {
            self.out.write_all(b"{}")?;
        } else {
            self.out.write_all(b"{")?;
            let n = pm.len();
            for (i, (k, v)) in pm.into_iter().enumerate() {
                write!(
                    self.out,
                    "\n{ind}    {}: {}",
                    json_text(&json!(k)),
                    json_text(&v)
                )?;
                if i + 1 < n {
                    self.out.write_all(b",")?;
                }
            }
            write!(self.out, "\n{ind}  }}")?;
        }
        write!(self.out, ",\n{ind}  \"children\": [")?;
        self.stack.push(false);
        Ok(())
    }

    /// Closes the most recently opened node.
    pub fn end_node(&mut self) -> io::Result<()> {
        let had_children = self
            .stack
            .pop()
            .ok_or_else(|| io::Error::other("end_node without start_node"))?;
        let ind = "  ".repeat(self.stack.len() * 2);
        if had_children {
            write!(self.out, "\n{ind}  ]\n{ind}}}")?;
        } else {
            write!(self.out, "]\n{ind}}}")?;
        }
        if self.stack.is_empty() {
            self.out.write_all(b"\n")?;
            self.done = true;
        }
        Ok(())
    }

    /// Finishes the document and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.stack.is_empty() {
            return Err(io::Error::other("unclosed nodes at the end of a JSON dump"));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a whole in-memory [`crate::node::Node`] tree.
pub fn write_node<W: Write>(
    w: &mut JsonTreeWriter<W>,
    node: &crate::node::Node,
    digests: &mut dyn BinaryDigest,
) -> io::Result<()> {
    let props: Vec<Property> = node.properties.values().cloned().collect();
    w.start_node(
        &node.segment(),
        &node.primary_type,
        &node.mixins,
        &props,
        digests,
    )?;
    for c in &node.children {
        write_node(w, c, digests)?;
    }
    w.end_node()
}

/// The forms a dumped subtree can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// The canonical JSON of the conformance suite (see the module documentation).
    Json,
    /// Enhanced DocView: one document, binaries as empty `{Binary}` placeholders.
    DocView,
    /// JCR system view, streamed, binaries base64-encoded from the blob store.
    SysView,
}

/// Why a subtree could not be dumped.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// There is no node at the path.
    #[error("{path}: no such node")]
    NoSuchNode {
        /// The path.
        path: String,
    },
    /// Reading the repository failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
    /// Writing the output failed (a closed pipe among others).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The system view could not be written (a name it cannot hold, a binary that
    /// cannot be read, the output).
    #[error("{0}")]
    SystemView(#[from] crate::sysview::WriteError),
}

/// Writes the subtree at `path` of `workspace` to `out` in `format`, streaming (one
/// node at a time for JSON and system view; DocView builds its one document first).
pub fn write_subtree(
    store: &dyn StoreRead,
    workspace: &str,
    path: &str,
    format: DumpFormat,
    out: &mut dyn Write,
) -> Result<(), DumpError> {
    if store.node(workspace, path)?.is_none() {
        return Err(DumpError::NoSuchNode {
            path: path.to_string(),
        });
    }
    match format {
        DumpFormat::Json => write_json(store, workspace, path, out),
        DumpFormat::SysView => write_sysview(store, workspace, path, out),
        DumpFormat::DocView => write_docview(store, workspace, path, out),
    }
}

/// Walks the subtree at `p` in document order, calling `start` for each node and
/// `end` when its subtree is done: the nesting a streaming tree writer needs.
fn walk_nested<W>(
    store: &dyn StoreRead,
    workspace: &str,
    p: &str,
    w: &mut W,
    mut start: impl FnMut(&mut W, &crate::node::Node) -> Result<(), DumpError>,
    mut end: impl FnMut(&mut W) -> Result<(), DumpError>,
) -> Result<(), DumpError> {
    let mut depths: Vec<usize> = Vec::new();
    for e in store.walk(workspace, p)? {
        let e = e?;
        while depths.last().is_some_and(|d| *d >= e.depth) {
            depths.pop();
            end(w)?;
        }
        start(w, &e.node)?;
        depths.push(e.depth);
    }
    while depths.pop().is_some() {
        end(w)?;
    }
    Ok(())
}

fn write_json(
    store: &dyn StoreRead,
    workspace: &str,
    p: &str,
    out: &mut dyn Write,
) -> Result<(), DumpError> {
    let mut w = JsonTreeWriter::new(out);
    let mut digests = KnownDigests;
    walk_nested(
        store,
        workspace,
        p,
        &mut w,
        |w, node| {
            let props: Vec<_> = node.properties.values().cloned().collect();
            let d: &mut dyn BinaryDigest = &mut digests;
            w.start_node(&node.segment(), &node.primary_type, &node.mixins, &props, d)?;
            Ok(())
        },
        |w| Ok(w.end_node()?),
    )?;
    let out = w.finish()?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads blob binaries back from the repository for the system view writer.
struct StoreBinaries<'a>(&'a dyn StoreRead);

impl crate::sysview::BinarySource for StoreBinaries<'_> {
    fn open(&mut self, binary: &Binary) -> io::Result<Box<dyn io::Read + '_>> {
        match binary {
            Binary::Blob { sha256, .. } => self
                .0
                .open_blob(sha256)
                .map(|r| r as Box<dyn io::Read>)
                .map_err(io::Error::other),
            Binary::Inline(b) => Ok(Box::new(io::Cursor::new(b.to_vec()))),
            other => Err(io::Error::other(format!("cannot read binary {other:?}"))),
        }
    }
}

fn write_sysview(
    store: &dyn StoreRead,
    workspace: &str,
    p: &str,
    out: &mut dyn Write,
) -> Result<(), DumpError> {
    let ns = store.namespaces()?;
    let mut w = crate::sysview::SysViewWriter::new(out, &ns)?;
    let mut bins = StoreBinaries(store);
    walk_nested(
        store,
        workspace,
        p,
        &mut w,
        |w, node| {
            w.start_node(&node.segment(), &node.primary_type, &node.mixins)?;
            for prop in node.properties.values() {
                w.property(prop, &mut bins)?;
            }
            Ok(())
        },
        |w| Ok(w.end_node()?),
    )?;
    w.finish()?;
    Ok(())
}

fn write_docview(
    store: &dyn StoreRead,
    workspace: &str,
    p: &str,
    out: &mut dyn Write,
) -> Result<(), DumpError> {
    use crate::docview::{DocViewDocument, DocViewElement, DocViewProperty};
    use crate::value::PropertyType;
    let ns = store.namespaces()?;
    let mut used: indexmap::IndexSet<String> = indexmap::IndexSet::new();
    let note = |name: &str, used: &mut indexmap::IndexSet<String>| {
        if let Some((pre, _)) = name.split_once(':') {
            used.insert(pre.to_string());
        }
    };
    let mut stack: Vec<(usize, DocViewElement)> = Vec::new();
    let finish_to = |stack: &mut Vec<(usize, DocViewElement)>, depth: usize| {
        while stack.len() > 1 && stack.last().is_some_and(|(d, _)| *d >= depth) {
            if let Some((_, el)) = stack.pop() {
                if let Some((_, parent)) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
        }
    };
    for e in store.walk(workspace, p)? {
        let e = e?;
        finish_to(&mut stack, e.depth);
        let mut props = vec![DocViewProperty {
            name: "jcr:primaryType".into(),
            ptype: PropertyType::Name,
            binary_ref: false,
            multiple: false,
            values: vec![e.node.primary_type.clone()],
        }];
        note(&e.node.primary_type, &mut used);
        note(&e.node.name, &mut used);
        if !e.node.mixins.is_empty() {
            for m in &e.node.mixins {
                note(m, &mut used);
            }
            props.push(DocViewProperty {
                name: "jcr:mixinTypes".into(),
                ptype: PropertyType::Name,
                binary_ref: false,
                multiple: true,
                values: e.node.mixins.clone(),
            });
        }
        for q in e.node.properties.values() {
            note(&q.name, &mut used);
            let values = if q.ptype == PropertyType::Binary {
                q.values.iter().map(|_| String::new()).collect()
            } else {
                q.values.iter().map(|v| v.to_string()).collect()
            };
            props.push(DocViewProperty {
                name: q.name.clone(),
                ptype: q.ptype,
                binary_ref: false,
                multiple: q.multiple,
                values,
            });
        }
        let el = DocViewElement {
            name: if stack.is_empty() {
                String::new()
            } else {
                e.node.name.clone()
            },
            index: e.node.index,
            properties: props,
            children: Vec::new(),
            location: Default::default(),
        };
        stack.push((e.depth, el));
    }
    finish_to(&mut stack, 0);
    let Some((_, root)) = stack.pop() else {
        return Err(DumpError::NoSuchNode {
            path: p.to_string(),
        });
    };
    let mut namespaces = vec![("jcr".to_string(), crate::docview::JCR_URI.to_string())];
    for pre in used {
        if pre != "jcr" {
            if let Some(u) = ns.uri(&pre) {
                namespaces.push((pre.clone(), u.to_string()));
            }
        }
    }
    let doc = DocViewDocument {
        namespaces,
        root,
        root_is_jcr_root: true,
        warnings: Vec::new(),
    };
    crate::docview::writer::write(&doc, out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Node;
    use crate::value::{Date, PropertyType};

    #[test]
    fn json_text_escapes_del_c1_and_separators_as_the_same_string() {
        let v = json!({"n\u{9b}": "a\u{7f}b\u{80}\u{9b}[31m\u{2028}\u{2029}\u{1b}é"});
        let text = escape_json_text(&v.to_string()).into_owned();
        assert_eq!(
            text,
            r#"{"n\u009b":"a\u007fb\u0080\u009b[31m\u2028\u2029\u001bé"}"#
        );
        assert_eq!(serde_json::from_str::<Json>(&text).unwrap(), v);
        assert!(matches!(
            escape_json_text("{\"a\":\"é\"}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn the_escaping_writer_writes_what_escape_json_text_does_in_any_pieces() {
        let v = json!({"n\u{9b}": "a\u{7f}b\u{80}\u{9b}[31m\u{2028}\u{2029}\u{1b}é\u{20ac}\u{a0}\u{2027}"});
        let text = serde_json::to_string_pretty(&v).unwrap();
        let want = escape_json_text(&text).into_owned();
        for piece in 1..8 {
            let mut w = EscapeJsonWriter::new(Vec::new());
            for chunk in text.as_bytes().chunks(piece) {
                w.write_all(chunk).unwrap();
            }
            let got = String::from_utf8(w.into_inner().unwrap()).unwrap();
            assert_eq!(got, want, "pieces of {piece} bytes");
        }
        let mut w = EscapeJsonWriter::new(Vec::new());
        serde_json::to_writer_pretty(&mut w, &v).unwrap();
        assert_eq!(String::from_utf8(w.into_inner().unwrap()).unwrap(), want);
    }

    #[test]
    fn writes_canonical_json() {
        let mut root = Node::new("", "rep:root").with_child(
            Node::new("page", "cq:Page")
                .with(Property::string("jcr:title", "Hello"))
                .with(Property::single("count", Value::Long(42)))
                .with(Property::single("ratio", Value::Double(0.5)))
                .with(Property::single("nan", Value::Double(f64::NAN)))
                .with(Property::single("flag", Value::Boolean(true)))
                .with(Property::single(
                    "when",
                    Value::Date(Date::parse("2024-01-31T12:00:00.000+01:00").unwrap()),
                ))
                .with(Property::multi("tags", PropertyType::String, vec![]))
                .with(Property::single(
                    "data",
                    Value::Binary(Binary::inline(b"hello, world\n".to_vec())),
                )),
        );
        root.children.push(Node::new("item", "nt:unstructured"));
        root.children.push(Node::new("item", "nt:unstructured"));
        root.children[0].mixins.push("mix:referenceable".into());
        root.renumber_children();
        let mut w = JsonTreeWriter::new(Vec::new());
        write_node(&mut w, &root, &mut KnownDigests).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        let parsed: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["children"][2]["name"], "item[2]");
        insta::assert_snapshot!(out);
    }
}
