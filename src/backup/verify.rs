//! `backup verify`: every file of a backup against its manifest checksum, the image
//! against the repository schema, and every blob it refers to against its name.

use super::blobs::parse_line;
use super::catalogue::{Catalogue, BLOB_LIST_FILE};
use super::chunks::{ImageStats, IMAGE_LIST_FILE};
use super::manifest::Manifest;
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
            total: Some(
                m.files.iter().map(|f| f.bytes).sum::<u64>()
                    + m.image.as_ref().map_or(0, |i| i.bytes)
                    + m.blobs.bytes,
            ),
            unit: Unit::Bytes,
        });
        let mut list_ok = false;
        let mut chunk_list_ok = false;
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
                    } else if f.path == IMAGE_LIST_FILE {
                        chunk_list_ok = true;
                    }
                }
                Err(e) => r.problem(format!("file {} cannot be read: {e}", f.path)),
            }
        }
        let image_file = if m.image.is_some() {
            IMAGE_LIST_FILE
        } else {
            IMAGE_FILE
        };
        for needed in [image_file, BLOB_LIST_FILE] {
            if !m.files.iter().any(|f| f.path == needed) {
                r.problem(format!("the manifest does not list {needed}"));
            }
        }
        let chunks_ok = match &m.image {
            Some(stats) if chunk_list_ok => self.verify_chunks(&m, stats, &mut r, events)?,
            Some(_) => false,
            None => true,
        };
        if chunks_ok {
            // Its chunks are checked: opening it on demand reads its schema only.
            let opened = match &m.image {
                Some(_) => self.open_image_on_demand(id).map(drop),
                None => SqliteStore::open_image(&dir.join(IMAGE_FILE), self.dir())
                    .map(drop)
                    .map_err(super::BackupError::from),
            };
            if let Err(e) = opened {
                r.problem(format!("the image cannot be opened: {e}"));
            }
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

impl Catalogue {
    /// Checks every chunk of `m`'s image against its name; returns whether all are
    /// intact (problems go to `r`).
    fn verify_chunks(
        &self,
        m: &Manifest,
        stats: &ImageStats,
        r: &mut VerifyReport,
        events: &dyn Events,
    ) -> Result<bool> {
        let list = self.backup_dir(&m.id).join(IMAGE_LIST_FILE);
        let f = std::fs::File::open(&list).map_err(|e| super::BackupError::io(&list, e))?;
        let blobs = self.blobs();
        let (mut count, mut bytes, mut ok) = (0u64, 0u64, true);
        for line in BufReader::new(f).lines() {
            let line = line.map_err(|e| super::BackupError::io(&list, e))?;
            let Some((sha, size)) = parse_line(&line) else {
                r.problem(format!("the image's chunk list has a bad line '{line}'"));
                ok = false;
                continue;
            };
            count += 1;
            bytes += size;
            if let Err(p) = blobs.verify(sha, size) {
                r.problem(format!(
                    "image chunk {count}: {}",
                    p.replacen("blob ", "", 1)
                ));
                ok = false;
            } else {
                r.bytes += size;
            }
            events.event(&Event::Advance { amount: size });
        }
        if count != stats.chunks || bytes != stats.bytes {
            r.problem(format!(
                "the image's chunk list has {count} chunks of {bytes} bytes, the manifest says {} of {}",
                stats.chunks, stats.bytes
            ));
            ok = false;
        }
        Ok(ok)
    }
}
