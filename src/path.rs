//! JCR paths in standard form: `/content/site/jcr:content`, with a same-name-sibling
//! index written only when it is above 1 (`/a/item[2]`).
//!
//! Paths are plain `&str`/`String` in jcrpack (they are compared, hashed, stored and
//! matched against filter regexes as text); this module holds the operations on them.

use crate::name::{self, NameError};
use std::borrow::Cow;
use std::cell::RefCell;
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
    normalized(p).map(Cow::into_owned)
}

/// [`normalize`], borrowing `p` when it is already normal (most paths are: the
/// repository normalizes every path it is given, so its reads use this).
pub fn normalized(p: &str) -> Result<Cow<'_, str>, PathError> {
    if !is_absolute(p) {
        return Err(PathError::NotAbsolute(p.to_string()));
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Cow::Borrowed("/"));
    }
    // Check it without building one anew.
    if trimmed.len() == p.len() && is_normal(p) {
        return Ok(Cow::Borrowed(p));
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
    Ok(Cow::Owned(out))
}

thread_local! {
    /// The path [`is_normal`] last found normal. The repository is asked about a
    /// node, then about its children, its siblings: their segments in common with
    /// this one are known to be normal and are not checked again (checking each
    /// name was most of what a normalization cost, deep paths having many).
    static LAST_NORMAL: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Whether absolute `p` (not `/`, no trailing `/`) is normal: each segment a valid
/// name with no index or a canonical index above 1.
fn is_normal(p: &str) -> bool {
    LAST_NORMAL.with(|last| {
        let mut last = last.borrow_mut();
        let known = known_normal_prefix(&last, p);
        let normal = match p.get(known + 1..) {
            Some(rest) => rest.split('/').all(segment_is_normal),
            None => true,
        };
        if normal {
            last.clear();
            last.push_str(p);
        }
        normal
    })
}

/// The length of the leading whole segments of absolute `p` that it shares with
/// normal path `last` (empty: none), so normal too: `p`'s length when `p` is `last`
/// or its ancestor, else the position of the `/` after them (0 for none).
fn known_normal_prefix(last: &str, p: &str) -> usize {
    let (a, b) = (last.as_bytes(), p.as_bytes());
    let n = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let boundary = |s: &[u8], i: usize| i == s.len() || s.get(i) == Some(&b'/');
    if !a.is_empty() && boundary(a, n) && boundary(b, n) {
        return n;
    }
    b.get(..n)
        .and_then(|common| common.iter().rposition(|&c| c == b'/'))
        .unwrap_or(0)
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
    match last_slash(p) {
        Some(0) => Some("/"),
        Some(i) => Some(&p[..i]),
        None => None,
    }
}

/// Where the last `/` of `p` is. A path's last segment is short, so a plain scan
/// from the end finds it in a few steps; `rfind('/')` went through `memrchr`,
/// whose setup cost about 200 instructions a call (issue 16: an install asks for
/// a parent or a name several times a node).
fn last_slash(p: &str) -> Option<usize> {
    p.bytes().rposition(|b| b == b'/')
}

/// The last segment of a path (with its `[n]` index, if any); `""` for `/`.
pub fn last_segment(p: &str) -> &str {
    match last_slash(p) {
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
    let mut p = String::with_capacity(parent.len() + 1 + segment.len());
    push_parent(&mut p, parent);
    p.push_str(segment);
    p
}

/// Starts a child path of `parent` in `p`: `parent/` (`/` for the root, nothing
/// for the empty parent), as [`join`] does.
fn push_parent(p: &mut String, parent: &str) {
    if !parent.is_empty() {
        p.push_str(parent);
        if parent != "/" {
            p.push('/');
        }
    }
}

/// The path of the `index`th child called `name` below `parent`: [`join`] of
/// `parent` and the [`Segment`] `name[index]`, without building the segment.
pub fn join_child(parent: &str, name: &str, index: u32) -> String {
    let mut p = String::with_capacity(parent.len() + name.len() + 12);
    push_parent(&mut p, parent);
    p.push_str(name);
    if index > 1 {
        use std::fmt::Write as _;
        let _ = write!(p, "[{index}]");
    }
    p
}

/// The segments of an absolute path, as strings (`/a/b[2]` gives `a`, `b[2]`).
pub fn segments(p: &str) -> impl Iterator<Item = &str> {
    p.split('/').filter(|s| !s.is_empty())
}

/// Number of segments (`/` has depth 0): the non-empty runs between slashes,
/// counted on the bytes (every path written is checked against the depth limit).
/// A segment starts at each byte that is no slash and follows a slash or opens
/// the path: counted over pairs of neighbouring bytes, with no state carried from
/// one byte to the next, so that the loop runs many bytes a step.
pub fn depth(p: &str) -> usize {
    let b = p.as_bytes();
    let opens = b.first().is_some_and(|&c| c != b'/');
    let after_slash = b
        .iter()
        .zip(b.get(1..).unwrap_or_default())
        .map(|(&a, &c)| usize::from(a == b'/' && c != b'/'))
        .sum::<usize>();
    usize::from(opens) + after_slash
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
    fn depth_counts_the_segments_as_the_segments_iterator_does() {
        for p in [
            "",
            "/",
            "//",
            "/a",
            "a",
            "/a/",
            "/a//b",
            "//a/b//",
            "/jcr:content/x[10]/é/ü",
            "/a/b/c/d/e/f",
        ] {
            assert_eq!(depth(p), segments(p).count(), "{p:?}");
        }
        // Every string of up to 7 of `/`, `a` and `é`, and long ones (the counting
        // loop runs many bytes a step: its tail and its full steps both count).
        let mut paths = vec![String::new()];
        for _ in 0..7 {
            let longer: Vec<String> = paths
                .iter()
                .filter(|p| p.chars().count() == paths.last().map_or(0, |l| l.chars().count()))
                .flat_map(|p| ["/", "a", "é"].map(|c| format!("{p}{c}")))
                .collect();
            paths.extend(longer);
        }
        for n in [15, 16, 17, 31, 32, 33, 64, 100] {
            paths.push("/ab".repeat(n));
            paths.push("a//".repeat(n));
            paths.push(format!("{}x", "/".repeat(n)));
        }
        for p in &paths {
            assert_eq!(depth(p), segments(p).count(), "{p:?}");
        }
    }

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
        // What was found normal before does not make a longer or a sibling path
        // normal: its own segments are checked.
        for (first, then, normal) in [
            ("/a/b", "/a/b/c[1]", false),
            ("/a/b", "/a/b[0]", false),
            ("/a/b", "/a/b*", false),
            ("/a/b", "/a/", false),
            ("/a/b/c", "/a/b//d", false),
            ("/a/b/c", "/a/b/:d", false),
            ("/a/bc", "/a/b", true),
            ("/a/b", "/a/bc[2]", true),
            ("/a/b/c", "/a/b", true),
            ("/a/b/c", "/a/b/c", true),
            ("/a/b/c", "/x", true),
            ("/a/b", "/a/b/c/d[3]", true),
            ("/é/b", "/é/c", true),
        ] {
            assert!(matches!(normalized(first), Ok(Cow::Borrowed(_))), "{first}");
            assert_eq!(
                matches!(normalized(then), Ok(Cow::Borrowed(_))),
                normal,
                "{then} after {first}"
            );
        }
        assert_eq!(known_normal_prefix("", "/a"), 0);
        assert_eq!(known_normal_prefix("/a/b", "/a/b"), 4);
        assert_eq!(known_normal_prefix("/a/b", "/a/b/c"), 4);
        assert_eq!(known_normal_prefix("/a/b/c", "/a/b"), 4);
        assert_eq!(known_normal_prefix("/a/bc", "/a/bd"), 2);
        assert_eq!(known_normal_prefix("/a/b", "/a/bc"), 2);
        assert_eq!(known_normal_prefix("/ab", "/ac"), 0);
        // A normal path is borrowed, anything else built anew.
        for p in ["/", "/a/b/c[2]", "/jcr:content"] {
            assert!(
                matches!(normalized(p), Ok(Cow::Borrowed(b)) if b == p),
                "{p}"
            );
        }
        for (p, want) in [("/a/", "/a"), ("/a[1]", "/a"), ("//", "/")] {
            let got = normalized(p).unwrap();
            assert_eq!(got, want, "{p}");
            assert_eq!(matches!(got, Cow::Owned(_)), p != "//", "{p}");
        }
    }

    #[test]
    fn navigates() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(name("/a/b[3]"), "b");
        assert_eq!(last_segment("/a/b[3]"), "b[3]");
        // The scan for the last `/` works on bytes: multi-byte names around it.
        assert_eq!(parent("/é/ü:ß[2]"), Some("/é"));
        assert_eq!(last_segment("/é/ü:ß[2]"), "ü:ß[2]");
        assert_eq!(name("/é/ü:ß[2]"), "ü:ß");
        assert_eq!(last_segment("ü"), "ü");
        assert_eq!(parent("ü"), None);
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(join("", "b"), "b");
        for (parent, name, index) in [
            ("/", "a", 1),
            ("/a", "b", 2),
            ("", "c", 13),
            ("/a/b[2]", "d", 0),
        ] {
            let seg = Segment {
                name: name.to_string(),
                index,
            }
            .to_string();
            assert_eq!(join_child(parent, name, index), join(parent, &seg));
        }
        assert_eq!(join_child("/a", "b", 12), "/a/b[12]");
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
