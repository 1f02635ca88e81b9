//! What the node knows of each agent right now: its state and its registered contacts. The
//! agents' actors (and the registrar) write it; the API reads it to answer `status` and
//! `contacts`. Readers get copies, never a lock.

use super::state::{AgentFigures, AgentState};
use crate::domain::event::{EventType, NewEvent, Sink};
use crate::domain::{Dialable, RingMethod, SipUri};
use crate::sip::uri::TransportKind;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use uuid::Uuid;

/// One registered contact of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Contact {
    /// The Contact URI the softphone registered, parsed: calls to the agent go there.
    #[serde(serialize_with = "as_text")]
    #[schema(value_type = String)]
    pub uri: SipUri,
    /// When the binding expires (a `tm_*` string).
    pub expires_at: String,
    /// The softphone's User-Agent, if it sent one.
    pub user_agent: String,
    /// Where its REGISTER came from: requests to the contact go there (through any NAT).
    #[serde(skip)]
    pub flow: SocketAddr,
    /// The transport its REGISTER came over.
    #[serde(skip)]
    pub transport: TransportKind,
}

fn as_text<S: Serializer>(uri: &SipUri, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(uri)
}

/// An agent as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLive {
    /// Its state.
    pub state: AgentState,
    /// Its registered contacts.
    pub contacts: Vec<Contact>,
    /// Its tenant (what queues route by, never shown).
    #[serde(skip)]
    pub customer_id: Uuid,
    /// Its tags (what queues route by, never shown).
    #[serde(skip)]
    pub tag_ids: Vec<Uuid>,
    /// The figures routing strategies weigh (never shown).
    #[serde(skip)]
    pub figures: AgentFigures,
    /// How its contacts are rung (shown on its document, not here).
    #[serde(skip)]
    pub ring_method: RingMethod,
    /// Its `tel` and `sip` addresses, rung after its registered contacts (shown on its
    /// document, not here).
    #[serde(skip)]
    pub addresses: Vec<Dialable>,
}

impl AgentLive {
    /// An agent nobody has heard of: no binding.
    pub fn offline() -> AgentLive {
        AgentLive {
            state: AgentState::Offline,
            contacts: Vec::new(),
            customer_id: Uuid::nil(),
            tag_ids: Vec::new(),
            figures: AgentFigures::default(),
            ring_method: RingMethod::default(),
            addresses: Vec::new(),
        }
    }
}

/// Read access to the live agents.
pub trait LiveAgents: Send + Sync {
    /// What is known of `agent` now (offline with no contacts when nothing is).
    fn live(&self, agent: Uuid) -> AgentLive;
    /// The state of every agent known now (for the metrics).
    fn states(&self) -> Vec<AgentState> {
        Vec::new()
    }
}

/// The live agents of one node, kept in memory.
#[derive(Debug, Default)]
pub struct AgentBoard {
    agents: Mutex<HashMap<Uuid, AgentLive>>,
    /// Told of each change of an agent's state or contacts (`agent_updated`).
    pub events: Sink,
}

impl AgentBoard {
    /// Records what `agent` is now.
    pub fn set(&self, agent: Uuid, live: AgentLive) {
        let Ok(mut agents) = self.agents.lock() else {
            return;
        };
        let offline = AgentLive::offline();
        let before = agents.get(&agent).unwrap_or(&offline);
        let changed = before.state != live.state || before.contacts != live.contacts;
        if changed {
            self.events.record(|| NewEvent {
                customer_id: live.customer_id,
                kind: EventType::AgentUpdated,
                resource_id: agent.to_string(),
                data: serde_json::json!({
                    "id": agent,
                    "customer_id": live.customer_id,
                    "status": live.state,
                    "contacts": live.contacts,
                })
                .to_string(),
            });
        }
        agents.insert(agent, live);
    }

    /// Every agent known now, with what it is (a copy).
    pub fn all(&self) -> Vec<(Uuid, AgentLive)> {
        self.agents
            .lock()
            .map(|agents| agents.iter().map(|(id, a)| (*id, a.clone())).collect())
            .unwrap_or_default()
    }

    /// Forgets `agent` (deleted): it reads as offline again.
    pub fn remove(&self, agent: Uuid) {
        if let Ok(mut agents) = self.agents.lock() {
            agents.remove(&agent);
        }
    }
}

impl LiveAgents for AgentBoard {
    fn live(&self, agent: Uuid) -> AgentLive {
        self.agents
            .lock()
            .ok()
            .and_then(|agents| agents.get(&agent).cloned())
            .unwrap_or_else(AgentLive::offline)
    }

    fn states(&self) -> Vec<AgentState> {
        self.agents
            .lock()
            .map(|agents| agents.values().map(|a| a.state).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_agent_reads_offline_and_a_set_one_reads_back() {
        let board = AgentBoard::default();
        let id = Uuid::new_v4();
        assert_eq!(board.live(id), AgentLive::offline());
        let live = AgentLive {
            state: AgentState::Available,
            contacts: vec![Contact {
                uri: SipUri::parse("sip:alice@127.0.0.1:5062").expect("a SIP URI"),
                expires_at: "2026-01-01 00:00:00.000000".into(),
                user_agent: String::new(),
                flow: SocketAddr::from(([127, 0, 0, 1], 5062)),
                transport: TransportKind::Udp,
            }],
            ..AgentLive::offline()
        };
        board.set(id, live.clone());
        assert_eq!(board.live(id), live);
        let shown = serde_json::to_value(&live).map_err(|e| e.to_string());
        assert_eq!(
            shown.map(|v| v["contacts"][0]["uri"].clone()),
            Ok(serde_json::json!("sip:alice@127.0.0.1:5062"))
        );
        board.remove(id);
        assert_eq!(board.live(id).state, AgentState::Offline);
    }

    #[test]
    fn a_change_of_state_or_contacts_is_an_agent_updated_event_and_a_repeat_is_none() {
        use crate::domain::event::Recorded;
        let board = AgentBoard::default();
        let seen = std::sync::Arc::new(Recorded::default());
        board.events.set(seen.clone());
        let id = Uuid::new_v4();
        board.set(id, AgentLive::offline());
        assert!(seen.types().is_empty(), "offline as before");
        let available = AgentLive {
            state: AgentState::Available,
            ..AgentLive::offline()
        };
        board.set(id, available.clone());
        board.set(id, available);
        assert_eq!(seen.types(), [EventType::AgentUpdated]);
        let event = seen.0.lock().expect("events")[0].clone();
        assert_eq!(event.resource_id, id.to_string());
        let data: serde_json::Value = serde_json::from_str(&event.data).expect("JSON");
        assert_eq!(data["status"], "available");
    }
}
