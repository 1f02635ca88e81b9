//! The REST control API: VoIPBIN-shaped resources under `/v1.0` (see `docs/api.md`).
//!
//! ```text
//! mod.rs            ApiState, routes, serve
//! error.rs          ApiError → status code and {"message": ...}; JSON/query/path errors
//! auth.rs           the Customer a token names (?token= or Authorization: Bearer)
//! paging.rs         page_size / page_token
//! fields.rs         reading a JSON body field by field, errors naming the field
//! limits.rs         body, string, data and page bounds; imports at once
//! address.rs        addresses in requests, tel targets normalised to E.164
//! documents.rs      load / check / list / soft-delete shared by the configuration resources
//! outplans.rs       /outplans
//! outdials.rs       /outdials and /outdials/{id}/reset
//! targets.rs        /outdials/{id}/targets (one, bulk JSON, CSV)
//! target_rows.rs    request rows → targets, with the import report
//! target_csv.rs     CSV imports of targets
//! target_csv_stream.rs  a CSV file of targets read row by row
//! target_import.rs  streamed CSV imports: body → parser thread → batches → store
//! campaigns.rs      /campaigns and its PUT sub-resources
//! campaign_fields.rs  a campaign's writable fields and their checks
//! campaign_status.rs  run / stop requests and what they do to the status
//! stats.rs          /campaigns/{id}/stats
//! eligibility.rs    /campaigns/{id}/eligibility: waiting targets by reason
//! campaigncalls.rs  /campaigncalls (read only, ?digits= filter)
//! campaigncall_csv.rs  /campaigns/{id}/campaigncalls.csv, streamed
//! flows.rs          /flows
//! agents.rs         /agents, /agents/{id}/status and its one-field PUTs
//! queues.rs         /queues
//! dnclists.rs       /dnclists and their numbers (do-not-call lists)
//! recordings.rs     /recordings and their WAV files
//! events.rs         /events: the event stream (Server-Sent Events)
//! webhooks.rs       /webhooks and their delivery log
//! metrics.rs        /metrics (Prometheus, beside /v1.0) and request durations by route
//! openapi.rs        /openapi.json, generated from the handlers (utoipa)
//! bodies.rs         the request bodies as the OpenAPI document describes them
//! dashboard.rs      /dashboard/: the web dashboard's page, script and style, embedded
//! ```
//!
//! Every query is scoped to the token's customer: another tenant's id answers 404.

mod address;
mod agents;
mod answers;
mod auth;
mod bodies;
mod campaign_fields;
mod campaign_status;
mod campaigncall_csv;
mod campaigncalls;
mod campaigns;
mod dashboard;
mod dnclists;
mod documents;
mod eligibility;
pub mod error;
mod events;
mod fields;
mod flows;
mod health;
mod limits;
mod metrics;
mod openapi;
mod outdials;
mod outplans;
mod paging;
mod queues;
mod recordings;
mod stats;
mod target_csv;
mod target_csv_stream;
mod target_import;
mod target_rows;
mod targets;
mod webhooks;

use crate::agent::{AgentBoard, LiveAgents};
use crate::campaign::Control;
use crate::health::NodeHealth;
use crate::queue::{LiveQueues, QueueBoard};
use crate::store::{Docs, Store};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};
use phonenumber::country::Id as Country;
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use uuid::Uuid;

pub use error::ApiError;
pub use limits::ApiLimits;

/// What the handlers share.
pub struct ApiState {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// The dialing engine, told of status changes after they are stored.
    pub control: Arc<dyn Control>,
    /// Token → customer id.
    pub tokens: HashMap<String, Uuid>,
    /// Region national numbers are read in, e.g. `"US"`.
    pub default_region: String,
    /// The configured trunk names a campaign's `trunk` may name.
    pub trunks: Vec<String>,
    /// What stops the dialing (store, trunks), for `/health` and campaigns' `paused_reason`.
    pub health: Arc<NodeHealth>,
    /// Body, import and page bounds.
    pub limits: ApiLimits,
    /// What the node knows of its agents and queues now.
    pub live: Live,
    /// The digest realm agents' passwords are hashed for (`[sip] realm`).
    pub realm: String,
    /// The event stream's replay bound and heartbeat (`[events]`).
    pub events: crate::events::EventSettings,
    /// The token `GET /metrics` asks for (`None`: it asks for none).
    pub metrics_token: Option<String>,
}

/// The live state the API answers from (agents' `status` and `contacts`, queues' calls); the
/// agents' and queues' actors write it.
#[derive(Clone)]
pub struct Live {
    /// Agents' states and registered contacts.
    pub agents: Arc<dyn LiveAgents>,
    /// Queues' waiting and served calls.
    pub queues: Arc<dyn LiveQueues>,
    /// Told of every agent stored, so that the registrar and the board follow.
    pub agent_changes: Arc<dyn crate::agent::AgentChanges>,
    /// What each running campaign's last look at its limits found.
    pub campaigns: Arc<crate::campaign::board::CampaignBoard>,
    /// The clock call windows and schedules are read on.
    pub clock: crate::campaign::Clock,
}

impl Default for Live {
    /// Empty boards: every agent offline, every queue empty.
    fn default() -> Live {
        Live {
            agents: Arc::new(AgentBoard::default()),
            queues: Arc::new(QueueBoard::default()),
            agent_changes: Arc::new(crate::agent::NoAgentChanges),
            campaigns: Default::default(),
            clock: Default::default(),
        }
    }
}

impl ApiState {
    /// Typed document access.
    fn docs(&self) -> Docs<'_> {
        Docs(self.store.as_ref())
    }

    /// The default region, parsed.
    fn region(&self) -> Result<Country, ApiError> {
        crate::domain::phone::region(&self.default_region)
            .map_err(|e| ApiError::Internal(format!("default_region: {e}")))
    }
}

/// Registers the routes under `/v1.0` and the error mapping of actix's extractors. The
/// state must be registered as `web::Data<ApiState>`, and the JSON body limit (see
/// [`serve`]) as a `web::JsonConfig` with [`error::json_error`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(
            web::scope("/v1.0")
                .configure(outplans::routes)
                .configure(outdials::routes)
                .configure(targets::routes)
                .configure(campaigns::routes)
                .configure(campaign_status::routes)
                .configure(stats::routes)
                .configure(eligibility::routes)
                .configure(campaigncalls::routes)
                .configure(campaigncall_csv::routes)
                .configure(flows::routes)
                .configure(agents::routes)
                .configure(queues::routes)
                .configure(dnclists::routes)
                .configure(recordings::routes)
                .configure(events::routes)
                .configure(webhooks::routes)
                .configure(openapi::routes)
                .default_service(web::to(error::no_route)),
        )
        .configure(health::routes)
        .configure(metrics::routes)
        .configure(dashboard::routes);
}

/// Serves the API on an already-bound listener (bind port 0 in tests) with two workers. The
/// returned server runs once awaited or spawned.
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
) -> std::io::Result<actix_web::dev::Server> {
    let imports = web::Data::new(limits::ImportSlots::new(state.limits.concurrent_imports));
    let json_limit = state.limits.json_body_bytes;
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(metrics::time_request))
            .wrap(
                ErrorHandlers::new()
                    .handler(StatusCode::NOT_FOUND, error::json_body_for_bare_errors)
                    .handler(
                        StatusCode::METHOD_NOT_ALLOWED,
                        error::json_body_for_bare_errors,
                    ),
            )
            .app_data(state.clone())
            .app_data(imports.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .error_handler(error::json_error),
            )
            .configure(configure)
            .default_service(web::to(error::no_route))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}
