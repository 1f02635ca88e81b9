//! A campaign's progress: targets by where they stand, attempts and dispositions.

use crate::domain::Campaign;
use crate::store::{Store, StoreResult};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /v1.0/campaigns/{id}/stats`. `total = queued + dialing + succeeded + failed`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CampaignStats {
    /// The campaign's status.
    pub status: String,
    /// Targets in the outdial.
    pub total: u64,
    /// Waiting for a first try or a retry.
    pub queued: u64,
    /// A try in flight.
    pub dialing: u64,
    /// Reached.
    pub succeeded: u64,
    /// Not reached after every try allowed.
    pub failed: u64,
    /// Ended attempts by disposition.
    pub dispositions: BTreeMap<String, u64>,
    /// Attempts made.
    pub attempts: u64,
    /// Percent of targets done.
    pub progress: u64,
}

/// Reads a campaign's figures from the store.
pub async fn campaign_stats(store: &dyn Store, campaign: &Campaign) -> StoreResult<CampaignStats> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let t = store.count_targets(campaign.outdial_id, now_ms).await?;
    let calls = store.call_counts(campaign.id).await?;
    let total = t.queued + t.dialing + t.succeeded + t.failed;
    Ok(CampaignStats {
        status: campaign.status.as_str().to_string(),
        total,
        queued: t.queued,
        dialing: t.dialing,
        succeeded: t.succeeded,
        failed: t.failed,
        dispositions: calls.dispositions,
        attempts: calls.attempts,
        progress: ((t.succeeded + t.failed) * 100)
            .checked_div(total)
            .unwrap_or(0),
    })
}
