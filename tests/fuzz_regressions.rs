//! The fuzz targets of `fuzz/` in miniature, for every `cargo test`: random bytes and
//! randomly mutated valid samples go into each parser, which must not panic, and
//! whose errors must say where (file, and line and column where the format has
//! lines). The findings of the real fuzzing runs are unit tests beside the code they
//! fixed; this harness keeps the properties exercised between fuzzing runs.

use jcrpack::archive::{self, Limits, ReadOptions};
use jcrpack::docview::value::{format_value, parse_value};
use jcrpack::filter::WorkspaceFilter;
use jcrpack::location::Location;
use jcrpack::value::PropertyType;
use proptest::prelude::*;
use std::io::Write;

const DOCVIEW: &[u8] =
    include_bytes!("../fixtures/example/jcr_root/content/wknd-lite/en/.content.xml");
const FILTER: &[u8] = include_bytes!("../fixtures/example/META-INF/vault/filter.xml");
const CND: &[u8] = include_bytes!("../fixtures/cnd/app.cnd");
const PROPERTIES: &[u8] = include_bytes!("../fixtures/properties/full.xml");
const SYSVIEW: &[u8] = include_bytes!("../fixtures/sysview/jackrabbit-export.xml");
const ZIP: &[u8] = include_bytes!("../fuzz/seeds/zip_reader/deflated.zip");

/// Bytes a mutation inserts: markup, escapes and encodings parsers treat specially.
const SPECIAL: &[u8] = b"<>&;\"'=/\\{}[],:%_!?-\0\x01\n\r\t\x7f\x80\xc3\xff";

/// One edit of a sample.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at a position.
    Set(usize, u8),
    /// Insert a byte.
    Insert(usize, u8),
    /// Delete up to `len` bytes.
    Delete(usize, usize),
    /// Repeat a slice of up to `len` bytes in place.
    Duplicate(usize, usize),
    /// Cut the input off.
    Truncate(usize),
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), proptest::sample::select(SPECIAL)]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), byte()).prop_map(|(p, b)| Mutation::Set(p, b)),
        (any::<usize>(), byte()).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(sample: &[u8], edits: &[Mutation]) -> Vec<u8> {
    let mut v = sample.to_vec();
    for edit in edits {
        let len = v.len().max(1);
        match *edit {
            Mutation::Set(p, b) => {
                if !v.is_empty() {
                    let p = p % v.len();
                    v[p] = b;
                }
            }
            Mutation::Insert(p, b) => v.insert(p % (v.len() + 1), b),
            Mutation::Delete(p, n) => {
                let p = p % len;
                let end = (p + n).min(v.len());
                if p < end {
                    v.drain(p..end);
                }
            }
            Mutation::Duplicate(p, n) => {
                let p = p % len;
                let end = (p + n).min(v.len());
                if p < end {
                    let copy = v[p..end].to_vec();
                    v.splice(end..end, copy);
                }
            }
            Mutation::Truncate(p) => v.truncate(p % len),
        }
    }
    v
}

/// A sample with 1 to 8 mutations.
fn mutated(sample: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(mutation(), 1..8).prop_map(move |edits| mutate(sample, &edits))
}

/// Random bytes or a mutated sample.
fn input(sample: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        3 => mutated(sample),
    ]
}

/// An error location names the file and points at a line and column.
fn assert_points(location: &Location, file: &str, message: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(&location.file, file, "{}", message);
    prop_assert!(location.line >= 1, "no line: {}", message);
    prop_assert!(location.column >= 1, "no column: {}", message);
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn docview_documents(bytes in input(DOCVIEW)) {
        match jcrpack::docview::parse(bytes.as_slice(), "x.xml") {
            Ok(doc) => {
                let written = jcrpack::docview::writer::to_vec(&doc);
                let again = jcrpack::docview::parse(written.as_slice(), "written.xml");
                prop_assert!(again.is_ok(), "{:?}", again.err());
            }
            Err(e) => assert_points(&e.location, "x.xml", &e.message)?,
        }
    }

    #[test]
    fn docview_values(text in prop_oneof![
        "\\PC{0,40}",
        "[{}\\[\\],\\\\u0a-f]{0,24}",
        "\\{(String|Long|Name|Path|Binary|BinaryRef|undefined)\\}\\[?[a,\\\\\\]u0-9]{0,16}",
    ]) {
        if let Ok(first) = parse_value(&text) {
            let formatted = format_value("p", &first);
            let escaped = matches!(
                first.ptype,
                PropertyType::String | PropertyType::Name | PropertyType::Path | PropertyType::Undefined
            ) && !first.binary_ref;
            if escaped {
                let second = parse_value(&formatted);
                prop_assert!(second.is_ok(), "{:?} from {:?}", formatted, text);
                let second = second.unwrap();
                prop_assert_eq!(&first.values, &second.values, "via {:?}", formatted);
                prop_assert_eq!(first.multiple, second.multiple);
            }
        }
    }

    #[test]
    fn filters(bytes in input(FILTER)) {
        match WorkspaceFilter::parse(&bytes, "filter.xml") {
            Ok(filter) => {
                let _ = filter.contains("/content/a/jcr:content");
                let _ = filter.covers("/apps");
            }
            Err(e) => {
                let location = e.location();
                prop_assert_eq!(&location.file, "filter.xml", "{}", e);
                // Undecodable bytes can be a whole-file error; all others point.
                if !matches!(e, jcrpack::filter::FilterError::Encoding { .. }) {
                    assert_points(&location, "filter.xml", &e.to_string())?;
                }
            }
        }
    }

    #[test]
    fn cnd(bytes in input(CND)) {
        if let Err(e) = jcrpack::cnd::parse_bytes(&bytes, "x.cnd") {
            assert_points(e.location(), "x.cnd", &e.to_string())?;
        }
    }

    #[test]
    fn properties(bytes in input(PROPERTIES)) {
        if let Err(e) = jcrpack::properties::parse_properties_xml(&bytes, "properties.xml") {
            let location = e.location();
            prop_assert_eq!(&location.file, "properties.xml", "{}", e);
            if !matches!(e, jcrpack::properties::PropertiesError::Encoding { .. }) {
                assert_points(location, "properties.xml", &e.to_string())?;
            }
        }
    }

    #[test]
    fn sysview(bytes in input(SYSVIEW)) {
        if let Err(e) = jcrpack::sysview::read_tree(bytes.as_slice(), "sv.xml") {
            assert_points(&e.location, "sv.xml", &e.to_string())?;
        }
    }

    #[test]
    fn platform_names(name in "\\PC{0,16}") {
        let _ = jcrpack::platform_name::from_platform_name(&name);
        let _ = jcrpack::platform_name::from_entry_path(&name);
        let mut chars = name.chars();
        let corner = chars.next() == Some('_')
            && matches!(chars.next(), Some('\\' | '<' | '>' | '"' | '?' | '%' | ':'));
        if jcrpack::name::validate(&name).is_ok() && !corner {
            let fs = jcrpack::platform_name::to_platform_name(&name);
            prop_assert_eq!(jcrpack::platform_name::from_platform_name(&fs), name);
        }
    }
}

proptest! {
    // Each case writes a file; fewer cases keep the suite fast.
    #![proptest_config(ProptestConfig { cases: 256, ..config() })]

    #[test]
    fn zips(bytes in input(ZIP)) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        file.flush().unwrap();
        let name = file.path().display().to_string();
        let options = ReadOptions::default().with_limits(Limits::default().with_max_total_uncompressed(1 << 20));
        match archive::open(file.path(), &options) {
            Ok(a) => {
                let names: Vec<String> = a.entries().iter().map(|e| e.name().to_owned()).collect();
                for entry in names {
                    if a.is_dir(&entry) {
                        continue;
                    }
                    match a.open(&entry) {
                        Ok(mut r) => {
                            if let Err(e) = std::io::copy(&mut r, &mut std::io::sink()) {
                                let e = archive::ArchiveError::from_read_error(a.name(), &entry, e);
                                prop_assert!(e.to_string().starts_with(&name), "{}", e);
                            }
                        }
                        Err(e) => prop_assert!(e.to_string().starts_with(&name), "{}", e),
                    }
                }
            }
            // Archive errors name the archive (and the entry); zips have no lines.
            Err(e) => prop_assert!(e.to_string().starts_with(&name), "{}", e),
        }
    }
}
