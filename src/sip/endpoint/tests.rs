//! The endpoint against a scripted peer on a simulated clock: every disposition, CANCEL rules,
//! digest retries and inbound requests, without a socket.

use super::*;
use crate::domain::{Disposition, HangupBy};
use crate::sip::build;
use crate::sip::message::{Header, Method};

const PEER: &str = "127.0.0.1:5080";

fn endpoint() -> Endpoint {
    Endpoint::new(EndpointConfig {
        udp: Some("127.0.0.1:5060".parse().unwrap()),
        tcp: None,
        timers: TimerConfig::default(),
        user_agent: "ringmaster-test".into(),
    })
}

fn spec() -> CallSpec {
    CallSpec {
        request_uri: format!("sip:+15551234567@{PEER}"),
        from_user: "+15550000000".into(),
        from_display: Some("Clinic".into()),
        from_host: PEER.into(),
        asserted_identity: true,
        peer: PEER.parse().unwrap(),
        transport: TransportKind::Udp,
        credentials: Some(Credentials {
            username: "alice".into(),
            password: "secret".into(),
        }),
        dial_timeout: Duration::from_secs(20),
        sdp: Some(b"v=0\r\n".to_vec()),
        extra_headers: vec![],
    }
}

/// Everything the endpoint sent, parsed.
fn sent(ep: &mut Endpoint) -> Vec<SipMessage> {
    std::iter::from_fn(|| ep.poll_transmit())
        .map(|t| message::parse(&t.payload).expect("we only send valid SIP"))
        .collect()
}

fn requests(msgs: &[SipMessage]) -> Vec<&Request> {
    msgs.iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn events(ep: &mut Endpoint) -> Vec<CallEvent> {
    std::iter::from_fn(|| ep.poll_event())
        .filter_map(|e| match e {
            EndpointEvent::Call(_, ev) => Some(ev),
            _ => None,
        })
        .collect()
}

fn outcome(evs: &[CallEvent]) -> CallOutcome {
    evs.iter()
        .find_map(|e| match e {
            CallEvent::Ended(o) => Some(o.clone()),
            _ => None,
        })
        .expect("call ended")
}

/// The peer answers `req` with `code`; a To tag is added for codes above 100.
fn answer(ep: &mut Endpoint, now: Instant, req: &Request, code: u16, extra: Vec<Header>) {
    let tag = (code > 100).then_some("callee-tag");
    let mut extra = extra;
    if (200..300).contains(&code) || (101..200).contains(&code) {
        extra.push(headers::Contact::new("<sip:callee@127.0.0.1:5080>").into());
    }
    let resp = build::response(req, code, tag, extra, vec![]);
    ep.handle_datagram(
        now,
        PEER.parse().unwrap(),
        TransportKind::Udp,
        &resp.to_bytes(),
    );
}

fn peer_sends(ep: &mut Endpoint, now: Instant, raw: &str) {
    ep.handle_datagram(
        now,
        PEER.parse().unwrap(),
        TransportKind::Udp,
        raw.as_bytes(),
    );
}

use crate::sip::message::headers;

fn place(ep: &mut Endpoint, t0: Instant) -> Request {
    ep.place_call(t0, spec()).unwrap();
    let out = sent(ep);
    let reqs = requests(&out);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, Method::Invite);
    reqs[0].clone()
}

#[test]
fn an_answered_call_is_acked_and_ends_answered_when_we_hang_up() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    assert!(invite
        .headers
        .iter()
        .any(|h| matches!(h, Header::PAssertedIdentity(_))));
    answer(&mut ep, t0, &invite, 100, vec![]);
    answer(
        &mut ep,
        t0 + Duration::from_millis(50),
        &invite,
        180,
        vec![],
    );
    answer(
        &mut ep,
        t0 + Duration::from_millis(300),
        &invite,
        200,
        vec![],
    );
    let out = sent(&mut ep);
    let ack = requests(&out)[0];
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(message::cseq(&ack.headers), Some((1, "ACK")));
    assert_eq!(message::to_tag(&ack.headers), Some("callee-tag"));
    assert_eq!(ack.uri.to_string(), "sip:callee@127.0.0.1:5080");
    let evs = events(&mut ep);
    assert!(matches!(evs[0], CallEvent::Progress { code: 180 }));
    assert!(matches!(evs[1], CallEvent::Answered { .. }));

    let h = CallHandle(ep.calls.keys().next().unwrap().0);
    ep.hangup(t0 + Duration::from_millis(1300), h);
    let out = sent(&mut ep);
    let bye = requests(&out)[0].clone();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(message::cseq(&bye.headers), Some((2, "BYE")));
    answer(&mut ep, t0 + Duration::from_millis(1310), &bye, 200, vec![]);
    let o = outcome(&events(&mut ep));
    assert_eq!(o.disposition, Disposition::Answered);
    assert_eq!(o.hangup_by, Some(HangupBy::Local));
    assert_eq!(o.sip_code, Some(200));
    assert_eq!(o.setup_ms, 300);
    assert_eq!(o.talk_ms, 1010);
    assert_eq!(ep.active_calls(), 0);
}

#[test]
fn busy_is_acked_by_the_transaction_and_ends_busy() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    answer(&mut ep, t0, &invite, 486, vec![]);
    let out = sent(&mut ep);
    assert_eq!(requests(&out)[0].method, Method::Ack);
    let o = outcome(&events(&mut ep));
    assert_eq!((o.disposition, o.sip_code), (Disposition::Busy, Some(486)));
    assert_eq!(o.reason, "Busy Here");
}

#[test]
fn dial_timeout_sends_cancel_and_the_487_ends_no_answer() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    answer(&mut ep, t0, &invite, 180, vec![]);
    sent(&mut ep);
    ep.handle_timeout(t0 + Duration::from_secs(20));
    let out = sent(&mut ep);
    let cancel = requests(&out)[0].clone();
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(message::cseq(&cancel.headers), Some((1, "CANCEL")));
    assert_eq!(
        message::top_via_branch(&cancel.headers),
        message::top_via_branch(&invite.headers),
        "CANCEL shares the INVITE's branch"
    );
    assert_eq!(message::to_tag(&cancel.headers), None);
    answer(&mut ep, t0 + Duration::from_secs(20), &cancel, 200, vec![]);
    answer(&mut ep, t0 + Duration::from_secs(20), &invite, 487, vec![]);
    let o = outcome(&events(&mut ep));
    assert_eq!(
        (o.disposition, o.sip_code),
        (Disposition::NoAnswer, Some(487))
    );
    assert_eq!(o.reason, "dial timeout");
}

#[test]
fn no_cancel_goes_out_before_a_provisional_response() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    ep.handle_timeout(t0 + Duration::from_secs(20));
    let out = sent(&mut ep);
    assert!(
        requests(&out).iter().all(|r| r.method == Method::Invite),
        "only retransmissions"
    );
    answer(&mut ep, t0 + Duration::from_secs(21), &invite, 100, vec![]);
    let out = sent(&mut ep);
    assert_eq!(requests(&out)[0].method, Method::Cancel);
}

#[test]
fn a_proxy_challenge_is_answered_once_with_digest_credentials() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    let challenge: Header = headers::ProxyAuthenticate::new(
        "Digest realm=\"trunk\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"",
    )
    .into();
    answer(&mut ep, t0, &invite, 407, vec![challenge.clone()]);
    let out = sent(&mut ep);
    let reqs = requests(&out);
    assert_eq!(reqs[0].method, Method::Ack);
    let second = reqs[1].clone();
    assert_eq!(second.method, Method::Invite);
    assert_eq!(message::cseq(&second.headers), Some((2, "INVITE")));
    assert_ne!(
        message::top_via_branch(&second.headers),
        message::top_via_branch(&invite.headers)
    );
    assert_eq!(
        message::call_id(&second.headers),
        message::call_id(&invite.headers)
    );
    let auth = second
        .headers
        .iter()
        .find_map(|h| match h {
            Header::ProxyAuthorization(v) => Some(v.value().to_string()),
            _ => None,
        })
        .expect("Proxy-Authorization");
    assert!(
        auth.contains("username=\"alice\"") && auth.contains("nc=00000001"),
        "{auth}"
    );
    assert!(events(&mut ep).is_empty(), "a challenge is not an outcome");

    // The same credentials rejected again against a fresh nonce: unauthorized.
    answer(&mut ep, t0, &second, 407, vec![challenge]);
    let o = outcome(&events(&mut ep));
    assert_eq!(
        (o.disposition, o.sip_code),
        (Disposition::Unauthorized, Some(407))
    );
}

/// A finished call hands all its transactions (both INVITEs of a digest retry, the BYE) to
/// nobody, and leaves the transactions of other calls reporting to theirs.
#[test]
fn a_finished_call_releases_its_own_transactions_and_no_others() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    let other = place(&mut ep, t0);
    let challenge: Header =
        headers::ProxyAuthenticate::new("Digest realm=\"trunk\", nonce=\"n1\", qop=\"auth\"")
            .into();
    answer(&mut ep, t0, &invite, 407, vec![challenge]);
    let retry = requests(&sent(&mut ep))[1].clone();
    answer(&mut ep, t0, &retry, 200, vec![]);
    let _ = sent(&mut ep); // ACK
    let first = match ep.poll_event() {
        Some(EndpointEvent::Call(h, CallEvent::Answered { .. })) => h,
        e => panic!("expected the answer, got {e:?}"),
    };
    ep.hangup(t0, first);
    let bye = requests(&sent(&mut ep))[0].clone();
    assert_eq!(bye.method, Method::Bye);
    answer(&mut ep, t0, &bye, 200, vec![]);
    assert_eq!(outcome(&events(&mut ep)).disposition, Disposition::Answered);

    let owners: Vec<Owner> = ep.transactions.values().map(|e| e.owner).collect();
    let mine = owners
        .iter()
        .filter(|o| matches!(o, Owner::Invite(h) | Owner::Bye(h) if *h == first))
        .count();
    let nobody = owners.iter().filter(|o| matches!(o, Owner::Nobody)).count();
    let others = owners
        .iter()
        .filter(|o| matches!(o, Owner::Invite(h) if *h != first))
        .count();
    assert_eq!(
        (mine, nobody, others),
        (0, 3, 1),
        "two INVITEs and a BYE released, the other call's INVITE kept: {owners:?}"
    );
    answer(&mut ep, t0, &other, 486, vec![]);
    assert_eq!(outcome(&events(&mut ep)).disposition, Disposition::Busy);
}

#[test]
fn silence_ends_failed_at_timer_b_after_seven_invites() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    place(&mut ep, t0);
    let mut invites = 1;
    while let Some(next) = ep.poll_timeout() {
        if next > t0 + Duration::from_secs(40) {
            break;
        }
        let t = next;
        ep.handle_timeout(t);
        invites += requests(&sent(&mut ep))
            .iter()
            .filter(|r| r.method == Method::Invite)
            .count();
        if let Some(o) = events(&mut ep).iter().find_map(|e| match e {
            CallEvent::Ended(o) => Some(o.clone()),
            _ => None,
        }) {
            assert_eq!(o.disposition, Disposition::Failed);
            assert_eq!(t - t0, Duration::from_secs(32));
            assert_eq!(invites, 7);
            return;
        }
    }
    panic!("timer B never fired");
}

/// An endpoint with one call answered, its messages and events drained.
fn answered_call() -> (Endpoint, Instant, Request) {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    answer(&mut ep, t0, &invite, 200, vec![]);
    sent(&mut ep);
    events(&mut ep);
    (ep, t0, invite)
}

/// A request the callee sends in the dialog of `invite` (answered with `callee-tag`).
fn request_from_callee(invite: &Request, method: &str, content_type: &str, body: &str) -> String {
    let call_id = message::call_id(&invite.headers).unwrap();
    let from_tag = message::from_tag(&invite.headers).unwrap();
    let content_type = match content_type {
        "" => String::new(),
        ct => format!("Content-Type: {ct}\r\n"),
    };
    format!(
        "{method} sip:ringmaster@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bK{method}1\r\n\
         From: <sip:+15551234567@{PEER}>;tag=callee-tag\r\nTo: <sip:x@{PEER}>;tag={from_tag}\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 {method}\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn the_callee_hanging_up_ends_answered_by_remote_and_is_answered_200() {
    let (mut ep, t0, invite) = answered_call();
    let bye = request_from_callee(&invite, "BYE", "", "");
    peer_sends(&mut ep, t0 + Duration::from_secs(2), &bye);
    let out = sent(&mut ep);
    assert!(matches!(&out[0], SipMessage::Response(r) if r.status_code.code() == 200));
    let o = outcome(&events(&mut ep));
    assert_eq!(
        (o.disposition, o.hangup_by),
        (Disposition::Answered, Some(HangupBy::Remote))
    );
    assert_eq!(o.talk_ms, 2000);
}

#[test]
fn a_180_after_the_200_and_a_retransmitted_200_are_absorbed() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    answer(&mut ep, t0, &invite, 200, vec![]);
    assert_eq!(requests(&sent(&mut ep)).len(), 1);
    events(&mut ep);
    answer(&mut ep, t0, &invite, 180, vec![]);
    assert!(events(&mut ep).is_empty(), "late 180 is absorbed");
    answer(
        &mut ep,
        t0 + Duration::from_millis(500),
        &invite,
        200,
        vec![],
    );
    let out = sent(&mut ep);
    assert_eq!(
        requests(&out)[0].method,
        Method::Ack,
        "ACK re-sent for the 2xx retransmission"
    );
    assert!(events(&mut ep).is_empty());
}

#[test]
fn strangers_get_403_for_invite_481_for_unknown_dialogs_and_200_for_options() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let common = |method: &str, to_tag: &str| {
        format!(
            "{method} sip:ringmaster@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bK{method}\r\n\
             From: <sip:stranger@{PEER}>;tag=s1\r\nTo: <sip:ringmaster@127.0.0.1>{to_tag}\r\n\
             Call-ID: stranger-{method}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    for (method, to_tag, want) in [
        ("INVITE", "", 403),
        ("OPTIONS", "", 200),
        ("BYE", ";tag=nope", 481),
        ("INFO", "", 481),
        ("REGISTER", "", 405),
    ] {
        peer_sends(&mut ep, t0, &common(method, to_tag));
        let out = sent(&mut ep);
        match &out[..] {
            [SipMessage::Response(r)] => assert_eq!(r.status_code.code(), want, "{method}"),
            other => panic!("{method}: expected one response, got {other:?}"),
        }
    }
    peer_sends(&mut ep, t0, "INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: q\r\nCSeq: x\r\n\r\n");
    let raw = ep
        .poll_transmit()
        .expect("a reply to the broken INVITE")
        .payload;
    assert!(raw.starts_with(b"SIP/2.0 400 Bad Request\r\n"));
    assert_eq!(ep.stats().malformed_in, 1);
}

#[test]
fn a_reinvite_is_answered_with_the_sdp_we_offered() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    answer(&mut ep, t0, &invite, 200, vec![]);
    sent(&mut ep);
    let call_id = message::call_id(&invite.headers).unwrap();
    let from_tag = message::from_tag(&invite.headers).unwrap();
    let reinvite = format!(
        "INVITE sip:ringmaster@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKre1\r\n\
         From: <sip:+15551234567@{PEER}>;tag=callee-tag\r\nTo: <sip:x@{PEER}>;tag={from_tag}\r\n\
         Call-ID: {call_id}\r\nCSeq: 2 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"
    );
    peer_sends(&mut ep, t0, &reinvite);
    let out = sent(&mut ep);
    match &out[..] {
        [SipMessage::Response(r)] => {
            assert_eq!(r.status_code.code(), 200);
            assert_eq!(r.body, b"v=0\r\n");
        }
        other => panic!("expected a 200, got {other:?}"),
    }
}

#[test]
fn an_options_probe_reports_the_final_status() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let p = ep
        .probe(
            t0,
            "sip:127.0.0.1:5080",
            PEER.parse().unwrap(),
            TransportKind::Udp,
        )
        .unwrap();
    let out = sent(&mut ep);
    let options = requests(&out)[0].clone();
    answer(&mut ep, t0, &options, 200, vec![]);
    assert!(matches!(ep.poll_event(), Some(EndpointEvent::Probe(h, Some(200))) if h == p));
}

#[test]
fn a_digit_in_a_sip_info_is_answered_200_and_reported_on_the_call() {
    let (mut ep, t0, invite) = answered_call();
    let info = request_from_callee(
        &invite,
        "INFO",
        "application/dtmf-relay",
        "Signal=1\r\nDuration=160\r\n",
    );
    peer_sends(&mut ep, t0, &info);
    let out = sent(&mut ep);
    assert!(matches!(&out[0], SipMessage::Response(r) if r.status_code.code() == 200));
    let evs = events(&mut ep);
    assert!(
        matches!(evs[..], [CallEvent::Digit { digit: '1' }]),
        "{evs:?}"
    );
}
