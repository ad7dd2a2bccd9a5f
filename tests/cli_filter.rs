//! CLI tests for `jcrpack filter explain` and the exit-code contract.

use assert_cmd::Command;

fn jcrpack() -> Command {
    Command::cargo_bin("jcrpack").expect("the jcrpack binary is built")
}

const FILTER: &str = "fixtures/example/META-INF/vault/filter.xml";

#[test]
fn explain_names_the_deciding_rule() {
    let out = jcrpack()
        .args([
            "filter",
            "explain",
            FILTER,
            "/content/dam/wknd-lite/x/jcr:content/renditions/a",
            "/etc",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn explain_json_follows_its_schema() {
    let out = jcrpack()
        .args([
            "filter",
            "explain",
            FILTER,
            "/content/wknd-lite/en",
            "--json",
        ])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("schemas/filter-explain.schema.json").unwrap(),
    )
    .unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(doc.get(key.as_str().unwrap()).is_some(), "missing {key}");
    }
    let item_schema = &schema["properties"]["paths"]["items"];
    for item in doc["paths"].as_array().unwrap() {
        for key in item_schema["required"].as_array().unwrap() {
            assert!(
                item.get(key.as_str().unwrap()).is_some(),
                "missing {key} in {item}"
            );
        }
        let modes = item_schema["properties"]["importMode"]["enum"]
            .as_array()
            .unwrap();
        assert!(modes.contains(&item["importMode"]));
    }
    assert_eq!(doc["paths"][0]["contained"], true);
    assert_eq!(doc["paths"][0]["importMode"], "merge_properties");
}

#[test]
fn a_missing_filter_is_a_failure_naming_the_file() {
    jcrpack()
        .args(["filter", "explain", "no/such/filter.xml", "/a"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no/such/filter.xml"));
}

#[test]
fn a_malformed_filter_reports_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("filter.xml");
    std::fs::write(&f, "<workspaceFilter version=\"1.0\">\n  <filter root=\"/a\" mode=\"sideways\"/>\n</workspaceFilter>\n").unwrap();
    jcrpack()
        .args(["filter", "explain", f.to_str().unwrap(), "/a"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("filter.xml:2:"));
}

#[test]
fn usage_errors_exit_2() {
    jcrpack()
        .args(["filter", "explain", FILTER])
        .assert()
        .code(2);
    jcrpack()
        .args(["filter", "explain", FILTER, "relative/path"])
        .assert()
        .code(2);
    jcrpack().args(["no-such-command"]).assert().code(2);
}

#[test]
fn help_works() {
    jcrpack()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicates::str::contains("filter"));
}
