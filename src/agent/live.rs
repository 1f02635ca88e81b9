//! What the node knows of each agent right now: its state and its registered contacts. The
//! agents' actors (and the registrar) write it; the API reads it to answer `status` and
//! `contacts`. Readers get copies, never a lock.

use super::state::AgentState;
use crate::domain::SipUri;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// One registered contact of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The Contact URI the softphone registered, parsed: calls to the agent go there.
    #[serde(serialize_with = "as_text")]
    pub uri: SipUri,
    /// When the binding expires (a `tm_*` string).
    pub expires_at: String,
    /// The softphone's User-Agent, if it sent one.
    pub user_agent: String,
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
}

impl AgentLive {
    /// An agent nobody has heard of: no binding.
    pub fn offline() -> AgentLive {
        AgentLive {
            state: AgentState::Offline,
            contacts: Vec::new(),
        }
    }
}

/// Read access to the live agents.
pub trait LiveAgents: Send + Sync {
    /// What is known of `agent` now (offline with no contacts when nothing is).
    fn live(&self, agent: Uuid) -> AgentLive;
}

/// The live agents of one node, kept in memory.
#[derive(Debug, Default)]
pub struct AgentBoard {
    agents: Mutex<HashMap<Uuid, AgentLive>>,
}

impl AgentBoard {
    /// Records what `agent` is now.
    pub fn set(&self, agent: Uuid, live: AgentLive) {
        if let Ok(mut agents) = self.agents.lock() {
            agents.insert(agent, live);
        }
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
            }],
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
}
