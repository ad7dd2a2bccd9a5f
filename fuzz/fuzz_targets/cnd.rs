//! CND: any bytes; definitions that parse are written (when the writer accepts them)
//! and the text must parse again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = jcrpack::cnd::parse_bytes(data, "fuzz.cnd") else {
        return;
    };
    let namespaces = file.namespaces.clone();
    let uri_of = move |prefix: &str| {
        namespaces
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.clone())
    };
    let Ok(text) = jcrpack::cnd::write(&file.types, &uri_of) else {
        return;
    };
    if let Err(e) = jcrpack::cnd::parse(&text, "written.cnd") {
        panic!("the written CND does not parse again: {e}\n{text}");
    }
});
