//! Plain files (`nt:file` nodes) and `.binary` property files (reference §3.8).

use super::error::ImportError;
use super::report::Action;
use super::session::Session;
use crate::archive::Archive;
use crate::filter::ImportMode;
use crate::node::Node;
use crate::package::BinaryFile;
use crate::path;
use crate::repository::AddOptions;
use crate::value::{Binary, Property, PropertyType, Value};

fn read_blob(
    s: &mut Session<'_>,
    archive: &dyn Archive,
    entry: &str,
) -> Result<Binary, ImportError> {
    // Read and hashed ahead on the other thread, or streamed from the archive and
    // hashed here.
    let stored = match s.read_ahead_blob(entry)? {
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
    let existing = s.node(node_path)?;
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
            let blob = read_blob(s, archive, entry)?;
            if described
                && !s.types.is_node_type(&info.primary_type, "nt:file")
                && info.primary_type != "nt:file"
            {
                // A `.dir` describing a resource node itself: the file is its jcr:data.
                s.txn.set_property(
                    &s.ws,
                    node_path,
                    &Property::single("jcr:data", Value::Binary(blob)),
                )?;
                return Ok(());
            }
            let content = s.node(&content_path)?;
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
                s.record(node_path, Action::Updated);
            } else {
                let old = s.txn.property(&s.ws, &content_path, "jcr:data")?;
                let same = old
                    .as_ref()
                    .and_then(|p| p.values.first())
                    .and_then(|v| {
                        if let Value::Binary(b) = v {
                            sha(b)
                        } else {
                            None
                        }
                    })
                    .is_some_and(|h| Some(h) == sha(&blob));
                // As FileVault's `importNtResource`: the data when it differs, the
                // date when the data changed or it is missing, the mime type from the
                // extension when it is missing.
                let mut changed = !same;
                if !same {
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
                } else if s
                    .txn
                    .property(&s.ws, &content_path, "jcr:lastModified")?
                    .is_none()
                {
                    s.txn.set_property(
                        &s.ws,
                        &content_path,
                        &Property::single("jcr:lastModified", Value::Date(s.opts.actor.time)),
                    )?;
                    changed = true;
                }
                if s.txn
                    .property(&s.ws, &content_path, "jcr:mimeType")?
                    .is_none()
                {
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
