//! `GET /campaigns/{id}/stats`: where a campaign's targets stand and what its attempts became.

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::ApiState;
use crate::domain::{Campaign, CampaignStatus};
use crate::store::{CallCounts, TargetCounts};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigns/{id}/stats").route(web::get().to(get)));
}

/// The figures of one campaign.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// The campaign's status.
    pub status: CampaignStatus,
    /// Targets in the outdial: `queued + dialing + succeeded + failed`.
    pub total: u64,
    /// Waiting for a first try or a retry.
    pub queued: u64,
    /// A try in flight.
    pub dialing: u64,
    /// Reached.
    pub succeeded: u64,
    /// Not reached after every try.
    pub failed: u64,
    /// Ended attempts by disposition.
    pub dispositions: BTreeMap<String, u64>,
    /// Attempts made.
    pub attempts: u64,
    /// Percent of targets done (succeeded or failed), rounded down; 0 with no target.
    pub progress: u64,
}

impl Stats {
    /// Builds the figures from the store's counts.
    pub fn new(status: CampaignStatus, targets: TargetCounts, calls: CallCounts) -> Stats {
        let total = targets.queued + targets.dialing + targets.succeeded + targets.failed;
        let done = targets.succeeded + targets.failed;
        Stats {
            status,
            total,
            queued: targets.queued,
            dialing: targets.dialing,
            succeeded: targets.succeeded,
            failed: targets.failed,
            dispositions: calls.dispositions,
            attempts: calls.attempts,
            progress: (done * 100).checked_div(total).unwrap_or(0),
        }
    }
}

async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    let targets = if campaign.outdial_id.is_nil() {
        TargetCounts::default()
    } else {
        let now_ms = chrono::Utc::now().timestamp_millis();
        state
            .store
            .count_targets(campaign.outdial_id, now_ms)
            .await?
    };
    let calls = state.store.call_counts(campaign.id).await?;
    Ok(HttpResponse::Ok().json(Stats::new(campaign.status, targets, calls)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_and_progress_is_whole_percent() {
        let targets = TargetCounts {
            queued: 4,
            dialing: 1,
            succeeded: 1,
            failed: 1,
            due: 2,
        };
        let s = Stats::new(CampaignStatus::Run, targets, CallCounts::default());
        assert_eq!((s.total, s.progress), (7, 28));
        let empty = Stats::new(
            CampaignStatus::Stop,
            TargetCounts::default(),
            CallCounts::default(),
        );
        assert_eq!((empty.total, empty.progress), (0, 0));
    }
}
