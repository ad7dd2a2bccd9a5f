//! A [`SnapshotRead`] over the path-based calls of any [`StoreRead`], for backends
//! without a snapshot reader of their own (a write transaction): each fact is its
//! own query, so it is slow, but it answers exactly what the exporter asked before
//! the snapshot readers existed.

use crate::path;
use crate::repository::{NodeInfo, Result, SnapshotNode, SnapshotRead, StoreRead};
use crate::value::Property;

/// See the module doc.
pub(crate) struct PathSnapshot<'a> {
    store: &'a dyn StoreRead,
    ws: &'a str,
}

impl<'a> PathSnapshot<'a> {
    pub(crate) fn new(store: &'a dyn StoreRead, ws: &'a str) -> PathSnapshot<'a> {
        PathSnapshot { store, ws }
    }

    fn with_facts(&self, info: NodeInfo) -> Result<SnapshotNode> {
        let (store, ws) = (self.store, self.ws);
        let content = path::join(&info.path, "jcr:content");
        let has_content_child = store.node(ws, &content)?.is_some();
        Ok(SnapshotNode {
            has_children: !store.children(ws, &info.path)?.is_empty(),
            has_content_child,
            has_data: store.property(ws, &info.path, "jcr:data")?.is_some(),
            content_has_data: has_content_child
                && store.property(ws, &content, "jcr:data")?.is_some(),
            handle: 0,
            info,
        })
    }
}

impl SnapshotRead for PathSnapshot<'_> {
    fn node(&self, path: &str) -> Result<Option<SnapshotNode>> {
        match self.store.node(self.ws, path)? {
            Some(info) => self.with_facts(info).map(Some),
            None => Ok(None),
        }
    }

    fn children(&self, node: &SnapshotNode) -> Result<Vec<SnapshotNode>> {
        self.store
            .children(self.ws, &node.info.path)?
            .into_iter()
            .map(|c| self.with_facts(c))
            .collect()
    }

    fn properties(&self, node: &SnapshotNode) -> Result<Vec<Property>> {
        self.store.properties(self.ws, &node.info.path)
    }
}
