//! Validation of one node against its effective node type.
//!
//! [`NodeTypeRegistry::check_node`] answers "would the repository accept this node
//! as it is?" for the node's own properties, its children's names and types, and its
//! mandatory items. Unknown types are not errors (content with `cq:`, `dam:`,
//! `mgnl:` types must install without their definitions): they are reported as
//! [`Violation::UnknownType`], and a node with any unknown type gets no other
//! violation, since its definitions are not all known. Items the repository
//! maintains itself are left alone: protected properties are not checked (the
//! importer drops them, reference §3.4), and protected or auto-created mandatory
//! items are not required. Property definitions are looked up as Oak does for an import: String
//! values count as untyped (DocView never writes a `{String}` hint), so they match
//! by name and multiplicity and must then convert to the definition's type.

use super::constraint::meets_constraints;
use super::registry::NodeTypeRegistry;
use crate::name;
use crate::node::Node;
use crate::value::{PropertyType, Value};
use std::fmt;

/// A way a node does not fit its node types (or, for [`Violation::UnknownType`], a
/// type that could not be checked).
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// The node uses a type the registry does not know. Not an error: callers
    /// record it and install the node anyway.
    UnknownType {
        /// The type name.
        name: String,
    },
    /// The node has no primary type.
    MissingPrimaryType,
    /// The primary type is a mixin.
    MixinAsPrimary {
        /// The type.
        name: String,
    },
    /// The primary type is abstract.
    AbstractPrimary {
        /// The type.
        name: String,
    },
    /// A type listed as a mixin is a primary type.
    NotAMixin {
        /// The type.
        name: String,
    },
    /// No definition allows this property (name, type and multiplicity).
    NoPropertyDefinition {
        /// The property name.
        name: String,
        /// Its type.
        ptype: PropertyType,
        /// Whether it is multi-valued.
        multiple: bool,
    },
    /// A value cannot be converted to the type its definition requires.
    ValueNotConvertible {
        /// The property name.
        name: String,
        /// The required type.
        required_type: PropertyType,
        /// The value as text.
        value: String,
    },
    /// A value meets none of its definition's value constraints.
    ConstraintViolated {
        /// The property name.
        name: String,
        /// The value as text.
        value: String,
        /// The constraints.
        constraints: Vec<String>,
    },
    /// No definition allows this child (name and primary type).
    NoChildDefinition {
        /// The child name.
        name: String,
        /// The child's primary type.
        primary_type: String,
    },
    /// Several children share a name that the definition does not allow twice.
    SameNameSiblingsNotAllowed {
        /// The child name.
        name: String,
    },
    /// A mandatory property is missing.
    MissingMandatoryProperty {
        /// The property name.
        name: String,
        /// The type declaring it.
        declared_by: String,
    },
    /// A mandatory child node is missing.
    MissingMandatoryChild {
        /// The child name.
        name: String,
        /// The type declaring it.
        declared_by: String,
    },
}

impl Violation {
    /// Whether this is a real violation ([`Violation::UnknownType`] is not).
    pub fn is_error(&self) -> bool {
        !matches!(self, Violation::UnknownType { .. })
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::UnknownType { name } => {
                write!(f, "node type {name} is not registered (not checked)")
            }
            Violation::MissingPrimaryType => f.write_str("the node has no primary type"),
            Violation::MixinAsPrimary { name } => {
                write!(f, "{name} is a mixin and cannot be a primary type")
            }
            Violation::AbstractPrimary { name } => {
                write!(f, "{name} is abstract and cannot be a primary type")
            }
            Violation::NotAMixin { name } => write!(f, "{name} is not a mixin type"),
            Violation::NoPropertyDefinition {
                name,
                ptype,
                multiple,
            } => write!(
                f,
                "no definition allows the {} {ptype} property {name}",
                if *multiple {
                    "multi-valued"
                } else {
                    "single-valued"
                }
            ),
            Violation::ValueNotConvertible {
                name,
                required_type,
                value,
            } => write!(
                f,
                "property {name}: '{value}' is not a valid {required_type} value"
            ),
            Violation::ConstraintViolated {
                name,
                value,
                constraints,
            } => write!(
                f,
                "property {name}: '{value}' meets none of the constraints '{}'",
                constraints.join("', '")
            ),
            Violation::NoChildDefinition { name, primary_type } => {
                write!(
                    f,
                    "no definition allows a child {name} of type {primary_type}"
                )
            }
            Violation::SameNameSiblingsNotAllowed { name } => {
                write!(f, "same-name siblings {name} are not allowed")
            }
            Violation::MissingMandatoryProperty { name, declared_by } => {
                write!(f, "mandatory property {name} (of {declared_by}) is missing")
            }
            Violation::MissingMandatoryChild { name, declared_by } => {
                write!(
                    f,
                    "mandatory child node {name} (of {declared_by}) is missing"
                )
            }
        }
    }
}

const JCR_PRIMARY_TYPE: &str = "jcr:primaryType";
const JCR_MIXIN_TYPES: &str = "jcr:mixinTypes";

impl NodeTypeRegistry {
    /// Whether nodes of these types accept any children and any property name and
    /// type: every type is known and fits its place, and the effective type only has
    /// unconstrained residual definitions (single and multiple properties of any
    /// type, children of any type with same-name siblings) and no mandatory items, as
    /// `nt:unstructured`. [`NodeTypeRegistry::check_node`] then finds nothing wrong
    /// with such a node's children, so the importer checks it without listing them;
    /// its property values can still fail (a `{Name}` value that is no name).
    pub fn accepts_any_content(&self, primary: &str, mixins: &[String]) -> bool {
        let Some(p) = self.get(primary) else {
            return false;
        };
        if p.mixin || p.abstract_ {
            return false;
        }
        if !mixins.iter().all(|m| self.get(m).is_some_and(|d| d.mixin)) {
            return false;
        }
        let eff = self.effective(primary, mixins);
        let (mut single, mut multiple) = (false, false);
        for d in eff.property_definitions() {
            let def = d.def;
            if def.name == JCR_PRIMARY_TYPE || def.name == JCR_MIXIN_TYPES {
                continue;
            }
            let open = def.is_residual()
                && def.required_type == PropertyType::Undefined
                && def.value_constraints.is_empty()
                && !def.protected
                && !def.mandatory;
            if !open {
                return false;
            }
            if def.multiple {
                multiple = true;
            } else {
                single = true;
            }
        }
        let mut children = false;
        for d in eff.child_definitions() {
            let def = d.def;
            let open = def.is_residual()
                && def.required_primary_types.iter().all(|t| t == "nt:base")
                && def.same_name_siblings
                && !def.protected
                && !def.mandatory;
            if !open {
                return false;
            }
            children = true;
        }
        single && multiple && children
    }

    /// Checks `node`'s properties, children (names, types and same-name siblings, not
    /// their own content) and mandatory items against its effective node type.
    /// Returns nothing when the node fits; [`Violation::UnknownType`] entries alone
    /// when one of its types is unknown.
    pub fn check_node(&self, node: &Node) -> Vec<Violation> {
        let mut out = Vec::new();
        if node.primary_type.is_empty() {
            out.push(Violation::MissingPrimaryType);
            return out;
        }
        for t in std::iter::once(&node.primary_type).chain(&node.mixins) {
            if !self.is_known(t) && !out.contains(&Violation::UnknownType { name: t.clone() }) {
                out.push(Violation::UnknownType { name: t.clone() });
            }
        }
        if !out.is_empty() {
            return out;
        }
        if let Some(p) = self.get(&node.primary_type) {
            if p.mixin {
                out.push(Violation::MixinAsPrimary {
                    name: p.name.clone(),
                });
            }
            if p.abstract_ {
                out.push(Violation::AbstractPrimary {
                    name: p.name.clone(),
                });
            }
        }
        for m in &node.mixins {
            if self.get(m).is_some_and(|d| !d.mixin) {
                out.push(Violation::NotAMixin { name: m.clone() });
            }
        }
        let eff = self.effective(&node.primary_type, &node.mixins);
        for p in node.properties.values() {
            if p.name == JCR_PRIMARY_TYPE || p.name == JCR_MIXIN_TYPES {
                continue;
            }
            // DocView never writes a {String} hint, so a String property was untyped in
            // the package and Oak matches it by name alone (then converts).
            let lookup = if p.ptype == PropertyType::String {
                PropertyType::Undefined
            } else {
                p.ptype
            };
            let Some(def) = eff.property_definition(&p.name, lookup, p.multiple) else {
                out.push(Violation::NoPropertyDefinition {
                    name: p.name.clone(),
                    ptype: p.ptype,
                    multiple: p.multiple,
                });
                continue;
            };
            if def.protected {
                // The importer drops protected properties; the repository owns them.
                continue;
            }
            let required = def.required_type;
            for v in &p.values {
                let converted = match v.converted(required) {
                    Ok(c) => c,
                    Err(_) => {
                        out.push(Violation::ValueNotConvertible {
                            name: p.name.clone(),
                            required_type: required,
                            value: v.to_string(),
                        });
                        break;
                    }
                };
                if let Value::Name(n) = &*converted {
                    if name::validate(n).is_err() {
                        out.push(Violation::ValueNotConvertible {
                            name: p.name.clone(),
                            required_type: required,
                            value: n.clone(),
                        });
                        break;
                    }
                }
                let effective_type = if required == PropertyType::Undefined {
                    converted.ptype()
                } else {
                    required
                };
                if !meets_constraints(&converted, effective_type, &def.value_constraints) {
                    out.push(Violation::ConstraintViolated {
                        name: p.name.clone(),
                        value: converted.to_string(),
                        constraints: def.value_constraints.clone(),
                    });
                    break;
                }
            }
        }
        // Counted once: a scan per child was quadratic (150,000 siblings took
        // minutes to validate).
        let mut name_counts: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(node.children.len());
        for c in &node.children {
            *name_counts.entry(c.name.as_str()).or_default() += 1;
        }
        let mut sns_reported: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for c in &node.children {
            if c.primary_type.is_empty() || !self.is_known(&c.primary_type) {
                continue;
            }
            match eff.child_definition(&c.name, &c.primary_type) {
                None => out.push(Violation::NoChildDefinition {
                    name: c.name.clone(),
                    primary_type: c.primary_type.clone(),
                }),
                Some(def) => {
                    let siblings = name_counts.get(c.name.as_str()).copied().unwrap_or(0);
                    if siblings > 1
                        && !def.same_name_siblings
                        && sns_reported.insert(c.name.as_str())
                    {
                        out.push(Violation::SameNameSiblingsNotAllowed {
                            name: c.name.clone(),
                        });
                    }
                }
            }
        }
        for d in eff.mandatory_properties() {
            if !d.autocreated && !d.protected && !node.properties.contains_key(&d.name) {
                out.push(Violation::MissingMandatoryProperty {
                    name: d.name.clone(),
                    declared_by: d.declaring_type.to_string(),
                });
            }
        }
        for d in eff.mandatory_children() {
            if !d.autocreated && !d.protected && !node.children.iter().any(|c| c.name == d.name) {
                out.push(Violation::MissingMandatoryChild {
                    name: d.name.clone(),
                    declared_by: d.declaring_type.to_string(),
                });
            }
        }
        out
    }
}
