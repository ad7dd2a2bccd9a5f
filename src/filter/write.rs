//! Writing `filter.xml` the way FileVault's `DefaultWorkspaceFilter.generateSource`
//! does (reference §2.1): XML declaration, 4-space indentation, `mode` only when not
//! `replace`, `type` only when set, `matchProperties="true"` only on property rules,
//! empty elements as `<x/>`, a final newline, attribute values escaped like Woodstox
//! (`&`, `<`, `"`, and TAB/LF/CR as character references).

use std::io::{self, Write};

use super::mode::ImportMode;
use super::model::WorkspaceFilter;

impl WorkspaceFilter {
    /// The bytes of this filter as `filter.xml`: the original bytes if the filter was
    /// read from XML and is unchanged, otherwise [`WorkspaceFilter::canonical_xml`].
    pub fn to_xml(&self) -> Vec<u8> {
        match &self.source {
            Some(source) if self.is_unmodified() => source.bytes.clone(),
            _ => self.canonical_xml().into_bytes(),
        }
    }

    /// Writes [`WorkspaceFilter::to_xml`] to `out`.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.to_xml())
    }

    /// The canonical form FileVault generates for a filter built or changed in code.
    pub fn canonical_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<workspaceFilter version=\"{}\"",
            escape(&self.version.to_string())
        ));
        if self.sets.is_empty() {
            out.push_str("/>\n");
            return out;
        }
        out.push('>');
        for set in &self.sets {
            out.push_str(&format!("\n    <filter root=\"{}\"", escape(set.root())));
            if set.mode != ImportMode::Replace {
                out.push_str(&format!(" mode=\"{}\"", set.mode));
            }
            if let Some(kind) = &set.kind {
                out.push_str(&format!(" type=\"{}\"", escape(kind)));
            }
            if set.rules.is_empty() {
                out.push_str("/>");
                continue;
            }
            out.push('>');
            for rule in &set.rules {
                out.push_str(&format!(
                    "\n        <{} pattern=\"{}\"",
                    rule.kind(),
                    escape(rule.pattern.as_str())
                ));
                if rule.match_properties {
                    out.push_str(" matchProperties=\"true\"");
                }
                out.push_str("/>");
            }
            out.push_str("\n    </filter>");
        }
        out.push_str("\n</workspaceFilter>\n");
        out
    }
}

/// Escapes an attribute value as Woodstox does in a double-quoted attribute. Other
/// control characters cannot come from a parsed filter; they are written as
/// character references.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("&#x{:x};", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::model::{FilterSet, Rule};
    use super::*;

    fn rule(include: bool, pattern: &str) -> Rule {
        Rule::new(include, pattern).unwrap_or_else(|e| panic!("{e}"))
    }

    /// WorkspaceFilterTest.testGeneratedSourceFromCode
    #[test]
    fn generated_source_from_code() {
        let filter =
            WorkspaceFilter::with_sets(vec![FilterSet::new("/tmp").with_rule(rule(true, "/tmp"))]);
        assert_eq!(
            filter.canonical_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workspaceFilter version=\"1.0\">\n    <filter root=\"/tmp\">\n        <include pattern=\"/tmp\"/>\n    </filter>\n</workspaceFilter>\n"
        );
    }

    /// WorkspaceFilterTest.testGeneratedSourceFromCodeWithProps
    #[test]
    fn generated_source_with_property_rules() {
        let filter = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/foo"),
            FilterSet::new("/tmp").with_rule(rule(false, "/tmp/foo/p.*").for_properties()),
        ]);
        insta::assert_snapshot!(filter.canonical_xml(), @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <workspaceFilter version="1.0">
            <filter root="/foo"/>
            <filter root="/tmp">
                <exclude pattern="/tmp/foo/p.*" matchProperties="true"/>
            </filter>
        </workspaceFilter>
        "#);
    }

    #[test]
    fn empty_filter_and_attributes() {
        assert_eq!(
            WorkspaceFilter::new().canonical_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workspaceFilter version=\"1.0\"/>\n"
        );
        let filter = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/bar")
                .with_mode(ImportMode::Merge)
                .with_kind("cleanup"),
            FilterSet::new("/").with_mode(ImportMode::UpdateProperties),
            FilterSet::new("/a&b").with_rule(rule(true, "/a&b/x\"<y>")),
        ]);
        insta::assert_snapshot!(filter.canonical_xml(), @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <workspaceFilter version="1.0">
            <filter root="/bar" mode="merge" type="cleanup"/>
            <filter root="/" mode="update_properties"/>
            <filter root="/a&amp;b">
                <include pattern="/a&amp;b/x&quot;&lt;y>"/>
            </filter>
        </workspaceFilter>
        "#);
    }

    #[test]
    fn escapes_like_woodstox() {
        assert_eq!(escape("a\tb\nc\rd"), "a&#x9;b&#xa;c&#xd;d");
        assert_eq!(escape("'>"), "'>");
        assert_eq!(escape("é\u{1F600}"), "é\u{1F600}");
    }
}
