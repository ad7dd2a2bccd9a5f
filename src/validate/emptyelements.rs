//! `jackrabbit-emptyelements`: elements without attributes only order an existing
//! node; they never replace it (JCRVLT-251). Below a `replace` filter root that is
//! rarely what the author meant, unless the node comes from elsewhere in the package
//! (its own folder, file or another DocView element with properties). `rep:policy`
//! elements are left alone.

use super::{DocCheck, DocNode, Finding, Package, PathSet, Severity};
use crate::filter::{ImportMode, WorkspaceFilter};
use crate::location::Location;
use crate::path;

/// The validator id.
pub const ID: &str = "jackrabbit-emptyelements";

/// Reports ordering-only elements in `replace` sets that nothing else in the package
/// provides.
pub fn check<'p>(pkg: &'p Package<'_>, _out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    let filter = pkg.filter.as_ref()?;
    let roots = filter
        .sets
        .iter()
        .filter(|s| s.mode == ImportMode::Replace)
        .map(|s| s.root())
        .collect();
    Some(Box::new(EmptyElements {
        filter,
        roots,
        provided: PathSet::default(),
        empty: Vec::new(),
    }))
}

struct EmptyElements<'f> {
    filter: &'f WorkspaceFilter,
    /// The roots of the `replace` sets.
    roots: Vec<&'f str>,
    /// Elements below those roots that provide their node (with properties, or not
    /// ordering-only for another reason), when no file or folder does.
    provided: PathSet,
    /// Ordering-only elements no file or folder provides, in document order: their
    /// path and place.
    empty: Vec<(String, Location)>,
}

impl DocCheck for EmptyElements<'_> {
    fn doc(&mut self, pkg: &Package<'_>, nodes: &[DocNode<'_>], _out: &mut Vec<Finding>) {
        let filter = self.filter;
        for n in nodes {
            if !self
                .roots
                .iter()
                .any(|r| path::is_self_or_descendant(n.path, r))
            {
                continue;
            }
            if n.element.properties.is_empty()
                && filter.contains(n.path)
                && filter.import_mode(n.path, None) == ImportMode::Replace
            {
                if n.element.name != "rep:policy" && !pkg.in_layout(n.path) {
                    self.empty
                        .push((n.path.to_string(), n.element.location.clone()));
                }
            } else if !pkg.in_layout(n.path) {
                // (Elements whose node has a file or folder never decide anything.)
                self.provided.insert(n.path);
            }
        }
    }

    fn finish(self: Box<Self>, _pkg: &Package<'_>, out: &mut Vec<Finding>) {
        for (p, location) in self.empty {
            if self.provided.contains(&p) {
                continue;
            }
            if let Some(e) = self.provided.read_error() {
                // The set's temporary file could not be read back: no answer from it
                // can be trusted, so say so instead of reporting what may be wrong.
                out.push(Finding::new(
                    Severity::Error,
                    ID,
                    format!("the check could not read its temporary file back: {e}"),
                    "make room in the temporary folder and validate again",
                ));
                return;
            }
            out.push(
                Finding::new(
                    Severity::Error,
                    ID,
                    format!(
                        "element '{p}' has no attributes: it only orders an existing node and does not replace it, \
                         although it is in a replace filter and nothing else in the package provides it"
                    ),
                    "remove the element, or give it at least jcr:primaryType so that it is really replaced",
                )
                .at(&location)
                .node(p),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(filter_sets: &str, extra: &[(&str, &str)]) -> Vec<String> {
        let f = filter(filter_sets);
        let body = docview(
            r#"jcr:primaryType="nt:unstructured"><a/><b/><rep:policy/><c jcr:primaryType="nt:unstructured"/>"#,
        );
        let mut files = vec![
            ("META-INF/vault/filter.xml", f.as_str()),
            ("jcr_root/content/x/.content.xml", body.as_str()),
        ];
        files.extend_from_slice(extra);
        messages(&validate(&files), ID)
    }

    #[test]
    fn empty_elements_in_replace_mode() {
        let m = run(
            r#"<filter root="/content/x"/>"#,
            &[(
                "jcr_root/content/x/b/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            )],
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("'/content/x/a'"), "{m:?}");
    }

    #[test]
    fn merge_mode_is_fine() {
        assert!(run(r#"<filter root="/content/x" mode="merge"/>"#, &[]).is_empty());
    }

    #[test]
    fn excluded_children_are_fine() {
        let m = run(
            r#"<filter root="/content/x"><include pattern="/content/x"/><include pattern="/content/x/c"/></filter>"#,
            &[],
        );
        assert!(m.is_empty(), "{m:?}");
    }

    /// `/content/x/a` has no file or folder of its own: the parent folder's file and
    /// `/content/.content.xml` both describe it, in either order.
    fn across_files(outer: &str, inner: &str) -> Vec<String> {
        let f = filter(r#"<filter root="/content"/>"#);
        let outer = docview(&format!(
            r#"jcr:primaryType="nt:unstructured"><x jcr:primaryType="nt:unstructured">{outer}</x>"#
        ));
        let inner = docview(&format!(r#"jcr:primaryType="nt:unstructured">{inner}"#));
        messages(
            &validate(&[
                ("META-INF/vault/filter.xml", f.as_str()),
                ("jcr_root/content/.content.xml", outer.as_str()),
                ("jcr_root/content/x/.content.xml", inner.as_str()),
            ]),
            ID,
        )
    }

    #[test]
    fn an_element_provided_by_another_file_is_fine() {
        let full = r#"<a jcr:primaryType="nt:unstructured"/>"#;
        assert!(across_files("<a/>", full).is_empty());
        assert!(across_files(full, "<a/>").is_empty());
        let m = across_files("<a/>", "<a/>");
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m.iter().all(|m| m.contains("'/content/x/a'")), "{m:?}");
    }
}
