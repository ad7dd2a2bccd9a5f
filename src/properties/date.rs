//! The dates of package properties (`created`, `lastModified`, `lastWrapped`),
//! read as FileVault reads them: Java's `ISO_OFFSET_DATE_TIME`
//! (`2018-06-14T11:50:32.369+02:00`, seconds and fraction optional), then the
//! legacy `yyyy-MM-dd'T'HH:mm:ss.SSSX` of old package-maven-plugin versions
//! (`2018-06-14T11:50:32.369+0200`, JCRVLT-276). Anything else is "no date".

use crate::value::Date;

/// Parses a package date; `None` when neither format matches (FileVault then treats
/// the property as absent).
pub fn parse_package_date(s: &str) -> Option<Date> {
    parse_iso_offset(s).or_else(|| parse_legacy(s))
}

/// A cursor over the ASCII bytes of a date string.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_ignore_case(&mut self, c: u8) -> bool {
        if self.peek().is_some_and(|p| p.eq_ignore_ascii_case(&c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.b.get(self.i..self.i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }

    /// As many ASCII digits as there are, up to `max`; their text.
    fn digit_run(&mut self, max: usize) -> &'a [u8] {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let b: &'a [u8] = self.b;
        &b[start..self.i]
    }

    fn at_end(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Java's year field with `SignStyle.EXCEEDS_PAD` and a width of 4: four digits, or a
/// sign and more (a `+` needs more than four).
fn year(c: &mut Cursor, max_digits: usize, allow_negative: bool) -> Option<i32> {
    let sign = match c.peek() {
        Some(b'+') => {
            c.i += 1;
            1
        }
        Some(b'-') if allow_negative => {
            c.i += 1;
            -1
        }
        _ => 0,
    };
    let digits = c.digit_run(max_digits);
    let ok = match sign {
        0 => digits.len() == 4,
        1 => digits.len() > 4,
        _ => digits.len() >= 4,
    };
    if !ok {
        return None;
    }
    let value: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if sign == -1 && value == 0 {
        return None;
    }
    let value = if sign == -1 { -value } else { value };
    i32::try_from(value).ok()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if leap => 29,
        _ => 28,
    }
}

/// The millisecond of a fraction of a second given as digits (truncated, as a
/// `Calendar` keeps milliseconds).
fn millis(fraction: &[u8]) -> u16 {
    let mut ms = 0u16;
    for i in 0..3 {
        ms = ms * 10 + fraction.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    ms
}

fn build(
    year: i32,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    millis: u16,
    offset_minutes: i32,
) -> Option<Date> {
    Some(Date {
        year,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
        hour: u8::try_from(hms.0).ok()?,
        minute: u8::try_from(hms.1).ok()?,
        second: u8::try_from(hms.2).ok()?,
        millis,
        offset_minutes: i16::try_from(offset_minutes).ok()?,
    })
}

/// `DateTimeFormatter.ISO_OFFSET_DATE_TIME` with its strict resolver.
fn parse_iso_offset(s: &str) -> Option<Date> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = year(&mut c, 10, true)?;
    let month = (c.eat(b'-')).then(|| c.digits(2))??;
    let day = (c.eat(b'-')).then(|| c.digits(2))??;
    if !c.eat_ignore_case(b'T') {
        return None;
    }
    let hour = c.digits(2)?;
    let minute = c.eat(b':').then(|| c.digits(2))??;
    let mut second = 0;
    let mut fraction: &[u8] = &[];
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') {
            fraction = c.digit_run(9);
        }
    }
    let offset = if c.eat_ignore_case(b'Z') {
        0
    } else {
        let sign = match c.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        c.i += 1;
        let oh = c.digits(2)?;
        let om = c.eat(b':').then(|| c.digits(2))??;
        if c.eat(b':') {
            // Offsets with seconds exist in Java but not in a JCR date.
            if c.digits(2)? != 0 {
                return None;
            }
        }
        if oh > 18 || om > 59 || (oh == 18 && om > 0) {
            return None;
        }
        sign * (oh * 60 + om) as i32
    };
    if !c.at_end()
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    build(
        year,
        month,
        day,
        (hour, minute, second),
        millis(fraction),
        offset,
    )
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSSX` with Java's smart resolver: a day past the end of
/// the month is clamped to its last day, and `24:00:00.000` is midnight of the next
/// day.
fn parse_legacy(s: &str) -> Option<Date> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = year(&mut c, 19, false)?;
    let month = (c.eat(b'-')).then(|| c.digits(2))??;
    let day = (c.eat(b'-')).then(|| c.digits(2))??;
    if !c.eat(b'T') {
        return None;
    }
    let hour = c.digits(2)?;
    let minute = c.eat(b':').then(|| c.digits(2))??;
    let second = c.eat(b':').then(|| c.digits(2))??;
    let fraction = c.eat(b'.').then(|| c.digits(3))??;
    let offset = if c.eat(b'Z') {
        0
    } else {
        let sign = match c.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        c.i += 1;
        let oh = c.digits(2)?;
        let om = if c.at_end() { 0 } else { c.digits(2)? };
        if oh > 18 || om > 59 || (oh == 18 && om > 0) {
            return None;
        }
        sign * (oh * 60 + om) as i32
    };
    if !c.at_end() || year < 1 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let day = day.min(days_in_month(year, month));
    if minute > 59 || second > 59 {
        return None;
    }
    let ms = u16::try_from(fraction).ok()?;
    if hour == 24 && minute == 0 && second == 0 && fraction == 0 {
        // The end of the day is the start of the next one.
        let midnight = build(year, month, day, (0, 0, 0), 0, 0)?;
        let next = Date::from_epoch_millis(midnight.epoch_millis() + 86_400_000);
        return Some(Date {
            offset_minutes: i16::try_from(offset).ok()?,
            ..next
        });
    }
    if hour > 23 {
        return None;
    }
    build(year, month, day, (hour, minute, second), ms, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_package_date(s).map(|d| d.to_string())
    }

    #[test]
    fn iso_offset_dates() {
        assert_eq!(
            p("2018-06-14T11:50:32.369+02:00").as_deref(),
            Some("2018-06-14T11:50:32.369+02:00")
        );
        assert_eq!(
            p("2011-11-15T09:43:22.972+01:00").as_deref(),
            Some("2011-11-15T09:43:22.972+01:00")
        );
        assert_eq!(
            p("2020-01-01T00:00Z").as_deref(),
            Some("2020-01-01T00:00:00.000Z")
        );
        assert_eq!(
            p("2020-01-01t10:11:12.123456789-05:30").as_deref(),
            Some("2020-01-01T10:11:12.123-05:30")
        );
        assert_eq!(
            p("2020-01-01T10:11:12.Z").as_deref(),
            Some("2020-01-01T10:11:12.000Z")
        );
        assert_eq!(
            p("2020-01-01T10:11:12+01:00:00").as_deref(),
            Some("2020-01-01T10:11:12.000+01:00")
        );
        assert_eq!(p("+12020-01-01T10:11:12Z").map(|_| ()), Some(()));
        assert_eq!(
            p("2020-02-29T00:00:00Z").as_deref(),
            Some("2020-02-29T00:00:00.000Z")
        );
    }

    #[test]
    fn legacy_dates() {
        assert_eq!(
            p("2018-06-14T11:50:32.369+0200").as_deref(),
            Some("2018-06-14T11:50:32.369+02:00")
        );
        assert_eq!(
            p("2018-06-14T11:50:32.369Z").as_deref(),
            Some("2018-06-14T11:50:32.369Z")
        );
        assert_eq!(
            p("2018-06-14T11:50:32.369-03").as_deref(),
            Some("2018-06-14T11:50:32.369-03:00")
        );
        // Java's smart resolver: day clamped, 24:00 rolls over.
        assert_eq!(
            p("2019-02-30T10:00:00.000+0100").as_deref(),
            Some("2019-02-28T10:00:00.000+01:00")
        );
        assert_eq!(
            p("2019-12-31T24:00:00.000Z").as_deref(),
            Some("2020-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn invalid_dates_are_absent() {
        for bad in [
            "",
            "yesterday",
            "2018-06-14",
            "2018-06-14T11:50:32",
            "2018-06-14T11:50:32.369",
            "2019-02-30T10:00:00.000+01:00",
            "2018-13-01T00:00:00Z",
            "2018-06-14T24:00:00Z",
            "2018-06-14T11:50:32.369+19:00",
            "2018-06-14T11:50:32.369+02:0",
            "12018-06-14T11:50:32Z",
            "+2018-06-14T11:50:32Z",
            "2018-06-14T11:50:32.36+0200",
            "2018-06-14T11:50:32.369+02:00 ",
            "2018-06-14T11:50:32+01:00:30",
            "2018-06-32T11:50:32.369+0200",
            "0000-06-14T11:50:32.369+0200",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
