//! Campaigncall: one dial attempt of a campaign, with its precise outcome.

use super::{Address, Disposition, HangupBy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// The INVITE is out, no answer yet.
    Dialing,
    /// Answered, the flow is running.
    Progressing,
    /// Over.
    Done,
}

impl CallStatus {
    /// Database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Dialing => "dialing",
            CallStatus::Progressing => "progressing",
            CallStatus::Done => "done",
        }
    }

    /// Parses the database name.
    pub fn parse(s: &str) -> Option<CallStatus> {
        match s {
            "dialing" => Some(CallStatus::Dialing),
            "progressing" => Some(CallStatus::Progressing),
            "done" => Some(CallStatus::Done),
            _ => None,
        }
    }
}

/// `/campaigncalls` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Campaigncall {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// The campaign.
    pub campaign_id: Uuid,
    /// The outplan used.
    pub outplan_id: Uuid,
    /// The outdial of the target.
    pub outdial_id: Uuid,
    /// The target dialed.
    pub outdial_target_id: Uuid,
    /// The queue (nil: none).
    pub queue_id: Uuid,
    /// `none` or `call`.
    pub reference_type: String,
    /// The SIP Call-ID as a reference.
    pub reference_id: String,
    /// ringmaster adds: the SIP Call-ID of the attempt's INVITE, recorded before it is sent
    /// (match an attempt to a carrier's trace by it).
    #[serde(default)]
    pub sip_call_id: String,
    /// Where it stands.
    pub status: CallStatus,
    /// `""` while not done, then `success` (answered) or `fail`.
    pub result: String,
    /// Caller id.
    pub source: Address,
    /// ringmaster adds: the caller id this attempt's INVITE carried (picked from the
    /// outplan's `sources`, or its `source`).
    #[serde(default)]
    pub caller_id: String,
    /// Who was dialed.
    pub destination: Address,
    /// The destination slot dialed.
    pub destination_index: u32,
    /// Which try of that slot this is (1-based).
    pub try_count: u32,
    /// ringmaster adds: what became of it (`null` while in flight).
    pub disposition: Option<Disposition>,
    /// ringmaster adds: final SIP status of the INVITE.
    pub sip_code: Option<u16>,
    /// ringmaster adds: reason phrase or what we gave up on.
    pub reason: String,
    /// ringmaster adds: who hung up an answered call.
    pub hangup_by: Option<HangupBy>,
    /// ringmaster adds: INVITE → final response, ms.
    pub setup_ms: u64,
    /// ringmaster adds: answer → hang-up, ms.
    pub talk_ms: u64,
    /// ringmaster adds: what the flow did on the call, `{"actions": [{"id", "type", "result",
    /// ...}], "digits": "1", "variables": {...}}` (`null` until the attempt ends, or when no
    /// flow ran).
    #[serde(default)]
    pub flow_result: Option<serde_json::Value>,
    /// ringmaster adds: the agent who took the call from a queue (`null`: none did).
    #[serde(default)]
    pub agent_id: Option<Uuid>,
    /// ringmaster adds: how long the call waited in the queue until an agent was connected,
    /// ms (`null` when no agent took it).
    #[serde(default)]
    pub wait_ms: Option<u64>,
    /// ringmaster adds: what the flow's last `amd` action found, `human`, `machine` or
    /// `notsure` (`null`: no `amd` ran to its end).
    #[serde(default)]
    pub amd_result: Option<String>,
    /// Created (the INVITE went out just after).
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted.
    pub tm_delete: String,
}

impl Campaigncall {
    /// The SIP Call-ID of the attempt `id`: its id in hex, so that it is unique and known
    /// before the INVITE is built.
    pub fn sip_call_id_of(id: Uuid) -> String {
        id.simple().to_string()
    }

    /// A new attempt of `campaign` at a target, `dialing` slot `slot` (`destination`) for the
    /// `try_count`th time, created `at`.
    pub fn dialing(
        campaign: &super::Campaign,
        outplan: &super::Outplan,
        target_id: Uuid,
        destination: &Address,
        slot: usize,
        try_count: u32,
        at: &str,
    ) -> Campaigncall {
        // Time-ordered (v7): each new attempt lands at the end of the campaigncalls id index
        // instead of at a random page of it.
        let id = Uuid::now_v7();
        Campaigncall {
            id,
            customer_id: campaign.customer_id,
            campaign_id: campaign.id,
            outplan_id: outplan.id,
            outdial_id: campaign.outdial_id,
            outdial_target_id: target_id,
            queue_id: campaign.queue_id,
            reference_type: "call".into(),
            reference_id: String::new(),
            sip_call_id: Campaigncall::sip_call_id_of(id),
            status: CallStatus::Dialing,
            result: String::new(),
            source: outplan.source.clone(),
            caller_id: outplan.source.kind.target(),
            destination: destination.clone(),
            destination_index: slot as u32,
            try_count,
            disposition: None,
            sip_code: None,
            reason: String::new(),
            hangup_by: None,
            setup_ms: 0,
            talk_ms: 0,
            flow_result: None,
            agent_id: None,
            wait_ms: None,
            amd_result: None,
            tm_create: at.to_string(),
            tm_update: at.to_string(),
            tm_delete: super::time::NEVER.to_string(),
        }
    }
}
