//! Helpers of the fault tests (`crash.rs`, `faults.rs`, `pg_concurrency.rs`): packages with pages and
//! binaries, repository folders copied whole, dumps, a blob store check, and a small
//! seeded random generator.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The jcrpack binary.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("jcrpack")
}

/// A jcrpack command with a pinned clock (installs stamp `jcr:created` and the like
/// with it, so two installs of a package give the same dump).
pub fn jcrpack() -> Command {
    let mut c = Command::new(bin());
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

/// Runs `c` and panics with its stderr unless it succeeds.
pub fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The whole default workspace of `repo` as canonical JSON.
pub fn dump(repo: &Path) -> String {
    let out = run_ok(jcrpack().args(["dump", "--repo"]).arg(repo));
    String::from_utf8(out.stdout).unwrap()
}

/// Creates an empty repository at `repo`.
pub fn init(repo: &Path) {
    run_ok(jcrpack().arg("init").arg(repo));
}

/// Installs `package` into `repo`.
pub fn import(repo: &Path, package: &Path) {
    run_ok(jcrpack().arg("import").arg(package).arg("--repo").arg(repo));
}

/// Copies folder `from` (a repository: database, `-wal`/`-shm` files if any, blobs)
/// to `to`, which must not exist.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// `from` copied to `to`, replacing whatever `to` held.
pub fn fresh_copy(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    copy_dir(from, to);
}

/// splitmix64: a few lines of well-mixed, seedable randomness.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// A package folder below `/content/big` (filter root, mode replace): pages
/// `first..first + pages` of a few nodes each (titles marked with `version`), `files`
/// binaries of 8 KiB (content depends on `version` and the file number), and `large`
/// binaries of 512 KiB. Binaries are random bytes, so they are stored, not deflated.
pub struct BigPackage {
    pub version: u32,
    pub first: usize,
    pub pages: usize,
    pub files: usize,
    pub large: usize,
}

impl BigPackage {
    /// Writes the package folder at `dir`.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let w = |rel: &str, bytes: &[u8]| {
            let f = dir.join(rel);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, bytes).unwrap();
        };
        w(
            "META-INF/vault/filter.xml",
            b"<workspaceFilter version=\"1.0\"><filter root=\"/content/big\"/></workspaceFilter>",
        );
        w(
            "META-INF/vault/properties.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties><entry key="group">faults</entry><entry key="name">big</entry><entry key="version">{}</entry></properties>"#,
                self.version
            )
            .as_bytes(),
        );
        w(
            "jcr_root/content/big/.content.xml",
            format!(r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" version="{{Long}}{}"/>"#, self.version).as_bytes(),
        );
        let v = self.version;
        for i in self.first..self.first + self.pages {
            w(
                &format!("jcr_root/content/big/p{i:05}/.content.xml"),
                format!(
                    r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="page {i} v{v}" n="{{Long}}{i}"><a jcr:primaryType="nt:unstructured" x="{v}"><b jcr:primaryType="nt:unstructured" y="[p,q{v}]"/></a><c jcr:primaryType="nt:unstructured"/></jcr:root>"#
                )
                .as_bytes(),
            );
        }
        let mut rng = Rng::new(u64::from(v) << 32);
        for i in 0..self.files {
            w(
                &format!("jcr_root/content/big/files/f{i:04}.bin"),
                &rng.bytes(8192),
            );
        }
        for i in 0..self.large {
            w(
                &format!("jcr_root/content/big/large/l{i}.bin"),
                &rng.bytes(512 * 1024),
            );
        }
        dir.to_path_buf()
    }
}

/// What [`check_blobs`] found.
#[derive(Debug, Default)]
pub struct BlobCheck {
    /// Blobs the database refers to (tree and journal).
    pub referenced: usize,
    /// Files in the blob folder nothing refers to (an interrupted install's blobs and
    /// temporary files): allowed, they only take space.
    pub orphans: usize,
}

/// Checks that every blob the database of `repo` refers to, in the tree or in the
/// undo journal, is in the blob folder, complete (its size and SHA-256 match).
/// Run it after something has opened the repository since the kill (the dump does),
/// so that SQLite has recovered its log.
pub fn check_blobs(repo: &Path) -> BlobCheck {
    let conn = rusqlite::Connection::open(repo.join("repository.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT value FROM prop WHERE type = 2
             UNION ALL SELECT value FROM jprop WHERE type = 2 AND value IS NOT NULL",
        )
        .unwrap();
    let values: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let re = regex::Regex::new("blob:([0-9a-f]{64}):([0-9]+)").unwrap();
    let mut referenced = BTreeSet::new();
    for v in &values {
        for c in re.captures_iter(v) {
            referenced.insert((c[1].to_string(), c[2].parse::<u64>().unwrap()));
        }
    }
    let blobs = repo.join("blobs");
    let mut files = BTreeSet::new();
    for (sha, size) in &referenced {
        let rel = format!("{}/{}", &sha[..2], &sha[2..]);
        let bytes = std::fs::read(blobs.join(&rel))
            .unwrap_or_else(|e| panic!("blob {sha} that the database refers to is missing: {e}"));
        assert_eq!(bytes.len() as u64, *size, "blob {sha} is incomplete");
        assert_eq!(
            &jcrpack::dump::sha256_hex(&bytes),
            sha,
            "blob {sha} has other content"
        );
        files.insert(rel);
    }
    let mut orphans = 0;
    for e in walkdir::WalkDir::new(&blobs)
        .into_iter()
        .map(Result::unwrap)
    {
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(&blobs).unwrap();
            if !files.contains(&rel.to_string_lossy().into_owned()) {
                orphans += 1;
            }
        }
    }
    BlobCheck {
        referenced: referenced.len(),
        orphans,
    }
}

/// The names of the entries of folder `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Whether `name` is a temporary file of the package writer
/// (`.OUT.zip.jcrpack-tmp-PID-XXXXXX`).
pub fn is_writer_temp(name: &str) -> bool {
    jcrpack::archive::temp_owner(name).is_some()
}

/// Reads every entry of the zip at `path` to its end (which checks each CRC-32) and
/// returns how many there are.
pub fn read_back_zip(path: &Path) -> usize {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        std::io::copy(&mut f, &mut std::io::sink())
            .unwrap_or_else(|e| panic!("{}: entry {i}: {e}", path.display()));
    }
    z.len()
}

/// Writes the image of backup `id` of catalogue `cat` to the file `to`: its chunks
/// (listed in `image.txt`, stored in the catalogue's blob folder) one after the
/// other, or its `repository.db` in a backup of manifest format 1.
#[allow(dead_code)]
pub fn backup_image(cat: &Path, id: &str, to: &Path) {
    let b = cat.join("backups").join(id);
    let old = b.join("repository.db");
    if old.is_file() {
        std::fs::copy(old, to).unwrap();
        return;
    }
    let mut out = std::fs::File::create(to).unwrap();
    for line in std::fs::read_to_string(b.join("image.txt"))
        .unwrap()
        .lines()
    {
        let sha = line.split(' ').next().unwrap();
        let mut chunk =
            std::fs::File::open(cat.join("blobs").join(&sha[..2]).join(&sha[2..])).unwrap();
        std::io::copy(&mut chunk, &mut out).unwrap();
    }
}

/// A package folder `dir/name` of `pages` pages below /content/big, page `i`
/// written by `page(i)` (its DocView attributes and children).
pub fn pages_package(
    dir: &Path,
    name: &str,
    pages: usize,
    page: impl Fn(usize) -> String,
) -> PathBuf {
    let p = dir.join(name);
    let w = |rel: &str, text: &str| {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    w(
        "META-INF/vault/filter.xml",
        "<workspaceFilter version=\"1.0\"><filter root=\"/content/big\"/></workspaceFilter>",
    );
    w(
        "jcr_root/content/big/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    );
    for i in 0..pages {
        w(
            &format!("jcr_root/content/big/p{i:05}/.content.xml"),
            &format!(
                r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" {}</jcr:root>"#,
                page(i)
            ),
        );
    }
    p
}
