//! `[events]` and `[webhooks]`: how long events are kept, how much a reconnecting client is
//! replayed, and how deliveries are retried.

use serde::Deserialize;
use std::time::Duration;

/// `[events]`: the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventSettings {
    /// Events older than this many hours are pruned (finished deliveries too).
    pub keep_hours: u64,
    /// At most this many events are kept (the oldest go first).
    pub keep_rows: u64,
    /// A client reconnecting with `Last-Event-ID` is replayed at most this many events (the
    /// newest of those it missed).
    pub replay_max: u32,
    /// Seconds between heartbeat comments on an idle stream.
    pub heartbeat_secs: u64,
    /// Seconds between two prunings.
    pub prune_every_secs: u64,
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            keep_hours: 24,
            keep_rows: 200_000,
            replay_max: 10_000,
            heartbeat_secs: 15,
            prune_every_secs: 60,
        }
    }
}

impl EventSettings {
    /// The heartbeat period (at least a second).
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }
}

/// `[webhooks]`: delivering events to tenants' endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// POSTs of one delivery before it is `failed`.
    pub max_attempts: u32,
    /// The pause after the first failed POST, in ms; it doubles after each (with jitter).
    pub first_retry_ms: u64,
    /// The longest pause between two POSTs of a delivery, in ms.
    pub max_retry_ms: u64,
    /// How long a POST may take, in ms, before it counts as failed.
    pub timeout_ms: u64,
    /// POSTs in flight at once, all webhooks together.
    pub concurrent: usize,
    /// How often the outboxes are looked at when no event wakes the worker, in ms.
    pub poll_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_attempts: 10,
            first_retry_ms: 1_000,
            max_retry_ms: 3_600_000,
            timeout_ms: 10_000,
            concurrent: 8,
            poll_ms: 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_documents_the_defaults() {
        let shipped = include_str!("../../config/ringmaster.toml");
        let s = crate::config::Settings::from_toml(shipped, Vec::new()).expect("config");
        assert_eq!(s.events, EventSettings::default());
        assert_eq!(s.webhooks, WebhookSettings::default());
    }
}
