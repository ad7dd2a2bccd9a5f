//! File-system names: decoding never panics on any name, and a valid JCR name comes
//! back from its platform name (except FileVault's documented corner, `_` followed by
//! an escaped character).
#![no_main]
use jcrpack::platform_name::{
    from_entry_path, from_platform_name, from_platform_path_dot_dir, to_entry_path,
    to_platform_name,
};
use libfuzzer_sys::fuzz_target;

fn is_known_corner(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next() == Some('_')
        && matches!(chars.next(), Some('\\' | '<' | '>' | '"' | '?' | '%' | ':'))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = from_platform_name(text);
    let _ = from_platform_path_dot_dir(text);
    let _ = from_entry_path(text);
    if jcrpack::name::validate(text).is_err() || is_known_corner(text) {
        return;
    }
    let fs = to_platform_name(text);
    assert_eq!(from_platform_name(&fs), text, "via {fs:?}");
    let path = format!("/a/{text}/b");
    assert_eq!(from_entry_path(&to_entry_path(&path)), Some(path), "via {fs:?}");
});
