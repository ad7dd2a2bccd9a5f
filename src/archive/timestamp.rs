//! The one timestamp every entry of a written package carries.
//!
//! A zip stores a modification time per entry (MS-DOS format: local date and time,
//! 2-second steps, 1980 to 2107). Real times would make every export differ, so the
//! writer uses a fixed one: `SOURCE_DATE_EPOCH` when it is set (the reproducible-builds
//! convention, <https://reproducible-builds.org/specs/source-date-epoch/>), read as UTC,
//! else 1980-01-01 00:00:00, the earliest time a zip can hold and what the zip crate
//! writes without a clock. Times outside the zip range are clamped to its ends.

use ::zip::DateTime;

use super::error::ArchiveError;

/// The fixed time written when `SOURCE_DATE_EPOCH` is not set: 1980-01-01 00:00:00.
pub fn default_timestamp() -> DateTime {
    DateTime::DEFAULT
}

/// The zip time for `seconds` since 1970-01-01 00:00:00 UTC, rounded down to an even
/// second and clamped to 1980-01-01 00:00:00 ..= 2107-12-31 23:59:58.
pub fn timestamp_from_epoch(seconds: i64) -> DateTime {
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if year < 1980 {
        return DateTime::DEFAULT;
    }
    let fields = if year > 2107 {
        (2107, 12, 31, 23, 59, 58)
    } else {
        (
            year as u16,
            month,
            day,
            (in_day / 3600) as u8,
            (in_day % 3600 / 60) as u8,
            (in_day % 60) as u8,
        )
    };
    let (y, mo, d, h, mi, s) = fields;
    DateTime::from_date_and_time(y, mo, d, h, mi, s).unwrap_or(DateTime::DEFAULT)
}

/// The one reading of a `SOURCE_DATE_EPOCH` value, for every command that honours
/// it: seconds since 1970-01-01 00:00:00 UTC. An empty string means unset (`None`),
/// as the specification says; anything but decimal digits is an error, never a
/// silent fallback to the clock. Digits beyond `i64` are taken as `i64::MAX` (a
/// time past every clamp).
///
/// The library never reads the environment: the caller (the command line) reads the
/// variable and hands the seconds to [`crate::archive::WriterOptions`],
/// [`crate::build::BuildOptions`] or an install's clock.
pub fn parse_source_date_epoch(value: &str) -> Result<Option<i64>, ArchiveError> {
    if value.is_empty() {
        return Ok(None);
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArchiveError::BadSourceDateEpoch {
            value: value.to_owned(),
        });
    }
    Ok(Some(value.parse::<i64>().unwrap_or(i64::MAX)))
}

/// The zip time for `SOURCE_DATE_EPOCH` seconds: [`default_timestamp`] when unset.
pub fn timestamp_from_source_date_epoch(seconds: Option<i64>) -> DateTime {
    seconds.map_or_else(default_timestamp, timestamp_from_epoch)
}

/// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01, in the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(t: DateTime) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    #[test]
    fn epoch_seconds_to_zip_time() {
        assert_eq!(show(default_timestamp()), "1980-01-01 00:00:00");
        assert_eq!(show(timestamp_from_epoch(0)), "1980-01-01 00:00:00");
        assert_eq!(
            show(timestamp_from_epoch(315_532_800)),
            "1980-01-01 00:00:00"
        );
        // 2023-11-14 22:13:20 UTC; odd seconds round down.
        assert_eq!(
            show(timestamp_from_epoch(1_700_000_000)),
            "2023-11-14 22:13:20"
        );
        assert_eq!(
            show(timestamp_from_epoch(1_700_000_001)),
            "2023-11-14 22:13:20"
        );
        // A leap day.
        assert_eq!(
            show(timestamp_from_epoch(951_782_400)),
            "2000-02-29 00:00:00"
        );
        assert_eq!(show(timestamp_from_epoch(i64::MAX)), "2107-12-31 23:59:58");
        assert_eq!(show(timestamp_from_epoch(-5)), "1980-01-01 00:00:00");
    }

    #[test]
    fn source_date_epoch_values() {
        let seconds = parse_source_date_epoch("1700000000").unwrap();
        assert_eq!(seconds, Some(1_700_000_000));
        let t = timestamp_from_source_date_epoch(seconds);
        assert_eq!(show(t), "2023-11-14 22:13:20");
        assert_eq!(timestamp_from_source_date_epoch(None), DateTime::DEFAULT);
        assert_eq!(parse_source_date_epoch("").unwrap(), None);
        for bad in ["-1", "1.5", " 1", "abc", "1e9", " ", "1700000000\n"] {
            let e = parse_source_date_epoch(bad).unwrap_err();
            assert!(e.to_string().starts_with("SOURCE_DATE_EPOCH="), "{e}");
        }
        let far = parse_source_date_epoch("99999999999999999999999").unwrap();
        assert_eq!(
            show(timestamp_from_source_date_epoch(far)),
            "2107-12-31 23:59:58"
        );
    }
}
