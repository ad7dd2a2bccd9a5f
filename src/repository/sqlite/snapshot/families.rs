//! The properties of listed children, held until the export asks for them.
//!
//! Listing a node's children reads all their properties in the same go (one
//! statement for the family rather than one per child). Each child's set waits here
//! until it is taken, once; a second read of the same node goes to the store. What
//! the export never asks for (children the filter leaves out) is forgotten with the
//! oldest families once more than [`MAX_HELD`] sets wait, so memory stays bounded by
//! that many sets plus the largest family, whatever the repository's size.

use crate::value::Property;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Property sets that may wait before the oldest families are forgotten.
pub(crate) const MAX_HELD: usize = 16_384;

/// See the module doc.
#[derive(Default)]
pub(crate) struct Families {
    /// Waiting property sets by node handle.
    props: HashMap<i64, Vec<Property>, BuildHasherDefault<HandleHasher>>,
    /// The handles of each family held, oldest first.
    order: VecDeque<Vec<i64>>,
    /// Handles in `order`.
    handles: usize,
}

impl Families {
    /// Holds the property sets of one family (the children of one node), then
    /// forgets the oldest families while too many sets or handles are held; the
    /// family just held stays whatever its size.
    pub(crate) fn hold(&mut self, family: Vec<(i64, Vec<Property>)>) {
        let mut handles = Vec::with_capacity(family.len());
        for (handle, props) in family {
            handles.push(handle);
            self.props.insert(handle, props);
        }
        self.handles += handles.len();
        self.order.push_back(handles);
        while self.order.len() > 1 && (self.props.len() > MAX_HELD || self.handles > 4 * MAX_HELD) {
            if let Some(oldest) = self.order.pop_front() {
                self.handles -= oldest.len();
                for h in oldest {
                    self.props.remove(&h);
                }
            }
        }
    }

    /// The properties of `handle`, if held; they are held no longer.
    pub(crate) fn take(&mut self, handle: i64) -> Option<Vec<Property>> {
        self.props.remove(&handle)
    }

    /// Property sets waiting.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.props.len()
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
    fn a_set_is_taken_once() {
        let mut f = Families::default();
        f.hold(vec![(1, set("a")), (2, set("b"))]);
        assert_eq!(f.take(2).unwrap()[0].name, "b");
        assert!(f.take(2).is_none());
        assert_eq!(f.take(1).unwrap()[0].name, "a");
        assert!(f.take(3).is_none());
        assert_eq!(f.held(), 0);
    }

    #[test]
    fn the_oldest_families_are_forgotten_past_the_bound_but_never_the_newest() {
        let mut f = Families::default();
        f.hold((0..10).map(|h| (h, set("old"))).collect());
        let big = MAX_HELD as i64 + 5;
        f.hold((100..100 + big).map(|h| (h, set("big"))).collect());
        // The old family went; the one just held stays whole though over the bound.
        assert!(f.take(3).is_none());
        assert_eq!(f.held(), big as usize);
        f.hold(vec![(-1, set("new"))]);
        assert_eq!(f.held(), 1);
        assert!(f.take(-1).is_some());
    }

    #[test]
    fn taken_families_are_forgotten_by_their_handles() {
        let mut f = Families::default();
        // Families taken whole still count their handles, so the list of them
        // stays bounded too.
        for start in 0..5 {
            let first = start * MAX_HELD as i64;
            f.hold(
                (first..first + MAX_HELD as i64)
                    .map(|h| (h, set("x")))
                    .collect(),
            );
            for h in first..first + MAX_HELD as i64 {
                assert!(f.take(h).is_some());
            }
        }
        assert!(f.handles <= 4 * MAX_HELD);
        assert_eq!(f.held(), 0);
    }
}
