//! Which entries an archive opened for a selection keeps ([`EntrySelection`]).
//!
//! `extract` reads a few subtrees of a package. Opening the whole archive for it would
//! cost in proportion to the package: every name sorted, checked and hashed for case
//! collisions, every local header read. An archive opened for a selection instead
//! scans the central directory's names once, without allocating for the entries it
//! drops, and keeps only:
//!
//! * everything under `META-INF/` (the package's metadata, which `extract` copies);
//! * the folder `jcr_root` and everything at or below the folder of each selected
//!   root;
//! * on the way down to each root, at each ancestor folder: its `.content.xml`, and
//!   each entry that may stand for the next node on the way (the folder `name/`,
//!   `name.dir/`, the DocView file `name.xml`, the file `name`, the file aggregate's
//!   `name.xml.dir/`): an entry's name segments are compared with the root's segments
//!   after unescaping them as FileVault's `PlatformNameFormat` does, so every spelling
//!   of a node name is kept;
//! * every name that cannot be placed because it is malformed on the way to a root
//!   (an empty, `.` or `..` segment, a backslash, a segment that is not UTF-8): such a
//!   name might resolve into the selection, so it is kept and refused by the checks,
//!   as a full open refuses it.
//!
//! Everything else is dropped before any check: it is not in the listing, never read,
//! and never copied. A refused entry outside the selection (a duplicate, an unsafe
//! name, a local header that disagrees with the central directory, a case collision)
//! therefore does not fail an extract: FileVault's importer would not read it either
//! for this selection, and the extracted package cannot contain it. What is kept is
//! checked exactly as in a full open. `import`, `validate`, `info` and `ls` open the
//! whole archive and still refuse such a package.

use crate::platform_name::JCR_ROOT;

/// The entries an archive opened for a selection keeps (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySelection {
    /// The roots' unescaped name segments; `None` keeps every entry.
    roots: Option<Vec<Vec<String>>>,
}

impl EntrySelection {
    /// Every entry: a full open.
    pub fn all() -> EntrySelection {
        EntrySelection { roots: None }
    }

    /// The entries that the subtrees at the absolute repository paths `roots` need. A
    /// root of `/`, or a root that is not an absolute path, keeps every entry (the
    /// caller refuses a bad root with its own message).
    pub fn roots<I, S>(roots: I) -> EntrySelection
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut kept = Vec::new();
        for root in roots {
            let Ok(root) = crate::path::normalize(root.as_ref()) else {
                return EntrySelection::all();
            };
            let segments: Vec<String> = root
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if segments.is_empty() {
                return EntrySelection::all();
            }
            kept.push(segments);
        }
        EntrySelection { roots: Some(kept) }
    }

    /// True when every entry is kept.
    pub fn is_all(&self) -> bool {
        self.roots.is_none()
    }

    /// Whether the entry with the raw (as stored) name `name` is kept. Allocates
    /// nothing: escaped segments are compared with the roots' as they are unescaped.
    pub fn keeps(&self, name: &[u8]) -> bool {
        let Some(roots) = &self.roots else {
            return true;
        };
        if name.starts_with(b"META-INF/") {
            return true;
        }
        let Some(rest) = name.strip_prefix(JCR_ROOT.as_bytes()) else {
            return false;
        };
        let rest = match rest {
            [] | [b'/'] => return true,
            [b'/', rest @ ..] => rest,
            _ => return false,
        };
        // A directory's trailing `/`; a second one is an empty segment, kept as doubtful.
        let rest = rest.strip_suffix(b"/").unwrap_or(rest);
        roots.iter().any(|root| keeps_for(root, rest))
    }
}

/// Whether `rest` (the name below `jcr_root/`, without a trailing `/`) is at or below
/// the folder of `root`, or on the way down to it, or doubtful.
fn keeps_for(root: &[String], rest: &[u8]) -> bool {
    let mut rest = Some(rest);
    for want in root {
        let Some(name) = rest else {
            return true;
        };
        let (segment, after) = match name.iter().position(|&b| b == b'/') {
            Some(slash) => (name.get(..slash).unwrap_or_default(), name.get(slash + 1..)),
            None => (name, None),
        };
        rest = after;
        let want = want.as_bytes();
        let content_xml = after.is_none() && segment == b".content.xml";
        // Most names leave the way to a root at their first byte: a segment that
        // cannot stand for `want` is dropped unless it is doubtful, with no more work.
        if !content_xml && !may_stand_for(segment, want) {
            return doubtful(segment);
        }
        if content_xml || doubtful(segment) {
            return true;
        }
        if !stands_for(segment, want) {
            return false;
        }
    }
    true
}

/// False when the first byte of `segment` already shows it cannot stand for `want`
/// ([`stands_for`] is false): a segment that starts with neither `%` nor `_` unescapes
/// (with or without a suffix) to a name that starts with that byte, or to `""`; a
/// leading `_` is dropped or kept and the byte after it copied. `want` is never empty.
fn may_stand_for(segment: &[u8], want: &[u8]) -> bool {
    match segment {
        [] | [b'%', ..] => true,
        [b'_', rest @ ..] => want.first() == Some(&b'_') || rest.first() == want.first(),
        [first, ..] => want.first() == Some(first),
    }
}

/// A segment the checks refuse in any name: empty, `.`, `..`, holding a backslash, or
/// not UTF-8.
fn doubtful(segment: &[u8]) -> bool {
    matches!(segment, [] | b"." | b"..")
        || segment.contains(&b'\\')
        || (!segment.is_ascii() && std::str::from_utf8(segment).is_err())
}

/// Whether the file or folder name `segment` may stand for the node named `want`:
/// itself, or without a `.dir`, `.xml`, `.xml.dir` or `.binary` suffix, unescaped.
fn stands_for(segment: &[u8], want: &[u8]) -> bool {
    let bases = [
        Some(segment),
        segment.strip_suffix(b".dir"),
        segment.strip_suffix(b".xml"),
        segment.strip_suffix(b".xml.dir"),
        segment.strip_suffix(b".binary"),
    ];
    bases
        .into_iter()
        .flatten()
        .any(|base| unescaped_eq(base, want))
}

/// `from_platform_name(base) == want` ([`crate::platform_name::from_platform_name`]) (`base` is UTF-8, checked by [`doubtful`]),
/// without allocating: the cheap tests first (a name with no `%` and no leading `_` is
/// itself; unescaping leaves everything before the first `%` or `_` as it is; a name
/// with a leading `_` unescapes to one that starts with `_` or with the character
/// after it), then the unescaped name compared with `want` as it is produced
/// ([`Unescape`]).
fn unescaped_eq(base: &[u8], want: &[u8]) -> bool {
    if let [b'_', rest @ ..] = base {
        let first = want.first();
        if first != Some(&b'_') && first != rest.first() {
            return false;
        }
    } else {
        let prefix = base
            .iter()
            .position(|&b| b == b'%' || b == b'_')
            .unwrap_or(base.len());
        if prefix == base.len() {
            return base == want;
        }
        // `base[..prefix]` survives unescaping as it is, at the start of the name.
        if want.get(..prefix) != base.get(..prefix) {
            return false;
        }
    }
    let (Ok(base), Ok(want)) = (std::str::from_utf8(base), std::str::from_utf8(want)) else {
        // Not UTF-8: doubtful, kept (the checks refuse it).
        return true;
    };
    // A leading `_` that no later `_` turns into a namespace colon stays in front.
    let mut want = want.chars();
    if base.starts_with('_') {
        let mut all = Unescape::new(base);
        all.by_ref().for_each(drop);
        if all.first_underscore && want.next() != Some('_') {
            return false;
        }
    }
    char::decode_utf16(Unescape::new(base))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .eq(want)
}

/// The UTF-16 units of `from_platform_name(name)` as it produces them, without
/// the `_` it puts in front when the name's leading `_` is never followed by one that
/// becomes a namespace colon (`first_underscore` once exhausted). The same steps on
/// the same units: `%` and the two units after it (when there are two) are one unit
/// `(char) (hex * 16 + hex)` with -1 for a non-digit, as Java computes; a leading `_`
/// is dropped and the unit after it copied as it is; the first later `_` is `:`.
#[derive(Clone)]
struct Unescape<'s> {
    units: std::str::EncodeUtf16<'s>,
    at_start: bool,
    first_underscore: bool,
}

impl<'s> Unescape<'s> {
    fn new(name: &'s str) -> Unescape<'s> {
        Unescape {
            units: name.encode_utf16(),
            at_start: true,
            first_underscore: false,
        }
    }
}

impl Iterator for Unescape<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        const PERCENT: u16 = b'%' as u16;
        const UNDERSCORE: u16 = b'_' as u16;
        let c = self.units.next()?;
        if std::mem::take(&mut self.at_start) && c == UNDERSCORE {
            self.first_underscore = true;
            let next = self.units.next()?;
            if next == UNDERSCORE {
                self.first_underscore = false;
            }
            return Some(next);
        }
        if c == PERCENT {
            let mut ahead = self.units.clone();
            if let (Some(a), Some(b)) = (ahead.next(), ahead.next()) {
                self.units = ahead;
                return Some((java_hex_digit(a) * 16 + java_hex_digit(b)) as u16);
            }
        } else if c == UNDERSCORE && self.first_underscore {
            self.first_underscore = false;
            return Some(u16::from(b':'));
        }
        Some(c)
    }
}

/// `Character.digit(c, 16)` on a UTF-16 unit, -1 when it is not a digit.
fn java_hex_digit(unit: u16) -> i32 {
    char::from_u32(u32::from(unit))
        .and_then(crate::package_id::java_chars::hex_value)
        .map_or(-1, |v| v as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform_name::from_platform_name;

    fn kept(sel: &EntrySelection, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter(|n| sel.keeps(n.as_bytes()))
            .map(|n| n.to_string())
            .collect()
    }

    #[test]
    fn keeps_metadata_the_root_subtree_and_the_way_down() {
        let sel = EntrySelection::roots(["/content/site/jcr:content/p"]);
        let names = [
            "META-INF/",
            "META-INF/vault/filter.xml",
            "META-INF/MANIFEST.MF",
            "jcr_root/",
            "jcr_root",
            "jcr_root/.content.xml",
            "jcr_root/apps/x.txt",
            "jcr_root/content/",
            "jcr_root/content/.content.xml",
            "jcr_root/content/other/.content.xml",
            "jcr_root/content/other.xml",
            "jcr_root/content/site.xml",
            "jcr_root/content/site.dir/",
            "jcr_root/content/site.xml.dir/.content.xml",
            "jcr_root/content/site/_jcr_content/.content.xml",
            "jcr_root/content/site/jcr%3acontent/p.xml",
            "jcr_root/content/site/_jcr_content/q/.content.xml",
            "jcr_root/content/site/_jcr_content/p/",
            "jcr_root/content/site/_jcr_content/p/deep/x.binary",
            "jcr_root/content/site/_jcr_content/p.binary",
            "jcr_root/content/site/_jcr_content/px",
            "jcr_root/content/sitex/.content.xml",
            "jcr_root/content/site/_jcr_content/../../../../x",
            "jcr_root/content//site/x",
            "jcr_root/content/site\\x",
            "jcr_rootx/content",
            "other/jcr_root/content",
            "/jcr_root/content/site/_jcr_content/p/x",
        ];
        insta::assert_debug_snapshot!(kept(&sel, &names), @r#"
        [
            "META-INF/",
            "META-INF/vault/filter.xml",
            "META-INF/MANIFEST.MF",
            "jcr_root/",
            "jcr_root",
            "jcr_root/.content.xml",
            "jcr_root/content/",
            "jcr_root/content/.content.xml",
            "jcr_root/content/site.xml",
            "jcr_root/content/site.dir/",
            "jcr_root/content/site.xml.dir/.content.xml",
            "jcr_root/content/site/_jcr_content/.content.xml",
            "jcr_root/content/site/jcr%3acontent/p.xml",
            "jcr_root/content/site/_jcr_content/p/",
            "jcr_root/content/site/_jcr_content/p/deep/x.binary",
            "jcr_root/content/site/_jcr_content/p.binary",
            "jcr_root/content/site/_jcr_content/../../../../x",
            "jcr_root/content//site/x",
            "jcr_root/content/site\\x",
        ]
        "#);
    }

    #[test]
    fn the_top_root_or_a_bad_root_keeps_everything() {
        for sel in [
            EntrySelection::all(),
            EntrySelection::roots(["/"]),
            EntrySelection::roots(["/a", "relative"]),
        ] {
            assert!(sel.is_all());
            assert!(sel.keeps(b"x/y"));
        }
        let sel = EntrySelection::roots(["/a", "/b/c"]);
        assert_eq!(
            kept(
                &sel,
                &[
                    "jcr_root/a/x",
                    "jcr_root/b/c/y",
                    "jcr_root/b/d/z",
                    "jcr_root/c"
                ]
            ),
            ["jcr_root/a/x", "jcr_root/b/c/y"]
        );
        assert!(sel.keeps(b"jcr_root/b/\xff/x"));
        assert!(!sel.keeps(b"jcr_root/d/\xff"));
    }

    #[test]
    fn the_first_byte_test_never_drops_what_stands_for_the_root() {
        let segments = [
            "a",
            "a.xml",
            "a.dir",
            "_a",
            "__a",
            "_",
            "%61",
            "b",
            "_b",
            ".xml",
            ".content.xml",
            "_jcr_content",
            "jcr%3acontent",
            "100%25-x",
            "\u{e9}",
            "%c3%a9",
        ];
        let wants = [
            "a",
            "_a",
            "jcr:content",
            "100%-x",
            "b",
            "_",
            "\u{e9}",
            "\u{c3}\u{a9}",
        ];
        for s in segments {
            for w in wants {
                if stands_for(s.as_bytes(), w.as_bytes()) {
                    assert!(may_stand_for(s.as_bytes(), w.as_bytes()), "{s} for {w}");
                }
            }
        }
        assert!(!may_stand_for(b"dam", b"wknd"));
        assert!(!may_stand_for(b"_cq_tags", b"wknd"));
    }

    #[test]
    fn the_cheap_comparison_agrees_with_unescaping() {
        let names = [
            "a",
            "_a",
            "__a_b",
            "_jcr_content",
            "jcr%3acontent",
            "jcr_content",
            "100%25-x",
            "100%-x",
            "a%",
            "a%4",
            "%41b",
            "_%41",
            "_",
            "__",
            "caf\u{e9}",
            "caf%c3%a9",
            "x_y_z",
            "_x_y_z",
            "%5f%5fa",
            "100%25-natural-1",
            "100%25-natural-17",
            "_a_b_c",
            "_%5fx",
            "%_5x",
            "%zzq",
            "%d8%00x",
            "x%",
            "x%4",
            "_a%",
            "__",
            "_\u{e9}_x",
            "\u{1f600}%41",
            "%\u{1f600}",
            "a%\u{1f600}b",
        ];
        let wants = [
            "a",
            "_a",
            "_a_b",
            "jcr:content",
            "jcr_content",
            "100%-x",
            "a%",
            "a%4",
            "Ab",
            "_%41",
            "_",
            "caf\u{e9}",
            "x_y_z",
            "x:y_z",
            "__a",
            "",
            "100%-natural-1",
            "a:b_c",
            "_x",
            ":x",
            "\u{fffd}\u{fffd}x",
            "\u{fffd}x",
            "\u{e9}:x",
            "\u{1f600}A",
        ];
        for n in names {
            // Every name stands for its own unescaping, and for nothing one unit off.
            let own = from_platform_name(n);
            assert!(unescaped_eq(n.as_bytes(), own.as_bytes()), "{n} as {own}");
            let longer = format!("{own}x");
            assert!(!unescaped_eq(n.as_bytes(), longer.as_bytes()), "{n}");
            if let Some((cut, _)) = own.char_indices().last() {
                assert!(!unescaped_eq(n.as_bytes(), &own.as_bytes()[..cut]), "{n}");
            }
            for w in wants {
                assert_eq!(
                    unescaped_eq(n.as_bytes(), w.as_bytes()),
                    from_platform_name(n) == w,
                    "{n} against {w}"
                );
            }
        }
    }
}
