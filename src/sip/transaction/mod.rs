//! RFC 3261 §17 transactions (with RFC 6026's Accepted state) as sans-IO state machines.
//!
//! Each machine is created with the request that starts it and then driven by
//! `handle_*(now, ..)` calls; the owner drains `poll_transmit()` (bytes for the transaction's
//! fixed destination), `poll_event()` and `poll_timeout()`. No machine reads a clock.

use std::time::{Duration, Instant};

use bytes::Bytes;

pub use crate::sip::message::Method;
use crate::sip::message::{call_id, cseq, top_via_branch, Request, Response};

mod client_invite;
mod client_non_invite;
mod server_invite;
mod server_non_invite;
mod timers;

#[cfg(test)]
mod test_support;

pub use client_invite::{ClientInvite, ClientInviteState};
pub use client_non_invite::{ClientNonInvite, ClientNonInviteState};
pub use server_invite::{ServerInvite, ServerInviteState};
pub use server_non_invite::{ServerNonInvite, ServerNonInviteState};

/// RFC 3261 timer base values, configurable per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip time estimate: first retransmission interval (default 500 ms).
    pub t1: Duration,
    /// Cap on non-INVITE request and INVITE response retransmission intervals (default 4 s).
    pub t2: Duration,
    /// How long a message may stay in the network (default 5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: the transaction timeout of timers B, F, H, J, L and M.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// Timer D on unreliable transports: at least 32 s (RFC 3261 §17.1.1.2), and never shorter
    /// than the server's 64·T1 retransmission window.
    pub fn timer_d(&self) -> Duration {
        self.timeout().max(Duration::from_secs(32))
    }
}

/// Every transaction timer, named as in RFC 3261 §17 and RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE client: retransmit the INVITE (unreliable transports only).
    A,
    /// INVITE client: give up waiting for any response.
    B,
    /// INVITE client: wait in Completed for retransmitted final responses.
    D,
    /// Non-INVITE client: retransmit the request (unreliable transports only).
    E,
    /// Non-INVITE client: give up waiting for a final response.
    F,
    /// INVITE server: retransmit the final non-2xx response (unreliable transports only).
    G,
    /// INVITE server: give up waiting for the ACK.
    H,
    /// INVITE server: absorb ACK retransmissions in Confirmed.
    I,
    /// Non-INVITE server: absorb request retransmissions in Completed.
    J,
    /// Non-INVITE client: absorb response retransmissions in Completed.
    K,
    /// INVITE server (RFC 6026): absorb INVITE retransmissions in Accepted.
    L,
    /// INVITE client (RFC 6026): pass retransmitted 2xx responses up in Accepted.
    M,
}

/// Which side of a transaction we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the request.
    Client,
    /// We received the request.
    Server,
}

/// Identifies a transaction (RFC 3261 §17.1.3, §17.2.3): the top Via branch and the CSeq
/// method, with ACK folded into INVITE so that an ACK for a non-2xx finds its transaction.
///
/// A server transaction is also told apart by its request's Call-ID and CSeq number, which
/// every retransmission, the ACK of a non-2xx and a CANCEL share with the request. The branch
/// alone is unique only if the peer makes it so: one that reuses a branch for another request
/// (SIPp's out-of-call scenarios give every call the same call number, so `[branch]` repeats
/// from call to call) would otherwise have that request, another call's BYE, taken for a
/// retransmission of the first: answered with the first one's response, and never seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The top Via `branch` parameter (magic cookie included).
    pub branch: String,
    /// The CSeq method; `ACK` is stored as `INVITE`.
    pub method: String,
    /// Client or server side.
    pub role: Role,
    /// Server side: the request's Call-ID (empty on the client side, whose branches are ours).
    pub call_id: String,
    /// Server side: the request's CSeq number (0 on the client side).
    pub seq: u32,
}

impl TransactionKey {
    /// The key of a transaction we started: its branch and CSeq method.
    pub fn client(branch: &str, cseq_method: &str) -> TransactionKey {
        TransactionKey {
            branch: branch.to_string(),
            method: folded_method(cseq_method),
            role: Role::Client,
            call_id: String::new(),
            seq: 0,
        }
    }

    /// The key of a transaction a peer started: branch, CSeq method, Call-ID and CSeq number.
    pub fn server(branch: &str, cseq_method: &str, call_id: &str, seq: u32) -> TransactionKey {
        TransactionKey {
            branch: branch.to_string(),
            method: folded_method(cseq_method),
            role: Role::Server,
            call_id: call_id.to_string(),
            seq,
        }
    }

    /// The key a request belongs to on `role`'s side; `None` without a branch or a CSeq.
    pub fn of_request(request: &Request, role: Role) -> Option<TransactionKey> {
        let headers = &request.headers;
        let branch = top_via_branch(headers)?;
        let (seq, method) = cseq(headers)?;
        Some(match role {
            Role::Client => TransactionKey::client(branch, method),
            Role::Server => {
                TransactionKey::server(branch, method, call_id(headers).unwrap_or_default(), seq)
            }
        })
    }
}

/// ACK is matched to the INVITE's transaction.
fn folded_method(cseq_method: &str) -> String {
    if cseq_method.eq_ignore_ascii_case("ACK") {
        "INVITE".to_string()
    } else {
        cseq_method.to_ascii_uppercase()
    }
}

/// What a transaction reports to its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A response for the TU (client side): provisional, final, or a 2xx retransmission in Accepted.
    Response(Response),
    /// Timer B, F or H fired: the transaction timed out.
    Timeout,
    /// The transport reported an error sending.
    TransportError,
    /// The transaction has terminated and may be dropped.
    Terminated,
}

/// The response classes the RFC 3261 §17 state machines distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// 1xx.
    Provisional,
    /// 2xx.
    Success,
    /// 300-699.
    Failure,
}

impl Status {
    /// Classifies a response; codes outside 100-699 have no class and are ignored.
    fn of(response: &Response) -> Option<Status> {
        match response.status_code.code() {
            100..=199 => Some(Status::Provisional),
            200..=299 => Some(Status::Success),
            300..=699 => Some(Status::Failure),
            _ => None,
        }
    }
}

/// Any of the four transaction machines, dispatching the methods they share.
#[derive(Debug)]
pub enum Transaction {
    /// RFC 3261 §17.1.1 with RFC 6026's Accepted state.
    ClientInvite(ClientInvite),
    /// RFC 3261 §17.1.2.
    ClientNonInvite(ClientNonInvite),
    /// RFC 3261 §17.2.1 with RFC 6026's Accepted state.
    ServerInvite(ServerInvite),
    /// RFC 3261 §17.2.2.
    ServerNonInvite(ServerNonInvite),
}

/// Forwards a call to whichever machine the [`Transaction`] holds.
macro_rules! dispatch {
    ($self:expr, $tx:ident => $call:expr) => {
        match $self {
            Transaction::ClientInvite($tx) => $call,
            Transaction::ClientNonInvite($tx) => $call,
            Transaction::ServerInvite($tx) => $call,
            Transaction::ServerNonInvite($tx) => $call,
        }
    };
}

impl Transaction {
    /// The next message to put on the wire to the transaction's destination.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        dispatch!(self, tx => tx.poll_transmit())
    }

    /// The earliest instant at which [`Transaction::handle_timeout`] should be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        dispatch!(self, tx => tx.poll_timeout())
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        dispatch!(self, tx => tx.poll_event())
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        dispatch!(self, tx => tx.handle_timeout(now))
    }

    /// The transport failed to send: reports it and terminates.
    pub fn handle_transport_error(&mut self) {
        dispatch!(self, tx => tx.handle_transport_error())
    }

    /// Whether the transaction has terminated and may be dropped.
    pub fn is_terminated(&self) -> bool {
        dispatch!(self, tx => tx.is_terminated())
    }

    /// The request that started the transaction.
    pub fn request(&self) -> &Request {
        dispatch!(self, tx => tx.request())
    }

    /// Which side of the transaction we are.
    pub fn role(&self) -> Role {
        match self {
            Transaction::ClientInvite(_) | Transaction::ClientNonInvite(_) => Role::Client,
            Transaction::ServerInvite(_) | Transaction::ServerNonInvite(_) => Role::Server,
        }
    }

    /// The key matching messages to this transaction, when the request carries a branch and CSeq.
    pub fn key(&self) -> Option<TransactionKey> {
        TransactionKey::of_request(self.request(), self.role())
    }
}

impl From<ClientInvite> for Transaction {
    fn from(tx: ClientInvite) -> Self {
        Transaction::ClientInvite(tx)
    }
}

impl From<ClientNonInvite> for Transaction {
    fn from(tx: ClientNonInvite) -> Self {
        Transaction::ClientNonInvite(tx)
    }
}

impl From<ServerInvite> for Transaction {
    fn from(tx: ServerInvite) -> Self {
        Transaction::ServerInvite(tx)
    }
}

impl From<ServerNonInvite> for Transaction {
    fn from(tx: ServerNonInvite) -> Self {
        Transaction::ServerNonInvite(tx)
    }
}

/// The queues a machine fills for its owner to drain: bytes to send and events for the TU.
#[derive(Debug, Default)]
struct Outbox {
    /// Messages waiting for `poll_transmit`, oldest first.
    transmits: std::collections::VecDeque<Bytes>,
    /// Events waiting for `poll_event`, oldest first.
    events: std::collections::VecDeque<TransactionEvent>,
}

impl Outbox {
    /// Queues a serialized message for the wire.
    fn send(&mut self, bytes: &Bytes) {
        self.transmits.push_back(bytes.clone());
    }

    /// Queues an event for the TU.
    fn emit(&mut self, event: TransactionEvent) {
        self.events.push_back(event);
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn transaction_dispatches_to_its_machine() {
        let t0 = Instant::now();
        let config = TimerConfig::default();
        let invite = request("INVITE", "z9hG4bKk1", 1);
        let mut tx = Transaction::from(ClientInvite::new(t0, invite.clone(), false, config));
        assert!(tx.poll_transmit().is_some());
        assert_eq!(tx.poll_timeout(), Some(at(t0, 500)));
        assert_eq!(tx.request(), &invite);
        assert_eq!(
            tx.key(),
            Some(TransactionKey::client("z9hG4bKk1", "INVITE"))
        );
        tx.handle_timeout(at(t0, 500));
        assert!(tx.poll_transmit().is_some());
        tx.handle_transport_error();
        assert_eq!(tx.poll_event(), Some(TransactionEvent::TransportError));
        assert_eq!(tx.poll_event(), Some(TransactionEvent::Terminated));
        assert!(tx.is_terminated());

        let bye = request("BYE", "z9hG4bKk2", 2);
        let server = Transaction::from(ServerNonInvite::new(t0, bye.clone(), true, config));
        assert_eq!(server.role(), Role::Server);
        assert_eq!(
            server.key(),
            Some(TransactionKey::server(
                "z9hG4bKk2",
                "BYE",
                "call-1@192.0.2.10",
                2
            ))
        );
        let client = Transaction::from(ClientNonInvite::new(t0, bye, true, config));
        assert_eq!(client.role(), Role::Client);
        let server_invite = Transaction::from(ServerInvite::new(t0, invite, true, config));
        assert!(!server_invite.is_terminated());
        assert_eq!(server_invite.poll_timeout(), None);
    }

    #[test]
    fn a_server_key_tells_apart_requests_that_reuse_a_branch_but_not_a_retransmission() {
        let key = |raw: &str| {
            let req = match crate::sip::message::parse(raw.as_bytes()) {
                Ok(crate::sip::message::SipMessage::Request(r)) => r,
                other => panic!("not a request: {other:?}"),
            };
            TransactionKey::of_request(&req, Role::Server)
        };
        let text = |method: &str, call_id: &str, seq: u32| {
            format!(
                "{method} sip:ringmaster@127.0.0.1 SIP/2.0\r\n\
                 Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-4242-0-7\r\n\
                 From: <sip:agent@127.0.0.1>;tag=a\r\nTo: <sip:x@127.0.0.1>;tag=b\r\n\
                 Call-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let first = key(&text("BYE", "call-1", 1));
        assert_eq!(first, key(&text("BYE", "call-1", 1)), "a retransmission");
        assert_ne!(first, key(&text("BYE", "call-2", 1)), "another call's BYE");
        assert_ne!(first, key(&text("BYE", "call-1", 2)), "a later request");
        assert_ne!(first, key(&text("INFO", "call-1", 1)), "another method");
        let invite = key(&text("INVITE", "call-3", 5));
        assert_eq!(
            invite,
            key(&text("ACK", "call-3", 5)),
            "the ACK of a non-2xx"
        );
        assert_eq!(
            key(&text("CANCEL", "call-3", 5)).map(|k| (k.branch, k.call_id, k.seq)),
            invite.map(|k| (k.branch, k.call_id, k.seq)),
            "a CANCEL finds the INVITE's branch, Call-ID and CSeq number"
        );
    }

    #[test]
    fn timer_d_defaults_to_32_seconds() {
        assert_eq!(TimerConfig::default().timer_d(), Duration::from_secs(32));
        let fast = TimerConfig {
            t1: Duration::from_millis(100),
            ..TimerConfig::default()
        };
        assert_eq!(fast.timer_d(), Duration::from_secs(32));
    }
}
