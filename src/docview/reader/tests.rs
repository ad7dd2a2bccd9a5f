use super::*;
use crate::docview::parse;
use crate::value::PropertyType;

/// Reads `s`; the check-only pass accepts it too.
fn doc(s: &str) -> DocViewDocument {
    let d = parse(s.as_bytes(), "t.xml").unwrap();
    assert_eq!(
        check_bytes(s.as_bytes(), "t.xml", &Limits::default()),
        Ok(())
    );
    d
}

/// The error reading `s`; the check-only pass reports the very same one.
fn err(s: &str) -> DocViewError {
    with_limits(s.as_bytes(), &Limits::default())
}

/// The error reading `bytes` under `limits`, the same from the check-only pass.
fn with_limits(bytes: &[u8], limits: &Limits) -> DocViewError {
    let e = parse_with(bytes, "t.xml", limits).unwrap_err();
    assert_eq!(check_bytes(bytes, "t.xml", limits), Err(e.clone()));
    e
}

#[test]
fn reads_nodes_properties_and_placeholders() {
    let d = doc(r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:cq="http://www.day.com/jcr/cq/1.0"
    jcr:primaryType="cq:Page" tags="[a,b\,c]" count="{Long}42">
    <jcr:content jcr:primaryType="cq:PageContent" jcr:title="Hello"/>
    <child/>
    <foo_x005b_2_x005d_ jcr:primaryType="nt:unstructured"/>
</jcr:root>"#);
    assert!(d.root_is_jcr_root);
    assert_eq!(d.root.primary_type(), Some("cq:Page"));
    let tags = d.root.property("tags").unwrap();
    assert!(tags.multiple);
    assert_eq!(tags.values, vec!["a", "b,c"]);
    assert_eq!(tags.ptype, PropertyType::Undefined);
    assert_eq!(d.root.property("count").unwrap().ptype, PropertyType::Long);
    assert_eq!(d.root.children.len(), 3);
    assert_eq!(d.root.children[0].name, "jcr:content");
    assert!(d.root.children[1].is_placeholder());
    assert_eq!(d.root.children[2].segment(), "foo[2]");
    assert_eq!(d.root.children[0].location.line, 4);
    assert_eq!(
        d.namespaces[1],
        (
            "cq".to_string(),
            "http://www.day.com/jcr/cq/1.0".to_string()
        )
    );
}

#[test]
fn any_prefix_for_the_jcr_namespace() {
    let d =
        doc(r#"<jc:root xmlns:jc="http://www.jcp.org/jcr/1.0" jc:primaryType="nt:unstructured"/>"#);
    assert!(d.root_is_jcr_root);
    assert_eq!(d.root.properties[0].name, "jc:primaryType");
}

#[test]
fn same_prefix_for_two_uris_is_kept_apart() {
    let d = doc(
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:a="urn:one" a:x="1"><c xmlns:a="urn:two" a:y="2"/></jcr:root>"#,
    );
    assert_eq!(d.root.properties[0].name, "a:x");
    assert_eq!(d.root.children[0].properties[0].name, "a0:y");
    assert_eq!(d.uri("a0"), Some("urn:two"));
}

#[test]
fn attribute_values_are_normalised() {
    let d = doc("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" p=\"a\nb&#xa;c&amp;\"/>");
    assert_eq!(d.root.properties[0].values[0], "a b\nc&");
}

#[test]
fn errors_name_line_and_column() {
    let e = err(
        "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  <a x=\"{Foo}1\"/>\n</jcr:root>",
    );
    assert_eq!((e.location.line, e.location.column), (2, 6), "{e}");
    assert!(e.message.contains("unknown type hint"), "{e}");
    let e = err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  <a>\n</jcr:root>");
    assert_eq!(e.location.line, 3, "{e}");
    let e = err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  <cq:a jcr:primaryType=\"x\"/>\n</jcr:root>");
    assert!(e.message.contains("not declared"), "{e}");
    assert_eq!(e.location.line, 2);
    let e = err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  <a>");
    assert!(e.message.contains("not closed"), "{e}");
    let e = err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" a=\"1\" a=\"2\"/>");
    assert!(
        e.message.contains("attribute") || e.message.contains("twice"),
        "{e}"
    );
}

#[test]
fn refuses_doctype_and_entities() {
    let e = err("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" p=\"&e;\"/>");
    assert!(e.message.contains("DOCTYPE"), "{e}");
    assert_eq!(e.location.line, 2);
    let e = err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" p=\"&e;\"/>");
    assert!(e.message.contains("&e;"), "{e}");
}

#[test]
fn refuses_bad_bytes_and_characters() {
    let e = with_limits(
        &b"<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"\n p=\"\xff\"/>"[..],
        &Limits::default(),
    );
    assert_eq!(e.location.line, 2, "{e}");
    assert!(e.message.contains("UTF-8"));
    let e = err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" p=\"\u{1}\"/>");
    assert!(e.message.contains("U+0001"), "{e}");
}

#[test]
fn enforces_limits() {
    let deep = format!(
        "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">{}{}</jcr:root>",
        "<a>".repeat(20),
        "</a>".repeat(20)
    );
    let limits = Limits {
        max_depth: 10,
        ..Limits::default()
    };
    let e = with_limits(deep.as_bytes(), &limits);
    assert!(e.message.contains("deeper"), "{e}");
    let limits = Limits {
        max_attributes: 2,
        ..Limits::default()
    };
    let e = with_limits(
        "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" a=\"1\" b=\"2\" c=\"3\"/>".as_bytes(),
        &limits,
    );
    assert!(e.message.contains("attributes"), "{e}");
}

#[test]
fn text_is_ignored_with_a_warning() {
    let d = doc("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">hello</jcr:root>");
    assert_eq!(d.warnings.len(), 1);
    assert!(
        err("<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"/>junk")
            .message
            .contains("outside")
    );
}

#[test]
fn sniffs_like_filevault() {
    assert!(crate::docview::is_docview(
        b"<?xml version=\"1.0\"?><jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"/>"
    ));
    assert!(!crate::docview::is_docview(
        b"<jcr:root xmlns:jcr='http://www.jcp.org/jcr/1.0'/>"
    ));
    assert!(!crate::docview::is_docview(b"<sv:node/>"));
}

/// Every `.content.xml` in the shared corpus reads (where the corpus exists).
#[test]
fn reads_every_corpus_docview() {
    let root = crate::test_support::corpus();
    assert!(
        root.exists(),
        "this test reads the shared corpus, and {} does not exist: check out ../shared beside the project",
        root.display()
    );
    let mut n = 0;
    let mut failures = Vec::new();
    for e in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_name() != ".content.xml" || !e.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        n += 1;
        if let Err(err) = parse(&bytes[..], &e.path().display().to_string()) {
            failures.push(err.to_string());
        }
    }
    assert!(n > 100, "only {n} files");
    // FileVault's test data holds deliberately broken files; they all fail with a location.
    for f in &failures {
        assert!(f.contains(':'), "{f}");
    }
    assert!(
        failures.len() * 50 < n,
        "{} of {n} failed: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
}

/// Hostile-input finding: every element was located by scanning the file from its
/// start, so a one-line file of many elements took quadratic time (20,000 elements:
/// over a minute). Now located incrementally; 50,000 elements parse in well under a
/// second in a release build (the bound is loose for debug builds and busy machines).
#[test]
fn many_elements_on_one_line_parse_in_linear_time() {
    let mut s = String::from(
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured">"#,
    );
    for i in 0..50_000 {
        s.push_str(&format!("<n{i} p=\"x\"/>"));
    }
    s.push_str("</jcr:root>");
    let start = std::time::Instant::now();
    let d = doc(&s);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(d.root.children.len(), 50_000);
    let last = &d.root.children[49_999];
    let offset = s.find("<n49999 ").unwrap();
    assert_eq!(
        last.location,
        Location::from_offset("t.xml", s.as_bytes(), offset)
    );
}

/// Hostile-input finding: each attribute name was searched for from the start of its
/// tag and each property name compared with all before it, quadratic in the number
/// of attributes (10,000 attributes: 10 s; 30,000: 80 s).
#[test]
fn many_attributes_parse_in_linear_time() {
    let mut s = String::from(
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured""#,
    );
    for i in 0..50_000 {
        s.push_str(&format!(" p{i}=\"v{i}\""));
    }
    s.push_str("/>");
    let start = std::time::Instant::now();
    let d = doc(&s);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(d.root.properties.len(), 50_001);
    // The name search resumes after the previous attribute, and still finds each
    // name where it is written (not inside an earlier value).
    let e = err(r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" a="b=" b="{Nope}x"/>"#);
    assert_eq!(e.location.column, 57, "{e}");
    let e = err(r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" a="é" q="" q="x"/>"#);
    assert!(
        e.message.contains("duplicated attribute") || e.message.contains("given twice"),
        "{e}"
    );
}

/// Fuzz finding (`docview_document`): the attribute `:primarr:titleyType` was read as
/// the unprefixed property `primarr:titleyType`, which the writer wrote back with an
/// undeclared prefix. Names that are not QNames are refused, as Xerces refuses them.
#[test]
fn names_that_are_not_qnames_are_refused() {
    const JCR: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0""#;
    for bad in [
        format!(r#"<jcr:root {JCR} :primarr:titleyType="cq:Page"/>"#),
        format!(r#"<jcr:root {JCR} a:b:c="x"/>"#),
        format!(r#"<jcr:root {JCR} jcr:="x"/>"#),
        format!(r#"<jcr:root {JCR}><:a jcr:primaryType="nt:unstructured"/></jcr:root>"#),
        format!(r#"<jcr:root {JCR} xmlns:="http://x"/>"#),
        // Fuzz finding: a prefix holding characters no XML name has (`~`, `"`),
        // written back as broken markup.
        format!(r#"<jcr:root {JCR} xmlns:a~b="http://x" c="d"/>"#),
        r##"<?xmlsion="1.0" encoding="UTF-"8?>
<oot xmlns:juKKteKKGr~~3pKKKKKGrou2p"w.knd-="WJKjjcp.jjjjjp"wknd-l'''''/''ejjjj'''''''iite"rjcpGr~~1p="WKND- Lite"/>
"##
        .to_string(),
        format!(r#"<jcr:root {JCR} a~b="x"/>"#),
        // Fuzz finding: `< />` was an element without a name, written back as `</>`.
        format!("<jcr:root {JCR}>\n<\n  />\n</jcr:root>"),
    ] {
        let e = err(&bad);
        assert!(
            e.message.contains("not a valid qualified name")
                || e.message.contains("not a valid namespace declaration")
                || e.message.contains("a tag without a name"),
            "{bad}: {e}"
        );
        assert_eq!(e.location.line, if bad.contains('\n') { 2 } else { 1 }, "{e}");
    }
}

/// Fuzz finding (`docview_document`): the element `<_x005B_1_x005d_/>` decodes to
/// `[1]`, a same-name-sibling index without a name, and was written back as `< />`.
#[test]
fn an_element_that_decodes_to_no_name_is_refused() {
    let e = err("<_x005B_1_x005d_/>\t");
    assert!(e.message.contains("names no node"), "{e}");
    assert_eq!((e.location.line, e.location.column), (1, 1), "{e}");
}

/// Fuzz finding (`docview_document`, session 4): `<teaser_x003a_>` decodes to
/// `teaser:`, which was written back as a tag that is not a qualified name.
/// Decoded names with a colon or a path character are not node names.
#[test]
fn an_element_that_decodes_to_an_invalid_jcr_name_is_refused() {
    let root = "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\">\n  ";
    for bad in [
        "<teaser_x003a_/>",
        "<a_x002f_b/>",
        "<a_x003a_b/>",
        "<_x002a_/>",
    ] {
        let e = err(&format!("{root}{bad}\n</jcr:root>"));
        assert!(
            e.message.contains("not a valid JCR node name"),
            "{bad}: {e}"
        );
        assert_eq!((e.location.line, e.location.column), (2, 3), "{bad}: {e}");
    }
    // Escapes that decode to valid names still read.
    let d = doc(&format!(
        "{root}<_x0031_23 jcr:primaryType=\"nt:unstructured\"/>\n</jcr:root>"
    ));
    assert_eq!(d.root.children[0].name, "123");
}

/// Two attributes naming one property (two prefixes of one namespace) are refused;
/// attributes with other names, however many, are not.
#[test]
fn one_property_written_twice_is_refused() {
    let e = err(
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:a="urn:u" xmlns:b="urn:u" a:x="1" a:y="2" b:x="3"/>"#,
    );
    assert!(e.message.contains("property 'a:x' given twice"), "{e}");
    let mut s = String::from(r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0""#);
    for i in 0..2000 {
        s.push_str(&format!(" p{i}=\"{i}\""));
    }
    s.push_str("/>");
    assert_eq!(doc(&s).root.properties.len(), 2000);
}

/// The check-only pass (`jcrpack build`) reports what the reader reports, where it
/// reports it: each error the reader can find, and documents that are fine.
#[test]
fn check_bytes_reports_what_parse_reports() {
    const NS: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0""#;
    let fine = [
        format!("<jcr:root {NS}/>"),
        format!("\u{FEFF}<jcr:root {NS} a=\"{{Long}}[1,2]\">text<b c=\"x\\u0041\"/></jcr:root>"),
        format!("<jcr:root {NS}><a/><a/></jcr:root>"),
        format!("<node {NS} jcr:primaryType=\"nt:unstructured\"/>"),
        format!("<jcr:root {NS} xmlns=\"urn:d\"><a xmlns=\"urn:e\" b=\"1\"/></jcr:root>"),
    ];
    for text in &fine {
        doc(text);
    }
    let many: String = (0..40).map(|i| format!(" p{i}=\"{i}\"")).collect();
    let broken = [
        String::new(),
        "<!-- only a comment -->".to_string(),
        format!("<jcr:root {NS}/><second/>"),
        format!("<jcr:root {NS}/>text"),
        format!("<jcr:root {NS}>\n  <é>\n    <b>\n"),
        format!("<jcr:root {NS}>\n<a>\n</b></jcr:root>"),
        format!("<jcr:root {NS} a=\"1\" a=\"2\"/>"),
        format!("<jcr:root {NS}{many} p39=\"again\"/>"),
        format!("<jcr:root {NS} xmlns:x=\"urn:x\" x:a=\"1\" x:a=\"2\"/>"),
        format!("<jcr:root {NS} a=\"{{Nope}}1\"/>"),
        format!("<jcr:root {NS} a=\"{{Long\"/>"),
        format!("<jcr:root {NS} a=\"[x\\u12\"/>"),
        format!("<jcr:root {NS}><_x005b_1_x005d_/></jcr:root>"),
        format!("<jcr:root {NS}><a_x002f_b/></jcr:root>"),
        format!("<jcr:root {NS} a_x0000_b=\"1\"/>"),
        format!("<jcr:root {NS}><p:a/></jcr:root>"),
        format!("<jcr:root {NS} a=\"&bogus;\"/>"),
        format!("<jcr:root {NS}>&bogus;</jcr:root>"),
        format!("<!DOCTYPE x><jcr:root {NS}/>"),
        format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><jcr:root {NS}/>"),
        format!("<jcr:root {NS} xmlns:p=\"\"/>"),
    ];
    for text in &broken {
        err(text);
    }
    let cases = [
        &b"<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" a=\"\xff\"/>"[..],
        &b"<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" a=\"\x01\"/>"[..],
    ];
    for bytes in cases {
        with_limits(bytes, &Limits::default());
    }
}

/// On every XML file of the shared corpus (DocView or not, well-formed or broken on
/// purpose), the check-only pass agrees with the reader: both accept it, or both refuse
/// it with the same message at the same line and column.
#[test]
fn check_bytes_agrees_with_parse_on_the_corpus() {
    let root = crate::test_support::corpus();
    let (mut n, mut refused) = (0, 0);
    for e in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let is_xml = e.file_name().to_string_lossy().ends_with(".xml");
        if !is_xml || !e.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        let file = e.path().display().to_string();
        let parsed = parse_bytes(&bytes, &file, &Limits::default()).map(drop);
        let checked = check_bytes(&bytes, &file, &Limits::default());
        assert_eq!(checked, parsed, "{file}");
        n += 1;
        refused += usize::from(parsed.is_err());
    }
    assert!(n > 2000, "only {n} XML files");
    assert!(
        refused > 0,
        "no file was refused: the errors were not compared"
    );
}
