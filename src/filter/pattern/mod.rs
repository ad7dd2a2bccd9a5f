//! Filter patterns: Java regular expressions matched against a whole path.
//!
//! FileVault matches every include/exclude pattern with `Matcher.matches()`, so a
//! pattern must describe the entire absolute path (`/content/site(/.*)?`), and `^`/`$`
//! are redundant. A [`Pattern`] keeps the text the user wrote and a compiled
//! translation for the `regex` crate (see the `java` submodule for what is translated
//! and what is refused). Compilation has size limits, so a pathological pattern is an
//! error instead of a slow or huge automaton; matching is linear in the path length.

mod case;
mod class;
mod java;
mod property;

use std::fmt;

/// Upper bound for the compiled program of one pattern (bytes).
const SIZE_LIMIT: usize = 2 << 20;
/// Upper bound for the lazy DFA cache of one pattern (bytes).
const DFA_SIZE_LIMIT: usize = 4 << 20;

/// What is wrong with a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternErrorKind {
    /// Java itself rejects the pattern; the text is the reason (as the JDK words it).
    Syntax(String),
    /// Java accepts the pattern, but it uses a construct the `regex` crate cannot
    /// evaluate (look-around, back-references, possessive quantifiers, atomic groups,
    /// `\G`, `\R`, `\X`, Unicode blocks, ...); the text names the construct.
    Unsupported(String),
    /// The pattern is too large or too deeply nested to compile within the limits.
    TooComplex(String),
}

/// A pattern that could not be compiled, with the character index (0-based, in the
/// pattern as written) where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PatternError {
    /// The pattern as written in `filter.xml`.
    pub pattern: String,
    /// 0-based character index in `pattern` of the offending construct.
    pub index: usize,
    /// The reason.
    pub kind: PatternErrorKind,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PatternErrorKind::Syntax(reason) => write!(
                f,
                "pattern '{}' is not a valid Java regular expression: {} (at index {})",
                self.pattern, reason, self.index
            ),
            PatternErrorKind::Unsupported(construct) => write!(
                f,
                "pattern '{}' uses {} (at index {}), which FileVault accepts but jcrpack \
                 cannot evaluate; rewrite the pattern without it",
                self.pattern, construct, self.index
            ),
            PatternErrorKind::TooComplex(reason) => write!(
                f,
                "pattern '{}' is too complex to compile: {}",
                self.pattern, reason
            ),
        }
    }
}

/// A compiled filter pattern.
///
/// Two patterns are equal when their texts are equal (as in FileVault).
#[derive(Clone)]
pub struct Pattern {
    source: String,
    translated: String,
    regex: regex::Regex,
}

impl Pattern {
    /// Compiles a Java regular expression for whole-path matching.
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        let body = java::translate(source)?;
        let translated = format!(r"\A(?:{body})\z");
        let regex = regex::RegexBuilder::new(&translated)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .nest_limit(1000)
            .build()
            .map_err(|e| PatternError {
                pattern: source.to_string(),
                index: 0,
                kind: match e {
                    regex::Error::CompiledTooBig(limit) => PatternErrorKind::TooComplex(format!(
                        "the compiled form exceeds {limit} bytes (large counted repetitions?)"
                    )),
                    other => PatternErrorKind::TooComplex(format!(
                        "the regex engine rejected the translated expression: {other}"
                    )),
                },
            })?;
        Ok(Pattern {
            source: source.to_string(),
            translated,
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The equivalent `regex`-crate expression (anchored at both ends); for debugging.
    pub fn translated(&self) -> &str {
        &self.translated
    }

    /// Whether the pattern matches the whole of `path` (Java `Matcher.matches()`).
    pub fn is_match(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }

    /// Whether the pattern is *absolute*: it starts with `/` or with a quoted `\Q/`
    /// (JCRVLT-500). Only absolute patterns are translated by a path mapping, and a
    /// filter set whose rules are all relative includes is exported specially.
    pub fn is_absolute(&self) -> bool {
        is_absolute(&self.source)
    }

    /// Whether some path equal to `root` or below it (`root/...`) can match.
    /// `None` when the question cannot be decided (the automaton gave up).
    ///
    /// Used to find rules that can never apply within their filter root, such as
    /// `<filter root="/tmp"><include pattern="/a/b.*"/></filter>`.
    pub fn can_match_at_or_below(&self, root: &str) -> Option<bool> {
        use regex_automata::hybrid::dfa::DFA;
        use regex_automata::{Anchored, Input};
        let dfa = DFA::builder()
            .configure(DFA::config().cache_capacity(DFA_SIZE_LIMIT))
            .build(&self.translated)
            .ok()?;
        let mut cache = dfa.create_cache();
        let input = Input::new(root).anchored(Anchored::Yes);
        let mut state = dfa.start_state_forward(&mut cache, &input).ok()?;
        for &byte in root.as_bytes() {
            state = dfa.next_state(&mut cache, state, byte).ok()?;
            if state.is_dead() {
                return Some(false);
            }
            if state.is_quit() {
                return None;
            }
        }
        let at_root = dfa.next_eoi_state(&mut cache, state).ok()?;
        if at_root.is_match() {
            return Some(true);
        }
        let separator = if root.ends_with('/') {
            None
        } else {
            Some(b'/')
        };
        if let Some(byte) = separator {
            state = dfa.next_state(&mut cache, state, byte).ok()?;
        }
        if state.is_quit() {
            return None;
        }
        Some(!state.is_dead())
    }
}

/// Whether a pattern text is absolute: starts with `/` or `\Q/` (FileVault's
/// `DefaultPathFilter.isAbsolute`, JCRVLT-500).
pub fn is_absolute(pattern: &str) -> bool {
    pattern.starts_with('/') || pattern.starts_with("\\Q/")
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl std::hash::Hash for Pattern {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod oracle_tests;
