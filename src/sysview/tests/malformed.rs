//! Malformed documents: each error names the file, line and column, and says what
//! was expected.

use crate::sysview::{read_tree, ErrorKind, SysViewError};

const OPEN: &str = r#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" sv:name="a">"#;

fn error(xml: &str) -> SysViewError {
    match read_tree(xml.as_bytes(), "bad.xml") {
        Ok(n) => panic!("expected an error, read {n:?}"),
        Err(e) => e,
    }
}

/// The error message, with the location first.
fn message(xml: &str) -> String {
    error(xml).to_string()
}

#[test]
fn missing_node_name() {
    let xml = format!("{OPEN}\n  <sv:node>\n  </sv:node>\n</sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: <sv:node> has no sv:name attribute"
    );
    // An unprefixed `name` is not `sv:name`.
    let xml = format!("{OPEN}\n<sv:node name=\"b\"/></sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: <sv:node> has no sv:name attribute"
    );
}

#[test]
fn missing_property_name_and_type() {
    let xml = format!("{OPEN}\n    <sv:property sv:type=\"String\"/></sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:5: <sv:property> has no sv:name attribute"
    );
    let xml = format!("{OPEN}\n  <sv:property sv:name=\"p\"/></sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: <sv:property> has no sv:type attribute"
    );
}

#[test]
fn unknown_type() {
    let xml = format!(
        "{OPEN}\n  <sv:property sv:name=\"p\" sv:type=\"string\"><sv:value>x</sv:value></sv:property>\n</sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: property 'p' has the unknown type 'string'; expected one of String, Binary, \
         Long, Double, Decimal, Date, Boolean, Name, Path, Reference, WeakReference, URI or undefined"
    );
}

#[test]
fn value_outside_a_property() {
    let xml = format!("{OPEN}\n  <sv:value>x</sv:value>\n</sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: unexpected element <sv:value> inside <sv:node sv:name=\"a\">; expected \
         <sv:property> or <sv:node>"
    );
}

#[test]
fn node_inside_a_property_and_element_inside_a_value() {
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"p\" sv:type=\"String\">\n <sv:node sv:name=\"x\"/></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:2: unexpected element <sv:node> inside <sv:property sv:name=\"p\">; expected <sv:value>"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"p\" sv:type=\"String\"><sv:value>a<b>x</b></sv:value></sv:property></sv:node>"
    );
    let e = error(&xml);
    assert_eq!(e.location.line, 1);
    let before = format!("{OPEN}<sv:property sv:name=\"p\" sv:type=\"String\"><sv:value>a");
    assert_eq!(e.location.column as usize, before.len() + 1);
    assert!(
        e.to_string().ends_with(
            "unexpected element <b> inside <sv:value> of property 'p'; expected only text"
        ),
        "{e}"
    );
}

#[test]
fn foreign_root_and_undeclared_prefix() {
    assert_eq!(
        message("<?xml version=\"1.0\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"/>"),
        "bad.xml:2:1: unexpected element <jcr:root> before the root <sv:node>; expected <sv:node>"
    );
    assert_eq!(
        message("<sv:node sv:name=\"a\"/>"),
        "bad.xml:1:1: the element <sv:node> uses an undeclared namespace prefix"
    );
}

#[test]
fn text_in_the_wrong_place() {
    let xml = format!("{OPEN}\n   stray text\n</sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:4: unexpected text 'stray text' inside <sv:node sv:name=\"a\">; text is only \
         allowed inside <sv:value>"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"p\" sv:type=\"String\">\n\n  x<sv:value/></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:3:3: unexpected text 'x' inside <sv:property sv:name=\"p\">; text is only allowed \
         inside <sv:value>"
    );
    let xml = format!("{OPEN}</sv:node>\ntrailing");
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: unexpected text 'trailing' after the root <sv:node>; text is only allowed \
         inside <sv:value>"
    );
}

#[test]
fn invalid_values_name_the_property_and_the_expectation() {
    let xml = format!(
        "{OPEN}\n  <sv:property sv:name=\"count\" sv:type=\"Long\">\n    <sv:value>12x</sv:value>\n  </sv:property>\n</sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:3:5: property 'count': '12x' is not a valid Long value (expected a 64-bit integer)"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"when\" sv:type=\"Date\">\n<sv:value>yesterday</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: property 'when': 'yesterday' is not a valid Date value (expected ISO 8601 \
         like 2024-01-31T12:00:00.000+01:00)"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"n\" sv:type=\"Name\">\n<sv:value>a/b</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: invalid Name value: 'a/b' contains '/', which a JCR name may not contain"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"p\" sv:type=\"Path\">\n<sv:value>/a//b</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: property 'p': '/a//b' is not a valid Path value (expected a JCR path without \
         empty segments)"
    );
}

#[test]
fn bad_base64() {
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"jcr:data\" sv:type=\"Binary\">\n  <sv:value>R0lG*</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: property 'jcr:data': invalid base64 value: '*' at character 4 is not a base64 \
         character (expected A-Z, a-z, 0-9, '+', '/', '=' or whitespace)"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"jcr:data\" sv:type=\"Binary\">\n  <sv:value>R0lGO</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: property 'jcr:data': invalid base64 value: the base64 text ends with an \
         incomplete group of 1 character(s)"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"s\" sv:type=\"String\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <sv:value xsi:type=\"xs:base64Binary\">/w==</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:3: property 's': the base64-encoded String value is not UTF-8 text"
    );
}

#[test]
fn structure_errors() {
    let xml = format!(
        "{OPEN}<sv:node sv:name=\"c\"/>\n<sv:property sv:name=\"late\" sv:type=\"String\"><sv:value/></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: property 'late' comes after a child node of 'a'; properties must precede child nodes"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"p\" sv:type=\"String\"><sv:value/></sv:property>\n <sv:property sv:name=\"p\" sv:type=\"Long\"><sv:value>1</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:2: property 'p' appears twice in node 'a'"
    );
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"jcr:primaryType\" sv:type=\"Name\"><sv:value>a</sv:value><sv:value>b</sv:value>\n</sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: jcr:primaryType of node 'a' has 2 values; expected exactly one"
    );
    let xml = format!(
        "{OPEN}\n<sv:property sv:name=\"p\" sv:type=\"String\" sv:multiple=\"yes\"/></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: property 'p' has sv:multiple=\"yes\"; expected \"true\" or \"false\""
    );
    let xml = format!("{OPEN}\n<sv:node sv:name=\"a/b\"/></sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: invalid node name: 'a/b' contains '/', which a JCR name may not contain"
    );
    let xml = format!("{OPEN}</sv:node>\n<sv:node sv:name=\"again\"/>");
    assert_eq!(
        message(&xml),
        "bad.xml:2:1: unexpected <sv:node> after the root <sv:node> ended; a document has one root"
    );
}

#[test]
fn doctype_and_entities_are_refused() {
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE sv:node [<!ENTITY x \"boom\">]>\n{OPEN}</sv:node>"
    );
    let e = error(&xml);
    assert!(matches!(e.kind, ErrorKind::DocType));
    assert_eq!(e.location.to_string(), "bad.xml:2:1");
    let xml = format!(
        "{OPEN}<sv:property sv:name=\"p\" sv:type=\"String\">\n<sv:value>a  &x;</sv:value></sv:property></sv:node>"
    );
    assert_eq!(
        message(&xml),
        "bad.xml:2:14: reference to the undefined entity '&x;' (only &lt; &gt; &amp; &apos; &quot; \
         and character references are allowed)"
    );
}

#[test]
fn encoding_and_xml_syntax() {
    let xml = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n{OPEN}</sv:node>");
    assert_eq!(
        message(&xml),
        "bad.xml:1:1: the XML declaration names the encoding 'ISO-8859-1'; system view must be UTF-8"
    );
    let xml = format!("{OPEN}\n  <sv:node sv:name=\"b\">\n  </sv:nod>\n</sv:node>");
    let e = error(&xml);
    assert!(matches!(e.kind, ErrorKind::Xml(_)), "{e}");
    assert_eq!(e.location.to_string(), "bad.xml:3:3");
    let xml = format!("{OPEN}\n  <sv:node sv:name=\"b\" sv:name=\"c\"/>\n</sv:node>");
    let e = error(&xml);
    assert!(matches!(e.kind, ErrorKind::Xml(_)), "{e}");
    assert_eq!(e.location.to_string(), "bad.xml:2:3");
}

#[test]
fn truncated_and_empty_documents() {
    let xml = format!("{OPEN}\n  <sv:node sv:name=\"b\">\n");
    assert_eq!(
        message(&xml),
        "bad.xml:3:1: the document ends inside <sv:node sv:name=\"b\">"
    );
    assert_eq!(
        message("<?xml version=\"1.0\"?>\n<!-- nothing -->\n"),
        "bad.xml:3:1: the document has no root <sv:node> element"
    );
    let xml = format!("{OPEN}\n  <sv:property sv:name=\"p");
    let e = error(&xml);
    assert!(matches!(e.kind, ErrorKind::Xml(_)), "{e}");
    assert_eq!(e.location.to_string(), "bad.xml:2:3");
    assert_eq!(
        message(""),
        "bad.xml:1:1: the document has no root <sv:node> element"
    );
}
