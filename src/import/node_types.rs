//! Node types in an install: the package's CND files registered before its content,
//! and every node the install created or changed checked against its types after.

use super::error::ImportError;
use super::session::Session;
use super::spill;
use crate::cnd;
use crate::events::Unit;
use crate::package::NodeTypeFile;

/// Registers the node types (and the namespaces they declare) of the package's CND
/// files; a type registered already with another definition is kept and reported.
pub(super) fn register(s: &mut Session<'_>, files: Vec<NodeTypeFile>) -> Result<(), ImportError> {
    for NodeTypeFile { entry, cnd } in files {
        let file = cnd?;
        let before: Vec<(String, String)> =
            s.ns.iter()
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
        let report =
            s.types
                .register_cnd(&file, &mut s.ns)
                .map_err(|source| ImportError::NodeTypes {
                    entry: entry.clone(),
                    source,
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
                let text = cnd::write_with(std::slice::from_ref(def), &s.ns).map_err(|source| {
                    ImportError::NodeTypeText {
                        name: name.clone(),
                        source,
                    }
                })?;
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

/// Paths whose nodes are read together (one batched read of rows, of
/// properties and of children on a backend with round trips).
const BATCH: usize = 256;

/// Checks every node the install created or changed against its node types. Unknown
/// types are recorded and reported, not refused; violations of declared types fail.
///
/// The nodes are read [`BATCH`] paths at a time ([`crate::repository::StoreRead::nodes_shallow`])
/// and checked in order; a batch whose read fails is read again a path at a
/// time, so an error is met where a read of each path on its own meets it,
/// after the problems of the paths before it.
pub(super) fn check(s: &mut Session<'_>) -> Result<(), ImportError> {
    let mut undeclared = std::collections::BTreeSet::new();
    let paths = std::mem::take(&mut s.to_check);
    s.phase("checking node types", Some(paths.len() as u64), Unit::Paths);
    let mut seen = spill::PathSet::new();
    let mut open_types = OpenTypes::new();
    let mut records = paths.iter();
    // The paths to check next, each with the progress it stands for (itself
    // and the repeated paths before it).
    let mut batch: Vec<(String, u64)> = Vec::with_capacity(BATCH);
    let mut skipped = 0u64;
    for p in &mut records {
        let p: &str = &p;
        skipped += 1;
        if !seen.insert(p) {
            continue;
        }
        batch.push((p.to_string(), skipped));
        skipped = 0;
        if batch.len() == BATCH {
            check_batch(s, &batch, &mut undeclared, &mut open_types)?;
            batch.clear();
        }
    }
    check_batch(s, &batch, &mut undeclared, &mut open_types)?;
    s.advance(skipped);
    if let Some(e) = records.error {
        return Err(ImportError::ReadBack {
            what: "nodes to check against their node types",
            source: e,
        });
    }
    s.report.undeclared_node_types = undeclared.into_iter().collect();
    Ok(())
}

/// Whether a node of these types is checked with its children: its types are
/// all declared (else they are recorded in `undeclared` and it is not checked)
/// and some of them does not accept any child.
fn wants_children(
    types: &cnd::NodeTypeRegistry,
    undeclared: &mut std::collections::BTreeSet<String>,
    open_types: &mut OpenTypes,
    primary: &str,
    mixins: &[String],
) -> bool {
    if !declared(types, undeclared, primary, mixins) {
        return false;
    }
    let known = open_types
        .get(primary)
        .and_then(|m| m.iter().find(|(k, _)| k.as_slice() == mixins));
    let open = match known {
        Some(&(_, o)) => o,
        None => {
            let o = types.accepts_any_content(primary, mixins);
            open_types
                .entry(primary.to_string())
                .or_default()
                .push((mixins.to_vec(), o));
            o
        }
    };
    !open
}

/// Per primary type, per list of mixins: whether such a node accepts any child
/// (looked up without building a key).
type OpenTypes = std::collections::HashMap<String, Vec<(Vec<String>, bool)>>;

/// Whether all the types are declared; those that are not are recorded.
fn declared(
    types: &cnd::NodeTypeRegistry,
    undeclared: &mut std::collections::BTreeSet<String>,
    primary: &str,
    mixins: &[String],
) -> bool {
    let mut all = true;
    for t in std::iter::once(primary).chain(mixins.iter().map(String::as_str)) {
        if !types.is_known(t) {
            all = false;
            undeclared.insert(t.to_string());
        }
    }
    all
}

/// Reads and checks the nodes at `batch`'s paths, in order (see [`check`]).
fn check_batch(
    s: &mut Session<'_>,
    batch: &[(String, u64)],
    undeclared: &mut std::collections::BTreeSet<String>,
    open_types: &mut OpenTypes,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    // A node with an undeclared type is not checked (reported below); one whose
    // types accept any child is checked without its children read (its property
    // values can still fail, a `{Name}` that is no name).
    let paths: Vec<&str> = batch.iter().map(|(p, _)| p.as_str()).collect();
    let read = {
        let types = &s.types;
        let mut want = |primary: &str, mixins: &[String]| {
            wants_children(types, undeclared, open_types, primary, mixins)
        };
        s.txn.nodes_shallow(&s.ws, &paths, &mut want)
    };
    // A batch that cannot be read is read again one by one below, so that the
    // problems of the paths before the one that fails are reported first; the
    // error is the batch's (a failed statement can leave the transaction
    // unable to answer the next).
    let (nodes, mut failed) = match read {
        Ok(nodes) => (nodes.into_iter().map(Some).collect(), None),
        Err(e) => (vec![None; batch.len()], Some(e)),
    };
    for ((p, progress), node) in batch.iter().zip(nodes) {
        s.advance(*progress);
        let node = match node {
            Some(node) => node,
            None => {
                let types = &s.types;
                let mut want = |primary: &str, mixins: &[String]| {
                    wants_children(types, undeclared, open_types, primary, mixins)
                };
                match s.txn.node_shallow(&s.ws, p, &mut want) {
                    Ok(node) => node,
                    Err(e) => return Err(failed.take().unwrap_or(e).into()),
                }
            }
        };
        let Some(node) = node else {
            continue;
        };
        if !declared(
            &s.types,
            &mut Default::default(),
            &node.primary_type,
            &node.mixins,
        ) {
            continue;
        }
        let violations: Vec<_> = s
            .types
            .check_node(&node)
            .into_iter()
            .filter(|v| v.is_error())
            .collect();
        if let Some(v) = violations.first() {
            let mode = s.mode(p);
            let msg = format!("{p}: node type constraint violated: {v}");
            // Other modes tolerate constraint violations (reference §3.5).
            if mode == crate::filter::ImportMode::Replace {
                s.fail_or_warn(p, msg)?;
            } else {
                s.report.warn(msg);
            }
        }
    }
    Ok(())
}
