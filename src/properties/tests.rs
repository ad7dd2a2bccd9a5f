//! Tests of the properties module: the typed keys, the reader (fixtures, malformed
//! input with exact locations, the whole corpus) and the byte-stable writer.

use super::*;
use crate::package_id::SubPackageOption;
use proptest::prelude::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/properties/",
            $name
        ))
    };
}

fn parse(text: &str) -> Result<PackageProperties, PropertiesError> {
    PackageProperties::parse(text.as_bytes(), "properties.xml")
}

/// A minimal document around `body`.
fn doc(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n\
         <properties>\n{body}</properties>\n"
    )
}

/// The `file:line:column` of the error for `bytes`.
fn error_at(bytes: &[u8]) -> (String, String) {
    let e = PackageProperties::parse(bytes, "p.xml").expect_err("must be refused");
    (e.location().to_string(), e.to_string())
}

#[test]
fn every_key_of_the_full_fixture() {
    let p = PackageProperties::parse(fixture!("full.xml"), "full.xml").unwrap();
    assert_eq!(p.comment(), Some("FileVault Package Properties"));
    assert_eq!(p.group(), Some("my_packages/sub"));
    assert_eq!(
        p.name(),
        Some("full-package-renamed"),
        "the last duplicate wins"
    );
    assert_eq!(p.version().as_str(), "1.2.0-SNAPSHOT");
    assert_eq!(
        p.id().unwrap().to_string(),
        "my_packages/sub:full-package-renamed:1.2.0-SNAPSHOT"
    );
    assert_eq!(
        p.description(),
        Some("Line one\nline & two <b> \u{263A} <raw & cdata>")
    );
    assert_eq!(
        p.created().unwrap().to_string(),
        "2018-06-14T11:50:32.369+02:00"
    );
    assert_eq!(
        p.last_modified().unwrap().to_string(),
        "2018-06-15T08:00:00.000+02:00"
    );
    assert_eq!(p.last_wrapped(), None, "an invalid date is absent");
    assert_eq!(p.created_by(), Some("admin"));
    assert_eq!(p.last_modified_by(), Some("editor"));
    assert_eq!(p.build_count(), 12);
    assert_eq!(p.generator(), Some("org.apache.jackrabbit.vault:3.7.0"));
    assert_eq!(p.package_format_version(), 2);
    let deps = p.dependencies().unwrap();
    assert_eq!(
        Dependency::format_list(&deps),
        "day/cq60/product:cq-content:6.3,my:other:1.0,plain",
        "[6.3,) is written as FileVault writes it: 6.3"
    );
    let locations = p.dependencies_locations();
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0].0.to_string(), "my:other:1.0");
    assert_eq!(locations[0].1, "maven:my:other:1.0:zip");
    assert_eq!(p.ac_handling(), AcHandling::MergePreserve);
    assert_eq!(p.cnd_pattern(), DEFAULT_CND_PATTERN);
    assert!(p.requires_root());
    assert!(
        !p.requires_restart(),
        "requiresRestart must be exactly 'true'"
    );
    assert!(p.no_intermediate_saves());
    let sp = p.sub_package_handling().unwrap();
    assert_eq!(sp.to_string(), "my_packages:*;extract,my_packages:keep;add");
    assert_eq!(
        sp.option_for(&PackageId::new("my_packages", "x", "1")),
        SubPackageOption::Extract
    );
    assert_eq!(
        sp.option_for(&PackageId::new("my_packages", "keep", "")),
        SubPackageOption::Add
    );
    assert!(p.use_binary_references());
    assert_eq!(p.package_type(), Some(PackageType::Content));
    assert!(p.allow_index_definitions());
    let hooks = p.install_hooks().unwrap();
    assert_eq!(
        hooks.into_iter().collect::<Vec<_>>(),
        [
            ("first".to_string(), "com.example.FirstHook".to_string()),
            ("second".to_string(), "com.example.SecondHook".to_string())
        ]
    );
    assert_eq!(p.get("custom key"), Some("  kept as is  "));
    assert_eq!(p.get("empty"), Some(""));
    assert_eq!(p.stash_principal_policies(), None);
}

#[test]
fn defaults_of_an_empty_file() {
    let p = parse(&doc("")).unwrap();
    assert!(p.is_empty());
    assert_eq!(p.comment(), None);
    assert_eq!(p.id(), None);
    assert!(p.version().is_empty());
    assert_eq!(p.build_count(), 0);
    assert_eq!(p.package_format_version(), 2);
    assert!(p.dependencies().unwrap().is_empty());
    assert!(p.dependencies_locations().is_empty());
    assert_eq!(p.ac_handling(), AcHandling::Ignore);
    assert_eq!(
        p.cnd_pattern(),
        "^/(apps|libs)/([^/]+/){1,2}nodetypes/.+\\.cnd$"
    );
    assert!(!p.requires_root() && !p.no_intermediate_saves() && !p.use_binary_references());
    assert!(!p.allow_index_definitions());
    assert_eq!(p.package_type(), None);
    assert!(p.sub_package_handling().unwrap().entries().is_empty());
    assert!(p.install_hooks().unwrap().is_empty());
}

#[test]
fn value_rules_follow_filevault() {
    let mut p = PackageProperties::new();
    for (value, expected) in [
        ("merge", AcHandling::Merge),
        ("OVERWRITE", AcHandling::Overwrite),
        ("Clear", AcHandling::Clear),
        ("merge-preserve", AcHandling::Ignore),
        (" merge", AcHandling::Ignore),
        ("", AcHandling::Ignore),
    ] {
        p.set("acHandling", value);
        assert_eq!(p.ac_handling(), expected, "{value:?}");
    }
    for (value, expected) in [
        ("application", Some(PackageType::Application)),
        ("CONTAINER", Some(PackageType::Container)),
        ("mixed", Some(PackageType::Mixed)),
        ("app", None),
    ] {
        p.set("packageType", value);
        assert_eq!(p.package_type(), expected, "{value:?}");
    }
    for (value, expected) in [
        ("12", 12),
        ("+7", 7),
        ("-3", -3),
        ("1.0", 0),
        ("x", 0),
        (" 1", 0),
    ] {
        p.set("buildCount", value);
        assert_eq!(p.build_count(), expected, "{value:?}");
    }
    for (value, expected) in [("1", 1), ("3", 3), ("two", 2), ("", 2)] {
        p.set("packageFormatVersion", value);
        assert_eq!(p.package_format_version(), expected, "{value:?}");
    }
    p.set("requiresRoot", "TRUE");
    assert!(
        !p.requires_root(),
        "requiresRoot is the exact string 'true'"
    );
    p.set("useBinaryReferences", "True");
    assert!(!p.use_binary_references());
    p.set("noIntermediateSaves", "tRuE");
    assert!(p.no_intermediate_saves());
    p.set("vault.feature.stashPrincipalPolicies", "yes");
    assert_eq!(p.stash_principal_policies(), Some(false));
    p.set("group", "/etc/packages");
    assert_eq!(p.group(), Some(""));
    p.set("group", "/abs/group");
    assert_eq!(p.group(), Some("abs/group"));
    p.set("cndPattern", "^/apps/.*\\.cnd$");
    assert_eq!(p.cnd_pattern(), "^/apps/.*\\.cnd$");
}

#[test]
fn install_hook_keys() {
    let mut p = PackageProperties::new();
    p.set("installhook..odd..class", "A");
    assert_eq!(
        p.install_hooks().unwrap().get("odd").map(String::as_str),
        Some("A")
    );
    for bad in [
        "installhook.a.b.class",
        "installhook.a.klass",
        "installhook.a",
        "installhook.",
    ] {
        let mut p = PackageProperties::new();
        p.set(bad, "X");
        let e = p.install_hooks().unwrap_err();
        assert_eq!(e.key, bad);
    }
    let mut p = PackageProperties::new();
    assert!(p.set_install_hook("h1", "com.example.H").is_ok());
    assert_eq!(p.get("installhook.h1.class"), Some("com.example.H"));
    assert!(p.set_install_hook("a.b", "X").is_err());
    assert!(p.set_install_hook("", "X").is_err());
}

#[test]
fn dependency_errors_and_locations() {
    let mut p = PackageProperties::new();
    p.set("dependencies", "g:n:[2.0,1.0]");
    assert!(matches!(
        p.dependencies(),
        Err(DependencyError::Range { .. })
    ));
    p.set(
        "dependencies-locations",
        "a:b=maven:a:b:1,a:b=file:/x,c:d=bad uri,e:f=ok%2,g:h=ok%20,=x",
    );
    let loc: Vec<String> = p
        .dependencies_locations()
        .iter()
        .map(|(id, uri)| format!("{id}={uri}"))
        .collect();
    assert_eq!(loc, ["a:b=file:/x", "g:h=ok%20"]);
    let mut q = PackageProperties::new();
    q.set_dependencies_locations(&[(PackageId::new("g", "n", "1.0"), "maven:g:n:1.0:zip".into())]);
    assert_eq!(
        q.get("dependencies-locations"),
        Some("g:n:1.0=maven:g:n:1.0:zip")
    );
}

#[test]
fn package_type_detection() {
    assert_eq!(
        PackageType::detect(["/apps/x", "/libs"]),
        PackageType::Application
    );
    assert_eq!(
        PackageType::detect(["/content/x", "/etc"]),
        PackageType::Content
    );
    assert_eq!(
        PackageType::detect(["/apps/x", "/content"]),
        PackageType::Mixed
    );
    assert_eq!(PackageType::detect(["/appsx"]), PackageType::Content);
    assert_eq!(PackageType::detect(Vec::<&str>::new()), PackageType::Mixed);
}

/// The properties FileVault's exporter would write for a typical package, with
/// values that need escaping.
fn sample() -> PackageProperties {
    let mut p = PackageProperties::new();
    p.set_id(&PackageId::new("my_packages", "sample", "1.0.0"));
    p.set_description("Text with <markup> & \"quotes\"\nand a second line\r\tend");
    let created = crate::value::Date::parse("2024-01-31T12:00:00.000+01:00").unwrap();
    p.stamp_export(
        &created,
        "admin",
        "jcrpack:0.1.0",
        ["/apps/sample", "/content/sample"],
    );
    p.set_build_count(3);
    p.set_dependencies(
        &Dependency::parse_list("day/cq60/product:cq-content:[6.3,),other").unwrap(),
    );
    p.set_ac_handling(AcHandling::MergePreserve);
    p.set_requires_root(false);
    p.set_no_intermediate_saves(true);
    p.set_sub_package_handling(&SubPackageHandling::parse("*:*;extract").unwrap());
    p.set_allow_index_definitions(false);
    p.set_install_hook("audit", "com.example.AuditHook")
        .unwrap();
    p.set("key \"with\" <specials> & \ttab", "");
    p.set("lastModifiedBy", "");
    p.set("controls", "bell\u{7} nel\u{85} ls\u{2028} ok");
    p
}

#[test]
fn writes_byte_stable_properties_xml() {
    let p = sample();
    let bytes = p.to_xml();
    assert_eq!(bytes, p.to_xml());
    assert_eq!(bytes, p.clone().to_xml());
    insta::assert_snapshot!("properties_xml", String::from_utf8(bytes.clone()).unwrap());
    // Reading it back gives the same properties (controls apart: Java refuses
    // the references its own serializer writes for them, and so does jcrpack).
    let mut without_controls = p.clone();
    without_controls.remove("controls");
    let back = PackageProperties::parse(&without_controls.to_xml(), "back.xml").unwrap();
    assert_eq!(
        back.iter().collect::<Vec<_>>(),
        without_controls.iter().collect::<Vec<_>>()
    );
    assert_eq!(back.comment(), Some(FILEVAULT_COMMENT));
    assert!(PackageProperties::parse(&bytes, "with-controls.xml").is_err());
}

#[test]
fn writes_empty_properties() {
    let text = String::from_utf8(PackageProperties::new().to_xml()).unwrap();
    insta::assert_snapshot!(text, @r#"
    <?xml version="1.0" encoding="utf-8" standalone="no"?>
    <!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
    <properties>
    <comment>FileVault Package Properties</comment>
    </properties>
    "#);
}

#[test]
fn other_encodings() {
    let p = PackageProperties::parse(fixture!("latin1.xml"), "latin1.xml").unwrap();
    assert_eq!(p.description(), Some("caf\u{e9}"));
    let p = PackageProperties::parse(fixture!("utf16le.xml"), "utf16le.xml").unwrap();
    assert_eq!(p.name(), Some("\u{e9}t\u{e9} \u{1F600}"));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(doc("<entry key=\"a\">b</entry>\n").as_bytes());
    assert_eq!(
        PackageProperties::parse(&bom, "bom.xml").unwrap().get("a"),
        Some("b")
    );
    let cp = "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n<properties><entry key=\"e\">\u{80}</entry></properties>";
    let bytes: Vec<u8> = cp
        .chars()
        .map(|c| if c == '\u{80}' { 0x80 } else { c as u8 })
        .collect();
    assert_eq!(
        PackageProperties::parse(&bytes, "cp.xml").unwrap().get("e"),
        Some("\u{20AC}")
    );
}

#[test]
fn line_endings_and_blanks_are_kept_as_xml_says() {
    let p = parse(&doc(
        "<entry key=\"a\">x\r\ny\rz</entry>\n<entry key=\" k\tey \">  </entry>\n",
    ))
    .unwrap();
    assert_eq!(p.get("a"), Some("x\ny\nz"));
    assert_eq!(
        p.get(" k ey "),
        Some("  "),
        "attribute values are normalized"
    );
    let p = parse(&doc(
        "<!-- note --><?pi x?><entry key=\"a\"><!-- c -->1<!-- d -->2</entry>\n",
    ))
    .unwrap();
    assert_eq!(p.get("a"), Some("12"));
    let p = parse(&doc(
        "<comment/>\n<entry key=\"a\">&#9;&#xA;&apos;&quot;</entry>\n",
    ))
    .unwrap();
    assert_eq!(p.comment(), Some(""));
    assert_eq!(p.get("a"), Some("\t\n'\""));
    let p = parse(
        "<!DOCTYPE properties PUBLIC \"-//x\" 'http://java.sun.com/dtd/properties.dtd'><properties/>",
    )
    .unwrap();
    assert!(p.is_empty());
    assert!(parse("<!DOCTYPE properties><properties/>").is_ok());
}

#[test]
fn malformed_fixtures_with_locations() {
    let cases: [(&[u8], &str, &str); 7] = [
        (fixture!("no-doctype.xml"), "p.xml:2:1", "missing DOCTYPE"),
        (
            fixture!("internal-subset.xml"),
            "p.xml:2:1",
            "internal subset",
        ),
        (
            fixture!("comment-after-entry.xml"),
            "p.xml:5:3",
            "comment must come first",
        ),
        (
            fixture!("entry-without-key.xml"),
            "p.xml:5:1",
            "required 'key'",
        ),
        (fixture!("unclosed-entry.xml"), "p.xml:5:25", "properties"),
        (
            fixture!("invalid-utf8.xml"),
            "p.xml:4:21",
            "invalid UTF-8 byte 0xFF",
        ),
        (b"", "p.xml:1:1", "no <properties> element"),
    ];
    for (bytes, location, message) in cases {
        let (at, text) = error_at(bytes);
        assert_eq!(at, location, "{text}");
        assert!(text.contains(message), "{text}");
    }
}

#[test]
fn malformed_inline_with_locations() {
    let head = "<?xml version=\"1.0\"?>\n<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n";
    let cases = [
        (
            "<properties>\n<entry key=\"a\">&xxe;</entry>\n</properties>",
            "p.xml:4:16",
            "undeclared entity '&xxe;'",
        ),
        (
            "<properties>\n  oops\n</properties>",
            "p.xml:4:3",
            "text between the elements",
        ),
        (
            "<properties>\n<entry key=\"a\"><b/></entry>\n</properties>",
            "p.xml:4:16",
            "inside <entry>",
        ),
        (
            "<properties>\n<comment/><comment/>\n</properties>",
            "p.xml:4:11",
            "a second <comment>",
        ),
        (
            "<properties>\n<item/>\n</properties>",
            "p.xml:4:1",
            "expected <comment> or <entry>",
        ),
        ("<props/>", "p.xml:3:1", "expected <properties>"),
        (
            "<properties/>\n<properties/>",
            "p.xml:4:1",
            "after </properties>",
        ),
        ("<properties/>x", "p.xml:3:14", "after </properties>"),
        (
            "<properties>\n<entry key=\"a\" other=\"b\"/>\n</properties>",
            "p.xml:4:1",
            "no attribute 'other'",
        ),
        (
            "<properties version=\"2.0\"/>",
            "p.xml:3:1",
            "must be \"1.0\"",
        ),
        (
            "<properties>\n<entry key=\"a\">\u{1}</entry>\n</properties>",
            "p.xml:4:16",
            "U+0001",
        ),
        (
            "<properties>\n<entry key=\"a\">&#0;</entry>\n</properties>",
            "p.xml:4:16",
            "invalid character reference",
        ),
        (
            "<properties>\n<entry key=\"a\">&#x1;</entry>\n</properties>",
            "p.xml:4:16",
            "U+0001",
        ),
        (
            "<properties>\n<entry key=\"a\">x & y</entry>\n</properties>",
            "p.xml:4:18",
            "malformed XML",
        ),
        (
            "<properties>\n<entry key=\"a\">x</entry>\n",
            "p.xml:5:1",
            "not closed",
        ),
        (
            "<properties>\n<entry key=\"a\" key=\"b\"/>\n</properties>",
            "p.xml:4:1",
            "malformed XML",
        ),
        (
            "<properties>\n<![CDATA[x]]>\n</properties>",
            "p.xml:4:10",
            "text between the elements",
        ),
    ];
    for (body, location, message) in cases {
        let (at, text) = error_at(format!("{head}{body}").as_bytes());
        assert_eq!(at, location, "{body:?}: {text}");
        assert!(text.contains(message), "{body:?}: {text}");
    }
}

#[test]
fn malformed_doctypes() {
    let cases = [
        ("<!DOCTYPE props SYSTEM \"http://java.sun.com/dtd/properties.dtd\"><properties/>", "names 'props'"),
        ("<!DOCTYPE properties SYSTEM \"http://evil.example/p.dtd\"><properties/>", "invalid system identifier"),
        ("<!DOCTYPE properties SYSTEM><properties/>", "quoted system identifier"),
        ("<!DOCTYPE properties [<!ENTITY a \"b\">]><properties/>", "internal subset"),
        ("<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\"><!DOCTYPE properties><properties/>", "only once"),
        ("<!DOCTYPE properties junk><properties/>", "unexpected 'junk'"),
    ];
    for (text, message) in cases {
        let (at, e) = error_at(text.as_bytes());
        assert!(e.contains(message), "{text}: {e}");
        assert!(at.starts_with("p.xml:1:"), "{at}");
    }
    let (at, e) = error_at(b"<?xml version=\"1.0\" encoding=\"EBCDIC\"?><properties/>");
    assert_eq!(at, "p.xml:1:1");
    assert!(e.contains("unsupported encoding 'ebcdic'"), "{e}");
    let (at, e) = error_at(b"<?xml version=\"1.0\" encoding=\"US-ASCII\"?>\n<x>\xe9</x>");
    assert_eq!(at, "p.xml:2:4");
    assert!(e.contains("not US-ASCII"), "{e}");
}

#[test]
fn read_reports_io_errors() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let e = PackageProperties::read(Failing, "x/properties.xml").unwrap_err();
    assert_eq!(e.to_string(), "x/properties.xml: cannot read: disk on fire");
}

/// Every `properties.xml` of the shared corpus, loose and inside package zips,
/// parses, and writing it again is stable and reads back to the same entries;
/// except FileVault's deliberately broken `invalid-package` (an undeclared
/// `<someinvalidentry>` element, which Java refuses too).
#[test]
fn corpus_properties_parse() {
    let root = crate::test_support::corpus();
    let mut count = 0;
    let mut failures = Vec::new();
    let mut same_lines = 0;
    let mut check = |bytes: &[u8], name: String| {
        count += 1;
        match PackageProperties::parse(bytes, &name) {
            Ok(p) => {
                let written = p.to_xml();
                // Files FileVault exported under Java 8 hold exactly the lines jcrpack
                // writes, in another (hash) order.
                let header =
                    "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>\n<!DOCTYPE";
                if bytes.starts_with(header.as_bytes()) && p.comment() == Some(FILEVAULT_COMMENT) {
                    let mut theirs: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                    let mut ours: Vec<&[u8]> = written.split(|&b| b == b'\n').collect();
                    theirs.sort();
                    ours.sort();
                    if theirs == ours {
                        same_lines += 1;
                    } else {
                        failures.push(format!("{name}: written lines differ"));
                    }
                }
                match PackageProperties::parse(&written, &name) {
                    Ok(back) if back.iter().eq(p.iter()) && back.to_xml() == written => {}
                    _ => failures.push(format!("{name}: does not round-trip")),
                }
            }
            Err(e) => failures.push(e.to_string()),
        }
    };
    for entry in walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let path = entry.path();
        let name = path.display().to_string();
        if entry.file_type().is_file() && entry.file_name() == "properties.xml" {
            if let Ok(bytes) = std::fs::read(path) {
                check(&bytes, name);
            }
        } else if entry.file_type().is_file() && name.ends_with(".zip") {
            let Ok(file) = std::fs::File::open(path) else {
                continue;
            };
            let Ok(mut zip) = zip::ZipArchive::new(file) else {
                continue;
            };
            let Ok(mut f) = zip.by_name("META-INF/vault/properties.xml") else {
                continue;
            };
            let mut bytes = Vec::new();
            if std::io::Read::read_to_end(&mut f, &mut bytes).is_ok() {
                check(&bytes, format!("{name}!/META-INF/vault/properties.xml"));
            }
        }
    }
    eprintln!("corpus: {count} properties.xml files checked, {same_lines} written identically up to line order");
    assert!(
        same_lines > 50,
        "only {same_lines} files compared line by line"
    );
    assert!(count > 100, "only {count} properties.xml files found");
    let known_invalid = "vault-validation/src/test/resources/invalid-package/META-INF/vault/properties.xml:35:1: unexpected element <someinvalidentry>";
    let (expected, unexpected): (Vec<_>, Vec<_>) =
        failures.iter().partition(|f| f.contains(known_invalid));
    assert!(
        unexpected.is_empty(),
        "{} failed:\n{}",
        unexpected.len(),
        failures.join("\n")
    );
    assert!(!expected.is_empty(), "the invalid package must be refused");
}

proptest! {
    /// Writing then reading gives back every key and value made of XML characters.
    #[test]
    fn write_read_round_trip(
        entries in proptest::collection::btree_map(
            "[a-zA-Z0-9 ._\\-<>&\"'\t\n\r\u{e9}\u{263A}\u{1F600}]{0,8}",
            "[a-zA-Z0-9 ._\\-<>&\"'\t\n\r\u{e9}\u{263A}\u{1F600}\\]>]{0,16}",
            0..6,
        )
    ) {
        let mut p = PackageProperties::new();
        for (k, v) in &entries {
            p.set(k, v);
        }
        let bytes = p.to_xml();
        let back = PackageProperties::parse(&bytes, "rt.xml").unwrap();
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), p.iter().collect::<Vec<_>>());
        prop_assert_eq!(back.to_xml(), bytes);
    }

    /// Arbitrary bytes never panic the reader.
    #[test]
    fn any_bytes_are_refused_or_read(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = PackageProperties::parse(&bytes, "fuzz.xml");
        let mut framed = doc("").into_bytes();
        framed.splice(120..120, bytes);
        let _ = PackageProperties::parse(&framed, "fuzz.xml");
    }
}
