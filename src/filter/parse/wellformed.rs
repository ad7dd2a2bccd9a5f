//! Well-formedness checks quick-xml leaves to the application.
//!
//! quick-xml tokenises leniently (attribute names are not checked, attributes need no
//! separating space, a malformed `<?xml ...?>` passes). FileVault's DOM parser
//! (Xerces) refuses such documents, so the reader checks the raw text of every tag,
//! declaration and processing instruction with the XML 1.0 (and Namespaces) grammar.
//! Each check returns the byte offset, within the checked text, of the problem.

use crate::name::{is_name_char, is_name_start_char};

/// A problem at a byte offset of the checked text.
pub(super) type Problem = (usize, String);

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Length in bytes of the XML `Name` starting at `at`, 0 if there is none.
fn name_len(text: &str, at: usize) -> usize {
    let Some(rest) = text.get(at..) else { return 0 };
    let mut chars = rest.char_indices();
    match chars.next() {
        Some((_, c)) if is_name_start_char(c) => {}
        _ => return 0,
    }
    rest.char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(rest.len(), |(i, _)| i)
}

/// A namespace-valid qualified name: a Name with at most one colon, not at either end.
fn check_qname(name: &str, at: usize) -> Result<(), Problem> {
    let colons = name.matches(':').count();
    if colons > 1 || name.starts_with(':') || name.ends_with(':') {
        return Err((at, format!("'{name}' is not a valid qualified name")));
    }
    Ok(())
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).copied().is_some_and(is_space) {
        i += 1;
    }
    i
}

/// Checks the references in an attribute value or text: `&name;` must be one of the
/// five predefined entities (any name when `external_dtd`: entities it might declare
/// are unknown, not errors, to a non-validating parser), `&#n;`/`&#xh;` must name an
/// XML character.
pub(super) fn check_references(
    value: &str,
    base: usize,
    external_dtd: bool,
) -> Result<(), Problem> {
    let mut from = 0;
    while let Some(found) = value[from..].find('&') {
        let at = from + found;
        let rest = &value[at + 1..];
        let Some(end) = rest.find(';') else {
            return Err((
                base + at,
                "'&' must start an entity or character reference ending in ';'".into(),
            ));
        };
        let reference = &rest[..end];
        let valid = if let Some(number) = reference.strip_prefix('#') {
            let code = match number.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()
                }
                Some(_) => None,
                None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                    number.parse().ok()
                }
                None => None,
            };
            match code.and_then(char::from_u32) {
                Some(c) => super::is_xml_char(c),
                None => false,
            }
        } else {
            matches!(reference, "lt" | "gt" | "amp" | "apos" | "quot")
                || (external_dtd
                    && name_len(reference, 0) == reference.len()
                    && !reference.is_empty())
        };
        if !valid {
            return Err((
                base + at,
                format!(
                    "'&{reference};' is not a predefined entity or a valid character reference"
                ),
            ));
        }
        from = at + 1 + end + 1;
    }
    Ok(())
}

/// Checks `name (S attr=value)* S?` (the text between `<` and `>` or `/>`).
pub(super) fn check_start_tag(tag: &str, external_dtd: bool) -> Result<(), Problem> {
    let bytes = tag.as_bytes();
    let len = name_len(tag, 0);
    if len == 0 {
        return Err((0, "expected an element name after '<'".into()));
    }
    check_qname(&tag[..len], 0)?;
    let mut i = len;
    let mut names: Vec<&str> = Vec::new();
    loop {
        let after_space = skip_space(bytes, i);
        if after_space == bytes.len() {
            return Ok(());
        }
        if after_space == i {
            return Err((i, "expected white space before an attribute".into()));
        }
        i = after_space;
        let len = name_len(tag, i);
        if len == 0 {
            return Err((i, "expected an attribute name".into()));
        }
        let name = &tag[i..i + len];
        check_qname(name, i)?;
        if names.contains(&name) {
            return Err((i, format!("attribute '{name}' is repeated")));
        }
        names.push(name);
        i = skip_space(bytes, i + len);
        if bytes.get(i) != Some(&b'=') {
            return Err((i, format!("expected '=' after attribute '{name}'")));
        }
        i = skip_space(bytes, i + 1);
        let quote = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err((i, format!("expected a quoted value for attribute '{name}'"))),
        };
        let start = i + 1;
        let Some(len) = bytes[start..].iter().position(|&b| b == quote) else {
            return Err((i, format!("unterminated value of attribute '{name}'")));
        };
        let value = &tag[start..start + len];
        if let Some(lt) = value.find('<') {
            return Err((
                start + lt,
                format!("'<' is not allowed in the value of attribute '{name}'"),
            ));
        }
        check_references(value, start, external_dtd)?;
        if name.starts_with("xmlns:") && value.is_empty() {
            return Err((
                start,
                format!("the namespace prefix of '{name}' cannot be bound to an empty URI"),
            ));
        }
        i = start + len + 1;
    }
}

/// Checks `name S?` (the text between `</` and `>`).
pub(super) fn check_end_tag(tag: &str) -> Result<(), Problem> {
    let len = name_len(tag, 0);
    if len == 0 || skip_space(tag.as_bytes(), len) != tag.len() {
        return Err((0, "expected an element name and '>' in the end tag".into()));
    }
    Ok(())
}

/// Checks the XML declaration text between `<?` and `?>`:
/// `xml S version Eq 'VersionNum' (S encoding Eq 'EncName')? (S standalone Eq 'yes|no')? S?`.
pub(super) fn check_declaration(decl: &str) -> Result<(), Problem> {
    let bytes = decl.as_bytes();
    let mut i = 3; // "xml"
    let mut expected = ["version", "encoding", "standalone"].into_iter().peekable();
    let mut first = true;
    loop {
        let after_space = skip_space(bytes, i);
        if after_space == bytes.len() {
            if first {
                return Err((i, "the XML declaration needs a version".into()));
            }
            return Ok(());
        }
        if after_space == i {
            return Err((i, "expected white space in the XML declaration".into()));
        }
        i = after_space;
        let len = name_len(decl, i);
        let name = &decl[i..i + len];
        // Skip optional pseudo-attributes until the one written here.
        while expected
            .peek()
            .is_some_and(|e| *e != name && !(first && *e == "version"))
        {
            expected.next();
        }
        match expected.next() {
            Some(e) if e == name => {}
            _ => {
                return Err((
                    i,
                    if first {
                        "the XML declaration must start with version".to_string()
                    } else {
                        format!("unexpected '{name}' in the XML declaration")
                    },
                ))
            }
        }
        i = skip_space(bytes, i + len);
        if bytes.get(i) != Some(&b'=') {
            return Err((i, format!("expected '=' after {name}")));
        }
        i = skip_space(bytes, i + 1);
        let quote = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err((i, format!("expected a quoted value for {name}"))),
        };
        let start = i + 1;
        let Some(len) = bytes[start..].iter().position(|&b| b == quote) else {
            return Err((i, format!("unterminated value of {name}")));
        };
        let value = &decl[start..start + len];
        let valid = match name {
            "version" => value
                .strip_prefix("1.")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
            "encoding" => {
                value
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            }
            _ => matches!(value, "yes" | "no"),
        };
        if !valid {
            return Err((
                start,
                format!("invalid {name} '{value}' in the XML declaration"),
            ));
        }
        first = false;
        i = start + len + 1;
    }
}

/// Checks a processing instruction (text between `<?` and `?>`): the target must be a
/// name and not `xml` in any case (the declaration is handled separately).
pub(super) fn check_processing_instruction(pi: &str) -> Result<(), Problem> {
    let len = name_len(pi, 0);
    let target = &pi[..len];
    if len == 0 || (len < pi.len() && !is_space(pi.as_bytes()[len])) {
        return Err((0, "expected a processing instruction target name".into()));
    }
    if target.eq_ignore_ascii_case("xml") {
        return Err((
            0,
            "the XML declaration is only allowed at the very beginning".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_tags() {
        assert!(check_start_tag("filter", false).is_ok());
        assert!(check_start_tag("filter root=\"/a\" mode='merge' ", false).is_ok());
        assert!(check_start_tag("filter\n\troot = \"/a&amp;&#x41;\"", false).is_ok());
        assert_eq!(
            check_start_tag("filter root=\"/a\"mode=\"x\"", false).map_err(|e| e.0),
            Err(16)
        );
        assert_eq!(
            check_start_tag("filter r&oot=\"/a\"", false).map_err(|e| e.0),
            Err(8)
        );
        assert_eq!(
            check_start_tag("filter /root=\"/a\"", false).map_err(|e| e.0),
            Err(7)
        );
        assert!(check_start_tag("filter root=\"a&b\"", false).is_err());
        assert!(check_start_tag("filter root=\"&nbsp;\"", false).is_err());
        assert!(check_start_tag("filter root=\"&#1;\"", false).is_err());
        assert!(check_start_tag("a:b:c", false).is_err());
        assert!(check_start_tag("filter xmlns:p=\"\"", false).is_err());
        assert!(check_start_tag("filter xmlns=\"\"", false).is_ok());
        assert!(check_start_tag("filter a=\"1\" a=\"2\"", false).is_err());
    }

    #[test]
    fn declarations() {
        assert!(check_declaration("xml version=\"1.0\"").is_ok());
        assert!(
            check_declaration("xml version='1.0' encoding=\"UTF-8\" standalone=\"no\" ").is_ok()
        );
        assert!(check_declaration("xml version=\"1.0\" standalone=\"yes\"").is_ok());
        assert!(check_declaration("xml").is_err());
        assert!(check_declaration("xml encoding=\"UTF-8\"").is_err());
        assert!(check_declaration("xml version=\"1.0\"encoding=\"UTF-8\"").is_err());
        assert!(check_declaration("xml version=\"1.0\" ncoding=\"UTF-8\"").is_err());
        assert!(
            check_declaration("xml version=\"1.0\" standalone=\"yes\" encoding=\"UTF-8\"").is_err()
        );
        assert!(check_declaration("xml version=\"x\"").is_err());
        assert!(check_processing_instruction("pi data").is_ok());
        assert!(check_processing_instruction("XmL x").is_err());
        assert!(check_processing_instruction("xml<").is_err());
    }
}
