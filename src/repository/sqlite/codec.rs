//! How properties and mixin lists are stored in columns.
//!
//! A property row holds its JCR type number, a multi-value flag and one text: the
//! value's JCR string form when single-valued, a JSON array of string forms when
//! multi-valued. The string forms are exact for every type (doubles print their
//! shortest round-trip digits, dates keep their offset, decimals are kept as
//! written). Binaries are stored as `blob:<sha256>:<size>` or `ref:<reference>`.
//! `jcr:uuid` is a single String, stored as its plain value so that the partial
//! index on `prop(value)` finds it.

use crate::repository::content::StoredProperty;
use crate::value::{Binary, Property, PropertyType, Value};
use std::borrow::Cow;
use std::fmt;

/// JCR's constant for a type (`javax.jcr.PropertyType`).
pub fn type_code(t: PropertyType) -> i64 {
    match t {
        PropertyType::Undefined => 0,
        PropertyType::String => 1,
        PropertyType::Binary => 2,
        PropertyType::Long => 3,
        PropertyType::Double => 4,
        PropertyType::Date => 5,
        PropertyType::Boolean => 6,
        PropertyType::Name => 7,
        PropertyType::Path => 8,
        PropertyType::Reference => 9,
        PropertyType::WeakReference => 10,
        PropertyType::Uri => 11,
        PropertyType::Decimal => 12,
    }
}

/// The type with JCR constant `c`; `None` for unknown numbers and `Undefined`.
pub fn type_from_code(c: i64) -> Option<PropertyType> {
    PropertyType::ALL
        .iter()
        .copied()
        .find(|&t| t != PropertyType::Undefined && type_code(t) == c)
}

/// The stored text of one value. Binaries must already be in the blob store or be
/// references; `None` for the binary forms that cannot be stored. Text values
/// and booleans are borrowed, not copied.
pub fn encode_value(v: &Value) -> Option<Cow<'_, str>> {
    if let Some(s) = v.as_str() {
        return Some(Cow::Borrowed(s));
    }
    match v {
        Value::Boolean(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Binary(Binary::Blob { sha256, size }) => {
            Some(Cow::Owned(format!("blob:{sha256}:{size}")))
        }
        Value::Binary(Binary::Reference(r)) => Some(Cow::Owned(format!("ref:{r}"))),
        Value::Binary(_) => None,
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// Reads one stored value of type `t`.
pub fn decode_value(t: PropertyType, s: &str) -> Result<Value, String> {
    if t == PropertyType::Binary {
        if let Some(rest) = s.strip_prefix("blob:") {
            let (sha, size) = rest
                .split_once(':')
                .ok_or_else(|| format!("malformed binary value '{s}'"))?;
            let size: u64 = size
                .parse()
                .map_err(|_| format!("malformed binary size in '{s}'"))?;
            return Ok(Value::Binary(Binary::Blob {
                sha256: sha.to_string(),
                size,
            }));
        }
        if let Some(r) = s.strip_prefix("ref:") {
            return Ok(Value::Binary(Binary::Reference(r.to_string())));
        }
        return Err(format!("malformed binary value '{s}'"));
    }
    Value::parse(t, s).map_err(|e| e.to_string())
}

/// The stored text of a property's values (see the module doc).
pub fn encode_values(p: &Property) -> Option<String> {
    stored_text(p).map(Cow::into_owned)
}

/// [`encode_values`], borrowing a single text value rather than copying it.
pub fn stored_text(p: &Property) -> Option<Cow<'_, str>> {
    if p.multiple {
        let items: Option<Vec<Cow<'_, str>>> = p.values.iter().map(encode_value).collect();
        serde_json::to_string(&items?).ok().map(Cow::Owned)
    } else {
        p.values.first().and_then(encode_value)
    }
}

/// Whether a stored row (type number `code`, multi-value flag, stored text `raw`)
/// holds `p`'s values: the same type and flag and the text `p` is stored as. The
/// stored forms are exact (module doc), so such a row decodes to values equal to
/// `p`'s, and comparing the text tells it without decoding. `false` for values that
/// cannot be stored (the row is then decoded and compared).
///
/// The text is compared as it is produced, never built: a re-install asks this
/// for each property of each node it meets, and building the stored text of a
/// number, a date or a multi-value (a `String`, a JSON array) was most of the
/// cost of asking.
pub fn is_stored_as(p: &Property, code: i64, multiple: bool, raw: &[u8]) -> bool {
    let same = type_code(p.ptype) == code && p.multiple == multiple && {
        let mut w = SameAs { rest: raw };
        let written = if p.multiple {
            serde_json::to_writer(&mut w, &StoredValues(&p.values)).is_ok()
        } else {
            p.values
                .first()
                .is_some_and(|v| write_value(v, &mut w).is_some_and(|r| r.is_ok()))
        };
        written && w.rest.is_empty()
    };
    // What comparing the text built by `stored_text` answers: checked in tests.
    debug_assert_eq!(
        same,
        type_code(p.ptype) == code
            && p.multiple == multiple
            && stored_text(p).is_some_and(|t| t.as_bytes() == raw),
        "{p:?}"
    );
    same
}

/// Writes the stored text of one value ([`encode_value`]'s) to `w`; `None` for
/// the binary forms that cannot be stored.
fn write_value(v: &Value, w: &mut impl fmt::Write) -> Option<fmt::Result> {
    if let Some(s) = v.as_str() {
        return Some(w.write_str(s));
    }
    Some(match v {
        Value::Boolean(b) => w.write_str(if *b { "true" } else { "false" }),
        Value::Binary(Binary::Blob { sha256, size }) => write!(w, "blob:{sha256}:{size}"),
        Value::Binary(Binary::Reference(r)) => write!(w, "ref:{r}"),
        Value::Binary(_) => return None,
        other => write!(w, "{other}"),
    })
}

/// A writer that compares what it is given with the text it still expects,
/// failing at the first difference (or at more text than expected).
struct SameAs<'a> {
    rest: &'a [u8],
}

impl SameAs<'_> {
    fn take(&mut self, b: &[u8]) -> bool {
        match self.rest.strip_prefix(b) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }
}

impl fmt::Write for SameAs<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.take(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

impl std::io::Write for SameAs<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.write_all(b).map(|()| b.len())
    }

    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        if self.take(b) {
            Ok(())
        } else {
            Err(std::io::ErrorKind::InvalidData.into())
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The values of a multi-value as [`stored_text`] stores them: a JSON array of
/// their stored texts (each escaped as `serde_json` escapes a string, whether
/// given whole or in pieces).
struct StoredValues<'a>(&'a [Value]);

/// One value's stored text, as a `Display` (failing for the binary forms that
/// cannot be stored).
struct StoredValue<'a>(&'a Value);

impl fmt::Display for StoredValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(self.0, f).unwrap_or(Err(fmt::Error))
    }
}

impl serde::Serialize for StoredValues<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(StoredValue))
    }
}

impl serde::Serialize for StoredValue<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_str() {
            Some(t) => s.serialize_str(t),
            None => s.collect_str(self),
        }
    }
}

/// A `prop` row's columns in their usual form (the name and value text, as
/// bytes: checked only when decoded), wherever it was read from: a row of a
/// node's own statement or one read ahead (module `props_ahead`).
#[derive(Debug, Clone, Copy)]
pub struct StoredRow<'a> {
    pub name: &'a [u8],
    pub code: i64,
    pub multiple: bool,
    pub value: &'a [u8],
}

impl StoredRow<'_> {
    /// What [`crate::repository::content::ContentRead::properties_against`]
    /// answers for this row: the index in `known` of the property of its name
    /// when the row holds it as stored ([`is_stored_as`]: bytes compared,
    /// nothing decoded), else the property decoded. `None` when the row is not
    /// that property and a text is not UTF-8 (the caller reports it as its own
    /// read does).
    pub fn against(&self, known: &[Property]) -> Option<Result<StoredProperty, String>> {
        let i = known.iter().position(|k| k.name.as_bytes() == self.name);
        if let Some(i) =
            i.filter(|&i| is_stored_as(&known[i], self.code, self.multiple, self.value))
        {
            return Some(Ok(StoredProperty::Known(i)));
        }
        let name = std::str::from_utf8(self.name).ok()?;
        let value = std::str::from_utf8(self.value).ok()?;
        Some(decode_property(name, self.code, self.multiple, value).map(StoredProperty::Read))
    }
}

/// Reads a stored property.
pub fn decode_property(
    name: &str,
    code: i64,
    multiple: bool,
    raw: &str,
) -> Result<Property, String> {
    let t = type_from_code(code)
        .ok_or_else(|| format!("property '{name}' has the unknown type number {code}"))?;
    let values = if multiple {
        let items: Vec<String> = serde_json::from_str(raw)
            .map_err(|e| format!("property '{name}' has malformed values: {e}"))?;
        items
            .iter()
            .map(|s| decode_value(t, s))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![decode_value(t, raw)?]
    };
    Ok(Property {
        name: name.to_string(),
        ptype: t,
        multiple,
        values,
    })
}

/// The stored text of a mixin list: empty for none, else a JSON array.
pub fn encode_mixins(mixins: &[String]) -> String {
    if mixins.is_empty() {
        String::new()
    } else {
        serde_json::to_string(mixins).unwrap_or_default()
    }
}

/// Reads a stored mixin list.
pub fn decode_mixins(raw: &str) -> Result<Vec<String>, String> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(raw).map_err(|e| format!("malformed mixin list '{raw}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Date;

    fn round_trip(p: Property) {
        let raw = encode_values(&p).unwrap();
        let back = decode_property(&p.name, type_code(p.ptype), p.multiple, &raw).unwrap();
        assert_eq!(back, p, "stored as {raw}");
    }

    #[test]
    fn every_type_round_trips_exactly() {
        let date = Date::parse("2011-06-07T14:33:05.687-07:00").unwrap();
        for v in [
            Value::String("a \"quoted\", [bracketed]\nline".into()),
            Value::Long(-42),
            Value::Double(0.1),
            Value::Double(-0.0),
            Value::Double(1.0e300),
            Value::Double(f64::NEG_INFINITY),
            Value::Decimal("3.14159265358979323846264338327950288".into()),
            Value::Date(date),
            Value::Boolean(true),
            Value::Name("cq:Page".into()),
            Value::Path("/content/a[2]".into()),
            Value::Reference("0f1e2d3c-0000-4000-8000-000000000001".into()),
            Value::WeakReference("0f1e2d3c-0000-4000-8000-000000000002".into()),
            Value::Uri("https://example.com/a?b=c".into()),
            Value::Binary(Binary::Blob {
                sha256: "ab".repeat(32),
                size: 7,
            }),
            Value::Binary(Binary::Reference("ref:with:colons".into())),
        ] {
            round_trip(Property::single("p", v.clone()));
            round_trip(Property::multi("m", v.ptype(), vec![v.clone(), v]));
        }
        round_trip(Property::multi("empty", PropertyType::Long, vec![]));
        // NaN compares equal to itself in the content model.
        round_trip(Property::single("nan", Value::Double(f64::NAN)));
    }

    #[test]
    fn borrowed_forms_are_the_string_forms() {
        let date = Date::parse("2011-06-07T14:33:05.687-07:00").unwrap();
        for v in [
            Value::String("a\u{0}b \"c\"".into()),
            Value::Name("cq:Page".into()),
            Value::Path("/content/a[2]".into()),
            Value::Reference("r".into()),
            Value::WeakReference("w".into()),
            Value::Uri("https://example.com/".into()),
            Value::Decimal("1.50".into()),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Long(-7),
            Value::Double(0.1),
            Value::Date(date),
        ] {
            let stored = encode_value(&v).unwrap();
            assert_eq!(stored, v.to_string());
            let borrowed = !matches!(v, Value::Long(_) | Value::Double(_) | Value::Date(_));
            assert_eq!(matches!(stored, Cow::Borrowed(_)), borrowed, "{v:?}");
        }
        let multi = Property::multi(
            "m",
            PropertyType::String,
            vec![Value::String("x".into()), Value::String("y\"".into())],
        );
        assert_eq!(stored_text(&multi).unwrap(), r#"["x","y\""]"#);
        assert_eq!(encode_values(&multi).unwrap(), r#"["x","y\""]"#);
    }

    #[test]
    fn a_row_holds_a_property_when_its_stored_text_is_the_propertys() {
        let date = Date::parse("2011-06-07T14:33:05.687-07:00").unwrap();
        let props = [
            Property::string("s", "a \"b\""),
            Property::single("l", Value::Long(-42)),
            Property::single("d", Value::Double(0.001)),
            Property::single("t", Value::Date(date)),
            Property::single("b", Value::Boolean(true)),
            Property::multi(
                "m",
                PropertyType::String,
                vec![Value::String("x".into()), Value::String("y".into())],
            ),
            Property::multi("e", PropertyType::Long, vec![]),
        ];
        for p in &props {
            let raw = encode_values(p).unwrap();
            let code = type_code(p.ptype);
            assert!(is_stored_as(p, code, p.multiple, raw.as_bytes()), "{p:?}");
            // What the text decodes to is the property itself.
            assert_eq!(
                &decode_property(&p.name, code, p.multiple, &raw).unwrap(),
                p
            );
            // Another type, multiplicity or text is not the property.
            assert!(!is_stored_as(p, code + 1, p.multiple, raw.as_bytes()));
            assert!(!is_stored_as(p, code, !p.multiple, raw.as_bytes()));
            assert!(!is_stored_as(
                p,
                code,
                p.multiple,
                format!("{raw} ").as_bytes()
            ));
        }
        // A multi-value with one value changed, a value of another type with the same
        // text, and a value that cannot be stored.
        let m = &props[5];
        assert!(!is_stored_as(m, 1, true, br#"["x","z"]"#));
        let long_text = Property::string("l", "-42");
        assert!(!is_stored_as(&long_text, 3, false, b"-42"));
        let inline = Property::single("i", Value::Binary(Binary::inline(b"x".to_vec())));
        assert!(!is_stored_as(&inline, 2, false, b"x"));
    }

    /// The text compared as it is produced is the text `stored_text` builds, for
    /// every type, single and multiple, with escapes; a text that only begins or
    /// only ends like it is another text.
    #[test]
    fn the_text_compared_is_the_stored_text() {
        let date = Date::parse("2011-06-07T14:33:05.687-07:00").unwrap();
        let blob = Value::Binary(Binary::Blob {
            sha256: "cd".repeat(32),
            size: 12,
        });
        let values = [
            Value::String("q\"u\\o\nte\u{1}\u{7f} é 😀".into()),
            Value::Long(i64::MIN),
            Value::Double(1.0e-7),
            Value::Double(f64::NAN),
            Value::Date(date),
            Value::Boolean(false),
            Value::Decimal("-0.10".into()),
            blob.clone(),
            Value::Binary(Binary::Reference("r\"x".into())),
        ];
        for v in &values {
            for p in [
                Property::single("p", v.clone()),
                Property::multi("m", v.ptype(), vec![v.clone(), v.clone()]),
                Property::multi("o", v.ptype(), vec![v.clone()]),
            ] {
                let raw = encode_values(&p).unwrap();
                let code = type_code(p.ptype);
                assert!(is_stored_as(&p, code, p.multiple, raw.as_bytes()), "{raw}");
                let short = &raw.as_bytes()[..raw.len() - 1];
                assert!(!is_stored_as(&p, code, p.multiple, short), "{raw}");
                assert!(!is_stored_as(&p, code, p.multiple, &raw.as_bytes()[1..]));
                assert!(!is_stored_as(&p, code, p.multiple, b""));
            }
        }
        // A value that cannot be stored, among others.
        let inline = Value::Binary(Binary::inline(b"x".to_vec()));
        let m = Property::multi("m", PropertyType::Binary, vec![blob, inline]);
        assert!(encode_values(&m).is_none());
        assert!(!is_stored_as(&m, 2, true, b"[]"));
    }

    /// A row answers as its own decoding does: by index when it holds the
    /// property of its name, decoded otherwise; not at all when a text it must
    /// decode is not UTF-8.
    #[test]
    fn a_row_answers_by_index_or_decoded() {
        use crate::repository::content::StoredProperty::{Known, Read};
        let known = [Property::string("a", "x"), Property::string("b", "y")];
        let row = |name: &'static [u8], value: &'static [u8]| StoredRow {
            name,
            code: 1,
            multiple: false,
            value,
        };
        assert_eq!(row(b"b", b"y").against(&known), Some(Ok(Known(1))));
        assert_eq!(
            row(b"b", b"z").against(&known),
            Some(Ok(Read(Property::string("b", "z"))))
        );
        assert_eq!(
            row(b"c", b"x").against(&known),
            Some(Ok(Read(Property::string("c", "x"))))
        );
        assert_eq!(row(b"c", b"\xff").against(&known), None);
        assert_eq!(row(b"\xff", b"x").against(&known), None);
        let bad = StoredRow {
            code: 99,
            ..row(b"a", b"x")
        };
        assert_eq!(
            bad.against(&known),
            Some(Err(decode_property("a", 99, false, "x").unwrap_err()))
        );
    }

    #[test]
    fn refuses_unstorable_binaries_and_bad_rows() {
        assert!(encode_value(&Value::Binary(Binary::Placeholder)).is_none());
        assert!(encode_value(&Value::Binary(Binary::inline(b"x".to_vec()))).is_none());
        assert!(decode_property("p", 99, false, "x").is_err());
        assert!(decode_property("p", 3, false, "x").is_err());
        assert!(decode_property("p", 1, true, "[1").is_err());
        assert!(decode_property("p", 2, false, "blob:abc").is_err());
        assert_eq!(decode_mixins("").unwrap(), Vec::<String>::new());
        let m = vec!["mix:versionable".to_string(), "a b".to_string()];
        assert_eq!(decode_mixins(&encode_mixins(&m)).unwrap(), m);
    }
}
