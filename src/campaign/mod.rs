//! Running campaigns: one [`actor::CampaignActor`] per running campaign, one call actor per
//! dial attempt, and the pure decisions they ask (`pacing`, `predictive`, `dial_mode`, `retry`,
//! `window`, `caller_id`, `zones`); `simulator` runs the pacing over a simulated shift.

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
pub mod board;
pub mod caller_id;
pub mod dial_mode;
pub mod engine;
mod nanp;
pub mod pacing;
pub mod predictive;
pub mod retry;
mod settings;
pub mod simulator;
pub mod stats;
pub mod window;
mod zone_prefixes;
pub mod zones;

pub use settings::{CampaignSettings, DialingSettings};

/// The clock call windows and schedules are read on: the system clock moved by a fixed
/// offset (`[campaign] clock_offset_s`, 0 in production). Tests and rehearsals set the offset
/// to see tomorrow morning's windows open now; the SIP timers and the stored `tm_*` times
/// keep the real clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// The system clock moved by `offset_s` seconds.
    pub fn offset_by(offset_s: i64) -> Clock {
        Clock {
            offset_ms: offset_s.saturating_mul(1000),
        }
    }

    /// Now, on this clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::milliseconds(self.offset_ms)
    }

    /// Now, in unix ms on this clock.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

use crate::health::NodeHealth;
use crate::sip::transport::EndpointHandle;
use crate::store::writer::Writer;
use crate::store::Store;
use crate::trunk::TrunkGate;
use std::sync::Arc;

/// What every campaign and call actor shares.
pub struct Deps {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Group-committed hot-path writes.
    pub writer: Writer,
    /// The SIP endpoint.
    pub endpoint: EndpointHandle,
    /// The store's and the trunks' health, and the trunks by name.
    pub health: Arc<NodeHealth>,
    /// What calls' media need.
    pub media: Arc<crate::call::actor::MediaDeps>,
    /// The node's queues, which answered calls join (`queue_join`).
    pub queues: Option<Arc<crate::queue::QueueRegistry>>,
    /// The agents as they are now, which campaigns with a queue pace their dials by.
    pub agents: Option<Arc<crate::agent::AgentBoard>>,
    /// The safe harbour, the abandon window, predictive pacing's reserve.
    pub dialing: DialingSettings,
    /// The arbiters (threads) call actors are spread over, one per two cores.
    pub call_arbiters: Vec<actix::ArbiterHandle>,
    /// Round-robin position in `call_arbiters`.
    pub next_arbiter: std::sync::atomic::AtomicUsize,
    /// The clock windows and schedules are read on.
    pub clock: Clock,
    /// What each running campaign's last look at its limits found (for `/eligibility`).
    pub board: Arc<board::CampaignBoard>,
}

impl Deps {
    /// Starts `calls` (actors of one batch of attempts) spread round-robin over the call
    /// arbiters, with one message per arbiter rather than one per call: each message to an
    /// arbiter wakes its thread. Without a pool they start on the current arbiter.
    pub fn start_calls<A>(&self, calls: Vec<A>)
    where
        A: actix::Actor<Context = actix::Context<A>> + Send,
    {
        if calls.is_empty() {
            return;
        }
        if self.call_arbiters.is_empty() {
            for call in calls {
                call.start();
            }
            return;
        }
        let n = self.call_arbiters.len();
        let first = self
            .next_arbiter
            .fetch_add(calls.len(), std::sync::atomic::Ordering::Relaxed);
        let mut shares: Vec<Vec<A>> = (0..n.min(calls.len())).map(|_| Vec::new()).collect();
        let k = shares.len();
        for (i, call) in calls.into_iter().enumerate() {
            shares[i % k].push(call);
        }
        for (i, share) in shares.into_iter().enumerate() {
            let arbiter = &self.call_arbiters[(first + i) % n];
            arbiter.spawn_fn(move || {
                for call in share {
                    call.start();
                }
            });
        }
    }

    /// The trunk called `name` (empty: the default one).
    pub fn gate(&self, name: &str) -> Option<Arc<TrunkGate>> {
        self.health.trunk(name).cloned()
    }
}
