//! Tests of Java pattern translation: FileVault's `DefaultPathFilterTest` vectors,
//! then Java syntax details and the refused constructs.

use super::*;

fn pattern(source: &str) -> Pattern {
    match Pattern::new(source) {
        Ok(p) => p,
        Err(e) => panic!("{source}: {e}"),
    }
}

fn check(source: &str, path: &str, expected: bool) {
    let p = pattern(source);
    assert_eq!(
        p.is_match(path),
        expected,
        "'{source}' matches '{path}' (translated: {})",
        p.translated()
    );
}

fn error(source: &str) -> PatternError {
    match Pattern::new(source) {
        Ok(p) => panic!("{source} compiled to {}", p.translated()),
        Err(e) => e,
    }
}

fn syntax_error(source: &str) -> (String, usize) {
    let e = error(source);
    match e.kind {
        PatternErrorKind::Syntax(reason) => (reason, e.index),
        other => panic!("{source}: expected a syntax error, got {other:?}"),
    }
}

fn unsupported(source: &str) -> String {
    let e = error(source);
    match e.kind {
        PatternErrorKind::Unsupported(construct) => construct,
        other => panic!("{source}: expected unsupported, got {other:?}"),
    }
}

// ----- DefaultPathFilterTest -----

#[test]
fn default_path_filter_exact() {
    check(r"/foo\.bar", "/foo.bar", true);
    check(r"/foo\.bar", "/foo_bar", false);
}

#[test]
fn default_path_filter_files() {
    check(r"/foo/bar\.[^/]*$", "/foo/bar.txt", true);
    check(r"/foo/bar\.[^/]*$", "/foo/bar.zip", true);
    check(r"/foo/bar\.[^/]*$", "/foo/bar1.txt", false);
    check(r"/foo/bar.[^/]*$", "/foo/bar.dir/readme", false);
    check(r"^.*/bar\.[^/]*$", "/foo/bar.txt", true);
    check(r"^.*/bar\.[^/]*$", "/foo/bar1.txt", false);
    check(r"^.*/bar\.[^/]*$", "/foo/bar.dir/readme", false);
    check(r"^.*/bar\.[^/]*$", "foobar.txt", false);
}

#[test]
fn default_path_filter_children() {
    check("/foo/[^/]*$", "/foo/bar", true);
    check("/foo/[^/]*$", "/foo/bar/readme", false);
    check("/foo/.*", "/foo/bar", true);
    check("/foo/.*", "/foo/bar/readme.txt", true);
    check("/foo/.*", "/bar/bar/readme.txt", false);
    check("/foo(/.*)?", "/foo", true);
    check("/foo(/.*)?", "/foo/bar/readme.txt", true);
    check("/foo(/.*)?", "/foobar", false);
    check("/foo(/.*)?", "/foobar/foo", false);
}

#[test]
fn default_path_filter_quoted() {
    // Pattern.quote("/some(loaded/path")
    let quoted = r"\Q/some(loaded/path\E";
    check(quoted, "/some(loaded/path", true);
    assert!(pattern(quoted).is_absolute());
}

#[test]
fn default_path_filter_invalid() {
    let (reason, index) = syntax_error("[");
    assert_eq!(reason, "unclosed character class");
    assert_eq!(index, 1);
}

// ----- absolute / relative (2.3, JCRVLT-500) -----

#[test]
fn absolute_and_relative_patterns() {
    assert!(is_absolute("/foo/.*"));
    assert!(is_absolute(r"\Q/foo\E.*"));
    assert!(!is_absolute(".*/foo"));
    assert!(!is_absolute(r"\Qfoo\E"));
    assert!(!is_absolute("^/foo"));
    assert!(!is_absolute("(/foo)"));
}

// ----- full-match semantics -----

#[test]
fn whole_path_must_match() {
    check("/foo", "/foo/bar", false);
    check("/foo", "/x/foo", false);
    check("a|ab", "ab", true);
    check("ab|a", "ab", true);
    check("/a|/b", "/b", true);
    check("", "", true);
    check("", "/", false);
}

// ----- \Q...\E -----

#[test]
fn quoting() {
    check(r"\Q/a.b\E", "/a.b", true);
    check(r"\Q/a.b\E", "/aXb", false);
    check(r"\Q/a\E.*", "/a/b", true);
    // \Q without \E quotes to the end.
    check(r"/x\Q[*", "/x[*", true);
    // A backslash inside a quote is literal.
    check(r"\Qa\b\E", "a\\b", true);
    // Quoted sections inside classes are rewritten too (the JDK does it before parsing).
    check(r"[\Q-]\E]", "-", true);
    check(r"[\Q-]\E]", "]", true);
    // An escaped backslash before Q is not a quote start.
    check(r"\\Q", "\\Q", true);
    // Unicode inside quotes.
    check(r"\Q/é(\E", "/é(", true);
}

// ----- dot, anchors, line terminators -----

#[test]
fn dot_excludes_java_line_terminators() {
    for term in ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"] {
        check("a.b", &format!("a{term}b"), false);
        check("(?s)a.b", &format!("a{term}b"), true);
    }
    check("(?d)a.b", "a\rb", true);
    check("(?d)a.b", "a\nb", false);
    check("a.b", "a\u{1F600}b", true);
}

#[test]
fn anchors() {
    check("^/a$", "/a", true);
    check(r"\A/a\z", "/a", true);
    check(r"/a\Z", "/a", true);
    check("^*/a", "/a", true);
}

#[test]
fn word_boundaries_are_ascii_unless_unicode_classes() {
    check(r".*\bfoo\b.*", "/a/foo/b", true);
    check(r".*\bfoo\b.*", "/a/xfoo/b", false);
    // é is not an ASCII word character, so there is a boundary between é and f.
    check(r".*\bfoo", "éfoo", true);
    check(r"(?U).*\bfoo", "éfoo", false);
    check(r"a\Bb", "ab", true);
}

// ----- predefined classes -----

#[test]
fn predefined_classes_are_ascii() {
    check(r"\d+", "0123456789", true);
    check(r"\d", "٣", false); // ARABIC-INDIC DIGIT THREE
    check(r"(?U)\d", "٣", true);
    check(r"\w+", "az_AZ09", true);
    check(r"\w", "é", false);
    check(r"(?U)\w", "é", true);
    check(r"\s", "\u{0B}", true);
    check(r"\s", "\u{A0}", false);
    check(r"\S\D\W", "xx-", true);
    check(r"\h\v", "\t\n", true);
    check(r"\H\V", "ab", true);
}

#[test]
fn properties() {
    check(r"\p{Lu}\p{Ll}", "Ab", true);
    check(r"\pL+", "Ωé", true);
    check(r"\p{IsLatin}+", "abé", true);
    check(r"\p{IsGreek}", "a", false);
    check(r"\p{sc=Greek}", "Ω", true);
    check(r"\p{Alpha}", "é", false);
    check(r"(?U)\p{Alpha}", "é", true);
    check(r"\P{Digit}", "x", true);
    check(r"[\p{Digit}a]+", "1a2", true);
    check(r"\p{javaLowerCase}", "ß", true);
    check(r"\p{IsAlphabetic}", "ß", true);
}

// ----- character classes -----

#[test]
fn classes() {
    check("[abc]", "b", true);
    check("[^abc]", "b", false);
    check("[^abc]", "/", true);
    check("[a-c]", "b", true);
    check("[a-]", "-", true);
    check("[-a]", "-", true);
    check("[]a]", "]", true);
    check("[^]a]", "]", false);
    check("[a^]", "^", true);
    check(r"[\d-z]", "-", true);
    check(r"[\d-z]", "5", true);
    check(r"[\d-z]", "y", false);
    check(r"[\x41-\x43]", "B", true);
    check(r"[\u00e9]", "é", true);
    check("[a&b]", "&", true);
    check("[.*+?]", "*", true);
    check("[.]", "x", false);
}

#[test]
fn class_union_intersection_negation() {
    // Nested classes are unions.
    check("[a[bc]]", "c", true);
    check("[a-z&&[def]]", "e", true);
    check("[a-z&&[def]]", "a", false);
    check("[a-z&&[^bc]]", "a", true);
    check("[a-z&&[^bc]]", "b", false);
    check("[a-z&&def]", "d", true);
    check("[a-z&&def]", "g", false);
    // Since JDK 9 '^' negates the whole class, nested classes included.
    check("[^a[b]]", "b", false);
    check("[^a[b]]", "c", true);
    check("[^a-z&&[aeiou]]", "e", false);
    check("[^a-z&&[aeiou]]", "b", true);
    // Empty intersection never matches.
    check("[a&&b]", "a", false);
    check("[&&a]", "a", true);
    check("[a&&]", "a", true);
}

#[test]
fn case_insensitivity() {
    check("(?i)/Content", "/cONTENT", true);
    check("(?i)é", "É", false); // ASCII-only without (?u)
    check("(?iu)é", "É", true);
    check("(?i)[a-c]+", "AbC", true);
    check("(?i)[^a]", "A", false);
    check("(?i)[é]", "É", false);
    check("(?iu)[é]", "É", true);
    check("(?i:a)b", "Ab", true);
    check("(?i:a)b", "AB", false);
    check("a(?i)b", "aB", true);
    check("(a(?i)b)c", "aBc", true);
    check("(a(?i)b)c", "aBC", false);
    check("(?i)(?-i)a", "A", false);
    // Java compares toLowerCase(toUpperCase(c)): the dotless ı matches i, the Kelvin
    // sign matches k, but predefined classes are never folded.
    check("(?iu)i", "\u{131}", true);
    check("(?iu)k", "\u{212A}", true);
    check("(?iu)[h-j]", "\u{130}", true);
    check("(?iu)\\w", "\u{212A}", false);
    check("(?i)\\p{Lu}", "a", true);
    check("(?i)\\p{Lower}", "A", true);
    check("(?i)\\p{Lower}", "é", false);
}

#[test]
fn comments_mode() {
    check("(?x) /a  # comment\n /b", "/a/b", true);
    check("(?x)[a b]", "b", true);
    check("(?x)[a b]", " ", false);
    check(r"(?x)a\ b", "a b", true);
}

// ----- escapes -----

#[test]
fn escapes() {
    check(r"\t\n\r\f\a\e", "\t\n\r\u{c}\u{7}\u{1b}", true);
    check(r"\x41\x{1F600}\u00e9", "A\u{1F600}é", true);
    check(r"\uD83D\uDE00", "\u{1F600}", true);
    check(r"\0101\011\0377", "A\t\u{ff}", true);
    check(r"\cA", "\u{1}", true);
    check(
        r"\.\/\-\[\]\{\}\(\)\*\+\?\|\^\$\\",
        r"./-[]{}()*+?|^$\",
        true,
    );
    check(r"[\v]", "\u{b}", true);
    check(r"[\v-\v]", "\u{b}", true);
}

#[test]
fn lone_surrogates_match_nothing() {
    check(r"a\uD800?", "a", true);
    check(r"[\uD800-\uDFFFa]", "a", true);
}

// ----- groups and quantifiers -----

#[test]
fn groups_and_quantifiers() {
    check("(?:ab)+", "abab", true);
    check("(?<name>ab){2}", "abab", true);
    check("a{2,3}", "aaa", true);
    check("a{2,3}", "aaaa", false);
    check("a{2,}", "aaaaa", true);
    check("a{0}", "", true);
    check("a*?b+?c??", "aabc", true);
    check("a{1,2}?", "a", true);
    // Dangling ']' and '}' are literals.
    check("a]}", "a]}", true);
    // Java accepts a counted repetition of an empty atom.
    check("a{2}{3}", "aa", true);
    check("{2}a", "a", true);
}

// ----- errors -----

#[test]
fn syntax_errors_like_the_jdk() {
    assert_eq!(syntax_error("*a").0, "dangling meta character '*'");
    assert_eq!(syntax_error("a**").0, "dangling meta character '*'");
    assert_eq!(syntax_error("(?i)*").0, "dangling meta character '*'");
    assert!(syntax_error("/a{foo}").0.starts_with("illegal repetition"));
    assert_eq!(syntax_error("a{2").0, "unclosed counted closure");
    assert_eq!(syntax_error("a{3,2}").0, "illegal repetition range");
    assert_eq!(syntax_error("(ab").0, "unclosed group");
    assert_eq!(syntax_error("ab)").0, "unmatched closing ')'");
    assert_eq!(syntax_error("[b-a]").0, "illegal character range");
    assert_eq!(syntax_error("[]").0, "unclosed character class");
    assert_eq!(syntax_error(r"\y").0, "illegal/unsupported escape sequence");
    assert_eq!(syntax_error(r"\E").0, "illegal/unsupported escape sequence");
    assert_eq!(
        syntax_error(r"[\b]").0,
        "illegal/unsupported escape sequence"
    );
    assert_eq!(
        syntax_error(r"\x4").0,
        "illegal hexadecimal escape sequence"
    );
    assert_eq!(syntax_error(r"\u12").0, "illegal Unicode escape sequence");
    assert_eq!(syntax_error(r"\09").0, "illegal octal escape sequence");
    assert_eq!(
        syntax_error(r"\p{Nope}").0,
        "unknown character property name {Nope}"
    );
    assert_eq!(syntax_error(r"\p{Lu").0, "unclosed character family");
    assert_eq!(syntax_error(r"\p{}").0, "empty character family");
    assert_eq!(syntax_error("(?z)").0, "unknown inline modifier");
    assert_eq!(
        syntax_error("(?<a>x)(?<a>y)").0,
        "named capturing group <a> is already defined"
    );
    assert!(syntax_error("a\\").0.contains("'\\'"));
    // Java fails at match time here (NullPointerException); jcrpack refuses it.
    assert!(syntax_error("[[a]b&&]").0.contains("'&&'"));
}

#[test]
fn error_index_points_into_the_written_pattern() {
    // After \Q...\E removal the index still refers to the original text.
    let (_, index) = syntax_error(r"\Q/a\E(");
    assert_eq!(index, 7);
    let (_, index) = syntax_error("/content/**");
    assert_eq!(index, 10);
    // `/content/*` is legal Java: "/content" followed by any number of '/'.
    check("/content/*", "/content//", true);
}

#[test]
fn unsupported_constructs_are_named() {
    assert!(unsupported("/a(?=b)").contains("lookahead"));
    assert!(unsupported("/a(?!b)").contains("negative lookahead"));
    assert!(unsupported("(?<=a)b").contains("lookbehind"));
    assert!(unsupported("(?<!a)b").contains("negative lookbehind"));
    assert!(unsupported(r"(a)\1").contains("back-reference"));
    assert!(unsupported(r"(?<n>a)\k<n>").contains("back-reference"));
    assert!(unsupported("a*+").contains("possessive"));
    assert!(unsupported("a++").contains("possessive"));
    assert!(unsupported("a?+").contains("possessive"));
    assert!(unsupported("a{2}+").contains("possessive"));
    assert!(unsupported("(?>a)").contains("atomic"));
    assert!(unsupported(r"\G").contains("\\G"));
    assert!(unsupported(r"a\R").contains("\\R"));
    assert!(unsupported(r"\X").contains("\\X"));
    assert!(unsupported(r"\p{InGreek}").contains("block"));
    assert!(unsupported("(?c)a").contains("canonical"));
    let e = error("/a(?=b)");
    assert!(e.to_string().contains("'/a(?=b)'"), "{e}");
    assert_eq!(e.index, 2, "group errors point at the '('");
}

#[test]
fn pathological_patterns_are_errors_not_hangs() {
    let e = error("(a{1000}){1000}");
    assert!(matches!(e.kind, PatternErrorKind::TooComplex(_)), "{e:?}");
    let deep = format!("{}a{}", "(".repeat(500), ")".repeat(500));
    let e = error(&deep);
    assert!(matches!(e.kind, PatternErrorKind::TooComplex(_)), "{e:?}");
    let deep_class = format!("{}a{}", "[".repeat(500), "]".repeat(500));
    assert!(matches!(
        error(&deep_class).kind,
        PatternErrorKind::TooComplex(_)
    ));
    // Classic catastrophic-backtracking shapes run in linear time.
    let p = pattern("(a+)+b");
    assert!(!p.is_match(&"a".repeat(10_000)));
}

#[test]
fn can_match_at_or_below_root() {
    assert_eq!(pattern("/a/b.*").can_match_at_or_below("/tmp"), Some(false));
    assert_eq!(
        pattern("/tmp/a(/.*)?").can_match_at_or_below("/tmp"),
        Some(true)
    );
    assert_eq!(pattern("/tmp").can_match_at_or_below("/tmp"), Some(true));
    assert_eq!(pattern(".*/foo").can_match_at_or_below("/tmp"), Some(true));
    assert_eq!(
        pattern("/tmpfoo").can_match_at_or_below("/tmp"),
        Some(false)
    );
    assert_eq!(pattern("/.*").can_match_at_or_below("/"), Some(true));
    assert_eq!(pattern("/tm").can_match_at_or_below("/tmp"), Some(false));
}

#[test]
fn equality_is_by_source() {
    assert_eq!(pattern("/a"), pattern("/a"));
    assert_ne!(pattern("/a"), pattern("/a(/.*)?"));
    assert_eq!(format!("{:?}", pattern("/a")), "Pattern(\"/a\")");
}
