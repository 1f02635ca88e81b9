//! How an outbound leg ended, in SIP's own terms: the final response, the CANCEL, the BYE and
//! the transport. What that means for a campaign (busy, no answer, ...) is the call layer's
//! business; the same facts serve a leg to a trunk and a leg to an agent's phone.

use serde::Serialize;

/// The final response an INVITE got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinalStatus {
    /// Its status code.
    pub code: u16,
    /// Its reason phrase as received (the standard one when it had none).
    pub reason: String,
}

/// Why we cancelled (or were about to cancel) an INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelCause {
    /// The dial timeout ran out unanswered.
    DialTimeout,
    /// The leg's owner hung up while it rang.
    Hangup,
}

/// A side of the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// This endpoint.
    Local,
    /// The far end.
    Remote,
}

/// Why we sent the BYE that ended an answered leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ByeCause {
    /// The leg's owner hung up.
    Hangup,
    /// Our 200 to a re-INVITE was never acknowledged (RFC 3261 section 13.3.1.4).
    ReinviteUnacknowledged,
    /// A 2xx arrived after we had decided to cancel: ACKed and ended at once.
    AnsweredAfterCancel,
}

/// What ended an outbound leg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegEndCause {
    /// A final response other than 2xx (in [`LegEnd::final_status`]), after any digest retry.
    FinalResponse,
    /// Timer B: the INVITE got no final response.
    TimerB,
    /// The transport failed before a final response (ICMP unreachable, TCP refused or reset).
    TransportError,
    /// We sent CANCEL and no final response came within 64·T1.
    NoFinalResponseAfterCancel,
    /// The 2xx could not set up a dialog.
    UnusableAnswer {
        /// What was wrong with it.
        error: String,
    },
    /// We sent a BYE (the leg is over once it is sent, RFC 3261 section 15.1.1).
    LocalBye(ByeCause),
    /// The far end sent a BYE.
    RemoteBye,
    /// No INVITE went out (the request could not be built, or the endpoint stopped).
    NotPlaced {
        /// Why.
        reason: String,
    },
}

/// How one outbound leg (an INVITE we sent and the dialog it made) ended: SIP facts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegEnd {
    /// What ended it.
    pub cause: LegEndCause,
    /// The INVITE's final response, if one arrived (the 2xx of an answered leg).
    pub final_status: Option<FinalStatus>,
    /// Whether a 2xx arrived and was ACKed.
    pub answered: bool,
    /// Whether we cancelled the INVITE (or meant to, before any provisional response), and why.
    pub cancel: Option<CancelCause>,
    /// Whether any provisional response (1xx) arrived.
    pub provisional_seen: bool,
    /// Whether the call failed because the next hop did not take it (as opposed to the callee
    /// refusing it): what a trunk's health is judged by.
    pub peer_fault: Option<PeerFault>,
    /// The leg's Call-ID.
    pub call_id: String,
    /// INVITE sent → final response (or the end, if none came).
    pub setup_ms: u64,
    /// Answer → hang-up.
    pub talk_ms: u64,
}

impl LegEnd {
    /// A leg whose INVITE never went out, for `reason`.
    pub fn not_placed(reason: impl Into<String>) -> LegEnd {
        LegEnd {
            cause: LegEndCause::NotPlaced {
                reason: reason.into(),
            },
            final_status: None,
            answered: false,
            cancel: None,
            provisional_seen: false,
            peer_fault: None,
            call_id: String::new(),
            setup_ms: 0,
            talk_ms: 0,
        }
    }

    /// Who sent the BYE that ended an answered leg.
    pub fn bye_from(&self) -> Option<Side> {
        match self.cause {
            LegEndCause::LocalBye(_) => Some(Side::Local),
            LegEndCause::RemoteBye => Some(Side::Remote),
            _ => None,
        }
    }

    /// The final status code, if a final response arrived.
    pub fn final_code(&self) -> Option<u16> {
        self.final_status.as_ref().map(|s| s.code)
    }
}

/// How a next hop failed to take a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerFault {
    /// No response to the INVITE at all (timer B without even a 100).
    NoResponse,
    /// The transport failed (ICMP unreachable, TCP connection refused or reset).
    Transport,
    /// `503 Service Unavailable`, with the seconds of its `Retry-After` if it had one.
    Unavailable {
        /// `Retry-After`, in seconds.
        retry_after: Option<u32>,
    },
}
