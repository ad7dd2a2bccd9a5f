//! Two releases compared module by module: definitions added, removed and changed
//! (after [`super::resolve`], so key order and include layout do not count, and a
//! change in an included fragment shows in every definition that includes it), other
//! files added, removed and changed (by SHA-256), and modules whose content changed
//! while their `module.yaml` version did not.

use serde::Serialize;
use serde_json::Value;

use super::model::{Module, Release};
use super::resolve::Resolver;

/// Most changed key paths listed per definition.
pub const MAX_PATHS: usize = 50;

/// What changed between two releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseDiff {
    /// The old release, as given.
    pub old: String,
    /// The new release, as given.
    pub new: String,
    /// Modules in either release, by name; unchanged ones included.
    pub modules: Vec<ModuleDiff>,
}

/// A changed definition: its id and the key paths that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedDefinition {
    /// `<type>/<path>` inside the module (`templates/pages/home`).
    pub definition: String,
    /// Dotted key paths that differ (`areas.main.availableComponents.teaser.id`), at
    /// most [`MAX_PATHS`].
    pub paths: Vec<String>,
}

/// One module's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleDiff {
    /// The module name.
    pub name: String,
    /// `added`, `removed`, `changed` or `unchanged`.
    pub status: &'static str,
    /// The version in the old release.
    pub old_version: Option<String>,
    /// The version in the new release.
    pub new_version: Option<String>,
    /// Definitions only in the new release (`<type>/<path>`).
    pub definitions_added: Vec<String>,
    /// Definitions only in the old release.
    pub definitions_removed: Vec<String>,
    /// Definitions in both whose resolved content differs.
    pub definitions_changed: Vec<ChangedDefinition>,
    /// Other files (scripts, fragments, i18n, web resources) only in the new release.
    pub files_added: Vec<String>,
    /// Other files only in the old release.
    pub files_removed: Vec<String>,
    /// Other files whose bytes differ.
    pub files_changed: Vec<String>,
    /// True when the module changed but its version is the same (or absent in both).
    pub version_not_bumped: bool,
}

impl ReleaseDiff {
    /// True when some module changed without a version bump.
    pub fn has_unbumped(&self) -> bool {
        self.modules.iter().any(|m| m.version_not_bumped)
    }

    /// True when anything differs.
    pub fn has_changes(&self) -> bool {
        self.modules.iter().any(|m| m.status != "unchanged")
    }
}

fn definition_name(path: &str) -> String {
    path.strip_suffix(".yaml")
        .or_else(|| path.strip_suffix(".yml"))
        .unwrap_or(path)
        .to_owned()
}

/// Compares release `old` with release `new`.
pub fn diff(old: &Release, new: &Release) -> ReleaseDiff {
    let mut ro = Resolver::new(old);
    let mut rn = Resolver::new(new);
    let mut names: Vec<&String> = old.modules.keys().chain(new.modules.keys()).collect();
    names.sort();
    names.dedup();
    let empty = Module::default();
    let mut modules = Vec::new();
    for name in names {
        let a = old.module(name);
        let b = new.module(name);
        let ma = a.unwrap_or(&empty);
        let mb = b.unwrap_or(&empty);
        let mut d = ModuleDiff {
            name: name.clone(),
            status: "unchanged",
            old_version: a.and_then(|m| m.version().map(str::to_owned)),
            new_version: b.and_then(|m| m.version().map(str::to_owned)),
            definitions_added: Vec::new(),
            definitions_removed: Vec::new(),
            definitions_changed: Vec::new(),
            files_added: Vec::new(),
            files_removed: Vec::new(),
            files_changed: Vec::new(),
            version_not_bumped: false,
        };
        let mut paths: Vec<&String> = ma.files.keys().chain(mb.files.keys()).collect();
        paths.sort();
        paths.dedup();
        for p in paths {
            let is_def = Module::definition_type(p).is_some();
            match (ma.files.get(p), mb.files.get(p)) {
                (None, Some(_)) if is_def => d.definitions_added.push(definition_name(p)),
                (Some(_), None) if is_def => d.definitions_removed.push(definition_name(p)),
                (None, Some(_)) => d.files_added.push(p.clone()),
                (Some(_), None) => d.files_removed.push(p.clone()),
                // A definition whose bytes changed but whose meaning did not
                // (comments, key order, quoting) is not a change.
                (Some(fa), Some(fb)) if is_def => {
                    let va = ro.file(name, p);
                    let vb = rn.file(name, p);
                    // A file that does not parse resolves to nothing: compare its bytes.
                    let unreadable = |m: &Module| m.yaml.get(p.as_str()).is_none_or(|d| d.fatal);
                    if va == vb && fa.sha256 != fb.sha256 && (unreadable(ma) || unreadable(mb)) {
                        d.definitions_changed.push(ChangedDefinition {
                            definition: definition_name(p),
                            paths: vec!["(file does not parse)".into()],
                        });
                    } else if va != vb {
                        let mut changed = Vec::new();
                        changed_paths(&va, &vb, "", &mut changed);
                        d.definitions_changed.push(ChangedDefinition {
                            definition: definition_name(p),
                            paths: changed,
                        });
                    }
                }
                (Some(fa), Some(fb)) => {
                    if fa.sha256 != fb.sha256 {
                        d.files_changed.push(p.clone());
                    }
                }
                (None, None) => {}
            }
        }
        let changed = !(d.definitions_added.is_empty()
            && d.definitions_removed.is_empty()
            && d.definitions_changed.is_empty()
            && d.files_added.is_empty()
            && d.files_removed.is_empty()
            && d.files_changed.is_empty());
        d.status = match (a, b) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            _ if changed => "changed",
            _ => "unchanged",
        };
        d.version_not_bumped = d.status == "changed" && d.old_version == d.new_version;
        modules.push(d);
    }
    ReleaseDiff {
        old: old.source.clone(),
        new: new.source.clone(),
        modules,
    }
}

fn changed_paths(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_PATHS || a == b {
        return;
    }
    let join = |k: &str| {
        if at.is_empty() {
            k.to_owned()
        } else {
            format!("{at}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => changed_paths(va, vb, &join(k), out),
                    _ => {
                        if out.len() < MAX_PATHS {
                            out.push(join(k));
                        }
                    }
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                changed_paths(va, vb, &format!("{at}[{i}]"), out);
            }
        }
        _ => out.push(if at.is_empty() {
            "(root)".into()
        } else {
            at.to_owned()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(dir: &std::path::Path, files: &[(&str, &str)]) -> Release {
        for (p, c) in files {
            let path = dir.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
        Release::read(&[dir]).unwrap()
    }

    #[test]
    fn a_definition_that_does_not_parse_is_compared_by_bytes() {
        let t = tempfile::tempdir().unwrap();
        let a = release(&t.path().join("a"), &[("m/dialogs/d.yaml", "a: [1\n")]);
        let b = release(&t.path().join("b"), &[("m/dialogs/d.yaml", "a: [2\n")]);
        let d = diff(&a, &b);
        assert_eq!(
            d.modules[0].definitions_changed[0].paths,
            ["(file does not parse)"]
        );
    }

    #[test]
    fn key_order_and_comments_do_not_count_but_values_do() {
        let t = tempfile::tempdir().unwrap();
        let a = release(
            &t.path().join("a"),
            &[
                ("m/module.yaml", "version: 1.0.0\n"),
                ("m/templates/p.yaml", "title: P\ndialog: m:p\n"),
            ],
        );
        let b = release(
            &t.path().join("b"),
            &[
                ("m/module.yaml", "version: 1.0.0\n"),
                ("m/templates/p.yaml", "# c\ndialog: m:p\ntitle: P\n"),
            ],
        );
        let d = diff(&a, &b);
        assert_eq!(d.modules[0].status, "unchanged");
        let c = release(
            &t.path().join("c"),
            &[
                ("m/module.yaml", "version: 1.0.0\n"),
                ("m/templates/p.yaml", "dialog: m:q\ntitle: P\n"),
            ],
        );
        let d = diff(&a, &c);
        assert_eq!(d.modules[0].status, "changed");
        assert_eq!(d.modules[0].definitions_changed[0].paths, ["dialog"]);
        assert!(d.modules[0].version_not_bumped);
    }
}
