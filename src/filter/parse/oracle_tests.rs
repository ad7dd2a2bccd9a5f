//! Differential test against the JDK's XML parser: when a JDK is available (`$JAVA`,
//! else `java` on PATH), `fixtures/filter/FilterOracle.java` reads every input the way
//! FileVault's `DefaultWorkspaceFilter.load` does, and jcrpack must accept and refuse
//! the same files and read the same model from the accepted ones. The known,
//! deliberate differences are skipped: jcrpack refuses DOCTYPE internal subsets and
//! patterns it cannot evaluate.

use std::path::PathBuf;
use std::process::Command;

use super::parse;
use crate::filter::{FilterError, PatternErrorKind, WorkspaceFilter};

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The model in the oracle's notation.
fn dump(filter: &WorkspaceFilter) -> String {
    let mut out = filter.version.to_string();
    for set in &filter.sets {
        out.push('|');
        out.push_str(&format!(
            "{},{},{},",
            hex(set.root()),
            set.mode,
            hex(set.kind.as_deref().unwrap_or(""))
        ));
        for rule in &set.rules {
            out.push(if rule.include { '+' } else { '-' });
            out.push(if rule.match_properties { 'P' } else { 'N' });
            out.push_str(&hex(rule.pattern.as_str()));
            out.push(';');
        }
    }
    out
}

/// Hand-made inputs around the acceptance rules.
const SNIPPETS: &[&str] = &[
    "<workspaceFilter/>",
    "<workspaceFilter version=\"\"/>",
    "<workspaceFilter version=\"1\"/>",
    "<workspaceFilter version=\" 1.0 \"/>",
    "<workspaceFilter version=\"0.5\"/>",
    "<workspaceFilter version=\"1.0f\"/>",
    "<workspaceFilter version=\"1.1\"/>",
    "<workspaceFilter version=\"x\"/>",
    "<workspaceFilter version=\"NaN\"/>",
    "<workspaceFilter vesion=\"2\"/>",
    "<filter root=\"/a\"/>",
    "<x:workspaceFilter xmlns:x=\"urn:x\"/>",
    "<workspaceFilter xmlns=\"urn:x\"><filter root=\"/a\"/></workspaceFilter>",
    "<workspaceFilter><filters/></workspaceFilter>",
    "<workspaceFilter><x:filter xmlns:x=\"urn:x\"/></workspaceFilter>",
    "<workspaceFilter><x:filter/></workspaceFilter>",
    "<workspaceFilter><filter x:root=\"/a\"/></workspaceFilter>",
    "<workspaceFilter><filter xml:lang=\"en\" root=\"/a\"/></workspaceFilter>",
    "<workspaceFilter><filter/><filter root=\"\"/><filter root=\"/a/\"/><filter root=\"//\"/><filter root=\"/a//\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\" /a \"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\nb\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a&#10;b&#x9;\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a&amp;&lt;&gt;&quot;&apos;\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a&nbsp;\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a&#1;\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"a<b\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"a>b\"/></workspaceFilter>",
    "<workspaceFilter><filter root='/a\"'/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" root=\"/b\"/></workspaceFilter>",
    "<workspaceFilter><filter root=/a/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" mode=\"MERGE\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" mode=\"merge_propert\u{131}es\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" mode=\" merge\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" mode=\"\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" mode=\"overwrite\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" type=\"\"/><filter root=\"/b\" type=\"cleanup\"/><filter root=\"/c\" type=\"x\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\"><include/></filter></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\"><include pattern=\"\"/></filter></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\"><include pattern=\"[\"/></filter></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\"><includes pattern=\"/a\"/></filter></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\"><include pattern=\"/a\"><x/>text</include></filter></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\"><include pattern=\"/a\" matchProperties=\"TRUE\"/><exclude pattern=\"/b\" matchProperties=\" true\"/><exclude pattern=\"/c\" matchProperties=\"yes\"/></filter></workspaceFilter>",
    "<workspaceFilter>text<!-- c --><?pi x?><![CDATA[<x>]]><filter root=\"/a\">t</filter></workspaceFilter>",
    "<workspaceFilter>&amp;&#x41;</workspaceFilter>",
    "<workspaceFilter>&nbsp;</workspaceFilter>",
    "<workspaceFilter>&#1;</workspaceFilter>",
    "<workspaceFilter><!-- a -- b --></workspaceFilter>",
    "<workspaceFilter><!-- a - b --></workspaceFilter>",
    "<workspaceFilter/><workspaceFilter/>",
    "<workspaceFilter/>trailing",
    "text<workspaceFilter/>",
    "<workspaceFilter/><!-- ok --><?pi ok?>  \n",
    "",
    "  ",
    "<?xml version=\"1.0\"?>",
    "\n<?xml version=\"1.0\"?><workspaceFilter/>",
    "<?xml version=\"1.1\"?><workspaceFilter/>",
    "<?xml version=\"2.0\"?><workspaceFilter/>",
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><workspaceFilter/>",
    "<workspaceFilter><filter root=\"/a\"></filtr></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\">",
    "<workspaceFilter></workspaceFilter></x>",
    "<!DOCTYPE workspaceFilter><workspaceFilter/>",
    "<!DOCTYPE workspaceFilter SYSTEM \"x.dtd\"><workspaceFilter/>",
    "<!DOCTYPE workspaceFilter PUBLIC \"-//x//y\" \"x.dtd\"><workspaceFilter/>",
    "<!DOCTYPE workspaceFilter SYSTEM \"x.dtd\"><workspaceFilter><filter root=\"&e;\"/></workspaceFilter>",
    "<workspaceFilter/><!DOCTYPE workspaceFilter>",
    "<workspaceFilter\n  version=\"1.0\"\n  ><filter\troot=\"/a\"\n/></workspaceFilter >",
    "<workspaceFilter><filter root=\"/é\u{1F600}\"/></workspaceFilter>",
    "<workspaceFilter><filter root=\"/a\" xmlns:p=\"urn:p\" p:root=\"/b\"/></workspaceFilter>",
    "<workspaceFilter xmlns:p=\"\"/>",
    "<workspaceFilter><filter root=\"/a\"><include pattern=\"(?i)/A\"/><exclude pattern=\"\\Q/a\\E.*\"/></filter></workspaceFilter>",
];

/// Deterministic single-character edits of a valid filter.
fn mutations(base: &str, count: usize) -> Vec<String> {
    const INSERTS: &[&str] = &[
        "<", ">", "&", "\"", "'", "/", "=", " ", "a", "]]>", "<!--", "&#", "\u{0}", ":",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let mut s = base.to_string();
            let mut at = (next() % (s.len() as u64 + 1)) as usize;
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            if next() % 3 == 0 && at < s.len() {
                let end = (at + 1..=s.len())
                    .find(|&e| s.is_char_boundary(e))
                    .unwrap_or(s.len());
                s.replace_range(at..end, "");
            } else {
                s.insert_str(at, INSERTS[(next() % INSERTS.len() as u64) as usize]);
            }
            s
        })
        .collect()
}

fn corpus_filters() -> Vec<PathBuf> {
    let root = crate::test_support::corpus();
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "filter.xml")
        .map(|e| e.into_path())
        .collect()
}

#[test]
fn reader_agrees_with_filevault_on_the_jdk() {
    let java = std::env::var("JAVA").unwrap_or_else(|_| "java".to_string());
    if let Err(e) = Command::new(&java).arg("-version").output() {
        panic!(
            "this differential test runs FileVault's filter reader on a JDK, and '{java}' could \
             not run ({e}): install a JDK (Debian: default-jdk-headless) or set JAVA"
        );
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for snippet in SNIPPETS {
        inputs.push((format!("snippet {snippet:?}"), snippet.as_bytes().to_vec()));
    }
    let fixtures = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/filter"));
    let mut bases = Vec::new();
    for entry in std::fs::read_dir(&fixtures)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "xml") {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
            if path.ends_with("basic.xml") || path.ends_with("hand-written.xml") {
                bases.push(String::from_utf8_lossy(&bytes).into_owned());
            }
            inputs.push((path.display().to_string(), bytes));
        }
    }
    for path in corpus_filters() {
        if let Ok(bytes) = std::fs::read(&path) {
            inputs.push((path.display().to_string(), bytes));
        }
    }
    for base in &bases {
        for mutated in mutations(base, 800) {
            inputs.push((format!("mutation {mutated:?}"), mutated.into_bytes()));
        }
    }
    let mut files = Vec::new();
    for (i, (_, bytes)) in inputs.iter().enumerate() {
        let file = dir.path().join(format!("{i}.xml"));
        std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("{e}"));
        files.push(file);
    }
    let oracle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/filter/FilterOracle.java"
    );
    let output = Command::new(&java)
        .arg(oracle)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        output.status.success(),
        "the JDK could not run the oracle {oracle} (a JDK, not only a JRE, runs a .java file): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answers: Vec<&str> = stdout.lines().collect();
    assert_eq!(answers.len(), inputs.len());
    let mut mismatches = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for ((name, bytes), answer) in inputs.iter().zip(answers) {
        let ours = parse(bytes, "x.xml");
        match (answer.strip_prefix("OK "), &ours) {
            (Some(model), Ok(filter)) => {
                accepted += 1;
                if dump(filter) != model {
                    mismatches.push(format!(
                        "{name}: FileVault reads {model}, jcrpack {}",
                        dump(filter)
                    ));
                }
            }
            (None, Err(_)) => refused += 1,
            (Some(_), Err(e)) => {
                let deliberate = matches!(e, FilterError::Doctype { .. })
                    || matches!(e, FilterError::Pattern { source, .. }
                        if matches!(source.kind, PatternErrorKind::Unsupported(_)));
                if !deliberate {
                    mismatches.push(format!("{name}: FileVault accepts, jcrpack: {e}"));
                }
            }
            (None, Ok(filter)) => mismatches.push(format!(
                "{name}: FileVault refuses, jcrpack reads {}",
                dump(filter)
            )),
        }
    }
    eprintln!("{accepted} inputs accepted and {refused} refused by both");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
