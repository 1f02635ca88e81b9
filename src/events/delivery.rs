//! The delivery worker: moves each active webhook's cursor through the events (queueing the
//! ones it wants in its outbox), then POSTs the due deliveries, signed, and records each
//! outcome in the delivery log. A delivery is `delivered` once its endpoint answers 2xx; any
//! other answer, a timeout or a refused connection counts as a failed attempt, tried again
//! after [`backoff::retry_after`] until [`WebhookSettings::max_attempts`], then `failed`.
//!
//! Delivery is at least once: a node stopped between a POST and the record of its answer
//! sends it again on restart, with the same `X-Ringmaster-Event-Id`, by which the receiver
//! drops the copy. Deliveries are not ordered: a retried one arrives after later events.

use super::{backoff, signature, WebhookSettings};
use crate::domain::time::now_string;
use crate::domain::{Delivery, DeliveryStatus, Webhook};
use crate::store::{Docs, Store};
use futures::StreamExt;
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Events looked at per webhook and round.
const QUEUE_BATCH: u32 = 1_000;

/// Deliveries taken per round.
const DUE_BATCH: u32 = 256;

/// Least time between two rounds.
const MIN_GAP: Duration = Duration::from_millis(100);

/// Runs until the process ends.
pub async fn run(store: Arc<dyn Store>, settings: WebhookSettings) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ringmaster/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the webhook client: no webhook is sent");
            return;
        }
    };
    let mut notices = store.event_notices();
    let poll = Duration::from_millis(settings.poll_ms.max(10));
    loop {
        let busy = match round(store.as_ref(), &client, &settings).await {
            Ok(busy) => busy,
            Err(e) => {
                tracing::warn!(error = %e, "webhook deliveries: the store failed; trying again");
                false
            }
        };
        if busy {
            continue;
        }
        // Under load a commit records events every few ms: one round per `MIN_GAP` at most.
        tokio::time::sleep(MIN_GAP.min(poll)).await;
        tokio::select! {
            changed = notices.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(poll).await;
                }
            }
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// One pass: queue, then send what is due. Whether more is due at once.
async fn round(
    store: &dyn Store,
    client: &reqwest::Client,
    settings: &WebhookSettings,
) -> Result<bool, crate::store::StoreError> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let webhooks: HashMap<Uuid, Webhook> = Docs(store)
        .with_status::<Webhook>("active")
        .await?
        .into_iter()
        .map(|w| (w.id, w))
        .collect();
    for w in webhooks.values() {
        store.queue_deliveries(w, QUEUE_BATCH, now_ms).await?;
    }
    let due = store.due_deliveries(now_ms, DUE_BATCH).await?;
    let full = due.len() == DUE_BATCH as usize;
    let webhooks = &webhooks;
    // A webhook whose endpoint failed in this round has its other deliveries put off rather
    // than tried: a dead endpoint costs a round one timeout, not one per delivery, and its
    // backlog does not crowd out the other webhooks' deliveries.
    let failing = &std::sync::Mutex::new(std::collections::HashSet::new());
    futures::stream::iter(due)
        .for_each_concurrent(settings.concurrent.max(1), |d| async move {
            let put_off = failing
                .lock()
                .map(|f| f.contains(&d.webhook_id))
                .unwrap_or(false);
            let d = if put_off {
                let mut d = d;
                d.next_at = chrono::Utc::now().timestamp_millis()
                    + i64::try_from(settings.first_retry_ms).unwrap_or(i64::MAX / 2);
                d
            } else {
                let d = attempt(client, webhooks.get(&d.webhook_id), d, settings).await;
                if d.status != DeliveryStatus::Delivered {
                    if let Ok(mut f) = failing.lock() {
                        f.insert(d.webhook_id);
                    }
                }
                d
            };
            if let Err(e) = store.record_attempt(&d).await {
                tracing::warn!(error = %e, delivery = %d.id, "cannot record a webhook delivery");
            }
        })
        .await;
    Ok(full)
}

/// POSTs `d` to its webhook; returns it as it stands after.
async fn attempt(
    client: &reqwest::Client,
    webhook: Option<&Webhook>,
    mut d: Delivery,
    settings: &WebhookSettings,
) -> Delivery {
    d.tm_update = now_string();
    let Some(webhook) = webhook else {
        d.status = DeliveryStatus::Failed;
        d.next_at = 0;
        d.error = "the webhook is deleted or disabled".into();
        return d;
    };
    d.attempts = d.attempts.saturating_add(1);
    let t = chrono::Utc::now().timestamp();
    let sent = client
        .post(&webhook.uri)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            signature::HEADER,
            signature::header(&webhook.secret, t, d.body.as_bytes()),
        )
        .header("X-Ringmaster-Event-Id", d.event_id.to_string())
        .header("X-Ringmaster-Event-Type", d.event_type.as_str())
        .body(d.body.clone())
        .send()
        .await;
    let failure = match sent {
        Ok(r) if r.status().is_success() => {
            d.status_code = Some(r.status().as_u16());
            None
        }
        Ok(r) => {
            d.status_code = Some(r.status().as_u16());
            Some(format!("the endpoint answered {}", r.status()))
        }
        Err(e) => {
            d.status_code = None;
            Some(if e.is_timeout() {
                "no answer in time".to_string()
            } else {
                format!("cannot reach the endpoint: {e}")
            })
        }
    };
    match failure {
        None => {
            d.status = DeliveryStatus::Delivered;
            d.next_at = 0;
            d.error.clear();
        }
        Some(error) if backoff::exhausted(d.attempts, settings) => {
            tracing::warn!(webhook = %webhook.id, event = d.event_id, %error, "webhook delivery failed: no attempt left");
            d.status = DeliveryStatus::Failed;
            d.next_at = 0;
            d.error = error;
        }
        Some(error) => {
            let jitter = rand::thread_rng().gen::<f64>();
            let pause = backoff::retry_after(d.attempts, settings, jitter);
            tracing::debug!(webhook = %webhook.id, event = d.event_id, %error, ?pause, "webhook delivery failed: trying again");
            d.next_at = chrono::Utc::now().timestamp_millis() + pause.as_millis() as i64;
            d.error = error;
        }
    }
    d
}
