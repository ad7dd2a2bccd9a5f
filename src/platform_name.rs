//! File-system names for JCR names, FileVault's `PlatformNameFormat` (reference
//! section 6), and the mapping between repository paths and `jcr_root/` entries.
//!
//! Escaping is per path segment and never touches `/`:
//!
//! * `\ < > | " / ? %` become `%` and two lower-case hex digits;
//! * the first colon of a name (not at its start, and with no `_` before it) is the
//!   namespace colon: it becomes `_` and the name gets a leading `_`
//!   (`jcr:content` is `_jcr_content`); any other colon becomes `%3a`;
//! * a name that starts with `_` and holds a second underscore gets one more leading
//!   `_` (`_a_b` is `__a_b`), so that it is not read back as a prefixed name.
//!
//! Reading back decodes `%XY` (any case), turns `__` at the start into `_`, and turns
//! the first `_` after a leading `_x` into the namespace colon.
//!
//! One corner does not survive a round trip, in FileVault as here: a name that starts
//! with `_` followed by an escaped character (`_%`, `_?x`, `_:x`) is written with the
//! escape (`_%25`) but read back literally, because the character after a leading `_`
//! is never decoded.

/// The folder of a package that holds the repository content.
pub const JCR_ROOT: &str = "jcr_root";

/// The file-system name of the JCR name `jcr_name` (`getPlatformName`).
pub fn to_platform_name(jcr_name: &str) -> String {
    let mut buf = String::with_capacity(jcr_name.len() + 4);
    let mut escape_colon = false;
    let mut use_underscore = false;
    let mut underscores = 0u32;
    for (i, c) in jcr_name.chars().enumerate() {
        match c {
            ':' => {
                if !escape_colon && i > 0 {
                    // The namespace colon.
                    escape_colon = true;
                    use_underscore = true;
                    underscores = 2;
                    buf.push('_');
                } else {
                    buf.push_str("%3a");
                    escape_colon = true;
                }
            }
            '_' => {
                if i == 0 {
                    use_underscore = true;
                }
                underscores += 1;
                escape_colon = true;
                buf.push('_');
            }
            '\\' | '<' | '>' | '|' | '"' | '/' | '?' | '%' => {
                buf.push('%');
                buf.push_str(&format!("{:02x}", c as u32));
            }
            _ => buf.push(c),
        }
    }
    if use_underscore && underscores > 1 {
        buf.insert(0, '_');
    }
    buf
}

/// The JCR name of the file-system name `fs_name` (`getRepositoryName`).
///
/// Works on UTF-16 code units like FileVault: `%` followed by at least two more
/// units decodes them as hex digits (an invalid digit yields the same odd character
/// Java computes); a lone surrogate left over becomes U+FFFD.
pub fn from_platform_name(fs_name: &str) -> String {
    let units: Vec<u16> = fs_name.encode_utf16().collect();
    let mut out: Vec<u16> = Vec::with_capacity(units.len() + 1);
    let mut first_underscore = false;
    let mut i = 0;
    while i < units.len() {
        let mut c = units[i];
        if c == u16::from(b'%') {
            if units.len() > i + 2 {
                let a = java_hex_digit(units[i + 1]);
                let b = java_hex_digit(units[i + 2]);
                i += 2;
                // Java: (char) (a * 16 + b), with -1 for a non-digit.
                c = (a * 16 + b) as u16;
            }
        } else if c == u16::from(b'_') {
            if i == 0 {
                first_underscore = true;
                if let Some(&next) = units.get(1) {
                    i = 1;
                    out.push(next);
                    if next == u16::from(b'_') {
                        first_underscore = false;
                    }
                }
                i += 1;
                continue;
            } else if first_underscore {
                c = u16::from(b':');
                first_underscore = false;
            }
        }
        out.push(c);
        i += 1;
    }
    let name = String::from_utf16_lossy(&out);
    if first_underscore {
        // A leading `_` without a namespace colon after it stays.
        format!("_{name}")
    } else {
        name
    }
}

/// `Character.digit(c, 16)` on a UTF-16 unit, -1 when it is not a digit.
fn java_hex_digit(unit: u16) -> i32 {
    char::from_u32(u32::from(unit))
        .and_then(crate::package_id::java_chars::hex_value)
        .map_or(-1, |v| v as i32)
}

/// Escapes every segment of a repository path (`/content/jcr:content` gives
/// `/content/_jcr_content`); slashes, empty segments and same-name-sibling indexes
/// (`item[2]`) stay as they are.
pub fn to_platform_path(repo_path: &str) -> String {
    map_segments(repo_path, to_platform_name)
}

/// Unescapes every segment of a file-system path (`getRepositoryPath`).
pub fn from_platform_path(fs_path: &str) -> String {
    map_segments(fs_path, from_platform_name)
}

/// Like [`from_platform_path`], but a segment ending in `.dir` loses that suffix
/// before unescaping (`getRepositoryPath(path, true)`): the `.dir` folder of a file
/// aggregate stands for the file's node.
pub fn from_platform_path_dot_dir(fs_path: &str) -> String {
    map_segments(fs_path, |seg| match seg.strip_suffix(".dir") {
        Some(base) => from_platform_name(base),
        None => from_platform_name(seg),
    })
}

fn map_segments(path: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if !seg.is_empty() {
            out.push_str(&f(seg));
        }
    }
    out
}

/// The package entry for the absolute repository path `repo_path`:
/// `/content/jcr:content` gives `jcr_root/content/_jcr_content`, `/` gives
/// `jcr_root`.
pub fn to_entry_path(repo_path: &str) -> String {
    let rel = repo_path.trim_start_matches('/');
    if rel.is_empty() {
        return JCR_ROOT.to_string();
    }
    format!("{JCR_ROOT}/{}", to_platform_path(rel))
}

/// The repository path of a package entry below `jcr_root/` (a trailing `/` of a
/// directory entry is ignored): `jcr_root/content/_jcr_content` gives
/// `/content/jcr:content`, `jcr_root` gives `/`. `None` for an entry outside
/// `jcr_root`.
pub fn from_entry_path(entry: &str) -> Option<String> {
    let rest = entry.strip_prefix(JCR_ROOT)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rel = rest.trim_matches('/');
    if rel.is_empty() {
        return Some("/".to_string());
    }
    Some(format!("/{}", from_platform_path(rel)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every vector of the reference (section 6) and FileVault's `PlatformNameTest`.
    const VECTORS: [(&str, &str); 17] = [
        ("test.jpg", "test.jpg"),
        ("cq:content", "_cq_content"),
        ("cq:test_image.jpg", "_cq_test_image.jpg"),
        ("test_image.jpg", "test_image.jpg"),
        ("_testimage.jpg", "_testimage.jpg"),
        ("_test_image.jpg", "__test_image.jpg"),
        ("cq:test:image.jpg", "_cq_test%3aimage.jpg"),
        ("_cq_:test.jpg", "__cq_%3atest.jpg"),
        ("_cq:test.jpg", "_cq%3atest.jpg"),
        ("cq_:test.jpg", "cq_%3atest.jpg"),
        ("_", "_"),
        (":", "%3a"),
        (":test", "%3atest"),
        (":oak:mount-libs-nodetype", "%3aoak%3amount-libs-nodetype"),
        ("jcr:myfile.data", "_jcr_myfile.data"),
        ("_jcr_myfile.data", "__jcr_myfile.data"),
        ("a?b", "a%3fb"),
    ];

    #[test]
    fn vectors_to_platform() {
        for (repo, platform) in VECTORS {
            assert_eq!(to_platform_name(repo), platform, "{repo}");
        }
    }

    #[test]
    fn vectors_to_repository() {
        for (repo, platform) in VECTORS {
            assert_eq!(from_platform_name(platform), repo, "{platform}");
        }
    }

    #[test]
    fn escapes_exactly_the_reserved_characters() {
        assert_eq!(
            to_platform_name("a\\b<c>d|e\"f/g?h%i"),
            "a%5cb%3cc%3ed%7ce%22f%2fg%3fh%25i"
        );
        assert_eq!(to_platform_name("a b*[1]#\u{e9}"), "a b*[1]#\u{e9}");
        assert_eq!(from_platform_name("a%5Cb%3C"), "a\\b<");
        assert_eq!(from_platform_name("a%2"), "a%2");
        assert_eq!(from_platform_name("a%zz"), "a\u{ffef}");
        assert_eq!(from_platform_name("%41%\u{FF41}1"), "A\u{a1}");
    }

    #[test]
    fn leading_underscore_then_escape_is_not_decoded() {
        // FileVault writes the escape but never decodes the character after a
        // leading underscore: these names do not round-trip in FileVault either.
        assert_eq!(to_platform_name("_%"), "_%25");
        assert_eq!(from_platform_name("_%25"), "_%25");
        assert_eq!(to_platform_name("_:x"), "_%3ax");
        assert_eq!(from_platform_name("_%3ax"), "_%3ax");
    }

    #[test]
    fn paths_segment_by_segment() {
        assert_eq!(
            to_platform_path("/content/jcr:content/cq:a[2]/b?"),
            "/content/_jcr_content/_cq_a[2]/b%3f"
        );
        assert_eq!(
            from_platform_path("/content/_jcr_content/_cq_a[2]/b%3f"),
            "/content/jcr:content/cq:a[2]/b?"
        );
        assert_eq!(to_platform_path("a//b/"), "a//b/");
        assert_eq!(from_platform_path(""), "");
        assert_eq!(
            from_platform_path_dot_dir("/apps/x.jsp.dir/_jcr_content"),
            "/apps/x.jsp/jcr:content"
        );
    }

    #[test]
    fn entry_paths() {
        assert_eq!(to_entry_path("/"), "jcr_root");
        assert_eq!(
            to_entry_path("/content/jcr:content"),
            "jcr_root/content/_jcr_content"
        );
        assert_eq!(to_entry_path("/a/item[2]"), "jcr_root/a/item[2]");
        assert_eq!(from_entry_path("jcr_root").as_deref(), Some("/"));
        assert_eq!(from_entry_path("jcr_root/").as_deref(), Some("/"));
        assert_eq!(
            from_entry_path("jcr_root/content/_jcr_content/").as_deref(),
            Some("/content/jcr:content")
        );
        assert_eq!(
            from_entry_path("jcr_root/a/item[2]").as_deref(),
            Some("/a/item[2]")
        );
        assert_eq!(from_entry_path("META-INF/vault/filter.xml"), None);
        assert_eq!(from_entry_path("jcr_rootx/a"), None);
    }

    /// Names that FileVault cannot round-trip (see the module documentation).
    fn is_known_corner(name: &str) -> bool {
        let mut chars = name.chars();
        chars.next() == Some('_')
            && matches!(chars.next(), Some('\\' | '<' | '>' | '"' | '?' | '%' | ':'))
    }

    proptest! {
        #[test]
        fn valid_names_round_trip(
            name in "[a-z_:%?<>\\\\\"#. \u{e9}\u{1F600}A-Z0-9-]{1,12}"
        ) {
            prop_assume!(crate::name::validate(&name).is_ok());
            prop_assume!(!is_known_corner(&name));
            let fs = to_platform_name(&name);
            prop_assert_eq!(from_platform_name(&fs), name.clone(), "via {}", fs);
            let path = format!("/a/{name}/b");
            prop_assert_eq!(from_entry_path(&to_entry_path(&path)), Some(path));
        }

        #[test]
        fn never_panics_on_any_file_name(fs in "\\PC{0,12}") {
            let _ = from_platform_name(&fs);
            let _ = from_platform_path_dot_dir(&fs);
        }
    }
}
