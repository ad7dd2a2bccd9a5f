//! `jackrabbit-dependencies`: the `dependencies` property parses, and names no
//! package twice or the package itself. Dependencies are not resolved (there is no
//! repository), so FileVault's overlap check between dependencies does not apply.

use super::{Finding, Package, Severity};
use crate::package::PROPERTIES_ENTRY;
use crate::properties::keys;
use std::collections::HashSet;

/// The validator id.
pub const ID: &str = "jackrabbit-dependencies";

/// Checks the dependencies.
pub fn check(pkg: &Package<'_>, out: &mut Vec<Finding>) {
    let Some(p) = &pkg.properties else { return };
    let Some(raw) = p.get(keys::DEPENDENCIES) else {
        return;
    };
    let deps = match p.dependencies() {
        Ok(d) => d,
        Err(e) => {
            out.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!("invalid dependencies '{raw}': {e}"),
                    "write dependencies as group:name[:versionRange], separated by commas, e.g. my:base:[1.0,2.0)",
                )
                .in_entry(PROPERTIES_ENTRY),
            );
            return;
        }
    };
    let own = p.id();
    let mut seen = HashSet::new();
    for d in &deps {
        let key = (d.group().to_string(), d.name().to_string());
        if !seen.insert(key) {
            out.push(
                Finding::new(
                    Severity::Warning,
                    ID,
                    format!(
                        "dependency on '{}:{}' is declared more than once",
                        d.group(),
                        d.name()
                    ),
                    "keep one dependency per package, with the intended version range",
                )
                .in_entry(PROPERTIES_ENTRY),
            );
        }
        if let Some(id) = &own {
            if id.group() == d.group() && id.name() == d.name() {
                out.push(
                    Finding::new(
                        Severity::Error,
                        ID,
                        format!("the package depends on itself ('{d}')"),
                        "remove the dependency on the package's own group and name",
                    )
                    .in_entry(PROPERTIES_ENTRY),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(deps: &str) -> Vec<String> {
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter("")),
            (
                "META-INF/vault/properties.xml",
                &properties(&[
                    ("group", "my"),
                    ("name", "pkg"),
                    ("version", "1"),
                    ("dependencies", deps),
                ]),
            ),
        ]);
        messages(&r, ID)
    }

    #[test]
    fn valid_dependencies_pass() {
        assert!(run("my:base:[1.0,2.0),other:lib").is_empty());
    }

    #[test]
    fn invalid_range_is_an_error() {
        let m = run("my:base:[2.0,1.0]");
        assert!(m[0].starts_with("error: invalid dependencies"), "{m:?}");
    }

    #[test]
    fn duplicates_and_self() {
        let m = run("my:base,my:base:1.0,my:pkg");
        assert!(m.iter().any(|m| m.contains("more than once")), "{m:?}");
        assert!(m.iter().any(|m| m.contains("depends on itself")), "{m:?}");
    }
}
