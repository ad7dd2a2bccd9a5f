//! Writes node type definitions as CND, byte for byte as Jackrabbit's
//! `CompactNodeTypeDefWriter` does for FileVault's exporter (`nodetypes.cnd`):
//!
//! ```text
//! <'sling'='http://sling.apache.org/jcr/sling/1.0'>
//! <'nt'='http://www.jcp.org/jcr/nt/1.0'>
//!
//! [sling:OrderedFolder] > sling:Folder
//!   orderable
//!   + * (nt:base) = sling:OrderedFolder version
//!
//! ```
//!
//! * One namespace declaration per prefix used in a *name* (type, supertype, item,
//!   required/default type, primary item), in order of first use, then a blank line.
//! * Each type: `[name]`, sorted supertypes without `nt:base`; options on the next
//!   line (`abstract orderable mixin noquery primaryitem x`); each property then each
//!   child on its own line, indented two spaces; a blank line after the type.
//! * Property types and on-parent-version actions in lower case, `COPY` omitted;
//!   attribute order `mandatory autocreated protected multiple <opv> nofulltext
//!   noqueryorder queryops '...'`, then `< 'constraints'`. Default values and
//!   constraints always single-quoted, `\` doubled and `'` written `''`.
//! * The local part of a name is ISO 9075 encoded (`my prop` → `my_x0020_prop`),
//!   and a name containing `-` or `+` is single-quoted.
//!
//! Two deliberate differences, both for definitions Jackrabbit cannot write back:
//! an explicit `query` option (`queryable == Some(true)`) is written, and a line
//! break inside a default value or constraint is written `\n` (`\r` for CR) so that
//! the output reads back.

use super::definition::{CndFile, NodeTypeDef, OnParentVersion, QueryOperator, NT_BASE};
use crate::name;
use crate::namespace::NamespaceRegistry;
use std::borrow::Cow;

/// Why definitions could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// A name uses a prefix whose namespace URI is unknown.
    #[error("cannot write '{name}': the namespace prefix '{prefix}' is not mapped to a URI")]
    UnknownPrefix {
        /// The name.
        name: String,
        /// Its prefix.
        prefix: String,
    },
}

/// Writes `types` in order, resolving the URI of each prefix used with `uri_of`.
/// An empty list gives `"\n"`, as FileVault's exporter writes for a package without
/// custom node types.
pub fn write(
    types: &[NodeTypeDef],
    uri_of: &dyn Fn(&str) -> Option<String>,
) -> Result<String, WriteError> {
    let mut w = CndWriter {
        body: String::new(),
        prefixes: Vec::new(),
    };
    for t in types {
        w.node_type(t);
    }
    let mut out = String::new();
    for (p, first_name) in &w.prefixes {
        let uri = uri_of(p).ok_or_else(|| WriteError::UnknownPrefix {
            name: first_name.clone(),
            prefix: p.clone(),
        })?;
        out.push_str("<'");
        out.push_str(p);
        out.push_str("'='");
        out.push_str(&escape(&uri));
        out.push_str("'>\n");
    }
    out.push('\n');
    out.push_str(&w.body);
    Ok(out)
}

/// Writes `types` with the namespace URIs of `ns` (a repository's registry).
pub fn write_with(types: &[NodeTypeDef], ns: &NamespaceRegistry) -> Result<String, WriteError> {
    write(types, &|p| ns.uri(p).map(str::to_string))
}

impl CndFile {
    /// Writes this file's types in canonical form, with the file's own namespace
    /// mappings (falling back to JCR's built-in prefixes).
    pub fn write(&self) -> Result<String, WriteError> {
        let builtin = NamespaceRegistry::new();
        write(&self.types, &|p| {
            self.uri(p).or_else(|| builtin.uri(p)).map(str::to_string)
        })
    }
}

struct CndWriter {
    body: String,
    /// Each prefix used, with the first name that used it, in order of first use.
    prefixes: Vec<(String, String)>,
}

impl CndWriter {
    fn name(&mut self, n: &str) {
        let (prefix, local) = name::split(n);
        if n.contains(':') && !self.prefixes.iter().any(|(p, _)| p == prefix) {
            self.prefixes.push((prefix.to_string(), n.to_string()));
        }
        let quote = n.contains('-') || n.contains('+');
        if quote {
            self.body.push('\'');
        }
        if n.contains(':') {
            self.body.push_str(prefix);
            self.body.push(':');
        }
        if local == "*" {
            self.body.push('*');
        } else {
            self.body.push_str(&iso9075_encode(local));
        }
        if quote {
            self.body.push('\'');
        }
    }

    fn strings(&mut self, lead: &str, values: &[String]) {
        for (i, v) in values.iter().enumerate() {
            self.body.push_str(if i == 0 { lead } else { ", " });
            self.body.push('\'');
            self.body.push_str(&escape(v));
            self.body.push('\'');
        }
    }

    fn opv(&mut self, opv: OnParentVersion) {
        if opv != OnParentVersion::Copy {
            self.body.push(' ');
            self.body.push_str(&opv.jcr_name().to_ascii_lowercase());
        }
    }

    fn node_type(&mut self, t: &NodeTypeDef) {
        self.body.push('[');
        self.name(&t.name);
        self.body.push(']');
        let mut supertypes: Vec<&String> = t.supertypes.iter().filter(|s| *s != NT_BASE).collect();
        supertypes.sort();
        supertypes.dedup();
        for (i, s) in supertypes.into_iter().enumerate() {
            self.body.push_str(if i == 0 { " > " } else { ", " });
            self.name(s);
        }
        let mut options: Vec<&str> = Vec::new();
        if t.abstract_ {
            options.push("abstract");
        }
        if t.orderable {
            options.push("orderable");
        }
        if t.mixin {
            options.push("mixin");
        }
        match t.queryable {
            Some(false) => options.push("noquery"),
            Some(true) => options.push("query"),
            None => {}
        }
        if t.primary_item.is_some() {
            options.push("primaryitem");
        }
        for (i, o) in options.iter().enumerate() {
            self.body.push_str(if i == 0 { "\n  " } else { " " });
            self.body.push_str(o);
        }
        if let Some(pi) = &t.primary_item {
            self.body.push(' ');
            self.name(pi);
        }
        for p in &t.properties {
            self.body.push_str("\n  - ");
            self.name(&p.name);
            self.body.push_str(" (");
            self.body
                .push_str(&p.required_type.jcr_name().to_ascii_lowercase());
            self.body.push(')');
            self.strings(" = ", &p.default_values);
            for (on, word) in [
                (p.mandatory, "mandatory"),
                (p.autocreated, "autocreated"),
                (p.protected, "protected"),
                (p.multiple, "multiple"),
            ] {
                if on {
                    self.body.push(' ');
                    self.body.push_str(word);
                }
            }
            self.opv(p.on_parent_version);
            if !p.full_text_searchable {
                self.body.push_str(" nofulltext");
            }
            if !p.query_orderable {
                self.body.push_str(" noqueryorder");
            }
            if let Some(ops) = &p.available_query_operators {
                if !ops.is_empty() && !QueryOperator::ALL.iter().all(|o| ops.contains(o)) {
                    self.body.push_str(" queryops '");
                    for (i, o) in ops.iter().enumerate() {
                        if i > 0 {
                            self.body.push_str(", ");
                        }
                        self.body.push_str(o.symbol());
                    }
                    self.body.push('\'');
                }
            }
            self.strings(" < ", &p.value_constraints);
        }
        for c in &t.children {
            self.body.push_str("\n  + ");
            self.name(&c.name);
            for (i, r) in c.required_primary_types.iter().enumerate() {
                self.body.push_str(if i == 0 { " (" } else { ", " });
                self.name(r);
            }
            if !c.required_primary_types.is_empty() {
                self.body.push(')');
            }
            if let Some(d) = &c.default_primary_type {
                self.body.push_str(" = ");
                self.name(d);
            }
            for (on, word) in [
                (c.mandatory, "mandatory"),
                (c.autocreated, "autocreated"),
                (c.protected, "protected"),
                (c.same_name_siblings, "multiple"),
            ] {
                if on {
                    self.body.push(' ');
                    self.body.push_str(word);
                }
            }
            self.opv(c.on_parent_version);
        }
        self.body.push_str("\n\n");
    }
}

/// Quotes a string value as Jackrabbit does (`\` → `\\`, `'` → `''`), plus `\n`/`\r`
/// for line breaks.
fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['\\', '\'', '\n', '\r']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// ISO 9075 encoding of a local name, as Jackrabbit's `ISO9075.encode`: a character
/// that may not appear at its place in an XML name becomes `_xHHHH_` (lower-case hex
/// of its UTF-16 code units), and an `_` that would read as the start of such an
/// escape becomes `_x005f_`.
pub fn iso9075_encode(local: &str) -> Cow<'_, str> {
    let chars: Vec<char> = local.chars().collect();
    let needs_escape = |i: usize| {
        chars.get(i) == Some(&'_')
            && chars.get(i + 1) == Some(&'x')
            && (2..6).all(|k| chars.get(i + k).is_some_and(|c| c.is_ascii_hexdigit()))
    };
    let clean = chars.iter().enumerate().all(|(i, &c)| {
        let ok = if i == 0 {
            name::is_name_start_char(c) && c != ':'
        } else {
            name::is_name_char(c)
        };
        ok && (c as u32) < 0x10000 && !needs_escape(i)
    });
    if clean {
        return Cow::Borrowed(local);
    }
    let mut out = String::with_capacity(local.len() + 8);
    let encode = |out: &mut String, c: char| {
        let mut buf = [0u16; 2];
        for unit in c.encode_utf16(&mut buf) {
            out.push_str(&format!("_x{unit:04x}_"));
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let valid = (c as u32) < 0x10000
            && if i == 0 {
                name::is_name_start_char(c) && c != ':'
            } else {
                name::is_name_char(c)
            };
        if !valid {
            encode(&mut out, c);
        } else if needs_escape(i) {
            encode(&mut out, '_');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso9075_encodes_like_jackrabbit() {
        assert_eq!(iso9075_encode("content"), "content");
        assert_eq!(iso9075_encode("my prop"), "my_x0020_prop");
        assert_eq!(iso9075_encode("1st"), "_x0031_st");
        assert_eq!(iso9075_encode("a_x0020_b"), "a_x005f_x0020_b");
        assert_eq!(iso9075_encode("a_xyz"), "a_xyz");
        assert_eq!(iso9075_encode("icon.png"), "icon.png");
        assert_eq!(iso9075_encode("-x"), "_x002d_x");
        assert_eq!(iso9075_encode("a\u{1F600}"), "a_xd83d__xde00_");
    }

    #[test]
    fn escapes_values() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape(r"a\b'c"), r"a\\b''c");
        assert_eq!(escape("l1\nl2\r"), r"l1\nl2\r");
    }
}
