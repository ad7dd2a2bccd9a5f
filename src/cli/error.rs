//! The one error type of the command line: a message, its causes, optional hints,
//! and whether it is the user's usage mistake (exit 2) or a failure (exit 1).

use std::error::Error;
use std::fmt;

/// A command failure as the user sees it.
#[derive(Debug)]
pub struct CliError {
    /// Exit code: 1 failure, 2 usage.
    pub code: i32,
    /// What went wrong.
    pub message: String,
    /// The chain of causes, outermost first.
    pub causes: Vec<String>,
    /// What the user can do about it.
    pub hints: Vec<String>,
}

/// Result of a command: its exit code, or an error.
pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    /// A failure (exit 1).
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError {
            code: 1,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: 2,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// Adds a hint line.
    pub fn hint(mut self, h: impl Into<String>) -> CliError {
        self.hints.push(h.into());
        self
    }

    /// Prints the error on stderr and returns its exit code.
    pub fn report(&self) -> i32 {
        eprintln!("{self}");
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for c in &self.causes {
            write!(f, "\n  caused by: {c}")?;
        }
        for h in &self.hints {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl<E: Error> From<E> for CliError {
    fn from(e: E) -> CliError {
        let mut causes = Vec::new();
        let mut src = e.source();
        while let Some(s) = src {
            causes.push(s.to_string());
            src = s.source();
        }
        CliError {
            code: 1,
            message: e.to_string(),
            causes,
            hints: Vec::new(),
        }
    }
}
