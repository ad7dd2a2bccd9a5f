//! What an exporter writes to `nodetypes.cnd`: the closure of the used types
//! (reference §7.7), in the order FileVault's exporter produces it.

use super::NodeTypeRegistry;
use crate::cnd::builtin;
use crate::cnd::definition::NodeTypeDef;
use crate::cnd::writer::{write_with, WriteError};
use crate::name;
use crate::namespace::NamespaceRegistry;
use indexmap::IndexSet;

/// What an exporter writes to `nodetypes.cnd` for a set of used types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    /// The definitions, in writing order, without FileVault's built-in types.
    pub types: Vec<NodeTypeDef>,
    /// The namespace prefixes the written definitions use, in the order the writer
    /// declares them.
    pub prefixes: Vec<String>,
    /// Requested or referenced names the registry does not know (and so cannot write).
    pub unknown: Vec<String>,
}

impl NodeTypeRegistry {
    /// What an exporter writes to `nodetypes.cnd` (reference §7.7). `used` lists the
    /// primary types and mixins of the exported nodes in the order the exporter meets
    /// them (repeats are fine).
    ///
    /// The result follows FileVault's exporter step by step, so that the same
    /// content gives the same file: FileVault collects the used types in a Java
    /// `HashSet` (each type with all its supertypes, and recursively the default and
    /// required primary types of its child definitions), iterates that set in hash
    /// order (emulated here for Java 8 and later), and writes each type that is not
    /// one of its built-ins ([`builtin::is_export_builtin`]) followed, depth first, by
    /// its supertypes and the default and required types of its child definitions,
    /// each type once.
    pub fn closure<'a>(&self, used: impl IntoIterator<Item = &'a str>) -> Closure {
        let mut set: IndexSet<String> = IndexSet::new();
        for n in used {
            self.collect_used(n, &mut set);
        }
        let mut out = Closure::default();
        let mut written: Vec<String> = Vec::new();
        for n in java_hash_set_order(set.into_iter().collect()) {
            self.closure_visit(&n, &mut written, &mut out);
        }
        for t in &out.types {
            let used = std::iter::once(t.name.as_str())
                .chain(t.supertypes.iter().map(String::as_str))
                .chain(t.primary_item.as_deref())
                .chain(t.properties.iter().map(|p| p.name.as_str()))
                .chain(t.children.iter().flat_map(|c| {
                    std::iter::once(c.name.as_str())
                        .chain(c.required_primary_types.iter().map(String::as_str))
                        .chain(c.default_primary_type.as_deref())
                }));
            for n in used {
                if n.contains(':') {
                    let p = name::prefix(n);
                    if !out.prefixes.iter().any(|x| x == p) {
                        out.prefixes.push(p.to_string());
                    }
                }
            }
        }
        out
    }

    /// Adds `name` to FileVault's set of used types as its aggregate manager does:
    /// the type, all its supertypes, and (recursively) the default and required
    /// primary types of all its child definitions, inherited ones included.
    fn collect_used(&self, name: &str, set: &mut IndexSet<String>) {
        if !set.insert(name.to_string()) {
            return;
        }
        let closure = self.type_closure(name);
        for s in closure.iter().skip(1) {
            set.insert(s.name.clone());
        }
        for t in &closure {
            for c in &t.children {
                if let Some(d) = &c.default_primary_type {
                    self.collect_used(d, set);
                }
                for r in &c.required_primary_types {
                    self.collect_used(r, set);
                }
            }
        }
    }

    fn closure_visit(&self, name: &str, written: &mut Vec<String>, out: &mut Closure) {
        if builtin::is_export_builtin(name) || written.iter().any(|w| w == name) {
            return;
        }
        written.push(name.to_string());
        let Some(t) = self.types.get(name) else {
            out.unknown.push(name.to_string());
            return;
        };
        out.types.push(t.clone());
        for s in &t.supertypes {
            self.closure_visit(s, written, out);
        }
        for c in &t.children {
            if let Some(d) = &c.default_primary_type {
                self.closure_visit(d, written, out);
            }
            for r in &c.required_primary_types {
                self.closure_visit(r, written, out);
            }
        }
    }

    /// The `nodetypes.cnd` text FileVault's exporter writes when the exported nodes
    /// use the types `used`, in the order met ([`Self::closure`], written with the
    /// URIs of `ns`). `"\n"` when no custom type is used.
    pub fn export_cnd<'a>(
        &self,
        used: impl IntoIterator<Item = &'a str>,
        ns: &NamespaceRegistry,
    ) -> Result<String, WriteError> {
        write_with(&self.closure(used).types, ns)
    }
}

/// The iteration order of a Java (8+) `HashSet<String>` filled with `items` in this
/// order: by bucket (`hashCode` spread as `h ^ (h >>> 16)`, masked by the table size
/// the set grew to with load factor 0.75), ties in insertion order. Buckets that
/// Java turns into trees (more than eight colliding names) are not modelled.
pub(crate) fn java_hash_set_order(items: Vec<String>) -> Vec<String> {
    let mut capacity: usize = 16;
    while items.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let bucket = |s: &str| -> usize {
        let h = s.encode_utf16().fold(0u32, |h, unit| {
            h.wrapping_mul(31).wrapping_add(u32::from(unit))
        });
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut keyed: Vec<(usize, String)> = items.into_iter().map(|s| (bucket(&s), s)).collect();
    keyed.sort_by_key(|(b, _)| *b);
    keyed.into_iter().map(|(_, s)| s).collect()
}
