//! Node-level and property-level differences between two states of a repository:
//! what `jcrpack diff` shows before an install writes anything.

use crate::repository::{Result, StoreRead};
use crate::value::Property;
use serde::Serialize;

/// How one property differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// The property name.
    pub name: String,
    /// The value before (its JCR string form; multi-values as `[a, b]`), or `None` when new.
    pub before: Option<String>,
    /// The value after, or `None` when removed.
    pub after: Option<String>,
}

/// What happens to one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeChange {
    /// The node path.
    pub path: String,
    /// `added`, `deleted` (with its subtree) or `changed`.
    pub change: &'static str,
    /// Primary type before → after, when it changes (or the type of an added node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_type: Option<(Option<String>, Option<String>)>,
    /// Mixins before → after, when they change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixins: Option<(Vec<String>, Vec<String>)>,
    /// Property changes, sorted by name.
    pub properties: Vec<PropertyChange>,
}

/// Formats a property's values for display.
pub fn display_value(p: &Property) -> String {
    let v: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
    if p.multiple {
        format!("[{}]", v.join(", "))
    } else {
        v.into_iter().next().unwrap_or_default()
    }
}

/// Compares the node at `path` in `before` and `after` (one workspace). Returns
/// `None` when nothing differs.
pub fn compare_node(
    before: &dyn StoreRead,
    after: &dyn StoreRead,
    ws: &str,
    path: &str,
) -> Result<Option<NodeChange>> {
    let b = before.node(ws, path)?;
    let a = after.node(ws, path)?;
    let (bp, ap) = (
        if b.is_some() {
            before.properties(ws, path)?
        } else {
            Vec::new()
        },
        if a.is_some() {
            after.properties(ws, path)?
        } else {
            Vec::new()
        },
    );
    let change = match (&b, &a) {
        (None, None) => return Ok(None),
        (None, Some(_)) => "added",
        (Some(_), None) => "deleted",
        (Some(_), Some(_)) => "changed",
    };
    let mut properties = Vec::new();
    if change != "deleted" {
        let mut names: Vec<&str> = bp
            .iter()
            .chain(ap.iter())
            .map(|p| p.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            let x = bp.iter().find(|p| p.name == n);
            let y = ap.iter().find(|p| p.name == n);
            if x != y {
                properties.push(PropertyChange {
                    name: n.to_string(),
                    before: x.map(display_value),
                    after: y.map(display_value),
                });
            }
        }
    }
    let bt = b.as_ref().map(|i| i.primary_type.clone());
    let at = a.as_ref().map(|i| i.primary_type.clone());
    let primary_type = (bt != at && change != "deleted").then_some((bt, at));
    let bm = b.as_ref().map(|i| i.mixins.clone()).unwrap_or_default();
    let am = a.as_ref().map(|i| i.mixins.clone()).unwrap_or_default();
    let mixins = (bm != am && change != "deleted").then_some((bm, am));
    if change == "changed" && properties.is_empty() && primary_type.is_none() && mixins.is_none() {
        return Ok(None);
    }
    Ok(Some(NodeChange {
        path: path.to_string(),
        change,
        primary_type,
        mixins,
        properties,
    }))
}
