//! Content never forges output (issue 15, class 3): a property value, a label, a
//! file name or a package description holding an escape sequence, a carriage return
//! and a line break followed by a forged `D /content/x` reaches every printer as one
//! escaped line: `ls`, `dump`, `diff`, `history`, `restore`'s change list,
//! `backup list` and `backup show`, `info` and `validate`, and error messages.
//! DEL, the C1 controls and U+2028/U+2029 reach no printer raw either: text printers
//! escape them, JSON writes `\uXXXX`, DocView and system view character references,
//! and each reads back as the same value.

use assert_cmd::Command;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// What the content tries to print: colour, a carriage return, a forged line.
const EVIL: &str = "\u{1b}[31mred\r\nD /content/x";

fn jcrpack() -> Command {
    let mut c = Command::cargo_bin("jcrpack").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c.timeout(Duration::from_secs(60));
    c
}

/// Runs `args` in `cwd`; returns stdout and stderr together.
fn run(cwd: &Path, args: &[&str]) -> String {
    let out = jcrpack().current_dir(cwd).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{args:?}: {text}");
    text
}

/// The output holds no raw escape or carriage return, no forged line, and shows
/// the content escaped (`must_show`: where the printer shows it).
fn clean(what: &str, text: &str, must_show: bool) {
    assert!(!text.contains('\u{1b}'), "{what}: a raw ESC: {text:?}");
    assert!(!text.contains('\r'), "{what}: a raw CR: {text:?}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("D /content/x") || l.starts_with("D content")),
        "{what}: a forged line: {text}"
    );
    if must_show {
        assert!(
            text.contains(r"\u{1b}[31mred\r\nD /content/x"),
            "{what}: the content is not shown escaped: {text}"
        );
    }
}

fn zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn repository_printers_escape_values_labels_and_descriptions() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    run(d, &["init", "repo"]);
    // YAML double quotes carry any character: the value goes into the repository.
    std::fs::create_dir(d.join("boot")).unwrap();
    std::fs::write(
        d.join("boot/website.evil.yaml"),
        "'evil':\n  'jcr:primaryType': 'mgnl:content'\n  'v': \"\\e[31mred\\r\\nD /content/x\"\n",
    )
    .unwrap();
    let out = run(d, &["bootstrap", "load", "boot", "--repo", "repo"]);
    assert!(out.contains("loaded 1 files"), "{out}");
    // A file name with the same bytes, named in the history's description.
    // (A file name holds no `/`: its forged line names another file.)
    let file = "\u{1b}[31mred\r\nD content.xml";
    std::fs::write(
        d.join(file),
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
    )
    .unwrap();
    let out = run(d, &["load", file, "--at", "/", "--repo", "repo"]);
    clean("load", &out, false);
    let history = run(d, &["history", "--repo", "repo"]);
    clean("history", &history, false);
    assert!(
        history.contains(r"load \u{1b}[31mred\r\nD content.xml at /"),
        "{history}"
    );
    let out = run(d, &["dump", "--repo", "repo", "-w", "website", "/evil"]);
    clean("dump json", &out, false);
    let out = run(
        d,
        &[
            "dump", "--repo", "repo", "-w", "website", "/evil", "--format", "docview",
        ],
    );
    clean("dump docview", &out, false);
    // A backup labelled with the same bytes, then the node removed: the restore's
    // change list shows the value.
    run(d, &["backup", "create", "--repo", "repo", "--label", EVIL]);
    let list = run(d, &["backup", "list", "--repo", "repo"]);
    clean("backup list", &list, true);
    let json = jcrpack()
        .current_dir(d)
        .args(["backup", "list", "--json", "--repo", "repo"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let id = doc["backups"][0]["id"].as_str().unwrap().to_string();
    clean(
        "backup show",
        &run(d, &["backup", "show", &id, "--repo", "repo"]),
        true,
    );
    run(d, &["rm", "/evil", "-w", "website", "--repo", "repo"]);
    let out = run(
        d,
        &[
            "restore",
            &id,
            "--dry-run",
            "-v",
            "-w",
            "website",
            "--repo",
            "repo",
        ],
    );
    assert!(out.contains("+ [website] /evil"), "{out}");
    clean("restore change list", &out, true);
    // diff: a package that sets the value back to plain text shows the old one.
    run(
        d,
        &["restore", &id, "--yes", "-w", "website", "--repo", "repo"],
    );
    zip(
        &d.join("p.zip"),
        &[
            (
                "META-INF/vault/filter.xml",
                br#"<workspaceFilter version="1.0"><filter root="/evil"/></workspaceFilter>"#,
            ),
            (
                "jcr_root/evil/.content.xml",
                br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mgnl="http://www.magnolia.info/jcr/mgnl" jcr:primaryType="mgnl:content" v="plain"/>"#,
            ),
        ],
    );
    let out = run(d, &["diff", "p.zip", "-w", "website", "--repo", "repo"]);
    assert!(out.contains("~ /evil"), "{out}");
    clean("diff", &out, true);
}

#[test]
fn package_printers_escape_descriptions_patterns_and_names() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // XML carries a carriage return and a line break as character references.
    let props = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties>
<entry key="group">g</entry>
<entry key="name">n</entry>
<entry key="version">1</entry>
<entry key="description">red&#13;&#10;D /content/x</entry>
</properties>"#;
    zip(
        &d.join("p.zip"),
        &[
            ("META-INF/vault/properties.xml", props.as_bytes()),
            (
                "META-INF/vault/filter.xml",
                br#"<workspaceFilter version="1.0"><filter root="/content"><include pattern="/content/(a&#10;D /content/x"/></filter></workspaceFilter>"#,
            ),
            (
                "jcr_root/content/.content.xml",
                br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#,
            ),
        ],
    );
    clean("info", &run(d, &["info", "p.zip"]), false);
    let out = run(d, &["validate", "p.zip"]);
    clean("validate", &out, false);
    // Entry names that unescape to an escape sequence and a line break: `ls` lists
    // the package or refuses it, escaped either way.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile/cases/zip");
    for case in [
        "percent-newline.zip",
        "percent-escape.zip",
        "control-in-name.zip",
    ] {
        let p = fixtures.join(case);
        let p = p.to_str().unwrap();
        for args in [
            &["ls", p, "/"][..],
            &["info", p],
            &["validate", p],
            &["dump", p],
        ] {
            let out = run(d, args);
            assert!(!out.contains('\u{1b}'), "{args:?}: a raw ESC: {out:?}");
            assert!(
                !out.lines().any(|l| l.starts_with("D ")),
                "{args:?}: a forged line: {out}"
            );
        }
    }
}

/// DEL, C1 controls (U+009B is a CSI, U+0085 a line break to some readers) and the
/// Unicode line and paragraph separators: what `is_control` or serde_json alone miss.
const C1: &str = "a\u{7f}b\u{9b}31mc\u{85}d\u{2028}e\u{2029}f";

/// No raw DEL, C1 control or U+2028/U+2029 in `text`.
fn no_raw_c1(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'))
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in {text:?}");
}

#[test]
fn del_c1_controls_and_separators_are_escaped_by_every_printer_and_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    run(d, &["init", "repo"]);
    // XML carries them as character references; the file name carries them raw.
    let xml = r#"<c1 xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" v="a&#x7f;b&#x9b;31mc&#x85;d&#x2028;e&#x2029;f" m="[a&#x9b;,b&#x2028;]"/>"#;
    let file = format!("c1{C1}.xml");
    std::fs::write(d.join(&file), xml).unwrap();
    let out = run(d, &["load", &file, "--at", "/", "--repo", "repo"]);
    no_raw_c1("load", &out);
    let history = run(d, &["history", "--repo", "repo"]);
    no_raw_c1("history", &history);
    assert!(history.contains(r"\u{9b}"), "{history}");
    // JSON: `\uXXXX`, the same string for a JSON reader.
    let json = run(d, &["dump", "--repo", "repo", "/c1"]);
    no_raw_c1("dump json", &json);
    assert!(
        json.contains(r"\u009b") && json.contains(r"\u2028"),
        "{json}"
    );
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["properties"]["v"]["value"], C1, "{json}");
    // DocView and system view: character references, read back the same.
    for (format, reference) in [("docview", "&#x9b;"), ("sysview", "&#155;")] {
        let xml = run(d, &["dump", "--repo", "repo", "/c1", "--format", format]);
        no_raw_c1(format, &xml);
        assert!(xml.contains(reference), "{format}: {xml}");
        let back = format!("back-{format}.xml");
        std::fs::write(d.join(&back), &xml).unwrap();
        let parent = format!("{format}.xml");
        std::fs::write(
            d.join(&parent),
            format!(r#"<{format} xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>"#),
        )
        .unwrap();
        run(d, &["load", &parent, "--at", "/", "--repo", "repo"]);
        let at = format!("/{format}");
        let out = run(d, &["load", &back, "--at", &at, "--repo", "repo"]);
        assert!(!out.contains("error"), "{format}: {out}");
        let again = run(d, &["dump", "--repo", "repo", &at]);
        let again: serde_json::Value =
            serde_json::from_str(&again).unwrap_or_else(|e| panic!("{format}: {e}: {again}"));
        assert_eq!(
            again["children"][0]["properties"], doc["properties"],
            "{format}"
        );
    }
    // A package exported and imported elsewhere: the same value.
    let out = run(
        d,
        &["export", "--repo", "repo", "--root", "/c1", "-o", "c1.zip"],
    );
    no_raw_c1("export", &out);
    for args in [
        &["info", "c1.zip"][..],
        &["validate", "c1.zip"],
        &["ls", "c1.zip", "/"],
        &["dump", "c1.zip"],
    ] {
        no_raw_c1(&format!("{args:?}"), &run(d, args));
    }
    run(d, &["init", "other"]);
    run(d, &["import", "c1.zip", "--repo", "other", "-q"]);
    let other = run(d, &["dump", "--repo", "other", "/c1"]);
    let other: serde_json::Value = serde_json::from_str(&other).unwrap();
    assert_eq!(other["properties"], doc["properties"]);
    // Backups, restore and diff.
    run(d, &["backup", "create", "--repo", "repo", "--label", C1]);
    let list = run(d, &["backup", "list", "--repo", "repo"]);
    no_raw_c1("backup list", &list);
    let listed = jcrpack()
        .current_dir(d)
        .args(["backup", "list", "--json", "--repo", "repo"])
        .output()
        .unwrap();
    no_raw_c1(
        "backup list --json",
        &String::from_utf8_lossy(&listed.stdout),
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let id = listed["backups"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(listed["backups"][0]["label"], C1);
    no_raw_c1(
        "backup show",
        &run(d, &["backup", "show", &id, "--repo", "repo"]),
    );
    run(d, &["rm", "/c1", "--repo", "repo"]);
    let out = run(d, &["restore", &id, "--dry-run", "-v", "--repo", "repo"]);
    assert!(out.contains("/c1"), "{out}");
    no_raw_c1("restore -v", &out);
    let out = run(
        d,
        &["restore", &id, "--dry-run", "--json", "--repo", "repo"],
    );
    no_raw_c1("restore --json", &out);
    run(d, &["restore", &id, "--yes", "--repo", "repo"]);
    zip(
        &d.join("p.zip"),
        &[
            (
                "META-INF/vault/filter.xml",
                br#"<workspaceFilter version="1.0"><filter root="/c1"/></workspaceFilter>"#,
            ),
            (
                "jcr_root/c1/.content.xml",
                br#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" v="plain"/>"#,
            ),
        ],
    );
    let out = run(d, &["diff", "p.zip", "--repo", "repo"]);
    assert!(out.contains("~ /c1"), "{out}");
    no_raw_c1("diff", &out);
    // The JSON is streamed through the same escaping as every other --json.
    let out = jcrpack()
        .current_dir(d)
        .args(["diff", "p.zip", "--json", "--repo", "repo"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    no_raw_c1("diff --json", &text);
    assert!(text.contains("\\u009b"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["changes"][0]["path"], "/c1", "{text}");
}
