//! The node's agents as the SIP registrar and the live board see them: one task that gives
//! the registrar each agent's credential (its HA1 hashes, never a password), follows the
//! registrar's binding changes, runs each agent's state machine on them and on the status the
//! agent sets, and publishes the result (state and contacts) on the board the API reads.
//!
//! Changes come in one queue, in the order the API stored them, so that a rename followed by a
//! delete cannot reach the registrar the other way round. The queues' calls to agents (offered,
//! answered, rejected, rung out, withdrawn, ended) come through the same queue, so that each
//! agent's machine sees them in order and the board shows it ringing, busy or wrapping up.

use super::live::{AgentBoard, AgentLive, Contact};
use super::state::{AgentInput, AgentMachine, AgentRules};
use crate::domain::agent::Agent;
use crate::sip::registrar::Registration;
use crate::sip::registrar::{Binding, Credential};
use crate::sip::transport::EndpointHandle;
use crate::store::{Docs, Document, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

/// What the API tells the node of an agent it has just stored.
pub trait AgentChanges: Send + Sync {
    /// `agent` was created, changed or deleted (its `tm_delete` set to a real time), as stored.
    fn stored(&self, agent: &Agent);
}

/// Tells nobody (an API without a SIP endpoint, as in tests of the API alone).
#[derive(Debug, Default)]
pub struct NoAgentChanges;

impl AgentChanges for NoAgentChanges {
    fn stored(&self, _: &Agent) {}
}

/// What the directory's queue carries.
#[derive(Debug)]
enum Change {
    /// An agent as the API stored it.
    Stored(Box<Agent>),
    /// What a queue's call did to an agent.
    Call(Uuid, AgentInput),
}

/// The sending side of the directory's queue.
#[derive(Debug, Clone)]
pub struct AgentDirectory {
    changes: mpsc::UnboundedSender<Change>,
}

impl AgentChanges for AgentDirectory {
    fn stored(&self, agent: &Agent) {
        if self
            .changes
            .send(Change::Stored(Box::new(agent.clone())))
            .is_err()
        {
            tracing::error!(agent = %agent.id, "the agent directory has stopped");
        }
    }
}

impl AgentDirectory {
    /// A queue's call to `agent` did `input` (one of the call inputs of [`AgentInput`]).
    pub fn call(&self, agent: Uuid, input: AgentInput) {
        if self.changes.send(Change::Call(agent, input)).is_err() {
            tracing::error!(%agent, "the agent directory has stopped");
        }
    }
}

/// One agent as the directory follows it.
struct Followed {
    username: String,
    customer_id: Uuid,
    tag_ids: Vec<Uuid>,
    ring_method: crate::domain::RingMethod,
    /// Its `tel` and `sip` addresses: an agent with one can be rung without a binding.
    addresses: Vec<crate::domain::Dialable>,
    machine: AgentMachine,
    contacts: Vec<Contact>,
}

impl Followed {
    /// Whether it can be rung: a binding, or an address to call.
    fn reachable(&self) -> bool {
        !self.contacts.is_empty() || !self.addresses.is_empty()
    }

    /// Tells its machine whether it can be rung now.
    fn follow_reach(&mut self, agent: Uuid, now: Instant) {
        let input = if self.reachable() {
            AgentInput::Registered
        } else {
            AgentInput::Unregistered
        };
        if let Err(e) = self.machine.handle(now, input) {
            tracing::debug!(%agent, error = %e, "reachability not applied");
        }
    }
}

/// The task's state.
struct Directory {
    store: Arc<dyn Store>,
    endpoint: EndpointHandle,
    board: Arc<AgentBoard>,
    realm: String,
    rules: AgentRules,
    agents: HashMap<Uuid, Followed>,
}

impl AgentDirectory {
    /// Loads every agent the store holds, hands their credentials to the registrar and
    /// follows them from then on (a task on the current runtime, for the life of the node).
    pub async fn start(
        store: Arc<dyn Store>,
        endpoint: EndpointHandle,
        board: Arc<AgentBoard>,
        realm: String,
    ) -> anyhow::Result<AgentDirectory> {
        let registrations = endpoint.registrations();
        let mut directory = Directory {
            store: store.clone(),
            endpoint,
            board,
            realm,
            rules: AgentRules::default(),
            agents: HashMap::new(),
        };
        let docs = Docs(store.as_ref());
        for status in ["available", "away"] {
            let agents: Vec<Agent> = docs.with_status(status).await?;
            for agent in agents {
                directory.stored(agent).await;
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(directory.run(rx, registrations));
        Ok(AgentDirectory { changes: tx })
    }
}

impl Directory {
    async fn run(
        mut self,
        mut changes: mpsc::UnboundedReceiver<Change>,
        mut registrations: broadcast::Receiver<Registration>,
    ) {
        loop {
            // The next wrap-up to end (an hour away when none: the select needs a branch).
            let wake = self
                .agents
                .values()
                .filter_map(|f| f.machine.poll_timeout())
                .min()
                .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(3600));
            tokio::select! {
                change = changes.recv() => match change {
                    Some(Change::Stored(agent)) => self.stored(*agent).await,
                    Some(Change::Call(agent, input)) => self.call(agent, input),
                    None => return,
                },
                () = tokio::time::sleep_until(wake.into()) => self.tick(),
                registration = registrations.recv() => match registration {
                    Ok(r) => self.registered(r),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "registration changes missed; reading every agent's bindings again");
                        self.resync().await;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// An agent as just stored: its credential to the registrar, its status to its machine.
    async fn stored(&mut self, agent: Agent) {
        tracing::debug!(agent = %agent.id, username = %agent.username, "agent stored");
        let deleted = Document::deleted(&agent);
        let username = agent.username.as_str().to_string();
        let old = self.agents.get(&agent.id).map(|f| f.username.clone());
        if let Some(old) = old.filter(|old| deleted || *old != username) {
            self.unregister(&old).await;
        }
        if deleted {
            self.agents.remove(&agent.id);
            self.board.remove(agent.id);
            return;
        }
        let hashes = &agent.password_hashes;
        if hashes.realm == self.realm && !hashes.ha1_md5.is_empty() {
            let credential = Credential {
                owner: agent.id,
                username: username.clone(),
                ha1_md5: hashes.ha1_md5.clone(),
                ha1_sha256: hashes.ha1_sha256.clone(),
            };
            match self.endpoint.set_credential(credential).await {
                Ok(()) => tracing::debug!(agent = %agent.id, "credential given to the registrar"),
                Err(e) => {
                    tracing::error!(agent = %agent.id, error = %e, "cannot give the registrar an agent's credential")
                }
            }
        } else {
            // Hashed for another realm (the realm was changed since): it cannot register
            // until its password is set again.
            tracing::warn!(agent = %agent.id, username, realm = hashes.realm, "agent's password is hashed for another realm; set it again to let it register");
            self.unregister(&username).await;
        }
        let rules = self.rules;
        let now = Instant::now();
        let followed = self.agents.entry(agent.id).or_insert_with(|| Followed {
            username: username.clone(),
            customer_id: agent.customer_id,
            tag_ids: Vec::new(),
            ring_method: agent.ring_method,
            addresses: Vec::new(),
            machine: AgentMachine::new(rules, agent.status),
            contacts: Vec::new(),
        });
        followed.username = username;
        followed.tag_ids = agent.tag_ids.clone();
        followed.ring_method = agent.ring_method;
        let addresses: Vec<_> = agent
            .addresses
            .iter()
            .filter_map(|a| a.dialable())
            .collect();
        if addresses != followed.addresses {
            let was = followed.reachable();
            followed.addresses = addresses;
            if was != followed.reachable() {
                followed.follow_reach(agent.id, now);
            }
        }
        if followed.machine.availability() != agent.status {
            if let Err(e) = followed
                .machine
                .handle(now, AgentInput::SetStatus(agent.status))
            {
                tracing::debug!(agent = %agent.id, error = %e, "status not applied");
            }
        }
        self.publish(agent.id);
    }

    /// A queue's call did `input` to `agent`.
    fn call(&mut self, agent: Uuid, input: AgentInput) {
        let Some(followed) = self.agents.get_mut(&agent) else {
            return;
        };
        match followed.machine.handle(Instant::now(), input) {
            Ok(t) => {
                if let Some(status) = t.availability {
                    // Rang out too often: away until it says otherwise, as its document says.
                    tracing::info!(%agent, status = ?status, "agent set away after offers in a row went unanswered");
                    self.store_status(agent, status);
                }
            }
            Err(e) => tracing::debug!(%agent, error = %e, "call event not applied"),
        }
        self.publish(agent);
    }

    /// Writes the status the agent's machine chose onto its document.
    fn store_status(&self, agent: Uuid, status: crate::domain::Availability) {
        let store = self.store.clone();
        tokio::spawn(async move {
            let docs = Docs(store.as_ref());
            match docs.get::<Agent>(None, agent).await {
                Ok(Some(mut stored)) => {
                    stored.status = status;
                    stored.tm_update = crate::domain::time::now_string();
                    if let Err(e) = docs.put(&stored).await {
                        tracing::error!(%agent, error = %e, "cannot store the agent's status");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!(%agent, error = %e, "cannot read the agent"),
            }
        });
    }

    /// Wrap-ups that are over.
    fn tick(&mut self) {
        let now = Instant::now();
        let due: Vec<Uuid> = self
            .agents
            .iter()
            .filter(|(_, f)| f.machine.poll_timeout().is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for agent in due {
            self.call(agent, AgentInput::Tick);
        }
    }

    async fn unregister(&self, username: &str) {
        if let Err(e) = self.endpoint.remove_credential(username).await {
            tracing::error!(username, error = %e, "cannot remove an agent's credential");
        }
    }

    /// The registrar's word on an agent's contacts.
    fn registered(&mut self, r: Registration) {
        let Some(followed) = self.agents.get_mut(&r.owner) else {
            return;
        };
        followed.contacts = r.contacts.iter().map(contact).collect();
        followed.follow_reach(r.owner, Instant::now());
        self.publish(r.owner);
    }

    /// After missed changes: every followed agent's bindings read from the registrar.
    async fn resync(&mut self) {
        let users: Vec<(Uuid, String)> = self
            .agents
            .iter()
            .map(|(id, f)| (*id, f.username.clone()))
            .collect();
        for (owner, username) in users {
            match self.endpoint.bindings(&username).await {
                Ok(contacts) => self.registered(Registration {
                    owner,
                    username,
                    contacts,
                }),
                Err(e) => tracing::error!(username, error = %e, "cannot read bindings"),
            }
        }
    }

    fn publish(&self, agent: Uuid) {
        if let Some(f) = self.agents.get(&agent) {
            self.board.set(
                agent,
                AgentLive {
                    state: f.machine.state(),
                    contacts: f.contacts.clone(),
                    customer_id: f.customer_id,
                    tag_ids: f.tag_ids.clone(),
                    figures: f.machine.figures(),
                    ring_method: f.ring_method,
                    addresses: f.addresses.clone(),
                },
            );
        }
    }
}

/// A binding as the API shows it.
fn contact(b: &Binding) -> Contact {
    let left = b.expires_at.saturating_duration_since(Instant::now());
    let expires = chrono::Utc::now() + chrono::Duration::from_std(left).unwrap_or_default();
    Contact {
        uri: b.contact.clone(),
        expires_at: expires.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        user_agent: String::new(),
        flow: b.flow,
        transport: b.transport,
    }
}
