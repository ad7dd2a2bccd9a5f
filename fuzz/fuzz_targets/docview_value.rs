//! `{Type}[a,b\,c]` values: parse, format, parse again. For the types the writer
//! escapes (String, Name, Path, undefined) the second parse must succeed and give back
//! exactly the values of the first. Other types are written unescaped, as FileVault
//! writes them, so a `{Long}` "value" holding `\u` text need not survive: a real Long
//! never holds a backslash.
#![no_main]
use jcrpack::docview::value::{format_value, parse_value};
use jcrpack::value::PropertyType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(first) = parse_value(text) else {
        return;
    };
    let formatted = format_value("fuzz", &first);
    let escaped = matches!(
        first.ptype,
        PropertyType::String | PropertyType::Name | PropertyType::Path | PropertyType::Undefined
    ) && !first.binary_ref;
    if !escaped {
        let _ = parse_value(&formatted);
        return;
    }
    let second = parse_value(&formatted)
        .unwrap_or_else(|e| panic!("{formatted:?} (from {text:?}) does not parse again: {e}"));
    assert_eq!(first.multiple, second.multiple, "via {formatted:?}");
    assert_eq!(first.values, second.values, "via {formatted:?}");
});
