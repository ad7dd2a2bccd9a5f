//! Benchmark of `extract`: builds a large synthetic package (100 sections of pages,
//! each page a `.content.xml` and a text file) and times extracting 1 section (1%),
//! 10 sections (10%) and everything, against a full layout scan of the package.
//!
//! ```text
//! cargo run --release --example extract_bench -- [PAGES] [DIR]
//! ```
//!
//! PAGES defaults to 50,000; DIR (where the package is written) to a temporary folder.

use jcrpack::archive::{self, PackageSink, PackageWriter, ReadOptions, WriterOptions};
use jcrpack::package::extract::{extract, ExtractOptions, Selection};
use jcrpack::package::{scan, IgnoreList};
use std::time::{Duration, Instant};

const SECTIONS: usize = 100;

fn page_xml(i: usize) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:cq="http://www.day.com/jcr/cq/1.0" xmlns:sling="http://sling.apache.org/jcr/sling/1.0"
    jcr:primaryType="cq:Page">
    <jcr:content
        cq:template="/conf/site/settings/wcm/templates/page"
        jcr:primaryType="cq:PageContent"
        jcr:title="Page {i}"
        sling:resourceType="site/components/page">
        <root
            jcr:primaryType="nt:unstructured"
            sling:resourceType="site/components/container">
            <title
                jcr:primaryType="nt:unstructured"
                jcr:title="Title of page {i}"
                sling:resourceType="site/components/title"/>
            <text
                jcr:primaryType="nt:unstructured"
                sling:resourceType="site/components/text"
                text="&lt;p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, page {i}.&lt;/p>"/>
        </root>
    </jcr:content>
</jcr:root>
"#
    )
}

fn build(target: &std::path::Path, pages: usize) {
    let mut w = PackageWriter::create(target, WriterOptions::default()).unwrap();
    w.add_bytes(
        "META-INF/vault/properties.xml",
        br#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties>
<entry key="group">bench</entry>
<entry key="name">large</entry>
<entry key="version">1.0</entry>
</properties>
"#
        .to_vec(),
    )
    .unwrap();
    w.add_bytes(
        "META-INF/vault/filter.xml",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workspaceFilter version=\"1.0\">\n    <filter root=\"/content/site\"/>\n</workspaceFilter>\n".to_vec(),
    )
    .unwrap();
    let text: String = "All work and no play makes a large package. ".repeat(90);
    for i in 0..pages {
        let s = i % SECTIONS;
        let dir = format!("jcr_root/content/site/s{s}/p{i}");
        w.add_bytes(&format!("{dir}/.content.xml"), page_xml(i).into_bytes())
            .unwrap();
        w.add_bytes(
            &format!("{dir}/notes.txt"),
            format!("{i}: {text}").into_bytes(),
        )
        .unwrap();
    }
    w.finish().unwrap();
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.unwrap())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pages: usize = args
        .next()
        .map(|s| s.parse().expect("PAGES is a number"))
        .unwrap_or(50_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let source = dir.join("large.zip");
    let t = Instant::now();
    build(&source, pages);
    let size = std::fs::metadata(&source).unwrap().len();
    println!(
        "built {} ({pages} pages, {} entries, {:.1} MiB) in {:.2?}",
        source.display(),
        pages * 2 + 2,
        size as f64 / (1 << 20) as f64,
        t.elapsed()
    );

    let (open, archive) = best_of(3, || {
        archive::open(&source, &ReadOptions::default()).unwrap()
    });
    println!("open (central directory):            {open:>10.2?}");
    let (full_scan, _) = best_of(3, || {
        scan(archive.as_ref(), &IgnoreList::default()).unwrap()
    });
    println!("full layout scan:                    {full_scan:>10.2?}");

    for (label, sections) in [("1%", 1usize), ("10%", 10), ("100%", SECTIONS)] {
        let roots = (0..sections)
            .map(|s| format!("/content/site/s{s}"))
            .collect();
        let opts = ExtractOptions {
            selection: Selection::Roots(roots),
            mode: None,
            name: None,
            writer: WriterOptions::default(),
            allow_empty: false,
        };
        let out = dir.join(format!("extract-{sections}.zip"));
        // Each run opens the package itself, as `jcrpack extract` does.
        let (d, r) = best_of(3, || {
            let a = archive::open(&source, &ReadOptions::default()).unwrap();
            extract(a.as_ref(), &out, &opts).unwrap()
        });
        println!(
            "extract {label:>4} ({sections:>3} sections): {d:>10.2?}  {} entries, {} copied compressed, {} rewritten, {:.1} MiB",
            r.entries,
            r.raw_copied,
            r.rewritten,
            r.size as f64 / (1 << 20) as f64
        );
    }
}
