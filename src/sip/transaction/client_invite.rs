//! The INVITE client transaction: RFC 3261 §17.1.1, with RFC 6026's Accepted state.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timers::Timers;
use super::{Outbox, Status, Timer, TimerConfig, TransactionEvent};
use crate::sip::message::headers::{CSeq, CallId, ContentLength, MaxForwards, Via};
use crate::sip::message::{
    call_id, cseq, top_via, Header, Headers, Method, Request, Response, Version,
};

/// The states of an INVITE client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// The INVITE was sent; no response yet.
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A 300-699 arrived and was ACKed; absorbing retransmissions until timer D.
    Completed,
    /// A 2xx arrived; passing 2xx retransmissions up until timer M (RFC 6026).
    Accepted,
    /// Finished; the transaction may be dropped.
    Terminated,
}

/// An INVITE client transaction (RFC 3261 §17.1.1, RFC 6026).
#[derive(Debug)]
pub struct ClientInvite {
    /// Current state.
    state: ClientInviteState,
    /// The INVITE as sent.
    invite: Request,
    /// The INVITE serialized once, re-sent verbatim by timer A.
    invite_bytes: Bytes,
    /// The ACK for a 300-699 response, once built.
    ack_bytes: Option<Bytes>,
    /// Whether the transport is reliable (no retransmissions, zero-length D).
    reliable: bool,
    /// Timer base values.
    config: TimerConfig,
    /// The current timer A interval.
    interval_a: Duration,
    /// Armed deadlines.
    timers: Timers,
    /// Pending transmits and events.
    out: Outbox,
}

impl ClientInvite {
    /// Starts a client INVITE transaction in Calling: queues the INVITE, arms A (unreliable only) and B.
    pub fn new(now: Instant, invite: Request, reliable: bool, timers: TimerConfig) -> Self {
        let invite_bytes = Bytes::from(crate::sip::message::request_bytes(&invite));
        let mut tx = ClientInvite {
            state: ClientInviteState::Calling,
            invite,
            invite_bytes,
            ack_bytes: None,
            reliable,
            config: timers,
            interval_a: timers.t1,
            timers: Timers::default(),
            out: Outbox::default(),
        };
        tx.out.send(&tx.invite_bytes);
        if !reliable {
            tx.timers.arm(Timer::A, now + timers.t1);
        }
        tx.timers.arm(Timer::B, now + timers.timeout());
        tx
    }

    /// A response matched to this transaction arrived from the transport.
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        use ClientInviteState::*;
        let Some(status) = Status::of(&response) else {
            return;
        };
        match (self.state, status) {
            // §17.1.1.2: a provisional response in Calling stops retransmission and timer B.
            (Calling, Status::Provisional) => {
                self.timers.cancel(Timer::A);
                self.timers.cancel(Timer::B);
                self.state = Proceeding;
                self.out.emit(TransactionEvent::Response(response));
            }
            // §17.1.1.2: further provisional responses are passed up.
            (Proceeding, Status::Provisional) => {
                self.out.emit(TransactionEvent::Response(response));
            }
            // RFC 6026 §7.2: a 2xx in Calling or Proceeding moves to Accepted and arms M.
            (Calling | Proceeding, Status::Success) => {
                // Nothing is retransmitted or ACKed by the transaction from here on: neither the
                // bytes nor the INVITE's headers and body need be held through timer M (tens of
                // thousands of calls at high rates).
                self.invite_bytes = Bytes::new();
                self.invite.headers = Headers::default();
                self.invite.body = Vec::new();
                self.timers.clear();
                self.timers.arm(Timer::M, now + self.config.timeout());
                self.state = Accepted;
                self.out.emit(TransactionEvent::Response(response));
            }
            // §17.1.1.2: a 300-699 is ACKed by the transaction, passed up, and arms D.
            (Calling | Proceeding, Status::Failure) => {
                self.timers.clear();
                let ack = Bytes::from(crate::sip::message::request_bytes(
                    &self.build_ack(&response),
                ));
                self.out.send(&ack);
                self.ack_bytes = Some(ack);
                self.state = Completed;
                self.out.emit(TransactionEvent::Response(response));
                if self.reliable {
                    self.terminate();
                } else {
                    self.timers.arm(Timer::D, now + self.config.timer_d());
                }
            }
            // §17.1.1.2: a retransmitted final in Completed re-sends the ACK, not passed up.
            (Completed, Status::Failure) => {
                if let Some(ack) = &self.ack_bytes {
                    self.out.send(ack);
                }
            }
            // RFC 6026 §7.2: every 2xx in Accepted goes up so the TU can re-send its ACK.
            (Accepted, Status::Success) => {
                self.out.emit(TransactionEvent::Response(response));
            }
            // RFC 6026 §7.2: anything else in Accepted (e.g. a late 180) is absorbed.
            (Accepted, Status::Provisional | Status::Failure) => {}
            // Completed absorbs 1xx/2xx; Terminated ignores everything.
            (Completed, Status::Provisional | Status::Success) | (Terminated, _) => {}
        }
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ClientInviteState::*;
        while let Some((timer, deadline)) = self.timers.pop_due(now) {
            match (self.state, timer) {
                // §17.1.1.2: timer A retransmits the INVITE and doubles.
                (Calling, Timer::A) => {
                    self.out.send(&self.invite_bytes);
                    self.interval_a *= 2;
                    self.timers.arm(Timer::A, deadline + self.interval_a);
                }
                // §17.1.1.2: timer B in Calling: the transaction timed out.
                (Calling, Timer::B) => {
                    self.out.emit(TransactionEvent::Timeout);
                    self.terminate();
                }
                // §17.1.1.2: timer D ends Completed.
                (Completed, Timer::D) => self.terminate(),
                // RFC 6026 §7.2: timer M ends Accepted.
                (Accepted, Timer::M) => self.terminate(),
                _ => {}
            }
        }
    }

    /// The transport failed to send: reports it and terminates (§17.1.4).
    pub fn handle_transport_error(&mut self) {
        if self.state != ClientInviteState::Terminated {
            self.out.emit(TransactionEvent::TransportError);
            self.terminate();
        }
    }

    /// The next message to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.transmits.pop_front()
    }

    /// The earliest instant at which [`ClientInvite::handle_timeout`] should be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.out.events.pop_front()
    }

    /// The current state.
    pub fn state(&self) -> ClientInviteState {
        self.state
    }

    /// The INVITE as sent (only its method and Request-URI once a 2xx has been accepted).
    pub fn request(&self) -> &Request {
        &self.invite
    }

    /// Whether the transaction has terminated and may be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientInviteState::Terminated
    }

    /// Enters Terminated, disarming all timers and reporting it once.
    fn terminate(&mut self) {
        if self.state != ClientInviteState::Terminated {
            self.state = ClientInviteState::Terminated;
            self.timers.clear();
            self.out.emit(TransactionEvent::Terminated);
        }
    }

    /// The ACK for a 300-699 response (§17.1.1.3): Request-URI, Call-ID, From, top Via and
    /// Route of the INVITE, To of the response, the INVITE's CSeq number with method ACK.
    fn build_ack(&self, response: &Response) -> Request {
        let invite = &self.invite.headers;
        let mut headers = Headers::default();
        if let Some(via) = top_via(invite) {
            headers.push(Header::Via(Via::new(via)));
        }
        let response_to = response.headers.iter().find(|h| matches!(h, Header::To(_)));
        let invite_to = invite.iter().find(|h| matches!(h, Header::To(_)));
        for header in invite.iter() {
            if matches!(header, Header::From(_)) {
                headers.push(header.clone());
            }
        }
        if let Some(to) = response_to.or(invite_to) {
            headers.push(to.clone());
        }
        if let Some(id) = call_id(invite) {
            headers.push(Header::CallId(CallId::new(id)));
        }
        let seq = cseq(invite).map_or(0, |(seq, _)| seq);
        headers.push(Header::CSeq(CSeq::new(format!("{seq} ACK"))));
        for header in invite.iter() {
            if matches!(header, Header::Route(_)) {
                headers.push(header.clone());
            }
        }
        headers.push(Header::MaxForwards(MaxForwards::new("70")));
        headers.push(Header::ContentLength(ContentLength::new("0")));
        Request {
            method: Method::Ack,
            uri: self.invite.uri.clone(),
            version: Version::V2,
            headers,
            body: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::{cseq, to_tag, top_via_branch, SipMessage};
    use crate::sip::transaction::test_support::*;
    use ClientInviteState::*;

    const BRANCH: &str = "z9hG4bKinv1";

    /// A fresh unreliable (or reliable) transaction with its initial send drained.
    fn start(t0: Instant, reliable: bool, config: TimerConfig) -> ClientInvite {
        let mut tx = ClientInvite::new(t0, request("INVITE", BRANCH, 1), reliable, config);
        let first = drain(&mut tx, 0);
        assert_eq!(send_times(&first), vec![0]);
        tx
    }

    fn udp(t0: Instant) -> ClientInvite {
        start(t0, false, TimerConfig::default())
    }

    #[test]
    fn timer_a_doubles_then_timer_b_times_out() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(
            send_times(&trace),
            vec![500, 1_500, 3_500, 7_500, 15_500, 31_500]
        );
        assert_eq!(
            events(&trace),
            vec![
                (32_000, TransactionEvent::Timeout),
                (32_000, TransactionEvent::Terminated)
            ]
        );
        assert_eq!(tx.state(), Terminated);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn retransmissions_are_the_same_bytes() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(
            t0,
            request("INVITE", BRANCH, 1),
            false,
            TimerConfig::default(),
        );
        let first = tx.poll_transmit().expect("initial INVITE");
        tx.handle_timeout(at(t0, 500));
        assert_eq!(tx.poll_transmit(), Some(first));
    }

    #[test]
    fn one_late_timeout_call_fires_everything_due() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_timeout(at(t0, 40_000));
        let trace = drain(&mut tx, 40_000);
        assert_eq!(send_times(&trace).len(), 6);
        assert_eq!(events(&trace).len(), 2);
        assert!(tx.is_terminated());
    }

    #[test]
    fn custom_t1_scales_timers_a_and_b() {
        let t0 = Instant::now();
        let config = TimerConfig {
            t1: Duration::from_millis(100),
            ..TimerConfig::default()
        };
        let mut tx = start(t0, false, config);
        let trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(send_times(&trace), vec![100, 300, 700, 1_500, 3_100, 6_300]);
        assert_eq!(events(&trace)[0], (6_400, TransactionEvent::Timeout));
    }

    #[test]
    fn reliable_sends_once_and_times_out_with_b() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        assert_eq!(tx.poll_timeout(), Some(at(t0, 32_000)));
        let trace = run_until(&mut tx, t0, 100_000);
        assert!(send_times(&trace).is_empty());
        assert_eq!(events(&trace)[0], (32_000, TransactionEvent::Timeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn provisional_stops_retransmission_and_timer_b() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let mut trace = run_until(&mut tx, t0, 600);
        tx.handle_response(at(t0, 700), response(100, "INVITE", BRANCH, "t1"));
        assert_eq!(tx.state(), Proceeding);
        tx.handle_response(at(t0, 800), response(180, "INVITE", BRANCH, "t1"));
        trace.extend(drain(&mut tx, 800));
        assert_eq!(tx.poll_timeout(), None);
        trace.extend(run_until(&mut tx, t0, 100_000));
        assert_eq!(send_times(&trace), vec![500]);
        let evs = events(&trace);
        assert_eq!(evs.len(), 2);
        assert!(is_response(&evs[0].1, 100));
        assert!(is_response(&evs[1].1, 180));
        assert_eq!(tx.state(), Proceeding);
    }

    #[test]
    fn success_in_calling_moves_to_accepted_and_timer_m_terminates() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 200), response(200, "INVITE", BRANCH, "t1"));
        assert_eq!(tx.state(), Accepted);
        // Held through timer M: only what Accepted needs, not the INVITE's headers and body.
        assert!(tx.request().headers.iter().next().is_none());
        assert!(tx.request().body.is_empty());
        assert_eq!(tx.poll_timeout(), Some(at(t0, 200 + 32_000)));
        let mut trace = drain(&mut tx, 200);
        trace.extend(run_until(&mut tx, t0, 100_000));
        assert!(send_times(&trace).is_empty(), "no ACK for a 2xx");
        let evs = events(&trace);
        assert!(is_response(&evs[0].1, 200));
        assert_eq!(evs[1], (32_200, TransactionEvent::Terminated));
        assert_eq!(tx.state(), Terminated);
    }

    #[test]
    fn accepted_passes_2xx_up_and_absorbs_late_provisional_and_failure() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 100), response(180, "INVITE", BRANCH, "t1"));
        tx.handle_response(at(t0, 200), response(200, "INVITE", BRANCH, "t1"));
        drain(&mut tx, 200);
        tx.handle_response(at(t0, 300), response(180, "INVITE", BRANCH, "t2"));
        tx.handle_response(at(t0, 400), response(486, "INVITE", BRANCH, "t3"));
        assert_eq!(drain(&mut tx, 400), vec![]);
        assert_eq!(tx.state(), Accepted);
        tx.handle_response(at(t0, 500), response(200, "INVITE", BRANCH, "t1"));
        let evs = events(&drain(&mut tx, 500));
        assert_eq!(evs.len(), 1);
        assert!(is_response(&evs[0].1, 200));
        assert_eq!(tx.state(), Accepted);
    }

    #[test]
    fn success_in_proceeding_moves_to_accepted() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.handle_response(at(t0, 100), response(183, "INVITE", BRANCH, "t1"));
        tx.handle_response(at(t0, 900), response(200, "INVITE", BRANCH, "t1"));
        assert_eq!(tx.state(), Accepted);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 900 + 32_000)));
        tx.handle_timeout(at(t0, 32_900));
        assert!(tx.is_terminated());
    }

    #[test]
    fn failure_is_acked_per_17_1_1_3() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 100), response(486, "INVITE", BRANCH, "busy-7"));
        assert_eq!(tx.state(), Completed);
        let trace = drain(&mut tx, 100);
        let sent = sent_messages(&trace);
        assert_eq!(sent.len(), 1);
        let SipMessage::Request(ack) = &sent[0] else {
            panic!("ACK is a request");
        };
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.uri, tx.request().uri);
        assert_eq!(cseq(&ack.headers), Some((1, "ACK")));
        assert_eq!(top_via_branch(&ack.headers), Some(BRANCH));
        let vias = ack
            .headers
            .iter()
            .filter(|h| matches!(h, Header::Via(_)))
            .count();
        assert_eq!(vias, 1, "only the top Via");
        assert_eq!(to_tag(&ack.headers), Some("busy-7"));
        assert_eq!(call_id(&ack.headers), Some("call-1@192.0.2.10"));
        let routes: Vec<String> = ack
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Route(r) => Some(r.value().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            routes,
            vec!["<sip:proxy1.example.net;lr>", "<sip:proxy2.example.net;lr>"]
        );
        let text = String::from_utf8_lossy(&ack.to_bytes()).to_string();
        assert!(text.contains("From: <sip:alice@example.com>;tag=from-1"));
        assert!(text.contains("Max-Forwards: 70"));
        assert!(text.contains("Content-Length: 0"));
        let evs = events(&trace);
        assert_eq!(evs.len(), 1);
        assert!(is_response(&evs[0].1, 486));
    }

    #[test]
    fn retransmitted_failure_resends_ack_and_timer_d_terminates() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 100), response(486, "INVITE", BRANCH, "busy-7"));
        let first = drain(&mut tx, 100);
        let Some((_, Step::Sent(ack))) = first.first().cloned() else {
            panic!("ACK sent first");
        };
        assert_eq!(tx.poll_timeout(), Some(at(t0, 32_100)));
        tx.handle_response(at(t0, 600), response(486, "INVITE", BRANCH, "busy-7"));
        tx.handle_response(at(t0, 700), response(180, "INVITE", BRANCH, "busy-7"));
        assert_eq!(drain(&mut tx, 700), vec![(700, Step::Sent(ack))]);
        let trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(events(&trace), vec![(32_100, TransactionEvent::Terminated)]);
        assert_eq!(tx.state(), Terminated);
    }

    #[test]
    fn failure_in_proceeding_is_acked_too() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 100), response(180, "INVITE", BRANCH, "t1"));
        tx.handle_response(at(t0, 5_000), response(503, "INVITE", BRANCH, "t1"));
        assert_eq!(tx.state(), Completed);
        let trace = drain(&mut tx, 5_000);
        assert_eq!(send_times(&trace), vec![5_000]);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 37_000)));
    }

    #[test]
    fn reliable_failure_terminates_immediately_after_ack() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.handle_response(at(t0, 100), response(404, "INVITE", BRANCH, "nf"));
        let trace = drain(&mut tx, 100);
        assert_eq!(send_times(&trace), vec![100]);
        let evs = events(&trace);
        assert!(is_response(&evs[0].1, 404));
        assert_eq!(evs[1], (100, TransactionEvent::Terminated));
        assert_eq!(evs.len(), 2);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn timer_d_is_at_least_64_t1() {
        let t0 = Instant::now();
        let config = TimerConfig {
            t1: Duration::from_secs(1),
            ..TimerConfig::default()
        };
        let mut tx = start(t0, false, config);
        tx.handle_response(at(t0, 0), response(486, "INVITE", BRANCH, "b"));
        assert_eq!(tx.poll_timeout(), Some(at(t0, 64_000)));
    }

    #[test]
    fn transport_error_reports_then_terminates_once() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_transport_error();
        tx.handle_transport_error();
        assert_eq!(
            events(&drain(&mut tx, 0)),
            vec![
                (0, TransactionEvent::TransportError),
                (0, TransactionEvent::Terminated)
            ]
        );
        assert_eq!(tx.poll_timeout(), None);
        tx.handle_response(at(t0, 10), response(200, "INVITE", BRANCH, "t"));
        assert_eq!(drain(&mut tx, 10), vec![]);
    }

    #[test]
    fn terminated_ignores_responses() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        run_until(&mut tx, t0, 100_000);
        tx.handle_response(at(t0, 100_000), response(486, "INVITE", BRANCH, "b"));
        assert_eq!(drain(&mut tx, 100_000), vec![]);
        assert_eq!(tx.state(), Terminated);
    }
}
