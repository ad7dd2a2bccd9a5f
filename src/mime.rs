//! File-name extensions and MIME types, as FileVault maps them (reference §7.6).
//!
//! The importer uses this to set `jcr:mimeType` on new `nt:resource` nodes; the
//! exporter to decide whether a file needs a `.dir/.content.xml` (a MIME type that
//! differs from the extension's default must be kept there).

/// Octet stream, the fallback type.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// (MIME type, binary, extensions); the first extension is the type's default. An
/// extension maps to the first type that lists it.
const TABLE: &[(&str, bool, &[&str])] = &[
    (
        "text/plain",
        false,
        &[
            "txt",
            "jsp",
            "jspx",
            "jspf",
            "ecma",
            "esp",
            "xsl",
            "xslt",
            "dtd",
            "properties",
            "tld",
            "php",
            "rb",
            "bnd",
        ],
    ),
    ("text/cnd", false, &["cnd"]),
    ("text/x-java-source", false, &["java"]),
    ("application/java-vm", true, &["class"]),
    ("text/html", false, &["html", "htm"]),
    ("text/xml", false, &["xml"]),
    ("text/css", false, &["css", "less"]),
    ("text/calendar", false, &["ics"]),
    ("image/svg+xml", false, &["svg"]),
    ("application/xliff+xml", false, &["xliff"]),
    ("image/gif", true, &["gif"]),
    ("image/png", true, &["png"]),
    ("image/jpeg", true, &["jpg", "jpeg"]),
    ("image/jpg", true, &["jpg", "jpeg"]),
    ("application/json", false, &["json"]),
    ("application/java-archive", true, &["jar"]),
    ("application/javascript", false, &["js"]),
    ("application/ecmascript", false, &["ecma"]),
    ("application/x-javascript", false, &["js"]),
    ("application/pdf", true, &["pdf"]),
    ("application/x-shockwave-flash", true, &["swf"]),
    ("application/zip", true, &["zip"]),
    ("image/vnd.microsoft.icon", true, &["ico"]),
    ("application/x-font-woff", true, &["woff"]),
    ("application/vnd.ms-fontobject", true, &["eot"]),
];

fn extension(name: &str) -> &str {
    match name.rfind('.') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The MIME type for a file name (by its extension), if known.
pub fn for_name(name: &str) -> Option<&'static str> {
    let ext = extension(name);
    TABLE
        .iter()
        .find(|(_, _, exts)| exts.contains(&ext))
        .map(|(t, _, _)| *t)
}

/// The MIME type for a file name, or `application/octet-stream`.
pub fn for_name_or_default(name: &str) -> &'static str {
    for_name(name).unwrap_or(OCTET_STREAM)
}

/// Whether `mime` denotes binary content: not `text/*` and either unknown or marked
/// binary in the table.
pub fn is_binary(mime: &str) -> bool {
    if mime.starts_with("text/") {
        return false;
    }
    TABLE
        .iter()
        .find(|(t, _, _)| *t == mime)
        .is_none_or(|(_, b, _)| *b)
}

/// Whether `mime` is what the extension of `name` implies (either direction of the
/// table), or equals `default`.
pub fn matches(name: &str, mime: &str, default: &str) -> bool {
    let ext = extension(name);
    if for_name(name) == Some(mime) {
        return true;
    }
    if TABLE
        .iter()
        .any(|(t, _, exts)| *t == mime && exts.contains(&ext))
    {
        return true;
    }
    mime == default
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_extensions() {
        assert_eq!(for_name("a.jpg"), Some("image/jpeg"));
        assert_eq!(for_name("x/y.js"), Some("application/javascript"));
        assert_eq!(for_name("a.ecma"), Some("text/plain"));
        assert_eq!(for_name_or_default("a.bin"), OCTET_STREAM);
        assert!(is_binary("image/png"));
        assert!(!is_binary("text/anything"));
        assert!(!is_binary("application/json"));
        assert!(is_binary("application/x-unknown"));
        assert!(matches("a.jpg", "image/jpg", OCTET_STREAM));
        assert!(matches("a.js", "application/x-javascript", OCTET_STREAM));
        assert!(matches("a.xyz", OCTET_STREAM, OCTET_STREAM));
        assert!(!matches("a.png", "image/jpeg", OCTET_STREAM));
    }
}
