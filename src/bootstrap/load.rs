//! Loading bootstrap files: every file of a run into its workspace, in one recorded
//! operation (undoable), with the identifier behaviour of the chosen profile
//! (shared/reference/magnolia.md §1.4).
//!
//! * `module` and `samples` (Magnolia's module install): the node at the path the file
//!   name gives is deleted first and the document's node takes its place among its
//!   siblings; an identifier that then still exists elsewhere is a collision and the
//!   run is refused (`IMPORT_UUID_COLLISION_THROW`), every collision listed, nothing
//!   written.
//! * `webapp` (the webapp's bootstrap folders, `IMPORT_UUID_COLLISION_REPLACE_EXISTING`):
//!   nothing is deleted first; a node whose identifier exists replaces the existing
//!   node **at the existing node's place** (for a node of the file whose identifier
//!   lives elsewhere, that is elsewhere than the file name says: reported as
//!   `relocated`).
//!
//! As Magnolia's import does: missing ancestors of the parent path are created as
//! `mgnl:content`; a document whose root is `jcr:root` (a workspace-root export) has
//! its children imported below the root, each replacing a same-named node, its
//! `jcr:system` skipped; version properties (`jcr:predecessors`, `jcr:baseVersion`,
//! `jcr:versionHistory`, `jcr:isCheckedOut`, `jcr:created`, `mgnl:sequenceposition`)
//! are dropped (`VersionFilter`); a workspace the repository lacks is created (and
//! said so). The node's name comes from the document; when it differs from the file
//! name only in letter case the file loads with a warning (Magnolia loads such a file
//! in its own UI module), any other difference is an error. Node types the
//! repository does not declare (`mgnl:`, module types without prefix) are installed
//! and listed, as for packages.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::error::{BootstrapError, Collision};
use super::find::{self, Found, Skipped};
use super::name::{self, Format, Target};
use super::{Profile, MGNL_URI};
use crate::events::Actor;
use crate::node::Node;
use crate::repository::{AddOptions, OperationMeta, SameName, Store, Transaction};
use crate::value::Value;

/// What to load and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The identifier behaviour and discovery rules.
    pub profile: Profile,
    /// Only files of this Magnolia module (`mgnl-bootstrap/NAME/`).
    pub module: Option<String>,
    /// Do everything, then roll back.
    pub dry_run: bool,
    /// Register Magnolia's node types ([`super::MAGNOLIA_CND`]) and check every node
    /// of the files against them (and the repository's other types); a violation
    /// refuses the load. Without it, `mgnl:` types are installed undeclared.
    pub magnolia_types: bool,
}

/// One file as loaded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    /// The file.
    pub file: String,
    /// XML or YAML.
    pub format: Format,
    /// The workspace.
    pub workspace: String,
    /// The path of the node the file created (several for a `jcr:root` document).
    pub paths: Vec<String>,
    /// Nodes created.
    pub nodes: u64,
    /// Nodes deleted first (module profile) or replaced (webapp profile).
    pub replaced: u64,
}

/// What a load did (or, dry, would do).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// `module`, `samples` or `webapp`.
    pub profile: Profile,
    /// Whether nothing was kept.
    pub dry_run: bool,
    /// The recorded operation (`jcrpack undo ID`), none for a dry run.
    pub operation: Option<i64>,
    /// The files loaded, in order.
    pub files: Vec<FileReport>,
    /// Files found and not loaded, with the reason.
    pub skipped: Vec<Skipped>,
    /// Workspaces the load created.
    pub created_workspaces: Vec<String>,
    /// Identifiers that existed (for `webapp`: replaced or relocated).
    pub collisions: Vec<Collision>,
    /// Node types used that the repository does not declare.
    pub undeclared_node_types: Vec<String>,
    /// Warnings (name mismatches in case, names Magnolia reads differently, ...).
    pub warnings: Vec<String>,
    /// Nodes created in all.
    pub nodes: u64,
}

/// A parsed bootstrap document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document's node.
    pub node: Node,
    /// Namespaces the document declares.
    pub namespaces: Vec<(String, String)>,
    /// Where its root is (line, column).
    pub root_at: (u32, u32),
    /// Warnings from reading.
    pub warnings: Vec<String>,
}

/// Reads a bootstrap file of either format.
pub fn read_document(bytes: &[u8], format: Format, file: &str) -> Result<Document, BootstrapError> {
    match format {
        Format::Xml if crate::load::sniff(bytes) == crate::load::XmlFormat::SystemView => {
            // Jackrabbit's import handler (Magnolia's) ignores text outside sv:value;
            // one of Magnolia's own test files has some.
            let mut r = crate::sysview::SysViewReader::new(bytes, file.to_string());
            r.set_ignore_stray_text(true);
            let node = r.read_tree()?;
            let namespaces = r
                .namespaces()
                .iter()
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
            let warnings = r
                .ignored_text()
                .iter()
                .map(|l| format!("{l}: text outside sv:value ignored (as Jackrabbit ignores it)"))
                .collect();
            Ok(Document {
                node,
                namespaces,
                root_at: xml_root_position(bytes),
                warnings,
            })
        }
        Format::Xml => {
            let tree = crate::load::read_xml(bytes, file).map_err(|e| match e {
                crate::load::LoadError::SystemView(e) => BootstrapError::from(e),
                other => BootstrapError::Other(other.to_string()),
            })?;
            Ok(Document {
                node: tree.node,
                namespaces: tree.namespaces,
                root_at: xml_root_position(bytes),
                warnings: Vec::new(),
            })
        }
        Format::Yaml => {
            let text = std::str::from_utf8(bytes).map_err(|e| BootstrapError::Syntax {
                file: file.to_string(),
                line: 1,
                column: 1,
                message: format!("not UTF-8: {e}"),
            })?;
            let t = super::yaml::read(text, file)?;
            Ok(Document {
                node: t.node,
                namespaces: Vec::new(),
                root_at: t.root_at,
                warnings: t.warnings,
            })
        }
    }
}

/// Line and column of the first element of an XML document.
fn xml_root_position(bytes: &[u8]) -> (u32, u32) {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]);
    let mut line = 1u32;
    let mut col = 1u32;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        if c == '<' && it.peek().is_some_and(|n| *n != '?' && *n != '!') {
            return (line, col);
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (1, 1)
}

/// Properties Magnolia's `VersionFilter` drops on import.
const VERSION_PROPERTIES: [&str; 6] = [
    "jcr:predecessors",
    "jcr:baseVersion",
    "jcr:versionHistory",
    "jcr:isCheckedOut",
    "jcr:created",
    "mgnl:sequenceposition",
];

fn version_filter(n: &mut Node) -> u64 {
    let mut dropped = 0;
    for p in VERSION_PROPERTIES {
        if n.properties.shift_remove(p).is_some() {
            dropped += 1;
        }
    }
    let before = n.children.len();
    n.children.retain(|c| c.name != "jcr:system");
    dropped += (before - n.children.len()) as u64;
    for c in &mut n.children {
        dropped += version_filter(c);
    }
    n.renumber_children();
    dropped
}

/// Checks the document's root name against the file name.
fn check_root_name(
    doc: &Document,
    target: &Target,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<(), BootstrapError> {
    let expected = target.name().unwrap_or("jcr:root");
    let found = doc.node.name.as_str();
    if found == expected {
        return Ok(());
    }
    if target.name().is_some() && found.eq_ignore_ascii_case(expected) {
        warnings.push(format!(
            "{file}: the document's root node is '{found}', the file name says '{expected}': the node is created as '{found}' (Magnolia does the same, after deleting '{}')",
            target.path
        ));
        return Ok(());
    }
    Err(BootstrapError::RootName {
        file: file.to_string(),
        line: doc.root_at.0,
        column: doc.root_at.1,
        expected: expected.to_string(),
        found: found.to_string(),
    })
}

fn used_prefixes(n: &Node, out: &mut BTreeSet<String>) {
    let mut note = |s: &str| {
        if let Some((p, _)) = s.split_once(':') {
            out.insert(p.to_string());
        }
    };
    note(&n.name);
    note(&n.primary_type);
    for m in &n.mixins {
        note(m);
    }
    for p in n.properties.values() {
        note(&p.name);
        for v in &p.values {
            if let Value::Name(s) = v {
                note(s);
            }
        }
    }
    for c in &n.children {
        used_prefixes(c, out);
    }
}

fn node_types(n: &Node, out: &mut BTreeSet<String>) {
    out.insert(n.primary_type.clone());
    out.extend(n.mixins.iter().cloned());
    for c in &n.children {
        node_types(c, out);
    }
}

/// Registers the namespaces a document declares and `mgnl` when it is used without
/// a declaration; any other undeclared prefix is an error.
fn register_namespaces(
    txn: &mut dyn Transaction,
    doc: &Document,
    file: &str,
) -> Result<(), BootstrapError> {
    let ns = txn.namespaces()?;
    for (p, u) in &doc.namespaces {
        if p.is_empty() || p == "xml" || p == "sv" || p == "xsi" || p == "xs" {
            continue;
        }
        if ns.prefix(u).is_none() && ns.uri(p).is_none() {
            txn.register_namespace(p, u)?;
        }
    }
    let ns = txn.namespaces()?;
    let mut used = BTreeSet::new();
    used_prefixes(&doc.node, &mut used);
    for p in used {
        if ns.uri(&p).is_some() {
            continue;
        }
        if p == "mgnl" {
            txn.register_namespace("mgnl", MGNL_URI)?;
        } else {
            return Err(BootstrapError::Syntax {
                file: file.to_string(),
                line: doc.root_at.0,
                column: doc.root_at.1,
                message: format!(
                    "the namespace prefix '{p}' is used but neither declared in the file nor known to the repository"
                ),
            });
        }
    }
    Ok(())
}

/// Creates the missing ancestors of `path` as `mgnl:content`.
fn ensure_path(
    txn: &mut dyn Transaction,
    ws: &str,
    path: &str,
) -> Result<(), crate::repository::RepositoryError> {
    let mut cur = String::from("/");
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let next = crate::path::join(&cur, seg);
        if txn.node(ws, &next)?.is_none() {
            if txn.namespaces()?.uri("mgnl").is_none() {
                txn.register_namespace("mgnl", MGNL_URI)?;
            }
            txn.add_node(
                ws,
                &cur,
                &Node::new(seg, "mgnl:content"),
                &AddOptions::append(),
            )?;
        }
        cur = next;
    }
    Ok(())
}

/// The segment of the sibling after the node at `path`, if any.
fn next_sibling(
    txn: &dyn Transaction,
    ws: &str,
    path: &str,
) -> Result<Option<String>, crate::repository::RepositoryError> {
    let Some(parent) = crate::path::parent(path) else {
        return Ok(None);
    };
    let kids = txn.children(ws, parent)?;
    let mut it = kids.iter().skip_while(|k| k.path != path);
    it.next();
    Ok(it.next().map(|k| {
        if k.index > 1 {
            format!("{}[{}]", k.name, k.index)
        } else {
            k.name.clone()
        }
    }))
}

/// `(uuid, path)` of every node of `n`'s subtree, `n` at `path`.
fn uuids(n: &Node, path: &str, out: &mut Vec<(String, String, Vec<usize>)>, at: &mut Vec<usize>) {
    if let Some(Value::String(u)) = n.value("jcr:uuid") {
        out.push((u.clone(), path.to_string(), at.clone()));
    }
    for (i, c) in n.children.iter().enumerate() {
        at.push(i);
        uuids(c, &crate::path::join(path, &c.segment()), out, at);
        at.pop();
    }
}

fn under(path: &str, root: &str) -> bool {
    path == root || root == "/" || path.starts_with(&format!("{root}/"))
}

struct Run<'a> {
    txn: Box<dyn Transaction + 'a>,
    profile: Profile,
    report: LoadReport,
    refused: Vec<Collision>,
    types: BTreeSet<String>,
    enforce: Option<crate::cnd::NodeTypeRegistry>,
    violations: Vec<String>,
}

impl Run<'_> {
    fn apply(&mut self, found: &Found) -> Result<(), BootstrapError> {
        let file = found.path.display().to_string();
        let target = name::parse(&found.file_name).map_err(|mut e| {
            e.file = file.clone();
            e
        })?;
        for w in &target.warnings {
            self.report.warnings.push(format!("{file}: {w}"));
        }
        let bytes = std::fs::read(&found.path).map_err(|e| BootstrapError::File {
            file: file.clone(),
            source: e,
        })?;
        let mut doc = read_document(&bytes, found.format, &file)?;
        drop(bytes);
        self.report.warnings.append(&mut doc.warnings);
        check_root_name(&doc, &target, &file, &mut self.report.warnings)?;
        let dropped = version_filter(&mut doc.node);
        if let Some(reg) = &self.enforce {
            let top = crate::path::join(&target.parent(), &doc.node.name);
            doc.node.walk(&top, &mut |path, n| {
                for v in reg.check_node(n).into_iter().filter(|v| v.is_error()) {
                    self.violations.push(format!("{file}: {path}: {v}"));
                }
            });
        }
        if dropped > 0 {
            self.report.warnings.push(format!(
                "{file}: {dropped} version properties or jcr:system nodes dropped (Magnolia's VersionFilter)"
            ));
        }
        let ws = target.workspace.clone();
        if !self.txn.workspaces()?.contains(&ws) {
            self.txn.create_workspace(&ws)?;
            crate::repository::initial_content(self.txn.as_mut(), &ws)?;
            self.report.created_workspaces.push(ws.clone());
        }
        register_namespaces(self.txn.as_mut(), &doc, &file)?;
        node_types(&doc.node, &mut self.types);
        let apply_err = |file: &str| {
            let file = file.to_string();
            move |source| BootstrapError::Apply {
                file: file.clone(),
                source: Box::new(source),
            }
        };
        let mut fr = FileReport {
            file: file.clone(),
            format: found.format,
            workspace: ws.clone(),
            paths: Vec::new(),
            nodes: 0,
            replaced: 0,
        };
        let parent = target.parent();
        ensure_path(self.txn.as_mut(), &ws, &parent).map_err(apply_err(&file))?;
        if doc.node.name == "jcr:root" {
            // A workspace-root export: each child replaces its namesake below `parent`.
            for child in std::mem::take(&mut doc.node.children) {
                let at = crate::path::join(&parent, &child.name);
                self.place(&file, &ws, &parent, &at, child, &mut fr)?;
            }
        } else {
            let at = target.path.clone();
            self.place(&file, &ws, &parent, &at, doc.node, &mut fr)?;
        }
        self.report.nodes += fr.nodes;
        self.report.files.push(fr);
        Ok(())
    }

    /// Imports `node` below `parent`; `at` is the existing node it takes the place of
    /// (deleted first for module profiles and for `jcr:root` children).
    fn place(
        &mut self,
        file: &str,
        ws: &str,
        parent: &str,
        at: &str,
        mut node: Node,
        fr: &mut FileReport,
    ) -> Result<(), BootstrapError> {
        let err = |source| BootstrapError::Apply {
            file: file.to_string(),
            source: Box::new(source),
        };
        // The rules every writing path obeys (crate::write_rules): the deny list,
        // the depth limit and names, on the node replaced and the tree added.
        let rules = crate::write_rules::WriteRules::default();
        crate::write_rules::check_path(at, &rules)
            .and_then(|()| crate::write_rules::check_tree(parent, &node, &rules))
            .map_err(|refusal| BootstrapError::Refused {
                file: file.to_string(),
                refusal,
            })?;
        let txn = self.txn.as_mut();
        let own_path = crate::path::join(parent, &node.name);
        let mut before = None;
        let mut removed: Vec<String> = Vec::new();
        let delete_first = self.profile != Profile::Webapp || at != own_path;
        if delete_first && txn.node(ws, at)?.is_some() {
            before = next_sibling(txn, ws, at)?;
            fr.replaced += txn.remove_node(ws, at).map_err(err)?;
            removed.push(at.to_string());
        }
        let mut ids = Vec::new();
        uuids(&node, &own_path, &mut ids, &mut Vec::new());
        let mut seen = HashSet::new();
        let mut relocations: Vec<(Vec<usize>, String, Option<String>)> = Vec::new();
        let mut top_place: Option<(String, Option<String>)> = None;
        let mut refused = false;
        for (uuid, incoming, index_path) in ids {
            if !seen.insert(uuid.clone()) {
                return Err(BootstrapError::Other(format!(
                    "{file}: identifier {uuid} appears twice in the file (second at {incoming})"
                )));
            }
            let Some(existing) = txn.find_by_uuid(ws, &uuid)? else {
                continue;
            };
            if removed.iter().any(|r| under(&existing, r)) {
                continue;
            }
            let mut c = Collision {
                uuid,
                file: file.to_string(),
                workspace: ws.to_string(),
                incoming: incoming.clone(),
                existing: existing.clone(),
                resolution: String::new(),
            };
            if self.profile != Profile::Webapp {
                c.resolution = "refused".into();
                self.refused.push(c);
                refused = true;
                continue;
            }
            if under(parent, &existing) {
                return Err(BootstrapError::Other(format!(
                    "{file}: identifier {} of {incoming} is held by {existing}, an ancestor of the import location {parent}: replacing it would remove the location itself",
                    c.uuid
                )));
            }
            let next = next_sibling(txn, ws, &existing)?;
            fr.replaced += txn.remove_node(ws, &existing).map_err(err)?;
            removed.push(existing.clone());
            c.resolution = if existing == incoming {
                "replaced".into()
            } else {
                "relocated".into()
            };
            let existing_parent = crate::path::parent(&existing).unwrap_or("/").to_string();
            if index_path.is_empty() {
                top_place = Some((existing_parent, next));
            } else {
                relocations.push((index_path, existing_parent, next));
            }
            self.report.collisions.push(c);
        }
        if refused {
            return Ok(());
        }
        // Detach relocated subtrees, deepest index paths last so earlier indexes hold.
        let mut detached = Vec::new();
        relocations.sort_by(|a, b| b.0.cmp(&a.0));
        for (ip, p, next) in relocations {
            if let Some(sub) = detach(&mut node, &ip) {
                detached.push((sub, p, next));
            }
        }
        let (add_parent, add_before) = top_place.unwrap_or((parent.to_string(), before));
        let added = add(txn, ws, &add_parent, &node, add_before).map_err(err)?;
        fr.nodes += node.count() as u64;
        fr.paths.push(added);
        for (sub, p, next) in detached.into_iter().rev() {
            let added = add(txn, ws, &p, &sub, next).map_err(err)?;
            fr.nodes += sub.count() as u64;
            fr.paths.push(added);
        }
        Ok(())
    }
}

fn detach(node: &mut Node, ip: &[usize]) -> Option<Node> {
    let (last, rest) = ip.split_last()?;
    let mut cur = node;
    for i in rest {
        cur = cur.children.get_mut(*i)?;
    }
    if *last < cur.children.len() {
        let sub = cur.children.remove(*last);
        cur.renumber_children();
        Some(sub)
    } else {
        None
    }
}

fn add(
    txn: &mut dyn Transaction,
    ws: &str,
    parent: &str,
    node: &Node,
    before: Option<String>,
) -> Result<String, crate::repository::RepositoryError> {
    let before = match before {
        Some(b) if txn.node(ws, &crate::path::join(parent, &b))?.is_some() => Some(b),
        _ => None,
    };
    let opts = AddOptions {
        before,
        same_name: SameName::Allow,
    };
    txn.add_node(ws, parent, node, &opts)
}

/// Loads the bootstrap files found under `paths` into `store` in one operation.
pub fn load(
    store: &mut dyn Store,
    paths: &[std::path::PathBuf],
    options: &LoadOptions,
    actor: &Actor,
) -> Result<LoadReport, BootstrapError> {
    let (found, skipped) = find::find(paths, options.profile, options.module.as_deref())?;
    load_found(store, &found, skipped, options, actor)
}

/// Loads `found` (in this order) into `store` in one operation.
pub fn load_found(
    store: &mut dyn Store,
    found: &[Found],
    skipped: Vec<Skipped>,
    options: &LoadOptions,
    actor: &Actor,
) -> Result<LoadReport, BootstrapError> {
    let meta = OperationMeta::new(
        format!(
            "bootstrap load {} file(s) ({} profile)",
            found.len(),
            options.profile.as_str()
        ),
        actor,
    );
    let txn = store.begin_operation(meta)?;
    let mut run = Run {
        txn,
        profile: options.profile,
        report: LoadReport {
            profile: options.profile,
            dry_run: options.dry_run,
            operation: None,
            files: Vec::new(),
            skipped,
            created_workspaces: Vec::new(),
            collisions: Vec::new(),
            undeclared_node_types: Vec::new(),
            warnings: Vec::new(),
            nodes: 0,
        },
        refused: Vec::new(),
        types: BTreeSet::new(),
        enforce: None,
        violations: Vec::new(),
    };
    if options.magnolia_types {
        run.enforce = Some(register_magnolia_types(run.txn.as_mut())?);
    }
    for f in found {
        run.apply(f)?;
    }
    if !run.violations.is_empty() {
        run.txn.rollback()?;
        return Err(BootstrapError::NodeTypes(run.violations));
    }
    if !run.refused.is_empty() {
        run.txn.rollback()?;
        return Err(BootstrapError::Collisions(run.refused));
    }
    let ns = run.txn.namespaces()?;
    let (registry, _) = crate::nodetypes::load(run.txn.as_ref(), &ns);
    run.report.undeclared_node_types = run
        .types
        .iter()
        .filter(|t| !t.is_empty() && !registry.is_known(t))
        .cloned()
        .collect();
    if options.dry_run {
        run.txn.rollback()?;
    } else {
        let id = run.txn.commit()?;
        run.report.operation = id.map(|i| i.0);
    }
    Ok(run.report)
}

/// Registers Magnolia's node types in the transaction (those not registered yet) and
/// returns the repository's registry with them.
fn register_magnolia_types(
    txn: &mut dyn Transaction,
) -> Result<crate::cnd::NodeTypeRegistry, BootstrapError> {
    let mut ns = txn.namespaces()?;
    let (mut reg, _) = crate::nodetypes::load(txn, &ns);
    let file = crate::cnd::parse(super::MAGNOLIA_CND, "magnolia.cnd")
        .map_err(|e| BootstrapError::Other(format!("Magnolia's node types: {e}")))?;
    let before: Vec<(String, String)> = ns
        .iter()
        .map(|(p, u)| (p.to_string(), u.to_string()))
        .collect();
    let report = reg
        .register_cnd(&file, &mut ns)
        .map_err(|e| BootstrapError::Other(format!("Magnolia's node types: {e}")))?;
    for (p, u) in ns.iter() {
        if !before.iter().any(|(bp, bu)| bp == p && bu == u) {
            txn.register_namespace(p, u)?;
        }
    }
    for name in &report.added {
        if let Some(def) = reg.get(name) {
            let text = crate::cnd::write_with(std::slice::from_ref(def), &ns)
                .map_err(|e| BootstrapError::Other(format!("{name}: {e}")))?;
            // The registry's loader declares every namespace once in front of all
            // stored definitions, and the CND grammar allows no declaration after a
            // definition: store the definition alone.
            let text: String = text
                .lines()
                .filter(|l| !l.starts_with('<'))
                .map(|l| format!("{l}\n"))
                .collect();
            txn.register_node_type(name, text.trim_start())?;
        }
    }
    Ok(reg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnolia_types_register_and_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&dir.path().join("repo")).unwrap();
        let mut txn = store.begin("types").unwrap();
        let reg = register_magnolia_types(txn.as_mut()).unwrap();
        assert!(reg.is_known("mgnl:page") && reg.is_known("mgnl:activatable"));
        txn.commit().unwrap();
        let ns = store.namespaces().unwrap();
        let (types, warnings) = crate::nodetypes::load(store.as_ref(), &ns);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(types.is_known("mgnl:page"));
        let page = Node::new("p", "mgnl:page")
            .with(crate::value::Property::string("mgnl:created", "yesterday"));
        assert!(types.check_node(&page).iter().any(|v| v.is_error()));
    }
}
