//! `/dnclists` and `/dnclists/{id}/numbers`: the numbers a customer's campaigns never dial.
//! Every customer has a default list (`name: "default"`), made on first use, that always
//! applies; campaigns and outplans name more in `dnclist_ids`. Numbers are added as a JSON
//! array of `{number, expire_at, source}` or a CSV file with those columns, normalised to
//! E.164 in the server's default region; rows that cannot be read are reported, not added.

use super::auth::Customer;
use super::documents::{self, ensure_unused, owned, save, save_updated, Stamped};
use super::error::{ApiError, FieldError};
use super::fields::{Fields, Known, Write, READ_ONLY};
use super::limits::ImportSlots;
use super::paging::Paging;
use super::target_rows::{too_many, InvalidRow, MAX_ROWS};
use super::targets::{body_kind, read_body, BodyKind};
use super::ApiState;
use crate::domain::dnclist::{default_id, DEFAULT_NAME};
use crate::domain::phone::to_e164;
use crate::domain::time::{self, now_string, NEVER};
use crate::domain::{DncNumber, DncSource, Dnclist, E164};
use crate::store::Listed;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use phonenumber::country::Id as Country;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Most lists a campaign or an outplan may name.
pub const MAX_LISTS: usize = 20;

/// The fields a list body may carry.
pub(super) const FIELDS: Known = Known {
    writable: &["name", "detail"],
    read_only: &READ_ONLY,
};

/// The fields of one number of a JSON import.
const NUMBER_FIELDS: [&str; 3] = ["number", "expire_at", "source"];

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dnclists")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/dnclists/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(
        web::resource("/dnclists/{id}/numbers")
            .route(web::post().to(add_numbers))
            .route(web::get().to(list_numbers)),
    )
    .service(
        web::resource("/dnclists/{id}/numbers/{number}").route(web::delete().to(delete_number)),
    );
}

/// The customer's default list, made now if it is not yet.
async fn ensure_default(state: &ApiState, customer: Uuid) -> Result<Dnclist, ApiError> {
    let id = default_id(customer);
    if let Some(list) = state.docs().get::<Dnclist>(Some(customer), id).await? {
        return Ok(list);
    }
    let list = Dnclist::default_for(customer, &now_string());
    save(state, &list).await?;
    Ok(list)
}

/// The customer's list `id` (the default one made on first use), or 404.
async fn list_of(state: &ApiState, customer: Uuid, id: Uuid) -> Result<Dnclist, ApiError> {
    if id == default_id(customer) {
        return ensure_default(state, customer).await;
    }
    owned::<Dnclist>(state, customer, id).await
}

/// Reads `dnclist_ids` of a campaign or outplan body: each must be one of the customer's
/// lists (400 naming the item otherwise).
pub async fn dnclist_ids(
    state: &ApiState,
    customer: Uuid,
    f: &Fields,
) -> Result<Option<Vec<Uuid>>, ApiError> {
    let Some(ids) = f.uuids("dnclist_ids", MAX_LISTS)? else {
        return Ok(None);
    };
    for (i, id) in ids.iter().enumerate() {
        if *id == default_id(customer) {
            continue;
        }
        let found = state.docs().get::<Dnclist>(Some(customer), *id).await?;
        if found.is_none() {
            return Err(ApiError::invalid(
                &format!("dnclist_ids[{i}]"),
                format!("no dnclist {id}"),
            ));
        }
    }
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(Some(unique))
}

fn apply(list: &mut Dnclist, f: &Fields) -> Result<(), FieldError> {
    if let Some(v) = f.string("name")? {
        if v == DEFAULT_NAME && list.id != default_id(list.customer_id) {
            return Err(FieldError::new(
                "name",
                "\"default\" is the name of the customer's default list",
            ));
        }
        list.name = v;
    }
    if let Some(v) = f.string("detail")? {
        list.detail = v;
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1.0/dnclists",
    tag = "dnclists",
    summary = "Create a do-not-call list",
    request_body = super::bodies::DnclistInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Dnclist),
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
    let mut list = Dnclist {
        id: Uuid::new_v4(),
        customer_id: customer,
        name: String::new(),
        detail: String::new(),
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    };
    apply(&mut list, &f)?;
    save(&state, &list).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The customer's lists, newest first; the default one (made now if needed) among them.
#[utoipa::path(
    get,
    path = "/v1.0/dnclists",
    tag = "dnclists",
    summary = "List do-not-call lists (the default list is made on first use)",
    params(
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Dnclist>),
        super::answers::ResourceErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    customer: Customer,
    paging: Paging,
) -> Result<HttpResponse, ApiError> {
    ensure_default(&state, customer.0).await?;
    documents::list::<Dnclist>(state, customer, paging).await
}

#[utoipa::path(
    get,
    path = "/v1.0/dnclists/{id}",
    tag = "dnclists",
    summary = "Get a do-not-call list",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Dnclist),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(list_of(&state, customer, *id).await?))
}

#[utoipa::path(
    put,
    path = "/v1.0/dnclists/{id}",
    tag = "dnclists",
    summary = "Update a do-not-call list (fields given)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::DnclistInput,
    responses(
        (status = 200, description = "OK", body = crate::domain::Dnclist),
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
    let mut list = list_of(&state, customer, *id).await?;
    let renamed = f.string("name")?.is_some_and(|name| name != list.name);
    if list.id == default_id(customer) && renamed {
        return Err(ApiError::invalid("name", "the default list keeps its name"));
    }
    apply(&mut list, &f)?;
    save_updated(&state, list).await
}

/// Deletes a list and its numbers. The default list cannot be deleted, nor a list a running
/// campaign names (409).
#[utoipa::path(
    delete,
    path = "/v1.0/dnclists/{id}",
    tag = "dnclists",
    summary = "Delete a do-not-call list and its numbers (409 for the default list, or while a running campaign names it)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Dnclist),
        super::answers::ResourceErrors,
        (status = 409, description = "Conflict", body = super::error::ErrorBody),
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    if *id == default_id(customer) {
        return Err(ApiError::Conflict(
            "the default list always applies and cannot be deleted; delete its numbers instead"
                .into(),
        ));
    }
    let mut list = owned::<Dnclist>(&state, customer, *id).await?;
    ensure_unused(&state, customer, "dnclist", |c| {
        c.dnclist_ids.contains(&list.id)
    })
    .await?;
    state.store.clear_dnc_list(list.id).await?;
    list.mark_deleted(&now_string());
    save(&state, &list).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One number as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DncNumber)]
struct NumberView {
    dnclist_id: Uuid,
    number: String,
    source: DncSource,
    /// When it stops applying; `9999-01-01 00:00:00.000000` for never.
    expire_at: String,
    tm_create: String,
}

impl From<DncNumber> for NumberView {
    fn from(n: DncNumber) -> NumberView {
        NumberView {
            dnclist_id: n.list_id,
            number: n.number.to_string(),
            source: n.source,
            expire_at: n
                .expire_at
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .map_or_else(|| NEVER.to_string(), time::format),
            tm_create: n.tm_create,
        }
    }
}

/// What an import of numbers did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DncImportReport)]
struct NumbersReport {
    /// Numbers put on the list (added, or already there and updated).
    created: usize,
    /// Rows refused.
    skipped_invalid: Vec<InvalidRow>,
}

/// How numbers are read from a request.
struct NumberRows {
    list_id: Uuid,
    region: Country,
    now: String,
}

impl NumberRows {
    /// One row's `number`, `expire_at` and `source` as given.
    fn row(&self, number: &str, expire_at: &str, source: &str) -> Result<DncNumber, String> {
        let number = to_e164(number, self.region).map_err(|e| format!("number: {e}"))?;
        let expire_at = match expire_at.trim() {
            "" => None,
            text => Some(parse_time(text).ok_or_else(|| {
                format!(
                    "expire_at: {text:?} is not a time (\"2026-01-31 00:00:00\" UTC, or RFC 3339)"
                )
            })?),
        };
        let source = match source.trim() {
            "" => DncSource::Import,
            text => DncSource::parse(text)
                .ok_or_else(|| format!("source: {text:?} is not one of import, opt_out, manual"))?,
        };
        Ok(DncNumber {
            list_id: self.list_id,
            number,
            source,
            expire_at,
            tm_create: self.now.clone(),
        })
    }

    /// A JSON array of `{number, expire_at, source}`.
    fn json(&self, items: &[Value]) -> Result<(Vec<DncNumber>, Vec<InvalidRow>), ApiError> {
        if items.len() > MAX_ROWS {
            return Err(too_many(items.len()));
        }
        let mut rows = (Vec::new(), Vec::new());
        for (i, item) in items.iter().enumerate() {
            let number = item
                .get("number")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match self.json_row(item) {
                Ok(n) => rows.0.push(n),
                Err(reason) => rows.1.push(InvalidRow {
                    row: i,
                    value: number.to_string(),
                    reason,
                }),
            }
        }
        Ok(rows)
    }

    fn json_row(&self, item: &Value) -> Result<DncNumber, String> {
        let Value::Object(map) = item else {
            return Err("must be an object {number, expire_at, source}".into());
        };
        let unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !NUMBER_FIELDS.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!("{}: not supported", unknown.join(", ")));
        }
        let text = |name: &str| -> Result<String, String> {
            match map.get(name) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("{name}: must be a string")),
            }
        };
        let number = text("number")?;
        if number.trim().is_empty() {
            return Err("number: required".into());
        }
        self.row(&number, &text("expire_at")?, &text("source")?)
    }

    /// A CSV file with a header row: `number` (required), `expire_at`, `source`.
    fn csv(&self, body: &[u8]) -> Result<(Vec<DncNumber>, Vec<InvalidRow>), ApiError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(body);
        let headers = reader
            .headers()
            .map_err(|e| ApiError::invalid("body", format!("unreadable CSV header: {e}")))?;
        let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let number_col = column("number")
            .ok_or_else(|| ApiError::invalid("number", "the CSV header needs a number column"))?;
        let (expire_col, source_col) = (column("expire_at"), column("source"));
        let mut rows = (Vec::new(), Vec::new());
        let mut records = reader.records().enumerate();
        while let Some((n, record)) = records.next() {
            if n >= MAX_ROWS {
                return Err(too_many(n + 1 + records.count()));
            }
            let fallback = n + 2;
            match record {
                Ok(record) => {
                    let line = record.position().map_or(fallback, |p| p.line() as usize);
                    let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
                    let number = cell(Some(number_col));
                    let parsed = if number.is_empty() {
                        Err("number: required".to_string())
                    } else {
                        self.row(number, cell(expire_col), cell(source_col))
                    };
                    match parsed {
                        Ok(n) => rows.0.push(n),
                        Err(reason) => rows.1.push(InvalidRow {
                            row: line,
                            value: number.to_string(),
                            reason,
                        }),
                    }
                }
                Err(e) => rows.1.push(InvalidRow {
                    row: e.position().map_or(fallback, |p| p.line() as usize),
                    value: String::new(),
                    reason: format!("unreadable row: {e}"),
                }),
            }
        }
        Ok(rows)
    }
}

/// A time as `tm_*` fields write it (`2026-01-31 00:00:00[.ffffff]`, UTC) or RFC 3339, in
/// unix ms.
fn parse_time(text: &str) -> Option<i64> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_millis());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|at| at.and_utc().timestamp_millis())
}

#[utoipa::path(
    post,
    path = "/v1.0/dnclists/{id}/numbers",
    tag = "dnclists",
    summary = "Put numbers on a list: a JSON array or a CSV file (columns number, expire_at, source)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body(content(
        (Vec<super::bodies::DncNumberInput> = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, description = "OK", body = NumbersReport),
        super::answers::ResourceErrors,
    )
)]
async fn add_numbers(
    state: web::Data<ApiState>,
    slots: web::Data<ImportSlots>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = body_kind(&req)?;
    let _slot = slots.try_take()?;
    let list = list_of(&state, customer, *id).await?;
    let body = read_body(&req, payload, state.limits.import_body_bytes).await?;
    let rows = NumberRows {
        list_id: list.id,
        region: state.region()?,
        now: now_string(),
    };
    let (numbers, skipped_invalid) = match kind {
        BodyKind::Csv => rows.csv(&body)?,
        BodyKind::Json => match serde_json::from_slice::<Value>(&body)
            .map_err(|e| ApiError::invalid("body", e))?
        {
            Value::Array(items) => rows.json(&items)?,
            _ => {
                return Err(ApiError::invalid(
                    "body",
                    "must be an array of {number, expire_at, source}",
                ))
            }
        },
    };
    state.store.put_dnc_numbers(customer, &numbers).await?;
    Ok(HttpResponse::Ok().json(NumbersReport {
        created: numbers.len(),
        skipped_invalid,
    }))
}

#[derive(Deserialize)]
struct NumberQuery {
    number: Option<String>,
}

/// A page of the list's numbers in number order; `?number=` finds one.
#[utoipa::path(
    get,
    path = "/v1.0/dnclists/{id}/numbers",
    tag = "dnclists",
    summary = "A page of a list's numbers in number order",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        ("number" = Option<String>, Query, description = "only this number"),
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<NumberView>),
        super::answers::ResourceErrors,
    )
)]
async fn list_numbers(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    Paging(page): Paging,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = web::Query::<NumberQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::invalid("query", e))?;
    let number = match query.number.as_deref() {
        None => None,
        Some(t) if t.trim().is_empty() => None,
        Some(text) => Some(path_number(text, state.region()?)?),
    };
    let list = list_of(&state, customer, *id).await?;
    let listed = state
        .store
        .list_dnc_numbers(list.id, number.as_ref(), &page)
        .await?;
    Ok(HttpResponse::Ok().json(Listed {
        result: listed
            .result
            .into_iter()
            .map(NumberView::from)
            .collect::<Vec<_>>(),
        next_page_token: listed.next_page_token,
    }))
}

/// A number named in a path or query: E.164 (a `+` may arrive as a space, from a query
/// string), or national in the default region.
fn path_number(text: &str, region: Country) -> Result<E164, ApiError> {
    let text = match text.strip_prefix(' ') {
        Some(rest) => format!("+{}", rest.trim()),
        None => text.trim().to_string(),
    };
    to_e164(&text, region).map_err(|e| ApiError::invalid("number", e))
}

#[utoipa::path(
    delete,
    path = "/v1.0/dnclists/{id}/numbers/{number}",
    tag = "dnclists",
    summary = "Take a number off a list",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        ("number" = String, Path, description = "E.164 (%2B for the +) or national"),
    ),
    responses(
        (status = 200, description = "OK", body = NumberRemoved),
        super::answers::ResourceErrors,
    )
)]
async fn delete_number(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let number = path_number(&number, state.region()?)?;
    let list = list_of(&state, customer, id).await?;
    if !state.store.delete_dnc_number(list.id, &number).await? {
        return Err(ApiError::not_found("number"));
    }
    Ok(HttpResponse::Ok().json(NumberRemoved {
        dnclist_id: list.id,
        number: number.to_string(),
    }))
}

/// The answer to `DELETE /dnclists/{id}/numbers/{number}`.
#[derive(Serialize, utoipa::ToSchema)]
struct NumberRemoved {
    /// The list.
    dnclist_id: Uuid,
    /// The number taken off it, in E.164.
    number: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> NumberRows {
        NumberRows {
            list_id: Uuid::nil(),
            region: crate::domain::phone::region("US").expect("US"),
            now: "2026-01-01 00:00:00.000000".into(),
        }
    }

    #[test]
    fn numbers_are_normalised_and_bad_rows_reported_with_their_line() {
        let csv = "Number,expire_at,source\n(555) 555-0100,,\n12345,,\n+15551234567,2030-01-01 00:00:00,manual\n5559876543,tomorrow,\n5559876544,,robot\n";
        let (ok, bad) = rows().csv(csv.as_bytes()).expect("valid CSV");
        let numbers: Vec<&str> = ok.iter().map(|n| n.number.as_str()).collect();
        assert_eq!(numbers, ["+15555550100", "+15551234567"]);
        assert_eq!(ok[0].source, DncSource::Import);
        assert_eq!(ok[0].expire_at, None);
        assert_eq!(ok[1].source, DncSource::Manual);
        assert_eq!(ok[1].expire_at, Some(1_893_456_000_000));
        let lines: Vec<(usize, &str)> = bad.iter().map(|r| (r.row, r.value.as_str())).collect();
        assert_eq!(lines, [(3, "12345"), (5, "5559876543"), (6, "5559876544")]);
        assert!(bad[1].reason.starts_with("expire_at:"), "{}", bad[1].reason);
        assert!(bad[2].reason.starts_with("source:"), "{}", bad[2].reason);
    }

    #[test]
    fn a_json_row_with_an_unknown_field_is_refused_naming_it() {
        let items = serde_json::json!([
            {"number": "+15551234567", "source": "opt_out", "expire_at": "2030-01-01T00:00:00Z"},
            {"number": "+15551234568", "reason": "asked"},
            {"number": 5551234569u64},
            {}
        ]);
        let (ok, bad) = rows().json(items.as_array().expect("array")).expect("rows");
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].source, DncSource::OptOut);
        assert_eq!(ok[0].expire_at, Some(1_893_456_000_000));
        let reasons: Vec<&str> = bad.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "reason: not supported",
                "number: must be a string",
                "number: required"
            ]
        );
    }

    #[test]
    fn a_number_in_a_path_may_lose_its_plus_to_a_space() {
        let us = crate::domain::phone::region("US").expect("US");
        for text in ["+15551234567", " 15551234567", "5551234567"] {
            assert_eq!(
                path_number(text, us).map(|n| n.to_string()).ok().as_deref(),
                Some("+15551234567"),
                "{text:?}"
            );
        }
    }
}
