//! Families read ahead, held until the export asks for them.
//!
//! Listing a node's children reads their children (the node's grandchildren) in
//! the same go, with all their properties, in one statement: a child's facts (it
//! has children, a `jcr:content` child, whose `jcr:data`) are facts of its own
//! family, and that family is what the export lists next. Each family (by parent)
//! and each property set (by node) waits here until taken, once; a second read of
//! the same node goes to the store. What the export never asks for (children the
//! filter leaves out) is forgotten with the oldest reads once more than
//! [`MAX_HELD`] families and sets wait, so memory stays bounded by that many plus
//! the largest read, whatever the repository's size.

use crate::value::Property;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Families and property sets that may wait before the oldest reads are forgotten.
pub(crate) const MAX_HELD: usize = 16_384;

/// A node as a family read gives it: its row, and the facts its own properties
/// give (the facts of its family come with the family).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub handle: i64,
    pub name: String,
    pub path: String,
    pub ptype: String,
    /// Encoded, as stored.
    pub mixins: String,
    /// Its `jcr:uuid`, as stored.
    pub uuid: Option<String>,
    /// It has a `jcr:data` property.
    pub has_data: bool,
}

/// What one read gives: families (parent, members in order) and the property sets
/// of their members.
#[derive(Default)]
pub(crate) struct Read {
    pub families: Vec<(i64, Vec<Member>)>,
    pub props: Vec<(i64, Vec<Property>)>,
}

/// The keys one read left here, to forget together.
struct Held {
    parents: Vec<i64>,
    nodes: Vec<i64>,
}

type ByHandle<T> = HashMap<i64, T, BuildHasherDefault<HandleHasher>>;

/// See the module doc.
#[derive(Default)]
pub(crate) struct Families {
    /// Waiting families by parent handle.
    members: ByHandle<Vec<Member>>,
    /// Waiting property sets by node handle.
    props: ByHandle<Vec<Property>>,
    /// The keys of each read held, oldest first.
    order: VecDeque<Held>,
    /// Keys in `order`.
    handles: usize,
}

impl Families {
    /// Holds what one read gave, then forgets the oldest reads while too many
    /// families, sets or keys are held; the read just held stays whatever its size.
    pub(crate) fn hold(&mut self, read: Read) {
        if read.families.is_empty() && read.props.is_empty() {
            return;
        }
        let mut held = Held {
            parents: Vec::with_capacity(read.families.len()),
            nodes: Vec::with_capacity(read.props.len()),
        };
        for (handle, props) in read.props {
            held.nodes.push(handle);
            self.props.insert(handle, props);
        }
        for (parent, members) in read.families {
            held.parents.push(parent);
            self.members.insert(parent, members);
        }
        self.handles += held.parents.len() + held.nodes.len();
        self.order.push_back(held);
        while self.order.len() > 1
            && (self.props.len() + self.members.len() > MAX_HELD || self.handles > 4 * MAX_HELD)
        {
            if let Some(oldest) = self.order.pop_front() {
                self.handles -= oldest.parents.len() + oldest.nodes.len();
                for h in oldest.parents {
                    self.members.remove(&h);
                }
                for h in oldest.nodes {
                    self.props.remove(&h);
                }
            }
        }
    }

    /// The children of `parent`, if held; they are held no longer.
    pub(crate) fn take_family(&mut self, parent: i64) -> Option<Vec<Member>> {
        self.members.remove(&parent)
    }

    /// The children of `parent`, if held (they stay held).
    pub(crate) fn family(&self, parent: i64) -> Option<&[Member]> {
        self.members.get(&parent).map(Vec::as_slice)
    }

    /// The properties of `handle`, if held; they are held no longer.
    pub(crate) fn take(&mut self, handle: i64) -> Option<Vec<Property>> {
        self.props.remove(&handle)
    }

    /// Families and property sets waiting.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.props.len() + self.members.len()
    }
}

/// Hashes a node handle (a row id of the local repository, not input an adversary
/// chooses) by one multiplication: SipHash, the default, was about 1 % of the
/// export's reading thread, two hashes per node.
#[derive(Default)]
pub(crate) struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        // Fibonacci hashing: the high bits (the table's tags) and the low bits (its
        // buckets) both vary with consecutive handles.
        self.0 = (n as u64 ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str) -> Vec<Property> {
        vec![Property::string(name, "v")]
    }

    fn member(handle: i64) -> Member {
        Member {
            handle,
            name: format!("n{handle}"),
            path: format!("/n{handle}"),
            ptype: "nt:unstructured".into(),
            mixins: String::new(),
            uuid: None,
            has_data: false,
        }
    }

    /// A read of the property sets of `handles` alone.
    fn sets(handles: impl Iterator<Item = i64>, name: &str) -> Read {
        Read {
            families: Vec::new(),
            props: handles.map(|h| (h, set(name))).collect(),
        }
    }

    #[test]
    fn consecutive_handles_hash_apart_in_high_and_low_bits() {
        let hash = |h: i64| {
            let mut s = HandleHasher::default();
            s.write_i64(h);
            s.finish()
        };
        let highs: std::collections::HashSet<u64> = (0..128).map(|h| hash(h) >> 57).collect();
        let lows: std::collections::HashSet<u64> = (0..128).map(|h| hash(h) & 127).collect();
        assert!(highs.len() > 64, "{} distinct tags", highs.len());
        assert_eq!(lows.len(), 128);
    }

    #[test]
    fn a_set_and_a_family_are_taken_once() {
        let mut f = Families::default();
        f.hold(Read {
            families: vec![(1, vec![member(3)])],
            props: vec![(1, set("a")), (2, set("b"))],
        });
        assert_eq!(f.take(2).unwrap()[0].name, "b");
        assert!(f.take(2).is_none());
        // A family is keyed apart from the property sets: node 1's set is there too.
        assert_eq!(f.family(1).unwrap(), [member(3)]);
        assert_eq!(f.take_family(1).unwrap(), [member(3)]);
        assert!(f.take_family(1).is_none());
        assert_eq!(f.take(1).unwrap()[0].name, "a");
        assert!(f.take(3).is_none());
        assert_eq!(f.held(), 0);
    }

    #[test]
    fn forgetting_a_read_leaves_a_later_reads_family_of_the_same_node() {
        let mut f = Families::default();
        // Node 7's set, then later its family; the first read is forgotten.
        f.hold(sets(std::iter::once(7), "old"));
        f.hold(Read {
            families: vec![(7, vec![member(8)])],
            props: Vec::new(),
        });
        f.hold(sets(100..99 + MAX_HELD as i64, "big"));
        assert!(f.take(7).is_none());
        assert_eq!(f.held(), MAX_HELD);
        assert!(f.family(7).is_some());
    }

    #[test]
    fn the_oldest_reads_are_forgotten_past_the_bound_but_never_the_newest() {
        let mut f = Families::default();
        f.hold(sets(0..10, "old"));
        let big = MAX_HELD as i64 + 5;
        f.hold(sets(100..100 + big, "big"));
        // The old read went; the one just held stays whole though over the bound.
        assert!(f.take(3).is_none());
        assert_eq!(f.held(), big as usize);
        f.hold(sets(std::iter::once(-1), "new"));
        assert_eq!(f.held(), 1);
        assert!(f.take(-1).is_some());
    }

    #[test]
    fn taken_reads_are_forgotten_by_their_handles() {
        let mut f = Families::default();
        // Reads taken whole still count their handles, so the list of them
        // stays bounded too.
        for start in 0..5 {
            let first = start * MAX_HELD as i64;
            f.hold(sets(first..first + MAX_HELD as i64, "x"));
            for h in first..first + MAX_HELD as i64 {
                assert!(f.take(h).is_some());
            }
        }
        assert!(f.handles <= 4 * MAX_HELD);
        assert_eq!(f.held(), 0);
    }
}
