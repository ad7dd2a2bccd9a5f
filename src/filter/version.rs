//! The `version` attribute of `<workspaceFilter>`: read with Java's
//! `Double.parseDouble` and written with `String.valueOf(double)`, as FileVault does.

use std::fmt;

/// A workspace filter format version (`1.0` when absent or empty). Versions above
/// 1.0 are refused by the parser; anything else (even `0.5`) is kept and written back.
#[derive(Debug, Clone, Copy)]
pub struct FilterVersion(pub f64);

impl FilterVersion {
    /// The only version FileVault writes and the highest it reads.
    pub const SUPPORTED: FilterVersion = FilterVersion(1.0);

    /// Parses the attribute value like `Double.parseDouble`.
    pub fn parse(value: &str) -> Option<FilterVersion> {
        parse_java_double(value).map(FilterVersion)
    }

    /// Whether FileVault accepts this version (`version > 1.0` is an error; NaN passes
    /// the comparison in Java too).
    pub fn is_supported(self) -> bool {
        // Written so that NaN is accepted, as `version > 1.0` is false in Java.
        self.0.partial_cmp(&Self::SUPPORTED.0) != Some(std::cmp::Ordering::Greater)
    }
}

impl Default for FilterVersion {
    fn default() -> FilterVersion {
        FilterVersion::SUPPORTED
    }
}

impl PartialEq for FilterVersion {
    fn eq(&self, other: &FilterVersion) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for FilterVersion {}

impl fmt::Display for FilterVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&java_double_to_string(self.0))
    }
}

/// Java's `Double.parseDouble`: surrounding characters up to U+0020 are trimmed; an
/// optional sign; `NaN`, `Infinity`, a decimal number with optional exponent, or a
/// hexadecimal `0x...p...` number; an optional `f`/`F`/`d`/`D` suffix.
pub fn parse_java_double(value: &str) -> Option<f64> {
    let s = value.trim_matches(|c: char| c <= ' ');
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let body = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            if body.starts_with("0x") || body.starts_with("0X") {
                parse_hex(&body[2..])?
            } else {
                parse_decimal(body)?
            }
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_decimal(body: &str) -> Option<f64> {
    let bytes = body.as_bytes();
    let mut i = 0;
    let int_digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return None;
    }
    body.parse::<f64>().ok()
}

fn parse_hex(body: &str) -> Option<f64> {
    let (mantissa, exponent) = body.split_once(['p', 'P'])?;
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    if exponent.is_empty()
        || !exponent
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let exp: i32 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
        i32::MIN
    } else {
        i32::MAX
    });
    Some(value * 2f64.powi(exp))
}

/// Java's `Double.toString`: `NaN`, `Infinity`, plain decimals with at least one
/// fractional digit for 10^-3 <= |v| < 10^7, otherwise `d.dddE±n`; shortest digits.
pub fn java_double_to_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let magnitude = v.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_java() {
        assert_eq!(parse_java_double("1.0"), Some(1.0));
        assert_eq!(parse_java_double("1"), Some(1.0));
        assert_eq!(parse_java_double(" 1.0 "), Some(1.0));
        assert_eq!(parse_java_double("1."), Some(1.0));
        assert_eq!(parse_java_double(".5"), Some(0.5));
        assert_eq!(parse_java_double("1e0"), Some(1.0));
        assert_eq!(parse_java_double("1.0f"), Some(1.0));
        assert_eq!(parse_java_double("+2D"), Some(2.0));
        assert_eq!(parse_java_double("0x1p0"), Some(1.0));
        assert_eq!(parse_java_double("0x1.8p1"), Some(3.0));
        assert_eq!(parse_java_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_java_double("NaN").is_some_and(f64::is_nan));
        for bad in [
            "", "abc", "1.0.0", "1e", "e1", ".", "inf", "nan", "1,0", "0x1", "1.0 x",
        ] {
            assert_eq!(parse_java_double(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_like_java() {
        assert_eq!(java_double_to_string(1.0), "1.0");
        assert_eq!(java_double_to_string(0.5), "0.5");
        assert_eq!(java_double_to_string(-1.0), "-1.0");
        assert_eq!(java_double_to_string(0.001), "0.001");
        assert_eq!(java_double_to_string(1234567.0), "1234567.0");
        assert_eq!(java_double_to_string(1e7), "1.0E7");
        assert_eq!(java_double_to_string(1.5e-5), "1.5E-5");
        assert_eq!(java_double_to_string(0.0), "0.0");
        assert_eq!(java_double_to_string(f64::NAN), "NaN");
        assert_eq!(java_double_to_string(f64::INFINITY), "Infinity");
    }

    #[test]
    fn version_support() {
        assert!(FilterVersion(1.0).is_supported());
        assert!(FilterVersion(0.5).is_supported());
        assert!(FilterVersion(f64::NAN).is_supported());
        assert!(!FilterVersion(1.1).is_supported());
        assert!(!FilterVersion(2.0).is_supported());
        assert_eq!(FilterVersion::default().to_string(), "1.0");
    }
}
