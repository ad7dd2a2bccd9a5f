//! All the properties of one node the write cache knows, in name order: a
//! sorted `Vec` rather than a `BTreeMap` by name. A node has a few properties,
//! and the map took a leaf of eleven slots and a copy of every name (the key
//! beside the property's own): two allocations more a property, on every node
//! an install writes, and as many frees when the cache forgets it.

use crate::value::Property;

/// Properties by name, in byte order of the name (the order the server's
/// `ORDER BY name` gives, and a `BTreeMap<String, _>`'s).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct KnownProps(Vec<Property>);

impl KnownProps {
    /// The properties `props`; of a name given twice, the last.
    pub(crate) fn new(props: &[Property]) -> Self {
        let mut v: Vec<Property> = props.iter().rev().cloned().collect();
        // Stable: of equal names, the last given comes first and is kept.
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.dedup_by(|later, kept| later.name == kept.name);
        KnownProps(v)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Property `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Property> {
        self.find(name).ok().map(|i| &self.0[i])
    }

    /// Sets property `p` (by its name): the one it replaces, if any.
    pub(crate) fn insert(&mut self, p: Property) -> Option<Property> {
        match self.find(&p.name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i], p)),
            Err(i) => {
                self.0.insert(i, p);
                None
            }
        }
    }

    /// Removes property `name`: it, if it was there.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Property> {
        self.find(name).ok().map(|i| self.0.remove(i))
    }

    /// The properties in name order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Property> {
        self.0.iter()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|p| p.name.as_str().cmp(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn prop(name: &str, v: &str) -> Property {
        Property::string(name, v)
    }

    #[test]
    fn it_answers_as_a_map_by_name_would() {
        let given = [
            prop("jcr:title", "1"),
            prop("Z", "2"),
            prop("é", "3"),
            prop("jcr:title", "4"),
            prop("a", "5"),
        ];
        let mut known = KnownProps::new(&given);
        let mut map: BTreeMap<String, Property> =
            given.iter().map(|p| (p.name.clone(), p.clone())).collect();
        let same = |k: &KnownProps, m: &BTreeMap<String, Property>| {
            assert_eq!(
                k.values().collect::<Vec<_>>(),
                m.values().collect::<Vec<_>>()
            );
        };
        same(&known, &map);
        assert_eq!(
            known.get("jcr:title"),
            Some(&prop("jcr:title", "4")),
            "the last given"
        );
        assert_eq!(known.get("b"), None);
        assert_eq!(
            known.insert(prop("b", "6")),
            map.insert("b".into(), prop("b", "6"))
        );
        assert_eq!(
            known.insert(prop("Z", "7")),
            map.insert("Z".into(), prop("Z", "7"))
        );
        assert_eq!(known.remove("a"), map.remove("a"));
        assert_eq!(known.remove("a"), None);
        same(&known, &map);
        assert!(!known.is_empty() && KnownProps::new(&[]).is_empty());
    }
}
