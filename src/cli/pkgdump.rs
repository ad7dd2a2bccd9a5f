//! `jcrpack dump PACKAGE [PATH] --format json`: the tree a package would create in an
//! empty repository, as canonical JSON.
//!
//! It is the real thing, not a model of it: the package is installed (with the
//! default options of `jcrpack import`) into a fresh repository in a temporary folder,
//! which is dumped and then deleted (or, if the process is killed, by the next
//! `dump PACKAGE`: see [`crate::scratch`]). Whatever `import` does, `dump` shows.
//!
//! The repository is a scratch one ([`SqliteStore::init_scratch`]): the install
//! skips what a dump cannot observe (syncs, the WAL, the undo journal, and, unless
//! the system view writes binaries' bytes, the blob files: the other formats show
//! a binary's digest and size only).
//!
//! The same package dumps the same bytes: the install's clock, which gives the
//! auto-created dates (`jcr:created`, `jcr:lastModified`), is pinned to
//! `SOURCE_DATE_EPOCH` when set, else to the package's own `created`
//! (`properties.xml`), else to 1970-01-01T00:00:00.000Z; never to the time of the
//! dump.

use super::dump::{write_subtree, DumpFormat};
use super::info::open_package;
use super::{CliError, CliResult, ErrorKind};
use crate::import::{self, ImportOptions};
use crate::repository::sqlite::{Scratch, SqliteStore};
use crate::repository::Store;
use crate::value::Date;
use std::path::Path;

/// Installs `package` into a temporary empty repository and prints the subtree at `p`.
pub fn run(package: &Path, p: &str, format: DumpFormat) -> CliResult<i32> {
    let dir = crate::scratch::create_in(&std::env::temp_dir(), "jcrpack-dump").map_err(|e| {
        CliError::context("cannot create a temporary repository", e).kind(ErrorKind::Internal)
    })?;
    let (store, workspace) = install(package, &dir.path().join("repo"), format)?;
    // The install's memory (the archive's index, the report, what the importer
    // freed between chunks still in use) goes back before the dump starts.
    crate::heap_trim::trim();
    write_subtree(store.as_ref(), &workspace, p, format)?;
    drop(store);
    dir.close().map_err(|e| {
        CliError::context("cannot remove the temporary repository", e).kind(ErrorKind::Internal)
    })?;
    Ok(0)
}

/// Who installs and when, for a dump: `import`'s user, and the clock pinned (module
/// doc). A `properties.xml` that does not parse gives no date here; the install
/// then reports it.
fn actor(archive: &dyn crate::archive::Archive) -> CliResult<crate::events::Actor> {
    let mut actor = super::repo::actor();
    actor.time = match super::source_date_epoch()? {
        Some(s) => Date::from_epoch_millis(s.saturating_mul(1000)),
        None => crate::package::read_properties(archive)
            .ok()
            .and_then(|p| p.created())
            .unwrap_or_else(|| Date::from_epoch_millis(0)),
    };
    Ok(actor)
}

/// Installs `package` into a new scratch repository in folder `repo`: the store
/// and the workspace it installed into. The archive and the install's report are
/// dropped on return, so that a dump holds nothing of the install.
fn install(package: &Path, repo: &Path, format: DumpFormat) -> CliResult<(Box<dyn Store>, String)> {
    let archive = open_package(package)?;
    let scratch = match format {
        DumpFormat::Sysview => Scratch::BlobBytes,
        DumpFormat::Json | DumpFormat::Docview => Scratch::Digests,
    };
    let mut store: Box<dyn Store> = Box::new(SqliteStore::init_scratch(repo, scratch)?);
    let opts = ImportOptions::new(actor(archive.as_ref())?);
    let report = import::install_archive(store.as_mut(), archive.as_ref(), &opts).map_err(|e| {
        CliError::context(
            format!("{}: the package does not install", package.display()),
            e,
        )
    })?;
    for w in &report.warnings {
        status!("warning: {w}");
    }
    Ok((store, opts.workspace))
}
