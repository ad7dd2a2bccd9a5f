//! Rows in PostgreSQL's binary `COPY` format, encoded by hand into a buffer and
//! sent [`CHUNK`] bytes at a time. `postgres`' `BinaryCopyInWriter` enters the
//! connection's runtime for every row (a `block_on` and a poll of the
//! connection, about 3,300 instructions a row: 5 % of a 20k-node import's
//! client CPU); here a row is a few copies into the buffer.
//!
//! The format: a header (signature, flags, extension length), then each row as
//! its field count (16 bits) and each field as its length (32 bits, -1 for
//! NULL) and bytes, then -1 (16 bits); integers big-endian, text as its UTF-8
//! bytes, `bool` one byte. The columns are the statement's, in its order; the
//! server checks each field against its column's type.

use postgres::{Client, CopyInWriter};
use std::io::Write;

/// Bytes encoded before they are sent.
pub(crate) const CHUNK: usize = 64 << 10;

/// The binary `COPY` header: signature, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// One field of a row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field<'a> {
    Int8(i64),
    Int4(i32),
    Bool(bool),
    Text(&'a str),
    Bytes(&'a [u8]),
    Null,
}

impl Field<'_> {
    /// `int8`, or NULL.
    pub(crate) fn int8_or_null(v: Option<i64>) -> Self {
        v.map_or(Field::Null, Field::Int8)
    }

    fn encode(&self, buf: &mut Vec<u8>) {
        let bytes: &[u8] = match self {
            Field::Null => {
                buf.extend_from_slice(&(-1i32).to_be_bytes());
                return;
            }
            Field::Int8(v) => &v.to_be_bytes(),
            Field::Int4(v) => &v.to_be_bytes(),
            Field::Bool(v) => &[*v as u8],
            Field::Text(s) => s.as_bytes(),
            Field::Bytes(b) => b,
        };
        buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        buf.extend_from_slice(bytes);
    }
}

/// Why writing rows by `COPY` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CopyError {
    /// The server's or the connection's error.
    #[error("{0}")]
    Db(#[from] postgres::Error),
    /// The rows' stream failed otherwise.
    #[error("sending the rows: {0}")]
    Send(std::io::Error),
}

/// A `COPY ... FROM STDIN (FORMAT binary)` under way.
pub(crate) struct CopyRows<'a> {
    sink: CopyInWriter<'a>,
    buf: Vec<u8>,
}

impl<'a> CopyRows<'a> {
    /// Starts `COPY` statement `sql` (binary format, from stdin).
    pub(crate) fn start(client: &'a mut Client, sql: &str) -> Result<Self, postgres::Error> {
        let sink = client.copy_in(sql)?;
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        buf.extend_from_slice(HEADER);
        Ok(CopyRows { sink, buf })
    }

    /// Adds a row (its fields in the statement's column order).
    pub(crate) fn row(&mut self, fields: &[Field]) -> Result<(), CopyError> {
        encode_row(&mut self.buf, fields);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), CopyError> {
        let sent = self.sink.write_all(&self.buf);
        self.buf.clear();
        sent.map_err(|e| {
            // The writer fails when sending fails: a postgres::Error wrapped.
            let kind = e.kind();
            match e.into_inner() {
                Some(inner) => match inner.downcast::<postgres::Error>() {
                    Ok(db) => CopyError::Db(*db),
                    Err(other) => CopyError::Send(std::io::Error::new(kind, other)),
                },
                None => CopyError::Send(kind.into()),
            }
        })
    }

    /// Ends the rows and the statement: the rows the server copied.
    pub(crate) fn finish(mut self) -> Result<u64, CopyError> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.send()?;
        Ok(self.sink.finish()?)
    }
}

/// Appends a row to `buf`.
fn encode_row(buf: &mut Vec<u8>, fields: &[Field]) {
    buf.extend_from_slice(&(fields.len() as i16).to_be_bytes());
    for f in fields {
        f.encode(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_its_field_count_and_each_field_by_length() {
        let mut buf = Vec::new();
        encode_row(
            &mut buf,
            &[
                Field::Int8(-2),
                Field::Int4(7),
                Field::Bool(true),
                Field::Text("é"),
                Field::Bytes(&[0, 1]),
                Field::int8_or_null(None),
            ],
        );
        let want: Vec<u8> = [
            &[0, 6][..],
            &[0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254],
            &[0, 0, 0, 4, 0, 0, 0, 7],
            &[0, 0, 0, 1, 1],
            &[0, 0, 0, 2, 0xc3, 0xa9],
            &[0, 0, 0, 2, 0, 1],
            &[255, 255, 255, 255],
        ]
        .concat();
        assert_eq!(buf, want);
        assert_eq!(HEADER.len(), 19);
    }
}
