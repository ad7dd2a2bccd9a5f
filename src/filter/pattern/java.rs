//! Translation of `java.util.regex` syntax into `regex`-crate syntax.
//!
//! FileVault compiles every filter pattern with `Pattern.compile(pattern)` (no flags)
//! and tests paths with `Matcher.matches()`. Users write Java syntax, so this module
//! reads a pattern the way the JDK parser does (same acceptance rules, same error
//! cases, same quirks such as `\Q...\E` being rewritten before parsing, dangling `]`
//! and `}` being literals, `{` that does not start a counted repetition being an
//! error, and Java's character-class operators) and writes an equivalent expression
//! for the `regex` crate. Java semantics that differ from the `regex` crate are
//! spelled out explicitly: `.` excludes all five Java line terminators, `\d \s \w \b`
//! are ASCII unless `(?U)` is on (`\b` as in JDK 19+), `(?i)` folds ASCII only, and
//! `(?iu)` uses Java's `toLowerCase(toUpperCase(c))` relation (see the `case` module).
//! The `fixtures/filter/RegexOracle.java` differential test checks all of this against
//! a real JDK when one is installed.
//!
//! Constructs the `regex` crate cannot express (look-around, back-references,
//! possessive quantifiers, atomic groups, `\G`, `\R`, `\X`, Unicode blocks, ...) are
//! reported as [`PatternErrorKind::Unsupported`] naming the construct, but only when
//! the rest of the pattern is valid: everything the JDK rejects is a
//! [`PatternErrorKind::Syntax`] error with the JDK's description and the index of the
//! offending character.

use super::case;
use super::property;
use super::{PatternError, PatternErrorKind};

/// A class expression that matches nothing (Rust has no empty `[]`).
pub(super) const NEVER: &str = r"[^\x{0}-\x{10FFFF}]";
/// Java's `.` without `(?s)`: anything but `\n`, `\r`, U+0085, U+2028, U+2029.
const DOT: &str = r"[^\x{A}\x{D}\x{85}\x{2028}\x{2029}]";
/// Java's `.` with `(?d)` (UNIX_LINES): anything but `\n`.
const UNIX_DOT: &str = r"[^\x{A}]";
/// `\h`: horizontal white space.
const HORIZ: &str = r"[\x{20}\x{9}\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]";
/// `\v`: vertical white space.
const VERT: &str = r"[\x{A}-\x{D}\x{85}\x{2028}\x{2029}]";

/// How deeply groups and classes may nest before the pattern is refused (protects the
/// recursive parser and the `regex` crate's own nesting limit).
const MAX_DEPTH: usize = 200;

/// `Pattern.MAX_REPS`: the upper bound Java uses for `*`, `+` and `{n,}`.
const MAX_REPS: i32 = 0x7FFF_FFFF;

/// The inline flags of `java.util.regex.Pattern` that change parsing or matching.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Flags {
    /// `i`: CASE_INSENSITIVE.
    pub(super) case_insensitive: bool,
    /// `m`: MULTILINE.
    pub(super) multiline: bool,
    /// `s`: DOTALL.
    pub(super) dotall: bool,
    /// `d`: UNIX_LINES.
    pub(super) unix_lines: bool,
    /// `u`: UNICODE_CASE.
    pub(super) unicode_case: bool,
    /// `x`: COMMENTS.
    pub(super) comments: bool,
    /// `U`: UNICODE_CHARACTER_CLASS.
    pub(super) unicode_class: bool,
}

/// What an escape sequence stands for.
pub(super) enum Escape {
    /// A single code point (may be a lone surrogate written as `\uD800`).
    Char(u32),
    /// A character class, as a `regex` class expression.
    Class(String),
    /// A zero-width assertion, as a `regex` expression.
    Assertion(String),
}

/// Translates `source` (Java syntax) into a `regex` crate expression that matches the
/// same strings. The result is not anchored; the caller anchors it for full matching.
pub(super) fn translate(source: &str) -> Result<String, PatternError> {
    let (chars, origin) = remove_qe_quoting(source);
    let mut parser = Parser {
        source,
        len: chars.len(),
        chars,
        origin,
        cursor: 0,
        flags: Flags::default(),
        depth: 0,
        named_groups: Vec::new(),
        bits: Vec::new(),
        capturing: 0,
        unsupported: None,
    };
    let out = parser.expr()?;
    if parser.cursor != parser.len {
        if parser.peek() == u32::from(')') {
            return Err(parser.syntax("unmatched closing ')'"));
        }
        return Err(parser.syntax_at(
            parser.len,
            "unexpected end of pattern (a trailing '\\' escapes nothing)",
        ));
    }
    match parser.unsupported {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

/// Java rewrites every `\Q...\E` section into backslash-escaped characters before it
/// parses a pattern (`Pattern.RemoveQEQuoting`); this does the same, remembering for
/// every resulting character the index of the source character it came from.
fn remove_qe_quoting(source: &str) -> (Vec<u32>, Vec<usize>) {
    let src: Vec<u32> = source.chars().map(u32::from).collect();
    let len = src.len();
    let at = |i: usize| src.get(i).copied().unwrap_or(0);
    let backslash = u32::from('\\');
    let mut i = 0;
    while i + 1 < len {
        if at(i) != backslash {
            i += 1;
        } else if at(i + 1) != u32::from('Q') {
            i += 2;
        } else {
            break;
        }
    }
    if i + 1 >= len {
        return (src.clone(), (0..len).collect());
    }
    let mut chars: Vec<u32> = src[..i].to_vec();
    let mut origin: Vec<usize> = (0..i).collect();
    i += 2;
    let mut in_quote = true;
    while i < len {
        let c = at(i);
        let here = i;
        i += 1;
        let ascii = c < 0x80;
        let alnum = ascii && char::from_u32(c).is_some_and(|ch| ch.is_ascii_alphanumeric());
        if !ascii || alnum {
            chars.push(c);
            origin.push(here);
        } else if c != backslash {
            if in_quote {
                chars.push(backslash);
                origin.push(here);
            }
            chars.push(c);
            origin.push(here);
        } else if in_quote {
            if at(i) == u32::from('E') {
                i += 1;
                in_quote = false;
            } else {
                chars.push(backslash);
                origin.push(here);
                chars.push(backslash);
                origin.push(here);
            }
        } else if at(i) == u32::from('Q') {
            i += 1;
            in_quote = true;
        } else {
            chars.push(c);
            origin.push(here);
            if i != len {
                chars.push(at(i));
                origin.push(i);
                i += 1;
            }
        }
    }
    (chars, origin)
}

/// Recursive-descent reader of one Java pattern; the method structure follows the
/// JDK's parser so that the same inputs are accepted and rejected.
pub(super) struct Parser<'s> {
    /// The pattern as the user wrote it (for error messages).
    pub(super) source: &'s str,
    /// The pattern after `\Q...\E` removal, as code points.
    pub(super) chars: Vec<u32>,
    /// For each entry of `chars`, the index of the source character it came from.
    pub(super) origin: Vec<usize>,
    /// `chars.len()`.
    pub(super) len: usize,
    /// Index of the current character; may run past the end like the JDK's cursor.
    pub(super) cursor: usize,
    /// The flags in effect at the cursor.
    pub(super) flags: Flags,
    /// Current nesting of groups and classes.
    pub(super) depth: usize,
    /// Names of the named groups seen so far (duplicates are an error in Java).
    pub(super) named_groups: Vec<String>,
    /// The single-character sets of all classes, see `class::ClassNode::Bits`.
    pub(super) bits: Vec<Vec<String>>,
    /// Capturing groups opened so far (Java numbers back-references by them).
    pub(super) capturing: usize,
    /// The first construct Java accepts but the `regex` crate cannot evaluate. It is
    /// reported only after the whole pattern has parsed, because a syntax error
    /// anywhere in the pattern is what the JDK reports.
    pub(super) unsupported: Option<PatternError>,
}

pub(super) fn ch(c: char) -> u32 {
    u32::from(c)
}

pub(super) fn is_ascii_space(c: u32) -> bool {
    matches!(c, 0x20 | 0x09..=0x0D)
}

pub(super) fn is_ascii_digit(c: u32) -> bool {
    (0x30..=0x39).contains(&c)
}

pub(super) fn is_ascii_letter(c: u32) -> bool {
    (0x41..=0x5A).contains(&c) || (0x61..=0x7A).contains(&c)
}

pub(super) fn hex_value(c: u32) -> Option<u32> {
    char::from_u32(c).and_then(|c| c.to_digit(16))
}

pub(super) fn is_surrogate(c: u32) -> bool {
    (0xD800..=0xDFFF).contains(&c)
}

/// Java's `ASCII.toLower` / `ASCII.toUpper`: only `A-Z`/`a-z` change.
pub(super) fn ascii_swap_case(c: u32) -> Option<u32> {
    if (0x41..=0x5A).contains(&c) {
        Some(c + 0x20)
    } else if (0x61..=0x7A).contains(&c) {
        Some(c - 0x20)
    } else {
        None
    }
}

/// One code point as a `regex` literal that is valid both inside and outside a class.
pub(super) fn lit(c: u32) -> String {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() || ch == '/' || ch == '_' => ch.to_string(),
        Some(_) => format!("\\x{{{c:X}}}"),
        None => NEVER.to_string(),
    }
}

impl Parser<'_> {
    // ----- character access, mirroring the JDK cursor discipline -----

    /// The code point at `i`, or 0 past the end (the JDK pads with zeros).
    pub(super) fn at(&self, i: usize) -> u32 {
        self.chars.get(i).copied().unwrap_or(0)
    }

    pub(super) fn at_end(&self) -> bool {
        self.cursor >= self.len
    }

    pub(super) fn is_line_separator(&self, c: u32) -> bool {
        if self.flags.unix_lines {
            c == 0x0A
        } else {
            c == 0x0A || c == 0x0D || c == 0x85 || c == 0x2028 || c == 0x2029
        }
    }

    pub(super) fn peek(&mut self) -> u32 {
        let c = self.at(self.cursor);
        if self.flags.comments {
            self.peek_past_whitespace(c)
        } else {
            c
        }
    }

    pub(super) fn read(&mut self) -> u32 {
        let c = self.at(self.cursor);
        self.cursor += 1;
        if self.flags.comments {
            self.parse_past_whitespace(c)
        } else {
            c
        }
    }

    pub(super) fn next(&mut self) -> u32 {
        self.cursor += 1;
        let c = self.at(self.cursor);
        if self.flags.comments {
            self.peek_past_whitespace(c)
        } else {
            c
        }
    }

    pub(super) fn next_escaped(&mut self) -> u32 {
        self.cursor += 1;
        self.at(self.cursor)
    }

    pub(super) fn skip(&mut self) -> u32 {
        let c = self.at(self.cursor + 1);
        self.cursor += 2;
        c
    }

    pub(super) fn unread(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub(super) fn peek_past_whitespace(&mut self, mut c: u32) -> u32 {
        while is_ascii_space(c) || c == ch('#') {
            while is_ascii_space(c) {
                self.cursor += 1;
                c = self.at(self.cursor);
            }
            if c == ch('#') {
                self.cursor += 1;
                c = self.at(self.cursor);
                while c != 0 && !self.is_line_separator(c) {
                    self.cursor += 1;
                    c = self.at(self.cursor);
                }
            }
        }
        c
    }

    pub(super) fn parse_past_whitespace(&mut self, mut c: u32) -> u32 {
        while is_ascii_space(c) || c == ch('#') {
            while is_ascii_space(c) {
                c = self.at(self.cursor);
                self.cursor += 1;
            }
            if c == ch('#') {
                c = self.at(self.cursor);
                self.cursor += 1;
                while c != 0 && !self.is_line_separator(c) {
                    c = self.at(self.cursor);
                    self.cursor += 1;
                }
            }
        }
        c
    }

    pub(super) fn accept(&mut self, expected: char, message: &str) -> Result<(), PatternError> {
        let mut c = self.at(self.cursor);
        self.cursor += 1;
        if self.flags.comments {
            c = self.parse_past_whitespace(c);
        }
        if c != ch(expected) {
            return Err(self.syntax(message));
        }
        Ok(())
    }

    // ----- errors -----

    /// The source index for a position in `chars` (the end maps to the source end).
    pub(super) fn source_index(&self, pos: usize) -> usize {
        match self.origin.get(pos) {
            Some(&i) => i,
            None => self.source.chars().count(),
        }
    }

    /// A syntax error reported, like the JDK, at the character before the cursor.
    pub(super) fn syntax(&self, message: &str) -> PatternError {
        self.syntax_at(self.cursor.saturating_sub(1), message)
    }

    pub(super) fn syntax_at(&self, pos: usize, message: &str) -> PatternError {
        PatternError {
            pattern: self.source.to_string(),
            index: self.source_index(pos),
            kind: PatternErrorKind::Syntax(message.to_string()),
        }
    }

    /// Notes an unsupported construct just before the cursor; parsing goes on.
    pub(super) fn unsupported(&mut self, construct: &str) {
        self.unsupported_at(self.cursor.saturating_sub(1), construct);
    }

    /// Notes an unsupported construct at `pos` unless an earlier one was noted.
    pub(super) fn unsupported_at(&mut self, pos: usize, construct: &str) {
        if self.unsupported.is_none() {
            self.unsupported = Some(PatternError {
                pattern: self.source.to_string(),
                index: self.source_index(pos),
                kind: PatternErrorKind::Unsupported(construct.to_string()),
            });
        }
    }

    pub(super) fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PatternError {
                pattern: self.source.to_string(),
                index: self.source_index(self.cursor),
                kind: PatternErrorKind::TooComplex(format!(
                    "groups and classes nest more than {MAX_DEPTH} levels deep"
                )),
            });
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- expressions -----

    /// Alternatives separated by `|`.
    pub(super) fn expr(&mut self) -> Result<String, PatternError> {
        let mut out = self.sequence()?;
        while self.peek() == ch('|') {
            self.next();
            out.push('|');
            out.push_str(&self.sequence()?);
        }
        Ok(out)
    }

    /// A sequence of (possibly quantified) atoms up to `|`, `)` or the end.
    pub(super) fn sequence(&mut self) -> Result<String, PatternError> {
        let mut out = String::new();
        loop {
            let c = self.peek();
            let node = match char::from_u32(c).unwrap_or('\u{0}') {
                '(' => {
                    // A group applies its own quantifier; a flag-only group yields nothing.
                    if let Some(group) = self.group()? {
                        out.push_str(&group);
                    }
                    continue;
                }
                '[' => {
                    let class = self.class(true)?;
                    self.render_class_node(&class)
                }
                '\\' => {
                    let e = self.next_escaped();
                    if e == ch('p') || e == ch('P') {
                        let node = self.property_after_p(e == ch('P'))?;
                        self.render_class_node(&node)
                    } else {
                        self.unread();
                        self.atom()?
                    }
                }
                '^' => {
                    self.next();
                    if self.flags.multiline {
                        "(?m:^)".to_string()
                    } else {
                        "^".to_string()
                    }
                }
                '$' => {
                    self.next();
                    if self.flags.multiline {
                        "(?m:$)".to_string()
                    } else {
                        "$".to_string()
                    }
                }
                '.' => {
                    self.next();
                    if self.flags.dotall {
                        "(?s:.)".to_string()
                    } else if self.flags.unix_lines {
                        UNIX_DOT.to_string()
                    } else {
                        DOT.to_string()
                    }
                }
                '|' | ')' => break,
                '?' | '*' | '+' => {
                    self.next();
                    let message = format!(
                        "dangling meta character '{}'",
                        char::from_u32(c).unwrap_or('?')
                    );
                    return Err(self.syntax(&message));
                }
                '\u{0}' if self.at_end() => break,
                _ => self.atom()?,
            };
            let node = self.closure(node)?;
            out.push_str(&node);
        }
        Ok(out)
    }

    /// One literal character or escape (Java reads runs of these as a "slice"; one at
    /// a time is equivalent). A `{` here starts an empty atom, as in the JDK.
    pub(super) fn atom(&mut self) -> Result<String, PatternError> {
        let c = self.peek();
        if c == ch('{') {
            return Ok(String::new());
        }
        if c == ch('\\') {
            return match self.escape(false, false)? {
                Escape::Char(value) => Ok(self.literal(value)),
                Escape::Class(expr) => Ok(expr),
                Escape::Assertion(expr) => Ok(expr),
            };
        }
        self.next();
        Ok(self.literal(c))
    }

    /// A literal code point under the current case-insensitivity flags.
    pub(super) fn literal(&self, c: u32) -> String {
        if is_surrogate(c) {
            return NEVER.to_string();
        }
        if self.flags.case_insensitive {
            return self.single_class(c);
        }
        lit(c)
    }

    /// Java's `single(c)` as a class: under `(?i)` the ASCII other case, under
    /// `(?iu)` every character with the same lower case of its upper case.
    pub(super) fn single_class(&self, c: u32) -> String {
        let mut set = vec![c];
        if self.flags.case_insensitive {
            if self.flags.unicode_case {
                set = case::single_set(c);
            } else if let Some(other) = ascii_swap_case(c) {
                set.push(other);
            }
        }
        let items: String = set
            .into_iter()
            .filter(|&x| !is_surrogate(x))
            .map(lit)
            .collect();
        format!("[{items}]")
    }

    /// Applies a following `?`, `*`, `+` or `{n,m}` to `node`.
    pub(super) fn closure(&mut self, node: String) -> Result<String, PatternError> {
        let c = self.peek();
        let (min, max) = if c == ch('?') {
            self.next();
            (0, 1)
        } else if c == ch('*') {
            self.next();
            (0, MAX_REPS)
        } else if c == ch('+') {
            self.next();
            (1, MAX_REPS)
        } else if c == ch('{') {
            let first = self.at(self.cursor + 1);
            if !is_ascii_digit(first) {
                // Report at the '{'.
                self.cursor += 1;
                return Err(self.syntax(
                    "illegal repetition: '{' must start a counted repetition such as {2} or {1,3}",
                ));
            }
            self.skip();
            let mut digit = first;
            let mut min: i32 = 0;
            loop {
                min = match min
                    .checked_mul(10)
                    .and_then(|m| m.checked_add((digit - ch('0')) as i32))
                {
                    Some(value) => value,
                    None => return Err(self.syntax("illegal repetition range")),
                };
                digit = self.read();
                if !is_ascii_digit(digit) {
                    break;
                }
            }
            let mut max = min;
            if digit == ch(',') {
                digit = self.read();
                max = MAX_REPS;
                if digit != ch('}') {
                    max = 0;
                    while is_ascii_digit(digit) {
                        max = match max
                            .checked_mul(10)
                            .and_then(|m| m.checked_add((digit - ch('0')) as i32))
                        {
                            Some(value) => value,
                            None => return Err(self.syntax("illegal repetition range")),
                        };
                        digit = self.read();
                    }
                }
            }
            if digit != ch('}') {
                return Err(self.syntax("unclosed counted closure"));
            }
            if (min | max | max.wrapping_sub(min)) < 0 {
                return Err(self.syntax("illegal repetition range"));
            }
            // The suffix check below reads with peek(), like the JDK.
            return self.quantified(node, min, max, true);
        } else {
            return Ok(node);
        };
        self.quantified(node, min, max, false)
    }

    /// Reads an optional lazy (`?`) or possessive (`+`) suffix and writes the quantifier.
    pub(super) fn quantified(
        &mut self,
        node: String,
        min: i32,
        max: i32,
        counted: bool,
    ) -> Result<String, PatternError> {
        let suffix = self.peek();
        let lazy = if suffix == ch('?') {
            self.next();
            true
        } else if suffix == ch('+') {
            self.next();
            self.unsupported("possessive quantifier (e.g. '*+', '++', '?+')");
            false
        } else {
            false
        };
        let quantifier = match (min, max, counted) {
            (0, 1, false) => "?".to_string(),
            (0, MAX_REPS, false) => "*".to_string(),
            (1, MAX_REPS, false) => "+".to_string(),
            (n, MAX_REPS, _) => format!("{{{n},}}"),
            (n, m, _) if n == m => format!("{{{n}}}"),
            (n, m, _) => format!("{{{n},{m}}}"),
        };
        Ok(format!(
            "(?:{node}){quantifier}{}",
            if lazy { "?" } else { "" }
        ))
    }

    // ----- groups and flags -----

    /// A group starting at `(`. Returns `None` for a pure flag group such as `(?i)`,
    /// whose flags stay in effect until the enclosing group ends.
    pub(super) fn group(&mut self) -> Result<Option<String>, PatternError> {
        self.enter()?;
        let saved = self.flags;
        let open = self.cursor;
        let c = self.next();
        let body = if c == ch('?') {
            let kind = self.skip();
            match char::from_u32(kind).unwrap_or('\u{0}') {
                ':' => self.expr()?,
                '=' => {
                    self.unsupported_at(open, "lookahead '(?=...)'");
                    self.expr()?
                }
                '!' => {
                    self.unsupported_at(open, "negative lookahead '(?!...)'");
                    self.expr()?
                }
                '>' => {
                    self.unsupported_at(open, "atomic group '(?>...)'");
                    self.expr()?
                }
                '<' => {
                    let first = self.read();
                    if is_ascii_letter(first) {
                        let name = self.group_name(first)?;
                        if self.named_groups.contains(&name) {
                            return Err(self.syntax(&format!(
                                "named capturing group <{name}> is already defined"
                            )));
                        }
                        self.named_groups.push(name);
                        self.capturing += 1;
                        self.expr()?
                    } else if first == ch('=') {
                        self.unsupported_at(open, "lookbehind '(?<=...)'");
                        self.expr()?
                    } else if first == ch('!') {
                        self.unsupported_at(open, "negative lookbehind '(?<!...)'");
                        self.expr()?
                    } else {
                        return Err(self.syntax("unknown look-behind group"));
                    }
                }
                '$' | '@' => return Err(self.syntax("unknown group type")),
                _ => {
                    self.unread();
                    self.add_flags()?;
                    let after = self.read();
                    if after == ch(')') {
                        self.leave();
                        return Ok(None);
                    }
                    if after != ch(':') {
                        return Err(self.syntax("unknown inline modifier"));
                    }
                    self.expr()?
                }
            }
        } else {
            self.capturing += 1;
            self.expr()?
        };
        self.accept(')', "unclosed group")?;
        self.flags = saved;
        let node = self.closure(format!("(?:{body})"))?;
        self.leave();
        Ok(Some(node))
    }

    /// The name of a named group after `(?<` (ASCII letters and digits up to `>`).
    pub(super) fn group_name(&mut self, first: u32) -> Result<String, PatternError> {
        let mut name = String::new();
        name.push(char::from_u32(first).unwrap_or('?'));
        let mut c = self.read();
        while is_ascii_letter(c) || is_ascii_digit(c) {
            name.push(char::from_u32(c).unwrap_or('?'));
            c = self.read();
        }
        if c != ch('>') {
            return Err(self.syntax("named capturing group is missing trailing '>'"));
        }
        Ok(name)
    }

    /// Reads `idmsuxU` flags, optionally followed by `-` and flags to turn off.
    pub(super) fn add_flags(&mut self) -> Result<(), PatternError> {
        let mut on = true;
        let mut c = self.peek();
        loop {
            let value = on;
            match char::from_u32(c).unwrap_or('\u{0}') {
                'i' => self.flags.case_insensitive = value,
                'm' => self.flags.multiline = value,
                's' => self.flags.dotall = value,
                'd' => self.flags.unix_lines = value,
                'u' => self.flags.unicode_case = value,
                'x' => self.flags.comments = value,
                'U' => {
                    self.flags.unicode_class = value;
                    self.flags.unicode_case = value;
                }
                'c' if value => {
                    let at = self.cursor;
                    self.unsupported_at(at, "canonical equivalence flag '(?c)'");
                }
                'c' => {}
                '-' if on => on = false,
                _ => return Ok(()),
            }
            c = self.next();
        }
    }

    // ----- escapes -----

    /// Reads an escape sequence; the cursor is on the backslash. `in_class` and
    /// `is_range_end`... follow the JDK: some escapes are illegal inside classes and
    /// `\v` means U+000B where a range endpoint is expected.
    pub(super) fn escape(
        &mut self,
        in_class: bool,
        is_range: bool,
    ) -> Result<Escape, PatternError> {
        let c = self.skip();
        if self.cursor > self.len {
            return Err(self.syntax_at(self.len, "unexpected end of pattern after '\\'"));
        }
        let ascii_only = !self.flags.unicode_class;
        let illegal = |p: &Self| p.syntax("illegal/unsupported escape sequence");
        let e = match char::from_u32(c).unwrap_or('\u{0}') {
            '0' => Escape::Char(self.octal()?),
            '1'..='9' if !in_class => {
                self.back_reference(c - ch('0'));
                Escape::Assertion(String::new())
            }
            'A' if !in_class => Escape::Assertion(r"\A".to_string()),
            'B' if !in_class => Escape::Assertion(if ascii_only {
                r"(?-u:\B)".to_string()
            } else {
                r"\B".to_string()
            }),
            'D' => Escape::Class(format!("[^{}]", self.digit_class())),
            'G' if !in_class => {
                self.unsupported("end-of-previous-match anchor '\\G'");
                Escape::Assertion(String::new())
            }
            'H' => Escape::Class(format!("[^{HORIZ}]")),
            'N' => {
                self.named_character()?;
                Escape::Char(0)
            }
            'R' if !in_class => {
                self.unsupported("linebreak matcher '\\R'");
                Escape::Assertion(String::new())
            }
            'S' => Escape::Class(format!("[^{}]", self.space_class())),
            'V' => Escape::Class(format!("[^{VERT}]")),
            'W' => Escape::Class(format!("[^{}]", self.word_class())),
            'X' if !in_class => {
                self.unsupported("grapheme cluster '\\X'");
                Escape::Assertion(String::new())
            }
            // Java's `\Z` ignores MULTILINE.
            'Z' if !in_class => Escape::Assertion("$".to_string()),
            'a' => Escape::Char(0x07),
            'b' if !in_class => {
                if self.peek() == ch('{') && self.at(self.cursor + 1) == ch('g') {
                    self.skip();
                    if self.read() != ch('}') {
                        return Err(illegal(self));
                    }
                    self.unsupported("grapheme boundary '\\b{g}'");
                    return Ok(Escape::Assertion(String::new()));
                }
                Escape::Assertion(if ascii_only {
                    r"(?-u:\b)".to_string()
                } else {
                    r"\b".to_string()
                })
            }
            'c' => {
                if self.at_end() {
                    return Err(self.syntax("illegal control escape sequence"));
                }
                Escape::Char(self.read() ^ 64)
            }
            'd' => Escape::Class(self.digit_class()),
            'e' => Escape::Char(0x1B),
            'f' => Escape::Char(0x0C),
            'h' => Escape::Class(HORIZ.to_string()),
            'k' if !in_class => {
                let at = self.cursor.saturating_sub(2);
                if self.read() != ch('<') {
                    return Err(self.syntax("\\k is not followed by '<' for named capturing group"));
                }
                let first = self.read();
                let name = self.group_name(first)?;
                if !self.named_groups.contains(&name) {
                    return Err(
                        self.syntax(&format!("named capturing group <{name}> does not exist"))
                    );
                }
                self.unsupported_at(at, "named back-reference '\\k<name>'");
                Escape::Assertion(String::new())
            }
            'n' => Escape::Char(0x0A),
            'r' => Escape::Char(0x0D),
            's' => Escape::Class(self.space_class()),
            't' => Escape::Char(0x09),
            'u' => Escape::Char(self.unicode_escape()?),
            'v' => {
                if is_range {
                    Escape::Char(0x0B)
                } else {
                    Escape::Class(VERT.to_string())
                }
            }
            'w' => Escape::Class(self.word_class()),
            'x' => Escape::Char(self.hex_escape()?),
            'z' if !in_class => Escape::Assertion(r"\z".to_string()),
            other if other.is_ascii_alphabetic() || other.is_ascii_digit() => {
                return Err(illegal(self))
            }
            _ => Escape::Char(c),
        };
        Ok(e)
    }

    /// `\n`: Java takes further digits while they name an existing group.
    pub(super) fn back_reference(&mut self, first: u32) {
        let at = self.cursor.saturating_sub(2);
        let mut number = first as usize;
        loop {
            let c = self.peek();
            if !is_ascii_digit(c) {
                break;
            }
            let longer = number * 10 + (c - ch('0')) as usize;
            if longer > self.capturing {
                break;
            }
            number = longer;
            self.read();
        }
        self.unsupported_at(at, "back-reference (e.g. '\\1')");
    }

    /// `\N{NAME}`: checked for shape; the names themselves cannot be looked up.
    pub(super) fn named_character(&mut self) -> Result<(), PatternError> {
        let at = self.cursor.saturating_sub(2);
        if self.read() != ch('{') {
            return Err(self.syntax("illegal character name escape sequence"));
        }
        loop {
            if self.cursor >= self.len {
                return Err(self.syntax_at(self.len, "unclosed character name escape sequence"));
            }
            if self.read() == ch('}') {
                break;
            }
        }
        self.unsupported_at(at, "named character '\\N{...}'");
        Ok(())
    }

    pub(super) fn digit_class(&self) -> String {
        if self.flags.unicode_class {
            r"\p{Nd}".to_string()
        } else {
            "[0-9]".to_string()
        }
    }

    pub(super) fn space_class(&self) -> String {
        if self.flags.unicode_class {
            r"\p{White_Space}".to_string()
        } else {
            r"[\x{9}-\x{D}\x{20}]".to_string()
        }
    }

    pub(super) fn word_class(&self) -> String {
        if self.flags.unicode_class {
            property::UNICODE_WORD.to_string()
        } else {
            "[0-9A-Za-z_]".to_string()
        }
    }

    /// `\0n`, `\0nn`, `\0mnn` (m <= 3).
    pub(super) fn octal(&mut self) -> Result<u32, PatternError> {
        let is_oct = |c: u32| (ch('0')..=ch('7')).contains(&c);
        let n = self.read();
        if !is_oct(n) {
            return Err(self.syntax("illegal octal escape sequence"));
        }
        let m = self.read();
        if !is_oct(m) {
            self.unread();
            return Ok(n - ch('0'));
        }
        let o = self.read();
        if is_oct(o) && n <= ch('3') {
            return Ok((n - ch('0')) * 64 + (m - ch('0')) * 8 + (o - ch('0')));
        }
        self.unread();
        Ok((n - ch('0')) * 8 + (m - ch('0')))
    }

    /// `\xhh` or `\x{h...h}`.
    pub(super) fn hex_escape(&mut self) -> Result<u32, PatternError> {
        let n = self.read();
        if let Some(high) = hex_value(n) {
            let m = self.read();
            if let Some(low) = hex_value(m) {
                return Ok(high * 16 + low);
            }
        } else if n == ch('{') && hex_value(self.peek()).is_some() {
            let mut value: u32 = 0;
            let mut c = self.read();
            while let Some(digit) = hex_value(c) {
                value = (value << 4) + digit;
                if value > 0x10FFFF {
                    return Err(self.syntax("hexadecimal codepoint is too big"));
                }
                c = self.read();
            }
            if c != ch('}') {
                return Err(self.syntax("unclosed hexadecimal escape sequence"));
            }
            return Ok(value);
        }
        Err(self.syntax("illegal hexadecimal escape sequence"))
    }

    /// `\uhhhh`, combining an escaped surrogate pair into one code point.
    pub(super) fn unicode_escape(&mut self) -> Result<u32, PatternError> {
        let n = self.four_hex()?;
        if (0xD800..=0xDBFF).contains(&n) {
            let saved = self.cursor;
            if self.read() == ch('\\') && self.read() == ch('u') {
                let low = self.four_hex()?;
                if (0xDC00..=0xDFFF).contains(&low) {
                    return Ok(0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00));
                }
            }
            self.cursor = saved;
        }
        Ok(n)
    }

    pub(super) fn four_hex(&mut self) -> Result<u32, PatternError> {
        let mut n = 0;
        for _ in 0..4 {
            let c = self.read();
            match hex_value(c) {
                Some(d) => n = n * 16 + d,
                None => return Err(self.syntax("illegal Unicode escape sequence")),
            }
        }
        Ok(n)
    }
}
