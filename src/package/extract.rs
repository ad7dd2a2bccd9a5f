//! A new package holding part of another (`jcrpack extract`): the subtrees a selection
//! names, with the filter narrowed to them.
//!
//! * The selection is a list of roots or a `filter.xml`. Each selected root keeps the
//!   mode and rules of the source filter set that covers it (a root above a source root
//!   narrows to that source root); `mode` overrides every mode.
//! * `properties.xml` is copied with the name changed (`NAME-extract` unless a name is
//!   given); `filter.xml` is the narrowed filter; the package's CND files become one
//!   `nodetypes.cnd` trimmed to the types the selected content uses (with their
//!   supertypes and child types). `META-INF/MANIFEST.MF`, `vault/definition/` and
//!   `filter-vlt.xml` describe the old package and are left out; other metadata
//!   (hooks, `config.xml`, `settings.xml`, `privileges.xml`) is copied.
//! * A content entry whose whole subtree is selected is copied compressed
//!   ([`PackageWriter::raw_copy`]: no deflate), after reading it once through the
//!   source's checked reader: an entry whose data does not match its CRC-32, or that
//!   inflates beyond the limits (a zip bomb), fails the extract as it fails `import`. A DocView file that holds
//!   selected and unselected nodes is rewritten with the selected elements and their
//!   ancestors; the DocView files of the ancestors of the roots are kept with only the
//!   way down to the roots.
//!
//! Cost follows what is selected: only the central directory, the metadata and the
//! entries at or above the selected roots are read ([`scan_pruned`]). Opened with
//! [`open_source`], the source archive itself holds only those entries
//! ([`EntrySelection`]): opening costs one scan of the central directory's names, and
//! the sort, the name checks, the case-collision check and the local-header checks run
//! on the selection only. A refused entry outside the selection (an unsafe or
//! duplicate name, a local header that disagrees, a case collision) does not fail the
//! extract: it is never read and cannot be in the new package, as FileVault's importer
//! would not read it for this selection either. Every entry the extract reads or
//! copies is checked exactly as a full open checks it; `import` and `validate` of the
//! whole package still refuse it.

use super::inspect::read_docview;
use super::layout::{scan_pruned, IgnoreList, LayoutNode};
use super::{
    metadata_cnds, read_filter, read_properties, PackageError, FILTER_ENTRY, PROPERTIES_ENTRY,
};
use crate::archive::{
    Archive, ArchiveError, EntrySelection, PackageSink, PackageWriter, ReadOptions, WriterOptions,
};
use crate::cnd::NodeTypeRegistry;
use crate::docview::{writer, DocViewElement};
use crate::filter::{FilterSet, ImportMode, WorkspaceFilter};
use crate::namespace::NamespaceRegistry;
use crate::path;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The entries of the source package that an extract of `selection` needs: the
/// metadata, and the subtrees of the selection's roots with the way down to them.
pub fn entry_selection(selection: &Selection) -> EntrySelection {
    match selection {
        Selection::Roots(roots) => EntrySelection::roots(roots),
        Selection::Filter(f) => EntrySelection::roots(f.sets.iter().map(|s| s.root())),
    }
}

/// Opens the package at `path` for an extract of `selection`: only the entries the
/// extract needs are listed, checked and readable ([`entry_selection`]).
pub fn open_source(
    path: &Path,
    options: &ReadOptions,
    selection: &Selection,
) -> Result<Box<dyn Archive>, ArchiveError> {
    crate::archive::open_selected(path, options, &entry_selection(selection))
}

/// The suffix added to the package name when no name is given.
pub const NAME_SUFFIX: &str = "-extract";

/// What to extract.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These subtrees (absolute repository paths).
    Roots(Vec<String>),
    /// The paths a filter contains.
    Filter(WorkspaceFilter),
}

/// How to extract.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// What to keep.
    pub selection: Selection,
    /// Overrides the mode of every filter set of the new package.
    pub mode: Option<ImportMode>,
    /// The new package's name (default: the old name with [`NAME_SUFFIX`]).
    pub name: Option<String>,
    /// How the zip is written.
    pub writer: WriterOptions,
    /// Write the package even when a selected root holds nothing in the source.
    pub allow_empty: bool,
}

/// Why an extract failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Reading the source or writing the target failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The source's metadata is malformed.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// The selection is not usable (a relative root, nothing inside the source filter).
    #[error("{0}")]
    Selection(String),
    /// A selected root holds nothing in the package (a typo must not give an empty
    /// package).
    #[error("{0}: the root selects nothing in the package")]
    EmptyRoot(String),
    /// A DocView file of the selection cannot be read.
    #[error("{0}")]
    DocView(String),
}

/// What an extract wrote.
#[derive(Debug, Clone, Default)]
pub struct ExtractReport {
    /// The new package.
    pub output: PathBuf,
    /// Its filter.
    pub filter: WorkspaceFilter,
    /// Its name in `properties.xml`.
    pub name: String,
    /// Entries copied compressed, without inflating.
    pub raw_copied: u64,
    /// DocView files rewritten with part of their nodes.
    pub rewritten: u64,
    /// Entries in the new zip, directories included.
    pub entries: u64,
    /// The new zip's size in bytes.
    pub size: u64,
    /// Node types written to `nodetypes.cnd`.
    pub node_types: Vec<String>,
    /// Things worth knowing (a CND that could not be trimmed and was left out).
    pub warnings: Vec<String>,
}

/// The filter of the extracted package: `selection` narrowed to `source` (see the
/// module documentation). Fails when a root is not absolute or nothing of the
/// selection lies inside the source filter.
pub fn narrowed_filter(
    source: Option<&WorkspaceFilter>,
    selection: &Selection,
    mode: Option<ImportMode>,
) -> Result<WorkspaceFilter, ExtractError> {
    let wanted: Vec<FilterSet> = match selection {
        Selection::Roots(roots) => {
            let mut v = Vec::new();
            for r in roots {
                let n = path::normalize(r)
                    .map_err(|e| ExtractError::Selection(format!("root '{r}': {e}")))?;
                v.push(FilterSet::new(&n));
            }
            v
        }
        Selection::Filter(f) => f.sets.clone(),
    };
    let explicit_rules = matches!(selection, Selection::Filter(_));
    let mut out: Vec<FilterSet> = Vec::new();
    let push = |mut s: FilterSet, out: &mut Vec<FilterSet>| {
        s.location = None;
        s.written_root = None;
        if let Some(m) = mode {
            s.mode = m;
        }
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for w in wanted {
        let Some(src) = source else {
            push(w, &mut out);
            continue;
        };
        if let Some(s) = src.covering_set(w.root()) {
            let mut n = s.clone();
            n.set_root(w.root());
            n.rules = merge_rules(&s.rules, &w.rules, explicit_rules);
            push(n, &mut out);
            continue;
        }
        for s in &src.sets {
            if path::is_descendant(s.root(), w.root())
                && (w.rules.is_empty() || w.contains(s.root()) || w.rules.iter().any(|r| r.include))
            {
                let mut n = s.clone();
                n.rules = merge_rules(&s.rules, &w.rules, explicit_rules);
                push(n, &mut out);
            }
        }
    }
    if out.is_empty() {
        return Err(ExtractError::Selection(
            "nothing selected lies inside the package's filter".to_string(),
        ));
    }
    let mut f = WorkspaceFilter::with_sets(out);
    if let Some(src) = source {
        f.version = src.version;
    }
    Ok(f)
}

/// The rules of a narrowed set: the source's when the selection has none; otherwise
/// the selection's, followed by the source's excludes (so that what the source
/// excluded stays excluded; a source include that narrowed its set is not carried,
/// and content it did not contain is dropped by the content selection anyway).
fn merge_rules(
    source: &[crate::filter::Rule],
    wanted: &[crate::filter::Rule],
    explicit: bool,
) -> Vec<crate::filter::Rule> {
    if !explicit || wanted.is_empty() {
        return source.to_vec();
    }
    if source.is_empty() {
        return wanted.to_vec();
    }
    let mut v = wanted.to_vec();
    v.extend(source.iter().filter(|r| !r.include).cloned());
    v
}

/// Which paths the new package holds: contained by the new filter and, when the
/// source has one, by the source filter too.
struct Selector<'a> {
    new: &'a WorkspaceFilter,
    source: Option<&'a WorkspaceFilter>,
    /// Per set of the new filter: whether a node of the package was selected under it.
    hit: std::cell::RefCell<Vec<bool>>,
}

impl Selector<'_> {
    fn selected(&self, p: &str) -> bool {
        let both = |q: &str| self.new.contains(q) && self.source.is_none_or(|s| s.contains(q));
        // Below a contained node, an install creates what the package holds even where
        // the filter excludes it (new nodes are created whether contained or not, and
        // the entries below a contained node are all read): the extract keeps it, so
        // that it installs as the selection does in the full package.
        let below_contained = || {
            self.new.covers(p)
                && self.source.is_none_or(|s| s.covers(p))
                && std::iter::successors(path::parent(p), |q| path::parent(q)).any(both)
        };
        let yes = both(p) || below_contained();
        if yes {
            for (i, s) in self.new.sets.iter().enumerate() {
                if s.covers(p) {
                    self.hit.borrow_mut()[i] = true;
                }
            }
        }
        yes
    }

    /// Every path at or below `p` is selected: a rule-less set covers it in both filters.
    fn whole(&self, p: &str) -> bool {
        let free = |f: &WorkspaceFilter| {
            f.sets
                .iter()
                .any(|s| s.covers(p) && !s.is_cleanup() && s.node_rules().next().is_none())
        };
        free(self.new) && self.source.is_none_or(free)
    }

    fn ancestor(&self, p: &str) -> bool {
        self.new.is_ancestor(p)
    }

    fn visit(&self, p: &str) -> bool {
        self.new.covers(p) || self.new.is_ancestor(p)
    }
}

enum Out {
    Raw,
    Bytes(Vec<u8>),
    Dir,
}

/// Extracts the selection of `source` into a new package zip at `target` (written
/// under a temporary name and renamed when complete).
pub fn extract(
    source: &dyn Archive,
    target: &Path,
    opts: &ExtractOptions,
) -> Result<ExtractReport, ExtractError> {
    let mut props = read_properties(source)?;
    let old_filter = read_filter(source)?;
    let filter = narrowed_filter(old_filter.as_ref(), &opts.selection, opts.mode)?;
    let sel = Selector {
        new: &filter,
        source: old_filter.as_ref(),
        hit: std::cell::RefCell::new(vec![false; filter.sets.len()]),
    };
    let mut report = ExtractReport {
        output: target.to_path_buf(),
        ..ExtractReport::default()
    };

    // Node types: only needed when the package declares some.
    let cnds = metadata_cnds(source);
    let mut types = CndTrim::load(source, &cnds)?;
    let collect_types = types.as_ref().is_some_and(|t| !t.declared.is_empty());

    let layout = scan_pruned(source, &IgnoreList::default(), &|p| sel.visit(p))?;
    let mut content: BTreeMap<String, Out> = BTreeMap::new();
    let mut used: Vec<String> = Vec::new();
    walk(
        source,
        &sel,
        &layout.root,
        collect_types,
        &mut content,
        &mut used,
    )?;

    let name = match &opts.name {
        Some(n) => n.clone(),
        None => format!("{}{NAME_SUFFIX}", props.name().unwrap_or("package")),
    };
    props.set_name(&name);
    report.name = name;

    // Every entry to be copied compressed is checked before anything is written (in a
    // pass of its own: reading between the writer's allocations would fragment the
    // heap, one reader's buffers per entry).
    let copied_metadata = || {
        source
            .listing()
            .files()
            .map(|e| e.name())
            .filter(|n| n.starts_with("META-INF/") && !skipped_metadata(n, &cnds))
    };
    if source.as_zip().is_some() {
        let raw = content
            .iter()
            .filter(|(_, out)| matches!(out, Out::Raw))
            .map(|(entry, _)| entry.as_str());
        for entry in copied_metadata().chain(raw) {
            verify(source, entry)?;
        }
    }

    if !opts.allow_empty {
        // A typo in a root must not give an empty package.
        let hit = sel.hit.borrow();
        if let Some(i) = hit.iter().position(|h| !h) {
            return Err(ExtractError::EmptyRoot(filter.sets[i].root().to_string()));
        }
    }

    let mut w = PackageWriter::create(target, opts.writer)?;
    w.add_bytes(PROPERTIES_ENTRY, props.to_xml())?;
    w.add_bytes(FILTER_ENTRY, filter.to_xml())?;
    for n in copied_metadata() {
        copy(&mut w, source, n, &mut report)?;
    }
    for (entry, out) in content {
        match out {
            Out::Raw => copy(&mut w, source, &entry, &mut report)?,
            Out::Bytes(b) => {
                report.rewritten += 1;
                w.add_bytes(&entry, b)?;
            }
            Out::Dir => w.add_directory(&entry)?,
        }
    }
    if let Some(t) = types.as_mut() {
        if let Some((text, names)) = t.trimmed(&used, &mut report.warnings) {
            report.node_types = names;
            w.add_bytes("META-INF/vault/nodetypes.cnd", text.into_bytes())?;
        }
    }
    let written = w.finish()?;
    report.entries = written.entries;
    report.size = written.size;
    report.filter = filter;
    Ok(report)
}

fn skipped_metadata(n: &str, cnds: &[String]) -> bool {
    n == "META-INF/MANIFEST.MF"
        || n == PROPERTIES_ENTRY
        || n == FILTER_ENTRY
        || n == "META-INF/vault/filter-vlt.xml"
        || n.starts_with("META-INF/vault/definition/")
        || cnds.iter().any(|c| c == n)
}

fn copy(
    w: &mut PackageWriter,
    source: &dyn Archive,
    entry: &str,
    report: &mut ExtractReport,
) -> Result<(), ArchiveError> {
    match source.as_zip() {
        Some(z) => {
            report.raw_copied += 1;
            w.raw_copy(z, entry)
        }
        None => w.copy_entry(source, entry),
    }
}

/// Reads file `entry` to its end through the archive's checked reader, so that a raw
/// copy ([`copy`], after every entry was checked) never passes on data that does not match its CRC-32, or a zip bomb: the
/// source's reader applies the same checks and limits as `import` (inflating costs
/// time, not memory; nothing is deflated again).
fn verify(source: &dyn Archive, entry: &str) -> Result<(), ArchiveError> {
    if source.entry(entry).is_none_or(|e| e.is_dir()) {
        return Ok(());
    }
    let mut reader = source.open(entry)?;
    std::io::copy(&mut reader, &mut std::io::sink())
        .map_err(|e| ArchiveError::from_read_error(source.name(), entry, e))?;
    Ok(())
}

fn walk(
    archive: &dyn Archive,
    sel: &Selector<'_>,
    l: &LayoutNode,
    collect_types: bool,
    content: &mut BTreeMap<String, Out>,
    used: &mut Vec<String>,
) -> Result<(), ExtractError> {
    let p = l.path.as_str();
    let selected = p != "/" && sel.selected(p);
    if selected {
        if let Some(f) = &l.file {
            content.insert(f.clone(), Out::Raw);
            used.push("nt:file".into());
        }
        for b in &l.binaries {
            content.insert(b.entry.clone(), Out::Raw);
        }
        if let (Some(d), None, None) = (&l.dir, &l.docview, &l.file) {
            content.insert(d.clone(), Out::Dir);
            used.push("nt:folder".into());
        }
    }
    if let Some(dv) = &l.docview {
        let whole = selected && sel.whole(p);
        if whole && !collect_types {
            content.insert(dv.clone(), Out::Raw);
        } else {
            // The pruned scan only reaches nodes at or above the selection.
            let mut doc = read_docview(archive, dv).map_err(ExtractError::DocView)?;
            let mut changed = false;
            let keep = if doc.root_is_jcr_root {
                let keep = prune(&mut doc.root, p, sel, &mut changed);
                keep || selected || sel.ancestor(p)
            } else {
                let cp = path::join(p, &doc.root.segment());
                prune(&mut doc.root, &cp, sel, &mut changed)
            };
            if keep && !(p == "/" && !sel.selected("/") && doc.root.children.is_empty()) {
                if collect_types {
                    collect(&doc.root, used);
                }
                let out = if changed {
                    Out::Bytes(writer::to_vec(&doc))
                } else {
                    Out::Raw
                };
                content.insert(dv.clone(), out);
            }
        }
    }
    for c in l.children.values() {
        walk(archive, sel, c, collect_types, content, used)?;
    }
    Ok(())
}

/// Drops the children of `el` (at `p`) that neither are selected nor lead to a
/// selected node. Returns whether `el` itself is selected or leads to one.
///
/// An ancestor of the selection that is not selected itself keeps every child, the
/// ones off the way down as empty placeholders: the child order FileVault's exporter
/// writes for ancestors, so that an install puts a restored subtree back in its place.
fn prune(el: &mut DocViewElement, p: &str, sel: &Selector<'_>, changed: &mut bool) -> bool {
    let mut any = false;
    let before = el.children.len();
    let keep_order = sel.ancestor(p) && !(p != "/" && sel.selected(p));
    el.children.retain_mut(|c| {
        let cp = path::join(p, &c.segment());
        let keep = prune(c, &cp, sel, changed);
        any |= keep;
        if !keep && keep_order {
            if !c.is_placeholder() {
                c.properties.clear();
                c.children.clear();
                *changed = true;
            }
            return true;
        }
        keep
    });
    if el.children.len() != before {
        *changed = true;
    }
    any || (p != "/" && sel.selected(p)) || (!el.is_placeholder() && sel.ancestor(p))
}

fn collect(el: &DocViewElement, used: &mut Vec<String>) {
    if let Some(t) = el.primary_type() {
        used.push(t.to_string());
    }
    used.extend(el.mixin_types());
    for c in &el.children {
        collect(c, used);
    }
}

/// The package's node types, to write back only those used.
struct CndTrim {
    registry: NodeTypeRegistry,
    ns: NamespaceRegistry,
    declared: BTreeSet<String>,
}

impl CndTrim {
    fn load(archive: &dyn Archive, cnds: &[String]) -> Result<Option<CndTrim>, PackageError> {
        if cnds.is_empty() {
            return Ok(None);
        }
        let mut t = CndTrim {
            registry: NodeTypeRegistry::new(),
            ns: NamespaceRegistry::new(),
            declared: BTreeSet::new(),
        };
        for c in cnds {
            let parsed = archive
                .read_to_vec(c)
                .map_err(|e| e.to_string())
                .and_then(|b| crate::cnd::parse_bytes(&b, c).map_err(|e| e.to_string()));
            // A CND that cannot be read or parsed fails the extract, as it fails
            // `import`: leaving it out would drop the package's node types.
            let file = parsed.map_err(|e| PackageError::Metadata(e.to_string()))?;
            match t.registry.register_cnd(&file, &mut t.ns) {
                Ok(r) => {
                    t.declared.extend(r.added);
                    t.declared.extend(r.skipped);
                }
                // Refused as `import` refuses it (a cyclic supertype, a conflict):
                // leaving the types out would write a package that cannot install.
                Err(e) => {
                    return Err(PackageError::Metadata(format!(
                        "{c}: node types cannot be registered: {e}"
                    )));
                }
            }
        }
        Ok(Some(t))
    }

    /// The CND text of the used types the package declares, and their names; `None`
    /// when none is used.
    fn trimmed(
        &self,
        used: &[String],
        warnings: &mut Vec<String>,
    ) -> Option<(String, Vec<String>)> {
        let closure = self.registry.closure(used.iter().map(String::as_str));
        let types: Vec<_> = closure
            .types
            .into_iter()
            .filter(|t| self.declared.contains(&t.name))
            .collect();
        if types.is_empty() {
            return None;
        }
        match crate::cnd::write_with(&types, &self.ns) {
            Ok(text) => Some((text, types.iter().map(|t| t.name.clone()).collect())),
            Err(e) => {
                warnings.push(format!("nodetypes.cnd cannot be written: {e}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{open, Children, Listing, ReadOptions};
    use std::sync::Mutex;

    /// An archive that records which entries were opened.
    #[derive(Debug)]
    struct Counting {
        inner: Box<dyn Archive>,
        opened: Mutex<Vec<String>>,
    }

    impl Archive for Counting {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn kind(&self) -> crate::archive::ArchiveKind {
            self.inner.kind()
        }
        fn listing(&self) -> &Listing {
            self.inner.listing()
        }
        fn warnings(&self) -> &[crate::archive::ArchiveWarning] {
            self.inner.warnings()
        }
        fn open(&self, entry: &str) -> Result<Box<dyn std::io::Read + Send>, ArchiveError> {
            self.opened.lock().unwrap().push(entry.to_string());
            self.inner.open(entry)
        }
        fn children(&self, dir: &str) -> Result<Children<'_>, ArchiveError> {
            self.inner.children(dir)
        }
    }

    use crate::test_support::write;

    const PAGE: &str =
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#;

    #[test]
    fn reads_only_what_is_at_or_above_the_selection() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("pkg");
        write(
            &d,
            "META-INF/vault/filter.xml",
            r#"<workspaceFilter version="1.0"><filter root="/content" mode="merge"/></workspaceFilter>"#,
        );
        write(&d, "jcr_root/content/.content.xml", PAGE);
        for i in 0..20 {
            write(&d, &format!("jcr_root/content/p{i}/.content.xml"), PAGE);
            write(&d, &format!("jcr_root/content/p{i}/full.xml"), PAGE);
            write(&d, &format!("jcr_root/content/p{i}/data.txt"), "x");
        }
        let a = Counting {
            inner: open(&d, &ReadOptions::default()).unwrap(),
            opened: Mutex::new(Vec::new()),
        };
        let opts = ExtractOptions {
            selection: Selection::Roots(vec!["/content/p3".into()]),
            mode: None,
            name: Some("n".into()),
            writer: WriterOptions::default(),
            allow_empty: false,
        };
        let out = t.path().join("out.zip");
        let r = extract(&a, &out, &opts).unwrap();
        assert_eq!(r.filter.sets.len(), 1);
        assert_eq!(r.filter.sets[0].root(), "/content/p3");
        assert_eq!(r.filter.sets[0].mode, ImportMode::Merge);
        let opened = a.opened.into_inner().unwrap();
        for e in &opened {
            assert!(
                e.starts_with("META-INF/")
                    || e == "jcr_root/content/.content.xml"
                    || e.starts_with("jcr_root/content/p3/"),
                "read {e}: {opened:?}"
            );
        }
        let o = open(&out, &ReadOptions::default()).unwrap();
        let names: Vec<&str> = o.listing().files().map(|e| e.name()).collect();
        assert_eq!(
            names,
            [
                "META-INF/vault/filter.xml",
                "META-INF/vault/properties.xml",
                "jcr_root/content/.content.xml",
                "jcr_root/content/p3/.content.xml",
                "jcr_root/content/p3/data.txt",
                "jcr_root/content/p3/full.xml",
            ]
        );
    }

    /// Issue 20: the full install creates an excluded node that a DocView of a
    /// contained node holds, and reads the entries below a contained node whatever the
    /// filter says of them: the extract keeps both.
    #[test]
    fn keeps_what_the_full_install_creates_below_the_root_despite_excludes() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("pkg");
        write(
            &d,
            "META-INF/vault/filter.xml",
            r#"<workspaceFilter version="1.0"><filter root="/tmp"><exclude pattern="/tmp/foo/bar(/.*)?"/></filter></workspaceFilter>"#,
        );
        write(
            &d,
            "jcr_root/tmp/.content.xml",
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><foo jcr:primaryType="nt:unstructured" p="1"><bar jcr:primaryType="nt:unstructured" q="2"/></foo></jcr:root>"#,
        );
        write(&d, "jcr_root/tmp/foo/bar/baz/.content.xml", PAGE);
        let a = open(&d, &ReadOptions::default()).unwrap();
        let out = t.path().join("out.zip");
        extract(a.as_ref(), &out, &roots("/tmp/foo")).unwrap();
        let o = open(&out, &ReadOptions::default()).unwrap();
        let names: Vec<&str> = o.listing().files().map(|e| e.name()).collect();
        assert!(
            names.contains(&"jcr_root/tmp/foo/bar/baz/.content.xml"),
            "{names:?}"
        );
        let doc = String::from_utf8(o.read_to_vec("jcr_root/tmp/.content.xml").unwrap()).unwrap();
        assert!(doc.contains("<bar") && doc.contains("q=\"2\""), "{doc}");
    }

    #[test]
    fn narrowing_keeps_modes_rules_and_source_roots_below() {
        let src = WorkspaceFilter::parse(
            br#"<workspaceFilter version="1.0">
                <filter root="/apps/a" mode="merge"/>
                <filter root="/content/site"><exclude pattern="/content/site/x(/.*)?"/></filter>
            </workspaceFilter>"#,
            "filter.xml",
        )
        .unwrap();
        let f = narrowed_filter(
            Some(&src),
            &Selection::Roots(vec!["/apps".into(), "/content/site/en".into()]),
            None,
        )
        .unwrap();
        let roots: Vec<(&str, ImportMode, usize)> = f
            .sets
            .iter()
            .map(|s| (s.root(), s.mode, s.rules.len()))
            .collect();
        assert_eq!(
            roots,
            [
                ("/apps/a", ImportMode::Merge, 0),
                ("/content/site/en", ImportMode::Replace, 1)
            ]
        );
        let f = narrowed_filter(
            Some(&src),
            &Selection::Roots(vec!["/apps/a/b".into()]),
            Some(ImportMode::Update),
        )
        .unwrap();
        assert_eq!(f.sets[0].mode, ImportMode::Update);
        assert!(narrowed_filter(Some(&src), &Selection::Roots(vec!["/etc".into()]), None).is_err());
        assert!(narrowed_filter(Some(&src), &Selection::Roots(vec!["rel".into()]), None).is_err());
    }

    /// A zip of a package with `filter.xml` (root `/content`) and the given files.
    fn zip_of(path: &Path, files: &[(&str, &[u8])]) {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        let filter: &[u8] =
            br#"<workspaceFilter version="1.0"><filter root="/content"/></workspaceFilter>"#;
        for (name, bytes) in [("META-INF/vault/filter.xml", filter)].iter().chain(files) {
            z.start_file(*name, o).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
    }

    fn roots(r: &str) -> ExtractOptions {
        ExtractOptions {
            selection: Selection::Roots(vec![r.into()]),
            mode: None,
            name: None,
            writer: WriterOptions::default(),
            allow_empty: false,
        }
    }

    #[test]
    fn a_raw_copy_checks_the_data_first() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src.zip");
        zip_of(&src, &[("jcr_root/content/a.txt", b"the data")]);
        // Break the stored CRC-32 of the entry (local header and central directory).
        let mut bytes = std::fs::read(&src).unwrap();
        let crc = crc32(b"the data").to_le_bytes();
        let mut patched = 0;
        for i in 0..bytes.len() - 4 {
            if bytes[i..i + 4] == crc {
                bytes[i..i + 4].copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
                patched += 1;
            }
        }
        assert_eq!(patched, 2);
        std::fs::write(&src, &bytes).unwrap();
        let a = open(&src, &ReadOptions::default()).unwrap();
        let out = t.path().join("out.zip");
        let e = extract(a.as_ref(), &out, &roots("/content")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("jcr_root/content/a.txt") && text.contains("is corrupt"),
            "{text}"
        );
        assert!(!out.exists());
        // Outside the selection, the entry is never read.
        zip_of(
            &src,
            &[
                ("jcr_root/content/a.txt", b"the data"),
                ("jcr_root/content/b/c.txt", b"x"),
            ],
        );
        let mut bytes = std::fs::read(&src).unwrap();
        for i in 0..bytes.len() - 4 {
            if bytes[i..i + 4] == crc {
                bytes[i..i + 4].copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
            }
        }
        std::fs::write(&src, &bytes).unwrap();
        let a = open(&src, &ReadOptions::default()).unwrap();
        let r = extract(a.as_ref(), &out, &roots("/content/b")).unwrap();
        assert_eq!(r.raw_copied, 1);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_cnd_that_does_not_parse_fails_the_extract() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src.zip");
        zip_of(
            &src,
            &[
                (
                    "META-INF/vault/nodetypes.cnd",
                    b"<my = 'http://x'>\n[my:T] > 'unterminated\n",
                ),
                ("jcr_root/content/a.txt", b"x"),
            ],
        );
        let a = open(&src, &ReadOptions::default()).unwrap();
        let out = t.path().join("out.zip");
        let e = extract(a.as_ref(), &out, &roots("/content")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("META-INF/vault/nodetypes.cnd") && text.contains("unterminated"),
            "{text}"
        );
        assert!(!out.exists());
    }

    /// A package whose selected roots are reached through every kind of entry: a
    /// DocView `.content.xml` of an ancestor, a full-coverage `NAME.xml`, a `.dir`
    /// folder, escaped names, a file aggregate, binaries and CNDs.
    fn varied_package(d: &Path) {
        write(
            d,
            "META-INF/vault/filter.xml",
            r#"<workspaceFilter version="1.0"><filter root="/content" mode="merge"/><filter root="/apps/x"/></workspaceFilter>"#,
        );
        write(
            d,
            "META-INF/vault/properties.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties><entry key="group">g</entry><entry key="name">n</entry><entry key="version">1</entry></properties>"#,
        );
        write(
            d,
            "META-INF/vault/nodetypes.cnd",
            "<x='urn:x'>\n[x:T] > nt:base\n[x:U] > nt:base",
        );
        write(
            d,
            "jcr_root/content/.content.xml",
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><inline jcr:primaryType="nt:unstructured"><leaf jcr:primaryType="nt:unstructured" v="1"/></inline><site/><full/></jcr:root>"#,
        );
        write(d, "jcr_root/content/site/.content.xml", PAGE);
        write(
            d,
            "jcr_root/content/site/_jcr_content/.content.xml",
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:x="urn:x" jcr:primaryType="x:T"/>"#,
        );
        write(d, "jcr_root/content/site/_jcr_content/img.png", "png");
        write(
            d,
            "jcr_root/content/site/_jcr_content/img.png.dir/.content.xml",
            PAGE,
        );
        write(d, "jcr_root/content/site/a%3ab/data.bin", "b");
        write(d, "jcr_root/content/site/p.binary", "bin");
        write(
            d,
            "jcr_root/content/full.xml",
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><one jcr:primaryType="nt:unstructured"/><two jcr:primaryType="nt:unstructured"/></jcr:root>"#,
        );
        write(d, "jcr_root/content/full.dir/three/.content.xml", PAGE);
        for i in 0..5 {
            write(d, &format!("jcr_root/content/other{i}/.content.xml"), PAGE);
        }
        write(d, "jcr_root/apps/x/.content.xml", PAGE);
        write(d, "jcr_root/apps/x/s.js", "js");
    }

    /// [`varied_package`] in `dir/pkg` and zipped as `dir/pkg.zip`.
    fn varied_package_and_zip(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let d = dir.join("pkg");
        varied_package(&d);
        let zip = dir.join("pkg.zip");
        let folder = open(&d, &ReadOptions::default()).unwrap();
        let mut w = PackageWriter::create(&zip, WriterOptions::default()).unwrap();
        for e in folder.listing().files() {
            w.copy_entry(folder.as_ref(), e.name()).unwrap();
        }
        w.finish().unwrap();
        (d, zip)
    }

    /// Opened for the selection or whole, a package extracts to the same bytes.
    #[test]
    fn a_selected_open_extracts_the_same_bytes_as_a_full_open() {
        let t = tempfile::tempdir().unwrap();
        let (d, zip) = varied_package_and_zip(t.path());
        let selections: Vec<Vec<&str>> = vec![
            vec!["/content/site"],
            vec!["/content/site/jcr:content"],
            vec!["/content/site/jcr:content/img.png"],
            vec!["/content/site/a:b"],
            vec!["/content/inline/leaf"],
            vec!["/content/full/two"],
            vec!["/content/full/three"],
            vec!["/content/other3", "/apps/x"],
            vec!["/content"],
            vec!["/"],
        ];
        for source in [&d, &zip] {
            for roots in &selections {
                let sel = Selection::Roots(roots.iter().map(|r| r.to_string()).collect());
                let opts = ExtractOptions {
                    selection: sel.clone(),
                    allow_empty: true,
                    ..roots_opts()
                };
                let full = open(source, &ReadOptions::default()).unwrap();
                let a = t.path().join("full.zip");
                let ra = extract(full.as_ref(), &a, &opts).unwrap();
                let selected = open_source(source, &ReadOptions::default(), &sel).unwrap();
                assert!(selected.listing().len() <= full.listing().len());
                let b = t.path().join("selected.zip");
                let rb = extract(selected.as_ref(), &b, &opts).unwrap();
                let differ = std::fs::read(&a).unwrap() != std::fs::read(&b).unwrap();
                assert!(
                    !differ,
                    "{roots:?} of {}: different bytes",
                    source.display()
                );
                assert_eq!((ra.entries, ra.rewritten), (rb.entries, rb.rewritten));
                assert_eq!(ra.node_types, rb.node_types);
            }
        }
        // The other pages are not even listed.
        let sel = Selection::Roots(vec!["/content/site".into()]);
        let selected = open_source(&zip, &ReadOptions::default(), &sel).unwrap();
        assert!(selected.entry("jcr_root/content/other3").is_none());
        assert!(selected.entry("jcr_root/apps").is_none());
    }

    fn roots_opts() -> ExtractOptions {
        ExtractOptions {
            selection: Selection::Roots(Vec::new()),
            mode: None,
            name: None,
            writer: WriterOptions::default(),
            allow_empty: false,
        }
    }

    /// A refused entry outside the selection does not fail the extract (it is never
    /// read and cannot be in the new package); inside the selection it does.
    #[test]
    fn a_refused_entry_outside_the_selection_does_not_fail_the_extract() {
        let t = tempfile::tempdir().unwrap();
        let (_, zip) = varied_package_and_zip(t.path());
        let sel = Selection::Roots(vec!["/content/site".into()]);
        let opts = ExtractOptions {
            selection: sel.clone(),
            ..roots_opts()
        };
        let clean = t.path().join("clean.zip");
        let a = open_source(&zip, &ReadOptions::default(), &sel).unwrap();
        extract(a.as_ref(), &clean, &opts).unwrap();

        // `other4` renamed to `other3` in its local header and central record: a
        // duplicate, which a full open refuses.
        let mut bytes = std::fs::read(&zip).unwrap();
        let from = b"jcr_root/content/other4/.content.xml";
        let mut renamed = 0;
        while let Some(at) = bytes.windows(from.len()).position(|w| w == from) {
            bytes[at + 22] = b'3';
            renamed += 1;
        }
        assert_eq!(renamed, 2);
        std::fs::write(&zip, &bytes).unwrap();
        let e = open(&zip, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("occurs more than once"), "{e}");

        let a = open_source(&zip, &ReadOptions::default(), &sel).unwrap();
        let out = t.path().join("out.zip");
        extract(a.as_ref(), &out, &opts).unwrap();
        assert!(std::fs::read(&out).unwrap() == std::fs::read(&clean).unwrap());

        let sel = Selection::Roots(vec!["/content/other3".into()]);
        let e = open_source(&zip, &ReadOptions::default(), &sel).unwrap_err();
        assert!(e.to_string().contains("occurs more than once"), "{e}");
    }
}
