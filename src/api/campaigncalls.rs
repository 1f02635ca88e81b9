//! `/campaigncalls`: the dial attempts, read only (the dialing engine writes them).

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::paging::Paging;
use super::ApiState;
use crate::domain::Campaign;
use actix_web::{web, HttpResponse};
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigncalls").route(web::get().to(list)))
        .service(web::resource("/campaigncalls/{id}").route(web::get().to(get)))
        .service(web::resource("/campaigns/{id}/campaigncalls").route(web::get().to(of_campaign)));
}

async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let listed = state
        .store
        .list_campaigncalls(customer, None, &page)
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let call = state
        .store
        .get_campaigncall(customer, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("campaigncall"))?;
    Ok(HttpResponse::Ok().json(call))
}

async fn of_campaign(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    let listed = state
        .store
        .list_campaigncalls(customer, Some(campaign.id), &page)
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}
