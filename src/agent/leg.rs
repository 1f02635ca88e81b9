//! The leg to an agent: an INVITE to one of its registered contacts, sent where the contact's
//! REGISTER came from (its flow, through any NAT) over the transport it came on, with no
//! trunk and no credentials; or to one of its addresses: a `sip` URI whose host is an IP
//! directly, a `tel` number through the trunk as any outbound call. The endpoint places it
//! like any outbound leg and reports how it ended in SIP's terms.

use super::live::{AgentLive, Contact};
use crate::domain::{Dialable, SipUri};
use crate::sip::endpoint::CallSpec;
use crate::trunk::Trunk;
use std::net::IpAddr;
use std::time::Duration;

/// Somewhere an agent can be rung.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingTarget {
    /// A registered contact.
    Contact(Contact),
    /// A `tel` or `sip` address of the agent.
    Address(Dialable),
}

impl RingTarget {
    /// Where `agent` can be rung, in order: its registered contacts, then its addresses.
    pub fn all_of(agent: &AgentLive) -> Vec<RingTarget> {
        agent
            .contacts
            .iter()
            .cloned()
            .map(RingTarget::Contact)
            .chain(agent.addresses.iter().cloned().map(RingTarget::Address))
            .collect()
    }

    /// What the logs show.
    pub fn describe(&self) -> String {
        match self {
            RingTarget::Contact(c) => c.uri.to_string(),
            RingTarget::Address(a) => a.to_string(),
        }
    }
}

/// Why an agent's address cannot be rung.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegError {
    /// A `tel` address with no trunk to call it through.
    #[error("no trunk to call {0} through")]
    NoTrunk(String),
    /// A `sip` address whose host is a name, not an IP (names are not looked up).
    #[error("{0}: only an IP host is called directly")]
    NotAnIp(String),
}

/// The INVITE for `target`: a contact as [`call_spec`], a `sip` URI with an IP host directly,
/// anything else through `trunk`.
pub fn target_spec(
    target: &RingTarget,
    caller: Option<&Dialable>,
    local: IpAddr,
    trunk: Option<&Trunk>,
    ring_time: Duration,
    sdp: Vec<u8>,
) -> Result<CallSpec, LegError> {
    match target {
        RingTarget::Contact(contact) => Ok(call_spec(contact, caller, local, ring_time, sdp)),
        RingTarget::Address(Dialable::Uri(uri)) => direct_spec(uri, caller, local, ring_time, sdp),
        RingTarget::Address(other) => {
            let trunk = trunk.ok_or_else(|| LegError::NoTrunk(other.to_string()))?;
            let mut spec = trunk.call_spec(other, ring_time, Some(sdp));
            if let Some(caller) = caller {
                trunk.set_caller(&mut spec, caller, None);
            }
            Ok(spec)
        }
    }
}

/// The INVITE straight to a `sip` address whose host is an IP.
fn direct_spec(
    uri: &SipUri,
    caller: Option<&Dialable>,
    local: IpAddr,
    ring_time: Duration,
    sdp: Vec<u8>,
) -> Result<CallSpec, LegError> {
    let text = uri.to_string();
    let peer =
        crate::sip::uri::socket_addr(&text).ok_or_else(|| LegError::NotAnIp(text.clone()))?;
    let contact = Contact {
        uri: uri.clone(),
        expires_at: String::new(),
        user_agent: String::new(),
        flow: peer,
        transport: crate::sip::uri::transport(&text),
    };
    Ok(call_spec(&contact, caller, local, ring_time, sdp))
}

/// The user part our From carries when the caller has none to show.
const ANONYMOUS: &str = "ringmaster";

/// The INVITE for `contact`: From is `caller` (the callee's number, shown to the agent) at our
/// address `local`, ringing for `ring_time` before CANCEL, offering `sdp`.
pub fn call_spec(
    contact: &Contact,
    caller: Option<&Dialable>,
    local: IpAddr,
    ring_time: Duration,
    sdp: Vec<u8>,
) -> CallSpec {
    let user = caller_user(caller);
    let host = match local {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    CallSpec {
        request_uri: contact.uri.to_string(),
        from_uri: format!("sip:{user}@{host}"),
        contact_user: user,
        from_display: None,
        asserted_identity: false,
        peer: contact.flow,
        transport: contact.transport,
        credentials: None,
        dial_timeout: ring_time,
        sdp: Some(sdp),
        extra_headers: Vec::new(),
        report_progress: false,
        until_first_response: None,
        call_id: None,
    }
}

/// The user part shown to the agent: the callee's number or user, the user of its URI, or
/// [`ANONYMOUS`]. Every one of them was parsed into its type already, so it is a valid user.
fn caller_user(caller: Option<&Dialable>) -> String {
    match caller {
        Some(Dialable::Number(n)) => n.to_string(),
        Some(Dialable::User(u)) => u.to_string(),
        Some(Dialable::Uri(uri)) => uri.user().unwrap_or(ANONYMOUS).to_string(),
        None => ANONYMOUS.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SipUri;
    use crate::sip::uri::TransportKind;
    use std::net::SocketAddr;

    fn contact() -> Contact {
        Contact {
            uri: SipUri::parse("sip:agent1@10.0.0.5:5062;transport=tcp").expect("a SIP URI"),
            expires_at: String::new(),
            user_agent: String::new(),
            flow: SocketAddr::from(([127, 0, 0, 1], 40000)),
            transport: TransportKind::Tcp,
        }
    }

    #[test]
    fn the_invite_goes_to_the_contact_uri_through_its_flow_without_credentials() {
        let number = Dialable::Number("+15550110001".parse().expect("a number"));
        let spec = call_spec(
            &contact(),
            Some(&number),
            IpAddr::from([127, 0, 0, 1]),
            Duration::from_secs(15),
            b"v=0".to_vec(),
        );
        assert_eq!(spec.request_uri, "sip:agent1@10.0.0.5:5062;transport=tcp");
        assert_eq!(spec.peer, SocketAddr::from(([127, 0, 0, 1], 40000)));
        assert_eq!(spec.transport, TransportKind::Tcp);
        assert_eq!(spec.from_uri, "sip:+15550110001@127.0.0.1");
        assert!(spec.credentials.is_none());
        assert_eq!(spec.dial_timeout, Duration::from_secs(15));
        assert_eq!(spec.sdp.as_deref(), Some(&b"v=0"[..]));
    }

    #[test]
    fn a_sip_address_with_an_ip_host_is_called_directly_and_a_name_or_tel_without_trunk_is_refused()
    {
        let local = IpAddr::from([127, 0, 0, 1]);
        let uri = SipUri::parse("sip:desk@127.0.0.1:5099").expect("a SIP URI");
        let spec = target_spec(
            &RingTarget::Address(Dialable::Uri(uri)),
            None,
            local,
            None,
            Duration::from_secs(3),
            Vec::new(),
        )
        .expect("a direct call");
        assert_eq!(spec.peer, SocketAddr::from(([127, 0, 0, 1], 5099)));
        assert_eq!(spec.request_uri, "sip:desk@127.0.0.1:5099");
        assert_eq!(spec.dial_timeout, Duration::from_secs(3));
        let named = SipUri::parse("sip:desk@pbx.example.com").expect("a SIP URI");
        assert!(matches!(
            target_spec(
                &RingTarget::Address(Dialable::Uri(named)),
                None,
                local,
                None,
                Duration::from_secs(3),
                Vec::new()
            ),
            Err(LegError::NotAnIp(_))
        ));
        let number = Dialable::Number("+15550110009".parse().expect("a number"));
        assert!(matches!(
            target_spec(
                &RingTarget::Address(number),
                None,
                local,
                None,
                Duration::from_secs(3),
                Vec::new()
            ),
            Err(LegError::NoTrunk(_))
        ));
    }

    #[test]
    fn a_caller_without_a_number_shows_as_ringmaster_and_ipv6_is_bracketed() {
        let spec = call_spec(
            &contact(),
            None,
            "::1".parse().expect("an address"),
            Duration::from_secs(1),
            Vec::new(),
        );
        assert_eq!(spec.from_uri, "sip:ringmaster@[::1]");
    }

    #[test]
    fn an_agent_is_rung_at_its_contacts_then_its_addresses_all_at_once_or_in_turn() {
        use crate::domain::RingMethod;
        use crate::queue::ring_steps;
        let at = |port: u16| Contact {
            uri: SipUri::parse(&format!("sip:alice@127.0.0.1:{port}")).expect("a SIP URI"),
            expires_at: String::new(),
            user_agent: String::new(),
            flow: SocketAddr::from(([127, 0, 0, 1], port)),
            transport: TransportKind::Udp,
        };
        let desk = Dialable::Number("+15550110002".parse().expect("a number"));
        let live = AgentLive {
            contacts: vec![at(5062), at(5064)],
            addresses: vec![desk.clone()],
            ..AgentLive::offline()
        };
        let targets = RingTarget::all_of(&live);
        assert_eq!(
            targets,
            vec![
                RingTarget::Contact(at(5062)),
                RingTarget::Contact(at(5064)),
                RingTarget::Address(desk),
            ]
        );
        let all = ring_steps(RingMethod::Ringall, &targets);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].len(), 3);
        let linear = ring_steps(RingMethod::Linear, &targets);
        assert_eq!(linear.len(), 3);
        assert_eq!(linear[2], &targets[2..]);
        assert!(RingTarget::all_of(&AgentLive::offline()).is_empty());
    }
}
