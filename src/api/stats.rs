//! `GET /campaigns/{id}/stats`: where a campaign's targets stand and what its attempts became.

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::ApiState;
use crate::campaign::stats::campaign_stats;
use crate::domain::Campaign;
use actix_web::{web, HttpResponse};
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigns/{id}/stats").route(web::get().to(get)));
}

#[utoipa::path(
    get,
    path = "/v1.0/campaigns/{id}/stats",
    tag = "campaigns",
    summary = "Figures of a campaign",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = Stats),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    let stats = campaign_stats(state.store.as_ref(), &campaign).await?;
    let paused_reason = super::health::paused_reason(&state, &campaign);
    Ok(HttpResponse::Ok().json(Stats {
        stats,
        paused: !paused_reason.is_empty(),
        paused_reason,
    }))
}

/// The figures, and whether a running campaign is dialing now.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = CampaignStatsView)]
struct Stats {
    #[serde(flatten)]
    stats: crate::campaign::stats::CampaignStats,
    paused: bool,
    paused_reason: String,
}
