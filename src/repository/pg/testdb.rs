//! A private PostgreSQL cluster for tests: one per test binary, started on first
//! use and shared by its tests, each test in a database of its own.
//!
//! `JCRPACK_TEST_POSTGRES=postgres://USER@HOST:PORT/DB` uses an existing server
//! instead (its user must be allowed to create databases). Otherwise `initdb` and
//! `pg_ctl` are found on the PATH or in `/usr/lib/postgresql/*/bin`; the cluster
//! lives in a temporary folder, listens on 127.0.0.1 on a free port, trusts local
//! connections, and runs without fsync. PostgreSQL refuses to run as root, so as
//! root the cluster runs as the `postgres` user (which the distribution's package
//! creates). A watchdog process stops the cluster and removes its folder when the
//! test binary exits, however it exits. Without PostgreSQL the tests fail, saying
//! so: they never pass without having run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The server tests connect to: a URL without a database.
struct Server {
    /// `postgres://USER@HOST:PORT`.
    base: String,
    /// A database to connect to for `CREATE DATABASE`.
    admin_db: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Finds a PostgreSQL program.
fn program(name: &str) -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort_by_key(|p| {
        p.components()
            .nth(4)
            .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command run as the cluster's owner.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) -> Result<(), String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("JCRPACK_TEST_POSTGRES") {
        let url = url.trim_end_matches('/').to_string();
        let (base, db) = match url.rsplit_once('/') {
            Some((b, d))
                if b.contains("://") && !b.ends_with('/') && b.matches('/').count() == 2 =>
            {
                (b.to_string(), d.to_string())
            }
            _ => (url.clone(), "postgres".to_string()),
        };
        return Ok(Server { base, admin_db: db });
    }
    let missing = |p: &str| {
        format!(
            "PostgreSQL is not installed: {p} is not on the PATH nor in /usr/lib/postgresql/*/bin \
             (install the postgresql package, or set JCRPACK_TEST_POSTGRES=postgres://USER@HOST:PORT/DB)"
        )
    };
    let initdb = program("initdb").ok_or_else(|| missing("initdb"))?;
    let pg_ctl = program("pg_ctl").ok_or_else(|| missing("pg_ctl"))?;
    let dir = tempfile::Builder::new()
        .prefix("jcrpack-pg-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder: {e}"))?
        .keep();
    if is_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:").arg(&dir);
                c
            },
            "chown of the cluster folder to postgres",
        )?;
    }
    let data = dir.join("data");
    run(
        {
            let mut c = as_owner(&initdb);
            c.arg("-D").arg(&data).args([
                "-U",
                "jcrpack",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]);
            c
        },
        "initdb",
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))?
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    run(
        {
            let mut c = as_owner(&pg_ctl);
            c.arg("-D")
                .arg(&data)
                .args(["-o", &options, "-w", "-t", "60", "-l"])
                .arg(dir.join("log"))
                .arg("start");
            c
        },
        "pg_ctl start",
    )?;
    // The watchdog: stops the cluster when this process is gone.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {owner}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        owner = if is_root() { "runuser -u postgres -- " } else { "" },
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
    );
    {
        use std::os::unix::process::CommandExt;
        Command::new("sh")
            .args(["-c", &stop])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the cluster's watchdog: {e}"))?;
    }
    Ok(Server {
        base: format!("postgres://jcrpack@127.0.0.1:{port}"),
        admin_db: "postgres".to_string(),
    })
}

/// A fresh, empty database on the test server, as a `postgres://` URL (without a
/// schema parameter). Panics, saying why, when there is no PostgreSQL.
pub(crate) fn fresh_database() -> String {
    let server = match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let name = format!(
        "jcrpack_t{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = format!("{}/{}", server.base, server.admin_db);
    let mut client = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {admin}: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    format!("{}/{name}", server.base)
}

/// `n` letters that do not repeat, seeded by `seed`: test names that PostgreSQL
/// cannot compress (it compresses an index entry, so a repeated letter would fit
/// in a btree entry where real text of that length does not).
pub(crate) fn letters(n: usize, seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'a' + (x % 26) as u8) as char
        })
        .collect()
}
