//! Client transactions that only wait out their last timer, parked in a compact form.
//!
//! Once a 2xx has been passed up, an INVITE client transaction (RFC 6026's Accepted state)
//! neither sends nor times anything but timer M (64·T1, 32 s): it only recognises
//! retransmissions of the 2xx (passed up, so that the call re-sends its ACK) and absorbs
//! anything else for its branch. A non-INVITE client transaction in Completed (a BYE answered)
//! only absorbs retransmitted responses until timer K (T4, 5 s). What that needs is the branch,
//! the call it belongs to and the deadline, not the whole transaction with its request: at
//! 10,000 calls/s, 320,000 accepted INVITEs are held at once. The last timer is the same for
//! every transaction of a kind, so deadlines come in the order the transactions were parked and
//! expire from the front of a queue, with no timer heap entry each.

use super::CallHandle;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::time::Instant;

use crate::fast::FastMap;

/// Parked transactions of one kind (one last timer).
#[derive(Debug, Default)]
pub(super) struct Parked {
    /// The branch's hash (seeded at random per endpoint, so a peer cannot aim at an entry)
    /// → the call the transaction belonged to (`None` once it had no owner).
    by_branch: FastMap<u64, Option<CallHandle>>,
    /// (timer M's deadline, branch hash), oldest first.
    expiry: VecDeque<(Instant, u64)>,
    hasher: foldhash::fast::RandomState,
}

impl Parked {
    /// Parks the transaction of `branch` until `until`.
    pub(super) fn park(&mut self, branch: &str, owner: Option<CallHandle>, until: Instant) {
        let key = self.hasher.hash_one(branch);
        self.by_branch.insert(key, owner);
        self.expiry.push_back((until, key));
    }

    /// The transaction of `branch`, if one is parked: `Some(owner)`.
    pub(super) fn find(&self, branch: &str) -> Option<Option<CallHandle>> {
        if self.by_branch.is_empty() {
            return None;
        }
        self.by_branch.get(&self.hasher.hash_one(branch)).copied()
    }

    /// Drops every transaction whose timer M has fired by `now`.
    pub(super) fn expire(&mut self, now: Instant) {
        while let Some(&(at, key)) = self.expiry.front() {
            if at > now {
                break;
            }
            self.expiry.pop_front();
            self.by_branch.remove(&key);
        }
        if self.expiry.is_empty() && self.expiry.capacity() > 1024 {
            // A burst is over: give its memory back.
            self.expiry.shrink_to(1024);
            self.by_branch.shrink_to(1024);
        }
    }

    /// The next deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.expiry.front().map(|(at, _)| *at)
    }

    /// How many are parked.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.expiry.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_parked_transaction_is_found_by_its_branch_until_its_deadline() {
        let t0 = Instant::now();
        let mut a = Parked::default();
        a.park(
            "z9hG4bK1",
            Some(CallHandle(7)),
            t0 + Duration::from_secs(32),
        );
        a.park("z9hG4bK2", None, t0 + Duration::from_secs(33));
        assert_eq!(a.find("z9hG4bK1"), Some(Some(CallHandle(7))));
        assert_eq!(a.find("z9hG4bK2"), Some(None));
        assert_eq!(a.find("z9hG4bK3"), None);
        assert_eq!(a.next_deadline(), Some(t0 + Duration::from_secs(32)));
        a.expire(t0 + Duration::from_secs(32));
        assert_eq!(a.find("z9hG4bK1"), None);
        assert_eq!(a.find("z9hG4bK2"), Some(None));
        assert_eq!(a.len(), 1);
        a.expire(t0 + Duration::from_secs(40));
        assert_eq!(a.len(), 0);
        assert_eq!(a.next_deadline(), None);
    }
}
