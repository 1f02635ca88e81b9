//! Running campaigns: one [`actor::CampaignActor`] per running campaign, one call actor per
//! dial attempt, and the pure decisions they ask (`pacing`, `retry`).

use crate::domain::CampaignStatus;
use uuid::Uuid;

/// What the API tells the dialing engine. The API has already stored the new status; the
/// engine starts or winds down the campaign's actor accordingly.
pub trait Control: Send + Sync + 'static {
    /// The campaign's status was set to `status` by a request.
    fn status_changed(&self, campaign_id: Uuid, status: CampaignStatus);
}

/// A control that does nothing (an API without an engine, as in tests of validation).
pub struct NoEngine;

impl Control for NoEngine {
    fn status_changed(&self, _campaign_id: Uuid, _status: CampaignStatus) {}
}
