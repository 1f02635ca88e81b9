//! The REST control API over HTTP: each test starts the server on a port of its own over a
//! fresh SQLite database (see `api/helpers.rs`).

#[path = "api/helpers.rs"]
mod helpers;

#[path = "api/addresses.rs"]
mod addresses;
#[path = "api/agents.rs"]
mod agents;
#[path = "api/auth.rs"]
mod auth;
#[path = "api/campaign_status.rs"]
mod campaign_status;
#[path = "api/campaigncalls.rs"]
mod campaigncalls;
#[path = "api/campaigns.rs"]
mod campaigns;
#[path = "api/dnclists.rs"]
mod dnclists;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/fields.rs"]
mod fields;
#[path = "api/flows.rs"]
mod flows;
#[path = "api/imports.rs"]
mod imports;
#[path = "api/limits.rs"]
mod limits;
#[path = "api/metrics.rs"]
mod metrics;
#[path = "api/outplans.rs"]
mod outplans;
#[path = "api/progress.rs"]
mod progress;
#[path = "api/queues.rs"]
mod queues;
#[path = "api/recordings.rs"]
mod recordings;
#[path = "api/serve.rs"]
mod serve;
#[path = "api/targets.rs"]
mod targets;
#[path = "api/webhooks.rs"]
mod webhooks;
#[path = "api/windows.rs"]
mod windows;
