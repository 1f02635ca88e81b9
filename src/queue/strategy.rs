//! Which agent a queue offers its waiting call to next, pure: the queue's routing method over
//! a snapshot of its agents, with the randomness and the round-robin cursor passed in
//! ([`Router`]) so the same inputs always give the same answer.
//!
//! An agent can be offered a call when it is `available`, carries every tag of the queue, and
//! was not already tried for this call. Ties are broken by who was offered a call least
//! recently (never first), then by id.

use crate::agent::{AgentFigures, AgentState};
use crate::domain::{RingMethod, RoutingMethod};
use std::cmp::Ordering;
use uuid::Uuid;

/// An agent as a strategy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its id.
    pub id: Uuid,
    /// Its tags.
    pub tag_ids: Vec<Uuid>,
    /// Its state.
    pub state: AgentState,
    /// Its figures.
    pub figures: AgentFigures,
    /// When it was last offered a call, as a sequence number of the queue's offers (`None`:
    /// never).
    pub last_offered: Option<u64>,
}

/// The state a queue's routing carries from one choice to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Router {
    /// `round_robin`: the last agent offered; the next is the first after it in id order.
    pub cursor: Option<Uuid>,
    /// `random`: the generator's state (any seed; it moves on with each choice).
    pub rng: u64,
}

impl Router {
    /// A router whose random choices follow from `seed`.
    pub fn new(seed: u64) -> Router {
        Router {
            cursor: None,
            rng: seed,
        }
    }

    /// The next pseudo-random number (splitmix64).
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Whether `agent` may be offered the call: available, carrying every tag of the queue, not
/// tried yet for this call.
pub fn eligible(agent: &Candidate, queue_tags: &[Uuid], tried: &[Uuid]) -> bool {
    agent.state == AgentState::Available
        && queue_tags.iter().all(|t| agent.tag_ids.contains(t))
        && !tried.contains(&agent.id)
}

/// The agents to offer the call to now: one agent, every eligible agent for `ring_all`, or
/// none when no agent is eligible.
pub fn choose(
    method: RoutingMethod,
    queue_tags: &[Uuid],
    agents: &[Candidate],
    tried: &[Uuid],
    router: &mut Router,
) -> Vec<Uuid> {
    let mut pool: Vec<&Candidate> = agents
        .iter()
        .filter(|a| eligible(a, queue_tags, tried))
        .collect();
    if pool.is_empty() {
        return Vec::new();
    }
    pool.sort_by_key(|a| a.id);
    let chosen = match method {
        RoutingMethod::RingAll => return pool.iter().map(|a| a.id).collect(),
        RoutingMethod::Random => {
            let i = (router.next_random() % pool.len() as u64) as usize;
            pool[i]
        }
        RoutingMethod::RoundRobin => {
            let after = router.cursor;
            pool.iter()
                .find(|a| after.is_none_or(|c| a.id > c))
                .unwrap_or(&pool[0])
        }
        RoutingMethod::LongestIdle => best(&pool, |a, b| {
            // Never having had a call counts as idle the longest.
            match (a.figures.last_call_ended_at, b.figures.last_call_ended_at) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(&y),
            }
        }),
        RoutingMethod::LeastTalkTime => {
            best(&pool, |a, b| a.figures.talk_time.cmp(&b.figures.talk_time))
        }
        RoutingMethod::FewestCalls => best(&pool, |a, b| {
            a.figures.calls_handled.cmp(&b.figures.calls_handled)
        }),
    };
    router.cursor = Some(chosen.id);
    vec![chosen.id]
}

/// The first of `pool` (sorted by id) by `key`, ties to the least recently offered.
fn best<'a>(
    pool: &[&'a Candidate],
    key: impl Fn(&Candidate, &Candidate) -> Ordering,
) -> &'a Candidate {
    let offered = |a: &Candidate, b: &Candidate| match (a.last_offered, b.last_offered) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    };
    // `min_by` keeps the first of equal elements, and the pool is in id order.
    pool.iter()
        .copied()
        .min_by(|a, b| key(a, b).then_with(|| offered(a, b)))
        .unwrap_or(pool[0])
}

/// The order an agent's registered contacts are rung in: `ringall`, all of them in one step;
/// `linear`, one per step, in the order given.
pub fn ring_steps<T>(method: RingMethod, contacts: &[T]) -> Vec<&[T]> {
    if contacts.is_empty() {
        return Vec::new();
    }
    match method {
        RingMethod::Ringall => vec![contacts],
        RingMethod::Linear => contacts.chunks(1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const SALES: Uuid = Uuid::from_u128(0x5a1e5);
    const FRENCH: Uuid = Uuid::from_u128(0xf7);

    fn agent(n: u128) -> Candidate {
        Candidate {
            id: id(n),
            tag_ids: vec![SALES],
            state: AgentState::Available,
            figures: AgentFigures::default(),
            last_offered: None,
        }
    }

    fn pick(method: RoutingMethod, agents: &[Candidate], tried: &[Uuid]) -> Vec<Uuid> {
        choose(method, &[SALES], agents, tried, &mut Router::new(7))
    }

    #[test]
    fn only_available_agents_with_every_tag_not_yet_tried_are_offered() {
        let mut busy = agent(1);
        busy.state = AgentState::Busy;
        let mut untagged = agent(2);
        untagged.tag_ids = vec![FRENCH];
        let tried = agent(3);
        let mut both = agent(4);
        both.tag_ids = vec![FRENCH, SALES];
        let agents = [busy, untagged, tried, both, agent(5)];
        for method in RoutingMethod::ALL {
            let chosen = choose(
                method,
                &[SALES, FRENCH],
                &agents,
                &[id(3)],
                &mut Router::new(1),
            );
            assert_eq!(chosen, vec![id(4)], "{method:?}");
        }
        let all = pick(RoutingMethod::RingAll, &agents, &[id(3)]);
        assert_eq!(all, vec![id(4), id(5)]);
        assert!(pick(RoutingMethod::Random, &agents, &[id(3), id(4), id(5)]).is_empty());
    }

    #[test]
    fn a_queue_without_tags_takes_any_available_agent() {
        let mut a = agent(9);
        a.tag_ids.clear();
        let chosen = choose(
            RoutingMethod::FewestCalls,
            &[],
            &[a],
            &[],
            &mut Router::new(0),
        );
        assert_eq!(chosen, vec![id(9)]);
    }

    #[test]
    fn ring_all_offers_every_eligible_agent_in_id_order() {
        let agents = [agent(3), agent(1), agent(2)];
        assert_eq!(
            pick(RoutingMethod::RingAll, &agents, &[]),
            vec![id(1), id(2), id(3)]
        );
    }

    #[test]
    fn random_is_fixed_by_the_seed_and_spreads_over_the_agents() {
        let agents = [agent(1), agent(2), agent(3)];
        let run = |seed| {
            let mut router = Router::new(seed);
            (0..30)
                .map(|_| choose(RoutingMethod::Random, &[SALES], &agents, &[], &mut router)[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        let picks = run(42);
        for n in 1..=3 {
            assert!(picks.contains(&id(n)), "agent {n} never picked: {picks:?}");
        }
        // The order agents are listed in does not matter.
        let reversed = [agent(3), agent(2), agent(1)];
        let mut r1 = Router::new(5);
        let mut r2 = Router::new(5);
        assert_eq!(
            choose(RoutingMethod::Random, &[SALES], &agents, &[], &mut r1),
            choose(RoutingMethod::Random, &[SALES], &reversed, &[], &mut r2)
        );
    }

    #[test]
    fn round_robin_moves_past_the_cursor_skipping_who_cannot_take_it_and_wraps() {
        let mut agents = vec![agent(1), agent(2), agent(3)];
        let mut router = Router::new(0);
        let mut next = |agents: &[Candidate], tried: &[Uuid]| {
            choose(
                RoutingMethod::RoundRobin,
                &[SALES],
                agents,
                tried,
                &mut router,
            )
        };
        assert_eq!(next(&agents, &[]), vec![id(1)]);
        assert_eq!(next(&agents, &[]), vec![id(2)]);
        agents[2].state = AgentState::Ringing;
        assert_eq!(next(&agents, &[]), vec![id(1)], "3 is busy: wraps to 1");
        agents[2].state = AgentState::Available;
        assert_eq!(next(&agents, &[id(2)]), vec![id(3)], "2 tried: skipped");
        assert_eq!(next(&agents, &[]), vec![id(1)]);
    }

    #[test]
    fn longest_idle_prefers_never_called_then_the_earliest_end() {
        let t0 = Instant::now();
        let ended = |n, secs| {
            let mut a = agent(n);
            a.figures.last_call_ended_at = Some(t0 + Duration::from_secs(secs));
            a
        };
        let agents = [ended(1, 50), ended(2, 10), ended(3, 30)];
        assert_eq!(pick(RoutingMethod::LongestIdle, &agents, &[]), vec![id(2)]);
        assert_eq!(
            pick(RoutingMethod::LongestIdle, &agents, &[id(2)]),
            vec![id(3)]
        );
        let with_new = [ended(1, 50), agent(4), ended(2, 10)];
        assert_eq!(
            pick(RoutingMethod::LongestIdle, &with_new, &[]),
            vec![id(4)]
        );
    }

    #[test]
    fn least_talk_time_and_fewest_calls_pick_the_least_loaded() {
        let loaded = |n, talk_secs, calls| {
            let mut a = agent(n);
            a.figures.talk_time = Duration::from_secs(talk_secs);
            a.figures.calls_handled = calls;
            a
        };
        let agents = [loaded(1, 100, 1), loaded(2, 300, 9), loaded(3, 50, 5)];
        assert_eq!(
            pick(RoutingMethod::LeastTalkTime, &agents, &[]),
            vec![id(3)]
        );
        assert_eq!(pick(RoutingMethod::FewestCalls, &agents, &[]), vec![id(1)]);
        assert_eq!(
            pick(RoutingMethod::FewestCalls, &agents, &[id(1)]),
            vec![id(3)]
        );
    }

    #[test]
    fn ties_go_to_the_least_recently_offered_then_the_lowest_id() {
        let offered = |n, seq| {
            let mut a = agent(n);
            a.last_offered = seq;
            a
        };
        let agents = [
            offered(1, Some(9)),
            offered(2, Some(4)),
            offered(3, Some(6)),
        ];
        for method in [
            RoutingMethod::LongestIdle,
            RoutingMethod::LeastTalkTime,
            RoutingMethod::FewestCalls,
        ] {
            assert_eq!(pick(method, &agents, &[]), vec![id(2)], "{method:?}");
        }
        let never = [offered(5, Some(1)), offered(4, None), offered(3, None)];
        assert_eq!(pick(RoutingMethod::FewestCalls, &never, &[]), vec![id(3)]);
    }

    #[test]
    fn an_agent_rings_its_contacts_all_at_once_or_one_after_another() {
        let contacts = ["a", "b", "c"];
        assert_eq!(
            ring_steps(RingMethod::Ringall, &contacts),
            vec![&contacts[..]]
        );
        assert_eq!(
            ring_steps(RingMethod::Linear, &contacts),
            vec![&["a"][..], &["b"][..], &["c"][..]]
        );
        assert!(ring_steps::<&str>(RingMethod::Linear, &[]).is_empty());
    }
}
