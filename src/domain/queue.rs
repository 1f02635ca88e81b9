//! Queue: where answered calls wait for an agent, and how an agent is chosen.

use super::Action;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a queue picks the agent to offer a waiting call to.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMethod {
    /// Any available agent, at random (VoIPBIN's).
    #[default]
    Random,
    /// The next agent after the last one offered, in a fixed order.
    RoundRobin,
    /// The agent whose last call ended longest ago.
    LongestIdle,
    /// The agent with the least talk time.
    LeastTalkTime,
    /// The agent who handled the fewest calls.
    FewestCalls,
    /// Every available agent at once; the first to answer takes the call.
    RingAll,
}

impl RoutingMethod {
    /// Every method, in the order the documentation lists them.
    pub const ALL: [RoutingMethod; 6] = [
        RoutingMethod::Random,
        RoutingMethod::RoundRobin,
        RoutingMethod::LongestIdle,
        RoutingMethod::LeastTalkTime,
        RoutingMethod::FewestCalls,
        RoutingMethod::RingAll,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingMethod::Random => "random",
            RoutingMethod::RoundRobin => "round_robin",
            RoutingMethod::LongestIdle => "longest_idle",
            RoutingMethod::LeastTalkTime => "least_talk_time",
            RoutingMethod::FewestCalls => "fewest_calls",
            RoutingMethod::RingAll => "ring_all",
        }
    }

    /// The method named `name`.
    pub fn parse(name: &str) -> Option<RoutingMethod> {
        RoutingMethod::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// A queue's counters since it was created (or changes to add to them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueCounts {
    /// Calls that joined.
    pub incoming: u64,
    /// Calls an agent answered.
    pub serviced: u64,
    /// Calls that left unanswered.
    pub abandoned: u64,
    /// Waits of the calls that left the waiting list (answered or abandoned), summed, in ms.
    pub wait_ms: u64,
    /// Answers within the queue's service-level time.
    pub answered_in_time: u64,
}

impl QueueCounts {
    /// Whether there is nothing to add.
    pub fn is_zero(&self) -> bool {
        *self == QueueCounts::default()
    }
}

/// How long an agent's phone rings unless the queue says.
pub const DEFAULT_RING_TIMEOUT_MS: u64 = 15_000;
/// The service-level time unless the queue says.
pub const DEFAULT_SERVICE_LEVEL_MS: u64 = 20_000;

/// `/queues` resource as stored (the answers add the live `wait_queuecall_ids` and
/// `service_queuecall_ids`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Queue {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// How an agent is chosen.
    pub routing_method: RoutingMethod,
    /// An agent serves the queue when it carries every one of these tags.
    pub tag_ids: Vec<Uuid>,
    /// A flow whose actions a waiting call hears (nil: none, or `wait_actions`).
    pub wait_flow_id: Uuid,
    /// The actions a waiting call hears, when there is no `wait_flow_id`.
    pub wait_actions: Vec<Action>,
    /// How long a call may wait for an agent, in ms (0: no limit); then it is abandoned.
    pub wait_timeout: u64,
    /// How long a call may be served by an agent, in ms (0: no limit).
    pub service_timeout: u64,
    /// ringmaster adds: how long an agent rests after a call of this queue, in ms.
    pub wrap_up_time: u64,
    /// ringmaster adds: how long an agent's phone rings before the offer moves on, in ms
    /// (0: [`DEFAULT_RING_TIMEOUT_MS`]).
    #[serde(default)]
    pub ring_timeout: u64,
    /// ringmaster adds: an agent answering within this many ms of the join counts toward the
    /// service level (0: [`DEFAULT_SERVICE_LEVEL_MS`]).
    #[serde(default)]
    pub service_level_time: u64,
    /// ringmaster adds: each round of the wait flow starts with "you are caller number N".
    #[serde(default)]
    pub wait_announce_position: bool,
    /// Calls that joined the queue.
    pub total_incoming_count: u64,
    /// Calls an agent answered.
    pub total_serviced_count: u64,
    /// Calls that left before an agent answered.
    pub total_abandoned_count: u64,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

impl Queue {
    /// How long an agent's phone rings before the offer moves on.
    pub fn ring_time(&self) -> std::time::Duration {
        let ms = match self.ring_timeout {
            0 => DEFAULT_RING_TIMEOUT_MS,
            ms => ms,
        };
        std::time::Duration::from_millis(ms)
    }

    /// The answer time that counts toward the service level.
    pub fn service_level(&self) -> std::time::Duration {
        let ms = match self.service_level_time {
            0 => DEFAULT_SERVICE_LEVEL_MS,
            ms => ms,
        };
        std::time::Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_methods_read_back_their_wire_names() {
        for m in RoutingMethod::ALL {
            assert_eq!(RoutingMethod::parse(m.as_str()), Some(m));
            let json = serde_json::to_value(m).map_err(|e| e.to_string());
            assert_eq!(json, Ok(serde_json::Value::from(m.as_str())));
        }
        assert_eq!(RoutingMethod::parse("longest"), None);
        assert_eq!(RoutingMethod::parse(""), None);
    }
}
