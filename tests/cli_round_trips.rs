//! Issue 13, items 2 and 4 to 7: what a user meets on the first day with export,
//! extract and import as a backup and restore: access control comes back, exports
//! install anywhere, a typo in `--root` fails, the export says what it cannot carry
//! and keeps the identifiers it can, and a restored subtree keeps its place.

mod common;

use common::{dump, import, init, jcrpack};
use std::fs;
use std::path::{Path, PathBuf};

/// A package folder `name` in `dir` with filter roots `roots` and `entries`
/// (path below the package, text).
fn package(dir: &Path, name: &str, roots: &[&str], entries: &[(&str, &str)]) -> PathBuf {
    let p = dir.join(name);
    let sets: String = roots
        .iter()
        .map(|r| format!("<filter root=\"{r}\"/>"))
        .collect();
    fs::create_dir_all(p.join("META-INF/vault")).unwrap();
    fs::write(
        p.join("META-INF/vault/filter.xml"),
        format!("<?xml version=\"1.0\"?><workspaceFilter version=\"1.0\">{sets}</workspaceFilter>"),
    )
    .unwrap();
    for (path, text) in entries {
        let f = p.join(path);
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, text).unwrap();
    }
    p
}

const NS: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" xmlns:rep="internal""#;

fn doc(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        body.replace("NS", NS)
    )
}

/// `/content/secured` with a policy granting `everyone` read.
fn secured(dir: &Path) -> PathBuf {
    package(
        dir,
        "secured",
        &["/content/secured"],
        &[
            (
                "jcr_root/content/secured/.content.xml",
                &doc(r#"<jcr:root NS jcr:primaryType="nt:unstructured" title="s"/>"#),
            ),
            (
                "jcr_root/content/secured/_rep_policy.xml",
                &doc(
                    r#"<jcr:root NS jcr:primaryType="rep:ACL"><allow jcr:primaryType="rep:GrantACE" rep:principalName="everyone" rep:privileges="{Name}[jcr:read]"/></jcr:root>"#,
                ),
            ),
        ],
    )
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn zip_text(zip: &Path, entry: &str) -> String {
    let a = jcrpack::archive::open(zip, &Default::default()).unwrap();
    String::from_utf8(a.read_to_vec(entry).unwrap()).unwrap()
}

#[test]
fn an_export_holding_access_control_restores_it_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let pkg = secured(t.path());
    import(&repo, &pkg, &["--ac-handling", "overwrite"]).success();
    assert!(dump(&repo).contains("rep:policy"));
    let out = t.path().join("e.zip");
    let o = jcrpack()
        .args(["export", "--root", "/content/secured", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        zip_text(&out, "META-INF/vault/properties.xml")
            .contains("<entry key=\"acHandling\">overwrite</entry>"),
        "{}",
        zip_text(&out, "META-INF/vault/properties.xml")
    );
    assert!(
        stderr(&o).contains("acHandling=overwrite"),
        "{}",
        stderr(&o)
    );
    // Installed as it is, with no option: the policy comes back.
    let t2 = tempfile::tempdir().unwrap();
    let other = init(t2.path());
    import(&other, &out, &[]).success();
    assert!(dump(&other).contains("rep:policy"), "{}", dump(&other));
}

#[test]
fn an_install_that_ignores_policies_says_how_many() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let pkg = secured(t.path());
    let o = import(&repo, &pkg, &["--json"]).success();
    let report: serde_json::Value = serde_json::from_slice(&o.get_output().stdout).unwrap();
    assert_eq!(
        report["ignoredAcls"],
        serde_json::json!(["/content/secured/rep:policy"])
    );
    assert!(
        report["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("1 access control list in the package was not installed")),
        "{report}"
    );
    assert!(!dump(&repo).contains("rep:policy"));
    let o = import(&repo, &pkg, &[]).success();
    assert!(
        stderr(o.get_output())
            .contains("warning: 1 access control list in the package was not installed"),
        "{}",
        stderr(o.get_output())
    );
}

fn site(dir: &Path) -> PathBuf {
    let page = |title: &str| {
        doc(&format!(
            r#"<jcr:root NS jcr:primaryType="nt:unstructured" title="{title}"/>"#
        ))
    };
    package(
        dir,
        "site",
        &["/content/site"],
        &[
            (
                "jcr_root/content/site/.content.xml",
                &doc(r#"<jcr:root NS jcr:primaryType="nt:unstructured"><a/><b/><c/></jcr:root>"#),
            ),
            ("jcr_root/content/site/a/.content.xml", &page("A")),
            ("jcr_root/content/site/b/.content.xml", &page("B")),
            ("jcr_root/content/site/c/.content.xml", &page("C")),
        ],
    )
}

fn children(repo: &Path, p: &str) -> Vec<String> {
    let out = jcrpack()
        .args(["dump", "--format", "json", "--repo"])
        .arg(repo)
        .arg(p)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_export_installs_at_another_path_and_on_a_fresh_repository() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, &site(t.path()), &[]).success();
    let out = t.path().join("e.zip");
    jcrpack()
        .args(["export", "--root", "/content/site", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let t2 = tempfile::tempdir().unwrap();
    let other = init(t2.path());
    import(&other, &out, &["--at", "/restore"]).success();
    assert_eq!(children(&other, "/restore/content/site"), ["a", "b", "c"]);
    // The root of a fresh repository is Oak's: a package that writes it installs.
    let root = package(
        t.path(),
        "root",
        &["/"],
        &[(
            "jcr_root/.content.xml",
            &doc(r#"<jcr:root NS jcr:primaryType="rep:root" hello="world"/>"#),
        )],
    );
    let t3 = tempfile::tempdir().unwrap();
    let fresh = init(t3.path());
    import(&fresh, &root, &[]).success();
    assert!(dump(&fresh).contains("\"jcr:system\""));
    assert!(dump(&fresh).contains("world"));
}

#[test]
fn a_root_that_selects_nothing_fails_unless_allowed() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let pkg = site(t.path());
    import(&repo, &pkg, &[]).success();
    let out = t.path().join("e.zip");
    let o = jcrpack()
        .args(["export", "--root", "/content/sit", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("/content/sit: the filter root selects nothing"),
        "{e}"
    );
    assert!(e.contains("did you mean /content/site?"), "{e}");
    assert!(!out.exists());
    jcrpack()
        .args([
            "export",
            "--root",
            "/content/sit",
            "--allow-empty",
            "--repo",
        ])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    // The same for extract.
    let x = t.path().join("x.zip");
    let o = jcrpack()
        .arg("extract")
        .arg(&pkg)
        .args(["--root", "/content/site/d", "-o"])
        .arg(&x)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("/content/site/d"), "{}", stderr(&o));
    assert!(!x.exists());
    jcrpack()
        .arg("extract")
        .arg(&pkg)
        .args(["--root", "/content/site/d", "--allow-empty", "-o"])
        .arg(&x)
        .assert()
        .success();
}

#[test]
fn a_restored_subtree_keeps_its_place_among_its_siblings() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let pkg = site(t.path());
    import(&repo, &pkg, &[]).success();
    // From a backup package: extract the subtree, remove it, restore it.
    let x = t.path().join("x.zip");
    jcrpack()
        .arg("extract")
        .arg(&pkg)
        .args(["--root", "/content/site/b", "-o"])
        .arg(&x)
        .assert()
        .success();
    jcrpack()
        .args(["rm", "/content/site/b", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    assert_eq!(children(&repo, "/content/site"), ["a", "c"]);
    import(&repo, &x, &[]).success();
    assert_eq!(children(&repo, "/content/site"), ["a", "b", "c"]);
    // From the repository itself: export the subtree, remove it, restore it.
    let e = t.path().join("e.zip");
    jcrpack()
        .args(["export", "--root", "/content/site/b", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&e)
        .assert()
        .success();
    jcrpack()
        .args(["rm", "/content/site/b", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    import(&repo, &e, &[]).success();
    assert_eq!(children(&repo, "/content/site"), ["a", "b", "c"]);
}

#[test]
fn an_export_keeps_referenced_file_identifiers_and_says_what_it_cannot_carry() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let uuid = "0b2a8c1e-4f3d-4a5b-9c6d-7e8f9a0b1c2d";
    let pkg = package(
        t.path(),
        "files",
        &["/content/files"],
        &[
            (
                "jcr_root/content/files/.content.xml",
                &doc(&format!(
                    r#"<jcr:root NS jcr:primaryType="nt:unstructured" link="{{Reference}}{uuid}"/>"#
                )),
            ),
            ("jcr_root/content/files/linked.txt", "linked"),
            (
                "jcr_root/content/files/linked.txt.dir/.content.xml",
                &doc(&format!(
                    r#"<jcr:root NS jcr:primaryType="nt:file"><jcr:content jcr:primaryType="nt:resource" jcr:uuid="{uuid}"/></jcr:root>"#
                )),
            ),
            ("jcr_root/content/files/plain.txt", "plain"),
        ],
    );
    import(&repo, &pkg, &[]).success();
    let out = t.path().join("e.zip");
    let o = jcrpack()
        .args(["export", "--root", "/content/files", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    // files, linked.txt + jcr:content, plain.txt + jcr:content.
    assert!(e.contains("exported 5 nodes"), "{e}");
    assert!(e.contains("cannot carry 1 identifiers"), "{e}");
    assert!(e.contains("1 referenced identifiers were kept"), "{e}");
    assert!(e.contains("jcrpack backup"), "{e}");
    // -q: only errors on stderr, the notes too.
    let quiet = jcrpack()
        .args(["-q", "export", "--root", "/content/files", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(t.path().join("q.zip"))
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "", "-q prints nothing");
    assert!(zip_text(&out, "jcr_root/content/files/linked.txt.dir/.content.xml").contains(uuid));
    let t2 = tempfile::tempdir().unwrap();
    let other = init(t2.path());
    import(&other, &out, &[]).success();
    let d = dump(&other);
    assert!(d.contains(uuid), "{d}");
}

#[test]
fn export_json_follows_its_schema() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    import(&repo, &secured(t.path()), &["--ac-handling", "overwrite"]).success();
    let out = t.path().join("e.zip");
    let o = jcrpack()
        .args(["export", "--root", "/content/secured", "--json", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&o.get_output().stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/export.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(
            doc.get(key.as_str().unwrap()).is_some(),
            "missing {key}: {doc}"
        );
    }
    for key in doc.as_object().unwrap().keys() {
        assert!(props.contains_key(key), "{key} is not in the schema");
    }
    assert_eq!(doc["policies"], 1);
    assert_eq!(doc["acHandling"], "overwrite");
    assert_eq!(doc["acHandlingAdded"], true);
    // /content/secured, rep:policy, allow.
    assert_eq!(doc["nodes"], 3);
}

/// FileVault's `SerializationIT#exportJcrXmlTest`: with filter root `/testroot/a`, the
/// node directly below the repository root is an aggregate of its own and the root
/// goes inline into it: `jcr_root/testroot/.content.xml` is, byte for byte, what
/// FileVault's exporter writes (a sibling outside the filter is listed empty, for
/// its order, as `DocViewSAXFormatter.onNodeIgnored` does).
#[test]
fn an_export_below_a_top_level_node_writes_its_aggregate_as_filevault_does() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let setup = package(
        t.path(),
        "setup",
        &["/testroot"],
        &[(
            "jcr_root/testroot/.content.xml",
            &doc(
                r#"<jcr:root NS jcr:primaryType="nt:unstructured"><a jcr:primaryType="nt:unstructured"><jcr:xmltext jcr:primaryType="nt:unstructured" jcr:xmlcharacters="Hello, World."/></a><b jcr:primaryType="nt:unstructured" other="x"/></jcr:root>"#,
            ),
        )],
    );
    import(&repo, &setup, &[]).success();
    let out = t.path().join("out.zip");
    jcrpack()
        .args(["export", "--repo"])
        .arg(&repo)
        .args(["--root", "/testroot/a", "-q", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        zip_text(&out, "jcr_root/testroot/.content.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" xmlns:nt=\"http://www.jcp.org/jcr/nt/1.0\"\n    \
         jcr:primaryType=\"nt:unstructured\">\n    \
         <a jcr:primaryType=\"nt:unstructured\">\n        \
         <jcr:xmltext\n            \
         jcr:primaryType=\"nt:unstructured\"\n            \
         jcr:xmlcharacters=\"Hello, World.\"/>\n    \
         </a>\n    \
         <b/>\n\
         </jcr:root>\n"
    );
}
