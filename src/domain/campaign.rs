//! Campaign: the orchestrator of one outbound operation, and the flow actions it runs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Created, or stopped: nothing dials.
    Stop,
    /// Dialing.
    Run,
    /// No new dials; waits for the calls in flight, then `stop`.
    Stopping,
    /// Every target is done and `end_handle` was `stop`.
    Finished,
    /// Asked to run before its `scheduled_at`: it starts itself then.
    Scheduled,
}

impl CampaignStatus {
    /// Database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Stop => "stop",
            CampaignStatus::Run => "run",
            CampaignStatus::Stopping => "stopping",
            CampaignStatus::Finished => "finished",
            CampaignStatus::Scheduled => "scheduled",
        }
    }

    /// Parses a status as requests write it: VoIPBIN's `run`/`stop` and the seed overview's
    /// `running`.
    pub fn parse(s: &str) -> Option<CampaignStatus> {
        match s {
            "stop" => Some(CampaignStatus::Stop),
            "run" | "running" => Some(CampaignStatus::Run),
            "stopping" => Some(CampaignStatus::Stopping),
            "finished" => Some(CampaignStatus::Finished),
            "scheduled" => Some(CampaignStatus::Scheduled),
            _ => None,
        }
    }
}

/// What a campaign does when no target is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndHandle {
    /// Finish.
    Stop,
    /// Keep watching the outdial for new targets.
    Continue,
}

/// How a campaign with a queue paces its dials against its agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DialMode {
    /// One call in progress (not yet connected to an agent) per available agent.
    Progressive,
    /// `service_level` percent of the available agents in progress (100: one each, 200: two).
    #[default]
    Power,
    /// As many calls as the measured answer rate, answer times and handle times say will
    /// find an agent freeing up, under the abandon-rate cap.
    Predictive,
}

impl DialMode {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DialMode::Progressive => "progressive",
            DialMode::Power => "power",
            DialMode::Predictive => "predictive",
        }
    }
}

/// The abandon-rate cap a campaign gets when it names none, in percent.
pub const DEFAULT_ABANDON_RATE_CAP: f64 = 3.0;

fn default_abandon_rate_cap() -> f64 {
    DEFAULT_ABANDON_RATE_CAP
}

/// How long a call rings, at least, before predictive pacing may take it back (cancel it
/// unanswered), in seconds, when a campaign names none: the 15 s US rules (TCPA) ask for.
pub const DEFAULT_MIN_RING_S: u32 = 15;

/// The range a campaign's `min_ring_s` may take besides 0 (never take a call back).
pub const MIN_RING_S_RANGE: std::ops::RangeInclusive<u32> = 15..=120;

fn default_min_ring_s() -> u32 {
    DEFAULT_MIN_RING_S
}

/// `call` dials each target; `flow` runs the actions with no call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignType {
    /// Dial each target and run the actions after answer.
    Call,
    /// Run the actions without a call.
    Flow,
}

/// One step of a flow: `{id, next_id, type, option}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Action {
    /// Its id (nil when the flow does not jump to it).
    #[serde(default)]
    pub id: Uuid,
    /// The action after this one (nil: the next in the list).
    #[serde(default)]
    pub next_id: Uuid,
    /// `talk`, `play`, `sleep`, `hangup`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The action's options.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub option: serde_json::Value,
}

/// `/campaigns` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Campaign {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// `call` or `flow`.
    #[serde(rename = "type")]
    pub kind: CampaignType,
    /// Name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
    /// Where it stands.
    pub status: CampaignStatus,
    /// Outstanding calls allowed per available agent, in percent (queue campaigns only).
    pub service_level: u32,
    /// What to do when no target is left.
    pub end_handle: EndHandle,
    /// Actions run on each answered call.
    pub actions: Vec<Action>,
    /// How to dial.
    pub outplan_id: Uuid,
    /// Whom to dial.
    pub outdial_id: Uuid,
    /// The agent queue answered calls join (nil: none).
    pub queue_id: Uuid,
    /// The campaign started when this one finishes (nil: none).
    pub next_campaign_id: Uuid,
    /// A flow whose actions are used when `actions` is empty (nil: none).
    pub flow_id: Uuid,
    /// ringmaster adds: the trunk to dial through (empty: the first configured).
    pub trunk: String,
    /// ringmaster adds: most simultaneous calls of this campaign (0: the trunk's limit).
    pub max_concurrent: u32,
    /// ringmaster adds: do-not-call lists checked before each dial, besides the customer's
    /// default list, which always applies.
    #[serde(default)]
    pub dnclist_ids: Vec<Uuid>,
    /// ringmaster adds: a run requested before this instant waits for it (`scheduled`).
    #[serde(default)]
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// ringmaster adds: the campaign stops dialing at this instant.
    #[serde(default)]
    pub end_at: Option<chrono::DateTime<chrono::Utc>>,
    /// ringmaster adds: why the campaign last stopped by itself (`end_at`), or what it waits
    /// for (`scheduled_at`); empty otherwise.
    #[serde(default)]
    pub status_reason: String,
    /// ringmaster adds: how dials are paced against the queue's agents.
    #[serde(default)]
    pub dial_mode: DialMode,
    /// ringmaster adds: the most abandoned calls (answered, no agent within the safe-harbour
    /// time), in percent of answered calls over the rolling window, predictive pacing allows.
    #[serde(default = "default_abandon_rate_cap")]
    pub abandon_rate_cap: f64,
    /// ringmaster adds: predictive pacing may take back (CANCEL) a call that has rung at least
    /// this many seconds when no agent is predicted free for it (0: never).
    #[serde(default = "default_min_ring_s")]
    pub min_ring_s: u32,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

impl Campaign {
    /// A new campaign of `customer` with VoIPBIN's defaults: a `call` campaign in `stop`, created
    /// now, with nothing to dial yet.
    pub fn new(customer: Uuid) -> Campaign {
        Campaign {
            id: Uuid::new_v4(),
            customer_id: customer,
            kind: CampaignType::Call,
            name: String::new(),
            detail: String::new(),
            status: CampaignStatus::Stop,
            service_level: 100,
            end_handle: EndHandle::Stop,
            actions: Vec::new(),
            outplan_id: Uuid::nil(),
            outdial_id: Uuid::nil(),
            queue_id: Uuid::nil(),
            next_campaign_id: Uuid::nil(),
            flow_id: Uuid::nil(),
            trunk: String::new(),
            max_concurrent: 0,
            dnclist_ids: Vec::new(),
            scheduled_at: None,
            end_at: None,
            status_reason: String::new(),
            dial_mode: Default::default(),
            abandon_rate_cap: DEFAULT_ABANDON_RATE_CAP,
            min_ring_s: DEFAULT_MIN_RING_S,
            tm_create: crate::domain::time::now_string(),
            tm_update: crate::domain::time::NEVER.into(),
            tm_delete: crate::domain::time::NEVER.into(),
        }
    }
}
