//! The demo's agent path, a "service desk": a queue, a few agents created through the REST API
//! whose softphones ([`super::agents`]) register with digest, and a call campaign with the
//! queue's id, so that every answered callee is bridged to one of them. The summary says how
//! many calls each agent took, how long callees waited for an agent, and how many gave up.

use super::agents::{self, Phone, PhoneConfig};
use super::{sample, TOKEN};
use crate::domain::{Campaign, Campaigncall, Disposition, Username};
use crate::store::{Docs, Store};
use anyhow::Context as _;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The agents, in the order they are created (more than these are `agentN`).
const NAMES: [(&str, &str); 6] = [
    ("alice", "Alice Ames"),
    ("bob", "Bob Brown"),
    ("carol", "Carol Chen"),
    ("dave", "Dave Diaz"),
    ("erin", "Erin Evans"),
    ("frank", "Frank Fox"),
];
/// How long a callee waits for an agent before the call is `abandoned`, ms.
pub const WAIT_TIMEOUT_MS: u64 = 8000;
/// An agent's rest between calls, ms.
const WRAP_UP_MS: u64 = 500;
/// Calls in progress (dialing or waiting) per available agent, percent.
const SERVICE_LEVEL: u32 = 100;
/// Calls at once beyond one per agent (the campaign's `max_concurrent` counts talking calls
/// too): one dialing ahead while every agent talks keeps waits short.
const SPARE_CALLS: u32 = 1;
/// How long the phones have to register before the demo gives up on them.
const REGISTER_WITHIN: Duration = Duration::from_secs(10);

/// What the desk is made of.
#[derive(Debug, Clone, Copy)]
pub struct DeskOptions {
    /// Agents (softphones).
    pub agents: u32,
    /// Targets of its campaign.
    pub targets: u32,
}

/// The desk, running.
pub struct Desk {
    /// Its campaign (in `run`, not yet started).
    pub campaign: Campaign,
    /// Its queue's routing method.
    pub routing: String,
    /// Agent id, name, and the phone registered as it.
    agents: Vec<(Uuid, String, Phone)>,
}

/// Creates the queue and the agents through the API at `api`, registers a phone for each at
/// `sip`, waits until every agent shows `available`, and writes the campaign.
pub async fn open(
    store: &dyn Store,
    api: SocketAddr,
    sip: SocketAddr,
    options: DeskOptions,
) -> anyhow::Result<Desk> {
    let client = Api {
        http: reqwest::Client::new(),
        base: format!("http://{api}/v1.0"),
    };
    let routing = "longest_idle".to_string();
    let queue = client
        .send(
            reqwest::Method::POST,
            "/queues",
            json!({"name": "service desk", "routing_method": routing,
                   "wait_timeout": WAIT_TIMEOUT_MS, "wrap_up_time": WRAP_UP_MS}),
        )
        .await?;
    let queue_id: Uuid = id_of(&queue)?;
    let phone = PhoneConfig {
        ring: Duration::from_millis(300),
        talk_min: Duration::from_secs(2),
        talk_max: Duration::from_secs(3),
    };
    let mut agents = Vec::new();
    for i in 0..options.agents as usize {
        let (user, name) = match NAMES.get(i) {
            Some((u, n)) => (u.to_string(), n.to_string()),
            None => (format!("agent{}", i + 1), format!("Agent {}", i + 1)),
        };
        let username = Username::parse(&user)?;
        let password = crate::sip::build::random_token(20);
        let agent = client
            .send(
                reqwest::Method::POST,
                "/agents",
                json!({"username": user, "password": password, "name": name}),
            )
            .await?;
        let id = id_of(&agent)?;
        client
            .send(
                reqwest::Method::PUT,
                &format!("/agents/{id}/status"),
                json!({"status": "available"}),
            )
            .await?;
        let registered = agents::register(sip, &username, &password, phone)
            .await
            .with_context(|| format!("agent {user}'s phone"))?;
        agents.push((id, name, registered));
    }
    let deadline = Instant::now() + REGISTER_WITHIN;
    for (id, name, _) in &agents {
        loop {
            let agent = client.get(&format!("/agents/{id}")).await?;
            if agent["status"] == "available" {
                break;
            }
            if Instant::now() > deadline {
                anyhow::bail!("{name} registered but shows {}", agent["status"]);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let numbers: Vec<String> = (0..options.targets)
        .map(|i| format!("{}{:06}", super::trunk::WAITING_NUMBERS, 100_000 + i))
        .collect();
    let plan = sample::Plan {
        dial_timeout: 4000,
        try_interval: 2000,
        max_tries: 2,
    };
    let mut campaign = sample::create(store, &numbers, plan, Vec::new()).await?;
    campaign.name = "service desk".into();
    campaign.detail = "order follow-up calls, handed to an agent".into();
    campaign.queue_id = queue_id;
    campaign.service_level = SERVICE_LEVEL;
    campaign.max_concurrent = options.agents + SPARE_CALLS;
    Docs(store).put(&campaign).await?;
    Ok(Desk {
        campaign,
        routing,
        agents,
    })
}

/// The desk's figures at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeskSummary {
    /// Per agent (in creation order): name, calls connected, ms talking with callees, and its
    /// phone's count of RTP packets sent and heard back.
    pub agents: Vec<(String, u64, u64, u64, u64)>,
    /// Answered callees.
    pub answered: u64,
    /// Of those, connected to an agent.
    pub connected: u64,
    /// Of those, gave up waiting (or waited out the queue's timeout).
    pub abandoned: u64,
    /// Answer → agent connected, ms, of every connected call.
    pub waits: Vec<u64>,
}

impl DeskSummary {
    /// The share of answered callees who abandoned, percent.
    pub fn abandon_rate(&self) -> f64 {
        if self.answered == 0 {
            0.0
        } else {
            self.abandoned as f64 * 100.0 / self.answered as f64
        }
    }

    /// Prints the summary, one line per agent.
    pub fn print(&self, desk: &Desk) {
        println!(
            "\nservice desk: {} agents on softphones (registered with digest), queue routing {}, wait timeout {} s",
            self.agents.len(),
            desk.routing,
            WAIT_TIMEOUT_MS / 1000
        );
        for (name, calls, talk_ms, sent, heard) in &self.agents {
            println!(
                "agent {name}: {calls} calls connected, {:.1} s with callees, heard {heard} of {sent} packets back through the relay",
                *talk_ms as f64 / 1000.0
            );
        }
        let avg = match self.waits.len() {
            0 => 0,
            n => self.waits.iter().sum::<u64>() / n as u64,
        };
        println!(
            "waits: {} answered callees, {} connected to an agent, {} abandoned (abandon rate {:.1} %); wait for an agent avg {avg} ms, max {} ms",
            self.answered,
            self.connected,
            self.abandoned,
            self.abandon_rate(),
            self.waits.iter().max().unwrap_or(&0)
        );
    }
}

/// Reads the figures of the desk's campaign from its calls, and its phones' counts.
pub async fn summary(store: &dyn Store, desk: &Desk) -> anyhow::Result<DeskSummary> {
    let calls = super::all_calls(store, desk.campaign.id).await?;
    Ok(summarise(&calls, desk))
}

fn summarise(calls: &[Campaigncall], desk: &Desk) -> DeskSummary {
    let mut per_agent: BTreeMap<Uuid, (u64, u64)> = BTreeMap::new();
    let mut s = DeskSummary::default();
    for call in calls {
        match (call.disposition, call.agent_id) {
            (Some(Disposition::Answered), Some(agent)) => {
                let entry = per_agent.entry(agent).or_default();
                entry.0 += 1;
                // A call's talk runs from the callee's answer, its wait included.
                entry.1 += call.talk_ms.saturating_sub(call.wait_ms.unwrap_or(0));
                s.answered += 1;
                s.connected += 1;
                s.waits.extend(call.wait_ms);
            }
            (Some(Disposition::Answered), None) => s.answered += 1,
            (Some(Disposition::Abandoned), _) => {
                s.answered += 1;
                s.abandoned += 1;
            }
            _ => {}
        }
    }
    s.agents = desk
        .agents
        .iter()
        .map(|(id, name, phone)| {
            let (calls, talk) = per_agent.get(id).copied().unwrap_or_default();
            let f = phone.figures();
            (name.clone(), calls, talk, f.rtp_sent, f.rtp_heard)
        })
        .collect();
    s
}

/// The node's REST API as the demo's operator uses it.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}?token={TOKEN}", self.base);
        let resp = self
            .http
            .request(method.clone(), &url)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        Self::answer(method, path, resp).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}?token={TOKEN}", self.base);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Self::answer(reqwest::Method::GET, path, resp).await
    }

    async fn answer(
        method: reqwest::Method,
        path: &str,
        resp: reqwest::Response,
    ) -> anyhow::Result<Value> {
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            anyhow::bail!("{method} {path}: {status} {body}");
        }
        Ok(body)
    }
}

fn id_of(v: &Value) -> anyhow::Result<Uuid> {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no id in {v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abandon_rate_is_the_share_of_answered_callees_who_gave_up() {
        let s = DeskSummary {
            answered: 8,
            abandoned: 2,
            ..DeskSummary::default()
        };
        assert_eq!(s.abandon_rate(), 25.0);
        assert_eq!(DeskSummary::default().abandon_rate(), 0.0);
    }
}
