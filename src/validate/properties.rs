//! `jackrabbit-properties`: `META-INF/vault/properties.xml` well-formed, with a valid
//! package id (group, name, version) and known values for `packageType`,
//! `acHandling`, `packageFormatVersion` and the install hook keys.

use super::{Finding, Package, Severity};
use crate::archive::Archive;
use crate::package::PROPERTIES_ENTRY;
use crate::package_id::PackageId;
use crate::properties::{keys, AcHandling, PackageProperties, PackageType, PACKAGE_FORMAT_VERSION};

/// The validator id.
pub const ID: &str = "jackrabbit-properties";

/// Reads `properties.xml`; a missing or malformed one becomes a finding.
pub fn load(archive: &dyn Archive, findings: &mut Vec<Finding>) -> Option<PackageProperties> {
    if archive.entry(PROPERTIES_ENTRY).is_none() {
        findings.push(
            Finding::new(
                Severity::Warning,
                ID,
                "the package has no properties.xml: it has no id (group, name, version) and all defaults apply",
                "add META-INF/vault/properties.xml with group, name, version and packageType entries",
            )
            .in_entry(PROPERTIES_ENTRY),
        );
        return None;
    }
    let bytes = match archive.read_to_vec(PROPERTIES_ENTRY) {
        Ok(b) => b,
        Err(e) => {
            findings.push(Finding::unreadable(
                ID,
                PROPERTIES_ENTRY,
                format!("cannot read properties.xml: {e}"),
            ));
            return None;
        }
    };
    match PackageProperties::parse(&bytes, PROPERTIES_ENTRY) {
        Ok(p) => Some(p),
        Err(e) => {
            let location = e.location().clone();
            let full = e.to_string();
            let prefix = format!("{location}: ");
            let message = full.strip_prefix(&prefix).unwrap_or(&full).to_string();
            findings.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!("invalid properties.xml: {message}"),
                    "write properties.xml as a Java XML properties file (<properties><entry key=\"...\">...</entry></properties>)",
                )
                .at(&location),
            );
            None
        }
    }
}

/// Checks the values of the properties.
pub fn check(pkg: &Package<'_>, out: &mut Vec<Finding>) {
    let Some(p) = &pkg.properties else { return };
    let mut push = |severity, message: String, fix: &str| {
        out.push(Finding::new(severity, ID, message, fix).in_entry(PROPERTIES_ENTRY));
    };
    match (p.get(keys::GROUP), p.get(keys::NAME)) {
        (_, None) | (_, Some("")) => push(
            Severity::Error,
            "properties.xml has no 'name': the package has no id".into(),
            "add <entry key=\"name\">my-package</entry>",
        ),
        (group, Some(name)) => {
            if group.is_none_or(str::is_empty) {
                push(
                    Severity::Info,
                    "properties.xml has no 'group': the package is installed below /etc/packages directly".into(),
                    "add <entry key=\"group\">my/group</entry>",
                );
            }
            let id = PackageId::new(
                group.unwrap_or(""),
                name,
                p.get(keys::VERSION).unwrap_or(""),
            );
            if let Err(e) = id.validate() {
                push(
                    Severity::Error,
                    format!("invalid package id: {e}"),
                    "use valid JCR names for group segments, name and version (no '/', '[', ']', '|' or '*', no leading or trailing blanks)",
                );
            }
        }
    }
    if p.get(keys::VERSION).is_none_or(str::is_empty) {
        push(
            Severity::Info,
            "properties.xml has no 'version': the package's version is empty".into(),
            "add <entry key=\"version\">1.0.0</entry>",
        );
    }
    if let Some(t) = p.get(keys::PACKAGE_TYPE) {
        if PackageType::from_name(t).is_none() {
            push(
                Severity::Error,
                format!("unknown packageType '{t}'"),
                "use application, content, container or mixed",
            );
        }
    }
    if let Some(h) = p.get(keys::AC_HANDLING) {
        if !h.is_empty() && AcHandling::from_name(h).is_none() {
            push(
                Severity::Error,
                format!("unknown acHandling '{h}': FileVault falls back to 'ignore'"),
                "use ignore, overwrite, merge, merge_preserve or clear",
            );
        }
    }
    if let Some(v) = p.get(keys::PACKAGE_FORMAT_VERSION) {
        match v.trim().parse::<i32>() {
            Ok(n) if n <= PACKAGE_FORMAT_VERSION => {}
            _ => push(
                Severity::Error,
                format!("packageFormatVersion '{v}' is not supported (at most {PACKAGE_FORMAT_VERSION})"),
                "set packageFormatVersion to 2",
            ),
        }
    }
    if let Err(e) = p.install_hooks() {
        push(
            Severity::Error,
            format!("{e}"),
            "name external install hooks installhook.<name>.class",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(props: &str) -> Vec<String> {
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter("")),
            ("META-INF/vault/properties.xml", props),
        ]);
        messages(&r, ID)
    }

    #[test]
    fn valid_properties_pass() {
        assert!(run(&props_of_type("content")).is_empty());
    }

    #[test]
    fn malformed_xml_has_a_location() {
        let r = validate(&[(
            "META-INF/vault/properties.xml",
            "<properties><entry key=\"a\">x</properties>",
        )]);
        let f = r.by_validator(ID).next().unwrap();
        assert!(
            f.message.starts_with("invalid properties.xml"),
            "{}",
            f.message
        );
        assert!(f.line.is_some());
    }

    #[test]
    fn bad_ids_and_values() {
        let m = run(&properties(&[
            ("group", "my"),
            ("name", "a/b"),
            ("version", "1.0"),
            ("packageType", "weird"),
            ("acHandling", "sometimes"),
        ]));
        assert!(
            m.iter().any(|m| m.starts_with("error: invalid package id")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.starts_with("error: unknown packageType 'weird'")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|m| m.starts_with("error: unknown acHandling")),
            "{m:?}"
        );
    }

    #[test]
    fn missing_name_and_file() {
        let m = run(&properties(&[("group", "g")]));
        assert!(m.iter().any(|m| m.contains("no 'name'")), "{m:?}");
        let r = validate(&[("META-INF/vault/filter.xml", &filter(""))]);
        assert!(messages(&r, ID)[0].starts_with("warning: the package has no properties.xml"));
    }
}
