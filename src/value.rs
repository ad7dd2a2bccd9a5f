//! Property types and values, with JCR's exact string forms.
//!
//! A JCR property has one of twelve types (plus `Undefined`, which only appears in
//! definitions and in untyped DocView values) and is single- or multi-valued. Every
//! type but Binary has a canonical string form, which is what DocView, system view
//! and the repository store; [`Value::parse`] reads it and `Display` writes it.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The JCR property types (`javax.jcr.PropertyType`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum PropertyType {
    /// Text.
    String,
    /// Bytes.
    Binary,
    /// 64-bit signed integer.
    Long,
    /// IEEE 754 double.
    Double,
    /// Arbitrary precision decimal, kept exact.
    Decimal,
    /// ISO 8601 date and time with milliseconds and offset.
    Date,
    /// true or false.
    Boolean,
    /// A qualified JCR name.
    Name,
    /// A JCR path.
    Path,
    /// The identifier of a referenceable node (referential integrity enforced).
    Reference,
    /// The identifier of a node, not enforced.
    WeakReference,
    /// A URI (RFC 3986).
    #[serde(rename = "URI")]
    Uri,
    /// No type given: the repository picks one from the property definition.
    #[serde(rename = "undefined")]
    Undefined,
}

impl PropertyType {
    /// All types, in JCR constant order (String = 1 ... URI = 11, Undefined = 0 last).
    pub const ALL: [PropertyType; 13] = [
        PropertyType::String,
        PropertyType::Binary,
        PropertyType::Long,
        PropertyType::Double,
        PropertyType::Date,
        PropertyType::Boolean,
        PropertyType::Name,
        PropertyType::Path,
        PropertyType::Reference,
        PropertyType::WeakReference,
        PropertyType::Uri,
        PropertyType::Decimal,
        PropertyType::Undefined,
    ];

    /// JCR's name of the type (`PropertyType.nameFromValue`): `String`, ..., `URI`,
    /// and lower-case `undefined`.
    pub fn jcr_name(self) -> &'static str {
        match self {
            PropertyType::String => "String",
            PropertyType::Binary => "Binary",
            PropertyType::Long => "Long",
            PropertyType::Double => "Double",
            PropertyType::Decimal => "Decimal",
            PropertyType::Date => "Date",
            PropertyType::Boolean => "Boolean",
            PropertyType::Name => "Name",
            PropertyType::Path => "Path",
            PropertyType::Reference => "Reference",
            PropertyType::WeakReference => "WeakReference",
            PropertyType::Uri => "URI",
            PropertyType::Undefined => "undefined",
        }
    }

    /// The type named exactly (case-sensitively) as JCR names it
    /// (`PropertyType.valueFromName`).
    pub fn from_jcr_name(s: &str) -> Option<PropertyType> {
        PropertyType::ALL
            .iter()
            .copied()
            .find(|t| t.jcr_name() == s)
    }

    /// The type as CND writes it: upper case (`STRING`, `WEAKREFERENCE`, `URI`).
    pub fn cnd_name(self) -> &'static str {
        match self {
            PropertyType::String => "STRING",
            PropertyType::Binary => "BINARY",
            PropertyType::Long => "LONG",
            PropertyType::Double => "DOUBLE",
            PropertyType::Decimal => "DECIMAL",
            PropertyType::Date => "DATE",
            PropertyType::Boolean => "BOOLEAN",
            PropertyType::Name => "NAME",
            PropertyType::Path => "PATH",
            PropertyType::Reference => "REFERENCE",
            PropertyType::WeakReference => "WEAKREFERENCE",
            PropertyType::Uri => "URI",
            PropertyType::Undefined => "UNDEFINED",
        }
    }

    /// The type named case-insensitively, as CND allows (`*` means undefined).
    pub fn from_cnd_name(s: &str) -> Option<PropertyType> {
        if s == "*" {
            return Some(PropertyType::Undefined);
        }
        PropertyType::ALL
            .iter()
            .copied()
            .find(|t| t.cnd_name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jcr_name())
    }
}

/// A binary value: where its bytes are, never the bytes of a large file in memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Binary {
    /// Bytes held in memory (small values, and values decoded from system view).
    Inline(Arc<Vec<u8>>),
    /// A blob in a repository's content-addressed store.
    Blob {
        /// Lower-case hex SHA-256 of the content.
        sha256: String,
        /// Size in bytes.
        size: u64,
    },
    /// Bytes stored in an entry of a package archive, read when needed.
    Entry {
        /// The archive entry name (`jcr_root/x/_jcr_data.binary`).
        entry: String,
        /// Uncompressed size in bytes.
        size: u64,
    },
    /// A data store reference (`{BinaryRef}` in DocView): the bytes are not here.
    Reference(String),
    /// The `{Binary}` placeholder of DocView: the content comes from a `.binary`
    /// file, or, when there is none, leaves an existing value unchanged.
    Placeholder,
}

impl Binary {
    /// In-memory bytes.
    pub fn inline(bytes: impl Into<Vec<u8>>) -> Binary {
        Binary::Inline(Arc::new(bytes.into()))
    }

    /// The size, when known without reading.
    pub fn size(&self) -> Option<u64> {
        match self {
            Binary::Inline(b) => Some(b.len() as u64),
            Binary::Blob { size, .. } | Binary::Entry { size, .. } => Some(*size),
            Binary::Reference(_) | Binary::Placeholder => None,
        }
    }
}

/// A JCR date: local date and time, milliseconds, and the offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date {
    /// Year (may be negative; `0` is 1 BC as in ISO 8601).
    pub year: i32,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
    /// Millisecond 0..=999.
    pub millis: u16,
    /// Offset from UTC in minutes (`+02:00` is 120).
    pub offset_minutes: i16,
}

impl Date {
    /// Parses ISO 8601 as JCR writes it, `YYYY-MM-DDThh:mm:ss.SSS±hh:mm` or `...Z`,
    /// also accepting a leading sign on the year, no or 1–9 fraction digits, and the
    /// legacy `±hhmm` offset.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let num = |from: usize, len: usize| -> Option<u32> {
            let part = b.get(from..from + len)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(part).ok()?.parse().ok()
        };
        let year = num(i, 4)? as i32;
        i += 4;
        let expect = |at: usize, c: u8| b.get(at) == Some(&c);
        if !expect(i, b'-') {
            return None;
        }
        let month = num(i + 1, 2)? as u8;
        if !expect(i + 3, b'-') {
            return None;
        }
        let day = num(i + 4, 2)? as u8;
        if !expect(i + 6, b'T') {
            return None;
        }
        let hour = num(i + 7, 2)? as u8;
        if !expect(i + 9, b':') {
            return None;
        }
        let minute = num(i + 10, 2)? as u8;
        if !expect(i + 12, b':') {
            return None;
        }
        let second = num(i + 13, 2)? as u8;
        i += 15;
        let mut millis = 0u16;
        if expect(i, b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let digits = &s[start..i];
            if digits.is_empty() || digits.len() > 9 {
                return None;
            }
            let mut ms = String::from(&digits[..digits.len().min(3)]);
            while ms.len() < 3 {
                ms.push('0');
            }
            millis = ms.parse().ok()?;
        }
        let offset_minutes: i16 = match b.get(i) {
            Some(b'Z') if i + 1 == b.len() => 0,
            Some(&c @ (b'+' | b'-')) => {
                let hh = num(i + 1, 2)? as i16;
                let mm = if expect(i + 3, b':') && i + 6 == b.len() {
                    num(i + 4, 2)? as i16
                } else if i + 5 == b.len() {
                    num(i + 3, 2)? as i16
                } else {
                    return None;
                };
                if hh > 23 || mm > 59 {
                    return None;
                }
                let m = hh * 60 + mm;
                if c == b'-' {
                    -m
                } else {
                    m
                }
            }
            _ => return None,
        };
        let d = Date {
            year: if neg { -year } else { year },
            month,
            day,
            hour,
            minute,
            second,
            millis,
            offset_minutes,
        };
        d.is_valid().then_some(d)
    }

    fn is_valid(&self) -> bool {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        self.day >= 1 && self.day <= days && self.hour < 24 && self.minute < 60 && self.second < 60
    }

    /// Milliseconds since 1970-01-01T00:00:00Z (proleptic Gregorian calendar).
    pub fn epoch_millis(&self) -> i64 {
        // Days from civil, after Howard Hinnant's algorithm.
        let y = self.year as i64 - if self.month <= 2 { 1 } else { 0 };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146097 + doe - 719468;
        let secs =
            days * 86400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64
                - self.offset_minutes as i64 * 60;
        secs * 1000 + self.millis as i64
    }

    /// The UTC date of `millis` since the epoch.
    pub fn from_epoch_millis(millis: i64) -> Date {
        let secs = millis.div_euclid(1000);
        let ms = millis.rem_euclid(1000) as u16;
        let days = secs.div_euclid(86400);
        let sod = secs.rem_euclid(86400);
        let z = days + 719468;
        let era = if z >= 0 { z } else { z - 146096 } / 146097;
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
        Date {
            year: y as i32,
            month: m as u8,
            day: d as u8,
            hour: (sod / 3600) as u8,
            minute: (sod % 3600 / 60) as u8,
            second: (sod % 60) as u8,
            millis: ms,
            offset_minutes: 0,
        }
    }
}

impl fmt::Display for Date {
    /// JCR's form: `2011-06-07T14:33:05.687-07:00`, `Z` for UTC. Written into one
    /// buffer and handed over once: the formatting machinery per field cost about
    /// 1,800 instructions a date, and an install stores a few dates a node.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = DateText::default();
        if self.year < 0 {
            out.byte(b'-');
        }
        out.number(self.year.unsigned_abs(), 4);
        for (sep, field, width) in [
            (b'-', u32::from(self.month), 2),
            (b'-', u32::from(self.day), 2),
            (b'T', u32::from(self.hour), 2),
            (b':', u32::from(self.minute), 2),
            (b':', u32::from(self.second), 2),
            (b'.', u32::from(self.millis), 3),
        ] {
            out.byte(sep);
            out.number(field, width);
        }
        if self.offset_minutes == 0 {
            out.byte(b'Z');
        } else {
            out.byte(if self.offset_minutes < 0 { b'-' } else { b'+' });
            let m = u32::from(self.offset_minutes.unsigned_abs());
            out.number(m / 60, 2);
            out.byte(b':');
            out.number(m % 60, 2);
        }
        f.write_str(out.as_str())
    }
}

/// The text of a [`Date`] as it is written: at most 38 ASCII bytes (a sign, a
/// year of 10 digits, fields of up to 5 digits).
struct DateText {
    buf: [u8; 48],
    len: usize,
}

impl Default for DateText {
    fn default() -> Self {
        DateText {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl DateText {
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// `n` in decimal, zero-padded to at least `width` digits (as `{:0width$}`).
    fn number(&mut self, mut n: u32, width: usize) {
        let mut digits = [0u8; 10];
        let mut count = 0;
        loop {
            if let Some(d) = digits.get_mut(count) {
                *d = b'0' + (n % 10) as u8;
            }
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for _ in count..width {
            self.byte(b'0');
        }
        for &d in digits.iter().take(count).rev() {
            self.byte(d);
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

/// Formats a double the way Java's `Double.toString` does: `1.0`, `2.5`, `1.0E10`,
/// `1.234E-5`, `NaN`, `Infinity`, `-Infinity`, with the shortest digits that read back.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = d.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{d}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // Rust's {:e} gives the shortest round-trip digits: "1.234e-5", "1e10".
        let s = format!("{d:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// Parses a double as Java's `Double.parseDouble` would for the forms that occur in
/// content: decimal and scientific notation, `NaN`, `[+-]Infinity`, optional `d`/`f`
/// suffix, surrounding whitespace.
pub fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" => return Some(f64::NAN),
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    if t.is_empty()
        || !t
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    f64::from_str(t).ok()
}

/// Checks a decimal in `java.math.BigDecimal` string syntax: `[+-]digits[.digits][E[+-]digits]`.
pub fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let f = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - f;
    }
    if digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// Why a string is not a value of a type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {ptype} value{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct ValueError {
    /// The target type.
    pub ptype: PropertyType,
    /// The offending text.
    pub value: String,
    /// What was expected.
    pub hint: Option<&'static str>,
}

/// One property value.
#[derive(Debug, Clone)]
pub enum Value {
    /// Text.
    String(String),
    /// Bytes, by reference.
    Binary(Binary),
    /// Integer.
    Long(i64),
    /// Floating point.
    Double(f64),
    /// Decimal in `BigDecimal` syntax, kept as written.
    Decimal(String),
    /// Date and time.
    Date(Date),
    /// Boolean.
    Boolean(bool),
    /// Qualified name.
    Name(String),
    /// Path.
    Path(String),
    /// Node identifier.
    Reference(String),
    /// Node identifier, not enforced.
    WeakReference(String),
    /// URI.
    Uri(String),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            // NaN equals NaN for content comparison (a dump is equal to itself).
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits() || a == b,
            (Value::Binary(a), Value::Binary(b)) => a == b,
            // The string forms without building them: text is its own form, and
            // integers and booleans print one form each. Equal dates print alike
            // (unequal ones may too: compared by their forms then).
            (Value::String(a), Value::String(b))
            | (Value::Name(a), Value::Name(b))
            | (Value::Path(a), Value::Path(b))
            | (Value::Reference(a), Value::Reference(b))
            | (Value::WeakReference(a), Value::WeakReference(b))
            | (Value::Uri(a), Value::Uri(b))
            | (Value::Decimal(a), Value::Decimal(b)) => a == b,
            (Value::Long(a), Value::Long(b)) => a == b,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Date(a), Value::Date(b)) if a == b => true,
            (a, b) => a.ptype() == b.ptype() && a.to_string() == b.to_string(),
        }
    }
}

impl Value {
    /// Reads the JCR string form of a value of type `ptype`. `Undefined` reads as
    /// String. Binary reads the text as UTF-8 bytes (as JCR's value factory does).
    pub fn parse(ptype: PropertyType, s: &str) -> Result<Value, ValueError> {
        let err = |hint| ValueError {
            ptype,
            value: s.to_string(),
            hint: Some(hint),
        };
        Ok(match ptype {
            PropertyType::String | PropertyType::Undefined => Value::String(s.to_string()),
            PropertyType::Binary => Value::Binary(Binary::inline(s.as_bytes().to_vec())),
            PropertyType::Long => {
                let t = s.strip_prefix('+').unwrap_or(s);
                Value::Long(t.parse().map_err(|_| err("expected a 64-bit integer"))?)
            }
            PropertyType::Double => {
                Value::Double(parse_double(s).ok_or_else(|| err("expected a number"))?)
            }
            PropertyType::Decimal => {
                if !is_decimal(s) {
                    return Err(err("expected a decimal number"));
                }
                Value::Decimal(s.to_string())
            }
            PropertyType::Date => Value::Date(
                Date::parse(s)
                    .ok_or_else(|| err("expected ISO 8601 like 2024-01-31T12:00:00.000+01:00"))?,
            ),
            PropertyType::Boolean => Value::Boolean(s.eq_ignore_ascii_case("true")),
            PropertyType::Name => Value::Name(s.to_string()),
            PropertyType::Path => Value::Path(s.to_string()),
            PropertyType::Reference => Value::Reference(s.to_string()),
            PropertyType::WeakReference => Value::WeakReference(s.to_string()),
            PropertyType::Uri => Value::Uri(s.to_string()),
        })
    }

    /// The value's type.
    pub fn ptype(&self) -> PropertyType {
        match self {
            Value::String(_) => PropertyType::String,
            Value::Binary(_) => PropertyType::Binary,
            Value::Long(_) => PropertyType::Long,
            Value::Double(_) => PropertyType::Double,
            Value::Decimal(_) => PropertyType::Decimal,
            Value::Date(_) => PropertyType::Date,
            Value::Boolean(_) => PropertyType::Boolean,
            Value::Name(_) => PropertyType::Name,
            Value::Path(_) => PropertyType::Path,
            Value::Reference(_) => PropertyType::Reference,
            Value::WeakReference(_) => PropertyType::WeakReference,
            Value::Uri(_) => PropertyType::Uri,
        }
    }

    /// The text of a string-like value (String, Name, Path, Reference,
    /// WeakReference, URI, Decimal), without allocating.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s)
            | Value::Name(s)
            | Value::Path(s)
            | Value::Reference(s)
            | Value::WeakReference(s)
            | Value::Uri(s)
            | Value::Decimal(s) => Some(s),
            _ => None,
        }
    }

    /// The JCR string form of the value (its `Display`), the text of a
    /// string-like value moved out rather than copied.
    pub fn into_text(self) -> String {
        match self {
            Value::String(s)
            | Value::Name(s)
            | Value::Path(s)
            | Value::Reference(s)
            | Value::WeakReference(s)
            | Value::Uri(s)
            | Value::Decimal(s) => s,
            other => other.to_string(),
        }
    }

    /// Converts to another type through the string form, as JCR's value conversion
    /// does for the string-based types. Binary converts only to/from inline bytes.
    pub fn convert(&self, to: PropertyType) -> Result<Value, ValueError> {
        self.converted(to).map(std::borrow::Cow::into_owned)
    }

    /// [`Value::convert`], borrowing the value when it has the type already (what
    /// a node type check meets for nearly every value) instead of copying it.
    pub fn converted(&self, to: PropertyType) -> Result<std::borrow::Cow<'_, Value>, ValueError> {
        if self.ptype() == to || to == PropertyType::Undefined {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        match (self, to) {
            (Value::Binary(Binary::Inline(b)), _) => Value::parse(to, &String::from_utf8_lossy(b)),
            (Value::Binary(_), _) => Err(ValueError {
                ptype: to,
                value: "(binary)".into(),
                hint: Some("a stored binary cannot be converted"),
            }),
            (Value::Date(d), PropertyType::Long) => Ok(Value::Long(d.epoch_millis())),
            (Value::Date(d), PropertyType::Double) => Ok(Value::Double(d.epoch_millis() as f64)),
            (Value::Long(l), PropertyType::Date) => Ok(Value::Date(Date::from_epoch_millis(*l))),
            (v, t) => Value::parse(t, &v.to_string()),
        }
        .map(std::borrow::Cow::Owned)
    }
}

impl fmt::Display for Value {
    /// The JCR string form. Binaries print a short description, not their bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s)
            | Value::Name(s)
            | Value::Path(s)
            | Value::Reference(s)
            | Value::WeakReference(s)
            | Value::Uri(s)
            | Value::Decimal(s) => f.write_str(s),
            Value::Long(l) => write!(f, "{l}"),
            Value::Double(d) => f.write_str(&format_double(*d)),
            Value::Date(d) => write!(f, "{d}"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Binary(Binary::Inline(b)) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Binary(b) => write!(f, "{b:?}"),
        }
    }
}

/// A property: a name, a type, and one value or a list of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The qualified property name.
    pub name: String,
    /// The declared type (every value has it; `Undefined` never appears here).
    pub ptype: PropertyType,
    /// Multi-valued (even with one or zero values) or single-valued.
    pub multiple: bool,
    /// The values: exactly one when single-valued.
    pub values: Vec<Value>,
}

impl Property {
    /// A single-valued property.
    pub fn single(name: impl Into<String>, value: Value) -> Property {
        Property {
            name: name.into(),
            ptype: value.ptype(),
            multiple: false,
            values: vec![value],
        }
    }

    /// A multi-valued property of type `ptype`.
    pub fn multi(name: impl Into<String>, ptype: PropertyType, values: Vec<Value>) -> Property {
        Property {
            name: name.into(),
            ptype,
            multiple: true,
            values,
        }
    }

    /// A single String property.
    pub fn string(name: impl Into<String>, v: impl Into<String>) -> Property {
        Property::single(name, Value::String(v.into()))
    }

    /// The value of a single-valued property.
    pub fn value(&self) -> Option<&Value> {
        if self.multiple {
            None
        } else {
            self.values.first()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_equal_by_type_and_string_form() {
        let s = |v: &str| Value::String(v.into());
        assert_eq!(s("a"), s("a"));
        assert_ne!(s("a"), s("b"));
        assert_ne!(s("1"), Value::Name("1".into()));
        assert_ne!(s("1"), Value::Long(1));
        assert_eq!(Value::Long(-3), Value::Long(-3));
        assert_ne!(Value::Long(3), Value::Long(4));
        assert_ne!(Value::Boolean(true), Value::Boolean(false));
        assert_eq!(Value::Decimal("1.0".into()), Value::Decimal("1.0".into()));
        assert_ne!(Value::Decimal("1.0".into()), Value::Decimal("1.00".into()));
        let d = |t: &str| Value::parse(PropertyType::Date, t).unwrap();
        assert_eq!(
            d("2024-01-31T12:00:00.000+01:00"),
            d("2024-01-31T12:00:00.000+01:00")
        );
        // The same instant at another offset prints otherwise: not equal.
        assert_ne!(
            d("2024-01-31T12:00:00.000+01:00"),
            d("2024-01-31T11:00:00.000Z")
        );
    }

    #[test]
    fn type_names() {
        for t in PropertyType::ALL {
            assert_eq!(PropertyType::from_jcr_name(t.jcr_name()), Some(t));
            assert_eq!(
                PropertyType::from_cnd_name(&t.cnd_name().to_lowercase()),
                Some(t)
            );
        }
        assert_eq!(PropertyType::from_jcr_name("Undefined"), None);
        assert_eq!(PropertyType::from_jcr_name("string"), None);
        assert_eq!(
            PropertyType::from_cnd_name("*"),
            Some(PropertyType::Undefined)
        );
    }

    #[test]
    fn dates_print_as_the_field_by_field_format_did() {
        // The format before it was written into one buffer, field by field.
        let old = |d: &Date| {
            let mut s = if d.year < 0 {
                format!("-{:04}", -i64::from(d.year))
            } else {
                format!("{:04}", d.year)
            };
            s += &format!(
                "-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
                d.month, d.day, d.hour, d.minute, d.second, d.millis
            );
            if d.offset_minutes == 0 {
                s.push('Z');
            } else {
                let sign = if d.offset_minutes < 0 { '-' } else { '+' };
                let m = d.offset_minutes.unsigned_abs();
                s += &format!("{sign}{:02}:{:02}", m / 60, m % 60);
            }
            s
        };
        let mut cases = Vec::new();
        for year in [
            0,
            7,
            99,
            2011,
            9999,
            10_000,
            275_760,
            -1,
            -44,
            -12_345,
            i32::MAX,
            i32::MIN,
        ] {
            for (millis, offset) in [
                (0, 0),
                (5, 60),
                (687, -420),
                (999, 345),
                (65_535, i16::MAX),
                (1, i16::MIN),
            ] {
                cases.push(Date {
                    year,
                    month: 6,
                    day: 7,
                    hour: 14,
                    minute: 3,
                    second: 5,
                    millis,
                    offset_minutes: offset,
                });
            }
        }
        cases.push(Date {
            year: 1,
            month: 255,
            day: 0,
            hour: 99,
            minute: 100,
            second: 9,
            millis: 10,
            offset_minutes: 61,
        });
        for d in &cases {
            assert_eq!(d.to_string(), old(d), "{d:?}");
        }
        assert_eq!(
            Date::parse("2011-06-07T14:33:05.687-07:00").map(|d| d.to_string()),
            Some("2011-06-07T14:33:05.687-07:00".to_string())
        );
    }

    #[test]
    fn dates_round_trip_and_normalize() {
        for s in [
            "2011-06-07T14:33:05.687-07:00",
            "2020-01-01T00:00:00.000Z",
            "-0044-03-15T12:00:00.000+01:30",
        ] {
            assert_eq!(Date::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(
            Date::parse("2018-06-14T11:50:32+0200").unwrap().to_string(),
            "2018-06-14T11:50:32.000+02:00"
        );
        assert_eq!(
            Date::parse("2018-06-14T11:50:32.1234Z")
                .unwrap()
                .to_string(),
            "2018-06-14T11:50:32.123Z"
        );
        assert!(Date::parse("2018-02-30T00:00:00.000Z").is_none());
        assert!(Date::parse("2018-06-14").is_none());
        assert!(Date::parse("2018-06-14T11:50:32.000").is_none());
        let d = Date::parse("2024-01-31T12:00:00.000+01:00").unwrap();
        assert_eq!(d.epoch_millis(), 1_706_698_800_000);
        assert_eq!(
            Date::from_epoch_millis(d.epoch_millis()).to_string(),
            "2024-01-31T11:00:00.000Z"
        );
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(format_double(1.0), "1.0");
        assert_eq!(format_double(2.5), "2.5");
        assert_eq!(format_double(-0.0), "-0.0");
        assert_eq!(format_double(1e7), "1.0E7");
        assert_eq!(format_double(1.234e-5), "1.234E-5");
        assert_eq!(format_double(0.001), "0.001");
        assert_eq!(format_double(123456.789), "123456.789");
        assert_eq!(format_double(f64::NAN), "NaN");
        assert_eq!(format_double(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(parse_double("1.0E10"), Some(1e10));
        assert_eq!(parse_double("3d"), Some(3.0));
        assert_eq!(parse_double("abc"), None);
        assert_eq!(parse_double("inf"), None);
    }

    #[test]
    fn parses_each_type() {
        assert_eq!(
            Value::parse(PropertyType::Long, "+42").unwrap(),
            Value::Long(42)
        );
        assert!(Value::parse(PropertyType::Long, "4.2").is_err());
        assert_eq!(
            Value::parse(PropertyType::Boolean, "TRUE").unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            Value::parse(PropertyType::Boolean, "yes").unwrap(),
            Value::Boolean(false)
        );
        assert!(Value::parse(PropertyType::Decimal, "3.14159265358979323846").is_ok());
        assert!(Value::parse(PropertyType::Decimal, "1E+3").is_ok());
        assert!(Value::parse(PropertyType::Decimal, "1.2.3").is_err());
        let e = Value::parse(PropertyType::Date, "yesterday").unwrap_err();
        assert!(e.to_string().contains("not a valid Date value"), "{e}");
        assert!(Value::Double(f64::NAN) == Value::Double(f64::NAN));
    }

    #[test]
    fn converts() {
        let d = Value::parse(PropertyType::Date, "1970-01-01T00:00:01.000Z").unwrap();
        assert_eq!(d.convert(PropertyType::Long).unwrap(), Value::Long(1000));
        assert_eq!(
            Value::String("7".into())
                .convert(PropertyType::Long)
                .unwrap(),
            Value::Long(7)
        );
        assert!(Value::String("x".into())
            .convert(PropertyType::Long)
            .is_err());
    }
}
