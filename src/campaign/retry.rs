//! Which destination to dial next and what becomes of a target after an attempt: pure.
//!
//! Slot 0 is tried until its `max_try_count_0` is spent, then slot 1, and so on (failover).
//! A disposition the outplan retries (by default busy, no_answer, failed, unknown) leaves the
//! target waiting `try_interval` (times `backoff` per earlier try) while any slot has tries
//! left; `answered` ends it `success`, any other disposition ends it `fail`.

use crate::domain::outplan::SLOTS;
use crate::domain::{Disposition, Outplan};
use crate::store::TargetNext;

/// The slot the next try of a target goes to, if any try is left.
pub fn next_slot(
    max_tries: [u32; SLOTS],
    tries: [u32; SLOTS],
    present: [bool; SLOTS],
) -> Option<usize> {
    (0..SLOTS).find(|&i| present[i] && tries[i] < max_tries[i])
}

/// What becomes of a target whose attempt ended with `disposition` at `now_ms`. `tries` are
/// the counts including the attempt that just ended.
pub fn after_attempt(
    outplan: &Outplan,
    tries: [u32; SLOTS],
    present: [bool; SLOTS],
    disposition: Disposition,
    now_ms: i64,
) -> TargetNext {
    if disposition.reached() {
        return TargetNext::Done("success");
    }
    let retried = if outplan.retry_dispositions.is_empty() {
        Outplan::DEFAULT_RETRY.contains(&disposition)
    } else {
        outplan.retry_dispositions.contains(&disposition)
    };
    if !retried || next_slot(outplan.max_tries(), tries, present).is_none() {
        return TargetNext::Done("fail");
    }
    let made: u32 = tries.iter().sum();
    let factor = outplan
        .backoff
        .max(1.0)
        .powi(made.saturating_sub(1).min(30) as i32);
    let wait = (outplan.try_interval as f64 * factor).min(30.0 * 24.0 * 3600.0 * 1000.0);
    TargetNext::RetryAt(now_ms + wait as i64)
}

/// A retry moved to the first of the outplan's `retry_at` local times (in `zone`, the
/// callee's) at or after the time its interval gave; anything else unchanged.
pub fn at_local_time(
    next: TargetNext,
    times: &[chrono::NaiveTime],
    zone: chrono_tz::Tz,
) -> TargetNext {
    match next {
        TargetNext::RetryAt(at) if !times.is_empty() => {
            let Some(earliest) = chrono::DateTime::from_timestamp_millis(at) else {
                return next;
            };
            TargetNext::RetryAt(
                super::window::next_local_time(times, zone, earliest)
                    .map_or(at, |t| t.timestamp_millis()),
            )
        }
        other => other,
    }
}

/// The local times an outplan moves its retries to (`retry_at`; unreadable ones skipped:
/// they are checked when the outplan is written).
pub fn retry_times(outplan: &Outplan) -> Vec<chrono::NaiveTime> {
    outplan
        .retry_at
        .iter()
        .filter_map(|t| crate::domain::call_window::parse_time("retry_at", t).ok())
        .collect()
}

/// The zone a callee's local times are read in: its first zone, else the outplan's
/// `timezone`, else UTC.
pub fn callee_zone(zones: &[chrono_tz::Tz], outplan_timezone: &str) -> chrono_tz::Tz {
    zones
        .first()
        .copied()
        .or_else(|| outplan_timezone.parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC)
}

/// What becomes of a target after an attempt, its retry moved to the outplan's `retry_at`
/// local times in the callee's zone: [`after_attempt`] then [`at_local_time`]. The one rule
/// for an attempt that ended while the campaign ran and for one a restart closed.
pub fn after_attempt_local(
    outplan: &Outplan,
    times: &[chrono::NaiveTime],
    zone: chrono_tz::Tz,
    tries: [u32; SLOTS],
    present: [bool; SLOTS],
    disposition: Disposition,
    now_ms: i64,
) -> TargetNext {
    let next = after_attempt(outplan, tries, present, disposition, now_ms);
    at_local_time(next, times, zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn outplan(max: [u32; SLOTS]) -> Outplan {
        Outplan {
            id: Uuid::nil(),
            customer_id: Uuid::nil(),
            name: String::new(),
            detail: String::new(),
            source: Default::default(),
            dial_timeout: 30_000,
            try_interval: 60_000,
            max_try_count_0: max[0],
            max_try_count_1: max[1],
            max_try_count_2: max[2],
            max_try_count_3: max[3],
            max_try_count_4: max[4],
            retry_dispositions: Vec::new(),
            backoff: 1.0,
            dnclist_ids: Vec::new(),
            call_window: None,
            timezone: String::new(),
            sources: Vec::new(),
            source_strategy: Default::default(),
            retry_at: Vec::new(),
            tm_create: String::new(),
            tm_update: String::new(),
            tm_delete: String::new(),
        }
    }

    const TWO: [bool; SLOTS] = [true, true, false, false, false];

    #[test]
    fn slot_zero_is_spent_before_slot_one_and_missing_slots_are_skipped() {
        let max = [2, 1, 0, 0, 0];
        assert_eq!(next_slot(max, [0; SLOTS], TWO), Some(0));
        assert_eq!(next_slot(max, [1, 0, 0, 0, 0], TWO), Some(0));
        assert_eq!(next_slot(max, [2, 0, 0, 0, 0], TWO), Some(1));
        assert_eq!(next_slot(max, [2, 1, 0, 0, 0], TWO), None);
        assert_eq!(
            next_slot(max, [2, 0, 0, 0, 0], [true, false, false, false, false]),
            None
        );
    }

    #[test]
    fn busy_waits_the_try_interval_while_tries_remain_then_fails() {
        let o = outplan([2, 0, 0, 0, 0]);
        let present = [true, false, false, false, false];
        assert_eq!(
            after_attempt(&o, [1, 0, 0, 0, 0], present, Disposition::Busy, 1_000),
            TargetNext::RetryAt(61_000)
        );
        assert_eq!(
            after_attempt(&o, [2, 0, 0, 0, 0], present, Disposition::Busy, 1_000),
            TargetNext::Done("fail")
        );
    }

    #[test]
    fn answered_succeeds_and_final_dispositions_fail_at_once() {
        let o = outplan([3, 0, 0, 0, 0]);
        let p = [true, false, false, false, false];
        let one = [1, 0, 0, 0, 0];
        assert_eq!(
            after_attempt(&o, one, p, Disposition::Answered, 0),
            TargetNext::Done("success")
        );
        assert_eq!(
            after_attempt(&o, one, p, Disposition::InvalidNumber, 0),
            TargetNext::Done("fail")
        );
        assert_eq!(
            after_attempt(&o, one, p, Disposition::Rejected, 0),
            TargetNext::Done("fail")
        );
        assert_eq!(
            after_attempt(&o, one, p, Disposition::Unknown, 0),
            TargetNext::RetryAt(60_000)
        );
    }

    #[test]
    fn an_outplan_may_choose_what_is_retried_and_back_off() {
        let mut o = outplan([5, 0, 0, 0, 0]);
        o.retry_dispositions = vec![Disposition::NoAnswer];
        o.backoff = 2.0;
        let p = [true, false, false, false, false];
        assert_eq!(
            after_attempt(&o, [1, 0, 0, 0, 0], p, Disposition::Busy, 0),
            TargetNext::Done("fail")
        );
        assert_eq!(
            after_attempt(&o, [1, 0, 0, 0, 0], p, Disposition::NoAnswer, 0),
            TargetNext::RetryAt(60_000)
        );
        assert_eq!(
            after_attempt(&o, [3, 0, 0, 0, 0], p, Disposition::NoAnswer, 0),
            TargetNext::RetryAt(240_000)
        );
    }

    #[test]
    fn a_retry_waits_for_the_next_local_call_back_time() {
        let five = [chrono::NaiveTime::from_hms_opt(17, 0, 0).expect("time")];
        let tokyo = chrono_tz::Asia::Tokyo;
        // 2026-06-10 01:00 UTC is 10:00 in Tokyo: back at 17:00 there, 08:00 UTC.
        let at = 1_781_053_200_000;
        assert_eq!(
            at_local_time(TargetNext::RetryAt(at), &five, tokyo),
            TargetNext::RetryAt(at + 7 * 3_600_000)
        );
        assert_eq!(
            at_local_time(TargetNext::RetryAt(at), &[], tokyo),
            TargetNext::RetryAt(at)
        );
        assert_eq!(
            at_local_time(TargetNext::Done("fail"), &five, tokyo),
            TargetNext::Done("fail")
        );
    }

    #[test]
    fn failover_to_slot_one_after_slot_zero_is_spent() {
        let o = outplan([1, 1, 0, 0, 0]);
        assert_eq!(
            after_attempt(&o, [1, 0, 0, 0, 0], TWO, Disposition::NoAnswer, 0),
            TargetNext::RetryAt(60_000)
        );
        assert_eq!(next_slot(o.max_tries(), [1, 0, 0, 0, 0], TWO), Some(1));
    }
}
