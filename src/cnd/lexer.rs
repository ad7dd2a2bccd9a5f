//! The CND tokenizer, after Jackrabbit's `Lexer` (a `java.io.StreamTokenizer`).
//!
//! Tokens are punctuation characters, unquoted words, and quoted strings. What counts
//! as a word character follows Jackrabbit: ASCII letters, `:`, `_`, digits, `.` and
//! every character from U+00A0 up. So `-` and `+` end a word (`my-prop` is three
//! tokens: quote such names), and so do `/`, `*`, `!`, `?` and the other ASCII
//! symbols, which are one-character tokens. Whitespace separates tokens; `//` line
//! and `/* */` block comments are skipped.
//!
//! Deliberate differences from Jackrabbit, all about input it misreads silently:
//! * a word that starts with a digit keeps its text (`= 5` is the value `5`, where
//!   Jackrabbit's number parsing makes it `5.0`);
//! * a lone `/` is an error (Jackrabbit starts a line comment there, so an unquoted
//!   path silently swallows the rest of the line);
//! * an unterminated string or block comment is an error (Jackrabbit ends the string
//!   at the line end, the comment at the end of the file);
//! * inside single quotes, `''` stands for one `'` — the escape Jackrabbit's CND
//!   writer emits (its reader would split the string there);
//! * a leading byte order mark is skipped.
//!
//! Backslash escapes in quoted strings are Java's: `\n \t \r \b \f \a \v`, octal
//! `\0`..`\377`, and `\x` for any other `x`.

use super::error::CndError;
use crate::location::Location;
use std::fmt;

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A one-character token: `[ ] > , - + ( ) = < ! * ?` and other ASCII symbols.
    Punct(char),
    /// An unquoted word.
    Word(String),
    /// The content of a `'...'` or `"..."` string, escapes resolved.
    Quoted(String),
    /// The end of the input.
    Eof,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The token.
    pub kind: TokenKind,
    /// 1-based line of its first character.
    pub line: u32,
    /// 1-based column (in characters) of its first character.
    pub column: u32,
}

impl Token {
    /// Whether this is the punctuation character `c`.
    pub fn is(&self, c: char) -> bool {
        self.kind == TokenKind::Punct(c)
    }

    /// Whether this is an unquoted word equal, ignoring ASCII case, to one of `words`.
    pub fn is_keyword(&self, words: &[&str]) -> bool {
        match &self.kind {
            TokenKind::Word(w) => words.iter().any(|k| k.eq_ignore_ascii_case(w)),
            _ => false,
        }
    }

    /// The text of a word or quoted string.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Word(w) | TokenKind::Quoted(w) => Some(w),
            _ => None,
        }
    }
}

impl fmt::Display for Token {
    /// How an error message names the token: `'x'`, `'word'`, `'text'` (quoted),
    /// `end of file`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TokenKind::Punct(c) => write!(f, "'{c}'"),
            TokenKind::Word(w) => write!(f, "'{w}'"),
            TokenKind::Quoted(s) => write!(f, "quoted string '{s}'"),
            TokenKind::Eof => f.write_str("end of file"),
        }
    }
}

/// Whether `c` belongs to an unquoted word (Jackrabbit's word characters plus the
/// digits and `.` that continue a word).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.') || c >= '\u{A0}'
}

/// Splits CND text into tokens, one at a time.
pub(crate) struct Lexer<'a> {
    file: &'a str,
    chars: Vec<char>,
    pos: usize,
    line: u32,
    column: u32,
}

impl<'a> Lexer<'a> {
    /// A lexer over `text`, reporting locations in `file`.
    pub fn new(text: &str, file: &'a str) -> Lexer<'a> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        Lexer {
            file,
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
            column: 1,
        }
    }

    /// The file name used in locations.
    pub fn file(&self) -> &str {
        self.file
    }

    /// The location of line `line`, column `column` in this file.
    pub fn location(&self, line: u32, column: u32) -> Location {
        Location::at(self.file, line, column)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else if c == '\r' {
            // A lone CR ends a line too; CR LF counts once (at the LF).
            if self.peek() != Some('\n') {
                self.line += 1;
                self.column = 1;
            }
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn lexical(&self, line: u32, column: u32, message: impl Into<String>) -> CndError {
        CndError::Lexical {
            location: self.location(line, column),
            message: message.into(),
        }
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), CndError> {
        loop {
            match self.peek() {
                Some(c) if c <= ' ' => {
                    self.bump();
                }
                Some('/') if self.peek_at(1) == Some('/') => {
                    while let Some(c) = self.peek() {
                        if c == '\n' || c == '\r' {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('/') if self.peek_at(1) == Some('*') => {
                    let (line, column) = (self.line, self.column);
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            Some('*') if self.peek() == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                            None => {
                                return Err(self.lexical(
                                    line,
                                    column,
                                    "unterminated comment: '/*' has no closing '*/'",
                                ))
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// The next token; `Eof` at the end (and on every call after it).
    pub fn next_token(&mut self) -> Result<Token, CndError> {
        self.skip_trivia()?;
        let (line, column) = (self.line, self.column);
        let token = |kind| Token { kind, line, column };
        let Some(c) = self.peek() else {
            return Ok(token(TokenKind::Eof));
        };
        if c == '\'' || c == '"' {
            self.bump();
            let s = self.quoted(c, line, column)?;
            return Ok(token(TokenKind::Quoted(s)));
        }
        if is_word_char(c) {
            let mut w = String::new();
            while let Some(c) = self.peek().filter(|&c| is_word_char(c)) {
                w.push(c);
                self.bump();
            }
            return Ok(token(TokenKind::Word(w)));
        }
        if c == '/' {
            return Err(self.lexical(
                line,
                column,
                "unexpected '/': quote names and values that contain '/' \
                 (comments start with '//' or '/*')",
            ));
        }
        if c.is_ascii() {
            self.bump();
            return Ok(token(TokenKind::Punct(c)));
        }
        Err(self.lexical(
            line,
            column,
            format!("unexpected control character U+{:04X}", c as u32),
        ))
    }

    /// Reads a quoted string after its opening `quote`, resolving escapes.
    fn quoted(&mut self, quote: char, line: u32, column: u32) -> Result<String, CndError> {
        let mut s = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.lexical(
                    line,
                    column,
                    format!("unterminated string: no closing {quote} before the end of file"),
                ));
            };
            if c == '\n' || c == '\r' {
                return Err(self.lexical(
                    line,
                    column,
                    format!(
                        "unterminated string: no closing {quote} on this line \
                         (write a line break inside a string as \\n)"
                    ),
                ));
            }
            self.bump();
            if c == quote {
                if quote == '\'' && self.peek() == Some('\'') {
                    self.bump();
                    s.push('\'');
                    continue;
                }
                return Ok(s);
            }
            if c != '\\' {
                s.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                continue; // reported as unterminated on the next round
            };
            if e == '\n' || e == '\r' {
                continue; // likewise
            }
            self.bump();
            let resolved = match e {
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{C}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{B}',
                '0'..='7' => {
                    let mut n = e as u32 - '0' as u32;
                    let max_digits = if e <= '3' { 3 } else { 2 };
                    for _ in 1..max_digits {
                        match self.peek() {
                            Some(d @ '0'..='7') => {
                                self.bump();
                                n = n * 8 + (d as u32 - '0' as u32);
                            }
                            _ => break,
                        }
                    }
                    char::from_u32(n).unwrap_or('\u{FFFD}')
                }
                other => other,
            };
            s.push(resolved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<TokenKind> {
        let mut l = Lexer::new(text, "t.cnd");
        let mut out = Vec::new();
        loop {
            let t = l.next_token().unwrap();
            if t.kind == TokenKind::Eof {
                return out;
            }
            out.push(t.kind);
        }
    }

    fn err(text: &str) -> String {
        let mut l = Lexer::new(text, "t.cnd");
        loop {
            match l.next_token() {
                Ok(t) if t.kind == TokenKind::Eof => panic!("no error in {text:?}"),
                Ok(_) => {}
                Err(e) => return e.to_string(),
            }
        }
    }

    fn w(s: &str) -> TokenKind {
        TokenKind::Word(s.into())
    }

    #[test]
    fn words_punctuation_and_strings() {
        assert_eq!(
            tokens("[ex:Type] > nt:base, 'my-type'\n - rep:token.key (STRING) = \"x\""),
            vec![
                TokenKind::Punct('['),
                w("ex:Type"),
                TokenKind::Punct(']'),
                TokenKind::Punct('>'),
                w("nt:base"),
                TokenKind::Punct(','),
                TokenKind::Quoted("my-type".into()),
                TokenKind::Punct('-'),
                w("rep:token.key"),
                TokenKind::Punct('('),
                w("STRING"),
                TokenKind::Punct(')'),
                TokenKind::Punct('='),
                TokenKind::Quoted("x".into()),
            ]
        );
        // '-' and '+' end words, as in Jackrabbit.
        assert_eq!(
            tokens("my-prop+x"),
            vec![
                w("my"),
                TokenKind::Punct('-'),
                w("prop"),
                TokenKind::Punct('+'),
                w("x")
            ]
        );
        assert_eq!(tokens("5 1.5 éà"), vec![w("5"), w("1.5"), w("éà")]);
    }

    #[test]
    fn comments_are_skipped() {
        assert_eq!(
            tokens("a // line\n/* block\n * more */ b /**/ c//end"),
            vec![w("a"), w("b"), w("c")]
        );
        assert_eq!(tokens("\u{FEFF}a"), vec![w("a")]);
        // '#' is no comment character in Jackrabbit's lexer either: a token of its
        // own, which the parser refuses (a CND starting with '#' fails in FileVault).
        assert_eq!(tokens("# x"), vec![TokenKind::Punct('#'), w("x")]);
    }

    #[test]
    fn escapes_in_quoted_strings() {
        assert_eq!(
            tokens(r#"'a\\b' 'it''s' "q\"" '\n\t' '\101\7' 'x\y'"#),
            vec![
                TokenKind::Quoted("a\\b".into()),
                TokenKind::Quoted("it's".into()),
                TokenKind::Quoted("q\"".into()),
                TokenKind::Quoted("\n\t".into()),
                TokenKind::Quoted("A\u{7}".into()),
                TokenKind::Quoted("xy".into()),
            ]
        );
        assert_eq!(
            tokens("'' , \"\""),
            vec![
                TokenKind::Quoted(String::new()),
                TokenKind::Punct(','),
                TokenKind::Quoted(String::new())
            ]
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let mut l = Lexer::new("a\n  é b\r\nc\rd", "f");
        let pos: Vec<(u32, u32)> = (0..5)
            .map(|_| {
                let t = l.next_token().unwrap();
                (t.line, t.column)
            })
            .collect();
        assert_eq!(pos, [(1, 1), (2, 3), (2, 5), (3, 1), (4, 1)]);
    }

    #[test]
    fn lexical_errors_have_locations() {
        assert_eq!(
            err("a\n  'open"),
            "t.cnd:2:3: unterminated string: no closing ' before the end of file"
        );
        assert!(
            err("'a\nb'").starts_with("t.cnd:1:1: unterminated string: no closing ' on this line")
        );
        assert_eq!(
            err("x /* never closed"),
            "t.cnd:1:3: unterminated comment: '/*' has no closing '*/'"
        );
        assert!(err("< /content").starts_with("t.cnd:1:3: unexpected '/'"));
        assert!(err("\u{85}").contains("U+0085"));
    }
}
