//! The rules every writing path obeys: the one check `import`, `load`, `restore`
//! (from a backup and from a package), `bootstrap load` and a server's uploads call
//! before they write a node.
//!
//! Three rules, the same everywhere:
//!
//! * the **deny list** of system roots ([`SYSTEM_ROOTS`]: `/jcr:system`,
//!   `/rep:security`, `/oak:index`), lifted only by the operator
//!   ([`WriteRules::allow_system_roots`], the CLI's `--allow-system-roots`);
//! * **node names**: every segment a valid JCR name ([`crate::name::validate`]: no
//!   control character, no `/`, no `[`), every property name too;
//! * the **node depth limit** ([`crate::limits::Limits::node_depth`],
//!   `JCRPACK_MAX_NODE_DEPTH`).
//!
//! [`check_path`] checks one path a command writes (or removes), [`check_node`] one
//! node added with its properties; [`check_tree`]
//! checks a whole tree about to be added below a node, without recursion, so a tree
//! of any depth is refused at the limit instead of overflowing the stack. The error,
//! [`WriteRefusal`], names the path, the rule and how to lift it.

use crate::name::{self, NameError};
use crate::node::Node;
use crate::path;

/// Roots no command may write unless the operator lifts the deny list.
pub const SYSTEM_ROOTS: [&str; 3] = ["/jcr:system", "/rep:security", "/oak:index"];

/// The system root of the deny list that `p` is or lies below, if any.
pub fn system_root_of(p: &str) -> Option<&'static str> {
    SYSTEM_ROOTS
        .iter()
        .copied()
        .find(|r| path::is_self_or_descendant(p, r))
}

/// What a write may do: the process-wide limits ([`crate::limits::get`]) and
/// whether the deny list is lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRules {
    /// Allow writing below the [`SYSTEM_ROOTS`] (the operator's choice).
    pub allow_system_roots: bool,
    /// The most segments a written path may have.
    pub node_depth: usize,
}

impl Default for WriteRules {
    /// The deny list in force, the process-wide node depth limit.
    fn default() -> Self {
        WriteRules {
            allow_system_roots: false,
            node_depth: crate::limits::get().node_depth,
        }
    }
}

impl WriteRules {
    /// The defaults with the deny list lifted or not.
    pub fn allowing_system_roots(allow: bool) -> Self {
        WriteRules {
            allow_system_roots: allow,
            ..WriteRules::default()
        }
    }
}

/// Why a write is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefusal {
    /// The path is or lies below a system root of the deny list.
    #[error(
        "{}: writes below the system root {root}; --allow-system-roots lifts this",
        crate::archive::shorten_name(path)
    )]
    SystemRoot {
        /// The path written.
        path: String,
        /// The system root.
        root: &'static str,
    },
    /// The path is deeper than the node depth limit.
    #[error(
        "{}: a node {depth} levels deep, more than the limit of {limit}; set \
         JCRPACK_MAX_NODE_DEPTH to raise it if the input is trusted",
        crate::archive::shorten_name(path)
    )]
    TooDeep {
        /// The path (of the first node past the limit).
        path: String,
        /// Its depth.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// A node or property name is not a JCR name.
    #[error("{}: {source}", crate::archive::shorten_name(path))]
    Name {
        /// The node (for a property name: the node that holds it).
        path: String,
        /// What is wrong with the name.
        #[source]
        source: NameError,
    },
}

impl WriteRefusal {
    /// The path refused.
    pub fn path(&self) -> &str {
        match self {
            WriteRefusal::SystemRoot { path, .. }
            | WriteRefusal::TooDeep { path, .. }
            | WriteRefusal::Name { path, .. } => path,
        }
    }
}

/// Checks one absolute path a command writes or removes: the deny list and the
/// depth limit (its names are checked when the path is parsed; see
/// [`check_tree`] for a tree's names).
pub fn check_path(p: &str, rules: &WriteRules) -> Result<(), WriteRefusal> {
    if !rules.allow_system_roots {
        if let Some(root) = system_root_of(p) {
            return Err(WriteRefusal::SystemRoot {
                path: p.to_string(),
                root,
            });
        }
    }
    let depth = path::depth(p);
    if depth > rules.node_depth {
        return Err(WriteRefusal::TooDeep {
            path: p.to_string(),
            depth,
            limit: rules.node_depth,
        });
    }
    Ok(())
}

/// Checks one node (without its children) to be added below `parent`: its path
/// ([`check_path`]), its name and its property names.
pub fn check_node<'a>(
    parent: &str,
    name: &str,
    properties: impl IntoIterator<Item = &'a str>,
    rules: &WriteRules,
) -> Result<(), WriteRefusal> {
    let here = path::join(parent, name);
    check_path(&here, rules)?;
    let named = |source| WriteRefusal::Name {
        path: here.clone(),
        source,
    };
    name::validate(name).map_err(named)?;
    for p in properties {
        name::validate(p).map_err(named)?;
    }
    Ok(())
}

/// Checks `node` and its subtree, to be added below `parent`: its top path against
/// the deny list (every other node lies below it), every node's depth against the
/// limit, every node and property name. Walked without recursion; the first
/// refusal is returned, naming the node.
pub fn check_tree(parent: &str, node: &Node, rules: &WriteRules) -> Result<(), WriteRefusal> {
    let top = path::join(parent, &node.name);
    check_path(&top, rules)?;
    let base = path::depth(parent);
    // (node, its depth, the index of its parent's entry in `trail` for naming it).
    let mut stack: Vec<(&Node, usize)> = vec![(node, base + 1)];
    // The names on the way down, to name a refused node by its path.
    let mut trail: Vec<&str> = Vec::new();
    while let Some((n, depth)) = stack.pop() {
        trail.truncate(depth - base - 1);
        trail.push(&n.name);
        let here = || {
            let mut p = parent.trim_end_matches('/').to_string();
            for seg in &trail {
                p.push('/');
                p.push_str(seg);
            }
            p
        };
        if depth > rules.node_depth {
            return Err(WriteRefusal::TooDeep {
                path: here(),
                depth,
                limit: rules.node_depth,
            });
        }
        if let Err(source) = name::validate(&n.name) {
            return Err(WriteRefusal::Name {
                path: here(),
                source,
            });
        }
        for p in n.properties.keys() {
            if let Err(source) = name::validate(p) {
                return Err(WriteRefusal::Name {
                    path: here(),
                    source,
                });
            }
        }
        stack.extend(n.children.iter().rev().map(|c| (c, depth + 1)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(depth: usize) -> WriteRules {
        WriteRules {
            allow_system_roots: false,
            node_depth: depth,
        }
    }

    #[test]
    fn system_roots_are_refused_unless_lifted() {
        for p in ["/jcr:system", "/rep:security/x", "/oak:index/uuid"] {
            let e = check_path(p, &rules(10)).unwrap_err();
            assert!(matches!(e, WriteRefusal::SystemRoot { .. }), "{e}");
            assert!(e.to_string().contains("--allow-system-roots"), "{e}");
            let lifted = WriteRules {
                allow_system_roots: true,
                node_depth: 10,
            };
            check_path(p, &lifted).unwrap();
        }
        check_path("/jcr:systemx", &rules(10)).unwrap();
        check_path("/content", &rules(10)).unwrap();
    }

    #[test]
    fn a_deep_tree_is_refused_at_the_limit_without_recursion() {
        // 200,000 levels: a recursive walk would overflow a test thread's stack.
        let mut n = Node::new("leaf", "nt:unstructured");
        for i in 0..200_000 {
            let mut p = Node::new(format!("n{}", i % 3), "nt:unstructured");
            p.children.push(n);
            n = p;
        }
        let e = check_tree("/content", &n, &rules(1_024)).unwrap_err();
        match &e {
            WriteRefusal::TooDeep { depth, limit, path } => {
                assert_eq!((*depth, *limit), (1_025, 1_024));
                assert_eq!(crate::path::depth(path), 1_025);
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("JCRPACK_MAX_NODE_DEPTH"), "{e}");
        // Dropping the tree recursively would overflow too: take it apart.
        let mut stack = vec![n];
        while let Some(mut x) = stack.pop() {
            stack.append(&mut x.children);
        }
    }

    #[test]
    fn names_are_checked_on_every_node_and_property() {
        let mut top = Node::new("a", "nt:unstructured");
        let mut bad = Node::new("ok", "nt:unstructured");
        bad.children
            .push(Node::new("x\nD /content/important", "nt:unstructured"));
        top.children.push(bad);
        let e = check_tree("/content", &top, &rules(100)).unwrap_err();
        assert_eq!(e.path(), "/content/a/ok/x\nD /content/important");
        assert!(matches!(e, WriteRefusal::Name { .. }));
        let mut p = Node::new("p", "nt:unstructured");
        p.set(crate::value::Property::single(
            "bad\u{1b}",
            crate::value::Value::String("v".into()),
        ));
        let e = check_tree("/", &p, &rules(100)).unwrap_err();
        assert_eq!(e.path(), "/p");
        check_tree(
            "/content",
            &Node::new("fine", "nt:unstructured"),
            &rules(100),
        )
        .unwrap();
        let e = check_tree("/", &Node::new("rep:security", "x"), &rules(100)).unwrap_err();
        assert!(matches!(e, WriteRefusal::SystemRoot { .. }));
    }
}
