//! A backup opened as a read-only repository: the image's SQLite database (read in
//! place in a format 1 backup, else reassembled from its chunks into a temporary
//! file that goes with the store), with binaries read from the catalogue's shared blob folder and checked
//! against their hash and size as they are read.

use super::blobs::CatalogueBlobs;
use crate::namespace::NamespaceRegistry;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{
    NodeInfo, OperationDetail, OperationId, OperationSummary, RepositoryError, Result,
    SnapshotRead, StoreRead, SubtreeWalk,
};
use crate::value::{Binary, Property};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A read-only repository over one backup (see [`super::Catalogue::open_store`]).
pub struct BackupStore {
    image: SqliteStore,
    catalogue: PathBuf,
    blobs: CatalogueBlobs,
    /// The catalogue's shared lock, held while the backup is read, so that
    /// `backup delete` and `backup prune` (which take it exclusively) wait instead of
    /// removing the image or its blobs under a restore or an export.
    /// The temporary folder of a reassembled image, removed on drop (after
    /// `image`, whose connection is declared first and so closed first, and before
    /// the lock is released).
    _temp: Option<tempfile::TempDir>,
    _lock: Option<super::lock::CatalogueLock>,
}

impl std::fmt::Debug for BackupStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupStore")
            .field("image", &self.image.location())
            .field("catalogue", &self.catalogue)
            .finish()
    }
}

impl BackupStore {
    pub(crate) fn new(image: SqliteStore, catalogue: &Path) -> BackupStore {
        BackupStore {
            image,
            catalogue: catalogue.to_path_buf(),
            blobs: CatalogueBlobs::new(catalogue),
            _temp: None,
            _lock: None,
        }
    }

    /// The same store, removing the temporary folder `temp` (of a reassembled
    /// image) when dropped.
    pub(crate) fn with_temp(mut self, temp: Option<tempfile::TempDir>) -> BackupStore {
        self._temp = temp;
        self
    }

    /// The same store, holding `lock` until it is dropped.
    pub(crate) fn holding(mut self, lock: super::lock::CatalogueLock) -> BackupStore {
        self._lock = Some(lock);
        self
    }
}

impl StoreRead for BackupStore {
    fn location(&self) -> &Path {
        self.image.location()
    }

    fn workspaces(&self) -> Result<Vec<String>> {
        self.image.workspaces()
    }

    fn node(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
        self.image.node(workspace, path)
    }

    fn children(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
        self.image.children(workspace, path)
    }

    fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>> {
        self.image.properties(workspace, path)
    }

    fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>> {
        self.image.property(workspace, path, name)
    }

    fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
        self.image.find_by_uuid(workspace, uuid)
    }

    fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>> {
        self.image.walk(workspace, path)
    }

    fn namespaces(&self) -> Result<NamespaceRegistry> {
        self.image.namespaces()
    }

    fn node_types(&self) -> Result<Vec<(String, String)>> {
        self.image.node_types()
    }

    fn node_type(&self, name: &str) -> Result<Option<String>> {
        self.image.node_type(name)
    }

    fn history(&self) -> Result<Vec<OperationSummary>> {
        self.image.history()
    }

    fn operation(&self, id: OperationId) -> Result<OperationDetail> {
        self.image.operation(id)
    }

    /// A backup is read-only: always [`RepositoryError::ReadOnly`].
    fn put_blob(&self, _data: &mut dyn Read) -> Result<Binary> {
        Err(RepositoryError::ReadOnly {
            repository: self.image.location().to_path_buf(),
            action: "store a binary in a backup".into(),
        })
    }

    fn open_blob(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        self.blobs.open_verified(&self.catalogue, sha256)
    }

    fn snapshot<'a>(&'a self, workspace: &str) -> Result<Option<Box<dyn SnapshotRead + 'a>>> {
        self.image.snapshot(workspace)
    }
}
