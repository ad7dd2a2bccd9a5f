//! XML namespace scopes of a system view document, and the normalisation of the JCR
//! names written in it.
//!
//! In system view, JCR names are attribute values (`sv:name="mgnl:created"`) and
//! text (`<sv:value>nt:folder</sv:value>` for Name and Path values). Their prefixes
//! are resolved through the XML namespace declarations in scope, which may appear on
//! any element, so the same URI can carry different prefixes in different parts of a
//! document, and the same prefix different URIs.
//!
//! The reader turns every name into one document-wide form: it keeps a single
//! [`NamespaceRegistry`] that starts with the JCR built-ins, and gives each declared
//! URI one prefix there: the prefix the URI already has (so `xmlns:j="…/jcr/1.0"`
//! makes `j:title` read as `jcr:title`), else the declared prefix, numbered
//! (`p0`, `p1`, …) when another URI took it first, as FileVault's importer does.
//!
//! A prefix that no element in scope declares is kept as written (Magnolia's
//! bootstrap files use `mgnl:` and `jcr:` without declaring them, relying on the
//! repository's registry). Those that are not JCR built-ins are collected so the
//! caller can check them against its repository. The empty prefix always means the
//! empty namespace for JCR names (JCR 2.0 §3.5.1): a default namespace declaration
//! (`xmlns="…"`) only affects element names. Expanded names (`{uri}local`) are
//! accepted too, and get the URI's prefix (registered as `ns`, `ns0`, … when new).

use crate::name::{self, NameError};
use crate::namespace::{self, NamespaceRegistry};
use crate::value::{PropertyType, ValueError};
use indexmap::IndexSet;

/// A namespace declaration in scope: the XML prefix, its URI, and the prefix the
/// URI has in the document-wide registry.
#[derive(Debug, Clone)]
struct Binding {
    prefix: String,
    uri: String,
    jcr_prefix: String,
}

/// Why an XML namespace declaration is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationError {
    /// `xmlns:p=""`: XML 1.0 does not allow undeclaring a prefix.
    #[error("the prefix '{0}' is bound to an empty namespace URI, which XML 1.0 forbids")]
    EmptyUri(String),
    /// `xml` or `xmlns` bound to the wrong URI, or a URI reserved for them bound to
    /// another prefix.
    #[error("the declaration of '{prefix}' as '{uri}' violates the reserved xml/xmlns bindings")]
    Reserved {
        /// The declared prefix.
        prefix: String,
        /// The declared URI.
        uri: String,
    },
}

const XMLNS_URI: &str = "http://www.w3.org/2000/xmlns/";

/// The namespace scopes of a document being read, and its document-wide registry.
#[derive(Debug, Clone)]
pub struct Scopes {
    registry: NamespaceRegistry,
    bindings: Vec<Binding>,
    marks: Vec<usize>,
    undeclared: IndexSet<String>,
}

impl Default for Scopes {
    fn default() -> Self {
        Self::new()
    }
}

impl Scopes {
    /// Scopes with no declarations, and a registry holding the JCR built-ins.
    pub fn new() -> Scopes {
        Scopes {
            registry: NamespaceRegistry::new(),
            bindings: Vec::new(),
            marks: Vec::new(),
            undeclared: IndexSet::new(),
        }
    }

    /// The document-wide registry: built-ins plus every URI declared so far.
    pub fn registry(&self) -> &NamespaceRegistry {
        &self.registry
    }

    /// Prefixes used without a declaration in scope that are not JCR built-ins.
    pub fn undeclared(&self) -> &IndexSet<String> {
        &self.undeclared
    }

    /// Opens the scope of an element.
    pub fn push(&mut self) {
        self.marks.push(self.bindings.len());
    }

    /// Closes the innermost element scope.
    pub fn pop(&mut self) {
        if let Some(m) = self.marks.pop() {
            self.bindings.truncate(m);
        }
    }

    /// Declares `prefix` (`""` for the default namespace) as `uri` in the
    /// innermost scope.
    pub fn declare(&mut self, prefix: &str, uri: &str) -> Result<(), DeclarationError> {
        let reserved = || DeclarationError::Reserved {
            prefix: prefix.to_string(),
            uri: uri.to_string(),
        };
        if prefix == "xml" {
            return if uri == namespace::XML {
                Ok(())
            } else {
                Err(reserved())
            };
        }
        if prefix == "xmlns" || uri == XMLNS_URI || uri == namespace::XML {
            return Err(reserved());
        }
        if prefix.is_empty() {
            // The default namespace only affects element names.
            self.bindings.push(Binding {
                prefix: String::new(),
                uri: uri.to_string(),
                jcr_prefix: String::new(),
            });
            return Ok(());
        }
        if uri.is_empty() {
            return Err(DeclarationError::EmptyUri(prefix.to_string()));
        }
        let jcr_prefix = match self.registry.prefix(uri) {
            Some(p) => p.to_string(),
            None => self.registry.register(prefix, uri).0,
        };
        self.bindings.push(Binding {
            prefix: prefix.to_string(),
            uri: uri.to_string(),
            jcr_prefix,
        });
        Ok(())
    }

    fn binding(&self, prefix: &str) -> Option<&Binding> {
        self.bindings.iter().rev().find(|b| b.prefix == prefix)
    }

    /// The namespace URI of an XML element or attribute name's prefix (`""` for an
    /// unprefixed element name: the default namespace, if any). `None` when the
    /// prefix is not declared.
    pub fn element_uri(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(namespace::XML);
        }
        match self.binding(prefix) {
            Some(b) => Some(&b.uri),
            None if prefix.is_empty() => Some(""),
            None => None,
        }
    }

    /// The document-wide form of the qualified or expanded JCR name `name`,
    /// checked for validity.
    pub fn qualify(&mut self, name: &str) -> Result<String, NameError> {
        let out = if let Some((uri, local)) = split_expanded(name) {
            if uri.is_empty() {
                local.to_string()
            } else {
                let p = match self.registry.prefix(uri) {
                    Some(p) => p.to_string(),
                    None => self.registry.register("ns", uri).0,
                };
                format!("{p}:{local}")
            }
        } else {
            let (p, local) = name::split(name);
            if p.is_empty() || !name.contains(':') {
                name.to_string()
            } else if let Some(b) = self.binding(p) {
                format!("{}:{local}", b.jcr_prefix)
            } else {
                if !NamespaceRegistry::is_built_in_prefix(p) && name::is_ncname(p) {
                    self.undeclared.insert(p.to_string());
                }
                name.to_string()
            }
        };
        name::validate(&out)?;
        Ok(out)
    }

    /// The document-wide form of a Path value: every name segment qualified, `.`,
    /// `..`, identifiers (`[id]`) and same-name-sibling indexes kept.
    pub fn qualify_path(&mut self, path: &str) -> Result<String, ValueError> {
        let err = |hint| ValueError {
            ptype: PropertyType::Path,
            value: path.to_string(),
            hint: Some(hint),
        };
        if path.starts_with('[') {
            // An identifier-based path: `[id]`, optionally followed by a relative path.
            return match path.find(']') {
                Some(end) if end + 1 == path.len() => Ok(path.to_string()),
                Some(end) if path[end + 1..].starts_with('/') => {
                    let rest = self.qualify_path(&path[end + 2..])?;
                    Ok(format!("{}/{rest}", &path[..=end]))
                }
                _ => Err(err("expected an identifier path like [id] or [id]/rel")),
            };
        }
        let segments = split_path(path);
        let last = segments.len().saturating_sub(1);
        let mut out = String::with_capacity(path.len());
        for (i, seg) in segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            // A leading '/' gives an empty first segment; a trailing '/' an empty last one.
            if seg.is_empty() && (i == 0 || i == last) {
                continue;
            }
            if seg.is_empty() {
                return Err(err("expected a JCR path without empty segments"));
            }
            if *seg == "." || *seg == ".." {
                out.push_str(seg);
                continue;
            }
            let (name_part, index) = match seg.strip_suffix(']').and_then(|t| t.rfind('[')) {
                Some(open) if !seg.starts_with('{') || seg.rfind('}') < Some(open) => {
                    (&seg[..open], &seg[open..])
                }
                _ => (*seg, ""),
            };
            if !index.is_empty()
                && !index[1..index.len() - 1]
                    .parse::<u32>()
                    .is_ok_and(|n| n >= 1)
            {
                return Err(err("expected a same-name-sibling index of 1 or more"));
            }
            let q = self
                .qualify(name_part)
                .map_err(|_| err("expected JCR names between the slashes"))?;
            out.push_str(&q);
            out.push_str(index);
        }
        Ok(out)
    }
}

/// Splits an expanded name `{uri}local` into its URI and local part.
pub fn split_expanded(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix('{')?;
    let end = rest.find('}')?;
    Some((&rest[..end], &rest[end + 1..]))
}

/// Splits a path at its slashes, leaving slashes inside `{uri}` of expanded names.
pub fn split_path(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_uri = false;
    for (i, c) in path.char_indices() {
        match c {
            '{' if i == start => in_uri = true,
            '}' if in_uri => in_uri = false,
            '/' if !in_uri => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&path[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_declared_prefixes_to_one_map() {
        let mut s = Scopes::new();
        s.push();
        s.declare("j", namespace::JCR).unwrap();
        s.declare("my", "urn:a").unwrap();
        assert_eq!(s.qualify("j:title").unwrap(), "jcr:title");
        assert_eq!(s.qualify("my:x").unwrap(), "my:x");
        s.push();
        // The same prefix for another URI, deeper down: renumbered.
        s.declare("my", "urn:b").unwrap();
        assert_eq!(s.qualify("my:x").unwrap(), "my0:x");
        s.pop();
        assert_eq!(s.qualify("my:x").unwrap(), "my:x");
        s.push();
        // Another prefix for a known URI: the URI's first prefix.
        s.declare("other", "urn:a").unwrap();
        assert_eq!(s.qualify("other:y").unwrap(), "my:y");
        s.pop();
        assert_eq!(s.registry().uri("my0"), Some("urn:b"));
        assert!(s.undeclared().is_empty());
    }

    #[test]
    fn keeps_undeclared_prefixes_and_reports_them() {
        let mut s = Scopes::new();
        assert_eq!(s.qualify("mgnl:created").unwrap(), "mgnl:created");
        assert_eq!(s.qualify("jcr:created").unwrap(), "jcr:created");
        assert_eq!(s.qualify("plain").unwrap(), "plain");
        assert_eq!(
            s.undeclared().iter().collect::<Vec<_>>(),
            vec![&"mgnl".to_string()]
        );
    }

    #[test]
    fn default_namespace_does_not_touch_jcr_names() {
        let mut s = Scopes::new();
        s.push();
        s.declare("", "urn:default").unwrap();
        assert_eq!(s.element_uri(""), Some("urn:default"));
        assert_eq!(s.qualify("title").unwrap(), "title");
    }

    #[test]
    fn expanded_names() {
        let mut s = Scopes::new();
        assert_eq!(
            s.qualify("{http://www.jcp.org/jcr/1.0}content").unwrap(),
            "jcr:content"
        );
        assert_eq!(s.qualify("{}plain").unwrap(), "plain");
        assert_eq!(s.qualify("{urn:new}x").unwrap(), "ns:x");
        assert_eq!(s.registry().uri("ns"), Some("urn:new"));
    }

    #[test]
    fn rejects_invalid_names_and_declarations() {
        let mut s = Scopes::new();
        assert!(s.qualify("a/b").is_err());
        assert!(s.qualify("").is_err());
        s.push();
        assert!(s.declare("p", "").is_err());
        assert!(s.declare("xml", "urn:x").is_err());
        assert!(s.declare("xml", namespace::XML).is_ok());
        assert!(s.declare("xmlns", "urn:x").is_err());
    }

    #[test]
    fn qualifies_paths() {
        let mut s = Scopes::new();
        s.push();
        s.declare("j", namespace::JCR).unwrap();
        assert_eq!(
            s.qualify_path("/content/j:content/item[2]").unwrap(),
            "/content/jcr:content/item[2]"
        );
        assert_eq!(s.qualify_path("../a/./j:b").unwrap(), "../a/./jcr:b");
        assert_eq!(s.qualify_path("/").unwrap(), "/");
        assert_eq!(s.qualify_path("[abc-123]").unwrap(), "[abc-123]");
        assert_eq!(s.qualify_path("[abc]/j:x").unwrap(), "[abc]/jcr:x");
        assert_eq!(
            s.qualify_path("/{http://www.jcp.org/jcr/1.0}x/y").unwrap(),
            "/jcr:x/y"
        );
        assert!(s.qualify_path("/a//b").is_err());
        assert!(s.qualify_path("/a[0]").is_err());
        assert!(s.qualify_path("/a*").is_err());
    }
}
