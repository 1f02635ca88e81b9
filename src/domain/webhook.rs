//! Webhooks: a tenant's HTTP endpoints that receive its events, signed with a secret.

use super::event::EventType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `/webhooks` resource, as stored (with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// Where events are POSTed (`http` or `https`).
    pub uri: String,
    /// The event types sent (empty: every type).
    pub event_types: Vec<EventType>,
    /// The HMAC-SHA256 key deliveries are signed with; only the answer to the webhook's
    /// creation shows it.
    #[schema(required = false)]
    pub secret: String,
    /// Whether events are sent.
    pub status: WebhookStatus,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

impl Webhook {
    /// Whether events of type `t` go to it.
    pub fn wants(&self, t: EventType) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&t)
    }
}

/// Whether a webhook is sent events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Events are queued and sent.
    Active,
    /// Nothing is queued for it (its outbox keeps what was queued before).
    Disabled,
}

impl WebhookStatus {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet accepted: tried again at `next_at`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// Its name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One event for one webhook, in its outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Its id.
    pub id: Uuid,
    /// The webhook.
    pub webhook_id: Uuid,
    /// The event (the `X-Ringmaster-Event-Id` sent).
    pub event_id: i64,
    /// The event's type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// POSTs made.
    pub attempts: u32,
    /// When the next POST is due (unix ms; 0 once delivered or failed).
    pub next_at: i64,
    /// The HTTP status of the last POST, if one answered.
    pub status_code: Option<u16>,
    /// Why the last POST failed (empty once delivered).
    pub error: String,
    /// Queued.
    pub tm_create: String,
    /// Last attempted.
    pub tm_update: String,
    /// The JSON body POSTed (not shown in the API).
    #[serde(skip)]
    pub body: String,
}
