//! How an XML file's bytes start: a UTF-8 byte-order mark, UTF-16 (by its mark or
//! by the `<?` of a declaration), or neither. One reading of the XML specification's
//! appendix F for every parser of package metadata (`filter.xml`, `properties.xml`);
//! each parser words its own errors.

/// What the first bytes of an XML file say about its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlStart {
    /// A UTF-8 byte-order mark (3 bytes) precedes the text.
    Utf8Bom,
    /// UTF-16: big or little endian, after `skip` bytes of byte-order mark (0 when
    /// recognized by the `<?` of a declaration).
    Utf16 {
        /// Big endian.
        big_endian: bool,
        /// Bytes of byte-order mark to skip.
        skip: usize,
    },
    /// No mark: UTF-8 unless the declaration names another encoding.
    Plain,
}

/// Sniffs the start of `bytes`.
pub fn sniff(bytes: &[u8]) -> XmlStart {
    match bytes {
        [0xEF, 0xBB, 0xBF, ..] => XmlStart::Utf8Bom,
        [0xFE, 0xFF, ..] => XmlStart::Utf16 {
            big_endian: true,
            skip: 2,
        },
        [0xFF, 0xFE, ..] => XmlStart::Utf16 {
            big_endian: false,
            skip: 2,
        },
        [0x00, b'<', 0x00, b'?', ..] => XmlStart::Utf16 {
            big_endian: true,
            skip: 0,
        },
        [b'<', 0x00, b'?', 0x00, ..] => XmlStart::Utf16 {
            big_endian: false,
            skip: 0,
        },
        _ => XmlStart::Plain,
    }
}

/// Why UTF-16 text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Utf16Error {
    /// The text has an odd number of bytes.
    OddLength,
    /// An unpaired surrogate.
    UnpairedSurrogate {
        /// Twice the number of characters before it (its byte offset when every
        /// character before it is one UTF-16 unit).
        at: usize,
        /// The text before it.
        decoded: String,
    },
}

/// Decodes UTF-16 `body` (the bytes after the byte-order mark).
pub fn decode_utf16(body: &[u8], big_endian: bool) -> Result<String, Utf16Error> {
    if body.len() % 2 != 0 {
        return Err(Utf16Error::OddLength);
    }
    let units = body.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    let mut text = String::with_capacity(body.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(Utf16Error::UnpairedSurrogate {
                    at: 2 * i,
                    decoded: text,
                })
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_marks_and_declarations() {
        assert_eq!(sniff(b"\xEF\xBB\xBF<a/>"), XmlStart::Utf8Bom);
        assert_eq!(
            sniff(b"\xFF\xFE<\x00"),
            XmlStart::Utf16 {
                big_endian: false,
                skip: 2
            }
        );
        assert_eq!(
            sniff(b"\x00<\x00?"),
            XmlStart::Utf16 {
                big_endian: true,
                skip: 0
            }
        );
        assert_eq!(sniff(b"<?xml"), XmlStart::Plain);
        assert_eq!(sniff(b""), XmlStart::Plain);
    }

    #[test]
    fn decodes_utf16_and_reports_where_it_cannot() {
        assert_eq!(decode_utf16(b"<\x00a\x00", false).unwrap(), "<a");
        assert_eq!(decode_utf16(b"\x00<\x00a", true).unwrap(), "<a");
        assert_eq!(decode_utf16(b"<\x00a", false), Err(Utf16Error::OddLength));
        assert_eq!(
            decode_utf16(b"a\x00\x00\xD8b\x00", false),
            Err(Utf16Error::UnpairedSurrogate {
                at: 2,
                decoded: "a".into()
            })
        );
    }
}
