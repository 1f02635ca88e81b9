//! `QueueActor`: one queue at work. Answered calls join it and wait (first in, first out);
//! whenever an agent serving the queue is available, the queue's routing method picks one and
//! the queue rings its registered contact (the agent leg). The first agent to answer gets the
//! call: both legs' RTP go to a relay and the call is told who took it. An agent that rejects
//! or rings out is not offered that call again, and the call keeps waiting; a call waiting past
//! the queue's wait timeout is abandoned. A BYE on either leg of a bridge ends the other.
//!
//! The actors start on first use, from a [`QueueRegistry`] the node holds. The agents' states
//! come from the [`AgentBoard`]; what the queue's calls do to an agent goes to the
//! [`AgentDirectory`], which runs the agent's machine.

use super::live::{QueueBoard, QueueLive};
use super::strategy::{choose, Candidate, Router};
use super::waiting::{WaitingList, DEFAULT_SERVICE_LEVEL};
use crate::agent::live::{AgentBoard, AgentLive};
use crate::agent::{AgentDirectory, AgentInput, AgentState};
use crate::domain::{Dialable, Queue};
use crate::media::ports::{PortLease, PortPool};
use crate::media::relay::{self, Leg, RelayConfig, RelayHandle, Side};
use crate::media::MediaHandle;
use crate::sdp;
use crate::sip::endpoint::{CallEvent, CallHandle, LegEnd};
use crate::sip::transport::EndpointHandle;
use crate::store::{Docs, Store, StoreError};
use actix::prelude::*;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use uuid::Uuid;

/// How long an agent's phone rings before the offer goes to another agent.
pub const RING_TIME: Duration = Duration::from_secs(15);
/// How often a queue with waiting calls looks for an available agent.
const ROUTE_INTERVAL: Duration = Duration::from_millis(250);

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
}

/// The queue's document as stored now: its settings apply from now on.
#[derive(Message, Debug)]
#[rtype(result = "()")]
struct Reconfigure(Box<Queue>);

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
        // Read on every join: a queue deleted or changed through the API since is followed.
        let queue: Option<Queue> = match Docs(self.parts.store.as_ref())
            .get(Some(customer), queue_id)
            .await
        {
            Ok(q) => q,
            Err(e) => return Err((e.into(), join)),
        };
        let Some(queue) = queue else {
            return Err((QueueError::NotFound(queue_id), join));
        };
        let running = self.running(queue_id);
        let addr = match running {
            Some((owner, addr)) if owner == customer => {
                addr.do_send(Reconfigure(Box::new(queue)));
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
                        let addr = QueueActor::new(queue, self.parts.clone()).start();
                        actors.insert(queue_id, (customer, addr.clone()));
                        addr
                    }
                }
            }
        };
        addr.do_send(join);
        Ok(addr)
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
            wait_timeout: (RING_TIME + Duration::from_secs(30)).as_millis() as u64,
            service_timeout: 0,
            wrap_up_time: 0,
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

/// Where a held call stands.
enum Stage {
    /// Waiting for an agent.
    Waiting,
    /// An agent's phone rings.
    Ringing {
        agent: Uuid,
        leg: CallHandle,
        port: Option<PortLease>,
    },
    /// The agent answered; the callee's media is being handed to the relay.
    Connecting { agent: Uuid, leg: CallHandle },
    /// Bridged.
    Bridged {
        agent: Uuid,
        leg: CallHandle,
        relay: RelayHandle,
    },
}

impl Stage {
    fn agent(&self) -> Option<Uuid> {
        match self {
            Stage::Waiting => None,
            Stage::Ringing { agent, .. }
            | Stage::Connecting { agent, .. }
            | Stage::Bridged { agent, .. } => Some(*agent),
        }
    }

    fn leg(&self) -> Option<CallHandle> {
        match self {
            Stage::Waiting => None,
            Stage::Ringing { leg, .. }
            | Stage::Connecting { leg, .. }
            | Stage::Bridged { leg, .. } => Some(*leg),
        }
    }
}

/// A call the queue holds.
struct Held {
    caller: Option<Dialable>,
    media: Option<MediaHandle>,
    local_ip: IpAddr,
    reply: Recipient<QueueNews>,
    /// Agents that rejected it or let it ring out.
    tried: Vec<Uuid>,
    stage: Stage,
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
    /// The counters as the queue's document had them when the actor started.
    base: [u64; 3],
    /// A `connect` to this agent alone: no document, no board, one call.
    only: Option<Uuid>,
    /// Recordings under way, as stored when they started.
    recordings: HashMap<Uuid, crate::domain::Recording>,
}

impl QueueActor {
    fn new(queue: Queue, parts: Arc<QueueParts>) -> QueueActor {
        let wait_timeout = wait_timeout_of(queue.wait_timeout);
        QueueActor {
            base: [
                queue.total_incoming_count,
                queue.total_serviced_count,
                queue.total_abandoned_count,
            ],
            waiting: WaitingList::new(wait_timeout, DEFAULT_SERVICE_LEVEL),
            router: Router::new(rand::random()),
            queue,
            parts,
            calls: HashMap::new(),
            offers: 0,
            last_offered: HashMap::new(),
            only: None,
            recordings: HashMap::new(),
        }
    }

    /// A `connect` call that cannot reach its agent goes back to its flow.
    fn unreached(&mut self, call: Uuid, reason: &str) {
        if let Some(held) = self.calls.remove(&call) {
            self.waiting.abandoned(call, Instant::now());
            self.withdraw(&held);
            held.reply.do_send(QueueNews::Unreached {
                reason: reason.to_string(),
            });
        }
    }

    /// Expires calls waiting too long, then offers waiting calls to available agents.
    fn route(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        for call in self.waiting.expire(now) {
            tracing::info!(queue = %self.queue.id, %call, "call abandoned: wait timeout");
            if let Some(held) = self.calls.remove(&call) {
                self.withdraw(&held);
                if let Some(m) = &held.media {
                    let _ = m.close();
                }
                held.reply.do_send(QueueNews::Abandoned {
                    reason: "queue wait timeout".into(),
                });
            }
            self.persist();
        }
        let mut snapshot = self.parts.agents.all();
        if let Some(only) = self.only {
            snapshot.retain(|(id, _)| *id == only);
        }
        let mut engaged: HashSet<Uuid> = self
            .calls
            .values()
            .filter_map(|h| h.stage.agent())
            .collect();
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
            // ring_all offers one agent at a time here.
            let Some(agent) = chosen.first().copied() else {
                if self.only.is_some() {
                    self.unreached(call, "agent not available");
                }
                continue;
            };
            let Some(live) = snapshot.iter().find(|(id, _)| *id == agent) else {
                continue;
            };
            engaged.insert(agent);
            self.offer(call, agent, &live.1, ctx);
        }
        self.publish();
    }

    /// Rings `agent` for `call`.
    fn offer(&mut self, call: Uuid, agent: Uuid, live: &AgentLive, ctx: &mut Context<Self>) {
        let Some(held) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(contact) = live.contacts.first() else {
            return;
        };
        let ip = match self.parts.endpoint.udp_addr().ip() {
            ip if ip.is_unspecified() => held.local_ip,
            ip => ip,
        };
        let lease = match self.parts.ports.bind(ip) {
            Ok(lease) => lease,
            Err(e) => {
                tracing::error!(queue = %self.queue.id, error = %e, "no RTP port for an agent leg");
                return;
            }
        };
        let offer = sdp::offer(ip, lease.port(), rand::random::<u32>() as u64);
        let spec = crate::agent::leg::call_spec(
            contact,
            held.caller.as_ref(),
            ip,
            RING_TIME,
            offer.into_bytes(),
        );
        let placed = self.parts.endpoint.dial(spec);
        let leg = placed.handle;
        tracing::info!(queue = %self.queue.id, %call, %agent, contact = %contact.uri, "offering the call to an agent");
        self.offers += 1;
        self.last_offered.insert(agent, self.offers);
        self.parts.directory.call(agent, AgentInput::Offered);
        held.stage = Stage::Ringing {
            agent,
            leg,
            port: Some(lease),
        };
        ctx.add_stream(
            tokio_stream::wrappers::ReceiverStream::new(placed.events)
                .map(move |event| AgentLegEvent { call, leg, event }),
        );
    }

    /// An offer still ringing for `held` is withdrawn (the call went away).
    fn withdraw(&self, held: &Held) {
        match &held.stage {
            Stage::Waiting => {}
            Stage::Ringing { agent, leg, .. } => {
                self.parts.endpoint.hangup_now(*leg);
                self.parts.directory.call(*agent, AgentInput::Withdrawn);
            }
            Stage::Connecting { agent, leg } => {
                self.parts.endpoint.hangup_now(*leg);
                self.call_ended(*agent);
            }
            Stage::Bridged { agent, leg, relay } => {
                self.parts.endpoint.hangup_now(*leg);
                let _ = relay.stop();
                self.call_ended(*agent);
            }
        }
    }

    fn call_ended(&self, agent: Uuid) {
        self.parts.directory.call(
            agent,
            AgentInput::CallEnded {
                wrap_up: Duration::from_millis(self.queue.wrap_up_time),
            },
        );
    }

    /// The agent answered `call`: the callee's media is handed over and the relay starts.
    fn agent_answered(
        &mut self,
        call: Uuid,
        leg: CallHandle,
        sdp_body: &[u8],
        ctx: &mut Context<Self>,
    ) {
        let Some(held) = self
            .calls
            .get_mut(&call)
            .filter(|h| matches!(h.stage, Stage::Ringing { leg: l, .. } if l == leg))
        else {
            // An offer withdrawn meanwhile: the answer is not wanted.
            self.parts.endpoint.hangup_now(leg);
            return;
        };
        let Stage::Ringing { agent, port, .. } = std::mem::replace(&mut held.stage, Stage::Waiting)
        else {
            return;
        };
        self.parts.directory.call(agent, AgentInput::Answered);
        held.stage = Stage::Connecting { agent, leg };
        let media = held.media.take();
        let wait = self
            .waiting
            .answered(call, Instant::now())
            .unwrap_or_default();
        self.persist();
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
                    if act.calls.get(&call).and_then(|h| h.stage.leg()) == Some(leg) {
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
        if held.stage.leg() != Some(leg) {
            return;
        }
        match &held.stage {
            Stage::Ringing { agent, .. } => {
                let agent = *agent;
                let input = offer_refused(&end);
                tracing::info!(%call, %agent, input = ?input, code = ?end.final_code(), "agent did not take the call");
                self.parts.directory.call(agent, input);
                held.tried.push(agent);
                held.stage = Stage::Waiting;
                if self.only.is_some() {
                    let reason = match input {
                        AgentInput::Rejected => "agent declined",
                        _ => "agent did not answer",
                    };
                    self.unreached(call, reason);
                    return;
                }
                self.route(ctx);
            }
            Stage::Connecting { agent, .. } | Stage::Bridged { agent, .. } => {
                let agent = *agent;
                if let Some(held) = self.calls.remove(&call) {
                    if let Stage::Bridged { relay, .. } = &held.stage {
                        let _ = relay.stop();
                    }
                    self.call_ended(agent);
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
            QueueLive { waiting, serving },
        );
    }

    /// The counters onto the queue's document (the latest one the store holds).
    fn persist(&self) {
        if self.only.is_some() {
            return;
        }
        let figures = self.waiting.figures(Instant::now());
        let counts = [
            self.base[0] + figures.incoming,
            self.base[1] + figures.serviced,
            self.base[2] + figures.abandoned,
        ];
        let (store, id, customer) = (
            self.parts.store.clone(),
            self.queue.id,
            self.queue.customer_id,
        );
        actix::spawn(async move {
            let docs = Docs(store.as_ref());
            match docs.get::<Queue>(Some(customer), id).await {
                Ok(Some(mut queue)) => {
                    queue.total_incoming_count = counts[0];
                    queue.total_serviced_count = counts[1];
                    queue.total_abandoned_count = counts[2];
                    if let Err(e) = docs.put(&queue).await {
                        tracing::error!(queue = %id, error = %e, "cannot store the queue's counters");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!(queue = %id, error = %e, "cannot read the queue"),
            }
        });
    }
}

/// The agents `queue` may offer a call to, as its strategy sees them: of the queue's tenant,
/// with a registered contact, not already ringing or talking for this queue.
pub fn candidates(
    queue: &Queue,
    agents: &[(Uuid, AgentLive)],
    engaged: &HashSet<Uuid>,
    last_offered: &HashMap<Uuid, u64>,
) -> Vec<Candidate> {
    agents
        .iter()
        .filter(|(id, a)| {
            a.customer_id == queue.customer_id && !a.contacts.is_empty() && !engaged.contains(id)
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
                caller: join.caller,
                media: Some(join.media),
                local_ip: join.local_ip,
                reply: join.reply,
                tried: Vec::new(),
                stage: Stage::Waiting,
                record: join.record,
            },
        );
        self.persist();
        self.route(ctx);
    }
}

impl Handler<Reconfigure> for QueueActor {
    type Result = ();

    fn handle(&mut self, Reconfigure(stored): Reconfigure, _ctx: &mut Context<Self>) {
        // The counters stay the actor's own: it writes them.
        let q = &mut self.queue;
        q.name = stored.name;
        q.routing_method = stored.routing_method;
        q.tag_ids = stored.tag_ids;
        q.wait_timeout = stored.wait_timeout;
        q.service_timeout = stored.service_timeout;
        q.wrap_up_time = stored.wrap_up_time;
        self.waiting
            .set_wait_timeout(wait_timeout_of(self.queue.wait_timeout));
    }
}

impl Handler<Leave> for QueueActor {
    type Result = ();

    fn handle(&mut self, leave: Leave, _ctx: &mut Context<Self>) {
        let Some(held) = self.calls.remove(&leave.call) else {
            return;
        };
        if self.waiting.abandoned(leave.call, Instant::now()).is_some() {
            tracing::info!(queue = %self.queue.id, call = %leave.call, "call abandoned: the callee hung up");
            self.persist();
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
            if self.calls.get(&e.call).and_then(|h| h.stage.leg()) == Some(e.leg) {
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
            CallEvent::Answered { sdp, .. } => self.agent_answered(e.call, e.leg, &sdp, ctx),
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
