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
/// Control characters from content are escaped ([`escape_controls`]).
pub(crate) fn status(args: fmt::Arguments<'_>) {
    if !quiet() {
        let text = args.to_string();
        let line = escape_controls(&text, true);
        let _ = writeln!(io::stderr().lock(), "{line}");
    }
}

/// Writes one line of output: `args` with every control character escaped, a line
/// break and a carriage return too ([`escape_controls`]), then `\n`. What a printer
/// writes through it is one line whatever the content holds: a value cannot forge a
/// line (`D /content/x`) nor send an escape sequence to the terminal.
pub(crate) fn line(out: &mut dyn Write, args: fmt::Arguments<'_>) -> io::Result<()> {
    let text = match args.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(args.to_string()),
    };
    out.write_all(escape_controls(&text, false).as_bytes())?;
    out.write_all(b"\n")
}

/// `text` with every control character escaped (`\u{1b}`, `\n`, `\0`), so that
/// content (a node name, an entry name, a value in a message) can neither drive a
/// terminal nor forge a line of a log; `keep_newlines` keeps `\n` for messages that
/// are several lines by design. Unicode line and paragraph separators are escaped
/// too.
///
/// A kept line break must start an indented line (a message's own continuation:
/// `\n  caused by: ...`, `\n  - entry`): one followed by anything else is content
/// and is escaped, so no line of a message but its first starts at the left margin,
/// where a forged `D /content/x` would look like a line of the install log.
pub(crate) fn escape_controls(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let is_escaped = |c: char, next: Option<char>| {
        let kept = keep_newlines && c == '\n' && matches!(next, Some(' ') | None);
        (c.is_control() && !kept) || matches!(c, '\u{2028}' | '\u{2029}')
    };
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if is_escaped(c, chars.peek().copied()) {
            any = true;
            break;
        }
    }
    if !any {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_escaped(c, chars.peek().copied()) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn content_cannot_forge_a_line_or_drive_the_terminal() {
        assert_eq!(
            escape_controls("A /content/x\nD /content/important", false),
            "A /content/x\\nD /content/important"
        );
        assert_eq!(
            escape_controls("\u{1b}[31mred\0", true),
            "\\u{1b}[31mred\\0"
        );
        assert_eq!(escape_controls("two\n  lines", true), "two\n  lines");
        assert_eq!(escape_controls("end\n", true), "end\n");
        // Content's line break starts no line at the margin.
        assert_eq!(
            escape_controls("'a\nD /content/x'\n  caused by: x", true),
            "'a\\nD /content/x'\n  caused by: x"
        );
        assert_eq!(escape_controls("ls\u{2028}x", true), "ls\\u{2028}x");
        assert_eq!(escape_controls("caf\u{e9}", false), "caf\u{e9}");
    }
}

/// `warning: ...` on stderr unless `-q`.
pub(crate) fn warning(message: impl fmt::Display) {
    status(format_args!("warning: {message}"));
}
