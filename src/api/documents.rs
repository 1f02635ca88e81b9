//! What every configuration resource (outplan, outdial, campaign, flow, queue) shares: loading the
//! customer's own document (404 otherwise), checking a reference a body names (400 naming the
//! field), listing, stamping and soft-deleting.

use super::auth::Customer;
use super::error::ApiError;
use super::paging::Paging;
use super::ApiState;
use crate::domain::time::now_string;
use crate::domain::{Campaign, CampaignStatus, Dnclist, Flow, Outdial, Outplan, Queue};
use crate::store::Document;
use actix_web::{web, HttpResponse};
use uuid::Uuid;

/// A document with VoIPBIN's `tm_update` and `tm_delete`.
pub trait Stamped: Document {
    /// Sets `tm_update`.
    fn touch(&mut self, now: &str);
    /// Sets `tm_delete` (and `tm_update`): the document is deleted from then on.
    fn mark_deleted(&mut self, now: &str);
}

macro_rules! stamped {
    ($($t:ty),*) => {$(
        impl Stamped for $t {
            fn touch(&mut self, now: &str) {
                self.tm_update = now.to_string();
            }
            fn mark_deleted(&mut self, now: &str) {
                self.tm_update = now.to_string();
                self.tm_delete = now.to_string();
            }
        }
    )*};
}
// Not agents: their documents hold password hashes and are answered through a view.
stamped!(Outplan, Outdial, Campaign, Flow, Queue, Dnclist);

/// The customer's live document `id`, or 404.
pub async fn owned<D: Document>(state: &ApiState, customer: Uuid, id: Uuid) -> Result<D, ApiError> {
    state
        .docs()
        .get::<D>(Some(customer), id)
        .await?
        .ok_or_else(|| ApiError::not_found(D::KIND.as_str()))
}

/// The customer's live document that the body field `field` names, or a 400 naming the field.
pub async fn referenced<D: Document>(
    state: &ApiState,
    customer: Uuid,
    field: &str,
    id: Uuid,
) -> Result<D, ApiError> {
    state
        .docs()
        .get::<D>(Some(customer), id)
        .await?
        .ok_or_else(|| ApiError::invalid(field, format!("no {} {id}", D::KIND.as_str())))
}

/// Stores a document.
pub async fn save<D: Document>(state: &ApiState, doc: &D) -> Result<(), ApiError> {
    state.docs().put(doc).await.map_err(ApiError::from)
}

/// Stores a changed document with a fresh `tm_update` and answers it.
pub async fn save_updated<D: Stamped>(
    state: &ApiState,
    mut doc: D,
) -> Result<HttpResponse, ApiError> {
    doc.touch(&now_string());
    save(state, &doc).await?;
    Ok(HttpResponse::Ok().json(&doc))
}

/// `GET /<resources>`: a page of the customer's live documents.
pub async fn list<D: Document>(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let listed = state.docs().list::<D>(customer, &page).await?;
    Ok(HttpResponse::Ok().json(listed))
}

/// `GET /<resources>/{id}`.
pub async fn get<D: Document>(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let doc = owned::<D>(&state, customer, *id).await?;
    Ok(HttpResponse::Ok().json(doc))
}

/// Defines a resource module's `list` and `get` handlers, with their OpenAPI descriptions, for
/// a document answered as stored: `list_and_get!(Flow, "flows", "List flows", "Get a flow")`.
macro_rules! list_and_get {
    ($doc:ident, $resources:tt, $list_summary:tt, $get_summary:tt) => {
        #[utoipa::path(
                    get,
                    path = concat!("/v1.0/", $resources),
                    tag = $resources,
                    summary = $list_summary,
                    params(
                        super::paging::PageParams,
                    ),
                    responses(
                        (status = 200, description = "OK", body = crate::store::Listed<$doc>),
                        super::answers::ResourceErrors,
                    )
                )]
        async fn list(
            state: actix_web::web::Data<super::ApiState>,
            customer: super::auth::Customer,
            paging: super::paging::Paging,
        ) -> Result<actix_web::HttpResponse, super::error::ApiError> {
            super::documents::list::<$doc>(state, customer, paging).await
        }

        #[utoipa::path(
                    get,
                    path = concat!("/v1.0/", $resources, "/{id}"),
                    tag = $resources,
                    summary = $get_summary,
                    params(
                        ("id" = uuid::Uuid, Path, description = "The resource's id"),
                    ),
                    responses(
                        (status = 200, description = "OK", body = $doc),
                        super::answers::ResourceErrors,
                    )
                )]
        async fn get(
            state: actix_web::web::Data<super::ApiState>,
            customer: super::auth::Customer,
            id: actix_web::web::Path<uuid::Uuid>,
        ) -> Result<actix_web::HttpResponse, super::error::ApiError> {
            super::documents::get::<$doc>(state, customer, id).await
        }
    };
}
pub(super) use list_and_get;

/// `DELETE /<resources>/{id}` once the caller has checked it is allowed: a soft delete that
/// answers the deleted document.
pub async fn delete<D: Stamped>(state: &ApiState, mut doc: D) -> Result<HttpResponse, ApiError> {
    doc.mark_deleted(&now_string());
    save(state, &doc).await?;
    Ok(HttpResponse::Ok().json(&doc))
}

/// 409 when one of the customer's running or stopping campaigns uses the resource.
pub async fn ensure_unused(
    state: &ApiState,
    customer: Uuid,
    kind: &str,
    uses: impl Fn(&Campaign) -> bool,
) -> Result<(), ApiError> {
    for status in [CampaignStatus::Run, CampaignStatus::Stopping] {
        let campaigns = state
            .docs()
            .with_status::<Campaign>(status.as_str())
            .await?;
        if let Some(c) = campaigns
            .iter()
            .find(|c| c.customer_id == customer && uses(c))
        {
            return Err(ApiError::Conflict(format!(
                "{kind} is used by campaign {} which is {}: stop it first",
                c.id,
                status.as_str()
            )));
        }
    }
    Ok(())
}
