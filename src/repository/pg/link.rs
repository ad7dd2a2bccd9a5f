//! The connection of a [`super::Conn`], lent to a thread of its own while it
//! writes a full batch of waiting rows ([`super::bulk::Batch`]).
//!
//! An install fills the waiting rows much faster than the server takes them:
//! written in place, the client waits for every `COPY` to finish, and its own
//! work and the server's add up. Written behind ([`Link::write_behind`]), the
//! install goes on deciding while the server takes the batch, on two cores.
//!
//! Nothing else runs on the connection meanwhile: every use of it
//! ([`Link::get`]) takes it back first, waiting for the writer, so whatever a
//! statement reads, it sees the batch, as if it had been written in place; and
//! at most one batch is away at a time. The writer may run one more thing
//! after the batch, as the coarse `ANALYZE` the batch made due (see
//! [`super::Conn::flush`]), which the install then need not wait for. What the batch came to waits in
//! [`Link::outcome`] until the connection's owner takes it: a failed batch (the
//! connection broke) is the error of the next statement, and the transaction
//! is then rolled back as after any failed statement.

use super::bulk::{Batch, FlushError};
use postgres::Client;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a batch written behind came to: the rows written, or why not.
pub(crate) type Outcome = Result<u64, FlushError>;

/// A connection, here or with the thread writing a batch on it.
pub(crate) struct Link {
    /// The connection, when no batch is being written on it.
    here: Option<Client>,
    /// The thread writing a batch, which gives the connection back.
    away: Option<JoinHandle<(Client, Outcome)>>,
    /// What the last batch written behind came to, until taken.
    outcome: Option<Outcome>,
    /// Time spent waiting for the writer to give the connection back, and how
    /// many waits, until taken ([`Link::take_waited`]).
    waited: (Duration, u64),
}

impl Link {
    pub(crate) fn new(client: Client) -> Link {
        Link {
            here: Some(client),
            away: None,
            outcome: None,
            waited: (Duration::ZERO, 0),
        }
    }

    /// The connection, once the batch written behind (if any) is written.
    pub(crate) fn get(&mut self) -> &mut Client {
        self.back();
        match &mut self.here {
            Some(client) => client,
            // `back` leaves the connection here.
            None => unreachable!("a connection is here or with its writer"),
        }
    }

    /// Whether a batch is being written behind.
    #[cfg(test)]
    pub(crate) fn is_away(&self) -> bool {
        self.away.is_some()
    }

    /// Takes the connection back from its writer, keeping what the batch came to.
    fn back(&mut self) {
        if let Some(writer) = self.away.take() {
            let t = Instant::now();
            let joined = writer.join();
            self.waited.0 += t.elapsed();
            self.waited.1 += 1;
            match joined {
                Ok((client, outcome)) => {
                    self.here = Some(client);
                    self.outcome = Some(outcome);
                }
                // A panic of the writer is one of this thread's.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    }

    /// The time waited for the writer since the last call, and how many waits.
    pub(crate) fn take_waited(&mut self) -> (Duration, u64) {
        std::mem::take(&mut self.waited)
    }

    /// What the batch last written behind came to, waiting for it; `None` when
    /// none was written since the last call.
    pub(crate) fn outcome(&mut self) -> Option<Outcome> {
        self.back();
        self.outcome.take()
    }

    /// Lends the connection to a thread that writes `batch`, then (when the
    /// batch is written) runs `then` on it, and returns at once. The caller
    /// has taken the outcome of the one before ([`Link::outcome`]).
    pub(crate) fn write_behind(&mut self, batch: Batch, then: Option<fn(&mut Client)>) {
        let mut client = match self.here.take() {
            Some(client) => client,
            None => {
                self.back();
                match self.here.take() {
                    Some(client) => client,
                    None => unreachable!("a connection is here or with its writer"),
                }
            }
        };
        self.away = Some(std::thread::spawn(move || {
            let outcome = batch.write(&mut client);
            if let (Ok(_), Some(then)) = (&outcome, then) {
                then(&mut client);
            }
            (client, outcome)
        }));
    }
}
