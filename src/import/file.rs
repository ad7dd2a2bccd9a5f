//! Plain files (`nt:file` nodes) and `.binary` property files (reference §3.8).

use super::ahead::Blob;
use super::error::ImportError;
use super::report::Action;
use super::session::Session;
use crate::archive::Archive;
use crate::filter::ImportMode;
use crate::node::Node;
use crate::package::BinaryFile;
use crate::path;
use crate::repository::content::StoredProperty;
use crate::repository::AddOptions;
use crate::value::{Binary, Property, PropertyType, Value};

fn read_blob(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    entry: &str,
) -> Result<Binary, ImportError> {
    let ahead = s.read_ahead_blob(entry)?;
    store_blob(s, archive, entry, ahead)
}

/// Stores the data of `entry`: the bytes read and hashed ahead on the other
/// thread (`ahead`), or streamed from the archive and hashed here.
fn store_blob(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    entry: &str,
    ahead: Option<Blob>,
) -> Result<Binary, ImportError> {
    let stored = match ahead {
        Some(bytes) => s.txn.put_hashed_blob(&bytes),
        None => s.txn.put_blob(&mut archive.open(entry)?),
    };
    let b = stored.map_err(|source| ImportError::Blob {
        package: archive.name().to_string(),
        entry: entry.to_string(),
        source,
    })?;
    Ok(b)
}

fn sha(b: &Binary) -> Option<&str> {
    match b {
        Binary::Blob { sha256, .. } => Some(sha256),
        _ => None,
    }
}

/// Imports `entry` as the `nt:file` at `node_path`. When `described` the node was
/// created or updated from its `.dir/.content.xml` just before, and the file only
/// supplies `jcr:content/jcr:data`.
pub fn import_file(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    entry: &str,
    node_path: &str,
    described: bool,
) -> Result<(), ImportError> {
    // Its type is what matters here, not its identifier (not read).
    let existing = s.txn.node_without_uuid(&s.ws, node_path)?;
    let contained = s.contains(node_path);
    let mode = s.mode(node_path);
    let content_path = path::join(node_path, "jcr:content");
    match existing {
        None => {
            super::tree::ensure_parent(s, node_path)?;
            let blob = read_blob(s, archive, entry)?;
            let name = path::name(node_path).to_string();
            let mut content = Node::new("jcr:content", "nt:resource")
                .with(Property::single("jcr:data", Value::Binary(blob)))
                .with(Property::string(
                    "jcr:mimeType",
                    crate::mime::for_name_or_default(&name),
                ))
                .with(Property::single(
                    "jcr:lastModified",
                    Value::Date(s.opts.actor.time),
                ));
            content.index = 1;
            let content_path = path::join(node_path, "jcr:content");
            super::docview::autocreate(s, &mut content, &content_path);
            let mut file = Node::new(name, "nt:file");
            super::docview::autocreate(s, &mut file, node_path);
            file.children.push(content);
            s.add_node(node_path, &file, &AddOptions::append())?;
        }
        Some(info) => {
            if !contained && !described {
                return Ok(());
            }
            if !described
                && info.primary_type != "nt:file"
                && !s.types.is_node_type(&info.primary_type, "nt:file")
            {
                return s.fail_or_warn(
                    node_path,
                    format!(
                        "{node_path}: the package has a file here, but the node is a {}",
                        info.primary_type
                    ),
                );
            }
            if matches!(mode, ImportMode::Merge | ImportMode::MergeProperties) && !described {
                s.record(node_path, Action::Unchanged);
                return Ok(());
            }
            // Stored only once it is known to be needed: data a committed
            // `jcr:data` holds already is not stored (and synced) again.
            let ahead = s.read_ahead_blob(entry)?;
            if described
                && !s.types.is_node_type(&info.primary_type, "nt:file")
                && info.primary_type != "nt:file"
            {
                // A `.dir` describing a resource node itself: the file is its
                // jcr:data, reported modified when it differs (FileVault's
                // `handleBinNode` on a node that is no `nt:file`); digests and
                // sizes compared, no blob read back.
                let old = s.txn.property(&s.ws, node_path, "jcr:data")?;
                let blob = store_blob(s, archive, entry, ahead)?;
                let data = Property::single("jcr:data", Value::Binary(blob));
                s.txn.set_property(&s.ws, node_path, &data)?;
                if old.as_ref() != Some(&data) {
                    s.modified(node_path);
                }
                return Ok(());
            }
            let content = s.txn.node_without_uuid(&s.ws, &content_path)?;
            let recreate = match &content {
                None => true,
                Some(c) if described => c.primary_type.is_empty(),
                Some(c) => {
                    // `vlt:Package` (with its `vlt:definition`) is the package
                    // registry's record of an installed sub package: the file's data
                    // is updated in place and the record stays.
                    !c.mixins.iter().all(|m| m == "vlt:Package")
                        || (c.primary_type != "nt:resource"
                            && !s.txn.children(&s.ws, &content_path)?.is_empty())
                }
            };
            if recreate {
                let blob = store_blob(s, archive, entry, ahead)?;
                if content.is_some() {
                    super::references::remove_node(s, &content_path)?;
                }
                let mut c = Node::new("jcr:content", "nt:resource")
                    .with(Property::single("jcr:data", Value::Binary(blob)))
                    .with(Property::string(
                        "jcr:mimeType",
                        crate::mime::for_name_or_default(path::name(node_path)),
                    ))
                    .with(Property::single(
                        "jcr:lastModified",
                        Value::Date(s.opts.actor.time),
                    ));
                super::docview::autocreate(s, &mut c, &content_path);
                s.txn
                    .add_node(&s.ws, node_path, &c, &AddOptions::append())?;
                if described && content.is_none() {
                    // FileVault's `handleBinNode` adds the resource the DocView
                    // did not give: created, beside the DocView's line of the file.
                    s.record(&content_path, Action::Added);
                } else {
                    s.record(node_path, Action::Updated);
                }
            } else {
                // The resource's properties in one read: the writes below touch
                // no property read after them.
                let stored = s.txn.properties_against(&s.ws, &content_path, &[])?;
                let stored = |name: &str| {
                    stored.iter().find_map(|p| match p {
                        StoredProperty::Read(p) if p.name == name => Some(p),
                        _ => None,
                    })
                };
                let old = stored("jcr:data");
                let old_sha = old.and_then(|p| p.values.first()).and_then(|v| {
                    if let Value::Binary(b) = v {
                        sha(b)
                    } else {
                        None
                    }
                });
                let kept = match (&ahead, old_sha) {
                    (Some(b), Some(h)) => b.sha256() == h && s.txn.blob_stored(h, b.size())?,
                    _ => false,
                };
                let blob = match kept {
                    true => None,
                    false => Some(store_blob(s, archive, entry, ahead)?),
                };
                let same = kept
                    || blob
                        .as_ref()
                        .and_then(sha)
                        .is_some_and(|h| Some(h) == old_sha);
                // As FileVault's `importNtResource`: the data when it differs, the
                // date when the data changed or it is missing, the mime type from the
                // extension when it is missing.
                let mut changed = !same;
                // Present whenever the data differs (kept data is the same).
                if let Some(blob) = blob.filter(|_| !same) {
                    s.txn.set_property(
                        &s.ws,
                        &content_path,
                        &Property::single("jcr:data", Value::Binary(blob)),
                    )?;
                    s.txn.set_property(
                        &s.ws,
                        &content_path,
                        &Property::single("jcr:lastModified", Value::Date(s.opts.actor.time)),
                    )?;
                } else if stored("jcr:lastModified").is_none() {
                    s.txn.set_property(
                        &s.ws,
                        &content_path,
                        &Property::single("jcr:lastModified", Value::Date(s.opts.actor.time)),
                    )?;
                    changed = true;
                }
                if stored("jcr:mimeType").is_none() {
                    s.txn.set_property(
                        &s.ws,
                        &content_path,
                        &Property::string(
                            "jcr:mimeType",
                            crate::mime::for_name_or_default(path::name(node_path)),
                        ),
                    )?;
                    changed = true;
                }
                if !described {
                    s.record(
                        node_path,
                        if changed {
                            Action::Updated
                        } else {
                            Action::Unchanged
                        },
                    );
                } else if changed {
                    // The DocView reported the resource already (held back until
                    // now): as FileVault's `handleBinNode`, it is modified.
                    s.modified(&content_path);
                }
            }
            s.processed.insert(node_path);
        }
    }
    Ok(())
}

/// Applies the `.binary` files of the node at `node_path`.
pub fn apply_binaries(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    node_path: &str,
    binaries: &[BinaryFile],
) -> Result<(), ImportError> {
    if binaries.is_empty() {
        return Ok(());
    }
    if s.node(node_path)?.is_none() {
        s.report.warn(format!(
            "{node_path}: binary properties skipped: the node does not exist"
        ));
        return Ok(());
    }
    // An ancestor outside the filter gets its binaries only when the package's
    // DocView just created it (update() never runs for an uncovered node, so the
    // document's nodes outside the filter are the ones it created).
    if !s.contains(node_path) && !s.document_nodes.contains(node_path) {
        return Ok(());
    }
    let mode = s.mode(node_path);
    let mut names: Vec<&str> = binaries.iter().map(|b| b.property.as_str()).collect();
    names.dedup();
    for name in names {
        if !s.includes_property(node_path, name) {
            continue;
        }
        let existing = s.txn.property(&s.ws, node_path, name)?;
        if existing.is_some() && matches!(mode, ImportMode::Merge | ImportMode::MergeProperties) {
            continue;
        }
        let mut parts: Vec<&BinaryFile> = binaries.iter().filter(|b| b.property == name).collect();
        parts.sort_by_key(|b| b.index);
        let multiple = parts.iter().any(|b| b.index.is_some());
        let mut values = Vec::with_capacity(parts.len());
        for b in parts {
            values.push(Value::Binary(read_blob(s, archive, &b.entry)?));
        }
        let p = if multiple {
            Property::multi(name, PropertyType::Binary, values)
        } else {
            Property::single(name, values.remove(0))
        };
        if existing.as_ref() != Some(&p) {
            s.txn.set_property(&s.ws, node_path, &p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::events::Actor;
    use crate::import::{install, ImportOptions};
    use crate::repository::DEFAULT_WORKSPACE as WS;
    use crate::value::{Binary, Date, Value};

    fn options() -> ImportOptions {
        ImportOptions::new(Actor {
            user: "ci".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        })
    }

    /// The blob files under `dir` named for `sha256` (whatever the folder layout).
    fn blob_files(dir: &std::path::Path, sha256: &str) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(blob_files(&p, sha256));
            } else if p
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "")
                .ends_with(sha256)
            {
                out.push(p);
            }
        }
        out
    }

    /// A folder package with the filter root `/content/f` and `files` below
    /// `jcr_root/content/f/`.
    fn package_of(files: &[(&str, &str)]) -> tempfile::TempDir {
        let pkg = tempfile::tempdir().unwrap();
        let filter =
            r#"<workspaceFilter version="1.0"><filter root="/content/f"/></workspaceFilter>"#;
        let mut all = vec![("META-INF/vault/filter.xml".to_string(), filter.to_string())];
        for (name, text) in files {
            all.push((format!("jcr_root/content/f/{name}"), text.to_string()));
        }
        for (name, text) in all {
            crate::test_support::write(pkg.path(), &name, &text);
        }
        pkg
    }

    /// The report's lines below `/content/f/`, in order, as `-v` prints them.
    fn lines(r: &crate::import::Report) -> Vec<String> {
        r.entries
            .iter()
            .filter(|e| e.path.starts_with("/content/f/"))
            .map(|e| format!("{} {}", e.action.letter(), e.path))
            .collect()
    }

    /// `foo.txt.dir/.content.xml` describing the `nt:file` `foo.txt`: its root
    /// element's attributes, and its `jcr:content` element (none when empty).
    fn described(file: &str, content: &str, data: &str) -> tempfile::TempDir {
        let children = match content {
            "" => String::new(),
            c => format!("<jcr:content {c}/>"),
        };
        let doc = format!(
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0" jcr:primaryType="nt:file" {file}>{children}</jcr:root>"#
        );
        package_of(&[("foo.txt", data), ("foo.txt.dir/.content.xml", &doc)])
    }

    /// A described file (`foo.txt` beside `foo.txt.dir/.content.xml`) whose bytes
    /// change is reported as FileVault's `handleBinNode` reports it: its
    /// `jcr:content` modified, once, in the place the DocView recorded it (the
    /// node itself unchanged), whether the DocView gives the resource as
    /// `nt:resource`, as `nt:unstructured` or not at all (then the first install
    /// reports the resource it adds created); the same bytes again leave both
    /// unchanged.
    #[test]
    fn a_described_files_changed_bytes_report_its_resource_updated() {
        let (p, c) = ("/content/f/foo.txt", "/content/f/foo.txt/jcr:content");
        for content in [
            r#"jcr:primaryType="nt:resource" jcr:mimeType="text/plain""#,
            r#"jcr:primaryType="nt:unstructured" jcr:mimeType="text/plain""#,
            "",
        ] {
            let repo = tempfile::tempdir().unwrap();
            let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
            let before = described("", content, "one");
            let after = described("", content, "one, and more");
            let first = install(store.as_mut(), before.path(), &options()).unwrap();
            assert_eq!(
                lines(&first),
                [format!("A {p}"), format!("A {c}")],
                "{content}"
            );
            let unchanged: Vec<String> = match content {
                "" => vec![format!("- {p}")],
                _ => vec![format!("- {p}"), format!("- {c}")],
            };
            let again = install(store.as_mut(), before.path(), &options()).unwrap();
            assert_eq!(lines(&again), unchanged, "{content}");
            let changed = install(store.as_mut(), after.path(), &options()).unwrap();
            assert_eq!(
                lines(&changed),
                [format!("- {p}"), format!("U {c}")],
                "{content}"
            );
            assert_eq!(changed.totals.updated, 1, "{content}");
            let data = store.property(WS, c, "jcr:data").unwrap().unwrap();
            assert!(
                matches!(
                    data.values.first(),
                    Some(Value::Binary(Binary::Blob { size: 13, .. }))
                ),
                "{data:?}"
            );
            let same = install(store.as_mut(), after.path(), &options()).unwrap();
            assert_eq!(lines(&same), unchanged, "{content}");
            assert_eq!(same.totals.updated, 0, "{content}");
        }
    }

    /// `merge` leaves an existing described file whole, its bytes too, as
    /// FileVault's `FileArtifactHandler` skips the aggregate (neither the DocView
    /// nor the file is imported); a new one is installed with its data; and
    /// `merge_properties` imports the DocView, whose file then gets its new bytes
    /// (`handleBinNode` does not look at the mode).
    #[test]
    fn merge_leaves_an_existing_described_file_and_its_bytes() {
        let (p, c) = ("/content/f/foo.txt", "/content/f/foo.txt/jcr:content");
        let resource = r#"jcr:primaryType="nt:resource" jcr:mimeType="text/plain""#;
        let in_mode = |pkg: &tempfile::TempDir, mode: &str| {
            let filter = format!(
                r#"<workspaceFilter version="1.0"><filter root="/content/f" mode="{mode}"/></workspaceFilter>"#
            );
            std::fs::write(pkg.path().join("META-INF/vault/filter.xml"), filter).unwrap();
        };
        let size = |store: &dyn crate::repository::Store| match store
            .property(WS, c, "jcr:data")
            .unwrap()
            .unwrap()
            .values
            .first()
        {
            Some(Value::Binary(Binary::Blob { size, .. })) => *size,
            other => panic!("{other:?}"),
        };
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let before = described("", resource, "one");
        in_mode(&before, "merge");
        let first = install(store.as_mut(), before.path(), &options()).unwrap();
        assert_eq!(lines(&first), [format!("A {p}"), format!("A {c}")]);
        assert_eq!(size(store.as_ref()), 3);

        let after = described("", resource, "one, and more");
        in_mode(&after, "merge");
        let merged = install(store.as_mut(), after.path(), &options()).unwrap();
        assert_eq!(lines(&merged), [format!("- {p}")]);
        assert_eq!(merged.totals.updated, 0);
        assert_eq!(size(store.as_ref()), 3);

        in_mode(&after, "merge_properties");
        let props = install(store.as_mut(), after.path(), &options()).unwrap();
        assert_eq!(lines(&props), [format!("- {p}"), format!("U {c}")]);
        assert_eq!(size(store.as_ref()), 13);
    }

    /// What the DocView changes and what the file changes make one report line
    /// per node: only `jcr:mimeType` changed, the resource's property and its
    /// bytes changed together, and the file node's own property with the bytes.
    #[test]
    fn a_described_files_docview_and_bytes_changes_report_each_node_once() {
        let (p, c) = ("/content/f/foo.txt", "/content/f/foo.txt/jcr:content");
        let resource = |mime: &str, title: &str| {
            format!(
                r#"jcr:primaryType="nt:resource" jcr:mixinTypes="[mix:title]" jcr:mimeType="{mime}" jcr:title="{title}""#
            )
        };
        let titled = r#"jcr:mixinTypes="[mix:title]" jcr:title="file""#;
        let first = (titled, resource("text/plain", "a"), "one");
        let cases = [
            (
                (titled, resource("text/html", "a"), "one"),
                [format!("- {p}"), format!("U {c}")],
            ),
            (
                (titled, resource("text/plain", "b"), "two"),
                [format!("- {p}"), format!("U {c}")],
            ),
            (
                (
                    r#"jcr:mixinTypes="[mix:title]" jcr:title="other""#,
                    resource("text/plain", "a"),
                    "two",
                ),
                [format!("U {p}"), format!("U {c}")],
            ),
        ];
        for ((file, content, data), want) in cases {
            let repo = tempfile::tempdir().unwrap();
            let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
            let (f0, c0, d0) = &first;
            install(store.as_mut(), described(f0, c0, d0).path(), &options()).unwrap();
            let changed = install(
                store.as_mut(),
                described(file, &content, data).path(),
                &options(),
            )
            .unwrap();
            assert_eq!(lines(&changed), want, "{file} {content} {data}");
            let updated = want.iter().filter(|l| l.starts_with('U')).count() as u64;
            assert_eq!(changed.totals.updated, updated);
        }
    }

    /// A `.dir` describing a resource node itself (no `nt:file`): the file is its
    /// `jcr:data`, and new bytes report the node updated, once; the same bytes
    /// leave it unchanged.
    #[test]
    fn a_described_resources_changed_bytes_report_it_updated() {
        let parent = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" jcr:primaryType="nt:unstructured"/>"#;
        let doc = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" jcr:primaryType="nt:resource" jcr:mimeType="application/octet-stream"/>"#;
        let package = |data: &str| {
            package_of(&[
                (".content.xml", parent),
                ("r.bin", data),
                ("r.bin.dir/.content.xml", doc),
            ])
        };
        let (before, after) = (package("one"), package("one, and more"));
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        install(store.as_mut(), before.path(), &options()).unwrap();
        let r = "/content/f/r.bin";
        let again = install(store.as_mut(), before.path(), &options()).unwrap();
        assert_eq!(lines(&again), [format!("- {r}")]);
        let changed = install(store.as_mut(), after.path(), &options()).unwrap();
        assert_eq!(lines(&changed), [format!("U {r}")]);
        assert_eq!(changed.totals.updated, 1);
        let same = install(store.as_mut(), after.path(), &options()).unwrap();
        assert_eq!(lines(&same), [format!("- {r}")]);
    }

    /// A re-import of an unchanged file stores nothing for it (its data is the
    /// committed `jcr:data`'s, asked of the transaction's `blob_stored`), and
    /// stores the data again when its blob file is gone, as it did before; both
    /// report the file unchanged.
    #[test]
    fn a_reimport_stores_a_files_data_only_when_its_blob_is_missing() {
        let pkg = tempfile::tempdir().unwrap();
        let filter =
            r#"<workspaceFilter version="1.0"><filter root="/content/f"/></workspaceFilter>"#;
        for (name, text) in [
            ("META-INF/vault/filter.xml", filter),
            ("jcr_root/content/f/a.txt", "hello, blob"),
        ] {
            let p = pkg.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().join("r");
        let mut store = crate::repository::init(&root).unwrap();
        install(store.as_mut(), pkg.path(), &options()).unwrap();
        let data = store
            .property(WS, "/content/f/a.txt/jcr:content", "jcr:data")
            .unwrap()
            .unwrap();
        let Some(Value::Binary(Binary::Blob { sha256, size })) = data.values.first().cloned()
        else {
            panic!("not a blob: {data:?}");
        };
        {
            // What the installer asks before storing the data again.
            let txn = store.begin("read").unwrap();
            assert!(txn.blob_stored(&sha256, size).unwrap());
            assert!(!txn.blob_stored(&sha256, size + 1).unwrap());
        }
        let action = |r: &crate::import::Report| {
            r.entries
                .iter()
                .find(|e| e.path == "/content/f/a.txt")
                .map(|e| e.action.letter())
        };
        let again = install(store.as_mut(), pkg.path(), &options()).unwrap();
        assert_eq!(action(&again), Some('-'));
        let files = blob_files(&root.join("blobs"), &sha256);
        assert_eq!(files.len(), 1, "{files:?}");
        std::fs::remove_file(&files[0]).unwrap();
        let repaired = install(store.as_mut(), pkg.path(), &options()).unwrap();
        assert_eq!(action(&repaired), Some('-'));
        let files = blob_files(&root.join("blobs"), &sha256);
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), size);
        assert_eq!(
            store
                .property(WS, "/content/f/a.txt/jcr:content", "jcr:data")
                .unwrap(),
            Some(data)
        );
    }
}
