//! `jackrabbit-docviewparser`: every DocView file of the package (each `.content.xml`
//! and each full-coverage `name.xml`) parses, with line and column on errors; text
//! content, which DocView ignores, is reported (FileVault's default severity for
//! unused character data is error).
//!
//! The id also carries what jcrpack finds about the archive as the importer lays it
//! out (FileVault has no validator of its own for these): entries that cannot be read
//! to their end, two entries that unescape to the same node ([`name_collision`]), and
//! the archive's warnings.

use super::{DocCheck, DocFile, DocNode, Finding, Package, Severity};
use crate::archive::{Archive, ArchiveError};
use crate::docview::{parse_bytes, DocViewDocument, DocViewElement, Limits};
use crate::namespace::NamespaceRegistry;
use std::collections::HashMap;

/// The validator id.
pub const ID: &str = "jackrabbit-docviewparser";

/// Reads and parses one DocView file (`entry`, describing node `node_path`); a file
/// that cannot be read or parsed becomes a finding.
pub fn read(
    archive: &dyn Archive,
    entry: &str,
    node_path: &str,
    findings: &mut Vec<Finding>,
) -> Option<DocFile> {
    let bytes = match archive.read_to_vec(entry) {
        Ok(b) => b,
        Err(e) => {
            findings
                .push(Finding::unreadable(ID, entry, format!("cannot read: {e}")).node(node_path));
            return None;
        }
    };
    match parse_bytes(&bytes, entry, &Limits::default()) {
        Ok(mut doc) => {
            normalize_prefixes(&mut doc);
            Some(DocFile {
                doc,
                entry: entry.to_string(),
                node_path: node_path.to_string(),
            })
        }
        Err(e) => {
            findings.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!("cannot parse the DocView XML: {}", e.message),
                    "correct the XML at this place; the file is not installed as it is",
                )
                .at(&e.location)
                .node(node_path),
            );
            None
        }
    }
}

/// The finding for two entries that unescape to the same node in the same role
/// (`_jcr_content` and `jcr%3acontent`): import refuses such a package, since which
/// entry would win depends on the order of reading. Validation goes on with the first
/// entry.
pub fn name_collision(e: &ArchiveError) -> Finding {
    let ArchiveError::NameCollision {
        first,
        second,
        node,
        ..
    } = e
    else {
        return Finding::new(
            Severity::Error,
            ID,
            e.to_string(),
            "repair the package archive",
        );
    };
    Finding::new(
        Severity::Error,
        ID,
        format!(
            "entries '{}' and '{}' are both the repository node '{}': import refuses the package",
            first.escape_debug(),
            second.escape_debug(),
            node.escape_debug()
        ),
        "keep one of the two entries (merge the other's content into it) and remove the other",
    )
    .in_entry(second.clone())
    .node(node.clone())
}

/// Renames the document's prefixes for built-in namespaces to their usual ones
/// (`jc:primaryType` with `xmlns:jc="http://www.jcp.org/jcr/1.0"` becomes
/// `jcr:primaryType`), in element and property names and in the values of
/// `jcr:primaryType` and `jcr:mixinTypes`, so that validators can look names up.
/// Nothing changes when a usual prefix is taken by another URI in the document.
pub fn normalize_prefixes(doc: &mut DocViewDocument) {
    let builtin = NamespaceRegistry::new();
    let map: HashMap<String, String> = doc
        .namespaces
        .iter()
        .filter_map(|(p, u)| {
            builtin
                .prefix(u)
                .filter(|b| !b.is_empty() && *b != p)
                .map(|b| (p.clone(), b.to_string()))
        })
        .collect();
    if map.is_empty() || map.values().any(|b| doc.uri(b).is_some()) {
        return;
    }
    let rename = |n: &mut String| {
        if let Some((p, local)) = n.split_once(':') {
            if let Some(b) = map.get(p) {
                *n = format!("{b}:{local}");
            }
        }
    };
    fn walk(el: &mut DocViewElement, rename: &dyn Fn(&mut String)) {
        rename(&mut el.name);
        for p in &mut el.properties {
            rename(&mut p.name);
            if p.name == "jcr:primaryType" || p.name == "jcr:mixinTypes" {
                p.values.iter_mut().for_each(rename);
            }
        }
        for c in &mut el.children {
            walk(c, rename);
        }
    }
    walk(&mut doc.root, &rename);
    for (p, _) in &mut doc.namespaces {
        if let Some(b) = map.get(p.as_str()) {
            *p = b.clone();
        }
    }
}

/// Reports what the reader ignored (text content), file by file.
pub fn check<'p>(_pkg: &'p Package<'_>, _out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    Some(Box::new(TextContent))
}

struct TextContent;

impl DocCheck for TextContent {
    fn doc(&mut self, _pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        let d = nodes[0].file;
        for w in &d.doc.warnings {
            out.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!("{}: DocView has no place for character data", w.message),
                    "remove the text between the elements; values belong in attributes",
                )
                .at(&w.location)
                .node(d.node_path.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    #[test]
    fn parse_errors_have_line_and_column() {
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter(r#"<filter root="/content/a"/>"#)),
            (
                "jcr_root/content/a/.content.xml",
                "<?xml version=\"1.0\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\"\n    jcr:primaryType=\"nt:unstructured\">\n  <child jcr:primaryType=\"nt:unstructured\">\n</jcr:root>\n",
            ),
        ]);
        let f = r.by_validator(ID).next().expect("a finding");
        assert_eq!(f.severity, super::Severity::Error);
        assert_eq!(f.entry.as_deref(), Some("jcr_root/content/a/.content.xml"));
        assert!(f.line.is_some() && f.column.is_some(), "{f}");
    }

    #[test]
    fn undeclared_prefix_in_an_element_name() {
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter(r#"<filter root="/content/a"/>"#)),
            (
                "jcr_root/content/a/.content.xml",
                "<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" jcr:primaryType=\"nt:unstructured\"><x:child/></jcr:root>",
            ),
        ]);
        let m = messages(&r, ID);
        assert!(m.iter().any(|m| m.contains("'x'")), "{m:?}");
    }

    #[test]
    fn other_prefixes_for_built_in_namespaces() {
        let r = validate(&[
            ("META-INF/vault/filter.xml", &filter(r#"<filter root="/content/a"/>"#)),
            (
                "jcr_root/content/a/.content.xml",
                "<jc:root xmlns:jc=\"http://www.jcp.org/jcr/1.0\" xmlns:n=\"http://www.jcp.org/jcr/nt/1.0\" jc:primaryType=\"n:unstructured\"><b jc:primaryType=\"n:folder\"/></jc:root>",
            ),
        ]);
        assert_eq!(r.counts().error, 0, "{:?}", r.findings);
        assert!(
            messages(&r, "jackrabbit-nodetypes").is_empty(),
            "{:?}",
            r.findings
        );
    }

    #[test]
    fn text_content_is_reported() {
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(r#"<filter root="/content/a"/>"#),
            ),
            (
                "jcr_root/content/a/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">some text"#),
            ),
        ]);
        let m = messages(&r, ID);
        assert!(m.iter().any(|m| m.contains("character data")), "{m:?}");
    }
}
