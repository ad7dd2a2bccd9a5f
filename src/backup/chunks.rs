//! A backup's image stored as chunks in the catalogue's shared blob folder.
//!
//! The image (the repository's SQLite database, read from its file under a read
//! snapshot by [`ChunkWriter`]'s caller, or the file the generic image step wrote)
//! is cut into pieces of [`CHUNK_BYTES`], a whole number of database pages (SQLite
//! pages are powers of two of at most 64 KiB), each stored by its SHA-256 in
//! `DIR/blobs` beside the binaries and listed in order in `backups/<ID>/image.txt`
//! (`sha256 size` lines, checksummed in the manifest). Page n of the repository is
//! at offset n of the image, so the images of a repository that changed a little
//! share every chunk but those holding changed pages, and a later backup writes
//! only those. Delete and prune keep every chunk a remaining backup lists,
//! as they keep its binaries; verify checks each against its name.
//!
//! Reading a backup reads its image on demand (see `chunk_image`): only the
//! chunks holding the pages its queries touch, each checked against its hash the
//! first time; nothing is written. A backup that also writes packages
//! reassembles its image into a file (`assemble_image`), each chunk checked
//! against its hash as it is copied (memory: one copy buffer); a temporary copy
//! ([`Catalogue::image_of`], `DIR/.tmp-read-*/repository.db`) goes when dropped,
//! and one left by a killed command goes with the next command that takes the
//! catalogue exclusively.

use super::blobs::{parse_line, CHUNK};
use super::catalogue::Catalogue;
use super::chunk_image::ChunkImage;
use super::manifest::Manifest;
use super::{BackupError, Result};
use crate::events::{Event, Events, Unit};
use crate::repository::blob::hex;
use crate::repository::sqlite::IMAGE_FILE;
use crate::repository::RepositoryError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The list of an image's chunks inside a backup folder.
pub const IMAGE_LIST_FILE: &str = "image.txt";

/// The size of an image chunk: 1 MiB, 256 pages of 4 KiB.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The chunks of an image list up to its first bad line (name, size), and that
/// line's error.
type ChunkList = (Vec<(String, u64)>, Option<BackupError>);

/// Where [`Catalogue::read_chunk`] puts a chunk's bytes: a slice of its size, or a
/// file (written through the buffer it is read into; its path names write errors).
pub(super) enum ChunkDest<'a> {
    Slice(&'a mut [u8]),
    File(&'a mut dyn Write, &'a Path, &'a mut [u8]),
}

/// The prefix of the temporary folders images are reassembled in.
pub(crate) const READ_PREFIX: &str = ".tmp-read-";

/// A backup's image: its size, its chunks, and how many of them this backup wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStats {
    /// The size of the image (the SQLite database) in bytes.
    pub bytes: u64,
    /// How many chunks it is stored as.
    pub chunks: u64,
    /// How many of them this backup wrote into the catalogue.
    pub copied_chunks: u64,
    /// Their size: what this backup added to the catalogue for its image.
    pub copied_bytes: u64,
    /// The size of the chunks already in the catalogue (shared with other backups).
    pub reused_bytes: u64,
    /// The backup whose image this one shares whole, because the repository had not
    /// changed since it was taken (its generation token was the same): no image was
    /// copied at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged_since: Option<String>,
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Stores an image as chunks in the catalogue as it is passed in, piece by piece,
/// and writes their list.
pub(crate) struct ChunkWriter {
    blobs: super::blobs::CatalogueBlobs,
    list: PathBuf,
    out: BufWriter<File>,
    stats: ImageStats,
}

impl ChunkWriter {
    /// Starts the chunk list `list` (a new file) of an image for catalogue `cat`.
    pub(crate) fn new(cat: &Catalogue, list: &Path) -> Result<ChunkWriter> {
        let out = super::create::new_file(list)?;
        Ok(ChunkWriter {
            blobs: cat.blobs(),
            list: list.to_path_buf(),
            out: BufWriter::new(out),
            stats: ImageStats::default(),
        })
    }

    /// Stores the next chunk (at most [`CHUNK_BYTES`]; only the last may be
    /// shorter) unless the catalogue has it, not yet synced.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<()> {
        let n = data.len() as u64;
        let sha = hex(&Sha256::digest(data));
        self.stats.chunks += 1;
        self.stats.bytes += n;
        if self.blobs.has(&sha, n) {
            self.stats.reused_bytes += n;
        } else {
            self.blobs.put_hashed(&sha, data)?;
            self.stats.copied_chunks += 1;
            self.stats.copied_bytes += n;
        }
        writeln!(self.out, "{sha} {n}").map_err(|e| BackupError::io(&self.list, e))
    }

    /// Runs `feed` with a sink that passes each piece to this writer on a thread of
    /// its own, so that one chunk is hashed and written while the next is read (and
    /// the last while the reader goes on to its other work); returns what `feed`
    /// returned and the writer. When the writer fails, the sink fails from then on
    /// and the writer's error is returned. At most two pieces wait between them.
    pub(crate) fn on_thread<T>(
        self,
        feed: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<()>) -> Result<T>,
    ) -> Result<(T, ChunkWriter)> {
        let list = self.list.clone();
        let stopped = || {
            BackupError::io(
                &list,
                std::io::Error::other("the thread writing the image's chunks stopped"),
            )
        };
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let writer = std::thread::Builder::new()
                .name("jcrpack-chunks".into())
                .spawn_scoped(scope, move || -> Result<ChunkWriter> {
                    let mut w = self;
                    for piece in rx {
                        w.push(&piece)?;
                    }
                    Ok(w)
                })
                .map_err(|e| BackupError::io(&list, e))?;
            let fed = feed(&mut |piece: &[u8]| tx.send(piece.to_vec()).map_err(|_| stopped()));
            drop(tx);
            let written = writer.join().unwrap_or_else(|_| Err(stopped()));
            match (fed, written) {
                (_, Err(e)) | (Err(e), Ok(_)) => Err(e),
                (Ok(t), Ok(w)) => Ok((t, w)),
            }
        })
    }

    /// Ends the list (not yet synced: the backup syncs it with its other files
    /// before it is renamed into place) and returns what was stored.
    pub(crate) fn finish(self) -> Result<ImageStats> {
        let list = self.list;
        self.out
            .into_inner()
            .map_err(|e| BackupError::io(&list, e.into_error()))?;
        Ok(self.stats)
    }
}

impl Catalogue {
    /// Stores the image file `image` as chunks (those the catalogue lacks written,
    /// not yet synced) and writes their list to `list`.
    pub(crate) fn store_chunks(
        &self,
        image: &Path,
        list: &Path,
        repository: &Path,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<ImageStats> {
        let mut src = File::open(image).map_err(|e| BackupError::io(image, e))?;
        let total = src.metadata().map_err(|e| BackupError::io(image, e))?.len();
        events.event(&Event::Phase {
            name: "storing the image",
            total: Some(total),
            unit: Unit::Bytes,
        });
        let mut chunks = ChunkWriter::new(self, list)?;
        let mut buf = vec![0u8; CHUNK_BYTES];
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(RepositoryError::Cancelled {
                    repository: repository.to_path_buf(),
                }
                .into());
            }
            let n = read_full(&mut src, &mut buf).map_err(|e| BackupError::io(image, e))?;
            if n == 0 {
                break;
            }
            chunks.push(&buf[..n])?;
            events.event(&Event::Advance { amount: n as u64 });
        }
        chunks.finish()
    }

    /// Writes the image listed in `list` (of backup `id`) to the new file `dest`,
    /// each chunk checked against its name: a missing or damaged chunk is
    /// [`BackupError::Damaged`].
    pub(crate) fn assemble_image(&self, id: &str, list: &Path, dest: &Path) -> Result<()> {
        let (chunks, bad) = self.chunk_list(id, list)?;
        let out = File::create_new(dest).map_err(|e| BackupError::io(dest, e))?;
        let mut out = BufWriter::with_capacity(CHUNK, out);
        let mut buf = vec![0u8; CHUNK];
        for (sha, size) in &chunks {
            self.read_chunk(id, sha, *size, ChunkDest::File(&mut out, dest, &mut buf))?;
        }
        if let Some(e) = bad {
            return Err(e);
        }
        out.flush().map_err(|e| BackupError::io(dest, e))?;
        Ok(())
    }

    /// The chunks listed in `list` (of backup `id`) in order, up to the first bad
    /// line, and the error that line (or reading the list) is, if any: to report
    /// after checking the chunks before it.
    fn chunk_list(&self, id: &str, list: &Path) -> Result<ChunkList> {
        let f = match File::open(list) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BackupError::Damaged {
                    id: id.to_string(),
                    detail: format!("its {IMAGE_LIST_FILE} is missing"),
                })
            }
            Err(e) => return Err(BackupError::io(list, e)),
        };
        let mut chunks = Vec::new();
        for line in BufReader::new(f).lines() {
            let line = match line {
                Ok(l) => l,
                Err(e) => return Ok((chunks, Some(BackupError::io(list, e)))),
            };
            let Some((sha, size)) = parse_line(&line) else {
                let bad = BackupError::Damaged {
                    id: id.to_string(),
                    detail: format!("its {IMAGE_LIST_FILE} has a bad line '{line}'"),
                };
                return Ok((chunks, Some(bad)));
            };
            chunks.push((sha.to_string(), size));
        }
        Ok((chunks, None))
    }

    /// Reads image chunk `sha` (`size` bytes by the list) to its end into `dest`,
    /// checked against its name: a missing or damaged chunk, or one that is not
    /// `size` bytes long, is [`BackupError::Damaged`].
    pub(super) fn read_chunk(
        &self,
        id: &str,
        sha: &str,
        size: u64,
        mut dest: ChunkDest<'_>,
    ) -> Result<()> {
        let damaged = |detail: String| BackupError::Damaged {
            id: id.to_string(),
            detail,
        };
        let mut r = self
            .blobs()
            .open_verified(self.dir(), sha)
            .map_err(|e| damaged(format!("image chunk {sha}: {e}")))?;
        // Past a slice's end, a longer file is read to its end (where its hash is
        // checked).
        let mut spare = [0u8; 4096];
        let mut n = 0u64;
        loop {
            let into: &mut [u8] = match &mut dest {
                ChunkDest::Slice(d) => match d.get_mut(n as usize..) {
                    Some(rest) if !rest.is_empty() => rest,
                    _ => &mut spare[..],
                },
                ChunkDest::File(_, _, buf) => buf,
            };
            let k = match r.read(into) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(damaged(e.to_string().replacen("blob ", "image chunk ", 1))),
            };
            if let ChunkDest::File(out, path, buf) = &mut dest {
                out.write_all(&buf[..k])
                    .map_err(|e| BackupError::io(*path, e))?;
            }
            n += k as u64;
        }
        if n != size {
            return Err(damaged(format!(
                "image chunk {sha} has {n} bytes, not {size}"
            )));
        }
        Ok(())
    }

    /// Opens the image of backup `id` (format 2) to be read on demand (see
    /// `chunk_image`): its chunk list read and checked first (a bad line is
    /// [`BackupError::Damaged`]), then each chunk as a read first needs it. Opening
    /// reads the image's first pages (its schema): a damaged chunk there is the
    /// error of the open, as any other later is the error of the read.
    pub(crate) fn open_image_on_demand(
        &self,
        id: &str,
    ) -> Result<(crate::repository::sqlite::SqliteStore, Arc<ChunkImage>)> {
        let dir = self.backup_dir(id);
        let (chunks, bad) = self.chunk_list(id, &dir.join(IMAGE_LIST_FILE))?;
        if let Some(e) = bad {
            return Err(e);
        }
        let image = ChunkImage::new(self, id, chunks).ok_or_else(|| BackupError::Damaged {
            id: id.to_string(),
            detail: format!("its {IMAGE_LIST_FILE} lists more bytes than an image can have"),
        })?;
        let image = Arc::new(image);
        let source: Arc<dyn crate::repository::sqlite::ImageSource> = image.clone();
        match crate::repository::sqlite::SqliteStore::open_image_from(&dir, source, self.dir()) {
            Ok(store) => Ok((store, image)),
            Err(e) => Err(image.take_damage().unwrap_or(BackupError::Damaged {
                id: id.to_string(),
                detail: e.to_string(),
            })),
        }
    }

    /// The image file of backup `id` (manifest `m`) to open: the image of an old
    /// backup (format 1, `repository.db` in its folder) in place, else a
    /// reassembled copy in a temporary folder that lives as long as the returned
    /// guard.
    pub(crate) fn image_of(
        &self,
        id: &str,
        m: &Manifest,
    ) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
        let dir = self.backup_dir(id);
        if m.image.is_none() {
            return Ok((dir.join(IMAGE_FILE), None));
        }
        let tmp = tempfile::Builder::new()
            .prefix(READ_PREFIX)
            .tempdir_in(self.dir())
            .map_err(|e| BackupError::io(self.dir(), e))?;
        let dest = tmp.path().join(IMAGE_FILE);
        self.assemble_image(id, &dir.join(IMAGE_LIST_FILE), &dest)?;
        Ok((dest, Some(tmp)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_stored_once_and_reassemble_to_the_same_bytes() {
        let d = tempfile::tempdir().unwrap();
        let cat = Catalogue::create(&d.path().join("cat")).unwrap();
        // 2.5 chunks; the first two identical.
        let mut data = vec![7u8; CHUNK_BYTES * 2];
        data.extend((0..CHUNK_BYTES / 2).map(|i| (i % 251) as u8));
        let img = d.path().join("img");
        std::fs::write(&img, &data).unwrap();
        let no = AtomicBool::new(false);
        let list = d.path().join("list1");
        let s = cat
            .store_chunks(&img, &list, d.path(), &crate::events::NoEvents, &no)
            .unwrap();
        assert_eq!(s.chunks, 3);
        assert_eq!(s.bytes, data.len() as u64);
        assert_eq!(s.copied_chunks, 2);
        assert_eq!(s.reused_bytes, CHUNK_BYTES as u64);
        // Change one byte of the last chunk: only it is written again.
        *data.last_mut().unwrap() ^= 1;
        std::fs::write(&img, &data).unwrap();
        let list2 = d.path().join("list2");
        let s = cat
            .store_chunks(&img, &list2, d.path(), &crate::events::NoEvents, &no)
            .unwrap();
        assert_eq!(s.copied_chunks, 1);
        assert_eq!(s.copied_bytes, (CHUNK_BYTES / 2) as u64);
        let out = d.path().join("out");
        cat.assemble_image("x", &list2, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), data);
        // A damaged chunk is named.
        let first = std::fs::read_to_string(&list2).unwrap();
        let sha = first.split(' ').next().unwrap().to_string();
        let p = cat.blobs().path_of(&sha).unwrap();
        let mut bad = std::fs::read(&p).unwrap();
        bad[0] ^= 1;
        std::fs::write(&p, bad).unwrap();
        let e = cat
            .assemble_image("x", &list2, &d.path().join("out2"))
            .unwrap_err();
        assert!(e.to_string().contains(&sha), "{e}");
        assert!(e.to_string().contains("backup x is damaged"), "{e}");
    }
}
