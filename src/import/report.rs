//! What an install did, path by path: FileVault's `A`/`U`/`R`/`D`/`-`/`E` log, with
//! totals, warnings and the node types that content used without declaring them.
//!
//! The same report comes out of a real install and a dry run (which is the real
//! install rolled back), so a dry run can be trusted.

use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;

/// What happened to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created (`A`).
    Added,
    /// Modified in place (`U`).
    Updated,
    /// Removed and created again (`R`).
    Replaced,
    /// Removed (`D`).
    Deleted,
    /// Looked at, left as it was (`-`).
    Unchanged,
    /// Expected but missing, e.g. an `nt:resource` without `jcr:data` (`!`).
    Missing,
    /// Failed (`E`).
    Error,
}

impl Action {
    /// FileVault's one-letter code.
    pub fn letter(self) -> char {
        match self {
            Action::Added => 'A',
            Action::Updated => 'U',
            Action::Replaced => 'R',
            Action::Deleted => 'D',
            Action::Unchanged => '-',
            Action::Missing => '!',
            Action::Error => 'E',
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The repository path.
    pub path: String,
    /// What happened.
    pub action: Action,
    /// Why, for errors and notable cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Counts per action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Paths created.
    pub added: u64,
    /// Paths modified.
    pub updated: u64,
    /// Paths replaced.
    pub replaced: u64,
    /// Paths deleted.
    pub deleted: u64,
    /// Paths left unchanged.
    pub unchanged: u64,
    /// Paths expected but missing.
    pub missing: u64,
    /// Paths that failed.
    pub errors: u64,
}

/// The whole report of one install (or dry run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The package id, `group:name:version`.
    pub package: String,
    /// The install id in the repository's history (absent for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_id: Option<i64>,
    /// Whether this was a dry run (nothing was kept).
    pub dry_run: bool,
    /// Per-path actions in the order they happened; a path appears once, with its
    /// strongest action (a node added then updated in the same install is `added`).
    pub entries: Vec<Entry>,
    /// Counts per action.
    pub totals: Totals,
    /// Namespaces registered by this install (`prefix=uri`).
    pub namespaces_registered: Vec<String>,
    /// Node types registered by this install.
    pub node_types_registered: Vec<String>,
    /// Node types the content uses that neither the repository nor the package
    /// defines: recorded and reported, not refused (AEM, Sling and Magnolia content
    /// ships without its `cq:`, `sling:`, `mgnl:` definitions).
    pub undeclared_node_types: Vec<String>,
    /// Access control lists, users and groups this install wrote.
    pub access_control: Vec<String>,
    /// Sub packages found, with what was done with them.
    pub sub_packages: Vec<String>,
    /// Warnings (install hooks not run, skipped same-name siblings, ...).
    pub warnings: Vec<String>,
    #[serde(skip)]
    index: IndexMap<String, usize>,
}

impl Report {
    /// A new, empty report for `package`.
    pub fn new(package: impl Into<String>, dry_run: bool) -> Report {
        Report { package: package.into(), dry_run, ..Report::default() }
    }

    /// Records `action` for `path`. A later record for the same path only replaces an
    /// earlier, weaker one (error > added/replaced/deleted > updated > unchanged).
    pub fn record(&mut self, path: &str, action: Action) {
        self.record_with(path, action, None)
    }

    /// Records `action` with a message.
    pub fn record_with(&mut self, path: &str, action: Action, message: Option<String>) {
        fn rank(a: Action) -> u8 {
            match a {
                Action::Unchanged => 0,
                Action::Missing => 1,
                Action::Updated => 2,
                Action::Added | Action::Replaced | Action::Deleted => 3,
                Action::Error => 4,
            }
        }
        if let Some(&i) = self.index.get(path) {
            let e = &mut self.entries[i];
            let keep_added = e.action == Action::Added && action == Action::Deleted;
            if keep_added {
                // Added then deleted within one install: it never existed.
                e.action = Action::Deleted;
            } else if e.action == Action::Deleted && action == Action::Added {
                e.action = Action::Replaced;
            } else if rank(action) > rank(e.action) {
                e.action = action;
            }
            if message.is_some() {
                e.message = message;
            }
        } else {
            self.index.insert(path.to_string(), self.entries.len());
            self.entries.push(Entry { path: path.to_string(), action, message });
        }
    }

    /// The action recorded for `path`.
    pub fn action(&self, path: &str) -> Option<Action> {
        self.index.get(path).map(|&i| self.entries[i].action)
    }

    /// Adds a warning.
    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }

    /// Notes a node type used but not defined, once.
    pub fn undeclared_type(&mut self, t: &str) {
        if !self.undeclared_node_types.iter().any(|x| x == t) {
            self.undeclared_node_types.push(t.to_string());
        }
    }

    /// Recomputes [`Report::totals`] from the entries and sorts the undeclared types.
    pub fn finish(&mut self) {
        let mut t = Totals::default();
        for e in &self.entries {
            match e.action {
                Action::Added => t.added += 1,
                Action::Updated => t.updated += 1,
                Action::Replaced => t.replaced += 1,
                Action::Deleted => t.deleted += 1,
                Action::Unchanged => t.unchanged += 1,
                Action::Missing => t.missing += 1,
                Action::Error => t.errors += 1,
            }
        }
        self.totals = t;
        self.undeclared_node_types.sort();
    }
}

impl fmt::Display for Report {
    /// The human log: one `L /path` line per entry, then totals and notes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            write!(f, "{} {}", e.action.letter(), e.path)?;
            if let Some(m) = &e.message {
                write!(f, " ({m})")?;
            }
            writeln!(f)?;
        }
        let t = &self.totals;
        writeln!(
            f,
            "{}{}: {} added, {} updated, {} replaced, {} deleted, {} unchanged, {} errors",
            if self.dry_run { "dry run of " } else { "" },
            self.package,
            t.added,
            t.updated,
            t.replaced,
            t.deleted,
            t.unchanged,
            t.errors
        )?;
        if !self.undeclared_node_types.is_empty() {
            writeln!(f, "node types used without a definition: {}", self.undeclared_node_types.join(", "))?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongest_action_wins_and_totals_count() {
        let mut r = Report::new("g:n:1", false);
        r.record("/a", Action::Added);
        r.record("/a", Action::Updated);
        r.record("/b", Action::Unchanged);
        r.record("/b", Action::Updated);
        r.record("/c", Action::Deleted);
        r.record("/c", Action::Added);
        r.undeclared_type("cq:Page");
        r.undeclared_type("cq:Page");
        r.finish();
        assert_eq!(r.action("/a"), Some(Action::Added));
        assert_eq!(r.action("/b"), Some(Action::Updated));
        assert_eq!(r.action("/c"), Some(Action::Replaced));
        insta::assert_snapshot!(r.to_string(), @r"
        A /a
        U /b
        R /c
        g:n:1: 1 added, 1 updated, 1 replaced, 0 deleted, 0 unchanged, 0 errors
        node types used without a definition: cq:Page
        ");
    }
}
