//! An outplan's call window: the local hours and days a callee may be called, and the dates
//! on which not at all. Written `{start: "08:00", end: "21:00", days: ["mon", …],
//! holidays: ["2026-12-25"]}`; read into times, weekdays and dates, so that the dialer never
//! parses text.

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// When callees may be called, in each callee's local time.
///
/// `end` before `start` wraps past midnight (`20:00`–`02:00`): the window then belongs to
/// the day on which it opens, so `days` and `holidays` name that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CallWindowText", into = "CallWindowText")]
pub struct CallWindow {
    /// Opens at this local time (inclusive).
    pub start: NaiveTime,
    /// Closes at this local time (exclusive).
    pub end: NaiveTime,
    /// The weekdays the window opens on.
    pub days: Vec<Weekday>,
    /// Local dates on which it does not open.
    pub holidays: Vec<NaiveDate>,
}

/// The written form of a [`CallWindow`].
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallWindowText {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// `mon` .. `sun` (every day when missing).
    #[serde(default = "every_day")]
    pub days: Vec<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn every_day() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(String::from)
        .to_vec()
}

/// Why a call window was refused; each names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// A time that is not `HH:MM`.
    #[error("{field}: {value:?} is not a time; use HH:MM (00:00 to 23:59)")]
    Time {
        /// `start` or `end`.
        field: &'static str,
        /// As given.
        value: String,
    },
    /// A day that is not `mon` .. `sun`.
    #[error("days: {0:?} is not a day; use mon, tue, wed, thu, fri, sat or sun")]
    Day(String),
    /// No day at all.
    #[error("days: at least one day is needed")]
    NoDay,
    /// A holiday that is not a date.
    #[error("holidays: {0:?} is not a date; use YYYY-MM-DD")]
    Date(String),
    /// A window of no length.
    #[error("end: must differ from start (a window of no length never opens)")]
    Empty,
}

impl WindowError {
    /// The field at fault, under `call_window`.
    pub fn field(&self) -> &'static str {
        match self {
            WindowError::Time { field, .. } => field,
            WindowError::Day(_) | WindowError::NoDay => "days",
            WindowError::Date(_) => "holidays",
            WindowError::Empty => "end",
        }
    }
}

/// Reads `HH:MM` (two digits each).
pub fn parse_time(field: &'static str, text: &str) -> Result<NaiveTime, WindowError> {
    let bad = || WindowError::Time {
        field,
        value: text.to_string(),
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

fn parse_day(text: &str) -> Result<Weekday, WindowError> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return Err(WindowError::Day(text.to_string())),
    })
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

impl TryFrom<CallWindowText> for CallWindow {
    type Error = WindowError;

    fn try_from(t: CallWindowText) -> Result<CallWindow, WindowError> {
        let start = parse_time("start", &t.start)?;
        let end = parse_time("end", &t.end)?;
        if start == end {
            return Err(WindowError::Empty);
        }
        let mut days = Vec::new();
        for d in &t.days {
            let day = parse_day(d)?;
            if !days.contains(&day) {
                days.push(day);
            }
        }
        if days.is_empty() {
            return Err(WindowError::NoDay);
        }
        let holidays = t
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h, "%Y-%m-%d")
                    .ok()
                    .filter(|_| h.len() == 10)
                    .ok_or_else(|| WindowError::Date(h.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CallWindow {
            start,
            end,
            days,
            holidays,
        })
    }
}

impl From<CallWindow> for CallWindowText {
    fn from(w: CallWindow) -> CallWindowText {
        CallWindowText {
            start: w.start.format("%H:%M").to_string(),
            end: w.end.format("%H:%M").to_string(),
            days: w.days.iter().map(|d| day_name(*d).to_string()).collect(),
            holidays: w
                .holidays
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
        }
    }
}

impl CallWindow {
    /// Whether the window opens on local date `date` (its weekday listed, not a holiday).
    pub fn opens_on(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        self.days.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// Whether `end` comes before `start` (the window runs past midnight).
    pub fn wraps(&self) -> bool {
        self.end < self.start
    }
}

/// How an outplan with several caller ids picks one for each call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceStrategy {
    /// Each in turn.
    #[default]
    RoundRobin,
    /// Any, at random.
    Random,
    /// The one used least so far by the running campaign.
    LeastUsed,
    /// One with the callee's country and area code when the pool has one, else in turn.
    LocalPresence,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> Result<CallWindow, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_window_reads_and_writes_back_its_text() {
        let v = json!({"start": "08:00", "end": "21:00", "days": ["mon", "tue"],
                       "holidays": ["2026-12-25"]});
        let w = read(v.clone()).expect("valid");
        assert_eq!(w.days, vec![Weekday::Mon, Weekday::Tue]);
        assert_eq!(serde_json::to_value(&w).ok(), Some(v));
        let all = read(json!({"start": "22:00", "end": "02:00"})).expect("valid");
        assert_eq!(all.days.len(), 7);
        assert!(all.wraps());
    }

    #[test]
    fn each_bad_part_names_its_field() {
        let cases = [
            (json!({"start": "8:00", "end": "21:00"}), "start"),
            (json!({"start": "08:00", "end": "24:00"}), "end"),
            (json!({"start": "08:00", "end": "08:00"}), "end"),
            (
                json!({"start": "08:00", "end": "09:00", "days": ["mon", "funday"]}),
                "days",
            ),
            (
                json!({"start": "08:00", "end": "09:00", "days": []}),
                "days",
            ),
            (
                json!({"start": "08:00", "end": "09:00", "holidays": ["2026-02-30"]}),
                "holidays",
            ),
        ];
        for (v, field) in cases {
            let text: CallWindowText = serde_json::from_value(v.clone()).expect("shape");
            let e = CallWindow::try_from(text).expect_err("refused");
            assert_eq!(e.field(), field, "{v}: {e}");
            assert!(e.to_string().starts_with(field), "{e}");
        }
    }
}
