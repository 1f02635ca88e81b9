//! The engine: starts a `CampaignActor` when a campaign is set to `run` (by the API, at start
//! for campaigns that were running, or as another campaign's `next_campaign_id`), winds it
//! down on `stop`, starts a `scheduled` campaign at its `scheduled_at` (also after a
//! restart), and closes attempts that a crash left open.

use super::actor::{CampaignActor, CampaignEnded, WindDown};
use super::{retry, Control, Deps};
use crate::domain::{
    time, CallStatus, Campaign, CampaignStatus, CampaignType, Disposition, HangupBy, Outplan,
};
use crate::sip::dialog::DialogRecord;
use crate::store::{AttemptEnd, Docs, Store, StoreError, WriteOp};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A request to the engine.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct StatusChanged {
    /// The campaign.
    pub id: Uuid,
    /// Its new status.
    pub status: CampaignStatus,
}

/// The registry of running campaigns.
pub struct Engine {
    deps: Arc<Deps>,
    running: HashMap<Uuid, Addr<CampaignActor>>,
}

impl Engine {
    /// An engine over the given dependencies.
    pub fn new(deps: Arc<Deps>) -> Engine {
        Engine {
            deps,
            running: HashMap::new(),
        }
    }

    fn run(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        if self.running.contains_key(&id) {
            return;
        }
        let deps = self.deps.clone();
        let load = async move {
            let docs = Docs(deps.store.as_ref());
            let campaign: Option<Campaign> = docs.get(None, id).await?;
            let Some(campaign) = campaign else {
                return Ok(None);
            };
            let outplan: Option<Outplan> = docs
                .get(Some(campaign.customer_id), campaign.outplan_id)
                .await?;
            let Some(outplan) = outplan else {
                return Ok(None);
            };
            let mut actions = crate::store::resolve_actions(deps.store.as_ref(), &campaign).await?;
            // A call campaign with a queue hands each answered call to it after its actions.
            if campaign.kind == crate::domain::CampaignType::Call && !campaign.queue_id.is_nil() {
                actions.push(crate::domain::Action {
                    id: uuid::Uuid::nil(),
                    next_id: uuid::Uuid::nil(),
                    kind: "queue_join".into(),
                    option: serde_json::json!({ "queue_id": campaign.queue_id }),
                });
            }
            // Its dials are paced against the queue's agents.
            let queue: Option<crate::domain::Queue> = if campaign.queue_id.is_nil() {
                None
            } else {
                docs.get(Some(campaign.customer_id), campaign.queue_id)
                    .await?
            };
            Ok::<_, StoreError>(Some((campaign, outplan, actions, queue)))
        };
        ctx.spawn(load.into_actor(self).map(move |res, act, ctx| match res {
            Ok(Some((campaign, outplan, actions, queue))) => {
                act.spawn_campaign(campaign, outplan, actions, queue, ctx)
            }
            Ok(None) => {
                tracing::warn!(campaign = %id, "campaign or its outplan is gone; not running it")
            }
            Err(e) => tracing::error!(campaign = %id, error = %e, "cannot load campaign"),
        }));
    }

    /// Starts the `scheduled` campaign `id` at its `scheduled_at` on the campaigns' clock.
    fn schedule(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        let deps = self.deps.clone();
        let load = async move { Docs(deps.store.as_ref()).get::<Campaign>(None, id).await };
        ctx.spawn(load.into_actor(self).map(move |res, act, ctx| {
            let campaign = match res {
                Ok(Some(c)) if c.status == CampaignStatus::Scheduled => c,
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(campaign = %id, error = %e, "cannot load the scheduled campaign");
                    return;
                }
            };
            let at = campaign.scheduled_at.unwrap_or_default();
            let wait = (at - act.deps.clock.now()).to_std().unwrap_or_default();
            tracing::info!(campaign = %id, scheduled_at = %at, "campaign scheduled");
            ctx.run_later(wait, move |act, ctx| act.start_scheduled(id, at, ctx));
        }));
    }

    /// The time of a scheduled campaign has come: it runs, unless it was stopped or given
    /// another time meanwhile.
    fn start_scheduled(
        &mut self,
        id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
        ctx: &mut Context<Self>,
    ) {
        let store = self.deps.store.clone();
        let start = async move {
            let docs = Docs(store.as_ref());
            let mut c: Campaign = docs.get(None, id).await.ok().flatten()?;
            if c.status != CampaignStatus::Scheduled || c.scheduled_at != Some(at) {
                return None;
            }
            c.status = CampaignStatus::Run;
            c.status_reason = String::new();
            c.tm_update = time::now_string();
            if let Err(e) = docs.put(&c).await {
                tracing::error!(campaign = %id, error = %e, "cannot start the scheduled campaign");
                return None;
            }
            tracing::info!(campaign = %id, "scheduled campaign starting");
            Some(id)
        };
        ctx.spawn(start.into_actor(self).map(|started, act, ctx| {
            if let Some(id) = started {
                act.run(id, ctx);
            }
        }));
    }

    fn spawn_campaign(
        &mut self,
        campaign: Campaign,
        outplan: Outplan,
        actions: Vec<crate::domain::Action>,
        queue: Option<crate::domain::Queue>,
        ctx: &mut Context<Self>,
    ) {
        if self.running.contains_key(&campaign.id) || campaign.status != CampaignStatus::Run {
            return;
        }
        if campaign.kind != CampaignType::Call {
            tracing::warn!(campaign = %campaign.id, "flow campaigns are not run yet");
            return;
        }
        let Some(gate) = self.deps.gate(&campaign.trunk) else {
            tracing::error!(campaign = %campaign.id, trunk = %campaign.trunk, "no such trunk; not running");
            return;
        };
        let id = campaign.id;
        let mut actor = CampaignActor::new(
            campaign,
            outplan,
            actions,
            gate,
            self.deps.clone(),
            ctx.address().recipient(),
        );
        if let Some(queue) = queue {
            actor = actor.with_queue(queue);
        }
        self.running.insert(id, actor.start());
    }
}

impl Actor for Engine {
    type Context = Context<Self>;
}

impl Handler<StatusChanged> for Engine {
    type Result = ();

    fn handle(&mut self, msg: StatusChanged, ctx: &mut Context<Self>) {
        match msg.status {
            CampaignStatus::Run => self.run(msg.id, ctx),
            CampaignStatus::Stopping | CampaignStatus::Stop => match self.running.get(&msg.id) {
                Some(addr) => addr.do_send(WindDown),
                None => {
                    // Nothing in flight here: the campaign is simply stopped.
                    let store = self.deps.store.clone();
                    ctx.spawn(async move { set_status(store.as_ref(), msg.id, CampaignStatus::Stop).await }.into_actor(self));
                }
            },
            CampaignStatus::Scheduled => self.schedule(msg.id, ctx),
            CampaignStatus::Finished => {}
        }
    }
}

impl Handler<CampaignEnded> for Engine {
    type Result = ();

    fn handle(&mut self, msg: CampaignEnded, ctx: &mut Context<Self>) {
        self.running.remove(&msg.id);
        tracing::info!(campaign = %msg.id, status = msg.status.as_str(), "campaign ended");
        if msg.status != CampaignStatus::Finished {
            return;
        }
        let store = self.deps.store.clone();
        let clock = self.deps.clock;
        let id = msg.id;
        let next = async move {
            let docs = Docs(store.as_ref());
            let done: Option<Campaign> = docs.get(None, id).await.ok().flatten();
            let next_id = done.map(|c| c.next_campaign_id).filter(|n| !n.is_nil())?;
            let mut next: Campaign = docs.get(None, next_id).await.ok().flatten()?;
            if matches!(next.status, CampaignStatus::Run | CampaignStatus::Scheduled) {
                return Some((next.id, next.status));
            }
            // One whose scheduled_at is ahead waits for it.
            next.status = match next.scheduled_at {
                Some(at) if at > clock.now() => CampaignStatus::Scheduled,
                _ => CampaignStatus::Run,
            };
            next.status_reason = match next.status {
                CampaignStatus::Scheduled => "scheduled_at".into(),
                _ => String::new(),
            };
            next.tm_update = time::now_string();
            docs.put(&next).await.ok()?;
            tracing::info!(campaign = %next.id, after = %id, status = next.status.as_str(), "starting the next campaign");
            Some((next.id, next.status))
        };
        ctx.spawn(next.into_actor(self).map(|next, act, ctx| match next {
            Some((n, CampaignStatus::Scheduled)) => act.schedule(n, ctx),
            Some((n, _)) => act.run(n, ctx),
            None => {}
        }));
    }
}

async fn set_status(store: &dyn Store, id: Uuid, status: CampaignStatus) {
    let docs = Docs(store);
    if let Ok(Some(mut c)) = docs.get::<Campaign>(None, id).await {
        if c.status != status {
            c.status = status;
            c.tm_update = time::now_string();
            if let Err(e) = docs.put(&c).await {
                tracing::error!(campaign = %id, error = %e, "cannot store campaign status");
            }
        }
    }
}

/// [`Control`] over a running engine.
pub struct EngineControl(pub Addr<Engine>);

impl Control for EngineControl {
    fn status_changed(&self, campaign_id: Uuid, status: CampaignStatus) {
        self.0.do_send(StatusChanged {
            id: campaign_id,
            status,
        });
    }
}

/// What [`recover`] found.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The campaigns to run again.
    pub campaigns: Vec<Uuid>,
    /// The campaigns waiting for their `scheduled_at`.
    pub scheduled: Vec<Uuid>,
    /// Calls that were answered and are perhaps still up at the far end: each campaigncall
    /// and the dialog to end with a BYE.
    pub dialogs: Vec<(Uuid, DialogRecord)>,
}

/// The reason recorded for an answered attempt that a restart ended.
pub const INTERRUPTED: &str = "interrupted by restart";

/// How an attempt found open after a crash is closed: an answered one (`progressing`) was
/// reached and ends `answered` (hung up by us, since the BYE comes from this side), so it is
/// never dialed again; one that never had a final response ends `unknown`.
pub fn closing(status: CallStatus) -> (Disposition, &'static str, Option<HangupBy>) {
    match status {
        CallStatus::Progressing => (Disposition::Answered, INTERRUPTED, Some(HangupBy::Local)),
        CallStatus::Dialing | CallStatus::Done => (
            super::actor::RECOVERED,
            "in flight when ringmaster stopped",
            None,
        ),
    }
}

/// After a crash: closes every attempt left open — `answered` if its answer was recorded,
/// else `unknown` (it counts as a try, since its try count went up before the INVITE) —,
/// applies the retry rules to its target, turns `stopping` campaigns into `stop`, and returns
/// the campaigns to run again and the answered calls' dialogs, to be ended.
pub async fn recover(store: &dyn Store) -> Result<Recovered, StoreError> {
    let docs = Docs(store);
    let open = store.open_attempts().await?;
    // Calls a queue had bridged to an agent when the last run stopped.
    let mut bridges: HashMap<Uuid, crate::store::QueueBridge> = store
        .take_queue_bridges()
        .await?
        .into_iter()
        .map(|b| (b.campaigncall_id, b))
        .collect();
    let mut outplans: HashMap<Uuid, Option<Outplan>> = HashMap::new();
    let mut ops = Vec::new();
    let mut dialogs = Vec::new();
    let now_ms = chrono::Utc::now().timestamp_millis();
    for open in &open {
        let call = &open.call;
        let (disposition, reason, hangup_by) = closing(call.status);
        if let Some(json) = &open.dialog {
            match serde_json::from_str::<DialogRecord>(json) {
                Ok(d) => dialogs.push((call.id, d)),
                Err(e) => {
                    tracing::warn!(campaigncall = %call.id, error = %e, "stored dialog unreadable; its call cannot be hung up")
                }
            }
        }
        let target = store
            .get_target(call.outdial_id, call.outdial_target_id)
            .await?;
        if let std::collections::hash_map::Entry::Vacant(e) = outplans.entry(call.outplan_id) {
            e.insert(docs.get::<Outplan>(None, call.outplan_id).await?);
        }
        let next = match (
            target,
            outplans.get(&call.outplan_id).and_then(|o| o.as_ref()),
        ) {
            // The same rule as for an attempt that ends while the campaign runs: a retry
            // waits for the outplan's `retry_at` local time too.
            (Some(t), Some(o)) => retry::after_attempt_local(
                o,
                &retry::retry_times(o),
                retry::callee_zone(&t.zones, &o.timezone),
                t.tries.to_array(),
                t.destinations.present(),
                disposition,
                now_ms,
            ),
            _ if disposition == Disposition::Answered => crate::store::TargetNext::Done("success"),
            _ => crate::store::TargetNext::Done("fail"),
        };
        let mut end = AttemptEnd::closed(call, disposition, reason, next);
        end.hangup_by = hangup_by;
        if let Some(bridge) = bridges.remove(&call.id) {
            // Answered and talking to an agent: recorded as the agent's call, and the agent's
            // leg is hung up with the callee's.
            end.served = Some(crate::store::Served {
                queue_id: bridge.queue_id,
                agent_id: Some(bridge.agent_id),
                wait_ms: Some(bridge.wait_ms),
            });
            match bridge
                .agent_dialog
                .as_deref()
                .map(serde_json::from_str::<DialogRecord>)
            {
                Some(Ok(d)) => dialogs.push((call.id, d)),
                Some(Err(e)) => {
                    tracing::warn!(campaigncall = %call.id, error = %e, "stored agent dialog unreadable; the agent's leg cannot be hung up")
                }
                None => {}
            }
        }
        ops.push(WriteOp::End(Box::new(end)));
    }
    if !ops.is_empty() {
        let answered = open
            .iter()
            .filter(|o| o.call.status == CallStatus::Progressing)
            .count();
        tracing::warn!(
            attempts = ops.len(),
            answered,
            unknown = ops.len() - answered,
            "closing attempts left open by a previous run: answered ones as answered, the others as unknown"
        );
        store.apply(&ops).await?;
    }
    for c in docs
        .with_status::<Campaign>(CampaignStatus::Stopping.as_str())
        .await?
    {
        set_status(store, c.id, CampaignStatus::Stop).await;
    }
    let campaigns = docs
        .with_status::<Campaign>(CampaignStatus::Run.as_str())
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let scheduled = docs
        .with_status::<Campaign>(CampaignStatus::Scheduled.as_str())
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    Ok(Recovered {
        campaigns,
        scheduled,
        dialogs,
    })
}

/// Sends a BYE for each dialog a previous process left up, all at once, and logs how each
/// ended. Runs in the background: dialing does not wait for these answers.
pub fn end_dialogs(
    endpoint: crate::sip::transport::EndpointHandle,
    dialogs: Vec<(Uuid, DialogRecord)>,
) {
    if dialogs.is_empty() {
        return;
    }
    tracing::info!(
        calls = dialogs.len(),
        "hanging up calls answered before the restart"
    );
    for (campaigncall, dialog) in dialogs {
        let endpoint = endpoint.clone();
        actix::spawn(async move {
            let call_id = dialog.call_id.clone();
            match endpoint.end_dialog(dialog).await {
                Ok(Some(code)) => {
                    tracing::info!(%campaigncall, %call_id, code, "BYE after restart answered")
                }
                Ok(None) => {
                    tracing::info!(%campaigncall, %call_id, "BYE after restart not answered")
                }
                Err(e) => {
                    tracing::warn!(%campaigncall, %call_id, error = %e, "BYE after restart not sent")
                }
            }
        });
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_answered_before_a_crash_closes_answered_and_its_target_succeeds() {
        let (d, reason, by) = closing(CallStatus::Progressing);
        assert_eq!(
            (d, reason, by),
            (Disposition::Answered, INTERRUPTED, Some(HangupBy::Local))
        );
        let outplan = Outplan {
            id: Uuid::nil(),
            customer_id: Uuid::nil(),
            name: String::new(),
            detail: String::new(),
            source: Default::default(),
            dial_timeout: 30_000,
            try_interval: 60_000,
            max_try_count_0: 5,
            max_try_count_1: 0,
            max_try_count_2: 0,
            max_try_count_3: 0,
            max_try_count_4: 0,
            retry_dispositions: Vec::new(),
            backoff: 1.0,
            dnclist_ids: Vec::new(),
            call_window: None,
            timezone: String::new(),
            sources: Vec::new(),
            source_strategy: Default::default(),
            retry_at: Vec::new(),
            tm_create: String::new(),
            tm_update: String::new(),
            tm_delete: String::new(),
        };
        let present = [true, false, false, false, false];
        let next = retry::after_attempt(&outplan, [1, 0, 0, 0, 0], present, d, 0);
        assert_eq!(next, crate::store::TargetNext::Done("success"));
        let (d, _, by) = closing(CallStatus::Dialing);
        assert_eq!((d, by), (Disposition::Unknown, None));
        assert!(matches!(
            retry::after_attempt(&outplan, [1, 0, 0, 0, 0], present, d, 0),
            crate::store::TargetNext::RetryAt(_)
        ));
    }
}
