//! `filter.xml`: any bytes; a filter that parses answers a few questions and is
//! written canonically, which must parse again.
#![no_main]
use jcrpack::filter::WorkspaceFilter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut filter) = WorkspaceFilter::parse(data, "filter.xml") else {
        return;
    };
    for path in ["/", "/content", "/content/a/jcr:content", "/apps/x"] {
        let _ = filter.contains(path);
        let _ = filter.covers(path);
        let _ = filter.is_ancestor(path);
    }
    filter.reset_source();
    let canonical = filter.to_xml();
    if let Err(e) = WorkspaceFilter::parse(&canonical, "canonical.xml") {
        panic!(
            "the canonical filter does not parse again: {e}\n{}",
            String::from_utf8_lossy(&canonical)
        );
    }
});
