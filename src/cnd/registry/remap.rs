//! Rewriting the names of a CND file from its own prefixes to the repository's.

use super::RegisterProblem;
use crate::cnd::definition::NodeTypeDef;
use crate::location::Location;
use crate::name;
use crate::namespace::NamespaceRegistry;
use crate::value::PropertyType;
use std::collections::HashMap;

/// Rewrites the names of one CND definition to repository prefixes.
pub(super) struct Remapper<'a> {
    /// CND prefix to repository prefix, for the prefixes the CND declares.
    pub prefix_map: &'a HashMap<&'a str, String>,
    /// The repository's mappings, for prefixes the CND uses without declaring.
    pub ns: &'a NamespaceRegistry,
    /// The type being rewritten (for problem reports).
    pub type_name: &'a str,
    /// Where its definition starts.
    pub location: Option<&'a Location>,
    /// Where unmapped prefixes are reported.
    pub problems: &'a mut Vec<RegisterProblem>,
}

impl Remapper<'_> {
    /// The repository form of `n`, or `None` when its prefix is unmapped.
    fn try_name(&self, n: &str) -> Option<String> {
        if !n.contains(':') {
            return Some(n.to_string());
        }
        let (p, l) = name::split(n);
        if let Some(rp) = self.prefix_map.get(p) {
            return Some(if rp.is_empty() {
                l.to_string()
            } else {
                format!("{rp}:{l}")
            });
        }
        self.ns.uri(p).map(|_| n.to_string())
    }

    /// The repository form of `n`; an unmapped prefix is recorded as a problem.
    fn name(&mut self, n: &str) -> String {
        match self.try_name(n) {
            Some(m) => m,
            None => {
                self.problems.push(RegisterProblem::UnknownPrefix {
                    type_name: self.type_name.to_string(),
                    name: n.to_string(),
                    prefix: name::prefix(n).to_string(),
                    location: self.location.cloned(),
                });
                n.to_string()
            }
        }
    }

    /// A path with each segment's name remapped (unmappable segments stay as they are).
    fn path(&self, p: &str) -> String {
        p.split('/')
            .map(|seg| {
                let (n, idx) = match seg.find('[') {
                    Some(i) => seg.split_at(i),
                    None => (seg, ""),
                };
                if n.is_empty() || n == "." || n == ".." || n == "*" {
                    return seg.to_string();
                }
                format!("{}{idx}", self.try_name(n).unwrap_or_else(|| n.to_string()))
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A NAME, PATH or REFERENCE value/constraint remapped when its type says it
    /// holds names.
    fn value(&self, ptype: PropertyType, v: &str, constraint: bool) -> String {
        match ptype {
            PropertyType::Name => self.try_name(v).unwrap_or_else(|| v.to_string()),
            PropertyType::Path => self.path(v),
            PropertyType::Reference | PropertyType::WeakReference if constraint => {
                self.try_name(v).unwrap_or_else(|| v.to_string())
            }
            _ => v.to_string(),
        }
    }

    pub(super) fn definition(&mut self, t: &NodeTypeDef) -> NodeTypeDef {
        let mut d = t.clone();
        d.name = self.name(&t.name);
        d.supertypes = t.supertypes.iter().map(|s| self.name(s)).collect();
        d.primary_item = t.primary_item.as_deref().map(|p| self.name(p));
        for p in &mut d.properties {
            p.name = self.name(&p.name);
            let ty = p.required_type;
            p.default_values = p
                .default_values
                .iter()
                .map(|v| self.value(ty, v, false))
                .collect();
            p.value_constraints = p
                .value_constraints
                .iter()
                .map(|v| self.value(ty, v, true))
                .collect();
        }
        for c in &mut d.children {
            c.name = self.name(&c.name);
            c.required_primary_types = c
                .required_primary_types
                .iter()
                .map(|r| self.name(r))
                .collect();
            c.default_primary_type = c.default_primary_type.as_deref().map(|x| self.name(x));
        }
        d
    }
}
