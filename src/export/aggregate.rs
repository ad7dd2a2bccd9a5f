//! Which aggregator of FileVault's default chain (reference §7.1) serializes a node:
//! the first that matches wins.

use crate::cnd::NodeTypeRegistry;

/// One of FileVault's default aggregators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregator {
    /// `nt:file` with `jcr:content/jcr:data`, or an `nt:resource`: a plain file.
    File,
    /// A hierarchy node with a `jcr:content` child: `.content.xml` with the node and
    /// its non-hierarchy descendants.
    FileFolder,
    /// Full coverage: the whole subtree in `name.xml` (ACLs, OSGi configs, ...).
    Full,
    /// `nt:folder`: its properties only; a plain folder is a bare directory.
    Folder,
    /// Everything else: the node and its descendants except hierarchy nodes.
    Generic,
}

/// Types FileVault serializes with full coverage (with their subtypes).
const FULL_TYPES: [&str; 9] = [
    "rep:AccessControl",
    "rep:Policy",
    "rep:ACL",
    "rep:CugPolicy",
    "rep:PrincipalPolicy",
    "cq:Widget",
    "cq:EditConfig",
    "cq:WorkflowModel",
    "sling:OsgiConfig",
];

/// Hierarchy node types of AEM and Sling that packages use without shipping their
/// definitions; known here so that exports of such content aggregate as FileVault's do.
const KNOWN_HIERARCHY: [&str; 7] = [
    "cq:Page",
    "dam:Asset",
    "sling:Folder",
    "sling:OrderedFolder",
    "cq:ClientLibraryFolder",
    "cq:Template",
    "cq:Component",
];

/// The facts about a node that the choice needs.
pub struct NodeFacts<'a> {
    /// Primary type.
    pub primary: &'a str,
    /// Mixins.
    pub mixins: &'a [String],
    /// It has a `jcr:content` child.
    pub has_content_child: bool,
    /// It (nt:resource) or its `jcr:content` (nt:file) has `jcr:data`.
    pub has_data: bool,
}

/// Whether nodes of `t` are hierarchy nodes (files and folders).
pub fn is_hierarchy(types: &NodeTypeRegistry, t: &str) -> bool {
    types.is_node_type(t, "nt:hierarchyNode")
        || KNOWN_HIERARCHY.contains(&t)
        || types.is_node_type(t, "sling:Folder")
}

fn is(types: &NodeTypeRegistry, t: &str, of: &str) -> bool {
    t == of || types.is_node_type(t, of)
}

/// What the aggregator chain and the exporter ask about a node type, answered once
/// per type (each question walks the type's supertypes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeFacts {
    /// It is `nt:file` or a subtype.
    pub file: bool,
    /// It is `nt:resource` or a subtype.
    pub resource: bool,
    /// It is a hierarchy node type ([`is_hierarchy`]).
    pub hierarchy: bool,
    /// It is one of the full-coverage types or a subtype.
    pub full: bool,
    /// It is `nt:folder` or a subtype.
    pub folder: bool,
    /// Its children are ordered (unknown types are taken as orderable).
    pub orderable: bool,
}

impl TypeFacts {
    /// The facts about type `t`.
    pub fn of(types: &NodeTypeRegistry, t: &str) -> TypeFacts {
        TypeFacts {
            file: is(types, t, "nt:file"),
            resource: is(types, t, "nt:resource"),
            hierarchy: is_hierarchy(types, t),
            full: FULL_TYPES.iter().any(|f| is(types, t, f)),
            folder: is(types, t, "nt:folder"),
            orderable: types.is_orderable(t).unwrap_or(true),
        }
    }
}

/// The aggregator for a node.
pub fn choose(types: &NodeTypeRegistry, n: &NodeFacts<'_>) -> Aggregator {
    choose_by(&TypeFacts::of(types, n.primary), n)
}

/// [`choose`] with the facts about `n.primary` already known.
pub fn choose_by(t: &TypeFacts, n: &NodeFacts<'_>) -> Aggregator {
    if n.has_data && (t.file || t.resource) {
        return Aggregator::File;
    }
    if t.hierarchy && n.has_content_child && !t.file {
        return Aggregator::FileFolder;
    }
    let full = t.full
        || n.mixins.iter().any(|m| {
            m == "vlt:FullCoverage" || m == "mix:language" || FULL_TYPES.contains(&m.as_str())
        });
    if full {
        return Aggregator::Full;
    }
    if t.folder {
        return Aggregator::Folder;
    }
    Aggregator::Generic
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        primary: &'a str,
        mixins: &'a [String],
        content: bool,
        data: bool,
    ) -> NodeFacts<'a> {
        NodeFacts {
            primary,
            mixins,
            has_content_child: content,
            has_data: data,
        }
    }

    #[test]
    fn first_match_wins() {
        let t = NodeTypeRegistry::new();
        let none: Vec<String> = vec![];
        assert_eq!(
            choose(&t, &facts("nt:file", &none, true, true)),
            Aggregator::File
        );
        assert_eq!(
            choose(&t, &facts("nt:resource", &none, false, true)),
            Aggregator::File
        );
        assert_eq!(
            choose(&t, &facts("cq:Page", &none, true, false)),
            Aggregator::FileFolder
        );
        assert_eq!(
            choose(&t, &facts("rep:ACL", &none, false, false)),
            Aggregator::Full
        );
        let fc = vec!["vlt:FullCoverage".to_string()];
        assert_eq!(
            choose(&t, &facts("nt:unstructured", &fc, false, false)),
            Aggregator::Full
        );
        assert_eq!(
            choose(&t, &facts("nt:folder", &none, false, false)),
            Aggregator::Folder
        );
        assert_eq!(
            choose(&t, &facts("nt:unstructured", &none, false, false)),
            Aggregator::Generic
        );
    }

    #[test]
    fn type_facts_answer_per_type_what_the_chain_asks() {
        let t = NodeTypeRegistry::new();
        let f = TypeFacts::of(&t, "nt:file");
        assert!(f.file && f.hierarchy && !f.resource && !f.folder && !f.full);
        let r = TypeFacts::of(&t, "nt:resource");
        assert!(r.resource && !r.file && !r.hierarchy);
        let d = TypeFacts::of(&t, "nt:folder");
        assert!(d.folder && d.hierarchy && !d.orderable);
        assert!(TypeFacts::of(&t, "cq:Page").hierarchy);
        assert!(TypeFacts::of(&t, "rep:ACL").full);
        let u = TypeFacts::of(&t, "nt:unstructured");
        assert!(u.orderable && !u.hierarchy && !u.full);
        assert!(TypeFacts::of(&t, "x:unknown").orderable);
    }
}
