//! The DocView reader: a `.content.xml` (or full-coverage `name.xml`) to a
//! [`DocViewDocument`], with FileVault's rules and XML's well-formedness checks.
//!
//! The reader walks quick-xml events over the file's bytes, so that every error can
//! name the line and column it was found at. It refuses `<!DOCTYPE` (and so every
//! entity declaration: no file or network is ever read), checks that the input is
//! UTF-8 made of XML characters, and enforces [`Limits`] on nesting depth, attributes
//! per element and value size.

use super::iso9075;
use super::value::{check_value, is_xml_char, may_not_be_xml, parse_value};
use super::{DocViewDocument, DocViewElement, DocViewError, DocViewProperty, DocViewWarning};
use crate::location::{Location, Locator};
use crate::name::is_ncname;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::io::BufRead;

/// The JCR namespace: `jcr:root` is recognised by it, whatever the prefix.
pub const JCR_URI: &str = "http://www.jcp.org/jcr/1.0";
const XML_URI: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_URI: &str = "http://www.w3.org/2000/xmlns/";

/// Bounds on what one DocView file may hold. A real package stays far below every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most attributes on one element.
    pub max_attributes: usize,
    /// Longest attribute value, in bytes.
    pub max_value_bytes: usize,
    /// Largest file, in bytes.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 1024,
            max_attributes: 100_000,
            max_value_bytes: 64 << 20,
            max_file_bytes: 1 << 30,
        }
    }
}

/// Reads a DocView document with the default limits. `file` names the input in errors.
pub fn parse(input: impl BufRead, file: &str) -> Result<DocViewDocument, DocViewError> {
    parse_with(input, file, &Limits::default())
}

/// Reads a DocView document with explicit limits.
pub fn parse_with(
    mut input: impl BufRead,
    file: &str,
    limits: &Limits,
) -> Result<DocViewDocument, DocViewError> {
    let mut bytes = Vec::new();
    let mut limited = std::io::Read::take(&mut input, limits.max_file_bytes + 1);
    std::io::Read::read_to_end(&mut limited, &mut bytes).map_err(|e| DocViewError {
        location: Location::file(file),
        message: format!("cannot read: {e}"),
    })?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(DocViewError {
            location: Location::file(file),
            message: format!(
                "file larger than the limit of {} bytes",
                limits.max_file_bytes
            ),
        });
    }
    parse_bytes(&bytes, file, limits)
}

/// Reads a DocView document held in memory.
pub fn parse_bytes(
    bytes: &[u8],
    file: &str,
    limits: &Limits,
) -> Result<DocViewDocument, DocViewError> {
    let mut p = Parser::<true>::new(bytes, file, *limits)?;
    p.run()?;
    let root = p
        .root
        .take()
        .ok_or_else(|| p.err_at(bytes.len(), "no root element"))?;
    Ok(DocViewDocument {
        namespaces: p.doc_ns,
        root_is_jcr_root: p.root_is_jcr_root,
        root,
        warnings: p.warnings,
    })
}

/// Checks a DocView document held in memory as [`parse_bytes`] reads it, with the
/// same error (message, line and column) for the same bytes, but builds nothing: no
/// elements, properties, values or locations are kept. `jcrpack build` validates
/// every DocView file it packs and drops the document; building and dropping the tree
/// was about a fifth of each deflate thread's instructions at 10k nodes.
pub fn check_bytes(bytes: &[u8], file: &str, limits: &Limits) -> Result<(), DocViewError> {
    let mut p = Parser::<false>::new(bytes, file, *limits)?;
    p.run()?;
    if !p.root_done() {
        return Err(p.err_at(bytes.len(), "no root element"));
    }
    Ok(())
}

/// `TREE`: whether the document is built ([`parse_bytes`]) or only checked
/// ([`check_bytes`]); a constant, so that the reader's code has no test of it.
struct Parser<'a, const TREE: bool> {
    text: &'a str,
    file: &'a str,
    limits: Limits,
    /// In-scope declarations, innermost last: (prefix, uri), "" = default namespace.
    scopes: Vec<Vec<(String, String)>>,
    /// Document prefix per URI, in first-declaration order.
    doc_ns: Vec<(String, String)>,
    /// `doc_ns` by URI and the prefixes it uses: looked up in constant time, since
    /// an element may declare many namespaces (a scan per declaration was quadratic:
    /// 30,000 declarations took 30 s to validate and minutes to import).
    /// Hashed with foldhash (randomly seeded): a URI is looked up once a name.
    doc_prefix_of: std::collections::HashMap<String, String, foldhash::fast::RandomState>,
    doc_prefixes: std::collections::HashSet<String, foldhash::fast::RandomState>,
    /// Per wanted prefix, the next number to try for a free variant (`ns0`, `ns1`).
    next_variant: std::collections::HashMap<String, usize, foldhash::fast::RandomState>,
    /// Built elements, innermost last; only when checking (`TREE` false) `stack` and
    /// `root` stay empty, and `open` holds where each open element starts,
    /// `checked_root` whether the root element has ended.
    stack: Vec<DocViewElement>,
    root: Option<DocViewElement>,
    open: Vec<usize>,
    checked_root: bool,
    /// The current element's property names when only checking (for repeats).
    names: Vec<String>,
    root_is_jcr_root: bool,
    warnings: Vec<DocViewWarning>,
    /// Locates elements and warnings in time linear in the file.
    locator: Locator,
}

impl<'a, const TREE: bool> Parser<'a, TREE> {
    fn new(
        bytes: &'a [u8],
        file: &'a str,
        limits: Limits,
    ) -> Result<Parser<'a, TREE>, DocViewError> {
        let bytes = bytes
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return Err(DocViewError {
                    location: Location::from_offset(file, bytes, e.valid_up_to()),
                    message: "invalid UTF-8".into(),
                })
            }
        };
        // By byte first (vectorized): only an ASCII control or a character led by
        // 0xEF may be one XML does not allow; the characters are looked at only then.
        let suspect = text.bytes().any(may_not_be_xml);
        if let Some((pos, c)) = suspect
            .then(|| text.char_indices().find(|&(_, c)| !is_xml_char(c)))
            .flatten()
        {
            return Err(DocViewError {
                location: Location::from_offset(file, bytes, pos),
                message: format!("character U+{:04X} is not allowed in XML", c as u32),
            });
        }
        Ok(Parser {
            text,
            file,
            limits,
            scopes: Vec::new(),
            doc_ns: Vec::new(),
            doc_prefix_of: Default::default(),
            doc_prefixes: Default::default(),
            next_variant: Default::default(),
            stack: Vec::new(),
            root: None,
            open: Vec::new(),
            checked_root: false,
            names: Vec::new(),
            root_is_jcr_root: false,
            warnings: Vec::new(),
            locator: Locator::new(),
        })
    }

    /// How many elements are open (in either mode one of `stack` and `open` is empty).
    fn depth(&self) -> usize {
        self.stack.len() + self.open.len()
    }

    /// Whether the root element has ended.
    fn root_done(&self) -> bool {
        self.root.is_some() || self.checked_root
    }

    fn err_at(&self, pos: usize, msg: impl Into<String>) -> DocViewError {
        DocViewError {
            location: Location::from_offset(self.file, self.text.as_bytes(), pos),
            message: msg.into(),
        }
    }

    fn run(&mut self) -> Result<(), DocViewError> {
        let mut reader = Reader::from_str(self.text);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        loop {
            let start = reader.buffer_position() as usize;
            let ev = match reader.read_event() {
                Ok(ev) => ev,
                Err(e) => {
                    let pos = reader.error_position() as usize;
                    return Err(self.err_at(pos, format!("not well-formed XML: {e}")));
                }
            };
            match ev {
                Event::Start(e) => self.start(&e, start, false)?,
                Event::Empty(e) => self.start(&e, start, true)?,
                Event::End(_) => self.end(),
                Event::Text(t) => {
                    let raw = t.as_ref();
                    if !raw.bytes().all(|b| b.is_ascii_whitespace()) {
                        self.text_outside_or_ignored(start)?;
                    }
                }
                Event::CData(_) => self.text_outside_or_ignored(start)?,
                Event::GeneralRef(r) => {
                    let name = r.as_ref().to_string();
                    if !is_known_reference(&name) {
                        return Err(self.err_at(start, format!("undefined entity '&{name};'")));
                    }
                    self.text_outside_or_ignored(start)?;
                }
                Event::DocType(_) => {
                    return Err(self.err_at(
                        start,
                        "DOCTYPE is not allowed in DocView (entity declarations are refused)",
                    ))
                }
                Event::Decl(d) => {
                    if let Some(Ok(enc)) = d.encoding() {
                        let enc = enc.to_ascii_lowercase();
                        if enc != "utf-8" && enc != "utf8" && enc != "us-ascii" && enc != "ascii" {
                            return Err(self.err_at(
                                start,
                                format!("unsupported encoding '{enc}': DocView files are UTF-8"),
                            ));
                        }
                    }
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        let open = match (self.stack.last(), self.open.last()) {
            (Some(open), _) => Some(open.location.clone()),
            // The same line and column the locator gives (it only computes them faster).
            (None, Some(&pos)) => Some(Location::from_offset(self.file, self.text.as_bytes(), pos)),
            (None, None) => None,
        };
        if let Some(open) = open {
            return Err(DocViewError {
                location: Location::from_offset(self.file, self.text.as_bytes(), self.text.len()),
                message: format!(
                    "unexpected end of document: element opened at {open} is not closed"
                ),
            });
        }
        Ok(())
    }

    /// Where attribute name `key` (of the tag at `tag`) starts in the text: the
    /// reader borrows it from the text, so its address says so at once. A name
    /// that is not borrowed is looked for in the tag's text.
    fn offset_of(&self, key: &str, tag: usize) -> usize {
        let start = self.text.as_ptr() as usize;
        let at = key.as_ptr() as usize;
        if at >= start && at + key.len() <= start + self.text.len() {
            return at - start;
        }
        attribute_offset(&self.text[tag..], key).map_or(tag, |o| tag + o)
    }

    fn text_outside_or_ignored(&mut self, pos: usize) -> Result<(), DocViewError> {
        if self.depth() == 0 {
            return Err(self.err_at(pos, "text outside the root element"));
        }
        if !TREE {
            return Ok(());
        }
        let loc = self.locator.locate(self.file, self.text.as_bytes(), pos);
        if !self
            .warnings
            .iter()
            .any(|w| w.message.starts_with("text content"))
        {
            self.warnings.push(DocViewWarning {
                location: loc,
                message: "text content is ignored in DocView".into(),
            });
        }
        Ok(())
    }

    fn start(&mut self, e: &BytesStart<'_>, pos: usize, empty: bool) -> Result<(), DocViewError> {
        if self.root_done() && self.depth() == 0 {
            return Err(self.err_at(pos, "a second root element"));
        }
        if self.depth() >= self.limits.max_depth {
            return Err(self.err_at(
                pos,
                format!(
                    "elements nested deeper than the limit of {}",
                    self.limits.max_depth
                ),
            ));
        }
        // Namespace declarations first: they apply to the element's own names.
        // Names and values are borrowed from the text where they need no change.
        let mut attrs: Vec<(&str, Cow<'_, str>, usize)> = Vec::new();
        let mut decls = Vec::new();
        for a in e.attributes().with_checks(true) {
            let a = a.map_err(|err| self.err_at(pos, format!("bad attribute: {err}")))?;
            let key = a.key.0;
            let apos = self.offset_of(key, pos);
            if a.value.len() > self.limits.max_value_bytes {
                return Err(self.err_at(
                    apos,
                    format!(
                        "value of '{key}' larger than the limit of {} bytes",
                        self.limits.max_value_bytes
                    ),
                ));
            }
            let value = match a.value {
                Cow::Borrowed(raw) => normalize_attribute(raw),
                Cow::Owned(raw) => normalize_attribute(&raw).map(|v| Cow::Owned(v.into_owned())),
            }
            .map_err(|m| self.err_at(apos, m))?;
            if key == "xmlns" {
                decls.push((String::new(), value.into_owned()));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if !is_ncname(p) {
                    return Err(self.err_at(
                        apos,
                        format!("'{key}' is not a valid namespace declaration"),
                    ));
                }
                if value.is_empty() {
                    return Err(
                        self.err_at(apos, format!("prefix '{p}' bound to an empty namespace"))
                    );
                }
                decls.push((p.to_string(), value.into_owned()));
                let limit = crate::limits::get().namespace_declarations;
                if decls.len() > limit {
                    return Err(self.err_at(
                        pos,
                        format!(
                            "more namespace declarations on one element than the limit of \
                             {limit}; set JCRPACK_MAX_NAMESPACES to raise it if the file is \
                             trusted"
                        ),
                    ));
                }
            } else {
                attrs.push((key, value, apos));
            }
            if attrs.len() > self.limits.max_attributes {
                return Err(self.err_at(
                    pos,
                    format!(
                        "more attributes than the limit of {}",
                        self.limits.max_attributes
                    ),
                ));
            }
        }
        for (p, u) in &decls {
            if !p.is_empty() {
                self.doc_prefix(p, u);
            }
        }
        self.scopes.push(decls);
        let qname = e.name().0;
        let (uri, local) = self.resolve(qname, true).map_err(|m| self.err_at(pos, m))?;
        // Only a built element keeps where it starts and its properties.
        let location = if TREE {
            self.locator.locate(self.file, self.text.as_bytes(), pos)
        } else {
            Location::file(String::new())
        };
        let is_root = !self.root_done() && self.depth() == 0;
        let mut el = DocViewElement {
            name: String::new(),
            index: 1,
            properties: Vec::with_capacity(if TREE { attrs.len() } else { 0 }),
            children: Vec::new(),
            location,
        };
        let mut names = std::mem::take(&mut self.names);
        names.clear();
        if is_root && self.uri(uri) == JCR_URI && local == "root" {
            self.root_is_jcr_root = true;
        } else {
            let decoded = iso9075::decode(local);
            let (name, index) = split_index(&decoded);
            // `_x005b_1_x005d_` decodes to `[1]`: an index without a name, which would
            // be written back as a tag without a name.
            if name.is_empty() {
                return Err(self.err_at(
                    pos,
                    format!("element <{qname}> names no node: it decodes to '{decoded}'"),
                ));
            }
            // `teaser_x003a_` decodes to `teaser:`, and `a_x002f_b` to `a/b`: not JCR
            // names (FileVault's name parser refuses them too).
            let invalid = match crate::name::validate(name) {
                Err(e) => Some(e.to_string()),
                Ok(()) if name.contains(':') => Some(format!("'{name}' contains ':'")),
                Ok(()) => None,
            };
            if let Some(why) = invalid {
                return Err(self.err_at(
                    pos,
                    format!(
                        "element <{qname}> decodes to '{}', which is not a valid JCR node name: {why}",
                        decoded.escape_debug()
                    ),
                ));
            }
            el.name = self.qualify(uri, name);
            el.index = index;
        }
        // A set, not a scan of the properties so far: an element may have up to
        // `max_attributes` of them, and a scan made that quadratic. It holds the
        // names' hashes (randomly seeded), not copies of them: only a name whose hash
        // is there already is compared with the properties so far. A few properties
        // (the usual element) are scanned: no set is allocated for them.
        let hasher = foldhash::fast::RandomState::default();
        let mut seen: std::collections::HashSet<u64, foldhash::fast::RandomState> =
            std::collections::HashSet::with_hasher(hasher.clone());
        let scan = attrs.len() <= FEW_PROPERTIES;
        if !scan {
            seen.reserve(attrs.len());
        }
        for (key, value, apos) in attrs {
            let (auri, alocal) = self.resolve(key, false).map_err(|m| self.err_at(apos, m))?;
            let decoded = iso9075::decode(alocal);
            // `a_x0000_b` decodes to a name holding a NUL: never a property name.
            if let Some(c) = decoded
                .chars()
                .find(|&c| crate::name::is_control_name_char(c))
            {
                return Err(self.err_at(
                    apos,
                    format!(
                        "attribute {key} decodes to '{}', which is not a valid JCR property \
                         name: it contains the control character U+{:04X}",
                        decoded.escape_debug(),
                        u32::from(c)
                    ),
                ));
            }
            let name = self.qualify(auri, &decoded);
            let maybe_seen = scan || !seen.insert(hasher.hash_one(&name));
            let repeated = maybe_seen
                && if TREE {
                    el.properties.iter().any(|p| p.name == name)
                } else {
                    names.contains(&name)
                };
            if repeated {
                return Err(self.err_at(apos, format!("property '{name}' given twice")));
            }
            let bad_value = |m| self.err_at(apos, format!("bad value of property '{name}': {m}"));
            if !TREE {
                check_value(&value).map_err(bad_value)?;
                names.push(name);
                continue;
            }
            let v = parse_value(&value).map_err(bad_value)?;
            el.properties.push(DocViewProperty {
                name,
                ptype: v.ptype,
                binary_ref: v.binary_ref,
                multiple: v.multiple,
                values: v.values,
            });
        }
        self.names = names;
        if TREE {
            self.stack.push(el);
        } else {
            self.open.push(pos);
        }
        if empty {
            self.end();
        }
        Ok(())
    }

    fn end(&mut self) {
        self.scopes.pop();
        if !TREE {
            if self.open.pop().is_some() && self.open.is_empty() {
                self.checked_root = true;
            }
            return;
        }
        if let Some(el) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => parent.children.push(el),
                None => self.root = Some(el),
            }
        }
    }

    /// Splits a qualified XML name and resolves its prefix in scope: the namespace
    /// ([`Parser::uri`]) and the local name.
    fn resolve<'q>(&self, qname: &'q str, element: bool) -> Result<(Uri, &'q str), String> {
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", qname),
        };
        // quick-xml reads `< />` as an element without a name (written back as `</>`).
        if qname.is_empty() {
            return Err("a tag without a name".to_string());
        }
        // Namespaces in XML: a name is `local` or `prefix:local`, both NCNames (Xerces
        // refuses others too; quick-xml does not check). `:a:b` used to become the
        // unprefixed name `a:b`, and `p"q:a` a prefix with a quote in it, which the
        // writer wrote back as an undeclared prefix or broken markup.
        if (qname.contains(':') && !is_ncname(prefix)) || !is_ncname(local) {
            return Err(format!(
                "'{qname}' is not a valid qualified name (expected 'name' or 'prefix:name', \
                 each an XML NCName)"
            ));
        }
        if prefix.is_empty() && !element {
            return Ok((Uri::None, local));
        }
        if prefix == "xml" {
            return Ok((Uri::Xml, local));
        }
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            if let Some(j) = scope.iter().rposition(|(p, _)| p == prefix) {
                return Ok((Uri::Declared(i, j), local));
            }
        }
        if prefix.is_empty() {
            return Ok((Uri::None, local));
        }
        Err(format!(
            "the prefix '{prefix}' of '{qname}' is not declared"
        ))
    }

    /// The namespace URI `u` stands for (`""`: none).
    fn uri(&self, u: Uri) -> &str {
        match u {
            Uri::None => "",
            Uri::Xml => XML_URI,
            Uri::Declared(i, j) => &self.scopes[i][j].1,
        }
    }

    /// The document's prefix for `uri`, registering `wanted` (or a free variant).
    fn doc_prefix(&mut self, wanted: &str, uri: &str) -> String {
        if uri == XML_URI {
            return "xml".into();
        }
        if let Some(p) = self.doc_prefix_of.get(uri) {
            return p.clone();
        }
        let base = if wanted.is_empty() { "ns" } else { wanted };
        let mut p = base.to_string();
        let mut n = self.next_variant.get(base).copied().unwrap_or(0);
        while p == "xml" || p == "xmlns" || self.doc_prefixes.contains(&p) {
            p = format!("{base}{n}");
            n += 1;
        }
        self.next_variant.insert(base.to_string(), n);
        self.doc_ns.push((p.clone(), uri.to_string()));
        self.doc_prefix_of.insert(uri.to_string(), p.clone());
        self.doc_prefixes.insert(p.clone());
        p
    }

    fn qualify(&mut self, u: Uri, local: &str) -> String {
        let uri = self.uri(u);
        if uri.is_empty() {
            return local.to_string();
        }
        if uri == XMLNS_URI {
            return format!("xmlns:{local}");
        }
        // The known prefix borrowed, not cloned and formatted (once an attribute).
        let known = if uri == XML_URI {
            Some("xml")
        } else {
            self.doc_prefix_of.get(uri).map(String::as_str)
        };
        let prefix = match known {
            Some(p) => Cow::Borrowed(p),
            None => {
                let uri = uri.to_string();
                Cow::Owned(self.doc_prefix("", &uri))
            }
        };
        let mut name = String::with_capacity(prefix.len() + 1 + local.len());
        name.push_str(&prefix);
        name.push(':');
        name.push_str(local);
        name
    }
}

/// A resolved namespace: none, `xml`, or the `j`th declaration of scope `i`.
#[derive(Clone, Copy)]
enum Uri {
    None,
    Xml,
    Declared(usize, usize),
}

/// Up to this many properties an element's names are checked for repeats by a scan.
const FEW_PROPERTIES: usize = 16;

/// Where attribute `key` starts in `tag` (the start tag's text from after the
/// previous attribute): preceded by white space and followed by `=`.
fn attribute_offset(tag: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = tag[from..].find(key) {
        let at = from + i;
        let before_ok = tag[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_whitespace());
        let after_ok = tag[at + key.len()..].trim_start().starts_with('=');
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

fn is_known_reference(name: &str) -> bool {
    matches!(name, "lt" | "gt" | "amp" | "apos" | "quot") || char_reference(name).is_some()
}

fn char_reference(name: &str) -> Option<char> {
    let n = name.strip_prefix('#')?;
    let code = if let Some(h) = n.strip_prefix('x') {
        u32::from_str_radix(h, 16).ok()?
    } else {
        n.parse::<u32>().ok()?
    };
    char::from_u32(code).filter(|&c| is_xml_char(c))
}

/// XML attribute-value normalisation (XML 1.0 §3.3.3) for CDATA attributes: line ends
/// and literal TAB/LF/CR become spaces, references are replaced.
/// A value that needs none of that is returned as it is.
fn normalize_attribute(raw: &str) -> Result<Cow<'_, str>, String> {
    if !raw
        .bytes()
        .any(|b| matches!(b, b'\r' | b'\n' | b'\t' | b'<' | b'&'))
    {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\r' => {
                if matches!(chars.peek(), Some((_, '\n'))) {
                    chars.next();
                }
                out.push(' ');
            }
            '\n' | '\t' => out.push(' '),
            '<' => return Err("'<' is not allowed in an attribute value".into()),
            '&' => {
                let rest = &raw[i + 1..];
                let end = rest
                    .find(';')
                    .ok_or_else(|| "'&' without a closing ';' in an attribute value".to_string())?;
                let name = &rest[..end];
                let r = match name {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "apos" => '\'',
                    "quot" => '"',
                    _ => char_reference(name)
                        .ok_or_else(|| format!("undefined or invalid reference '&{name};'"))?,
                };
                out.push(r);
                for _ in 0..=end {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    Ok(Cow::Owned(out))
}

/// Splits a trailing `[n]` same-name-sibling index off a decoded name.
fn split_index(name: &str) -> (&str, u32) {
    if let Some(open) = name.rfind('[') {
        if let Some(num) = name[open + 1..].strip_suffix(']') {
            if let Ok(i) = num.parse::<u32>() {
                if i >= 1 && !num.starts_with('+') {
                    return (&name[..open], i);
                }
            }
        }
    }
    (name, 1)
}

#[cfg(test)]
mod tests;
