//! All or nothing, even when killed: `jcrpack restore` killed with SIGKILL at
//! random moments leaves the repository exactly as before the restore or exactly
//! as the backup, with every blob it refers to complete; a finished restore is
//! undone exactly.
//!
//! As in `crash.rs`, the moments are seeded fractions of a measured run, here 0 to
//! 1.5 of it so that some runs finish and their undo is checked too
//! (`CRASH_SEED=N` reruns with the same fractions).

mod fault_support;

use fault_support::{
    check_blobs, copy_dir, dump, fresh_copy, import, init, jcrpack, run_ok, BigPackage, Rng,
};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn seed() -> u64 {
    let seed = match std::env::var("CRASH_SEED") {
        Ok(s) => s.trim().parse().expect("CRASH_SEED: an unsigned integer"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    println!("restore kills: seed {seed} (rerun with CRASH_SEED={seed})");
    seed
}

/// Starts `cmd` and kills it with SIGKILL after `delay`; `None` when it was killed,
/// else how long it took (it must have succeeded).
fn kill_after(cmd: &mut Command, delay: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "the restore ended by itself with {status}"
            );
            return Some(start.elapsed());
        }
        let left = delay.saturating_sub(start.elapsed());
        if left.is_zero() {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(left.min(Duration::from_millis(2)));
    }
}

#[test]
fn sigkill_at_random_moments_of_a_restore_leaves_before_or_after() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    // The backup: version 1 of a package with pages and binaries.
    let backed_up = dir.join("backed-up");
    init(&backed_up);
    let v1 = BigPackage {
        version: 1,
        first: 0,
        pages: 200,
        files: 10,
        large: 0,
    }
    .write(&dir.join("v1"));
    import(&backed_up, &v1);
    let catalogue = dir.join("catalogue");
    let id = {
        use jcrpack::backup::{Catalogue, CreateOptions};
        let cat = Catalogue::open_or_create(&catalogue).unwrap();
        let actor = jcrpack::events::Actor {
            user: "test".into(),
            time: jcrpack::value::Date::parse("2026-12-01T09:00:00.000Z").unwrap(),
        };
        cat.create_backup(
            &backed_up,
            &CreateOptions::new(actor),
            &jcrpack::events::NoEvents,
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap()
        .id
    };
    let old = dump(&backed_up);
    // The repository since: version 2 installed (pages removed, changed, added;
    // binaries with new content and a large one).
    let now = dir.join("now");
    copy_dir(&backed_up, &now);
    let v2 = BigPackage {
        version: 2,
        first: 100,
        pages: 400,
        files: 20,
        large: 1,
    }
    .write(&dir.join("v2"));
    import(&now, &v2);
    let current = dump(&now);
    assert_ne!(old, current);
    let work = dir.join("work");
    let restore = |repo: &Path| {
        let mut c = jcrpack();
        c.arg("restore")
            .arg(&id)
            .arg("--repo")
            .arg(repo)
            .arg("--catalogue")
            .arg(&catalogue)
            .arg("--yes");
        c
    };
    // Calibrate: three runs, each restoring the backup exactly.
    let mut runs = Vec::new();
    for _ in 0..3 {
        fresh_copy(&now, &work);
        let start = Instant::now();
        run_ok(&mut restore(&work));
        runs.push(start.elapsed());
        assert_eq!(dump(&work), old);
    }
    let n = 20;
    let mut rng = Rng::new(seed());
    let mut fractions: Vec<f64> = (0..n)
        .map(|k| 1.5 * (k as f64 + rng.unit()) / n as f64)
        .collect();
    for i in (1..n).rev() {
        fractions.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    println!("runs took {runs:?}; kill at fractions {fractions:.3?}");
    let (mut killed, mut unchanged, mut restored) = (0, 0, 0);
    for (k, f) in fractions.iter().enumerate() {
        fresh_copy(&now, &work);
        let mut last: Vec<Duration> = runs.iter().rev().take(3).copied().collect();
        last.sort();
        let delay = last[1].mul_f64(*f);
        match kill_after(&mut restore(&work), delay) {
            None => killed += 1,
            Some(took) => runs.push(took),
        }
        let state = dump(&work);
        check_blobs(&work);
        if state == current {
            unchanged += 1;
        } else if state == old {
            restored += 1;
            // A restore that got through is undone exactly.
            run_ok(jcrpack().args(["undo", "--repo"]).arg(&work));
            assert!(
                dump(&work) == current,
                "moment {k}: undo does not bring the state back"
            );
        } else {
            panic!("moment {k} ({delay:?}): the repository is neither as before nor as the backup");
        }
    }
    println!("{killed} of {n} killed; {unchanged} unchanged, {restored} restored");
    assert!(
        killed >= n / 2,
        "only {killed} of {n} kills landed during the restore"
    );
}
