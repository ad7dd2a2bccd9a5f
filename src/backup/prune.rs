//! `backup prune`: which backups a keep policy keeps (restic's rules: the newest
//! N, the newest of each of the last N days and weeks that have backups), removing
//! the others and then the blobs no remaining backup refers to, under the
//! exclusive catalogue lock. The newest intact backup is always kept.

use super::catalogue::{Catalogue, BLOB_LIST_FILE};
use super::lock::{CatalogueLock, Mode};
use super::manifest::{day_of, Manifest};
use super::{BackupError, Result};
use serde::Serialize;
use std::collections::BTreeSet;

/// Which backups to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrunePolicy {
    /// The newest N backups.
    pub keep_last: Option<usize>,
    /// The newest backup of each of the newest N days (UTC) that have backups.
    pub keep_daily: Option<usize>,
    /// The newest backup of each of the newest N weeks (Monday to Sunday, UTC) that
    /// have backups.
    pub keep_weekly: Option<usize>,
}

/// What prune kept and removed (or would, with `dry_run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneReport {
    /// The ids kept, oldest first.
    pub kept: Vec<String>,
    /// The ids removed, oldest first.
    pub removed: Vec<String>,
    /// Blobs removed because no kept backup refers to them.
    pub blobs_removed: u64,
    /// Their bytes.
    pub blob_bytes_removed: u64,
    /// Nothing was changed.
    pub dry_run: bool,
}

impl PrunePolicy {
    /// The ids of `backups` (oldest first) this policy keeps.
    pub fn keep(&self, backups: &[Manifest]) -> BTreeSet<String> {
        let newest_first: Vec<&Manifest> = backups.iter().rev().collect();
        let mut keep = BTreeSet::new();
        for m in newest_first.iter().take(self.keep_last.unwrap_or(0)) {
            keep.insert(m.id.clone());
        }
        let mut bucket = |n: Option<usize>, key: &dyn Fn(i64) -> i64| {
            let mut seen = BTreeSet::new();
            for m in &newest_first {
                if seen.len() >= n.unwrap_or(0) {
                    break;
                }
                let Some(day) = day_of(&m.id) else { continue };
                if seen.insert(key(day)) {
                    keep.insert(m.id.clone());
                }
            }
        };
        bucket(self.keep_daily, &|d| d);
        // Day 0 (1970-01-01) was a Thursday: shift by 3 so weeks start on Monday.
        bucket(self.keep_weekly, &|d| (d + 3).div_euclid(7));
        keep
    }

    /// Keeps nothing (prune refuses such a policy).
    pub fn is_empty(&self) -> bool {
        self.keep_last.unwrap_or(0) == 0
            && self.keep_daily.unwrap_or(0) == 0
            && self.keep_weekly.unwrap_or(0) == 0
    }
}

impl Catalogue {
    /// Whether backup `m`'s files are all present with their sizes (a quick check,
    /// not [`Catalogue::verify`]).
    pub(crate) fn looks_intact(&self, m: &Manifest) -> bool {
        let dir = self.backup_dir(&m.id);
        m.files.iter().any(|f| f.path == BLOB_LIST_FILE)
            && (m.image.is_none()
                || m.files
                    .iter()
                    .any(|f| f.path == super::chunks::IMAGE_LIST_FILE))
            && m.files
                .iter()
                .all(|f| std::fs::metadata(dir.join(&f.path)).is_ok_and(|md| md.len() == f.bytes))
    }

    /// Removes the backups `policy` does not keep, then the blobs no remaining
    /// backup refers to; with `dry_run` only reports. Never removes the newest
    /// backup whose files are intact, whatever the policy.
    pub fn prune(&self, policy: &PrunePolicy, dry_run: bool) -> Result<PruneReport> {
        if policy.is_empty() {
            return Err(BackupError::EmptyPolicy);
        }
        let _lock = CatalogueLock::take(self.dir(), Mode::Exclusive)?;
        let backups = self.list()?;
        let mut keep = policy.keep(&backups);
        if let Some(good) = backups.iter().rev().find(|m| self.looks_intact(m)) {
            let keeps_good = backups
                .iter()
                .any(|m| keep.contains(&m.id) && self.looks_intact(m));
            if !keeps_good {
                keep.insert(good.id.clone());
            }
        }
        let mut report = PruneReport {
            dry_run,
            ..PruneReport::default()
        };
        for m in &backups {
            if keep.contains(&m.id) {
                report.kept.push(m.id.clone());
            } else {
                report.removed.push(m.id.clone());
            }
        }
        if dry_run {
            if let Some(refs) = self.referenced_blobs(&report.removed)? {
                let (n, b) = self.blobs().collect(&refs, true)?;
                report.blobs_removed = n;
                report.blob_bytes_removed = b;
            }
            return Ok(report);
        }
        let mut gone = Vec::new();
        for id in &report.removed {
            gone.push(self.unlist_backup(id)?);
        }
        let (n, b) = self.collect_blobs(false)?;
        self.remove_folders(&gone)?;
        report.blobs_removed = n;
        report.blob_bytes_removed = b;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::{BlobStats, Kind, MANIFEST_FORMAT};

    fn m(id: &str) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT.into(),
            version: 1,
            id: id.into(),
            time: String::new(),
            user: String::new(),
            label: None,
            kind: Kind::Scheduled,
            repository: String::new(),
            last_operation: None,
            workspaces: vec![],
            chosen_workspaces: vec![],
            bytes: 0,
            files: vec![],
            blobs: BlobStats::default(),
            image: None,
            generation: None,
        }
    }

    #[test]
    fn keeps_the_last_and_the_newest_of_each_day_and_week() {
        // Mon 2026-11-30 .. Fri 2026-12-04, two a day.
        let all: Vec<Manifest> = (30..=34)
            .flat_map(|d| {
                let day = if d <= 30 {
                    format!("202611{d}")
                } else {
                    format!("2026120{}", d - 30)
                };
                [m(&format!("{day}T010000Z")), m(&format!("{day}T130000Z"))]
            })
            .collect();
        let last2 = PrunePolicy {
            keep_last: Some(2),
            ..Default::default()
        };
        assert_eq!(
            last2.keep(&all).into_iter().collect::<Vec<_>>(),
            vec!["20261204T010000Z", "20261204T130000Z"]
        );
        let daily = PrunePolicy {
            keep_daily: Some(3),
            ..Default::default()
        };
        assert_eq!(
            daily.keep(&all).into_iter().collect::<Vec<_>>(),
            vec!["20261202T130000Z", "20261203T130000Z", "20261204T130000Z"]
        );
        // One week (Mon 30 Nov to Fri 4 Dec) plus the Sunday before.
        let mut with_sunday = vec![m("20261129T120000Z")];
        with_sunday.extend(all.clone());
        let weekly = PrunePolicy {
            keep_weekly: Some(2),
            ..Default::default()
        };
        assert_eq!(
            weekly.keep(&with_sunday).into_iter().collect::<Vec<_>>(),
            vec!["20261129T120000Z", "20261204T130000Z"]
        );
        assert!(PrunePolicy::default().is_empty());
    }
}
