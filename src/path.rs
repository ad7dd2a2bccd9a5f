//! JCR paths in standard form: `/content/site/jcr:content`, with a same-name-sibling
//! index written only when it is above 1 (`/a/item[2]`).
//!
//! Paths are plain `&str`/`String` in jcrpack (they are compared, hashed, stored and
//! matched against filter regexes as text); this module holds the operations on them.

use crate::name::{self, NameError};
use std::fmt;

/// One path segment: a qualified name and a 1-based same-name-sibling index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment {
    /// The qualified node name.
    pub name: String,
    /// The same-name-sibling index, 1 for the first (or only) sibling.
    pub index: u32,
}

impl Segment {
    /// Parses `name` or `name[n]`. A missing index is 1; `[0]` or garbage is an error.
    pub fn parse(s: &str) -> Result<Segment, PathError> {
        if let Some(open) = s
            .strip_suffix(']')
            .and_then(|t| t.rfind('[').map(|i| (t, i)))
        {
            let (t, i) = open;
            let idx: u32 = t[i + 1..]
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| PathError::BadIndex(s.to_string()))?;
            let name = &t[..i];
            name::validate(name).map_err(|e| PathError::Name(s.to_string(), e))?;
            return Ok(Segment {
                name: name.to_string(),
                index: idx,
            });
        }
        name::validate(s).map_err(|e| PathError::Name(s.to_string(), e))?;
        Ok(Segment {
            name: s.to_string(),
            index: 1,
        })
    }

    /// A segment with index 1.
    pub fn new(name: impl Into<String>) -> Segment {
        Segment {
            name: name.into(),
            index: 1,
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index > 1 {
            write!(f, "{}[{}]", self.name, self.index)
        } else {
            f.write_str(&self.name)
        }
    }
}

/// Why a string is not a valid JCR path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path should be absolute and is not.
    #[error("'{0}' is not an absolute path (it must start with '/')")]
    NotAbsolute(String),
    /// An empty segment (`//`).
    #[error("'{0}' has an empty segment")]
    EmptySegment(String),
    /// A bad same-name-sibling index.
    #[error("'{0}' has an invalid same-name-sibling index")]
    BadIndex(String),
    /// A segment is not a valid name.
    #[error("in '{0}': {1}")]
    Name(String, NameError),
}

/// Whether `p` starts with `/`.
pub fn is_absolute(p: &str) -> bool {
    p.starts_with('/')
}

/// Checks and normalizes an absolute path: no empty segments, valid names, `[1]`
/// indexes dropped, a trailing `/` removed (except for the root).
pub fn normalize(p: &str) -> Result<String, PathError> {
    if !is_absolute(p) {
        return Err(PathError::NotAbsolute(p.to_string()));
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".to_string());
    }
    // Most paths are already normal: check them without building one anew (the
    // repository normalizes every path it is given).
    if trimmed.len() == p.len() && trimmed[1..].split('/').all(segment_is_normal) {
        return Ok(p.to_string());
    }
    let mut out = String::with_capacity(p.len());
    for seg in trimmed[1..].split('/') {
        if seg.is_empty() {
            return Err(PathError::EmptySegment(p.to_string()));
        }
        let s = Segment::parse(seg).map_err(|e| match e {
            PathError::Name(_, n) => PathError::Name(p.to_string(), n),
            other => other,
        })?;
        out.push('/');
        out.push_str(&s.to_string());
    }
    Ok(out)
}

/// Whether `seg` is a valid segment that [`normalize`] leaves as it is: a valid name
/// with no index or a canonical index above 1. `false` sends a segment to the full
/// parse, which knows the error to give.
fn segment_is_normal(seg: &str) -> bool {
    let (name, index) = match seg
        .strip_suffix(']')
        .and_then(|t| t.rfind('[').map(|i| (&t[..i], &t[i + 1..])))
    {
        Some((n, i)) => (n, Some(i)),
        None => (seg, None),
    };
    if let Some(i) = index {
        let canonical = !i.is_empty()
            && i.len() <= 9
            && i.bytes().all(|b| b.is_ascii_digit())
            && !i.starts_with('0')
            && i != "1";
        if !canonical {
            return false;
        }
    }
    !seg.is_empty() && name::validate(name).is_ok()
}

/// The parent of an absolute path; `None` for `/`.
pub fn parent(p: &str) -> Option<&str> {
    if p == "/" || p.is_empty() {
        return None;
    }
    match p.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&p[..i]),
        None => None,
    }
}

/// The last segment of a path (with its `[n]` index, if any); `""` for `/`.
pub fn last_segment(p: &str) -> &str {
    match p.rfind('/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// The name of the last segment, without its index.
pub fn name(p: &str) -> &str {
    let s = last_segment(p);
    match s
        .strip_suffix(']')
        .and_then(|t| t.rfind('[').map(|i| &t[..i]))
    {
        Some(n) => n,
        None => s,
    }
}

/// Appends a segment (already in `name` or `name[n]` form) to a path.
pub fn join(parent: &str, segment: &str) -> String {
    if parent.is_empty() {
        return segment.to_string();
    }
    let mut out = String::with_capacity(parent.len() + 1 + segment.len());
    if parent != "/" {
        out.push_str(parent);
    }
    out.push('/');
    out.push_str(segment);
    out
}

/// The segments of an absolute path, as strings (`/a/b[2]` gives `a`, `b[2]`).
pub fn segments(p: &str) -> impl Iterator<Item = &str> {
    p.split('/').filter(|s| !s.is_empty())
}

/// Number of segments (`/` has depth 0).
pub fn depth(p: &str) -> usize {
    segments(p).count()
}

/// Whether `p` equals `ancestor` or lies below it.
pub fn is_self_or_descendant(p: &str, ancestor: &str) -> bool {
    if ancestor == "/" {
        return is_absolute(p);
    }
    p == ancestor || (p.starts_with(ancestor) && p.as_bytes().get(ancestor.len()) == Some(&b'/'))
}

/// Whether `p` lies strictly below `ancestor`.
pub fn is_descendant(p: &str, ancestor: &str) -> bool {
    p != ancestor && is_self_or_descendant(p, ancestor)
}

/// The ancestors of an absolute path from `/` down to its parent.
pub fn ancestors(p: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut cur = parent(p);
    while let Some(c) = cur {
        out.push(c);
        cur = parent(c);
    }
    out.reverse();
    out
}

/// `p` relative to `base` (`/a/b/c` relative to `/a` is `b/c`; to itself, `""`).
/// `None` when `p` is not below `base`.
pub fn relative_to<'a>(p: &'a str, base: &str) -> Option<&'a str> {
    if !is_self_or_descendant(p, base) {
        return None;
    }
    if p == base {
        return Some("");
    }
    Some(if base == "/" {
        &p[1..]
    } else {
        &p[base.len() + 1..]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_the_full_parse() {
        for (input, want) in [
            ("/a[01]", Some("/a")),
            ("/a[+2]", Some("/a[2]")),
            ("/a[2]", Some("/a[2]")),
            ("/a[1]/b", Some("/a/b")),
            ("/jcr:content/x[10]", Some("/jcr:content/x[10]")),
            ("/a[4294967295]", Some("/a[4294967295]")),
            ("/a[4294967296]", None),
            ("/[2]", None),
            ("/a[]", None),
            ("/a[0]", None),
            ("/a/./b", None),
        ] {
            assert_eq!(normalize(input).ok().as_deref(), want, "{input}");
        }
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("/").unwrap(), "/");
        assert_eq!(normalize("/a/").unwrap(), "/a");
        assert_eq!(normalize("/a/b[1]/c[2]").unwrap(), "/a/b/c[2]");
        assert!(matches!(normalize("a"), Err(PathError::NotAbsolute(_))));
        assert!(matches!(
            normalize("/a//b"),
            Err(PathError::EmptySegment(_))
        ));
        assert!(matches!(normalize("/a[0]"), Err(PathError::BadIndex(_))));
        assert!(matches!(normalize("/a/*"), Err(PathError::Name(..))));
    }

    #[test]
    fn navigates() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(name("/a/b[3]"), "b");
        assert_eq!(last_segment("/a/b[3]"), "b[3]");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(ancestors("/a/b/c"), vec!["/", "/a", "/a/b"]);
        assert_eq!(depth("/"), 0);
        assert_eq!(depth("/a/b"), 2);
        assert!(is_self_or_descendant("/a/b", "/a"));
        assert!(!is_self_or_descendant("/ab", "/a"));
        assert!(is_self_or_descendant("/x", "/"));
        assert_eq!(relative_to("/a/b/c", "/a"), Some("b/c"));
        assert_eq!(relative_to("/a/b", "/"), Some("a/b"));
        assert_eq!(relative_to("/b", "/a"), None);
        assert_eq!(
            Segment::parse("x[2]").unwrap(),
            Segment {
                name: "x".into(),
                index: 2
            }
        );
    }
}
