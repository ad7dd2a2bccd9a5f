//! Finding bootstrap files as Magnolia does, and ordering them (magnolia.md §1.3).
//!
//! Folders are searched recursively for `*.xml` and `*.yaml` files; files given by
//! name are taken as they are. With the `module` profile, files under a
//! `mgnl-bootstrap-samples` folder are skipped (Magnolia imports them only when
//! samples are installed, the `samples` profile); with `--module NAME` only files
//! under `mgnl-bootstrap/NAME/` (and `mgnl-bootstrap-samples/NAME/` for samples)
//! count, as Magnolia's module install selects them, and the others are listed as not
//! bootstrapped automatically. A file name found twice is imported once, the first in
//! path order (Magnolia's webapp bootstrap does the same), the others are listed.
//!
//! Order: name length, then `.xml` before `.yaml`, then name (Magnolia's
//! `BootstrapFilesComparator`), so a parent's file comes before its children's.

use std::path::{Path, PathBuf};

use super::error::BootstrapError;
use super::name::{self, Format};
use super::Profile;

/// One bootstrap file to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it is.
    pub path: PathBuf,
    /// Its file name.
    pub file_name: String,
    /// XML or YAML.
    pub format: Format,
}

/// A file that was found but will not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// Finds the bootstrap files under `paths` for `profile` (and `module`, when given),
/// in import order.
pub fn find(
    paths: &[PathBuf],
    profile: Profile,
    module: Option<&str>,
) -> Result<(Vec<Found>, Vec<Skipped>), BootstrapError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| BootstrapError::File {
            file: p.display().to_string(),
            source: e,
        })?;
        if meta.is_file() {
            candidates.push(p.clone());
            continue;
        }
        let mut here = Vec::new();
        for e in walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
        {
            let e = e.map_err(|e| BootstrapError::File {
                file: p.display().to_string(),
                source: e.into(),
            })?;
            if !e.file_type().is_file() {
                continue;
            }
            let Some(fname) = e.file_name().to_str() else {
                continue;
            };
            if name::split_extension(fname).is_none() {
                continue;
            }
            let rel = e.path().strip_prefix(p).unwrap_or(e.path());
            if let Some(reason) = excluded(rel, profile, module) {
                skipped.push(Skipped {
                    file: e.path().display().to_string(),
                    reason,
                });
                continue;
            }
            here.push(e.into_path());
        }
        candidates.extend(here);
    }
    let mut found: Vec<Found> = Vec::new();
    for path in candidates {
        let file_name = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_string();
        let Some((_, format)) = name::split_extension(&file_name) else {
            return Err(BootstrapError::Name(name::NameError {
                file: path.display().to_string(),
                reason: "a bootstrap file ends in .xml or .yaml".into(),
            }));
        };
        if let Some(first) = found.iter().find(|f| f.file_name == file_name) {
            skipped.push(Skipped {
                file: path.display().to_string(),
                reason: format!(
                    "same file name as {} (imported once, the first)",
                    first.path.display()
                ),
            });
            continue;
        }
        found.push(Found {
            path,
            file_name,
            format,
        });
    }
    found.sort_by(|a, b| {
        a.file_name
            .len()
            .cmp(&b.file_name.len())
            .then(a.format.cmp(&b.format))
            .then(a.file_name.cmp(&b.file_name))
    });
    Ok((found, skipped))
}

fn excluded(rel: &Path, profile: Profile, module: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = rel
        .parent()
        .map(|p| p.iter().filter_map(|s| s.to_str()).collect())
        .unwrap_or_default();
    let samples_at = parts.iter().position(|p| *p == "mgnl-bootstrap-samples");
    if samples_at.is_some() && profile != Profile::Samples {
        return Some("a sample (Magnolia imports mgnl-bootstrap-samples only with samples: --profile samples)".into());
    }
    if let Some(m) = module {
        let ok = parts.windows(2).any(|w| {
            (w[0] == "mgnl-bootstrap"
                || (w[0] == "mgnl-bootstrap-samples" && profile == Profile::Samples))
                && w[1] == m
        });
        if !ok {
            return Some(format!(
                "not under mgnl-bootstrap/{m}/: Magnolia does not bootstrap it automatically (only an explicit task does)"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_orders_and_skips() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let mk = |p: &str| {
            let f = root.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, "x").unwrap();
        };
        mk("mgnl-bootstrap/shop/config.modules.shop.apps.xml");
        mk("mgnl-bootstrap/shop/config.modules.shop.xml");
        mk("mgnl-bootstrap/shop/config.modules.shop.yaml");
        mk("mgnl-bootstrap/shop/sub/config.modules.xml");
        mk("mgnl-bootstrap/shop_default/config.modules.shop.xml");
        mk("mgnl-bootstrap-samples/shop/website.demo.xml");
        mk("mgnl-bootstrap/shop/README.txt");
        let (found, skipped) = find(&[root.to_path_buf()], Profile::Module, None).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.file_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "config.modules.xml",
                "config.modules.shop.xml",
                "config.modules.shop.yaml",
                "config.modules.shop.apps.xml"
            ]
        );
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        let (found, skipped) = find(&[root.to_path_buf()], Profile::Samples, Some("shop")).unwrap();
        assert!(found.iter().any(|f| f.file_name == "website.demo.xml"));
        assert!(skipped.iter().any(|s| s.file.contains("shop_default")));
    }
}
