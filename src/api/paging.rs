//! List paging: `page_size` (default 25, 1..=100) and the opaque `page_token`. A page also
//! ends early once its items pass the configured `page_bytes`.

use super::error::ApiError;
use crate::store::Page;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::Deserialize;
use std::future::{ready, Ready};

/// Items per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
/// Most items per page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The paging parameters as the OpenAPI document describes them ([`Paging`] reads them).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Items per page (default 25).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// The `next_page_token` of the previous page.
    page_token: Option<String>,
}

/// The page a list request asks for.
#[derive(Debug, Clone)]
pub struct Paging(pub Page);

// Strings, so that a bad `page_size` gets a message naming it rather than serde's.
#[derive(Deserialize)]
struct RawPage {
    page_size: Option<String>,
    page_token: Option<String>,
}

fn page_of(query: &str, max_bytes: usize) -> Result<Paging, ApiError> {
    let raw = web::Query::<RawPage>::from_query(query)
        .map_err(|e| ApiError::invalid("query", e))?
        .into_inner();
    let size = match raw.page_size.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "page_size",
                    format!("must be an integer between 1 and {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    Ok(Paging(Page {
        size,
        token: raw.page_token.filter(|t| !t.is_empty()),
        max_bytes,
    }))
}

impl FromRequest for Paging {
    type Error = ApiError;
    type Future = Ready<Result<Paging, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let max_bytes = req
            .app_data::<web::Data<super::ApiState>>()
            .map_or(usize::MAX, |s| s.limits.page_bytes);
        ready(page_of(req.query_string(), max_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(query: &str) -> String {
        match page_of(query, usize::MAX) {
            Ok(Paging(p)) => format!("{} {:?}", p.size, p.token),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(message(""), "25 None");
        assert_eq!(
            message("token=x&page_size=2&page_token=17"),
            "2 Some(\"17\")"
        );
        assert_eq!(message("page_size=100&page_token="), "100 None");
        for bad in [
            "page_size=0",
            "page_size=101",
            "page_size=abc",
            "page_size=-1",
        ] {
            assert_eq!(
                message(bad),
                "page_size: must be an integer between 1 and 100",
                "{bad}"
            );
        }
    }
}
