//! The node type model: what a CND file declares and what the registry stores.
//!
//! The model is the *registered* form of a definition, the one Jackrabbit and Oak keep
//! after reading a CND, not a syntax tree: abbreviations, attribute order, comments and
//! quoting are gone. A few normalisations make "read, write, read" give the same model
//! (see [`NodeTypeDef::supertypes`] and [`ChildNodeDef::required_primary_types`]).

use crate::location::Location;
use crate::value::PropertyType;
use std::fmt;

/// The name of the base type every primary type extends implicitly.
pub const NT_BASE: &str = "nt:base";

/// The residual item name (`*`): a definition that applies to items of any name.
pub const RESIDUAL: &str = "*";

/// A node type definition (JCR 2.0 §3.7, `NodeTypeDefinition`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeTypeDef {
    /// The qualified name (`sling:Folder`).
    pub name: String,
    /// The declared supertypes, sorted and without duplicates. `nt:base` is never
    /// listed: every primary type extends it implicitly, and Jackrabbit's CND writer
    /// omits it (and sorts the rest), so keeping either would not survive a round trip.
    pub supertypes: Vec<String>,
    /// A mixin type (`mixin`) rather than a primary type.
    pub mixin: bool,
    /// Declares orderable child nodes (`orderable`). Subtypes inherit it: see
    /// [`crate::cnd::NodeTypeRegistry::is_orderable`].
    pub orderable: bool,
    /// Abstract (`abstract`): no node may have it as its primary type.
    pub abstract_: bool,
    /// `Some(false)` for `noquery`, `Some(true)` for an explicit `query`, `None` when
    /// the CND said neither (queryable, the repository default).
    pub queryable: Option<bool>,
    /// The primary item (`primaryitem name`, or the `primary` attribute of an item).
    pub primary_item: Option<String>,
    /// Property definitions, in declaration order.
    pub properties: Vec<PropertyDef>,
    /// Child node definitions, in declaration order.
    pub children: Vec<ChildNodeDef>,
}

impl NodeTypeDef {
    /// A primary type with no supertypes, options or items.
    pub fn new(name: impl Into<String>) -> NodeTypeDef {
        NodeTypeDef {
            name: name.into(),
            supertypes: Vec::new(),
            mixin: false,
            orderable: false,
            abstract_: false,
            queryable: None,
            primary_item: None,
            properties: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Every type name this definition refers to: supertypes, required and default
    /// primary types of its child definitions (in that order, possibly repeated).
    pub fn referenced_types(&self) -> impl Iterator<Item = &str> {
        self.supertypes
            .iter()
            .map(String::as_str)
            .chain(self.children.iter().flat_map(|c| {
                c.required_primary_types
                    .iter()
                    .map(String::as_str)
                    .chain(c.default_primary_type.as_deref())
            }))
    }

    /// Sorts and de-duplicates the supertypes and drops `nt:base`, as the parser does;
    /// use it on definitions built in code before comparing them with parsed ones.
    pub fn normalize(&mut self) {
        normalize_supertypes(&mut self.supertypes);
        for c in &mut self.children {
            if c.required_primary_types.is_empty() {
                c.required_primary_types.push(NT_BASE.to_string());
            }
        }
        for p in &mut self.properties {
            if p.available_query_operators
                .as_ref()
                .is_some_and(|ops| QueryOperator::ALL.iter().all(|o| ops.contains(o)))
            {
                p.available_query_operators = None;
            }
        }
    }
}

/// Sorts, de-duplicates and removes `nt:base` from a supertype list.
pub(crate) fn normalize_supertypes(supertypes: &mut Vec<String>) {
    supertypes.retain(|s| s != NT_BASE);
    supertypes.sort();
    supertypes.dedup();
}

/// A property definition (JCR 2.0 §3.7.3, `PropertyDefinition`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PropertyDef {
    /// The qualified property name, or `*` for a residual definition.
    pub name: String,
    /// The required type; `Undefined` accepts any type. `STRING` when the CND gives none.
    pub required_type: PropertyType,
    /// Default values in their JCR string form (`= 'a', 'b'`).
    pub default_values: Vec<String>,
    /// Value constraints in their JCR string form (`< 'x', 'y'`): a value must meet
    /// at least one of them.
    pub value_constraints: Vec<String>,
    /// Created by the repository with the default values when the node is created.
    pub autocreated: bool,
    /// Must exist when the node is saved.
    pub mandatory: bool,
    /// Only the repository may set or remove it; FileVault drops such properties on
    /// import (reference §3.4).
    pub protected: bool,
    /// Multi-valued.
    pub multiple: bool,
    /// What happens to the property when its node is versioned.
    pub on_parent_version: OnParentVersion,
    /// The query operators the property supports; `None` means all of them (the
    /// default, also what a CND listing all seven reads as).
    pub available_query_operators: Option<Vec<QueryOperator>>,
    /// Included in full-text search (`nofulltext` clears it).
    pub full_text_searchable: bool,
    /// Usable in query ordering (`noqueryorder` clears it).
    pub query_orderable: bool,
}

impl PropertyDef {
    /// A single-valued definition of `required_type` with every attribute at its
    /// default, as `- name (type)` reads.
    pub fn new(name: impl Into<String>, required_type: PropertyType) -> PropertyDef {
        PropertyDef {
            name: name.into(),
            required_type,
            default_values: Vec::new(),
            value_constraints: Vec::new(),
            autocreated: false,
            mandatory: false,
            protected: false,
            multiple: false,
            on_parent_version: OnParentVersion::Copy,
            available_query_operators: None,
            full_text_searchable: true,
            query_orderable: true,
        }
    }

    /// Whether this is a residual (`*`) definition.
    pub fn is_residual(&self) -> bool {
        self.name == RESIDUAL
    }
}

/// A child node definition (JCR 2.0 §3.7.4, `NodeDefinition`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChildNodeDef {
    /// The qualified child name, or `*` for a residual definition.
    pub name: String,
    /// The child's primary type must be (a subtype of) each of these. Never empty:
    /// a CND that names none means `nt:base`, and reads as `[nt:base]` here.
    pub required_primary_types: Vec<String>,
    /// The primary type a child gets when it is created without one.
    pub default_primary_type: Option<String>,
    /// Created by the repository when the parent is created.
    pub autocreated: bool,
    /// Must exist when the parent is saved.
    pub mandatory: bool,
    /// Only the repository may add or remove such children.
    pub protected: bool,
    /// Allows same-name siblings (`sns`, `*`, `multiple`).
    pub same_name_siblings: bool,
    /// What happens to the child when its parent is versioned.
    pub on_parent_version: OnParentVersion,
}

impl ChildNodeDef {
    /// A definition requiring `nt:base`, with no default type and default attributes.
    pub fn new(name: impl Into<String>) -> ChildNodeDef {
        ChildNodeDef {
            name: name.into(),
            required_primary_types: vec![NT_BASE.to_string()],
            default_primary_type: None,
            autocreated: false,
            mandatory: false,
            protected: false,
            same_name_siblings: false,
            on_parent_version: OnParentVersion::Copy,
        }
    }

    /// Whether this is a residual (`*`) definition.
    pub fn is_residual(&self) -> bool {
        self.name == RESIDUAL
    }
}

/// The on-parent-version action of an item (JCR 2.0 §3.13.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OnParentVersion {
    /// Copied into the version (the default).
    Copy,
    /// Versioned along with the parent.
    Version,
    /// Re-initialised in the frozen node.
    Initialize,
    /// Computed by the repository.
    Compute,
    /// Ignored by versioning.
    Ignore,
    /// Versioning the parent fails.
    Abort,
}

impl OnParentVersion {
    /// All actions, in JCR constant order.
    pub const ALL: [OnParentVersion; 6] = [
        OnParentVersion::Copy,
        OnParentVersion::Version,
        OnParentVersion::Initialize,
        OnParentVersion::Compute,
        OnParentVersion::Ignore,
        OnParentVersion::Abort,
    ];

    /// The JCR name (`COPY`, `VERSION`, ...), which CND reads case-insensitively.
    pub fn jcr_name(self) -> &'static str {
        match self {
            OnParentVersion::Copy => "COPY",
            OnParentVersion::Version => "VERSION",
            OnParentVersion::Initialize => "INITIALIZE",
            OnParentVersion::Compute => "COMPUTE",
            OnParentVersion::Ignore => "IGNORE",
            OnParentVersion::Abort => "ABORT",
        }
    }

    /// The action named `s`, case-insensitively.
    pub fn from_name(s: &str) -> Option<OnParentVersion> {
        OnParentVersion::ALL
            .iter()
            .copied()
            .find(|a| a.jcr_name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for OnParentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jcr_name())
    }
}

/// A query operator a property supports (JCR 2.0 §6.7.16, `queryops`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryOperator {
    /// `=`
    EqualTo,
    /// `<>`
    NotEqualTo,
    /// `<`
    LessThan,
    /// `<=`
    LessThanOrEqualTo,
    /// `>`
    GreaterThan,
    /// `>=`
    GreaterThanOrEqualTo,
    /// `LIKE`
    Like,
}

impl QueryOperator {
    /// All operators, in the order JCR lists them.
    pub const ALL: [QueryOperator; 7] = [
        QueryOperator::EqualTo,
        QueryOperator::NotEqualTo,
        QueryOperator::LessThan,
        QueryOperator::LessThanOrEqualTo,
        QueryOperator::GreaterThan,
        QueryOperator::GreaterThanOrEqualTo,
        QueryOperator::Like,
    ];

    /// The CND spelling: `=`, `<>`, `<`, `<=`, `>`, `>=`, `LIKE`.
    pub fn symbol(self) -> &'static str {
        match self {
            QueryOperator::EqualTo => "=",
            QueryOperator::NotEqualTo => "<>",
            QueryOperator::LessThan => "<",
            QueryOperator::LessThanOrEqualTo => "<=",
            QueryOperator::GreaterThan => ">",
            QueryOperator::GreaterThanOrEqualTo => ">=",
            QueryOperator::Like => "LIKE",
        }
    }

    /// The JCR constant (`jcr.operator.equal.to`, ...).
    pub fn jcr_name(self) -> &'static str {
        match self {
            QueryOperator::EqualTo => "jcr.operator.equal.to",
            QueryOperator::NotEqualTo => "jcr.operator.not.equal.to",
            QueryOperator::LessThan => "jcr.operator.less.than",
            QueryOperator::LessThanOrEqualTo => "jcr.operator.less.than.or.equal.to",
            QueryOperator::GreaterThan => "jcr.operator.greater.than",
            QueryOperator::GreaterThanOrEqualTo => "jcr.operator.greater.than.or.equal.to",
            QueryOperator::Like => "jcr.operator.like",
        }
    }

    /// The operator spelled `s` in CND (exactly, as Jackrabbit compares it).
    pub fn from_symbol(s: &str) -> Option<QueryOperator> {
        QueryOperator::ALL.iter().copied().find(|o| o.symbol() == s)
    }
}

/// A parsed CND file: its namespace mappings and node type definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CndFile {
    /// The file name used in error locations.
    pub file: String,
    /// The `<prefix = uri>` mappings in declaration order; a prefix declared twice
    /// keeps its first position and its last URI.
    pub namespaces: Vec<(String, String)>,
    /// The node type definitions in file order (a name defined twice appears twice;
    /// registration keeps the last, as FileVault's node type set does).
    pub types: Vec<NodeTypeDef>,
    /// Where each definition of `types` starts (its `[`), same index.
    pub locations: Vec<Location>,
}

impl CndFile {
    /// The URI the file maps `prefix` to.
    pub fn uri(&self, prefix: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }

    /// Where the definition of `type_name` starts (the last one if defined twice).
    pub fn location_of(&self, type_name: &str) -> Option<&Location> {
        self.types
            .iter()
            .zip(&self.locations)
            .rev()
            .find(|(t, _)| t.name == type_name)
            .map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_actions_and_operators() {
        for a in OnParentVersion::ALL {
            assert_eq!(
                OnParentVersion::from_name(&a.jcr_name().to_lowercase()),
                Some(a)
            );
        }
        assert_eq!(OnParentVersion::from_name("OPV"), None);
        for o in QueryOperator::ALL {
            assert_eq!(QueryOperator::from_symbol(o.symbol()), Some(o));
        }
        assert_eq!(QueryOperator::from_symbol("like"), None);
        assert_eq!(QueryOperator::Like.jcr_name(), "jcr.operator.like");
    }

    #[test]
    fn normalize_matches_parser_conventions() {
        let mut d = NodeTypeDef::new("x:T");
        d.supertypes = vec!["b:B".into(), "nt:base".into(), "a:A".into(), "b:B".into()];
        let mut c = ChildNodeDef::new("c");
        c.required_primary_types.clear();
        d.children.push(c);
        let mut p = PropertyDef::new("p", PropertyType::Long);
        p.available_query_operators = Some(QueryOperator::ALL.to_vec());
        d.properties.push(p);
        d.normalize();
        assert_eq!(d.supertypes, ["a:A", "b:B"]);
        assert_eq!(d.children[0].required_primary_types, ["nt:base"]);
        assert_eq!(d.properties[0].available_query_operators, None);
        assert_eq!(
            d.referenced_types().collect::<Vec<_>>(),
            ["a:A", "b:B", "nt:base"]
        );
    }
}
