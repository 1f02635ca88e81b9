//! Hash maps for the hot path: the SIP endpoint's transactions, calls and dialogs, a
//! campaign's attempts in flight, a batch's writes. They hash with foldhash, seeded at random
//! per map, instead of SipHash: the keys are ids, branches and Call-IDs looked up several
//! times per SIP message, where SipHash cost about 1.5 % of the node's CPU.

/// A `HashMap` hashed with foldhash, seeded at random per map.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A `HashSet` hashed with foldhash, seeded at random per set.
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
