//! A trunk as the campaigns share it: its calls in flight, its calls still waiting for a
//! first response and its calls-per-second bucket, counted across every campaign dialing
//! through it.

use super::pacing::TokenBucket;
use crate::call::trunk::Trunk;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One trunk's shared limits.
pub struct TrunkGate {
    /// The trunk (shared with every call placed through it).
    pub trunk: Arc<Trunk>,
    in_flight: AtomicU32,
    /// Calls whose INVITE has had no response yet.
    setting_up: Arc<AtomicU32>,
    bucket: Mutex<TokenBucket>,
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
    use crate::call::trunk::TrunkConfig;

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
}
