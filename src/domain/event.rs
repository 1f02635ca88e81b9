//! Events: what a tenant can watch on `/events` and receive through webhooks. Each is one
//! change of one resource, named as VoIPBIN names its events (`campaigncall_updated`, …).

use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// The kinds of event, a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A campaign was created.
    CampaignCreated,
    /// A campaign changed (its status, its settings).
    CampaignUpdated,
    /// A campaign was deleted.
    CampaignDeleted,
    /// An attempt began (`dialing`).
    CampaigncallCreated,
    /// An attempt was answered (`progressing`) or ended (`done`, with its disposition).
    CampaigncallUpdated,
    /// An agent's state changed (offline, available, ringing, busy, wrap-up).
    AgentUpdated,
    /// A queue's calls changed (one joined, was served or abandoned).
    QueueUpdated,
    /// A trunk went up or down.
    TrunkUpdated,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 8] = [
        EventType::CampaignCreated,
        EventType::CampaignUpdated,
        EventType::CampaignDeleted,
        EventType::CampaigncallCreated,
        EventType::CampaigncallUpdated,
        EventType::AgentUpdated,
        EventType::QueueUpdated,
        EventType::TrunkUpdated,
    ];

    /// Its name, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CampaignCreated => "campaign_created",
            EventType::CampaignUpdated => "campaign_updated",
            EventType::CampaignDeleted => "campaign_deleted",
            EventType::CampaigncallCreated => "campaigncall_created",
            EventType::CampaigncallUpdated => "campaigncall_updated",
            EventType::AgentUpdated => "agent_updated",
            EventType::QueueUpdated => "queue_updated",
            EventType::TrunkUpdated => "trunk_updated",
        }
    }

    /// The type named `name`, if any.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The kind of resource it is about (`campaign`, `campaigncall`, `agent`, `queue`,
    /// `trunk`): the name before the last `_`.
    pub fn resource(self) -> &'static str {
        let name = self.as_str();
        name.rsplit_once('_').map_or(name, |(r, _)| r)
    }
}

/// The kinds of resource events are about.
pub const RESOURCES: [&str; 5] = ["campaign", "campaigncall", "agent", "queue", "trunk"];

/// An event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The tenant who sees it (nil for the node's own resources, such as trunks: every
    /// tenant sees those).
    pub customer_id: Uuid,
    /// What happened.
    pub kind: EventType,
    /// The resource's id (a trunk's name for trunks).
    pub resource_id: String,
    /// The resource's API representation after the change, as JSON.
    pub data: String,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// Its position in the stream (the SSE id): grows with every event.
    pub id: i64,
    /// The tenant.
    pub customer_id: Uuid,
    /// Its type's name.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource's id.
    pub resource_id: String,
    /// The resource's API representation after the change.
    pub data: serde_json::Value,
    /// When it was recorded.
    pub tm_create: String,
}

/// Where changes that are not stored otherwise (an agent's, a queue's or a trunk's state)
/// are recorded as events: the store's writer, which commits them with its next batch.
pub trait EventSink: Send + Sync {
    /// Records `event` without waiting for it to be committed.
    fn record(&self, event: NewEvent);
}

/// A sink set once, when the node wires its parts (none in tests that need no events).
#[derive(Default)]
pub struct Sink(OnceLock<Arc<dyn EventSink>>);

impl Sink {
    /// Sends later events to `sink` (a second call changes nothing).
    pub fn set(&self, sink: Arc<dyn EventSink>) {
        let _ = self.0.set(sink);
    }

    /// Records the event `make` builds, if there is a sink (built only then).
    pub fn record(&self, make: impl FnOnce() -> NewEvent) {
        if let Some(sink) = self.0.get() {
            sink.record(make());
        }
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Sink(set)"
        } else {
            "Sink(none)"
        })
    }
}

/// A sink that keeps what it is told, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct Recorded(pub std::sync::Mutex<Vec<NewEvent>>);

#[cfg(test)]
impl Recorded {
    /// The types recorded so far.
    pub fn types(&self) -> Vec<EventType> {
        self.0
            .lock()
            .map(|e| e.iter().map(|e| e.kind).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
impl EventSink for Recorded {
    fn record(&self, event: NewEvent) {
        if let Ok(mut e) = self.0.lock() {
            e.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_back_from_its_name_and_names_its_resource() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert!(RESOURCES.contains(&t.resource()), "{t:?}");
        }
        assert_eq!(EventType::CampaigncallCreated.resource(), "campaigncall");
        assert_eq!(EventType::parse("campaigncall_deleted"), None);
    }
}
