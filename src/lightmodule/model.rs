//! A release: the light modules of one or more folders, or of a pack (zip), read once.
//!
//! A folder given on the command line is a module when it holds `module.yaml` or one
//! of the folders Magnolia scans for definitions ([`DEFINITION_TYPES`]), and a
//! light-modules root (`magnolia.resources.dir`) otherwise, whose sub-folders are the
//! modules. A pack written by `lm pack` is such a root in a zip. Files and folders
//! whose name starts with a dot (`.git`, `.DS_Store`) are not part of a module.
//!
//! Every file is hashed (SHA-256, streamed); YAML files (`.yaml`, `.yml`) are parsed
//! with [`super::yaml::read`] and kept with their problems. Symbolic links inside a
//! folder are refused by the archive layer, never followed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::descriptor::{self, Descriptor};
use super::yaml::{self, YamlDoc};
use crate::archive::{self, Archive, ArchiveError, ReadOptions};

/// The folders of a light module whose YAML files Magnolia registers as definitions
/// (Magnolia's registries; shared/reference/magnolia.md §3.1).
pub const DEFINITION_TYPES: &[&str] = &[
    "apps",
    "blocks",
    "contentTypes",
    "dialogs",
    "fieldTypes",
    "jsModels",
    "mediaEditors",
    "messageViews",
    "renderers",
    "restEndpoints",
    "restClients",
    "sites",
    "templates",
    "themes",
    "virtualUriMappings",
    "webhooks",
    "chooserDialogs",
    "warp",
];

/// The name of the release manifest `lm pack` writes at the root of a pack.
pub const MANIFEST_NAME: &str = "lm-release.json";

/// Largest YAML file read (a definition is a few KiB; this bounds memory).
pub const MAX_YAML_BYTES: u64 = 16 << 20;

/// One file of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// One light module.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// The module name (its folder name).
    pub name: String,
    /// Every file, by path relative to the module folder (`templates/pages/home.yaml`).
    pub files: BTreeMap<String, FileInfo>,
    /// Every YAML file, parsed.
    pub yaml: BTreeMap<String, YamlDoc>,
    /// YAML files that are not valid UTF-8 (path, byte offset of the first bad byte).
    pub not_utf8: Vec<(String, usize)>,
    /// Files too large to parse.
    pub too_large: Vec<String>,
    /// `module.yaml`, when present, with its problems.
    pub descriptor: Option<(Descriptor, Vec<descriptor::Problem>)>,
    /// Where the module was read: the folder or pack given, and the module's folder
    /// inside it (`""` when the path given is the module itself).
    pub origin: (PathBuf, String),
}

impl Module {
    /// The module's version from `module.yaml`.
    pub fn version(&self) -> Option<&str> {
        self.descriptor.as_ref()?.0.version.as_deref()
    }

    /// The definition type of a file path (`templates` for `templates/pages/a.yaml`),
    /// when it is a YAML file inside a definition folder.
    pub fn definition_type(path: &str) -> Option<&'static str> {
        if !is_yaml(path) {
            return None;
        }
        let first = path.split('/').next()?;
        DEFINITION_TYPES.iter().copied().find(|t| *t == first)
    }

    /// The file a definition id's path names in folder `kind`: `components/Banner` in
    /// `dialogs` is `dialogs/components/Banner.yaml` (or `.yml`), when it exists.
    pub fn definition_file(&self, kind: &str, path: &str) -> Option<String> {
        for ext in ["yaml", "yml"] {
            let f = format!("{kind}/{path}.{ext}");
            if self.files.contains_key(&f) {
                return Some(f);
            }
        }
        None
    }
}

/// True for `.yaml` and `.yml` files.
pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// A set of light modules.
#[derive(Debug, Clone, Default)]
pub struct Release {
    /// What was read, for messages (the paths given, joined with `, `).
    pub source: String,
    /// The modules by name.
    pub modules: BTreeMap<String, Module>,
}

/// Why a release could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The folder or pack could not be read.
    #[error("{0}")]
    Archive(#[from] ArchiveError),
    /// Two inputs hold a module of the same name.
    #[error("module '{name}' is in both {first} and {second}")]
    DuplicateModule {
        /// The module name.
        name: String,
        /// Where it was first found.
        first: String,
        /// Where it was found again.
        second: String,
    },
    /// Nothing that looks like a light module was found.
    #[error("{0}: no light module found (neither module.yaml nor a definition folder such as templates/ or dialogs/, nor sub-folders holding them)")]
    Empty(String),
}

fn hidden(path: &str) -> bool {
    path.split('/').any(|s| s.starts_with('.'))
}

fn looks_like_module(archive: &dyn Archive, prefix: &str) -> bool {
    let join = |n: &str| {
        if prefix.is_empty() {
            n.to_owned()
        } else {
            format!("{prefix}/{n}")
        }
    };
    archive.entry(&join("module.yaml")).is_some()
        || DEFINITION_TYPES
            .iter()
            .chain(["decorations", "i18n", "webresources", "includes"].iter())
            .any(|t| archive.is_dir(&join(t)))
}

impl Module {
    /// Opens the module's source again, for reading file bytes (packing).
    pub fn open_source(&self) -> Result<Box<dyn Archive>, ArchiveError> {
        archive::open(&self.origin.0, &ReadOptions::default())
    }

    /// The entry name of file `rel` in [`Module::open_source`].
    pub fn entry_name(&self, rel: &str) -> String {
        if self.origin.1.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.origin.1)
        }
    }
}

impl Release {
    /// Reads the modules of each path (a module folder, a light-modules root, or a
    /// pack zip) into one release.
    pub fn read(paths: &[&Path]) -> Result<Release, ReleaseError> {
        let mut release = Release {
            source: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            modules: BTreeMap::new(),
        };
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for path in paths {
            let archive = archive::open(path, &ReadOptions::default())?;
            let mut found = Vec::new();
            if archive.kind() == archive::ArchiveKind::Folder && looks_like_module(&*archive, "") {
                // The folder's own name as given (a link keeps the link's name);
                // `.` and `..` are resolved first.
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .or_else(|| {
                        std::fs::canonicalize(path)
                            .ok()
                            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    })
                    .unwrap_or_else(|| path.display().to_string());
                found.push((name, String::new()));
            } else {
                for e in archive.children("")? {
                    let n = e.name().trim_end_matches('/');
                    if e.is_dir() && !n.starts_with('.') && n != "node_modules" {
                        found.push((n.to_owned(), n.to_owned()));
                    }
                }
            }
            if found.is_empty() {
                return Err(ReleaseError::Empty(path.display().to_string()));
            }
            for (name, prefix) in found {
                if let Some(first) = origin.get(&name) {
                    return Err(ReleaseError::DuplicateModule {
                        name,
                        first: first.clone(),
                        second: path.display().to_string(),
                    });
                }
                let mut module = read_module(&*archive, &name, &prefix)?;
                module.origin = (path.to_path_buf(), prefix);
                origin.insert(name.clone(), path.display().to_string());
                release.modules.insert(name, module);
            }
        }
        Ok(release)
    }

    /// The module `name`, when the release has it.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.get(name)
    }
}

fn read_module(archive: &dyn Archive, name: &str, prefix: &str) -> Result<Module, ArchiveError> {
    let mut module = Module {
        name: name.to_owned(),
        ..Module::default()
    };
    let strip = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let entries: Vec<(String, String, u64)> = archive
        .listing()
        .files()
        .filter_map(|e| {
            let rel = e.name().strip_prefix(&strip)?;
            (!hidden(rel)).then(|| (e.name().to_owned(), rel.to_owned(), e.size()))
        })
        .collect();
    for (entry, rel, size) in entries {
        let parse = is_yaml(&rel) && size <= MAX_YAML_BYTES;
        let bundle =
            rel.starts_with("i18n/") && rel.ends_with(".properties") && size <= MAX_YAML_BYTES;
        if is_yaml(&rel) && !parse {
            module.too_large.push(rel.clone());
        }
        let mut reader = archive.open(&entry)?;
        let mut hasher = Sha256::new();
        let mut kept = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| ArchiveError::from_read_error(archive.name(), &entry, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            if parse || bundle {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        let sha256 = hex(&hasher.finalize());
        if bundle {
            if let Err(e) = std::str::from_utf8(&kept) {
                module.not_utf8.push((rel.clone(), e.valid_up_to()));
            }
        }
        if parse {
            match String::from_utf8(kept) {
                Ok(text) => {
                    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                    let doc = yaml::read(text);
                    if rel == "module.yaml" {
                        module.descriptor = Some(descriptor::read(doc.root.as_ref()));
                    }
                    module.yaml.insert(rel.clone(), doc);
                }
                Err(e) => module
                    .not_utf8
                    .push((rel.clone(), e.utf8_error().valid_up_to())),
            }
        }
        module.files.insert(rel, FileInfo { size, sha256 });
    }
    Ok(module)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (p, c) in files {
            let path = dir.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
    }

    #[test]
    fn a_module_folder_and_a_root_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("root/shop");
        write(
            &m,
            &[
                ("module.yaml", "version: 1.0.0\n"),
                ("templates/pages/home.yaml", "title: Home\n"),
                (".git/config", "x"),
                ("webresources/a.css", "a{}"),
            ],
        );
        let r = Release::read(&[m.as_path()]).unwrap();
        let shop = r.module("shop").unwrap();
        assert_eq!(shop.version(), Some("1.0.0"));
        assert_eq!(
            shop.files.keys().collect::<Vec<_>>(),
            [
                "module.yaml",
                "templates/pages/home.yaml",
                "webresources/a.css"
            ]
        );
        assert_eq!(
            shop.definition_file("templates", "pages/home").as_deref(),
            Some("templates/pages/home.yaml")
        );
        let r = Release::read(&[tmp.path().join("root").as_path()]).unwrap();
        assert!(r.module("shop").is_some());
        let err = Release::read(&[m.as_path(), tmp.path().join("root").as_path()]).unwrap_err();
        assert!(matches!(err, ReleaseError::DuplicateModule { .. }));
    }
}
