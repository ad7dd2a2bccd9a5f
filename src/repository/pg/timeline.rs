//! Where a write transaction's wall time went, as the installing thread saw
//! it: waiting on the server, by cause, and the rest (its own work).
//!
//! An install overlaps its work with the server's (rows are written behind,
//! see [`super::link`]); what it cannot overlap it waits for. Each wait is
//! timed here by what caused it, and the sum is logged at the transaction's
//! end (`JCRPACK_LOG=jcrpack::repository::pg=debug`), so a slow install says
//! whether it waited on rows written behind, rows written in place, its
//! statements, the `ANALYZE`s, the commit, or on nothing (its own work).

use std::time::{Duration, Instant};

/// What the installing thread waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The rows written behind, before the connection could be used again.
    Behind,
    /// Waiting rows written in place (a statement had to see them).
    InPlace,
    /// Statements: their round trip and the server's time in them.
    Statement,
    /// `ANALYZE` inside the transaction.
    AnalyzeInside,
    /// `COMMIT` or `ROLLBACK`.
    End,
    /// `ANALYZE` after the commit.
    AnalyzeAfter,
}

const WAITS: [Wait; 6] = [
    Wait::Behind,
    Wait::InPlace,
    Wait::Statement,
    Wait::AnalyzeInside,
    Wait::End,
    Wait::AnalyzeAfter,
];

impl Wait {
    fn name(self) -> &'static str {
        match self {
            Wait::Behind => "rows written behind",
            Wait::InPlace => "rows written in place",
            Wait::Statement => "statements",
            Wait::AnalyzeInside => "analyze inside",
            Wait::End => "commit",
            Wait::AnalyzeAfter => "analyze after",
        }
    }
}

/// The waits of one write transaction, from its start.
#[derive(Debug)]
pub(crate) struct Timeline {
    start: Instant,
    waited: [(Duration, u64); WAITS.len()],
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline {
            start: Instant::now(),
            waited: Default::default(),
        }
    }
}

impl Timeline {
    /// Runs `f`, counting its time as a wait for `what`.
    pub(crate) fn time<T>(&mut self, what: Wait, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.add(what, t.elapsed(), 1);
        out
    }

    /// Counts `d` as `n` waits for `what`.
    pub(crate) fn add(&mut self, what: Wait, d: Duration, n: u64) {
        let slot = &mut self.waited[what as usize];
        slot.0 += d;
        slot.1 += n;
    }

    /// The time waited for `what`, and how many waits.
    pub(crate) fn waited(&self, what: Wait) -> (Duration, u64) {
        self.waited[what as usize]
    }

    /// "wall W s: rows written behind X s (n), ..., own work Y s": the wall
    /// time since the start, each wait, and what was left (the thread's work).
    pub(crate) fn summary(&self) -> String {
        let wall = self.start.elapsed();
        let mut out = format!("wall {:.3} s:", wall.as_secs_f64());
        let mut waited = Duration::ZERO;
        for w in WAITS {
            let (d, n) = self.waited(w);
            waited += d;
            out.push_str(&format!(" {} {:.3} s ({n}),", w.name(), d.as_secs_f64()));
        }
        out.push_str(&format!(
            " own work {:.3} s",
            wall.saturating_sub(waited).as_secs_f64()
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_add_up_by_cause_and_the_rest_is_own_work() {
        let mut t = Timeline::default();
        t.add(Wait::Behind, Duration::from_millis(30), 1);
        t.add(Wait::Behind, Duration::from_millis(20), 1);
        let v = t.time(Wait::Statement, || 7);
        assert_eq!(v, 7);
        assert_eq!(t.waited(Wait::Behind), (Duration::from_millis(50), 2));
        assert_eq!(t.waited(Wait::Statement).1, 1);
        assert_eq!(t.waited(Wait::End), (Duration::ZERO, 0));
        let s = t.summary();
        assert!(s.contains("rows written behind 0.050 s (2),"), "{s}");
        assert!(s.contains("commit 0.000 s (0),"), "{s}");
        assert!(s.contains("own work"), "{s}");
    }
}
