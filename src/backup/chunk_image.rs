//! A backup's image (format 2) read on demand, the pages SQLite asks for and no
//! others (see `repository::sqlite::image_vfs`): restoring one page from the
//! backup of a large repository reads the few chunks that hold its rows and the
//! indexes leading to them, not the whole image, and writes no temporary copy.
//!
//! Each chunk is checked against its name (SHA-256, and its size by the list)
//! the first time a page in it is read: read whole, hashed, and kept in memory
//! until a page of another chunk is read (one chunk, 1 MiB, at a time). A chunk
//! checked once is read from its file again as SQLite asks (the files kept open,
//! at most [`OPEN_FILES`]). A chunk that fails its check (missing, damaged, of
//! another size than listed) fails the read that needs it; the first such
//! failure is kept ([`ChunkImage::damage`]) so that the store reports it rather
//! than SQLite's "disk I/O error". Damage in a chunk no read touches is not
//! seen: `backup verify` checks every chunk.

use super::catalogue::Catalogue;
use super::chunks::ChunkDest;
use super::BackupError;
use crate::repository::sqlite::ImageSource;
use std::collections::HashMap;
use std::fs::File;
use std::sync::{Mutex, MutexGuard};

/// Chunk files kept open at most (past it all are closed and opened again as
/// needed).
const OPEN_FILES: usize = 64;

/// A backup's image, read chunk by chunk on demand.
pub(crate) struct ChunkImage {
    catalogue: Catalogue,
    id: String,
    /// The chunks in order: name and size.
    chunks: Vec<(String, u64)>,
    /// Where each chunk starts in the image.
    starts: Vec<u64>,
    size: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Which chunks were checked.
    checked: Vec<bool>,
    /// The chunk checked last, and its bytes.
    last: Option<(usize, Vec<u8>)>,
    /// Open files of checked chunks.
    files: HashMap<usize, File>,
    /// The first failure.
    damage: Option<BackupError>,
}

impl ChunkImage {
    /// The image of backup `id` of `catalogue` made of `chunks` (name and size, in
    /// order); `None` when their sizes overflow.
    pub(crate) fn new(catalogue: &Catalogue, id: &str, chunks: Vec<(String, u64)>) -> Option<Self> {
        let mut starts = Vec::with_capacity(chunks.len());
        let mut size = 0u64;
        for (_, n) in &chunks {
            starts.push(size);
            size = size.checked_add(*n)?;
        }
        Some(ChunkImage {
            catalogue: catalogue.clone(),
            id: id.to_string(),
            state: Mutex::new(State {
                checked: vec![false; chunks.len()],
                ..State::default()
            }),
            chunks,
            starts,
            size,
        })
    }

    /// What the first failed read met, taken (as the error opening the image is).
    pub(crate) fn take_damage(&self) -> Option<BackupError> {
        self.lock().damage.take()
    }

    /// What the first failed read met, in words (for the store's errors).
    pub(crate) fn damage(&self) -> Option<String> {
        self.lock().damage.as_ref().map(|e| match e {
            BackupError::Damaged { detail, .. } => detail.clone(),
            other => other.to_string(),
        })
    }

    /// How many chunks were checked (read whole) so far.
    #[cfg(test)]
    pub(crate) fn chunks_checked(&self) -> usize {
        self.lock().checked.iter().filter(|c| **c).count()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fills `out` from chunk `i` at `within` (inside the chunk).
    fn read_in(
        &self,
        st: &mut State,
        i: usize,
        within: u64,
        out: &mut [u8],
    ) -> Result<(), BackupError> {
        let from = within as usize;
        if let Some((j, bytes)) = &st.last {
            if *j == i {
                out.copy_from_slice(&bytes[from..from + out.len()]);
                return Ok(());
            }
        }
        let (sha, size) = &self.chunks[i];
        if !st.checked[i] {
            let mut bytes = st.last.take().map(|(_, b)| b).unwrap_or_default();
            bytes.resize(*size as usize, 0);
            self.catalogue
                .read_chunk(&self.id, sha, *size, ChunkDest::Slice(&mut bytes))?;
            st.checked[i] = true;
            out.copy_from_slice(&bytes[from..from + out.len()]);
            st.last = Some((i, bytes));
            return Ok(());
        }
        let damaged = |e: std::io::Error| BackupError::Damaged {
            id: self.id.clone(),
            detail: format!("image chunk {sha}: {e}"),
        };
        if !st.files.contains_key(&i) {
            if st.files.len() >= OPEN_FILES {
                st.files.clear();
            }
            let path = self
                .catalogue
                .blobs()
                .path_of(sha)
                .map_err(|e| damaged(std::io::Error::other(e.to_string())))?;
            st.files.insert(i, File::open(path).map_err(damaged)?);
        }
        read_exact_at(&st.files[&i], out, within).map_err(damaged)
    }
}

/// Fills `out` from file `f` at `at`.
#[cfg(unix)]
fn read_exact_at(f: &File, out: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, out, at)
}

/// Fills `out` from file `f` at `at`.
#[cfg(not(unix))]
fn read_exact_at(mut f: &File, out: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    f.seek(std::io::SeekFrom::Start(at))?;
    f.read_exact(out)
}

impl ImageSource for ChunkImage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
        let mut st = self.lock();
        while !buf.is_empty() {
            let i = self
                .starts
                .partition_point(|s| *s <= offset)
                .checked_sub(1)
                .filter(|i| offset - self.starts[*i] < self.chunks[*i].1)
                .ok_or_else(|| std::io::Error::other("a read past the image's end"))?;
            let within = offset - self.starts[i];
            let n = (buf.len() as u64).min(self.chunks[i].1 - within) as usize;
            let (head, rest) = std::mem::take(&mut buf).split_at_mut(n);
            if let Err(e) = self.read_in(&mut st, i, within, head) {
                let words = e.to_string();
                st.damage.get_or_insert(e);
                return Err(std::io::Error::other(words));
            }
            buf = rest;
            offset += n as u64;
        }
        Ok(())
    }
}
