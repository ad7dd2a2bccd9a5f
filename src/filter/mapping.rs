//! Path mappings (`--map FROM=TO`, `--at PATH`) and the translation of a filter
//! through one (reference §3.1, FileVault's `WorkspaceFilter.translate`).
//!
//! Translating a filter maps every root and every *absolute* pattern (one starting
//! with `/` or `\Q/`) with the same string mapping FileVault applies to paths;
//! relative patterns (`.*/foo`) are kept. A mapped pattern that no longer compiles is
//! kept unchanged, as in FileVault.

use super::model::{FilterSet, Rule, WorkspaceFilter};
use super::pattern::Pattern;

/// A rewrite of repository paths applied at install time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMapping {
    /// Links `FROM -> TO` (FileVault's `MultiPathMapping`, used for `--map`): the
    /// path is rebuilt segment by segment, and whenever the path built so far equals
    /// a link source it is replaced by the link target (so links chain). A later link
    /// with the same source replaces an earlier one.
    ///
    /// Because patterns are mapped as strings split at `/`, a link on `/tmp/foo`
    /// translates `/tmp/foo/.*` but not `/tmp/foo(/.*)?` (its second segment is
    /// `foo(`), and a quoted `\Q/tmp\E` pattern gains a leading `/`; FileVault does
    /// the same.
    Links(Vec<(String, String)>),
    /// Replace a leading `strip` by `with` (FileVault's `SimplePathMapping`, a plain
    /// string prefix test: `/tmp` also matches `/tmpx`).
    Replace {
        /// The prefix to remove.
        strip: String,
        /// The prefix to put instead.
        with: String,
    },
}

/// A `--map` argument that is not `FROM=TO` with two absolute paths.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path mapping '{0}' (expected FROM=TO with two absolute paths, e.g. /content/a=/content/b)")]
pub struct InvalidMapping(pub String);

impl PathMapping {
    /// Links from `--map FROM=TO` arguments.
    pub fn links<'a>(
        args: impl IntoIterator<Item = &'a str>,
    ) -> Result<PathMapping, InvalidMapping> {
        let mut links = Vec::new();
        for arg in args {
            let (from, to) = arg
                .split_once('=')
                .filter(|(f, t)| f.starts_with('/') && t.starts_with('/'))
                .ok_or_else(|| InvalidMapping(arg.to_string()))?;
            links.push((from.to_string(), to.to_string()));
        }
        Ok(PathMapping::Links(links))
    }

    /// `--at PATH`: every path is prefixed with `PATH` (like FileVault's exporter
    /// mapping from the repository root to a mount point); `/` maps nothing.
    pub fn at(path: &str) -> PathMapping {
        PathMapping::Replace {
            strip: String::new(),
            with: path.trim_end_matches('/').to_string(),
        }
    }

    /// Maps a path (or an absolute pattern) forward.
    pub fn map(&self, path: &str) -> String {
        self.map_with(path, false)
    }

    /// Maps a path forward, or backward (`reverse`) from target to source.
    pub fn map_with(&self, path: &str, reverse: bool) -> String {
        match self {
            PathMapping::Links(links) => {
                if path.is_empty() || path == "/" {
                    return path.to_string();
                }
                let lookup = |built: &str| -> Option<&str> {
                    links
                        .iter()
                        .rev()
                        .find(|(from, to)| if reverse { to == built } else { from == built })
                        .map(|(from, to)| if reverse { from.as_str() } else { to.as_str() })
                };
                let mut built = String::new();
                for segment in path.split('/').filter(|s| !s.is_empty()) {
                    built.push('/');
                    built.push_str(segment);
                    if let Some(target) = lookup(&built) {
                        built = target.to_string();
                    }
                }
                built
            }
            PathMapping::Replace { strip, with } => {
                let (from, to) = if reverse {
                    (with, strip)
                } else {
                    (strip, with)
                };
                match path.strip_prefix(from.as_str()) {
                    Some(rest) => format!("{to}{rest}"),
                    None => path.to_string(),
                }
            }
        }
    }
}

impl FilterSet {
    /// This set with its root and absolute patterns mapped.
    pub fn translate(&self, mapping: &PathMapping) -> FilterSet {
        let mut mapped = FilterSet::new(&mapping.map(self.root()));
        mapped.mode = self.mode;
        mapped.kind = self.kind.clone();
        mapped.location = self.location.clone();
        mapped.written_root = self
            .written_root
            .as_ref()
            .map(|_| mapped.root().to_string());
        mapped.rules = self
            .rules
            .iter()
            .map(|rule| translate_rule(rule, mapping))
            .collect();
        mapped
    }
}

fn translate_rule(rule: &Rule, mapping: &PathMapping) -> Rule {
    if !rule.pattern.is_absolute() {
        return rule.clone();
    }
    match Pattern::new(&mapping.map(rule.pattern.as_str())) {
        Ok(pattern) => Rule {
            pattern,
            ..rule.clone()
        },
        Err(_) => rule.clone(),
    }
}

impl WorkspaceFilter {
    /// A new filter with every root and absolute pattern mapped (the result has no
    /// source bytes, so it is written in canonical form).
    pub fn translate(&self, mapping: &PathMapping) -> WorkspaceFilter {
        WorkspaceFilter {
            sets: self.sets.iter().map(|s| s.translate(mapping)).collect(),
            version: self.version,
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(include: bool, pattern: &str) -> Rule {
        Rule::new(include, pattern).unwrap_or_else(|e| panic!("{e}"))
    }

    /// PathMappingTest.testSimple / testSimpleReverse
    #[test]
    fn simple_mapping() {
        let map = PathMapping::Replace {
            strip: "/tmp".into(),
            with: "/content".into(),
        };
        assert_eq!(map.map("/tmp"), "/content");
        assert_eq!(map.map("/tmp/products"), "/content/products");
        assert_eq!(map.map("/foo"), "/foo");
        assert_eq!(map.map_with("/content", true), "/tmp");
        assert_eq!(map.map_with("/content/products", true), "/tmp/products");
        assert_eq!(map.map_with("/foo", true), "/foo");
    }

    fn multi() -> PathMapping {
        PathMapping::links([
            "/source/tree/a=/dest/1",
            "/source/tree/b=/dest/2",
            "/source/foo/a=/dest/foo/1",
            "/dest/foo/1/top=/test",
        ])
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// PathMappingTest.testMulti
    #[test]
    fn multi_mapping() {
        let map = multi();
        assert_eq!(map.map(""), "");
        assert_eq!(map.map("/"), "/");
        assert_eq!(map.map("/content"), "/content");
        assert_eq!(map.map("/source/tree/a"), "/dest/1");
        assert_eq!(map.map("/source/tree/a/test"), "/dest/1/test");
        assert_eq!(map.map("/source/tree/b/test"), "/dest/2/test");
        assert_eq!(map.map("/source/foo/a/test"), "/dest/foo/1/test");
        assert_eq!(map.map("/source/foo/a/top/flop"), "/test/flop");
    }

    /// PathMappingTest.testMultiReverse
    #[test]
    fn multi_mapping_reverse() {
        let map = multi();
        assert_eq!(map.map_with("/dest/1", true), "/source/tree/a");
        assert_eq!(map.map_with("/dest/2/test", true), "/source/tree/b/test");
        assert_eq!(
            map.map_with("/dest/1/a/b/c/d", true),
            "/source/tree/a/a/b/c/d"
        );
        assert_eq!(map.map_with("/dest/foo/1/test", true), "/source/foo/a/test");
        assert_eq!(map.map_with("/test/flop", true), "/dest/foo/1/top/flop");
    }

    #[test]
    fn invalid_links() {
        assert!(PathMapping::links(["/a"]).is_err());
        assert!(PathMapping::links(["a=/b"]).is_err());
        assert!(PathMapping::links(["/a=b"]).is_err());
        let later_wins = PathMapping::links(["/a=/b", "/a=/c"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(later_wins.map("/a/x"), "/c/x");
    }

    /// WorkspaceFilterTest.testMapping1
    #[test]
    fn workspace_filter_mapping_1() {
        let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/tmp/stage/products")]);
        let map = PathMapping::Replace {
            strip: "/tmp/stage".into(),
            with: "/content/geometrixx/en".into(),
        };
        let mapped = filter.translate(&map);
        assert!(!mapped.contains("/content/geometrixx/en"));
        assert!(mapped.contains("/content/geometrixx/en/products"));
    }

    /// WorkspaceFilterTest.testMapping2
    #[test]
    fn workspace_filter_mapping_2() {
        let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/tmp/stage")
            .with_rule(rule(true, "/tmp/stage/products(/.*)?"))
            .with_rule(rule(false, "/tmp/stage/products/triangle(/.*)?"))
            .with_rule(rule(false, ".*/foo"))]);
        let map = PathMapping::Replace {
            strip: "/tmp/stage".into(),
            with: "/content/geometrixx/en".into(),
        };
        let mapped = filter.translate(&map);
        assert!(!mapped.contains("/content/geometrixx/en"));
        assert!(mapped.contains("/content/geometrixx/en/products"));
        assert!(!mapped.contains("/content/geometrixx/en/products/triangle"));
        assert!(!mapped.contains("/content/geometrixx/en/products/foo"));
        // Relative patterns are kept as they are.
        assert_eq!(mapped.sets[0].rules[2].pattern.as_str(), ".*/foo");
    }

    #[test]
    fn links_translate_roots_and_patterns_segment_wise() {
        let filter = WorkspaceFilter::with_sets(vec![FilterSet::new("/tmp")
            .with_rule(rule(true, "/tmp/foo/.*"))
            .with_rule(rule(true, "/tmp/foo(/.*)?"))
            .with_rule(rule(true, r"\Q/tmp/foo\E"))]);
        let map = PathMapping::links(["/tmp/foo=/tmp/mapped", "/tmp=/x"])
            .unwrap_or_else(|e| panic!("{e}"));
        let mapped = filter.translate(&map);
        assert_eq!(mapped.sets[0].root(), "/x");
        let patterns: Vec<&str> = mapped.sets[0]
            .rules
            .iter()
            .map(|r| r.pattern.as_str())
            .collect();
        assert_eq!(patterns, ["/x/foo/.*", "/x/foo(/.*)?", r"/\Q/tmp/foo\E"]);
    }

    #[test]
    fn at_prefixes_every_root_and_absolute_pattern() {
        let filter = WorkspaceFilter::with_sets(vec![
            FilterSet::new("/").with_rule(rule(true, "/tmp(/.*)?")),
            FilterSet::new("/tmp/a")
                .with_rule(rule(true, r"\Q/tmp/a\E.*"))
                .with_rule(rule(false, ".*/x")),
        ]);
        let mapped = filter.translate(&PathMapping::at("/testroot/"));
        assert_eq!(mapped.sets[0].root(), "/testroot");
        assert_eq!(
            mapped.sets[0].rules[0].pattern.as_str(),
            "/testroot/tmp(/.*)?"
        );
        assert_eq!(mapped.sets[1].root(), "/testroot/tmp/a");
        assert_eq!(
            mapped.sets[1].rules[0].pattern.as_str(),
            r"/testroot\Q/tmp/a\E.*"
        );
        assert_eq!(mapped.sets[1].rules[1].pattern.as_str(), ".*/x");
        assert!(mapped.contains("/testroot/tmp/a/b"));
        assert!(!mapped.contains("/testroot"));
        assert!(mapped.is_ancestor("/testroot"));
        assert_eq!(filter.translate(&PathMapping::at("/")), filter);
        assert!(mapped.source_bytes().is_none());
    }

    #[test]
    fn translated_loaded_filters_keep_locations_and_stay_valid() {
        let filter = WorkspaceFilter::parse(
            b"<workspaceFilter><filter root=\"/a\"><include pattern=\"/a/b\"/></filter></workspaceFilter>",
            "filter.xml",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mapped = filter.translate(&PathMapping::at("/x"));
        assert_eq!(mapped.sets[0].location, filter.sets[0].location);
        assert_eq!(mapped.sets[0].written_root.as_deref(), Some("/x/a"));
        assert!(mapped.issues().is_empty(), "{:?}", mapped.issues());
    }
}
