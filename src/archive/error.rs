//! What can go wrong while reading or writing an archive, and the warnings that do not
//! stop a read.
//!
//! Every error names the archive (the path the user gave) and, where there is one, the
//! entry, so a message alone is enough to find the problem. Errors raised while an entry
//! is being read through [`std::io::Read`] travel inside an [`std::io::Error`];
//! [`ArchiveError::from_read_error`] takes them out again.

use std::fmt;
use std::io;

use crate::location::Location;

use super::entry_name::NameProblem;

/// An error reading or writing a package archive (zip file or folder).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The operating system refused a read or write.
    #[error("{archive}{}: {source}", in_entry(.entry))]
    Io {
        /// The archive (or target) path as the user gave it.
        archive: String,
        /// The entry being read or written, if any.
        entry: Option<String>,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The package path is neither a regular file nor a folder: a FIFO would block
    /// every reader, a device would be read without end.
    #[error(
        "{archive}: not a regular file or folder (a FIFO, device or socket); a package \
         is a zip file or a folder"
    )]
    NotAFile {
        /// The path.
        archive: String,
    },

    /// The file has no bytes at all, so it cannot be a zip (a failed download or copy).
    #[error(
        "{archive}: the file is empty (0 bytes), so it is not a zip archive; \
         was the download or copy interrupted?"
    )]
    EmptyFile {
        /// The archive path.
        archive: String,
    },

    /// The zip's end-of-central-directory record or central directory cannot be read.
    #[error(
        "{archive}: not a readable zip archive ({reason}); the file is truncated, \
         corrupt or not a zip"
    )]
    NotAZip {
        /// The archive path.
        archive: String,
        /// What the zip reader found wrong.
        reason: String,
    },

    /// An entry name that could write outside a target folder or means different things
    /// on different systems.
    #[error("{archive}: entry `{}` is refused: {problem}", .entry.escape_debug())]
    UnsafeName {
        /// The archive path.
        archive: String,
        /// The entry name as stored.
        entry: String,
        /// What is wrong with it.
        problem: NameProblem,
    },

    /// An entry name that is not UTF-8 (FileVault reads names as UTF-8 and refuses
    /// others too).
    #[error("{archive}: entry name `{entry}` is not valid UTF-8")]
    NonUtf8Name {
        /// The archive path.
        archive: String,
        /// The name, with invalid bytes replaced by U+FFFD.
        entry: String,
    },

    /// Two entries with the same name: which one wins differs between tools.
    #[error("{archive}: entry `{}` occurs more than once", .entry.escape_debug())]
    DuplicateEntry {
        /// The archive path.
        archive: String,
        /// The repeated name.
        entry: String,
    },

    /// Two entries whose names unescape to the same repository node (`_jcr_content`
    /// and `jcr%3acontent`): which one wins would depend on the order of reading.
    #[error(
        "{archive}: entries `{}` and `{}` are both the repository node `{}`",
        .first.escape_debug(),
        .second.escape_debug(),
        .node.escape_debug()
    )]
    NameCollision {
        /// The archive path.
        archive: String,
        /// The first entry.
        first: String,
        /// The second entry.
        second: String,
        /// The repository path both stand for.
        node: String,
    },

    /// An entry whose name unescapes to something that is not a JCR name segment
    /// (`a%2fb`, `a%00b`).
    #[error(
        "{archive}: entry `{}` stands for the node name `{}`, which is refused: {problem}",
        .entry.escape_debug(),
        .name.escape_debug()
    )]
    NotANodeName {
        /// The archive path.
        archive: String,
        /// The entry.
        entry: String,
        /// The unescaped name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },

    /// A name used both as a file and as a directory (`a` and `a/b`).
    #[error("{archive}: `{}` is both a file and a directory", .entry.escape_debug())]
    FileDirectoryConflict {
        /// The archive path.
        archive: String,
        /// The name used twice.
        entry: String,
    },

    /// Two entries whose names differ only in case (refused in strict mode).
    #[error(
        "{archive}: entries `{}` and `{}` differ only in case or Unicode normalization; \
         they would overwrite each \
         other on a case-insensitive file system",
        .first.escape_debug(),
        .second.escape_debug()
    )]
    CaseCollision {
        /// The archive path.
        archive: String,
        /// The first name (in sorted order).
        first: String,
        /// The second name.
        second: String,
    },

    /// A symbolic link inside a folder archive: folder archives never follow links.
    #[error(
        "{archive}: `{}` is a symbolic link; folder packages must not contain links \
         (replace it with the file or folder it points to)",
        .entry.escape_debug()
    )]
    Symlink {
        /// The folder path.
        archive: String,
        /// The link, relative to the folder.
        entry: String,
    },

    /// A device, socket or pipe inside a folder archive.
    #[error("{archive}: `{}` is not a regular file or directory", .entry.escape_debug())]
    SpecialFile {
        /// The folder path.
        archive: String,
        /// The file, relative to the folder.
        entry: String,
    },

    /// No entry of that name.
    #[error("{archive}: no entry `{}`", .entry.escape_debug())]
    NotFound {
        /// The archive path.
        archive: String,
        /// The name asked for.
        entry: String,
    },

    /// A directory was opened as a file.
    #[error("{archive}: `{}` is a directory, not a file", .entry.escape_debug())]
    IsADirectory {
        /// The archive path.
        archive: String,
        /// The directory name.
        entry: String,
    },

    /// A file was listed as a directory.
    #[error("{archive}: `{}` is a file, not a directory", .entry.escape_debug())]
    NotADirectory {
        /// The archive path.
        archive: String,
        /// The file name.
        entry: String,
    },

    /// More entries than [`super::Limits::max_entries`] allows.
    #[error(
        "{archive}: holds {count} entries, more than the limit of {limit}; \
         set JCRPACK_MAX_ENTRIES to raise it if the package is trusted"
    )]
    TooManyEntries {
        /// The archive path.
        archive: String,
        /// How many entries were found (at least).
        count: u64,
        /// The limit.
        limit: u64,
    },

    /// An entry name with more segments than [`super::Limits::max_depth`] allows.
    #[error(
        "{archive}: entry `{}` is {depth} segments deep, more than the limit of {limit}; \
         set JCRPACK_MAX_PATH_DEPTH to raise it if the package is trusted",
        .entry.escape_debug()
    )]
    TooDeep {
        /// The archive path.
        archive: String,
        /// The entry (shortened when very long).
        entry: String,
        /// Its segments.
        depth: u64,
        /// The limit.
        limit: u64,
    },

    /// The entry names, with the folders they imply, take more bytes than
    /// [`super::Limits::max_name_bytes`] allows.
    #[error(
        "{archive}: the entry names and the folders they imply take more than the limit \
         of {limit} bytes (at entry `{}`); set JCRPACK_MAX_NAME_BYTES to raise it if the \
         package is trusted",
        .entry.escape_debug()
    )]
    NamesTooLong {
        /// The archive path.
        archive: String,
        /// The entry at which the limit was crossed (shortened).
        entry: String,
        /// The limit.
        limit: u64,
    },

    /// Inflating went past [`super::Limits::max_total_uncompressed`] for the archive.
    #[error(
        "{archive}: stopped inflating `{}`: the archive's entries inflate to more than \
         the limit of {limit} bytes; raise the size limit if the package is trusted",
        .entry.escape_debug()
    )]
    TotalSizeLimit {
        /// The archive path.
        archive: String,
        /// The entry being inflated when the limit was reached.
        entry: String,
        /// The limit in bytes.
        limit: u64,
    },

    /// An entry inflates to far more bytes than it occupies: a zip bomb, most likely.
    #[error(
        "{archive}: stopped inflating `{}`: {inflated} bytes came from {compressed} \
         compressed bytes, a ratio above the limit of {limit}:1 (a zip bomb?); raise the \
         ratio limit if the package is trusted",
        .entry.escape_debug()
    )]
    RatioLimit {
        /// The archive path.
        archive: String,
        /// The entry.
        entry: String,
        /// Bytes produced so far.
        inflated: u64,
        /// Compressed bytes consumed so far.
        compressed: u64,
        /// The ratio limit.
        limit: u64,
    },

    /// An entry's data does not match its header (CRC, size, bad deflate stream, ...).
    #[error("{archive}: entry `{}` is corrupt: {reason}", .entry.escape_debug())]
    CorruptEntry {
        /// The archive path.
        archive: String,
        /// The entry.
        entry: String,
        /// What did not match.
        reason: String,
    },

    /// A zip that means two things: an entry's local header disagrees with the central
    /// directory, or entries share bytes (a non-recursive zip bomb).
    #[error("{archive}: entry `{}` is refused: {reason}", .entry.escape_debug())]
    Ambiguous {
        /// The archive path.
        archive: String,
        /// The entry, as the central directory names it.
        entry: String,
        /// What disagrees or overlaps.
        reason: String,
    },

    /// An entry jcrpack cannot read: encrypted, or compressed with a method other than
    /// stored or deflate.
    #[error("{archive}: entry `{}` uses {what}, which jcrpack cannot read", .entry.escape_debug())]
    Unsupported {
        /// The archive path.
        archive: String,
        /// The entry.
        entry: String,
        /// What it uses.
        what: String,
    },

    /// The zip writer refused an operation.
    #[error("{archive}{}: {source}", in_entry(.entry))]
    Zip {
        /// The archive being written (or read, for a raw copy).
        archive: String,
        /// The entry, if any.
        entry: Option<String>,
        /// The zip crate's error.
        #[source]
        source: ::zip::result::ZipError,
    },

    /// Unpacking would write through a symbolic link that exists in the target folder.
    #[error(
        "{archive}: refusing to write `{}`: `{}` in the target folder is a symbolic link",
        .entry.escape_debug(),
        .link
    )]
    SymlinkInTarget {
        /// The target folder.
        archive: String,
        /// The entry being written.
        entry: String,
        /// The link found on the way.
        link: String,
    },

    /// Unpacking would replace a file that already exists (and overwriting is off).
    #[error(
        "{archive}: `{}` already exists in the target folder; \
         unpack into an empty folder or allow overwriting",
        .entry.escape_debug()
    )]
    AlreadyExists {
        /// The target folder.
        archive: String,
        /// The entry.
        entry: String,
    },

    /// `SOURCE_DATE_EPOCH` is set to something that is not a count of seconds.
    #[error(
        "SOURCE_DATE_EPOCH={value:?} is not a whole number of seconds since \
         1970-01-01 00:00:00 UTC"
    )]
    BadSourceDateEpoch {
        /// The value found.
        value: String,
    },
}

fn in_entry(entry: &Option<String>) -> String {
    match entry {
        Some(e) => format!(" (entry `{}`)", e.escape_debug()),
        None => String::new(),
    }
}

impl ArchiveError {
    /// Where the error is: the entry inside the package when there is one, else the
    /// archive itself. Archive errors have no line or column.
    pub fn location(&self) -> Location {
        Location::file(self.entry().unwrap_or_else(|| self.archive()))
    }

    /// The archive (or target folder) the error is about.
    pub fn archive(&self) -> &str {
        use ArchiveError::*;
        match self {
            Io { archive, .. }
            | EmptyFile { archive }
            | NotAFile { archive }
            | NotAZip { archive, .. }
            | UnsafeName { archive, .. }
            | NonUtf8Name { archive, .. }
            | DuplicateEntry { archive, .. }
            | FileDirectoryConflict { archive, .. }
            | NotANodeName { archive, .. }
            | CaseCollision { archive, .. }
            | NameCollision { archive, .. }
            | Symlink { archive, .. }
            | SpecialFile { archive, .. }
            | NotFound { archive, .. }
            | IsADirectory { archive, .. }
            | NotADirectory { archive, .. }
            | TooManyEntries { archive, .. }
            | TotalSizeLimit { archive, .. }
            | TooDeep { archive, .. }
            | NamesTooLong { archive, .. }
            | RatioLimit { archive, .. }
            | CorruptEntry { archive, .. }
            | Ambiguous { archive, .. }
            | Unsupported { archive, .. }
            | Zip { archive, .. }
            | SymlinkInTarget { archive, .. }
            | AlreadyExists { archive, .. } => archive,
            BadSourceDateEpoch { .. } => "SOURCE_DATE_EPOCH",
        }
    }

    /// The entry the error is about, if it is about one.
    pub fn entry(&self) -> Option<&str> {
        use ArchiveError::*;
        match self {
            Io { entry, .. } | Zip { entry, .. } => entry.as_deref(),
            UnsafeName { entry, .. }
            | NonUtf8Name { entry, .. }
            | DuplicateEntry { entry, .. }
            | FileDirectoryConflict { entry, .. }
            | NotANodeName { entry, .. }
            | Symlink { entry, .. }
            | SpecialFile { entry, .. }
            | NotFound { entry, .. }
            | IsADirectory { entry, .. }
            | NotADirectory { entry, .. }
            | TotalSizeLimit { entry, .. }
            | TooDeep { entry, .. }
            | NamesTooLong { entry, .. }
            | RatioLimit { entry, .. }
            | CorruptEntry { entry, .. }
            | Ambiguous { entry, .. }
            | Unsupported { entry, .. }
            | SymlinkInTarget { entry, .. }
            | AlreadyExists { entry, .. } => Some(entry),
            CaseCollision { second, .. } | NameCollision { second, .. } => Some(second),
            EmptyFile { .. }
            | NotAFile { .. }
            | NotAZip { .. }
            | TooManyEntries { .. }
            | BadSourceDateEpoch { .. } => None,
        }
    }

    /// Turns an error from reading an entry (through the reader that
    /// [`super::Archive::open`] returned) back into an archive error: the limit, CRC and
    /// corruption errors the reader raised come out as themselves, anything else as
    /// [`ArchiveError::Io`] naming the archive and entry.
    pub fn from_read_error(archive: &str, entry: &str, error: io::Error) -> ArchiveError {
        if error
            .get_ref()
            .is_some_and(|inner| inner.is::<ArchiveError>())
        {
            if let Some(inner) = error.into_inner() {
                if let Ok(archive_error) = inner.downcast::<ArchiveError>() {
                    return *archive_error;
                }
            }
            // Unreachable in practice: `is` said the inner error was ours.
            return ArchiveError::Io {
                archive: archive.to_owned(),
                entry: Some(entry.to_owned()),
                source: io::Error::other("lost the inner archive error"),
            };
        }
        ArchiveError::Io {
            archive: archive.to_owned(),
            entry: Some(entry.to_owned()),
            source: error,
        }
    }

    /// Wraps this error in an [`io::Error`] so it can travel through [`std::io::Read`].
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// Something odd about an archive that does not stop reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveWarning {
    /// Two entries differ only in case (an error with [`super::ReadOptions::strict`]).
    CaseCollision {
        /// The first name (in sorted order).
        first: String,
        /// The second name.
        second: String,
    },
    /// A zip entry is marked as a symbolic link; it is read as a plain file holding the
    /// link target, as FileVault does, and never unpacked as a link.
    SymlinkEntry {
        /// The entry.
        entry: String,
    },
}

impl fmt::Display for ArchiveWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveWarning::CaseCollision { first, second } => write!(
                f,
                "entries `{}` and `{}` differ only in case or Unicode normalization; they \
                 would overwrite each other \
                 on a case-insensitive file system",
                first.escape_debug(),
                second.escape_debug()
            ),
            ArchiveWarning::SymlinkEntry { entry } => write!(
                f,
                "entry `{}` is marked as a symbolic link; it is read as a plain file",
                entry.escape_debug()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_come_back_as_themselves() {
        let original = ArchiveError::CorruptEntry {
            archive: "p.zip".into(),
            entry: "a.txt".into(),
            reason: "CRC mismatch".into(),
        };
        let back = ArchiveError::from_read_error("p.zip", "a.txt", original.into_io());
        assert!(
            matches!(back, ArchiveError::CorruptEntry { .. }),
            "{back:?}"
        );
        let other = ArchiveError::from_read_error(
            "p.zip",
            "a.txt",
            io::Error::new(io::ErrorKind::UnexpectedEof, "eof"),
        );
        assert_eq!(other.to_string(), "p.zip (entry `a.txt`): eof");
        assert_eq!(other.location().to_string(), "a.txt");
    }

    #[test]
    fn names_with_control_characters_are_escaped_in_messages() {
        let e = ArchiveError::DuplicateEntry {
            archive: "p.zip".into(),
            entry: "a\0b".into(),
        };
        assert_eq!(e.to_string(), "p.zip: entry `a\\0b` occurs more than once");
    }
}
