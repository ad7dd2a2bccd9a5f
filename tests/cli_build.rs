//! CLI tests for `jcrpack build` and `jcrpack unpack`: determinism, the JSON documents
//! and their schemas, exit codes, and hostile source folders.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn jcrpack() -> Command {
    let mut cmd = Command::cargo_bin("jcrpack").expect("the jcrpack binary is built");
    cmd.env_remove("SOURCE_DATE_EPOCH");
    cmd
}

const FILTER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0">
    <filter root="/content/site"/>
</workspaceFilter>
"#;

const CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"
    title="Site"/>
"#;

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// A temporary folder with a small source folder in `src`.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write(&src, "META-INF/vault/filter.xml", FILTER);
    write(&src, "jcr_root/content/site/.content.xml", CONTENT);
    write(&src, "jcr_root/content/site/en/.content.xml", CONTENT);
    write(
        &src,
        "jcr_root/content/site/en/logo.png",
        "\u{89}PNG not really",
    );
    write(&src, "jcr_root/content/site/.vlt", "ignored");
    (tmp, src)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks `doc` against the parts of a schema these tests rely on: required keys, no
/// keys beyond the listed ones, and the declared JSON types.
fn check_schema(doc: &serde_json::Value, schema_file: &str) {
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(schema_file).unwrap()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(doc.get(key.as_str().unwrap()).is_some(), "missing {key}");
    }
    for (key, value) in doc.as_object().unwrap() {
        let spec = props
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in {schema_file}"));
        let ok = match spec["type"].as_str() {
            Some("string") => value.is_string(),
            Some("integer") => value.is_u64(),
            Some("array") => value.is_array(),
            _ => true,
        };
        assert!(ok, "{key}: {value} is not {}", spec["type"]);
    }
}

#[test]
fn build_is_deterministic_and_reports_json() {
    let (tmp, src) = fixture();
    let a = tmp.path().join("a.zip");
    let b = tmp.path().join("b.zip");
    let out = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", a.to_str().unwrap()])
        .args(["--name", "my/group:site:1.0.0", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_schema(&doc, "schemas/build.schema.json");
    assert_eq!(doc["packageId"], "my/group:site:1.0.0");
    assert_eq!(doc["docviewFiles"], 2);
    assert_eq!(
        doc["ignored"],
        serde_json::json!(["jcr_root/content/site/.vlt"])
    );

    // Touching the sources' times changes nothing.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(&src, "jcr_root/content/site/en/.content.xml", CONTENT);
    jcrpack()
        .args([
            "-q",
            "build",
            src.to_str().unwrap(),
            "-o",
            b.to_str().unwrap(),
        ])
        .args(["--name", "my/group:site:1.0.0"])
        .assert()
        .success();
    let bytes = fs::read(&a).unwrap();
    assert_eq!(bytes, fs::read(&b).unwrap());
    assert_eq!(doc["bytesOut"], bytes.len() as u64);
    assert_eq!(doc["sha256"], jcrpack::dump::sha256_hex(&bytes));

    // The entry order: manifest, vault metadata, then jcr_root.
    let mut zip = zip::ZipArchive::new(fs::File::open(&a).unwrap()).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().into_owned())
        .collect();
    assert_eq!(
        names[..5],
        [
            "META-INF/",
            "META-INF/MANIFEST.MF",
            "META-INF/vault/",
            "META-INF/vault/properties.xml",
            "META-INF/vault/filter.xml"
        ]
    );
    assert_eq!(names[5], "jcr_root/");
}

#[test]
fn source_date_epoch_sets_times_and_created() {
    let (tmp, src) = fixture();
    let a = tmp.path().join("a.zip");
    let b = tmp.path().join("b.zip");
    for (out, epoch) in [(&a, "1700000000"), (&b, "1700000000")] {
        jcrpack()
            .env("SOURCE_DATE_EPOCH", epoch)
            .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .args(["--name", "g:n:1"])
            .assert()
            .success();
    }
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    let zip = jcrpack::archive::open(&a, &Default::default()).unwrap();
    let props = zip.read_to_vec("META-INF/vault/properties.xml").unwrap();
    let props = String::from_utf8(props).unwrap();
    assert!(
        props.contains(r#"<entry key="created">2023-11-14T22:13:20.000Z</entry>"#),
        "{props}"
    );
    jcrpack()
        .env("SOURCE_DATE_EPOCH", "last tuesday")
        .args(["build", src.to_str().unwrap(), "-o", a.to_str().unwrap()])
        .args(["--name", "g:n:1"])
        .assert()
        .code(1);
}

#[test]
fn properties_come_from_the_source_name_and_property_options() {
    let (tmp, src) = fixture();
    write(
        &src,
        "META-INF/vault/properties.xml",
        r#"<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties>
<entry key="group">src-group</entry>
<entry key="name">src-name</entry>
<entry key="version">0.9</entry>
<entry key="description">from the source</entry>
</properties>
"#,
    );
    let out = tmp.path().join("p.zip");
    let run = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args([
            "--property",
            "description=changed",
            "--property",
            "acHandling=merge",
        ])
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(doc["packageId"], "src-group:src-name:0.9");
    let zip = jcrpack::archive::open(&out, &Default::default()).unwrap();
    let mf = String::from_utf8(zip.read_to_vec("META-INF/MANIFEST.MF").unwrap()).unwrap();
    assert!(
        mf.contains("Content-Package-Description: changed\r\n"),
        "{mf}"
    );
    assert!(
        mf.contains("Content-Package-Roots: /content/site\r\n"),
        "{mf}"
    );
    let props = zip.read_to_vec("META-INF/vault/properties.xml").unwrap();
    let props = String::from_utf8(props).unwrap();
    assert!(
        props.contains(r#"<entry key="acHandling">merge</entry>"#),
        "{props}"
    );
    // Keys are written in a fixed (sorted) order.
    let keys: Vec<&str> = props
        .lines()
        .filter_map(|l| l.strip_prefix("<entry key=\""))
        .map(|l| l.split('"').next().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn usage_errors_exit_with_2() {
    let (tmp, src) = fixture();
    let out = tmp.path().join("p.zip");
    let src = src.to_str().unwrap();
    let out = out.to_str().unwrap();
    jcrpack().args(["build", src]).assert().code(2);
    jcrpack()
        .args(["build", src, "-o", out, "--property", "novalue"])
        .assert()
        .code(2);
    jcrpack()
        .args(["build", src, "-o", out, "--name", "g:in/valid:1"])
        .assert()
        .code(2);
    jcrpack()
        .args([
            "build",
            src,
            "-o",
            tmp.path().to_str().unwrap(),
            "--name",
            "g:n",
        ])
        .assert()
        .code(2);
    jcrpack().args(["unpack", out]).assert().code(2);
}

#[test]
fn a_missing_name_or_filter_fails_with_1_and_says_why() {
    let (tmp, src) = fixture();
    let out = tmp.path().join("p.zip");
    let run = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("--name"), "{}", stderr(&run));

    fs::remove_file(src.join("META-INF/vault/filter.xml")).unwrap();
    let run = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--name", "g:n"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("META-INF/vault/filter.xml is missing"),
        "{}",
        stderr(&run)
    );
    assert!(!out.exists());

    let run = jcrpack()
        .args([
            "build",
            "/nonexistent/jcrpack/src",
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
}

#[test]
fn a_malformed_content_xml_is_named_with_line_and_column() {
    let (tmp, src) = fixture();
    write(
        &src,
        "jcr_root/content/site/en/.content.xml",
        "<?xml version=\"1.0\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"\n    title=\"unclosed>\n",
    );
    let out = tmp.path().join("p.zip");
    // A package from an earlier build stays as it was.
    fs::write(&out, b"previous package").unwrap();
    let run = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--name", "g:n"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(
        err.contains("entry `jcr_root/content/site/en/.content.xml`"),
        "{err}"
    );
    let re = regex::Regex::new(r"site/en/\.content\.xml:\d+:\d+: ").unwrap();
    assert!(re.is_match(&err), "{err}");
    assert_eq!(fs::read(&out).unwrap(), b"previous package");
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("jcrpack"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_source_is_refused_and_named() {
    let (tmp, src) = fixture();
    fs::write(tmp.path().join("secret.txt"), "secret").unwrap();
    let link = src.join("jcr_root/content/site/en/secret.txt");
    std::os::unix::fs::symlink("../../../../../secret.txt", &link).unwrap();
    let out = tmp.path().join("p.zip");
    let run = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--name", "g:n"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(err.contains(&link.display().to_string()), "{err}");
    assert!(err.contains("leads out of the source folder"), "{err}");
    assert!(!out.exists());

    // A link that stays inside the source folder is followed.
    fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("logo.png", &link).unwrap();
    jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--name", "g:n"])
        .assert()
        .success();
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, src) = fixture();
    let file = src.join("jcr_root/content/site/en/logo.png");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&file).is_ok() {
        // Running as root: permissions do not stop reading.
        return;
    }
    let out = tmp.path().join("p.zip");
    let run = jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--name", "g:n"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains(&format!("cannot read {}", file.display())),
        "{}",
        stderr(&run)
    );
}

#[test]
fn unpack_and_build_again_gives_the_same_package() {
    let (tmp, src) = fixture();
    let first = tmp.path().join("first.zip");
    let second = tmp.path().join("second.zip");
    let dir = tmp.path().join("unpacked");
    jcrpack()
        .args([
            "build",
            src.to_str().unwrap(),
            "-o",
            first.to_str().unwrap(),
        ])
        .args(["--name", "g:n:1"])
        .assert()
        .success();
    let run = jcrpack()
        .args([
            "unpack",
            first.to_str().unwrap(),
            dir.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    check_schema(&doc, "schemas/unpack.schema.json");
    assert_eq!(doc["kind"], "zip");
    assert!(dir.join("META-INF/MANIFEST.MF").is_file());
    assert_eq!(
        fs::read(dir.join("jcr_root/content/site/.content.xml")).unwrap(),
        CONTENT.as_bytes()
    );
    // The unpacked folder has the id in properties.xml: no --name needed.
    jcrpack()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            second.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());

    // A folder package unpacks too.
    let again = tmp.path().join("again");
    jcrpack()
        .args(["unpack", dir.to_str().unwrap(), again.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        fs::read(again.join("META-INF/vault/filter.xml")).unwrap(),
        FILTER.as_bytes()
    );
}

#[test]
fn unpack_refuses_a_folder_that_is_not_empty_without_force() {
    let (tmp, src) = fixture();
    let zip = tmp.path().join("p.zip");
    jcrpack()
        .args(["build", src.to_str().unwrap(), "-o", zip.to_str().unwrap()])
        .args(["--name", "g:n:1"])
        .assert()
        .success();
    let dir = tmp.path().join("out");
    write(&dir, "jcr_root/content/site/.content.xml", "old");
    let run = jcrpack()
        .args(["unpack", zip.to_str().unwrap(), dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("--force"), "{}", stderr(&run));
    assert_eq!(
        fs::read(dir.join("jcr_root/content/site/.content.xml")).unwrap(),
        b"old"
    );
    jcrpack()
        .args([
            "unpack",
            zip.to_str().unwrap(),
            dir.to_str().unwrap(),
            "--force",
        ])
        .assert()
        .success();
    assert_eq!(
        fs::read(dir.join("jcr_root/content/site/.content.xml")).unwrap(),
        CONTENT.as_bytes()
    );
}

#[test]
fn unpack_refuses_entries_that_leave_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("evil.zip");
    {
        let file = fs::File::create(&zip).unwrap();
        let mut w = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("jcr_root/ok.txt", opts).unwrap();
        std::io::Write::write_all(&mut w, b"ok").unwrap();
        w.start_file("../escaped.txt", opts).unwrap();
        std::io::Write::write_all(&mut w, b"evil").unwrap();
        w.finish().unwrap();
    }
    let dir = tmp.path().join("out").join("inner");
    let run = jcrpack()
        .args(["unpack", zip.to_str().unwrap(), dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("escaped.txt"), "{}", stderr(&run));
    assert!(!tmp.path().join("out/escaped.txt").exists());
    assert!(!tmp.path().join("escaped.txt").exists());
}

/// Builds every content module of the real corpus, when the corpus is there.
#[test]
fn every_corpus_content_module_builds() {
    let base = match std::env::var_os("JCRPACK_CORPUS") {
        Some(d) => std::path::PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    let corpus = base.join("real");
    let projects = fs::read_dir(&corpus).unwrap_or_else(|e| {
        panic!(
            "the shared corpus is missing ({}: {e}; set JCRPACK_CORPUS, or check it out \
             as ../shared/corpus): this test cannot run",
            corpus.display()
        )
    });
    let tmp = tempfile::tempdir().unwrap();
    let mut built = 0;
    let mut projects: Vec<_> = projects.map(|p| p.unwrap().path()).collect();
    projects.sort();
    for project in projects {
        let src = project.join("ui.content/src/main/content");
        if !src.join("META-INF/vault/filter.xml").is_file() {
            continue;
        }
        let out = tmp.path().join(format!("p{built}.zip"));
        let run = jcrpack()
            .args([
                "-q",
                "build",
                src.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .args(["--name", "corpus:content:1.0", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}: {}",
            src.display(),
            stderr(&run)
        );
        let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        check_schema(&doc, "schemas/build.schema.json");
        assert!(doc["docviewFiles"].as_u64().unwrap() > 0, "{doc}");
        let zip = jcrpack::archive::open(&out, &Default::default()).unwrap();
        assert_eq!(zip.entries().len() as u64, doc["entries"].as_u64().unwrap());
        built += 1;
    }
    assert!(
        built > 0,
        "no content module of {} was built",
        corpus.display()
    );
}
