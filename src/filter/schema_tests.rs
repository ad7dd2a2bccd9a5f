//! Tests of `schemas/filter.xsd`: well-formed, declares everything the parser reads,
//! and (when `xmllint` is installed) validates the fixtures.

use std::path::PathBuf;
use std::process::Command;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ImportMode;

fn schema_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/filter.xsd"))
}

/// The `name` attributes of all `xs:element` and `xs:attribute` declarations, and
/// the `value`s of all enumerations.
fn declarations() -> (Vec<String>, Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(schema_path()).unwrap_or_else(|e| panic!("{e}"));
    let mut reader = Reader::from_str(&text);
    let (mut elements, mut attributes, mut enumerations) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let value_of = |key: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.0 == key)
                        .map(|a| a.value.to_string())
                };
                match e.name().0 {
                    "xs:element" => elements.extend(value_of("name")),
                    "xs:attribute" => attributes.extend(value_of("name")),
                    "xs:enumeration" => enumerations.extend(value_of("value")),
                    _ => {}
                }
            }
            Ok(_) => {}
            Err(e) => panic!(
                "filter.xsd is not well-formed at {}: {e}",
                reader.error_position()
            ),
        }
    }
    (elements, attributes, enumerations)
}

#[test]
fn schema_declares_every_element_and_attribute_the_parser_reads() {
    let (elements, attributes, enumerations) = declarations();
    for element in ["workspaceFilter", "filter", "include", "exclude"] {
        assert!(
            elements.iter().any(|e| e == element),
            "element {element} missing"
        );
    }
    for attribute in [
        "version",
        "root",
        "mode",
        "type",
        "pattern",
        "matchProperties",
    ] {
        assert!(
            attributes.iter().any(|a| a == attribute),
            "attribute {attribute} missing"
        );
    }
    for mode in ImportMode::ALL {
        assert!(
            enumerations.iter().any(|v| v == mode.as_str()),
            "mode {mode} missing"
        );
    }
    assert!(enumerations.iter().any(|v| v == "cleanup"));
}

#[test]
fn fixtures_validate_against_the_schema_with_xmllint() {
    let available = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        available,
        "this test validates the fixtures with xmllint, which is not on PATH: install libxml2-utils"
    );
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/filter"));
    let run = |name: &str| {
        Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(schema_path())
            .arg(dir.join(name))
            .output()
            .unwrap_or_else(|e| panic!("xmllint: {e}"))
    };
    for valid in [
        "basic.xml",
        "modes.xml",
        "empty.xml",
        "latin1.xml",
        "utf16le.xml",
    ] {
        let out = run(valid);
        assert!(
            out.status.success(),
            "{valid}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The hand-written fixture has what FileVault tolerates and the schema flags:
    // an unknown attribute, an upper-case mode and matchProperties="yes".
    let out = run("hand-written.xml");
    assert!(!out.status.success());
    let report = String::from_utf8_lossy(&out.stderr);
    for finding in ["vesion", "MERGE_PROPERTIES", "yes"] {
        assert!(
            report.contains(finding),
            "{finding} not reported:\n{report}"
        );
    }
}
