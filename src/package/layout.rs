//! From package entries to repository paths, as FileVault's `Importer#prepare` does:
//! `.content.xml` aggregates, full-coverage `name.xml` files, plain files (with an
//! optional `name.dir/`), `.binary` property files, folders, escaped names.
//!
//! The layout holds entry names only; the importer reads each file when it gets to it.

use crate::archive::{Archive, ArchiveError};
use crate::path;
use crate::platform_name::from_platform_name;
use indexmap::IndexMap;

/// File names the importer skips (`settings.xml`'s ignore list, by exact name).
#[derive(Debug, Clone)]
pub struct IgnoreList(Vec<String>);

impl Default for IgnoreList {
    fn default() -> Self {
        IgnoreList(vec![".svn".into(), ".DS_Store".into(), ".git".into()])
    }
}

impl IgnoreList {
    /// Whether FileVault skips a file or folder of this name.
    pub fn ignores(&self, name: &str) -> bool {
        name == ".vlt" || name.starts_with(".vlt-") || self.0.iter().any(|n| n == name)
    }
}

/// A `.binary` file: the content of a binary property of its folder's node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryFile {
    /// The property name (unescaped, without `[n]`).
    pub property: String,
    /// `prop[n].binary`: the value's position in a multi-valued property.
    pub index: Option<usize>,
    /// The entry holding the bytes.
    pub entry: String,
}

impl BinaryFile {
    /// The `.binary` file at `entry` (`jcr_root/a/prop[1].binary`): its property and
    /// index come from its file name, as the scan reads them.
    pub fn of_entry(entry: &str) -> BinaryFile {
        let fname = entry.rsplit('/').next().unwrap_or(entry);
        let stem = fname.strip_suffix(".binary").unwrap_or(fname);
        let (property, index) = split_index(&from_platform_name(stem));
        BinaryFile {
            property,
            index,
            entry: entry.to_string(),
        }
    }
}

/// One repository path of the package and the entries that describe it.
#[derive(Debug, Clone, Default)]
pub struct LayoutNode {
    /// The last path segment (`name` or `name[2]`); `""` for the root.
    pub segment: String,
    /// The repository path.
    pub path: String,
    /// The folder of this node (`jcr_root/content/a`), if there is one.
    pub dir: Option<String>,
    /// The DocView describing it: a `.content.xml` or a full-coverage `name.xml`.
    pub docview: Option<String>,
    /// `docview` is a `name.xml` file (full coverage).
    pub full_coverage: bool,
    /// A plain file: the node is an `nt:file` with this entry's bytes.
    pub file: Option<String>,
    /// `.binary` files in this node's folder.
    pub binaries: Vec<BinaryFile>,
    /// Children by segment, in the importer's order (folders, then files).
    pub children: IndexMap<String, LayoutNode>,
}

impl LayoutNode {
    fn new(parent: &str, segment: &str) -> LayoutNode {
        LayoutNode {
            segment: segment.to_string(),
            path: path::join(parent, segment),
            ..LayoutNode::default()
        }
    }

    /// A node with nothing in the package (a filter-root intermediate).
    pub fn is_empty(&self) -> bool {
        self.dir.is_none() && self.docview.is_none() && self.file.is_none()
    }

    /// The child at `segment`, created empty when missing.
    pub fn child_mut(&mut self, segment: &str) -> &mut LayoutNode {
        let parent = self.path.clone();
        self.children
            .entry(segment.to_string())
            .or_insert_with(|| LayoutNode::new(&parent, segment))
    }

    /// The node at a path below this one.
    pub fn find(&self, p: &str) -> Option<&LayoutNode> {
        let rel = path::relative_to(p, &self.path)?;
        let mut n = self;
        for seg in rel.split('/').filter(|s| !s.is_empty()) {
            n = n.children.get(seg)?;
        }
        Some(n)
    }

    /// Counts the nodes of this layout subtree.
    pub fn count(&self) -> usize {
        1 + self.children.values().map(LayoutNode::count).sum::<usize>()
    }
}

/// The whole content tree of a package, and the files with other roles.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// `jcr_root/` as the repository root `/`.
    pub root: LayoutNode,
    /// `*.cnd` files inside `jcr_root/` (with their repository paths).
    pub cnds: Vec<(String, String)>,
    /// Packages below `/etc/packages` (`.zip`/`.jar`), with their repository paths.
    pub sub_packages: Vec<(String, String)>,
}

/// Lays out `jcr_root/` of an archive.
pub fn scan(archive: &dyn Archive, ignore: &IgnoreList) -> Result<Layout, ArchiveError> {
    scan_pruned(archive, ignore, &|_| true)
}

/// Lays out `jcr_root/` of an archive like [`scan`], but does not stop at names that
/// unescape to the same node in the same role: of each such pair the first entry (in
/// name order) is laid out and the second left out, and the pairs come back as
/// [`ArchiveError::NameCollision`]s (for `validate`, which reports them and checks the
/// rest). Other errors still fail the scan.
pub fn scan_lenient(
    archive: &dyn Archive,
    ignore: &IgnoreList,
) -> Result<(Layout, Vec<ArchiveError>), ArchiveError> {
    let mut collisions = Vec::new();
    let layout = scan_with(archive, ignore, &|_| true, Some(&mut collisions))?;
    Ok((layout, collisions))
}

/// Lays out `jcr_root/` of an archive, visiting only the folders and `name.xml` files
/// whose repository path `visit` accepts: a refused folder is not listed further and a
/// refused `name.xml` is not read, so the cost follows what is visited (extracting
/// part of a package). `visit` is never asked about `/`.
pub fn scan_pruned(
    archive: &dyn Archive,
    ignore: &IgnoreList,
    visit: &dyn Fn(&str) -> bool,
) -> Result<Layout, ArchiveError> {
    scan_with(archive, ignore, visit, None)
}

/// [`scan_pruned`]; with `collisions`, name collisions are collected there instead of
/// failing the scan ([`scan_lenient`]).
fn scan_with(
    archive: &dyn Archive,
    ignore: &IgnoreList,
    visit: &dyn Fn(&str) -> bool,
    mut collisions: Option<&mut Vec<ArchiveError>>,
) -> Result<Layout, ArchiveError> {
    let mut layout = Layout {
        root: LayoutNode {
            segment: String::new(),
            path: "/".into(),
            ..LayoutNode::default()
        },
        ..Layout::default()
    };
    if !archive.is_dir(crate::platform_name::JCR_ROOT) {
        return Ok(layout);
    }
    let mut root = std::mem::take(&mut layout.root);
    scan_dir(
        archive,
        ignore,
        visit,
        crate::platform_name::JCR_ROOT,
        &mut root,
        &mut layout,
        &mut collisions,
    )?;
    layout.root = root;
    Ok(layout)
}

fn scan_dir(
    archive: &dyn Archive,
    ignore: &IgnoreList,
    visit: &dyn Fn(&str) -> bool,
    dir: &str,
    node: &mut LayoutNode,
    layout: &mut Layout,
    collisions: &mut Option<&mut Vec<ArchiveError>>,
) -> Result<(), ArchiveError> {
    set_dir(archive, dir, node);
    scan_tree(archive, ignore, visit, node, &[], layout, collisions)
}

/// Lays out the folders `dirs` of `node` (its `dir` when empty) and, below them, every
/// folder they hold. A level's `.cnd` and sub-package files come after those of its
/// folders, as a depth-first scan that lays out folders before files finds them.
fn scan_tree(
    archive: &dyn Archive,
    ignore: &IgnoreList,
    visit: &dyn Fn(&str) -> bool,
    node: &mut LayoutNode,
    dirs: &[String],
    layout: &mut Layout,
    collisions: &mut Option<&mut Vec<ArchiveError>>,
) -> Result<(), ArchiveError> {
    let level = expand(
        archive,
        ignore,
        visit,
        node,
        dirs,
        collisions.as_deref_mut(),
    )?;
    for (i, child_dirs) in level.folders() {
        if let Some((_, child)) = node.children.get_index_mut(*i) {
            scan_tree(
                archive, ignore, visit, child, child_dirs, layout, collisions,
            )?;
        }
    }
    layout.cnds.extend(level.cnds);
    layout.sub_packages.extend(level.sub_packages);
    Ok(())
}

/// Sets the folder of `node` and its `.content.xml`, when the folder holds one.
fn set_dir(archive: &dyn Archive, dir: &str, node: &mut LayoutNode) {
    node.dir = Some(dir.to_string());
    let content = format!("{dir}/.content.xml");
    if archive.entry(&content).is_some_and(|e| e.is_file()) {
        node.docview = Some(content);
        node.full_coverage = false;
    }
}

/// What one folder of the package holds besides its children: which children are
/// folders to lay out further, and the `.cnd` and sub-package files directly inside it.
#[derive(Debug, Default)]
pub struct Level {
    /// The children made from folders (index among the node's children) with their
    /// folders: one, or two when `name/` and `name.dir/` both stand for the child.
    folders: Vec<(usize, Vec<String>)>,
    /// Where each child's folders are in `folders`: a folder of ten thousand
    /// folders looked them up one by one, ten thousand times (issue 16).
    at: std::collections::HashMap<usize, usize>,
    /// `*.cnd` files directly in the folder (entry, repository path).
    pub cnds: Vec<(String, String)>,
    /// Sub-packages directly in the folder (entry, repository path).
    pub sub_packages: Vec<(String, String)>,
}

impl Level {
    /// The children made from folders, in the order they were found, each with its
    /// folders.
    pub fn folders(&self) -> &[(usize, Vec<String>)] {
        &self.folders
    }

    /// The folders of child `child` (its index among the node's children), if it
    /// was made from any.
    pub fn folders_of(&self, child: usize) -> Option<&[String]> {
        self.at.get(&child).map(|&k| self.folders[k].1.as_slice())
    }

    /// Adds `dirs` to the folders of child `child`.
    fn add_folders(&mut self, child: usize, dirs: impl IntoIterator<Item = String>) {
        match self.at.get(&child) {
            Some(&k) => self.folders[k].1.extend(dirs),
            None => {
                self.at.insert(child, self.folders.len());
                self.folders.push((child, dirs.into_iter().collect()));
            }
        }
    }
}

/// Lays out one folder of the package, not the folders below it: fills in the
/// children and `.binary` files of `node` from its folders `dirs` (its `dir` when
/// empty; the [`Level`] of its parent lists them). A child made from a folder gets its
/// `dir` and `.content.xml` but no children of its own: expand it in turn to go
/// further. This is how a walk of a large package holds only the folders on its way
/// ([`super::inspect::walk_lazy`]).
pub fn expand(
    archive: &dyn Archive,
    ignore: &IgnoreList,
    visit: &dyn Fn(&str) -> bool,
    node: &mut LayoutNode,
    dirs: &[String],
    mut collisions: Option<&mut Vec<ArchiveError>>,
) -> Result<Level, ArchiveError> {
    let own: Vec<String>;
    let dirs = if dirs.is_empty() {
        own = node.dir.iter().cloned().collect();
        &own
    } else {
        dirs
    };
    let last = node.dir.take();
    let mut level = Level::default();
    let mut result = Ok(());
    for dir in dirs {
        node.dir = Some(dir.clone());
        match scan_level(archive, ignore, visit, node, collisions.as_deref_mut()) {
            Ok(l) => {
                for (i, ds) in l.folders {
                    level.add_folders(i, ds);
                }
                level.cnds.extend(l.cnds);
                level.sub_packages.extend(l.sub_packages);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    node.dir = last;
    result.map(|()| level)
}

/// The root of a package's layout with its folder set (`jcr_root/`), not expanded;
/// `None` when the package has no `jcr_root/`.
pub fn root(archive: &dyn Archive) -> Option<LayoutNode> {
    if !archive.is_dir(crate::platform_name::JCR_ROOT) {
        return None;
    }
    let mut root = LayoutNode {
        segment: String::new(),
        path: "/".into(),
        ..LayoutNode::default()
    };
    set_dir(archive, crate::platform_name::JCR_ROOT, &mut root);
    Some(root)
}

fn scan_level(
    archive: &dyn Archive,
    ignore: &IgnoreList,
    visit: &dyn Fn(&str) -> bool,
    node: &mut LayoutNode,
    mut collisions: Option<&mut Vec<ArchiveError>>,
) -> Result<Level, ArchiveError> {
    let mut level = Level::default();
    let Some(dir) = node.dir.clone() else {
        return Ok(level);
    };
    let dir = dir.as_str();
    let mut entries: Vec<(&str, &str, bool)> = archive
        .children(dir)?
        .map(|e| (e.file_name(), e.name(), e.is_dir()))
        .collect();
    // Two names that unescape to the same node (and play the same role) would make
    // the result depend on reading order: refuse them.
    let mut roles: std::collections::HashMap<(String, u8), &str> = std::collections::HashMap::new();
    let mut left_out: Vec<&str> = Vec::new();
    for (fname, entry, is_dir) in &entries {
        if ignore.ignores(fname) || *fname == ".content.xml" {
            continue;
        }
        let key = if *is_dir {
            match fname.strip_suffix(".dir") {
                Some(base) => (segment_of(base), 1),
                None => (segment_of(fname), 0),
            }
        } else if let Some(stem) = fname.strip_suffix(".binary") {
            (format!("{}.binary", from_platform_name(stem)), 2)
        } else {
            (segment_of(fname), 3)
        };
        check_segment(archive, entry, key.0.trim_end_matches(".binary"))?;
        if let Some(&first) = roles.get(&key) {
            let error = ArchiveError::NameCollision {
                archive: archive.name().to_string(),
                first: first.to_string(),
                second: entry.to_string(),
                node: path::join(&node.path, key.0.trim_end_matches(".binary")),
            };
            match collisions.as_deref_mut() {
                Some(all) => {
                    all.push(error);
                    left_out.push(*entry);
                }
                None => return Err(error),
            }
        } else {
            roles.insert(key, *entry);
        }
    }
    if !left_out.is_empty() {
        entries.retain(|(_, entry, _)| !left_out.contains(entry));
    }
    // Folders before files, as FileVault processes them.
    for (fname, entry, is_dir) in entries.iter().filter(|e| e.2) {
        let _ = is_dir;
        if ignore.ignores(fname) {
            continue;
        }
        let base = fname.strip_suffix(".dir").unwrap_or(fname);
        let seg = segment_of(base);
        if !visit(&path::join(&node.path, &seg)) {
            continue;
        }
        let child = node.child_mut(&seg);
        set_dir(archive, entry, child);
        let i = node.children.get_index_of(&seg).unwrap_or(usize::MAX);
        level.add_folders(i, [entry.to_string()]);
    }
    for (fname, entry, _) in entries.iter().filter(|e| !e.2) {
        if ignore.ignores(fname) || *fname == ".content.xml" {
            continue;
        }
        let visited = |stem: &str| visit(&path::join(&node.path, &segment_of(stem)));
        if let Some(stem) = fname.strip_suffix(".binary") {
            let raw = from_platform_name(stem);
            let (property, index) = split_index(&raw);
            node.binaries.push(BinaryFile {
                property,
                index,
                entry: entry.to_string(),
            });
            continue;
        }
        if let Some(stem) = fname.strip_suffix(".xml") {
            if !visited(stem) && !visited(fname) {
                continue;
            }
            // `NAME.xml` beside a `NAME.xml.dir` folder is a file aggregate (the
            // folder describes the file node): never a DocView document.
            let dir_name = format!("{fname}.dir");
            let aggregate = entries.iter().any(|(n, _, d)| *d && *n == dir_name);
            let head = read_head(archive, entry)?;
            if !aggregate && crate::docview::is_docview(&head) {
                let seg = segment_of(stem);
                let child = node.child_mut(&seg);
                child.docview = Some(entry.to_string());
                child.full_coverage = true;
                continue;
            }
        }
        let seg = segment_of(fname);
        if !visit(&path::join(&node.path, &seg)) {
            continue;
        }
        let child = node.child_mut(&seg);
        child.file = Some(entry.to_string());
        let repo_path = child.path.clone();
        if fname.ends_with(".cnd") {
            level.cnds.push((entry.to_string(), repo_path.clone()));
        }
        if path::is_descendant(&repo_path, "/etc/packages")
            && (fname.ends_with(".zip") || fname.ends_with(".jar"))
        {
            level.sub_packages.push((entry.to_string(), repo_path));
        }
    }
    // The layout of a large package is held whole while it installs: no growth slack.
    node.children.shrink_to_fit();
    node.binaries.shrink_to_fit();
    Ok(level)
}

/// The repository segment of a file-system name: unescaped, `name[n]` kept.
fn segment_of(fs_name: &str) -> String {
    from_platform_name(fs_name)
}

/// Refuses an entry whose name unescapes to something that is not one JCR name
/// segment: `a%2fb` (a `/`, another path), `a%00b`, `x%0aD%20%2fcontent` (a control
/// character that cuts a C string or forges a log line).
fn check_segment(archive: &dyn Archive, entry: &str, segment: &str) -> Result<(), ArchiveError> {
    let (name, _) = split_index(segment);
    let problem = if name.contains('/') {
        Some("it contains '/', which a JCR name may not contain".to_string())
    } else {
        name.chars()
            .find(|&c| crate::name::is_control_name_char(c))
            .map(|c| format!("it contains the control character U+{:04X}", u32::from(c)))
    };
    match problem {
        Some(problem) => Err(ArchiveError::NotANodeName {
            archive: archive.name().to_string(),
            entry: entry.to_string(),
            name: segment.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

fn split_index(raw: &str) -> (String, Option<usize>) {
    if let Some(open) = raw.rfind('[') {
        if let Some(n) = raw[open + 1..]
            .strip_suffix(']')
            .and_then(|n| n.parse::<usize>().ok())
        {
            return (raw[..open].to_string(), Some(n));
        }
    }
    (raw.to_string(), None)
}

fn read_head(archive: &dyn Archive, entry: &str) -> Result<Vec<u8>, ArchiveError> {
    use std::io::Read;
    let mut r = archive.open(entry)?;
    let mut buf = vec![0u8; 4096];
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(ArchiveError::from_read_error(archive.name(), entry, e)),
        }
    }
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, ReadOptions};
    use crate::test_support::write;

    #[test]
    fn an_xml_file_beside_its_dir_folder_is_a_file_aggregate() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let dv = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#;
        write(d, "jcr_root/content/doc.xml", dv);
        write(d, "jcr_root/content/doc.xml.dir/.content.xml", dv);
        write(d, "jcr_root/content/other.xml", dv);
        let a = open(d, &ReadOptions::default()).unwrap();
        let l = scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let c = l.root.find("/content").unwrap();
        let doc = &c.children["doc.xml"];
        assert_eq!(doc.file.as_deref(), Some("jcr_root/content/doc.xml"));
        assert_eq!(
            doc.docview.as_deref(),
            Some("jcr_root/content/doc.xml.dir/.content.xml")
        );
        assert!(!c.children.contains_key("doc"));
        // Without the folder, the same content is a DocView document.
        assert!(c.children["other"].full_coverage);
    }

    #[test]
    fn lays_out_like_filevault() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let dv = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#;
        write(
            d,
            "META-INF/vault/filter.xml",
            "<workspaceFilter version=\"1.0\"/>",
        );
        write(d, "jcr_root/content/.content.xml", dv);
        write(d, "jcr_root/content/_jcr_content/.content.xml", dv);
        write(d, "jcr_root/content/full.xml", dv);
        write(d, "jcr_root/content/plain.xml", "<x/>");
        write(d, "jcr_root/content/img.png", "png");
        write(d, "jcr_root/content/img.png.dir/.content.xml", dv);
        write(d, "jcr_root/content/data.binary", "bin");
        write(d, "jcr_root/content/multi[1].binary", "bin");
        write(d, "jcr_root/content/.vlt", "x");
        write(d, "jcr_root/etc/packages/g/sub.zip", "zip");
        let a = open(d, &ReadOptions::default()).unwrap();
        let l = scan(a.as_ref(), &IgnoreList::default()).unwrap();
        let c = l.root.find("/content").unwrap();
        assert_eq!(c.docview.as_deref(), Some("jcr_root/content/.content.xml"));
        let keys: Vec<&String> = c.children.keys().collect();
        assert_eq!(keys, ["jcr:content", "img.png", "full", "plain.xml"]);
        assert!(c.children["full"].full_coverage);
        assert_eq!(
            c.children["plain.xml"].file.as_deref(),
            Some("jcr_root/content/plain.xml")
        );
        let img = &c.children["img.png"];
        assert!(img.file.is_some() && img.docview.is_some());
        assert_eq!(c.binaries.len(), 2);
        assert_eq!(c.binaries[1].index, Some(1));
        for b in &c.binaries {
            assert_eq!(&BinaryFile::of_entry(&b.entry), b);
        }
        assert_eq!(l.sub_packages.len(), 1);
    }

    #[test]
    fn names_of_one_node_fail_the_scan_or_are_collected() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let dv = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#;
        write(d, "jcr_root/content/.content.xml", dv);
        write(d, "jcr_root/content/_jcr_content/.content.xml", dv);
        write(d, "jcr_root/content/jcr%3acontent/.content.xml", dv);
        write(d, "jcr_root/content/a%3ab.txt", "1");
        write(d, "jcr_root/content/a:b.txt", "2");
        write(d, "jcr_root/content/other.txt", "3");
        let a = open(d, &ReadOptions::default()).unwrap();
        let e = scan(a.as_ref(), &IgnoreList::default()).unwrap_err();
        assert!(matches!(e, ArchiveError::NameCollision { .. }), "{e}");
        let (l, collisions) = scan_lenient(a.as_ref(), &IgnoreList::default()).unwrap();
        let pairs: Vec<(&str, &str, &str)> = collisions
            .iter()
            .map(|e| match e {
                ArchiveError::NameCollision {
                    first,
                    second,
                    node,
                    ..
                } => (first.as_str(), second.as_str(), node.as_str()),
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(
            pairs,
            [
                (
                    "jcr_root/content/a%3ab.txt",
                    "jcr_root/content/a:b.txt",
                    "/content/a:b.txt"
                ),
                (
                    "jcr_root/content/_jcr_content",
                    "jcr_root/content/jcr%3acontent",
                    "/content/jcr:content"
                ),
            ]
        );
        // The first of each pair is laid out, and everything else.
        let c = l.root.find("/content").unwrap();
        assert_eq!(
            c.children["jcr:content"].dir.as_deref(),
            Some("jcr_root/content/_jcr_content")
        );
        assert_eq!(
            c.children["a:b.txt"].file.as_deref(),
            Some("jcr_root/content/a%3ab.txt")
        );
        assert!(c.children.contains_key("other.txt"));
    }
}
