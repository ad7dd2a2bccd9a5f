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
}
