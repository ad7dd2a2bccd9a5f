//! A bulk insert in one recorded transaction, with rates printed (run with
//! `--nocapture`; `JCRPACK_REPOSITORY_NODES=1000000` for the full-size figure).

use super::*;
use crate::repository::Store;
use std::time::Instant;

#[test]
fn a_hundred_thousand_nodes_in_one_operation() {
    let nodes: usize = std::env::var("JCRPACK_REPOSITORY_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_dir, mut store) = repo();
    let started = Instant::now();
    let mut t = store.begin_operation(meta("bulk")).unwrap();
    // Sites of pages of components, added one node at a time in document order,
    // each with five properties, as an importer would.
    let mut added = 0usize;
    let mut site = 0;
    'outer: loop {
        let site_path = format!("/s{site}");
        t.add_node(
            WS,
            "/",
            &Node::new(format!("s{site}"), "sling:Folder"),
            &AddOptions::append(),
        )
        .unwrap();
        added += 1;
        for page in 0..100 {
            let page_node = Node::new(format!("p{page}"), "cq:Page")
                .with(string("jcr:title", &format!("Page {page}")))
                .with(string("sling:resourceType", "site/page"))
                .with(Property::single("rank", Value::Long(page)))
                .with(Property::single("hidden", Value::Boolean(false)))
                .with(string("text", "lorem ipsum dolor sit amet"));
            let page_path = t
                .add_node(WS, &site_path, &page_node, &AddOptions::append())
                .unwrap();
            added += 1;
            for c in 0..9 {
                let comp = Node::new(format!("c{c}"), "nt:unstructured")
                    .with(string("jcr:title", "Component"))
                    .with(string("sling:resourceType", "site/component"))
                    .with(Property::single("n", Value::Long(c)))
                    .with(Property::single("on", Value::Boolean(true)))
                    .with(string("text", "consectetur adipiscing elit"));
                t.add_node(WS, &page_path, &comp, &AddOptions::append())
                    .unwrap();
                added += 1;
                if added >= nodes {
                    break 'outer;
                }
            }
        }
        site += 1;
    }
    let op = t.commit().unwrap().unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "inserted {added} nodes ({} property rows) in one operation in {secs:.2} s: {:.0} nodes/s",
        added * 5,
        added as f64 / secs
    );
    let summary = store.history().unwrap().pop().unwrap();
    assert_eq!(summary.id, op);
    assert_eq!(summary.nodes_touched as usize, added);

    let started = Instant::now();
    let mut count = 0usize;
    let mut props = 0usize;
    for e in store.walk(WS, "/").unwrap() {
        let e = e.unwrap();
        count += 1;
        props += e.node.properties.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "walked {count} nodes with {props} properties in {secs:.2} s: {:.0} nodes/s",
        count as f64 / secs
    );
    assert_eq!(count, added + 1 + 5); // 5: Oak's initial content
    assert_eq!(props, (added - site - 1) * 5);
}
