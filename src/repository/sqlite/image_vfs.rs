//! A database image opened read-only and read on demand, piece by piece, from an
//! [`ImageSource`] (a backup's image chunks, `backup::chunk_image`): SQLite reads
//! only the pages its queries touch, so opening a backup to restore one page
//! reads a few chunks of its image, not all of it, and writes nothing.
//!
//! It is a SQLite VFS, `jcrpack-image`: the process's default VFS (its time,
//! randomness and temporary files) with an `xOpen` of its own. A main database
//! file whose name [`open`] registered is served from its source: read-only and
//! immutable (`SQLITE_IOCAP_IMMUTABLE`: no locks, no journal, `-wal` or `-shm`
//! looked for); any other file goes to the default VFS. An image is a rollback
//! journal database (its header says so: see `read_image`).
//!
//! A read that the source fails (a damaged chunk) is `SQLITE_IOERR_READ` to SQLite;
//! the source keeps what went wrong for its owner to report.

use rusqlite::ffi;
use rusqlite::{Connection, OpenFlags};
use std::ffi::{c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Where an image's bytes come from.
pub trait ImageSource: Send + Sync {
    /// The image's size in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the image's bytes from `offset` on (all within
    /// [`ImageSource::size`]).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

/// The VFS's name.
const VFS_NAME: &CStr = c"jcrpack-image";

/// The file names [`open`] hands SQLite start with this (then a number).
const NAME_PREFIX: &str = "jcrpack-image-";

/// Images being opened, by file name: `xOpen` takes its source from here.
static OPENING: Mutex<Vec<(String, Arc<dyn ImageSource>)>> = Mutex::new(Vec::new());

/// Numbers the names of opened images.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// An open image file: SQLite's file header first, as every VFS file begins.
#[repr(C)]
struct ImageFile {
    base: ffi::sqlite3_file,
    /// The source, owned (a `Box<Arc<…>>` turned into a pointer; freed by `x_close`).
    source: *mut Arc<dyn ImageSource>,
}

/// The VFS, registered once (`None` when registration failed): the default VFS
/// it passes other files to.
struct Registered {
    default: *mut ffi::sqlite3_vfs,
}

// SAFETY: the pointer is set once at registration and never written again;
// SQLite's VFS objects are meant to be used from any thread.
unsafe impl Send for Registered {}
unsafe impl Sync for Registered {}

static VFS: OnceLock<Option<Registered>> = OnceLock::new();

/// Opens the image `source` as a read-only connection. `Err` when SQLite refuses
/// it (not a database, or a read failed: see the source for why).
pub fn open(source: Arc<dyn ImageSource>) -> rusqlite::Result<Connection> {
    if register().is_none() {
        return Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_CANTOPEN),
            Some("the image reader could not be set up".into()),
        ));
    }
    let name = format!("{NAME_PREFIX}{}", NEXT.fetch_add(1, Ordering::Relaxed));
    lock_opening().push((name.clone(), source));
    let opened = Connection::open_with_flags_and_vfs(
        format!("/{name}"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        VFS_NAME,
    );
    // SQLite opens the main file as the connection opens: the name is done with.
    lock_opening().retain(|(n, _)| *n != name);
    opened
}

fn lock_opening() -> std::sync::MutexGuard<'static, Vec<(String, Arc<dyn ImageSource>)>> {
    OPENING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers the VFS (once): a copy of the default VFS with our `xOpen` and a
/// file size that fits both kinds of file.
fn register() -> Option<&'static Registered> {
    VFS.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS (or NULL), which
        // lives as long as the process; it is only read here.
        unsafe {
            if ffi::sqlite3_initialize() != ffi::SQLITE_OK {
                return None;
            }
            let default = ffi::sqlite3_vfs_find(std::ptr::null());
            if default.is_null() {
                return None;
            }
            let mut vfs: ffi::sqlite3_vfs = *default;
            vfs.zName = VFS_NAME.as_ptr();
            vfs.pNext = std::ptr::null_mut();
            vfs.szOsFile = vfs.szOsFile.max(std::mem::size_of::<ImageFile>() as c_int);
            vfs.xOpen = Some(x_open);
            // Leaked on purpose: SQLite keeps the pointer for the process's life.
            let vfs = Box::into_raw(Box::new(vfs));
            if ffi::sqlite3_vfs_register(vfs, 0) != ffi::SQLITE_OK {
                drop(Box::from_raw(vfs));
                return None;
            }
            Some(Registered { default })
        }
    })
    .as_ref()
}

/// The source registered for file `name` (a full path ending in our name).
fn source_for(name: &str) -> Option<Arc<dyn ImageSource>> {
    let base = name.rsplit('/').next()?;
    lock_opening()
        .iter()
        .find(|(n, _)| n == base)
        .map(|(_, s)| Arc::clone(s))
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(reg) = VFS.get().and_then(Option::as_ref) else {
        return ffi::SQLITE_CANTOPEN;
    };
    let main = flags & ffi::SQLITE_OPEN_MAIN_DB != 0;
    // SAFETY: a non-null name is a NUL-terminated string SQLite keeps for the call.
    let ours = (!name.is_null())
        .then(|| unsafe { CStr::from_ptr(name) }.to_str().ok())
        .flatten()
        .filter(|n| {
            n.rsplit('/')
                .next()
                .is_some_and(|b| b.starts_with(NAME_PREFIX))
        });
    match ours {
        Some(n) if main => {
            let Some(source) = source_for(n) else {
                return ffi::SQLITE_CANTOPEN;
            };
            // SAFETY: SQLite hands a buffer of szOsFile bytes (at least an
            // ImageFile), suitably aligned, for us to fill.
            unsafe {
                let f = file.cast::<ImageFile>();
                std::ptr::write(
                    f,
                    ImageFile {
                        base: ffi::sqlite3_file { pMethods: &METHODS },
                        source: Box::into_raw(Box::new(source)),
                    },
                );
                if !out_flags.is_null() {
                    *out_flags = ffi::SQLITE_OPEN_READONLY;
                }
            }
            ffi::SQLITE_OK
        }
        // A journal or WAL of an image is never wanted: it is read-only.
        Some(_) => ffi::SQLITE_CANTOPEN,
        // SAFETY: the default VFS's own xOpen, with its own VFS object.
        None => match unsafe { (*reg.default).xOpen } {
            Some(open) => unsafe { open(reg.default, name, file, flags, out_flags) },
            None => ffi::SQLITE_CANTOPEN,
        },
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_lock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// The source of an open image file.
///
/// # Safety
/// `file` is an [`ImageFile`] that [`x_open`] filled and [`x_close`] has not closed.
unsafe fn source_of<'a>(file: *mut ffi::sqlite3_file) -> &'a Arc<dyn ImageSource> {
    // SAFETY: as the function's contract says.
    unsafe { &*(*file.cast::<ImageFile>()).source }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: called once per opened ImageFile; the box was made by x_open.
    unsafe {
        let f = file.cast::<ImageFile>();
        if !(*f).source.is_null() {
            drop(Box::from_raw((*f).source));
            (*f).source = std::ptr::null_mut();
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let (Ok(amount), Ok(offset)) = (usize::try_from(amount), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_READ;
    };
    // SAFETY: an open ImageFile, and a buffer of `amount` bytes from SQLite.
    let (source, out) = unsafe {
        (
            source_of(file),
            std::slice::from_raw_parts_mut(buf.cast::<u8>(), amount),
        )
    };
    let available = source.size().saturating_sub(offset).min(amount as u64) as usize;
    let (data, past_end) = out.split_at_mut(available);
    if !data.is_empty() {
        let read = catch_unwind(AssertUnwindSafe(|| source.read_at(data, offset)));
        if !matches!(read, Ok(Ok(()))) {
            return ffi::SQLITE_IOERR_READ;
        }
    }
    if past_end.is_empty() {
        ffi::SQLITE_OK
    } else {
        // What SQLite asks of a read past the end: zeros, and this code.
        past_end.fill(0);
        ffi::SQLITE_IOERR_SHORT_READ
    }
}

unsafe extern "C" fn x_write(
    _file: *mut ffi::sqlite3_file,
    _buf: *const c_void,
    _amount: c_int,
    _offset: ffi::sqlite3_int64,
) -> c_int {
    ffi::SQLITE_READONLY
}

unsafe extern "C" fn x_truncate(_file: *mut ffi::sqlite3_file, _size: ffi::sqlite3_int64) -> c_int {
    ffi::SQLITE_READONLY
}

unsafe extern "C" fn x_sync(_file: *mut ffi::sqlite3_file, _flags: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: an open ImageFile, and a pointer SQLite gives for the answer.
    unsafe {
        *size = ffi::sqlite3_int64::try_from(source_of(file).size()).unwrap_or(i64::MAX);
    }
    ffi::SQLITE_OK
}

/// Locks (and unlocks) cost nothing: the image never changes.
unsafe extern "C" fn x_lock(_file: *mut ffi::sqlite3_file, _level: c_int) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_check_reserved_lock(
    _file: *mut ffi::sqlite3_file,
    reserved: *mut c_int,
) -> c_int {
    // SAFETY: a pointer SQLite gives for the answer.
    unsafe { *reserved = 0 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_file_control(
    _file: *mut ffi::sqlite3_file,
    _op: c_int,
    _arg: *mut c_void,
) -> c_int {
    ffi::SQLITE_NOTFOUND
}

unsafe extern "C" fn x_sector_size(_file: *mut ffi::sqlite3_file) -> c_int {
    4096
}

unsafe extern "C" fn x_device_characteristics(_file: *mut ffi::sqlite3_file) -> c_int {
    ffi::SQLITE_IOCAP_IMMUTABLE
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// An image in memory that counts its reads and fails those at or past
    /// `fail_from`.
    struct Bytes {
        data: Vec<u8>,
        reads: AtomicUsize,
        fail_from: u64,
    }

    impl ImageSource for Bytes {
        fn size(&self) -> u64 {
            self.data.len() as u64
        }

        fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            if offset + buf.len() as u64 > self.fail_from {
                return Err(std::io::Error::other("damaged"));
            }
            buf.copy_from_slice(&self.data[offset as usize..offset as usize + buf.len()]);
            Ok(())
        }
    }

    /// A database file of `rows` rows with journal_mode DELETE, as bytes.
    fn database(rows: usize) -> Vec<u8> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.db");
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=DELETE; CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);",
        )
        .unwrap();
        let tx = c.unchecked_transaction().unwrap();
        for i in 0..rows {
            tx.execute("INSERT INTO t VALUES (?1, ?2)", (i as i64, "x".repeat(100)))
                .unwrap();
        }
        tx.commit().unwrap();
        drop(c);
        std::fs::read(&p).unwrap()
    }

    #[test]
    fn an_image_reads_as_the_file_and_only_the_pages_asked_for() {
        let data = database(20_000);
        let pages = data.len() / 4096;
        let src = Arc::new(Bytes {
            data,
            reads: AtomicUsize::new(0),
            fail_from: u64::MAX,
        });
        let c = open(src.clone()).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 20_000);
        let all = src.reads.load(Ordering::Relaxed);
        assert!(all >= pages / 2, "{all} reads of {pages} pages");
        // One row by its key: a few pages.
        let c = open(src.clone()).unwrap();
        let before = src.reads.load(Ordering::Relaxed);
        let v: String = c
            .query_row("SELECT v FROM t WHERE k = 12345", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v.len(), 100);
        let few = src.reads.load(Ordering::Relaxed) - before;
        assert!(few < 10, "{few} reads for one row");
        // Read-only.
        assert!(c.execute("INSERT INTO t VALUES (-1, 'y')", []).is_err());
        assert_eq!(lock_opening().len(), 0, "no name left registered");
    }

    #[test]
    fn a_failed_read_is_an_error_and_pages_before_it_still_read() {
        let data = database(20_000);
        let len = data.len() as u64;
        let src = Arc::new(Bytes {
            data,
            reads: AtomicUsize::new(0),
            fail_from: len / 2,
        });
        let c = open(src).unwrap();
        assert!(c
            .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .is_err());
        // The schema (page 1) still reads.
        let t: String = c
            .query_row("SELECT name FROM sqlite_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(t, "t");
    }

    #[test]
    fn a_source_that_is_not_a_database_is_refused() {
        let src = Arc::new(Bytes {
            data: vec![7u8; 8192],
            reads: AtomicUsize::new(0),
            fail_from: u64::MAX,
        });
        let c = open(src);
        let refused = match c {
            Err(_) => true,
            Ok(c) => c
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                    r.get::<_, i64>(0)
                })
                .is_err(),
        };
        assert!(refused);
    }
}
