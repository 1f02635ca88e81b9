//! `GET /metrics` (beside `/v1.0`, like `/health`): the node's Prometheus metrics in the text
//! exposition format, and the middleware that times every API request by its route pattern.
//!
//! The figures are node-wide, every tenant's: no API token opens them. With `[api]
//! metrics_token` set, the scraper gives that token (`Authorization: Bearer` or `?token=`).

use super::auth::token_of;
use super::error::ApiError;
use super::ApiState;
use crate::agent::AgentState;
use crate::metrics::{exposition::CONTENT_TYPE, LiveFigures};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use std::time::Instant;

/// Every agent state, in the order the metrics list them.
const AGENT_STATES: [AgentState; 6] = [
    AgentState::Offline,
    AgentState::Available,
    AgentState::Ringing,
    AgentState::Busy,
    AgentState::WrapUp,
    AgentState::Away,
];

/// Registers the route (at the root).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(get)));
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    summary = "Prometheus metrics, node-wide (the `[api] metrics_token` when one is set)",
    security((), ("metrics_token" = []), ("metrics_bearer" = [])),
    responses(
        (status = 200, description = "The Prometheus text exposition format", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "A metrics token is set and was not given", body = super::error::ErrorBody),
    )
)]
async fn get(req: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    if let Some(wanted) = &state.metrics_token {
        let given = token_of(&req).unwrap_or_default();
        if !same(given.as_bytes(), wanted.as_bytes()) {
            return Err(ApiError::Unauthenticated(
                "/metrics asks for the metrics token: Authorization: Bearer <token> or ?token=<token>",
            ));
        }
    }
    let text = crate::metrics::global().render(&live_figures(&state));
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}

/// What the node knows now: the trunks' gates, the agents' and queues' boards, the store.
fn live_figures(state: &ApiState) -> LiveFigures {
    let now = Instant::now();
    let health = &state.health;
    let mut calls_in_progress = 0;
    let mut trunks_up = Vec::with_capacity(health.trunks.len());
    for (name, gate) in &health.trunks {
        calls_in_progress += gate.in_flight();
        let down = gate.view(now).state == crate::trunk::TrunkState::Down;
        trunks_up.push((name.clone(), !down));
    }
    let mut agents: Vec<(&'static str, u64)> =
        AGENT_STATES.iter().map(|s| (s.as_str(), 0)).collect();
    for s in state.live.agents.states() {
        if let Some(i) = AGENT_STATES.iter().position(|k| *k == s) {
            agents[i].1 += 1;
        }
    }
    let mut queues_waiting = state.live.queues.waiting_counts();
    queues_waiting.sort();
    LiveFigures {
        calls_in_progress,
        trunks_up,
        agents,
        queues_waiting,
        store_writable: health.store.writable(),
    }
}

/// Compares two tokens in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Times every request, labelled by the route pattern it matched (ids never become labels).
///
/// The pattern is read from the response's request, once routed: the router has then recorded
/// the matched resource, where asking before would match the path against the routes a second
/// time (their patterns are regular expressions, a sizeable part of a small read's cost).
pub async fn time_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await;
    // An error that reached here rather than a response (the handlers' and extractors' errors
    // are responses by now) has no request left to ask: it counts as unmatched.
    let route = res.as_ref().ok().and_then(|r| r.request().match_pattern());
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    crate::metrics::global().http_request(
        route.as_deref(),
        method.as_str(),
        status,
        started.elapsed(),
    );
    res
}
