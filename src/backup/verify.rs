//! `backup verify`: every file of a backup against its manifest checksum, the image
//! against the repository schema, and every blob it refers to against its name.

use super::blobs::parse_line;
use super::catalogue::{Catalogue, BLOB_LIST_FILE};
use super::{blobs::hash_file, Result};
use crate::events::{Event, Events, Unit};
use crate::repository::sqlite::{SqliteStore, IMAGE_FILE};
use serde::Serialize;
use std::io::{BufRead, BufReader};

/// At most this many problems are kept (then only counted).
const PROBLEMS_KEPT: usize = 100;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// The backup id.
    pub id: String,
    /// Files checked (image, blob list, packages).
    pub files: u64,
    /// Blobs checked.
    pub blobs: u64,
    /// Bytes read.
    pub bytes: u64,
    /// What is wrong, one sentence each (the first hundred).
    pub problems: Vec<String>,
    /// How many problems in all.
    pub problem_count: u64,
}

impl VerifyReport {
    fn problem(&mut self, p: String) {
        self.problem_count += 1;
        if self.problems.len() < PROBLEMS_KEPT {
            self.problems.push(p);
        }
    }

    /// Whether the backup is intact.
    pub fn ok(&self) -> bool {
        self.problem_count == 0
    }
}

impl Catalogue {
    /// Checks backup `id` (see the module doc). An unknown id or an unreadable
    /// manifest is an error; damaged files and blobs are the report's problems.
    pub fn verify(&self, id: &str, events: &dyn Events) -> Result<VerifyReport> {
        let m = self.manifest(id)?;
        let dir = self.backup_dir(id);
        let mut r = VerifyReport {
            id: id.to_string(),
            ..VerifyReport::default()
        };
        events.event(&Event::Phase {
            name: "verifying",
            total: Some(m.bytes + m.blobs.bytes),
            unit: Unit::Bytes,
        });
        let mut list_ok = false;
        for f in &m.files {
            r.files += 1;
            let p = dir.join(&f.path);
            if !p.is_file() {
                r.problem(format!("file {} is missing", f.path));
                continue;
            }
            match hash_file(&p) {
                Ok((sha, n)) => {
                    r.bytes += n;
                    events.event(&Event::Advance { amount: n });
                    if n != f.bytes {
                        r.problem(format!("file {} has {n} bytes, not {}", f.path, f.bytes));
                    } else if sha != f.sha256 {
                        r.problem(format!(
                            "file {} fails its checksum (SHA-256 {sha}, expected {})",
                            f.path, f.sha256
                        ));
                    } else if f.path == BLOB_LIST_FILE {
                        list_ok = true;
                    }
                }
                Err(e) => r.problem(format!("file {} cannot be read: {e}", f.path)),
            }
        }
        for needed in [IMAGE_FILE, BLOB_LIST_FILE] {
            if !m.files.iter().any(|f| f.path == needed) {
                r.problem(format!("the manifest does not list {needed}"));
            }
        }
        if let Err(e) = SqliteStore::open_image(&dir.join(IMAGE_FILE), self.dir()) {
            r.problem(format!("the image cannot be opened: {e}"));
        }
        if list_ok {
            let blobs = self.blobs();
            let list = dir.join(BLOB_LIST_FILE);
            let f = std::fs::File::open(&list).map_err(|e| super::BackupError::io(&list, e))?;
            let (mut count, mut bytes) = (0u64, 0u64);
            for line in BufReader::new(f).lines() {
                let line = line.map_err(|e| super::BackupError::io(&list, e))?;
                let Some((sha, size)) = parse_line(&line) else {
                    r.problem(format!("the blob list has a bad line '{line}'"));
                    continue;
                };
                count += 1;
                bytes += size;
                r.blobs += 1;
                if let Err(p) = blobs.verify(sha, size) {
                    r.problem(p);
                } else {
                    r.bytes += size;
                }
                events.event(&Event::Advance { amount: size });
            }
            if count != m.blobs.count || bytes != m.blobs.bytes {
                r.problem(format!(
                    "the blob list has {count} blobs of {bytes} bytes, the manifest says {} of {}",
                    m.blobs.count, m.blobs.bytes
                ));
            }
        }
        events.event(&Event::Finished);
        Ok(r)
    }
}
