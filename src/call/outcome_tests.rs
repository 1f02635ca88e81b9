//! Every way a leg ends, and the disposition, reason and hang-up side it is recorded with.

use super::*;
use crate::sip::endpoint::FinalStatus;

fn leg(cause: LegEndCause) -> LegEnd {
    LegEnd {
        cause,
        final_status: None,
        answered: false,
        cancel: None,
        provisional_seen: true,
        peer_fault: None,
        call_id: "abc@127.0.0.1".into(),
        setup_ms: 120,
        talk_ms: 0,
    }
}

fn refused(code: u16, reason: &str, cancel: Option<CancelCause>) -> LegEnd {
    LegEnd {
        final_status: Some(FinalStatus {
            code,
            reason: reason.into(),
        }),
        cancel,
        ..leg(LegEndCause::FinalResponse)
    }
}

fn answered(cause: LegEndCause, cancel: Option<CancelCause>) -> LegEnd {
    LegEnd {
        final_status: Some(FinalStatus {
            code: 200,
            reason: "OK".into(),
        }),
        answered: true,
        cancel,
        ..leg(cause)
    }
}

#[test]
fn final_responses_keep_their_dispositions_and_reason_phrases() {
    let cases = [
        (486, "Busy Here", Disposition::Busy),
        (600, "Busy Everywhere", Disposition::Busy),
        (480, "Temporarily Unavailable", Disposition::NoAnswer),
        (408, "Request Timeout", Disposition::NoAnswer),
        (487, "Request Terminated", Disposition::NoAnswer),
        (403, "Forbidden", Disposition::Rejected),
        (603, "Decline", Disposition::Rejected),
        (488, "Not Acceptable Here", Disposition::Rejected),
        (404, "Not Found", Disposition::InvalidNumber),
        (484, "Address Incomplete", Disposition::InvalidNumber),
        (604, "Does Not Exist Anywhere", Disposition::InvalidNumber),
        (401, "Unauthorized", Disposition::Unauthorized),
        (
            407,
            "Proxy Authentication Required",
            Disposition::Unauthorized,
        ),
        (500, "Server Internal Error", Disposition::Failed),
        (503, "Service Unavailable", Disposition::Failed),
    ];
    for (code, phrase, want) in cases {
        let (d, reason, by) = judge(&refused(code, phrase, None));
        assert_eq!(
            (d, reason.as_str(), by),
            (want, phrase, None),
            "status {code}"
        );
    }
}

#[test]
fn a_487_after_our_cancel_is_no_answer_at_the_dial_timeout_and_cancelled_at_a_hangup() {
    assert_eq!(
        judge(&refused(
            487,
            "Request Terminated",
            Some(CancelCause::DialTimeout)
        )),
        (Disposition::NoAnswer, "dial timeout".into(), None)
    );
    assert_eq!(
        judge(&refused(
            487,
            "Request Terminated",
            Some(CancelCause::Hangup)
        )),
        (Disposition::Cancelled, "Request Terminated".into(), None)
    );
}

#[test]
fn another_final_response_racing_our_cancel_keeps_its_own_disposition() {
    assert_eq!(
        judge(&refused(486, "Busy Here", Some(CancelCause::DialTimeout))).0,
        Disposition::Busy
    );
    assert_eq!(
        judge(&refused(
            503,
            "Service Unavailable",
            Some(CancelCause::Hangup)
        ))
        .0,
        Disposition::Failed
    );
}

#[test]
fn timer_b_and_transport_errors_fail_saying_which() {
    assert_eq!(
        judge(&leg(LegEndCause::TimerB)),
        (Disposition::Failed, "timer B".into(), None)
    );
    let silent = LegEnd {
        provisional_seen: false,
        ..leg(LegEndCause::TimerB)
    };
    assert_eq!(
        judge(&silent),
        (Disposition::Failed, "no response (timer B)".into(), None)
    );
    assert_eq!(
        judge(&leg(LegEndCause::TransportError)),
        (Disposition::Failed, "transport error".into(), None)
    );
}

#[test]
fn no_final_response_after_cancel_is_no_answer_or_cancelled_by_why_we_cancelled() {
    let after = |cancel| LegEnd {
        cancel,
        ..leg(LegEndCause::NoFinalResponseAfterCancel)
    };
    let reason = "no final response after CANCEL".to_string();
    assert_eq!(
        judge(&after(Some(CancelCause::DialTimeout))),
        (Disposition::NoAnswer, reason.clone(), None)
    );
    assert_eq!(
        judge(&after(Some(CancelCause::Hangup))),
        (Disposition::Cancelled, reason, None)
    );
}

#[test]
fn answered_calls_are_answered_whoever_sends_the_bye() {
    assert_eq!(
        judge(&answered(LegEndCause::LocalBye(ByeCause::Hangup), None)),
        (
            Disposition::Answered,
            "normal clearing".into(),
            Some(HangupBy::Local)
        )
    );
    assert_eq!(
        judge(&answered(
            LegEndCause::LocalBye(ByeCause::ReinviteUnacknowledged),
            None
        )),
        (
            Disposition::Answered,
            "no ACK for our answer to a re-INVITE".into(),
            Some(HangupBy::Local)
        )
    );
    assert_eq!(
        judge(&answered(LegEndCause::RemoteBye, None)),
        (
            Disposition::Answered,
            "callee hung up".into(),
            Some(HangupBy::Remote)
        )
    );
}

#[test]
fn an_answer_after_our_cancel_ends_as_the_cancel_would_have() {
    let cause = || LegEndCause::LocalBye(ByeCause::AnsweredAfterCancel);
    assert_eq!(
        judge(&answered(cause(), Some(CancelCause::DialTimeout))),
        (
            Disposition::NoAnswer,
            "answered after CANCEL".into(),
            Some(HangupBy::Local)
        )
    );
    assert_eq!(
        judge(&answered(cause(), Some(CancelCause::Hangup))),
        (
            Disposition::Cancelled,
            "answered after CANCEL".into(),
            Some(HangupBy::Local)
        )
    );
}

#[test]
fn an_unusable_answer_and_a_call_never_placed_fail() {
    let unusable = LegEnd {
        final_status: Some(FinalStatus {
            code: 200,
            reason: "OK".into(),
        }),
        ..leg(LegEndCause::UnusableAnswer {
            error: "no Contact".into(),
        })
    };
    assert_eq!(
        judge(&unusable),
        (Disposition::Failed, "unusable 2xx: no Contact".into(), None)
    );
    let o = CallOutcome::failed("invalid call: no host");
    assert_eq!(
        (o.disposition, o.reason.as_str(), o.sip_code, o.hangup_by),
        (Disposition::Failed, "invalid call: no host", None, None)
    );
}

#[test]
fn the_outcome_carries_the_legs_figures() {
    let end = LegEnd {
        peer_fault: Some(PeerFault::Unavailable {
            retry_after: Some(30),
        }),
        ..refused(503, "Service Unavailable", None)
    };
    let o = CallOutcome::from_leg(end);
    assert_eq!(o.sip_code, Some(503));
    assert_eq!(o.call_id, "abc@127.0.0.1");
    assert_eq!((o.setup_ms, o.talk_ms), (120, 0));
    assert_eq!(
        o.peer_fault,
        Some(PeerFault::Unavailable {
            retry_after: Some(30)
        })
    );
}
