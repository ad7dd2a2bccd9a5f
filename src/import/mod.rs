//! Installing a package into a repository with FileVault's semantics (reference §3):
//! one transaction per install (sub packages included), so that an install either
//! applies wholly or leaves the repository as it was; `--dry-run` is the same install
//! rolled back.
//!
//! * [`options`]: what an install may do;
//! * [`report`]: what it did, per path;
//! * `session`: the state of one install; `tree`: the walk over the package layout;
//!   `docview`, `file`, `acl`, `identity`: one kind of content each.

mod acl;
mod docview;
pub mod error;
mod file;
mod identity;
pub mod options;
pub mod report;
mod session;
pub mod spill;
mod tree;

pub use error::ImportError;
pub use options::{IdConflictPolicy, ImportOptions};
pub use report::{Action, Report};

use crate::archive::{self, Archive, ReadOptions};
use crate::cnd::{self, NodeTypeRegistry};
use crate::filter::{PathMapping, WorkspaceFilter};
use crate::namespace::NamespaceRegistry;
use crate::package::{self, IgnoreList, LayoutNode};
use crate::path;
use crate::properties::PackageProperties;
use crate::repository::{OperationMeta, Store, Transaction};
use session::Session;
use std::path::Path;

/// Roots no package may write unless the operator lifts the deny list.
pub const SYSTEM_ROOTS: [&str; 3] = ["/jcr:system", "/rep:security", "/oak:index"];

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
    let props =
        package::read_properties(archive).map_err(|e| ImportError::Malformed(e.to_string()))?;
    let package_id = props.id().map(|i| i.to_string());
    let meta = OperationMeta {
        description: format!("install {}", archive.name()),
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
        let (types, warnings) = load_types(txn.as_ref(), &ns);
        let mut r = run(txn.as_mut(), archive, &props, opts, ns, types, 0)?;
        r.warnings.splice(0..0, warnings);
        r
    };
    report.package = archive.name().to_string();
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

/// The node types the repository knows: built-ins and every registered CND.
pub fn load_types(
    txn: &dyn Transaction,
    ns: &NamespaceRegistry,
) -> (NodeTypeRegistry, Vec<String>) {
    load_types_from(txn, ns)
}

/// [`load_types`] over any reader (a store or a transaction).
pub fn load_types_from(
    txn: &(impl crate::repository::StoreRead + ?Sized),
    ns: &NamespaceRegistry,
) -> (NodeTypeRegistry, Vec<String>) {
    let mut reg = NodeTypeRegistry::new();
    let mut warnings = Vec::new();
    let stored = match txn.node_types() {
        Ok(t) => t,
        Err(e) => {
            return (
                reg,
                vec![format!("cannot read the node type registry: {e}")],
            )
        }
    };
    if stored.is_empty() {
        return (reg, warnings);
    }
    let mut text = String::new();
    for (p, u) in ns.iter() {
        text.push_str(&format!("<'{p}'='{u}'>\n"));
    }
    for (_, cnd) in &stored {
        text.push_str(cnd);
        text.push('\n');
    }
    match cnd::parse(&text, "repository node types") {
        Ok(file) => {
            let mut ns2 = ns.clone();
            if let Err(e) = reg.register_cnd(&file, &mut ns2) {
                warnings.push(format!("registered node types do not load: {e:?}"));
            }
        }
        Err(e) => warnings.push(format!("registered node types do not parse: {e}")),
    }
    (reg, warnings)
}

#[allow(clippy::too_many_arguments)]
fn run(
    txn: &mut dyn Transaction,
    archive: &dyn Archive,
    props: &PackageProperties,
    opts: &ImportOptions,
    ns: NamespaceRegistry,
    types: NodeTypeRegistry,
    depth: usize,
) -> Result<Report, ImportError> {
    if props.package_format_version() > 2 {
        return Err(ImportError::Refused(format!(
            "{}: package format version {} is not supported (at most 2)",
            archive.name(),
            props.package_format_version()
        )));
    }
    let filter =
        package::read_filter(archive).map_err(|e| ImportError::Malformed(e.to_string()))?;
    let mapping = mapping_of(opts)?;
    let filter = match (filter, &mapping) {
        (Some(f), Some(m)) => Some(f.translate(m)),
        (f, _) => f,
    };
    let ac = opts.ac_handling.unwrap_or_else(|| props.ac_handling());
    let mut layout = package::scan(archive, &IgnoreList::default())?;
    // The tree is taken, not copied: it has a node per package path.
    let root = match &mapping {
        Some(m) => remap(&layout.root, m),
        None => std::mem::take(&mut layout.root),
    };
    let mut root = root;
    if let Some(f) = &filter {
        for set in &f.sets {
            add_intermediates(&mut root, set.root());
        }
    }
    check_roots(&root, filter.as_ref(), opts)?;
    let missing = missing_dependencies(&*txn, props)?;
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
    collect_hints(&root, &mut s.hints);
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
    register_node_types(&mut s, archive, props, &layout.cnds)?;
    tree::import_tree(&mut s, archive, &root)?;
    acl::warn_ignored(&mut s.report);
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
    check_types(&mut s)?;
    sub_packages(&mut s, archive, props, &layout.sub_packages, depth)?;
    Ok(s.report)
}

/// The dependencies of `props` that no install recorded in the repository satisfies
/// (installs that were undone do not count).
fn missing_dependencies(
    txn: &dyn Transaction,
    props: &PackageProperties,
) -> Result<Vec<String>, ImportError> {
    let deps = match props.dependencies() {
        Ok(d) => d,
        Err(e) => {
            return Err(ImportError::Malformed(format!(
                "{}: dependencies: {e}",
                package::PROPERTIES_ENTRY
            )))
        }
    };
    if deps.is_empty() {
        return Ok(Vec::new());
    }
    let history = txn.history()?;
    let undone: std::collections::HashSet<i64> = history
        .iter()
        .filter_map(|o| o.undoes.map(|u| u.0))
        .collect();
    let installed: Vec<crate::package_id::PackageId> = history
        .iter()
        .filter(|o| !undone.contains(&o.id.0))
        .filter_map(|o| o.package_id.as_deref())
        .filter_map(|id| crate::package_id::PackageId::parse(id).ok())
        .collect();
    Ok(deps
        .iter()
        .filter(|d| !installed.iter().any(|i| d.matches(i)))
        .map(|d| d.to_string())
        .collect())
}

fn mapping_of(opts: &ImportOptions) -> Result<Option<PathMapping>, ImportError> {
    if let Some(at) = &opts.at {
        let at =
            path::normalize(at).map_err(|e| ImportError::Refused(format!("--at {at}: {e}")))?;
        if at != "/" {
            return Ok(Some(PathMapping::at(&at)));
        }
    }
    if opts.mappings.is_empty() {
        return Ok(None);
    }
    Ok(Some(PathMapping::Links(opts.mappings.clone())))
}

fn map_path(m: &PathMapping, p: &str) -> String {
    if p == "/" {
        let r = m.map("/");
        let r = r.trim_end_matches('/');
        return if r.is_empty() {
            "/".into()
        } else {
            r.to_string()
        };
    }
    m.map(p)
}

/// The layout with every path mapped (`--at`, `--map`).
fn remap(root: &LayoutNode, m: &PathMapping) -> LayoutNode {
    let mut out = LayoutNode {
        segment: String::new(),
        path: "/".into(),
        ..LayoutNode::default()
    };
    fn walk(n: &LayoutNode, m: &PathMapping, out: &mut LayoutNode) {
        let target = map_path(m, &n.path);
        let dst = node_at(out, &target);
        dst.dir = n.dir.clone();
        dst.docview = n.docview.clone();
        dst.full_coverage = n.full_coverage;
        dst.file = n.file.clone();
        dst.binaries = n.binaries.clone();
        for c in n.children.values() {
            walk(c, m, out);
        }
    }
    walk(root, m, &mut out);
    out
}

fn node_at<'a>(root: &'a mut LayoutNode, p: &str) -> &'a mut LayoutNode {
    let mut n = root;
    for seg in path::segments(p) {
        n = n.child_mut(seg);
    }
    n
}

fn add_intermediates(root: &mut LayoutNode, filter_root: &str) {
    node_at(root, filter_root);
}

fn collect_hints(n: &LayoutNode, out: &mut spill::PathSet) {
    if !n.is_empty() {
        out.insert(&n.path);
    }
    for c in n.children.values() {
        collect_hints(c, out);
    }
}

/// Refuses packages that write system roots or outside `--allow-root`, before
/// anything is written.
fn check_roots(
    root: &LayoutNode,
    filter: Option<&WorkspaceFilter>,
    opts: &ImportOptions,
) -> Result<(), ImportError> {
    let mut written: Vec<String> = filter
        .map(|f| f.sets.iter().map(|s| s.root().to_string()).collect())
        .unwrap_or_default();
    fn content(n: &LayoutNode, out: &mut Vec<String>) {
        if !n.is_empty() && n.path != "/" && n.children.is_empty() {
            out.push(n.path.clone());
        }
        for c in n.children.values() {
            content(c, out);
        }
    }
    if filter.is_none_or(|f| f.sets.is_empty()) {
        content(root, &mut written);
    }
    for w in &written {
        if let Some(refusal) = out_of_bounds(w, false, opts) {
            return Err(ImportError::Refused(refusal));
        }
    }
    Ok(())
}

/// Why writing `w` is refused: below a system root the deny list holds, or outside
/// `--allow-root`. `creates_ancestor`: `w` is a node created on the way down, which
/// may be an ancestor of an allowed root.
pub(crate) fn out_of_bounds(
    w: &str,
    creates_ancestor: bool,
    opts: &ImportOptions,
) -> Option<String> {
    if !opts.allow_system_roots {
        if let Some(sys) = SYSTEM_ROOTS
            .iter()
            .find(|r| path::is_self_or_descendant(w, r))
        {
            return Some(format!(
                "{w}: the package writes below the system root {sys}; --allow-system-roots lifts this"
            ));
        }
    }
    if !opts.allow_roots.is_empty()
        && !opts.allow_roots.iter().any(|a| {
            path::is_self_or_descendant(w, a)
                || (creates_ancestor && path::is_self_or_descendant(a, w))
        })
    {
        return Some(format!(
            "{w}: the package writes outside the allowed roots ({})",
            opts.allow_roots.join(", ")
        ));
    }
    None
}

fn register_node_types(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    props: &PackageProperties,
    content_cnds: &[(String, String)],
) -> Result<(), ImportError> {
    let mut entries: Vec<String> = package::metadata_cnds(archive);
    if let Ok(re) = regex::Regex::new(&format!("^(?:{})$", props.cnd_pattern())) {
        for (entry, repo_path) in content_cnds {
            if re.is_match(repo_path) {
                entries.push(entry.clone());
            }
        }
    }
    for entry in entries {
        let bytes = archive.read_to_vec(&entry)?;
        let file = cnd::parse_bytes(&bytes, &format!("{}:{entry}", archive.name()))
            .map_err(|e| ImportError::Malformed(e.to_string()))?;
        let before: Vec<(String, String)> =
            s.ns.iter()
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
        let report = s.types.register_cnd(&file, &mut s.ns).map_err(|e| {
            ImportError::Refused(format!("{entry}: node types cannot be registered: {e:?}"))
        })?;
        let new_ns: Vec<(String, String)> =
            s.ns.iter()
                .filter(|(p, u)| !before.iter().any(|(bp, bu)| bp == p && bu == u))
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
        for (p, u) in new_ns {
            s.txn.register_namespace(&p, &u)?;
            s.report.registered_namespaces.push(format!("{p}={u}"));
        }
        for name in &report.added {
            if let Some(def) = s.types.get(name) {
                let text = cnd::write_with(std::slice::from_ref(def), &s.ns)
                    .map_err(|e| ImportError::Refused(format!("{name}: {e:?}")))?;
                s.txn.register_node_type(name, &text)?;
                s.report.registered_node_types.push(name.clone());
            }
        }
        for name in &report.skipped_different {
            s.report.warn(format!(
                "{entry}: node type {name} is already registered with a different definition; kept"
            ));
        }
    }
    Ok(())
}

/// Checks every node the install created or changed against its node types. Unknown
/// types are recorded and reported, not refused; violations of declared types fail.
fn check_types(s: &mut Session<'_>) -> Result<(), ImportError> {
    let mut undeclared = std::collections::BTreeSet::new();
    let paths = std::mem::take(&mut s.to_check);
    let mut seen = spill::PathSet::new();
    let mut open_types = std::collections::HashMap::new();
    let mut records = paths.iter();
    for p in &mut records {
        let p: &str = &p;
        if !seen.insert(p) {
            continue;
        }
        let Some(info) = s.node(&p)? else { continue };
        let mut complete = true;
        for t in std::iter::once(&info.primary_type).chain(info.mixins.iter()) {
            if !s.types.is_known(t) {
                complete = false;
                undeclared.insert(t.clone());
            }
        }
        // A node with an undeclared type is not checked (reported above); one whose
        // types accept any child is checked without its children read (its property
        // values can still fail, a `{Name}` that is no name).
        if !complete {
            continue;
        }
        let key = (info.primary_type.clone(), info.mixins.clone());
        let open = match open_types.get(&key) {
            Some(&o) => o,
            None => {
                let o = s
                    .types
                    .accepts_any_content(&info.primary_type, &info.mixins);
                open_types.insert(key, o);
                o
            }
        };
        let mut node = crate::node::Node::new(info.name.clone(), info.primary_type.clone());
        node.mixins = info.mixins.clone();
        for prop in s.txn.properties(&s.ws, &p)? {
            node.set(prop);
        }
        let children = if open {
            Vec::new()
        } else {
            s.txn.children(&s.ws, &p)?
        };
        for c in children {
            let mut cn = crate::node::Node::new(c.name.clone(), c.primary_type.clone());
            cn.mixins = c.mixins.clone();
            node.children.push(cn);
        }
        let violations: Vec<_> = s
            .types
            .check_node(&node)
            .into_iter()
            .filter(|v| v.is_error())
            .collect();
        if let Some(v) = violations.first() {
            let mode = s.mode(&p);
            let msg = format!("{p}: node type constraint violated: {v}");
            // Other modes tolerate constraint violations (reference §3.5).
            if mode == crate::filter::ImportMode::Replace {
                s.fail_or_warn(&p, msg)?;
            } else {
                s.report.warn(msg);
            }
        }
    }
    if let Some(e) = records.error {
        return Err(ImportError::Malformed(format!(
            "the list of nodes to check against their node types could not be read back: {e}"
        )));
    }
    s.report.undeclared_node_types = undeclared.into_iter().collect();
    Ok(())
}

fn sub_packages(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    props: &PackageProperties,
    subs: &[(String, String)],
    depth: usize,
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
        let tmp = tempfile::NamedTempFile::new()
            .map_err(|e| ImportError::Malformed(format!("temporary file: {e}")))?;
        {
            let mut r = archive.open(entry)?;
            let mut f = tmp.as_file();
            std::io::copy(&mut r, &mut f)
                .map_err(|e| ImportError::Malformed(format!("{entry}: {e}")))?;
        }
        let sub = archive::open(tmp.path(), &ReadOptions::default())?;
        let sub_props = package::read_properties(sub.as_ref())
            .map_err(|e| ImportError::Malformed(e.to_string()))?;
        let id = sub_props
            .id()
            .unwrap_or_else(|| PackageId::from_path(repo_path));
        match handling.option_for(&id) {
            SubPackageOption::Ignore | SubPackageOption::Add => continue,
            _ => {}
        }
        if depth + 1 > s.opts.max_sub_package_depth {
            return Err(ImportError::Refused(format!(
                "{repo_path}: sub packages nested deeper than {}",
                s.opts.max_sub_package_depth
            )));
        }
        let ns = s.ns.clone();
        let (types, _) = load_types(&*s.txn, &ns);
        let mut sub_opts = s.opts.clone();
        sub_opts.mode = None;
        sub_opts.ac_handling = None;
        sub_opts.at = None;
        sub_opts.mappings.clear();
        let mut r = run(
            &mut *s.txn,
            sub.as_ref(),
            &sub_props,
            &sub_opts,
            ns,
            types,
            depth + 1,
        )?;
        r.package = repo_path.clone();
        r.package_id = Some(id.to_string());
        s.ns = s.txn.namespaces()?;
        s.report.sub_packages.push(r);
    }
    Ok(())
}
