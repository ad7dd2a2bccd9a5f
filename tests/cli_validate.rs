//! CLI tests for `jcrpack validate`: exit codes, human output, JSON output and its
//! schema.

use assert_cmd::Command;
use std::io::Write;
use std::path::Path;

fn jcrpack() -> Command {
    Command::cargo_bin("jcrpack").expect("the jcrpack binary is built")
}

const GOOD: &str = "fixtures/validate/good";
const BROKEN: &str = "fixtures/validate/broken";

/// Zips a folder (entries in sorted order).
fn zip_folder(dir: &Path, out: &Path) {
    let file = std::fs::File::create(out).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .collect();
    files.sort_by(|a, b| a.path().cmp(b.path()));
    for e in files {
        let name = e
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        zip.start_file(name, opts).unwrap();
        zip.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn good_folder_passes() {
    let out = jcrpack()
        .args(["validate", GOOD])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, format!("{GOOD}: 0 errors, 0 warnings, 0 infos\n"));
}

#[test]
fn good_zip_passes() {
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("good.zip");
    zip_folder(Path::new(GOOD), &z);
    let out = jcrpack()
        .arg("validate")
        .arg(&z)
        .arg("--json")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["counts"]["error"], 0);
}

#[test]
fn broken_folder_fails_with_one_line_per_finding() {
    let out = jcrpack()
        .args(["validate", BROKEN])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn broken_folder_json_snapshot_and_schema() {
    let out = jcrpack()
        .args(["validate", BROKEN, "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    check_schema(&doc);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn a_missing_package_is_a_failure_and_a_bad_command_line_a_usage_error() {
    // A missing input is a failure (exit 1), as for every command; only what clap
    // refuses is a usage error (exit 2).
    jcrpack()
        .args(["validate", "fixtures/validate/does-not-exist"])
        .assert()
        .code(1);
    jcrpack().args(["validate"]).assert().code(2);
    jcrpack()
        .args(["validate", GOOD, "--bogus"])
        .assert()
        .code(2);
    // A folder that is not a package at all: an input that cannot be used.
    jcrpack()
        .args(["validate", "fixtures/validate"])
        .assert()
        .code(1);
}

#[test]
fn not_a_zip_fails() {
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("junk.zip");
    std::fs::write(&z, b"not a zip").unwrap();
    jcrpack().arg("validate").arg(&z).assert().code(1);
}

/// The JSON findings of `validate PKG --json` (exit 1 expected) whose message
/// contains `needle`.
fn findings_with(pkg: &str, needle: &str) -> Vec<serde_json::Value> {
    let out = jcrpack()
        .args(["validate", pkg, "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    check_schema(&doc);
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains(needle))
        .cloned()
        .collect()
}

#[test]
fn names_of_one_node_are_an_error_naming_both_entries() {
    let found = findings_with(
        "fixtures/hostile/cases/zip/unescape-collision.zip",
        "are both the repository node",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["validator"], "jackrabbit-docviewparser");
    assert_eq!(f["entry"], "jcr_root/content/jcr%3acontent");
    assert_eq!(f["nodePath"], "/content/jcr:content");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("'jcr_root/content/_jcr_content'")
            && m.contains("'jcr_root/content/jcr%3acontent'"),
        "{m}"
    );
    // The rest of the tree is still validated: the filter's root has content.
    assert!(findings_with(
        "fixtures/hostile/cases/zip/unescape-collision.zip",
        "orphaned"
    )
    .is_empty());
}

#[test]
fn corrupt_entries_are_errors() {
    for (pkg, entry, cause) in [
        (
            "fixtures/hostile/cases/zip/bad-crc-in-filter.zip",
            "jcr_root/content/a.txt",
            "is corrupt",
        ),
        (
            "fixtures/hostile/cases/zip/bomb-in-filter.zip",
            "jcr_root/content/zeros.bin",
            "a ratio above the limit",
        ),
    ] {
        let found = findings_with(pkg, cause);
        assert_eq!(found.len(), 1, "{pkg}: {found:#?}");
        assert_eq!(found[0]["severity"], "error");
        assert_eq!(found[0]["entry"], entry);
    }
}

/// Checks the document against schemas/validate.schema.json: required keys, no
/// unknown keys, enums and types (the subset of JSON Schema the schema uses).
fn check_schema(doc: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/validate.schema.json").unwrap())
            .unwrap();
    check(doc, &schema, "$");
}

fn check(v: &serde_json::Value, s: &serde_json::Value, at: &str) {
    use serde_json::Value;
    if let Some(e) = s.get("enum") {
        assert!(e.as_array().unwrap().contains(v), "{at}: {v} not in {e}");
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap()).collect(),
            _ => panic!("bad schema type"),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        assert!(ok, "{at}: {v} is not {types:?}");
    }
    if let (Some(props), Some(obj)) = (s.get("properties"), v.as_object()) {
        for r in s["required"].as_array().into_iter().flatten() {
            assert!(obj.contains_key(r.as_str().unwrap()), "{at}: missing {r}");
        }
        for (k, x) in obj {
            let ps = props
                .get(k)
                .unwrap_or_else(|| panic!("{at}: unknown key {k}"));
            check(x, ps, &format!("{at}.{k}"));
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(x, items, &format!("{at}[{i}]"));
        }
    }
}
