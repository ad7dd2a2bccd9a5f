//! The one error type of the command line: what kind of failure it is (the user's
//! mistake, a refused package, an internal failure, or a reader that closed the
//! pipe), a message with context, the typed cause it came from, and hints.
//!
//! The cause is kept as an error value, not a string: the message says where (a
//! path, an entry), the cause says what, and its `source()` chain is printed as
//! `caused by:` lines.

use std::error::Error;
use std::fmt;
use std::io;

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's mistake in the command line itself (exit 2): an unknown option
    /// value, a relative repository path, a missing argument.
    Usage,
    /// The user's input cannot be used (exit 1): a missing or malformed file, a
    /// repository that does not exist, a path with no node.
    Input,
    /// A package or operation broke a rule and was refused (exit 1): node types,
    /// filter, access control, identifiers, a conflicting undo.
    Refused,
    /// Something failed that is not the user's doing (exit 1): the disk, the
    /// database, a bug.
    Internal,
    /// Whoever reads our output closed the pipe (`jcrpack ls PKG | head -1`): the
    /// output ends quietly and the command succeeds (exit 0), as ripgrep does.
    Closed,
}

/// A command failure as the user sees it.
#[derive(Debug)]
pub struct CliError {
    /// What kind of failure (and so the exit code).
    pub kind: ErrorKind,
    /// What went wrong, with its context (the file, entry or repository path).
    pub message: String,
    /// The error this one came from, when there is one.
    pub source: Option<Box<dyn Error + Send + Sync + 'static>>,
    /// What the user can do about it.
    pub hints: Vec<String>,
}

/// Result of a command: its exit code, or an error.
pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> CliError {
        CliError {
            kind,
            message: message.into(),
            source: None,
            hints: Vec::new(),
        }
    }

    /// The user's input cannot be used (exit 1).
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Input, message)
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Usage, message)
    }

    /// A refused package or operation (exit 1).
    pub fn refused(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Refused, message)
    }

    /// An internal failure (exit 1).
    pub fn internal(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Internal, message)
    }

    /// `error` with `context` (a path, an entry, what was being done) in front of
    /// its message; the error itself is kept as the source. A closed pipe anywhere
    /// in its chain makes it [`ErrorKind::Closed`].
    pub fn context(
        context: impl fmt::Display,
        error: impl Error + Send + Sync + 'static,
    ) -> CliError {
        let mut e = CliError::from(error);
        e.message = format!("{context}: {}", e.message);
        e
    }

    /// The same error, of another kind (a closed pipe stays closed).
    pub fn kind(mut self, kind: ErrorKind) -> CliError {
        if self.kind != ErrorKind::Closed {
            self.kind = kind;
        }
        self
    }

    /// Adds a hint line.
    pub fn hint(mut self, h: impl Into<String>) -> CliError {
        self.hints.push(h.into());
        self
    }

    /// The process exit code: 2 usage, 0 closed pipe, 1 otherwise.
    pub fn code(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage => 2,
            ErrorKind::Closed => 0,
            _ => 1,
        }
    }

    /// The causes of the message, outermost first (the source's own sources; the
    /// source's message is already part of [`CliError::message`]).
    pub fn causes(&self) -> Vec<String> {
        let mut causes = Vec::new();
        let mut src = self.source.as_deref().and_then(|s| s.source());
        while let Some(s) = src {
            causes.push(s.to_string());
            src = s.source();
        }
        causes
    }

    /// Prints the error on stderr (nothing for a closed pipe) and returns its exit code.
    pub fn report(&self) -> i32 {
        if self.kind != ErrorKind::Closed {
            use std::io::Write;
            // Control characters from content are escaped: a message naming a node or
            // an entry cannot drive the terminal or forge a line.
            let shown = self.to_string();
            let _ = writeln!(
                io::stderr().lock(),
                "{}",
                super::out::escape_controls(&shown, true)
            );
        }
        self.code()
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for c in self.causes() {
            write!(f, "\n  caused by: {c}")?;
        }
        for h in &self.hints {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// Whether `e` or one of its sources is a write to a closed pipe.
pub fn is_closed_pipe(e: &(dyn Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

impl<E: Error + Send + Sync + 'static> From<E> for CliError {
    fn from(e: E) -> CliError {
        let kind = if is_closed_pipe(&e) {
            ErrorKind::Closed
        } else {
            kind_of(&e)
        };
        CliError {
            kind,
            message: e.to_string(),
            source: Some(Box::new(e)),
            hints: Vec::new(),
        }
    }
}

/// The kind of a library error: refusals are refusals, the repository's and the
/// disk's failures are internal, everything else is about the user's input.
fn kind_of(e: &(dyn Error + 'static)) -> ErrorKind {
    use crate::import::ImportError;
    use crate::repository::RepositoryError;
    if let Some(i) = e.downcast_ref::<ImportError>() {
        return match i {
            ImportError::Repository(r) | ImportError::Blob { source: r, .. } => kind_of(r),
            ImportError::InSubPackage { source, .. } => kind_of(source.as_ref()),
            ImportError::TempFile { .. }
            | ImportError::ReadBack { .. }
            | ImportError::ReadAhead { .. } => ErrorKind::Internal,
            i if i.is_refusal() => ErrorKind::Refused,
            _ => ErrorKind::Input,
        };
    }
    if let Some(r) = e.downcast_ref::<RepositoryError>() {
        return match r {
            RepositoryError::UndoConflict { .. } => ErrorKind::Refused,
            _ => ErrorKind::Internal,
        };
    }
    ErrorKind::Input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_anywhere_in_the_chain_exits_0_quietly() {
        let e = CliError::context("writing", io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(e.kind, ErrorKind::Closed);
        assert_eq!(e.code(), 0);
        let wrapped = crate::archive::ArchiveError::Io {
            archive: "out".into(),
            entry: None,
            source: io::Error::from(io::ErrorKind::BrokenPipe),
        };
        assert_eq!(CliError::from(wrapped).code(), 0);
        assert_eq!(CliError::usage("x").code(), 2);
        assert_eq!(CliError::failure("x").code(), 1);
    }

    #[test]
    fn context_keeps_the_source_and_its_message() {
        let e = CliError::context("/tmp/a.xml", io::Error::other("no such file"));
        assert_eq!(e.to_string(), "error: /tmp/a.xml: no such file");
        assert!(e.source.is_some());
        assert_eq!(e.kind, ErrorKind::Input);
    }

    #[test]
    fn refusals_and_repository_failures_have_their_kind() {
        let r = crate::import::ImportError::TooDeep {
            entry: "p.zip!/jcr_root/etc/packages/x.zip".into(),
            path: "/etc/packages/x.zip".into(),
            max: 8,
        };
        assert_eq!(CliError::from(r).kind, ErrorKind::Refused);
    }
}
