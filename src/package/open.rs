//! A package opened once: its archive, `properties.xml`, `filter.xml`, the CND files
//! that declare its node types, and the layout of `jcr_root/`, read in that order and
//! handed down whole to whoever installs or inspects it.

use super::flat::FlatLayout;
use super::layout::{scan, IgnoreList, Layout, LayoutNode};
use super::{metadata_cnds, read_filter, read_properties, PackageError};
use crate::archive::Archive;
use crate::cnd::{self, CndFile};
use crate::filter::WorkspaceFilter;
use crate::properties::PackageProperties;

/// The newest `packageFormatVersion` jcrpack installs (FileVault's is 2).
pub const MAX_PACKAGE_FORMAT_VERSION: i32 = 2;

/// How to open a package.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// File names the layout skips (`settings.xml`'s ignore list).
    pub ignore: IgnoreList,
    /// Lay out `jcr_root/` as flat arrays ([`Package::flat`]) instead of a tree:
    /// [`Package::layout`] then has an empty root and only the `.cnd` and sub-package
    /// lists (what the importer wants at a million nodes).
    pub flat: bool,
}

/// A CND file of the package that declares node types, parsed. A file that does not
/// parse or read keeps its error until someone registers the types, so that opening a
/// package reports the same first problem as FileVault's install does.
#[derive(Debug)]
pub struct NodeTypeFile {
    /// The entry (`META-INF/vault/nodetypes.cnd`, `jcr_root/apps/x/nodetypes.cnd`).
    pub entry: String,
    /// The parsed file, or why it could not be read.
    pub cnd: Result<CndFile, PackageError>,
}

/// A package, opened once.
pub struct Package<'a> {
    /// The archive (zip or folder).
    pub archive: &'a dyn Archive,
    /// `properties.xml`, empty when the package has none.
    pub properties: PackageProperties,
    /// `filter.xml`, `None` when the package has none.
    pub filter: Option<WorkspaceFilter>,
    /// The CND files whose node types an install registers: `META-INF/vault/*.cnd`
    /// (sorted), then those of `jcr_root/` whose path matches the package's
    /// `cndPattern`.
    pub node_types: Vec<NodeTypeFile>,
    /// `jcr_root/` as repository paths, with the sub packages and content CNDs.
    pub layout: Layout,
    /// `jcr_root/` as flat arrays, when opened with [`OpenOptions::flat`].
    pub flat: Option<FlatLayout<'a>>,
}

impl std::fmt::Debug for Package<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Package")
            .field("archive", &self.archive.name())
            .field("properties", &self.properties)
            .field("filter", &self.filter)
            .field("node_types", &self.node_types)
            .field("layout", &self.layout)
            .finish()
    }
}

impl<'a> Package<'a> {
    /// Opens `archive`: reads its properties, then the rest as
    /// [`Package::with_properties`] does.
    pub fn open(archive: &'a dyn Archive, options: &OpenOptions) -> Result<Self, PackageError> {
        let properties = read_properties(archive)?;
        Package::with_properties(archive, properties, options)
    }

    /// Opens `archive` whose `properties.xml` the caller has read already (a sub
    /// package, whose properties decide whether it is installed at all): refuses a
    /// package format newer than jcrpack reads, then reads the filter, lays out
    /// `jcr_root/` and parses the CND files.
    pub fn with_properties(
        archive: &'a dyn Archive,
        properties: PackageProperties,
        options: &OpenOptions,
    ) -> Result<Self, PackageError> {
        let version = properties.package_format_version();
        if version > MAX_PACKAGE_FORMAT_VERSION {
            return Err(PackageError::UnsupportedFormat {
                package: archive.name().to_string(),
                version,
            });
        }
        let filter = read_filter(archive)?;
        let (layout, flat) = if options.flat {
            let flat = super::flat::scan(archive, &options.ignore)?;
            let layout = Layout {
                root: LayoutNode {
                    path: "/".into(),
                    ..LayoutNode::default()
                },
                cnds: flat.cnds().to_vec(),
                sub_packages: flat.sub_packages().to_vec(),
            };
            (layout, Some(flat))
        } else {
            (scan(archive, &options.ignore)?, None)
        };
        let mut entries = metadata_cnds(archive);
        if let Ok(re) = regex::Regex::new(&format!("^(?:{})$", properties.cnd_pattern())) {
            for (entry, repo_path) in &layout.cnds {
                if re.is_match(repo_path) {
                    entries.push(entry.clone());
                }
            }
        }
        let node_types = entries
            .into_iter()
            .map(|entry| {
                let cnd = archive
                    .read_to_vec(&entry)
                    .map_err(PackageError::from)
                    .and_then(|bytes| {
                        cnd::parse_bytes(&bytes, &format!("{}:{entry}", archive.name()))
                            .map_err(PackageError::NodeTypes)
                    });
                NodeTypeFile { entry, cnd }
            })
            .collect();
        Ok(Package {
            archive,
            properties,
            filter,
            node_types,
            layout,
            flat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{self, ReadOptions};

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const FILTER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0"><filter root="/apps/x"/></workspaceFilter>"#;

    fn props(extra: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties><entry key="group">g</entry><entry key="name">n</entry><entry key="version">1</entry>{extra}</properties>"#
        )
    }

    #[test]
    fn opens_metadata_layout_and_node_types_once() {
        let p = props("");
        let dir = folder(&[
            ("META-INF/vault/properties.xml", &p),
            ("META-INF/vault/filter.xml", FILTER),
            (
                "META-INF/vault/nodetypes.cnd",
                "[x:T] > nt:base\n<x='urn:x'>",
            ),
            (
                "jcr_root/apps/x/.content.xml",
                "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"/>",
            ),
            (
                "jcr_root/apps/x/nodetypes/types.cnd",
                "<x='urn:x'>\n[x:U] > nt:base",
            ),
        ]);
        let a = archive::open(dir.path(), &ReadOptions::default()).unwrap();
        let pkg = Package::open(a.as_ref(), &OpenOptions::default()).unwrap();
        assert_eq!(pkg.properties.id().unwrap().to_string(), "g:n:1");
        assert_eq!(pkg.filter.as_ref().unwrap().sets.len(), 1);
        assert!(pkg.layout.root.find("/apps/x").is_some());
        let entries: Vec<&str> = pkg.node_types.iter().map(|f| f.entry.as_str()).collect();
        assert_eq!(
            entries,
            [
                "META-INF/vault/nodetypes.cnd",
                "jcr_root/apps/x/nodetypes/types.cnd"
            ]
        );
        assert!(pkg.node_types[1].cnd.is_ok(), "{:?}", pkg.node_types[1].cnd);
    }

    #[test]
    fn refuses_a_newer_package_format_before_reading_the_rest() {
        let p = props(r#"<entry key="packageFormatVersion">3</entry>"#);
        let dir = folder(&[
            ("META-INF/vault/properties.xml", &p),
            ("META-INF/vault/filter.xml", "<not a filter"),
        ]);
        let a = archive::open(dir.path(), &ReadOptions::default()).unwrap();
        let e = Package::open(a.as_ref(), &OpenOptions::default()).unwrap_err();
        assert!(
            matches!(e, PackageError::UnsupportedFormat { version: 3, .. }),
            "{e}"
        );
        assert!(e
            .to_string()
            .ends_with("package format version 3 is not supported (at most 2)"));
    }

    #[test]
    fn a_malformed_filter_names_its_file() {
        let p = props("");
        let dir = folder(&[
            ("META-INF/vault/properties.xml", &p),
            ("META-INF/vault/filter.xml", "<workspaceFilter><filter/>"),
        ]);
        let a = archive::open(dir.path(), &ReadOptions::default()).unwrap();
        let e = Package::open(a.as_ref(), &OpenOptions::default()).unwrap_err();
        assert!(matches!(e, PackageError::Filter(_)), "{e:?}");
        assert!(e.to_string().contains("filter.xml"), "{e}");
    }
}
