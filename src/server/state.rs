//! What every request shares: the repository, its install queue (one writer at a
//! time, in arrival order), concurrent readers, the users' verified credentials and
//! the hook through which the page's sessions log users in.
//!
//! Stores are not `Send`, so none crosses a thread: reads run on a pool of reader
//! threads of their own ([`ServerConfig::read_threads`]), each keeping its own open
//! store; writes go to one writer thread that owns the writing store and runs the
//! queued jobs one by one, each one transaction (committed whole or rolled back by
//! the library).
//!
//! Reads come first: the reader pool is not tokio's blocking pool, so uploads'
//! file writes and downloads' streaming never queue reads behind them; on Linux
//! the writer thread can run at a lower priority ([`ServerConfig::writer_nice`],
//! `serve --writer-nice`), so that an install takes only the CPU the reads leave
//! (see the load test in `tests/serve_packmgr_load.rs`).

use super::auth::SessionHook;
use super::{ServerConfig, ServerError};
use crate::repository::{self, OpenOptions, Store};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

/// A job for the writer thread: called with the writing store, or `None` when the
/// server shuts down before the job's turn (nothing was done).
type Job = Box<dyn FnOnce(Option<&mut dyn Store>) + Send>;

/// A job for a reader thread: called with that thread's store (or why it could
/// not be opened).
type ReadJob = Box<dyn FnOnce(Result<&dyn Store, repository::RepositoryError>) + Send>;

/// The writer thread's default niceness on Linux (0, a thread's default; up to
/// 19, the lowest priority, with which installs yield the CPU to reads and to the
/// HTTP threads: [`ServerConfig::writer_nice`]). 0 by measurement: on the shared
/// 2-core machine the load test ran on (load average near 20), nice 10 made
/// installs three to four times slower (other processes' threads won the CPU too)
/// and read latency no better.
pub const WRITER_NICE: i32 = 0;

/// The state every handler gets (cheap to clone: an `Arc` inside).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ServerConfig,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The reader pool's queue (its threads end when this is dropped).
    readers: Mutex<mpsc::Sender<ReadJob>>,
    queued: AtomicUsize,
    shutting_down: AtomicBool,
    session: OnceLock<Arc<dyn SessionHook>>,
    /// User name → (stored hash, SHA-256 of the password that matched it): a
    /// password checked once against a hash is not hashed again with argon2 (which
    /// costs tens of milliseconds by design) while the stored hash stays the same.
    verified: Mutex<HashMap<String, (String, [u8; 32])>>,
    /// The backup jobs and the page's sessions (serveweb).
    jobs: crate::backup::jobs::Jobs,
    sessions: super::web::session::Sessions,
    /// User name → (when looked up, stored hash, whether any user can log in): the
    /// repository is asked again after [`LOOKUP_TTL`], so that a user added, changed
    /// or removed with `jcrpack user` counts within a second, and a busy server does
    /// not read the users for every request.
    lookups: Mutex<HashMap<String, (std::time::Instant, Option<String>, bool)>>,
    /// Small packages' bytes for downloads (`packmgr::downloads`).
    downloads: super::packmgr::downloads::Downloads,
}

/// How long a user lookup is reused.
pub const LOOKUP_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Sets the calling thread's niceness (Linux: `setpriority` takes a thread id);
/// elsewhere, or for 0, nothing.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice != 0 {
        // SAFETY: plain syscalls on the calling thread, no memory is passed.
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice.clamp(0, 19));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Starts `n` reader threads that take jobs from one queue, each opening its own
/// store of `repo` on its first job (and again after a failed open).
fn start_readers(
    n: usize,
    repo: PathBuf,
    options: OpenOptions,
) -> Result<mpsc::Sender<ReadJob>, ServerError> {
    let (tx, rx) = mpsc::channel::<ReadJob>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..n.max(1) {
        let (rx, repo, options) = (rx.clone(), repo.clone(), options.clone());
        std::thread::Builder::new()
            .name(format!("jcrpack-read-{i}"))
            .stack_size(16 << 20)
            .spawn(move || {
                let mut store: Option<Box<dyn Store>> = None;
                loop {
                    let job = match rx.lock() {
                        Ok(r) => match r.recv() {
                            Ok(j) => j,
                            Err(_) => return,
                        },
                        Err(_) => return,
                    };
                    if store.is_none() {
                        match repository::open_with(&repo, &options) {
                            Ok(s) => store = Some(s),
                            Err(e) => {
                                job(Err(e));
                                continue;
                            }
                        }
                    }
                    let s = store.as_deref().expect("opened above");
                    let run = std::panic::AssertUnwindSafe(|| job(Ok(s)));
                    if std::panic::catch_unwind(run).is_err() {
                        // The caller sees its answer dropped; the store is opened anew.
                        store = None;
                    }
                }
            })
            .map_err(ServerError::Io)?;
    }
    Ok(tx)
}

impl AppState {
    /// Opens the repository for writing (on a writer thread of its own) and makes
    /// the state.
    pub fn new(config: ServerConfig) -> Result<AppState, ServerError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let repo = config.repo.clone();
        let options = OpenOptions {
            busy_timeout: config.lock_timeout,
            ..OpenOptions::default()
        };
        let nice = config.writer_nice;
        let thread = std::thread::Builder::new()
            .name("jcrpack-writer".into())
            .stack_size(64 << 20)
            .spawn(move || {
                lower_priority(nice);
                let mut store = match repository::open_with(&repo, &options) {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(job) = rx.recv() {
                    job(Some(store.as_mut()));
                }
            })
            .map_err(ServerError::Io)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(ServerError::Repository(e)),
            Err(_) => return Err(ServerError::Stopped),
        }
        let readers = start_readers(
            config.read_threads,
            config.repo.clone(),
            OpenOptions {
                busy_timeout: config.lock_timeout,
                ..OpenOptions::default()
            },
        )?;
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                readers: Mutex::new(readers),
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(thread)),
                queued: AtomicUsize::new(0),
                shutting_down: AtomicBool::new(false),
                session: OnceLock::new(),
                verified: Mutex::new(HashMap::new()),
                jobs: Default::default(),
                sessions: Default::default(),
                lookups: Mutex::new(HashMap::new()),
                downloads: Default::default(),
            }),
        })
    }

    /// The server's configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The current time, from the configured clock.
    pub fn now(&self) -> crate::value::Date {
        (self.inner.config.clock)()
    }

    /// Runs `f` with a reading store on the reader pool, concurrently with other
    /// reads and with the running write (it sees the last committed state).
    pub async fn read<T, F>(&self, f: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |store| {
            let _ = tx.send(store.map(f).map_err(ServerError::Repository));
        });
        self.inner
            .readers
            .lock()
            .map_err(|_| ServerError::Stopped)?
            .send(job)
            .map_err(|_| ServerError::Stopped)?;
        rx.await.map_err(|_| ServerError::Stopped)?
    }

    /// Queues `f` for the writer thread and waits for its turn and result. Writes
    /// run one at a time in arrival order; after shutdown began, a job that has not
    /// started is dropped with [`ServerError::Stopped`].
    pub async fn write<T, F>(&self, f: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let inner = self.inner.clone();
        let job: Job = Box::new(move |store| {
            let result = match store {
                Some(s) if !inner.shutting_down.load(Ordering::SeqCst) => Ok(f(s)),
                _ => Err(ServerError::Stopped),
            };
            // Counted until done: `installstatus.jsp` is unfinished while one runs.
            inner.queued.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(result);
        });
        {
            let guard = self.inner.writer.lock().map_err(|_| ServerError::Stopped)?;
            let sender = guard.as_ref().ok_or(ServerError::Stopped)?;
            self.inner.queued.fetch_add(1, Ordering::SeqCst);
            if sender.send(job).is_err() {
                self.inner.queued.fetch_sub(1, Ordering::SeqCst);
                return Err(ServerError::Stopped);
            }
        }
        rx.await.map_err(|_| ServerError::Stopped)?
    }

    /// How many writes wait or run now (Package Manager's `installstatus.jsp`).
    pub fn queued(&self) -> usize {
        self.inner.queued.load(Ordering::SeqCst)
    }

    /// Begins the shutdown: no new write starts; the running one finishes (commits
    /// or rolls back) and queued ones are answered [`ServerError::Stopped`].
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
    }

    /// Whether the shutdown began.
    pub fn shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Waits for the writer thread to end (after [`AppState::begin_shutdown`]).
    pub fn join_writer(&self) {
        let handle = self
            .inner
            .writer_thread
            .lock()
            .ok()
            .and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// The running and recent backup jobs (`backup::jobs`).
    pub fn jobs(&self) -> &crate::backup::jobs::Jobs {
        &self.inner.jobs
    }

    /// Small packages' bytes for downloads (`packmgr::downloads`).
    pub fn downloads(&self) -> &super::packmgr::downloads::Downloads {
        &self.inner.downloads
    }

    /// The page's sessions (`web::session`).
    pub fn sessions(&self) -> &super::web::session::Sessions {
        &self.inner.sessions
    }

    /// Installs the page's session lookup (once; later calls are ignored): the
    /// authentication tries HTTP Basic, then this hook.
    pub fn set_session_hook(&self, hook: Arc<dyn SessionHook>) {
        let _ = self.inner.session.set(hook);
    }

    /// The page's session lookup, when installed.
    pub fn session_hook(&self) -> Option<&Arc<dyn SessionHook>> {
        self.inner.session.get()
    }

    /// Whether `password` was verified before against `hash` for `user`.
    pub(crate) fn was_verified(&self, user: &str, hash: &str, digest: &[u8; 32]) -> bool {
        self.inner
            .verified
            .lock()
            .ok()
            .and_then(|m| m.get(user).map(|(h, d)| h == hash && d == digest))
            .unwrap_or(false)
    }

    /// A user lookup made less than [`LOOKUP_TTL`] ago: (stored hash, any user).
    pub(crate) fn cached_lookup(&self, user: &str) -> Option<(Option<String>, bool)> {
        let m = self.inner.lookups.lock().ok()?;
        let (at, hash, any) = m.get(user)?;
        (at.elapsed() < LOOKUP_TTL).then(|| (hash.clone(), *any))
    }

    /// Keeps a user lookup for [`LOOKUP_TTL`].
    pub(crate) fn remember_lookup(&self, user: &str, hash: Option<String>, any: bool) {
        if let Ok(mut m) = self.inner.lookups.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(user.to_string(), (std::time::Instant::now(), hash, any));
        }
    }

    /// Remembers that `password` (by digest) matched `hash` for `user`.
    pub(crate) fn remember_verified(&self, user: &str, hash: &str, digest: [u8; 32]) {
        if let Ok(mut m) = self.inner.verified.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(user.to_string(), (hash.to_string(), digest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(dir: &std::path::Path) -> AppState {
        let repo = dir.join("repo");
        drop(repository::init(&repo).unwrap());
        let clock: super::super::Clock =
            Arc::new(|| crate::value::Date::from_epoch_millis(1_796_400_000_000));
        let mut config = ServerConfig::new(repo, clock);
        config.read_threads = 2;
        AppState::new(config).unwrap()
    }

    #[test]
    fn reads_run_on_the_pool_and_survive_a_panicking_read() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let name = st
                .read(|_| std::thread::current().name().map(str::to_string))
                .await
                .unwrap();
            assert!(name.unwrap().starts_with("jcrpack-read-"));
            // A read that panics is answered as stopped; the pool goes on.
            for _ in 0..4 {
                let r = st.read(|_| -> () { panic!("a bad read") }).await;
                assert!(matches!(r, Err(ServerError::Stopped)));
            }
            let ok = st.read(|s| s.history().is_ok()).await.unwrap();
            assert!(ok);
            // A write is counted until it is done (installstatus.jsp).
            let seen = st.clone();
            let during = st.write(move |_| seen.queued()).await.unwrap();
            assert_eq!(during, 1);
            assert_eq!(st.queued(), 0);
        });
        st.begin_shutdown();
        st.join_writer();
    }
}
