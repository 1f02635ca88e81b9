//! Requests from outside our dialogs and trunks on a simulated clock: one stateless answer to a
//! stranger's INVITE, the bound on server transactions, the per-source rate limit, and one
//! summary line for a burst of garbage.

use super::tests::{answered_call, endpoint, peer_sends, request_from_callee, sent, PEER};
use super::*;

const STRANGER: &str = "192.0.2.7:5060";

fn request(method: &str, branch: &str, to_tag: &str) -> String {
    format!(
        "{method} sip:ringmaster@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {STRANGER};branch=z9hG4bK{branch}\r\n\
         From: <sip:scanner@{STRANGER}>;tag=s1\r\nTo: <sip:ringmaster@127.0.0.1>{to_tag}\r\n\
         Call-ID: flood-{branch}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    )
}

fn from_stranger(ep: &mut Endpoint, now: Instant, raw: &str) {
    ep.handle_datagram(
        now,
        STRANGER.parse().unwrap(),
        TransportKind::Udp,
        raw.as_bytes(),
    );
}

fn codes(ep: &mut Endpoint) -> Vec<u16> {
    sent(ep)
        .into_iter()
        .map(|m| match m {
            SipMessage::Response(r) => r.status_code.code(),
            SipMessage::Request(r) => panic!("unexpected request {}", r.method),
        })
        .collect()
}

fn with_limits(limits: Limits, trunks: Vec<IpAddr>) -> Endpoint {
    let mut ep = endpoint();
    ep.config.trunks = trunks;
    ep.config.limits = limits;
    ep.limiter = SourceLimiter::new(limits.source_rate, limits.source_burst, limits.max_sources);
    ep.unwanted = UnwantedLog::new(limits.unwanted_log_interval);
    ep
}

#[test]
fn a_strangers_invite_gets_one_stateless_403_and_its_ack_is_absorbed() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    from_stranger(&mut ep, t0, &request("INVITE", "inv", ""));
    assert_eq!(codes(&mut ep), [403]);
    assert_eq!(ep.stats().server_transactions, 0, "nothing kept for it");
    // Timer G would have re-sent a stateful 403 at 0.5, 1.5, 3.5 ... s until timer H.
    for ms in (100..40_000).step_by(100) {
        ep.handle_timeout(t0 + Duration::from_millis(ms));
    }
    assert_eq!(codes(&mut ep), Vec::<u16>::new());
    let refused = ep.stats().refused_in;
    from_stranger(&mut ep, t0, &request("ACK", "inv", ";tag=ours"));
    assert_eq!(codes(&mut ep), Vec::<u16>::new());
    assert_eq!(ep.stats().refused_in, refused, "an ACK is not counted");
    // A retransmitted INVITE is answered again: one response per request, never more.
    from_stranger(&mut ep, t0, &request("INVITE", "inv", ""));
    assert_eq!(codes(&mut ep), [403]);
}

#[test]
fn a_trunks_invite_is_refused_through_a_transaction_until_acked() {
    let trunk: SocketAddr = PEER.parse().unwrap();
    let mut ep = with_limits(Limits::default(), vec![trunk.ip()]);
    let t0 = Instant::now();
    let invite = request("INVITE", "trunk", "");
    peer_sends(&mut ep, t0, &invite);
    assert_eq!(codes(&mut ep), [403]);
    assert_eq!(ep.stats().server_transactions, 1);
    ep.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(codes(&mut ep), [403], "re-sent on timer G");
}

#[test]
fn past_the_bound_strangers_get_a_stateless_503_and_our_dialogs_are_served() {
    let limits = Limits {
        max_server_transactions: 3,
        source_rate: 0,
        ..Limits::default()
    };
    let (mut ep, t0, invite) = answered_call();
    ep.config.limits = limits;
    ep.limiter = SourceLimiter::new(0, 1, 1);
    let mut got = Vec::new();
    for i in 0..6 {
        from_stranger(&mut ep, t0, &request("OPTIONS", &format!("o{i}"), ""));
        got.extend(codes(&mut ep));
    }
    assert_eq!(got, [200, 200, 200, 503, 503, 503]);
    assert_eq!(ep.stats().server_transactions, 3);
    assert_eq!(ep.stats().overloaded_in, 3);
    // The callee's BYE is served past the bound.
    peer_sends(&mut ep, t0, &request_from_callee(&invite, "BYE", "", ""));
    assert_eq!(codes(&mut ep), [200]);
    // Timer J (64·T1) ends the OPTIONS transactions: room again.
    ep.handle_timeout(t0 + Duration::from_secs(33));
    assert_eq!(ep.stats().server_transactions, 0);
    from_stranger(
        &mut ep,
        t0 + Duration::from_secs(33),
        &request("OPTIONS", "later", ""),
    );
    assert_eq!(codes(&mut ep), [200]);
}

#[test]
fn a_flooding_source_is_cut_to_its_rate_and_trunks_are_not_limited() {
    let trunk: SocketAddr = PEER.parse().unwrap();
    let limits = Limits {
        source_rate: 10,
        source_burst: 20,
        ..Limits::default()
    };
    let mut ep = with_limits(limits, vec![trunk.ip()]);
    let t0 = Instant::now();
    let mut answered = 0;
    let mut trunk_answered = 0;
    // 10,000 OPTIONS in one second from one stranger, 100 from the trunk among them.
    for i in 0..10_000u64 {
        let now = t0 + Duration::from_micros(i * 100);
        from_stranger(&mut ep, now, &request("OPTIONS", &format!("f{i}"), ""));
        answered += codes(&mut ep).len();
        if i % 100 == 0 {
            peer_sends(&mut ep, now, &request("OPTIONS", &format!("t{i}"), ""));
            trunk_answered += codes(&mut ep).len();
        }
    }
    // The burst, then ten a second.
    assert!((20..=30).contains(&answered), "{answered} answered");
    assert_eq!(trunk_answered, 100);
    assert_eq!(ep.stats().rate_limited_in, 10_000 - answered as u64);
    assert!(ep.stats().server_transactions <= 130);
}

#[test]
fn a_burst_of_garbage_is_counted_in_one_summary() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    for i in 0..20_000u64 {
        let now = t0 + Duration::from_micros(i * 50);
        from_stranger(&mut ep, now, "\u{1}garbage that is not SIP at all");
        ep.handle_timeout(now);
    }
    assert_eq!(ep.stats().malformed_in, 20_000);
    assert_eq!(
        ep.stats().unwanted_summaries,
        0,
        "the interval is still open"
    );
    assert_eq!(ep.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    ep.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(ep.stats().unwanted_summaries, 1);
    assert_eq!(ep.poll_timeout(), None, "quiet: no more summaries");
    assert!(sent(&mut ep).is_empty(), "garbage is never answered");
}
