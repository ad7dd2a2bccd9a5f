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

/// Checks every node the install created or changed against its node types. Unknown
/// types are recorded and reported, not refused; violations of declared types fail.
pub(super) fn check(s: &mut Session<'_>) -> Result<(), ImportError> {
    let mut undeclared = std::collections::BTreeSet::new();
    let paths = std::mem::take(&mut s.to_check);
    s.phase("checking node types", Some(paths.len() as u64), Unit::Paths);
    let mut seen = spill::PathSet::new();
    let mut open_types = std::collections::HashMap::new();
    let mut records = paths.iter();
    for p in &mut records {
        let p: &str = &p;
        s.advance(1);
        if !seen.insert(p) {
            continue;
        }
        // A node with an undeclared type is not checked (reported below); one whose
        // types accept any child is checked without its children read (its property
        // values can still fail, a `{Name}` that is no name).
        let mut complete = true;
        let types = &s.types;
        let mut want_children = |primary: &str, mixins: &[String]| {
            for t in std::iter::once(primary).chain(mixins.iter().map(String::as_str)) {
                if !types.is_known(t) {
                    complete = false;
                    undeclared.insert(t.to_string());
                }
            }
            if !complete {
                return false;
            }
            let key = (primary.to_string(), mixins.to_vec());
            let open = match open_types.get(&key) {
                Some(&o) => o,
                None => {
                    let o = types.accepts_any_content(primary, mixins);
                    open_types.insert(key, o);
                    o
                }
            };
            !open
        };
        let Some(node) = s.txn.node_shallow(&s.ws, p, &mut want_children)? else {
            continue;
        };
        if !complete {
            continue;
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
        return Err(ImportError::ReadBack {
            what: "nodes to check against their node types",
            source: e,
        });
    }
    s.report.undeclared_node_types = undeclared.into_iter().collect();
    Ok(())
}
