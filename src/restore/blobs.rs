//! Binaries of the backup copied into the repository's blob store, only when the
//! repository lacks them, and verified while they are copied.

use super::error::{RestoreError, Result};
use crate::repository::blob::hex;
use crate::repository::{RepositoryError, StoreRead};
use crate::value::Binary;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::Read;

/// The blobs a restore has made sure of, and what copying them cost.
#[derive(Debug, Default)]
pub(crate) struct Blobs {
    /// Blobs known to be in the target (checked or copied), by SHA-256.
    present: HashSet<String>,
    /// Blobs copied.
    pub copied: u64,
    /// Bytes copied.
    pub bytes: u64,
}

/// A reader that hashes and counts what passes through it.
struct Hashing<'r> {
    inner: &'r mut dyn Read,
    hash: Sha256,
    size: u64,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

impl Blobs {
    /// Makes sure the target holds blob `sha256` of `size` bytes: when it does not,
    /// streams it from the source, checking that the content hashes to its name.
    pub fn ensure(
        &mut self,
        source: &dyn StoreRead,
        target: &dyn StoreRead,
        sha256: &str,
        size: u64,
    ) -> Result<()> {
        if self.present.contains(sha256) {
            return Ok(());
        }
        match target.open_blob(sha256) {
            Ok(_) => {}
            Err(RepositoryError::BlobNotFound { .. }) => {
                let mut from = source.open_blob(sha256)?;
                let mut reader = Hashing {
                    inner: &mut from,
                    hash: Sha256::new(),
                    size: 0,
                };
                // The source's reader fails at the end of a damaged blob: that is
                // the damage this names, not a failure of the target.
                let stored = target.put_blob(&mut reader);
                let actual = hex(&reader.hash.finalize());
                let stored = match stored {
                    Err(_) if actual != sha256 => {
                        return Err(RestoreError::DamagedBlob {
                            sha256: sha256.to_string(),
                            actual,
                            size: reader.size,
                        })
                    }
                    other => other?,
                };
                let ok = actual == sha256
                    && reader.size == size
                    && matches!(&stored, Binary::Blob { sha256: s, size: n } if s == sha256 && *n == size);
                if !ok {
                    return Err(RestoreError::DamagedBlob {
                        sha256: sha256.to_string(),
                        actual,
                        size: reader.size,
                    });
                }
                self.copied += 1;
                self.bytes += size;
            }
            Err(e) => return Err(e.into()),
        }
        self.present.insert(sha256.to_string());
        Ok(())
    }
}
