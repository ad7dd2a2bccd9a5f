//! What an install did, per path, with FileVault's action letters.

use super::spill::{decode_str, encode_str, Record, SpillLog};
use serde::Serialize;

/// What happened to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created (`A`).
    Added,
    /// Changed (`U`).
    Updated,
    /// Replaced: removed and created again, or type changed (`R`).
    Replaced,
    /// Removed (`D`).
    Deleted,
    /// Left as it was (`-`).
    Unchanged,
    /// Failed (`E`).
    Error,
}

impl Action {
    /// FileVault's progress letter.
    pub fn letter(self) -> char {
        match self {
            Action::Added => 'A',
            Action::Updated => 'U',
            Action::Replaced => 'R',
            Action::Deleted => 'D',
            Action::Unchanged => '-',
            Action::Error => 'E',
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Repository path.
    pub path: String,
    /// What happened.
    pub action: Action,
    /// Details (changed property names, the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Record for Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.action.letter() as u8);
        encode_str(&self.path, out);
        match &self.detail {
            Some(d) => {
                out.push(1);
                encode_str(d, out);
            }
            None => out.push(0),
        }
    }

    fn decode(bytes: &mut &[u8]) -> Option<Entry> {
        let mut b = *bytes;
        let (&letter, rest) = b.split_first()?;
        b = rest;
        let action = [
            Action::Added,
            Action::Updated,
            Action::Replaced,
            Action::Deleted,
            Action::Unchanged,
            Action::Error,
        ]
        .into_iter()
        .find(|a| a.letter() as u8 == letter)?;
        let path = decode_str(&mut b)?;
        let (&has_detail, rest) = b.split_first()?;
        b = rest;
        let detail = match has_detail {
            0 => None,
            _ => Some(decode_str(&mut b)?),
        };
        *bytes = b;
        Some(Entry {
            path,
            action,
            detail,
        })
    }
}

/// Counts per action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Nodes created.
    pub added: u64,
    /// Nodes changed.
    pub updated: u64,
    /// Nodes replaced.
    pub replaced: u64,
    /// Nodes removed (subtrees count once).
    pub deleted: u64,
    /// Nodes in the package left as they were.
    pub unchanged: u64,
    /// Failures.
    pub errors: u64,
    /// Aggregates (DocView or file entries) not installed again because their
    /// subtree's digest matched the one recorded by an earlier install of the same
    /// content with the same options, with nothing changed below it since (see
    /// `import::digest`); their nodes are not counted as unchanged.
    pub skipped: u64,
}

/// The report of one install.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The package file.
    pub package: String,
    /// `group:name:version`, when the package says.
    pub package_id: Option<String>,
    /// Whether this was a dry run (rolled back).
    pub dry_run: bool,
    /// The recorded operation (for `jcrpack undo`), unless dry run.
    pub operation: Option<i64>,
    /// Per path, in the order things happened (on disk beyond the first few
    /// thousand, so that a million-node install stays small).
    pub entries: SpillLog<Entry>,
    /// Counts.
    pub totals: Totals,
    /// Node types used by the content but not declared anywhere: recorded, not refused.
    pub undeclared_node_types: Vec<String>,
    /// Namespaces registered by this install.
    pub registered_namespaces: Vec<String>,
    /// Node types registered by this install.
    pub registered_node_types: Vec<String>,
    /// Privileges registered by this install (`META-INF/vault/privileges.xml`).
    pub registered_privileges: Vec<String>,
    /// Access control lists written.
    pub acls: Vec<String>,
    /// Access control lists the package holds that were not written because
    /// acHandling is `ignore` (FileVault's default when the package names none).
    pub ignored_acls: Vec<String>,
    /// Users and groups written.
    pub authorizables: Vec<String>,
    /// Sub packages installed.
    pub sub_packages: Vec<Report>,
    /// Things that did not stop the install.
    pub warnings: Vec<String>,
}

impl Report {
    /// Records what happened to `path`.
    pub fn record(&mut self, path: &str, action: Action, detail: Option<String>) {
        match action {
            Action::Added => self.totals.added += 1,
            Action::Updated => self.totals.updated += 1,
            Action::Replaced => self.totals.replaced += 1,
            Action::Deleted => self.totals.deleted += 1,
            Action::Unchanged => self.totals.unchanged += 1,
            Action::Error => self.totals.errors += 1,
        }
        self.entries.push(Entry {
            path: path.to_string(),
            action,
            detail,
        });
    }

    /// A warning.
    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }

    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        let t = &self.totals;
        t.added + t.updated + t.replaced + t.deleted > 0
    }
}
