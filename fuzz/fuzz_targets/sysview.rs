//! System view: any bytes through the streaming reader, then through `read_tree`.
#![no_main]
use jcrpack::sysview::{read_tree, SysViewReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = SysViewReader::new(data, "fuzz.xml");
    // Every event consumes input, so the loop ends; the bound is a second guard.
    for _ in 0..100_000 {
        match reader.next_event() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let _ = read_tree(data, "fuzz.xml");
});
