//! `jcrpack dump --repo REPO [PATH] --format json`: a subtree as canonical JSON.
//! `jcrpack dump PACKAGE [PATH] --format json`: the same for the tree a package would
//! create in an empty repository (see `pkgdump`).

use super::repo::{absolute, RepoArgs};
use super::{CliError, CliResult};
use crate::dump::{BinaryDigest, JsonTreeWriter, KnownDigests};
use clap::{Args, ValueEnum};
use std::io::Write;

/// Output formats of `dump`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DumpFormat {
    /// The canonical JSON of the conformance suite.
    Json,
    /// Enhanced DocView: one document, binaries as `{Binary}` placeholders.
    Docview,
    /// JCR system view, streamed, binaries base64-encoded.
    Sysview,
}

/// Print a repository subtree, or the tree a package would create in an empty one.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// With --repo: the subtree's root (default /). Without: the package (a .zip, or a
    /// folder holding META-INF/vault/ and jcr_root/).
    #[arg(value_name = "PACKAGE|PATH")]
    pub target: Option<String>,
    /// With a package: the subtree's root (default /).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO")]
    pub repo: Option<std::path::PathBuf>,
    /// The workspace (as JCR and Magnolia have: `config`, `website`, ...).
    #[arg(long, short = 'w', default_value = crate::repository::DEFAULT_WORKSPACE)]
    pub workspace: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: DumpFormat,
}

/// Runs `dump`: a repository's subtree with `--repo`, a package's tree without.
pub fn run(a: DumpArgs) -> CliResult<i32> {
    let Some(repo) = a.repo else {
        let Some(package) = a.target else {
            return Err(CliError::usage("dump needs a PACKAGE or --repo REPO")
                .hint("jcrpack dump PACKAGE [PATH] or jcrpack dump --repo REPO [PATH]"));
        };
        let p = absolute(a.path.as_deref().unwrap_or("/"))?;
        return super::pkgdump::run(std::path::Path::new(&package), &p, a.format);
    };
    if a.path.is_some() {
        return Err(CliError::usage("with --repo, dump takes one PATH"));
    }
    let p = absolute(a.target.as_deref().unwrap_or("/"))?;
    let repo = RepoArgs {
        repo,
        workspace: a.workspace,
    };
    let store = repo.open()?;
    write_subtree(store.as_ref(), &repo.workspace, &p, a.format)?;
    Ok(0)
}

/// Writes the subtree at `p` of `store` to stdout as canonical JSON.
pub(super) fn write_subtree(
    store: &dyn crate::repository::Store,
    workspace: &str,
    p: &str,
    format: DumpFormat,
) -> CliResult<()> {
    if store.node(workspace, p)?.is_none() {
        return Err(CliError::failure(format!("{p}: no such node")));
    }
    match format {
        DumpFormat::Json => {}
        DumpFormat::Sysview => return write_sysview(store, workspace, p),
        DumpFormat::Docview => return write_docview(store, workspace, p),
    }
    let stdout = std::io::stdout().lock();
    let mut w = JsonTreeWriter::new(std::io::BufWriter::new(stdout));
    let mut digests = KnownDigests;
    let mut depths: Vec<usize> = Vec::new();
    for e in store.walk(workspace, p)? {
        let e = e?;
        while depths.last().is_some_and(|d| *d >= e.depth) {
            depths.pop();
            w.end_node()?;
        }
        let props: Vec<_> = e.node.properties.values().cloned().collect();
        let d: &mut dyn BinaryDigest = &mut digests;
        w.start_node(
            &e.node.segment(),
            &e.node.primary_type,
            &e.node.mixins,
            &props,
            d,
        )?;
        depths.push(e.depth);
    }
    while depths.pop().is_some() {
        w.end_node()?;
    }
    let mut out = w.finish()?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Reads blob binaries back from the repository for the system view writer.
struct StoreBinaries<'a>(&'a dyn crate::repository::Store);

impl crate::sysview::BinarySource for StoreBinaries<'_> {
    fn open(
        &mut self,
        binary: &crate::value::Binary,
    ) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        match binary {
            crate::value::Binary::Blob { sha256, .. } => self
                .0
                .open_blob(sha256)
                .map(|r| r as Box<dyn std::io::Read>)
                .map_err(std::io::Error::other),
            crate::value::Binary::Inline(b) => Ok(Box::new(std::io::Cursor::new(b.to_vec()))),
            other => Err(std::io::Error::other(format!(
                "cannot read binary {other:?}"
            ))),
        }
    }
}

fn write_sysview(store: &dyn crate::repository::Store, workspace: &str, p: &str) -> CliResult<()> {
    let ns = store.namespaces()?;
    let stdout = std::io::stdout().lock();
    let mut w = crate::sysview::SysViewWriter::new(std::io::BufWriter::new(stdout), &ns)
        .map_err(|e| CliError::failure(e.to_string()))?;
    let mut bins = StoreBinaries(store);
    let mut depths: Vec<usize> = Vec::new();
    let err = |e: crate::sysview::WriteError| CliError::failure(e.to_string());
    for e in store.walk(workspace, p)? {
        let e = e?;
        while depths.last().is_some_and(|d| *d >= e.depth) {
            depths.pop();
            w.end_node().map_err(err)?;
        }
        w.start_node(&e.node.segment(), &e.node.primary_type, &e.node.mixins)
            .map_err(err)?;
        for prop in e.node.properties.values() {
            w.property(prop, &mut bins).map_err(err)?;
        }
        depths.push(e.depth);
    }
    while depths.pop().is_some() {
        w.end_node().map_err(err)?;
    }
    let mut out = w.finish().map_err(err)?;
    out.flush()?;
    Ok(())
}

fn write_docview(store: &dyn crate::repository::Store, workspace: &str, p: &str) -> CliResult<()> {
    use crate::docview::{DocViewDocument, DocViewElement, DocViewProperty};
    use crate::value::PropertyType;
    let ns = store.namespaces()?;
    let mut used: indexmap::IndexSet<String> = indexmap::IndexSet::new();
    let note = |name: &str, used: &mut indexmap::IndexSet<String>| {
        if let Some((pre, _)) = name.split_once(':') {
            used.insert(pre.to_string());
        }
    };
    let mut stack: Vec<(usize, DocViewElement)> = Vec::new();
    let finish_to = |stack: &mut Vec<(usize, DocViewElement)>, depth: usize| {
        while stack.len() > 1 && stack.last().is_some_and(|(d, _)| *d >= depth) {
            if let Some((_, el)) = stack.pop() {
                if let Some((_, parent)) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
        }
    };
    for e in store.walk(workspace, p)? {
        let e = e?;
        finish_to(&mut stack, e.depth);
        let mut props = vec![DocViewProperty {
            name: "jcr:primaryType".into(),
            ptype: PropertyType::Name,
            binary_ref: false,
            multiple: false,
            values: vec![e.node.primary_type.clone()],
        }];
        note(&e.node.primary_type, &mut used);
        note(&e.node.name, &mut used);
        if !e.node.mixins.is_empty() {
            for m in &e.node.mixins {
                note(m, &mut used);
            }
            props.push(DocViewProperty {
                name: "jcr:mixinTypes".into(),
                ptype: PropertyType::Name,
                binary_ref: false,
                multiple: true,
                values: e.node.mixins.clone(),
            });
        }
        for q in e.node.properties.values() {
            note(&q.name, &mut used);
            let values = if q.ptype == PropertyType::Binary {
                q.values.iter().map(|_| String::new()).collect()
            } else {
                q.values.iter().map(|v| v.to_string()).collect()
            };
            props.push(DocViewProperty {
                name: q.name.clone(),
                ptype: q.ptype,
                binary_ref: false,
                multiple: q.multiple,
                values,
            });
        }
        let el = DocViewElement {
            name: if stack.is_empty() {
                String::new()
            } else {
                e.node.name.clone()
            },
            index: e.node.index,
            properties: props,
            children: Vec::new(),
            location: Default::default(),
        };
        stack.push((e.depth, el));
    }
    finish_to(&mut stack, 0);
    let Some((_, root)) = stack.pop() else {
        return Err(CliError::failure(format!("{p}: no such node")));
    };
    let mut namespaces = vec![("jcr".to_string(), crate::docview::JCR_URI.to_string())];
    for pre in used {
        if pre != "jcr" {
            if let Some(u) = ns.uri(&pre) {
                namespaces.push((pre.clone(), u.to_string()));
            }
        }
    }
    let doc = DocViewDocument {
        namespaces,
        root,
        root_is_jcr_root: true,
        warnings: Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    crate::docview::writer::write(&doc, &mut out)?;
    out.flush()?;
    Ok(())
}
