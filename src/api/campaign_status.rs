//! Run and stop requests. Both `PUT /campaigns/{id}/status {"status": "run"|"stop"}`
//! (VoIPBIN) and `PUT /campaigns/{id} {"status": "running"}` (the seed overview) come here.
//!
//! `run` from `stop` or `finished` stores `run` (or `scheduled` while its `scheduled_at` is
//! ahead: the engine runs it then; `stop` cancels that); `stop` from `run` stores `stopping`, and the
//! engine sets `stop` once the calls in flight are over. Asking for the status the campaign
//! already has (or is heading to) changes nothing. The engine is told after the store.
//!
//! A campaign that would finish the moment it starts is refused (409): one with
//! `end_handle: stop` over an outdial with no target left to dial. Its targets are done
//! (reset them with `POST /outdials/{id}/reset`) or there are none.

use super::auth::Customer;
use super::documents::{owned, save_updated};
use super::error::ApiError;
use super::fields::{Fields, Known, Write};
use super::ApiState;
use crate::domain::{Campaign, CampaignStatus, CampaignType, EndHandle, Outdial, Outplan};
use crate::store::Document;
use actix_web::{web, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigns/{id}/status").route(web::put().to(put_status)));
}

/// What a request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// `run` or `running`.
    Run,
    /// `stop`.
    Stop,
}

/// Reads the `status` of a request.
pub fn parse_requested(text: &str) -> Result<Requested, ApiError> {
    match CampaignStatus::parse(text) {
        Some(CampaignStatus::Run) => Ok(Requested::Run),
        Some(CampaignStatus::Stop) => Ok(Requested::Stop),
        Some(other) => Err(ApiError::invalid(
            "status",
            format!("{} cannot be requested; use run or stop", other.as_str()),
        )),
        None => Err(ApiError::invalid(
            "status",
            format!("{text:?} is not a status; use run or stop"),
        )),
    }
}

/// The status a request moves a campaign to; `None` when nothing changes.
pub fn next_status(
    current: CampaignStatus,
    requested: Requested,
) -> Result<Option<CampaignStatus>, ApiError> {
    use CampaignStatus::*;
    match (requested, current) {
        (Requested::Run, Stop | Finished) => Ok(Some(Run)),
        (Requested::Run, Run | Scheduled) => Ok(None),
        (Requested::Run, Stopping) => Err(ApiError::Conflict(
            "status: the campaign is stopping; run it again once it has stopped".into(),
        )),
        (Requested::Stop, Run) => Ok(Some(Stopping)),
        (Requested::Stop, Scheduled) => Ok(Some(Stop)),
        (Requested::Stop, Stop | Stopping | Finished) => Ok(None),
    }
}

/// Applies a request to the campaign in memory, checking that it can start; returns the new
/// status, to be told to the engine once stored.
pub async fn request(
    state: &ApiState,
    c: &mut Campaign,
    requested: Requested,
) -> Result<Option<CampaignStatus>, ApiError> {
    let mut next = next_status(c.status, requested)?;
    if next == Some(CampaignStatus::Run) {
        ensure_startable(state, c).await?;
        let now = state.live.clock.now();
        if c.end_at.is_some_and(|end| end <= now) {
            return Err(ApiError::Conflict(
                "end_at: has passed; set a later end_at (or null) to run the campaign".into(),
            ));
        }
        if c.scheduled_at.is_some_and(|at| at > now) {
            next = Some(CampaignStatus::Scheduled);
        }
    }
    if let Some(status) = next {
        c.status = status;
        c.status_reason = match status {
            CampaignStatus::Scheduled => "scheduled_at".into(),
            _ => String::new(),
        };
    }
    Ok(next)
}

/// A campaign starts only as a `call` campaign, with its outplan and outdial still there, its
/// trunk still configured, and something to dial.
async fn ensure_startable(state: &ApiState, c: &Campaign) -> Result<(), ApiError> {
    if c.kind == CampaignType::Flow {
        return Err(super::campaign_fields::flow_not_supported());
    }
    still_there::<Outplan>(state, c, "outplan_id", c.outplan_id, true).await?;
    still_there::<Outdial>(state, c, "outdial_id", c.outdial_id, true).await?;
    super::campaign_fields::ensure_trunk(state, &c.trunk)?;
    ensure_targets_left(state, c).await
}

/// 409 when the campaign would finish at once: `end_handle: stop` and no target of the
/// outdial waiting or being dialed. (`continue` waits for targets to be added.)
async fn ensure_targets_left(state: &ApiState, c: &Campaign) -> Result<(), ApiError> {
    if c.end_handle == EndHandle::Continue {
        return Ok(());
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let counts = state.store.count_targets(c.outdial_id, now_ms).await?;
    if counts.queued + counts.dialing > 0 {
        return Ok(());
    }
    let done = counts.succeeded + counts.failed;
    let outdial = c.outdial_id;
    Err(ApiError::Conflict(if done == 0 {
        format!("status: outdial {outdial} has no targets; add targets before running the campaign")
    } else {
        format!(
            "status: outdial {outdial} has no target left to dial (all {done} are done); \
             reset them with POST /v1.0/outdials/{outdial}/reset, or add targets, to run again"
        )
    }))
}

async fn still_there<D: Document>(
    state: &ApiState,
    c: &Campaign,
    field: &str,
    id: Uuid,
    required: bool,
) -> Result<(), ApiError> {
    if id.is_nil() {
        return match required {
            true => Err(ApiError::invalid(field, "required to run a call campaign")),
            false => Ok(()),
        };
    }
    match state.docs().get::<D>(Some(c.customer_id), id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid(
            field,
            format!(
                "{} {id} no longer exists; the campaign cannot run",
                D::KIND.as_str()
            ),
        )),
    }
}

/// Stores the campaign and, if its status changed, tells the engine.
pub async fn store_and_notify(
    state: &ApiState,
    c: Campaign,
    changed: Option<CampaignStatus>,
) -> Result<HttpResponse, ApiError> {
    let id = c.id;
    let response = save_updated(state, c).await?;
    if let Some(status) = changed {
        state.control.status_changed(id, status);
    }
    Ok(response)
}

#[utoipa::path(
    put,
    path = "/v1.0/campaigns/{id}/status",
    tag = "campaigns",
    summary = "Start (run) or stop a campaign",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::StatusRequest,
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn put_status(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(
        Known {
            writable: &["status"],
            read_only: &[],
        },
        Write::Update,
    )?;
    let text = f
        .string("status")?
        .ok_or_else(|| ApiError::invalid("status", "required; use run or stop"))?;
    let requested = parse_requested(&text)?;
    let mut campaign = owned::<Campaign>(&state, customer, *id).await?;
    match request(&state, &mut campaign, requested).await? {
        None => Ok(HttpResponse::Ok().json(campaign)),
        changed => store_and_notify(&state, campaign, changed).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignStatus::*;

    fn next(current: CampaignStatus, requested: Requested) -> String {
        match next_status(current, requested) {
            Ok(Some(s)) => s.as_str().into(),
            Ok(None) => "unchanged".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn run_and_stop_move_through_the_documented_states() {
        assert_eq!(next(Stop, Requested::Run), "run");
        assert_eq!(next(Finished, Requested::Run), "run");
        assert_eq!(next(Run, Requested::Stop), "stopping");
        assert_eq!(next(Run, Requested::Run), "unchanged");
        assert_eq!(next(Stop, Requested::Stop), "unchanged");
        assert_eq!(next(Stopping, Requested::Stop), "unchanged");
        assert!(next(Stopping, Requested::Run).starts_with("status: the campaign is stopping"));
    }

    #[test]
    fn only_run_and_stop_can_be_requested() {
        assert_eq!(parse_requested("running").ok(), Some(Requested::Run));
        assert_eq!(parse_requested("run").ok(), Some(Requested::Run));
        assert_eq!(parse_requested("stop").ok(), Some(Requested::Stop));
        let e = parse_requested("finished").map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("status: finished cannot be requested; use run or stop".into())
        );
        let e = parse_requested("go").map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("status: \"go\" is not a status; use run or stop".into())
        );
    }
}
