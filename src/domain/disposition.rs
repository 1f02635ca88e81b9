//! The outcome of one dial attempt, as every layer reports it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The reason an attempt ends `abandoned` when the queue connected no agent within the safe
/// harbour (power and predictive dialing): the abandonments the lock-out follows.
pub const SAFE_HARBOUR_REASON: &str = "no agent within the safe-harbour time";

/// What became of a dial attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// The callee answered (2xx), whoever hung up first.
    Answered,
    /// The callee was busy (486, 600).
    Busy,
    /// Nobody answered before the dial timeout (we sent CANCEL), or 480 / 408.
    NoAnswer,
    /// The far end refused the call (403, 603, other 4xx).
    Rejected,
    /// The number does not exist (404, 484, 604).
    InvalidNumber,
    /// 401/407 kept coming back after our credentials were offered.
    Unauthorized,
    /// 5xx, transport error, or a transaction timeout (timer B/F).
    Failed,
    /// We gave up for another reason (shutdown, campaign stopped).
    Cancelled,
    /// The attempt was in flight when the process died; its outcome is unknown.
    Unknown,
    /// Not dialed: the number is on a do-not-call list that applies to the campaign. Final,
    /// and no try is used.
    Dnc,
    /// Answered, and the callee asked not to be called again (the flow ran `opt_out`): the
    /// number is on the customer's default do-not-call list from then on.
    OptedOut,
    /// The callee answered and joined a queue, then left it (hung up, or waited past the
    /// queue's wait timeout) before an agent answered.
    Abandoned,
    /// Answered by an answering machine (the flow's `amd` found one and its `machine_handle`
    /// was `hangup`): hung up at once. Not reached; an outplan may retry it.
    Machine,
}

impl Disposition {
    /// Maps a final SIP response status to the disposition of an unanswered attempt.
    pub fn from_final_status(code: u16) -> Disposition {
        match code {
            200..=299 => Disposition::Answered,
            486 | 600 => Disposition::Busy,
            480 | 408 | 487 => Disposition::NoAnswer,
            404 | 484 | 604 => Disposition::InvalidNumber,
            401 | 407 => Disposition::Unauthorized,
            300..=499 | 603 | 601..=699 => Disposition::Rejected,
            _ => Disposition::Failed,
        }
    }

    /// The name used on the wire (JSON, database).
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Busy => "busy",
            Disposition::NoAnswer => "no_answer",
            Disposition::Rejected => "rejected",
            Disposition::InvalidNumber => "invalid_number",
            Disposition::Unauthorized => "unauthorized",
            Disposition::Failed => "failed",
            Disposition::Cancelled => "cancelled",
            Disposition::Unknown => "unknown",
            Disposition::Dnc => "dnc",
            Disposition::OptedOut => "opted_out",
            Disposition::Abandoned => "abandoned",
            Disposition::Machine => "machine",
        }
    }
}

impl Disposition {
    /// Every disposition, in the order of the enum.
    pub const ALL: [Disposition; 13] = [
        Disposition::Answered,
        Disposition::Busy,
        Disposition::NoAnswer,
        Disposition::Rejected,
        Disposition::InvalidNumber,
        Disposition::Unauthorized,
        Disposition::Failed,
        Disposition::Cancelled,
        Disposition::Unknown,
        Disposition::Dnc,
        Disposition::OptedOut,
        Disposition::Abandoned,
        Disposition::Machine,
    ];

    /// The disposition whose wire name is `name`.
    pub fn from_name(name: &str) -> Option<Disposition> {
        Disposition::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// Whether the callee was reached (the target ends `success`).
    pub fn reached(self) -> bool {
        matches!(self, Disposition::Answered | Disposition::OptedOut)
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HangupBy {
    /// ringmaster sent the BYE.
    Local,
    /// The callee sent the BYE.
    Remote,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_disposition_is_found_by_its_wire_name() {
        for d in Disposition::ALL {
            assert_eq!(Disposition::from_name(d.as_str()), Some(d));
        }
        assert_eq!(Disposition::from_name("Answered"), None);
        assert_eq!(Disposition::from_name(""), None);
    }

    #[test]
    fn final_statuses_map_to_the_documented_dispositions() {
        let cases = [
            (200, Disposition::Answered),
            (486, Disposition::Busy),
            (600, Disposition::Busy),
            (480, Disposition::NoAnswer),
            (408, Disposition::NoAnswer),
            (487, Disposition::NoAnswer),
            (403, Disposition::Rejected),
            (603, Disposition::Rejected),
            (488, Disposition::Rejected),
            (404, Disposition::InvalidNumber),
            (484, Disposition::InvalidNumber),
            (604, Disposition::InvalidNumber),
            (407, Disposition::Unauthorized),
            (500, Disposition::Failed),
            (503, Disposition::Failed),
        ];
        for (code, want) in cases {
            assert_eq!(Disposition::from_final_status(code), want, "status {code}");
        }
    }

    #[test]
    fn a_machine_is_not_reached_and_reads_as_machine() {
        assert!(!Disposition::Machine.reached());
        assert_eq!(Disposition::Machine.to_string(), "machine");
        assert_eq!(
            serde_json::from_str::<Disposition>("\"machine\"").ok(),
            Some(Disposition::Machine)
        );
    }
}
