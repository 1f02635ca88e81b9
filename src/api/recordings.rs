//! `/recordings`: the recordings of bridged calls (a flow's `recording_start`). Read, fetch
//! the WAV, delete; the queues' bridges write them. Lists take `?campaign_id=` and
//! `?campaigncall_id=`.

use super::auth::Customer;
use super::error::ApiError;
use super::paging::Paging;
use super::ApiState;
use crate::domain::time::now_string;
use crate::domain::{Recording, RecordingFilter, RecordingStatus};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/recordings").route(web::get().to(list)))
        .service(
            web::resource("/recordings/{id}")
                .route(web::get().to(get))
                .route(web::delete().to(delete)),
        )
        .service(web::resource("/recordings/{id}/file").route(web::get().to(file)));
}

/// The filters of a list (other query parameters are paging and the token).
#[derive(Deserialize)]
struct Wanted {
    campaign_id: Option<String>,
    campaigncall_id: Option<String>,
}

fn id_filter(field: &str, value: Option<String>) -> Result<Option<Uuid>, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "must be a UUID")),
    }
}

#[utoipa::path(
    get,
    path = "/v1.0/recordings",
    tag = "recordings",
    summary = "List recordings (newest first)",
    params(
        ("campaign_id" = Option<Uuid>, Query, description = "Only this campaign's"),
        ("campaigncall_id" = Option<Uuid>, Query, description = "Only this attempt's"),
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<crate::domain::Recording>),
        super::answers::QueryErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
    wanted: web::Query<Wanted>,
) -> Result<HttpResponse, ApiError> {
    let wanted = wanted.into_inner();
    let filter = RecordingFilter {
        campaign: id_filter("campaign_id", wanted.campaign_id)?,
        campaigncall: id_filter("campaigncall_id", wanted.campaigncall_id)?,
    };
    let listed = state
        .store
        .list_recordings(customer, &filter, &page)
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

async fn owned(state: &ApiState, customer: Uuid, id: Uuid) -> Result<Recording, ApiError> {
    state
        .store
        .get_recording(Some(customer), id)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))
}

#[utoipa::path(
    get,
    path = "/v1.0/recordings/{id}",
    tag = "recordings",
    summary = "Get a recording",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Recording),
        super::answers::ReadErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(owned(&state, customer, *id).await?))
}

/// The WAV file (`audio/wav`), once the recording has ended (a recording under way has no
/// final header yet: 409).
#[utoipa::path(
    get,
    path = "/v1.0/recordings/{id}/file",
    tag = "recordings",
    summary = "The recording's WAV file (2 channels: callee, agent; 8 kHz 16-bit PCM)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "The WAV file", body = Vec<u8>, content_type = "audio/wav"),
        super::answers::ReadErrors,
        (status = 409, description = "The recording is still under way", body = super::error::ErrorBody),
    )
)]
async fn file(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let recording = owned(&state, customer, *id).await?;
    if recording.status == RecordingStatus::Recording {
        return Err(ApiError::Conflict(
            "the recording is still under way".into(),
        ));
    }
    let bytes = match tokio::fs::read(&recording.path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::NotFound("recording file not found".into()))
        }
        Err(e) => return Err(ApiError::Internal(format!("{}: {e}", recording.path))),
    };
    Ok(HttpResponse::Ok()
        .content_type("audio/wav")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.wav\"", recording.id),
        ))
        .body(bytes))
}

/// Deletes an ended recording: its file is removed and the recording answered as deleted.
#[utoipa::path(
    delete,
    path = "/v1.0/recordings/{id}",
    tag = "recordings",
    summary = "Delete an ended recording and its file",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::domain::Recording),
        super::answers::ReadErrors,
        (status = 409, description = "The recording is still under way", body = super::error::ErrorBody),
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut recording = owned(&state, customer, *id).await?;
    if recording.status == RecordingStatus::Recording {
        return Err(ApiError::Conflict(
            "the recording is still under way".into(),
        ));
    }
    match tokio::fs::remove_file(&recording.path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ApiError::Internal(format!("{}: {e}", recording.path))),
    }
    let now = now_string();
    recording.tm_update = now.clone();
    recording.tm_delete = now;
    state.store.put_recording(&recording).await?;
    Ok(HttpResponse::Ok().json(recording))
}
