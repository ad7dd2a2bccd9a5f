//! A backup (or any repository image) as a FileVault content package: one
//! workspace, every top-level subtree but the version history (`/jcr:system`), or
//! only chosen roots, with the node types and namespaces the content uses, laid out
//! by [`crate::export`] as FileVault's exporter lays it out, so that AEM's Package
//! Manager installs it (Mendix's "download a backup").

use crate::archive::{PackageWriter, WriterOptions};
use crate::export::{self, ExportError, ExportReport};
use crate::filter::{FilterSet, WorkspaceFilter};
use crate::package_id::PackageId;
use crate::path;
use crate::properties::PackageProperties;
use crate::repository::StoreRead;
use std::path::Path;

/// The top-level node that holds version history, left out of a portable package.
pub const VERSION_STORAGE: &str = "/jcr:system";

/// The package id of backup `id`'s workspace `ws`: `jcrpack-backup:WS:ID`.
pub fn package_id(ws: &str, id: &str) -> Result<PackageId, ExportError> {
    let text = format!("jcrpack-backup:{ws}:{id}");
    PackageId::parse(&text).map_err(|e| ExportError::Unsupported(format!("{text}: {e}")))
}

/// The filter of a portable package of workspace `ws`: the `roots` given, else
/// every top-level node but [`VERSION_STORAGE`].
pub fn filter(
    store: &dyn StoreRead,
    ws: &str,
    roots: &[String],
) -> Result<WorkspaceFilter, ExportError> {
    let mut sets = Vec::new();
    if roots.is_empty() {
        for c in store.children(ws, "/")? {
            if c.path != VERSION_STORAGE {
                sets.push(FilterSet::new(&c.path));
            }
        }
    } else {
        for r in roots {
            let r =
                path::normalize(r).map_err(|e| ExportError::Unsupported(format!("{r}: {e}")))?;
            if store.node(ws, &r)?.is_none() {
                return Err(ExportError::Unsupported(format!(
                    "{r} is not in workspace '{ws}' of the backup"
                )));
            }
            sets.push(FilterSet::new(&r));
        }
    }
    if sets.is_empty() {
        return Err(ExportError::Unsupported(format!(
            "workspace '{ws}' of the backup holds no content to export"
        )));
    }
    Ok(WorkspaceFilter::with_sets(sets))
}

/// Writes workspace `ws` of `store` (below `roots`, or all of it but the version
/// history) as package `id` to `out`; the file appears complete or not at all.
pub fn write_package(
    store: &dyn StoreRead,
    ws: &str,
    roots: &[String],
    id: &PackageId,
    out: &Path,
    options: WriterOptions,
) -> Result<ExportReport, ExportError> {
    if !store.workspaces()?.iter().any(|w| w == ws) {
        return Err(ExportError::Unsupported(format!(
            "workspace '{ws}' is not in the backup"
        )));
    }
    let filter = filter(store, ws, roots)?;
    let mut props = PackageProperties::new();
    props.set_id(id);
    props.set(
        "description",
        &format!("workspace {ws} of a jcrpack backup"),
    );
    let ns = store.namespaces()?;
    let (types, _) = crate::nodetypes::load(store, &ns);
    let mut writer = PackageWriter::create(out, options)?;
    let report = export::export(store, ws, &filter, &props, &types, &mut writer)?;
    writer.finish()?;
    Ok(report)
}
