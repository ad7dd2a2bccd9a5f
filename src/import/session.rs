//! The state of one install: the open transaction, the filter, the namespace and
//! node type registries, what has been touched, and the report.

use super::error::ImportError;
use super::options::ImportOptions;
use super::report::{Action, Entry, Report};
use super::spill::{PathSet, SpillLog};
use crate::cnd::{EffectiveType, NodeTypeRegistry};
use crate::docview::DocViewProperty;
use crate::events::{Event, Unit};
use crate::filter::{ImportMode, WorkspaceFilter};
use crate::namespace::NamespaceRegistry;
use crate::node::Node;
use crate::properties::AcHandling;
use crate::repository::{AddOptions, NodeInfo, Transaction};
use crate::value::{Binary, Property, PropertyType, Value};
use indexmap::IndexMap;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Access-control mixins that `replace` keeps unless acHandling overwrites.
pub const AC_MIXINS: [&str; 4] = [
    "rep:AccessControllable",
    "rep:RepoAccessControllable",
    "rep:CugMixin",
    "rep:PrincipalBasedMixin",
];

/// One install in progress.
pub struct Session<'t> {
    /// The transaction everything is written in.
    pub txn: &'t mut dyn Transaction,
    /// The workspace.
    pub ws: String,
    /// The (translated) filter; `None` when the package has no `filter.xml`.
    pub filter: Option<WorkspaceFilter>,
    /// The options.
    pub opts: &'t ImportOptions,
    /// acHandling in effect.
    pub ac: AcHandling,
    /// The repository's namespaces (grows as the install registers).
    pub ns: NamespaceRegistry,
    /// Node types (built-ins, the repository's, the package's).
    pub types: NodeTypeRegistry,
    /// Paths created or updated in this run.
    pub processed: PathSet,
    /// Every repository path the package has an entry for.
    pub hints: PathSet,
    /// Nodes to check against their node types at the end.
    pub to_check: super::node_types::CheckQueue,
    /// What the check needs of the nodes this install added, so that it need
    /// not read them back ([`super::node_types::added`]).
    pub added: super::node_types::AddedNodes,
    /// Versionable nodes the package says are checked in.
    pub check_in: Vec<String>,
    /// Child names listed by DocView elements, to order again once the children in
    /// their own files have been imported; in the order they were listed, so that
    /// those one document left are the last ones. Looked up for every created
    /// node, by package paths: hashed with foldhash, randomly seeded.
    pub name_lists: IndexMap<String, Vec<String>, foldhash::fast::RandomState>,
    /// Child names listed by DocView elements of existing nodes outside the filter
    /// (ancestors of the roots): not reordered, but a node created below one goes
    /// where the listing puts it, before the next listed sibling that exists.
    pub listed_children: HashMap<String, Vec<String>, foldhash::fast::RandomState>,
    /// `jcr:content` nodes whose `jcr:data` (and modification date) a plain file of
    /// the package supplies: their DocView does not list those properties.
    pub file_content: PathSet,
    /// The report.
    pub report: Report,
    /// The first write outside `--allow-root` or below a denied system root.
    pub out_of_bounds: Option<super::error::OutOfBounds>,
    /// Identifiers of the nodes this install removed, for the referential integrity
    /// check at the end.
    pub removed_ids: SpillLog<String>,
    /// Nodes the DocView document being imported created or updated (FileVault's
    /// per-document import info): an identifier one of them holds is not freed for
    /// another node of the same document. Hashed with foldhash (a path a node is
    /// created at goes in): randomly seeded, as the paths come from the package.
    pub document_nodes: HashSet<String, foldhash::fast::RandomState>,
    /// (package path, repository path) of authorizables that exist elsewhere: the
    /// package's content below them goes below the existing ones.
    pub remapped: Vec<(String, String)>,
    /// The layout's digests, when this install records and compares them
    /// ([`super::digest`]).
    pub digests: Option<super::digest::Digests>,
    /// The identifiers [`Session::new_uuid`] handed out, as hashes.
    issued: PathSet,
    /// The entries read ahead on the other thread, while the walk runs with one
    /// ([`super::ahead`]).
    pub ahead: Option<super::ahead::Ahead>,
    /// Which listed children exist below the nodes being walked
    /// ([`super::order::Placements`]).
    pub placements: super::order::Placements,
    /// The report's lines (and their events) held back while a described file is
    /// imported ([`Session::hold`]), in order.
    held: Option<Vec<Entry>>,
}

impl<'t> Session<'t> {
    /// The first failure to read back one of the path sets kept on disk: the
    /// answers given since may be wrong (a processed node taken for an unlisted
    /// one), so the install must fail rather than commit.
    pub fn path_set_error(&self) -> Result<(), ImportError> {
        let sets = [
            (&self.processed, "paths this install processed"),
            (&self.hints, "paths the package has entries for"),
            (&self.file_content, "paths whose data a file supplies"),
            (&self.issued, "identifiers this install issued"),
        ];
        for (set, what) in sets {
            if let Some(source) = set.read_error() {
                return Err(ImportError::ReadBack { what, source });
            }
        }
        Ok(())
    }

    /// Starts a session over an open transaction.
    pub fn new(
        txn: &'t mut dyn Transaction,
        opts: &'t ImportOptions,
        filter: Option<WorkspaceFilter>,
        ac: AcHandling,
        ns: NamespaceRegistry,
        types: NodeTypeRegistry,
    ) -> Session<'t> {
        Session {
            txn,
            ws: opts.workspace.clone(),
            filter,
            opts,
            ac,
            ns,
            types,
            processed: PathSet::new(),
            hints: PathSet::new(),
            to_check: Default::default(),
            added: Default::default(),
            check_in: Vec::new(),
            name_lists: IndexMap::default(),
            listed_children: HashMap::default(),
            file_content: PathSet::new(),
            report: Report::default(),
            out_of_bounds: None,
            removed_ids: SpillLog::new(),
            document_nodes: HashSet::default(),
            remapped: Vec::new(),
            digests: None,
            issued: PathSet::new(),
            ahead: None,
            placements: Default::default(),
            held: None,
        }
    }

    /// DocView `entry` as the reader parsed it; `None` when there is no reader or it
    /// did not read it (the caller reads and parses it then).
    pub fn read_ahead_doc(
        &mut self,
        entry: &str,
    ) -> Result<Option<Result<super::ahead::Document, crate::docview::DocViewError>>, ImportError>
    {
        match self.ahead.as_mut() {
            Some(a) => a.doc(entry),
            None => Ok(None),
        }
    }

    /// The bytes of file `entry` as the reader read and hashed them; `None` when there is no
    /// reader or it did not read them (the caller reads the entry then).
    pub fn read_ahead_blob(
        &mut self,
        entry: &str,
    ) -> Result<Option<super::ahead::Blob>, ImportError> {
        match self.ahead.as_mut() {
            Some(a) => a.blob(entry),
            None => Ok(None),
        }
    }

    /// Frees what only the walk of the package's tree uses (the processed, hinted and
    /// file-supplied paths, the child name lists), once it is done.
    pub fn walked(&mut self) {
        self.processed = PathSet::new();
        self.hints = PathSet::new();
        self.file_content = PathSet::new();
        self.name_lists = IndexMap::default();
        self.listed_children = HashMap::default();
        self.document_nodes = HashSet::default();
        self.placements = Default::default();
    }

    /// Whether the filter contains `path` (covered and included). Nothing is
    /// contained without filter sets.
    pub fn contains(&self, path: &str) -> bool {
        let path = self.filter_path(path);
        self.filter.as_ref().is_some_and(|f| f.contains(&path))
    }

    /// The repository path for the package path `path`: below a remapped authorizable,
    /// below the existing one.
    pub fn repo_path(&self, path: &str) -> String {
        Self::rebase(&self.remapped, path, false).into_owned()
    }

    /// The package path the filter decides for the repository path `path` (the inverse
    /// of [`Session::repo_path`]).
    fn filter_path<'p>(&self, path: &'p str) -> Cow<'p, str> {
        Self::rebase(&self.remapped, path, true)
    }

    /// `path` moved from below one side of a remapped authorizable to below the
    /// other; borrowed when nothing is remapped there (nearly always).
    fn rebase<'p>(remapped: &[(String, String)], path: &'p str, inverse: bool) -> Cow<'p, str> {
        for (pkg, repo) in remapped.iter().rev() {
            let (from, to) = if inverse { (repo, pkg) } else { (pkg, repo) };
            if path == from {
                return Cow::Owned(to.clone());
            }
            if let Some(rest) = path.strip_prefix(from.as_str()) {
                if rest.starts_with('/') {
                    return Cow::Owned(format!("{to}{rest}"));
                }
            }
        }
        Cow::Borrowed(path)
    }

    /// Whether `path` is an ancestor of a filter root.
    pub fn is_ancestor(&self, path: &str) -> bool {
        self.filter.as_ref().is_some_and(|f| f.is_ancestor(path))
    }

    /// The import mode for `path`.
    pub fn mode(&self, path: &str) -> ImportMode {
        let path = self.filter_path(path);
        match &self.filter {
            Some(f) => f.import_mode(&path, self.opts.mode),
            None => self.opts.mode.unwrap_or_default(),
        }
    }

    /// Whether the property at `node/name` passes the filter's property rules.
    pub fn includes_property(&self, node: &str, name: &str) -> bool {
        match &self.filter {
            // Without property rules every property passes (covered or not): the
            // property's path need not be built.
            Some(f) if f.sets.iter().any(|s| s.property_rules().next().is_some()) => {
                f.includes_property(&crate::path::join(&self.filter_path(node), name))
            }
            _ => true,
        }
    }

    /// The node at `path`, if any.
    pub fn node(&self, path: &str) -> Result<Option<NodeInfo>, ImportError> {
        Ok(self.txn.node(&self.ws, path)?)
    }

    /// Adds `node` at `path` (below its parent, at `placement`) and does the
    /// bookkeeping of a node this install created: see [`Session::touched`].
    pub fn add_node(
        &mut self,
        path: &str,
        node: &Node,
        placement: &AddOptions,
    ) -> Result<(), ImportError> {
        let parent = crate::path::parent(path).unwrap_or("/");
        let at = self.txn.add_node(&self.ws, parent, node, placement)?;
        let queued = self.to_check.len();
        self.touched(path, Action::Added, true);
        // Kept for the node type check only where the node landed on `path`.
        if at == path && self.to_check.len() > queued {
            super::node_types::added(self, queued, path, node);
        }
        Ok(())
    }

    /// The bookkeeping of a node this install created or updated, in one place:
    /// marks `path` processed (later steps leave it alone), queues it for the node
    /// type check when `check`, and records `action` in the report.
    pub fn touched(&mut self, path: &str, action: Action, check: bool) {
        self.processed.insert(path);
        if check {
            self.to_check.push(path);
        }
        self.record(path, action);
    }

    /// Records an action in the report.
    pub fn record(&mut self, path: &str, action: Action) {
        self.check_bounds(path, action);
        self.report_line(path, action, None);
    }

    /// Notes the first change outside the bounds the options allow.
    fn check_bounds(&mut self, path: &str, action: Action) {
        if self.out_of_bounds.is_none() && !matches!(action, Action::Unchanged | Action::Error) {
            self.out_of_bounds =
                super::roots::out_of_bounds(path, action == Action::Added, self.opts);
        }
    }

    /// Adds the report's line for `path` and tells the event sink, or holds both
    /// back while [`Session::hold`] says so.
    fn report_line(&mut self, path: &str, action: Action, detail: Option<String>) {
        match self.held.as_mut() {
            Some(held) => held.push(Entry {
                path: path.to_string(),
                action,
                detail,
            }),
            None => self.emit(path, action, detail),
        }
    }

    /// A report line and its event, now.
    fn emit(&mut self, path: &str, action: Action, detail: Option<String>) {
        self.path_event(path, action);
        self.report.record(path, action, detail);
    }

    /// Holds the report's lines back until [`Session::release`]: a described file's
    /// DocView reports its `jcr:content` before the file's data is compared, and
    /// FileVault reports that node modified when the data differs (one import
    /// info for the document and its file: `DocViewImporter.handleBinNode`).
    pub fn hold(&mut self) {
        self.held = Some(Vec::new());
    }

    /// FileVault's `onModified` of `path` (a described file's `jcr:content` whose
    /// data, date or type was set): its line held since [`Session::hold`] says
    /// updated instead of unchanged (created or failed stays); without one, an
    /// updated line is added.
    pub fn modified(&mut self, path: &str) {
        self.check_bounds(path, Action::Updated);
        let line = self
            .held
            .as_mut()
            .and_then(|held| held.iter_mut().rev().find(|e| e.path == path));
        match line {
            Some(e) if e.action == Action::Unchanged => e.action = Action::Updated,
            Some(_) => {}
            None => self.report_line(path, Action::Updated, None),
        }
    }

    /// Reports the lines held since [`Session::hold`], in order, and stops holding.
    pub fn release(&mut self) {
        for e in self.held.take().into_iter().flatten() {
            self.emit(&e.path, e.action, e.detail);
        }
    }

    /// Tells the caller's event sink that the install acted on `path`.
    pub fn path_event(&self, path: &str, action: Action) {
        self.opts.events.event(&Event::Path {
            action: action.letter(),
            path,
        });
    }

    /// Tells the caller's event sink that `amount` more units of the phase are done.
    pub fn advance(&self, amount: u64) {
        self.opts.events.event(&Event::Advance { amount });
    }

    /// Tells the caller's event sink that a phase begins.
    pub fn phase(&self, name: &str, total: Option<u64>, unit: Unit) {
        self.opts.events.event(&Event::Phase { name, total, unit });
    }

    /// A deterministic new identifier (version 4 layout) for `path`: the same path
    /// and clock give the same identifier, so that two installs of one package agree;
    /// a taken identifier moves on to the next candidate.
    pub fn new_uuid(&mut self, path: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut attempt: u64 = 0;
        loop {
            let mut h = Sha256::new();
            h.update(path.as_bytes());
            h.update(attempt.to_le_bytes());
            h.update(self.opts.actor.time.epoch_millis().to_le_bytes());
            let d = h.finalize();
            let mut b = [0u8; 16];
            b.copy_from_slice(&d[..16]);
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let x = crate::dump::hex(&b);
            let id = format!(
                "{}-{}-{}-{}-{}",
                &x[0..8],
                &x[8..12],
                &x[12..16],
                &x[16..20],
                &x[20..32]
            );
            let taken = self.issued.contains(&id)
                || matches!(self.txn.find_by_uuid(&self.ws, &id), Ok(Some(_)));
            if !taken {
                self.issued.insert(&id);
                return id;
            }
            attempt += 1;
        }
    }

    /// Fails in strict mode; in lenient mode records the error and goes on.
    pub fn fail_or_warn(&mut self, path: &str, message: String) -> Result<(), ImportError> {
        if self.opts.strict {
            return Err(ImportError::Violation {
                path: path.to_string(),
                message,
            });
        }
        self.record_error(path, message);
        Ok(())
    }

    /// Records a failure on `path` that does not stop the install, and warns.
    pub fn record_error(&mut self, path: &str, message: String) {
        self.report_line(path, Action::Error, Some(message.clone()));
        self.report.warn(message);
    }
}

/// Document prefix → repository prefix for one DocView file.
#[derive(Debug, Default, Clone)]
pub struct PrefixMap {
    map: HashMap<String, String>,
    /// Whether some prefix maps to another one: nearly every document uses the
    /// repository's own prefixes, and then no name is looked up.
    renames: bool,
}

#[cfg(test)]
impl<'t> Session<'t> {
    /// A session on `txn` with the namespaces and node types it holds, no filter
    /// and the default access control handling: the set-up of unit tests.
    pub(super) fn for_test(txn: &'t mut dyn Transaction, opts: &'t ImportOptions) -> Session<'t> {
        let ns = txn.namespaces().unwrap();
        let (types, _) = crate::nodetypes::load(&*txn, &ns);
        Session::new(txn, opts, None, Default::default(), ns, types)
    }
}

impl PrefixMap {
    /// Registers the document's namespaces (reference §3.11): a known URI keeps its
    /// repository prefix; an unknown one is registered under the document's prefix
    /// (numbered when taken).
    pub fn for_document(
        s: &mut Session<'_>,
        namespaces: &[(String, String)],
    ) -> Result<PrefixMap, ImportError> {
        let mut map = HashMap::new();
        for (p, uri) in namespaces {
            let repo = match s.ns.prefix(uri) {
                Some(q) => q.to_string(),
                None => {
                    let (q, _) = s.ns.register(p, uri);
                    s.txn.register_namespace(&q, uri)?;
                    s.report.registered_namespaces.push(format!("{q}={uri}"));
                    q
                }
            };
            map.insert(p.clone(), repo);
        }
        Ok(PrefixMap::new(map))
    }

    /// The map of document prefixes to repository prefixes.
    fn new(map: HashMap<String, String>) -> PrefixMap {
        let renames = map.iter().any(|(a, b)| a != b);
        PrefixMap { map, renames }
    }

    /// Rewrites the prefix of a qualified name. Prefixes the document did not declare
    /// are taken as the repository's own (names in file names, reference §3.11).
    pub fn name<'n>(&self, name: &'n str) -> Cow<'n, str> {
        if !self.renames {
            return Cow::Borrowed(name);
        }
        match name.split_once(':') {
            Some((p, l)) => match self.map.get(p) {
                Some(q) if q != p => Cow::Owned(format!("{q}:{l}")),
                _ => Cow::Borrowed(name),
            },
            None => Cow::Borrowed(name),
        }
    }

    /// Rewrites every segment of a path value.
    pub fn path(&self, p: &str) -> String {
        if !self.renames {
            return p.to_string();
        }
        p.split('/')
            .map(|seg| self.name(seg))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Converts a DocView property for a node of the given types, as Oak would store it:
/// untyped values take the definition's type (else String); a value that does not
/// convert is stored as a String. Returns `None` for binary placeholders.
pub fn convert_property(
    dp: &DocViewProperty,
    name: &str,
    prefixes: &PrefixMap,
    eff: &EffectiveType<'_>,
) -> Option<Property> {
    if dp.binary_ref {
        let values: Vec<Value> = dp
            .values
            .iter()
            .map(|v| Value::Binary(Binary::Reference(v.clone())))
            .collect();
        return Some(make(name, PropertyType::Binary, dp.multiple, values));
    }
    if dp.ptype == PropertyType::Binary {
        return None;
    }
    let mut ptype = dp.ptype;
    if name == "jcr:primaryType" || name == "jcr:mixinTypes" {
        ptype = PropertyType::Name;
    }
    if ptype == PropertyType::Undefined {
        ptype = eff
            .property_definition(name, PropertyType::Undefined, dp.multiple)
            .map(|d| d.def.required_type)
            .filter(|t| *t != PropertyType::Undefined && *t != PropertyType::Binary)
            .unwrap_or(PropertyType::String);
    }
    let parse_all = |t: PropertyType| -> Option<Vec<Value>> {
        dp.values
            .iter()
            .map(|v| {
                let v = match t {
                    PropertyType::Name => prefixes.name(v),
                    PropertyType::Path => Cow::Owned(prefixes.path(v)),
                    _ => Cow::Borrowed(v.as_str()),
                };
                Value::parse(t, &v).ok()
            })
            .collect()
    };
    let (ptype, values) = match parse_all(ptype) {
        Some(v) => (ptype, v),
        None => (
            PropertyType::String,
            dp.values.iter().map(|v| Value::String(v.clone())).collect(),
        ),
    };
    Some(make(name, ptype, dp.multiple, values))
}

fn make(name: &str, ptype: PropertyType, multiple: bool, mut values: Vec<Value>) -> Property {
    if multiple {
        Property::multi(name, ptype, values)
    } else {
        let v = values.pop().unwrap_or(Value::String(String::new()));
        Property {
            name: name.to_string(),
            ptype,
            multiple: false,
            values: vec![v],
        }
    }
}

/// Refuses a node deeper than [`crate::limits::Limits::node_depth`]: the importer's
/// walks recurse once a level, so the limit keeps them far from the stack's end.
pub(super) fn check_depth(p: &str) -> Result<(), ImportError> {
    // The one rule every writing path checks (crate::write_rules); the deny list is
    // checked with --allow-root (roots::out_of_bounds).
    let rules = crate::write_rules::WriteRules::allowing_system_roots(true);
    match crate::write_rules::check_path(p, &rules) {
        Err(crate::write_rules::WriteRefusal::TooDeep { path, depth, limit }) => {
            Err(ImportError::NodeTooDeep { path, depth, limit })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> PrefixMap {
        PrefixMap::new(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    /// Held lines reach the report and the event sink only when released, in
    /// the order they were recorded; `modified` turns a held unchanged line into
    /// an updated one, leaves a created or failed one, and adds one for a path
    /// without a line; the totals count what was released.
    #[test]
    fn held_lines_are_released_in_order_with_the_modified_ones_updated() {
        use crate::repository::Store;
        let (_repo, mut store) = crate::test_support::temp_repo();
        let events = std::sync::Arc::new(crate::events::Recorded::default());
        let mut opts = ImportOptions::new(crate::test_support::actor("2023-11-14T22:13:20.000Z"));
        opts.events = events.clone();
        opts.strict = false;
        let mut txn = store
            .begin_operation(crate::repository::contract::meta("test"))
            .unwrap();
        let mut s = Session::for_test(txn.as_mut(), &opts);
        let lines = |s: &Session<'_>| -> Vec<String> {
            let r = &s.report;
            r.entries
                .iter()
                .map(|e| format!("{} {}", e.action.letter(), e.path))
                .collect()
        };
        s.record("/before", Action::Unchanged);
        s.hold();
        s.record("/f", Action::Unchanged);
        s.record("/f/jcr:content", Action::Unchanged);
        s.record("/f/new", Action::Added);
        s.fail_or_warn("/f/bad", "no".into()).unwrap();
        assert_eq!(lines(&s), ["- /before"]);
        s.modified("/f/jcr:content");
        s.modified("/f/new");
        s.modified("/f/bad");
        s.modified("/f/other");
        assert_eq!(events.events().len(), 1);
        s.release();
        s.record("/after", Action::Unchanged);
        let want = [
            "- /before",
            "- /f",
            "U /f/jcr:content",
            "A /f/new",
            "E /f/bad",
            "U /f/other",
            "- /after",
        ];
        assert_eq!(lines(&s), want);
        let seen: Vec<String> = events
            .events()
            .into_iter()
            .map(|e| match e {
                crate::events::OwnedEvent::Path { action, path } => format!("{action} {path}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(seen, want);
        let t = &s.report.totals;
        assert_eq!((t.added, t.updated, t.unchanged, t.errors), (1, 2, 3, 1));
    }

    #[test]
    fn a_document_with_the_repository_prefixes_keeps_every_name() {
        let pm = map(&[("jcr", "jcr"), ("nt", "nt")]);
        assert!(matches!(pm.name("jcr:title"), Cow::Borrowed("jcr:title")));
        assert!(matches!(pm.name("other:x"), Cow::Borrowed("other:x")));
        assert_eq!(pm.path("/jcr:a/nt:b"), "/jcr:a/nt:b");
    }

    #[test]
    fn a_renamed_prefix_is_rewritten_in_names_and_paths() {
        let pm = map(&[("jcr", "jcr"), ("p", "q")]);
        assert_eq!(pm.name("p:x"), "q:x");
        assert_eq!(pm.name("jcr:title"), "jcr:title");
        // Undeclared prefixes are the repository's own.
        assert_eq!(pm.name("r:y"), "r:y");
        assert_eq!(pm.name("plain"), "plain");
        assert_eq!(pm.path("/p:a/jcr:b/p:c[2]"), "/q:a/jcr:b/q:c[2]");
    }
}
