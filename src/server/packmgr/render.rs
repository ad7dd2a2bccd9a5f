//! The Package Manager's three answers, as clients parse them
//! (`shared/reference/packmgr-api.md` §1.1–§1.3): the `service.jsp` XML envelope
//! with the install log in `<log>` (escaped text lines, never CDATA), compact JSON
//! with keys in the order `success`, `msg`, `path`, and FileVault's HTML log of
//! `<span>` lines. One install log ([`LogLine`]s) feeds all three.

use super::registry::PackageRecord;
use crate::import::Report;
use crate::value::Date;

/// One line of an install log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    /// A message (`Importing content...`, `Package imported.`).
    Text(String),
    /// A path with FileVault's action letter (`A /apps/x`), and a detail for errors.
    Path(char, String, Option<String>),
}

impl LogLine {
    fn text(s: impl Into<String>) -> LogLine {
        LogLine::Text(s.into())
    }

    /// The plain-text form (`A /path`, `E /path (detail)`, the message). A control
    /// character from content is shown as a space, so a line cannot be forged.
    pub fn plain(&self) -> String {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        match self {
            LogLine::Text(t) => clean(t),
            LogLine::Path(a, p, None) => format!("{a} {}", clean(p)),
            LogLine::Path(a, p, Some(d)) => format!("{a} {} ({})", clean(p), clean(d)),
        }
    }
}

/// The log of a finished install (or dry run), as FileVault's importer and CRX
/// write it; `millis` is the time it took: [`install_log_head`], one line per
/// path, [`install_log_tail`].
pub fn install_log(report: &Report, millis: u128) -> Vec<LogLine> {
    let mut lines = install_log_head(report.dry_run);
    for e in report.entries.iter() {
        lines.push(LogLine::Path(
            e.action.letter(),
            e.path.clone(),
            e.detail.clone(),
        ));
    }
    lines.extend(install_log_tail(report, millis));
    lines
}

/// The lines before the paths (known before the install starts: the streamed
/// HTML log sends them at once).
pub fn install_log_head(dry_run: bool) -> Vec<LogLine> {
    let mut lines = vec![
        LogLine::text("Installing content"),
        LogLine::text("Collecting import information..."),
    ];
    if dry_run {
        lines.push(LogLine::text(
            "Dry Run: Skipping node types installation (might lead to errors).",
        ));
        lines.push(LogLine::text("Simulating content import..."));
    } else {
        lines.push(LogLine::text("Installing node types..."));
        lines.push(LogLine::text("Installing privileges..."));
        lines.push(LogLine::text("Importing content..."));
    }
    lines
}

/// The lines after the paths: warnings, the save, the result.
pub fn install_log_tail(report: &Report, millis: u128) -> Vec<LogLine> {
    let mut lines = Vec::new();
    let changed = report
        .entries
        .iter()
        .filter(|e| e.action.letter() != '-')
        .count();
    for w in &report.warnings {
        // A warning is not an error: it must not start with the letter E.
        lines.push(LogLine::Text(format!("Warning: {w}")));
    }
    if report.dry_run {
        lines.push(LogLine::text("Package import simulation finished."));
    } else {
        lines.push(LogLine::Text(format!("saving approx {changed} nodes...")));
        lines.push(LogLine::text(if report.totals.errors > 0 {
            "Package imported (with errors, check logs!)"
        } else {
            "Package imported."
        }));
    }
    let _ = millis;
    lines
}

/// The log of a failed install: the paths acted on before the failure, then the
/// error as an `E` line (the install was rolled back whole).
pub fn failed_install_log(
    before: &[(char, String)],
    path: Option<&str>,
    msg: &str,
) -> Vec<LogLine> {
    let mut lines = vec![
        LogLine::text("Installing content"),
        LogLine::text("Collecting import information..."),
        LogLine::text("Importing content..."),
    ];
    for (a, p) in before {
        lines.push(LogLine::Path(*a, p.clone(), None));
    }
    lines.push(LogLine::Path(
        'E',
        path.unwrap_or("/").to_string(),
        Some(msg.to_string()),
    ));
    lines.push(LogLine::text(
        "Package installation failed, nothing was changed.",
    ));
    lines
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    xml_escape(s)
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date as CRX's `service.jsp` writes it: `Fri, 04 Dec 2026 16:02:00 +0000`.
pub fn rfc822(d: &Date) -> String {
    let local_days = (d.epoch_millis() / 1000 + d.offset_minutes as i64 * 60).div_euclid(86_400);
    let weekday = WEEKDAYS[local_days.rem_euclid(7) as usize];
    let off = d.offset_minutes;
    let (sign, off) = if off < 0 { ('-', -off) } else { ('+', off) };
    format!(
        "{weekday}, {:02} {} {:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        d.day,
        MONTHS[(d.month.clamp(1, 12) - 1) as usize],
        d.year,
        d.hour,
        d.minute,
        d.second,
        off / 60,
        off % 60
    )
}

/// The `<package>` element of `service.jsp` (upload answer and `ls`). Missing
/// users are the literal `null` (pyaem2 reads an empty `lastUnpackedBy` as
/// installed), missing dates empty.
pub fn xml_package(p: &PackageRecord) -> String {
    let d = |d: &Option<Date>| d.as_ref().map(rfc822).unwrap_or_default();
    let u = |u: &Option<String>| xml_escape(u.as_deref().unwrap_or("null"));
    format!(
        "<package><group>{}</group><name>{}</name><version>{}</version><downloadName>{}</downloadName><size>{}</size><created>{}</created><createdBy>{}</createdBy><lastModified>{}</lastModified><lastModifiedBy>{}</lastModifiedBy><lastUnpacked>{}</lastUnpacked><lastUnpackedBy>{}</lastUnpackedBy></package>",
        xml_escape(&p.group),
        xml_escape(&p.name),
        xml_escape(&p.version),
        xml_escape(&p.download_name()),
        p.size,
        d(&p.created),
        u(&p.created_by),
        d(&p.last_modified),
        u(&p.last_modified_by),
        d(&p.last_unpacked),
        u(&p.last_unpacked_by),
    )
}

/// The `<log>` element: one escaped line each, every line ended by a newline.
pub fn xml_log(lines: &[LogLine]) -> String {
    let mut s = String::from("<log>");
    for l in lines {
        s.push_str(&xml_escape(&l.plain()));
        s.push('\n');
    }
    s.push_str("</log>");
    s
}

/// The whole `service.jsp` answer: the request's parameters echoed, `data`, the
/// status code and text.
pub fn xml_envelope(
    user: &str,
    params: &[(String, String)],
    data: &str,
    code: u16,
    status: &str,
) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!(
        "<crx version=\"jcrpack-{}.{}\" user=\"{}\" workspace=\"crx.default\"><request>",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        xml_escape(user)
    ));
    for (k, v) in params {
        s.push_str(&format!(
            "<param name=\"{}\" value=\"{}\"/>",
            xml_escape(k),
            xml_escape(v)
        ));
    }
    s.push_str("</request><response><data>");
    s.push_str(data);
    s.push_str(&format!(
        "</data><status code=\"{code}\">{}</status></response></crx>",
        xml_escape(status)
    ));
    s
}

/// `service.jsp` `cmd=help`.
pub const HELP: &str = "\n\
cmd=help                                  print this help\n\
cmd=ls                                    print a list of all packages\n\
POST file [name] [force] [install]        upload a package (and install it)\n\
POST cmd=inst name [group]                install a package\n\
POST cmd=uninst name [group]              uninstall a package\n\
POST cmd=rm name [group]                  remove a package\n\
POST cmd=build name [group]               build a package\n";

/// The compact JSON answer, keys in the order `success`, `msg`, `path`.
pub fn json(success: bool, msg: &str, path: Option<&str>) -> String {
    let msg = serde_json::to_string(msg).unwrap_or_else(|_| "\"\"".into());
    match path {
        Some(p) => format!(
            "{{\"success\":{success},\"msg\":{msg},\"path\":{}}}",
            serde_json::to_string(p).unwrap_or_else(|_| "\"\"".into())
        ),
        None => format!("{{\"success\":{success},\"msg\":{msg}}}"),
    }
}

/// `script.html`: the JSON inside a `<textarea>` (with `<`, `>`, `&` as JSON
/// escapes, so the page cannot be broken out of and the JSON stays the same).
pub fn script_html(json: &str) -> String {
    let safe = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!("<html><head></head><body><textarea>{safe}</textarea></body></html>")
}

/// FileVault's HTML log (`HtmlProgressListener`) in CRX's page: `<body><h2>TITLE</h2>`
/// and `</div><br>FOOTER<br>` each at the start of a line, lines ending `<br>\r\n`.
pub fn html_log(title: &str, lines: &[LogLine], footer: &str) -> String {
    let mut s = html_log_start(title);
    for l in lines {
        s.push_str(&html_line(l));
    }
    s.push_str(&html_log_end(footer));
    s
}

/// The HTML log's page up to its first line.
pub fn html_log_start(title: &str) -> String {
    let mut s = String::from(
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">\r\n<html><head><title>",
    );
    s.push_str(&html_escape(title));
    s.push_str("</title></head>\r\n<body><h2>");
    s.push_str(&html_escape(title));
    s.push_str("</h2><div>");
    s
}

/// One line of the HTML log.
pub fn html_line(l: &LogLine) -> String {
    match l {
        LogLine::Text(t) => {
            let t = html_escape(&LogLine::Text(t.clone()).plain());
            format!("<span class=\"{t}\"><b>{t}</b>&nbsp;</span><br>\r\n")
        }
        LogLine::Path(a, _, _) => {
            let plain = l.plain();
            let rest = html_escape(plain.get(2..).unwrap_or(""));
            format!("<span class=\"{a}\"><b>{a}</b>&nbsp;{rest}</span><br>\r\n")
        }
    }
}

/// The HTML log's page after its last line: the footer.
pub fn html_log_end(footer: &str) -> String {
    format!(
        "</div><br>{}<br>\r\n</body></html>\r\n",
        html_escape(footer)
    )
}

/// CRX's "Error during processing." page: the paths of `lines`, then `msg`.
pub fn html_error(title: &str, lines: &[LogLine], msg: &str) -> String {
    let mut s = html_log_start(title);
    for l in lines {
        if let LogLine::Path(..) = l {
            s.push_str(&html_line(l));
        }
    }
    s.push_str(&html_error_end(msg));
    s
}

/// The error page after its last path line.
pub fn html_error_end(msg: &str) -> String {
    format!(
        "<br><span class=\"error\">Error during processing.</span><br><code><pre>{}\r\n</pre></code>\r\n</div>\r\n</body></html>\r\n",
        html_escape(msg)
    )
}

/// One package of `list.jsp` (dates in epoch milliseconds, 0 for never).
pub fn list_item(p: &PackageRecord) -> serde_json::Value {
    let ms = |d: &Option<Date>| d.as_ref().map(Date::epoch_millis).unwrap_or(0);
    let filter: Vec<serde_json::Value> = p
        .filter
        .iter()
        .map(|(root, rules)| {
            serde_json::json!({
                "root": root,
                "rules": rules.iter().map(|(inc, pat)| serde_json::json!({
                    "modifier": if *inc { "include" } else { "exclude" },
                    "pattern": pat,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "pid": p.pid(),
        "path": p.path,
        "name": p.name,
        "group": p.group,
        "groupTitle": p.group,
        "version": p.version,
        "downloadName": p.download_name(),
        "size": p.size,
        "created": ms(&p.created),
        "createdBy": p.created_by,
        "lastModified": ms(&p.last_modified),
        "lastModifiedBy": p.last_modified_by.as_deref().unwrap_or("null"),
        "lastUnpacked": ms(&p.last_unpacked),
        "lastUnpackedBy": p.last_unpacked_by.as_deref().unwrap_or("null"),
        "lastUnwrapped": ms(&p.created),
        "lastWrapped": ms(&p.last_wrapped),
        "resolved": true,
        "dependencies": [],
        "filter": filter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_crx_writes_them() {
        let d = Date::from_epoch_millis(1_796_400_000_000);
        assert_eq!(rfc822(&d), "Fri, 04 Dec 2026 16:00:00 +0000");
        let d = Date::parse("2015-09-29T15:49:44.000-04:00").unwrap();
        assert_eq!(rfc822(&d), "Tue, 29 Sep 2015 15:49:44 -0400");
    }

    #[test]
    fn json_keys_in_order_and_compact() {
        assert_eq!(
            json(true, "Package installed", None),
            r#"{"success":true,"msg":"Package installed"}"#
        );
        assert_eq!(
            json(true, "Package uploaded", Some("/etc/packages/g/n.zip")),
            r#"{"success":true,"msg":"Package uploaded","path":"/etc/packages/g/n.zip"}"#
        );
    }

    #[test]
    fn the_xml_log_is_escaped_text_never_cdata() {
        let lines = vec![
            LogLine::Path('A', "/a&b<c>".into(), None),
            LogLine::Path('E', "/x".into(), Some("bad \"thing\"\u{1b}[2J".into())),
        ];
        let x = xml_log(&lines);
        assert_eq!(
            x,
            "<log>A /a&amp;b&lt;c&gt;\nE /x (bad &quot;thing&quot; [2J)\n</log>"
        );
        assert!(!x.contains("CDATA"));
    }

    #[test]
    fn html_lines_keep_the_markers_clients_look_for() {
        let h = html_log(
            "Installing content",
            &[
                LogLine::Path('A', "/libs/recap".into(), None),
                LogLine::text("Package imported."),
            ],
            "Package installed in 5ms.",
        );
        assert!(h.contains("\r\n<body><h2>Installing content</h2><div>"));
        assert!(h.contains("<span class=\"A\"><b>A</b>&nbsp;/libs/recap</span><br>\r\n"));
        assert!(h.contains(
            "<span class=\"Package imported.\"><b>Package imported.</b>&nbsp;</span><br>\r\n</div><br>Package installed in 5ms.<br>"
        ));
        let e = html_error("Installing content", &[], "no package");
        assert!(e.contains("<span class=\"error\">Error during processing.</span><br><code><pre>"));
    }

    #[test]
    fn script_html_keeps_the_json() {
        assert_eq!(
            script_html(r#"{"success":false,"msg":"a<b"}"#),
            "<html><head></head><body><textarea>{\"success\":false,\"msg\":\"a\\u003cb\"}</textarea></body></html>"
        );
    }
}
