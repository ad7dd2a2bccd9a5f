//! Baseline for `jcrpack import`: insert as many node and property rows as an
//! import wrote into a fresh SQLite database with the repository's table layout
//! (same indexes and pragmas), with prepared statements in one transaction. Prints
//! the seconds taken, one JSON object on stdout.
//!
//! Usage: `cargo run --release --example sqlite_baseline -- NODES PROPS OUT.db`

use rusqlite::{params, Connection};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, nodes, props, db] = args.as_slice() else {
        eprintln!("usage: sqlite_baseline NODES PROPS OUT.db");
        std::process::exit(2);
    };
    let nodes: i64 = nodes.parse().expect("NODES");
    let props: i64 = props.parse().expect("PROPS");
    let _ = std::fs::remove_file(db);
    let mut conn = Connection::open(db).expect("open");
    let _: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("wal");
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;
         CREATE TABLE node(id INTEGER PRIMARY KEY, ws INTEGER NOT NULL, parent INTEGER, name TEXT NOT NULL,
           position INTEGER NOT NULL, path TEXT NOT NULL, ptype TEXT NOT NULL, mixins TEXT NOT NULL);
         CREATE UNIQUE INDEX node_path ON node(ws, path);
         CREATE INDEX node_children ON node(parent, position);
         CREATE TABLE prop(node INTEGER NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL,
           multiple INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY(node, name)) WITHOUT ROWID;",
    )
    .expect("schema");
    let start = Instant::now();
    let tx = conn.transaction().expect("begin");
    {
        let mut ins_node = tx
            .prepare("INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins) VALUES (?1, 1, ?2, ?3, ?4, ?5, 'nt:unstructured', '')")
            .expect("prepare");
        let mut ins_prop = tx
            .prepare(
                "INSERT INTO prop(node, name, type, multiple, value) VALUES (?1, ?2, 1, 0, ?3)",
            )
            .expect("prepare");
        // A tree with fan-out 10, in path order as an import writes it.
        let per_node = props / nodes.max(1);
        let mut extra = props % nodes.max(1);
        let mut paths: Vec<String> = vec![String::new()];
        for id in 1..=nodes {
            let parent = if id == 1 { 0 } else { (id - 2) / 10 + 1 };
            let name = format!("node-{id}");
            let path = if id == 1 {
                "/content".to_string()
            } else {
                format!("{}/{name}", paths[parent as usize])
            };
            ins_node
                .execute(params![
                    id,
                    if parent == 0 { None } else { Some(parent) },
                    name,
                    id % 10,
                    path
                ])
                .expect("insert node");
            paths.push(path);
            let n = per_node + i64::from(extra > 0);
            extra = extra.saturating_sub(1);
            for k in 0..n {
                ins_prop
                    .execute(params![
                        id,
                        format!("property{k}"),
                        format!("value {k} of node {id}, some text of realistic length")
                    ])
                    .expect("insert prop");
            }
        }
    }
    tx.commit().expect("commit");
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"seconds\":{seconds:.3},\"nodes\":{nodes},\"props\":{props}}}");
}
