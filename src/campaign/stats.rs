//! A campaign's progress: targets by where they stand, attempts and dispositions.

use crate::domain::Campaign;
use crate::store::{CallCounts, Store, StoreResult, TargetCounts};
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
    /// Percent of targets done (succeeded or failed), rounded down; 0 with no target.
    pub progress: u64,
}

impl CampaignStats {
    /// Builds the figures from the store's counts.
    pub fn new(status: &str, targets: TargetCounts, calls: CallCounts) -> CampaignStats {
        let total = targets.queued + targets.dialing + targets.succeeded + targets.failed;
        let done = targets.succeeded + targets.failed;
        CampaignStats {
            status: status.to_string(),
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

/// Reads a campaign's figures from the store.
pub async fn campaign_stats(store: &dyn Store, campaign: &Campaign) -> StoreResult<CampaignStats> {
    let targets = if campaign.outdial_id.is_nil() {
        TargetCounts::default()
    } else {
        store
            .count_targets(campaign.outdial_id, chrono::Utc::now().timestamp_millis())
            .await?
    };
    let calls = store.call_counts(campaign.id).await?;
    Ok(CampaignStats::new(campaign.status.as_str(), targets, calls))
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
        let s = CampaignStats::new("run", targets, CallCounts::default());
        assert_eq!((s.total, s.progress), (7, 28));
        let empty = CampaignStats::new("stop", TargetCounts::default(), CallCounts::default());
        assert_eq!((empty.total, empty.progress), (0, 0));
    }
}
