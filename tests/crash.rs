//! All or nothing, even when killed: a broken entry near the end of a large package
//! changes nothing, a dry run reports what the install then does, and a process
//! killed with SIGKILL at random moments of an install, an undo, an export or an
//! extract leaves the repository exactly before or after, and the output package
//! complete or absent.
//!
//! The kill moments come from a seeded generator, as fractions of a run's duration
//! (which is measured before, and again whenever a run ends before its kill, since
//! the load of the machine changes while the tests run). Each test prints its seed
//! and moments (shown when it fails); `CRASH_SEED=N cargo test --test crash` reruns
//! with the same fractions (the timing of the machine still varies).

mod fault_support;

use fault_support::{
    check_blobs, copy_dir, dump, fresh_copy, import, init, is_writer_temp, jcrpack, names_in,
    pages_package, read_back_zip, run_ok, BigPackage, Rng,
};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A package folder with `pages` pages of a few nodes each below /content/big, the
/// last one malformed when `broken_last`.
fn big_package(dir: &Path, pages: usize, broken_last: bool) -> PathBuf {
    pages_package(dir, "big", pages, |i| {
        if broken_last && i == pages - 1 {
            "><unclosed>".to_string()
        } else {
            format!(
                r#"title="page {i}" n="{{Long}}{i}"><a jcr:primaryType="nt:unstructured" x="1"><b jcr:primaryType="nt:unstructured" y="[p,q]"/></a><c jcr:primaryType="nt:unstructured"/>"#
            )
        }
    })
}

/// Loads a small tree into `repo`: /content/big with a child that a package of
/// /content/big (mode replace) removes, and /content/other outside its filter.
fn load_pre(repo: &Path, dir: &Path) {
    let pre = dir.join("pre.xml");
    std::fs::write(&pre, r#"<content xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"><big jcr:primaryType="nt:unstructured" old="yes"><keep jcr:primaryType="nt:unstructured"/></big><other jcr:primaryType="nt:unstructured" x="1"/></content>"#).unwrap();
    run_ok(
        jcrpack()
            .arg("load")
            .arg(&pre)
            .args(["--at", "/", "--repo"])
            .arg(repo),
    );
}

fn seeded_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    init(&repo);
    load_pre(&repo, dir);
    repo
}

#[test]
fn a_broken_entry_near_the_end_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded_repo(t.path());
    let before = dump(&repo);
    let pkg = big_package(t.path(), 300, true);
    let out = jcrpack()
        .arg("import")
        .arg(&pkg)
        .arg("--repo")
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p00299/.content.xml:1:"));
    assert_eq!(dump(&repo), before);
}

#[test]
fn dry_run_reports_what_the_install_does() {
    let t = tempfile::tempdir().unwrap();
    let repo = seeded_repo(t.path());
    let pkg = big_package(t.path(), 20, false);
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = run_ok(
            jcrpack()
                .arg("import")
                .arg(&pkg)
                .arg("--repo")
                .arg(&repo)
                .arg("--json")
                .args(extra),
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("dryRun");
        v.as_object_mut().unwrap().remove("operation");
        v
    };
    let dry = run(&["--dry-run"]);
    let real = run(&[]);
    assert_eq!(dry, real);
    assert!(
        real["totals"]["deleted"].as_u64().unwrap() >= 1,
        "the pre-state child 'keep' goes"
    );
}

/// The repository the kill tests start from, and the package they install.
struct Scenario {
    /// A repository with a small loaded tree and version 1 of the package installed
    /// (pages 0 to 199, 10 binaries).
    before: PathBuf,
    /// Version 2 of the package as a folder: pages 100 to 499 (0 to 99 go, 100 to
    /// 199 change, the rest are new), 20 binaries (the first 10 with new content)
    /// and one of 512 KiB. Sized so that 50 kills stay well under a minute in a
    /// debug build.
    v2: PathBuf,
}

impl Scenario {
    fn new(dir: &Path) -> Scenario {
        let before = dir.join("before");
        init(&before);
        load_pre(&before, dir);
        let v1 = BigPackage {
            version: 1,
            first: 0,
            pages: 200,
            files: 10,
            large: 0,
        }
        .write(&dir.join("v1"));
        import(&before, &v1);
        let v2 = BigPackage {
            version: 2,
            first: 100,
            pages: 400,
            files: 20,
            large: 1,
        }
        .write(&dir.join("v2"));
        Scenario { before, v2 }
    }

    /// `before` with version 2 installed, at `repo`; returns how long the install took.
    fn after(&self, repo: &Path) -> Duration {
        copy_dir(&self.before, repo);
        let start = Instant::now();
        import(repo, &self.v2);
        start.elapsed()
    }
}

/// The times of three runs of `run`, each given its number.
fn three_runs(run: impl FnMut(usize) -> Duration) -> Vec<Duration> {
    (0..3).map(run).collect()
}

/// The seed of the kill moments: `CRASH_SEED` when set, else a new one per run,
/// printed (shown when the test fails) so that a failure can be rerun with it.
fn crash_seed(test: &str) -> u64 {
    let seed = match std::env::var("CRASH_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("CRASH_SEED={s}: expected an unsigned integer")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    println!("{test}: seed {seed} (rerun with CRASH_SEED={seed})");
    seed
}

/// When to kill: `n` fractions of a run's duration, one at a random point of each
/// of `n` equal slices of 0 to 1.1 (so every part of a run, its end included, gets
/// its kill, and a run a little slower than estimated too), in random order (so a
/// change of the machine's load does not fall on one part of the runs); and the
/// duration, the median of the latest three runs that ended by themselves.
struct Schedule {
    seed: u64,
    fractions: Vec<f64>,
    runs: Vec<Duration>,
}

impl Schedule {
    fn new(name: &str, n: usize, calibration: Vec<Duration>) -> Schedule {
        let seed = crash_seed(name);
        let mut rng = Rng::new(seed);
        let mut fractions: Vec<f64> = (0..n)
            .map(|k| 1.1 * (k as f64 + rng.unit()) / n as f64)
            .collect();
        for i in (1..n).rev() {
            fractions.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        println!("{name}: runs took {calibration:?}; kill at fractions {fractions:.3?}");
        Schedule {
            seed,
            fractions,
            runs: calibration,
        }
    }

    /// How long a run takes now.
    fn duration(&self) -> Duration {
        let mut last: Vec<Duration> = self.runs.iter().rev().take(3).copied().collect();
        last.sort();
        last[last.len() / 2]
    }

    /// When to kill run `k`.
    fn delay(&self, k: usize) -> Duration {
        self.duration().mul_f64(self.fractions[k])
    }

    /// Notes how a run ended.
    fn ended(&mut self, ending: &Ending) {
        if let Ending::Finished(_, took) = ending {
            self.runs.push(*took);
        }
    }
}

/// How a process ended when the test meant to kill it.
enum Ending {
    Killed,
    /// It ended by itself, after this long.
    Finished(ExitStatus, Duration),
}

/// Starts `cmd`, and kills it with SIGKILL after `delay` unless it has ended by then.
fn kill_after(cmd: &mut Command, delay: Duration) -> Ending {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Ending::Finished(status, start.elapsed());
        }
        let left = delay.saturating_sub(start.elapsed());
        if left.is_zero() {
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            return Ending::Killed;
        }
        std::thread::sleep(left.min(Duration::from_millis(2)));
    }
}

/// The first line where two dumps differ, for a failure message that fits a screen.
fn first_difference(now: &str, expected: &str) -> String {
    let line = now
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(now.lines().count().min(expected.lines().count()));
    format!(
        "line {}: {:?}, expected {:?}",
        line + 1,
        now.lines().nth(line),
        expected.lines().nth(line)
    )
}

/// Counts of what the kills of one test found.
#[derive(Default)]
struct Tally {
    killed: usize,
    finished: usize,
    old: usize,
    new: usize,
    orphans: usize,
}

impl Tally {
    fn ending(&mut self, ending: &Ending, what: &str) -> &'static str {
        match ending {
            Ending::Killed => {
                self.killed += 1;
                "killed"
            }
            Ending::Finished(status, _) => {
                assert!(status.success(), "{what} ended by itself with {status}");
                self.finished += 1;
                "had finished"
            }
        }
    }
}

/// Kills `jcrpack cmd` at the moments of `schedule`, each time on a fresh copy of
/// repository `start` made at `work`, and checks that the repository is then
/// exactly `old` or `new` (a dump) and that no blob it refers to is missing or
/// incomplete; `back` brings a `new` repository back to `old`, when given.
fn kill_repository_command(
    name: &str,
    mut schedule: Schedule,
    (start, work): (&Path, &Path),
    args: &dyn Fn(&Path) -> Command,
    (old, new): (&str, &str),
    back: Option<&dyn Fn(&Path)>,
) -> Tally {
    let seed = schedule.seed;
    let mut tally = Tally::default();
    for k in 0..schedule.fractions.len() {
        fresh_copy(start, work);
        let delay = schedule.delay(k);
        let ending = kill_after(&mut args(work), delay);
        schedule.ended(&ending);
        let ended = tally.ending(&ending, name);
        let now = dump(work);
        let blobs = check_blobs(work);
        tally.orphans = tally.orphans.max(blobs.orphans);
        let state = if now == old {
            tally.old += 1;
            "unchanged"
        } else if now == new {
            tally.new += 1;
            if let Some(back) = back {
                back(work);
                let again = dump(work);
                assert!(
                    again == old,
                    "{name}, seed {seed}, moment {k} ({delay:?}): going back does not restore the state before: {}",
                    first_difference(&again, old)
                );
                check_blobs(work);
            }
            "fully applied"
        } else {
            panic!(
                "{name}, seed {seed}, moment {k} ({delay:?}, {ended}): the repository is neither as before nor as after: {}",
                first_difference(&now, old)
            );
        };
        println!(
            "{name} moment {k} at {:.3} = {delay:?}: {ended}, {state}, {} blobs referenced, {} orphan blob files",
            schedule.fractions[k], blobs.referenced, blobs.orphans
        );
    }
    println!(
        "{name}: {} killed, {} had finished; {} unchanged, {} fully applied; at most {} orphan blob files",
        tally.killed, tally.finished, tally.old, tally.new, tally.orphans
    );
    tally
}

#[test]
fn sigkill_at_50_random_moments_of_an_install_leaves_before_or_after() {
    let t = tempfile::tempdir().unwrap();
    let s = Scenario::new(t.path());
    let before = dump(&s.before);
    assert!(check_blobs(&s.before).referenced >= 10);
    let runs = three_runs(|i| s.after(&t.path().join(format!("after{i}"))));
    let after = dump(&t.path().join("after0"));
    assert_ne!(before, after);
    let undo = |repo: &Path| {
        run_ok(jcrpack().args(["undo", "--repo"]).arg(repo));
    };
    let install = |repo: &Path| {
        let mut c = jcrpack();
        c.arg("import").arg(&s.v2).arg("--repo").arg(repo);
        c
    };
    let tally = kill_repository_command(
        "install",
        Schedule::new("install", 50, runs),
        (&s.before, &t.path().join("work")),
        &install,
        (&before, &after),
        Some(&undo),
    );
    // Runs vary on a shared machine: some end before their moment.
    assert!(
        tally.killed >= 25,
        "only {} of 50 kills landed during the install",
        tally.killed
    );
}

#[test]
fn sigkill_during_an_undo_leaves_before_or_after() {
    let t = tempfile::tempdir().unwrap();
    let s = Scenario::new(t.path());
    let before = dump(&s.before);
    let installed = t.path().join("installed");
    s.after(&installed);
    let after = dump(&installed);
    // How long the undo of version 2 takes (it restores what the install removed
    // and changed), and its result.
    let undone = t.path().join("undone");
    let runs = three_runs(|_| {
        fresh_copy(&installed, &undone);
        let start = Instant::now();
        run_ok(jcrpack().args(["undo", "--repo"]).arg(&undone));
        start.elapsed()
    });
    assert_eq!(dump(&undone), before);
    let undo = |repo: &Path| {
        let mut c = jcrpack();
        c.args(["undo", "--repo"]).arg(repo);
        c
    };
    let tally = kill_repository_command(
        "undo",
        Schedule::new("undo", 15, runs),
        (&installed, &t.path().join("work")),
        &undo,
        (&after, &before),
        None,
    );
    assert!(
        tally.killed >= 7,
        "only {} of 15 kills landed during the undo",
        tally.killed
    );
}

/// Kills `jcrpack args... -o DIR/out.zip` at `n` random moments, each time in an
/// empty folder DIR, and checks that DIR then holds the complete package (the same
/// bytes as `reference`) or none, plus at most the writer's temporary file.
fn kill_package_writer(
    name: &str,
    n: usize,
    dir: &Path,
    args: &dyn Fn(&Path) -> Command,
    reference: &Path,
) {
    let expected = std::fs::read(reference).unwrap();
    assert!(read_back_zip(reference) > 20);
    run_ok(jcrpack().arg("info").arg(reference));
    // How long a full run takes; and every run writes the same bytes.
    let runs = three_runs(|i| {
        let out = dir.join(format!("calibration{i}.zip"));
        let start = Instant::now();
        run_ok(&mut args(&out));
        let took = start.elapsed();
        assert!(
            std::fs::read(&out).unwrap() == expected,
            "{name} is not deterministic"
        );
        took
    });
    let mut schedule = Schedule::new(name, n, runs);
    let seed = schedule.seed;
    let (mut killed, mut complete, mut temps) = (0, 0, 0);
    let out = dir.join("out");
    for k in 0..n {
        if out.exists() {
            std::fs::remove_dir_all(&out).unwrap();
        }
        std::fs::create_dir_all(&out).unwrap();
        let delay = schedule.delay(k);
        let ending = kill_after(&mut args(&out.join("out.zip")), delay);
        schedule.ended(&ending);
        let ended = match ending {
            Ending::Killed => {
                killed += 1;
                "killed"
            }
            Ending::Finished(status, _) => {
                assert!(status.success(), "{name} ended by itself with {status}");
                "had finished"
            }
        };
        let mut found = Vec::new();
        for f in names_in(&out) {
            if f == "out.zip" {
                let bytes = std::fs::read(out.join(&f)).unwrap();
                assert!(
                    bytes == expected,
                    "{name}, seed {seed}, moment {k} ({delay:?}, {ended}): out.zip is there but not complete ({} of {} bytes)",
                    bytes.len(),
                    expected.len()
                );
                complete += 1;
                found.push("complete out.zip");
            } else {
                assert!(
                    is_writer_temp(&f),
                    "{name}, seed {seed}, moment {k} ({delay:?}, {ended}): unexpected file {f}"
                );
                temps += 1;
                found.push("a temporary file");
            }
        }
        println!(
            "{name} moment {k} at {:.3} = {delay:?}: {ended}, found {found:?}",
            schedule.fractions[k]
        );
    }
    println!(
        "{name}: {killed} of {n} killed, {complete} complete packages, {temps} temporary files left"
    );
    assert!(
        killed >= n / 2,
        "only {killed} of {n} kills landed during the {name}"
    );
}

#[test]
fn sigkill_during_an_export_leaves_the_package_complete_or_absent() {
    let t = tempfile::tempdir().unwrap();
    let s = Scenario::new(t.path());
    let repo = t.path().join("installed");
    s.after(&repo);
    let export = |out: &Path| {
        let mut c = jcrpack();
        c.args(["export", "--root", "/content/big", "--repo"])
            .arg(&repo)
            .arg("-o")
            .arg(out);
        c
    };
    let reference = t.path().join("reference.zip");
    run_ok(&mut export(&reference));
    kill_package_writer("export", 15, t.path(), &export, &reference);
}

#[test]
fn sigkill_during_an_extract_leaves_the_package_complete_or_absent() {
    let t = tempfile::tempdir().unwrap();
    let folder = BigPackage {
        version: 2,
        first: 0,
        pages: 800,
        files: 90,
        large: 4,
    }
    .write(&t.path().join("v2"));
    let zip = t.path().join("v2.zip");
    run_ok(jcrpack().arg("build").arg(&folder).arg("-o").arg(&zip));
    let extract = |out: &Path| {
        let mut c = jcrpack();
        c.arg("extract")
            .arg(&zip)
            .args(["--root", "/content/big", "-o"])
            .arg(out);
        c
    };
    let reference = t.path().join("reference.zip");
    run_ok(&mut extract(&reference));
    kill_package_writer("extract", 15, t.path(), &extract, &reference);
}
