//! The package store of `jcrpack serve`, kept in the repository as AEM keeps it
//! (FileVault's `JcrPackageRegistry`): an `nt:file` node at the package's
//! installation path `/etc/packages/GROUP/NAME[-VERSION].zip` in the default
//! workspace, its `jcr:content` (`nt:resource` + `vlt:Package`) holding the zip as
//! `jcr:data`, and the definition below it, `jcr:content/vlt:definition`
//! (`vlt:PackageDefinition`): `group`, `name`, `version`, `jcr:created(By)`,
//! `jcr:lastModified(By)`, `lastUnpacked(By)`, `lastWrapped(By)`, and a `filter`
//! node with one `fN` child per filter set (`root`, `mode`, `rules` as
//! `include:PATTERN` / `exclude:PATTERN`).
//!
//! An install records `lastUnpacked`, `lastUnpackedBy` and `installOperation` (the
//! id of the install's recorded operation) in the install's own transaction;
//! uninstall is jcrpack's undo of that operation (which also takes those three
//! back), FileVault's snapshot uninstall without a snapshot package. Upload,
//! delete, build and install are recorded operations (`jcrpack history`).
//!
//! Every function here is synchronous over a store; the server runs reads on its
//! blocking pool and writes on its writer thread.

use crate::archive::{self, ReadOptions, WriterOptions};
use crate::events::Actor;
use crate::filter::{FilterSet, ImportMode, Rule, WorkspaceFilter};
use crate::import::{self, ImportError, ImportOptions, Report};
use crate::node::Node;
use crate::package_id::PackageId;
use crate::properties::PackageProperties;
use crate::repository::{
    AddOptions, OperationId, OperationMeta, RepositoryError, Store, StoreRead, Transaction,
    DEFAULT_WORKSPACE,
};
use crate::value::{Binary, Date, Property, PropertyType, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where packages live.
pub const ROOT: &str = "/etc/packages";

const WS: &str = DEFAULT_WORKSPACE;

/// Why a package command failed, with the messages AEM's Package Manager answers
/// (`shared/reference/packmgr-api.md` §1.2, V4).
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The upload is not a zip.
    #[error("error in opening zip file")]
    NotAZip,
    /// The zip has no `jcr_root/`.
    #[error("Zip File is not a content package. Missing 'jcr_root'.")]
    NotAPackage,
    /// A package is at that path and `force` was not given.
    #[error("Package already exists: {0}")]
    Exists(String),
    /// No package at that path.
    #[error("no package")]
    NoPackage,
    /// Uninstall of a package this server did not install.
    #[error("org.apache.jackrabbit.vault.packaging.PackageException: Unable to uninstall package. No snapshot present.")]
    NoSnapshot,
    /// A package path outside `/etc/packages`, or not a `.zip` path in standard form.
    #[error("invalid package path: {0}")]
    BadPath(String),
    /// The package's id or definition is not usable.
    #[error("{0}")]
    Invalid(String),
    /// The install failed; nothing was changed.
    #[error("{0}")]
    Install(#[from] ImportError),
    /// The repository failed.
    #[error("{0}")]
    Repository(#[from] RepositoryError),
    /// Reading or writing a package file failed.
    #[error("{0}")]
    Archive(#[from] crate::archive::ArchiveError),
    /// Exporting the content of a build failed.
    #[error("{0}")]
    Export(#[from] crate::export::ExportError),
    /// A temporary file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl PackError {
    /// Whether the request itself is at fault (answered as a package error, HTTP 200
    /// with `success:false`, like every other failure here; kept for logs).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, PackError::Repository(_) | PackError::Io(_))
    }
}

/// A stored package, as `list.jsp` and `service.jsp?cmd=ls` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageRecord {
    /// `/etc/packages/GROUP/NAME[-VERSION].zip`.
    pub path: String,
    /// The group (`""` for none).
    pub group: String,
    /// The name.
    pub name: String,
    /// The version (`""` for none).
    pub version: String,
    /// The zip's size in bytes.
    pub size: u64,
    /// Upload time and user.
    pub created: Option<Date>,
    /// Who uploaded it.
    pub created_by: Option<String>,
    /// Last change of the definition (`update.jsp`), if any.
    pub last_modified: Option<Date>,
    /// Who changed it.
    pub last_modified_by: Option<String>,
    /// Last install, if installed.
    pub last_unpacked: Option<Date>,
    /// Who installed it.
    pub last_unpacked_by: Option<String>,
    /// Last build.
    pub last_wrapped: Option<Date>,
    /// Who built it.
    pub last_wrapped_by: Option<String>,
    /// The recorded operation of the install, which uninstall undoes.
    pub install_operation: Option<i64>,
    /// The filter: (root, [(include, pattern)]).
    pub filter: Vec<(String, Vec<(bool, String)>)>,
    /// The zip's blob (SHA-256), for download.
    pub blob: Option<String>,
}

impl PackageRecord {
    /// `group:name:version`.
    pub fn pid(&self) -> String {
        format!("{}:{}:{}", self.group, self.name, self.version)
    }

    /// `name[-version].zip`.
    pub fn download_name(&self) -> String {
        if self.version.is_empty() {
            format!("{}.zip", self.name)
        } else {
            format!("{}-{}.zip", self.name, self.version)
        }
    }
}

/// Checks a package path taken from a URL: `/etc/packages/…/NAME.zip` in standard
/// form (no `.` or `..` segment, no empty segment, valid JCR names), so that no
/// request reads or writes outside `/etc/packages`, and within the rules every
/// writing path obeys ([`crate::write_rules`]: deny list, node depth). Returns it
/// with one trailing `/` removed.
pub fn check_path(path: &str) -> Result<String, PackError> {
    let p = path.strip_suffix('/').unwrap_or(path);
    let bad = || PackError::BadPath(path.to_string());
    let rest = p.strip_prefix("/etc/packages/").ok_or_else(bad)?;
    if !p.ends_with(".zip") || rest.is_empty() {
        return Err(bad());
    }
    for seg in rest.split('/') {
        if seg.is_empty()
            || seg == "."
            || seg == ".."
            || seg.contains(['[', ']', '|', '*', '\\'])
            || seg.chars().any(char::is_control)
            || crate::name::validate(seg).is_err()
        {
            return Err(bad());
        }
    }
    crate::write_rules::check_path(p, &crate::write_rules::WriteRules::default())
        .map_err(|_| bad())?;
    Ok(p.to_string())
}

fn text(store: &dyn StoreRead, path: &str, name: &str) -> Result<Option<String>, PackError> {
    Ok(store
        .property(WS, path, name)?
        .and_then(|p| p.value().map(|v| v.to_string())))
}

fn date(store: &dyn StoreRead, path: &str, name: &str) -> Result<Option<Date>, PackError> {
    Ok(store
        .property(WS, path, name)?
        .and_then(|p| match p.value() {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }))
}

/// The stored package at `path` (already checked), or `None`.
pub fn get(store: &dyn StoreRead, path: &str) -> Result<Option<PackageRecord>, PackError> {
    let ws_exists = store.workspaces()?.iter().any(|w| w == WS);
    if !ws_exists {
        return Ok(None);
    }
    match store.node(WS, path)? {
        Some(n) if n.primary_type == "nt:file" => {}
        _ => return Ok(None),
    }
    let content = format!("{path}/jcr:content");
    let def = format!("{content}/vlt:definition");
    if store.node(WS, &def)?.is_none() {
        return Ok(None);
    }
    let (size, blob) = match store.property(WS, &content, "jcr:data")? {
        Some(p) => match p.value() {
            Some(Value::Binary(Binary::Blob { sha256, size })) => (*size, Some(sha256.clone())),
            Some(Value::Binary(b)) => (b.size().unwrap_or(0), None),
            _ => (0, None),
        },
        None => (0, None),
    };
    let mut filter = Vec::new();
    let fpath = format!("{def}/filter");
    if store.node(WS, &fpath)?.is_some() {
        for f in store.children(WS, &fpath)? {
            let root = text(store, &f.path, "root")?.unwrap_or_default();
            let rules = match store.property(WS, &f.path, "rules")? {
                Some(p) => p
                    .values
                    .iter()
                    .filter_map(|v| {
                        let s = v.to_string();
                        let (kind, pattern) = s.split_once(':')?;
                        Some((kind == "include", pattern.to_string()))
                    })
                    .collect(),
                None => Vec::new(),
            };
            filter.push((root, rules));
        }
    }
    let install_operation = match store.property(WS, &def, "installOperation")? {
        Some(p) => match p.value() {
            Some(Value::Long(n)) => Some(*n),
            _ => None,
        },
        None => None,
    };
    Ok(Some(PackageRecord {
        path: path.to_string(),
        group: text(store, &def, "group")?.unwrap_or_default(),
        name: text(store, &def, "name")?.unwrap_or_default(),
        version: text(store, &def, "version")?.unwrap_or_default(),
        size,
        created: date(store, &def, "jcr:created")?,
        created_by: text(store, &def, "jcr:createdBy")?,
        last_modified: date(store, &def, "jcr:lastModified")?,
        last_modified_by: text(store, &def, "jcr:lastModifiedBy")?,
        last_unpacked: date(store, &def, "lastUnpacked")?,
        last_unpacked_by: text(store, &def, "lastUnpackedBy")?,
        last_wrapped: date(store, &def, "lastWrapped")?,
        last_wrapped_by: text(store, &def, "lastWrappedBy")?,
        install_operation,
        filter,
        blob,
    }))
}

/// Every stored package, sorted by path (snapshots below `.snapshot` folders are
/// not packages of their own).
pub fn list(store: &dyn StoreRead) -> Result<Vec<PackageRecord>, PackError> {
    let mut out = Vec::new();
    if !store.workspaces()?.iter().any(|w| w == WS) || store.node(WS, ROOT)?.is_none() {
        return Ok(out);
    }
    let mut paths = Vec::new();
    let mut walk = store.walk(WS, ROOT)?;
    while let Some(entry) = walk.next() {
        let entry = entry?;
        if entry.node.primary_type == "nt:file" {
            if entry.path.ends_with(".zip") && !entry.path.contains("/.snapshot/") {
                paths.push(entry.path.clone());
            }
            walk.skip_children();
        }
    }
    for p in paths {
        if let Some(r) = get(store, &p)? {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Opens the zip of the stored package `record` for reading.
pub fn open_zip(
    store: &dyn StoreRead,
    record: &PackageRecord,
) -> Result<Box<dyn Read + Send>, PackError> {
    match &record.blob {
        Some(sha) => Ok(store.open_blob(sha)?),
        None => Err(PackError::NoPackage),
    }
}

/// What an upload found in the zip.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The package id (from `properties.xml`, else FileVault's `temporary:pack_…`).
    pub id: PackageId,
    /// The filter sets.
    pub filter: WorkspaceFilter,
}

/// Opens the uploaded zip at `file` and reads its id and filter: not a zip is
/// [`PackError::NotAZip`], no `jcr_root/` is [`PackError::NotAPackage`].
pub fn inspect(file: &Path) -> Result<Inspected, PackError> {
    let mut magic = [0u8; 4];
    let n = std::fs::File::open(file)?.read(&mut magic)?;
    if n < 4 || &magic != b"PK\x03\x04" && &magic != b"PK\x05\x06" {
        return Err(PackError::NotAZip);
    }
    let archive = archive::open(file, &ReadOptions::default()).map_err(|_| PackError::NotAZip)?;
    if !archive.is_dir("jcr_root") {
        return Err(PackError::NotAPackage);
    }
    let props = crate::package::read_properties(archive.as_ref())
        .map_err(|e| PackError::Invalid(e.to_string()))?;
    let filter = crate::package::read_filter(archive.as_ref())
        .map_err(|e| PackError::Invalid(e.to_string()))?
        .unwrap_or_default();
    let id = match props.id() {
        Some(id) if !id.name().is_empty() => id,
        _ => {
            // FileVault's `temporary/pack_<uuid>`; here named by the content, so
            // the same zip uploaded twice is the same package.
            let mut f = std::fs::File::open(file)?;
            let mut h = <sha2::Sha256 as sha2::Digest>::new();
            std::io::copy(&mut f, &mut HashWriter(&mut h))?;
            let hex = crate::repository::blob::hex(&sha2::Digest::finalize(h));
            PackageId::new("temporary", &format!("pack_{}", &hex[..32]), "")
        }
    };
    id.validate()
        .map_err(|e| PackError::Invalid(format!("invalid package id {id}: {e}")))?;
    check_path(&id.storage_path())?;
    Ok(Inspected { id, filter })
}

struct HashWriter<'a>(&'a mut sha2::Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn meta(description: String, package: Option<&PackageId>, actor: &Actor) -> OperationMeta {
    OperationMeta {
        description,
        install_id: None,
        package_id: package.map(|p| p.to_string()),
        time: actor.time,
        user: actor.user.clone(),
        options: serde_json::json!({ "via": "serve" }),
    }
}

/// Makes the folders down to `parent` (`nt:folder`, as AEM's `/etc/packages`).
fn ensure_folders(txn: &mut dyn Transaction, parent: &str) -> Result<(), PackError> {
    let mut at = String::from("/");
    for seg in parent.split('/').filter(|s| !s.is_empty()) {
        let next = crate::path::join(&at, seg);
        if txn.node(WS, &next)?.is_none() {
            txn.add_node(WS, &at, &Node::new(seg, "nt:folder"), &AddOptions::append())?;
        }
        at = next;
    }
    Ok(())
}

fn filter_node(filter: &WorkspaceFilter) -> Node {
    let mut node = Node::new("filter", "nt:unstructured");
    for (i, set) in filter.sets.iter().enumerate() {
        let rules: Vec<Value> = set
            .rules
            .iter()
            .map(|r| {
                Value::String(format!(
                    "{}:{}",
                    if r.include { "include" } else { "exclude" },
                    r.pattern.as_str()
                ))
            })
            .collect();
        node = node.with_child(
            Node::new(format!("f{i}"), "nt:unstructured")
                .with(Property::string("root", set.root()))
                .with(Property::string("mode", set.mode.to_string()))
                .with(Property::multi("rules", PropertyType::String, rules)),
        );
    }
    node
}

/// Writes the package node for `id` holding `blob` (replacing one that is there),
/// with `created` kept from the replaced one when `keep_created`.
fn write_package_node(
    txn: &mut dyn Transaction,
    id: &PackageId,
    filter: &WorkspaceFilter,
    blob: Binary,
    actor: &Actor,
    extra: &[Property],
) -> Result<String, PackError> {
    let path = check_path(&id.storage_path())?;
    let parent = crate::path::parent(&path).unwrap_or("/").to_string();
    ensure_folders(txn, &parent)?;
    if txn.node(WS, &path)?.is_some() {
        txn.remove_node(WS, &path)?;
    }
    let mut def = Node::new("vlt:definition", "vlt:PackageDefinition")
        .with(Property::string("group", id.group()))
        .with(Property::string("name", id.name()))
        .with(Property::string("version", id.version_str()))
        .with(Property::single("jcr:created", Value::Date(actor.time)))
        .with(Property::string("jcr:createdBy", actor.user.clone()))
        .with_child(filter_node(filter));
    for p in extra {
        def.set(p.clone());
    }
    let mut content = Node::new("jcr:content", "nt:resource")
        .with(Property::single("jcr:data", Value::Binary(blob)))
        .with(Property::string("jcr:mimeType", "application/zip"))
        .with(Property::single(
            "jcr:lastModified",
            Value::Date(actor.time),
        ))
        .with_child(def);
    content.mixins = vec!["vlt:Package".to_string()];
    let file = Node::new(crate::path::name(&path), "nt:file").with_child(content);
    txn.add_node(WS, &parent, &file, &AddOptions::append())?;
    Ok(path)
}

/// Stores the uploaded zip at `file` at its installation path, in one recorded
/// operation. An existing package there is replaced only with `force`.
pub fn upload(
    store: &mut dyn Store,
    file: &Path,
    force: bool,
    actor: &Actor,
) -> Result<PackageRecord, PackError> {
    let found = inspect(file)?;
    let path = check_path(&found.id.storage_path())?;
    if !force && get(store, &path)?.is_some() {
        return Err(PackError::Exists(path));
    }
    let blob = store.put_blob(&mut std::fs::File::open(file)?)?;
    let mut txn = store.begin_operation(meta(
        format!("upload package {}", found.id),
        Some(&found.id),
        actor,
    ))?;
    write_package_node(txn.as_mut(), &found.id, &found.filter, blob, actor, &[])?;
    txn.commit()?;
    get(store, &path)?.ok_or(PackError::NoPackage)
}

/// Removes the stored package at `path`, in one recorded operation (its installed
/// content stays, as in AEM).
pub fn delete(store: &mut dyn Store, path: &str, actor: &Actor) -> Result<(), PackError> {
    let record = get(store, path)?.ok_or(PackError::NoPackage)?;
    let id = PackageId::new(&record.group, &record.name, &record.version);
    let mut txn = store.begin_operation(meta(format!("delete package {id}"), Some(&id), actor))?;
    txn.remove_node(WS, path)?;
    txn.commit()?;
    Ok(())
}

/// How to install a stored package.
#[derive(Debug, Clone, Default)]
pub struct InstallRequest {
    /// Roll back at the end (`dryrun`).
    pub dry_run: bool,
    /// `acHandling` override.
    pub ac_handling: Option<crate::properties::AcHandling>,
    /// Refuse when dependencies are missing (`dependencyHandling=required|strict`).
    pub require_dependencies: bool,
    /// `extractOnly=true`: FileVault takes no snapshot, so the package cannot be
    /// uninstalled; here the install is recorded in `history` as every install
    /// (`jcrpack undo` still reverts it) but the package keeps no
    /// `installOperation`, and `uninstall` answers "Snapshot missing" as CRX does.
    pub extract_only: bool,
    /// `recursive=false`: sub packages are stored below `/etc/packages`, not
    /// installed ([`ImportOptions::recursive`]).
    pub not_recursive: bool,
}

/// Copies the stored zip into a new temporary folder under `tmp`, as
/// `DOWNLOADNAME`, so that the install's history names the package's file.
fn materialize(
    store: &dyn StoreRead,
    record: &PackageRecord,
    tmp: &Path,
) -> Result<(tempfile::TempDir, PathBuf), PackError> {
    let dir = tempfile::Builder::new()
        .prefix(".jcrpack-serve-")
        .tempdir_in(tmp)?;
    let file = dir.path().join(record.download_name());
    let mut out = std::fs::File::create(&file)?;
    std::io::copy(&mut open_zip(store, record)?, &mut out)?;
    out.sync_all()?;
    Ok((dir, file))
}

/// Installs the stored package at `path` (FileVault's install, one transaction),
/// recording `lastUnpacked`, `lastUnpackedBy` and `installOperation` in the same
/// transaction; a dry run rolls everything back. `events` sees every path.
pub fn install(
    store: &mut dyn Store,
    path: &str,
    req: &InstallRequest,
    actor: &Actor,
    events: std::sync::Arc<dyn crate::events::Events>,
    tmp: &Path,
) -> Result<Report, PackError> {
    let record = get(store, path)?.ok_or(PackError::NoPackage)?;
    let (_dir, file) = materialize(store, &record, tmp)?;
    // Named by its repository path, so that `history` (and every message) says
    // `install /etc/packages/GROUP/NAME-VERSION.zip`, not the temporary copy.
    let archive = archive::ZipArchive::open_as(&file, &record.path, &ReadOptions::default())?;
    let archive: &dyn archive::Archive = &archive;
    let opts = ImportOptions {
        dry_run: req.dry_run,
        ac_handling: req.ac_handling,
        require_dependencies: req.require_dependencies,
        recursive: !req.not_recursive,
        events,
        ..ImportOptions::new(actor.clone())
    };
    let def = format!("{path}/jcr:content/vlt:definition");
    let time = actor.time;
    let user = actor.user.clone();
    let extract_only = req.extract_only;
    let report = import::install_archive_then(
        store,
        archive,
        &opts,
        &mut |txn: &mut dyn Transaction, _report: &Report| {
            // The install may have written below /etc/packages itself.
            if txn.node(WS, &def)?.is_none() {
                return Ok(());
            }
            txn.set_property(
                WS,
                &def,
                &Property::single("lastUnpacked", Value::Date(time)),
            )?;
            txn.set_property(WS, &def, &Property::string("lastUnpackedBy", user.clone()))?;
            if extract_only {
                // No snapshot: an earlier install's operation is no longer this
                // package's to undo either.
                txn.remove_property(WS, &def, "installOperation")?;
            } else if let Some(op) = txn.operation_id() {
                txn.set_property(
                    WS,
                    &def,
                    &Property::single("installOperation", Value::Long(op.0)),
                )?;
            }
            Ok(())
        },
    )?;
    Ok(report)
}

/// Uninstalls the stored package at `path`: undoes the operation of its last
/// install (refused, naming the later operations, when they touched the same
/// content). Returns the undo's operation id and how many items it restored.
pub fn uninstall(
    store: &mut dyn Store,
    path: &str,
    actor: &Actor,
) -> Result<crate::repository::UndoReport, PackError> {
    let record = get(store, path)?.ok_or(PackError::NoPackage)?;
    let op = record.install_operation.ok_or(PackError::NoSnapshot)?;
    let id = PackageId::new(&record.group, &record.name, &record.version);
    Ok(store.undo(
        OperationId(op),
        false,
        meta(format!("uninstall package {id}"), Some(&id), actor),
    )?)
}

/// Builds the stored package at `path`: exports the content its filter selects
/// into a new zip (with its `properties.xml`) and stores it in place, recording
/// `lastWrapped`, in one recorded operation.
pub fn build(
    store: &mut dyn Store,
    path: &str,
    actor: &Actor,
    tmp: &Path,
) -> Result<PackageRecord, PackError> {
    let record = get(store, path)?.ok_or(PackError::NoPackage)?;
    let (dir, file) = materialize(store, &record, tmp)?;
    let (props, filter) = {
        let archive = archive::open(&file, &ReadOptions::default())?;
        let props = crate::package::read_properties(archive.as_ref())
            .map_err(|e| PackError::Invalid(e.to_string()))?;
        let filter = crate::package::read_filter(archive.as_ref())
            .map_err(|e| PackError::Invalid(e.to_string()))?
            .unwrap_or_else(|| filter_from_record(&record));
        (props, filter)
    };
    let id = PackageId::new(&record.group, &record.name, &record.version);
    let props = crate::export::package_properties(Some(props), Some(&id));
    let built = dir.path().join("built.zip");
    {
        let ns = store.namespaces()?;
        let (types, _) = crate::nodetypes::load(store, &ns);
        let mut writer = archive::PackageWriter::create(&built, WriterOptions::default())?;
        crate::export::export_with(
            store,
            WS,
            &filter,
            &props,
            &types,
            &crate::export::ExportOptions { allow_empty: true },
            &mut writer,
        )?;
        writer.finish()?;
    }
    let blob = store.put_blob(&mut std::fs::File::open(&built)?)?;
    let mut txn = store.begin_operation(meta(format!("build package {id}"), Some(&id), actor))?;
    // In place: the install's own properties stay untouched, so that uninstall
    // (the undo of the install) still applies after a build.
    replace_zip(txn.as_mut(), path, blob, actor)?;
    let def = format!("{path}/jcr:content/vlt:definition");
    txn.set_property(
        WS,
        &def,
        &Property::single("lastWrapped", Value::Date(actor.time)),
    )?;
    txn.set_property(
        WS,
        &def,
        &Property::string("lastWrappedBy", actor.user.clone()),
    )?;
    txn.commit()?;
    get(store, path)?.ok_or(PackError::NoPackage)
}

/// Sets the zip of the package node at `path`.
fn replace_zip(
    txn: &mut dyn Transaction,
    path: &str,
    blob: Binary,
    actor: &Actor,
) -> Result<(), PackError> {
    let content = format!("{path}/jcr:content");
    txn.set_property(
        WS,
        &content,
        &Property::single("jcr:data", Value::Binary(blob)),
    )?;
    txn.set_property(
        WS,
        &content,
        &Property::single("jcr:lastModified", Value::Date(actor.time)),
    )?;
    Ok(())
}

/// The definition's history a rebuild keeps (created, last install).
fn keep_properties(store: &dyn StoreRead, path: &str) -> Result<Vec<Property>, PackError> {
    let def = format!("{path}/jcr:content/vlt:definition");
    let mut keep = Vec::new();
    for name in [
        "jcr:created",
        "jcr:createdBy",
        "lastUnpacked",
        "lastUnpackedBy",
        "installOperation",
        "jcr:lastModified",
        "jcr:lastModifiedBy",
    ] {
        if let Some(p) = store.property(WS, &def, name)? {
            keep.push(p);
        }
    }
    Ok(keep)
}

fn filter_from_record(record: &PackageRecord) -> WorkspaceFilter {
    let sets = record
        .filter
        .iter()
        .map(|(root, rules)| {
            let mut set = FilterSet::new(root);
            for (include, pattern) in rules {
                if let Ok(rule) = Rule::new(*include, pattern) {
                    set = set.with_rule(rule);
                }
            }
            set
        })
        .collect();
    WorkspaceFilter::with_sets(sets)
}

/// Creates (or, with `existing`, redefines) the package `id` with `filter` and no
/// content: a definition-only zip (`META-INF/vault/properties.xml`, `filter.xml`,
/// an empty `jcr_root/`) that `build` fills, in one recorded operation. Used by
/// `cmd=create` and `update.jsp`.
pub fn define(
    store: &mut dyn Store,
    id: &PackageId,
    filter: &WorkspaceFilter,
    replace_path: Option<&str>,
    actor: &Actor,
    tmp: &Path,
) -> Result<PackageRecord, PackError> {
    id.validate()
        .map_err(|e| PackError::Invalid(format!("invalid package id {id}: {e}")))?;
    let path = check_path(&id.storage_path())?;
    if replace_path.is_none() && get(store, &path)?.is_some() {
        return Err(PackError::Exists(path));
    }
    let dir = tempfile::Builder::new()
        .prefix(".jcrpack-serve-")
        .tempdir_in(tmp)?;
    let zip = dir.path().join("definition.zip");
    {
        let mut props = PackageProperties::new();
        props.set_id(id);
        let mut writer = archive::PackageWriter::create(&zip, WriterOptions::default())?;
        use crate::archive::PackageSink;
        writer.add_directory("jcr_root")?;
        let xml = props.to_xml();
        writer.add_reader(
            "META-INF/vault/properties.xml",
            &mut xml.as_slice(),
            Some(xml.len() as u64),
        )?;
        let fx = filter.to_xml();
        writer.add_reader(
            "META-INF/vault/filter.xml",
            &mut fx.as_slice(),
            Some(fx.len() as u64),
        )?;
        writer.finish()?;
    }
    let blob = store.put_blob(&mut std::fs::File::open(&zip)?)?;
    let mut txn = store.begin_operation(meta(
        format!(
            "{} package {id}",
            if replace_path.is_some() {
                "update"
            } else {
                "create"
            }
        ),
        Some(id),
        actor,
    ))?;
    match replace_path {
        Some(old) if old == path => {
            // The same package redefined: in place, the install's properties kept.
            replace_zip(txn.as_mut(), &path, blob, actor)?;
            let def = format!("{path}/jcr:content/vlt:definition");
            txn.set_property(
                WS,
                &def,
                &Property::single("jcr:lastModified", Value::Date(actor.time)),
            )?;
            txn.set_property(
                WS,
                &def,
                &Property::string("jcr:lastModifiedBy", actor.user.clone()),
            )?;
            let f = format!("{def}/filter");
            if txn.node(WS, &f)?.is_some() {
                txn.remove_node(WS, &f)?;
            }
            txn.add_node(WS, &def, &filter_node(filter), &AddOptions::append())?;
        }
        Some(old) => {
            let mut extra = keep_properties(&*txn, old)?;
            extra.push(Property::single(
                "jcr:lastModified",
                Value::Date(actor.time),
            ));
            extra.push(Property::string("jcr:lastModifiedBy", actor.user.clone()));
            if txn.node(WS, old)?.is_some() {
                txn.remove_node(WS, old)?;
            }
            write_package_node(txn.as_mut(), id, filter, blob, actor, &extra)?;
        }
        None => {
            write_package_node(txn.as_mut(), id, filter, blob, actor, &[])?;
        }
    }
    txn.commit()?;
    get(store, &path)?.ok_or(PackError::NoPackage)
}

/// A filter from `update.jsp`'s JSON (`[{"root":"/a","rules":[{"modifier":"include","pattern":"/a/.*"}]}]`).
pub fn filter_from_json(json: &str) -> Result<WorkspaceFilter, PackError> {
    let bad = |m: String| PackError::Invalid(format!("invalid filter: {m}"));
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let arr = v
        .as_array()
        .ok_or_else(|| bad("expected a JSON array".into()))?;
    let mut sets = Vec::new();
    for f in arr {
        let root = f
            .get("root")
            .and_then(|r| r.as_str())
            .ok_or_else(|| bad("a filter without \"root\"".into()))?;
        crate::path::normalize(root).map_err(|e| bad(format!("root {root}: {e}")))?;
        let mut set = FilterSet::new(root);
        if let Some(mode) = f.get("mode").and_then(|m| m.as_str()) {
            let m: ImportMode = mode.parse().map_err(|_| bad(format!("mode {mode}")))?;
            set = set.with_mode(m);
        }
        for r in f
            .get("rules")
            .and_then(|r| r.as_array())
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let pattern = r.get("pattern").and_then(|p| p.as_str()).unwrap_or("");
            let include = r.get("modifier").and_then(|m| m.as_str()) != Some("exclude");
            let rule = Rule::new(include, pattern).map_err(|e| bad(e.to_string()))?;
            set = set.with_rule(rule);
        }
        sets.push(set);
    }
    Ok(WorkspaceFilter::with_sets(sets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths_stay_below_etc_packages() {
        assert_eq!(
            check_path("/etc/packages/g/n-1.0.zip/").unwrap(),
            "/etc/packages/g/n-1.0.zip"
        );
        assert!(check_path("/etc/packages/tmp/repo/x.zip").is_ok());
        for bad in [
            "/etc/packages/../x.zip",
            "/etc/packages/g/../../x.zip",
            "/etc/packages//x.zip",
            "/etc/packages/./x.zip",
            "/etc/x.zip",
            "/etc/packages/x",
            "/etc/packages/",
            "etc/packages/x.zip",
            "/etc/packages/a[2]/x.zip",
            "/etc/packages/a\u{0}/x.zip",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        // Deeper than the node depth every writing path obeys.
        let deep = format!("/etc/packages/{}x.zip", "g/".repeat(2000));
        assert!(check_path(&deep).is_err());
    }

    #[test]
    fn filters_from_update_json() {
        let f = filter_from_json(
            r#"[{"root":"/content/a","rules":[{"modifier":"exclude","pattern":"/content/a/x"}]},{"rules":[],"root":"/content/b"}]"#,
        )
        .unwrap();
        assert_eq!(f.sets.len(), 2);
        assert_eq!(f.sets[0].root(), "/content/a");
        assert!(!f.sets[0].rules[0].include);
        assert!(filter_from_json("{}").is_err());
        assert!(filter_from_json(r#"[{"root":"a/b"}]"#).is_err());
    }
}
