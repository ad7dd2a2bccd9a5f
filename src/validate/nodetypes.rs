//! `jackrabbit-nodetypes`: node types and namespaces of the DocView content.
//!
//! * every CND of the package (`META-INF/**/*.cnd`, `*.cnd` in `jcr_root/`) parses
//!   and registers (errors with line and column);
//! * every contained element with properties has a `jcr:primaryType`;
//! * every type name is a valid JCR name whose prefix is declared (in the DocView, in
//!   a CND, or built in); an undeclared prefix is an error, except for the prefixes
//!   AEM and Sling repositories always have ([`PLATFORM_PREFIXES`]), a warning;
//! * every type is built in or declared in a CND: unknown types are warnings (as
//!   FileVault's default `severityForUnknownNodetypes`; AEM installs `cq:`, `sling:`,
//!   `dam:` types without shipping definitions), reported once per type;
//! * known types are used correctly: no mixin or abstract type as primary type, no
//!   primary type among the mixins;
//! * contained nodes whose types are all known fit their definitions: every property
//!   allowed and convertible and within its constraints, children allowed, mandatory
//!   items present (children may come from the package's folders; binary data from
//!   `.binary` and plain files is not required in the DocView).

use super::{DocCheck, DocNode, Finding, Package, Severity};
use crate::cnd::{self, NodeTypeRegistry, RegisterProblem, Violation};
use crate::docview::DocViewDocument;
use crate::name;
use crate::namespace::NamespaceRegistry;
use crate::node::Node;
use crate::value::{Property, PropertyType, Value};
use std::collections::HashSet;

/// The validator id.
pub const ID: &str = "jackrabbit-nodetypes";

/// Prefixes that AEM and Sling repositories register themselves: undeclared, they are
/// a warning rather than an error.
pub const PLATFORM_PREFIXES: [&str; 9] = [
    "cq",
    "sling",
    "dam",
    "granite",
    "slingevent",
    "social",
    "wcm",
    "vlt",
    "crx",
];

/// The node types and namespaces the package declares, on top of the built-ins.
#[derive(Debug)]
pub struct TypeSystem {
    /// Built-in types plus those of the package's CNDs.
    pub registry: NodeTypeRegistry,
    /// Built-in namespaces plus those of the CNDs.
    pub namespaces: NamespaceRegistry,
}

/// The CND entries of the package: anything below `META-INF/` or `jcr_root/` ending in
/// `.cnd`, sorted.
pub fn cnd_entries(pkg: &Package<'_>) -> Vec<String> {
    pkg.archive
        .listing()
        .files()
        .map(|e| e.name())
        .filter(|n| {
            n.ends_with(".cnd") && (n.starts_with("META-INF/") || n.starts_with("jcr_root/"))
        })
        .map(str::to_string)
        .collect()
}

/// Parses and registers the package's CNDs; problems become findings.
pub fn load_types(pkg: &Package<'_>, out: &mut Vec<Finding>) -> TypeSystem {
    let mut registry = NodeTypeRegistry::new();
    let mut namespaces = NamespaceRegistry::new();
    let mut pending = Vec::new();
    for entry in cnd_entries(pkg) {
        let bytes = match pkg.archive.read_to_vec(&entry) {
            Ok(b) => b,
            Err(e) => {
                out.push(Finding::unreadable(ID, entry, format!("cannot read: {e}")));
                continue;
            }
        };
        match cnd::parse_bytes(&bytes, &entry) {
            Ok(f) => pending.push((entry, f)),
            Err(e) => out.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!(
                        "invalid CND: {}",
                        strip_location(&e.to_string(), e.location())
                    ),
                    "correct the node type definition at this place (JCR 2.0 CND syntax)",
                )
                .at(e.location()),
            ),
        }
    }
    // Files may build on each other's types: register until nothing changes.
    let mut last_errors = Vec::new();
    loop {
        let before = pending.len();
        last_errors.clear();
        let mut rest = Vec::new();
        for (entry, f) in pending {
            match registry.register_cnd(&f, &mut namespaces) {
                Ok(_) => {}
                Err(e) => {
                    last_errors.push((entry.clone(), e));
                    rest.push((entry, f));
                }
            }
        }
        pending = rest;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (entry, e) in last_errors {
        for p in e.problems {
            let (severity, location, fix) = match &p {
                RegisterProblem::UnknownSupertype { location, .. } => (
                    Severity::Warning,
                    location.clone(),
                    "declare the supertype in a CND of the package, or depend on the package that registers it",
                ),
                RegisterProblem::UnknownPrefix { location, .. } => (
                    Severity::Error,
                    location.clone(),
                    "declare the namespace in the CND: <prefix = 'uri'>",
                ),
                _ => (Severity::Error, None, "correct the node type definitions"),
            };
            let message = match &location {
                Some(l) => strip_location(&p.to_string(), l),
                None => p.to_string(),
            };
            out.push(
                Finding::new(
                    severity,
                    ID,
                    format!("node types of this CND are not registered: {message}"),
                    fix,
                )
                .at_or(location.as_ref(), &entry),
            );
        }
    }
    TypeSystem {
        registry,
        namespaces,
    }
}

fn strip_location(text: &str, location: &crate::location::Location) -> String {
    let prefix = format!("{location}: ");
    text.strip_prefix(&prefix).unwrap_or(text).to_string()
}

/// What is wrong with a type name's prefix, if anything.
enum PrefixState {
    Known(String),
    Platform,
    Unknown,
}

/// The repository name for a document name: the prefix mapped through its URI.
fn resolve(doc: &DocViewDocument, ns: &NamespaceRegistry, qname: &str) -> PrefixState {
    let (prefix, local) = name::split(qname);
    if prefix.is_empty() {
        return PrefixState::Known(qname.to_string());
    }
    if let Some(uri) = doc.uri(prefix) {
        return match ns.prefix(uri) {
            Some(p) => PrefixState::Known(format!("{p}:{local}")),
            None => PrefixState::Known(qname.to_string()),
        };
    }
    if ns.uri(prefix).is_some() {
        return PrefixState::Known(qname.to_string());
    }
    if PLATFORM_PREFIXES.contains(&prefix) {
        PrefixState::Platform
    } else {
        PrefixState::Unknown
    }
}

/// Checks the CNDs; the returned check goes on with the node types of every DocView
/// element.
pub fn check<'p>(pkg: &'p Package<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    let types = load_types(pkg, out);
    Some(Box::new(NodeTypes {
        types,
        unknown_reported: HashSet::new(),
    }))
}

struct NodeTypes {
    types: TypeSystem,
    /// Unknown types and undeclared prefixes (per file) already reported.
    unknown_reported: HashSet<String>,
}

impl DocCheck for NodeTypes {
    fn doc(&mut self, pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        for n in nodes {
            let el = n.element;
            let at = |f: Finding| f.at(&el.location).node(n.path);
            let primary = el.primary_type();
            if primary.is_none() {
                if !el.is_placeholder() && pkg.contains(n.path) {
                    out.push(at(Finding::new(
                        Severity::Error,
                        ID,
                        format!("mandatory jcr:primaryType missing on node '{}'", n.path),
                        "add jcr:primaryType (e.g. nt:unstructured) to the element",
                    )));
                }
                continue;
            }
            let mut all_known = true;
            let mut resolved: Vec<String> = Vec::new();
            let names = primary
                .into_iter()
                .map(|t| (t.to_string(), true))
                .chain(el.mixin_types().into_iter().map(|t| (t, false)));
            for (t, is_primary) in names {
                let what = if is_primary {
                    "primary type"
                } else {
                    "mixin type"
                };
                if let Err(e) = name::validate(&t) {
                    out.push(at(Finding::new(
                        Severity::Error,
                        ID,
                        format!("{what} '{t}' is not a valid JCR name: {e}"),
                        "use a qualified name such as nt:unstructured",
                    )));
                    continue;
                }
                let repo_name = match resolve(&n.file.doc, &self.types.namespaces, &t) {
                    PrefixState::Known(r) => r,
                    state => {
                        all_known = false;
                        let prefix = name::prefix(&t);
                        let platform = matches!(state, PrefixState::Platform);
                        if self
                            .unknown_reported
                            .insert(format!("prefix:{prefix}:{}", n.file.entry))
                        {
                            out.push(at(Finding::new(
                                if platform { Severity::Warning } else { Severity::Error },
                                ID,
                                format!(
                                    "{what} '{t}': namespace prefix '{prefix}' is not declared in the DocView{}",
                                    if platform {
                                        " (AEM and Sling repositories have it)"
                                    } else {
                                        " nor in a CND of the package"
                                    }
                                ),
                                format!("declare xmlns:{prefix}=\"...\" on the jcr:root element"),
                            )));
                        }
                        continue;
                    }
                };
                resolved.push(repo_name.clone());
                let Some(def) = self.types.registry.get(&repo_name) else {
                    all_known = false;
                    if self.unknown_reported.insert(repo_name.clone()) {
                        out.push(at(Finding::new(
                            Severity::Warning,
                            ID,
                            format!(
                                "unknown node type '{repo_name}': neither built in nor declared in a CND of the package; \
                                 nodes of this type are not checked"
                            ),
                            "add its definition to META-INF/vault/nodetypes.cnd, or depend on the package that registers it",
                        )));
                    }
                    continue;
                };
                let problem = if is_primary && def.mixin {
                    Some(format!(
                        "'{repo_name}' is a mixin type and cannot be a primary type"
                    ))
                } else if is_primary && def.abstract_ {
                    Some(format!(
                        "'{repo_name}' is abstract and cannot be a primary type"
                    ))
                } else if !is_primary && !def.mixin {
                    Some(format!(
                        "'{repo_name}' in jcr:mixinTypes is not a mixin type"
                    ))
                } else {
                    None
                };
                if let Some(p) = problem {
                    all_known = false;
                    out.push(at(Finding::new(
                        Severity::Error,
                        ID,
                        format!("node '{}': {p}", n.path),
                        if is_primary {
                            "use a concrete primary type, and list mixins in jcr:mixinTypes"
                        } else {
                            "move the type to jcr:primaryType, or use a mixin"
                        },
                    )));
                }
            }
            if all_known && pkg.contains(n.path) && !is_access_control(n.path, &resolved) {
                for v in definition_violations(pkg, &self.types, n, &resolved) {
                    out.push(at(Finding::new(
                        Severity::Error,
                        ID,
                        format!("node '{}' [{}]: {v}", n.path, resolved.join(", ")),
                        violation_fix(&v),
                    )));
                }
            }
        }
    }
}

/// Nodes the importer does not install as plain nodes, or that the repository owns:
/// the root node, and access control content (policies, entries, whose restrictions
/// DocView writes as attributes of the entry).
fn is_access_control(p: &str, types: &[String]) -> bool {
    const POLICY_NAMES: [&str; 4] = [
        "rep:policy",
        "rep:repoPolicy",
        "rep:cugPolicy",
        "rep:principalPolicy",
    ];
    p == "/"
        || crate::path::segments(p).any(|s| POLICY_NAMES.contains(&s))
        || types.iter().any(|t| {
            super::accesscontrol::ACL_TYPES.contains(&t.as_str())
                || matches!(
                    t.as_str(),
                    "rep:GrantACE"
                        | "rep:DenyACE"
                        | "rep:ACE"
                        | "rep:PrincipalEntry"
                        | "rep:Restrictions"
                )
        })
}

/// What to do about a definition violation.
fn violation_fix(v: &Violation) -> &'static str {
    match v {
        Violation::NoPropertyDefinition { .. } => {
            "remove the property, fix its type hint, or use a node type that allows it (e.g. nt:unstructured)"
        }
        Violation::ValueNotConvertible { .. } => "write a value of the type the definition requires",
        Violation::ConstraintViolated { .. } => "use a value allowed by the property definition's constraints",
        Violation::NoChildDefinition { .. } => "use a child name and type the parent's node type allows",
        Violation::SameNameSiblingsNotAllowed { .. } => "give the children distinct names",
        Violation::MissingMandatoryProperty { .. } => "add the mandatory property",
        Violation::MissingMandatoryChild { .. } => "add the mandatory child node",
        _ => "correct the node's types",
    }
}

/// The node's properties and children against its (known) node types, as the
/// repository would check them on save. Binary properties are left out (their data
/// comes from `.binary` files or plain files), and children include the package's
/// folders below the node.
fn definition_violations(
    pkg: &Package<'_>,
    types: &TypeSystem,
    n: &DocNode<'_>,
    resolved: &[String],
) -> Vec<Violation> {
    let el = n.element;
    let Some((primary, mixins)) = resolved.split_first() else {
        return Vec::new();
    };
    let mut node = Node::new(el.name.clone(), primary.clone());
    node.mixins = mixins.to_vec();
    let eff = types.registry.effective(primary, mixins);
    let mut binaries = Vec::new();
    for dp in &el.properties {
        if dp.name == "jcr:primaryType" || dp.name == "jcr:mixinTypes" {
            continue;
        }
        if dp.binary_ref || dp.ptype == PropertyType::Binary {
            binaries.push(dp.name.as_str());
            continue;
        }
        let mut ptype = dp.ptype;
        if ptype == PropertyType::Undefined {
            ptype = eff
                .property_definition(&dp.name, PropertyType::Undefined, dp.multiple)
                .map(|d| d.def.required_type)
                .filter(|t| !matches!(t, PropertyType::Undefined | PropertyType::Binary))
                .unwrap_or(PropertyType::String);
        }
        let parsed: Option<Vec<Value>> = dp
            .values
            .iter()
            .map(|v| Value::parse(ptype, v).ok())
            .collect();
        let (ptype, values) = match parsed {
            Some(v) => (ptype, v),
            None => (
                PropertyType::String,
                dp.values.iter().map(|v| Value::String(v.clone())).collect(),
            ),
        };
        let p = if dp.multiple {
            Property::multi(dp.name.clone(), ptype, values)
        } else {
            match values.into_iter().next() {
                Some(v) => Property {
                    ptype,
                    ..Property::single(dp.name.clone(), v)
                },
                None => continue,
            }
        };
        node.set(p);
    }
    let mut names: Vec<String> = Vec::new();
    for c in &el.children {
        let mut child = Node::new(c.name.clone(), c.primary_type().unwrap_or_default());
        child.index = c.index;
        names.push(c.segment());
        node.children.push(child);
    }
    if let Some(l) = pkg.layout.find(n.path) {
        for c in l.children() {
            let seg = c.segment();
            if !names.iter().any(|s| s == seg) && !c.is_empty() {
                let (name, _) = seg.split_once('[').unwrap_or((seg, ""));
                node.children.push(Node::new(name, ""));
            }
        }
    }
    types
        .registry
        .check_node(&node)
        .into_iter()
        .filter(|v| match v {
            Violation::NoPropertyDefinition { .. }
            | Violation::ValueNotConvertible { .. }
            | Violation::ConstraintViolated { .. }
            | Violation::NoChildDefinition { .. }
            | Violation::SameNameSiblingsNotAllowed { .. }
            | Violation::MissingMandatoryChild { .. } => true,
            Violation::MissingMandatoryProperty { name, .. } => {
                !binaries.contains(&name.as_str()) && name != "jcr:data"
            }
            _ => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(body: &str, cnd: Option<&str>) -> Vec<String> {
        let f = filter(r#"<filter root="/content/x"/>"#);
        let d = docview(body);
        let mut files = vec![
            ("META-INF/vault/filter.xml", f.as_str()),
            ("jcr_root/content/x/.content.xml", d.as_str()),
        ];
        if let Some(c) = cnd {
            files.push(("META-INF/vault/nodetypes.cnd", c));
        }
        messages(&validate(&files), ID)
    }

    #[test]
    fn built_in_types_pass() {
        let m = run(
            r#"jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:versionable]"><a jcr:primaryType="nt:folder"/>"#,
            None,
        );
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn unknown_types_warn_once() {
        let m = run(
            r#"jcr:primaryType="cq:Page"><a jcr:primaryType="cq:Page"/>"#,
            None,
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("warning: unknown node type 'cq:Page'"),
            "{m:?}"
        );
    }

    #[test]
    fn cnd_declares_types() {
        let cnd = "<my = 'http://example.com/my'>\n[my:Page] > nt:unstructured\n";
        let m = run(
            r#"xmlns:my="http://example.com/my" jcr:primaryType="my:Page">"#,
            Some(cnd),
        );
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn invalid_cnd_has_location() {
        let m = run(
            r#"jcr:primaryType="nt:unstructured">"#,
            Some("[my:Broken > nt:base\n"),
        );
        assert!(
            m.iter().any(|m| m.starts_with("error: invalid CND")),
            "{m:?}"
        );
    }

    #[test]
    fn misuse_of_known_types() {
        let m = run(
            r#"jcr:primaryType="mix:versionable"><a jcr:primaryType="nt:base"/><b jcr:primaryType="nt:unstructured" jcr:mixinTypes="[nt:folder]"/><c foo="bar"/>"#,
            None,
        );
        assert!(
            m.iter()
                .any(|m| m.contains("mixin type and cannot be a primary type")),
            "{m:?}"
        );
        assert!(m.iter().any(|m| m.contains("abstract")), "{m:?}");
        assert!(m.iter().any(|m| m.contains("is not a mixin type")), "{m:?}");
        assert!(
            m.iter()
                .any(|m| m.contains("jcr:primaryType missing on node '/content/x/c'")),
            "{m:?}"
        );
    }

    #[test]
    fn definitions_are_checked() {
        let cnd = "<my = 'http://example.com/my'>\n[my:Strict] > nt:base\n  - my:count (long) mandatory\n  - my:color (string) < 'red', 'blue'\n  + my:child (nt:base)\n";
        let m = run(
            r#"xmlns:my="http://example.com/my" jcr:primaryType="nt:unstructured"><s jcr:primaryType="my:Strict" my:count="x" my:color="green" other="1"><bad jcr:primaryType="nt:unstructured"/></s><t jcr:primaryType="my:Strict"/><f jcr:primaryType="nt:folder" jcr:title="x"/>"#,
            Some(cnd),
        );
        assert!(
            m.iter()
                .any(|m| m.contains("'/content/x/s'") && m.contains("my:count")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("'/content/x/s'") && m.contains("green")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("'/content/x/s'") && m.contains("other")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("'/content/x/s'") && m.contains("bad")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("'/content/x/t'") && m.contains("my:count")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("'/content/x/f'") && m.contains("jcr:title")),
            "{m:?}"
        );
    }

    #[test]
    fn undeclared_prefixes() {
        let m = run(
            r#"jcr:primaryType="foo:Thing"><a jcr:primaryType="dam:Asset"/>"#,
            None,
        );
        assert!(
            m.iter().any(|m| m.starts_with(
                "error: primary type 'foo:Thing': namespace prefix 'foo' is not declared"
            )),
            "{m:?}"
        );
        assert!(m.iter().any(|m| m.starts_with("warning: primary type 'dam:Asset': namespace prefix 'dam'")), "{m:?}");
    }
}
