//! `lm validate`: what Magnolia's Definitions app would report, found offline.
//!
//! Checks, each with its id in [`Finding::check`]:
//!
//! * `yaml`: every YAML file parses as Magnolia parses it ([`super::yaml`]): syntax,
//!   tabs, duplicate keys, unknown tags, alias bombs, keys YAML 1.1 retypes;
//! * `descriptor`: `module.yaml` has a version and dependency ranges that parse; a
//!   descriptor under another name (`<module>.yaml` at the root) is not read by Magnolia;
//! * `include`: `!include` targets (`!include:/m/p.yaml` and the old `!include /m/p.yaml`)
//!   are absolute resource paths that exist in the release (or lie in an external
//!   module); a fragment that is included but lies in a definition folder is registered
//!   as a broken definition by Magnolia;
//! * `inherit`: `!inherit:<id>` only at the root of a definition (Magnolia: "You can
//!   inherit on root level only"), its id resolving like a reference;
//! * `reference`: definition ids used by templates (`dialog`, `availableComponents`
//!   ids, site `availability` template ids) resolve to a file of the release, or name a
//!   module declared external (`--external`, or a dependency in some `module.yaml`);
//! * `decoration`: `decorations/<module>/<type>/...` targets a known module and a
//!   definition type, and, inside the release, an existing definition;
//! * `i18n`: message bundle files are `<bundle>_<locale>.properties` with a Java locale,
//!   in UTF-8;
//! * `layout`: definition files are mappings; files that cannot be read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use regex::Regex;

use super::finding::{Finding, Severity};
use super::model::{is_yaml, Module, Release, DEFINITION_TYPES};
use super::yaml::{Directive, Pos, YNode, YValue};

/// What `lm validate` is told besides the release.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Modules that exist at run time but are not in the release (`mtk`, `dam-app`).
    pub external: BTreeSet<String>,
}

/// Runs every check over `release`; findings sorted by file, line, column.
pub fn check(release: &Release, options: &CheckOptions) -> Vec<Finding> {
    let mut ctx = Ctx {
        release,
        external: options.external.clone(),
        findings: Vec::new(),
        included: BTreeMap::new(),
    };
    for m in release.modules.values() {
        if let Some((d, _)) = &m.descriptor {
            for dep in &d.dependencies {
                ctx.external.insert(dep.name.clone());
            }
        }
    }
    for m in release.modules.values() {
        ctx.module(m);
    }
    let included = std::mem::take(&mut ctx.included);
    for ((module, file), pos) in included {
        if Module::definition_type(&file).is_some() {
            ctx.push(
                Finding::new(
                    Severity::Warning,
                    "include",
                    format!("{module}/{file}"),
                    format!(
                        "this fragment is included (by {} line {}) but lies in the definition folder {}/, so Magnolia also registers it as a definition and reports it as broken",
                        pos.0, pos.1.line, file.split('/').next().unwrap_or("")
                    ),
                    format!("move it to {module}/includes/ and update the !include paths"),
                ),
            );
        }
    }
    let mut findings = ctx.findings;
    findings.sort();
    findings.dedup();
    findings
}

struct Ctx<'a> {
    release: &'a Release,
    external: BTreeSet<String>,
    findings: Vec<Finding>,
    /// Included files: (module, path) -> (including file, position).
    included: BTreeMap<(String, String), (String, Pos)>,
}

/// What a definition id resolves to.
enum Resolution {
    Found,
    External,
    Missing(String),
    UnknownModule(String),
    Unqualified,
}

impl<'a> Ctx<'a> {
    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    fn resolve_id(&self, kind: &str, id: &str) -> Resolution {
        let Some((module, path)) = id.split_once(':') else {
            return Resolution::Unqualified;
        };
        match self.release.module(module) {
            Some(m) => match m.definition_file(kind, path) {
                Some(_) => Resolution::Found,
                None => Resolution::Missing(format!("{module}/{kind}/{path}.yaml")),
            },
            None if self.external.contains(module) => Resolution::External,
            None => Resolution::UnknownModule(module.to_owned()),
        }
    }

    fn reference(&mut self, file: &str, pos: Pos, what: &str, kind: &str, id: &str) {
        let f = match self.resolve_id(kind, id) {
            Resolution::Found | Resolution::External => return,
            Resolution::Missing(expected) => Finding::new(
                Severity::Error,
                "reference",
                file,
                format!("{what} '{id}' does not exist in the release (no {expected})"),
                format!("create {expected} or correct the id"),
            ),
            Resolution::UnknownModule(m) => Finding::new(
                Severity::Error,
                "reference",
                file,
                format!("{what} '{id}' names module '{m}', which is neither in the release nor declared external"),
                format!("add '{m}' to the release, declare it with --external {m}, or list it under dependencies in module.yaml"),
            ),
            Resolution::Unqualified => Finding::new(
                Severity::Warning,
                "reference",
                file,
                format!("{what} '{id}' is not a definition id (<module>:<path>)"),
                "write the id as module:path, e.g. my-module:components/teaser",
            ),
        };
        self.push(f.at(pos));
    }

    fn module(&mut self, m: &'a Module) {
        let name = m.name.as_str();
        self.descriptor(m);
        for (path, at) in m.not_utf8.iter().filter(|(p, _)| is_yaml(p)) {
            self.push(Finding::new(
                Severity::Error,
                "yaml",
                format!("{name}/{path}"),
                format!("not UTF-8 (first bad byte at offset {at})"),
                "save the file as UTF-8",
            ));
        }
        for path in &m.too_large {
            self.push(Finding::new(
                Severity::Error,
                "yaml",
                format!("{name}/{path}"),
                "YAML file larger than 16 MiB; not read",
                "split the file",
            ));
        }
        for (path, doc) in &m.yaml {
            let file = format!("{name}/{path}");
            for p in &doc.problems {
                self.push(
                    Finding::new(
                        if p.error {
                            Severity::Error
                        } else {
                            Severity::Warning
                        },
                        "yaml",
                        file.clone(),
                        p.message.clone(),
                        p.fix.clone(),
                    )
                    .at(p.pos),
                );
            }
            let kind = Module::definition_type(path);
            if let Some(root) = &doc.root {
                self.directives(name, &file, kind, root, true);
                match kind {
                    Some("templates") => self.template_refs(&file, root, false),
                    Some("sites") => self.site_refs(&file, root, false),
                    _ => {}
                }
            }
            if kind.is_some() && !doc.fatal {
                let is_map = matches!(doc.root.as_ref().map(|r| &r.value), Some(YValue::Map(_)));
                let included_only = doc.root.as_ref().is_some_and(|r| r.directive.is_some());
                if !is_map && !included_only {
                    let pos = doc.root.as_ref().map(|r| r.pos).unwrap_or_default();
                    self.push(
                        Finding::new(
                            Severity::Warning,
                            "layout",
                            file.clone(),
                            "a file in a definition folder whose content is not a mapping: Magnolia cannot register it as a definition",
                            "write the definition as key: value pairs, or move a fragment to includes/",
                        )
                        .at(pos),
                    );
                }
            }
            if path.starts_with("decorations/") {
                self.decoration(name, path);
            }
        }
        for path in m.files.keys() {
            if path.starts_with("i18n/") {
                self.i18n(name, path);
            }
        }
        // A descriptor under another name (megaton's main/main.yaml).
        let alt = format!("{name}.yaml");
        if m.files.contains_key(&alt) && !m.files.contains_key("module.yaml") {
            let looks = m
                .yaml
                .get(&alt)
                .and_then(|d| d.root.as_ref())
                .is_some_and(|r| r.get("version").is_some() || r.get("dependencies").is_some());
            if looks {
                self.push(Finding::new(
                    Severity::Warning,
                    "descriptor",
                    format!("{name}/{alt}"),
                    format!("looks like a module descriptor, but Magnolia reads only module.yaml; {alt} is ignored and the module has no version"),
                    format!("rename {name}/{alt} to {name}/module.yaml"),
                ));
            }
        }
        if m.descriptor.is_none() && !m.files.contains_key(&alt) {
            self.push(Finding::new(
                Severity::Info,
                "descriptor",
                format!("{name}/module.yaml"),
                "no module.yaml: the module has no version, so release diffs cannot tell whether it was bumped",
                "add module.yaml with `version: 1.0.0`",
            ));
        }
    }

    fn descriptor(&mut self, m: &Module) {
        let Some((_, problems)) = &m.descriptor else {
            return;
        };
        for (pos, error, message, fix) in problems {
            self.push(
                Finding::new(
                    if *error {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    "descriptor",
                    format!("{}/module.yaml", m.name),
                    message.clone(),
                    fix.clone(),
                )
                .at(*pos),
            );
        }
    }

    fn directives(
        &mut self,
        module: &str,
        file: &str,
        kind: Option<&str>,
        node: &YNode,
        root: bool,
    ) {
        match &node.directive {
            Some(Directive::Include(path)) => self.include(file, node.pos, path),
            Some(Directive::IncludeOld) => match node.as_text() {
                Some(path) => self.include(file, node.pos, path),
                None => self.push(
                    Finding::new(
                        Severity::Error,
                        "include",
                        file,
                        "the old form `!include PATH` needs the path as its value",
                        "write !include:/module/path.yaml",
                    )
                    .at(node.pos),
                ),
            },
            Some(Directive::Inherit(id)) => {
                if !root {
                    self.push(
                        Finding::new(
                            Severity::Error,
                            "inherit",
                            file,
                            "!inherit is only allowed at the root of a definition (Magnolia: \"You can inherit on root level only\")",
                            "inherit the whole definition at its first line, or use !include:/module/path.yaml here",
                        )
                        .at(node.pos),
                    );
                } else if let Some(kind) = kind {
                    let what = format!("inherited {}", singular(kind));
                    self.reference(file, node.pos, &what, kind, id);
                } else {
                    self.push(
                        Finding::new(
                            Severity::Warning,
                            "inherit",
                            file,
                            "!inherit in a file that is not a definition",
                            "use !inherit only in definitions (templates/, dialogs/, ...)",
                        )
                        .at(node.pos),
                    );
                }
            }
            Some(Directive::ContentType(name)) => {
                if !root || kind != Some("apps") {
                    self.push(
                        Finding::new(
                            Severity::Warning,
                            "reference",
                            file,
                            "!content-type belongs at the root of an app definition (apps/)",
                            "move the app to apps/ with !content-type:<name> on its first line",
                        )
                        .at(node.pos),
                    );
                } else if !name.contains(':') {
                    let has = self
                        .release
                        .module(module)
                        .and_then(|m| m.definition_file("contentTypes", name))
                        .is_some();
                    if !has {
                        self.push(
                            Finding::new(
                                Severity::Warning,
                                "reference",
                                file,
                                format!("content type '{name}' is not defined in this module (no contentTypes/{name}.yaml)"),
                                format!("create {module}/contentTypes/{name}.yaml, or make sure another module registers '{name}'"),
                            )
                            .at(node.pos),
                        );
                    }
                } else {
                    self.reference(file, node.pos, "content type", "contentTypes", name);
                }
            }
            Some(Directive::Override) | None => {}
        }
        match &node.value {
            YValue::Scalar(..) => {}
            YValue::Seq(items) => {
                for i in items {
                    self.directives(module, file, kind, i, false);
                }
            }
            YValue::Map(entries) => {
                for (k, v) in entries {
                    self.directives(module, file, kind, k, false);
                    self.directives(module, file, kind, v, false);
                }
            }
        }
    }

    fn include(&mut self, file: &str, pos: Pos, path: &str) {
        let path = path.trim();
        let Some(rest) = path.strip_prefix('/') else {
            self.push(
                Finding::new(
                    Severity::Error,
                    "include",
                    file,
                    format!("include path '{path}' is not a resource path (/<module>/<path>)"),
                    "write the path from the light-modules root: !include:/my-module/includes/fragment.yaml",
                )
                .at(pos),
            );
            return;
        };
        let (module, rel) = rest.split_once('/').unwrap_or((rest, ""));
        match self.release.module(module) {
            Some(m) => {
                if m.files.contains_key(rel) {
                    self.included
                        .entry((module.to_owned(), rel.to_owned()))
                        .or_insert((file.to_owned(), pos));
                } else {
                    self.push(
                        Finding::new(
                            Severity::Error,
                            "include",
                            file,
                            format!("include target {path} does not exist in the release"),
                            format!("create {module}/{rel} or correct the path (it is /<module>/<path from the module folder>)"),
                        )
                        .at(pos),
                    );
                }
            }
            None if self.external.contains(module) => {}
            None => self.push(
                Finding::new(
                    Severity::Error,
                    "include",
                    file,
                    format!("include target {path} is in module '{module}', which is neither in the release nor declared external"),
                    format!("add '{module}' to the release or declare it with --external {module}"),
                )
                .at(pos),
            ),
        }
    }

    fn template_refs(&mut self, file: &str, node: &YNode, in_available: bool) {
        let Some(entries) = node.as_map() else {
            if let YValue::Seq(items) = &node.value {
                for i in items {
                    self.template_refs(file, i, in_available);
                }
            }
            return;
        };
        for (k, v) in entries {
            let key = k.as_text().unwrap_or_default();
            if key == "dialog" && !in_available {
                if let Some(id) = v.as_text().filter(|s| !s.is_empty()) {
                    self.reference(file, v.pos, "dialog", "dialogs", id);
                }
                continue;
            }
            if in_available && key == "id" {
                if let Some(id) = v.as_text().filter(|s| !s.is_empty()) {
                    self.reference(file, v.pos, "component template", "templates", id);
                }
                continue;
            }
            let now = in_available || key == "availableComponents";
            self.template_refs(file, v, now);
        }
    }

    fn site_refs(&mut self, file: &str, node: &YNode, in_availability: bool) {
        match &node.value {
            YValue::Scalar(..) => {}
            YValue::Seq(items) => {
                for i in items {
                    self.site_refs(file, i, in_availability);
                }
            }
            YValue::Map(entries) => {
                for (k, v) in entries {
                    let key = k.as_text().unwrap_or_default();
                    if in_availability && key == "id" {
                        if let Some(id) = v.as_text().filter(|s| !s.is_empty()) {
                            self.reference(file, v.pos, "page template", "templates", id);
                        }
                        continue;
                    }
                    self.site_refs(file, v, in_availability || key == "availability");
                }
            }
        }
    }

    fn decoration(&mut self, module: &str, path: &str) {
        let file = format!("{module}/{path}");
        let parts: Vec<&str> = path.split('/').collect();
        // decorations/<target>/<type>/.../<name>[.<sub.path>].yaml, or
        // decorations/<target>/config.yaml (the module's configuration).
        if parts.len() < 3 {
            self.push(Finding::new(
                Severity::Error,
                "decoration",
                file,
                "a decoration must lie in decorations/<module>/<definition type>/",
                "move it to decorations/<decorated module>/<templates|dialogs|apps|...>/<name>.yaml",
            ));
            return;
        }
        let target = parts[1];
        if parts.len() == 3 && parts[2] == "config.yaml" {
            self.decorated_module(&file, target);
            return;
        }
        let kind = parts[2];
        if !DEFINITION_TYPES.contains(&kind) {
            self.push(Finding::new(
                Severity::Error,
                "decoration",
                file,
                format!("'{kind}' is not a definition type Magnolia decorates"),
                format!("use one of: {}", DEFINITION_TYPES.join(", ")),
            ));
            return;
        }
        if parts.len() < 4 {
            return;
        }
        if !self.decorated_module(&file, target) {
            return;
        }
        let Some(m) = self.release.module(target) else {
            return;
        };
        let last = parts[parts.len() - 1];
        let stem = last
            .strip_suffix(".yaml")
            .or_else(|| last.strip_suffix(".yml"))
            .unwrap_or(last);
        let name = stem.split('.').next().unwrap_or(stem);
        let mut def = parts[3..parts.len() - 1].join("/");
        if !def.is_empty() {
            def.push('/');
        }
        def.push_str(name);
        if m.definition_file(kind, &def).is_none() {
            self.push(Finding::new(
                Severity::Error,
                "decoration",
                file,
                format!(
                    "decorates {target}:{def}, but the release has no {target}/{kind}/{def}.yaml"
                ),
                "correct the decoration's path or file name (<name>[.<sub.path>].yaml)",
            ));
        }
    }

    fn decorated_module(&mut self, file: &str, target: &str) -> bool {
        if self.release.module(target).is_some() || self.external.contains(target) {
            return true;
        }
        self.push(Finding::new(
            Severity::Error,
            "decoration",
            file,
            format!("decorates module '{target}', which is neither in the release nor declared external"),
            format!("declare it with --external {target} (or as a dependency in module.yaml), or correct the folder name"),
        ));
        false
    }

    fn i18n(&mut self, module: &str, path: &str) {
        let file = format!("{module}/{path}");
        let name = path.rsplit('/').next().unwrap_or(path);
        let Some(stem) = name.strip_suffix(".properties") else {
            if !name.starts_with("README") {
                self.push(Finding::new(
                    Severity::Warning,
                    "i18n",
                    file,
                    "not a .properties file: Magnolia loads only message bundles (<bundle>_<locale>.properties) from i18n/",
                    "move other files out of i18n/",
                ));
            }
            return;
        };
        static LOCALE: OnceLock<Regex> = OnceLock::new();
        let re = LOCALE.get_or_init(|| {
            Regex::new(r"^(.+?)_([a-z]{2,3})(?:_([A-Z]{2}|[0-9]{3}))?(?:_([A-Za-z0-9]+))?$")
                .expect("fixed pattern")
        });
        if !re.is_match(stem) {
            let hint = suggest_locale(stem);
            self.push(Finding::new(
                Severity::Error,
                "i18n",
                file,
                format!("'{name}' does not end in _<locale>.properties with a Java locale (en, de_CH, ...), so Magnolia loads it for no locale"),
                match hint {
                    Some(h) => format!("rename it to {h}"),
                    None => format!("rename it to {module}-messages_<locale>.properties, e.g. {module}-messages_en.properties"),
                },
            ));
        }
        if let Some(m) = self.release.module(module) {
            if let Some((_, at)) = m.not_utf8.iter().find(|(p, _)| p == path) {
                self.push(Finding::new(
                    Severity::Warning,
                    "i18n",
                    format!("{module}/{path}"),
                    format!("not UTF-8 (first bad byte at offset {at}); Magnolia reads message bundles as UTF-8"),
                    "save the file as UTF-8",
                ));
            }
        }
    }
}

/// `foo-messages_EN` -> `foo-messages_en.properties`, `foo-de` -> `foo_de.properties`.
fn suggest_locale(stem: &str) -> Option<String> {
    let (base, loc) = stem.rsplit_once(['_', '-'])?;
    let lower = loc.to_ascii_lowercase();
    if (2..=3).contains(&loc.len()) && loc.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(format!("{base}_{lower}.properties"));
    }
    // en-US, en_us
    let (l, c) = loc.split_once(['-', '_'])?;
    if l.len() == 2 && c.len() == 2 {
        return Some(format!(
            "{base}_{}_{}.properties",
            l.to_ascii_lowercase(),
            c.to_ascii_uppercase()
        ));
    }
    None
}

fn singular(kind: &str) -> &str {
    match kind {
        "templates" => "template",
        "dialogs" => "dialog",
        "apps" => "app",
        "contentTypes" => "content type",
        "restEndpoints" => "REST endpoint",
        "sites" => "site",
        "themes" => "theme",
        _ => "definition",
    }
}

/// True when `path` is a YAML definition of `kind` (for callers outside).
pub fn is_definition_of(path: &str, kind: &str) -> bool {
    is_yaml(path) && path.starts_with(&format!("{kind}/"))
}
