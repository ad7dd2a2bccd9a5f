//! `META-INF/MANIFEST.MF` as FileVault's exporter writes it (reference section 1.1):
//! informational `Content-Package-*` attributes, never read on import.

use super::PackageProperties;
use crate::package_id::PackageId;

/// The manifest attribute holding the package id (`group:name[:version]`).
pub const MF_PACKAGE_ID: &str = "Content-Package-Id";
/// The manifest attribute holding the package description.
pub const MF_PACKAGE_DESCRIPTION: &str = "Content-Package-Description";
/// The manifest attribute holding the filter roots, joined with `,`.
pub const MF_PACKAGE_ROOTS: &str = "Content-Package-Roots";
/// The manifest attribute holding the `dependencies` property as written.
pub const MF_PACKAGE_DEPENDENCIES: &str = "Content-Package-Dependencies";
/// The manifest attribute holding the package type.
pub const MF_PACKAGE_TYPE: &str = "Content-Package-Type";

/// Renders `MANIFEST.MF` for a package with `props` and the workspace filter roots
/// `filter_roots`, byte for byte as FileVault's `AbstractExporter` writes it through
/// Java 8's `java.util.jar.Manifest` (the Java of the packages in FileVault's own
/// test suite, and of the `properties.xml` format jcrpack writes):
///
/// * `Manifest-Version: 1.0` first, then the attributes in the order of Java 8's
///   hash map: `Content-Package-Roots`, `-Dependencies`, `-Type`, `-Id`,
///   `-Description`; an empty value is omitted;
/// * lines end with CRLF and are folded as Java 8 folds them: the first physical line
///   holds 70 bytes, each continuation a space and 69 bytes (within the 72 bytes the
///   JAR specification allows; a multi-byte character may be split, as Java splits
///   it); a blank line ends the main section.
///
/// The id is built from `group`, `name` and `version` (missing ones count as
/// empty); `dependencies` and `packageType` are copied as they are in `props` (set
/// the type first, see [`super::PackageType::detect`]). Roots keep their first
/// occurrence order, duplicates dropped (FileVault collects them in a hash set, whose
/// order is not defined). Line breaks in a value would break the manifest and become
/// spaces.
pub fn render_manifest(props: &PackageProperties, filter_roots: &[&str]) -> Vec<u8> {
    let id = PackageId::new(
        props.get("group").unwrap_or(""),
        props.get("name").unwrap_or(""),
        props.get("version").unwrap_or(""),
    );
    let mut roots: Vec<&str> = Vec::new();
    for r in filter_roots {
        if !roots.contains(r) {
            roots.push(r);
        }
    }
    let attributes = [
        (MF_PACKAGE_ROOTS, roots.join(",")),
        (
            MF_PACKAGE_DEPENDENCIES,
            props.get("dependencies").unwrap_or("").to_string(),
        ),
        (
            MF_PACKAGE_TYPE,
            props.get("packageType").unwrap_or("").to_string(),
        ),
        (MF_PACKAGE_ID, id.to_string()),
        (
            MF_PACKAGE_DESCRIPTION,
            props.get("description").unwrap_or("").to_string(),
        ),
    ];
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"Manifest-Version: 1.0\r\n");
    for (name, value) in attributes {
        if !value.is_empty() {
            let value = value.replace(['\r', '\n', '\0'], " ");
            write_attribute(&mut out, name, &value);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes `name: value` and its line end, folded as Java 8's `Manifest.make72Safe`
/// folds it: a line break and a space are inserted at byte 70 of the line and every
/// 72 bytes after, as long as content follows.
fn write_attribute(out: &mut Vec<u8>, name: &str, value: &str) {
    let mut line = format!("{name}: {value}\r\n").into_bytes();
    let mut length = line.len();
    if length > 72 {
        let mut index = 70;
        while index < length - 2 {
            line.splice(index..index, *b"\r\n ");
            index += 72;
            length += 3;
        }
    }
    out.extend_from_slice(&line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(entries: &[(&str, &str)]) -> PackageProperties {
        let mut p = PackageProperties::new();
        for (k, v) in entries {
            p.set(k, v);
        }
        p
    }

    /// The package of FileVault's `ManifestCreationExportIT`.
    #[test]
    fn filevault_integration_test_package() {
        let p = props(&[
            ("group", "jackrabbit/test"),
            ("name", "test-package"),
            ("description", "This is a test package."),
            ("dependencies", "foo:bar:[1.0,2.0)"),
            ("packageType", "content"),
        ]);
        let mf = render_manifest(&p, &["/tmp/foo/bar", "/tmp/foo/zoo"]);
        let text = String::from_utf8(mf).unwrap();
        insta::assert_snapshot!(text.replace("\r\n", "⏎\n"), @r"
        Manifest-Version: 1.0⏎
        Content-Package-Roots: /tmp/foo/bar,/tmp/foo/zoo⏎
        Content-Package-Dependencies: foo:bar:[1.0,2.0)⏎
        Content-Package-Type: content⏎
        Content-Package-Id: jackrabbit/test:test-package⏎
        Content-Package-Description: This is a test package.⏎
        ⏎
        ");
    }

    #[test]
    fn empty_values_are_omitted() {
        let p = props(&[("group", "g"), ("name", "n"), ("description", "")]);
        let mf = render_manifest(&p, &[]);
        assert_eq!(
            mf,
            b"Manifest-Version: 1.0\r\nContent-Package-Id: g:n\r\n\r\n".to_vec()
        );
    }

    #[test]
    fn long_lines_fold_like_java_8() {
        let p = props(&[
            ("group", "com.day.jcr.vault.unit"),
            ("name", "vault-plugin-test-pkg"),
            ("version", "1.0.0-SNAPSHOT"),
            ("description", &"\u{e9}".repeat(60)),
        ]);
        let roots: Vec<String> = (0..8).map(|i| format!("/content/site-{i}/en")).collect();
        let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
        let mf = render_manifest(&p, &roots);
        for line in mf.split(|&b| b == b'\n') {
            assert!(line.len() <= 71, "{} bytes", line.len()); // 70 + '\r'
        }
        // FileVault's own test package folds the id the same way.
        let head = b"Content-Package-Id: com.day.jcr.vault.unit:vault-plugin-test-pkg:1.0.0\r\n -SNAPSHOT\r\n";
        assert!(mf.windows(head.len()).any(|w| w == head));
        // Unfolding gives the values back, a split multi-byte character included.
        let mut unfolded = Vec::new();
        let mut i = 0;
        while i < mf.len() {
            if mf[i..].starts_with(b"\r\n ") {
                i += 3;
            } else {
                unfolded.push(mf[i]);
                i += 1;
            }
        }
        let text = String::from_utf8(unfolded).unwrap();
        assert!(text.contains(&format!(
            "Content-Package-Description: {}\r\n",
            "\u{e9}".repeat(60)
        )));
        assert!(text.contains(&format!("Content-Package-Roots: {}\r\n", roots.join(","))));
        // The first description line ends inside the two bytes of an 'é'.
        let desc = b"Content-Package-Description: ";
        let at = mf.windows(desc.len()).position(|w| w == desc).unwrap();
        assert_eq!(&mf[at + 69..at + 74], b"\xc3\r\n \xa9");
        let ascii_only = props(&[("group", "g"), ("name", "n")]);
        let mf = render_manifest(&ascii_only, &roots);
        let shown = String::from_utf8(mf).unwrap().replace("\r\n", "⏎\n");
        insta::assert_snapshot!("manifest_folded", shown);
    }

    #[test]
    fn folds_only_past_70_bytes() {
        let mut out = Vec::new();
        write_attribute(&mut out, "X", &"a".repeat(67));
        assert_eq!(out, format!("X: {}\r\n", "a".repeat(67)).into_bytes());
        let mut out = Vec::new();
        write_attribute(&mut out, "X", &"a".repeat(68));
        assert_eq!(out, format!("X: {}\r\n a\r\n", "a".repeat(67)).into_bytes());
        let mut out = Vec::new();
        write_attribute(&mut out, "X", &"b".repeat(67 + 69 + 1));
        let expected = format!("X: {}\r\n {}\r\n b\r\n", "b".repeat(67), "b".repeat(69));
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn line_breaks_in_values_become_spaces() {
        let p = props(&[("group", "g"), ("name", "n"), ("description", "a\r\nb\nc")]);
        let text = String::from_utf8(render_manifest(&p, &["/a", "/a"])).unwrap();
        assert!(
            text.contains("Content-Package-Description: a  b c\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Package-Roots: /a\r\n"), "{text}");
    }
}
