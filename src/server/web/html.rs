//! The page's HTML: escaping, the frame every page shares (navigation, log out,
//! messages), and small pieces (buttons in forms with the CSRF token). Plain
//! string templates: what a page shows is built by its handler, escaped here.

use std::fmt::Write;

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` percent-encoded for a URL's query value or path segment.
pub fn url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/' | b':') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` body (or query) into its pairs,
/// in order, repeated names kept (`root=/a&root=/b`). Bad escapes stay as they are.
pub fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of `name` in decoded form pairs.
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Every value of `name` in decoded form pairs, in order.
pub fn fields<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Which section of the page is shown (its link is marked current).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The repository tree.
    Repository,
    /// Packages.
    Packages,
    /// Backups and restore.
    Backups,
    /// The activity log.
    Activity,
    /// The login form (no navigation).
    Login,
}

/// A message shown above a page's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    /// Something done.
    Info(String),
    /// Something refused or failed.
    Error(String),
}

/// Who sees the page: the user and the session's CSRF token for its forms.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The logged-in user.
    pub user: String,
    /// The session's CSRF token, sent back with every form.
    pub csrf: String,
}

/// The hidden field that carries the CSRF token in a form.
pub fn csrf_field(v: &Viewer) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(&v.csrf)
    )
}

/// A form that POSTs to `action` with one button labelled `label`, and `hidden`
/// fields.
pub fn post_button(v: &Viewer, action: &str, label: &str, hidden: &[(&str, &str)]) -> String {
    let mut s = format!(
        r#"<form method="post" action="{}" class="inline">{}"#,
        esc(action),
        csrf_field(v)
    );
    for (k, val) in hidden {
        let _ = write!(
            s,
            r#"<input type="hidden" name="{}" value="{}">"#,
            esc(k),
            esc(val)
        );
    }
    let _ = write!(s, r#"<button type="submit">{}</button></form>"#, esc(label));
    s
}

/// The whole page: head, skip link, navigation (with the current section marked),
/// log out, the message, and `body`.
pub fn page(
    title: &str,
    section: Section,
    viewer: Option<&Viewer>,
    flash: Option<&Flash>,
    body: &str,
) -> String {
    let mut s = String::with_capacity(body.len() + 2048);
    let _ = write!(
        s,
        concat!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{} · jcrpack</title>\n",
            "<link rel=\"stylesheet\" href=\"/web/static/app.css\">\n",
            "<script src=\"/web/static/app.js\" defer></script>\n",
            "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n<header>\n",
            "<span class=\"brand\">jcrpack</span>\n"
        ),
        esc(title)
    );
    if let Some(v) = viewer {
        s.push_str("<nav aria-label=\"Sections\">\n<ul>\n");
        for (sec, label, href) in [
            (Section::Repository, "Repository", "/web/repository"),
            (Section::Packages, "Packages", "/web/packages"),
            (Section::Backups, "Backups", "/web/backups"),
            (Section::Activity, "Activity", "/web/activity"),
        ] {
            let current = if sec == section {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = writeln!(s, "<li><a href=\"{href}\"{current}>{label}</a></li>");
        }
        s.push_str("</ul>\n</nav>\n");
        let _ = writeln!(
            s,
            "<div class=\"who\"><span>{}</span> {}</div>",
            esc(&v.user),
            post_button(v, "/web/logout", "Log out", &[])
        );
    }
    s.push_str("</header>\n<main id=\"main\" tabindex=\"-1\">\n");
    let _ = writeln!(s, "<h1>{}</h1>", esc(title));
    match flash {
        Some(Flash::Info(m)) => {
            let _ = writeln!(s, "<p class=\"flash info\" role=\"status\">{}</p>", esc(m));
        }
        Some(Flash::Error(m)) => {
            let _ = writeln!(s, "<p class=\"flash error\" role=\"alert\">{}</p>", esc(m));
        }
        None => {}
    }
    s.push_str(body);
    s.push_str("\n</main>\n</body>\n</html>\n");
    s
}

/// `1.2 MB`, `340 B`: a size for people (powers of 1000, as the command line).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn forms_decode_repeated_fields_and_escapes() {
        let f = parse_form("root=%2Fcontent%2Fa&root=/b+c&csrf=x%zz&empty=&flag");
        assert_eq!(fields(&f, "root"), vec!["/content/a", "/b c"]);
        assert_eq!(field(&f, "csrf"), Some("x%zz"));
        assert_eq!(field(&f, "empty"), Some(""));
        assert_eq!(field(&f, "flag"), Some(""));
        assert_eq!(field(&f, "none"), None);
        // A '%' at the very end, or before one character, stays.
        assert_eq!(field(&parse_form("a=%"), "a"), Some("%"));
        assert_eq!(field(&parse_form("a=%4"), "a"), Some("%4"));
        assert_eq!(field(&parse_form("a=%C3%A9"), "a"), Some("é"));
    }

    #[test]
    fn urls_keep_paths_readable() {
        assert_eq!(url("/content/a b&c"), "/content/a%20b%26c");
    }

    #[test]
    fn the_frame_names_every_section_and_marks_the_current_one() {
        let v = Viewer {
            user: "ada".into(),
            csrf: "t0k".into(),
        };
        let p = page(
            "Backups",
            Section::Backups,
            Some(&v),
            Some(&Flash::Info("done <ok>".into())),
            "<p>x</p>",
        );
        for l in ["Repository", "Packages", "Backups", "Activity"] {
            assert!(p.contains(&format!(">{l}</a>")), "{l}");
        }
        assert!(p.contains("href=\"/web/backups\" aria-current=\"page\""));
        assert!(p.contains("name=\"csrf\" value=\"t0k\""));
        assert!(p.contains("done &lt;ok&gt;"));
        assert!(p.contains("width=device-width"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(340), "340 B");
        assert_eq!(size(1_234_567), "1.2 MB");
    }
}
