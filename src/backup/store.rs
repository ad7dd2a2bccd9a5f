//! A backup opened as a read-only repository: the image's SQLite database (read in
//! place in a format 1 backup, else read on demand from its chunks, each checked
//! against its hash when first read: `chunk_image`), with binaries read from the
//! catalogue's shared blob folder and checked against their hash and size as they
//! are read.

use super::blobs::CatalogueBlobs;
use super::chunk_image::ChunkImage;
use crate::namespace::NamespaceRegistry;
use crate::repository::sqlite::SqliteStore;
use crate::repository::{
    NodeInfo, OperationDetail, OperationId, OperationSummary, RepositoryError, Result, ScanHit,
    SnapshotNode, SnapshotRead, StoreRead, SubtreeWalk, WalkEntry,
};
use crate::value::{Binary, Property};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// The image read on demand, whose damage names a failed read.
    chunks: Option<Arc<ChunkImage>>,
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
            chunks: None,
        }
    }

    /// The same store, its image read on demand from `chunks`: a read that fails
    /// because a chunk is damaged says so (naming the chunk) instead of SQLite's
    /// I/O error.
    pub(crate) fn reading(mut self, chunks: Arc<ChunkImage>) -> BackupStore {
        self.chunks = Some(chunks);
        self
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
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.workspaces(),
        )
    }

    fn node(&self, workspace: &str, path: &str) -> Result<Option<NodeInfo>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.node(workspace, path),
        )
    }

    fn children(&self, workspace: &str, path: &str) -> Result<Vec<NodeInfo>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.children(workspace, path),
        )
    }

    fn properties(&self, workspace: &str, path: &str) -> Result<Vec<Property>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.properties(workspace, path),
        )
    }

    fn property(&self, workspace: &str, path: &str, name: &str) -> Result<Option<Property>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.property(workspace, path, name),
        )
    }

    fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.find_by_uuid(workspace, uuid),
        )
    }

    fn walk<'a>(&'a self, workspace: &str, path: &str) -> Result<Box<dyn SubtreeWalk + 'a>> {
        let walk = explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.walk(workspace, path),
        )?;
        match self.chunks.as_deref() {
            Some(chunks) => Ok(Box::new(Explained {
                inner: walk,
                chunks,
                location: self.location(),
            })),
            None => Ok(walk),
        }
    }

    fn namespaces(&self) -> Result<NamespaceRegistry> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.namespaces(),
        )
    }

    fn node_types(&self) -> Result<Vec<(String, String)>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.node_types(),
        )
    }

    fn node_type(&self, name: &str) -> Result<Option<String>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.node_type(name),
        )
    }

    fn history(&self) -> Result<Vec<OperationSummary>> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.history(),
        )
    }

    fn operation(&self, id: OperationId) -> Result<OperationDetail> {
        explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.operation(id),
        )
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
        let snap = explained(
            self.chunks.as_deref(),
            self.location(),
            self.image.snapshot(workspace),
        )?;
        match (snap, self.chunks.as_deref()) {
            (Some(inner), Some(chunks)) => Ok(Some(Box::new(Explained {
                inner,
                chunks,
                location: self.location(),
            }))),
            (snap, _) => Ok(snap),
        }
    }
}

/// `r`, its error replaced by the damage `chunks` met when there is one: a read
/// of the image failed because a chunk is damaged.
fn explained<T>(chunks: Option<&ChunkImage>, location: &Path, r: Result<T>) -> Result<T> {
    r.map_err(|e| match chunks.and_then(ChunkImage::damage) {
        Some(detail) => RepositoryError::Corrupt {
            repository: location.to_path_buf(),
            detail,
        },
        None => e,
    })
}

/// A walk or a snapshot of an image read on demand, its errors [`explained`].
struct Explained<'a, T: ?Sized> {
    inner: Box<T>,
    chunks: &'a ChunkImage,
    location: &'a Path,
}

impl<'a, T: ?Sized> Explained<'a, T> {
    fn explain<R>(&self, r: Result<R>) -> Result<R> {
        explained(Some(self.chunks), self.location, r)
    }
}

impl<'a> Iterator for Explained<'a, dyn SubtreeWalk + 'a> {
    type Item = Result<WalkEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.inner.next()?;
        Some(self.explain(next))
    }
}

impl<'a> SubtreeWalk for Explained<'a, dyn SubtreeWalk + 'a> {
    fn skip_children(&mut self) {
        self.inner.skip_children();
    }
}

impl<'a> SnapshotRead for Explained<'a, dyn SnapshotRead + 'a> {
    fn node(&self, path: &str) -> Result<Option<SnapshotNode>> {
        self.explain(self.inner.node(path))
    }

    fn children(&self, node: &SnapshotNode) -> Result<Vec<SnapshotNode>> {
        self.explain(self.inner.children(node))
    }

    fn properties(&self, node: &SnapshotNode) -> Result<Vec<Property>> {
        self.explain(self.inner.properties(node))
    }

    fn child(&self, node: &SnapshotNode, name: &str) -> Result<Option<SnapshotNode>> {
        self.explain(self.inner.child(node, name))
    }

    fn scan(&self, names: &[&str], each: &mut dyn FnMut(ScanHit<'_>)) -> Result<bool> {
        self.explain(self.inner.scan(names, each))
    }
}
