//! `/campaigns` and VoIPBIN's `PUT` sub-resources `service_level`, `actions` and
//! `next_campaign_id`. A `PUT` on the campaign may also carry `status` (see
//! `campaign_status.rs`).

use super::auth::Customer;
use super::campaign_fields;
use super::campaign_status::{self, parse_requested, store_and_notify};
use super::documents::{self, owned, save};
use super::error::ApiError;
use super::fields::{Fields, Known, Write};
use super::health::CampaignView;
use super::paging::Paging;
use super::ApiState;
use crate::domain::{Campaign, CampaignStatus};
use actix_web::{web, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/campaigns")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/campaigns/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(web::resource("/campaigns/{id}/service_level").route(web::put().to(put_service_level)))
    .service(web::resource("/campaigns/{id}/actions").route(web::put().to(put_actions)))
    .service(
        web::resource("/campaigns/{id}/next_campaign_id")
            .route(web::put().to(put_next_campaign_id)),
    );
}

#[utoipa::path(
    get,
    path = "/v1.0/campaigns",
    tag = "campaigns",
    summary = "List campaigns",
    params(
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Campaign>),
        super::answers::ResourceErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    customer: Customer,
    paging: Paging,
) -> Result<HttpResponse, ApiError> {
    documents::list::<Campaign>(state, customer, paging).await
}

/// `GET /campaigns/{id}`: the campaign, and whether it is dialing (`paused`,
/// `paused_reason`).
#[utoipa::path(
    get,
    path = "/v1.0/campaigns/{id}",
    tag = "campaigns",
    summary = "Get a campaign",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = super::health::CampaignView),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    Ok(HttpResponse::Ok().json(CampaignView::new(&state, campaign)))
}

#[utoipa::path(
    post,
    path = "/v1.0/campaigns",
    tag = "campaigns",
    summary = "Create a campaign (status stop)",
    request_body = super::bodies::CampaignInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
    )
)]
async fn create(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(campaign_fields::CREATE, Write::Create)?;
    let mut campaign = Campaign::new(customer);
    campaign_fields::apply(&state, &mut campaign, &f).await?;
    save(&state, &campaign).await?;
    Ok(HttpResponse::Ok().json(campaign))
}

#[utoipa::path(
    put,
    path = "/v1.0/campaigns/{id}",
    tag = "campaigns",
    summary = "Update a campaign (fields given; status run/running/stop starts or stops it)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::CampaignUpdate,
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn update(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(campaign_fields::UPDATE, Write::Update)?;
    let requested = f
        .string("status")?
        .map(|s| parse_requested(&s))
        .transpose()?;
    let mut campaign = owned::<Campaign>(&state, customer, *id).await?;
    campaign_fields::apply(&state, &mut campaign, &f).await?;
    let changed = match requested {
        Some(r) => campaign_status::request(&state, &mut campaign, r).await?,
        None => None,
    };
    store_and_notify(&state, campaign, changed).await
}

/// A `PUT /campaigns/{id}/<field>` sub-resource: the body must carry that field and nothing
/// else (400 naming any other).
async fn put_field(
    state: &ApiState,
    customer: Uuid,
    id: Uuid,
    body: Value,
    field: &str,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body)?;
    f.only(
        Known {
            writable: &[field],
            read_only: &[],
        },
        Write::Update,
    )?;
    let only = Fields::of(serde_json::Map::from_iter([(
        field.to_string(),
        f.require(field)?.clone(),
    )]));
    let mut campaign = owned::<Campaign>(state, customer, id).await?;
    campaign_fields::apply(state, &mut campaign, &only).await?;
    documents::save_updated(state, campaign).await
}

#[utoipa::path(
    put,
    path = "/v1.0/campaigns/{id}/service_level",
    tag = "campaigns",
    summary = "Set the service level",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::CampaignServiceLevelRequest,
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
    )
)]
async fn put_service_level(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    put_field(&state, customer, *id, body.into_inner(), "service_level").await
}

#[utoipa::path(
    put,
    path = "/v1.0/campaigns/{id}/actions",
    tag = "campaigns",
    summary = "Replace the actions",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::CampaignActionsRequest,
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
    )
)]
async fn put_actions(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    put_field(&state, customer, *id, body.into_inner(), "actions").await
}

#[utoipa::path(
    put,
    path = "/v1.0/campaigns/{id}/next_campaign_id",
    tag = "campaigns",
    summary = "Set the campaign started after this one (\"\" clears)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::CampaignNextCampaignIdRequest,
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
    )
)]
async fn put_next_campaign_id(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    put_field(&state, customer, *id, body.into_inner(), "next_campaign_id").await
}

/// Only a campaign that is not dialing (`stop` or `finished`) can be deleted.
#[utoipa::path(
    delete,
    path = "/v1.0/campaigns/{id}",
    tag = "campaigns",
    summary = "Delete a campaign (soft; only in stop or finished)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaign),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    if !matches!(
        campaign.status,
        CampaignStatus::Stop | CampaignStatus::Finished
    ) {
        return Err(ApiError::Conflict(format!(
            "campaign is {}: stop it before deleting it",
            campaign.status.as_str()
        )));
    }
    documents::delete(&state, campaign).await
}
