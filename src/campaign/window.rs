//! Call windows in the callee's local time: pure functions of a window, the callee's zones and
//! `now`. With several zones (an area code spanning two), the window must be open in all of
//! them at once.
//!
//! A local opening time that a daylight-saving change skips (02:30 on a spring-forward night)
//! opens at the first instant after the gap; one that happens twice (the autumn hour) opens
//! at the first of the two.

use crate::domain::CallWindow;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How far ahead [`next_opening`] looks: a year and a day, so that a window open on one date
/// a year is found.
const HORIZON_DAYS: i64 = 367;

/// Whether the window is open at `now` in `zone`.
fn open_in(window: &CallWindow, zone: Tz, now: DateTime<Utc>) -> bool {
    let local = now.with_timezone(&zone).naive_local();
    let (date, time) = (local.date(), local.time());
    if window.wraps() {
        let started_today = time >= window.start && window.opens_on(date);
        let started_yesterday =
            time < window.end && date.pred_opt().is_some_and(|d| window.opens_on(d));
        started_today || started_yesterday
    } else {
        window.start <= time && time < window.end && window.opens_on(date)
    }
}

/// Whether the window is open at `now` in every one of `zones` (in UTC when there is none).
pub fn is_open(window: &CallWindow, zones: &[Tz], now: DateTime<Utc>) -> bool {
    if zones.is_empty() {
        return open_in(window, Tz::UTC, now);
    }
    zones.iter().all(|&z| open_in(window, z, now))
}

/// The instant local `at` on `date` in `zone` happens first (after the gap when a clock change
/// skips it).
fn local_instant(zone: Tz, date: NaiveDate, at: NaiveTime) -> Option<DateTime<Utc>> {
    let mut local = NaiveDateTime::new(date, at);
    // A gap is at most a few hours long; minute steps find its end.
    for _ in 0..=24 * 60 {
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                return Some(t.with_timezone(&Utc))
            }
            LocalResult::None => local += Duration::minutes(1),
        }
    }
    None
}

/// The first instant at or after `now` at which the window is open in every one of `zones`
/// (UTC when there is none), within a year; `None` when it never opens in that time (every
/// date a holiday, or zones whose windows never overlap).
pub fn next_opening(
    window: &CallWindow,
    zones: &[Tz],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let zones: &[Tz] = if zones.is_empty() { &[Tz::UTC] } else { zones };
    if is_open(window, zones, now) {
        return Some(now);
    }
    // Where the windows of all zones overlap, the overlap starts when the last of them opens:
    // the candidates are every zone's openings.
    let mut openings: Vec<DateTime<Utc>> = Vec::new();
    for &zone in zones {
        let today = now.with_timezone(&zone).date_naive();
        for offset in -1..=HORIZON_DAYS {
            let Some(date) = today.checked_add_signed(Duration::days(offset)) else {
                continue;
            };
            if !window.opens_on(date) {
                continue;
            }
            if let Some(t) = local_instant(zone, date, window.start).filter(|t| *t > now) {
                openings.push(t);
            }
        }
    }
    openings.sort_unstable();
    openings.dedup();
    openings.into_iter().find(|&t| is_open(window, zones, t))
}

/// The first instant at or after `earliest` whose local time in `zone` is one of `times`
/// (`None` when there is none). A retry asked for "17:00" becomes due at 17:00 in the
/// callee's zone.
pub fn next_local_time(
    times: &[NaiveTime],
    zone: Tz,
    earliest: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let today = earliest.with_timezone(&zone).date_naive();
    (0..=2)
        .filter_map(|offset| today.checked_add_signed(Duration::days(offset)))
        .flat_map(|date| {
            times
                .iter()
                .filter_map(move |&t| local_instant(zone, date, t))
        })
        .filter(|&t| t >= earliest)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;
    use chrono_tz::America::{Chicago, Denver, New_York, St_Johns};
    use chrono_tz::Asia::Kolkata;
    use chrono_tz::Europe::London;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("RFC 3339")
            .with_timezone(&Utc)
    }

    fn window(start: &str, end: &str, days: &[Weekday], holidays: &[&str]) -> CallWindow {
        CallWindow {
            start: crate::domain::call_window::parse_time("start", start).expect("time"),
            end: crate::domain::call_window::parse_time("end", end).expect("time"),
            days: days.to_vec(),
            holidays: holidays.iter().map(|d| d.parse().expect("date")).collect(),
        }
    }

    const WEEKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    const EVERY_DAY: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    #[test]
    fn a_window_is_read_in_the_callees_local_time() {
        let w = window("08:00", "21:00", &WEEKDAYS, &[]);
        // Tuesday 2026-03-03 12:30 UTC is 07:30 in New York (EST), 12:30 in London.
        let now = utc("2026-03-03T12:30:00Z");
        assert!(!is_open(&w, &[New_York], now));
        assert!(is_open(&w, &[London], now));
        assert_eq!(
            next_opening(&w, &[New_York], now),
            Some(utc("2026-03-03T13:00:00Z"))
        );
        // Open at 08:00 sharp, closed at 21:00 sharp.
        assert!(is_open(&w, &[New_York], utc("2026-03-03T13:00:00Z")));
        assert!(!is_open(&w, &[New_York], utc("2026-03-04T02:00:00Z")));
        // Half-hour zones.
        assert!(is_open(&w, &[Kolkata], utc("2026-03-03T02:30:00Z")));
        assert!(!is_open(&w, &[Kolkata], utc("2026-03-03T02:29:00Z")));
    }

    #[test]
    fn daylight_saving_moves_the_opening_in_utc() {
        let w = window("08:00", "21:00", &EVERY_DAY, &[]);
        // The US springs forward on 2026-03-08: 08:00 is 13:00 UTC before, 12:00 UTC after.
        assert_eq!(
            next_opening(&w, &[New_York], utc("2026-03-07T02:00:00Z")),
            Some(utc("2026-03-07T13:00:00Z"))
        );
        assert_eq!(
            next_opening(&w, &[New_York], utc("2026-03-08T02:00:00Z")),
            Some(utc("2026-03-08T12:00:00Z"))
        );
        // And back on 2026-11-01.
        assert_eq!(
            next_opening(&w, &[New_York], utc("2026-11-01T02:00:00Z")),
            Some(utc("2026-11-01T13:00:00Z"))
        );
        // An opening the spring-forward gap skips opens when the gap ends (03:00 EDT).
        let night = window("02:30", "05:00", &EVERY_DAY, &[]);
        assert_eq!(
            next_opening(&night, &[New_York], utc("2026-03-08T05:00:00Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        // An opening in the repeated autumn hour opens at its first pass (01:30 EDT).
        let autumn = window("01:30", "04:00", &EVERY_DAY, &[]);
        assert_eq!(
            next_opening(&autumn, &[New_York], utc("2026-11-01T04:00:00Z")),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }

    #[test]
    fn holidays_and_days_off_are_skipped() {
        // Friday 2026-12-25 is a holiday; the weekend is off: next is Monday the 28th.
        let w = window("09:00", "17:00", &WEEKDAYS, &["2026-12-25"]);
        let thursday_evening = utc("2026-12-24T23:00:00Z"); // 18:00 in New York
        assert_eq!(
            next_opening(&w, &[New_York], thursday_evening),
            Some(utc("2026-12-28T14:00:00Z"))
        );
        assert!(!is_open(&w, &[New_York], utc("2026-12-25T15:00:00Z")));
    }

    #[test]
    fn several_zones_must_all_be_open() {
        // An area code spanning Central and Mountain time: 08:00 Mountain is the later one.
        let w = window("08:00", "21:00", &EVERY_DAY, &[]);
        let zones = [Chicago, Denver];
        let now = utc("2026-06-10T13:30:00Z"); // 08:30 CDT, 07:30 MDT
        assert!(is_open(&w, &[Chicago], now));
        assert!(!is_open(&w, &zones, now));
        assert_eq!(
            next_opening(&w, &zones, now),
            Some(utc("2026-06-10T14:00:00Z"))
        );
        // It closes with the earlier one: 21:00 CDT.
        assert!(!is_open(&w, &zones, utc("2026-06-11T02:00:00Z")));
        assert!(is_open(&w, &zones, utc("2026-06-11T01:59:00Z")));
        // Zones whose windows never overlap never open together.
        let short = window("09:00", "10:00", &EVERY_DAY, &[]);
        assert_eq!(next_opening(&short, &[New_York, Kolkata], now), None);
        // Newfoundland is half an hour off the hour.
        assert_eq!(
            next_opening(&w, &[St_Johns], utc("2026-06-10T10:00:00Z")),
            Some(utc("2026-06-10T10:30:00Z"))
        );
    }

    #[test]
    fn a_window_past_midnight_belongs_to_the_day_it_opens() {
        // Friday and Saturday nights, 20:00 to 02:00 in London (BST in June).
        let w = window("20:00", "02:00", &[Weekday::Fri, Weekday::Sat], &[]);
        let zones = [London];
        assert!(is_open(&w, &zones, utc("2026-06-12T19:00:00Z"))); // Fri 20:00
        assert!(is_open(&w, &zones, utc("2026-06-13T00:30:00Z"))); // Sat 01:30, Fri's window
        assert!(!is_open(&w, &zones, utc("2026-06-13T01:00:00Z"))); // Sat 02:00
        assert!(is_open(&w, &zones, utc("2026-06-14T00:30:00Z"))); // Sun 01:30, Sat's window
        assert!(!is_open(&w, &zones, utc("2026-06-14T19:30:00Z"))); // Sun 20:30
        assert_eq!(
            next_opening(&w, &zones, utc("2026-06-14T19:30:00Z")),
            Some(utc("2026-06-19T19:00:00Z"))
        );
    }

    #[test]
    fn no_zone_means_utc() {
        let w = window("08:00", "09:00", &EVERY_DAY, &[]);
        assert!(is_open(&w, &[], utc("2026-06-10T08:15:00Z")));
        assert_eq!(
            next_opening(&w, &[], utc("2026-06-10T09:00:00Z")),
            Some(utc("2026-06-11T08:00:00Z"))
        );
    }

    #[test]
    fn a_retry_at_a_local_time_is_the_next_such_time_after_the_interval() {
        let five = [NaiveTime::from_hms_opt(17, 0, 0).expect("time")];
        // 15:00 in New York (EDT): 17:00 today.
        assert_eq!(
            next_local_time(&five, New_York, utc("2026-06-10T19:00:00Z")),
            Some(utc("2026-06-10T21:00:00Z"))
        );
        // 18:00: 17:00 tomorrow.
        assert_eq!(
            next_local_time(&five, New_York, utc("2026-06-10T22:00:00Z")),
            Some(utc("2026-06-11T21:00:00Z"))
        );
        assert_eq!(
            next_local_time(&[], New_York, utc("2026-06-10T22:00:00Z")),
            None
        );
    }
}
