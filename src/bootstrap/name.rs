//! Bootstrap file names: `WORKSPACE.PATH.xml` to a workspace and a node path, and back
//! (shared/reference/magnolia.md §1.1, §1.2).
//!
//! Magnolia writes a file name with `DataTransporter.createExportPath` (every `.` in a
//! node name doubled, then every `/` turned into `.`) followed by URL encoding of
//! everything but the dots (`encodePath`); the workspace name comes first. It reads
//! one back with `revertExportPath`: a run of `n` dots is `n / 2` literal dots, plus a
//! path separator when `n` is odd. jcrpack reads that way and then URL-decodes each
//! segment. Because Magnolia's two import paths disagree on names with characters
//! outside `[A-Za-z0-9_.-]` (the module bootstrap drops them, the webapp bootstrap
//! decodes them but splits on every dot), such names and names starting with a dot
//! are reported as warnings.

use std::fmt;

/// Where a bootstrap file goes: a workspace and the full path of the node it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The workspace (`config`, `website`, ...).
    pub workspace: String,
    /// The node's full path (`/modules/shop/apps`; `/` for a workspace-root file).
    pub path: String,
    /// Why Magnolia's own import paths may read the name differently.
    pub warnings: Vec<String>,
}

impl Target {
    /// The parent path the file's node is imported below (`/` for top nodes and for
    /// workspace-root files).
    pub fn parent(&self) -> String {
        crate::path::parent(&self.path).map_or_else(|| "/".to_string(), str::to_string)
    }

    /// The node name the file name gives (`None` for a workspace-root file).
    pub fn name(&self) -> Option<&str> {
        if self.path == "/" {
            None
        } else {
            self.path.rsplit('/').next()
        }
    }
}

/// Why a file name maps to no workspace and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// The file name (without folders).
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the file name maps to no workspace and path: {}",
            self.file, self.reason
        )
    }
}

impl std::error::Error for NameError {}

/// The two formats of bootstrap files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JCR system view XML.
    Xml,
    /// Magnolia's JCR YAML.
    Yaml,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xml => "xml",
            Format::Yaml => "yaml",
        }
    }
}

/// The stem and format of a bootstrap file name (`config.server.xml` gives
/// `config.server` and XML); `None` for other files.
pub fn split_extension(file_name: &str) -> Option<(&str, Format)> {
    if let Some(s) = file_name.strip_suffix(".xml") {
        return Some((s, Format::Xml));
    }
    if let Some(s) = file_name.strip_suffix(".yaml") {
        return Some((s, Format::Yaml));
    }
    None
}

/// Reads a file name (with or without extension) as Magnolia's `revertExportPath`
/// does, then URL-decodes each segment (see the module documentation).
pub fn parse(file_name: &str) -> Result<Target, NameError> {
    let stem = split_extension(file_name).map_or(file_name, |(s, _)| s);
    let bad = |reason: String| NameError {
        file: file_name.to_string(),
        reason,
    };
    let mut raw: Vec<String> = vec![String::new()];
    let chars: Vec<char> = stem.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '.' {
            let mut n = 0;
            while i < chars.len() && chars[i] == '.' {
                n += 1;
                i += 1;
            }
            let last = raw.last_mut().expect("never empty");
            for _ in 0..n / 2 {
                last.push('.');
            }
            if n % 2 == 1 {
                raw.push(String::new());
            }
        } else {
            raw.last_mut().expect("never empty").push(chars[i]);
            i += 1;
        }
    }
    let mut warnings = Vec::new();
    let mut segments = Vec::with_capacity(raw.len());
    for (k, r) in raw.iter().enumerate() {
        if r.is_empty() {
            return Err(bad(if k == 0 {
                "it starts with a dot, so the workspace name is empty".into()
            } else {
                format!("segment {} of the path is empty (a stray dot)", k)
            }));
        }
        let decoded = url_decode(r).map_err(|e| bad(format!("'{r}': {e}")))?;
        if k > 0 {
            if r.chars()
                .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            {
                warnings.push(format!(
                    "'{r}' has characters outside [A-Za-z0-9_.-]: jcrpack reads it as '{decoded}', Magnolia's module bootstrap drops them and its webapp bootstrap splits on every dot"
                ));
            }
            if decoded.starts_with('.') {
                warnings.push(format!(
                    "'{decoded}' starts with a dot: the file name is ambiguous for Magnolia"
                ));
            }
        }
        segments.push(decoded);
    }
    let workspace = segments.remove(0);
    if !workspace
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(bad(format!(
            "'{workspace}' is not a workspace name (letters, digits, '_' and '-')"
        )));
    }
    for s in &segments {
        if let Err(e) = crate::name::validate(s) {
            return Err(bad(format!("'{s}' is not a JCR name: {e}")));
        }
    }
    let path = if segments.is_empty() {
        "/".to_string()
    } else {
        format!("/{}", segments.join("/"))
    };
    Ok(Target {
        workspace,
        path,
        warnings,
    })
}

/// Magnolia's `createExportPath`: `.` doubled, then `/` turned into `.` (`/` gives `.`).
pub fn create_export_path(path: &str) -> String {
    path.replace('.', "..").replace('/', ".")
}

/// The file stem Magnolia's exporter gives the node at `path` of `workspace`:
/// `workspace` + `encodePath(createExportPath(path))`, the workspace alone for `/`.
pub fn file_stem(workspace: &str, path: &str) -> String {
    if path == "/" || path.is_empty() {
        return workspace.to_string();
    }
    format!("{workspace}{}", url_encode(&create_export_path(path)))
}

/// Java's `URLEncoder.encode(s, "UTF-8")`: letters, digits and `.-*_` stay, a space is
/// `+`, every other byte of the UTF-8 form is `%XX` (upper-case hex).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Java's `URLDecoder.decode(s, "UTF-8")`: `+` is a space, `%XX` a byte; the bytes must
/// be UTF-8 and every `%` must be followed by two hex digits.
pub fn url_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        "'%' not followed by two hex digits (URL encoding)".to_string()
                    })?;
                out.push(hex);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "the URL-encoded bytes are not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnolia_test_vectors() {
        // DataTransporterTest (shared/reference/magnolia.md §1.2).
        assert_eq!(
            create_export_path("/foo/bar.baz/test../dir/baz..bar"),
            ".foo.bar..baz.test.....dir.baz....bar"
        );
        assert_eq!(create_export_path("/"), ".");
        let t = parse("config.server.foo..i18n").unwrap();
        assert_eq!(
            (t.workspace.as_str(), t.path.as_str()),
            ("config", "/server/foo.i18n")
        );
        let t = parse("ws.123..baz.test").unwrap();
        assert_eq!(t.path, "/123.baz/test");
        let t = parse("ws.foo.bar..baz.test.....dir.baz....bar.xml").unwrap();
        assert_eq!(t.path, "/foo/bar.baz/test../dir/baz..bar");
    }

    #[test]
    fn file_names_to_targets_and_back() {
        let t = parse("config.modules.shop.apps.xml").unwrap();
        assert_eq!(t.workspace, "config");
        assert_eq!(t.path, "/modules/shop/apps");
        assert_eq!(t.parent(), "/modules/shop");
        assert_eq!(t.name(), Some("apps"));
        assert!(t.warnings.is_empty());
        let root = parse("website.yaml").unwrap();
        assert_eq!((root.path.as_str(), root.name()), ("/", None));
        assert_eq!(
            file_stem("config", "/modules/shop/apps"),
            "config.modules.shop.apps"
        );
        assert_eq!(file_stem("website", "/"), "website");
        assert_eq!(
            file_stem("website", "/a b/é/x.y"),
            "website.a+b.%C3%A9.x..y"
        );
        let back = parse("website.a+b.%C3%A9.x..y.yaml").unwrap();
        assert_eq!(back.path, "/a b/é/x.y");
        assert_eq!(back.warnings.len(), 2, "{:?}", back.warnings);
        assert_eq!(file_stem("config", "/mgnl:x"), "config.mgnl%3Ax");
        assert_eq!(parse("config.mgnl%3Ax.xml").unwrap().path, "/mgnl:x");
    }

    #[test]
    fn names_that_map_to_no_workspace() {
        for bad in [
            ".foo.xml",
            "config..xml.",
            "a%zz.b",
            "con fig.x",
            "config.a.",
            "website.a%2Fb",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse(".server.xml").unwrap_err();
        assert!(e.to_string().contains("workspace name is empty"), "{e}");
    }

    #[test]
    fn extensions() {
        assert_eq!(split_extension("a.b.xml"), Some(("a.b", Format::Xml)));
        assert_eq!(split_extension("a.b.yaml"), Some(("a.b", Format::Yaml)));
        assert_eq!(split_extension("a.b.txt"), None);
    }
}
