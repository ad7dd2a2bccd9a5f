//! The node type registry: the built-in types plus those packages register, and the
//! questions the importer and exporter ask about them.
//!
//! Registration follows FileVault's node type installer (reference §9.1): types that
//! already exist are never modified, only missing ones are added, all of one batch
//! together (so they may refer to each other in any order) or none of them.

use super::builtin;
use super::definition::{CndFile, NodeTypeDef, NT_BASE};
use super::effective::EffectiveType;
use crate::location::Location;
use crate::name;
use crate::namespace::NamespaceRegistry;
use crate::value::PropertyType;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::fmt;

/// The node types a repository knows.
#[derive(Debug, Clone)]
pub struct NodeTypeRegistry {
    /// By name, hashed with foldhash (randomly seeded: names come from packages),
    /// several times cheaper than SipHash: an install looks types up a few times
    /// a node.
    types: IndexMap<String, NodeTypeDef, foldhash::fast::RandomState>,
    /// Each type's [`type_closure`](Self::type_closure) as indexes into `types`,
    /// worked out when types are registered rather than again for every node that
    /// asks (types are only ever added, so an index stays the type's); `None` for
    /// a closure longer than [`KEPT_CLOSURE`], worked out when asked.
    closures: Vec<Option<Box<[usize]>>>,
}

/// The longest closure kept from registration. Real types have a handful of
/// supertypes; a package's chain of thousands would otherwise keep memory
/// quadratic in its length (and take as long to work out), so such closures are
/// worked out when asked, as they always were.
const KEPT_CLOSURE: usize = 64;

impl PartialEq for NodeTypeRegistry {
    /// The same types (the closures follow from them).
    fn eq(&self, other: &Self) -> bool {
        self.types == other.types
    }
}

impl Default for NodeTypeRegistry {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`NodeTypeRegistry::register`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterReport {
    /// The types added, in batch order.
    pub added: Vec<String>,
    /// The types left alone because the registry already had them.
    pub skipped: Vec<String>,
    /// Those of `skipped` whose existing definition differs from the one offered
    /// (worth a warning: the package expects a different definition).
    pub skipped_different: Vec<String>,
    /// Types defined more than once in the batch; the last definition was used.
    pub duplicates: Vec<String>,
}

/// One reason a batch of definitions was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterProblem {
    /// A supertype that is neither registered nor in the batch.
    UnknownSupertype {
        /// The type declaring it.
        type_name: String,
        /// The missing supertype.
        supertype: String,
        /// Where the type's definition starts, when it came from a CND file.
        location: Option<Location>,
    },
    /// Types that inherit from themselves, through the listed chain.
    CyclicInheritance {
        /// The cycle, first type repeated at the end (`a > b > a`).
        cycle: Vec<String>,
    },
    /// A name that is not a valid JCR name (definitions built in code).
    InvalidName {
        /// The type containing it.
        type_name: String,
        /// The name.
        name: String,
    },
    /// A CND name whose prefix neither the CND nor the repository maps.
    UnknownPrefix {
        /// The type containing it.
        type_name: String,
        /// The name.
        name: String,
        /// Its prefix.
        prefix: String,
        /// Where the type's definition starts.
        location: Option<Location>,
    },
}

impl fmt::Display for RegisterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterProblem::UnknownSupertype {
                type_name,
                supertype,
                location,
            } => {
                if let Some(l) = location {
                    write!(f, "{l}: ")?;
                }
                write!(
                    f,
                    "{type_name}: supertype {supertype} is not registered and not defined with it"
                )
            }
            RegisterProblem::CyclicInheritance { cycle } => {
                write!(f, "cyclic inheritance: {}", cycle.join(" > "))
            }
            RegisterProblem::InvalidName { type_name, name } => {
                write!(f, "{type_name}: '{name}' is not a valid JCR name")
            }
            RegisterProblem::UnknownPrefix {
                type_name,
                name,
                prefix,
                location,
            } => {
                if let Some(l) = location {
                    write!(f, "{l}: ")?;
                }
                write!(
                    f,
                    "{type_name}: '{name}' uses the prefix '{prefix}', which the CND does not \
                     declare and the repository does not know"
                )
            }
        }
    }
}

/// A batch of definitions the registry refused; nothing of it was registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node types not registered: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct RegisterError {
    /// Every problem found.
    pub problems: Vec<RegisterProblem>,
}

impl NodeTypeRegistry {
    /// A registry with the built-in types ([`builtin::definitions`]).
    pub fn new() -> NodeTypeRegistry {
        NodeTypeRegistry::with_types(
            builtin::definitions()
                .iter()
                .map(|t| (t.name.clone(), t.clone()))
                .collect(),
        )
    }

    /// A registry with no types at all (not even `nt:base`).
    pub fn empty() -> NodeTypeRegistry {
        NodeTypeRegistry::with_types(IndexMap::default())
    }

    fn with_types(types: IndexMap<String, NodeTypeDef, foldhash::fast::RandomState>) -> Self {
        let mut r = NodeTypeRegistry {
            types,
            closures: Vec::new(),
        };
        r.close();
        r
    }

    /// Works out every type's closure again (after types were added: a primary
    /// type registered before `nt:base` gains it once `nt:base` comes).
    fn close(&mut self) {
        self.closures = (0..self.types.len())
            .map(|i| {
                let mut out = Vec::new();
                self.closure_into(i, &mut out, KEPT_CLOSURE)
                    .then(|| out.into_boxed_slice())
            })
            .collect();
    }

    /// The definition of `name`.
    pub fn get(&self, name: &str) -> Option<&NodeTypeDef> {
        self.types.get(name)
    }

    /// Whether `name` is registered.
    pub fn is_known(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    /// Every registered type, built-ins first, then in registration order.
    pub fn types(&self) -> impl Iterator<Item = &NodeTypeDef> {
        self.types.values()
    }

    /// The types registered after the built-ins, in registration order: what a
    /// repository has to persist (for example as CND with
    /// [`write_with`](crate::cnd::write_with)) and register again when it reopens.
    pub fn custom_types(&self) -> impl Iterator<Item = &NodeTypeDef> {
        self.types
            .values()
            .filter(|t| !builtin::definitions().iter().any(|b| b.name == t.name))
    }

    /// Number of registered types.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether no type is registered.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// Registers the types of `defs` the registry does not have yet. Existing types
    /// are never changed (they are reported as skipped). The new types may refer to
    /// each other in any order; a new type whose supertypes are unknown, or that
    /// inherits from itself, fails the whole batch and nothing is registered.
    pub fn register(
        &mut self,
        defs: impl IntoIterator<Item = NodeTypeDef>,
    ) -> Result<RegisterReport, RegisterError> {
        let mut report = RegisterReport::default();
        let mut batch: IndexMap<String, NodeTypeDef> = IndexMap::new();
        for mut d in defs {
            d.normalize();
            if batch.contains_key(&d.name) && !report.duplicates.contains(&d.name) {
                report.duplicates.push(d.name.clone());
            }
            batch.insert(d.name.clone(), d);
        }
        let mut new: IndexMap<String, NodeTypeDef> = IndexMap::new();
        for (name, d) in batch {
            match self.types.get(&name) {
                Some(existing) => {
                    if *existing != d {
                        report.skipped_different.push(name.clone());
                    }
                    report.skipped.push(name);
                }
                None => {
                    new.insert(name, d);
                }
            }
        }
        let mut problems = Vec::new();
        for d in new.values() {
            for n in std::iter::once(&d.name)
                .chain(&d.supertypes)
                .chain(d.primary_item.iter())
            {
                if name::validate(n).is_err() {
                    problems.push(RegisterProblem::InvalidName {
                        type_name: d.name.clone(),
                        name: n.clone(),
                    });
                }
            }
            for s in &d.supertypes {
                if !self.types.contains_key(s) && !new.contains_key(s) {
                    problems.push(RegisterProblem::UnknownSupertype {
                        type_name: d.name.clone(),
                        supertype: s.clone(),
                        location: None,
                    });
                }
            }
        }
        problems.extend(find_cycles(&new));
        if !problems.is_empty() {
            return Err(RegisterError { problems });
        }
        for (name, d) in new {
            report.added.push(name.clone());
            self.types.insert(name, d);
        }
        if !report.added.is_empty() {
            self.close();
        }
        Ok(report)
    }

    /// Registers the namespaces and types of a parsed CND file, as FileVault installs
    /// a package's `nodetypes.cnd`: each namespace URI is registered in `ns` (a known
    /// URI keeps its repository prefix; a new one gets the CND's prefix, numbered if
    /// taken, reference §3.11), every name is rewritten to the repository's prefix
    /// (including NAME and PATH default values and constraints, and the type names in
    /// REFERENCE constraints), then the types are [registered](Self::register).
    /// A name whose prefix neither the CND nor `ns` maps fails the batch.
    pub fn register_cnd(
        &mut self,
        cnd: &CndFile,
        ns: &mut NamespaceRegistry,
    ) -> Result<RegisterReport, RegisterError> {
        let mut prefix_map: HashMap<&str, String> = HashMap::new();
        for (p, uri) in &cnd.namespaces {
            if p.is_empty() {
                continue;
            }
            let (repo_prefix, _) = ns.register(p, uri);
            prefix_map.insert(p.as_str(), repo_prefix);
        }
        let ns: &NamespaceRegistry = ns;
        let mut problems = Vec::new();
        let mut defs = Vec::with_capacity(cnd.types.len());
        for (i, t) in cnd.types.iter().enumerate() {
            let mut rm = Remapper {
                prefix_map: &prefix_map,
                ns,
                type_name: &t.name,
                location: cnd.locations.get(i),
                problems: &mut problems,
            };
            defs.push(rm.definition(t));
        }
        if !problems.is_empty() {
            return Err(RegisterError { problems });
        }
        let locations: HashMap<String, Location> = defs
            .iter()
            .zip(&cnd.locations)
            .map(|(d, l)| (d.name.clone(), l.clone()))
            .collect();
        self.register(defs).map_err(|mut e| {
            for p in &mut e.problems {
                if let RegisterProblem::UnknownSupertype {
                    type_name,
                    location,
                    ..
                } = p
                {
                    *location = locations.get(type_name.as_str()).cloned();
                }
            }
            e
        })
    }

    /// The type `name` followed by all its supertypes, depth first in declaration
    /// order, each once; `nt:base` comes after the supertypes of a primary type.
    /// Unknown names contribute nothing.
    pub fn type_closure(&self, name: &str) -> Vec<&NodeTypeDef> {
        self.closure_of(name).collect()
    }

    /// [`type_closure`](Self::type_closure) without collecting it.
    pub(crate) fn closure_of<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = &'a NodeTypeDef> + 'a {
        let closure: std::borrow::Cow<'a, [usize]> = match self.types.get_index_of(name) {
            None => std::borrow::Cow::Borrowed(&[]),
            Some(i) => match self.closures.get(i) {
                Some(Some(kept)) => std::borrow::Cow::Borrowed(kept),
                _ => {
                    let mut out = Vec::new();
                    self.closure_into(i, &mut out, usize::MAX);
                    std::borrow::Cow::Owned(out)
                }
            },
        };
        (0..closure.len()).filter_map(move |k| {
            let i = *closure.get(k)?;
            self.types.get_index(i).map(|(_, t)| t)
        })
    }

    /// Adds the closure of the type at index `i` to `out`, depth first, each type
    /// once; false (and `out` cut short) when it would hold more than `limit`.
    fn closure_into(&self, i: usize, out: &mut Vec<usize>, limit: usize) -> bool {
        let Some((_, t)) = self.types.get_index(i) else {
            return true;
        };
        if out.contains(&i) {
            return true;
        }
        if out.len() >= limit {
            return false;
        }
        out.push(i);
        for s in &t.supertypes {
            if let Some(s) = self.types.get_index_of(s.as_str()) {
                if !self.closure_into(s, out, limit) {
                    return false;
                }
            }
        }
        if !t.mixin && t.name != NT_BASE {
            if let Some(base) = self.types.get_index_of(NT_BASE) {
                return self.closure_into(base, out, limit);
            }
        }
        true
    }

    /// Whether `type_name` is `of` or a subtype of it (through supertypes, including
    /// the implicit `nt:base` of primary types). False when `type_name` is unknown,
    /// unless the names are equal.
    pub fn is_node_type(&self, type_name: &str, of: &str) -> bool {
        type_name == of || self.closure_of(type_name).any(|t| t.name == of)
    }

    /// The effective type of a node with primary type `primary` and `mixins`.
    pub fn effective<I, S>(&self, primary: &str, mixins: I) -> EffectiveType<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        EffectiveType::new(self, primary, mixins)
    }

    /// The default primary type of a child `child` of a node with the given types,
    /// when it is created without a type ([`EffectiveType::default_child_type`]).
    pub fn default_child_type<I, S>(&self, primary: &str, mixins: I, child: &str) -> Option<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.effective(primary, mixins)
            .default_child_type(child)
            .map(str::to_string)
    }

    /// The primary type FileVault gives a missing intermediate node `child` below a
    /// node with the given types (reference §3.6): the parent's default child type,
    /// unless there is none or it is `nt:base` or `nt:hierarchyNode`; then `nt:folder`.
    pub fn intermediate_node_type<I, S>(&self, primary: &str, mixins: I, child: &str) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        match self.default_child_type(primary, mixins, child) {
            Some(t) if t != NT_BASE && t != "nt:hierarchyNode" => t,
            _ => "nt:folder".to_string(),
        }
    }

    /// Whether nodes of primary type `name` have orderable children: the type or one
    /// of its supertypes declares `orderable`. `None` for unknown types (the caller
    /// decides; FileVault never meets them).
    pub fn is_orderable(&self, name: &str) -> Option<bool> {
        if !self.is_known(name) {
            return None;
        }
        Some(self.closure_of(name).any(|t| t.orderable))
    }

    /// Whether FileVault's importer drops property `name` (values of type `ptype`,
    /// `Undefined` for untyped DocView values) on a node with the given types because
    /// it is protected ([`EffectiveType::is_protected_property`]).
    pub fn is_protected_property<I, S>(
        &self,
        primary: &str,
        mixins: I,
        name: &str,
        ptype: PropertyType,
        multiple: bool,
    ) -> bool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.effective(primary, mixins)
            .is_protected_property(name, ptype, multiple)
    }
}

/// Finds inheritance cycles among `new` (existing types cannot be part of one).
fn find_cycles(new: &IndexMap<String, NodeTypeDef>) -> Vec<RegisterProblem> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        Active,
        Done,
    }
    fn visit(
        name: &str,
        new: &IndexMap<String, NodeTypeDef>,
        marks: &mut HashMap<String, Mark>,
        stack: &mut Vec<String>,
        out: &mut Vec<RegisterProblem>,
    ) {
        let Some(d) = new.get(name) else {
            return;
        };
        match marks.get(name).copied().unwrap_or(Mark::Unvisited) {
            Mark::Done => return,
            Mark::Active => {
                let start = stack.iter().position(|s| s == name).unwrap_or(0);
                let mut cycle: Vec<String> = stack.get(start..).unwrap_or_default().to_vec();
                cycle.push(name.to_string());
                out.push(RegisterProblem::CyclicInheritance { cycle });
                return;
            }
            Mark::Unvisited => {}
        }
        marks.insert(name.to_string(), Mark::Active);
        stack.push(name.to_string());
        for s in &d.supertypes {
            visit(s, new, marks, stack, out);
        }
        stack.pop();
        marks.insert(name.to_string(), Mark::Done);
    }
    let mut marks = HashMap::new();
    let mut out = Vec::new();
    for name in new.keys() {
        let mut stack = Vec::new();
        visit(name, new, &mut marks, &mut stack, &mut out);
    }
    out
}

mod closure;
mod remap;

pub use closure::Closure;
use remap::Remapper;

#[cfg(test)]
mod tests;
