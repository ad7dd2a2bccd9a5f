//! The JCR name check FileVault applies to each part of a package id
//! (`PackageId.isValid`, a copy of Jackrabbit's `NameParser`): stricter than
//! [`crate::name::validate`] about blanks (no leading or trailing spaces, no other
//! white space at all) and it also accepts the expanded `{uri}local` form.

use super::java_chars;

/// Checks `name` as a JCR name; the error says what is wrong with it.
pub(crate) fn check_jcr_name(name: &str) -> Result<(), String> {
    #[derive(PartialEq, Clone, Copy)]
    enum State {
        PrefixStart,
        Prefix,
        NameStart,
        Name,
        UriStart,
        Uri,
    }
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("'{name}' is reserved"));
    }
    let mut name_start = 0usize;
    let mut state = State::PrefixStart;
    let mut trailing_spaces = false;
    for (i, c) in name.char_indices() {
        match c {
            ':' => {
                match state {
                    State::PrefixStart => return Err("the namespace prefix is empty".into()),
                    State::Prefix => {
                        if trailing_spaces {
                            return Err("a space may not end the namespace prefix".into());
                        }
                        let prefix = &name[..i];
                        if !crate::name::is_ncname(prefix) {
                            return Err(format!("'{prefix}' is not a valid namespace prefix"));
                        }
                        state = State::NameStart;
                    }
                    State::Uri => {}
                    _ => return Err("':' is not allowed here".into()),
                }
                trailing_spaces = false;
            }
            ' ' => {
                if matches!(state, State::PrefixStart | State::NameStart) {
                    return Err("a name may not start with a space".into());
                }
                trailing_spaces = true;
            }
            '[' | ']' | '*' | '|' => return Err(format!("'{c}' is not allowed in a name")),
            c if java_chars::is_whitespace(c) => {
                return Err(format!("white space {:?} is not allowed in a name", c))
            }
            '/' => {
                if state == State::UriStart {
                    state = State::Uri;
                } else if state != State::Uri {
                    return Err("'/' is not allowed in a name".into());
                }
                trailing_spaces = false;
            }
            '{' => {
                match state {
                    State::PrefixStart => state = State::UriStart,
                    State::UriStart | State::Uri => {
                        state = State::Name;
                        name_start = 0;
                    }
                    State::NameStart => {
                        state = State::Name;
                        name_start = i;
                    }
                    _ => {}
                }
                trailing_spaces = false;
            }
            '}' => {
                match state {
                    State::UriStart | State::Uri => {
                        let uri = &name[1..i];
                        if uri.is_empty() || uri.contains(':') || uri == "internal" {
                            state = State::NameStart;
                        } else if !uri.contains('/') {
                            state = State::Name;
                            name_start = 0;
                        } else {
                            return Err(format!(
                                "'{{{uri}}}' is neither a namespace URI nor part of a local name"
                            ));
                        }
                    }
                    State::PrefixStart => state = State::Prefix,
                    State::NameStart => {
                        state = State::Name;
                        name_start = i;
                    }
                    _ => {}
                }
                trailing_spaces = false;
            }
            _ => {
                match state {
                    State::PrefixStart => state = State::Prefix,
                    State::NameStart => {
                        state = State::Name;
                        name_start = i;
                    }
                    State::UriStart => state = State::Uri,
                    _ => {}
                }
                trailing_spaces = false;
            }
        }
    }
    if state == State::Uri && (name.contains(':') || name.contains('/')) {
        return Err("the local name may not contain ':' or '/'".into());
    }
    if name_start == name.len() || state == State::NameStart {
        return Err("the local name is empty".into());
    }
    if trailing_spaces {
        return Err("a name may not end with a space".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_filevault_accepts() {
        for ok in [
            "name",
            "my-package",
            "1.0-SNAPSHOT",
            "a b",
            "jcr:content",
            "{http://x/y}local",
            "{internal}x",
            "{abc}x",
            "x{y}",
            "\u{e9}t\u{e9}",
        ] {
            assert_eq!(check_jcr_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_names_filevault_refuses() {
        for bad in [
            "",
            ".",
            "..",
            " a",
            "a ",
            "a\tb",
            "a/b",
            "a:b:c",
            ":a",
            "a:",
            "1a:b",
            "a[1]",
            "a*",
            "a|b",
            "{a/b}c",
            "a :b",
            "a\u{2003}b",
        ] {
            assert!(check_jcr_name(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
