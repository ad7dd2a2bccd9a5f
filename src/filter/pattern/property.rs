//! Java's character property names (`\p{Lu}`, `\p{IsLatin}`, `\p{Alpha}`,
//! `\p{javaLowerCase}`, `\p{sc=Greek}`, ...) mapped to `regex` class expressions.
//!
//! The lookup order follows `Pattern.family`: `name=value` forms first; then `In...`
//! (Unicode blocks); then `Is...` (binary properties, then general categories and the
//! POSIX/java names, then scripts); otherwise the POSIX names (Unicode versions under
//! `(?U)`) and general categories. POSIX names are ASCII-only unless `(?U)` is on.

use super::java::NEVER;

/// Why a property name could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PropertyError {
    /// Java does not know the name either (a syntax error in Java too).
    Unknown,
    /// Java knows it, the `regex` crate cannot express it; the text names the kind.
    Unsupported(&'static str),
}

/// Java's Unicode `\w` (`(?U)`): alphabetic, marks, decimal digits, connector
/// punctuation and join controls.
pub(super) const UNICODE_WORD: &str = r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]";

/// Maps the name inside `\p{...}` (or the letter of `\pL`) to a class expression.
/// Under CASE_INSENSITIVE the JDK widens the case properties to all cased letters.
pub(super) fn java_property(
    name: &str,
    unicode_class: bool,
    case_insensitive: bool,
) -> Result<String, PropertyError> {
    if case_insensitive {
        if let Some(expr) = case_insensitive_property(name, unicode_class) {
            return Ok(expr.to_string());
        }
    }
    if let Some(eq) = name.find('=') {
        let key = name[..eq].to_ascii_lowercase();
        let value = &name[eq + 1..];
        return match key.as_str() {
            "sc" | "script" => script(value),
            "blk" | "block" => Err(PropertyError::Unsupported("Unicode block")),
            "gc" | "general_category" => general_property(value),
            _ => Err(PropertyError::Unknown),
        };
    }
    if name.starts_with("In") {
        return Err(PropertyError::Unsupported("Unicode block"));
    }
    if let Some(rest) = name.strip_prefix("Is") {
        return match binary_property(rest) {
            Ok(expr) => Ok(expr),
            Err(PropertyError::Unknown) => match general_property(rest) {
                Ok(expr) => Ok(expr),
                Err(PropertyError::Unknown) => script(rest),
                Err(other) => Err(other),
            },
            Err(other) => Err(other),
        };
    }
    if unicode_class {
        if let Some(expr) = posix_unicode(name) {
            return Ok(expr.to_string());
        }
    }
    general_property(name)
}

/// Under `(?i)`: `Lu`/`Ll`/`Lt` mean any cased letter, the Unicode case properties
/// mean any character with a case, and ASCII `Lower`/`Upper` mean any ASCII letter.
fn case_insensitive_property(name: &str, unicode_class: bool) -> Option<&'static str> {
    const CASED_LETTER: &str = r"\p{LC}";
    const CASED: &str = r"[\p{Lowercase}\p{Uppercase}\p{Lt}]";
    const ASCII_LETTER: &str = "[A-Za-z]";
    let category = |n: &str| matches!(n, "Lu" | "Ll" | "Lt");
    if let Some((key, value)) = name.split_once('=') {
        let key = key.to_ascii_lowercase();
        return (matches!(key.as_str(), "gc" | "general_category") && category(value))
            .then_some(CASED_LETTER);
    }
    if let Some(rest) = name.strip_prefix("Is") {
        return match rest.to_uppercase().as_str() {
            "LOWERCASE" | "UPPERCASE" | "TITLECASE" | "LOWER" | "UPPER" => Some(CASED),
            _ if category(rest) => Some(CASED_LETTER),
            _ if matches!(rest, "javaLowerCase" | "javaUpperCase" | "javaTitleCase") => Some(CASED),
            _ => None,
        };
    }
    if unicode_class && matches!(name.to_ascii_uppercase().as_str(), "LOWER" | "UPPER") {
        return Some(CASED);
    }
    match name {
        n if category(n) => Some(CASED_LETTER),
        "Lower" | "Upper" => Some(ASCII_LETTER),
        "javaLowerCase" | "javaUpperCase" | "javaTitleCase" => Some(CASED),
        _ => None,
    }
}

/// `Character.UnicodeScript.forName`: case-insensitive names and aliases; the `regex`
/// crate matches script names loosely, so it decides which names exist.
fn script(name: &str) -> Result<String, PropertyError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ' || c == '-');
    if !valid {
        return Err(PropertyError::Unknown);
    }
    let expr = format!(r"\p{{Script={name}}}");
    if regex::Regex::new(&expr).is_ok() {
        Ok(expr)
    } else {
        Err(PropertyError::Unknown)
    }
}

/// The binary properties Java accepts after `Is` (upper-cased lookup), including
/// the POSIX names, which after `Is` mean their Unicode versions.
fn binary_property(name: &str) -> Result<String, PropertyError> {
    let expr = match name.to_uppercase().as_str() {
        "ALPHABETIC" => r"\p{Alphabetic}",
        "ASSIGNED" => r"\P{Cn}",
        "CONTROL" => r"\p{Cc}",
        "EMOJI" => r"\p{Emoji}",
        "EMOJI_PRESENTATION" => r"\p{Emoji_Presentation}",
        "EMOJI_MODIFIER" => r"\p{Emoji_Modifier}",
        "EMOJI_MODIFIER_BASE" => r"\p{Emoji_Modifier_Base}",
        "EMOJI_COMPONENT" => r"\p{Emoji_Component}",
        "EXTENDED_PICTOGRAPHIC" => r"\p{Extended_Pictographic}",
        "HEXDIGIT" | "HEX_DIGIT" => JAVA_HEX_DIGIT,
        "IDEOGRAPHIC" => r"\p{Ideographic}",
        "JOINCONTROL" | "JOIN_CONTROL" => r"\p{Join_Control}",
        "LETTER" => r"\p{L}",
        "LOWERCASE" => r"\p{Lowercase}",
        "NONCHARACTERCODEPOINT" | "NONCHARACTER_CODE_POINT" => r"\p{Noncharacter_Code_Point}",
        "TITLECASE" => r"\p{Lt}",
        "PUNCTUATION" => r"\p{P}",
        "UPPERCASE" => r"\p{Uppercase}",
        "WHITESPACE" | "WHITE_SPACE" => r"\p{White_Space}",
        "WORD" => UNICODE_WORD,
        "ALNUM" => r"[\p{Alphabetic}\p{Nd}]",
        "LOWER" => r"\p{Lowercase}",
        "UPPER" => r"\p{Uppercase}",
        "ALPHA" => r"\p{Alphabetic}",
        "DIGIT" => r"\p{Nd}",
        "SPACE" => r"\p{White_Space}",
        "PUNCT" => r"\p{P}",
        "XDIGIT" => JAVA_HEX_DIGIT,
        "CNTRL" => r"\p{Cc}",
        "BLANK" => JAVA_BLANK,
        "GRAPH" => JAVA_GRAPH,
        "PRINT" => JAVA_PRINT,
        _ => return Err(PropertyError::Unknown),
    };
    Ok(expr.to_string())
}

/// Java's Unicode hex digit: decimal digits, ASCII and full-width `A-F`/`a-f`.
const JAVA_HEX_DIGIT: &str = r"[\p{Nd}0-9A-Fa-f\x{FF21}-\x{FF26}\x{FF41}-\x{FF46}]";
/// Java's Unicode blank: space separators and TAB.
const JAVA_BLANK: &str = r"[\p{Zs}\x{9}]";
/// Java's Unicode graph: not a separator, control, surrogate or unassigned.
const JAVA_GRAPH: &str = r"[^\p{Zs}\p{Zl}\p{Zp}\p{Cc}\p{Cn}]";
/// Java's Unicode print: (graph or blank) and not a control.
const JAVA_PRINT: &str = r"[^\p{Zl}\p{Zp}\p{Cc}\p{Cn}]";

/// The POSIX names under `(?U)` (upper-cased lookup, `CharPredicates.forPOSIXName`).
fn posix_unicode(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_uppercase().as_str() {
        "ALPHA" => r"\p{Alphabetic}",
        "LOWER" => r"\p{Lowercase}",
        "UPPER" => r"\p{Uppercase}",
        "SPACE" => r"\p{White_Space}",
        "PUNCT" => r"\p{P}",
        "XDIGIT" => JAVA_HEX_DIGIT,
        "ALNUM" => r"[\p{Alphabetic}\p{Nd}]",
        "CNTRL" => r"\p{Cc}",
        "DIGIT" => r"\p{Nd}",
        "BLANK" => JAVA_BLANK,
        "GRAPH" => JAVA_GRAPH,
        "PRINT" => JAVA_PRINT,
        _ => return None,
    })
}

/// `CharPredicates.forProperty`: general categories, the ASCII POSIX classes and the
/// `java...` methods of `Character` (case-sensitive names).
fn general_property(name: &str) -> Result<String, PropertyError> {
    const CATEGORIES: &[&str] = &[
        "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Me", "Mc", "Nd", "Nl", "No", "Zs", "Zl", "Zp",
        "Cc", "Cf", "Co", "Pd", "Ps", "Pe", "Pc", "Po", "Sm", "Sc", "Sk", "So", "Pi", "Pf", "L",
        "M", "N", "Z", "C", "P", "S", "LC",
    ];
    if CATEGORIES.contains(&name) {
        return Ok(format!(r"\p{{{name}}}"));
    }
    let expr = match name {
        // Surrogates never occur in a Rust string.
        "Cs" => NEVER,
        "LD" => r"[\p{L}\p{Nd}]",
        "L1" => r"[\x{0}-\x{FF}]",
        "all" => r"[\x{0}-\x{10FFFF}]",
        "ASCII" => r"[\x{0}-\x{7F}]",
        "Alnum" => "[0-9A-Za-z]",
        "Alpha" => "[A-Za-z]",
        "Blank" => r"[\x{9}\x{20}]",
        "Cntrl" => r"[\x{0}-\x{1F}\x{7F}]",
        "Digit" => "[0-9]",
        "Graph" => r"[\x{21}-\x{7E}]",
        "Lower" => "[a-z]",
        "Print" => r"[\x{20}-\x{7E}]",
        "Punct" => r"[\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}]",
        "Space" => r"[\x{9}-\x{D}\x{20}]",
        "Upper" => "[A-Z]",
        "XDigit" => "[0-9A-Fa-f]",
        "javaLowerCase" => r"\p{Lowercase}",
        "javaUpperCase" => r"\p{Uppercase}",
        "javaAlphabetic" => r"\p{Alphabetic}",
        "javaIdeographic" => r"\p{Ideographic}",
        "javaTitleCase" => r"\p{Lt}",
        "javaDigit" => r"\p{Nd}",
        "javaDefined" => r"\P{Cn}",
        "javaLetter" => r"\p{L}",
        "javaLetterOrDigit" => r"[\p{L}\p{Nd}]",
        "javaSpaceChar" => r"[\p{Zs}\p{Zl}\p{Zp}]",
        "javaISOControl" => r"[\x{0}-\x{1F}\x{7F}-\x{9F}]",
        "javaWhitespace" => {
            r"[[\x{9}-\x{D}\x{1C}-\x{1F}\p{Zs}\p{Zl}\p{Zp}]&&[^\x{A0}\x{2007}\x{202F}]]"
        }
        "javaMirrored"
        | "javaJavaIdentifierStart"
        | "javaJavaIdentifierPart"
        | "javaUnicodeIdentifierStart"
        | "javaUnicodeIdentifierPart"
        | "javaIdentifierIgnorable" => {
            return Err(PropertyError::Unsupported("java.lang.Character property"))
        }
        _ => return Err(PropertyError::Unknown),
    };
    Ok(expr.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(expr: &str, c: char) -> bool {
        let re = regex::Regex::new(&format!("^{expr}$")).expect("valid class");
        re.is_match(&c.to_string())
    }

    #[test]
    fn every_mapped_name_is_a_valid_class() {
        let names = [
            "Lu",
            "L",
            "LC",
            "LD",
            "L1",
            "all",
            "ASCII",
            "Alnum",
            "Alpha",
            "Blank",
            "Cntrl",
            "Digit",
            "Graph",
            "Lower",
            "Print",
            "Punct",
            "Space",
            "Upper",
            "XDigit",
            "Cs",
            "javaLowerCase",
            "javaWhitespace",
            "javaISOControl",
            "IsAlphabetic",
            "IsLatin",
            "IsLu",
            "IsWhite_Space",
            "IsHex_Digit",
            "IsEmoji",
            "sc=Greek",
            "gc=Nd",
            "script=Latn",
            "IsPrint",
            "IsGraph",
        ];
        for name in names {
            let expr =
                java_property(name, false, false).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(regex::Regex::new(&expr).is_ok(), "{name} -> {expr}");
        }
        for name in ["Alpha", "lower", "PUNCT", "Print", "Graph", "XDigit"] {
            let expr = java_property(name, true, false).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(regex::Regex::new(&expr).is_ok(), "{name} -> {expr}");
        }
    }

    #[test]
    fn posix_names_are_ascii_unless_unicode_classes() {
        let lower = java_property("Lower", false, false).unwrap_or_default();
        assert!(matches(&lower, 'a'));
        assert!(!matches(&lower, 'é'));
        let lower_u = java_property("Lower", true, false).unwrap_or_default();
        assert!(matches(&lower_u, 'é'));
        let punct = java_property("Punct", false, false).unwrap_or_default();
        for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".chars() {
            assert!(matches(&punct, c), "{c}");
        }
        assert!(!matches(&punct, 'a'));
        let ws = java_property("javaWhitespace", false, false).unwrap_or_default();
        assert!(matches(&ws, ' '));
        assert!(!matches(&ws, '\u{A0}'));
    }

    #[test]
    fn unknown_and_unsupported_names() {
        assert_eq!(
            java_property("Latin", false, false),
            Err(PropertyError::Unknown)
        );
        assert_eq!(
            java_property("IsNoSuchScript", false, false),
            Err(PropertyError::Unknown)
        );
        assert!(matches!(
            java_property("InGreek", false, false),
            Err(PropertyError::Unsupported(_))
        ));
        assert!(matches!(
            java_property("block=Greek", false, false),
            Err(PropertyError::Unsupported(_))
        ));
        assert!(matches!(
            java_property("javaMirrored", false, false),
            Err(PropertyError::Unsupported(_))
        ));
        // Java's forProperty is case-sensitive.
        assert_eq!(
            java_property("lu", false, false),
            Err(PropertyError::Unknown)
        );
    }
}
