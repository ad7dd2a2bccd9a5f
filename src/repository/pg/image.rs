//! The image step of a backup of a PostgreSQL repository: the rows of one
//! consistent snapshot written into a fresh SQLite repository database, so that a
//! backup of PostgreSQL has the same catalogue format as one of SQLite (chunked
//! image, blob list, manifest), and restores into either backend.
//!
//! # One snapshot, taken hot
//!
//! [`PgStore::take_image`](crate::repository::Store::take_image) opens a
//! `REPEATABLE READ READ ONLY` transaction on the store's connection: every row it
//! copies, and every blob the backup then streams out by hash
//! ([`StoreRead::open_blob`](crate::repository::StoreRead::open_blob) on the same
//! connection), is of one snapshot, whatever other processes commit meanwhile.
//! Readers never wait in PostgreSQL and the snapshot takes no lock, so installs go
//! on; a blob collection (`gc`) that removes a blob during the backup does not
//! remove it from the snapshot. The snapshot is held from the image until
//! [`Store::end_image`](crate::repository::Store::end_image) (which the backup
//! calls when its blobs are copied) or until the store is closed.
//!
//! The tables mirror the SQLite backend's with the same column encoding
//! ([`super::schema`]), so the copy is row for row: each table is read through a
//! cursor in batches of [`BATCH`] rows (memory stays bounded) in the order of a key
//! (the image is the same file for the same rows) and inserted into the image in
//! one SQLite transaction. `meta` gets the SQLite schema's format and version and a
//! new generation token; deleted workspaces (kept as `live = false` rows in
//! PostgreSQL, whose names may be reused) are left out, as SQLite deletes them.
//! The image is then finished as SQLite's own (chosen workspaces kept, counted,
//! blobs listed: `sqlite::finish_image`).

use super::{PgDb, PgStore};
use crate::events::{Event, Events, Unit};
use crate::repository::image::{ImageInfo, ImageOptions};
use crate::repository::sqlite::{create_image, finish_image, IMAGE_META};
use crate::repository::{RepositoryError, Result};
use postgres::types::Type;
use postgres::Row;
use rusqlite::types::Value as SqlValue;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows fetched from a cursor at a time.
pub(crate) const BATCH: usize = 2000;

/// The tables copied row for row: name, columns (the same in both schemas), the
/// condition and the order.
const TABLES: [(&str, &str, &str, &str); 9] = [
    ("workspace", "id, name", "live", "id"),
    (
        "node",
        "id, ws, parent, name, position, path, ptype, mixins",
        "true",
        "id",
    ),
    (
        "prop",
        "node, name, type, multiple, value",
        "true",
        "node, md5(name)",
    ),
    ("namespace", "prefix, uri", "true", "prefix"),
    ("nodetype", "name, cnd", "true", "name"),
    (
        "op",
        "id, time, \"user\", description, install_id, package_id, options, undoes, nodes, props, regs",
        "true",
        "id",
    ),
    (
        "jnode",
        "op, node, ws, path, existed, parent, name, position, ptype, mixins",
        "true",
        "op, node",
    ),
    (
        "jprop",
        "op, node, name, ws, path, existed, type, multiple, value",
        "true",
        "op, node, left(name, 600), md5(name)",
    ),
    (
        "jreg",
        "op, kind, key, existed, value",
        "true",
        "op, kind, md5(key)",
    ),
];

/// Column `i` of a PostgreSQL row as a SQLite value (booleans as 0 and 1).
fn sql_value(db: &PgDb, row: &Row, i: usize) -> Result<SqlValue> {
    let t = row.columns()[i].type_().clone();
    Ok(if t == Type::INT8 {
        db.get::<Option<i64>>(row, i)?
            .map_or(SqlValue::Null, SqlValue::Integer)
    } else if t == Type::INT4 {
        db.get::<Option<i32>>(row, i)?
            .map_or(SqlValue::Null, |v| SqlValue::Integer(v.into()))
    } else if t == Type::BOOL {
        db.get::<Option<bool>>(row, i)?
            .map_or(SqlValue::Null, |v| SqlValue::Integer(v.into()))
    } else if t == Type::TEXT || t == Type::VARCHAR {
        db.get::<Option<String>>(row, i)?
            .map_or(SqlValue::Null, SqlValue::Text)
    } else {
        return Err(db.corrupt(format!(
            "column {} has type {t}, which an image cannot hold",
            row.columns()[i].name()
        )));
    })
}

impl PgStore {
    /// Writes the image of the snapshot; see the module doc.
    pub(super) fn write_image(
        &self,
        dest: &Path,
        blob_list: &mut dyn Write,
        options: &ImageOptions,
        events: &dyn Events,
        cancel: &AtomicBool,
    ) -> Result<ImageInfo> {
        let db = self.db();
        let out = create_image(dest)?;
        let dest_err = |e: rusqlite::Error| RepositoryError::Database {
            repository: dest.to_path_buf(),
            source: e,
        };
        let cancelled = || RepositoryError::Cancelled {
            repository: db.location().to_path_buf(),
        };
        db.hold_image_snapshot()?;
        events.event(&Event::Phase {
            name: "copying the snapshot's rows",
            total: None,
            unit: Unit::Items,
        });
        out.execute_batch("BEGIN").map_err(dest_err)?;
        for (k, v) in IMAGE_META {
            out.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)",
                rusqlite::params![k, v],
            )
            .map_err(dest_err)?;
        }
        let meta = db.query(
            "SELECT key, value FROM meta WHERE key NOT IN ('format', 'version') ORDER BY key",
            &[],
        )?;
        for r in &meta {
            let (k, v): (String, String) = (db.get(r, 0)?, db.get(r, 1)?);
            out.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)",
                rusqlite::params![k, v],
            )
            .map_err(dest_err)?;
        }
        // SQLite hands out node ids from `meta.next_node_id`: past every block
        // drawn from the `node_id` sequence, so no id a journal names comes again.
        let next = db.query(
            "SELECT last_value + CASE WHEN is_called THEN $1::bigint ELSE 0 END FROM node_id",
            &[&super::NODE_ID_BLOCK],
        )?;
        let next: i64 = db.get(&next[0], 0)?;
        out.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('next_node_id', ?1)",
            rusqlite::params![next.to_string()],
        )
        .map_err(dest_err)?;
        // The image is a repository of its own: a new generation token.
        out.execute_batch(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', lower(hex(randomblob(16))))",
        )
        .map_err(dest_err)?;
        for (table, columns, cond, order) in TABLES {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled());
            }
            let n = columns.split(',').count();
            let marks = (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>();
            let insert = format!(
                "INSERT INTO {table}({columns}) VALUES ({})",
                marks.join(", ")
            );
            let mut st = out.prepare(&insert).map_err(dest_err)?;
            // A cursor per table: a prepared FETCH keeps the columns of its cursor.
            db.batch(&format!(
                "DECLARE image_{table} NO SCROLL CURSOR FOR SELECT {columns} FROM {table} WHERE {cond} ORDER BY {order}"
            ))?;
            loop {
                let rows = db.query(&format!("FETCH {BATCH} FROM image_{table}"), &[])?;
                for r in &rows {
                    let values = (0..n)
                        .map(|i| sql_value(db, r, i))
                        .collect::<Result<Vec<_>>>()?;
                    st.execute(rusqlite::params_from_iter(values))
                        .map_err(dest_err)?;
                }
                events.event(&Event::Advance {
                    amount: rows.len() as u64,
                });
                if rows.len() < BATCH {
                    break;
                }
                if cancel.load(Ordering::Relaxed) {
                    return Err(cancelled());
                }
            }
            db.batch(&format!("CLOSE image_{table}"))?;
        }
        out.execute_batch("COMMIT").map_err(dest_err)?;
        finish_image(out, dest, blob_list, options, events, cancel, db.location())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdb;
    use crate::backup::{Catalogue, CreateOptions};
    use crate::events::{Actor, Event, Events};
    use crate::node::Node;
    use crate::repository::location::OpenOptions;
    use crate::repository::pg::PgStore;
    use crate::repository::{AddOptions, OperationMeta, Store, StoreRead};
    use crate::value::{Binary, Property, Value};
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    /// Writers that wait for each other rather than fail busy.
    fn patient() -> OpenOptions {
        OpenOptions {
            busy_timeout: std::time::Duration::from_secs(120),
            ..OpenOptions::default()
        }
    }

    struct Stop<'a>(&'a AtomicBool);

    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    fn meta(what: &str) -> OperationMeta {
        crate::repository::contract::meta(what)
    }

    /// Adds node `/NAME` (with a blob of its own) in one recorded operation.
    fn add(store: &mut PgStore, name: &str) {
        let blob = store
            .put_blob(&mut format!("content of {name}").repeat(500).as_bytes())
            .unwrap();
        let mut n = Node::new(name, "nt:unstructured");
        n.set(Property::single("data", Value::Binary(blob)));
        let mut t = store.begin_operation(meta(name)).unwrap();
        t.add_node("default", "/", &n, &AddOptions::append())
            .unwrap();
        t.commit().unwrap();
    }

    fn names(store: &dyn StoreRead) -> BTreeSet<String> {
        store
            .children("default", "/")
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with('n'))
            .collect()
    }

    /// Commits one operation from another connection when the image's copy begins:
    /// the snapshot was taken before, so the backup must not hold it.
    struct WriteDuringCopy {
        url: String,
        done: Mutex<bool>,
    }

    impl Events for WriteDuringCopy {
        fn event(&self, e: &Event) {
            if let Event::Phase { name, .. } = e {
                let mut done = self.done.lock().unwrap();
                if name.contains("snapshot") && !*done {
                    *done = true;
                    let mut other = PgStore::open_url(&self.url, &patient()).unwrap();
                    add(&mut other, "n_during");
                }
            }
        }
    }

    /// A backup of PostgreSQL is one snapshot while others write: what it holds is
    /// exactly the operations up to its manifest's last operation, blobs included,
    /// and the blobs of removed nodes still come from the snapshot.
    #[test]
    fn a_backup_is_one_snapshot_while_others_write() {
        let url = format!("{}?schema=repo", testdb::fresh_database());
        let mut store = PgStore::init_url(&url, &OpenOptions::default()).unwrap();
        for i in 0..5 {
            add(&mut store, &format!("n{i:03}"));
        }
        let stop = AtomicBool::new(false);
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::open_or_create(&dir.path().join("cat")).unwrap();
        let events = WriteDuringCopy {
            url: url.clone(),
            done: Mutex::new(false),
        };
        let manifest = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut w = PgStore::open_url(&url, &patient()).unwrap();
                let mut i = 100;
                while !stop.load(Ordering::Relaxed) {
                    add(&mut w, &format!("n{i:03}"));
                    i += 1;
                }
            });
            // However the backup ends, the writer stops (a panic must not hang).
            let _stop = Stop(&stop);
            let m = catalogue
                .create_backup_from(
                    &store,
                    &CreateOptions::new(Actor {
                        user: "tester".into(),
                        time: crate::value::Date::from_epoch_millis(0),
                    }),
                    &events,
                    &AtomicBool::new(false),
                )
                .unwrap();
            drop(_stop);
            writer.join().unwrap();
            m
        });
        assert!(
            *events.done.lock().unwrap(),
            "the write during the copy ran"
        );
        let last = manifest.last_operation.expect("a last operation");
        // Every operation up to `last` is in the backup, none after it.
        let mut expected = BTreeSet::new();
        let mut later = 0;
        for op in store.history().unwrap() {
            let name = op.description.clone();
            if !name.starts_with('n') {
                continue;
            }
            if op.id.0 <= last {
                expected.insert(name);
            } else {
                later += 1;
            }
        }
        assert!(later >= 1, "n_during committed after the snapshot");
        let backup = catalogue.open_store(&manifest.id).unwrap();
        assert_eq!(names(&*backup), expected);
        assert!(!expected.contains("n_during"));
        assert_eq!(backup.history().unwrap().last().unwrap().id.0, last);
        for name in &expected {
            let p = backup
                .property("default", &format!("/{name}"), "data")
                .unwrap()
                .unwrap();
            let Some(Value::Binary(Binary::Blob { sha256, .. })) = p.value() else {
                panic!("{name}: not a blob")
            };
            let mut got = String::new();
            std::io::Read::read_to_string(&mut backup.open_blob(sha256).unwrap(), &mut got)
                .unwrap();
            assert_eq!(got, format!("content of {name}").repeat(500));
        }
        assert!(manifest.blobs.count as usize >= expected.len());
        // The snapshot ended with the backup: the store writes again.
        add(&mut store, "n_after");
    }
}
