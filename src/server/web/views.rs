//! What each page shows, from data its handler read: the repository tree with
//! properties, backups with their jobs, the restore tree with its differences, the
//! activity log, packages, and the login form.

use super::html::{csrf_field, esc, post_button, size, url, Viewer};
use crate::backup::jobs::{JobState, JobStatus};
use crate::backup::Manifest;
use crate::repository::{NodeInfo, OperationSummary};
use crate::restore::{ChangeKind, Preview};
use crate::server::packmgr::registry::PackageRecord;
use crate::value::{Property, Value};
use std::fmt::Write;

/// The login form, with the reason of a failed attempt.
pub fn login(error: Option<&str>, user: &str) -> String {
    let mut s = String::new();
    if let Some(e) = error {
        let _ = writeln!(s, "<p class=\"flash error\" role=\"alert\">{}</p>", esc(e));
    }
    let _ = write!(
        s,
        concat!(
            "<form method=\"post\" action=\"/web/login\" class=\"stack\">\n",
            "<div><label for=\"user\">User</label><br>",
            "<input type=\"text\" id=\"user\" name=\"user\" autocomplete=\"username\" required value=\"{}\"></div>\n",
            "<div><label for=\"password\">Password</label><br>",
            "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required></div>\n",
            "<div><button type=\"submit\">Log in</button></div>\n</form>\n"
        ),
        esc(user)
    );
    s
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Binary(b) => match b.size() {
            Some(n) => format!("(binary, {})", size(n)),
            None => "(binary)".to_string(),
        },
        v => v.to_string(),
    }
}

/// A property's value as the page shows it: `[a, b]` for a multi-value.
pub fn property_text(p: &Property) -> String {
    if p.multiple {
        let vals: Vec<String> = p.values.iter().map(value_text).collect();
        format!("[{}]", vals.join(", "))
    } else {
        p.values.first().map(value_text).unwrap_or_default()
    }
}

/// The repository page: workspaces, where one is, the node's children and its
/// properties.
pub fn repository(
    workspaces: &[String],
    ws: &str,
    node: &NodeInfo,
    children: &[NodeInfo],
    more_children: bool,
    properties: &[Property],
) -> String {
    let mut s = String::new();
    s.push_str("<nav aria-label=\"Workspaces\"><h2>Workspaces</h2><ul class=\"crumbs\">");
    for w in workspaces {
        let cur = if w == ws {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<li><a href=\"/web/repository?workspace={}&amp;path=/\"{cur}>{}</a></li>",
            url(w),
            esc(w)
        );
    }
    s.push_str("</ul></nav>\n");
    // Breadcrumbs: each ancestor a link.
    s.push_str("<nav aria-label=\"Path\"><ol class=\"crumbs\">");
    let _ = write!(
        s,
        "<li><a href=\"/web/repository?workspace={}&amp;path=/\">(root)</a></li>",
        url(ws)
    );
    let mut acc = String::new();
    for seg in node.path.split('/').filter(|x| !x.is_empty()) {
        acc.push('/');
        acc.push_str(seg);
        let _ = write!(
            s,
            "<li><a href=\"/web/repository?workspace={}&amp;path={}\">{}</a></li>",
            url(ws),
            url(&acc),
            esc(seg)
        );
    }
    s.push_str("</ol></nav>\n");
    let _ = writeln!(
        s,
        "<h2>{} <span class=\"type\">{}{}</span></h2>",
        esc(&node.path),
        esc(&node.primary_type),
        if node.mixins.is_empty() {
            String::new()
        } else {
            format!(" [{}]", esc(&node.mixins.join(", ")))
        }
    );
    s.push_str("<h3>Child nodes</h3>\n");
    if children.is_empty() {
        s.push_str("<p>No child nodes.</p>\n");
    } else {
        s.push_str("<ul class=\"tree\">\n");
        for c in children {
            let _ = writeln!(
                s,
                "<li><a href=\"/web/repository?workspace={}&amp;path={}\">{}</a> <span class=\"type\">{}</span></li>",
                url(ws),
                url(&c.path),
                esc(&c.path),
                esc(&c.primary_type)
            );
        }
        if more_children {
            s.push_str("<li>(more child nodes not shown)</li>\n");
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h3>Properties</h3>\n");
    if properties.is_empty() {
        s.push_str("<p>No properties.</p>\n");
    } else {
        s.push_str("<div class=\"table-wrap\"><table class=\"props\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Type</th><th scope=\"col\">Value</th></tr></thead><tbody>\n");
        for p in properties {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}{}</td><td>{}</td></tr>",
                esc(&p.name),
                esc(&p.ptype.to_string()),
                if p.multiple { "[]" } else { "" },
                esc(&property_text(p))
            );
        }
        s.push_str("</tbody></table></div>\n");
    }
    s
}

/// A running job as a progress bar with its Cancel button (the script moves the
/// bar; without it the page reloads every two seconds).
fn job_block(v: &Viewer, j: &JobStatus) -> String {
    let pct = match j.total {
        Some(t) if t > 0 => format!(
            "<progress aria-label=\"Backup progress\" max=\"{t}\" value=\"{}\"></progress>",
            j.done.min(t)
        ),
        _ => "<progress aria-label=\"Backup progress\"></progress>".to_string(),
    };
    let text = format!(
        "{}{}",
        j.phase.as_deref().unwrap_or("starting"),
        if j.cancel_requested {
            " (cancelling)"
        } else {
            ""
        }
    );
    format!(
        "<div class=\"job\" data-job=\"{}\"><p>Backup job {} started by {}: <span data-job-text role=\"status\">{}</span></p>{}<p>{}</p></div>\n",
        j.id,
        j.id,
        esc(&j.user),
        esc(&text),
        pct,
        post_button(v, &format!("/web/backups/jobs/{}/cancel", j.id), "Cancel", &[])
    )
}

/// The backups page: the form to create one, running jobs, recently finished jobs
/// that failed or were cancelled, and the backups with their actions.
pub fn backups(v: &Viewer, jobs: &[JobStatus], list: &[Manifest]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        concat!(
            "<h2>New backup</h2>\n<form method=\"post\" action=\"/web/backups/create\" class=\"stack\">{}",
            "<div><label for=\"label\">Label (optional)</label><br>",
            "<input type=\"text\" id=\"label\" name=\"label\" maxlength=\"200\"></div>",
            "<div><button type=\"submit\">Create backup</button></div></form>\n"
        ),
        csrf_field(v)
    );
    let running: Vec<&JobStatus> = jobs
        .iter()
        .filter(|j| j.state == JobState::Running)
        .collect();
    if !running.is_empty() {
        s.push_str("<h2>Running</h2>\n");
        for j in running {
            s.push_str(&job_block(v, j));
        }
        s.push_str("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>\n");
    }
    let ended: Vec<&JobStatus> = jobs
        .iter()
        .rev()
        .filter(|j| {
            matches!(
                j.state,
                JobState::Failed | JobState::Cancelled | JobState::Interrupted
            )
        })
        .take(5)
        .collect();
    if !ended.is_empty() {
        s.push_str("<h2>Recent jobs that did not finish</h2>\n<ul>\n");
        for j in ended {
            let _ = writeln!(
                s,
                "<li>Job {}: {}{}</li>",
                j.id,
                match j.state {
                    JobState::Cancelled => "cancelled, nothing was kept",
                    JobState::Interrupted => "interrupted",
                    _ => "failed",
                },
                j.error
                    .as_deref()
                    .map(|e| format!(": {}", esc(e)))
                    .unwrap_or_default()
            );
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2>Backups</h2>\n");
    if list.is_empty() {
        s.push_str("<p>No backups yet.</p>\n");
        return s;
    }
    s.push_str("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Backup</th><th scope=\"col\">Label</th><th scope=\"col\">By</th><th scope=\"col\">Nodes</th><th scope=\"col\">Size</th><th scope=\"col\">Actions</th></tr></thead><tbody>\n");
    for m in list.iter().rev() {
        let id = &m.id;
        let _ = writeln!(
            s,
            "<tr data-backup=\"{}\"><th scope=\"row\">{}<br><span class=\"type\">{}</span></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"actions\"><form method=\"get\" action=\"/web/backups/{}/restore\" class=\"inline\"><button type=\"submit\">Restore</button></form>{}{}</td></tr>",
            esc(id),
            esc(id),
            esc(&m.time),
            esc(m.label.as_deref().unwrap_or("")),
            esc(&m.user),
            m.nodes(),
            size(m.bytes + m.blobs.bytes),
            url(id),
            post_button(v, &format!("/web/backups/{}/verify", url(id)), "Verify", &[]),
            post_button(v, &format!("/web/backups/{}/delete", url(id)), "Delete", &[]),
        );
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// One node of the restore tree: a checkbox labelled with its path.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    /// The node's path.
    pub path: String,
    /// Its primary type.
    pub primary_type: String,
    /// The children shown.
    pub children: Vec<TreeNode>,
    /// Whether it has children that are not shown (deeper than the page goes).
    pub more: bool,
}

fn tree_items(s: &mut String, nodes: &[TreeNode], ticked: &[String], id: &str, ws: &str) {
    for n in nodes {
        let checked = if ticked.iter().any(|t| t == &n.path) {
            " checked"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<li><label><input type=\"checkbox\" name=\"root\" value=\"{}\"{checked}>{}</label> <span class=\"type\" aria-hidden=\"true\">{}</span>",
            esc(&n.path),
            esc(&n.path),
            esc(&n.primary_type)
        );
        if n.more {
            let _ = write!(
                s,
                " <a href=\"/web/backups/{}/restore?workspace={}&amp;path={}\">show below {}</a>",
                url(id),
                url(ws),
                url(&n.path),
                esc(&n.path)
            );
        }
        if !n.children.is_empty() {
            s.push_str("<ul>");
            tree_items(s, &n.children, ticked, id, ws);
            s.push_str("</ul>");
        }
        s.push_str("</li>\n");
    }
}

/// The restore page of one backup: its workspaces, the tree of a workspace as
/// checkboxes, `Show differences`, and, once shown, the differences with
/// `Confirm restore`.
#[allow(clippy::too_many_arguments)]
pub fn restore(
    v: &Viewer,
    m: &Manifest,
    workspaces: &[String],
    ws: &str,
    tree: &[TreeNode],
    ticked: &[String],
    preview: Option<&Preview>,
) -> String {
    let id = &m.id;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<p>Backup {} taken {} by {}{}.</p>",
        esc(id),
        esc(&m.time),
        esc(&m.user),
        m.label
            .as_deref()
            .map(|l| format!(", “{}”", esc(l)))
            .unwrap_or_default()
    );
    s.push_str("<nav aria-label=\"Workspaces of the backup\"><ul class=\"crumbs\">");
    for w in workspaces {
        let cur = if w == ws {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<li><a href=\"/web/backups/{}/restore?workspace={}\"{cur}>{}</a></li>",
            url(id),
            url(w),
            esc(w)
        );
    }
    s.push_str("</ul></nav>\n");
    let _ = writeln!(
        s,
        "<form method=\"post\" action=\"/web/backups/{}/restore\">{}<input type=\"hidden\" name=\"workspace\" value=\"{}\">",
        url(id),
        csrf_field(v),
        esc(ws)
    );
    let _ = writeln!(
        s,
        "<fieldset><legend>Subtrees of workspace {} to restore</legend>",
        esc(ws)
    );
    if tree.is_empty() {
        s.push_str("<p>The workspace is empty in this backup.</p>");
    } else {
        s.push_str("<ul class=\"tree\">\n");
        tree_items(&mut s, tree, ticked, id, ws);
        s.push_str("</ul>\n");
    }
    s.push_str("</fieldset>\n<p><button type=\"submit\" name=\"action\" value=\"diff\">Show differences</button></p>\n");
    if let Some(p) = preview {
        s.push_str("<section aria-labelledby=\"differences\" class=\"diff\"><h2 id=\"differences\">Differences</h2>\n");
        for w in &p.summary.workspaces {
            let _ = writeln!(
                s,
                "<p data-summary>Workspace {}{}: {} nodes added, {} removed, {} changed; {} properties added, {} changed, {} removed.</p>",
                esc(&w.workspace),
                if w.created { " (created)" } else { "" },
                w.nodes_added,
                w.nodes_deleted,
                w.nodes_changed,
                w.properties_added,
                w.properties_changed,
                w.properties_removed
            );
        }
        if p.changes.is_empty() {
            s.push_str(
                "<p>Nothing differs: the repository already holds what the backup has there.</p>\n",
            );
        } else {
            s.push_str("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Change</th><th scope=\"col\">Path</th><th scope=\"col\">Details</th></tr></thead><tbody>\n");
            for c in &p.changes {
                let (cls, word) = match c.change {
                    ChangeKind::Added => ("added", "added"),
                    ChangeKind::Deleted => ("deleted", "removed"),
                    ChangeKind::Changed => ("changed", "changed"),
                };
                let mut details = Vec::new();
                if c.change == ChangeKind::Deleted && c.nodes > 1 {
                    details.push(format!("{} nodes", c.nodes));
                }
                if let Some((before, after)) = &c.primary_type {
                    details.push(format!(
                        "type {} → {}",
                        before.as_deref().unwrap_or("none"),
                        after.as_deref().unwrap_or("none")
                    ));
                }
                if c.mixins.is_some() {
                    details.push("mixins".to_string());
                }
                if c.order.is_some() {
                    details.push("child order".to_string());
                }
                for pc in &c.properties {
                    details.push(match (&pc.before, &pc.after) {
                        (None, Some(a)) => format!("{} = {a}", pc.name),
                        (Some(b), Some(a)) => format!("{}: {b} → {a}", pc.name),
                        (Some(_), None) => format!("{} removed", pc.name),
                        (None, None) => pc.name.clone(),
                    });
                }
                let _ = writeln!(
                    s,
                    "<tr class=\"{cls}\"><td>{word}</td><td>{}{}</td><td>{}</td></tr>",
                    if c.workspace == ws {
                        String::new()
                    } else {
                        format!("[{}] ", esc(&c.workspace))
                    },
                    esc(&c.path),
                    esc(&details.join("; "))
                );
            }
            s.push_str("</tbody></table></div>\n");
            if p.truncated {
                s.push_str(
                    "<p>More nodes change than are listed here; every one is counted above.</p>\n",
                );
            }
        }
        s.push_str("<p><button type=\"submit\" name=\"action\" value=\"confirm\">Confirm restore</button></p>\n</section>\n");
    }
    s.push_str("</form>\n");
    s
}

/// The activity log, newest first, each operation with its `Undo` button (an undo
/// itself can be undone).
pub fn activity(v: &Viewer, ops: &[OperationSummary]) -> String {
    if ops.is_empty() {
        return "<p>Nothing recorded yet.</p>\n".to_string();
    }
    let mut s = String::from("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Operation</th><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">What</th><th scope=\"col\">Touched</th><th scope=\"col\">Actions</th></tr></thead><tbody>\n");
    for o in ops.iter().rev() {
        let _ = writeln!(
            s,
            "<tr data-operation=\"{}\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{} nodes, {} properties</td><td class=\"actions\">{}</td></tr>",
            o.id.0,
            o.id.0,
            esc(&o.time.to_string()),
            esc(&o.user),
            esc(&o.description),
            o.nodes_touched,
            o.properties_touched,
            post_button(v, &format!("/web/activity/{}/undo", o.id.0), "Undo", &[])
        );
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// Whether and when a package was installed, as its row says (plain text).
pub fn installed_text(p: &PackageRecord) -> String {
    match (&p.last_unpacked, p.install_operation) {
        (Some(t), Some(op)) => format!(
            "{t} by {} (operation {op})",
            p.last_unpacked_by.as_deref().unwrap_or("?")
        ),
        (Some(t), None) => t.to_string(),
        _ => "not installed".to_string(),
    }
}

/// The packages page: the upload form, the packages kept in the repository
/// (`/etc/packages/GROUP/NAME.zip`) with `Install`, `Dry run`, `Uninstall` and
/// `Delete`, and the place where the script streams an install's log.
pub fn packages(v: &Viewer, list: &[PackageRecord]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        concat!(
            "<h2>Upload</h2>\n<form method=\"post\" action=\"/web/packages/upload\" enctype=\"multipart/form-data\" class=\"stack\">{}",
            "<div><label for=\"package\">Package file (.zip)</label><br>",
            "<input type=\"file\" id=\"package\" name=\"package\" accept=\".zip,application/zip\" required></div>",
            "<div><label><input type=\"checkbox\" name=\"force\" value=\"true\"> Replace a package with the same name</label></div>",
            "<div><button type=\"submit\">Upload package</button></div></form>\n"
        ),
        csrf_field(v)
    );
    s.push_str("<h2>Packages</h2>\n");
    if list.is_empty() {
        s.push_str("<p>No packages uploaded yet.</p>\n");
    } else {
        s.push_str("<div class=\"table-wrap\"><table class=\"packages\"><thead><tr><th scope=\"col\">Package</th><th scope=\"col\">Size</th><th scope=\"col\">Installed</th><th scope=\"col\">Actions</th></tr></thead><tbody>\n");
        for p in list {
            let installed = esc(&installed_text(p));
            let path = p.path.as_str();
            let _ = writeln!(
                s,
                concat!(
                    "<tr data-package=\"{path}\"><th scope=\"row\">{pid}<br><span class=\"type\">{path}</span></th><td data-label=\"Size\">{size}</td><td data-installed data-label=\"Installed\">{installed}</td>",
                    "<td class=\"actions\"><form method=\"post\" action=\"/web/packages/install\" class=\"inline\" data-live-log>{csrf}",
                    "<input type=\"hidden\" name=\"path\" value=\"{path}\">",
                    "<button type=\"submit\" name=\"action\" value=\"install\">Install</button> ",
                    "<button type=\"submit\" name=\"action\" value=\"dryrun\" class=\"secondary\">Dry run</button></form>",
                    "{uninstall}{delete}<a href=\"{href}\" download>Download</a></td></tr>"
                ),
                path = esc(path),
                pid = esc(&p.pid()),
                size = size(p.size),
                installed = installed,
                csrf = csrf_field(v),
                uninstall = post_button(v, "/web/packages/uninstall", "Uninstall", &[("path", path)]),
                delete = post_button(v, "/web/packages/delete", "Delete", &[("path", path)]),
                href = esc(&url(path)),
            );
        }
        s.push_str("</tbody></table></div>\n");
    }
    s.push_str(concat!(
        "<section aria-labelledby=\"install-log\" id=\"live-log\" hidden>",
        "<h2 id=\"install-log\">Install log</h2>",
        "<p data-log-status role=\"status\"></p>",
        "<pre class=\"log\" role=\"log\" aria-label=\"Install log\" tabindex=\"0\"></pre>",
        "</section>\n"
    ));
    s
}

/// The page after an install or dry run without the script: its outcome (in the
/// frame's message) and its log.
pub fn install_log(lines: &[String], more: u64) -> String {
    let mut s = String::from(
        "<section aria-labelledby=\"install-log\"><h2 id=\"install-log\">Install log</h2><pre class=\"log\" role=\"log\" aria-label=\"Install log\" tabindex=\"0\">",
    );
    for l in lines {
        s.push_str(&esc(l));
        s.push('\n');
    }
    if more > 0 {
        let _ = writeln!(s, "({more} more lines not shown)");
    }
    s.push_str("</pre></section>\n<p><a href=\"/web/packages\">Back to Packages</a> · <a href=\"/web/activity\">Activity</a></p>\n");
    s
}
