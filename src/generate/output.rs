//! Writing the source folder: JCR paths to file-system paths, DocView files through
//! [`crate::docview::writer`], plain files, and the running totals.

use crate::docview::{writer, DocViewDocument, DocViewElement, DocViewProperty};
use crate::location::Location;
use crate::platform_name::{to_platform_name, JCR_ROOT};
use crate::value::PropertyType;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The namespaces generated content uses, in the order they are declared.
pub const NAMESPACES: &[(&str, &str)] = &[
    ("jcr", "http://www.jcp.org/jcr/1.0"),
    ("sling", "http://sling.apache.org/jcr/sling/1.0"),
    ("cq", "http://www.day.com/jcr/cq/1.0"),
    ("dam", "http://www.day.com/dam/1.0"),
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("tiff", "http://ns.adobe.com/tiff/1.0/"),
    ("nt", "http://www.jcp.org/jcr/nt/1.0"),
    ("mix", "http://www.jcp.org/jcr/mix/1.0"),
    ("rep", "internal"),
    ("crx", "http://www.day.com/crx/1.0"),
];

/// An element (a node) with its primary type and no other property yet.
pub fn node(name: &str, primary_type: &str) -> DocViewElement {
    DocViewElement {
        name: name.to_string(),
        index: 1,
        properties: vec![typed(
            "jcr:primaryType",
            PropertyType::Name,
            &[primary_type],
            false,
        )],
        children: Vec::new(),
        location: Location::file(""),
    }
}

/// An element without attributes: it only orders a child written in its own file.
pub fn placeholder(name: &str) -> DocViewElement {
    DocViewElement {
        name: name.to_string(),
        index: 1,
        properties: Vec::new(),
        children: Vec::new(),
        location: Location::file(""),
    }
}

/// A property of type `ptype` (`multiple` writes it as an array).
pub fn typed(name: &str, ptype: PropertyType, values: &[&str], multiple: bool) -> DocViewProperty {
    DocViewProperty {
        name: name.to_string(),
        ptype,
        binary_ref: false,
        multiple,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

/// A single-valued string property.
pub fn string(name: &str, value: &str) -> DocViewProperty {
    typed(name, PropertyType::String, &[value], false)
}

/// Adds properties to an element, builder style.
pub fn with(mut el: DocViewElement, props: Vec<DocViewProperty>) -> DocViewElement {
    el.properties.extend(props);
    el
}

/// The running totals of a generation (shared by parallel workers).
#[derive(Debug, Default)]
pub struct Totals {
    /// JCR nodes written (elements with properties, plus two per plain file).
    pub nodes: AtomicU64,
    /// Files written.
    pub files: AtomicU64,
    /// Bytes written.
    pub bytes: AtomicU64,
    /// Bytes of binaries (plain files other than DocView and package metadata).
    pub binary_bytes: AtomicU64,
}

/// Where generated files go.
#[derive(Debug)]
pub struct Output {
    /// The source folder (holding `jcr_root/` and `META-INF/`).
    pub dir: PathBuf,
    /// What has been written so far.
    pub totals: Totals,
}

impl Output {
    /// An output into `dir`.
    pub fn new(dir: &Path) -> Output {
        Output {
            dir: dir.to_path_buf(),
            totals: Totals::default(),
        }
    }

    /// The file-system folder of the repository path `jcr_path` (`/content/a`).
    pub fn folder(&self, jcr_path: &str) -> PathBuf {
        let mut p = self.dir.join(JCR_ROOT);
        for seg in jcr_path.split('/').filter(|s| !s.is_empty()) {
            p.push(to_platform_name(seg));
        }
        p
    }

    /// Writes `bytes` to `path`, creating the folders above it.
    pub fn write_raw(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
        self.totals.files.fetch_add(1, Ordering::Relaxed);
        self.totals
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes `root` as the `.content.xml` of the node at `jcr_path` (a folder
    /// aggregate), or as `NAME.xml` next to it when `full_coverage` names the file
    /// (`_rep_policy.xml`).
    pub fn docview(
        &self,
        jcr_path: &str,
        root: DocViewElement,
        full_coverage: bool,
    ) -> io::Result<()> {
        let path = if full_coverage {
            let (parent, name) = jcr_path.rsplit_once('/').unwrap_or(("", jcr_path));
            self.folder(parent)
                .join(format!("{}.xml", to_platform_name(name)))
        } else {
            self.folder(jcr_path).join(".content.xml")
        };
        let nodes = count_nodes(&root);
        let doc = DocViewDocument {
            namespaces: namespaces_of(&root),
            root,
            root_is_jcr_root: true,
            warnings: Vec::new(),
        };
        self.write_raw(&path, &writer::to_vec(&doc))?;
        self.totals.nodes.fetch_add(nodes, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a plain file: an `nt:file` at `jcr_path` whose `jcr:content` holds
    /// `bytes` (two nodes).
    pub fn file(&self, jcr_path: &str, bytes: &[u8]) -> io::Result<()> {
        let (parent, name) = jcr_path.rsplit_once('/').unwrap_or(("", jcr_path));
        self.write_raw(&self.folder(parent).join(to_platform_name(name)), bytes)?;
        self.totals.nodes.fetch_add(2, Ordering::Relaxed);
        self.totals
            .binary_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a plain file whose node (`root`, an `nt:file` element) is described by
    /// `NAME.dir/.content.xml`, as FileVault exports files it cannot describe by the
    /// file alone (no extension, extra properties).
    pub fn file_with_docview(
        &self,
        jcr_path: &str,
        bytes: &[u8],
        root: DocViewElement,
    ) -> io::Result<()> {
        let (parent, name) = jcr_path.rsplit_once('/').unwrap_or(("", jcr_path));
        let folder = self.folder(parent);
        self.write_raw(&folder.join(to_platform_name(name)), bytes)?;
        self.totals
            .binary_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let dir = format!("{parent}/{name}.dir");
        self.docview(&dir, root, false)
    }

    /// Writes a package metadata file below `META-INF/vault/`.
    pub fn vault_file(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.write_raw(&self.dir.join("META-INF").join("vault").join(name), bytes)
    }
}

/// Elements with properties (placeholders are not nodes of this file).
fn count_nodes(el: &DocViewElement) -> u64 {
    let own = u64::from(!el.is_placeholder());
    own + el.children.iter().map(count_nodes).sum::<u64>()
}

/// The declarations a document needs: every known prefix used by an element or
/// property name or by a name value, in [`NAMESPACES`] order.
fn namespaces_of(root: &DocViewElement) -> Vec<(String, String)> {
    let mut used = vec![false; NAMESPACES.len()];
    let mut mark = |s: &str| {
        if let Some((p, _)) = s.split_once(':') {
            if let Some(i) = NAMESPACES.iter().position(|(q, _)| *q == p) {
                used[i] = true;
            }
        }
    };
    fn visit(el: &DocViewElement, mark: &mut dyn FnMut(&str)) {
        mark(&el.name);
        for p in &el.properties {
            mark(&p.name);
            if matches!(p.ptype, PropertyType::Name) {
                for v in &p.values {
                    mark(v);
                }
            }
        }
        for c in &el.children {
            visit(c, mark);
        }
    }
    visit(root, &mut mark);
    used[0] = true;
    NAMESPACES
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|((p, u), _)| (p.to_string(), u.to_string()))
        .collect()
}
