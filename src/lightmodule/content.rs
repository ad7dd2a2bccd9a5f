//! `lm check-content`: the two ways a release breaks a live site silently, found in a
//! repository before the release is installed.
//!
//! 1. Pages and components (nodes with `mgnl:template`) whose template the release
//!    no longer provides, or whose template names a dialog the release does not
//!    provide. A template id is `<module>:<path>` (`mgnl:template =
//!    'my-module:pages/home'`, shared/reference/magnolia.md §3.1); a module outside
//!    the release is fine when declared external (`mtk`, `travel-demo` from a jar).
//! 2. Overrides in the `resources` workspace (what the Resources app writes) at the
//!    path of a file the release ships (`/<module>/<path>`) with other content: the
//!    instance serves the override, so the release's version of the file is never
//!    seen. An override with the same content is only reported as info.

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::finding::Severity;
use super::model::{hex, Release};
use super::yaml::YValue;
use crate::events::{Event, Events, Unit};
use crate::repository::{RepositoryError, StoreRead};
use crate::value::Value;

/// What to check against.
#[derive(Debug, Clone)]
pub struct ContentOptions {
    /// The content workspace (Magnolia's pages are in `website`).
    pub workspace: String,
    /// The workspace holding Resources-app overrides (`resources`).
    pub resources_workspace: String,
    /// Modules that exist at run time but are not in the release.
    pub external: BTreeSet<String>,
}

impl Default for ContentOptions {
    fn default() -> Self {
        ContentOptions {
            workspace: "website".into(),
            resources_workspace: "resources".into(),
            external: BTreeSet::new(),
        }
    }
}

/// One broken or shadowed item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ContentFinding {
    /// The workspace.
    pub workspace: String,
    /// The node's path.
    pub path: String,
    /// How serious.
    pub severity: Severity,
    /// `missing-template`, `missing-dialog`, `unknown-module` or `override`.
    pub kind: &'static str,
    /// The template id or resource path concerned.
    pub subject: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// The result: what was looked at and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentReport {
    /// Nodes with `mgnl:template` seen.
    pub templated_nodes: u64,
    /// Nodes of the resources workspace seen (0 when it does not exist).
    pub resource_nodes: u64,
    /// Findings, sorted by workspace and path.
    pub findings: Vec<ContentFinding>,
}

/// Checks the content of `store` against `release`. Progress goes to `events`: a
/// phase per workspace, counting the nodes read.
pub fn check_content(
    release: &Release,
    store: &dyn StoreRead,
    options: &ContentOptions,
    events: &dyn Events,
) -> Result<ContentReport, RepositoryError> {
    let result = check(release, store, options, events);
    events.event(&Event::Finished);
    result
}

fn check(
    release: &Release,
    store: &dyn StoreRead,
    options: &ContentOptions,
    events: &dyn Events,
) -> Result<ContentReport, RepositoryError> {
    let mut report = ContentReport {
        templated_nodes: 0,
        resource_nodes: 0,
        findings: Vec::new(),
    };
    let mut external = options.external.clone();
    for m in release.modules.values() {
        if let Some((d, _)) = &m.descriptor {
            external.extend(d.dependencies.iter().map(|d| d.name.clone()));
        }
    }
    let workspaces = store.workspaces()?;
    // The content workspace must exist (a missing one is an error, not "no problems").
    {
        events.event(&Event::Phase {
            name: "checking pages and components",
            total: None,
            unit: Unit::Paths,
        });
        for entry in store.walk(&options.workspace, "/")? {
            let entry = entry?;
            events.event(&Event::Advance { amount: 1 });
            let Some(Value::String(id)) = entry.node.value("mgnl:template") else {
                continue;
            };
            report.templated_nodes += 1;
            if let Some(f) = template_problem(release, &external, id) {
                report.findings.push(ContentFinding {
                    workspace: options.workspace.clone(),
                    path: entry.path.clone(),
                    ..f
                });
            }
        }
    }
    if workspaces.contains(&options.resources_workspace) {
        events.event(&Event::Phase {
            name: "checking resources overrides",
            total: None,
            unit: Unit::Paths,
        });
        for entry in store.walk(&options.resources_workspace, "/")? {
            let entry = entry?;
            events.event(&Event::Advance { amount: 1 });
            report.resource_nodes += 1;
            let rel: String = entry
                .path
                .trim_start_matches('/')
                .split('/')
                .map(|s| s.split('[').next().unwrap_or(s))
                .collect::<Vec<_>>()
                .join("/");
            let Some((module, file)) = rel.split_once('/') else {
                continue;
            };
            let Some(info) = release.module(module).and_then(|m| m.files.get(file)) else {
                continue;
            };
            let text = match entry.node.value("text") {
                Some(Value::String(t)) => Some(t.clone()),
                _ => None,
            };
            let same = text
                .as_ref()
                .is_some_and(|t| hex(&Sha256::digest(t.as_bytes())) == info.sha256);
            report.findings.push(ContentFinding {
                workspace: options.resources_workspace.clone(),
                path: entry.path.clone(),
                severity: if same { Severity::Info } else { Severity::Error },
                kind: "override",
                subject: format!("/{module}/{file}"),
                message: if same {
                    format!("a Resources-app override of /{module}/{file} with the same content as the release")
                } else {
                    format!("a Resources-app override shadows /{module}/{file}: the instance serves the override, not the release's version")
                },
                fix: if same {
                    "delete the override; it is redundant".into()
                } else {
                    "fold the override's change into the release (git) and delete the override before installing".into()
                },
            });
        }
    }
    report.findings.sort();
    Ok(report)
}

fn template_problem(
    release: &Release,
    external: &BTreeSet<String>,
    id: &str,
) -> Option<ContentFinding> {
    let finding = |severity, kind, message: String, fix: String| ContentFinding {
        workspace: String::new(),
        path: String::new(),
        severity,
        kind,
        subject: id.to_owned(),
        message,
        fix,
    };
    let Some((module, path)) = id.split_once(':') else {
        return Some(finding(
            Severity::Warning,
            "unknown-module",
            format!("template '{id}' is not a <module>:<path> id"),
            "check the node's mgnl:template".into(),
        ));
    };
    let Some(m) = release.module(module) else {
        if external.contains(module) {
            return None;
        }
        return Some(finding(
            Severity::Error,
            "unknown-module",
            format!("template '{id}' is in module '{module}', which the release does not provide"),
            format!("add '{module}' to the release, or declare it with --external {module} if the instance has it"),
        ));
    };
    let Some(file) = m.definition_file("templates", path) else {
        return Some(finding(
            Severity::Error,
            "missing-template",
            format!("template '{id}' is not in the release (no {module}/templates/{path}.yaml): the page or component will not render"),
            format!("keep {module}/templates/{path}.yaml in the release, or move the content to another template first"),
        ));
    };
    let dialog = m
        .yaml
        .get(&file)
        .and_then(|d| d.root.as_ref())
        .and_then(|r| r.get("dialog"))
        .and_then(|d| match &d.value {
            YValue::Scalar(t, _) if !t.is_empty() => Some(t.clone()),
            _ => None,
        })?;
    let (dm, dp) = dialog.split_once(':')?;
    match release.module(dm) {
        Some(dmod) if dmod.definition_file("dialogs", dp).is_none() => Some(finding(
            Severity::Error,
            "missing-dialog",
            format!("template '{id}' uses dialog '{dialog}', which is not in the release: editors cannot edit this content"),
            format!("keep {dm}/dialogs/{dp}.yaml in the release, or correct the template's dialog"),
        )),
        None if !external.contains(dm) => Some(finding(
            Severity::Error,
            "missing-dialog",
            format!("template '{id}' uses dialog '{dialog}' of module '{dm}', which the release does not provide"),
            format!("add '{dm}' to the release or declare it with --external {dm}"),
        )),
        _ => None,
    }
}
