//! Where the command line writes: the result on stdout, status lines on stderr.
//!
//! * stdout is written with `writeln!` on a locked, buffered handle ([`stdout`]),
//!   never with `println!` (which panics when the reader has gone): a write to a
//!   closed pipe becomes an error of kind [`super::ErrorKind::Closed`], which ends
//!   the command quietly with exit 0.
//! * every line on stderr that is not an error (progress notes, summaries,
//!   warnings) goes through [`status`] and is silenced by `-q`.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `-q` for the rest of the process.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `-q` was given.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A buffered, locked stdout; flush it when done (dropping it flushes too, but
/// loses the error).
pub(crate) fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::new(io::stdout().lock())
}

/// Writes one status line on stderr unless `-q`; a closed stderr is ignored.
pub(crate) fn status(args: fmt::Arguments<'_>) {
    if !quiet() {
        let _ = writeln!(io::stderr().lock(), "{args}");
    }
}

/// `warning: ...` on stderr unless `-q`.
pub(crate) fn warning(message: impl fmt::Display) {
    status(format_args!("warning: {message}"));
}
