//! Property tests: writing a generated filter and reading it back gives the same
//! filter and the same bytes; the reader and the pattern compiler never panic.

use proptest::prelude::*;

use super::*;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,6}",
        "(jcr|cq|sling):[a-z]{1,6}",
        Just("caf\u{e9}".to_string()),
        Just("a&b".to_string()),
        Just("q\"'<>".to_string()),
        Just("x y".to_string()),
    ]
}

fn root() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("/".to_string()),
        6 => prop::collection::vec(segment(), 1..4).prop_map(|s| format!("/{}", s.join("/"))),
    ]
}

fn pattern_for(root: String) -> impl Strategy<Value = String> {
    let quoted = format!("\\Q{root}\\E.*");
    let base = if root == "/" { String::new() } else { root };
    prop_oneof![
        Just(format!("{base}(/.*)?")),
        Just(format!("{base}/.*")),
        Just(format!("{base}/[^/]*")),
        segment().prop_map(move |s| format!("{}/{}", base, regex_escape(&s))),
        segment().prop_map(|s| format!(".*/{}", regex_escape(&s))),
        Just(quoted),
        Just("(?i).*/JCR:CONTENT(/.*)?".to_string()),
    ]
}

/// Escapes Java regex metacharacters in a literal segment.
fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.[]{}()*+?^$|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn rule_for(root: String) -> impl Strategy<Value = Rule> {
    (any::<bool>(), pattern_for(root), any::<bool>()).prop_map(|(include, pattern, props)| {
        let rule = Rule::new(include, &pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        if props {
            rule.for_properties()
        } else {
            rule
        }
    })
}

fn filter_set() -> impl Strategy<Value = FilterSet> {
    root().prop_flat_map(|root| {
        (
            Just(root.clone()),
            prop::sample::select(ImportMode::ALL.to_vec()),
            prop_oneof![
                3 => Just(None),
                1 => Just(Some("cleanup".to_string())),
                1 => Just(Some("other&type".to_string())),
            ],
            prop::collection::vec(rule_for(root), 0..5),
        )
            .prop_map(|(root, mode, kind, rules)| {
                let mut set = FilterSet::new(&root).with_mode(mode);
                set.kind = kind;
                set.rules = rules;
                set
            })
    })
}

fn workspace_filter() -> impl Strategy<Value = WorkspaceFilter> {
    prop::collection::vec(filter_set(), 0..6).prop_map(WorkspaceFilter::with_sets)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn write_then_parse_preserves_the_filter(filter in workspace_filter()) {
        let xml = filter.to_xml();
        let parsed = WorkspaceFilter::parse(&xml, "generated.xml");
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), String::from_utf8_lossy(&xml));
        let parsed = parsed.unwrap_or_default();
        prop_assert_eq!(&parsed, &filter);
        prop_assert!(parsed.is_unmodified());
        prop_assert_eq!(parsed.to_xml(), xml.clone());
        prop_assert_eq!(parsed.canonical_xml().into_bytes(), xml);
        for set in &filter.sets {
            prop_assert!(parsed.covers(set.root()));
        }
    }

    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = WorkspaceFilter::parse(&bytes, "fuzz.xml");
    }

    #[test]
    fn parse_never_panics_on_near_valid_xml(
        filter in workspace_filter(),
        cut in 0usize..400,
        insert in "[<>&\"'/=a-z \n\\[\\]]{0,3}",
    ) {
        let mut xml = String::from_utf8_lossy(&filter.to_xml()).into_owned();
        let mut at = cut.min(xml.len());
        while !xml.is_char_boundary(at) {
            at -= 1;
        }
        xml.insert_str(at, &insert);
        if let Err(e) = WorkspaceFilter::parse(xml.as_bytes(), "mutated.xml") {
            prop_assert!(e.location().line >= 1 || matches!(e, FilterError::Io { .. }), "{e}");
        }
    }

    #[test]
    fn pattern_compiler_never_panics(source in "[\\\\()\\[\\]{}^$.*+?|&a-c0-9:=!<>,pPQEdswbuxk-]{0,24}") {
        if let Ok(pattern) = Pattern::new(&source) {
            let _ = pattern.is_match("/a/b");
            let _ = pattern.can_match_at_or_below("/a");
        }
    }
}
