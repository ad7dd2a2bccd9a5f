//! Sub packages (`.zip` below `/etc/packages`): installed in the same transaction as
//! the package holding them, as its `subPackageHandling` says.

use super::error::ImportError;
use super::session::Session;
use crate::archive::{self, Archive, ReadOptions};
use crate::package::{self, OpenOptions, Package};
use crate::path;
use crate::properties::PackageProperties;

/// Installs the sub packages `subs` (entry, repository path) of `archive`, whose
/// properties are `props`, at nesting `depth`; `opened` counts every sub package of
/// the install. A sub package is named in messages as `PARENT!/ENTRY`, never by the
/// temporary file it is copied to.
pub(super) fn install(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    props: &PackageProperties,
    subs: &[(String, String)],
    depth: usize,
    opened: &mut usize,
) -> Result<(), ImportError> {
    use crate::package_id::{PackageId, SubPackageOption};
    if subs.is_empty() {
        return Ok(());
    }
    let handling = props.sub_package_handling().unwrap_or_default();
    for (entry, repo_path) in subs {
        if s.filter.is_some() && !s.contains(repo_path) {
            continue;
        }
        // Unlinked when created (tempfile::tempfile): a killed install leaves no
        // file behind; the archive reads it through the descriptor only.
        let mut tmp = tempfile::tempfile().map_err(|source| ImportError::TempFile { source })?;
        {
            let mut r = archive.open(entry)?;
            std::io::copy(&mut r, &mut tmp).map_err(|source| ImportError::SubPackageCopy {
                entry: entry.clone(),
                source,
            })?;
        }
        let shown = format!("{}!/{entry}", archive.name());
        let sub = archive::ZipArchive::from_file(
            tmp,
            std::path::Path::new(&shown),
            &shown,
            &ReadOptions::default(),
        )?;
        let sub_props = package::read_properties(&sub)?;
        let id = sub_props
            .id()
            .unwrap_or_else(|| PackageId::from_path(repo_path));
        let option = handling.option_for(&id);
        match option {
            SubPackageOption::Ignore | SubPackageOption::Add => continue,
            _ => {}
        }
        // FileVault's registry (JcrPackageImpl.extractSubpackages): a newer version
        // of the same package installed in this repository wins over `install` and
        // `extract` (not over `force_install`).
        if matches!(
            option,
            SubPackageOption::Install | SubPackageOption::Extract
        ) {
            if let Some(newer) = newer_installed(s, &id, repo_path)? {
                s.report.warn(format!(
                    "sub package {id} skipped: the newer version {newer} is installed"
                ));
                continue;
            }
        }
        if depth + 1 > s.opts.max_sub_package_depth {
            return Err(ImportError::TooDeep {
                entry: shown,
                path: repo_path.clone(),
                max: s.opts.max_sub_package_depth,
            });
        }
        *opened += 1;
        let limit = crate::limits::get().sub_packages;
        if *opened > limit {
            return Err(ImportError::TooManySubPackages {
                entry: shown,
                path: repo_path.clone(),
                limit,
            });
        }
        let pkg = Package::with_properties(&sub, sub_props, &OpenOptions::default())?;
        let ns = s.ns.clone();
        let (types, _) = crate::nodetypes::load(&*s.txn, &ns);
        let mut sub_opts = s.opts.clone();
        sub_opts.mode = None;
        sub_opts.ac_handling = None;
        sub_opts.at = None;
        sub_opts.mappings.clear();
        let mut r = super::install::run(&mut *s.txn, pkg, &sub_opts, ns, types, depth + 1, opened)
            .map_err(|e| in_sub_package(&shown, e))?;
        r.package = repo_path.clone();
        r.package_id = Some(id.to_string());
        s.ns = s.txn.namespaces()?;
        s.report.sub_packages.push(r);
        mark_installed(s, &id, repo_path)?;
    }
    Ok(())
}

/// `e`, from installing the sub package `shown` (`PARENT!/ENTRY`), named by that
/// entry when it names only a repository path. Errors that name their entry already
/// (the archive's, the document's, the limits', a deeper sub package's) are kept.
fn in_sub_package(shown: &str, e: ImportError) -> ImportError {
    match e {
        ImportError::InSubPackage { .. }
        | ImportError::TooDeep { .. }
        | ImportError::TooManySubPackages { .. } => e,
        e if e.path().is_some() && !e.to_string().contains(shown) => ImportError::InSubPackage {
            entry: shown.to_string(),
            source: Box::new(e),
        },
        e => e,
    }
}

/// The id of a version of `id`'s package newer than `id` that the registry (the
/// package files below `/etc/packages/<group>`) has as installed (its
/// `jcr:content/vlt:definition` has `lastUnpacked`).
fn newer_installed(
    s: &Session<'_>,
    id: &crate::package_id::PackageId,
    own: &str,
) -> Result<Option<String>, ImportError> {
    use crate::package_id::PackageId;
    let folder = match path::parent(&id.storage_path()) {
        Some(f) => f.to_string(),
        None => return Ok(None),
    };
    if s.node(&folder)?.is_none() {
        return Ok(None);
    }
    for c in s.txn.children(&s.ws, &folder)? {
        if c.path == own {
            continue;
        }
        let def = path::join(&c.path, "jcr:content/vlt:definition");
        if s.node(&def)?.is_none() {
            continue;
        }
        let text = |name: &str| -> Result<Option<String>, ImportError> {
            Ok(s.txn
                .property(&s.ws, &def, name)?
                .and_then(|p| p.values.first().map(|v| v.to_string())))
        };
        if text("lastUnpacked")?.is_none() {
            continue;
        }
        let other = PackageId::new(
            &text("group")?.unwrap_or_else(|| id.group().to_string()),
            &text("name")?.unwrap_or_default(),
            &text("version")?.unwrap_or_default(),
        );
        if other.group() == id.group()
            && other.name() == id.name()
            && other.version().compare(id.version()) == std::cmp::Ordering::Greater
        {
            return Ok(Some(other.to_string()));
        }
    }
    Ok(None)
}

/// Registers the sub package file at `repo_path` as installed, as FileVault's package
/// manager does: `jcr:content` gets `vlt:Package` and a `vlt:definition` with the
/// package id, `lastUnpacked` and `lastUnpackedBy`.
fn mark_installed(
    s: &mut Session<'_>,
    id: &crate::package_id::PackageId,
    repo_path: &str,
) -> Result<(), ImportError> {
    use crate::node::Node;
    use crate::repository::AddOptions;
    use crate::value::{Property, Value};
    let content = path::join(repo_path, "jcr:content");
    let Some(info) = s.node(&content)? else {
        return Ok(());
    };
    if !info.mixins.iter().any(|m| m == "vlt:Package") {
        let mut mixins = info.mixins.clone();
        mixins.push("vlt:Package".to_string());
        s.txn.set_mixins(&s.ws, &content, &mixins)?;
    }
    let def = path::join(&content, "vlt:definition");
    if s.node(&def)?.is_some() && s.txn.property(&s.ws, &def, "lastUnpacked")?.is_some() {
        // Registered already (a reinstall): the record stays as it is, so that a
        // second install of the same package changes nothing.
        return Ok(());
    }
    if s.node(&def)?.is_none() {
        s.txn.add_node(
            &s.ws,
            &content,
            &Node::new("vlt:definition", "vlt:PackageDefinition"),
            &AddOptions::append(),
        )?;
    }
    for p in [
        Property::string("group", id.group()),
        Property::string("name", id.name()),
        Property::string("version", id.version_str()),
        Property::single("lastUnpacked", Value::Date(s.opts.actor.time)),
        Property::string("lastUnpackedBy", s.opts.session_user.clone()),
    ] {
        s.txn.set_property(&s.ws, &def, &p)?;
    }
    Ok(())
}
