//! Placing one call through a trunk and reporting its outcome: what `ringmaster call` runs,
//! the judging of a leg's SIP facts into an outcome, and the campaign engine's call actors.

pub mod actor;
pub mod outcome;

use crate::domain::{Dialable, Disposition, HangupBy};
use crate::sdp;
use crate::sip::endpoint::{CallEvent, LegEnd, LegEndCause};
use crate::sip::transport::{EndpointHandle, TransportError};
use crate::trunk::Trunk;
use serde::Serialize;
use std::time::Duration;

pub use outcome::CallOutcome;

/// How to run one call.
#[derive(Debug, Clone)]
pub struct OneCall {
    /// What to dial.
    pub destination: Dialable,
    /// Give up (CANCEL) when unanswered after this long.
    pub dial_timeout: Duration,
    /// Hang up this long after answer (if the callee has not).
    pub hangup_after: Duration,
}

/// The JSON line `ringmaster call` prints.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallReport {
    /// What became of the attempt.
    pub disposition: Disposition,
    /// Final SIP status of the INVITE, if any.
    pub sip_code: Option<u16>,
    /// Reason phrase or what we gave up on.
    pub reason: String,
    /// The attempt's Call-ID.
    pub call_id: String,
    /// INVITE sent → final response, in ms.
    pub setup_ms: u64,
    /// Answer → hang-up, in ms.
    pub talk_ms: u64,
    /// Who hung up an answered call.
    pub hangup_by: Option<HangupBy>,
    /// The number dialed.
    pub destination: String,
    /// The trunk's name.
    pub trunk: String,
}

/// Places one call through `trunk` and waits for its end. A call the endpoint cannot place is
/// an error, as is the endpoint stopping first.
pub async fn run_one(
    endpoint: &EndpointHandle,
    trunk: &Trunk,
    call: &OneCall,
) -> Result<CallReport, TransportError> {
    // A real RTP port in the offer; media flows are the media layer's business, so for now
    // the socket only keeps the port ours while the call lasts.
    let rtp = tokio::net::UdpSocket::bind((endpoint.udp_addr().ip(), 0)).await?;
    let rtp_addr = rtp.local_addr()?;
    let ip = if rtp_addr.ip().is_unspecified() {
        trunk.local_ip
    } else {
        rtp_addr.ip()
    };
    let offer = sdp::offer(ip, rtp_addr.port(), rand::random::<u32>() as u64);
    let spec = trunk.call_spec(
        &call.destination,
        call.dial_timeout,
        Some(offer.into_bytes()),
    );
    let mut placed = endpoint.dial(spec);
    let mut hangup_at: Option<tokio::time::Instant> = None;
    loop {
        let wait = async {
            match hangup_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = placed.events.recv() => match ev {
                Some(CallEvent::Answered { .. }) => {
                    hangup_at = Some(tokio::time::Instant::now() + call.hangup_after);
                }
                Some(
                    CallEvent::Progress { .. }
                    | CallEvent::Digit { .. }
                    | CallEvent::RemoteSdp { .. },
                ) => {}
                Some(CallEvent::Ended(LegEnd {
                    cause: LegEndCause::NotPlaced { reason },
                    ..
                })) => return Err(TransportError::NotPlaced(reason)),
                Some(CallEvent::Ended(end)) => {
                    let o = CallOutcome::from_leg(end);
                    return Ok(CallReport {
                        disposition: o.disposition,
                        sip_code: o.sip_code,
                        reason: o.reason,
                        call_id: o.call_id,
                        setup_ms: o.setup_ms,
                        talk_ms: o.talk_ms,
                        hangup_by: o.hangup_by,
                        destination: call.destination.to_string(),
                        trunk: trunk.config.name.clone(),
                    });
                }
                None => return Err(TransportError::Stopped),
            },
            _ = wait => {
                hangup_at = None;
                endpoint.hangup(placed.handle).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transport::{self, TransportConfig};
    use crate::trunk::TrunkConfig;

    #[tokio::test]
    async fn a_call_the_endpoint_cannot_place_is_an_error_saying_why() {
        let endpoint = transport::start(TransportConfig::default())
            .await
            .expect("endpoint");
        let config: TrunkConfig =
            toml::from_str("name = \"t\"\nuri = \"sip:127.0.0.1:9\"").expect("config");
        // No host in the Request-URI: not a request the endpoint can build.
        let trunk = Trunk {
            config,
            host: String::new(),
            peer: "127.0.0.1:9".parse().expect("addr"),
            transport: crate::sip::uri::TransportKind::Udp,
            local_ip: "127.0.0.1".parse().expect("ip"),
        };
        let call = OneCall {
            destination: Dialable::Number("+15551234567".parse().expect("E.164")),
            dial_timeout: Duration::from_secs(1),
            hangup_after: Duration::from_secs(1),
        };
        let result =
            tokio::time::timeout(Duration::from_secs(5), run_one(&endpoint, &trunk, &call))
                .await
                .expect("in time");
        match result {
            Err(TransportError::NotPlaced(reason)) => {
                assert!(reason.starts_with("invalid call:"), "{reason}")
            }
            other => panic!("expected the call not placed, got {other:?}"),
        }
        endpoint.shutdown().await;
    }
}
