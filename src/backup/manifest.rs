//! A backup's manifest (`backups/<ID>/manifest.json`) and backup ids.

use super::blobs::BlobStats;
use super::chunks::ImageStats;
use super::{BackupError, Result};
use crate::repository::WorkspaceCounts;
use crate::value::Date;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `format` of every manifest.
pub const MANIFEST_FORMAT: &str = "jcrpack-backup";

/// The manifest format version this code writes and reads (older ones too).
///
/// 1: the image is `repository.db` in the backup's folder. 2: the image is stored
/// as chunks in the catalogue's blob folder, listed in `image.txt` (see
/// `backup::chunks`), with the repository's generation token.
pub const MANIFEST_VERSION: u64 = 2;

/// Whether a backup was asked for by hand or by a scheduler (`--scheduled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Taken by hand.
    #[default]
    Manual,
    /// Taken by a cron job or another scheduler.
    Scheduled,
}

impl Kind {
    /// `manual` or `scheduled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Scheduled => "scheduled",
        }
    }
}

/// One file of a backup with its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The path inside the backup folder, with `/` separators (`repository.db`).
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The manifest format version ([`MANIFEST_VERSION`] when written by this code).
    pub version: u64,
    /// The backup id (`20261204T170512Z`, see [`backup_id`]).
    pub id: String,
    /// When the backup was taken (ISO 8601, UTC).
    pub time: String,
    /// The user who took it.
    pub user: String,
    /// The label given with `--label`.
    pub label: Option<String>,
    /// Taken by hand or by a scheduler.
    pub kind: Kind,
    /// The repository folder it was taken from.
    pub repository: String,
    /// The repository's last recorded operation in the image: the backup is the
    /// repository as it was right after it (`None`: no operation recorded yet).
    pub last_operation: Option<i64>,
    /// The workspaces in the image with their node and property counts.
    pub workspaces: Vec<WorkspaceCounts>,
    /// The workspaces asked for with `--workspace`, sorted (empty: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chosen_workspaces: Vec<String>,
    /// The total size of the backup's own files (image, its chunk list, blob
    /// list, packages).
    pub bytes: u64,
    /// Every file of the backup folder but the manifest, with its checksum.
    pub files: Vec<FileEntry>,
    /// The blobs the backup refers to, and how many of them this backup copied.
    pub blobs: BlobStats,
    /// The image stored as chunks and how many of them this backup copied (format
    /// 2; `None` in a format 1 backup, whose image is `repository.db`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageStats>,
    /// The repository's generation token in the image (format 2, when the
    /// repository tracks one): a later backup whose repository still has it shares
    /// this image whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

impl Manifest {
    /// Reads and checks the manifest file `path` of backup `id`.
    pub fn read(path: &Path, id: &str) -> Result<Manifest> {
        let damaged = |detail: String| BackupError::Damaged {
            id: id.to_string(),
            detail,
        };
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(damaged("its manifest.json is missing".into()))
            }
            Err(e) => return Err(BackupError::io(path, e)),
        };
        let value: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| damaged(format!("its manifest.json is not JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(MANIFEST_FORMAT) {
            return Err(damaged("its manifest.json is not a backup manifest".into()));
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version > MANIFEST_VERSION {
            return Err(BackupError::NewerFormat {
                path: path.to_path_buf(),
                found: version,
                supported: MANIFEST_VERSION,
            });
        }
        let m: Manifest = serde_json::from_value(value)
            .map_err(|e| damaged(format!("its manifest.json is malformed: {e}")))?;
        if m.id != id {
            return Err(damaged(format!(
                "its manifest.json names the backup {}",
                m.id
            )));
        }
        Ok(m)
    }

    /// The manifest as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The node count of every workspace together.
    pub fn nodes(&self) -> u64 {
        self.workspaces.iter().map(|w| w.nodes).sum()
    }
}

/// The id of a backup taken at `time`, before collision suffixes: its UTC time as
/// `YYYYMMDDThhmmssZ`.
pub fn backup_id(time: &Date) -> String {
    let t = Date::from_epoch_millis(time.epoch_millis());
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Whether `s` can be a backup id: a folder name of ASCII letters, digits and `-`,
/// not starting with `-` (so never a temporary name, which starts with `.`).
pub fn is_backup_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The UTC day of a backup id (`20261204`), for prune's daily buckets.
pub(crate) fn day_of(id: &str) -> Option<i64> {
    let y: i64 = id.get(0..4)?.parse().ok()?;
    let m: i64 = id.get(4..6)?.parse().ok()?;
    let d: i64 = id.get(6..8)?.parse().ok()?;
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_utc_time_and_sort_in_time_order() {
        let t = Date::parse("2026-12-04T18:05:12.345+01:00").unwrap();
        assert_eq!(backup_id(&t), "20261204T170512Z");
        assert!(is_backup_id("20261204T170512Z-2"));
        assert!(!is_backup_id(".tmp-20261204T170512Z"));
        assert!(!is_backup_id("../x"));
        assert!("20261204T170512Z" < "20261204T170512Z-2");
        assert!("20261204T170512Z-2" < "20261204T170513Z");
    }

    #[test]
    fn days_count_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            day_of("20261204T170512Z"),
            Some(days_from_civil(2026, 12, 4))
        );
        // 1970-01-01 was a Thursday: day 4 counted from Monday 1969-12-29.
        assert_eq!(days_from_civil(1969, 12, 29), -3);
    }
}
