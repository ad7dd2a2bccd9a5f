//! The properties of one waiting node, by name: a short list kept in name order.
//!
//! A node has a few properties (3.2 on average in the 1M-node benchmark
//! package); a `BTreeMap` takes a leaf of eleven slots (about 630 bytes) for
//! them, which made it the largest part of what a batch of waiting rows holds.
//! A sorted `Vec` takes what its entries take.

use super::PropCols;

/// Properties by name, in name order (the order `COPY` writes them).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct NodeProps(Vec<(String, PropCols)>);

impl NodeProps {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }

    /// The columns of property `name`.
    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<&PropCols> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Sets property `name` to `cols`: its columns before, if it was set.
    pub(crate) fn insert(&mut self, name: &str, cols: PropCols) -> Option<PropCols> {
        match self.find(name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, cols)),
            Err(i) => {
                self.0.insert(i, (name.to_string(), cols));
                None
            }
        }
    }

    /// Removes property `name`: its columns, if it was set.
    pub(crate) fn remove(&mut self, name: &str) -> Option<PropCols> {
        self.find(name).ok().map(|i| self.0.remove(i).1)
    }

    /// The properties in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &PropCols)> {
        self.0.iter().map(|(name, cols)| (name.as_str(), cols))
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(v: &str) -> PropCols {
        (1, false, v.to_string())
    }

    #[test]
    fn names_stay_in_order_and_a_name_set_again_keeps_its_last_value() {
        let mut p = NodeProps::default();
        assert!(p.is_empty());
        assert_eq!(p.insert("b", cols("1")), None);
        assert_eq!(p.insert("a", cols("2")), None);
        assert_eq!(p.insert("c", cols("3")), None);
        assert_eq!(p.insert("b", cols("4")), Some(cols("1")));
        assert_eq!(p.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(p.get("b"), Some(&cols("4")));
        assert_eq!(p.get("d"), None);
        assert_eq!(p.remove("a"), Some(cols("2")));
        assert_eq!(p.remove("a"), None);
        let left: Vec<(&str, &PropCols)> = p.iter().collect();
        assert_eq!(left, [("b", &cols("4")), ("c", &cols("3"))]);
        assert!(!p.is_empty());
    }

    #[test]
    fn order_is_by_bytes_as_a_btree_map_of_strings_orders() {
        let mut p = NodeProps::default();
        for name in ["jcr:title", "Z", "jcr:primaryType", "é", "a"] {
            p.insert(name, cols(name));
        }
        let mut want = vec!["jcr:title", "Z", "jcr:primaryType", "é", "a"];
        want.sort_unstable();
        assert_eq!(p.names().collect::<Vec<_>>(), want);
    }
}
