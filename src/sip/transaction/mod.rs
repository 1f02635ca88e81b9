//! RFC 3261 §17 transactions (with RFC 6026's Accepted state) as sans-IO state machines.
//!
//! Each machine is created with the request that starts it and then driven by
//! `handle_*(now, ..)` calls; the owner drains `poll_transmit()` (bytes for the transaction's
//! fixed destination), `poll_event()` and `poll_timeout()`. No machine reads a clock.

use std::time::Duration;

pub use crate::sip::message::Method;

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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The top Via `branch` parameter (magic cookie included).
    pub branch: String,
    /// The CSeq method; `ACK` is stored as `INVITE`.
    pub method: String,
    /// Client or server side.
    pub role: Role,
}

impl TransactionKey {
    /// Builds a key, folding ACK into INVITE.
    pub fn new(branch: &str, cseq_method: &str, role: Role) -> TransactionKey {
        let method = if cseq_method.eq_ignore_ascii_case("ACK") {
            "INVITE".to_string()
        } else {
            cseq_method.to_ascii_uppercase()
        };
        TransactionKey {
            branch: branch.to_string(),
            method,
            role,
        }
    }
}
