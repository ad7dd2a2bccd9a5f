//! The node types a repository knows: the built-ins and every CND registered in it,
//! loaded into one [`NodeTypeRegistry`]. Install checks content against them, export
//! writes the ones its content uses to `nodetypes.cnd`.

use crate::cnd::{self, NodeTypeRegistry};
use crate::namespace::NamespaceRegistry;
use crate::repository::StoreRead;

/// The node types of the repository `reader` reads (a store or a transaction), with
/// `ns` its namespaces. Registered types that do not load leave the built-ins and
/// come back as warnings (one sentence each), so that a damaged registry never stops
/// a read.
pub fn load(
    reader: &(impl StoreRead + ?Sized),
    ns: &NamespaceRegistry,
) -> (NodeTypeRegistry, Vec<String>) {
    let mut reg = NodeTypeRegistry::new();
    let mut warnings = Vec::new();
    let stored = match reader.node_types() {
        Ok(t) => t,
        Err(e) => {
            return (
                reg,
                vec![format!("cannot read the node type registry: {e}")],
            )
        }
    };
    if stored.is_empty() {
        return (reg, warnings);
    }
    let mut text = String::new();
    for (p, u) in ns.iter() {
        text.push_str(&format!("<'{p}'='{u}'>\n"));
    }
    for (_, cnd) in &stored {
        text.push_str(cnd);
        text.push('\n');
    }
    match cnd::parse(&text, "repository node types") {
        Ok(file) => {
            let mut ns2 = ns.clone();
            if let Err(e) = reg.register_cnd(&file, &mut ns2) {
                warnings.push(format!("registered node types do not load: {e:?}"));
            }
        }
        Err(e) => warnings.push(format!("registered node types do not parse: {e}")),
    }
    (reg, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repository::OperationMeta;

    fn actor() -> crate::events::Actor {
        crate::events::Actor {
            user: "test".into(),
            time: crate::value::Date::from_epoch_millis(0),
        }
    }

    #[test]
    fn loads_builtins_and_registered_types() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&dir.path().join("repo")).unwrap();
        let ns = store.namespaces().unwrap();
        let (types, warnings) = load(store.as_ref(), &ns);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(types.is_known("nt:unstructured"));
        assert!(!types.is_known("nt:madeUp"));

        let mut txn = store
            .begin_operation(OperationMeta::new("register a type", &actor()))
            .unwrap();
        txn.register_node_type("nt:madeUp", "[nt:madeUp] > nt:base")
            .unwrap();
        txn.commit().unwrap();
        let (types, warnings) = load(store.as_ref(), &ns);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(types.is_known("nt:madeUp"));
    }

    #[test]
    fn a_registered_type_that_does_not_parse_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&dir.path().join("repo")).unwrap();
        let mut txn = store
            .begin_operation(OperationMeta::new("register a broken type", &actor()))
            .unwrap();
        txn.register_node_type("nt:broken", "[nt:broken > ")
            .unwrap();
        txn.commit().unwrap();
        let ns = store.namespaces().unwrap();
        let (types, warnings) = load(store.as_ref(), &ns);
        assert!(types.is_known("nt:base"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("do not parse"), "{warnings:?}");
    }
}
