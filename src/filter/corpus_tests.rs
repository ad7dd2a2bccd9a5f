//! Round trip of every `filter.xml` in the shared corpus (FileVault's test files and
//! real AEM/Sling projects), plus FileVault's own write-back vectors.

use std::path::{Path, PathBuf};

use super::*;

fn corpus() -> Option<PathBuf> {
    Some(crate::test_support::corpus())
}

/// Every file in the corpus that is a workspace filter: `filter.xml` files and other
/// `*.xml` files whose root element is `<workspaceFilter`.
fn filter_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name == "filter.xml"
                || (name.ends_with(".xml")
                    && name.contains("filter")
                    && std::fs::read(p)
                        .is_ok_and(|b| b.windows(16).any(|w| w == b"<workspaceFilter")))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_filter_round_trips() {
    let Some(root) = corpus() else { return };
    let files = filter_files(&root);
    assert!(
        files.len() >= 100,
        "only {} filter files found",
        files.len()
    );
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    for file in &files {
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let filter = match WorkspaceFilter::parse(&bytes, &name) {
            Ok(f) => f,
            Err(e) => {
                refused.push((name, e));
                continue;
            }
        };
        if filter.to_xml() != bytes {
            failures.push(format!(
                "{name}: unmodified filter not written back byte for byte"
            ));
        }
        let canonical = filter.canonical_xml();
        match WorkspaceFilter::parse(canonical.as_bytes(), &name) {
            Ok(again) => {
                if again != filter {
                    failures.push(format!("{name}: parse(write(f)) != f"));
                }
                if again.canonical_xml() != canonical {
                    failures.push(format!("{name}: canonical form is not stable"));
                }
            }
            Err(e) => failures.push(format!("{name}: canonical form does not parse: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The only filters refused are FileVault's deliberately invalid test files.
    for (name, error) in &refused {
        let expected = if name.ends_with("workspacefilters/invalid-pattern.xml") {
            matches!(error, FilterError::Pattern { .. })
        } else if name.ends_with("invalid-package/META-INF/vault/filter.xml") {
            matches!(error, FilterError::InvalidMode { .. })
        } else {
            false
        };
        assert!(expected, "{name} refused: {error}");
    }
    eprintln!(
        "{} filters round-tripped, {} refused as expected",
        files.len() - refused.len(),
        refused.len()
    );
}

fn fv_file(name: &str) -> Option<Vec<u8>> {
    let root = corpus()?;
    let dir = root.join("filevault/vault-core/src/test/resources/org/apache/jackrabbit/vault/fs/filter/workspacefilters");
    let dir = if dir.is_dir() {
        dir
    } else {
        root.join("real/apache+jackrabbit-filevault/vault-core/src/test/resources/org/apache/jackrabbit/vault/fs/filter/workspacefilters")
    };
    match std::fs::read(dir.join(name)) {
        Ok(bytes) => Some(bytes),
        Err(e) => panic!(
            "{name} is not in the corpus at {} ({e}): this test needs FileVault's filter fixtures",
            dir.display()
        ),
    }
}

/// WorkspaceFilterTest.testToSource: complex.xml regenerated equals complex-expected.xml.
#[test]
fn complex_filter_regenerates_like_filevault() {
    let (Some(complex), Some(expected)) = (fv_file("complex.xml"), fv_file("complex-expected.xml"))
    else {
        return;
    };
    let mut filter =
        WorkspaceFilter::parse(&complex, "complex.xml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(filter.to_xml(), complex);
    filter.reset_source();
    assert_eq!(filter.to_xml(), expected);
}

/// WorkspaceFilterTest.testLoadingWorkspaceFilter: items.xml.
#[test]
fn items_filter_loads_and_keeps_its_source() {
    let Some(items) = fv_file("items.xml") else {
        return;
    };
    let filter = WorkspaceFilter::parse(&items, "items.xml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(filter.sets.len(), 1);
    let set = &filter.sets[0];
    assert_eq!(set.root(), "/var/foo/bar");
    let nodes: Vec<&Rule> = set.node_rules().collect();
    let props: Vec<&Rule> = set.property_rules().collect();
    assert_eq!((nodes.len(), props.len()), (1, 1));
    assert!(!nodes[0].include && !props[0].include);
    assert_eq!(filter.to_xml(), items, "comments and formatting are kept");
    let mut changed = filter.clone();
    changed.sets.push(FilterSet::new("/newroot"));
    assert_ne!(changed.to_xml(), items);
}

/// WorkspaceFilterTest.testEquals and testInvalidPattern.
#[test]
fn equality_and_invalid_pattern_file() {
    let (Some(complex), Some(mixed)) = (fv_file("complex.xml"), fv_file("mixed.xml")) else {
        return;
    };
    let a = WorkspaceFilter::parse(&complex, "complex.xml").unwrap_or_else(|e| panic!("{e}"));
    let b = WorkspaceFilter::parse(&complex, "complex.xml").unwrap_or_else(|e| panic!("{e}"));
    let c = WorkspaceFilter::parse(&mixed, "mixed.xml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    if let Some(invalid) = fv_file("invalid-pattern.xml") {
        let e = WorkspaceFilter::parse(&invalid, "invalid-pattern.xml")
            .err()
            .unwrap_or_else(|| panic!("invalid-pattern.xml accepted"));
        assert!(matches!(e, FilterError::Pattern { .. }), "{e}");
        assert_eq!((e.location().line, e.location().column), (21, 28));
    }
}
