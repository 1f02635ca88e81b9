//! `/webhooks`: a tenant's endpoints for its events, and `/webhooks/{id}/deliveries`, the
//! delivery log of its outbox. A webhook's `secret` is made by the server and answered once,
//! by the create; every delivery is signed with it (see `events::signature`).

use super::auth::Customer;
use super::documents::{owned, save};
use super::error::{ApiError, FieldError};
use super::fields::{FieldResult, Fields, Known, Write, READ_ONLY};
use super::paging::Paging;
use super::ApiState;
use crate::domain::time::{now_string, NEVER};
use crate::domain::{EventType, Webhook, WebhookStatus};
use actix_web::{web, HttpResponse};
use rand::RngCore;
use serde_json::Value;
use uuid::Uuid;

/// The fields a webhook body may carry.
pub(super) const FIELDS: Known = Known {
    writable: &["name", "detail", "uri", "event_types", "status"],
    read_only: &[
        "id",
        "customer_id",
        "tm_create",
        "tm_update",
        "tm_delete",
        "secret",
    ],
};

/// Longest `uri`.
const MAX_URI: usize = 2048;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    debug_assert!(READ_ONLY.iter().all(|f| FIELDS.read_only.contains(f)));
    cfg.service(
        web::resource("/webhooks")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/webhooks/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(web::resource("/webhooks/{id}/deliveries").route(web::get().to(deliveries)));
}

/// A webhook as answered: without its secret.
fn view(w: &Webhook) -> Value {
    let mut v = serde_json::to_value(w).unwrap_or(Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.remove("secret");
    }
    v
}

/// `uri`: an absolute `http` or `https` URL with a host.
fn uri(s: &str) -> FieldResult<String> {
    if s.len() > MAX_URI {
        return Err(FieldError::new(
            "uri",
            format!("longer than {MAX_URI} bytes"),
        ));
    }
    let url = reqwest::Url::parse(s)
        .map_err(|e| FieldError::new("uri", format!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new("uri", "must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new("uri", "must name a host"));
    }
    Ok(url.to_string())
}

fn event_types(v: &Value) -> FieldResult<Vec<EventType>> {
    let items = v
        .as_array()
        .ok_or_else(|| FieldError::new("event_types", "must be an array of event types"))?;
    let mut types = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("event_types[{i}]");
        let name = item
            .as_str()
            .ok_or_else(|| FieldError::new(&field, "must be a string"))?;
        let t = EventType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            FieldError::new(
                &field,
                format!("unknown event type {name:?}; one of {}", known.join(", ")),
            )
        })?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    Ok(types)
}

fn apply(w: &mut Webhook, f: &Fields) -> FieldResult<()> {
    if let Some(v) = f.string("name")? {
        w.name = v;
    }
    if let Some(v) = f.string("detail")? {
        w.detail = v;
    }
    if let Some(v) = f.string("uri")? {
        w.uri = uri(&v)?;
    }
    if let Some(v) = f.raw("event_types") {
        w.event_types = event_types(v)?;
    }
    if let Some(v) = f.string("status")? {
        w.status = match v.as_str() {
            "active" => WebhookStatus::Active,
            "disabled" => WebhookStatus::Disabled,
            _ => return Err(FieldError::new("status", "must be active or disabled")),
        };
    }
    Ok(())
}

/// A new secret: 32 random bytes as hex, with a prefix that says what it is.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut s = String::from("whsec_");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[utoipa::path(
    post,
    path = "/v1.0/webhooks",
    tag = "webhooks",
    summary = "Create a webhook (adds); the answer carries its secret, once",
    request_body = super::bodies::WebhookInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Webhook),
        super::answers::QueryErrors,
    )
)]
async fn create(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(FIELDS, Write::Create)?;
    f.require("uri")?;
    let mut w = Webhook {
        id: Uuid::new_v4(),
        customer_id: customer,
        name: String::new(),
        detail: String::new(),
        uri: String::new(),
        event_types: Vec::new(),
        secret: new_secret(),
        status: WebhookStatus::Active,
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    };
    apply(&mut w, &f)?;
    save(&state, &w).await?;
    // The one answer that carries the secret.
    Ok(HttpResponse::Ok().json(&w))
}

#[utoipa::path(
    get,
    path = "/v1.0/webhooks",
    tag = "webhooks",
    summary = "List webhooks (newest first; without their secrets)",
    params(
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Webhook>),
        super::answers::QueryErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let listed = state.docs().list::<Webhook>(customer, &page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "result": listed.result.iter().map(view).collect::<Vec<_>>(),
        "next_page_token": listed.next_page_token,
    })))
}

#[utoipa::path(
    get,
    path = "/v1.0/webhooks/{id}",
    tag = "webhooks",
    summary = "Get a webhook (without its secret)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Webhook),
        super::answers::ReadErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let w = owned::<Webhook>(&state, customer, *id).await?;
    Ok(HttpResponse::Ok().json(view(&w)))
}

#[utoipa::path(
    put,
    path = "/v1.0/webhooks/{id}",
    tag = "webhooks",
    summary = "Update the fields given",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::WebhookInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Webhook),
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
    let mut w = owned::<Webhook>(&state, customer, *id).await?;
    apply(&mut w, &f)?;
    w.tm_update = now_string();
    save(&state, &w).await?;
    Ok(HttpResponse::Ok().json(view(&w)))
}

#[utoipa::path(
    delete,
    path = "/v1.0/webhooks/{id}",
    tag = "webhooks",
    summary = "Delete a webhook (its pending deliveries end failed)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Webhook),
        super::answers::ReadErrors,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut w = owned::<Webhook>(&state, customer, *id).await?;
    let now = now_string();
    w.tm_update.clone_from(&now);
    w.tm_delete = now;
    save(&state, &w).await?;
    Ok(HttpResponse::Ok().json(view(&w)))
}

#[utoipa::path(
    get,
    path = "/v1.0/webhooks/{id}/deliveries",
    tag = "webhooks",
    summary = "A webhook's delivery log (newest first)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Delivery>),
        super::answers::ResourceErrors,
    )
)]
async fn deliveries(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let w = owned::<Webhook>(&state, customer, *id).await?;
    let listed = state.store.list_deliveries(w.id, &page).await?;
    Ok(HttpResponse::Ok().json(listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_must_be_absolute_http_or_https_with_a_host() {
        assert_eq!(
            uri("http://127.0.0.1:9000/hook").expect("ok"),
            "http://127.0.0.1:9000/hook"
        );
        assert!(uri("https://crm.example.com/in?x=1").is_ok());
        for bad in [
            "ftp://example.com/",
            "/relative",
            "not a url",
            "file:///etc/passwd",
        ] {
            let e = uri(bad).expect_err(bad);
            assert!(e.to_string().starts_with("uri"), "{e}");
        }
    }

    #[test]
    fn event_types_are_checked_by_name_and_kept_once() {
        let v = serde_json::json!(["campaigncall_updated", "campaigncall_updated"]);
        assert_eq!(
            event_types(&v).expect("ok"),
            [EventType::CampaigncallUpdated]
        );
        let e = event_types(&serde_json::json!(["campaigncall_updated", "call_hangup"]))
            .expect_err("unknown");
        assert!(e.to_string().starts_with("event_types[1]"), "{e}");
    }

    #[test]
    fn a_secret_is_long_and_never_the_same_twice() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 6 + 64);
        assert_ne!(a, b);
    }
}
