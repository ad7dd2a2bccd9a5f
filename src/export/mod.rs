//! Exporting repository content into a content package laid out as FileVault's
//! default aggregators lay it out (reference §7): `.content.xml` aggregates, plain
//! files with `.dir` where metadata needs it, full-coverage `name.xml`, `.binary`
//! property files, and the node types the content uses in `nodetypes.cnd`.
//!
//! The exporter reads the repository one aggregate at a time, so memory is bounded by
//! the largest aggregate, and writes entries in a fixed order: the same repository
//! and filter give a byte-identical package.
//!
//! Reading and writing overlap: this thread reads the repository and builds each
//! document, and a writer thread serializes the documents, reads the blobs and feeds
//! the sink (which deflates on all cores), through a queue in package order bounded
//! in entries and bytes (module `queue`), so memory stays bounded by the largest aggregate.

pub mod aggregate;
mod fallback;
mod queue;
pub mod survey;
#[cfg(test)]
mod tests;
mod types;

use crate::archive::{ArchiveError, PackageSink};
use crate::cnd::NodeTypeRegistry;
use crate::docview::{self, DocViewDocument, DocViewElement, DocViewProperty};
use crate::filter::WorkspaceFilter;
use crate::location::Location;
use crate::namespace::NamespaceRegistry;
use crate::package_id::PackageId;
use crate::path;
use crate::platform_name::to_platform_name;
use crate::properties::PackageProperties;
use crate::repository::{NodeInfo, RepositoryError, SnapshotNode, SnapshotRead, StoreRead};
use crate::value::{Binary, Property, PropertyType, Value};
use aggregate::{choose_by, Aggregator, NodeFacts, TypeFacts};
use queue::Queue;
use std::io::Read;
use types::TypeBook;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the repository failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
    /// Writing the package failed.
    #[error("{0}")]
    Archive(#[from] ArchiveError),
    /// Something cannot be expressed in a package.
    #[error("{0}")]
    Unsupported(String),
    /// A filter root selects nothing (a typo must not give an empty backup).
    #[error("{root}: the filter root selects nothing in the repository{}", match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
        None => String::new(),
    })]
    EmptyRoot {
        /// The root.
        root: String,
        /// The existing sibling nearest to the missing name, when one is near.
        suggestion: Option<String>,
    },
}

/// How to export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Write the package even when a filter root selects nothing.
    pub allow_empty: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    /// Nodes written that the filter contains (the ancestors the package lists on
    /// the way to its roots are not counted).
    pub nodes: u64,
    /// Access control policies (`rep:policy`, ...) among them.
    pub policies: u64,
    /// The package's `acHandling` when it holds policies: the one the properties
    /// gave, else `overwrite`, which this export wrote (see [`export_with`]).
    pub ac_handling: Option<String>,
    /// Whether this export wrote `acHandling` into the package's properties.
    pub ac_handling_added: bool,
    /// What the package cannot carry, as FileVault's format has no place for it.
    pub not_carried: NotCarried,
    /// Identifiers of files' content nodes kept through a `.dir` because the content
    /// refers to them.
    pub kept_identifiers: u64,
    /// Package entries written.
    pub entries: u64,
    /// Binary bytes written.
    pub binary_bytes: u64,
    /// Node types used (primary and mixin), in the order met.
    pub node_types: Vec<String>,
}

/// What a package made by an export cannot carry (FileVault's format has no place
/// for it; `jcrpack backup` copies it exactly).
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotCarried {
    /// Identifiers (`jcr:uuid`) of files' content nodes written as plain files: the
    /// install gives them new ones.
    pub identifiers: u64,
    /// Dates the repository sets on install: protected `jcr:created`, and
    /// `jcr:lastModified` of files written as plain files.
    pub dates: u64,
}

/// The id of an exported package when neither the caller nor its properties name one.
pub const DEFAULT_ID: &str = "jcrpack:export:1.0.0";

/// The properties an exported package carries: `base` (a package's
/// `properties.xml`, or empty ones), with the id `id` when the caller gives one,
/// else the id `base` names, else [`DEFAULT_ID`].
pub fn package_properties(
    base: Option<PackageProperties>,
    id: Option<&PackageId>,
) -> PackageProperties {
    let mut props = base.unwrap_or_default();
    let id = match (id, props.id()) {
        (Some(id), _) => id.clone(),
        (None, Some(id)) => id,
        (None, None) => default_id(),
    };
    props.set_id(&id);
    props
}

/// [`DEFAULT_ID`] as a package id.
fn default_id() -> PackageId {
    PackageId::new("jcrpack", "export", "1.0.0")
}

/// Exports the content of workspace `ws` that `filter` selects into `sink`, with the
/// package metadata of `props` (written first) and `nodetypes.cnd` (written last).
pub fn export(
    store: &dyn StoreRead,
    ws: &str,
    filter: &WorkspaceFilter,
    props: &PackageProperties,
    types: &NodeTypeRegistry,
    sink: &mut (dyn PackageSink + Send),
) -> Result<ExportReport, ExportError> {
    export_with(
        store,
        ws,
        filter,
        props,
        types,
        &ExportOptions::default(),
        sink,
    )
}

/// [`export`] with options. Before writing, one walk over the content (module
/// `survey`): a filter root that selects nothing fails ([`ExportError::EmptyRoot`])
/// unless `opts.allow_empty`; content holding access control gets
/// `acHandling=overwrite` in the package's properties unless `props` names one (an
/// export is a copy of what is there: installing it must restore the policies as
/// they were, where FileVault's default, `ignore`, would drop them); files whose
/// content node the content refers to keep its identifier in a `.dir`.
pub fn export_with(
    store: &dyn StoreRead,
    ws: &str,
    filter: &WorkspaceFilter,
    props: &PackageProperties,
    types: &NodeTypeRegistry,
    opts: &ExportOptions,
    sink: &mut (dyn PackageSink + Send),
) -> Result<ExportReport, ExportError> {
    let reader = match store.snapshot(ws)? {
        Some(reader) => reader,
        None => Box::new(fallback::PathSnapshot::new(store, ws)),
    };
    let found = survey::survey(store, reader.as_ref(), ws, filter, opts.allow_empty)?;
    let mut props = props.clone();
    let mut report = ExportReport {
        policies: found.policies,
        ..ExportReport::default()
    };
    if found.policies > 0 {
        if props.get("acHandling").is_none() {
            props.set(
                "acHandling",
                crate::properties::AcHandling::Overwrite.name(),
            );
            report.ac_handling_added = true;
        }
        report.ac_handling = props.get("acHandling").map(str::to_string);
    }
    let ns = store.namespaces()?;
    export_from(
        store,
        reader.as_ref(),
        &ns,
        filter,
        &props,
        types,
        sink,
        report,
        found.referenced,
    )
}

/// [`export`] reading the content through `reader` (the blobs through `store`),
/// adding to `report`; `referenced`: the identifiers the content refers to.
#[allow(clippy::too_many_arguments)]
fn export_from(
    store: &dyn StoreRead,
    reader: &dyn SnapshotRead,
    ns: &NamespaceRegistry,
    filter: &WorkspaceFilter,
    props: &PackageProperties,
    types: &NodeTypeRegistry,
    sink: &mut (dyn PackageSink + Send),
    report: ExportReport,
    referenced: std::collections::HashSet<String>,
) -> Result<ExportReport, ExportError> {
    let queue = Queue::new();
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_entries(&queue, sink));
        let read = Exporter {
            store,
            reader,
            filter,
            types,
            ns,
            out: Finish(&queue),
            type_book: TypeBook::new(types),
            property_rules: filter
                .sets
                .iter()
                .any(|s| s.property_rules().next().is_some()),
            report,
            referenced,
        }
        .run(props);
        // The writer's error comes first: it is about an earlier entry (the reader
        // stops when the writer does).
        match writer.join() {
            Ok(written) => written.and(read),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// An entry for the writer thread.
enum Entry {
    Directory(String),
    Bytes(String, Vec<u8>),
    Document(String, DocViewDocument),
    Blob(String, Box<dyn Read + Send>, u64),
}

/// Marks the queue finished when the reader is done, however it ends (a panic too,
/// so that the writer never waits for it).
struct Finish<'q>(&'q Queue<Entry>);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Stops the queue when the writer ends, however it ends, so that the reader never
/// waits for it.
struct Stop<'q>(&'q Queue<Entry>);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The bytes an entry holds while queued, roughly: its data, or for a document the
/// text of its names and values (a blob is only an open file until written).
fn queued_bytes(entry: &Entry) -> u64 {
    fn element(e: &DocViewElement) -> usize {
        let props: usize = e
            .properties
            .iter()
            .map(|p| p.name.len() + p.values.iter().map(|v| v.len() + 8).sum::<usize>() + 32)
            .sum();
        e.name.len() + 64 + props + e.children.iter().map(element).sum::<usize>()
    }
    match entry {
        Entry::Directory(name) | Entry::Blob(name, _, _) => name.len() as u64,
        Entry::Bytes(name, data) => (name.len() + data.len()) as u64,
        Entry::Document(name, doc) => (name.len() + element(&doc.root)) as u64,
    }
}

/// The writer thread: adds the entries to `sink` in the order queued, until the
/// reader is done or the sink fails.
fn write_entries(
    queue: &Queue<Entry>,
    sink: &mut (dyn PackageSink + Send),
) -> Result<(), ExportError> {
    let _stop = Stop(queue);
    // Each entry is dropped here once written, a document too (see `queue`).
    while let Some(entry) = queue.pop() {
        match entry {
            Entry::Directory(name) => sink.add_directory(&name)?,
            Entry::Bytes(name, data) => sink.add_bytes(&name, data)?,
            Entry::Document(name, doc) => sink.add_bytes(&name, docview::writer::to_vec(&doc))?,
            Entry::Blob(name, mut reader, size) => {
                sink.add_reader(&name, &mut reader, Some(size))?
            }
        }
    }
    Ok(())
}

impl Exporter<'_> {
    /// Reads and queues everything: the metadata, the content, `nodetypes.cnd`.
    fn run(mut self, props: &PackageProperties) -> Result<ExportReport, ExportError> {
        let (filter, types, ns, reader) = (self.filter, self.types, self.ns, self.reader);
        let roots: Vec<&str> = filter.sets.iter().map(|s| s.root()).collect();
        self.send(Entry::Bytes(
            "META-INF/MANIFEST.MF".into(),
            crate::properties::render_manifest(props, &roots),
        ))?;
        self.send(Entry::Bytes(
            "META-INF/vault/properties.xml".into(),
            props.to_xml(),
        ))?;
        self.send(Entry::Bytes(
            "META-INF/vault/filter.xml".into(),
            filter.to_xml(),
        ))?;
        let root = reader
            .node("/")?
            .ok_or_else(|| ExportError::Unsupported("/: the workspace has no root node".into()))?;
        self.aggregate(root, "jcr_root")?;
        let used = self.type_book.used();
        let cnd = types
            .export_cnd(used.iter().map(String::as_str), ns)
            .map_err(|e| ExportError::Unsupported(format!("nodetypes.cnd: {e:?}")))?;
        self.report.node_types = used;
        self.send(Entry::Bytes(
            "META-INF/vault/nodetypes.cnd".into(),
            cnd.into_bytes(),
        ))?;
        self.report.entries += 4;
        Ok(self.report)
    }
}

struct Exporter<'a> {
    store: &'a dyn StoreRead,
    reader: &'a dyn SnapshotRead,
    filter: &'a WorkspaceFilter,
    types: &'a NodeTypeRegistry,
    ns: &'a NamespaceRegistry,
    /// The queue to the writer thread.
    out: Finish<'a>,
    /// What is known about the node types, as it is asked for.
    type_book: TypeBook<'a>,
    /// Some filter set has property rules: without, every property of a contained
    /// node is included ([`WorkspaceFilter::includes_property`]).
    property_rules: bool,
    report: ExportReport,
    /// Identifiers the content refers to (from the survey).
    referenced: std::collections::HashSet<String>,
}

/// One document being built: its elements and the prefixes it uses.
struct Doc {
    /// In the order first used. A list, not a hashed set: a document uses a few
    /// prefixes, and hashing each name's prefix was 1.4 % of the reading thread.
    prefixes: Vec<String>,
    /// `.binary` files: (entry, blob) to write after the document.
    binaries: Vec<(String, Binary)>,
    /// Child aggregates met, in order: (node, entry directory of the node).
    children: Vec<(SnapshotNode, String)>,
}

impl Doc {
    fn new() -> Doc {
        Doc {
            prefixes: Vec::new(),
            binaries: Vec::new(),
            children: Vec::new(),
        }
    }

    fn use_name(&mut self, name: &str) {
        if let Some((p, _)) = name.split_once(':') {
            if !self.prefixes.iter().any(|q| q == p) {
                self.prefixes.push(p.to_string());
            }
        }
    }
}

impl<'a> Exporter<'a> {
    /// Queues `entry` for the writer thread. When the writer has stopped (its sink
    /// failed), this fails too and the writer's error is what [`export`] returns.
    fn send(&self, entry: Entry) -> Result<(), ExportError> {
        let bytes = queued_bytes(&entry);
        self.out
            .0
            .push(entry, bytes)
            .map_err(|_| ExportError::Unsupported("the package writer stopped".into()))
    }

    /// Whether the export goes into the node at `path`: the filter visits it, and it
    /// is not the repository's own content (`/jcr:system`, ...) unless a filter root
    /// asks for it by name (a package with filter root `/` does not carry it).
    fn visits(&self, path: &str) -> bool {
        self.filter.export_visits(path)
            && (!crate::import::SYSTEM_ROOTS.contains(&path)
                || self
                    .filter
                    .sets
                    .iter()
                    .any(|f| path::is_self_or_descendant(f.root(), path)))
    }

    fn type_facts(&mut self, t: &str) -> TypeFacts {
        self.type_book.facts(t)
    }

    /// Records that the content uses type `t`.
    fn use_type(&mut self, t: &str) {
        self.type_book.use_type(t);
    }

    fn aggregator(&mut self, node: &SnapshotNode) -> Aggregator {
        let info = &node.info;
        let t = self.type_facts(&info.primary_type);
        choose_by(
            &t,
            &NodeFacts {
                primary: &info.primary_type,
                mixins: &info.mixins,
                has_content_child: node.has_content_child,
                has_data: if t.resource {
                    node.has_data
                } else {
                    node.content_has_data
                },
            },
        )
    }

    /// Serializes the aggregate of `node`, whose directory entry is `dir` (its
    /// names move into the document).
    fn aggregate(&mut self, node: SnapshotNode, dir: &str) -> Result<(), ExportError> {
        let info = &node.info;
        let kind = if info.path == "/" {
            Aggregator::Generic
        } else {
            self.aggregator(&node)
        };
        match kind {
            Aggregator::File => self.file(node, dir),
            Aggregator::Full => {
                let parent_dir = dir.rsplit_once('/').map(|(d, _)| d).unwrap_or("jcr_root");
                let name = dir.rsplit_once('/').map(|(_, n)| n).unwrap_or(dir);
                let mut doc = Doc::new();
                let root = self.element(node, dir, &mut doc, true, true)?;
                self.write_doc(&format!("{parent_dir}/{name}.xml"), root, doc, true)
            }
            // A bare directory comes back as nt:folder only where the filter contains
            // it; an ancestor of the filter roots would come back as its parent's
            // default child type, so it gets a .content.xml naming its type.
            Aggregator::Folder
                if info.primary_type == "nt:folder"
                    && info.mixins.is_empty()
                    && self.filter.contains(&info.path)
                    && self.only_protected(&node)? =>
            {
                self.send(Entry::Directory(dir.to_string()))?;
                self.report.entries += 1;
                if self.filter.contains(&info.path) {
                    self.report.nodes += 1;
                    // Its protected jcr:created is set again by the install.
                    if self
                        .reader
                        .properties(&node)?
                        .iter()
                        .any(|q| q.name == "jcr:created")
                    {
                        self.report.not_carried.dates += 1;
                    }
                }
                self.use_type(&info.primary_type);
                let mut doc = Doc::new();
                self.child_aggregates(&node, dir, &mut doc)?;
                self.descend(doc)
            }
            Aggregator::Folder => {
                let mut doc = Doc::new();
                let root = self.element(node, dir, &mut doc, false, true)?;
                self.write_doc(&format!("{dir}/.content.xml"), root, doc, true)
            }
            Aggregator::Generic | Aggregator::FileFolder => {
                let mut doc = Doc::new();
                // FileVault's RootAggregator: the repository root's aggregate holds no
                // child node; each child of the root is an aggregate of its own.
                let inline = info.path != "/";
                let root = self.element(node, dir, &mut doc, inline, true)?;
                self.write_doc(&format!("{dir}/.content.xml"), root, doc, true)
            }
        }
    }

    fn only_protected(&self, node: &SnapshotNode) -> Result<bool, ExportError> {
        Ok(self
            .reader
            .properties(node)?
            .iter()
            .all(|q| matches!(q.name.as_str(), "jcr:created" | "jcr:createdBy")))
    }

    fn write_doc(
        &mut self,
        entry: &str,
        root: DocViewElement,
        doc: Doc,
        is_root: bool,
    ) -> Result<(), ExportError> {
        let mut namespaces = vec![("jcr".to_string(), docview::JCR_URI.to_string())];
        for p in &doc.prefixes {
            if p == "jcr" || p == "xml" {
                continue;
            }
            if let Some(u) = self.ns.uri(p) {
                namespaces.push((p.clone(), u.to_string()));
            }
        }
        let d = DocViewDocument {
            namespaces,
            root,
            root_is_jcr_root: is_root,
            warnings: Vec::new(),
        };
        self.send(Entry::Document(entry.to_string(), d))?;
        self.report.entries += 1;
        self.descend(doc)
    }

    fn descend(&mut self, doc: Doc) -> Result<(), ExportError> {
        for (entry, blob) in doc.binaries {
            self.write_blob(&entry, &blob)?;
        }
        for (node, dir) in doc.children {
            self.aggregate(node, &dir)?;
        }
        Ok(())
    }

    fn write_blob(&mut self, entry: &str, b: &Binary) -> Result<(), ExportError> {
        match b {
            Binary::Blob { sha256, size } => {
                let r = self.store.open_blob(sha256)?;
                self.send(Entry::Blob(entry.to_string(), r, *size))?;
                self.report.binary_bytes += size;
            }
            Binary::Inline(bytes) => {
                self.report.binary_bytes += bytes.len() as u64;
                self.send(Entry::Bytes(entry.to_string(), bytes.to_vec()))?;
            }
            other => {
                return Err(ExportError::Unsupported(format!(
                    "{entry}: binary {other:?} cannot be exported"
                )));
            }
        }
        self.report.entries += 1;
        Ok(())
    }

    /// Records the child aggregates of a node that its own document does not inline.
    fn child_aggregates(
        &mut self,
        node: &SnapshotNode,
        dir: &str,
        doc: &mut Doc,
    ) -> Result<(), ExportError> {
        for c in self.reader.children(node)? {
            if self.visits(&c.info.path) {
                let cdir = child_dir(dir, &c.info.path);
                doc.children.push((c, cdir));
            }
        }
        Ok(())
    }

    /// The element for `node` (directory `dir`), with its inlined descendants.
    /// `inline` says whether non-hierarchy descendants are inlined (generic, full).
    /// The node's name and types move into the element, not copied (they were a
    /// tenth of the reading thread's allocations).
    fn element(
        &mut self,
        node: SnapshotNode,
        dir: &str,
        doc: &mut Doc,
        inline: bool,
        root: bool,
    ) -> Result<DocViewElement, ExportError> {
        let info = &node.info;
        self.use_type(&info.primary_type);
        for m in &info.mixins {
            self.use_type(m);
        }
        let contained = self.filter.contains(&info.path);
        if contained {
            self.report.nodes += 1;
        }
        let props = self.reader.properties(&node)?;
        let mut el = DocViewElement {
            // Set, with the type names, once the node is done with.
            name: String::new(),
            index: info.index,
            // Sized once: the type names, then at most every stored property.
            properties: Vec::with_capacity(2 + props.len()),
            children: Vec::new(),
            location: Location::default(),
        };
        if !root {
            doc.use_name(&info.name);
        }
        doc.use_name(&info.primary_type);
        for m in &info.mixins {
            doc.use_name(m);
        }
        let kind = self.type_book.kind(&info.primary_type, &info.mixins);
        // The property's path, built in place (`path::join` per property was a
        // noticeable part of the reading thread), when the filter has rules for it.
        let filtered = contained && self.property_rules;
        let mut property_path = String::new();
        if filtered {
            property_path.push_str(&info.path);
            if info.path != "/" {
                property_path.push('/');
            }
        }
        let parent_len = property_path.len();
        for p in props {
            if filtered {
                property_path.truncate(parent_len);
                property_path.push_str(&p.name);
                if !self.filter.includes_property(&property_path) {
                    continue;
                }
            }
            let protected = kind.is_protected(&p.name, p.ptype, p.multiple);
            if !docview::writer::is_exported_property(&p.name, protected) {
                if contained && p.name == "jcr:created" {
                    self.report.not_carried.dates += 1;
                }
                continue;
            }
            doc.use_name(&p.name);
            if matches!(p.ptype, PropertyType::Name | PropertyType::Path) {
                for v in &p.values {
                    match v {
                        Value::Name(s) | Value::Path(s) => s.split('/').for_each(|seg| {
                            doc.use_name(seg);
                        }),
                        other => other.to_string().split('/').for_each(|seg| {
                            doc.use_name(seg);
                        }),
                    }
                }
            }
            el.properties.push(Self::property(p, dir, doc));
        }
        let facts = self.type_facts(&info.primary_type);
        let orderable = facts.orderable;
        let mut children = self.reader.children(&node)?;
        if orderable {
            // Each child gets an element: inlined, or one that keeps the order.
            el.children.reserve_exact(children.len());
        } else {
            children.sort_by(|a, b| a.info.path.cmp(&b.info.path));
        }
        for c in children {
            let cdir = child_dir(dir, &c.info.path);
            let visits = self.visits(&c.info.path);
            // The jcr:content of a file belongs to the file's aggregate.
            let file_content = c.info.name == "jcr:content" && facts.file;
            let own = !file_content
                && (!inline
                    || self.type_facts(&c.info.primary_type).hierarchy
                    || self.aggregator(&c) != Aggregator::Generic);
            if visits && !own {
                let child = self.element(c, &cdir, doc, inline, false)?;
                el.children.push(child);
                continue;
            }
            if orderable {
                doc.use_name(&c.info.name);
                el.children.push(DocViewElement {
                    name: c.info.name.clone(),
                    index: c.info.index,
                    properties: Vec::new(),
                    children: Vec::new(),
                    location: Location::default(),
                });
            }
            if visits && own {
                doc.children.push((c, cdir));
            }
        }
        let NodeInfo {
            name,
            primary_type,
            mixins,
            ..
        } = node.info;
        if !root {
            el.name = name;
        }
        // Last in the list, as the writer orders the properties itself.
        el.properties
            .push(name_property("jcr:primaryType", false, vec![primary_type]));
        if !mixins.is_empty() {
            el.properties
                .push(name_property("jcr:mixinTypes", true, mixins));
        }
        Ok(el)
    }

    /// The DocView property of `p`, its name and text values moved, not copied.
    fn property(p: Property, dir: &str, doc: &mut Doc) -> DocViewProperty {
        if p.ptype == PropertyType::Binary {
            let mut values = Vec::with_capacity(p.values.len());
            let reference = p
                .values
                .iter()
                .all(|v| matches!(v, Value::Binary(Binary::Reference(_))));
            for (i, v) in p.values.iter().enumerate() {
                match v {
                    Value::Binary(Binary::Reference(r)) if reference => values.push(r.clone()),
                    Value::Binary(b) => {
                        let file = if p.multiple {
                            format!("{}[{i}].binary", to_platform_name(&p.name))
                        } else {
                            format!("{}.binary", to_platform_name(&p.name))
                        };
                        doc.binaries.push((format!("{dir}/{file}"), b.clone()));
                        values.push(String::new());
                    }
                    other => values.push(other.to_string()),
                }
            }
            return DocViewProperty {
                name: p.name,
                ptype: PropertyType::Binary,
                binary_ref: reference && !p.values.is_empty(),
                multiple: p.multiple,
                values,
            };
        }
        // Into a new vector: collected in place, the values' buffer was shrunk to
        // the texts' size by a `realloc` per property (4 % of the reading thread).
        let mut values = Vec::with_capacity(p.values.len());
        values.extend(p.values.into_iter().map(Value::into_text));
        DocViewProperty {
            name: p.name,
            ptype: p.ptype,
            binary_ref: false,
            multiple: p.multiple,
            values,
        }
    }

    /// A file aggregate: the bytes as a plain file, with `name.dir/.content.xml` when
    /// metadata would otherwise be lost (reference §7.3).
    fn file(&mut self, node: SnapshotNode, entry: &str) -> Result<(), ExportError> {
        let info = &node.info;
        let resource_self = self.type_facts(&info.primary_type).resource;
        let content_path = if resource_self {
            info.path.clone()
        } else {
            path::join(&info.path, "jcr:content")
        };
        let content = if resource_self {
            node.clone()
        } else {
            self.reader
                .child(&node, "jcr:content")?
                .ok_or_else(|| ExportError::Unsupported(format!("{content_path}: missing")))?
        };
        let content_props = self.reader.properties(&content)?;
        let first_value = |name: &str| {
            content_props
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.values.first())
        };
        let Some(Value::Binary(blob)) = first_value("jcr:data").cloned() else {
            return Err(ExportError::Unsupported(format!(
                "{content_path}/jcr:data is not a binary"
            )));
        };
        self.write_blob(entry, &blob)?;
        self.use_type(&info.primary_type);
        let content_has_children = content.has_children;
        let content = &content.info;
        self.use_type(&content.primary_type);
        let mime = first_value("jcr:mimeType").map(|v| v.to_string());
        let encoding = first_value("jcr:encoding").map(|v| v.to_string());
        let default_mime = crate::mime::for_name(&info.name);
        let lockable_only = |m: &[String]| m.iter().all(|x| x == "mix:lockable");
        let needs_dir = resource_self
            || info.primary_type != "nt:file"
            || !lockable_only(&info.mixins)
            || content.primary_type != "nt:resource"
            || !lockable_only(&content.mixins)
            || mime
                .as_deref()
                .is_some_and(|m| Some(m) != default_mime && m != "application/octet-stream")
            || encoding.as_deref().is_some_and(|e| {
                e != "utf-8" || mime.as_deref().is_some_and(crate::mime::is_binary)
            })
            || content_has_children;
        // A content node the content refers to keeps its identifier: only a `.dir`
        // can carry it (a plain file cannot).
        let uuid = content_props
            .iter()
            .find(|p| p.name == "jcr:uuid")
            .and_then(|p| p.values.first())
            .map(|v| v.to_string());
        let keep_uuid = uuid.as_ref().is_some_and(|u| self.referenced.contains(u));
        let needs_dir = needs_dir || keep_uuid;
        if self.filter.contains(&content_path) {
            // Dates the install sets again: the content's jcr:lastModified (the
            // `.dir` leaves it out too), the file's protected jcr:created (with a
            // `.dir`, its element counts that).
            let file_created = !resource_self
                && !needs_dir
                && self
                    .reader
                    .properties(&node)?
                    .iter()
                    .any(|q| q.name == "jcr:created");
            let last_modified =
                !resource_self && content_props.iter().any(|p| p.name == "jcr:lastModified");
            let dates = u64::from(file_created) + u64::from(last_modified);
            self.report.not_carried.dates += dates;
            if uuid.is_some() {
                if keep_uuid {
                    self.report.kept_identifiers += 1;
                } else {
                    self.report.not_carried.identifiers += 1;
                }
            }
        }
        if !needs_dir {
            let contained = u64::from(self.filter.contains(&info.path))
                + u64::from(!resource_self && self.filter.contains(&content_path));
            self.report.nodes += contained;
            return Ok(());
        }
        let dir = format!("{entry}.dir");
        let mut doc = Doc::new();
        let mut root = self.element(node, &dir, &mut doc, true, true)?;
        // The data comes from the file; metadata that defaults are left out.
        let strip = |el: &mut DocViewElement| {
            el.properties.retain(|p| {
                let default_encoding = p.name == "jcr:encoding"
                    && p.values.first().map(String::as_str) == Some("utf-8")
                    && !mime.as_deref().is_some_and(crate::mime::is_binary);
                let dropped = matches!(p.name.as_str(), "jcr:data" | "jcr:lastModified")
                    || (p.name == "jcr:uuid" && !keep_uuid)
                    || (p.name == "jcr:mimeType"
                        && p.values.first().map(String::as_str) == default_mime)
                    || default_encoding;
                !dropped
            });
        };
        if resource_self {
            // A resource node that is itself the file keeps its metadata.
            root.properties.retain(|p| p.name != "jcr:data");
        } else if let Some(c) = root.children.iter_mut().find(|c| c.name == "jcr:content") {
            strip(c);
        }
        doc.binaries
            .retain(|(e, _)| !e.ends_with("/_jcr_data.binary"));
        self.write_doc(&format!("{dir}/.content.xml"), root, doc, true)
    }
}

/// The entry directory of the child at `child_path` of the node whose directory is
/// `dir`.
fn child_dir(dir: &str, child_path: &str) -> String {
    let name = to_platform_name(path::last_segment(child_path));
    let mut out = String::with_capacity(dir.len() + 1 + name.len());
    out.push_str(dir);
    out.push('/');
    out.push_str(&name);
    out
}

fn name_property(name: &str, multiple: bool, values: Vec<String>) -> DocViewProperty {
    DocViewProperty {
        name: name.to_string(),
        ptype: PropertyType::Name,
        binary_ref: false,
        multiple,
        values,
    }
}
