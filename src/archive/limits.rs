//! Zip-bomb limits, enforced while inflating.
//!
//! A zip's header says how large an entry is, but a hostile zip can lie, and one that
//! tells the truth can still be a bomb (a few megabytes that inflate to terabytes). So
//! the limits are never checked against the header: the reader counts the bytes it has
//! actually inflated and the compressed bytes the inflater has actually consumed, and
//! stops the moment a limit is crossed. The defaults let a real multi-gigabyte package
//! through; the CLI raises them on request.

use std::sync::atomic::{AtomicU64, Ordering};

use super::error::ArchiveError;

/// Bounds on what reading one archive may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_total_uncompressed: u64,
    max_entries: u64,
    max_ratio: u64,
    ratio_threshold: u64,
    max_depth: u64,
    max_name_bytes: u64,
}

impl Default for Limits {
    /// 64 GiB inflated in total, 1,000,000 entries, and at most 1000 bytes inflated
    /// per compressed byte once an entry has produced more than 1 MiB. Deflate cannot
    /// exceed about 1032:1, so only degenerate content (long runs of one byte) gets
    /// near the ratio limit, and small entries are exempt. Entry names at most
    /// [`DEFAULT_MAX_DEPTH`] segments deep, and at most 256 MiB of names in all
    /// (with the folders they imply: a name `a/b/c` costs `a`, `a/b` and `a/b/c`).
    fn default() -> Self {
        Limits {
            max_total_uncompressed: 64 << 30,
            max_entries: 1_000_000,
            max_ratio: 1000,
            ratio_threshold: 1 << 20,
            max_depth: DEFAULT_MAX_DEPTH,
            max_name_bytes: 256 << 20,
        }
    }
}

/// The default for [`Limits::max_depth`]: 512 segments. Real content is rarely 50
/// deep; every walk over a package's tree (the layout, the importer, validation,
/// dropping the tree) then stays far from the stack's end.
pub const DEFAULT_MAX_DEPTH: u64 = 512;

impl Limits {
    /// No limits at all, for trusted input.
    pub fn unlimited() -> Self {
        Limits {
            max_total_uncompressed: u64::MAX,
            max_entries: u64::MAX,
            max_ratio: u64::MAX,
            ratio_threshold: u64::MAX,
            max_depth: u64::MAX,
            max_name_bytes: u64::MAX,
        }
    }

    /// The most segments an entry name may have (`jcr_root/a/b` has 3).
    pub fn max_depth(&self) -> u64 {
        self.max_depth
    }

    /// Sets [`Limits::max_depth`].
    pub fn with_max_depth(mut self, segments: u64) -> Self {
        self.max_depth = segments;
        self
    }

    /// The most bytes all entry names may take together, counting each folder a name
    /// implies.
    pub fn max_name_bytes(&self) -> u64 {
        self.max_name_bytes
    }

    /// Sets [`Limits::max_name_bytes`].
    pub fn with_max_name_bytes(mut self, bytes: u64) -> Self {
        self.max_name_bytes = bytes;
        self
    }

    /// Refuses an entry name deeper than [`Limits::max_depth`], before anything is
    /// built from it.
    pub(crate) fn check_depth(&self, archive: &str, entry: &str) -> Result<(), ArchiveError> {
        let trimmed = entry.trim_end_matches('/').as_bytes();
        let depth = trimmed.iter().filter(|&&b| b == b'/').count() as u64 + 1;
        if depth > self.max_depth {
            return Err(ArchiveError::TooDeep {
                archive: archive.to_owned(),
                entry: shorten(entry),
                depth,
                limit: self.max_depth,
            });
        }
        Ok(())
    }

    /// The most bytes all entries of the archive may inflate to, together. An entry
    /// read twice counts once.
    pub fn max_total_uncompressed(&self) -> u64 {
        self.max_total_uncompressed
    }

    /// The most entries (files and explicit directories) an archive may have.
    pub fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// The most bytes one compressed byte may inflate to, once an entry has produced
    /// more than [`Limits::ratio_threshold`] bytes.
    pub fn max_ratio(&self) -> u64 {
        self.max_ratio
    }

    /// The number of inflated bytes below which an entry's ratio is not checked.
    pub fn ratio_threshold(&self) -> u64 {
        self.ratio_threshold
    }

    /// Sets [`Limits::max_total_uncompressed`].
    pub fn with_max_total_uncompressed(mut self, bytes: u64) -> Self {
        self.max_total_uncompressed = bytes;
        self
    }

    /// Sets [`Limits::max_entries`].
    pub fn with_max_entries(mut self, entries: u64) -> Self {
        self.max_entries = entries;
        self
    }

    /// Sets [`Limits::max_ratio`].
    pub fn with_max_ratio(mut self, ratio: u64) -> Self {
        self.max_ratio = ratio;
        self
    }

    /// Sets [`Limits::ratio_threshold`].
    pub fn with_ratio_threshold(mut self, bytes: u64) -> Self {
        self.ratio_threshold = bytes;
        self
    }

    /// Refuses an archive with more than [`Limits::max_entries`] entries.
    pub(crate) fn check_entries(&self, archive: &str, count: u64) -> Result<(), ArchiveError> {
        if count > self.max_entries {
            return Err(ArchiveError::TooManyEntries {
                archive: archive.to_owned(),
                count,
                limit: self.max_entries,
            });
        }
        Ok(())
    }
}

/// A long name (above 240 characters) as its first and last 100 characters, for a
/// message.
pub fn shorten(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= 240 {
        return name.to_owned();
    }
    let head: String = chars[..100].iter().collect();
    let tail: String = chars[chars.len() - 100..].iter().collect();
    format!("{head}...({} characters)...{tail}", chars.len() - 200)
}

/// What one archive has inflated so far, shared by all readers of its entries (which
/// may run on several threads).
#[derive(Debug)]
pub(crate) struct InflateBudget {
    limits: Limits,
    /// Sum over entries of the most bytes any reader of that entry has produced.
    total: AtomicU64,
    /// Per file (by its index among the listing's files): the most bytes any reader
    /// has produced.
    high_water: Vec<AtomicU64>,
}

impl InflateBudget {
    /// A budget for an archive with `entries` files.
    pub(crate) fn new(limits: Limits, entries: usize) -> Self {
        InflateBudget {
            limits,
            total: AtomicU64::new(0),
            high_water: (0..entries).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records that a reader of entry `index` has now produced `inflated` bytes from
    /// `compressed` consumed bytes, and checks the limits.
    pub(crate) fn record(
        &self,
        archive: &str,
        entry: &str,
        index: usize,
        inflated: u64,
        compressed: u64,
    ) -> Result<(), ArchiveError> {
        if inflated > self.limits.ratio_threshold
            && inflated > compressed.max(1).saturating_mul(self.limits.max_ratio)
        {
            return Err(ArchiveError::RatioLimit {
                archive: archive.to_owned(),
                entry: entry.to_owned(),
                inflated,
                compressed,
                limit: self.limits.max_ratio,
            });
        }
        let before = match self.high_water.get(index) {
            Some(mark) => mark.fetch_max(inflated, Ordering::Relaxed),
            // No slot: count everything (never happens for indices the archive made).
            None => 0,
        };
        if inflated > before {
            let grown = inflated - before;
            let total = self
                .total
                .fetch_add(grown, Ordering::Relaxed)
                .saturating_add(grown);
            if total > self.limits.max_total_uncompressed {
                return Err(ArchiveError::TotalSizeLimit {
                    archive: archive.to_owned(),
                    entry: entry.to_owned(),
                    limit: self.limits.max_total_uncompressed,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_let_real_packages_through() {
        let l = Limits::default();
        assert_eq!(l.max_total_uncompressed(), 64 * 1024 * 1024 * 1024);
        assert_eq!(l.max_entries(), 1_000_000);
        assert_eq!(l.max_ratio(), 1000);
        assert_eq!(l.ratio_threshold(), 1024 * 1024);
        let raised = l.with_max_entries(5).with_max_ratio(7);
        assert_eq!((raised.max_entries(), raised.max_ratio()), (5, 7));
    }

    #[test]
    fn ratio_is_checked_only_above_the_threshold() {
        let budget = InflateBudget::new(Limits::default(), 1);
        // Small entries may compress as well as they like.
        budget.record("p.zip", "a", 0, 1 << 20, 1).unwrap();
        let e = budget
            .record("p.zip", "a", 0, (1 << 20) + 1, 1)
            .unwrap_err();
        assert!(
            matches!(e, ArchiveError::RatioLimit { limit: 1000, .. }),
            "{e}"
        );
        budget.record("p.zip", "a", 0, 2_000_000, 2_000).unwrap();
    }

    #[test]
    fn total_counts_each_entry_once() {
        let budget = InflateBudget::new(Limits::default().with_max_total_uncompressed(100), 2);
        budget.record("p.zip", "a", 0, 60, 60).unwrap();
        // Reading entry 0 again does not count twice.
        budget.record("p.zip", "a", 0, 30, 30).unwrap();
        budget.record("p.zip", "a", 0, 60, 60).unwrap();
        budget.record("p.zip", "b", 1, 40, 40).unwrap();
        let e = budget.record("p.zip", "b", 1, 41, 41).unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.zip: stopped inflating `b`: the archive's entries inflate to more than the \
             limit of 100 bytes; raise the size limit if the package is trusted"
        );
    }

    #[test]
    fn entry_count_limit() {
        let l = Limits::default().with_max_entries(2);
        l.check_entries("p.zip", 2).unwrap();
        assert!(l.check_entries("p.zip", 3).is_err());
    }
}
