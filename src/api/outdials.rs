//! `/outdials`: named lists of targets (the targets themselves are in `targets.rs`), and
//! `POST /outdials/{id}/reset`, which makes every done target idle again with no try counted
//! so that a campaign can dial the list anew.

use super::auth::Customer;
use super::documents::{self, ensure_unused, owned, referenced, save};
use super::error::ApiError;
use super::fields::{text, Fields, Known, Write, READ_ONLY};
use super::limits::MAX_DATA;
use super::ApiState;
use crate::domain::time::{now_string, NEVER};
use crate::domain::{Campaign, Outdial};
use actix_web::{web, HttpResponse};

use serde_json::Value;
use uuid::Uuid;

/// The fields an outdial body may carry.
pub(super) const FIELDS: Known = Known {
    writable: &["name", "detail", "data", "campaign_id"],
    read_only: &READ_ONLY,
};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/outdials")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/outdials/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(web::resource("/outdials/{id}/reset").route(web::post().to(reset)));
}

documents::list_and_get!(Outdial, "outdials", "List outdials", "Get an outdial");

/// Applies the fields the body carries. `data` is free-form: a string is kept, anything else
/// is kept as its JSON text; either is at most `MAX_DATA` bytes.
async fn apply(state: &ApiState, outdial: &mut Outdial, f: &Fields) -> Result<(), ApiError> {
    if let Some(v) = f.string("name")? {
        outdial.name = v;
    }
    if let Some(v) = f.string("detail")? {
        outdial.detail = v;
    }
    if let Some(v) = f.raw("data") {
        let data = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        outdial.data = text("data", &data, MAX_DATA)?.to_string();
    }
    if let Some(id) = f.uuid("campaign_id")? {
        if !id.is_nil() {
            referenced::<Campaign>(state, outdial.customer_id, "campaign_id", id).await?;
        }
        outdial.campaign_id = id;
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1.0/outdials",
    tag = "outdials",
    summary = "Create an outdial",
    request_body = super::bodies::OutdialInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Outdial),
        super::answers::ResourceErrors,
    )
)]
async fn create(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(FIELDS, Write::Create)?;
    let mut outdial = Outdial {
        id: Uuid::new_v4(),
        customer_id: customer,
        campaign_id: Uuid::nil(),
        name: String::new(),
        detail: String::new(),
        data: String::new(),
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    };
    apply(&state, &mut outdial, &f).await?;
    save(&state, &outdial).await?;
    Ok(HttpResponse::Ok().json(outdial))
}

#[utoipa::path(
    put,
    path = "/v1.0/outdials/{id}",
    tag = "outdials",
    summary = "Update an outdial (fields given)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::OutdialInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Outdial),
        super::answers::ResourceErrors,
    )
)]
async fn update(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(FIELDS, Write::Update)?;
    let mut outdial = owned::<Outdial>(&state, customer, *id).await?;
    apply(&state, &mut outdial, &f).await?;
    documents::save_updated(&state, outdial).await
}

/// Every done target back to idle with its try counts at zero; 409 while a running or
/// stopping campaign dials the outdial. Answers `{"reset": <targets reset>}`.
#[utoipa::path(
    post,
    path = "/v1.0/outdials/{id}/reset",
    tag = "outdials",
    summary = "Put every done target of the outdial back to idle with no try counted (ringmaster adds)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "How many targets were reset", body = Reset),
        super::answers::ReadErrors,
        super::answers::Conflict,
    )
)]
async fn reset(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let outdial = owned::<Outdial>(&state, customer, *id).await?;
    ensure_unused(&state, customer, "outdial", |c| c.outdial_id == outdial.id).await?;
    let reset = state.store.reset_targets(outdial.id, &now_string()).await?;
    tracing::info!(outdial = %outdial.id, targets = reset, "outdial reset");
    Ok(HttpResponse::Ok().json(Reset { reset }))
}

/// The answer to `POST /outdials/{id}/reset`.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Reset {
    /// How many targets were made idle again.
    reset: u64,
}

#[utoipa::path(
    delete,
    path = "/v1.0/outdials/{id}",
    tag = "outdials",
    summary = "Delete an outdial (soft)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Outdial),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let outdial = owned::<Outdial>(&state, customer, *id).await?;
    ensure_unused(&state, customer, "outdial", |c| c.outdial_id == outdial.id).await?;
    documents::delete(&state, outdial).await
}
