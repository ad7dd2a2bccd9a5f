//! Tests across the reader and the writer: malformed documents, round trips, the
//! real-world corpus, and streaming in bounded memory.

mod corpus;
mod fixtures;
mod malformed;
mod roundtrip;
mod streaming;
