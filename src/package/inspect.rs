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

use super::layout::{self, IgnoreList, Layout, LayoutNode};
use super::PackageError;
use crate::archive::Archive;
use crate::archive::ArchiveError;
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
    let mut nodes = Vec::new();
    let mut out = walk(archive, layout, &mut |n| nodes.push(n));
    out.nodes = nodes;
    out
}

/// The nodes of a package whose layout has been scanned, handed to `f` one by one in
/// document order instead of collected (`nodes` of the result stays empty). Memory
/// follows the DocView files on the way from the root to the node being handed out,
/// not the package: a node's place and type are final once its own layout node and
/// its ancestors' DocView files are read.
pub fn walk(archive: &dyn Archive, layout: &Layout, f: &mut dyn FnMut(PackageNode)) -> Contents {
    let mut root = layout.root.clone();
    let (out, _) = walk_from(archive, &mut root, None, f);
    out
}

/// [`walk`] over a layout laid out on the way ([`layout::expand`]), one folder at a
/// time, instead of scanned whole first: memory follows the folders from the root to
/// the node being handed out (and their DocView files), not the package. Only the
/// folders and `name.xml` files whose path `visit` accepts are laid out, as with
/// [`layout::scan_pruned`]. A layout error (a name collision, an entry that is no node
/// name, an unreadable `name.xml`) ends the walk and is returned; the nodes handed out
/// before it stay handed out.
pub fn walk_lazy(
    archive: &dyn Archive,
    visit: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(PackageNode),
) -> Result<Contents, PackageError> {
    let ignore = IgnoreList::default();
    let Some(mut root) = layout::root(archive) else {
        return Ok(walk(archive, &Layout::default(), f));
    };
    let (out, error) = walk_from(archive, &mut root, Some((&ignore, visit)), f);
    match error {
        Some(e) => Err(e.into()),
        None => Ok(out),
    }
}

/// Lays out the whole content tree of a package as [`walk_lazy`] does, one folder at
/// a time, keeping nothing: the errors [`layout::scan_pruned`] would fail with, in the
/// same order, for a caller that must not hand out anything from a package it then
/// refuses.
pub fn check_layout(
    archive: &dyn Archive,
    visit: &dyn Fn(&str) -> bool,
) -> Result<(), ArchiveError> {
    fn check(
        archive: &dyn Archive,
        ignore: &IgnoreList,
        visit: &dyn Fn(&str) -> bool,
        node: &mut LayoutNode,
        dirs: &[String],
    ) -> Result<(), ArchiveError> {
        let level = layout::expand(archive, ignore, visit, node, dirs, None)?;
        for (i, child_dirs) in level.folders() {
            if let Some((_, child)) = node.children.get_index_mut(*i) {
                check(archive, ignore, visit, child, child_dirs)?;
                child.children = IndexMap::new();
            }
        }
        Ok(())
    }
    match layout::root(archive) {
        Some(mut root) => check(archive, &IgnoreList::default(), visit, &mut root, &[]),
        None => Ok(()),
    }
}

fn walk_from(
    archive: &dyn Archive,
    root: &mut LayoutNode,
    lazy: Option<Lazy<'_>>,
    f: &mut dyn FnMut(PackageNode),
) -> (Contents, Option<ArchiveError>) {
    let mut out = Contents::default();
    let mut tree = TreeNode::default();
    let mut w = Walk {
        archive,
        out: &mut out,
        f,
        at: Vec::new(),
        met: Vec::new(),
        lazy,
        error: None,
    };
    w.layout_node(Some(root), &[], &mut tree, "/", true);
    let error = w.error.take();
    // The namespaces in the order a pre-order walk of the layout meets them.
    let mut met = std::mem::take(&mut w.met);
    met.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    out.namespaces = met.into_iter().map(|(_, _, ns)| ns).collect();
    (out, error)
}

/// The nodes of a package at or below `below` (an absolute, normalized path). Only
/// the folders on the way to `below` and inside it are listed and read.
pub fn contents_below(archive: &dyn Archive, below: &str) -> Result<Contents, PackageError> {
    let mut nodes = Vec::new();
    let mut out = walk_below(archive, below, &mut |n| nodes.push(n))?;
    out.nodes = nodes;
    Ok(out)
}

/// [`contents_below`], handing the nodes to `f` one by one as [`walk`] does.
pub fn walk_below(
    archive: &dyn Archive,
    below: &str,
    f: &mut dyn FnMut(PackageNode),
) -> Result<Contents, PackageError> {
    let visit = |p: &str| path::is_self_or_descendant(p, below) || path::is_descendant(below, p);
    // Nothing is handed out from a package whose layout is refused.
    check_layout(archive, &visit)?;
    walk_lazy(archive, &visit, &mut |n| {
        if path::is_self_or_descendant(&n.path, below) {
            f(n);
        }
    })
}

/// Reads and parses a DocView entry.
pub(crate) fn read_docview(archive: &dyn Archive, entry: &str) -> Result<DocViewDocument, String> {
    let bytes = archive.read_to_vec(entry).map_err(|e| e.to_string())?;
    let file = format!("{}:{entry}", archive.name());
    docview::parse_bytes(&bytes, &file, &docview::Limits::default()).map_err(|e| e.to_string())
}

/// What a lazy walk lays out folders with: the ignore list and the paths to visit.
type Lazy<'a> = (&'a IgnoreList, &'a dyn Fn(&str) -> bool);

struct Walk<'w> {
    archive: &'w dyn Archive,
    out: &'w mut Contents,
    f: &'w mut dyn FnMut(PackageNode),
    /// Where the walk is in the layout: the index of each layout node on the way among
    /// its parent's (compared as a list, the layout's pre-order).
    at: Vec<u32>,
    /// Each namespace declaration with where it was first met in that order (the
    /// DocView files are read in document order, which is not the layout's).
    met: Vec<(Vec<u32>, usize, (String, String))>,
    /// Lay out each folder on the way ([`walk_lazy`]) with these, rather than walk a
    /// layout scanned whole.
    lazy: Option<Lazy<'w>>,
    /// The layout error that ended a lazy walk.
    error: Option<ArchiveError>,
}

impl Walk<'_> {
    /// Node `t` at path `p`, which its ancestors' DocView files may have filled in
    /// already, described further by layout node `l` (none when only a DocView
    /// describes it): applies `l` and its DocView, hands the node out, then its
    /// children (those the DocView files list first, then the remaining folders and
    /// files of `l`).
    fn layout_node(
        &mut self,
        l: Option<&mut LayoutNode>,
        dirs: &[String],
        t: &mut TreeNode,
        p: &str,
        is_root: bool,
    ) {
        if self.error.is_some() {
            return;
        }
        let mut folders = layout::Level::default();
        let mut l = l;
        if let (Some(n), Some((ignore, visit))) = (l.as_deref_mut(), self.lazy) {
            match layout::expand(self.archive, ignore, visit, n, dirs, None) {
                Ok(level) => folders = level,
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            }
        }
        if let Some(l) = l.as_deref() {
            self.apply(l, t, is_root);
            for c in l.children.values() {
                t.child(&c.segment);
            }
        }
        if t.held || (p == "/" && !t.entry.is_empty() && t.entry.ends_with(".xml")) {
            (self.f)(PackageNode {
                path: p.to_string(),
                primary_type: t.primary.take(),
                mixin_types: std::mem::take(&mut t.mixins),
                entry: std::mem::take(&mut t.entry),
            });
        }
        let children = std::mem::take(&mut t.children);
        for (seg, mut c) in children {
            let lc = l.as_deref_mut().and_then(|l| l.children.get_full_mut(&seg));
            self.at
                .push(lc.as_ref().map_or(u32::MAX, |(i, _, _)| *i as u32));
            let child_dirs = lc
                .as_ref()
                .and_then(|(i, _, _)| folders.folders_of(*i))
                .unwrap_or_default();
            let child_dirs = child_dirs.to_vec();
            match lc {
                Some((_, _, lnode)) => {
                    self.layout_node(
                        Some(lnode),
                        &child_dirs,
                        &mut c,
                        &path::join(p, &seg),
                        false,
                    );
                    if self.lazy.is_some() {
                        // Laid out on the way: dropped once walked.
                        lnode.children = IndexMap::new();
                        lnode.binaries = Vec::new();
                    }
                }
                None => self.layout_node(None, &[], &mut c, &path::join(p, &seg), false),
            }
            self.at.pop();
        }
    }

    /// What layout node `l` itself says about `t`: its kind and entry, and its
    /// DocView's elements.
    fn apply(&mut self, l: &LayoutNode, t: &mut TreeNode, is_root: bool) {
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
            match read_docview(self.archive, dv) {
                Ok(doc) => {
                    for (i, (p, u)) in doc.namespaces.iter().enumerate() {
                        let known = self
                            .met
                            .iter_mut()
                            .find(|(_, _, (p2, u2))| p2 == p && u2 == u);
                        match known {
                            Some(m) if (&m.0, m.1) > (&self.at, i) => {
                                (m.0, m.1) = (self.at.clone(), i);
                            }
                            Some(_) => {}
                            None => self.met.push((self.at.clone(), i, (p.clone(), u.clone()))),
                        }
                    }
                    if doc.root_is_jcr_root {
                        add_element(&doc.root, t, dv, true);
                    } else {
                        add_element(&doc.root, t.child(&doc.root.segment()), dv, false);
                    }
                }
                Err(e) => self.out.warnings.push(e),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, ReadOptions};
    use crate::package::scan;
    use crate::test_support::write;

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
    fn walking_hands_out_the_nodes_contents_collects_with_namespaces_in_layout_order() {
        let t = package();
        // `a` comes after `b` in the document but before it in the layout: its
        // namespace is met first in the layout's pre-order, as `contents` always did.
        write(
            t.path(),
            "jcr_root/content/site/a/.content.xml",
            &format!(r#"<jcr:root {JCR} xmlns:x="urn:x" jcr:primaryType="cq:Page"/>"#),
        );
        write(
            t.path(),
            "jcr_root/content/site/b/.content.xml",
            &format!(r#"<jcr:root {JCR} xmlns:y="urn:y" jcr:primaryType="nt:folder"/>"#),
        );
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let l = scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let mut walked = Vec::new();
        let w = walk(a.as_ref(), &l, &mut |n| walked.push(n.path));
        let c = contents(a.as_ref(), &l);
        assert!(w.nodes.is_empty());
        let collected: Vec<String> = c.nodes.iter().map(|n| n.path.clone()).collect();
        assert_eq!(walked, collected);
        let b = collected.iter().position(|p| p == "/content/site/b");
        let a_at = collected.iter().position(|p| p == "/content/site/a");
        assert!(b < a_at, "{collected:?}");
        let prefixes: Vec<&str> = w.namespaces.iter().map(|(p, _)| p.as_str()).collect();
        let x = prefixes.iter().position(|p| *p == "x");
        let y = prefixes.iter().position(|p| *p == "y");
        assert!(x.is_some() && x < y, "{prefixes:?}");
        assert_eq!(c.namespaces, w.namespaces);
    }

    #[test]
    fn a_lazy_walk_hands_out_what_a_walk_of_the_whole_layout_does() {
        let t = package();
        let d = t.path();
        let dv = |ty: &str| format!(r#"<jcr:root {JCR} xmlns:z="urn:z" jcr:primaryType="{ty}"/>"#);
        // A full-coverage `name.xml` beside a folder of the same node, `name/` and
        // `name.dir/` both standing for one node, a file aggregate, `.binary` files.
        write(d, "jcr_root/content/site/full/x.txt", "x");
        write(d, "jcr_root/content/site/full.xml", &dv("cq:Page"));
        write(d, "jcr_root/content/site/two/one.txt", "1");
        write(
            d,
            "jcr_root/content/site/two.dir/.content.xml",
            &dv("sling:Folder"),
        );
        write(d, "jcr_root/content/site/two.dir/deep/leaf.txt", "2");
        write(d, "jcr_root/content/site/img.png", "png");
        write(
            d,
            "jcr_root/content/site/img.png.dir/.content.xml",
            &dv("nt:file"),
        );
        write(d, "jcr_root/content/site/data.binary", "bin");
        write(d, "jcr_root/apps/x/.content.xml", &dv("nt:folder"));
        let a = open(d, &ReadOptions::default()).unwrap();
        let l = scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let c = contents(a.as_ref(), &l);
        let mut lazy = Vec::new();
        let w = walk_lazy(a.as_ref(), &|_| true, &mut |n| lazy.push(n)).unwrap();
        assert_eq!(lazy, c.nodes);
        assert_eq!(w.namespaces, c.namespaces);
        assert_eq!(w.warnings, c.warnings);
        let paths: Vec<&str> = lazy.iter().map(|n| n.path.as_str()).collect();
        assert!(paths.contains(&"/content/site/two/one.txt"), "{paths:?}");
        assert!(
            paths.contains(&"/content/site/two/deep/leaf.txt"),
            "{paths:?}"
        );
        check_layout(a.as_ref(), &|_| true).unwrap();
    }

    #[test]
    fn a_lazy_walk_and_the_check_fail_where_the_scan_fails() {
        let t = package();
        write(t.path(), "jcr_root/content/site/b/a%3ab.txt", "1");
        write(t.path(), "jcr_root/content/site/b/a:b.txt", "2");
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let scanned = scan(a.as_ref(), &IgnoreList::default()).unwrap_err();
        let checked = check_layout(a.as_ref(), &|_| true).unwrap_err();
        assert_eq!(checked.to_string(), scanned.to_string());
        let e = walk_lazy(a.as_ref(), &|_| true, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("a:b.txt"), "{e}");
        // Nothing of a refused package is listed.
        let mut listed = 0;
        assert!(walk_below(a.as_ref(), "/", &mut |_| listed += 1).is_err());
        assert_eq!(listed, 0);
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
