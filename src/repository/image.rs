//! What a backend's image step takes and returns: a consistent point-in-time copy of
//! the whole repository database, taken while other processes read and write (see
//! [`super::Store::take_image`]), for `jcrpack backup create`.

/// How to take an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// Keep only these workspaces in the image (all when empty). Every name must
    /// exist.
    pub workspaces: Vec<String>,
    /// Copy at most this many bytes a second (AEM's backup delay); unthrottled when
    /// `None`.
    pub max_rate: Option<u64>,
}

/// Node and property counts of one workspace of an image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceCounts {
    /// The workspace name.
    pub name: String,
    /// Its nodes, root included.
    pub nodes: u64,
    /// Its properties (`jcr:primaryType` and `jcr:mixinTypes` are node fields, not
    /// counted).
    pub properties: u64,
}

/// What an image holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The id of the last recorded operation the image contains, if any: the image is
    /// the repository as it was right after that operation.
    pub last_operation: Option<i64>,
    /// The workspaces of the image, sorted by name.
    pub workspaces: Vec<WorkspaceCounts>,
    /// The size of the image file in bytes.
    pub bytes: u64,
    /// How many distinct blobs the image refers to (content and journal
    /// before-images).
    pub blob_count: u64,
    /// Their total size in bytes.
    pub blob_bytes: u64,
}
