//! The project's own fixtures: a one-line Jackrabbit-style export and an indented
//! Magnolia-style bootstrap file, read, checked, and written back (snapshotted).

use crate::node::Node;
use crate::sysview::{write_tree, InlineOnly, SysViewReader};
use crate::value::{Binary, PropertyType, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sysview");

/// Reads a fixture, returning the tree and the registry to write it back with
/// (undeclared prefixes get Magnolia's URI, the only one the fixtures leave out).
fn read(name: &str) -> (Node, crate::namespace::NamespaceRegistry) {
    let path = format!("{FIXTURES}/{name}");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut reader = SysViewReader::new(std::io::BufReader::new(file), name);
    let tree = reader.read_tree().unwrap_or_else(|e| panic!("{e}"));
    let mut ns = reader.namespaces().clone();
    for p in reader.undeclared_prefixes() {
        assert_eq!(p, "mgnl");
        ns.register(p, "http://www.magnolia.info/jcr/mgnl");
    }
    (tree, ns)
}

const GIF: &str = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==";

fn gif() -> Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(GIF)
        .unwrap_or_else(|e| panic!("{e}"));
    Value::Binary(Binary::inline(bytes))
}

#[test]
fn jackrabbit_export() {
    let (tree, ns) = read("jackrabbit-export.xml");
    assert_eq!(tree.name, "content");
    assert_eq!(tree.primary_type, "sling:Folder");
    assert_eq!(tree.mixins, ["mix:referenceable"]);
    assert_eq!(tree.count(), 3);
    assert_eq!(
        tree.value("jcr:title").unwrap().to_string(),
        "Café & Bar <Home>"
    );
    assert_eq!(tree.value("note").unwrap().to_string(), "tab\tvt\u{b}");
    assert_eq!(tree.value("weight"), Some(&Value::Double(1.0e-5)));
    let related = tree.property("related").unwrap();
    assert_eq!(related.ptype, PropertyType::WeakReference);
    assert_eq!(related.values.len(), 2);
    let tags = tree.property("tags").unwrap();
    assert!(tags.multiple && tags.values.is_empty());
    let content = tree
        .child("logo.gif", 1)
        .unwrap()
        .child("jcr:content", 1)
        .unwrap();
    assert_eq!(content.value("jcr:data"), Some(&gif()));

    let out = write_tree(Vec::new(), &tree, &ns, &mut InlineOnly).unwrap();
    insta::assert_snapshot!(
        "jackrabbit_export_rewritten",
        String::from_utf8(out).unwrap()
    );
}

#[test]
fn magnolia_bootstrap() {
    let (tree, ns) = read("magnolia-bootstrap.xml");
    assert_eq!(tree.primary_type, "mgnl:content");
    assert_eq!(
        tree.value("mgnl:template"),
        Some(&Value::String(String::new()))
    );
    assert_eq!(
        tree.value("description").unwrap().to_string(),
        "Weight: 12.7 kg\r\n"
    );
    // Base64 broken over lines, with indentation, decodes as Jackrabbit does.
    assert_eq!(
        tree.child("icon", 1).unwrap().value("jcr:data"),
        Some(&gif())
    );
    let paragraphs = tree.child("paragraphs", 1).unwrap();
    assert_eq!(paragraphs.children[1].segment(), "0[2]");
    assert_eq!(
        paragraphs
            .child("0", 1)
            .unwrap()
            .value("text")
            .unwrap()
            .to_string(),
        "<p>Hello</p>"
    );

    let out = write_tree(Vec::new(), &tree, &ns, &mut InlineOnly).unwrap();
    insta::assert_snapshot!(
        "magnolia_bootstrap_rewritten",
        String::from_utf8(out).unwrap()
    );
}
