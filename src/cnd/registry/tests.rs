use super::closure::java_hash_set_order;
use super::*;
use crate::cnd::check::Violation;
use crate::cnd::definition::PropertyDef;
use crate::cnd::parse;
use crate::node::Node;
use crate::value::{Property, Value};

const SLING: &str = "http://sling.apache.org/jcr/sling/1.0";

fn registry_with_fixtures() -> (NodeTypeRegistry, NamespaceRegistry) {
    let mut reg = NodeTypeRegistry::new();
    let mut ns = NamespaceRegistry::new();
    ns.register("vlt", crate::namespace::VLT);
    for (name, text) in [
        ("sling.cnd", include_str!("../../../fixtures/cnd/sling.cnd")),
        ("app.cnd", include_str!("../../../fixtures/cnd/app.cnd")),
    ] {
        let cnd = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
        reg.register_cnd(&cnd, &mut ns)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    (reg, ns)
}

fn def(text: &str) -> Vec<NodeTypeDef> {
    parse(text, "t.cnd").unwrap().types
}

#[test]
fn starts_with_the_built_ins_and_nothing_else() {
    let reg = NodeTypeRegistry::new();
    for t in [
        "nt:base",
        "nt:unstructured",
        "nt:folder",
        "nt:file",
        "nt:resource",
        "mix:created",
        "mix:versionable",
        "rep:ACL",
        "rep:GrantACE",
        "rep:CugPolicy",
        "rep:PrincipalPolicy",
        "rep:User",
        "rep:SystemUser",
        "rep:Group",
        "rep:Token",
        "oak:QueryIndexDefinition",
        "mix:atomicCounter",
        "vlt:FullCoverage",
        "vlt:PackageDefinition",
    ] {
        assert!(reg.is_known(t), "{t}");
    }
    for t in [
        "cq:Page",
        "dam:Asset",
        "sling:Folder",
        "mgnl:page",
        "crx:XmlNode",
    ] {
        assert!(!reg.is_known(t), "{t}");
        assert!(reg.get(t).is_none());
    }
    assert_eq!(reg.len(), crate::cnd::builtin::definitions().len());
    assert_eq!(reg.custom_types().count(), 0);
    assert!(NodeTypeRegistry::empty().is_empty());
}

#[test]
fn register_adds_missing_types_and_never_changes_existing_ones() {
    let mut reg = NodeTypeRegistry::new();
    let report = reg
        .register(def("[x:B] > x:A\n[x:A]\n  - p (long)\n[nt:folder]\n  - changed (string)\n[nt:base] abstract\n  - jcr:primaryType (name) mandatory autocreated protected compute\n  - jcr:mixinTypes (name) protected multiple compute"))
        .unwrap();
    assert_eq!(report.added, ["x:B", "x:A"]);
    assert_eq!(report.skipped, ["nt:folder", "nt:base"]);
    assert_eq!(report.skipped_different, ["nt:folder"]);
    assert!(report.duplicates.is_empty());
    assert!(reg.get("nt:folder").unwrap().properties.is_empty());
    // Registering again changes nothing.
    let again = reg.register(def("[x:A]\n  - p (string)")).unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.skipped_different, ["x:A"]);
    assert_eq!(
        reg.get("x:A").unwrap().properties[0].required_type,
        PropertyType::Long
    );
}

#[test]
fn duplicates_in_a_batch_keep_the_last_definition() {
    let mut reg = NodeTypeRegistry::new();
    // As in Jackrabbit's test_same_nt_name_cnd_nodetypes.cnd.
    let report = reg
        .register(def("[x:Same] > nt:base\n[x:Same] > nt:unstructured"))
        .unwrap();
    assert_eq!(report.added, ["x:Same"]);
    assert_eq!(report.duplicates, ["x:Same"]);
    assert_eq!(reg.get("x:Same").unwrap().supertypes, ["nt:unstructured"]);
}

#[test]
fn unknown_or_cyclic_supertypes_fail_the_whole_batch() {
    let mut reg = NodeTypeRegistry::new();
    let e = reg
        .register(def("[x:Ok]\n[x:T] > x:Missing, nt:folder"))
        .unwrap_err();
    assert_eq!(
        e.problems,
        [RegisterProblem::UnknownSupertype {
            type_name: "x:T".into(),
            supertype: "x:Missing".into(),
            location: None,
        }]
    );
    assert_eq!(
        e.to_string(),
        "node types not registered: x:T: supertype x:Missing is not registered and not defined with it"
    );
    assert!(
        !reg.is_known("x:Ok"),
        "nothing of a failed batch is registered"
    );
    let e = reg
        .register(def(
            "[x:A] > x:C\n[x:B] > x:A\n[x:C] > x:B\n[x:Self] > x:Self",
        ))
        .unwrap_err();
    assert_eq!(
        e.problems,
        [
            RegisterProblem::CyclicInheritance {
                cycle: vec!["x:A".into(), "x:C".into(), "x:B".into(), "x:A".into()]
            },
            RegisterProblem::CyclicInheritance {
                cycle: vec!["x:Self".into(), "x:Self".into()]
            },
        ]
    );
    assert!(e
        .to_string()
        .contains("cyclic inheritance: x:A > x:C > x:B > x:A"));
    // A code-built definition with a bad name.
    let e = reg.register([NodeTypeDef::new("a/b")]).unwrap_err();
    assert!(
        e.to_string().contains("'a/b' is not a valid JCR name"),
        "{e}"
    );
}

#[test]
fn register_cnd_maps_prefixes_to_the_repository() {
    let (reg, ns) = registry_with_fixtures();
    // The fixture says s:, the repository's prefix for that URI is sling (it was
    // new, so the CND's prefix was taken — here 's').
    assert_eq!(ns.prefix(SLING), Some("s"));
    assert!(reg.is_known("s:Folder"));
    // What a repository persists, and reading it back gives the same registry.
    let custom: Vec<NodeTypeDef> = reg.custom_types().cloned().collect();
    assert_eq!(custom.len(), 9);
    let text = crate::cnd::write_with(&custom, &ns).unwrap();
    let mut reopened = NodeTypeRegistry::new();
    let mut ns2 = NamespaceRegistry::new();
    reopened
        .register_cnd(&parse(&text, "persisted.cnd").unwrap(), &mut ns2)
        .unwrap();
    assert_eq!(reopened, reg);

    // A repository that already maps the Sling URI to 'sling' gets sling: names.
    let mut reg = NodeTypeRegistry::new();
    let mut ns = NamespaceRegistry::new();
    ns.register("sling", SLING);
    let cnd = parse(include_str!("../../../fixtures/cnd/sling.cnd"), "sling.cnd").unwrap();
    let report = reg.register_cnd(&cnd, &mut ns).unwrap();
    assert_eq!(
        report.added,
        [
            "sling:Folder",
            "sling:OrderedFolder",
            "sling:Resource",
            "sling:ResourceSuperType"
        ]
    );
    let f = reg.get("sling:OrderedFolder").unwrap();
    assert_eq!(f.supertypes, ["sling:Folder"]);
    assert_eq!(
        f.children[0].default_primary_type.as_deref(),
        Some("sling:OrderedFolder")
    );
    assert_eq!(
        reg.get("sling:Resource").unwrap().properties[0].name,
        "sling:resourceType"
    );

    // A prefix taken by another URI is numbered, and NAME defaults follow.
    let mut ns = NamespaceRegistry::new();
    ns.register("app", "urn:other");
    let mut reg = NodeTypeRegistry::new();
    let cnd = parse(include_str!("../../../fixtures/cnd/app.cnd"), "app.cnd").unwrap();
    reg.register_cnd(&cnd, &mut ns).unwrap();
    assert_eq!(
        ns.prefix("http://example.com/jcrpack/app/1.0"),
        Some("app0")
    );
    let pc = reg.get("app0:PageContent").unwrap();
    assert_eq!(pc.properties[0].name, "app0:template");
    assert_eq!(pc.properties[0].default_values, ["app0:default"]);
    assert_eq!(
        reg.get("app0:Page").unwrap().children[0]
            .default_primary_type
            .as_deref(),
        Some("app0:PageContent")
    );
}

#[test]
fn register_cnd_rejects_undeclared_unknown_prefixes() {
    let cnd = parse(
        "<a='urn:a'>\n[a:T]\n\n[a:U] > b:Missing",
        "pkg/nodetypes.cnd",
    )
    .unwrap();
    let mut ns = NamespaceRegistry::new();
    let mut reg = NodeTypeRegistry::new();
    let e = reg.register_cnd(&cnd, &mut ns).unwrap_err();
    assert_eq!(
        e.to_string(),
        "node types not registered: pkg/nodetypes.cnd:4:1: a:U: 'b:Missing' uses the prefix 'b', \
         which the CND does not declare and the repository does not know"
    );
    assert!(!reg.is_known("a:T"));
    // An unknown supertype is reported where its type starts.
    let cnd = parse("<a='urn:a'>\n\n  [a:T] > a:Missing", "pkg/nodetypes.cnd").unwrap();
    let e = reg.register_cnd(&cnd, &mut ns).unwrap_err();
    assert_eq!(
        e.to_string(),
        "node types not registered: pkg/nodetypes.cnd:3:3: a:T: supertype a:Missing is not \
         registered and not defined with it"
    );
    // Built-in prefixes need no declaration.
    let cnd = parse("[x] > nt:folder\n  - jcr:title", "t.cnd").unwrap();
    assert_eq!(reg.register_cnd(&cnd, &mut ns).unwrap().added, ["x"]);
    // Another prefix for a known URI is rewritten to the repository's prefix.
    let cnd = parse("<REP='internal'>\n[REP:Thing] > REP:Policy", "t.cnd").unwrap();
    assert_eq!(
        reg.register_cnd(&cnd, &mut ns).unwrap().added,
        ["rep:Thing"]
    );
    assert_eq!(reg.get("rep:Thing").unwrap().supertypes, ["rep:Policy"]);
    assert_eq!(ns.uri("REP"), None);
}

#[test]
fn closures_kept_from_registration_follow_later_batches() {
    // Kept per type when a batch registers: a primary type registered before
    // nt:base gains it once nt:base comes, a later subtype sees its supertypes, and
    // a refused batch changes nothing.
    let mut reg = NodeTypeRegistry::empty();
    let names = |reg: &NodeTypeRegistry, t: &str| -> Vec<String> {
        reg.type_closure(t).iter().map(|d| d.name.clone()).collect()
    };
    reg.register([NodeTypeDef::new("x:a")]).unwrap();
    assert_eq!(names(&reg, "x:a"), ["x:a"]);
    reg.register([NodeTypeDef::new("nt:base")]).unwrap();
    assert_eq!(names(&reg, "x:a"), ["x:a", "nt:base"]);
    let mut b = NodeTypeDef::new("x:b");
    b.supertypes = vec!["x:a".into()];
    reg.register([b]).unwrap();
    assert_eq!(names(&reg, "x:b"), ["x:b", "x:a", "nt:base"]);
    assert!(reg.is_node_type("x:b", "nt:base"));
    let mut c = NodeTypeDef::new("x:c");
    c.supertypes = vec!["x:missing".into()];
    assert!(reg.register([c]).is_err());
    assert!(names(&reg, "x:c").is_empty());
    assert_eq!(names(&reg, "x:b"), ["x:b", "x:a", "nt:base"]);
    // The same types registered in another order make an equal registry.
    let mut other = NodeTypeRegistry::empty();
    other.register([NodeTypeDef::new("nt:base")]).unwrap();
    let mut b = NodeTypeDef::new("x:b");
    b.supertypes = vec!["x:a".into()];
    other.register([b, NodeTypeDef::new("x:a")]).unwrap();
    assert_eq!(reg, other);
    assert_eq!(names(&other, "x:b"), ["x:b", "x:a", "nt:base"]);
    // A chain longer than the closures kept is worked out when asked, the same.
    let chain: Vec<NodeTypeDef> = (0..200)
        .map(|i| {
            let mut d = NodeTypeDef::new(format!("x:c{i}"));
            if i > 0 {
                d.supertypes = vec![format!("x:c{}", i - 1)];
            }
            d
        })
        .collect();
    reg.register(chain).unwrap();
    let long = names(&reg, "x:c199");
    assert_eq!(long.len(), 201);
    assert_eq!(long.first().map(String::as_str), Some("x:c199"));
    assert_eq!(long.get(199).map(String::as_str), Some("x:c0"));
    assert_eq!(long.last().map(String::as_str), Some("nt:base"));
    assert!(reg.is_node_type("x:c199", "x:c0"));
    assert_eq!(
        names(&reg, "x:c3"),
        ["x:c3", "x:c2", "x:c1", "x:c0", "nt:base"]
    );
}

#[test]
fn node_type_closure_includes_mixins_and_nt_base() {
    let (reg, _) = registry_with_fixtures();
    assert!(reg.is_node_type("nt:folder", "nt:hierarchyNode"));
    assert!(reg.is_node_type("nt:folder", "mix:created"));
    assert!(reg.is_node_type("nt:folder", "nt:base"));
    assert!(reg.is_node_type("nt:folder", "nt:folder"));
    assert!(!reg.is_node_type("nt:folder", "nt:unstructured"));
    assert!(reg.is_node_type("s:OrderedFolder", "nt:folder"));
    assert!(reg.is_node_type("nt:resource", "mix:referenceable"));
    assert!(!reg.is_node_type("mix:title", "nt:base"));
    assert!(reg.is_node_type("vlt:HierarchyNode", "nt:hierarchyNode"));
    assert!(reg.is_node_type("cq:Page", "cq:Page"));
    assert!(!reg.is_node_type("cq:Page", "nt:base"));
    let names: Vec<&str> = reg
        .type_closure("rep:User")
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "rep:User",
            "rep:Authorizable",
            "mix:referenceable",
            "nt:hierarchyNode",
            "mix:created",
            "nt:base",
            "rep:Impersonatable"
        ]
    );
    let eff = reg.effective("nt:unstructured", ["mix:title", "cq:Unknown"]);
    assert!(eff.is_node_type("mix:title"));
    assert!(eff.is_node_type("nt:base"));
    assert_eq!(eff.unknown(), ["cq:Unknown"]);
    assert!(!eff.is_complete());
}

#[test]
fn property_definitions_named_before_residual_matching_type_and_multiplicity() {
    let (reg, _) = registry_with_fixtures();
    let eff = reg.effective("app:PageContent", Vec::<String>::new());
    let d = eff
        .property_definition("app:count", PropertyType::Long, false)
        .unwrap();
    assert_eq!(
        (d.declaring_type, d.name.as_str()),
        ("app:PageContent", "app:count")
    );
    // An untyped value matches the named definition by name (Oak converts it).
    let d = eff
        .property_definition("app:count", PropertyType::Undefined, false)
        .unwrap();
    assert_eq!(d.name, "app:count");
    // A typed value of another type falls through to the residual definition.
    let d = eff
        .property_definition("app:count", PropertyType::Boolean, false)
        .unwrap();
    assert_eq!(
        (d.declaring_type, d.name.as_str()),
        ("nt:unstructured", "*")
    );
    assert!(!d.multiple);
    // Multiplicity must match: app:count has no multi-valued definition.
    let d = eff
        .property_definition("app:count", PropertyType::Long, true)
        .unwrap();
    assert!(d.is_residual() && d.multiple);
    // Inherited from the mixin supertype.
    let d = eff
        .property_definition("jcr:title", PropertyType::String, false)
        .unwrap();
    assert_eq!(d.declaring_type, "mix:title");
    // A strict type has no definition for an undeclared multi-valued property.
    let strict = reg.effective("app:Settings", Vec::<String>::new());
    assert!(strict
        .property_definition("other", PropertyType::String, true)
        .is_none());
    assert!(strict
        .property_definition("other", PropertyType::String, false)
        .is_some());
}

#[test]
fn protected_properties_are_dropped_on_import() {
    let (reg, _) = registry_with_fixtures();
    let none: [&str; 0] = [];
    let u = PropertyType::Undefined;
    // mix:created makes jcr:created and jcr:createdBy protected...
    assert!(reg.is_protected_property("nt:unstructured", ["mix:created"], "jcr:created", u, false));
    assert!(reg.is_protected_property(
        "nt:unstructured",
        ["mix:created"],
        "jcr:createdBy",
        u,
        false
    ));
    assert!(reg.is_protected_property("nt:folder", none, "jcr:created", PropertyType::Date, false));
    // ...but not on plain unstructured nodes, nor on vlt:PackageDefinition, which
    // declares them unprotected (JCRVLT-705).
    assert!(!reg.is_protected_property("nt:unstructured", none, "jcr:created", u, false));
    assert!(!reg.is_protected_property("vlt:PackageDefinition", none, "jcr:created", u, false));
    // A multi-valued jcr:created does not match the single-valued definition.
    assert!(!reg.is_protected_property("nt:unstructured", ["mix:created"], "jcr:created", u, true));
    // A single value is covered by a multi-valued definition (FileVault's rule).
    assert!(reg.is_protected_property(
        "nt:unstructured",
        ["mix:versionable"],
        "jcr:predecessors",
        u,
        false
    ));
    assert!(reg.is_protected_property("nt:base", none, "jcr:primaryType", u, false));
    assert!(reg.is_protected_property(
        "nt:unstructured",
        ["mix:referenceable"],
        "jcr:uuid",
        u,
        false
    ));
    assert!(!reg.is_protected_property(
        "nt:unstructured",
        ["mix:lastModified"],
        "jcr:lastModified",
        u,
        false
    ));
    assert!(reg.is_protected_property("app:PageContent", none, "app:token", u, false));
    // Unknown types protect nothing.
    assert!(!reg.is_protected_property("cq:Page", none, "jcr:created", u, false));
}

#[test]
fn default_child_types_for_sling_folder_like_definitions() {
    let (reg, _) = registry_with_fixtures();
    let none: [&str; 0] = [];
    assert_eq!(
        reg.default_child_type("s:Folder", none, "x").as_deref(),
        Some("s:Folder")
    );
    assert_eq!(
        reg.default_child_type("s:OrderedFolder", none, "x")
            .as_deref(),
        Some("s:OrderedFolder")
    );
    assert_eq!(reg.default_child_type("nt:folder", none, "x"), None);
    assert_eq!(
        reg.default_child_type("nt:unstructured", none, "x")
            .as_deref(),
        Some("nt:unstructured")
    );
    // Named before residual.
    assert_eq!(
        reg.default_child_type("app:Page", none, "jcr:content")
            .as_deref(),
        Some("app:PageContent")
    );
    assert_eq!(
        reg.default_child_type("app:Page", none, "sub").as_deref(),
        Some("app:Page")
    );
    assert_eq!(
        reg.default_child_type("rep:root", none, "jcr:system")
            .as_deref(),
        Some("rep:system")
    );
    assert_eq!(
        reg.default_child_type("rep:root", none, "content")
            .as_deref(),
        Some("nt:unstructured")
    );
    // A mixin can contribute the definition.
    assert_eq!(
        reg.default_child_type("nt:folder", ["mix:indexable"], "oak:index")
            .as_deref(),
        Some("nt:unstructured")
    );
    // FileVault's intermediate-node rule (reference §3.6).
    assert_eq!(
        reg.intermediate_node_type("s:Folder", none, "x"),
        "s:Folder"
    );
    assert_eq!(
        reg.intermediate_node_type("nt:folder", none, "x"),
        "nt:folder"
    );
    assert_eq!(
        reg.intermediate_node_type("rep:root", none, "apps"),
        "nt:unstructured"
    );
    assert_eq!(
        reg.intermediate_node_type("cq:Page", none, "x"),
        "nt:folder"
    );
    let mut reg2 = reg.clone();
    reg2.register(def(
        "[x:Base]\n  + * (nt:base) = nt:base\n[x:Hier]\n  + * (nt:base) = nt:hierarchyNode",
    ))
    .unwrap();
    assert_eq!(
        reg2.intermediate_node_type("x:Base", none, "a"),
        "nt:folder"
    );
    assert_eq!(
        reg2.intermediate_node_type("x:Hier", none, "a"),
        "nt:folder"
    );
}

#[test]
fn child_definitions_check_required_types() {
    let (reg, _) = registry_with_fixtures();
    let folder = reg.effective("nt:folder", Vec::<String>::new());
    assert!(folder.child_definition("a", "nt:file").is_some());
    assert!(folder.child_definition("a", "s:Folder").is_some());
    assert!(folder.child_definition("a", "nt:unstructured").is_none());
    assert!(folder.child_definition("a", "cq:Unknown").is_none());
    let page = reg.effective("app:Page", Vec::<String>::new());
    let d = page
        .child_definition("jcr:content", "nt:unstructured")
        .unwrap();
    assert_eq!(d.name, "jcr:content");
    let d = page.child_definition("child", "app:SubPage").unwrap();
    assert!(d.is_residual());
    assert!(page.child_definition("child", "nt:unstructured").is_none());
}

#[test]
fn orderable_is_inherited() {
    let (mut reg, _) = registry_with_fixtures();
    assert_eq!(reg.is_orderable("nt:unstructured"), Some(true));
    assert_eq!(reg.is_orderable("rep:root"), Some(true));
    assert_eq!(reg.is_orderable("vlt:PackageDefinition"), Some(true));
    assert_eq!(reg.is_orderable("nt:folder"), Some(false));
    assert_eq!(reg.is_orderable("s:Folder"), Some(false));
    assert_eq!(reg.is_orderable("s:OrderedFolder"), Some(true));
    assert_eq!(reg.is_orderable("app:SubPage"), Some(true));
    assert_eq!(reg.is_orderable("cq:Page"), None);
    reg.register(def("[x:Deep] > s:OrderedFolder")).unwrap();
    assert_eq!(reg.is_orderable("x:Deep"), Some(true));
    assert!(!reg.get("x:Deep").unwrap().orderable);
    assert!(reg.effective("nt:folder", ["x:Unknown"]).types().count() > 0);
    assert!(!reg.effective("nt:folder", ["mix:title"]).is_orderable());
}

#[test]
fn mandatory_and_autocreated_items() {
    let (reg, _) = registry_with_fixtures();
    let names = |v: Vec<crate::cnd::Declared<'_, PropertyDef>>| {
        v.iter().map(|d| d.name.clone()).collect::<Vec<_>>()
    };
    let file = reg.effective("nt:file", Vec::<String>::new());
    let mc: Vec<_> = file
        .mandatory_children()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(mc, ["jcr:content"]);
    assert_eq!(names(file.mandatory_properties()), ["jcr:primaryType"]);
    assert_eq!(
        names(file.autocreated_properties()),
        ["jcr:created", "jcr:createdBy", "jcr:primaryType"]
    );
    let res = reg.effective("nt:resource", Vec::<String>::new());
    assert_eq!(
        names(res.mandatory_properties()),
        ["jcr:data", "jcr:uuid", "jcr:primaryType"]
    );
    let settings = reg.effective("app:Settings", Vec::<String>::new());
    assert_eq!(
        names(settings.mandatory_properties()),
        ["app:required", "app:auto", "jcr:primaryType"]
    );
    let content = reg.effective("app:PageContent", Vec::<String>::new());
    let ac: Vec<_> = content
        .autocreated_children()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(ac, ["app:settings"]);
}

fn node(primary: &str) -> Node {
    Node::new("n", primary)
}

#[test]
fn check_node_accepts_valid_nodes() {
    let (reg, _) = registry_with_fixtures();
    let n = node("nt:unstructured")
        .with(Property::string("anything", "x"))
        .with(Property::multi(
            "list",
            PropertyType::Long,
            vec![Value::Long(1)],
        ))
        .with_child(node("nt:folder"))
        .with_child(node("nt:unstructured"));
    assert_eq!(reg.check_node(&n), []);
    let mut file = node("nt:file").with_child(Node::new("jcr:content", "nt:resource"));
    file.mixins.push("mix:title".into());
    file.set(Property::string("jcr:title", "T"));
    assert_eq!(reg.check_node(&file), []);
    let res = Node::new("jcr:content", "nt:resource").with(Property::single(
        "jcr:data",
        Value::Binary(crate::value::Binary::inline(b"x".to_vec())),
    ));
    assert_eq!(reg.check_node(&res), []);
    // Protected properties are not checked (the importer drops them).
    let mut c = node("nt:unstructured").with(Property::string("jcr:created", "x"));
    c.mixins.push("mix:created".into());
    assert_eq!(reg.check_node(&c), []);
    // Where jcr:created is an ordinary DATE property, the value must be a date.
    let c = node("vlt:PackageDefinition").with(Property::string("jcr:created", "x"));
    assert_eq!(
        reg.check_node(&c),
        [Violation::ValueNotConvertible {
            name: "jcr:created".into(),
            required_type: PropertyType::Date,
            value: "x".into()
        }]
    );
}

#[test]
fn check_node_reports_unknown_types_only() {
    let (reg, _) = registry_with_fixtures();
    let n = node("cq:Page")
        .with(Property::string("whatever", "x"))
        .with_child(node("nt:unstructured"));
    let v = reg.check_node(&n);
    assert_eq!(
        v,
        [Violation::UnknownType {
            name: "cq:Page".into()
        }]
    );
    assert!(!v[0].is_error());
    assert_eq!(
        v[0].to_string(),
        "node type cq:Page is not registered (not checked)"
    );
    let mut m = node("nt:folder").with(Property::string("bad", "x"));
    m.mixins = vec!["mix:title".into(), "cq:ReplicationStatus".into()];
    assert_eq!(
        reg.check_node(&m),
        [Violation::UnknownType {
            name: "cq:ReplicationStatus".into()
        }]
    );
    // Children of unknown types are not checked against the parent.
    let f = node("nt:folder").with_child(node("dam:Asset"));
    assert_eq!(reg.check_node(&f), []);
}

#[test]
fn check_node_reports_violations() {
    let (reg, _) = registry_with_fixtures();
    assert_eq!(reg.check_node(&node("")), [Violation::MissingPrimaryType]);
    let mut n = node("nt:folder")
        .with(Property::string("foo", "x"))
        .with_child(node("nt:unstructured"))
        .with_child(Node::new("a", "nt:folder"))
        .with_child(Node::new("a", "nt:folder"));
    n.mixins.push("nt:folder".into());
    let v: Vec<String> = reg.check_node(&n).iter().map(|v| v.to_string()).collect();
    assert_eq!(
        v,
        [
            "nt:folder is not a mixin type",
            "no definition allows the single-valued String property foo",
            "no definition allows a child n of type nt:unstructured",
            "same-name siblings a are not allowed",
        ]
    );
    assert_eq!(
        reg.check_node(&node("mix:title")),
        [Violation::MixinAsPrimary {
            name: "mix:title".into()
        }]
    );
    assert_eq!(
        reg.check_node(&node("nt:hierarchyNode")),
        [Violation::AbstractPrimary {
            name: "nt:hierarchyNode".into()
        }]
    );
    let v: Vec<String> = reg
        .check_node(&node("nt:file"))
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(
        v,
        ["mandatory child node jcr:content (of nt:file) is missing"]
    );
    let v: Vec<String> = reg
        .check_node(&node("nt:resource"))
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(
        v,
        ["mandatory property jcr:data (of nt:resource) is missing"]
    );
    // Same-name siblings are fine where the definition allows them.
    let u = node("nt:unstructured")
        .with_child(Node::new("a", "nt:unstructured"))
        .with_child(Node::new("a", "nt:unstructured"));
    assert_eq!(reg.check_node(&u), []);
}

#[test]
fn check_node_converts_values_and_applies_constraints() {
    let (reg, _) = registry_with_fixtures();
    let content = |p: Property| node("app:PageContent").with(p);
    let v = |n: &Node| -> Vec<String> { reg.check_node(n).iter().map(|v| v.to_string()).collect() };
    assert_eq!(
        v(&content(Property::string("app:mode", "inline"))),
        Vec::<String>::new()
    );
    assert_eq!(
        v(&content(Property::string("app:mode", "floating"))),
        ["property app:mode: 'floating' meets none of the constraints 'auto', 'inline'"]
    );
    assert_eq!(
        v(&content(Property::string("app:count", "7"))),
        Vec::<String>::new()
    );
    assert_eq!(
        v(&content(Property::string("app:count", "11"))),
        ["property app:count: '11' meets none of the constraints '[0,10]'"]
    );
    assert_eq!(
        v(&content(Property::string("app:count", "many"))),
        ["property app:count: 'many' is not a valid Long value"]
    );
    // A typed value of another type is held by the residual definition instead.
    assert_eq!(
        v(&content(Property::single(
            "app:count",
            Value::Boolean(true)
        ))),
        Vec::<String>::new()
    );
    assert_eq!(
        v(&content(Property::string(
            "app:template",
            "not a:valid:name"
        ))),
        ["property app:template: 'not a:valid:name' is not a valid Name value"]
    );
    let mut tagged = node("nt:unstructured").with(Property::string("app:tag", "other"));
    tagged.mixins.push("app:Tagged".into());
    assert_eq!(
        v(&tagged),
        ["property app:tag: 'other' meets none of the constraints 'tag:.*'"]
    );
    let strict = node("app:Settings")
        .with(Property::string("app:required", "x"))
        .with(Property::multi("list", PropertyType::String, vec![]))
        .with_child(node("nt:unstructured"))
        .with_child(Node::new("app:items", "nt:unstructured"));
    assert_eq!(
        v(&strict),
        ["no definition allows the multi-valued String property list"]
    );
    let missing = node("app:Settings");
    assert_eq!(
        v(&missing),
        [
            "mandatory property app:required (of app:Settings) is missing",
            "mandatory child node app:items (of app:Settings) is missing"
        ]
    );
}

#[test]
fn closure_is_what_filevault_writes_to_nodetypes_cnd() {
    let (reg, ns) = registry_with_fixtures();
    // Built-ins are never written; the rest come in FileVault's hash-set order, each
    // followed by its supertypes and child types not written yet.
    let c = reg.closure(["nt:folder", "app:Page", "nt:unstructured", "cq:Page"]);
    let names: Vec<&str> = c.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["app:Settings", "app:Page", "app:PageContent"]);
    assert_eq!(c.unknown, ["cq:Page"]);
    assert_eq!(c.prefixes, ["app", "nt", "jcr", "mix"]);
    let c = reg.closure(["app:SubPage"]);
    let names: Vec<&str> = c.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["app:Settings", "app:SubPage", "app:Page", "app:PageContent"]
    );
    // Nothing custom: a single newline, as FileVault writes.
    assert_eq!(
        reg.export_cnd(["nt:folder", "rep:root"], &ns).unwrap(),
        "\n"
    );
    // Same input, same bytes, whatever the order of equal-bucket names.
    assert_eq!(
        reg.export_cnd(["s:OrderedFolder", "vlt:FullCoverage"], &ns)
            .unwrap(),
        reg.export_cnd(["s:OrderedFolder", "vlt:FullCoverage"], &ns)
            .unwrap()
    );
}

/// The used types of FileVault's `referenceable.zip` test export (root with a
/// repository policy, Sling folders, a full-coverage aggregate) give its
/// `nodetypes.cnd` byte for byte.
#[test]
fn export_reproduces_filevault_output() {
    let mut reg = NodeTypeRegistry::new();
    let mut ns = NamespaceRegistry::new();
    ns.register("vlt", crate::namespace::VLT);
    ns.register("sling", SLING);
    reg.register_cnd(
        &parse(
            "<'sling'='http://sling.apache.org/jcr/sling/1.0'>\n[sling:Folder] > nt:folder\n  \
             - * (undefined) multiple\n  - * (undefined)\n  + * (nt:base) = sling:Folder version\n\
             [sling:OrderedFolder] > sling:Folder\n  orderable\n  \
             + * (nt:base) = sling:OrderedFolder version",
            "sling.cnd",
        )
        .unwrap(),
        &mut ns,
    )
    .unwrap();
    let used = [
        "rep:root",
        "rep:RepoAccessControllable",
        "sling:Folder",
        "nt:unstructured",
        "vlt:FullCoverage",
        "mix:referenceable",
    ];
    let expected = "<'vlt'='http://www.day.com/jcr/vault/1.0'>\n\
                    <'sling'='http://sling.apache.org/jcr/sling/1.0'>\n\
                    <'nt'='http://www.jcp.org/jcr/nt/1.0'>\n\
                    <'rep'='internal'>\n\
                    \n\
                    [vlt:FullCoverage]\n\
                    \x20 mixin\n\
                    \n\
                    [sling:Folder] > nt:folder\n\
                    \x20 - * (undefined) multiple\n\
                    \x20 - * (undefined)\n\
                    \x20 + * (nt:base) = sling:Folder version\n\
                    \n\
                    [rep:RepoAccessControllable]\n\
                    \x20 mixin\n\
                    \x20 + rep:repoPolicy (rep:Policy) protected ignore\n\
                    \n";
    assert_eq!(reg.export_cnd(used, &ns).unwrap(), expected);
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/filevault/vault-core-it/vault-core-integration-tests/src/main/\
         resources/test-packages/referenceable.zip/META-INF/vault/nodetypes.cnd"
    );
    match std::fs::read_to_string(corpus) {
        Ok(text) => assert_eq!(text, expected),
        Err(_) => eprintln!("note: {corpus} not found, compared with the inline copy only"),
    }
    // folder-without-docview-element.zip: the ordered folder comes first and
    // pulls its supertype right after it.
    let used = [
        "rep:root",
        "rep:RepoAccessControllable",
        "sling:OrderedFolder",
        "nt:folder",
    ];
    let names: Vec<String> = reg
        .closure(used)
        .types
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        [
            "sling:OrderedFolder",
            "sling:Folder",
            "rep:RepoAccessControllable"
        ]
    );
}

#[test]
fn java_hash_set_order_matches_java() {
    // Java: new HashSet<>(List.of(...)) iterates by (h ^ h>>>16) & 15 for small sets.
    // "a".hashCode() = 97 -> bucket 1; "b" = 98 -> 2; "p" = 112 -> 0; "q" = 113 -> 1.
    let order = java_hash_set_order(vec!["b".into(), "q".into(), "a".into(), "p".into()]);
    assert_eq!(order, ["p", "q", "a", "b"]);
    // 13 elements grow the table to 32 buckets: "p" (112) now lands in bucket 16.
    let items: Vec<String> = [
        "p", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let order = java_hash_set_order(items);
    assert_eq!(order.last().map(String::as_str), Some("p"));
    assert_eq!(order.first().map(String::as_str), Some("a"));
}

#[test]
fn effective_type_iterates_definitions_in_oak_order() {
    let (reg, _) = registry_with_fixtures();
    let eff = reg.effective("s:OrderedFolder", ["mix:title"]);
    let types: Vec<&str> = eff.types().map(|t| t.name.as_str()).collect();
    assert_eq!(
        types,
        [
            "s:OrderedFolder",
            "s:Folder",
            "nt:folder",
            "nt:hierarchyNode",
            "mix:created",
            "nt:base",
            "mix:title"
        ]
    );
    let first_child = eff.child_definitions().next().unwrap();
    assert_eq!(first_child.declaring_type, "s:OrderedFolder");
    // The folder's own residual child definition comes before the inherited one.
    let d = eff.child_definition("x", "nt:unstructured").unwrap();
    assert_eq!(d.declaring_type, "s:OrderedFolder");
}

#[test]
fn corpus_cnds_register_without_touching_built_ins() {
    let base = crate::test_support::corpus();
    let base = base.display();
    // FileVault's snapshot of a real Oak repository's types, written by its exporter.
    let path = format!("{base}/filevault/vault-core/src/main/resources/default-nodetypes.cnd");
    let cnd = parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    let mut reg = NodeTypeRegistry::new();
    let mut ns = NamespaceRegistry::new();
    let report = reg.register_cnd(&cnd, &mut ns).unwrap();
    // Every type is already built in. The snapshot predates a few Oak changes the
    // built-ins follow: IGNORE on-parent-version for access control entries,
    // nt:frozenNode no longer referenceable; and a repository lists
    // vlt:PackageDefinition's properties in its own order.
    assert!(report.added.is_empty(), "{:?}", report.added);
    assert_eq!(
        report.skipped_different,
        [
            "rep:ACE",
            "nt:frozenNode",
            "vlt:PackageDefinition",
            "rep:Restrictions"
        ]
    );
    let mut theirs = cnd
        .types
        .iter()
        .find(|t| t.name == "vlt:PackageDefinition")
        .unwrap()
        .clone();
    let mut ours = reg.get("vlt:PackageDefinition").unwrap().clone();
    theirs.properties.sort_by(|a, b| a.name.cmp(&b.name));
    ours.properties.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(theirs, ours);
}

#[test]
fn only_open_types_accept_any_content() {
    let (reg, _) = registry_with_fixtures();
    assert!(reg.accepts_any_content("nt:unstructured", &[]));
    // mix:title adds named properties: a jcr:title of the wrong kind could fail.
    assert!(!reg.accepts_any_content("nt:unstructured", &["mix:title".into()]));
    // Named definitions, mandatory children, a mixin as primary, unknown types.
    for t in [
        "nt:folder",
        "nt:file",
        "nt:resource",
        "mix:title",
        "cq:Page",
    ] {
        assert!(!reg.accepts_any_content(t, &[]), "{t}");
    }
    // What it promises: check_node finds nothing wrong with the children and names.
    let n = node("nt:unstructured")
        .with(Property::string("jcr:created", "not a date"))
        .with(Property::multi(
            "m",
            PropertyType::Long,
            vec![Value::Long(1)],
        ))
        .with_child(node("nt:folder"))
        .with_child(node("nt:folder"));
    assert_eq!(reg.check_node(&n), []);
}
