//! `.content.xml`: any bytes; a document that parses is written and must parse again.
#![no_main]
use jcrpack::docview::{parse, writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse(data, "fuzz.xml") else {
        return;
    };
    let written = writer::to_vec(&doc);
    if let Err(e) = parse(written.as_slice(), "written.xml") {
        panic!(
            "the written document does not parse again: {e}\n{}",
            String::from_utf8_lossy(&written)
        );
    }
});
