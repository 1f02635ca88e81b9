//! `CampaignActor`: one per running campaign. Every tick it refills its hopper of due targets
//! from the store, asks `pacing` how many dials to start, records each attempt durably and
//! only then starts its `CallActor`; when an attempt ends it asks `retry` what becomes of the
//! target and records that before the target counts as done.

use super::pacing::{dials_to_place, PacingInput};
use super::retry;
use super::Deps;
use crate::call::actor::{AttemptEvent, CallActor, CallSetup};
use crate::domain::{
    dnclist, time, Address, AddressKind, Campaign, CampaignStatus, Campaigncall, Disposition,
    EndHandle, Outplan, Target,
};
use crate::fast::{FastMap, FastSet};
use crate::flow::CallContext;
use crate::media::ports::PortLease;
use crate::metrics::AttemptTally;
use crate::sip::endpoint::PeerFault;
use crate::store::{AttemptEnd, DueCursor, TargetNext, WriteOp};
use crate::trunk::{Observation, SetupSlot, TrunkGate};
use actix::prelude::*;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How often a campaign looks at its limits.
const TICK: Duration = Duration::from_millis(10);
/// Targets fetched per refill.
const REFILL_BATCH: u32 = 1000;
/// How long to wait before looking again when no target is due; doubled after each look that
/// finds none, up to [`MAX_IDLE_POLL`], so that a campaign with nothing to dial costs next to
/// nothing (a thousand of them on one node).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// The longest wait between two looks for due targets.
const MAX_IDLE_POLL: Duration = Duration::from_secs(2);
/// How often a campaign that may not dial (the store cannot write, its trunk is down) looks
/// again.
const HELD_TICK: Duration = Duration::from_millis(100);

/// The campaign tells the engine it has stopped (`finished`: every target done).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct CampaignEnded {
    /// The campaign.
    pub id: Uuid,
    /// The status it ended in.
    pub status: CampaignStatus,
}

/// The engine asks a running campaign to wind down (no new dials; in-flight calls finish).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct WindDown;

/// An attempt in flight.
struct Attempt {
    target: Target,
    slot: usize,
    /// Tries of each slot including this attempt.
    tries: [u32; 5],
    answered: bool,
    /// The RTP port taken for it, handed to its call once the attempt is recorded.
    port: Option<PortLease>,
    /// Counts it as setting up through the trunk; handed to its call with the port.
    setup_slot: Option<SetupSlot>,
}

/// One running campaign.
pub struct CampaignActor {
    campaign: Campaign,
    outplan: Outplan,
    actions: Arc<[crate::domain::Action]>,
    gate: Arc<TrunkGate>,
    deps: Arc<Deps>,
    engine: Recipient<CampaignEnded>,
    hopper: VecDeque<Target>,
    /// Targets in the hopper or in flight (the store still says `idle` for some of them).
    claimed: FastSet<Uuid>,
    in_flight: FastMap<Uuid, Attempt>,
    refilling: bool,
    next_refill: Instant,
    /// Looks in a row that found no target due.
    empty_refills: u32,
    /// Where the last refill stopped in the order of due targets; `None` once a refill came
    /// back short (the next one starts again from the first due target, which finds targets
    /// added or made due behind this point).
    cursor: Option<DueCursor>,
    winding_down: bool,
    ended: bool,
    /// Answers and ends of attempts heard since the last tick, written together at the next.
    pending: Vec<WriteOp>,
    /// Why the campaign places no call now (the store cannot write, its trunk is down).
    held: Option<String>,
    /// Targets given their try back once already after an isolated trunk fault: a second
    /// one counts (a number that the trunk always drops is not dialed for ever).
    given_back: FastSet<Uuid>,
    /// The do-not-call lists checked with each Begin: the customer's default list, the
    /// campaign's and the outplan's.
    dnc_lists: Arc<[Uuid]>,
}

impl CampaignActor {
    /// A campaign ready to run.
    pub fn new(
        campaign: Campaign,
        outplan: Outplan,
        actions: Vec<crate::domain::Action>,
        gate: Arc<TrunkGate>,
        deps: Arc<Deps>,
        engine: Recipient<CampaignEnded>,
    ) -> CampaignActor {
        let mut dnc_lists = vec![dnclist::default_id(campaign.customer_id)];
        for id in campaign.dnclist_ids.iter().chain(&outplan.dnclist_ids) {
            if !dnc_lists.contains(id) {
                dnc_lists.push(*id);
            }
        }
        CampaignActor {
            dnc_lists: dnc_lists.into(),
            campaign,
            outplan,
            actions: actions.into(),
            gate,
            deps,
            engine,
            hopper: VecDeque::new(),
            claimed: FastSet::default(),
            in_flight: FastMap::default(),
            refilling: false,
            next_refill: Instant::now(),
            empty_refills: 0,
            cursor: None,
            winding_down: false,
            ended: false,
            pending: Vec::new(),
            held: None,
            given_back: FastSet::default(),
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        self.write_pending(ctx);
        let now = Instant::now();
        if self.winding_down {
            if self.in_flight.is_empty() {
                self.end(CampaignStatus::Stop, ctx);
            }
            return;
        }
        if self.hopper.len() < (REFILL_BATCH / 2) as usize
            && !self.refilling
            && now >= self.next_refill
        {
            self.refill(ctx);
        }
        self.dial(now, ctx);
    }

    /// Ticks again soon while there is work (targets ready, calls in flight, writes to make),
    /// less often while dialing is held, and only at the next look for due targets when there
    /// is nothing to do.
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        let busy = !self.in_flight.is_empty()
            || !self.pending.is_empty()
            || self.refilling
            || self.winding_down;
        let wait = if busy || (!self.hopper.is_empty() && self.held.is_none()) {
            TICK
        } else if !self.hopper.is_empty() {
            HELD_TICK
        } else {
            self.next_refill
                .saturating_duration_since(Instant::now())
                .clamp(TICK, MAX_IDLE_POLL)
        };
        ctx.run_later(wait, |act, ctx| {
            act.tick(ctx);
            act.schedule(ctx);
        });
    }

    fn refill(&mut self, ctx: &mut Context<Self>) {
        self.refilling = true;
        let store = self.deps.store.clone();
        let outdial = self.campaign.outdial_id;
        let cursor = self.cursor;
        // From the first due target, the ones this campaign holds are read again (and
        // skipped); after the cursor there are none of them.
        let limit = match cursor {
            Some(_) => REFILL_BATCH,
            None => REFILL_BATCH + self.claimed.len() as u32,
        };
        let check_end = self.hopper.is_empty() && self.in_flight.is_empty();
        let fetch = async move {
            let now_ms = chrono::Utc::now().timestamp_millis();
            let (due, next) = store.due_targets(outdial, now_ms, cursor, limit).await?;
            let next = if due.len() < limit as usize {
                None
            } else {
                next
            };
            let counts = if check_end && due.is_empty() {
                Some(store.count_targets(outdial, now_ms).await?)
            } else {
                None
            };
            Ok::<_, crate::store::StoreError>((due, next, counts))
        };
        ctx.spawn(fetch.into_actor(self).map(|res, act, ctx| {
            act.refilling = false;
            match res {
                Ok((due, next, counts)) => {
                    act.cursor = next;
                    let mut fresh = 0;
                    for t in due {
                        if act.claimed.insert(t.id) {
                            act.hopper.push_back(t);
                            fresh += 1;
                        }
                    }
                    if fresh == 0 {
                        let wait = IDLE_POLL.saturating_mul(1 << act.empty_refills.min(4));
                        act.next_refill = Instant::now() + wait.min(MAX_IDLE_POLL);
                        act.empty_refills += 1;
                    } else {
                        act.empty_refills = 0;
                    }
                    if let Some(c) = counts {
                        let nothing_left = c.queued == 0 && c.dialing == 0;
                        if nothing_left
                            && act.campaign.end_handle == EndHandle::Stop
                            && act.in_flight.is_empty()
                            && act.hopper.is_empty()
                        {
                            act.end(CampaignStatus::Finished, ctx);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(campaign = %act.campaign.id, error = %e, "cannot read targets");
                    act.next_refill = Instant::now() + IDLE_POLL;
                }
            }
        }));
    }

    /// Whether the campaign may place calls now; logs when that changes.
    fn may_dial(&mut self, now: Instant) -> bool {
        let held = self.deps.health.dialing_held(&self.campaign.trunk, now);
        if held != self.held {
            match &held {
                Some(reason) => {
                    tracing::warn!(campaign = %self.campaign.id, reason, "campaign paused")
                }
                None => tracing::info!(campaign = %self.campaign.id, "campaign dialing again"),
            }
            self.held = held;
        }
        self.held.is_none()
    }

    fn dial(&mut self, now: Instant, ctx: &mut Context<Self>) {
        if self.hopper.is_empty() || !self.may_dial(now) {
            return;
        }
        let campaign_in_flight = self.in_flight.len() as u32;
        let campaign_max = self.campaign.max_concurrent;
        let ready = self.hopper.len() as u32;
        let trunk_max = self.gate.trunk.config.max_concurrent;
        let trunk_in_flight = self.gate.in_flight();
        let trunk_max_setup = self.gate.trunk.config.max_setup;
        let trunk_setting_up = self.gate.setting_up();
        let ports = &self.deps.media.ports;
        let media_ports = Some(ports.available().min(u32::MAX as usize) as u32);
        let n = self.gate.admit(now, |tokens| {
            dials_to_place(&PacingInput {
                ready,
                campaign_in_flight,
                campaign_max_concurrent: campaign_max,
                trunk_in_flight,
                trunk_max_concurrent: trunk_max,
                trunk_setting_up,
                trunk_max_setup,
                tokens,
                agents: None,
                media_ports,
            })
        });
        if n == 0 {
            return;
        }
        let at = time::now_string();
        let mut ops = Vec::with_capacity(n as usize);
        let mut started = Vec::with_capacity(n as usize);
        let mut exhausted = Vec::new();
        let mut used = 0;
        for _ in 0..n {
            let Some(target) = self.hopper.pop_front() else {
                break;
            };
            // Only campaign actors take ports, all on this thread, so what `available` counted
            // is there, unless another process holds some of them (they are skipped and tried
            // later): then no call is placed that would have no port for its media.
            let Some(port) = ports.take() else {
                self.hopper.push_front(target);
                tracing::warn!(campaign = %self.campaign.id, "no free RTP port; dialing waits for one");
                break;
            };
            let port = Some(port);
            used += 1;
            let mut tries = target.tries.to_array();
            let Some(slot) = retry::next_slot(
                self.outplan.max_tries(),
                tries,
                target.destinations.present(),
            ) else {
                // Nothing left to try (the outplan changed under it): close it without a call.
                self.gate.release();
                self.claimed.remove(&target.id);
                exhausted.push(WriteOp::Exhausted {
                    target_id: target.id,
                    at: at.clone(),
                });
                continue;
            };
            tries[slot] += 1;
            let destination = target.destinations.get(slot).cloned().unwrap_or_default();
            let call = Campaigncall::dialing(
                &self.campaign,
                &self.outplan,
                target.id,
                &destination,
                slot,
                tries[slot],
                &at,
            );
            started.push((call.id, destination));
            ops.push(WriteOp::Begin {
                call: Box::new(call),
                slot,
                dnc_lists: self.dnc_lists.clone(),
            });
            self.in_flight.insert(
                started.last().map(|s| s.0).unwrap_or_default(),
                Attempt {
                    target,
                    slot,
                    tries,
                    answered: false,
                    port,
                    setup_slot: Some(self.gate.setup_slot()),
                },
            );
        }
        for _ in used..n {
            self.gate.release();
        }
        if !exhausted.is_empty() {
            let writer = self.deps.writer.clone();
            actix::spawn(async move {
                let _ = writer.write(exhausted).await;
            });
        }
        let writer = self.deps.writer.clone();
        ctx.spawn(async move { writer.write(ops).await }.into_actor(self).map(move |res, act, ctx| {
            let applied = match res {
                Ok(applied) => applied,
                Err(e) => {
                    // Not durable, so not dialed: the targets stay in the store's queue.
                    tracing::error!(campaign = %act.campaign.id, error = %e, "cannot record attempts; not dialing them");
                    Vec::new()
                }
            };
            let mut calls = Vec::with_capacity(started.len());
            for (i, (id, destination)) in started.into_iter().enumerate() {
                if applied.get(i).copied().unwrap_or(false) {
                    calls.extend(act.call_actor(id, &destination, ctx));
                } else if let Some(a) = act.in_flight.remove(&id) {
                    // The store refused it: the target moved on since we read it (another
                    // attempt of it, a stale copy, another node). It is read afresh later.
                    act.claimed.remove(&a.target.id);
                    act.gate.release();
                }
            }
            act.deps.start_calls(calls);
        }));
    }

    /// The actor that places the attempt `campaigncall_id` (none if it is no longer in flight).
    fn call_actor(
        &mut self,
        campaigncall_id: Uuid,
        destination: &Address,
        ctx: &mut Context<Self>,
    ) -> Option<CallActor<CampaignActor>> {
        // Addresses are checked when targets and outplans are created; one that still cannot
        // be dialed (a document older than the check) ends the attempt as failed.
        let Some(dialed) = destination.dialable() else {
            let reason = format!(
                "{} addresses cannot be dialed",
                destination.kind.type_name()
            );
            self.ended_attempt(
                campaigncall_id,
                crate::call::CallOutcome::failed(reason),
                None,
            );
            return None;
        };
        let source = &self.outplan.source;
        let caller_id = source.dialable();
        let caller_name = Some(source.target_name.to_string()).filter(|n| !n.is_empty());
        let attempt = self.in_flight.get_mut(&campaigncall_id)?;
        let port = attempt.port.take();
        let setup_slot = attempt.setup_slot.take();
        // The target's name and data are not needed here again: moved, not copied.
        let context = CallContext {
            target_id: attempt.target.id,
            target_name: std::mem::take(&mut attempt.target.name),
            target_data: std::mem::take(&mut attempt.target.data),
            destination: dialed.to_string(),
            campaigncall_id,
            campaign_id: self.campaign.id,
            source: self.outplan.source.kind.target(),
        };
        Some(CallActor::new(
            CallSetup {
                campaigncall_id,
                // The one the attempt's Begin recorded.
                call_id: Some(Campaigncall::sip_call_id_of(campaigncall_id)),
                destination: dialed,
                caller_id,
                caller_name,
                dial_timeout: Duration::from_millis(self.outplan.dial_timeout),
                actions: self.actions.clone(),
                context,
                trunk: self.gate.trunk.clone(),
                endpoint: self.deps.endpoint.clone(),
                media: self.deps.media.clone(),
                port,
                setup_slot,
                customer_id: self.campaign.customer_id,
                queues: self.deps.queues.clone(),
            },
            ctx.address(),
        ))
    }

    fn end(&mut self, status: CampaignStatus, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let store = self.deps.store.clone();
        let mut campaign = self.campaign.clone();
        campaign.status = status;
        campaign.tm_update = time::now_string();
        let engine = self.engine.clone();
        let id = campaign.id;
        ctx.spawn(
            async move {
                let docs = crate::store::Docs(store.as_ref());
                // The stored campaign may have been edited while it ran: change only its status.
                let stored: Option<Campaign> = docs.get(None, id).await.ok().flatten();
                let mut latest = stored.unwrap_or(campaign.clone());
                latest.status = status;
                latest.tm_update = campaign.tm_update;
                if let Err(e) = docs.put(&latest).await {
                    tracing::error!(campaign = %id, error = %e, "cannot store the campaign's end");
                }
                engine.do_send(CampaignEnded { id, status });
            }
            .into_actor(self)
            .map(|_, _, ctx| ctx.stop()),
        );
    }

    fn ended_attempt(
        &mut self,
        campaigncall_id: Uuid,
        outcome: crate::call::CallOutcome,
        flow_result: Option<serde_json::Value>,
    ) {
        let Some(attempt) = self.in_flight.get(&campaigncall_id) else {
            return;
        };
        self.gate.release();
        if outcome.sip_code.is_some() {
            crate::metrics::global().call_setup(Duration::from_millis(outcome.setup_ms));
        }
        let now = Instant::now();
        // An answered call told of the trunk when it was answered; its end, maybe minutes
        // later, says nothing new.
        match outcome.peer_fault {
            Some(fault) => self.gate.observe(now, Observation::CallFault(fault)),
            None if outcome.sip_code.is_some() && !attempt.answered => {
                self.gate.observe(now, Observation::CallTaken)
            }
            None => {}
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        let target_id = attempt.target.id;
        let next = match outcome.peer_fault {
            // The callee never saw the call: its try is given back when the trunk is now
            // held (down, or asked for a pause), or once for an isolated fault.
            Some(fault) if self.gate.hold(now).is_some() || self.given_back.insert(target_id) => {
                let pause = match fault {
                    PeerFault::Unavailable {
                        retry_after: Some(secs),
                    } => i64::from(secs) * 1000,
                    _ => 0,
                };
                TargetNext::Requeue {
                    at: now_ms + pause,
                    slot: attempt.slot,
                }
            }
            _ => retry::after_attempt(
                &self.outplan,
                attempt.tries,
                attempt.target.destinations.present(),
                outcome.disposition,
                now_ms,
            ),
        };
        // The callee asked, through the flow, not to be called again: the number goes on the
        // customer's default list in the same commit as the attempt's end.
        let mut disposition = outcome.disposition;
        if disposition == Disposition::Answered
            && flow_result.as_ref().is_some_and(crate::flow::opted_out)
        {
            if let Some(AddressKind::Tel(number)) = attempt
                .target
                .destinations
                .get(attempt.slot)
                .map(|d| &d.kind)
            {
                self.pending.push(WriteOp::OptOut {
                    customer_id: self.campaign.customer_id,
                    number: number.clone(),
                    at: time::now_string(),
                });
                disposition = Disposition::OptedOut;
            }
        }
        tracing::debug!(campaign = %self.campaign.id, slot = attempt.slot, answered = attempt.answered, disposition = %disposition, "attempt ended");
        let end = AttemptEnd {
            campaigncall_id,
            target_id: attempt.target.id,
            disposition,
            sip_code: outcome.sip_code,
            reason: outcome.reason,
            hangup_by: outcome.hangup_by,
            setup_ms: outcome.setup_ms,
            talk_ms: outcome.talk_ms,
            next,
            at: time::now_string(),
            flow_result,
            served: (outcome.queue_id.is_some() || outcome.agent_id.is_some()).then_some(
                crate::store::Served {
                    queue_id: outcome.queue_id,
                    agent_id: outcome.agent_id,
                    wait_ms: outcome.wait_ms,
                },
            ),
        };
        self.pending.push(WriteOp::End(Box::new(end)));
    }

    /// Writes the answers and ends heard since the last tick as one batch; once it is
    /// committed (or could not be), the ended attempts' targets are released. One write a tick
    /// instead of one per event: thousands of attempts a second would otherwise each cost a
    /// task, a queue entry and an acknowledgement.
    fn write_pending(&mut self, ctx: &mut Context<Self>) {
        if self.pending.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.pending);
        let ended: Vec<Uuid> = ops.iter().filter_map(WriteOp::ended_call).collect();
        let tally = AttemptTally::new(&self.campaign, ops.iter().filter_map(WriteOp::ended_with));
        // A detached task, not an actor future: actix polls every future an actor has spawned
        // each time the actor wakes, so pending writes would cost O(n) per event.
        let writer = self.deps.writer.clone();
        let me = ctx.address();
        actix::spawn(async move {
            match writer.write(ops).await {
                Ok(_) => crate::metrics::global().attempts_recorded(&tally),
                // The attempts stay open in the store: recovery closes them as unknown.
                Err(e) => {
                    tracing::error!(error = %e, attempts = ended.len(), "cannot record attempts' answers and ends")
                }
            }
            if !ended.is_empty() {
                me.do_send(EndsCommitted { ended });
            }
        });
    }
}

/// The ends of these attempts are durable (or could not be made so): their targets are
/// released.
#[derive(Message)]
#[rtype(result = "()")]
struct EndsCommitted {
    ended: Vec<Uuid>,
}

impl Handler<EndsCommitted> for CampaignActor {
    type Result = ();

    fn handle(&mut self, msg: EndsCommitted, _ctx: &mut Context<Self>) {
        for id in msg.ended {
            if let Some(a) = self.in_flight.remove(&id) {
                self.claimed.remove(&a.target.id);
            }
        }
    }
}

impl Actor for CampaignActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(campaign = %self.campaign.id, name = %self.campaign.name, "campaign running");
        self.schedule(ctx);
    }
}

impl Handler<AttemptEvent> for CampaignActor {
    type Result = ();

    fn handle(&mut self, event: AttemptEvent, _ctx: &mut Context<Self>) {
        match event {
            AttemptEvent::Answered {
                campaigncall_id,
                dialog,
            } => {
                if let Some(a) = self.in_flight.get_mut(&campaigncall_id) {
                    a.answered = true;
                }
                self.gate.observe(Instant::now(), Observation::CallTaken);
                self.pending.push(WriteOp::Answered {
                    campaigncall_id,
                    dialog,
                    at: time::now_string(),
                });
            }
            AttemptEvent::Ended {
                campaigncall_id,
                outcome,
                flow_result,
            } => self.ended_attempt(campaigncall_id, outcome, flow_result),
        }
    }
}

impl Handler<WindDown> for CampaignActor {
    type Result = ();

    fn handle(&mut self, _: WindDown, _ctx: &mut Context<Self>) {
        self.winding_down = true;
        self.hopper.clear();
        self.claimed
            .retain(|id| self.in_flight.values().any(|a| a.target.id == *id));
    }
}

/// The disposition recorded for attempts found open after a restart that were never answered.
pub const RECOVERED: Disposition = Disposition::Unknown;
