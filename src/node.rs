//! Nodes: a primary type, mixins, properties and ordered children.
//!
//! [`Node`] is an owned subtree, the unit that DocView aggregates, system view files
//! and dumps carry. Large trees are never held whole: readers stream nodes and the
//! repository stores them one by one.

use crate::value::{Property, Value};
use indexmap::IndexMap;

/// A node's properties by name, in insertion order (which the hasher does not
/// touch). Hashed with foldhash, several times cheaper than std's SipHash on short
/// names (an install looks each property up about three times, issue 16); randomly
/// seeded, as the names come from packages, which may be hostile.
pub type Properties = IndexMap<String, Property, foldhash::fast::RandomState>;

/// A node and (optionally) its subtree.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// The qualified name, without a same-name-sibling index (`""` for the root).
    pub name: String,
    /// The same-name-sibling index, 1 unless this is a later sibling of the same name.
    pub index: u32,
    /// `jcr:primaryType`.
    pub primary_type: String,
    /// `jcr:mixinTypes`, in repository order.
    pub mixins: Vec<String>,
    /// Every other property, in insertion order.
    pub properties: Properties,
    /// Child nodes, in order.
    pub children: Vec<Node>,
}

impl Node {
    /// A node with a name and a primary type, nothing else.
    pub fn new(name: impl Into<String>, primary_type: impl Into<String>) -> Node {
        Node {
            name: name.into(),
            index: 1,
            primary_type: primary_type.into(),
            ..Node::default()
        }
    }

    /// Sets a property (builder style).
    pub fn with(mut self, p: Property) -> Node {
        self.set(p);
        self
    }

    /// Adds a child (builder style).
    pub fn with_child(mut self, c: Node) -> Node {
        self.children.push(c);
        self
    }

    /// Sets a property, replacing one of the same name.
    pub fn set(&mut self, p: Property) {
        self.properties.insert(p.name.clone(), p);
    }

    /// The property called `name`.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.get(name)
    }

    /// The single value of property `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.property(name).and_then(Property::value)
    }

    /// The first child called `name` with SNS index `index`.
    pub fn child(&self, name: &str, index: u32) -> Option<&Node> {
        self.children
            .iter()
            .filter(|c| c.name == name)
            .nth(index.saturating_sub(1) as usize)
    }

    /// The path segment of this node: `name` or `name[n]`.
    pub fn segment(&self) -> String {
        if self.index > 1 {
            format!("{}[{}]", self.name, self.index)
        } else {
            self.name.clone()
        }
    }

    /// Recomputes the SNS indexes of the children from their order.
    pub fn renumber_children(&mut self) {
        let mut seen: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut idx = Vec::with_capacity(self.children.len());
        for c in &self.children {
            let n = seen.entry(c.name.as_str()).or_insert(0);
            *n += 1;
            idx.push(*n);
        }
        for (c, i) in self.children.iter_mut().zip(idx) {
            c.index = i;
        }
    }

    /// Number of nodes in this subtree, this one included.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Node::count).sum::<usize>()
    }

    /// Visits the subtree depth-first, parents before children, with each node's
    /// absolute path computed from `path` (this node's own path).
    pub fn walk<'a>(&'a self, path: &str, f: &mut dyn FnMut(&str, &'a Node)) {
        f(path, self);
        for c in &self.children {
            let p = crate::path::join(path, &c.segment());
            c.walk(&p, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_walks() {
        let mut n = Node::new("", "rep:root")
            .with_child(Node::new("a", "nt:folder").with(Property::string("x", "1")))
            .with_child(Node::new("item", "nt:unstructured"))
            .with_child(Node::new("item", "nt:unstructured"));
        n.renumber_children();
        let mut seen = Vec::new();
        n.walk("/", &mut |p, _| seen.push(p.to_string()));
        assert_eq!(seen, ["/", "/a", "/item", "/item[2]"]);
        assert_eq!(n.count(), 4);
        assert_eq!(n.child("item", 2).unwrap().segment(), "item[2]");
        assert_eq!(n.children[0].value("x").unwrap().to_string(), "1");
    }
}
