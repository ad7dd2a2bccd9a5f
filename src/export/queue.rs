//! The queue from the exporter's reading thread to its writer thread: entries in
//! package order, bounded both in number (each may hold an open blob) and in bytes
//! (each may hold a large document), so that memory stays bounded by the budget plus
//! the largest single entry, however far the reader could run ahead.
//!
//! The writer drops what it is done with on its own thread. (It used to hand each
//! document back for the reader to drop at its next push, as glibc freed a
//! document's many small allocations fastest on the thread that made them. With
//! jemalloc a free from another thread goes to that thread's cache, and the reader
//! is what bounds the later part of a large export: callgrind, export of 106k nodes,
//! reading thread 3,735 -> 3,587 M instructions (-3.95 %), writer thread 6,787 ->
//! 6,966 M, whole process +0.2 %.)
//!
//! Waking a thread is a system call (and, in a VM, an interrupt), so neither side is
//! woken per entry: a waiting writer when a few entries are ready, a waiting reader
//! when the queue is half empty, and either always before the other waits or ends.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Entries the reader may be ahead of the writer.
pub(crate) const MAX_ENTRIES: usize = 128;

/// Bytes (as estimated by the reader) that may wait in the queue; one larger entry
/// still passes when the queue is empty.
pub(crate) const MAX_BYTES: u64 = 8 << 20;

/// A waiting writer is woken once this many entries are ready.
const WAKE_WRITER: usize = 16;

struct State<T> {
    items: VecDeque<(T, u64)>,
    bytes: u64,
    /// The reader will push nothing more.
    done: bool,
    /// The writer will pop nothing more (it failed).
    stopped: bool,
    /// The reader waits for room.
    reader_waits: bool,
    /// The writer waits for entries.
    writer_waits: bool,
}

/// See the module doc.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    /// The reader waits on this for room.
    room: Condvar,
    /// The writer waits on this for entries.
    ready: Condvar,
}

/// The writer stopped: nothing more can be queued.
#[derive(Debug)]
pub(crate) struct Stopped;

impl<T> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                done: false,
                stopped: false,
                reader_waits: false,
                writer_waits: false,
            }),
            room: Condvar::new(),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panicking thread poisons the lock; the state stays consistent (every
        // change is one assignment), and the panic itself is reported by the join.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item` of about `bytes` bytes, waiting while the queue is full.
    pub(crate) fn push(&self, item: T, bytes: u64) -> Result<(), Stopped> {
        let mut s = self.lock();
        loop {
            if s.stopped {
                return Err(Stopped);
            }
            let room = s.items.len() < MAX_ENTRIES
                && (s.items.is_empty() || s.bytes.saturating_add(bytes) <= MAX_BYTES);
            if room {
                break;
            }
            if s.writer_waits {
                self.ready.notify_one();
            }
            s.reader_waits = true;
            s = self.room.wait(s).unwrap_or_else(|e| e.into_inner());
            s.reader_waits = false;
        }
        s.items.push_back((item, bytes));
        s.bytes += bytes;
        if s.writer_waits && (s.items.len() >= WAKE_WRITER || s.bytes >= MAX_BYTES / 4) {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// The next item, waiting for one; `None` once the reader is done and all is taken.
    pub(crate) fn pop(&self) -> Option<T> {
        let mut s = self.lock();
        loop {
            if let Some((item, bytes)) = s.items.pop_front() {
                s.bytes -= bytes;
                if s.reader_waits && s.items.len() <= MAX_ENTRIES / 2 && s.bytes <= MAX_BYTES / 2 {
                    self.room.notify_one();
                }
                return Some(item);
            }
            if s.done {
                return None;
            }
            s.writer_waits = true;
            s = self.ready.wait(s).unwrap_or_else(|e| e.into_inner());
            s.writer_waits = false;
        }
    }

    /// The reader is done (or failed): the writer ends once the queue is empty.
    pub(crate) fn finish(&self) {
        self.lock().done = true;
        self.ready.notify_all();
    }

    /// The writer stopped: pushes fail from now on, and what is queued is dropped.
    pub(crate) fn stop(&self) {
        let mut s = self.lock();
        s.stopped = true;
        s.items.clear();
        s.bytes = 0;
        drop(s);
        self.room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_arrive_in_order_within_both_bounds() {
        let q = Queue::new();
        let seen = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut seen = Vec::new();
                while let Some((i, bytes)) = q.pop() {
                    let st = q.lock();
                    // What remains queued never exceeds the bounds (one large item
                    // alone aside).
                    assert!(st.items.len() < MAX_ENTRIES);
                    assert!(st.bytes <= MAX_BYTES || st.items.len() == 1, "{bytes}");
                    drop(st);
                    seen.push(i);
                }
                seen
            });
            for i in 0..1000u64 {
                let bytes = if i % 100 == 7 {
                    MAX_BYTES + 1
                } else {
                    i * 1000
                };
                q.push((i, bytes), bytes).unwrap();
            }
            q.finish();
            writer.join().unwrap()
        });
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn a_stopped_writer_fails_the_reader_instead_of_blocking_it() {
        let q = Queue::new();
        for i in 0..MAX_ENTRIES {
            q.push(i, 1).unwrap();
        }
        std::thread::scope(|s| {
            let reader = s.spawn(|| q.push(MAX_ENTRIES, 1));
            q.stop();
            assert!(reader.join().unwrap().is_err());
        });
        assert!(q.push(0, 1).is_err());
    }
}
