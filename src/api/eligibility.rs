//! `GET /campaigns/{id}/eligibility`: "why isn't it dialing?" — the campaign's waiting targets
//! counted by what they wait for.
//!
//! Exact, from the store at the request's instant: `scheduled` (every waiting target of a
//! campaign whose `scheduled_at` is ahead), `outside_window` (due targets whose call window is
//! closed now, and targets the dialer set aside until their window's next opening),
//! `retry_interval` (targets whose next try is not due yet) and `dnc` (targets the campaign
//! ended because their number is on a do-not-call list; they wait for nothing, but are
//! counted here). Approximate, from the running campaign's last look at its limits (every
//! 10 ms): the due targets inside their window wait for `concurrency`, `cps`, `no_agent`,
//! `trunk_down` or `store_unwritable` when that look was held back by it, and count as
//! `dialable_now` otherwise. A campaign that is not running dials its `dialable_now` targets
//! once it runs.

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::ApiState;
use crate::campaign::board::Held;
use crate::campaign::window;
use crate::domain::{Campaign, CampaignStatus, Outplan};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigns/{id}/eligibility").route(web::get().to(get)));
}

/// The answer.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
struct Eligibility {
    campaign_id: Uuid,
    status: &'static str,
    /// When the counts were taken (on the campaigns' clock), RFC 3339.
    at: String,
    /// Due, inside their window, and not held back by any limit.
    dialable_now: u64,
    /// Being dialed now.
    dialing: u64,
    outside_window: u64,
    retry_interval: u64,
    dnc: u64,
    concurrency: u64,
    cps: u64,
    no_agent: u64,
    trunk_down: u64,
    store_unwritable: u64,
    scheduled: u64,
    /// A running predictive campaign's pace: `measuring`, `predicted`, `tapered` (nearing
    /// its abandon cap) or `abandon_rate_cap` (one call per available agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pace: Option<crate::campaign::predictive::Pace>,
    /// A running campaign with a queue: answered calls of its abandon window and how many
    /// were abandoned.
    #[serde(skip_serializing_if = "Option::is_none")]
    abandon_window: Option<AbandonWindow>,
}

/// The abandon rate's rolling window as the running campaign counts it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AbandonWindow {
    answered: u64,
    abandoned: u64,
    /// Percent of answered calls; 0 with none.
    rate: f64,
}

#[utoipa::path(
    get,
    path = "/v1.0/campaigns/{id}/eligibility",
    tag = "campaigns",
    summary = "Why a campaign's targets wait: counts by reason",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = Eligibility),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    let outplan = state
        .docs()
        .get::<Outplan>(Some(customer), campaign.outplan_id)
        .await?;
    let now = state.live.clock.now();
    let now_ms = now.timestamp_millis();
    let waiting = state
        .store
        .waiting_targets(campaign.outdial_id, now_ms)
        .await?;
    let counts = state
        .store
        .count_targets(campaign.outdial_id, now_ms)
        .await?;
    let calls = state.store.call_counts(campaign.id).await?;
    let mut e = Eligibility {
        campaign_id: campaign.id,
        status: campaign.status.as_str(),
        at: now.to_rfc3339(),
        dialing: counts.dialing,
        dnc: calls.dispositions.get("dnc").copied().unwrap_or(0),
        ..Eligibility::default()
    };
    let due: u64 = waiting.due_by_zones.iter().map(|(_, n)| n).sum();
    if campaign.status == CampaignStatus::Scheduled {
        e.scheduled = due + waiting.window + waiting.retry;
        return Ok(HttpResponse::Ok().json(e));
    }
    e.retry_interval = waiting.retry;
    e.outside_window = waiting.window;
    let default_zones: Vec<chrono_tz::Tz> = outplan
        .as_ref()
        .and_then(|o| o.timezone.parse().ok())
        .into_iter()
        .collect();
    let mut inside = due;
    if let Some(w) = outplan.as_ref().and_then(|o| o.call_window.as_ref()) {
        for (names, n) in &waiting.due_by_zones {
            let zones: Vec<chrono_tz::Tz> =
                names.split(',').filter_map(|z| z.parse().ok()).collect();
            let zones = if zones.is_empty() {
                &default_zones
            } else {
                &zones
            };
            if !window::is_open(w, zones, now) {
                e.outside_window += n;
                inside -= n;
            }
        }
    }
    let tick = match campaign.status {
        CampaignStatus::Run => state.live.campaigns.get(campaign.id),
        _ => None,
    };
    let held = tick.map_or(Held::Nothing, |t| t.held);
    if let Some(t) = tick.filter(|_| !campaign.queue_id.is_nil()) {
        let (answered, abandoned) = t.abandon_window;
        e.pace = t.pace;
        e.abandon_window = Some(AbandonWindow {
            answered,
            abandoned,
            rate: if answered == 0 {
                0.0
            } else {
                100.0 * abandoned as f64 / answered as f64
            },
        });
    }
    let slot = match held {
        Held::Nothing => &mut e.dialable_now,
        Held::Concurrency => &mut e.concurrency,
        Held::Cps => &mut e.cps,
        Held::NoAgent => &mut e.no_agent,
        Held::TrunkDown => &mut e.trunk_down,
        Held::StoreUnwritable => &mut e.store_unwritable,
    };
    *slot = inside;
    Ok(HttpResponse::Ok().json(e))
}
