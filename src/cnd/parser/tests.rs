use super::*;
use crate::cnd::definition::{ChildNodeDef, PropertyDef};

fn one(text: &str) -> NodeTypeDef {
    let f = parse(text, "t.cnd").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.types.len(), 1, "{text}");
    f.types.into_iter().next().unwrap()
}

fn prop(text: &str) -> PropertyDef {
    let t = one(&format!("[t]\n  - {text}"));
    t.properties.into_iter().next().unwrap()
}

fn child(text: &str) -> ChildNodeDef {
    let t = one(&format!("[t]\n  + {text}"));
    t.children.into_iter().next().unwrap()
}

fn err(text: &str) -> String {
    match parse(text, "t.cnd") {
        Ok(f) => panic!("parsed {text:?} into {f:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn namespace_mappings() {
    let f = parse(
        "<a='urn:a'>\n<b = \"urn:b\">\n<c = urn:c>\n<''=''>\n<'a'='urn:a2'>",
        "t.cnd",
    )
    .unwrap();
    assert_eq!(
        f.namespaces,
        [
            ("a".to_string(), "urn:a2".to_string()),
            ("b".into(), "urn:b".into()),
            ("c".into(), "urn:c".into()),
            ("".into(), "".into()),
        ]
    );
    assert_eq!(f.uri("b"), Some("urn:b"));
    assert!(f.types.is_empty());
    // Mappings may come between node types (JCR 2.0 grammar).
    let f = parse("[a:T]\n<a='urn:a'>\n[a:U]", "t.cnd").unwrap();
    assert_eq!(f.types.len(), 2);
    assert_eq!(f.namespaces.len(), 1);
}

#[test]
fn node_type_names_and_supertypes() {
    let t = one("['my-ns:my-type'] > b:B, nt:base, a:A, b:B");
    assert_eq!(t.name, "my-ns:my-type");
    assert_eq!(t.supertypes, ["a:A", "b:B"]);
    assert!(!t.mixin && !t.orderable && !t.abstract_);
    assert_eq!(t.queryable, None);
    assert_eq!(one("[\"x:Y\"]").name, "x:Y");
    assert_eq!(one("[NoPrefix] > ?").supertypes, Vec::<String>::new());
    assert_eq!(one("[x:T]").supertypes, Vec::<String>::new());
}

#[test]
fn node_type_options_in_every_spelling() {
    for (text, o, m, a) in [
        ("orderable", true, false, false),
        ("ord", true, false, false),
        ("o", true, false, false),
        ("mixin", false, true, false),
        ("mix", false, true, false),
        ("m", false, true, false),
        ("MIXIN", false, true, false),
        ("abstract", false, false, true),
        ("abs", false, false, true),
        ("a", false, false, true),
        ("orderable mixin abstract", true, true, true),
        ("o ?", false, false, false),
        ("mixin? abstract?", false, false, false),
    ] {
        let t = one(&format!("[x:T]\n  {text}"));
        assert_eq!((t.orderable, t.mixin, t.abstract_), (o, m, a), "{text}");
        // Options may also share the line of the name.
        let t = one(&format!("[x:T] {text}"));
        assert_eq!((t.orderable, t.mixin, t.abstract_), (o, m, a), "{text}");
    }
    assert_eq!(one("[x:T] noquery").queryable, Some(false));
    assert_eq!(one("[x:T] nq").queryable, Some(false));
    assert_eq!(one("[x:T] query").queryable, Some(true));
    assert_eq!(one("[x:T] Q").queryable, Some(true));
    assert_eq!(one("[x:T] nq ?").queryable, None);
    assert_eq!(
        one("[x:T] primaryitem jcr:content").primary_item.as_deref(),
        Some("jcr:content")
    );
    assert_eq!(
        one("[x:T] ! 'jcr:data'").primary_item.as_deref(),
        Some("jcr:data")
    );
    assert_eq!(one("[x:T] primaryitem ?").primary_item, None);
    // The vlt:HierarchyNode form: supertype, then an option on the same line.
    let t = one("[vlt:HierarchyNode] > nt:hierarchyNode mixin");
    assert!(t.mixin);
    assert_eq!(t.supertypes, ["nt:hierarchyNode"]);
}

#[test]
fn property_types_in_every_spelling() {
    for (text, ty) in [
        ("p", PropertyType::String),
        ("p (STRING)", PropertyType::String),
        ("p (string)", PropertyType::String),
        ("p (String)", PropertyType::String),
        ("p (binary)", PropertyType::Binary),
        ("p (LONG)", PropertyType::Long),
        ("p (double)", PropertyType::Double),
        ("p (Decimal)", PropertyType::Decimal),
        ("p (boolean)", PropertyType::Boolean),
        ("p (date)", PropertyType::Date),
        ("p (NAME)", PropertyType::Name),
        ("p (path)", PropertyType::Path),
        ("p (reference)", PropertyType::Reference),
        ("p (WeakReference)", PropertyType::WeakReference),
        ("p (uri)", PropertyType::Uri),
        ("p (undefined)", PropertyType::Undefined),
        ("p (*)", PropertyType::Undefined),
        ("p (?)", PropertyType::Undefined),
        ("p ('long')", PropertyType::Long),
    ] {
        assert_eq!(prop(text).required_type, ty, "{text}");
    }
    assert!(prop("* (undefined)").is_residual());
}

#[test]
fn property_attributes_in_every_spelling() {
    let plain = prop("p (string)");
    assert!(!plain.autocreated && !plain.mandatory && !plain.protected && !plain.multiple);
    assert_eq!(plain.on_parent_version, OnParentVersion::Copy);
    assert!(plain.full_text_searchable && plain.query_orderable);
    assert_eq!(plain.available_query_operators, None);
    for spelling in ["autocreated", "aut", "a", "AUTOCREATED"] {
        assert!(prop(&format!("p {spelling}")).autocreated, "{spelling}");
    }
    for spelling in ["mandatory", "man", "m"] {
        assert!(prop(&format!("p {spelling}")).mandatory, "{spelling}");
    }
    for spelling in ["protected", "pro", "p"] {
        assert!(prop(&format!("p {spelling}")).protected, "{spelling}");
    }
    for spelling in ["multiple", "mul", "*"] {
        assert!(prop(&format!("p {spelling}")).multiple, "{spelling}");
    }
    for spelling in ["nofulltext", "nof"] {
        assert!(!prop(&format!("p {spelling}")).full_text_searchable);
    }
    for spelling in ["noqueryorder", "nqord"] {
        assert!(!prop(&format!("p {spelling}")).query_orderable);
    }
    for a in OnParentVersion::ALL {
        for s in [a.jcr_name().to_string(), a.jcr_name().to_lowercase()] {
            assert_eq!(prop(&format!("p {s}")).on_parent_version, a);
        }
    }
    assert_eq!(
        prop("p ignore OPV ?").on_parent_version,
        OnParentVersion::Copy
    );
    assert_eq!(prop("p version ?").on_parent_version, OnParentVersion::Copy);
    // Variants read as "not set".
    let v = prop("p mandatory ? autocreated? protected ? multiple ? nofulltext ?");
    assert!(!v.mandatory && !v.autocreated && !v.protected && !v.multiple);
    assert!(v.full_text_searchable);
    // Any order, repeated attributes tolerated (Oak's principal-based CND does it).
    let p = prop("rep:privileges (NAME) multiple protected mandatory multiple IGNORE");
    assert!(p.multiple && p.protected && p.mandatory);
    assert_eq!(p.on_parent_version, OnParentVersion::Ignore);
}

#[test]
fn query_operators() {
    assert_eq!(
        prop("p queryops '=, <>'").available_query_operators,
        Some(vec![QueryOperator::EqualTo, QueryOperator::NotEqualTo])
    );
    assert_eq!(
        prop("p qop \"LIKE,>=\"").available_query_operators,
        Some(vec![
            QueryOperator::Like,
            QueryOperator::GreaterThanOrEqualTo
        ])
    );
    assert_eq!(
        prop("p qop LIKE").available_query_operators,
        Some(vec![QueryOperator::Like])
    );
    assert_eq!(
        prop("p qop =").available_query_operators,
        Some(vec![QueryOperator::EqualTo])
    );
    // All seven is the default.
    assert_eq!(
        prop("p queryops '=, <>, <, <=, >, >=, LIKE'").available_query_operators,
        None
    );
    assert_eq!(prop("p queryops ?").available_query_operators, None);
}

#[test]
fn defaults_and_constraints() {
    let p = prop("p (long) = '1', 2 , \"3\" mandatory < '[1,10]', '(20,)'");
    assert_eq!(p.default_values, ["1", "2", "3"]);
    assert_eq!(p.value_constraints, ["[1,10]", "(20,)"]);
    assert!(p.mandatory);
    let p = prop(r"p = 'it''s', 'back\\slash' < 'a\'b'");
    assert_eq!(p.default_values, ["it's", "back\\slash"]);
    assert_eq!(p.value_constraints, ["a'b"]);
    let p = prop("p = ? < ?");
    assert!(p.default_values.is_empty() && p.value_constraints.is_empty());
    // Constraints may continue on the next lines (Oak's builtin types do).
    let p = prop(
        "jcr:requiredType (STRING) protected mandatory\n    < 'STRING', 'URI',\n      'BINARY'",
    );
    assert_eq!(p.value_constraints, ["STRING", "URI", "BINARY"]);
    // Numbers keep their text.
    assert_eq!(prop("p (double) = 1.5").default_values, ["1.5"]);
}

#[test]
fn primary_attribute_sets_the_primary_item() {
    for spelling in ["primary", "pri", "!", "PRIMARY"] {
        let t = one(&format!("[t]\n  - jcr:data (binary) {spelling} mandatory"));
        assert_eq!(t.primary_item.as_deref(), Some("jcr:data"), "{spelling}");
        assert!(t.properties[0].mandatory);
        let t = one(&format!("[t]\n  + jcr:content (nt:base) {spelling}"));
        assert_eq!(t.primary_item.as_deref(), Some("jcr:content"), "{spelling}");
    }
    let t = one("[t] primaryitem a\n  - b primary");
    assert_eq!(t.primary_item.as_deref(), Some("b"));
}

#[test]
fn child_node_definitions() {
    let c = child("n");
    assert_eq!(c.required_primary_types, ["nt:base"]);
    assert_eq!(c.default_primary_type, None);
    assert!(!c.same_name_siblings && !c.mandatory && !c.autocreated && !c.protected);
    let c = child("*");
    assert!(c.is_residual());
    let c = child(
        "ex:node (ex:Req1, ex:Req2) = ex:Req1 mandatory autocreated protected multiple version",
    );
    assert_eq!(c.required_primary_types, ["ex:Req1", "ex:Req2"]);
    assert_eq!(c.default_primary_type.as_deref(), Some("ex:Req1"));
    assert!(c.mandatory && c.autocreated && c.protected && c.same_name_siblings);
    assert_eq!(c.on_parent_version, OnParentVersion::Version);
    for spelling in ["sns", "*", "multiple", "SNS"] {
        assert!(
            child(&format!("n {spelling}")).same_name_siblings,
            "{spelling}"
        );
    }
    assert!(!child("n sns ?").same_name_siblings);
    let c = child("n (?) = ?");
    assert_eq!(c.required_primary_types, ["nt:base"]);
    assert_eq!(c.default_primary_type, None);
    assert_eq!(child("icon.png (nt:file)").name, "icon.png");
    assert_eq!(child("'my-child' (nt:base)").name, "my-child");
}

#[test]
fn comments_anywhere() {
    let t = one(
        "/* head */ [x:T] // after name\n > /* inline */ x:S // tail\n  /** doc */ - p (long) /* c */ mandatory\n  // line\n  + c",
    );
    assert_eq!(t.supertypes, ["x:S"]);
    assert!(t.properties[0].mandatory);
    assert_eq!(t.children.len(), 1);
}

#[test]
fn items_keep_declaration_order_and_split_by_kind() {
    let t = one("[t]\n + c1\n - p1\n + c2\n - p2");
    assert_eq!(
        t.properties
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["p1", "p2"]
    );
    assert_eq!(
        t.children
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["c1", "c2"]
    );
}

#[test]
fn locations_of_types() {
    let f = parse("<a='urn:a'>\n\n  [a:T]\n[a:U] [a:T]", "f.cnd").unwrap();
    let l: Vec<String> = f.locations.iter().map(|l| l.to_string()).collect();
    assert_eq!(l, ["f.cnd:3:3", "f.cnd:4:1", "f.cnd:4:7"]);
    assert_eq!(
        f.location_of("a:T").map(|l| l.to_string()).as_deref(),
        Some("f.cnd:4:7")
    );
}

#[test]
fn fixture_with_every_feature() {
    let text = include_str!("../../../fixtures/cnd/all-features.cnd");
    let f = parse(text, "all-features.cnd").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.types.len(), 5);
    let e = &f.types[0];
    assert_eq!(e.supertypes, ["demo:Base", "other:Mixin"]);
    assert!(e.orderable && e.mixin && e.abstract_);
    assert_eq!(e.queryable, Some(false));
    assert_eq!(e.primary_item.as_deref(), Some("demo:title"));
    assert_eq!(e.properties.len(), 18);
    assert_eq!(e.children.len(), 4);
    let title = &e.properties[0];
    assert_eq!(title.default_values, ["Untitled"]);
    assert_eq!(title.value_constraints, [".+", "x.*"]);
    assert!(title.mandatory && title.autocreated && title.protected && title.multiple);
    assert_eq!(title.on_parent_version, OnParentVersion::Version);
    assert!(!title.full_text_searchable && !title.query_orderable);
    let variants = &f.types[4];
    assert_eq!(variants.name, "NoPrefix");
    assert!(!variants.orderable && !variants.mixin);
    assert!(!variants.properties[0].mandatory);
    insta::assert_debug_snapshot!("all_features_model", f.types);
}

#[test]
fn utf8_is_required() {
    let e = parse_bytes(b"[a]\n[b\xff]", "bad.cnd").unwrap_err();
    assert_eq!(e.to_string(), "bad.cnd:2:3: the file is not valid UTF-8");
    assert_eq!(
        parse_bytes("[é]".as_bytes(), "ok.cnd").unwrap().types[0].name,
        "é"
    );
}

#[test]
fn malformed_input_reports_line_column_and_expectation() {
    let cases = [
        ("[x:T", "t.cnd:1:5: expected ']' after the node type name, found end of file"),
        ("[x:T\n  - p", "t.cnd:2:3: expected ']' after the node type name, found '-'"),
        ("[]", "t.cnd:1:2: expected a node type name, found ']'"),
        ("x:T]", "t.cnd:1:1: expected '<' (a namespace mapping) or '[' (a node type definition), found 'x:T'"),
        ("<a 'urn:a'>", "t.cnd:1:4: expected '=' after the namespace prefix, found quoted string 'urn:a'"),
        ("<a='urn:a'", "t.cnd:1:11: expected '>' after the namespace URI, found end of file"),
        ("<1a='urn:a'>", "t.cnd:1:2: '1a' is not a valid namespace prefix (an XML NCName)"),
        ("<a=''>", "t.cnd:1:1: prefix 'a' cannot be mapped to the empty namespace URI"),
        ("[x:T] >", "t.cnd:1:8: expected a supertype name, found end of file"),
        ("[x:T] > a:B,", "t.cnd:1:13: expected a supertype name, found end of file"),
        ("[x:T]\n  - p (strin)", "t.cnd:2:8: expected a property type (STRING, BINARY, LONG, DOUBLE, DECIMAL, BOOLEAN, DATE, NAME, PATH, REFERENCE, WEAKREFERENCE, URI, UNDEFINED or *), found 'strin'"),
        ("[x:T]\n  - p (string", "t.cnd:2:14: expected ')' after the property type, found end of file"),
        ("[x:T]\n  - p (string) =", "t.cnd:2:17: expected a default value (quote values that contain spaces or characters such as - + / * < > =), found end of file"),
        ("[x:T]\n  - p (long) = -1", "t.cnd:2:16: expected a default value (quote values that contain spaces or characters such as - + / * < > =), found '-'"),
        ("[x:T]\n  - p (string) mandatory = 'x'", "t.cnd:2:26: expected the next definition (default values come right after the property type, before the attributes), found '='"),
        ("[x:T]\n  - p (string) < 'x' mandatory", "t.cnd:2:22: expected the next definition (attributes come before the value constraints), found 'mandatory'"),
        ("[x:T]\n  - p queryops 'LIKE, ~'", "t.cnd:2:16: '~' is not a query operator (expected =, <>, <, <=, >, >= or LIKE)"),
        ("[x:T]\n  - p queryops ''", "t.cnd:2:16: '' is not a query operator (expected =, <>, <, <=, >, >= or LIKE)"),
        ("[x:T]\n  - p OPV", "t.cnd:2:10: expected '?' after 'OPV', found end of file"),
        ("[x:T]\n  -", "t.cnd:2:4: expected a property name after '-', found end of file"),
        ("[x:T]\n  + (nt:base)", "t.cnd:2:5: expected a child node name after '+', found '('"),
        ("[x:T]\n  + c (nt:base", "t.cnd:2:15: expected ')' after the required primary types, found end of file"),
        ("[x:T]\n  + c mandatory = x:D", "t.cnd:2:17: expected the next definition (required types and the default type come right after the child node name, before the attributes), found '='"),
        ("[x:T]\n  - p\n  orderable", "t.cnd:3:3: expected '-' (a property definition), '+' (a child node definition), '[' (the next node type) or the end of the file (node type options come before the property and child node definitions), found 'orderable'"),
        ("[x:T] ; ", "t.cnd:1:7: expected '-' (a property definition), '+' (a child node definition), '[' (the next node type) or the end of the file, found ';'"),
        ("[a:b:c]", "t.cnd:1:2: 'a:b:c' is not a valid node type name: 'a:b:c' contains ':', which a JCR name may not contain"),
        ("[x:T]\n  - 'a/b'", "t.cnd:2:5: 'a/b' is not a valid property name after '-': 'a/b' contains '/', which a JCR name may not contain"),
        ("[x:T]\n  + c (1x:Bad)", "t.cnd:2:8: '1x:Bad' is not a valid required primary type name: '1x:Bad' has an invalid namespace prefix"),
        ("[x:T] > 'x:'", "t.cnd:1:9: 'x:' is not a valid supertype name: a name must not be empty"),
        ("[x:T]\n  - p = 'open", "t.cnd:2:9: unterminated string: no closing ' before the end of file"),
        ("[x:T] /* never", "t.cnd:1:7: unterminated comment: '/*' has no closing '*/'"),
        ("[x:T]\n  - p (path) < /content", "t.cnd:2:16: unexpected '/': quote names and values that contain '/' (comments start with '//' or '/*')"),
    ];
    let mut wrong = Vec::new();
    for (text, expected) in cases {
        let got = err(text);
        if got != expected {
            wrong.push(format!("for {text:?}\n  got:  {got}\n  want: {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn residual_property_cannot_be_primary() {
    assert_eq!(
        err("[x:T]\n  - * (string) primary"),
        "t.cnd:2:16: a residual ('*') definition cannot be the primary item"
    );
}

#[test]
fn errors_carry_structured_locations() {
    let e = parse("\n\n   [x", "dir/f.cnd").unwrap_err();
    assert_eq!(e.location().file, "dir/f.cnd");
    assert_eq!((e.location().line, e.location().column), (3, 6));
    assert!(matches!(e, CndError::Syntax { .. }));
}

#[test]
fn never_panics_on_truncations_of_valid_input() {
    let text = include_str!("../../../fixtures/cnd/all-features.cnd");
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, _) in chars.iter().step_by(3) {
        let _ = parse(&text[..*i], "cut.cnd");
    }
}
