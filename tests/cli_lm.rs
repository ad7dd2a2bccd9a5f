//! Issue 18: `jcrpack lm validate | pack | diff | check-content` over the light modules
//! of the shared corpus (magnetic-saas, megaton, advanced-tutorial) and the project's
//! own broken modules in `fixtures/lightmodules/`.
//!
//! The corpus tests need `../shared/corpus/real` (or `/work/shared/corpus/real`, or
//! `$JCRPACK_CORPUS/real`); without it they fail, they do not pass silently.

mod common;

use common::jcrpack;
use std::io::Read;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    let candidates = [
        std::env::var("JCRPACK_CORPUS").ok().map(PathBuf::from),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus"
        ))),
        Some(PathBuf::from("/work/shared/corpus")),
    ];
    let dir = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("real").is_dir())
        .expect("the shared corpus (../shared/corpus/real) is needed by these tests");
    dir.join("real")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lightmodules")
}

/// The three corpus light modules as arguments of one release. advanced-tutorial's
/// module is the repository root, named after the repository on GitHub: a link with
/// that name stands for it (the module name is the folder name).
fn corpus_modules(tmp: &Path) -> Vec<PathBuf> {
    let c = corpus();
    let link = tmp.join("advanced-tutorial-magnolia");
    #[cfg(unix)]
    std::os::unix::fs::symlink(c.join("labsji+advanced-tutorial-magnolia"), &link).unwrap();
    #[cfg(not(unix))]
    copy_dir(&c.join("labsji+advanced-tutorial-magnolia"), &link);
    vec![
        c.join("magnolia-cms+magnetic-saas/light-modules"),
        c.join("cedeber+magnolia-megaton/magnolia/light-modules"),
        link,
    ]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

/// Replaces the temporary and corpus paths in a summary line.
fn scrub(text: &str, tmp: &Path) -> String {
    text.replace(&tmp.display().to_string(), "[tmp]")
        .replace(&corpus().display().to_string(), "[corpus]")
}

// ---------------------------------------------------------------------------------
// validate

/// Every corpus light module is read and checked. Modules outside the release that the
/// corpus modules use are Magnolia's own (on every DX Core instance): `multisite`
/// (magnetic-saas decorates its config), `dam-app` and `form` (megaton decorates their
/// apps, dialogs and templates, and uses `form:components/form`). What remains:
///
/// * error, advanced-tutorial `voiceclock.yaml`: its dialog
///   `advanced-tutorial-magnolia:components/voiceclock` is not in the module (the
///   repository has no `dialogs/` folder): a real broken reference;
/// * warnings, magnetic-saas `dialogs/includes/*.yaml` and megaton
///   `dialogs/include/*.yaml`: fragments for `!include` that lie in the `dialogs/`
///   definition folder, so Magnolia also registers them as (broken) dialogs; magnetic's
///   own `includes/README.txt` warns about exactly this;
/// * warning, megaton `main/main.yaml`: a descriptor (`#YAML Module descriptor`, with
///   version and dependencies) under a name Magnolia does not read;
/// * info, magnetic-saas: no `module.yaml`, so no version.
#[test]
fn corpus_light_modules_validate_with_explained_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = corpus_modules(tmp.path());
    let a = jcrpack()
        .args([
            "lm",
            "validate",
            "--external",
            "multisite",
            "--external",
            "dam-app",
            "--external",
            "form",
        ])
        .args(&dirs)
        .assert()
        .code(1);
    let out = scrub(&stdout(&a), tmp.path());
    insta::assert_snapshot!("corpus_validate", out);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(errors[0].contains("voiceclock.yaml:4:9: [reference] dialog"));
    // Without the externals, the references into Magnolia's modules are reported.
    let a = jcrpack()
        .args(["lm", "validate"])
        .args(&dirs)
        .assert()
        .code(1);
    let out = stdout(&a);
    assert!(out.contains("decorates module 'dam-app'"), "{out}");
    assert!(out.contains("names module 'form'"), "{out}");
}

#[test]
fn broken_fixtures_get_the_expected_findings() {
    let a = jcrpack()
        .args(["lm", "validate"])
        .arg(fixtures().join("broken"))
        .assert()
        .code(1);
    let out = scrub(&stdout(&a), Path::new("/nonexistent"))
        .replace(&fixtures().display().to_string(), "[fixtures]");
    insta::assert_snapshot!("broken_validate", out);
    let expect = [
        (
            "bad-include/dialogs/components/box.yaml:4:12: [include]",
            "title-field.yaml does not exist",
        ),
        (
            "bad-include/dialogs/components/box.yaml:5:10: [include]",
            "actions.yaml does not exist",
        ),
        (
            "bad-include/dialogs/components/box.yaml:6:9: [include]",
            "footer.yaml does not exist",
        ),
        (
            "bad-include/dialogs/components/box.yaml:7:9: [include]",
            "not a resource path",
        ),
        (
            "bad-include/dialogs/components/box.yaml:9:10: [inherit]",
            "only allowed at the root",
        ),
        (
            "duplicate-key/templates/components/card.yaml:4:1: [yaml]",
            "duplicate key 'title'",
        ),
        (
            "duplicate-key/templates/components/card.yaml:6:3: [yaml]",
            "key 'on' is the bool true",
        ),
        (
            "missing-dialog/templates/pages/home.yaml:2:9: [reference]",
            "dialog 'missing-dialog:pages/home' does not exist",
        ),
        (
            "missing-dialog/templates/pages/home.yaml:9:13: [reference]",
            "'missing-dialog:components/gallery' does not exist",
        ),
        (
            "missing-dialog/templates/pages/home.yaml:11:13: [reference]",
            "names module 'mtk'",
        ),
        (
            "wrong-i18n/i18n/wrong-i18n-messages.properties: [i18n]",
            "wrong-i18n-messages_<locale>.properties",
        ),
        (
            "wrong-i18n/i18n/wrong-i18n-messages_EN.properties: [i18n]",
            "rename it to wrong-i18n-messages_en.properties",
        ),
        (
            "wrong-i18n/i18n/wrong-i18n-messages-de.properties: [i18n]",
            "rename it to wrong-i18n-messages_de.properties",
        ),
        (
            "bad-descriptor/module.yaml:1:10: [descriptor]",
            "YAML 1.1 float",
        ),
        (
            "bad-descriptor/module.yaml:4:14: [descriptor]",
            "'latest' does not parse",
        ),
        (
            "bad-descriptor/module.yaml:7:15: [descriptor]",
            "optional is not a boolean",
        ),
        (
            "bad-yaml/dialogs/components/tabbed.yaml:3:2: [yaml]",
            "tabs",
        ),
        (
            "bad-yaml/dialogs/components/tagged.yaml:2:7: [yaml]",
            "unknown tag !includ:",
        ),
        (
            "bad-yaml/dialogs/components/bomb.yaml:",
            "expands to more than",
        ),
        (
            "bad-yaml/dialogs/components/two-docs.yaml:2:1: [yaml]",
            "more than one YAML document",
        ),
        (
            "bad-decoration/decorations/good/layouts/teaser.yaml: [decoration]",
            "'layouts' is not a definition type",
        ),
        (
            "bad-decoration/decorations/good/templates/components/teeser.yaml: [decoration]",
            "no good/templates/components/teeser.yaml",
        ),
        (
            "bad-decoration/decorations/pages-app/apps/pages.yaml: [decoration]",
            "module 'pages-app'",
        ),
    ];
    for (place, text) in expect {
        assert!(
            out.lines().any(|l| l.contains(place) && l.contains(text)),
            "expected a finding at {place} saying {text}:\n{out}"
        );
    }
    // The good module, the correct i18n names and the correct decoration
    // (teaser.parameters.yaml) are not reported.
    assert!(!out.lines().any(|l| l.contains(": good/")), "{out}");
    assert!(!out.contains("_fr.properties"), "{out}");
    assert!(!out.contains("teaser.parameters"), "{out}");
    jcrpack()
        .args(["lm", "validate"])
        .arg(fixtures().join("broken/good"))
        .assert()
        .success();
}

#[test]
fn validate_json_matches_its_schema() {
    let a = jcrpack()
        .args(["lm", "validate", "--json"])
        .arg(fixtures().join("broken"))
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    check_schema("lm-validate.schema.json", &doc);
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["modules"].as_array().unwrap().len(), 8);
}

fn check_schema(name: &str, doc: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{doc:#}");
}

#[test]
fn usage_errors_exit_2_and_a_missing_folder_1() {
    jcrpack()
        .args(["lm", "validate", "/nonexistent/light-modules"])
        .assert()
        .code(1);
    jcrpack().args(["lm", "validate"]).assert().code(2);
}

// ---------------------------------------------------------------------------------
// pack

fn sha(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    jcrpack::lightmodule::model::hex(&sha2::Sha256::digest(&bytes))
}

#[test]
fn packing_is_byte_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = corpus_modules(tmp.path());
    let pack = |out: &str, epoch: &str, extra: &[&str], dirs: &[PathBuf]| {
        let mut c = jcrpack();
        c.env("SOURCE_DATE_EPOCH", epoch)
            .args(["lm", "pack", "-o"])
            .arg(tmp.path().join(out))
            .args(extra)
            .args(dirs);
        c.assert().success();
        tmp.path().join(out)
    };
    let a = pack("a.zip", "1700000000", &[], &dirs);
    let b = pack("b.zip", "1700000000", &[], &dirs);
    let out = jcrpack()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["lm", "pack", "--json", "-o"])
        .arg(tmp.path().join("e.zip"))
        .args(&dirs)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    check_schema("lm-pack.schema.json", &doc);
    assert_eq!(doc["sha256"].as_str().unwrap(), sha(&a));
    assert_eq!(doc["files"], 103);
    assert_eq!(sha(&a), sha(&b), "packing twice gives the same bytes");
    // A pack read back as a release packs to the same bytes.
    let c = pack("c.zip", "1700000000", &[], std::slice::from_ref(&a));
    assert_eq!(sha(&a), sha(&c));
    // The time is the only input besides the files.
    let d = pack("d.zip", "1600000000", &[], &dirs);
    assert_ne!(sha(&a), sha(&d));

    // Entries sorted, the manifest has every file's SHA-256 and each module's version.
    let zip = jcrpack::archive::ZipArchive::open(&a, &Default::default()).unwrap();
    use jcrpack::archive::Archive;
    let names: Vec<String> = zip.entries().iter().map(|e| e.name().to_owned()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let manifest: serde_json::Value =
        serde_json::from_slice(&zip.read_to_vec("lm-release.json").unwrap()).unwrap();
    let modules = manifest["modules"].as_array().unwrap();
    let names: Vec<&str> = modules
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["advanced-tutorial-magnolia", "main", "saas-demo"]);
    assert_eq!(modules[0]["version"], "0.0.7");
    for m in modules {
        for f in m["files"].as_array().unwrap() {
            let entry = format!(
                "{}/{}",
                m["name"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            );
            use sha2::Digest;
            let bytes = zip.read_to_vec(&entry).unwrap();
            assert_eq!(
                f["sha256"].as_str().unwrap(),
                jcrpack::lightmodule::model::hex(&sha2::Sha256::digest(&bytes)),
                "{entry}"
            );
        }
    }
}

#[test]
fn npm_tarball_is_reproducible_and_shaped_for_mgnl_install() {
    let tmp = tempfile::tempdir().unwrap();
    let module = fixtures().join("broken/good");
    let pack = |out: &str| {
        let p = tmp.path().join(out);
        jcrpack()
            .args(["lm", "pack", "--npm", "-o"])
            .arg(&p)
            .arg(&module)
            .assert()
            .success();
        p
    };
    let a = pack("a.tgz");
    let b = pack("b.tgz");
    assert_eq!(sha(&a), sha(&b));
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&a).unwrap())
        .read_to_end(&mut tar)
        .unwrap();
    let mut names = Vec::new();
    let mut at = 0;
    let mut package_json = None;
    while at + 512 <= tar.len() && tar[at] != 0 {
        let h = &tar[at..at + 512];
        let name = String::from_utf8(h[..100].split(|&b| b == 0).next().unwrap().to_vec()).unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
        assert_eq!(&h[257..263], b"ustar\0");
        assert_eq!(std::str::from_utf8(&h[100..107]).unwrap(), "0000644");
        if name == "package/package.json" {
            package_json = Some(tar[at + 512..at + 512 + size].to_vec());
        }
        names.push(name);
        at += 512 + size.div_ceil(512) * 512;
    }
    assert_eq!(
        names,
        [
            "package/dialogs/components/teaser.yaml",
            "package/i18n/good-messages_de_CH.properties",
            "package/i18n/good-messages_en.properties",
            "package/includes/actions.yaml",
            "package/module.yaml",
            "package/package.json",
            "package/templates/components/teaser.yaml",
        ]
    );
    let pj: serde_json::Value = serde_json::from_slice(&package_json.unwrap()).unwrap();
    assert_eq!(pj["name"], "good");
    assert_eq!(pj["version"], "1.0.0");
    assert_eq!(pj["keywords"], serde_json::json!(["magnolia-light-module"]));
    // Several modules need --module; a module without a version cannot be an npm package.
    jcrpack()
        .args(["lm", "pack", "--npm", "-o"])
        .arg(tmp.path().join("x.tgz"))
        .arg(fixtures().join("broken"))
        .assert()
        .code(2);
    assert!(!tmp.path().join("x.tgz").exists());
}

// ---------------------------------------------------------------------------------
// diff

#[test]
fn diff_flags_a_changed_module_whose_version_was_not_bumped() {
    let a = jcrpack()
        .args(["lm", "diff", "--json", "--fail-on-unbumped"])
        .arg(fixtures().join("release-1"))
        .arg(fixtures().join("release-2"))
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    check_schema("lm-diff.schema.json", &doc);
    let shop = &doc["modules"][0];
    assert_eq!(shop["name"], "shop");
    assert_eq!(shop["status"], "changed");
    assert_eq!(shop["versionNotBumped"], true);
    assert_eq!(
        shop["definitionsAdded"],
        serde_json::json!(["templates/components/price"])
    );
    // The fragment change shows in the dialog that includes it; the key reordering of
    // the template does not count, its new title does.
    assert_eq!(
        shop["definitionsChanged"],
        serde_json::json!([
            {"definition": "dialogs/components/product", "paths": ["form.properties.title.required"]},
            {"definition": "templates/components/product", "paths": ["title"]}
        ])
    );
    assert_eq!(
        shop["filesChanged"],
        serde_json::json!(["includes/fields.yaml"])
    );
}

/// Every change the test makes to a copy of megaton's module is found, and nothing
/// else: a changed value, a removed and an added definition, a changed fragment (seen
/// in every dialog that includes it), reordered keys (no change), a changed i18n file.
#[test]
fn diff_finds_every_change_made_to_a_copy_of_a_corpus_module() {
    let tmp = tempfile::tempdir().unwrap();
    let src = corpus().join("cedeber+magnolia-megaton/magnolia/light-modules");
    let old = tmp.path().join("old");
    let new = tmp.path().join("new");
    copy_dir(&src, &old);
    copy_dir(&src, &new);
    let m = new.join("main");
    let edit = |rel: &str, from: &str, to: &str| {
        let p = m.join(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} has no '{from}'");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    };
    // 1. a value
    edit(
        "templates/pages/main.yaml",
        "title: Article",
        "title: Story",
    );
    // 2. a removed definition
    std::fs::remove_file(m.join("templates/pages/search.yaml")).unwrap();
    // 3. an added definition
    std::fs::write(m.join("templates/components/quote.yaml"), "title: Quote\n").unwrap();
    // 4. a fragment many dialogs include
    edit(
        "dialogs/include/commonActions.yaml",
        "CancelDialogActionDefinition",
        "CloseDialogActionDefinition",
    );
    // 5. key order only: swap the first two lines of a definition
    let p = m.join("virtualUriMappings/app.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(0, 1);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    // 6. a message bundle
    edit("i18n/main-messages_en.properties", "=", "= ");

    let a = jcrpack()
        .args(["lm", "diff", "--json"])
        .arg(&old)
        .arg(&new)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    check_schema("lm-diff.schema.json", &doc);
    let main = &doc["modules"][0];
    assert_eq!(main["status"], "changed");
    assert_eq!(
        main["definitionsAdded"],
        serde_json::json!(["templates/components/quote"])
    );
    assert_eq!(
        main["definitionsRemoved"],
        serde_json::json!(["templates/pages/search"])
    );
    let changed: Vec<(String, Vec<String>)> = main["definitionsChanged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["definition"].as_str().unwrap().to_owned(),
                c["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    // Every dialog that includes commonActions.yaml, and the fragment itself (it lies
    // in dialogs/, so it is a definition too), changed at actions.cancel.class.
    let includers: Vec<String> = std::fs::read_dir(src.join("main/dialogs"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("commonActions.yaml")
        })
        .map(|p| {
            let rel = p
                .strip_prefix(src.join("main"))
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            rel.trim_end_matches(".yaml").to_owned()
        })
        .collect();
    assert!(includers.len() >= 10, "{includers:?}");
    for inc in &includers {
        let found = changed.iter().find(|(d, _)| d == inc);
        assert_eq!(
            found.map(|(_, p)| p.clone()),
            Some(vec!["actions.cancel.class".to_owned()]),
            "{inc}: {changed:?}"
        );
    }
    let mut expected: Vec<String> = includers.clone();
    expected.push("dialogs/include/commonActions".into());
    expected.push("templates/pages/main".into());
    expected.sort();
    let mut got: Vec<String> = changed.iter().map(|(d, _)| d.clone()).collect();
    got.sort();
    assert_eq!(got, expected, "only the changed definitions: {changed:?}");
    assert!(changed.contains(&("templates/pages/main".into(), vec!["title".into()])));
    assert_eq!(
        main["filesChanged"],
        serde_json::json!(["i18n/main-messages_en.properties"])
    );
    // megaton has no module.yaml: changed without a version (none before, none after).
    assert_eq!(main["versionNotBumped"], true);
    // Human output names the flag.
    let a = jcrpack()
        .args(["lm", "diff"])
        .arg(&old)
        .arg(&new)
        .assert()
        .success();
    assert!(stdout(&a).contains("VERSION NOT BUMPED"));
}

// ---------------------------------------------------------------------------------
// check-content

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
}

/// A repository with Magnolia's `website` and `resources` workspaces (`jcrpack
/// workspace create`), the
/// advanced-tutorial site (a Magnolia 6 export: a `mgnl:page` with template
/// `mtk2:pages/basic` and eight components `mtk2:components/textImage`) loaded into
/// `website` with `jcrpack load`.
fn magnolia_repo(tmp: &Path) -> PathBuf {
    let repo = common::init(tmp);
    for ws in ["website", "resources"] {
        jcrpack()
            .args(["workspace", "create", ws, "--repo"])
            .arg(&repo)
            .assert()
            .success();
    }
    jcrpack()
        .args(["load", "--workspace", "website", "--repo"])
        .arg(&repo)
        .arg(
            corpus()
                .join("labsji+advanced-tutorial-magnolia/bootstrap/website.tutorial-unsplash.xml"),
        )
        .assert()
        .success();
    repo
}

const MTK2: &[(&str, &str)] = &[
    ("mtk2/module.yaml", "version: 2.0.0\n"),
    (
        "mtk2/templates/pages/basic.yaml",
        "title: Basic\ndialog: mtk2:pages/basic\n",
    ),
    ("mtk2/dialogs/pages/basic.yaml", "label: Basic\n"),
    (
        "mtk2/templates/components/textImage.yaml",
        "title: Text and image\ndialog: mtk2:components/textImage\n",
    ),
    (
        "mtk2/dialogs/components/textImage.yaml",
        "label: Text and image\n",
    ),
];

#[test]
fn check_content_finds_pages_whose_template_the_release_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = magnolia_repo(tmp.path());
    let full = tmp.path().join("full");
    write(&full, MTK2);
    let a = jcrpack()
        .args(["lm", "check-content", "--json"])
        .arg(&full)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    check_schema("lm-check-content.schema.json", &doc);
    assert_eq!(doc["templatedNodes"], 9);
    assert_eq!(doc["findings"], serde_json::json!([]));

    // The next release drops the component template and the page dialog.
    let next = tmp.path().join("next");
    write(&next, MTK2);
    std::fs::remove_file(next.join("mtk2/templates/components/textImage.yaml")).unwrap();
    std::fs::remove_file(next.join("mtk2/dialogs/pages/basic.yaml")).unwrap();
    let a = jcrpack()
        .args(["lm", "check-content", "--json"])
        .arg(&next)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    check_schema("lm-check-content.schema.json", &doc);
    let findings = doc["findings"].as_array().unwrap();
    let missing: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["kind"] == "missing-template")
        .collect();
    assert_eq!(missing.len(), 8, "{doc:#}");
    assert!(missing
        .iter()
        .all(|f| f["subject"] == "mtk2:components/textImage"));
    assert!(missing.iter().all(|f| f["path"]
        .as_str()
        .unwrap()
        .starts_with("/tutorial-unsplash/")));
    let dialogs: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["kind"] == "missing-dialog")
        .collect();
    assert_eq!(dialogs.len(), 1);
    assert_eq!(dialogs[0]["path"], "/tutorial-unsplash");

    // A release without mtk2 at all: fine when mtk2 comes from elsewhere (--external).
    let other = tmp.path().join("other");
    write(
        &other,
        &[
            ("site/module.yaml", "version: 1.0.0\n"),
            ("site/templates/pages/x.yaml", "title: X\n"),
        ],
    );
    jcrpack()
        .args(["lm", "check-content", "--external", "mtk2"])
        .arg(&other)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .success();
    let a = jcrpack()
        .args(["lm", "check-content"])
        .arg(&other)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .code(1);
    assert!(stdout(&a).contains("[unknown-module]"));
}

#[test]
fn check_content_finds_resources_overrides_that_shadow_the_release() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = magnolia_repo(tmp.path());
    let rel = tmp.path().join("rel");
    write(&rel, MTK2);
    // What the Resources app stores for a hotfix of /mtk2/templates/pages/basic.yaml,
    // and an override identical to the release's dialog.
    let node = |name: &str, text: &str| {
        format!(
            r#"<sv:node sv:name="{name}"><sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>nt:unstructured</sv:value></sv:property><sv:property sv:name="text" sv:type="String"><sv:value>{text}</sv:value></sv:property></sv:node>"#
        )
    };
    let folder = |name: &str, inner: &str| {
        format!(
            r#"<sv:node sv:name="{name}"><sv:property sv:name="jcr:primaryType" sv:type="Name"><sv:value>nt:unstructured</sv:value></sv:property>{inner}</sv:node>"#
        )
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>{}"#,
        folder(
            "mtk2",
            &(folder(
                "templates",
                &folder("pages", &node("basic.yaml", "title: Hotfixed\n"))
            ) + &folder(
                "dialogs",
                &folder("pages", &node("basic.yaml", "label: Basic\n"))
            )),
        )
    )
    .replacen(
        "<sv:node ",
        r#"<sv:node xmlns:sv="http://www.jcp.org/jcr/sv/1.0" "#,
        1,
    );
    let file = tmp.path().join("resources.xml");
    std::fs::write(&file, xml).unwrap();
    jcrpack()
        .args(["load", "--workspace", "resources", "--repo"])
        .arg(&repo)
        .arg(&file)
        .assert()
        .success();
    let a = jcrpack()
        .args(["lm", "check-content"])
        .arg(&rel)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .code(1);
    let out = stdout(&a);
    assert!(
        out.contains("error: resources:/mtk2/templates/pages/basic.yaml: [override] a Resources-app override shadows /mtk2/templates/pages/basic.yaml"),
        "{out}"
    );
    assert!(
        out.contains("info: resources:/mtk2/dialogs/pages/basic.yaml: [override]"),
        "{out}"
    );
}

#[test]
fn check_content_refuses_a_missing_workspace() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    jcrpack().arg("init").arg(&repo).assert().success();
    let rel = tmp.path().join("rel");
    write(&rel, MTK2);
    let a = jcrpack()
        .args(["lm", "check-content"])
        .arg(&rel)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("website"));
}

#[test]
fn check_content_reads_a_backup_as_it_reads_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = magnolia_repo(tmp.path());
    let a = jcrpack()
        .args(["-q", "backup", "create", "--json", "--repo"])
        .arg(&repo)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let id = doc["id"]
        .as_str()
        .expect("backup create --json names its id");

    // After the backup the live site loses its pages; the backup still has them.
    jcrpack()
        .args([
            "rm",
            "--workspace",
            "website",
            "/tutorial-unsplash",
            "--repo",
        ])
        .arg(&repo)
        .assert()
        .success();

    let next = tmp.path().join("next");
    write(&next, MTK2);
    std::fs::remove_file(next.join("mtk2/templates/components/textImage.yaml")).unwrap();
    let live = jcrpack()
        .args(["lm", "check-content", "--json"])
        .arg(&next)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .success();
    let live: serde_json::Value = serde_json::from_slice(&live.get_output().stdout).unwrap();
    assert_eq!(live["templatedNodes"], 0, "{live:#}");

    let a = jcrpack()
        .args(["lm", "check-content", "--json", "--backup", id])
        .arg(&next)
        .arg("--repo")
        .arg(&repo)
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    check_schema("lm-check-content.schema.json", &doc);
    assert_eq!(doc["repository"], format!("backup {id}"));
    assert_eq!(doc["templatedNodes"], 9, "{doc:#}");
    let missing = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing-template")
        .count();
    assert_eq!(missing, 8, "{doc:#}");

    // The same backup through --catalogue; an unknown id and a missing source are errors.
    jcrpack()
        .args(["lm", "check-content", "--backup", id, "--catalogue"])
        .arg(repo.join("backups"))
        .arg(&next)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("[missing-template]"));
    jcrpack()
        .args([
            "lm",
            "check-content",
            "--backup",
            "20000101T000000Z",
            "--repo",
        ])
        .arg(&repo)
        .arg(&next)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("20000101T000000Z"));
    jcrpack()
        .args(["lm", "check-content"])
        .arg(&next)
        .assert()
        .code(2);
}
