//! One deadline queue for every timer of the endpoint: transactions, dial timeouts and CANCEL
//! guards share it, so ten thousand calls cost one heap, not ten thousand sleeping tasks.
//! Entries are never removed early; a popped entry that no longer matches its owner's armed
//! deadline is simply skipped.

use super::CallHandle;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What a deadline wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Wake {
    /// A transaction's own timer, armed for the given instant.
    Tx(u64, Instant),
    /// The call's dial timeout: CANCEL if still unanswered.
    DialTimeout(CallHandle),
    /// 64·T1 after a CANCEL: give up on the INVITE transaction (RFC 3261 §9.1).
    CancelGuard(CallHandle),
    /// The end of an interval of unwanted traffic: log its summary.
    UnwantedSummary,
    /// The earliest registrar binding expiry, armed for the given instant.
    BindingExpiry(Instant),
    /// The next round of qualify OPTIONS to registered contacts.
    Qualify,
}

/// A min-heap of deadlines.
#[derive(Debug, Default)]
pub(super) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, Wake)>>,
}

impl TimerQueue {
    /// Schedules `wake` at `at`.
    pub(super) fn push(&mut self, at: Instant, wake: Wake) {
        self.heap.push(Reverse((at, wake)));
    }

    /// Removes and returns the earliest entry due at or before `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Wake> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, w))| w),
            _ => None,
        }
    }

    /// How many entries are queued, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Keeps only the entries for which `live` holds.
    pub(super) fn retain(&mut self, mut live: impl FnMut(&Wake) -> bool) {
        self.heap.retain(|Reverse((_, w))| live(w));
    }

    /// The earliest deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }
}
