//! Benchmarks of the sans-IO SIP core: parsing, and whole calls driven through the endpoint
//! against a scripted far end (no sockets), reported per SIP message handled.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringmaster::sip::build;
use ringmaster::sip::endpoint::{CallSpec, Endpoint, EndpointConfig};
use ringmaster::sip::message::{self, SipMessage};
use ringmaster::sip::transaction::TimerConfig;
use ringmaster::sip::uri::TransportKind;
use std::hint::black_box;
use std::time::{Duration, Instant};

const INVITE: &str = "INVITE sip:+15551234567@127.0.0.1:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabcdef0123456789;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Clinic\" <sip:+15550000000@127.0.0.1:5080>;tag=a1b2c3d4e5f6\r\n\
To: <sip:+15551234567@127.0.0.1:5080>\r\n\
Call-ID: 0123456789abcdefghijklmn@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:+15550000000@127.0.0.1:5060;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
User-Agent: ringmaster/0.1.0\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 0\r\n\r\n";

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("invite", |b| {
        b.iter(|| message::parse(black_box(INVITE.as_bytes())).unwrap())
    });
    g.finish();
}

fn spec() -> CallSpec {
    CallSpec {
        request_uri: "sip:+15551234567@127.0.0.1:5080".into(),
        from_uri: "sip:+15550000000@127.0.0.1:5080".into(),
        contact_user: "+15550000000".into(),
        from_display: None,
        asserted_identity: false,
        peer: "127.0.0.1:5080".parse().unwrap(),
        transport: TransportKind::Udp,
        credentials: None,
        dial_timeout: Duration::from_secs(30),
        sdp: None,
        extra_headers: vec![],
        report_progress: false,
        until_first_response: None,
        call_id: None,
    }
}

/// One answered call: INVITE out, 100/180/200 in, ACK out, BYE out, 200 in — 7 messages, every
/// one serialised or parsed by the endpoint, plus the far end's side built and serialised here.
fn one_call(ep: &mut Endpoint, now: Instant) -> usize {
    let peer = "127.0.0.1:5080".parse().unwrap();
    let h = ep.place_call(now, spec()).unwrap();
    let invite = match ep
        .poll_transmit()
        .map(|t| message::parse(&t.payload).unwrap())
    {
        Some(SipMessage::Request(r)) => r,
        _ => unreachable!(),
    };
    for code in [100u16, 180, 200] {
        let mut extra = vec![];
        if code == 200 {
            extra.push(message::headers::Contact::new("<sip:callee@127.0.0.1:5080>").into());
        }
        let resp = build::response(&invite, code, (code > 100).then_some("t1"), extra, vec![]);
        ep.handle_datagram(now, peer, TransportKind::Udp, &resp.to_bytes());
    }
    while ep.poll_transmit().is_some() {}
    ep.hangup(now, h);
    let bye = match ep
        .poll_transmit()
        .map(|t| message::parse(&t.payload).unwrap())
    {
        Some(SipMessage::Request(r)) => r,
        _ => unreachable!(),
    };
    let ok = build::response(&bye, 200, None, vec![], vec![]);
    ep.handle_datagram(now, peer, TransportKind::Udp, &ok.to_bytes());
    while ep.poll_event().is_some() {}
    ep.handle_timeout(now + Duration::from_secs(40));
    7
}

fn endpoint(c: &mut Criterion) {
    let mut ep = Endpoint::new(EndpointConfig {
        udp: Some("127.0.0.1:5060".parse().unwrap()),
        tcp: None,
        timers: TimerConfig::default(),
        user_agent: "ringmaster-bench".into(),
        trunks: Vec::new(),
        limits: Default::default(),
        registrar: Default::default(),
    });
    let now = Instant::now();
    let mut g = c.benchmark_group("endpoint");
    g.throughput(Throughput::Elements(7));
    g.bench_function("answered_call_7_messages", |b| {
        b.iter(|| one_call(&mut ep, now))
    });
    g.finish();
}

criterion_group!(benches, parse, endpoint);
criterion_main!(benches);
