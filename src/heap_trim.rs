//! Giving freed heap memory back to the system while a command runs (issue 16).
//!
//! glibc's malloc returns memory to the system only from the free top of an arena
//! (and above its trim threshold): pages freed between chunks that are still live
//! stay resident. An import frees most of what it allocates (inflated entries,
//! parsed DocView files, statements) but keeps some of it (names, sets), and the
//! read-ahead thread allocates in its own arena what the installing thread frees:
//! at 1M nodes the two arenas held 49 and 30 MB resident while about half of it was
//! in use (`malloc_stats` at 100k: 20.9 MB held, 5.0 MB in use in the reader's
//! arena). `malloc_trim(0)` gives back every whole free page of every arena;
//! [`Trimmer`] calls it on a timer from a thread of its own, and the binary's main
//! thread while it waits for the command ([`wait_trimming`]), so that no command
//! has to know where its peaks are. One pass over the free lists costs microseconds to
//! a few milliseconds; the pages it gives back that are used again cost a fault.
//!
//! Measured on the 1M-node package (`/usr/bin/time -v`, peak RSS, before -> after):
//! import 124 -> 103 MiB, re-import 128 -> 101, dump PACKAGE 120 -> 100, diff
//! 125 -> 113; at 100k import 71-74 -> 56 MiB (the same loop at 500 ms).
//!
//! glibc also raises its mmap threshold to the size of every mapped chunk freed
//! (and its trim threshold to twice that): after the first few large buffers are
//! freed, buffers up to 32 MiB come from the arenas and stay resident until the
//! next trim. [`Trimmer::start`] fixes the threshold at [`MMAP_THRESHOLD`]
//! ([`fix_mmap_threshold`]), so that a large buffer is mapped and unmapped on its
//! own: dump PACKAGE at 1M nodes, the install's peak 82 -> 78 MiB, its CPU time
//! unchanged (three runs side by side on a loaded machine, same inputs).
//! On other platforms (or C libraries) trimming does nothing.
//!
//! A command whose memory holds steady, as an export's does, may ask that a pass
//! trims only when the resident set is above the highest it was at any earlier pass
//! ([`trim_at_new_highs_only`], [`Policy`]): below its high, a trim cannot lower the
//! peak, and at every pass it gave back pages the command faulted in again within
//! the interval. An export at 1M nodes (`/usr/bin/time -v`, the same inputs, trims
//! every pass -> at new highs only): 289 trims in 289 passes (each giving back a
//! median 2 MiB) -> 17 in 263, minor page faults 221k -> 82k, peak RSS 52.1 -> 52.4
//! MiB, the same as with no trims at all (53.0 MiB). Not the default: the import at
//! 1M nodes, whose memory grows, peaked 1.5 MiB higher with it (84.9 and 86.0 ->
//! 86.4 and 87.4 MiB, page faults 201k and 215k -> 143k and 151k), and the commands
//! whose peaks the trims bound most (dump PACKAGE at 1M nodes: 100 MiB) were not
//! measured with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often [`Trimmer`] trims.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// The size from which malloc maps a buffer on its own (glibc's initial value,
/// which it would otherwise raise as large buffers are freed).
pub const MMAP_THRESHOLD: usize = 128 << 10;

/// Fixes malloc's mmap threshold (and so its trim threshold) at [`MMAP_THRESHOLD`]:
/// buffers at least that large are given back when freed. True when malloc took it.
pub fn fix_mmap_threshold() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt takes the arenas' own locks; any thread may call it.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// The global allocator's own purge, when it is not the C library's malloc
/// ([`set_allocator_purge`]).
static ALLOCATOR_PURGE: OnceLock<fn() -> bool> = OnceLock::new();

/// Makes [`trim`] also call `purge`, which gives the free pages of the program's
/// global allocator back to the system (the binary's jemalloc; the C library's
/// malloc, which SQLite uses, is trimmed as before). The first call counts.
pub fn set_allocator_purge(purge: fn() -> bool) {
    let _ = ALLOCATOR_PURGE.set(purge);
}

/// Gives every whole free page of every malloc arena back to the system (and the
/// global allocator's, [`set_allocator_purge`]). True when some memory was given
/// back (or the allocator's purge succeeded).
pub fn trim() -> bool {
    let purged = ALLOCATOR_PURGE.get().is_some_and(|purge| purge());
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes the arenas' own locks; any thread may call it.
        let trimmed = unsafe { libc::malloc_trim(0) != 0 };
        trimmed || purged
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        purged
    }
}

/// The process's resident set in bytes (`/proc/self/statm`); `None` where that
/// cannot be read.
pub fn resident_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf reads a constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Some(pages * u64::try_from(page).ok()?)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Whether [`Trimmer`]'s passes trim only when [`Policy`] says so (else each trims).
static NEW_HIGHS_ONLY: AtomicBool = AtomicBool::new(false);

/// From now on, a pass of [`Trimmer`] trims only at a new high of the resident set
/// ([`Policy`]): for a command whose memory holds steady (see the module doc).
pub fn trim_at_new_highs_only() {
    NEW_HIGHS_ONLY.store(true, Ordering::Relaxed);
}

/// When a pass of [`Trimmer`] trims once [`trim_at_new_highs_only`] was called: when
/// the resident set is above the highest it was at any earlier pass (the first pass
/// always), or when it is not known.
#[derive(Debug, Default)]
pub struct Policy {
    /// The highest resident set a pass saw, in bytes.
    high: u64,
}

impl Policy {
    /// Whether a pass that finds `resident` bytes resident trims.
    pub fn trims_at(&mut self, resident: Option<u64>) -> bool {
        match resident {
            Some(r) if r <= self.high => false,
            Some(r) => {
                self.high = r;
                true
            }
            None => true,
        }
    }
}

/// One pass of [`Trimmer`] or [`wait_trimming`]: a trim, unless
/// [`trim_at_new_highs_only`] was called and `policy` says no.
fn pass(policy: &mut Policy) {
    // The policy sees every pass, so that it knows the high when a command asks
    // for it.
    let new_high = policy.trims_at(resident_bytes());
    if new_high || !NEW_HIGHS_ONLY.load(Ordering::Relaxed) {
        trim();
    }
}

/// Waits for what `done` receives (a command's thread sends its result when it
/// ends), making a pass every `interval` meanwhile as [`Trimmer`] does, but on the
/// waiting thread: the thread that would only wait for the command trims, so no
/// thread of its own is started and stopped. Returns what was received (`None`
/// when every sender was dropped without sending, as when the command's thread
/// panicked) and the number of passes made.
///
/// Measured per process start (`jcrpack --version`, `perf stat -r 150`, task-clock
/// and context switches, and callgrind instructions): see the commit that made
/// the binary wait this way.
pub fn wait_trimming<T>(done: &mpsc::Receiver<T>, interval: Duration) -> (Option<T>, u64) {
    let mut policy = Policy::default();
    let mut passes = 0;
    loop {
        match done.recv_timeout(interval) {
            Ok(value) => return (Some(value), passes),
            Err(mpsc::RecvTimeoutError::Disconnected) => return (None, passes),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                pass(&mut policy);
                passes += 1;
            }
        }
    }
}

/// A thread that calls [`trim`] every interval until dropped (after
/// [`trim_at_new_highs_only`], when its [`Policy`] says so).
pub struct Trimmer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<u64>>,
}

impl Trimmer {
    /// Fixes the mmap threshold ([`fix_mmap_threshold`]) and starts trimming every
    /// `interval`; `None` when no thread could be started (the command then runs as
    /// it would without).
    pub fn start(interval: Duration) -> Option<Trimmer> {
        fix_mmap_threshold();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("jcrpack-heap-trim".into())
            .stack_size(64 << 10)
            .spawn(move || {
                let (lock, wake) = &*flag;
                let mut passes = 0;
                let mut policy = Policy::default();
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    // Told to stop before it first waited: the notice is gone.
                    if *stopped {
                        return passes;
                    }
                    let (g, _) = wake
                        .wait_timeout(stopped, interval)
                        .unwrap_or_else(|e| e.into_inner());
                    stopped = g;
                    if *stopped {
                        return passes;
                    }
                    pass(&mut policy);
                    passes += 1;
                }
            })
            .ok()?;
        Some(Trimmer {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it; the number of passes it made (trimming
    /// or not).
    pub fn stop(mut self) -> u64 {
        self.stop_thread()
    }

    fn stop_thread(&mut self) -> u64 {
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

impl Drop for Trimmer {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn trim_also_calls_the_allocators_purge_once_set() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        fn purge() -> bool {
            CALLS.fetch_add(1, Ordering::Relaxed);
            true
        }
        let _one = one_at_a_time();
        set_allocator_purge(purge);
        let before = CALLS.load(Ordering::Relaxed);
        assert!(trim(), "the purge succeeded");
        // At least once: other tests of the library (commands run in process) may
        // trim at the same moment (it failed once in CI with 2 calls).
        let after = CALLS.load(Ordering::Relaxed);
        assert!(after > before, "{before} -> {after}");
    }
    use std::time::Instant;

    /// The tests of this module one at a time: a running trimmer would take the
    /// pages the trim test frees before its own trim does.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Frees most of many small chunks while every 16th stays live, so the free
    /// pages lie between live chunks where malloc does not give them back itself.
    fn fragment() -> Vec<Vec<u8>> {
        let chunks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![i as u8; 2048]).collect();
        chunks.into_iter().step_by(16).collect()
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn trim_gives_back_pages_freed_between_live_chunks() {
        let _one = one_at_a_time();
        let kept = fragment();
        let released = trim();
        assert!(released, "32 MB freed between live chunks, none given back");
        assert_eq!(kept.len(), 1024);
        assert!(kept.iter().enumerate().all(|(i, c)| c[0] == (i * 16) as u8));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_large_buffer_freed_after_the_threshold_is_fixed_is_given_back_at_once() {
        // Measured in a process of its own: in this one, memory other tests freed
        // may serve the buffer from an arena without mapping it (malloc looks in
        // its free chunks before it maps), and their allocations move the count.
        const CHILD: &str = "JCRPACK_HEAP_TRIM_CHILD";
        const NAME: &str = "heap_trim::tests::a_large_buffer_freed_after_the_threshold_is_fixed_is_given_back_at_once";
        if std::env::var_os(CHILD).is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", NAME, "--test-threads=1", "--nocapture"])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{text}");
            assert!(
                text.contains("1 passed"),
                "the measuring process did not run it: {text}"
            );
            return;
        }
        let _one = one_at_a_time();
        assert!(fix_mmap_threshold());
        // Freed, a mapped 16 MiB buffer would raise a threshold that is not fixed
        // above the 8 MiB one, which would then stay in the arena once freed.
        drop(std::hint::black_box(vec![1u8; 16 << 20]));
        let before = resident_kib();
        let buffer = std::hint::black_box(vec![1u8; 8 << 20]);
        let during = resident_kib();
        drop(buffer);
        let after = resident_kib();
        assert!(during > before + 6 * 1024, "{before} -> {during} KiB");
        assert!(
            after + 6 * 1024 < during,
            "{during} -> {after} KiB after the free"
        );
    }

    /// The process's resident set in KiB (`VmRSS`).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn the_trimmer_trims_on_its_interval_and_stops_when_told() {
        let _one = one_at_a_time();
        let t = Trimmer::start(Duration::from_millis(5)).unwrap();
        // A pass over this test process's heaps can take a tenth of a second on
        // a busy machine (one pass in 200 ms was seen in CI): a second leaves room.
        std::thread::sleep(Duration::from_secs(1));
        let started = Instant::now();
        let passes = t.stop();
        assert!(passes >= 2, "{passes} passes in 1 s at 5 ms");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_pass_trims_only_at_a_new_high_of_the_resident_set() {
        let mut policy = Policy::default();
        assert!(policy.trims_at(Some(50 << 20)), "the first pass trims");
        assert!(!policy.trims_at(Some(50 << 20)), "not above the high");
        assert!(!policy.trims_at(Some(40 << 20)), "below the high");
        assert!(policy.trims_at(Some(51 << 20)), "a new high");
        assert!(!policy.trims_at(Some(50 << 20)), "the high moved up");
        assert!(policy.trims_at(None), "unknown: trims as before");
        assert!(!policy.trims_at(Some(51 << 20)), "unknown keeps the high");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_resident_set_is_read_from_the_system() {
        let r = resident_bytes().unwrap();
        // This test process: more than its code's first page, less than a terabyte.
        assert!(r > 4096 && r < 1 << 40, "{r}");
    }

    #[test]
    fn waiting_trims_on_the_interval_until_the_result_arrives() {
        let _one = one_at_a_time();
        let (sender, done) = mpsc::channel();
        let command = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            sender.send(7).unwrap();
        });
        let (value, passes) = wait_trimming(&done, Duration::from_millis(5));
        command.join().unwrap();
        assert_eq!(value, Some(7));
        assert!(passes >= 2, "{passes} passes in 1 s at 5 ms");
    }

    #[test]
    fn waiting_returns_at_once_what_was_sent_or_that_nothing_will_be() {
        let _one = one_at_a_time();
        let (sender, done) = mpsc::channel();
        sender.send("code").unwrap();
        let started = Instant::now();
        assert_eq!(
            wait_trimming(&done, Duration::from_secs(3600)),
            (Some("code"), 0)
        );
        // The sender dropped unsent (a panicked command's thread): no value.
        drop(sender);
        assert_eq!(wait_trimming(&done, Duration::from_secs(3600)), (None, 0));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn dropping_the_trimmer_stops_it_at_once_whatever_its_interval() {
        let _one = one_at_a_time();
        let t = Trimmer::start(Duration::from_secs(3600)).unwrap();
        let started = Instant::now();
        drop(t);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
