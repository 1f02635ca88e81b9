//! `CampaignActor`: one per running campaign. Every tick it refills its hopper of due targets
//! from the store, asks `pacing` how many dials to start, records each attempt durably and
//! only then starts its `CallActor`; when an attempt ends it asks `retry` what becomes of the
//! target and records that before the target counts as done.

use super::board::{held_by, Held, TickReport};
use super::caller_id::{self, PoolUsage};
use super::dial_mode::{AgentPacing, CallsNow};
use super::pacing::{dials_to_place, PacingInput};
use super::predictive::{AgentView, PredictiveSettings};
use super::retry;
use super::window;
use super::Deps;
use crate::call::actor::{AttemptEvent, CallActor, CallSetup, SafeHarbour};
use crate::domain::{
    dnclist, time, Address, AddressKind, Campaign, CampaignStatus, Campaigncall, DialMode,
    Disposition, EndHandle, Outplan, Queue, Target,
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

/// Attempts read back to measure times from when a campaign starts (answer, ring-out,
/// talk): as many as predictive pacing keeps.
const RESTORED_ATTEMPTS: u32 = 800;
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

/// What a target's call window says at one minute (windows open and close on whole minutes).
#[derive(Debug, Clone, Copy)]
enum WindowVerdict {
    Open,
    /// Closed until this instant (unix ms).
    ClosedUntil(i64),
    /// Closed for at least a year.
    Never,
}

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
    /// The caller id its INVITE carries.
    caller_id: Address,
    answered: bool,
    /// The RTP port taken for it, handed to its call once the attempt is recorded.
    port: Option<PortLease>,
    /// Counts it as setting up through the trunk; handed to its call with the port.
    setup_slot: Option<SetupSlot>,
    /// When it was dialed, answered, connected to an agent, and whether it has ended.
    dialed_at: Instant,
    answered_at: Option<Instant>,
    connected_at: Option<Instant>,
    ended: bool,
    /// Predictive pacing's take-back: sent to its call to cancel it while it rings.
    take_back: Option<tokio::sync::oneshot::Sender<Duration>>,
    /// When pacing took it back, if it did.
    taken_back_at: Option<Instant>,
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
    /// The zones of callees with none of their own (the outplan's `timezone`; UTC when empty).
    default_zones: Vec<chrono_tz::Tz>,
    /// The window's verdict per zone set for the current minute: computed once a minute per
    /// set of zones, not per target.
    windows: FastMap<Vec<chrono_tz::Tz>, (i64, WindowVerdict)>,
    /// The local times retries are moved to (`retry_at`).
    retry_times: Vec<chrono::NaiveTime>,
    /// How the outplan's caller ids have been used.
    pool: PoolUsage,
    /// The minute (unix minutes on the campaign clock) the hopper's windows were last checked
    /// in, and how many targets were added at its back since: windows open and close on whole
    /// minutes, so a target is checked once when it arrives and once a minute after that.
    window_checked: (i64, usize),
    /// What the last tick told the board (written again only when it changes).
    reported: Option<TickReport>,
    /// The queue answered calls join (a `call` campaign with a `queue_id`), which its dials
    /// are paced against, with that pacing's state.
    queue: Option<(Queue, AgentPacing)>,
    /// The safe harbour its calls get (power and predictive mode with a queue), once its
    /// message is ready.
    harbour: Option<SafeHarbour>,
    /// Dialing waits for the safe-harbour message to be prepared.
    preparing_harbour: bool,
    /// The clock of pacing: unix ms of the real clock (the one attempts are stored on),
    /// read at `started_at` and counted on from there.
    started_at: Instant,
    started_unix_ms: u64,
    /// Dialing waits for the pacing's measures to be read back from the stored attempts.
    restoring: bool,
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
        let default_zones = outplan
            .timezone
            .parse::<chrono_tz::Tz>()
            .map(|z| vec![z])
            .unwrap_or_default();
        let retry_times = retry::retry_times(&outplan);
        CampaignActor {
            default_zones,
            windows: FastMap::default(),
            retry_times,
            pool: PoolUsage::default(),
            window_checked: (i64::MIN, 0),
            reported: None,
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
            queue: None,
            harbour: None,
            preparing_harbour: false,
            started_at: Instant::now(),
            started_unix_ms: chrono::Utc::now().timestamp_millis().max(0) as u64,
            restoring: false,
        }
    }

    /// Paces the campaign's dials against `queue`'s agents by its dial mode.
    pub fn with_queue(mut self, queue: Queue) -> CampaignActor {
        let dialing = &self.deps.dialing;
        let settings = PredictiveSettings {
            harbour_ms: dialing.safe_harbour_ms,
            abandon_window_ms: dialing.abandon_window_minutes.saturating_mul(60_000),
            abandon_rate_cap: self.campaign.abandon_rate_cap,
            wrap_up_ms: queue.wrap_up_time,
            safety: dialing.predictive_safety,
            min_ring_ms: (self.campaign.min_ring_s > 0)
                .then_some(u64::from(self.campaign.min_ring_s) * 1000),
        };
        let pacing = AgentPacing::new(
            self.campaign.dial_mode,
            self.campaign.service_level,
            settings,
        );
        // The modes that may have more calls in progress than agents free need the safe
        // harbour; power at 100 % or less, like progressive, places one call per agent.
        self.preparing_harbour = match self.campaign.dial_mode {
            DialMode::Predictive => true,
            DialMode::Power => self.campaign.service_level > 100,
            DialMode::Progressive => false,
        };
        self.queue = Some((queue, pacing));
        self.restoring = true;
        self
    }

    /// Reads back what the campaign's stored attempts say of its pacing (the abandon window,
    /// the measured times), so that a restart or a stop and run again does not forget them;
    /// dialing starts once they are in.
    fn restore_measures(&mut self, ctx: &mut Context<Self>) {
        let Some((_, pacing)) = self.queue.as_ref() else {
            self.restoring = false;
            return;
        };
        let settings = *pacing.settings();
        let since_ms = self
            .started_unix_ms
            .saturating_sub(settings.abandon_window_ms)
            .min(i64::MAX as u64) as i64;
        let since = chrono::DateTime::from_timestamp_millis(since_ms)
            .map(time::format)
            .unwrap_or_default();
        let store = self.deps.store.clone();
        let id = self.campaign.id;
        let read = async move {
            store
                .pacing_history(id, &since, settings.harbour_ms, RESTORED_ATTEMPTS)
                .await
        };
        ctx.spawn(read.into_actor(self).map(|res, act, _| {
            act.restoring = false;
            let history = match res {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(campaign = %act.campaign.id, error = %e, "cannot read back the campaign's pacing measures; starting afresh");
                    return;
                }
            };
            let Some((_, pacing)) = act.queue.as_mut() else {
                return;
            };
            let m = &mut pacing.measures;
            for a in &history.attempts {
                if a.answered {
                    m.answered(a.setup_ms);
                } else {
                    m.unanswered(a.setup_ms);
                }
                if let Some(talk) = a.agent_talk_ms {
                    m.talked(talk);
                }
            }
            for &(at, answered, abandoned) in &history.minutes {
                m.restore(at.max(0) as u64, answered, abandoned);
            }
            let (answered, abandoned) = m.window();
            if answered > 0 || !history.attempts.is_empty() {
                tracing::info!(campaign = %act.campaign.id, answered, abandoned, attempts = history.attempts.len(), "pacing measures read back from the stored attempts");
            }
        }));
    }

    /// Prepares the safe-harbour message; dialing starts once it is ready (or could not be
    /// prepared: the calls are then hung up at the safe harbour without it).
    fn prepare_harbour(&mut self, ctx: &mut Context<Self>) {
        let dialing = self.deps.dialing.clone();
        let media = self.deps.media.clone();
        let load = async move {
            match &dialing.safe_harbour_audio {
                Some(source) => crate::media::load(source, &media.prompts_dir, &media.cache_dir)
                    .await
                    .map_err(|e| e.to_string()),
                None => crate::media::tts(
                    &dialing.safe_harbour_text,
                    "en-US",
                    "female",
                    &media.cache_dir,
                )
                .await
                .map_err(|e| e.to_string()),
            }
        };
        ctx.spawn(load.into_actor(self).map(|res, act, _| {
            let prompt = match res {
                Ok(samples) => Some(samples),
                Err(e) => {
                    tracing::error!(campaign = %act.campaign.id, error = %e, "cannot prepare the safe-harbour message; unconnected calls are hung up without it");
                    None
                }
            };
            act.harbour = Some(SafeHarbour {
                after: Duration::from_millis(act.deps.dialing.safe_harbour_ms),
                prompt,
            });
            act.preparing_harbour = false;
        }));
    }

    fn pacing_ms(&self, at: Instant) -> u64 {
        self.started_unix_ms + at.saturating_duration_since(self.started_at).as_millis() as u64
    }

    /// Sets the limit of the campaign's dial mode on `input` (a campaign with a queue), from
    /// the calls in flight ([`Self::weigh_calls`]) and the queue's agents.
    fn agent_limit(&mut self, now: Instant, input: &mut PacingInput) {
        let now_ms = self.pacing_ms(now);
        let (connected, weighed) = self.weigh_calls(now);
        input.campaign_connected = connected;
        let (Some((agents, calls)), Some((_, pacing))) = (weighed, self.queue.as_mut()) else {
            return;
        };
        let before = pacing.last_pace;
        pacing.limit(now_ms, &agents, &calls, input);
        if pacing.last_pace != before {
            let (answered, abandoned) = pacing.measures.window();
            tracing::info!(campaign = %self.campaign.id, pace = ?pacing.last_pace, answered, abandoned, "predictive pacing changed pace");
        }
    }

    /// The calls in flight as pacing weighs them, once predictive pacing has taken back the
    /// ringing calls it finds no agent for: how many hold or will hold no agent (connected,
    /// ended, taken back) and, with a queue, its agents and the other calls.
    fn weigh_calls(&mut self, now: Instant) -> (u32, Option<(Vec<AgentView>, CallsNow)>) {
        let now_ms = self.pacing_ms(now);
        let mut calls = CallsNow::default();
        let mut ringing_ids = Vec::new();
        let mut connected = 0;
        for (id, a) in self.in_flight.iter() {
            match (a.ended, a.answered_at, a.connected_at) {
                // A call taken back takes no agent: it is only in flight until its CANCEL
                // completes.
                (true, ..) | (false, _, Some(_)) => connected += 1,
                (false, None, None) if a.taken_back_at.is_some() => connected += 1,
                (false, Some(_), None) => calls.waiting += 1,
                (false, None, None) => {
                    calls.ringing.push(self.pacing_ms(a.dialed_at));
                    ringing_ids.push(*id);
                }
            }
        }
        let Some((queue, pacing)) = self.queue.as_mut() else {
            return (connected, None);
        };
        let snapshot = self
            .deps
            .agents
            .as_ref()
            .map(|board| board.all())
            .unwrap_or_default();
        let agents = pacing.observe(now_ms, queue, &snapshot);
        // Calls that have rung the minimum ring time with no agent predicted for them are
        // cancelled; the dial decision sees the others.
        let mut back = pacing.take_back(now_ms, &agents, &calls);
        if !back.is_empty() {
            back.sort_unstable();
            for &i in back.iter().rev() {
                calls.ringing.remove(i);
                let Some(a) = self.in_flight.get_mut(&ringing_ids[i]) else {
                    continue;
                };
                if let Some(tx) = a.take_back.take() {
                    let _ = tx.send(Duration::from_secs(u64::from(self.campaign.min_ring_s)));
                    a.taken_back_at = Some(now);
                    connected += 1;
                    tracing::debug!(campaign = %self.campaign.id, campaigncall = %ringing_ids[i], rung_ms = now.saturating_duration_since(a.dialed_at).as_millis() as u64, "pacing takes back a ringing call");
                }
            }
        }
        (connected, Some((agents, calls)))
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        self.write_pending(ctx);
        let now = Instant::now();
        if !self.winding_down
            && self
                .campaign
                .end_at
                .is_some_and(|end| self.deps.clock.now() >= end)
        {
            tracing::info!(campaign = %self.campaign.id, "end_at reached; no new dials");
            self.campaign.status_reason = "end_at".into();
            self.winding_down = true;
            self.hopper.clear();
            let in_flight: FastSet<Uuid> = self.in_flight.values().map(|a| a.target.id).collect();
            self.claimed.retain(|id| in_flight.contains(id));
        }
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
        let clock = self.deps.clock;
        let fetch = async move {
            let now_ms = clock.now_ms();
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
                    act.window_checked.1 += fresh;
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

    /// Records what this tick found, for `/eligibility`.
    fn report(&mut self, ready: u32, placed: u32, held: Held) {
        let (pace, abandon_window) = match &self.queue {
            Some((_, pacing)) => {
                let (answered, abandoned) = pacing.measures.window();
                (pacing.last_pace, (answered as u64, abandoned as u64))
            }
            None => (None, (0, 0)),
        };
        let report = TickReport {
            ready: u64::from(ready),
            placed: u64::from(placed),
            held,
            in_flight: self.in_flight.len() as u64,
            pace,
            abandon_window,
        };
        if self.reported != Some(report) {
            self.reported = Some(report);
            self.deps.board.record(self.campaign.id, report);
        }
    }

    /// What the call window says of callees in `zones` at `now` (cached for the minute).
    fn window_verdict(
        &mut self,
        zones: &[chrono_tz::Tz],
        now: chrono::DateTime<chrono::Utc>,
    ) -> WindowVerdict {
        let Some(w) = &self.outplan.call_window else {
            return WindowVerdict::Open;
        };
        let zones = if zones.is_empty() {
            self.default_zones.as_slice()
        } else {
            zones
        };
        let minute = now.timestamp().div_euclid(60);
        if let Some((m, verdict)) = self.windows.get(zones) {
            if *m == minute {
                return *verdict;
            }
        }
        let verdict = if window::is_open(w, zones, now) {
            WindowVerdict::Open
        } else {
            match window::next_opening(w, zones, now) {
                Some(t) => WindowVerdict::ClosedUntil(t.timestamp_millis()),
                None => WindowVerdict::Never,
            }
        };
        if self.windows.len() > 10_000 {
            self.windows.clear();
        }
        self.windows.insert(zones.to_vec(), (minute, verdict));
        verdict
    }

    /// Takes out of the hopper the targets whose call window is closed now and has them wait
    /// in the store for its next opening, with no try used.
    fn defer_closed(&mut self, ctx: &mut Context<Self>) {
        if self.outplan.call_window.is_none() || self.hopper.is_empty() {
            self.window_checked.1 = 0;
            return;
        }
        let now = self.deps.clock.now();
        let minute = now.timestamp().div_euclid(60);
        let (checked_minute, added) = self.window_checked;
        // Within the minute of the last check only the targets added since need a look.
        let already = if checked_minute == minute {
            self.hopper.len().saturating_sub(added)
        } else {
            0
        };
        self.window_checked = (minute, 0);
        if already == self.hopper.len() {
            return;
        }
        let at = time::now_string();
        let mut ops = Vec::new();
        let mut kept = VecDeque::with_capacity(self.hopper.len());
        let hopper = std::mem::take(&mut self.hopper);
        for (i, target) in hopper.into_iter().enumerate() {
            if i < already {
                kept.push_back(target);
                continue;
            }
            let until = match self.window_verdict(&target.zones, now) {
                WindowVerdict::Open => {
                    kept.push_back(target);
                    continue;
                }
                WindowVerdict::ClosedUntil(ms) => ms,
                // Looked at again in a day.
                WindowVerdict::Never => now.timestamp_millis() + 24 * 3600 * 1000,
            };
            ops.push(WriteOp::Defer {
                target_id: target.id,
                until_ms: until,
                at: at.clone(),
            });
        }
        self.hopper = kept;
        if ops.is_empty() {
            return;
        }
        tracing::debug!(campaign = %self.campaign.id, targets = ops.len(), "outside their call window; waiting for it to open");
        let ids: Vec<Uuid> = ops
            .iter()
            .filter_map(|op| match op {
                WriteOp::Defer { target_id, .. } => Some(*target_id),
                _ => None,
            })
            .collect();
        let writer = self.deps.writer.clone();
        ctx.spawn(
            async move { writer.write(ops).await }
                .into_actor(self)
                .map(move |res, act, _| {
                    if let Err(e) = res {
                        tracing::error!(campaign = %act.campaign.id, error = %e, "cannot record targets waiting for their window");
                    }
                    // Read again once due (or at once, if the write failed: then checked again).
                    for id in ids {
                        act.claimed.remove(&id);
                    }
                }),
        );
    }

    /// With nothing to dial (or dialing held), calls still ringing are weighed for the
    /// take-back all the same: the last calls of a list are as surplus as the others.
    fn take_back_only(&mut self, now: Instant) {
        if self.queue.is_some() && !self.in_flight.is_empty() {
            self.weigh_calls(now);
        }
    }

    fn dial(&mut self, now: Instant, ctx: &mut Context<Self>) {
        self.defer_closed(ctx);
        if self.hopper.is_empty() {
            self.take_back_only(now);
            self.report(0, 0, Held::Nothing);
            return;
        }
        if self.preparing_harbour || self.restoring || !self.may_dial(now) {
            self.take_back_only(now);
            let held = if self.preparing_harbour || self.restoring {
                Held::NoAgent
            } else if self.deps.health.store.failure().is_some() {
                Held::StoreUnwritable
            } else {
                Held::TrunkDown
            };
            self.report(self.hopper.len() as u32, 0, held);
            return;
        }
        let campaign_in_flight = self.in_flight.len() as u32;
        let campaign_max = self.campaign.max_concurrent;
        let ready = self.hopper.len() as u32;
        let trunk_max = self.gate.trunk.config.max_concurrent;
        let trunk_in_flight = self.gate.in_flight();
        let trunk_max_setup = self.gate.trunk.config.max_setup;
        let trunk_setting_up = self.gate.setting_up();
        let deps = self.deps.clone();
        let ports = &deps.media.ports;
        let media_ports = Some(ports.available().min(u32::MAX as usize) as u32);
        let mut input = PacingInput {
            ready,
            campaign_in_flight,
            campaign_max_concurrent: campaign_max,
            trunk_in_flight,
            trunk_max_concurrent: trunk_max,
            trunk_setting_up,
            trunk_max_setup,
            tokens: 0,
            campaign_connected: 0,
            agents: None,
            predicted: None,
            media_ports,
        };
        if self.queue.is_some() {
            self.agent_limit(now, &mut input);
        }
        let mut held = Held::Nothing;
        let n = self.gate.admit(now, |tokens| {
            let input = PacingInput { tokens, ..input };
            let n = dials_to_place(&input);
            held = held_by(&input, n);
            n
        });
        self.report(ready, n, held);
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
                    outdial_id: target.outdial_id,
                    at: at.clone(),
                });
                continue;
            };
            tries[slot] += 1;
            let destination = target.destinations.get(slot).cloned().unwrap_or_default();
            let caller_id = if self.outplan.sources.is_empty() {
                self.outplan.source.clone()
            } else {
                let i = caller_id::choose(
                    self.outplan.source_strategy,
                    &self.outplan.sources,
                    &destination,
                    &mut self.pool,
                    rand::random(),
                );
                self.outplan.sources[i].clone()
            };
            let mut call = Campaigncall::dialing(
                &self.campaign,
                &self.outplan,
                target.id,
                &destination,
                slot,
                tries[slot],
                &at,
            );
            call.caller_id = caller_id.kind.target();
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
                    caller_id,
                    answered: false,
                    port,
                    setup_slot: Some(self.gate.setup_slot()),
                    dialed_at: now,
                    answered_at: None,
                    connected_at: None,
                    ended: false,
                    take_back: None,
                    taken_back_at: None,
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
        let attempt = self.in_flight.get_mut(&campaigncall_id)?;
        let source = &attempt.caller_id;
        let caller_id = source.dialable();
        let caller_name = Some(source.target_name.to_string()).filter(|n| !n.is_empty());
        let port = attempt.port.take();
        let setup_slot = attempt.setup_slot.take();
        let take_back = match (self.campaign.dial_mode, self.campaign.min_ring_s) {
            (DialMode::Predictive, 1..) if self.queue.is_some() => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                attempt.take_back = Some(tx);
                Some(rx)
            }
            _ => None,
        };
        // The target's name and data are not needed here again: moved, not copied.
        let context = CallContext {
            target_id: attempt.target.id,
            target_name: std::mem::take(&mut attempt.target.name),
            target_data: std::mem::take(&mut attempt.target.data),
            destination: dialed.to_string(),
            campaigncall_id,
            campaign_id: self.campaign.id,
            source: source.kind.target(),
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
                safe_harbour: self.harbour.clone(),
                take_back,
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
        self.deps.board.remove(self.campaign.id);
        let mut campaign = self.campaign.clone();
        campaign.status = status;
        campaign.tm_update = time::now_string();
        let reason = std::mem::take(&mut self.campaign.status_reason);
        let engine = self.engine.clone();
        let id = campaign.id;
        ctx.spawn(
            async move {
                let docs = crate::store::Docs(store.as_ref());
                // The stored campaign may have been edited while it ran: change only its status.
                let stored: Option<Campaign> = docs.get(None, id).await.ok().flatten();
                let mut latest = stored.unwrap_or(campaign.clone());
                latest.status = status;
                latest.status_reason = reason;
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
        let now = Instant::now();
        let now_ms = self.pacing_ms(now);
        let Some(attempt) = self.in_flight.get_mut(&campaigncall_id) else {
            return;
        };
        if attempt.ended {
            return;
        }
        attempt.ended = true;
        if let Some((_, pacing)) = self.queue.as_mut() {
            let m = &mut pacing.measures;
            let rung = |at: Instant| at.duration_since(attempt.dialed_at).as_millis() as u64;
            match (attempt.answered_at, attempt.connected_at) {
                (None, _) => match (attempt.taken_back_at, outcome.disposition) {
                    // Whether it would have answered is not known.
                    (Some(at), Disposition::NoAnswer) => m.taken_back(rung(at)),
                    // Answered as it was cancelled, and hung up on: abandoned.
                    (Some(_), Disposition::Abandoned) => {
                        m.answered(rung(now));
                        m.served(now_ms, true);
                    }
                    _ => m.unanswered(rung(now)),
                },
                (Some(_), Some(connected)) => {
                    m.talked(now.duration_since(connected).as_millis() as u64)
                }
                // Answered and gone with no agent: abandoned if it was left waiting for one
                // (the safe harbour, the queue's wait, the callee hanging up on it); an
                // answering machine is no live answer.
                (Some(_), None) => match outcome.disposition {
                    Disposition::Abandoned => m.served(now_ms, true),
                    Disposition::Machine => {}
                    _ => m.served(now_ms, false),
                },
            }
        }
        let attempt = &self.in_flight[&campaigncall_id];
        self.gate.release();
        if outcome.sip_code.is_some() {
            crate::metrics::global().call_setup(Duration::from_millis(outcome.setup_ms));
        }
        // An answered call told of the trunk when it was answered; its end, maybe minutes
        // later, says nothing new.
        match outcome.peer_fault {
            Some(fault) => self.gate.observe(now, Observation::CallFault(fault)),
            None if outcome.sip_code.is_some() && !attempt.answered => {
                self.gate.observe(now, Observation::CallTaken)
            }
            None => {}
        }
        let now_ms = self.deps.clock.now_ms();
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
            // Taken back by pacing before the callee could answer: not the callee's doing, so
            // its try is given back; it is dialed again after the outplan's try interval.
            None if attempt.taken_back_at.is_some()
                && outcome.disposition == Disposition::NoAnswer =>
            {
                TargetNext::Requeue {
                    at: now_ms + i64::try_from(self.outplan.try_interval).unwrap_or(i64::MAX / 2),
                    slot: attempt.slot,
                }
            }
            _ => {
                // "Call back at 17:00": the retry waits for the next such local time.
                let zone = retry::callee_zone(&attempt.target.zones, &self.outplan.timezone);
                retry::after_attempt_local(
                    &self.outplan,
                    &self.retry_times,
                    zone,
                    attempt.tries,
                    attempt.target.destinations.present(),
                    outcome.disposition,
                    now_ms,
                )
            }
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
            campaign_id: self.campaign.id,
            target_id: attempt.target.id,
            outdial_id: attempt.target.outdial_id,
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
        let had_calls = !self.in_flight.is_empty();
        for id in msg.ended {
            if let Some(a) = self.in_flight.remove(&id) {
                self.claimed.remove(&a.target.id);
            }
        }
        if had_calls && self.in_flight.is_empty() && self.hopper.is_empty() {
            // The last call in flight has ended: look at once for targets left (a retry
            // due, or none: the campaign has finished), rather than at the next idle look,
            // which may be up to MAX_IDLE_POLL away after a long call.
            self.next_refill = Instant::now();
        }
    }
}

impl Actor for CampaignActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(campaign = %self.campaign.id, name = %self.campaign.name, dial_mode = self.campaign.dial_mode.as_str(), "campaign running");
        if self.preparing_harbour {
            self.prepare_harbour(ctx);
        }
        if self.restoring {
            self.restore_measures(ctx);
        }
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
                let now = Instant::now();
                if let Some(a) = self.in_flight.get_mut(&campaigncall_id) {
                    a.answered = true;
                    a.answered_at = Some(now);
                    if let Some((_, pacing)) = self.queue.as_mut() {
                        let ring = now.duration_since(a.dialed_at).as_millis() as u64;
                        pacing.measures.answered(ring);
                    }
                }
                self.gate.observe(Instant::now(), Observation::CallTaken);
                self.pending.push(WriteOp::Answered {
                    campaigncall_id,
                    dialog,
                    at: time::now_string(),
                });
            }
            AttemptEvent::Connected { campaigncall_id } => {
                let now = Instant::now();
                let now_ms = self.pacing_ms(now);
                if let Some(a) = self.in_flight.get_mut(&campaigncall_id) {
                    a.connected_at = Some(now);
                    if let Some((_, pacing)) = self.queue.as_mut() {
                        let wait = a
                            .answered_at
                            .map_or(0, |at| now.duration_since(at).as_millis() as u64);
                        let late = wait > pacing.settings().harbour_ms;
                        pacing.measures.served(now_ms, late);
                    }
                }
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
