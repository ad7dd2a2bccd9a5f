//! What the restored content needs registered: the namespaces of its names and the
//! node types of its nodes (with the types those refer to).

use super::engine::Target;
use super::error::Result;
use crate::cnd;
use crate::repository::{NodeInfo, RepositoryError, StoreRead};
use crate::value::{Property, Value};
use std::collections::BTreeSet;

/// Prefixes and node types seen on the nodes a restore writes.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    prefixes: BTreeSet<String>,
    types: BTreeSet<String>,
}

impl Needs {
    fn name(&mut self, name: &str) {
        if let Some((prefix, _)) = name.split_once(':') {
            if !prefix.is_empty() && !prefix.starts_with('{') && !self.prefixes.contains(prefix) {
                self.prefixes.insert(prefix.to_string());
            }
        }
    }

    /// A node written: its name and types.
    pub fn node(&mut self, n: &NodeInfo) {
        self.name(&n.name);
        for t in std::iter::once(&n.primary_type).chain(&n.mixins) {
            self.name(t);
            if !self.types.contains(t) {
                self.types.insert(t.clone());
            }
        }
    }

    /// A property written: its name and its name and path values.
    pub fn property(&mut self, p: &Property) {
        self.name(&p.name);
        for v in &p.values {
            match v {
                Value::Name(n) => self.name(n),
                Value::Path(x) => {
                    for s in x.split('/') {
                        self.name(s);
                    }
                }
                _ => {}
            }
        }
    }

    /// Registers in `target` what the content needs and the backup has but the
    /// repository lacks; a read-only target only says what that would be.
    /// Returns (`prefix=uri` registered, node types registered).
    pub fn register(
        mut self,
        source: &dyn StoreRead,
        target: &mut Target<'_>,
    ) -> Result<(Vec<String>, Vec<String>)> {
        // Node types first: their definitions name more types and prefixes.
        let mut types_done = Vec::new();
        let mut queue: Vec<String> = self.types.iter().cloned().collect();
        let mut seen: BTreeSet<String> = self.types.clone();
        while let Some(t) = queue.pop() {
            if target.r().node_type(&t)?.is_some() {
                continue;
            }
            let Some(text) = source.node_type(&t)? else {
                continue;
            };
            if let Ok(file) = cnd::parse(&text, &t) {
                for def in &file.types {
                    for r in def.referenced_types() {
                        if seen.insert(r.to_string()) {
                            queue.push(r.to_string());
                        }
                    }
                }
                for (prefix, _) in &file.namespaces {
                    self.prefixes.insert(prefix.clone());
                }
            }
            self.name(&t);
            if let Some(w) = target.w() {
                w.register_node_type(&t, &text)?;
            }
            types_done.push(t);
        }
        types_done.sort();
        let src_ns = source.namespaces()?;
        let tgt_ns = target.r().namespaces()?;
        let mut ns_done = Vec::new();
        for prefix in &self.prefixes {
            let Some(uri) = src_ns.uri(prefix) else {
                continue;
            };
            match tgt_ns.uri(prefix) {
                Some(u) if u == uri => continue,
                Some(u) => {
                    return Err(RepositoryError::NamespaceConflict {
                        prefix: prefix.clone(),
                        uri: uri.to_string(),
                        reason: format!("the repository maps '{prefix}' to {u}"),
                    }
                    .into())
                }
                None => {}
            }
            if let Some(other) = tgt_ns.prefix(uri) {
                return Err(RepositoryError::NamespaceConflict {
                    prefix: prefix.clone(),
                    uri: uri.to_string(),
                    reason: format!("the repository has {uri} as '{other}'"),
                }
                .into());
            }
            if let Some(w) = target.w() {
                w.register_namespace(prefix, uri)?;
            }
            ns_done.push(format!("{prefix}={uri}"));
        }
        Ok((ns_done, types_done))
    }
}
