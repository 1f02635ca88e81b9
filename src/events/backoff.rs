//! When a delivery whose POST failed is tried again: the pause doubles from the first one up
//! to the cap, and is spread by jitter so that the deliveries of one outage do not all come
//! back at the same moment.

use super::WebhookSettings;
use std::time::Duration;

/// The pause after `attempts` failed POSTs (1 after the first), with `jitter` in `[0, 1)`
/// taking off up to a half of it.
pub fn retry_after(attempts: u32, settings: &WebhookSettings, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(40);
    let full = settings
        .first_retry_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_retry_ms.max(settings.first_retry_ms));
    let jitter = jitter.clamp(0.0, 1.0);
    Duration::from_millis(full - (full as f64 * jitter / 2.0) as u64)
}

/// Whether a delivery that has failed `attempts` POSTs is given up (`failed`).
pub fn exhausted(attempts: u32, settings: &WebhookSettings) -> bool {
    attempts >= settings.max_attempts.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebhookSettings {
        WebhookSettings {
            max_attempts: 5,
            first_retry_ms: 1_000,
            max_retry_ms: 10_000,
            ..WebhookSettings::default()
        }
    }

    #[test]
    fn the_pause_doubles_up_to_the_cap() {
        let s = settings();
        let pauses: Vec<u64> = (1..=6)
            .map(|a| retry_after(a, &s, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(pauses, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(retry_after(u32::MAX, &s, 0.0), Duration::from_secs(10));
    }

    #[test]
    fn jitter_takes_off_at_most_half() {
        let s = settings();
        assert_eq!(retry_after(2, &s, 0.999_999), Duration::from_millis(1_001));
        assert_eq!(retry_after(2, &s, 0.5), Duration::from_millis(1_500));
    }

    #[test]
    fn a_delivery_is_given_up_after_its_last_attempt() {
        let s = settings();
        assert!(!exhausted(4, &s));
        assert!(exhausted(5, &s));
    }
}
