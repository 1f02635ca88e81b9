//! A trunk's configuration: configured by name with a URI, transport, credentials and caller
//! id, resolved once to an address; and the call spec for dialing through it.

use crate::domain::sip_uri::has_control;
use crate::domain::{Dialable, UserPart};
use crate::sip::auth::Credentials;
use crate::sip::endpoint::CallSpec;
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
    /// `caller_id` is not a number or SIP user part.
    #[error("trunk caller_id {0:?} is not a number or SIP user part")]
    BadCallerId(String),
    /// `caller_name` holds a control character.
    #[error("trunk caller_name {0:?} holds a control character")]
    BadCallerName(String),
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
        if UserPart::parse(&config.caller_id).is_err() {
            return Err(TrunkError::BadCallerId(config.caller_id.clone()));
        }
        if let Some(name) = config.caller_name.as_ref().filter(|n| has_control(n)) {
            return Err(TrunkError::BadCallerName(name.clone()));
        }
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

    /// Sets a tenant's caller id on `spec`: the From URI (and P-Asserted-Identity's, if the
    /// trunk sends one) becomes `caller` (a number at the trunk's host, or a SIP URI as it is),
    /// and the From display name `name` when there is one.
    pub fn set_caller(&self, spec: &mut CallSpec, caller: &Dialable, name: Option<&str>) {
        match caller {
            Dialable::Uri(uri) => {
                spec.from_uri = uri.to_string();
                spec.contact_user = uri.user().unwrap_or("ringmaster").to_string();
            }
            Dialable::Number(_) | Dialable::User(_) => {
                spec.from_uri = format!("sip:{caller}@{}", self.host);
                spec.contact_user = caller.to_string();
            }
        }
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            spec.from_display = Some(name.to_string());
        }
    }

    /// The call spec for dialing `destination` through this trunk: a number or user part is
    /// dialed at the trunk's host, a SIP URI as it is (the INVITE still goes to the trunk).
    pub fn call_spec(
        &self,
        destination: &Dialable,
        dial_timeout: Duration,
        sdp: Option<Vec<u8>>,
    ) -> CallSpec {
        let transport_param = match self.transport {
            TransportKind::Tcp => ";transport=tcp",
            TransportKind::Udp => "",
        };
        let request_uri = match destination {
            Dialable::Uri(uri) => uri.to_string(),
            Dialable::Number(_) | Dialable::User(_) => {
                format!("sip:{destination}@{}{transport_param}", self.host)
            }
        };
        CallSpec {
            request_uri,
            from_uri: format!("sip:{}@{}", self.config.caller_id, self.host),
            contact_user: self.config.caller_id.clone(),
            from_display: self.config.caller_name.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn trunk(transport: TransportKind) -> Trunk {
        let config: TrunkConfig = toml::from_str(
            "name = \"t\"\nuri = \"sip:127.0.0.1:5080\"\ncaller_id = \"+15550000000\"",
        )
        .expect("config");
        Trunk {
            config,
            host: "127.0.0.1:5080".into(),
            peer: "127.0.0.1:5080".parse().expect("addr"),
            transport,
            local_ip: "127.0.0.1".parse().expect("ip"),
        }
    }

    #[test]
    fn numbers_are_dialed_at_the_trunk_host_and_sip_uris_as_they_are() {
        let t = trunk(TransportKind::Tcp);
        let number = Dialable::Number("+15551234567".parse().expect("E.164"));
        let spec = t.call_spec(&number, Duration::from_secs(1), None);
        assert_eq!(
            spec.request_uri,
            "sip:+15551234567@127.0.0.1:5080;transport=tcp"
        );
        assert_eq!(spec.from_uri, "sip:+15550000000@127.0.0.1:5080");
        let uri = crate::domain::SipUri::parse("sip:alice@127.0.0.1:5090").expect("uri");
        let spec = t.call_spec(&Dialable::Uri(uri), Duration::from_secs(1), None);
        assert_eq!(spec.request_uri, "sip:alice@127.0.0.1:5090");
        assert_eq!(spec.peer, t.peer, "still sent to the trunk");
    }

    #[test]
    fn a_tenant_caller_id_replaces_the_from_uri_and_display_name() {
        let t = trunk(TransportKind::Udp);
        let number = Dialable::Number("+15551234567".parse().expect("E.164"));
        let mut spec = t.call_spec(&number, Duration::from_secs(1), None);
        let caller = Dialable::Number("+15559990000".parse().expect("E.164"));
        t.set_caller(&mut spec, &caller, Some("Clinic"));
        assert_eq!(spec.from_uri, "sip:+15559990000@127.0.0.1:5080");
        assert_eq!(spec.contact_user, "+15559990000");
        assert_eq!(spec.from_display.as_deref(), Some("Clinic"));
        let uri = crate::domain::SipUri::parse("sips:desk@clinic.example.com").expect("uri");
        t.set_caller(&mut spec, &Dialable::Uri(uri), None);
        assert_eq!(spec.from_uri, "sips:desk@clinic.example.com");
        assert_eq!(spec.contact_user, "desk");
        assert!(!spec.asserted_identity, "the trunk decides, not the caller");
    }

    #[tokio::test]
    async fn a_caller_id_or_name_that_would_break_a_header_is_refused_at_start() {
        let mut config = trunk(TransportKind::Udp).config;
        config.caller_id = "+1555\r\nP-Asserted-Identity: <sip:x@y>".into();
        let e = Trunk::resolve(config.clone()).await.map(|_| ());
        assert!(matches!(e, Err(TrunkError::BadCallerId(_))), "{e:?}");
        config.caller_id = "+15550000000".into();
        config.caller_name = Some("Clinic\n".into());
        let e = Trunk::resolve(config.clone()).await.map(|_| ());
        assert!(matches!(e, Err(TrunkError::BadCallerName(_))), "{e:?}");
        config.caller_name = Some("The \"Clinic\"".into());
        assert!(Trunk::resolve(config).await.is_ok());
    }
}
