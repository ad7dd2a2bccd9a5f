//! A backup opened as the source of a restore: its image checked against the
//! manifest's checksum first, so that a damaged image is refused before anything
//! is compared: the chunk list (`image.txt`) of a format 2 backup, whose chunks are
//! then each checked the first time a read needs it (a damaged one fails that
//! read, and the restore writes nothing), or the whole `repository.db` of a format
//! 1 backup. (Blobs are checked as they are copied.)

use crate::backup::{BackupError, Catalogue};
use crate::repository::StoreRead;
use sha2::{Digest, Sha256};
use std::io::Read;

/// The image file of a format 1 backup.
const OLD_IMAGE: &str = "repository.db";

/// Opens backup `id` of `catalogue` for a restore: an unknown id, a manifest of a
/// newer format, or an image that fails its checksum is an error.
pub fn open_backup(catalogue: &Catalogue, id: &str) -> Result<Box<dyn StoreRead>, BackupError> {
    let m = catalogue.manifest(id)?;
    let dir = catalogue.backup_dir(id);
    let damaged = |detail: String| BackupError::Damaged {
        id: id.to_string(),
        detail,
    };
    let image = if m.image.is_some() {
        crate::backup::IMAGE_LIST_FILE
    } else {
        OLD_IMAGE
    };
    let entry = m
        .files
        .iter()
        .find(|f| f.path == image)
        .ok_or_else(|| damaged(format!("its manifest lists no {image}")))?;
    let path = dir.join(image);
    let mut f = std::fs::File::open(&path).map_err(|e| damaged(format!("{image}: {e}")))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| BackupError::io(&path, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    let sha = crate::repository::blob::hex(&hash.finalize());
    if size != entry.bytes || sha != entry.sha256 {
        return Err(damaged(format!(
            "{image} fails its checksum ({size} bytes, SHA-256 {sha}; the manifest says {} bytes, {})",
            entry.bytes, entry.sha256
        )));
    }
    catalogue.open_store(id)
}
