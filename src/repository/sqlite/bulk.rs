//! A bulk load into a repository that holds next to nothing
//! ([`OpenOptions::bulk_load`](crate::repository::OpenOptions::bulk_load)): its
//! write transaction goes through SQLite's rollback journal instead of the
//! write-ahead log.
//!
//! In WAL mode every page a transaction writes is written twice: into the log,
//! and into the database at the checkpoint that follows the commit; a transaction
//! larger than the page cache also rewrites the checksums of the log frames it
//! wrote again. A rollback journal instead holds the original of each page the
//! transaction changes, and a page added past the end of the database has no
//! original: a first load into an empty repository writes its pages once.
//! Measured at a million nodes (a 500 MB database), the import's commit took
//! 1.5 to 2.8 s in WAL mode and 0.22 to 0.26 s this way.
//!
//! Both journals make a transaction all or nothing, also when the process is
//! killed: a rollback journal left behind is "hot", and the next connection that
//! reads the database rolls it back first. `synchronous=FULL` while the rollback
//! journal is in use keeps the commit durable and consistent across a power loss
//! too (WAL mode needs only `NORMAL` for that).
//!
//! What changes is concurrency: once the transaction writes to the database file,
//! readers wait for its commit (up to their busy timeout) where WAL lets them read
//! the last commit. So the switch is made only when this connection is the only
//! one open (SQLite refuses to leave WAL mode otherwise) and the database is at
//! most [`FRESH_BYTES`]; a connection opened meanwhile keeps the mode it finds
//! ([`super::schema::configure`]). After the transaction the connection returns to
//! WAL mode; should a reader prevent that, the next connection opened switches
//! the database back.

use super::Db;
use rusqlite::ErrorCode;
use std::time::Duration;

/// The largest database (pages times page size) that is bulk loaded through the
/// rollback journal: an empty repository is under 100 KiB.
pub(crate) const FRESH_BYTES: i64 = 1 << 20;

/// Switches the connection to the rollback journal for the transaction about to
/// begin, when the database is small enough and no other connection has it open;
/// true when it did. Never waits for a lock.
pub(super) fn enter(db: &Db<'_>) -> bool {
    let size = db.conn.query_row(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        [],
        |r| r.get::<_, i64>(0),
    );
    match size {
        Ok(size) if size <= FRESH_BYTES => {}
        _ => return false,
    }
    let mode = without_waiting(db, || {
        db.conn
            .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get::<_, String>(0))
    });
    match mode {
        Ok(m) if m.eq_ignore_ascii_case("delete") => {}
        Ok(m) => {
            tracing::debug!("bulk load: the database stays in journal mode {m}");
            return false;
        }
        Err(e) => {
            tracing::debug!("bulk load: the write-ahead log stays ({e})");
            return false;
        }
    }
    if let Err(e) = db.conn.execute_batch("PRAGMA synchronous=FULL") {
        tracing::debug!("bulk load: synchronous=FULL refused ({e})");
        leave(db);
        return false;
    }
    tracing::debug!("bulk load: writing through the rollback journal");
    true
}

/// Returns the connection to WAL mode after the transaction ended (committed or
/// rolled back). Never waits for a lock: a reader that holds one keeps the
/// database in rollback mode until the next connection opens it.
pub(super) fn leave(db: &Db<'_>) {
    let mode = without_waiting(db, || {
        db.conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
    });
    if let Err(e) = db.conn.execute_batch("PRAGMA synchronous=NORMAL") {
        tracing::warn!("{}: synchronous=NORMAL refused: {e}", db.root.display());
    }
    match mode {
        Ok(m) if m.eq_ignore_ascii_case("wal") => {}
        Ok(m) => tracing::debug!("bulk load: the database stays in journal mode {m}"),
        Err(e) => tracing::debug!("bulk load: the rollback journal stays ({e})"),
    }
}

/// Runs `f` with no busy timeout, then restores the connection's.
fn without_waiting<T>(db: &Db<'_>, f: impl FnOnce() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    db.conn.busy_timeout(Duration::ZERO)?;
    let out = f();
    db.conn.busy_timeout(db.busy)?;
    out
}

/// The error of a lock another connection holds.
pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}
