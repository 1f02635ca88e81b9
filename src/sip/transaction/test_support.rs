//! Message builders and a simulated-clock driver for the transaction tests.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{
    ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite, Transaction, TransactionEvent,
};
use crate::sip::message::{Request, Response, SipMessage};

/// `t0` plus `ms` milliseconds.
pub fn at(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

/// Parses literal SIP text into a message.
fn parse(text: &str) -> SipMessage {
    SipMessage::try_from(text).expect("test message parses")
}

/// A request with the given method, branch and CSeq number.
pub fn request(method: &str, branch: &str, seq: u32) -> Request {
    let text = format!(
        "{method} sip:bob@198.51.100.7:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport\r\n\
         Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKupstream\r\n\
         Route: <sip:proxy1.example.net;lr>\r\n\
         Route: <sip:proxy2.example.net;lr>\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=from-1\r\n\
         To: <sip:bob@example.net>\r\n\
         Call-ID: call-1@192.0.2.10\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:alice@192.0.2.10:5060>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    match parse(&text) {
        SipMessage::Request(r) => r,
        SipMessage::Response(_) => panic!("expected a request"),
    }
}

/// A response with the given status, CSeq method and To tag.
pub fn response(code: u16, method: &str, branch: &str, to_tag: &str) -> Response {
    let reason = match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        302 => "Moved Temporarily",
        404 => "Not Found",
        486 => "Busy Here",
        503 => "Service Unavailable",
        _ => "Whatever",
    };
    let text = format!(
        "SIP/2.0 {code} {reason}\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport=5060\r\n\
         From: <sip:alice@example.com>;tag=from-1\r\n\
         To: <sip:bob@example.net>;tag={to_tag}\r\n\
         Call-ID: call-1@192.0.2.10\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    match parse(&text) {
        SipMessage::Response(r) => r,
        SipMessage::Request(_) => panic!("expected a response"),
    }
}

/// One observable output of a machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Bytes handed to the transport.
    Sent(Bytes),
    /// An event for the TU.
    Event(TransactionEvent),
}

/// The common driving surface of the four machines.
pub trait Drive {
    /// `poll_timeout`.
    fn deadline(&self) -> Option<Instant>;
    /// `handle_timeout`.
    fn fire(&mut self, now: Instant);
    /// `poll_transmit`.
    fn transmit(&mut self) -> Option<Bytes>;
    /// `poll_event`.
    fn event(&mut self) -> Option<TransactionEvent>;
}

/// Implements [`Drive`] by forwarding to the inherent methods.
macro_rules! drive {
    ($($t:ty),*) => {$(
        impl Drive for $t {
            fn deadline(&self) -> Option<Instant> {
                self.poll_timeout()
            }
            fn fire(&mut self, now: Instant) {
                self.handle_timeout(now)
            }
            fn transmit(&mut self) -> Option<Bytes> {
                self.poll_transmit()
            }
            fn event(&mut self) -> Option<TransactionEvent> {
                self.poll_event()
            }
        }
    )*};
}

drive!(
    ClientInvite,
    ClientNonInvite,
    ServerInvite,
    ServerNonInvite,
    Transaction
);

/// Drains every pending output, stamping it with `ms`.
pub fn drain<M: Drive>(m: &mut M, ms: u64) -> Vec<(u64, Step)> {
    let mut out = Vec::new();
    while let Some(b) = m.transmit() {
        out.push((ms, Step::Sent(b)));
    }
    while let Some(e) = m.event() {
        out.push((ms, Step::Event(e)));
    }
    out
}

/// Fires each deadline in turn up to and including `until_ms`, collecting the outputs.
pub fn run_until<M: Drive>(m: &mut M, t0: Instant, until_ms: u64) -> Vec<(u64, Step)> {
    let mut out = Vec::new();
    while let Some(deadline) = m.deadline() {
        if deadline > at(t0, until_ms) {
            break;
        }
        m.fire(deadline);
        let ms = u64::try_from(deadline.duration_since(t0).as_millis()).expect("fits");
        out.extend(drain(m, ms));
    }
    out
}

/// The times at which something was sent.
pub fn send_times(trace: &[(u64, Step)]) -> Vec<u64> {
    trace
        .iter()
        .filter(|(_, s)| matches!(s, Step::Sent(_)))
        .map(|(ms, _)| *ms)
        .collect()
}

/// The events with their times.
pub fn events(trace: &[(u64, Step)]) -> Vec<(u64, TransactionEvent)> {
    trace
        .iter()
        .filter_map(|(ms, s)| match s {
            Step::Event(e) => Some((*ms, e.clone())),
            Step::Sent(_) => None,
        })
        .collect()
}

/// The sent messages, parsed back.
pub fn sent_messages(trace: &[(u64, Step)]) -> Vec<SipMessage> {
    trace
        .iter()
        .filter_map(|(_, s)| match s {
            Step::Sent(b) => Some(SipMessage::try_from(b.clone()).expect("sent bytes parse")),
            Step::Event(_) => None,
        })
        .collect()
}

/// Shorthand for a response event.
pub fn is_response(e: &TransactionEvent, code: u16) -> bool {
    matches!(e, TransactionEvent::Response(r) if r.status_code.code() == code)
}
