//! What a package holds, node by node, without installing it: the repository paths of
//! its content with their node types, in document order (`jcrpack ls`, and the node
//! count of `jcrpack info`).
//!
//! The nodes are the union of the [layout](super::layout) (folders, plain files,
//! DocView files) and the elements of every DocView file that are not ordering
//! placeholders. Types come from `jcr:primaryType` when a DocView gives one; a plain
//! file is `nt:file`, a folder without `.content.xml` is `nt:folder`. A placeholder
//! element only fixes where a node described elsewhere in the package goes; it adds
//! no node of its own.
//!
//! The order is the importer's: a node, then the children its DocView lists (in
//! document order), then the remaining folders and files of its layout node.

use super::layout::{scan_pruned, IgnoreList, Layout, LayoutNode};
use super::PackageError;
use crate::archive::Archive;
use crate::docview::{self, DocViewDocument, DocViewElement};
use crate::path;
use indexmap::IndexMap;
use serde::Serialize;

/// One repository path the package holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageNode {
    /// The absolute repository path (same-name siblings as `name[2]`), with the
    /// prefixes the package's files use.
    pub path: String,
    /// The primary type; `None` when a DocView element gives none.
    pub primary_type: Option<String>,
    /// The mixin types a DocView element declares.
    pub mixin_types: Vec<String>,
    /// The archive entry that describes the node last (a DocView file, a plain file or
    /// a folder).
    pub entry: String,
}

/// The nodes of a package and what was learnt on the way.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    /// The nodes, in document order.
    pub nodes: Vec<PackageNode>,
    /// Namespaces declared by the DocView files read (prefix, URI), first declaration
    /// of each pair, in the order met.
    pub namespaces: Vec<(String, String)>,
    /// DocView files that could not be read (their nodes are missing) and other oddities.
    pub warnings: Vec<String>,
}

#[derive(Default)]
struct TreeNode {
    held: bool,
    primary: Option<String>,
    mixins: Vec<String>,
    entry: String,
    children: IndexMap<String, TreeNode>,
}

impl TreeNode {
    fn child(&mut self, segment: &str) -> &mut TreeNode {
        self.children.entry(segment.to_string()).or_default()
    }
}

/// The nodes of a package whose layout has been scanned.
pub fn contents(archive: &dyn Archive, layout: &Layout) -> Contents {
    let mut out = Contents::default();
    let mut root = TreeNode::default();
    add_layout(archive, &layout.root, &mut root, &mut out, true);
    emit(&root, "/", &mut out.nodes);
    out
}

/// The nodes of a package at or below `below` (an absolute, normalized path). Only
/// the folders on the way to `below` and inside it are listed and read.
pub fn contents_below(archive: &dyn Archive, below: &str) -> Result<Contents, PackageError> {
    let visit = |p: &str| path::is_self_or_descendant(p, below) || path::is_descendant(below, p);
    let layout = scan_pruned(archive, &IgnoreList::default(), &visit)?;
    let mut c = contents(archive, &layout);
    c.nodes
        .retain(|n| path::is_self_or_descendant(&n.path, below));
    Ok(c)
}

/// Reads and parses a DocView entry.
pub(crate) fn read_docview(archive: &dyn Archive, entry: &str) -> Result<DocViewDocument, String> {
    let bytes = archive.read_to_vec(entry).map_err(|e| e.to_string())?;
    let file = format!("{}:{entry}", archive.name());
    docview::parse_bytes(&bytes, &file, &docview::Limits::default()).map_err(|e| e.to_string())
}

fn add_layout(
    archive: &dyn Archive,
    l: &LayoutNode,
    t: &mut TreeNode,
    out: &mut Contents,
    is_root: bool,
) {
    if is_root {
        t.primary.get_or_insert_with(|| "rep:root".to_string());
        if let Some(d) = &l.dir {
            t.entry = d.clone();
        }
    } else if let Some(f) = &l.file {
        t.held = true;
        t.primary = Some("nt:file".into());
        t.entry = f.clone();
    } else if let Some(d) = &l.dir {
        if !t.held {
            t.held = true;
            t.primary = Some("nt:folder".into());
        }
        t.entry = d.clone();
    }
    if let Some(dv) = &l.docview {
        match read_docview(archive, dv) {
            Ok(doc) => {
                for (p, u) in &doc.namespaces {
                    if !out.namespaces.iter().any(|(p2, u2)| p2 == p && u2 == u) {
                        out.namespaces.push((p.clone(), u.clone()));
                    }
                }
                if doc.root_is_jcr_root {
                    add_element(&doc.root, t, dv, true);
                } else {
                    add_element(&doc.root, t.child(&doc.root.segment()), dv, false);
                }
            }
            Err(e) => out.warnings.push(e),
        }
    }
    for c in l.children.values() {
        add_layout(archive, c, t.child(&c.segment), out, false);
    }
}

fn add_element(el: &DocViewElement, t: &mut TreeNode, entry: &str, is_file_root: bool) {
    if !el.is_placeholder() {
        t.held = true;
        if let Some(p) = el.primary_type() {
            t.primary = Some(p.to_string());
        } else if !is_file_root || t.primary.as_deref() == Some("nt:folder") {
            t.primary = None;
        }
        t.mixins = el.mixin_types();
        t.entry = entry.to_string();
    }
    for c in &el.children {
        add_element(c, t.child(&c.segment()), entry, false);
    }
}

fn emit(t: &TreeNode, p: &str, out: &mut Vec<PackageNode>) {
    if t.held || (p == "/" && !t.entry.is_empty() && t.entry.ends_with(".xml")) {
        out.push(PackageNode {
            path: p.to_string(),
            primary_type: t.primary.clone(),
            mixin_types: t.mixins.clone(),
            entry: t.entry.clone(),
        });
    }
    for (seg, c) in &t.children {
        emit(c, &path::join(p, seg), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, ReadOptions};
    use crate::package::scan;

    fn write(dir: &std::path::Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    const JCR: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0""#;

    fn package() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(
            d,
            "META-INF/vault/filter.xml",
            "<workspaceFilter version=\"1.0\"><filter root=\"/content/site\"/></workspaceFilter>",
        );
        write(
            d,
            "jcr_root/content/site/.content.xml",
            &format!(
                r#"<jcr:root {JCR} xmlns:cq="http://www.day.com/jcr/cq/1.0" jcr:primaryType="cq:Page">
    <jcr:content jcr:primaryType="cq:PageContent" jcr:mixinTypes="[mix:versionable]">
        <par jcr:primaryType="nt:unstructured"/>
    </jcr:content>
    <b/>
    <a/>
</jcr:root>"#
            ),
        );
        write(
            d,
            "jcr_root/content/site/a/.content.xml",
            &format!(r#"<jcr:root {JCR} jcr:primaryType="cq:Page"/>"#),
        );
        write(d, "jcr_root/content/site/b/file.txt", "hello");
        t
    }

    #[test]
    fn lists_nodes_in_document_order_with_types() {
        let t = package();
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let l = scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let c = contents(a.as_ref(), &l);
        let got: Vec<(&str, Option<&str>)> = c
            .nodes
            .iter()
            .map(|n| (n.path.as_str(), n.primary_type.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("/content", Some("nt:folder")),
                ("/content/site", Some("cq:Page")),
                ("/content/site/jcr:content", Some("cq:PageContent")),
                ("/content/site/jcr:content/par", Some("nt:unstructured")),
                ("/content/site/b", Some("nt:folder")),
                ("/content/site/b/file.txt", Some("nt:file")),
                ("/content/site/a", Some("cq:Page")),
            ]
        );
        assert_eq!(c.nodes[2].mixin_types, ["mix:versionable"]);
        assert!(c.namespaces.iter().any(|(p, _)| p == "cq"));
    }

    #[test]
    fn below_lists_only_the_subtree() {
        let t = package();
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let c = contents_below(a.as_ref(), "/content/site/jcr:content").unwrap();
        let got: Vec<&str> = c.nodes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            got,
            ["/content/site/jcr:content", "/content/site/jcr:content/par"]
        );
    }

    #[test]
    fn a_broken_docview_is_a_warning() {
        let t = package();
        write(
            t.path(),
            "jcr_root/content/site/a/.content.xml",
            "<jcr:root",
        );
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let l = scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let c = contents(a.as_ref(), &l);
        assert_eq!(c.warnings.len(), 1);
        assert!(c.nodes.iter().any(|n| n.path == "/content/site/a"));
    }
}
