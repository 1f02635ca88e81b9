//! `GET /health` (no token): whether the store can write, each trunk's state and how many
//! campaigns run; 503 while the store cannot write, so that a load balancer or a monitor sees
//! it. Also what a running campaign's `paused_reason` says.

use super::error::ApiError;
use super::ApiState;
use crate::domain::{Campaign, CampaignStatus};
use crate::health::HealthReport;
use crate::store::Docs;
use actix_web::{http::StatusCode, web, HttpResponse};
use serde::Serialize;
use std::time::Instant;

/// Registers the route (at the root, beside `/v1.0`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(get)));
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    #[serde(flatten)]
    node: HealthReport,
    /// Campaigns in `run` (whether they are dialing now or paused).
    campaigns_running: usize,
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    summary = "Whether the node can dial: the store, each trunk, campaigns running (no token)",
    security(()),
    responses(
        (status = 200, description = "The store can write", body = Health),
        (status = 503, description = "The store cannot write (same body)", body = Health),
    )
)]
async fn get(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let node = state.health.report(Instant::now());
    let running = Docs(state.store.as_ref())
        .with_status::<Campaign>(CampaignStatus::Run.as_str())
        .await?
        .len();
    let code = if node.store.writable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(HttpResponse::build(code).json(Health {
        node,
        campaigns_running: running,
    }))
}

/// Why a campaign in `run` places no call now (empty when it may, or when it is not running).
pub fn paused_reason(state: &ApiState, campaign: &Campaign) -> String {
    if campaign.status != CampaignStatus::Run {
        return String::new();
    }
    state
        .health
        .dialing_held(&campaign.trunk, Instant::now())
        .unwrap_or_default()
}

/// A campaign as the API shows it: the stored document, and whether it is dialing.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    #[serde(flatten)]
    campaign: Campaign,
    /// Whether a campaign in `run` places no call now.
    paused: bool,
    /// Why (the store cannot write, its trunk is down), empty when dialing.
    paused_reason: String,
}

impl CampaignView {
    /// The view of `campaign` now.
    pub fn new(state: &ApiState, mut campaign: Campaign) -> CampaignView {
        let paused_reason = paused_reason(state, &campaign);
        // A running campaign's reason is its last look at its limits (the abandon cap, no
        // agent free, ...), unless it is winding down for a stored reason (`end_at`).
        if campaign.status == crate::domain::CampaignStatus::Run
            && campaign.status_reason.is_empty()
        {
            if let Some(tick) = state.live.campaigns.get(campaign.id) {
                campaign.status_reason = tick.reason().to_string();
            }
        }
        CampaignView {
            campaign,
            paused: !paused_reason.is_empty(),
            paused_reason,
        }
    }
}
