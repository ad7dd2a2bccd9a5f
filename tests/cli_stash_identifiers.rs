//! CLI test of FileVault's node stash with referenceable children: a package gives an
//! existing DAM-like asset another identifier, and the asset's rendition (an
//! `nt:file` whose `nt:resource` is referenceable) must come back with its
//! identifier. Found with two 20k generated packages (seeds 1 and 2 share an asset
//! path); before the fix the second install failed with "cannot give
//! /jcrpack-stash-0/... the jcr:uuid ...".

use std::path::{Path, PathBuf};

mod common;

use common::{dump, import, init, jcrpack, subtree};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const NS: &str = r#"xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:mix="http://www.jcp.org/jcr/mix/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0""#;

/// A package folder with the asset `/content/dam/a.jpg` of identifier `uuid` and
/// its file `jcr:content/renditions/original` holding `data`.
fn package(dir: &Path, name: &str, uuid: &str, data: &str) -> PathBuf {
    let p = dir.join(name);
    write(
        &p,
        "META-INF/vault/filter.xml",
        r#"<workspaceFilter version="1.0"><filter root="/content/dam/a.jpg"/></workspaceFilter>"#,
    );
    write(
        &p,
        "jcr_root/content/dam/a.jpg/.content.xml",
        &format!(
            r#"<jcr:root {NS} jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="{uuid}"><jcr:content jcr:primaryType="nt:unstructured"><renditions jcr:primaryType="nt:folder"/></jcr:content></jcr:root>"#
        ),
    );
    write(
        &p,
        "jcr_root/content/dam/a.jpg/_jcr_content/renditions/original",
        data,
    );
    p
}

/// The identifier of the node at `path` in the JSON dump.
fn uuid_in(tree: &serde_json::Value, path: &str) -> Option<String> {
    subtree(tree, path)?["properties"]["jcr:uuid"]["value"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn a_replaced_asset_keeps_its_referenceable_renditions_and_undo_restores_it() {
    for policy in ["fail", "create_new_id", "force_remove_conflicting_id"] {
        let t = tempfile::tempdir().unwrap();
        let repo = init(t.path());
        let first = package(
            t.path(),
            "one",
            "11111111-0000-4000-8000-000000000001",
            "JPEG bytes",
        );
        let second = package(
            t.path(),
            "two",
            "22222222-0000-4000-8000-000000000002",
            "other JPEG bytes",
        );
        import(&repo, &first, &[]).success();
        let before = dump(&repo);
        let res = "/content/dam/a.jpg/jcr:content/renditions/original/jcr:content";
        let tree: serde_json::Value = serde_json::from_str(&before).unwrap();
        let kept = uuid_in(&tree, res).unwrap_or_else(|| panic!("no jcr:uuid in {before}"));
        let out = import(&repo, &second, &["--id-conflict", policy])
            .success()
            .get_output()
            .stdout
            .clone();
        let log = String::from_utf8(out).unwrap();
        assert!(log.contains("R /content/dam/a.jpg"), "{policy}: {log}");
        let after = dump(&repo);
        assert!(!after.contains("jcrpack-stash"), "{policy}: {after}");
        assert!(!after.contains("stashedUuid"), "{policy}: {after}");
        let tree: serde_json::Value = serde_json::from_str(&after).unwrap();
        assert_eq!(uuid_in(&tree, res), Some(kept), "{policy}: {after}");
        assert_ne!(
            uuid_in(&tree, "/content/dam/a.jpg").as_deref(),
            Some("11111111-0000-4000-8000-000000000001"),
            "{policy}"
        );
        jcrpack()
            .args(["undo", "2", "--repo"])
            .arg(&repo)
            .assert()
            .success();
        assert_eq!(dump(&repo), before, "{policy}");
    }
}
