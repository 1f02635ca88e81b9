//! The registrar inside the endpoint, against a scripted softphone on a simulated clock:
//! challenge, answer, the Registration event, the binding read back, qualify OPTIONS and the
//! contact dropped after two unanswered ones.

use super::tests::{endpoint, peer_sends, sent, PEER};
use super::*;
use crate::sip::auth::{authorization, pick_challenge, Credentials};
use crate::sip::build;
use crate::sip::message::{Header, Method};
use crate::sip::registrar::Credential;

const AGENT: uuid::Uuid = uuid::Uuid::from_u128(7);

/// A REGISTER from the phone at PEER, on a branch of its own (a new transaction each time).
fn register(cseq: u32, auth: &str) -> String {
    static BRANCH: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = BRANCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKreg{n};rport\r\n\
         From: <sip:agent1@127.0.0.1>;tag=a1\r\nTo: <sip:agent1@127.0.0.1>\r\nCall-ID: reg-1\r\n\
         CSeq: {cseq} REGISTER\r\nContact: <sip:agent1@{PEER}>;expires=600\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

fn response(ep: &mut Endpoint) -> Response {
    match &sent(ep)[..] {
        [SipMessage::Response(r)] => r.clone(),
        other => panic!("expected one response, got {other:?}"),
    }
}

fn registrations(ep: &mut Endpoint) -> Vec<(uuid::Uuid, String, usize)> {
    std::iter::from_fn(|| ep.poll_event())
        .filter_map(|e| match e {
            EndpointEvent::Registration {
                owner,
                username,
                contacts,
            } => Some((owner, username, contacts.len())),
            _ => None,
        })
        .collect()
}

/// Registers agent1 from PEER at `t0` with password `password`; the final response.
fn registered(ep: &mut Endpoint, t0: Instant, password: &str) -> Response {
    peer_sends(ep, t0, &register(1, ""));
    let challenge = response(ep);
    assert_eq!(challenge.status_code.code(), 401);
    let offered: Vec<&str> = challenge
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::WwwAuthenticate(v) => Some(v.value()),
            _ => None,
        })
        .collect();
    assert_eq!(offered.len(), 2, "SHA-256 and MD5");
    let c = pick_challenge(offered).expect("a challenge we can answer");
    let creds = Credentials {
        username: "agent1".into(),
        password: password.into(),
    };
    let value = authorization(&c, &creds, "REGISTER", "sip:127.0.0.1:5060", 1, "abc");
    peer_sends(ep, t0, &register(2, &format!("Authorization: {value}\r\n")));
    response(ep)
}

#[test]
fn a_softphone_registers_and_is_dropped_after_two_unanswered_qualifies() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.set_credential(
        t0,
        Credential::from_password(AGENT, "agent1", "ringmaster", "secret"),
    );
    let ok = registered(&mut ep, t0, "secret");
    assert_eq!(ok.status_code.code(), 200);
    assert_eq!(
        registrations(&mut ep),
        vec![(AGENT, "agent1".to_string(), 1)]
    );
    let bound = ep.bindings("agent1");
    assert_eq!(bound[0].flow, PEER.parse().unwrap());
    assert_eq!(bound[0].contact.as_str(), format!("sip:agent1@{PEER}"));
    // Nobody answers the OPTIONS: the first round times out (timer F), the next round waits
    // for it, the third times out too and the contact goes.
    let mut options = 0;
    let mut dropped_at = None;
    for s in 1..=200u64 {
        let now = t0 + Duration::from_secs(s);
        ep.handle_timeout(now);
        for m in sent(&mut ep) {
            if let SipMessage::Request(r) = m {
                if r.method == Method::Options && r.uri.to_string() == format!("sip:agent1@{PEER}")
                {
                    options += 1;
                }
            }
        }
        if let Some(change) = registrations(&mut ep).pop() {
            assert_eq!(change, (AGENT, "agent1".to_string(), 0));
            dropped_at = Some(s);
            break;
        }
    }
    assert!(
        options >= 2,
        "{options} OPTIONS sent (retransmissions included)"
    );
    let dropped_at = dropped_at.expect("the contact was dropped");
    assert!(
        (120..=130).contains(&dropped_at),
        "dropped at {dropped_at} s"
    );
    assert!(ep.bindings("agent1").is_empty());
}

#[test]
fn an_answered_qualify_keeps_the_contact_and_bindings_expire_by_themselves() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.set_credential(
        t0,
        Credential::from_password(AGENT, "agent1", "ringmaster", "secret"),
    );
    assert_eq!(registered(&mut ep, t0, "secret").status_code.code(), 200);
    registrations(&mut ep);
    for s in 1..=700u64 {
        let now = t0 + Duration::from_secs(s);
        ep.handle_timeout(now);
        for m in sent(&mut ep) {
            if let SipMessage::Request(r) = m {
                if r.method == Method::Options {
                    let ok = build::response(&r, 200, Some("q"), vec![], vec![]);
                    let bytes = message::response_bytes(&ok);
                    ep.handle_datagram(now, PEER.parse().unwrap(), TransportKind::Udp, &bytes);
                }
            }
        }
        let changes = registrations(&mut ep);
        if s < 600 {
            assert!(changes.is_empty(), "at {s} s: {changes:?}");
        } else if s == 600 {
            assert_eq!(changes, vec![(AGENT, "agent1".to_string(), 0)]);
        }
    }
    assert!(ep.bindings("agent1").is_empty());
}

#[test]
fn a_wrong_password_is_forbidden_and_counted_as_refused() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.set_credential(
        t0,
        Credential::from_password(AGENT, "agent1", "ringmaster", "secret"),
    );
    let refused = ep.stats().refused_in;
    assert_eq!(registered(&mut ep, t0, "guess").status_code.code(), 403);
    assert_eq!(ep.stats().refused_in, refused + 1);
    assert!(registrations(&mut ep).is_empty());
    assert!(ep.bindings("agent1").is_empty());
}

#[test]
fn a_retransmitted_register_is_answered_again_and_reported_once() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.set_credential(
        t0,
        Credential::from_password(AGENT, "agent1", "ringmaster", "secret"),
    );
    peer_sends(&mut ep, t0, &register(1, ""));
    let challenge = response(&mut ep);
    let offered = challenge.headers.iter().filter_map(|h| match h {
        Header::WwwAuthenticate(v) => Some(v.value()),
        _ => None,
    });
    let c = pick_challenge(offered).expect("a challenge");
    let creds = Credentials {
        username: "agent1".into(),
        password: "secret".into(),
    };
    let value = authorization(&c, &creds, "REGISTER", "sip:127.0.0.1:5060", 1, "abc");
    let request = register(2, &format!("Authorization: {value}\r\n"));
    peer_sends(&mut ep, t0, &request);
    assert_eq!(response(&mut ep).status_code.code(), 200);
    peer_sends(&mut ep, t0 + Duration::from_millis(500), &request);
    assert_eq!(
        response(&mut ep).status_code.code(),
        200,
        "the same answer again"
    );
    assert_eq!(registrations(&mut ep).len(), 1);
}

#[test]
fn a_locked_out_source_is_answered_without_a_transaction() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.set_credential(
        t0,
        Credential::from_password(AGENT, "agent1", "ringmaster", "secret"),
    );
    for _ in 0..10 {
        assert_eq!(registered(&mut ep, t0, "guess").status_code.code(), 403);
    }
    let held = ep.stats().server_transactions;
    peer_sends(&mut ep, t0, &register(50, ""));
    assert_eq!(response(&mut ep).status_code.code(), 403);
    assert_eq!(ep.stats().server_transactions, held);
}

#[test]
fn sweeping_the_timer_heap_keeps_the_registrars_deadlines() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.set_credential(
        t0,
        Credential::from_password(AGENT, "agent1", "ringmaster", "secret"),
    );
    assert_eq!(registered(&mut ep, t0, "secret").status_code.code(), 200);
    registrations(&mut ep);
    ep.compact_timers();
    ep.handle_timeout(t0 + Duration::from_secs(30));
    let qualified = sent(&mut ep)
        .iter()
        .any(|m| matches!(m, SipMessage::Request(r) if r.method == Method::Options));
    assert!(qualified, "the qualify round survived the sweep");
    ep.compact_timers();
    ep.handle_timeout(t0 + Duration::from_secs(600));
    assert_eq!(
        registrations(&mut ep),
        vec![(AGENT, "agent1".to_string(), 0)],
        "the expiry survived the sweep"
    );
}
