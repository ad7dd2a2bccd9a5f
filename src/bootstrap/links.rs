//! Links that no longer resolve (magnolia.md §4): Magnolia links across workspaces
//! by identifier, as `jcr:<uuid>` strings (`'image': 'jcr:090eb9c4-…'`), bare UUID
//! strings (`destination: ['7ec72c48-…']`) and Reference / WeakReference values. After
//! a restore of some workspaces, content in the others may point at nodes that are
//! gone; [`check`] lists every such link, per workspace and path.
//!
//! A link resolves when a node with that identifier exists in any workspace of the
//! repository. `jcr:uuid` itself and the repository's own `jcr:` properties (version
//! references) are not links. Walking is streaming; the identifiers looked up are
//! cached.

use std::collections::HashMap;

use crate::repository::{RepositoryError, StoreRead};
use crate::value::Value;

/// A link whose target no workspace has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dangling {
    /// The workspace of the node holding the link.
    pub workspace: String,
    /// That node's path.
    pub path: String,
    /// The property.
    pub property: String,
    /// The value as stored (`jcr:…` or the identifier).
    pub value: String,
}

/// The identifier a value links to, if it is a link.
pub fn link_target(v: &Value) -> Option<&str> {
    match v {
        Value::Reference(u) | Value::WeakReference(u) => Some(u),
        Value::String(s) => {
            let id = s.strip_prefix("jcr:").unwrap_or(s);
            is_uuid(id).then_some(id)
        }
        _ => None,
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Every link in `workspaces` (all of the repository's when empty) whose target is
/// in no workspace of `store`.
pub fn check(
    store: &dyn StoreRead,
    workspaces: &[String],
) -> Result<Vec<Dangling>, RepositoryError> {
    let all = store.workspaces()?;
    let scan: Vec<String> = if workspaces.is_empty() {
        all.clone()
    } else {
        workspaces
            .iter()
            .filter(|w| all.contains(w))
            .cloned()
            .collect()
    };
    let mut known: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for ws in &scan {
        for e in store.walk(ws, "/")? {
            let e = e?;
            for p in e.node.properties.values() {
                if p.name == "jcr:uuid" || p.name.starts_with("jcr:") {
                    continue;
                }
                for v in &p.values {
                    let Some(id) = link_target(v) else { continue };
                    let found = match known.get(id) {
                        Some(f) => *f,
                        None => {
                            let mut f = false;
                            for w in &all {
                                if store.find_by_uuid(w, id)?.is_some() {
                                    f = true;
                                    break;
                                }
                            }
                            known.insert(id.to_string(), f);
                            f
                        }
                    };
                    if !found {
                        out.push(Dangling {
                            workspace: ws.clone(),
                            path: e.path.clone(),
                            property: p.name.clone(),
                            value: v.to_string(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magnolias_link_forms() {
        let u = "090eb9c4-b35b-4869-a12f-6ea80292cba4";
        assert_eq!(link_target(&Value::String(format!("jcr:{u}"))), Some(u));
        assert_eq!(link_target(&Value::String(u.into())), Some(u));
        assert_eq!(link_target(&Value::WeakReference(u.into())), Some(u));
        assert_eq!(link_target(&Value::String("jcr:content".into())), None);
        assert_eq!(link_target(&Value::String(format!("x{u}"))), None);
        assert_eq!(link_target(&Value::Long(1)), None);
    }
}
