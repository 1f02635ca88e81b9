//! Where the SQLite thread's time goes, statement by statement: with `STATEMENT_TIMES` set, a
//! runner collects what sqlx reports of each statement it ran (its time on the connection's
//! thread, from binding to the last row, and the rows it changed and returned), summed by
//! statement text, while [`measuring`] is on. Reporting every statement costs time of its
//! own: a run that collects them is for telling the statements apart, not for its CPU figures.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// How long a statement's key is: enough to tell the dialer's statements apart.
const KEY_CHARS: usize = 110;

#[derive(Default)]
struct Sums {
    runs: u64,
    secs: f64,
    changed: u64,
    returned: u64,
}

static MEASURING: AtomicBool = AtomicBool::new(false);
static SUMS: Mutex<Option<HashMap<String, Sums>>> = Mutex::new(None);

/// Installs the collector if `STATEMENT_TIMES` is set; returns whether it did.
pub fn install() -> bool {
    if std::env::var_os("STATEMENT_TIMES").is_none() {
        return false;
    }
    let only_sqlx = tracing_subscriber::filter::Targets::new()
        .with_target("sqlx::query", tracing::Level::DEBUG);
    tracing_subscriber::registry()
        .with(Collector.with_filter(only_sqlx))
        .init();
    true
}

/// Statements are summed while this is on.
pub fn measuring(on: bool) {
    MEASURING.store(on, Ordering::SeqCst);
}

/// The statements summed, the longest first: `limit` of them, as JSON.
pub fn report(limit: usize) -> serde_json::Value {
    let sums = SUMS.lock().expect("sums").take().unwrap_or_default();
    let total: f64 = sums.values().map(|s| s.secs).sum();
    let mut rows: Vec<(String, Sums)> = sums.into_iter().collect();
    rows.sort_by(|a, b| b.1.secs.total_cmp(&a.1.secs));
    let statements: Vec<serde_json::Value> = rows
        .into_iter()
        .take(limit)
        .map(|(key, s)| {
            serde_json::json!({
                "ms": (s.secs * 10_000.0).round() / 10.0,
                "runs": s.runs,
                "rows_changed": s.changed,
                "rows_returned": s.returned,
                "statement": key,
            })
        })
        .collect();
    serde_json::json!({
        "total_ms": (total * 10_000.0).round() / 10.0,
        "statements": statements,
    })
}

/// A statement's text with its whitespace collapsed and its `VALUES` list of placeholders
/// shortened to `…`, cut to [`KEY_CHARS`].
fn key_of(statement: &str) -> String {
    let flat = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut key = String::with_capacity(flat.len().min(KEY_CHARS + 8));
    let mut rest = flat.as_str();
    while let Some(at) = rest.find("VALUES (?") {
        key.push_str(&rest[..at + "VALUES ".len()]);
        key.push('…');
        // The list ends at the first `)` not followed by `, (`.
        let mut tail = &rest[at + "VALUES ".len()..];
        while let Some(close) = tail.find(')') {
            tail = &tail[close + 1..];
            match tail.strip_prefix(", (") {
                Some(more) => tail = more,
                None => break,
            }
        }
        rest = tail;
    }
    key.push_str(rest);
    key.chars().take(KEY_CHARS).collect()
}

struct Collector;

#[derive(Default)]
struct Fields {
    statement: String,
    summary: String,
    secs: f64,
    changed: u64,
    returned: u64,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "db.statement" => self.statement = value.to_string(),
            // A short statement is reported whole as its summary, with no `db.statement`.
            "summary" => self.summary = value.to_string(),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.secs = value;
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_affected" => self.changed = value,
            "rows_returned" => self.returned = value,
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, value.max(0) as u64);
    }

    /// sqlx reports the fields read here as text and numbers; the others are not needed.
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for Collector {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if !MEASURING.load(Ordering::Relaxed) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let text = match (fields.statement.is_empty(), fields.summary.is_empty()) {
            (false, _) => &fields.statement,
            (true, false) => &fields.summary,
            (true, true) => return,
        };
        let key = key_of(text);
        let mut sums = SUMS.lock().expect("sums");
        let s = sums
            .get_or_insert_with(HashMap::new)
            .entry(key)
            .or_default();
        s.runs += 1;
        s.secs += fields.secs;
        s.changed += fields.changed;
        s.returned += fields.returned;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_values_list_is_shortened() {
        assert_eq!(
            super::key_of("WITH v(a, b) AS (VALUES (?, ?), (?, ?))\n   UPDATE t SET x = v.a"),
            "WITH v(a, b) AS (VALUES …) UPDATE t SET x = v.a"
        );
    }
}
