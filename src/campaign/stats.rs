//! A campaign's progress: targets by where they stand, attempts and dispositions.
//!
//! The figures are the campaign's own: `succeeded` and `failed` count the done targets its own
//! attempts finished. Targets done otherwise (by another campaign over the same outdial, before
//! a reset) are `done_elsewhere` and not part of its progress.

use crate::domain::Campaign;
use crate::store::{CallCounts, Store, StoreResult, TargetCounts};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /v1.0/campaigns/{id}/stats`.
/// `total = queued + dialing + succeeded + failed + done_elsewhere`.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CampaignStats {
    /// The campaign's status.
    pub status: String,
    /// Targets in the outdial.
    pub total: u64,
    /// Waiting for a first try or a retry.
    pub queued: u64,
    /// A try in flight.
    pub dialing: u64,
    /// Reached by this campaign.
    pub succeeded: u64,
    /// Not reached after every try allowed, this campaign having tried.
    pub failed: u64,
    /// Done, but not by this campaign: another campaign over the outdial finished them.
    pub done_elsewhere: u64,
    /// Ended attempts by disposition.
    pub dispositions: BTreeMap<String, u64>,
    /// Attempts made.
    pub attempts: u64,
    /// Answered callees who left (hung up or timed out) before an agent took the call.
    pub abandoned: u64,
    /// Percent (one decimal) of the callees who answered and were to be handed to an agent
    /// (`answered` + `abandoned`) who were abandoned; 0 with none.
    pub abandon_rate: f64,
    /// Percent of this campaign's targets (all but `done_elsewhere`) it has finished, rounded
    /// down; 0 with none.
    pub progress: u64,
}

impl CampaignStats {
    /// Builds the figures from the store's counts.
    pub fn new(status: &str, targets: TargetCounts, calls: CallCounts) -> CampaignStats {
        let total = targets.queued + targets.dialing + targets.succeeded + targets.failed;
        let succeeded = calls.succeeded_targets.min(targets.succeeded);
        let failed = calls.failed_targets.min(targets.failed);
        let done_elsewhere = targets.succeeded + targets.failed - succeeded - failed;
        let own = total - done_elsewhere;
        let count = |d: &str| calls.dispositions.get(d).copied().unwrap_or(0);
        let (abandoned, answered) = (count("abandoned"), count("answered"));
        CampaignStats {
            status: status.to_string(),
            total,
            queued: targets.queued,
            dialing: targets.dialing,
            succeeded,
            failed,
            done_elsewhere,
            abandoned,
            abandon_rate: abandon_rate(abandoned, answered),
            dispositions: calls.dispositions,
            attempts: calls.attempts,
            progress: ((succeeded + failed) * 100).checked_div(own).unwrap_or(0),
        }
    }
}

/// Percent (one decimal) of `abandoned` among the callees who answered (`answered` took an
/// agent or ended in the flow, `abandoned` did not).
pub fn abandon_rate(abandoned: u64, answered: u64) -> f64 {
    let reached = abandoned + answered;
    if reached == 0 {
        return 0.0;
    }
    (abandoned as f64 * 1000.0 / reached as f64).round() / 10.0
}

/// Reads a campaign's figures from the store's counters (a few rows, however many targets
/// and attempts).
pub async fn campaign_stats(store: &dyn Store, campaign: &Campaign) -> StoreResult<CampaignStats> {
    let targets = if campaign.outdial_id.is_nil() {
        TargetCounts::default()
    } else {
        store.counted_targets(campaign.outdial_id).await?
    };
    let calls = store.call_counts(campaign.id).await?;
    Ok(CampaignStats::new(campaign.status.as_str(), targets, calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abandon_rate_is_abandoned_over_callees_who_answered() {
        assert_eq!(abandon_rate(0, 0), 0.0);
        assert_eq!(abandon_rate(1, 3), 25.0);
        assert_eq!(abandon_rate(1, 2), 33.3);
        assert_eq!(abandon_rate(2, 0), 100.0);
        let mut calls = CallCounts::default();
        calls.dispositions.insert("answered".into(), 9);
        calls.dispositions.insert("abandoned".into(), 1);
        calls.dispositions.insert("busy".into(), 5);
        let s = CampaignStats::new("run", TargetCounts::default(), calls);
        assert_eq!((s.abandoned, s.abandon_rate), (1, 10.0));
    }

    #[test]
    fn totals_add_up_and_progress_is_whole_percent() {
        let targets = TargetCounts {
            queued: 4,
            dialing: 1,
            succeeded: 1,
            failed: 1,
            due: 2,
        };
        let own = CallCounts {
            succeeded_targets: 1,
            failed_targets: 1,
            ..CallCounts::default()
        };
        let s = CampaignStats::new("run", targets, own);
        assert_eq!((s.total, s.progress, s.done_elsewhere), (7, 28, 0));
        let empty = CampaignStats::new("stop", TargetCounts::default(), CallCounts::default());
        assert_eq!((empty.total, empty.progress), (0, 0));
    }

    #[test]
    fn targets_another_campaign_finished_are_not_this_ones() {
        let targets = TargetCounts {
            queued: 2,
            succeeded: 3,
            failed: 1,
            ..TargetCounts::default()
        };
        let s = CampaignStats::new("run", targets, CallCounts::default());
        assert_eq!(
            (s.total, s.succeeded, s.failed, s.done_elsewhere, s.progress),
            (6, 0, 0, 4, 0)
        );
    }
}
