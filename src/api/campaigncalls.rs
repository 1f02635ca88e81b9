//! `/campaigncalls`: the dial attempts, read only (the dialing engine writes them). Lists take
//! `?digits=1` to keep the calls whose flow collected exactly those digits, `?disposition=busy`
//! and `?agent_id=<uuid>`; the filters combine.

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::paging::Paging;
use super::ApiState;
use crate::domain::{Campaign, Disposition};
use crate::store::CallFilter;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigncalls").route(web::get().to(list)))
        .service(web::resource("/campaigncalls/{id}").route(web::get().to(get)))
        .service(web::resource("/campaigns/{id}/campaigncalls").route(web::get().to(of_campaign)));
}

/// The filters of a list (other query parameters are paging and the token); an empty
/// `disposition` or `agent_id` is no filter (as an empty select of a form sends it).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Wanted {
    /// only the calls whose flow collected exactly these digits
    digits: Option<String>,
    /// only the calls that ended with this disposition (empty: no filter)
    #[param(value_type = Option<crate::domain::Disposition>)]
    disposition: Option<String>,
    /// only the calls this agent took from a queue (empty: no filter)
    #[param(value_type = Option<Uuid>)]
    agent_id: Option<String>,
}

impl Wanted {
    /// The store's filter for these, or a 400 naming the parameter that does not parse.
    fn filter(self, campaign: Option<Uuid>) -> Result<CallFilter, ApiError> {
        let given = |v: Option<String>| v.filter(|v| !v.is_empty());
        let disposition = given(self.disposition)
            .map(|d| {
                Disposition::from_name(&d).ok_or_else(|| {
                    let known: Vec<&str> = Disposition::ALL.iter().map(|d| d.as_str()).collect();
                    ApiError::invalid(
                        "disposition",
                        format!("unknown disposition {d:?}; one of {}", known.join(", ")),
                    )
                })
            })
            .transpose()?;
        let agent = given(self.agent_id)
            .map(|a| {
                Uuid::parse_str(&a)
                    .map_err(|_| ApiError::invalid("agent_id", format!("{a:?} is not a UUID")))
            })
            .transpose()?;
        Ok(CallFilter {
            campaign,
            digits: self.digits,
            disposition,
            agent,
        })
    }
}

async fn listed(
    state: &ApiState,
    customer: Uuid,
    wanted: Wanted,
    page: &crate::store::Page,
) -> Result<HttpResponse, ApiError> {
    let filter = wanted.filter(None)?;
    let listed = state
        .store
        .list_campaigncalls(customer, &filter, page)
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

#[utoipa::path(
    get,
    path = "/v1.0/campaigncalls",
    tag = "campaigncalls",
    summary = "List dial attempts",
    params(
        Wanted,
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Campaigncall>),
        super::answers::ResourceErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
    wanted: web::Query<Wanted>,
) -> Result<HttpResponse, ApiError> {
    listed(&state, customer, wanted.into_inner(), &page).await
}

#[utoipa::path(
    get,
    path = "/v1.0/campaigncalls/{id}",
    tag = "campaigncalls",
    summary = "Get a dial attempt",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Campaigncall),
        super::answers::ResourceErrors,
    )
)]
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

#[utoipa::path(
    get,
    path = "/v1.0/campaigns/{id}/campaigncalls",
    tag = "campaigncalls",
    summary = "List a campaign's dial attempts",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        Wanted,
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Campaigncall>),
        super::answers::ResourceErrors,
    )
)]
async fn of_campaign(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    Paging(page): Paging,
    wanted: web::Query<Wanted>,
) -> Result<HttpResponse, ApiError> {
    // The store answers only a live campaign's calls; an empty page is either a campaign with
    // no call (yet) or none of the customer's, which the lookup tells apart.
    let filter = wanted.into_inner().filter(Some(*id))?;
    let listed = state
        .store
        .list_campaigncalls(customer, &filter, &page)
        .await?;
    if listed.result.is_empty() {
        owned::<Campaign>(&state, customer, *id).await?;
    }
    Ok(HttpResponse::Ok().json(listed))
}
