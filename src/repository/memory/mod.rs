//! The strict in-memory backend: a content store and an operation log in
//! `BTreeMap`s, for the contract suite and for unit tests that need a repository
//! without a folder.
//!
//! As jj's test backend, it is *strict*, to catch code that relies on what a real
//! backend happens to tolerate: it rejects a node whose parent does not exist or
//! lies in another workspace, a reused node id, a second workspace of one name, an
//! unknown workspace, a property of a missing node, a binary that is not in its
//! blob store, and removing a registration that is not there, each as
//! [`RepositoryError::Corrupt`] (never a panic). It is deterministic: every map is
//! ordered, ids count up from 1, and nothing depends on time or addresses.
//!
//! A transaction works on a copy of the whole state and replaces the committed
//! state when it commits; dropping or rolling it back discards the copy, so
//! nothing of it survives. Blobs live outside transactions (as in a blob folder:
//! writing one changes no content) in a map shared by the copies.
//!
//! It has no history, undo or conflict code of its own: [`MemoryStore`] is the
//! backend wrapped in [`Journaled`], which brings them for every backend.

mod content;
mod oplog;

#[cfg(test)]
mod tests;

use super::content::{NodeId, WorkspaceId};
use super::journaled::Journaled;
use super::oplog::{BackendTxn, NodeImage, PropImage, RegImage, RegKind, StorageBackend};
use super::{OperationId, OperationSummary, RepositoryError, Result};
use crate::value::Property;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// An in-memory repository with history and undo.
pub type MemoryStore = Journaled<MemoryBackend>;

impl MemoryStore {
    /// A repository whose workspace `default` has only its root; `location` only
    /// names it in messages.
    pub fn in_memory(location: impl Into<PathBuf>) -> Result<MemoryStore> {
        let mut store = Journaled::new(MemoryBackend::new(location.into()));
        let mut t = super::Store::begin(&mut store, "create the default workspace")?;
        t.create_workspace(super::DEFAULT_WORKSPACE)?;
        t.commit()?;
        Ok(store)
    }
}

/// The in-memory [`StorageBackend`].
#[derive(Debug)]
pub struct MemoryBackend {
    state: State,
}

impl MemoryBackend {
    /// An empty backend (no workspace at all).
    pub fn new(location: PathBuf) -> MemoryBackend {
        let namespaces = crate::namespace::BUILT_IN
            .iter()
            .map(|(p, u)| (p.to_string(), u.to_string()))
            .collect();
        MemoryBackend {
            state: State {
                location,
                blobs: Arc::new(Mutex::new(BTreeMap::new())),
                next_node_id: 1,
                first_id: 1,
                workspaces: BTreeMap::new(),
                ws_names: BTreeMap::new(),
                roots: BTreeMap::new(),
                nodes: BTreeMap::new(),
                children: BTreeMap::new(),
                props: BTreeMap::new(),
                namespaces,
                node_types: BTreeMap::new(),
                ops: BTreeMap::new(),
                pruned_through: 0,
                digests: BTreeMap::new(),
            },
        }
    }
}

/// A stored node.
#[derive(Debug, Clone)]
struct MemNode {
    ws: WorkspaceId,
    parent: Option<NodeId>,
    name: String,
    position: i64,
    primary_type: String,
    mixins: Vec<String>,
}

/// A recorded operation with its images.
#[derive(Debug, Clone)]
struct Op {
    summary: OperationSummary,
    options: serde_json::Value,
    nodes: BTreeMap<NodeId, NodeImage>,
    props: BTreeMap<(NodeId, String), PropImage>,
    regs: BTreeMap<(RegKind, String), RegImage>,
}

/// Everything a repository holds.
#[derive(Debug, Clone)]
struct State {
    location: PathBuf,
    /// Blob contents by SHA-256, shared by every copy of the state.
    blobs: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    next_node_id: NodeId,
    /// The first id the running transaction handed out.
    first_id: NodeId,
    workspaces: BTreeMap<String, WorkspaceId>,
    /// The name of every workspace there ever was (ids are not reused).
    ws_names: BTreeMap<WorkspaceId, String>,
    roots: BTreeMap<WorkspaceId, NodeId>,
    nodes: BTreeMap<NodeId, MemNode>,
    /// Children by parent, ordered by (position, id).
    children: BTreeMap<NodeId, BTreeSet<(i64, NodeId)>>,
    props: BTreeMap<NodeId, BTreeMap<String, Property>>,
    namespaces: BTreeMap<String, String>,
    node_types: BTreeMap<String, String>,
    ops: BTreeMap<OperationId, Op>,
    /// The last operation id pruning dropped.
    pruned_through: i64,
    /// Aggregate digests by node (see [`super::content::ContentTxn::set_aggregate_digest`]).
    digests: BTreeMap<NodeId, Vec<u8>>,
}

impl State {
    fn corrupt(&self, detail: impl Into<String>) -> RepositoryError {
        RepositoryError::Corrupt {
            repository: self.location.clone(),
            detail: detail.into(),
        }
    }

    fn location(&self) -> &Path {
        &self.location
    }
}

/// A write transaction: a copy of the state, committed by replacing it.
pub struct MemoryTxn<'a> {
    target: &'a mut State,
    work: State,
    savepoint: Option<Box<State>>,
}

impl StorageBackend for MemoryBackend {
    fn content(&self) -> &dyn super::content::ContentRead {
        &self.state
    }

    fn oplog(&self) -> &dyn super::oplog::OpLogRead {
        &self.state
    }

    fn begin(&mut self) -> Result<Box<dyn BackendTxn + '_>> {
        let mut work = self.state.clone();
        work.first_id = work.next_node_id;
        Ok(Box::new(MemoryTxn {
            target: &mut self.state,
            work,
            savepoint: None,
        }))
    }
}

impl BackendTxn for MemoryTxn<'_> {
    fn savepoint(&mut self) -> Result<()> {
        if self.savepoint.is_some() {
            return Err(self.work.corrupt("a savepoint is already set"));
        }
        self.savepoint = Some(Box::new(self.work.clone()));
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        match self.savepoint.take() {
            Some(s) => {
                self.work = *s;
                Ok(())
            }
            None => Err(self.work.corrupt("no savepoint to roll back to")),
        }
    }

    fn release_savepoint(&mut self) -> Result<()> {
        match self.savepoint.take() {
            Some(_) => Ok(()),
            None => Err(self.work.corrupt("no savepoint to release")),
        }
    }

    fn commit(self: Box<Self>) -> Result<()> {
        if self.savepoint.is_some() {
            return Err(self
                .work
                .corrupt("committing with a savepoint neither released nor rolled back"));
        }
        let MemoryTxn { target, work, .. } = *self;
        *target = work;
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
