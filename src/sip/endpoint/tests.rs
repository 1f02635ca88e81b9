//! The endpoint against a scripted peer on a simulated clock: every way a call ends, CANCEL
//! rules, digest retries and inbound requests, without a socket.

use super::*;
use crate::sip::build;
use crate::sip::message::{Header, Method};
use std::any::Any;
use std::sync::Arc;

pub(super) const PEER: &str = "127.0.0.1:5080";

pub(super) fn endpoint() -> Endpoint {
    Endpoint::new(EndpointConfig {
        udp: Some("127.0.0.1:5060".parse().unwrap()),
        tcp: None,
        timers: TimerConfig::default(),
        user_agent: "ringmaster-test".into(),
        trunks: Vec::new(),
        limits: Limits::default(),
        registrar: Default::default(),
    })
}

fn spec() -> CallSpec {
    CallSpec {
        request_uri: format!("sip:+15551234567@{PEER}"),
        from_uri: format!("sip:+15550000000@{PEER}"),
        contact_user: "+15550000000".into(),
        from_display: Some("Clinic".into()),
        asserted_identity: true,
        peer: PEER.parse().unwrap(),
        transport: TransportKind::Udp,
        credentials: Some(Credentials {
            username: "alice".into(),
            password: "secret".into(),
        }),
        dial_timeout: Duration::from_secs(20),
        sdp: Some(our_offer().into_bytes()),
        extra_headers: vec![],
        report_progress: true,
        until_first_response: None,
        call_id: None,
    }
}

/// The SDP offer of the calls placed in these tests (session id and version 7).
fn our_offer() -> String {
    crate::sdp::offer("127.0.0.1".parse().unwrap(), 20000, 7)
}

/// Everything the endpoint sent, parsed.
pub(super) fn sent(ep: &mut Endpoint) -> Vec<SipMessage> {
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

fn outcome(evs: &[CallEvent]) -> LegEnd {
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

pub(super) fn peer_sends(ep: &mut Endpoint, now: Instant, raw: &str) {
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
    assert!(matches!(evs[0], CallEvent::Progress { code: 100 }));
    assert!(matches!(evs[1], CallEvent::Progress { code: 180 }));
    assert!(matches!(evs[2], CallEvent::Answered { .. }));

    let h = CallHandle(ep.calls.keys().next().unwrap().0);
    ep.hangup(t0 + Duration::from_millis(1300), h);
    let out = sent(&mut ep);
    let bye = requests(&out)[0].clone();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(message::cseq(&bye.headers), Some((2, "BYE")));
    // The call is over once the BYE is sent (RFC 3261 §15.1.1): its answer is not waited for.
    let o = outcome(&events(&mut ep));
    assert_eq!(o.cause, LegEndCause::LocalBye(ByeCause::Hangup));
    assert!(o.answered);
    assert_eq!(o.bye_from(), Some(Side::Local));
    assert_eq!(o.final_code(), Some(200));
    assert_eq!(o.setup_ms, 300);
    assert_eq!(o.talk_ms, 1000);
    assert_eq!(ep.active_calls(), 0);
    // The BYE's transaction goes on alone: its 200 is absorbed, and reported to nobody.
    assert!(
        ep.requests_pending(),
        "a driver stopping now waits for the BYE's answer"
    );
    answer(&mut ep, t0 + Duration::from_millis(1310), &bye, 200, vec![]);
    assert!(!ep.requests_pending());
    assert!(events(&mut ep).is_empty());
    assert!(sent(&mut ep).is_empty());
}

#[test]
fn the_guard_held_until_the_first_response_is_dropped_at_the_first_response() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let guard: Arc<dyn Any + Send + Sync> = Arc::new(());
    let held = Arc::downgrade(&guard);
    ep.place_call(
        t0,
        CallSpec {
            until_first_response: Some(guard),
            ..spec()
        },
    )
    .unwrap();
    let invite = requests(&sent(&mut ep))[0].clone();
    assert!(held.upgrade().is_some(), "held while the INVITE waits");
    answer(&mut ep, t0, &invite, 100, vec![]);
    assert!(held.upgrade().is_none(), "dropped at the 100");
    assert_eq!(ep.active_calls(), 1);
}

#[test]
fn a_caller_made_handle_must_have_its_top_bit_and_be_free() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mine = CallHandle(CallHandle::CALLER_MADE | 7);
    ep.place_call_as(t0, mine, spec()).expect("placed");
    assert_eq!(ep.active_calls(), 1);
    assert!(ep.place_call_as(t0, mine, spec()).is_err(), "in use");
    assert!(
        ep.place_call_as(t0, CallHandle(7), spec()).is_err(),
        "the endpoint's own space"
    );
    assert_eq!(ep.active_calls(), 1);
    let own = ep.place_call(t0, spec()).expect("placed");
    assert_eq!(own.0 & CallHandle::CALLER_MADE, 0);
}

#[test]
fn the_invite_carries_a_sip_uri_as_given_and_an_escaped_display_name() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mut s = spec();
    s.request_uri = "sip:alice@127.0.0.1:5090".into();
    s.from_display = Some(r#"Dr "Who" \ Co"#.into());
    s.asserted_identity = false;
    ep.place_call(t0, s).expect("placed");
    let out = sent(&mut ep);
    let invite = requests(&out)[0];
    assert_eq!(invite.uri.to_string(), "sip:alice@127.0.0.1:5090");
    let from = invite
        .headers
        .iter()
        .find_map(|h| match h {
            Header::From(f) => Some(f.value().to_string()),
            _ => None,
        })
        .expect("From");
    assert!(
        from.starts_with(r#""Dr \"Who\" \\ Co" <sip:+15550000000@127.0.0.1:5080>;tag="#),
        "{from}"
    );
    let pai = invite
        .headers
        .iter()
        .any(|h| h.name() == "P-Asserted-Identity");
    assert!(
        !pai,
        "no P-Asserted-Identity when the trunk does not assert one"
    );
}

#[test]
fn a_call_whose_headers_would_break_lines_is_refused_before_anything_is_sent() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mut s = spec();
    s.from_uri = "sip:evil@x>\r\nP-Asserted-Identity: <sip:+18005551212@x".into();
    assert!(matches!(
        ep.place_call(t0, s),
        Err(build::BuildError::LineBreak(_))
    ));
    let mut s = spec();
    s.from_display = Some("A\r\nP-Asserted-Identity: <sip:+18005551212@x>".into());
    assert!(matches!(
        ep.place_call(t0, s),
        Err(build::BuildError::Display(_))
    ));
    assert!(sent(&mut ep).is_empty());
    assert_eq!(ep.active_calls(), 0);
}

#[test]
fn a_call_that_does_not_ask_for_progress_reports_only_its_answer_and_end() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    ep.place_call(
        t0,
        CallSpec {
            report_progress: false,
            ..spec()
        },
    )
    .unwrap();
    let invite = requests(&sent(&mut ep))[0].clone();
    answer(&mut ep, t0, &invite, 100, vec![]);
    answer(&mut ep, t0, &invite, 180, vec![]);
    assert!(events(&mut ep).is_empty(), "no Progress for 100 and 180");
    answer(&mut ep, t0, &invite, 200, vec![]);
    let evs = events(&mut ep);
    assert_eq!(evs.len(), 1);
    assert!(matches!(evs[0], CallEvent::Answered { .. }));
    let h = CallHandle(ep.calls.keys().next().unwrap().0);
    ep.hangup(t0 + Duration::from_millis(10), h);
    assert_eq!(
        outcome(&events(&mut ep)).cause,
        LegEndCause::LocalBye(ByeCause::Hangup)
    );
}

#[test]
fn a_bye_never_answered_is_re_sent_without_holding_the_call() {
    let (mut ep, t0, _invite) = answered_call();
    let h = CallHandle(ep.calls.keys().next().unwrap().0);
    ep.hangup(t0, h);
    assert_eq!(requests(&sent(&mut ep))[0].method, Method::Bye);
    assert_eq!(
        outcome(&events(&mut ep)).cause,
        LegEndCause::LocalBye(ByeCause::Hangup)
    );
    assert_eq!(ep.active_calls(), 0);
    // Timer E re-sends it (UDP) until timer F; nothing more reaches the call's listener.
    let mut resent = 0;
    for ms in (100..=33_000).step_by(100) {
        ep.handle_timeout(t0 + Duration::from_millis(ms));
        resent += requests(&sent(&mut ep)).len();
    }
    assert!(resent >= 5, "BYE re-sent {resent} times");
    assert!(events(&mut ep).is_empty());
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
    assert_eq!(
        (&o.cause, o.final_code()),
        (&LegEndCause::FinalResponse, Some(486))
    );
    assert_eq!(
        o.final_status.map(|s| s.reason).as_deref(),
        Some("Busy Here")
    );
    assert!(!o.answered);
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
        (&o.cause, o.final_code(), o.cancel),
        (
            &LegEndCause::FinalResponse,
            Some(487),
            Some(CancelCause::DialTimeout)
        )
    );
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
        (&o.cause, o.final_code()),
        (&LegEndCause::FinalResponse, Some(407))
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
    assert_eq!(
        outcome(&events(&mut ep)).cause,
        LegEndCause::LocalBye(ByeCause::Hangup)
    );

    let owners: Vec<Owner> = ep.transactions.values().map(|e| e.owner).collect();
    let mine = owners
        .iter()
        .filter(|o| matches!(o, Owner::Invite(h) if *h == first))
        .count();
    let nobody = owners.iter().filter(|o| matches!(o, Owner::Nobody)).count();
    let others = owners
        .iter()
        .filter(|o| matches!(o, Owner::Invite(h) if *h != first))
        .count();
    assert_eq!(
        (mine, nobody, others),
        (0, 1, 1),
        "the challenged INVITE released, the other call's INVITE kept: {owners:?}"
    );
    // The answered INVITE (until timer M) and the answered BYE (until timer K) are parked in
    // what they still need; a retransmitted 200 to either is absorbed, no ACK, no event.
    assert_eq!((ep.accepted.len(), ep.completed.len()), (1, 1));
    answer(&mut ep, t0, &retry, 200, vec![]);
    answer(&mut ep, t0, &bye, 200, vec![]);
    assert!(sent(&mut ep).is_empty());
    assert!(events(&mut ep).is_empty());
    assert_eq!(ep.stats().stray_in, 0);
    answer(&mut ep, t0, &other, 486, vec![]);
    assert_eq!(outcome(&events(&mut ep)).final_code(), Some(486));
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
            assert_eq!(o.cause, LegEndCause::TimerB);
            assert_eq!(o.peer_fault, Some(PeerFault::NoResponse));
            assert_eq!(t - t0, Duration::from_secs(32));
            assert_eq!(invites, 7);
            return;
        }
    }
    panic!("timer B never fired");
}

/// An endpoint with one call answered, its messages and events drained.
pub(super) fn answered_call() -> (Endpoint, Instant, Request) {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    answer(&mut ep, t0, &invite, 200, vec![]);
    sent(&mut ep);
    events(&mut ep);
    (ep, t0, invite)
}

/// A request the callee sends in the dialog of `invite` (answered with `callee-tag`).
pub(super) fn request_from_callee(
    invite: &Request,
    method: &str,
    content_type: &str,
    body: &str,
) -> String {
    request_from_callee_seq(invite, method, 1, content_type, body)
}

/// The same with CSeq `seq` (and a branch of its own).
pub(super) fn request_from_callee_seq(
    invite: &Request,
    method: &str,
    seq: u32,
    content_type: &str,
    body: &str,
) -> String {
    let call_id = message::call_id(&invite.headers).unwrap();
    let from_tag = message::from_tag(&invite.headers).unwrap();
    let content_type = match content_type {
        "" => String::new(),
        ct => format!("Content-Type: {ct}\r\n"),
    };
    format!(
        "{method} sip:ringmaster@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bK{method}{seq}\r\n\
         From: <sip:+15551234567@{PEER}>;tag=callee-tag\r\nTo: <sip:x@{PEER}>;tag={from_tag}\r\n\
         Call-ID: {call_id}\r\nCSeq: {seq} {method}\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
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
        (&o.cause, o.bye_from()),
        (&LegEndCause::RemoteBye, Some(Side::Remote))
    );
    assert_eq!(o.talk_ms, 2000);
}

#[test]
fn a_bye_that_reuses_the_branch_of_another_calls_bye_ends_its_own_call() {
    // Two calls to one peer that sends the BYE of every call with the same branch (as SIPp's
    // out-of-call scenarios do): the second BYE is no retransmission of the first.
    let mut ep = endpoint();
    let t0 = Instant::now();
    let first = place(&mut ep, t0);
    answer(&mut ep, t0, &first, 200, vec![]);
    sent(&mut ep);
    let second = place(&mut ep, t0);
    answer(&mut ep, t0, &second, 200, vec![]);
    sent(&mut ep);
    events(&mut ep);
    let bye_of = |invite: &Request| request_from_callee(invite, "BYE", "", "");
    assert_eq!(
        message::top_via_branch(&parse_request(&bye_of(&first)).headers),
        message::top_via_branch(&parse_request(&bye_of(&second)).headers),
    );
    let answered_call_ids = |ep: &mut Endpoint| -> Vec<(u16, String)> {
        sent(ep)
            .iter()
            .filter_map(|m| match m {
                SipMessage::Response(r) => Some((
                    r.status_code.code(),
                    message::call_id(&r.headers).unwrap_or_default().to_string(),
                )),
                _ => None,
            })
            .collect()
    };
    let call_id = |invite: &Request| message::call_id(&invite.headers).unwrap().to_string();

    peer_sends(&mut ep, t0 + Duration::from_secs(2), &bye_of(&first));
    assert_eq!(answered_call_ids(&mut ep), vec![(200, call_id(&first))]);
    assert_eq!(outcome(&events(&mut ep)).cause, LegEndCause::RemoteBye);
    assert_eq!(ep.active_calls(), 1);

    peer_sends(&mut ep, t0 + Duration::from_secs(3), &bye_of(&second));
    assert_eq!(
        answered_call_ids(&mut ep),
        vec![(200, call_id(&second))],
        "the second call's BYE is answered as its own"
    );
    let o = outcome(&events(&mut ep));
    assert_eq!((o.cause, o.talk_ms), (LegEndCause::RemoteBye, 3000));
    assert_eq!(ep.active_calls(), 0);

    // A real retransmission is still absorbed: its 200 again, and nothing reported.
    peer_sends(&mut ep, t0 + Duration::from_millis(3500), &bye_of(&second));
    assert_eq!(answered_call_ids(&mut ep), vec![(200, call_id(&second))]);
    assert!(events(&mut ep).is_empty());
}

fn parse_request(raw: &str) -> Request {
    match message::parse(raw.as_bytes()) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
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
        ("REGISTER", "", 401),
        ("MESSAGE", "", 405),
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

/// A callee's SDP offer: PCMA and telephone-events at `port`, with `direction` (none when
/// empty).
fn callee_offer(port: u16, direction: &str) -> String {
    let direction = match direction {
        "" => String::new(),
        d => format!("a={d}\r\n"),
    };
    format!(
        "v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n{direction}"
    )
}

/// The callee sends `method` with CSeq `seq` in the dialog of `invite`; the one response.
fn callee_asks(
    ep: &mut Endpoint,
    now: Instant,
    invite: &Request,
    method: &str,
    seq: u32,
    content_type: &str,
    body: &str,
) -> Response {
    peer_sends(
        ep,
        now,
        &request_from_callee_seq(invite, method, seq, content_type, body),
    );
    the_response(ep)
}

/// The one response the endpoint sent.
fn the_response(ep: &mut Endpoint) -> Response {
    match &sent(ep)[..] {
        [SipMessage::Response(r)] => r.clone(),
        other => panic!("expected one response, got {other:?}"),
    }
}

/// The `a=` direction attributes of an SDP body.
fn directions(body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).unwrap();
    text.lines()
        .filter(|l| {
            matches!(
                *l,
                "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"
            )
        })
        .map(str::to_string)
        .collect()
}

/// The `o=` line of an SDP body.
fn origin(body: &[u8]) -> String {
    let text = std::str::from_utf8(body).unwrap();
    text.lines()
        .find(|l| l.starts_with("o="))
        .unwrap()
        .to_string()
}

fn has_sdp_content_type(r: &Response) -> bool {
    r.headers
        .iter()
        .any(|h| matches!(h, Header::ContentType(ct) if ct.value() == "application/sdp"))
}

#[test]
fn a_reinvite_is_answered_with_the_sdp_we_offered() {
    // No offer in the re-INVITE: ours goes in the 200, exactly as first offered.
    let (mut ep, t0, invite) = answered_call();
    let r = callee_asks(&mut ep, t0, &invite, "INVITE", 2, "", "");
    assert_eq!(r.status_code.code(), 200);
    assert_eq!(r.body, our_offer().as_bytes());
    assert!(has_sdp_content_type(&r));
    assert!(events(&mut ep).is_empty(), "no new remote SDP");
}

#[test]
fn a_hold_is_answered_recvonly_with_the_next_version_and_reported() {
    let (mut ep, t0, invite) = answered_call();
    let offer = callee_offer(6000, "sendonly");
    let r = callee_asks(&mut ep, t0, &invite, "INVITE", 2, "application/sdp", &offer);
    assert_eq!(r.status_code.code(), 200);
    assert!(has_sdp_content_type(&r));
    assert_eq!(directions(&r.body), ["a=recvonly"]);
    assert_eq!(origin(&r.body), "o=ringmaster 7 8 IN IP4 127.0.0.1");
    assert!(
        std::str::from_utf8(&r.body)
            .unwrap()
            .contains("m=audio 20000 RTP/AVP 0 8 101\r\n"),
        "codec list and port kept"
    );
    let evs = events(&mut ep);
    match &evs[..] {
        [CallEvent::RemoteSdp { sdp }] => assert_eq!(sdp, offer.as_bytes()),
        other => panic!("expected the new remote SDP, got {other:?}"),
    }
}

#[test]
fn a_2xx_to_a_reinvite_over_udp_is_resent_until_its_ack_arrives() {
    let (mut ep, t0, invite) = answered_call();
    let offer = callee_offer(6000, "sendonly");
    let first = callee_asks(&mut ep, t0, &invite, "INVITE", 2, "application/sdp", &offer);
    let after = |ep: &mut Endpoint, ms: u64| {
        ep.handle_timeout(t0 + std::time::Duration::from_millis(ms));
        sent(ep)
    };
    // No ACK yet: the same 200 again after T1, then 2·T1 later.
    for ms in [500, 1_500] {
        match &after(&mut ep, ms)[..] {
            [SipMessage::Response(r)] => {
                assert_eq!(
                    (r.status_code.code(), &r.body),
                    (200, &first.body),
                    "at {ms} ms"
                )
            }
            other => panic!("expected the 200 again at {ms} ms, got {other:?}"),
        }
    }
    // The ACK (a transaction of its own: another branch, the same CSeq number) stops it.
    peer_sends(
        &mut ep,
        t0 + std::time::Duration::from_millis(1_600),
        &request_from_callee_seq(&invite, "ACK", 2, "", ""),
    );
    for ms in [3_500, 7_500, 40_000] {
        assert_eq!(after(&mut ep, ms), vec![], "nothing more at {ms} ms");
    }
}

#[test]
fn without_an_ack_for_our_200_to_a_reinvite_the_call_is_hung_up() {
    let (mut ep, t0, invite) = answered_call();
    callee_asks(&mut ep, t0, &invite, "INVITE", 2, "", "");
    // The 200 is re-sent up to timer L (64·T1) and then, still without an ACK, a BYE goes.
    let mut byes = Vec::new();
    for ms in (500..=33_000).step_by(500) {
        ep.handle_timeout(t0 + std::time::Duration::from_millis(ms));
        for m in sent(&mut ep) {
            if let SipMessage::Request(r) = m {
                assert_eq!(r.method, Method::Bye, "at {ms} ms");
                byes.push(ms);
            }
        }
    }
    // The BYE at timer L, then its own retransmission (timer E) while unanswered.
    assert_eq!(byes, vec![32_000, 32_500]);
    let o = outcome(&events(&mut ep));
    assert_eq!(
        o.cause,
        LegEndCause::LocalBye(ByeCause::ReinviteUnacknowledged)
    );
}

#[test]
fn a_resume_after_a_hold_is_answered_sendrecv_with_the_version_bumped_again() {
    let (mut ep, t0, invite) = answered_call();
    let hold = callee_offer(6000, "sendonly");
    callee_asks(&mut ep, t0, &invite, "INVITE", 2, "application/sdp", &hold);
    events(&mut ep);
    // The resume moves the callee's media and names no direction (sendrecv).
    let resume = callee_offer(6002, "");
    peer_sends(
        &mut ep,
        t0 + Duration::from_secs(1),
        &request_from_callee_seq(&invite, "INVITE", 3, "application/sdp", &resume),
    );
    let r = the_response(&mut ep);
    assert_eq!(r.status_code.code(), 200);
    assert_eq!(directions(&r.body), ["a=sendrecv"]);
    assert_eq!(origin(&r.body), "o=ringmaster 7 9 IN IP4 127.0.0.1");
    let evs = events(&mut ep);
    assert!(
        matches!(&evs[..], [CallEvent::RemoteSdp { sdp }] if sdp == resume.as_bytes()),
        "{evs:?}"
    );
    // After a revised answer, an offerless re-INVITE gets our offer with a newer version.
    peer_sends(
        &mut ep,
        t0 + Duration::from_secs(2),
        &request_from_callee_seq(&invite, "INVITE", 4, "", ""),
    );
    let r = the_response(&mut ep);
    assert_eq!(directions(&r.body), ["a=sendrecv"]);
    assert_eq!(origin(&r.body), "o=ringmaster 7 10 IN IP4 127.0.0.1");
}

#[test]
fn every_offered_direction_is_mirrored() {
    let (mut ep, t0, invite) = answered_call();
    let cases = [
        ("inactive", "a=inactive"),
        ("recvonly", "a=sendonly"),
        ("sendrecv", "a=sendrecv"),
        ("sendonly", "a=recvonly"),
    ];
    for (i, (offered, answered)) in cases.into_iter().enumerate() {
        let seq = 2 + i as u32;
        let offer = callee_offer(6000, offered);
        let r = callee_asks(
            &mut ep,
            t0,
            &invite,
            "INVITE",
            seq,
            "application/sdp",
            &offer,
        );
        assert_eq!(directions(&r.body), [answered], "{offered}");
        assert_eq!(
            origin(&r.body),
            format!("o=ringmaster 7 {} IN IP4 127.0.0.1", 8 + i),
            "one version per answer"
        );
        assert_eq!(events(&mut ep).len(), 1);
    }
}

#[test]
fn an_unusable_offer_is_refused_488_and_leaves_the_call_as_it_was() {
    let (mut ep, t0, invite) = answered_call();
    let bad = [
        ("application/sdp", "v=0\r\n".to_string()),
        ("application/sdp", "this is not SDP".to_string()),
        (
            "application/sdp",
            callee_offer(6000, "sendonly").replace("RTP/AVP 8 101", "RTP/AVP 18"),
        ),
        ("text/plain", "hello".to_string()),
    ];
    for (i, (content_type, body)) in bad.iter().enumerate() {
        let seq = 2 + i as u32;
        let r = callee_asks(&mut ep, t0, &invite, "INVITE", seq, content_type, body);
        assert_eq!(r.status_code.code(), 488, "{body}");
        assert!(r.body.is_empty());
        assert!(
            r.headers.iter().any(|h| matches!(h, Header::Warning(_))),
            "a Warning says why"
        );
        // The 488 is a final non-2xx: the callee's ACK goes to its transaction.
        let ack = request_from_callee_seq(&invite, "ACK", seq, "", "").replace(
            &format!("branch=z9hG4bKACK{seq}"),
            &format!("branch=z9hG4bKINVITE{seq}"),
        );
        peer_sends(&mut ep, t0, &ack);
        assert!(sent(&mut ep).is_empty(), "the ACK is absorbed");
        assert!(events(&mut ep).is_empty(), "nothing reported for {body}");
    }
    // A refused offer used no version: the next answer is still the first revision.
    let offer = callee_offer(6000, "sendonly");
    let r = callee_asks(
        &mut ep,
        t0,
        &invite,
        "INVITE",
        10,
        "application/sdp",
        &offer,
    );
    assert_eq!(r.status_code.code(), 200);
    assert_eq!(origin(&r.body), "o=ringmaster 7 8 IN IP4 127.0.0.1");
    assert_eq!(events(&mut ep).len(), 1);
    // And the call goes on to end normally.
    peer_sends(
        &mut ep,
        t0 + Duration::from_secs(3),
        &request_from_callee_seq(&invite, "BYE", 11, "", ""),
    );
    sent(&mut ep);
    let o = outcome(&events(&mut ep));
    assert_eq!(
        (&o.cause, o.bye_from()),
        (&LegEndCause::RemoteBye, Some(Side::Remote))
    );
}

#[test]
fn an_update_with_an_offer_is_answered_and_reported_the_same_way() {
    let (mut ep, t0, invite) = answered_call();
    let offer = callee_offer(6000, "sendonly");
    let r = callee_asks(&mut ep, t0, &invite, "UPDATE", 2, "application/sdp", &offer);
    assert_eq!(r.status_code.code(), 200);
    assert_eq!(message::cseq(&r.headers), Some((2, "UPDATE")));
    assert_eq!(directions(&r.body), ["a=recvonly"]);
    assert_eq!(origin(&r.body), "o=ringmaster 7 8 IN IP4 127.0.0.1");
    let evs = events(&mut ep);
    assert!(
        matches!(&evs[..], [CallEvent::RemoteSdp { sdp }] if sdp == offer.as_bytes()),
        "{evs:?}"
    );

    // A bad offer in an UPDATE: 488, nothing reported.
    peer_sends(
        &mut ep,
        t0,
        &request_from_callee_seq(&invite, "UPDATE", 3, "application/sdp", "v=0\r\n"),
    );
    assert_eq!(the_response(&mut ep).status_code.code(), 488);
    assert!(events(&mut ep).is_empty());

    // An UPDATE without an offer (a session refresh) gets a 200 without SDP.
    let r = callee_asks(&mut ep, t0, &invite, "UPDATE", 4, "", "");
    assert_eq!(r.status_code.code(), 200);
    assert!(r.body.is_empty() && !has_sdp_content_type(&r));
    assert!(events(&mut ep).is_empty());
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

#[test]
fn a_call_id_chosen_by_the_caller_is_used_and_an_invalid_one_refused() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let chosen = CallSpec {
        call_id: Some("0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4".into()),
        ..spec()
    };
    ep.place_call(t0, chosen).unwrap();
    let invite = requests(&sent(&mut ep))[0].clone();
    assert_eq!(
        message::call_id(&invite.headers),
        Some("0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4")
    );
    for bad in ["", "a b", "x\r\nVia: evil", "a@", "a@b@c"] {
        let spec = CallSpec {
            call_id: Some(bad.into()),
            ..spec()
        };
        assert!(ep.place_call(t0, spec).is_err(), "{bad:?} accepted");
    }
    assert_eq!(ep.active_calls(), 1);
}

/// A call answered through two record-routing proxies; returns what the answer reported.
fn answered_with_routes() -> (Request, crate::sip::dialog::DialogRecord) {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let invite = place(&mut ep, t0);
    let rr = headers::RecordRoute::new("<sip:127.0.0.1:5090;lr>, <sip:127.0.0.1:5091;lr>");
    answer(&mut ep, t0, &invite, 200, vec![rr.into()]);
    let record = events(&mut ep)
        .into_iter()
        .find_map(|e| match e {
            CallEvent::Answered { dialog, .. } => dialog,
            _ => None,
        })
        .expect("the answer carries its dialog");
    (invite, *record)
}

#[test]
fn a_stored_dialog_is_ended_by_a_bye_a_new_endpoint_builds_from_its_record() {
    let (invite, record) = answered_with_routes();
    assert_eq!(record.cseq, 1);
    assert_eq!(record.peer, PEER.parse().unwrap());
    // Through JSON, as stored, into an endpoint that never saw the call.
    let json = serde_json::to_string(&record).unwrap();
    let record: crate::sip::dialog::DialogRecord = serde_json::from_str(&json).unwrap();
    let mut ep = endpoint();
    let t0 = Instant::now();
    let p = ep.end_dialog(t0, &record).unwrap();
    let out: Vec<Transmit> = std::iter::from_fn(|| ep.poll_transmit()).collect();
    assert_eq!(out.len(), 1);
    // Loose routing: to the first proxy, the routes in UAC order.
    assert_eq!(out[0].destination, "127.0.0.1:5091".parse().unwrap());
    let bye = match message::parse(&out[0].payload).unwrap() {
        SipMessage::Request(r) => r,
        other => panic!("not a request: {other:?}"),
    };
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:callee@127.0.0.1:5080");
    assert_eq!(message::cseq(&bye.headers), Some((2, "BYE")));
    assert_eq!(
        message::call_id(&bye.headers),
        message::call_id(&invite.headers)
    );
    assert_eq!(
        message::from_tag(&bye.headers),
        message::from_tag(&invite.headers)
    );
    assert_eq!(message::to_tag(&bye.headers), Some("callee-tag"));
    let routes: Vec<String> = bye
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Route(r) => Some(r.value().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        routes,
        ["<sip:127.0.0.1:5091;lr>", "<sip:127.0.0.1:5090;lr>"]
    );
    answer(&mut ep, t0, &bye, 200, vec![]);
    assert!(matches!(ep.poll_event(), Some(EndpointEvent::Probe(h, Some(200))) if h == p));
}

#[test]
fn a_bye_for_a_stored_dialog_that_nobody_answers_reports_no_status_at_timer_f() {
    let (_invite, record) = answered_with_routes();
    let mut ep = endpoint();
    let t0 = Instant::now();
    let p = ep.end_dialog(t0, &record).unwrap();
    for ms in (500..=33_000).step_by(500) {
        ep.handle_timeout(t0 + Duration::from_millis(ms));
    }
    assert!(matches!(ep.poll_event(), Some(EndpointEvent::Probe(h, None)) if h == p));
    assert!(!ep.requests_pending());
}

/// What ended calls leave behind stays bounded: their INVITEs and BYEs wait out timers M and K
/// parked, and the timer heap entries they no longer need (timer B, the dial timeout, the
/// BYE's timer F) are swept out rather than kept for 32 s each.
#[test]
fn ended_calls_leave_parked_transactions_and_a_bounded_timer_heap() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let calls = 4 * TIMERS_COMPACT_MIN;
    for i in 0..calls {
        let now = t0 + Duration::from_millis(i as u64);
        let invite = place(&mut ep, now);
        answer(&mut ep, now, &invite, 200, vec![]);
        let _ = sent(&mut ep); // ACK
        let h = match ep.poll_event() {
            Some(EndpointEvent::Call(h, CallEvent::Answered { .. })) => h,
            e => panic!("expected the answer, got {e:?}"),
        };
        ep.hangup(now, h);
        let bye = requests(&sent(&mut ep))[0].clone();
        answer(&mut ep, now, &bye, 200, vec![]);
        let _ = events(&mut ep);
        ep.handle_timeout(now);
    }
    assert!(ep.transactions.is_empty());
    assert_eq!(ep.accepted.len(), calls);
    assert!(
        ep.timers.len() <= 2 * TIMERS_COMPACT_MIN,
        "{}",
        ep.timers.len()
    );
    // Timer K (5 s) ends the BYEs, timer M (32 s) the INVITEs.
    let last = t0 + Duration::from_millis(calls as u64);
    ep.handle_timeout(last + Duration::from_secs(6));
    assert_eq!(ep.completed.len(), 0);
    assert!(ep.accepted.len() > 0);
    let due = ep.poll_timeout().expect("timer M is due");
    assert!(due <= last + Duration::from_secs(33));
    ep.handle_timeout(last + Duration::from_secs(33));
    assert_eq!(ep.accepted.len(), 0);
}
