//! The differences of a restore as data, for a caller that answers them before it
//! writes (the server's `dryRun`, the restore page's `Show differences`): the
//! changed nodes in document order up to a limit, and the counts of all of them.

use super::{compare, Change, Plan, Result, Summary};
use crate::events::Events;
use crate::repository::StoreRead;
use serde::Serialize;

/// What a restore would change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The first changed nodes, in document order per root.
    pub changes: Vec<Change>,
    /// Whether more nodes change than `changes` holds.
    pub truncated: bool,
    /// Every change, counted.
    pub summary: Summary,
}

/// [`compare`] keeping at most `limit` changes (the walk goes on to count the
/// rest). Nothing is written.
pub fn preview(
    source: &dyn StoreRead,
    target: &dyn StoreRead,
    plan: &Plan,
    limit: usize,
    events: &dyn Events,
) -> Result<Preview> {
    let mut changes = Vec::new();
    let mut truncated = false;
    let summary = compare(
        source,
        target,
        plan,
        &mut |c| {
            if changes.len() < limit {
                changes.push(c.clone());
            } else {
                truncated = true;
            }
            Ok(())
        },
        events,
    )?;
    Ok(Preview {
        changes,
        truncated,
        summary,
    })
}
