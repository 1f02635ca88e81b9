//! A campaign's writable fields: what a create or update body may set, and their checks.
//! Any other field is a 400 naming it (see `fields.rs`); `source` (which the seed overview
//! passes) is accepted and not stored, since the outplan's `source` is the caller id.
//! `type: flow` campaigns (actions with no call) are refused until the engine runs them.

use super::documents::referenced;
use super::error::ApiError;
use super::fields::{Fields, Known, READ_ONLY};
use super::ApiState;
use crate::domain::{
    Campaign, CampaignStatus, CampaignType, DialMode, EndHandle, Flow, Outdial, Outplan, Queue,
};
use crate::flow;

/// Most simultaneous calls a campaign may ask for.
const MAX_CONCURRENT: i64 = 100_000;

/// What a campaign body may set: VoIPBIN's fields, the seed overview's `flow_id` and
/// `source`, and ringmaster's `trunk` and `max_concurrent`.
const WRITABLE: [&str; 20] = [
    "name",
    "detail",
    "type",
    "service_level",
    "end_handle",
    "actions",
    "outplan_id",
    "outdial_id",
    "queue_id",
    "next_campaign_id",
    "flow_id",
    "source",
    "trunk",
    "max_concurrent",
    "dnclist_ids",
    "scheduled_at",
    "end_at",
    "dial_mode",
    "abandon_rate_cap",
    "min_ring_s",
];

/// The read-only fields of a campaign's answers; `status` is set through a `PUT`, never by
/// the create.
const READ_ONLY_FIELDS: [&str; 9] = [
    READ_ONLY[0],
    READ_ONLY[1],
    READ_ONLY[2],
    READ_ONLY[3],
    READ_ONLY[4],
    "status",
    // What a campaign read back says of its dialing (see `GET /campaigns/{id}`).
    "paused",
    "paused_reason",
    "status_reason",
];

/// The fields of `POST /campaigns`.
pub const CREATE: Known = Known {
    writable: &WRITABLE,
    read_only: &READ_ONLY_FIELDS,
};

/// The fields of `PUT /campaigns/{id}`: those of a create, and `status`.
pub const UPDATE: Known = Known {
    writable: &[
        "name",
        "detail",
        "type",
        "service_level",
        "end_handle",
        "actions",
        "outplan_id",
        "outdial_id",
        "queue_id",
        "next_campaign_id",
        "flow_id",
        "source",
        "trunk",
        "max_concurrent",
        "dnclist_ids",
        "scheduled_at",
        "end_at",
        "dial_mode",
        "abandon_rate_cap",
        "min_ring_s",
        "status",
    ],
    read_only: &READ_ONLY_FIELDS,
};

/// The answer to a `type: flow` campaign.
pub fn flow_not_supported() -> ApiError {
    ApiError::invalid("type", "flow campaigns are not supported yet; use call")
}

/// Applies the fields `f` carries to `c`, then checks what a call campaign needs. The fields
/// that decide whom and how it dials (`type`, `outplan_id`, `outdial_id`, `trunk`) cannot
/// change while it runs (409).
pub async fn apply(state: &ApiState, c: &mut Campaign, f: &Fields) -> Result<(), ApiError> {
    let status = c.status;
    let frozen = |field: &str, changes: bool| -> Result<(), ApiError> {
        if changes && matches!(status, CampaignStatus::Run | CampaignStatus::Stopping) {
            return Err(ApiError::Conflict(format!(
                "{field}: cannot change while the campaign is {}",
                status.as_str()
            )));
        }
        Ok(())
    };
    if let Some(v) = f.string("name")? {
        c.name = v;
    }
    if let Some(v) = f.string("detail")? {
        c.detail = v;
    }
    if let Some(v) = f.parse::<CampaignType>("type")? {
        frozen("type", v != c.kind)?;
        c.kind = v;
    }
    if c.kind == CampaignType::Flow {
        return Err(flow_not_supported());
    }
    if let Some(v) = f.int(
        "service_level",
        0..=1000,
        "an integer percent between 0 and 1000",
    )? {
        c.service_level = v as u32;
    }
    if let Some(v) = f.parse::<EndHandle>("end_handle")? {
        c.end_handle = v;
    }
    if let Some(v) = f.raw("actions") {
        c.actions = flow::parse_actions("actions", v)?;
    }
    if let Some(id) = f.uuid("outplan_id")? {
        frozen("outplan_id", id != c.outplan_id)?;
        if !id.is_nil() {
            let plan = referenced::<Outplan>(state, c.customer_id, "outplan_id", id).await?;
            // Outplans are checked when written; one stored before the check is refused here
            // rather than at dial time.
            super::address::dialable("outplan_id: its source", &plan.source)?;
        }
        c.outplan_id = id;
    }
    if let Some(id) = f.uuid("outdial_id")? {
        frozen("outdial_id", id != c.outdial_id)?;
        if !id.is_nil() {
            referenced::<Outdial>(state, c.customer_id, "outdial_id", id).await?;
        }
        c.outdial_id = id;
    }
    if let Some(ids) = super::dnclists::dnclist_ids(state, c.customer_id, f).await? {
        c.dnclist_ids = ids;
    }
    if let Some(id) = f.uuid("queue_id")? {
        // Stored for the queue the answered calls will join; dialing does not use it yet.
        if !id.is_nil() {
            referenced::<Queue>(state, c.customer_id, "queue_id", id).await?;
        }
        c.queue_id = id;
    }
    if let Some(id) = f.uuid("next_campaign_id")? {
        if id == c.id {
            return Err(ApiError::invalid(
                "next_campaign_id",
                "must not be the campaign itself",
            ));
        }
        if !id.is_nil() {
            referenced::<Campaign>(state, c.customer_id, "next_campaign_id", id).await?;
        }
        c.next_campaign_id = id;
    }
    if let Some(id) = f.uuid("flow_id")? {
        if !id.is_nil() {
            referenced::<Flow>(state, c.customer_id, "flow_id", id).await?;
        }
        c.flow_id = id;
    }
    if let Some(v) = f.string("trunk")? {
        frozen("trunk", v != c.trunk)?;
        ensure_trunk(state, &v)?;
        c.trunk = v;
    }
    if let Some(v) = f.int(
        "max_concurrent",
        0..=MAX_CONCURRENT,
        "an integer, 0 (the trunk's limit) or more",
    )? {
        c.max_concurrent = v as u32;
    }
    apply_schedule(c, f)?;
    if let Some(v) = f.parse::<DialMode>("dial_mode")? {
        c.dial_mode = v;
    }
    if let Some(v) = f.float("abandon_rate_cap", 0.0..=100.0)? {
        c.abandon_rate_cap = v;
    }
    let ring = crate::domain::campaign::MIN_RING_S_RANGE;
    if let Some(v) = f.int(
        "min_ring_s",
        0..=i64::from(*ring.end()),
        &format!(
            "0 (never) or an integer from {} to {}",
            ring.start(),
            ring.end()
        ),
    )? {
        if v != 0 && v < i64::from(*ring.start()) {
            return Err(ApiError::invalid(
                "min_ring_s",
                format!(
                    "must be 0 (never) or an integer from {} to {}",
                    ring.start(),
                    ring.end()
                ),
            ));
        }
        c.min_ring_s = v as u32;
    }
    for (field, id) in [("outplan_id", c.outplan_id), ("outdial_id", c.outdial_id)] {
        if id.is_nil() {
            return Err(ApiError::invalid(field, "required for a call campaign"));
        }
    }
    Ok(())
}

/// `scheduled_at` and `end_at` (RFC 3339, `null` clears), which cannot change once the
/// campaign is scheduled or running (stop it first).
fn apply_schedule(c: &mut Campaign, f: &Fields) -> Result<(), ApiError> {
    for field in ["scheduled_at", "end_at"] {
        let value = match f.string(field)? {
            Some(text) => Some(
                chrono::DateTime::parse_from_rfc3339(&text)
                    .map_err(|_| {
                        ApiError::invalid(
                            field,
                            format!("{text:?} is not an RFC 3339 time (e.g. 2026-12-01T09:00:00Z)"),
                        )
                    })?
                    .with_timezone(&chrono::Utc),
            ),
            None if f.is_null(field) => None,
            None => continue,
        };
        let slot = match field {
            "scheduled_at" => &mut c.scheduled_at,
            _ => &mut c.end_at,
        };
        if *slot != value
            && matches!(
                c.status,
                CampaignStatus::Run | CampaignStatus::Stopping | CampaignStatus::Scheduled
            )
        {
            return Err(ApiError::Conflict(format!(
                "{field}: cannot change while the campaign is {}; stop it first",
                c.status.as_str()
            )));
        }
        *slot = value;
    }
    if let (Some(start), Some(end)) = (c.scheduled_at, c.end_at) {
        if end <= start {
            return Err(ApiError::invalid("end_at", "must be after scheduled_at"));
        }
    }
    Ok(())
}

/// A trunk name must be one of the configured trunks (empty: the first configured).
pub fn ensure_trunk(state: &ApiState, trunk: &str) -> Result<(), ApiError> {
    if trunk.is_empty() || state.trunks.iter().any(|t| t == trunk) {
        return Ok(());
    }
    let configured = if state.trunks.is_empty() {
        "none".to_string()
    } else {
        state.trunks.join(", ")
    };
    Err(ApiError::invalid(
        "trunk",
        format!("unknown trunk {trunk:?}; configured: {configured}"),
    ))
}
