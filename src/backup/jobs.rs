//! Backups that run in the background of a long-lived process (the server): a
//! registry of jobs, each with an id, its progress (read from the backup's
//! [`Event`]s), a cancel flag that [`Catalogue::create_backup`] polls, and its
//! outcome.
//!
//! A caller [`Jobs::start`]s a job, runs the backup with the [`Job`] as its event
//! sink and [`Job::cancel_flag`] as its cancel flag (on any thread; [`run_backup`]
//! does both), and hands the result to [`Job::finish`]. Meanwhile anyone holding
//! the registry reads a [`JobStatus`] by id and may [`Jobs::cancel`] it. The
//! registry keeps every running job and the newest [`FINISHED_KEPT`] finished ones.
//!
//! With a journal ([`Jobs::open_journal`], the catalogue's `jobs/` folder), each
//! job's status is also kept on disk (`ID.json`, written durably when the job
//! starts and when it ends; progress stays in memory), so that jobs outlive the
//! process: the next process lists the finished ones, and reports a job that was
//! still running when its process stopped as [`JobState::Interrupted`] (its
//! unfinished backup is the catalogue's to remove, [`Catalogue::clean_up`]).

use super::{BackupError, Catalogue, CreateOptions, Manifest};
use crate::events::{Event, Events, Unit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How many finished jobs the registry remembers (the oldest are forgotten first).
pub const FINISHED_KEPT: usize = 100;

/// The journal's folder in a catalogue.
pub const JOURNAL_DIR: &str = "jobs";

/// The error of a job its process did not see end.
pub const INTERRUPTED: &str = "the server stopped while this job ran; nothing of it was kept";

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Still running (a cancel may have been asked for).
    Running,
    /// Finished with a backup.
    Succeeded,
    /// Finished with an error; nothing was left in the catalogue.
    Failed,
    /// Stopped by a cancel; nothing was left in the catalogue.
    Cancelled,
    /// Its process stopped while it ran (found so by the next one through the
    /// journal); nothing of it is kept.
    Interrupted,
}

/// A job as a reader sees it at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// The job's id (`1`, `2`, ... in the order jobs were started).
    pub id: u64,
    /// What the job does (`backup`).
    pub kind: String,
    /// Who started it.
    pub user: String,
    /// When it was started (ISO 8601, the caller's clock).
    pub started: String,
    /// Running, succeeded, failed or cancelled.
    pub state: JobState,
    /// Whether a cancel was asked for.
    pub cancel_requested: bool,
    /// The current phase (`copying image`, `copying blobs`), while running.
    pub phase: Option<String>,
    /// What the phase counts: `bytes`, `paths`, `entries` or `items`.
    pub unit: Option<String>,
    /// Units of the current phase done.
    pub done: u64,
    /// Units of the current phase in all, when known.
    pub total: Option<u64>,
    /// Warnings the job reported, in order.
    pub warnings: Vec<String>,
    /// The backup's id, once it succeeded.
    pub backup_id: Option<String>,
    /// The error, when it failed.
    pub error: Option<String>,
}

impl JobStatus {
    /// Whether the job has ended (in any way).
    pub fn finished(&self) -> bool {
        self.state != JobState::Running
    }
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Bytes => "bytes",
        Unit::Paths => "paths",
        Unit::Entries => "entries",
        Unit::Items => "items",
    }
}

/// One job: the event sink of the operation it runs, and its cancel flag.
#[derive(Debug)]
pub struct Job {
    cancel: AtomicBool,
    status: Mutex<JobStatus>,
    manifest: Mutex<Option<Manifest>>,
    /// Its journal file, when the registry keeps one.
    journal: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking sink cannot leave a status half-written in a way that matters:
    // every update is a plain field store, so a poisoned lock is still read.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Job {
    /// The job's id.
    pub fn id(&self) -> u64 {
        lock(&self.status).id
    }

    /// The flag the running operation polls; set by [`Jobs::cancel`].
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// The job's status now.
    pub fn status(&self) -> JobStatus {
        let mut s = lock(&self.status).clone();
        s.cancel_requested = self.cancel.load(Ordering::Relaxed);
        s
    }

    /// The manifest of the backup the job took, once it succeeded.
    pub fn manifest(&self) -> Option<Manifest> {
        lock(&self.manifest).clone()
    }

    /// Records the outcome of the backup: its manifest, a cancellation, or an error.
    pub fn finish(&self, result: Result<Manifest, BackupError>) {
        {
            let mut s = lock(&self.status);
            s.phase = None;
            match result {
                Ok(m) => {
                    s.state = JobState::Succeeded;
                    s.backup_id = Some(m.id.clone());
                    *lock(&self.manifest) = Some(m);
                }
                Err(BackupError::Cancelled { .. }) => s.state = JobState::Cancelled,
                Err(e) => {
                    s.state = JobState::Failed;
                    s.error = Some(e.to_string());
                }
            }
        }
        self.save();
    }

    /// Writes the status into the journal, when there is one. A journal that
    /// cannot be written does not fail the job (its outcome is in the catalogue and
    /// in memory); the next process then sees the job as it was last written.
    fn save(&self) {
        if let Some(path) = &self.journal {
            let mut s = self.status();
            s.cancel_requested = false;
            if let Ok(mut text) = serde_json::to_vec_pretty(&s) {
                text.push(b'\n');
                let _ = super::catalogue::write_durably(path, &text);
            }
        }
    }
}

/// What [`Jobs::open_journal`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Jobs a previous process left running, now [`JobState::Interrupted`].
    pub interrupted: Vec<u64>,
    /// Jobs that had ended, listed again.
    pub finished: usize,
    /// Journal files that could not be read (left in place, not listed).
    pub unreadable: Vec<PathBuf>,
}

impl Events for Job {
    fn event(&self, event: &Event<'_>) {
        let mut s = lock(&self.status);
        match *event {
            Event::Phase { name, total, unit } => {
                s.phase = Some(name.to_string());
                s.unit = Some(unit_name(unit).to_string());
                s.total = total;
                s.done = 0;
            }
            Event::Advance { amount } => s.done = s.done.saturating_add(amount),
            Event::Warning { message } => s.warnings.push(message.to_string()),
            Event::Path { .. } | Event::Finished => {}
        }
    }
}

#[derive(Debug, Default)]
struct Registry {
    jobs: BTreeMap<u64, Arc<Job>>,
}

/// The jobs of one process (clone it freely: clones share the registry).
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    registry: Arc<Mutex<Registry>>,
    next: Arc<AtomicU64>,
    journal: Arc<std::sync::OnceLock<PathBuf>>,
}

impl Jobs {
    /// An empty registry.
    pub fn new() -> Jobs {
        Jobs::default()
    }

    /// Registers a new running job of `kind` started by `user` at `started` (ISO
    /// 8601), and forgets the oldest finished jobs beyond [`FINISHED_KEPT`].
    pub fn start(&self, kind: &str, user: &str, started: &str) -> Arc<Job> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let journal = self.journal.get().map(|d| d.join(format!("{id}.json")));
        if let Some(dir) = self.journal.get() {
            let _ = std::fs::create_dir_all(dir);
        }
        let job = Arc::new(Job {
            cancel: AtomicBool::new(false),
            status: Mutex::new(JobStatus {
                id,
                kind: kind.to_string(),
                user: user.to_string(),
                started: started.to_string(),
                state: JobState::Running,
                cancel_requested: false,
                phase: None,
                unit: None,
                done: 0,
                total: None,
                warnings: Vec::new(),
                backup_id: None,
                error: None,
            }),
            manifest: Mutex::new(None),
            journal,
        });
        job.save();
        let mut r = lock(&self.registry);
        r.jobs.insert(id, job.clone());
        let finished: Vec<u64> = r
            .jobs
            .iter()
            .filter(|(_, j)| j.status().finished())
            .map(|(id, _)| *id)
            .collect();
        if finished.len() > FINISHED_KEPT {
            for id in &finished[..finished.len() - FINISHED_KEPT] {
                if let Some(j) = r.jobs.remove(id) {
                    if let Some(p) = &j.journal {
                        let _ = std::fs::remove_file(p);
                    }
                }
            }
        }
        job
    }

    /// Keeps every job's status in folder `dir` from now on, and lists the jobs a
    /// previous process left there: finished ones as they ended, running ones as
    /// [`JobState::Interrupted`] (rewritten so). Call once, before the first
    /// [`Jobs::start`]; later calls find nothing new. A folder that is not there is
    /// an empty journal (made by the first job).
    pub fn open_journal(&self, dir: &Path) -> std::io::Result<Recovered> {
        let mut found = Recovered::default();
        if self.journal.set(dir.to_path_buf()).is_err() {
            return Ok(found);
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(e),
        };
        let mut jobs = Vec::new();
        for e in entries {
            let path = e?.path();
            let id = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok());
            let Some(id) = id else { continue };
            let status = std::fs::read(&path)
                .ok()
                .and_then(|t| serde_json::from_slice::<JobStatus>(&t).ok())
                .filter(|s| s.id == id);
            match status {
                Some(s) => jobs.push((s, path)),
                None => found.unreadable.push(path),
            }
        }
        jobs.sort_by_key(|(s, _)| s.id);
        let mut r = lock(&self.registry);
        for (mut s, path) in jobs {
            let was_running = s.state == JobState::Running;
            if was_running {
                s.state = JobState::Interrupted;
                s.phase = None;
                s.error = Some(INTERRUPTED.to_string());
                found.interrupted.push(s.id);
            } else {
                found.finished += 1;
            }
            s.cancel_requested = false;
            self.next.fetch_max(s.id, Ordering::Relaxed);
            let job = Arc::new(Job {
                cancel: AtomicBool::new(false),
                status: Mutex::new(s),
                manifest: Mutex::new(None),
                journal: Some(path),
            });
            if was_running {
                job.save();
            }
            r.jobs.insert(job.id(), job);
        }
        // The newest FINISHED_KEPT (nothing runs yet).
        while r.jobs.len() > FINISHED_KEPT {
            let Some((_, j)) = r.jobs.pop_first() else {
                break;
            };
            if let Some(p) = &j.journal {
                let _ = std::fs::remove_file(p);
            }
        }
        Ok(found)
    }

    /// The job with this id, when the registry still has it.
    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        lock(&self.registry).jobs.get(&id).cloned()
    }

    /// Every job the registry has, oldest first.
    pub fn list(&self) -> Vec<JobStatus> {
        let jobs: Vec<Arc<Job>> = lock(&self.registry).jobs.values().cloned().collect();
        jobs.iter().map(|j| j.status()).collect()
    }

    /// Asks the job to stop: `None` when there is no such job, else its status (a
    /// finished job stays as it ended).
    pub fn cancel(&self, id: u64) -> Option<JobStatus> {
        let job = self.get(id)?;
        if !job.status().finished() {
            job.cancel.store(true, Ordering::Relaxed);
        }
        Some(job.status())
    }

    /// Whether a job of `kind` is running.
    pub fn running(&self, kind: &str) -> bool {
        self.list()
            .iter()
            .any(|s| s.kind == kind && s.state == JobState::Running)
    }
}

/// Runs a backup of the repository in folder `repo` into `catalogue` as `job`:
/// the job receives its events, its cancel flag stops it, and its outcome is
/// recorded. Blocks until the backup ends; call it on a thread of its own.
pub fn run_backup(job: &Job, catalogue: &Catalogue, repo: &Path, options: &CreateOptions) {
    let result = catalogue.create_backup(repo, options, job, job.cancel_flag());
    job.finish(result);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Actor;
    use crate::repository::{self, OperationMeta};
    use crate::value::Date;

    fn actor() -> Actor {
        Actor {
            user: "tester".into(),
            time: Date::parse("2026-12-04T17:05:12.000Z").expect("date"),
        }
    }

    fn repo_with_content(dir: &Path) {
        let mut store = repository::init(dir).expect("init");
        let mut txn = store
            .begin_operation(OperationMeta::new("seed", &actor()))
            .expect("begin");
        let node = crate::node::Node::new("content", "nt:unstructured");
        txn.add_node(
            "default",
            "/",
            &node,
            &crate::repository::AddOptions::default(),
        )
        .expect("add");
        txn.commit().expect("commit");
    }

    #[test]
    fn a_job_follows_its_events() {
        let jobs = Jobs::new();
        let job = jobs.start("backup", "admin", "2026-12-04T17:05:12.000Z");
        assert_eq!(job.id(), 1);
        job.event(&Event::Phase {
            name: "copying image",
            total: Some(100),
            unit: Unit::Bytes,
        });
        job.event(&Event::Advance { amount: 30 });
        job.event(&Event::Advance { amount: 12 });
        job.event(&Event::Warning {
            message: "slow disk",
        });
        let s = jobs.get(1).expect("job").status();
        assert_eq!(s.state, JobState::Running);
        assert_eq!(s.phase.as_deref(), Some("copying image"));
        assert_eq!(s.unit.as_deref(), Some("bytes"));
        assert_eq!((s.done, s.total), (42, Some(100)));
        assert_eq!(s.warnings, vec!["slow disk".to_string()]);
        // A new phase starts counting afresh.
        job.event(&Event::Phase {
            name: "copying blobs",
            total: None,
            unit: Unit::Items,
        });
        let s = job.status();
        assert_eq!((s.done, s.total), (0, None));
    }

    #[test]
    fn cancel_sets_the_flag_of_a_running_job_only() {
        let jobs = Jobs::new();
        let a = jobs.start("backup", "admin", "t");
        let b = jobs.start("backup", "admin", "t");
        assert_eq!(b.id(), 2);
        b.finish(Err(BackupError::Cancelled {
            catalogue: "/c".into(),
        }));
        assert!(jobs.cancel(99).is_none());
        let s = jobs.cancel(1).expect("job 1");
        assert!(s.cancel_requested);
        assert!(a.cancel_flag().load(Ordering::Relaxed));
        let s = jobs.cancel(2).expect("job 2");
        assert_eq!(s.state, JobState::Cancelled);
        assert!(!s.cancel_requested);
        assert!(jobs.running("backup"));
        a.finish(Err(BackupError::Cancelled {
            catalogue: "/c".into(),
        }));
        assert!(!jobs.running("backup"));
    }

    #[test]
    fn the_registry_forgets_the_oldest_finished_jobs() {
        let jobs = Jobs::new();
        let running = jobs.start("backup", "admin", "t");
        for _ in 0..FINISHED_KEPT + 5 {
            let j = jobs.start("backup", "admin", "t");
            j.finish(Err(BackupError::Cancelled {
                catalogue: "/c".into(),
            }));
        }
        jobs.start("backup", "admin", "t");
        let list = jobs.list();
        // The running job stays, with every finished job up to the limit.
        assert!(list.iter().any(|s| s.id == running.id()));
        let finished = list.iter().filter(|s| s.finished()).count();
        assert_eq!(finished, FINISHED_KEPT);
        assert!(jobs.get(2).is_none());
    }

    #[test]
    fn run_backup_records_the_backup_or_the_cancel() {
        let tmp = tempfile::tempdir().expect("tmp");
        let repo = tmp.path().join("repo");
        repo_with_content(&repo);
        let catalogue = Catalogue::open_or_create(&tmp.path().join("cat")).expect("catalogue");
        let jobs = Jobs::new();
        let options = CreateOptions::new(actor());

        let job = jobs.start("backup", "tester", "2026-12-04T17:05:12.000Z");
        run_backup(&job, &catalogue, &repo, &options);
        let s = job.status();
        assert_eq!(s.state, JobState::Succeeded, "{s:?}");
        assert_eq!(s.backup_id.as_deref(), Some("20261204T170512Z"));
        assert!(s.phase.is_none());
        assert_eq!(job.manifest().map(|m| m.id), s.backup_id);
        assert_eq!(catalogue.list().expect("list").len(), 1);

        // Cancelled before it starts copying: nothing is left in the catalogue.
        let job = jobs.start("backup", "tester", "t");
        jobs.cancel(job.id());
        run_backup(&job, &catalogue, &repo, &options);
        let s = job.status();
        assert_eq!(s.state, JobState::Cancelled, "{s:?}");
        assert!(s.backup_id.is_none());
        assert_eq!(catalogue.list().expect("list").len(), 1);

        // A repository that is not there: the job fails with the reason.
        let job = jobs.start("backup", "tester", "t");
        run_backup(&job, &catalogue, &tmp.path().join("none"), &options);
        let s = job.status();
        assert_eq!(s.state, JobState::Failed);
        assert!(s.error.is_some());
    }

    #[test]
    fn a_journal_lists_the_jobs_of_the_previous_process_and_marks_the_running_one_interrupted() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join(JOURNAL_DIR);
        let first = Jobs::new();
        assert_eq!(
            first.open_journal(&dir).expect("journal"),
            Recovered::default()
        );
        let done = first.start("backup", "ada", "t1");
        let running = first.start("backup", "bob", "t2");
        running.event(&Event::Phase {
            name: "copying image",
            total: Some(10),
            unit: Unit::Bytes,
        });
        let failed = first.start("backup", "ada", "t3");
        failed.finish(Err(BackupError::Cancelled {
            catalogue: "/c".into(),
        }));
        done.finish(Err(BackupError::io(
            Path::new("/c/blobs"),
            std::io::Error::other("disk full"),
        )));
        // A file that is not a job, and a damaged one: not listed, not fatal.
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join("77.json"), "{").unwrap();
        drop(first); // the process stops with job 2 running

        let second = Jobs::new();
        let found = second.open_journal(&dir).expect("journal");
        assert_eq!(found.interrupted, vec![2]);
        assert_eq!(found.finished, 2);
        assert_eq!(found.unreadable, vec![dir.join("77.json")]);
        let list = second.list();
        let states: Vec<(u64, JobState)> = list.iter().map(|s| (s.id, s.state)).collect();
        assert_eq!(
            states,
            vec![
                (1, JobState::Failed),
                (2, JobState::Interrupted),
                (3, JobState::Cancelled)
            ]
        );
        assert!(list[0].error.as_deref().unwrap().contains("disk full"));
        assert_eq!(list[1].error.as_deref(), Some(INTERRUPTED));
        assert!(list[1].phase.is_none());
        assert!(!second.running("backup"));
        // New jobs go on from the highest id; the journal now says interrupted.
        assert_eq!(second.start("backup", "ada", "t4").id(), 4);
        let third = Jobs::new();
        let found = third.open_journal(&dir).expect("journal");
        assert!(found.interrupted.contains(&4) && !found.interrupted.contains(&2));
        assert_eq!(
            third.get(2).expect("job 2").status().state,
            JobState::Interrupted
        );
        // Opening twice changes nothing.
        assert_eq!(
            third.open_journal(&dir).expect("again"),
            Recovered::default()
        );
    }
}
