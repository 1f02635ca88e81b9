//! `/flows`: named lists of actions a campaign can run through its `flow_id`. Actions are
//! validated like a campaign's (a 400 names the action: `actions[3].option.target_id: ...`).

use super::auth::Customer;
use super::documents::{self, ensure_unused, owned, referenced, save};
use super::error::ApiError;
use super::fields::{Fields, Known, Write, READ_ONLY};
use super::ApiState;
use crate::domain::flow::FLOW_TYPE;
use crate::domain::time::{now_string, NEVER};
use crate::domain::Flow;
use crate::flow;
use actix_web::{web, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

/// The fields a flow body may carry.
pub(super) const FIELDS: Known = Known {
    writable: &["name", "detail", "type", "actions", "on_complete_flow_id"],
    read_only: &READ_ONLY,
};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/flows")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/flows/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    );
}

documents::list_and_get!(Flow, "flows", "List flows", "Get a flow");

/// A new, empty flow.
fn new_flow(customer: Uuid) -> Flow {
    Flow {
        id: Uuid::new_v4(),
        customer_id: customer,
        kind: FLOW_TYPE.into(),
        name: String::new(),
        detail: String::new(),
        actions: Vec::new(),
        on_complete_flow_id: Uuid::nil(),
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    }
}

/// Applies the fields the body carries.
async fn apply(state: &ApiState, flow: &mut Flow, f: &Fields) -> Result<(), ApiError> {
    if let Some(v) = f.string("name")? {
        flow.name = v;
    }
    if let Some(v) = f.string("detail")? {
        flow.detail = v;
    }
    if let Some(v) = f.string("type")? {
        if v != FLOW_TYPE {
            return Err(ApiError::invalid(
                "type",
                format!("must be {FLOW_TYPE:?}, the only flow type ringmaster runs"),
            ));
        }
    }
    if let Some(v) = f.raw("actions") {
        flow.actions = flow::parse_actions("actions", v)?;
    }
    if let Some(id) = f.uuid("on_complete_flow_id")? {
        if id == flow.id {
            return Err(ApiError::invalid(
                "on_complete_flow_id",
                "must not be the flow itself",
            ));
        }
        if !id.is_nil() {
            referenced::<Flow>(state, flow.customer_id, "on_complete_flow_id", id).await?;
        }
        flow.on_complete_flow_id = id;
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1.0/flows",
    tag = "flows",
    summary = "Create a flow",
    request_body = super::bodies::FlowInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Flow),
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
    let mut flow = new_flow(customer);
    apply(&state, &mut flow, &f).await?;
    save(&state, &flow).await?;
    Ok(HttpResponse::Ok().json(flow))
}

#[utoipa::path(
    put,
    path = "/v1.0/flows/{id}",
    tag = "flows",
    summary = "Update a flow (fields given)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::FlowInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Flow),
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
    let mut flow = owned::<Flow>(&state, customer, *id).await?;
    apply(&state, &mut flow, &f).await?;
    documents::save_updated(&state, flow).await
}

/// A flow a running or stopping campaign uses, or a queue plays to its waiting calls, cannot
/// be deleted (409).
#[utoipa::path(
    delete,
    path = "/v1.0/flows/{id}",
    tag = "flows",
    summary = "Delete a flow (soft; 409 while a running campaign uses it or a queue's wait_flow_id names it)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Flow),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let flow = owned::<Flow>(&state, customer, *id).await?;
    ensure_unused(&state, customer, "flow", |c| c.flow_id == flow.id).await?;
    super::queues::ensure_no_queue_waits_with(&state, customer, flow.id).await?;
    documents::delete(&state, flow).await
}
