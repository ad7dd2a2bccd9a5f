//! Magnolia's JCR YAML (shared/reference/magnolia.md §2): a document read into a
//! [`Node`] tree, and a subtree written as Magnolia's `YamlExporter` writes it.
//!
//! Reading goes through the light-module reader ([`crate::lightmodule::yaml`]), so a
//! bootstrap YAML file is typed as Magnolia's snakeyaml types it (YAML 1.1: `yes`,
//! `0777` and `2024-03-05` are a boolean, a number and a timestamp) and duplicate
//! keys, tabs, unbounded aliases and unknown tags are errors with a line and column.
//! The document is one mapping with one key, the node's name; within a node a key
//! whose value is a mapping is a child node, any other key a property: a quoted or
//! plain string is a String, a boolean a Boolean, an integer a Long, a float a Double,
//! a timestamp a Date, a sequence a multi-valued property (all items of one type).
//! `jcr:primaryType` and `jcr:mixinTypes` are the node's types.
//!
//! Writing follows the two real exports (§2.2) and snakeyaml's emitter with
//! Magnolia's settings: every key and every string single-quoted (double-quoted, with
//! escapes, when snakeyaml cannot single-quote it: tabs, control characters, spaces
//! before a line break), long strings folded at 80 columns exactly where snakeyaml
//! folds them, Boolean, Long and Date plain, every multi-value a flow sequence, two
//! spaces of indentation, a node's properties first in plain lexicographic order
//! (`jcr:` ones included), then its children in order. Types no real export shows
//! (Double, Decimal, Binary, Name, Path, Reference, WeakReference, URI) are refused
//! unless the caller allows a lossy dump, which writes them as strings.

use std::io::{self, Write};

use super::error::BootstrapError;
use crate::lightmodule::yaml::{self as ly, YNode, YValue};
use crate::lightmodule::yaml11::Typed;
use crate::node::Node;
use crate::value::{Date, Property, PropertyType, Value};

/// snakeyaml's default line width.
const WIDTH: usize = 80;

/// A YAML bootstrap document read as a tree.
#[derive(Debug, Clone)]
pub struct YamlTree {
    /// The document's node with its subtree.
    pub node: Node,
    /// Warnings (plain keys YAML 1.1 reads as something else than written).
    pub warnings: Vec<String>,
    /// Line and column of the top-level key (the node's name).
    pub root_at: (u32, u32),
}

/// Reads a bootstrap YAML document (`file` names it in errors).
pub fn read(text: &str, file: &str) -> Result<YamlTree, BootstrapError> {
    let doc = ly::read(text);
    let mut warnings = Vec::new();
    for p in &doc.problems {
        if p.error {
            return Err(syntax(file, p.pos, format!("{} ({})", p.message, p.fix)));
        }
        warnings.push(format!(
            "{file}:{}:{}: {}",
            p.pos.line, p.pos.column, p.message
        ));
    }
    let Some(root) = doc.root else {
        return Err(syntax(
            file,
            ly::Pos { line: 1, column: 1 },
            "the document is empty".into(),
        ));
    };
    let entries = match &root.value {
        YValue::Map(m) => m,
        _ => {
            return Err(syntax(
                file,
                root.pos,
                "the document is not a mapping of one node name to the node".into(),
            ))
        }
    };
    if entries.len() != 1 {
        return Err(syntax(
            file,
            root.pos,
            format!(
                "the document has {} top-level keys; a bootstrap file holds exactly one node",
                entries.len()
            ),
        ));
    }
    let (k, v) = &entries[0];
    let name = key_text(k, file)?;
    let node = to_node(name, v, file)?;
    Ok(YamlTree {
        node,
        warnings,
        root_at: (k.pos.line, k.pos.column),
    })
}

fn syntax(file: &str, pos: ly::Pos, message: String) -> BootstrapError {
    BootstrapError::Syntax {
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
        message,
    }
}

fn no_directive(n: &YNode, file: &str) -> Result<(), BootstrapError> {
    if n.directive.is_some() {
        return Err(syntax(
            file,
            n.pos,
            "a Magnolia definition directive (!include, !inherit, !override, !content-type) has no meaning in JCR content".into(),
        ));
    }
    Ok(())
}

fn key_text(k: &YNode, file: &str) -> Result<String, BootstrapError> {
    no_directive(k, file)?;
    match &k.value {
        YValue::Scalar(text, Typed::Str(_)) => Ok(text.clone()),
        YValue::Scalar(_, Typed::Null) => Err(syntax(file, k.pos, "an empty key".into())),
        YValue::Scalar(_, t) => Ok(t.as_text()),
        _ => Err(syntax(file, k.pos, "a key that is not a scalar".into())),
    }
}

fn to_node(name: String, v: &YNode, file: &str) -> Result<Node, BootstrapError> {
    no_directive(v, file)?;
    let YValue::Map(entries) = &v.value else {
        return Err(syntax(
            file,
            v.pos,
            format!("node '{name}' is not a mapping"),
        ));
    };
    let mut node = Node::new(name.clone(), "");
    let mut has_type = false;
    for (k, val) in entries {
        let key = key_text(k, file)?;
        if crate::name::validate(&key).is_err() {
            return Err(syntax(file, k.pos, format!("'{key}' is not a JCR name")));
        }
        match &val.value {
            YValue::Map(_) => node.children.push(to_node(key, val, file)?),
            _ if key == "jcr:primaryType" => {
                node.primary_type = name_value(val, file)?;
                has_type = true;
            }
            _ if key == "jcr:mixinTypes" => {
                no_directive(val, file)?;
                node.mixins = match &val.value {
                    YValue::Seq(items) => items
                        .iter()
                        .map(|i| name_value(i, file))
                        .collect::<Result<_, _>>()?,
                    _ => vec![name_value(val, file)?],
                };
            }
            _ => node.set(property(key, val, file)?),
        }
    }
    if !has_type {
        return Err(syntax(
            file,
            v.pos,
            format!("node '{name}' has no 'jcr:primaryType'"),
        ));
    }
    node.renumber_children();
    Ok(node)
}

fn name_value(n: &YNode, file: &str) -> Result<String, BootstrapError> {
    no_directive(n, file)?;
    match &n.value {
        YValue::Scalar(text, Typed::Str(_)) if crate::name::validate(text).is_ok() => {
            Ok(text.clone())
        }
        _ => Err(syntax(
            file,
            n.pos,
            "a node type name was expected here".into(),
        )),
    }
}

fn property(name: String, v: &YNode, file: &str) -> Result<Property, BootstrapError> {
    no_directive(v, file)?;
    match &v.value {
        YValue::Scalar(..) => Ok(Property::single(name, scalar(v, file)?)),
        YValue::Seq(items) => {
            let mut values = Vec::with_capacity(items.len());
            for i in items {
                no_directive(i, file)?;
                if !matches!(i.value, YValue::Scalar(..)) {
                    return Err(syntax(
                        file,
                        i.pos,
                        format!("property '{name}': a multi-value holds scalars only"),
                    ));
                }
                values.push(scalar(i, file)?);
            }
            let ptype = values.first().map_or(PropertyType::String, Value::ptype);
            if let Some((i, _)) = items
                .iter()
                .zip(&values)
                .find(|(_, val)| val.ptype() != ptype)
            {
                return Err(syntax(
                    file,
                    i.pos,
                    format!(
                        "property '{name}': values of different types ({} and {}) in one sequence",
                        ptype.jcr_name(),
                        values
                            .iter()
                            .find(|x| x.ptype() != ptype)
                            .map_or("?", |x| x.ptype().jcr_name())
                    ),
                ));
            }
            Ok(Property::multi(name, ptype, values))
        }
        YValue::Map(_) => unreachable_map(file, v),
    }
}

fn unreachable_map(file: &str, v: &YNode) -> Result<Property, BootstrapError> {
    Err(syntax(
        file,
        v.pos,
        "a mapping is a child node, not a property value".into(),
    ))
}

fn scalar(n: &YNode, file: &str) -> Result<Value, BootstrapError> {
    let YValue::Scalar(_, t) = &n.value else {
        return Err(syntax(file, n.pos, "a scalar was expected".into()));
    };
    Ok(match t {
        Typed::Str(s) => Value::String(s.clone()),
        Typed::Bool(b) => Value::Boolean(*b),
        Typed::Int(s) => Value::Long(s.parse().map_err(|_| {
            syntax(
                file,
                n.pos,
                format!("the integer {s} does not fit a JCR Long"),
            )
        })?),
        Typed::Float(s) => {
            let d = match s.as_str() {
                ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => f64::INFINITY,
                "-.inf" | "-.Inf" | "-.INF" => f64::NEG_INFINITY,
                ".nan" | ".NaN" | ".NAN" => f64::NAN,
                _ => s.parse().map_err(|_| {
                    syntax(
                        file,
                        n.pos,
                        format!(
                            "the float {s} cannot be read (sexagesimal floats are not supported)"
                        ),
                    )
                })?,
            };
            Value::Double(d)
        }
        Typed::Timestamp(s) => Value::Date(timestamp(s).ok_or_else(|| {
            syntax(
                file,
                n.pos,
                format!("the timestamp {s} cannot be read as a JCR date"),
            )
        })?),
        Typed::Null => {
            return Err(syntax(
                file,
                n.pos,
                "an empty (null) value; write '' for an empty string".into(),
            ))
        }
        Typed::Merge => return Err(syntax(file, n.pos, "a stray merge key '<<'".into())),
    })
}

/// A YAML 1.1 timestamp as a JCR date: a date alone is midnight UTC, a missing zone
/// is UTC (as snakeyaml reads them).
fn timestamp(s: &str) -> Option<Date> {
    if s.len() == 10 {
        return Date::parse(&format!("{s}T00:00:00.000Z"));
    }
    if let Some(d) = Date::parse(s) {
        return Some(d);
    }
    // `2001-12-14 21:59:43.10 -5`, `2001-12-14t21:59:43.10-05:00`, no zone.
    let (date, rest) = s.split_at(10);
    let rest = rest.trim_start_matches(['T', 't', ' ', '\t']);
    let zone_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let time = time.trim();
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = hms.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    let millis: String = format!("{frac:0<3}").chars().take(3).collect();
    let zone = match zone.trim() {
        "" | "Z" => "Z".to_string(),
        z => {
            let (sign, digits) = z.split_at(1);
            let (zh, zm) = digits.split_once(':').unwrap_or((digits, "00"));
            format!("{sign}{:0>2}:{:0>2}", zh, zm)
        }
    };
    Date::parse(&format!("{date}T{h:0>2}:{m}:{sec}.{millis}{zone}"))
}

/// A property a YAML dump cannot write faithfully.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unsupported {
    /// The node's path.
    pub path: String,
    /// The property name.
    pub property: String,
    /// Its JCR type.
    pub ptype: String,
}

/// Whether a property's type has a YAML form a real Magnolia export shows.
pub fn yaml_verified(p: &Property) -> bool {
    matches!(
        p.ptype,
        PropertyType::String | PropertyType::Boolean | PropertyType::Long | PropertyType::Date
    )
}

/// Writes nodes as Magnolia's YAML, one at a time (streaming): [`YamlWriter::node`]
/// with each node's walk depth (0 for the top node), parents before children.
pub struct YamlWriter<W: Write> {
    out: W,
    em: Emitter,
    lossy: bool,
}

impl<W: Write> YamlWriter<W> {
    /// A writer to `out`; `lossy` writes unverified types as strings instead of
    /// failing.
    pub fn new(out: W, lossy: bool) -> YamlWriter<W> {
        YamlWriter {
            out,
            em: Emitter::default(),
            lossy,
        }
    }

    /// Writes one node (its name, types and properties) at `depth`; its children
    /// follow with `depth + 1`. Fails on a same-name sibling (YAML keys are unique)
    /// and, unless lossy, on a property of an unverified type.
    pub fn node(&mut self, node: &Node, depth: usize, path: &str) -> Result<(), BootstrapError> {
        if node.index > 1 {
            return Err(BootstrapError::SameNameSibling {
                path: path.to_string(),
            });
        }
        let indent = 2 * depth;
        let name = if depth == 0 || !node.name.is_empty() {
            node.name.as_str()
        } else {
            ""
        };
        let name = if name.is_empty() { "jcr:root" } else { name };
        self.em.key(name, indent);
        // Properties: jcr:primaryType and jcr:mixinTypes among the others, sorted by
        // name as Java compares strings (UTF-16 code units).
        let mut props: Vec<(&str, Entry<'_>)> = Vec::with_capacity(node.properties.len() + 2);
        props.push(("jcr:primaryType", Entry::Type(&node.primary_type)));
        if !node.mixins.is_empty() {
            props.push(("jcr:mixinTypes", Entry::Mixins(&node.mixins)));
        }
        for p in node.properties.values() {
            if !yaml_verified(p) && !self.lossy {
                return Err(BootstrapError::Unverified {
                    properties: vec![Unsupported {
                        path: path.to_string(),
                        property: p.name.clone(),
                        ptype: p.ptype.jcr_name().to_string(),
                    }],
                });
            }
            props.push((p.name.as_str(), Entry::Prop(p)));
        }
        props.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        let inner = indent + 2;
        for (name, e) in props {
            self.em.key(name, inner);
            match e {
                Entry::Type(t) => self.em.single_quoted(t, true, inner + 2),
                Entry::Mixins(m) => {
                    self.em.flow_start(inner + 2);
                    for (i, x) in m.iter().enumerate() {
                        self.em.flow_item(i, inner + 2);
                        self.em.single_quoted(x, true, inner + 4);
                    }
                    self.em.flow_end();
                }
                Entry::Prop(p) if p.multiple => {
                    self.em.flow_start(inner + 2);
                    for (i, v) in p.values.iter().enumerate() {
                        self.em.flow_item(i, inner + 2);
                        self.em.value(v, inner + 4);
                    }
                    self.em.flow_end();
                }
                Entry::Prop(p) => match p.values.first() {
                    Some(v) => self.em.value(v, inner + 2),
                    None => self.em.single_quoted("", true, inner + 2),
                },
            }
        }
        self.flush_some()?;
        Ok(())
    }

    fn flush_some(&mut self) -> io::Result<()> {
        if self.em.out.len() >= 32 * 1024 {
            self.out.write_all(self.em.out.as_bytes())?;
            self.em.out.clear();
        }
        Ok(())
    }

    /// Ends the document (a final line break) and returns the output.
    pub fn finish(mut self) -> Result<W, BootstrapError> {
        self.em.write_indent(0);
        self.out.write_all(self.em.out.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

enum Entry<'a> {
    Type(&'a str),
    Mixins(&'a [String]),
    Prop(&'a Property),
}

/// The part of snakeyaml's emitter Magnolia's exports use, with its column and
/// whitespace bookkeeping (columns count UTF-16 code units, as Java does).
struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Default for Emitter {
    fn default() -> Emitter {
        Emitter {
            out: String::new(),
            column: 0,
            whitespace: true,
            indention: true,
        }
    }
}

fn is_linebr(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn utf16_len(s: &[char]) -> usize {
    s.iter().map(|c| c.len_utf16()).sum()
}

/// snakeyaml's `analyzeScalar`, reduced to the two answers a quoted scalar needs:
/// whether single quotes can carry it, and whether it spans lines.
fn analyze(text: &str) -> (bool, bool) {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return (true, false);
    }
    let (mut special, mut line_breaks) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    for &c in &chars {
        let lb = is_linebr(c);
        if lb {
            line_breaks = true;
        }
        if !(c == '\n' || ('\u{20}'..='\u{7E}').contains(&c)) {
            let unicode = (c == '\u{85}'
                || ('\u{A0}'..='\u{D7FF}').contains(&c)
                || ('\u{E000}'..='\u{FFFD}').contains(&c)
                || c >= '\u{10000}')
                && c != '\u{FEFF}';
            if !unicode {
                special = true;
            }
        }
        if c == ' ' {
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if lb {
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
    }
    let single = !(break_space || space_break || special);
    (single, line_breaks)
}

impl Emitter {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn indicator(&mut self, ind: &str, need_ws: bool, ws: bool, indentation: bool) {
        if !self.whitespace && need_ws {
            self.column += 1;
            self.push(" ");
        }
        self.whitespace = ws;
        self.indention = self.indention && indentation;
        self.column += ind.encode_utf16().count();
        self.push(ind);
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.line_break(None);
        }
        if indent > self.column {
            self.whitespace = true;
            for _ in self.column..indent {
                self.out.push(' ');
            }
            self.column = indent;
        }
    }

    fn line_break(&mut self, data: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push(data.unwrap_or('\n'));
    }

    fn write_chars(&mut self, s: &[char]) {
        self.column += utf16_len(s);
        self.out.extend(s.iter());
    }

    /// A block mapping key at `indent` and its `:`.
    fn key(&mut self, key: &str, indent: usize) {
        self.write_indent(indent);
        let (single, multiline) = analyze(key);
        if single && !multiline {
            self.single_quoted(key, false, indent + 2);
        } else {
            self.double_quoted(key, false, indent + 2);
        }
        self.indicator(":", false, false, false);
    }

    fn value(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Boolean(b) => self.plain(if *b { "true" } else { "false" }),
            Value::Long(l) => self.plain(&l.to_string()),
            Value::Date(d) => self.plain(&d.to_string()),
            other => self.quoted(&other.to_string(), indent),
        }
    }

    fn plain(&mut self, text: &str) {
        if !self.whitespace {
            self.column += 1;
            self.push(" ");
        }
        self.whitespace = false;
        self.indention = false;
        self.column += text.encode_utf16().count();
        self.push(text);
    }

    fn quoted(&mut self, text: &str, indent: usize) {
        if analyze(text).0 {
            self.single_quoted(text, true, indent);
        } else {
            self.double_quoted(text, true, indent);
        }
    }

    fn flow_start(&mut self, _indent: usize) {
        self.indicator("[", true, true, false);
    }

    fn flow_item(&mut self, i: usize, indent: usize) {
        if i > 0 {
            self.indicator(",", false, false, false);
        }
        if self.column > WIDTH {
            self.write_indent(indent);
        }
    }

    fn flow_end(&mut self) {
        self.indicator("]", false, false, false);
    }

    /// snakeyaml's `writeSingleQuoted`.
    fn single_quoted(&mut self, text: &str, split: bool, indent: usize) {
        if !analyze(text).0 {
            self.double_quoted(text, split, indent);
            return;
        }
        self.indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0usize, 0usize);
        while end <= n {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > WIDTH && split && start != 0 && end != n {
                        self.write_indent(indent);
                    } else {
                        self.write_chars(&chars[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if ch.is_none_or(|c| !is_linebr(c)) {
                    if chars[start] == '\n' {
                        self.line_break(None);
                    }
                    for &br in &chars[start..end] {
                        if br == '\n' {
                            self.line_break(None);
                        } else {
                            self.line_break(Some(br));
                        }
                    }
                    self.write_indent(indent);
                    start = end;
                }
            } else if ch.is_none_or(|c| is_linebr(c) || c == ' ' || c == '\'') && start < end {
                self.write_chars(&chars[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.column += 2;
                self.push("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_linebr(c);
            }
            end += 1;
        }
        self.indicator("'", false, false, false);
    }

    /// snakeyaml's `writeDoubleQuoted` (allowUnicode on, as Magnolia's files show).
    fn double_quoted(&mut self, text: &str, split: bool, indent: usize) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let (mut start, mut end) = (0usize, 0usize);
        while end <= n {
            let ch = chars.get(end).copied();
            let escape = match ch {
                None => true,
                Some(c) => {
                    "\"\\\u{85}\u{2028}\u{2029}\u{FEFF}".contains(c)
                        || !('\u{20}'..='\u{7E}').contains(&c)
                }
            };
            if escape {
                if start < end {
                    self.write_chars(&chars[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let data = match c {
                        '\0' => "\\0".to_string(),
                        '\u{7}' => "\\a".to_string(),
                        '\u{8}' => "\\b".to_string(),
                        '\t' => "\\t".to_string(),
                        '\n' => "\\n".to_string(),
                        '\u{B}' => "\\v".to_string(),
                        '\u{C}' => "\\f".to_string(),
                        '\r' => "\\r".to_string(),
                        '\u{1B}' => "\\e".to_string(),
                        '"' => "\\\"".to_string(),
                        '\\' => "\\\\".to_string(),
                        '\u{85}' => "\\N".to_string(),
                        '\u{A0}' => "\\_".to_string(),
                        '\u{2028}' => "\\L".to_string(),
                        '\u{2029}' => "\\P".to_string(),
                        c if printable(c) => c.to_string(),
                        c if (c as u32) <= 0xFF => format!("\\x{:02x}", c as u32),
                        c if (c as u32) > 0xFFFF => format!("\\U{:08x}", c as u32),
                        c => format!("\\u{:04x}", c as u32),
                    };
                    self.column += data.encode_utf16().count();
                    self.push(&data);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < n
                && (ch == Some(' ') || start >= end)
                && self.column + utf16_len(&chars[start.min(end)..end]) > WIDTH
                && split
            {
                let mut data: String = if start >= end {
                    String::new()
                } else {
                    chars[start..end].iter().collect()
                };
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.column += data.encode_utf16().count();
                self.push(&data);
                self.write_indent(indent);
                self.whitespace = false;
                self.indention = false;
                if chars.get(start) == Some(&' ') {
                    self.column += 1;
                    self.push("\\");
                }
            }
            end += 1;
        }
        self.indicator("\"", false, false, false);
    }
}

/// snakeyaml's `StreamReader.isPrintable`.
fn printable(c: char) -> bool {
    let c = c as u32;
    (0x20..=0x7E).contains(&c)
        || c == 0x9
        || c == 0xA
        || c == 0xD
        || c == 0x85
        || (0xA0..=0xD7FF).contains(&c)
        || (0xE000..=0xFFFD).contains(&c)
        || (0x10000..=0x10FFFF).contains(&c)
}

/// Writes `node` (a whole tree in memory) as a YAML document.
pub fn write_tree(node: &Node, lossy: bool) -> Result<Vec<u8>, BootstrapError> {
    fn go<W: Write>(
        w: &mut YamlWriter<W>,
        n: &Node,
        depth: usize,
        path: &str,
    ) -> Result<(), BootstrapError> {
        w.node(n, depth, path)?;
        for c in &n.children {
            go(w, c, depth + 1, &crate::path::join(path, &c.segment()))?;
        }
        Ok(())
    }
    let mut w = YamlWriter::new(Vec::new(), lossy);
    go(&mut w, node, 0, &format!("/{}", node.name))?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        let t = read(text, "t.yaml").unwrap();
        String::from_utf8(write_tree(&t.node, false).unwrap()).unwrap()
    }

    #[test]
    fn reads_and_writes_magnolias_shape() {
        let text = "'about':\n  'hideInNav': false\n  'jcr:mixinTypes': ['mgnl:hasVersion']\n  'jcr:primaryType': 'mgnl:page'\n  'jcr:uuid': '6d3c1f52-1b7e-4a53-9a8e-2f1d7b0c9e41'\n  'keywords': ['travel', 'about us']\n  'mgnl:created': 2024-03-05T10:15:30.123+01:00\n  'navOrder': 3\n  'main':\n    'jcr:primaryType': 'mgnl:area'\n    '00':\n      'jcr:primaryType': 'mgnl:component'\n      'text': 'It''s <p>short</p>'\n    '0':\n      'jcr:primaryType': 'mgnl:component'\n";
        let t = read(text, "t.yaml").unwrap();
        let n = &t.node;
        assert_eq!(n.name, "about");
        assert_eq!(n.primary_type, "mgnl:page");
        assert_eq!(n.mixins, vec!["mgnl:hasVersion".to_string()]);
        assert_eq!(n.value("hideInNav"), Some(&Value::Boolean(false)));
        assert_eq!(n.value("navOrder"), Some(&Value::Long(3)));
        assert!(matches!(n.value("mgnl:created"), Some(Value::Date(_))));
        assert!(n.property("keywords").unwrap().multiple);
        assert_eq!(n.children[0].children[0].name, "00");
        assert_eq!(n.children[0].children[1].name, "0");
        assert_eq!(roundtrip(text), text);
    }

    #[test]
    fn yaml_11_typing_of_plain_scalars() {
        let t = read(
            "'n':\n  'jcr:primaryType': 'nt:unstructured'\n  a: yes\n  b: 0777\n  c: 2024-03-05\n  d: '0777'\n  e: 1.5\n",
            "t.yaml",
        )
        .unwrap();
        let n = &t.node;
        assert_eq!(n.value("a"), Some(&Value::Boolean(true)));
        assert_eq!(n.value("b"), Some(&Value::Long(511)));
        assert_eq!(
            n.value("c"),
            Some(&Value::Date(
                Date::parse("2024-03-05T00:00:00.000Z").unwrap()
            ))
        );
        assert_eq!(n.value("d"), Some(&Value::String("0777".into())));
        assert_eq!(n.value("e"), Some(&Value::Double(1.5)));
        // Double has no verified YAML form: refused unless lossy.
        assert!(matches!(
            write_tree(n, false),
            Err(BootstrapError::Unverified { .. })
        ));
        assert!(write_tree(n, true).is_ok());
    }

    #[test]
    fn bad_input_is_refused_with_a_position() {
        let cases = [
            (
                "'n':\n  'jcr:primaryType': 'x:y'\n  'a': 1\n  'a': 2\n",
                4,
                "duplicate key",
            ),
            ("'n':\n\t'jcr:primaryType': 'x:y'\n", 2, "tab"),
            ("'n': !foo\n  'jcr:primaryType': 'x:y'\n", 1, "unknown tag"),
            ("'n':\n  'a': 1\n", 2, "no 'jcr:primaryType'"),
            ("'n':\n  'jcr:primaryType': 'nt:base'\n  'a':\n", 3, "null"),
            (
                "'a':\n  'jcr:primaryType': 'nt:base'\n'b':\n  'jcr:primaryType': 'nt:base'\n",
                1,
                "2 top-level keys",
            ),
        ];
        for (text, line, what) in cases {
            match read(text, "f.yaml") {
                Err(e @ BootstrapError::Syntax { .. }) => {
                    let s = e.to_string();
                    assert!(s.starts_with(&format!("f.yaml:{line}:")), "{s}");
                    assert!(s.contains(what), "{s}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let mut bomb = String::from("a: &a ['x','x','x','x','x','x','x','x','x','x']\n");
        let mut prev = 'a';
        for c in 'b'..='z' {
            bomb.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        assert!(matches!(
            read(&bomb, "b.yaml"),
            Err(BootstrapError::Syntax { .. })
        ));
    }

    #[test]
    fn folds_long_strings_as_snakeyaml_does() {
        let long = "word ".repeat(40);
        let mut n = Node::new("n", "nt:unstructured");
        n.set(Property::string("text", long.trim_end()));
        n.set(Property::string("tab", "a\tb"));
        let out = String::from_utf8(write_tree(&n, false).unwrap()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[2], "  'tab': \"a\\tb\"", "{out}");
        assert!(lines[4].starts_with("    word"), "{out}");
        assert!(lines.iter().all(|l| l.len() <= 86), "{out}");
        assert_eq!(roundtrip(&out), out);
        let back = read(&out, "t.yaml").unwrap();
        assert_eq!(back.node.value("text"), n.value("text"));
    }
}
