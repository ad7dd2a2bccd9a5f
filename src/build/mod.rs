//! Building a package zip from a source folder (`jcrpack build`).
//!
//! The source folder has the layout of an exploded package, as the `content` folder of
//! a Maven content module (`ui.content/src/main/content`): `jcr_root/` and
//! `META-INF/vault/` with at least `filter.xml`. [`build_package`] turns it into a
//! package zip:
//!
//! 1. a [`Walk`] goes through the folder (only `jcr_root/` and `META-INF/`, tool litter
//!    skipped, links followed only inside the folder, special files refused) one entry at
//!    a time: `META-INF/` (which sorts first) is collected, `jcr_root/` is streamed, so
//!    memory is bounded by the largest folder and the batches in flight, never by the
//!    number of files;
//! 2. `META-INF/vault/filter.xml` is required and parsed ([`crate::filter`]);
//!    `META-INF/vault/properties.xml` is read when present;
//! 3. the properties are completed ([`package_properties`]) and the manifest derived
//!    from them and the filter roots ([`render_manifest`]);
//! 4. the entries are written with [`PackageWriter`]: `META-INF/MANIFEST.MF`,
//!    `META-INF/vault/properties.xml`, `config.xml` and `filter.xml` first (FileVault's
//!    export order), then the rest of `META-INF/vault/`, the rest of `META-INF/`, and
//!    `jcr_root/`, each folder depth-first with names sorted by their bytes. A walking
//!    thread lists the folders ahead of a reading thread, which reads, checks and
//!    deflates the files in parallel batches ([`WriterOptions::prepare`]: one pass over
//!    each file's bytes, on all cores) while this thread writes the previous batch in
//!    order ([`PackageWriter::add_prepared`]); every `.content.xml` and every
//!    `jcr_root` `*.xml` that FileVault would read as DocView is checked
//!    ([`crate::docview::check_bytes`]: the reader's errors, no tree) from the very bytes that are written, and the
//!    first invalid one stops the build with its entry, line and column.
//!
//! The result is deterministic: same folder, same options ⇒ the same bytes (fixed entry
//! times, `SOURCE_DATE_EPOCH` honoured, no clock or user name in `properties.xml`
//! unless `SOURCE_DATE_EPOCH` supplies `created`). The zip is written to a temporary
//! file beside the output and renamed into place at the end, so an interrupted build
//! leaves no partial package.

pub mod scan;

pub use scan::{
    is_ignored_name, scan, SourceEntry, SourceFile, SourceKind, SourceTree, Walk, PACKAGE_ROOTS,
};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;

use crate::archive::{
    ArchiveError, NameProblem, PackageSink, PackageWriter, PreparedFile, WriterOptions,
    WrittenPackage,
};
use crate::docview::{self, DocViewError};
use crate::events::{Event, Events, Unit};
use crate::filter::{FilterError, WorkspaceFilter};
use crate::package_id::{PackageId, PackageIdError};
use crate::properties::{
    keys, render_manifest, PackageProperties, PackageType, PropertiesError, PACKAGE_FORMAT_VERSION,
};
use crate::value::Date;

/// The manifest entry.
pub const MANIFEST_MF: &str = "META-INF/MANIFEST.MF";
/// The package properties entry.
pub const PROPERTIES_XML: &str = "META-INF/vault/properties.xml";
/// The workspace filter entry (required).
pub const FILTER_XML: &str = "META-INF/vault/filter.xml";
/// The aggregation configuration entry (written right before the filter, as FileVault
/// does).
pub const CONFIG_XML: &str = "META-INF/vault/config.xml";

/// The `generator` property jcrpack writes: `jcrpack:<version>`.
pub const GENERATOR: &str = concat!("jcrpack:", env!("CARGO_PKG_VERSION"));

/// Files above this size that need no validation are streamed instead of batched.
const STREAM_THRESHOLD: u64 = 16 << 20;
/// The walk hands the reader this many entries at a time, whose files are opened
/// together (at most [`BATCHES_AHEAD`] + 2 groups' files are open at once, 256)...
const BATCH_ENTRIES: usize = 64;
/// ...after first batches of this many, doubling ([`batch_entries`]).
const FIRST_BATCH_ENTRIES: usize = 16;
/// ...and read in batches of at most this many bytes (one batch being written or
/// waited for, up to [`BATCHES_AHEAD`] + 1 more being read and deflated: at most 16 MiB
/// in memory, plus the deflated copies; the writer queues no batches of its own).
const BATCH_BYTES: u64 = 4 << 20;
/// How many batches may wait for the writer (each read on the pool, maybe still)
/// besides the one it waits for and the one the reader is handing over. A large file
/// deflates on one core for milliseconds (a 300 KB CSV at 10k: 6 ms) while the writer
/// waits for it; the batches behind it keep the other core busy meanwhile. With none
/// waiting, that core idled for most of those milliseconds.
const BATCHES_AHEAD: usize = 2;

/// What a build may change about the package.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The package id (`--name`); replaces `group`, `name` and `version` of the source
    /// `properties.xml`.
    pub id: Option<PackageId>,
    /// Properties to set (`--property key=value`), in order, after everything else.
    pub properties: Vec<(String, String)>,
    /// How the zip is written (entry time, compression).
    pub writer: WriterOptions,
    /// The `created` property to write (from `SOURCE_DATE_EPOCH`); `None` keeps what
    /// the source says.
    pub created: Option<Date>,
}

impl BuildOptions {
    /// Sets the entry time and `created` from `SOURCE_DATE_EPOCH` seconds, as
    /// [`crate::archive::parse_source_date_epoch`] reads them (`None`: entry time
    /// 1980-01-01 and no `created`).
    pub fn with_source_date_epoch(mut self, seconds: Option<i64>) -> BuildOptions {
        self.writer = self.writer.with_source_date_epoch(seconds);
        self.created = seconds.map(|s| Date::from_epoch_millis(s.saturating_mul(1000)));
        self
    }
}

/// What [`build_package`] wrote (the `--json` document, schema
/// `schemas/build.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildSummary {
    /// The package written.
    pub output: String,
    /// The source folder.
    pub source: String,
    /// The package id, `group:name[:version]`.
    pub package_id: String,
    /// Zip entries, directories included.
    pub entries: u64,
    /// File entries.
    pub files: u64,
    /// DocView files parsed.
    pub docview_files: u64,
    /// Bytes of file content (uncompressed).
    pub bytes_in: u64,
    /// Size of the zip.
    pub bytes_out: u64,
    /// SHA-256 of the zip, lower-case hex.
    pub sha256: String,
    /// Paths in the source folder that were skipped (relative, `/`-separated).
    pub ignored: Vec<String>,
}

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source folder is missing or not a folder.
    #[error("source folder {}: {error}", .path.display())]
    Source {
        /// The folder.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A file or folder could not be read.
    #[error("cannot read {}: {error}", .path.display())]
    Unreadable {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A name is not valid UTF-8 (zip entry names are UTF-8).
    #[error("{}: the name is not valid UTF-8", .path.display())]
    NotUtf8Name {
        /// The file.
        path: PathBuf,
    },
    /// A name cannot be an entry name.
    #[error("{}: cannot be a package entry: {problem}", .path.display())]
    UnsafeName {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: NameProblem,
    },
    /// A symbolic link whose target does not exist.
    #[error("symbolic link {} is broken: {error}", .link.display())]
    BrokenSymlink {
        /// The link.
        link: PathBuf,
        /// Why its target could not be resolved.
        error: std::io::Error,
    },
    /// A symbolic link that leads out of the source folder.
    #[error("symbolic link {} leads out of the source folder (to {})", .link.display(), .target.display())]
    EscapingSymlink {
        /// The link.
        link: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// A symbolic link to a folder above it: following it would never end.
    #[error("symbolic link {} points to a folder above it (a loop)", .link.display())]
    SymlinkLoop {
        /// The link.
        link: PathBuf,
    },
    /// Neither a file nor a folder (FIFO, socket, device).
    #[error("{} is not a regular file or folder", .path.display())]
    SpecialFile {
        /// The file.
        path: PathBuf,
    },
    /// A file was replaced (by another file or a link) while building.
    #[error("{} changed while the package was built", .path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// There is no `META-INF/vault/filter.xml`.
    #[error("{} is missing: a package needs a workspace filter", .path.display())]
    MissingFilter {
        /// Where it was expected.
        path: PathBuf,
    },
    /// The filter is invalid.
    #[error("invalid workspace filter: {0}")]
    Filter(#[from] FilterError),
    /// The source `properties.xml` is invalid.
    #[error("invalid package properties: {0}")]
    Properties(#[from] PropertiesError),
    /// No package name: neither `--name` nor `name` in `properties.xml`.
    #[error("the package has no name: no id was given and {} sets no `name`", .path.display())]
    MissingName {
        /// The properties file (which may not exist).
        path: PathBuf,
    },
    /// The package id is not valid.
    #[error("invalid package id: {0}")]
    InvalidId(#[from] PackageIdError),
    /// A DocView file does not parse.
    #[error("invalid DocView in entry `{entry}`: {error}")]
    DocView {
        /// The entry.
        entry: String,
        /// Where (the source file, line and column) and why.
        error: DocViewError,
    },
    /// The output would land inside the content it is built from.
    #[error("the output {} is inside the package content of the source folder", .path.display())]
    OutputInsideSource {
        /// The output.
        path: PathBuf,
    },
    /// Writing the zip failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The written zip could not be read back for its checksum.
    #[error("cannot read back {}: {error}", .path.display())]
    Output {
        /// The package.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
}

/// Completes the package properties: the source `properties.xml` (if any), then the
/// id from the options, `generator` ([`GENERATOR`]), `packageFormatVersion` 2 and
/// `created` (when the options have one), then the options' properties in order, and
/// finally `packageType` when still unset, derived from the roots of the filter's
/// non-cleanup sets as FileVault's exporter derives it. Fails when the result has no
/// name or an invalid id; `properties_path` names the source file in that error.
pub fn package_properties(
    source: Option<PackageProperties>,
    filter: &WorkspaceFilter,
    options: &BuildOptions,
    properties_path: &Path,
) -> Result<PackageProperties, BuildError> {
    let mut props = source.unwrap_or_default();
    if let Some(id) = &options.id {
        props.set_id(id);
    }
    props.set_generator(GENERATOR);
    props.set_package_format_version(PACKAGE_FORMAT_VERSION);
    if let Some(created) = &options.created {
        props.set_created(created);
    }
    for (key, value) in &options.properties {
        props.set(key, value);
    }
    if props.get(keys::PACKAGE_TYPE).is_none() {
        let roots = filter
            .sets
            .iter()
            .filter(|s| !s.is_cleanup())
            .map(|s| s.root());
        props.set_package_type(PackageType::detect(roots));
    }
    let id = package_id(&props).ok_or_else(|| BuildError::MissingName {
        path: properties_path.to_owned(),
    })?;
    id.validate()?;
    Ok(props)
}

/// The package id of `props`, as the manifest writes it: `None` without a name; a
/// missing group or version is empty.
pub fn package_id(props: &PackageProperties) -> Option<PackageId> {
    let name = props.name().filter(|n| !n.is_empty())?;
    Some(PackageId::new(
        props.get(keys::GROUP).unwrap_or(""),
        name,
        props.get(keys::VERSION).unwrap_or(""),
    ))
}

/// The package rank of a source entry; entries are written by rank, each rank in
/// scan order. The manifest and `properties.xml` are generated and come first.
fn rank(name: &str) -> u8 {
    match name {
        "META-INF" | "META-INF/vault" => 0,
        CONFIG_XML => 1,
        FILTER_XML => 2,
        n if n.starts_with("META-INF/vault/") => 3,
        n if n.starts_with("META-INF/") => 4,
        _ => 5,
    }
}

/// The source entries in the order they are written, without the two files the
/// build generates (`META-INF/MANIFEST.MF`, `META-INF/vault/properties.xml`).
pub fn package_order(entries: &[SourceEntry]) -> Vec<&SourceEntry> {
    let mut order: Vec<&SourceEntry> = entries
        .iter()
        .filter(|e| e.name != MANIFEST_MF && e.name != PROPERTIES_XML)
        .collect();
    order.sort_by_key(|e| rank(&e.name));
    order
}

/// Whether FileVault reads entry `name` as DocView: every `.content.xml`, and a
/// `jcr_root` file `*.xml` whose start passes [`docview::is_docview`].
pub fn is_docview_entry(name: &str, head: &[u8]) -> bool {
    name == ".content.xml"
        || name.ends_with("/.content.xml")
        || (name.starts_with("jcr_root/") && name.ends_with(".xml") && docview::is_docview(head))
}

/// Checks `data` as the DocView reader reads it when the entry is DocView (the same
/// errors; the document is not needed, so it is not built); returns whether it was.
fn check_docview(entry: &SourceEntry, data: &[u8]) -> Result<bool, BuildError> {
    let head = data.get(..4096).unwrap_or(data);
    if !is_docview_entry(&entry.name, head) {
        return Ok(false);
    }
    let file = entry.path.display().to_string();
    docview::check_bytes(data, &file, &docview::Limits::default()).map_err(|error| {
        BuildError::DocView {
            entry: entry.name.clone(),
            error,
        }
    })?;
    Ok(true)
}

/// Refuses an output path inside the source's `jcr_root` or `META-INF` (a second
/// build would pack the first package).
fn check_output(dir: &Path, out: &Path) -> Result<(), BuildError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(parent) = std::fs::canonicalize(parent) else {
        // The writer reports a missing output folder.
        return Ok(());
    };
    for root in PACKAGE_ROOTS {
        if let Ok(content) = std::fs::canonicalize(dir.join(root)) {
            if parent.starts_with(&content) {
                return Err(BuildError::OutputInsideSource {
                    path: out.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// Builds the package for source folder `dir` at `out` (see the module
/// documentation), reporting a phase `building` and its file bytes to `progress`
/// (ending with [`Event::Finished`]).
pub fn build_package(
    dir: &Path,
    out: &Path,
    options: &BuildOptions,
    progress: &dyn Events,
) -> Result<BuildSummary, BuildError> {
    let built = build(dir, out, options, progress);
    progress.event(&Event::Finished);
    built
}

fn build(
    dir: &Path,
    out: &Path,
    options: &BuildOptions,
    progress: &dyn Events,
) -> Result<BuildSummary, BuildError> {
    let mut walk = Walk::new(dir)?;
    check_output(dir, out)?;

    // `META-INF` sorts before `jcr_root`, so its entries come first: they are few, and
    // are collected to read the filter and the properties and to write them in
    // FileVault's order. The rest is streamed from the walk.
    let mut meta = Vec::new();
    let mut first_content = None;
    for entry in walk.by_ref() {
        let entry = entry?;
        if entry.name == "META-INF" || entry.name.starts_with("META-INF/") {
            meta.push(entry);
        } else {
            first_content = Some(entry);
            break;
        }
    }

    let filter_path = dir.join(FILTER_XML);
    let filter_entry = meta
        .iter()
        .find(|e| e.name == FILTER_XML && e.is_file())
        .ok_or_else(|| BuildError::MissingFilter {
            path: filter_path.clone(),
        })?;
    let filter_bytes = read_all(filter_entry)?;
    let filter = WorkspaceFilter::parse(&filter_bytes, &filter_path.display().to_string())?;

    let properties_path = dir.join(PROPERTIES_XML);
    let source_props = match meta
        .iter()
        .find(|e| e.name == PROPERTIES_XML && e.is_file())
    {
        Some(entry) => Some(PackageProperties::parse(
            &read_all(entry)?,
            &properties_path.display().to_string(),
        )?),
        None => None,
    };
    let props = package_properties(source_props, &filter, options, &properties_path)?;
    let id = package_id(&props)
        .map(|id| id.to_string())
        .unwrap_or_default();
    let roots: Vec<&str> = filter.sets.iter().map(|s| s.root()).collect();
    let manifest = render_manifest(&props, &roots);
    let properties_xml = props.to_xml();

    // The source is streamed: its size is known only at the end.
    progress.event(&Event::Phase {
        name: "building",
        total: None,
        unit: Unit::Bytes,
    });

    let mut writer = PackageWriter::create(out, options.writer)?;
    let mut stats = Stats::default();
    for (name, data) in [(MANIFEST_MF, manifest), (PROPERTIES_XML, properties_xml)] {
        stats.file(data.len() as u64, progress);
        writer.add_bytes(name, data)?;
    }

    let meta = package_order(&meta).into_iter().cloned().map(Ok);
    // Each batch is read on the pool while it waits.
    let (sender, batches) = mpsc::sync_channel(BATCHES_AHEAD);
    let package = out.display().to_string();
    let reading = Reading {
        filter_bytes: &filter_bytes,
        writer: &options.writer,
        package: &package,
    };
    let written = std::thread::scope(|scope| {
        let content = first_content
            .map(Ok)
            .into_iter()
            .chain(walk_ahead(scope, walk.by_ref()));
        let entries = meta.chain(content);
        let reading = &reading;
        let reader = scope.spawn(move || read_batches(entries, reading, sender));
        let written = write_batches(&mut writer, batches, &mut stats, progress);
        // `batches` is gone now, so a reader still sending stops.
        match reader.join() {
            Ok(()) => written,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    written?;
    let WrittenPackage {
        path,
        entries,
        size,
        sha256,
    } = writer.finish()?;
    // Taken while writing, unless a streamed entry's header was patched.
    let sha256 = match sha256 {
        Some(sha256) => sha256,
        None => sha256_of(&path)?,
    };
    Ok(BuildSummary {
        output: path.display().to_string(),
        source: dir.display().to_string(),
        package_id: id,
        entries,
        files: stats.files,
        docview_files: stats.docview_files,
        bytes_in: stats.bytes,
        bytes_out: size,
        sha256,
        ignored: walk.into_ignored(),
    })
}

/// One source entry read, as [`read_batches`] hands it to the writer.
enum Item {
    /// A folder.
    Directory(SourceEntry),
    /// A file deflated for the writer, and whether it is DocView (checked).
    File(PreparedFile, bool),
    /// A large file, open, streamed by the writer.
    Large(SourceEntry, SourceFile),
}

/// A batch of entries read, in order; the first error ends it (and the build).
type Batch = Vec<Result<Item, BuildError>>;

/// A batch on its way to the writer, which takes them in order: read and deflated by
/// a job of the pool, maybe still. Its job drops the sender unsent only by panicking
/// (which the reader's join reports).
type Pending = mpsc::Receiver<Batch>;

/// What the reading side needs besides the entries.
struct Reading<'a> {
    /// The filter, as parsed (it is written as these bytes).
    filter_bytes: &'a [u8],
    /// How the writer deflates: files are deflated as they are read.
    writer: &'a WriterOptions,
    /// The package (named in a deflate error).
    package: &'a str,
}

/// How many entries the `sent`th batch (from 0) of the walk and of the reader takes:
/// [`FIRST_BATCH_ENTRIES`], doubling up to [`BATCH_ENTRIES`]. Small first batches
/// start the pool on the first files while the walk lists the first folders (a
/// first batch of 256 entries kept it waiting for about a hundred folder listings).
fn batch_entries(sent: u32) -> usize {
    (FIRST_BATCH_ENTRIES << sent.min(16)).min(BATCH_ENTRIES)
}

/// The entries of `walk`, walked on a thread of `scope` in batches
/// ([`batch_entries`]) ahead of the caller (at most two such batches waiting):
/// listing and sorting the folders overlaps with reading and deflating the files.
/// The walk ends at its first error, which comes in order.
fn walk_ahead<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    walk: &'env mut Walk,
) -> impl Iterator<Item = Result<SourceEntry, BuildError>> + 'scope {
    let (sender, walked) = mpsc::sync_channel::<Vec<Result<SourceEntry, BuildError>>>(1);
    scope.spawn(move || {
        let mut sent = 0;
        let mut batch = Vec::with_capacity(batch_entries(sent));
        for entry in walk {
            batch.push(entry);
            if batch.len() >= batch_entries(sent) {
                sent += 1;
                let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_entries(sent)));
                // The reader hung up (an error, or the writer failed): stop walking.
                if sender.send(full).is_err() {
                    return;
                }
            }
        }
        let _ = sender.send(batch);
    });
    walked.into_iter().flatten()
}

/// One source entry opened, before it is read.
enum Opened {
    /// A folder.
    Directory(SourceEntry),
    /// The filter, already read.
    Filter(SourceEntry),
    /// An open file.
    File(SourceEntry, SourceFile),
}

impl Opened {
    /// The bytes reading it takes.
    fn size(&self) -> u64 {
        match self {
            Opened::File(_, file) => file.size,
            Opened::Directory(_) | Opened::Filter(_) => 0,
        }
    }
}

/// The reading thread: takes `entries` in order (walking the source as it goes),
/// opens the files of every batch of entries ([`batch_entries`]) in parallel, reads them in
/// parallel batches of [`BATCH_BYTES`] (checking DocView ones) and sends the batches to
/// the writer, until the end, the first error, or the writer hanging up. The filter is
/// sent as the bytes that were parsed.
fn read_batches(
    entries: impl Iterator<Item = Result<SourceEntry, BuildError>>,
    reading: &Reading,
    batches: mpsc::SyncSender<Pending>,
) {
    rayon::in_place_scope(|pool| {
        let outbox = Outbox {
            pool,
            reading,
            batches: &batches,
        };
        let mut walked: Vec<SourceEntry> = Vec::new();
        let mut sent = 0;
        for entry in entries {
            match entry {
                Ok(entry) => {
                    walked.push(entry);
                    if walked.len() >= batch_entries(sent) {
                        sent += 1;
                        if !send_walked(std::mem::take(&mut walked), &outbox) {
                            return;
                        }
                    }
                }
                Err(error) => {
                    // The entries before it first: an error among them comes first.
                    if send_walked(walked, &outbox) {
                        outbox.ready(vec![Err(error)]);
                    }
                    return;
                }
            }
        }
        send_walked(walked, &outbox);
    });
}

/// Where the reading thread sends its batches: to the writer, in order, each read on
/// the pool as a job of its own. The reader goes on to open the next group while a
/// batch is read, so the pool starts on the next batch while the last (largest,
/// say) files of one are still deflated: no core waits for another's last file.
struct Outbox<'o, 'scope> {
    /// The pool's jobs (scoped: they borrow `reading`).
    pool: &'o rayon::Scope<'scope>,
    reading: &'scope Reading<'scope>,
    batches: &'o mpsc::SyncSender<Pending>,
}

impl Outbox<'_, '_> {
    /// Sends a batch made already; returns whether the writer still takes batches.
    fn ready(&self, batch: Batch) -> bool {
        let (done, pending) = mpsc::channel();
        let _ = done.send(batch);
        self.batches.send(pending).is_ok()
    }

    /// Reads `opened` on the pool (checking DocView files, deflating) and sends the
    /// batch at once, before it is read; returns whether the writer still takes
    /// batches.
    fn read(&self, opened: Vec<Opened>) -> bool {
        if opened.is_empty() {
            return true;
        }
        let (done, pending) = mpsc::channel();
        let reading = self.reading;
        self.pool.spawn(move |_| {
            let items: Batch = opened
                .into_par_iter()
                .map(|opened| read_item(opened, reading))
                .collect();
            // The writer may have stopped (an error before this batch).
            let _ = done.send(items);
        });
        self.batches.send(pending).is_ok()
    }
}

/// Opens the files of `walked` in parallel (one status call each: the size that
/// batches them), then has them read and sends them in order; returns whether the
/// build goes on (no error was sent, the writer still takes batches).
fn send_walked(walked: Vec<SourceEntry>, outbox: &Outbox) -> bool {
    let opened: Vec<Result<Opened, BuildError>> = walked.into_par_iter().map(open_item).collect();
    let mut batch: Vec<Opened> = Vec::new();
    let mut batch_bytes = 0u64;
    for opened in opened {
        match opened {
            Err(error) => {
                if outbox.read(std::mem::take(&mut batch)) {
                    outbox.ready(vec![Err(error)]);
                }
                return false;
            }
            Ok(Opened::File(entry, file))
                if file.size > STREAM_THRESHOLD && !entry.name.ends_with(".xml") =>
            {
                if !outbox.read(std::mem::take(&mut batch))
                    || !outbox.ready(vec![Ok(Item::Large(entry, file))])
                {
                    return false;
                }
                batch_bytes = 0;
            }
            Ok(opened) => {
                batch_bytes += opened.size();
                batch.push(opened);
                if batch_bytes >= BATCH_BYTES {
                    if !outbox.read(std::mem::take(&mut batch)) {
                        return false;
                    }
                    batch_bytes = 0;
                }
            }
        }
    }
    outbox.read(batch)
}

/// Opens one entry's file (not the filter, already read).
fn open_item(entry: SourceEntry) -> Result<Opened, BuildError> {
    match entry.kind {
        SourceKind::Directory => Ok(Opened::Directory(entry)),
        SourceKind::File if entry.name == FILTER_XML => Ok(Opened::Filter(entry)),
        SourceKind::File => {
            let file = entry.open()?;
            Ok(Opened::File(entry, file))
        }
    }
}

/// Reads one entry of a batch, checking a DocView one, and deflates it for the
/// writer.
fn read_item(opened: Opened, reading: &Reading) -> Result<Item, BuildError> {
    let (entry, data, docview) = match opened {
        Opened::Directory(entry) => return Ok(Item::Directory(entry)),
        Opened::Filter(entry) => (entry, reading.filter_bytes.to_vec(), false),
        Opened::File(entry, file) => {
            let data = file.read_all().map_err(|error| BuildError::Unreadable {
                path: entry.path.clone(),
                error,
            })?;
            let docview = check_docview(&entry, &data)?;
            (entry, data, docview)
        }
    };
    let prepared = reading
        .writer
        .prepare(entry.name, data)
        .map_err(|(name, source)| ArchiveError::Io {
            archive: reading.package.to_owned(),
            entry: Some(name),
            source,
        })?;
    Ok(Item::File(prepared, docview))
}

/// The writing side: adds the entries of every batch in order.
fn write_batches(
    writer: &mut PackageWriter,
    batches: mpsc::Receiver<Pending>,
    stats: &mut Stats,
    progress: &dyn Events,
) -> Result<(), BuildError> {
    for pending in batches {
        // Its job panicked: the reader's join reports it.
        let Ok(batch) = pending.recv() else {
            break;
        };
        for item in batch {
            match item? {
                Item::Directory(entry) => writer.add_directory(&entry.name)?,
                Item::File(file, docview) => {
                    stats.file(file.size(), progress);
                    stats.docview_files += u64::from(docview);
                    writer.add_prepared(file)?;
                }
                Item::Large(entry, file) => stream(writer, &entry, file, stats, progress)?,
            }
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Stats {
    files: u64,
    docview_files: u64,
    bytes: u64,
}

impl Stats {
    fn file(&mut self, bytes: u64, progress: &dyn Events) {
        self.files += 1;
        self.bytes += bytes;
        progress.event(&Event::Advance { amount: bytes });
    }
}

fn read_all(entry: &SourceEntry) -> Result<Vec<u8>, BuildError> {
    entry
        .open()?
        .read_all()
        .map_err(|error| BuildError::Unreadable {
            path: entry.path.clone(),
            error,
        })
}

/// Streams a large file into the package, counting its bytes as they pass.
fn stream(
    writer: &mut PackageWriter,
    entry: &SourceEntry,
    file: SourceFile,
    stats: &mut Stats,
    progress: &dyn Events,
) -> Result<(), BuildError> {
    let size = file.size;
    let mut counting = Counting {
        inner: file.file,
        count: 0,
        progress,
        failed: None,
    };
    let written = writer.add_reader(&entry.name, &mut counting, Some(size));
    if let Some(error) = counting.failed.take() {
        return Err(BuildError::Unreadable {
            path: entry.path.clone(),
            error,
        });
    }
    written?;
    stats.files += 1;
    stats.bytes += counting.count;
    Ok(())
}

/// A reader that counts and reports the bytes read, and keeps a copy of a read error
/// (to tell a source file's failure from the package's).
struct Counting<'p, R> {
    inner: R,
    count: u64,
    progress: &'p dyn Events,
    failed: Option<std::io::Error>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.count += n as u64;
                self.progress.event(&Event::Advance { amount: n as u64 });
                Ok(n)
            }
            Err(e) => {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
                }
                Err(e)
            }
        }
    }
}

/// The SHA-256 of a file, lower-case hex.
pub fn sha256_of(path: &Path) -> Result<String, BuildError> {
    use sha2::{Digest, Sha256};
    let error = |error| BuildError::Output {
        path: path.to_owned(),
        error,
    };
    let mut file = std::fs::File::open(path).map_err(error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(error(e)),
        };
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok(crate::dump::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests;
