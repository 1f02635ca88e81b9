//! The keep-alive task: OPTIONS to a trunk for as long as the node runs, each answer or
//! silence told to the trunk's gate, which judges its health (`health.rs`).

use super::gate::TrunkGate;
use super::health::{Observation, TrunkState};
use crate::sip::transport::EndpointHandle;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a trunk that is down is probed, whatever its `keepalive_secs`.
const DOWN_PROBE_GAP: Duration = Duration::from_secs(2);

/// Probes the gate's trunk every `keepalive_secs` (and every [`DOWN_PROBE_GAP`] while it is
/// down, even with keep-alives off, so that it comes back up) until the endpoint stops.
pub async fn run(endpoint: EndpointHandle, gate: Arc<TrunkGate>) {
    let trunk = gate.trunk.clone();
    let every = Duration::from_secs(trunk.config.keepalive_secs);
    let target = format!("sip:{}", trunk.host);
    let mut last_probe: Option<Instant> = None;
    loop {
        let down = gate.state() == TrunkState::Down;
        let gap = match (down, every.is_zero()) {
            (true, _) => DOWN_PROBE_GAP.min(if every.is_zero() {
                DOWN_PROBE_GAP
            } else {
                every
            }),
            (false, true) => {
                tokio::time::sleep(DOWN_PROBE_GAP).await;
                continue;
            }
            (false, false) => every,
        };
        if let Some(at) = last_probe {
            tokio::time::sleep_until((at + gap).into()).await;
        }
        last_probe = Some(Instant::now());
        let Ok(answer) = endpoint.probe(&target, trunk.peer, trunk.transport).await else {
            return;
        };
        let seen = match answer {
            Some(code) => Observation::ProbeAnswered(code),
            None => Observation::ProbeUnanswered,
        };
        gate.observe(Instant::now(), seen);
    }
}
