//! Node types in an install: the package's CND files registered before its content,
//! and every node the install created or changed checked against its types after.

use super::error::ImportError;
use super::session::Session;
use super::spill;
use crate::cnd;
use crate::events::Unit;
use crate::node::Node;
use crate::package::NodeTypeFile;
use crate::value::PropertyType;

/// Registers the node types (and the namespaces they declare) of the package's CND
/// files; a type registered already with another definition is kept and reported.
pub(super) fn register(s: &mut Session<'_>, files: Vec<NodeTypeFile>) -> Result<(), ImportError> {
    for NodeTypeFile { entry, cnd } in files {
        let file = cnd?;
        let before: Vec<(String, String)> =
            s.ns.iter()
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
        let report =
            s.types
                .register_cnd(&file, &mut s.ns)
                .map_err(|source| ImportError::NodeTypes {
                    entry: entry.clone(),
                    source,
                })?;
        let new_ns: Vec<(String, String)> =
            s.ns.iter()
                .filter(|(p, u)| !before.iter().any(|(bp, bu)| bp == p && bu == u))
                .map(|(p, u)| (p.to_string(), u.to_string()))
                .collect();
        for (p, u) in new_ns {
            s.txn.register_namespace(&p, &u)?;
            s.report.registered_namespaces.push(format!("{p}={u}"));
        }
        for name in &report.added {
            if let Some(def) = s.types.get(name) {
                let text = cnd::write_with(std::slice::from_ref(def), &s.ns).map_err(|source| {
                    ImportError::NodeTypeText {
                        name: name.clone(),
                        source,
                    }
                })?;
                s.txn.register_node_type(name, &text)?;
                s.report.registered_node_types.push(name.clone());
            }
        }
        for name in &report.skipped_different {
            s.report.warn(format!(
                "{entry}: node type {name} is already registered with a different definition; kept"
            ));
        }
    }
    Ok(())
}

/// The nodes this install added that the check need not read back ([`added`]),
/// in the order of their paths in [`Session::to_check`].
///
/// A record is four words and owns no heap memory: the undeclared type names of
/// a node are kept once per distinct set ([`AddedNodes::undeclared`]), so that
/// the records, kept across thousands of adds, leave no small allocations
/// scattered among the install's (which raised the peak by tens of MiB).
#[derive(Debug, Default)]
pub struct AddedNodes {
    log: spill::SpillLog<Added>,
    /// The distinct sets of undeclared type names the records refer to.
    undeclared: Vec<Vec<String>>,
    /// Whether nodes of a type combination accept any content, asked once per
    /// combination (by [`added`] for each node, then by [`check`]).
    open_types: OpenTypes,
}

/// The [`Added::verdict`] of a node that fits its types with the children it
/// was added with.
const WITH_CHILDREN: u64 = u64::MAX;

/// How many distinct sets of undeclared type names [`AddedNodes`] keeps.
const MAX_UNDECLARED_SETS: usize = 64;

/// What the check needs of a node the install added, kept when it is added
/// ([`added`]): the check takes it for the node instead of reading the node
/// back, as long as the store says nothing changed the node since
/// ([`crate::repository::Transaction::added_unaltered`]) and no node type was
/// registered since.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Added {
    /// The index of the node's path in [`Session::to_check`].
    at: u64,
    /// The node's id in the store.
    id: i64,
    /// How many node types were registered when it was added.
    types: u64,
    /// What its check comes to: 0, its types are declared and accept any
    /// child and its properties fit them; [`WITH_CHILDREN`], its types are
    /// declared and accept only some children, and it fits them with the
    /// children it was added with (as long as the store says it has those);
    /// `n`, some of its types are not declared (the `n`th set of
    /// [`AddedNodes::undeclared`]): it is not checked.
    verdict: u64,
}

impl spill::Record for Added {
    fn encode(&self, out: &mut Vec<u8>) {
        for w in [self.at, self.id as u64, self.types, self.verdict] {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }

    fn decode(bytes: &mut &[u8]) -> Option<Added> {
        let mut word = || -> Option<u64> {
            let (w, rest) = bytes.split_first_chunk::<8>()?;
            *bytes = rest;
            Some(u64::from_le_bytes(*w))
        };
        Some(Added {
            at: word()?,
            id: word()? as i64,
            types: word()?,
            verdict: word()?,
        })
    }
}

impl AddedNodes {
    /// Keeps `a`, whose node's undeclared types are `unknown` (none: it fits).
    /// Past [`MAX_UNDECLARED_SETS`] distinct sets a node with a new set is not
    /// kept (the check reads it back), so that a package of many type
    /// combinations costs neither memory nor a long search here.
    fn push<'n>(&mut self, mut a: Added, unknown: impl Iterator<Item = &'n String> + Clone) {
        if a.verdict == WITH_CHILDREN {
            // All its types are declared.
        } else if unknown.clone().next().is_some() {
            let known = self
                .undeclared
                .iter()
                .position(|set| set.iter().eq(unknown.clone()));
            let i = match known {
                Some(i) => i,
                None if self.undeclared.len() >= MAX_UNDECLARED_SETS => return,
                None => {
                    self.undeclared.push(unknown.cloned().collect());
                    self.undeclared.len() - 1
                }
            };
            a.verdict = i as u64 + 1;
        }
        self.log.push(a);
    }

    /// The undeclared type names of `a` (none when it fits).
    fn undeclared(&self, a: &Added) -> &[String] {
        if a.verdict == WITH_CHILDREN {
            return &[];
        }
        a.verdict
            .checked_sub(1)
            .and_then(|i| self.undeclared.get(usize::try_from(i).ok()?))
            .map_or(&[], Vec::as_slice)
    }
}

/// Keeps what the check will need of `node`, which the install has just added
/// at `path` and queued as `at`th in [`Session::to_check`]; nothing when the
/// check is to read it back: a node of declared types added with binaries (the
/// store keeps those otherwise than given), or with children while its types
/// accept any child (not worth telling apart), one that does not fit its
/// types (the message words the stored values), or one the store does not
/// vouch for. A node whose types accept only some children is kept as fitting
/// with the children it was added with ([`WITH_CHILDREN`]): the check takes it
/// as added only while the store says it has just those
/// ([`crate::repository::Transaction::children_as_added`]), the children of an
/// `nt:file` added with its `jcr:content` (a file of the package).
/// A node with an undeclared type is kept whatever it holds: the
/// check takes only its type names then (it records the undeclared ones and
/// checks nothing else of it), and those are as given while the store vouches
/// for the node.
pub(super) fn added(s: &mut Session<'_>, at: usize, path: &str, node: &Node) {
    let declared = std::iter::once(&node.primary_type)
        .chain(&node.mixins)
        .all(|t| s.types.is_known(t));
    let mut verdict = 0;
    if declared {
        match fits_as_given(s, node) {
            None => return,
            Some(true) => verdict = WITH_CHILDREN,
            Some(false) => {}
        }
    }
    // A store that cannot tell now leaves the node to be read back, which meets
    // the same failure where the check would have met it.
    let Some(id) = s.txn.added_unaltered(&s.ws, path).ok().flatten() else {
        return;
    };
    let types = &s.types;
    let unknown = std::iter::once(&node.primary_type)
        .chain(&node.mixins)
        .filter(|t| !types.is_known(t));
    let a = Added {
        at: at as u64,
        id,
        types: types.len() as u64,
        verdict,
    };
    s.added.push(a, unknown);
}

/// Whether the check of `node`, a node of declared types, comes out the same
/// for the node as given as for the node as stored, and passes: it holds no
/// binaries, and either its types accept any child and it holds none
/// (`Some(false)`), or they accept only some and it fits them with the
/// children it holds (`Some(true)`: the same for the node as stored while
/// it has just those children, which the check reads only then); `None`
/// otherwise.
fn fits_as_given(s: &mut Session<'_>, node: &Node) -> Option<bool> {
    if node
        .properties
        .values()
        .any(|p| p.ptype == PropertyType::Binary)
    {
        return None;
    }
    let open = s
        .added
        .open_types
        .accepts_any_content(&s.types, &node.primary_type, &node.mixins);
    if open && !node.children.is_empty() {
        return None;
    }
    // The check looks at a child's name and types only, as stored.
    if s.types.check_node(node).iter().any(|v| v.is_error()) {
        return None;
    }
    Some(!open)
}

/// The paths of the nodes to check at the end ([`check`]), in the order queued,
/// each once at its first queueing as far as the last few queued paths tell: a
/// parent is queued again after each child added to it, so a path queued again
/// right after itself or a child of its, already on the list, is not written to
/// it a second time (the check takes each path once, at its first place, so the
/// list means the same: at a million nodes it was 2 million paths long, half of
/// them such repeats).
#[derive(Debug, Default)]
pub struct CheckQueue {
    log: spill::SpillLog<String>,
    recent: Recent,
}

impl CheckQueue {
    /// Queues `path` for the check (nothing if it is among the last few queued).
    pub fn push(&mut self, path: &str) {
        if self.recent.contains(path) {
            return;
        }
        self.recent.note(path);
        self.log.push(path.to_string());
    }

    /// How many paths the list holds.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// The list, leaving this queue empty.
    fn take(&mut self) -> spill::SpillLog<String> {
        self.recent = Recent::default();
        std::mem::take(&mut self.log)
    }
}

/// Paths whose nodes are read together (one batched read of rows, of
/// properties and of children on a backend with round trips).
const BATCH: usize = 256;

/// Checks every node the install created or changed against its node types. Unknown
/// types are recorded and reported, not refused; violations of declared types fail.
///
/// The list of paths is gone through on a thread of its own ([`first_places`]:
/// reading it back from its file, telling repeats by the path set, matching the
/// nodes kept as added), which hands this thread each path at its first place in
/// chunks, in order; this thread, which holds the transaction, checks them
/// ([`Checking::take`]). Without a thread to be had, both run here, in turn.
/// The nodes are read [`BATCH`] paths at a time ([`crate::repository::StoreRead::nodes_shallow`])
/// and checked in order; a batch whose read fails is read again a path at a
/// time, so an error is met where a read of each path on its own meets it,
/// after the problems of the paths before it.
pub(super) fn check(s: &mut Session<'_>) -> Result<(), ImportError> {
    let paths = s.to_check.take();
    s.phase("checking node types", Some(paths.len() as u64), Unit::Paths);
    let queued = paths.len();
    // The nodes kept as added, in the order of their paths in `paths`; a log
    // that cannot be read back only leaves the rest to be read from the store.
    let mut added_nodes = std::mem::take(&mut s.added);
    let log = std::mem::take(&mut added_nodes.log);
    let mut checking = Checking {
        open_types: std::mem::take(&mut added_nodes.open_types),
        added: added_nodes,
        undeclared: Default::default(),
        batch: Vec::with_capacity(BATCH),
        skipped: 0,
        as_added: 0,
        read: 0,
    };
    let (trailing, error) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<FirstPlace>>(CHUNKS_AHEAD);
        let spawned = if threads_enabled() {
            let (paths, log) = (&paths, &log);
            std::thread::Builder::new()
                .name("jcrpack-check-list".into())
                .spawn_scoped(scope, move || {
                    first_places(paths, log, &mut |chunk| tx.send(chunk).is_ok())
                })
                .ok()
        } else {
            None
        };
        let Some(lister) = spawned else {
            // Here, in turn: each chunk checked as it is made.
            let mut failed = None;
            let listed = first_places(&paths, &log, &mut |chunk| match checking.take(s, chunk) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            });
            return match failed {
                Some(e) => Err(e),
                None => Ok(listed),
            };
        };
        let mut taken = Ok(());
        while let Ok(chunk) = rx.recv() {
            taken = checking.take(s, chunk);
            if taken.is_err() {
                break;
            }
        }
        // A failed check stops the lister at its next chunk.
        drop(rx);
        let listed = lister
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        taken.map(|()| listed)
    })?;
    checking.flush(s)?;
    tracing::debug!(
        "node type check: {} paths queued, {} checked as added, {} read back",
        queued,
        checking.as_added,
        checking.read
    );
    s.advance(checking.skipped + trailing);
    if let Some(e) = error {
        return Err(ImportError::ReadBack {
            what: "nodes to check against their node types",
            source: e,
        });
    }
    s.report.undeclared_node_types = checking.undeclared.into_iter().collect();
    Ok(())
}

/// How many chunks of [`first_places`] may wait for the check.
const CHUNKS_AHEAD: usize = 8;

/// How many paths a chunk of [`first_places`] holds.
const CHUNK: usize = 1024;

/// Whether the check lists its paths on a thread of its own: always, but a
/// unit test may turn it off on its thread to compare.
fn threads_enabled() -> bool {
    #[cfg(test)]
    if tests::NO_THREAD.with(|o| o.get()) {
        return false;
    }
    true
}

/// A path of the check's list at its first place ([`first_places`]).
#[derive(Debug)]
struct FirstPlace {
    path: String,
    /// What the install kept of the node it added there, if it kept anything.
    added: Option<Added>,
    /// The progress it stands for: itself and the repeats before it.
    progress: u64,
}

/// Goes through `paths` in order and hands `take` each path at its first place
/// (a repeat of a path listed before is left out: told by a path set, as the
/// last few repeats were left out when queued, [`CheckQueue`]), with the record
/// `added` holds for that place, in chunks of [`CHUNK`]; stops when `take` says
/// so. Returns the progress of the repeats after the last path handed over, and
/// why the list could not be read back whole, if it could not (what came before
/// was handed over).
fn first_places(
    paths: &spill::SpillLog<String>,
    added: &spill::SpillLog<Added>,
    take: &mut dyn FnMut(Vec<FirstPlace>) -> bool,
) -> (u64, Option<std::io::Error>) {
    let mut seen = spill::PathSet::new();
    let mut records = paths.iter();
    let mut added = added.iter();
    let mut next_added = added.next();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut skipped = 0u64;
    for (at, path) in (&mut records).enumerate() {
        skipped += 1;
        if !seen.insert(&*path) {
            continue;
        }
        let at = at as u64;
        while next_added.as_ref().is_some_and(|a| a.at < at) {
            next_added = added.next();
        }
        let kept = next_added.as_deref().filter(|a| a.at == at).copied();
        let path = match path {
            spill::Item::Owned(p) => p,
            spill::Item::Borrowed(p) => p.clone(),
        };
        chunk.push(FirstPlace {
            path,
            added: kept,
            progress: skipped,
        });
        skipped = 0;
        if chunk.len() == CHUNK && !take(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))) {
            return (skipped, records.error);
        }
    }
    if !chunk.is_empty() && !take(chunk) {
        return (skipped, records.error);
    }
    (skipped, records.error)
}

/// The check of the paths [`first_places`] hands over, on the thread that holds
/// the transaction.
struct Checking {
    added: AddedNodes,
    open_types: OpenTypes,
    undeclared: std::collections::BTreeSet<String>,
    /// The paths to read and check next, each with the progress it stands for
    /// (itself and the paths before it checked as added or left out).
    batch: Vec<(String, u64)>,
    /// The progress of the paths since the last one read.
    skipped: u64,
    as_added: u64,
    read: u64,
}

impl Checking {
    /// Checks the nodes at `chunk`'s paths: as added where the install kept
    /// them and the store vouches for them, else read back, [`BATCH`] at a time.
    fn take(&mut self, s: &mut Session<'_>, chunk: Vec<FirstPlace>) -> Result<(), ImportError> {
        for next in chunk {
            self.skipped += next.progress;
            if let Some(a) = &next.added {
                if known_unaltered(s, &next.path, a)? {
                    self.as_added += 1;
                    self.undeclared
                        .extend(self.added.undeclared(a).iter().cloned());
                    continue;
                }
            }
            self.batch.push((next.path, self.skipped));
            self.read += 1;
            self.skipped = 0;
            if self.batch.len() == BATCH {
                self.flush(s)?;
            }
        }
        Ok(())
    }

    /// Reads and checks the batch.
    fn flush(&mut self, s: &mut Session<'_>) -> Result<(), ImportError> {
        let done = check_batch(s, &self.batch, &mut self.undeclared, &mut self.open_types);
        self.batch.clear();
        done
    }
}

/// The last few distinct paths queued for the check ([`Recent::LEN`]), the
/// latest first: a path among them is a repeat ([`CheckQueue`]), told by
/// comparing strings, without writing it to the list again.
#[derive(Debug, Default)]
struct Recent(std::collections::VecDeque<String>);

impl Recent {
    /// How many paths it keeps: a parent and the child being added below it,
    /// and a few ancestors of theirs.
    const LEN: usize = 8;

    /// Whether `path` is one of the last paths noted; if so it becomes the latest.
    fn contains(&mut self, path: &str) -> bool {
        match self.0.iter().position(|p| p == path) {
            Some(i) => {
                if let Some(p) = self.0.remove(i) {
                    self.0.push_front(p);
                }
                true
            }
            None => false,
        }
    }

    /// Notes `path` as the latest (it was not among the last ones).
    fn note(&mut self, path: &str) {
        let reused = if self.0.len() == Self::LEN {
            self.0.pop_back()
        } else {
            None
        };
        let mut p = reused.unwrap_or_default();
        p.clear();
        p.push_str(path);
        self.0.push_front(p);
    }
}

/// Whether the node at `p` is the one `a` was kept for, as it was added, under
/// the node types it was added under: the store vouches for it without a
/// lookup while nothing may have moved it
/// ([`crate::repository::Transaction::still_as_added`]), else its path is
/// looked up.
fn known_unaltered(s: &Session<'_>, p: &str, a: &Added) -> Result<bool, ImportError> {
    if a.types != s.types.len() as u64 {
        return Ok(false);
    }
    if a.verdict == WITH_CHILDREN && !s.txn.children_as_added(a.id) {
        return Ok(false);
    }
    Ok(s.txn.still_as_added(a.id) || s.txn.added_unaltered(&s.ws, p)? == Some(a.id))
}

/// Whether a node of these types is checked with its children: its types are
/// all declared (else they are recorded in `undeclared` and it is not checked)
/// and some of them does not accept any child.
fn wants_children(
    types: &cnd::NodeTypeRegistry,
    undeclared: &mut std::collections::BTreeSet<String>,
    open_types: &mut OpenTypes,
    primary: &str,
    mixins: &[String],
) -> bool {
    if !declared(types, undeclared, primary, mixins) {
        return false;
    }
    !open_types.accepts_any_content(types, primary, mixins)
}

/// Per primary type, per list of mixins: whether such a node accepts any child
/// ([`cnd::NodeTypeRegistry::accepts_any_content`]), looked up without building
/// a key; forgotten when a node type is registered.
#[derive(Debug, Default)]
struct OpenTypes {
    /// How many node types were registered when the answers were given.
    types: usize,
    by_primary: std::collections::HashMap<String, Vec<(Vec<String>, bool)>>,
}

impl OpenTypes {
    /// [`cnd::NodeTypeRegistry::accepts_any_content`], asked of `types` once per
    /// combination.
    fn accepts_any_content(
        &mut self,
        types: &cnd::NodeTypeRegistry,
        primary: &str,
        mixins: &[String],
    ) -> bool {
        if self.types != types.len() {
            self.by_primary.clear();
            self.types = types.len();
        }
        let known = self
            .by_primary
            .get(primary)
            .and_then(|m| m.iter().find(|(k, _)| k.as_slice() == mixins));
        match known {
            Some(&(_, open)) => open,
            None => {
                let open = types.accepts_any_content(primary, mixins);
                self.by_primary
                    .entry(primary.to_string())
                    .or_default()
                    .push((mixins.to_vec(), open));
                open
            }
        }
    }
}

/// Whether all the types are declared; those that are not are recorded.
fn declared(
    types: &cnd::NodeTypeRegistry,
    undeclared: &mut std::collections::BTreeSet<String>,
    primary: &str,
    mixins: &[String],
) -> bool {
    let mut all = true;
    for t in std::iter::once(primary).chain(mixins.iter().map(String::as_str)) {
        if !types.is_known(t) {
            all = false;
            undeclared.insert(t.to_string());
        }
    }
    all
}

/// Reads and checks the nodes at `batch`'s paths, in order (see [`check`]).
fn check_batch(
    s: &mut Session<'_>,
    batch: &[(String, u64)],
    undeclared: &mut std::collections::BTreeSet<String>,
    open_types: &mut OpenTypes,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    // A node with an undeclared type is not checked (reported below); one whose
    // types accept any child is checked without its children read (its property
    // values can still fail, a `{Name}` that is no name).
    let paths: Vec<&str> = batch.iter().map(|(p, _)| p.as_str()).collect();
    let read = {
        let types = &s.types;
        let mut want = |primary: &str, mixins: &[String]| {
            wants_children(types, undeclared, open_types, primary, mixins)
        };
        s.txn.nodes_shallow(&s.ws, &paths, &mut want)
    };
    // A batch that cannot be read is read again one by one below, so that the
    // problems of the paths before the one that fails are reported first; the
    // error is the batch's (a failed statement can leave the transaction
    // unable to answer the next).
    let (nodes, mut failed) = match read {
        Ok(nodes) => (nodes.into_iter().map(Some).collect(), None),
        Err(e) => (vec![None; batch.len()], Some(e)),
    };
    for ((p, progress), node) in batch.iter().zip(nodes) {
        s.advance(*progress);
        let node = match node {
            Some(node) => node,
            None => {
                let types = &s.types;
                let mut want = |primary: &str, mixins: &[String]| {
                    wants_children(types, undeclared, open_types, primary, mixins)
                };
                match s.txn.node_shallow(&s.ws, p, &mut want) {
                    Ok(node) => node,
                    Err(e) => return Err(failed.take().unwrap_or(e).into()),
                }
            }
        };
        let Some(node) = node else {
            continue;
        };
        if !declared(
            &s.types,
            &mut Default::default(),
            &node.primary_type,
            &node.mixins,
        ) {
            continue;
        }
        let violations: Vec<_> = s
            .types
            .check_node(&node)
            .into_iter()
            .filter(|v| v.is_error())
            .collect();
        if let Some(v) = violations.first() {
            let mode = s.mode(p);
            let msg = format!("{p}: node type constraint violated: {v}");
            // Other modes tolerate constraint violations (reference §3.5).
            if mode == crate::filter::ImportMode::Replace {
                s.fail_or_warn(p, msg)?;
            } else {
                s.report.warn(msg);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Added, AddedNodes, CheckQueue, Recent};
    use crate::import::options::ImportOptions;
    use crate::import::session::Session;
    use crate::import::spill::SpillLog;
    use crate::node::Node;
    use crate::repository::AddOptions;

    thread_local! {
        /// Set by a test: the check lists its paths on the thread that checks.
        pub(super) static NO_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// The check's list goes to the checking thread at each path's first place
    /// only, in order, in chunks, with the record kept for that place (a record
    /// kept for a later place of a path is not that path's), and the progress of
    /// every path listed (repeats counted with the next first place, the last
    /// ones handed back); a list longer than its memory part and more than a
    /// chunk comes back whole.
    #[test]
    fn the_check_list_hands_over_first_places_with_their_records() {
        let mut paths = SpillLog::<String>::new();
        let mut added = SpillLog::<Added>::new();
        let n = SpillLog::<String>::IN_MEMORY + super::CHUNK + 5;
        let record = |at: usize| Added {
            at: at as u64,
            id: at as i64 + 100,
            types: 1,
            verdict: 0,
        };
        let mut at = 0;
        let mut want = Vec::new();
        for i in 0..n {
            paths.push(format!("/p{i}"));
            if i % 3 == 0 {
                added.push(record(at));
            }
            want.push((
                format!("/p{i}"),
                (i % 3 == 0).then(|| record(at)),
                1 + u64::from(i > 0 && i % 10 == 0),
            ));
            at += 1;
            if i % 10 == 9 {
                // A repeat of a path from long before, with a record for its
                // place (never the path's first).
                paths.push(format!("/p{}", i / 2));
                added.push(record(at));
                at += 1;
            }
        }
        paths.push("/p0".to_string());
        paths.push("/p1".to_string());
        let mut got = Vec::new();
        let mut chunks = 0;
        let (trailing, error) = super::first_places(&paths, &added, &mut |chunk| {
            assert!(chunk.len() <= super::CHUNK);
            chunks += 1;
            got.extend(chunk.into_iter().map(|f| (f.path, f.added, f.progress)));
            true
        });
        assert!(error.is_none());
        assert_eq!(trailing, 2);
        assert_eq!(chunks, n.div_ceil(super::CHUNK));
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w);
        }
        let listed: u64 = got.iter().map(|g| g.2).sum::<u64>() + trailing;
        assert_eq!(listed, paths.len() as u64);
        // Told to stop, it stops after that chunk.
        let mut calls = 0;
        super::first_places(&paths, &added, &mut |_| {
            calls += 1;
            false
        });
        assert_eq!(calls, 1);
    }

    /// The check comes to the same report, warnings in the same order, whether
    /// its list is gone through on a thread of its own or on the checking thread.
    #[test]
    fn the_check_says_the_same_with_and_without_its_listing_thread() {
        let run = |no_thread: bool| {
            NO_THREAD.with(|o| o.set(no_thread));
            let got = with_session(Some(false), |s| {
                s.add_node("/f", &Node::new("f", "nt:folder"), &AddOptions::append())
                    .unwrap();
                for i in 0..3000 {
                    let p = format!("/f/n{i}");
                    // Folders hold files and folders only: each unstructured child
                    // is a violation of /f's types, warned once; every tenth is of
                    // an undeclared type, every seventh a folder (read back).
                    let t = match i {
                        _ if i % 10 == 0 => "x:undeclared",
                        _ if i % 7 == 0 => "nt:folder",
                        _ => "nt:unstructured",
                    };
                    s.add_node(&p, &Node::new(format!("n{i}"), t), &AddOptions::append())
                        .unwrap();
                    s.to_check.push("/f");
                }
                super::check(s).unwrap();
                let r = &s.report;
                (r.warnings.clone(), r.undeclared_node_types.clone())
            });
            NO_THREAD.with(|o| o.set(false));
            got
        };
        let (with, without) = (run(false), run(true));
        assert!(
            !with.0.is_empty(),
            "a folder with unstructured children is warned about"
        );
        assert_eq!(with.1, ["x:undeclared"]);
        assert_eq!(with, without);
    }

    /// The queue writes a path once while it is among the last queued ones (a
    /// parent queued again after each child), in the order first queued, and
    /// again once it has fallen out of them (the check's path set answers then).
    #[test]
    fn the_check_queue_leaves_out_repeats_of_recent_paths_only() {
        let mut q = CheckQueue::default();
        for p in ["/a", "/a/b", "/a", "/a/c", "/a", "/a/c/d", "/a/c", "/a"] {
            q.push(p);
        }
        assert_eq!(q.len(), 4);
        for i in 0..Recent::LEN {
            q.push(&format!("/x{i}"));
        }
        q.push("/a");
        let listed: Vec<String> = q.take().iter().map(|p| p.to_string()).collect();
        let mut want = vec!["/a", "/a/b", "/a/c", "/a/c/d"];
        let xs: Vec<String> = (0..Recent::LEN).map(|i| format!("/x{i}")).collect();
        want.extend(xs.iter().map(String::as_str));
        want.push("/a");
        assert_eq!(listed, want);
        assert_eq!(q.len(), 0);
        q.push("/a");
        assert_eq!(q.len(), 1, "a taken queue forgets what it held");
    }

    /// A repeat is told from the last paths noted, however they were
    /// interleaved, and a path noted longer ago than [`Recent::LEN`] distinct
    /// paths is not (the path set answers for it).
    #[test]
    fn recent_paths_tell_repeats_of_the_last_few_only() {
        let mut r = Recent::default();
        r.note("/a");
        r.note("/a/b");
        assert!(r.contains("/a"));
        assert!(!r.contains("/a/c"));
        r.note("/a/c");
        assert!(r.contains("/a/b"));
        // `/a` was made the latest by its repeat, so it outlives `/a/b`'s
        // siblings up to the limit.
        for i in 0..Recent::LEN - 2 {
            r.note(&format!("/a/b/{i}"));
        }
        assert!(r.contains("/a/b"));
        assert!(!r.contains("/a"), "{:?}", r.0);
        assert!(!r.contains("/a/"));
        assert_eq!(r.0.len(), Recent::LEN);
    }

    /// A node of an undeclared type is kept as added whatever it holds (the
    /// check records its type names and checks nothing else), and checked so,
    /// without reading it back; one of declared types with children is left to
    /// be read back.
    #[test]
    fn a_node_of_an_undeclared_type_is_kept_as_added_with_its_children() {
        with_session(None, |s| {
            let with_child = |name: &str, primary: &str| {
                let mut n = Node::new(name, primary);
                n.children.push(Node::new("c", "nt:unstructured"));
                n
            };
            s.add_node(
                "/u",
                &with_child("u", "nt:undeclaredPage"),
                &AddOptions::append(),
            )
            .unwrap();
            assert_eq!(s.added.log.len(), 1);
            s.add_node(
                "/d",
                &with_child("d", "nt:unstructured"),
                &AddOptions::append(),
            )
            .unwrap();
            assert_eq!(
                s.added.log.len(),
                1,
                "a declared node with children is read back"
            );
            super::check(s).unwrap();
            assert_eq!(s.report.undeclared_node_types, ["nt:undeclaredPage"]);
        });
    }

    /// A node whose types accept only some children, added with children that
    /// fit them (a file with its resource), is kept as added with them, and the
    /// check takes it so while it has just those; a child added below it
    /// later, otherwise than by the install's queue, is still seen by the
    /// check (the node is read back) and its violation reported.
    #[test]
    fn a_node_added_with_children_is_checked_as_added_until_they_change() {
        with_session(Some(false), |s| {
            let folder = |name: &str| {
                let mut f = Node::new(name, "nt:folder");
                f.children.push(Node::new("sub", "nt:folder"));
                f
            };
            s.add_node("/f", &folder("f"), &AddOptions::append())
                .unwrap();
            s.add_node("/g", &folder("g"), &AddOptions::append())
                .unwrap();
            let kept: Vec<u64> = s.added.log.iter().map(|a| a.verdict).collect();
            assert_eq!(kept, [super::WITH_CHILDREN; 2]);
            // Not a child a folder accepts, added without the queue knowing.
            s.txn
                .add_node(
                    &s.ws,
                    "/g",
                    &Node::new("x", "nt:unstructured"),
                    &AddOptions::append(),
                )
                .unwrap();
            super::check(s).unwrap();
            assert_eq!(
                s.report.warnings,
                ["/g: node type constraint violated: no definition allows a child x of type nt:unstructured"]
            );
        });
    }

    /// Runs `f` on an import session in an operation of a new repository, as user
    /// `ci` at a fixed time, `strict` as given (else the default).
    fn with_session<R>(strict: Option<bool>, f: impl FnOnce(&mut Session<'_>) -> R) -> R {
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let actor = crate::events::Actor {
            user: "ci".into(),
            time: crate::value::Date::from_epoch_millis(1_700_000_000_000),
        };
        let mut opts = ImportOptions::new(actor);
        if let Some(strict) = strict {
            opts.strict = strict;
        }
        let mut txn = store
            .begin_operation(crate::repository::contract::meta("test"))
            .unwrap();
        let mut s = Session::for_test(txn.as_mut(), &opts);
        f(&mut s)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|n| n.to_string()).collect()
    }

    /// Records kept past the memory part of the log come back from its file as
    /// they went in, each with its undeclared types, a set kept once however
    /// many nodes share it.
    #[test]
    fn added_nodes_come_back_from_the_spilled_log_with_their_undeclared_types() {
        let mut nodes = AddedNodes::default();
        let n = SpillLog::<Added>::IN_MEMORY + 3;
        let sets = [names(&[]), names(&["cq:Page"]), names(&["cq:Page", "x:t"])];
        let record = |i: usize| Added {
            at: i as u64,
            id: i as i64 * 7,
            types: 64,
            verdict: 0,
        };
        for i in 0..n {
            nodes.push(record(i), sets[i % 3].iter());
        }
        assert_eq!(nodes.undeclared.len(), 2, "{:?}", nodes.undeclared);
        let mut it = nodes.log.iter();
        let back: Vec<(Added, Vec<String>)> = it
            .by_ref()
            .map(|a| (*a, nodes.undeclared(&a).to_vec()))
            .collect();
        assert!(it.error.is_none());
        assert_eq!(back.len(), n);
        for (i, (a, undeclared)) in back.into_iter().enumerate() {
            assert_eq!((a.at, a.id, a.types), (i as u64, i as i64 * 7, 64));
            assert_eq!(undeclared, sets[i % 3], "{i}");
        }
    }

    /// Past the limit of distinct sets, a node with a set not seen yet is not
    /// kept (the check reads it back); nodes with a known set still are.
    #[test]
    fn nodes_with_new_undeclared_sets_past_the_limit_are_left_to_be_read_back() {
        let mut nodes = AddedNodes::default();
        let record = |i: usize| Added {
            at: i as u64,
            id: i as i64,
            types: 1,
            verdict: 0,
        };
        let limit = super::MAX_UNDECLARED_SETS;
        for i in 0..limit + 10 {
            nodes.push(record(i), names(&[&format!("x:t{i}")]).iter());
        }
        nodes.push(record(limit + 10), names(&["x:t0"]).iter());
        nodes.push(record(limit + 11), names(&[]).iter());
        assert_eq!(nodes.undeclared.len(), limit);
        let kept: Vec<u64> = nodes.log.iter().map(|a| a.at).collect();
        let mut want: Vec<u64> = (0..limit as u64).collect();
        want.extend([limit as u64 + 10, limit as u64 + 11]);
        assert_eq!(kept, want);
    }
}
