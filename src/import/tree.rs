//! Walking the package's layout in repository order (reference §3.1 steps 3-7):
//! post-filter, then per node its DocView, file, folder or filter-root intermediate,
//! parents before children, children towards filter roots first.

use super::error::ImportError;
use super::plan::{Id, Plan};
use super::report::Action;
use super::session::Session;
use crate::archive::Archive;
use crate::events::Unit;
use crate::filter::ImportMode;
use crate::node::Node;
use crate::path;
use crate::properties::AcHandling;
use crate::repository::AddOptions;

/// Imports the whole layout, from its root.
pub fn import_tree(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    plan: &Plan<'_>,
) -> Result<(), ImportError> {
    let root = plan.root();
    s.phase("installing", Some(plan.count(root)), Unit::Paths);
    visit(
        s,
        archive,
        plan,
        root,
        "/",
        !post_filter(s.filter.as_ref()),
        false,
    )
}

/// Whether the walk goes by the filter (else it keeps everything from the root).
pub(super) fn post_filter(filter: Option<&crate::filter::WorkspaceFilter>) -> bool {
    filter.is_some_and(|f| !f.sets.is_empty())
}

/// Whether the walk goes below package path `p` (`None`: it does not), and whether
/// it keeps everything below (`keep_all`: everything above was kept), as [`visit`]
/// decides by `filter` while no authorizable is remapped. The reader ahead and
/// the decision of what is skipped walk by it.
pub(super) fn kept(
    filter: Option<&crate::filter::WorkspaceFilter>,
    p: &str,
    keep_all: bool,
) -> Option<bool> {
    if keep_all || filter.is_some_and(|f| f.contains(p)) {
        Some(true)
    } else if filter.is_some_and(|f| f.is_ancestor(p)) || p == "/" {
        Some(false)
    } else {
        None
    }
}

/// Visits layout node `n` at package path `n_path` and its subtree. `checking`:
/// the recorded digest of every node is looked up (below a subtree that was
/// decided skipped before the walk, [`super::digest::Digests::decide`], but whose
/// digest was cleared since); otherwise only that of nodes decided skipped.
fn visit(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    plan: &Plan<'_>,
    n: Id,
    n_path: &str,
    keep_all: bool,
    checking: bool,
) -> Result<(), ImportError> {
    let mut keep_all = keep_all;
    if !keep_all {
        if s.contains(n_path) {
            keep_all = true;
        } else if !(s.is_ancestor(n_path) || n_path == "/") {
            s.advance(plan.count(n));
            return Ok(());
        }
    }
    // The reader ahead passes over a subtree decided skipped: it is visited without
    // it (asking it for an entry it passed over would drain it), and if it is
    // installed after all, its entries are read here.
    if !checking && s.digests.as_ref().is_some_and(|d| d.decided_skip(n)) {
        let ahead = s.ahead.take();
        let visited = visit(s, archive, plan, n, n_path, keep_all, true);
        s.ahead = ahead;
        return visited;
    }
    // Below an authorizable that exists elsewhere, the content goes below that one.
    let p = s.repo_path(n_path);
    super::session::check_depth(&p)?;
    // Digests taken beside the walk are not there yet (nothing is skipped then),
    // but the node is recorded all the same.
    let digests = s.digests.as_ref().filter(|_| s.remapped.is_empty());
    let recorded = digests.is_some();
    if let Some(d) = digests
        .filter(|d| checking || d.may_skip(n))
        .and_then(|d| d.of(n))
        .filter(|_| s.opts.skip_unchanged)
    {
        if s.txn.aggregate_digest(&s.ws, &p)?.as_deref() == Some(&d[..]) {
            s.advance(plan.count(n));
            s.report.totals.skipped += plan.aggregates(n);
            return Ok(());
        }
    }
    // An access control list left out (acHandling ignore) is said once, after the
    // walk: its subtree is not clean either, so that a re-install says it again.
    let marks = |s: &Session<'_>| {
        (
            s.report.warnings.len(),
            s.report.totals.errors,
            s.report.ignored_acls.len(),
        )
    };
    let before = marks(s);
    s.advance(1);
    if let Some(entry) = plan.docview(n) {
        if plan.file(n).is_some() {
            s.file_content.insert(path::join(&p, "jcr:content"));
            s.file_content.insert(p.clone());
        }
        let listed_before = s.name_lists.len();
        let file = plan.file(n);
        if file.is_some() {
            // The DocView's lines wait for the file's data (`Session::hold`).
            s.hold();
        }
        let imported = import_docview_entry(s, archive, entry, &p);
        forget_unread_name_lists(s, plan, listed_before);
        let described = match (imported, file) {
            (Ok(true), Some(file)) => super::file::import_file(s, archive, file, &p, true),
            (imported, _) => imported.map(|_| ()),
        };
        s.release();
        described?;
    } else if let Some(file) = plan.file(n) {
        super::file::import_file(s, archive, file, &p, false)?;
    } else if plan.has_dir(n) {
        folder(s, &p)?;
    } else {
        intermediate(s, &p)?;
    }
    super::file::apply_binaries(s, archive, &p, &plan.binaries(n))?;
    for child in ordered_children(s.filter.as_ref(), plan, n, n_path) {
        let child_path = path::join(n_path, plan.segment(child));
        visit(s, archive, plan, child, &child_path, keep_all, checking)?;
    }
    if plan.docview(n).is_none() && plan.file(n).is_none() && plan.has_dir(n) {
        folder_cleanup(s, plan, n, n_path)?;
    }
    if plan.has_children(n) {
        if let Some(names) = s.name_lists.swap_remove(&p) {
            super::docview::restore_order(s, &p, &names)?;
        }
    }
    // A subtree that warned or failed is installed again next time, to say so again.
    if recorded {
        let clean = marks(s) == before;
        if clean && s.remapped.is_empty() && s.out_of_bounds.is_none() {
            if let Some(g) = s.digests.as_mut() {
                g.record(&p, n);
            }
        }
    }
    Ok(())
}

/// Forgets the child name lists a document left for nodes that have no children
/// in their own files: only a layout node with children orders again after them
/// (in [`visit`]), so the others would be held, unread, until the walk ends (tens of
/// MB at a million nodes). Below a remapped authorizable the paths are not the
/// layout's: everything is kept then. Only the lists the document left (those after
/// the first `listed_before`) are looked at: the older ones were kept for children.
fn forget_unread_name_lists(s: &mut Session<'_>, plan: &Plan<'_>, listed_before: usize) {
    if !s.remapped.is_empty() {
        return;
    }
    let mut i = listed_before;
    while let Some((p, _)) = s.name_lists.get_index(i) {
        if plan.find(p).is_some_and(|n| plan.has_children(n)) {
            i += 1;
        } else {
            // The last list takes its place: one the document left, looked at next.
            s.name_lists.swap_remove_index(i);
        }
    }
}

/// Parses and imports one DocView entry. Returns false when it was skipped: it did
/// not parse (lenient), or `merge` left its existing node whole.
fn import_docview_entry(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    entry: &str,
    p: &str,
) -> Result<bool, ImportError> {
    // Parsed ahead on the other thread, or read and parsed here.
    let parsed = match s.read_ahead_doc(entry)? {
        Some(parsed) => parsed,
        None => {
            let bytes = archive.read_to_vec(entry)?;
            super::ahead::parse_docview(archive, entry, &bytes)
        }
    };
    match parsed {
        Ok(doc) => {
            for w in &doc.warnings {
                s.report.warn(format!("{}: {}", w.location, w.message));
            }
            ensure_parent(s, p)?;
            super::docview::import_document(s, &doc, p)
        }
        Err(e) => {
            if s.opts.strict {
                return Err(ImportError::DocView {
                    entry: entry.to_string(),
                    path: p.to_string(),
                    source: e,
                });
            }
            s.record_error(p, e.to_string());
            Ok(false)
        }
    }
}

/// The children of `n` in the order the walk visits them (the reader ahead walks so
/// too): those towards the filter's roots first.
pub(super) fn ordered_children(
    filter: Option<&crate::filter::WorkspaceFilter>,
    plan: &Plan<'_>,
    n: Id,
    n_path: &str,
) -> Vec<Id> {
    let all = plan.children(n);
    let mut out: Vec<Id> = Vec::with_capacity(all.len());
    if let Some(names) = filter.and_then(|f| f.direct_child_names_towards_roots(n_path)) {
        for name in names {
            if let Some(c) = plan.child(n, &name) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }
    if out.is_empty() {
        return all;
    }
    for c in all {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Creates the missing ancestors of `p` as FileVault does (reference §3.6): nt:folder
/// when contained, else the parent's default child type or nt:folder.
pub fn ensure_parent(s: &mut Session<'_>, p: &str) -> Result<(), ImportError> {
    let Some(parent) = path::parent(p) else {
        return Ok(());
    };
    if s.node(parent)?.is_some() {
        return Ok(());
    }
    ensure_parent(s, parent)?;
    create_folder(s, parent)
}

fn create_folder(s: &mut Session<'_>, p: &str) -> Result<(), ImportError> {
    let parent = path::parent(p).unwrap_or("/");
    let Some(pi) = s.node(parent)? else {
        return Ok(());
    };
    let name = path::name(p).to_string();
    let t = if s.contains(p) {
        "nt:folder".to_string()
    } else {
        s.types
            .intermediate_node_type(&pi.primary_type, &pi.mixins, &name)
    };
    let mut node = Node::new(name, t);
    super::docview::autocreate(s, &mut node, p);
    s.add_node(p, &node, &AddOptions::append())
}

/// A folder without `.content.xml` (reference §3.7).
fn folder(s: &mut Session<'_>, p: &str) -> Result<(), ImportError> {
    if s.processed.contains(p) {
        return Ok(());
    }
    match s.node(p)? {
        None => {
            ensure_parent(s, p)?;
            create_folder(s, p)?;
        }
        Some(info) => {
            if s.contains(p)
                && s.mode(p) == ImportMode::Replace
                && info.primary_type != "nt:folder"
                && p != "/"
            {
                for prop in s.txn.properties(&s.ws, p)? {
                    if s.types.is_protected_property(
                        &info.primary_type,
                        &info.mixins,
                        &prop.name,
                        prop.ptype,
                        prop.multiple,
                    ) || prop.name == "jcr:uuid"
                    {
                        continue;
                    }
                    s.txn.remove_property(&s.ws, p, &prop.name)?;
                }
                s.txn.set_primary_type(&s.ws, p, "nt:folder")?;
                s.touched(p, Action::Replaced, true);
            }
        }
    }
    Ok(())
}

/// After a contained folder in `replace`: remove contained children the package lacks.
fn folder_cleanup(s: &mut Session<'_>, plan: &Plan<'_>, n: Id, p: &str) -> Result<(), ImportError> {
    if !s.contains(p) || s.mode(p) != ImportMode::Replace || s.node(p)?.is_none() {
        return Ok(());
    }
    let names: Vec<String> = plan
        .children(n)
        .into_iter()
        .map(|c| plan.segment(c).to_string())
        .collect();
    super::docview::delete_missing_children(s, p, &names)
}

/// A filter root (or its ancestor) the package has nothing for: in `replace`, a
/// contained existing node is deleted.
fn intermediate(s: &mut Session<'_>, p: &str) -> Result<(), ImportError> {
    if s.processed.contains(p) || !s.contains(p) || s.mode(p) != ImportMode::Replace || p == "/" {
        return Ok(());
    }
    let Some(info) = s.node(p)? else {
        return Ok(());
    };
    if crate::validate::accesscontrol::ACL_TYPES.contains(&info.primary_type.as_str())
        && !matches!(s.ac, AcHandling::Overwrite | AcHandling::Clear)
    {
        return Ok(());
    }
    super::references::remove_node(s, p)?;
    s.record(p, Action::Deleted);
    // The removed root may have been a mandatory child of its parent (an nt:file's
    // jcr:content): Oak refuses the save then (MandatoryNodeIT).
    if let Some(parent) = crate::path::parent(p).filter(|q| *q != "/") {
        s.to_check.push(parent);
    }
    Ok(())
}

/// Every repository path the package has an entry for.
pub fn collect_hints(plan: &Plan<'_>, out: &mut super::spill::PathSet) {
    plan.walk(|id, p| {
        if !plan.is_empty(id) {
            out.insert(p);
        }
    });
}
