//! Namespace prefixes and URIs.
//!
//! JCR names are written `prefix:local`; the prefix stands for a namespace URI. A
//! repository has a registry of prefix/URI pairs; a document (DocView, CND) declares
//! its own mappings, which may use other prefixes for the same URIs. Only the JCR
//! built-ins are known from the start: `sling`, `cq`, `vlt`, `mgnl` and the rest come
//! from the packages that use them.

use indexmap::IndexMap;

/// The JCR namespace (`jcr:`).
pub const JCR: &str = "http://www.jcp.org/jcr/1.0";
/// The node type namespace (`nt:`).
pub const NT: &str = "http://www.jcp.org/jcr/nt/1.0";
/// The mixin namespace (`mix:`).
pub const MIX: &str = "http://www.jcp.org/jcr/mix/1.0";
/// The system view namespace (`sv:`).
pub const SV: &str = "http://www.jcp.org/jcr/sv/1.0";
/// The XML namespace (`xml:`), reserved.
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
/// Jackrabbit's internal namespace (`rep:`), whose URI is literally `internal`.
pub const REP: &str = "internal";
/// Oak's namespace (`oak:`).
pub const OAK: &str = "http://jackrabbit.apache.org/oak/ns/1.0";
/// FileVault's own namespace (`vlt:`); not built in, but FileVault's packages use it.
pub const VLT: &str = "http://www.day.com/jcr/vault/1.0";

/// The namespaces every repository knows, prefix first.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("", ""),
    ("jcr", JCR),
    ("nt", NT),
    ("mix", MIX),
    ("sv", SV),
    ("xml", XML),
    ("rep", REP),
    ("oak", OAK),
];

/// A two-way mapping between prefixes and URIs, in registration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRegistry {
    by_prefix: IndexMap<String, String>,
    by_uri: IndexMap<String, String>,
}

impl Default for NamespaceRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl NamespaceRegistry {
    /// A registry with the JCR built-ins only.
    pub fn new() -> NamespaceRegistry {
        let mut r = NamespaceRegistry::empty();
        for (p, u) in BUILT_IN {
            r.by_prefix.insert(p.to_string(), u.to_string());
            r.by_uri.insert(u.to_string(), p.to_string());
        }
        r
    }

    /// A registry with no mappings at all, not even the built-ins.
    pub fn empty() -> NamespaceRegistry {
        NamespaceRegistry {
            by_prefix: IndexMap::new(),
            by_uri: IndexMap::new(),
        }
    }

    /// The URI of `prefix`, if registered.
    pub fn uri(&self, prefix: &str) -> Option<&str> {
        self.by_prefix.get(prefix).map(String::as_str)
    }

    /// The prefix of `uri`, if registered.
    pub fn prefix(&self, uri: &str) -> Option<&str> {
        self.by_uri.get(uri).map(String::as_str)
    }

    /// Whether `prefix` is one of JCR's built-in prefixes.
    pub fn is_built_in_prefix(prefix: &str) -> bool {
        BUILT_IN.iter().any(|(p, _)| *p == prefix)
    }

    /// Sets `prefix` to `uri`, replacing whatever either was mapped to before.
    /// This is a document's scoped declaration, not a repository registration:
    /// use [`NamespaceRegistry::register`] for that.
    pub fn set(&mut self, prefix: &str, uri: &str) {
        if let Some(old_uri) = self.by_prefix.insert(prefix.to_string(), uri.to_string()) {
            if old_uri != uri && self.by_uri.get(&old_uri).map(String::as_str) == Some(prefix) {
                self.by_uri.shift_remove(&old_uri);
            }
        }
        if let Some(old_prefix) = self.by_uri.insert(uri.to_string(), prefix.to_string()) {
            if old_prefix != prefix
                && self.by_prefix.get(&old_prefix).map(String::as_str) == Some(uri)
            {
                self.by_prefix.shift_remove(&old_prefix);
            }
        }
    }

    /// Registers `uri` the way FileVault's importer does (reference §3.11): a URI
    /// already known keeps its prefix; a new URI gets `wanted`, or `wanted0`,
    /// `wanted1`, ... when `wanted` is taken. Returns the prefix the URI has now and
    /// whether it was newly registered.
    pub fn register(&mut self, wanted: &str, uri: &str) -> (String, bool) {
        if let Some(p) = self.by_uri.get(uri) {
            return (p.clone(), false);
        }
        let mut prefix = wanted.to_string();
        let mut n = 0;
        while self.by_prefix.contains_key(&prefix) {
            prefix = format!("{wanted}{n}");
            n += 1;
        }
        self.by_prefix.insert(prefix.clone(), uri.to_string());
        self.by_uri.insert(uri.to_string(), prefix.clone());
        (prefix, true)
    }

    /// Every (prefix, URI) pair in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_prefix.iter().map(|(p, u)| (p.as_str(), u.as_str()))
    }

    /// Number of mappings.
    pub fn len(&self) -> usize {
        self.by_prefix.len()
    }

    /// Whether there are no mappings.
    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_are_known_and_vendor_prefixes_are_not() {
        let r = NamespaceRegistry::new();
        assert_eq!(r.uri("jcr"), Some(JCR));
        assert_eq!(r.prefix(REP), Some("rep"));
        assert_eq!(r.uri("sling"), None);
        assert_eq!(r.uri("cq"), None);
        assert_eq!(r.uri("vlt"), None);
    }

    #[test]
    fn register_keeps_known_uris_and_numbers_taken_prefixes() {
        let mut r = NamespaceRegistry::new();
        assert_eq!(r.register("foo", "urn:a"), ("foo".into(), true));
        assert_eq!(r.register("bar", "urn:a"), ("foo".into(), false));
        assert_eq!(r.register("foo", "urn:b"), ("foo0".into(), true));
        assert_eq!(r.register("foo", "urn:c"), ("foo1".into(), true));
    }

    #[test]
    fn set_replaces_both_directions() {
        let mut r = NamespaceRegistry::new();
        r.set("a", "urn:1");
        r.set("a", "urn:2");
        assert_eq!(r.uri("a"), Some("urn:2"));
        assert_eq!(r.prefix("urn:1"), None);
        assert_eq!(r.prefix("urn:2"), Some("a"));
    }
}
