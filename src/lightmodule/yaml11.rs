//! YAML 1.1 typing of plain scalars, as snakeyaml (Magnolia's YAML parser) resolves
//! them.
//!
//! Magnolia reads definitions with snakeyaml, which implements YAML 1.1: `yes`, `on`
//! and `off` are booleans, `0777` is octal, `1:20` is a sexagesimal integer and
//! `2024-03-05` a timestamp. Most Rust YAML crates (and saphyr) follow YAML 1.2, where
//! those are strings or other numbers, so jcrpack types plain scalars itself with
//! snakeyaml's implicit resolvers (`org.yaml.snakeyaml.resolver.Resolver`: bool, int,
//! float, merge, null, timestamp, tried in that order; the first that matches wins).
//! Only plain (unquoted) scalars are typed; quoted and block scalars are strings.

use std::sync::OnceLock;

use regex::Regex;

/// The YAML 1.1 type of a scalar, with a canonical text for comparisons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Typed {
    /// `~`, `null`, `Null`, `NULL` or nothing.
    Null,
    /// `true`/`false`, `yes`/`no`, `on`/`off` in three spellings each.
    Bool(bool),
    /// An integer in decimal, octal (`0777`), hex, binary or sexagesimal form; the
    /// text is its decimal value (or the source text when it does not fit in i128).
    Int(String),
    /// A float; the text is the source with underscores removed.
    Float(String),
    /// A YAML 1.1 timestamp (`2024-03-05`, `2024-03-05T10:15:30.123+01:00`), as written.
    Timestamp(String),
    /// The merge key `<<`.
    Merge,
    /// Everything else.
    Str(String),
}

impl Typed {
    /// The name of the type, for messages: `null`, `bool`, `int`, `float`, `timestamp`,
    /// `merge` or `str`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Typed::Null => "null",
            Typed::Bool(_) => "bool",
            Typed::Int(_) => "int",
            Typed::Float(_) => "float",
            Typed::Timestamp(_) => "timestamp",
            Typed::Merge => "merge",
            Typed::Str(_) => "str",
        }
    }

    /// The value as a JSON value (numbers that do not fit stay strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Typed::Null => Value::Null,
            Typed::Bool(b) => Value::Bool(*b),
            Typed::Int(s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(s.clone())),
            Typed::Float(s) => Value::String(s.clone()),
            Typed::Timestamp(s) | Typed::Str(s) => Value::String(s.clone()),
            Typed::Merge => Value::String("<<".into()),
        }
    }

    /// The string Magnolia would see when it converts the value to text (a bean
    /// property of type String): `true` for `yes`, `511` for `0777`.
    pub fn as_text(&self) -> String {
        match self {
            Typed::Null => String::new(),
            Typed::Bool(b) => b.to_string(),
            Typed::Int(s) | Typed::Float(s) | Typed::Timestamp(s) | Typed::Str(s) => s.clone(),
            Typed::Merge => "<<".into(),
        }
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a fixed, tested pattern"))
}

static BOOL: OnceLock<Regex> = OnceLock::new();
static INT: OnceLock<Regex> = OnceLock::new();
static FLOAT: OnceLock<Regex> = OnceLock::new();
static NULL: OnceLock<Regex> = OnceLock::new();
static TIMESTAMP: OnceLock<Regex> = OnceLock::new();

/// Types a plain scalar as snakeyaml's YAML 1.1 resolver does.
pub fn resolve_plain(text: &str) -> Typed {
    let bool_re = re(
        &BOOL,
        r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    );
    if bool_re.is_match(text) {
        return Typed::Bool(matches!(
            text,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        ));
    }
    let int_re = re(
        &INT,
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    );
    if int_re.is_match(text) {
        return Typed::Int(int_value(text).unwrap_or_else(|| text.to_owned()));
    }
    let float_re = re(
        &FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9_]+(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    );
    if float_re.is_match(text)
        && text != "_"
        && text
            .chars()
            .any(|c| c.is_ascii_digit() || c == 'i' || c == 'I' || c == 'n' || c == 'N')
    {
        return Typed::Float(text.replace('_', ""));
    }
    if text == "<<" {
        return Typed::Merge;
    }
    let null_re = re(&NULL, r"^(?:~|null|Null|NULL|)$");
    if null_re.is_match(text) {
        return Typed::Null;
    }
    let ts_re = re(
        &TIMESTAMP,
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    );
    if ts_re.is_match(text) {
        return Typed::Timestamp(text.to_owned());
    }
    Typed::Str(text.to_owned())
}

/// The decimal value of a YAML 1.1 integer, or `None` when it does not fit.
fn int_value(text: &str) -> Option<String> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let magnitude: i128 = if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.contains(':') {
        let mut value: i128 = 0;
        for part in digits.split(':') {
            value = value
                .checked_mul(60)?
                .checked_add(part.parse::<i128>().ok()?)?;
        }
        value
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_of_yaml_1_1() {
        for t in ["yes", "Yes", "ON", "true"] {
            assert_eq!(resolve_plain(t), Typed::Bool(true), "{t}");
        }
        for t in ["no", "off", "OFF", "False"] {
            assert_eq!(resolve_plain(t), Typed::Bool(false), "{t}");
        }
        // snakeyaml does not take y/n as booleans.
        assert_eq!(resolve_plain("y"), Typed::Str("y".into()));
    }

    #[test]
    fn integers_of_yaml_1_1() {
        assert_eq!(resolve_plain("0777"), Typed::Int("511".into()));
        assert_eq!(resolve_plain("0x1F"), Typed::Int("31".into()));
        assert_eq!(resolve_plain("0b101"), Typed::Int("5".into()));
        assert_eq!(resolve_plain("1:20"), Typed::Int("80".into()));
        assert_eq!(resolve_plain("1_000"), Typed::Int("1000".into()));
        assert_eq!(resolve_plain("0"), resolve_plain("00"));
        assert_eq!(resolve_plain("-12"), Typed::Int("-12".into()));
    }

    #[test]
    fn floats_nulls_timestamps_and_strings() {
        assert_eq!(resolve_plain("1.10"), Typed::Float("1.10".into()));
        assert_eq!(resolve_plain(".inf"), Typed::Float(".inf".into()));
        assert_eq!(resolve_plain("~"), Typed::Null);
        assert_eq!(resolve_plain(""), Typed::Null);
        assert_eq!(resolve_plain("<<"), Typed::Merge);
        assert_eq!(
            resolve_plain("2021-11-10T08:22:33.446-06:00"),
            Typed::Timestamp("2021-11-10T08:22:33.446-06:00".into())
        );
        assert_eq!(
            resolve_plain("2021-11-10"),
            Typed::Timestamp("2021-11-10".into())
        );
        assert_eq!(
            resolve_plain("1.0-SNAPSHOT"),
            Typed::Str("1.0-SNAPSHOT".into())
        );
        assert_eq!(resolve_plain("6.2/*"), Typed::Str("6.2/*".into()));
        assert_eq!(resolve_plain("1.2.3"), Typed::Str("1.2.3".into()));
        assert_eq!(resolve_plain("_"), Typed::Str("_".into()));
    }

    #[test]
    fn huge_integers_keep_their_text() {
        let big = "9".repeat(60);
        assert_eq!(resolve_plain(&big), Typed::Int(big.clone()));
    }
}
