//! Pruning: events past `[events] keep_hours` or beyond the newest `keep_rows` (but none an
//! active webhook has yet to queue), and finished deliveries past `keep_hours`.

use super::EventSettings;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Prunes every `prune_every_secs` until the process ends.
pub async fn run(store: Arc<dyn Store>, settings: EventSettings) {
    let mut every = tokio::time::interval(Duration::from_secs(settings.prune_every_secs.max(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let hours = i64::try_from(settings.keep_hours).unwrap_or(i64::MAX / 3_600_000);
        let before =
            crate::domain::time::format(chrono::Utc::now() - chrono::Duration::hours(hours));
        match store.prune_events(&before, settings.keep_rows).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "old events pruned"),
            Err(e) => tracing::warn!(error = %e, "cannot prune old events"),
        }
    }
}
