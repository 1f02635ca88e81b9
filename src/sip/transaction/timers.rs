//! The armed-deadline table shared by the four transaction machines.

use std::time::Instant;

use super::Timer;

/// Every timer in declaration order; a timer's slot is its position here.
const ALL: [Timer; 12] = [
    Timer::A,
    Timer::B,
    Timer::D,
    Timer::E,
    Timer::F,
    Timer::G,
    Timer::H,
    Timer::I,
    Timer::J,
    Timer::K,
    Timer::L,
    Timer::M,
];

/// At most one armed deadline per [`Timer`]; no clock, only the instants it is given.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    armed: [Option<Instant>; 12],
}

impl Timers {
    /// Arms `timer` to fire at `at`, replacing any earlier deadline for it.
    pub fn arm(&mut self, timer: Timer, at: Instant) {
        self.armed[slot(timer)] = Some(at);
    }

    /// Disarms `timer`.
    pub fn cancel(&mut self, timer: Timer) {
        self.armed[slot(timer)] = None;
    }

    /// Disarms every timer.
    pub fn clear(&mut self) {
        self.armed = [None; 12];
    }

    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        self.armed.iter().flatten().min().copied()
    }

    /// Disarms and returns the earliest timer due at or before `now`, with its deadline.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Timer, Instant)> {
        let (index, at) = self
            .armed
            .iter()
            .enumerate()
            .filter_map(|(i, at)| at.map(|at| (i, at)))
            .filter(|&(_, at)| at <= now)
            .min_by_key(|&(_, at)| at)?;
        self.armed[index] = None;
        Some((ALL[index], at))
    }
}

/// The table slot of a timer: its declaration order, which [`ALL`] follows.
fn slot(timer: Timer) -> usize {
    timer as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn slots_match_table_order() {
        for (i, t) in ALL.iter().enumerate() {
            assert_eq!(slot(*t), i);
        }
    }

    #[test]
    fn pops_due_timers_earliest_first() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.arm(Timer::B, t0 + Duration::from_secs(32));
        timers.arm(Timer::A, t0 + Duration::from_millis(500));
        assert_eq!(timers.next(), Some(t0 + Duration::from_millis(500)));
        assert_eq!(timers.pop_due(t0), None);
        let late = t0 + Duration::from_secs(40);
        assert_eq!(
            timers.pop_due(late),
            Some((Timer::A, t0 + Duration::from_millis(500)))
        );
        assert_eq!(
            timers.pop_due(late),
            Some((Timer::B, t0 + Duration::from_secs(32)))
        );
        assert_eq!(timers.pop_due(late), None);
        timers.arm(Timer::M, late);
        timers.cancel(Timer::M);
        assert_eq!(timers.next(), None);
        timers.arm(Timer::L, late);
        timers.clear();
        assert_eq!(timers.next(), None);
    }
}
