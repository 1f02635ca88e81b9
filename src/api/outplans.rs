//! `/outplans`: how and when to dial (caller id, dial timeout, tries per slot, retry rules).

use super::address::{address, dialable, is_blank};
use super::auth::Customer;
use super::documents::{self, ensure_unused, owned, save};
use super::error::{ApiError, FieldError};
use super::fields::{Fields, Known, Write, READ_ONLY};
use super::ApiState;
use crate::domain::call_window::{parse_time, CallWindowText};
use crate::domain::time::{now_string, NEVER};
use crate::domain::{Address, CallWindow, Disposition, Outplan, SourceStrategy};
use actix_web::{web, HttpResponse};
use phonenumber::country::Id as Country;
use serde_json::Value;
use uuid::Uuid;

/// The dispositions an outplan may retry: not an answered call, nor a number or credentials
/// that will not get better by trying again.
const RETRYABLE: [Disposition; 7] = [
    Disposition::Busy,
    Disposition::NoAnswer,
    Disposition::Rejected,
    Disposition::Failed,
    Disposition::Cancelled,
    Disposition::Unknown,
    Disposition::Machine,
];

/// The fields an outplan body may carry.
pub(super) const FIELDS: Known = Known {
    writable: &[
        "name",
        "detail",
        "source",
        "dial_timeout",
        "try_interval",
        "max_try_count_0",
        "max_try_count_1",
        "max_try_count_2",
        "max_try_count_3",
        "max_try_count_4",
        "retry_dispositions",
        "backoff",
        "dnclist_ids",
        "call_window",
        "timezone",
        "sources",
        "source_strategy",
        "retry_at",
    ],
    read_only: &READ_ONLY,
};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/outplans")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/outplans/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    );
}

documents::list_and_get!(Outplan, "outplans", "List outplans", "Get an outplan");

/// A new outplan with VoIPBIN's defaults.
fn new_outplan(customer: Uuid) -> Outplan {
    Outplan {
        id: Uuid::new_v4(),
        customer_id: customer,
        name: String::new(),
        detail: String::new(),
        source: Address::default(),
        dial_timeout: 30_000,
        try_interval: 60_000,
        max_try_count_0: 1,
        max_try_count_1: 0,
        max_try_count_2: 0,
        max_try_count_3: 0,
        max_try_count_4: 0,
        retry_dispositions: Outplan::DEFAULT_RETRY.to_vec(),
        backoff: 1.0,
        dnclist_ids: Vec::new(),
        call_window: None,
        timezone: String::new(),
        sources: Vec::new(),
        source_strategy: Default::default(),
        retry_at: Vec::new(),
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    }
}

/// Applies the fields the body carries, then checks the whole.
fn apply(plan: &mut Outplan, f: &Fields, region: Country) -> Result<(), FieldError> {
    if let Some(v) = f.string("name")? {
        plan.name = v;
    }
    if let Some(v) = f.string("detail")? {
        plan.detail = v;
    }
    if let Some(v) = f.raw("source") {
        plan.source = if is_blank(v) {
            Address::default()
        } else {
            // The source becomes the From (and P-Asserted-Identity) of every call: a number
            // or a SIP URI, nothing else.
            let source = address("source", v, region)?;
            dialable("source", &source)?;
            source
        };
    }
    if let Some(v) = f.int(
        "dial_timeout",
        1_000..=600_000,
        "a number of ms between 1000 and 600000",
    )? {
        plan.dial_timeout = v as u64;
    }
    if let Some(v) = f.int("try_interval", 0..=i64::MAX, "a number of ms, 0 or more")? {
        plan.try_interval = v as u64;
    }
    let slots = [
        &mut plan.max_try_count_0,
        &mut plan.max_try_count_1,
        &mut plan.max_try_count_2,
        &mut plan.max_try_count_3,
        &mut plan.max_try_count_4,
    ];
    for (i, slot) in slots.into_iter().enumerate() {
        let name = format!("max_try_count_{i}");
        if let Some(v) = f.int(&name, 0..=100, "an integer between 0 and 100")? {
            *slot = v as u32;
        }
    }
    if let Some(list) = f.parse::<Vec<Disposition>>("retry_dispositions")? {
        if let Some(d) = list.iter().find(|d| !RETRYABLE.contains(d)) {
            let retryable: Vec<&str> = RETRYABLE.iter().map(|d| d.as_str()).collect();
            return Err(FieldError::new(
                "retry_dispositions",
                format!("{d} is not retryable; use any of {}", retryable.join(", ")),
            ));
        }
        plan.retry_dispositions = list;
    }
    if let Some(v) = f.float("backoff", 1.0..=10.0)? {
        plan.backoff = v;
    }
    apply_reach(plan, f, region)?;
    if plan.max_tries().iter().all(|&n| n == 0) {
        return Err(FieldError::new(
            "max_try_count_0",
            "at least one of max_try_count_0 .. max_try_count_4 must be above 0",
        ));
    }
    Ok(())
}

/// Most caller ids in a pool, and most local times a retry may be moved to.
const MAX_SOURCES: usize = 1000;
const MAX_RETRY_AT: usize = 24;

/// The call window, default zone, caller-id pool and retry times.
fn apply_reach(plan: &mut Outplan, f: &Fields, region: Country) -> Result<(), FieldError> {
    if let Some(v) = f.raw("call_window") {
        plan.call_window = Some(call_window(v)?);
    } else if f.is_null("call_window") {
        plan.call_window = None;
    }
    if let Some(v) = f.string("timezone")? {
        if !v.is_empty() {
            timezone("timezone", &v)?;
        }
        plan.timezone = v;
    }
    if let Some(v) = f.raw("sources") {
        let serde_json::Value::Array(items) = v else {
            return Err(FieldError::new("sources", "must be an array of addresses"));
        };
        if items.len() > MAX_SOURCES {
            return Err(FieldError::new(
                "sources",
                format!("at most {MAX_SOURCES} caller ids"),
            ));
        }
        let mut sources = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = format!("sources[{i}]");
            let source = address(&field, item, region)?;
            dialable(&field, &source)?;
            sources.push(source);
        }
        plan.sources = sources;
    }
    if let Some(v) = f.parse::<SourceStrategy>("source_strategy")? {
        plan.source_strategy = v;
    }
    if let Some(v) = f.parse::<Vec<String>>("retry_at")? {
        if v.len() > MAX_RETRY_AT {
            return Err(FieldError::new(
                "retry_at",
                format!("at most {MAX_RETRY_AT} times"),
            ));
        }
        for t in &v {
            parse_time("retry_at", t).map_err(|e| {
                FieldError::new("retry_at", e.to_string().trim_start_matches("retry_at: "))
            })?;
        }
        plan.retry_at = v;
    }
    Ok(())
}

/// An IANA zone name (`America/New_York`).
pub(super) fn timezone(field: &str, text: &str) -> Result<chrono_tz::Tz, FieldError> {
    text.parse::<chrono_tz::Tz>().map_err(|_| {
        FieldError::new(
            field,
            format!("{text:?} is not an IANA time zone (e.g. America/New_York)"),
        )
    })
}

/// `call_window`, with the part at fault named under it (`call_window.start`).
fn call_window(v: &serde_json::Value) -> Result<CallWindow, FieldError> {
    let text: CallWindowText = serde_json::from_value(v.clone()).map_err(|e| {
        FieldError::new(
            "call_window",
            format!(
                "must be {{start: \"HH:MM\", end: \"HH:MM\", days: [...], holidays: [...]}}: {e}"
            ),
        )
    })?;
    CallWindow::try_from(text).map_err(|e| {
        let field = e.field();
        let message = e.to_string();
        let problem = message
            .strip_prefix(field)
            .map(|m| m.trim_start_matches(": ").to_string())
            .unwrap_or(message);
        FieldError::new(format!("call_window.{field}"), problem)
    })
}

#[utoipa::path(
    post,
    path = "/v1.0/outplans",
    tag = "outplans",
    summary = "Create an outplan",
    request_body = super::bodies::OutplanInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Outplan),
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
    let mut plan = new_outplan(customer);
    apply(&mut plan, &f, state.region()?)?;
    if let Some(ids) = super::dnclists::dnclist_ids(&state, customer, &f).await? {
        plan.dnclist_ids = ids;
    }
    save(&state, &plan).await?;
    Ok(HttpResponse::Ok().json(plan))
}

#[utoipa::path(
    put,
    path = "/v1.0/outplans/{id}",
    tag = "outplans",
    summary = "Update an outplan (fields given)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::OutplanInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Outplan),
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
    let mut plan = owned::<Outplan>(&state, customer, *id).await?;
    apply(&mut plan, &f, state.region()?)?;
    if let Some(ids) = super::dnclists::dnclist_ids(&state, customer, &f).await? {
        plan.dnclist_ids = ids;
    }
    documents::save_updated(&state, plan).await
}

#[utoipa::path(
    delete,
    path = "/v1.0/outplans/{id}",
    tag = "outplans",
    summary = "Delete an outplan (soft)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Outplan),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let plan = owned::<Outplan>(&state, customer, *id).await?;
    ensure_unused(&state, customer, "outplan", |c| c.outplan_id == plan.id).await?;
    documents::delete(&state, plan).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn applied(body: Value) -> Result<Outplan, String> {
        let mut plan = new_outplan(Uuid::nil());
        let f = Fields::from_body(body).map_err(|e| e.to_string())?;
        let region = crate::domain::phone::region("US").map_err(|e| e.to_string())?;
        apply(&mut plan, &f, region).map_err(|e| e.to_string())?;
        Ok(plan)
    }

    #[test]
    fn an_empty_body_takes_the_defaults() {
        let plan = applied(json!({})).expect("defaults are valid");
        assert_eq!((plan.dial_timeout, plan.try_interval), (30_000, 60_000));
        assert_eq!(plan.max_tries(), [1, 0, 0, 0, 0]);
        assert_eq!(plan.retry_dispositions, Outplan::DEFAULT_RETRY.to_vec());
        assert_eq!(plan.backoff, 1.0);
    }

    #[test]
    fn the_source_number_is_normalised() {
        let plan =
            applied(json!({"source": {"type": "tel", "target": "(555) 555-0100"}})).expect("valid");
        assert_eq!(plan.source.kind.target(), "+15555550100");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (json!({"dial_timeout": 10}), "dial_timeout: must be a number of ms between 1000 and 600000"),
            (json!({"try_interval": -1}), "try_interval: must be a number of ms, 0 or more"),
            (json!({"max_try_count_3": 101}), "max_try_count_3: must be an integer between 0 and 100"),
            (json!({"max_try_count_0": 0}), "max_try_count_0: at least one of max_try_count_0 .. max_try_count_4 must be above 0"),
            (json!({"backoff": 0.5}), "backoff: must be a number between 1 and 10"),
            (json!({"source": {"type": "sip", "target": "evil\r\nP-Asserted-Identity: <sip:+18005551212@x>"}}), "source.target: contains a control character"),
            (json!({"source": {"type": "tel", "target": "+15551234567", "target_name": "A\nB"}}), "source.target_name: contains a control character"),
            (json!({"source": {"type": "email", "target": "a@example.com"}}), "source.type: email addresses cannot be dialed; use tel or sip"),
            (json!({"retry_dispositions": ["busy", "answered"]}), "retry_dispositions: answered is not retryable; use any of busy, no_answer, rejected, failed, cancelled, unknown, machine"),
        ];
        for (body, want) in cases {
            assert_eq!(
                applied(body.clone()).map(|_| ()),
                Err(want.to_string()),
                "{body}"
            );
        }
    }
}
