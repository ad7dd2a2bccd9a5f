//! One install from start to finish: the package opened once, one transaction
//! begun, the steps run in FileVault's order (path mapping, roots, dependencies,
//! node types, content, check-in, type check, sub packages), then commit, or roll
//! back for a dry run.

use super::error::ImportError;
use super::options::ImportOptions;
use super::plan::Plan;
use super::report::Report;
use super::session::Session;
use super::{dependencies, mapping, node_types, roots, sub_packages, tree};
use crate::archive::{self, Archive, ReadOptions};
use crate::cnd::NodeTypeRegistry;
use crate::events::{Event, Unit};
use crate::namespace::NamespaceRegistry;
use crate::package::flat::FlatLayout;
use crate::package::{self, OpenOptions, Package};
use crate::repository::{OperationMeta, Store, Transaction};
use std::path::Path;
use std::time::Instant;

/// How long each step of an install took, logged at debug level
/// (`JCRPACK_LOG=jcrpack::import::install=debug`): where the serial steps before
/// and after the walk spend their time (issue 16).
struct Stamps(Instant);

impl Stamps {
    fn start() -> Stamps {
        Stamps(Instant::now())
    }

    /// Logs the time since the last step as `step`'s.
    fn step(&mut self, step: &str) {
        let now = Instant::now();
        tracing::debug!("{step}: {:.3} s", (now - self.0).as_secs_f64());
        self.0 = now;
    }
}

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
    opts.events.event(&Event::Phase {
        name: "reading",
        total: None,
        unit: Unit::Entries,
    });
    let mut stamps = Stamps::start();
    let result = Package::open(archive, &flat_open())
        .map_err(ImportError::from)
        .and_then(|pkg| {
            stamps.step("opening the package");
            install_package(store, pkg, opts, inspect)
        });
    opts.events.event(&Event::Finished);
    result
}

/// How the importer opens a package: its layout as flat arrays.
fn flat_open() -> OpenOptions {
    OpenOptions {
        flat: true,
        ..OpenOptions::default()
    }
}

/// Installs an opened [`Package`] into `store`, with `inspect` as in
/// [`install_inspected`]. The caller that opened the package reports its `reading`
/// phase and the final [`Event::Finished`].
pub fn install_package(
    store: &mut dyn Store,
    pkg: Package<'_>,
    opts: &ImportOptions,
    inspect: &mut dyn FnMut(&dyn Transaction, &Report) -> Result<(), ImportError>,
) -> Result<Report, ImportError> {
    install_package_then(store, pkg, opts, &mut |txn, report| inspect(&*txn, report))
}

/// Installs an opened package archive into `store` as [`install_archive`] does, and
/// lets `finish` write in the same transaction before it commits (a dry run rolls
/// it back with the rest): `jcrpack serve` records the package's `lastUnpacked` and
/// the install's operation with the install itself, so that both are there or
/// neither is, and undoing the install undoes both.
pub fn install_archive_then(
    store: &mut dyn Store,
    archive: &dyn Archive,
    opts: &ImportOptions,
    finish: &mut dyn FnMut(&mut dyn Transaction, &Report) -> Result<(), ImportError>,
) -> Result<Report, ImportError> {
    opts.events.event(&Event::Phase {
        name: "reading",
        total: None,
        unit: Unit::Entries,
    });
    let mut stamps = Stamps::start();
    let result = Package::open(archive, &flat_open())
        .map_err(ImportError::from)
        .and_then(|pkg| {
            stamps.step("opening the package");
            install_package_then(store, pkg, opts, finish)
        });
    opts.events.event(&Event::Finished);
    result
}

fn install_package_then(
    store: &mut dyn Store,
    pkg: Package<'_>,
    opts: &ImportOptions,
    inspect: &mut dyn FnMut(&mut dyn Transaction, &Report) -> Result<(), ImportError>,
) -> Result<Report, ImportError> {
    let name = pkg.archive.name().to_string();
    let package_id = pkg.properties.id().map(|i| i.to_string());
    let meta = OperationMeta {
        description: format!("install {name}"),
        install_id: None,
        package_id: package_id.clone(),
        time: opts.actor.time,
        user: opts.actor.user.clone(),
        options: serde_json::json!({
            "workspace": opts.workspace,
            "mode": opts.mode.map(|m| m.to_string()),
            "acHandling": opts.ac_handling.map(|a| a.name()),
            "dryRun": opts.dry_run,
        }),
    };
    let mut txn = store.begin_operation_in(meta, &opts.workspace)?;
    let mut report = {
        let ns = txn.namespaces()?;
        let (types, warnings) = crate::nodetypes::load(txn.as_ref(), &ns);
        let mut opened = 0;
        let mut r = run(txn.as_mut(), pkg, opts, ns, types, 0, &mut opened)?;
        r.warnings.splice(0..0, warnings);
        r
    };
    report.package = name;
    report.package_id = package_id;
    report.dry_run = opts.dry_run;
    inspect(txn.as_mut(), &report)?;
    let mut stamps = Stamps::start();
    opts.events.event(&Event::Phase {
        name: if opts.dry_run {
            "rolling back"
        } else {
            "committing"
        },
        total: None,
        unit: Unit::Items,
    });
    if opts.dry_run {
        txn.rollback()?;
    } else {
        report.operation = txn.commit()?.map(|id| id.0);
    }
    stamps.step(if opts.dry_run {
        "rolling back"
    } else {
        "committing"
    });
    Ok(report)
}

/// Installs `pkg` (the package or one of its sub packages, at nesting `depth`) in
/// the open transaction; `opened` counts the sub packages installed so far, at every
/// depth, against [`crate::limits::Limits::sub_packages`].
pub(super) fn run(
    txn: &mut dyn Transaction,
    pkg: Package<'_>,
    opts: &ImportOptions,
    ns: NamespaceRegistry,
    types: NodeTypeRegistry,
    depth: usize,
    opened: &mut usize,
) -> Result<Report, ImportError> {
    let Package {
        archive,
        properties: props,
        filter,
        node_types: type_files,
        layout,
        flat,
    } = pkg;
    let mut stamps = Stamps::start();
    let mapping = mapping::of(opts)?;
    let filter = match (filter, &mapping) {
        (Some(f), Some(m)) => Some(f.translate(m)),
        (f, _) => f,
    };
    let ac = opts.ac_handling.unwrap_or_else(|| props.ac_handling());
    // The layout as flat arrays over the archive's listing, not a tree of strings
    // (issue 16): the install opens its package so; a package opened with its tree
    // (a sub package) is flattened from it, and the tree dropped.
    let flat = match flat {
        Some(f) => f,
        None => FlatLayout::from_tree(archive, &layout.root),
    };
    let sub_packages = layout.sub_packages;
    drop(layout.root);
    let flat = match &mapping {
        Some(m) => mapping::remap(archive, &flat, m),
        None => flat,
    };
    let mut plan = Plan::new(flat);
    if let Some(f) = &filter {
        for set in &f.sets {
            plan.add_intermediates(set.root());
        }
    }
    roots::check(&plan, filter.as_ref(), opts)?;
    let missing = dependencies::missing(&*txn, &props)?;
    if !missing.is_empty() && opts.require_dependencies {
        return Err(ImportError::MissingDependencies {
            package: archive.name().to_string(),
            missing,
        });
    }
    let mut s = Session::new(txn, opts, filter, ac, ns, types);
    for d in missing {
        s.report.warn(format!(
            "dependency {d} is not installed in this repository"
        ));
    }
    tree::collect_hints(&plan, &mut s.hints);
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
    super::privileges::register(&mut s, archive)?;
    // Digests read every entry of the package once more, so only an install that
    // skips by them takes (and records) them.
    if depth == 0 && sub_packages.is_empty() && opts.skip_unchanged {
        s.digests = Some(layout_digests(&s, archive, &plan)?);
    }
    stamps.step("preparing the install");
    walk(&mut s, archive, &plan)?;
    stamps.step("walking the content");
    // The blob files the walk wrote become durable beside the checks below (a dry
    // run never commits; a sub package's walk is followed by more of its parent's).
    if depth == 0 && !opts.dry_run {
        s.txn.prepare_commit();
    }
    // What only the walk needs goes before the checks, so that their memory and the
    // walk's do not add up (at a million nodes each path set holds tens of MB).
    drop(plan);
    s.walked();
    super::acl::warn_ignored(&mut s.report);
    // The filter roots were checked above; DocView files of their ancestors may
    // still create nodes elsewhere, and identifier conflicts remove nodes anywhere.
    if let Some(refusal) = s.out_of_bounds.take() {
        return Err(ImportError::OutOfBounds(refusal));
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
    stamps.step("checking in");
    node_types::check(&mut s)?;
    stamps.step("checking node types");
    super::references::check(&mut s)?;
    stamps.step("checking references");
    sub_packages::install(&mut s, archive, &props, &sub_packages, depth, opened)?;
    stamps.step("installing sub packages");
    if let Some(d) = s.digests.take() {
        d.record_into(&mut *s.txn, &s.ws)?;
        stamps.step("recording digests");
    }
    s.path_set_error()?;
    Ok(s.report)
}

/// Walks the plan ([`tree::import_tree`]) with a reader on the other thread reading
/// and parsing the entries ahead ([`super::ahead`]), joined before this returns.
/// An install that skips by digests decided which subtrees it skips before
/// ([`super::digest::Digests::decide`]), and the reader passes over them.
/// Digests wanted beside the walk are taken on a thread of their own meanwhile
/// ([`super::digest::beside`]).
fn walk(s: &mut Session<'_>, archive: &dyn Archive, plan: &Plan<'_>) -> Result<(), ImportError> {
    let Some(base) = s.digests.as_ref().and_then(|d| d.wanted_beside_walk()) else {
        return walk_reading_ahead(s, archive, plan);
    };
    let table = super::digest::beside(archive, plan, &base, || {
        walk_reading_ahead(s, archive, plan)
    })?;
    if let Some(d) = s.digests.as_mut() {
        d.computed(table);
    }
    Ok(())
}

/// [`walk`] itself, with a reader ahead.
fn walk_reading_ahead(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    plan: &Plan<'_>,
) -> Result<(), ImportError> {
    if !super::ahead::enabled() {
        return tree::import_tree(s, archive, plan);
    }
    std::thread::scope(|scope| {
        let filter = s.filter.clone();
        let skips = s.digests.as_ref().and_then(|d| d.skips());
        let Some((ahead, reader)) =
            super::ahead::start(scope, archive, plan, filter, skips, super::ahead::BUDGET)
        else {
            return tree::import_tree(s, archive, plan);
        };
        s.ahead = Some(ahead);
        // The installer's end lives in the session, outside the scope: a panic
        // of the walk would not drop it, and the scope would wait for the reader,
        // which waits for that end to close. So the end is dropped first, then
        // the panic goes on.
        let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tree::import_tree(s, archive, plan)
        }));
        // Dropping the installer's end stops the reader wherever it is.
        drop(s.ahead.take());
        let joined = reader.join();
        let walked = walked.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        walked?;
        joined.map_err(|_| ImportError::ReadAhead {
            message: "the reader panicked".into(),
        })
    })
}

/// The digests of the layout below `root` for this install (see
/// [`super::digest`]): the options, acHandling and the filter go into their base.
fn layout_digests(
    s: &Session<'_>,
    archive: &dyn Archive,
    plan: &Plan<'_>,
) -> Result<super::digest::Digests, ImportError> {
    let o = s.opts;
    let options = format!(
        "ws={:?} mode={:?} ac={:?} id={:?} map={:?} at={:?} strict={} no_acl={} no_auth={} roots={:?} system={} user={:?} deps={} filter={}",
        o.workspace,
        o.mode,
        s.ac,
        o.id_conflict,
        o.mappings,
        o.at,
        o.strict,
        o.no_acl,
        o.no_authorizables,
        o.allow_roots,
        o.allow_system_roots,
        o.session_user,
        o.require_dependencies,
        s.filter.as_ref().map(|f| format!("{f:?}")).unwrap_or_default(),
    );
    // The registries are left out: the content's own DocView files register
    // namespaces as they are imported, so the registries before a re-install are
    // those after the first install, and digests taken over them would never match
    // on the first re-install. Prefixes are never remapped, so stored names mean
    // the same; the package's own node types are in META-INF.
    // A skipped entry is never inflated: a limit lowered since must not be skipped
    // past.
    let limits = format!("{:?}", crate::limits::get());
    let base = super::digest::base(&[options.as_bytes(), limits.as_bytes()], archive)?;
    // When no recorded digest can match, nothing is skipped, and nothing needs the
    // digests before the walk ends.
    if !may_match(s, plan)? {
        return Ok(super::digest::Digests::beside_walk(&base));
    }
    let mut digests = super::digest::Digests::compute(archive, plan, &base)?;
    let filter = s.filter.as_ref();
    digests.decide(
        plan,
        !tree::post_filter(filter),
        |p, keep_all| tree::kept(filter, p, keep_all),
        |p| s.txn.aggregate_digest(&s.ws, p),
    )?;
    if let Some(skips) = digests.skips() {
        tracing::debug!("{} subtrees may be skipped", skips.subtrees());
    }
    Ok(digests)
}

/// Whether a digest recorded in the repository may match one of this install's
/// (else they are taken beside the walk, as for a first install). None can when
/// none is recorded at all, nor at or below any filter root, while every root
/// exists in the repository and is in the filter: a digest recorded at an
/// ancestor of a root was recorded by an install that visited that root (its
/// digest covers the root's layout, so the filter was the same), and recorded
/// the root's digest with it, or skipped the root by its digest; either is still
/// recorded unless something changed below the root since, which cleared the
/// ancestor's too. A root that does not exist (and so had none recorded) or that
/// its own rules exclude (never visited) breaks that chain, and so does a package
/// without a filter (every path of the repository is below its root).
fn may_match(s: &Session<'_>, plan: &Plan<'_>) -> Result<bool, ImportError> {
    if !s.txn.has_aggregate_digests()? {
        return Ok(false);
    }
    let Some(filter) = s.filter.as_ref().filter(|f| !f.sets.is_empty()) else {
        return Ok(true);
    };
    for set in &filter.sets {
        let root = set.root();
        if plan.find(root).is_none()
            || !filter.contains(root)
            || s.txn.node(&s.ws, root)?.is_none()
            || s.txn.has_aggregate_digests_below(&s.ws, root)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Actor, OwnedEvent, Recorded};
    use crate::value::{Date, Value};
    use std::sync::Arc;

    fn package() -> tempfile::TempDir {
        package_of(&[
            (
                "META-INF/vault/filter.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0"><filter root="/content/a"/></workspaceFilter>"#,
            ),
            (
                "jcr_root/content/a/.content.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0"
    jcr:primaryType="nt:folder"/>"#,
            ),
            ("jcr_root/content/a/f.txt", "hello"),
        ])
    }

    /// A package folder holding `files` (path, text).
    fn package_of(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    /// The node type check takes a node as the install added it only while
    /// nothing changed it: `x` is added as an open nt:unstructured, then its own
    /// document makes it an nt:file without the mandatory jcr:content, which the
    /// check must see (`y`, added and left alone, fits).
    #[test]
    fn checks_a_node_changed_after_it_was_added_as_it_is_at_the_end() {
        let ns =
            r#"xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0""#;
        let parent = format!(
            r#"<jcr:root {ns} jcr:primaryType="nt:unstructured">
    <x jcr:primaryType="nt:unstructured" foo="bar"/><y jcr:primaryType="nt:unstructured"/>
</jcr:root>"#
        );
        let own = format!(r#"<jcr:root {ns} jcr:primaryType="nt:file"/>"#);
        let pkg = package_of(&[
            (
                "META-INF/vault/filter.xml",
                r#"<workspaceFilter version="1.0"><filter root="/content/a"/></workspaceFilter>"#,
            ),
            ("jcr_root/content/a/.content.xml", &parent),
            ("jcr_root/content/a/x/.content.xml", &own),
        ]);
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let err = install(store.as_mut(), pkg.path(), &ImportOptions::new(actor()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "/content/a/x: node type constraint violated: mandatory child node jcr:content (of nt:file) is missing"
            ),
            "{err}"
        );
    }

    fn actor() -> Actor {
        Actor {
            user: "ci".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        }
    }

    #[test]
    fn reports_phases_with_totals_and_every_path_to_the_callers_sink() {
        let pkg = package();
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let events = Arc::new(Recorded::default());
        let opts = ImportOptions {
            events: events.clone(),
            ..ImportOptions::new(actor())
        };
        let report = install(store.as_mut(), pkg.path(), &opts).unwrap();
        let got = events.events();
        let phases: Vec<(&str, Option<u64>)> = got
            .iter()
            .filter_map(|e| match e {
                OwnedEvent::Phase { name, total, .. } => Some((name.as_str(), *total)),
                _ => None,
            })
            .collect();
        let names: Vec<&str> = phases.iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            ["reading", "installing", "checking node types", "committing"]
        );
        // `/`, `/content`, `/content/a`, `/content/a/f.txt`.
        assert_eq!(phases[1].1, Some(4));
        assert_eq!(got.last(), Some(&OwnedEvent::Finished));
        // Every unit of the installing phase is advanced, no more.
        let installing = got
            .iter()
            .position(|e| matches!(e, OwnedEvent::Phase { name, .. } if name == "installing"))
            .unwrap();
        let checking = got
            .iter()
            .position(
                |e| matches!(e, OwnedEvent::Phase { name, .. } if name == "checking node types"),
            )
            .unwrap();
        let advanced: u64 = got[installing..checking]
            .iter()
            .map(|e| match e {
                OwnedEvent::Advance { amount } => *amount,
                _ => 0,
            })
            .sum();
        assert_eq!(advanced, 4);
        let paths: Vec<(char, String)> = got
            .iter()
            .filter_map(|e| match e {
                OwnedEvent::Path { action, path } => Some((*action, path.clone())),
                _ => None,
            })
            .collect();
        let reported: Vec<(char, String)> = report
            .entries
            .iter()
            .map(|e| (e.action.letter(), e.path.clone()))
            .collect();
        assert_eq!(paths, reported);
        assert!(paths.contains(&('A', "/content/a/f.txt".to_string())));
    }

    #[test]
    fn the_caller_supplies_user_and_clock() {
        let pkg = package();
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        install(store.as_mut(), pkg.path(), &ImportOptions::new(actor())).unwrap();
        let history = store.history().unwrap();
        let op = history.last().unwrap();
        assert_eq!(op.user, "ci");
        assert_eq!(op.time, actor().time);
        let ws = crate::repository::DEFAULT_WORKSPACE;
        let created = store
            .property(ws, "/content/a/f.txt", "jcr:created")
            .unwrap()
            .unwrap();
        assert_eq!(created.values, [Value::Date(actor().time)]);
        // The content is written as FileVault's admin session writes it.
        let by = store
            .property(ws, "/content/a/f.txt", "jcr:createdBy")
            .unwrap()
            .unwrap();
        assert_eq!(by.values, [Value::String("admin".into())]);
    }

    /// The package of [`package`] with one more folder of two files.
    fn bigger_package() -> tempfile::TempDir {
        let dir = package();
        for (name, text) in [
            ("jcr_root/content/a/b/one.txt", "one"),
            ("jcr_root/content/a/b/two.txt", "two"),
        ] {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn data(store: &dyn crate::repository::Store, p: &str) -> Vec<u8> {
        let ws = crate::repository::DEFAULT_WORKSPACE;
        let prop = store
            .property(ws, &format!("{p}/jcr:content"), "jcr:data")
            .unwrap()
            .unwrap();
        let Some(Value::Binary(crate::value::Binary::Blob { sha256, .. })) = prop.values.first()
        else {
            panic!("{p}: jcr:data is no blob: {prop:?}");
        };
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut store.open_blob(sha256).unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn an_unchanged_reinstall_skips_and_a_change_anywhere_below_is_installed_again() {
        let pkg = bigger_package();
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let opts = ImportOptions {
            skip_unchanged: true,
            ..ImportOptions::new(actor())
        };
        let first = install(store.as_mut(), pkg.path(), &opts).unwrap();
        assert_eq!(first.totals.skipped, 0);
        // Without --skip-unchanged a re-install visits everything, as FileVault's.
        let plain = ImportOptions::new(actor());
        let visited = install(store.as_mut(), pkg.path(), &plain).unwrap();
        assert_eq!(visited.totals.skipped, 0);
        assert!(visited.totals.unchanged > 0);
        assert!(first.totals.added > 0);
        // Unchanged: skipped from the root, nothing written.
        let again = install(store.as_mut(), pkg.path(), &opts).unwrap();
        assert_eq!(again.totals.skipped, 4, "{:?}", again.totals);
        assert_eq!(
            (
                again.totals.added,
                again.totals.updated,
                again.totals.unchanged
            ),
            (0, 0, 0)
        );
        let op = again.operation.unwrap();
        assert!(store
            .operation(crate::repository::OperationId(op))
            .unwrap()
            .touched
            .is_empty());
        // Other options: nothing skipped.
        let merge = ImportOptions {
            mode: Some(crate::filter::ImportMode::Merge),
            skip_unchanged: true,
            ..ImportOptions::new(actor())
        };
        let other = install(store.as_mut(), pkg.path(), &merge).unwrap();
        assert_eq!(other.totals.skipped, 0);
        assert!(other.totals.unchanged > 0);
        install(store.as_mut(), pkg.path(), &opts).unwrap();
        // A change in the package: only the changed file's ancestors are read again.
        std::fs::write(pkg.path().join("jcr_root/content/a/b/two.txt"), "TWO").unwrap();
        let changed = install(store.as_mut(), pkg.path(), &opts).unwrap();
        assert_eq!(data(store.as_ref(), "/content/a/b/two.txt"), b"TWO");
        // `one.txt` and `f.txt` were skipped.
        assert_eq!(changed.totals.skipped, 2, "{:?}", changed.totals);
        assert_eq!(changed.totals.updated, 1, "{:?}", changed.totals);
        // A change in the repository below an aggregate: installed again.
        let ws = crate::repository::DEFAULT_WORKSPACE;
        let mut t = store.begin("edit").unwrap();
        let blob = t.put_blob(&mut &b"changed"[..]).unwrap();
        t.set_property(
            ws,
            "/content/a/b/one.txt/jcr:content",
            &crate::value::Property::single("jcr:data", Value::Binary(blob)),
        )
        .unwrap();
        t.commit().unwrap();
        assert_eq!(data(store.as_ref(), "/content/a/b/one.txt"), b"changed");
        let repaired = install(store.as_mut(), pkg.path(), &opts).unwrap();
        assert_eq!(repaired.totals.skipped, 2, "{:?}", repaired.totals);
        assert_eq!(data(store.as_ref(), "/content/a/b/one.txt"), b"one");
        // Removed in the repository, and brought back by undo: installed again
        // either way.
        let mut t = store
            .begin_operation(crate::repository::contract::meta("rm"))
            .unwrap();
        t.remove_node(ws, "/content/a/b").unwrap();
        let rm = t.commit().unwrap().unwrap();
        let back = install(store.as_mut(), pkg.path(), &opts).unwrap();
        assert!(back.totals.added >= 2, "{:?}", back.totals);
        assert_eq!(data(store.as_ref(), "/content/a/b/one.txt"), b"one");
        // Undo the install, then the removal: the repository is as before the
        // install that re-created `b`, and the next install skips nothing below it.
        store
            .undo(
                crate::repository::OperationId(back.operation.unwrap()),
                false,
                crate::repository::contract::meta("undo"),
            )
            .unwrap();
        store
            .undo(rm, false, crate::repository::contract::meta("undo rm"))
            .unwrap();
        let after_undo = install(store.as_mut(), pkg.path(), &opts).unwrap();
        assert_eq!(after_undo.totals.skipped, 1, "{:?}", after_undo.totals);
        assert_eq!(data(store.as_ref(), "/content/a/b/two.txt"), b"TWO");
        // A dry run skips too, and records nothing.
        let dry = ImportOptions {
            dry_run: true,
            skip_unchanged: true,
            ..ImportOptions::new(actor())
        };
        assert_eq!(
            install(store.as_mut(), pkg.path(), &dry)
                .unwrap()
                .totals
                .skipped,
            4
        );
    }

    #[test]
    fn a_dry_run_labels_its_last_phase_rolling_back() {
        let pkg = package();
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let events = Arc::new(Recorded::default());
        let opts = ImportOptions {
            events: events.clone(),
            dry_run: true,
            ..ImportOptions::new(actor())
        };
        install(store.as_mut(), pkg.path(), &opts).unwrap();
        let got = events.events();
        assert!(got.contains(&OwnedEvent::Phase {
            name: "rolling back".into(),
            total: None,
            unit: crate::events::Unit::Items,
        }));
        assert_eq!(got.last(), Some(&OwnedEvent::Finished));
    }
}
