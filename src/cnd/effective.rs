//! The effective node type of a node: its primary type and mixins with all their
//! supertypes, and the item definitions that apply to its properties and children.
//!
//! Definitions are searched the way Oak does and FileVault's `EffectiveNodeType`
//! replicates (JCR 2.0 §3.7.7 leaves the order to implementations):
//! 1. the primary type, then each mixin, in node order; each followed by its
//!    supertypes, depth first in declaration order (`nt:base` last for primary types);
//!    a type reached twice counts once;
//! 2. all named definitions (of every type) before any residual (`*`) one;
//! 3. the first definition that matches wins, even if a later one matches a more
//!    specific type.

use super::definition::{ChildNodeDef, NodeTypeDef, PropertyDef, NT_BASE, RESIDUAL};
use super::registry::NodeTypeRegistry;
use crate::value::PropertyType;
use std::ops::Deref;

/// An item definition together with the type that declares it.
#[derive(Debug, PartialEq, Eq)]
pub struct Declared<'r, T> {
    /// The name of the node type that declares the definition.
    pub declaring_type: &'r str,
    /// The definition.
    pub def: &'r T,
}

impl<T> Clone for Declared<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Declared<'_, T> {}

impl<T> Deref for Declared<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.def
    }
}

/// The effective node type of a primary type plus mixins, as known to a registry.
/// Names the registry does not know are listed in [`EffectiveType::unknown`] and
/// contribute no definitions.
#[derive(Debug, Clone)]
pub struct EffectiveType<'r> {
    registry: &'r NodeTypeRegistry,
    types: Vec<&'r NodeTypeDef>,
    unknown: Vec<String>,
}

/// Whether a property definition's type accepts a value of type `ptype`.
fn type_matches(def: &PropertyDef, ptype: PropertyType) -> bool {
    ptype == PropertyType::Undefined
        || def.required_type == PropertyType::Undefined
        || def.required_type == ptype
}

impl<'r> EffectiveType<'r> {
    pub(crate) fn new<I, S>(registry: &'r NodeTypeRegistry, primary: &str, mixins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut e = EffectiveType {
            registry,
            // Room for a usual node's types without growing (a type, its supertypes,
            // a mixin or two).
            types: Vec::with_capacity(8),
            unknown: Vec::new(),
        };
        e.add(primary);
        for m in mixins {
            e.add(m.as_ref());
        }
        e
    }

    fn add(&mut self, name: &str) {
        let mut closure = self.registry.closure_of(name).peekable();
        if closure.peek().is_none() {
            if !self.unknown.iter().any(|u| u == name) {
                self.unknown.push(name.to_string());
            }
            return;
        }
        for t in closure {
            // One registry's definitions: the same type is the same definition.
            if !self.types.iter().any(|x| std::ptr::eq(*x, t)) {
                self.types.push(t);
            }
        }
    }

    /// The type names that are not registered (in node order). Lookups ignore them:
    /// callers record them and carry on, since content with undeclared types must
    /// still install.
    pub fn unknown(&self) -> &[String] {
        &self.unknown
    }

    /// Whether every type is known, so that the lookups give the full answer.
    pub fn is_complete(&self) -> bool {
        self.unknown.is_empty()
    }

    /// The known types in search order (node types first, then their supertypes).
    pub fn types(&self) -> impl Iterator<Item = &'r NodeTypeDef> + '_ {
        self.types.iter().copied()
    }

    /// Every property definition in search order.
    pub fn property_definitions(&self) -> impl Iterator<Item = Declared<'r, PropertyDef>> + '_ {
        self.types.iter().flat_map(|t| {
            t.properties.iter().map(move |def| Declared {
                declaring_type: t.name.as_str(),
                def,
            })
        })
    }

    /// Every child node definition in search order.
    pub fn child_definitions(&self) -> impl Iterator<Item = Declared<'r, ChildNodeDef>> + '_ {
        self.types.iter().flat_map(|t| {
            t.children.iter().map(move |def| Declared {
                declaring_type: t.name.as_str(),
                def,
            })
        })
    }

    fn find_property(
        &self,
        name: &str,
        pred: impl Fn(&PropertyDef) -> bool,
    ) -> Option<Declared<'r, PropertyDef>> {
        self.property_definitions()
            .find(|d| d.name == name && pred(d))
            .or_else(|| {
                self.property_definitions()
                    .find(|d| d.name == RESIDUAL && pred(d))
            })
    }

    fn find_child(
        &self,
        name: &str,
        pred: impl Fn(&ChildNodeDef) -> bool,
    ) -> Option<Declared<'r, ChildNodeDef>> {
        self.child_definitions()
            .find(|d| d.name == name && pred(d))
            .or_else(|| {
                self.child_definitions()
                    .find(|d| d.name == RESIDUAL && pred(d))
            })
    }

    /// The definition Oak applies to property `name`, single- or multi-valued,
    /// holding values of type `ptype`: the first named, else the first residual
    /// definition with the same multiplicity whose required type is `ptype` or
    /// `Undefined`. Pass `Undefined` for untyped values (DocView values without a
    /// `{Type}` hint, which FileVault sets as plain strings): Oak then matches by
    /// name and multiplicity alone and converts the values to the definition's type.
    pub fn property_definition(
        &self,
        name: &str,
        ptype: PropertyType,
        multiple: bool,
    ) -> Option<Declared<'r, PropertyDef>> {
        self.find_property(name, |d| d.multiple == multiple && type_matches(d, ptype))
    }

    /// Whether FileVault's importer treats property `name` as protected and drops it
    /// (reference §3.4): the first definition (named before residual) whose type
    /// matches and that allows the multiplicity — a multi-valued definition also
    /// covers single values, as in FileVault's `EffectiveNodeType`. No definition
    /// means not protected.
    pub fn is_protected_property(&self, name: &str, ptype: PropertyType, multiple: bool) -> bool {
        self.find_property(name, |d| {
            (!multiple || d.multiple) && type_matches(d, ptype)
        })
        .is_some_and(|d| d.protected)
    }

    /// The definition for a child `name` whose primary type is `child_type`: the first
    /// named, else the first residual definition whose required primary types the
    /// child's type all satisfies. An unknown `child_type` satisfies only `nt:base`
    /// and itself.
    pub fn child_definition(
        &self,
        name: &str,
        child_type: &str,
    ) -> Option<Declared<'r, ChildNodeDef>> {
        self.find_child(name, |d| {
            d.required_primary_types.iter().all(|r| {
                r == NT_BASE || r == child_type || self.registry.is_node_type(child_type, r)
            })
        })
    }

    /// The default primary type of a child `name` created without a type: the default
    /// of the first named, else the first residual definition that has one (what
    /// FileVault uses for intermediate folders, reference §3.6).
    pub fn default_child_type(&self, name: &str) -> Option<&'r str> {
        self.find_child(name, |d| d.default_primary_type.is_some())
            .and_then(|d| d.def.default_primary_type.as_deref())
    }

    /// The named mandatory property definitions, one per name (the first found).
    pub fn mandatory_properties(&self) -> Vec<Declared<'r, PropertyDef>> {
        first_per_name(
            self.property_definitions()
                .filter(|d| d.mandatory && !d.is_residual()),
        )
    }

    /// The named mandatory child node definitions, one per name.
    pub fn mandatory_children(&self) -> Vec<Declared<'r, ChildNodeDef>> {
        first_per_name(
            self.child_definitions()
                .filter(|d| d.mandatory && !d.is_residual()),
        )
    }

    /// The named auto-created property definitions, one per name: what the
    /// repository adds (with the default values) when it creates such a node.
    pub fn autocreated_properties(&self) -> Vec<Declared<'r, PropertyDef>> {
        first_per_name(
            self.property_definitions()
                .filter(|d| d.autocreated && !d.is_residual()),
        )
    }

    /// The named auto-created child node definitions, one per name.
    pub fn autocreated_children(&self) -> Vec<Declared<'r, ChildNodeDef>> {
        first_per_name(
            self.child_definitions()
                .filter(|d| d.autocreated && !d.is_residual()),
        )
    }

    /// Whether any of the types (or their supertypes) declares orderable children.
    pub fn is_orderable(&self) -> bool {
        self.types.iter().any(|t| t.orderable)
    }

    /// Whether the node is of type `of`: one of its types or their supertypes.
    pub fn is_node_type(&self, of: &str) -> bool {
        self.types.iter().any(|t| t.name == of)
    }
}

trait Named {
    fn item_name(&self) -> &str;
}

impl Named for PropertyDef {
    fn item_name(&self) -> &str {
        &self.name
    }
}

impl Named for ChildNodeDef {
    fn item_name(&self) -> &str {
        &self.name
    }
}

fn first_per_name<'r, T: Named>(
    defs: impl Iterator<Item = Declared<'r, T>>,
) -> Vec<Declared<'r, T>> {
    let mut out: Vec<Declared<'r, T>> = Vec::new();
    for d in defs {
        if !out.iter().any(|o| o.def.item_name() == d.def.item_name()) {
            out.push(d);
        }
    }
    out
}
