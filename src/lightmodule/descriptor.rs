//! `module.yaml`, the light-module descriptor: `version` and `dependencies`, with
//! Magnolia's version and range forms.
//!
//! Magnolia documents (YAML-based module descriptor): the file is `module.yaml` in the
//! module's root; `version` is required; `dependencies` maps module names to
//! `{version: RANGE, optional: true}` (or nothing). Versions are `x`, `x.y`, `x.y.z`
//! with an optional classifier (`1.0-SNAPSHOT`); ranges are a version, `from/to`, with
//! `*` for an open end (`6.2/*`), or `*` alone.

use std::sync::OnceLock;

use regex::Regex;

use super::yaml::{Pos, YNode, YValue};
use super::yaml11::Typed;

/// A parsed descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// `version`, as Magnolia reads it (the text of the typed value).
    pub version: Option<String>,
    /// Where `version` is.
    pub version_pos: Pos,
    /// `dependencies`, in file order: name, range (None: any), optional.
    pub dependencies: Vec<Dependency>,
}

/// One entry of `dependencies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The module name.
    pub name: String,
    /// The version range, when given.
    pub range: Option<String>,
    /// `optional: true`.
    pub optional: bool,
    /// Where the entry is.
    pub pos: Pos,
}

/// A problem with a descriptor: position, error or warning, message, fix.
pub type Problem = (Pos, bool, String, String);

static VERSION: OnceLock<Regex> = OnceLock::new();

/// True when `s` is a Magnolia module version (`1`, `1.2`, `1.2.3`, with an optional
/// `-classifier` or `.classifier`).
pub fn is_version(s: &str) -> bool {
    VERSION
        .get_or_init(|| {
            Regex::new(r"^[0-9]+(?:\.[0-9]+){0,2}(?:[-.][A-Za-z0-9_][A-Za-z0-9_.-]*)?$")
                .expect("fixed pattern")
        })
        .is_match(s)
}

/// True when `s` is a version range Magnolia parses: `*`, a version, or `from/to`
/// where either end may be `*`.
pub fn is_range(s: &str) -> bool {
    let s = s.trim();
    if s == "*" || is_version(s) {
        return true;
    }
    match s.split_once('/') {
        Some((a, b)) => {
            let a = a.trim();
            let b = b.trim();
            (a == "*" || is_version(a)) && (b == "*" || is_version(b)) && !(a == "*" && b == "*")
        }
        None => false,
    }
}

/// Reads a descriptor from its YAML root, with the problems found.
pub fn read(root: Option<&YNode>) -> (Descriptor, Vec<Problem>) {
    let mut d = Descriptor::default();
    let mut problems = Vec::new();
    let Some(root) = root else {
        problems.push((
            Pos::default(),
            true,
            "module.yaml is empty: it has no version".to_owned(),
            "add `version: 1.0.0`".to_owned(),
        ));
        return (d, problems);
    };
    if root.as_map().is_none() {
        problems.push((
            root.pos,
            true,
            "module.yaml is not a mapping".to_owned(),
            "write `version: 1.0.0` and a `dependencies:` mapping".to_owned(),
        ));
        return (d, problems);
    }
    match root.get("version") {
        None => problems.push((
            root.pos,
            true,
            "module.yaml has no version".to_owned(),
            "add `version: 1.0.0`".to_owned(),
        )),
        Some(v) => {
            d.version_pos = v.pos;
            match &v.value {
                YValue::Scalar(text, typed) => {
                    let seen = typed.as_text();
                    match typed {
                        Typed::Str(_) => {}
                        Typed::Float(_) | Typed::Int(_) | Typed::Timestamp(_) => {
                            problems.push((
                                v.pos,
                                false,
                                format!(
                                    "version {text} is a YAML 1.1 {}, not a string",
                                    typed.type_name()
                                ),
                                format!("quote it: version: '{text}'"),
                            ));
                        }
                        _ => {}
                    }
                    if !is_version(&seen) {
                        problems.push((
                            v.pos,
                            true,
                            format!(
                                "version '{seen}' is not a Magnolia version (x.y.z[-classifier])"
                            ),
                            "write the version as e.g. 1.2.3 or 1.2.3-SNAPSHOT".to_owned(),
                        ));
                    } else {
                        d.version = Some(seen);
                    }
                }
                _ => problems.push((
                    v.pos,
                    true,
                    "version is not a scalar".to_owned(),
                    "write `version: 1.0.0`".to_owned(),
                )),
            }
        }
    }
    if let Some(deps) = root.get("dependencies") {
        match &deps.value {
            YValue::Map(entries) => {
                for (k, v) in entries {
                    let name = k.as_text().unwrap_or_default().to_owned();
                    let mut dep = Dependency {
                        name: name.clone(),
                        range: None,
                        optional: false,
                        pos: k.pos,
                    };
                    match &v.value {
                        YValue::Scalar(_, Typed::Null) => {}
                        YValue::Map(_) => {
                            if let Some(r) = v.get("version") {
                                let text = match &r.value {
                                    YValue::Scalar(_, t) => t.as_text(),
                                    _ => String::new(),
                                };
                                if !is_range(&text) {
                                    problems.push((
                                        r.pos,
                                        true,
                                        format!("dependency {name}: version range '{text}' does not parse"),
                                        "write a version, from/to, from/* or * (quote a lone *: '*')"
                                            .to_owned(),
                                    ));
                                } else {
                                    dep.range = Some(text);
                                }
                            }
                            if let Some(o) = v.get("optional") {
                                match &o.value {
                                    YValue::Scalar(_, Typed::Bool(b)) => dep.optional = *b,
                                    _ => problems.push((
                                        o.pos,
                                        true,
                                        format!("dependency {name}: optional is not a boolean"),
                                        "write optional: true or optional: false".to_owned(),
                                    )),
                                }
                            }
                        }
                        _ => problems.push((
                            v.pos,
                            true,
                            format!("dependency {name} is neither empty nor a mapping"),
                            format!("write `{name}:` followed by `version: RANGE` indented below"),
                        )),
                    }
                    d.dependencies.push(dep);
                }
            }
            YValue::Scalar(_, Typed::Null) => {}
            _ => problems.push((
                deps.pos,
                true,
                "dependencies is not a mapping".to_owned(),
                "write one `module-name:` key per dependency".to_owned(),
            )),
        }
    }
    (d, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightmodule::yaml;

    #[test]
    fn versions_and_ranges() {
        for v in ["1", "1.2", "0.0.7", "1.0-SNAPSHOT", "6.2.3"] {
            assert!(is_version(v), "{v}");
        }
        for v in ["", "a", "1..2", "v1"] {
            assert!(!is_version(v), "{v}");
        }
        for r in ["*", "6.2/*", "1.0/2.0", "*/2.0", "1.2.3"] {
            assert!(is_range(r), "{r}");
        }
        for r in ["*/*", "6.2/", "x", "1.0,2.0"] {
            assert!(!is_range(r), "{r}");
        }
    }

    #[test]
    fn reads_the_corpus_shape() {
        let doc = yaml::read(
            "version: 0.0.7\ndependencies:\n  core:\n    version: 6.2/*\n  content-importer:\n  unsplash:\n    optional: true\n",
        );
        let (d, problems) = read(doc.root.as_ref());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(d.version.as_deref(), Some("0.0.7"));
        assert_eq!(d.dependencies.len(), 3);
        assert!(d.dependencies[2].optional);
        assert_eq!(d.dependencies[0].range.as_deref(), Some("6.2/*"));
    }

    #[test]
    fn a_float_version_is_a_warning() {
        let doc = yaml::read("version: 1.10\n");
        let (d, problems) = read(doc.root.as_ref());
        assert_eq!(d.version.as_deref(), Some("1.10"));
        assert_eq!(problems.len(), 1);
        assert!(!problems[0].1);
    }

    #[test]
    fn bad_range_and_missing_version_are_errors() {
        let doc = yaml::read("dependencies:\n  core:\n    version: latest\n");
        let (_, problems) = read(doc.root.as_ref());
        assert_eq!(problems.iter().filter(|p| p.1).count(), 2, "{problems:?}");
    }
}
