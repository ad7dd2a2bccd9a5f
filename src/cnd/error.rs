//! Errors of reading CND text. Every one carries the file, line and column of the
//! offending token and says what was expected there.

use crate::location::Location;
use crate::name::NameError;

/// Why a CND text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CndError {
    /// A token that the grammar does not allow at this place.
    #[error("{location}: expected {expected}, found {found}")]
    Syntax {
        /// Where the unexpected token starts.
        location: Location,
        /// What the grammar allows here (`']' after the node type name`).
        expected: String,
        /// The token found instead (`'x'`, `end of file`).
        found: String,
    },
    /// Text that is not a token at all: an unterminated string or comment, a stray
    /// character.
    #[error("{location}: {message}")]
    Lexical {
        /// Where the bad text starts.
        location: Location,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A name that is not a valid JCR name.
    #[error("{location}: '{name}' is not a valid {what}: {source}")]
    InvalidName {
        /// Where the name starts.
        location: Location,
        /// The name as written.
        name: String,
        /// What the name names (`node type name`, `property name`, ...).
        what: &'static str,
        /// Why it is invalid.
        source: NameError,
    },
    /// A well-formed construct with an impossible value (a prefix mapped to the empty
    /// URI, an empty query operator list).
    #[error("{location}: {message}")]
    Invalid {
        /// Where the construct starts.
        location: Location,
        /// What is wrong.
        message: String,
    },
}

impl CndError {
    /// Where the error is.
    pub fn location(&self) -> &Location {
        match self {
            CndError::Syntax { location, .. }
            | CndError::Lexical { location, .. }
            | CndError::InvalidName { location, .. }
            | CndError::Invalid { location, .. } => location,
        }
    }
}
