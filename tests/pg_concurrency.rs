//! A PostgreSQL repository shared by processes (issue 19 item 2): installs into two
//! workspaces from separate processes while others read, all acknowledged installs
//! in the history; and a SIGKILL of an installing process at several moments
//! leaves the repository exactly before or after, with the lock free again.
//!
//! The tests start their own PostgreSQL cluster (see `src/repository/pg/testdb.rs`,
//! included here), or use `JCRPACK_TEST_POSTGRES`; without PostgreSQL they fail.

#[allow(dead_code)]
#[path = "../src/repository/pg/testdb.rs"]
mod testdb;

mod fault_support;

use fault_support::pages_package;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn jcrpack() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jcrpack"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null());
    c
}

fn ok(mut c: Command) -> Output {
    let out = c.output().expect("run jcrpack");
    assert!(
        out.status.success(),
        "{c:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn repo(schema: &str) -> String {
    format!("{}?schema={schema}", testdb::fresh_database())
}

fn init(url: &str) {
    let mut c = jcrpack();
    c.args(["init", url]);
    ok(c);
}

fn dump(url: &str, workspace: &str) -> String {
    let mut c = jcrpack();
    c.args([
        "dump", "--format", "json", "--repo", url, "-w", workspace, "/",
    ]);
    String::from_utf8(ok(c).stdout).expect("utf-8")
}

fn history(url: &str) -> Vec<String> {
    let mut c = jcrpack();
    c.args(["history", "--repo", url]);
    String::from_utf8(ok(c).stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// A package folder with `pages` pages of a few nodes each below /content/big.
fn big_package(dir: &Path, pages: usize) -> PathBuf {
    pages_package(dir, &format!("big{pages}"), pages, |i| {
        format!(
            r#"title="page {i}" n="{{Long}}{i}"><a jcr:primaryType="nt:unstructured" x="1"><b jcr:primaryType="nt:unstructured" y="[p,q]"/></a><c jcr:primaryType="nt:unstructured"/>"#
        )
    })
}

fn import(url: &str, package: &Path, workspace: &str) -> Command {
    import_waiting(url, package, workspace, "120")
}

fn import_waiting(url: &str, package: &Path, workspace: &str, lock_timeout: &str) -> Command {
    let mut c = jcrpack();
    c.arg("import").arg(package).args([
        "-q",
        "--repo",
        url,
        "-w",
        workspace,
        "--lock-timeout",
        lock_timeout,
    ]);
    c
}

/// A package folder named `token` whose `pages` pages below /content/big all
/// carry `token` in their title, so that a dump tells which install it shows.
fn token_package(dir: &Path, token: &str, pages: usize) -> PathBuf {
    pages_package(dir, token, pages, |i| {
        format!(r#"title="{token} page {i}"><a jcr:primaryType="nt:unstructured" x="1"/>"#)
    })
}

/// The install tokens (`tok...`) a dump shows.
fn tokens(dump: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = dump;
    while let Some(i) = rest.find("tok") {
        let t: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &rest[i + t.len().max(1)..];
        out.insert(t);
    }
    out
}

/// The recorded operations, oldest first: (id, description).
fn history_json(url: &str) -> Vec<(i64, String)> {
    let mut c = jcrpack();
    c.args(["history", "--json", "--repo", url]);
    let v: serde_json::Value = serde_json::from_slice(&ok(c).stdout).expect("history JSON");
    v["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| {
            (
                o["id"].as_i64().expect("id"),
                o["description"].as_str().expect("description").to_string(),
            )
        })
        .collect()
}

/// The install token of an operation's description (`install /tmp/.../tokw0r3`).
fn token_of(description: &str) -> Option<String> {
    let path = description.strip_prefix("install ")?;
    Some(path.rsplit('/').next().unwrap_or(path).to_string())
}

/// A small deterministic generator for the kill moments (xorshift).
struct Moments(u64);

impl Moments {
    fn next_fraction(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 10_000) as f64 / 10_000.0
    }
}

#[test]
fn installs_into_two_workspaces_with_readers_and_kills_stay_consistent() {
    const WORKSPACES: [&str; 2] = ["default", "other"];
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().to_path_buf();
    let url = repo("shared");
    init(&url);
    let mut c = jcrpack();
    c.args(["workspace", "create", "other", "--repo", &url]);
    ok(c);
    let ops_before = history_json(&url).len();
    // A first install into each workspace: every later dump shows one token, and
    // the time of a warm install places the kills.
    let mut warm = Duration::ZERO;
    for ws in WORKSPACES {
        let pkg = token_package(&dir, &format!("tokfirst{ws}"), 20);
        let started = Instant::now();
        ok(import(&url, &pkg, ws));
        warm = started.elapsed();
    }
    // Bounded: the writers start installs for this long, whatever the machine's load.
    let run_for = Duration::from_secs(15);
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    // 4 processes at a time install into 2 workspaces, each acknowledged install
    // noted with its operation id.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, dir) = (url.clone(), dir.clone());
            std::thread::spawn(move || {
                let ws = WORKSPACES[w % 2];
                let mut acknowledged = Vec::new();
                let mut round = 0;
                while round == 0 || started.elapsed() < run_for {
                    let token = format!("tokw{w}r{round}");
                    let pkg = token_package(&dir, &token, 20);
                    let mut c = import(&url, &pkg, ws);
                    c.arg("--json");
                    let report: serde_json::Value =
                        serde_json::from_slice(&ok(c).stdout).expect("import JSON");
                    let op = report["operation"].as_i64().expect("an operation id");
                    acknowledged.push((op, token, ws));
                    round += 1;
                }
                acknowledged
            })
        })
        .collect();
    // A fifth installs and is killed at pseudo-random moments (up to twice a warm
    // install's time: some land mid-install, some after).
    let killer = {
        let (url, dir) = (url.clone(), dir.clone());
        std::thread::spawn(move || {
            let mut moments = Moments(0x5eed_1234_abcd);
            let mut killed = Vec::new();
            let mut n = 0;
            while started.elapsed() < run_for {
                let token = format!("tokk{n}");
                let pkg = token_package(&dir, &token, 20);
                let mut child = import(&url, &pkg, WORKSPACES[n % 2])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn");
                std::thread::sleep(warm.mul_f64(4.0 * moments.next_fraction()));
                let _ = child.kill();
                let _ = child.wait();
                killed.push(token);
                n += 1;
            }
            killed
        })
    };
    // 8 readers dump a workspace and read the history until the writers are done.
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let (url, done) = (url.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let ws = WORKSPACES[i % 2];
                let mut seen = Vec::new();
                let cap = Instant::now();
                while !done.load(Ordering::SeqCst) && cap.elapsed() < Duration::from_secs(600) {
                    let d = dump(&url, ws);
                    serde_json::from_str::<serde_json::Value>(&d).expect("a dump is JSON");
                    seen.push((ws, tokens(&d)));
                    history(&url);
                }
                seen
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.join().expect("writer"));
    }
    let killed = killer.join().expect("killer");
    done.store(true, Ordering::SeqCst);
    let seen: Vec<_> = readers
        .into_iter()
        .map(|r| r.join().expect("reader"))
        .collect();

    let ops = history_json(&url);
    // Operation ids follow commit order: the history is ascending.
    assert!(
        ops.windows(2).all(|w| w[0].0 < w[1].0),
        "operation ids out of order: {ops:?}"
    );
    // Every acknowledged install is in the history under its id.
    for (op, token, _) in &acknowledged {
        assert!(
            ops.iter()
                .any(|(id, d)| id == op && token_of(d).as_deref() == Some(token.as_str())),
            "acknowledged install {token} (operation {op}) is not in the history: {ops:?}"
        );
    }
    // Nothing else is, but the first installs and the killed installs that had
    // committed before their kill.
    let recorded_kills = ops
        .iter()
        .filter_map(|(_, d)| token_of(d))
        .filter(|t| killed.contains(t))
        .count();
    assert_eq!(
        ops.len(),
        ops_before + 2 + acknowledged.len() + recorded_kills,
        "{ops:?}"
    );
    // Every dump shows exactly one install's content (never a mix, never a
    // killed install's part), of an operation in the history, and each reader's
    // dumps of a workspace go forward in operation id order.
    let op_of = |token: &str| {
        ops.iter()
            .find(|(_, d)| token_of(d).as_deref() == Some(token))
            .map(|(id, _)| *id)
    };
    let mut dumps = 0;
    for reader in &seen {
        let mut last = i64::MIN;
        for (ws, toks) in reader {
            assert_eq!(toks.len(), 1, "a dump of {ws} mixed installs: {toks:?}");
            let token = toks.iter().next().unwrap();
            let op = op_of(token).unwrap_or_else(|| {
                panic!("a dump of {ws} shows {token}, which is not in the history")
            });
            assert!(
                op >= last,
                "a reader of {ws} went back from operation {last} to {op}"
            );
            last = op;
            dumps += 1;
        }
    }
    // And the state at the end is the last install's of each workspace.
    for ws in WORKSPACES {
        let last_token = ops
            .iter()
            .rev()
            .filter_map(|(_, d)| token_of(d))
            .find(|t| {
                acknowledged.iter().any(|(_, a, w)| a == t && *w == ws)
                    || t == &format!("tokfirst{ws}")
                    || killed
                        .iter()
                        .position(|k| k == t)
                        .is_some_and(|n| WORKSPACES[n % 2] == ws)
            })
            .expect("an install");
        let now = tokens(&dump(&url, ws));
        assert_eq!(now.into_iter().collect::<Vec<_>>(), [last_token], "{ws}");
    }
    eprintln!(
        "{} acknowledged installs, {} killed ({} of them had committed), {dumps} consistent dumps in {:?} (a warm install took {warm:?})",
        acknowledged.len(),
        killed.len(),
        recorded_kills,
        started.elapsed()
    );
    assert!(dumps > 0 && !acknowledged.is_empty());
}

#[test]
fn a_killed_install_leaves_the_repository_before_or_after() {
    let t = tempfile::tempdir().unwrap();
    let pkg = big_package(t.path(), 100);
    // The state after a whole install, and how long one takes.
    let reference = repo("reference");
    init(&reference);
    let before = dump(&reference, "default");
    let started = Instant::now();
    ok(import(&reference, &pkg, "default"));
    let cold = started.elapsed();
    let after = dump(&reference, "default");
    // The first install into a fresh cluster pays for its start (caches, catalogs):
    // time a second one into another fresh repository, and place the kills by the
    // faster, so that the early ones land while the install runs.
    let warm = repo("reference_warm");
    init(&warm);
    let started = Instant::now();
    ok(import(&warm, &pkg, "default"));
    let full = cold.min(started.elapsed());
    assert_ne!(before, after);
    let (mut saw_before, mut saw_after) = (0, 0);
    for (i, fraction) in [0.1, 0.4, 0.7, 1.5].into_iter().enumerate() {
        let url = repo(&format!("kill{i}"));
        init(&url);
        let ops = history(&url).len();
        let mut child = import(&url, &pkg, "default")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();
        let now = dump(&url, "default");
        let new_ops = history(&url).len() - ops;
        if now == before {
            assert_eq!(
                new_ops, 0,
                "killed at {fraction}: nothing changed, nothing recorded"
            );
            saw_before += 1;
        } else {
            assert_eq!(now, after, "killed at {fraction}: neither before nor after");
            assert_eq!(new_ops, 1, "killed at {fraction}: the install is recorded");
            saw_after += 1;
        }
        // The dead client's lock went with its transaction.
        ok(import_waiting(&url, &pkg, "default", "5"));
        assert_eq!(dump(&url, "default"), after);
    }
    eprintln!("killed installs: {saw_before} left before, {saw_after} after (a whole install took {full:?})");
    assert!(saw_before > 0, "no kill landed mid-install");
}
