//! A definition as Magnolia sees it after its directives: `!include` (both forms)
//! replaced by the included content with the node's own keys laid over it,
//! `!inherit:<id>` at the root laid under the definition, `!override` replacing instead
//! of merging, merge keys already applied by [`super::yaml`]. The result is canonical
//! JSON: mapping keys sorted (so key order never counts), scalars typed with YAML 1.1.
//!
//! What cannot be resolved stays visible in the result instead of being dropped: an
//! include of a file the release lacks becomes `{"!include-missing": path}`, a cycle
//! `{"!include-cycle": path}`, an inherit from a module outside the release
//! `{"!inherit": id}` under the definition's own keys, and `!content-type:name` the key
//! `"!content-type"`. Merging (Magnolia's "hyper config", as documented for
//! `!include` and `!inherit`): mappings merge key by key, recursively; anything else,
//! or a value tagged `!override`, replaces; a sequence laid over an included sequence
//! is appended to it [inf].

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::model::{Module, Release};
use super::yaml::{Directive, YNode, YValue};

/// Deepest chain of includes and inherits followed.
pub const MAX_CHAIN: usize = 32;

/// Resolves definitions of one release, caching included files.
pub struct Resolver<'a> {
    release: &'a Release,
    cache: HashMap<(String, String), Value>,
    stack: Vec<(String, String)>,
}

impl<'a> Resolver<'a> {
    /// A resolver over `release`.
    pub fn new(release: &'a Release) -> Resolver<'a> {
        Resolver {
            release,
            cache: HashMap::new(),
            stack: Vec::new(),
        }
    }

    /// The resolved content of file `path` of module `module` (`Value::Null` when the
    /// file is empty or unreadable YAML).
    pub fn file(&mut self, module: &str, path: &str) -> Value {
        let key = (module.to_owned(), path.to_owned());
        if let Some(v) = self.cache.get(&key) {
            return v.clone();
        }
        if self.stack.contains(&key) || self.stack.len() >= MAX_CHAIN {
            return single("!include-cycle", Value::String(format!("/{module}/{path}")));
        }
        let Some(root) = self
            .release
            .module(module)
            .and_then(|m| m.yaml.get(path))
            .and_then(|d| d.root.as_ref())
        else {
            return Value::Null;
        };
        let kind = Module::definition_type(path);
        self.stack.push(key.clone());
        let mut value = match (&root.directive, kind) {
            (Some(Directive::Inherit(id)), Some(kind)) => {
                let base = self.definition(kind, id);
                self.overlay(base, root)
            }
            _ => self.node(root),
        };
        if let Some(Directive::ContentType(name)) = &root.directive {
            if let Value::Object(m) = &mut value {
                m.insert("!content-type".into(), Value::String(name.clone()));
                sort(m);
            } else if value.is_null() {
                value = single("!content-type", Value::String(name.clone()));
            }
        }
        self.stack.pop();
        self.cache.insert(key, value.clone());
        value
    }

    fn definition(&mut self, kind: &str, id: &str) -> Value {
        let found = id.split_once(':').and_then(|(m, p)| {
            let file = self.release.module(m)?.definition_file(kind, p)?;
            Some((m.to_owned(), file))
        });
        match found {
            Some((m, file)) => self.file(&m, &file),
            None => single("!inherit", Value::String(id.to_owned())),
        }
    }

    fn include(&mut self, path: &str) -> Value {
        let rest = path.trim().trim_start_matches('/');
        let (module, rel) = rest.split_once('/').unwrap_or((rest, ""));
        let exists = self
            .release
            .module(module)
            .is_some_and(|m| m.files.contains_key(rel));
        if !exists {
            return single("!include-missing", Value::String(path.trim().to_owned()));
        }
        self.file(module, rel)
    }

    /// A node with its directive applied.
    fn node(&mut self, n: &YNode) -> Value {
        match &n.directive {
            Some(Directive::Include(path)) => {
                let base = self.include(path);
                match &n.value {
                    YValue::Scalar(t, _) if t.is_empty() => base,
                    _ => self.overlay(base, n),
                }
            }
            Some(Directive::IncludeOld) => match n.as_text() {
                Some(path) => self.include(path),
                None => self.plain(n),
            },
            _ => self.plain(n),
        }
    }

    /// A node's own content, its children resolved.
    fn plain(&mut self, n: &YNode) -> Value {
        match &n.value {
            YValue::Scalar(_, t) => t.to_json(),
            YValue::Seq(items) => Value::Array(items.iter().map(|i| self.node(i)).collect()),
            YValue::Map(entries) => {
                let mut m: BTreeMap<String, Value> = BTreeMap::new();
                for (k, v) in entries {
                    m.insert(key_text(k), self.node(v));
                }
                Value::Object(m.into_iter().collect())
            }
        }
    }

    /// `n`'s content laid over `base`.
    fn overlay(&mut self, base: Value, n: &YNode) -> Value {
        match (base, &n.value) {
            (Value::Object(mut b), YValue::Map(entries)) => {
                for (k, v) in entries {
                    let key = key_text(k);
                    let replace = matches!(v.directive, Some(Directive::Override))
                        || matches!(
                            v.directive,
                            Some(Directive::Include(_)) | Some(Directive::IncludeOld)
                        );
                    let merged = match (b.remove(&key), &v.value) {
                        (Some(old @ Value::Object(_)), YValue::Map(_)) if !replace => {
                            self.overlay(old, v)
                        }
                        _ => self.node(v),
                    };
                    b.insert(key, merged);
                }
                sort(&mut b);
                Value::Object(b)
            }
            (Value::Array(mut b), YValue::Seq(items))
                if n.directive != Some(Directive::Override) =>
            {
                for i in items {
                    b.push(self.node(i));
                }
                Value::Array(b)
            }
            (_, _) => self.plain(n),
        }
    }
}

fn key_text(k: &YNode) -> String {
    match &k.value {
        YValue::Scalar(_, t) => t.as_text(),
        _ => "?".into(),
    }
}

fn single(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), v);
    Value::Object(m)
}

fn sort(m: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    m.extend(entries);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn release(files: &[(&str, &str)]) -> (tempfile::TempDir, Release) {
        let tmp = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let path = tmp.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
        let r = Release::read(&[tmp.path()]).unwrap();
        (tmp, r)
    }

    #[test]
    fn includes_and_inherit_are_resolved_and_keys_sorted() {
        let (_t, r) = release(&[
            ("m/includes/actions.yaml", "commit:\n  label: Save\ncancel:\n  label: Cancel\n"),
            ("m/dialogs/a.yaml", "label: A\nactions: !include:/m/includes/actions.yaml\n"),
            ("m/dialogs/b.yaml", "!inherit:m:a\nlabel: B\nactions:\n  commit:\n    label: Store\n"),
            ("m/dialogs/c.yaml", "z: 1\nold: !include /m/includes/actions.yaml\nmissing: !include:/m/includes/none.yaml\n"),
        ]);
        let mut res = Resolver::new(&r);
        let a = res.file("m", "dialogs/a.yaml");
        assert_eq!(a["actions"]["commit"]["label"], "Save");
        let b = res.file("m", "dialogs/b.yaml");
        assert_eq!(b["label"], "B");
        assert_eq!(b["actions"]["commit"]["label"], "Store");
        assert_eq!(b["actions"]["cancel"]["label"], "Cancel");
        let c = res.file("m", "dialogs/c.yaml");
        assert_eq!(c["old"]["cancel"]["label"], "Cancel");
        assert_eq!(c["missing"]["!include-missing"], "/m/includes/none.yaml");
        let keys: Vec<_> = c.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["missing", "old", "z"]);
        let _ = Path::new("");
    }

    #[test]
    fn include_cycles_end() {
        let (_t, r) = release(&[
            ("m/includes/a.yaml", "x: !include:/m/includes/b.yaml\n"),
            ("m/includes/b.yaml", "y: !include:/m/includes/a.yaml\n"),
        ]);
        let v = Resolver::new(&r).file("m", "includes/a.yaml");
        assert_eq!(v["x"]["y"]["!include-cycle"], "/m/includes/a.yaml");
    }
}
