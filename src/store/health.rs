//! Whether the store can write: set by the writer when a commit fails and when one succeeds
//! again, read by every campaign before it places a call and by the API.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The store's ability to write, shared by the writer, the campaigns and the API.
#[derive(Debug, Default)]
pub struct StoreHealth {
    failing: AtomicBool,
    /// Why the last commit failed and when, while failing.
    failure: Mutex<Option<StoreFailure>>,
}

/// Why the store cannot write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StoreFailure {
    /// The database's error.
    pub reason: String,
    /// When the first failed commit happened (a `tm_*` string).
    pub since: String,
}

impl StoreHealth {
    /// Whether the last commit succeeded (no call is placed otherwise).
    pub fn writable(&self) -> bool {
        !self.failing.load(Ordering::Acquire)
    }

    /// Why the store cannot write, while it cannot.
    pub fn failure(&self) -> Option<StoreFailure> {
        if self.writable() {
            return None;
        }
        self.lock().clone()
    }

    /// A commit failed for `reason`.
    pub fn failed(&self, reason: &str) {
        let mut failure = self.lock();
        match failure.as_mut() {
            Some(f) => f.reason = reason.to_string(),
            None => {
                *failure = Some(StoreFailure {
                    reason: reason.to_string(),
                    since: crate::domain::time::now_string(),
                })
            }
        }
        self.failing.store(true, Ordering::Release);
    }

    /// A commit succeeded.
    pub fn recovered(&self) {
        self.failing.store(false, Ordering::Release);
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<StoreFailure>> {
        match self.failure.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_first_time_and_its_latest_reason_until_recovered() {
        let h = StoreHealth::default();
        assert!(h.writable() && h.failure().is_none());
        h.failed("database or disk is full");
        let since = h.failure().expect("failing").since;
        h.failed("disk I/O error");
        let f = h.failure().expect("still failing");
        assert_eq!((f.reason.as_str(), f.since), ("disk I/O error", since));
        h.recovered();
        assert!(h.writable() && h.failure().is_none());
    }
}
