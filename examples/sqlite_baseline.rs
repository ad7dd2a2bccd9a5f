//! Baselines for `jcrpack import` on SQLite: the floor of any install.
//!
//! * `rows SOURCE DEST ROWS` (not timed): writes every row of every table of the
//!   repository in folder SOURCE (one an import filled) and the list of its blob
//!   files to file ROWS, and empties every table of DEST, a repository made by
//!   `jcrpack init` (same tables, same indexes), so that the next step writes the
//!   same rows into the same schema.
//! * `insert ROWS DEST` (timed): with the connection settings jcrpack uses
//!   (`jcrpack::repository::sqlite::configure`: WAL, `synchronous=NORMAL`, its page
//!   cache), in one transaction, inserts every row of ROWS with one prepared
//!   statement a table, and writes each blob file of the source into DEST's blob
//!   store the way jcrpack's does (same bytes, `blobs/ab/cdef…`, a temporary file
//!   renamed into place, one `syncfs` of the blob folder before `COMMIT`). It reads
//!   the rows from the ROWS file and the blob bytes from the source's files, as an
//!   import reads its package; it hashes nothing and checks nothing.
//! * `content NODES PROPS OUT.db` (timed; the baseline before): as many node and
//!   property rows as an import wrote, made up (fan-out 10, one type, one value
//!   shape), into a fresh database with the node and property tables alone and a
//!   64 MiB page cache; no journal, operation or registry rows, no blob files.
//!
//! Each timed step prints one JSON object on stdout with its seconds.
//!
//! Usage: `cargo run --release --example sqlite_baseline -- rows|insert|content ...`

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, params_from_iter, Connection};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The first bytes of a ROWS file.
const MAGIC: &[u8; 16] = b"jcrpack-rows-v1\n";

/// What follows in a ROWS file: a table, a row of it, the end of a table, a blob.
const TABLE: u8 = b'T';
const ROW: u8 = b'R';
const END: u8 = b'E';
const BLOB: u8 = b'B';

/// The column encodings (SQLite's five storage classes).
const NULL: u8 = 0;
const INTEGER: u8 = 1;
const REAL: u8 = 2;
const TEXT: u8 = 3;
const BYTES: u8 = 4;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = match args.as_slice() {
        ["rows", source, dest, rows] => {
            dump_rows(Path::new(source), Path::new(dest), Path::new(rows))
        }
        ["insert", rows, dest] => timed(|| insert_rows(Path::new(rows), Path::new(dest))),
        ["content", nodes, props, db] => timed(|| content_rows(nodes, props, Path::new(db))),
        _ => {
            eprintln!(
                "usage: sqlite_baseline rows SOURCE DEST ROWS | insert ROWS DEST | content NODES PROPS OUT.db"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = done {
        eprintln!("sqlite_baseline: {e}");
        std::process::exit(1);
    }
}

/// Runs `step` and prints its seconds and what it reports, as one JSON object.
fn timed(step: impl FnOnce() -> Result<String>) -> Result<()> {
    let start = Instant::now();
    let counts = step()?;
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"seconds\":{seconds:.3},{counts}}}");
    Ok(())
}

fn db_of(repo: &Path) -> PathBuf {
    repo.join(jcrpack::repository::sqlite::DB_FILE)
}

/// The tables of a repository database, in creation order.
fn tables(conn: &Connection) -> Result<Vec<String>> {
    let mut q = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )?;
    let names = q.query_map([], |r| r.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

/// `rows SOURCE DEST ROWS`: see the module documentation.
fn dump_rows(source: &Path, dest: &Path, rows: &Path) -> Result<()> {
    let from =
        Connection::open_with_flags(db_of(source), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut out = BufWriter::new(File::create(rows)?);
    out.write_all(MAGIC)?;
    write_bytes(&mut out, source.join("blobs").to_string_lossy().as_bytes())?;
    for table in tables(&from)? {
        let mut q = from.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns: Vec<String> = q.column_names().map(str::to_string).collect();
        out.write_all(&[TABLE])?;
        write_bytes(&mut out, table.as_bytes())?;
        write_u64(&mut out, columns.len() as u64)?;
        for c in &columns {
            write_bytes(&mut out, c.as_bytes())?;
        }
        let mut r = q.query([])?;
        while let Some(row) = r.next()? {
            out.write_all(&[ROW])?;
            for i in 0..columns.len() {
                write_value(&mut out, row.get_ref(i)?)?;
            }
        }
        out.write_all(&[END])?;
    }
    for blob in blob_files(&source.join("blobs"))? {
        out.write_all(&[BLOB])?;
        write_bytes(&mut out, blob.as_bytes())?;
    }
    out.flush()?;
    // The destination keeps its schema and settings, without the rows `init` wrote.
    let to = Connection::open(db_of(dest))?;
    for table in tables(&to)? {
        to.execute(&format!("DELETE FROM \"{table}\""), [])?;
    }
    to.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// The blob files below `dir` (`ab/cdef…`), sorted.
fn blob_files(dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for shard in std::fs::read_dir(dir)? {
        let shard = shard?;
        if !shard.file_type()?.is_dir() {
            continue;
        }
        let prefix = shard.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(shard.path())? {
            let f = f?;
            if f.file_type()?.is_file() {
                found.push(format!("{prefix}/{}", f.file_name().to_string_lossy()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `insert ROWS DEST`: see the module documentation.
fn insert_rows(rows: &Path, dest: &Path) -> Result<String> {
    let mut input = BufReader::with_capacity(1 << 20, File::open(rows)?);
    let mut magic = [0u8; 16];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(format!("{} is not a ROWS file", rows.display()).into());
    }
    let blobs_from = PathBuf::from(String::from_utf8(read_bytes(&mut input)?)?);
    let blobs_to = dest.join("blobs");
    let mut conn = Connection::open(db_of(dest))?;
    jcrpack::repository::sqlite::configure(&conn)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (mut row_count, mut blob_count, mut blob_bytes) = (0u64, 0u64, 0u64);
    let mut values: Vec<Value> = Vec::new();
    loop {
        let mut tag = [0u8; 1];
        if input.read(&mut tag)? == 0 {
            break;
        }
        match tag[0] {
            TABLE => {
                let table = String::from_utf8(read_bytes(&mut input)?)?;
                let n = read_u64(&mut input)? as usize;
                let columns = (0..n)
                    .map(|_| {
                        Ok(format!(
                            "\"{}\"",
                            String::from_utf8(read_bytes(&mut input)?)?
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let marks = vec!["?"; n].join(", ");
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO \"{table}\"({}) VALUES ({marks})",
                    columns.join(", ")
                ))?;
                loop {
                    input.read_exact(&mut tag)?;
                    match tag[0] {
                        ROW => {
                            values.clear();
                            for _ in 0..n {
                                values.push(read_value(&mut input)?);
                            }
                            insert.execute(params_from_iter(values.iter()))?;
                            row_count += 1;
                        }
                        END => break,
                        other => {
                            return Err(format!("unexpected tag {other} in table {table}").into())
                        }
                    }
                }
            }
            BLOB => {
                let name = String::from_utf8(read_bytes(&mut input)?)?;
                blob_bytes += write_blob(&blobs_from.join(&name), &blobs_to, &name)?;
                blob_count += 1;
            }
            other => return Err(format!("unexpected tag {other}").into()),
        }
    }
    sync_folder(&blobs_to)?;
    tx.commit()?;
    Ok(format!(
        "\"rows\":{row_count},\"blobs\":{blob_count},\"blob_bytes\":{blob_bytes}"
    ))
}

/// Writes blob file `name` (`ab/cdef…`) of `from` into blob folder `to` as jcrpack's
/// blob store does: a temporary file in the folder, renamed into place.
fn write_blob(from: &Path, to: &Path, name: &str) -> Result<u64> {
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(to)?;
    let size = io::copy(&mut File::open(from)?, &mut tmp)?;
    let target = to.join(name);
    if let Some(sub) = target.parent() {
        std::fs::create_dir_all(sub)?;
    }
    tmp.persist(&target)?;
    Ok(size)
}

/// One `syncfs` of the folder's file system, as the blob store makes new blobs
/// durable before the commit that refers to them.
fn sync_folder(dir: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    // SAFETY: `syncfs` only reads the descriptor, which `d` keeps open.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    Ok(())
}

fn write_u64(out: &mut impl Write, n: u64) -> io::Result<()> {
    out.write_all(&n.to_le_bytes())
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    write_u64(out, bytes.len() as u64)?;
    out.write_all(bytes)
}

fn read_bytes(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let n = read_u64(input)?;
    let mut v = Vec::new();
    input.take(n).read_to_end(&mut v)?;
    if v.len() as u64 != n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(v)
}

fn write_value(out: &mut impl Write, v: ValueRef<'_>) -> io::Result<()> {
    match v {
        ValueRef::Null => out.write_all(&[NULL]),
        ValueRef::Integer(i) => {
            out.write_all(&[INTEGER])?;
            out.write_all(&i.to_le_bytes())
        }
        ValueRef::Real(f) => {
            out.write_all(&[REAL])?;
            out.write_all(&f.to_le_bytes())
        }
        ValueRef::Text(t) => {
            out.write_all(&[TEXT])?;
            write_bytes(out, t)
        }
        ValueRef::Blob(b) => {
            out.write_all(&[BYTES])?;
            write_bytes(out, b)
        }
    }
}

fn read_value(input: &mut impl Read) -> Result<Value> {
    let mut tag = [0u8; 1];
    input.read_exact(&mut tag)?;
    let mut eight = [0u8; 8];
    Ok(match tag[0] {
        NULL => Value::Null,
        INTEGER => {
            input.read_exact(&mut eight)?;
            Value::Integer(i64::from_le_bytes(eight))
        }
        REAL => {
            input.read_exact(&mut eight)?;
            Value::Real(f64::from_le_bytes(eight))
        }
        TEXT => Value::Text(String::from_utf8(read_bytes(input)?)?),
        BYTES => Value::Blob(read_bytes(input)?),
        other => return Err(format!("unexpected value tag {other}").into()),
    })
}

/// `content NODES PROPS OUT.db`: the baseline before (see the module documentation).
fn content_rows(nodes: &str, props: &str, db: &Path) -> Result<String> {
    let nodes: i64 = nodes.parse()?;
    let props: i64 = props.parse()?;
    let _ = std::fs::remove_file(db);
    let mut conn = Connection::open(db)?;
    let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;
         CREATE TABLE node(id INTEGER PRIMARY KEY, ws INTEGER NOT NULL, parent INTEGER, name TEXT NOT NULL,
           position INTEGER NOT NULL, path TEXT NOT NULL, ptype TEXT NOT NULL, mixins TEXT NOT NULL);
         CREATE UNIQUE INDEX node_path ON node(ws, path);
         CREATE INDEX node_children ON node(parent, position);
         CREATE TABLE prop(node INTEGER NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL,
           multiple INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY(node, name)) WITHOUT ROWID;",
    )?;
    let tx = conn.transaction()?;
    {
        let mut ins_node = tx.prepare(
            "INSERT INTO node(id, ws, parent, name, position, path, ptype, mixins) VALUES (?1, 1, ?2, ?3, ?4, ?5, 'nt:unstructured', '')",
        )?;
        let mut ins_prop = tx.prepare(
            "INSERT INTO prop(node, name, type, multiple, value) VALUES (?1, ?2, 1, 0, ?3)",
        )?;
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
            ins_node.execute(params![
                id,
                if parent == 0 { None } else { Some(parent) },
                name,
                id % 10,
                path
            ])?;
            paths.push(path);
            let n = per_node + i64::from(extra > 0);
            extra = extra.saturating_sub(1);
            for k in 0..n {
                ins_prop.execute(params![
                    id,
                    format!("property{k}"),
                    format!("value {k} of node {id}, some text of realistic length")
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(format!("\"nodes\":{nodes},\"props\":{props}"))
}
