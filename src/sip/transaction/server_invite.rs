//! The INVITE server transaction: RFC 3261 §17.2.1, with RFC 6026's Accepted state.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timers::Timers;
use super::{Outbox, Status, Timer, TimerConfig, TransactionEvent};
use crate::sip::message::{Method, Request, Response};

/// The states of an INVITE server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// The INVITE arrived; the TU may send provisional responses.
    Proceeding,
    /// A 300-699 was sent; retransmitting it (timer G) until the ACK or timer H.
    Completed,
    /// The ACK arrived; absorbing ACK retransmissions until timer I.
    Confirmed,
    /// A 2xx was sent; absorbing INVITE retransmissions until timer L (RFC 6026).
    Accepted,
    /// Finished; the transaction may be dropped.
    Terminated,
}

/// An INVITE server transaction (RFC 3261 §17.2.1, RFC 6026).
#[derive(Debug)]
pub struct ServerInvite {
    /// Current state.
    state: ServerInviteState,
    /// The INVITE as received.
    invite: Request,
    /// The last response sent, serialized once and re-sent verbatim.
    last_response: Option<Bytes>,
    /// Whether the transport is reliable (no G, zero-length I).
    reliable: bool,
    /// Timer base values.
    config: TimerConfig,
    /// The current timer G interval.
    interval_g: Duration,
    /// Armed deadlines.
    timers: Timers,
    /// Pending transmits and events.
    out: Outbox,
}

impl ServerInvite {
    /// Starts in Proceeding with the received INVITE; queues nothing (the TU sends 100 via respond).
    pub fn new(_now: Instant, invite: Request, reliable: bool, timers: TimerConfig) -> Self {
        ServerInvite {
            state: ServerInviteState::Proceeding,
            invite,
            last_response: None,
            reliable,
            config: timers,
            interval_g: timers.t1,
            timers: Timers::default(),
            out: Outbox::default(),
        }
    }

    /// The TU sends a response: 1xx stays Proceeding; 2xx -> Accepted (timer L); 300-699 -> Completed (G unreliable, H).
    pub fn respond(&mut self, now: Instant, response: Response) {
        use ServerInviteState::*;
        let Some(status) = Status::of(&response) else {
            return;
        };
        match (self.state, status) {
            // §17.2.1: a provisional response from the TU is sent; still Proceeding.
            (Proceeding, Status::Provisional) => self.send(response),
            // RFC 6026 §7.1: a 2xx from the TU is sent and moves to Accepted with timer L.
            // Over UDP the 2xx is also re-sent on timer G's schedule until the TU reports its
            // ACK (RFC 3261 §13.3.1.4 puts that in the UAS core; the bytes are held here).
            (Proceeding, Status::Success) => {
                self.send(response);
                self.state = Accepted;
                self.timers.arm(Timer::L, now + self.config.timeout());
                if !self.reliable {
                    self.interval_g = self.config.t1;
                    self.timers.arm(Timer::G, now + self.config.t1);
                }
            }
            // RFC 6026 §7.1: further 2xx from the TU in Accepted are sent.
            (Accepted, Status::Success) => self.send(response),
            // §17.2.1: a 300-699 from the TU is sent and moves to Completed with G and H.
            (Proceeding, Status::Failure) => {
                self.send(response);
                self.state = Completed;
                if !self.reliable {
                    self.timers.arm(Timer::G, now + self.config.t1);
                }
                self.timers.arm(Timer::H, now + self.config.timeout());
            }
            // No other response may be sent once a final one has been.
            (Completed | Confirmed | Accepted | Terminated, _) => {}
        }
    }

    /// A request matched to this transaction: a retransmitted INVITE re-sends the last response
    /// (in Proceeding, Completed and Accepted); an ACK in Completed -> Confirmed (timer I: T4 unreliable, 0 reliable).
    pub fn handle_request(&mut self, now: Instant, request: &Request) {
        use ServerInviteState::*;
        match (self.state, &request.method) {
            // §17.2.1 / RFC 6026 §7.1: a retransmitted INVITE re-sends the last response.
            (Proceeding | Completed | Accepted, Method::Invite) => {
                if let Some(last) = &self.last_response {
                    self.out.send(last);
                }
            }
            // §17.2.1: the ACK in Completed stops G and H and moves to Confirmed with timer I.
            (Completed, Method::Ack) => {
                self.timers.clear();
                self.state = Confirmed;
                if self.reliable {
                    self.terminate();
                } else {
                    self.timers.arm(Timer::I, now + self.config.t4);
                }
            }
            // §17.2.1: Confirmed absorbs ACKs and INVITEs; RFC 6026: an ACK in Accepted belongs
            // to the dialog; nothing else belongs to an INVITE server transaction.
            _ => {}
        }
    }

    /// The TU matched the ACK of the 2xx sent (an ACK to a 2xx is a transaction of its own):
    /// the 2xx stops being re-sent; INVITE retransmissions are still absorbed until timer L.
    pub fn acknowledged(&mut self) {
        if self.state == ServerInviteState::Accepted {
            self.timers.cancel(Timer::G);
        }
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ServerInviteState::*;
        while let Some((timer, deadline)) = self.timers.pop_due(now) {
            match (self.state, timer) {
                // §17.2.1: timer G retransmits the final response, doubling up to T2 (and in
                // Accepted the 2xx, until its ACK: §13.3.1.4).
                (Completed | Accepted, Timer::G) => {
                    if let Some(last) = &self.last_response {
                        self.out.send(last);
                    }
                    self.interval_g = (self.interval_g * 2).min(self.config.t2);
                    self.timers.arm(Timer::G, deadline + self.interval_g);
                }
                // §17.2.1: timer H in Completed: the ACK never came.
                (Completed, Timer::H) => {
                    self.out.emit(TransactionEvent::Timeout);
                    self.terminate();
                }
                // §17.2.1: timer I ends Confirmed.
                (Confirmed, Timer::I) => self.terminate(),
                // RFC 6026 §7.1: timer L ends Accepted.
                (Accepted, Timer::L) => self.terminate(),
                _ => {}
            }
        }
    }

    /// The transport failed to send: reports it and terminates (§17.2.4).
    pub fn handle_transport_error(&mut self) {
        if self.state != ServerInviteState::Terminated {
            self.out.emit(TransactionEvent::TransportError);
            self.terminate();
        }
    }

    /// The next message to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.transmits.pop_front()
    }

    /// The earliest instant at which [`ServerInvite::handle_timeout`] should be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.out.events.pop_front()
    }

    /// The current state.
    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    /// The INVITE as received.
    pub fn request(&self) -> &Request {
        &self.invite
    }

    /// Whether the transaction has terminated and may be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerInviteState::Terminated
    }

    /// Serializes a response once, queues it and remembers it for retransmission.
    fn send(&mut self, response: Response) {
        let bytes = Bytes::from(crate::sip::message::response_bytes(&response));
        self.out.send(&bytes);
        self.last_response = Some(bytes);
    }

    /// Enters Terminated, disarming all timers and reporting it once.
    fn terminate(&mut self) {
        if self.state != ServerInviteState::Terminated {
            self.state = ServerInviteState::Terminated;
            self.timers.clear();
            self.out.emit(TransactionEvent::Terminated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::SipMessage;
    use crate::sip::transaction::test_support::*;
    use ServerInviteState::*;

    const BRANCH: &str = "z9hG4bKsrv1";

    fn start(t0: Instant, reliable: bool, config: TimerConfig) -> ServerInvite {
        let mut tx = ServerInvite::new(t0, request("INVITE", BRANCH, 1), reliable, config);
        assert_eq!(
            drain(&mut tx, 0),
            vec![],
            "nothing sent until the TU responds"
        );
        assert_eq!(tx.poll_timeout(), None);
        tx
    }

    fn udp(t0: Instant) -> ServerInvite {
        start(t0, false, TimerConfig::default())
    }

    fn ack() -> Request {
        request("ACK", BRANCH, 1)
    }

    fn sent_codes(trace: &[(u64, Step)]) -> Vec<u16> {
        sent_messages(trace)
            .into_iter()
            .filter_map(|m| match m {
                SipMessage::Response(r) => Some(r.status_code.code()),
                SipMessage::Request(_) => None,
            })
            .collect()
    }

    #[test]
    fn provisional_is_sent_and_retransmitted_invite_resends_it() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let invite = tx.request().clone();
        tx.handle_request(at(t0, 10), &invite);
        assert_eq!(drain(&mut tx, 10), vec![], "no response to repeat yet");
        tx.respond(at(t0, 20), response(100, "INVITE", BRANCH, "s"));
        tx.respond(at(t0, 30), response(180, "INVITE", BRANCH, "s"));
        tx.handle_request(at(t0, 40), &invite);
        let trace = drain(&mut tx, 40);
        assert_eq!(sent_codes(&trace), vec![100, 180, 180]);
        assert_eq!(tx.state(), Proceeding);
        assert_eq!(tx.poll_timeout(), None);
        assert_eq!(events(&trace), vec![]);
    }

    #[test]
    fn failure_retransmits_with_timer_g_capped_at_t2_until_timer_h() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.respond(t0, response(486, "INVITE", BRANCH, "s"));
        assert_eq!(tx.state(), Completed);
        let first = drain(&mut tx, 0);
        let trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(
            send_times(&trace),
            vec![500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
        );
        let first_bytes = &first[0].1;
        assert!(trace
            .iter()
            .filter(|(_, s)| matches!(s, Step::Sent(_)))
            .all(|(_, s)| s == first_bytes));
        assert_eq!(
            events(&trace),
            vec![
                (32_000, TransactionEvent::Timeout),
                (32_000, TransactionEvent::Terminated)
            ]
        );
        assert_eq!(tx.state(), Terminated);
    }

    #[test]
    fn custom_t1_scales_g_and_h() {
        let t0 = Instant::now();
        let config = TimerConfig {
            t1: Duration::from_millis(100),
            ..TimerConfig::default()
        };
        let mut tx = start(t0, false, config);
        tx.respond(t0, response(503, "INVITE", BRANCH, "s"));
        drain(&mut tx, 0);
        let trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(send_times(&trace), vec![100, 300, 700, 1_500, 3_100, 6_300]);
        assert_eq!(events(&trace)[0], (6_400, TransactionEvent::Timeout));
    }

    #[test]
    fn retransmitted_invite_in_completed_resends_the_failure() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let invite = tx.request().clone();
        tx.respond(t0, response(486, "INVITE", BRANCH, "s"));
        drain(&mut tx, 0);
        tx.handle_request(at(t0, 100), &invite);
        assert_eq!(sent_codes(&drain(&mut tx, 100)), vec![486]);
    }

    #[test]
    fn ack_moves_completed_to_confirmed_and_timer_i_terminates() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.respond(t0, response(486, "INVITE", BRANCH, "s"));
        let mut trace = drain(&mut tx, 0);
        trace.extend(run_until(&mut tx, t0, 600));
        tx.handle_request(at(t0, 700), &ack());
        assert_eq!(tx.state(), Confirmed);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 5_700)));
        tx.handle_request(at(t0, 800), &ack());
        let invite = tx.request().clone();
        tx.handle_request(at(t0, 900), &invite);
        trace.extend(drain(&mut tx, 900));
        trace.extend(run_until(&mut tx, t0, 100_000));
        assert_eq!(send_times(&trace), vec![0, 500], "G stopped by the ACK");
        assert_eq!(events(&trace), vec![(5_700, TransactionEvent::Terminated)]);
    }

    #[test]
    fn reliable_failure_has_no_g_and_ack_terminates_at_once() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.respond(t0, response(486, "INVITE", BRANCH, "s"));
        assert_eq!(tx.poll_timeout(), Some(at(t0, 32_000)), "only H");
        tx.handle_request(at(t0, 50), &ack());
        let trace = drain(&mut tx, 50);
        assert_eq!(send_times(&trace), vec![50]);
        assert_eq!(events(&trace), vec![(50, TransactionEvent::Terminated)]);
        assert!(tx.is_terminated());
    }

    #[test]
    fn reliable_failure_without_ack_times_out_with_h() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.respond(t0, response(486, "INVITE", BRANCH, "s"));
        drain(&mut tx, 0);
        let trace = run_until(&mut tx, t0, 100_000);
        assert!(send_times(&trace).is_empty());
        assert_eq!(events(&trace)[0], (32_000, TransactionEvent::Timeout));
    }

    #[test]
    fn success_moves_to_accepted_resends_on_invite_absorbs_ack_and_timer_l_terminates() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let invite = tx.request().clone();
        tx.respond(t0, response(180, "INVITE", BRANCH, "s"));
        tx.respond(at(t0, 100), response(200, "INVITE", BRANCH, "s"));
        assert_eq!(tx.state(), Accepted);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 600)), "G re-sends the 2xx");
        tx.handle_request(at(t0, 200), &invite);
        tx.handle_request(at(t0, 300), &ack());
        // The ACK of a 2xx is the TU's to match; it tells the transaction so.
        tx.acknowledged();
        assert_eq!(tx.poll_timeout(), Some(at(t0, 32_100)));
        tx.respond(at(t0, 400), response(200, "INVITE", BRANCH, "s"));
        tx.respond(at(t0, 500), response(486, "INVITE", BRANCH, "s"));
        let mut trace = drain(&mut tx, 500);
        assert_eq!(sent_codes(&trace), vec![180, 200, 200, 200]);
        assert_eq!(tx.state(), Accepted);
        trace.extend(run_until(&mut tx, t0, 100_000));
        assert_eq!(events(&trace), vec![(32_100, TransactionEvent::Terminated)]);
    }

    #[test]
    fn a_2xx_over_udp_is_resent_on_timer_g_until_acknowledged() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.respond(t0, response(200, "INVITE", BRANCH, "s"));
        let first = drain(&mut tx, 0);
        let mut trace = run_until(&mut tx, t0, 5_000);
        assert_eq!(send_times(&trace), vec![500, 1_500, 3_500]);
        assert!(trace
            .iter()
            .filter(|(_, s)| matches!(s, Step::Sent(_)))
            .all(|(_, s)| *s == first[0].1));
        tx.acknowledged();
        trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(send_times(&trace), Vec::<u64>::new());
        assert_eq!(events(&trace), vec![(32_000, TransactionEvent::Terminated)]);
    }

    #[test]
    fn reliable_success_still_waits_for_timer_l() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.respond(t0, response(200, "INVITE", BRANCH, "s"));
        assert_eq!(tx.poll_timeout(), Some(at(t0, 32_000)));
        tx.handle_timeout(at(t0, 32_000));
        assert!(tx.is_terminated());
    }

    #[test]
    fn transport_error_reports_then_terminates_once() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.respond(t0, response(486, "INVITE", BRANCH, "s"));
        drain(&mut tx, 0);
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
    }
}
