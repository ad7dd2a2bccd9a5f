//! `lm pack`: a release as deterministic bytes.
//!
//! The zip is a light-modules root (what Magnolia Cloud and `magnolia.resources.dir`
//! hold): `<module>/<path>` for every file of every module, plus [`MANIFEST_NAME`]
//! at the top with each module's version and a SHA-256 and size per file. It is
//! written by the project's deterministic writer ([`crate::archive::PackageWriter`]):
//! entries sorted by name, one fixed time (`SOURCE_DATE_EPOCH` as given by the caller,
//! else 1980-01-01), fixed modes, no extra fields, file bytes untouched.
//!
//! `--npm` writes one module as an npm package tarball, the way Magnolia's CLI installs
//! light modules (`mgnl install` extracts the tarball into `<light-modules>/<package
//! name>` with the first path component stripped, so the package root is the module
//! folder; `magnolia-build` picks packages with the keyword `magnolia-light-module`):
//! `package/package.json` (name = module name, version from `module.yaml` as semver,
//! the keyword) and `package/<path>` for each file; ustar headers written here with
//! mode 0644, uid/gid 0, empty user names and one fixed time (`SOURCE_DATE_EPOCH`, else
//! 1985-10-26 08:15:00 UTC, the time `npm pack` uses); gzip with no name and time 0.
//!
//! Every file is hashed again while it is copied and compared with the hash taken
//! when the release was read: a file that changed in between fails the pack, and
//! nothing appears under the output name (both writers write a temporary file that is
//! renamed into place at the end).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::model::{hex, Module, Release, MANIFEST_NAME};
use crate::archive::{
    timestamp_from_epoch, ArchiveError, PackageSink, PackageWriter, WriterOptions,
};
use crate::events::{Event, Events, Unit};

/// `npm pack`'s fixed entry time, 1985-10-26T08:15:00Z, used when no
/// `SOURCE_DATE_EPOCH` is given.
pub const NPM_EPOCH: u64 = 499_162_500;

/// How to pack.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackOptions {
    /// `SOURCE_DATE_EPOCH` (seconds since 1970-01-01 UTC), read by the caller.
    pub source_date_epoch: Option<u64>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The output file.
    pub path: PathBuf,
    /// SHA-256 of the output, lower-case hex.
    pub sha256: String,
    /// Size of the output in bytes.
    pub bytes: u64,
    /// Number of module files packed.
    pub files: usize,
    /// The modules packed, with their versions.
    pub modules: Vec<(String, Option<String>)>,
}

/// Why packing failed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Reading a module or writing the zip failed.
    #[error("{0}")]
    Archive(#[from] ArchiveError),
    /// Writing the tarball failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file changed between reading the release and packing it.
    #[error("{0} changed while it was being packed")]
    Changed(String),
    /// The release cannot be an npm package as it is.
    #[error("{0}")]
    Npm(String),
}

/// The manifest: format, and per module its version and files (path, size, SHA-256).
pub fn manifest(release: &Release) -> Value {
    let modules: Vec<Value> = release
        .modules
        .values()
        .map(|m| {
            let files: Vec<Value> = m
                .files
                .iter()
                .map(|(p, f)| json!({"path": p, "size": f.size, "sha256": f.sha256}))
                .collect();
            json!({"name": m.name, "version": m.version(), "files": files})
        })
        .collect();
    json!({"format": "jcrpack-lm-release/1", "modules": modules})
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackError + '_ {
    move |source| PackError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads file `rel` of `m` fully, checking it still has the hash the release has.
fn file_bytes(
    m: &Module,
    source: &dyn crate::archive::Archive,
    rel: &str,
) -> Result<Vec<u8>, PackError> {
    let entry = m.entry_name(rel);
    let mut reader = source.open(&entry)?;
    let mut data = Vec::new();
    reader
        .read_to_end(&mut data)
        .map_err(|e| ArchiveError::from_read_error(source.name(), &entry, e))?;
    let expected = m.files.get(rel).map(|f| f.sha256.as_str());
    if expected != Some(hex(&Sha256::digest(&data)).as_str()) {
        return Err(PackError::Changed(format!("{}/{rel}", m.name)));
    }
    Ok(data)
}

fn finish_hash(path: &Path) -> Result<(String, u64), PackError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex(&h.finalize()), total))
}

/// Writes `release` as a deterministic zip at `out`.
/// Progress goes to `events`: a `packing` phase counting files.
pub fn pack_zip(
    release: &Release,
    out: &Path,
    options: PackOptions,
    events: &dyn Events,
) -> Result<Packed, PackError> {
    let mut wo = WriterOptions::default();
    if let Some(s) = options.source_date_epoch {
        wo = wo.with_timestamp(timestamp_from_epoch(i64::try_from(s).unwrap_or(i64::MAX)));
    }
    // Every entry name, sorted: the manifest among the module folders.
    let mut names: Vec<(String, Option<(&Module, &str)>)> = vec![(MANIFEST_NAME.to_owned(), None)];
    for m in release.modules.values() {
        for rel in m.files.keys() {
            names.push((format!("{}/{rel}", m.name), Some((m, rel.as_str()))));
        }
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    events.event(&Event::Phase {
        name: "packing",
        total: Some(names.len() as u64 - 1),
        unit: Unit::Items,
    });
    let result = write_zip(release, out, wo, &names, events);
    events.event(&Event::Finished);
    result
}

type Named<'a> = (String, Option<(&'a Module, &'a str)>);

fn write_zip(
    release: &Release,
    out: &Path,
    wo: WriterOptions,
    names: &[Named<'_>],
    events: &dyn Events,
) -> Result<Packed, PackError> {
    let mut writer = PackageWriter::create(out, wo)?;
    let mut sources: std::collections::BTreeMap<String, Box<dyn crate::archive::Archive>> =
        std::collections::BTreeMap::new();
    let mut files = 0;
    for (name, what) in names {
        match what {
            None => {
                let mut text = serde_json::to_string_pretty(&manifest(release))
                    .map_err(|e| PackError::Npm(e.to_string()))?;
                text.push('\n');
                writer.add_bytes(name, text.into_bytes())?;
            }
            Some((m, rel)) => {
                if !sources.contains_key(&m.name) {
                    sources.insert(m.name.clone(), m.open_source()?);
                }
                let source = &sources[&m.name];
                let data = file_bytes(m, &**source, rel)?;
                writer.add_bytes(name, data)?;
                files += 1;
                events.event(&Event::Advance { amount: 1 });
            }
        }
    }
    writer.finish()?;
    let (sha256, bytes) = finish_hash(out)?;
    Ok(Packed {
        path: out.to_owned(),
        sha256,
        bytes,
        files,
        modules: release
            .modules
            .values()
            .map(|m| (m.name.clone(), m.version().map(str::to_owned)))
            .collect(),
    })
}

/// A Magnolia version as semver: `1.0-SNAPSHOT` is `1.0.0-SNAPSHOT`, `2` is `2.0.0`.
pub fn semver(version: &str) -> Option<String> {
    if !super::descriptor::is_version(version) {
        return None;
    }
    let split = version
        .char_indices()
        .find(|&(i, c)| {
            c == '-' || (c == '.' && !version[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .unwrap_or(version.len());
    let (nums, rest) = version.split_at(split);
    let mut parts: Vec<&str> = nums.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    let core: Vec<String> = parts
        .iter()
        .map(|p| p.trim_start_matches('0'))
        .map(|p| {
            if p.is_empty() {
                "0".to_owned()
            } else {
                p.to_owned()
            }
        })
        .collect();
    let pre = rest.trim_start_matches(['-', '.']);
    let mut s = core.join(".");
    if !pre.is_empty() {
        s.push('-');
        s.push_str(pre);
    }
    Some(s)
}

/// True for a name npm accepts for a new package (lower case, URL-safe, at most 214
/// characters, not starting with `.` or `_`).
pub fn is_npm_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 214
        && !name.starts_with(['.', '_'])
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._~".contains(&b))
}

/// The `package.json` for module `m`: its own one completed, or a new one.
fn package_json(m: &Module, own: Option<&[u8]>) -> Result<Vec<u8>, PackError> {
    let version = m.version().ok_or_else(|| {
        PackError::Npm(format!(
            "module {} has no version in module.yaml; npm needs one",
            m.name
        ))
    })?;
    let semver = semver(version).ok_or_else(|| {
        PackError::Npm(format!(
            "version '{version}' of {} cannot be written as semver",
            m.name
        ))
    })?;
    let mut obj: Map<String, Value> = match own {
        Some(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(o)) => o,
            _ => {
                return Err(PackError::Npm(format!(
                    "{}/package.json is not a JSON object",
                    m.name
                )))
            }
        },
        None => Map::new(),
    };
    match obj.get("name").and_then(Value::as_str) {
        Some(n) if n != m.name => {
            return Err(PackError::Npm(format!(
                "{}/package.json names the package '{n}', but mgnl install extracts a package into a folder of its name, so the module would become '{n}'",
                m.name
            )))
        }
        _ => {}
    }
    match obj.get("version").and_then(Value::as_str) {
        Some(v) if v != semver => {
            return Err(PackError::Npm(format!(
                "{}/package.json has version {v}, module.yaml has {version} ({semver} as semver)",
                m.name
            )))
        }
        _ => {}
    }
    obj.insert("name".into(), Value::String(m.name.clone()));
    obj.insert("version".into(), Value::String(semver));
    obj.entry("description")
        .or_insert_with(|| Value::String(format!("Magnolia light module {}", m.name)));
    let keywords = obj
        .entry("keywords")
        .or_insert_with(|| Value::Array(Vec::new()));
    match keywords {
        Value::Array(k) => {
            if !k.iter().any(|v| v == "magnolia-light-module") {
                k.push(Value::String("magnolia-light-module".into()));
            }
        }
        _ => {
            return Err(PackError::Npm(format!(
                "{}/package.json: keywords is not an array",
                m.name
            )))
        }
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(obj))
        .map_err(|e| PackError::Npm(e.to_string()))?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// One ustar header for a regular file.
fn tar_header(name: &str, size: u64, mtime: u64) -> Result<[u8; 512], PackError> {
    let mut h = [0u8; 512];
    let bytes = name.as_bytes();
    let (prefix, base) = if bytes.len() <= 100 {
        (&b""[..], bytes)
    } else {
        // Split at a '/' so that the prefix is at most 155 and the name 100 bytes.
        let cut = (0..bytes.len())
            .rev()
            .find(|&i| bytes[i] == b'/' && i <= 155 && bytes.len() - i - 1 <= 100)
            .ok_or_else(|| PackError::Npm(format!("path too long for a tar header: {name}")))?;
        (&bytes[..cut], &bytes[cut + 1..])
    };
    h[..base.len()].copy_from_slice(base);
    let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
        let s = format!("{v:0width$o}", width = len - 1);
        h[at..at + len - 1].copy_from_slice(&s.as_bytes()[s.len() - (len - 1)..]);
    };
    if size >= 8u64.pow(11) {
        return Err(PackError::Npm(format!(
            "{name} is too large for a ustar header"
        )));
    }
    octal(&mut h, 100, 8, 0o644);
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, size);
    octal(&mut h, 136, 12, mtime.min(8u64.pow(11) - 1));
    h[148..156].copy_from_slice(b"        ");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix);
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

/// Writes module `module` of `release` (the only one when `None`) as an npm tarball.
/// Progress goes to `events`: a `packing` phase counting files.
pub fn pack_npm(
    release: &Release,
    module: Option<&str>,
    out: &Path,
    options: PackOptions,
    events: &dyn Events,
) -> Result<Packed, PackError> {
    events.event(&Event::Phase {
        name: "packing",
        total: None,
        unit: Unit::Items,
    });
    let result = write_npm(release, module, out, options, events);
    events.event(&Event::Finished);
    result
}

fn write_npm(
    release: &Release,
    module: Option<&str>,
    out: &Path,
    options: PackOptions,
    events: &dyn Events,
) -> Result<Packed, PackError> {
    let m = match module {
        Some(name) => release
            .module(name)
            .ok_or_else(|| PackError::Npm(format!("the release has no module '{name}'")))?,
        None => {
            let mut it = release.modules.values();
            match (it.next(), it.next()) {
                (Some(m), None) => m,
                _ => {
                    return Err(PackError::Npm(format!(
                        "an npm package holds one light module, the release has {}: choose one with --module",
                        release.modules.len()
                    )))
                }
            }
        }
    };
    if !is_npm_name(&m.name) {
        return Err(PackError::Npm(format!(
            "'{}' is not a valid npm package name (lower case letters, digits, - . _ ~)",
            m.name
        )));
    }
    let source = m.open_source()?;
    let own = if m.files.contains_key("package.json") {
        Some(file_bytes(m, &*source, "package.json")?)
    } else {
        None
    };
    let pj = package_json(m, own.as_deref())?;
    let mtime = options.source_date_epoch.unwrap_or(NPM_EPOCH);
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".jcrpack-")
        .suffix(".tgz.tmp")
        .tempfile_in(&dir)
        .map_err(io(&dir))?;
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(
            std::io::BufWriter::new(tmp.as_file()),
            flate2::Compression::new(9),
        );
    let mut gz = gz;
    let mut entries: Vec<(String, Option<&str>)> = vec![("package/package.json".into(), None)];
    for rel in m.files.keys().filter(|r| r.as_str() != "package.json") {
        entries.push((format!("package/{rel}"), Some(rel.as_str())));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut files = 0;
    for (name, rel) in &entries {
        let data = match rel {
            None => pj.clone(),
            Some(rel) => {
                files += 1;
                events.event(&Event::Advance { amount: 1 });
                file_bytes(m, &*source, rel)?
            }
        };
        let header = tar_header(name, data.len() as u64, mtime)?;
        gz.write_all(&header).map_err(io(out))?;
        gz.write_all(&data).map_err(io(out))?;
        let pad = (512 - data.len() % 512) % 512;
        gz.write_all(&vec![0u8; pad]).map_err(io(out))?;
    }
    gz.write_all(&[0u8; 1024]).map_err(io(out))?;
    let buffered = gz.finish().map_err(io(out))?;
    buffered
        .into_inner()
        .map_err(|e| PackError::Io {
            path: out.display().to_string(),
            source: e.into_error(),
        })?
        .sync_all()
        .map_err(io(out))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(out).map_err(|e| PackError::Io {
        path: out.display().to_string(),
        source: e.error,
    })?;
    let (sha256, bytes) = finish_hash(out)?;
    Ok(Packed {
        path: out.to_owned(),
        sha256,
        bytes,
        files,
        modules: vec![(m.name.clone(), m.version().map(str::to_owned))],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_of_magnolia_versions() {
        assert_eq!(semver("1.0-SNAPSHOT").as_deref(), Some("1.0.0-SNAPSHOT"));
        assert_eq!(semver("0.0.7").as_deref(), Some("0.0.7"));
        assert_eq!(semver("2").as_deref(), Some("2.0.0"));
        assert_eq!(semver("1.2.3.RELEASE").as_deref(), Some("1.2.3-RELEASE"));
        assert_eq!(semver("x"), None);
    }

    #[test]
    fn packing_reports_progress_and_gives_the_same_bytes_twice() {
        use crate::events::{OwnedEvent, Recorded};
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("lm/shop");
        std::fs::create_dir_all(m.join("templates")).unwrap();
        std::fs::write(m.join("module.yaml"), "version: 1.0\n").unwrap();
        std::fs::write(m.join("templates/a.yaml"), "title: A\n").unwrap();
        let release = Release::read(&[tmp.path().join("lm").as_path()]).unwrap();
        let events = Recorded::default();
        let a = pack_zip(
            &release,
            &tmp.path().join("a.zip"),
            PackOptions::default(),
            &events,
        )
        .unwrap();
        let b = pack_zip(
            &release,
            &tmp.path().join("b.zip"),
            PackOptions::default(),
            &events,
        )
        .unwrap();
        assert_eq!(a.sha256, b.sha256);
        let recorded = events.events();
        let advances = recorded
            .iter()
            .filter(|e| matches!(e, OwnedEvent::Advance { .. }))
            .count();
        assert_eq!(advances, 4);
        assert!(matches!(recorded.last(), Some(OwnedEvent::Finished)));
        let n = pack_npm(
            &release,
            None,
            &tmp.path().join("a.tgz"),
            PackOptions::default(),
            &events,
        )
        .unwrap();
        assert_eq!(n.modules, vec![("shop".to_owned(), Some("1.0".to_owned()))]);
    }

    #[test]
    fn npm_names() {
        assert!(is_npm_name("saas-demo"));
        assert!(!is_npm_name("Main"));
        assert!(!is_npm_name("_x"));
    }

    #[test]
    fn tar_header_checksum_and_long_names() {
        let h = tar_header("package/a.txt", 5, NPM_EPOCH).unwrap();
        let stored = std::str::from_utf8(&h[148..154]).unwrap();
        let mut copy = h;
        copy[148..156].copy_from_slice(b"        ");
        let sum: u64 = copy.iter().map(|&b| u64::from(b)).sum();
        assert_eq!(u64::from_str_radix(stored, 8).unwrap(), sum);
        let long = format!("package/{}/{}", "d".repeat(120), "f".repeat(90));
        let h = tar_header(&long, 0, 0).unwrap();
        assert_eq!(&h[..90], "f".repeat(90).as_bytes());
        assert!(tar_header(&format!("package/{}", "x".repeat(300)), 0, 0).is_err());
    }
}
