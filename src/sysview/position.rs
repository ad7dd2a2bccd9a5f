//! Line and column tracking over a streamed input, and a cap on the bytes one XML
//! event may span.
//!
//! quick-xml reports byte offsets, and a streamed input cannot be re-read to turn an
//! offset into a line and column. [`Tracked`] is the buffered reader quick-xml reads
//! from: it counts lines and characters as quick-xml consumes bytes, and remembers
//! where the last `<` (start of any markup) and `&` (start of a reference) were, which
//! is where quick-xml's events and most of its errors begin. It also refuses to hand
//! out more than a set number of bytes between two [`Tracked::start_event`] calls, so
//! that a single giant text or tag cannot exhaust memory before the reader's own
//! limits see it.

use std::io::{self, BufRead, Read};

/// A point in the input: byte offset and 1-based line and (character) column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Byte offset from the start of the input.
    pub offset: u64,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// A buffered reader that tracks positions; see the module documentation.
pub struct Tracked<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    offset: u64,
    line: u32,
    /// Characters consumed on the current line.
    col: u32,
    last_lt: Mark,
    last_amp: Mark,
    event_start: Mark,
    since_event: u64,
    event_limit: u64,
    tripped: bool,
    produced: u64,
}

/// Size of the read-ahead buffer.
pub const BUFFER_SIZE: usize = 64 * 1024;

impl<R: Read> Tracked<R> {
    /// Wraps `inner`; no single event may span more than `event_limit` bytes.
    pub fn new(inner: R, event_limit: u64) -> Tracked<R> {
        let start = Mark {
            offset: 0,
            line: 1,
            column: 1,
        };
        Tracked {
            inner,
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            pos: 0,
            filled: 0,
            offset: 0,
            line: 1,
            col: 0,
            last_lt: start,
            last_amp: start,
            event_start: start,
            since_event: 0,
            event_limit,
            tripped: false,
            produced: 0,
        }
    }

    /// Where the next unconsumed byte is.
    pub fn here(&self) -> Mark {
        Mark {
            offset: self.offset,
            line: self.line,
            column: self.col.saturating_add(1),
        }
    }

    /// Marks the start of the next XML event (resets the per-event byte count).
    pub fn start_event(&mut self) {
        self.event_start = self.here();
        self.since_event = 0;
    }

    /// Where the current event started.
    pub fn event_start(&self) -> Mark {
        self.event_start
    }

    /// The last `<` consumed: the start of the current markup event.
    pub fn last_markup(&self) -> Mark {
        self.last_lt
    }

    /// The best known position for byte `offset` of the current event: exact for
    /// the event start, the last `<` and the last `&`, otherwise the nearest known
    /// position before it.
    pub fn locate(&self, offset: u64) -> Mark {
        let mut best = self.event_start;
        for m in [self.last_lt, self.last_amp, self.here()] {
            if m.offset <= offset && m.offset >= best.offset {
                best = m;
            }
        }
        best
    }

    /// Whether the per-event byte limit was hit (the I/O error quick-xml reports
    /// then comes from here).
    pub fn tripped(&self) -> bool {
        self.tripped
    }

    /// The per-event byte limit.
    pub fn event_limit(&self) -> u64 {
        self.event_limit
    }

    /// Bytes handed to the XML parser so far.
    pub fn consumed(&self) -> u64 {
        self.offset
    }

    /// Bytes read from the underlying input so far (consumed plus read-ahead).
    pub fn produced(&self) -> u64 {
        self.produced
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_event > self.event_limit {
            self.tripped = true;
            return Err(io::Error::other(format!(
                "a single XML event is larger than the limit of {} bytes",
                self.event_limit
            )));
        }
        if self.pos >= self.filled {
            self.pos = 0;
            self.filled = 0;
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.filled = n;
            self.produced += n as u64;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.filled - self.pos);
        let mut bytes = &self.buf[self.pos..self.pos + amt];
        let mut offset = self.offset;
        if offset == 0 && bytes.starts_with(UTF8_BOM) {
            // The byte order mark is not a character of the first line.
            bytes = &bytes[UTF8_BOM.len()..];
            offset = UTF8_BOM.len() as u64;
        }
        for &b in bytes {
            match b {
                b'\n' => {
                    self.line = self.line.saturating_add(1);
                    self.col = 0;
                }
                b'<' | b'&' => {
                    let m = Mark {
                        offset,
                        line: self.line,
                        column: self.col.saturating_add(1),
                    };
                    if b == b'<' {
                        self.last_lt = m;
                    } else {
                        self.last_amp = m;
                    }
                    self.col = self.col.saturating_add(1);
                }
                // Count characters: every byte that does not continue a UTF-8 sequence.
                b if b & 0xC0 != 0x80 => self.col = self.col.saturating_add(1),
                _ => {}
            }
            offset += 1;
        }
        self.pos += amt;
        self.offset += amt as u64;
        self.since_event += amt as u64;
    }
}

/// Advances `from` over `text` (which starts at `from`), giving the position of the
/// character at byte index `upto` of `text`.
pub fn advance(from: Mark, text: &str, upto: usize) -> Mark {
    let mut m = from;
    let upto = upto.min(text.len());
    for c in text.get(..upto).unwrap_or("").chars() {
        if c == '\n' {
            m.line = m.line.saturating_add(1);
            m.column = 1;
        } else {
            m.column = m.column.saturating_add(1);
        }
    }
    m.offset += upto as u64;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consume_all<R: Read>(t: &mut Tracked<R>) {
        loop {
            let n = t.fill_buf().unwrap().len();
            if n == 0 {
                break;
            }
            t.consume(n.min(3));
        }
    }

    #[test]
    fn counts_lines_characters_and_markup() {
        let text = "ab\ncdé<x\n  &y";
        let mut t = Tracked::new(text.as_bytes(), 1 << 20);
        consume_all(&mut t);
        assert_eq!(
            t.last_markup(),
            Mark {
                offset: 7,
                line: 2,
                column: 4
            }
        );
        assert_eq!(
            t.locate(12),
            Mark {
                offset: 12,
                line: 3,
                column: 3
            }
        );
        // Between known marks: the nearest one before.
        assert_eq!(t.locate(11).offset, 7);
        assert_eq!(t.here().line, 3);
        assert_eq!(t.here().column, 5);
        assert_eq!(t.consumed(), text.len() as u64);
    }

    #[test]
    fn skips_the_byte_order_mark() {
        let mut t = Tracked::new(&b"\xEF\xBB\xBF<a"[..], 1 << 20);
        consume_all(&mut t);
        assert_eq!(t.last_markup().column, 1);
        assert_eq!(t.last_markup().offset, 3);
    }

    #[test]
    fn trips_when_an_event_is_too_large() {
        let data = [b'x'; 100];
        let mut t = Tracked::new(&data[..], 10);
        t.start_event();
        let mut err = None;
        for _ in 0..100 {
            match t.fill_buf() {
                Ok([]) => break,
                Ok(_) => t.consume(4),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert!(err.is_some());
        assert!(t.tripped());
    }

    #[test]
    fn advances_over_text() {
        let m = advance(
            Mark {
                offset: 5,
                line: 2,
                column: 3,
            },
            "a\nbc",
            3,
        );
        assert_eq!(
            m,
            Mark {
                offset: 8,
                line: 3,
                column: 2
            }
        );
    }
}
