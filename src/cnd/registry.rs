//! The node type registry: the built-in types plus those packages register, and the
//! questions the importer and exporter ask about them.
//!
//! Registration follows FileVault's node type installer (reference §9.1): types that
//! already exist are never modified, only missing ones are added, all of one batch
//! together (so they may refer to each other in any order) or none of them.

use super::builtin;
use super::definition::{CndFile, NodeTypeDef, NT_BASE};
use super::effective::EffectiveType;
use super::writer::{write_with, WriteError};
use crate::location::Location;
use crate::name;
use crate::namespace::NamespaceRegistry;
use crate::value::PropertyType;
use indexmap::{IndexMap, IndexSet};
use std::collections::HashMap;
use std::fmt;

/// The node types a repository knows.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTypeRegistry {
    types: IndexMap<String, NodeTypeDef>,
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
            } => write!(
                f,
                "{type_name}: supertype {supertype} is not registered and not defined with it"
            ),
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
    /// A registry with the built-in types ([`builtin::definitions`]).
    pub fn new() -> NodeTypeRegistry {
        NodeTypeRegistry {
            types: builtin::definitions()
                .iter()
                .map(|t| (t.name.clone(), t.clone()))
                .collect(),
        }
    }

    /// A registry with no types at all (not even `nt:base`).
    pub fn empty() -> NodeTypeRegistry {
        NodeTypeRegistry {
            types: IndexMap::new(),
        }
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
        self.register(defs)
    }

    /// The type `name` followed by all its supertypes, depth first in declaration
    /// order, each once; `nt:base` comes after the supertypes of a primary type.
    /// Unknown names contribute nothing.
    pub fn type_closure(&self, name: &str) -> Vec<&NodeTypeDef> {
        let mut out = Vec::new();
        self.closure_into(name, &mut out);
        out
    }

    fn closure_into<'a>(&'a self, name: &str, out: &mut Vec<&'a NodeTypeDef>) {
        let Some(t) = self.types.get(name) else {
            return;
        };
        if out.iter().any(|x| x.name == t.name) {
            return;
        }
        out.push(t);
        for s in &t.supertypes {
            self.closure_into(s, out);
        }
        if !t.mixin && t.name != NT_BASE {
            self.closure_into(NT_BASE, out);
        }
    }

    /// Whether `type_name` is `of` or a subtype of it (through supertypes, including
    /// the implicit `nt:base` of primary types). False when `type_name` is unknown,
    /// unless the names are equal.
    pub fn is_node_type(&self, type_name: &str, of: &str) -> bool {
        type_name == of || self.type_closure(type_name).iter().any(|t| t.name == of)
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
        Some(self.type_closure(name).iter().any(|t| t.orderable))
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

/// Rewrites the names of one CND definition to repository prefixes.
struct Remapper<'a> {
    prefix_map: &'a HashMap<&'a str, String>,
    ns: &'a NamespaceRegistry,
    type_name: &'a str,
    location: Option<&'a Location>,
    problems: &'a mut Vec<RegisterProblem>,
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

    fn definition(&mut self, t: &NodeTypeDef) -> NodeTypeDef {
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

#[cfg(test)]
mod tests;
