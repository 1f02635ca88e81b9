//! A simulated shift for comparing dial modes, pure and deterministic (seeded): agents take
//! answered calls first in, first out; callees answer at a drifting rate after a random
//! time; an answered callee with no agent within the safe-harbour time is abandoned. Each
//! dial decision is the product's own: [`dials_to_place`] with the agents' limit of the
//! mode, and for predictive mode [`calls_to_have`] over the shift's own measures. What
//! `ringmaster simulate` prints.

use super::pacing::{dials_to_place, PacingInput};
use super::predictive::{
    calls_to_have, calls_to_take_back, AgentPhase, AgentView, Measures, Ms, PredictiveSettings,
    Situation, DEFAULT_MIN_RING_MS,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// The shift simulated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// Agents logged in the whole shift.
    pub agents: u32,
    /// The answer rate on average over the shift, 0 to 1.
    pub answer_rate: f64,
    /// How much the answer rate falls from start to end, relative (0.4: from 1.2× to 0.8×).
    pub drift: f64,
    /// Answered calls answer after a uniform time between these (ms).
    pub answer_min_ms: Ms,
    pub answer_max_ms: Ms,
    /// Unanswered calls: this share fails fast (busy, 1–5 s), the others ring out.
    pub fail_fast: f64,
    /// When unanswered calls give up (the dial timeout).
    pub ring_out_ms: Ms,
    /// Mean talk time (Erlang-2 distributed).
    pub talk_mean_ms: Ms,
    /// Wrap-up after each call (the queue's wrap-up time).
    pub wrap_up_ms: Ms,
    /// The shift's length.
    pub length_ms: Ms,
    /// An answered callee with no agent within this long is abandoned.
    pub harbour_ms: Ms,
    /// Predictive pacing's reserve (see [`PredictiveSettings::safety`]).
    pub safety: f64,
    /// Predictive pacing takes back calls that have rung this long when no agent is
    /// predicted for them (see [`PredictiveSettings::min_ring_ms`]; `None`: never).
    pub min_ring_ms: Option<Ms>,
    /// The random seed.
    pub seed: u64,
}

impl Default for Shift {
    /// 20 agents, 35 % answers after 4–20 s, 90 s handle time (80 s talk, 10 s wrap-up), 4 h.
    fn default() -> Self {
        Shift {
            agents: 20,
            answer_rate: 0.35,
            drift: 0.3,
            answer_min_ms: 4_000,
            answer_max_ms: 20_000,
            fail_fast: 0.3,
            ring_out_ms: 30_000,
            talk_mean_ms: 80_000,
            wrap_up_ms: 10_000,
            length_ms: 4 * 3_600_000,
            harbour_ms: 2_000,
            safety: super::predictive::DEFAULT_SAFETY,
            min_ring_ms: Some(DEFAULT_MIN_RING_MS),
            seed: 1,
        }
    }
}

/// A pacing rule to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// One call not yet connected per available agent.
    Progressive,
    /// `service_level` percent of available agents, counting calls not yet connected.
    Power(u32),
    /// Predictive under this abandon cap (percent), taking back calls that have rung the
    /// shift's minimum ring time when no agent is predicted for them.
    Predictive(f64),
    /// Predictive under this abandon cap (percent), never taking a call back.
    PredictiveNoTakeBack(f64),
    /// VoIPBIN's: `dialing < available × service_level / 100`, connected calls counted.
    Voipbin(u32),
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Progressive => write!(f, "progressive"),
            Rule::Power(l) => write!(f, "power {l} %"),
            Rule::Predictive(cap) => write!(f, "predictive (cap {cap} %)"),
            Rule::PredictiveNoTakeBack(cap) => {
                write!(f, "predictive (cap {cap} %), no take-back")
            }
            Rule::Voipbin(l) => write!(f, "VoIPBIN rule {l} %"),
        }
    }
}

/// What a shift gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The rule.
    pub rule: Rule,
    /// Share of the agents' time on calls or in wrap-up, percent.
    pub occupancy: f64,
    /// Abandoned of answered calls, percent.
    pub abandon_rate: f64,
    /// Minutes each agent waited for a call, per hour.
    pub idle_min_per_hour: f64,
    /// Calls connected to an agent per agent hour.
    pub calls_per_agent_hour: f64,
    /// Dials placed.
    pub dials: u64,
    /// Calls answered.
    pub answered: u64,
    /// Calls abandoned.
    pub abandoned: u64,
    /// Dials taken back (cancelled while ringing): neither answered nor abandoned.
    pub taken_back: u64,
}

/// Steps of the simulated clock: calls move and dial decisions are taken once a step.
const STEP_MS: Ms = 250;

#[derive(Clone, Copy)]
struct Dial {
    at: Ms,
    /// When it is answered, or when it ends unanswered.
    answer_at: Option<Ms>,
    end_at: Ms,
}

#[derive(Clone, Copy)]
struct Agent {
    phase: AgentPhase,
    since: Ms,
    /// When the current talk or wrap-up ends.
    until: Ms,
}

/// Runs one shift under `rule`.
pub fn run(shift: &Shift, rule: Rule) -> Report {
    let mut rng = StdRng::seed_from_u64(shift.seed);
    let settings = PredictiveSettings {
        harbour_ms: shift.harbour_ms,
        wrap_up_ms: shift.wrap_up_ms,
        safety: shift.safety,
        abandon_rate_cap: match rule {
            Rule::Predictive(cap) | Rule::PredictiveNoTakeBack(cap) => cap,
            _ => 0.0,
        },
        min_ring_ms: match rule {
            Rule::Predictive(_) => shift.min_ring_ms,
            _ => None,
        },
        ..PredictiveSettings::default()
    };
    let mut measures = Measures::default();
    let mut agents = vec![
        Agent {
            phase: AgentPhase::Available,
            since: 0,
            until: 0,
        };
        shift.agents as usize
    ];
    let mut ringing: Vec<Dial> = Vec::new();
    // Answered callees waiting for an agent: when they answered.
    let mut waiting: VecDeque<Ms> = VecDeque::new();
    let mut connected: u32 = 0;
    let (mut dials, mut answered, mut abandoned, mut served) = (0u64, 0u64, 0u64, 0u64);
    let mut taken_back = 0u64;
    let mut busy_ms: u64 = 0;
    let mut now: Ms = 0;
    while now < shift.length_ms {
        now += STEP_MS;
        // Agents end talks and wrap-ups.
        for a in agents.iter_mut() {
            match a.phase {
                AgentPhase::OnCall if a.until <= now => {
                    measures.talked(a.until - a.since);
                    connected -= 1;
                    *a = Agent {
                        phase: AgentPhase::WrapUp,
                        since: a.until,
                        until: a.until + shift.wrap_up_ms,
                    };
                    if shift.wrap_up_ms == 0 {
                        a.phase = AgentPhase::Available;
                    }
                }
                AgentPhase::WrapUp if a.until <= now => {
                    *a = Agent {
                        phase: AgentPhase::Available,
                        since: a.until,
                        until: 0,
                    };
                }
                _ => {}
            }
        }
        // Calls answer or end.
        ringing.retain(|d| match d.answer_at {
            Some(at) if at <= now => {
                measures.answered(at - d.at);
                answered += 1;
                waiting.push_back(at);
                false
            }
            None if d.end_at <= now => {
                measures.unanswered(d.end_at - d.at);
                false
            }
            _ => true,
        });
        // Waiting callees go to the agents free longest; those past the safe harbour leave.
        while let Some(&answered_at) = waiting.front() {
            if now.saturating_sub(answered_at) > shift.harbour_ms {
                waiting.pop_front();
                abandoned += 1;
                measures.served(now, true);
                continue;
            }
            let free = agents
                .iter_mut()
                .filter(|a| a.phase == AgentPhase::Available)
                .min_by_key(|a| a.since);
            let Some(agent) = free else { break };
            waiting.pop_front();
            let talk = erlang2(&mut rng, shift.talk_mean_ms);
            busy_ms += talk + shift.wrap_up_ms;
            *agent = Agent {
                phase: AgentPhase::OnCall,
                since: now,
                until: now + talk,
            };
            connected += 1;
            served += 1;
            measures.served(now, false);
        }
        measures.expire(now, settings.abandon_window_ms);
        // The dial decision, as a campaign takes it.
        let available = agents
            .iter()
            .filter(|a| a.phase == AgentPhase::Available)
            .count() as u32;
        let not_connected = ringing.len() as u32 + waiting.len() as u32;
        let mut input = PacingInput {
            ready: u32::MAX,
            campaign_in_flight: not_connected + connected,
            campaign_connected: connected,
            trunk_max_concurrent: u32::MAX,
            tokens: u32::MAX,
            ..PacingInput::default()
        };
        match rule {
            Rule::Progressive => input.agents = Some((available, 100)),
            Rule::Power(level) => input.agents = Some((available, level)),
            Rule::Voipbin(level) => {
                input.agents = Some((available, level));
                input.campaign_connected = 0;
            }
            Rule::Predictive(_) | Rule::PredictiveNoTakeBack(_) => {
                let views: Vec<AgentView> = agents
                    .iter()
                    .map(|a| AgentView {
                        phase: a.phase,
                        since: a.since,
                    })
                    .collect();
                // Calls taken back first, from what is known now (how long each has rung,
                // never whether or when it would answer); the dial decision then sees the
                // calls still ringing.
                let dialed: Vec<Ms> = ringing.iter().map(|d| d.at).collect();
                let situation = Situation {
                    now,
                    agents: &views,
                    ringing: &dialed,
                    waiting: waiting.len() as u32,
                };
                let mut back = calls_to_take_back(&settings, &measures, &situation);
                if !back.is_empty() {
                    back.sort_unstable();
                    for &i in back.iter().rev() {
                        let d = ringing.remove(i);
                        measures.taken_back(now - d.at);
                        taken_back += 1;
                    }
                }
                let dialed: Vec<Ms> = ringing.iter().map(|d| d.at).collect();
                let decision = calls_to_have(
                    &settings,
                    &measures,
                    &Situation {
                        ringing: &dialed,
                        ..situation
                    },
                );
                input.predicted = Some(decision.calls);
                input.campaign_in_flight = ringing.len() as u32 + waiting.len() as u32 + connected;
            }
        }
        for _ in 0..dials_to_place(&input) {
            dials += 1;
            ringing.push(dial(&mut rng, shift, now));
        }
    }
    // Talks still running at the end count only up to it.
    for a in &agents {
        match a.phase {
            AgentPhase::OnCall => {
                busy_ms -= (a.until - now) + shift.wrap_up_ms;
            }
            AgentPhase::WrapUp => busy_ms -= a.until.saturating_sub(now),
            _ => {}
        }
    }
    let agent_ms = f64::from(shift.agents) * shift.length_ms as f64;
    let agent_hours = agent_ms / 3_600_000.0;
    let occupancy = 100.0 * busy_ms as f64 / agent_ms;
    Report {
        rule,
        occupancy,
        abandon_rate: if answered == 0 {
            0.0
        } else {
            100.0 * abandoned as f64 / answered as f64
        },
        idle_min_per_hour: 60.0 * (1.0 - occupancy / 100.0),
        calls_per_agent_hour: served as f64 / agent_hours,
        dials,
        answered,
        abandoned,
        taken_back,
    }
}

/// One dial placed at `now`: whether and when it answers, or when it ends unanswered.
fn dial(rng: &mut StdRng, shift: &Shift, now: Ms) -> Dial {
    let progress = now as f64 / shift.length_ms.max(1) as f64;
    let rate = (shift.answer_rate * (1.0 + shift.drift * (0.5 - progress))).clamp(0.0, 1.0);
    if rng.gen_bool(rate) {
        let at = now + rng.gen_range(shift.answer_min_ms..=shift.answer_max_ms);
        Dial {
            at: now,
            answer_at: Some(at),
            end_at: at,
        }
    } else {
        let ring = if rng.gen_bool(shift.fail_fast) {
            rng.gen_range(1_000..=5_000)
        } else {
            shift.ring_out_ms
        };
        Dial {
            at: now,
            answer_at: None,
            end_at: now + ring,
        }
    }
}

/// An Erlang-2 duration of mean `mean` (the sum of two exponentials).
fn erlang2(rng: &mut StdRng, mean: Ms) -> Ms {
    let half = mean as f64 / 2.0;
    let e = |rng: &mut StdRng| -half * (1.0 - rng.gen::<f64>()).ln();
    (e(rng) + e(rng)).max(1_000.0) as Ms
}

/// The rules the comparison runs: progressive, power at a few ratios, predictive under
/// `cap`, and VoIPBIN's rule.
pub fn rules(cap: f64) -> Vec<Rule> {
    vec![
        Rule::Progressive,
        Rule::Power(150),
        Rule::Power(200),
        Rule::Power(300),
        Rule::PredictiveNoTakeBack(cap),
        Rule::Predictive(cap),
        Rule::Voipbin(100),
        Rule::Voipbin(200),
    ]
}

/// The reports as a Markdown table.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| rule | occupancy | abandon rate | agent idle (min/h) | calls per agent hour | dials | answered | abandoned | taken back |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in reports {
        out.push_str(&format!(
            "| {} | {:.1} % | {:.2} % | {:.1} | {:.1} | {} | {} | {} | {} |\n",
            r.rule,
            r.occupancy,
            r.abandon_rate,
            r.idle_min_per_hour,
            r.calls_per_agent_hour,
            r.dials,
            r.answered,
            r.abandoned,
            r.taken_back
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short shift: 20 agents for an hour.
    fn short() -> Shift {
        Shift {
            agents: 20,
            length_ms: 3_600_000,
            ..Shift::default()
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_shift() {
        let a = run(&short(), Rule::Power(200));
        let b = run(&short(), Rule::Power(200));
        assert_eq!(a, b);
    }

    #[test]
    fn predictive_keeps_agents_busier_than_progressive_and_voipbin_under_the_cap() {
        let shift = short();
        let progressive = run(&shift, Rule::Progressive);
        let voipbin = run(&shift, Rule::Voipbin(100));
        let predictive = run(&shift, Rule::Predictive(3.0));
        assert!(
            predictive.occupancy > progressive.occupancy + 10.0,
            "{predictive:?} {progressive:?}"
        );
        assert!(
            predictive.occupancy > voipbin.occupancy + 10.0,
            "{predictive:?} {voipbin:?}"
        );
        assert!(predictive.abandon_rate <= 3.0, "{predictive:?}");
        // Progressive hardly ever leaves an answered callee without an agent.
        assert!(progressive.abandon_rate < 1.0, "{progressive:?}");
    }
}
