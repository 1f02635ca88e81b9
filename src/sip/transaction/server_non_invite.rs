//! The non-INVITE server transaction: RFC 3261 §17.2.2.

use std::time::Instant;

use bytes::Bytes;

use super::timers::Timers;
use super::{Outbox, Status, Timer, TimerConfig, TransactionEvent};
use crate::sip::message::{Request, Response};

/// The states of a non-INVITE server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonInviteState {
    /// The request arrived; no response sent yet.
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// A final response was sent; answering retransmissions until timer J.
    Completed,
    /// Finished; the transaction may be dropped.
    Terminated,
}

/// A non-INVITE server transaction (RFC 3261 §17.2.2).
#[derive(Debug)]
pub struct ServerNonInvite {
    /// Current state.
    state: ServerNonInviteState,
    /// The request as received.
    request: Request,
    /// The last response sent, serialized once and re-sent verbatim.
    last_response: Option<Bytes>,
    /// Whether the transport is reliable (zero-length J).
    reliable: bool,
    /// Timer base values.
    config: TimerConfig,
    /// Armed deadlines.
    timers: Timers,
    /// Pending transmits and events.
    out: Outbox,
}

impl ServerNonInvite {
    /// Starts in Trying with the received request; queues nothing.
    pub fn new(_now: Instant, request: Request, reliable: bool, timers: TimerConfig) -> Self {
        ServerNonInvite {
            state: ServerNonInviteState::Trying,
            request,
            last_response: None,
            reliable,
            config: timers,
            timers: Timers::default(),
            out: Outbox::default(),
        }
    }

    /// The TU sends a response: 1xx -> Proceeding; final -> Completed (J = 64·T1 unreliable, 0 reliable).
    pub fn respond(&mut self, now: Instant, response: Response) {
        use ServerNonInviteState::*;
        let Some(status) = Status::of(&response) else {
            return;
        };
        match (self.state, status) {
            // §17.2.2: a provisional response from the TU is sent and moves to Proceeding.
            (Trying | Proceeding, Status::Provisional) => {
                self.send(response);
                self.state = Proceeding;
            }
            // §17.2.2: a final response from the TU is sent and moves to Completed with timer J.
            (Trying | Proceeding, Status::Success | Status::Failure) => {
                self.send(response);
                self.state = Completed;
                if self.reliable {
                    self.terminate();
                } else {
                    self.timers.arm(Timer::J, now + self.config.timeout());
                }
            }
            // §17.2.2: once a final response is sent the TU may send nothing more.
            (Completed | Terminated, _) => {}
        }
    }

    /// A retransmission of the request: Trying absorbs it, Proceeding and Completed re-send the last response.
    pub fn handle_request(&mut self, _now: Instant, _request: &Request) {
        use ServerNonInviteState::*;
        match self.state {
            // §17.2.2: retransmissions in Trying are discarded.
            Trying => {}
            // §17.2.2: retransmissions in Proceeding or Completed re-send the last response.
            Proceeding | Completed => {
                if let Some(last) = &self.last_response {
                    self.out.send(last);
                }
            }
            Terminated => {}
        }
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ServerNonInviteState::*;
        while let Some((timer, _deadline)) = self.timers.pop_due(now) {
            // §17.2.2: timer J ends Completed.
            if (self.state, timer) == (Completed, Timer::J) {
                self.terminate();
            }
        }
    }

    /// The transport failed to send: reports it and terminates (§17.2.4).
    pub fn handle_transport_error(&mut self) {
        if self.state != ServerNonInviteState::Terminated {
            self.out.emit(TransactionEvent::TransportError);
            self.terminate();
        }
    }

    /// The next message to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.transmits.pop_front()
    }

    /// The earliest instant at which [`ServerNonInvite::handle_timeout`] should be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.out.events.pop_front()
    }

    /// The current state.
    pub fn state(&self) -> ServerNonInviteState {
        self.state
    }

    /// The request as received.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the transaction has terminated and may be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerNonInviteState::Terminated
    }

    /// Serializes a response once, queues it and remembers it for retransmission.
    fn send(&mut self, response: Response) {
        let bytes = Bytes::from(crate::sip::message::response_bytes(&response));
        self.out.send(&bytes);
        self.last_response = Some(bytes);
    }

    /// Enters Terminated, disarming all timers and reporting it once.
    fn terminate(&mut self) {
        if self.state != ServerNonInviteState::Terminated {
            self.state = ServerNonInviteState::Terminated;
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
    use std::time::Duration;
    use ServerNonInviteState::*;

    const BRANCH: &str = "z9hG4bKsbye";

    fn start(t0: Instant, reliable: bool, config: TimerConfig) -> ServerNonInvite {
        let mut tx = ServerNonInvite::new(t0, request("BYE", BRANCH, 2), reliable, config);
        assert_eq!(drain(&mut tx, 0), vec![]);
        assert_eq!(tx.poll_timeout(), None);
        tx
    }

    fn udp(t0: Instant) -> ServerNonInvite {
        start(t0, false, TimerConfig::default())
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
    fn trying_absorbs_retransmissions() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let bye = tx.request().clone();
        tx.handle_request(at(t0, 500), &bye);
        assert_eq!(drain(&mut tx, 500), vec![]);
        assert_eq!(tx.state(), Trying);
    }

    #[test]
    fn provisional_moves_to_proceeding_and_is_repeated() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let bye = tx.request().clone();
        tx.respond(at(t0, 10), response(100, "BYE", BRANCH, "s"));
        assert_eq!(tx.state(), Proceeding);
        tx.handle_request(at(t0, 500), &bye);
        let trace = drain(&mut tx, 500);
        assert_eq!(sent_codes(&trace), vec![100, 100]);
        assert_eq!(trace[0].1, trace[1].1, "same bytes");
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn final_completes_repeats_and_timer_j_terminates() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let bye = tx.request().clone();
        tx.respond(at(t0, 10), response(100, "BYE", BRANCH, "s"));
        tx.respond(at(t0, 20), response(200, "BYE", BRANCH, "s"));
        assert_eq!(tx.state(), Completed);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 32_020)));
        tx.respond(at(t0, 30), response(500, "BYE", BRANCH, "s"));
        tx.handle_request(at(t0, 500), &bye);
        let mut trace = drain(&mut tx, 500);
        assert_eq!(sent_codes(&trace), vec![100, 200, 200]);
        trace.extend(run_until(&mut tx, t0, 100_000));
        assert_eq!(events(&trace), vec![(32_020, TransactionEvent::Terminated)]);
        assert_eq!(tx.state(), Terminated);
    }

    #[test]
    fn final_from_trying_completes() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.respond(t0, response(481, "BYE", BRANCH, "s"));
        assert_eq!(tx.state(), Completed);
        assert_eq!(sent_codes(&drain(&mut tx, 0)), vec![481]);
    }

    #[test]
    fn custom_t1_scales_timer_j() {
        let t0 = Instant::now();
        let config = TimerConfig {
            t1: Duration::from_millis(100),
            ..TimerConfig::default()
        };
        let mut tx = start(t0, false, config);
        tx.respond(t0, response(200, "BYE", BRANCH, "s"));
        assert_eq!(tx.poll_timeout(), Some(at(t0, 6_400)));
    }

    #[test]
    fn reliable_final_terminates_immediately() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.respond(at(t0, 5), response(200, "BYE", BRANCH, "s"));
        let trace = drain(&mut tx, 5);
        assert_eq!(sent_codes(&trace), vec![200]);
        assert_eq!(events(&trace), vec![(5, TransactionEvent::Terminated)]);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_timeout(), None);
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
    }
}
