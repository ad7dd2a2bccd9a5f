//! Bootstrap files and FileVault packages converted both ways (issue 17 item 3).
//!
//! * [`to_packages`]: a bootstrap folder is loaded into a scratch repository (the
//!   `module` profile: each file's node as Magnolia's module install creates it) and
//!   exported with FileVault's layout, one package per workspace, one `replace` filter
//!   root per file (roots inside another file's root are covered by it), so system
//!   view becomes DocView (FileVault would otherwise store an `sv:node` file in
//!   `jcr_root/` as an `nt:file`, filevault-format.md §8.2).
//! * [`from_package`]: a package is installed with FileVault's semantics into a
//!   scratch repository and each of its filter roots is written as a bootstrap file.
//!
//! The scratch folder is the caller's (the library makes no temporary folders of its
//! own choosing); it is left with the scratch repository in it.

use std::path::{Path, PathBuf};

use super::error::BootstrapError;
use super::load::{LoadOptions, LoadReport};
use super::{dump, Format, Profile};
use crate::archive::{PackageWriter, WriterOptions};
use crate::events::Actor;
use crate::filter::{FilterSet, WorkspaceFilter};
use crate::package_id::PackageId;

/// One package written.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageOut {
    /// The workspace it holds.
    pub workspace: String,
    /// The package file.
    pub file: PathBuf,
    /// Its filter roots.
    pub roots: Vec<String>,
    /// Nodes it holds.
    pub nodes: u64,
}

/// The package file for `workspace` when a folder holds `count` workspaces: `output`
/// itself for one, `STEM-WORKSPACE.zip` beside it for several.
pub fn package_file(output: &Path, workspace: &str, count: usize) -> PathBuf {
    if count <= 1 {
        return output.to_path_buf();
    }
    let stem = output
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("bootstrap");
    output.with_file_name(format!("{stem}-{workspace}.zip"))
}

/// Converts the bootstrap files under `paths` into one package per workspace (see
/// the module documentation); `scratch` is an empty folder for the scratch
/// repository.
pub fn to_packages(
    paths: &[PathBuf],
    output: &Path,
    scratch: &Path,
    source_date_epoch: Option<i64>,
    actor: &Actor,
) -> Result<(Vec<PackageOut>, LoadReport), BootstrapError> {
    let repo = scratch.join("repository");
    let mut store = crate::repository::init(&repo)?;
    let opts = LoadOptions {
        profile: Profile::Module,
        module: None,
        dry_run: false,
        magnolia_types: false,
    };
    let report = super::load(store.as_mut(), paths, &opts, actor)?;
    let mut by_ws: Vec<(String, Vec<String>)> = Vec::new();
    for f in &report.files {
        let slot = match by_ws.iter_mut().position(|(w, _)| *w == f.workspace) {
            Some(i) => i,
            None => {
                by_ws.push((f.workspace.clone(), Vec::new()));
                by_ws.len() - 1
            }
        };
        by_ws[slot].1.extend(f.paths.iter().cloned());
    }
    by_ws.sort_by(|a, b| a.0.cmp(&b.0));
    let ns = store.namespaces()?;
    let (types, _) = crate::nodetypes::load(store.as_ref(), &ns);
    let count = by_ws.len();
    let mut out = Vec::new();
    for (ws, mut roots) in by_ws {
        roots.sort();
        roots.dedup();
        let covered: Vec<String> = roots
            .iter()
            .filter(|r| {
                !roots
                    .iter()
                    .any(|o| o != *r && (o == "/" || r.starts_with(&format!("{o}/"))))
            })
            .cloned()
            .collect();
        let filter =
            WorkspaceFilter::with_sets(covered.iter().map(|r| FilterSet::new(r)).collect());
        let id = PackageId::new("magnolia-bootstrap", &ws, "1.0.0");
        let props = crate::export::package_properties(None, Some(&id));
        let file = package_file(output, &ws, count);
        let wopts = WriterOptions::default().with_source_date_epoch(source_date_epoch);
        let mut writer = PackageWriter::create(&file, wopts)
            .map_err(|e| BootstrapError::Other(e.to_string()))?;
        let rep = crate::export::export(store.as_ref(), &ws, &filter, &props, &types, &mut writer)
            .map_err(|e| BootstrapError::Other(format!("{}: {e}", file.display())))?;
        writer
            .finish()
            .map_err(|e| BootstrapError::Other(e.to_string()))?;
        out.push(PackageOut {
            workspace: ws,
            file,
            roots: covered,
            nodes: rep.nodes,
        });
    }
    Ok((out, report))
}

/// Installs `package` with FileVault's semantics into workspace `workspace` of a
/// scratch repository in `scratch`, then writes each filter root the install created
/// as a bootstrap file into `dir`. Returns the files written and the roots that
/// selected nothing.
pub fn from_package(
    package: &Path,
    workspace: &str,
    format: Format,
    lossy: bool,
    dir: &Path,
    scratch: &Path,
    actor: &Actor,
) -> Result<(Vec<PathBuf>, Vec<String>), BootstrapError> {
    let repo = scratch.join("repository");
    let mut store = crate::repository::init(&repo)?;
    {
        let mut txn = store.begin("create workspace")?;
        txn.create_workspace(workspace)?;
        crate::repository::initial_content(txn.as_mut(), workspace)?;
        txn.commit()?;
    }
    let mut opts = crate::import::ImportOptions::new(actor.clone());
    opts.workspace = workspace.to_string();
    crate::import::install(store.as_mut(), package, &opts)
        .map_err(|e| BootstrapError::Other(format!("{}: {e}", package.display())))?;
    let archive = crate::archive::open(package, &Default::default())
        .map_err(|e| BootstrapError::Other(e.to_string()))?;
    let pkg = crate::package::Package::open(archive.as_ref(), &Default::default())
        .map_err(|e| BootstrapError::Other(e.to_string()))?;
    let mut roots = Vec::new();
    let mut missing = Vec::new();
    for set in pkg.filter.iter().flat_map(|f| f.sets.iter()) {
        let r = set.root().to_string();
        if store.node(workspace, &r)?.is_some() {
            roots.push(r);
        } else {
            missing.push(r);
        }
    }
    let files = dump::write_files(store.as_ref(), workspace, &roots, format, lossy, dir)?;
    Ok((files, missing))
}
