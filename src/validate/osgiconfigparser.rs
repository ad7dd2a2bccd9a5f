//! `jackrabbit-osgiconfigparser`: OSGi configurations in `.cfg.json` files below a
//! `config` folder (the paths the Sling JCR installer reads) must be JSON objects;
//! comments are allowed, as the Felix configurator allows them. Errors carry line and
//! column. (`.config` and `.cfg` files and `sling:OsgiConfig` nodes are not parsed.)

use super::{Finding, Package, Severity};
use regex::Regex;
use std::sync::LazyLock;

/// The validator id.
pub const ID: &str = "jackrabbit-osgiconfigparser";

/// Node paths of configurations the installer reads (FileVault's pattern).
static CONFIG_FILE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^/(?:[^/]*/){0,4}?config(?:\.[^/]*)?/.*\.cfg\.json$").expect("valid regex")
});

/// Replaces `//` and `/* */` comments outside strings with spaces, keeping line
/// breaks, so that JSON error positions stay those of the file.
pub fn blank_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                out.push(' ');
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                    out.push(' ');
                }
            }
            ('/', Some('*')) => {
                chars.next();
                out.push_str("  ");
                let mut prev = ' ';
                for n in chars.by_ref() {
                    out.push(if n == '\n' { '\n' } else { ' ' });
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether the file at repository path `p` is an OSGi configuration this validator
/// reads (`.cfg.json` in a `config` folder).
pub fn is_config_file(p: &str) -> bool {
    CONFIG_FILE_PATH.is_match(p)
}

/// Parses every `.cfg.json` configuration of the content.
pub fn check(pkg: &Package<'_>, out: &mut Vec<Finding>) {
    for (node, entry) in pkg.layout_nodes() {
        if node.file.is_none() || !is_config_file(&node.path) {
            continue;
        }
        let problem = match pkg.archive.read_to_vec(entry) {
            Err(e) => Some((None, format!("cannot read: {e}"))),
            Ok(bytes) => match std::str::from_utf8(&bytes) {
                Err(e) => Some((None, format!("not UTF-8: {e}"))),
                Ok(text) => {
                    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                    match serde_json::from_str::<serde_json::Value>(&blank_comments(text)) {
                        Ok(v) if v.is_object() => None,
                        Ok(_) => Some((None, "the configuration is not a JSON object".to_string())),
                        Err(e) => Some((
                            Some((e.line() as u32, e.column() as u32)),
                            format!("invalid JSON: {}", strip_position(&e.to_string())),
                        )),
                    }
                }
            },
        };
        if let Some((pos, message)) = problem {
            let mut f = Finding::new(
                Severity::Error,
                ID,
                format!("OSGi configuration '{}': {message}", node.path),
                "write the configuration as one JSON object of property names to values",
            )
            .in_entry(entry)
            .node(node.path.clone());
            if let Some((l, c)) = pos {
                f.line = (l > 0).then_some(l);
                f.column = (l > 0 && c > 0).then_some(c);
            }
            out.push(f);
        }
    }
}

fn strip_position(s: &str) -> &str {
    s.find(" at line ").map_or(s, |i| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::{blank_comments, ID};

    #[test]
    fn comments_are_blanked_outside_strings() {
        let t = "{ // c\n \"a\": \"x//y\", /* b\n */ \"c\": 1 }";
        let b = blank_comments(t);
        assert_eq!(b.len(), t.len());
        assert_eq!(b.lines().count(), t.lines().count());
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["a"], "x//y");
    }

    #[test]
    fn invalid_configurations_have_positions() {
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(r#"<filter root="/apps/site"/>"#),
            ),
            (
                "jcr_root/apps/site/config/org.example.Good.cfg.json",
                "// comment\n{\"a\": [1, 2]}",
            ),
            (
                "jcr_root/apps/site/config.author/org.example.Bad.cfg.json",
                "{\n  \"a\": 1,\n  \"b\" 2\n}",
            ),
            ("jcr_root/apps/site/config/org.example.List.cfg.json", "[1]"),
            ("jcr_root/apps/site/other/data.cfg.json", "not json"),
        ]);
        let found: Vec<_> = r.by_validator(ID).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        let bad = found.iter().find(|f| f.message.contains("Bad")).unwrap();
        assert_eq!((bad.line, bad.column), (Some(3), Some(7)), "{bad}");
        assert!(found
            .iter()
            .any(|f| f.message.contains("not a JSON object")));
    }
}
