//! Escaping text by runs: the text is scanned by byte for the few bytes that may
//! start a character to escape, and the runs between the characters escaped are
//! copied whole (non-ASCII text was decoded and encoded again character by
//! character before). The DocView writer's attribute escaping and the value
//! escaping inside attributes share it.

/// A piece of escaped text: a run to copy as it is, or a character to escape.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Escape(char),
}

/// Splits `s` into [`Piece`]s, in order: a character is escaped when its first
/// byte is one `maybe` flags and `escaped` says so; everything else is text.
pub(crate) fn escape_runs<'a>(
    s: &'a str,
    maybe: impl Fn(u8) -> bool,
    escaped: impl Fn(char) -> bool,
    mut piece: impl FnMut(Piece<'a>),
) {
    let b = s.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|&c| maybe(c)) {
        let at = i + at;
        let c = s[at..]
            .chars()
            .next()
            .expect("a flagged byte of a str starts a character");
        if escaped(c) {
            if copied < at {
                piece(Piece::Text(&s[copied..at]));
            }
            piece(Piece::Escape(c));
            copied = at + c.len_utf8();
        }
        i = at + c.len_utf8();
    }
    if copied < s.len() {
        piece(Piece::Text(&s[copied..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(s: &str) -> Vec<Piece<'_>> {
        let mut out = Vec::new();
        escape_runs(
            s,
            |b| b == b'&' || b == 0xc2,
            |c| c != '\u{a0}',
            |p| out.push(p),
        );
        out
    }

    #[test]
    fn runs_between_escaped_characters_are_whole_and_flagged_ones_not_escaped_stay_text() {
        assert_eq!(pieces(""), []);
        assert_eq!(pieces("plain"), [Piece::Text("plain")]);
        assert_eq!(
            pieces("a&b\u{a0}c&"),
            [
                Piece::Text("a"),
                Piece::Escape('&'),
                Piece::Text("b\u{a0}c"),
                Piece::Escape('&'),
            ]
        );
        assert_eq!(
            pieces("&\u{85}é"),
            [
                Piece::Escape('&'),
                Piece::Escape('\u{85}'),
                Piece::Text("é")
            ]
        );
    }
}
