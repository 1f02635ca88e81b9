//! Errors of the REST API and how they answer: a status code and `{"message": "..."}`.

use crate::store::StoreError;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use std::fmt;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field or the body is not acceptable (400); the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// No token, or one that names no customer (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// No such resource for this customer (404): another tenant's ids are not found either.
    #[error("{0}")]
    NotFound(String),
    /// The operation is not allowed in the resource's current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than accepted (413).
    #[error("{0}")]
    TooLarge(String),
    /// The server is at a bound it keeps (imports at once); retry shortly (503, `Retry-After`).
    #[error("{0}")]
    Busy(String),
    /// The path exists but not with this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The store failed: 503 saying so when it cannot write (a full disk), else 500, logged
    /// and not shown.
    #[error("internal error")]
    Store(#[from] StoreError),
    /// The server is misconfigured (500); logged, not shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming the field: `"dial_timeout: must be ..."`.
    pub fn invalid(field: &str, problem: impl fmt::Display) -> ApiError {
        ApiError::Invalid(format!("{field}: {problem}"))
    }

    /// A 404 for a resource kind: `"campaign not found"`.
    pub fn not_found(kind: &str) -> ApiError {
        ApiError::NotFound(format!("{kind} not found"))
    }
}

/// A problem with one named field of a request, before it becomes a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The field, e.g. `destination_0.target`.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: impl fmt::Display) -> FieldError {
        FieldError {
            field: field.into(),
            problem: problem.to_string(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::Invalid(e.to_string())
    }
}

impl From<crate::flow::ActionError> for ApiError {
    fn from(e: crate::flow::ActionError) -> ApiError {
        ApiError::Invalid(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Store(e) if e.cannot_write() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Store(e) => tracing::error!(error = %e, "request failed in the store"),
            ApiError::Internal(e) => tracing::error!(error = %e, "request failed"),
            _ => {}
        }
        let message = match self {
            ApiError::Store(e) if e.cannot_write() => {
                format!("the store cannot write now ({e}); GET /health tells when it can")
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Busy(_)) {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
        }
        response.json(ErrorBody { message })
    }
}

/// The body of every error answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong; a 400 names the field first (`"dial_timeout: must be ..."`).
    pub message: String,
}

/// Answers a body that is not the JSON expected with a 400 carrying serde's message (which
/// names the field or the position), instead of actix's plain text.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match err {
        JsonPayloadError::Deserialize(e) => ApiError::invalid("body", e),
        JsonPayloadError::ContentType => {
            ApiError::invalid("Content-Type", "expected application/json")
        }
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => {
            ApiError::TooLarge(format!("body: larger than {limit} bytes"))
        }
        other => ApiError::invalid("body", other),
    };
    api.into()
}

/// Answers a query string that does not deserialize with a 400 and serde's message.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    match err {
        QueryPayloadError::Deserialize(e) => ApiError::invalid("query", e).into(),
        other => ApiError::invalid("query", other).into(),
    }
}

/// A path id that is not a UUID names no resource: 404.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    tracing::debug!(error = %err, "malformed id in path");
    ApiError::NotFound("not found: the id is not a UUID".into()).into()
}

/// Any path the API does not serve.
pub async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such endpoint".into()))
}

/// Gives the 404 and 405 answers that actix makes itself (a resource asked with a method it
/// has no route for) the JSON error body every other error has. Answers that already carry
/// JSON are left alone.
pub fn json_body_for_bare_errors<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::http::header::CONTENT_TYPE;
    use actix_web::middleware::ErrorHandlerResponse;
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, res) = res.into_parts();
    let api = match res.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::MethodNotAllowed(format!("{} is not allowed on {}", req.method(), req.path()))
        }
        _ => ApiError::NotFound("no such endpoint".into()),
    };
    let res = actix_web::dev::ServiceResponse::new(req, api.error_response());
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}
