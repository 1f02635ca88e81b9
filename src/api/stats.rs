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

async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    Ok(HttpResponse::Ok().json(campaign_stats(state.store.as_ref(), &campaign).await?))
}
