//! A trunk as the campaigns share it: its calls in flight, its calls still waiting for a
//! first response, its calls-per-second bucket and its health, counted across every campaign
//! dialing through it.

use super::bucket::TokenBucket;
use super::config::Trunk;
use super::health::{Observation, TrunkHealth, TrunkState};
use crate::domain::event::{EventType, NewEvent, Sink};
use serde::Serialize;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use uuid::Uuid;

/// One trunk's shared limits.
pub struct TrunkGate {
    /// The trunk (shared with every call placed through it).
    pub trunk: Arc<Trunk>,
    in_flight: AtomicU32,
    /// Calls whose INVITE has had no response yet.
    setting_up: Arc<AtomicU32>,
    bucket: Mutex<TokenBucket>,
    health: Mutex<TrunkHealth>,
    /// Told of each change of the trunk's state (`trunk_updated`, seen by every tenant).
    pub events: Sink,
}

/// A trunk's health as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrunkView {
    /// Its configured name.
    pub name: String,
    /// `unknown`, `up` or `down`.
    pub state: TrunkState,
    /// Why it takes no call now (down, or a 503's `Retry-After`); empty when it takes them.
    pub reason: String,
    /// Seconds it has been down.
    pub down_secs: Option<u64>,
    /// Calls through it now.
    pub calls_in_flight: u32,
}

/// One call counted as setting up through a trunk until it is dropped: when the call hears
/// its first response (or ends, or is never placed).
#[derive(Debug)]
pub struct SetupSlot(Arc<AtomicU32>);

impl Drop for SetupSlot {
    fn drop(&mut self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

impl TrunkGate {
    /// A gate with a full bucket.
    pub fn new(trunk: Trunk, now: Instant) -> TrunkGate {
        let bucket = TokenBucket::new(trunk.config.max_cps, now);
        TrunkGate {
            trunk: Arc::new(trunk),
            in_flight: AtomicU32::new(0),
            setting_up: Arc::default(),
            bucket: Mutex::new(bucket),
            health: Mutex::new(TrunkHealth::default()),
            events: Sink::default(),
        }
    }

    fn health(&self) -> MutexGuard<'_, TrunkHealth> {
        match self.health.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Records what the trunk did (a probe's answer, a call's fate); logs a change of state.
    pub fn observe(&self, now: Instant, what: Observation) {
        let mut health = self.health();
        if health.observe(now, what) {
            let state = health.state();
            let reason = health.hold(now).unwrap_or_default();
            tracing::warn!(trunk = %self.trunk.config.name, ?state, reason, "trunk state changed");
            drop(health);
            self.events.record(|| NewEvent {
                customer_id: Uuid::nil(),
                kind: EventType::TrunkUpdated,
                resource_id: self.trunk.config.name.clone(),
                data: serde_json::to_string(&self.view(now)).unwrap_or_default(),
            });
        }
    }

    /// Why no call may go through the trunk now, if none may.
    pub fn hold(&self, now: Instant) -> Option<String> {
        self.health().hold(now)
    }

    /// Whether the trunk takes calls, as last seen.
    pub fn state(&self) -> TrunkState {
        self.health().state()
    }

    /// Its health for the API.
    pub fn view(&self, now: Instant) -> TrunkView {
        let health = self.health();
        TrunkView {
            name: self.trunk.config.name.clone(),
            state: health.state(),
            reason: health.hold(now).unwrap_or_default(),
            down_secs: health.down_for(now).map(|d| d.as_secs()),
            calls_in_flight: self.in_flight(),
        }
    }

    /// Calls through the trunk right now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Calls through the trunk whose INVITE has had no response yet.
    pub fn setting_up(&self) -> u32 {
        self.setting_up.load(Ordering::Relaxed)
    }

    /// Counts one more call as setting up, until the slot is dropped.
    pub fn setup_slot(&self) -> SetupSlot {
        self.setting_up.fetch_add(1, Ordering::Relaxed);
        SetupSlot(self.setting_up.clone())
    }

    /// Lets `decide(tokens_available)` choose how many dials to start and spends that many
    /// tokens and concurrency slots at once.
    pub fn admit(&self, now: Instant, decide: impl FnOnce(u32) -> u32) -> u32 {
        let mut bucket = match self.bucket.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = decide(bucket.available(now));
        bucket.take(n);
        self.in_flight.fetch_add(n, Ordering::Relaxed);
        n
    }

    /// One call through the trunk is over.
    pub fn release(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trunk::TrunkConfig;

    #[tokio::test]
    async fn a_call_counts_as_setting_up_until_its_slot_is_dropped() {
        let config: TrunkConfig =
            toml::from_str("name = \"t\"\nuri = \"sip:127.0.0.1:5080\"\nmax_setup = 2")
                .expect("config");
        let trunk = Trunk::resolve(config).await.expect("trunk");
        let gate = TrunkGate::new(trunk, Instant::now());
        let first = gate.setup_slot();
        let second = gate.setup_slot();
        assert_eq!(gate.setting_up(), 2);
        drop(first);
        assert_eq!(gate.setting_up(), 1);
        drop(second);
        assert_eq!(gate.setting_up(), 0);
    }
    #[tokio::test]
    async fn a_trunk_going_down_and_up_is_a_trunk_updated_event_for_every_tenant() {
        use crate::domain::event::Recorded;
        let config: TrunkConfig =
            toml::from_str("name = \"carrier\"\nuri = \"sip:127.0.0.1:5080\"").expect("config");
        let trunk = Trunk::resolve(config).await.expect("trunk");
        let gate = TrunkGate::new(trunk, Instant::now());
        let seen = Arc::new(Recorded::default());
        gate.events.set(seen.clone());
        let now = Instant::now();
        gate.observe(now, Observation::ProbeUnanswered);
        assert!(seen.types().is_empty(), "one miss changes nothing");
        gate.observe(now, Observation::ProbeUnanswered);
        gate.observe(now, Observation::ProbeAnswered(200));
        assert_eq!(
            seen.types(),
            [EventType::TrunkUpdated, EventType::TrunkUpdated]
        );
        let down = seen.0.lock().expect("events")[0].clone();
        assert_eq!(
            (down.customer_id, down.resource_id.as_str()),
            (Uuid::nil(), "carrier")
        );
        let data: serde_json::Value = serde_json::from_str(&down.data).expect("JSON");
        assert_eq!(data["state"], "down");
    }
}
