//! CLI tests for what `jcrpack import` refuses or reports on its own (issue 6):
//! `--no-acl`, `--no-authorizables`, `--allow-root`, the system-root deny list,
//! install hooks, and content outside the filter. Every package is a small folder
//! written here; every refusal is checked to leave the repository dump as it was.

use std::path::{Path, PathBuf};

mod common;

use common::{dump, import, init};

/// Every node path of the repository, in dump order.
fn paths(repo: &Path) -> Vec<String> {
    fn walk(n: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        out.push(at.to_string());
        for c in n["children"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let p = if at == "/" {
                format!("/{name}")
            } else {
                format!("{at}/{name}")
            };
            walk(c, &p, out);
        }
    }
    let tree: serde_json::Value = serde_json::from_str(&dump(repo)).unwrap();
    let mut out = Vec::new();
    walk(&tree, "/", &mut out);
    out
}

/// Runs an import that must be refused: exit 1, and returns stderr.
fn refused(repo: &Path, package: &Path, extra: &[&str]) -> String {
    let err = import(repo, package, extra)
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    String::from_utf8(err).unwrap()
}

/// Runs an import with `--json` that must succeed, and returns the report
/// (checked against its schema).
fn installed(repo: &Path, package: &Path, extra: &[&str]) -> serde_json::Value {
    let out = import(repo, package, &[extra, &["--json"]].concat())
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let text = std::fs::read_to_string("schemas/import-report.schema.json").unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let errors: Vec<String> = schema.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    doc
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A package folder `name` with one filter set per root and `properties.xml`
/// holding `entries` (key, value) besides group, name and version.
fn package(dir: &Path, name: &str, roots: &[&str], entries: &[(&str, &str)]) -> PathBuf {
    let p = dir.join(name);
    let sets: String = roots
        .iter()
        .map(|r| format!("<filter root=\"{r}\"/>"))
        .collect();
    write(
        &p,
        "META-INF/vault/filter.xml",
        &format!("<workspaceFilter version=\"1.0\">{sets}</workspaceFilter>"),
    );
    let mut props = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n<properties><entry key=\"group\">test</entry><entry key=\"name\">{name}</entry><entry key=\"version\">1.0</entry>"
    );
    for (k, v) in entries {
        props.push_str(&format!("<entry key=\"{k}\">{v}</entry>"));
    }
    props.push_str("</properties>\n");
    write(&p, "META-INF/vault/properties.xml", &props);
    p
}

/// A plain node with a `title` property.
fn node(title: &str) -> String {
    format!(
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="{title}"/>"#
    )
}

const ACL: &str = r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:rep="internal" jcr:primaryType="rep:ACL"><allow jcr:primaryType="rep:GrantACE" rep:principalName="everyone" rep:privileges="{Name}[jcr:read]"/></jcr:root>"#;

/// /content/a with an ACL allowing everyone to read it, acHandling overwrite.
fn acl_package(dir: &Path) -> PathBuf {
    let p = package(dir, "acl", &["/content/a"], &[("acHandling", "overwrite")]);
    write(&p, "jcr_root/content/a/.content.xml", &node("a"));
    write(&p, "jcr_root/content/a/_rep_policy.xml", ACL);
    p
}

/// A repository that already holds /content/a (title "old"), so that a refusal
/// that wrote anything would show in the dump.
fn seeded(dir: &Path) -> PathBuf {
    let repo = init(dir);
    let seed = package(dir, "seed", &["/content/a"], &[]);
    write(&seed, "jcr_root/content/a/.content.xml", &node("old"));
    installed(&repo, &seed, &[]);
    repo
}

#[test]
fn no_acl_refuses_a_package_with_an_acl_and_the_report_lists_it_otherwise() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded(t.path());
    let pkg = acl_package(t.path());
    let before = dump(&repo);
    let err = refused(&repo, &pkg, &["--no-acl"]);
    assert!(err.contains("/content/a/rep:policy"), "{err}");
    assert!(err.contains("--no-acl"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(dump(&repo), before);

    let doc = installed(&repo, &pkg, &[]);
    assert_eq!(strings(&doc["acls"]), ["/content/a/rep:policy"]);
    assert!(strings(&doc["authorizables"]).is_empty());
    let all = paths(&repo);
    assert!(
        all.contains(&"/content/a/rep:policy/allow".to_string()),
        "{all:?}"
    );
    assert!(dump(&repo).contains("rep:AccessControllable"));
}

#[test]
fn no_acl_refuses_a_dry_run_too() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded(t.path());
    let pkg = acl_package(t.path());
    let before = dump(&repo);
    let err = refused(&repo, &pkg, &["--dry-run", "--no-acl"]);
    assert!(err.contains("/content/a/rep:policy"), "{err}");
    assert_eq!(dump(&repo), before);
    // The same dry run without the flag passes, lists the ACL and writes nothing.
    let doc = installed(&repo, &pkg, &["--dry-run"]);
    assert_eq!(doc["dryRun"], true);
    assert_eq!(strings(&doc["acls"]), ["/content/a/rep:policy"]);
    assert_eq!(dump(&repo), before);
}

#[test]
fn no_authorizables_refuses_users_and_groups_and_the_report_lists_them_otherwise() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let user = package(t.path(), "user", &["/home/users/t"], &[]);
    write(
        &user,
        "jcr_root/home/users/t/alice/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:rep="internal" jcr:primaryType="rep:User" rep:principalName="alice" rep:authorizableId="alice"/>"#,
    );
    let group = package(t.path(), "group", &["/home/groups/t"], &[]);
    write(
        &group,
        "jcr_root/home/groups/t/editors/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:rep="internal" jcr:primaryType="rep:Group" rep:principalName="editors" rep:authorizableId="editors"/>"#,
    );
    for (pkg, path) in [
        (&user, "/home/users/t/alice"),
        (&group, "/home/groups/t/editors"),
    ] {
        let before = dump(&repo);
        let err = refused(&repo, pkg, &["--no-authorizables"]);
        assert!(err.contains(path), "{err}");
        assert!(err.contains("--no-authorizables"), "{err}");
        assert_eq!(dump(&repo), before);
        let doc = installed(&repo, pkg, &[]);
        assert_eq!(strings(&doc["authorizables"]), [path]);
        assert!(strings(&doc["acls"]).is_empty());
        assert!(paths(&repo).contains(&path.to_string()));
    }
    let d = dump(&repo);
    assert!(
        d.contains("\"rep:User\"") && d.contains("\"rep:Group\""),
        "{d}"
    );
    // --no-acl does not stop authorizables, nor --no-authorizables ACLs.
    let t2 = tempfile::tempdir().unwrap();
    let repo2 = init(t2.path());
    installed(&repo2, &user, &["--no-acl"]);
    installed(&repo2, &acl_package(t2.path()), &["--no-authorizables"]);
}

/// /content/a and /content/b, one node each.
fn two_roots(dir: &Path) -> PathBuf {
    let p = package(dir, "two", &["/content/a", "/content/b"], &[]);
    write(&p, "jcr_root/content/a/.content.xml", &node("a"));
    write(&p, "jcr_root/content/b/.content.xml", &node("b"));
    p
}

#[test]
fn allow_root_refuses_a_filter_root_outside_it() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded(t.path());
    let pkg = two_roots(t.path());
    let before = dump(&repo);
    let err = refused(&repo, &pkg, &["--allow-root", "/content/a"]);
    assert!(
        err.contains("/content/b: the package writes outside the allowed roots (/content/a)"),
        "{err}"
    );
    assert_eq!(dump(&repo), before);
    // An allowed root that is a descendant of the filter root does not allow it.
    refused(&repo, &pkg, &["--allow-root", "/content/a/x"]);
    assert_eq!(dump(&repo), before);
    installed(
        &repo,
        &pkg,
        &["--allow-root", "/content/a", "--allow-root", "/content/b"],
    );
    let all = paths(&repo);
    assert!(all.contains(&"/content/b".to_string()), "{all:?}");
    assert!(dump(&repo).contains("\"value\":\"a\""));
    // A common ancestor allows both.
    let t2 = tempfile::tempdir().unwrap();
    let repo2 = init(t2.path());
    installed(&repo2, &pkg, &["--allow-root", "/content"]);
}

#[test]
fn allow_root_refuses_a_filter_on_the_repository_root() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded(t.path());
    let pkg = package(t.path(), "everything", &["/"], &[]);
    write(
        &pkg,
        "jcr_root/content/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><a jcr:primaryType="nt:unstructured" title="a"/><b jcr:primaryType="nt:unstructured" title="b"/></jcr:root>"#,
    );
    let before = dump(&repo);
    let err = refused(&repo, &pkg, &["--allow-root", "/content/a"]);
    assert!(err.contains("outside the allowed roots"), "{err}");
    assert_eq!(dump(&repo), before);
    installed(&repo, &pkg, &["--allow-root", "/"]);
    assert!(paths(&repo).contains(&"/content/b".to_string()));
}

#[test]
fn allow_root_covers_nodes_an_ancestor_docview_creates_outside_the_filter() {
    // FileVault creates the new nodes of a DocView file it processes for an ancestor
    // of a filter root even when the filter does not contain them: without
    // --allow-root this package writes /other and /content/b; with it, it is refused.
    let t = tempfile::tempdir().unwrap();
    let repo = seeded(t.path());
    let pkg = package(t.path(), "ancestor", &["/content/a"], &[]);
    write(
        &pkg,
        "jcr_root/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:rep="internal" jcr:primaryType="rep:root"><other jcr:primaryType="nt:unstructured" x="1"/><content jcr:primaryType="nt:unstructured"><b jcr:primaryType="nt:unstructured" y="2"/></content></jcr:root>"#,
    );
    write(&pkg, "jcr_root/content/a/.content.xml", &node("a"));
    let before = dump(&repo);
    let err = refused(&repo, &pkg, &["--allow-root", "/content/a"]);
    assert!(err.contains("outside the allowed roots"), "{err}");
    assert!(
        err.contains("/other") || err.contains("/content/b"),
        "{err}"
    );
    assert_eq!(dump(&repo), before);
    let doc = installed(&repo, &pkg, &[]);
    let added: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "added")
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        added.contains(&"/other") && added.contains(&"/content/b"),
        "{added:?}"
    );
}

#[test]
fn allow_root_covers_a_conflicting_identifier_removed_outside_it() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let uuid = "0f6e3a43-8e61-4b0a-9a8e-0d0c9ad1f2a1";
    let holder = package(t.path(), "holder", &["/other/x"], &[]);
    write(
        &holder,
        "jcr_root/other/x/.content.xml",
        &format!(
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0" jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="{uuid}"/>"#
        ),
    );
    installed(&repo, &holder, &[]);
    let pkg = package(t.path(), "taker", &["/content/a"], &[]);
    write(
        &pkg,
        "jcr_root/content/a/.content.xml",
        &format!(
            r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0" jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="{uuid}"/>"#
        ),
    );
    let before = dump(&repo);
    let err = refused(
        &repo,
        &pkg,
        &[
            "--id-conflict",
            "force_remove_conflicting_id",
            "--allow-root",
            "/content/a",
        ],
    );
    assert!(
        err.contains("/other/x: the package writes outside the allowed roots"),
        "{err}"
    );
    assert_eq!(dump(&repo), before);
    installed(
        &repo,
        &pkg,
        &["--id-conflict", "force_remove_conflicting_id"],
    );
    let all = paths(&repo);
    assert!(!all.contains(&"/other/x".to_string()), "{all:?}");
    assert!(all.contains(&"/content/a".to_string()), "{all:?}");
}

#[test]
fn system_roots_are_refused_unless_lifted() {
    for (root, folder) in [
        ("/jcr:system/foo", "jcr_root/_jcr_system/foo/.content.xml"),
        (
            "/rep:security/foo",
            "jcr_root/_rep_security/foo/.content.xml",
        ),
        ("/oak:index/foo", "jcr_root/_oak_index/foo/.content.xml"),
    ] {
        let t = tempfile::tempdir().unwrap();
        let repo = seeded(t.path());
        let pkg = package(t.path(), "sys", &[root], &[]);
        write(&pkg, folder, &node("sys"));
        let before = dump(&repo);
        let err = refused(&repo, &pkg, &[]);
        let sys = &root[..root.rfind('/').unwrap()];
        assert!(
            err.contains(&format!(
                "{root}: the package writes below the system root {sys}"
            )),
            "{err}"
        );
        assert!(err.contains("--allow-system-roots"), "{err}");
        assert_eq!(dump(&repo), before);
        // --allow-root naming the system root does not lift the deny list.
        let err = refused(&repo, &pkg, &["--allow-root", sys]);
        assert!(err.contains("--allow-system-roots"), "{err}");
        assert_eq!(dump(&repo), before);
        // The flag lifts it: the content installs.
        let doc = installed(&repo, &pkg, &["--allow-system-roots"]);
        assert!(doc["totals"]["added"].as_u64().unwrap() >= 1);
        let all = paths(&repo);
        assert!(all.contains(&root.to_string()), "{all:?}");
    }
}

#[test]
fn system_roots_are_refused_when_reached_from_a_wider_filter_or_an_ancestor_docview() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded(t.path());
    // A filter on / covers /jcr:system.
    let wide = package(t.path(), "wide", &["/"], &[]);
    write(
        &wide,
        "jcr_root/_jcr_system/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><foo jcr:primaryType="nt:unstructured" y="1"/></jcr:root>"#,
    );
    // The DocView of / (an ancestor of /content/a) creates /rep:security/foo.
    let ancestor = package(t.path(), "ancestor", &["/content/a"], &[]);
    write(
        &ancestor,
        "jcr_root/.content.xml",
        r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:rep="internal" jcr:primaryType="rep:root"><rep:security jcr:primaryType="nt:unstructured"><foo jcr:primaryType="nt:unstructured"/></rep:security></jcr:root>"#,
    );
    write(&ancestor, "jcr_root/content/a/.content.xml", &node("a"));
    for (pkg, sys) in [(&wide, "/jcr:system"), (&ancestor, "/rep:security")] {
        let before = dump(&repo);
        let err = refused(&repo, pkg, &[]);
        assert!(
            err.contains(&format!("the package writes below the system root {sys}")),
            "{err}"
        );
        assert!(err.contains("--allow-system-roots"), "{err}");
        assert_eq!(dump(&repo), before);
    }
    installed(&repo, &ancestor, &["--allow-system-roots"]);
    assert!(paths(&repo).contains(&"/rep:security/foo".to_string()));
}

#[test]
fn install_hooks_are_not_run_and_say_so() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    // An internal hook (a jar; its bytes are never looked at) ...
    let jar = package(t.path(), "jar", &["/content/a"], &[]);
    write(
        &jar,
        "META-INF/vault/hooks/hook.jar",
        "PK\u{3}\u{4} not a jar",
    );
    write(&jar, "jcr_root/content/a/.content.xml", &node("a"));
    // ... and an external one (a class name in properties.xml).
    let ext = package(
        t.path(),
        "ext",
        &["/content/b"],
        &[("installhook.x.class", "com.example.Hook")],
    );
    write(&ext, "jcr_root/content/b/.content.xml", &node("b"));
    for (pkg, named, path) in [
        (&jar, "hook.jar", "/content/a"),
        (&ext, "com.example.Hook", "/content/b"),
    ] {
        let doc = installed(&repo, pkg, &[]);
        let warnings = strings(&doc["warnings"]);
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(named) && w.contains("not run")),
            "{warnings:?}"
        );
        assert!(paths(&repo).contains(&path.to_string()));
    }
    // The text output says it on stderr.
    let t2 = tempfile::tempdir().unwrap();
    let repo2 = init(t2.path());
    let err = import(&repo2, &jar, &[])
        .success()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("warning:") && err.contains("hook.jar") && err.contains("not run"),
        "{err}"
    );
}

#[test]
fn content_outside_the_filter_is_not_applied() {
    let t = tempfile::tempdir().unwrap();
    let repo = init(t.path());
    let pkg = package(t.path(), "outside", &["/content/a"], &[]);
    write(&pkg, "jcr_root/content/a/.content.xml", &node("a"));
    // A sibling of the filter root, a node elsewhere, and a plain file elsewhere.
    write(&pkg, "jcr_root/content/b/.content.xml", &node("b"));
    write(&pkg, "jcr_root/apps/x/.content.xml", &node("x"));
    write(&pkg, "jcr_root/etc/readme.txt", "hello");
    write(&pkg, "jcr_root/content/ab/.content.xml", &node("ab"));
    let doc = installed(&repo, &pkg, &["--allow-root", "/content/a"]);
    let all = paths(&repo);
    let all: Vec<&String> = all
        .iter()
        .filter(|p| !p.starts_with("/jcr:system"))
        .collect();
    assert_eq!(all, ["/", "/content", "/content/a"], "{doc}");
    let entries: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(entries, ["/content", "/content/a"]);
    // Below a contained node FileVault's post-filter keeps the whole subtree
    // (Importer.postFilter returns a contained entry as it is), so a node excluded by
    // a rule is still created when new; an existing one is left as it was, and not
    // deleted by `replace` either.
    let t2 = tempfile::tempdir().unwrap();
    let repo2 = init(t2.path());
    let seed = package(
        t2.path(),
        "secret",
        &["/content/a/secret", "/content/a/kept"],
        &[],
    );
    write(
        &seed,
        "jcr_root/content/a/secret/.content.xml",
        &node("old"),
    );
    write(&seed, "jcr_root/content/a/kept/.content.xml", &node("old"));
    let seed_doc = installed(&repo2, &seed, &[]);
    let ex = t2.path().join("excluded");
    write(
        &ex,
        "META-INF/vault/filter.xml",
        r#"<workspaceFilter version="1.0"><filter root="/content/a"><exclude pattern="/content/a/(secret|kept|fresh)(/.*)?"/></filter></workspaceFilter>"#,
    );
    write(&ex, "jcr_root/content/a/.content.xml", &node("a"));
    write(&ex, "jcr_root/content/a/secret/.content.xml", &node("new"));
    write(&ex, "jcr_root/content/a/fresh/.content.xml", &node("fresh"));
    write(&ex, "jcr_root/content/a/open/.content.xml", &node("open"));
    installed(&repo2, &ex, &[]);
    let all = paths(&repo2);
    for p in [
        "/content/a/open",
        "/content/a/fresh",
        "/content/a/secret",
        "/content/a/kept",
    ] {
        assert!(all.contains(&p.to_string()), "{p}: {all:?}");
    }
    let d = dump(&repo2);
    assert!(!d.contains("\"new\""), "{d}");
    assert_eq!(d.matches("\"old\"").count(), 2, "{seed_doc} {d}");
}
