//! Errors from reading a `filter.xml`.

use super::pattern::PatternError;
use crate::location::Location;

/// Why a `filter.xml` could not be read. Every variant says where (file, line,
/// column) and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// The file could not be read.
    #[error("{file}: cannot read the filter: {message}")]
    Io {
        /// The file.
        file: String,
        /// The operating system's message.
        message: String,
    },
    /// The bytes are not in an encoding jcrpack reads, or not valid in the declared one.
    #[error("{location}: {message}")]
    Encoding {
        /// Where.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The document is not well-formed XML.
    #[error("{location}: not well-formed XML: {message}")]
    Xml {
        /// Where.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A DOCTYPE with an internal subset (refused: entity declarations are never
    /// processed).
    #[error("{location}: a DOCTYPE with an internal subset is refused (entity declarations are not processed; a filter.xml needs no DTD)")]
    Doctype {
        /// Where.
        location: Location,
    },
    /// The root element is not `<workspaceFilter>`.
    #[error("{location}: expected the root element <workspaceFilter>, found <{found}>")]
    RootElement {
        /// Where.
        location: Location,
        /// The element found.
        found: String,
    },
    /// The `version` attribute is not a number.
    #[error("{location}: version '{value}' is not a number (expected 1.0)")]
    InvalidVersion {
        /// Where.
        location: Location,
        /// The attribute value.
        value: String,
    },
    /// The `version` attribute is above 1.0.
    #[error(
        "{location}: workspace filter version {version} is not supported (expected 1.0 or lower)"
    )]
    UnsupportedVersion {
        /// Where.
        location: Location,
        /// The version, as FileVault prints it.
        version: String,
    },
    /// An element other than the one expected at this level.
    #[error("{location}: expected {expected}, found <{found}>")]
    UnexpectedElement {
        /// Where.
        location: Location,
        /// What is allowed here, e.g. `<filter>`.
        expected: &'static str,
        /// The element found.
        found: String,
    },
    /// A `mode` that is not an import mode.
    #[error("{location}: invalid mode '{value}' (expected replace, merge, update, merge_properties or update_properties)")]
    InvalidMode {
        /// Where.
        location: Location,
        /// The attribute value.
        value: String,
    },
    /// An include/exclude without a (non-empty) `pattern`.
    #[error("{location}: the pattern attribute of <{element}> is missing or empty (expected a Java regular expression)")]
    EmptyPattern {
        /// Where.
        location: Location,
        /// `include` or `exclude`.
        element: String,
    },
    /// More include and exclude patterns than the limit.
    #[error(
        "{location}: more include and exclude patterns than the limit of {limit}; set \
         JCRPACK_MAX_FILTER_PATTERNS to raise it if the filter is trusted"
    )]
    TooManyPatterns {
        /// Where the first pattern past the limit is.
        location: Location,
        /// The limit.
        limit: usize,
    },
    /// A pattern that does not compile.
    #[error("{location}: {source}")]
    Pattern {
        /// Where (at the pattern character when it can be located exactly).
        location: Location,
        /// The pattern problem.
        source: PatternError,
    },
}

impl FilterError {
    /// Where the problem is (the whole file for I/O errors).
    pub fn location(&self) -> Location {
        match self {
            FilterError::Io { file, .. } => Location::file(file.clone()),
            FilterError::Encoding { location, .. }
            | FilterError::Xml { location, .. }
            | FilterError::Doctype { location }
            | FilterError::RootElement { location, .. }
            | FilterError::InvalidVersion { location, .. }
            | FilterError::UnsupportedVersion { location, .. }
            | FilterError::UnexpectedElement { location, .. }
            | FilterError::InvalidMode { location, .. }
            | FilterError::EmptyPattern { location, .. }
            | FilterError::TooManyPatterns { location, .. }
            | FilterError::Pattern { location, .. } => location.clone(),
        }
    }
}
