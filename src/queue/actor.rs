//! `QueueActor`: one queue at work. Answered calls join it and wait (first in, first out),
//! hearing the queue's wait flow (its `wait_flow_id` or `wait_actions`, round after round,
//! each round opened by their place in line when the queue asks for it). Whenever an agent
//! serving the queue is available, the queue's routing method picks one (`ring_all`: every
//! one) and the queue rings it by its ring method: its registered contacts and its `tel`/`sip`
//! addresses all at once (`ringall`) or one after another (`linear`), each for the queue's
//! ring time. The first leg to answer gets the call: the others are cancelled, the wait flow
//! stops, both legs' RTP go to a relay and the call is told who took it. An agent that rejects
//! or rings out is not offered that call again, and the call keeps waiting; a leg that hears
//! nothing back (a dead contact) is given up at the ring time like one that rang out. A call
//! waiting past the queue's wait timeout is abandoned. A BYE on either leg of a bridge ends
//! the other.
//!
//! The actors start on first use, from a [`QueueRegistry`] the node holds. The agents' states
//! come from the [`AgentBoard`]; what the queue's calls do to an agent goes to the
//! [`AgentDirectory`], which runs the agent's machine.

use super::live::{QueueBoard, QueueLive};
use super::strategy::{choose, ring_steps, Candidate, Router};
use super::waiting::WaitingList;
use crate::agent::leg::RingTarget;
use crate::agent::live::{AgentBoard, AgentLive};
use crate::agent::{AgentDirectory, AgentInput, AgentState};
use crate::domain::{Action, Dialable, Flow, Queue};
use crate::flow::{Command, Input, Runner, Variables};
use crate::media::ports::{PortLease, PortPool};
use crate::media::relay::{self, Leg, RelayConfig, RelayHandle, Side};
use crate::media::MediaHandle;
use crate::metrics::QueueWaitEnd;
use crate::sdp;
use crate::sip::endpoint::{CallEvent, CallHandle, LegEnd};
use crate::sip::transport::EndpointHandle;
use crate::store::{Docs, QueueBridge, QueueCounts, Store, StoreError};
use crate::trunk::Trunk;
use actix::prelude::*;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use uuid::Uuid;

/// How long an agent's phone rings before the offer goes to another agent, unless the queue
/// says (its `ring_timeout`).
pub const RING_TIME: Duration =
    Duration::from_millis(crate::domain::queue::DEFAULT_RING_TIMEOUT_MS);
/// How often a queue with waiting calls looks for an available agent.
const ROUTE_INTERVAL: Duration = Duration::from_millis(250);
/// After the ring time, how long a leg has to end by itself (the CANCEL and its 487) before
/// the queue gives it up: a contact that never answered anything (gone, its port closed)
/// cannot be cancelled.
const RING_GRACE: Duration = Duration::from_secs(2);
/// The pause between two rounds of a wait flow.
const ROUND_PAUSE: Duration = Duration::from_millis(500);
/// Commands a wait flow may run without waiting before the round is cut short.
const MAX_INSTANT_STEPS: usize = 64;
/// What a position announcement says.
const POSITION_TEXT: &str = "You are caller number ${queue.position}.";
/// The ids the wait flow's prompts play under (the call's own have the high bit clear).
const WAIT_PROMPT: u64 = 1 << 63;

/// Why a call could not join a queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No such queue for the call's tenant.
    #[error("no queue {0}")]
    NotFound(Uuid),
    /// The store could not be read.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What a queue tells a call it holds.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub enum QueueNews {
    /// An agent answered: the call's RTP is relayed to it.
    Connected {
        /// The agent.
        agent_id: Uuid,
        /// How long the call waited (join → agent answered).
        wait_ms: u64,
    },
    /// The call waited past the queue's wait timeout: hang it up.
    Abandoned {
        /// Why.
        reason: String,
    },
    /// The bridge is over (the agent hung up, or the service timeout): hang the call up.
    BridgeEnded {
        /// Why.
        reason: String,
    },
    /// A call connected to one agent did not reach it (not available, declined, rang out):
    /// the call keeps its media and goes on.
    Unreached {
        /// Why.
        reason: String,
    },
}

/// A call joining a queue.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    /// The call (its campaigncall).
    pub call: Uuid,
    /// Who the call is with, shown to the agent as the caller.
    pub caller: Option<Dialable>,
    /// The call's media session: handed over to the relay when an agent answers.
    pub media: MediaHandle,
    /// Our address for the agent leg when the endpoint listens on every address.
    pub local_ip: IpAddr,
    /// Where the queue's news go.
    pub reply: Recipient<QueueNews>,
    /// Record the bridge (a flow's `recording_start`).
    pub record: Option<crate::domain::RecordRequest>,
    /// The safe harbour: a call no agent has answered by then leaves the queue, its offer
    /// withdrawn, and is told [`QueueNews::Unreached`] (it kept its media to go on with).
    pub agent_deadline: Option<Instant>,
}

/// The queue's document as stored now, and its wait actions: its settings apply from now on.
#[derive(Message, Debug)]
#[rtype(result = "()")]
struct Reconfigure(Box<Queue>, Arc<[Action]>);

/// The call left (its callee hung up): it is no longer waiting, or its bridge is over.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Leave {
    /// The call.
    pub call: Uuid,
}

/// The callee made a new SDP offer (hold, resume, a new address) that the endpoint accepted:
/// the call's media, wherever the queue has it, follows.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct CalleeMedia {
    /// The call.
    pub call: Uuid,
    /// The callee's media as now negotiated.
    pub remote: sdp::RemoteMedia,
}

/// What every queue of the node works with.
pub struct QueueParts {
    /// The queues' documents and their counters.
    pub store: Arc<dyn Store>,
    /// The SIP endpoint the agent legs go through.
    pub endpoint: EndpointHandle,
    /// The agents as they are now.
    pub agents: Arc<AgentBoard>,
    /// Told what the queues' calls do to agents.
    pub directory: AgentDirectory,
    /// Where the queues show their calls.
    pub board: Arc<QueueBoard>,
    /// RTP ports for the agent legs.
    pub ports: Arc<PortPool>,
    /// How relays behave.
    pub relay: RelayConfig,
    /// The trunk agents' `tel` addresses are called through (none: they are not rung).
    pub trunk: Option<Trunk>,
    /// Where `play` finds its files.
    pub prompts_dir: PathBuf,
    /// Where spoken and downloaded prompts are cached.
    pub cache_dir: PathBuf,
}

/// The node's queues at work, started on first use.
pub struct QueueRegistry {
    parts: Arc<QueueParts>,
    /// Each running queue's actor, with the queue's tenant.
    actors: Mutex<HashMap<Uuid, (Uuid, Addr<QueueActor>)>>,
}

impl QueueRegistry {
    /// A registry with no queue started yet.
    pub fn new(parts: QueueParts) -> QueueRegistry {
        QueueRegistry {
            parts: Arc::new(parts),
            actors: Mutex::new(HashMap::new()),
        }
    }

    /// Hands `join` to queue `queue_id` of tenant `customer`, starting the queue's actor if it
    /// is not running (on the current arbiter). On failure the join comes back, with its media.
    pub async fn join(
        &self,
        customer: Uuid,
        queue_id: Uuid,
        join: Join,
    ) -> Result<Addr<QueueActor>, (QueueError, Join)> {
        // The document as the API last stored it (read from the store once): a queue deleted
        // or changed through the API since is followed.
        let queue = match self.parts.board.cached(queue_id) {
            Some(cached) => cached,
            None => match Docs(self.parts.store.as_ref())
                .get::<Queue>(None, queue_id)
                .await
            {
                Ok(q) => {
                    self.parts.board.cache(queue_id, q.clone());
                    q
                }
                Err(e) => return Err((e.into(), join)),
            },
        };
        let Some(queue) = queue.filter(|q| q.customer_id == customer) else {
            return Err((QueueError::NotFound(queue_id), join));
        };
        let actions = match self.wait_actions(&queue).await {
            Ok(actions) => actions,
            Err(e) => return Err((e, join)),
        };
        let running = self.running(queue_id);
        let addr = match running {
            Some((owner, addr)) if owner == customer => {
                addr.do_send(Reconfigure(Box::new(queue), actions));
                addr
            }
            Some(_) => return Err((QueueError::NotFound(queue_id), join)),
            None => {
                let Ok(mut actors) = self.actors.lock() else {
                    return Err((QueueError::NotFound(queue_id), join));
                };
                // Another call may have started it meanwhile.
                match actors.get(&queue_id).filter(|(_, a)| a.connected()) {
                    Some((_, addr)) => addr.clone(),
                    None => {
                        let mut actor = QueueActor::new(queue, self.parts.clone());
                        actor.wait_actions = actions;
                        let addr = actor.start();
                        actors.insert(queue_id, (customer, addr.clone()));
                        addr
                    }
                }
            }
        };
        addr.do_send(join);
        Ok(addr)
    }

    /// What a call waiting in `queue` hears: its wait flow's actions (read on each join, so a
    /// changed flow is heard from the next call on), or its own wait actions.
    async fn wait_actions(&self, queue: &Queue) -> Result<Arc<[Action]>, QueueError> {
        if queue.wait_flow_id.is_nil() {
            return Ok(queue.wait_actions.clone().into());
        }
        let flow: Option<Flow> = Docs(self.parts.store.as_ref())
            .get(Some(queue.customer_id), queue.wait_flow_id)
            .await?;
        match flow {
            Some(flow) => Ok(flow.actions.into()),
            None => {
                tracing::warn!(queue = %queue.id, flow = %queue.wait_flow_id, "the queue's wait flow is gone: calls wait in silence");
                Ok(Arc::from(Vec::new()))
            }
        }
    }

    /// Hands `join` to agent `agent` of tenant `customer` alone (a flow's `connect`): a queue
    /// of its own that rings that agent once and ends with the call.
    pub fn connect(&self, customer: Uuid, agent: Uuid, join: Join) -> Addr<QueueActor> {
        let queue = Queue {
            id: Uuid::new_v4(),
            customer_id: customer,
            name: format!("connect to {agent}"),
            detail: String::new(),
            routing_method: crate::domain::RoutingMethod::Random,
            tag_ids: Vec::new(),
            wait_flow_id: Uuid::nil(),
            wait_actions: Vec::new(),
            // A bound in case the offer never ends (the agent leg's CANCEL ends it first).
            wait_timeout: (RING_TIME + RING_GRACE + Duration::from_secs(30)).as_millis() as u64,
            service_timeout: 0,
            wrap_up_time: 0,
            ring_timeout: 0,
            service_level_time: 0,
            wait_announce_position: false,
            total_incoming_count: 0,
            total_serviced_count: 0,
            total_abandoned_count: 0,
            tm_create: String::new(),
            tm_update: String::new(),
            tm_delete: String::new(),
        };
        let mut actor = QueueActor::new(queue, self.parts.clone());
        actor.only = Some(agent);
        let addr = actor.start();
        addr.do_send(join);
        addr
    }

    fn running(&self, queue: Uuid) -> Option<(Uuid, Addr<QueueActor>)> {
        let actors = self.actors.lock().ok()?;
        actors.get(&queue).filter(|(_, a)| a.connected()).cloned()
    }
}

/// One ringing leg of an offer.
struct Ring {
    agent: Uuid,
    leg: CallHandle,
    port: Option<PortLease>,
    /// The agent's targets still to ring after this one (`linear`).
    rest: Vec<RingTarget>,
}

/// Where a held call stands.
enum Stage {
    /// Waiting for an agent.
    Waiting,
    /// Agents' phones ring (one leg per contact or address rung now).
    Ringing { rings: Vec<Ring> },
    /// An agent answered; the callee's media is being handed to the relay.
    Connecting { agent: Uuid, leg: CallHandle },
    /// Bridged.
    Bridged {
        agent: Uuid,
        leg: CallHandle,
        relay: RelayHandle,
    },
}

impl Stage {
    /// The agents the call engages now.
    fn agents(&self) -> Vec<Uuid> {
        match self {
            Stage::Waiting => Vec::new(),
            Stage::Ringing { rings } => {
                let mut agents: Vec<Uuid> = rings.iter().map(|r| r.agent).collect();
                agents.dedup();
                agents
            }
            Stage::Connecting { agent, .. } | Stage::Bridged { agent, .. } => vec![*agent],
        }
    }

    /// Whether `leg` is one of the call's agent legs now.
    fn has_leg(&self, leg: CallHandle) -> bool {
        match self {
            Stage::Waiting => false,
            Stage::Ringing { rings } => rings.iter().any(|r| r.leg == leg),
            Stage::Connecting { leg: l, .. } | Stage::Bridged { leg: l, .. } => *l == leg,
        }
    }

    /// The leg of the agent who answered.
    fn answered_leg(&self) -> Option<CallHandle> {
        match self {
            Stage::Connecting { leg, .. } | Stage::Bridged { leg, .. } => Some(*leg),
            _ => None,
        }
    }
}

/// The wait flow a waiting call hears: one round of the queue's wait actions, run by the flow
/// interpreter; `step` tells a late timer of a step already over from the current one.
struct Player {
    runner: Runner,
    step: u64,
}

/// A call the queue holds.
struct Held {
    /// Its campaigncall.
    call: Uuid,
    caller: Option<Dialable>,
    media: Option<MediaHandle>,
    local_ip: IpAddr,
    reply: Recipient<QueueNews>,
    /// Agents that rejected it or let it ring out.
    tried: Vec<Uuid>,
    stage: Stage,
    /// The wait flow, while it waits.
    player: Option<Player>,
    record: Option<crate::domain::RecordRequest>,
}

/// An event of an agent leg.
#[derive(Message)]
#[rtype(result = "()")]
struct AgentLegEvent {
    call: Uuid,
    leg: CallHandle,
    event: CallEvent,
}

/// One queue at work.
pub struct QueueActor {
    queue: Queue,
    parts: Arc<QueueParts>,
    waiting: WaitingList,
    router: Router,
    calls: HashMap<Uuid, Held>,
    /// Offers made, and each agent's last offer by that count.
    offers: u64,
    last_offered: HashMap<Uuid, u64>,
    /// What waiting calls hear.
    wait_actions: Arc<[Action]>,
    /// Wait-flow steps started (each step's timers carry its number).
    steps: u64,
    /// A `connect` to this agent alone: no document, no board, one call.
    only: Option<Uuid>,
    /// Recordings under way, as stored when they started.
    recordings: HashMap<Uuid, crate::domain::Recording>,
}

impl QueueActor {
    fn new(queue: Queue, parts: Arc<QueueParts>) -> QueueActor {
        let wait_timeout = wait_timeout_of(queue.wait_timeout);
        QueueActor {
            waiting: WaitingList::new(wait_timeout, queue.service_level()),
            router: Router::new(rand::random()),
            queue,
            parts,
            calls: HashMap::new(),
            offers: 0,
            last_offered: HashMap::new(),
            wait_actions: Arc::from(Vec::new()),
            steps: 0,
            only: None,
            recordings: HashMap::new(),
        }
    }

    /// A `connect` call that cannot reach its agent, or a call past its safe harbour, goes
    /// back to its flow; answers how long it waited, if it was waiting.
    fn unreached(&mut self, call: Uuid, reason: &str) -> Option<Duration> {
        let held = self.calls.remove(&call)?;
        let waited = self.waiting.abandoned(call, Instant::now());
        self.withdraw(&held);
        if let Some(m) = &held.media {
            // Whatever the wait flow plays stops: the call goes on with its own media.
            let _ = m.stop_playback();
        }
        held.reply.do_send(QueueNews::Unreached {
            reason: reason.to_string(),
        });
        waited
    }

    /// Expires calls waiting too long, then offers waiting calls to available agents.
    fn route(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        for call in self.waiting.expire(now) {
            tracing::info!(queue = %self.queue.id, %call, "call abandoned: wait timeout");
            self.count_abandoned(Duration::from_millis(self.queue.wait_timeout));
            if let Some(held) = self.calls.remove(&call) {
                self.withdraw(&held);
                if let Some(m) = &held.media {
                    let _ = m.close();
                }
                held.reply.do_send(QueueNews::Abandoned {
                    reason: "queue wait timeout".into(),
                });
            }
        }
        let mut snapshot = self.parts.agents.all();
        if let Some(only) = self.only {
            snapshot.retain(|(id, _)| *id == only);
        }
        let mut engaged: HashSet<Uuid> =
            self.calls.values().flat_map(|h| h.stage.agents()).collect();
        for call in self.waiting.ids() {
            let Some(held) = self.calls.get(&call) else {
                continue;
            };
            if !matches!(held.stage, Stage::Waiting) {
                continue;
            }
            let candidates = candidates(&self.queue, &snapshot, &engaged, &self.last_offered);
            let chosen = choose(
                self.queue.routing_method,
                &self.queue.tag_ids,
                &candidates,
                &held.tried,
                &mut self.router,
            );
            if chosen.is_empty() {
                if self.only.is_some() {
                    self.unreached(call, "agent not available");
                }
                continue;
            }
            for agent in chosen {
                let Some((_, live)) = snapshot.iter().find(|(id, _)| *id == agent) else {
                    continue;
                };
                engaged.insert(agent);
                self.offer(call, agent, live, ctx);
            }
            // An agent none of whose targets could be rung leaves the call waiting.
            if let Some(held) = self.calls.get_mut(&call) {
                if matches!(&held.stage, Stage::Ringing { rings } if rings.is_empty()) {
                    held.stage = Stage::Waiting;
                }
            }
        }
        self.publish();
    }

    /// Rings `agent` for `call` by its ring method: every target at once, or the first.
    fn offer(&mut self, call: Uuid, agent: Uuid, live: &AgentLive, ctx: &mut Context<Self>) {
        let targets = RingTarget::all_of(live);
        let mut steps = ring_steps(live.ring_method, &targets).into_iter();
        let Some(first) = steps.next() else {
            return;
        };
        let first = first.to_vec();
        let rest: Vec<RingTarget> = steps.flatten().cloned().collect();
        self.offers += 1;
        self.last_offered.insert(agent, self.offers);
        self.parts.directory.call(agent, AgentInput::Offered);
        if let Some(held) = self.calls.get_mut(&call) {
            if matches!(held.stage, Stage::Waiting) {
                held.stage = Stage::Ringing { rings: Vec::new() };
            }
        }
        let mut rung = false;
        for target in first {
            rung |= self.ring(call, agent, &target, rest.clone(), ctx);
        }
        if !rung {
            self.ring_next_or_refuse(call, agent, rest, AgentInput::NoAnswer, ctx);
        }
    }

    /// Places one leg of `call`'s offer to `agent`, at `target`; whether it was placed.
    fn ring(
        &mut self,
        call: Uuid,
        agent: Uuid,
        target: &RingTarget,
        rest: Vec<RingTarget>,
        ctx: &mut Context<Self>,
    ) -> bool {
        let ring_time = self.queue.ring_time();
        let Some(held) = self.calls.get_mut(&call) else {
            return false;
        };
        let ip = match self.parts.endpoint.udp_addr().ip() {
            ip if ip.is_unspecified() => held.local_ip,
            ip => ip,
        };
        let lease = match self.parts.ports.bind(ip) {
            Ok(lease) => lease,
            Err(e) => {
                tracing::warn!(%call, %agent, error = %e, "no RTP port for an agent leg");
                return false;
            }
        };
        let offer = sdp::offer(ip, lease.port(), rand::random::<u32>() as u64);
        let spec = match crate::agent::leg::target_spec(
            target,
            held.caller.as_ref(),
            ip,
            self.parts.trunk.as_ref(),
            ring_time,
            offer.into_bytes(),
        ) {
            Ok(spec) => spec,
            Err(e) => {
                tracing::warn!(%call, %agent, error = %e, "cannot ring an agent's address");
                return false;
            }
        };
        let placed = self.parts.endpoint.dial(spec);
        let leg = placed.handle;
        tracing::info!(queue = %self.queue.id, %call, %agent, target = %target.describe(), "offering the call to an agent");
        let Stage::Ringing { rings } = &mut held.stage else {
            self.parts.endpoint.hangup_now(leg);
            return false;
        };
        rings.push(Ring {
            agent,
            leg,
            port: Some(lease),
            rest,
        });
        ctx.add_stream(
            tokio_stream::wrappers::ReceiverStream::new(placed.events)
                .map(move |event| AgentLegEvent { call, leg, event }),
        );
        // A leg that never hears back (a dead contact) cannot be cancelled: given up here.
        ctx.run_later(ring_time + RING_GRACE, move |act, ctx| {
            let ringing = act.calls.get(&call).is_some_and(
                |h| matches!(&h.stage, Stage::Ringing { rings } if rings.iter().any(|r| r.leg == leg)),
            );
            if ringing {
                tracing::info!(%call, %agent, "agent leg gave no answer within the ring time: given up");
                act.parts.endpoint.hangup_now(leg);
                act.ring_ended(call, leg, AgentInput::NoAnswer, ctx);
            }
        });
        true
    }

    /// One ringing leg of `call` ended unanswered (`input`: rejected or rang out).
    fn ring_ended(
        &mut self,
        call: Uuid,
        leg: CallHandle,
        input: AgentInput,
        ctx: &mut Context<Self>,
    ) {
        let Some(held) = self.calls.get_mut(&call) else {
            return;
        };
        let Stage::Ringing { rings } = &mut held.stage else {
            return;
        };
        let Some(i) = rings.iter().position(|r| r.leg == leg) else {
            return;
        };
        let ring = rings.remove(i);
        if rings.iter().any(|r| r.agent == ring.agent) {
            // Another contact of the agent still rings.
            return;
        }
        self.ring_next_or_refuse(call, ring.agent, ring.rest, input, ctx);
    }

    /// `agent`'s legs for `call` are all over: ring its next target (`linear`), or count the
    /// refusal and, with no other agent ringing, route the call again.
    fn ring_next_or_refuse(
        &mut self,
        call: Uuid,
        agent: Uuid,
        mut rest: Vec<RingTarget>,
        input: AgentInput,
        ctx: &mut Context<Self>,
    ) {
        while !rest.is_empty() {
            let next = rest.remove(0);
            if self.ring(call, agent, &next, rest.clone(), ctx) {
                return;
            }
        }
        tracing::info!(%call, %agent, input = ?input, "agent did not take the call");
        self.parts.directory.call(agent, input);
        let Some(held) = self.calls.get_mut(&call) else {
            return;
        };
        held.tried.push(agent);
        let idle = matches!(&held.stage, Stage::Ringing { rings } if rings.is_empty());
        if !idle {
            return;
        }
        held.stage = Stage::Waiting;
        if self.only.is_some() {
            let reason = match input {
                AgentInput::Rejected => "agent declined",
                _ => "agent did not answer",
            };
            self.unreached(call, reason);
            return;
        }
        // Routed again on the next turn, not from inside a routing pass that may be offering
        // this call to other agents.
        ctx.run_later(Duration::ZERO, |act, ctx| act.route(ctx));
    }

    /// An offer still ringing for `held` is withdrawn (the call went away).
    fn withdraw(&self, held: &Held) {
        match &held.stage {
            Stage::Waiting => {}
            Stage::Ringing { rings } => {
                let mut told = HashSet::new();
                for ring in rings {
                    self.parts.endpoint.hangup_now(ring.leg);
                    if told.insert(ring.agent) {
                        self.parts.directory.call(ring.agent, AgentInput::Withdrawn);
                    }
                }
            }
            Stage::Connecting { agent, leg } => {
                self.parts.endpoint.hangup_now(*leg);
                self.call_ended(held.call, *agent);
            }
            Stage::Bridged { agent, leg, relay } => {
                self.parts.endpoint.hangup_now(*leg);
                let _ = relay.stop();
                self.call_ended(held.call, *agent);
            }
        }
    }

    /// Records the bridge of a call, so that a restart closes its attempt with the agent.
    fn remember_bridge(&self, bridge: QueueBridge) {
        let store = self.parts.store.clone();
        actix::spawn(async move {
            if let Err(e) = store.put_queue_bridge(&bridge).await {
                tracing::error!(call = %bridge.campaigncall_id, error = %e, "cannot record the bridge");
            }
        });
    }

    /// The bridge (or the connecting) of `call` to `agent` is over: the agent wraps up.
    fn call_ended(&self, call: Uuid, agent: Uuid) {
        let store = self.parts.store.clone();
        actix::spawn(async move {
            if let Err(e) = store.delete_queue_bridge(call).await {
                tracing::error!(%call, error = %e, "cannot forget the bridge");
            }
        });
        self.parts.directory.call(
            agent,
            AgentInput::CallEnded {
                wrap_up: Duration::from_millis(self.queue.wrap_up_time),
            },
        );
    }

    /// An agent answered `call` on `leg`: its other legs are cancelled (the other agents'
    /// offers withdrawn), the wait flow stops, the callee's media is handed over and the
    /// relay starts.
    fn agent_answered(
        &mut self,
        call: Uuid,
        leg: CallHandle,
        sdp_body: &[u8],
        dialog: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let Some(held) = self.calls.get_mut(&call).filter(
            |h| matches!(&h.stage, Stage::Ringing { rings } if rings.iter().any(|r| r.leg == leg)),
        ) else {
            // An offer withdrawn meanwhile, or another leg answered first: not wanted.
            self.parts.endpoint.hangup_now(leg);
            return;
        };
        let Stage::Ringing { rings } = std::mem::replace(&mut held.stage, Stage::Waiting) else {
            return;
        };
        let mut port = None;
        let mut agent = Uuid::nil();
        let mut withdrawn = HashSet::new();
        for ring in rings {
            if ring.leg == leg {
                agent = ring.agent;
                port = ring.port;
            } else {
                // CANCEL (or BYE should it have answered meanwhile).
                self.parts.endpoint.hangup_now(ring.leg);
                withdrawn.insert(ring.agent);
            }
        }
        withdrawn.remove(&agent);
        for other in withdrawn {
            self.parts.directory.call(other, AgentInput::Withdrawn);
        }
        held.player = None;
        if let Some(m) = &held.media {
            // The wait flow stops now, not when the relay takes the socket.
            let _ = m.stop_playback();
        }
        self.parts.directory.call(agent, AgentInput::Answered);
        held.stage = Stage::Connecting { agent, leg };
        let media = held.media.take();
        let wait = self
            .waiting
            .answered(call, Instant::now())
            .unwrap_or_default();
        crate::metrics::global().queue_wait(QueueWaitEnd::Answered, wait);
        let in_time = wait <= self.queue.service_level();
        self.count(QueueCounts {
            serviced: 1,
            wait_ms: wait.as_millis() as u64,
            answered_in_time: u64::from(in_time),
            ..QueueCounts::default()
        });
        let remote = sdp::parse_answer(sdp_body);
        let config = self.parts.relay.clone();
        let connect = async move {
            let remote = remote.map_err(|e| format!("agent SDP: {e}"))?;
            let mut lease = port.ok_or("no RTP port")?;
            let socket = lease.take_socket().ok_or("no RTP socket")?;
            let socket = tokio::net::UdpSocket::from_std(socket).map_err(|e| e.to_string())?;
            let media = media.ok_or("no callee media")?;
            let handover = media.hand_over().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(relay::spawn(
                Leg::from_session(handover),
                Leg::new(socket, Some(lease), remote),
                config,
            ))
        };
        ctx.spawn(connect.into_actor(self).map(move |res, act, ctx| {
            let Some(held) = act.calls.get_mut(&call) else {
                if let Ok((relay, _)) = res {
                    let _ = relay.stop();
                }
                return;
            };
            match res {
                Ok((relay, events)) => {
                    ctx.add_stream(
                        tokio_stream::wrappers::ReceiverStream::new(events)
                            .map(move |event| BridgeEvent { call, leg, event }),
                    );
                    let record = held.record.take();
                    if let Some(request) = record {
                        act.start_recording(call, agent, &relay, request, ctx);
                    }
                    let Some(held) = act.calls.get_mut(&call) else {
                        return;
                    };
                    held.stage = Stage::Bridged { agent, leg, relay };
                    held.reply.do_send(QueueNews::Connected {
                        agent_id: agent,
                        wait_ms: wait.as_millis() as u64,
                    });
                    act.remember_bridge(QueueBridge {
                        campaigncall_id: call,
                        queue_id: act.only.is_none().then_some(act.queue.id),
                        agent_id: agent,
                        wait_ms: wait.as_millis() as u64,
                        agent_dialog: dialog,
                    });
                    tracing::info!(%call, %agent, "call bridged to an agent");
                }
                Err(e) => {
                    tracing::warn!(%call, %agent, error = %e, "cannot bridge the call");
                    act.end_bridge(call, format!("bridge failed: {e}"));
                }
            }
            act.publish();
        }));
        if self.queue.service_timeout > 0 {
            ctx.run_later(
                Duration::from_millis(self.queue.service_timeout),
                move |act, _| {
                    if act.calls.get(&call).and_then(|h| h.stage.answered_leg()) == Some(leg) {
                        act.end_bridge(call, "queue service timeout".into());
                    }
                },
            );
        }
        self.publish();
    }

    /// Ends the bridge (or the connecting) of `call`: the agent leg is hung up, the call is
    /// told.
    fn end_bridge(&mut self, call: Uuid, reason: String) {
        if let Some(held) = self.calls.remove(&call) {
            self.withdraw(&held);
            held.reply.do_send(QueueNews::BridgeEnded { reason });
        }
        self.publish();
    }

    /// An agent leg ended.
    fn agent_leg_ended(
        &mut self,
        call: Uuid,
        leg: CallHandle,
        end: LegEnd,
        ctx: &mut Context<Self>,
    ) {
        tracing::debug!(queue = %self.queue.id, %call, cause = ?end.cause, "agent leg ended");
        let Some(held) = self.calls.get_mut(&call) else {
            return;
        };
        if !held.stage.has_leg(leg) {
            return;
        }
        match &held.stage {
            Stage::Ringing { .. } => {
                tracing::debug!(%call, code = ?end.final_code(), "agent leg refused");
                self.ring_ended(call, leg, offer_refused(&end), ctx);
            }
            Stage::Connecting { agent, .. } | Stage::Bridged { agent, .. } => {
                let agent = *agent;
                if let Some(held) = self.calls.remove(&call) {
                    if let Stage::Bridged { relay, .. } = &held.stage {
                        let _ = relay.stop();
                    }
                    self.call_ended(call, agent);
                    tracing::info!(queue = %self.queue.id, %call, %agent, "bridge ended: the agent hung up");
                    held.reply.do_send(QueueNews::BridgeEnded {
                        reason: "agent hung up".into(),
                    });
                }
                self.publish();
            }
            Stage::Waiting => {}
        }
    }

    /// Starts a round of the wait flow for `call` (after `after`), if the queue has one.
    fn start_round(&mut self, call: Uuid, after: Duration, ctx: &mut Context<Self>) {
        if self.wait_actions.is_empty() && !self.queue.wait_announce_position {
            return;
        }
        self.steps += 1;
        let step = self.steps;
        let Some(held) = self.calls.get_mut(&call) else {
            return;
        };
        // A placeholder until the round starts: the step tells it from any earlier one.
        held.player = Some(Player {
            runner: Runner::new(Vec::new(), Variables::new()),
            step,
        });
        ctx.run_later(after, move |act, ctx| {
            let position = act.waiting.position(call);
            let Some(held) = act.calls.get_mut(&call) else {
                return;
            };
            if held.player.as_ref().map(|p| p.step) != Some(step) || held.media.is_none() {
                return;
            }
            let Some(position) = position else {
                return;
            };
            let mut actions: Vec<Action> = Vec::with_capacity(act.wait_actions.len() + 1);
            if act.queue.wait_announce_position {
                actions.push(Action {
                    id: Uuid::nil(),
                    next_id: Uuid::nil(),
                    kind: "talk".into(),
                    option: serde_json::json!({ "text": POSITION_TEXT }),
                });
            }
            actions.extend(act.wait_actions.iter().cloned());
            let mut variables = Variables::new();
            variables.set("queue.position", position.to_string());
            variables.set("voipbin.queue.position", position.to_string());
            held.player = Some(Player {
                runner: Runner::new(actions, variables),
                step,
            });
            act.wait_step(call, step, Input::Started, ctx);
        });
    }

    /// Feeds the wait flow of `call` what its step `step` came to, and starts the next.
    fn wait_step(&mut self, call: Uuid, step: u64, mut input: Input, ctx: &mut Context<Self>) {
        for _ in 0..MAX_INSTANT_STEPS {
            let Some(held) = self.calls.get_mut(&call) else {
                return;
            };
            let (Some(player), Some(media)) = (held.player.as_mut(), held.media.clone()) else {
                return;
            };
            if player.step != step {
                return;
            }
            self.steps += 1;
            let next = self.steps;
            player.step = next;
            let command = player.runner.next(input);
            let (dir, cache) = (self.parts.prompts_dir.clone(), self.parts.cache_dir.clone());
            match command {
                Command::Talk {
                    text,
                    language,
                    gender,
                    ..
                } => {
                    let speak = async move {
                        crate::media::tts(&text, &language, &gender, &cache)
                            .await
                            .map_err(|e| e.to_string())
                    };
                    return self.play_then(call, next, media, speak, ctx);
                }
                Command::Play { urls, .. } => {
                    let load = async move {
                        let mut all: Vec<i16> = Vec::new();
                        for url in &urls {
                            let samples = crate::media::load(url, &dir, &cache)
                                .await
                                .map_err(|e| format!("{url}: {e}"))?;
                            all.extend_from_slice(&samples);
                        }
                        Ok::<Arc<[i16]>, String>(all.into())
                    };
                    return self.play_then(call, next, media, load, ctx);
                }
                Command::Sleep { ms } | Command::CollectDigits { timeout_ms: ms, .. } => {
                    ctx.run_later(Duration::from_millis(ms), move |act, ctx| {
                        act.wait_step(call, next, Input::Completed, ctx)
                    });
                    return;
                }
                Command::Wait => return,
                Command::SendDigits { .. } => input = Input::Completed,
                Command::Webhook { .. } => input = Input::WebhookResult { status: None },
                Command::QueueJoin { .. }
                | Command::Connect { .. }
                | Command::DetectMachine { .. } => {
                    input = Input::Failed {
                        reason: "not while waiting in a queue".into(),
                    }
                }
                Command::Hangup { .. } | Command::Done => {
                    // The round is over: the next one starts after a pause.
                    return self.start_round(call, ROUND_PAUSE, ctx);
                }
            }
        }
        tracing::debug!(%call, "wait flow ran too many steps at once; next round");
        self.start_round(call, ROUND_PAUSE, ctx);
    }

    /// Plays what `prompt` comes to on `media`, then goes on with the wait flow once it has
    /// played out.
    fn play_then(
        &mut self,
        call: Uuid,
        step: u64,
        media: MediaHandle,
        prompt: impl std::future::Future<Output = Result<Arc<[i16]>, String>> + 'static,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(prompt.into_actor(self).map(move |res, act, ctx| {
            let current = act
                .calls
                .get(&call)
                .and_then(|h| h.player.as_ref())
                .is_some_and(|p| p.step == step);
            if !current {
                return;
            }
            match res {
                Ok(samples)
                    if media
                        .play(WAIT_PROMPT | step, samples.clone(), false)
                        .is_ok() =>
                {
                    // 8 samples a millisecond.
                    let length = Duration::from_millis(samples.len() as u64 / 8);
                    ctx.run_later(length, move |act, ctx| {
                        act.wait_step(call, step, Input::Completed, ctx)
                    });
                }
                Ok(_) => {}
                Err(reason) => {
                    tracing::warn!(%call, error = %reason, "wait prompt failed");
                    act.wait_step(call, step, Input::Failed { reason }, ctx)
                }
            }
        }));
    }

    /// The queue's calls on the board.
    fn publish(&self) {
        if self.only.is_some() {
            return;
        }
        let waiting = self.waiting.ids();
        let serving = self
            .calls
            .iter()
            .filter(|(_, h)| matches!(h.stage, Stage::Connecting { .. } | Stage::Bridged { .. }))
            .map(|(id, _)| *id)
            .collect();
        self.parts.board.set_of(
            self.queue.customer_id,
            self.queue.id,
            QueueLive {
                waiting,
                serving,
                oldest_join: self.waiting.next().map(|w| w.joined_at),
            },
        );
    }

    /// Adds to the queue's counters in the store (one statement: nothing read first).
    fn count(&self, delta: QueueCounts) {
        if self.only.is_some() || delta.is_zero() {
            return;
        }
        let (store, id) = (self.parts.store.clone(), self.queue.id);
        actix::spawn(async move {
            if let Err(e) = store.add_queue_counts(id, delta).await {
                tracing::error!(queue = %id, error = %e, "cannot store the queue's counters");
            }
        });
    }

    /// A call left the waiting list unanswered after `waited`.
    fn count_abandoned(&self, waited: Duration) {
        crate::metrics::global().queue_wait(QueueWaitEnd::Abandoned, waited);
        self.count(QueueCounts {
            abandoned: 1,
            wait_ms: waited.as_millis() as u64,
            ..QueueCounts::default()
        });
    }
}

/// The agents `queue` may offer a call to, as its strategy sees them: of the queue's tenant,
/// with a registered contact or an address to ring, not already ringing or talking for this
/// queue.
pub fn candidates(
    queue: &Queue,
    agents: &[(Uuid, AgentLive)],
    engaged: &HashSet<Uuid>,
    last_offered: &HashMap<Uuid, u64>,
) -> Vec<Candidate> {
    agents
        .iter()
        .filter(|(id, a)| {
            a.customer_id == queue.customer_id
                && (!a.contacts.is_empty() || !a.addresses.is_empty())
                && !engaged.contains(id)
        })
        .map(|(id, a)| Candidate {
            id: *id,
            tag_ids: a.tag_ids.clone(),
            state: a.state,
            figures: a.figures,
            last_offered: last_offered.get(id).copied(),
        })
        .filter(|c| c.state == AgentState::Available)
        .collect()
}

/// A queue's `wait_timeout` (ms, 0: none).
fn wait_timeout_of(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// What an offer that ended unanswered did to the agent: declined (busy, decline, forbidden)
/// or let ring out (anything else: no answer, unreachable, an error).
pub fn offer_refused(end: &LegEnd) -> AgentInput {
    match end.final_code() {
        Some(486 | 600 | 603 | 403) => AgentInput::Rejected,
        _ => AgentInput::NoAnswer,
    }
}

impl Actor for QueueActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(queue = %self.queue.id, name = %self.queue.name, "queue started");
        ctx.run_interval(ROUTE_INTERVAL, |act, ctx| {
            if !act.calls.is_empty() {
                act.route(ctx);
            } else if act.only.is_some() && act.recordings.is_empty() {
                // A connect's queue ends with its call (and its recording's row).
                ctx.stop();
            }
        });
    }
}

impl Handler<Join> for QueueActor {
    type Result = ();

    fn handle(&mut self, join: Join, ctx: &mut Context<Self>) {
        if !self.waiting.join(join.call, Instant::now()) {
            return;
        }
        tracing::info!(queue = %self.queue.id, call = %join.call, "call joined the queue");
        self.calls.insert(
            join.call,
            Held {
                call: join.call,
                caller: join.caller,
                media: Some(join.media),
                local_ip: join.local_ip,
                reply: join.reply,
                tried: Vec::new(),
                stage: Stage::Waiting,
                player: None,
                record: join.record,
            },
        );
        if let Some(deadline) = join.agent_deadline {
            let call = join.call;
            ctx.run_later(deadline.saturating_duration_since(Instant::now()), move |act, _| {
                let waiting = act.calls.get(&call).is_some_and(|h| {
                    matches!(h.stage, Stage::Waiting | Stage::Ringing { .. })
                });
                if waiting {
                    tracing::info!(queue = %act.queue.id, %call, "call abandoned: no agent within the safe-harbour time");
                    if let Some(waited) = act.unreached(call, crate::domain::SAFE_HARBOUR_REASON) {
                        act.count_abandoned(waited);
                    }
                    act.publish();
                }
            });
        }
        self.count(QueueCounts {
            incoming: 1,
            ..QueueCounts::default()
        });
        self.start_round(join.call, Duration::ZERO, ctx);
        self.route(ctx);
    }
}

impl Handler<Reconfigure> for QueueActor {
    type Result = ();

    fn handle(&mut self, Reconfigure(stored, actions): Reconfigure, _ctx: &mut Context<Self>) {
        self.wait_actions = actions;
        let q = &mut self.queue;
        q.name = stored.name;
        q.routing_method = stored.routing_method;
        q.tag_ids = stored.tag_ids;
        q.wait_timeout = stored.wait_timeout;
        q.service_timeout = stored.service_timeout;
        q.wrap_up_time = stored.wrap_up_time;
        q.ring_timeout = stored.ring_timeout;
        q.service_level_time = stored.service_level_time;
        q.wait_announce_position = stored.wait_announce_position;
        q.wait_flow_id = stored.wait_flow_id;
        self.waiting
            .set_wait_timeout(wait_timeout_of(self.queue.wait_timeout));
        self.waiting.set_service_level(self.queue.service_level());
    }
}

impl Handler<Leave> for QueueActor {
    type Result = ();

    fn handle(&mut self, leave: Leave, _ctx: &mut Context<Self>) {
        let Some(held) = self.calls.remove(&leave.call) else {
            return;
        };
        if let Some(waited) = self.waiting.abandoned(leave.call, Instant::now()) {
            tracing::info!(queue = %self.queue.id, call = %leave.call, "call abandoned: the callee hung up");
            self.count_abandoned(waited);
        }
        self.withdraw(&held);
        if let Some(m) = &held.media {
            let _ = m.close();
        }
        self.publish();
    }
}

impl Handler<CalleeMedia> for QueueActor {
    type Result = ();

    fn handle(&mut self, m: CalleeMedia, _ctx: &mut Context<Self>) {
        let Some(held) = self.calls.get(&m.call) else {
            return;
        };
        match (&held.stage, &held.media) {
            (Stage::Bridged { relay, .. }, _) => {
                let _ = relay.update_remote(Side::Callee, m.remote);
            }
            (_, Some(media)) => {
                let _ = media.update_remote(m.remote);
            }
            // Being handed over: the relay starts from what the session had.
            (_, None) => {}
        }
    }
}

/// An event of a bridge's relay.
#[derive(Message)]
#[rtype(result = "()")]
struct BridgeEvent {
    call: Uuid,
    leg: CallHandle,
    event: relay::RelayEvent,
}

impl StreamHandler<BridgeEvent> for QueueActor {
    fn handle(&mut self, e: BridgeEvent, _ctx: &mut Context<Self>) {
        if let relay::RelayEvent::Recording(outcome) = e.event {
            self.recording_ended(outcome);
        } else if let relay::RelayEvent::RtpTimeout { side } = e.event {
            // A leg gone silent is a call gone: the bridge ends.
            if self.calls.get(&e.call).and_then(|h| h.stage.answered_leg()) == Some(e.leg) {
                tracing::info!(queue = %self.queue.id, call = %e.call, side = ?side, "bridge ended: no RTP");
                self.end_bridge(e.call, "rtp_timeout".into());
            }
        }
    }

    /// The relay stopping does not end the queue.
    fn finished(&mut self, _ctx: &mut Context<Self>) {}
}

impl StreamHandler<AgentLegEvent> for QueueActor {
    fn handle(&mut self, e: AgentLegEvent, ctx: &mut Context<Self>) {
        match e.event {
            CallEvent::Answered { sdp, dialog } => {
                let dialog = dialog.and_then(|d| serde_json::to_string(&d).ok());
                self.agent_answered(e.call, e.leg, &sdp, dialog, ctx)
            }
            CallEvent::Ended(end) => self.agent_leg_ended(e.call, e.leg, end, ctx),
            CallEvent::RemoteSdp { sdp } => {
                // The agent put the call on hold, resumed it or moved its media.
                let bridged = self.calls.get(&e.call).map(|h| &h.stage);
                if let (Some(Stage::Bridged { relay, leg, .. }), Ok(remote)) =
                    (bridged, sdp::parse_answer(&sdp))
                {
                    if *leg == e.leg {
                        let _ = relay.update_remote(Side::Agent, remote);
                    }
                }
            }
            CallEvent::Progress { .. } | CallEvent::Digit { .. } => {}
        }
    }

    /// One agent leg's events ending does not end the queue.
    fn finished(&mut self, _ctx: &mut Context<Self>) {}
}

#[path = "actor_recording.rs"]
mod recording;

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
