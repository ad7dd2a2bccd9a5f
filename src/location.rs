//! Where in an input something was found: the file (or package entry), the line and
//! the column. Every parse error in jcrpack carries one, so that a user can go
//! straight to the offending character.

use std::fmt;

/// A position in a named input, 1-based. `line == 0` means "the whole file".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Location {
    /// The file, or the entry name inside a package (`jcr_root/content/.content.xml`).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column (in characters); 0 when unknown.
    pub column: u32,
}

impl Location {
    /// A location naming a whole file.
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            line: 0,
            column: 0,
        }
    }

    /// A location at a line and column of a file.
    pub fn at(file: impl Into<String>, line: u32, column: u32) -> Location {
        Location {
            file: file.into(),
            line,
            column,
        }
    }

    /// Computes the 1-based line and column of byte offset `pos` in `text`.
    /// Columns count characters, not bytes.
    pub fn from_offset(file: impl Into<String>, text: &[u8], pos: usize) -> Location {
        let pos = pos.min(text.len());
        let before = &text[..pos];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count() as u32
            + 1;
        Location {
            file: file.into(),
            line,
            column,
        }
    }
}

/// Line and column of many byte offsets in one UTF-8 text, computed incrementally.
///
/// [`Location::from_offset`] scans the text from its start, so a parser that locates
/// every element of a large file with it does quadratic work (a one-line `.content.xml`
/// of 20,000 elements took minutes). A `Locator` remembers the last offset it
/// located and walks only from there: offsets that mostly increase cost time linear in
/// the text. An offset before the last one walks back to the start of its line.
/// It gives the same line and column as [`Location::from_offset`] on valid UTF-8.
#[derive(Debug)]
pub struct Locator {
    /// (byte offset, line, column) of the last located offset.
    last: std::cell::Cell<(usize, u32, u32)>,
}

impl Default for Locator {
    fn default() -> Self {
        Locator::new()
    }
}

impl Locator {
    /// A locator at the start of a text.
    pub fn new() -> Locator {
        Locator {
            last: std::cell::Cell::new((0, 1, 1)),
        }
    }

    /// The location of byte offset `pos` in `text` (clamped to its length). `text` must
    /// be the same text on every call.
    pub fn locate(&self, file: impl Into<String>, text: &[u8], pos: usize) -> Location {
        let pos = pos.min(text.len());
        let (mut off, mut line, mut column) = self.last.get();
        if off > text.len() {
            (off, line, column) = (0, 1, 1);
        }
        if pos < off {
            let back = &text[pos..off];
            let newlines = back.iter().filter(|&&b| b == b'\n').count() as u32;
            if newlines == 0 {
                column -= chars_in(back);
            } else {
                line -= newlines;
                let line_start = text[..pos]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                column = chars_in(&text[line_start..pos]) + 1;
            }
        } else {
            // Counted over the whole stretch (vectorized), not byte by byte.
            let ahead = &text[off..pos];
            match ahead.iter().rposition(|&b| b == b'\n') {
                Some(last) => {
                    line += ahead.iter().filter(|&&b| b == b'\n').count() as u32;
                    column = chars_in(&ahead[last + 1..]) + 1;
                }
                None => column += chars_in(ahead),
            }
        }
        self.last.set((pos, line, column));
        Location {
            file: file.into(),
            line,
            column,
        }
    }
}

/// A byte that starts a character in UTF-8 (not a continuation byte).
fn is_char_start(b: u8) -> bool {
    b & 0xC0 != 0x80
}

fn chars_in(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|&&b| is_char_start(b)).count() as u32
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.file),
            (l, 0) => write!(f, "{}:{}", self.file, l),
            (l, c) => write!(f, "{}:{}:{}", self.file, l, c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_character_columns() {
        let text = "ab\ncdé\nf".as_bytes();
        assert_eq!(Location::from_offset("x", text, 0).to_string(), "x:1:1");
        assert_eq!(Location::from_offset("x", text, 3).to_string(), "x:2:1");
        // 'é' is two bytes but one column.
        assert_eq!(Location::from_offset("x", text, 7).to_string(), "x:2:4");
        assert_eq!(Location::file("y").to_string(), "y");
    }

    #[test]
    fn locator_agrees_with_from_offset_forwards_and_backwards() {
        let text = "ab\ncdé\n\nf日本\ng".as_bytes();
        let starts: Vec<usize> = (0..=text.len())
            .filter(|&i| i == text.len() || is_char_start(text[i]))
            .collect();
        let locator = Locator::new();
        let order: Vec<usize> = starts
            .iter()
            .copied()
            .chain(starts.iter().rev().copied())
            .chain([3, 12, 0, 9, 1])
            .collect();
        for pos in order {
            assert_eq!(
                locator.locate("x", text, pos),
                Location::from_offset("x", text, pos),
                "{pos}"
            );
        }
    }
}
