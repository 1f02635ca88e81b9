//! What a campaign with a queue knows for pacing its dials against the queue's agents: the
//! agents' phases and since when (from snapshots of the agent board), its own measures, and
//! from them the limit of its dial mode. Pure: the campaign actor feeds it snapshots, events
//! and `now` (ms since the campaign started).

use super::pacing::PacingInput;
use super::predictive::{
    calls_to_have, calls_to_take_back, AgentPhase, AgentView, Measures, Ms, Pace,
    PredictiveSettings, Situation,
};
use crate::agent::{AgentLive, AgentState};
use crate::domain::{DialMode, Queue};
use std::collections::HashMap;
use uuid::Uuid;

/// A campaign's attempts as its pacing counts them.
#[derive(Debug, Clone, Default)]
pub struct CallsNow {
    /// When each call still ringing was dialed.
    pub ringing: Vec<Ms>,
    /// Answered calls not yet connected to an agent.
    pub waiting: u32,
}

impl CallsNow {
    /// These calls and the queue's `agents` at `now`, as predictive pacing weighs them.
    fn situation<'a>(&'a self, now: Ms, agents: &'a [AgentView]) -> Situation<'a> {
        Situation {
            now,
            agents,
            ringing: &self.ringing,
            waiting: self.waiting,
        }
    }
}

/// The pacing state of a campaign with a queue.
#[derive(Debug, Clone)]
pub struct AgentPacing {
    mode: DialMode,
    service_level: u32,
    settings: PredictiveSettings,
    /// What the campaign measured of its own calls.
    pub measures: Measures,
    /// Each agent's phase as last seen, and since when.
    phases: HashMap<Uuid, (AgentPhase, Ms)>,
    /// How the last predictive decision was reached (logged when it changes).
    pub last_pace: Option<Pace>,
}

impl AgentPacing {
    /// Pacing in `mode` (`service_level` for power) with `settings`.
    pub fn new(mode: DialMode, service_level: u32, settings: PredictiveSettings) -> AgentPacing {
        AgentPacing {
            mode,
            service_level,
            settings,
            measures: Measures::default(),
            phases: HashMap::new(),
            last_pace: None,
        }
    }

    /// The settings it paces with.
    pub fn settings(&self) -> &PredictiveSettings {
        &self.settings
    }

    /// The agents of `queue` in `snapshot` as pacing sees them: of its tenant, registered,
    /// carrying every tag of the queue; each agent's phase dated from when it was first seen
    /// in it.
    pub fn observe(
        &mut self,
        now: Ms,
        queue: &Queue,
        snapshot: &[(Uuid, AgentLive)],
    ) -> Vec<AgentView> {
        let mut views = Vec::new();
        for (id, live) in snapshot {
            let serves = live.customer_id == queue.customer_id
                && !live.contacts.is_empty()
                && queue.tag_ids.iter().all(|t| live.tag_ids.contains(t));
            if !serves {
                continue;
            }
            let phase = phase_of(live.state);
            let since = match self.phases.get(id) {
                Some(&(seen, since)) if seen == phase => since,
                _ => {
                    self.phases.insert(*id, (phase, now));
                    now
                }
            };
            views.push(AgentView { phase, since });
        }
        views
    }

    /// Which calls still ringing to take back now (indices into `calls.ringing`): predictive
    /// mode with a minimum ring time only.
    pub fn take_back(&mut self, now: Ms, agents: &[AgentView], calls: &CallsNow) -> Vec<usize> {
        if self.mode != DialMode::Predictive {
            return Vec::new();
        }
        self.measures.expire(now, self.settings.abandon_window_ms);
        calls_to_take_back(
            &self.settings,
            &self.measures,
            &calls.situation(now, agents),
        )
    }

    /// Sets the dial mode's limit on `input`: progressive and power through `agents`
    /// (available agents and the level), predictive through `predicted`.
    pub fn limit(
        &mut self,
        now: Ms,
        agents: &[AgentView],
        calls: &CallsNow,
        input: &mut PacingInput,
    ) {
        let available = agents
            .iter()
            .filter(|a| a.phase == AgentPhase::Available)
            .count() as u32;
        match self.mode {
            DialMode::Progressive => input.agents = Some((available, 100)),
            DialMode::Power => input.agents = Some((available, self.service_level)),
            DialMode::Predictive => {
                self.measures.expire(now, self.settings.abandon_window_ms);
                let decision = calls_to_have(
                    &self.settings,
                    &self.measures,
                    &calls.situation(now, agents),
                );
                self.last_pace = Some(decision.pace);
                input.predicted = Some(decision.calls);
            }
        }
    }
}

/// An agent's state as pacing weighs it: an agent being rung takes a call already answered
/// (counted waiting), so it counts as available for it.
pub fn phase_of(state: AgentState) -> AgentPhase {
    match state {
        AgentState::Available | AgentState::Ringing => AgentPhase::Available,
        AgentState::Busy => AgentPhase::OnCall,
        AgentState::WrapUp => AgentPhase::WrapUp,
        AgentState::Offline | AgentState::Away => AgentPhase::Away,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentFigures, Contact};
    use crate::domain::SipUri;
    use crate::sip::uri::TransportKind;

    fn agent(customer: Uuid, state: AgentState, tags: Vec<Uuid>) -> AgentLive {
        AgentLive {
            state,
            contacts: vec![Contact {
                uri: SipUri::parse("sip:a@127.0.0.1:5070").expect("a SIP URI"),
                expires_at: String::new(),
                user_agent: String::new(),
                flow: std::net::SocketAddr::from(([127, 0, 0, 1], 5070)),
                transport: TransportKind::Udp,
            }],
            customer_id: customer,
            tag_ids: tags,
            figures: AgentFigures::default(),
            ring_method: Default::default(),
            addresses: Vec::new(),
        }
    }

    fn queue(customer: Uuid, tags: Vec<Uuid>) -> Queue {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::new_v4(), "customer_id": customer, "name": "q", "detail": "",
            "routing_method": "random", "tag_ids": tags, "wait_flow_id": Uuid::nil(),
            "wait_actions": [], "wait_timeout": 0, "service_timeout": 0, "wrap_up_time": 0,
            "total_incoming_count": 0, "total_serviced_count": 0, "total_abandoned_count": 0,
            "tm_create": "", "tm_update": "", "tm_delete": ""
        }))
        .expect("a queue")
    }

    #[test]
    fn only_the_queues_agents_count_and_their_phase_is_dated_from_its_change() {
        let (me, other, tag) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let q = queue(me, vec![tag]);
        let a = Uuid::new_v4();
        let mut pacing = AgentPacing::new(DialMode::Power, 200, PredictiveSettings::default());
        let mut snapshot = vec![
            (a, agent(me, AgentState::Busy, vec![tag])),
            (Uuid::new_v4(), agent(me, AgentState::Available, vec![])),
            (
                Uuid::new_v4(),
                agent(other, AgentState::Available, vec![tag]),
            ),
        ];
        let seen = pacing.observe(1_000, &q, &snapshot);
        assert_eq!(
            seen,
            vec![AgentView {
                phase: AgentPhase::OnCall,
                since: 1_000
            }]
        );
        assert_eq!(pacing.observe(5_000, &q, &snapshot)[0].since, 1_000);
        snapshot[0].1.state = AgentState::WrapUp;
        assert_eq!(
            pacing.observe(9_000, &q, &snapshot)[0],
            AgentView {
                phase: AgentPhase::WrapUp,
                since: 9_000
            }
        );
    }

    #[test]
    fn each_mode_sets_its_own_limit() {
        let agents = [
            AgentView {
                phase: AgentPhase::Available,
                since: 0,
            },
            AgentView {
                phase: AgentPhase::Available,
                since: 0,
            },
            AgentView {
                phase: AgentPhase::OnCall,
                since: 0,
            },
        ];
        let calls = CallsNow::default();
        for (mode, expect) in [
            (DialMode::Progressive, Some((2, 100))),
            (DialMode::Power, Some((2, 250))),
        ] {
            let mut input = PacingInput::default();
            AgentPacing::new(mode, 250, PredictiveSettings::default())
                .limit(0, &agents, &calls, &mut input);
            assert_eq!((input.agents, input.predicted), (expect, None));
        }
        let mut input = PacingInput::default();
        AgentPacing::new(DialMode::Predictive, 250, PredictiveSettings::default())
            .limit(0, &agents, &calls, &mut input);
        // Nothing measured yet: one call per available agent.
        assert_eq!((input.agents, input.predicted), (None, Some(2)));
    }
}
