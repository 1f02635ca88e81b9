//! `CallActor`: one dial attempt of a campaign. It places the INVITE, runs the campaign's
//! actions once the call is answered, hangs up, and reports the outcome to its campaign.

use crate::call::trunk::Trunk;
use crate::domain::{Action, Disposition};
use crate::media::sdp;
use crate::sip::endpoint::{CallEvent, CallHandle, CallOutcome};
use crate::sip::transport::{EndpointHandle, PlacedCall};
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Most actions one call may run (a guard against flows that loop forever).
const MAX_STEPS: usize = 1000;

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
    },
    /// The attempt is over.
    Ended {
        /// The attempt's campaigncall.
        campaigncall_id: Uuid,
        /// Its outcome.
        outcome: CallOutcome,
    },
}

/// Everything a call actor needs.
pub struct CallActor<S: AttemptSink> {
    /// The campaigncall this attempt records into.
    pub campaigncall_id: Uuid,
    /// The number or user part dialed.
    pub destination: String,
    /// Caller id override (empty: the trunk's).
    pub caller_id: String,
    /// CANCEL after this long.
    pub dial_timeout: Duration,
    /// Run after answer.
    pub actions: Arc<Vec<Action>>,
    /// The trunk.
    pub trunk: Trunk,
    /// The SIP endpoint.
    pub endpoint: EndpointHandle,
    /// Who hears about the outcome.
    pub campaign: Addr<S>,
    handle: Option<CallHandle>,
    rtp: Option<tokio::net::UdpSocket>,
    reported: bool,
    steps: usize,
}

impl<S: AttemptSink> CallActor<S> {
    /// An attempt ready to start.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        campaigncall_id: Uuid,
        destination: String,
        caller_id: String,
        dial_timeout: Duration,
        actions: Arc<Vec<Action>>,
        trunk: Trunk,
        endpoint: EndpointHandle,
        campaign: Addr<S>,
    ) -> Self {
        CallActor {
            campaigncall_id,
            destination,
            caller_id,
            dial_timeout,
            actions,
            trunk,
            endpoint,
            campaign,
            handle: None,
            rtp: None,
            reported: false,
            steps: 0,
        }
    }

    fn finish(&mut self, outcome: CallOutcome, ctx: &mut Context<Self>) {
        if !self.reported {
            self.reported = true;
            self.campaign.do_send(AttemptEvent::Ended {
                campaigncall_id: self.campaigncall_id,
                outcome,
            });
        }
        ctx.stop();
    }

    fn hangup(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.handle {
            let endpoint = self.endpoint.clone();
            ctx.spawn(
                async move {
                    let _ = endpoint.hangup(handle).await;
                }
                .into_actor(self),
            );
        }
    }

    /// Runs action `index` of the flow; the flow ends (and we hang up) past its last action.
    fn run_action(&mut self, index: usize, ctx: &mut Context<Self>) {
        self.steps += 1;
        let Some(action) = self.actions.get(index).cloned() else {
            return self.hangup(ctx);
        };
        if self.steps > MAX_STEPS {
            tracing::warn!(call = %self.campaigncall_id, "flow ran {MAX_STEPS} actions; hanging up");
            return self.hangup(ctx);
        }
        let next = self.next_index(&action, index);
        let hold = match action.kind.as_str() {
            "hangup" => return self.hangup(ctx),
            "sleep" => option_ms(&action, "duration"),
            // Until the media layer speaks, a talk holds the call for about as long as
            // speaking its text would take (150 words a minute).
            "talk" => {
                let words = action
                    .option
                    .get("text")
                    .and_then(|t| t.as_str())
                    .map_or(0, |t| t.split_whitespace().count());
                Duration::from_millis(words as u64 * 400)
            }
            _ => Duration::ZERO,
        };
        ctx.run_later(hold, move |act, ctx| act.run_action(next, ctx));
    }

    fn next_index(&self, action: &Action, index: usize) -> usize {
        if action.next_id.is_nil() {
            return index + 1;
        }
        self.actions
            .iter()
            .position(|a| a.id == action.next_id)
            .unwrap_or(index + 1)
    }
}

fn option_ms(action: &Action, key: &str) -> Duration {
    Duration::from_millis(action.option.get(key).and_then(|v| v.as_u64()).unwrap_or(0))
}

fn failed(reason: &str) -> CallOutcome {
    CallOutcome {
        disposition: Disposition::Failed,
        sip_code: None,
        reason: reason.to_string(),
        hangup_by: None,
        call_id: String::new(),
        setup_ms: 0,
        talk_ms: 0,
    }
}

impl<S: AttemptSink> Actor for CallActor<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let endpoint = self.endpoint.clone();
        let mut trunk = self.trunk.clone();
        if !self.caller_id.is_empty() {
            trunk.config.caller_id = self.caller_id.clone();
        }
        let destination = self.destination.clone();
        let dial_timeout = self.dial_timeout;
        let place = async move {
            // Our RTP port, held for the call's life (media sessions take it over).
            let rtp = tokio::net::UdpSocket::bind((endpoint.udp_addr().ip(), 0)).await?;
            let addr = rtp.local_addr()?;
            let ip = if addr.ip().is_unspecified() {
                crate::sip::transport::local_ip_towards(trunk.peer)?
            } else {
                addr.ip()
            };
            let offer = sdp::offer(ip, addr.port(), rand::random::<u32>() as u64);
            let spec = trunk.call_spec(&destination, dial_timeout, Some(offer.into_bytes()));
            let placed = endpoint.place_call(spec).await?;
            Ok::<(PlacedCall, tokio::net::UdpSocket), crate::sip::transport::TransportError>((
                placed, rtp,
            ))
        };
        ctx.wait(place.into_actor(self).map(|res, act, ctx| match res {
            Ok((placed, rtp)) => {
                act.handle = Some(placed.handle);
                act.rtp = Some(rtp);
                ctx.add_stream(tokio_stream::wrappers::ReceiverStream::new(placed.events));
            }
            Err(e) => act.finish(failed(&format!("transport: {e}")), ctx),
        }));
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if !self.reported {
            self.reported = true;
            self.campaign.do_send(AttemptEvent::Ended {
                campaigncall_id: self.campaigncall_id,
                outcome: failed("call actor stopped"),
            });
        }
        self.rtp = None;
    }
}

impl<S: AttemptSink> StreamHandler<CallEvent> for CallActor<S> {
    fn handle(&mut self, event: CallEvent, ctx: &mut Context<Self>) {
        match event {
            CallEvent::Progress { .. } | CallEvent::Digit { .. } => {}
            CallEvent::Answered { .. } => {
                self.campaign.do_send(AttemptEvent::Answered {
                    campaigncall_id: self.campaigncall_id,
                });
                self.run_action(0, ctx);
            }
            CallEvent::Ended(outcome) => self.finish(outcome, ctx),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        self.finish(failed("SIP endpoint stopped"), ctx);
    }
}
