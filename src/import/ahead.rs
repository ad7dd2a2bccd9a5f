//! Reading ahead (issue 16 item 1): a second thread walks the plan in the order the
//! installer consumes it, inflates each entry and parses DocView files, and hands
//! them over in order through a bounded channel, so that reading and parsing run on
//! the other core while the installing thread decides and writes.
//!
//! * Order: the reader walks the plan as [`super::tree`] does, with the filter's
//!   pruning and child order and `.binary` files in the order
//!   [`super::file::apply_binaries`] reads them. The installer asks for each entry
//!   by name ([`Ahead::doc`], [`Ahead::blob`]); what it passes over (an entry it
//!   did not need: a subtree skipped, a file a merge keeps) is dropped. An entry the
//!   reader did not hand over is read by the installer itself, as without reading
//!   ahead: the result is the same whatever the reader did.
//! * Memory: what is queued ahead is bounded by a byte budget ([`Budget`]); an entry
//!   larger than [`LARGEST_AHEAD`] is not read ahead (the installer streams it).
//! * Freeing: what the reader allocated (a parsed document, a file's bytes, an
//!   entry's name) is handed back to it when the installer is done with it
//!   ([`Handed`]), and freed there. With glibc a block freed by another thread than
//!   the one that allocated it goes back to that thread's arena under its lock: the
//!   installer freed some 13 such blocks per node. What is handed back counts
//!   against the budget until the reader has freed it.
//! * Errors: a DocView file's parse result is handed over as it is (its file, line
//!   and column), and only when the installer reaches it. An entry that cannot be
//!   read is not handed over: the installer reads it again and fails as it would
//!   have, at the same point. A panic of the reader becomes
//!   [`ImportError::ReadAhead`].
//! * Stopping: dropping the [`Ahead`] (the install failed, was refused, or is done)
//!   closes the budget and the channel, so the reader stops at its next step; the
//!   caller joins it inside a scope, so no thread outlives the install.

use super::digest::Skips;
use super::error::ImportError;
use super::plan::{Id, Plan};
use crate::archive::{Archive, Entry};
use crate::docview::{DocViewDocument, DocViewError};
use crate::filter::WorkspaceFilter;
use crate::package::BinaryFile;
use crate::path;
use crate::repository::blob::HashedBytes;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};

/// Bytes the reader may hold ahead of the installer (estimated, see [`cost`]): a
/// few MiB keep it ahead of the writer; more only adds to the peak.
pub const BUDGET: usize = 4 << 20;

/// Entries larger than this (uncompressed) are not read ahead.
pub const LARGEST_AHEAD: u64 = 1 << 20;

/// Items queued at most, whatever their size.
const QUEUE: usize = 4096;

/// The installer publishes what it received and handed back (and so may wake the
/// reader) when it holds this share of the budget, ...
const WAKE_SHARE: usize = 8;

/// ... or this many items (names included, which cost nothing), or before it
/// waits for the next item ([`Budget`]).
const WAKE_ITEMS: usize = 256;

/// What the reader prepared for one entry.
enum Ready {
    /// A DocView file, parsed (or why not).
    Doc(Result<Box<DocViewDocument>, Box<DocViewError>>),
    /// A file's bytes, hashed here: the installer stores them under that digest
    /// without hashing them on its own thread.
    Bytes(HashedBytes),
    /// Nothing: too large, or it could not be read; the installer reads it.
    Read,
}

enum Msg {
    Item {
        entry: String,
        ready: Ready,
        cost: usize,
    },
    /// The walk is done.
    End,
    /// The reader panicked, with its message.
    Panicked(String),
}

/// The byte budget shared by the reader (which takes, and frees what comes back)
/// and the installer (which receives and hands back); closed when the installer is
/// gone.
///
/// The installer collects what it received and hands back in a batch of its own
/// ([`Batch`]) and publishes it to the shared state a batch at a time: when it
/// holds [`WAKE_ITEMS`] items or a [`WAKE_SHARE`] of the budget, and before it
/// waits for the next item. Locking the shared state twice per item, and waking
/// the reader at each, had the two threads pass some 760,000 futex calls back and
/// forth at 1M nodes.
#[derive(Default)]
struct Budget {
    state: Mutex<Held>,
    changed: Condvar,
    /// The installer's batch: only the installer's thread (or whichever thread
    /// drops a handed item) locks it, so it is not contended.
    batch: Mutex<Batch>,
    /// How many handed-back bytes make a batch ([`WAKE_SHARE`] of the budget).
    wake_bytes: AtomicUsize,
    /// Closed: what comes back is freed by whoever hands it back.
    closed: AtomicBool,
}

#[derive(Default)]
struct Held {
    /// Bytes sent and not yet freed by the reader: queued, with the installer, or
    /// handed back.
    bytes: usize,
    /// Of them, the bytes sent and not yet received (as published).
    queued: usize,
    /// What the installer is done with, for the reader to free.
    spent: Vec<Spent>,
    closed: bool,
    /// The reader waits for a change.
    waiting: bool,
}

/// What the installer received and handed back since it last published.
#[derive(Default)]
struct Batch {
    spent: Vec<Spent>,
    /// The bytes of the items in `spent`.
    bytes: usize,
    /// The bytes received (no longer queued).
    received: usize,
}

/// Something handed back to the reader to free.
enum Spent {
    /// An item, and the bytes it was counted for.
    Item(Ready, usize),
    /// The entry name a message carried.
    Name(String),
}

impl Budget {
    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_batch(&self) -> std::sync::MutexGuard<'_, Batch> {
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Frees what was handed back (on the calling thread, the reader's), then waits
    /// until `n` bytes fit (or nothing is queued). False when closed. `spare`: an
    /// empty vector swapped with the handed-back one, so that neither thread frees
    /// the other's vector.
    fn take(&self, n: usize, limit: usize, spare: &mut Vec<Spent>) -> bool {
        self.wake_bytes
            .store((limit / WAKE_SHARE).max(1), Ordering::Relaxed);
        let mut g = self.lock();
        loop {
            if g.closed {
                return false;
            }
            if !g.spent.is_empty() {
                g = self.free_spent(g, spare);
                continue;
            }
            if g.queued == 0 || g.bytes + n <= limit {
                g.bytes += n;
                g.queued += n;
                return true;
            }
            g.waiting = true;
            g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner());
            g.waiting = false;
        }
    }

    /// Frees what is handed back as it comes, until the budget is closed.
    fn free_until_closed(&self, spare: &mut Vec<Spent>) {
        let mut g = self.lock();
        loop {
            if !g.spent.is_empty() {
                g = self.free_spent(g, spare);
            } else if g.closed {
                return;
            } else {
                g.waiting = true;
                g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner());
                g.waiting = false;
            }
        }
    }

    /// Frees the handed-back items outside the lock, and their bytes.
    fn free_spent<'g>(
        &'g self,
        mut g: std::sync::MutexGuard<'g, Held>,
        spare: &mut Vec<Spent>,
    ) -> std::sync::MutexGuard<'g, Held> {
        std::mem::swap(&mut g.spent, spare);
        drop(g);
        let mut freed = 0;
        for spent in spare.drain(..) {
            match spent {
                Spent::Item(item, cost) => {
                    drop(item);
                    freed += cost;
                }
                Spent::Name(name) => drop(name),
            }
        }
        let mut g = self.lock();
        g.bytes = g.bytes.saturating_sub(freed);
        g
    }

    /// The installer received an item counted for `cost` bytes, named `name`.
    fn received(&self, name: String, cost: usize) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let mut b = self.lock_batch();
        b.received += cost;
        b.spent.push(Spent::Name(name));
        if b.spent.len() >= WAKE_ITEMS {
            self.publish(b);
        }
    }

    /// The installer is done with `item`: the reader frees it (or, once closed, the
    /// caller does).
    fn hand_back(&self, item: Ready, cost: usize) {
        if self.closed.load(Ordering::Relaxed) {
            let mut g = self.lock();
            g.bytes = g.bytes.saturating_sub(cost);
            drop(g);
            drop(item);
            return;
        }
        let mut b = self.lock_batch();
        b.bytes += cost;
        b.spent.push(Spent::Item(item, cost));
        if b.spent.len() >= WAKE_ITEMS || b.bytes >= self.wake_bytes.load(Ordering::Relaxed) {
            self.publish(b);
        }
    }

    /// Publishes the installer's batch `b` to the reader, and wakes it if it waits.
    fn publish(&self, mut b: std::sync::MutexGuard<'_, Batch>) {
        if b.spent.is_empty() && b.received == 0 {
            return;
        }
        let mut spent = std::mem::take(&mut b.spent);
        let received = std::mem::take(&mut b.received);
        b.bytes = 0;
        drop(b);
        let mut g = self.lock();
        g.queued = g.queued.saturating_sub(received);
        if g.closed {
            let freed: usize = spent
                .iter()
                .map(|s| match s {
                    Spent::Item(_, cost) => *cost,
                    Spent::Name(_) => 0,
                })
                .sum();
            g.bytes = g.bytes.saturating_sub(freed);
            drop(g);
            drop(spent);
            return;
        }
        if g.spent.is_empty() {
            std::mem::swap(&mut g.spent, &mut spent);
        } else {
            g.spent.append(&mut spent);
        }
        if g.waiting {
            self.changed.notify_all();
        }
        drop(g);
        // The (empty) vector goes back to the batch, to be filled again.
        let mut b = self.lock_batch();
        if b.spent.capacity() == 0 {
            b.spent = spent;
        }
    }

    /// The installer is about to wait for the next item: it publishes what it
    /// received and handed back first, so that the reader, if it waits for room,
    /// sees that nothing is queued.
    fn flush(&self) {
        let b = self.lock_batch();
        self.publish(b);
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let mut g = self.lock();
        g.closed = true;
        self.changed.notify_all();
        drop(g);
        // What the batch holds is freed here, and its bytes with it.
        self.flush();
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().bytes
    }
}

/// Something the reader prepared, in the installer's hands: once dropped it goes
/// back to the reader, which frees it (see the module's "Freeing").
pub struct Handed<T> {
    /// Present until dropped.
    item: Option<T>,
    back: Option<Back<T>>,
}

struct Back<T> {
    budget: Arc<Budget>,
    cost: usize,
    wrap: fn(T) -> Ready,
}

/// A parsed DocView document.
pub type Document = Handed<Box<DocViewDocument>>;

/// A file's bytes with their SHA-256.
pub type Blob = Handed<HashedBytes>;

impl<T> Handed<T> {
    /// What this thread made itself: dropped here.
    pub fn local(item: T) -> Handed<T> {
        Handed {
            item: Some(item),
            back: None,
        }
    }
}

impl<T> Deref for Handed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // Invariant: `item` is taken only by `drop`.
        self.item
            .as_ref()
            .expect("a handed item is present until dropped")
    }
}

impl<T> Drop for Handed<T> {
    fn drop(&mut self) {
        if let (Some(item), Some(back)) = (self.item.take(), self.back.take()) {
            back.budget.hand_back((back.wrap)(item), back.cost);
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Handed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.item.fmt(f)
    }
}

/// The estimated memory of what the reader holds for an entry of `size` bytes.
fn cost(size: usize, parsed: bool) -> usize {
    // A parsed document holds its names and values as owned strings, with vectors
    // and element structs around them: a few times the text.
    if parsed {
        size * 4 + 256
    } else {
        size + 64
    }
}

/// The installer's end: the entries read ahead, in order.
pub struct Ahead {
    rx: Receiver<Msg>,
    budget: Arc<Budget>,
    /// The reader said it is done (or is gone): everything else is read directly.
    done: bool,
    /// Items passed over without being asked for.
    pub dropped: u64,
    /// Entries the installer asked for and got from the reader.
    pub taken: u64,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.budget.close();
        #[cfg(test)]
        tests::LAST.with(|l| l.set(Some((self.taken, self.dropped))));
    }
}

/// Whether installs read ahead: always, but a unit test may turn it off on its
/// thread to compare.
pub fn enabled() -> bool {
    #[cfg(test)]
    if tests::OFF.with(|o| o.get()) {
        return false;
    }
    true
}

impl Ahead {
    /// The next item for `entry` and its cost, passing over (and handing back) what
    /// comes before it.
    fn next(&mut self, entry: &str) -> Result<Option<(Ready, usize)>, ImportError> {
        while !self.done {
            let msg = match self.rx.try_recv() {
                Ok(msg) => Ok(msg),
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    self.budget.flush();
                    self.rx.recv()
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(std::sync::mpsc::RecvError),
            };
            match msg {
                Ok(Msg::Item {
                    entry: e,
                    ready,
                    cost,
                }) => {
                    let wanted = e == entry;
                    self.budget.received(e, cost);
                    if wanted {
                        self.taken += 1;
                        return Ok(Some((ready, cost)));
                    }
                    self.budget.hand_back(ready, cost);
                    self.dropped += 1;
                }
                Ok(Msg::End) => self.done = true,
                Ok(Msg::Panicked(message)) => {
                    self.done = true;
                    return Err(ImportError::ReadAhead { message });
                }
                Err(_) => {
                    self.done = true;
                    return Err(ImportError::ReadAhead {
                        message: "the reader stopped before the end of the package".into(),
                    });
                }
            }
        }
        Ok(None)
    }

    fn handed<T>(&self, item: T, cost: usize, wrap: fn(T) -> Ready) -> Handed<T> {
        Handed {
            item: Some(item),
            back: Some(Back {
                budget: self.budget.clone(),
                cost,
                wrap,
            }),
        }
    }

    /// The parsed DocView `entry`, if the reader parsed it; `None`: read it.
    pub fn doc(
        &mut self,
        entry: &str,
    ) -> Result<Option<Result<Document, DocViewError>>, ImportError> {
        Ok(match self.next(entry)? {
            Some((Ready::Doc(Ok(d)), cost)) => {
                Some(Ok(self.handed(d, cost, |d| Ready::Doc(Ok(d)))))
            }
            Some((Ready::Doc(Err(e)), cost)) => {
                self.budget.hand_back(Ready::Read, cost);
                Some(Err(*e))
            }
            Some((other, cost)) => {
                self.budget.hand_back(other, cost);
                None
            }
            None => None,
        })
    }

    /// The bytes of file `entry` with their SHA-256, if the reader read them;
    /// `None`: read it.
    pub fn blob(&mut self, entry: &str) -> Result<Option<Blob>, ImportError> {
        Ok(match self.next(entry)? {
            Some((Ready::Bytes(b), cost)) => Some(self.handed(b, cost, Ready::Bytes)),
            Some((other, cost)) => {
                self.budget.hand_back(other, cost);
                None
            }
            None => None,
        })
    }
}

/// The file name a DocView parse error names for `entry` (as [`super::tree`] has it).
pub fn docview_file(archive: &dyn Archive, entry: &str) -> String {
    format!("{}:{entry}", archive.name())
}

/// Parses DocView `bytes` of `entry` as the installer does, on the installer's
/// thread.
pub fn parse_docview(
    archive: &dyn Archive,
    entry: &str,
    bytes: &[u8],
) -> Result<Document, DocViewError> {
    parse_boxed(archive, entry, bytes).map(Handed::local)
}

fn parse_boxed(
    archive: &dyn Archive,
    entry: &str,
    bytes: &[u8],
) -> Result<Box<DocViewDocument>, DocViewError> {
    crate::docview::parse(bytes, &docview_file(archive, entry)).map(Box::new)
}

/// The `.binary` files in the order [`super::file::apply_binaries`] reads them:
/// property names in layout order (consecutive repeats once), each name's parts by
/// index.
pub fn binary_read_order(binaries: &[BinaryFile]) -> Vec<&BinaryFile> {
    let mut names: Vec<&str> = binaries.iter().map(|b| b.property.as_str()).collect();
    names.dedup();
    let mut out = Vec::with_capacity(binaries.len());
    for name in names {
        let mut parts: Vec<&BinaryFile> = binaries.iter().filter(|b| b.property == name).collect();
        parts.sort_by_key(|b| b.index);
        out.extend(parts);
    }
    out
}

/// The reader's end.
struct Reader<'p, 'a> {
    archive: &'a dyn Archive,
    plan: &'p Plan<'a>,
    filter: Option<WorkspaceFilter>,
    /// The subtrees the walk skips ([`super::digest::Digests::decide`]).
    skips: Option<Arc<Skips>>,
    tx: SyncSender<Msg>,
    budget: Arc<Budget>,
    limit: usize,
    /// The vector what comes back is swapped into to be freed.
    spare: Vec<Spent>,
}

/// The reader stopped: the installer is gone.
struct Gone;

impl Reader<'_, '_> {
    fn send(&mut self, entry: &str, parse: bool) -> Result<bool, Gone> {
        let size = self.archive.entry(entry).map_or(0, Entry::size);
        let (ready, cost) = if size > LARGEST_AHEAD {
            (Ready::Read, 0)
        } else {
            let cost = cost(size as usize, parse);
            if !self.budget.take(cost, self.limit, &mut self.spare) {
                return Err(Gone);
            }
            let ready = match self.archive.read_to_vec(entry) {
                Err(_) => Ready::Read,
                Ok(bytes) if parse => {
                    Ready::Doc(parse_boxed(self.archive, entry, &bytes).map_err(Box::new))
                }
                Ok(bytes) => Ready::Bytes(HashedBytes::new(bytes)),
            };
            (ready, cost)
        };
        let parsed_ok = matches!(&ready, Ready::Doc(d) if d.is_ok());
        let msg = Msg::Item {
            entry: entry.to_string(),
            ready,
            cost,
        };
        if self.tx.send(msg).is_err() {
            return Err(Gone);
        }
        Ok(parsed_ok)
    }

    fn walk(&mut self) -> Result<(), Gone> {
        let filter = self.filter.as_ref();
        let keep_all = !super::tree::post_filter(filter);
        let mut stack: Vec<(Id, String, bool)> = vec![(self.plan.root(), "/".into(), keep_all)];
        while let Some((n, p, keep_all)) = stack.pop() {
            let Some(keep_all) = super::tree::kept(self.filter.as_ref(), &p, keep_all) else {
                continue;
            };
            // A subtree the walk skips is neither read nor parsed.
            if self.skips.as_ref().is_some_and(|s| s.contains(n)) {
                continue;
            }
            let plan = self.plan;
            if let Some(entry) = plan.docview(n) {
                // The file is read only when the document could be imported.
                let parsed = self.send(entry, true)?;
                if let Some(file) = plan.file(n).filter(|_| parsed) {
                    self.send(file, false)?;
                }
            } else if let Some(file) = plan.file(n) {
                self.send(file, false)?;
            }
            let binaries = plan.binaries(n);
            for b in binary_read_order(&binaries) {
                self.send(&b.entry, false)?;
            }
            let children = super::tree::ordered_children(self.filter.as_ref(), plan, n, &p);
            for c in children.into_iter().rev() {
                stack.push((c, path::join(&p, plan.segment(c)), keep_all));
            }
        }
        Ok(())
    }
}

/// Starts the reader on `scope` over `plan`, walked with `filter` and passing over
/// the subtrees in `skips`, holding at most `limit` bytes ahead. `None` when no
/// thread could be started (the installer then reads everything itself).
pub fn start<'scope, 'env: 'scope, 'a: 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    archive: &'a dyn Archive,
    plan: &'env Plan<'a>,
    filter: Option<WorkspaceFilter>,
    skips: Option<Arc<Skips>>,
    limit: usize,
) -> Option<(Ahead, std::thread::ScopedJoinHandle<'scope, ()>)> {
    let (tx, rx) = sync_channel(QUEUE);
    let budget = Arc::new(Budget::default());
    let reader = Reader {
        archive,
        plan,
        filter,
        skips,
        tx,
        budget: budget.clone(),
        limit,
        spare: Vec::new(),
    };
    let handle = std::thread::Builder::new()
        .name("jcrpack-read-ahead".into())
        .spawn_scoped(scope, move || {
            let mut reader = reader;
            let tx = reader.tx.clone();
            let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.walk()));
            // A send fails only when the installer is gone: nobody to tell then.
            let _ = match walked {
                Ok(Ok(())) => tx.send(Msg::End),
                Ok(Err(Gone)) => Ok(()),
                Err(panic) => tx.send(Msg::Panicked(panic_message(panic.as_ref()))),
            };
            // What the installer still takes and drops comes back here to be freed.
            reader.budget.free_until_closed(&mut reader.spare);
        })
        .ok()?;
    let ahead = Ahead {
        rx,
        budget,
        done: false,
        dropped: 0,
        taken: 0,
    };
    Some((ahead, handle))
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("the reader panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("the reader panicked: {s}")
    } else {
        "the reader panicked".into()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::archive::test_support::BrokenEntry;
    use crate::archive::{open, ReadOptions};
    use crate::events::Actor;
    use crate::import::{install_archive, ImportOptions, Report};
    use crate::test_support::write;
    use crate::value::Date;
    use std::cell::Cell;
    use std::io::Read;

    thread_local! {
        /// (taken, dropped) of the last reader dropped on this thread.
        pub static LAST: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
        /// Installs on this thread read everything themselves.
        pub static OFF: Cell<bool> = const { Cell::new(false) };
    }

    const NS: &str =
        r#"xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0""#;

    /// A package with DocView files inside and above the filter, a file with its
    /// `.dir`, plain files, `.binary` files whose layout order is not their read
    /// order, a subtree outside the filter and a filter root without content.
    fn package() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(
            d,
            "META-INF/vault/filter.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0"><filter root="/content/z/b"/><filter root="/content/a"/><filter root="/apps/x"/></workspaceFilter>"#,
        );
        let folder = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:folder"/>"#
        );
        let unstructured = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:unstructured" title="t"><c jcr:primaryType="nt:unstructured"/></jcr:root>"#
        );
        write(d, "jcr_root/content/.content.xml", &unstructured);
        write(d, "jcr_root/content/a/.content.xml", &unstructured);
        write(d, "jcr_root/content/a/f.txt", "hello");
        write(d, "jcr_root/content/a/img.png", "png bytes");
        write(
            d,
            "jcr_root/content/a/img.png.dir/.content.xml",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><jcr:root {NS} jcr:primaryType="nt:file"><jcr:content jcr:primaryType="nt:resource" jcr:mimeType="image/png"/></jcr:root>"#
            ),
        );
        write(d, "jcr_root/content/a/b/.content.xml", &unstructured);
        write(d, "jcr_root/content/a/b/p[10].binary", "ten");
        write(d, "jcr_root/content/a/b/p[2].binary", "two");
        write(d, "jcr_root/content/a/b/one.binary", "one");
        write(d, "jcr_root/content/m/out.txt", "outside the filter");
        write(d, "jcr_root/content/z/.content.xml", &folder);
        write(d, "jcr_root/content/z/b/x.txt", "x");
        write(d, "jcr_root/content/z/c/y.txt", "not in the filter");
        t
    }

    fn lenient() -> ImportOptions {
        ImportOptions {
            strict: false,
            ..ImportOptions::new(actor())
        }
    }

    fn actor() -> Actor {
        Actor {
            user: "ci".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        }
    }

    /// Installs `archive` into a new repository: the report, or the error's text,
    /// and the repository's JSON dump.
    fn install_into(
        archive: &dyn Archive,
        opts: &ImportOptions,
    ) -> (Result<Report, String>, String) {
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        let report = install_archive(store.as_mut(), archive, opts).map_err(|e| e.to_string());
        let mut out = Vec::new();
        crate::dump::write_subtree(
            store.as_ref(),
            crate::repository::DEFAULT_WORKSPACE,
            "/",
            crate::dump::DumpFormat::Json,
            &mut out,
        )
        .unwrap();
        (report, String::from_utf8(out).unwrap())
    }

    /// Installs with and without reading ahead; the reader's (taken, dropped).
    fn both(
        archive: &dyn Archive,
        opts: &ImportOptions,
    ) -> (Result<Report, String>, String, (u64, u64)) {
        LAST.with(|l| l.set(None));
        let ahead = install_into(archive, opts);
        let stats = LAST.with(|l| l.take()).expect("the install read ahead");
        OFF.with(|o| o.set(true));
        let alone = install_into(archive, opts);
        OFF.with(|o| o.set(false));
        assert_eq!(LAST.with(|l| l.get()), None, "no reader without it");
        let json = |r: &Result<Report, String>| match r {
            Ok(r) => serde_json::to_string(r).unwrap(),
            Err(e) => e.clone(),
        };
        assert_eq!(json(&ahead.0), json(&alone.0), "the same report");
        assert_eq!(ahead.1, alone.1, "the same repository");
        (ahead.0, ahead.1, stats)
    }

    #[test]
    fn the_reader_hands_over_every_entry_in_the_order_the_installer_takes_them() {
        let pkg = package();
        let a = open(pkg.path(), &ReadOptions::default()).unwrap();
        let (report, dump, (taken, dropped)) = both(a.as_ref(), &ImportOptions::new(actor()));
        let report = report.unwrap();
        assert!(report.totals.added > 5, "{:?}", report.totals);
        assert!(dump.contains("\"f.txt\""), "{dump}");
        // content, a, img.png.dir (DocView) + img.png, f.txt, three .binary, b,
        // z, z/b/x.txt: everything the installer read came from the reader, and it
        // read nothing the installer did not want.
        assert_eq!((taken, dropped), (11, 0));
        // The multi-valued property got its values in index order.
        let ws = crate::repository::DEFAULT_WORKSPACE;
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        install_archive(store.as_mut(), a.as_ref(), &ImportOptions::new(actor())).unwrap();
        for (p, there) in [
            ("/content/a/b", true),
            ("/content/z/b/x.txt", true),
            ("/content/m", false),
            ("/content/z/c", false),
        ] {
            assert_eq!(store.node(ws, p).unwrap().is_some(), there, "{p}");
        }
        let p = store.property(ws, "/content/a/b", "p").unwrap().unwrap();
        let mut got = Vec::new();
        for v in &p.values {
            let crate::value::Value::Binary(crate::value::Binary::Blob { sha256, .. }) = v else {
                panic!("{v:?}");
            };
            let mut s = String::new();
            store
                .open_blob(sha256)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            got.push(s);
        }
        assert_eq!(got, ["two", "ten"]);
    }

    #[test]
    fn a_malformed_document_fails_or_warns_where_and_as_it_did() {
        let pkg = package();
        write(
            pkg.path(),
            "jcr_root/content/a/b/.content.xml",
            "<?xml version=\"1.0\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  <unclosed>\n</jcr:root>",
        );
        let a = open(pkg.path(), &ReadOptions::default()).unwrap();
        // Lenient: a warning with its file, line and column; the rest installed.
        let (report, _, (_, dropped)) = both(a.as_ref(), &lenient());
        let report = report.unwrap();
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("jcr_root/content/a/b/.content.xml:4:")),
            "{:?}",
            report.warnings
        );
        // The `.binary` files of the node the document did not create are passed
        // over (the installer warns that they were skipped).
        assert_eq!(dropped, 3);
        // Strict: the install fails on it, with the same error.
        let strict = ImportOptions::new(actor());
        let (report, dump, _) = both(a.as_ref(), &strict);
        let err = report.unwrap_err();
        assert!(err.contains("content/a/b/.content.xml:4:"), "{err}");
        assert!(!dump.contains("/content/a"), "all or nothing: {dump}");
    }

    #[test]
    fn an_error_before_an_unreadable_entry_is_the_one_reported() {
        // The first DocView file is malformed (strict: the install stops there); a
        // later entry cannot be read: the reader's failure to read it never shows.
        let pkg = package();
        write(pkg.path(), "jcr_root/content/.content.xml", "<not xml");
        let a = open(pkg.path(), &ReadOptions::default()).unwrap();
        let broken = BrokenEntry {
            inner: a,
            entry: "jcr_root/content/a/f.txt",
            panic_on: None,
        };
        let strict = ImportOptions::new(actor());
        let (report, _) = install_into(&broken, &strict);
        let err = report.unwrap_err();
        assert!(err.contains("jcr_root/content/.content.xml:1:"), "{err}");
        // Lenient: the unreadable entry fails the install when it is reached, as
        // read by the installer itself.
        let (report, _, _) = both(&broken, &lenient());
        let err = report.unwrap_err();
        assert!(err.contains("broken on purpose"), "{err}");
    }

    #[test]
    fn a_panic_of_the_reader_is_an_error_not_a_hang() {
        let pkg = package();
        let a = open(pkg.path(), &ReadOptions::default()).unwrap();
        let broken = BrokenEntry {
            inner: a,
            entry: "jcr_root/content/a/f.txt",
            panic_on: Some("jcrpack-read-ahead"),
        };
        let (report, dump) = install_into(&broken, &ImportOptions::new(actor()));
        match report {
            Err(e) => assert!(
                e.contains("reading the package ahead") && e.contains("on purpose"),
                "{e}"
            ),
            Ok(r) => panic!("installed: {:?}", r.totals),
        }
        assert!(!dump.contains("/content/a"), "all or nothing: {dump}");
    }

    #[test]
    fn what_is_held_ahead_stays_within_the_budget() {
        let t = tempfile::tempdir().unwrap();
        for i in 0..200 {
            write(
                t.path(),
                &format!("jcr_root/content/f{i:03}.txt"),
                &"x".repeat(1000),
            );
        }
        let a = open(t.path(), &ReadOptions::default()).unwrap();
        let flat =
            crate::package::flat::scan(a.as_ref(), &crate::package::IgnoreList::default()).unwrap();
        let plan = Plan::new(flat);
        let limit = 5 * cost(1000, false);
        std::thread::scope(|scope| {
            let (mut ahead, reader) = start(scope, a.as_ref(), &plan, None, None, limit).unwrap();
            for i in 0..200 {
                std::thread::sleep(std::time::Duration::from_millis(1));
                assert!(ahead.budget.held() <= limit);
                let b = ahead
                    .blob(&format!("jcr_root/content/f{i:03}.txt"))
                    .unwrap()
                    .unwrap();
                assert_eq!(b.bytes(), "x".repeat(1000).as_bytes());
                assert_eq!(*b, HashedBytes::new(b.bytes().to_vec()), "hashed as read");
            }
            assert!(ahead.blob("jcr_root/nothing").unwrap().is_none());
            drop(ahead);
            reader.join().unwrap();
        });
        // An installer that stops early stops the reader (the scope would not end).
        std::thread::scope(|scope| {
            let (mut ahead, reader) = start(scope, a.as_ref(), &plan, None, None, limit).unwrap();
            assert!(ahead.blob("jcr_root/content/f000.txt").unwrap().is_some());
            drop(ahead);
            reader.join().unwrap();
        });
    }

    #[test]
    fn what_comes_back_counts_until_the_reader_frees_it() {
        let budget = Arc::new(Budget::default());
        let mut spare = Vec::new();
        // Two items of 40 bytes in a budget of 100: both queued.
        assert!(budget.take(40, 100, &mut spare));
        assert!(budget.take(40, 100, &mut spare));
        // The installer receives the first and keeps it: it still counts, so a
        // third waits (tried on another thread) until it is handed back and freed.
        budget.received("a".into(), 40);
        assert_eq!(budget.held(), 80);
        let third = {
            let budget = budget.clone();
            std::thread::spawn(move || {
                let mut spare = Vec::new();
                let took = budget.take(40, 100, &mut spare);
                (took, budget.held())
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!third.is_finished(), "the third fits only after a free");
        budget.hand_back(Ready::Bytes(HashedBytes::new(vec![1; 40])), 40);
        assert_eq!(third.join().unwrap(), (true, 80));
        assert!(budget.lock().spent.is_empty(), "freed by the taker");
        // Once closed, what comes back is freed by whoever hands it back.
        budget.close();
        budget.hand_back(Ready::Read, 40);
        assert!(budget.lock().spent.is_empty());
        assert!(!budget.take(1, 100, &mut spare));
    }

    #[test]
    fn the_installer_hands_back_in_batches_and_before_it_waits() {
        // A budget of 800: a batch is 100 bytes handed back, or WAKE_ITEMS items.
        let budget = Budget::default();
        let mut spare = Vec::new();
        assert!(budget.take(50, 800, &mut spare));
        assert!(budget.take(50, 800, &mut spare));
        budget.received("a".into(), 50);
        budget.hand_back(Ready::Read, 50);
        assert!(budget.lock().spent.is_empty(), "not yet a batch");
        assert_eq!(budget.lock().queued, 100, "received, not yet published");
        budget.received("b".into(), 50);
        budget.hand_back(Ready::Read, 50);
        {
            let g = budget.lock();
            assert_eq!((g.spent.len(), g.queued, g.bytes), (4, 0, 100), "a batch");
        }
        // The reader frees the batch as it takes the next item.
        assert!(budget.take(10, 800, &mut spare));
        assert_eq!(budget.held(), 10);
        assert!(budget.lock().spent.is_empty());
        // Names alone make a batch at WAKE_ITEMS, or when the installer is about
        // to wait.
        budget.received("c".into(), 10);
        assert_eq!(budget.lock().queued, 10);
        budget.flush();
        assert_eq!(budget.lock().queued, 0);
        for i in 0..WAKE_ITEMS {
            budget.received(format!("n{i}"), 0);
        }
        assert_eq!(budget.lock().spent.len(), 1 + WAKE_ITEMS);
        // Closing frees what the batch holds.
        budget.hand_back(Ready::Read, 10);
        budget.close();
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn with_nothing_queued_one_item_is_read_whatever_the_installer_holds() {
        // The installer holds a document as large as the budget and asks for the
        // next entry: the reader must not wait for it (that would never end).
        let budget = Budget::default();
        let mut spare = Vec::new();
        assert!(budget.take(100, 100, &mut spare));
        budget.received("doc".into(), 100);
        // With nothing in the channel, the installer publishes what it received
        // before it waits (`Ahead::next`).
        budget.flush();
        assert!(budget.take(10, 100, &mut spare));
        assert_eq!(budget.held(), 110);
    }
}
