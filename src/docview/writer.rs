//! The DocView writer, formatted exactly as FileVault's `DocViewSAXFormatter` and
//! `FormattingXmlStreamWriter` write: 4-space indentation, one attribute per line when
//! an element has more than one attribute or declaration, `jcr` declared first,
//! properties ordered prefixed-first and case-insensitively.

use super::iso9075;
use super::runs::{escape_runs, Piece};
use super::value::format_value_into;
use super::{DocViewDocument, DocViewElement, DocViewProperty};
use std::cmp::Ordering;
use std::io::{self, Write};

/// Writes a document. Properties are written in FileVault's order whatever order the
/// elements hold them in.
pub fn write(doc: &DocViewDocument, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&to_vec(doc))
}

/// `base`, or `base1`, `base2`, ... : the first that the document does not bind to a
/// namespace. A document may use `jcr` for another URI (its names then mean that URI),
/// and the JCR declaration the writer always adds must not bind the prefix twice.
fn unused_prefix(doc: &DocViewDocument, base: &str) -> String {
    let taken = |p: &str| doc.namespaces.iter().any(|(q, _)| q == p);
    if !taken(base) {
        return base.to_string();
    }
    (1u32..)
        .map(|n| format!("{base}{n}"))
        .find(|p| !taken(p))
        .expect("a finite document leaves some prefix free")
}

/// Writes a document to a byte vector: serialised straight into the bytes, with one
/// scratch buffer for the values and one for the property order reused for every
/// element (no `String` per attribute, name or escape).
pub fn to_vec(doc: &DocViewDocument) -> Vec<u8> {
    let mut w = Serializer {
        out: Vec::with_capacity(4096),
        value: String::new(),
        order: Vec::new(),
    };
    w.document(doc);
    w.out
}

/// The state of one serialisation: the output and the reused scratch buffers.
struct Serializer<'d> {
    out: Vec<u8>,
    /// A property's value in DocView syntax, before XML escaping.
    value: String,
    /// The properties of the elements being written, in FileVault's order: a stack
    /// (an element's slice is popped once its attributes are written).
    order: Vec<(&'d DocViewProperty, NameClass)>,
}

impl<'d> Serializer<'d> {
    fn document(&mut self, doc: &'d DocViewDocument) {
        self.out
            .extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        // Declarations in the document's order (a document read from a file keeps its
        // own); the JCR namespace is always declared, first when the document lacks it.
        let mut decls: Vec<(&str, &str)> = Vec::with_capacity(doc.namespaces.len() + 1);
        let declared = doc
            .namespaces
            .iter()
            .find(|(_, u)| u == super::JCR_URI)
            .map(|(p, _)| p.clone());
        let jcr = match &declared {
            Some(p) => p.clone(),
            None => unused_prefix(doc, "jcr"),
        };
        if declared.is_none() {
            decls.push((jcr.as_str(), super::JCR_URI));
        }
        for (p, u) in &doc.namespaces {
            if p != "xml" {
                decls.push((p.as_str(), u.as_str()));
            }
        }
        let mut root_name = Vec::new();
        if doc.root_is_jcr_root {
            root_name.extend_from_slice(jcr.as_bytes());
            root_name.extend_from_slice(b":root");
        } else {
            push_element_name(&mut root_name, &doc.root);
        }
        self.element(&doc.root, Some(&root_name), &decls, 0);
    }

    /// Writes `el` at `depth`; `name`: its name when not the element's own (the root's).
    fn element(
        &mut self,
        el: &'d DocViewElement,
        name: Option<&[u8]>,
        decls: &[(&str, &str)],
        depth: usize,
    ) {
        push_indent(&mut self.out, depth);
        self.out.push(b'<');
        let name_start = self.out.len();
        match name {
            Some(n) => self.out.extend_from_slice(n),
            None => push_element_name(&mut self.out, el),
        }
        let name_end = self.out.len();
        for (p, u) in decls {
            self.out.extend_from_slice(b" xmlns:");
            self.out.extend_from_slice(p.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attr_into(&mut self.out, u);
            self.out.push(b'"');
        }
        let base = self.order.len();
        self.order
            .extend(el.properties.iter().map(|p| (p, NameClass::of(&p.name))));
        // The classes make each comparison one walk of the names (asking them again
        // at every comparison was a third of the comparisons' cost).
        self.order[base..]
            .sort_by(|(a, ca), (b, cb)| compare_classified(&a.name, *ca, &b.name, *cb));
        let many = decls.len() + (self.order.len() - base) > 1;
        for k in base..self.order.len() {
            let (p, _) = self.order[k];
            if many {
                self.out.push(b'\n');
                push_indent(&mut self.out, depth + 1);
            } else {
                self.out.push(b' ');
            }
            push_attribute_name(&mut self.out, &p.name);
            self.out.extend_from_slice(b"=\"");
            self.value.clear();
            format_value_into(
                &mut self.value,
                &p.name,
                p.ptype,
                p.binary_ref,
                p.multiple,
                &p.values,
            );
            escape_attr_into(&mut self.out, &self.value);
            self.out.push(b'"');
        }
        self.order.truncate(base);
        if el.children.is_empty() {
            self.out.extend_from_slice(b"/>\n");
            return;
        }
        self.out.extend_from_slice(b">\n");
        for c in &el.children {
            self.element(c, None, &[], depth + 1);
        }
        push_indent(&mut self.out, depth);
        self.out.extend_from_slice(b"</");
        self.out.extend_from_within(name_start..name_end);
        self.out.extend_from_slice(b">\n");
    }
}

fn push_indent(out: &mut Vec<u8>, depth: usize) {
    for _ in 0..depth {
        out.extend_from_slice(b"    ");
    }
}

/// The element's name: its prefix as it is, its local name (with `[index]` past 1)
/// ISO 9075-encoded.
fn push_element_name(out: &mut Vec<u8>, el: &DocViewElement) {
    let (prefix, local) = match el.name.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", el.name.as_str()),
    };
    if !prefix.is_empty() {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    if el.index > 1 {
        out.extend_from_slice(iso9075::encode(&format!("{local}[{}]", el.index)).as_bytes());
    } else {
        push_encoded(out, local);
    }
}

fn push_attribute_name(out: &mut Vec<u8>, name: &str) {
    match name.split_once(':') {
        Some((p, l)) => {
            out.extend_from_slice(p.as_bytes());
            out.push(b':');
            push_encoded(out, l);
        }
        None => push_encoded(out, name),
    }
}

/// [`iso9075::encode`] of `local` into `out`; an ASCII name that needs no escape (the
/// common case) is copied without allocating.
fn push_encoded(out: &mut Vec<u8>, local: &str) {
    let b = local.as_bytes();
    let classes = ascii_name_classes();
    // No `_x` either, looked for in the same walk (`str::contains` set up a substring
    // search for every name written).
    let mut previous = 0u8;
    let plain = !b.is_empty()
        && b.iter().enumerate().all(|(i, &c)| {
            let class = if i == 0 { NAME_START } else { NAME_CHAR };
            let escape_like = previous == b'_' && c == b'x';
            previous = c;
            c.is_ascii() && classes[usize::from(c)] & class != 0 && !escape_like
        });
    if plain {
        out.extend_from_slice(b);
    } else {
        out.extend_from_slice(iso9075::encode(local).as_bytes());
    }
}

/// An ASCII character may start a name ([`ascii_name_classes`]).
const NAME_START: u8 = 1;
/// An ASCII character may continue a name ([`ascii_name_classes`]).
const NAME_CHAR: u8 = 2;

/// For each ASCII character, [`NAME_START`] and [`NAME_CHAR`] as [`crate::name`]
/// says, asked once: asking per character of every name written was 2 % of the
/// export's writer thread.
fn ascii_name_classes() -> &'static [u8; 128] {
    static CLASSES: std::sync::OnceLock<[u8; 128]> = std::sync::OnceLock::new();
    CLASSES.get_or_init(|| {
        let mut classes = [0u8; 128];
        for (c, class) in (0u8..).zip(classes.iter_mut()) {
            let c = char::from(c);
            if crate::name::is_name_start_char(c) {
                *class |= NAME_START;
            }
            if crate::name::is_name_char(c) {
                *class |= NAME_CHAR;
            }
        }
        classes
    })
}

/// FileVault's property order: prefixed names first, then by `prefix+local`
/// case-insensitively, ties case-sensitively.
pub fn compare_property_names(a: &str, b: &str) -> Ordering {
    compare_classified(a, NameClass::of(a), b, NameClass::of(b))
}

/// What [`compare_property_names`] needs to know about a name before comparing it:
/// asked once per name when a list is sorted, not at every comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameClass {
    /// It holds a `:` (prefixed names come first).
    prefixed: bool,
    /// It is ASCII with at most one `:`: it compares byte by byte.
    simple: bool,
}

impl NameClass {
    fn of(name: &str) -> NameClass {
        let mut colons = 0usize;
        let mut ascii = true;
        for &c in name.as_bytes() {
            colons += usize::from(c == b':');
            ascii &= c.is_ascii();
        }
        NameClass {
            prefixed: colons > 0,
            simple: ascii && colons <= 1,
        }
    }
}

/// [`compare_property_names`] of `a` and `b`, whose classes are `ca` and `cb`.
fn compare_classified(a: &str, ca: NameClass, b: &str, cb: NameClass) -> Ordering {
    if ca.prefixed != cb.prefixed {
        return if ca.prefixed {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    if ca.simple && cb.simple {
        // The same order without allocating: ASCII lower-casing is byte by byte
        // (names with more than one ':' compare on the general path).
        let ka = a.bytes().filter(|&c| c != b':');
        let kb = b.bytes().filter(|&c| c != b':');
        return ka
            .clone()
            .map(|c| c.to_ascii_lowercase())
            .cmp(kb.clone().map(|c| c.to_ascii_lowercase()))
            .then_with(|| ka.cmp(kb));
    }
    let ka: String = a.replacen(':', "", 1);
    let kb: String = b.replacen(':', "", 1);
    ka.to_lowercase()
        .cmp(&kb.to_lowercase())
        .then_with(|| ka.cmp(&kb))
}

/// XML attribute escaping as FileVault's writer does it: `&`, `<`, `"` and TAB, LF,
/// CR as character references; `>` and `'` literal. Characters XML 1.0 allows but
/// asks documents to avoid (§2.2: DEL and the C1 controls, U+007F to U+009F) and the
/// line and paragraph separators (U+2028, U+2029) are character references too, in
/// the same lower-case hex form (`&#x9b;`): a reader gets the same value back, and a
/// terminal or log showing the file never receives them raw (U+009B is a CSI).
pub fn escape_attr(v: &str) -> String {
    let mut out = Vec::with_capacity(v.len());
    escape_attr_into(&mut out, v);
    // Only ASCII references replace whole characters: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// [`escape_attr`] appended to `out`; a value with nothing to escape is copied whole.
///
/// Runs of characters written as they are are copied whole: the text is scanned by
/// byte for the few that need a reference (non-ASCII text was decoded and encoded
/// again character by character before).
fn escape_attr_into(out: &mut Vec<u8>, v: &str) {
    // Bytes that may start a character to escape: the ASCII ones, DEL, and the
    // lead bytes of the C1 controls (U+0080..U+009F: C2 80..C2 9F) and of
    // U+2028/U+2029 (E2 80 A8/A9).
    let maybe = |c: u8| {
        matches!(
            c,
            b'&' | b'<' | b'"' | b'\t' | b'\n' | b'\r' | 0x7f | 0xc2 | 0xe2
        )
    };
    let escaped = |c: char| matches!(c, '&' | '<' | '"' | '\t' | '\n' | '\r') || is_discouraged(c);
    escape_runs(v, maybe, escaped, |piece| match piece {
        Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
        Piece::Escape('&') => out.extend_from_slice(b"&amp;"),
        Piece::Escape('<') => out.extend_from_slice(b"&lt;"),
        Piece::Escape('"') => out.extend_from_slice(b"&quot;"),
        Piece::Escape('\t') => out.extend_from_slice(b"&#x9;"),
        Piece::Escape('\n') => out.extend_from_slice(b"&#xa;"),
        Piece::Escape('\r') => out.extend_from_slice(b"&#xd;"),
        Piece::Escape(c) => {
            let _ = write!(out, "&#x{:x};", c as u32);
        }
    });
}

/// DEL, the C1 controls and U+2028/U+2029: valid XML 1.0 characters written as
/// character references ([`escape_attr`]).
pub fn is_discouraged(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
}

/// The exporter writes every property except these, when protected (JCRVLT-705).
pub fn is_exported_property(name: &str, protected: bool) -> bool {
    !(protected
        && matches!(
            name,
            "jcr:created"
                | "jcr:createdBy"
                | "jcr:baseVersion"
                | "jcr:versionHistory"
                | "jcr:predecessors"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docview::parse;

    /// Escapes by scanning bytes as the character-by-character rules say.
    #[test]
    fn attribute_escapes_match_the_rules_character_by_character() {
        fn by_character(v: &str) -> String {
            let mut out = String::new();
            for c in v.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '"' => out.push_str("&quot;"),
                    '\t' => out.push_str("&#x9;"),
                    '\n' => out.push_str("&#xa;"),
                    '\r' => out.push_str("&#xd;"),
                    c if is_discouraged(c) => out.push_str(&format!("&#x{:x};", c as u32)),
                    c => out.push(c),
                }
            }
            out
        }
        let cases = [
            "",
            "plain",
            "a&b<c\"d'e>f",
            "\t\n\r",
            "caf\u{e9} \u{c2}\u{bf} \u{7f}\u{80}\u{9f}\u{a0}",
            "\u{2027}\u{2028}\u{2029}\u{202a}\u{2000}\u{2fff}\u{e2}",
            "日本語 & 😀\u{2028}end",
            "\u{85}",
        ];
        for v in cases {
            assert_eq!(escape_attr(v), by_character(v), "{v:?}");
        }
    }

    #[test]
    fn ascii_name_classes_are_the_name_rules() {
        let classes = ascii_name_classes();
        for c in 0u8..128 {
            let ch = char::from(c);
            assert_eq!(
                classes[usize::from(c)] & NAME_START != 0,
                crate::name::is_name_start_char(ch)
            );
            assert_eq!(
                classes[usize::from(c)] & NAME_CHAR != 0,
                crate::name::is_name_char(ch)
            );
        }
    }

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0"
    jcr:primaryType="nt:unstructured">
    <a jcr:primaryType="nt:unstructured">
        <jcr:xmltext
            jcr:primaryType="nt:unstructured"
            jcr:xmlcharacters="Hello, World."/>
    </a>
</jcr:root>
"#;

    #[test]
    fn reproduces_filevault_formatting() {
        let doc = parse(SAMPLE.as_bytes(), "x").unwrap();
        assert_eq!(String::from_utf8(to_vec(&doc)).unwrap(), SAMPLE);
    }

    #[test]
    fn orders_properties_like_filevault() {
        let mut names = vec![
            "b",
            "jcr:title",
            "TestProperty",
            "testproperty",
            "a",
            "cq:x",
            "A",
        ];
        names.sort_by(|a, b| compare_property_names(a, b));
        assert_eq!(
            names,
            vec![
                "cq:x",
                "jcr:title",
                "A",
                "a",
                "b",
                "TestProperty",
                "testproperty"
            ]
        );
    }

    /// A name is copied as it is only when ISO 9075 leaves it so; `_x` anywhere
    /// (looked for in the walk that checks the characters) takes the encoder.
    #[test]
    fn plain_names_are_copied_and_the_others_encoded() {
        for name in [
            "a", "title", "_x", "a_x", "_x0020_", "a_xb", "ax_", "x_", "_", "_X", "a__x", "x",
            "xx_x", "1a", "a b", "é", "a_y_x", "a_", "a-b.c",
        ] {
            let mut out = Vec::new();
            push_encoded(&mut out, name);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                iso9075::encode(name),
                "{name}"
            );
        }
        let mut out = Vec::new();
        push_encoded(&mut out, "a_x0041_b");
        assert_eq!(out, b"a_x005f_x0041_b");
    }

    /// The allocation-free ASCII order is the general one.
    #[test]
    fn ascii_order_is_the_general_order() {
        fn general(a: &str, b: &str) -> Ordering {
            let (pa, pb) = (a.contains(':'), b.contains(':'));
            if pa != pb {
                return if pa {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            let ka: String = a.replacen(':', "", 1);
            let kb: String = b.replacen(':', "", 1);
            ka.to_lowercase()
                .cmp(&kb.to_lowercase())
                .then_with(|| ka.cmp(&kb))
        }
        let names = [
            "a",
            "A",
            "ab",
            "a:b",
            "ab:",
            ":ab",
            "jcr:title",
            "jcrTitle",
            "jcr:Title",
            "cq:x",
            "cqx",
            "a:b:c",
            "ab:c",
            "_x",
            "a-b",
            "a.b",
            "Z",
            "z:",
            "",
            ":",
            "a_b",
            "aB",
        ];
        for a in names {
            for b in names {
                assert_eq!(compare_property_names(a, b), general(a, b), "{a} {b}");
            }
        }
    }

    /// Fuzz finding (`docview_document`): `jcr` bound to another URI made the writer
    /// declare `xmlns:jcr` twice, and the written file did not parse.
    #[test]
    fn jcr_prefix_bound_elsewhere_is_not_declared_twice() {
        let input =
            "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr.1.0\" jcr:primaryType=\"nt:file\"/>";
        let doc = parse(input.as_bytes(), "x").unwrap();
        assert!(!doc.root_is_jcr_root);
        let out = to_vec(&doc);
        let again = parse(out.as_slice(), "written")
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
        assert_eq!(again.root.properties, doc.root.properties);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("xmlns:jcr1=\"http://www.jcp.org/jcr/1.0\""),
            "{text}"
        );
    }

    #[test]
    fn escapes_and_encodes() {
        let doc = parse(
            "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" p=\"a&#xa;&lt;b&quot;\"><_x0031_x_x005b_2_x005d_ jcr:primaryType=\"nt:unstructured\"/></jcr:root>".as_bytes(),
            "x",
        )
        .unwrap();
        assert_eq!(doc.root.children[0].name, "1x");
        assert_eq!(doc.root.children[0].index, 2);
        let out = String::from_utf8(to_vec(&doc)).unwrap();
        assert!(out.contains("p=\"a&#xa;&lt;b&quot;\""), "{out}");
        assert!(
            out.contains("<_x0031_x_x005b_2_x005d_ jcr:primaryType=\"nt:unstructured\"/>"),
            "{out}"
        );
    }

    /// DEL, C1 controls (U+009B is a CSI) and U+2028/U+2029 are written as character
    /// references, never raw, and read back as the same value.
    #[test]
    fn discouraged_characters_are_references_and_read_back_the_same() {
        let value = "a\u{7f}b\u{80}c\u{9b}[31md\u{9f}e\u{2028}f\u{2029}g";
        let input = format!(
            "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" p=\"{}\"/>",
            "a&#x7f;b&#x80;c&#x9b;[31md&#x9f;e&#x2028;f&#x2029;g"
        );
        let doc = parse(input.as_bytes(), "x").unwrap();
        let out = String::from_utf8(to_vec(&doc)).unwrap();
        assert!(
            out.contains("p=\"a&#x7f;b&#x80;c&#x9b;[31md&#x9f;e&#x2028;f&#x2029;g\""),
            "{out}"
        );
        assert!(!out.chars().any(is_discouraged), "{out:?}");
        let again = parse(out.as_bytes(), "written").unwrap();
        assert_eq!(again.root.properties, doc.root.properties);
        let p = again
            .root
            .properties
            .iter()
            .find(|p| p.name == "p")
            .unwrap();
        assert_eq!(p.values, [value]);
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::docview::{parse, DocViewDocument, DocViewElement, DocViewProperty};
    use crate::location::Location;
    use crate::value::PropertyType;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z_][a-zA-Z0-9_.-]{0,8}",
            "[0-9 %&\u{e9}\u{4e2d}][a-z ]{0,5}[a-z]",
            "(jcr|nt|cq):[a-z][a-zA-Z0-9]{0,6}",
        ]
    }

    fn property() -> impl Strategy<Value = DocViewProperty> {
        let ptype = prop_oneof![
            Just(PropertyType::String),
            Just(PropertyType::Long),
            Just(PropertyType::Boolean),
            Just(PropertyType::Name),
            Just(PropertyType::Path),
        ];
        (
            name(),
            ptype,
            any::<bool>(),
            proptest::collection::vec("\\PC{0,6}", 0..3),
        )
            .prop_map(|(n, t, multiple, mut values)| {
                let values = match t {
                    PropertyType::Long => values
                        .iter()
                        .enumerate()
                        .map(|(i, _)| i.to_string())
                        .collect(),
                    PropertyType::Boolean => values
                        .iter()
                        .map(|v| (v.len() % 2 == 0).to_string())
                        .collect(),
                    _ => {
                        if !multiple {
                            values.truncate(1);
                        }
                        values
                    }
                };
                let values = if !multiple && values.is_empty() {
                    vec![String::new()]
                } else if !multiple {
                    values[..1].to_vec()
                } else {
                    values
                };
                DocViewProperty {
                    name: n,
                    ptype: t,
                    binary_ref: false,
                    multiple,
                    values,
                }
            })
    }

    fn element(depth: u32) -> BoxedStrategy<DocViewElement> {
        let leaf = (name(), proptest::collection::vec(property(), 1..4))
            .prop_map(|(n, props)| el(n, props, vec![]));
        if depth == 0 {
            return leaf.boxed();
        }
        (
            name(),
            proptest::collection::vec(property(), 0..3),
            proptest::collection::vec(element(depth - 1), 0..3),
        )
            .prop_map(|(n, props, children)| el(n, props, children))
            .boxed()
    }

    fn el(
        name: String,
        mut properties: Vec<DocViewProperty>,
        children: Vec<DocViewElement>,
    ) -> DocViewElement {
        let mut seen = std::collections::HashSet::new();
        properties.retain(|p| seen.insert(p.name.clone()));
        properties.sort_by(|a, b| compare_property_names(&a.name, &b.name));
        DocViewElement {
            name,
            index: 1,
            properties,
            children,
            location: Location::default(),
        }
    }

    fn strip(e: &mut DocViewElement) {
        e.location = Location::default();
        e.properties
            .sort_by(|a, b| compare_property_names(&a.name, &b.name));
        for p in &mut e.properties {
            if p.name == "jcr:mixinTypes" {
                p.values.sort();
            }
            if p.ptype == PropertyType::String {
                p.ptype = PropertyType::Undefined;
            }
        }
        e.children.iter_mut().for_each(strip);
    }

    proptest! {
        #[test]
        fn write_then_read_gives_the_same_model(root in element(2)) {
            let mut root = root;
            root.name = String::new();
            let doc = DocViewDocument {
                namespaces: vec![
                    ("jcr".into(), crate::docview::JCR_URI.into()),
                    ("nt".into(), "http://www.jcp.org/jcr/nt/1.0".into()),
                    ("cq".into(), "http://www.day.com/jcr/cq/1.0".into()),
                ],
                root,
                root_is_jcr_root: true,
                warnings: vec![],
            };
            let bytes = to_vec(&doc);
            let mut back = parse(&bytes[..], "t").unwrap();
            strip(&mut back.root);
            let mut want = doc.root.clone();
            strip(&mut want);
            prop_assert_eq!(to_vec(&back), bytes);
            prop_assert_eq!(back.root, want);
        }
    }

    /// FileVault-written DocView files read and write back byte for byte. Hand-written
    /// files (comments, unsorted attributes, older FileVault layouts) need not, so the
    /// test asserts a floor on the identical share and that every file re-reads to
    /// the same model.
    #[test]
    fn corpus_files_read_then_write_to_the_same_document() {
        let root = crate::test_support::corpus();
        assert!(
            root.exists(),
            "this test reads the shared corpus, and {} does not exist: check out ../shared beside the project",
            root.display()
        );
        let (mut n, mut same) = (0, 0);
        for e in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
        {
            if e.file_name() != ".content.xml" {
                continue;
            }
            let b = std::fs::read(e.path()).unwrap();
            if b.windows(4).any(|w| w == b"<!--") {
                continue;
            }
            let Ok(doc) = parse(&b[..], "x") else {
                continue;
            };
            n += 1;
            let w = to_vec(&doc);
            if w == b {
                same += 1;
            }
            let mut again = parse(&w[..], "x").unwrap();
            let mut first = doc.clone();
            strip(&mut again.root);
            strip(&mut first.root);
            assert_eq!(again.root, first.root, "{}", e.path().display());
        }
        assert!(n > 1000, "{n}");
        assert!(same * 100 >= n * 70, "only {same} of {n} identical");
    }
}

#[cfg(test)]
mod snapshots {
    use crate::docview::{parse, writer::to_vec};

    /// Every value type, escapes, ISO 9075 names, same-name siblings and placeholders,
    /// written in FileVault's exact layout.
    #[test]
    fn written_docview_snapshot() {
        let input = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0"
    jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:versionable,mix:lockable]" Zeta="z" alpha="a"
    str="\{not a type} a\\b" multi="[a\,b,\0,c]" empty="[]" one="[\0]" long="{Long}42" dbl="{Double}-Infinity"
    dec="{Decimal}3.14159265358979323846" date="{Date}2024-01-31T12:00:00.000+01:00" bool="{Boolean}[true,false]"
    name="{Name}nt:base" path="{Path}/a/b" ref="{Reference}20bab6b6-6503-4e29-a383-0b299307a1da"
    weak="{WeakReference}[]" uri="{URI}http://example.com/a?b=c" bin="{Binary}" bref="{BinaryRef}abc"
    ctrl="a\u000fb" text="line1&#xa;line2&#x9;&lt;&amp;&quot;">
    <_x0031_st jcr:primaryType="nt:unstructured"/>
    <item jcr:primaryType="nt:unstructured"/>
    <item_x005b_2_x005d_ jcr:primaryType="nt:unstructured"/>
    <placeholder/>
    <deep jcr:primaryType="nt:unstructured"><deeper jcr:primaryType="nt:unstructured" x="1"/></deep>
</jcr:root>
"#;
        let doc = parse(input.as_bytes(), "snapshot.xml").unwrap();
        insta::assert_snapshot!(String::from_utf8(to_vec(&doc)).unwrap());
    }
}
