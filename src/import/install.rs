//! One install from start to finish: the package opened once, one transaction
//! begun, the steps run in FileVault's order (path mapping, roots, dependencies,
//! node types, content, check-in, type check, sub packages), then commit, or roll
//! back for a dry run.

use super::error::ImportError;
use super::options::ImportOptions;
use super::report::Report;
use super::session::Session;
use super::{dependencies, mapping, node_types, roots, sub_packages, tree};
use crate::archive::{self, Archive, ReadOptions};
use crate::cnd::NodeTypeRegistry;
use crate::namespace::NamespaceRegistry;
use crate::package::{self, OpenOptions, Package};
use crate::repository::{OperationMeta, Store, Transaction};
use std::path::Path;

/// Installs the package at `package` (a zip or a folder) into `store`.
pub fn install(
    store: &mut dyn Store,
    package: &Path,
    opts: &ImportOptions,
) -> Result<Report, ImportError> {
    let archive = archive::open(package, &ReadOptions::default())?;
    install_archive(store, archive.as_ref(), opts)
}

/// Installs an opened package archive into `store`.
pub fn install_archive(
    store: &mut dyn Store,
    archive: &dyn Archive,
    opts: &ImportOptions,
) -> Result<Report, ImportError> {
    install_inspected(store, archive, opts, &mut |_, _| Ok(()))
}

/// Installs an opened package archive into `store`, and lets `inspect` look at the
/// transaction (the repository as the install leaves it) and the report before the
/// transaction commits, or, for a dry run, rolls back. `jcrpack diff` uses it.
pub fn install_inspected(
    store: &mut dyn Store,
    archive: &dyn Archive,
    opts: &ImportOptions,
    inspect: &mut dyn FnMut(&dyn Transaction, &Report) -> Result<(), ImportError>,
) -> Result<Report, ImportError> {
    let pkg = Package::open(archive, &OpenOptions::default())?;
    install_package(store, pkg, opts, inspect)
}

/// Installs an opened [`Package`] into `store`, with `inspect` as in
/// [`install_inspected`].
pub fn install_package(
    store: &mut dyn Store,
    pkg: Package<'_>,
    opts: &ImportOptions,
    inspect: &mut dyn FnMut(&dyn Transaction, &Report) -> Result<(), ImportError>,
) -> Result<Report, ImportError> {
    let name = pkg.archive.name().to_string();
    let package_id = pkg.properties.id().map(|i| i.to_string());
    let meta = OperationMeta {
        description: format!("install {name}"),
        install_id: None,
        package_id: package_id.clone(),
        time: opts.now,
        user: opts.user.clone(),
        options: serde_json::json!({
            "workspace": opts.workspace,
            "mode": opts.mode.map(|m| m.to_string()),
            "acHandling": opts.ac_handling.map(|a| a.name()),
            "dryRun": opts.dry_run,
        }),
    };
    let mut txn = store.begin_operation(meta)?;
    let mut report = {
        let ns = txn.namespaces()?;
        let (types, warnings) = crate::nodetypes::load(txn.as_ref(), &ns);
        let mut r = run(txn.as_mut(), pkg, opts, ns, types, 0)?;
        r.warnings.splice(0..0, warnings);
        r
    };
    report.package = name;
    report.package_id = package_id;
    report.dry_run = opts.dry_run;
    inspect(txn.as_ref(), &report)?;
    if opts.dry_run {
        txn.rollback()?;
    } else {
        report.operation = txn.commit()?.map(|id| id.0);
    }
    Ok(report)
}

/// Installs `pkg` (the package or one of its sub packages, at nesting `depth`) in
/// the open transaction.
pub(super) fn run(
    txn: &mut dyn Transaction,
    pkg: Package<'_>,
    opts: &ImportOptions,
    ns: NamespaceRegistry,
    types: NodeTypeRegistry,
    depth: usize,
) -> Result<Report, ImportError> {
    let Package {
        archive,
        properties: props,
        filter,
        node_types: type_files,
        mut layout,
    } = pkg;
    let mapping = mapping::of(opts)?;
    let filter = match (filter, &mapping) {
        (Some(f), Some(m)) => Some(f.translate(m)),
        (f, _) => f,
    };
    let ac = opts.ac_handling.unwrap_or_else(|| props.ac_handling());
    // The tree is taken, not copied: it has a node per package path.
    let mut root = match &mapping {
        Some(m) => mapping::remap(&layout.root, m),
        None => std::mem::take(&mut layout.root),
    };
    if let Some(f) = &filter {
        for set in &f.sets {
            mapping::add_intermediates(&mut root, set.root());
        }
    }
    roots::check(&root, filter.as_ref(), opts)?;
    let missing = dependencies::missing(&*txn, &props)?;
    if !missing.is_empty() && opts.require_dependencies {
        return Err(ImportError::Refused(format!(
            "{}: dependencies not installed in this repository: {}",
            archive.name(),
            missing.join(", ")
        )));
    }
    let mut s = Session::new(txn, opts, filter, ac, ns, types);
    for d in missing {
        s.report.warn(format!(
            "dependency {d} is not installed in this repository"
        ));
    }
    tree::collect_hints(&root, &mut s.hints);
    if let Ok(hooks) = props.install_hooks() {
        for (name, class) in hooks {
            s.report.warn(format!(
                "install hook '{name}' ({class}) is Java code and was not run"
            ));
        }
    }
    for e in archive.listing().files() {
        if e.parent() == package::info::HOOKS_DIR && e.name().ends_with(".jar") {
            s.report.warn(format!(
                "install hook {} is Java code and was not run",
                e.name()
            ));
        }
    }
    node_types::register(&mut s, type_files)?;
    tree::import_tree(&mut s, archive, &root)?;
    // The filter roots were checked above; DocView files of their ancestors may
    // still create nodes elsewhere, and identifier conflicts remove nodes anywhere.
    if let Some(refusal) = s.out_of_bounds.take() {
        return Err(ImportError::Refused(refusal));
    }
    for p in std::mem::take(&mut s.check_in) {
        if s.node(&p)?.is_some() {
            s.txn.set_property(
                &s.ws,
                &p,
                &crate::value::Property::single(
                    "jcr:isCheckedOut",
                    crate::value::Value::Boolean(false),
                ),
            )?;
        }
    }
    node_types::check(&mut s)?;
    sub_packages::install(&mut s, archive, &props, &layout.sub_packages, depth)?;
    Ok(s.report)
}
