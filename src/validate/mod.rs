//! Package validation without a repository: the checks of FileVault's validators
//! (`vault-validation`) that need nothing but the package itself.
//!
//! [`validate_path`] opens a package (a zip, a package folder, or a source folder
//! with `jcr_root/` and `META-INF/vault/`) and [`validate_archive`] checks an opened
//! one. Both return a [`Report`]: a list of [`Finding`]s, each with a [`Severity`],
//! the FileVault id of the validator that raised it, the package entry, line and
//! column when known, a message and a one-line fix.
//!
//! The driver reads the package's metadata and layout once ([`Package::load`]):
//! `filter.xml`, `properties.xml` and the layout of `jcr_root/`. Reading problems
//! become findings of the validator that owns the file. Each validator module then
//! checks the metadata and layout, and the DocView files are read, parsed, handed to
//! every validator's [`DocCheck`] and dropped, one file at a time
//! ([`Package::for_each_doc`]): memory follows the layout and the largest DocView
//! file, not the number of nodes. What a check must remember across files is kept
//! small (path hashes, the findings themselves). Each validator's findings are
//! collected apart and joined in the validators' order before sorting, so the report
//! does not depend on when a check ran.
//!
//! | module | id | what |
//! |---|---|---|
//! | [`filter`] | `jackrabbit-filter` | filter.xml well-formed, roots, overlaps, patterns that never match, nodes outside the filter, uncovered ancestors, orphaned rules |
//! | [`properties`] | `jackrabbit-properties` | properties.xml well-formed; group, name, version, packageType, acHandling valid |
//! | [`dependencies`] | `jackrabbit-dependencies` | `dependencies` parse; duplicates |
//! | [`docviewparser`] | `jackrabbit-docviewparser` | every DocView parses; no character data; and the archive as FileVault lays it out: every entry readable (CRC-32, inflate limits), no two entries for one node (`_jcr_content` and `jcr%3acontent`), names that differ only in case and link entries (warnings) |
//! | [`emptyelements`] | `jackrabbit-emptyelements` | ordering-only elements in `replace` filters |
//! | [`mergelimitations`] | `jackrabbit-mergelimitations` | `merge` roots that are not an aggregate's root |
//! | [`nodetypes`] | `jackrabbit-nodetypes` | CNDs parse; primary types present; types and prefixes known and valid |
//! | [`packagetype`] | `jackrabbit-packagetype` | content against the package type |
//! | [`duplicateuuid`] | `jackrabbit-duplicateuuid` | the same `jcr:uuid` twice |
//! | [`accesscontrol`] | `jackrabbit-accesscontrol` | ACLs against `acHandling` |
//! | [`osgiconfigparser`] | `jackrabbit-osgiconfigparser` | `.cfg.json` configurations parse |
//! | [`oakindex`] | `jackrabbit-oakindex` | index definitions need `allowIndexDefinitions` |

pub mod accesscontrol;
pub mod dependencies;
pub mod docviewparser;
pub mod duplicateuuid;
pub mod emptyelements;
pub mod filter;
pub mod mergelimitations;
pub mod nodetypes;
pub mod oakindex;
pub mod osgiconfigparser;
pub mod packagetype;
pub mod properties;

use crate::archive::{self, Archive, ArchiveError, ReadOptions};
use crate::docview::{DocViewDocument, DocViewElement};
use crate::filter::WorkspaceFilter;
use crate::location::Location;
use crate::package::flat::{self, FlatLayout, FlatNode};
use crate::package::IgnoreList;
use crate::path;
use crate::properties::PackageProperties;
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The package is broken or will not install as intended.
    Error,
    /// Probably a mistake, or something that behaves unexpectedly.
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a validator found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The FileVault id of the validator (`jackrabbit-filter`, ...).
    pub validator: &'static str,
    /// The package entry (`META-INF/vault/filter.xml`, `jcr_root/.../.content.xml`).
    pub entry: Option<String>,
    /// 1-based line in the entry, when known.
    pub line: Option<u32>,
    /// 1-based column in the entry, when known.
    pub column: Option<u32>,
    /// The repository path concerned, when there is one.
    pub node_path: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it, in one line.
    pub fix: String,
}

impl Finding {
    /// A finding without a place; add one with [`Finding::at`], [`Finding::in_entry`]
    /// and [`Finding::node`].
    pub fn new(
        severity: Severity,
        validator: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            validator,
            entry: None,
            line: None,
            column: None,
            node_path: None,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// The error finding for an entry the archive cannot read (`message` says which
    /// and why), with the one fix there is.
    pub fn unreadable(
        validator: &'static str,
        entry: impl Into<String>,
        message: String,
    ) -> Finding {
        Finding::new(
            Severity::Error,
            validator,
            message,
            "repair the package archive",
        )
        .in_entry(entry)
    }

    /// Places the finding at a location (entry, and line and column when not 0).
    pub fn at(mut self, location: &Location) -> Finding {
        self.entry = Some(location.file.clone());
        self.line = (location.line > 0).then_some(location.line);
        self.column = (location.column > 0 && location.line > 0).then_some(location.column);
        self
    }

    /// Places the finding at an optional location, else in `entry`.
    pub fn at_or(self, location: Option<&Location>, entry: &str) -> Finding {
        match location {
            Some(l) => self.at(l),
            None => self.in_entry(entry),
        }
    }

    /// Places the finding in a whole entry.
    pub fn in_entry(mut self, entry: impl Into<String>) -> Finding {
        self.entry = Some(entry.into());
        self.line = None;
        self.column = None;
        self
    }

    /// Names the repository path concerned.
    pub fn node(mut self, node_path: impl Into<String>) -> Finding {
        self.node_path = Some(node_path.into());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity)?;
        if let Some(e) = &self.entry {
            f.write_str(e)?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
                if let Some(c) = self.column {
                    write!(f, ":{c}")?;
                }
            }
            f.write_str(": ")?;
        }
        write!(f, "[{}] {}", self.validator, self.message)?;
        if !self.fix.is_empty() {
            write!(f, " (fix: {})", self.fix)?;
        }
        Ok(())
    }
}

/// Number of findings per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Findings of severity error.
    pub error: usize,
    /// Findings of severity warning.
    pub warning: usize,
    /// Findings of severity info.
    pub info: usize,
}

/// The outcome of validating one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The package as the user named it.
    pub package: String,
    /// Every finding, sorted by entry, line and column (package-wide ones first).
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings per severity.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.findings {
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings of one validator.
    pub fn by_validator<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.validator == id)
    }
}

/// A DocView file of the package that parsed, and the node it stands for.
#[derive(Debug, Clone)]
pub struct DocFile {
    /// The entry (`jcr_root/content/site/.content.xml`).
    pub entry: String,
    /// The repository path of the node the file describes.
    pub node_path: String,
    /// The parsed document.
    pub doc: DocViewDocument,
}

/// A DocView element and where it stands in the repository.
#[derive(Debug, Clone, Copy)]
pub struct DocNode<'a> {
    /// The element's repository path (with the document's prefixes).
    pub path: &'a str,
    /// The element.
    pub element: &'a DocViewElement,
    /// Whether it is the root element of its file (the aggregate's root).
    pub is_root: bool,
    /// The file.
    pub file: &'a DocFile,
}

/// A validator's pass over the package's DocView files, which are read, parsed and
/// dropped one at a time ([`Package::for_each_doc`]): what a check keeps from one file
/// to the next is all the memory it needs beyond the current file.
///
/// `out` is the same list in every call of one check (its own findings so far), so a
/// check may amend a finding it pushed earlier.
pub trait DocCheck {
    /// Checks the elements of one file, in document order; `nodes[0]` is the root
    /// element and `nodes[0].file` the file.
    fn doc(&mut self, pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>);

    /// Called once after the last file.
    fn finish(self: Box<Self>, _pkg: &Package<'_>, _out: &mut Vec<Finding>) {}
}

/// A package read for validation: its metadata and layout. The DocView files are not
/// held: [`Package::for_each_doc`] reads them one at a time. Files that could not be
/// read are `None` here; the findings about them are in [`Package::findings`].
#[derive(Debug)]
pub struct Package<'a> {
    /// The archive.
    pub archive: &'a dyn Archive,
    /// `filter.xml`, when present and readable.
    pub filter: Option<WorkspaceFilter>,
    /// `properties.xml`, when present and readable.
    pub properties: Option<PackageProperties>,
    /// The content tree, as flat arrays over the listing (memory follows the number of
    /// layout nodes at a few dozen bytes each, not a tree of strings). Of two entries
    /// that unescape to the same node in the same role, only the first is laid out
    /// (the pair is a finding).
    pub layout: FlatLayout<'a>,
    /// Findings from reading.
    pub findings: Vec<Finding>,
}

impl<'a> Package<'a> {
    /// Reads what the validators need but the DocView files. Never fails: what cannot
    /// be read becomes a finding.
    pub fn load(archive: &'a dyn Archive) -> Package<'a> {
        let mut findings = Vec::new();
        let filter = filter::load(archive, &mut findings);
        let properties = properties::load(archive, &mut findings);
        let layout = match flat::scan_lenient(archive, &IgnoreList::default()) {
            Ok((layout, collisions)) => {
                findings.extend(collisions.iter().map(docviewparser::name_collision));
                layout
            }
            Err(e) => {
                findings.push(
                    Finding::new(
                        Severity::Error,
                        docviewparser::ID,
                        format!("cannot read the content tree: {e}"),
                        "repair or re-create the package archive",
                    )
                    .in_entry(crate::platform_name::JCR_ROOT),
                );
                FlatLayout::empty(archive)
            }
        };
        Package {
            archive,
            filter,
            properties,
            layout,
            findings,
        }
    }

    /// Reads and parses every DocView file of the layout, in layout order, and calls
    /// `f` with the elements of each (document order, the root first); each file is
    /// dropped before the next is read. Files that cannot be read or parsed become
    /// findings in `problems`.
    pub fn for_each_doc(&self, problems: &mut Vec<Finding>, mut f: impl FnMut(&[DocNode<'_>])) {
        let mut paths = Vec::new();
        for (n, node_path) in self.layout.nodes() {
            if let Some(entry) = n.docview() {
                if let Some(file) = docviewparser::read(self.archive, entry, &node_path, problems) {
                    paths.clear();
                    collect_paths(&file.doc.root, &root_path(&file), &mut paths);
                    let mut nodes = Vec::with_capacity(paths.len());
                    let mut i = 0;
                    walk(&file.doc.root, true, &file, &paths, &mut i, &mut nodes);
                    f(&nodes);
                }
            }
        }
    }

    /// Every node the package's files and folders stand for (not the elements inside
    /// DocView files), parents first, with the entry that makes it (the plain file,
    /// else the DocView, else the folder).
    pub fn layout_nodes(&self) -> impl Iterator<Item = (LaidOut<'_, 'a>, &str)> + '_ {
        self.layout.nodes().filter_map(|(node, path)| {
            let entry = node.file().or(node.docview()).or(node.dir())?;
            Some((
                LaidOut {
                    file: node.file(),
                    docview: node.docview(),
                    path,
                    node,
                },
                entry,
            ))
        })
    }

    /// Whether a file or folder of the package stands for node `p` (as
    /// [`Package::layout_nodes`] lists them).
    pub fn in_layout(&self, p: &str) -> bool {
        self.layout.find(p).is_some_and(|n| !n.is_empty())
    }

    /// Whether the filter contains `p` (true when the package has no usable filter, so
    /// that checks still run).
    pub fn contains(&self, p: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| f.contains(p))
    }
}

/// A node of the layout as [`Package::layout_nodes`] hands it out.
#[derive(Debug, Clone)]
pub struct LaidOut<'l, 'a> {
    /// The repository path.
    pub path: String,
    /// A plain file: the node is an `nt:file` with this entry's bytes.
    pub file: Option<&'l str>,
    /// The DocView describing it: a `.content.xml` or a full-coverage `name.xml`.
    pub docview: Option<&'l str>,
    /// The node itself (its folder, `.binary` files, children).
    pub node: FlatNode<'l, 'a>,
}

/// A set of repository paths for the checks that must remember every node of a
/// kind across files: the importer's, 16 bytes a path in memory up to a limit and
/// on disk past it, so that `validate` stays bounded however large the package.
pub use crate::import::spill::PathSet;

fn root_path(d: &DocFile) -> String {
    if d.doc.root_is_jcr_root {
        d.node_path.clone()
    } else {
        path::join(&d.node_path, &d.doc.root.segment())
    }
}

fn collect_paths(el: &DocViewElement, p: &str, out: &mut Vec<String>) {
    out.push(p.to_string());
    for c in &el.children {
        collect_paths(c, &path::join(p, &c.segment()), out);
    }
}

fn walk<'a>(
    el: &'a DocViewElement,
    is_root: bool,
    file: &'a DocFile,
    paths: &'a [String],
    i: &mut usize,
    out: &mut Vec<DocNode<'a>>,
) {
    out.push(DocNode {
        path: &paths[*i],
        element: el,
        is_root,
        file,
    });
    *i += 1;
    for c in &el.children {
        walk(c, false, file, paths, i, out);
    }
}

/// The validators of one package, in order: each one's findings, and the checks that
/// follow the DocView files.
#[derive(Default)]
struct Runs<'p> {
    lists: Vec<Vec<Finding>>,
    checks: Vec<(usize, Box<dyn DocCheck + 'p>)>,
}

impl<'p> Runs<'p> {
    /// Runs a validator's checks of the metadata and layout; keeps its pass over the
    /// DocView files, if it has one.
    fn add(&mut self, start: impl FnOnce(&mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>>) {
        let mut out = Vec::new();
        if let Some(c) = start(&mut out) {
            self.checks.push((self.lists.len(), c));
        }
        self.lists.push(out);
    }
}

/// How deep sub packages inside sub packages are validated.
pub const MAX_SUB_PACKAGE_DEPTH: usize = 4;

/// Runs every validator on an opened archive, and on each sub package (every `.zip`
/// file of the content, up to [`MAX_SUB_PACKAGE_DEPTH`] levels): their findings name
/// the entry as `outer.zip!/inner/entry`.
pub fn validate_archive(archive: &dyn Archive) -> Report {
    validate_nested(archive, None, 0)
}

fn validate_nested(archive: &dyn Archive, container: Option<&Package<'_>>, depth: usize) -> Report {
    let mut pkg = Package::load(archive);
    // Each validator writes to a list of its own, so that the findings come out in the
    // same order whether a check runs before, during or after the pass over the files.
    let mut read = std::mem::take(&mut pkg.findings);
    let mut warnings = Vec::new();
    for w in archive.warnings() {
        let (entry, fix) = match w {
            crate::archive::ArchiveWarning::CaseCollision { second, .. } => (
                second.as_str(),
                "rename one of the entries: they collide on case-insensitive file systems",
            ),
            crate::archive::ArchiveWarning::SymlinkEntry { entry } => (
                entry.as_str(),
                "store the file itself instead of a symbolic link",
            ),
        };
        warnings.push(
            Finding::new(Severity::Warning, docviewparser::ID, w.to_string(), fix).in_entry(entry),
        );
    }
    let pkg = pkg;
    let mut runs = Runs::default();
    runs.add(|out| filter::check(&pkg, out));
    runs.add(|out| {
        properties::check(&pkg, out);
        None
    });
    runs.add(|out| {
        dependencies::check(&pkg, out);
        None
    });
    runs.add(|out| docviewparser::check(&pkg, out));
    runs.add(|out| emptyelements::check(&pkg, out));
    runs.add(|out| mergelimitations::check(&pkg, out));
    runs.add(|out| nodetypes::check(&pkg, out));
    runs.add(|out| packagetype::check(&pkg, out));
    runs.add(|out| duplicateuuid::check(&pkg, out));
    runs.add(|out| accesscontrol::check(&pkg, out));
    runs.add(|out| oakindex::check(&pkg, out));
    runs.add(|out| {
        osgiconfigparser::check(&pkg, out);
        None
    });
    let Runs {
        mut lists,
        mut checks,
    } = runs;
    pkg.for_each_doc(&mut read, |nodes| {
        for (i, c) in checks.iter_mut() {
            c.doc(&pkg, nodes, &mut lists[*i]);
        }
    });
    for (i, c) in checks {
        c.finish(&pkg, &mut lists[i]);
    }
    check_other_entries(&pkg, depth, &mut read);
    let mut findings = read;
    findings.append(&mut warnings);
    for mut l in lists {
        findings.append(&mut l);
    }
    if let Some(c) = container {
        packagetype::check_sub_package(c, &pkg, &mut findings);
    }
    if depth < MAX_SUB_PACKAGE_DEPTH {
        for (node, entry) in pkg.layout_nodes() {
            if node.file.is_some() && entry.ends_with(".zip") {
                findings.extend(validate_sub_package(&pkg, entry, depth));
            }
        }
    }
    findings.sort_by(|a, b| (&a.entry, a.line, a.column).cmp(&(&b.entry, b.line, b.column)));
    findings.dedup();
    Report {
        package: archive.name().to_string(),
        findings,
    }
}

/// Reads to their end the files no validator reads (plain files, `.binary` files,
/// metadata besides filter.xml, properties.xml and the CNDs), through the archive's
/// checked reader: data that does not match its CRC-32, or that inflates beyond the
/// limits (a zip bomb), fails `import`, so it is an error here too. Reading costs
/// time, not memory.
fn check_other_entries(pkg: &Package<'_>, depth: usize, out: &mut Vec<Finding>) {
    let check = |entry: &str, out: &mut Vec<Finding>| {
        let read = pkg.archive.open(entry).and_then(|mut r| {
            std::io::copy(&mut r, &mut std::io::sink())
                .map(|_| ())
                .map_err(|e| ArchiveError::from_read_error(pkg.archive.name(), entry, e))
        });
        if let Err(e) = read {
            out.push(Finding::unreadable(
                docviewparser::ID,
                entry,
                format!("cannot read: {e}"),
            ));
        }
    };
    for e in pkg.archive.listing().files() {
        let n = e.name();
        if n.starts_with("META-INF/")
            && n != crate::package::FILTER_ENTRY
            && n != crate::package::PROPERTIES_ENTRY
            && !n.ends_with(".cnd")
        {
            check(n, out);
        }
    }
    for (node, _) in pkg.layout_nodes() {
        if let Some(f) = node.file {
            let read_elsewhere = f.ends_with(".cnd")
                || osgiconfigparser::is_config_file(&node.path)
                || (f.ends_with(".zip") && depth < MAX_SUB_PACKAGE_DEPTH);
            if !read_elsewhere {
                check(f, out);
            }
        }
        for b in node.node.binaries() {
            check(b, out);
        }
    }
}

/// Validates the sub package in `entry` of `pkg`; its findings' entries are prefixed
/// with `entry!/`.
fn validate_sub_package(pkg: &Package<'_>, entry: &str, depth: usize) -> Vec<Finding> {
    let unreadable = |e: String| {
        vec![Finding::new(
            Severity::Error,
            packagetype::ID,
            format!("sub package cannot be read: {e}"),
            "replace the file with a valid package zip",
        )
        .in_entry(entry)]
    };
    // Unlinked when created: a killed validate leaves no file behind.
    let mut tmp = match tempfile::tempfile() {
        Ok(t) => t,
        Err(e) => return unreadable(e.to_string()),
    };
    let copied = pkg
        .archive
        .open(entry)
        .map_err(|e| e.to_string())
        .and_then(|mut r| std::io::copy(&mut r, &mut tmp).map_err(|e| e.to_string()));
    if let Err(e) = copied {
        return unreadable(e);
    }
    // Named by its entry: the finding is already in the entry.
    let inner =
        match archive::ZipArchive::from_file(tmp, Path::new(entry), entry, &ReadOptions::default())
        {
            Ok(a) => a,
            Err(e) => {
                let text = e.to_string();
                let text = text
                    .strip_prefix(&format!("{entry}: "))
                    .unwrap_or(&text)
                    .to_string();
                return unreadable(text);
            }
        };
    let mut report = validate_nested(&inner, Some(pkg), depth + 1);
    for f in &mut report.findings {
        f.entry = Some(match &f.entry {
            Some(e) => format!("{entry}!/{e}"),
            None => entry.to_string(),
        });
    }
    report.findings
}

/// Opens the package at `path` (a zip, or a folder with `jcr_root/` and
/// `META-INF/vault/`) and validates it.
pub fn validate_path(path: impl AsRef<Path>) -> Result<Report, ArchiveError> {
    let archive = archive::open(path, &ReadOptions::default())?;
    Ok(validate_archive(archive.as_ref()))
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
pub(crate) mod test_support;
