//! What a long operation tells its caller while it runs: one event sink for every
//! command (install, build, unpack, export, backup, restore, ...).
//!
//! The library never draws on a terminal. A command reports [`Event`]s to an
//! [`Events`] sink the caller hands it; the command line renders them as progress
//! bars on stderr, a server turns them into a job's status, and tests collect them.
//! Sinks may be called from several threads at once.

use std::sync::Mutex;

/// What a quantity counts, so that a sink can print it (`12 MiB`, `3,000 paths`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes of data.
    Bytes,
    /// Repository paths (nodes and properties acted on).
    Paths,
    /// Package or archive entries.
    Entries,
    /// Whole items of another kind (files, backups, workspaces).
    Items,
}

/// One thing that happened in a long operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A phase begins (`reading`, `installing`, `checking node types`, `copying
    /// blobs`); `total` is the amount of work ahead when it is known. A phase ends
    /// when the next begins or the operation finishes.
    Phase {
        /// What the phase does, as a short present participle.
        name: &'a str,
        /// The work ahead, when known.
        total: Option<u64>,
        /// What `total` and [`Event::Advance`] count.
        unit: Unit,
    },
    /// `amount` more units of the current phase are done.
    Advance {
        /// How many more.
        amount: u64,
    },
    /// The operation acted on a repository path: `action` is FileVault's letter
    /// (`A` added, `U` updated, `R` replaced, `D` deleted, `-` unchanged, `E` error).
    Path {
        /// FileVault's letter.
        action: char,
        /// The repository path.
        path: &'a str,
    },
    /// Something the user should know that does not stop the operation.
    Warning {
        /// One sentence.
        message: &'a str,
    },
    /// The operation is done (successfully or not); a sink clears what it drew.
    Finished,
}

/// Receives the [`Event`]s of a long operation.
pub trait Events: Sync + Send {
    /// Called once per event, possibly from several threads.
    fn event(&self, event: &Event<'_>);
}

/// A sink that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl Events for NoEvents {
    fn event(&self, _event: &Event<'_>) {}
}

/// A sink that keeps every event, owned, for tests and for callers that report
/// events after the fact.
#[derive(Debug, Default)]
pub struct Recorded(Mutex<Vec<OwnedEvent>>);

/// An [`Event`] with owned strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedEvent {
    /// See [`Event::Phase`].
    Phase {
        /// See [`Event::Phase`].
        name: String,
        /// See [`Event::Phase`].
        total: Option<u64>,
        /// See [`Event::Phase`].
        unit: Unit,
    },
    /// See [`Event::Advance`].
    Advance {
        /// See [`Event::Advance`].
        amount: u64,
    },
    /// See [`Event::Path`].
    Path {
        /// See [`Event::Path`].
        action: char,
        /// See [`Event::Path`].
        path: String,
    },
    /// See [`Event::Warning`].
    Warning {
        /// See [`Event::Warning`].
        message: String,
    },
    /// See [`Event::Finished`].
    Finished,
}

impl From<&Event<'_>> for OwnedEvent {
    fn from(e: &Event<'_>) -> Self {
        match *e {
            Event::Phase { name, total, unit } => OwnedEvent::Phase {
                name: name.to_string(),
                total,
                unit,
            },
            Event::Advance { amount } => OwnedEvent::Advance { amount },
            Event::Path { action, path } => OwnedEvent::Path {
                action,
                path: path.to_string(),
            },
            Event::Warning { message } => OwnedEvent::Warning {
                message: message.to_string(),
            },
            Event::Finished => OwnedEvent::Finished,
        }
    }
}

impl Recorded {
    /// The events received so far, in order.
    pub fn events(&self) -> Vec<OwnedEvent> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Events for Recorded {
    fn event(&self, event: &Event<'_>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.into());
        }
    }
}

/// Who runs an operation and when: supplied by the caller (the command line reads
/// `$USER` and the clock, a server its logged-in user), never read by the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    /// The user name recorded in history and `jcr:createdBy`-like properties.
    pub user: String,
    /// The time the operation began.
    pub time: crate::value::Date,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_keeps_events_in_order() {
        let r = Recorded::default();
        r.event(&Event::Phase {
            name: "installing",
            total: Some(3),
            unit: Unit::Paths,
        });
        r.event(&Event::Path {
            action: 'A',
            path: "/a",
        });
        r.event(&Event::Advance { amount: 1 });
        r.event(&Event::Finished);
        let got = r.events();
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[1],
            OwnedEvent::Path {
                action: 'A',
                path: "/a".into()
            }
        );
        assert_eq!(got[3], OwnedEvent::Finished);
    }

    #[test]
    fn no_events_is_a_sink() {
        NoEvents.event(&Event::Warning { message: "x" });
    }
}
