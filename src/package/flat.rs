//! The package layout as flat arrays (issue 16 item 3): the same nodes, entries and
//! order as [`super::layout::scan_lenient`], without a tree of strings.
//!
//! Each layout node is one fixed-size record in pre-order (a node, then its
//! subtree, children in the importer's order): its segment as a range of one byte
//! arena, its parent, where its subtree ends, and its folder, DocView and plain file
//! as indices into the archive's sorted listing (entry names are stored once, by the
//! listing). `.binary` files are (node, listing index) pairs in one array. Repository paths are not stored: a walk ([`FlatLayout::nodes`]) builds them on
//! the way, and a lookup by path ([`FlatLayout::find`]) searches an index of the
//! nodes sorted by parent and segment. About 33 bytes a node and its segment, where
//! a [`super::LayoutNode`] costs several hundred (its path, entry names and map of
//! children).
//!
//! It is built one folder at a time with [`super::layout::expand`], as the full scan
//! is, holding only the folders on the way (and their children) as
//! [`super::LayoutNode`]s. The `.cnd` and sub-package lists of [`super::Layout`] are
//! not kept: who needs them finds them in the listing.

use super::layout::{self, IgnoreList, LayoutNode};
use crate::archive::{Archive, ArchiveError};
use std::fmt;

/// No entry, no parent.
const NONE: u32 = u32::MAX;

/// One layout node: 28 bytes.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Start of its segment in `segments` (it ends where the next record's starts).
    segment: u32,
    /// The parent record; [`NONE`] for the root.
    parent: u32,
    /// One past the last record of its subtree.
    end: u32,
    /// Its folder, as a name index (see [`FlatLayout::name`]).
    dir: u32,
    /// Its DocView file.
    docview: u32,
    /// Its plain file.
    file: u32,
}

/// The layout of `jcr_root/` as flat arrays over the archive's listing.
pub struct FlatLayout<'a> {
    archive: &'a dyn Archive,
    records: Vec<Record>,
    /// Every segment, in pre-order, back to back.
    segments: String,
    /// The `.binary` files of every node that has any, as (record, name index), in
    /// record order.
    binaries: Vec<(u32, u32)>,
    /// Bit `i` set: record `i`'s DocView is a full-coverage `name.xml`.
    full_coverage: Vec<u64>,
    /// Record indices sorted by (parent, segment), for lookups by path.
    by_name: Vec<u32>,
    /// Names that are not entries of the listing (none in practice: the layout only
    /// names entries), indexed after the listing's.
    extra: Vec<String>,
    /// `*.cnd` files inside `jcr_root/` (entry, repository path), in the order of
    /// [`super::Layout::cnds`].
    cnds: Vec<(String, String)>,
    /// Packages below `/etc/packages` (entry, repository path), in the order of
    /// [`super::Layout::sub_packages`].
    sub_packages: Vec<(String, String)>,
}

impl fmt::Debug for FlatLayout<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlatLayout")
            .field("archive", &self.archive.name())
            .field("nodes", &self.records.len())
            .finish()
    }
}

/// Lays out `jcr_root/` of an archive as [`layout::scan_lenient`] does, in flat
/// arrays: of two names that unescape to the same node in the same role the first is
/// laid out and the pair comes back as an [`ArchiveError::NameCollision`]; other
/// errors fail the scan.
pub fn scan_lenient<'a>(
    archive: &'a dyn Archive,
    ignore: &IgnoreList,
) -> Result<(FlatLayout<'a>, Vec<ArchiveError>), ArchiveError> {
    let mut collisions = Vec::new();
    let flat = scan_with(archive, ignore, Some(&mut collisions))?;
    Ok((flat, collisions))
}

/// Lays out `jcr_root/` of an archive as [`layout::scan`] does, in flat arrays: two
/// names that unescape to the same node in the same role fail the scan (with the
/// error the tree's scan fails with), as every other error does.
pub fn scan<'a>(
    archive: &'a dyn Archive,
    ignore: &IgnoreList,
) -> Result<FlatLayout<'a>, ArchiveError> {
    scan_with(archive, ignore, None)
}

fn scan_with<'a>(
    archive: &'a dyn Archive,
    ignore: &IgnoreList,
    mut collisions: Option<&mut Vec<ArchiveError>>,
) -> Result<FlatLayout<'a>, ArchiveError> {
    let mut flat = FlatLayout::empty(archive);
    match layout::root(archive) {
        Some(root) => flat.add(root, &[], NONE, ignore, &mut collisions)?,
        None => {
            flat.push(&LayoutNode::default(), NONE);
            flat.records[0].end = 1;
        }
    }
    flat.index();
    Ok(flat)
}

impl<'a> FlatLayout<'a> {
    /// A layout with no nodes at all (not even the root): what `validate` checks when
    /// the content tree cannot be read.
    pub fn empty(archive: &'a dyn Archive) -> FlatLayout<'a> {
        FlatLayout {
            archive,
            records: Vec::new(),
            segments: String::new(),
            binaries: Vec::new(),
            full_coverage: Vec::new(),
            by_name: Vec::new(),
            extra: Vec::new(),
            cnds: Vec::new(),
            sub_packages: Vec::new(),
        }
    }

    /// The layout of an already built tree (a package's layout moved by a path
    /// mapping), node for node in the same order. Its entries are the archive's.
    pub fn from_tree(archive: &'a dyn Archive, root: &LayoutNode) -> FlatLayout<'a> {
        let mut flat = FlatLayout::empty(archive);
        flat.add_tree(root, NONE);
        flat.index();
        flat
    }

    fn add_tree(&mut self, n: &LayoutNode, parent: u32) {
        let i = self.push(n, parent);
        for b in &n.binaries {
            let k = self.name_index(Some(&b.entry));
            self.binaries.push((i, k));
        }
        for c in n.children.values() {
            self.add_tree(c, i);
        }
        self.records[i as usize].end = self.records.len() as u32;
    }

    /// `*.cnd` files inside `jcr_root/` with their repository paths, as
    /// [`super::Layout::cnds`] lists them (empty for [`FlatLayout::from_tree`]).
    pub fn cnds(&self) -> &[(String, String)] {
        &self.cnds
    }

    /// Packages below `/etc/packages` with their repository paths, as
    /// [`super::Layout::sub_packages`] lists them (empty for
    /// [`FlatLayout::from_tree`]).
    pub fn sub_packages(&self) -> &[(String, String)] {
        &self.sub_packages
    }

    /// The number of layout nodes.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when there are no nodes (not even the root).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Appends `n` (its own fields, not its children) as a child of `parent`.
    fn push(&mut self, n: &LayoutNode, parent: u32) -> u32 {
        let i = self.records.len() as u32;
        let segment = self.segments.len() as u32;
        self.segments.push_str(&n.segment);
        let dir = self.name_index(n.dir.as_deref());
        let docview = self.name_index(n.docview.as_deref());
        let file = self.name_index(n.file.as_deref());
        self.records.push(Record {
            segment,
            parent,
            end: i + 1,
            dir,
            docview,
            file,
        });
        let (word, bit) = (i as usize / 64, i % 64);
        if self.full_coverage.len() <= word {
            self.full_coverage.push(0);
        }
        if n.full_coverage {
            self.full_coverage[word] |= 1 << bit;
        }
        i
    }

    /// Lays out `node` (its folders `dirs`, its own when empty) and its subtree, as
    /// the full scan does.
    fn add(
        &mut self,
        mut node: LayoutNode,
        dirs: &[String],
        parent: u32,
        ignore: &IgnoreList,
        collisions: &mut Option<&mut Vec<ArchiveError>>,
    ) -> Result<(), ArchiveError> {
        let i = self.push(&node, parent);
        let level = layout::expand(
            self.archive,
            ignore,
            &|_| true,
            &mut node,
            dirs,
            collisions.as_deref_mut(),
        )?;
        for b in std::mem::take(&mut node.binaries) {
            let k = self.name_index(Some(&b.entry));
            self.binaries.push((i, k));
        }
        let children = std::mem::take(&mut node.children);
        drop(node);
        for (k, (_, child)) in children.into_iter().enumerate() {
            match level.folders_of(k) {
                Some(child_dirs) => self.add(child, child_dirs, i, ignore, collisions)?,
                None => {
                    self.push(&child, i);
                }
            }
        }
        self.records[i as usize].end = self.records.len() as u32;
        // A level's files come after those of its folders, as in the tree's scan.
        self.cnds.extend(level.cnds);
        self.sub_packages.extend(level.sub_packages);
        Ok(())
    }

    /// Sorts the lookup index.
    fn index(&mut self) {
        let mut by_name: Vec<u32> = (0..self.records.len() as u32).collect();
        by_name.sort_by(|&a, &b| {
            let (ra, rb) = (&self.records[a as usize], &self.records[b as usize]);
            (ra.parent, self.segment(a)).cmp(&(rb.parent, self.segment(b)))
        });
        self.by_name = by_name;
        self.records.shrink_to_fit();
        self.segments.shrink_to_fit();
        self.binaries.shrink_to_fit();
        self.full_coverage.shrink_to_fit();
    }

    /// The index of an entry name: its place in the listing.
    fn name_index(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else {
            return NONE;
        };
        let entries = self.archive.entries();
        match entries.binary_search_by(|e| e.name().cmp(name)) {
            Ok(i) => i as u32,
            Err(_) => {
                self.extra.push(name.to_string());
                (entries.len() + self.extra.len() - 1) as u32
            }
        }
    }

    /// The entry name at a name index.
    fn name(&self, i: u32) -> Option<&'a str> {
        if i == NONE {
            return None;
        }
        let archive: &'a dyn Archive = self.archive;
        archive.entries().get(i as usize).map(|e| e.name())
    }

    fn extra_name(&self, i: u32) -> Option<&str> {
        if i == NONE {
            return None;
        }
        let entries = self.archive.entries().len();
        (i as usize)
            .checked_sub(entries)
            .and_then(|k| self.extra.get(k))
            .map(String::as_str)
    }

    fn segment(&self, i: u32) -> &str {
        let start = self.records[i as usize].segment as usize;
        let end = self
            .records
            .get(i as usize + 1)
            .map_or(self.segments.len(), |r| r.segment as usize);
        &self.segments[start..end]
    }

    /// The node at record `i`.
    pub fn node(&self, i: u32) -> Option<FlatNode<'_, 'a>> {
        ((i as usize) < self.records.len()).then_some(FlatNode { layout: self, i })
    }

    /// The root (`/`), when there is one.
    pub fn root(&self) -> Option<FlatNode<'_, 'a>> {
        self.node(0)
    }

    /// The node at repository path `p` (absolute, without empty segments), if the
    /// layout has one.
    pub fn find(&self, p: &str) -> Option<FlatNode<'_, 'a>> {
        if !p.starts_with('/') || (p.len() > 1 && (p.ends_with('/') || p.contains("//"))) {
            return None;
        }
        let mut cur = self.root()?.i;
        for seg in p.split('/').filter(|s| !s.is_empty()) {
            let at = self.by_name.partition_point(|&j| {
                (self.records[j as usize].parent, self.segment(j)) < (cur, seg)
            });
            let j = *self.by_name.get(at)?;
            if self.records[j as usize].parent != cur || self.segment(j) != seg {
                return None;
            }
            cur = j;
        }
        self.node(cur)
    }

    /// Every node with its repository path, in pre-order (a node, then its subtree;
    /// children in the importer's order).
    pub fn nodes(&self) -> Nodes<'_, 'a> {
        Nodes {
            layout: self,
            next: 0,
            path: String::new(),
            stack: Vec::new(),
        }
    }
}

/// One node of a [`FlatLayout`].
#[derive(Clone, Copy)]
pub struct FlatNode<'l, 'a> {
    layout: &'l FlatLayout<'a>,
    i: u32,
}

impl fmt::Debug for FlatNode<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlatNode")
            .field("segment", &self.segment())
            .field("dir", &self.dir())
            .field("docview", &self.docview())
            .field("file", &self.file())
            .finish()
    }
}

impl<'l, 'a> FlatNode<'l, 'a> {
    fn record(&self) -> &'l Record {
        &self.layout.records[self.i as usize]
    }

    fn entry(&self, i: u32) -> Option<&'l str> {
        self.layout.name(i).or_else(|| self.layout.extra_name(i))
    }

    /// Its place in the layout's pre-order.
    pub fn index(&self) -> u32 {
        self.i
    }

    /// The last path segment (`name` or `name[2]`); `""` for the root.
    pub fn segment(&self) -> &'l str {
        self.layout.segment(self.i)
    }

    /// The folder of this node (`jcr_root/content/a`), if there is one.
    pub fn dir(&self) -> Option<&'l str> {
        self.entry(self.record().dir)
    }

    /// The DocView describing it: a `.content.xml` or a full-coverage `name.xml`.
    pub fn docview(&self) -> Option<&'l str> {
        self.entry(self.record().docview)
    }

    /// `docview` is a `name.xml` file (full coverage).
    pub fn full_coverage(&self) -> bool {
        let i = self.i as usize;
        self.layout
            .full_coverage
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// A plain file: the node is an `nt:file` with this entry's bytes.
    pub fn file(&self) -> Option<&'l str> {
        self.entry(self.record().file)
    }

    /// A node with nothing in the package (a filter-root intermediate).
    pub fn is_empty(&self) -> bool {
        let r = self.record();
        r.dir == NONE && r.docview == NONE && r.file == NONE
    }

    /// The entries of the `.binary` files in this node's folder, in layout order.
    pub fn binaries(&self) -> impl Iterator<Item = &'l str> + 'l {
        let l = self.layout;
        let i = self.i;
        let start = l.binaries.partition_point(|&(n, _)| n < i);
        let node = *self;
        l.binaries[start..]
            .iter()
            .take_while(move |&&(n, _)| n == i)
            .filter_map(move |&(_, k)| node.entry(k))
    }

    /// The number of nodes of its subtree, itself included.
    pub fn subtree_len(&self) -> u32 {
        self.record().end - self.i
    }

    /// The nodes of its subtree in pre-order, itself first.
    pub fn subtree(&self) -> impl Iterator<Item = FlatNode<'l, 'a>> + 'l {
        let l = self.layout;
        (self.i..self.record().end).map(move |i| FlatNode { layout: l, i })
    }

    /// Its child at `segment`, if it has one.
    pub fn child(&self, segment: &str) -> Option<FlatNode<'l, 'a>> {
        let l = self.layout;
        let at = l
            .by_name
            .partition_point(|&j| (l.records[j as usize].parent, l.segment(j)) < (self.i, segment));
        let j = *l.by_name.get(at)?;
        (l.records[j as usize].parent == self.i && l.segment(j) == segment)
            .then_some(FlatNode { layout: l, i: j })
    }

    /// Whether it has children.
    pub fn has_children(&self) -> bool {
        self.record().end > self.i + 1
    }

    /// The children, in the importer's order (folders, then files).
    pub fn children(&self) -> impl Iterator<Item = FlatNode<'l, 'a>> + 'l {
        let l = self.layout;
        let end = self.record().end;
        let mut next = self.i + 1;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let n = FlatNode { layout: l, i: next };
            next = l.records[next as usize].end;
            Some(n)
        })
    }
}

/// A walk of a [`FlatLayout`] in pre-order: each node with its repository path.
pub struct Nodes<'l, 'a> {
    layout: &'l FlatLayout<'a>,
    next: u32,
    /// The path of the last node handed out.
    path: String,
    /// For each node on the way to it: where its subtree ends and the length of its
    /// parent's path.
    stack: Vec<(u32, usize)>,
}

impl<'l, 'a> Iterator for Nodes<'l, 'a> {
    type Item = (FlatNode<'l, 'a>, String);

    fn next(&mut self) -> Option<Self::Item> {
        let i = self.next;
        let r = self.layout.records.get(i as usize)?;
        while let Some(&(end, len)) = self.stack.last() {
            if end > i {
                break;
            }
            self.stack.pop();
            self.path.truncate(len);
        }
        let len = self.path.len();
        let seg = self.layout.segment(i);
        if r.parent == NONE {
            self.path.clear();
            self.path.push('/');
        } else {
            if !self.path.ends_with('/') {
                self.path.push('/');
            }
            self.path.push_str(seg);
        }
        self.stack.push((r.end, len));
        self.next = i + 1;
        Some((
            FlatNode {
                layout: self.layout,
                i,
            },
            self.path.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, ReadOptions};
    use crate::package::layout::Layout;
    use crate::test_support::write;

    /// The full scan's nodes in pre-order, as (path, dir, docview, full coverage,
    /// file, binaries).
    type Row = (
        String,
        Option<String>,
        Option<String>,
        bool,
        Option<String>,
        Vec<String>,
    );

    fn rows_of_tree(l: &Layout) -> Vec<Row> {
        fn go(n: &LayoutNode, out: &mut Vec<Row>) {
            out.push((
                n.path.clone(),
                n.dir.clone(),
                n.docview.clone(),
                n.full_coverage,
                n.file.clone(),
                n.binaries.iter().map(|b| b.entry.clone()).collect(),
            ));
            for c in n.children.values() {
                go(c, out);
            }
        }
        let mut out = Vec::new();
        go(&l.root, &mut out);
        out
    }

    fn rows_of_flat(l: &FlatLayout<'_>) -> Vec<Row> {
        l.nodes()
            .map(|(n, p)| {
                (
                    p,
                    n.dir().map(str::to_string),
                    n.docview().map(str::to_string),
                    n.full_coverage(),
                    n.file().map(str::to_string),
                    n.binaries().map(str::to_string).collect(),
                )
            })
            .collect()
    }

    /// Scans `dir` both ways and asserts the same nodes, collisions and lookups.
    fn same_as_the_tree(dir: &std::path::Path) {
        let a = match open(dir, &ReadOptions::default()) {
            Ok(a) => a,
            Err(_) => return,
        };
        let ignore = IgnoreList::default();
        let tree = layout::scan_lenient(a.as_ref(), &ignore);
        let flat = scan_lenient(a.as_ref(), &ignore);
        let (tree, flat) = match (tree, flat) {
            (Ok(t), Ok(f)) => (t, f),
            (Err(t), Err(f)) => {
                assert_eq!(t.to_string(), f.to_string(), "{}", dir.display());
                return;
            }
            (t, f) => panic!("{}: {t:?} against {f:?}", dir.display()),
        };
        let want = rows_of_tree(&tree.0);
        assert_eq!(want, rows_of_flat(&flat.0), "{}", dir.display());
        assert_eq!(tree.0.cnds, flat.0.cnds(), "{}", dir.display());
        assert_eq!(
            tree.0.sub_packages,
            flat.0.sub_packages(),
            "{}",
            dir.display()
        );
        let copied = FlatLayout::from_tree(a.as_ref(), &tree.0.root);
        assert_eq!(want, rows_of_flat(&copied), "{}", dir.display());
        match (layout::scan(a.as_ref(), &ignore), scan(a.as_ref(), &ignore)) {
            (Ok(t), Ok(f)) => {
                assert_eq!(rows_of_tree(&t), rows_of_flat(&f), "{}", dir.display());
                assert_eq!(t.cnds, f.cnds(), "{}", dir.display());
                assert_eq!(t.sub_packages, f.sub_packages(), "{}", dir.display());
            }
            (Err(t), Err(f)) => assert_eq!(t.to_string(), f.to_string(), "{}", dir.display()),
            (t, f) => panic!("{}: strict {t:?} against {f:?}", dir.display()),
        }
        let mut tc: Vec<String> = tree.1.iter().map(|e| e.to_string()).collect();
        let mut fc: Vec<String> = flat.1.iter().map(|e| e.to_string()).collect();
        tc.sort();
        fc.sort();
        assert_eq!(tc, fc, "{}", dir.display());
        for row in &want {
            let t = tree.0.root.find(&row.0).unwrap();
            let f = flat.0.find(&row.0).unwrap_or_else(|| panic!("{}", row.0));
            assert_eq!(t.segment, f.segment());
            let tk: Vec<&str> = t.children.keys().map(String::as_str).collect();
            let fk: Vec<&str> = f.children().map(|c| c.segment()).collect();
            assert_eq!(tk, fk, "{}", row.0);
            assert_eq!(t.is_empty(), f.is_empty());
            assert_eq!(t.count(), f.subtree_len() as usize, "{}", row.0);
            assert_eq!(!t.children.is_empty(), f.has_children(), "{}", row.0);
            for k in t.children.keys() {
                let c = f.child(k).unwrap_or_else(|| panic!("{}: {k}", row.0));
                assert_eq!(c.segment(), k);
            }
            assert!(f.child("no such child").is_none());
        }
    }

    #[test]
    fn lays_out_what_the_tree_does() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let dv = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#;
        write(d, "jcr_root/content/.content.xml", dv);
        write(d, "jcr_root/content/_jcr_content/.content.xml", dv);
        write(d, "jcr_root/content/jcr%3acontent/.content.xml", dv);
        write(d, "jcr_root/content/full.xml", dv);
        write(d, "jcr_root/content/plain.xml", "<x/>");
        write(d, "jcr_root/content/img.png", "png");
        write(d, "jcr_root/content/img.png.dir/.content.xml", dv);
        write(d, "jcr_root/content/img.png.dir/_jcr_content/x.binary", "b");
        write(d, "jcr_root/content/data.binary", "bin");
        write(d, "jcr_root/content/multi[1].binary", "bin");
        write(d, "jcr_root/content/a%3ab.txt", "1");
        write(d, "jcr_root/content/a:b.txt", "2");
        write(d, "jcr_root/content/b/c/d/e.txt", "e");
        write(d, "jcr_root/content/b/c/f.txt", "f");
        write(d, "jcr_root/content/z.txt", "z");
        write(d, "jcr_root/etc/packages/g/sub.zip", "zip");
        write(d, "jcr_root/.vlt", "x");
        let a = open(d, &ReadOptions::default()).unwrap();
        let (flat, collisions) = scan_lenient(a.as_ref(), &IgnoreList::default()).unwrap();
        assert_eq!(collisions.len(), 2);
        let c = flat.find("/content").unwrap();
        let kids: Vec<&str> = c.children().map(|n| n.segment()).collect();
        assert_eq!(
            kids,
            [
                "jcr:content",
                "b",
                "img.png",
                "a:b.txt",
                "full",
                "plain.xml",
                "z.txt"
            ]
        );
        assert_eq!(
            c.binaries().collect::<Vec<_>>(),
            [
                "jcr_root/content/data.binary",
                "jcr_root/content/multi[1].binary"
            ]
        );
        assert!(flat.find("/content/full").unwrap().full_coverage());
        assert!(flat.find("/content/b/c/d/e.txt").is_some());
        assert!(flat.find("/content/b/c/d/x").is_none());
        assert!(flat.find("/content//b").is_none());
        assert!(flat.find("/content/").is_none());
        assert!(flat.find("content").is_none());
        assert_eq!(flat.find("/").unwrap().segment(), "");
        same_as_the_tree(d);
    }

    #[test]
    fn a_package_without_content_has_an_empty_root() {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), "META-INF/vault/filter.xml", "<workspaceFilter/>");
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let (flat, collisions) = scan_lenient(a.as_ref(), &IgnoreList::default()).unwrap();
        assert!(collisions.is_empty());
        assert_eq!(flat.len(), 1);
        assert!(flat.root().unwrap().is_empty());
        assert_eq!(flat.nodes().map(|(_, p)| p).collect::<Vec<_>>(), ["/"]);
        assert!(flat.find("/a").is_none());
    }

    #[test]
    fn lays_out_every_corpus_package_as_the_tree() {
        let root = crate::test_support::corpus();
        let mut seen = 0;
        let mut it = walkdir::WalkDir::new(&root).sort_by_file_name().into_iter();
        while let Some(Ok(e)) = it.next() {
            let p = e.path();
            if e.file_type().is_dir() && p.join("jcr_root").is_dir() {
                same_as_the_tree(p);
                seen += 1;
                it.skip_current_dir();
            } else if e.file_type().is_file() && p.extension().is_some_and(|x| x == "zip") {
                same_as_the_tree(p);
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} packages under {}", root.display());
    }
}
