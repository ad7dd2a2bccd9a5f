//! What the export asks about node types, each answer found once: a primary
//! type's [`TypeFacts`], the types the content uses (for `nodetypes.cnd`), and
//! whether a property of a node with given types is protected (left out of the
//! package).
//!
//! The last was asked per property of every node: an effective type built per node
//! (the closure of its primary type and mixins) and searched property definition by
//! definition, about 5 % of the export's reading thread. A node's types come from a
//! few combinations and its properties from a few names, so the answers are kept by
//! primary type, mixins and name. What is kept is bounded whatever the content
//! ([`MAX_MIXIN_SETS`], [`MAX_NAMES`]): past the bounds the answers are worked out
//! again, the same answers.

use super::aggregate::TypeFacts;
use crate::cnd::{EffectiveType, NodeTypeRegistry};
use crate::value::PropertyType;
use foldhash::fast::RandomState;
use indexmap::IndexSet;
use std::collections::HashMap;

/// Mixin sets kept per primary type.
const MAX_MIXIN_SETS: usize = 64;

/// Property names whose answers are kept per set of types.
const MAX_NAMES: usize = 4096;

/// See the module doc.
pub(super) struct TypeBook<'r> {
    registry: &'r NodeTypeRegistry,
    facts: HashMap<String, TypeFacts, RandomState>,
    used: IndexSet<String, RandomState>,
    /// By primary type, the mixin sets met with it.
    kinds: HashMap<String, Vec<NodeKind<'r>>, RandomState>,
}

/// The types of a node (a primary type and its mixins) and the answers given about
/// its properties.
pub(super) struct NodeKind<'r> {
    mixins: Vec<String>,
    effective: EffectiveType<'r>,
    /// By property name: (type, multiple, protected) for each shape asked.
    protected: HashMap<String, Vec<(PropertyType, bool, bool)>, RandomState>,
}

impl<'r> NodeKind<'r> {
    fn new(registry: &'r NodeTypeRegistry, primary: &str, mixins: &[String]) -> NodeKind<'r> {
        NodeKind {
            mixins: mixins.to_vec(),
            effective: registry.effective(primary, mixins),
            protected: HashMap::default(),
        }
    }

    /// Whether a property `name` of type `ptype` (`multiple` or not) is protected
    /// on a node of these types ([`EffectiveType::is_protected_property`]).
    pub(super) fn is_protected(&mut self, name: &str, ptype: PropertyType, multiple: bool) -> bool {
        if let Some(shapes) = self.protected.get(name) {
            if let Some(&(_, _, p)) = shapes.iter().find(|s| s.0 == ptype && s.1 == multiple) {
                return p;
            }
        }
        let protected = self.effective.is_protected_property(name, ptype, multiple);
        if self.protected.len() >= MAX_NAMES {
            self.protected.clear();
        }
        self.protected
            .entry(name.to_string())
            .or_default()
            .push((ptype, multiple, protected));
        protected
    }
}

impl<'r> TypeBook<'r> {
    pub(super) fn new(registry: &'r NodeTypeRegistry) -> TypeBook<'r> {
        TypeBook {
            registry,
            facts: HashMap::default(),
            used: IndexSet::default(),
            kinds: HashMap::default(),
        }
    }

    /// The facts about type `t`.
    pub(super) fn facts(&mut self, t: &str) -> TypeFacts {
        if let Some(facts) = self.facts.get(t) {
            return *facts;
        }
        let facts = TypeFacts::of(self.registry, t);
        self.facts.insert(t.to_string(), facts);
        facts
    }

    /// Records that the content uses type `t`.
    pub(super) fn use_type(&mut self, t: &str) {
        if !self.used.contains(t) {
            self.used.insert(t.to_string());
        }
    }

    /// The types used, in the order first used.
    pub(super) fn used(&self) -> Vec<String> {
        self.used.iter().cloned().collect()
    }

    /// The node kind of `primary` with `mixins`.
    pub(super) fn kind(&mut self, primary: &str, mixins: &[String]) -> &mut NodeKind<'r> {
        let registry = self.registry;
        if !self.kinds.contains_key(primary) {
            self.kinds.insert(primary.to_string(), Vec::new());
        }
        let kinds = self.kinds.get_mut(primary).expect("inserted above");
        let at = match kinds.iter().position(|k| k.mixins == mixins) {
            Some(at) => at,
            None => {
                if kinds.len() >= MAX_MIXIN_SETS {
                    kinds.clear();
                }
                kinds.push(NodeKind::new(registry, primary, mixins));
                kinds.len() - 1
            }
        };
        &mut kinds[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_kept_are_the_registrys_answers() {
        let registry = NodeTypeRegistry::new();
        let mut book = TypeBook::new(&registry);
        let cases = [
            ("nt:file", vec![], "jcr:created", PropertyType::Date, false),
            ("nt:file", vec![], "jcr:created", PropertyType::String, true),
            (
                "nt:unstructured",
                vec![],
                "jcr:created",
                PropertyType::Date,
                false,
            ),
            (
                "nt:unstructured",
                vec!["mix:created".to_string()],
                "jcr:created",
                PropertyType::Date,
                false,
            ),
            (
                "nt:unstructured",
                vec!["mix:referenceable".to_string()],
                "jcr:uuid",
                PropertyType::String,
                false,
            ),
            (
                "nt:unstructured",
                vec![],
                "jcr:uuid",
                PropertyType::String,
                false,
            ),
            ("x:unknown", vec![], "title", PropertyType::String, false),
        ];
        // Asked twice: worked out, then kept.
        for _ in 0..2 {
            for (primary, mixins, name, ptype, multiple) in &cases {
                let expected = registry
                    .effective(primary, mixins)
                    .is_protected_property(name, *ptype, *multiple);
                let kind = book.kind(primary, mixins);
                assert_eq!(
                    kind.is_protected(name, *ptype, *multiple),
                    expected,
                    "{primary} {mixins:?} {name}"
                );
            }
        }
        assert!(book
            .kind("nt:file", &[])
            .is_protected("jcr:created", PropertyType::Date, false));
        assert!(!book.kind("nt:unstructured", &[]).is_protected(
            "jcr:created",
            PropertyType::Date,
            false
        ));
        assert!(book
            .kind("nt:unstructured", &["mix:referenceable".to_string()])
            .is_protected("jcr:uuid", PropertyType::String, false));
        assert_eq!(book.facts("nt:file"), TypeFacts::of(&registry, "nt:file"));
    }

    #[test]
    fn past_the_bounds_answers_stay_right_and_memory_bounded() {
        let registry = NodeTypeRegistry::new();
        let mut book = TypeBook::new(&registry);
        for i in 0..2 * MAX_MIXIN_SETS {
            let mixins = vec![format!("x:m{i}")];
            let kind = book.kind("nt:unstructured", &mixins);
            assert!(!kind.is_protected("p", PropertyType::String, false));
        }
        assert!(book.kinds["nt:unstructured"].len() <= MAX_MIXIN_SETS);
        let kind = book.kind("nt:file", &[]);
        for i in 0..2 * MAX_NAMES {
            assert!(!kind.is_protected(&format!("p{i}"), PropertyType::String, false));
        }
        assert!(kind.protected.len() <= MAX_NAMES);
        assert!(kind.is_protected("jcr:created", PropertyType::Date, false));
    }

    #[test]
    fn used_types_keep_the_order_first_used() {
        let registry = NodeTypeRegistry::new();
        let mut book = TypeBook::new(&registry);
        for t in ["b:x", "a:y", "b:x", "c:z", "a:y"] {
            book.use_type(t);
        }
        assert_eq!(book.used(), ["b:x", "a:y", "c:z"]);
    }
}
