//! `jackrabbit-packagetype`: the content against the package type (reference §12.3).
//!
//! * no `packageType`: warning; `mixed`: warning (legacy);
//! * `application`: only `/apps` and `/libs` (filter roots and content), no
//!   include/exclude rules, no install hooks, no OSGi bundles or configurations;
//! * `content`: nothing below `/apps` or `/libs`, no OSGi bundles or configurations;
//! * `container`: only sub packages, OSGi bundles and configurations; filter roots
//!   outside `/etc/packages/` must be immutable; no dependencies.
//!
//! Content findings name the topmost offending node only, not each node below it.

use super::{DocCheck, DocNode, Finding, Package, Severity};
use crate::package::{FILTER_ENTRY, PROPERTIES_ENTRY};
use crate::path;
use crate::properties::{keys, PackageType};
use regex::Regex;
use std::sync::LazyLock;

/// The validator id.
pub const ID: &str = "jackrabbit-packagetype";

/// Root node names of immutable (application) content.
pub const IMMUTABLE_ROOTS: [&str; 2] = ["apps", "libs"];

/// Paths the Sling JCR installer picks up (FileVault's default
/// `jcrInstallerNodePathRegex`).
static JCR_INSTALLER_PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^/([^/]*/){0,4}?(install|config)[\./].*$").expect("valid regex"));

/// File names the installer treats as bundles or configurations.
static JCR_INSTALLER_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^.*\.(config|cfg|cfg\.json|jar)$").expect("valid regex"));

/// Whether `p` is `/apps`, `/libs` or below.
pub fn is_immutable(p: &str) -> bool {
    IMMUTABLE_ROOTS
        .iter()
        .any(|r| path::is_self_or_descendant(p, &format!("/{r}")))
}

fn is_osgi(p: &str, is_file: bool) -> bool {
    JCR_INSTALLER_PATH.is_match(p) && (!is_file || JCR_INSTALLER_FILE.is_match(p))
}

const ROOTS: &str = "'/apps' or '/libs'";

/// Checks the package type against properties, filter and content.
pub fn check<'p>(pkg: &'p Package<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    let props = pkg.properties.as_ref()?;
    let Some(t) = props.package_type() else {
        if props.get(keys::PACKAGE_TYPE).is_none() {
            out.push(
                Finding::new(
                    Severity::Warning,
                    ID,
                    "no package type set",
                    "add <entry key=\"packageType\">application|content|container</entry> to properties.xml",
                )
                .in_entry(PROPERTIES_ENTRY),
            );
        }
        return None;
    };
    let err = |message: String, fix: &str| Finding::new(Severity::Error, ID, message, fix);
    match t {
        PackageType::Mixed => out.push(
            Finding::new(
                Severity::Warning,
                ID,
                "package type 'mixed' is legacy",
                "split the package into application and content packages (and a container)",
            )
            .in_entry(PROPERTIES_ENTRY),
        ),
        PackageType::Application => {
            if let Ok(hooks) = props.install_hooks() {
                if !hooks.is_empty() {
                    out.push(
                        err(
                            format!(
                                "package of type 'application' must not have install hooks, but has {}",
                                hooks.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                            "move the hooks to a content or container package",
                        )
                        .in_entry(PROPERTIES_ENTRY),
                    );
                }
            }
            for e in pkg.archive.listing().files() {
                if e.name().starts_with("META-INF/vault/hooks/") {
                    out.push(
                        err(
                            "package of type 'application' must not contain install hooks".into(),
                            "move the hook to a content or container package",
                        )
                        .in_entry(e.name()),
                    );
                }
            }
        }
        PackageType::Container => {
            if props.dependencies().is_ok_and(|d| !d.is_empty()) {
                out.push(
                    err(
                        "package of type 'container' must not have dependencies".into(),
                        "remove the dependencies, or declare them on the sub packages",
                    )
                    .in_entry(PROPERTIES_ENTRY),
                );
            }
        }
        PackageType::Content => {}
    }
    let filter = pkg.filter.as_ref()?;
    for set in &filter.sets {
        let root = set.root();
        let at = |f: Finding| f.at_or(set.location.as_ref(), FILTER_ENTRY).node(root);
        match t {
            PackageType::Application => {
                if !is_immutable(root) {
                    out.push(at(err(
                        format!("package of type 'application' must not have filter root '{root}' outside {ROOTS}"),
                        "move this content to a content package",
                    )));
                }
            }
            PackageType::Content => {
                if is_immutable(root) {
                    out.push(at(err(
                        format!("package of type 'content' must not have filter root '{root}' below {ROOTS}"),
                        "move this content to an application package",
                    )));
                }
            }
            PackageType::Container => {
                if !is_immutable(root) && !root.starts_with("/etc/packages/") {
                    out.push(at(err(
                        format!(
                            "package of type 'container' must not have mutable filter root '{root}' (only sub packages below /etc/packages/)"
                        ),
                        "move this content to a content sub package",
                    )));
                }
            }
            PackageType::Mixed => {}
        }
    }
    if t == PackageType::Application && filter.sets.iter().any(|s| !s.rules.is_empty()) {
        out.push(
            err(
                "package of type 'application' must not have include/exclude rules in its filter"
                    .into(),
                "use one filter set per root without rules, or a content package",
            )
            .in_entry(FILTER_ENTRY),
        );
    }
    check_content(pkg, t, out)
}

/// The type of a sub package against the type of the package that contains it:
/// `application` packages hold no sub packages, `content` packages only `content`
/// ones, `container` packages no `mixed` ones (a warning, legacy).
pub fn check_sub_package(container: &Package<'_>, sub: &Package<'_>, out: &mut Vec<Finding>) {
    let Some(outer) = container.properties.as_ref().and_then(|p| p.package_type()) else {
        return;
    };
    let inner = sub.properties.as_ref().and_then(|p| p.package_type());
    let finding = match outer {
        PackageType::Application => Some((
            Severity::Error,
            "package of type 'application' must not contain sub packages".to_string(),
            "move the sub package to a container package",
        )),
        PackageType::Content if inner != Some(PackageType::Content) => Some((
            Severity::Error,
            format!(
                "package of type 'content' may only contain sub packages of type 'content', but this one is of type '{}'",
                inner.map_or("(none)", PackageType::name)
            ),
            "set packageType content in the sub package, or move it to a container package",
        )),
        PackageType::Container if inner == Some(PackageType::Mixed) => Some((
            Severity::Warning,
            "package of type 'container' should only contain sub packages of type application, content or container, but this one is 'mixed'".to_string(),
            "split the sub package into application and content packages",
        )),
        _ => None,
    };
    if let Some((severity, message, fix)) = finding {
        out.push(Finding::new(severity, ID, message, fix).in_entry(PROPERTIES_ENTRY));
    }
}

/// Checks the layout's nodes against the package type; the returned check goes on
/// with the DocView elements (OSGi configurations) and ends with the content of a
/// container package.
fn check_content<'p>(
    pkg: &'p Package<'_>,
    t: PackageType,
    out: &mut Vec<Finding>,
) -> Option<Box<dyn DocCheck + 'p>> {
    let filter = pkg.filter.as_ref()?;
    if t == PackageType::Mixed {
        return None;
    }
    let mut c = Content {
        t,
        reported: Vec::new(),
        container_valid: Vec::new(),
        container_suspects: Vec::new(),
    };
    for (node, entry) in pkg.layout_nodes() {
        let p = node.path.as_str();
        if !filter.covers(p) {
            continue;
        }
        match t {
            PackageType::Content | PackageType::Application => {
                let immutable = is_immutable(p);
                if t == PackageType::Content && immutable {
                    c.report(
                        p,
                        entry,
                        format!("package of type 'content' must not contain content below {ROOTS}: '{p}'"),
                        "move this content to an application package",
                        out,
                    );
                } else if t == PackageType::Application && !immutable {
                    c.report(
                        p,
                        entry,
                        format!("package of type 'application' must not contain content outside {ROOTS}: '{p}'"),
                        "move this content to a content package",
                        out,
                    );
                }
                if is_osgi(p, true) {
                    c.report(
                        p,
                        entry,
                        format!("package of type '{t}' must not contain OSGi bundles or configurations: '{p}'"),
                        "move bundles and configurations to a container package",
                        out,
                    );
                }
            }
            PackageType::Container => {
                if is_osgi(p, true) || p.ends_with(".zip") {
                    c.container_valid.push(p.to_string());
                } else {
                    c.container_suspects
                        .push((p.to_string(), entry.to_string()));
                }
            }
            PackageType::Mixed => {}
        }
    }
    Some(Box::new(c))
}

/// The content against the package type.
struct Content {
    t: PackageType,
    /// The paths reported so far (their subtrees are not reported again).
    reported: Vec<String>,
    /// In a container package: paths of what it may hold (sub packages, bundles and
    /// configurations).
    container_valid: Vec<String>,
    /// In a container package: other nodes, with their entries; reported at the end
    /// unless they hold something valid.
    container_suspects: Vec<(String, String)>,
}

impl Content {
    fn report(&mut self, p: &str, entry: &str, message: String, fix: &str, out: &mut Vec<Finding>) {
        if self
            .reported
            .iter()
            .any(|r| path::is_self_or_descendant(p, r))
        {
            return;
        }
        self.reported.push(p.to_string());
        out.push(
            Finding::new(Severity::Error, ID, message, fix)
                .in_entry(entry)
                .node(p),
        );
    }
}

impl DocCheck for Content {
    fn doc(&mut self, _pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        let t = self.t;
        for n in nodes {
            if n.element.primary_type() == Some("sling:OsgiConfig") && is_osgi(n.path, false) {
                match t {
                    PackageType::Container => self.container_valid.push(n.path.to_string()),
                    _ => self.report(
                        n.path,
                        &n.file.entry,
                        format!(
                            "package of type '{t}' must not contain OSGi configurations: '{}'",
                            n.path
                        ),
                        "move configurations to a container package",
                        out,
                    ),
                }
            }
        }
    }

    fn finish(mut self: Box<Self>, _pkg: &Package<'_>, out: &mut Vec<Finding>) {
        for (p, entry) in std::mem::take(&mut self.container_suspects) {
            if self
                .container_valid
                .iter()
                .any(|v| path::is_self_or_descendant(v, &p))
            {
                continue;
            }
            self.report(
                &p,
                &entry,
                format!("package of type 'container' must only contain sub packages, OSGi bundles and configurations: '{p}'"),
                "move this content to a content or application sub package",
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(t: &str, sets: &str, files: &[(&str, &str)]) -> Vec<String> {
        let f = filter(sets);
        let p = props_of_type(t);
        let mut all = vec![
            ("META-INF/vault/filter.xml", f.as_str()),
            ("META-INF/vault/properties.xml", p.as_str()),
        ];
        all.extend_from_slice(files);
        messages(&validate(&all), ID)
    }

    #[test]
    fn content_package_with_apps() {
        let d = docview(r#"jcr:primaryType="nt:unstructured">"#);
        let m = run(
            "content",
            r#"<filter root="/content/site"/><filter root="/apps/site"/>"#,
            &[
                ("jcr_root/content/site/.content.xml", &d),
                ("jcr_root/apps/site/a/.content.xml", &d),
                ("jcr_root/apps/site/a/b/.content.xml", &d),
            ],
        );
        assert!(
            m.iter()
                .any(|m| m.contains("filter root '/apps/site' below")),
            "{m:?}"
        );
        let content: Vec<_> = m
            .iter()
            .filter(|m| m.contains("must not contain content below"))
            .collect();
        assert_eq!(content.len(), 1, "{m:?}");
    }

    #[test]
    fn application_package_rules() {
        let m = run(
            "application",
            r#"<filter root="/apps/site"><include pattern="/apps/site/x"/></filter><filter root="/conf/site"/>"#,
            &[("jcr_root/apps/site/config/org.example.Foo.cfg.json", "{}")],
        );
        assert!(m.iter().any(|m| m.contains("include/exclude")), "{m:?}");
        assert!(
            m.iter()
                .any(|m| m.contains("filter root '/conf/site' outside")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("OSGi bundles or configurations")),
            "{m:?}"
        );
    }

    #[test]
    fn container_package() {
        let m = run(
            "container",
            r#"<filter root="/apps/site-packages"/>"#,
            &[
                (
                    "jcr_root/apps/site-packages/application/install/site.ui.apps-1.0.zip",
                    "zip",
                ),
                ("jcr_root/apps/site-packages/other/readme.txt", "x"),
            ],
        );
        let content: Vec<_> = m
            .iter()
            .filter(|m| m.contains("must only contain"))
            .collect();
        assert_eq!(content.len(), 1, "{m:?}");
        assert!(content[0].contains("'/apps/site-packages/other'"), "{m:?}");
        // The fake sub package is reported as unreadable, without the temporary file.
        assert!(
            m.iter()
                .any(|m| m.starts_with("error: sub package cannot be read") && !m.contains("/tmp")),
            "{m:?}"
        );
    }

    #[test]
    fn sub_packages_are_validated_with_their_type() {
        // A content sub package of a container, and an application one of a content
        // package.
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("sub.zip");
        {
            let file = std::fs::File::create(&zip_path).unwrap();
            let mut z = zip::ZipWriter::new(file);
            let o = zip::write::SimpleFileOptions::default();
            use std::io::Write;
            z.start_file("META-INF/vault/filter.xml", o).unwrap();
            z.write_all(filter(r#"<filter root="/apps/sub"/>"#).as_bytes())
                .unwrap();
            z.start_file("META-INF/vault/properties.xml", o).unwrap();
            z.write_all(props_of_type("application").as_bytes())
                .unwrap();
            z.start_file("jcr_root/apps/sub/.content.xml", o).unwrap();
            z.write_all(docview(r#"jcr:primaryType="nt:folder" bad="1">"#).as_bytes())
                .unwrap();
            z.finish().unwrap();
        }
        let bytes = std::fs::read(&zip_path).unwrap();
        let root = dir.path().join("pkg");
        for (name, text) in [
            (
                "META-INF/vault/filter.xml",
                filter(r#"<filter root="/etc/packages/my"/>"#),
            ),
            ("META-INF/vault/properties.xml", props_of_type("content")),
        ] {
            let p = root.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let inner = root.join("jcr_root/etc/packages/my/sub.zip");
        std::fs::create_dir_all(inner.parent().unwrap()).unwrap();
        std::fs::write(&inner, &bytes).unwrap();
        let r = crate::validate::validate_path(&root).unwrap();
        let m: Vec<String> = r.findings.iter().map(|f| f.to_string()).collect();
        assert!(
            m.iter().any(|m| m.starts_with("error: jcr_root/etc/packages/my/sub.zip!/META-INF/vault/properties.xml: [jackrabbit-packagetype] package of type 'content' may only contain")),
            "{m:#?}"
        );
        assert!(
            m.iter().any(|m| m.contains("sub.zip!/jcr_root/apps/sub/.content.xml") && m.contains("bad")),
            "{m:#?}"
        );
    }

    #[test]
    fn missing_and_legacy_types() {
        let m = run("mixed", "", &[]);
        assert_eq!(m, vec!["warning: package type 'mixed' is legacy"]);
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter("")),
            (
                "META-INF/vault/properties.xml",
                &properties(&[("group", "g"), ("name", "n")]),
            ),
        ]);
        assert_eq!(messages(&r, ID), vec!["warning: no package type set"]);
    }
}
