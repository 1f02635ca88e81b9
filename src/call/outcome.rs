//! What a leg's SIP facts mean for an attempt: its disposition, the reason recorded with it and
//! who hung up. A pure mapping, so that every outbound leg (to a trunk's callee or to an
//! agent's phone) is judged the same way.

use crate::domain::{Disposition, HangupBy};
use crate::sip::endpoint::{ByeCause, CancelCause, LegEnd, LegEndCause, PeerFault, Side};

/// The outcome of one attempt, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallOutcome {
    /// What became of the attempt.
    pub disposition: Disposition,
    /// The final SIP status of the INVITE, if one arrived.
    pub sip_code: Option<u16>,
    /// A short human reason (reason phrase, or what we gave up on).
    pub reason: String,
    /// Who hung up an answered call.
    pub hangup_by: Option<HangupBy>,
    /// The Call-ID of the attempt.
    pub call_id: String,
    /// INVITE sent → final response (or the end, if none came).
    pub setup_ms: u64,
    /// Answer → hang-up.
    pub talk_ms: u64,
    /// Whether the call failed because the next hop did not take it (as opposed to the callee
    /// refusing it): what a trunk's health is judged by.
    pub peer_fault: Option<PeerFault>,
    /// The queue the call joined (`queue_join`), if it did.
    pub queue_id: Option<uuid::Uuid>,
    /// The agent who took the call from the queue.
    pub agent_id: Option<uuid::Uuid>,
    /// The callee's answer → the agent's answer, for a call an agent took.
    pub wait_ms: Option<u64>,
}

impl CallOutcome {
    /// A call that failed before any SIP exchange, for `reason`.
    pub fn failed(reason: impl Into<String>) -> CallOutcome {
        CallOutcome::from_leg(LegEnd::not_placed(reason))
    }

    /// The outcome of the attempt whose leg ended as `end` says.
    pub fn from_leg(end: LegEnd) -> CallOutcome {
        let (disposition, reason, hangup_by) = judge(&end);
        CallOutcome {
            disposition,
            sip_code: end.final_code(),
            reason,
            hangup_by,
            call_id: end.call_id,
            setup_ms: end.setup_ms,
            talk_ms: end.talk_ms,
            peer_fault: end.peer_fault,
            queue_id: None,
            agent_id: None,
            wait_ms: None,
        }
    }
}

/// The disposition, reason and hang-up side of a leg that ended as `end` says.
pub fn judge(end: &LegEnd) -> (Disposition, String, Option<HangupBy>) {
    // What a cancelled INVITE ends as: the dial timeout is nobody answering, our own hang-up
    // is giving up.
    let cancelled = |cause: Option<CancelCause>| match cause {
        Some(CancelCause::Hangup) => Disposition::Cancelled,
        _ => Disposition::NoAnswer,
    };
    let hangup_by = end.bye_from().map(|side| match side {
        Side::Local => HangupBy::Local,
        Side::Remote => HangupBy::Remote,
    });
    let (disposition, reason) = match &end.cause {
        LegEndCause::FinalResponse => match &end.final_status {
            Some(status) => match (status.code, end.cancel) {
                (487, Some(CancelCause::DialTimeout)) => {
                    (Disposition::NoAnswer, "dial timeout".to_string())
                }
                (487, Some(CancelCause::Hangup)) => (Disposition::Cancelled, status.reason.clone()),
                (code, _) => (Disposition::from_final_status(code), status.reason.clone()),
            },
            None => (Disposition::Failed, "no final response".to_string()),
        },
        LegEndCause::TimerB if end.provisional_seen => (Disposition::Failed, "timer B".into()),
        LegEndCause::TimerB => (Disposition::Failed, "no response (timer B)".into()),
        LegEndCause::TransportError => (Disposition::Failed, "transport error".into()),
        LegEndCause::NoFinalResponseAfterCancel => (
            cancelled(end.cancel),
            "no final response after CANCEL".into(),
        ),
        LegEndCause::UnusableAnswer { error } => {
            (Disposition::Failed, format!("unusable 2xx: {error}"))
        }
        LegEndCause::LocalBye(ByeCause::Hangup) => {
            (Disposition::Answered, "normal clearing".into())
        }
        LegEndCause::LocalBye(ByeCause::ReinviteUnacknowledged) => (
            Disposition::Answered,
            "no ACK for our answer to a re-INVITE".into(),
        ),
        LegEndCause::LocalBye(ByeCause::AnsweredAfterCancel) => {
            (cancelled(end.cancel), "answered after CANCEL".into())
        }
        LegEndCause::RemoteBye => (Disposition::Answered, "callee hung up".into()),
        LegEndCause::NotPlaced { reason } => (Disposition::Failed, reason.clone()),
    };
    (disposition, reason, hangup_by)
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
