//! Small packages' bytes kept in memory for downloads (`GET /etc/packages/…zip`,
//! `download.jsp`).
//!
//! Reading a stored package takes its record (about ten SQLite statements, each a
//! read transaction of its own) and its blob (a file opened, read and its SHA-256
//! checked); under the load test's readers that was most of the server's CPU. A
//! package is content-addressed: the bytes a path serves are those of the blob its
//! `jcr:content/jcr:data` names, and every change the library makes to a stored
//! package (upload with `force`, `update.jsp`, `build`) writes a new zip and so a
//! new blob. So a download is answered from memory when the path's `jcr:data`
//! still names the blob the cached bytes were read (and checked) from: one
//! statement, whoever wrote the repository since (this server or another process).
//! A path whose package is gone or replaced misses and is read again.
//!
//! Bounded: packages up to [`MAX_ENTRY`] bytes, at most [`BUDGET`] bytes in all
//! (the cache is emptied when a new entry would pass it).

use super::registry::PackError;
use crate::repository::{StoreRead, DEFAULT_WORKSPACE};
use crate::value::{Binary, Value};
use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// The largest package kept (the same bound as the one-buffer download).
pub const MAX_ENTRY: u64 = 256 * 1024;

/// The most bytes kept in all.
pub const BUDGET: usize = 32 << 20;

/// A package's bytes, as downloaded.
#[derive(Debug, Clone)]
pub struct Cached {
    /// The blob (SHA-256) the bytes were read from.
    pub sha256: String,
    /// The download's file name (`name[-version].zip`).
    pub file_name: String,
    /// The zip.
    pub bytes: Bytes,
}

/// The cache: package path → its bytes.
#[derive(Debug, Default)]
pub struct Downloads {
    map: Mutex<HashMap<String, Cached>>,
}

/// The blob the package at `path` names now (`jcr:content/jcr:data`), if any (an
/// error when there is no `jcr:content` node).
pub fn current_blob(store: &dyn StoreRead, path: &str) -> Result<Option<String>, PackError> {
    let content = format!("{path}/jcr:content");
    Ok(
        match store
            .property(DEFAULT_WORKSPACE, &content, "jcr:data")?
            .as_ref()
            .and_then(|p| p.value())
        {
            Some(Value::Binary(Binary::Blob { sha256, .. })) => Some(sha256.clone()),
            _ => None,
        },
    )
}

impl Downloads {
    /// The cached bytes of `path` when its package still names the blob they were
    /// read from (one statement on `store`); a stale entry is dropped.
    pub fn get(&self, store: &dyn StoreRead, path: &str) -> Option<Cached> {
        let entry = self.peek(path)?;
        // A package gone with its node is an error of the property read (no node
        // there): a miss, and the full read answers (404, or the store's error).
        let now = current_blob(store, path).ok().flatten();
        self.check(path, entry, now.as_deref())
    }

    fn peek(&self, path: &str) -> Option<Cached> {
        self.map.lock().ok()?.get(path).cloned()
    }

    /// `entry` when `now` is its blob; else drops it.
    fn check(&self, path: &str, entry: Cached, now: Option<&str>) -> Option<Cached> {
        if now == Some(entry.sha256.as_str()) {
            return Some(entry);
        }
        if let Ok(mut m) = self.map.lock() {
            if m.get(path).is_some_and(|e| e.sha256 == entry.sha256) {
                m.remove(path);
            }
        }
        None
    }

    /// Keeps `entry` for `path` (when small enough).
    pub fn put(&self, path: &str, entry: Cached) {
        if entry.bytes.len() as u64 > MAX_ENTRY {
            return;
        }
        let Ok(mut m) = self.map.lock() else {
            return;
        };
        let held: usize = m
            .iter()
            .filter(|(k, _)| k.as_str() != path)
            .map(|(_, e)| e.bytes.len())
            .sum();
        if held + entry.bytes.len() > BUDGET {
            m.clear();
        }
        m.insert(path.to_string(), entry);
    }

    /// How many packages are kept.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str, n: usize) -> Cached {
        Cached {
            sha256: sha.into(),
            file_name: "p-1.zip".into(),
            bytes: Bytes::from(vec![7u8; n]),
        }
    }

    #[test]
    fn a_hit_only_while_the_path_names_the_same_blob() {
        let d = Downloads::default();
        let p = "/etc/packages/g/p-1.zip";
        d.put(p, entry("aa", 10));
        let e = d.peek(p).unwrap();
        assert!(d.check(p, e.clone(), Some("aa")).is_some());
        assert_eq!(d.len(), 1);
        // Replaced (another blob) or gone (none): a miss, and the entry is dropped.
        assert!(d.check(p, e.clone(), Some("bb")).is_none());
        assert!(d.is_empty());
        d.put(p, entry("aa", 10));
        assert!(d.check(p, e, None).is_none());
        assert!(d.is_empty());
    }

    #[test]
    fn bounded_by_entry_size_and_budget() {
        let d = Downloads::default();
        d.put(
            "/etc/packages/g/big.zip",
            entry("a", MAX_ENTRY as usize + 1),
        );
        assert!(d.is_empty());
        let per = MAX_ENTRY as usize;
        let fit = BUDGET / per;
        for i in 0..fit {
            d.put(&format!("/etc/packages/g/{i}.zip"), entry("a", per));
        }
        assert_eq!(d.len(), fit);
        // Replacing an entry does not count it twice.
        d.put("/etc/packages/g/0.zip", entry("b", per));
        assert_eq!(d.len(), fit);
        d.put("/etc/packages/g/one-more.zip", entry("a", per));
        assert_eq!(d.len(), 1);
    }
}
