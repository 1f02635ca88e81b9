//! `CallActor`: one dial attempt of a campaign. It places the INVITE, and once the call is
//! answered starts the call's media session and drives the flow interpreter over it: prompts
//! are spoken or played through the session, digits come from RFC 4733 events or SIP INFO,
//! and the flow's end hangs up. It reports the outcome, with what the flow did, to its
//! campaign.

use crate::call::CallOutcome;
use crate::domain::{Action, Dialable, Disposition};
use crate::flow::interpreter::MACHINE_HANGUP;
use crate::flow::{CallContext, Command, Input, Runner, Variables};
use crate::media::{self, MediaEvent, MediaHandle, SessionConfig};
use crate::queue::{CalleeMedia, Join, Leave, QueueActor, QueueNews, QueueRegistry};
use crate::sdp;
use crate::sip::endpoint::{CallEvent, CallHandle};
use crate::sip::transport::EndpointHandle;
use crate::trunk::Trunk;
use actix::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Where a call actor reports to.
pub trait AttemptSink: Actor<Context = Context<Self>> + Handler<AttemptEvent> {}
impl<A> AttemptSink for A where A: Actor<Context = Context<A>> + Handler<AttemptEvent> {}

/// What a call actor tells its campaign.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub enum AttemptEvent {
    /// The callee answered.
    Answered {
        /// The attempt's campaigncall.
        campaigncall_id: Uuid,
        /// The dialog as JSON ([`DialogRecord`](crate::sip::dialog::DialogRecord)), stored
        /// with the answer so that a restart can end it.
        dialog: Option<String>,
    },
    /// The answered call was connected to an agent (its queue's agent answered).
    Connected {
        /// The attempt's campaigncall.
        campaigncall_id: Uuid,
    },
    /// The attempt is over.
    Ended {
        /// The attempt's campaigncall.
        campaigncall_id: Uuid,
        /// Its outcome.
        outcome: CallOutcome,
        /// What the flow did (`None` when the call was never answered).
        flow_result: Option<serde_json::Value>,
    },
}

/// What every call's media needs: the RTP port range, the session settings and where prompts
/// come from.
#[derive(Debug, Clone)]
pub struct MediaDeps {
    /// RTP ports.
    pub ports: Arc<media::ports::PortPool>,
    /// Session behaviour (RTP timeout).
    pub session: SessionConfig,
    /// Cache of synthesised and downloaded prompts.
    pub cache_dir: PathBuf,
    /// Folder of prompt files for relative `play` sources.
    pub prompts_dir: PathBuf,
}

/// One attempt to place.
pub struct CallSetup {
    /// The campaigncall this attempt records into.
    pub campaigncall_id: Uuid,
    /// The SIP Call-ID recorded for the attempt (`None`: the endpoint picks one).
    pub call_id: Option<String>,
    /// What is dialed.
    pub destination: Dialable,
    /// Caller id override (`None`: the trunk's).
    pub caller_id: Option<Dialable>,
    /// From display name override (`None`: the trunk's).
    pub caller_name: Option<String>,
    /// CANCEL after this long.
    pub dial_timeout: Duration,
    /// Run after answer.
    pub actions: Arc<[Action]>,
    /// What the flow's variables are made of (target, call, campaign).
    pub context: CallContext,
    /// The trunk.
    pub trunk: Arc<Trunk>,
    /// The SIP endpoint.
    pub endpoint: EndpointHandle,
    /// Media settings.
    pub media: Arc<MediaDeps>,
    /// The RTP port taken for this attempt when it was admitted (`None`: take one now).
    pub port: Option<media::ports::PortLease>,
    /// Counts the call as setting up through its trunk until its first response: handed to
    /// the endpoint with the call, which drops it then (or when the call ends, or if it is
    /// never placed).
    pub setup_slot: Option<crate::trunk::SetupSlot>,
    /// The campaign's tenant: the queues a call may join are its.
    pub customer_id: Uuid,
    /// The node's queues (`None`: `queue_join` fails).
    pub queues: Option<Arc<QueueRegistry>>,
    /// Predictive dialing, and power over 100 %: a callee the queue has not connected to an
    /// agent this long after the answer hears the message and is hung up, `abandoned`.
    pub safe_harbour: Option<SafeHarbour>,
    /// Predictive pacing's take-back: when this fires while the call still rings, the call is
    /// cancelled (CANCEL of its INVITE) and ends `no_answer`, "cancelled by pacing" (`None`:
    /// never taken back). It carries the minimum ring: the CANCEL waits until the call has
    /// rung that long from its INVITE (the campaign counts from before the INVITE leaves).
    pub take_back: Option<tokio::sync::oneshot::Receiver<Duration>>,
}

/// Why a call taken back by predictive pacing ended unanswered.
pub const TAKEN_BACK_REASON: &str = "cancelled by pacing";
/// Why a call taken back by predictive pacing was hung up on though the callee answered (the
/// 200 OK crossed the CANCEL): the callee answered and heard nobody, an abandoned call.
pub const TAKEN_BACK_ANSWERED_REASON: &str = "answered as pacing cancelled it";

/// The safe harbour of a call that joins a queue.
#[derive(Debug, Clone)]
pub struct SafeHarbour {
    /// How long after the answer an agent must have answered.
    pub after: Duration,
    /// The message played then (`None`: it could not be prepared; the call is hung up).
    pub prompt: Option<Arc<[i16]>>,
}

/// Where an answered call is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handoff {
    /// A queue (`queue_join`).
    Queue(Uuid),
    /// One agent (`connect`).
    Agent(Uuid),
}

/// A call handed to a queue, or to one agent.
struct Queued {
    to: Handoff,
    /// The queue's actor once the call joined.
    addr: Option<Addr<QueueActor>>,
    /// When the call joined.
    joined_at: std::time::Instant,
    /// The agent who took it, and how long the call waited.
    agent: Option<(Uuid, u64)>,
    /// The queue let the call go (bridge over, or abandoned): nothing to tell it.
    released: bool,
}

/// What the flow is waiting for from the media session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Nothing,
    Prompt(u64),
    DigitsSent(u64),
    Machine(u64),
    /// The safe-harbour message, after which the call is hung up.
    Harbour(u64),
}

/// One attempt.
pub struct CallActor<S: AttemptSink> {
    setup: CallSetup,
    campaign: Addr<S>,
    handle: Option<CallHandle>,
    /// The RTP port and its socket bound for the offer, held until the call is over (a
    /// media session takes the socket; otherwise the port goes back with it).
    port: Option<media::ports::PortLease>,
    media: Option<MediaHandle>,
    runner: Option<Runner>,
    /// Bumped for every command the flow emits; late callbacks of older commands are ignored.
    generation: u64,
    awaiting: Awaiting,
    /// Set when ringmaster ends an answered call for a reason of its own.
    end_reason: Option<(Option<Disposition>, String)>,
    /// The queue the call joined, if any.
    queued: Option<Queued>,
    /// When the callee answered.
    answered_at: Option<std::time::Instant>,
    /// The call's media session while a queue holds it under a safe harbour: the message is
    /// played through it if no agent answers in time.
    harbour_media: Option<MediaHandle>,
    reported: bool,
    /// Predictive pacing cancelled the call while it rang.
    taken_back: bool,
}

impl<S: AttemptSink> CallActor<S> {
    /// An attempt ready to start.
    pub fn new(setup: CallSetup, campaign: Addr<S>) -> Self {
        CallActor {
            setup,
            campaign,
            handle: None,
            port: None,
            media: None,
            runner: None,
            generation: 0,
            awaiting: Awaiting::Nothing,
            end_reason: None,
            queued: None,
            answered_at: None,
            harbour_media: None,
            reported: false,
            taken_back: false,
        }
    }

    fn finish(&mut self, mut outcome: CallOutcome, ctx: &mut Context<Self>) {
        if !self.reported {
            self.reported = true;
            if let Some((disposition, reason)) = self.end_reason.take() {
                if let Some(d) = disposition {
                    outcome.disposition = d;
                }
                outcome.reason = reason;
            }
            if self.taken_back {
                // A BYE means the callee answered as the CANCEL went out (the SIP core then
                // ACKs and hangs up at once): an answered callee left with nobody.
                (outcome.disposition, outcome.reason) = match outcome.hangup_by {
                    Some(_) => (Disposition::Abandoned, TAKEN_BACK_ANSWERED_REASON.into()),
                    None => (Disposition::NoAnswer, TAKEN_BACK_REASON.into()),
                };
            }
            self.leave_queue(&mut outcome);
            self.campaign.do_send(AttemptEvent::Ended {
                campaigncall_id: self.setup.campaigncall_id,
                outcome,
                flow_result: self.runner.as_ref().map(|r| r.outcome().to_value()),
            });
        }
        if let Some(m) = self.media.take() {
            let _ = m.close();
        }
        ctx.stop();
    }

    /// The call is over: the queue it is in lets it go, and the outcome says what the queue
    /// did (a callee that hung up while waiting abandoned the queue).
    fn leave_queue(&mut self, outcome: &mut CallOutcome) {
        let Some(queued) = self.queued.take() else {
            return;
        };
        if let Handoff::Queue(queue) = queued.to {
            outcome.queue_id = Some(queue);
        }
        if let Some((agent, wait_ms)) = queued.agent {
            outcome.agent_id = Some(agent);
            outcome.wait_ms = Some(wait_ms);
        } else if matches!(queued.to, Handoff::Queue(_))
            && outcome.disposition == Disposition::Answered
        {
            outcome.disposition = Disposition::Abandoned;
            outcome.reason = "callee left the queue".into();
        }
        if let (false, Some(addr)) = (queued.released, queued.addr) {
            addr.do_send(Leave {
                call: self.setup.campaigncall_id,
            });
        }
    }

    /// Hands the answered call to a queue or an agent: its media session goes with it (a
    /// `connect` keeps a handle, to go on with the flow should the agent not answer).
    fn join_queue(&mut self, to: Handoff, ctx: &mut Context<Self>) {
        let media = match to {
            Handoff::Queue(_) => self.media.take(),
            Handoff::Agent(_) => self.media.clone(),
        };
        let harbour = self.setup.safe_harbour.as_ref().map(|h| h.after);
        let agent_deadline = match (to, harbour) {
            (Handoff::Queue(_), Some(after)) => {
                self.harbour_media = media.clone();
                Some(self.answered_at.unwrap_or_else(std::time::Instant::now) + after)
            }
            _ => None,
        };
        let (Some(queues), Some(media)) = (self.setup.queues.clone(), media) else {
            let reason = if self.setup.queues.is_none() {
                "no queues on this node"
            } else {
                "no media session"
            };
            return self.drive(
                Input::Failed {
                    reason: reason.into(),
                },
                ctx,
            );
        };
        let local_ip = match self.setup.endpoint.udp_addr().ip() {
            ip if ip.is_unspecified() => self.setup.trunk.local_ip,
            ip => ip,
        };
        let join = Join {
            call: self.setup.campaigncall_id,
            caller: Some(self.setup.destination.clone()),
            media,
            local_ip,
            reply: ctx.address().recipient(),
            record: self
                .runner
                .as_ref()
                .and_then(|r| r.recording())
                .map(|asked| crate::domain::RecordRequest {
                    campaign_id: self.setup.context.campaign_id,
                    max_ms: asked.max_ms,
                }),
            agent_deadline,
        };
        self.queued = Some(Queued {
            to,
            addr: None,
            joined_at: std::time::Instant::now(),
            agent: None,
            released: false,
        });
        let customer = self.setup.customer_id;
        let queue_id = match to {
            Handoff::Queue(queue) => queue,
            Handoff::Agent(agent) => {
                let addr = queues.connect(customer, agent, join);
                if let Some(q) = self.queued.as_mut() {
                    q.addr = Some(addr);
                }
                return;
            }
        };
        let generation = self.generation;
        let joining = async move { queues.join(customer, queue_id, join).await };
        ctx.spawn(
            joining
                .into_actor(self)
                .map(move |res, act, ctx| match res {
                    Ok(addr) => match act.queued.as_mut() {
                        Some(q) => q.addr = Some(addr),
                        // The call ended while it joined.
                        None => addr.do_send(Leave {
                            call: act.setup.campaigncall_id,
                        }),
                    },
                    Err((e, join)) => {
                        act.queued = None;
                        act.media = Some(join.media);
                        if act.generation == generation {
                            act.drive(
                                Input::Failed {
                                    reason: e.to_string(),
                                },
                                ctx,
                            );
                        }
                    }
                }),
        );
    }

    fn hangup(&mut self) {
        self.generation += 1;
        // Our side is done with the media: no more packets while the BYE is answered (under
        // load that can take a while, and thousands of calls sending silence meanwhile would
        // only add to it).
        if let Some(m) = self.media.take() {
            let _ = m.close();
        }
        if let Some(handle) = self.handle {
            self.setup.endpoint.hangup_now(handle);
        }
    }

    /// Predictive pacing takes the call back: cancelled if it still rings (an answered call
    /// goes on as usual).
    fn take_back(&mut self) {
        if self.answered_at.is_some() || self.reported || self.handle.is_none() {
            return;
        }
        self.taken_back = true;
        self.hangup();
    }

    /// Ends an answered call for a reason of ours (`disposition` `None` keeps `answered`).
    fn end_call(&mut self, disposition: Option<Disposition>, reason: String) {
        if self.end_reason.is_none() {
            self.end_reason = Some((disposition, reason));
        }
        self.hangup();
    }

    fn answered(
        &mut self,
        sdp: &[u8],
        dialog: Option<&crate::sip::dialog::DialogRecord>,
        ctx: &mut Context<Self>,
    ) {
        self.answered_at = Some(std::time::Instant::now());
        // Serialised here, on the call's thread, once: the campaign and the store pass it on.
        let dialog = dialog.and_then(|d| serde_json::to_string(d).ok());
        self.campaign.do_send(AttemptEvent::Answered {
            campaigncall_id: self.setup.campaigncall_id,
            dialog,
        });
        let remote = match sdp::parse_answer(sdp) {
            Ok(r) => r,
            Err(e) => return self.end_call(Some(Disposition::Failed), format!("488/sdp: {e}")),
        };
        let actions = self.setup.actions.clone();
        // A flow without actions reads no variable.
        let variables = if actions.is_empty() {
            Variables::new()
        } else {
            Variables::for_call(&self.setup.context)
        };
        let mut runner = Runner::new(actions, variables);
        let first = runner.next(Input::Started);
        self.runner = Some(runner);
        // A flow that ends at once (no actions, or a hangup first) needs no media session.
        if !matches!(first, Command::Done | Command::Hangup { .. }) {
            if let Err(e) = self.start_media(remote, ctx) {
                return self.end_call(Some(Disposition::Failed), format!("rtp: {e}"));
            }
        }
        self.execute(first, ctx);
    }

    /// Starts the call's media session on the RTP socket bound for the offer.
    fn start_media(
        &mut self,
        remote: sdp::RemoteMedia,
        ctx: &mut Context<Self>,
    ) -> std::io::Result<()> {
        let Some(mut lease) = self.port.take() else {
            return Ok(());
        };
        let Some(socket) = lease.take_socket() else {
            return Ok(());
        };
        let socket = tokio::net::UdpSocket::from_std(socket)?;
        let (handle, events) = media::session::spawn_holding(
            socket,
            Some(lease),
            remote,
            self.setup.media.session.clone(),
        );
        self.media = Some(handle);
        ctx.add_stream(tokio_stream::wrappers::ReceiverStream::new(events));
        Ok(())
    }

    /// The callee's new offer, already accepted by the SIP endpoint (hold, resume, a new
    /// media address): the media session follows it. An offer that does not parse here was
    /// refused with 488 by the endpoint already; should one get through, the call goes on
    /// with the media it had.
    fn remote_sdp(&mut self, sdp: &[u8]) {
        let remote = match sdp::parse_answer(sdp) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(call = %self.setup.campaigncall_id, error = %e, "new remote SDP ignored");
                return;
            }
        };
        tracing::debug!(
            call = %self.setup.campaigncall_id,
            addr = %remote.addr,
            direction = ?remote.direction,
            "remote media updated"
        );
        if let Some(m) = &self.media {
            let _ = m.update_remote(remote);
        } else if let Some(addr) = self.queued.as_ref().and_then(|q| q.addr.as_ref()) {
            // The queue holds the call's media now.
            addr.do_send(CalleeMedia {
                call: self.setup.campaigncall_id,
                remote,
            });
        }
    }

    /// Resumes the flow with `input` and carries out what it asks next.
    fn drive(&mut self, input: Input, ctx: &mut Context<Self>) {
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        let command = runner.next(input);
        self.execute(command, ctx);
    }

    fn execute(&mut self, command: Command, ctx: &mut Context<Self>) {
        if command == Command::Wait {
            return;
        }
        if let (Awaiting::Prompt(_), Some(m)) = (self.awaiting, &self.media) {
            let _ = m.stop_playback();
        }
        self.generation += 1;
        self.awaiting = Awaiting::Nothing;
        let generation = self.generation;
        match command {
            Command::Talk {
                text,
                language,
                gender,
                interruptible,
            } => {
                let cache = self.setup.media.cache_dir.clone();
                let speak = async move { media::tts(&text, &language, &gender, &cache).await };
                ctx.spawn(speak.into_actor(self).map(move |res, act, ctx| {
                    act.prompt_ready(
                        generation,
                        res.map_err(|e| e.to_string()),
                        interruptible,
                        ctx,
                    )
                }));
            }
            Command::Play {
                urls,
                interruptible,
            } => {
                let (dir, cache) = (
                    self.setup.media.prompts_dir.clone(),
                    self.setup.media.cache_dir.clone(),
                );
                let load = async move {
                    let mut all: Vec<i16> = Vec::new();
                    for url in &urls {
                        all.extend_from_slice(
                            &media::load(url, &dir, &cache)
                                .await
                                .map_err(|e| format!("{url}: {e}"))?,
                        );
                    }
                    Ok::<Arc<[i16]>, String>(all.into())
                };
                ctx.spawn(load.into_actor(self).map(move |res, act, ctx| {
                    act.prompt_ready(generation, res, interruptible, ctx)
                }));
            }
            Command::CollectDigits { timeout_ms, .. } => {
                self.later(generation, timeout_ms, Input::Completed, ctx);
            }
            Command::Sleep { ms } => self.later(generation, ms, Input::Completed, ctx),
            Command::SendDigits {
                digits,
                duration_ms,
                interval_ms,
            } => match &self.media {
                Some(m) if m.send_digits(&digits, duration_ms, interval_ms).is_ok() => {
                    self.awaiting = Awaiting::DigitsSent(generation);
                }
                _ => self.drive(
                    Input::Failed {
                        reason: "no media session".into(),
                    },
                    ctx,
                ),
            },
            Command::Webhook {
                uri,
                method,
                content_type,
                body,
                wait,
            } => {
                let send = async move {
                    media::http_get::request(
                        &method,
                        &uri,
                        &content_type,
                        body.as_bytes(),
                        64 * 1024,
                        Duration::from_secs(10),
                    )
                    .await
                    .map(|(status, _)| status)
                    .map_err(|e| e.to_string())
                };
                if wait {
                    ctx.spawn(send.into_actor(self).map(move |res, act, ctx| {
                        if act.generation == generation {
                            act.drive(Input::WebhookResult { status: res.ok() }, ctx);
                        }
                    }));
                } else {
                    let id = self.setup.campaigncall_id;
                    actix::spawn(async move {
                        if let Err(e) = send.await {
                            tracing::warn!(call = %id, error = %e, "webhook failed");
                        }
                    });
                    self.drive(Input::Completed, ctx);
                }
            }
            Command::DetectMachine { settings } => match &self.media {
                Some(m) if m.detect_machine(generation, settings).is_ok() => {
                    self.awaiting = Awaiting::Machine(generation);
                }
                _ => self.drive(
                    Input::Failed {
                        reason: "no media session".into(),
                    },
                    ctx,
                ),
            },
            Command::QueueJoin { queue_id } => self.join_queue(Handoff::Queue(queue_id), ctx),
            Command::Connect { agent_id } => self.join_queue(Handoff::Agent(agent_id), ctx),
            Command::Hangup { .. } | Command::Done => self.hangup(),
            Command::Wait => {}
        }
    }

    fn later(&mut self, generation: u64, ms: u64, input: Input, ctx: &mut Context<Self>) {
        ctx.run_later(Duration::from_millis(ms), move |act, ctx| {
            if act.generation == generation {
                act.drive(input, ctx);
            }
        });
    }

    fn prompt_ready(
        &mut self,
        generation: u64,
        samples: Result<Arc<[i16]>, String>,
        interruptible: bool,
        ctx: &mut Context<Self>,
    ) {
        if self.generation != generation {
            return;
        }
        match (samples, &self.media) {
            (Ok(samples), Some(m))
                if m.play(generation, samples.clone(), interruptible).is_ok() =>
            {
                self.awaiting = Awaiting::Prompt(generation);
            }
            (Ok(_), _) => self.drive(
                Input::Failed {
                    reason: "no media session".into(),
                },
                ctx,
            ),
            (Err(reason), _) => self.drive(Input::Failed { reason }, ctx),
        }
    }

    /// The `amd` under way decided: the flow goes on with its result, and a flow that hangs
    /// up on a machine ends the attempt `machine`.
    fn machine_detected(&mut self, detection: media::amd::Detection, ctx: &mut Context<Self>) {
        let cause = detection.cause.to_string();
        tracing::debug!(call = %self.setup.campaigncall_id, verdict = %detection.verdict, %cause, decided_at_ms = detection.decided_at, "answering-machine detection");
        let Some(runner) = self.runner.as_mut() else {
            return;
        };
        let command = runner.next(Input::MachineDetected {
            verdict: detection.verdict,
            cause: cause.clone(),
        });
        // `machine_handle: hangup` hangs up with this reason (and so does a `hangup` action
        // run at once after a machine that names it).
        if detection.verdict == media::amd::Verdict::Machine
            && matches!(&command, Command::Hangup { reason } if reason == MACHINE_HANGUP)
        {
            // The hang-up itself is the command's.
            self.end_reason.get_or_insert((
                Some(Disposition::Machine),
                format!("answering machine ({cause})"),
            ));
        }
        self.execute(command, ctx);
    }

    /// No agent answered within the safe harbour: the callee hears the message and the call
    /// ends `abandoned`.
    fn safe_harbour(&mut self, reason: String) {
        self.end_reason = Some((Some(Disposition::Abandoned), reason));
        self.generation += 1;
        let generation = self.generation;
        let prompt = self
            .setup
            .safe_harbour
            .as_ref()
            .and_then(|h| h.prompt.clone());
        match (self.harbour_media.take(), prompt) {
            (Some(m), Some(samples)) if m.play(generation, samples.clone(), false).is_ok() => {
                self.media = Some(m);
                self.awaiting = Awaiting::Harbour(generation);
            }
            (media, _) => {
                self.media = media;
                self.hangup();
            }
        }
    }

    fn digit(&mut self, digit: char, ctx: &mut Context<Self>) {
        if matches!(self.awaiting, Awaiting::Harbour(_)) {
            return;
        }
        if self.runner.as_ref().is_some_and(|r| !r.is_over()) {
            self.drive(Input::DigitPressed(digit), ctx);
        }
    }
}

impl<S: AttemptSink> Actor for CallActor<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let ip = match self.setup.endpoint.udp_addr().ip() {
            ip if ip.is_unspecified() => self.setup.trunk.local_ip,
            ip => ip,
        };
        // Our RTP port, held from the offer on; the media session takes it at answer.
        let ports = &self.setup.media.ports;
        let lease = match self.setup.port.take() {
            Some(lease) => ports.bind_leased(lease, ip),
            None => ports.bind(ip),
        };
        let lease = match lease {
            Ok(lease) => lease,
            Err(e) => return self.finish(CallOutcome::failed(format!("transport: {e}")), ctx),
        };
        let offer = sdp::offer(ip, lease.port(), rand::random::<u32>() as u64);
        let mut spec = self.setup.trunk.call_spec(
            &self.setup.destination,
            self.setup.dial_timeout,
            Some(offer.into_bytes()),
        );
        if let Some(caller) = self.setup.caller_id.take() {
            let name = self.setup.caller_name.take();
            self.setup
                .trunk
                .set_caller(&mut spec, &caller, name.as_deref());
        }
        spec.call_id = self.setup.call_id.take();
        spec.until_first_response = self
            .setup
            .setup_slot
            .take()
            .map(|s| Arc::new(s) as Arc<dyn std::any::Any + Send + Sync>);
        // Nothing comes back from the endpoint but the call's events.
        let placed = self.setup.endpoint.dial(spec);
        let invited = std::time::Instant::now();
        self.handle = Some(placed.handle);
        self.port = Some(lease);
        ctx.add_stream(tokio_stream::wrappers::ReceiverStream::new(placed.events));
        if let Some(take_back) = self.setup.take_back.take() {
            ctx.spawn(take_back.into_actor(self).map(move |asked, act, ctx| {
                let Ok(min_ring) = asked else {
                    return;
                };
                match min_ring.checked_sub(invited.elapsed()) {
                    Some(left) if !left.is_zero() => {
                        ctx.run_later(left, |act, _| act.take_back());
                    }
                    _ => act.take_back(),
                }
            }));
        }
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if !self.reported {
            self.reported = true;
            self.campaign.do_send(AttemptEvent::Ended {
                campaigncall_id: self.setup.campaigncall_id,
                outcome: CallOutcome::failed("call actor stopped"),
                flow_result: self.runner.as_ref().map(|r| r.outcome().to_value()),
            });
        }
        if let Some(m) = self.media.take() {
            let _ = m.close();
        }
    }
}

impl<S: AttemptSink> StreamHandler<CallEvent> for CallActor<S> {
    fn handle(&mut self, event: CallEvent, ctx: &mut Context<Self>) {
        match event {
            CallEvent::Progress { .. } => {}
            CallEvent::Answered { sdp, dialog } => self.answered(&sdp, dialog.as_deref(), ctx),
            CallEvent::Digit { digit } => self.digit(digit, ctx),
            CallEvent::RemoteSdp { sdp } => self.remote_sdp(&sdp),
            CallEvent::Ended(end) => self.finish(CallOutcome::from_leg(end), ctx),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        self.finish(CallOutcome::failed("SIP endpoint stopped"), ctx);
    }
}

impl<S: AttemptSink> Handler<QueueNews> for CallActor<S> {
    type Result = ();

    fn handle(&mut self, news: QueueNews, ctx: &mut Context<Self>) {
        let Some(queued) = self.queued.as_mut() else {
            return;
        };
        match news {
            QueueNews::Connected { agent_id, wait_ms } => {
                tracing::debug!(call = %self.setup.campaigncall_id, agent = %agent_id, queue_wait_ms = wait_ms, "connected to an agent");
                // Recorded from the callee's answer, whatever the flow did before it joined.
                let since_answer = self
                    .answered_at
                    .map_or(wait_ms, |at| at.elapsed().as_millis() as u64);
                queued.agent = Some((agent_id, since_answer));
                // The session went to the relay.
                self.harbour_media = None;
                self.campaign.do_send(AttemptEvent::Connected {
                    campaigncall_id: self.setup.campaigncall_id,
                });
            }
            QueueNews::Abandoned { reason } => {
                queued.released = true;
                tracing::debug!(call = %self.setup.campaigncall_id, waited_ms = queued.joined_at.elapsed().as_millis() as u64, "queue abandoned the call");
                self.end_call(Some(Disposition::Abandoned), reason);
            }
            QueueNews::Unreached { reason } => {
                let to = queued.to;
                self.queued = None;
                if matches!(to, Handoff::Queue(_)) {
                    // A queue lets a call go unconnected only at its safe harbour.
                    return self.safe_harbour(reason);
                }
                // The flow goes on with the media session it kept.
                self.drive(Input::Failed { reason }, ctx);
            }
            QueueNews::BridgeEnded { reason } => {
                queued.released = true;
                self.end_reason.get_or_insert((None, reason));
                self.drive(Input::Completed, ctx);
            }
        }
    }
}

impl<S: AttemptSink> StreamHandler<MediaEvent> for CallActor<S> {
    fn handle(&mut self, event: MediaEvent, ctx: &mut Context<Self>) {
        match event {
            MediaEvent::Digit(d) => self.digit(d, ctx),
            MediaEvent::PlayFinished { id, .. } if self.awaiting == Awaiting::Harbour(id) => {
                self.awaiting = Awaiting::Nothing;
                self.hangup();
            }
            MediaEvent::PlayFinished { id, interrupted } => {
                if self.awaiting == Awaiting::Prompt(id) && id == self.generation {
                    self.awaiting = Awaiting::Nothing;
                    if !interrupted {
                        self.drive(Input::Completed, ctx);
                    }
                }
            }
            MediaEvent::DigitsSent => {
                if self.awaiting == Awaiting::DigitsSent(self.generation) {
                    self.awaiting = Awaiting::Nothing;
                    self.drive(Input::Completed, ctx);
                }
            }
            MediaEvent::MachineDetected { id, detection } => {
                if self.awaiting == Awaiting::Machine(id) && id == self.generation {
                    self.awaiting = Awaiting::Nothing;
                    self.machine_detected(detection, ctx);
                }
            }
            MediaEvent::RtpTimeout => self.end_call(None, "rtp_timeout".into()),
        }
    }

    /// The session ending (at hang-up) does not end the call.
    fn finished(&mut self, _ctx: &mut Context<Self>) {}
}
