//! The request bodies as the OpenAPI document describes them. The handlers read bodies field
//! by field (see `fields.rs`), so these types are never built: they only give the document its
//! request schemas, and `openapi.rs` checks their fields against the ones the handlers take.

#![allow(dead_code)]

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The body of a request that writes an Outplan.
#[derive(Deserialize, ToSchema)]
pub struct OutplanInput {
    pub name: Option<String>,
    pub detail: Option<String>,
    pub source: Option<crate::domain::Address>,
    /// ms, default 30000
    #[schema(minimum = 1000, maximum = 600000)]
    pub dial_timeout: Option<i64>,
    /// ms, default 60000
    #[schema(minimum = 0)]
    pub try_interval: Option<i64>,
    /// default 1
    #[schema(minimum = 0, maximum = 100)]
    pub max_try_count_0: Option<i64>,
    /// default 0
    #[schema(minimum = 0, maximum = 100)]
    pub max_try_count_1: Option<i64>,
    /// default 0
    #[schema(minimum = 0, maximum = 100)]
    pub max_try_count_2: Option<i64>,
    /// default 0
    #[schema(minimum = 0, maximum = 100)]
    pub max_try_count_3: Option<i64>,
    /// default 0
    #[schema(minimum = 0, maximum = 100)]
    pub max_try_count_4: Option<i64>,
    /// ringmaster adds; default busy, no_answer, failed, unknown; answered, invalid_number and unauthorized are not retryable
    pub retry_dispositions: Option<Vec<RetryDisposition>>,
    /// ringmaster adds; default 1.0
    #[schema(minimum = 1.0, maximum = 10.0)]
    pub backoff: Option<f64>,
    /// do-not-call lists checked before each dial, besides the customer's default list, which always applies
    #[schema(max_items = 20)]
    pub dnclist_ids: Option<Vec<Uuid>>,
    pub call_window: Option<crate::domain::call_window::CallWindowText>,
    /// IANA zone of callees with none of their own (empty: UTC)
    pub timezone: Option<String>,
    /// caller ids to pick from for each call (empty: source)
    #[schema(max_items = 1000)]
    pub sources: Option<Vec<crate::domain::Address>>,
    pub source_strategy: Option<crate::domain::SourceStrategy>,
    /// local times retries are moved to, in the callee's zone
    #[schema(max_items = 24)]
    pub retry_at: Option<Vec<String>>,
}

/// The body of a request that writes an Outdial.
#[derive(Deserialize, ToSchema)]
pub struct OutdialInput {
    pub name: Option<String>,
    pub detail: Option<String>,
    /// free-form
    pub data: Option<String>,
    pub campaign_id: Option<Uuid>,
}

/// The body of a request that writes a Target.
#[derive(Deserialize, ToSchema)]
pub struct TargetInput {
    pub name: Option<String>,
    pub detail: Option<String>,
    /// an object, or a string (a JSON object string is that object; other text is kept as {"data": text})
    pub data: Option<serde_json::Value>,
    /// required
    pub destination_0: Option<serde_json::Value>,
    /// optional
    pub destination_1: Option<serde_json::Value>,
    /// optional
    pub destination_2: Option<serde_json::Value>,
    /// optional
    pub destination_3: Option<serde_json::Value>,
    /// optional
    pub destination_4: Option<serde_json::Value>,
    /// the callee's IANA zone (empty: derived from destination_0)
    pub timezone: Option<String>,
}

/// Declares a body that writes a campaign: the campaign's writable fields, then `$extra`.
macro_rules! campaign_body {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        #[derive(Deserialize, ToSchema)]
        $(#[$meta])*
        pub struct $name {
            pub name: Option<String>,
            pub detail: Option<String>,
            /// call (default); flow campaigns are refused (400) until they are supported
            #[serde(rename = "type")]
            pub kind: Option<CampaignInputType>,
            /// percent, default 100
            #[schema(minimum = 0, maximum = 1000)]
            pub service_level: Option<i64>,
            /// default stop
            pub end_handle: Option<crate::domain::EndHandle>,
            pub actions: Option<Vec<crate::domain::Action>>,
            /// required for call
            pub outplan_id: Option<Uuid>,
            /// required for call
            pub outdial_id: Option<Uuid>,
            /// a queue of the customer (400 otherwise); stored, dialing does not use it yet
            pub queue_id: Option<Uuid>,
            /// must exist if given
            pub next_campaign_id: Option<Uuid>,
            /// a flow of the customer, run when actions is empty
            pub flow_id: Option<Uuid>,
            /// accepted and not stored (the outplan's source is the caller id)
            pub source: Option<serde_json::Value>,
            /// ringmaster adds: a configured trunk name
            pub trunk: Option<String>,
            /// ringmaster adds: 0 = the trunk's limit
            #[schema(minimum = 0)]
            pub max_concurrent: Option<i64>,
            /// do-not-call lists checked before each dial, besides the customer's default list, which always applies
            #[schema(max_items = 20)]
            pub dnclist_ids: Option<Vec<Uuid>>,
            /// a run requested before it waits as scheduled
            pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
            /// the campaign stops dialing then
            pub end_at: Option<chrono::DateTime<chrono::Utc>>,
            /// ringmaster adds: how dials are paced against the queue's agents (default power)
            pub dial_mode: Option<crate::domain::DialMode>,
            /// ringmaster adds: percent of answered calls predictive pacing may abandon over its rolling window (default 3)
            #[schema(minimum = 0, maximum = 100)]
            pub abandon_rate_cap: Option<f64>,
            /// ringmaster adds: seconds a call rings, at least, before predictive pacing may cancel it unanswered when no agent is predicted for it: 0 (never) or 15 to 120 (default 15)
            pub min_ring_s: Option<u32>,
            $($extra)*
        }
    };
}

campaign_body! {
    /// The body of a request that writes a Campaign.
    #[serde(deny_unknown_fields)]
    CampaignInput {}
}

campaign_body! {
    /// The body of `PUT /campaigns/{id}`: the fields to change, and a status to start or stop it.
    /// The read-only fields of an answer may be sent back; they are ignored.
    CampaignUpdate {
        /// `run` (or `running`) starts the campaign, `stop` stops it.
        pub status: Option<StatusRequestStatus>,
    }
}

/// The body of a request that writes a StatusRequest.
#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    /// running is accepted for run
    pub status: Option<StatusRequestStatus>,
}

/// The body of a request that writes a Flow.
#[derive(Deserialize, ToSchema)]
pub struct FlowInput {
    pub name: Option<String>,
    pub detail: Option<String>,
    /// default flow
    #[serde(rename = "type")]
    pub kind: Option<FlowInputType>,
    pub actions: Option<Vec<crate::domain::Action>>,
    /// another flow of the customer; stored, not run yet
    pub on_complete_flow_id: Option<Uuid>,
}

/// The body of a request that writes an Agent.
#[derive(Deserialize, ToSchema)]
pub struct AgentInput {
    /// the SIP user the agent's softphone registers as; unique on the node (409 when taken); required on create
    pub username: Option<String>,
    /// 1 to 128 bytes; stored only as digest HA1 hashes (MD5, SHA-256) for [sip] realm, never answered; required on create and with a new username
    pub password: Option<String>,
    pub name: Option<String>,
    pub detail: Option<String>,
    /// ringall (default): every registered contact at once; linear: one after another
    pub ring_method: Option<crate::domain::RingMethod>,
    /// VoIPBIN's permission bits; stored, not enforced
    #[schema(minimum = 0)]
    pub permission: Option<i64>,
    #[schema(max_items = 64)]
    pub tag_ids: Option<Vec<Uuid>>,
    /// tel or sip addresses the agent may also be reached at
    #[schema(max_items = 16)]
    pub addresses: Option<Vec<crate::domain::Address>>,
}

/// The body of a request that writes an AgentStatusRequest.
#[derive(Deserialize, ToSchema)]
pub struct AgentStatusRequest {
    pub status: AgentStatusRequestStatus,
}

/// The body of a request that writes a Queue.
#[derive(Deserialize, ToSchema)]
pub struct QueueInput {
    pub name: Option<String>,
    pub detail: Option<String>,
    /// default random
    pub routing_method: Option<crate::domain::RoutingMethod>,
    /// an agent serves the queue when it carries every one of these tags
    #[schema(max_items = 64)]
    pub tag_ids: Option<Vec<Uuid>>,
    /// a flow of the customer whose actions a waiting call hears; not with wait_actions
    pub wait_flow_id: Option<Uuid>,
    /// validated like a flow's; not with wait_flow_id
    pub wait_actions: Option<Vec<crate::domain::Action>>,
    /// ms a call may wait for an agent, then abandoned; 0: no limit
    #[schema(minimum = 0, maximum = 86400000)]
    pub wait_timeout: Option<i64>,
    /// ms an agent may serve a call; 0: no limit
    #[schema(minimum = 0, maximum = 86400000)]
    pub service_timeout: Option<i64>,
    /// ringmaster adds: ms an agent rests after a call of this queue
    #[schema(minimum = 0, maximum = 3600000)]
    pub wrap_up_time: Option<i64>,
    /// ringmaster adds: ms an agent's phone rings before the offer moves on; 0: 15000
    #[schema(minimum = 0, maximum = 300000)]
    pub ring_timeout: Option<i64>,
    /// ringmaster adds: an answer within this many ms of the join counts toward the service level; 0: 20000
    #[schema(minimum = 0, maximum = 86400000)]
    pub service_level_time: Option<i64>,
    /// ringmaster adds: each round of the wait flow opens with the call's place in line
    pub wait_announce_position: Option<bool>,
    /// VoIPBIN's create-body name of wait_timeout; not with it
    #[schema(minimum = 0, maximum = 86400000)]
    pub timeout_wait: Option<i64>,
    /// VoIPBIN's create-body name of service_timeout; not with it
    #[schema(minimum = 0, maximum = 86400000)]
    pub timeout_service: Option<i64>,
}

/// The body of a request that writes a Dnclist.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DnclistInput {
    pub name: Option<String>,
    pub detail: Option<String>,
}

/// The body of a request that writes a DncNumber.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DncNumberInput {
    /// E.164, or national in the server's default region
    pub number: String,
    /// "2030-01-31 00:00:00" (UTC) or RFC 3339; absent: never
    pub expire_at: Option<String>,
    /// default import
    pub source: Option<crate::domain::DncSource>,
}

/// The body of a request that writes a Webhook.
#[derive(Deserialize, ToSchema)]
pub struct WebhookInput {
    pub name: Option<String>,
    pub detail: Option<String>,
    /// http or https; required on create
    pub uri: Option<String>,
    /// Types sent; empty: all
    pub event_types: Option<Vec<crate::domain::EventType>>,
    pub status: Option<crate::domain::WebhookStatus>,
}

/// The body of `PUT /campaigns/{id}/service_level`.
#[derive(Deserialize, ToSchema)]
pub struct CampaignServiceLevelRequest {
    #[schema(minimum = 0, maximum = 1000)]
    pub service_level: i64,
}

/// The body of `PUT /campaigns/{id}/actions`.
#[derive(Deserialize, ToSchema)]
pub struct CampaignActionsRequest {
    pub actions: Vec<crate::domain::Action>,
}

/// The body of `PUT /campaigns/{id}/next_campaign_id`.
#[derive(Deserialize, ToSchema)]
pub struct CampaignNextCampaignIdRequest {
    pub next_campaign_id: Uuid,
}

/// The body of `PUT /agents/{id}/addresses`.
#[derive(Deserialize, ToSchema)]
pub struct AgentAddressesRequest {
    /// tel or sip addresses the agent may also be reached at
    #[schema(max_items = 16)]
    pub addresses: Vec<crate::domain::Address>,
}

/// The body of `PUT /agents/{id}/tag_ids`.
#[derive(Deserialize, ToSchema)]
pub struct AgentTagIdsRequest {
    #[schema(max_items = 64)]
    pub tag_ids: Vec<Uuid>,
}

/// The body of `PUT /agents/{id}/permission`.
#[derive(Deserialize, ToSchema)]
pub struct AgentPermissionRequest {
    /// VoIPBIN's permission bits; stored, not enforced
    #[schema(minimum = 0)]
    pub permission: i64,
}

/// The body of `PUT /agents/{id}/password`.
#[derive(Deserialize, ToSchema)]
pub struct AgentPasswordRequest {
    /// 1 to 128 bytes; stored only as digest HA1 hashes (MD5, SHA-256) for [sip] realm, never answered; required on create and with a new username
    pub password: String,
}

/// The dispositions an outplan may retry (the others are final).
#[derive(Deserialize, ToSchema)]
pub enum RetryDisposition {
    #[serde(rename = "answered")]
    Answered,
    #[serde(rename = "busy")]
    Busy,
    #[serde(rename = "no_answer")]
    NoAnswer,
    #[serde(rename = "rejected")]
    Rejected,
    #[serde(rename = "invalid_number")]
    InvalidNumber,
    #[serde(rename = "unauthorized")]
    Unauthorized,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "cancelled")]
    Cancelled,
    #[serde(rename = "unknown")]
    Unknown,
}

/// The values `CampaignInputType` takes.
#[derive(Deserialize, ToSchema)]
pub enum CampaignInputType {
    #[serde(rename = "call")]
    Call,
}

/// The values `StatusRequestStatus` takes.
#[derive(Deserialize, ToSchema)]
pub enum StatusRequestStatus {
    #[serde(rename = "run")]
    Run,
    #[serde(rename = "running")]
    Running,
    #[serde(rename = "stop")]
    Stop,
}

/// The values `FlowInputType` takes.
#[derive(Deserialize, ToSchema)]
pub enum FlowInputType {
    #[serde(rename = "flow")]
    Flow,
}

/// The values `AgentStatusRequestStatus` takes.
#[derive(Deserialize, ToSchema)]
pub enum AgentStatusRequestStatus {
    #[serde(rename = "available")]
    Available,
    #[serde(rename = "away")]
    Away,
}

/// `POST /outdials/{id}/targets` as JSON: one target, or an array of up to 10,000.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TargetsBody {
    /// One target; the answer is the target.
    One(Box<TargetInput>),
    /// Many targets; the answer is the import report.
    Many(Vec<TargetInput>),
}

/// `POST /outdials/{id}/targets` as `multipart/form-data` (`curl -F file=@contacts.csv`).
#[derive(Deserialize, ToSchema)]
pub struct CsvUpload {
    /// The CSV file: a header row with a `destination` or `phone_number` column;
    /// `destination_1` .. `destination_4`, `name`, `detail`, `timezone`; other columns go to
    /// `data`. Other parts are ignored.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The answer to `POST /outdials/{id}/targets`: the target for one object, the import report
/// for an array or a CSV file.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
pub enum TargetsAnswer {
    /// The target created from one object.
    One(Box<crate::domain::Target>),
    /// What an array or a file imported.
    Many(super::target_rows::ImportReport),
}
