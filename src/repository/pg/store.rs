//! [`PgStore`]: the journaled PostgreSQL backend, with reads of one consistent
//! snapshot for walks and bulk readers.
//!
//! Outside a write transaction each statement sees the latest committed state, so
//! a walk or an export of many statements could straddle another process's
//! commit. [`PgStore::walk`](crate::repository::StoreRead::walk) and
//! [`PgStore::snapshot`](crate::repository::StoreRead::snapshot) therefore hold a
//! `REPEATABLE READ READ ONLY` transaction for their life: every read on the
//! connection meanwhile (a walk's, and the caller's reads between its steps) sees
//! one snapshot, and never waits for a writer. Inside a write transaction reads
//! see that transaction, which holds the write lock.
//!
//! Both read in batches (submodules `snapshot` and `walk`): the children and
//! properties of thousands of nodes a few statements, rather than four statements
//! a node.

mod snapshot;
mod walk;

use super::{PgBackend, PgDb};
use crate::namespace::NamespaceRegistry;
use crate::repository::journaled::Journaled;
use crate::repository::{
    GcReport, NodeInfo, OperationDetail, OperationId, OperationMeta, OperationSummary, PruneReport,
    PruneSelect, Result, SnapshotRead, Store, StoreRead, SubtreeWalk, Transaction,
};
use crate::value::{Binary, Property};
use std::io::Read;
use std::path::Path;

/// A repository in a PostgreSQL schema, with history and undo.
#[derive(Debug)]
pub struct PgStore {
    inner: Journaled<PgBackend>,
}

impl PgStore {
    pub(super) fn new(backend: PgBackend) -> PgStore {
        PgStore {
            inner: Journaled::new(backend),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &PgBackend {
        self.inner.backend()
    }

    pub(crate) fn db(&self) -> &PgDb {
        &self.inner.backend().db
    }

    /// The batched reader of `workspace` in a read snapshot (module `snapshot`).
    fn open_snapshot(&self, workspace: &str) -> Result<snapshot::PgSnapshot<'_>> {
        let snapshot = self.db().read_snapshot()?;
        let db = self.db();
        let ws = match crate::repository::content::ContentRead::workspace_id(db, workspace)? {
            Some(ws) => ws,
            None => {
                return Err(crate::repository::RepositoryError::WorkspaceNotFound {
                    workspace: workspace.to_string(),
                })
            }
        };
        Ok(snapshot::PgSnapshot::new(db, ws, snapshot))
    }
}

/// Holds the connection's read snapshot while it lives (nested holders share it).
pub(crate) struct ReadSnapshot<'a> {
    db: &'a PgDb,
}

impl PgDb {
    /// Opens (or joins) a read snapshot, unless a write transaction runs.
    pub(crate) fn read_snapshot(&self) -> Result<ReadSnapshot<'_>> {
        let mut c = self.lock()?;
        if !c.in_txn && c.snapshots == 0 {
            c.client
                .get()
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .map_err(|e| self.err(e))?;
        }
        c.snapshots += 1;
        Ok(ReadSnapshot { db: self })
    }
}

impl PgDb {
    /// Starts the snapshot a backup image is taken from and holds it until
    /// [`PgDb::end_image_snapshot`] (a snapshot an earlier image held ends first).
    pub(crate) fn hold_image_snapshot(&self) -> Result<()> {
        self.end_image_snapshot()?;
        let mut c = self.lock()?;
        if c.in_txn || c.snapshots > 0 {
            return Err(self.corrupt(
                "an image cannot be taken inside a transaction or an open read snapshot",
            ));
        }
        c.client
            .get()
            // The snapshot is taken by the first statement, not by BEGIN.
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1")
            .map_err(|e| self.err(e))?;
        c.snapshots = 1;
        c.image = true;
        Ok(())
    }

    /// Ends the snapshot a backup image holds, if any.
    pub(crate) fn end_image_snapshot(&self) -> Result<()> {
        let mut c = self.lock()?;
        if !c.image {
            return Ok(());
        }
        c.image = false;
        c.snapshots = c.snapshots.saturating_sub(1);
        if c.snapshots == 0 && !c.in_txn {
            c.client
                .get()
                .batch_execute("COMMIT")
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

impl Drop for ReadSnapshot<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.db.conn.lock() {
            c.snapshots = c.snapshots.saturating_sub(1);
            if c.snapshots == 0 && !c.in_txn {
                if let Err(e) = c.client.get().batch_execute("COMMIT") {
                    tracing::warn!(
                        "ending a read snapshot of {} failed: {e}",
                        self.db.location.display()
                    );
                }
            }
        }
    }
}

impl StoreRead for PgStore {
    fn location(&self) -> &Path {
        self.inner.location()
    }
    fn workspaces(&self) -> Result<Vec<String>> {
        self.inner.workspaces()
    }
    fn node(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
        self.inner.node(workspace, path)
    }
    fn children(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
        self.inner.children(workspace, path)
    }
    fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>> {
        self.inner.properties(workspace, path)
    }
    fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>> {
        self.inner.property(workspace, path, name)
    }
    fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
        self.inner.find_by_uuid(workspace, uuid)
    }
    /// A walk through the snapshot's batched reads (module `walk`).
    fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>> {
        let p = crate::path::normalize(path)?;
        let snapshot = self.open_snapshot(workspace)?;
        let start =
            snapshot
                .node(&p)?
                .ok_or_else(|| crate::repository::RepositoryError::NodeNotFound {
                    workspace: workspace.to_string(),
                    path: p.clone(),
                })?;
        Ok(Box::new(walk::PgWalk::new(snapshot, start)))
    }
    fn namespaces(&self) -> Result<NamespaceRegistry> {
        self.inner.namespaces()
    }
    fn node_types(&self) -> Result<Vec<(String, String)>> {
        self.inner.node_types()
    }
    fn node_type(&self, name: &str) -> Result<Option<String>> {
        self.inner.node_type(name)
    }
    fn history(&self) -> Result<Vec<OperationSummary>> {
        self.inner.history()
    }
    fn operation(&self, id: OperationId) -> Result<OperationDetail> {
        self.inner.operation(id)
    }
    fn put_blob(&self, data: &mut dyn Read) -> Result<Binary> {
        self.inner.put_blob(data)
    }
    fn put_hashed_blob(&self, data: &crate::repository::blob::HashedBytes) -> Result<Binary> {
        self.inner.put_hashed_blob(data)
    }
    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        self.inner.open_blob(sha256)
    }
    fn snapshot<'a>(&'a self, workspace: &str) -> Result<Option<Box<dyn SnapshotRead + 'a>>> {
        Ok(Some(Box::new(self.open_snapshot(workspace)?)))
    }
}

impl Store for PgStore {
    /// The rows of one `REPEATABLE READ` snapshot into a SQLite image; the
    /// snapshot is held for the blobs until [`Store::end_image`] (see `image`).
    fn take_image(
        &self,
        dest: &Path,
        blob_list: &mut dyn std::io::Write,
        options: &crate::repository::ImageOptions,
        events: &dyn crate::events::Events,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<crate::repository::ImageInfo> {
        self.write_image(dest, blob_list, options, events, cancel)
    }
    fn end_image(&self) {
        if let Err(e) = self.db().end_image_snapshot() {
            tracing::warn!("ending the backup snapshot failed: {e}");
        }
    }
    fn begin(&mut self, description: &str) -> Result<Box<dyn Transaction + '_>> {
        self.inner.begin(description)
    }
    fn begin_operation(&mut self, meta: OperationMeta) -> Result<Box<dyn Transaction + '_>> {
        self.inner.begin_operation(meta)
    }
    fn begin_operation_in(
        &mut self,
        meta: OperationMeta,
        workspace: &str,
    ) -> Result<Box<dyn Transaction + '_>> {
        self.inner.begin_operation_in(meta, workspace)
    }
    fn prune_history(&mut self, select: PruneSelect, dry_run: bool) -> Result<PruneReport> {
        self.inner.prune_history(select, dry_run)
    }
    fn gc(&mut self, dry_run: bool) -> Result<GcReport> {
        self.inner.gc(dry_run)
    }
}
