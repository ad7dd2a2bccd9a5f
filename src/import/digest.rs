//! Skipping what has not changed: a digest per layout node of the package, and
//! the decision to skip a subtree whose digest the repository recorded at an
//! earlier install.
//!
//! The digest of a layout node covers, with SHA-256, everything that decides what
//! installing its subtree does: its repository path, the bytes and names of its
//! entries (DocView, file, `.binary` files), its children's digests in the
//! importer's order, and a base shared by the whole install: the workspace, the
//! import options (everything but the clock and the progress sink), the effective
//! acHandling, every `META-INF/vault/` entry (filter, properties, node types,
//! privileges, config). So a re-install of the same package with the same
//! options gets the same digests. The repository's registries are not in it: the
//! content's DocView files register namespaces as they are imported (so they
//! differ before the first and the second install), prefixes are never remapped,
//! and a node type registered differently later changes how the content would be
//! checked, not what an install writes.
//!
//! An entry counts by its bytes as the archive stores them
//! ([`Archive::open_stored`]): for a zip its compressed bytes with the method, flags,
//! CRC-32 and sizes of its central record, read without inflating (the same stored
//! bytes are the same content; re-zipped identical content gets other digests, which
//! only costs a skip), for a folder the file's bytes. The process-wide limits are in
//! the base too: a skipped entry is never inflated, so a tighter limit must not be
//! skipped past. Digests of an older jcrpack (`jcrpack aggregate 1`, over inflated
//! bytes) never match these: the first install after an upgrade installs everything.
//!
//! Only an install with [`super::ImportOptions::skip_unchanged`] takes digests (they
//! read every entry once more, entries outside the filter included). When no
//! recorded digest can match one of this install's (none is recorded at or below
//! its filter roots, which exist: see `install::may_match`; a first install, or
//! another package's), nothing needs them before the walk: they are computed on a
//! thread of their own beside it ([`beside`]) and joined before anything is
//! recorded. Otherwise they are computed first ([`Digests::compute`]), and the
//! subtrees to skip are decided once, before the walk ([`Digests::decide`]): the
//! walk and the reader ahead ([`super::ahead`]) both pass over them, so the reader
//! reads and parses only what is installed. After such an
//! install, every visited subtree whose import wrote no warning and no
//! error gets its digest recorded on its node
//! ([`crate::repository::Transaction::record_aggregate_digest`]). The journaled
//! layer clears a node's digest whenever anything below it changes, in any
//! operation, this install's later steps included, so a recorded digest that is
//! still there means: the subtree is as this same install left it. A later install
//! whose digest for that path is equal skips the subtree: it reads none of its
//! entries again and writes nothing below it, and counts its aggregates as
//! skipped in the report.
//!
//! Not used for sub packages, nor for a package that has sub packages (their
//! installs may change the parent's content after its digests were taken), nor
//! below an authorizable remapped to an existing one.

use super::error::ImportError;
use super::plan::{Id, Plan};
use crate::archive::{Archive, ArchiveError, StoredEntry};
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// A digest.
pub type Digest = [u8; 32];

/// What every node digest starts with; a new meaning of the digests gets a new
/// version, so that no digest recorded under an old one matches.
const AGGREGATE: &[u8] = b"jcrpack aggregate 2\0";

/// Layouts up to this many nodes keep their digests in memory; larger ones in an
/// unlinked temporary file (32 bytes a node: 32 MB at a million nodes).
const IN_MEMORY: usize = 32 * 1024;

/// Stored bytes are hashed through a buffer this large (a few reads per entry at
/// most).
const READ_BUFFER: usize = 64 * 1024;

/// The digest of every node of a layout, by node id.
pub struct Table(Slots);

enum Slots {
    Memory(Vec<Digest>),
    File(std::fs::File),
}

impl Table {
    fn new(len: usize) -> Table {
        if len > IN_MEMORY {
            // Unlinked when created: a killed install leaves no file behind.
            if let Ok(f) = tempfile::tempfile() {
                if f.set_len(len as u64 * 32).is_ok() {
                    return Table(Slots::File(f));
                }
            }
        }
        Table(Slots::Memory(vec![[0; 32]; len]))
    }

    fn set(&mut self, id: Id, d: &Digest) -> std::io::Result<()> {
        match &mut self.0 {
            Slots::Memory(v) => {
                if let Some(slot) = v.get_mut(id as usize) {
                    *slot = *d;
                }
                Ok(())
            }
            Slots::File(f) => f.write_all_at(d, id as u64 * 32),
        }
    }

    fn get(&self, id: Id) -> Option<Digest> {
        match &self.0 {
            Slots::Memory(v) => v.get(id as usize).copied(),
            Slots::File(f) => {
                let mut d = [0; 32];
                f.read_exact_at(&mut d, id as u64 * 32).ok().map(|()| d)
            }
        }
    }
}

/// A subtree to record at the end: its layout node and repository path.
struct Pending {
    id: Id,
    path: String,
}

impl super::spill::Record for Pending {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_le_bytes());
        super::spill::encode_str(&self.path, out);
    }

    fn decode(bytes: &mut &[u8]) -> Option<Pending> {
        let (id, rest) = bytes.split_first_chunk::<4>()?;
        *bytes = rest;
        let path = super::spill::decode_str(bytes)?;
        Some(Pending {
            id: Id::from_le_bytes(*id),
            path,
        })
    }
}

/// The subtrees an install skips, decided once before its walk
/// ([`Digests::decide`]) and shared by the walk and the reader ahead: the layout
/// nodes whose recorded digest equals this install's, top-most first (none below
/// one is in the set), as one bit per layout node.
#[derive(Debug, Default)]
pub struct Skips(Vec<u64>);

impl Skips {
    fn insert(&mut self, n: Id) {
        let (word, bit) = (n as usize / 64, n % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    /// Whether the walk skips the subtree of layout node `n` (unless its digest
    /// was cleared since the decision: then the walk installs it, reading its
    /// entries itself).
    pub fn contains(&self, n: Id) -> bool {
        self.0
            .get(n as usize / 64)
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    /// How many subtrees are skipped.
    pub fn subtrees(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// The digests of one install's layout.
pub struct Digests {
    /// The digest of every layout node, by id; `None` until they are computed
    /// beside the walk.
    of: Option<Table>,
    /// The subtrees whose recorded digest matched before the walk
    /// ([`Digests::decide`]); `None` while none was decided (digests taken
    /// beside the walk skip nothing).
    skips: Option<std::sync::Arc<Skips>>,
    /// What every node digest covers besides its subtree ([`base`]).
    base: Digest,
    /// The subtrees to record at the end.
    pending: super::spill::SpillLog<Pending>,
}

/// Adds `s` with its length (so that concatenations cannot collide).
fn text(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Adds an entry's name, how it is stored and its stored bytes (see the module
/// doc), read through `buf`.
fn entry(
    h: &mut Sha256,
    archive: &dyn Archive,
    name: &str,
    buf: &mut [u8],
) -> Result<(), ArchiveError> {
    text(h, name);
    let StoredEntry { form, mut reader } = archive.open_stored(name)?;
    match &form {
        None => h.update([0]),
        Some(f) => {
            h.update([1]);
            h.update(f.method.to_le_bytes());
            h.update(f.flags.to_le_bytes());
            h.update(f.crc32.to_le_bytes());
            h.update(f.compressed_size.to_le_bytes());
            h.update(f.size.to_le_bytes());
        }
    }
    let io = |source| ArchiveError::Io {
        archive: archive.name().to_string(),
        entry: Some(name.to_string()),
        source,
    };
    let mut inner = Sha256::new();
    let mut total = 0u64;
    loop {
        match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                inner.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    if let Some(f) = form.filter(|f| f.compressed_size != total) {
        return Err(ArchiveError::CorruptEntry {
            archive: archive.name().to_string(),
            entry: name.to_string(),
            reason: format!(
                "{total} of its {} stored bytes could be read; the zip was cut short",
                f.compressed_size
            ),
        });
    }
    h.update(total.to_le_bytes());
    h.update(inner.finalize());
    Ok(())
}

impl Digests {
    /// The digests of the layout `plan` below `base` (see the module doc), reading
    /// every entry's stored bytes once, now.
    pub fn compute(
        archive: &dyn Archive,
        plan: &Plan<'_>,
        base: &Digest,
    ) -> Result<Digests, ArchiveError> {
        let of = table(archive, plan, base, &AtomicBool::new(false))?;
        Ok(Digests {
            of: Some(of),
            skips: None,
            base: *base,
            pending: super::spill::SpillLog::new(),
        })
    }

    /// The digests over `base`, to be computed beside the walk ([`beside`]): until
    /// then no node has one, so nothing is skipped.
    pub fn beside_walk(base: &Digest) -> Digests {
        Digests {
            of: None,
            skips: None,
            base: *base,
            pending: super::spill::SpillLog::new(),
        }
    }

    /// The base, while the digests are still to be computed beside the walk.
    pub fn wanted_beside_walk(&self) -> Option<Digest> {
        self.of.is_none().then_some(self.base)
    }

    /// Takes the digests computed beside the walk.
    pub fn computed(&mut self, of: Table) {
        self.of = Some(of);
    }

    /// The digest of layout node `n`; `None` while they are computed beside the
    /// walk, or when it cannot be read back (the subtree is installed, not
    /// skipped).
    pub fn of(&self, n: Id) -> Option<Digest> {
        self.of.as_ref().and_then(|t| t.get(n))
    }

    /// Decides which subtrees the walk skips: walks the layout as the walk does
    /// (`keep`: whether the walk goes below a path, and keeps everything below, as
    /// [`super::tree::kept`]), looks up the digest `recorded` for each path, and
    /// takes a node whose recorded digest is its own without going below it. The
    /// walk's digests are only ever cleared while it runs (they are recorded after
    /// it), so a node not taken here is never skipped; one taken is skipped if its
    /// digest is still there when the walk reaches it.
    /// `keep_all` says whether the walk keeps everything from the root (no filter).
    pub fn decide<E>(
        &mut self,
        plan: &Plan<'_>,
        keep_all: bool,
        keep: impl Fn(&str, bool) -> Option<bool>,
        mut recorded: impl FnMut(&str) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<(), E> {
        let mut skips = Skips::default();
        let mut stack: Vec<(Id, String, bool)> = vec![(plan.root(), "/".into(), keep_all)];
        while let Some((n, p, keep_all)) = stack.pop() {
            let Some(keep_all) = keep(&p, keep_all) else {
                continue;
            };
            if let Some(d) = self.of(n) {
                if recorded(&p)?.as_deref() == Some(&d[..]) {
                    skips.insert(n);
                    continue;
                }
            }
            for c in plan.children(n) {
                stack.push((c, crate::path::join(&p, plan.segment(c)), keep_all));
            }
        }
        self.skips = Some(std::sync::Arc::new(skips));
        Ok(())
    }

    /// The subtrees decided before the walk ([`Digests::decide`]), to share with
    /// the reader ahead.
    pub fn skips(&self) -> Option<std::sync::Arc<Skips>> {
        self.skips.clone()
    }

    /// Whether the walk skips the subtree of `n` if its digest is still recorded
    /// when it gets there ([`Digests::decide`]).
    pub fn decided_skip(&self, n: Id) -> bool {
        self.skips.as_ref().is_some_and(|s| s.contains(n))
    }

    /// Whether the walk looks up the recorded digest of `n`: every node when
    /// nothing was decided, else only those decided skipped.
    pub fn may_skip(&self, n: Id) -> bool {
        self.skips.as_ref().is_none_or(|s| s.contains(n))
    }

    /// Remembers to record the digest of layout node `n` for `path` at the end.
    pub fn record(&mut self, path: &str, n: Id) {
        self.pending.push(Pending {
            id: n,
            path: path.to_string(),
        });
    }

    /// The (digest, path) records to write at the end, in the order remembered;
    /// a node whose digest cannot be read back (or was never computed) is left
    /// out: its subtree is installed again next time.
    pub fn records(&self) -> impl Iterator<Item = (Digest, String)> + '_ {
        self.pending
            .iter()
            .filter_map(|p| Some((self.of(p.id)?, p.path.clone())))
    }
}

/// Records at most this many digests at a time (a batch of node lookups).
const RECORD_BATCH: usize = 1024;

impl Digests {
    /// Records the digests of [`Digests::records`] into `txn` (workspace `ws`), in
    /// batches of [`RECORD_BATCH`].
    pub fn record_into(
        &self,
        txn: &mut dyn crate::repository::Transaction,
        ws: &str,
    ) -> crate::repository::Result<()> {
        let mut batch: Vec<(Digest, String)> = Vec::with_capacity(RECORD_BATCH);
        let mut flush = |batch: &mut Vec<(Digest, String)>| {
            if batch.is_empty() {
                return Ok(());
            }
            let records: Vec<(&str, &[u8])> =
                batch.iter().map(|(d, p)| (p.as_str(), &d[..])).collect();
            let done = txn.record_aggregate_digests(ws, &records);
            batch.clear();
            done
        };
        for record in self.records() {
            batch.push(record);
            if batch.len() == RECORD_BATCH {
                flush(&mut batch)?;
            }
        }
        flush(&mut batch)
    }
}

/// Runs `walk` with the digests of `plan` over `base` computed on a thread of
/// their own beside it, and joins that thread before returning: the walk's
/// error first, else the digests' (an install fails on a package whose digests
/// cannot be taken, as when they are taken first). A walk that fails or panics
/// stops the computation at its next node, so nothing waits for it long.
pub fn beside(
    archive: &dyn Archive,
    plan: &Plan<'_>,
    base: &Digest,
    walk: impl FnOnce() -> Result<(), ImportError>,
) -> Result<Table, ImportError> {
    /// Stops the computation unless disarmed (a walk that failed or panicked).
    struct Stop<'a>(&'a AtomicBool, bool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            if self.1 {
                self.0.store(true, Ordering::Relaxed);
            }
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let computing = std::thread::Builder::new()
            .name("jcrpack-digests".into())
            .spawn_scoped(scope, || table(archive, plan, base, &stop));
        let mut guard = Stop(&stop, true);
        let walked = walk();
        guard.1 = walked.is_err();
        drop(guard);
        let joined = match computing {
            Ok(handle) => handle.join().map_err(|_| ImportError::ReadAhead {
                message: "the thread taking the digests panicked".into(),
            }),
            // No thread to be had: taken here, after the walk.
            Err(_) if walked.is_ok() => Ok(table(archive, plan, base, &stop)),
            Err(_) => Ok(Err(stopped())),
        };
        walked?;
        Ok(joined??)
    })
}

/// The error of a computation stopped because the walk failed (never seen: the
/// walk's error is).
fn stopped() -> ArchiveError {
    ArchiveError::Io {
        archive: String::new(),
        entry: None,
        source: std::io::Error::new(std::io::ErrorKind::Interrupted, "stopped"),
    }
}

/// One node whose digest is being taken: its hash so far, and its children still
/// to take.
struct Frame {
    n: Id,
    path: String,
    h: Sha256,
    children: Vec<Id>,
    next: usize,
}

/// Starts the digest of node `n` at `path`: everything before its children's.
fn open_node(
    archive: &dyn Archive,
    plan: &Plan<'_>,
    n: Id,
    path: String,
    base: &Digest,
    buf: &mut [u8],
) -> Result<Frame, ArchiveError> {
    let mut h = Sha256::new();
    h.update(AGGREGATE);
    h.update(base);
    text(&mut h, &path);
    let (dir, docview, file) = (plan.dir(n), plan.docview(n), plan.file(n));
    h.update([
        dir.is_some() as u8,
        plan.full_coverage(n) as u8,
        docview.is_some() as u8,
        file.is_some() as u8,
    ]);
    if let Some(d) = dir {
        text(&mut h, d);
    }
    if let Some(d) = docview {
        entry(&mut h, archive, d, buf)?;
    }
    if let Some(f) = file {
        entry(&mut h, archive, f, buf)?;
    }
    let binaries = plan.binaries(n);
    h.update((binaries.len() as u64).to_le_bytes());
    for b in &binaries {
        text(&mut h, &b.property);
        h.update((b.index.map_or(0, |i| i as u64 + 1)).to_le_bytes());
        entry(&mut h, archive, &b.entry, buf)?;
    }
    let children = plan.children(n);
    h.update((children.len() as u64).to_le_bytes());
    Ok(Frame {
        n,
        path,
        h,
        children,
        next: 0,
    })
}

/// The digest of every node of `plan` (see the module doc), children before
/// parents, with a stack of its own (as deep as the layout) rather than the
/// thread's; stops with an error when `stop` is set.
fn table(
    archive: &dyn Archive,
    plan: &Plan<'_>,
    base: &Digest,
    stop: &AtomicBool,
) -> Result<Table, ArchiveError> {
    let mut of = Table::new(plan.len());
    let mut buf = vec![0u8; READ_BUFFER];
    let mut stack = vec![open_node(
        archive,
        plan,
        plan.root(),
        "/".to_string(),
        base,
        &mut buf,
    )?];
    while let Some(top) = stack.last_mut() {
        if let Some(&c) = top.children.get(top.next) {
            if stop.load(Ordering::Relaxed) {
                return Err(stopped());
            }
            top.next += 1;
            let segment = plan.segment(c);
            text(&mut top.h, segment);
            let path = crate::path::join(&top.path, segment);
            let frame = open_node(archive, plan, c, path, base, &mut buf)?;
            stack.push(frame);
            continue;
        }
        let Some(done) = stack.pop() else { break };
        let d: Digest = done.h.finalize().into();
        of.set(done.n, &d).map_err(|source| ArchiveError::Io {
            archive: archive.name().to_string(),
            entry: None,
            source,
        })?;
        if let Some(parent) = stack.last_mut() {
            parent.h.update(d);
        }
    }
    Ok(of)
}

/// The base digest: `parts` (options, limits, registries, metadata entries) in
/// order.
pub fn base(parts: &[&[u8]], archive: &dyn Archive) -> Result<Digest, ArchiveError> {
    let mut h = Sha256::new();
    h.update(b"jcrpack install base 2\0");
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let mut meta: Vec<&str> = archive
        .listing()
        .files()
        .map(|e| e.name())
        .filter(|n| n.starts_with("META-INF/"))
        .collect();
    meta.sort_unstable();
    let mut buf = vec![0u8; READ_BUFFER];
    for name in meta {
        entry(&mut h, archive, name, &mut buf)?;
    }
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::super::install::{install, install_archive, install_archive_then};
    use super::super::{ImportError, ImportOptions, Report};
    use super::*;
    use crate::archive::test_support::BrokenEntry;
    use crate::archive::ReadOptions;
    use crate::events::Actor;
    use crate::repository::Store;
    use crate::value::Date;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    const WS: &str = crate::repository::DEFAULT_WORKSPACE;

    const FILTER: &str =
        r#"<workspaceFilter version="1.0"><filter root="/content/a"/></workspaceFilter>"#;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0"
    jcr:primaryType="nt:unstructured" title="one"/>"#;

    /// A package: a filter on `/content/a`, an nt:unstructured `a` with a DocView
    /// node `d` with a title, two files, and a file outside the filter.
    fn files() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("META-INF/vault/filter.xml", FILTER.as_bytes().to_vec()),
            (
                "jcr_root/content/a/.content.xml",
                DOC.replace(" title=\"one\"", "").into_bytes(),
            ),
            ("jcr_root/content/a/d/.content.xml", DOC.as_bytes().to_vec()),
            (
                "jcr_root/content/a/f.bin",
                (0..=255u8).cycle().take(5000).collect(),
            ),
            ("jcr_root/content/a/g.txt", b"gee".to_vec()),
            ("jcr_root/content/outside.txt", b"not installed".to_vec()),
        ]
    }

    /// The bytes of `name` in [`files`].
    fn file(name: &str) -> Vec<u8> {
        files().into_iter().find(|(n, _)| *n == name).unwrap().1
    }

    /// Where `name` is in [`files`].
    fn at(name: &str) -> usize {
        files().iter().position(|(n, _)| *n == name).unwrap()
    }

    const BIN: &str = "jcr_root/content/a/f.bin";

    fn folder_of(dir: &Path, files: &[(&str, Vec<u8>)]) -> PathBuf {
        let root = dir.join("pkg");
        for (name, bytes) in files {
            let p = root.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        root
    }

    /// A zip of `files` at `target`, every entry stored (`deflate` false) or
    /// deflated.
    fn zip_of(target: &Path, files: &[(&str, Vec<u8>)], deflate: bool) -> PathBuf {
        let method = if deflate {
            ::zip::CompressionMethod::Deflated
        } else {
            ::zip::CompressionMethod::Stored
        };
        let options = ::zip::write::SimpleFileOptions::DEFAULT.compression_method(method);
        let mut w = ::zip::ZipWriter::new(std::fs::File::create(target).unwrap());
        for (name, bytes) in files {
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
        target.to_path_buf()
    }

    fn opts() -> ImportOptions {
        ImportOptions {
            skip_unchanged: true,
            ..ImportOptions::new(Actor {
                user: "ci".into(),
                time: Date::from_epoch_millis(1_700_000_000_000),
            })
        }
    }

    fn dry() -> ImportOptions {
        ImportOptions {
            dry_run: true,
            ..opts()
        }
    }

    fn repo(dir: &Path) -> Box<dyn Store> {
        crate::repository::init(&dir.join("repo")).unwrap()
    }

    fn digest_at(store: &mut dyn Store, path: &str) -> Option<Vec<u8>> {
        let t = store.begin("look").unwrap();
        let d = t.aggregate_digest(WS, path).unwrap();
        t.rollback().unwrap();
        d
    }

    fn text_of(store: &mut dyn Store, path: &str, name: &str) -> String {
        let p = store.property(WS, path, name).unwrap().unwrap();
        match p.values.first() {
            Some(crate::value::Value::String(s)) => s.clone(),
            other => panic!("{path}/{name}: {other:?}"),
        }
    }

    fn data(store: &mut dyn Store, path: &str) -> Vec<u8> {
        let prop = store
            .property(WS, &format!("{path}/jcr:content"), "jcr:data")
            .unwrap()
            .unwrap();
        let Some(crate::value::Value::Binary(crate::value::Binary::Blob { sha256, .. })) =
            prop.values.first()
        else {
            panic!("{path}: jcr:data is no blob: {prop:?}");
        };
        let mut out = Vec::new();
        store
            .open_blob(sha256)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// Installs `pkg` with `--skip-unchanged`; the report.
    fn skip_install(store: &mut dyn Store, pkg: &Path) -> Report {
        install(store, pkg, &opts()).unwrap()
    }

    /// The first install takes its digests beside the walk (the store has none) and
    /// records them; the second skips everything from the root; the digests of a
    /// folder package cover its files' bytes.
    #[test]
    fn a_first_install_records_what_the_next_skips_for_a_zip_and_a_folder() {
        for zip in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let pkg = if zip {
                zip_of(&dir.path().join("p.zip"), &files(), true)
            } else {
                folder_of(dir.path(), &files())
            };
            let mut store = repo(dir.path());
            let first = skip_install(store.as_mut(), &pkg);
            assert_eq!(first.totals.skipped, 0);
            assert!(first.totals.added > 0);
            assert!(digest_at(store.as_mut(), "/").is_some());
            assert!(digest_at(store.as_mut(), "/content/a/f.bin").is_some());
            let again = skip_install(store.as_mut(), &pkg);
            assert_eq!(again.totals.skipped, 5, "zip {zip}: {:?}", again.totals);
            assert_eq!(again.totals.added + again.totals.updated, 0);
            if !zip {
                // One byte of the folder's binary: installed again, the rest skipped.
                let mut bin = file(BIN);
                bin[4000] ^= 1;
                std::fs::write(pkg.join("jcr_root/content/a/f.bin"), &bin).unwrap();
                let changed = skip_install(store.as_mut(), &pkg);
                assert_eq!(changed.totals.skipped, 2, "{:?}", changed.totals);
                assert_eq!(data(store.as_mut(), "/content/a/f.bin"), bin);
            }
        }
    }

    /// The same content zipped again another way (stored instead of deflated): the
    /// skip is lost once, never the content; then it skips again.
    #[test]
    fn a_rezipped_package_with_the_same_content_installs_again_once() {
        let dir = tempfile::tempdir().unwrap();
        let deflated = zip_of(&dir.path().join("d.zip"), &files(), true);
        let stored = zip_of(&dir.path().join("s.zip"), &files(), false);
        let mut store = repo(dir.path());
        skip_install(store.as_mut(), &deflated);
        let other = skip_install(store.as_mut(), &stored);
        assert_eq!(other.totals.skipped, 0, "{:?}", other.totals);
        assert!(other.totals.unchanged > 0);
        assert_eq!(data(store.as_mut(), "/content/a/f.bin"), file(BIN));
        assert_eq!(skip_install(store.as_mut(), &stored).totals.skipped, 5);
    }

    /// One byte changed in a DocView file or a binary of a zip, with the sizes
    /// the same: that subtree is installed, the rest skipped.
    #[test]
    fn one_changed_byte_in_a_docview_or_a_binary_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("p.zip");
        let mut store = repo(dir.path());
        skip_install(store.as_mut(), &zip_of(&pkg, &files(), true));

        let mut changed = files();
        changed[at("jcr_root/content/a/d/.content.xml")].1 =
            DOC.replace("\"one\"", "\"two\"").into_bytes();
        let r = skip_install(store.as_mut(), &zip_of(&pkg, &changed, true));
        assert_eq!(r.totals.skipped, 2, "{:?}", r.totals);
        assert_eq!(text_of(store.as_mut(), "/content/a/d", "title"), "two");

        let bin = at(BIN);
        changed[bin].1[10] ^= 0x80;
        let r = skip_install(store.as_mut(), &zip_of(&pkg, &changed, false));
        // Stored now: every entry's form changed, nothing skipped.
        assert_eq!(r.totals.skipped, 0, "{:?}", r.totals);
        assert_eq!(data(store.as_mut(), "/content/a/f.bin"), changed[bin].1);
        assert_eq!(skip_install(store.as_mut(), &pkg).totals.skipped, 5);
        changed[bin].1[11] ^= 0x80;
        let r = skip_install(store.as_mut(), &zip_of(&pkg, &changed, false));
        assert_eq!(r.totals.skipped, 2, "{:?}", r.totals);
        assert_eq!(data(store.as_mut(), "/content/a/f.bin"), changed[bin].1);
    }

    /// The digest covers the stored bytes, not only the CRC-32 the zip declares:
    /// a byte changed behind an unchanged header gives another digest.
    #[test]
    fn a_stored_byte_changed_behind_the_same_crc_changes_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = zip_of(&dir.path().join("p.zip"), &files(), false);
        let take = |path: &Path| {
            let a = crate::archive::open(path, &ReadOptions::default()).unwrap();
            let mut h = Sha256::new();
            entry(&mut h, a.as_ref(), "jcr_root/content/a/g.txt", &mut [0; 7]).unwrap();
            let d: Digest = h.finalize().into();
            d
        };
        let before = take(&path);
        assert_eq!(take(&path), before);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(3).position(|w| w == b"gee").unwrap();
        bytes[at] = b'G';
        std::fs::write(&path, &bytes).unwrap();
        assert_ne!(take(&path), before);
    }

    /// A repository whose digests an older jcrpack recorded (over the inflated
    /// bytes, `jcrpack aggregate 1`): none matches, the install is a full one and
    /// records this version's digests, which the next install skips by.
    #[test]
    fn digests_of_the_older_format_never_match() {
        // What jcrpack at 682a0df recorded for this package with these options.
        const VERSION_1: [(&str, &str); 6] = [
            (
                "/",
                "df5b7d4067d3658374e1113a63382890aec2d7ec9bc754d49ded612936b90e52",
            ),
            (
                "/content",
                "723813e7519fb74ddeaf05a8b598106beb22438e624539e97ea59584658f27e5",
            ),
            (
                "/content/a",
                "1d5d07e4b89ba3cfc09407fcc9138e785d0d65f43b08492361579d4a7dbb27e8",
            ),
            (
                "/content/a/d",
                "f0cbb18fe68c463000c43af2af3022aea034d91a5126cfc9374abfe2cb10d428",
            ),
            (
                "/content/a/f.bin",
                "385ce28a3326968ac2ef70b2694d3091ff2dd31ea224afd2892741e0318e1e68",
            ),
            (
                "/content/a/g.txt",
                "5a10280b8d8e4c8c5d788cd2ae6dd97ba7763b7258f22b046283149e0a982fbd",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let pkg = zip_of(&dir.path().join("p.zip"), &files(), true);
        let mut store = repo(dir.path());
        install(
            store.as_mut(),
            &pkg,
            &ImportOptions {
                skip_unchanged: false,
                ..opts()
            },
        )
        .unwrap();
        let mut t = store.begin("digests of version 1").unwrap();
        for (p, hex) in VERSION_1 {
            let old: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            assert!(t.record_aggregate_digest(WS, p, &old).unwrap(), "{p}");
        }
        t.commit().unwrap();
        let full = skip_install(store.as_mut(), &pkg);
        assert_eq!(full.totals.skipped, 0, "{:?}", full.totals);
        assert!(full.totals.unchanged > 0);
        let recorded = digest_at(store.as_mut(), "/").unwrap();
        assert_ne!(crate::repository::blob::hex(&recorded), VERSION_1[0].1);
        assert!(skip_install(store.as_mut(), &pkg).totals.skipped > 0);
    }

    /// The digests cannot be taken beside the walk (an entry the walk does not
    /// read fails, or panics): the install fails, writes nothing and records
    /// nothing, and the next one installs everything.
    #[test]
    fn digests_that_cannot_be_taken_beside_the_walk_fail_the_install() {
        for panic in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let pkg = zip_of(&dir.path().join("p.zip"), &files(), true);
            let mut store = repo(dir.path());
            let broken = BrokenEntry {
                inner: crate::archive::open(&pkg, &ReadOptions::default()).unwrap(),
                entry: "jcr_root/content/outside.txt",
                panic_on: panic.then_some("jcrpack-digests"),
            };
            let err = install_archive(store.as_mut(), &broken, &opts()).unwrap_err();
            match (&err, panic) {
                (ImportError::ReadAhead { message }, true) => {
                    assert!(message.contains("digests"), "{message}")
                }
                (ImportError::Archive(e), false) => {
                    assert!(e.to_string().contains("broken on purpose"), "{e}")
                }
                _ => panic!("panic {panic}: {err:?}"),
            }
            assert!(store.node(WS, "/content/a").unwrap().is_none());
            assert!(digest_at(store.as_mut(), "/").is_none());
            assert_eq!(skip_install(store.as_mut(), &pkg).totals.skipped, 0);
            // Taken first (digests recorded now, on the installing thread): the
            // install fails the same way.
            if !panic {
                let err = install_archive(store.as_mut(), &broken, &opts()).unwrap_err();
                assert!(matches!(err, ImportError::Archive(_)), "{err:?}");
            }
        }
    }

    /// An install that fails after its walk (here: just before its commit)
    /// records no digest: the next one installs everything.
    #[test]
    fn a_failed_install_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = zip_of(&dir.path().join("p.zip"), &files(), true);
        let mut store = repo(dir.path());
        let archive = crate::archive::open(&pkg, &ReadOptions::default()).unwrap();
        let err = install_archive_then(store.as_mut(), archive.as_ref(), &opts(), &mut |t, _| {
            // Recorded in the transaction, and gone with it.
            assert!(t.aggregate_digest(WS, "/content/a").unwrap().is_some());
            Err(ImportError::ReadAhead {
                message: "failed on purpose".into(),
            })
        })
        .unwrap_err();
        assert!(err.to_string().contains("failed on purpose"), "{err}");
        assert!(digest_at(store.as_mut(), "/").is_none());
        assert!(digest_at(store.as_mut(), "/content/a").is_none());
        let first = skip_install(store.as_mut(), &pkg);
        assert_eq!(first.totals.skipped, 0);
        assert!(first.totals.added > 0);
    }

    /// Installs `archive` with `--skip-unchanged`; the report and the reader
    /// ahead's (taken, dropped).
    fn skip_install_counting(store: &mut dyn Store, archive: &dyn Archive) -> (Report, (u64, u64)) {
        use super::super::ahead::tests::LAST;
        LAST.with(|l| l.set(None));
        let report = install_archive(store, archive, &opts()).unwrap();
        let read = LAST.with(|l| l.take()).expect("the install read ahead");
        (report, read)
    }

    /// A re-install with a changed file reads ahead past the subtrees it skips:
    /// the reader opens none of their entries (one that would panic on the
    /// reader's thread is never opened there) and hands over nothing the walk
    /// passes over.
    #[test]
    fn the_reader_ahead_never_reads_a_skipped_subtree() {
        for skipped in ["jcr_root/content/a/d/.content.xml", BIN] {
            let dir = tempfile::tempdir().unwrap();
            let pkg = dir.path().join("p.zip");
            let mut store = repo(dir.path());
            skip_install(store.as_mut(), &zip_of(&pkg, &files(), true));
            let mut changed = files();
            changed[at("jcr_root/content/a/g.txt")].1 = b"GEE".to_vec();
            zip_of(&pkg, &changed, true);
            let broken = BrokenEntry {
                inner: crate::archive::open(&pkg, &ReadOptions::default()).unwrap(),
                entry: skipped,
                panic_on: Some("jcrpack-read-ahead"),
            };
            let (r, (taken, dropped)) = skip_install_counting(store.as_mut(), &broken);
            // `d` and `f.bin` skipped; `/content/a` and `g.txt` installed again.
            assert_eq!(r.totals.skipped, 2, "{skipped}: {:?}", r.totals);
            assert_eq!(r.totals.updated, 1, "{skipped}: {:?}", r.totals);
            assert_eq!(data(store.as_mut(), "/content/a/g.txt"), b"GEE");
            // `a`'s document and `g.txt`, both from the reader; nothing passed over.
            assert_eq!((taken, dropped), (2, 0), "{skipped}");
        }
    }

    /// A package whose filter roots hold no recorded digest takes its digests
    /// beside the walk even though the repository holds another package's (the
    /// digests' thread opens its entries: one that panics there fails the
    /// install); a re-install of either computes them first (on the installing
    /// thread, where that entry reads).
    #[test]
    fn another_package_takes_its_digests_beside_the_walk() {
        const B_ENTRY: &str = "jcr_root/content/b/x.txt";
        let b_files: Vec<(&str, Vec<u8>)> = vec![
            (
                "META-INF/vault/filter.xml",
                br#"<workspaceFilter version="1.0"><filter root="/content/b"/></workspaceFilter>"#
                    .to_vec(),
            ),
            (B_ENTRY, b"x".to_vec()),
        ];
        let dir = tempfile::tempdir().unwrap();
        let a = zip_of(&dir.path().join("a.zip"), &files(), true);
        let b = zip_of(&dir.path().join("b.zip"), &b_files, true);
        let mut store = repo(dir.path());
        skip_install(store.as_mut(), &a);
        assert!(digest_at(store.as_mut(), "/").is_some());
        let panicking = |pkg: &Path, entry: &'static str| BrokenEntry {
            inner: crate::archive::open(pkg, &ReadOptions::default()).unwrap(),
            entry,
            panic_on: Some("jcrpack-digests"),
        };
        // While B's root does not exist, A's digest at `/` might be B's (see
        // `install::may_match`): taken first.
        let first = install_archive(store.as_mut(), &panicking(&b, B_ENTRY), &dry()).unwrap();
        assert_eq!(first.totals.skipped, 0);
        let mut t = store.begin("b's root").unwrap();
        t.add_node(
            WS,
            "/content",
            &crate::node::Node::new("b", "nt:folder"),
            &crate::repository::AddOptions::append(),
        )
        .unwrap();
        t.commit().unwrap();
        assert!(
            digest_at(store.as_mut(), "/").is_none(),
            "cleared by the change"
        );
        let err = install_archive(store.as_mut(), &panicking(&b, B_ENTRY), &opts()).unwrap_err();
        assert!(
            matches!(&err, ImportError::ReadAhead { message } if message.contains("digests")),
            "{err:?}"
        );
        let first_b = skip_install(store.as_mut(), &b);
        assert_eq!(first_b.totals.skipped, 0);
        assert!(first_b.totals.added > 0);
        // `/` changed, so A's digest there is gone; B's are recorded.
        assert!(digest_at(store.as_mut(), "/content/b").is_some());
        let again = install_archive(store.as_mut(), &panicking(&b, B_ENTRY), &opts()).unwrap();
        assert_eq!(again.totals.skipped, 1, "{:?}", again.totals);
        let a_again = install_archive(store.as_mut(), &panicking(&a, BIN), &opts()).unwrap();
        // From `/content/a` (`/` and `/content` changed since A's install).
        assert_eq!(a_again.totals.skipped, 4, "{:?}", a_again.totals);
    }

    /// A subtree decided skipped whose digest the walk clears before it gets there
    /// (its parent's changed document writes below it) is installed, its entries
    /// read by the walk itself (the reader ahead passed over them: one that would
    /// panic there is never opened there), and reports as with no reader at all.
    #[test]
    fn a_subtree_cleared_during_the_walk_is_installed_after_all() {
        let inline = DOC.replace(
            "title=\"one\"/>",
            "><d jcr:primaryType=\"nt:unstructured\" inline=\"yes\"/></jcr:root>",
        );
        let run = |ahead_off: bool| {
            super::super::ahead::tests::OFF.with(|o| o.set(ahead_off));
            let dir = tempfile::tempdir().unwrap();
            let pkg = dir.path().join("p.zip");
            let mut store = repo(dir.path());
            skip_install(store.as_mut(), &zip_of(&pkg, &files(), true));
            let mut changed = files();
            changed[at("jcr_root/content/a/.content.xml")].1 = inline.clone().into_bytes();
            zip_of(&pkg, &changed, true);
            let broken = BrokenEntry {
                inner: crate::archive::open(&pkg, &ReadOptions::default()).unwrap(),
                entry: "jcr_root/content/a/d/.content.xml",
                panic_on: Some("jcrpack-read-ahead"),
            };
            let r = install_archive(store.as_mut(), &broken, &opts()).unwrap();
            super::super::ahead::tests::OFF.with(|o| o.set(false));
            // `d` written by `a`'s document, then by its own, which drops `inline`.
            let d: Vec<_> = r
                .entries
                .iter()
                .filter(|e| e.path == "/content/a/d")
                .collect();
            assert_eq!(d.len(), 2, "{:?}", r.entries);
            assert_eq!(r.totals.skipped, 2, "{:?}", r.totals);
            assert!(store
                .property(WS, "/content/a/d", "inline")
                .unwrap()
                .is_none());
            let mut json = serde_json::to_value(&r).unwrap();
            json["package"] = serde_json::Value::Null;
            (json, text_of(store.as_mut(), "/content/a/d", "title"))
        };
        assert_eq!(run(false), run(true));
    }

    /// The pending records spill to disk and come back as they were pushed, each
    /// with its node's digest; a node without one is left out.
    #[test]
    fn pending_records_come_back_with_their_digests() {
        let mut d = Digests::beside_walk(&[7; 32]);
        let n = super::super::spill::SpillLog::<Pending>::IN_MEMORY as Id + 10;
        for i in 0..n {
            d.record(&format!("/p{i}"), i);
        }
        assert_eq!(d.records().count(), 0, "nothing computed yet");
        let mut t = Table::new(n as usize - 1);
        for i in 0..n - 1 {
            t.set(i, &[i as u8; 32]).unwrap();
        }
        d.computed(t);
        let got: Vec<(Digest, String)> = d.records().collect();
        assert_eq!(got.len(), n as usize - 1);
        for (i, (digest, path)) in got.iter().enumerate() {
            assert_eq!(
                (digest[0], path.as_str()),
                (i as u8, format!("/p{i}").as_str())
            );
        }
    }
}
