//! The non-INVITE client transaction: RFC 3261 §17.1.2.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timers::Timers;
use super::{Outbox, Status, Timer, TimerConfig, TransactionEvent};
use crate::sip::message::{Request, Response};

/// The states of a non-INVITE client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteState {
    /// The request was sent; no response yet.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; absorbing retransmissions until timer K.
    Completed,
    /// Finished; the transaction may be dropped.
    Terminated,
}

/// A non-INVITE client transaction (RFC 3261 §17.1.2).
#[derive(Debug)]
pub struct ClientNonInvite {
    /// Current state.
    state: ClientNonInviteState,
    /// The request as sent.
    request: Request,
    /// The request serialized once, re-sent verbatim by timer E.
    request_bytes: Bytes,
    /// Whether the transport is reliable (no retransmissions, zero-length K).
    reliable: bool,
    /// Timer base values.
    config: TimerConfig,
    /// The current timer E interval.
    interval_e: Duration,
    /// Armed deadlines.
    timers: Timers,
    /// Pending transmits and events.
    out: Outbox,
}

impl ClientNonInvite {
    /// Starts a non-INVITE client transaction in Trying: queues the request, arms E (unreliable only) and F.
    pub fn new(now: Instant, request: Request, reliable: bool, timers: TimerConfig) -> Self {
        let request_bytes = Bytes::from(crate::sip::message::request_bytes(&request));
        let mut tx = ClientNonInvite {
            state: ClientNonInviteState::Trying,
            request,
            request_bytes,
            reliable,
            config: timers,
            interval_e: timers.t1,
            timers: Timers::default(),
            out: Outbox::default(),
        };
        tx.out.send(&tx.request_bytes);
        if !reliable {
            tx.timers.arm(Timer::E, now + timers.t1);
        }
        tx.timers.arm(Timer::F, now + timers.timeout());
        tx
    }

    /// A response matched to this transaction arrived from the transport.
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        use ClientNonInviteState::*;
        let Some(status) = Status::of(&response) else {
            return;
        };
        match (self.state, status) {
            // §17.1.2.2: a provisional response in Trying moves to Proceeding.
            (Trying, Status::Provisional) => {
                self.state = Proceeding;
                self.out.emit(TransactionEvent::Response(response));
            }
            // §17.1.2.2: further provisional responses are passed up.
            (Proceeding, Status::Provisional) => {
                self.out.emit(TransactionEvent::Response(response));
            }
            // §17.1.2.2: a final response (200-699) is passed up and arms K.
            (Trying | Proceeding, Status::Success | Status::Failure) => {
                self.timers.clear();
                self.state = Completed;
                self.out.emit(TransactionEvent::Response(response));
                if self.reliable {
                    self.terminate();
                } else {
                    self.timers.arm(Timer::K, now + self.config.t4);
                }
            }
            // §17.1.2.2: Completed absorbs retransmissions; Terminated ignores everything.
            (Completed | Terminated, _) => {}
        }
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ClientNonInviteState::*;
        while let Some((timer, deadline)) = self.timers.pop_due(now) {
            match (self.state, timer) {
                // §17.1.2.2: timer E in Trying retransmits and backs off to MIN(2·prev, T2).
                (Trying, Timer::E) => {
                    self.out.send(&self.request_bytes);
                    self.interval_e = (self.interval_e * 2).min(self.config.t2);
                    self.timers.arm(Timer::E, deadline + self.interval_e);
                }
                // §17.1.2.2: timer E in Proceeding retransmits every T2.
                (Proceeding, Timer::E) => {
                    self.out.send(&self.request_bytes);
                    self.interval_e = self.config.t2;
                    self.timers.arm(Timer::E, deadline + self.interval_e);
                }
                // §17.1.2.2: timer F in Trying or Proceeding: the transaction timed out.
                (Trying | Proceeding, Timer::F) => {
                    self.out.emit(TransactionEvent::Timeout);
                    self.terminate();
                }
                // §17.1.2.2: timer K ends Completed.
                (Completed, Timer::K) => self.terminate(),
                _ => {}
            }
        }
    }

    /// The transport failed to send: reports it and terminates (§17.1.4).
    pub fn handle_transport_error(&mut self) {
        if self.state != ClientNonInviteState::Terminated {
            self.out.emit(TransactionEvent::TransportError);
            self.terminate();
        }
    }

    /// The next message to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.transmits.pop_front()
    }

    /// The earliest instant at which [`ClientNonInvite::handle_timeout`] should be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.out.events.pop_front()
    }

    /// The current state.
    pub fn state(&self) -> ClientNonInviteState {
        self.state
    }

    /// The request as sent.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the transaction has terminated and may be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientNonInviteState::Terminated
    }

    /// Enters Terminated, disarming all timers and reporting it once.
    fn terminate(&mut self) {
        if self.state != ClientNonInviteState::Terminated {
            self.state = ClientNonInviteState::Terminated;
            self.timers.clear();
            self.out.emit(TransactionEvent::Terminated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::test_support::*;
    use ClientNonInviteState::*;

    const BRANCH: &str = "z9hG4bKbye1";

    fn start(t0: Instant, reliable: bool, config: TimerConfig) -> ClientNonInvite {
        let mut tx = ClientNonInvite::new(t0, request("BYE", BRANCH, 2), reliable, config);
        assert_eq!(send_times(&drain(&mut tx, 0)), vec![0]);
        tx
    }

    fn udp(t0: Instant) -> ClientNonInvite {
        start(t0, false, TimerConfig::default())
    }

    #[test]
    fn timer_e_backs_off_to_t2_and_timer_f_times_out() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let trace = run_until(&mut tx, t0, 100_000);
        assert_eq!(
            send_times(&trace),
            vec![500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
        );
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
    fn retransmissions_are_the_same_bytes() {
        let t0 = Instant::now();
        let mut tx = ClientNonInvite::new(
            t0,
            request("OPTIONS", BRANCH, 1),
            false,
            TimerConfig::default(),
        );
        let first = tx.poll_transmit();
        tx.handle_timeout(at(t0, 500));
        assert_eq!(tx.poll_transmit(), first);
    }

    #[test]
    fn custom_t1_and_t2_scale_the_schedule() {
        let t0 = Instant::now();
        let config = TimerConfig {
            t1: Duration::from_millis(100),
            t2: Duration::from_millis(400),
            t4: Duration::from_secs(1),
        };
        let mut tx = start(t0, false, config);
        let trace = run_until(&mut tx, t0, 100_000);
        let sends = send_times(&trace);
        assert_eq!(&sends[..5], &[100, 300, 700, 1_100, 1_500]);
        assert_eq!(*sends.last().expect("sends"), 6_300);
        assert_eq!(events(&trace)[0], (6_400, TransactionEvent::Timeout));
    }

    #[test]
    fn reliable_sends_once_and_times_out_with_f() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        let trace = run_until(&mut tx, t0, 100_000);
        assert!(send_times(&trace).is_empty());
        assert_eq!(events(&trace)[0], (32_000, TransactionEvent::Timeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn provisional_moves_to_proceeding_and_timer_e_uses_t2() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        let mut trace = run_until(&mut tx, t0, 600);
        tx.handle_response(at(t0, 700), response(100, "BYE", BRANCH, "t"));
        assert_eq!(tx.state(), Proceeding);
        tx.handle_response(at(t0, 800), response(180, "BYE", BRANCH, "t"));
        trace.extend(drain(&mut tx, 800));
        trace.extend(run_until(&mut tx, t0, 12_000));
        assert_eq!(send_times(&trace), vec![500, 1_500, 5_500, 9_500]);
        let evs = events(&trace);
        assert!(is_response(&evs[0].1, 100));
        assert!(is_response(&evs[1].1, 180));
        let rest = run_until(&mut tx, t0, 100_000);
        assert_eq!(events(&rest)[0], (32_000, TransactionEvent::Timeout));
    }

    #[test]
    fn final_response_completes_and_timer_k_terminates() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 200), response(200, "BYE", BRANCH, "t"));
        assert_eq!(tx.state(), Completed);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 5_200)));
        tx.handle_response(at(t0, 300), response(200, "BYE", BRANCH, "t"));
        let mut trace = drain(&mut tx, 300);
        trace.extend(run_until(&mut tx, t0, 100_000));
        assert!(send_times(&trace).is_empty());
        let evs = events(&trace);
        assert_eq!(evs.len(), 2, "retransmitted final absorbed: {evs:?}");
        assert!(is_response(&evs[0].1, 200));
        assert_eq!(evs[1], (5_200, TransactionEvent::Terminated));
    }

    #[test]
    fn failure_in_proceeding_completes() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.handle_response(at(t0, 100), response(100, "BYE", BRANCH, "t"));
        tx.handle_response(at(t0, 900), response(481, "BYE", BRANCH, "t"));
        assert_eq!(tx.state(), Completed);
        assert_eq!(tx.poll_timeout(), Some(at(t0, 5_900)));
    }

    #[test]
    fn reliable_final_terminates_immediately() {
        let t0 = Instant::now();
        let mut tx = start(t0, true, TimerConfig::default());
        tx.handle_response(at(t0, 100), response(404, "BYE", BRANCH, "t"));
        let evs = events(&drain(&mut tx, 100));
        assert!(is_response(&evs[0].1, 404));
        assert_eq!(evs[1], (100, TransactionEvent::Terminated));
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
        assert_eq!(tx.poll_timeout(), None);
    }
}
