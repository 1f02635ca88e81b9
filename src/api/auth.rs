//! Who is asking: the customer named by the request's token.
//!
//! The token comes from `Authorization: Bearer <token>` or, as VoIPBIN takes it, from the
//! `token` query parameter. Every handler that takes a [`Customer`] scopes its queries to it.

use super::error::ApiError;
use super::ApiState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use serde::Deserialize;
use std::future::{ready, Ready};
use uuid::Uuid;

/// The tenant the request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Customer(pub Uuid);

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token of a request: the bearer header first, then `?token=`.
pub(super) fn token_of(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    web::Query::<TokenQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token)
}

fn customer_of(req: &HttpRequest) -> Result<Customer, ApiError> {
    let state = req
        .app_data::<web::Data<ApiState>>()
        .ok_or_else(|| ApiError::Internal("ApiState is not registered".into()))?;
    let token = token_of(req)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthenticated(
            "missing token: pass ?token=<token> or Authorization: Bearer <token>",
        ))?;
    state
        .tokens
        .get(&token)
        .map(|&id| Customer(id))
        .ok_or(ApiError::Unauthenticated("unknown token"))
}

impl FromRequest for Customer {
    type Error = ApiError;
    type Future = Ready<Result<Customer, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(customer_of(req))
    }
}
