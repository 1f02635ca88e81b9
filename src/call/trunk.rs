//! Trunks: where calls leave ringmaster. Configured by name with a URI, transport, credentials
//! and caller id; an OPTIONS keep-alive marks each one up or down.

use crate::sip::auth::Credentials;
use crate::sip::endpoint::CallSpec;
use crate::sip::transport::EndpointHandle;
use crate::sip::uri::{self, TransportKind};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// One `[[trunk]]` of the configuration.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// The name campaigns and the CLI refer to.
    pub name: String,
    /// `sip:host[:port][;transport=tcp]`.
    pub uri: String,
    /// Digest username.
    #[serde(default)]
    pub username: Option<String>,
    /// Digest password.
    #[serde(default)]
    pub password: Option<String>,
    /// Caller id (From user, and P-Asserted-Identity when `asserted_identity`).
    #[serde(default = "default_caller_id")]
    pub caller_id: String,
    /// Display name in From.
    #[serde(default)]
    pub caller_name: Option<String>,
    /// Also send the caller id as P-Asserted-Identity.
    #[serde(default)]
    pub asserted_identity: bool,
    /// Most new calls per second through this trunk.
    #[serde(default = "default_max_cps")]
    pub max_cps: u32,
    /// Most simultaneous calls through this trunk.
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent: u32,
    /// Most calls through this trunk whose INVITE has had no response yet, not even
    /// `100 Trying` (0: no limit). A trunk that falls behind then slows the dialing down to
    /// what it absorbs, instead of INVITEs queueing at it until they are re-sent.
    #[serde(default)]
    pub max_setup: u32,
    /// Seconds between OPTIONS keep-alives (0: none).
    #[serde(default = "default_keepalive")]
    pub keepalive_secs: u64,
}

fn default_caller_id() -> String {
    "ringmaster".into()
}
fn default_max_cps() -> u32 {
    10
}
fn default_max_concurrent() -> u32 {
    100
}
fn default_keepalive() -> u64 {
    30
}

/// Why a trunk cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrunkError {
    /// The URI is not `sip:host[:port]`.
    #[error("trunk URI {0:?} is not a sip: URI with a host")]
    BadUri(String),
    /// The host name does not resolve.
    #[error("trunk host {0:?} does not resolve")]
    Unresolvable(String),
    /// No local interface routes to the trunk.
    #[error("no route to trunk host {0:?}")]
    NoRoute(String),
}

/// A trunk whose address is known.
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Its configuration.
    pub config: TrunkConfig,
    /// Host part used in Request-URIs.
    pub host: String,
    /// Where its SIP messages go.
    pub peer: SocketAddr,
    /// UDP or TCP.
    pub transport: TransportKind,
    /// Our IP on the interface facing the trunk (for SDP when listening on a wildcard),
    /// looked up once here rather than on every dial.
    pub local_ip: std::net::IpAddr,
}

impl Trunk {
    /// Resolves the trunk's host (DNS A/AAAA; SRV/NAPTR are not used).
    pub async fn resolve(config: TrunkConfig) -> Result<Trunk, TrunkError> {
        let (host, port) =
            uri::host_port(&config.uri).ok_or_else(|| TrunkError::BadUri(config.uri.clone()))?;
        let host = host.to_string();
        let peer = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| TrunkError::Unresolvable(host.clone()))?,
        };
        let transport = uri::transport(&config.uri);
        let host_port = match (port, peer.ip()) {
            (5060, _) => host.clone(),
            (p, std::net::IpAddr::V6(_)) if host.parse::<std::net::Ipv6Addr>().is_ok() => {
                format!("[{host}]:{p}")
            }
            (p, _) => format!("{host}:{p}"),
        };
        let local_ip = crate::sip::transport::local_ip_towards(peer)
            .map_err(|_| TrunkError::NoRoute(host.clone()))?;
        Ok(Trunk {
            config,
            host: host_port,
            peer,
            transport,
            local_ip,
        })
    }

    /// The call spec for dialing `destination` (a number or user part) through this trunk.
    pub fn call_spec(
        &self,
        destination: &str,
        dial_timeout: Duration,
        sdp: Option<Vec<u8>>,
    ) -> CallSpec {
        let transport_param = match self.transport {
            TransportKind::Tcp => ";transport=tcp",
            TransportKind::Udp => "",
        };
        CallSpec {
            request_uri: format!("sip:{destination}@{}{transport_param}", self.host),
            from_user: self.config.caller_id.clone(),
            from_display: self.config.caller_name.clone(),
            from_host: self.host.clone(),
            asserted_identity: self.config.asserted_identity,
            peer: self.peer,
            transport: self.transport,
            credentials: match (&self.config.username, &self.config.password) {
                (Some(u), Some(p)) => Some(Credentials {
                    username: u.clone(),
                    password: p.clone(),
                }),
                _ => None,
            },
            dial_timeout,
            sdp,
            extra_headers: Vec::new(),
            // The call actor and `ringmaster call` wait for the answer or the end only.
            report_progress: false,
            until_first_response: None,
            call_id: None,
        }
    }
}

/// Whether a trunk answers its keep-alives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrunkState {
    /// Not probed yet.
    Unknown,
    /// The last probe got an answer (any final status: even 404 or 405 proves the peer lives).
    Up,
    /// Two probes in a row went unanswered.
    Down,
}

/// Keep-alive bookkeeping: pure, fed with each probe's result.
#[derive(Debug, Clone, Copy)]
pub struct TrunkHealth {
    state: TrunkState,
    misses: u32,
}

impl Default for TrunkHealth {
    fn default() -> Self {
        TrunkHealth {
            state: TrunkState::Unknown,
            misses: 0,
        }
    }
}

impl TrunkHealth {
    /// Misses in a row that mark a trunk down.
    pub const MISSES_FOR_DOWN: u32 = 2;

    /// Records one probe (`Some(status)` answered, `None` unanswered) and returns the state.
    pub fn record(&mut self, answer: Option<u16>) -> TrunkState {
        match answer {
            Some(_) => {
                self.misses = 0;
                self.state = TrunkState::Up;
            }
            None => {
                self.misses += 1;
                if self.misses >= Self::MISSES_FOR_DOWN {
                    self.state = TrunkState::Down;
                }
            }
        }
        self.state
    }

    /// The current state.
    pub fn state(&self) -> TrunkState {
        self.state
    }
}

/// Probes `trunk` every `keepalive_secs` until the endpoint stops, publishing its state.
pub async fn keepalive(
    endpoint: EndpointHandle,
    trunk: Trunk,
    state: tokio::sync::watch::Sender<TrunkState>,
) {
    if trunk.config.keepalive_secs == 0 {
        return;
    }
    let mut health = TrunkHealth::default();
    let mut tick = tokio::time::interval(Duration::from_secs(trunk.config.keepalive_secs));
    let target = format!("sip:{}", trunk.host);
    loop {
        tick.tick().await;
        let Ok(answer) = endpoint.probe(&target, trunk.peer, trunk.transport).await else {
            return;
        };
        let before = health.state();
        let now = health.record(answer);
        if now != before {
            tracing::info!(trunk = %trunk.config.name, state = ?now, "trunk state changed");
        }
        if state.send(now).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trunk_goes_down_after_two_unanswered_probes_and_up_after_one_answer() {
        let mut h = TrunkHealth::default();
        assert_eq!(h.record(None), TrunkState::Unknown);
        assert_eq!(h.record(None), TrunkState::Down);
        assert_eq!(h.record(Some(405)), TrunkState::Up);
        assert_eq!(h.record(None), TrunkState::Up);
    }
}
