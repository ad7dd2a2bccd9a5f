use super::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn options(seed: u64) -> GenerateOptions {
    GenerateOptions {
        seed,
        nodes: 3_000,
        binary_bytes: 300_000,
    }
}

#[test]
fn same_seed_gives_identical_bytes() {
    let t = tempfile::tempdir().unwrap();
    let a = generate(&t.path().join("a"), &options(7)).unwrap();
    let b = generate(&t.path().join("b"), &options(7)).unwrap();
    assert_eq!(a, b);
    let fa = files(&t.path().join("a"));
    assert_eq!(fa, files(&t.path().join("b")));
    assert_eq!(fa.len() as u64, a.files);
    let c = generate(&t.path().join("c"), &options(8)).unwrap();
    assert_ne!(
        fa,
        files(&t.path().join("c")),
        "another seed, other content"
    );
    let _ = c;
}

#[test]
fn sizes_are_close_to_the_request_and_files_parse() {
    let t = tempfile::tempdir().unwrap();
    let s = generate(t.path(), &options(1)).unwrap();
    assert!(s.nodes > 2_400 && s.nodes < 3_600, "{s:?}");
    assert!(
        s.binary_bytes > 290_000 && s.binary_bytes <= 310_000,
        "{s:?}"
    );
    let all = files(t.path());
    let mut docviews = 0;
    for (p, bytes) in &all {
        let name = p.to_string_lossy();
        if name.ends_with(".content.xml") || name.ends_with("_rep_policy.xml") {
            let doc =
                crate::docview::parse(bytes.as_slice(), &name).unwrap_or_else(|e| panic!("{e}"));
            // Exactly FileVault's format: writing what was read gives the same bytes.
            assert_eq!(&crate::docview::writer::to_vec(&doc), bytes, "{name}");
            assert_prefixes_declared(&doc, &name);
            docviews += 1;
        }
    }
    assert!(docviews > 100);
    let names: Vec<String> = all
        .keys()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for needle in [
        "_jcr_content/renditions/original",
        "_cq_tags",
        "_rep_policy.xml",
        "%3f",
        "%25",
        "original.dir/.content.xml",
    ] {
        assert!(
            names.iter().any(|n| n.contains(needle)),
            "no file name with {needle}"
        );
    }
    assert!(t.path().join("META-INF/vault/filter.xml").is_file());
    assert!(t.path().join("META-INF/vault/properties.xml").is_file());
}

/// Every prefix of an element name, a property name or a Name value is declared in
/// the document, so what imports it can also write it (system view needs a URI).
fn assert_prefixes_declared(doc: &crate::docview::DocViewDocument, file: &str) {
    fn visit(el: &crate::docview::DocViewElement, used: &mut Vec<String>) {
        let mut mark = |s: &str| {
            if let Some((p, _)) = s.split_once(':') {
                used.push(p.to_string());
            }
        };
        mark(&el.name);
        for p in &el.properties {
            mark(&p.name);
            if matches!(p.ptype, crate::value::PropertyType::Name) {
                p.values.iter().for_each(|v| mark(v));
            }
        }
        for c in &el.children {
            visit(c, used);
        }
    }
    let mut used = Vec::new();
    visit(&doc.root, &mut used);
    for p in used {
        assert!(
            doc.namespaces.iter().any(|(q, _)| *q == p),
            "{file}: prefix {p} used but not declared"
        );
    }
}

#[test]
fn refuses_a_non_empty_folder() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("x"), b"x").unwrap();
    assert!(matches!(
        generate(t.path(), &options(1)),
        Err(GenerateError::NotEmpty(_))
    ));
}
