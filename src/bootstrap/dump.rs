//! Writing subtrees as bootstrap files Magnolia imports (magnolia.md §1.5, §2.2).
//!
//! The file name is Magnolia's (`name::file_stem` plus `.xml` or `.yaml`). XML is
//! system view as Jackrabbit's exporter writes it for Magnolia: `jcr:primaryType`,
//! `jcr:mixinTypes`, `jcr:uuid` first, the other properties sorted by name, children
//! in repository order, `sv:multiple="true"` on multi-values, binaries base64, two
//! spaces of indentation (Magnolia 5's formatted export); the root declares `sv` and
//! the namespaces the subtree uses, sorted by prefix, so that two dumps of the same
//! content are the same bytes whatever the repository's registration order. YAML is
//! [`super::yaml`]. Both stream, one node at a time (YAML reads the subtree twice:
//! once to refuse what it cannot write before writing anything).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::BootstrapError;
use super::name::{self, Format};
use super::yaml::{yaml_verified, Unsupported, YamlWriter};
use crate::namespace::NamespaceRegistry;
use crate::repository::StoreRead;

/// The file name Magnolia gives the node at `path` of `workspace`.
pub fn file_name(workspace: &str, path: &str, format: Format) -> String {
    format!(
        "{}.{}",
        name::file_stem(workspace, path),
        format.extension()
    )
}

/// Writes the subtree at `path` of `workspace` as one bootstrap document.
pub fn write(
    store: &dyn StoreRead,
    workspace: &str,
    path: &str,
    format: Format,
    lossy: bool,
    out: &mut dyn Write,
) -> Result<(), BootstrapError> {
    if store.node(workspace, path)?.is_none() {
        return Err(BootstrapError::NoSuchNode {
            workspace: workspace.to_string(),
            path: path.to_string(),
        });
    }
    match format {
        Format::Xml => write_xml(store, workspace, path, out),
        Format::Yaml => write_yaml(store, workspace, path, lossy, out),
    }
}

/// The subtree at `path` in document order; below the root, without the
/// repository's own `jcr:system` subtree (Magnolia's exporter leaves out `rep:system`
/// nodes, and its importer skips `jcr:system`).
fn entries<'a>(
    store: &'a dyn StoreRead,
    ws: &str,
    path: &str,
) -> Result<
    impl Iterator<Item = Result<crate::repository::WalkEntry, crate::repository::RepositoryError>> + 'a,
    BootstrapError,
> {
    let mut walk = store.walk(ws, path)?;
    let root = path == "/";
    Ok(std::iter::from_fn(move || loop {
        match walk.next()? {
            Ok(e) if root && e.depth == 1 && e.node.name == "jcr:system" => walk.skip_children(),
            other => return Some(other),
        }
    }))
}

fn top_name(path: &str, name: &str) -> String {
    if path == "/" {
        "jcr:root".to_string()
    } else {
        name.to_string()
    }
}

fn write_xml(
    store: &dyn StoreRead,
    ws: &str,
    path: &str,
    out: &mut dyn Write,
) -> Result<(), BootstrapError> {
    let all = store.namespaces()?;
    // `jcr:primaryType` is written on every node.
    let mut used = std::collections::BTreeSet::from(["jcr".to_string()]);
    for e in entries(store, ws, path)? {
        let e = e?;
        let n = &e.node;
        let mut note = |s: &str| {
            if let Some((p, _)) = s.split_once(':') {
                used.insert(p.to_string());
            }
        };
        note(&top_name(if e.depth == 0 { path } else { "x" }, &n.name));
        note(&n.primary_type);
        for m in &n.mixins {
            note(m);
        }
        for p in n.properties.values() {
            note(&p.name);
            for v in &p.values {
                match v {
                    crate::value::Value::Name(s) => note(s),
                    crate::value::Value::Path(s) => {
                        for seg in s.split('/') {
                            note(seg);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut ns = NamespaceRegistry::empty();
    for p in used {
        if let Some(u) = all.uri(&p) {
            ns.set(&p, u);
        }
    }
    let mut w = crate::sysview::SysViewWriter::new(std::io::BufWriter::new(out), &ns)?;
    let mut bins = StoreBinaries(store);
    let mut depths: Vec<usize> = Vec::new();
    for e in entries(store, ws, path)? {
        let e = e?;
        while depths.last().is_some_and(|d| *d >= e.depth) {
            depths.pop();
            w.end_node()?;
        }
        let n = &e.node;
        let name = if e.depth == 0 {
            top_name(path, &n.segment())
        } else {
            n.segment()
        };
        w.start_node(&name, &n.primary_type, &n.mixins)?;
        if let Some(u) = n.properties.get("jcr:uuid") {
            w.property(u, &mut bins)?;
        }
        for p in n.properties.values().filter(|p| p.name != "jcr:uuid") {
            w.property(p, &mut bins)?;
        }
        depths.push(e.depth);
    }
    while depths.pop().is_some() {
        w.end_node()?;
    }
    let mut out = w.finish()?;
    out.flush()?;
    Ok(())
}

struct StoreBinaries<'a>(&'a dyn StoreRead);

impl crate::sysview::BinarySource for StoreBinaries<'_> {
    fn open(
        &mut self,
        binary: &crate::value::Binary,
    ) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        use crate::value::Binary;
        match binary {
            Binary::Blob { sha256, .. } => self
                .0
                .open_blob(sha256)
                .map(|r| r as Box<dyn std::io::Read>)
                .map_err(std::io::Error::other),
            Binary::Inline(b) => Ok(Box::new(std::io::Cursor::new(b.to_vec()))),
            other => Err(std::io::Error::other(format!(
                "cannot read binary {other:?}"
            ))),
        }
    }
}

fn write_yaml(
    store: &dyn StoreRead,
    ws: &str,
    path: &str,
    lossy: bool,
    out: &mut dyn Write,
) -> Result<(), BootstrapError> {
    let mut unsupported = Vec::new();
    for e in entries(store, ws, path)? {
        let e = e?;
        if e.depth > 0 && e.node.index > 1 {
            return Err(BootstrapError::SameNameSibling { path: e.path });
        }
        if !lossy {
            for p in e.node.properties.values().filter(|p| !yaml_verified(p)) {
                unsupported.push(Unsupported {
                    path: e.path.clone(),
                    property: p.name.clone(),
                    ptype: p.ptype.jcr_name().to_string(),
                });
            }
        }
    }
    if !unsupported.is_empty() {
        return Err(BootstrapError::Unverified {
            properties: unsupported,
        });
    }
    let mut w = YamlWriter::new(std::io::BufWriter::new(out), lossy);
    for e in entries(store, ws, path)? {
        let mut e = e?;
        if e.depth == 0 {
            e.node.name = top_name(path, &e.node.name);
            e.node.index = 1;
        }
        w.node(&e.node, e.depth, &e.path)?;
    }
    w.finish()?;
    Ok(())
}

/// The top-level nodes of `workspace` that a whole-workspace export writes, one file
/// each: every child of the root but the repository's own (`jcr:system`, `rep:*`,
/// `oak:index`), which Magnolia's exporter leaves out too.
pub fn top_level_paths(
    store: &dyn StoreRead,
    workspace: &str,
) -> Result<Vec<String>, BootstrapError> {
    Ok(store
        .children(workspace, "/")?
        .into_iter()
        .filter(|c| c.name != "jcr:system" && c.name != "oak:index" && !c.name.starts_with("rep:"))
        .map(|c| c.path)
        .collect())
}

/// Writes one bootstrap file per path into `dir`, named as Magnolia names them; all
/// files are written under temporary names first and renamed at the end, so a failure
/// leaves `dir` as it was. Returns the files written.
pub fn write_files(
    store: &dyn StoreRead,
    workspace: &str,
    paths: &[String],
    format: Format,
    lossy: bool,
    dir: &Path,
) -> Result<Vec<PathBuf>, BootstrapError> {
    std::fs::create_dir_all(dir).map_err(|e| BootstrapError::File {
        file: dir.display().to_string(),
        source: e,
    })?;
    let mut temps = Vec::new();
    for p in paths {
        let target = dir.join(file_name(workspace, p, format));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| BootstrapError::File {
            file: dir.display().to_string(),
            source: e,
        })?;
        write(store, workspace, p, format, lossy, tmp.as_file_mut())?;
        temps.push((tmp, target));
    }
    let mut written = Vec::new();
    for (tmp, target) in temps {
        tmp.persist(&target).map_err(|e| BootstrapError::File {
            file: target.display().to_string(),
            source: e.error,
        })?;
        written.push(target);
    }
    Ok(written)
}
