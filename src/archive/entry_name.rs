//! Which entry names are safe to read and unpack.
//!
//! A package comes from someone else. Its entry names end up as paths in a folder
//! (`unpack`) and as repository paths (`install`), so a hostile name could write outside
//! the target (`../x`, `/etc/x`, `C:/x`), mean different things on different systems
//! (`a\b` is one name on Unix and two on Windows), or hide text from a reviewer (NUL
//! and other control characters). Such names are refused with an error naming the
//! entry. Empty, `.` and empty segments (`a//b`) are refused too: zip tools write none of
//! them, and each would give two spellings of one path.
//!
//! Names use `/` between segments; a directory entry's name may end in one `/`.

use std::fmt;

/// Why an entry name is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// The name is empty (or just `/` for a directory).
    Empty,
    /// The name starts with `/`: it would be written from the file-system root.
    Absolute,
    /// The name starts with a drive letter (`C:`): Windows would write it on that drive.
    DriveLetter,
    /// The name contains `\`, a separator on Windows but an ordinary character elsewhere.
    Backslash,
    /// The name contains NUL or another control character (the code point is kept).
    ControlCharacter(char),
    /// A `..` segment: it would climb out of the package.
    ParentSegment,
    /// A `.` segment: a second spelling of the same path.
    DotSegment,
    /// An empty segment (`a//b`): a second spelling of the same path.
    EmptySegment,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => write!(f, "the name is empty"),
            NameProblem::Absolute => {
                write!(f, "it is an absolute path (starts with `/`)")
            }
            NameProblem::DriveLetter => write!(f, "it starts with a drive letter"),
            NameProblem::Backslash => write!(
                f,
                "it contains a backslash, a path separator on Windows; \
                 zip entry names use `/`"
            ),
            NameProblem::ControlCharacter(c) => write!(
                f,
                "it contains the control character U+{:04X}",
                u32::from(*c)
            ),
            NameProblem::ParentSegment => {
                write!(f, "it has a `..` segment, which climbs out of the package")
            }
            NameProblem::DotSegment => write!(f, "it has a `.` segment"),
            NameProblem::EmptySegment => write!(f, "it has an empty segment (`//`)"),
        }
    }
}

/// Checks an entry name and returns it without the trailing `/` a directory entry may
/// carry, plus whether that `/` was there.
///
/// ```
/// use jcrpack::archive::{check_entry_name, NameProblem};
/// assert_eq!(check_entry_name("jcr_root/content/"), Ok(("jcr_root/content", true)));
/// assert_eq!(check_entry_name("../x"), Err(NameProblem::ParentSegment));
/// ```
pub fn check_entry_name(name: &str) -> Result<(&str, bool), NameProblem> {
    let (bare, is_dir) = match name.strip_suffix('/') {
        Some(bare) => (bare, true),
        None => (name, false),
    };
    // Control characters are U+0000-U+001F and U+007F-U+009F: bytes below 0x20, 0x7F,
    // or a two-byte sequence starting 0xC2. Only a name holding one of those bytes is
    // looked at character by character.
    if name.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(NameProblem::ControlCharacter(c));
        }
    }
    if name.as_bytes().contains(&b'\\') {
        return Err(NameProblem::Backslash);
    }
    if bare.is_empty() {
        return Err(if name.is_empty() {
            NameProblem::Empty
        } else {
            NameProblem::Absolute
        });
    }
    if bare.starts_with('/') {
        return Err(NameProblem::Absolute);
    }
    let bytes = bare.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(NameProblem::DriveLetter);
    }
    for segment in bytes.split(|&b| b == b'/') {
        match segment {
            b"" => return Err(NameProblem::EmptySegment),
            b"." => return Err(NameProblem::DotSegment),
            b".." => return Err(NameProblem::ParentSegment),
            _ => {}
        }
    }
    Ok((bare, is_dir))
}

/// The directory holding `name` (`""` for a top-level name).
pub(crate) fn parent_of(name: &str) -> &str {
    match name.as_bytes().iter().rposition(|&b| b == b'/') {
        Some(i) => &name[..i],
        None => "",
    }
}

/// The last segment of `name`.
pub(crate) fn last_segment(name: &str) -> &str {
    match name.as_bytes().iter().rposition(|&b| b == b'/') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_names_are_refused() {
        let cases = [
            ("", NameProblem::Empty),
            ("/", NameProblem::Absolute),
            ("/abs", NameProblem::Absolute),
            ("//server/share", NameProblem::Absolute),
            ("C:/x", NameProblem::DriveLetter),
            ("c:x", NameProblem::DriveLetter),
            ("a\\b", NameProblem::Backslash),
            ("..\\x", NameProblem::Backslash),
            ("a\0b", NameProblem::ControlCharacter('\0')),
            ("a\nb", NameProblem::ControlCharacter('\n')),
            ("a\u{7f}", NameProblem::ControlCharacter('\u{7f}')),
            ("a\u{85}", NameProblem::ControlCharacter('\u{85}')),
            ("../x", NameProblem::ParentSegment),
            ("a/../../x", NameProblem::ParentSegment),
            ("a/..", NameProblem::ParentSegment),
            ("../", NameProblem::ParentSegment),
            ("./a", NameProblem::DotSegment),
            ("a//b", NameProblem::EmptySegment),
            ("a//", NameProblem::EmptySegment),
        ];
        for (name, problem) in cases {
            assert_eq!(check_entry_name(name), Err(problem), "{name:?}");
        }
    }

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "META-INF/vault/filter.xml",
            "jcr_root/.content.xml",
            "jcr_root/content/_jcr_content/x.binary",
            "jcr_root/a..b/c...",
            "jcr_root/%3a/x:y",
            "jcr_root/ümlaut/日本",
            "..a",
            "a..",
        ] {
            assert_eq!(check_entry_name(name), Ok((name, false)), "{name:?}");
        }
        assert_eq!(check_entry_name("jcr_root/"), Ok(("jcr_root", true)));
    }

    #[test]
    fn parents_and_segments() {
        assert_eq!(parent_of("a/b/c"), "a/b");
        assert_eq!(parent_of("a"), "");
        assert_eq!(last_segment("a/b/c"), "c");
        assert_eq!(last_segment("a"), "a");
    }

    proptest! {
        /// Any name built from ordinary segments is accepted unchanged, also as a
        /// directory; inserting a `..` segment anywhere is always refused.
        #[test]
        fn segment_names_round_trip(
            segments in proptest::collection::vec("[a-zA-Z0-9_.%-]{1,8}", 1..5),
            at in 0usize..5,
        ) {
            prop_assume!(segments.iter().all(|s| s != "." && s != ".."));
            prop_assume!(!(segments[0].len() >= 2 && segments[0].as_bytes()[1] == b':'));
            let name = segments.join("/");
            prop_assert_eq!(check_entry_name(&name), Ok((name.as_str(), false)));
            let dir = format!("{name}/");
            prop_assert_eq!(check_entry_name(&dir), Ok((name.as_str(), true)));
            let mut hostile = segments.clone();
            hostile.insert(at.min(segments.len()), "..".to_string());
            let hostile = hostile.join("/");
            prop_assert_eq!(
                check_entry_name(&hostile),
                Err(NameProblem::ParentSegment)
            );
        }
    }
}
