//! Sub packages (`.zip` below `/etc/packages`): installed in the same transaction as
//! the package holding them, as its `subPackageHandling` says.

use super::error::ImportError;
use super::session::Session;
use crate::archive::{self, Archive, ReadOptions};
use crate::package::{self, OpenOptions, Package};
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
        let tmp =
            tempfile::NamedTempFile::new().map_err(|source| ImportError::TempFile { source })?;
        {
            let mut r = archive.open(entry)?;
            let mut f = tmp.as_file();
            std::io::copy(&mut r, &mut f).map_err(|source| ImportError::SubPackageCopy {
                entry: entry.clone(),
                source,
            })?;
        }
        let shown = format!("{}!/{entry}", archive.name());
        let sub = archive::ZipArchive::open_as(tmp.path(), &shown, &ReadOptions::default())?;
        let sub_props = package::read_properties(&sub)?;
        let id = sub_props
            .id()
            .unwrap_or_else(|| PackageId::from_path(repo_path));
        match handling.option_for(&id) {
            SubPackageOption::Ignore | SubPackageOption::Add => continue,
            _ => {}
        }
        if depth + 1 > s.opts.max_sub_package_depth {
            return Err(ImportError::TooDeep {
                path: repo_path.clone(),
                max: s.opts.max_sub_package_depth,
            });
        }
        *opened += 1;
        let limit = crate::limits::get().sub_packages;
        if *opened > limit {
            return Err(ImportError::TooManySubPackages {
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
        let mut r = super::install::run(&mut *s.txn, pkg, &sub_opts, ns, types, depth + 1, opened)?;
        r.package = repo_path.clone();
        r.package_id = Some(id.to_string());
        s.ns = s.txn.namespaces()?;
        s.report.sub_packages.push(r);
    }
    Ok(())
}
