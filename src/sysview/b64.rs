//! Base64 as system view uses it: decoding that accepts the whitespace exporters put
//! between (and inside) the characters, fed in pieces as the XML text arrives.
//!
//! Jackrabbit's decoder (`org.apache.jackrabbit.util.Base64`) reads the text in
//! groups of four alphabet characters, skips whitespace anywhere, and decodes each
//! group on its own (so a padded group may even be followed by another group). This
//! decoder does the same, with two deliberate differences: a trailing incomplete
//! group, which Jackrabbit drops silently, is an error, and so is padding in the first
//! two places of a group (Jackrabbit decodes garbage there).
//!
//! Encoding uses the `base64` crate's standard alphabet with padding and no line
//! breaks, as Jackrabbit's exporter writes it.

/// Why a base64 text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// A character that is neither in the base64 alphabet, `=`, nor whitespace.
    #[error("'{ch}' at character {at} is not a base64 character (expected A-Z, a-z, 0-9, '+', '/', '=' or whitespace)")]
    BadChar {
        /// The offending character.
        ch: char,
        /// Its 0-based index among the characters of the text.
        at: u64,
    },
    /// `=` where padding cannot be.
    #[error("misplaced '=' padding at character {at} (padding may only end a group of four)")]
    BadPadding {
        /// 0-based character index.
        at: u64,
    },
    /// The text ended in the middle of a group of four.
    #[error("the base64 text ends with an incomplete group of {0} character(s)")]
    Incomplete(usize),
}

/// Whether Java's `Character.isWhitespace` holds for `c`: what Jackrabbit skips.
fn is_java_whitespace(c: char) -> bool {
    match c {
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{1C}'..='\u{1F}' | ' ' => true,
        '\u{A0}' | '\u{2007}' | '\u{202F}' => false,
        c => c.is_whitespace() && !c.is_ascii(),
    }
}

fn sextet(c: char) -> Option<u8> {
    Some(match c {
        'A'..='Z' => c as u8 - b'A',
        'a'..='z' => c as u8 - b'a' + 26,
        '0'..='9' => c as u8 - b'0' + 52,
        '+' => 62,
        '/' => 63,
        _ => return None,
    })
}

/// An incremental, whitespace-tolerant base64 decoder.
#[derive(Debug, Default)]
pub struct Base64Decoder {
    group: [char; 4],
    filled: usize,
    seen: u64,
    out: Vec<u8>,
}

impl Base64Decoder {
    /// A decoder with nothing decoded yet.
    pub fn new() -> Base64Decoder {
        Base64Decoder::default()
    }

    /// Number of bytes decoded so far.
    pub fn decoded_len(&self) -> usize {
        self.out.len()
    }

    /// Decodes the next piece of text.
    pub fn feed(&mut self, text: &str) -> Result<(), Base64Error> {
        for c in text.chars() {
            let at = self.seen;
            self.seen += 1;
            if sextet(c).is_none() && c != '=' {
                if is_java_whitespace(c) {
                    continue;
                }
                return Err(Base64Error::BadChar { ch: c, at });
            }
            if c == '=' && self.filled < 2 {
                return Err(Base64Error::BadPadding { at });
            }
            if self.filled == 3 && c != '=' && self.group[2] == '=' {
                return Err(Base64Error::BadPadding { at: at - 1 });
            }
            self.group[self.filled] = c;
            self.filled += 1;
            if self.filled == 4 {
                self.flush_group();
            }
        }
        Ok(())
    }

    fn flush_group(&mut self) {
        let s = |c: char| sextet(c).unwrap_or(0) as u32;
        let [c0, c1, c2, c3] = self.group;
        let n = (s(c0) << 18) | (s(c1) << 12) | (s(c2) << 6) | s(c3);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let len = if c2 == '=' {
            1
        } else if c3 == '=' {
            2
        } else {
            3
        };
        self.out.extend_from_slice(&bytes[..len]);
        self.filled = 0;
    }

    /// Ends the text and returns the decoded bytes.
    pub fn finish(self) -> Result<Vec<u8>, Base64Error> {
        if self.filled != 0 {
            return Err(Base64Error::Incomplete(self.filled));
        }
        Ok(self.out)
    }
}

/// Decodes a whole base64 text (see [`Base64Decoder`]).
#[cfg(test)]
pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let mut d = Base64Decoder::new();
    d.feed(text)?;
    d.finish()
}

/// Encodes bytes as standard padded base64 without line breaks.
pub fn encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_whitespace_anywhere() {
        assert_eq!(decode("aGVs\n  bG8=\n").unwrap(), b"hello");
        assert_eq!(decode(" a G V s b G 8 = ").unwrap(), b"hello");
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("  \r\n\t").unwrap(), b"");
        assert_eq!(decode("YQ==").unwrap(), b"a");
        assert_eq!(decode("YWI=").unwrap(), b"ab");
    }

    #[test]
    fn decodes_groups_independently_like_jackrabbit() {
        // A padded group followed by another group.
        assert_eq!(decode("YQ==YQ==").unwrap(), b"aa");
    }

    #[test]
    fn decodes_in_pieces() {
        let mut d = Base64Decoder::new();
        for piece in ["a", "GV", "sbG", "8", "="] {
            d.feed(piece).unwrap();
        }
        assert_eq!(d.finish().unwrap(), b"hello");
    }

    #[test]
    fn rejects_what_is_not_base64() {
        assert_eq!(decode("aGV*"), Err(Base64Error::BadChar { ch: '*', at: 3 }));
        assert_eq!(decode("aGVsbG8"), Err(Base64Error::Incomplete(3)));
        assert_eq!(decode("=AAA"), Err(Base64Error::BadPadding { at: 0 }));
        assert_eq!(decode("AA=A"), Err(Base64Error::BadPadding { at: 2 }));
        // A no-break space is not whitespace to Java.
        assert!(matches!(
            decode("YQ==\u{A0}"),
            Err(Base64Error::BadChar { ch: '\u{A0}', .. })
        ));
    }

    #[test]
    fn encodes_standard_padded() {
        assert_eq!(encode(b"hello"), "aGVsbG8=");
        assert_eq!(encode(b""), "");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
    }
}
