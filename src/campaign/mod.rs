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

pub mod actor;
pub mod engine;
pub mod gate;
pub mod pacing;
pub mod retry;
pub mod stats;

use crate::sip::transport::EndpointHandle;
use crate::store::writer::Writer;
use crate::store::Store;
use gate::TrunkGate;
use std::collections::HashMap;
use std::sync::Arc;

/// What every campaign and call actor shares.
pub struct Deps {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Group-committed hot-path writes.
    pub writer: Writer,
    /// The SIP endpoint.
    pub endpoint: EndpointHandle,
    /// Trunks by name.
    pub gates: HashMap<String, Arc<TrunkGate>>,
    /// The trunk used when a campaign names none.
    pub default_trunk: String,
    /// What calls' media need.
    pub media: Arc<crate::call::actor::MediaDeps>,
    /// The arbiters (threads) call actors are spread over, one per two cores.
    pub call_arbiters: Vec<actix::ArbiterHandle>,
    /// Round-robin position in `call_arbiters`.
    pub next_arbiter: std::sync::atomic::AtomicUsize,
}

impl Deps {
    /// The arbiter the next call actor starts on (the current one when there is no pool).
    pub fn call_arbiter(&self) -> actix::ArbiterHandle {
        if self.call_arbiters.is_empty() {
            return actix::Arbiter::current();
        }
        let i = self
            .next_arbiter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.call_arbiters[i % self.call_arbiters.len()].clone()
    }

    /// The trunk called `name` (empty: the default one).
    pub fn gate(&self, name: &str) -> Option<Arc<TrunkGate>> {
        let name = if name.is_empty() {
            &self.default_trunk
        } else {
            name
        };
        self.gates.get(name).cloned()
    }
}
