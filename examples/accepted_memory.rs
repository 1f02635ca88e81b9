//! What an answered call costs the SIP endpoint after it has ended: its INVITE transaction is
//! kept 32 s in RFC 6026's Accepted state (timer M) and its BYE's transaction 5 s in
//! Completed (timer K). Drives the sans-IO endpoint alone on a simulated clock (no socket, no
//! peer process): N calls each placed, answered with a 200 and SDP, ACKed, hung up with a BYE
//! that is answered, one after another; then the resident memory the N lingering calls hold
//! is measured against the process before them, and again once timer M has ended them.
//! Prints one JSON line.
//!
//! `cargo run --release --example accepted_memory -- [calls]` (default 100000)

use ringmaster::sip::build;
use ringmaster::sip::endpoint::{
    CallEvent, CallSpec, Endpoint, EndpointConfig, EndpointEvent, Limits,
};
use ringmaster::sip::message::parse;
use ringmaster::sip::message::{headers, SipMessage};
use ringmaster::sip::transaction::TimerConfig;
use ringmaster::sip::uri::TransportKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PEER: &str = "127.0.0.1:5080";

fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let peer: SocketAddr = PEER.parse()?;
    let mut ep = Endpoint::new(EndpointConfig {
        udp: Some("127.0.0.1:5060".parse()?),
        tcp: None,
        timers: TimerConfig::default(),
        user_agent: "ringmaster".into(),
        trunks: vec![peer.ip()],
        limits: Limits::default(),
        registrar: Default::default(),
    });
    let offer = ringmaster::sdp::offer("127.0.0.1".parse()?, 20000, 1).into_bytes();
    let answer_sdp = ringmaster::sdp::offer("127.0.0.1".parse()?, 30000, 1).into_bytes();
    let t0 = Instant::now();
    // One call first, so that what every call shares (maps' first allocations, the
    // allocator's own pages) is in the baseline.
    let mut now = t0;
    run_call(&mut ep, now, peer, &offer, &answer_sdp)?;
    now += Duration::from_secs(40);
    ep.handle_timeout(now);
    let before = rss_kb()?;
    let started = Instant::now();
    for i in 0..calls {
        // Calls 100 µs apart: 10,000 calls/s of simulated time.
        let at = now + Duration::from_micros(100 * i as u64);
        run_call(&mut ep, at, peer, &offer, &answer_sdp)?;
        ep.handle_timeout(at);
    }
    let elapsed = started.elapsed();
    let last = now + Duration::from_micros(100 * calls as u64);
    // As in a steady state at that rate: timer K (5 s) has ended the BYEs of all but the last
    // 5 s of calls, timer M (32 s) none of the INVITEs.
    let held = rss_kb()?;
    let active = ep.active_calls();
    ep.handle_timeout(last + Duration::from_secs(40));
    let after = rss_kb()?;
    println!(
        "{{\"calls\":{calls},\"active_calls\":{active},\"rss_before_kb\":{before},\
         \"rss_holding_kb\":{held},\"rss_after_timer_m_kb\":{after},\
         \"bytes_per_call_held\":{},\"calls_per_s_driven\":{:.0}}}",
        (held.saturating_sub(before) * 1024) / calls.max(1) as u64,
        calls as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

/// One call from INVITE to the 200 of its BYE.
fn run_call(
    ep: &mut Endpoint,
    now: Instant,
    peer: SocketAddr,
    offer: &[u8],
    answer_sdp: &[u8],
) -> anyhow::Result<()> {
    let handle = ep.place_call(
        now,
        CallSpec {
            request_uri: format!("sip:+15551234567@{PEER}"),
            from_uri: format!("sip:+15550000000@{PEER}"),
            contact_user: "+15550000000".into(),
            from_display: None,
            asserted_identity: false,
            peer,
            transport: TransportKind::Udp,
            credentials: None,
            dial_timeout: Duration::from_secs(30),
            sdp: Some(offer.to_vec()),
            extra_headers: vec![],
            report_progress: false,
            until_first_response: None,
            call_id: None,
        },
    )?;
    let invite = sent_request(ep)?;
    let ok = build::response(
        &invite,
        200,
        Some("callee-tag"),
        vec![
            headers::Contact::new("<sip:callee@127.0.0.1:5080>").into(),
            headers::ContentType::new("application/sdp").into(),
        ],
        answer_sdp.to_vec(),
    );
    ep.handle_datagram(now, peer, TransportKind::Udp, &ok.to_bytes());
    // The ACK.
    while ep.poll_transmit().is_some() {}
    while ep.poll_event().is_some() {}
    ep.hangup(now, handle);
    let bye = sent_request(ep)?;
    let ok = build::response(&bye, 200, None, vec![], vec![]);
    ep.handle_datagram(now, peer, TransportKind::Udp, &ok.to_bytes());
    let mut ended = false;
    while let Some(event) = ep.poll_event() {
        ended |= matches!(event, EndpointEvent::Call(_, CallEvent::Ended(_)));
    }
    anyhow::ensure!(ended, "the call did not end");
    Ok(())
}

/// The one request the endpoint has just sent.
fn sent_request(ep: &mut Endpoint) -> anyhow::Result<ringmaster::sip::message::Request> {
    let t = ep
        .poll_transmit()
        .ok_or_else(|| anyhow::anyhow!("nothing sent"))?;
    match parse(&t.payload)? {
        SipMessage::Request(r) => Ok(r),
        SipMessage::Response(_) => anyhow::bail!("a response where a request was expected"),
    }
}

fn rss_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))
}
