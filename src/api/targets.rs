//! `/outdials/{id}/targets`: the people an outdial reaches. `POST` takes one VoIPBIN target
//! object, a JSON array of them, or a CSV file (`Content-Type: text/csv`, or the `file` part
//! of a `multipart/form-data` body); duplicates of the first destination within the outdial
//! are skipped. A `POST` holds one of the import slots ([`ImportSlots`]) while it reads and
//! stores its body, which is bounded in size; a CSV file is stored as it arrives (see
//! [`super::target_import`]).

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::limits::ImportSlots;
use super::paging::Paging;
use super::target_import::import_csv;
use super::target_rows::{Import, ImportReport};
use super::ApiState;
use crate::domain::time::now_string;
use crate::domain::{Outdial, TargetStatus};
use crate::store::NewTarget;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures::StreamExt;
use serde_json::Value;
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/outdials/{id}/targets")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/outdials/{id}/targets/{target_id}")
            .route(web::get().to(get))
            .route(web::delete().to(delete)),
    );
}

/// How the body of a `POST` is written.
pub(super) enum BodyKind {
    Json,
    Csv,
}

pub(super) fn body_kind(req: &HttpRequest) -> Result<BodyKind, ApiError> {
    match req.content_type().to_ascii_lowercase().as_str() {
        "text/csv" | "application/csv" => Ok(BodyKind::Csv),
        "" | "application/json" => Ok(BodyKind::Json),
        t if t.ends_with("+json") => Ok(BodyKind::Json),
        _ => Err(ApiError::invalid(
            "Content-Type",
            "expected application/json or text/csv",
        )),
    }
}

/// Reads the body, refusing it (413) as soon as it is known to pass `limit` bytes: from its
/// `Content-Length` before reading, or while reading.
pub(super) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    let too_large = || ApiError::TooLarge(format!("body: larger than {limit} bytes"));
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(announced.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid("body", e))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[utoipa::path(
    post,
    path = "/v1.0/outdials/{id}/targets",
    tag = "targets",
    summary = "Add targets: one object (answers the target), an array of up to 10000, or CSV (answer the import report)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body(content(
        (super::bodies::TargetsBody = "application/json"),
        (String = "text/csv"),
        (super::bodies::CsvUpload = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "OK", body = super::bodies::TargetsAnswer),
        super::answers::ResourceErrors,
        super::answers::Conflict,
        (status = 413, description = "Body larger than the configured limit", body = super::error::ErrorBody),
        (status = 503, description = "Too many imports at once; retry after the Retry-After header's seconds", body = super::error::ErrorBody),
    )
)]
async fn create(
    state: web::Data<ApiState>,
    slots: web::Data<ImportSlots>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let multipart = req
        .content_type()
        .eq_ignore_ascii_case("multipart/form-data");
    let kind = if multipart {
        BodyKind::Csv
    } else {
        body_kind(&req)?
    };
    let _slot = slots.try_take()?;
    let outdial = owned::<Outdial>(&state, customer, *id).await?;
    let import = Import {
        outdial_id: outdial.id,
        region: state.region()?,
        now: now_string(),
    };
    if multipart {
        let file = file_part(&req, payload, state.limits.import_csv_bytes).await?;
        let report = import_csv(&state, import, file).await?;
        return Ok(HttpResponse::Ok().json(report));
    }
    if let BodyKind::Csv = kind {
        let too_large = too_large_announced(&req, state.limits.import_csv_bytes);
        let body = payload.map(|chunk| chunk.map_err(|e| ApiError::invalid("body", e)));
        let report = match too_large {
            Some(e) => return Err(e),
            None => import_csv(&state, import, body).await?,
        };
        return Ok(HttpResponse::Ok().json(report));
    }
    let body = read_body(&req, payload, state.limits.import_body_bytes).await?;
    let (targets, skipped_invalid) =
        match serde_json::from_slice::<Value>(&body).map_err(|e| ApiError::invalid("body", e))? {
            Value::Array(items) => import.json_rows(&items)?,
            one @ Value::Object(_) => return create_one(&state, import.json_target(&one)?).await,
            _ => {
                return Err(ApiError::invalid(
                    "body",
                    "must be a target object or an array of them",
                ))
            }
        };
    let inserted = state.store.insert_targets(targets).await?;
    Ok(HttpResponse::Ok().json(ImportReport {
        created: inserted.created.len(),
        skipped_invalid_total: skipped_invalid.len(),
        skipped_invalid,
        skipped_duplicate_total: inserted.duplicates.len(),
        skipped_duplicate: inserted.duplicates,
    }))
}

/// 413 when the body's `Content-Length` already passes `limit` bytes.
fn too_large_announced(req: &HttpRequest, limit: usize) -> Option<ApiError> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > limit)
        .map(|_| ApiError::TooLarge(format!("body: larger than {limit} bytes")))
}

/// The content of the `file` part of a `multipart/form-data` body, as it arrives. Parts
/// before it are read and dropped (counted against `limit`); 400 when the body is not
/// well-formed multipart or has no `file` part.
async fn file_part(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<impl futures::Stream<Item = Result<bytes::Bytes, ApiError>> + Unpin, ApiError> {
    if let Some(e) = too_large_announced(req, limit) {
        return Err(e);
    }
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::invalid("body", format!("malformed multipart/form-data: {e}"))
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut skipped = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(malformed)?;
        if part.name() == Some("file") {
            let content = part.map(move |chunk| chunk.map_err(malformed));
            // The parts after `file` are not read: the multipart stream lives as long as the
            // file's content does.
            return Ok(KeepAlive {
                content,
                _parts: Box::new(parts),
            });
        }
        while let Some(chunk) = part.next().await {
            skipped += chunk.map_err(malformed)?.len();
            if skipped > limit {
                return Err(ApiError::TooLarge(format!(
                    "body: larger than {limit} bytes"
                )));
            }
        }
    }
    Err(ApiError::invalid(
        "file",
        "the multipart/form-data body has no part named file (curl -F file=@targets.csv)",
    ))
}

/// A part's content and the multipart body it came in, kept alive together.
struct KeepAlive<S> {
    content: S,
    _parts: Box<actix_multipart::Multipart>,
}

impl<S: futures::Stream + Unpin> futures::Stream for KeepAlive<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        self.content.poll_next_unpin(cx)
    }
}

/// One target: answers it as created, or 409 when its number is already in the outdial.
async fn create_one(state: &ApiState, target: NewTarget) -> Result<HttpResponse, ApiError> {
    let dedupe = target.dedupe.clone();
    let mut inserted = state.store.insert_targets(vec![target]).await?;
    match inserted.created.pop() {
        Some(t) => Ok(HttpResponse::Ok().json(t)),
        None => Err(ApiError::Conflict(format!(
            "destination_0: {dedupe} is already a target of this outdial"
        ))),
    }
}

#[utoipa::path(
    get,
    path = "/v1.0/outdials/{id}/targets",
    tag = "targets",
    summary = "List targets",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Target>),
        super::answers::ResourceErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    // The store answers only an owned outdial's targets; an empty page is either an outdial
    // with no target (left) or none of the customer's, which the lookup tells apart.
    let listed = state.store.list_targets(customer, *id, &page).await?;
    if listed.result.is_empty() {
        owned::<Outdial>(&state, customer, *id).await?;
    }
    Ok(HttpResponse::Ok().json(listed))
}

#[utoipa::path(
    get,
    path = "/v1.0/outdials/{id}/targets/{target_id}",
    tag = "targets",
    summary = "Get a target",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        ("target_id" = Uuid, Path, description = "The target's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Target),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (outdial_id, target_id) = *ids;
    let outdial = owned::<Outdial>(&state, customer, outdial_id).await?;
    let target = state
        .store
        .get_target(outdial.id, target_id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    Ok(HttpResponse::Ok().json(target))
}

#[utoipa::path(
    delete,
    path = "/v1.0/outdials/{id}/targets/{target_id}",
    tag = "targets",
    summary = "Delete a target (soft)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
        ("target_id" = Uuid, Path, description = "The target's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Target),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (outdial_id, target_id) = *ids;
    let outdial = owned::<Outdial>(&state, customer, outdial_id).await?;
    let target = state
        .store
        .get_target(outdial.id, target_id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    if target.status == TargetStatus::Progressing {
        return Err(ApiError::Conflict(
            "target is being dialed: delete it once the attempt ends".into(),
        ));
    }
    let deleted = state
        .store
        .delete_target(outdial.id, target.id, &now_string())
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    Ok(HttpResponse::Ok().json(deleted))
}
