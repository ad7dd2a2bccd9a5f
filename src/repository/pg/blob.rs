//! Binaries in the database: a `blob` row per SHA-256 with its content in
//! `blob_chunk` rows, streamed in and out one chunk at a time.
//!
//! Writing streams the data into chunks under a staging key (`~N`, from the
//! `upload` sequence) while hashing it; at the end the chunks are renamed to the
//! hash, or dropped when that blob is stored already. Outside a write transaction
//! the upload is its own transaction, so a client that dies mid-upload leaves
//! nothing; inside one it commits or vanishes with it. Reading checks at the end
//! that the content still hashes to its name.

use super::schema::CHUNK;
use super::{Conn, PgDb};
use crate::repository::blob::{hex, is_sha256, HashedBytes};
use crate::repository::{RepositoryError, Result};
use crate::value::Binary;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::{Arc, Mutex};

/// Fills `buf` from `data` as far as it goes; returns the bytes read.
fn fill(data: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match data.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl PgDb {
    fn not_found(&self, sha256: &str, reason: impl Into<String>) -> RepositoryError {
        RepositoryError::BlobNotFound {
            repository: self.location.clone(),
            sha256: sha256.to_string(),
            reason: reason.into(),
        }
    }

    /// Fails unless blob `sha256` of `size` bytes is stored.
    pub(crate) fn require_blob(&self, sha256: &str, size: u64) -> Result<()> {
        if !is_sha256(sha256) {
            return Err(self.not_found(sha256, "expected 64 lower-case hex digits"));
        }
        // A write transaction knows the blobs it stored or checked (without a
        // statement, which would write the rows waiting in `bulk` one node at a time).
        if let Some(Some(known)) = self.with_cache(|c| c.blobs.get(sha256).copied()) {
            if known == size {
                return Ok(());
            }
        }
        match self
            .query("SELECT size FROM blob WHERE sha256 = $1", &[&sha256])?
            .first()
        {
            Some(r) => {
                let stored: i64 = self.get(r, 0)?;
                self.with_cache(|c| c.put_blob(sha256, stored as u64));
                if stored as u64 == size {
                    Ok(())
                } else {
                    Err(self.not_found(sha256, format!("the stored blob has {stored} bytes")))
                }
            }
            None => Err(self.not_found(sha256, "no such blob")),
        }
    }

    /// Streams `data` into the blob tables.
    pub(crate) fn put_blob_stream(&self, data: &mut dyn Read) -> Result<Binary> {
        self.in_blob_txn(|db| db.upload(data))
    }

    /// Stores bytes hashed before (the installer's read-ahead hashed them):
    /// their digest names them, they are not hashed again.
    pub(crate) fn put_hashed(&self, data: &HashedBytes) -> Result<Binary> {
        self.in_blob_txn(|db| {
            let (sha, bytes) = (data.sha256(), data.bytes());
            if bytes.len() < CHUNK {
                return db.store_one_chunk(sha, bytes);
            }
            let size = bytes.len() as u64;
            let fresh = db.execute(
                "INSERT INTO blob(sha256, size) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&sha, &(size as i64)],
            )?;
            if fresh == 1 {
                // Its row and its chunks commit together: no staging key.
                for (seq, chunk) in bytes.chunks(CHUNK).enumerate() {
                    db.execute(
                        "INSERT INTO blob_chunk(blob, seq, data) VALUES ($1, $2, $3)",
                        &[&sha, &(seq as i32), &chunk],
                    )?;
                }
            }
            db.with_cache(|c| c.put_blob(sha, size));
            Ok(Binary::Blob {
                sha256: sha.to_string(),
                size,
            })
        })
    }

    /// Runs `store` inside the write transaction, or inside one of its own
    /// (committed when it succeeds) outside one.
    fn in_blob_txn(&self, store: impl FnOnce(&PgDb) -> Result<Binary>) -> Result<Binary> {
        let own_txn = {
            let c = self.lock()?;
            if c.snapshots > 0 && !c.in_txn {
                return Err(crate::repository::RepositoryError::ReadOnly {
                    repository: self.location.clone(),
                    action: "store a blob while a read snapshot of the same store is open".into(),
                });
            }
            !c.in_txn
        };
        if own_txn {
            self.batch("BEGIN")?;
            self.lock()?.in_txn = true;
        }
        let result = store(self);
        if own_txn {
            let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
            let ended = self.batch(end);
            self.lock()?.in_txn = false;
            if result.is_ok() {
                ended?;
            }
        }
        result
    }

    /// Stores blob `sha256` of one chunk at most, `bytes`: waiting with the
    /// rows inside a write transaction, else now.
    fn store_one_chunk(&self, sha256: &str, bytes: &[u8]) -> Result<Binary> {
        let size = bytes.len() as u64;
        if !self.hold_blob(sha256, bytes)? {
            let fresh = self.execute(
                "INSERT INTO blob(sha256, size) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&sha256, &(size as i64)],
            )?;
            if fresh == 1 && !bytes.is_empty() {
                self.execute(
                    "INSERT INTO blob_chunk(blob, seq, data) VALUES ($1, 0, $2)",
                    &[&sha256, &bytes],
                )?;
            }
        }
        self.with_cache(|c| c.put_blob(sha256, size));
        Ok(Binary::Blob {
            sha256: sha256.to_string(),
            size,
        })
    }

    fn upload(&self, data: &mut dyn Read) -> Result<Binary> {
        let io = |e| RepositoryError::Io {
            path: self.location.clone(),
            source: e,
        };
        // The first chunk read to its end, not into a zeroed chunk-sized buffer:
        // most binaries are far smaller than a chunk.
        let mut buf = Vec::new();
        data.take(CHUNK as u64).read_to_end(&mut buf).map_err(io)?;
        if buf.len() < CHUNK {
            // One chunk: its name is known already.
            return self.store_one_chunk(&hex(&Sha256::digest(&buf)), &buf);
        }
        let mut hasher = Sha256::new();
        hasher.update(&buf);
        let mut n = buf.len();
        let mut size = n as u64;
        let rows = self.query("SELECT '~' || nextval('upload')", &[])?;
        let staging: String = self.get(&rows[0], 0)?;
        let mut seq = 0i32;
        loop {
            self.execute(
                "INSERT INTO blob_chunk(blob, seq, data) VALUES ($1, $2, $3)",
                &[&staging, &seq, &&buf[..n]],
            )?;
            seq += 1;
            n = fill(data, &mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        let sha = hex(&hasher.finalize());
        let fresh = self.execute(
            "INSERT INTO blob(sha256, size) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&sha, &(size as i64)],
        )?;
        if fresh == 1 {
            self.execute(
                "UPDATE blob_chunk SET blob = $2 WHERE blob = $1",
                &[&staging, &sha],
            )?;
        } else {
            self.execute("DELETE FROM blob_chunk WHERE blob = $1", &[&staging])?;
        }
        self.with_cache(|c| c.put_blob(&sha, size));
        Ok(Binary::Blob { sha256: sha, size })
    }

    /// Opens blob `sha256` for streaming.
    pub(crate) fn open_blob_stream(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        if !is_sha256(sha256) {
            return Err(self.not_found(sha256, "expected 64 lower-case hex digits"));
        }
        // Its size and first chunk in one statement: a binary of one chunk (most
        // of them) is read with no other.
        let rows = self.query(
            "SELECT b.size, c.data FROM blob b
             LEFT JOIN blob_chunk c ON c.blob = b.sha256 AND c.seq = 0
             WHERE b.sha256 = $1",
            &[&sha256],
        )?;
        let Some(r) = rows.first() else {
            return Err(self.not_found(sha256, "no such blob"));
        };
        let size: i64 = self.get(r, 0)?;
        let first: Option<Vec<u8>> = self.get(r, 1)?;
        Ok(Box::new(BlobReader {
            conn: Arc::clone(&self.conn),
            location: self.location.display().to_string(),
            sha256: sha256.to_string(),
            size: size as u64,
            next_seq: 0,
            fetched: first,
            chunk: Vec::new(),
            pos: 0,
            read: 0,
            hasher: Sha256::new(),
            done: false,
        }))
    }
}

/// A blob's content, fetched a chunk at a time on the store's connection.
struct BlobReader {
    conn: Arc<Mutex<Conn>>,
    location: String,
    sha256: String,
    size: u64,
    next_seq: i32,
    /// Chunk `next_seq`, fetched with the blob's size (`None`: ask for it).
    fetched: Option<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
    read: u64,
    hasher: Sha256,
    done: bool,
}

impl BlobReader {
    fn damaged(&self, why: String) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "blob {} in the repository {} is damaged: {why}",
                self.sha256, self.location
            ),
        )
    }

    /// Fetches the next chunk; `false` at the end of the blob.
    fn next_chunk(&mut self) -> std::io::Result<bool> {
        if self.read >= self.size {
            return Ok(false);
        }
        if let Some(data) = self.fetched.take() {
            self.take_chunk(data)?;
            return Ok(true);
        }
        let row = {
            let mut c = self
                .conn
                .lock()
                .map_err(|_| std::io::Error::other("the connection was poisoned by a panic"))?;
            c.flush().map_err(std::io::Error::other)?;
            c.query(
                "SELECT data FROM blob_chunk WHERE blob = $1 AND seq = $2",
                &[&self.sha256, &self.next_seq],
            )
            .map_err(std::io::Error::other)?
        };
        let Some(r) = row.first() else {
            return Err(self.damaged(format!(
                "chunk {} is missing after {} of {} bytes",
                self.next_seq, self.read, self.size
            )));
        };
        let data: Vec<u8> = r.try_get(0).map_err(std::io::Error::other)?;
        self.take_chunk(data)?;
        Ok(true)
    }

    /// Makes `data`, chunk `next_seq` as fetched, the one read next.
    fn take_chunk(&mut self, data: Vec<u8>) -> std::io::Result<()> {
        if data.is_empty() {
            return Err(self.damaged(format!("chunk {} is empty", self.next_seq)));
        }
        self.next_seq += 1;
        self.chunk = data;
        self.pos = 0;
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() || self.done {
            return Ok(0);
        }
        if self.pos >= self.chunk.len() && !self.next_chunk()? {
            self.done = true;
            let got = hex(&std::mem::take(&mut self.hasher).finalize());
            if self.read != self.size || got != self.sha256 {
                return Err(self.damaged(format!("its {} bytes hash to {got}", self.read)));
            }
            return Ok(0);
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.hasher.update(&out[..n]);
        self.pos += n;
        self.read += n as u64;
        if self.read > self.size {
            return Err(self.damaged(format!("it holds more than {} bytes", self.size)));
        }
        Ok(n)
    }
}
