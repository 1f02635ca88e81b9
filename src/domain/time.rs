//! VoIPBIN-style timestamps: `"2022-04-28 02:16:39.712142"` in UTC, and the "never" value.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// The timestamp VoIPBIN uses for "never" (`tm_delete` of a live resource, for example).
pub const NEVER: &str = "9999-01-01 00:00:00.000000";

/// Formats `at` the way every `tm_*` field is written. Every attempt writes several, so the
/// digits are placed by hand rather than through a format string.
pub fn format(at: DateTime<Utc>) -> String {
    let year = at.year();
    if !(0..=9999).contains(&year) {
        return at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    }
    // A leap second is carried as nanoseconds past 1,000,000,000 of second 59.
    let (second, nanos) = match at.nanosecond() {
        n if n >= 1_000_000_000 => (at.second() + 1, n - 1_000_000_000),
        n => (at.second(), n),
    };
    let mut out = String::with_capacity(NEVER.len());
    let mut digits = |value: u32, width: u32, after: Option<char>| {
        for place in (0..width).rev() {
            let digit = (value / 10u32.pow(place)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        if let Some(c) = after {
            out.push(c);
        }
    };
    digits(year as u32, 4, Some('-'));
    digits(at.month(), 2, Some('-'));
    digits(at.day(), 2, Some(' '));
    digits(at.hour(), 2, Some(':'));
    digits(at.minute(), 2, Some(':'));
    digits(second, 2, Some('.'));
    digits(nanos / 1000, 6, None);
    out
}

/// The current time as a `tm_*` string. Only the API and actors call this: pure code takes
/// its time as an argument.
pub fn now_string() -> String {
    format(Utc::now())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn timestamps_have_microseconds_and_a_space() {
        let at = chrono::Utc
            .with_ymd_and_hms(2022, 4, 28, 2, 16, 39)
            .single()
            .expect("valid date");
        assert_eq!(super::format(at), "2022-04-28 02:16:39.000000");
    }

    #[test]
    fn the_hand_made_format_matches_chrono_for_any_instant() {
        let pattern = "%Y-%m-%d %H:%M:%S%.6f";
        let mut micros: i64 = 0;
        // From 1970 to beyond 9999, in uneven steps that touch every field.
        while micros < 260_000_000_000_000_000 {
            let at = chrono::DateTime::from_timestamp_micros(micros).expect("in range");
            assert_eq!(
                super::format(at),
                at.format(pattern).to_string(),
                "{micros}"
            );
            micros = micros * 3 / 2 + 987_654_321;
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 1_500_000))
            .expect("a leap second")
            .and_utc();
        assert_eq!(super::format(leap), leap.format(pattern).to_string());
        assert_eq!(super::format(leap), "2016-12-31 23:59:60.500000");
    }
}
