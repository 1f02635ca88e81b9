//! What stops the dialing, in one place: a store that cannot write stops every campaign, a
//! trunk that is down (or asked for a pause) stops the campaigns dialing through it. The
//! campaigns ask it before every dial; the API shows the same answer.

use crate::store::health::{StoreFailure, StoreHealth};
use crate::trunk::gate::TrunkView;
use crate::trunk::TrunkGate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// The node's store and trunks, as the dialing depends on them.
#[derive(Default)]
pub struct NodeHealth {
    /// Whether the store can write.
    pub store: Arc<StoreHealth>,
    /// Trunks by name.
    pub trunks: BTreeMap<String, Arc<TrunkGate>>,
    /// The trunk used when a campaign names none.
    pub default_trunk: String,
}

/// The node's health as `GET /health` reports it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// `ok` when the store can write and no trunk is down, else `degraded`.
    pub status: &'static str,
    /// The store.
    pub store: StoreReport,
    /// Every trunk.
    pub trunks: Vec<TrunkView>,
}

/// The store's part of [`HealthReport`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreReport {
    /// Whether the last commit succeeded.
    pub writable: bool,
    /// Why not, and since when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<StoreFailure>,
}

impl NodeHealth {
    /// The trunk called `name` (empty: the default one).
    pub fn trunk(&self, name: &str) -> Option<&Arc<TrunkGate>> {
        let name = if name.is_empty() {
            &self.default_trunk
        } else {
            name
        };
        self.trunks.get(name)
    }

    /// Why a campaign dialing through the trunk `trunk` may place no call at `now`, if it may
    /// not.
    pub fn dialing_held(&self, trunk: &str, now: Instant) -> Option<String> {
        if let Some(f) = self.store.failure() {
            return Some(format!("the store cannot write: {}", f.reason));
        }
        match self.trunk(trunk) {
            Some(gate) => gate.hold(now),
            None => Some(format!("no trunk named {trunk:?} is configured")),
        }
    }

    /// The whole picture at `now`.
    pub fn report(&self, now: Instant) -> HealthReport {
        let failure = self.store.failure();
        let trunks: Vec<TrunkView> = self.trunks.values().map(|g| g.view(now)).collect();
        let ok = failure.is_none() && trunks.iter().all(|t| t.reason.is_empty());
        HealthReport {
            status: if ok { "ok" } else { "degraded" },
            store: StoreReport {
                writable: failure.is_none(),
                failure,
            },
            trunks,
        }
    }
}
