//! Reading one light-module YAML file as Magnolia reads it, with positions.
//!
//! saphyr-parser supplies events with line and column markers; everything Magnolia's
//! snakeyaml setup decides is done here:
//!
//! * plain scalars are typed with YAML 1.1 rules ([`super::yaml11`]);
//! * a key that repeats in one mapping is an error (snakeyaml's default keeps the last
//!   one silently; jcrpack refuses the silent data loss). Keys are compared after
//!   typing, so `yes:` and `true:`, or `0:` and `00:`, are the same key, as for Magnolia;
//! * the merge key `<<` merges a mapping (or a sequence of mappings) under the keys
//!   written beside it, as snakeyaml does;
//! * aliases are expanded, bounded as snakeyaml bounds them (at most 50 aliases to
//!   collections per file, `LoaderOptions.maxAliasesForCollections`) and by a total node
//!   budget, so a "billion laughs" file is refused instead of filling memory;
//! * nesting is bounded ([`MAX_DEPTH`]), so no later recursion over the tree can
//!   overflow the stack;
//! * tags: YAML's own (`!!str`, `!!int`, ...) retype a scalar; Magnolia's directives
//!   (`!include`, `!include:/m/p.yaml`, `!inherit:id`, `!override`, `!content-type:name`)
//!   are kept on the node for the checks and the resolver; any other tag is an error,
//!   as snakeyaml has no constructor for it;
//! * a file with more than one document is an error (snakeyaml's `load` wants one);
//! * tabs in indentation, bad indentation and every other syntax error come from the
//!   parser with its position.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use super::yaml11::{resolve_plain, Typed};

/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 128;
/// snakeyaml's default `maxAliasesForCollections`.
pub const MAX_COLLECTION_ALIASES: usize = 50;
/// Most nodes one file may expand to (after aliases).
pub const MAX_NODES: usize = 1_000_000;

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
            column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

/// A Magnolia directive written as a YAML tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// `!include:/module/path.yaml` (5.5.6 and later): the included content, with this
    /// node's own keys laid over it.
    Include(String),
    /// `!include /module/path.yaml` (5.4 form): the scalar is the path.
    IncludeOld,
    /// `!inherit:<definition id>`: extend a registered definition (root only).
    Inherit(String),
    /// `!override`: replace the included or inherited subtree instead of merging.
    Override,
    /// `!content-type:<name>`: an app generated from a content type (root of an app).
    ContentType(String),
}

/// One node of a YAML file.
#[derive(Debug, Clone, PartialEq)]
pub struct YNode {
    /// Where the node starts.
    pub pos: Pos,
    /// A Magnolia directive tag on the node.
    pub directive: Option<Directive>,
    /// The node's content.
    pub value: YValue,
}

/// The content of a [`YNode`].
#[derive(Debug, Clone, PartialEq)]
pub enum YValue {
    /// A scalar: its text and its YAML 1.1 type.
    Scalar(String, Typed),
    /// A sequence.
    Seq(Vec<YNode>),
    /// A mapping, in file order (merge keys applied, duplicates removed: last wins).
    Map(Vec<(YNode, YNode)>),
}

impl YNode {
    /// The scalar's text when this is a scalar.
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            YValue::Scalar(t, _) => Some(t),
            _ => None,
        }
    }

    /// The mapping entries when this is a mapping.
    pub fn as_map(&self) -> Option<&[(YNode, YNode)]> {
        match &self.value {
            YValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value of key `name` when this is a mapping that has it.
    pub fn get(&self, name: &str) -> Option<&YNode> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v)
    }

    fn size(&self) -> usize {
        match &self.value {
            YValue::Scalar(..) => 1,
            YValue::Seq(items) => 1 + items.iter().map(YNode::size).sum::<usize>(),
            YValue::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// What reading found wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlProblem {
    /// Where.
    pub pos: Pos,
    /// True for errors, false for warnings.
    pub error: bool,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// A read file: its root node (none when the file is empty or could not be read) and
/// the problems found. The tree is usable even with non-fatal problems.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct YamlDoc {
    /// The document's root.
    pub root: Option<YNode>,
    /// Problems, in file order.
    pub problems: Vec<YamlProblem>,
    /// True when reading stopped early (syntax error or a limit); the tree is then
    /// missing or partial.
    pub fatal: bool,
}

enum Frame {
    Seq {
        pos: Pos,
        directive: Option<Directive>,
        anchor: usize,
        items: Vec<YNode>,
    },
    Map {
        pos: Pos,
        directive: Option<Directive>,
        anchor: usize,
        entries: Vec<(YNode, YNode)>,
        index: HashMap<Typed, usize>,
        key: Option<YNode>,
        merges: Vec<YNode>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (YNode, usize)>,
    nodes: usize,
    collection_aliases: usize,
    root: Option<YNode>,
    documents: usize,
    problems: Vec<YamlProblem>,
}

/// Reads `text` as one YAML document, Magnolia's way (see the module documentation).
pub fn read(text: &str) -> YamlDoc {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        collection_aliases: 0,
        root: None,
        documents: 0,
        problems: Vec::new(),
    };
    // The parser is a dependency: should it ever panic on hostile input, the file is
    // reported as unreadable instead of taking the process down.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.run(text)));
    let fatal = match outcome {
        Ok(Ok(())) => false,
        Ok(Err(p)) => {
            b.problems.push(p);
            true
        }
        Err(_) => {
            b.problems.push(fatal(
                Pos::default(),
                "the YAML parser failed on this file",
                "check the file for unusual characters or structure",
            ));
            true
        }
    };
    YamlDoc {
        root: if fatal { None } else { b.root },
        problems: b.problems,
        fatal,
    }
}

fn fatal(pos: Pos, message: impl Into<String>, fix: impl Into<String>) -> YamlProblem {
    YamlProblem {
        pos,
        error: true,
        message: message.into(),
        fix: fix.into(),
    }
}

fn scan_error(e: &ScanError) -> YamlProblem {
    let m = e.marker();
    let info = e.info();
    let fix = if info.contains("tab") {
        "indent with spaces: YAML forbids tabs in indentation"
    } else {
        "correct the YAML syntax at this position"
    };
    YamlProblem {
        pos: Pos {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        },
        error: true,
        message: format!("YAML syntax error: {info}"),
        fix: fix.into(),
    }
}

/// What a tag means for a node: a directive, a forced core type, or nothing.
enum TagMeaning {
    None,
    Directive(Directive),
    Core(&'static str),
}

fn tag_meaning(tag: Option<&Tag>, pos: Pos) -> Result<TagMeaning, YamlProblem> {
    let Some(tag) = tag else {
        return Ok(TagMeaning::None);
    };
    if tag.is_yaml_core_schema() {
        const CORE: [&str; 11] = [
            "str",
            "int",
            "float",
            "bool",
            "null",
            "map",
            "seq",
            "timestamp",
            "binary",
            "omap",
            "set",
        ];
        return match CORE.iter().find(|c| **c == tag.suffix) {
            Some(c) => Ok(TagMeaning::Core(c)),
            None => Err(fatal(
                pos,
                format!("unknown YAML tag !!{}", tag.suffix),
                "remove the tag; snakeyaml has no constructor for it",
            )),
        };
    }
    if tag.handle == "!" {
        let s = tag.suffix.as_str();
        let d = if s == "include" {
            Some(Directive::IncludeOld)
        } else if let Some(p) = s.strip_prefix("include:") {
            Some(Directive::Include(p.to_owned()))
        } else if let Some(id) = s.strip_prefix("inherit:") {
            Some(Directive::Inherit(id.to_owned()))
        } else if s == "override" {
            Some(Directive::Override)
        } else {
            s.strip_prefix("content-type:")
                .map(|n| Directive::ContentType(n.to_owned()))
        };
        if let Some(d) = d {
            return Ok(TagMeaning::Directive(d));
        }
    }
    Err(fatal(
        pos,
        format!("unknown tag {}{}", tag.handle, tag.suffix),
        "Magnolia knows !include:/module/path.yaml, !inherit:module:id, !override and !content-type:name; check the spelling",
    ))
}

fn typed_scalar(text: &str, style: ScalarStyle, core: Option<&'static str>) -> Typed {
    match core {
        Some("str") | Some("binary") => Typed::Str(text.to_owned()),
        Some("null") => Typed::Null,
        Some(_) => match resolve_plain(text) {
            Typed::Str(s) => Typed::Str(s),
            t => t,
        },
        None if style == ScalarStyle::Plain => resolve_plain(text),
        None => Typed::Str(text.to_owned()),
    }
}

impl Builder {
    fn run(&mut self, text: &str) -> Result<(), YamlProblem> {
        let mut parser = Parser::new_from_str(text);
        loop {
            let (event, span) = match parser.next_event() {
                None => return Ok(()),
                Some(Err(e)) => return Err(scan_error(&e)),
                Some(Ok(x)) => x,
            };
            let pos = Pos::of(&span);
            match event {
                Event::StreamEnd => return Ok(()),
                Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(fatal(
                            pos,
                            "more than one YAML document in the file",
                            "keep one document per definition file (remove the second `---`)",
                        ));
                    }
                }
                Event::Alias(id) => {
                    let Some((node, size)) = self.anchors.get(&id).cloned() else {
                        return Err(fatal(
                            pos,
                            "alias to an unknown anchor",
                            "define the anchor (&name) before the alias (*name)",
                        ));
                    };
                    if !matches!(node.value, YValue::Scalar(..)) {
                        self.collection_aliases += 1;
                        if self.collection_aliases > MAX_COLLECTION_ALIASES {
                            return Err(fatal(
                                pos,
                                format!(
                                    "more than {MAX_COLLECTION_ALIASES} aliases to collections (snakeyaml's limit, against alias bombs)"
                                ),
                                "use !include:/module/path.yaml for shared fragments instead of many aliases",
                            ));
                        }
                    }
                    self.count(size, pos)?;
                    let mut node = node;
                    node.pos = pos;
                    self.complete(node)?;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let (directive, core) = match tag_meaning(tag.as_deref(), pos)? {
                        TagMeaning::None => (None, None),
                        TagMeaning::Directive(d) => (Some(d), None),
                        TagMeaning::Core(c) => (None, Some(c)),
                    };
                    let typed = if directive.is_some() {
                        Typed::Str(value.to_string())
                    } else {
                        typed_scalar(&value, style, core)
                    };
                    self.count(1, pos)?;
                    let node = YNode {
                        pos,
                        directive,
                        value: YValue::Scalar(value.into_owned(), typed),
                    };
                    if anchor != 0 {
                        self.anchors.insert(anchor, (node.clone(), 1));
                    }
                    self.complete(node)?;
                }
                Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(fatal(
                            pos,
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                            "flatten the structure; no Magnolia definition nests this deep",
                        ));
                    }
                    let directive = match tag_meaning(tag.as_deref(), pos)? {
                        TagMeaning::Directive(d) => Some(d),
                        _ => None,
                    };
                    self.count(1, pos)?;
                    self.stack.push(if is_map {
                        Frame::Map {
                            pos,
                            directive,
                            anchor,
                            entries: Vec::new(),
                            index: HashMap::new(),
                            key: None,
                            merges: Vec::new(),
                        }
                    } else {
                        Frame::Seq {
                            pos,
                            directive,
                            anchor,
                            items: Vec::new(),
                        }
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        return Err(fatal(
                            pos,
                            "unbalanced collection end",
                            "correct the YAML syntax",
                        ));
                    };
                    let (node, anchor) = match frame {
                        Frame::Seq {
                            pos,
                            directive,
                            anchor,
                            items,
                        } => (
                            YNode {
                                pos,
                                directive,
                                value: YValue::Seq(items),
                            },
                            anchor,
                        ),
                        Frame::Map {
                            pos,
                            directive,
                            anchor,
                            mut entries,
                            mut index,
                            merges,
                            ..
                        } => {
                            apply_merges(&mut entries, &mut index, merges);
                            (
                                YNode {
                                    pos,
                                    directive,
                                    value: YValue::Map(entries),
                                },
                                anchor,
                            )
                        }
                    };
                    if anchor != 0 {
                        let size = node.size();
                        self.anchors.insert(anchor, (node.clone(), size));
                    }
                    self.complete(node)?;
                }
            }
        }
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), YamlProblem> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(fatal(
                pos,
                format!("the file expands to more than {MAX_NODES} nodes"),
                "a definition file this large is an alias bomb or a mistake; split it",
            ));
        }
        Ok(())
    }

    fn complete(&mut self, node: YNode) -> Result<(), YamlProblem> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                index,
                key,
                merges,
                ..
            }) => {
                let Some(k) = key.take() else {
                    *key = Some(node);
                    return Ok(());
                };
                let id = key_identity(&k);
                if id == Typed::Merge && k.directive.is_none() {
                    merges.push(node);
                    return Ok(());
                }
                if let Some(&at) = index.get(&id) {
                    let first = entries[at].0.pos;
                    self.problems.push(YamlProblem {
                        pos: k.pos,
                        error: true,
                        message: format!(
                            "duplicate key '{}' (first at line {}); Magnolia would keep only this last one",
                            k.as_text().unwrap_or("?"),
                            first.line
                        ),
                        fix: "remove or rename one of the two keys".into(),
                    });
                    entries[at] = (k, node);
                } else {
                    if let YValue::Scalar(text, t) = &k.value {
                        if let Some(problem) = key_typing_problem(text, t, k.pos) {
                            self.problems.push(problem);
                        }
                    }
                    index.insert(id, entries.len());
                    entries.push((k, node));
                }
                Ok(())
            }
        }
    }
}

/// The identity of a key for duplicate detection: its YAML 1.1 value for scalars.
fn key_identity(k: &YNode) -> Typed {
    match &k.value {
        YValue::Scalar(_, t) => t.clone(),
        other => Typed::Str(format!("{other:?}")),
    }
}

/// A plain key that YAML 1.1 reads as something else than the text written.
fn key_typing_problem(text: &str, t: &Typed, pos: Pos) -> Option<YamlProblem> {
    let seen = match t {
        Typed::Bool(_) | Typed::Int(_) | Typed::Float(_) | Typed::Null => t.as_text(),
        _ => return None,
    };
    if seen == text {
        return None;
    }
    Some(YamlProblem {
        pos,
        error: false,
        message: format!(
            "key '{text}' is the {} {} in YAML 1.1 (Magnolia reads it as '{seen}')",
            t.type_name(),
            if seen.is_empty() { "null" } else { &seen }
        ),
        fix: format!("quote the key: '{text}':"),
    })
}

/// snakeyaml's merge: keys of the merged mappings that the mapping does not set itself
/// are added; among several merged mappings the earlier one wins.
fn apply_merges(
    entries: &mut Vec<(YNode, YNode)>,
    index: &mut HashMap<Typed, usize>,
    merges: Vec<YNode>,
) {
    for m in merges {
        let sources: Vec<YNode> = match m.value {
            YValue::Seq(items) => items,
            _ => vec![m],
        };
        for source in sources {
            if let YValue::Map(more) = source.value {
                for (k, v) in more {
                    let id = key_identity(&k);
                    if let std::collections::hash_map::Entry::Vacant(e) = index.entry(id) {
                        e.insert(entries.len());
                        entries.push((k, v));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> YNode {
        let doc = read(text);
        assert!(!doc.fatal, "{:?}", doc.problems);
        doc.root.expect("a root")
    }

    #[test]
    fn positions_are_one_based() {
        let root = ok("a: 1\nb:\n  c: x\n");
        let b = root.get("b").unwrap();
        let c = b.get("c").unwrap();
        assert_eq!(c.pos, Pos { line: 3, column: 6 });
    }

    #[test]
    fn duplicate_keys_are_found_after_yaml_1_1_typing() {
        let doc = read("a: 1\nyes: 2\nb: 3\ntrue: 4\n0: x\n00: y\n");
        let dups: Vec<_> = doc
            .problems
            .iter()
            .filter(|p| p.message.starts_with("duplicate key"))
            .collect();
        assert_eq!(dups.len(), 2, "{:?}", doc.problems);
        assert_eq!(dups[0].pos.line, 4);
        assert_eq!(dups[1].pos.line, 6);
        // the last one wins, as in snakeyaml
        assert_eq!(
            doc.root.unwrap().as_map().unwrap()[1].1.as_text(),
            Some("4")
        );
    }

    #[test]
    fn boolean_keys_are_warned_about() {
        let doc = read("on: x\n'off': y\n");
        assert_eq!(doc.problems.len(), 1);
        assert!(!doc.problems[0].error);
        assert!(doc.problems[0].message.contains("bool"));
    }

    #[test]
    fn magnolia_directives_are_kept() {
        let root = ok("!inherit:mtk:pages/basic\nfields: !include:/m/includes/f.yaml\nold: !include /m/x.yaml\nform: !override\n  a: 1\n");
        assert_eq!(
            root.directive,
            Some(Directive::Inherit("mtk:pages/basic".into()))
        );
        assert_eq!(
            root.get("fields").unwrap().directive,
            Some(Directive::Include("/m/includes/f.yaml".into()))
        );
        let old = root.get("old").unwrap();
        assert_eq!(old.directive, Some(Directive::IncludeOld));
        assert_eq!(old.as_text(), Some("/m/x.yaml"));
        assert_eq!(
            root.get("form").unwrap().directive,
            Some(Directive::Override)
        );
    }

    #[test]
    fn unknown_tags_are_errors() {
        let doc = read("a: !foo bar\n");
        assert!(doc.fatal);
        assert!(doc.problems[0].message.contains("unknown tag !foo"));
        let doc = read("a: !!python/object x\n");
        assert!(doc.fatal);
    }

    #[test]
    fn core_tags_retype() {
        let root = ok("a: !!str 123\nb: !!int '7'\n");
        assert_eq!(
            root.get("a").unwrap().value,
            YValue::Scalar("123".into(), Typed::Str("123".into()))
        );
        assert_eq!(
            root.get("b").unwrap().value,
            YValue::Scalar("7".into(), Typed::Int("7".into()))
        );
    }

    #[test]
    fn merge_keys_merge_under_explicit_keys() {
        let root = ok("base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  y: 3\n");
        let u = root.get("use").unwrap();
        assert_eq!(u.get("x").unwrap().as_text(), Some("1"));
        assert_eq!(u.get("y").unwrap().as_text(), Some("3"));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let mut prev = "a";
        for n in names {
            text.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n;
        }
        let doc = read(&text);
        assert!(doc.fatal);
        // refused by the node budget or the alias limit, whichever comes first
        let m = &doc.problems[0].message;
        assert!(
            m.contains("aliases") || m.contains("nodes"),
            "{:?}",
            doc.problems
        );
    }

    #[test]
    fn doubling_within_the_alias_limit_hits_the_node_budget() {
        let mut text = String::from("a0: &a0 [x, x]\n");
        for i in 1..25 {
            text.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
        }
        let doc = read(&text);
        assert!(doc.fatal);
        assert!(
            doc.problems[0].message.contains("nodes"),
            "{:?}",
            doc.problems
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let text = "[".repeat(10_000);
        let doc = read(&text);
        assert!(doc.fatal);
    }

    #[test]
    fn tabs_and_syntax_errors_have_positions() {
        let doc = read("a:\n\tb: 1\n");
        assert!(doc.fatal);
        assert_eq!(doc.problems[0].pos.line, 2);
        let doc = read("a: [1, 2\n");
        assert!(doc.fatal);
    }

    #[test]
    fn two_documents_are_refused() {
        let doc = read("a: 1\n---\nb: 2\n");
        assert!(doc.fatal);
        assert!(doc.problems[0].message.contains("more than one"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn any_text_reads_without_panic(s in "\\PC{0,200}") {
            let _ = read(&s);
        }
        #[test]
        fn yaml_like_text_reads_without_panic(s in "[ a-z0-9:&*!\\-\\[\\]{},'\"#\n\t<>|?~.]{0,160}") {
            let _ = read(&s);
        }
    }

    #[test]
    fn hostile_bytes_never_panic() {
        for text in [
            "",
            "\u{0}",
            "&a *a",
            "*a",
            "? [a]\n: b",
            "a: &x\n  b: *x\n",
            "- !include\n",
            "!!",
            "{{{{",
            "\"\\u",
        ] {
            let _ = read(text);
        }
    }
}
