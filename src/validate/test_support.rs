//! Small packages for the validator tests: a temporary folder archive built from
//! `(entry, text)` pairs.

use super::{validate_archive, Report};
use crate::archive::{FolderArchive, ReadOptions};

/// A `filter.xml` with the given `<filter>` elements.
pub fn filter(sets: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workspaceFilter version=\"1.0\">\n{sets}\n</workspaceFilter>\n")
}

/// A `properties.xml` with the given entries (`key`, `value`).
pub fn properties(entries: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n<properties>\n",
    );
    for (k, v) in entries {
        s.push_str(&format!("<entry key=\"{k}\">{v}</entry>\n"));
    }
    s.push_str("</properties>\n");
    s
}

/// Standard properties of a valid package of `package_type`.
pub fn props_of_type(package_type: &str) -> String {
    properties(&[
        ("group", "my"),
        ("name", "pkg"),
        ("version", "1.0"),
        ("packageType", package_type),
    ])
}

/// A `.content.xml` with the usual namespaces around `body` (attributes and
/// children of `jcr:root`).
pub fn docview(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" xmlns:nt=\"http://www.jcp.org/jcr/nt/1.0\" xmlns:rep=\"internal\" xmlns:cq=\"http://www.day.com/jcr/cq/1.0\" xmlns:sling=\"http://sling.apache.org/jcr/sling/1.0\" {body}</jcr:root>\n"
    )
}

/// Writes the files into a temporary folder and validates it.
pub fn validate(files: &[(&str, &str)]) -> Report {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    let archive = FolderArchive::open(dir.path(), &ReadOptions::default()).expect("folder");
    validate_archive(&archive)
}

/// The messages of one validator, as `severity: message` lines.
pub fn messages(report: &Report, id: &str) -> Vec<String> {
    report
        .by_validator(id)
        .map(|f| format!("{}: {}", f.severity, f.message))
        .collect()
}
