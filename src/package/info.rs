//! A summary of a package (`jcrpack info`): its id, type, dependencies, filter, how
//! much content it holds, the node types and namespaces it declares, and its install
//! hooks (which jcrpack never runs).

use super::inspect::{self, Contents};
use super::{metadata_cnds, read_filter, read_properties, PackageError};
use crate::archive::Archive;
use crate::filter::WorkspaceFilter;
use serde::Serialize;

/// Where internal install hooks (jars) live.
pub const HOOKS_DIR: &str = "META-INF/vault/hooks";

/// What `jcrpack info` reports about a package.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageInfo {
    /// The package as given (its path).
    pub package: String,
    /// `zip` or `folder`.
    pub kind: String,
    /// `group:name:version`, when `properties.xml` names the package.
    pub id: Option<String>,
    /// The group.
    pub group: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The version (empty when none).
    pub version: String,
    /// The description.
    pub description: Option<String>,
    /// `packageType` as declared (application, content, container, mixed).
    pub package_type: Option<String>,
    /// Dependencies (`group:name:range`), as declared.
    pub dependencies: Vec<String>,
    /// The filter sets of `filter.xml` (empty when the package has none).
    pub filter: Vec<FilterSetInfo>,
    /// What the package holds.
    pub counts: Counts,
    /// Node types declared by `META-INF/vault/*.cnd`, in file order.
    pub node_types: Vec<String>,
    /// Namespaces declared by the CND files and the DocView files, in the order met.
    pub namespaces: Vec<NamespaceInfo>,
    /// Install hooks (never run by jcrpack).
    pub install_hooks: Vec<HookInfo>,
    /// Things that could not be read, and the hooks warning.
    pub warnings: Vec<String>,
}

/// One `<filter>` of `filter.xml`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSetInfo {
    /// The root path.
    pub root: String,
    /// The import mode.
    pub mode: String,
    /// The `type` attribute (`cleanup`), when given.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The rules in order.
    pub rules: Vec<RuleInfo>,
}

/// One include or exclude rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInfo {
    /// `include` or `exclude`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The pattern as written.
    pub pattern: String,
    /// `matchProperties="true"`: the rule is about properties.
    pub match_properties: bool,
}

/// Sizes of a package.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Repository nodes the content describes (layout nodes and DocView elements that
    /// are not ordering placeholders; see [`inspect`]).
    pub nodes: u64,
    /// File entries in the archive, metadata included.
    pub files: u64,
    /// Their uncompressed size in bytes.
    pub bytes: u64,
}

/// A namespace declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceInfo {
    /// The prefix.
    pub prefix: String,
    /// The URI.
    pub uri: String,
}

/// An install hook.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookInfo {
    /// The hook's name (`installhook.NAME.class`) or its jar's file name.
    pub name: String,
    /// The Java class, for a hook named in `properties.xml`.
    pub class: Option<String>,
    /// The jar entry, for an internal hook (`META-INF/vault/hooks/*.jar`).
    pub entry: Option<String>,
}

/// The filter sets of a workspace filter, as reported.
pub fn filter_info(f: &WorkspaceFilter) -> Vec<FilterSetInfo> {
    f.sets
        .iter()
        .map(|s| FilterSetInfo {
            root: s.root().to_string(),
            mode: s.mode.as_str().to_string(),
            kind: s.kind.clone(),
            rules: s
                .rules
                .iter()
                .map(|r| RuleInfo {
                    kind: r.kind().to_string(),
                    pattern: r.pattern.as_str().to_string(),
                    match_properties: r.match_properties,
                })
                .collect(),
        })
        .collect()
}

/// Summarizes a package. Malformed metadata (`properties.xml`, `filter.xml`) and an
/// unreadable archive are errors; a DocView or CND file that cannot be read is a
/// warning.
pub fn info(archive: &dyn Archive) -> Result<PackageInfo, PackageError> {
    let props = read_properties(archive)?;
    let filter = read_filter(archive)?;
    // Laid out on the way and counted as they go by, never collected: a million-node
    // package costs no more than its largest folder and DocView file here.
    let mut node_count = 0u64;
    let Contents {
        namespaces: dv_namespaces,
        mut warnings,
        ..
    } = inspect::walk_lazy(archive, &|_| true, &mut |_| node_count += 1)?;

    let mut node_types = Vec::new();
    let mut namespaces: Vec<NamespaceInfo> = Vec::new();
    let add_ns = |prefix: &str, uri: &str, namespaces: &mut Vec<NamespaceInfo>| {
        if !namespaces
            .iter()
            .any(|n| n.prefix == prefix && n.uri == uri)
        {
            namespaces.push(NamespaceInfo {
                prefix: prefix.to_string(),
                uri: uri.to_string(),
            });
        }
    };
    for entry in metadata_cnds(archive) {
        let parsed = archive
            .read_to_vec(&entry)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::cnd::parse_bytes(&b, &entry).map_err(|e| e.to_string()));
        match parsed {
            Ok(cnd) => {
                for (p, u) in &cnd.namespaces {
                    add_ns(p, u, &mut namespaces);
                }
                for t in &cnd.types {
                    if !node_types.contains(&t.name) {
                        node_types.push(t.name.clone());
                    }
                }
            }
            Err(e) => warnings.push(e),
        }
    }
    for (p, u) in &dv_namespaces {
        add_ns(p, u, &mut namespaces);
    }

    let mut install_hooks = Vec::new();
    match props.install_hooks() {
        Ok(hooks) => {
            for (name, class) in hooks {
                install_hooks.push(HookInfo {
                    name,
                    class: Some(class),
                    entry: None,
                });
            }
        }
        Err(e) => warnings.push(format!("installhook properties: {e}")),
    }
    for e in archive.listing().files() {
        if e.parent() == HOOKS_DIR && e.name().ends_with(".jar") {
            install_hooks.push(HookInfo {
                name: e.file_name().to_string(),
                class: None,
                entry: Some(e.name().to_string()),
            });
        }
    }
    if !install_hooks.is_empty() {
        warnings.push(format!(
            "the package has {} install hook(s): they are Java code and jcrpack never runs them",
            install_hooks.len()
        ));
    }

    let (mut files, mut bytes) = (0u64, 0u64);
    for e in archive.listing().files() {
        files += 1;
        bytes += e.size();
    }
    let dependencies = match props.dependencies() {
        Ok(d) => d.iter().map(ToString::to_string).collect(),
        Err(e) => {
            warnings.push(format!("dependencies: {e}"));
            props
                .get("dependencies")
                .map(|s| vec![s.to_string()])
                .unwrap_or_default()
        }
    };
    Ok(PackageInfo {
        package: archive.name().to_string(),
        kind: archive.kind().to_string(),
        id: props.id().map(|i| i.to_string()),
        group: props.group().map(str::to_string),
        name: props.name().map(str::to_string),
        version: props.version().to_string(),
        description: props.description().map(str::to_string),
        package_type: props.get("packageType").map(str::to_string),
        dependencies,
        filter: filter.as_ref().map(filter_info).unwrap_or_default(),
        counts: Counts {
            nodes: node_count,
            files,
            bytes,
        },
        node_types,
        namespaces,
        install_hooks,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, ReadOptions};

    #[test]
    fn summarizes_the_fixture_package() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/packages/inspect-demo"
        );
        let a = open(dir, &ReadOptions::default()).unwrap();
        let i = info(a.as_ref()).unwrap();
        assert_eq!(i.id.as_deref(), Some("jcrpack/fixtures:inspect-demo:1.2.0"));
        assert_eq!(i.package_type.as_deref(), Some("mixed"));
        assert_eq!(i.filter.len(), 2);
        assert_eq!(i.filter[1].rules[0].kind, "exclude");
        assert_eq!(i.counts.nodes, 14);
        assert_eq!(i.counts.files, 9);
        assert_eq!(
            i.node_types,
            ["demo:Page", "demo:PageContent", "demo:Unused"]
        );
        assert!(i.namespaces.iter().any(|n| n.prefix == "mix"));
        assert_eq!(i.install_hooks.len(), 1);
        assert!(i.warnings.iter().any(|w| w.contains("never runs")));
    }
}
