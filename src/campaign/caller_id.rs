//! Which caller id a call carries when its outplan gives several (`sources`): pure, over the
//! pool's usage so far and a random number the caller draws.
//!
//! `local_presence` picks a source in the callee's country and area: for NANP numbers the same
//! `+1` and three-digit area code, elsewhere the same country code and first two digits of
//! the national number. With several such sources it takes them in turn; with none (or a
//! callee that is not a number) it falls back to `round_robin` over the whole pool.

use crate::domain::{Address, AddressKind, SourceStrategy, E164};

/// What a campaign remembers of its pool between calls.
#[derive(Debug, Clone, Default)]
pub struct PoolUsage {
    /// Calls placed so far, all sources together (the round-robin position).
    turns: u64,
    /// Calls placed with each source.
    used: Vec<u64>,
}

impl PoolUsage {
    /// How many calls carried source `i`.
    pub fn used(&self, i: usize) -> u64 {
        self.used.get(i).copied().unwrap_or(0)
    }
}

/// The area prefix a number shares with its local sources (`+1NPA`, or the country code and
/// two national digits).
fn area(number: &E164) -> Option<String> {
    let text = number.as_str();
    if text.starts_with("+1") {
        return text.get(..5).map(str::to_string);
    }
    let code = phonenumber::parse(None, text).ok()?.code().value();
    let len = 1 + code.to_string().len() + 2;
    text.get(..len).map(str::to_string)
}

/// The index in `sources` of the caller id for a call to `callee`, counted in `usage`.
/// `random` is any number the caller drew (used by `random` only). `sources` must not be
/// empty.
pub fn choose(
    strategy: SourceStrategy,
    sources: &[Address],
    callee: &Address,
    usage: &mut PoolUsage,
    random: u64,
) -> usize {
    let n = sources.len().max(1);
    if usage.used.len() < n {
        usage.used.resize(n, 0);
    }
    let round_robin = |usage: &PoolUsage| (usage.turns % n as u64) as usize;
    let pick = match strategy {
        SourceStrategy::RoundRobin => round_robin(usage),
        SourceStrategy::Random => (random % n as u64) as usize,
        SourceStrategy::LeastUsed => (0..n).min_by_key(|&i| (usage.used[i], i)).unwrap_or(0),
        SourceStrategy::LocalPresence => {
            let local: Vec<usize> = match &callee.kind {
                AddressKind::Tel(number) => match area(number) {
                    Some(a) => sources
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| {
                            matches!(&s.kind, AddressKind::Tel(n) if area(n).as_deref() == Some(a.as_str()))
                        })
                        .map(|(i, _)| i)
                        .collect(),
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
            if local.is_empty() {
                round_robin(usage)
            } else {
                // In turn among the local ones: the least used of them.
                local
                    .iter()
                    .copied()
                    .min_by_key(|&i| (usage.used[i], i))
                    .unwrap_or(0)
            }
        }
    };
    usage.turns += 1;
    usage.used[pick] += 1;
    pick
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tel(n: &str) -> Address {
        Address::tel(E164::parse(n).expect("E.164"))
    }

    fn picks(strategy: SourceStrategy, pool: &[Address], callees: &[&str]) -> Vec<usize> {
        let mut usage = PoolUsage::default();
        callees
            .iter()
            .enumerate()
            .map(|(i, c)| choose(strategy, pool, &tel(c), &mut usage, i as u64 * 7 + 3))
            .collect()
    }

    fn pool() -> Vec<Address> {
        vec![
            tel("+12125550001"), // New York
            tel("+13125550002"), // Chicago
            tel("+14155550003"), // San Francisco
        ]
    }

    #[test]
    fn round_robin_takes_each_in_turn() {
        let callees = ["+16175550100"; 5];
        assert_eq!(
            picks(SourceStrategy::RoundRobin, &pool(), &callees),
            [0, 1, 2, 0, 1]
        );
    }

    #[test]
    fn random_follows_the_number_drawn() {
        let callees = ["+16175550100"; 4];
        // Draws 3, 10, 17, 24 modulo 3.
        assert_eq!(
            picks(SourceStrategy::Random, &pool(), &callees),
            [0, 1, 2, 0]
        );
    }

    #[test]
    fn least_used_evens_out_after_local_presence_favoured_one() {
        let p = pool();
        let mut usage = PoolUsage::default();
        for _ in 0..3 {
            choose(
                SourceStrategy::LocalPresence,
                &p,
                &tel("+12125559999"),
                &mut usage,
                0,
            );
        }
        assert_eq!(usage.used(0), 3);
        let next: Vec<usize> = (0..4)
            .map(|_| {
                choose(
                    SourceStrategy::LeastUsed,
                    &p,
                    &tel("+12125559999"),
                    &mut usage,
                    0,
                )
            })
            .collect();
        assert_eq!(next, [1, 2, 1, 2]);
    }

    #[test]
    fn local_presence_matches_the_area_code_else_goes_round() {
        let callees = [
            "+13125551234",  // Chicago: source 1
            "+14155551234",  // San Francisco: source 2
            "+12125551234",  // New York: source 0
            "+17135551234",  // Houston: none local, round robin (turn 3: 0)
            "+442079460958", // London: none local, round robin (turn 4: 1)
        ];
        assert_eq!(
            picks(SourceStrategy::LocalPresence, &pool(), &callees),
            [1, 2, 0, 0, 1]
        );
        let uk = vec![tel("+441614960000"), tel("+442079460000")];
        assert_eq!(
            picks(
                SourceStrategy::LocalPresence,
                &uk,
                &["+442079461234", "+441614961234"]
            ),
            [1, 0]
        );
    }
}
