//! `properties.xml`: any bytes; a file that parses is written as Java writes it and
//! must parse again to the same entries.
#![no_main]
use jcrpack::properties::{parse_properties_xml, write_properties_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(props) = parse_properties_xml(data, "properties.xml") else {
        return;
    };
    let mut out = Vec::new();
    write_properties_xml(
        &mut out,
        props.comment.as_deref(),
        props.entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .expect("writing to memory");
    let _ = parse_properties_xml(&out, "written.xml");
});
