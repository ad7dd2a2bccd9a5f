//! The built-in node types, and which of them an exporter leaves out of
//! `nodetypes.cnd`.
//!
//! Two different sets:
//! * [`definitions`]: every type a fresh [`super::NodeTypeRegistry`] knows — JCR 2.0's
//!   `nt:`/`mix:` types, Oak's `rep:`/`oak:` types (including closed user groups and
//!   principal-based authorization) and FileVault's `vlt:` types — written as CND in
//!   `builtin.cnd`.
//! * [`is_export_builtin`]: the names FileVault's exporter treats as present in every
//!   repository and therefore never writes to `nodetypes.cnd` (reference §7.7,
//!   FileVault's `DefaultNodeTypes.CRX_3X_NODE_TYPES`, the set its Oak service provider
//!   reports). It is narrower: `rep:RepoAccessControllable`, `rep:CugMixin`,
//!   `rep:Password`, `mix:atomicCounter` and the `vlt:` types, for example, are known
//!   to the registry but still exported, as FileVault's own test packages show.

use super::definition::NodeTypeDef;
use super::parser::parse;
use std::sync::OnceLock;

/// The built-in definitions as CND text.
pub const BUILTIN_CND: &str = include_str!("builtin.cnd");

/// The namespace mappings the built-in types use (all JCR built-ins except `vlt`,
/// which a repository must register before it can store `vlt:` names).
pub const NAMESPACES: &[(&str, &str)] = &[
    ("jcr", crate::namespace::JCR),
    ("nt", crate::namespace::NT),
    ("mix", crate::namespace::MIX),
    ("rep", crate::namespace::REP),
    ("oak", crate::namespace::OAK),
    ("vlt", crate::namespace::VLT),
];

/// The built-in node type definitions, parsed once.
pub fn definitions() -> &'static [NodeTypeDef] {
    static DEFS: OnceLock<Vec<NodeTypeDef>> = OnceLock::new();
    DEFS.get_or_init(|| match parse(BUILTIN_CND, "builtin.cnd") {
        Ok(f) => f.types,
        Err(e) => {
            // Unreachable: a unit test parses this constant.
            tracing::error!("built-in node types do not parse: {e}");
            Vec::new()
        }
    })
}

/// JCR 1.0 (JSR 170) types.
const JSR170: &[&str] = &[
    "nt:base",
    "nt:unstructured",
    "mix:referenceable",
    "mix:lockable",
    "mix:versionable",
    "nt:versionHistory",
    "nt:versionLabels",
    "nt:version",
    "nt:frozenNode",
    "nt:versionedChild",
    "nt:nodeType",
    "nt:propertyDefinition",
    "nt:childNodeDefinition",
    "nt:hierarchyNode",
    "nt:folder",
    "nt:file",
    "nt:linkedFile",
    "nt:resource",
    "nt:query",
];

/// Added by JCR 2.0 (JSR 283).
const JSR283: &[&str] = &[
    "mix:created",
    "mix:lastModified",
    "mix:etag",
    "mix:title",
    "mix:language",
    "mix:mimeType",
    "mix:shareable",
    "mix:simpleVersionable",
    "mix:lifecycle",
    "nt:address",
    "nt:activity",
    "nt:configuration",
];

/// Jackrabbit 2.x internals.
const JACKRABBIT_2X: &[&str] = &[
    "rep:nodeTypes",
    "rep:root",
    "rep:system",
    "rep:versionStorage",
    "rep:Activities",
    "rep:Configurations",
    "rep:VersionReference",
    "rep:AccessControllable",
    "rep:Policy",
    "rep:ACL",
    "rep:ACE",
    "rep:GrantACE",
    "rep:DenyACE",
    "rep:AccessControl",
    "rep:PrincipalAccessControl",
    "rep:Authorizable",
    "rep:Impersonatable",
    "rep:User",
    "rep:Group",
    "rep:AuthorizableFolder",
    "rep:RetentionManageable",
];

/// CRX 2.x types (Adobe's repository before Oak).
const CRX_2X: &[&str] = &[
    "crx:XmlNode",
    "crx:XmlCharacterData",
    "crx:XmlElement",
    "crx:XmlDocument",
    "crx:XmlProcessingInstruction",
    "crx:Package",
    "crx:ItemFilter",
    "crx:HierarchyFilter",
    "crx:OPVValueFilter",
    "crx:DeclaredTypeFilter",
    "crx:NodeTypeFilter",
    "crx:XPathFilter",
    "crx:ResourceBundle",
    "crx:RequestMapping",
    "crx:NodeTypeRequestMapping",
    "crx:PathRequestMapping",
];

/// Added by Oak 1.x.
const OAK_1X: &[&str] = &[
    "rep:SystemUser",
    "rep:MemberReferences",
    "rep:MemberReferencesList",
    "rep:Privileges",
    "rep:Privilege",
    "rep:Token",
    "rep:MergeConflict",
    "rep:PermissionStore",
    "rep:Permissions",
    "rep:Restrictions",
    "rep:NodeType",
    "rep:VersionablePaths",
    "rep:Unstructured",
    "oak:QueryIndexDefinition",
    "oak:Unstructured",
];

/// Whether FileVault's exporter (on Oak) leaves the type `name` out of
/// `nodetypes.cnd` because every repository has it.
pub fn is_export_builtin(name: &str) -> bool {
    export_builtins().any(|n| n == name)
}

/// Every name [`is_export_builtin`] accepts.
pub fn export_builtins() -> impl Iterator<Item = &'static str> {
    [JSR170, JSR283, JACKRABBIT_2X, CRX_2X, OAK_1X]
        .into_iter()
        .flatten()
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cnd::parse;

    #[test]
    fn builtin_cnd_parses_and_round_trips() {
        let file = parse(BUILTIN_CND, "builtin.cnd").expect("builtin.cnd parses");
        assert_eq!(file.types.len(), definitions().len());
        assert_eq!(definitions().len(), 90);
        let written = file.write().expect("writes");
        let again = parse(&written, "written.cnd").expect("written form parses");
        assert_eq!(again.types, file.types);
        // Every prefix the types use is declared by NAMESPACES.
        let uris: Vec<_> = NAMESPACES
            .iter()
            .map(|(p, u)| (p.to_string(), u.to_string()))
            .collect();
        for (p, u) in &again.namespaces {
            assert!(uris.contains(&(p.clone(), u.clone())), "{p}={u}");
        }
        // No type is defined twice.
        let mut names: Vec<&str> = definitions().iter().map(|t| t.name.as_str()).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn export_builtins_are_mostly_known() {
        let known = |n: &str| definitions().iter().any(|t| t.name == n);
        for n in export_builtins() {
            // crx: types come from CRX 2, which jcrpack does not emulate.
            assert!(known(n) || n.starts_with("crx:"), "{n}");
        }
        assert!(is_export_builtin("nt:folder"));
        assert!(is_export_builtin("rep:ACL"));
        assert!(!is_export_builtin("rep:RepoAccessControllable"));
        assert!(!is_export_builtin("rep:CugMixin"));
        assert!(!is_export_builtin("vlt:FullCoverage"));
        assert!(!is_export_builtin("sling:Folder"));
    }

    /// The hand-written definitions carry the same facts as Oak's and FileVault's own
    /// CND files in the corpus.
    #[test]
    fn builtins_match_the_corpus_definitions() {
        let base = crate::test_support::corpus().join("real");
        let base = base.display();
        let files = [
            "apache+jackrabbit-oak/oak-core/src/main/resources/org/apache/jackrabbit/oak/builtin_nodetypes.cnd",
            "apache+jackrabbit-oak/oak-authorization-cug/src/main/resources/org/apache/jackrabbit/oak/spi/security/authorization/cug/impl/cug_nodetypes.cnd",
            "apache+jackrabbit-oak/oak-authorization-principalbased/src/main/resources/org/apache/jackrabbit/oak/spi/security/authorization/principalbased/impl/nodetypes.cnd",
            "apache+jackrabbit-filevault/vault-core/src/main/resources/org/apache/jackrabbit/vault/packaging/impl/nodetypes.cnd",
        ];
        let mut compared: Vec<String> = Vec::new();
        for f in files {
            let path = format!("{base}/{f}");
            let text = std::fs::read_to_string(&path).expect("corpus file readable");
            let parsed = parse(&text, &path).expect("corpus file parses");
            for t in &parsed.types {
                let ours = definitions()
                    .iter()
                    .find(|d| d.name == t.name)
                    .unwrap_or_else(|| panic!("{} is not built in", t.name));
                assert_eq!(ours, t, "{} differs from {f}", t.name);
                compared.push(t.name.clone());
            }
        }
        // Every built-in type carries facts found in these files.
        for d in definitions() {
            assert!(compared.contains(&d.name), "{} not compared", d.name);
        }
    }
}
