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
//! Only an install with [`super::ImportOptions::skip_unchanged`] takes digests (they
//! read every entry once more, entries outside the filter included). After such an
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

use super::plan::{Id, Plan};
use crate::archive::{Archive, ArchiveError};
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::os::unix::fs::FileExt;

/// A digest.
pub type Digest = [u8; 32];

/// Layouts up to this many nodes keep their digests in memory; larger ones in an
/// unlinked temporary file (32 bytes a node: 32 MB at a million nodes).
const IN_MEMORY: usize = 32 * 1024;

/// The digest of every node of a layout, by node id.
enum Table {
    Memory(Vec<Digest>),
    File(std::fs::File),
}

impl Table {
    fn new(len: usize) -> Table {
        if len > IN_MEMORY {
            // Unlinked when created: a killed install leaves no file behind.
            if let Ok(f) = tempfile::tempfile() {
                if f.set_len(len as u64 * 32).is_ok() {
                    return Table::File(f);
                }
            }
        }
        Table::Memory(vec![[0; 32]; len])
    }

    fn set(&mut self, id: Id, d: &Digest) -> std::io::Result<()> {
        match self {
            Table::Memory(v) => {
                if let Some(slot) = v.get_mut(id as usize) {
                    *slot = *d;
                }
                Ok(())
            }
            Table::File(f) => f.write_all_at(d, id as u64 * 32),
        }
    }

    fn get(&self, id: Id) -> Option<Digest> {
        match self {
            Table::Memory(v) => v.get(id as usize).copied(),
            Table::File(f) => {
                let mut d = [0; 32];
                f.read_exact_at(&mut d, id as u64 * 32).ok().map(|()| d)
            }
        }
    }
}

/// The digests of one install's layout.
pub struct Digests {
    /// The digest of every layout node, by id.
    of: Table,
    /// (path, digest) of the subtrees to record at the end, as `hex path`.
    pub pending: super::spill::SpillLog<String>,
}

/// A hasher writing into a SHA-256 state.
struct Sink<'a>(&'a mut Sha256);

impl std::io::Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Adds `s` with its length (so that concatenations cannot collide).
fn text(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Adds an entry's name and bytes.
fn entry(h: &mut Sha256, archive: &dyn Archive, name: &str) -> Result<(), ArchiveError> {
    text(h, name);
    let mut inner = Sha256::new();
    let mut r = archive.open(name)?;
    std::io::copy(&mut r as &mut dyn Read, &mut Sink(&mut inner)).map_err(|source| {
        ArchiveError::Io {
            archive: archive.name().to_string(),
            entry: Some(name.to_string()),
            source,
        }
    })?;
    h.update(inner.finalize());
    Ok(())
}

impl Digests {
    /// The digests of the layout `plan` below `base` (see the module doc), reading
    /// every entry once.
    pub fn compute(
        archive: &dyn Archive,
        plan: &Plan<'_>,
        base: &Digest,
    ) -> Result<Digests, ArchiveError> {
        let mut of = Table::new(plan.len());
        node_digest(archive, plan, plan.root(), "/", base, &mut of)?;
        Ok(Digests {
            of,
            pending: super::spill::SpillLog::new(),
        })
    }

    /// The digest of layout node `n`; `None` when it cannot be read back (the
    /// subtree is installed, not skipped).
    pub fn of(&self, n: Id) -> Option<Digest> {
        self.of.get(n)
    }

    /// Remembers to record `digest` for `path` at the end.
    pub fn record(&mut self, path: &str, digest: &Digest) {
        self.pending.push(format!("{}{path}", hex(digest)));
    }
}

/// Lower-case hex.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits a pending record into (digest, path).
pub fn split(record: &str) -> Option<(Vec<u8>, &str)> {
    let (h, path) = (record.get(..64)?, record.get(64..)?);
    let bytes = (0..32)
        .map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some((bytes, path))
}

fn node_digest(
    archive: &dyn Archive,
    plan: &Plan<'_>,
    n: Id,
    n_path: &str,
    base: &Digest,
    of: &mut Table,
) -> Result<Digest, ArchiveError> {
    let mut h = Sha256::new();
    h.update(b"jcrpack aggregate 1\0");
    h.update(base);
    text(&mut h, n_path);
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
        entry(&mut h, archive, d)?;
    }
    if let Some(f) = file {
        entry(&mut h, archive, f)?;
    }
    let binaries = plan.binaries(n);
    h.update((binaries.len() as u64).to_le_bytes());
    for b in &binaries {
        text(&mut h, &b.property);
        h.update((b.index.map_or(0, |i| i as u64 + 1)).to_le_bytes());
        entry(&mut h, archive, &b.entry)?;
    }
    let children = plan.children(n);
    h.update((children.len() as u64).to_le_bytes());
    for c in children {
        let segment = plan.segment(c);
        text(&mut h, segment);
        let child_path = crate::path::join(n_path, segment);
        h.update(node_digest(archive, plan, c, &child_path, base, of)?);
    }
    let d: Digest = h.finalize().into();
    of.set(n, &d).map_err(|source| ArchiveError::Io {
        archive: archive.name().to_string(),
        entry: None,
        source,
    })?;
    Ok(d)
}

/// The base digest: `parts` (options, registries, metadata entries) in order.
pub fn base(parts: &[&[u8]], archive: &dyn Archive) -> Result<Digest, ArchiveError> {
    let mut h = Sha256::new();
    h.update(b"jcrpack install base 1\0");
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
    for name in meta {
        entry(&mut h, archive, name)?;
    }
    Ok(h.finalize().into())
}
