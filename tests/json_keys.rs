//! One style for every JSON key jcrpack prints: camelCase, as AEM's package manager
//! (`downloadName`, `lastUnpackedBy`), FileVault's properties (`acHandling`,
//! `packageType`) and JCR (`primaryType`, `mixinTypes`) spell theirs. Every schema
//! in `schemas/` is walked and each property name it declares or requires is
//! checked; the CLI tests check the outputs against these schemas.

use serde_json::Value;
use std::path::Path;

/// Every property name a schema declares (`properties`) or requires (`required`),
/// with where it is.
fn property_names(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let here = format!("{at}/{k}");
                if k == "properties" {
                    if let Value::Object(props) = child {
                        for name in props.keys() {
                            out.push((name.clone(), here.clone()));
                        }
                    }
                }
                if k == "required" {
                    if let Value::Array(names) = child {
                        for n in names.iter().filter_map(Value::as_str) {
                            out.push((n.to_string(), here.clone()));
                        }
                    }
                }
                property_names(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                property_names(item, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn camel_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

#[test]
fn every_schema_spells_its_keys_in_camel_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut schemas: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".schema.json"))
        .collect();
    schemas.sort();
    assert!(
        schemas.len() >= 18,
        "expected the schemas of every --json output in {}, found {schemas:?}",
        dir.display()
    );
    let mut wrong = Vec::new();
    let mut checked = 0;
    for path in &schemas {
        let text = std::fs::read_to_string(path).unwrap();
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        let mut names = Vec::new();
        property_names(&doc, "", &mut names);
        assert!(
            !names.is_empty(),
            "{}: declares no property",
            path.display()
        );
        for (name, at) in names {
            checked += 1;
            if !camel_case(&name) {
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                wrong.push(format!("{file}: {name} at {at}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "keys not in camelCase:\n{}",
        wrong.join("\n")
    );
    assert!(checked > 100, "only {checked} property names found");
}

#[test]
fn the_check_tells_the_styles_apart() {
    for good in ["packageId", "id", "nodesTouched", "sha256"] {
        assert!(camel_case(good), "{good}");
    }
    for bad in ["package_id", "PackageId", "dry-run", "jcr:uuid", ""] {
        assert!(!camel_case(bad), "{bad}");
    }
}
