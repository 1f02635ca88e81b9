//! VoIPBIN-style timestamps: `"2022-04-28 02:16:39.712142"` in UTC, and the "never" value.

use chrono::{DateTime, Utc};

/// The timestamp VoIPBIN uses for "never" (`tm_delete` of a live resource, for example).
pub const NEVER: &str = "9999-01-01 00:00:00.000000";

/// Formats `at` the way every `tm_*` field is written.
pub fn format(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
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
}
