//! Restoring child order with few moves (reference §3.9): which children move, and
//! before which sibling, so that the children's current order becomes the wanted one.
//!
//! A fresh import creates a page's children in the layout's order (its folders) and
//! then orders them as the page's `.content.xml` lists them: moving every listed
//! child cost one `order_before` each, most of them moves that one longest run of
//! children already in wanted order makes unnecessary; and a child created in its
//! own file goes where the page lists it ([`Placements`]), so that nothing moves.

use std::collections::HashMap;

/// The longest child name list whose children are placed where the list puts them
/// when they are created ([`Placements`]); longer ones are ordered afterwards only.
pub const MAX_PLACED_NAMES: usize = 64;

/// Which listed children exist, for the nodes on the walk's current path that have a
/// child name list: a child created below one goes before the next listed sibling
/// that exists, so that the order restored after the children in their own files
/// (which orders listed children and leaves the others' order as it is) finds the
/// children in place. Held for ancestors of the node being created only.
#[derive(Debug, Default)]
pub struct Placements {
    stack: Vec<(String, Vec<bool>)>,
}

impl Placements {
    /// Forgets the nodes that are not `parent` or its ancestors; whether `parent`
    /// is then held.
    pub fn holds(&mut self, parent: &str) -> bool {
        while let Some((p, _)) = self.stack.last() {
            if p == parent || is_ancestor(p, parent) {
                break;
            }
            self.stack.pop();
        }
        self.stack.last().is_some_and(|(p, _)| p == parent)
    }

    /// Holds `parent` with which of its listed children exist (after [`Placements::holds`]).
    pub fn hold(&mut self, parent: &str, present: Vec<bool>) {
        self.stack.push((parent.to_string(), present));
    }

    /// Which listed children of the held `parent` exist, as far as known.
    pub fn present(&mut self, parent: &str) -> Option<&mut Vec<bool>> {
        self.stack
            .last_mut()
            .filter(|(p, _)| p == parent)
            .map(|(_, present)| present)
    }
}

fn is_ancestor(a: &str, p: &str) -> bool {
    a == "/" || p.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

/// The moves that turn `current` into `wanted` (the same names in another order), as
/// indexes into `wanted` in the order to apply them: moving `wanted[i]` before
/// `wanted[i + 1]` (to the end for the last). The children of one longest run already
/// in wanted order stay where they are; the others move, from the last wanted to the
/// first. `None` when `wanted` is not `current` reordered (a name twice or missing).
pub fn moves(current: &[String], wanted: &[String]) -> Option<Vec<usize>> {
    if current.len() != wanted.len() {
        return None;
    }
    let at: HashMap<&str, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    if at.len() != wanted.len() {
        return None;
    }
    let mut seen = vec![false; wanted.len()];
    let mut ranks = Vec::with_capacity(current.len());
    for c in current {
        let i = *at.get(c.as_str())?;
        if std::mem::replace(&mut seen[i], true) {
            return None;
        }
        ranks.push(i);
    }
    let stays = longest_increasing_run(&ranks);
    Some((0..wanted.len()).rev().filter(|&i| !stays[i]).collect())
}

/// Which values of `ranks` (a permutation of `0..n`) lie on one longest increasing
/// subsequence, indexed by value (O(n log n): patience sorting).
fn longest_increasing_run(ranks: &[usize]) -> Vec<bool> {
    // tails[k]: the index in `ranks` of the smallest last value of a run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; ranks.len()];
    for (i, &r) in ranks.iter().enumerate() {
        let k = tails.partition_point(|&t| ranks[t] < r);
        previous[i] = k.checked_sub(1).map(|k| tails[k]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut stays = vec![false; ranks.len()];
    let mut at = tails.last().copied();
    while let Some(i) = at {
        stays[ranks[i]] = true;
        at = previous[i];
    }
    stays
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    /// Applies the moves as the repository's `order_before` does.
    fn apply(current: &[String], wanted: &[String], moves: &[usize]) -> Vec<String> {
        let mut order = current.to_vec();
        for &i in moves {
            let child = &wanted[i];
            order.retain(|c| c != child);
            match wanted.get(i + 1) {
                Some(before) => {
                    let at = order.iter().position(|c| c == before).unwrap();
                    order.insert(at, child.clone());
                }
                None => order.push(child.clone()),
            }
        }
        order
    }

    fn check(current: &str, wanted: &str, expected_moves: usize) {
        let (current, wanted) = (names(current), names(wanted));
        let m = moves(&current, &wanted).unwrap();
        assert_eq!(apply(&current, &wanted, &m), wanted, "moves {m:?}");
        assert_eq!(m.len(), expected_moves, "moves {m:?}");
    }

    #[test]
    fn children_in_wanted_order_do_not_move() {
        check("a b c d", "a b c d", 0);
        check("", "", 0);
    }

    #[test]
    fn only_the_children_off_the_longest_run_move() {
        // The layout's order (alphabetical) against the page's listing.
        check(
            "jcr:content adventures-26 careers-30 magazine-27 offers-25 press-28 products-32 stories-31 support-29",
            "jcr:content offers-25 adventures-26 magazine-27 press-28 support-29 careers-30 stories-31 products-32",
            4,
        );
        check("d c b a", "a b c d", 3);
        check("b c d a", "a b c d", 1);
        check("a b c d", "b c d a", 1);
        check("a x b", "x a b", 1);
    }

    #[test]
    fn the_last_wanted_child_moves_to_the_end() {
        let (current, wanted) = (names("c a b"), names("a b c"));
        assert_eq!(moves(&current, &wanted).unwrap(), vec![2]);
    }

    #[test]
    fn every_order_of_five_children_is_restored_with_fewest_moves() {
        let wanted = names("a b c d e");
        let mut perm: Vec<usize> = (0..5).collect();
        // Heap's algorithm over every permutation of the current order.
        let mut c = [0usize; 5];
        let visit = |p: &[usize]| {
            let current: Vec<String> = p.iter().map(|&i| wanted[i].clone()).collect();
            let m = moves(&current, &wanted).unwrap();
            assert_eq!(apply(&current, &wanted, &m), wanted, "from {current:?}");
            let lis = (0..1u32 << 5)
                .filter(|mask| {
                    let kept: Vec<usize> = (0..5)
                        .filter(|j| mask & (1 << j) != 0)
                        .map(|j| p[j])
                        .collect();
                    kept.windows(2).all(|w| w[0] < w[1])
                })
                .map(u32::count_ones)
                .max()
                .unwrap() as usize;
            assert_eq!(m.len(), 5 - lis, "from {current:?}");
        };
        visit(&perm);
        let mut i = 0;
        while i < 5 {
            if c[i] < i {
                if i % 2 == 0 {
                    perm.swap(0, i);
                } else {
                    perm.swap(c[i], i);
                }
                visit(&perm);
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
    }

    #[test]
    fn placements_hold_the_ancestors_of_the_node_being_created() {
        let mut p = Placements::default();
        assert!(!p.holds("/a"));
        p.hold("/a", vec![true, false]);
        assert!(p.holds("/a"));
        assert!(!p.holds("/a/b"));
        p.hold("/a/b", vec![false]);
        p.present("/a/b").unwrap()[0] = true;
        assert_eq!(p.present("/a/b").unwrap(), &vec![true]);
        // A sibling's subtree is done: /a/b is forgotten, /a is held.
        assert!(p.holds("/a"));
        assert_eq!(p.present("/a").unwrap(), &vec![true, false]);
        assert!(!p.holds("/ab"));
        assert!(p.present("/a").is_none());
    }

    #[test]
    fn names_that_are_not_a_reordering_give_no_moves() {
        assert_eq!(moves(&names("a b"), &names("a b c")), None);
        assert_eq!(moves(&names("a b"), &names("a c")), None);
        assert_eq!(moves(&names("a a"), &names("a b")), None);
        assert_eq!(moves(&names("a b"), &names("a a")), None);
    }
}
